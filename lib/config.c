/* config.c - the shared configuration file: parse, inherit, look up.
 *
 * Parsing keeps every section ("defaults" and each account) as the raw
 * settings written in it plus a bit per key that was set; inheritance is
 * resolved after the whole file is read, so a parent may come after its
 * child.  Resolved accounts point into the raw sections' strings. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "maillog.h"

#define CONFIG_MAX_SIZE (1024 * 1024)
#define CONFIG_LINE_MAX 4096
#define CONFIG_MAX_DEPTH 64

enum ktype { K_STR, K_PATH, K_PORT, K_TLS, K_BOOL, K_MINVER, K_TIMEOUT,
	K_SYSLOG, K_TRI };

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	const char *choices;    /* K_STR: the allowed values, "a|b", or NULL */
};

#define KEY(n, t) { #n, t, offsetof(struct mf_account, n), NULL }
#define KEY_CHOICE(n, c) { #n, K_STR, offsetof(struct mf_account, n), c }
static const struct key keys[] = {
	KEY(host, K_STR),
	KEY(port, K_PORT),
	KEY(tls, K_TLS),
	KEY(tls_trust_file, K_PATH),
	KEY(tls_fingerprint, K_STR),
	KEY(tls_cert_file, K_PATH),
	KEY(tls_key_file, K_PATH),
	KEY(tls_min_version, K_MINVER),
	KEY(tls_priority, K_STR),
	KEY(tls_insecure, K_BOOL),
	KEY(user, K_STR),
	KEY(auth, K_STR),
	KEY(passwordeval, K_STR),
	KEY(password, K_STR),
	KEY(from, K_STR),
	KEY(maildir, K_PATH),
	KEY(state, K_PATH),
	KEY(queue, K_PATH),
	KEY(ehlo, K_STR),
	KEY(resolver, K_STR),
	KEY(timeout, K_TIMEOUT),
	KEY(logfile, K_PATH),
	KEY(syslog, K_SYSLOG),
	KEY(aliases, K_PATH),
	KEY(dkim_key, K_PATH),
	KEY(dkim_selector, K_STR),
	KEY(dkim_domain, K_STR),
	KEY(dkim_headers, K_STR),
	KEY_CHOICE(protocol, "smtp|lmtp"),
	KEY_CHOICE(folder_names, "utf8|mutf7"),
	KEY(pgp_key, K_STR),
	KEY(mda, K_STR),
	KEY(keep, K_TRI),
	KEY(only_new, K_TRI),
	KEY(tls_starttls, K_TRI),
	KEY(tls_certcheck, K_TRI),
	KEY(smime_cert, K_PATH),
	KEY(smime_key, K_PATH),
	KEY(smime_recipient_certs, K_PATH),
};

/* msmtp's and mpop's names for our keys. */
static const struct {
	const char *peer, *ours;
} renamed[] = {
	{ "domain", "ehlo" },
	{ "uidls_file", "state" },
	{ "tls_priorities", "tls_priority" },
};

/* msmtp's and mpop's keys that mean nothing here: a warning, not an
 * error, so their files work unchanged. */
static const char *const peer_only[] = {
	"add_missing_date_header", "add_missing_from_header",
	"allow_from_override", "auth_mech", "auto_from", "dsn_notify",
	"dsn_return", "eval", "filter", "killsize", "logfile_time_format",
	"maildomain", "ntlmdomain", "pipelining", "proxy_host",
	"proxy_port", "received_header", "remove_bcc_headers",
	"set_date_header", "set_from_header", "set_msgid_header",
	"skipsize", "socket", "source_ip",
	"tls_crl_file", "tls_host_override", "tls_min_dh_prime_bits",
	"undisclosed_recipients", "uidls_file_format",
};

#define MAX_WARNINGS 64
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct section {
	char *name;          /* NULL for "defaults" */
	char *parent;        /* NULL: inherits the defaults only */
	int line;
	uint64_t set;        /* bit i: keys[i] was written in this section */
	struct mf_account raw;   /* owns its strings */
	struct mf_account res;   /* resolved; borrows strings */
	int state;           /* 0 unresolved, 1 resolving, 2 done */
};

