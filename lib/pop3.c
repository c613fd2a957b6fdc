/* pop3.c - POP3 client protocol: the pure parsers and one session
 * (greeting, CAPA, STLS, authentication, commands, replies).  What to
 * fetch and where to deliver it is popfetch.c's business. */
#include "pop3.h"
#include "tlsport.h"
#include "esc.h"
#include "base64.h"
#include "buf.h"
#include "crypto.h"
#include "lineio.h"
#include "sasl.h"
#include "session.h"
#include "sock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define READ_CHUNK 65536
#define IN_MAX (MF_POP3_LINE_MAX + 4 * READ_CHUNK)
#define CAPA_MAX 65536
#define AUTH_LINE_MAX 255     /* RFC 5034 §4: command with initial response */

/* ------------------------------------------------------------------ */
/* 1. pure parsers                                                     */

int
mf_pop3_status(const char *line, const char **text)
{
	int ok;
	size_t n;

	if (strncmp(line, "+OK", 3) == 0) {
		ok = 1;
		n = 3;
	} else if (strncmp(line, "-ERR", 4) == 0) {
		ok = 0;
		n = 4;
	} else {
		return -1;
	}
	/* RFC 1939 §3: the indicator is followed by SP and text, or ends. */
	if (line[n] != '\0' && line[n] != ' ')
		return -1;
	if (text != NULL)
		*text = line[n] == ' ' ? line + n + 1 : line + n;
	return ok;
}

void
mf_pop3_resp_code(const char *text, char *out, size_t outlen)
{
	const char *end;

	out[0] = '\0';
	if (text[0] != '[')
		return;
	end = strchr(text, ']');
	if (end == NULL || (size_t)(end - text - 1) >= outlen)
		return;
	memcpy(out, text + 1, (size_t)(end - text - 1));
	out[end - text - 1] = '\0';
}

enum { ML_BOL, ML_DOT, ML_DOTCR, ML_MID, ML_CR };

void
mf_pop3_ml_init(struct mf_pop3_ml *m, size_t max_line,
                unsigned long long max_total)
{
	memset(m, 0, sizeof(*m));
	m->state = ML_BOL;
	m->max_line = max_line;
	m->max_total = max_total;
}

static int
ml_count(struct mf_pop3_ml *m, struct mf_err *e)
{
	if (++m->line_len > m->max_line)
		return mf_err_set(e, MF_E_LIMIT, "the server sent a line longer "
		    "than %zu bytes in a multi-line reply", m->max_line);
	return 0;
}

/* Inside a line, the bytes up to the next CR or LF are data: copied in
 * one go (at most `room`, and no further than max_line allows, so the
 * byte that breaks the limit goes through the checked path).  The bytes
 * taken. */
static size_t
ml_run(struct mf_pop3_ml *m, const char *in, size_t n, char *out,
       size_t room)
{
	const char *lf, *cr;
	size_t k = n < room ? n : room;

	if (m->line_len >= m->max_line)
		return 0;
	if (k > m->max_line - m->line_len)
		k = m->max_line - m->line_len;
	if ((lf = memchr(in, '\n', k)) != NULL)
		k = (size_t)(lf - in);
	if ((cr = memchr(in, '\r', k)) != NULL)
		k = (size_t)(cr - in);
	memcpy(out, in, k);
	m->line_len += k;
	return k;
}

ssize_t
mf_pop3_ml_feed(struct mf_pop3_ml *m, const char *in, size_t n, char *out,
                size_t outcap, size_t *outlen, struct mf_err *e)
{
	size_t i = 0, o = 0;
	char c;

	while (i < n && !m->done && o + 2 <= outcap) {
		if (m->state == ML_MID) {
			size_t k = ml_run(m, in + i, n - i, out + o, outcap - o - 1);
			i += k;
			o += k;
			if (i == n || o + 2 > outcap)
				break;
		}
		c = in[i++];
		switch (m->state) {
		case ML_BOL:
			if (c == '.') {
				m->state = ML_DOT;
				m->line_len = 1;
				continue;
			}
			break;
		case ML_DOT:
			if (c == '\r') {
				m->state = ML_DOTCR;
				continue;
			}
			if (c == '\n') {  /* ".\n": a bare-LF terminator */
				m->done = 1;
				continue;
			}
			break;  /* RFC 1939 §3: drop the stuffed '.' */
		case ML_DOTCR:
			if (c == '\n') {
				m->done = 1;
				continue;
			}
			m->state = ML_CR;  /* "." CR x: a stuffed line with a lone CR */
			i--;
			continue;
		case ML_CR:
			if (c == '\n') {
				out[o++] = '\n';
				m->state = ML_BOL;
				m->line_len = 0;
				continue;
			}
			if (ml_count(m, e) == -1)
				return -1;
			out[o++] = '\r';  /* a lone CR is data */
			if (c == '\r')
				continue;
			break;
		default:
			break;
		}
		/* ML_MID handling of c */
		if (c == '\n') {
			out[o++] = '\n';
			m->state = ML_BOL;
			m->line_len = 0;
			continue;
		}
		if (c == '\r') {  /* counted once we know it is not CRLF */
			m->state = ML_CR;
			continue;
		}
		if (ml_count(m, e) == -1)
			return -1;
		out[o++] = c;
		m->state = ML_MID;
	}
	m->total += o;
	*outlen = o;
	if (m->total > m->max_total)
		return mf_err_set(e, MF_E_LIMIT, "a multi-line reply exceeded "
		    "%llu bytes", m->max_total);
	return (ssize_t)i;
}

