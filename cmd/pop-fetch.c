/* pop-fetch - retrieve POP3 mail into a Maildir (or an MDA), never losing
 * or duplicating a message.  Options, account, params; lib/pop3.c does
 * the work. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "durable.h"
#include "config.h"
#include "cred.h"
#include "err.h"
#include "idn.h"
#include "json.h"
#include "pop3.h"
#include "popfetch.h"
#include "progress.h"
#include "tlsport.h"
#include "transcript.h"

enum {
	OPT_MDA = MF_OPT_TOOL_BASE,
	OPT_KEEP,
	OPT_DELETE,
	OPT_ALL,
	OPT_MAX_SIZE,
	OPT_LIMIT,
	OPT_STATE,
	OPT_PROGRESS,
	OPT_JSON
};

static const struct option longopts[] = {
	MF_CLI_LONGOPTS,
	MF_CLI_LOGOPTS,
	{ "maildir",   required_argument, NULL, 'm' },
	{ "mda",       required_argument, NULL, OPT_MDA },
	{ "keep",      no_argument,       NULL, OPT_KEEP },
	{ "delete",    no_argument,       NULL, OPT_DELETE },
	{ "all",       no_argument,       NULL, OPT_ALL },
	{ "max-size",  required_argument, NULL, OPT_MAX_SIZE },
	{ "limit",     required_argument, NULL, OPT_LIMIT },
	{ "state",     required_argument, NULL, OPT_STATE },
	{ "progress",  no_argument,       NULL, OPT_PROGRESS },
	{ "quiet",     no_argument,       NULL, 'q' },
	{ "json",      no_argument,       NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 }
};

static const char usage_own[] =
"  -m, --maildir DIR         deliver into this Maildir (default: the\n"
"                            account's, else ~/Maildir; created if missing)\n"
"      --mda CMD             deliver each message to CMD's standard input\n"
"                            (run with sh -c; exit 0 means delivered)\n"
"      --keep                leave messages on the server (default)\n"
"      --delete              delete messages on the server once delivered\n"
"      --all                 fetch also messages fetched before\n"
"      --max-size BYTES      leave bigger messages on the server\n"
"      --limit N             fetch at most N messages\n"
"      --state FILE          UIDL state file (default: $XDG_STATE_HOME/\n"
"                            mailflow/pop-USER@HOST.state)\n"
"      --progress            show progress also when standard error is not\n"
"                            a terminal (plain lines; a bar on a terminal\n"
"                            is the default)\n"
"  -q, --quiet               print only errors\n"
"      --json                print a JSON summary on standard output\n";

struct opts {
	struct mf_cli cli;
	const char *maildir, *mda, *state;
	int del, del_given, all, progress, quiet, json;
	unsigned long long max_size;
	unsigned long limit;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: pop-fetch [OPTIONS] [ACCOUNT]\n"
	    "Retrieve POP3 mail into a Maildir (RFC 1939, 2449, 2595, 5034).\n\n"
	    "%s%s%s", mf_cli_usage, mf_cli_log_usage, usage_own);
}

static int
parse_opts(int argc, char **argv, struct opts *o, struct mf_err *e)
{
	long v;
	int c, r;

	while ((c = mf_cli_getopt(argc, argv, MF_CLI_SHORTOPTS "m:q", longopts,
	    e)) != -1) {
		if (c == '?')
			return -1;
		r = mf_cli_option(&o->cli, c, optarg, e);
		if (r != 0) {
			if (r == -1)
				return -1;
			continue;
		}
		switch (c) {
		case 'm': o->maildir = optarg; break;
		case OPT_MDA: o->mda = optarg; break;
		case OPT_KEEP: o->del = 0; o->del_given = 1; break;
		case OPT_DELETE: o->del = 1; o->del_given = 1; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_STATE: o->state = optarg; break;
		case OPT_PROGRESS: o->progress = 1; break;
		case 'q': o->quiet = 1; break;
		case OPT_JSON: o->json = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': exit(mf_cli_print_version(stdout, "pop-fetch"));
		case OPT_MAX_SIZE:
			if (mf_parse_long(optarg, 1, 0x7fffffffffffffffL, &v) == -1)
				return mf_err_set(e, MF_E_USAGE, "--max-size: not a "
				    "positive number of bytes: %s", optarg);
			o->max_size = (unsigned long long)v;
			break;
		case OPT_LIMIT:
			if (mf_parse_long(optarg, 1, 0x7fffffffL, &v) == -1)
				return mf_err_set(e, MF_E_USAGE, "--limit: not a "
				    "positive number: %s", optarg);
			o->limit = (unsigned long)v;
			break;
		default:
			return mf_err_set(e, MF_E_USAGE, "unknown option");
		}
	}
	if (o->maildir != NULL && o->mda != NULL)
		return mf_err_set(e, MF_E_USAGE, "--maildir and --mda exclude "
		    "each other");
	if (argc - optind > 1)
		return mf_err_set(e, MF_E_USAGE, "too many arguments: %s",
		    argv[optind + 1]);
	return 0;
}

/* mpop's delivery mda, keep and only_new from the account, under the
 * command line. */
