/* Unit tests: host:port splitting and connection errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netdb.h>
#include <sched.h>
#include <sys/mount.h>
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

/* Give this test process (Criterion runs each test in its own) its own
 * /etc/hosts and/or /etc/resolv.conf (NULL: leave that file alone): a
 * private mount namespace keeps them from the rest of the machine, and a
 * test never asks the machine's real resolver, which is not on loopback.
 * 0 ok, -1 if not possible here (not root, no namespaces). */
static int
bind_text(const char *text, const char *target)
{
	char path[] = "/tmp/mf-etc-XXXXXX";
	int fd = mkstemp(path), r;

	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	if (r == 0)
		r = mount(path, target, NULL, MS_BIND, NULL);
	unlink(path);
	return r;
}

static int
private_etc(const char *hosts, const char *resolv)
{
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	if (hosts != NULL && bind_text(hosts, "/etc/hosts") != 0)
		return -1;
	if (resolv != NULL && bind_text(resolv, "/etc/resolv.conf") != 0)
		return -1;
	return 0;
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

	/* The resolver asked is 127.0.0.1, where no DNS server listens: the
	 * lookup fails at once and never leaves the machine. */
	if (private_etc("127.0.0.1 localhost\n",
	    "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n") != 0)
		cr_skip_test("needs a private mount namespace (root)");
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

/* A listener on ::1; -1 when this machine has no IPv6 loopback. */
static int
listen6(int *port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	a.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	listen(fd, 1);
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin6_port);
	return fd;
}

Test(sock, ipv6_literal_and_family_choice)
{
	char port[8];
	struct mf_sock_opts v4only = { .family = 4 };
	struct mf_sock_opts v6only = { .family = 6 };
	struct mf_err e;
	struct mf_transport *t;
	int p, lfd = listen6(&p);

	if (lfd < 0)
		cr_skip_test("no IPv6 loopback on this machine");
	snprintf(port, sizeof(port), "%d", p);
	t = mf_sock_connect("::1", port, NULL, &e);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_str_eq(mf_sock_peer_addr(t), "::1");
	mf_transport_free(t);
	t = mf_sock_connect("::1", port, &v6only, &e);
	cr_assert_not_null(t, "%s", e.msg);
	mf_transport_free(t);
	/* An IPv6 literal with IPv4 only asked for cannot resolve. */
	cr_assert_null(mf_sock_connect("::1", port, &v4only, &e));
	cr_assert_eq(e.kind, MF_E_NOHOST);
	close(lfd);
}

/* A name with two addresses: ::1 refuses (nothing listens there), so the
 * next address, 127.0.0.1, must be tried and used. */
Test(sock, every_address_of_a_name_is_tried)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), p6;
	char port[8];
	struct mf_err e;
	struct mf_transport *t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	listen(lfd, 1);
	getsockname(lfd, (struct sockaddr *)&a, &l);
	p6 = listen6(&(int){ 0 });
	if (p6 < 0 || private_etc("::1 mfdual.test\n127.0.0.1 mfdual.test\n",
	    NULL) != 0)
		cr_skip_test("needs IPv6 loopback and a private mount namespace");
	close(p6);
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	{
		/* The fallback is only tested if ::1 really comes first. */
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		cr_assert_eq(getaddrinfo("mfdual.test", port, &hints, &res), 0);
		cr_assert_eq(res->ai_family, AF_INET6);
		cr_assert_not_null(res->ai_next);
		freeaddrinfo(res);
	}
	/* ::1 comes first (RFC 6724) and refuses this port. */
	t = mf_sock_connect("::1", port, NULL, &e);
	if (t != NULL)
		cr_skip_test("something listens on [::1]:%s", port);
	cr_assert_eq(e.kind, MF_E_CONNECT);
	t = mf_sock_connect("mfdual.test", port, NULL, &e);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_str_eq(mf_sock_peer_addr(t), "127.0.0.1");
	mf_transport_free(t);
	close(lfd);
}