struct mf_config {
	char *path;
	const char *fname;   /* name used in messages */
	struct section defaults;
	struct section *sec;
	size_t nsec, capsec;
	int password_line;   /* first line with a password key, 0 if none */
	int peer;            /* an msmtp/mpop file: unknown keys warn */
	char *warn[MAX_WARNINGS];
	size_t nwarn;
};

/* ---- small helpers ---- */

/* The key's value is a string the section owns. */
static int
is_string(enum ktype t)
{
	return t == K_STR || t == K_PATH || t == K_MINVER || t == K_SYSLOG;
}

static char *
xstrdup(const char *s, struct mf_err *e)
{
	char *p = strdup(s);

	if (p == NULL)
		mf_err_set(e, MF_E_NOMEM, "out of memory");
	return p;
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		return pw->pw_dir;
	return NULL;
}

static int
join_path(char *out, size_t outlen, const char *a, const char *b)
{
	int n = snprintf(out, outlen, "%s%s", a, b);

	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
mf_config_default_path(char *out, size_t outlen)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *h;

	/* XDG Base Directory: relative values are invalid and ignored. */
	if (x != NULL && x[0] == '/')
		return join_path(out, outlen, x, "/mailflow/config");
	if ((h = home_dir()) == NULL)
		return -1;
	return join_path(out, outlen, h, "/.config/mailflow/config");
}

int
mf_config_state_dir(char *out, size_t outlen)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *h;

	if (x != NULL && x[0] == '/')
		return join_path(out, outlen, x, "/mailflow");
	if ((h = home_dir()) == NULL)
		return -1;
	return join_path(out, outlen, h, "/.local/state/mailflow");
}

/* ---- values ---- */

