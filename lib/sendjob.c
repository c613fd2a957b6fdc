/* sendjob.c - mailsend's modes: one message, a directory, the queue. */
#include "sendjob.h"
#include "crypto.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aliases.h"
#include "mime.h"
#include "settings.h"
#include "tlsport.h"

#define SPEC_MAX 1024

struct mf_sendjob {
	const struct mf_sendjob_params *p;
	const struct mf_settings *st;
	struct mf_transcript *tr;
	struct mf_smtp_client *client;
	struct mf_rcpts rcpts;
	struct mf_smtp_rcpt_result rr[MF_RCPTS_MAX];
	struct mf_buf msg;             /* the prepared message */
	struct mf_seal_params sealp;   /* the options over the account */
	struct mf_seal *seal;          /* made by the first message */
	struct mf_aliases *aliases;    /* loaded at the first local name */
	char from[512];                /* its envelope sender */
	char sent_from[512];           /* of the last message sent (log) */
	size_t sent_len;
	int sent;
	char session_file[1100];
	/* DSN of the prepared message (mf_sendjob_set_message), else the
	 * options' */
	char notify[64], ret[8], envid[128];
	int own_dsn;
};

/* A session is only resumed by a connection to the same host, port and
 * SNI name, with the same trust settings and client certificate as the
 * one that verified it (a session from the verified submission port must
 * not stand in for another port's expired or wrong-name certificate). */
int
mf_sendjob_session_key(const struct mf_settings *st, char *out,
                       size_t outlen)
{
	const struct mf_tls_params *t = &st->tlsp;
	struct mf_buf b = MF_BUF_INIT(16384);
	unsigned char md[32];
	char hex[65];
	int r;

	r = mf_buf_printf(&b, NULL, "%s\n%s\n%d\n%s\n%s\n%s\n%d\n%s\n%s\n%s",
	    st->host, st->port, (int)st->tls, t->sni ? t->sni : "",
	    t->ca_file ? t->ca_file : "", t->fingerprint ? t->fingerprint : "",
	    t->insecure, t->cert_file ? t->cert_file : "",
	    t->key_file ? t->key_file : "", t->verify_name ? t->verify_name : "");
	if (r == 0)
		r = mf_hash(MF_SHA256, b.data, b.len, md, NULL);
	mf_buf_free(&b);
	if (r == -1 || outlen < 33)
		return -1;
	mf_hex(md, sizeof(md), hex);
	hex[32] = '\0';
	mf_strlcpy(out, hex, outlen);
	return 0;
}

int
mf_sendjob_push(const char **v, size_t *n, const char *s, const char *what,
                struct mf_err *e)
{
	if (*n >= MF_SENDJOB_LIST_MAX)
		return mf_err_set(e, MF_E_USAGE, "too many %s options", what);
	v[(*n)++] = s;
	return 0;
}

void
mf_sendjob_sendmail_o(struct mf_sendjob_params *p, const char *arg)
{
	if (strcmp(arg, "i") == 0)
		p->dot_ok = 1;
}

int
mf_sendjob_is_sendmail(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return strcmp(base ? base + 1 : argv0, "sendmail") == 0;
}

int
mf_sendjob_check(const struct mf_sendjob_params *p, struct mf_err *e)
{
	/* RFC 3461 §4.3: RET=FULL or RET=HDRS. */
	if (p->dsn_ret && strcasecmp(p->dsn_ret, "full") &&
	    strcasecmp(p->dsn_ret, "hdrs"))
		return mf_err_set(e, MF_E_USAGE, "--dsn-ret must be full or "
		    "hdrs");
	return 0;
}

