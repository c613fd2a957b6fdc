/* autoconfig.c - a small, bounded reader for Mozilla autoconfig documents
 * (config-v1.1.xml).  Not a general XML parser: it accepts the subset
 * such documents use and refuses the rest (DOCTYPE, CDATA, unknown
 * entities), so hostile input costs at most one linear pass. */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

#define NAME_MAX_LEN 64

struct parser {
	const char *start, *p, *end;
	int depth;
	char stack[MF_AC_DEPTH_MAX][NAME_MAX_LEN];
	int root_seen;
	struct mf_autoconfig *ac;
	struct mf_ac_server *cur;     /* the server being read, or NULL */
	int cur_depth;                /* depth of its element */
	char text[MF_AC_VALUE_MAX];
	size_t tlen;
	const char *address;
	struct mf_err *e;
};

const char *
mf_ac_proto_name(enum mf_ac_proto p)
{
	switch (p) {
	case MF_AC_SMTP: return "smtp";
	case MF_AC_IMAP: return "imap";
	default: return "pop3";
	}
}

const char *
mf_ac_socket_name(enum mf_ac_socket s)
{
	switch (s) {
	case MF_AC_SSL: return "SSL";
	case MF_AC_STARTTLS: return "STARTTLS";
	case MF_AC_PLAIN: return "plain";
	default: return "unknown";
	}
}

static int
bad(struct parser *x, const char *what)
{
	return mf_err_set(x->e, MF_E_PROTO, "autoconfig: %s at byte %zu", what,
	    (size_t)(x->p - x->start));
}

static int
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

static void
skip_ws(struct parser *x)
{
	while (x->p < x->end && isspace((unsigned char)*x->p))
		x->p++;
}

static int
starts(const struct parser *x, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* Move past the next occurrence of s; -1 when it never comes. */
static int
skip_past(struct parser *x, const char *s)
{
	size_t n = strlen(s);

	while ((size_t)(x->end - x->p) >= n) {
		if (memcmp(x->p, s, n) == 0) {
			x->p += n;
			return 0;
		}
		x->p++;
	}
	return -1;
}

static int
read_name(struct parser *x, char *out)
{
	size_t n = 0;

	while (x->p < x->end && is_name_char((unsigned char)*x->p)) {
		if (n + 1 >= NAME_MAX_LEN)
			return mf_err_set(x->e, MF_E_LIMIT, "autoconfig: element "
			    "or attribute name over %d bytes", NAME_MAX_LEN - 1);
		out[n++] = *x->p++;
	}
	out[n] = '\0';
	return n == 0 ? bad(x, "expected a name") : 0;
}

/* One character reference or predefined entity (XML 1.0 §4.1, §4.6),
 * x->p just past '&'; appends the character to out. */
static int
entity(struct parser *x, char *out, size_t *len, size_t max)
{
	static const struct { const char *name; char c; } pre[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	long v = 0;
	size_t i;
	char c = 0;
	int digits = 0, hex;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]) && c == 0; i++)
		if (starts(x, pre[i].name)) {
			c = pre[i].c;
			x->p += strlen(pre[i].name);
		}
	if (c == 0 && starts(x, "#")) {
		x->p++;
		hex = starts(x, "x");
		x->p += hex;
		for (; x->p < x->end && (hex ? isxdigit((unsigned char)*x->p) :
		    isdigit((unsigned char)*x->p)) && digits < 6; x->p++, digits++)
			v = v * (hex ? 16 : 10) + (isdigit((unsigned char)*x->p) ?
			    *x->p - '0' : tolower((unsigned char)*x->p) - 'a' + 10);
		/* only printable ASCII: nothing here needs more */
		if (digits == 0 || !starts(x, ";") || v < 0x20 || v > 0x7e)
			return bad(x, "unsupported character reference");
		x->p++;
		c = (char)v;
	}
	if (c == 0)
		return bad(x, "unknown entity (only &amp; &lt; &gt; &quot; "
		    "&apos; and ASCII character references)");
	if (*len + 1 >= max)
		return mf_err_set(x->e, MF_E_LIMIT, "autoconfig: value over %zu "
		    "bytes", max - 1);
	out[(*len)++] = c;
	out[*len] = '\0';
	return 0;
}

/* Text or an attribute value up to `stop`, entities decoded, into out
 * (NULL: checked and dropped). */
static int
read_chars(struct parser *x, char stop, char *out, size_t *len, size_t max)
{
	char sink[MF_AC_VALUE_MAX];
	size_t slen = 0;

	if (out == NULL) {
		out = sink;
		len = &slen;
	}
	while (x->p < x->end && *x->p != stop) {
		if (*x->p == '<')
			return bad(x, "'<' inside a value");
		if (*x->p == '&') {
			x->p++;
			if (entity(x, out, len, max) == -1)
				return -1;
			if (out == sink)
				slen = 0;
			continue;
		}
		if (out != sink) {
			if (*len + 1 >= max)
				return mf_err_set(x->e, MF_E_LIMIT, "autoconfig: "
				    "value over %zu bytes", max - 1);
			out[(*len)++] = *x->p;
			out[*len] = '\0';
		}
		x->p++;
	}
	return 0;
}