static int __attribute__((format(printf, 4, 5)))
cfg_error(struct mf_config *c, int line, struct mf_err *e, const char *fmt,
          ...)
{
	char what[MF_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mf_err_set(e, MF_E_CONFIG, "%s:%d: %s", c->fname, line, what);
}

/* A value is the rest of the line, or a double-quoted string with \" and
 * \\ escapes followed by nothing but blanks or a comment. */
static int
parse_value(struct mf_config *c, int line, const char *key, const char *s,
            char *out, size_t outlen, struct mf_err *e)
{
	size_t n = 0;

	if (*s != '"') {
		if (mf_strlcpy(out, s, outlen) >= outlen)
			return cfg_error(c, line, e, "value for %s is too long", key);
		return 0;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\0')
			return cfg_error(c, line, e,
			    "unterminated quoted value for %s", key);
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		if (n + 1 >= outlen)
			return cfg_error(c, line, e, "value for %s is too long", key);
		out[n++] = *s;
	}
	out[n] = '\0';
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	if (*s != '\0' && *s != '#')
		return cfg_error(c, line, e,
		    "junk after the quoted value for %s: '%s'", key, s);
	return 0;
}

static int
expand_path(const char *v, char **out, struct mf_err *e)
{
	const char *h;
	struct mf_buf b = MF_BUF_INIT(CONFIG_LINE_MAX * 2);

	if (!(v[0] == '~' && (v[1] == '/' || v[1] == '\0')))
		return (*out = xstrdup(v, e)) == NULL ? -1 : 0;
	if ((h = home_dir()) == NULL)
		return mf_err_set(e, MF_E_CONFIG, "cannot expand '~': HOME is not set");
	if (mf_buf_puts(&b, h, e) == -1 || mf_buf_puts(&b, v + 1, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	if ((*out = mf_buf_take(&b)) == NULL)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const on[] = { "on", "yes", "true", "1", "" };
	static const char *const off[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (strcasecmp(v, on[i]) == 0)
			return *out = 1, 0;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (strcasecmp(v, off[i]) == 0)
			return *out = 0, 0;
	return -1;
}

static int
valid_min_version(const char *v)
{
	return strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 ||
	    strcmp(v, "1.2") == 0 || strcmp(v, "1.3") == 0;
}

int
mf_config_is_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return 1;
	return 0;
}

int
mf_config_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);

	while (*choices != '\0') {
		size_t l = strcspn(choices, "|");

		if (l == n && strncmp(choices, v, n) == 0)
			return 1;
		choices += l;
		if (*choices == '|')
			choices++;
	}
	return 0;
}

static int
set_key(struct mf_config *c, struct section *sec, size_t ki, const char *v,
        int quoted, int line, struct mf_err *e)
{
	const struct key *k = &keys[ki];
	char *base = (char *)&sec->raw;
	long n;
	int b;

	if (!quoted && v[0] == '\0' && k->type != K_BOOL &&
	    k->type != K_TRI && k->type != K_SYSLOG)
		return cfg_error(c, line, e, "missing value for %s", k->name);
	if (k->type == K_MINVER && !valid_min_version(v))
		return cfg_error(c, line, e, "bad value for %s: '%s'"
		    " (1.0, 1.1, 1.2 or 1.3)", k->name, v);
	if (k->type == K_SYSLOG && mf_maillog_facility(v[0] ? v : "on", &b)
	    == -1)
		return cfg_error(c, line, e, "bad value for syslog: '%s' (on, "
		    "off, LOG_USER, LOG_MAIL or LOG_LOCAL0 to LOG_LOCAL7)", v);
	if (k->choices != NULL && v[0] != '\0' && !mf_config_choice(k->choices,
	    v))
		return cfg_error(c, line, e, "bad value for %s: '%s' (%s)",
		    k->name, v, k->choices);
	switch (k->type) {
	case K_SYSLOG:
		if (v[0] == '\0')
			v = "on";      /* msmtp: "syslog" alone means on */
		/* FALLTHROUGH */
	case K_STR:
	case K_MINVER:
	case K_PATH: {
		char **slot = (char **)(void *)(base + k->off);
		char *nv;

		if (k->type == K_PATH) {
			if (expand_path(v, &nv, e) == -1) {
				mf_err_prefix(e, "%s:%d", c->fname, line);
				return -1;
			}
		} else if ((nv = xstrdup(v, e)) == NULL)
			return -1;
		if (*slot != NULL) {
			mf_memwipe(*slot, strlen(*slot));
			free(*slot);
		}
		*slot = nv;
		break;
	}
	case K_PORT:
	case K_TIMEOUT:
		if (mf_parse_long(v, 1, k->type == K_PORT ? 65535 : 86400, &n) == -1)
			return cfg_error(c, line, e, "bad value for %s: '%s'", k->name, v);
		*(int *)(void *)(base + k->off) = (int)n;
		break;
	case K_TLS: {
		enum mf_tls_mode m;

		if (mf_tls_mode_parse(v, &m) == -1)
			return cfg_error(c, line, e, "bad value for tls: '%s'"
			    " (starttls, implicit, none or auto)", v);
		sec->raw.tls = m;
		break;
	}
	case K_BOOL:
	case K_TRI:
		if (parse_bool(v, &b) == -1)
			return cfg_error(c, line, e, "bad value for %s: '%s' (on or off)",
			    k->name, v);
		if (k->type == K_TRI)
			b = b ? 1 : 2;
		*(int *)(void *)(base + k->off) = b;
		break;
	}
	sec->set |= (uint64_t)1 << ki;
	return 0;
}

/* ---- sections ---- */

static struct section *
find_section(const struct mf_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsec; i++)
		if (strcmp(c->sec[i].name, name) == 0)
			return &c->sec[i];
	return NULL;
}

int
mf_config_name_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == '\0')
		return 0;
	for (; *u != '\0'; u++)
		if (*u == ':' || *u == '"' || *u == '#' || *u == ' ' ||
		    *u < 0x20 || *u == 0x7f)
			return 0;
	return 1;
}

static char *
next_word(char **p)
{
	char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != ':')
		s++;
	if (*s == ' ' || *s == '\t')
		*s++ = '\0';
	*p = s;
	return w;
}

