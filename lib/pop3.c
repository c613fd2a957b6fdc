/* pop3.c - POP3 client: parsers, session, and the retrieve step. */
#include "pop3.h"
#include "base64.h"
#include "buf.h"
#include "crypto.h"
#include "lineio.h"
#include "maildir.h"
#include "popstate.h"
#include "sasl.h"
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define IN_MAX (MF_POP3_LINE_MAX + 4 * READ_CHUNK)
#define CAPA_MAX 65536
#define LISTING_LINE (MF_POP3_UID_MAX + 32)
#define AUTH_LINE_MAX 255     /* RFC 5034 §4: command with initial response */
#define SASL_ROUNDS 16
#define MSG_ABS_MAX (4ULL * 1024 * 1024 * 1024)

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

ssize_t
mf_pop3_ml_feed(struct mf_pop3_ml *m, const char *in, size_t n, char *out,
                size_t outcap, size_t *outlen, struct mf_err *e)
{
	size_t i = 0, o = 0;
	char c;

	while (i < n && !m->done && o + 2 <= outcap) {
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

struct mf_pop3 {
	struct mf_lineio *l;
	struct mf_transcript *tr;
	struct mf_buf in;      /* our own read buffer: pipelined replies */
	size_t rpos;
	struct mf_pop3_capa capa;
	char timestamp[256];
	int has_timestamp;
	char host[256];
	unsigned port;
};

static void
esc(const char *s, char *out, size_t outlen)
{
	mf_transcript_escape(s, strlen(s), out, outlen);
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

/* Read a status line: 1 +OK, 0 -ERR (text copied into txt). */
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
send_cmd(struct mf_pop3 *p, int flush, struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
send_cmd(struct mf_pop3 *p, int flush, struct mf_err *e, const char *fmt, ...)
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

/* A simple command: -ERR becomes kind with its text. */
static int
simple(struct mf_pop3 *p, const char *cmd, enum mf_err_kind kind, char *txt,
       size_t txtlen, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[256];
	int r;

	if (send_cmd(p, 1, e, "%s", cmd) == -1)
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

typedef int (*sink_fn)(void *arg, const char *p, size_t n, struct mf_err *e);

/* The body of a multi-line reply, decoded, handed to sink in chunks. */
static int
read_ml(struct mf_pop3 *p, size_t max_line, unsigned long long max_total,
        sink_fn sink, void *arg, struct mf_err *e)
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

/* A listing (CAPA, UIDL, LIST) into b; each line goes to the transcript. */
static int
read_listing(struct mf_pop3 *p, size_t max_line, unsigned long long max_total,
             struct mf_buf *b, struct mf_err *e)
{
	char *s, *nl;

	mf_buf_init(b, (size_t)max_total + 1);
	if (read_ml(p, max_line, max_total, sink_buf, b, e) == -1)
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
	if (send_cmd(p, 1, e, "CAPA") == -1)
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
stls(struct mf_pop3 *p, const struct mf_tls_params *tlsp, struct mf_err *e)
{
	struct mf_tls_info info;
	char text[MF_POP3_LINE_MAX];
	int r;

	if (p->capa.known && !p->capa.stls)
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not offer "
		    "STLS (RFC 2595); use --tls implicit or, knowingly, --tls none");
	if (send_cmd(p, 1, e, "STLS") == -1)
		return -1;
	r = read_status(p, "STLS", text, sizeof(text), e);
	if (r != 1)
		return r == 0 ? mf_err_reply(e, MF_E_UNSUPPORTED, 0, NULL, text,
		    "STLS refused by the server") : -1;
	/* Bytes after the go-ahead came in clear: refuse them (RFC 2595 §4). */
	if (p->rpos != p->in.len)
		return mf_err_set(e, MF_E_PROTO, "the server sent data after "
		    "its STLS go-ahead, before TLS (possible injection)");
	memset(&info, 0, sizeof(info));
	if (mf_lineio_starttls(p->l, tlsp, &info, e) == -1)
		return -1;
	mf_transcript_info(p->tr, "TLS started: %s %s", info.version, info.cipher);
	return do_capa(p, e);  /* RFC 2595 §4: forget what was said in clear */
}

struct mf_pop3 *
mf_pop3_connect(const struct mf_pop3_conn_params *cp, struct mf_err *e)
{
	static const struct mf_tls_params no_tlsp;
	struct mf_sock_opts so = { 0, cp->connect_timeout_ms, cp->timeout_ms };
	const struct mf_tls_params *tlsp = cp->tlsp ? cp->tlsp : &no_tlsp;
	struct mf_transport *t, *tt;
	struct mf_tls_info info;
	struct mf_pop3 *p;
	long port = 0;

	t = mf_sock_connect(cp->host, cp->port, &so, e);
	if (t == NULL)
		return NULL;
	if (cp->tls == MF_TLS_IMPLICIT) {
		memset(&info, 0, sizeof(info));
		tt = mf_tls_wrap(t, tlsp, &info, e);
		if (tt == NULL) {
			mf_transport_free(t);
			return NULL;
		}
		t = tt;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		mf_transport_free(t);
		mf_err_sys(e, MF_E_NOMEM, errno, "pop3");
		return NULL;
	}
	mf_buf_init(&p->in, IN_MAX);
	p->tr = cp->tr;
	mf_strlcpy(p->host, cp->host, sizeof(p->host));
	if (mf_parse_long(cp->port, 1, 65535, &port) == 0)
		p->port = (unsigned)port;
	p->l = mf_lineio_new(t, cp->tr, e);
	if (p->l == NULL) {
		mf_transport_free(t);
		free(p);
		return NULL;
	}
	if (cp->tls == MF_TLS_IMPLICIT)
		mf_transcript_info(p->tr, "TLS started: %s %s", info.version,
		    info.cipher);
	if (greeting(p, e) == -1 || do_capa(p, e) == -1 ||
	    (cp->tls == MF_TLS_STARTTLS && stls(p, tlsp, e) == -1)) {
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
	mf_lineio_free(p->l);
	mf_buf_free(&p->in);
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
auth_user(struct mf_pop3 *p, const struct mf_pop3_auth_params *a,
          struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX];
	int r;

	if (send_cmd(p, 1, e, "USER %s", a->user) == -1)
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
auth_apop(struct mf_pop3 *p, const struct mf_pop3_auth_params *a,
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

/* Send one SASL response line (base64; "" as "=" only in AUTH). */
static int
sasl_send(struct mf_pop3 *p, const struct mf_buf *resp, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(65536);
	int r;

	r = mf_base64_encode(resp->data ? resp->data : "", resp->len, &b, e);
	if (r == 0)
		r = mf_lineio_send_secret(p->l, 0, e, "%s", b.data ? b.data : "");
	if (r == 0)
		r = mf_lineio_flush(p->l, e);
	mf_buf_wipe(&b);
	return r;
}

/* RFC 5034 §4: challenges "+ base64", the end is +OK or -ERR. */
static int
sasl_exchange(struct mf_pop3 *p, struct mf_sasl *s, struct mf_buf *pending_ir,
              struct mf_err *e)
{
	struct mf_buf chal = MF_BUF_INIT(65536), resp = MF_BUF_INIT(65536);
	const char *text;
	char *line;
	int round, r = -1, st;

	for (round = 0; round < SASL_ROUNDS; round++) {
		if (get_line(p, &line, 1, e) == -1)
			goto done;
		if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0')) {
			mf_buf_reset(&chal);
			mf_buf_reset(&resp);
			if (pending_ir != NULL) {  /* IR did not fit the line */
				r = sasl_send(p, pending_ir, e);
				pending_ir = NULL;
			} else if (mf_base64_decode(line[1] ? line + 2 : "",
			    line[1] ? strlen(line + 2) : 0, &chal, 0, e) == -1) {
				send_cmd(p, 1, NULL, "*");
				mf_err_set(e, MF_E_PROTO, "AUTH: the server's "
				    "challenge is not base64");
				r = -1;
				goto done;
			} else {
				r = mf_sasl_step(s, (unsigned char *)chal.data,
				    chal.len, &resp, e);
				if (r == 0)
					r = sasl_send(p, &resp, e);
				else
					send_cmd(p, 1, NULL, "*");
			}
			if (r == -1)
				goto done;
			r = -1;
			continue;
		}
		st = mf_pop3_status(line, &text);
		if (st == 1) {
			r = mf_sasl_finish(s, NULL, 0, e);
			goto done;
		}
		if (st == 0) {
			char what[80];
			snprintf(what, sizeof(what), "AUTH %s", mf_sasl_mech(s));
			r = refused(what, text, e);
			if (mf_sasl_server_error(s)[0] != '\0')
				mf_err_prefix(e, "%s", mf_sasl_server_error(s));
			goto done;
		}
		mf_err_set(e, MF_E_PROTO, "AUTH: unexpected reply");
		goto done;
	}
	mf_err_set(e, MF_E_PROTO, "AUTH: too many challenges");
done:
	mf_buf_wipe(&chal);
	mf_buf_wipe(&resp);
	return r;
}

static int
auth_sasl(struct mf_pop3 *p, const char *mech,
          const struct mf_sasl_params *sp, struct mf_err *e)
{
	struct mf_buf ir = MF_BUF_INIT(65536), b = MF_BUF_INIT(65536);
	struct mf_sasl *s;
	int has_ir = 0, r;

	s = mf_sasl_new(mech, sp, e);
	if (s == NULL)
		return -1;
	r = mf_sasl_initial(s, &ir, &has_ir, e);
	if (r == 0 && has_ir)
		r = mf_base64_encode(ir.data ? ir.data : "", ir.len, &b, e);
	if (r == 0 && has_ir &&
	    6 + strlen(mech) + (b.len ? b.len : 1) <= AUTH_LINE_MAX) {
		r = mf_lineio_send_secret(p->l, 6 + strlen(mech), e, "AUTH %s %s",
		    mech, b.len ? b.data : "=");
		has_ir = 0;
	} else if (r == 0) {
		r = mf_lineio_send(p->l, e, "AUTH %s", mech);
	}
	if (r == 0)
		r = mf_lineio_flush(p->l, e);
	if (r == 0)
		r = sasl_exchange(p, s, has_ir ? &ir : NULL, e);
	mf_buf_wipe(&ir);
	mf_buf_wipe(&b);
	mf_sasl_free(s);
	return r;
}

int
mf_pop3_auth(struct mf_pop3 *p, const struct mf_pop3_auth_params *a,
             char *used, size_t usedlen, struct mf_err *e)
{
	struct mf_sasl_params sp;
	unsigned char cb[64];
	size_t cblen = sizeof(cb);
	char mech[64] = "";
	int tls = mf_lineio_is_tls(p->l), r;

	if (a->user == NULL || a->password == NULL)
		return mf_err_set(e, MF_E_USAGE, "no user or password");
	memset(&sp, 0, sizeof(sp));
	sp.user = a->user;
	sp.password = a->password;
	sp.host = p->host;
	sp.port = p->port;
	if (tls && mf_tls_channel_binding(mf_lineio_transport(p->l), cb, &cblen,
	    NULL) == 0) {
		sp.cb_data = cb;
		sp.cb_len = cblen;
	}
	switch (a->method) {
	case MF_POP3_AUTH_USER:
		mf_strlcpy(mech, "USER", sizeof(mech));
		r = auth_user(p, a, e);
		break;
	case MF_POP3_AUTH_APOP:
		mf_strlcpy(mech, "APOP", sizeof(mech));
		r = auth_apop(p, a, e);
		break;
	case MF_POP3_AUTH_SASL:
		r = mf_sasl_choose(p->capa.sasl, a->sasl_mech, &sp, tls, 1, mech,
		    sizeof(mech), e);
		if (r == 0)
			r = auth_sasl(p, mech, &sp, e);
		break;
	default:
		/* auto: the strongest the server offers; PLAIN/USER only
		 * inside TLS unless the user chose --tls none. */
		if (p->capa.sasl[0] != '\0' && mf_sasl_choose(p->capa.sasl, NULL,
		    &sp, tls, 0, mech, sizeof(mech), NULL) == 0) {
			r = auth_sasl(p, mech, &sp, e);
		} else if (p->has_timestamp) {
			mf_strlcpy(mech, "APOP", sizeof(mech));
			r = auth_apop(p, a, e);
		} else {
			mf_strlcpy(mech, "USER", sizeof(mech));
			r = auth_user(p, a, e);
		}
		break;
	}
	mf_memwipe(cb, sizeof(cb));
	if (used != NULL)
		mf_strlcpy(used, mech, usedlen);
	return r;
}

static int
stat_reply(struct mf_pop3 *p, unsigned long *count, unsigned long long *size,
           struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[256];
	unsigned long n;
	int r;

	r = read_status(p, "STAT", text, sizeof(text), e);
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

int
mf_pop3_stat(struct mf_pop3 *p, unsigned long *count, unsigned long long *size,
             struct mf_err *e)
{
	if (send_cmd(p, 1, e, "STAT") == -1)
		return -1;
	return stat_reply(p, count, size, e);
}

int
mf_pop3_quit(struct mf_pop3 *p, struct mf_err *e)
{
	return simple(p, "QUIT", MF_E_TEMP, NULL, 0, e);
}

/* ------------------------------------------------------------------ */
/* 3. the retrieve step                                                */

enum fate { F_NONE, F_SEEN, F_BIG, F_TODO, F_DONE, F_GONE, F_DELETED };

struct msg {
	unsigned long num;
	unsigned long long size;
	char *uid;
	char tag[MF_POPSTATE_TAG_LEN + 1];
	enum fate fate;
};

struct fetch {
	const struct mf_pop3_fetch_params *fp;
	struct mf_pop3 *p;
	struct mf_popstate *state;
	struct mf_maildir *md;
	struct msg *msgs;
	unsigned long n;
	struct msg **by_uid;      /* sorted by UID: "is it still there" */
	char *tags;               /* sorted P= tags found in the Maildir */
	size_t ntags, tagcap;
	struct mf_pop3_stats *st;
	struct timespec t0;
	unsigned long gone;
	char gone_text[256];
	unsigned window;
};

static void
notice(struct fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notice(struct fetch *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (f->fp->notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->fp->notice(f->fp->cb_arg, msg);
}

static void
progress(struct fetch *f)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	f->st->seconds = (double)(t.tv_sec - f->t0.tv_sec) +
	    (double)(t.tv_nsec - f->t0.tv_nsec) / 1e9;
	if (f->fp->progress != NULL)
		f->fp->progress(f->fp->cb_arg, f->st);
}

static int
cmp_msg(const void *a, const void *b)
{
	return strcmp((*(struct msg *const *)a)->uid,
	    (*(struct msg *const *)b)->uid);
}

static int
cmp_tag(const void *a, const void *b)
{
	return memcmp(a, b, MF_POPSTATE_TAG_LEN);
}

/* UIDL (RFC 1939 §7): without it we cannot tell new from old. */
static int
load_uidl(struct fetch *f, int send, struct mf_err *e)
{
	struct mf_buf b;
	char uid[MF_POP3_UID_MAX + 1], *s, *nl;
	unsigned long num;
	int r;

	if (send && send_cmd(f->p, 1, e, "UIDL") == -1)
		return -1;
	r = read_status(f->p, "UIDL", NULL, 0, e);
	if (r == 0)
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not "
		    "support UIDL (RFC 1939 §7): pop-fetch cannot tell new "
		    "messages from old ones, nothing fetched");
	if (r == -1)
		return -1;
	if (read_listing(f->p, LISTING_LINE, (f->n + 16ULL) * LISTING_LINE, &b,
	    e) == -1)
		goto fail;
	for (s = b.data; s != NULL && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (mf_pop3_parse_uidl(s, &num, uid, sizeof(uid), e) == -1)
			goto fail;
		if (num > f->n || f->msgs[num - 1].uid != NULL) {
			mf_err_set(e, MF_E_PROTO, "UIDL lists message %lu, which "
			    "STAT did not announce or was listed twice", num);
			goto fail;
		}
		f->msgs[num - 1].uid = strdup(uid);
		if (f->msgs[num - 1].uid == NULL) {
			mf_err_sys(e, MF_E_NOMEM, errno, "UIDL");
			goto fail;
		}
	}
	mf_buf_free(&b);
	return 0;
fail:
	mf_buf_free(&b);
	return -1;
}

static int
load_list(struct fetch *f, int send, struct mf_err *e)
{
	struct mf_buf b;
	unsigned long num;
	unsigned long long size;
	char *s, *nl;
	int r;

	if (send && send_cmd(f->p, 1, e, "LIST") == -1)
		return -1;
	r = read_status(f->p, "LIST", NULL, 0, e);
	if (r != 1)
		return r == 0 ? mf_err_set(e, MF_E_PROTO, "LIST refused") : -1;
	if (read_listing(f->p, LISTING_LINE, (f->n + 16ULL) * LISTING_LINE, &b,
	    e) == -1)
		goto fail;
	for (s = b.data; s != NULL && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (mf_pop3_parse_list(s, &num, &size, e) == -1)
			goto fail;
		if (num > f->n) {
			mf_err_set(e, MF_E_PROTO, "LIST lists message %lu, which "
			    "STAT did not announce", num);
			goto fail;
		}
		f->msgs[num - 1].size = size;
	}
	mf_buf_free(&b);
	return 0;
fail:
	mf_buf_free(&b);
	return -1;
}

static int
on_server(void *arg, const char *uid)
{
	struct fetch *f = arg;
	struct msg key, *kp = &key, **hit;

	key.uid = (char *)uid;
	hit = bsearch(&kp, f->by_uid, f->n, sizeof(*f->by_uid), cmp_msg);
	/* a deleted one need not be remembered once QUIT committed */
	return hit != NULL && (*hit)->fate != F_DELETED;
}

static int
scan_tag(void *arg, const char *name)
{
	struct fetch *f = arg;
	char tag[64];
	char *nt;

	if (mf_maildir_name_field(name, "P", tag, sizeof(tag)) == -1 ||
	    strlen(tag) != MF_POPSTATE_TAG_LEN)
		return 0;
	if (f->ntags == f->tagcap) {
		f->tagcap = f->tagcap ? f->tagcap * 2 : 256;
		nt = realloc(f->tags, f->tagcap * MF_POPSTATE_TAG_LEN);
		if (nt == NULL)
			return -1;
		f->tags = nt;
	}
	memcpy(f->tags + f->ntags++ * MF_POPSTATE_TAG_LEN, tag,
	    MF_POPSTATE_TAG_LEN);
	return 0;
}

/* Messages delivered before a crash but not yet in the journal are in the
 * Maildir with our tag: record them instead of fetching them again. */
static int
recover(struct fetch *f, struct mf_err *e)
{
	unsigned long i, found = 0;

	if (mf_maildir_scan(f->md, scan_tag, f, e) != 0)
		return e != NULL && e->kind != MF_OK ? -1 :
		    mf_err_set(e, MF_E_NOMEM, "Maildir scan");
	if (f->ntags == 0)
		return 0;
	qsort(f->tags, f->ntags, MF_POPSTATE_TAG_LEN, cmp_tag);
	for (i = 0; i < f->n; i++) {
		if (f->msgs[i].fate != F_TODO ||
		    bsearch(f->msgs[i].tag, f->tags, f->ntags,
		    MF_POPSTATE_TAG_LEN, cmp_tag) == NULL)
			continue;
		if (mf_popstate_add(f->state, f->msgs[i].uid, e) == -1)
			return -1;
		f->msgs[i].fate = F_SEEN;
		f->st->skipped++;
		f->st->todo--;
		f->st->todo_bytes -= f->msgs[i].size;
		found++;
	}
	if (found == 0)
		return 0;
	notice(f, "%lu message(s) already in the Maildir from an interrupted "
	    "run: recorded, not fetched again", found);
	if (mf_maildir_sync(f->md, e) == -1)
		return -1;
	return mf_popstate_sync(f->state, e);
}

static int
select_msgs(struct fetch *f, struct mf_err *e)
{
	const struct mf_pop3_fetch_params *fp = f->fp;
	unsigned long i;
	struct msg *m;

	for (i = 0; i < f->n; i++) {
		m = &f->msgs[i];
		if (m->uid == NULL)
			return mf_err_set(e, MF_E_PROTO, "UIDL did not list "
			    "message %lu", i + 1);
		f->by_uid[i] = m;
		if (mf_popstate_tag(fp->account, m->uid, m->tag, sizeof(m->tag),
		    e) == -1)
			return -1;
		if (!fp->all && mf_popstate_has(f->state, m->uid)) {
			m->fate = F_SEEN;
		} else if (fp->max_size > 0 && m->size > fp->max_size) {
			m->fate = F_BIG;
			f->st->skipped++;
			notice(f, "message %lu (%llu bytes) left on the server: "
			    "bigger than --max-size", m->num, m->size);
		} else if (fp->limit == 0 || f->st->todo < fp->limit) {
			m->fate = F_TODO;
			f->st->todo++;
			f->st->todo_bytes += m->size;
		}
	}
	qsort(f->by_uid, f->n, sizeof(*f->by_uid), cmp_msg);
	if (f->md != NULL && !fp->all && f->st->todo > 0 && recover(f, e) == -1)
		return -1;
	return 0;
}

/* DELE the messages of list[0..n), pipelined within the window. */
static int
dele(struct fetch *f, struct msg **list, unsigned long n, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[160];
	unsigned long sent = 0, got = 0;
	int r;

	while (got < n) {
		while (sent < n && sent - got < f->window)
			if (send_cmd(f->p, 0, e, "DELE %lu", list[sent++]->num) == -1)
				return -1;
		if (mf_lineio_flush(f->p->l, e) == -1)
			return -1;
		r = read_status(f->p, "DELE", text, sizeof(text), e);
		if (r == -1)
			return -1;
		if (r == 1) {
			list[got]->fate = F_DELETED;
			f->st->deleted++;
		} else {
			esc(text, shown, sizeof(shown));
			notice(f, "DELE %lu refused: -ERR %s", list[got]->num,
			    shown);
		}
		got++;
	}
	return 0;
}

static int
dele_seen(struct fetch *f, struct mf_err *e)
{
	struct msg **list = calloc(f->n + 1, sizeof(*list));
	unsigned long i, k = 0;
	int r;

	if (list == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "DELE list");
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].fate == F_SEEN)
			list[k++] = &f->msgs[i];
	r = dele(f, list, k, e);
	free(list);
	return r;
}

/* ---- delivery: Maildir or MDA ---- */

struct sink {
	struct fetch *f;
	struct mf_maildir_msg *mm;
	int mda_fd;
	pid_t mda_pid;
	int mda_broken;
	unsigned long long bytes;
};

static int
sink_deliver(void *arg, const char *data, size_t n, struct mf_err *e)
{
	struct sink *s = arg;
	ssize_t w;

	s->bytes += n;
	if (s->mm != NULL)
		return mf_maildir_write(s->mm, data, n, e);
	while (n > 0 && !s->mda_broken) {
		w = write(s->mda_fd, data, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {  /* EPIPE: the MDA stopped reading; drain on */
			s->mda_broken = 1;
			break;
		}
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
mda_start(struct sink *s, const char *cmd, struct mf_err *e)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "pipe");
	s->mda_pid = fork();
	if (s->mda_pid == -1) {
		close(fds[0]);
		close(fds[1]);
		return mf_err_sys(e, MF_E_IO, errno, "fork");
	}
	if (s->mda_pid == 0) {
		/* the MDA's chatter must not mix with --json on stdout */
		dup2(fds[0], 0);
		dup2(2, 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	s->mda_fd = fds[1];
	return 0;
}

static int
mda_finish(struct sink *s, struct mf_err *e)
{
	int status = 0;
	pid_t r;

	close(s->mda_fd);
	s->mda_fd = -1;
	do
		r = waitpid(s->mda_pid, &status, 0);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return mf_err_sys(e, MF_E_IO, errno, "waiting for the MDA");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !s->mda_broken)
		return 0;
	if (WIFEXITED(status))
		return mf_err_set(e, MF_E_TEMP, "the --mda command exited with "
		    "status %d%s", WEXITSTATUS(status), s->mda_broken ?
		    " before reading the whole message" : "");
	return mf_err_set(e, MF_E_TEMP, "the --mda command was killed by "
	    "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The body of one RETR reply, into the Maildir (tmp -> new) or the MDA. */
static int
deliver(struct fetch *f, struct msg *m, struct mf_err *e)
{
	struct sink s;
	unsigned long long max;
	char fields[8 + MF_POPSTATE_TAG_LEN];
	int r;

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.mda_fd = -1;
	/* servers' LIST sizes are approximate; a flood must still end */
	max = m->size * 2 + 1024 * 1024;
	if (max > MSG_ABS_MAX)
		max = MSG_ABS_MAX;
	if (f->md != NULL) {
		s.mm = mf_maildir_begin(f->md, e);
		if (s.mm == NULL)
			return -1;
	} else if (mda_start(&s, f->fp->mda, e) == -1) {
		return -1;
	}
	r = read_ml(f->p, MF_POP3_BODY_LINE_MAX, max, sink_deliver, &s, e);
	if (f->md != NULL) {
		if (r == -1) {
			mf_maildir_abort(s.mm);
			return -1;
		}
		snprintf(fields, sizeof(fields), "P=%s", m->tag);
		if (mf_maildir_commit(s.mm, "new", fields, NULL, NULL, 0, e) == -1)
			return -1;
	} else {
		if (r == -1) {
			close(s.mda_fd);
			kill(s.mda_pid, SIGTERM);
			waitpid(s.mda_pid, NULL, 0);
			return -1;
		}
		if (mda_finish(&s, e) == -1)
			return -1;
	}
	mf_transcript_info(f->p->tr, "message %lu: %llu bytes delivered", m->num,
	    s.bytes);
	m->fate = F_DONE;
	f->st->fetched++;
	f->st->bytes += s.bytes;
	progress(f);
	return 0;
}

/* RETR list[0..n), pipelined within the window. */
static int
retr_batch(struct fetch *f, struct msg **list, unsigned long n,
           struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[160];
	unsigned long sent = 0, got = 0;
	int r;

	while (got < n) {
		while (sent < n && sent - got < f->window)
			if (send_cmd(f->p, 0, e, "RETR %lu", list[sent++]->num) == -1)
				return -1;
		if (mf_lineio_flush(f->p->l, e) == -1)
			return -1;
		r = read_status(f->p, "RETR", text, sizeof(text), e);
		if (r == -1)
			return -1;
		if (r == 0) {  /* vanished since LIST: go on with the others */
			esc(text, shown, sizeof(shown));
			notice(f, "message %lu could not be retrieved: -ERR %s",
			    list[got]->num, shown);
			mf_strlcpy(f->gone_text, shown, sizeof(f->gone_text));
			list[got]->fate = F_GONE;
			f->gone++;
			f->st->skipped++;
		} else if (deliver(f, list[got], e) == -1) {
			return -1;
		}
		got++;
	}
	return 0;
}

/* After a failure inside a group: record what was delivered before it
 * (an MDA cannot be asked again), but delete nothing. Best effort: if the
 * Maildir cannot be synced, the P= tags find the messages next time. */
static void
salvage(struct fetch *f, struct msg **list, unsigned long n)
{
	unsigned long i;

	if (f->md != NULL && mf_maildir_sync(f->md, NULL) == -1)
		return;
	for (i = 0; i < n; i++)
		if (list[i]->fate == F_DONE &&
		    mf_popstate_add(f->state, list[i]->uid, NULL) == -1)
			return;
	mf_popstate_sync(f->state, NULL);
}

/* One group: fetch, make durable, record, then delete. */
static int
group(struct fetch *f, struct msg **list, unsigned long n, struct mf_err *e)
{
	unsigned long i, k = 0;

	if (retr_batch(f, list, n, e) == -1) {
		salvage(f, list, n);
		return -1;
	}
	if (f->md != NULL && mf_maildir_sync(f->md, e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (list[i]->fate != F_DONE)
			continue;
		if (mf_popstate_add(f->state, list[i]->uid, e) == -1)
			return -1;
		list[k++] = list[i];
	}
	if (mf_popstate_sync(f->state, e) == -1)
		return -1;
	return f->fp->delete_after ? dele(f, list, k, e) : 0;
}

static int
fetch_all(struct fetch *f, struct mf_err *e)
{
	unsigned batch = f->fp->batch ? f->fp->batch : 64;
	struct msg **list = calloc(batch, sizeof(*list));
	unsigned long i, k = 0;
	int r = 0;

	if (list == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "batch");
	for (i = 0; i < f->n && r == 0; i++) {
		if (f->msgs[i].fate != F_TODO)
			continue;
		list[k++] = &f->msgs[i];
		if (k == batch) {
			r = group(f, list, k, e);
			k = 0;
		}
	}
	if (r == 0 && k > 0)
		r = group(f, list, k, e);
	free(list);
	return r;
}

static int
session(struct fetch *f, struct mf_err *e)
{
	int pipe = f->p->capa.pipelining;
	unsigned long long total;
	unsigned long i;

	/* RFC 2449 §6.6: with PIPELINING the three listings cost one trip */
	if (pipe && (send_cmd(f->p, 0, e, "STAT") == -1 ||
	    send_cmd(f->p, 0, e, "UIDL") == -1 ||
	    send_cmd(f->p, 1, e, "LIST") == -1))
		return -1;
	if ((pipe ? stat_reply(f->p, &f->n, &total, e) :
	    mf_pop3_stat(f->p, &f->n, &total, e)) == -1)
		return -1;
	f->st->listed = f->n;
	f->msgs = calloc(f->n + 1, sizeof(*f->msgs));
	f->by_uid = calloc(f->n + 1, sizeof(*f->by_uid));
	if (f->msgs == NULL || f->by_uid == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "message table");
	for (i = 0; i < f->n; i++)
		f->msgs[i].num = i + 1;
	f->window = f->p->capa.pipelining ? (f->fp->batch ? f->fp->batch : 64) : 1;
	if ((f->n > 0 || pipe) && (load_uidl(f, !pipe, e) == -1 ||
	    load_list(f, !pipe, e) == -1))
		return -1;
	if (f->n > 0 && select_msgs(f, e) == -1)
		return -1;
	progress(f);
	if (f->fp->delete_after && dele_seen(f, e) == -1)
		return -1;
	if (fetch_all(f, e) == -1)
		return -1;
	if (mf_pop3_quit(f->p, e) == -1)
		return -1;
	/* After QUIT the listing is final: forget UIDs no longer there. */
	if (mf_popstate_compact(f->state, on_server, f, e) == -1)
		return -1;
	if (f->gone > 0)
		return mf_err_set(e, MF_E_TEMP, "%lu message(s) could not be "
		    "retrieved (last: -ERR %s); the others were delivered",
		    f->gone, f->gone_text);
	return 0;
}

static void
fetch_free(struct fetch *f)
{
	unsigned long i;

	if (f->msgs != NULL)
		for (i = 0; i < f->n; i++)
			free(f->msgs[i].uid);
	free(f->msgs);
	free(f->by_uid);
	free(f->tags);
	mf_pop3_free(f->p);
	mf_maildir_close(f->md);
	mf_popstate_close(f->state);
}

int
mf_pop3_fetch(const struct mf_pop3_fetch_params *fp, struct mf_pop3_stats *st,
              struct mf_err *e)
{
	struct mf_pop3_stats dummy;
	struct fetch f;
	int r = -1;

	memset(&f, 0, sizeof(f));
	f.fp = fp;
	f.st = st != NULL ? st : &dummy;
	memset(f.st, 0, sizeof(*f.st));
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	if ((fp->maildir == NULL) == (fp->mda == NULL)) {
		mf_err_set(e, MF_E_USAGE, "deliver to a Maildir or an MDA");
		return -1;
	}
	f.state = mf_popstate_open(fp->state, e);
	if (f.state == NULL)
		goto done;
	if (fp->maildir != NULL) {
		f.md = mf_maildir_open(fp->maildir, 1, e);
		if (f.md == NULL)
			goto done;
		/* Each group ends in mf_maildir_sync() before anything is
		 * recorded or deleted: one syncfs per group, not one fsync
		 * per message. */
		mf_maildir_set_batch(f.md, 1);
	}
	f.p = mf_pop3_connect(&fp->conn, e);
	if (f.p == NULL || mf_pop3_auth(f.p, &fp->auth, NULL, 0, e) == -1)
		goto done;
	r = session(&f, e);
done:
	progress(&f);
	fetch_free(&f);
	return r;
}