static void
account_opts(struct opts *o, const struct mf_settings *s)
{
	if (o->mda == NULL && o->maildir == NULL)
		o->mda = s->mda;
	if (!o->del_given && s->keep == 2)
		o->del = 1;
	if (s->only_new == 2)
		o->all = 1;
}

static void
on_config_notice(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "pop-fetch: %s\n", msg);
}

/* mpop's uidls_file may hold %U (the user) and %H (the host). */
static const char *
expand_uidls(const char *in, const struct mf_settings *s, char *out,
             size_t outlen)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;
	const char *p;
	int rc = 0;

	if (in == NULL || strchr(in, '%') == NULL)
		return in;
	for (p = in; *p != '\0' && rc == 0; p++) {
		if (p[0] == '%' && (p[1] == 'U' || p[1] == 'H'))
			rc = mf_buf_puts(&b, *++p == 'U' ? s->user : s->host, &e);
		else
			rc = mf_buf_putc(&b, *p, &e);
	}
	if (rc == 0 && b.data != NULL && mf_strlcpy(out, b.data, outlen) <
	    outlen)
		in = out;
	mf_buf_free(&b);
	return in;
}

/* The state file: --state, else the account's (a directory gets the
 * default name inside), else $XDG_STATE_HOME/mailflow/. */
static int
state_path(const char *given, const char *account, char *out, size_t outlen,
           struct mf_err *e)
{
	char dir[4096];
	struct stat st;
	size_t n;

	if (given != NULL) {
		n = strlen(given);
		if (!(stat(given, &st) == 0 && S_ISDIR(st.st_mode)) &&
		    (n == 0 || given[n - 1] != '/'))
			return mf_strlcpy(out, given, outlen) < outlen ? 0 :
			    mf_err_set(e, MF_E_USAGE, "state path too long");
		mf_strlcpy(dir, given, sizeof(dir));
	} else if (mf_config_state_dir(dir, sizeof(dir)) == -1) {
		return mf_err_set(e, MF_E_CONFIG, "no state directory: HOME "
		    "unknown; use --state");
	}
	n = (size_t)snprintf(out, outlen, "%s/pop-%s.state", dir, account);
	return n < outlen ? 0 : mf_err_set(e, MF_E_USAGE, "state path too long");
}

static int
maildir_path(const char *given, char *out, size_t outlen, struct mf_err *e)
{
	const char *home = getenv("HOME");

	if (given != NULL) {
		if (given[0] == '~' && given[1] == '/' && home != NULL)
			return mf_durable_join(out, outlen, home, given + 2, e);
		if (mf_strlcpy(out, given, outlen) >= outlen)
			return mf_err_set(e, MF_E_USAGE, "Maildir path too long");
		return 0;
	}
	if (home == NULL || home[0] == '\0')
		return mf_err_set(e, MF_E_CONFIG, "HOME is not set: use --maildir");
	return mf_durable_join(out, outlen, home, "Maildir", e);
}

