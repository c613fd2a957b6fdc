/* smtp.c - SMTP client (RFC 5321) driven step by step. */
#include "smtp.h"
#include "tlsport.h"
#include "base64.h"
#include "cred.h"
#include "idn.h"
#include "lineio.h"
#include "mimepart.h"
#include "session.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REPLY_LINES_MAX 1000
#define CMD_MAX MF_SMTP_CMD_MAX
#define ADDR_MAX 1024   /* a path, either form (RFC 5321 §4.5.3.1.3: 256) */
#define MSG_MAX ((size_t)1 << 30)   /* 1 GiB: far beyond any SIZE */

struct mf_smtp {
	struct mf_smtp_params p;
	char host[256];
	char port[16];
	char ehlo[256];
	struct mf_session *sess;
	struct mf_lineio *io;      /* the session's */
	struct mf_tls_info tls;    /* the last handshake, also a failed one */
	int tls_tried;
	struct mf_smtp_caps caps;
	int broken;        /* the connection is unusable: no QUIT, no RSET */
	int quit_done;
	int no_chunking;
	int no_pipelining;
	int defer_auth;    /* a one-round AUTH may join the first transaction */
	char auth_sent[32];  /* the mechanism of an AUTH whose reply is unread */
	int auth_failed;   /* that AUTH was refused: the session is done */
	unsigned queued;   /* commands queued since the last flush */
	char queued_names[128];
};

/* ---------------------------------------------------------------- */
/* pure helpers */

enum mf_err_kind
mf_smtp_reply_kind(int code)
{
	if (code >= 200 && code < 400)
		return MF_OK;
	if (code >= 400 && code < 500)
		return MF_E_TEMP;
	if (code >= 500 && code < 600)
		return MF_E_PERM;
	return MF_E_PROTO;
}

int
mf_smtp_parse_reply_line(const char *line, size_t len, int *code,
                         const char **text)
{
	int i;

	/* RFC 5321 §4.2: three digits, then SP, "-" or the end of line. */
	if (len < 3)
		return -1;
	for (i = 0; i < 3; i++)
		if (!isdigit((unsigned char)line[i]))
			return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] > '5')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3) {
		*text = line + 3;
		return 0;
	}
	if (line[3] != ' ' && line[3] != '-')
		return -1;
	*text = line + 4;
	return line[3] == '-';
}

/* RFC 3463 / RFC 2034: "class.subject.detail" at the start of the text,
 * class matching the reply code's first digit. Returns its length. */
