/* cfgimport_mbsync.c - an mbsyncrc to imap-sync accounts.
 *
 * mbsync describes Stores (an IMAP server through an IMAPAccount, a local
 * Maildir) and Channels that pair two of them.  imap-sync's account is
 * one such pair, so every Channel between an IMAP Store and a Maildir
 * Store becomes one account named after the Channel, with the server
 * settings of its IMAPAccount (or of the IMAPStore itself) and the
 * Maildir's root.  Keywords are case-insensitive; a section ends at an
 * empty line; arguments with blanks are double-quoted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cfgimport_int.h"
#include "config.h"

#define MB_MAX_ARGS 64

enum kind { K_GLOBAL, K_ACCOUNT, K_IMAPSTORE, K_MDSTORE, K_CHANNEL,
	K_GROUP };

static const char *const kind_words[] = {
	[K_GLOBAL] = "", [K_ACCOUNT] = "IMAPAccount",
	[K_IMAPSTORE] = "IMAPStore", [K_MDSTORE] = "MaildirStore",
	[K_CHANNEL] = "Channel", [K_GROUP] = "Group",
};

struct ent {
	char *key;           /* as written */
	char *argv[MB_MAX_ARGS];
	int argc;
	char *raw;           /* the arguments as written, for comments */
	char *buf;           /* what argv points into */
	int line, warned;
};

struct obj {
	enum kind kind;
	char *name;
	int line, used;
	struct ent *v;
	size_t n, cap;
};

struct mb {
	struct mf_cfgimport *r;
	struct obj *o;       /* o[0]: the global options */
	size_t n, cap;
	struct mf_buf tail;  /* comments about the file as a whole */
};

/* ---- parsing ---- */

static int
tokenize(struct mb *m, int line, char *s, struct ent *t, struct mf_err *e)
{
	char *w;

	t->argc = 0;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return 0;
		if (t->argc == MB_MAX_ARGS)
			return ci_fail(m->r, line, e, "more than %d arguments",
			    MB_MAX_ARGS);
		t->argv[t->argc++] = w = s;
		if (*s != '"') {
			s += strcspn(s, " \t");
			if (*s != '\0')
				*s++ = '\0';
			if (ci_has_control(w))
				return ci_fail(m->r, line, e, "a value holds a "
				    "control character");
			continue;
		}
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return ci_fail(m->r, line, e, "a quote is not "
				    "closed");
			if (*s == '\\' && s[1] != '\0')
				s++;
			*w++ = *s;
		}
		*w = '\0';
		s++;
		if (*s != '\0' && *s != ' ' && *s != '\t')
			return ci_fail(m->r, line, e, "text right after a closing "
			    "quote");
		if (ci_has_control(t->argv[t->argc - 1]))
			return ci_fail(m->r, line, e, "a value holds a control "
			    "character");
	}
}

static struct obj *
new_obj(struct mb *m, enum kind k, const char *name, int line,
        struct mf_err *e)
{
	struct obj *o;

	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 8;
		struct obj *no = realloc(m->o, nc * sizeof(*no));

		if (no == NULL) {
			mf_err_set(e, MF_E_NOMEM, "out of memory");
			return NULL;
		}
		m->o = no;
		m->cap = nc;
	}
	o = &m->o[m->n++];
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->line = line;
	if ((o->name = strdup(name)) == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	return o;
}

static struct obj *
find_obj(struct mb *m, enum kind k, const char *name)
{
	size_t i;

	for (i = 1; i < m->n; i++)
		if (m->o[i].kind == k && strcmp(m->o[i].name, name) == 0)
			return &m->o[i];
	return NULL;
}

/* Add "KEY ARGS" (raw: the text after the key) to o. */
static int
add_ent(struct mb *m, struct obj *o, const char *key, const char *raw,
        int line, struct mf_err *e)
{
	struct ent *t;
	char *buf;

	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 8;
		struct ent *nv = realloc(o->v, nc * sizeof(*nv));

		if (nv == NULL)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		o->v = nv;
		o->cap = nc;
	}
	t = &o->v[o->n];
	memset(t, 0, sizeof(*t));
	t->line = line;
	if ((t->key = strdup(key)) == NULL || (t->raw = strdup(raw)) == NULL ||
	    (buf = strdup(raw)) == NULL) {
		free(t->key);
		free(t->raw);
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	t->buf = buf;
	o->n++;
	return tokenize(m, line, buf, t, e);
}

