/* Unit tests: host:port splitting and connection errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

Test(sock, split_hostport_table)
{
	static const struct { const char *in, *host, *port; int ok; } t[] = {
		{ "mail.example.test:587", "mail.example.test", "587", 0 },
		{ "mail.example.test", "mail.example.test", "25", 0 },
		{ "[::1]:465", "::1", "465", 0 },
		{ "::1", "::1", "25", 0 },
		{ "127.0.0.1:99999", NULL, NULL, -1 },
		{ "host:", NULL, NULL, -1 },
		{ ":25", NULL, NULL, -1 },
		{ "[::1", NULL, NULL, -1 },
		{ "[::1]x", NULL, NULL, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char host[64] = "", port[8] = "25";
		struct mf_err e;
		int r = mf_sock_split_hostport(t[i].in, host, sizeof(host), port,
		    sizeof(port), &e);
		cr_assert_eq(r, t[i].ok, "case %s", t[i].in);
		if (r == 0) {
			cr_assert_str_eq(host, t[i].host);
			cr_assert_str_eq(port, t[i].port);
		} else {
			cr_assert_eq(e.kind, MF_E_USAGE);
		}
	}
}

/* A port nobody listens on: bind one, note it, close it. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

Test(sock, refused_is_told_apart)
{
	char port[8];
	struct mf_err e;

	snprintf(port, sizeof(port), "%d", closed_port());
	cr_assert_null(mf_sock_connect("127.0.0.1", port, NULL, &e));
	cr_assert_eq(e.kind, MF_E_CONNECT);
	cr_assert_eq(e.sys_errno, ECONNREFUSED);
}

Test(sock, unresolvable_name)
{
	struct mf_err e;

	cr_assert_null(mf_sock_connect("no-such-host.invalid", "25", NULL, &e));
	cr_assert_eq(e.kind, MF_E_NOHOST);
}

Test(sock, connect_and_exchange)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd;
	char port[8], buf[8] = "";
	struct mf_err e;
	struct mf_transport *t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	listen(lfd, 1);
	getsockname(lfd, (struct sockaddr *)&a, &l);
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	t = mf_sock_connect("127.0.0.1", port, NULL, &e);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_str_eq(mf_sock_peer_addr(t), "127.0.0.1");
	cfd = accept(lfd, NULL, NULL);
	cr_assert_eq(write(cfd, "hi", 2), 2);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), 2);
	cr_assert_str_eq(buf, "hi");
	mf_transport_set_timeout(t, 100);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), -1);
	cr_assert_eq(e.kind, MF_E_TIMEOUT);
	close(cfd);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), 0, "EOF");
	mf_transport_free(t);
	close(lfd);
}