/* Replace the placeholders of the autoconfig format from the address. */
static int
substitute(struct parser *x, char *val, size_t size)
{
	struct mf_buf b = MF_BUF_INIT(MF_AC_VALUE_MAX - 1);
	const char *at = strrchr(x->address, '@'), *s = val;
	int r = 0;

	while (*s != '\0' && r == 0) {
		if (strncmp(s, "%EMAILADDRESS%", 14) == 0) {
			r = mf_buf_puts(&b, x->address, x->e);
			s += 14;
		} else if (strncmp(s, "%EMAILLOCALPART%", 16) == 0) {
			r = mf_buf_append(&b, x->address, at ? (size_t)(at -
			    x->address) : strlen(x->address), x->e);
			s += 16;
		} else if (strncmp(s, "%EMAILDOMAIN%", 13) == 0) {
			r = mf_buf_puts(&b, at ? at + 1 : x->address, x->e);
			s += 13;
		} else {
			r = mf_buf_putc(&b, *s++, x->e);
		}
	}
	if (r == 0)
		mf_strlcpy(val, b.len ? b.data : "", size);
	mf_buf_free(&b);
	return r;
}

static int
valid_host(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return 0;
	return 1;
}

/* A value that ends up in a configuration file: no blanks, no controls. */
static int
valid_word(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '"' ||
		    *s == '#')
			return 0;
	return 1;
}

/* Leading and trailing blanks of the collected text are not content. */
static void
trim_text(struct parser *x)
{
	size_t i = 0;

	while (x->tlen > 0 && isspace((unsigned char)x->text[x->tlen - 1]))
		x->text[--x->tlen] = '\0';
	while (i < x->tlen && isspace((unsigned char)x->text[i]))
		i++;
	memmove(x->text, x->text + i, x->tlen - i + 1);
	x->tlen -= i;
}

static int
server_field(struct parser *x, const char *name)
{
	struct mf_ac_server *s = x->cur;
	long port;

	trim_text(x);
	if (strcmp(name, "hostname") == 0) {
		mf_strlcpy(s->hostname, x->text, sizeof(s->hostname));
		if (substitute(x, s->hostname, sizeof(s->hostname)) == -1)
			return -1;
		if (s->hostname[0] == '\0' || !valid_host(s->hostname))
			return bad(x, "hostname is not a host name");
	} else if (strcmp(name, "port") == 0) {
		if (mf_parse_long(x->text, 1, 65535, &port) == -1)
			return bad(x, "port is not 1 to 65535");
		s->port = (int)port;
	} else if (strcmp(name, "socketType") == 0) {
		s->socket = strcmp(x->text, "SSL") == 0 ? MF_AC_SSL :
		    strcmp(x->text, "STARTTLS") == 0 ? MF_AC_STARTTLS :
		    strcmp(x->text, "plain") == 0 ? MF_AC_PLAIN :
		    MF_AC_SOCK_UNKNOWN;
	} else if (strcmp(name, "username") == 0) {
		mf_strlcpy(s->username, x->text, sizeof(s->username));
		if (substitute(x, s->username, sizeof(s->username)) == -1)
			return -1;
		if (!valid_word(s->username))
			return bad(x, "username has blanks or control characters");
	} else if (strcmp(name, "authentication") == 0 && s->auth[0] == '\0') {
		if (!valid_word(x->text) || strlen(x->text) >= sizeof(s->auth))
			return bad(x, "odd authentication value");
		mf_strlcpy(s->auth, x->text, sizeof(s->auth));
	}
	return 0;
}

static void
start_server(struct parser *x, const char *name, const char *type)
{
	int out = strcmp(name, "outgoingServer") == 0;
	enum mf_ac_proto proto;

	if (out && strcmp(type, "smtp") == 0)
		proto = MF_AC_SMTP;
	else if (!out && strcmp(type, "imap") == 0)
		proto = MF_AC_IMAP;
	else if (!out && strcmp(type, "pop3") == 0)
		proto = MF_AC_POP3;
	else {
		x->ac->skipped++;
		return;
	}
	if (x->ac->n == MF_AC_SERVERS_MAX) {
		x->ac->skipped++;
		return;
	}
	x->cur = &x->ac->srv[x->ac->n];
	memset(x->cur, 0, sizeof(*x->cur));
	x->cur->proto = proto;
	x->cur_depth = x->depth;
}