static int
is_section(const char *key, enum kind *k)
{
	int i;

	for (i = K_ACCOUNT; i <= K_GROUP; i++)
		if (strcasecmp(key, kind_words[i]) == 0)
			return *k = (enum kind)i, 1;
	return 0;
}

static int
parse(struct mb *m, const char *text, struct mf_err *e)
{
	char line[CI_LINE_MAX], first[CI_LINE_MAX], *p, *key;
	struct obj *cur = NULL;
	int lineno = 0, rc;
	enum kind k;

	if (new_obj(m, K_GLOBAL, "", 0, e) == NULL)
		return -1;
	while ((rc = ci_next_line(m->r, &text, line, sizeof(line), &lineno,
	    e)) == 0) {
		p = line + strspn(line, " \t");
		if (*p == '\0') {
			cur = NULL;      /* an empty line ends a section */
			continue;
		}
		if (*p == '#')
			continue;
		key = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		p += strspn(p, " \t");
		/* In a Group, "Channel(s)" lists members. */
		if (is_section(key, &k) && !(cur != NULL && cur->kind ==
		    K_GROUP && k == K_CHANNEL)) {
			struct ent t;

			mf_strlcpy(first, p, sizeof(first));
			if (tokenize(m, lineno, first, &t, e) == -1)
				return -1;
			if (t.argc == 0)
				return ci_fail(m->r, lineno, e, "%s needs a name",
				    kind_words[k]);
			if (find_obj(m, k, t.argv[0]) != NULL)
				return ci_fail(m->r, lineno, e, "%s %s is defined "
				    "twice", kind_words[k], t.argv[0]);
			if ((cur = new_obj(m, k, t.argv[0], lineno, e)) == NULL)
				return -1;
			continue;
		}
		if (add_ent(m, cur != NULL ? cur : &m->o[0], key, p, lineno,
		    e) == -1)
			return -1;
	}
	if (rc == -1)
		return -1;
	if (m->n == 1)
		return ci_fail(m->r, lineno, e, "no IMAPAccount, IMAPStore, "
		    "MaildirStore or Channel section");
	return 0;
}

/* ---- conversion ---- */

/* A line not converted; warned about once however many accounts use it. */
static int
nc(struct mb *m, struct mf_buf *notes, struct ent *t, const char *reason,
   struct mf_err *e)
{
	int line = t->warned ? -1 : t->line;

	t->warned = 1;
	return ci_not_converted(m->r, notes, line, t->key, t->raw, reason, e);
}

/* A whole section not converted. */
static int
nc_obj(struct mb *m, const struct obj *o, const char *reason,
       struct mf_err *e)
{
	return ci_not_converted(m->r, &m->tail, o->line, kind_words[o->kind],
	    o->name, reason, e);
}

static const struct {
	const char *key, *reason;
} unconverted[] = {
	{ "tunnel", "imap-sync connects over TCP only" },
	{ "usercmd", "mailflow-config runs no commands: write the user name" },
	{ "usekeychain", "no macOS Keychain: use passwordeval" },
	{ "pipelinedepth", "imap-sync pipelines on its own" },
	{ "disableextension", "no such setting" },
	{ "disableextensions", "no such setting" },
	{ "cipherstring", "OpenSSL cipher strings do not apply: see "
	    "tls_priority (GnuTLS)" },
	{ "systemcertificates", "with tls_trust_file mailflow trusts only that "
	    "file, without it the system's CAs" },
	{ "usenamespace", "imap-sync uses the names the server lists" },
	{ "pathdelimiter", "imap-sync uses the server's delimiter" },
	{ "subscribedonly", "imap-sync syncs every folder: use --folder" },
	{ "path", "imap-sync uses the names the server lists: use --folder" },
	{ "flatten", "imap-sync's layouts are maildir++ (.A.B) and fs (A/B)" },
	{ "syncstate", "imap-sync keeps its own state, by default under "
	    "~/.local/state/mailflow" },
	{ "create", "imap-sync creates the local folders it needs" },
	{ "requiressl", "an isync 1.3 option: see SSLType" },
	{ "usessl", "an isync 1.3 option: see SSLType" },
	{ "useimaps", "an isync 1.3 option: see SSLType" },
	{ "usesslv2", "an isync 1.3 option: see SSLVersions" },
	{ "usesslv3", "an isync 1.3 option: see SSLVersions" },
	{ "usetlsv1", "an isync 1.3 option: see SSLVersions" },
	{ "usetlsv1.1", "an isync 1.3 option: see SSLVersions" },
	{ "usetlsv1.2", "an isync 1.3 option: see SSLVersions" },
	{ "requirecram", "an isync 1.3 option: see AuthMechs" },
};