static int
capa_is(const char *line, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncasecmp(line, word, n) != 0 || (line[n] != '\0' && line[n] != ' '))
		return 0;
	if (rest != NULL)
		*rest = line[n] == ' ' ? line + n + 1 : line + n;
	return 1;
}

void
mf_pop3_capa_line(struct mf_pop3_capa *c, const char *line)
{
	const char *rest;

	if (capa_is(line, "STLS", NULL))
		c->stls = 1;
	else if (capa_is(line, "UIDL", NULL))
		c->uidl = 1;
	else if (capa_is(line, "PIPELINING", NULL))
		c->pipelining = 1;
	else if (capa_is(line, "TOP", NULL))
		c->top = 1;
	else if (capa_is(line, "USER", NULL))
		c->user = 1;
	else if (capa_is(line, "RESP-CODES", NULL))
		c->resp_codes = 1;
	else if (capa_is(line, "AUTH-RESP-CODE", NULL))
		c->auth_resp_code = 1;
	else if (capa_is(line, "SASL", &rest))
		mf_strlcpy(c->sasl, rest, sizeof(c->sasl));
}

static int
parse_num(const char **s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

int
mf_pop3_parse_uidl(const char *line, unsigned long *num, char *uid,
                   size_t uidlen, struct mf_err *e)
{
	unsigned long long n;
	const char *p = line;
	size_t i;

	if (parse_num(&p, 0xffffffffUL, &n) == -1 || n == 0 || *p != ' ')
		return mf_err_set(e, MF_E_PROTO, "bad UIDL line");
	p++;
	for (i = 0; p[i] != '\0' && p[i] != ' '; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
			return mf_err_set(e, MF_E_PROTO, "UIDL line with a "
			    "non-printable byte in the UID");
	/* RFC 1939 §7: 1 to 70 characters 0x21..0x7e; we allow longer. */
	if (i == 0 || i > MF_POP3_UID_MAX || i >= uidlen || p[i] != '\0')
		return mf_err_set(e, MF_E_PROTO, "bad UIDL line");
	memcpy(uid, p, i);
	uid[i] = '\0';
	*num = (unsigned long)n;
	return 0;
}

int
mf_pop3_parse_list(const char *line, unsigned long *num,
                   unsigned long long *size, struct mf_err *e)
{
	unsigned long long n, sz;
	const char *p = line;

	if (parse_num(&p, 0xffffffffUL, &n) == -1 || n == 0 || *p != ' ')
		return mf_err_set(e, MF_E_PROTO, "bad LIST line");
	p++;
	if (parse_num(&p, ~0ULL, &sz) == -1 || (*p != '\0' && *p != ' '))
		return mf_err_set(e, MF_E_PROTO, "bad LIST line");
	*num = (unsigned long)n;
	*size = sz;
	return 0;
}

int
mf_pop3_greeting_timestamp(const char *greeting, char *out, size_t outlen)
{
	const char *lt = strchr(greeting, '<'), *gt;

	if (lt == NULL || (gt = strchr(lt, '>')) == NULL)
		return -1;
	/* RFC 1939 §7: a msg-id, so it has an '@' inside. */
	if (memchr(lt, '@', (size_t)(gt - lt)) == NULL ||
	    (size_t)(gt - lt + 1) >= outlen)
		return -1;
	memcpy(out, lt, (size_t)(gt - lt + 1));
	out[gt - lt + 1] = '\0';
	return 0;
}

int
mf_pop3_apop_digest(const char *timestamp, const char *password,
                    char out[33], struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	unsigned char md[16];
	int r;

	r = mf_buf_puts(&b, timestamp, e);
	if (r == 0)
		r = mf_buf_puts(&b, password, e);
	if (r == 0)
		r = mf_hash(MF_MD5, b.data, b.len, md, e);
	mf_buf_wipe(&b);
	if (r == 0)
		mf_hex(md, sizeof(md), out);
	mf_memwipe(md, sizeof(md));
	return r;
}

/* ------------------------------------------------------------------ */
/* 2. the session                                                      */

/* A command sent and not yet answered. */
struct sent {
	enum mf_pop3_cmd cmd;
	unsigned long num;
};

struct mf_pop3 {
	struct mf_session *sess;
	struct mf_lineio *l;   /* the session's */
	struct mf_transcript *tr;
	struct mf_buf in;      /* our own read buffer: pipelined replies */
	size_t rpos;
	struct mf_pop3_capa capa;
	char timestamp[256];
	int has_timestamp;
	char host[256];
	unsigned port;
	struct sent *q;        /* queued commands awaiting a reply, oldest */
	size_t qhead, qlen, qcap;  /* at q[qhead] */
};

static void
esc(const char *s, char *out, size_t outlen)
{
	mf_esc_str(out, outlen, s);
}

static int
fill(struct mf_pop3 *p, struct mf_err *e)
{
	ssize_t r;

	if (p->rpos > 0) {
		mf_buf_consume(&p->in, p->rpos);
		p->rpos = 0;
	}
	if (mf_buf_reserve(&p->in, READ_CHUNK, e) == -1)
		return -1;
	r = mf_lineio_read_some(p->l, p->in.data + p->in.len, READ_CHUNK, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return mf_err_set(e, MF_E_CLOSED, "the server closed the "
		    "connection");
	p->in.len += (size_t)r;
	p->in.data[p->in.len] = '\0';
	return 0;
}

/* One CRLF (or bare LF) line from the buffer, NUL-terminated in place;
 * valid until the next read. */
static int
get_line(struct mf_pop3 *p, char **line, int record, struct mf_err *e)
{
	char *start, *nl;
	size_t avail, n;

	for (;;) {
		if (p->in.data == NULL && fill(p, e) == -1)
			return -1;
		avail = p->in.len - p->rpos;
		start = p->in.data + p->rpos;
		nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
		if (nl != NULL) {
			n = (size_t)(nl - start);
			p->rpos += n + 1;
			*nl = '\0';
			if (n > 0 && start[n - 1] == '\r')
				start[--n] = '\0';
			if (n > MF_POP3_LINE_MAX)
				break;
			if (record)
				mf_transcript_line(p->tr, MF_TX_RECV,
				    mf_lineio_is_tls(p->l), start, n,
				    MF_TX_NO_SECRET);
			*line = start;
			return 0;
		}
		if (avail > MF_POP3_LINE_MAX)
			break;
		if (fill(p, e) == -1)
			return -1;
	}
	return mf_err_set(e, MF_E_LIMIT, "the server sent a line longer than "
	    "%d bytes", MF_POP3_LINE_MAX);
}

/* Read one status line (recorded in the transcript): 1 for +OK, 0 for
 * -ERR, with the text after the indicator copied into txt (may be NULL);
 * -1 on I/O errors or a line that is neither (MF_E_PROTO).  cmd names the
 * command in error messages. */
static int
read_status(struct mf_pop3 *p, const char *cmd, char *txt, size_t txtlen,
            struct mf_err *e)
{
	const char *text;
	char *line, shown[160];
	int r;

	if (get_line(p, &line, 1, e) == -1) {
		mf_err_prefix(e, "waiting for the reply to %s", cmd);
		return -1;
	}
	r = mf_pop3_status(line, &text);
	if (r == -1) {
		esc(line, shown, sizeof(shown));
		return mf_err_reply(e, MF_E_PROTO, 0, NULL, line,
		    "%s: the server answered neither +OK nor -ERR: \"%s\"",
		    cmd, shown);
	}
	if (txt != NULL)
		mf_strlcpy(txt, text, txtlen);
	return r;
}

static int
send_line(struct mf_pop3 *p, int flush, struct mf_err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Queue one command line (CRLF added); with flush, send everything
 * queued.  MF_E_INTERNAL when the line exceeds MF_POP3_LINE_MAX. */
static int
send_line(struct mf_pop3 *p, int flush, struct mf_err *e, const char *fmt, ...)
{
	char line[MF_POP3_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return mf_err_set(e, MF_E_INTERNAL, "command too long");
	if (mf_lineio_send(p->l, e, "%s", line) == -1)
		return -1;
	return flush ? mf_lineio_flush(p->l, e) : 0;
}

int
mf_pop3_flush(struct mf_pop3 *p, struct mf_err *e)
{
	return mf_lineio_flush(p->l, e);
}

/* A simple command: -ERR becomes kind with its text. */
static int
simple(struct mf_pop3 *p, const char *cmd, enum mf_err_kind kind, char *txt,
       size_t txtlen, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[256];
	int r;

	if (send_line(p, 1, e, "%s", cmd) == -1)
		return -1;
	r = read_status(p, cmd, text, sizeof(text), e);
	if (r == 0) {
		esc(text, shown, sizeof(shown));
		return mf_err_reply(e, kind, 0, NULL, text, "%s refused: -ERR %s",
		    cmd, shown);
	}
	if (r == 1 && txt != NULL)
		mf_strlcpy(txt, text, txtlen);
	return r == 1 ? 0 : -1;
}

int
mf_pop3_read_body(struct mf_pop3 *p, size_t max_line,
                  unsigned long long max_total, mf_pop3_sink_fn sink,
                  void *arg, struct mf_err *e)
{
	struct mf_pop3_ml m;
	char out[READ_CHUNK];
	size_t outlen;
	ssize_t used;

	mf_pop3_ml_init(&m, max_line, max_total);
	while (!m.done) {
		if (p->rpos == p->in.len) {
			if (fill(p, e) == -1) {
				if (e != NULL && e->kind == MF_E_CLOSED)
					mf_err_set(e, MF_E_CLOSED, "the server "
					    "closed the connection in the middle "
					    "of a multi-line reply (no final "
					    "\".\" line)");
				else
					mf_err_prefix(e, "waiting for the rest "
					    "of a multi-line reply");
				return -1;
			}
			continue;
		}
		used = mf_pop3_ml_feed(&m, p->in.data + p->rpos,
		    p->in.len - p->rpos, out, sizeof(out), &outlen, e);
		if (used < 0)
			return -1;
		p->rpos += (size_t)used;
		if (outlen > 0 && sink(arg, out, outlen, e) == -1)
			return -1;
	}
	return 0;
}

static int
sink_buf(void *arg, const char *data, size_t n, struct mf_err *e)
{
	return mf_buf_append(arg, data, n, e);
}

/* A listing body (CAPA, UIDL, LIST) into b, which this initialises with
 * limit max_total + 1; the caller frees b even on failure.  Each line goes
 * to the transcript. */
static int
read_listing(struct mf_pop3 *p, size_t max_line, unsigned long long max_total,
             struct mf_buf *b, struct mf_err *e)
{
	char *s, *nl;

	mf_buf_init(b, (size_t)max_total + 1);
	if (mf_pop3_read_body(p, max_line, max_total, sink_buf, b, e) == -1)
		return -1;
	for (s = b->data; s != NULL && *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl == NULL)
			break;
		mf_transcript_line(p->tr, MF_TX_RECV, mf_lineio_is_tls(p->l), s,
		    (size_t)(nl - s), MF_TX_NO_SECRET);
	}
	return 0;
}

static int
do_capa(struct mf_pop3 *p, struct mf_err *e)
{
	struct mf_buf b;
	char *s, *nl;
	int r;

	memset(&p->capa, 0, sizeof(p->capa));
	if (send_line(p, 1, e, "CAPA") == -1)
		return -1;
	r = read_status(p, "CAPA", NULL, 0, e);
	if (r != 1)
		return r;  /* -ERR: an RFC 1939-only server, capa stays unknown */
	if (read_listing(p, MF_POP3_LINE_MAX, CAPA_MAX, &b, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	p->capa.known = 1;
	for (s = b.data; s != NULL && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		mf_pop3_capa_line(&p->capa, s);
	}
	mf_buf_free(&b);
	return 0;
}

static int
greeting(struct mf_pop3 *p, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[256];
	int r;

	r = read_status(p, "the greeting", text, sizeof(text), e);
	if (r == -1) {
		if (e != NULL && e->kind == MF_E_PROTO)
			mf_err_prefix(e, "not a POP3 server");
		return -1;
	}
	if (r == 0) {
		esc(text, shown, sizeof(shown));
		return mf_err_reply(e, MF_E_TEMP, 0, NULL, text, "the server "
		    "refused the connection: -ERR %s", shown);
	}
	p->has_timestamp = mf_pop3_greeting_timestamp(text, p->timestamp,
	    sizeof(p->timestamp)) == 0;
	return 0;
}

static int
stls(struct mf_pop3 *p, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX];
	int r;

	if (p->capa.known && !p->capa.stls)
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not offer "
		    "STLS (RFC 2595); use --tls implicit or, knowingly, --tls none");
	if (send_line(p, 1, e, "STLS") == -1)
		return -1;
	r = read_status(p, "STLS", text, sizeof(text), e);
	if (r != 1)
		return r == 0 ? mf_err_reply(e, MF_E_UNSUPPORTED, 0, NULL, text,
		    "STLS refused by the server") : -1;
	/* Bytes after the go-ahead came in clear: refuse them (RFC 2595 §4). */
	if (p->rpos != p->in.len)
		return mf_err_set(e, MF_E_PROTO, "the server sent data after "
		    "its STLS go-ahead, before TLS (possible injection)");
	if (mf_session_starttls(p->sess, e) == -1)
		return -1;
	return do_capa(p, e);  /* RFC 2595 §4: forget what was said in clear */
}

static void
session_params(const struct mf_conn *c, struct mf_session_params *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->conn = *c;
	if (sp->conn.sock.io_timeout_ms == 0)
		sp->conn.sock.io_timeout_ms = c->timeout_ms;
}

/* The protocol's state over session sess (owned from now on, freed on
 * error). */
static struct mf_pop3 *
pop3_new(struct mf_session *sess, const struct mf_conn *cp,
         struct mf_err *e)
{
	struct mf_pop3 *p;
	long port = 0;

	if (sess == NULL)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		mf_session_free(sess);
		mf_err_sys(e, MF_E_NOMEM, errno, "pop3");
		return NULL;
	}
	mf_buf_init(&p->in, IN_MAX);
	p->tr = cp->tr;
	p->sess = sess;
	p->l = mf_session_lineio(sess);
	mf_strlcpy(p->host, cp->host ? cp->host : "", sizeof(p->host));
	if (cp->port != NULL && mf_parse_long(cp->port, 1, 65535, &port) == 0)
		p->port = (unsigned)port;
	return p;
}

struct mf_pop3 *
mf_pop3_attach(struct mf_transport *t, const struct mf_conn *cp,
               struct mf_err *e)
{
	struct mf_session_params sp;
	struct mf_pop3 *p;

	session_params(cp, &sp);
	p = pop3_new(mf_session_attach(t, &sp, e), cp, e);
	if (p != NULL && (greeting(p, e) == -1 || do_capa(p, e) == -1)) {
		mf_pop3_free(p);
		return NULL;
	}
	return p;
}

struct mf_pop3 *
mf_pop3_connect(const struct mf_conn *cp, struct mf_err *e)
{
	struct mf_session_params sp;
	struct mf_tls_info info;
	struct mf_session *sess;
	struct mf_pop3 *p;

	session_params(cp, &sp);
	sess = mf_session_open(&sp, &info, e);
	if (sess == NULL) {
		if (cp->tls == MF_TLS_IMPLICIT)
			mf_tlsport_explain_implicit(&info, cp->port, e);
		return NULL;
	}
	if ((p = pop3_new(sess, cp, e)) == NULL)
		return NULL;
	if (mf_session_check_port(sess, e) == -1 || greeting(p, e) == -1 ||
	    do_capa(p, e) == -1 ||
	    (cp->tls == MF_TLS_STARTTLS && stls(p, e) == -1)) {
		mf_pop3_free(p);
		return NULL;
	}
	return p;
}

void
mf_pop3_free(struct mf_pop3 *p)
{
	if (p == NULL)
		return;
	mf_session_free(p->sess);
	mf_buf_free(&p->in);
	free(p->q);
	free(p);
}

const struct mf_pop3_capa *
mf_pop3_capa(const struct mf_pop3 *p)
{
	return &p->capa;
}

int
mf_pop3_is_tls(const struct mf_pop3 *p)
{
	return mf_lineio_is_tls(p->l);
}

/* -ERR to a login step: RFC 2449 §8 / RFC 3206 codes say whether it is
 * worth retrying. */
static int
refused(const char *what, const char *text, struct mf_err *e)
{
	enum mf_err_kind kind = MF_E_AUTH;
	char code[64], shown[256];

	mf_pop3_resp_code(text, code, sizeof(code));
	if (strcasecmp(code, "IN-USE") == 0 || strcasecmp(code, "SYS/TEMP") == 0)
		kind = MF_E_TEMP;
	else if (strcasecmp(code, "SYS/PERM") == 0)
		kind = MF_E_PERM;
	esc(text, shown, sizeof(shown));
	return mf_err_reply(e, kind, 0, NULL, text, "%s refused: -ERR %s", what,
	    shown);
}

static int
auth_user(struct mf_pop3 *p, const struct mf_sasl_params *a,
          struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX];
	int r;

	if (send_line(p, 1, e, "USER %s", a->user) == -1)
		return -1;
	r = read_status(p, "USER", text, sizeof(text), e);
	if (r != 1)
		return r == 0 ? refused("USER", text, e) : -1;
	if (mf_lineio_send_secret(p->l, 5, e, "PASS %s", a->password) == -1 ||
	    mf_lineio_flush(p->l, e) == -1)
		return -1;
	r = read_status(p, "PASS", text, sizeof(text), e);
	if (r != 1)
		return r == 0 ? refused("PASS", text, e) : -1;
	return 0;
}

static int
auth_apop(struct mf_pop3 *p, const struct mf_sasl_params *a,
          struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], digest[33];
	int r;

	if (!p->has_timestamp)
		return mf_err_set(e, MF_E_UNSUPPORTED, "APOP: the greeting has "
		    "no timestamp, the server does not offer APOP");
	if (mf_pop3_apop_digest(p->timestamp, a->password, digest, e) == -1)
		return -1;
	r = mf_lineio_send_secret(p->l, 6 + strlen(a->user), e, "APOP %s %s",
	    a->user, digest);
	mf_memwipe(digest, sizeof(digest));
	if (r == -1 || mf_lineio_flush(p->l, e) == -1)
		return -1;
	r = read_status(p, "APOP", text, sizeof(text), e);
	if (r != 1)
		return r == 0 ? refused("APOP", text, e) : -1;
	return 0;
}

/* POP3's side of the SASL exchange (RFC 5034 §4): "AUTH MECH [initial]"
 * on a line of at most 255 octets, challenges as "+ base64", the end is
 * +OK or -ERR. */
struct pop3_sasl_io {
	struct mf_pop3 *p;
	const char *text;  /* the last status line's text */
};

static int
sasl_send_command(void *arg, const char *line, size_t secret_from,
                  struct mf_err *e)
{
	struct pop3_sasl_io *io = arg;

	if (mf_lineio_send_secret(io->p->l, secret_from, e, "%s", line) == -1)
		return -1;
	return mf_lineio_flush(io->p->l, e);
}

static int
sasl_send_line(void *arg, const char *line, int secret, struct mf_err *e)
{
	return sasl_send_command(arg, line, secret ? 0 : MF_TX_NO_SECRET, e);
}

static int
sasl_read_reply(void *arg, struct mf_sasl_reply *sr, struct mf_err *e)
{
	struct pop3_sasl_io *io = arg;
	char *line;
	int st;

	if (get_line(io->p, &line, 1, e) == -1)
		return -1;
	if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0')) {
		sr->kind = MF_SASL_CONTINUE;
		sr->payload = line[1] != '\0' ? line + 2 : "";
		return 0;
	}
	st = mf_pop3_status(line, &io->text);
	if (st == -1)
		return mf_err_set(e, MF_E_PROTO, "AUTH: unexpected reply");
	sr->kind = st == 1 ? MF_SASL_SUCCESS : MF_SASL_FAILURE;
	sr->payload = "";
	return 0;
}

