/* test_config.c - the configuration file: syntax, inheritance, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"

static struct mf_config *
parse_ok(const char *text)
{
	struct mf_err e;
	struct mf_config *c;

	mf_err_clear(&e);
	c = mf_config_parse(text, "t.conf", 0600, &e);
	cr_assert_not_null(c, "parse failed: %s", e.msg);
	return c;
}

static const struct mf_account *
get_acct(struct mf_config *c, const char *name)
{
	struct mf_err e;
	const struct mf_account *a = mf_config_account(c, name, &e);

	cr_assert_not_null(a, "no account %s: %s", name ? name : "(default)",
	    e.msg);
	return a;
}

Test(config, every_key)
{
	struct mf_config *c = parse_ok(
	    "# a comment\n"
	    "\n"
	    "account full\n"
	    "  host smtp.example.test\n"
	    "  port 587\n"
	    "  tls starttls\n"
	    "  tls_trust_file /etc/ca.pem\n"
	    "  tls_fingerprint AB:CD\n"
	    "  tls_cert_file /c.pem\n"
	    "  tls_key_file /k.pem\n"
	    "  tls_min_version 1.2\n"
	    "  tls_priority NORMAL:-VERS-TLS1.0\n"
	    "  tls_insecure on\n"
	    "  user alice\n"
	    "  auth SCRAM-SHA-256 PLAIN\n"
	    "  passwordeval pass show mail/alice\n"
	    "  password s3cret\n"
	    "  from alice@example.test\n"
	    "  maildir /var/mail/alice\n"
	    "  state /tmp/state\n"
	    "  queue /tmp/queue\n"
	    "  ehlo client.example.test\n"
	    "  timeout 42\n"
	    "  protocol lmtp\n"
	    "  folder_names mutf7\n");
	const struct mf_account *a = get_acct(c, "full");

	cr_assert_str_eq(a->name, "full");
	cr_assert_str_eq(a->host, "smtp.example.test");
	cr_assert_eq(a->port, 587);
	cr_assert_eq(a->tls, MF_TLS_STARTTLS);
	cr_assert_str_eq(a->tls_trust_file, "/etc/ca.pem");
	cr_assert_str_eq(a->tls_fingerprint, "AB:CD");
	cr_assert_str_eq(a->tls_cert_file, "/c.pem");
	cr_assert_str_eq(a->tls_key_file, "/k.pem");
	cr_assert_str_eq(a->tls_min_version, "1.2");
	cr_assert_str_eq(a->tls_priority, "NORMAL:-VERS-TLS1.0");
	cr_assert_eq(a->tls_insecure, 1);
	cr_assert_str_eq(a->user, "alice");
	cr_assert_str_eq(a->auth, "SCRAM-SHA-256 PLAIN");
	cr_assert_str_eq(a->passwordeval, "pass show mail/alice");
	cr_assert_str_eq(a->password, "s3cret");
	cr_assert_str_eq(a->from, "alice@example.test");
	cr_assert_str_eq(a->maildir, "/var/mail/alice");
	cr_assert_str_eq(a->state, "/tmp/state");
	cr_assert_str_eq(a->queue, "/tmp/queue");
	cr_assert_str_eq(a->ehlo, "client.example.test");
	cr_assert_eq(a->timeout, 42);
	cr_assert_str_eq(a->protocol, "lmtp");
	cr_assert_str_eq(a->folder_names, "mutf7");
	cr_assert_str_eq(a->source, "t.conf:3");
	mf_config_free(c);
}

Test(config, inheritance_multi_level_and_defaults)
{
	struct mf_config *c = parse_ok(
	    "defaults\n"
	    "tls implicit\n"
	    "timeout 10\n"
	    "from d@example.test\n"
	    "account child : mid\n"      /* parent defined later */
	    "user kid\n"
	    "account base\n"
	    "host base.example.test\n"
	    "port 465\n"
	    "user baseuser\n"
	    "account mid : base\n"
	    "port 993\n"
	    "from \"\"\n");              /* explicit empty: not set */
	const struct mf_account *a = get_acct(c, "child");

	cr_assert_str_eq(a->name, "child");
	cr_assert_str_eq(a->host, "base.example.test");
	cr_assert_eq(a->port, 993);
	cr_assert_str_eq(a->user, "kid");
	cr_assert_eq(a->tls, MF_TLS_IMPLICIT);
	cr_assert_eq(a->timeout, 10);
	cr_assert_null(a->from);
	cr_assert_str_eq(a->source, "t.conf:5");
	a = get_acct(c, "base");
	cr_assert_eq(a->port, 465);
	cr_assert_str_eq(a->from, "d@example.test");
	mf_config_free(c);
}