static const char *
reason_for(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(unconverted) / sizeof(unconverted[0]); i++)
		if (strcasecmp(key, unconverted[i].key) == 0)
			return unconverted[i].reason;
	return "no such setting in imap-sync";
}

static int
auth_mechs(const struct ent *t, char *out, size_t outlen)
{
	char one[64];
	size_t n = 0;
	int i;

	if (t->argc == 1 && strcmp(t->argv[0], "*") == 0)
		return mf_strlcpy(out, "auto", outlen) < outlen ? 0 : -1;
	out[0] = '\0';
	for (i = 0; i < t->argc; i++) {
		if (ci_auth_method(t->argv[i], 0, one, sizeof(one)) == NULL)
			return -1;
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s",
		    i ? " " : "", one);
		if (n >= outlen)
			return -1;
	}
	return 0;
}

/* The lowest of SSLVersions / TLSVersions as tls_min_version. */
static const char *
min_version(const struct ent *t)
{
	static const char *const v[] = { "tlsv1", "1.0", "tlsv1.1", "1.1",
		"tlsv1.2", "1.2", "tlsv1.3", "1.3" };
	const char *best = NULL;
	int i;
	size_t j;

	for (i = 0; i < t->argc; i++)
		for (j = 0; j < sizeof(v) / sizeof(v[0]); j += 2)
			if (strcasecmp(t->argv[i], v[j]) == 0 &&
			    (best == NULL || strcmp(v[j + 1], best) < 0))
				best = v[j + 1];
	return best;
}

/* One server setting of an IMAPAccount or IMAPStore. */
static int
server_key(struct mb *m, struct ent *t, struct ci_dict *out,
           struct mf_buf *notes, struct mf_err *e)
{
	const char *k = t->key, *a = t->argc > 0 ? t->argv[0] : "", *v = NULL;
	char buf[512];
	long n;

	if (strcasecmp(k, "account") == 0)
		return 0;
	if (strcasecmp(k, "host") == 0) {
		/* isync 1.3's "imaps:HOST" */
		if (strncasecmp(a, "imaps:", 6) == 0) {
			if (ci_dict_get(out, "tls") == NULL &&
			    ci_dict_set(out, "tls", "implicit", e) == -1)
				return -1;
			a += 6;
		}
		return ci_dict_set(out, "host", a, e);
	}
	if (strcasecmp(k, "user") == 0)
		return ci_dict_set(out, "user", a, e);
	if (strcasecmp(k, "port") == 0) {
		if (mf_parse_long(a, 1, 65535, &n) == -1)
			return nc(m, notes, t, "not a port number", e);
		return ci_dict_set(out, "port", a, e);
	}
	if (strcasecmp(k, "pass") == 0) {
		if (!t->warned && ci_password(m->r, t->line, e) == -1)
			return -1;
		t->warned = 1;
		return ci_dict_set(out, "password", a, e);
	}
	if (strcasecmp(k, "passcmd") == 0)
		return ci_dict_set(out, "passwordeval", a + (a[0] == '+'), e);
	if (strcasecmp(k, "ssltype") == 0 || strcasecmp(k, "tlstype") == 0) {
		v = strcasecmp(a, "none") == 0 ? "none" : strcasecmp(a,
		    "starttls") == 0 ? "starttls" : strcasecmp(a, "imaps") == 0 ?
		    "implicit" : NULL;
		if (v == NULL)
			return nc(m, notes, t, "not None, STARTTLS or IMAPS", e);
		return ci_dict_set(out, "tls", v, e);
	}
	if (strcasecmp(k, "certificatefile") == 0) {
		if (ci_dict_get(out, "tls_trust_file") != NULL)
			return nc(m, notes, t, "mailflow takes one trust file: "
			    "put the certificates into one PEM file", e);
		return ci_dict_set(out, "tls_trust_file", a, e);
	}
	if (strcasecmp(k, "clientcertificate") == 0)
		return ci_dict_set(out, "tls_cert_file", a, e);
	if (strcasecmp(k, "clientkey") == 0)
		return ci_dict_set(out, "tls_key_file", a, e);
	if (strcasecmp(k, "authmechs") == 0) {
		if (auth_mechs(t, buf, sizeof(buf)) == -1)
			return nc(m, notes, t, "a method mailflow does not have; "
			    "auth auto chooses one", e);
		return ci_dict_set(out, "auth", buf, e);
	}
	if (strcasecmp(k, "timeout") == 0) {
		if (mf_parse_long(a, 1, 86400, &n) == -1)
			return nc(m, notes, t, "mailflow always has a time limit "
			    "of 1 to 86400 seconds", e);
		return ci_dict_set(out, "timeout", a, e);
	}
	if (strcasecmp(k, "sslversions") == 0 ||
	    strcasecmp(k, "tlsversions") == 0) {
		if ((v = min_version(t)) == NULL)
			return nc(m, notes, t, "mailflow speaks TLS 1.0 to 1.3 "
			    "only", e);
		return ci_dict_set(out, "tls_min_version", v, e);
	}
	return nc(m, notes, t, reason_for(k), e);
}

