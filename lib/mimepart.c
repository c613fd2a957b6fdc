/* mimepart.c - 7-bit conversion and security multiparts (RFC 1847). */
#include "mimepart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

#define VALUE_MAX 2048
#define BOUNDARY_MAX 71       /* RFC 2046 §5.1.1: 1 to 70 characters */

static int entity_7bit(const char *m, size_t len, int depth, int top,
                       struct mf_buf *out, int *changed, struct mf_err *e);

/* The parameter `name` of a Content-Type value into out; -1 if absent. */
static int
ctype_param(const char *v, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), o = 0;
	const char *p = v;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		p += nl + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"' && o + 1 < outlen; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[o++] = *p;
			}
		} else {
			while (*p && *p != ';' && *p != ' ' && *p != '\t' &&
			    o + 1 < outlen)
				out[o++] = *p++;
		}
		out[o] = '\0';
		return o > 0 ? 0 : -1;
	}
	return -1;
}

static int
type_is(const char *ctype, const char *prefix)
{
	return strncasecmp(ctype, prefix, strlen(prefix)) == 0;
}

/* 1 when body needs re-encoding: 8-bit bytes, NUL, lines over 998. */
static int
needs_7bit(const char *b, size_t len)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if ((unsigned char)b[i] > 127 || b[i] == '\0')
			return 1;
		col = b[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return 1;
	}
	return 0;
}

/* Copy the header fields of m[0..hlen) but those named in drop
 * (NULL-terminated). */
static int
copy_fields(const char *m, size_t hlen, const char *const *drop,
            int keep_dropped, struct mf_buf *out, struct mf_err *e)
{
	size_t pos = 0, fs, fe, nl, k;
	int hit;

	while (mf_mime_next_field(m, hlen, &pos, &fs, &fe, &nl)) {
		hit = 0;
		for (k = 0; drop[k] != NULL; k++) {
			size_t dl = strlen(drop[k]);
			/* a name ending in '-' is a prefix */
			if (drop[k][dl - 1] == '-' ? nl >= dl &&
			    strncasecmp(m + fs, drop[k], dl) == 0 : nl == dl &&
			    strncasecmp(m + fs, drop[k], dl) == 0)
				hit = 1;
		}
		if (hit == keep_dropped && mf_buf_append(out, m + fs, fe - fs,
		    e) == -1)
			return -1;
	}
	return 0;
}

static int
leaf_7bit(const char *m, size_t len, size_t hlen, const char *ctype, int top,
          struct mf_buf *out, int *changed, struct mf_err *e)
{
	static const char *const cte[] = { "Content-Transfer-Encoding", NULL };
	const char *body = m + hlen;
	size_t blen = len - hlen;
	int text = ctype[0] == '\0' || type_is(ctype, "text/");
	char v[16];

	if (!needs_7bit(body, blen))
		return mf_buf_append(out, m, len, e);
	*changed = 1;
	if (copy_fields(m, hlen, cte, 0, out, e) == -1)
		return -1;
	/* RFC 2045 §5.2 assumes US-ASCII without a Content-Type; the
	 * common case of such a body with 8-bit bytes is UTF-8. */
	if (top && ctype[0] == '\0') {
		if (mf_mime_header_get(m, hlen, "MIME-Version", v, sizeof(v)) ==
		    -1 && mf_buf_puts(out, "MIME-Version: 1.0\r\n", e) == -1)
			return -1;
		if (mf_buf_printf(out, e, "Content-Type: %s\r\n",
		    mf_mime_utf8_valid(body, blen) ? "text/plain; charset=UTF-8" :
		    "application/octet-stream") == -1)
			return -1;
		text = mf_mime_utf8_valid(body, blen);
	}
	if (mf_buf_printf(out, e, "Content-Transfer-Encoding: %s\r\n\r\n",
	    text ? "quoted-printable" : "base64") == -1)
		return -1;
	return text ? mf_mime_qp_encode(body, blen, out, e) :
	    mf_mime_base64_lines(body, blen, out, e);
}

/* The start of the next delimiter line "--b" at or after *pos; 1 and
 * *close for "--b--". */