static void
sasl_refused(void *arg, const char *mech, struct mf_err *e)
{
	char what[80];

	(void)snprintf(what, sizeof(what), "AUTH %s", mech);
	refused(what, ((struct pop3_sasl_io *)arg)->text, e);
}

static const struct mf_sasl_proto pop3_sasl = {
	.command = "AUTH",
	.ir_line_max = AUTH_LINE_MAX,
	.send_command = sasl_send_command,
	.send_line = sasl_send_line,
	.read_reply = sasl_read_reply,
	.refused = sasl_refused,
};

static int
auth_sasl(struct mf_pop3 *p, const char *mech,
          const struct mf_sasl_params *sp, struct mf_err *e)
{
	struct pop3_sasl_io io = { p, "" };

	return mf_sasl_exchange(&pop3_sasl, &io, 1, mech, sp, NULL, 0, e);
}

static int
sasl_attempt(void *arg, const char *mech, const struct mf_sasl_params *sp,
             struct mf_err *e)
{
	return auth_sasl(arg, mech, sp, e);
}

int
mf_pop3_auth_method(const char *mech, enum mf_pop3_auth *m, struct mf_err *e)
{
	if (mech == NULL || strcasecmp(mech, "auto") == 0)
		*m = MF_POP3_AUTH_AUTO;
	else if (strcasecmp(mech, "user") == 0)
		*m = MF_POP3_AUTH_USER;
	else if (strcasecmp(mech, "apop") == 0)
		*m = MF_POP3_AUTH_APOP;
	else if (strcasecmp(mech, "none") == 0)
		return mf_err_set(e, MF_E_USAGE, "--auth none: POP3 needs a login");
	else
		*m = MF_POP3_AUTH_SASL;
	return 0;
}

