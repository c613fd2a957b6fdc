/* mailsend - compose and submit mail (RFC 5321/6409), from a shell or cron. */
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "esc.h"
#include "jsonl_send.h"
#include "queue.h"
#include "sendjob.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

enum { O_TO = MF_OPT_TOOL_BASE, O_CC, O_BCC, O_SUBJECT, O_BODY, O_HTML,
       O_ATTACH, O_HEADER, O_MESSAGE, O_NOTIFY, O_RET, O_ENVID, O_DRY,
       O_QUEUE, O_FLUSH, O_LIST, O_BATCH, O_NOCHUNK, O_NOPIPE,
       O_DKIM_KEY, O_DKIM_SEL, O_DKIM_DOM, O_DKIM_HDRS, O_PROTOCOL,
       O_PGP_SIGN, O_PGP_ENC, O_PGP_KEY, O_SMIME_SIGN, O_SMIME_CERT,
       O_SMIME_KEY, O_SMIME_ENC, O_JSONL, O_JSON };

static const char *tool = "mailsend";   /* "sendmail" in sendmail mode */

static const struct option longopts[] = {
	MF_CLI_LONGOPTS,
	MF_CLI_LOGOPTS,
	{ "from", required_argument, NULL, 'f' },
	{ "from-name", required_argument, NULL, 'F' },
	{ "read-recipients", no_argument, NULL, 't' },
	{ "to", required_argument, NULL, O_TO },
	{ "cc", required_argument, NULL, O_CC },
	{ "bcc", required_argument, NULL, O_BCC },
	{ "subject", required_argument, NULL, O_SUBJECT },
	{ "body", required_argument, NULL, O_BODY },
	{ "html", required_argument, NULL, O_HTML },
	{ "attach", required_argument, NULL, O_ATTACH },
	{ "header", required_argument, NULL, O_HEADER },
	{ "message", required_argument, NULL, O_MESSAGE },
	{ "dsn-notify", required_argument, NULL, O_NOTIFY },
	{ "dsn-ret", required_argument, NULL, O_RET },
	{ "dsn-envid", required_argument, NULL, O_ENVID },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "queue", no_argument, NULL, O_QUEUE },
	{ "flush-queue", no_argument, NULL, O_FLUSH },
	{ "list-queue", no_argument, NULL, O_LIST },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "jsonl", required_argument, NULL, O_JSONL },
	{ "no-chunking", no_argument, NULL, O_NOCHUNK },
	{ "no-pipelining", no_argument, NULL, O_NOPIPE },
	{ "protocol", required_argument, NULL, O_PROTOCOL },
	{ "dkim-key", required_argument, NULL, O_DKIM_KEY },
	{ "dkim-selector", required_argument, NULL, O_DKIM_SEL },
	{ "dkim-domain", required_argument, NULL, O_DKIM_DOM },
	{ "dkim-headers", required_argument, NULL, O_DKIM_HDRS },
	{ "pgp-sign", no_argument, NULL, O_PGP_SIGN },
	{ "pgp-encrypt", no_argument, NULL, O_PGP_ENC },
	{ "pgp-key", required_argument, NULL, O_PGP_KEY },
	{ "smime-sign", no_argument, NULL, O_SMIME_SIGN },
	{ "smime-cert", required_argument, NULL, O_SMIME_CERT },
	{ "smime-key", required_argument, NULL, O_SMIME_KEY },
	{ "smime-encrypt", required_argument, NULL, O_SMIME_ENC },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailsend [OPTIONS] [--] RECIPIENT...\n"
	    "       sendmail [-t] [-i] [-bm] [-f ADDR] [-F NAME] [RECIPIENT...]\n%s"
	    "  -f, --from ADDR           sender (envelope and From:)\n"
	    "  -F, --from-name NAME      display name of the sender\n"
	    "  -t, --read-recipients     recipients from To/Cc/Bcc (Bcc removed)\n"
	    "  -i, -oi                   a lone \".\" does not end the input\n"
	    "      --to, --cc, --bcc ADDR  recipients (repeatable)\n"
	    "      --subject TEXT        subject (UTF-8)\n"
	    "      --body TEXT|@FILE|-   the text body\n"
	    "      --html @FILE          an HTML alternative\n"
	    "      --attach FILE[;type=T][;name=N]  attachment (repeatable)\n"
	    "      --header 'Name: value'  extra header (repeatable)\n"
	    "      --message FILE|-      send a ready RFC 5322 message\n"
	    "      --dsn-notify LIST     NEVER or SUCCESS,FAILURE,DELAY\n"
	    "      --dsn-ret full|hdrs   what a bounce returns\n"
	    "      --dsn-envid ID        envelope id for DSNs\n"
	    "      --dry-run             print envelope and message, send nothing\n"
	    "      --queue               keep the message on a temporary failure\n"
	    "      --flush-queue         send the queued messages\n"
	    "      --list-queue          list the queued messages\n"
	    "      --batch DIR           send every message file in DIR\n"
	    "      --jsonl FILE|-        send one message per JSON line, report\n"
	    "                            one JSON result per line\n"
	    "      --no-chunking         use DATA even when BDAT is offered\n"
	    "      --no-pipelining       one command at a time\n"
	    "      --protocol smtp|lmtp  LMTP (RFC 2033) for a local delivery agent;\n"
	    "                            -s unix:/path for its socket\n"
	    "      --dkim-key FILE       DKIM-sign with this PEM key (RSA/Ed25519)\n"
	    "      --dkim-selector NAME  the key's selector (s=)\n"
	    "      --dkim-domain DOMAIN  signing domain (d=; default: From's)\n"
	    "      --dkim-headers LIST   header fields to sign (h=)\n"
	    "      --pgp-sign            OpenPGP/MIME signature (GnuPG keyring)\n"
	    "      --pgp-encrypt         OpenPGP/MIME encryption to every recipient\n"
	    "      --pgp-key ID          the signing key (default: From's)\n"
	    "      --smime-sign          S/MIME signature (with --smime-cert/-key)\n"
	    "      --smime-cert FILE     S/MIME certificate chain (PEM)\n"
	    "      --smime-key FILE      its private key (PEM)\n"
	    "      --smime-encrypt CERT  S/MIME-encrypt to this recipient certificate\n"
	    "                            (PEM file or directory; repeatable)\n"

	    "      --json                a JSON summary on standard output (JSON\n"
	    "                            Lines, one per message, with --batch and\n"
	    "                            --flush-queue)\n%s",
	    mf_cli_usage, mf_cli_log_usage);
}

