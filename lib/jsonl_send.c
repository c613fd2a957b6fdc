/* jsonl_send.c - mailsend --jsonl (see jsonl_send.h). */
#include "jsonl_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "json.h"
#include "jsonread.h"
#include "mime.h"

#define LIST_MAX MF_SENDJOB_LIST_MAX

/* One line's message, its strings borrowed from the JSON tree. */
struct spec {
	const char *from;
	const char *to[LIST_MAX], *cc[LIST_MAX], *bcc[LIST_MAX];
	size_t nto, ncc, nbcc;
	const char *subject, *text, *html;
	struct mf_mime_attachment att[LIST_MAX];
	size_t natt;
	char *hdr[LIST_MAX];         /* "Name: value", owned */
	size_t nhdr;
	char notify[64];
	const char *ret, *envid;
	struct mf_rcpts rcpts;
};

struct run {
	struct mf_sendjob *j;
	const struct mf_jsonl_params *p;
	mf_jsonl_out_fn out;
	void *arg;
	struct mf_jsonl_stats *st;
	int dead;                    /* no session could be opened ... */
	struct mf_err dead_err;      /* ... for this reason */
};

static void
spec_free(struct spec *s)
{
	size_t i;

	for (i = 0; i < s->nhdr; i++)
		free(s->hdr[i]);
	mf_rcpts_clear(&s->rcpts);
}

static int
want(const struct mf_jv *v, enum mf_jv_type t, const char *key,
     struct mf_err *e)
{
	if (v->type != t)
		return mf_err_set(e, MF_E_DATA, "\"%s\" must be a %s, not a %s",
		    key, mf_jv_type_name(t), mf_jv_type_name(v->type));
	return 0;
}

/* to / cc / bcc: a string or an array of strings. */
static int
addr_list(const struct mf_jv *v, const char *key, const char **out,
          size_t *n, struct mf_err *e)
{
	size_t i;

	if (v->type == MF_JV_STRING) {
		out[(*n)++] = v->s;
		return 0;
	}
	if (want(v, MF_JV_ARRAY, key, e) == -1)
		return -1;
	if (v->n > LIST_MAX)
		return mf_err_set(e, MF_E_DATA, "\"%s\": more than %d entries",
		    key, LIST_MAX);
	for (i = 0; i < v->n; i++) {
		if (v->v[i].type != MF_JV_STRING)
			return mf_err_set(e, MF_E_DATA, "\"%s\"[%zu] must be a "
			    "string", key, i);
		out[(*n)++] = v->v[i].s;
	}
	return 0;
}

static int
attachment(const struct mf_jv *v, size_t i, struct mf_mime_attachment *a,
           struct mf_err *e)
{
	static const char *const keys[] = { "path", "name", "type" };
	const char **dst[] = { &a->path, &a->name, &a->type };
	const struct mf_jv *m;
	size_t k;

	memset(a, 0, sizeof(*a));
	if (v->type == MF_JV_STRING) {
		a->path = v->s;
		return 0;
	}
	if (v->type != MF_JV_OBJECT)
		return mf_err_set(e, MF_E_DATA, "\"attachments\"[%zu] must be a "
		    "path or an object", i);
	for (k = 0; k < v->n; k++)
		if (strcmp(v->keys[k], "path") && strcmp(v->keys[k], "name") &&
		    strcmp(v->keys[k], "type"))
			return mf_err_set(e, MF_E_DATA, "\"attachments\"[%zu]: "
			    "unknown key \"%.40s\"", i, v->keys[k]);
	for (k = 0; k < 3; k++) {
		if ((m = mf_jv_get(v, keys[k])) == NULL)
			continue;
		if (m->type != MF_JV_STRING)
			return mf_err_set(e, MF_E_DATA, "\"attachments\"[%zu]."
			    "%s must be a string", i, keys[k]);
		*dst[k] = m->s;
	}
	if (a->path == NULL)
		return mf_err_set(e, MF_E_DATA, "\"attachments\"[%zu] has no "
		    "\"path\"", i);
	return 0;
}