/* One method with the secret in sp; the method's name goes to mech. */
static int
auth_with(struct mf_pop3 *p, enum mf_pop3_auth method, const char *want,
          const struct mf_sasl_params *sp, char *mech, size_t mechlen,
          struct mf_err *e)
{
	int tls = mf_lineio_is_tls(p->l);

	switch (method) {
	case MF_POP3_AUTH_USER:
		mf_strlcpy(mech, "USER", mechlen);
		return auth_user(p, sp, e);
	case MF_POP3_AUTH_APOP:
		mf_strlcpy(mech, "APOP", mechlen);
		return auth_apop(p, sp, e);
	case MF_POP3_AUTH_SASL:
		return mf_sasl_login(p->capa.sasl, want, sp, tls, 1, sasl_attempt,
		    p, mf_lineio_transcript(p->l), mech, mechlen, e);
	default:
		break;
	}
	/* auto: the strongest the server offers; PLAIN/USER only inside TLS
	 * unless the user chose --tls none. */
	if (p->capa.sasl[0] != '\0' && mf_sasl_choose(p->capa.sasl, NULL, sp,
	    tls, 0, mech, mechlen, NULL) == 0)
		return mf_sasl_login(p->capa.sasl, NULL, sp, tls, 0, sasl_attempt,
		    p, mf_lineio_transcript(p->l), mech, mechlen, e);
	return auth_with(p, p->has_timestamp ? MF_POP3_AUTH_APOP :
	    MF_POP3_AUTH_USER, NULL, sp, mech, mechlen, e);
}

