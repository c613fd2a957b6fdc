/* mime.c - message composition (RFC 5322, RFC 2045-2047, RFC 2231). */
#include "mime.h"
#include "base64.h"
#include "crypto.h"
#include "idn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lazy.h"

#define magic_open MF_LAZY(MF_LIB_MAGIC, magic_open)
#define magic_load MF_LAZY(MF_LIB_MAGIC, magic_load)
#define magic_buffer MF_LAZY(MF_LIB_MAGIC, magic_buffer)
#define magic_close MF_LAZY(MF_LIB_MAGIC, magic_close)

#define LINE_MAX_MIME 76          /* RFC 2045 §6.7 (5), §6.8 */
#define WORD_MAX 75               /* RFC 2047 §2 */
#define WORD_OVERHEAD 12          /* "=?UTF-8?B?" + "?=" */
#define ADDR_MAX 512
#define FILE_MAX ((size_t)128 << 20)

/* ---------------------------------------------------------------- */
/* checks */

int
mf_mime_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else {
			return 0;
		}
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* No overlong forms, no surrogates, nothing past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
mf_mime_check_value(const char *what, const char *value, struct mf_err *e)
{
	/* A line break inside a value would start a header of the caller's
	 * choosing (header injection); refuse it rather than fold it. */
	if (value != NULL && strpbrk(value, "\r\n") != NULL)
		return mf_err_set(e, MF_E_USAGE, "%s contains a line break "
		    "(CR or LF); refusing it (header injection)", what);
	return 0;
}

static int
needs_encoding(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x7f || (c < 0x20 && c != '\t'))
			return 1;
		if (c == '=' && i + 1 < len && s[i + 1] == '?')
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* RFC 2047 encoded-words */

static int
encode_words(const char *text, size_t len, size_t used, struct mf_buf *out,
             struct mf_err *e)
{
	struct mf_buf b64 = MF_BUF_INIT(256);
	size_t pos = 0, maxbytes, n;
	int first = 1, rc = 0;

	if (!mf_mime_utf8_valid(text, len))
		return mf_err_set(e, MF_E_DATA, "header text is not valid UTF-8");
	while (pos < len && rc == 0) {
		/* 4 base64 characters carry 3 bytes. */
		maxbytes = (WORD_MAX - WORD_OVERHEAD) / 4 * 3;
		if (first && used + WORD_OVERHEAD + 4 < LINE_MAX_MIME &&
		    (LINE_MAX_MIME - used - WORD_OVERHEAD) / 4 * 3 < maxbytes)
			maxbytes = (LINE_MAX_MIME - used - WORD_OVERHEAD) / 4 * 3;
		n = len - pos < maxbytes ? len - pos : maxbytes;
		/* §5: a word holds whole characters; back off over
		 * continuation bytes (10xxxxxx). */
		if (pos + n < len)
			while (n > 0 && ((unsigned char)text[pos + n] & 0xc0) == 0x80)
				n--;
		if (n == 0)
			n = 1;  /* cannot happen with valid UTF-8 */
		mf_buf_reset(&b64);
		if ((!first && mf_buf_puts(out, "\r\n ", e) == -1) ||
		    mf_base64_encode(text + pos, n, &b64, e) == -1 ||
		    mf_buf_printf(out, e, "=?UTF-8?B?%s?=", b64.data) == -1)
			rc = -1;
		pos += n;
		first = 0;
	}
	mf_buf_free(&b64);
	return rc;
}

int
mf_mime_encode_header(const char *text, size_t used, struct mf_buf *out,
                      struct mf_err *e)
{
	size_t len = strlen(text);

	if (mf_mime_check_value("header value", text, e) == -1)
		return -1;
	if (!needs_encoding(text, len))
		return mf_buf_append(out, text, len, e);
	return encode_words(text, len, used, out, e);
}

/* ---------------------------------------------------------------- */
/* addresses (RFC 5322 §3.4) */

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int
valid_addr(const char *a)
{
	const char *p;

	if (*a == '\0')
		return 0;
	for (p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\\\"", *p) ||
		    *p == 0x7f)
			return 0;
	return a[0] != '@' && p[-1] != '@';
}