/* "account NAME" or "account NAME : PARENT" (blanks around ':' optional). */
static struct section *
start_account(struct mf_config *c, char *rest, int line, struct mf_err *e)
{
	char *p = rest, *name, *parent = NULL, save;
	struct section *s, *dup;

	name = next_word(&p);
	while (*p == ' ' || *p == '\t')
		p++;
	save = *p;
	*p = '\0';	/* terminate name if it ended at ':' */
	if (save == ':') {
		p++;
		parent = next_word(&p);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*parent == '\0' || *p != '\0') {
			cfg_error(c, line, e, "bad account line: expected"
			    " 'account NAME [: PARENT]'");
			return NULL;
		}
	} else if (save != '\0') {
		cfg_error(c, line, e, "bad account line: expected"
		    " 'account NAME [: PARENT]'");
		return NULL;
	}
	if (!mf_config_name_ok(name) ||
	    (parent != NULL && !mf_config_name_ok(parent))) {
		cfg_error(c, line, e, "bad account name '%s'", name);
		return NULL;
	}
	if ((dup = find_section(c, name)) != NULL) {
		cfg_error(c, line, e, "account '%s' is already defined at line %d",
		    name, dup->line);
		return NULL;
	}
	if (c->nsec == c->capsec) {
		size_t nc = c->capsec ? c->capsec * 2 : 8;
		struct section *ns = realloc(c->sec, nc * sizeof(*ns));

		if (ns == NULL) {
			mf_err_set(e, MF_E_NOMEM, "out of memory");
			return NULL;
		}
		c->sec = ns;
		c->capsec = nc;
	}
	s = &c->sec[c->nsec];
	memset(s, 0, sizeof(*s));
	s->line = line;
	if ((s->name = xstrdup(name, e)) == NULL)
		return NULL;
	if (parent != NULL && (s->parent = xstrdup(parent, e)) == NULL) {
		free(s->name);
		return NULL;
	}
	c->nsec++;
	return s;
}

static int __attribute__((format(printf, 4, 5)))
cfg_warn(struct mf_config *c, int line, struct mf_err *e, const char *fmt, ...)
{
	char what[512], *w;
	va_list ap;

	if (c->nwarn == MAX_WARNINGS)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (asprintf(&w, "%s:%d: %s", c->fname, line, what) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	c->warn[c->nwarn++] = w;
	return 0;
}

static int
in_list(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* msmtp's and mpop's values for our keys: "tls on|off", "auth on|off",
 * "timeout off", "delivery maildir DIR | mda CMD", "tls_trust_file
 * system".  May change the key (*kw) and the value (rewritten in val).
 * Returns 1 when the line sets nothing. */
static int
peer_value(struct mf_config *c, int line, const char **kw, char *val,
           size_t vallen, int *quoted, struct mf_err *e)
{
	char *arg;

	if (strcmp(*kw, "tls") == 0 || strcmp(*kw, "auth") == 0) {
		int b, tls = (*kw)[0] == 't';

		if (!*quoted && parse_bool(val, &b) == 0)
			mf_strlcpy(val, b ? (tls ? "starttls" : "auto") :
			    "none", vallen);
		return 0;
	}
	if (strcmp(*kw, "timeout") == 0 && strcasecmp(val, "off") == 0)
		return 1;
	if (strcmp(*kw, "tls_trust_file") == 0 && strcmp(val, "system") == 0) {
		/* msmtp: the system trust store, our default: unset */
		val[0] = '\0';
		*quoted = 1;
		return 0;
	}
	if (strcmp(*kw, "delivery") != 0)
		return 0;
	arg = val + strcspn(val, " \t");
	if (*arg != '\0')
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	if (strcmp(val, "maildir") == 0 || strcmp(val, "mda") == 0) {
		*kw = val[0] == 'm' && val[1] == 'a' ? "maildir" : "mda";
		memmove(val, arg, strlen(arg) + 1);
		return 0;
	}
	return cfg_error(c, line, e, "delivery %s: only 'delivery maildir DIR'"
	    " and 'delivery mda CMD' are supported", val);
}

/* A key that is not ours: a peer's key without meaning here, or any
 * unknown key in a peer's file, is a warning. */
static int
unknown_key(struct mf_config *c, const char *kw, int line, struct mf_err *e)
{
	if (in_list(peer_only, sizeof(peer_only) / sizeof(peer_only[0]), kw))
		return cfg_warn(c, line, e, "'%s' has no meaning for mailflow; "
		    "ignored", kw);
	if (c->peer)
		return cfg_warn(c, line, e, "unknown key '%s' ignored", kw);
	return cfg_error(c, line, e, "unknown key '%s'", kw);
}

static int
parse_line(struct mf_config *c, char *l, int line, struct section **cur,
           struct mf_err *e)
{
	char *p = l, *kw;
	char val[CONFIG_LINE_MAX];
	size_t ki, n;
	int rc, quoted;

	n = strlen(l);
	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
		l[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	kw = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (strcmp(kw, "defaults") == 0) {
		if (*p != '\0')
			return cfg_error(c, line, e, "'defaults' takes no value");
		*cur = &c->defaults;
		return 0;
	}
	if (strcmp(kw, "account") == 0)
		return (*cur = start_account(c, p, line, e)) == NULL ? -1 : 0;
	for (ki = 0; ki < sizeof(renamed) / sizeof(renamed[0]); ki++)
		if (strcmp(kw, renamed[ki].peer) == 0)
			kw = (char *)renamed[ki].ours;
	if (strcmp(kw, "delivery") != 0) {
		for (ki = 0; ki < NKEYS; ki++)
			if (strcmp(kw, keys[ki].name) == 0)
				break;
		if (ki == NKEYS)
			return unknown_key(c, kw, line, e);
	}
	if (*cur == NULL)
		return cfg_error(c, line, e, "'%s' outside of a 'defaults' or"
		    " 'account' section", kw);
	if (parse_value(c, line, kw, p, val, sizeof(val), e) == -1)
		return -1;
	quoted = *p == '"';
	if ((rc = peer_value(c, line, (const char **)&kw, val, sizeof(val),
	    &quoted, e)) != 0)
		return rc == 1 ? 0 : -1;
	for (ki = 0; ki < NKEYS; ki++)
		if (strcmp(kw, keys[ki].name) == 0)
			break;
	if (strcmp(kw, "password") == 0 && c->password_line == 0)
		c->password_line = line;
	rc = set_key(c, *cur, ki, val, quoted, line, e);
	mf_memwipe(val, sizeof(val));
	return rc;
}

/* ---- inheritance ---- */

static void
merge(struct mf_account *dst, const struct section *src)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		size_t sz;

		if (!(src->set & ((uint64_t)1 << i)))
			continue;
		sz = is_string(keys[i].type) ? sizeof(char *) :
		    keys[i].type == K_TLS ? sizeof(enum mf_tls_mode) : sizeof(int);
		memcpy((char *)dst + keys[i].off,
		    (const char *)&src->raw + keys[i].off, sz);
	}
}

/* An explicitly empty string ("") overrides an inherited value with
 * "not set". */
static void
empty_to_null(struct mf_account *a)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		char **slot;

		if (!is_string(keys[i].type))
			continue;
		slot = (char **)(void *)((char *)a + keys[i].off);
		if (*slot != NULL && (*slot)[0] == '\0')
			*slot = NULL;
	}
}