int
mf_sendjob_settle(struct mf_settings *st, int need_host, struct mf_err *e)
{
	if (st->protocol != NULL && !mf_config_choice("smtp|lmtp", st->protocol))
		return mf_err_set(e, MF_E_CONFIG, "protocol: bad value '%s' "
		    "(smtp or lmtp)", st->protocol);
	/* A local socket needs no TLS and has no port. */
	if (mf_sock_unix_path(st->host) != NULL && st->tls == MF_TLS_UNSET)
		st->tls = MF_TLS_NONE;
	/* LMTP has no standard port; 24 is the one IANA lists for it. */
	if (st->port[0] == '\0' && mf_sendjob_is_lmtp(st))
		mf_strlcpy(st->port, "24", sizeof(st->port));
	/* RFC 8314 §3.3: implicit TLS on 465; 587 is submission with
	 * STARTTLS (RFC 6409), which we require rather than hope for. */
	if (st->port[0] == '\0')
		mf_strlcpy(st->port, st->tls == MF_TLS_IMPLICIT ? "465" : "587",
		    sizeof(st->port));
	if (st->tls == MF_TLS_UNSET)
		st->tls = strcmp(st->port, "465") == 0 ? MF_TLS_IMPLICIT :
		    MF_TLS_STARTTLS;
	if (st->tls == MF_TLS_AUTO)
		st->tls = mf_tlsport_auto(st->port);
	return need_host ? mf_settings_require(st, 0, e) : 0;
}

int
mf_sendjob_is_lmtp(const struct mf_settings *st)
{
	return st->protocol != NULL && strcmp(st->protocol, "lmtp") == 0;
}

struct mf_sendjob *
mf_sendjob_new(const struct mf_sendjob_params *p, const struct mf_settings *st,
               struct mf_transcript *tr, struct mf_err *e)
{
	struct mf_sendjob *j = calloc(1, sizeof(*j));
	char key[40];

	if (j == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "send job");
		return NULL;
	}
	j->p = p;
	j->st = st;
	j->tr = tr;
	j->sealp = p->seal;
	mf_seal_params_merge(&j->sealp, st->conf);
	mf_buf_init(&j->msg, MF_SENDJOB_MSG_MAX);
	/* A TLS session cache, so cron runs resume sessions: one per
	 * endpoint and trust setting, never shared between them. */
	if (st->tls == MF_TLS_NONE ||
	    mf_sendjob_session_key(st, key, sizeof(key)) == -1 ||
	    mf_queue_state_file("tls-session-smtp", key, j->session_file,
	    sizeof(j->session_file)) == -1)
		j->session_file[0] = '\0';
	return j;
}

void
mf_sendjob_free(struct mf_sendjob *j)
{
	if (j == NULL)
		return;
	mf_smtp_client_free(j->client);
	mf_seal_free(j->seal);
	mf_rcpts_clear(&j->rcpts);
	mf_buf_free(&j->msg);
	mf_aliases_free(j->aliases);
	free(j);
}

/* ---- recipients, sender, message ---- */

static int
option_rcpts(struct mf_sendjob *j, struct mf_err *e)
{
	const struct mf_sendjob_params *o = j->p;
	const char *const *lists[] = { o->to, o->cc, o->bcc,
	    (const char *const *)o->args };
	size_t n[] = { o->nto, o->ncc, o->nbcc, o->nargs }, i, k;

	for (k = 0; k < 4; k++)
		for (i = 0; i < n[k]; i++)
			if (mf_rcpts_add_list(&j->rcpts, lists[k][i], e) == -1)
				return -1;
	return 0;
}

/* Recipients without a domain ("root", as cron(8) sends) through the
 * aliases file; unmapped ones are refused here, before any connection. */
