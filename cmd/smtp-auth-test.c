/* smtp-auth-test - say why SMTP AUTH or STARTTLS fails, and how to fix it.
 * Options, account and password here; lib/diag.c walks the session and
 * diagnoses, lib/diagfmt.c writes the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cred.h"
#include "diag.h"
#include "diagfmt.h"
#include "discover.h"
#include "discoverfmt.h"
#include "dns.h"
#include "err.h"
#include "sock.h"
#include "transcript.h"


enum {
	OPT_MECH = MF_OPT_TOOL_BASE,
	OPT_QUIT_AFTER,
	OPT_FROM,
	OPT_TO,
	OPT_JSON,
	OPT_EHLO,
	OPT_DISCOVER,
	OPT_RESOLVER
};

static const struct option longopts[] = {
	MF_CLI_LONGOPTS,
	{ "mech",       required_argument, NULL, OPT_MECH },
	{ "quit-after", required_argument, NULL, OPT_QUIT_AFTER },
	{ "from",       required_argument, NULL, OPT_FROM },
	{ "to",         required_argument, NULL, OPT_TO },
	{ "ehlo",       required_argument, NULL, OPT_EHLO },
	{ "json",       no_argument,       NULL, OPT_JSON },
	{ "discover",   required_argument, NULL, OPT_DISCOVER },
	{ "resolver",   required_argument, NULL, OPT_RESOLVER },
	{ "quiet",      no_argument,       NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

static const char usage_own[] =
"      --mech LIST|all       mechanisms to try (comma-separated); default:\n"
"                            each offered one mailflow implements (OAuth\n"
"                            ones only when named); all: every offered one\n"
"      --quit-after STEP     stop after connect, banner, ehlo, tls, auth,\n"
"                            mail or rcpt\n"
"      --from ADDR           after AUTH, try MAIL FROM:<ADDR>\n"
"      --to ADDR             after MAIL, try RCPT TO:<ADDR>\n"
"      --ehlo NAME           name to send in EHLO (default: this host)\n"
"      --json                print one JSON document instead of the report\n"
"      --discover ADDR|DOMAIN  find the submission server, port, TLS mode\n"
"                            and mechanism (SRV, autoconfig, guesses) and\n"
"                            print a configuration block\n"
"      --resolver IP[:PORT]  DNS server for --discover's lookups\n"
"  -q, --quiet               print only the verdict line\n";

struct opts {
	struct mf_cli cli;
	const char *mech, *from, *to, *ehlo, *target, *discover, *resolver;
	enum mf_diag_stage_id quit_after;
	int json, quiet;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: smtp-auth-test [OPTIONS] HOST[:PORT]\n"
	        "Walk an SMTP submission session step by step and explain why "
	        "AUTH or\nSTARTTLS fails.\n\nOptions:\n%s%s\nExit status: 0 every "
	        "requested step worked, 77 credentials or sender\nrefused, 75 "
	        "temporary failure (refused, timeout, 4xx), 69 no such host or\n"
	        "TLS failure, 76 protocol violation, 64 usage, 78 configuration\n"
	        "(mailflow(7) has the table).\n", mf_cli_usage, usage_own);
}

static int
bad_usage(const char *msg)
{
	return mf_cli_usage_error(stderr, "smtp-auth-test", msg);
}

/* 0 go on, else the exit status. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	struct mf_err e;
	int c, r;

	mf_err_clear(&e);
	while ((c = mf_cli_getopt(argc, argv, MF_CLI_SHORTOPTS "q", longopts,
	                          &e)) != -1) {
		if (c == '?' || (r = mf_cli_option(&o->cli, c, optarg, &e)) == -1)
			return bad_usage(e.msg);
		if (r == 1)
			continue;
		switch (c) {
		case OPT_MECH: o->mech = optarg; break;
		case OPT_FROM: o->from = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_EHLO: o->ehlo = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_DISCOVER: o->discover = optarg; break;
		case OPT_RESOLVER: o->resolver = optarg; break;
		case 'q': o->quiet = 1; break;
		case OPT_QUIT_AFTER:
			if (mf_diag_stage_parse(optarg, &o->quit_after) == -1)
				return bad_usage("--quit-after: expected connect, "
				                 "banner, ehlo, tls, auth, mail or rcpt");
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			return mf_cli_print_version(stdout, "smtp-auth-test") - 1;
		default:
			return bad_usage("unknown option");
		}
	}
	if (optind < argc)
		o->target = argv[optind++];
	if (optind < argc)
		return bad_usage("too many arguments: one HOST[:PORT]");
	if (o->discover != NULL && o->target != NULL)
		return bad_usage("--discover takes no HOST[:PORT]");
	if (o->resolver != NULL && o->discover == NULL)
		return bad_usage("--resolver is for --discover");
	return 0;
}

/* The host: HOST[:PORT] argument over -s over the account. */
static int
apply_target(const struct opts *o, struct mf_settings *s)
{
	struct mf_err e;

	mf_err_clear(&e);
	if (o->target != NULL &&
	    mf_sock_split_hostport(o->target, s->host, sizeof(s->host), s->port,
	                           sizeof(s->port), &e) == -1)
		return bad_usage("HOST[:PORT]: malformed server argument");
	if (o->cli.port != NULL)
		mf_strlcpy(s->port, o->cli.port, sizeof(s->port));
	if (mf_settings_require(s, 0, &e) == -1)
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	s->tlsp.verify_name = s->tlsp.sni != NULL ? s->tlsp.sni : s->host;
	return 0;
}