static int
open_element(struct parser *x, const char *name, const char *type)
{
	if (x->depth == 0 && x->root_seen)
		return bad(x, "a second root element");
	if (x->depth == MF_AC_DEPTH_MAX)
		return mf_err_set(x->e, MF_E_LIMIT, "autoconfig: nested deeper "
		    "than %d elements", MF_AC_DEPTH_MAX);
	if (x->depth == 0 && strcmp(name, "clientConfig") != 0)
		return bad(x, "the root element is not clientConfig");
	x->root_seen = 1;
	if (x->cur == NULL && x->depth == 2 &&
	    strcmp(x->stack[1], "emailProvider") == 0 &&
	    (strcmp(name, "incomingServer") == 0 ||
	    strcmp(name, "outgoingServer") == 0))
		start_server(x, name, type);
	mf_strlcpy(x->stack[x->depth++], name, NAME_MAX_LEN);
	x->tlen = 0;
	x->text[0] = '\0';
	return 0;
}

static int
close_element(struct parser *x, const char *name)
{
	if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0)
		return bad(x, "end tag does not match its start tag");
	x->depth--;
	if (x->cur != NULL && x->depth == x->cur_depth + 1 &&
	    server_field(x, name) == -1)
		return -1;
	if (x->cur != NULL && x->depth == x->cur_depth) {
		/* a server without a usable host or port is left out */
		if (x->cur->hostname[0] != '\0' && x->cur->port != 0)
			x->ac->n++;
		else
			x->ac->skipped++;
		x->cur = NULL;
	}
	return 0;
}

/* A start tag, x->p just past '<'. */
static int
start_tag(struct parser *x)
{
	char name[NAME_MAX_LEN], attr[NAME_MAX_LEN], val[MF_AC_VALUE_MAX];
	char type[MF_AC_VALUE_MAX] = "";
	size_t vlen;
	char q;

	if (read_name(x, name) == -1)
		return -1;
	for (;;) {
		skip_ws(x);
		if (x->p >= x->end)
			return bad(x, "unterminated tag");
		if (*x->p == '>' || starts(x, "/>"))
			break;
		if (read_name(x, attr) == -1)
			return -1;
		skip_ws(x);
		if (!starts(x, "="))
			return bad(x, "attribute without a value");
		x->p++;
		skip_ws(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return bad(x, "unquoted attribute value");
		q = *x->p++;
		vlen = 0;
		val[0] = '\0';
		if (read_chars(x, q, val, &vlen, sizeof(val)) == -1)
			return -1;
		if (x->p >= x->end)
			return bad(x, "unterminated attribute value");
		x->p++;
		if (strcmp(attr, "type") == 0)
			mf_strlcpy(type, val, sizeof(type));
	}
	if (open_element(x, name, type) == -1)
		return -1;
	if (*x->p == '>') {
		x->p++;
		return 0;
	}
	x->p += 2;
	return close_element(x, name);
}

static int
end_tag(struct parser *x)
{
	char name[NAME_MAX_LEN];

	if (read_name(x, name) == -1)
		return -1;
	skip_ws(x);
	if (!starts(x, ">"))
		return bad(x, "unterminated end tag");
	x->p++;
	return close_element(x, name);
}

static int
markup(struct parser *x, const char *doc)
{
	if (starts(x, "<!--")) {
		x->p += 4;
		return skip_past(x, "-->") == -1 ? bad(x, "unterminated "
		    "comment") : 0;
	}
	if (starts(x, "<?xml") && x->p == doc) {
		return skip_past(x, "?>") == -1 ? bad(x, "unterminated XML "
		    "declaration") : 0;
	}
	if (starts(x, "<!") || starts(x, "<?"))
		return bad(x, "DOCTYPE, CDATA and processing instructions are "
		    "not accepted");
	x->p++;
	if (starts(x, "/")) {
		x->p++;
		return end_tag(x);
	}
	return start_tag(x);
}

int
mf_autoconfig_parse(const char *doc, size_t len, const char *address,
                    struct mf_autoconfig *ac, struct mf_err *e)
{
	struct parser x;
	int in_field;

	memset(ac, 0, sizeof(*ac));
	if (len > MF_AC_DOC_MAX)
		return mf_err_set(e, MF_E_LIMIT, "autoconfig: document over %d "
		    "bytes", MF_AC_DOC_MAX);
	memset(&x, 0, sizeof(x));
	x.start = x.p = doc;
	x.end = doc + len;
	x.ac = ac;
	x.address = address != NULL ? address : "";
	x.e = e;
	if (memchr(doc, '\0', len) != NULL)
		return mf_err_set(e, MF_E_PROTO, "autoconfig: NUL byte in the "
		    "document");
	if (len >= 3 && memcmp(doc, "\xef\xbb\xbf", 3) == 0)
		x.p += 3;   /* a UTF-8 byte order mark */
	doc = x.p;
	while (x.p < x.end) {
		if (*x.p == '<') {
			if (markup(&x, doc) == -1)
				return -1;
			continue;
		}
		in_field = x.cur != NULL && x.depth == x.cur_depth + 2;
		if (read_chars(&x, '<', in_field ? x.text : NULL, &x.tlen,
		    sizeof(x.text)) == -1)
			return -1;
	}
	if (!x.root_seen || x.depth != 0)
		return bad(&x, x.root_seen ? "unclosed elements at the end" :
		    "no clientConfig element");
	return 0;
}