static int
map_local(struct mf_sendjob *j, struct mf_err *e)
{
	const char *file = j->st->aliases, *to;
	struct mf_rcpts out;
	size_t i;

	for (i = 0; i < j->rcpts.n; i++)
		if (mf_aliases_is_local(j->rcpts.v[i]))
			break;
	if (i == j->rcpts.n)
		return 0;
	if (file == NULL)
		return mf_err_set(e, MF_E_NOUSER, "recipient '%s' has no domain "
		    "and no aliases file maps it: set 'aliases FILE' in the "
		    "configuration (mailflow(5))", j->rcpts.v[i]);
	if (j->aliases == NULL && (j->aliases = mf_aliases_load(file,
	    e)) == NULL)
		return -1;
	memset(&out, 0, sizeof(out));
	for (i = 0; i < j->rcpts.n; i++) {
		const char *r = j->rcpts.v[i];

		if (!mf_aliases_is_local(r)) {
			if (mf_rcpts_add(&out, r, e) == -1)
				goto fail;
			continue;
		}
		if ((to = mf_aliases_lookup(j->aliases, r)) == NULL) {
			mf_err_set(e, MF_E_NOUSER, "recipient '%s' has no domain "
			    "and the aliases file %s maps neither it nor "
			    "'default' (the 'aliases' setting)", r, file);
			goto fail;
		}
		if (mf_rcpts_add_list(&out, to, e) == -1)
			goto fail;
	}
	mf_rcpts_clear(&j->rcpts);
	j->rcpts = out;
	return 0;
fail:
	mf_rcpts_clear(&out);
	return -1;
}

/* msmtp's "from %U@example.org": %U the user's login name, %H and %C
 * the host name, %% a percent sign. */
static void
expand_from(const char *f, char *out, size_t outlen)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "localhost";
	size_t n = 0;
	const char *add;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (; *f != '\0' && n + 1 < outlen; f++) {
		add = NULL;
		if (f[0] == '%' && f[1] == 'U')
			add = pw != NULL ? pw->pw_name : "";
		else if (f[0] == '%' && (f[1] == 'H' || f[1] == 'C'))
			add = host;
		else if (f[0] == '%' && f[1] == '%')
			add = "%";
		if (add == NULL) {
			out[n++] = *f;
			continue;
		}
		f++;
		n += mf_strlcpy(out + n, add, outlen - n);
		if (n >= outlen)
			n = outlen - 1;
	}
	out[n] = '\0';
}

/* Envelope sender: -f, the account's from, else the message's From:. */
static int
sender(const struct mf_sendjob *j, const char *msg, size_t len, char *out,
       size_t outlen, struct mf_err *e)
{
	char v[1024], name[512];
	const char *f = j->p->from ? j->p->from : j->st->from;

	if (f != NULL && f == j->st->from && strchr(f, '%') != NULL) {
		expand_from(f, v, sizeof(v));
		f = v;
	}
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
		return mf_queue_read_file(a[0] == '@' ? a + 1 : a,
		    MF_SENDJOB_MSG_MAX, out, len, e);
	*len = strlen(a);
	return (*out = strdup(a)) ? 0 : mf_err_set(e, MF_E_NOMEM, "memory");
}

static int
attachments(const struct mf_sendjob_params *o, char (*specs)[SPEC_MAX],
            struct mf_mime_attachment *att, struct mf_err *e)
{
	size_t i;

	for (i = 0; i < o->natt; i++)
		if (mf_mime_parse_attach_spec(o->att[i], specs[i], SPEC_MAX,
		    &att[i], e) == -1)
			return -1;
	return 0;
}

static int
compose(const struct mf_sendjob *j, const char *from, struct mf_buf *out,
        struct mf_err *e)
{
	const struct mf_sendjob_params *o = j->p;
	struct mf_mime_compose c;
	struct mf_mime_attachment att[MF_SENDJOB_LIST_MAX];
	char (*specs)[SPEC_MAX] = calloc(o->natt ? o->natt : 1, SPEC_MAX);
	char *text = NULL, *html = NULL;
	int rc = -1;

	if (specs == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "attachments");
	memset(&c, 0, sizeof(c));
	c.from = o->from ? o->from : from;
	c.from_name = o->from_name;
	c.to = o->nto ? o->to : (const char *const *)o->args;
	c.nto = o->nto ? o->nto : o->nargs;
	c.cc = o->cc;
	c.ncc = o->ncc;
	c.subject = o->subject;
	c.headers = o->hdr;
	c.nheaders = o->nhdr;
	c.att = att;
	c.natt = o->natt;
	if (attachments(o, specs, att, e) == -1 ||
	    (o->body && body_arg(o->body, &text, &c.text_len, e) == -1) ||
	    (o->html && body_arg(o->html, &html, &c.html_len, e) == -1))
		goto out;
	c.text = text;
	c.html = html;
	rc = mf_mime_compose(&c, out, e);
out:
	free(text);
	free(html);
	free(specs);
	return rc;
}

