/* test_cli.c - shared options and their merge over the config file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"

static char dir[64], cfgpath[128];

static void
setup(void)
{
	FILE *f;

	mf_strlcpy(dir, "/tmp/mfcliXXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", dir);
	f = fopen(cfgpath, "w");
	cr_assert_not_null(f);
	fputs("defaults\n"
	    "tls starttls\n"
	    "timeout 20\n"
	    "tls_trust_file /etc/ca.pem\n"
	    "account work\n"
	    "host smtp.work.test\n"
	    "port 587\n"
	    "user worker\n"
	    "auth PLAIN\n"
	    "from w@work.test\n"
	    "passwordeval echo workpw\n"
	    "tls_min_version 1.2\n"
	    "account home : work\n"
	    "host mail.home.test\n"
	    "port 465\n"
	    "tls implicit\n"
	    "maildir /m\n"
	    "account default : home\n", f);
	fclose(f);
	chmod(cfgpath, 0600);
	unsetenv("MAILFLOW_CONFIG");
	unsetenv("MAILFLOW_PASSWORD");
}

static void
teardown(void)
{
	unlink(cfgpath);
	rmdir(dir);
}

static void
opt(struct mf_cli *c, int o, const char *arg)
{
	struct mf_err e;

	cr_assert_eq(mf_cli_option(c, o, arg, &e), 1, "option %d '%s': %s", o,
	    arg ? arg : "", e.msg);
}

/* No configuration file anywhere, only -s mx.test. */
static void
resolve_server_only(struct mf_settings *s)
{
	struct mf_cli c = { 0 };
	struct mf_err e;

	unsetenv("MAILFLOW_CONFIG");
	setenv("XDG_CONFIG_HOME", "/nonexistent-mailflow-test", 1);
	opt(&c, 's', "mx.test");
	cr_assert_eq(mf_cli_resolve(&c, NULL, s, &e), 0, "%s", e.msg);
}

Test(cli, default_account_and_defaults, .init = setup, .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_err e;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	cr_assert_eq(mf_cli_resolve(&c, NULL, &s, &e), 0, "%s", e.msg);
	cr_assert_not_null(s.acct);
	cr_assert_str_eq(s.acct->name, "home");
	cr_assert_str_eq(s.host, "mail.home.test");
	cr_assert_str_eq(s.port, "465");
	cr_assert_eq(s.tls, MF_TLS_IMPLICIT);
	cr_assert_str_eq(s.user, "worker");
	cr_assert_str_eq(s.auth, "PLAIN");
	cr_assert_str_eq(s.from, "w@work.test");
	cr_assert_str_eq(s.maildir, "/m");
	cr_assert_eq(s.timeout_ms, 20000);
	cr_assert_str_eq(s.tlsp.verify_name, "mail.home.test");
	cr_assert_null(s.tlsp.sni);
	cr_assert_str_eq(s.tlsp.ca_file, "/etc/ca.pem");
	cr_assert_str_eq(s.tlsp.min_version, "1.2");
	cr_assert_eq(s.tlsp.insecure, 0);
	mf_cli_settings_free(&s);
}