/* msmtp's "tls on" + "tls_starttls off" is implicit TLS; "tls_certcheck
 * off" is tls_insecure. */
static void
peer_settle(struct mf_account *a)
{
	if (a->tls == MF_TLS_STARTTLS && a->tls_starttls == 2)
		a->tls = MF_TLS_IMPLICIT;
	if (a->tls_certcheck == 2)
		a->tls_insecure = 1;
}

static int
resolve(struct mf_config *c, struct section *s, int depth, struct mf_err *e)
{
	struct section *p;

	if (s->state == 2)
		return 0;
	if (s->state == 1 || depth > CONFIG_MAX_DEPTH)
		return cfg_error(c, s->line, e,
		    "account '%s' inherits from itself (cycle through '%s')",
		    s->name, s->parent);
	s->state = 1;
	if (s->parent == NULL) {
		s->res = c->defaults.res;
	} else {
		if ((p = find_section(c, s->parent)) == NULL)
			return cfg_error(c, s->line, e,
			    "account '%s' inherits unknown account '%s'",
			    s->name, s->parent);
		if (resolve(c, p, depth + 1, e) == -1)
			return -1;
		s->res = p->res;
	}
	merge(&s->res, s);
	peer_settle(&s->res);
	s->res.name = s->name;
	s->res.source = s->raw.source;
	s->state = 2;
	return 0;
}

