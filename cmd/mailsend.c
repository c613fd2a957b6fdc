/* mailsend - compose and submit mail (RFC 5321/6409), from a shell or cron. */
#include "buf.h"
#include "cli.h"
#include "err.h"
#include "mime.h"
#include "queue.h"
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define LIST_MAX 256
#define MSG_MAX ((size_t)256 << 20)

enum { O_TO = MF_OPT_TOOL_BASE, O_CC, O_BCC, O_SUBJECT, O_BODY, O_HTML,
       O_ATTACH, O_HEADER, O_MESSAGE, O_NOTIFY, O_RET, O_ENVID, O_DRY,
       O_QUEUE, O_FLUSH, O_LIST, O_BATCH, O_NOCHUNK, O_NOPIPE, O_HELP };

static const struct option longopts[] = {
	MF_CLI_LONGOPTS,
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
	{ "no-chunking", no_argument, NULL, O_NOCHUNK },
	{ "no-pipelining", no_argument, NULL, O_NOPIPE },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char *to[LIST_MAX], *cc[LIST_MAX], *bcc[LIST_MAX];
	const char *hdr[LIST_MAX], *att[LIST_MAX];
	size_t nto, ncc, nbcc, nhdr, natt;
	const char *subject, *body, *html, *message, *from, *from_name;
	const char *notify, *ret, *envid, *batch;
	int t, i, dry, queue, flush, list, nochunk, nopipe, sendmail;
	char *const *args;
	int nargs;
};

/* The run's state shared by the modes. */
struct run {
	struct opts *o;
	struct mf_settings st;
	struct mf_transcript *tr;
	struct mf_smtp_client *client;
	struct mf_rcpts rcpts;
	char session_file[1100];
	int status;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailsend [OPTIONS] [--] RECIPIENT...\n"
	    "       sendmail [-t] [-i] [-f ADDR] [-F NAME] [RECIPIENT...]\n%s"
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
	    "      --no-chunking         use DATA even when BDAT is offered\n"
	    "      --no-pipelining       one command at a time\n"
	    "      --help                this text\n", mf_cli_usage);
}

/* The fixed statuses of mailsend(1): 0 64 65 69 75 76 77 78. */
static int
exit_for(const struct mf_err *e)
{
	switch (e->kind) {
	case MF_E_IO:
		return EX_DATAERR;
	case MF_E_NOMEM:
		return EX_TEMPFAIL;
	case MF_E_INTERNAL:
		return EX_UNAVAILABLE;
	default:
		return mf_err_exit_code(e);
	}
}

static int
fail(const struct mf_err *e)
{
	fprintf(stderr, "mailsend: %s\n", e->msg);
	return exit_for(e);
}

static int
push(const char **v, size_t *n, const char *s, const char *what)
{
	if (*n >= LIST_MAX) {
		fprintf(stderr, "mailsend: too many %s options\n", what);
		return -1;
	}
	v[(*n)++] = s;
	return 0;
}

static int
tool_option(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'f': o->from = arg; return 0;
	case 'F': o->from_name = arg; return 0;
	case 't': o->t = 1; return 0;
	case 'i': o->i = 1; return 0;
	case 'o': if (strcmp(arg, "i") == 0) o->i = 1; return 0; /* -oi; -oem ... ignored */
	case 'B': return 0;                       /* sendmail -B8BITMIME */
	case O_TO: return push(o->to, &o->nto, arg, "--to");
	case O_CC: return push(o->cc, &o->ncc, arg, "--cc");
	case O_BCC: return push(o->bcc, &o->nbcc, arg, "--bcc");
	case O_HEADER: return push(o->hdr, &o->nhdr, arg, "--header");
	case O_ATTACH: return push(o->att, &o->natt, arg, "--attach");
	case O_SUBJECT: o->subject = arg; return 0;
	case O_BODY: o->body = arg; return 0;
	case O_HTML: o->html = arg; return 0;
	case O_MESSAGE: o->message = arg; return 0;
	case O_NOTIFY: o->notify = arg; return 0;
	case O_RET: o->ret = arg; return 0;
	case O_ENVID: o->envid = arg; return 0;
	case O_DRY: o->dry = 1; return 0;
	case O_QUEUE: o->queue = 1; return 0;
	case O_FLUSH: o->flush = 1; return 0;
	case O_LIST: o->list = 1; return 0;
	case O_BATCH: o->batch = arg; return 0;
	case O_NOCHUNK: o->nochunk = 1; return 0;
	case O_NOPIPE: o->nopipe = 1; return 0;
	case O_HELP: usage(stdout); exit(0);
	default: return -1;
	}
}