static int
attachments(const struct mf_jv *v, struct spec *s, struct mf_err *e)
{
	size_t i;

	if (want(v, MF_JV_ARRAY, "attachments", e) == -1)
		return -1;
	if (v->n > LIST_MAX)
		return mf_err_set(e, MF_E_DATA, "more than %d attachments",
		    LIST_MAX);
	for (i = 0; i < v->n; i++)
		if (attachment(&v->v[i], i, &s->att[s->natt++], e) == -1)
			return -1;
	return 0;
}

static int
headers(const struct mf_jv *v, struct spec *s, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	size_t i;

	if (want(v, MF_JV_OBJECT, "headers", e) == -1)
		return -1;
	if (v->n > LIST_MAX)
		return mf_err_set(e, MF_E_DATA, "more than %d headers", LIST_MAX);
	for (i = 0; i < v->n; i++) {
		if (v->v[i].type != MF_JV_STRING)
			return mf_err_set(e, MF_E_DATA, "header \"%.40s\" must be "
			    "a string", v->keys[i]);
		/* mime.h checks the name and refuses CR/LF in both parts */
		if (mf_buf_printf(&b, e, "%s: %s", v->keys[i], v->v[i].s) == -1)
			return -1;
		if ((s->hdr[s->nhdr] = mf_buf_take(&b)) == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "headers");
		s->nhdr++;
	}
	return 0;
}

/* RFC 3461 §4.1 NOTIFY as a string or an array joined with commas. */
static int
dsn_notify(const struct mf_jv *v, struct spec *s, struct mf_err *e)
{
	size_t i, used = 0, n;

	if (v->type == MF_JV_STRING) {
		if (v->slen >= sizeof(s->notify))
			return mf_err_set(e, MF_E_DATA, "dsn.notify too long");
		mf_strlcpy(s->notify, v->s, sizeof(s->notify));
		return 0;
	}
	if (want(v, MF_JV_ARRAY, "dsn.notify", e) == -1)
		return -1;
	for (i = 0; i < v->n; i++) {
		if (v->v[i].type != MF_JV_STRING)
			return mf_err_set(e, MF_E_DATA, "dsn.notify[%zu] must be "
			    "a string", i);
		n = v->v[i].slen + (i > 0);
		if (used + n >= sizeof(s->notify))
			return mf_err_set(e, MF_E_DATA, "dsn.notify too long");
		if (i > 0)
			s->notify[used++] = ',';
		memcpy(s->notify + used, v->v[i].s, v->v[i].slen);
		used += v->v[i].slen;
		s->notify[used] = '\0';
	}
	return 0;
}

static int
dsn(const struct mf_jv *v, struct spec *s, struct mf_err *e)
{
	const struct mf_jv *m;
	size_t i;

	if (v->type == MF_JV_STRING)
		return dsn_notify(v, s, e);
	if (want(v, MF_JV_OBJECT, "dsn", e) == -1)
		return -1;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], "notify") && strcmp(v->keys[i], "ret") &&
		    strcmp(v->keys[i], "envid"))
			return mf_err_set(e, MF_E_DATA, "dsn: unknown key "
			    "\"%.40s\"", v->keys[i]);
	if ((m = mf_jv_get(v, "notify")) != NULL && dsn_notify(m, s, e) == -1)
		return -1;
	if ((m = mf_jv_get(v, "ret")) != NULL) {
		if (want(m, MF_JV_STRING, "dsn.ret", e) == -1)
			return -1;
		/* RFC 3461 §4.3 */
		if (strcasecmp(m->s, "full") && strcasecmp(m->s, "hdrs"))
			return mf_err_set(e, MF_E_DATA, "dsn.ret must be full or "
			    "hdrs");
		s->ret = m->s;
	}
	if ((m = mf_jv_get(v, "envid")) != NULL) {
		if (want(m, MF_JV_STRING, "dsn.envid", e) == -1)
			return -1;
		s->envid = m->s;
	}
	return 0;
}

static int
string_field(const struct mf_jv *v, const char *key, const char **out,
             struct mf_err *e)
{
	if (want(v, MF_JV_STRING, key, e) == -1)
		return -1;
	*out = v->s;
	return 0;
}