static int
copy_out(const char *s, size_t n, char *out, size_t outlen)
{
	if (n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Unquote a quoted-string phrase into out. */
static int
unquote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return 0;
}

int
mf_mime_parse_address(const char *in, char *name, size_t namelen,
                      char *addr, size_t addrlen, struct mf_err *e)
{
	const char *lt = NULL, *gt, *p, *s = in;
	size_t n = strlen(in);
	int q = 0;

	if (mf_mime_check_value("address", in, e) == -1)
		return -1;
	for (p = in; *p; p++) {
		if (*p == '\\' && q && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			q = !q;
		else if (*p == '<' && !q)
			lt = p;
	}
	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL)
			goto bad;
		s = lt + 1;
		n = (size_t)(gt - s);
		trim(&s, &n);
		if (copy_out(s, n, addr, addrlen) == -1)
			goto bad;
		s = in;
		n = (size_t)(lt - in);
		trim(&s, &n);
		if (unquote(s, n, name, namelen) == -1)
			goto bad;
	} else {
		trim(&s, &n);
		/* "addr (Comment)": the comment is not part of the address. */
		p = memchr(s, '(', n);
		if (p != NULL) {
			n = (size_t)(p - s);
			trim(&s, &n);
		}
		if (copy_out(s, n, addr, addrlen) == -1)
			goto bad;
		name[0] = '\0';
	}
	if (valid_addr(addr))
		return 0;
bad:
	return mf_err_set(e, MF_E_USAGE, "not an email address: \"%.200s\"", in);
}

static int
is_atext_phrase(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != ' ' &&
		    strchr("!#$%&'*+-/=?^_`{|}~", *s) == NULL)
			return 0;
	return 1;
}

int
mf_mime_format_address(const char *name, const char *given,
                       struct mf_buf *out, struct mf_err *e)
{
	char addr[ADDR_MAX];
	const char *p;

	if (mf_mime_check_value("address", given, e) == -1 ||
	    mf_mime_check_value("display name", name, e) == -1)
		return -1;
	if (!valid_addr(given))
		return mf_err_set(e, MF_E_USAGE, "not an email address: "
		    "\"%.200s\"", given);
	/* A header may carry raw UTF-8 only under SMTPUTF8 (RFC 6532 §3),
	 * which is not known yet when a message is composed: the domain goes
	 * as A-labels (RFC 5890 §2.3.2.1), as in MAIL and RCPT.  A UTF-8
	 * local part has no ASCII form and is sent only under SMTPUTF8
	 * (lib/smtp.c refuses it otherwise), so that address stays whole. */
	if (mf_idn_addr_wire(given, addr, sizeof(addr), NULL, MF_E_USAGE,
	    e) == -1)
		return -1;
	if (name == NULL || *name == '\0')
		return mf_buf_puts(out, addr, e);
	if (needs_encoding(name, strlen(name))) {
		/* RFC 2047 §5(3): encoded-words may stand for a phrase. */
		if (encode_words(name, strlen(name), 40, out, e) == -1)
			return -1;
	} else if (is_atext_phrase(name)) {
		if (mf_buf_puts(out, name, e) == -1)
			return -1;
	} else {
		if (mf_buf_putc(out, '"', e) == -1)
			return -1;
		for (p = name; *p; p++)
			if ((*p == '"' || *p == '\\') && mf_buf_putc(out, '\\', e) == -1)
				return -1;
			else if (mf_buf_putc(out, *p, e) == -1)
				return -1;
		if (mf_buf_putc(out, '"', e) == -1)
			return -1;
	}
	return mf_buf_printf(out, e, " <%s>", addr);
}

int
mf_mime_address_list(const char *list,
                     int (*fn)(void *arg, const char *name, const char *addr),
                     void *arg, struct mf_err *e)
{
	char item[ADDR_MAX], name[ADDR_MAX], addr[ADDR_MAX];
	const char *p = list, *start = list, *s;
	int q = 0, angle = 0, paren = 0;
	size_t n;

	for (;; p++) {
		if (*p == '\\' && p[1] && (q || paren)) {
			p++;
			continue;
		}
		if (*p == '"' && !paren)
			q = !q;
		else if (!q && *p == '(')
			paren++;
		else if (!q && *p == ')' && paren > 0)
			paren--;
		else if (!q && !paren && *p == '<')
			angle = 1;
		else if (!q && !paren && *p == '>')
			angle = 0;
		else if (!q && !paren && !angle && *p == ':') {
			start = p + 1;    /* group name (§3.4): skip it */
			continue;
		}
		if (*p != '\0' && (q || paren || angle || (*p != ',' && *p != ';')))
			continue;
		s = start;
		n = (size_t)(p - start);
		trim(&s, &n);
		if (n > 0) {
			if (copy_out(s, n, item, sizeof(item)) == -1)
				return mf_err_set(e, MF_E_USAGE, "address too long");
			if (mf_mime_parse_address(item, name, sizeof(name), addr,
			    sizeof(addr), e) == -1)
				return -1;
			if (fn(arg, name, addr) != 0)
				return -1;   /* fn filled e */
		}
		if (*p == '\0')
			break;
		start = p + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* body encodings */

int
mf_mime_qp_encode(const char *in, size_t len, struct mf_buf *out,
                  struct mf_err *e)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, col = 0, w;
	char enc[4];

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		int eol_next, lit;

		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
				i++;
			i++;
			if (mf_buf_puts(out, "\r\n", e) == -1)
				return -1;
			col = 0;
			continue;
		}
		eol_next = i + 1 == len || in[i + 1] == '\r' || in[i + 1] == '\n';
		/* §6.7 rules (2) and (3): printable ASCII but "=" literal;
		 * white space literal unless it ends a line. */
		lit = (c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !eol_next);
		if (lit) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		/* Rule (5): soft break so no line passes 76 with its "=". */
		if (col + w > (eol_next ? LINE_MAX_MIME : LINE_MAX_MIME - 1)) {
			if (mf_buf_puts(out, "=\r\n", e) == -1)
				return -1;
			col = 0;
		}
		if (mf_buf_append(out, enc, w, e) == -1)
			return -1;
		col += w;
		i++;
	}
	return 0;
}