static int
parse_args(int argc, char **argv, struct opts *o, struct mf_cli *cli)
{
	struct mf_err e;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, MF_CLI_SHORTOPTS "f:F:tio:B:",
	    longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			fprintf(stderr, "mailsend: bad or incomplete option '%s'\n",
			    argv[optind - 1]);
			return EX_USAGE;
		}
		r = mf_cli_option(cli, c, optarg, &e);
		if (r == -1)
			return fail(&e);
		if (r == 0 && tool_option(o, c, optarg) == -1)
			return EX_USAGE;
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->ret && strcasecmp(o->ret, "full") && strcasecmp(o->ret, "hdrs")) {
		fprintf(stderr, "mailsend: --dsn-ret must be full or hdrs\n");
		return EX_USAGE;
	}
	return 0;
}

/* ---- recipients, sender, message ---- */

static int
option_rcpts(struct run *r, struct mf_err *e)
{
	const struct opts *o = r->o;
	const char *const *lists[] = { o->to, o->cc, o->bcc,
	    (const char *const *)o->args };
	size_t n[] = { o->nto, o->ncc, o->nbcc, (size_t)o->nargs }, i, k;

	for (k = 0; k < 4; k++)
		for (i = 0; i < n[k]; i++)
			if (mf_rcpts_add_list(&r->rcpts, lists[k][i], e) == -1)
				return -1;
	return 0;
}

/* Envelope sender: -f, the account's from, else the message's From:. */
static int
sender(struct run *r, const char *msg, size_t len, char *out, size_t outlen,
       struct mf_err *e)
{
	char v[1024], name[512];
	const char *f = r->o->from ? r->o->from : r->st.from;

	if (f == NULL && msg != NULL && mf_mime_header_get(msg, len, "From", v,
	    sizeof(v)) == 0)
		f = v;
	if (f == NULL)
		return mf_err_set(e, MF_E_USAGE, "no sender: give -f ADDR or "
		    "set from in the account");
	return mf_mime_parse_address(f, name, sizeof(name), out, outlen, e);
}

static int
body_arg(const char *a, char **out, size_t *len, struct mf_err *e)
{
	if (strcmp(a, "-") == 0 || a[0] == '@')
		return mf_queue_read_file(a[0] == '@' ? a + 1 : a, MSG_MAX, out,
		    len, e);
	*len = strlen(a);
	return (*out = strdup(a)) ? 0 : mf_err_set(e, MF_E_NOMEM, "memory");
}

static int
compose(struct run *r, const char *from, struct mf_buf *out, struct mf_err *e)
{
	const struct opts *o = r->o;
	struct mf_mime_compose c;
	struct mf_mime_attachment att[LIST_MAX];
	char specs[LIST_MAX][1024], *text = NULL, *html = NULL;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.from = o->from ? o->from : from;
	c.from_name = o->from_name;
	c.to = o->nto ? o->to : (const char *const *)o->args;
	c.nto = o->nto ? o->nto : (size_t)o->nargs;
	c.cc = o->cc;
	c.ncc = o->ncc;
	c.subject = o->subject;
	c.headers = o->hdr;
	c.nheaders = o->nhdr;
	for (i = 0; i < o->natt; i++)
		if (mf_mime_parse_attach_spec(o->att[i], specs[i], sizeof(specs[i]),
		    &att[i], e) == -1)
			return -1;
	c.att = att;
	c.natt = o->natt;
	if ((o->body && body_arg(o->body, &text, &c.text_len, e) == -1) ||
	    (o->html && body_arg(o->html, &html, &c.html_len, e) == -1))
		goto out;
	c.text = text;
	c.html = html;
	rc = mf_mime_compose(&c, out, e);
out:
	free(text);
	free(html);
	return rc;
}

