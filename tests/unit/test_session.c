/* test_session.c - the session layer: line I/O over an attached
 * transport, a dialled clear-text session with its transcript note, and
 * the facts of a failed implicit-TLS handshake kept for the caller (what
 * the SMTP diagnosis used to learn by shaking hands a second time).  Every
 * peer is a child process on 127.0.0.1 that stops by itself. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memtransport.h"
#include "session.h"

/* A one-connection server on 127.0.0.1 that sends `say`, then reads
 * until the client closes (at most 5 s).  Returns the child's pid; the
 * port goes to port. */
static pid_t
peer(const char *say, char *port, size_t portlen)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int ls, c;
	pid_t pid;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_neq(ls, -1);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	snprintf(port, portlen, "%u", (unsigned)ntohs(a.sin_port));
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char buf[4096];

		alarm(5);
		c = accept(ls, NULL, NULL);
		if (c == -1)
			_exit(1);
		if (write(c, say, strlen(say)) == -1)
			_exit(1);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(ls);
	return pid;
}

static void
reap(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "peer failed");
}

Test(session, attached_transport_gives_line_io)
{
	static const char *const chunks[] = { "220 fake ready\r\n" };
	struct mf_session_params p;
	struct mf_session *s;
	struct memt m;
	struct mf_err e;
	const char *line;
	size_t len;

	memset(&p, 0, sizeof(p));
	p.conn.host = "mx.test";
	p.max_line = 8;
	s = mf_session_attach(memt_transport(&m, chunks, 1), &p, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_null(mf_session_tls(s), "no handshake was tried");
	cr_assert_str_eq(mf_session_peer(s), "");
	cr_assert_eq(mf_session_check_port(s, &e), 0, "not dialled: no probe");
	/* the session's line limit holds */
	cr_assert_eq(mf_lineio_read_line(mf_session_lineio(s), &line, &len, &e),
	    -1);
	cr_assert_eq(e.kind, MF_E_LIMIT, "%s", e.msg);
	mf_session_free(s);
	cr_assert(m.closed);
	mf_buf_free(&m.written);
}

Test(session, dialled_clear_text)
{
	struct mf_session_params p;
	struct mf_session *s;
	struct mf_tls_info info;
	struct mf_err e;
	const char *line;
	size_t len;
	char port[16];
	pid_t pid = peer("+OK ready\r\n", port, sizeof(port));

	memset(&p, 0, sizeof(p));
	p.conn.host = "127.0.0.1";
	p.conn.port = port;
	p.conn.tls = MF_TLS_NONE;
	p.conn.timeout_ms = 5000;
	s = mf_session_open(&p, &info, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_str_eq(mf_session_peer(s), "127.0.0.1");
	cr_assert_null(mf_session_tls(s));
	cr_assert_eq(mf_lineio_read_line(mf_session_lineio(s), &line, &len, &e),
	    0, "%s", e.msg);
	cr_assert_str_eq(line, "+OK ready");
	mf_session_free(s);
	reap(pid);
}

/* Implicit TLS against a clear-text server: the open fails, and the
 * handshake's facts (the clear text the peer answered with) reach the
 * caller from that one handshake. */
Test(session, failed_implicit_handshake_keeps_its_facts)
{
	struct mf_session_params p;
	struct mf_tls_params tp;
	struct mf_tls_info info;
	struct mf_err e;
	char port[16];
	pid_t pid = peer("220 mail.test ESMTP ready\r\n", port, sizeof(port));

	memset(&tp, 0, sizeof(tp));
	tp.insecure = 1;
	memset(&p, 0, sizeof(p));
	p.conn.host = "127.0.0.1";
	p.conn.port = port;
	p.conn.tls = MF_TLS_IMPLICIT;
	p.conn.tlsp = tp;
	p.conn.timeout_ms = 5000;
	p.conn.sock.connect_timeout_ms = 5000;
	p.conn.sock.io_timeout_ms = 5000;
	cr_assert_null(mf_session_open(&p, &info, &e));
	cr_assert(e.kind == MF_E_TLS || e.kind == MF_E_PROTO, "kind %d: %s",
	    e.kind, e.msg);
	cr_assert(strstr(info.plaintext_seen, "220 mail.test") != NULL,
	    "plaintext_seen '%s'", info.plaintext_seen);
	cr_assert_eq(info.handshake_done, 0);
	reap(pid);
}