int
mf_pop3_auth(struct mf_pop3 *p, const struct mf_auth *a, char *used,
             size_t usedlen, struct mf_err *e)
{
	enum mf_pop3_auth method;
	struct mf_sasl_params sp;
	struct mf_secret pw;
	unsigned char cb[64];
	char mech[64] = "";
	int r;

	if (mf_pop3_auth_method(a->mech, &method, e) == -1)
		return -1;
	if (a->user == NULL)
		return mf_err_set(e, MF_E_USAGE, "no user or password");
	if (mf_auth_secret(a, &pw, e) == -1)
		return -1;
	mf_sasl_params_set(&sp, a, method == MF_POP3_AUTH_SASL ? a->mech : NULL,
	    pw.data, p->host, p->port);
	if (mf_lineio_is_tls(p->l))
		mf_sasl_bind_tls(&sp, mf_lineio_transport(p->l), cb, sizeof(cb));
	r = auth_with(p, method, a->mech, &sp, mech, sizeof(mech), e);
	mf_memwipe(cb, sizeof(cb));
	mf_secret_wipe(&pw);
	if (used != NULL)
		mf_strlcpy(used, mech, usedlen);
	return r;
}

/* ------------------------------------------------------------------ */
/* 3. the transaction commands (RFC 1939 §5), pipelined (RFC 2449 §6.6) */