static int
field(const char *key, const struct mf_jv *v, struct spec *s,
      struct mf_err *e)
{
	if (strcmp(key, "to") == 0)
		return addr_list(v, key, s->to, &s->nto, e);
	if (strcmp(key, "cc") == 0)
		return addr_list(v, key, s->cc, &s->ncc, e);
	if (strcmp(key, "bcc") == 0)
		return addr_list(v, key, s->bcc, &s->nbcc, e);
	if (strcmp(key, "from") == 0)
		return string_field(v, key, &s->from, e);
	if (strcmp(key, "subject") == 0)
		return string_field(v, key, &s->subject, e);
	if (strcmp(key, "text") == 0)
		return string_field(v, key, &s->text, e);
	if (strcmp(key, "html") == 0)
		return string_field(v, key, &s->html, e);
	if (strcmp(key, "attachments") == 0)
		return attachments(v, s, e);
	if (strcmp(key, "headers") == 0)
		return headers(v, s, e);
	if (strcmp(key, "dsn") == 0)
		return dsn(v, s, e);
	return mf_err_set(e, MF_E_DATA, "unknown key \"%.40s\"", key);
}

/* The JSON object of one line into s and its envelope recipients. */
static int
spec_parse(const struct mf_jv *v, struct spec *s, struct mf_err *e)
{
	const char *const *lists[] = { s->to, s->cc, s->bcc };
	const size_t *ns[] = { &s->nto, &s->ncc, &s->nbcc };
	size_t i, k;

	if (v->type != MF_JV_OBJECT)
		return mf_err_set(e, MF_E_DATA, "not a JSON object");
	for (i = 0; i < v->n; i++)
		if (field(v->keys[i], &v->v[i], s, e) == -1)
			return -1;
	for (k = 0; k < 3; k++)
		for (i = 0; i < *ns[k]; i++)
			if (mf_rcpts_add_list(&s->rcpts, lists[k][i], e) == -1)
				return -1;
	if (s->rcpts.n == 0)
		return mf_err_set(e, MF_E_DATA, "no recipients (to, cc, bcc)");
	return 0;
}

/* Compose the message of s into msg; the envelope sender into from. */
static int
compose(const struct run *r, const struct spec *s, struct mf_buf *msg,
        char *from, size_t fromlen, struct mf_err *e)
{
	struct mf_mime_compose c;
	char name[512];
	const char *f = s->from ? s->from : r->p->from;

	if (f == NULL)
		return mf_err_set(e, MF_E_DATA, "no sender: give \"from\", -f "
		    "or set from in the account");
	if (mf_mime_parse_address(f, name, sizeof(name), from, fromlen, e) == -1)
		return -1;
	memset(&c, 0, sizeof(c));
	c.from = f;
	c.from_name = s->from ? NULL : r->p->from_name;
	c.to = s->to;
	c.nto = s->nto;
	c.cc = s->cc;
	c.ncc = s->ncc;
	c.subject = s->subject;
	c.text = s->text;
	c.text_len = s->text ? strlen(s->text) : 0;
	c.html = s->html;
	c.html_len = s->html ? strlen(s->html) : 0;
	c.att = s->att;
	c.natt = s->natt;
	c.headers = (const char *const *)s->hdr;
	c.nheaders = s->nhdr;
	return mf_mime_compose(&c, msg, e);
}

/* ---- results ---- */

struct outcome {
	unsigned long line;
	const char *status;          /* "sent", "failed", "deferred" */
	char msgid[512];
	const struct mf_sendjob_result *res;   /* NULL: not tried */
	const struct mf_err *err;    /* NULL when sent */
	char queued[96];
	int invalid;
};

static void
reply_json(struct mf_json *w, const struct outcome *o)
{
	const struct mf_smtp_reply *f = o->res ? &o->res->smtp.final : NULL;

	mf_json_key(w, "reply");
	if (f != NULL && f->code != 0) {
		mf_json_object_begin(w);
		mf_json_kv_int(w, "code", f->code);
		mf_json_kv_string(w, "enhanced", f->enhanced);
		mf_json_kv_string(w, "text", f->text);
		mf_json_object_end(w);
	} else if (o->err != NULL && o->err->reply_code != 0) {
		mf_json_object_begin(w);
		mf_json_kv_int(w, "code", o->err->reply_code);
		mf_json_kv_string(w, "enhanced", o->err->enhanced);
		mf_json_kv_string(w, "text", o->err->reply);
		mf_json_object_end(w);
	} else
		mf_json_null(w);
}