/* A ready message from a file or stdin: Bcc removed, Date and Message-ID
 * added when missing; recipients from its header with -t (or when none
 * were given).  sendmail(8) without -i ends standard input at a lone ".". */
static int
ready_message(struct mf_sendjob *j, const char *path, struct mf_buf *out,
              struct mf_err *e)
{
	char *m;
	size_t len;
	int rc;

	if (mf_queue_read_file(path, MF_SENDJOB_MSG_MAX, &m, &len, e) == -1)
		return -1;
	if (j->p->sendmail && !j->p->dot_ok && strcmp(path, "-") == 0)
		len = mf_mime_sendmail_cut(m, len);
	rc = (j->p->read_rcpts || j->rcpts.n == 0) ?
	    mf_rcpts_add_header(&j->rcpts, m, len, e) : 0;
	if (rc == 0) {
		struct mf_err ign;
		char addr[512];
		const char *at = sender(j, NULL, 0, addr, sizeof(addr), &ign)
		    == 0 ? strrchr(addr, '@') : NULL;
		rc = mf_mime_prepare(m, len, at ? at + 1 : NULL, out, e);
	}
	free(m);
	return rc;
}

/* A ready message unless the options compose one. */
static int
wants_ready(const struct mf_sendjob_params *o)
{
	return o->message || o->read_rcpts || o->sendmail || !(o->subject ||
	    o->body || o->html || o->natt || o->nhdr || o->nto);
}

/* Sign and/or encrypt the prepared message when asked to: once, before
 * it is sent or queued (a flush sends the queued bytes as they are). */
static int
seal(struct mf_sendjob *j, struct mf_err *e)
{
	if (!mf_seal_wanted(&j->sealp))
		return 0;
	if (j->seal == NULL && (j->seal = mf_seal_new(&j->sealp, j->p->note,
	    j->p->note_arg, e)) == NULL)
		return -1;
	return mf_seal_apply(j->seal, &j->msg, j->from,
	    (const char *const *)j->rcpts.v, j->rcpts.n, e);
}

int
mf_sendjob_body_from_stdin(const struct mf_sendjob_params *p)
{
	return !wants_ready(p) && p->body == NULL && p->html == NULL;
}

int
mf_sendjob_prepare(struct mf_sendjob *j, struct mf_err *e)
{
	const struct mf_sendjob_params *o = j->p;
	int ready = wants_ready(o);

	mf_buf_reset(&j->msg);
	mf_rcpts_clear(&j->rcpts);
	j->sent = 0;
	if (option_rcpts(j, e) == -1)
		return -1;
	if (ready ? ready_message(j, o->message ? o->message : "-", &j->msg, e)
	    : (sender(j, NULL, 0, j->from, sizeof(j->from), e) == -1 ? -1 :
	    compose(j, j->from, &j->msg, e)))
		return -1;
	if (sender(j, j->msg.data, j->msg.len, j->from, sizeof(j->from),
	    e) == -1 || (ready && mf_mime_add_from(&j->msg, o->from_name,
	    j->from, e) == -1))
		return -1;
	if (j->rcpts.n == 0)
		return mf_err_set(e, MF_E_USAGE, "no recipients");
	/* Sealing encrypts to the recipients: map local names first. */
	return map_local(j, e) == -1 ? -1 : seal(j, e);
}

/* ---- sending ---- */