#define LISTING_LINE (MF_POP3_UID_MAX + 32)

static const char *const cmd_names[] = {
	[MF_POP3_STAT] = "STAT", [MF_POP3_UIDL] = "UIDL",
	[MF_POP3_LIST] = "LIST", [MF_POP3_RETR] = "RETR",
	[MF_POP3_DELE] = "DELE",
};

int
mf_pop3_cmd_line(enum mf_pop3_cmd cmd, unsigned long num, char *out,
                 size_t outlen, struct mf_err *e)
{
	int n, with_num;

	if ((unsigned)cmd > MF_POP3_DELE)
		return mf_err_set(e, MF_E_USAGE, "no such POP3 command (%d)",
		    (int)cmd);
	with_num = cmd == MF_POP3_RETR || cmd == MF_POP3_DELE;
	if (with_num != (num != 0))
		return mf_err_set(e, MF_E_USAGE, "%s: message number %lu "
		    "(RFC 1939 §5: messages are numbered from 1)",
		    cmd_names[cmd], num);
	n = with_num ? snprintf(out, outlen, "%s %lu", cmd_names[cmd], num) :
	    snprintf(out, outlen, "%s", cmd_names[cmd]);
	if (n < 0 || (size_t)n >= outlen)
		return mf_err_set(e, MF_E_INTERNAL, "command too long");
	return 0;
}