static void
recipients_json(struct mf_json *w, const struct outcome *o)
{
	const struct mf_smtp_rcpt_result *rr;
	size_t i;

	mf_json_key(w, "recipients");
	mf_json_array_begin(w);
	for (i = 0; o->res != NULL && i < o->res->nrcpts; i++) {
		rr = &o->res->smtp.rcpt[i];
		mf_json_object_begin(w);
		mf_json_kv_string(w, "address", o->res->rcpts[i]);
		if (rr->code != 0) {
			mf_json_kv_int(w, "code", rr->code);
			mf_json_kv_string(w, "enhanced", rr->enhanced);
			mf_json_kv_string(w, "text", rr->text);
		} else {
			mf_json_key(w, "code");
			mf_json_null(w);
		}
		mf_json_object_end(w);
	}
	mf_json_array_end(w);
}

static int
emit(struct run *r, const struct outcome *o, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	struct mf_json w;

	mf_json_init(&w, &b);
	mf_json_object_begin(&w);
	mf_json_kv_string(&w, "type", "result");
	mf_json_kv_int(&w, "line", (long long)o->line);
	mf_json_kv_string(&w, "status", o->status);
	mf_json_kv_string(&w, "message_id", o->msgid[0] ? o->msgid : NULL);
	reply_json(&w, o);
	recipients_json(&w, o);
	mf_json_kv_string(&w, "error", o->err ? o->err->msg : NULL);
	mf_json_kv_string(&w, "queued", o->queued[0] ? o->queued : NULL);
	if (o->invalid)
		mf_json_kv_bool(&w, "invalid", 1);
	mf_json_object_end(&w);
	if (mf_json_status(&w) == -1) {
		mf_buf_free(&b);
		return mf_err_set(e, MF_E_NOMEM, "line %lu: result too large",
		    o->line);
	}
	r->out(r->arg, b.data, b.len);
	mf_buf_free(&b);
	return 0;
}

/* ---- sending ---- */

/* The server accepted no recipient of the message, so it cannot have
 * taken the message either (RFC 5321 §3.3: DATA needs one). */
static int
untouched(const struct mf_sendjob_result *res)
{
	size_t i;

	for (i = 0; i < res->nrcpts; i++)
		if (res->smtp.rcpt[i].code / 100 == 2)
			return 0;
	return 1;
}

/* A failure to open any session: the next line would fail the same way. */
static int
session_failure(const struct mf_err *err)
{
	switch (err->kind) {
	case MF_E_NOHOST: case MF_E_CONNECT: case MF_E_TIMEOUT:
	case MF_E_TLS: case MF_E_TLS_VERIFY: case MF_E_AUTH:
	case MF_E_CONFIG: case MF_E_UNSUPPORTED:
		return 1;
	default:
		return 0;
	}
}

static void
deliver(struct run *r, struct outcome *o, struct mf_sendjob_result *res,
        struct mf_err *err)
{
	int was;

	if (r->dead) {
		*err = r->dead_err;
		mf_err_prefix(err, "not tried");
		o->err = err;
		return;
	}
	was = mf_sendjob_connected(r->j);
	if (mf_sendjob_send(r->j, res, err) == 0) {
		o->res = res;
		return;
	}
	/* The server closed the session we kept from the last message: send
	 * again over a new one, unless some of this message was accepted. */
	if (was && !mf_sendjob_connected(r->j) && untouched(res) &&
	    mf_sendjob_send(r->j, res, err) == 0) {
		o->res = res;
		return;
	}
	o->res = res;
	o->err = err;
	if (!mf_sendjob_connected(r->j) && untouched(res) &&
	    session_failure(err)) {
		r->dead = 1;
		r->dead_err = *err;
	}
}

static void
account_outcome(struct run *r, struct outcome *o)
{
	struct mf_err qe;
	char dir[1024];

	if (o->err == NULL) {
		o->status = "sent";
		r->st->sent++;
		return;
	}
	if (mf_err_exit_code(o->err) != 75) {
		o->status = "failed";
		r->st->failed++;
	} else {
		o->status = "deferred";
		r->st->deferred++;
		if (r->p->queue && mf_sendjob_enqueue(r->j, o->queued,
		    sizeof(o->queued), dir, sizeof(dir), &qe) == 0) {
			r->st->queued++;
			return;
		}
		o->queued[0] = '\0';
	}
	if (r->st->first.kind == MF_OK)
		r->st->first = *o->err;
}

