/* cfgimport_common.c - what every converter of cfgimport shares: the
 * ordered settings map, line reading, warnings and notes, and the writer
 * of one mailflow section.  It sits below cfgimport.c (msmtp, mpop, the
 * formats) and cfgimport_mbsync.c, so that calls go one way: the top file
 * dispatches to the converters and both call down into this file. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cfgimport_int.h"
#include "sasl.h"

char *
ci_dup_str(const char *s, struct mf_err *e)
{
	char *p = strdup(s);

	if (p == NULL)
		mf_err_set(e, MF_E_NOMEM, "out of memory");
	return p;
}

int
ci_dict_set(struct ci_dict *d, const char *k, const char *v, struct mf_err *e)
{
	char *nv;
	size_t i;

	if ((nv = ci_dup_str(v, e)) == NULL)
		return -1;
	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].key, k) == 0) {
			mf_memwipe(d->v[i].val, strlen(d->v[i].val));
			free(d->v[i].val);
			d->v[i].val = nv;
			return 0;
		}
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct ci_item *ni = realloc(d->v, nc * sizeof(*ni));

		if (ni == NULL) {
			free(nv);
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		}
		d->v = ni;
		d->cap = nc;
	}
	if ((d->v[d->n].key = ci_dup_str(k, e)) == NULL) {
		free(nv);
		return -1;
	}
	d->v[d->n++].val = nv;
	return 0;
}

const char *
ci_dict_get(const struct ci_dict *d, const char *k)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].key, k) == 0)
			return d->v[i].val[0] != '\0' ? d->v[i].val : NULL;
	return NULL;
}

int
ci_dict_overlay(struct ci_dict *dst, const struct ci_dict *src,
                struct mf_err *e)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (ci_dict_set(dst, src->v[i].key, src->v[i].val, e) == -1)
			return -1;
	return 0;
}

void
ci_dict_free(struct ci_dict *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		mf_memwipe(d->v[i].val, strlen(d->v[i].val));
		free(d->v[i].val);
		free(d->v[i].key);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int
ci_next_line(struct mf_cfgimport *r, const char **p, char *line, size_t len,
             int *lineno, struct mf_err *e)
{
	const char *nl;
	size_t n, all;

	if (**p == '\0')
		return 1;
	nl = strchr(*p, '\n');
	n = all = nl != NULL ? (size_t)(nl - *p) : strlen(*p);
	++*lineno;
	if (n >= len)
		return ci_fail(r, *lineno, e, "line too long");
	memcpy(line, *p, n);
	line[n] = '\0';
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		line[--n] = '\0';
	*p += all + (nl != NULL);
	return 0;
}

static int __attribute__((format(printf, 4, 0)))
vwarn(struct mf_cfgimport *r, int line, struct mf_err *e, const char *fmt,
      va_list ap)
{
	char what[1024], *w;

	if (r->nwarn == CI_MAX_WARN)
		return 0;
	vsnprintf(what, sizeof(what), fmt, ap);
	if (asprintf(&w, "%s:%d: %s", r->name, line, what) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	r->warn[r->nwarn++] = w;
	return 0;
}

int
ci_warn(struct mf_cfgimport *r, int line, struct mf_err *e, const char *fmt,
        ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vwarn(r, line, e, fmt, ap);
	va_end(ap);
	return rc;
}

int
ci_fail(struct mf_cfgimport *r, int line, struct mf_err *e, const char *fmt,
        ...)
{
	char what[MF_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mf_err_set(e, MF_E_DATA, "%s:%d: %s", r->name, line, what);
}

int
ci_not_converted(struct mf_cfgimport *r, struct mf_buf *notes, int line,
                 const char *key, const char *val, const char *reason,
                 struct mf_err *e)
{
	if (mf_buf_printf(notes, e, "# not converted: %s%s%s (%s)\n", key,
	    val[0] != '\0' ? " " : "", val, reason) == -1)
		return -1;
	if (line < 0)
		return 0;
	return ci_warn(r, line, e, "%s: not converted (%s)", key, reason);
}

int
ci_note(struct mf_cfgimport *r, struct mf_buf *notes, int line,
        struct mf_err *e, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (mf_buf_printf(notes, e, "# note: %s\n", what) == -1)
		return -1;
	return ci_warn(r, line, e, "note: %s", what);
}

int
ci_password(struct mf_cfgimport *r, int line, struct mf_err *e)
{
	r->password = 1;
	return ci_warn(r, line, e, "password copied in clear: the output file "
	    "must be mode 0600 (chmod 600), or use passwordeval");
}

/* mailflow's keys in the order written; unset: the value that means "not
 * set" when the key has no quoted-empty form (NULL: none exists). */