struct ui {
	struct mf_progress pg;   /* lib/progress.h: the one behaviour */
	int quiet;
};

static void
on_progress(void *arg, const struct mf_popfetch_stats *st)
{
	struct ui *u = arg;
	const char *text;
	char line[256];

	if (st->todo == 0 || (text = mf_progress_update(&u->pg, line,
	    sizeof(line), "messages", st->fetched, st->todo, st->bytes)) == NULL)
		return;
	fputs(text, stderr);
	fflush(stderr);
}

static void
on_notice(void *arg, const char *msg)
{
	struct ui *u = arg;

	if (u->quiet)
		return;
	fputs(mf_progress_clear(&u->pg), stderr);
	mf_cli_msg(stderr, "pop-fetch", "%s", msg);
}

static struct timespec started;   /* for elapsed_ms */

/* host: the server as configured ("" before it is known). */
static void
print_json(const char *host, const struct mf_popfetch_stats *st, int rc,
           const struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(65536);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_cli_json_begin(&j, "pop-fetch");
	if (host[0] != '\0')
		mf_cli_json_name(&j, "host", host);
	mf_json_kv_int(&j, "listed", (long long)st->listed);
	mf_json_kv_int(&j, "fetched", (long long)st->fetched);
	mf_json_kv_int(&j, "skipped", (long long)st->skipped);
	mf_json_kv_int(&j, "deleted", (long long)st->deleted);
	mf_json_kv_int(&j, "dele_failed", (long long)st->dele_failed);
	mf_json_kv_int(&j, "bytes", (long long)st->bytes);
	mf_cli_json_end(&j, rc, mf_cli_elapsed_ms(&started), rc != 0 ? e : NULL);
	if (b.data != NULL)
		printf("%s\n", b.data);
	mf_buf_free(&b);
}

static int
fail(const struct opts *o, const char *host,
     const struct mf_popfetch_stats *st, const struct mf_err *e)
{
	int rc = mf_cli_fail(stderr, "pop-fetch", e);

	if (o->json)
		print_json(host, st, rc, e);
	return rc;
}

/* One log line per run (logfile / syslog). */
static void
log_run(const struct mf_settings *s, const struct mf_popfetch_stats *st,
        int rc, const struct mf_err *why)
{
	struct mf_maillog_line l;
	struct mf_err e;

	mf_settings_log_start(s, &l);
	mf_maillog_addf(&l, "listed", "%lu", st->listed);
	mf_maillog_addf(&l, "fetched", "%lu", st->fetched);
	mf_maillog_addf(&l, "skipped", "%lu", st->skipped);
	mf_maillog_addf(&l, "deleted", "%lu", st->deleted);
	mf_maillog_addf(&l, "bytes", "%llu", st->bytes);
	mf_maillog_addf(&l, "seconds", "%.2f", st->seconds);
	if (mf_cli_log_run(s, "pop-fetch", &l, rc, why, &e) == -1)
		mf_cli_msg(stderr, "pop-fetch", "warning: %s", e.msg);
}

/* TLS mode and port defaults (995 is implicit TLS, RFC 8314), then what
 * no account may leave out. */
static int
server_settings(struct mf_settings *s, enum mf_tls_mode *tls,
                struct mf_err *e)
{
	*tls = s->tls == MF_TLS_UNSET ? (strcmp(s->port, "995") == 0 ?
	    MF_TLS_IMPLICIT : MF_TLS_STARTTLS) : s->tls;
	if (s->port[0] == '\0')
		mf_strlcpy(s->port, *tls == MF_TLS_IMPLICIT ? "995" : "110",
		    sizeof(s->port));
	if (mf_settings_require(s, 1, e) == -1)
		return -1;
	if (*tls == MF_TLS_AUTO)   /* 995 implicit, else STARTTLS */
		*tls = mf_tlsport_auto(s->port);
	return 0;
}