Test(config, default_account)
{
	struct mf_config *c = parse_ok(
	    "defaults\nport 25\n"
	    "account one\nhost one.test\n"
	    "account two\nhost two.test\n"
	    "account default : two\n");
	const struct mf_account *a = get_acct(c, NULL);

	cr_assert_str_eq(a->name, "two");
	cr_assert_str_eq(a->host, "two.test");
	cr_assert_eq(a->port, 25);
	a = get_acct(c, "default");
	cr_assert_str_eq(a->name, "two");
	mf_config_free(c);

	/* No default account: the defaults alone, without a name. */
	c = parse_ok("defaults\nport 25\naccount one\nhost one.test\n");
	a = get_acct(c, NULL);
	cr_assert_null(a->name);
	cr_assert_null(a->host);
	cr_assert_eq(a->port, 25);
	mf_config_free(c);

	/* A default account with its own settings is an account itself. */
	c = parse_ok("account one\nhost one.test\n"
	    "account default : one\nuser u\n");
	a = get_acct(c, NULL);
	cr_assert_str_eq(a->name, "default");
	cr_assert_str_eq(a->host, "one.test");
	cr_assert_str_eq(a->user, "u");
	mf_config_free(c);
}

Test(config, quoting)
{
	struct mf_config *c = parse_ok(
	    "account q\n"
	    "passwordeval \"gpg -d \\\"my file\\\" \\\\ x\"  # comment\n"
	    "user \"  spaced user  \"\n"
	    "from unquoted value with spaces   \n"
	    "ehlo\t\"#notacomment\"\n"
	    "account q2:q\n"
	    "auth \"\"\n");
	const struct mf_account *a = get_acct(c, "q");

	cr_assert_str_eq(a->passwordeval, "gpg -d \"my file\" \\ x");
	cr_assert_str_eq(a->user, "  spaced user  ");
	cr_assert_str_eq(a->from, "unquoted value with spaces");
	cr_assert_str_eq(a->ehlo, "#notacomment");
	a = get_acct(c, "q2");
	cr_assert_str_eq(a->user, "  spaced user  ");
	cr_assert_null(a->auth);
	mf_config_free(c);
}

Test(config, tilde_expansion_in_paths_only)
{
	struct mf_config *c;
	const struct mf_account *a;

	setenv("HOME", "/home/tester", 1);
	c = parse_ok("account p\nmaildir ~/Maildir\nstate ~\n"
	    "tls_trust_file ~/ca.pem\nqueue ~other/q\nuser ~/notapath\n");
	a = get_acct(c, "p");
	cr_assert_str_eq(a->maildir, "/home/tester/Maildir");
	cr_assert_str_eq(a->state, "/home/tester");
	cr_assert_str_eq(a->tls_trust_file, "/home/tester/ca.pem");
	cr_assert_str_eq(a->queue, "~other/q");
	cr_assert_str_eq(a->user, "~/notapath");
	mf_config_free(c);
}

