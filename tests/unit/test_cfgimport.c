/* test_cfgimport.c - msmtprc, mpoprc and mbsyncrc to mailflow
 * configuration: every row converts, its output must hold (and lack)
 * lines, say its warnings, be read back by mf_config_parse() and resolve
 * to the settings the peer tool would have used. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cfgimport.h"
#include "config.h"

#define MAXL 10

struct check {                 /* one resolved account of the output */
	const char *acct;      /* NULL: the default account */
	const char *host, *user, *from, *maildir, *passwordeval;
	enum mf_tls_mode tls;  /* MF_TLS_UNSET: not checked */
	int port;              /* 0: not checked; -1: must be unset */
};

struct row {
	const char *name;
	enum mf_cfgimport_format fmt;
	const char *in;
	const char *want[MAXL];     /* whole lines the output must have */
	const char *absent[MAXL];   /* lines it must not have */
	const char *warn;           /* a substring of some warning, or NULL:
	                               no warning at all */
	struct check chk[3];
};

/* Shaped like msmtp(1)'s user example (its keys and structure; the
 * comments are ours): defaults, two accounts, one inheriting, a default. */
#define MSMTP_EXAMPLE \
	"# defaults for every account below: submission port, STARTTLS\n" \
	"defaults\n" \
	"port 587\n" \
	"tls on\n" \
	"tls_starttls on\n" \
	"\n" \
	"# the freemail account\n" \
	"account freemail\n" \
	"host smtp.freemail.example\n" \
	"from joe_smith@freemail.example\n" \
	"auth on\n" \
	"user joe.smith\n" \
	"passwordeval gpg2 --no-tty -q -d ~/.msmtp-password.gpg\n" \
	"\n" \
	"# same server, other address\n" \
	"account freemail2 : freemail\n" \
	"from joey@freemail.example\n" \
	"\n" \
	"account isp\n" \
	"host mail.isp.example\n" \
	"from smithjoe@isp.example\n" \
	"auth on\n" \
	"user 12345\n" \
	"\n" \
	"account default : freemail\n"