/* The rest of the library's parameters (conn is set already). */
static void
fill_params(struct mf_popfetch_params *fp, const struct opts *o,
            struct ui *ui)
{
	fp->mda = o->mda;
	fp->delete_after = o->del;
	fp->all = o->all;
	fp->max_size = o->max_size;
	fp->limit = o->limit;
	fp->progress = on_progress;
	fp->notice = on_notice;
	fp->cb_arg = ui;
}

int
main(int argc, char **argv)
{
	static char maildir[4096], state[4096], account[600], uidls[4096];
	char shown[MF_IDN_NAME_MAX];
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_settings s;
	enum mf_pop3_auth method;
	enum mf_tls_mode tls;
	struct mf_transcript *tr = NULL;
	struct opts o;
	struct ui ui;
	struct mf_err e;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &started);
	signal(SIGPIPE, SIG_IGN);  /* a dead peer or MDA is an error, not a kill */
	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	memset(&fp, 0, sizeof(fp));
	memset(&st, 0, sizeof(st));
	mf_err_clear(&e);
	if (parse_opts(argc, argv, &o, &e) == -1)
		return mf_cli_usage_error(stderr, "pop-fetch", e.msg);
	o.cli.peer = MF_CONFIG_PEER_MPOP;
	o.cli.notice = on_config_notice;
	if (mf_cli_resolve(&o.cli, optind < argc ? argv[optind] : NULL, &s, &e) == -1)
		return fail(&o, s.host, &st, &e);
	mf_cli_warn_insecure(stderr, "pop-fetch", &s);
	account_opts(&o, &s);
	if (server_settings(&s, &tls, &e) == -1) {
		rc = fail(&o, s.host, &st, &e);
		goto out;
	}
	snprintf(account, sizeof(account), "%s@%s", s.user, s.host);
	mf_settings_conn(&s, &fp.conn);
	fp.conn.tls = tls;
	if (mf_pop3_auth_method(s.auth, &method, &e) == -1 ||
	    state_path(o.state ? o.state : expand_uidls(s.state, &s, uidls,
	    sizeof(uidls)), account, state, sizeof(state), &e) == -1 || (o.mda == NULL && maildir_path(o.maildir ? o.maildir :
	    s.maildir, maildir, sizeof(maildir), &e) == -1) ||
	    mf_auth_hold(&fp.conn.cred, &e) == -1) {
		rc = fail(&o, s.host, &st, &e);
		goto out;
	}
	if (s.verbose)
		tr = mf_transcript_new(stderr, s.show_secrets ? MF_TX_SHOW_SECRETS : 0);
	ui.quiet = o.quiet;
	mf_progress_start(&ui.pg, mf_progress_mode(o.quiet, o.progress,
	    isatty(STDERR_FILENO)));
	fill_params(&fp, &o, &ui);
	fp.conn.tr = tr;
	fp.maildir = o.mda ? NULL : maildir;
	fp.state = state;
	fp.account = account;
	rc = mf_popfetch_run(&fp, &st, &e);
	fputs(mf_progress_clear(&ui.pg), stderr);
	/* a partial run (75) still says what it did */
	if ((rc == 0 || (e.kind == MF_E_TEMP && (st.fetched > 0 ||
	    st.skipped > 0 || st.dele_failed > 0))) && !o.json && !o.quiet) {
		mf_idn_display(s.host, shown, sizeof(shown));
		printf("pop-fetch: %s: %lu fetched (%llu bytes), %lu skipped, "
		    "%lu deleted, %lu DELE refused, %lu on the server, %.2f s\n",
		    shown, st.fetched, st.bytes, st.skipped, st.deleted,
		    st.dele_failed, st.listed, st.seconds);
	}
	if (rc == -1) {
		rc = fail(&o, s.host, &st, &e);
		goto out;
	}
	if (o.json)
		print_json(s.host, &st, 0, &e);
out:
	log_run(&s, &st, rc, &e);
	mf_auth_release(&fp.conn.cred);
	mf_transcript_free(tr);
	mf_cli_settings_free(&s);
	return rc;
}
