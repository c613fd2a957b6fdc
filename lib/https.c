/* https.c - a bounded HTTPS GET over the session layer (lib/session:
 * dial and implicit TLS, the same plumbing as SMTP, POP3 and IMAP). */
#include "https.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "session.h"
#include "tls.h"
#include "transport.h"

#define HEAD_MAX 8192
#define BODY_MAX_DEFAULT 65536

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* RFC 9112 §7.1: chunked transfer coding, decoded in place.  Every size
 * is checked against what is left, so a hostile length cannot reach
 * past the buffer. */
static int
dechunk(struct mf_buf *b)
{
	size_t in = 0, out = 0, n;
	const char *crlf;
	int digits;

	for (;;) {
		n = 0;
		for (digits = 0; in < b->len && isxdigit((unsigned char)b->data[in]);
		    in++, digits++) {
			if (digits == 8)
				return -1;
			n = n * 16 + (size_t)(isdigit((unsigned char)b->data[in]) ?
			    b->data[in] - '0' :
			    tolower((unsigned char)b->data[in]) - 'a' + 10);
		}
		if (digits == 0)
			return -1;
		/* chunk extensions (§7.1.1) are skipped up to the CRLF */
		crlf = strstr(b->data + in, "\r\n");
		if (crlf == NULL)
			return -1;
		in = (size_t)(crlf - b->data) + 2;
		if (n == 0)
			break;
		if (n > b->len - in || b->len - in - n < 2)
			return -1;
		memmove(b->data + out, b->data + in, n);
		out += n;
		in += n + 2;
	}
	b->len = out;
	b->data[out] = '\0';
	return 0;
}

/* The value of header `name` in the NUL-terminated header block. */
static const char *
header(const char *head, const char *name, char *val, size_t vlen)
{
	const char *p = head, *v;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			v = skip_ws(p + n + 1);
			n = strcspn(v, "\r\n");
			snprintf(val, vlen, "%.*s", (int)n, v);
			return val;
		}
	}
	return NULL;
}

int
mf_https_parse(struct mf_buf *raw, struct mf_buf *body,
               struct mf_https_response *resp, struct mf_err *e)
{
	struct mf_https_response dummy;
	char *sep, te[64];

	if (resp == NULL)
		resp = &dummy;
	memset(resp, 0, sizeof(*resp));
	if (raw->data == NULL || raw->len < 12 ||
	    strncmp(raw->data, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)raw->data[9]) ||
	    !isdigit((unsigned char)raw->data[10]) ||
	    !isdigit((unsigned char)raw->data[11]) ||
	    (sep = strstr(raw->data, "\r\n\r\n")) == NULL)
		return mf_err_set(e, MF_E_PROTO, "not an HTTP response");
	resp->status = (raw->data[9] - '0') * 100 + (raw->data[10] - '0') * 10 +
	    (raw->data[11] - '0');
	*sep = '\0';
	header(raw->data, "Content-Type", resp->content_type,
	    sizeof(resp->content_type));
	/* RFC 8461 §3.3 (and our autoconfig fetch alike): redirects are not
	 * followed, only 200 carries a document. */
	if (resp->status != 200)
		return mf_err_set(e, MF_E_PROTO, "HTTP status %d (only 200 is "
		    "accepted; redirects are not followed)", resp->status);
	if (header(raw->data, "Transfer-Encoding", te, sizeof(te)) == NULL)
		te[0] = '\0';
	mf_buf_consume(raw, (size_t)(sep - raw->data) + 4);
	if (strncasecmp(te, "chunked", 7) == 0 && dechunk(raw) == -1)
		return mf_err_set(e, MF_E_PROTO, "bad chunked encoding");
	return mf_buf_append(body, raw->data, raw->len, e);
}

int
mf_https_get(const char *host, const char *addr, const char *path,
             const struct mf_https_params *p, struct mf_buf *body,
             struct mf_https_response *resp, struct mf_err *e)
{
	struct mf_session_params sp;
	struct mf_session *s;
	struct mf_transport *t;
	size_t max = p->body_max > 0 ? p->body_max : BODY_MAX_DEFAULT;
	struct mf_buf raw = MF_BUF_INIT(max + HEAD_MAX);
	struct mf_buf req = MF_BUF_INIT(2048);
	char chunk[4096];
	ssize_t n;
	int r = -1;

	if (resp != NULL)
		memset(resp, 0, sizeof(*resp));
	memset(&sp, 0, sizeof(sp));
	sp.conn.tlsp.sni = host;
	sp.conn.tlsp.verify_name = host;  /* always verified: no insecure mode */
	sp.conn.tlsp.ca_file = p->ca_file;
	sp.conn.host = addr;     /* dialled as given: the caller resolved it */
	sp.conn.port = p->port ? p->port : "443";
	sp.conn.tls = MF_TLS_IMPLICIT;
	sp.conn.sock.connect_timeout_ms = sp.conn.sock.io_timeout_ms =
	    p->timeout_ms > 0 ? p->timeout_ms : 10000;
	s = mf_session_open(&sp, NULL, e);
	if (s == NULL)
		return -1;
	t = mf_lineio_transport(mf_session_lineio(s));
	if (mf_buf_printf(&req, e, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: %s\r\nAccept: %s\r\nConnection: close\r\n\r\n", path,
	    host, p->user_agent ? p->user_agent : "mailflow",
	    p->accept ? p->accept : "*/*") == -1 ||
	    mf_transport_write(t, req.data, req.len, e) == -1)
		goto out;
	while ((n = mf_transport_read(t, chunk, sizeof(chunk), e)) > 0)
		if (mf_buf_append(&raw, chunk, (size_t)n, e) == -1)
			goto out;
	if (n < 0 && raw.len == 0)
		goto out;
	r = mf_https_parse(&raw, body, resp, e);
out:
	mf_session_free(s);
	mf_buf_free(&raw);
	mf_buf_free(&req);
	return r;
}