static const struct row rows[] = {
	{ "msmtp_example", MF_CFGIMPORT_MSMTP, MSMTP_EXAMPLE,
	  { "defaults", "port 587", "tls starttls", "account freemail",
	    "auth auto", "passwordeval gpg2 --no-tty -q -d ~/.msmtp-password.gpg",
	    "account freemail2 : freemail", "from joey@freemail.example",
	    "account default : freemail" },
	  { "tls on", "tls_starttls on", "auth on" }, NULL,
	  { { NULL, "smtp.freemail.example", "joe.smith",
	      "joe_smith@freemail.example", NULL, "gpg2 --no-tty -q -d "
	      "~/.msmtp-password.gpg", MF_TLS_STARTTLS, 587 },
	    { "freemail2", "smtp.freemail.example", "joe.smith",
	      "joey@freemail.example", NULL, NULL, MF_TLS_STARTTLS, 587 },
	    { "isp", "mail.isp.example", "12345", NULL, NULL, NULL,
	      MF_TLS_STARTTLS, 587 } } },
	/* tls on + tls_starttls off, given in different sections */
	{ "msmtp_implicit_split", MF_CFGIMPORT_MSMTP,
	  "defaults\ntls_starttls off\n\naccount a\nhost h.example\ntls on\n",
	  { "tls implicit", "port 465" }, { "tls starttls" }, NULL,
	  { { "a", "h.example", NULL, NULL, NULL, NULL, MF_TLS_IMPLICIT, 465 } } },
	/* msmtp's defaults that are not mailflow's: port 25, no login
	 * without "auth", clear text without "tls" (a note, not tls none) */
	{ "msmtp_peer_defaults", MF_CFGIMPORT_MSMTP,
	  "account plain\nhost relay.example\nuser bob\n",
	  { "port 25", "auth none" }, { "tls none" }, "used no TLS here",
	  { { "plain", "relay.example", "bob", NULL, NULL, NULL, MF_TLS_UNSET,
	      25 } } },
	{ "msmtp_tls_keys", MF_CFGIMPORT_MSMTP,
	  "defaults\ntls on\ntls_trust_file system\ntls_certcheck off\n"
	  "tls_priorities NORMAL:-VERS-TLS1.0\ntls_cert_file ~/c.pem\n"
	  "tls_key_file ~/k.pem\ndomain client.example\ntimeout 30\n"
	  "syslog\nlogfile ~/msmtp.log\naliases /etc/aliases\n"
	  "protocol smtp\naccount a\nhost h.example\nport 587\n",
	  { "tls_insecure on", "tls_priority NORMAL:-VERS-TLS1.0",
	    "tls_cert_file ~/c.pem", "tls_key_file ~/k.pem",
	    "ehlo client.example", "timeout 30", "syslog on",
	    "logfile ~/msmtp.log", "aliases /etc/aliases" },
	  { "tls_trust_file system", "domain client.example" }, NULL,
	  { { "a", "h.example", NULL, NULL, NULL, NULL, MF_TLS_STARTTLS, 587 } } },
	{ "msmtp_unknown_and_meaningless", MF_CFGIMPORT_MSMTP,
	  "account a\nhost h.example\nport 587\ntls on\nfrobnicate yes\n"
	  "dsn_notify failure\ntimeout off\ntls_fingerprint 11:22:33\n"
	  "auth gssapi\n",
	  { "# not converted: frobnicate yes (not an msmtp key)",
	    "# not converted: dsn_notify failure (no configuration key: use "
	    "mailsend --dsn-notify)",
	    "# not converted: timeout off (mailflow always has a time limit; "
	    "the tool's default applies)",
	    "# not converted: tls_fingerprint 11:22:33 (mailflow pins SHA-256 "
	    "fingerprints only)",
	    "# not converted: auth gssapi (mailflow has no such method; auth "
	    "auto chooses one)" },
	  { "frobnicate yes", "timeout off" }, "frobnicate: not converted",
	  { { "a", "h.example", NULL, NULL, NULL, NULL, MF_TLS_STARTTLS, 587 } } },
	/* comments, blanks, quoting: msmtp's quotes go, ours come back only
	 * where a value needs them */
	{ "msmtp_comments_quoting", MF_CFGIMPORT_MSMTP,
	  "# comment\n   # indented comment\n\n\taccount q\n  host   h.example  \n"
	  "  port 587\n  tls on\n"
	  "  passwordeval \"pass show \\\"mail y\\\"\"  # trailing comment\n"
	  "  user \" joe \"\n  from \"a@b.example\"\n",
	  { "passwordeval pass show \"mail y\"", "user \" joe \"",
	    "from a@b.example", "host h.example" }, { "# comment" }, NULL,
	  { { "q", "h.example", " joe ", "a@b.example", NULL,
	      "pass show \"mail y\"", MF_TLS_STARTTLS, 587 } } },
	{ "msmtp_password", MF_CFGIMPORT_MSMTP,
	  "account p\nhost h.example\nport 587\ntls on\nauth plain\n"
	  "user u\npassword s3cret\n",
	  { "password s3cret", "auth PLAIN" }, { NULL }, "mode 0600",
	  { { "p", "h.example", "u", NULL, NULL, NULL, MF_TLS_STARTTLS, 587 } } },
	/* "account c : a,b" copies a then b; defaults apply only to the
	 * accounts after them; an empty value unsets */
	{ "msmtp_inheritance", MF_CFGIMPORT_MSMTP,
	  "account a\nhost ha.example\nfrom fa@example\ntls on\nport 587\n"
	  "account b\nhost hb.example\nuser ub\nauth on\ntls on\nport 587\n"
	  "account c : a, b\nuser \"\"\n"
	  "defaults\nfrom late@example\ntls on\n"
	  "account d\nhost hd.example\nport 587\n",
	  { "account c : a" }, { NULL }, NULL,
	  { { "c", "hb.example", NULL, "fa@example", NULL, NULL,
	      MF_TLS_STARTTLS, 587 },
	    { "a", "ha.example", NULL, NULL, NULL, NULL, MF_TLS_STARTTLS, 587 },
	    { "d", "hd.example", NULL, "late@example", NULL, NULL,
	      MF_TLS_STARTTLS, 587 } } },
	/* mailflow's own keys in an msmtprc (mailflow reads them there)
	 * pass through, also when inherited or unset */
	{ "msmtp_mailflow_keys", MF_CFGIMPORT_MSMTP,
	  "defaults\nqueue ~/q\ntls_min_version 1.3\ntls on\n"
	  "account a\nhost h.example\nport 587\ndkim_selector s1\n"
	  "account b : a\nqueue \"\"\ndkim_selector s2\n",
	  { "queue ~/q", "tls_min_version 1.3", "dkim_selector s1",
	    "dkim_selector s2", "queue \"\"" }, { NULL }, NULL,
	  { { "b", "h.example", NULL, NULL, NULL, NULL, MF_TLS_STARTTLS, 587 } } },
	{ "msmtp_mailflow_key_bad_value", MF_CFGIMPORT_MSMTP,
	  "account a\nhost h.example\nport 587\ntls on\n"
	  "tls_min_version 9\n",
	  { "# not converted: tls_min_version 9 (bad value for tls_min_version: "
	    "'9' (1.0, 1.1, 1.2 or 1.3))" }, { "tls_min_version 9" },
	  "tls_min_version: not converted",
	  { { "a", "h.example", NULL, NULL, NULL, NULL, MF_TLS_STARTTLS, 587 } } },
	{ "mpop_example", MF_CFGIMPORT_MPOP,
	  "defaults\ntls on\ndelivery maildir ~/Mail/incoming\n"
	  "uidls_file ~/.local/share/%U_at_%H\n"
	  "account freemail\nhost pop.freemail.example\nuser joe.smith\n"
	  "passwordeval gpg2 --no-tty -q -d ~/.mpop-password.gpg\nkeep on\n"
	  "only_new off\n"
	  "account isp\nhost mail.isp.example\nuser 12345\n"
	  "delivery mda \"/usr/bin/procmail -d joe\"\nkeep on\n"
	  "account default : freemail\n",
	  { "maildir ~/Mail/incoming", "keep on", "only_new off",
	    "mda /usr/bin/procmail -d joe", "account default : freemail",
	    "# not converted: uidls_file ~/.local/share/%U_at_%H (mpop's UIDL "
	    "list is not pop-fetch's state file; pop-fetch keeps its own, by "
	    "default under ~/.local/state/mailflow)" },
	  { "port 25", "auth none" }, "uidls_file: not converted",
	  { { NULL, "pop.freemail.example", "joe.smith", NULL,
	      "Mail/incoming", NULL, MF_TLS_STARTTLS, -1 } } },
	{ "mpop_delete_and_mbox", MF_CFGIMPORT_MPOP,
	  "account a\nhost pop.example\ntls on\nuser u\nauth user\n"
	  "delivery mbox ~/mbox\n",
	  { "auth user",
	    "# not converted: delivery mbox ~/mbox (pop-fetch delivers to a "
	    "maildir or an mda only)" }, { NULL }, "mpop deleted fetched mail",
	  { { "a", "pop.example", "u", NULL, NULL, NULL, MF_TLS_STARTTLS, -1 } } },
	{ "mbsync_full", MF_CFGIMPORT_MBSYNC,
	  "# global\nSync Pull\n\n"
	  "IMAPAccount work\nHost imap.work.example\nPort 993\n"
	  "User \"joe@work.example\"\nPassCmd \"+pass show \\\"work imap\\\"\"\n"
	  "SSLType IMAPS\nCertificateFile /etc/ssl/certs/ca-certificates.crt\n"
	  "AuthMechs PLAIN\nSSLVersions TLSv1.2 TLSv1.3\nPipelineDepth 1\n\n"
	  "IMAPStore work-remote\nAccount work\n\n"
	  "MaildirStore work-local\nPath ~/Mail/work/\nInbox ~/Mail/work/INBOX\n"
	  "SubFolders Verbatim\n\n"
	  "Channel work\nFar :work-remote:\nNear :work-local:\n"
	  "Patterns * !Trash \"Sent Mail\"\nCreate Both\nSyncState *\n",
	  { "account work", "host imap.work.example", "port 993",
	    "user joe@work.example", "passwordeval pass show \"work imap\"",
	    "tls implicit", "tls_trust_file /etc/ssl/certs/ca-certificates.crt",
	    "auth PLAIN", "tls_min_version 1.2", "maildir ~/Mail/work" },
	  { NULL },
	  "Patterns: not converted (no configuration key: run imap-sync "
	  "--folder '*' --exclude 'Trash' --folder 'Sent Mail')",
	  { { "work", "imap.work.example", "joe@work.example", NULL,
	      "Mail/work", "pass show \"work imap\"", MF_TLS_IMPLICIT, 993 } } },
	/* isync 1.5's TLSType, settings inside the IMAPStore, keywords in
	 * any case, two channels, an unused store and a group */
	{ "mbsync_inline_two", MF_CFGIMPORT_MBSYNC,
	  "imapstore r\nhost mail.example\nuser u\nTLSType STARTTLS\n"
	  "Pass secret\n\nMaildirStore l\nPath ~/Maildir/\n\n"
	  "MaildirStore unused\nPath ~/x/\n\n"
	  "Channel one\nMaster :r:\nSlave :l:\n\n"
	  "Channel two\nFar :r:Archive\nNear :l:archive\n\n"
	  "Group all\nChannels one two\n",
	  { "account one", "account two", "tls starttls", "password secret",
	    "maildir ~/Maildir", "maildir ~/Maildir/archive",
	    "# not converted: Far :r:Archive (no configuration key: run "
	    "imap-sync --folder 'Archive')",
	    "# not converted: MaildirStore unused (no Channel pairs it with a "
	    "Maildir)",
	    "# not converted: Group all (imap-sync has no groups: run it once "
	    "per account)" },
	  { NULL }, "mode 0600",
	  { { "one", "mail.example", "u", NULL, "Maildir", NULL,
	      MF_TLS_STARTTLS, -1 } } },
};