/* A ready message from a file or stdin: Bcc removed, Date and Message-ID
 * added when missing; recipients from its header with -t (or when none
 * were given). */
static int
ready_message(struct run *r, const char *path, struct mf_buf *out,
              struct mf_err *e)
{
	char *m;
	size_t len;
	int rc;

	if (mf_queue_read_file(path, MSG_MAX, &m, &len, e) == -1)
		return -1;
	if (r->o->sendmail && !r->o->i && strcmp(path, "-") == 0)
		len = mf_mime_sendmail_cut(m, len);
	rc = (r->o->t || r->rcpts.n == 0) ?
	    mf_rcpts_add_header(&r->rcpts, m, len, e) : 0;
	if (rc == 0) {
		struct mf_err ign;
		char addr[512];
		const char *at = sender(r, NULL, 0, addr, sizeof(addr), &ign)
		    == 0 ? strrchr(addr, '@') : NULL;
		rc = mf_mime_prepare(m, len, at ? at + 1 : NULL, out, e);
	}
	free(m);
	return rc;
}

/* ---- sending ---- */

static int
get_secret(void *arg, struct mf_secret *out, struct mf_err *e)
{
	return mf_cli_password(arg, out, e);
}

static int
new_client(struct run *r, struct mf_err *e)
{
	struct mf_settings *st = &r->st;
	struct mf_smtp_client_params p;

	memset(&p, 0, sizeof(p));
	p.smtp.host = st->host;
	p.smtp.port = st->port;
	p.smtp.tls = st->tls;
	p.smtp.tlsp = st->tlsp;
	if (r->session_file[0])
		p.smtp.tlsp.session_file = r->session_file;
	p.smtp.ehlo_name = st->ehlo;
	p.smtp.tr = r->tr;
	p.smtp.timeout_ms = st->timeout_ms;
	p.smtp.sock.connect_timeout_ms = st->timeout_ms;
	p.auth = !(st->auth && strcasecmp(st->auth, "none") == 0) &&
	    (st->user != NULL || (st->auth && strcasecmp(st->auth, "auto")));
	p.auth_want = st->auth;
	p.user = st->user;
	p.secret = get_secret;
	p.secret_arg = st;
	p.no_chunking = r->o->nochunk;
	p.no_pipelining = r->o->nopipe;
	r->client = mf_smtp_client_new(&p, e);
	return r->client ? 0 : -1;
}

static int
send_one(struct run *r, const char *from, const char *msg, size_t len,
         struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_smtp_envelope env;

	memset(&env, 0, sizeof(env));
	env.from = from;
	env.rcpts = (const char *const *)r->rcpts.v;
	env.nrcpts = r->rcpts.n;
	env.dsn_notify = r->o->notify;
	env.dsn_ret = r->o->ret;
	env.envid = r->o->envid;
	env.eightbit = mf_smtp_message_8bit(msg, len);
	env.smtputf8 = mf_rcpts_need_utf8(&r->rcpts, from);
	static struct mf_smtp_rcpt_result rr[MF_RCPTS_MAX];
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->rcpt = rr;
	if (r->client == NULL && new_client(r, e) == -1)
		return -1;
	rc = mf_smtp_client_send(r->client, &env, msg, len, res, e);
	for (i = 0; rc == 0 && i < env.nrcpts; i++)
		if (rr[i].code != 250 && rr[i].code != 251)
			fprintf(stderr, "mailsend: <%s> refused: %d %s%s%s\n",
			    env.rcpts[i], rr[i].code, rr[i].enhanced,
			    rr[i].enhanced[0] ? " " : "", rr[i].text);
	return rc;
}

static struct mf_queue *
open_queue(struct run *r, struct mf_err *e)
{
	return mf_queue_open_default(r->st.queue, e);
}

static const char *
account(const struct run *r)
{
	return r->st.acct ? r->st.acct->name : "";
}