static int
next_delim(const char *m, size_t len, const char *b, size_t *pos,
           size_t *start, size_t *after, int *close)
{
	size_t bl = strlen(b), i = *pos, j;

	while (i < len) {
		if (i + 2 + bl <= len && m[i] == '-' && m[i + 1] == '-' &&
		    memcmp(m + i + 2, b, bl) == 0) {
			j = i + 2 + bl;
			*close = j + 2 <= len && m[j] == '-' && m[j + 1] == '-';
			if (*close)
				j += 2;
			while (j < len && (m[j] == ' ' || m[j] == '\t'))
				j++;
			if (j == len || m[j] == '\r' || m[j] == '\n') {
				while (j < len && m[j] != '\n')
					j++;
				*start = i;
				*after = *pos = j < len ? j + 1 : j;
				return 1;
			}
		}
		while (i < len && m[i] != '\n')
			i++;
		i++;
	}
	return 0;
}

static int
multipart_7bit(const char *m, size_t len, size_t hlen, const char *b,
               int depth, struct mf_buf *out, int *changed, struct mf_err *e)
{
	size_t pos = hlen, start, after, part = 0, end;
	int close = 0, inpart = 0;

	if (mf_buf_append(out, m, hlen, e) == -1)
		return -1;
	while (!close && next_delim(m, len, b, &pos, &start, &after, &close)) {
		if (!inpart) {
			/* the preamble, verbatim */
			if (mf_buf_append(out, m + hlen, start - hlen, e) == -1)
				return -1;
		} else {
			/* RFC 2046 §5.1.1: the CRLF before "--" belongs to the
			 * delimiter. */
			end = start;
			if (end > part && m[end - 1] == '\n')
				end--;
			if (end > part && m[end - 1] == '\r')
				end--;
			if (entity_7bit(m + part, end - part, depth + 1, 0, out,
			    changed, e) == -1 ||
			    mf_buf_append(out, m + end, start - end, e) == -1)
				return -1;
		}
		if (mf_buf_append(out, m + start, after - start, e) == -1)
			return -1;
		part = after;
		inpart = 1;
	}
	if (!inpart)
		return mf_buf_append(out, m + hlen, len - hlen, e);
	/* the epilogue (or an unterminated last part), verbatim */
	return mf_buf_append(out, m + part, len - part, e);
}

static int
entity_7bit(const char *m, size_t len, int depth, int top, struct mf_buf *out,
            int *changed, struct mf_err *e)
{
	char ctype[VALUE_MAX], b[BOUNDARY_MAX + 1];
	size_t hlen = mf_mime_header_len(m, len);

	if (mf_mime_header_get(m, hlen, "Content-Type", ctype, sizeof(ctype))
	    == -1)
		ctype[0] = '\0';
	if (depth < MF_MIMEPART_DEPTH_MAX && type_is(ctype, "multipart/") &&
	    ctype_param(ctype, "boundary", b, sizeof(b)) == 0)
		return multipart_7bit(m, len, hlen, b, depth, out, changed, e);
	if (depth < MF_MIMEPART_DEPTH_MAX && type_is(ctype, "message/rfc822")) {
		if (mf_buf_append(out, m, hlen, e) == -1)
			return -1;
		return entity_7bit(m + hlen, len - hlen, depth + 1, 0, out,
		    changed, e);
	}
	return leaf_7bit(m, len, hlen, ctype, top, out, changed, e);
}

int
mf_mimepart_7bit(const char *msg, size_t len, struct mf_buf *out, int *changed,
                 struct mf_err *e)
{
	*changed = 0;
	return entity_7bit(msg, len, 0, 1, out, changed, e);
}

int
mf_mimepart_split(const char *msg, size_t len, struct mf_buf *outer,
                  struct mf_buf *entity, struct mf_err *e)
{
	static const char *const content[] = { "Content-", "MIME-Version",
	    NULL };
	static const char *const ctonly[] = { "Content-", NULL };
	size_t hlen = mf_mime_header_len(msg, len);
	char v[8];