static struct mf_cfgimport *
convert(const struct row *r)
{
	struct mf_cfgimport *c;
	struct mf_err e;

	mf_err_clear(&e);
	c = mf_cfgimport_convert(r->in, "in.rc", r->fmt, &e);
	cr_assert_not_null(c, "%s: %s", r->name, e.msg);
	return c;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void
check_account(const struct row *r, struct mf_config *c, const struct check *k)
{
	struct mf_err e;
	const struct mf_account *a = mf_config_account(c, k->acct, &e);

	cr_assert_not_null(a, "%s: %s", r->name, e.msg);
#define STR(f) \
	if (k->f != NULL) { \
		cr_expect_not_null(a->f, "%s %s: no " #f, r->name, k->acct); \
		if (a->f != NULL && strstr(a->f, k->f) == NULL) \
			cr_expect(0, "%s %s: " #f " '%s', want '%s'", r->name, \
			    k->acct, a->f, k->f); \
	}
	STR(host)
	STR(user)
	STR(from)
	STR(maildir)
	STR(passwordeval)
#undef STR
	if (k->tls != MF_TLS_UNSET)
		cr_expect_eq(a->tls, k->tls, "%s %s: tls %d", r->name, k->acct,
		    a->tls);
	if (k->port != 0)
		cr_expect_eq(a->port, k->port == -1 ? 0 : k->port, "%s %s: port "
		    "%d", r->name, k->acct, a->port);
}

Test(cfgimport, rows)
{
	size_t i, j;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct mf_cfgimport *c = convert(r);
		const char *out = mf_cfgimport_text(c), *w;
		struct mf_config *cfg;
		struct mf_err e;
		int found = 0;

		for (j = 0; j < MAXL && r->want[j] != NULL; j++)
			cr_expect(has_line(out, r->want[j]), "%s: no line '%s' in:\n%s",
			    r->name, r->want[j], out);
		for (j = 0; j < MAXL && r->absent[j] != NULL; j++)
			cr_expect(!has_line(out, r->absent[j]), "%s: line '%s' in:\n%s",
			    r->name, r->absent[j], out);
		for (j = 0; (w = mf_cfgimport_warning(c, j)) != NULL; j++) {
			found |= r->warn != NULL && strstr(w, r->warn) != NULL;
			cr_expect(strncmp(w, "in.rc:", 6) == 0, "%s: %s", r->name, w);
			cr_expect(strstr(w, "s3cret") == NULL, "%s: secret in %s",
			    r->name, w);
		}
		if (r->warn == NULL)
			cr_expect_null(mf_cfgimport_warning(c, 0), "%s: warning %s",
			    r->name, mf_cfgimport_warning(c, 0));
		else
			cr_expect(found, "%s: no warning with '%s'", r->name, r->warn);
		cr_expect_eq(mf_cfgimport_source(c), r->fmt);
		/* mailflow reads its output strictly, as with --config */
		mf_err_clear(&e);
		cfg = mf_config_parse(out, "out", 0600, &e);
		cr_assert_not_null(cfg, "%s: output refused: %s\n%s", r->name,
		    e.msg, out);
		for (j = 0; j < 3 && (r->chk[j].host != NULL); j++)
			check_account(r, cfg, &r->chk[j]);
		mf_config_free(cfg);
		mf_cfgimport_free(c);
	}
}

Test(cfgimport, password_needs_0600)
{
	struct mf_cfgimport *c;
	struct mf_err e;

	cr_assert_str_eq(rows[6].name, "msmtp_password");
	c = convert(&rows[6]);

	cr_expect(mf_cfgimport_has_password(c));
	cr_expect(strstr(mf_cfgimport_text(c), "chmod 600") != NULL);
	/* mailflow refuses the output in a file others can read */
	cr_expect_null(mf_config_parse(mf_cfgimport_text(c), "out", 0644, &e));
	mf_cfgimport_free(c);
	c = convert(&rows[0]);
	cr_expect(!mf_cfgimport_has_password(c));
	mf_cfgimport_free(c);
}

static const struct {
	const char *in;
	enum mf_cfgimport_format fmt;
	const char *err;              /* "LINE: text" the error must hold */
} bad[] = {
	{ "account a\nhost h\npasswordeval \"x\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:3: the quote of passwordeval's value is not closed" },
	{ "host h\naccount a\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:1: 'host' before any 'defaults' or 'account' line" },
	{ "account a : nosuch\nhost h\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:1: account 'a' inherits 'nosuch', which is not defined" },
	{ "account a\naccount a\n", MF_CFGIMPORT_MPOP,
	  "in.rc:2: account 'a' is defined twice" },
	{ "account a b\n", MF_CFGIMPORT_MSMTP, "in.rc:1: bad account name" },
	/* a control character would make a line mailflow(5) refuses
	 * (fuzz corpus crash-account-cr) */
	{ "account \"\r\"\nhost x\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:1: the value of account holds a control character" },
	{ "account \"a\x01\"\nhost x\n", MF_CFGIMPORT_MPOP,
	  "in.rc:1: the value of account holds a control character" },
	/* nor in a value: 'from <CR>' would read back as an empty from
	 * (fuzz corpus crash-value-cr) */
	{ "account a\nfrom \"\r\"\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:2: the value of from holds a control character" },
	{ "account a\nhost a\x1b[2Jb\n", MF_CFGIMPORT_MSMTP,
	  "in.rc:2: the value of host holds a control character" },
	{ "IMAPAccount a\nHost \"x\ry\"\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:2: a value holds a control character" },
	{ "IMAPAccount a\nUser u\x7f\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:2: a value holds a control character" },
	{ "defaults x\n", MF_CFGIMPORT_MSMTP, "in.rc:1: 'defaults' takes no" },
	{ "# nothing\n\n", MF_CFGIMPORT_MSMTP, "no 'defaults' or 'account'" },
	{ "host h\nuser u\n", MF_CFGIMPORT_AUTO, "cannot tell its format" },
	{ "", MF_CFGIMPORT_AUTO, "cannot tell its format" },
	{ "Channel c\nFar :nosuch:\nNear :l:\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:2: Channel c names no Store 'nosuch'" },
	{ "IMAPStore r\nAccount gone\n\nMaildirStore l\n\nChannel c\n"
	  "Far :r:\nNear :l:\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:2: IMAPStore r uses no IMAPAccount 'gone'" },
	{ "IMAPStore r\nPassCmd \"x\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:2: a quote is not closed" },
	{ "IMAPStore r\n\nIMAPStore r\n", MF_CFGIMPORT_MBSYNC,
	  "in.rc:3: IMAPStore r is defined twice" },
	{ "Sync All\n", MF_CFGIMPORT_MBSYNC, "no IMAPAccount, IMAPStore" },
};

Test(cfgimport, nonsense_is_a_data_error)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mf_err e;

		mf_err_clear(&e);
		cr_expect_null(mf_cfgimport_convert(bad[i].in, "in.rc", bad[i].fmt,
		    &e), "case %zu converted", i);
		cr_expect_eq(e.kind, MF_E_DATA, "case %zu: kind %d", i, e.kind);
		cr_expect(strstr(e.msg, bad[i].err) != NULL, "case %zu: '%s' "
		    "lacks '%s'", i, e.msg, bad[i].err);
	}
}