int
mf_mime_base64_lines(const void *in, size_t len, struct mf_buf *out,
                     struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(len / 3 * 4 + 8);
	size_t i, n;
	int rc = 0;

	if (mf_base64_encode(in, len, &b, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	if (mf_buf_reserve(out, b.len + b.len / LINE_MAX_MIME * 2 + 4, e) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < b.len; i += n) {
		n = b.len - i < LINE_MAX_MIME ? b.len - i : LINE_MAX_MIME;
		if (mf_buf_append(out, b.data + i, n, e) == -1 ||
		    mf_buf_puts(out, "\r\n", e) == -1)
			rc = -1;
	}
	mf_buf_free(&b);
	return rc;
}

/* Text with CRLF line endings, for 7bit and for base64 of text (RFC 2045
 * §6.8 encodes the canonical form). Ends with CRLF. */
static int
canonical_text(const char *in, size_t len, struct mf_buf *out,
               struct mf_err *e)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\r' || in[i] == '\n') {
			if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
				i++;
			if (mf_buf_puts(out, "\r\n", e) == -1)
				return -1;
		} else if (mf_buf_putc(out, in[i], e) == -1) {
			return -1;
		}
	}
	if ((out->len == 0 || out->data[out->len - 1] != '\n') &&
	    mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	return 0;
}

enum cte { CTE_7BIT, CTE_QP, CTE_B64 };

static enum cte
choose_cte(const char *s, size_t len)
{
	size_t i, line = 0, special = 0, longest = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r') {
			line = 0;
			continue;
		}
		if (++line > longest)
			longest = line;
		if (c >= 0x7f || (c < 0x20 && c != '\t'))
			special++;
	}
	if (special == 0 && longest <= 998)
		return CTE_7BIT;
	/* Mostly non-ASCII text (Arabic, CJK) is shorter in base64. */
	return special * 3 > len ? CTE_B64 : CTE_QP;
}

static int
text_part(const char *subtype, const char *text, size_t len,
          struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf canon = MF_BUF_INIT(MF_MIME_MSG_MAX);
	enum cte c = choose_cte(text, len);
	int rc = -1;

	if (!mf_mime_utf8_valid(text, len))
		return mf_err_set(e, MF_E_DATA, "the %s body is not valid "
		    "UTF-8", subtype);
	if (mf_buf_printf(out, e, "Content-Type: text/%s; charset=%s\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", subtype,
	    c == CTE_7BIT ? "us-ascii" : "UTF-8", c == CTE_7BIT ? "7bit" :
	    c == CTE_QP ? "quoted-printable" : "base64") == -1)
		return -1;
	if (c == CTE_QP) {
		if (mf_mime_qp_encode(text, len, out, e) == -1)
			return -1;
		if ((out->len == 0 || out->data[out->len - 1] != '\n') &&
		    mf_buf_puts(out, "\r\n", e) == -1)
			return -1;
		return 0;
	}
	if (canonical_text(text, len, &canon, e) == 0)
		rc = c == CTE_7BIT ? mf_buf_append(out, canon.data, canon.len, e)
		    : mf_mime_base64_lines(canon.data, canon.len, out, e);
	mf_buf_free(&canon);
	return rc;
}

/* ---------------------------------------------------------------- */
/* attachments */

int
mf_mime_parse_attach_spec(const char *spec, char *buf, size_t buflen,
                          struct mf_mime_attachment *a, struct mf_err *e)
{
	char *p, *next;