/* The message (escaped: it may quote the server) and lib/err.c's status. */
static int
fail(const struct mf_err *e)
{
	return mf_cli_fail(stderr, tool, e);
}

/* The run's state shared by the modes' reports. */
struct run {
	struct mf_sendjob_params o;
	struct mf_settings st;
	struct mf_transcript *tr;
	struct mf_sendjob *job;
	struct mf_maillog *log;
	int list, flush, dry, queue;
	const char *batch, *protocol;
	const char *jsonl;
	int status;
	int json;                 /* --json: jbuf holds the summary so far */
	struct mf_buf jbuf;
	struct mf_json j;
	long long sent, failed, queued;
	struct timespec started;
};

static int
tool_option(struct run *r, int c, const char *arg, struct mf_err *e)
{
	struct mf_sendjob_params *o = &r->o;

	switch (c) {
	case 'f': o->from = arg; return 0;
	case 'F': o->from_name = arg; return 0;
	case 't': o->read_rcpts = 1; return 0;
	case 'i': o->dot_ok = 1; return 0;
	case 'o': mf_sendjob_sendmail_o(o, arg); return 0;
	case 'B': return 0;                       /* sendmail -B8BITMIME */
	case 'b':                                 /* sendmail's modes */
		if (strcmp(arg, "m") != 0)
			return mf_err_set(e, MF_E_USAGE, "-b%s: mode not supported "
			    "(only -bm, deliver a message)", arg);
		return 0;
	case O_TO: return mf_sendjob_push(o->to, &o->nto, arg, "--to", e);
	case O_CC: return mf_sendjob_push(o->cc, &o->ncc, arg, "--cc", e);
	case O_BCC: return mf_sendjob_push(o->bcc, &o->nbcc, arg, "--bcc", e);
	case O_HEADER:
		return mf_sendjob_push(o->hdr, &o->nhdr, arg, "--header", e);
	case O_ATTACH:
		return mf_sendjob_push(o->att, &o->natt, arg, "--attach", e);
	case O_SUBJECT: o->subject = arg; return 0;
	case O_BODY: o->body = arg; return 0;
	case O_HTML: o->html = arg; return 0;
	case O_MESSAGE: o->message = arg; return 0;
	case O_NOTIFY: o->dsn_notify = arg; return 0;
	case O_RET: o->dsn_ret = arg; return 0;
	case O_ENVID: o->envid = arg; return 0;
	case O_DRY: r->dry = 1; return 0;
	case O_QUEUE: r->queue = 1; return 0;
	case O_FLUSH: r->flush = 1; return 0;
	case O_LIST: r->list = 1; return 0;
	case O_BATCH: r->batch = arg; return 0;
	case O_JSONL: r->jsonl = arg; return 0;
	case O_NOCHUNK: o->no_chunking = 1; return 0;
	case O_NOPIPE: o->no_pipelining = 1; return 0;
	case O_DKIM_KEY: o->seal.dkim_key = arg; return 0;
	case O_DKIM_SEL: o->seal.dkim_selector = arg; return 0;
	case O_DKIM_DOM: o->seal.dkim_domain = arg; return 0;
	case O_DKIM_HDRS: o->seal.dkim_headers = arg; return 0;
	case O_PROTOCOL:
		if (!mf_config_choice("smtp|lmtp", arg))
			return mf_err_set(e, MF_E_USAGE, "--protocol: bad value "
			    "'%s' (smtp or lmtp)", arg);
		r->protocol = arg;
		return 0;
	case O_PGP_SIGN: o->seal.pgp_sign = 1; return 0;
	case O_PGP_ENC: o->seal.pgp_encrypt = 1; return 0;
	case O_PGP_KEY: o->seal.pgp_key = arg; return 0;
	case O_SMIME_SIGN: o->seal.smime_sign = 1; return 0;
	case O_SMIME_CERT: o->seal.smime_cert = arg; return 0;
	case O_SMIME_KEY: o->seal.smime_key = arg; return 0;
	case O_SMIME_ENC:
		if (o->seal.nsmime_encrypt == MF_SEAL_CERTS_MAX)
			return mf_err_set(e, MF_E_USAGE, "--smime-encrypt: more "
			    "than %d; put the certificates in a directory",
			    MF_SEAL_CERTS_MAX);
		o->seal.smime_encrypt[o->seal.nsmime_encrypt++] = arg;
		return 0;
	case O_JSON: r->json = 1; return 0;
	default: return mf_err_set(e, MF_E_USAGE, "unknown option");
	}
}