struct bad_case {
	const char *text;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "account a\nhots x\n", "t.conf:2: unknown key 'hots'" },
	{ "account a\nport 99999\n", "t.conf:2: bad value for port: '99999'" },
	{ "account a\nport 0\n", "t.conf:2: bad value for port: '0'" },
	{ "account a\nport 25x\n", "t.conf:2: bad value for port: '25x'" },
	{ "account a\n\nport\n", "t.conf:3: missing value for port" },
	{ "account a\ntimeout -1\n", "t.conf:2: bad value for timeout: '-1'" },
	{ "account a\ntls maybe\n", "t.conf:2: bad value for tls: 'maybe'" },
	{ "account a\nprotocol esmtp\n",
	  "t.conf:2: bad value for protocol: 'esmtp' (smtp|lmtp)" },
	{ "account a\nfolder_names utf-7\n",
	  "t.conf:2: bad value for folder_names: 'utf-7' (utf8|mutf7)" },
	{ "account a\ntls_insecure perhaps\n",
	  "t.conf:2: bad value for tls_insecure: 'perhaps'" },
	{ "account a\ntls_min_version 1.4\n",
	  "t.conf:2: bad value for tls_min_version: '1.4'" },
	{ "account x : y\nhost h\n",
	  "t.conf:1: account 'x' inherits unknown account 'y'" },
	{ "account a\nhost h\naccount a\n",
	  "t.conf:3: account 'a' is already defined at line 1" },
	{ "account a : b\naccount b : c\naccount c : a\n",
	  "t.conf:1: account 'a' inherits from itself" },
	{ "account a : a\n", "t.conf:1: account 'a' inherits from itself" },
	{ "host h\n", "t.conf:1: 'host' outside of a 'defaults' or 'account'" },
	{ "account a\nuser \"open\n",
	  "t.conf:2: unterminated quoted value for user" },
	{ "account a\nuser \"x\" y\n",
	  "t.conf:2: junk after the quoted value for user" },
	{ "account\n", "t.conf:1: bad account" },
	{ "account a b\n", "t.conf:1: bad account line" },
	{ "account a :\n", "t.conf:1: bad account line" },
	{ "account a\x01\n", "t.conf:1: bad account name" },
	{ "account a : b\x7f\n", "t.conf:1: bad account name" },
	{ "defaults x\n", "t.conf:1: 'defaults' takes no value" },
};

Test(config, errors_name_file_and_line)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mf_err e;
		struct mf_config *c;

		mf_err_clear(&e);
		c = mf_config_parse(bad[i].text, "t.conf", 0600, &e);
		cr_expect_null(c, "case %zu should fail", i);
		mf_config_free(c);
		cr_expect_eq(e.kind, MF_E_CONFIG, "case %zu kind %d", i, e.kind);
		cr_expect(strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)) == 0,
		    "case %zu: got '%s', want '%s...'", i, e.msg, bad[i].msg);
	}
}

Test(config, password_needs_private_file)
{
	struct mf_err e;
	struct mf_config *c;
	const char *text = "defaults\nport 25\naccount a\nuser u\npassword p\n";

	c = mf_config_parse(text, "/x/config", 0644, &e);
	cr_assert_null(c);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "/x/config:5:") == e.msg, "%s", e.msg);
	cr_assert(strstr(e.msg, "chmod 600 /x/config") != NULL, "%s", e.msg);
	c = mf_config_parse(text, "/x/config", 0640, &e);
	cr_assert_null(c);
	c = mf_config_parse(text, "/x/config", 0604, &e);
	cr_assert_null(c);
	c = mf_config_parse(text, "/x/config", 0600, &e);
	cr_assert_not_null(c);
	mf_config_free(c);
	/* Without a password the file may be world-readable. */
	c = mf_config_parse("account a\nuser u\n", "/x/config", 0644, &e);
	cr_assert_not_null(c);
	mf_config_free(c);
}

Test(config, unknown_account)
{
	struct mf_config *c = parse_ok("account a\nhost h\n");
	struct mf_err e;

	cr_assert_null(mf_config_account(c, "b", &e));
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "'b'") != NULL, "%s", e.msg);
	mf_config_free(c);
}

static char tmpdir[64];