	memset(a, 0, sizeof(*a));
	if (mf_strlcpy(buf, spec, buflen) >= buflen)
		return mf_err_set(e, MF_E_USAGE, "--attach value too long");
	if (mf_mime_check_value("--attach", spec, e) == -1)
		return -1;
	a->path = buf;
	p = strchr(buf, ';');
	if (p != NULL)
		*p++ = '\0';
	while (p != NULL) {
		next = strchr(p, ';');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(p, "type=", 5) == 0)
			a->type = p + 5;
		else if (strncmp(p, "name=", 5) == 0)
			a->name = p + 5;
		else
			return mf_err_set(e, MF_E_USAGE, "--attach: unknown "
			    "parameter \"%.100s\" (type= or name=)", p);
		p = next;
	}
	if (*a->path == '\0')
		return mf_err_set(e, MF_E_USAGE, "--attach: no file name");
	return 0;
}

static int
read_file(const char *path, struct mf_buf *out, struct mf_err *e)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "%s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			mf_err_sys(e, MF_E_IO, errno, "%s", path);
			close(fd);
			return -1;
		}
		if (mf_buf_append(out, chunk, (size_t)n, e) == -1) {
			close(fd);
			mf_err_prefix(e, "%s", path);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The MIME type libmagic sees in data; application/octet-stream when it
 * sees none, or when libmagic cannot be loaded or its database read. */
static void
magic_type(const char *data, size_t len, char *out, size_t outlen)
{
	struct mf_err e;
	magic_t m = NULL;
	const char *t = NULL;

	if (mf_lazy_open(MF_LIB_MAGIC, &e) == 0)
		m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (m != NULL && magic_load(m, NULL) == 0)
		t = magic_buffer(m, data, len);
	mf_strlcpy(out, t != NULL && strchr(t, '/') ? t :
	    "application/octet-stream", outlen);
	if (m != NULL)
		magic_close(m);
}

/* RFC 2231 §4: attr-char stays, the rest is %XX. */
static int
attr_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$&+-.^_`|~", c) != NULL;
}

/* A file name parameter: a quoted string when it is short printable
 * ASCII, else RFC 2231 extended (with §3 continuations past 60
 * characters), never splitting a %XX triplet. */
static int
filename_param(const char *param, const char *fname, struct mf_buf *out,
               struct mf_err *e)
{
	struct mf_buf enc = MF_BUF_INIT(8192);
	size_t i, n, len = strlen(fname), part = 0;
	const char *p;
	int rc = 0;

	if (!needs_encoding(fname, len) && len <= 60) {
		if (mf_buf_printf(out, e, ";\r\n %s=\"", param) == -1)
			return -1;
		for (p = fname; *p; p++)
			if (((*p == '"' || *p == '\\') &&
			    mf_buf_putc(out, '\\', e) == -1) ||
			    mf_buf_putc(out, *p, e) == -1)
				return -1;
		return mf_buf_putc(out, '"', e);
	}
	if (!mf_mime_utf8_valid(fname, len))
		return mf_err_set(e, MF_E_DATA, "file name is not UTF-8");
	for (i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)fname[i];
		rc = attr_char(c) ? mf_buf_putc(&enc, (char)c, e) :
		    mf_buf_printf(&enc, e, "%%%02X", c);
	}
	for (i = 0; rc == 0 && i < enc.len; i += n, part++) {
		n = enc.len - i < 48 ? enc.len - i : 48;
		while (i + n < enc.len && n > 2 && (enc.data[i + n - 1] == '%' ||
		    enc.data[i + n - 2] == '%'))
			n--;
		if (enc.len <= 48)
			rc = mf_buf_printf(out, e, ";\r\n %s*=UTF-8''%.*s", param,
			    (int)n, enc.data + i);
		else
			rc = mf_buf_printf(out, e, ";\r\n %s*%zu*=%s%.*s", param,
			    part, part == 0 ? "UTF-8''" : "", (int)n,
			    enc.data + i);
	}
	mf_buf_free(&enc);
	return rc;
}

static int
attachment_part(const struct mf_mime_attachment *a, struct mf_buf *out,
                struct mf_err *e)
{
	struct mf_buf data = MF_BUF_INIT(FILE_MAX);
	char type[128];
	const char *name = a->name, *slash;
	int rc = -1;

	if (name == NULL) {
		slash = strrchr(a->path, '/');
		name = slash ? slash + 1 : a->path;
	}
	if (read_file(a->path, &data, e) == -1)
		goto out;
	if (a->type != NULL) {
		if (strchr(a->type, '/') == NULL || strpbrk(a->type, " ;\"\r\n")) {
			mf_err_set(e, MF_E_USAGE, "--attach: bad type \"%.100s\"",
			    a->type);
			goto out;
		}
		mf_strlcpy(type, a->type, sizeof(type));
	} else {
		magic_type(data.data ? data.data : "", data.len, type,
		    sizeof(type));
	}
	if (mf_buf_printf(out, e, "Content-Type: %s", type) == -1 ||
	    filename_param("name", name, out, e) == -1 ||
	    mf_buf_puts(out, "\r\nContent-Disposition: attachment", e) == -1 ||
	    filename_param("filename", name, out, e) == -1 ||
	    mf_buf_puts(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n",
	    e) == -1 ||
	    mf_mime_base64_lines(data.data ? data.data : "", data.len, out, e) == -1)
		goto out;
	rc = 0;
out:
	mf_buf_free(&data);
	return rc;
}

/* ---------------------------------------------------------------- */
/* multipart */

int
mf_mime_new_boundary(char *out, size_t outlen, struct mf_err *e)
{
	unsigned char r[12];
	char hex[25];

	if (mf_random(r, sizeof(r), e) == -1)
		return -1;
	mf_hex(r, sizeof(r), hex);
	/* "=_" cannot occur in quoted-printable or base64 text. */
	snprintf(out, outlen, "=_mf_%s", hex);
	return 0;
}

/* Wrap parts into a multipart entity of the given subtype. */
static int
multipart(const char *subtype, struct mf_buf *parts, size_t nparts,
          struct mf_buf *out, struct mf_err *e)
{
	char b[48];
	size_t i;

	if (mf_mime_new_boundary(b, sizeof(b), e) == -1)
		return -1;
	for (i = 0; i < nparts; i++)
		if (memmem(parts[i].data, parts[i].len, b, strlen(b)) != NULL)
			return multipart(subtype, parts, nparts, out, e);
	if (mf_buf_printf(out, e, "Content-Type: multipart/%s;\r\n "
	    "boundary=\"%s\"\r\n\r\nThis is a MIME message.\r\n", subtype, b) == -1)
		return -1;
	for (i = 0; i < nparts; i++)
		if (mf_buf_printf(out, e, "\r\n--%s\r\n", b) == -1 ||
		    mf_buf_append(out, parts[i].data, parts[i].len, e) == -1)
			return -1;
	return mf_buf_printf(out, e, "\r\n--%s--\r\n", b);
}

static int
body_entity(const struct mf_mime_compose *c, struct mf_buf *out,
            struct mf_err *e)
{
	struct mf_buf *parts;
	size_t n = 0, i, np = c->natt + 2;
	int rc = -1;

	parts = calloc(np, sizeof(*parts));
	if (parts == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "message parts");
	for (i = 0; i < np; i++)
		mf_buf_init(&parts[i], MF_MIME_MSG_MAX);
	if (c->text != NULL || c->html == NULL)
		if (text_part("plain", c->text ? c->text : "", c->text ?
		    c->text_len : 0, &parts[n++], e) == -1)
			goto out;
	if (c->html != NULL && text_part("html", c->html, c->html_len,
	    &parts[n++], e) == -1)
		goto out;
	if (n == 2) {
		/* RFC 2046 §5.1.4: the richest alternative last. */
		struct mf_buf alt = MF_BUF_INIT(MF_MIME_MSG_MAX);
		if (multipart("alternative", parts, 2, &alt, e) == -1) {
			mf_buf_free(&alt);
			goto out;
		}
		mf_buf_free(&parts[0]);
		mf_buf_free(&parts[1]);
		parts[0] = alt;
		n = 1;
	}
	for (i = 0; i < c->natt; i++)
		if (attachment_part(&c->att[i], &parts[n++], e) == -1)
			goto out;
	if (n == 1)
		rc = mf_buf_append(out, parts[0].data, parts[0].len, e);
	else
		rc = multipart("mixed", parts, n, out, e);
out:
	for (i = 0; i < np; i++)
		mf_buf_free(&parts[i]);
	free(parts);
	return rc;
}

/* ---------------------------------------------------------------- */
/* headers */

static int
header_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 76)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return 0;
	return 1;
}

static int
user_has(const struct mf_mime_compose *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->nheaders; i++)
		if (strncasecmp(c->headers[i], name, n) == 0 &&
		    c->headers[i][n] == ':')
			return 1;
	return 0;
}

static int
user_headers(const struct mf_mime_compose *c, struct mf_buf *out,
             struct mf_err *e)
{
	const char *h, *colon, *v;
	size_t i, n;

	for (i = 0; i < c->nheaders; i++) {
		h = c->headers[i];
		if (mf_mime_check_value("--header", h, e) == -1)
			return -1;
		colon = strchr(h, ':');
		n = colon ? (size_t)(colon - h) : 0;
		if (!header_name_ok(h, n))
			return mf_err_set(e, MF_E_USAGE, "--header: not a "
			    "\"Name: value\" header: \"%.100s\"", h);
		if (strncasecmp(h, "Content-", 8) == 0 ||
		    strncasecmp(h, "MIME-Version", n) == 0 ||
		    strncasecmp(h, "Bcc", n) == 0)
			return mf_err_set(e, MF_E_USAGE, "--header: %.*s is "
			    "set by mailsend itself", (int)n, h);
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (mf_buf_printf(out, e, "%.*s: ", (int)n, h) == -1 ||
		    mf_mime_encode_header(v, n + 2, out, e) == -1 ||
		    mf_buf_puts(out, "\r\n", e) == -1)
			return -1;
	}
	return 0;
}

struct fmt_list {
	struct mf_buf *out;
	size_t count;
	struct mf_err *e;
	int failed;
};

static int
fmt_one(void *arg, const char *name, const char *addr)
{
	struct fmt_list *f = arg;

	if ((f->count++ > 0 && mf_buf_puts(f->out, ",\r\n ", f->e) == -1) ||
	    mf_mime_format_address(name, addr, f->out, f->e) == -1)
		f->failed = 1;
	return f->failed;
}

static int
address_header(const char *field, const char *const *lists, size_t n,
               struct mf_buf *out, struct mf_err *e)
{
	struct fmt_list f = { out, 0, e, 0 };
	size_t i;

	if (n == 0)
		return 0;
	if (mf_buf_printf(out, e, "%s: ", field) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (mf_mime_check_value(field, lists[i], e) == -1)
			return -1;
		if (mf_mime_address_list(lists[i], fmt_one, &f, e) == -1)
			return -1;
	}
	return mf_buf_puts(out, "\r\n", e);
}

static int
date_header(struct mf_buf *out, struct mf_err *e)
{
	char d[64];
	time_t now = time(NULL);
	struct tm tm;

	/* RFC 5322 §3.3; the C locale's names are the English ones. */
	localtime_r(&now, &tm);
	strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S %z", &tm);
	return mf_buf_printf(out, e, "Date: %s\r\n", d);
}

static int
msgid_header(const char *domain, struct mf_buf *out, struct mf_err *e)
{
	unsigned char r[12];
	char hex[25], ascii[MF_IDN_NAME_MAX];

	if (mf_random(r, sizeof(r), e) == -1)
		return -1;
	mf_hex(r, sizeof(r), hex);
	/* the right side of a msg-id is a domain: A-labels, as the
	 * addresses (RFC 5322 §3.6.4, RFC 5890) */
	if (mf_idn_to_ascii(domain && *domain ? domain : "localhost", ascii,
	    sizeof(ascii), MF_E_USAGE, e) == -1)
		return -1;
	return mf_buf_printf(out, e, "Message-ID: <%lld.%s@%s>\r\n",
	    (long long)time(NULL), hex, ascii);
}

static int
from_header(const struct mf_mime_compose *c, char *domain, size_t dlen,
            struct mf_buf *out, struct mf_err *e)
{
	char name[ADDR_MAX], addr[ADDR_MAX];
	const char *at;

	if (c->from == NULL || *c->from == '\0')
		return mf_err_set(e, MF_E_USAGE, "no sender address (-f)");
	if (mf_mime_check_value("--from", c->from, e) == -1 ||
	    mf_mime_check_value("-F", c->from_name, e) == -1 ||
	    mf_mime_parse_address(c->from, name, sizeof(name), addr,
	    sizeof(addr), e) == -1)
		return -1;
	if (name[0] == '\0' && c->from_name != NULL)
		mf_strlcpy(name, c->from_name, sizeof(name));
	at = strrchr(addr, '@');
	mf_strlcpy(domain, at ? at + 1 : "localhost", dlen);
	if (user_has(c, "From"))
		return 0;
	if (mf_buf_puts(out, "From: ", e) == -1 ||
	    mf_mime_format_address(name, addr, out, e) == -1)
		return -1;
	return mf_buf_puts(out, "\r\n", e);
}

int
mf_mime_compose(const struct mf_mime_compose *c, struct mf_buf *out,
                struct mf_err *e)
{
	char domain[256];

	if (from_header(c, domain, sizeof(domain), out, e) == -1)
		return -1;
	if ((!user_has(c, "To") &&
	    address_header("To", c->to, c->nto, out, e) == -1) ||
	    (!user_has(c, "Cc") &&
	    address_header("Cc", c->cc, c->ncc, out, e) == -1))
		return -1;
	if (c->subject != NULL && !user_has(c, "Subject") &&
	    (mf_buf_puts(out, "Subject: ", e) == -1 ||
	    mf_mime_encode_header(c->subject, 9, out, e) == -1 ||
	    mf_buf_puts(out, "\r\n", e) == -1))
		return -1;
	if ((!user_has(c, "Date") && date_header(out, e) == -1) ||
	    (!user_has(c, "Message-ID") && msgid_header(c->msgid_domain ?
	    c->msgid_domain : domain, out, e) == -1))
		return -1;
	if (user_headers(c, out, e) == -1 ||
	    mf_buf_puts(out, "MIME-Version: 1.0\r\n", e) == -1)
		return -1;
	return body_entity(c, out, e);
}

/* ---------------------------------------------------------------- */
/* ready messages */

int
mf_mime_next_field(const char *msg, size_t hlen, size_t *pos, size_t *fstart,
           size_t *fend, size_t *nlen)
{
	size_t p = *pos, colon;

	if (p >= hlen || msg[p] == '\r' || msg[p] == '\n')
		return 0;
	*fstart = p;
	colon = p;
	while (colon < hlen && msg[colon] != ':' && msg[colon] != '\n')
		colon++;
	*nlen = colon - p;
	for (;;) {
		while (p < hlen && msg[p] != '\n')
			p++;
		if (p < hlen)
			p++;
		if (p >= hlen || (msg[p] != ' ' && msg[p] != '\t'))
			break;
	}
	*fend = p;
	*pos = p;
	return 1;
}

size_t
mf_mime_header_len(const char *msg, size_t len)
{
	size_t p = 0, eol, colon;

	while (p < len) {
		if (msg[p] == '\n')
			return p + 1;
		if (msg[p] == '\r' && p + 1 < len && msg[p + 1] == '\n')
			return p + 2;
		eol = p;
		while (eol < len && msg[eol] != '\n')
			eol++;
		/* A line that is neither a field nor a continuation starts
		 * the body although no blank line came (seen in the wild). */
		if (msg[p] != ' ' && msg[p] != '\t') {
			colon = p;
			while (colon < eol && msg[colon] != ':' &&
			    msg[colon] > ' ')
				colon++;
			if (colon == eol || msg[colon] != ':' || colon == p)
				return p;
		}
		p = eol < len ? eol + 1 : len;
	}
	return len;
}

static int
field_is(const char *msg, size_t fstart, size_t nlen, const char *name)
{
	return nlen == strlen(name) && strncasecmp(msg + fstart, name, nlen) == 0;
}

/* The unfolded value of the field msg[fstart..fend). */
static void
field_value(const char *msg, size_t fstart, size_t fend, size_t nlen,
            char *out, size_t outlen)
{
	size_t i = fstart + nlen + 1, o = 0;

	while (i < fend && (msg[i] == ' ' || msg[i] == '\t'))
		i++;
	for (; i < fend && o + 1 < outlen; i++)
		if (msg[i] != '\r' && msg[i] != '\n')
			out[o++] = msg[i];
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	out[o] = '\0';
}

/* Step over an mbox "From " line. */
static void
skip_mbox(const char **msg, size_t *len)
{
	const char *eol;

	if (*len > 5 && strncmp(*msg, "From ", 5) == 0 &&
	    (eol = memchr(*msg, '\n', *len)) != NULL) {
		*len -= (size_t)(eol + 1 - *msg);
		*msg = eol + 1;
	}
}

int
mf_mime_header_get(const char *msg, size_t len, const char *name, char *out,
                   size_t outlen)
{
	size_t hlen, pos = 0, fs, fe, nl;

	out[0] = '\0';
	skip_mbox(&msg, &len);
	hlen = mf_mime_header_len(msg, len);
	while (mf_mime_next_field(msg, hlen, &pos, &fs, &fe, &nl))
		if (field_is(msg, fs, nl, name)) {
			field_value(msg, fs, fe, nl, out, outlen);
			return 0;
		}
	return -1;
}

int
mf_mime_header_recipients(const char *msg, size_t len,
                          int (*fn)(void *arg, const char *name,
                                    const char *addr),
                          void *arg, struct mf_err *e)
{
	size_t hlen, pos = 0, fs, fe, nl;
	char *v = malloc(65536);
	int rc = 0;

	skip_mbox(&msg, &len);
	hlen = mf_mime_header_len(msg, len);

	if (v == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "header");
	while (rc == 0 && mf_mime_next_field(msg, hlen, &pos, &fs, &fe, &nl)) {
		if (!field_is(msg, fs, nl, "To") && !field_is(msg, fs, nl, "Cc") &&
		    !field_is(msg, fs, nl, "Bcc"))
			continue;
		field_value(msg, fs, fe, nl, v, 65536);
		if (mf_mime_address_list(v, fn, arg, e) == -1) {
			e->kind = MF_E_DATA;
			rc = -1;
		}
	}
	free(v);
	return rc;
}

int
mf_mime_prepare(const char *msg, size_t len, const char *msgid_domain,
                struct mf_buf *out, struct mf_err *e)
{
	size_t hlen, pos = 0, fs, fe, nl;
	size_t fields_end = 0;
	int has_date = 0, has_id = 0;

	/* An mbox "From " envelope line is not part of the message (the
	 * sendmail interface drops it too). */
	skip_mbox(&msg, &len);
	hlen = mf_mime_header_len(msg, len);

	while (mf_mime_next_field(msg, hlen, &pos, &fs, &fe, &nl)) {
		fields_end = fe;
		if (field_is(msg, fs, nl, "Date"))
			has_date = 1;
		else if (field_is(msg, fs, nl, "Message-ID"))
			has_id = 1;
		if (field_is(msg, fs, nl, "Bcc"))
			continue;    /* RFC 5322 §3.6.3: blind copies stay blind */
		if (mf_buf_append(out, msg + fs, fe - fs, e) == -1)
			return -1;
	}
	if (fields_end > 0 && msg[fields_end - 1] != '\n' &&
	    mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	if ((!has_date && date_header(out, e) == -1) ||
	    (!has_id && msgid_header(msgid_domain, out, e) == -1))
		return -1;
	/* No header at all: the fields we added need the blank line, or
	 * the first body line would be read as a header. */
	if (fields_end == 0 && hlen == 0 && mf_buf_puts(out, "\r\n", e) == -1)
		return -1;
	return mf_buf_append(out, msg + fields_end, len - fields_end, e);
}

size_t
mf_mime_sendmail_cut(const char *msg, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i == 0 || msg[i - 1] == '\n') && msg[i] == '.' &&
		    (i + 1 == len || msg[i + 1] == '\n' ||
		    (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')))
			return i;
	}
	return len;
}

int
mf_rcpts_add(struct mf_rcpts *r, const char *addr, struct mf_err *e)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcasecmp(r->v[i], addr) == 0)
			return 0;
	if (r->n >= MF_RCPTS_MAX)
		return mf_err_set(e, MF_E_USAGE, "more than %d recipients",
		    MF_RCPTS_MAX);
	if ((r->v[r->n] = strdup(addr)) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "recipients");
	r->n++;
	return 0;
}

struct rcpt_ctx {
	struct mf_rcpts *r;
	struct mf_err *e;
};

static int
rcpt_cb(void *arg, const char *name, const char *addr)
{
	struct rcpt_ctx *c = arg;

	(void)name;
	return mf_rcpts_add(c->r, addr, c->e) == -1;
}

int
mf_rcpts_add_list(struct mf_rcpts *r, const char *list, struct mf_err *e)
{
	struct rcpt_ctx c = { r, e };

	if (mf_mime_check_value("recipient", list, e) == -1)
		return -1;
	return mf_mime_address_list(list, rcpt_cb, &c, e);
}

int
mf_rcpts_add_header(struct mf_rcpts *r, const char *msg, size_t len,
                    struct mf_err *e)
{
	struct rcpt_ctx c = { r, e };

	return mf_mime_header_recipients(msg, len, rcpt_cb, &c, e);
}

int
mf_rcpts_need_utf8(const struct mf_rcpts *r, const char *also)
{
	size_t i;
	const char *p;

	for (i = 0; i <= r->n; i++) {
		p = i < r->n ? r->v[i] : also;
		for (; p != NULL && *p; p++)
			if ((unsigned char)*p & 0x80)
				return 1;
	}
	return 0;
}

void
mf_rcpts_clear(struct mf_rcpts *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

int
mf_mime_add_from(struct mf_buf *msg, const char *name, const char *addr,
                 struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(MF_MIME_MSG_MAX);
	char v[8];

	if (mf_mime_header_get(msg->data ? msg->data : "", msg->len, "From", v,
	    sizeof(v)) == 0)
		return 0;
	if (mf_buf_puts(&b, "From: ", e) == -1 ||
	    mf_mime_format_address(name, addr, &b, e) == -1 ||
	    mf_buf_puts(&b, "\r\n", e) == -1 ||
	    mf_buf_append(&b, msg->data ? msg->data : "", msg->len, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	mf_buf_free(msg);
	*msg = b;
	return 0;
}