/* 0 go on, -1 done (--help, --version), else the exit status. */
static int
parse_args(int argc, char **argv, struct run *run, struct mf_cli *cli)
{
	struct mf_err e;
	int c, r;

	while ((c = mf_cli_getopt(argc, argv, MF_CLI_SHORTOPTS "f:F:tio:B:b:",
	    longopts, &e)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == 'V')
			return mf_cli_print_version(stdout, tool) - 1;
		if (c == '?' || (r = mf_cli_option(cli, c, optarg, &e)) == -1 ||
		    (r == 0 && tool_option(run, c, optarg, &e) == -1))
			return mf_cli_usage_error(stderr, tool, e.msg);
	}
	run->o.args = argv + optind;
	run->o.nargs = (size_t)(argc - optind);
	if (run->jsonl && (run->batch || run->flush || run->list || run->dry ||
	    run->o.message || run->o.nargs || run->o.read_rcpts)) {
		return mf_cli_usage_error(stderr, tool, "--jsonl takes its "
		    "messages and recipients from its input only");
	}
	if (!run->list && !run->flush && !run->batch && !run->jsonl &&
	    mf_sendjob_body_from_stdin(&run->o)) {
		/* Like mail(1): the body is standard input, to its end. */
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "%s: type the message body; end it "
			    "with Ctrl-D at the start of a line\n", tool);
		run->o.body = "-";
	}
	if (mf_sendjob_check(&run->o, &e) == -1)
		return mf_cli_usage_error(stderr, tool, e.msg);
	return 0;
}

static void
on_config_notice(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "mailsend: %s\n", msg);
}

/* ---- what the modes report ---- */

/* One log line per message (logfile / syslog); a log that cannot be
 * written is said on stderr but does not change the exit status: the
 * message's fate is already decided. */
static void
log_message(struct run *r, const struct mf_sendjob_result *res,
            const struct mf_err *why, int status, const char *queued)
{
	struct mf_maillog_line l;
	struct mf_err e;

	if (r->log == NULL)
		return;
	mf_sendjob_log_line(r->job, res, why, status, queued, &l);
	if (mf_maillog_write(r->log, &l, status != 0, &e) == -1)
		mf_cli_msg(stderr, tool, "warning: %s", e.msg);
}