static void
mk_tmp(void)
{
	mf_strlcpy(tmpdir, "/tmp/mfcfgXXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

Test(config, load_files_and_search_order)
{
	char p[256], p2[256], out[300];
	struct mf_err e;
	struct mf_config *c;

	mk_tmp();
	snprintf(p, sizeof(p), "%s/mailflow", tmpdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/mailflow/config", tmpdir);
	write_file(p, "account x\nhost xdg.test\npassword pw\n", 0644);
	snprintf(p2, sizeof(p2), "%s/env.conf", tmpdir);
	write_file(p2, "account y\nhost env.test\n", 0644);

	unsetenv("MAILFLOW_CONFIG");
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	cr_assert_eq(mf_config_default_path(out, sizeof(out)), 0);
	cr_assert_str_eq(out, p);
	/* Real file mode is checked: 0644 with a password is refused. */
	c = mf_config_load(NULL, &e);
	cr_assert_null(c);
	cr_assert(strstr(e.msg, "chmod 600") != NULL, "%s", e.msg);
	chmod(p, 0600);
	c = mf_config_load(NULL, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_assert_str_eq(mf_config_path(c), p);
	cr_assert_str_eq(get_acct(c, "x")->host, "xdg.test");
	snprintf(out, sizeof(out), "%s:1", p);
	cr_assert_str_eq(get_acct(c, "x")->source, out);
	mf_config_free(c);

	setenv("MAILFLOW_CONFIG", p2, 1);
	c = mf_config_load(NULL, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_assert_str_eq(get_acct(c, "y")->host, "env.test");
	mf_config_free(c);

	/* An explicit path wins over the environment. */
	c = mf_config_load(p, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_assert_str_eq(get_acct(c, "x")->host, "xdg.test");
	mf_config_free(c);

	/* Missing explicit file: error; missing default file: empty. */
	snprintf(p2, sizeof(p2), "%s/nope", tmpdir);
	cr_assert_null(mf_config_load(p2, &e));
	cr_assert_eq(e.kind, MF_E_CONFIG);
	setenv("MAILFLOW_CONFIG", p2, 1);
	cr_assert_null(mf_config_load(NULL, &e));
	unsetenv("MAILFLOW_CONFIG");
	setenv("XDG_CONFIG_HOME", p2, 1);
	c = mf_config_load(NULL, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_assert_str_eq(mf_config_path(c), "");
	cr_assert_null(get_acct(c, NULL)->host);
	mf_config_free(c);

	unlink(p);
	snprintf(p, sizeof(p), "%s/mailflow", tmpdir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/env.conf", tmpdir);
	unlink(p);
	cr_assert_eq(rmdir(tmpdir), 0, "scratch files left in %s", tmpdir);
}

Test(config, default_paths_without_xdg)
{
	char out[256];

	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/h", 1);
	cr_assert_eq(mf_config_default_path(out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/home/h/.config/mailflow/config");
	cr_assert_eq(mf_config_state_dir(out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/home/h/.local/state/mailflow");
	setenv("XDG_STATE_HOME", "/st", 1);
	cr_assert_eq(mf_config_state_dir(out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/st/mailflow");
	setenv("XDG_STATE_HOME", "relative", 1);
	cr_assert_eq(mf_config_state_dir(out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/home/h/.local/state/mailflow");
	cr_assert_eq(mf_config_state_dir(out, 8), -1);
}

/* Junk must give an error or a config, never a crash (run under
 * make check SANITIZE=1 to catch memory errors). */
Test(config, random_input_never_crashes)
{
	static const char alphabet[] = "account default:defaults host port "
	    "tls \"\\#\n\t~/=x123";
	unsigned seed = 12345;
	int i;

	for (i = 0; i < 3000; i++) {
		char text[256];
		size_t n = (size_t)(i % 255), k;
		struct mf_err e;
		struct mf_config *c;

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			text[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[n] = '\0';
		c = mf_config_parse(text, "junk", 0600, &e);
		if (c != NULL) {
			(void)mf_config_account(c, NULL, &e);
			mf_config_free(c);
		} else {
			cr_assert_eq(e.kind, MF_E_CONFIG, "%s", e.msg);
			cr_assert(strncmp(e.msg, "junk:", 5) == 0, "%s", e.msg);
		}
	}
}

Test(config, log_keys)
{
	struct mf_config *c = parse_ok(
	    "defaults\n"
	    "  logfile ~/mail.log\n"
	    "  syslog LOG_LOCAL3\n"
	    "account a\n"
	    "  syslog\n"
	    "account b\n"
	    "  syslog off\n"
	    "  aliases /etc/aliases\n");
	const struct mf_account *a = get_acct(c, "a"), *b = get_acct(c, "b");
	struct mf_err e;

	cr_expect_str_eq(a->syslog, "on");
	cr_expect_str_eq(b->syslog, "off");
	cr_expect_str_eq(b->aliases, "/etc/aliases");
	cr_expect(a->logfile != NULL && a->logfile[0] == '/' &&
	    strstr(a->logfile, "/mail.log") != NULL);
	mf_config_free(c);
	cr_expect_null(mf_config_parse("defaults\nsyslog LOG_KERN\n", "t.conf",
	    0600, &e));
	cr_expect(strstr(e.msg, "t.conf:2: bad value for syslog") != NULL,
	    "%s", e.msg);
}

Test(config, msmtp_keys_and_values)
{
	struct mf_config *c = parse_ok(
	    "defaults\n"
	    "port 587\n"
	    "tls on\n"
	    "tls_trust_file system\n"
	    "timeout off\n"
	    "account plain\n"
	    "host smtp.example.test\n"
	    "auth on\n"
	    "domain client.example.test\n"
	    "tls_priorities NORMAL\n"
	    "account smtps\n"
	    "port 465\n"
	    "tls_starttls off\n"
	    "tls_certcheck off\n"
	    "auth scram-sha-256\n"
	    "account clear\n"
	    "tls off\n"
	    "auth off\n"
	    "add_missing_date_header on\n"
	    "account default : plain\n");
	const struct mf_account *p = get_acct(c, "plain"), *s = get_acct(c, "smtps"),
	    *n = get_acct(c, "clear"), *d = get_acct(c, NULL);

	cr_expect_eq(p->tls, MF_TLS_STARTTLS);
	cr_expect_str_eq(p->auth, "auto");
	cr_expect_str_eq(p->ehlo, "client.example.test");
	cr_expect_str_eq(p->tls_priority, "NORMAL");
	cr_expect_null(p->tls_trust_file);
	cr_expect_eq(p->timeout, 0);
	cr_expect_eq(s->tls, MF_TLS_IMPLICIT);
	cr_expect_eq(s->tls_insecure, 1);
	cr_expect_str_eq(s->auth, "scram-sha-256");
	cr_expect_eq(n->tls, MF_TLS_NONE);
	cr_expect_str_eq(n->auth, "none");
	cr_expect_str_eq(d->name, "plain");
	cr_expect_str_eq(mf_config_warning(c, 0), "t.conf:19: "
	    "'add_missing_date_header' has no meaning for mailflow; ignored");
	cr_expect_null(mf_config_warning(c, 1));
	mf_config_free(c);
}

/* msmtp 1.8's header switches (set_*_header) are warnings too, so a
 * current msmtprc works with --config unchanged. */
Test(config, msmtp_header_switches_warn)
{
	struct mf_config *c = parse_ok("account a\nhost h.example.test\n"
	    "set_from_header on\nset_date_header auto\nset_msgid_header off\n");

	cr_expect_str_eq(mf_config_warning(c, 0), "t.conf:3: "
	    "'set_from_header' has no meaning for mailflow; ignored");
	cr_expect_str_eq(mf_config_warning(c, 2), "t.conf:5: "
	    "'set_msgid_header' has no meaning for mailflow; ignored");
	mf_config_free(c);
}

Test(config, mpop_keys_and_values)
{
	struct mf_config *c = parse_ok(
	    "account pop\n"
	    "host pop.example.test\n"
	    "delivery maildir ~/Mail\n"
	    "keep off\n"
	    "only_new off\n"
	    "uidls_file ~/.mpop_uidls/%U_at_%H\n"
	    "account mda\n"
	    "delivery mda /usr/bin/procmail -f '%F'\n"
	    "keep on\n");
	const struct mf_account *p = get_acct(c, "pop"), *m = get_acct(c, "mda");
	struct mf_err e;

	cr_expect(strstr(p->maildir, "/Mail") != NULL && p->maildir[0] == '/');
	cr_expect_eq(p->keep, 2);
	cr_expect_eq(p->only_new, 2);
	cr_expect(strstr(p->state, "/.mpop_uidls/%U_at_%H") != NULL);
	cr_expect_str_eq(m->mda, "/usr/bin/procmail -f '%F'");
	cr_expect_eq(m->keep, 1);
	mf_config_free(c);
	cr_expect_null(mf_config_parse("account a\ndelivery mbox ~/mbox\n",
	    "t.conf", 0600, &e));
	cr_expect(strstr(e.msg, "t.conf:2: delivery mbox") != NULL, "%s", e.msg);
}

Test(config, unknown_keys_error_in_ours_warn_in_peer_files)
{
	struct mf_err e;
	struct mf_config *c;

	cr_expect_null(mf_config_parse("defaults\nhots x\n", "t.conf", 0600, &e));
	cr_expect(strstr(e.msg, "t.conf:2: unknown key 'hots'") != NULL);
	c = mf_config_parse_peer("defaults\nhots x\n", ".msmtprc", 0600, 1, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(mf_config_warning(c, 0),
	    ".msmtprc:2: unknown key 'hots' ignored");
	cr_expect(mf_config_is_peer_file(c));
	mf_config_free(c);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

Test(config, search_order_own_peer_system)
{
	char dir[] = "/tmp/test_config_order.XXXXXX", own[128], rc[128],
	    sys[128], cmd[160];
	const char *files[] = { own, rc, sys, NULL };
	struct mf_config *c;
	struct mf_err e;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/own", dir);
	snprintf(rc, sizeof(rc), "%s/msmtprc", dir);
	snprintf(sys, sizeof(sys), "%s/system", dir);
	/* nothing at all: an empty configuration, and no stale error from
	 * the files that were not there */
	c = mf_config_load_list(files, 1, 2, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(mf_config_path(c), "");
	cr_expect_eq(e.kind, MF_OK, "stale error: %s", e.msg);
	cr_expect_str_eq(e.msg, "");
	mf_config_free(c);
	/* the system file when the user has none */
	put(sys, "defaults\nhost system.example.test\n");
	c = mf_config_load_list(files, 1, 2, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(mf_config_path(c), sys);
	cr_expect_eq(e.kind, MF_OK, "stale error: %s", e.msg);
	cr_expect_str_eq(e.msg, "");
	cr_expect(!mf_config_is_peer_file(c));
	cr_expect_str_eq(get_acct(c, NULL)->host, "system.example.test");
	mf_config_free(c);
	/* the user's msmtprc before the system file, in msmtp mode */
	put(rc, "defaults\nhost rc.example.test\nmaildomain x\n");
	c = mf_config_load_list(files, 1, 2, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(mf_config_path(c), rc);
	cr_expect(mf_config_is_peer_file(c));
	mf_config_free(c);
	/* mailflow's own file first */
	put(own, "defaults\nhost own.example.test\n");
	c = mf_config_load_list(files, 1, 2, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(mf_config_path(c), own);
	mf_config_free(c);
	/* a file that exists but cannot be read is an error naming it */
	unlink(own);
	cr_assert_eq(mkdir(own, 0700), 0);
	cr_expect_null(mf_config_load_list(files, 1, 2, &e));
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, own) != NULL, "%s", e.msg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* mxprobe's key: the DNS server to ask (mailflow(5)). */
Test(config, resolver_key)
{
	struct mf_config *c;
	struct mf_err e;

	c = mf_config_parse("defaults\nresolver 127.0.0.1:5353\n"
	    "account other\nresolver [::1]:53\n", "t", 0600, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_expect_str_eq(get_acct(c, NULL)->resolver, "127.0.0.1:5353");
	cr_expect_str_eq(get_acct(c, "other")->resolver, "[::1]:53");
	mf_config_free(c);
}