/* With -v each transcript line carries the time since the start, which
 * shows where a session stalls (a silent banner, a slow AUTH). */
struct live {
	int timed;
	struct timespec start;
};

static void
live_line(void *arg, enum mf_tx_dir dir, int tls, const char *line)
{
	const struct live *lv = arg;
	struct timespec now;

	if (lv->timed) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		printf("[%6ld ms] ", (long)((now.tv_sec - lv->start.tv_sec) * 1000 +
		    (now.tv_nsec - lv->start.tv_nsec) / 1000000));
	}
	printf("%s %s\n", mf_transcript_marker(dir, tls), line);
	fflush(stdout);
}

/* --mech, else the account's or --auth's mechanism list ("auto": ours). */
static const char *
mech_list(const struct opts *o, const struct mf_settings *s)
{
	if (o->mech != NULL)
		return o->mech;
	if (s->auth != NULL && strcasecmp(s->auth, "auto") != 0 &&
	    strcasecmp(s->auth, "none") != 0)
		return s->auth;
	return NULL;
}

/* Write what a formatter made (even a partial report), then its error. */
static int
flush_report(struct mf_buf *out, int rc, const struct mf_err *e)
{
	if (out->len)
		fwrite(out->data, 1, out->len, stdout);
	mf_buf_free(out);
	if (rc == -1)
		mf_cli_msg(stderr, "smtp-auth-test", "%s", e->msg);
	return rc;
}

static int
print_report(const struct opts *o, const struct mf_diag_report *r)
{
	struct mf_buf out = MF_BUF_INIT(4 * 1024 * 1024);
	struct mf_err e;
	int rc;

	mf_err_clear(&e);
	if (o->json)
		rc = mf_diagfmt_json(r, &out, &e);
	else if (o->quiet)
		rc = mf_diagfmt_verdict(r, &out, &e);
	else
		rc = mf_diagfmt_text(r, &out, &e);
	return flush_report(&out, rc, &e);
}