static int
new_client(struct mf_sendjob *j, struct mf_err *e)
{
	const struct mf_settings *st = j->st;
	struct mf_smtp_client_params p;

	memset(&p, 0, sizeof(p));
	mf_settings_conn(st, &p.smtp.conn);
	if (j->session_file[0])
		p.smtp.conn.tlsp.session_file = j->session_file;
	p.smtp.conn.tr = j->tr;
	p.smtp.ehlo_name = st->ehlo;
	p.smtp.lmtp = mf_sendjob_is_lmtp(st);
	/* AUTH when a user is known or a mechanism was named. */
	p.auth = !(st->auth && strcasecmp(st->auth, "none") == 0) &&
	    (st->user != NULL || (st->auth && strcasecmp(st->auth, "auto")));
	p.no_chunking = j->p->no_chunking;
	p.no_pipelining = j->p->no_pipelining;
	j->client = mf_smtp_client_new(&p, e);
	return j->client ? 0 : -1;
}

/* A DSN parameter of the prepared message. */
static const char *
dsn(const struct mf_sendjob *j, const char *own, const char *opt)
{
	if (!j->own_dsn)
		return opt;
	return own[0] ? own : NULL;
}

/* The envelope of message msg from from to the job's recipients. */
static void
envelope(const struct mf_sendjob *j, const char *from, const char *msg,
         size_t len, struct mf_smtp_envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->from = from;
	env->rcpts = (const char *const *)j->rcpts.v;
	env->nrcpts = j->rcpts.n;
	env->dsn_notify = dsn(j, j->notify, j->p->dsn_notify);
	env->dsn_ret = dsn(j, j->ret, j->p->dsn_ret);
	env->envid = dsn(j, j->envid, j->p->envid);
	env->eightbit = mf_smtp_message_8bit(msg, len);
	/* smtputf8 stays 0: lib/smtp.c asks for SMTPUTF8 when a local part
	 * is UTF-8 and sends UTF-8 domains as A-labels (lib/idn.h). */
}

int
mf_sendjob_dry_run(const struct mf_sendjob *j, struct mf_buf *out,
                   struct mf_err *e)
{
	const char *msg = j->msg.data ? j->msg.data : "";
	struct mf_smtp_envelope env;
	char line[MF_SMTP_CMD_MAX];
	size_t i;

	/* The envelope as lib/smtp.c sends it, to a server that offers no
	 * extension: the parameters that depend on one are left out. */
	envelope(j, j->from, msg, j->msg.len, &env);
	if (mf_smtp_format_mail(NULL, &env, 0, line, sizeof(line), e) == -1 ||
	    mf_buf_printf(out, e, "%s\n", line) == -1)
		return -1;
	for (i = 0; i < env.nrcpts; i++)
		if (mf_smtp_format_rcpt(NULL, &env, i, line, sizeof(line),
		    e) == -1 || mf_buf_printf(out, e, "%s\n", line) == -1)
			return -1;
	if (mf_buf_putc(out, '\n', e) == -1)
		return -1;
	return mf_buf_append(out, msg, j->msg.len, e);
}

static int
send_one(struct mf_sendjob *j, const char *from, const char *msg, size_t len,
         struct mf_sendjob_result *res, struct mf_err *e)
{
	struct mf_smtp_envelope env;

	mf_strlcpy(j->sent_from, from, sizeof(j->sent_from));
	j->sent_len = len;
	j->sent = 1;
	envelope(j, from, msg, len, &env);
	memset(res, 0, sizeof(*res));
	/* only the entries in use: the whole array is 1 MB, and touching
	 * it cost every send a millisecond of page faults */
	memset(j->rr, 0, env.nrcpts * sizeof(j->rr[0]));
	res->smtp.rcpt = j->rr;
	res->rcpts = env.rcpts;
	res->nrcpts = env.nrcpts;
	if (j->client == NULL && new_client(j, e) == -1)
		return -1;
	return mf_smtp_client_send(j->client, &env, msg, len, &res->smtp, e);
}

int
mf_sendjob_send(struct mf_sendjob *j, struct mf_sendjob_result *res,
                struct mf_err *e)
{
	return send_one(j, j->from, j->msg.data ? j->msg.data : "", j->msg.len,
	    res, e);
}