Test(cli, command_line_wins, .init = setup, .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_err e;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	opt(&c, 'a', "work");
	opt(&c, 's', "[::1]:2525");
	opt(&c, 'u', "cmduser");
	opt(&c, 'v', NULL);
	opt(&c, 'v', NULL);
	opt(&c, MF_OPT_TLS, "none");
	opt(&c, MF_OPT_TLS_TRUST_FILE, "/cmd/ca.pem");
	opt(&c, MF_OPT_TLS_FINGERPRINT, "ab:cd");
	opt(&c, MF_OPT_TLS_CERT, "/c.pem");
	opt(&c, MF_OPT_TLS_KEY, "/k.pem");
	opt(&c, MF_OPT_TLS_MIN_VERSION, "1.3");
	opt(&c, MF_OPT_TLS_PRIORITY, "NORMAL");
	opt(&c, MF_OPT_INSECURE, NULL);
	opt(&c, MF_OPT_SNI, "sni.test");
	opt(&c, MF_OPT_AUTH, "CRAM-MD5");
	opt(&c, MF_OPT_PASSWORDEVAL, "echo cmdpw");
	opt(&c, MF_OPT_TIMEOUT, "5");
	opt(&c, MF_OPT_SHOW_SECRETS, NULL);
	/* positional account loses against -a */
	cr_assert_eq(mf_cli_resolve(&c, "home", &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.acct->name, "work");
	cr_assert_str_eq(s.host, "::1");
	cr_assert_str_eq(s.port, "2525");
	cr_assert_eq(s.tls, MF_TLS_NONE);
	cr_assert_str_eq(s.user, "cmduser");
	cr_assert_str_eq(s.auth, "CRAM-MD5");
	cr_assert_str_eq(s.passwordeval, "echo cmdpw");
	cr_assert_eq(s.timeout_ms, 5000);
	cr_assert_eq(s.verbose, 2);
	cr_assert_eq(s.show_secrets, 1);
	cr_assert_str_eq(s.tlsp.verify_name, "::1");
	cr_assert_str_eq(s.tlsp.sni, "sni.test");
	cr_assert_str_eq(s.tlsp.ca_file, "/cmd/ca.pem");
	cr_assert_str_eq(s.tlsp.fingerprint, "ab:cd");
	cr_assert_str_eq(s.tlsp.cert_file, "/c.pem");
	cr_assert_str_eq(s.tlsp.key_file, "/k.pem");
	cr_assert_str_eq(s.tlsp.min_version, "1.3");
	cr_assert_str_eq(s.tlsp.priority, "NORMAL");
	cr_assert_eq(s.tlsp.insecure, 1);
	mf_cli_settings_free(&s);
}

Test(cli, server_without_port_keeps_account_port, .init = setup,
     .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_err e;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	opt(&c, 's', "other.test");
	cr_assert_eq(mf_cli_resolve(&c, "work", &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.host, "other.test");
	cr_assert_str_eq(s.port, "587");
	cr_assert_eq(s.tls, MF_TLS_STARTTLS);
	mf_cli_settings_free(&s);

	/* -p beats the port in -s */
	opt(&c, 's', "other.test:26");
	opt(&c, 'p', "27");
	cr_assert_eq(mf_cli_resolve(&c, "work", &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.port, "27");
	mf_cli_settings_free(&s);
}

Test(cli, password_from_settings, .init = setup, .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_secret sec;
	struct mf_auth a;
	struct mf_err e;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	cr_assert_eq(mf_cli_resolve(&c, "work", &s, &e), 0, "%s", e.msg);
	mf_settings_auth(&s, &a);
	cr_assert_eq(mf_auth_secret(&a, &sec, &e), 0, "%s", e.msg);
	cr_assert_str_eq(sec.data, "workpw");
	cr_assert_str_eq(sec.source, "passwordeval");
	mf_secret_wipe(&sec);
	/* held once, then every login gets a copy */
	cr_assert_eq(mf_auth_hold(&a, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_auth_secret(&a, &sec, &e), 0, "%s", e.msg);
	cr_assert_str_eq(sec.data, "workpw");
	cr_assert_neq(sec.data, a.held.data);
	mf_secret_wipe(&sec);
	mf_auth_release(&a);
	cr_assert_null(a.held.data);
	mf_cli_settings_free(&s);
}

/* mf_settings_conn: the one step from the settings to what every
 * protocol module takes (struct mf_conn); every field carried. */
static const struct {
	int opt;
	const char *arg;
} conn_opts[] = {
	{ 's', "[::1]:2525" }, { 'u', "cmduser" }, { MF_OPT_TLS, "none" },
	{ MF_OPT_TLS_TRUST_FILE, "/cmd/ca.pem" },
	{ MF_OPT_TLS_FINGERPRINT, "ab:cd" }, { MF_OPT_TLS_CERT, "/c.pem" },
	{ MF_OPT_TLS_KEY, "/k.pem" }, { MF_OPT_TLS_MIN_VERSION, "1.3" },
	{ MF_OPT_TLS_PRIORITY, "NORMAL" }, { MF_OPT_INSECURE, NULL },
	{ MF_OPT_SNI, "sni.test" }, { MF_OPT_AUTH, "CRAM-MD5" },
	{ MF_OPT_PASSWORDEVAL, "echo cmdpw" }, { MF_OPT_TIMEOUT, "5" },
};

Test(cli, connection_from_settings, .init = setup, .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_conn k;
	struct mf_err e;
	size_t i;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	for (i = 0; i < sizeof(conn_opts) / sizeof(conn_opts[0]); i++)
		opt(&c, conn_opts[i].opt, conn_opts[i].arg);
	cr_assert_eq(mf_cli_resolve(&c, "work", &s, &e), 0, "%s", e.msg);
	memset(&k, 0xa5, sizeof(k));   /* every field is set, not left over */
	mf_settings_conn(&s, &k);
	/* borrowed from the settings, not copied */
	cr_assert_eq(k.host, s.host);
	cr_assert_eq(k.port, s.port);
	cr_assert_str_eq(k.host, "::1");
	cr_assert_str_eq(k.port, "2525");
	cr_assert_eq(k.tls, MF_TLS_NONE);
	/* the TLS parameters whole (command_line_wins checks what the
	 * options put there), their strings borrowed */
	cr_assert_eq(memcmp(&k.tlsp, &s.tlsp, sizeof(k.tlsp)), 0);
	cr_assert_eq(k.tlsp.verify_name, s.tlsp.verify_name);
	cr_assert_str_eq(k.tlsp.fingerprint, "ab:cd");
	cr_assert_eq(k.tlsp.insecure, 1);
	/* --timeout: each reply and the connect; the I/O timeout follows
	 * the reply timeout in each protocol */
	cr_assert_eq(k.timeout_ms, 5000);
	cr_assert_eq(k.sock.connect_timeout_ms, 5000);
	cr_assert_eq(k.sock.io_timeout_ms, 0);
	cr_assert_eq(k.sock.family, 0);
	cr_assert_null(k.tr);
	/* the credentials, as mf_settings_auth gives them */
	cr_assert_str_eq(k.cred.user, "cmduser");
	cr_assert_str_eq(k.cred.mech, "CRAM-MD5");
	cr_assert_null(k.cred.authzid);
	cr_assert_str_eq(k.cred.source.host, "::1");
	cr_assert_str_eq(k.cred.source.user, "cmduser");
	cr_assert_str_eq(k.cred.source.passwordeval, "echo cmdpw");
	cr_assert_null(k.cred.source.password);
	cr_assert_null(k.cred.source.netrc_path);
	cr_assert_eq(k.cred.source.timeout_ms, 0);
	cr_assert_null(k.cred.held.data);
	cr_assert_null(k.cred.test_nonce);
	mf_cli_settings_free(&s);
}

/* With only a server: nothing invented, so each protocol's own defaults
 * apply (port by TLS mode, TLS by port, 5 min / 60 s / 30 s timeouts). */
Test(cli, connection_from_settings_defaults)
{
	struct mf_settings s;
	struct mf_conn k;

	resolve_server_only(&s);
	memset(&k, 0xa5, sizeof(k));
	mf_settings_conn(&s, &k);
	cr_assert_str_eq(k.host, "mx.test");
	cr_assert_str_eq(k.port, "");
	cr_assert_eq(k.tls, MF_TLS_UNSET);
	cr_assert_eq(memcmp(&k.tlsp, &s.tlsp, sizeof(k.tlsp)), 0);
	cr_assert_str_eq(k.tlsp.verify_name, "mx.test");
	cr_assert_null(k.tlsp.ca_file);
	cr_assert_eq(k.tlsp.insecure, 0);
	cr_assert_eq(k.timeout_ms, 0);
	cr_assert_eq(k.sock.connect_timeout_ms, 0);
	cr_assert_eq(k.sock.io_timeout_ms, 0);
	cr_assert_null(k.tr);
	cr_assert_null(k.cred.user);
	cr_assert_null(k.cred.mech);
	cr_assert_null(k.cred.source.passwordeval);
	cr_assert_null(k.cred.source.password);
	cr_assert_null(k.cred.held.data);
	cr_assert_null(k.cred.test_nonce);
	mf_cli_settings_free(&s);
}

struct bad_opt {
	int opt;
	const char *arg;
	const char *msg;
};

static const struct bad_opt bad_opts[] = {
	{ 'p', "0", "--port" },
	{ 'p', "65536", "--port" },
	{ 'p', "25a", "--port" },
	{ 's', "[::1", "--server" },
	{ 's', "host:99999", "--server" },
	{ 's', ":25", "--server" },
	{ MF_OPT_TLS, "sometimes", "--tls" },
	{ MF_OPT_TLS_MIN_VERSION, "1.4", "--tls-min-version" },
	{ MF_OPT_TLS_MIN_VERSION, "tls1.2", "--tls-min-version" },
	{ MF_OPT_TIMEOUT, "0", "--timeout" },
	{ MF_OPT_TIMEOUT, "-5", "--timeout" },
	{ MF_OPT_TIMEOUT, "ten", "--timeout" },
};

Test(cli, bad_values_are_usage_errors)
{
	size_t i;

	for (i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
		struct mf_cli c = { 0 };
		struct mf_err e;

		mf_err_clear(&e);
		cr_expect_eq(mf_cli_option(&c, bad_opts[i].opt, bad_opts[i].arg,
		    &e), -1, "case %zu", i);
		cr_expect_eq(e.kind, MF_E_USAGE, "case %zu", i);
		cr_expect(strncmp(e.msg, bad_opts[i].msg, strlen(bad_opts[i].msg))
		    == 0, "case %zu: %s", i, e.msg);
		cr_expect(strstr(e.msg, bad_opts[i].arg) != NULL, "case %zu: %s",
		    i, e.msg);
	}
}

Test(cli, empty_values_name_the_option)
{
	struct mf_cli c = { 0 };
	struct mf_err e;

	cr_assert_eq(mf_cli_option(&c, MF_OPT_TLS_TRUST_FILE, "", &e), -1);
	cr_assert_eq(e.kind, MF_E_USAGE);
	cr_assert(strncmp(e.msg, "--tls-trust-file:", 17) == 0, "%s", e.msg);
	cr_assert_eq(mf_cli_option(&c, 'u', "", &e), -1);
	cr_assert(strncmp(e.msg, "--user:", 7) == 0, "%s", e.msg);
}

Test(cli, tool_options_are_left_alone)
{
	struct mf_cli c = { 0 };
	struct mf_err e;

	cr_assert_eq(mf_cli_option(&c, 'h', NULL, &e), 0);
	cr_assert_eq(mf_cli_option(&c, MF_OPT_TOOL_BASE + 3, "x", &e), 0);
	cr_assert_eq(mf_cli_option(&c, 'u', "a", &e), 1);
	cr_assert_eq(mf_cli_option(&c, 'u', "b", &e), 1);
	cr_assert_str_eq(c.user, "b");
}

Test(cli, every_long_option_is_handled_and_documented)
{
	static const struct option longopts[] = { MF_CLI_LONGOPTS, { 0, 0, 0, 0 } };
	static const char *const good[] = { "work", "/x", "h.test:25", "25",
	    "u", NULL, "starttls", "/x", "ab", "/x", "/x", "1.2", "NORMAL", NULL,
	    "sni.test", "PLAIN", "true", "10", NULL };
	size_t i;

	for (i = 0; longopts[i].name != NULL; i++) {
		struct mf_cli c = { 0 };
		struct mf_err e;
		char flag[64];

		snprintf(flag, sizeof(flag), "--%s", longopts[i].name);
		cr_expect(strstr(mf_cli_usage, flag) != NULL,
		    "%s missing from mf_cli_usage", flag);
		/* --help and --version: the tool prints its own text */
		if (longopts[i].val == 'h' || longopts[i].val == 'V') {
			cr_expect_eq(mf_cli_option(&c, longopts[i].val, NULL, &e), 0);
			continue;
		}
		cr_assert_lt(i, sizeof(good) / sizeof(good[0]));
		cr_expect_eq(mf_cli_option(&c, longopts[i].val, good[i], &e), 1,
		    "--%s: %s", longopts[i].name, e.msg);
	}
}

Test(cli, errors_from_config, .init = setup, .fini = teardown)
{
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_err e;
	char missing[160];

	opt(&c, MF_OPT_CONFIG, cfgpath);
	cr_assert_eq(mf_cli_resolve(&c, "nosuch", &s, &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert_null(s.cfg);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	opt(&c, MF_OPT_CONFIG, missing);
	cr_assert_eq(mf_cli_resolve(&c, NULL, &s, &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
}

Test(cli, no_config_at_all)
{
	struct mf_settings s;

	resolve_server_only(&s);
	cr_assert_null(s.acct);
	cr_assert_str_eq(s.host, "mx.test");
	cr_assert_str_eq(s.port, "");
	cr_assert_eq(s.tls, MF_TLS_UNSET);
	cr_assert_eq(s.timeout_ms, 0);
	mf_cli_settings_free(&s);
}

/* ---- mf_cli_getopt: the one usage-error path ---- */

static const struct option tool_longopts[] = {
	MF_CLI_LONGOPTS,
	{ "to", required_argument, NULL, 2001 },
	{ "dry-run", no_argument, NULL, 2002 },
	{ "dsn-notify", required_argument, NULL, 2003 },
	{ "dsn-ret", required_argument, NULL, 2004 },
	{ NULL, 0, NULL, 0 }
};

/* Run the parser over argv until it stops; returns the last result and
 * leaves the message of an error in msg. */
static int
parse(const char *msg_out[1], int argc, char **argv)
{
	static struct mf_err e;
	int c;

	optind = 0;   /* GNU: reinitialise fully */
	mf_err_clear(&e);
	while ((c = mf_cli_getopt(argc, argv, MF_CLI_SHORTOPTS "f:tB:b:",
	    tool_longopts, &e)) != -1 && c != '?')
		;
	*msg_out = e.msg;
	return c;
}

static const struct {
	const char *argv[6];
	const char *msg;
} bad[] = {
	{ { "t", "-x" }, "unknown option -x" },
	{ { "t", "-bs", "-v" }, NULL },   /* -b takes a value: fine */
	{ { "t", "-vZ" }, "unknown option -Z in -vZ" },
	{ { "t", "rcpt", "-vtZ", "x" }, "unknown option -Z in -vtZ" },
	{ { "t", "-a" }, "option -a needs a value" },
	{ { "t", "-v", "-f" }, "option -f needs a value" },
	{ { "t", "--nope" }, "unknown option --nope" },
	{ { "t", "--nope=3" }, "unknown option --nope" },
	{ { "t", "--to" }, "option --to needs a value" },
	{ { "t", "--dry-run=yes" }, "option --dry-run takes no value" },
	{ { "t", "--dsn" }, "ambiguous option --dsn" },
	{ { "t", "--dsn-n" }, "option --dsn-notify needs a value" },
	{ { "t", "--to", "-x", "-Q" }, "unknown option -Q" },   /* -x is --to's */
	{ { "t", "--", "-Q" }, NULL },
	{ { "t", "--acc", "x", "--he" }, NULL },   /* --help */
};

Test(cli_getopt, names_the_offending_option)
{
	const char *msg;
	size_t i;
	int argc, c;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (argc = 0; bad[i].argv[argc] != NULL; argc++)
			;
		c = parse(&msg, argc, (char **)bad[i].argv);
		if (bad[i].msg == NULL) {
			cr_expect_neq(c, '?', "case %zu: %s", i, msg);
			continue;
		}
		cr_expect_eq(c, '?', "case %zu", i);
		cr_expect_str_eq(msg, bad[i].msg, "case %zu", i);
	}
}

Test(cli_getopt, help_and_version_are_options_everywhere)
{
	char *a1[] = { "t", "--help", NULL }, *a2[] = { "t", "-V", NULL };
	struct mf_err e;

	optind = 0;
	cr_assert_eq(mf_cli_getopt(2, a1, MF_CLI_SHORTOPTS, tool_longopts, &e),
	    'h');
	optind = 0;
	cr_assert_eq(mf_cli_getopt(2, a2, MF_CLI_SHORTOPTS, tool_longopts, &e),
	    'V');
}

Test(cli_getopt, one_line_with_see_help_and_exit_64)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cr_assert_not_null(f);
	cr_assert_eq(mf_cli_usage_error(f, "pop-fetch", "unknown option -\x1bZ"),
	    64);
	fclose(f);
	cr_assert_str_eq(buf, "pop-fetch: unknown option -\\x1bZ; see pop-fetch "
	    "--help\n");
}

Test(cli_version, three_words_then_build)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	char tool[32], paren[32], ver[32];
	int a, b, c;

	cr_assert_not_null(f);
	mf_cli_print_version(f, "mxprobe");
	fclose(f);
	cr_assert_eq(sscanf(buf, "%31s %31s %31s", tool, paren, ver), 3);
	cr_assert_str_eq(tool, "mxprobe");
	cr_assert_str_eq(paren, "(mailflow)");
	cr_assert_eq(sscanf(ver, "%d.%d.%d", &a, &b, &c), 3, "%s", ver);
	cr_assert(strncmp(buf + strlen("mxprobe (mailflow) "), mf_cli_version(),
	    strlen(mf_cli_version())) == 0);
}

Test(cli_msg, escapes_what_the_server_said)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct mf_err e;

	cr_assert_not_null(f);
	mf_err_set(&e, MF_E_PERM, "refused: 550 \x1b]0;x\x07\r");
	cr_assert_eq(mf_cli_fail(f, "mailsend", &e), 69);
	fclose(f);
	cr_assert_str_eq(buf, "mailsend: refused: 550 \\x1b]0;x\\x07\\r\n");
}

/* issue 12: one rule for names in --json: the wire form under the key,
 * its U-labels under key_unicode only when it has them. */
Test(cli_json, names_carry_their_unicode_form)
{
	static const struct {
		const char *in, *json;
	} t[] = {
		{ "bücher.example", "{\"host\":\"xn--bcher-kva.example\","
		  "\"host_unicode\":\"bücher.example\"}" },
		{ "xn--bcher-kva.example", "{\"host\":\"xn--bcher-kva.example\","
		  "\"host_unicode\":\"bücher.example\"}" },
		{ "mail.example.test", "{\"host\":\"mail.example.test\"}" },
		{ "127.0.0.1", "{\"host\":\"127.0.0.1\"}" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_json j;

		mf_json_init(&j, &b);
		mf_json_object_begin(&j);
		mf_cli_json_name(&j, "host", t[i].in);
		mf_json_object_end(&j);
		cr_expect_str_eq(b.data, t[i].json, "%zu", i);
		mf_buf_free(&b);
	}
}