static const struct okey {
	const char *name;
	int str;             /* a string key: "" unsets it */
	const char *unset;
} okeys[] = {
	{ "host", 1, NULL }, { "port", 0, NULL }, { "protocol", 1, NULL },
	{ "tls", 0, NULL }, { "tls_trust_file", 1, NULL },
	{ "tls_fingerprint", 1, NULL }, { "tls_cert_file", 1, NULL },
	{ "tls_key_file", 1, NULL }, { "tls_min_version", 1, NULL },
	{ "tls_priority", 1, NULL }, { "tls_insecure", 0, "off" },
	{ "user", 1, NULL }, { "auth", 1, NULL }, { "passwordeval", 1, NULL },
	{ "password", 1, NULL }, { "from", 1, NULL }, { "ehlo", 1, NULL },
	{ "timeout", 0, NULL }, { "maildir", 1, NULL }, { "mda", 1, NULL },
	{ "keep", 0, NULL }, { "only_new", 0, NULL },
	{ "folder_names", 1, NULL }, { "logfile", 1, NULL },
	{ "syslog", 0, "off" }, { "aliases", 1, NULL },
};

int
ci_has_control(const char *v)
{
	const unsigned char *u = (const unsigned char *)v;

	for (; *u != '\0'; u++)
		if ((*u < 0x20 && *u != '\t') || *u == 0x7f)
			return 1;
	return 0;
}

/* A value as mailflow reads it back: bare, or quoted when it is empty or
 * has blanks or a quote at an end. */
int
ci_put_value(struct mf_buf *b, const char *v, struct mf_err *e)
{
	size_t n = strlen(v);
	const char *s;

	if (n > 0 && v[0] != '"' && v[0] != ' ' && v[0] != '\t' &&
	    v[n - 1] != ' ' && v[n - 1] != '\t')
		return mf_buf_puts(b, v, e);
	if (mf_buf_putc(b, '"', e) == -1)
		return -1;
	for (s = v; *s != '\0'; s++)
		if ((*s == '"' || *s == '\\') && mf_buf_putc(b, '\\', e) == -1)
			return -1;
		else if (mf_buf_putc(b, *s, e) == -1)
			return -1;
	return mf_buf_putc(b, '"', e);
}

#define NOKEYS (sizeof(okeys) / sizeof(okeys[0]))

/* The keys of out and base that okeys[] does not order: mailflow's other
 * (string) keys, passed through from an msmtp or mpop file. */
static const char *
other_key(const struct ci_dict *out, const struct ci_dict *base, size_t i)
{
	const struct ci_dict *d = i < out->n ? out : base;
	size_t j;

	if (d == NULL || (d == base && i - out->n >= base->n))
		return NULL;
	i = d == base ? i - out->n : i;
	for (j = 0; j < NOKEYS; j++)
		if (strcmp(okeys[j].name, d->v[i].key) == 0)
			return "";
	if (d == base)
		for (j = 0; j < out->n; j++)
			if (strcmp(out->v[j].key, d->v[i].key) == 0)
				return "";     /* done with out's */
	return d->v[i].key;
}

int
ci_emit_section(struct mf_cfgimport *r, const char *head, int line,
                const struct ci_dict *out, const struct ci_dict *base,
                const struct mf_buf *notes, struct mf_err *e)
{
	static const struct okey other = { NULL, 1, NULL };
	struct mf_buf *b = &r->out;
	const char *name;
	size_t i;

	if (mf_buf_printf(b, e, "\n%s\n", head) == -1)
		return -1;
	for (i = 0; i < NOKEYS || (name = other_key(out, base, i - NOKEYS)) !=
	    NULL; i++) {
		const struct okey *k = i < NOKEYS ? &okeys[i] : &other;
		const char *v, *bv;

		if (i >= NOKEYS && name[0] == '\0')
			continue;
		name = i < NOKEYS ? k->name : name;
		v = ci_dict_get(out, name);
		bv = base ? ci_dict_get(base, name) : NULL;

		if (v == NULL && bv != NULL && !k->str && k->unset == NULL) {
			/* tls, port, timeout, keep, only_new cannot be unset. */
			if (ci_warn(r, line, e, "note: %s %s is inherited here, "
			    "where the source had none", name, bv) == -1 ||
			    mf_buf_printf(b, e, "# note: %s is inherited here, "
			    "where the source had none\n", name) == -1)
				return -1;
			continue;
		}
		if (v == NULL && bv != NULL)
			v = k->str ? "" : k->unset;
		if (v == NULL || (bv != NULL && strcmp(v, bv) == 0))
			continue;
		if (mf_buf_printf(b, e, "%s ", name) == -1 ||
		    ci_put_value(b, v, e) == -1 || mf_buf_putc(b, '\n', e) == -1)
			return -1;
	}
	if (notes->len > 0 && mf_buf_puts(b, notes->data, e) == -1)
		return -1;
	return 0;
}

const char *
ci_auth_method(const char *m, int pop, char *buf, size_t len)
{
	size_t i;

	if (pop && (strcasecmp(m, "user") == 0 || strcasecmp(m, "apop") == 0)) {
		mf_strlcpy(buf, m, len);
		for (i = 0; buf[i] != '\0'; i++)
			buf[i] = (char)tolower((unsigned char)buf[i]);
		return buf;
	}
	if (!mf_sasl_supported(m) || mf_strlcpy(buf, m, len) >= len)
		return NULL;
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

int
ci_sha256_fingerprint(const char *v)
{
	size_t hex = 0;

	if (strncasecmp(v, "sha256/", 7) == 0)
		return v[7] != '\0';
	for (; *v != '\0'; v++)
		if (isxdigit((unsigned char)*v))
			hex++;
		else if (*v != ':')
			return 0;
	return hex == 64;
}