static size_t
enhanced_len(const char *t, int code)
{
	size_t i = 0, n;
	int part;

	if (t[0] != '0' + code / 100 || (t[0] != '2' && t[0] != '4' &&
	    t[0] != '5') || t[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		n = 0;
		while (isdigit((unsigned char)t[i]) && n < 3) {
			i++;
			n++;
		}
		if (n == 0)
			return 0;
		if (part == 0) {
			if (t[i] != '.')
				return 0;
			i++;
		}
	}
	if (t[i] != ' ' && t[i] != '\0')
		return 0;
	return i;
}

static void
reply_add_text(struct mf_smtp_reply *r, const char *t)
{
	size_t have = strlen(r->text), n = strlen(t);

	if (r->nlines > 0 && have + 1 < sizeof(r->text))
		r->text[have++] = '\n';
	if (have + n >= sizeof(r->text))
		n = sizeof(r->text) - have - 1;
	memcpy(r->text + have, t, n);
	r->text[have + n] = '\0';
}

const char *
mf_smtp_reply_line(const char *text, char *out, size_t outlen)
{
	size_t o = 0;
	int line_has = 0, space = 0, any = 0;

	if (outlen == 0)
		return out;
	for (; *text != '\0' && o + 1 < outlen; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '\n') {
			if (line_has)
				any = 1;
			line_has = space = 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			space = line_has;
			continue;
		}
		if (!line_has && any) {
			if (o + 3 >= outlen)
				break;
			out[o++] = ';';
			out[o++] = ' ';
		} else if (space) {
			out[o++] = ' ';
			if (o + 1 >= outlen)
				break;
		}
		space = 0;
		line_has = 1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

int
mf_smtp_normalise(const char *msg, size_t len, int dotstuff,
                  struct mf_buf *out, struct mf_err *e)
{
	size_t i = 0, start;
	int bol = 1;

	/* RFC 5321 §2.3.8 and §4.5.2: only CRLF ends a line on the wire, so
	 * every bare CR and bare LF becomes CRLF (then no "\n.\n" of the input
	 * can look like the end of data to any server), and a line starting
	 * with "." gets one more. */
	if (mf_buf_reserve(out, len + len / 16 + 8, e) == -1)
		return -1;
	out->data[out->len] = '\0';
	while (i < len) {
		if (bol && dotstuff && msg[i] == '.' &&
		    mf_buf_putc(out, '.', e) == -1)
			return -1;
		start = i;
		while (i < len && msg[i] != '\r' && msg[i] != '\n')
			i++;
		if (mf_buf_append(out, msg + start, i - start, e) == -1)
			return -1;
		if (i < len) {
			if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
				i++;
			i++;
		}
		if (mf_buf_append(out, "\r\n", 2, e) == -1)
			return -1;
		bol = 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* session */

struct mf_smtp *
mf_smtp_new(const struct mf_smtp_params *p, struct mf_err *e)
{
	struct mf_smtp *s = calloc(1, sizeof(*s));
	char hn[256];

	if (s == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "smtp session");
		return NULL;
	}
	s->p = *p;
	mf_strlcpy(s->host, p->conn.host ? p->conn.host : "", sizeof(s->host));
	mf_strlcpy(s->port, p->conn.port && *p->conn.port ? p->conn.port :
	    "587", sizeof(s->port));
	s->p.conn.host = s->host;
	s->p.conn.port = s->port;
	/* Only a dotted hostname is an FQDN; asking the resolver for the
	 * canonical name costs a lookup the machine's resolver may not
	 * answer quickly, so it is not done. */
	if (p->ehlo_name != NULL && *p->ehlo_name) {
		/* never a cut name after EHLO */
		if (mf_strlcpy(s->ehlo, p->ehlo_name, sizeof(s->ehlo)) >=
		    sizeof(s->ehlo)) {
			free(s);
			mf_err_set(e, MF_E_USAGE, "EHLO name too long (over %zu "
			    "bytes)", sizeof(s->ehlo) - 1);
			return NULL;
		}
	} else if (gethostname(hn, sizeof(hn)) == 0 && (hn[sizeof(hn) - 1] = 0,
	    strchr(hn, '.') != NULL))
		mf_strlcpy(s->ehlo, hn, sizeof(s->ehlo));
	else
		mf_strlcpy(s->ehlo, "localhost", sizeof(s->ehlo));
	if (s->p.conn.tlsp.verify_name == NULL)
		s->p.conn.tlsp.verify_name = s->host;
	if (s->p.conn.timeout_ms <= 0)
		s->p.conn.timeout_ms = 300000;
	return s;
}

void
mf_smtp_free(struct mf_smtp *s)
{
	struct mf_err e;

	if (s == NULL)
		return;
	if (s->io != NULL && !s->broken && !s->quit_done) {
		mf_lineio_set_timeout(s->io, 2000);
		mf_smtp_quit(s, &e);
	}
	mf_session_free(s->sess);
	free(s);
}

void
mf_smtp_set_chunking(struct mf_smtp *s, int allow)
{
	s->no_chunking = !allow;
}

void
mf_smtp_set_pipelining(struct mf_smtp *s, int allow)
{
	s->no_pipelining = !allow;
}

static struct mf_transcript *
tr(struct mf_smtp *s)
{
	return s->p.conn.tr;
}

static void
session_params(const struct mf_smtp *s, struct mf_session_params *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->conn = s->p.conn;
	if (sp->conn.sock.io_timeout_ms == 0)
		sp->conn.sock.io_timeout_ms = s->p.conn.timeout_ms;
	sp->max_line = 4096;
}

int
mf_smtp_connect(struct mf_smtp *s, struct mf_err *e)
{
	struct mf_session_params sp;

	if (s->io != NULL)
		return mf_err_set(e, MF_E_INTERNAL, "already connected");
	session_params(s, &sp);
	s->tls_tried = s->p.conn.tls == MF_TLS_IMPLICIT;
	s->sess = mf_session_open(&sp, &s->tls, e);
	if (s->sess == NULL)
		return -1;
	s->io = mf_session_lineio(s->sess);
	return 0;
}

int
mf_smtp_attach(struct mf_smtp *s, struct mf_transport *t, struct mf_err *e)
{
	struct mf_session_params sp;

	if (s->io != NULL) {
		mf_transport_free(t);
		return mf_err_set(e, MF_E_INTERNAL, "already connected");
	}
	session_params(s, &sp);
	sp.conn.timeout_ms = 0;
	s->sess = mf_session_attach(t, &sp, e);
	if (s->sess == NULL)
		return -1;
	s->io = mf_session_lineio(s->sess);
	return 0;
}

static int
need_io(struct mf_smtp *s, struct mf_err *e)
{
	if (s->io == NULL)
		return mf_err_set(e, MF_E_INTERNAL, "not connected");
	if (s->broken)
		return mf_err_set(e, MF_E_CLOSED, "the connection was lost "
		    "earlier");
	return 0;
}

/* A transport error leaves the session unusable. */
static int
io_fail(struct mf_smtp *s)
{
	s->broken = 1;
	return -1;
}

typedef void (*line_fn)(void *arg, const char *text, size_t idx);

static int
read_reply_cb(struct mf_smtp *s, struct mf_smtp_reply *r, line_fn fn,
              void *arg, struct mf_err *e)
{
	const char *line, *text;
	size_t len, total = 0, el;
	int code, more;

	memset(r, 0, sizeof(*r));
	if (need_io(s, e) == -1)
		return -1;
	do {
		if (mf_lineio_read_line(s->io, &line, &len, e) == -1)
			return io_fail(s);
		total += len;
		if (total > MF_SMTP_REPLY_MAX || r->nlines >= REPLY_LINES_MAX) {
			s->broken = 1;
			return mf_err_set(e, MF_E_LIMIT, "the server's reply is "
			    "longer than %d bytes or %d lines", MF_SMTP_REPLY_MAX,
			    REPLY_LINES_MAX);
		}
		more = mf_smtp_parse_reply_line(line, len, &code, &text);
		if (more == -1 || (r->nlines > 0 && code != r->code)) {
			s->broken = 1;
			return mf_err_reply(e, MF_E_PROTO, 0, NULL, line,
			    "the server sent a malformed reply line: %.200s",
			    line);
		}
		r->code = code;
		el = enhanced_len(text, code);
		if (el > 0) {
			if (r->nlines == 0 && el < sizeof(r->enhanced))
				snprintf(r->enhanced, sizeof(r->enhanced), "%.*s",
				    (int)el, text);
			text += el;
			if (*text == ' ')
				text++;
		}
		if (fn != NULL)
			fn(arg, text, r->nlines);
		reply_add_text(r, text);
		r->nlines++;
	} while (more);
	/* RFC 5321 §3.8: with 421 the server closes the channel; the
	 * session cannot be used for another message. */
	if (r->code == 421)
		s->broken = 1;
	return 0;
}

int
mf_smtp_read_reply(struct mf_smtp *s, struct mf_smtp_reply *r,
                   struct mf_err *e)
{
	return read_reply_cb(s, r, NULL, NULL, e);
}

/* Send everything queued as one write; a group of several pipelined
 * commands is noted in the transcript so -v shows the write boundaries. */
static int
flush(struct mf_smtp *s, struct mf_err *e)
{
	unsigned long long before = mf_lineio_bytes_out(s->io);

	if (mf_lineio_flush(s->io, e) == -1)
		return io_fail(s);
	if (s->queued > 1)
		mf_transcript_info(tr(s), "pipelined in one write: %s (%llu "
		    "bytes)", s->queued_names,
		    mf_lineio_bytes_out(s->io) - before);
	s->queued = 0;
	s->queued_names[0] = '\0';
	return 0;
}

static void
note_queued(struct mf_smtp *s, const char *cmd)
{
	size_t n = strcspn(cmd, " :"), have = strlen(s->queued_names);

	if (have + n + 3 < sizeof(s->queued_names))
		snprintf(s->queued_names + have, sizeof(s->queued_names) - have,
		    "%s%.*s", have ? " " : "", (int)n, cmd);
	s->queued++;
}

static int __attribute__((format(printf, 3, 4)))
queue_cmd(struct mf_smtp *s, struct mf_err *e, const char *fmt, ...)
{
	char line[CMD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return mf_err_set(e, MF_E_USAGE, "SMTP command too long");
	if (strpbrk(line, "\r\n") != NULL)
		return mf_err_set(e, MF_E_USAGE, "line break inside an SMTP "
		    "command argument");
	if (mf_lineio_send(s->io, e, "%s", line) == -1)
		return io_fail(s);
	note_queued(s, line);
	return 0;
}

/* Send one command line and read its reply; 0 when a reply was read,
 * whatever its code. */
static int __attribute__((format(printf, 4, 5)))
command(struct mf_smtp *s, struct mf_smtp_reply *r, struct mf_err *e,
        const char *fmt, ...)
{
	char line[CMD_MAX];
	va_list ap;
	int n;

	if (need_io(s, e) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return mf_err_set(e, MF_E_USAGE, "SMTP command too long");
	if (queue_cmd(s, e, "%s", line) == -1 || flush(s, e) == -1)
		return -1;
	return mf_smtp_read_reply(s, r, e);
}

static int
reply_error(const struct mf_smtp_reply *r, const char *what, struct mf_err *e)
{
	enum mf_err_kind k = mf_smtp_reply_kind(r->code);

	if (k == MF_OK)
		k = MF_E_PROTO;
	return mf_err_reply(e, k, r->code, r->enhanced, r->text,
	    "%s: %d %s%s%.400s", what, r->code, r->enhanced,
	    r->enhanced[0] ? " " : "", r->text);
}

int
mf_smtp_greeting(struct mf_smtp *s, struct mf_smtp_reply *r, struct mf_err *e)
{
	if (mf_smtp_read_reply(s, r, e) == -1)
		return -1;
	if (r->code == 220)
		return 0;
	if (r->code >= 400 && r->code < 600)
		return reply_error(r, "the server refused the session", e);
	s->broken = 1;
	return reply_error(r, "unexpected greeting", e);
}

/* ---------------------------------------------------------------- */
/* EHLO capabilities */

static void
add_words(char *dst, size_t dlen, const char *words)
{
	char w[64];
	const char *p = words;
	size_t n, have;

	while (*p) {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			/* Keep each mechanism once (AUTH and AUTH= repeat). */
			have = strlen(dst);
			if (!mf_smtp_word_in(dst, w) && have + n + 2 < dlen)
				snprintf(dst + have, dlen - have, "%s%s",
				    have ? " " : "", w);
		}
		p += n;
	}
}

int
mf_smtp_word_in(const char *list, const char *word)
{
	size_t wl = strlen(word), n;
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n == wl && n > 0 && strncasecmp(p, word, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

static int
kw(const char *text, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncasecmp(text, word, n) != 0)
		return 0;
	if (text[n] != '\0' && text[n] != ' ' && text[n] != '=')
		return 0;
	*rest = text[n] ? text + n + 1 : text + n;
	return 1;
}

static void
cap_line(void *arg, const char *text, size_t idx)
{
	struct mf_smtp_caps *c = arg;
	const char *rest;
	size_t have = strlen(c->raw), n = strlen(text);
	long v;

	if (idx == 0)
		return;   /* the server's name and greeting */
	if (have + n + 2 < sizeof(c->raw)) {
		memcpy(c->raw + have, text, n);
		c->raw[have + n] = '\n';
		c->raw[have + n + 1] = '\0';
	}
	if (kw(text, "STARTTLS", &rest))
		c->starttls = 1;
	else if (kw(text, "PIPELINING", &rest))
		c->pipelining = 1;
	else if (kw(text, "SIZE", &rest)) {
		c->size = 1;
		if (*rest && mf_parse_long(rest, 0, 0x7fffffffL, &v) == 0)
			c->size_max = (unsigned long)v;
	} else if (kw(text, "8BITMIME", &rest))
		c->eightbitmime = 1;
	else if (kw(text, "SMTPUTF8", &rest))
		c->smtputf8 = 1;
	else if (kw(text, "DSN", &rest))
		c->dsn = 1;
	else if (kw(text, "CHUNKING", &rest))
		c->chunking = 1;
	else if (kw(text, "ENHANCEDSTATUSCODES", &rest))
		c->enhancedstatuscodes = 1;
	else if (kw(text, "AUTH", &rest))
		add_words(c->auth, sizeof(c->auth), rest);
}

int
mf_smtp_ehlo(struct mf_smtp *s, struct mf_smtp_reply *r, struct mf_err *e)
{
	if (need_io(s, e) == -1)
		return -1;
	memset(&s->caps, 0, sizeof(s->caps));
	/* RFC 2033 §4.1: LMTP greets with LHLO, and has no HELO. */
	if (queue_cmd(s, e, "%s %s", s->p.lmtp ? "LHLO" : "EHLO", s->ehlo) == -1
	    || flush(s, e) == -1)
		return -1;
	if (read_reply_cb(s, r, cap_line, &s->caps, e) == -1)
		return -1;
	if (r->code == 250) {
		s->caps.esmtp = 1;
		return 0;
	}
	memset(&s->caps, 0, sizeof(s->caps));
	if (s->p.lmtp)
		return reply_error(r, "LHLO refused", e);
	if (r->code < 500 || r->code >= 600)
		return reply_error(r, "EHLO refused", e);
	/* RFC 5321 §4.1.4: an old server may only know HELO. */
	if (command(s, r, e, "HELO %s", s->ehlo) == -1)
		return -1;
	if (r->code != 250)
		return reply_error(r, "HELO refused", e);
	return 0;
}

const struct mf_smtp_caps *
mf_smtp_caps(const struct mf_smtp *s)
{
	return &s->caps;
}

int
mf_smtp_is_tls(const struct mf_smtp *s)
{
	return s->io != NULL && mf_lineio_is_tls(s->io);
}

struct mf_transport *
mf_smtp_transport(struct mf_smtp *s)
{
	return s->io ? mf_lineio_transport(s->io) : NULL;
}

const char *
mf_smtp_peer(struct mf_smtp *s)
{
	return s->sess != NULL ? mf_session_peer(s->sess) : "";
}

const struct mf_tls_info *
mf_smtp_tls(const struct mf_smtp *s)
{
	return s->tls_tried ? &s->tls : NULL;
}

/* ---------------------------------------------------------------- */
/* STARTTLS and AUTH */

int
mf_smtp_starttls(struct mf_smtp *s, struct mf_smtp_reply *r,
                 struct mf_tls_info *info, struct mf_err *e)
{
	if (mf_smtp_starttls_command(s, r, e) == -1)
		return -1;
	return mf_smtp_starttls_handshake(s, info, e);
}

int
mf_smtp_starttls_command(struct mf_smtp *s, struct mf_smtp_reply *r,
                         struct mf_err *e)
{
	if (need_io(s, e) == -1)
		return -1;
	if (!s->caps.starttls) {
		memset(r, 0, sizeof(*r));
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not "
		    "offer STARTTLS");
	}
	if (command(s, r, e, "STARTTLS") == -1)
		return -1;
	if (r->code != 220)
		return reply_error(r, "STARTTLS refused", e);
	return 0;
}

int
mf_smtp_starttls_handshake(struct mf_smtp *s, struct mf_tls_info *info,
                           struct mf_err *e)
{
	int rc;

	if (need_io(s, e) == -1)
		return -1;
	rc = mf_session_starttls(s->sess, e);
	s->tls = *mf_session_tls(s->sess);
	s->tls_tried = 1;
	if (info != NULL)
		*info = s->tls;
	if (rc == -1)
		return io_fail(s);
	/* RFC 3207 §4.2: forget everything learnt before TLS. */
	memset(&s->caps, 0, sizeof(s->caps));
	return 0;
}

static enum mf_err_kind
auth_kind(const struct mf_smtp_reply *r)
{
	if (r->code == 535 || r->code == 534 || r->code == 538 ||
	    (r->code >= 500 && strncmp(r->enhanced, "5.7.", 4) == 0))
		return MF_E_AUTH;
	if (r->code == 504)
		return MF_E_UNSUPPORTED;
	if (r->code >= 400 && r->code < 500)
		return MF_E_TEMP;
	if (r->code >= 500 && r->code < 600)
		return MF_E_PERM;
	return MF_E_PROTO;
}

/* SMTP's side of the SASL exchange (RFC 4954 §4): "AUTH MECH [initial]",
 * challenges in 334 replies, 235 for success. */
struct smtp_sasl_io {
	struct mf_smtp *s;
	struct mf_smtp_reply *r;
	int queue_only;    /* queue the command, do not flush */
};

static int
sasl_send_command(void *arg, const char *line, size_t secret_from,
                  struct mf_err *e)
{
	struct smtp_sasl_io *io = arg;

	if (strpbrk(line, "\r\n") != NULL)
		return mf_err_set(e, MF_E_USAGE, "line break inside an SMTP "
		    "command");
	if (mf_lineio_send_secret(io->s->io, secret_from, e, "%s", line) == -1)
		return io_fail(io->s);
	note_queued(io->s, line);
	return io->queue_only ? 0 : flush(io->s, e);
}

static int
sasl_send_line(void *arg, const char *line, int secret, struct mf_err *e)
{
	struct smtp_sasl_io *io = arg;

	if (mf_lineio_send_secret(io->s->io, secret ? 0 : MF_TX_NO_SECRET, e,
	    "%s", line) == -1)
		return io_fail(io->s);
	return flush(io->s, e);
}

static int
sasl_read_reply(void *arg, struct mf_sasl_reply *sr, struct mf_err *e)
{
	struct smtp_sasl_io *io = arg;

	if (mf_smtp_read_reply(io->s, io->r, e) == -1)
		return -1;
	sr->payload = io->r->text;
	sr->kind = io->r->code == 334 ? MF_SASL_CONTINUE :
	    io->r->code == 235 ? MF_SASL_SUCCESS : MF_SASL_FAILURE;
	return 0;
}

static void
sasl_refused(void *arg, const char *mech, struct mf_err *e)
{
	const struct mf_smtp_reply *r = ((struct smtp_sasl_io *)arg)->r;

	mf_err_reply(e, auth_kind(r), r->code, r->enhanced, r->text,
	    "authentication with %s failed: %d %s%s%.400s", mech, r->code,
	    r->enhanced, r->enhanced[0] ? " " : "", r->text);
}

static const struct mf_sasl_proto smtp_sasl = {
	.command = "AUTH",
	.ir_line_max = 0,
	.send_command = sasl_send_command,
	.send_line = sasl_send_line,
	.read_reply = sasl_read_reply,
	.refused = sasl_refused,
};

int
mf_smtp_auth(struct mf_smtp *s, const char *mech,
             const struct mf_sasl_params *sp, struct mf_smtp_reply *r,
             char *sasl_error, size_t sasl_error_len, struct mf_err *e)
{
	struct smtp_sasl_io io = { s, r, 0 };

	memset(r, 0, sizeof(*r));
	if (sasl_error != NULL && sasl_error_len > 0)
		sasl_error[0] = '\0';
	if (need_io(s, e) == -1)
		return -1;
	return mf_sasl_exchange(&smtp_sasl, &io, 1, mech, sp, sasl_error,
	    sasl_error_len, e);
}

/* RFC 4954 §4: AUTH with a one-round mechanism and its initial response
 * may be pipelined; it is queued here and goes out with the first
 * transaction's commands, whose replies follow its own. */
static int
auth_queue(struct mf_smtp *s, const char *mech, const struct mf_sasl_params *sp,
           struct mf_err *e)
{
	struct mf_smtp_reply r;
	struct smtp_sasl_io io = { s, &r, 1 };

	if (need_io(s, e) == -1 ||
	    mf_sasl_send_one_round(&smtp_sasl, &io, mech, sp, e) == -1)
		return -1;
	mf_strlcpy(s->auth_sent, mech, sizeof(s->auth_sent));
	return 0;
}

/* The reply to the queued AUTH: 0 on 235, else -1 with e set.  A
 * challenge there means the server took the commands behind AUTH for
 * SASL responses: the session is out of step. */
static int
auth_verdict(struct mf_smtp *s, struct mf_err *e)
{
	struct mf_smtp_reply r;
	struct smtp_sasl_io io = { s, &r, 0 };
	char mech[sizeof(s->auth_sent)];

	mf_strlcpy(mech, s->auth_sent, sizeof(mech));
	s->auth_sent[0] = '\0';
	if (mf_smtp_read_reply(s, &r, e) == -1)
		return -1;
	if (r.code == 235)
		return 0;
	s->auth_failed = 1;
	if (r.code == 334) {
		s->broken = 1;
		return mf_err_set(e, MF_E_PROTO, "the server answered AUTH %s "
		    "and its initial response with a challenge (RFC 4954 §4 "
		    "allows none)", mech);
	}
	sasl_refused(&io, mech, e);
	return -1;
}

/* ---------------------------------------------------------------- */
/* sending a message */

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

/* RFC 3461 §4: xtext, "+XX" for "+", "=" and anything not printable.
 * -1 when it does not fit out: a cut ENVID is never sent. */
static int
xtext(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		if (o + 4 > outlen)
			return -1;
		if (c < 33 || c > 126 || c == '+' || c == '=') {
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Addresses go as mf_idn_addr_wire() makes them: domains as A-labels
 * (RFC 5891 §4), an address with a UTF-8 local part whole under SMTPUTF8
 * (RFC 6531 §3.3).
 *
 * Does the transaction need SMTPUTF8: asked for, or a UTF-8 local part
 * (*first: the first such address, may be NULL)?  -1 for an address that
 * is not valid (check_envelope tells before anything is sent). */
static int
envelope_utf8(const struct mf_smtp_envelope *env, const char **first,
              struct mf_err *e)
{
	char w[ADDR_MAX];
	const char *a;
	size_t i;
	int u8, any = env->smtputf8;

	for (i = 0; i <= env->nrcpts; i++) {
		a = i < env->nrcpts ? env->rcpts[i] : env->from;
		if (a == NULL)
			continue;
		if (mf_idn_addr_wire(a, w, sizeof(w), &u8, MF_E_DATA, e) == -1)
			return -1;
		if (u8 && first != NULL && *first == NULL)
			*first = a;
		any |= u8;
	}
	return any;
}

/* A command line formatted into out: too long or with a line break
 * inside is refused (RFC 5321 §2.3.8: a line ends only with CRLF). */
static int
checked_line(char *out, size_t outlen, int n, struct mf_err *e)
{
	if (n < 0 || (size_t)n >= outlen)
		return mf_err_set(e, MF_E_USAGE, "SMTP command too long");
	if (strpbrk(out, "\r\n") != NULL)
		return mf_err_set(e, MF_E_USAGE, "line break inside an SMTP "
		    "command argument");
	return 0;
}

int
mf_smtp_format_mail(const struct mf_smtp_caps *caps,
                    const struct mf_smtp_envelope *env, size_t size,
                    char *out, size_t outlen, struct mf_err *e)
{
	static const struct mf_smtp_caps none;
	char params[1024], from[ADDR_MAX];
	size_t n = 0;

	if (caps == NULL)
		caps = &none;
	params[0] = '\0';
	if (caps->size)
		n += (size_t)snprintf(params + n, sizeof(params) - n, " SIZE=%zu",
		    size);
	if (env->eightbit && caps->eightbitmime)
		n += (size_t)snprintf(params + n, sizeof(params) - n,
		    " BODY=8BITMIME");
	if (envelope_utf8(env, NULL, e) == 1 && n < sizeof(params))
		n += (size_t)snprintf(params + n, sizeof(params) - n,
		    " SMTPUTF8");
	if (caps->dsn && env->dsn_ret && n < sizeof(params))
		n += (size_t)snprintf(params + n, sizeof(params) - n, " RET=%s",
		    env->dsn_ret);
	if (caps->dsn && env->envid && n < sizeof(params)) {
		char x[400];
		if (xtext(env->envid, x, sizeof(x)) == -1)
			return mf_err_set(e, MF_E_USAGE, "DSN ENVID too long");
		n += (size_t)snprintf(params + n, sizeof(params) - n,
		    " ENVID=%s", x);
	}
	if (n >= sizeof(params))
		return mf_err_set(e, MF_E_USAGE, "MAIL parameters too long");
	if (mf_idn_addr_wire(env->from ? env->from : "", from, sizeof(from),
	    NULL, MF_E_DATA, e) == -1)
		return -1;
	return checked_line(out, outlen, snprintf(out, outlen,
	    "MAIL FROM:<%s>%s", from, params), e);
}

int
mf_smtp_format_rcpt(const struct mf_smtp_caps *caps,
                    const struct mf_smtp_envelope *env, size_t i, char *out,
                    size_t outlen, struct mf_err *e)
{
	char to[ADDR_MAX];

	if (i >= env->nrcpts)
		return mf_err_set(e, MF_E_INTERNAL, "no recipient %zu", i);
	if (mf_idn_addr_wire(env->rcpts[i], to, sizeof(to), NULL, MF_E_DATA,
	    e) == -1)
		return -1;
	if (caps != NULL && caps->dsn && env->dsn_notify)
		return checked_line(out, outlen, snprintf(out, outlen,
		    "RCPT TO:<%s> NOTIFY=%s", to, env->dsn_notify), e);
	return checked_line(out, outlen, snprintf(out, outlen, "RCPT TO:<%s>",
	    to), e);
}

static int
queue_mail(struct mf_smtp *s, const struct mf_smtp_envelope *env,
           size_t size, struct mf_err *e)
{
	char line[CMD_MAX];

	if (mf_smtp_format_mail(&s->caps, env, size, line, sizeof(line), e) ==
	    -1)
		return -1;
	return queue_cmd(s, e, "%s", line);
}

static int
queue_rcpts(struct mf_smtp *s, const struct mf_smtp_envelope *env,
            struct mf_err *e)
{
	char line[CMD_MAX];
	size_t i;

	for (i = 0; i < env->nrcpts; i++)
		if (mf_smtp_format_rcpt(&s->caps, env, i, line, sizeof(line),
		    e) == -1 || queue_cmd(s, e, "%s", line) == -1)
			return -1;
	return 0;
}

/* MAIL FROM:<from> (to NULL) or RCPT TO:<to> alone, as it goes to a
 * server with no extension, and its reply. */
static int
envelope_command(struct mf_smtp *s, const char *from, const char *to,
                 struct mf_smtp_reply *r, struct mf_err *e)
{
	struct mf_smtp_envelope env;
	char line[CMD_MAX];
	int rc;

	memset(&env, 0, sizeof(env));
	env.from = from;
	env.rcpts = &to;
	env.nrcpts = to != NULL;
	rc = to != NULL ?
	    mf_smtp_format_rcpt(NULL, &env, 0, line, sizeof(line), e) :
	    mf_smtp_format_mail(NULL, &env, 0, line, sizeof(line), e);
	return rc == -1 ? -1 : command(s, r, e, "%s", line);
}

int
mf_smtp_mail(struct mf_smtp *s, const char *from, struct mf_smtp_reply *r,
             struct mf_err *e)
{
	return envelope_command(s, from, NULL, r, e);
}

int
mf_smtp_rcpt(struct mf_smtp *s, const char *to, struct mf_smtp_reply *r,
             struct mf_err *e)
{
	return envelope_command(s, NULL, to, r, e);
}

int
mf_smtp_rset(struct mf_smtp *s, struct mf_smtp_reply *r, struct mf_err *e)
{
	return command(s, r, e, "RSET");
}

static void
rcpt_store(struct mf_smtp_result *res, size_t i, const struct mf_smtp_reply *r)
{
	if (res->rcpt == NULL)
		return;
	res->rcpt[i].code = r->code;
	mf_strlcpy(res->rcpt[i].enhanced, r->enhanced,
	    sizeof(res->rcpt[i].enhanced));
	mf_strlcpy(res->rcpt[i].text, r->text, sizeof(res->rcpt[i].text));
}

/* Read the replies to MAIL and the RCPTs. Returns 0 when MAIL was
 * accepted and at least one RCPT; otherwise -1 with e set, after all the
 * replies were read (the pipelined group must be drained). */
static int
read_envelope_replies(struct mf_smtp *s, const struct mf_smtp_envelope *env,
                      struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_smtp_reply r, mail, worst;
	size_t i;

	memset(&worst, 0, sizeof(worst));
	if (mf_smtp_read_reply(s, &mail, e) == -1)
		return -1;
	for (i = 0; i < env->nrcpts; i++) {
		if (mf_smtp_read_reply(s, &r, e) == -1)
			return -1;
		rcpt_store(res, i, &r);
		if (r.code == 250 || r.code == 251)
			res->accepted++;
		else if (worst.code == 0 || (r.code >= 400 && r.code < 500))
			worst = r;   /* a temporary refusal is worth a retry */
	}
	if (mail.code != 250) {
		res->final = mail;
		return reply_error(&mail, "MAIL FROM refused", e);
	}
	if (res->accepted == 0) {
		res->final = worst;
		return reply_error(&worst, env->nrcpts > 1 ? "every recipient "
		    "was refused" : "recipient refused", e);
	}
	return 0;
}

static int
rset(struct mf_smtp *s)
{
	struct mf_smtp_reply r;
	struct mf_err ign;

	if (s->broken || s->io == NULL)
		return -1;
	return mf_smtp_rset(s, &r, &ign);
}

/* After a failed transaction the error is kept and the session reset,
 * so the next message of a batch can follow. */
static int
fail_reset(struct mf_smtp *s)
{
	rset(s);
	return -1;
}

/* The envelope one command at a time, for servers without PIPELINING. */
static int
envelope_lockstep(struct mf_smtp *s, const struct mf_smtp_envelope *env,
                  size_t size, struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_smtp_reply r;
	size_t i;

	if (queue_mail(s, env, size, e) == -1 || flush(s, e) == -1 ||
	    mf_smtp_read_reply(s, &r, e) == -1)
		return -1;
	if (r.code != 250) {
		res->final = r;
		reply_error(&r, "MAIL FROM refused", e);
		return fail_reset(s);
	}
	for (i = 0; i < env->nrcpts; i++) {
		struct mf_smtp_envelope one = *env;
		one.rcpts = env->rcpts + i;
		one.nrcpts = 1;
		if (queue_rcpts(s, &one, e) == -1 || flush(s, e) == -1 ||
		    mf_smtp_read_reply(s, &r, e) == -1)
			return -1;
		rcpt_store(res, i, &r);
		if (r.code == 250 || r.code == 251)
			res->accepted++;
		else if (res->final.code == 0 || (r.code >= 400 && r.code < 500))
			res->final = r;
	}
	if (res->accepted == 0) {
		reply_error(&res->final, env->nrcpts > 1 ? "every recipient "
		    "was refused" : "recipient refused", e);
		return fail_reset(s);
	}
	return 0;
}

static void
data_store(struct mf_smtp_rcpt_result *rr, const struct mf_smtp_reply *r)
{
	rr->data_code = r->code;
	mf_strlcpy(rr->data_enhanced, r->enhanced, sizeof(rr->data_enhanced));
	mf_strlcpy(rr->data_text, r->text, sizeof(rr->data_text));
}

/* A permanent refusal is worse than a temporary one, which is worse than
 * success. */
static int
worse(int a, int b)
{
	int ra = a >= 500 ? 3 : a >= 400 ? 2 : a == 250 ? 0 : 1;
	int rb = b >= 500 ? 3 : b >= 400 ? 2 : b == 250 ? 0 : 1;

	return ra > rb;
}

/* RFC 2033 §4.2: after the data, one reply per accepted recipient, in
 * RCPT order. */
static int
lmtp_replies(struct mf_smtp *s, const struct mf_smtp_envelope *env,
             struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_smtp_reply r;
	size_t i, n = 0;

	memset(&res->final, 0, sizeof(res->final));
	for (i = 0; n < res->accepted && (res->rcpt == NULL || i < env->nrcpts);
	    i++) {
		if (res->rcpt != NULL && res->rcpt[i].code != 250 &&
		    res->rcpt[i].code != 251)
			continue;
		if (mf_smtp_read_reply(s, &r, e) == -1)
			return -1;
		n++;
		if (res->rcpt != NULL)
			data_store(&res->rcpt[i], &r);
		if (r.code == 250)
			res->delivered++;
		if (res->final.code == 0 || worse(r.code, res->final.code))
			res->final = r;
	}
	if (res->delivered == 0) {
		reply_error(&res->final, res->accepted > 1 ? "the message was "
		    "refused for every recipient" : "message refused", e);
		return fail_reset(s);
	}
	return 0;
}

static int
final_reply(struct mf_smtp *s, const struct mf_smtp_envelope *env,
            struct mf_smtp_result *res, struct mf_err *e)
{
	size_t i;

	if (s->p.lmtp)
		return lmtp_replies(s, env, res, e);
	if (mf_smtp_read_reply(s, &res->final, e) == -1)
		return -1;
	if (res->final.code != 250) {
		reply_error(&res->final, "message refused", e);
		return fail_reset(s);
	}
	res->delivered = res->accepted;
	for (i = 0; res->rcpt != NULL && i < env->nrcpts; i++)
		if (res->rcpt[i].code == 250 || res->rcpt[i].code == 251)
			data_store(&res->rcpt[i], &res->final);
	return 0;
}

/* The message data after a 354, then the lone dot (RFC 5321 §4.5.2). */
static int
write_data(struct mf_smtp *s, const struct mf_buf *wire, struct mf_err *e)
{
	if (mf_lineio_write(s->io, wire->data, wire->len, e) == -1)
		return io_fail(s);
	mf_transcript_info(tr(s), "message data: %zu bytes", wire->len);
	if (mf_lineio_send(s->io, e, ".") == -1)
		return io_fail(s);
	return flush(s, e);
}

/* RFC 3030: BDAT LAST carries the whole message, not dot-stuffed, without
 * the 354 round trip; with PIPELINING it shares one write with the
 * envelope (RFC 3030 §4.2 allows BDAT in a pipelined group). */
static int
queue_bdat(struct mf_smtp *s, const struct mf_buf *wire, struct mf_err *e)
{
	if (queue_cmd(s, e, "BDAT %zu LAST", wire->len) == -1)
		return -1;
	if (mf_lineio_write(s->io, wire->data, wire->len, e) == -1)
		return io_fail(s);
	mf_transcript_info(tr(s), "message data: %zu bytes", wire->len);
	return 0;
}

/* The replies to a pipelined envelope (and BDAT, or DATA and then the
 * data): every reply of the group is read, in order (RFC 2920 §3.1). */
static int
group_replies(struct mf_smtp *s, const struct mf_smtp_envelope *env,
              const struct mf_buf *wire, int bdat,
              struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_smtp_reply r;
	struct mf_err ign;
	int env_ok;

	env_ok = read_envelope_replies(s, env, res, e);
	if (env_ok == -1 && s->broken)
		return -1;
	if (bdat) {
		if (env_ok == -1) {
			mf_smtp_read_reply(s, &r, &ign);
			return fail_reset(s);
		}
		return final_reply(s, env, res, e);
	}
	if (mf_smtp_read_reply(s, env_ok == -1 ? &r : &res->final,
	    env_ok == -1 ? &ign : e) == -1)
		return -1;
	if (env_ok == -1) {
		/* A server that says 354 anyway gets an empty message, which
		 * it must refuse for lack of recipients. */
		if (r.code == 354 && mf_lineio_send(s->io, &ign, ".") == 0 &&
		    flush(s, &ign) == 0)
			mf_smtp_read_reply(s, &r, &ign);
		return fail_reset(s);
	}
	if (res->final.code != 354) {
		reply_error(&res->final, "DATA refused", e);
		return fail_reset(s);
	}
	if (write_data(s, wire, e) == -1)
		return -1;
	return final_reply(s, env, res, e);
}

/* Envelope and BDAT (or DATA) in one write, behind a queued AUTH if there
 * is one.  A refused AUTH decides the outcome unless the server took the
 * message all the same: then it is sent, and sending it again would
 * duplicate it. */
static int
transact_piped(struct mf_smtp *s, const struct mf_smtp_envelope *env,
               const struct mf_buf *wire, size_t size, int bdat,
               struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_err auth;
	int authed = 1, rc;

	if (queue_mail(s, env, size, e) == -1 || queue_rcpts(s, env, e) == -1)
		return -1;
	if (bdat ? queue_bdat(s, wire, e) == -1 :
	    queue_cmd(s, e, "DATA") == -1)
		return -1;
	if (flush(s, e) == -1)
		return -1;
	mf_err_clear(&auth);
	if (s->auth_sent[0] != '\0')
		authed = auth_verdict(s, &auth) == 0;
	if (!authed && s->broken) {
		*e = auth;
		return -1;
	}
	rc = group_replies(s, env, wire, bdat, res, e);
	if (authed)
		return rc;
	if (rc == 0) {
		mf_transcript_info(tr(s), "%s; the server accepted the message "
		    "without it", auth.msg);
		return 0;
	}
	if (!s->broken)
		*e = auth;
	return -1;
}

static int
transact_lockstep(struct mf_smtp *s, const struct mf_smtp_envelope *env,
                  const struct mf_buf *wire, size_t size, int bdat,
                  struct mf_smtp_result *res, struct mf_err *e)
{
	if (envelope_lockstep(s, env, size, res, e) == -1)
		return -1;
	if (bdat) {
		if (queue_bdat(s, wire, e) == -1 || flush(s, e) == -1)
			return -1;
		return final_reply(s, env, res, e);
	}
	if (command(s, &res->final, e, "DATA") == -1)
		return -1;
	if (res->final.code != 354) {
		reply_error(&res->final, "DATA refused", e);
		return fail_reset(s);
	}
	if (write_data(s, wire, e) == -1)
		return -1;
	return final_reply(s, env, res, e);
}

static int
check_envelope(struct mf_smtp *s, const struct mf_smtp_envelope *env,
               size_t size, struct mf_err *e)
{
	const char *first = NULL;
	size_t i;
	int u8;

	if (env->nrcpts == 0)
		return mf_err_set(e, MF_E_USAGE, "no recipients");
	if (s->caps.size && s->caps.size_max > 0 && size > s->caps.size_max)
		return mf_err_set(e, MF_E_PERM, "the message (%zu bytes) is "
		    "larger than the server accepts (SIZE %lu)", size,
		    s->caps.size_max);
	if (env->from && strpbrk(env->from, "\r\n<>") != NULL)
		return mf_err_set(e, MF_E_USAGE, "bad sender address");
	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i] == NULL || *env->rcpts[i] == '\0' ||
		    strpbrk(env->rcpts[i], "\r\n<> ") != NULL)
			return mf_err_set(e, MF_E_USAGE, "bad recipient address "
			    "\"%.200s\"", env->rcpts[i] ? env->rcpts[i] : "");
	/* RFC 6531 §3.4: a UTF-8 local part only to a server that says
	 * SMTPUTF8 (a UTF-8 domain goes as A-labels to any server). */
	if ((u8 = envelope_utf8(env, &first, e)) == -1)
		return -1;
	if (u8 && !s->caps.smtputf8)
		return mf_err_set(e, MF_E_DATA, "the address \"%.300s\" has a "
		    "non-ASCII local part, which needs SMTPUTF8 (RFC 6531), "
		    "and the server does not offer it; nothing was sent",
		    first != NULL ? first : "");
	/* RFC 3461 §4.1, §4.3: NOTIFY and RET are keyword lists; nothing
	 * else may slip into the command line. */
	if (env->dsn_notify && (*env->dsn_notify == '\0' ||
	    strspn(env->dsn_notify, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz,") != strlen(env->dsn_notify)))
		return mf_err_set(e, MF_E_USAGE, "bad DSN NOTIFY \"%.100s\"",
		    env->dsn_notify);
	if (env->dsn_ret && strcasecmp(env->dsn_ret, "FULL") != 0 &&
	    strcasecmp(env->dsn_ret, "HDRS") != 0)
		return mf_err_set(e, MF_E_USAGE, "bad DSN RET \"%.100s\"",
		    env->dsn_ret);
	return 0;
}

/* The header of a message: up to and with its first empty line (CRLF or
 * LF line ends); all of it when there is none. */
static size_t
header_len(const char *msg, size_t len)
{
	size_t i;

	if (len >= 1 && msg[0] == '\n')
		return 1;
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	for (i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* The 1-based line of msg holding byte offset off. */
static size_t
line_of(const char *msg, size_t off)
{
	size_t n = 1, i;

	for (i = 0; i < off; i++)
		n += msg[i] == '\n';
	return n;
}

/*
 * NUL goes to no server: RFC 2045 sections 2.7 and 2.8 exclude it from
 * 7bit and 8bit data alike, so a message holding one is refused.  8-bit
 * data only to a server that offers 8BITMIME (RFC 6152 section 3);
 * otherwise the message is made 7-bit as Postfix does: quoted-printable
 * for text, base64 for the rest (mf_mimepart_7bit).  A header with
 * 8-bit bytes cannot be converted that way and is refused.  Refusals are
 * MF_E_DATA, before anything is sent.  *out is the message to send: msg
 * itself or conv.
 */
static int
seven_bit(struct mf_smtp *s, const char *msg, size_t len, struct mf_buf *conv,
          const char **out, size_t *outlen, struct mf_err *e)
{
	struct mf_buf plain = MF_BUF_INIT(MSG_MAX);
	const char *nul = memchr(msg, '\0', len);
	int changed = 0;
	size_t h;

	*out = msg;
	*outlen = len;
	if (nul != NULL && (size_t)(nul - msg) < (h = header_len(msg, len)))
		return mf_err_set(e, MF_E_DATA, "the message's header holds a "
		    "NUL byte, which no mail server accepts; nothing was sent");
	if (nul != NULL)
		return mf_err_set(e, MF_E_DATA, "the message body holds a NUL "
		    "byte (body line %zu), which no mail server accepts; nothing "
		    "was sent", line_of(msg + h, (size_t)(nul - msg - h)));
	if (s->caps.eightbitmime || !has_8bit(msg, len))
		return 0;
	if (mf_smtp_normalise(msg, len, 0, &plain, e) == -1 ||
	    mf_mimepart_7bit(plain.data, plain.len, conv, &changed, e) == -1) {
		mf_buf_free(&plain);
		return -1;
	}
	mf_buf_free(&plain);
	if (has_8bit(conv->data, header_len(conv->data, conv->len)))
		return mf_err_set(e, MF_E_DATA, "the message's header holds "
		    "8-bit bytes and the server does not offer 8BITMIME: "
		    "encode the header fields (RFC 2047) or use a server "
		    "that offers 8BITMIME; nothing was sent");
	if (changed)
		mf_transcript_info(tr(s), "the server does not offer 8BITMIME: "
		    "the message was made 7-bit (quoted-printable or base64) "
		    "before sending");
	*out = conv->data;
	*outlen = conv->len;
	return 0;
}

int
mf_smtp_send_message(struct mf_smtp *s, const struct mf_smtp_envelope *env,
                     const char *msg, size_t len,
                     struct mf_smtp_result *res, struct mf_err *e)
{
	struct mf_buf wire = MF_BUF_INIT(MSG_MAX);
	struct mf_buf conv = MF_BUF_INIT(MSG_MAX);
	int bdat, piped, rc = -1;
	size_t size;

	res->final.code = 0;
	res->final.text[0] = '\0';
	res->final.enhanced[0] = '\0';
	res->accepted = 0;
	res->delivered = 0;
	if (res->rcpt != NULL)
		memset(res->rcpt, 0, env->nrcpts * sizeof(*res->rcpt));
	if (need_io(s, e) == -1)
		return -1;
	bdat = s->caps.chunking && !s->no_chunking;
	piped = s->caps.pipelining && !s->no_pipelining;
	if (seven_bit(s, msg, len, &conv, &msg, &len, e) == -1 ||
	    mf_smtp_normalise(msg, len, !bdat, &wire, e) == -1)
		goto out;
	size = wire.len;
	if (check_envelope(s, env, size, e) == -1)
		goto out;
	if (piped)
		rc = transact_piped(s, env, &wire, size, bdat, res, e);
	else
		rc = transact_lockstep(s, env, &wire, size, bdat, res, e);
out:
	mf_buf_free(&wire);
	mf_buf_free(&conv);
	return rc;
}

int
mf_smtp_message_8bit(const char *msg, size_t len)
{
	return has_8bit(msg, len);
}

int
mf_smtp_usable(const struct mf_smtp *s)
{
	return s != NULL && s->io != NULL && !s->broken && !s->quit_done &&
	    !s->auth_failed;
}

int
mf_smtp_quit(struct mf_smtp *s, struct mf_err *e)
{
	struct mf_smtp_reply r;

	if (need_io(s, e) == -1)
		return -1;
	s->quit_done = 1;
	if (!s->p.quit_reply)
		return queue_cmd(s, e, "QUIT") == -1 || flush(s, e) == -1 ? -1 : 0;
	if (command(s, &r, e, "QUIT") == -1)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* whole steps for senders */

/* STARTTLS or clear text asked of an implicit-TLS port: found in
 * seconds, not at the greeting timeout (tlsport.h). */
static int
wrong_port(struct mf_smtp *s, struct mf_err *e)
{
	return mf_session_check_port(s->sess, e);
}

int
mf_smtp_open(struct mf_smtp *s, int will_auth, struct mf_tls_info *info,
             struct mf_err *e)
{
	struct mf_smtp_reply r;

	if (mf_smtp_connect(s, e) == -1 || wrong_port(s, e) == -1 ||
	    mf_smtp_greeting(s, &r, e) == -1 ||
	    mf_smtp_ehlo(s, &r, e) == -1)
		return -1;
	if (s->p.conn.tls == MF_TLS_IMPLICIT || s->p.conn.tls == MF_TLS_NONE)
		return 0;
	if (s->p.conn.tls == MF_TLS_AUTO && !s->caps.starttls)
		return 0;
	if (!s->caps.starttls)
		return mf_err_set(e, MF_E_UNSUPPORTED, will_auth ?
		    "the server does not offer STARTTLS; refusing to send "
		    "credentials in clear" : "the server does not offer "
		    "STARTTLS; refusing to send the message in clear (--tls "
		    "none allows it)");
	if (mf_smtp_starttls(s, &r, info, e) == -1)
		return -1;
	return mf_smtp_ehlo(s, &r, e);
}

static int
login_attempt(void *arg, const char *mech, const struct mf_sasl_params *p,
              struct mf_err *e)
{
	struct mf_smtp *s = arg;
	struct mf_smtp_reply r;

	if (s->defer_auth && s->caps.pipelining && !s->no_pipelining &&
	    mf_sasl_one_round(mech))
		return auth_queue(s, mech, p, e);
	return mf_smtp_auth(s, mech, p, &r, NULL, 0, e);
}

int
mf_smtp_login(struct mf_smtp *s, const struct mf_auth *a, char *mech,
              size_t mechlen, struct mf_err *e)
{
	const char *want = a->mech;
	struct mf_sasl_params p;
	struct mf_secret pw;
	unsigned char cb[64];
	int tls = mf_smtp_is_tls(s), rc;
	char chosen[64] = "";
	long port = 0;

	if (mech != NULL && mechlen > 0)
		mech[0] = '\0';
	if (mf_auth_secret(a, &pw, e) == -1)
		return -1;
	if (s->caps.auth[0] == '\0') {
		mf_secret_wipe(&pw);
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server offers no "
		    "AUTH%s", tls ? "" : " (before TLS)");
	}
	if (want != NULL && (*want == '\0' || strcasecmp(want, "auto") == 0))
		want = NULL;
	(void)mf_parse_long(s->port, 1, 65535, &port);
	mf_sasl_params_set(&p, a, want, pw.data, s->host, (unsigned)port);
	if (tls)
		mf_sasl_bind_tls(&p, mf_smtp_transport(s), cb, sizeof(cb));
	/* Plaintext mechanisms only inside TLS, unless the user said
	 * --tls none (then s->p.conn.tls is NONE and clear text was chosen). */
	rc = mf_sasl_login(s->caps.auth, want, &p, tls, s->p.conn.tls == MF_TLS_NONE,
	    login_attempt, s, mf_lineio_transcript(s->io), chosen,
	    sizeof(chosen), e);
	mf_memwipe(cb, sizeof(cb));
	mf_secret_wipe(&pw);
	if (mech != NULL)
		mf_strlcpy(mech, chosen, mechlen);
	return rc;
}

/* ---------------------------------------------------------------- */
/* a sender's client */

struct mf_smtp_client {
	struct mf_smtp_client_params p;
	struct mf_smtp *s;
};

struct mf_smtp_client *
mf_smtp_client_new(const struct mf_smtp_client_params *p, struct mf_err *e)
{
	struct mf_smtp_client *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "smtp client");
		return NULL;
	}
	c->p = *p;
	return c;
}

static int
client_login(struct mf_smtp_client *c, struct mf_err *e)
{
	return mf_smtp_login(c->s, &c->p.smtp.conn.cred, NULL, 0, e);
}

static int
client_open(struct mf_smtp_client *c, struct mf_err *e)
{
	c->s = mf_smtp_new(&c->p.smtp, e);
	if (c->s == NULL)
		return -1;
	mf_smtp_set_chunking(c->s, !c->p.no_chunking);
	mf_smtp_set_pipelining(c->s, !c->p.no_pipelining);
	c->s->defer_auth = 1;
	if (mf_smtp_open(c->s, c->p.auth, NULL, e) == 0 &&
	    (!c->p.auth || client_login(c, e) == 0))
		return 0;
	mf_smtp_free(c->s);
	c->s = NULL;
	return -1;
}

int
mf_smtp_client_send(struct mf_smtp_client *c,
                    const struct mf_smtp_envelope *env, const char *msg,
                    size_t len, struct mf_smtp_result *res, struct mf_err *e)
{
	int rc;

	if (c->s == NULL && client_open(c, e) == -1)
		return -1;
	rc = mf_smtp_send_message(c->s, env, msg, len, res, e);
	if (rc == -1 && !mf_smtp_usable(c->s)) {
		mf_smtp_free(c->s);
		c->s = NULL;
	}
	return rc;
}

int
mf_smtp_client_connected(const struct mf_smtp_client *c)
{
	return c != NULL && c->s != NULL;
}

void
mf_smtp_client_free(struct mf_smtp_client *c)
{
	if (c == NULL)
		return;
	mf_smtp_free(c->s);
	free(c);
}