int
mf_pop3_queue(struct mf_pop3 *p, enum mf_pop3_cmd cmd, unsigned long num,
              struct mf_err *e)
{
	char line[32];
	struct sent *nq;
	size_t cap;

	if (mf_pop3_cmd_line(cmd, num, line, sizeof(line), e) == -1)
		return -1;
	if (p->qhead + p->qlen == p->qcap && p->qhead > 0) {
		memmove(p->q, p->q + p->qhead, p->qlen * sizeof(*p->q));
		p->qhead = 0;
	} else if (p->qlen == p->qcap) {
		cap = p->qcap ? p->qcap * 2 : 64;
		if ((nq = reallocarray(p->q, cap, sizeof(*nq))) == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "command queue");
		p->q = nq;
		p->qcap = cap;
	}
	if (send_line(p, 0, e, "%s", line) == -1)
		return -1;
	p->q[p->qhead + p->qlen].cmd = cmd;
	p->q[p->qhead + p->qlen].num = num;
	p->qlen++;
	return 0;
}

size_t
mf_pop3_pending(const struct mf_pop3 *p)
{
	return p->qlen;
}

int
mf_pop3_reply(struct mf_pop3 *p, enum mf_pop3_cmd *cmd, unsigned long *num,
              char *txt, size_t txtlen, struct mf_err *e)
{
	struct sent s;

	if (p->qlen == 0)
		return mf_err_set(e, MF_E_INTERNAL, "reading a POP3 reply with "
		    "no command sent");
	if (mf_pop3_flush(p, e) == -1)
		return -1;
	s = p->q[p->qhead];
	p->qhead = --p->qlen == 0 ? 0 : p->qhead + 1;
	if (cmd != NULL)
		*cmd = s.cmd;
	if (num != NULL)
		*num = s.num;
	return read_status(p, cmd_names[s.cmd], txt, txtlen, e);
}