	/* RFC 8551 §3.1 / RFC 3156 §3: what is protected is the content
	 * entity; the rest of the header travels outside. */
	if (copy_fields(msg, hlen, content, 0, outer, e) == -1 ||
	    copy_fields(msg, hlen, ctonly, 1, entity, e) == -1)
		return -1;
	if (mf_mime_header_get(msg, hlen, "Content-Type", v, sizeof(v)) == -1 &&
	    mf_buf_puts(entity, "Content-Type: text/plain; charset=us-ascii"
	    "\r\n", e) == -1)
		return -1;
	if (mf_buf_puts(entity, "\r\n", e) == -1)
		return -1;
	return mf_buf_append(entity, msg + hlen, len - hlen, e);
}

size_t
mf_mimepart_signed_len(const char *entity, size_t len)
{
	if (len >= 2 && entity[len - 2] == '\r' && entity[len - 1] == '\n')
		return len - 2;
	return len;
}

static int
open_multipart(const struct mf_buf *outer, const char *subtype,
               const char *params, char *b, size_t blen, struct mf_buf *out,
               struct mf_err *e)
{
	if (mf_mime_new_boundary(b, blen, e) == -1)
		return -1;
	return mf_buf_append(out, outer->data, outer->len, e) == -1 ||
	    mf_buf_printf(out, e, "MIME-Version: 1.0\r\nContent-Type: "
	    "multipart/%s; %s;\r\n\tboundary=\"%s\"\r\n\r\nThis is a "
	    "%s message (RFC 1847).\r\n", subtype, params, b, subtype) == -1 ?
	    -1 : 0;
}

int
mf_mimepart_signed(const struct mf_buf *outer, const char *entity,
                   size_t signed_len, const char *ctype_params,
                   const char *sig_fields, const char *sig, size_t siglen,
                   struct mf_buf *out, struct mf_err *e)
{
	char b[48];

	if (open_multipart(outer, "signed", ctype_params, b, sizeof(b), out,
	    e) == -1)
		return -1;
	/* RFC 1847 §2.1: the first part exactly as signed. */
	if (mf_buf_printf(out, e, "--%s\r\n", b) == -1 ||
	    mf_buf_append(out, entity, signed_len, e) == -1 ||
	    mf_buf_printf(out, e, "\r\n--%s\r\n%s\r\n", b, sig_fields) == -1 ||
	    mf_buf_append(out, sig, siglen, e) == -1)
		return -1;
	if (siglen > 0 && sig[siglen - 1] != '\n' &&
	    mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	return mf_buf_printf(out, e, "--%s--\r\n", b);
}

int
mf_mimepart_encrypted(const struct mf_buf *outer, const char *protocol,
                      const char *control_fields, const char *control,
                      const char *data_fields, const char *data,
                      size_t datalen, struct mf_buf *out, struct mf_err *e)
{
	char b[48], params[256];
	int n = snprintf(params, sizeof(params), "protocol=\"%s\"", protocol);

	if (n < 0 || (size_t)n >= sizeof(params))
		return mf_err_set(e, MF_E_INTERNAL, "protocol name too long");
	if (open_multipart(outer, "encrypted", params, b, sizeof(b), out,
	    e) == -1)
		return -1;
	if (mf_buf_printf(out, e, "--%s\r\n%s\r\n%s--%s\r\n%s\r\n", b,
	    control_fields, control, b, data_fields) == -1 ||
	    mf_buf_append(out, data, datalen, e) == -1)
		return -1;
	if (datalen > 0 && data[datalen - 1] != '\n' &&
	    mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	return mf_buf_printf(out, e, "--%s--\r\n", b);
}

int
mf_mimepart_single(const struct mf_buf *outer, const char *fields,
                   const char *body, size_t bodylen, struct mf_buf *out,
                   struct mf_err *e)
{
	if (mf_buf_append(out, outer->data, outer->len, e) == -1 ||
	    mf_buf_printf(out, e, "MIME-Version: 1.0\r\n%s\r\n", fields) == -1 ||
	    mf_buf_append(out, body, bodylen, e) == -1)
		return -1;
	if (bodylen > 0 && body[bodylen - 1] != '\n' &&
	    mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	return 0;
}