static int
finish(struct mf_config *c, unsigned mode, struct mf_err *e)
{
	size_t i;
	char src[512];

	if (c->password_line != 0 && (mode & 044) != 0)
		return mf_err_set(e, MF_E_CONFIG, "%s:%d: the file contains a"
		    " password but is readable by group or others (mode %03o);"
		    " run: chmod 600 %s", c->fname, c->password_line,
		    mode & 0777, c->fname);
	memset(&c->defaults.res, 0, sizeof(c->defaults.res));
	merge(&c->defaults.res, &c->defaults);
	peer_settle(&c->defaults.res);
	for (i = 0; i < c->nsec; i++) {
		snprintf(src, sizeof(src), "%s:%d", c->fname, c->sec[i].line);
		if ((c->sec[i].raw.source = xstrdup(src, e)) == NULL)
			return -1;
	}
	for (i = 0; i < c->nsec; i++)
		if (resolve(c, &c->sec[i], 0, e) == -1)
			return -1;
	empty_to_null(&c->defaults.res);
	for (i = 0; i < c->nsec; i++)
		empty_to_null(&c->sec[i].res);
	return 0;
}

/* ---- public ---- */

static void
free_section(struct section *s)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		char **slot;

		if (!is_string(keys[i].type))
			continue;
		slot = (char **)(void *)((char *)&s->raw + keys[i].off);
		if (*slot != NULL) {
			mf_memwipe(*slot, strlen(*slot));
			free(*slot);
		}
	}
	free(s->raw.source);
	free(s->name);
	free(s->parent);
}

void
mf_config_free(struct mf_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsec; i++)
		free_section(&c->sec[i]);
	free_section(&c->defaults);
	for (i = 0; i < c->nwarn; i++)
		free(c->warn[i]);
	free(c->sec);
	free(c->path);
	free(c);
}

static struct mf_config *
config_new(const char *path, struct mf_err *e)
{
	struct mf_config *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	if ((c->path = xstrdup(path, e)) == NULL) {
		free(c);
		return NULL;
	}
	c->fname = c->path[0] != '\0' ? c->path : "(config)";
	return c;
}

static int
parse_into(struct mf_config *c, const char *text, unsigned mode,
           struct mf_err *e)
{
	const char *p = text;
	struct section *cur = NULL;
	char line[CONFIG_LINE_MAX];
	int lineno = 0, rc = 0;

	while (*p != '\0' && rc == 0) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (n >= sizeof(line))
			return cfg_error(c, lineno, e, "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		rc = parse_line(c, line, lineno, &cur, e);
		mf_memwipe(line, n);
		p += n + (nl != NULL);
	}
	return rc == 0 ? finish(c, mode, e) : -1;
}

struct mf_config *
mf_config_parse_peer(const char *text, const char *name, unsigned mode,
                     int peer, struct mf_err *e)
{
	struct mf_config *c = config_new(name ? name : "", e);

	if (c == NULL)
		return NULL;
	c->peer = peer;
	if (parse_into(c, text, mode, e) == -1) {
		mf_config_free(c);
		return NULL;
	}
	return c;
}

struct mf_config *
mf_config_parse(const char *text, const char *name, unsigned mode,
                struct mf_err *e)
{
	return mf_config_parse_peer(text, name, mode, 0, e);
}

/* Read the whole file (bounded); *missing is set when it does not exist. */
static char *
read_file(const char *path, unsigned *mode, int *missing, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CONFIG_MAX_SIZE);
	struct stat st;
	char chunk[4096];
	ssize_t r;
	int fd;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*missing = errno == ENOENT;
		mf_err_sys(e, MF_E_CONFIG, errno, "cannot open %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		mf_err_set(e, MF_E_CONFIG, "%s: not a regular file", path);
		return NULL;
	}
	*mode = (unsigned)st.st_mode & 07777;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || mf_buf_append(&b, chunk, (size_t)r, e) == -1) {
			if (r == -1)
				mf_err_sys(e, MF_E_CONFIG, errno, "cannot read %s", path);
			else
				mf_err_set(e, MF_E_CONFIG, "%s: larger than %d bytes",
				    path, CONFIG_MAX_SIZE);
			close(fd);
			mf_buf_wipe(&b);
			mf_memwipe(chunk, sizeof(chunk));
			return NULL;
		}
	}
	close(fd);
	mf_memwipe(chunk, sizeof(chunk));
	if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
		mf_buf_wipe(&b);
		mf_err_set(e, MF_E_CONFIG, "%s: contains a NUL byte", path);
		return NULL;
	}
	return mf_buf_take(&b);
}