Test(cfgimport, detect_and_names)
{
	static const struct {
		const char *in;
		enum mf_cfgimport_format want;
	} t[] = {
		{ MSMTP_EXAMPLE, MF_CFGIMPORT_MSMTP },
		{ "defaults\ntls on\naccount a\nhost h\ndelivery maildir ~/M\n",
		  MF_CFGIMPORT_MPOP },
		{ "  imapaccount x\nhost h\n", MF_CFGIMPORT_MBSYNC },
		{ "MaildirStore l\nPath ~/M/\n", MF_CFGIMPORT_MBSYNC },
		{ "account a\nhost h\nuser u\n", MF_CFGIMPORT_AUTO },
		{ "account a\nfrom x@y\nkeep on\n", MF_CFGIMPORT_AUTO },
	};
	enum mf_cfgimport_format f;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_eq(mf_cfgimport_detect(t[i].in), t[i].want, "case %zu",
		    i);
	cr_expect_eq(mf_cfgimport_format_parse("mbsync", &f), 0);
	cr_expect_eq(f, MF_CFGIMPORT_MBSYNC);
	cr_expect_eq(mf_cfgimport_format_parse("isync", &f), -1);
	cr_expect_eq(mf_cfgimport_format_parse("auto", &f), -1);
	cr_expect_str_eq(mf_cfgimport_format_name(MF_CFGIMPORT_MPOP), "mpop");
}