/* A server's reply text, as one escaped line. */
static const char *
reply_str(char *out, size_t outlen, const char *text)
{
	char line[MF_SMTP_REPLY_TEXT_MAX];

	return mf_esc_str(out, outlen, mf_smtp_reply_line(text, line,
	    sizeof(line)));
}

/* Each recipient the server did not take, and with LMTP (or -v) each
 * recipient's own reply to the data. */
static void
print_rcpts(const struct mf_sendjob_result *res, int all)
{
	char t[MF_ESC_SIZE(MF_SMTP_REPLY_TEXT_MAX)];
	const char *enh, *text;
	enum mf_err_kind k;
	int code, data;
	size_t i;

	for (i = 0; i < res->nrcpts; i++) {
		k = mf_sendjob_rcpt_outcome(res, i, &code, &enh, &text, &data);
		if (k == MF_OK && !(all && data))
			continue;
		if (k != MF_OK)
			fprintf(stderr, "%s: ", tool);
		fprintf(k == MF_OK ? stdout : stderr, "<%s> %s: %d %s%s%s\n",
		    res->rcpts[i], k == MF_OK ? "delivered" : data ?
		    "not delivered" : "refused", code, enh, enh[0] ? " " : "",
		    reply_str(t, sizeof(t), text));
	}
}

static void
print_result(const char *what, const struct mf_sendjob_result *res)
{
	const struct mf_smtp_reply *f = &res->smtp.final;
	char t[MF_ESC_SIZE(MF_SMTP_REPLY_TEXT_MAX)];

	printf("%s: sent: %d %s%s%s\n", what, f->code, f->enhanced,
	    f->enhanced[0] ? " " : "", reply_str(t, sizeof(t), f->text));
}

/* --json: one message's record; a line of its own when the mode streams
 * (--batch, --flush-queue), else inside the summary's "results". */
static void
json_message(struct run *r, const char *id, const struct mf_sendjob_result *res,
             const char *status, int exit_status, const struct mf_err *e)
{
	struct mf_buf line = MF_BUF_INIT(1 << 20);
	struct mf_json j;

	r->sent += strcmp(status, "sent") == 0;
	r->queued += strcmp(status, "queued") == 0;
	r->failed += strcmp(status, "failed") == 0 ||
	    strcmp(status, "deferred") == 0;
	if (!r->json)
		return;
	if (r->batch == NULL && !r->flush) {
		mf_sendjob_json(&r->j, id, res, status, exit_status, e);
		return;
	}
	mf_json_init(&j, &line);
	mf_sendjob_json(&j, id, res, status, exit_status, e);
	printf("%s\n", line.data ? line.data : "{}");
	fflush(stdout);
	mf_buf_free(&line);
}

static void
batch_report(void *arg, const char *path, const struct mf_sendjob_result *res,
             int status, const struct mf_err *e)
{
	struct run *r = arg;
	char m[MF_ESC_SIZE(MF_ERR_MSG_MAX)];

	(void)status;
	json_message(r, path, res, res != NULL ? "sent" : "failed",
	    res != NULL ? 0 : mf_err_exit_code(e), e);
	if (res != NULL) {
		print_rcpts(res, 0);
		if (!r->json)
			print_result(path, res);
		log_message(r, res, NULL, 0, NULL);
	} else {
		if (!r->json)
			printf("%s: failed (%d): %s\n", path,
			    mf_err_exit_code(e), mf_esc_str(m, sizeof(m), e->msg));
		r->status = mf_err_exit_code(e);
		log_message(r, NULL, e, r->status, NULL);
	}
	fflush(stdout);
}

static void
flush_report(void *arg, const char *id, const struct mf_sendjob_result *res,
             int status, const struct mf_err *e)
{
	struct run *r = arg;
	char m[MF_ESC_SIZE(MF_ERR_MSG_MAX)];

	log_message(arg, res, e, res != NULL ? 0 : status, NULL);
	json_message(r, id, res, res != NULL ? "sent" : status == EX_TEMPFAIL ?
	    "deferred" : "failed", res != NULL ? 0 : status, e);
	if (res != NULL) {
		print_rcpts(res, 0);
		if (!r->json)
			print_result(id, res);
	} else if (!r->json) {
		printf("%s: %s (%d): %s\n", id, status == EX_TEMPFAIL ?
		    "deferred" : "failed", status, mf_esc_str(m, sizeof(m),
		    e->msg));
	}
}

static void
show_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

/* What signing did (under -v) or a warning (always). */
static void
seal_note(void *arg, int warning, const char *text)
{
	const struct run *r = arg;

	if (warning)
		fprintf(stderr, "mailsend: warning: %s\n", text);
	else if (r->st.verbose)
		fprintf(stderr, "mailsend: %s\n", text);
}