static int
one_line(struct run *r, unsigned long line, const char *text, size_t len,
         int too_long, struct mf_err *e)
{
	struct mf_buf msg = MF_BUF_INIT(MF_SENDJOB_MSG_MAX);
	struct mf_sendjob_message m;
	struct mf_sendjob_result res;
	struct outcome o;
	struct mf_err le;
	struct mf_jv *v = NULL;
	struct spec *s = calloc(1, sizeof(*s));
	char from[512];
	int rc;

	if (s == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "line %lu", line);
	memset(&o, 0, sizeof(o));
	o.line = line;
	mf_err_clear(&le);
	if (too_long)
		mf_err_set(&le, MF_E_DATA, "longer than %zu bytes",
		    MF_JSONL_LINE_MAX);
	if (too_long || mf_jv_parse(text, len, &v, &le) == -1 ||
	    spec_parse(v, s, &le) == -1 ||
	    compose(r, s, &msg, from, sizeof(from), &le) == -1) {
		mf_err_prefix(&le, "line %lu", line);
		o.status = "failed";
		o.err = &le;
		o.invalid = 1;
		r->st->failed++;
		r->st->invalid++;
	} else {
		mf_mime_header_get(msg.data, msg.len, "Message-ID", o.msgid,
		    sizeof(o.msgid));
		memset(&m, 0, sizeof(m));
		m.from = from;
		m.rcpts = (const char *const *)s->rcpts.v;
		m.nrcpts = s->rcpts.n;
		m.msg = msg.data;
		m.len = msg.len;
		m.dsn_notify = s->notify[0] ? s->notify : NULL;
		m.dsn_ret = s->ret;
		m.envid = s->envid;
		if (mf_sendjob_set_message(r->j, &m, &le) == -1)
			o.err = &le;
		else
			deliver(r, &o, &res, &le);
		account_outcome(r, &o);
	}
	rc = emit(r, &o, e);
	mf_jv_free(v);
	spec_free(s);
	free(s);
	mf_buf_free(&msg);
	return rc;
}

/* One line of in into b (without its newline): 1, 0 at the end, -1 on a
 * read error; *too_long when it passed MF_JSONL_LINE_MAX (the rest of the
 * line is read and dropped). */
static int
read_line(FILE *in, struct mf_buf *b, int *too_long, struct mf_err *e)
{
	char chunk[65536];
	size_t n;
	int got = 0;

	mf_buf_reset(b);
	*too_long = 0;
	while (fgets(chunk, sizeof(chunk), in) != NULL) {
		got = 1;
		n = strlen(chunk);
		if (!*too_long && mf_buf_append(b, chunk, n, NULL) == -1)
			*too_long = 1;
		if (n > 0 && chunk[n - 1] == '\n')
			break;
	}
	if (ferror(in))
		return mf_err_sys(e, MF_E_IO, errno, "reading the input");
	while (b->len > 0 && (b->data[b->len - 1] == '\n' ||
	    b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
	return got;
}

static int
blank(const struct mf_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->data[i] != ' ' && b->data[i] != '\t')
			return 0;
	return 1;
}

int
mf_jsonl_send(struct mf_sendjob *j, FILE *in, const struct mf_jsonl_params *p,
              mf_jsonl_out_fn out, void *arg, struct mf_jsonl_stats *stats,
              struct mf_err *e)
{
	struct run r;
	struct mf_buf line = MF_BUF_INIT(MF_JSONL_LINE_MAX);
	unsigned long n = 0;
	int got, too_long, rc = 0;

	memset(stats, 0, sizeof(*stats));
	memset(&r, 0, sizeof(r));
	r.j = j;
	r.p = p;
	r.out = out;
	r.arg = arg;
	r.st = stats;
	while (rc == 0 && (got = read_line(in, &line, &too_long, e)) == 1) {
		n++;
		if (!too_long && blank(&line))
			continue;
		stats->lines++;
		rc = one_line(&r, n, line.data ? line.data : "", line.len,
		    too_long, e);
	}
	if (rc == 0 && got == -1)
		rc = -1;
	mf_buf_free(&line);
	return rc;
}