/* The status of cmd (STAT, UIDL, LIST): queued by the caller as the
 * oldest unanswered command, or sent now. */
static int
typed_status(struct mf_pop3 *p, enum mf_pop3_cmd cmd, char *txt,
             size_t txtlen, struct mf_err *e)
{
	if (p->qlen == 0 && mf_pop3_queue(p, cmd, 0, e) == -1)
		return -1;
	if (p->q[p->qhead].cmd != cmd)
		return mf_err_set(e, MF_E_INTERNAL, "%s while %s awaits its "
		    "reply", cmd_names[cmd], cmd_names[p->q[p->qhead].cmd]);
	return mf_pop3_reply(p, NULL, NULL, txt, txtlen, e);
}

int
mf_pop3_stat(struct mf_pop3 *p, unsigned long *count, unsigned long long *size,
             struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[256];
	unsigned long n;
	int r;

	r = typed_status(p, MF_POP3_STAT, text, sizeof(text), e);
	if (r == 0) {
		esc(text, shown, sizeof(shown));
		return mf_err_reply(e, MF_E_PROTO, 0, NULL, text, "STAT refused: "
		    "-ERR %s", shown);
	}
	if (r == -1)
		return -1;
	if (mf_pop3_parse_list(text, &n, size, NULL) == -1) {
		/* "+OK 0 0" is legal: parse_list refuses n == 0, so by hand */
		if (strncmp(text, "0 ", 2) != 0)
			return mf_err_set(e, MF_E_PROTO, "bad STAT reply");
		n = 0;
		*size = 0;
	}
	*count = n;
	return 0;
}

/* The listing that answers cmd (UIDL or LIST), each line parsed and
 * handed to uidl or list. */
static int
listing(struct mf_pop3 *p, enum mf_pop3_cmd cmd, unsigned long count,
        mf_pop3_uidl_fn uidl, mf_pop3_list_fn list, void *arg,
        struct mf_err *e)
{
	char uid[MF_POP3_UID_MAX + 1], *s, *nl;
	unsigned long long size;
	unsigned long num;
	struct mf_buf b;
	int r;

	r = typed_status(p, cmd, NULL, 0, e);
	if (r != 1)
		return r;
	r = read_listing(p, LISTING_LINE, (count + 16ULL) * LISTING_LINE, &b,
	    e);
	for (s = b.data; r == 0 && s != NULL && (nl = strchr(s, '\n')) != NULL;
	    s = nl + 1) {
		*nl = '\0';
		if (uidl != NULL)
			r = mf_pop3_parse_uidl(s, &num, uid, sizeof(uid), e) ==
			    -1 ? -1 : uidl(arg, num, uid, e);
		else
			r = mf_pop3_parse_list(s, &num, &size, e) == -1 ? -1 :
			    list(arg, num, size, e);
	}
	mf_buf_free(&b);
	return r == 0 ? 1 : -1;
}

int
mf_pop3_uidl(struct mf_pop3 *p, unsigned long count, mf_pop3_uidl_fn fn,
             void *arg, struct mf_err *e)
{
	return listing(p, MF_POP3_UIDL, count, fn, NULL, arg, e);
}

int
mf_pop3_list(struct mf_pop3 *p, unsigned long count, mf_pop3_list_fn fn,
             void *arg, struct mf_err *e)
{
	return listing(p, MF_POP3_LIST, count, NULL, fn, arg, e);
}

int
mf_pop3_quit(struct mf_pop3 *p, struct mf_err *e)
{
	return simple(p, "QUIT", MF_E_TEMP, NULL, 0, e);
}