/* Parse the file at path; *missing when it does not exist. */
static struct mf_config *
load_file(const char *path, int peer, int *missing, struct mf_err *e)
{
	unsigned mode = 0600;
	struct mf_config *c;
	char *text;

	if ((text = read_file(path, &mode, missing, e)) == NULL)
		return NULL;
	c = mf_config_parse_peer(text, path, mode, peer, e);
	mf_memwipe(text, strlen(text));
	free(text);
	return c;
}

struct mf_config *
mf_config_load_list(const char *const *files, int peer_from, int peer_to,
                    struct mf_err *e)
{
	struct mf_config *c;
	int i, missing;

	for (i = 0; files[i] != NULL; i++) {
		c = load_file(files[i], i >= peer_from && i < peer_to, &missing,
		    e);
		if (c != NULL)
			mf_err_clear(e);   /* a missing file before it is no error */
		if (c != NULL || !missing)
			return c;
	}
	mf_err_clear(e);
	return mf_config_parse("", "", 0600, e);
}

/* "DIR/NAME" under $XDG_CONFIG_HOME or ~/.config; "" when unknown. */
static void
xdg_file(const char *name, char *out, size_t outlen)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = home_dir();

	out[0] = '\0';
	if (x != NULL && x[0] == '/')
		join_path(out, outlen, x, name);
	else if (h != NULL && join_path(out, outlen, h, "/.config") == 0)
		mf_strlcpy(out + strlen(out), name, outlen - strlen(out));
}

struct mf_config *
mf_config_load_for(const char *path, enum mf_config_peer peer,
                   struct mf_err *e)
{
	char own[4096] = "", rc[4096] = "", xdg[4096] = "";
	const char *files[5], *env = getenv("MAILFLOW_CONFIG"), *h;
	size_t n = 0;
	int missing, peer_from = -1, peer_to = -1;

	if (path == NULL && env != NULL && env[0] != '\0')
		path = env;
	if (path != NULL)
		return load_file(path, 0, &missing, e);
	if (mf_config_default_path(own, sizeof(own)) == 0)
		files[n++] = own;
	h = home_dir();
	if (peer != MF_CONFIG_PEER_NONE) {
		int msmtp = peer == MF_CONFIG_PEER_MSMTP;

		peer_from = (int)n;
		if (h != NULL && join_path(rc, sizeof(rc), h, msmtp ?
		    "/.msmtprc" : "/.mpoprc") == 0)
			files[n++] = rc;
		xdg_file(msmtp ? "/msmtp/config" : "/mpop/config", xdg,
		    sizeof(xdg));
		if (xdg[0] != '\0')
			files[n++] = xdg;
		peer_to = (int)n;
	}
	files[n++] = MF_CONFIG_SYSTEM_PATH;
	files[n] = NULL;
	return mf_config_load_list(files, peer_from, peer_to, e);
}

struct mf_config *
mf_config_load(const char *path, struct mf_err *e)
{
	return mf_config_load_for(path, MF_CONFIG_PEER_NONE, e);
}

const char *
mf_config_warning(const struct mf_config *c, size_t i)
{
	return i < c->nwarn ? c->warn[i] : NULL;
}

int
mf_config_is_peer_file(const struct mf_config *c)
{
	return c->peer;
}

const char *
mf_config_path(const struct mf_config *c)
{
	return c->path;
}

const struct mf_account *
mf_config_account(const struct mf_config *c, const char *name,
                  struct mf_err *e)
{
	const struct section *s;

	if (name == NULL || strcmp(name, "default") == 0) {
		s = find_section(c, "default");
		if (s == NULL)
			return &c->defaults.res;
		/* "account default : NAME" alone just names the default. */
		if (s->set == 0 && s->parent != NULL)
			s = find_section(c, s->parent);
		return &s->res;
	}
	if ((s = find_section(c, name)) == NULL) {
		mf_err_set(e, MF_E_CONFIG, "no account '%s' in %s", name,
		    c->path[0] != '\0' ? c->path : "the configuration"
		    " (no configuration file)");
		return NULL;
	}
	return &s->res;
}