/* ---- modes ---- */

static int
dry_run(struct run *r)
{
	struct mf_buf out = MF_BUF_INIT(MF_SENDJOB_MSG_MAX + ((size_t)1 << 20));
	struct mf_err e;

	if (mf_sendjob_dry_run(r->job, &out, &e) == -1) {
		mf_buf_free(&out);
		return fail(&e);
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	mf_buf_free(&out);
	return 0;
}

static int
enqueue(struct run *r, const struct mf_err *why)
{
	struct mf_err e;
	char id[96], dir[1024], m[MF_ESC_SIZE(MF_ERR_MSG_MAX)];

	if (mf_sendjob_enqueue(r->job, id, sizeof(id), dir, sizeof(dir),
	    &e) == -1) {
		log_message(r, NULL, why, mf_err_exit_code(&e), NULL);
		return fail(&e);
	}
	log_message(r, NULL, why, EX_TEMPFAIL, id);
	json_message(r, id, NULL, "queued", 0, why);
	fprintf(stderr, "%s: %s; queued as %s in %s\n", tool,
	    mf_esc_str(m, sizeof(m), why->msg), id, dir);
	return 0;
}

static int
single(struct run *r)
{
	struct mf_sendjob_result res;
	struct mf_err e;
	int lmtp, worst;

	if (mf_sendjob_prepare(r->job, &e) == -1) {
		if (!r->dry)
			log_message(r, NULL, &e, mf_err_exit_code(&e), NULL);
		return fail(&e);
	}
	if (r->dry)
		return dry_run(r);
	if (mf_sendjob_send(r->job, &res, &e) == 0) {
		/* LMTP: every recipient is a delivery of its own; the worst
		 * decides (SMTP: the server took the message for those it
		 * accepted, so it is sent). */
		lmtp = mf_sendjob_is_lmtp(&r->st);
		worst = mf_sendjob_exit(&res, lmtp);
		print_rcpts(&res, (lmtp || r->st.verbose) && !r->json);
		log_message(r, &res, NULL, 0, NULL);
		json_message(r, "-", &res, "sent", worst, NULL);
		if (r->st.verbose)
			print_result("message", &res);
		return worst;
	}
	if (r->queue && mf_err_exit_code(&e) == EX_TEMPFAIL)
		return enqueue(r, &e);
	log_message(r, NULL, &e, mf_err_exit_code(&e), NULL);
	json_message(r, "-", NULL, "failed", mf_err_exit_code(&e), &e);
	return fail(&e);
}

static void
jsonl_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* --jsonl's last line: the one summary shape (mailflow(7)) with the
 * counts of lib/jsonl_send.h. */
static void
jsonl_summary(struct run *r, const struct mf_jsonl_stats *st,
              const struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(65536);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_cli_json_begin(&j, "mailsend");
	mf_json_kv_int(&j, "lines", (long long)st->lines);
	mf_json_kv_int(&j, "sent", (long long)st->sent);
	mf_json_kv_int(&j, "failed", (long long)st->failed);
	mf_json_kv_int(&j, "deferred", (long long)st->deferred);
	mf_json_kv_int(&j, "queued", (long long)st->queued);
	mf_json_kv_int(&j, "invalid", (long long)st->invalid);
	mf_cli_json_end(&j, r->status, mf_cli_elapsed_ms(&r->started),
	    r->status != 0 ? e : NULL);
	jsonl_line(r, b.data ? b.data : "{}", b.data ? b.len : 2);
	mf_buf_free(&b);
}

/* 0 when every line was sent or queued; else the status of the first
 * message that was not (lib/jsonl_send.h), else 65 for invalid lines. */
static int
jsonl_mode(struct run *r)
{
	struct mf_jsonl_params p;
	struct mf_jsonl_stats st;
	struct mf_err e;
	FILE *in = strcmp(r->jsonl, "-") == 0 ? stdin : fopen(r->jsonl, "r");

	if (in == NULL) {
		mf_cli_msg(stderr, tool, "--jsonl %s: %s", r->jsonl,
		    strerror(errno));
		return EX_DATAERR;
	}
	memset(&p, 0, sizeof(p));
	p.from = r->o.from ? r->o.from : r->st.from;
	p.from_name = r->o.from_name;
	p.queue = r->queue;
	memset(&st, 0, sizeof(st));
	mf_err_clear(&e);
	if (mf_jsonl_send(r->job, in, &p, jsonl_line, r, &st, &e) == -1) {
		r->status = fail(&e);
	} else if (st.first.kind != MF_OK) {
		e = st.first;
		r->status = mf_err_exit_code(&e);
	} else if (st.invalid > 0) {
		mf_err_set(&e, MF_E_DATA, "%lu invalid line(s)", st.invalid);
		r->status = EX_DATAERR;
	}
	jsonl_summary(r, &st, &e);
	if (in != stdin)
		fclose(in);
	return r->status;
}

static int
run_mode(struct run *r)
{
	struct mf_queue_stats qs;
	struct mf_err e;

	if (r->list)
		return mf_sendjob_list(r->job, show_line, r, &e) == -1 ?
		    fail(&e) : 0;
	if (r->flush)
		return mf_sendjob_flush(r->job, flush_report, r, &qs, &e) == -1 ?
		    fail(&e) : qs.last_status;
	if (r->jsonl)
		return jsonl_mode(r);
	if (r->batch) {
		if (mf_sendjob_batch(r->job, r->batch, batch_report, r, &e) == -1)
			r->status = fail(&e);
		return r->status;
	}
	return single(r);
}

/* --json: the summary, always the last line. */
static void
json_summary(struct run *r, int rc, const struct mf_err *e)
{
	if (!r->json)
		return;
	if (r->batch == NULL && !r->flush)
		mf_json_array_end(&r->j);
	mf_json_kv_int(&r->j, "sent", r->sent);
	mf_json_kv_int(&r->j, "queued", r->queued);
	mf_json_kv_int(&r->j, "failed", r->failed);
	mf_cli_json_end(&r->j, rc, mf_cli_elapsed_ms(&r->started),
	    rc != 0 ? e : NULL);
	printf("%s\n", r->jbuf.data ? r->jbuf.data : "{}");
	mf_buf_free(&r->jbuf);
}

static void
json_start(struct run *r)
{
	mf_buf_init(&r->jbuf, 16 << 20);
	mf_json_init(&r->j, &r->jbuf);
	mf_cli_json_begin(&r->j, "mailsend");
	if (r->batch == NULL && !r->flush) {
		mf_json_key(&r->j, "results");
		mf_json_array_begin(&r->j);
	}
}

int
main(int argc, char **argv)
{
	static struct run r;
	struct mf_cli cli;
	struct mf_err e;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &r.started);
	mf_err_clear(&e);

	memset(&cli, 0, sizeof(cli));
	cli.peer = MF_CONFIG_PEER_MSMTP;
	cli.notice = on_config_notice;
	r.o.sendmail = mf_sendjob_is_sendmail(argv[0]);
	r.o.note = seal_note;
	r.o.note_arg = &r;
	if (r.o.sendmail)
		tool = "sendmail";
	if ((rc = parse_args(argc, argv, &r, &cli)) != 0)
		return rc == -1 ? 0 : rc;
	if (r.json && (r.dry || r.list || r.jsonl))
		return mf_cli_usage_error(stderr, tool, "--json: not with "
		    "--dry-run, --list-queue or --jsonl");
	if (r.json)
		json_start(&r);
	rc = mf_cli_resolve(&cli, NULL, &r.st, &e);
	if (rc == 0 && r.protocol != NULL)
		r.st.protocol = r.protocol;
	if (rc == -1 || mf_sendjob_settle(&r.st, !r.dry && !r.list, &e) == -1) {
		rc = fail(&e);
		json_summary(&r, rc, &e);
		return rc;
	}
	mf_cli_warn_insecure(stderr, tool, &r.st);
	if (r.st.verbose)
		r.tr = mf_transcript_new(stderr, (r.st.show_secrets ?
		    MF_TX_SHOW_SECRETS : 0) | (r.st.verbose > 1 ?
		    MF_TX_TIMESTAMPS : 0));
	r.log = mf_cli_maillog(&r.st, "mailsend", &e);
	if (r.log == NULL && e.kind != MF_OK) {
		rc = fail(&e);
		json_summary(&r, rc, &e);
		return rc;
	}
	mf_err_clear(&e);
	r.job = mf_sendjob_new(&r.o, &r.st, r.tr, &e);
	rc = r.job ? run_mode(&r) : fail(&e);
	json_summary(&r, rc, r.job ? NULL : &e);
	mf_sendjob_free(r.job);
	mf_maillog_close(r.log);
	mf_transcript_free(r.tr);
	mf_cli_settings_free(&r.st);
	return rc;
}