static int
enqueue(struct run *r, const char *from, const struct mf_buf *m,
        const struct mf_err *why)
{
	struct mf_queue *q;
	struct mf_err e;
	char id[96];
	int rc;

	if ((q = open_queue(r, &e)) == NULL)
		return fail(&e);
	rc = mf_queue_add_message(q, account(r), from, r->rcpts.v, r->rcpts.n,
	    r->o->notify, r->o->ret, m->data, m->len, id, sizeof(id), &e);
	if (rc == 0)
		fprintf(stderr, "mailsend: %s; queued as %s in %s\n", why->msg,
		    id, mf_queue_path(q));
	mf_queue_close(q);
	return rc == -1 ? fail(&e) : 0;
}

static void
print_result(const char *what, const struct mf_smtp_result *res)
{
	printf("%s: sent: %d %s%s%s\n", what, res->final.code,
	    res->final.enhanced, res->final.enhanced[0] ? " " : "",
	    res->final.text);
}

/* ---- modes ---- */

static int
dry_run(struct run *r, const char *from, const struct mf_buf *m)
{
	size_t i;

	printf("MAIL FROM:<%s>\n", from);
	for (i = 0; i < r->rcpts.n; i++)
		printf("RCPT TO:<%s>\n", r->rcpts.v[i]);
	printf("\n");
	fwrite(m->data, 1, m->len, stdout);
	return 0;
}

static int
single(struct run *r)
{
	struct mf_buf m = MF_BUF_INIT(MSG_MAX);
	struct mf_smtp_result res;
	struct mf_err e;
	char from[512];
	const struct opts *o = r->o;
	int ready = o->message || o->t || o->sendmail || !(o->subject ||
	    o->body || o->html || o->natt || o->nhdr || o->nto);
	int rc;

	if (option_rcpts(r, &e) == -1)
		return fail(&e);
	if (ready ? ready_message(r, o->message ? o->message : "-", &m, &e)
	    : (sender(r, NULL, 0, from, sizeof(from), &e) == -1 ? -1 :
	    compose(r, from, &m, &e)))
		goto failed;
	if (sender(r, m.data, m.len, from, sizeof(from), &e) == -1 ||
	    (ready && mf_mime_add_from(&m, o->from_name, from, &e) == -1))
		goto failed;
	if (r->rcpts.n == 0) {
		mf_err_set(&e, MF_E_USAGE, "no recipients");
		goto failed;
	}
	if (o->dry) {
		rc = dry_run(r, from, &m);
		mf_buf_free(&m);
		return rc;
	}
	if (send_one(r, from, m.data, m.len, &res, &e) == 0) {
		if (r->st.verbose)
			print_result("message", &res);
		mf_buf_free(&m);
		return 0;
	}
	if (o->queue && exit_for(&e) == EX_TEMPFAIL) {
		rc = enqueue(r, from, &m, &e);
		mf_buf_free(&m);
		return rc;
	}
failed:
	mf_buf_free(&m);
	return fail(&e);
}

static int
batch_file(void *arg, const char *path)
{
	struct run *r = arg;
	struct mf_buf m = MF_BUF_INIT(MSG_MAX);
	struct mf_smtp_result res;
	struct mf_err e;
	char from[512];

	mf_rcpts_clear(&r->rcpts);
	if (option_rcpts(r, &e) == -1 || ready_message(r, path, &m, &e) == -1 ||
	    sender(r, m.data, m.len, from, sizeof(from), &e) == -1 ||
	    send_one(r, from, m.data, m.len, &res, &e) == -1) {
		printf("%s: failed (%d): %s\n", path, exit_for(&e), e.msg);
		r->status = exit_for(&e);
	} else {
		print_result(path, &res);
	}
	fflush(stdout);
	mf_buf_free(&m);
	return 0;
}

static int
flush_send(void *arg, const struct mf_queue_entry *ent, struct mf_err *e)
{
	struct run *r = arg;
	struct mf_smtp_result res;
	size_t i;

	mf_rcpts_clear(&r->rcpts);
	for (i = 0; i < ent->nrcpts; i++)
		if (mf_rcpts_add(&r->rcpts, ent->rcpts[i], e) == -1)
			return -1;
	if (send_one(r, ent->from, ent->msg, ent->len, &res, e) == 0) {
		print_result(ent->id, &res);
		return 0;
	}
	/* Unreachable: keep the rest for the next flush. */
	return mf_smtp_client_connected(r->client) ? -1 : -2;
}