/* "Path/" without its final slash. */
static int
set_maildir(struct ci_dict *out, const char *path, struct mf_err *e)
{
	char buf[CI_LINE_MAX];
	size_t n = mf_strlcpy(buf, path, sizeof(buf));

	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return ci_dict_set(out, "maildir", buf, e);
}

static int
same_dir(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	while (na > 1 && a[na - 1] == '/')
		na--;
	while (nb > 1 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncmp(a, b, na) == 0;
}

/* The Maildir Store: Path (else Inbox, else mbsync's ~/Maildir) is the
 * root; imap-sync keeps INBOX in the root itself.  A box the Channel names
 * on this side is a directory under Path. */
static int
maildir_store(struct mb *m, struct obj *md, const char *box,
              struct ci_dict *out, struct mf_buf *notes, struct mf_err *e)
{
	char root[CI_LINE_MAX];
	struct ent *path = NULL, *inbox = NULL;
	size_t i;

	for (i = 0; i < md->n; i++) {
		struct ent *t = &md->v[i];
		const char *a = t->argc > 0 ? t->argv[0] : "";

		if (strcasecmp(t->key, "path") == 0 && t->argc > 0)
			path = t;
		else if (strcasecmp(t->key, "inbox") == 0 && t->argc > 0)
			inbox = t;
		else if (strcasecmp(t->key, "subfolders") == 0 &&
		    strcasecmp(a, "maildir++") == 0)
			;   /* imap-sync's default layout */
		else if (strcasecmp(t->key, "subfolders") == 0 &&
		    strcasecmp(a, "verbatim") == 0) {
			if (nc(m, notes, t, "no configuration key: run imap-sync "
			    "--layout fs", e) == -1)
				return -1;
		} else if (nc(m, notes, t, reason_for(t->key), e) == -1)
			return -1;
	}
	if (box[0] != '\0') {
		snprintf(root, sizeof(root), "%s%s%s", path ? path->argv[0] :
		    "", path && path->argv[0][strlen(path->argv[0]) - 1] != '/' ?
		    "/" : "", box);
		return set_maildir(out, root, e);
	}
	if (path != NULL && inbox != NULL && !same_dir(path->argv[0],
	    inbox->argv[0]) && nc(m, notes, inbox, "imap-sync keeps INBOX in "
	    "the Maildir root, the maildir above", e) == -1)
		return -1;
	return set_maildir(out, path ? path->argv[0] : inbox ?
	    inbox->argv[0] : "~/Maildir", e);
}

/* Patterns as imap-sync options; "*" alone is imap-sync's default. */
static int
patterns(struct mb *m, struct ent *t, struct mf_buf *notes, struct mf_err *e)
{
	struct mf_buf hint = MF_BUF_INIT(CI_LINE_MAX);
	int i, rc = 0;

	if (t->argc == 1 && strcmp(t->argv[0], "*") == 0)
		return 0;
	rc = mf_buf_puts(&hint, "no configuration key: run imap-sync", e);
	for (i = 0; i < t->argc && rc == 0; i++)
		rc = mf_buf_printf(&hint, e, " --%s '%s'", t->argv[i][0] == '!' ?
		    "exclude" : "folder", t->argv[i] + (t->argv[i][0] == '!'));
	if (rc == 0)
		rc = nc(m, notes, t, hint.data, e);
	mf_buf_free(&hint);
	return rc;
}

/* A Channel's (or a global) synchronisation option. */
static int
channel_key(struct mb *m, struct ent *t, struct mf_buf *notes,
            struct mf_err *e)
{
	const char *a = t->argc > 0 ? t->argv[0] : "";

	if (strcasecmp(t->key, "pattern") == 0 ||
	    strcasecmp(t->key, "patterns") == 0)
		return patterns(m, t, notes, e);
	if (strcasecmp(t->key, "sync") == 0) {
		if (t->argc == 1 && strcasecmp(a, "pull") == 0)
			return 0;    /* imap-sync's default */
		return nc(m, notes, t, "no configuration key: imap-sync pulls; "
		    "run imap-sync --two-way to sync both ways", e);
	}
	if (strcasecmp(t->key, "expunge") == 0) {
		if (strcasecmp(a, "none") == 0)
			return 0;
		return nc(m, notes, t, "no configuration key: run imap-sync "
		    "--expunge", e);
	}
	return nc(m, notes, t, reason_for(t->key), e);
}

/* ":store:box" -> the store's name and the box ("" if none). */
static int
side(const char *v, char *store, size_t len, const char **box)
{
	const char *c;

	if (v[0] != ':' || (c = strchr(v + 1, ':')) == NULL ||
	    (size_t)(c - v - 1) >= len || c == v + 1)
		return -1;
	memcpy(store, v + 1, (size_t)(c - v - 1));
	store[c - v - 1] = '\0';
	*box = c + 1;
	return 0;
}

static struct obj *
store(struct mb *m, const char *name)
{
	struct obj *o = find_obj(m, K_IMAPSTORE, name);

	return o != NULL ? o : find_obj(m, K_MDSTORE, name);
}

/* The Channel's two Stores, IMAP and Maildir, or NULL with a reason. */
static const char *
pair(struct mb *m, struct obj *ch, struct obj **imap, struct obj **md,
     struct ent **imap_side, struct ent **md_side, struct mf_err *e)
{
	char name[CI_LINE_MAX];
	const char *box;
	size_t i;

	*imap = *md = NULL;
	for (i = 0; i < ch->n; i++) {
		struct ent *t = &ch->v[i];
		struct obj *s;

		if (strcasecmp(t->key, "far") != 0 && strcasecmp(t->key, "near")
		    != 0 && strcasecmp(t->key, "master") != 0 &&
		    strcasecmp(t->key, "slave") != 0)
			continue;
		t->warned = 1;
		if (t->argc != 1 || side(t->argv[0], name, sizeof(name), &box)
		    == -1) {
			ci_fail(m->r, t->line, e, "%s: expected :STORE:[BOX]",
			    t->key);
			return NULL;
		}
		if ((s = store(m, name)) == NULL) {
			ci_fail(m->r, t->line, e, "Channel %s names no Store "
			    "'%s'", ch->name, name);
			return NULL;
		}
		s->used = 1;
		if (s->kind == K_IMAPSTORE) {
			*imap = s;
			*imap_side = t;
		} else {
			*md = s;
			*md_side = t;
		}
	}
	if (*imap == NULL || *md == NULL)
		return "imap-sync pairs an IMAP Store with a Maildir Store";
	return "";
}

static int
channel(struct mb *m, struct obj *ch, struct mf_err *e)
{
	struct mf_buf notes = MF_BUF_INIT(CI_OUT_MAX);
	struct ci_dict out = { NULL, 0, 0 };
	struct obj *imap, *md, *acct = NULL;
	struct ent *far = NULL, *near = NULL;
	const char *why, *box;
	char head[CI_LINE_MAX + 16], name[CI_LINE_MAX];
	size_t i;
	int rc = -1;

	ch->used = 1;
	if ((why = pair(m, ch, &imap, &md, &far, &near, e)) == NULL)
		return -1;
	if (why[0] == '\0' && !mf_config_name_ok(ch->name))
		why = "not a name mailflow takes for an account";
	if (why[0] != '\0')
		return nc_obj(m, ch, why, e);
	for (i = 0; i < imap->n; i++)
		if (strcasecmp(imap->v[i].key, "account") == 0 &&
		    imap->v[i].argc > 0 && (acct = find_obj(m, K_ACCOUNT,
		    imap->v[i].argv[0])) == NULL)
			return ci_fail(m->r, imap->v[i].line, e, "IMAPStore %s "
			    "uses no IMAPAccount '%s'", imap->name,
			    imap->v[i].argv[0]);
	if (acct != NULL)
		acct->used = 1;
	for (i = 0; acct != NULL && i < acct->n; i++)
		if (server_key(m, &acct->v[i], &out, &notes, e) == -1)
			goto done;
	for (i = 0; i < imap->n; i++)
		if (server_key(m, &imap->v[i], &out, &notes, e) == -1)
			goto done;
	side(near->argv[0], name, sizeof(name), &box);
	if (maildir_store(m, md, box, &out, &notes, e) == -1)
		goto done;
	/* mbsync keeps IMAP's modified UTF-7 names on disk. */
	if (ci_dict_set(&out, "folder_names", "mutf7", e) == -1)
		goto done;
	side(far->argv[0], name, sizeof(name), &box);
	if (box[0] != '\0') {
		char hint[CI_LINE_MAX + 64];

		snprintf(hint, sizeof(hint), "no configuration key: run "
		    "imap-sync --folder '%s'", box);
		far->warned = 0;
		if (nc(m, &notes, far, hint, e) == -1)
			goto done;
	}
	for (i = 0; i < ch->n; i++)
		if (!ch->v[i].warned && channel_key(m, &ch->v[i], &notes, e) == -1)
			goto done;
	snprintf(head, sizeof(head), "account %s", ch->name);
	rc = ci_emit_section(m->r, head, ch->line, &out, NULL, &notes, e);
done:
	ci_dict_free(&out);
	mf_buf_wipe(&notes);
	return rc;
}

static int
convert(struct mb *m, struct mf_err *e)
{
	size_t i, j;

	for (i = 1; i < m->n; i++)
		if (m->o[i].kind == K_CHANNEL && channel(m, &m->o[i], e) == -1)
			return -1;
	for (j = 0; j < m->o[0].n; j++)
		if (channel_key(m, &m->o[0].v[j], &m->tail, e) == -1)
			return -1;
	for (i = 1; i < m->n; i++) {
		struct obj *o = &m->o[i];

		if (!o->used && nc_obj(m, o, o->kind == K_GROUP ? "imap-sync has "
		    "no groups: run it once per account" : "no Channel pairs it "
		    "with a Maildir", e) == -1)
			return -1;
	}
	if (m->tail.len > 0 && mf_buf_printf(&m->r->out, e, "\n%s",
	    m->tail.data) == -1)
		return -1;
	return 0;
}

int
ci_mbsync(struct mf_cfgimport *r, const char *text, struct mf_err *e)
{
	struct mb m;
	size_t i, j;
	int rc;

	memset(&m, 0, sizeof(m));
	m.r = r;
	mf_buf_init(&m.tail, CI_OUT_MAX);
	rc = parse(&m, text, e) == 0 && convert(&m, e) == 0 ? 0 : -1;
	for (i = 0; i < m.n; i++) {
		for (j = 0; j < m.o[i].n; j++) {
			struct ent *t = &m.o[i].v[j];

			mf_memwipe(t->buf, strlen(t->raw) + 1);
			free(t->buf);
			mf_memwipe(t->raw, strlen(t->raw));
			free(t->raw);
			free(t->key);
		}
		free(m.o[i].v);
		free(m.o[i].name);
	}
	free(m.o);
	mf_buf_wipe(&m.tail);
	return rc;
}