int
mf_sendjob_set_message(struct mf_sendjob *j, const struct mf_sendjob_message *m,
                       struct mf_err *e)
{
	const char *const dv[] = { m->dsn_notify, m->dsn_ret, m->envid };
	char *const dst[] = { j->notify, j->ret, j->envid };
	const size_t dlen[] = { sizeof(j->notify), sizeof(j->ret),
	    sizeof(j->envid) };
	size_t i;

	mf_buf_reset(&j->msg);
	mf_rcpts_clear(&j->rcpts);
	j->own_dsn = 1;
	for (i = 0; i < 3; i++) {
		if (dv[i] != NULL && strlen(dv[i]) >= dlen[i])
			return mf_err_set(e, MF_E_USAGE, "DSN value too long");
		mf_strlcpy(dst[i], dv[i] ? dv[i] : "", dlen[i]);
	}
	if (strlen(m->from) >= sizeof(j->from))
		return mf_err_set(e, MF_E_USAGE, "sender address too long");
	mf_strlcpy(j->from, m->from, sizeof(j->from));
	for (i = 0; i < m->nrcpts; i++)
		if (mf_rcpts_add(&j->rcpts, m->rcpts[i], e) == -1)
			return -1;
	if (j->rcpts.n == 0)
		return mf_err_set(e, MF_E_USAGE, "no recipients");
	j->sent = 0;
	if (mf_buf_append(&j->msg, m->msg, m->len, e) == -1)
		return -1;
	/* Signed and encrypted like any other message (see seal()). */
	return map_local(j, e) == -1 ? -1 : seal(j, e);
}

int
mf_sendjob_connected(const struct mf_sendjob *j)
{
	return mf_smtp_client_connected(j->client);
}

static const char *
account(const struct mf_sendjob *j)
{
	return j->st->acct ? j->st->acct->name : "";
}

int
mf_sendjob_enqueue(struct mf_sendjob *j, char *id, size_t idlen, char *dir,
                   size_t dirlen, struct mf_err *e)
{
	struct mf_queue *q;
	int rc;

	if ((q = mf_queue_open_default(j->st->queue, e)) == NULL)
		return -1;
	rc = mf_queue_add_message(q, account(j), j->from, j->rcpts.v,
	    j->rcpts.n, dsn(j, j->notify, j->p->dsn_notify),
	    dsn(j, j->ret, j->p->dsn_ret), j->msg.data ?
	    j->msg.data : "", j->msg.len, id, idlen, e);
	mf_strlcpy(dir, mf_queue_path(q), dirlen);
	mf_queue_close(q);
	return rc;
}

void
mf_sendjob_log_line(const struct mf_sendjob *j,
                    const struct mf_sendjob_result *res,
                    const struct mf_err *e, int status,
                    const char *queued_id, struct mf_maillog_line *l)
{
	const struct mf_smtp_reply *f;
	char ex[16], line[MF_SMTP_REPLY_TEXT_MAX];

	mf_settings_log_start(j->st, l);
	mf_maillog_add(l, "from", j->sent ? j->sent_from :
	    j->from[0] ? j->from : NULL);
	mf_maillog_add_list(l, "recipients", (const char *const *)j->rcpts.v,
	    j->rcpts.n);
	mf_maillog_addf(l, "mailsize", "%zu", j->sent ? j->sent_len :
	    j->msg.len);
	if (res != NULL) {
		f = &res->smtp.final;
		mf_maillog_addf(l, "smtpstatus", "%d", f->code);
		mf_maillog_addf(l, "smtpmsg", "%d %s%s%s", f->code, f->enhanced,
		    f->enhanced[0] ? " " : "", mf_smtp_reply_line(f->text, line,
		    sizeof(line)));
	} else if (e != NULL) {
		if (e->reply_code != 0) {
			mf_maillog_addf(l, "smtpstatus", "%d", e->reply_code);
			mf_maillog_addf(l, "smtpmsg", "%d %s%s%s", e->reply_code,
			    e->enhanced, e->enhanced[0] ? " " : "", e->reply);
		}
		mf_maillog_add(l, "errormsg", e->msg);
	}
	mf_maillog_add(l, "queued", queued_id);
	mf_maillog_add(l, "exitcode", mf_maillog_exit_name(status, ex,
	    sizeof(ex)));
}