static int
run(const struct opts *o, struct mf_settings *s)
{
	struct mf_diag_params p;
	struct live live = { 0 };
	struct mf_diag_report *r;
	struct mf_err e;
	int status;

	memset(&p, 0, sizeof(p));
	mf_err_clear(&e);
	mf_settings_conn(s, &p.conn);
	if (s->auth != NULL && strcasecmp(s->auth, "none") == 0)
		p.conn.cred.user = NULL;
	if (p.conn.cred.user != NULL && o->quit_after >= MF_DIAG_AUTH &&
	    mf_auth_hold(&p.conn.cred, &e) == -1)
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	p.ehlo_name = o->ehlo != NULL ? o->ehlo : s->ehlo;
	p.mechs = mech_list(o, s);
	p.quit_after = o->quit_after;
	p.from = o->from;
	p.to = o->to;
	p.show_secrets = s->show_secrets;
	if (!o->json && !o->quiet) {
		live.timed = s->verbose > 0;
		clock_gettime(CLOCK_MONOTONIC, &live.start);
		p.line_fn = live_line;
		p.line_arg = &live;
	}

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		mf_auth_release(&p.conn.cred);
		mf_err_set(&e, MF_E_NOMEM, "out of memory");
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	}
	mf_diag_report_init(r);
	if (mf_diag_run(&p, r, &e) == -1) {
		status = mf_cli_fail(stderr, "smtp-auth-test", &e);
	} else {
		status = r->exit_code;
		if (print_report(o, r) == -1 && status == 0)
			status = mf_err_kind_exit(MF_E_INTERNAL);
	}
	mf_auth_release(&p.conn.cred);
	mf_diag_report_free(r);
	free(r);
	return status;
}

static int
print_discovery(const struct opts *o, const struct mf_disc_result *r)
{
	struct mf_buf out = MF_BUF_INIT(4 * 1024 * 1024);
	struct mf_err e;
	int rc;

	mf_err_clear(&e);
	rc = o->json ? mf_discoverfmt_json(r, &out, &e) :
	    mf_discoverfmt_text(r, &out, &e);
	return flush_report(&out, rc, &e);
}

/* --discover: the user only from -u; the password only with a user. */
static int
discover(const struct opts *o, struct mf_settings *s)
{
	struct mf_disc_params p;
	struct mf_disc_result *r;
	struct mf_dns_opts dopt = { o->resolver, 3000, 2 };
	struct mf_err e;
	int status;

	memset(&p, 0, sizeof(p));
	mf_err_clear(&e);
	if ((p.dns = mf_dns_new(&dopt, &e)) == NULL)
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		mf_dns_free(p.dns);
		mf_err_set(&e, MF_E_NOMEM, "out of memory");
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	}
	mf_settings_auth(s, &p.cred);
	if (o->cli.user == NULL)
		p.cred.user = NULL;
	if (p.cred.user != NULL && mf_auth_hold(&p.cred, &e) == -1) {
		status = mf_cli_fail(stderr, "smtp-auth-test", &e);
		goto out;
	}
	p.query = o->discover;
	p.ehlo_name = o->ehlo != NULL ? o->ehlo : s->ehlo;
	p.ca_file = s->tlsp.ca_file;
	p.https_port = getenv("SMTP_AUTH_TEST_HTTPS_PORT");
	p.timeout_ms = s->timeout_ms;
	p.show_secrets = s->show_secrets;
	if (mf_discover_run(&p, r, &e) == -1)
		status = mf_cli_fail(stderr, "smtp-auth-test", &e);
	else if ((status = r->exit_code) >= 0 && print_discovery(o, r) == -1 &&
	    status == 0)
		status = mf_err_kind_exit(MF_E_INTERNAL);
out:
	mf_auth_release(&p.cred);
	mf_dns_free(p.dns);
	free(r);
	return status;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct mf_settings s;
	struct mf_err e;
	int status;

	memset(&o, 0, sizeof(o));
	o.quit_after = MF_DIAG_NSTAGES;
	if ((status = parse_args(argc, argv, &o)) != 0)
		return status < 0 ? 0 : status;
	mf_err_clear(&e);
	if (mf_cli_resolve(&o.cli, NULL, &s, &e) == -1)
		return mf_cli_fail(stderr, "smtp-auth-test", &e);
	if (o.discover != NULL)
		status = discover(&o, &s);
	else if ((status = apply_target(&o, &s)) == 0)
		status = run(&o, &s);
	mf_cli_settings_free(&s);
	fflush(stdout);
	return status;
}