/* Junk gives an error or a text mailflow reads, never a crash (run under
 * make check SANITIZE=1 for memory errors; tests/fuzz/fuzz_cfgimport.c
 * does the same with libFuzzer). */
Test(cfgimport, random_input_never_crashes)
{
	static const char alphabet[] = "account default:defaults host tls on "
	    "IMAPStore Channel Far :x: Near Path \"\\#\n\t~/=x,123";
	unsigned seed = 4242;
	int i, f;

	for (i = 0; i < 2000; i++) {
		char text[200];
		size_t n = (size_t)(i % 199), k;
		struct mf_cfgimport *c;
		struct mf_config *cfg;
		struct mf_err e;

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			text[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[n] = '\0';
		for (f = MF_CFGIMPORT_MSMTP; f <= MF_CFGIMPORT_MBSYNC; f++) {
			mf_err_clear(&e);
			c = mf_cfgimport_convert(text, "junk", f, &e);
			if (c == NULL) {
				cr_assert_eq(e.kind, MF_E_DATA, "%s", e.msg);
				continue;
			}
			cfg = mf_config_parse(mf_cfgimport_text(c), "out", 0600, &e);
			cr_assert_not_null(cfg, "%s\nfrom:\n%s\nto:\n%s", e.msg, text,
			    mf_cfgimport_text(c));
			mf_config_free(cfg);
			mf_cfgimport_free(c);
		}
	}
}