/* ---- a directory of messages ---- */

struct walk {
	struct mf_sendjob *j;
	mf_sendjob_report_fn report;
	void *arg;
};

static int
batch_file(void *arg, const char *path)
{
	struct walk *w = arg;
	struct mf_sendjob *j = w->j;
	struct mf_sendjob_result res;
	struct mf_err e;

	mf_err_clear(&e);
	mf_buf_reset(&j->msg);
	mf_rcpts_clear(&j->rcpts);
	j->sent = 0;
	if (option_rcpts(j, &e) == -1 || ready_message(j, path, &j->msg,
	    &e) == -1 || map_local(j, &e) == -1 || sender(j, j->msg.data,
	    j->msg.len, j->from, sizeof(j->from), &e) == -1 ||
	    seal(j, &e) == -1 || mf_sendjob_send(j, &res, &e) == -1)
		w->report(w->arg, path, NULL, -1, &e);
	else
		w->report(w->arg, path, &res, 0, NULL);
	mf_buf_reset(&j->msg);
	return 0;
}

int
mf_sendjob_batch(struct mf_sendjob *j, const char *dir,
                 mf_sendjob_report_fn report, void *arg, struct mf_err *e)
{
	struct walk w = { j, report, arg };

	return mf_queue_scan_dir(dir, batch_file, &w, e);
}

/* ---- the queue ---- */

static int
flush_send(void *arg, const struct mf_queue_entry *ent, struct mf_err *e)
{
	struct walk *w = arg;
	struct mf_sendjob *j = w->j;
	struct mf_sendjob_result res;
	size_t i;

	mf_rcpts_clear(&j->rcpts);
	for (i = 0; i < ent->nrcpts; i++)
		if (mf_rcpts_add(&j->rcpts, ent->rcpts[i], e) == -1)
			return -1;
	if (send_one(j, ent->from, ent->msg, ent->len, &res, e) == 0) {
		w->report(w->arg, ent->id, &res, 0, NULL);
		return 0;
	}
	/* Unreachable: keep the rest for the next flush. */
	return mf_smtp_client_connected(j->client) ? -1 : -2;
}

static void
flush_report(void *arg, const struct mf_queue_entry *ent, int status,
             const struct mf_err *e)
{
	struct walk *w = arg;

	/* Successes were reported by flush_send, with their replies. */
	if (status != 0)
		w->report(w->arg, ent->id, NULL, status, e);
}

int
mf_sendjob_flush(struct mf_sendjob *j, mf_sendjob_report_fn report,
                 void *arg, struct mf_queue_stats *stats, struct mf_err *e)
{
	struct walk w = { j, report, arg };
	struct mf_queue *q;
	int rc;

	if ((q = mf_queue_open_default(j->st->queue, e)) == NULL)
		return -1;
	rc = mf_queue_flush(q, account(j), flush_send, flush_report, &w, stats,
	    e);
	mf_queue_close(q);
	return rc;
}

struct lister {
	void (*fn)(void *arg, const char *line);
	void *arg;
};

static int
list_entry(void *arg, const struct mf_queue_entry *ent)
{
	struct lister *l = arg;
	char line[4096];

	mf_queue_format_entry(ent, line, sizeof(line));
	l->fn(l->arg, line);
	return 0;
}

int
mf_sendjob_list(struct mf_sendjob *j, void (*fn)(void *arg, const char *line),
                void *arg, struct mf_err *e)
{
	struct lister l = { fn, arg };
	struct mf_queue *q;
	int rc;

	if ((q = mf_queue_open_default(j->st->queue, e)) == NULL)
		return -1;
	rc = mf_queue_list(q, list_entry, &l, e);
	mf_queue_close(q);
	return rc;
}

static void
json_reply(struct mf_json *j, int code, const char *enhanced, const char *text)
{
	mf_json_kv_int(j, "code", code);
	mf_json_kv_string(j, "enhanced", enhanced[0] ? enhanced : NULL);
	mf_json_kv_string(j, "text", text);
}

