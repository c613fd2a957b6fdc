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
	struct mf_err e;

	opt(&c, MF_OPT_CONFIG, cfgpath);
	cr_assert_eq(mf_cli_resolve(&c, "work", &s, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_cli_password(&s, &sec, &e), 0, "%s", e.msg);
	cr_assert_str_eq(sec.data, "workpw");
	mf_secret_wipe(&sec);
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

		cr_assert_lt(i, sizeof(good) / sizeof(good[0]));
		cr_expect_eq(mf_cli_option(&c, longopts[i].val, good[i], &e), 1,
		    "--%s: %s", longopts[i].name, e.msg);
		snprintf(flag, sizeof(flag), "--%s", longopts[i].name);
		cr_expect(strstr(mf_cli_usage, flag) != NULL,
		    "%s missing from mf_cli_usage", flag);
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
	struct mf_cli c = { 0 };
	struct mf_settings s;
	struct mf_err e;

	unsetenv("MAILFLOW_CONFIG");
	setenv("XDG_CONFIG_HOME", "/nonexistent-mailflow-test", 1);
	opt(&c, 's', "mx.test");
	cr_assert_eq(mf_cli_resolve(&c, NULL, &s, &e), 0, "%s", e.msg);
	cr_assert_null(s.acct);
	cr_assert_str_eq(s.host, "mx.test");
	cr_assert_str_eq(s.port, "");
	cr_assert_eq(s.tls, MF_TLS_UNSET);
	cr_assert_eq(s.timeout_ms, 0);
	mf_cli_settings_free(&s);
}