static void
flush_report(void *arg, const struct mf_queue_entry *ent, int status,
             const struct mf_err *e)
{
	(void)arg;
	if (status != 0)
		printf("%s: %s (%d): %s\n", ent->id, status == EX_TEMPFAIL ?
		    "deferred" : "failed", status, e->msg);
}

static int
flush_queue(struct run *r)
{
	struct mf_queue *q;
	struct mf_queue_stats qs;
	struct mf_err e;
	int rc;

	if ((q = open_queue(r, &e)) == NULL)
		return fail(&e);
	rc = mf_queue_flush(q, account(r), flush_send, flush_report, r, &qs, &e);
	mf_queue_close(q);
	return rc == -1 ? fail(&e) : qs.last_status;
}

static int
show_entry(void *arg, const struct mf_queue_entry *ent)
{
	char line[4096];

	(void)arg;
	mf_queue_format_entry(ent, line, sizeof(line));
	printf("%s\n", line);
	return 0;
}

static int
list_queue(struct run *r)
{
	struct mf_queue *q;
	struct mf_err e;
	int rc;

	if ((q = open_queue(r, &e)) == NULL)
		return fail(&e);
	rc = mf_queue_list(q, show_entry, NULL, &e);
	mf_queue_close(q);
	return rc == -1 ? fail(&e) : 0;
}

/* Defaults: implicit TLS on 465, else STARTTLS required on 587; a TLS
 * session cache per account under the state directory. */
static int
settle(struct run *r, struct mf_err *e)
{
	struct mf_settings *st = &r->st;

	if (st->port[0] == '\0')
		mf_strlcpy(st->port, st->tls == MF_TLS_IMPLICIT ? "465" : "587",
		    sizeof(st->port));
	if (st->tls == MF_TLS_UNSET)
		st->tls = strcmp(st->port, "465") == 0 ? MF_TLS_IMPLICIT :
		    MF_TLS_STARTTLS;
	if (st->tls == MF_TLS_AUTO)
		st->tls = MF_TLS_STARTTLS;
	if (st->host[0] == '\0' && !r->o->dry && !r->o->list)
		return mf_err_set(e, MF_E_CONFIG, "no server: give -s HOST or "
		    "set host in the configuration file");
	if (st->tlsp.insecure)
		fprintf(stderr, "mailsend: WARNING: --insecure: the server's "
		    "certificate is NOT verified\n");
	if (st->tls != MF_TLS_NONE && mf_queue_state_file("tls-session-smtp",
	    st->acct ? st->acct->name : st->host, r->session_file,
	    sizeof(r->session_file)) == -1)
		r->session_file[0] = '\0';
	return 0;
}

int
main(int argc, char **argv)
{
	static struct opts o;
	static struct run r;
	struct mf_cli cli;
	struct mf_err e;
	const char *base = strrchr(argv[0], '/');
	int rc;

	memset(&cli, 0, sizeof(cli));
	o.sendmail = strcmp(base ? base + 1 : argv[0], "sendmail") == 0;
	if ((rc = parse_args(argc, argv, &o, &cli)) != 0)
		return rc;
	r.o = &o;
	if (mf_cli_resolve(&cli, NULL, &r.st, &e) == -1 || settle(&r, &e) == -1)
		return fail(&e);
	if (r.st.verbose)
		r.tr = mf_transcript_new(stderr, (r.st.show_secrets ?
		    MF_TX_SHOW_SECRETS : 0) | (r.st.verbose > 1 ?
		    MF_TX_TIMESTAMPS : 0));
	if (o.list)
		rc = list_queue(&r);
	else if (o.flush)
		rc = flush_queue(&r);
	else if (o.batch) {
		if (mf_queue_scan_dir(o.batch, batch_file, &r, &e) == -1)
			r.status = fail(&e);
		rc = r.status;
	} else
		rc = single(&r);
	mf_smtp_client_free(r.client);
	mf_rcpts_clear(&r.rcpts);
	mf_transcript_free(r.tr);
	mf_cli_settings_free(&r.st);
	return rc;
}