enum mf_err_kind
mf_sendjob_rcpt_outcome(const struct mf_sendjob_result *res, size_t i,
                        int *code, const char **enhanced, const char **text,
                        int *after_data)
{
	const struct mf_smtp_rcpt_result *rr = &res->smtp.rcpt[i];
	int c;

	*after_data = rr->code / 100 == 2 && rr->data_code != 0;
	if (*after_data) {
		/* RFC 2033 §4.2: LMTP's own reply for this recipient */
		*code = rr->data_code;
		*enhanced = rr->data_enhanced;
		*text = rr->data_text;
	} else {
		*code = rr->code;
		*enhanced = rr->enhanced;
		*text = rr->text;
	}
	c = *code;
	if (c / 100 == 2)
		return MF_OK;
	return c / 100 == 4 ? MF_E_TEMP : MF_E_PERM;
}

int
mf_sendjob_exit(const struct mf_sendjob_result *res, int lmtp)
{
	const char *enh, *text;
	int code, data, worst = 0;
	size_t i;

	if (!lmtp || res->smtp.rcpt == NULL)
		return 0;
	for (i = 0; i < res->nrcpts; i++)
		switch (mf_sendjob_rcpt_outcome(res, i, &code, &enh, &text,
		    &data)) {
		case MF_OK:
			break;
		case MF_E_TEMP:
			if (worst == 0)
				worst = mf_err_kind_exit(MF_E_TEMP);
			break;
		default:
			worst = mf_err_kind_exit(MF_E_PERM);
		}
	return worst;
}

static void
json_recipients(struct mf_json *j, const struct mf_sendjob_result *res)
{
	static const char *const result[] = { "delivered", "deferred",
	    "refused" };
	const char *enh, *text;
	enum mf_err_kind k;
	int code, data;
	size_t i;

	if (res->smtp.rcpt == NULL)
		return;
	mf_json_key(j, "recipients");
	mf_json_array_begin(j);
	for (i = 0; i < res->nrcpts; i++) {
		k = mf_sendjob_rcpt_outcome(res, i, &code, &enh, &text, &data);
		mf_json_object_begin(j);
		mf_json_kv_string(j, "recipient", res->rcpts[i]);
		mf_json_kv_string(j, "result", result[k == MF_OK ? 0 :
		    k == MF_E_TEMP ? 1 : 2]);
		mf_json_kv_string(j, "stage", data ? "data" : "rcpt");
		json_reply(j, code, enh, text);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
}

void
mf_sendjob_json(struct mf_json *j, const char *id,
                const struct mf_sendjob_result *res, const char *status,
                int exit_status, const struct mf_err *e)
{
	const struct mf_smtp_rcpt_result *rr;
	size_t i;

	mf_json_object_begin(j);
	mf_json_kv_string(j, "type", "message");
	mf_json_kv_string(j, "message", id);
	mf_json_kv_string(j, "status", status);
	mf_json_kv_int(j, "exit", exit_status);
	if (res != NULL) {
		mf_json_key(j, "reply");
		mf_json_object_begin(j);
		json_reply(j, res->smtp.final.code, res->smtp.final.enhanced,
		    res->smtp.final.text);
		mf_json_object_end(j);
		mf_json_key(j, "refused");
		mf_json_array_begin(j);
		for (i = 0; i < res->nrcpts; i++) {
			rr = &res->smtp.rcpt[i];
			if (rr->code == 250 || rr->code == 251)
				continue;
			mf_json_object_begin(j);
			mf_json_kv_string(j, "recipient", res->rcpts[i]);
			json_reply(j, rr->code, rr->enhanced, rr->text);
			mf_json_object_end(j);
		}
		mf_json_array_end(j);
		json_recipients(j, res);
	}
	if (e != NULL && e->kind != MF_OK)
		mf_json_kv_error(j, mf_err_kind_name(e->kind), e->msg);
	mf_json_object_end(j);
}
