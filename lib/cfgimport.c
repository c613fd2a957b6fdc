/* cfgimport.c - msmtprc and mpoprc to mailflow configuration, format
 * detection, and the dispatch to cfgimport_mbsync.c; the helpers both
 * converters share live below them in cfgimport_common.c.
 *
 * msmtp and mpop read their file top to bottom: an account starts from
 * the defaults seen so far, then copies the settings of the accounts it
 * names after ':'.  We replay that, keeping each section's effective
 * settings (under mailflow's key names, plus msmtp's three TLS switches),
 * turn them into mailflow settings, and write each section as the
 * difference from what mailflow's own inheritance would give it. */
#include "cfgimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cfgimport_int.h"
#include "config.h"
#include "maillog.h"

/* ---- msmtp and mpop ---- */

#define F_MSMTP 1
#define F_MPOP 2

enum act {
	A_STR,       /* copied; "" unsets */
	A_SWITCH,    /* on | off | "" (on) */
	A_PORT, A_TRUST, A_FPR, A_AUTH, A_PASSWORD, A_FROM, A_DOMAIN,
	A_TIMEOUT, A_PROTOCOL, A_SYSLOG, A_DELIVERY,
	A_NONE       /* no meaning here: the reason says why */
};

static const struct skey {
	const char *name, *ours;
	enum act act;
	unsigned fmts;
	const char *reason;
} skeys[] = {
	{ "host", "host", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "port", "port", A_PORT, F_MSMTP | F_MPOP, NULL },
	{ "tls", "tls", A_SWITCH, F_MSMTP | F_MPOP, NULL },
	{ "tls_starttls", "tls_starttls", A_SWITCH, F_MSMTP | F_MPOP, NULL },
	{ "tls_certcheck", "tls_certcheck", A_SWITCH, F_MSMTP | F_MPOP, NULL },
	{ "tls_trust_file", "tls_trust_file", A_TRUST, F_MSMTP | F_MPOP, NULL },
	{ "tls_fingerprint", "tls_fingerprint", A_FPR, F_MSMTP | F_MPOP, NULL },
	{ "tls_cert_file", "tls_cert_file", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "tls_key_file", "tls_key_file", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "tls_priorities", "tls_priority", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "auth", "auth", A_AUTH, F_MSMTP | F_MPOP, NULL },
	{ "user", "user", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "password", "password", A_PASSWORD, F_MSMTP | F_MPOP, NULL },
	{ "passwordeval", "passwordeval", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "timeout", "timeout", A_TIMEOUT, F_MSMTP | F_MPOP, NULL },
	{ "from", "from", A_FROM, F_MSMTP, NULL },
	{ "domain", "ehlo", A_DOMAIN, F_MSMTP, NULL },
	{ "protocol", "protocol", A_PROTOCOL, F_MSMTP, NULL },
	{ "logfile", "logfile", A_STR, F_MSMTP | F_MPOP, NULL },
	{ "syslog", "syslog", A_SYSLOG, F_MSMTP | F_MPOP, NULL },
	{ "aliases", "aliases", A_STR, F_MSMTP, NULL },
	{ "delivery", NULL, A_DELIVERY, F_MPOP, NULL },
	{ "keep", "keep", A_SWITCH, F_MPOP, NULL },
	{ "only_new", "only_new", A_SWITCH, F_MPOP, NULL },
	{ "uidls_file", NULL, A_NONE, F_MPOP, "mpop's UIDL list is not "
	    "pop-fetch's state file; pop-fetch keeps its own, by default "
	    "under ~/.local/state/mailflow" },
	{ "eval", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow-config runs no "
	    "commands: write the setting the command prints" },
	{ "source_ip", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow does not "
	    "choose the source address" },
	{ "proxy_host", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow has no "
	    "SOCKS proxy" },
	{ "proxy_port", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow has no "
	    "SOCKS proxy" },
	{ "socket", NULL, A_NONE, F_MSMTP | F_MPOP, "for a local socket use "
	    "host unix:PATH (mailsend with protocol lmtp)" },
	{ "ntlmdomain", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow has no NTLM" },
	{ "tls_crl_file", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow reads no "
	    "CRL files" },
	{ "tls_host_override", NULL, A_NONE, F_MSMTP | F_MPOP, "mailflow "
	    "verifies the certificate for host" },
	{ "tls_min_dh_prime_bits", NULL, A_NONE, F_MSMTP | F_MPOP, "obsolete; "
	    "see tls_priority" },
	{ "pipelining", NULL, A_NONE, F_MPOP, "pop-fetch pipelines when the "
	    "server offers it" },
	{ "killsize", NULL, A_NONE, F_MPOP, "pop-fetch has no size filter" },
	{ "skipsize", NULL, A_NONE, F_MPOP, "pop-fetch has no size filter" },
	{ "filter", NULL, A_NONE, F_MPOP, "pop-fetch has no filter command" },
	{ "received_header", NULL, A_NONE, F_MPOP, "pop-fetch adds no "
	    "Received header" },
	{ "uidls_file_format", NULL, A_NONE, F_MPOP, "pop-fetch has its own "
	    "state format" },
	{ "allow_from_override", NULL, A_NONE, F_MSMTP, "mailsend's -f always "
	    "overrides from" },
	{ "dsn_notify", NULL, A_NONE, F_MSMTP, "no configuration key: use "
	    "mailsend --dsn-notify" },
	{ "dsn_return", NULL, A_NONE, F_MSMTP, "no configuration key: use "
	    "mailsend --dsn-ret" },
	{ "set_from_header", NULL, A_NONE, F_MSMTP, "mailsend writes From: "
	    "when it composes; a message given whole is sent as it is" },
	{ "add_missing_from_header", NULL, A_NONE, F_MSMTP, "mailsend writes "
	    "From: when it composes" },
	{ "set_date_header", NULL, A_NONE, F_MSMTP, "mailsend writes Date: "
	    "when it composes" },
	{ "add_missing_date_header", NULL, A_NONE, F_MSMTP, "mailsend writes "
	    "Date: when it composes" },
	{ "set_msgid_header", NULL, A_NONE, F_MSMTP, "mailsend writes "
	    "Message-ID: when it composes" },
	{ "remove_bcc_headers", NULL, A_NONE, F_MSMTP, "mailsend always "
	    "removes Bcc:" },
	{ "undisclosed_recipients", NULL, A_NONE, F_MSMTP, "no such mode" },
	{ "logfile_time_format", NULL, A_NONE, F_MSMTP, "the log's time "
	    "format is fixed" },
	{ "auto_from", NULL, A_NONE, F_MSMTP, "obsolete; set from" },
	{ "maildomain", NULL, A_NONE, F_MSMTP, "obsolete; set from" },
	{ "auth_mech", NULL, A_NONE, F_MSMTP, "obsolete; see auth" },
};

struct section {
	char *name;          /* NULL: the defaults */
	char *parent;        /* the first account named after ':', or NULL */
	int line, own;       /* where it starts; lines of its own */
	struct ci_dict eff;  /* effective settings, our key names */
	struct ci_dict out;  /* the mailflow settings they give */
	struct mf_buf notes;
};

struct rc {
	struct mf_cfgimport *r;
	unsigned fmt;        /* F_MSMTP or F_MPOP */
	struct section *s;   /* s[0]: the defaults */
	size_t n, cap;
};

static int
switch_value(const char *v, const char **out)
{
	if (v[0] == '\0' || strcmp(v, "on") == 0)
		return *out = "on", 0;
	if (strcmp(v, "off") == 0)
		return *out = "off", 0;
	return -1;
}

/* delivery maildir DIR | mda COMMAND; mbox and exchange are not ours. */
static int
delivery(struct rc *c, struct section *s, int line, char *v,
         struct mf_err *e)
{
	size_t n = strcspn(v, " \t");
	char *arg = v + n + strspn(v + n, " \t"), *w, *q;

	/* mpop's own example quotes the command: delivery mda "CMD" */
	if (arg[0] == '"' && (q = strrchr(arg + 1, '"')) != NULL &&
	    q[1 + strspn(q + 1, " \t")] == '\0') {
		for (w = arg, q = arg + 1; *q != '\0'; q++) {
			if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
				q++;
			else if (*q == '"')
				break;
			*w++ = *q;
		}
		*w = '\0';
	}

	if (n == 7 && strncmp(v, "maildir", 7) == 0 && *arg != '\0')
		return ci_dict_set(&s->eff, "maildir", arg, e);
	if (n == 3 && strncmp(v, "mda", 3) == 0 && *arg != '\0') {
		if (strstr(arg, "%F") != NULL)
			return ci_not_converted(c->r, &s->notes, line, "delivery",
			    v, "pop-fetch does not replace %F in the command", e);
		return ci_dict_set(&s->eff, "mda", arg, e);
	}
	return ci_not_converted(c->r, &s->notes, line, "delivery", v,
	    "pop-fetch delivers to a maildir or an mda only", e);
}

/* A key of mailflow's own, kept when mailflow takes its value. */
static int
own_key(struct rc *c, struct section *s, int line, const char *key,
        const char *v, struct mf_err *e)
{
	struct mf_buf probe = MF_BUF_INIT(CI_LINE_MAX * 2 + 64);
	struct mf_config *cfg = NULL;
	struct mf_err pe;

	mf_err_clear(&pe);
	if (mf_buf_printf(&probe, e, "defaults\n%s ", key) == -1 ||
	    ci_put_value(&probe, v, e) == -1)
		goto fail;
	cfg = mf_config_parse(probe.data, "", 0600, &pe);
	mf_buf_wipe(&probe);
	if (cfg == NULL) {
		/* "(config):2: bad value for port: 'x'" without the place */
		const char *why = strstr(pe.msg, ": ");

		return ci_not_converted(c->r, &s->notes, line, key, v,
		    why != NULL ? why + 2 : pe.msg, e);
	}
	mf_config_free(cfg);
	s->own++;
	return ci_dict_set(&s->eff, key, v, e);
fail:
	mf_buf_wipe(&probe);
	return -1;
}

/* msmtp's / mpop's auth value as ours, into buf; why not, or NULL. */
static const char *
auth_value(const struct rc *c, const char **v, char *buf, size_t buflen)
{
	if ((*v)[0] == '\0' || strcmp(*v, "on") == 0)
		*v = "auto";
	else if (strcmp(*v, "off") == 0)
		*v = "none";
	else if (ci_auth_method(*v, c->fmt == F_MPOP, buf, buflen) == NULL)
		return "mailflow has no such method; auth auto chooses one";
	else
		*v = buf;
	return NULL;
}

/* Check the value *v of a key with action k->act and turn it into ours
 * (*v may then point into buf).  Why it cannot be converted, or NULL. */
static const char *
convert(const struct rc *c, const struct skey *k, const char **v, char *buf,
        size_t buflen)
{
	long n;
	int fac;

	switch (k->act) {
	case A_NONE:
		return k->reason;
	case A_SWITCH:
		if (switch_value(*v, v) == -1)
			return "the value is not on or off";
		break;
	case A_PORT:
		if (mf_parse_long(*v, 1, 65535, &n) == -1)
			return "not a port number";
		break;
	case A_TRUST:
		/* msmtp's "system" is our default; its "" trusts no CA. */
		if (strcmp(*v, "system") == 0)
			*v = "";
		else if ((*v)[0] == '\0')
			return "mailflow cannot distrust every CA: pin the "
			    "server with tls_fingerprint";
		break;
	case A_FPR:
		if ((*v)[0] != '\0' && !ci_sha256_fingerprint(*v))
			return "mailflow pins SHA-256 fingerprints only";
		break;
	case A_AUTH:
		return auth_value(c, v, buf, buflen);
	case A_FROM:
		if (strstr(*v, "%M") != NULL || strpbrk(*v, "*?[") != NULL)
			return "mailsend replaces %U, %H and %C only and takes "
			    "no patterns";
		break;
	case A_DOMAIN:
		if (strchr(*v, '%') != NULL)
			return "mailflow does not replace %H, %C or %M in ehlo";
		break;
	case A_TIMEOUT:
		if (strcmp(*v, "off") == 0)
			return "mailflow always has a time limit; the tool's "
			    "default applies";
		if (mf_parse_long(*v, 1, 86400, &n) == -1)
			return "not 1 to 86400 seconds";
		break;
	case A_PROTOCOL:
		if (strcmp(*v, "smtp") != 0 && strcmp(*v, "lmtp") != 0)
			return "not smtp or lmtp";
		break;
	case A_SYSLOG:
		if ((*v)[0] == '\0')
			*v = "on";
		if (mf_maillog_facility(*v, &fac) == -1)
			return "not on, off or a facility mailflow knows";
		break;
	case A_STR:
	case A_PASSWORD:
	case A_DELIVERY:
		break;
	}
	return NULL;
}

/* One "key value" line of a section, checked and stored under our name. */
static int
setting(struct rc *c, struct section *s, int line, const char *key,
        char *val, struct mf_err *e)
{
	const char *v = val;
	const struct skey *k = NULL;
	const char *why;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
		if (strcmp(skeys[i].name, key) == 0 && (skeys[i].fmts & c->fmt))
			k = &skeys[i];
	/* mailflow's own keys, as mailflow reads them in any file */
	if (k == NULL && mf_config_is_key(key) && strcmp(key, "tls_starttls")
	    != 0 && strcmp(key, "tls_certcheck") != 0)
		return own_key(c, s, line, key, v, e);
	if (k == NULL)
		return ci_not_converted(c->r, &s->notes, line, key, v,
		    c->fmt == F_MSMTP ? "not an msmtp key" : "not an mpop key", e);
	if (k->act == A_DELIVERY)
		return delivery(c, s, line, val, e);
	if (k->act == A_PASSWORD && v[0] != '\0' &&
	    ci_password(c->r, line, e) == -1)
		return -1;
	why = convert(c, k, &v, buf, sizeof(buf));
	if (why != NULL)
		return ci_not_converted(c->r, &s->notes, line, key, v, why, e);
	s->own++;
	return ci_dict_set(&s->eff, k->ours, v, e);
}

static struct section *
find_account(struct rc *c, const char *name)
{
	size_t i;

	for (i = 1; i < c->n; i++)
		if (strcmp(c->s[i].name, name) == 0)
			return &c->s[i];
	return NULL;
}

static struct section *
new_section(struct rc *c, struct mf_err *e)
{
	struct section *s;

	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 8;
		struct section *ns = realloc(c->s, nc * sizeof(*ns));

		if (ns == NULL) {
			mf_err_set(e, MF_E_NOMEM, "out of memory");
			return NULL;
		}
		c->s = ns;
		c->cap = nc;
	}
	s = &c->s[c->n++];
	memset(s, 0, sizeof(*s));
	mf_buf_init(&s->notes, CI_OUT_MAX);
	return s;
}

/* "account NAME [: A[,B...]]": start from the defaults so far, then copy
 * each named account's settings, in order. */
static struct section *
start_account(struct rc *c, char *v, int line, struct mf_err *e)
{
	char *colon = strchr(v, ':'), *name = v, *list, *p;
	struct section *s, *par;
	size_t n;

	if (colon != NULL)
		*colon = '\0';
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	if (!mf_config_name_ok(name)) {
		ci_fail(c->r, line, e, "bad account name '%s'", name);
		return NULL;
	}
	if (find_account(c, name) != NULL) {
		ci_fail(c->r, line, e, "account '%s' is defined twice", name);
		return NULL;
	}
	if ((s = new_section(c, e)) == NULL)
		return NULL;
	s->line = line;
	if ((s->name = ci_dup_str(name, e)) == NULL ||
	    ci_dict_overlay(&s->eff, &c->s[0].eff, e) == -1)
		return NULL;
	for (list = colon ? colon + 1 : NULL; list != NULL; list = p) {
		if ((p = strchr(list, ',')) != NULL)
			*p++ = '\0';
		list += strspn(list, " \t");
		n = strcspn(list, " \t");
		if (list[n + strspn(list + n, " \t")] != '\0' || n == 0) {
			ci_fail(c->r, line, e, "bad account line: expected "
			    "'account NAME [: ACCOUNT[,ACCOUNT...]]'");
			return NULL;
		}
		list[n] = '\0';
		/* s may move when the array grows: look it up each time. */
		if ((par = find_account(c, list)) == NULL ||
		    par == &c->s[c->n - 1]) {
			ci_fail(c->r, line, e, "account '%s' inherits '%s', "
			    "which is not defined before it", name, list);
			return NULL;
		}
		s = &c->s[c->n - 1];
		if (ci_dict_overlay(&s->eff, &par->eff, e) == -1)
			return NULL;
		if (s->parent == NULL &&
		    (s->parent = ci_dup_str(list, e)) == NULL)
			return NULL;
	}
	return &c->s[c->n - 1];
}

/* Split "key value": value is the rest of the line, or a double-quoted
 * string with \" and \\ escapes. */
/* -1 (e set) when the value of key holds a control character. */
static int
control(struct mf_cfgimport *r, int line, const char *key, const char *val,
        struct mf_err *e)
{
	if (!ci_has_control(val))
		return 0;
	return ci_fail(r, line, e, "the value of %s holds a control character",
	    key);
}

static int
split(struct mf_cfgimport *r, int line, char *l, char **key, char **val,
      struct mf_err *e)
{
	char *p = l + strspn(l, " \t"), *w, *s;

	*key = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	*val = p;
	if (*p != '"')
		return control(r, line, *key, *val, e);
	for (s = p + 1, w = p; *s != '"'; s++) {
		if (*s == '\0')
			return ci_fail(r, line, e, "the quote of %s's value is "
			    "not closed", *key);
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*w++ = *s;
	}
	*w = '\0';
	s += 1 + strspn(s + 1, " \t");
	if (*s != '\0' && *s != '#')
		return ci_fail(r, line, e, "text after the quoted value of %s",
		    *key);
	return control(r, line, *key, *val, e);
}

static int
parse_rc(struct rc *c, const char *text, struct mf_err *e)
{
	char line[CI_LINE_MAX], *key, *val;
	struct section *cur = NULL;
	int lineno = 0, rc = 0;

	if (new_section(c, e) == NULL)
		return -1;
	while (rc == 0 && (rc = ci_next_line(c->r, &text, line, sizeof(line),
	    &lineno, e)) == 0) {
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (split(c->r, lineno, line, &key, &val, e) == -1)
			rc = -1;
		else if (strcmp(key, "defaults") == 0) {
			cur = &c->s[0];
			if (val[0] != '\0')
				rc = ci_fail(c->r, lineno, e, "'defaults' takes no "
				    "value");
		} else if (strcmp(key, "account") == 0) {
			if ((cur = start_account(c, val, lineno, e)) == NULL)
				rc = -1;
		} else if (cur == NULL) {
			rc = ci_fail(c->r, lineno, e, "'%s' before any 'defaults' "
			    "or 'account' line", key);
		} else {
			rc = setting(c, cur, lineno, key, val, e);
		}
		mf_memwipe(line, sizeof(line));
	}
	if (rc == -1)
		return -1;
	if (c->n == 1 && c->s[0].eff.n == 0 && c->s[0].notes.len == 0)
		return ci_fail(c->r, lineno, e, "no 'defaults' or 'account' "
		    "section");
	return 0;
}

/* The mailflow settings a section's effective settings give. */
static int
to_mailflow(struct rc *c, struct section *s, struct mf_err *e)
{
	const char *tls = ci_dict_get(&s->eff, "tls");
	const char *st = ci_dict_get(&s->eff, "tls_starttls");
	const char *check = ci_dict_get(&s->eff, "tls_certcheck");
	const char *mode = NULL;
	size_t i;

	for (i = 0; i < s->eff.n; i++) {
		const char *k = s->eff.v[i].key;

		if (strcmp(k, "tls") != 0 && strcmp(k, "tls_starttls") != 0 &&
		    strcmp(k, "tls_certcheck") != 0 &&
		    ci_dict_set(&s->out, k, s->eff.v[i].val, e) == -1)
			return -1;
	}
	if (tls != NULL)
		mode = strcmp(tls, "off") == 0 ? "none" : st != NULL &&
		    strcmp(st, "off") == 0 ? "implicit" : "starttls";
	if (mode != NULL && ci_dict_set(&s->out, "tls", mode, e) == -1)
		return -1;
	if (check != NULL && strcmp(check, "off") == 0 &&
	    ci_dict_set(&s->out, "tls_insecure", "on", e) == -1)
		return -1;
	if (s->name == NULL || ci_dict_get(&s->eff, "host") == NULL)
		return 0;
	/* msmtp's defaults where they are not ours: port 25 (465 with TLS
	 * at once) and no login without "auth". */
	if (c->fmt == F_MSMTP && ci_dict_get(&s->out, "port") == NULL &&
	    !(ci_dict_get(&s->out, "protocol") != NULL &&
	    strcmp(ci_dict_get(&s->out, "protocol"), "lmtp") == 0) &&
	    ci_dict_set(&s->out, "port", mode != NULL && strcmp(mode,
	    "implicit") == 0 ? "465" : "25", e) == -1)
		return -1;
	if (c->fmt == F_MSMTP && ci_dict_get(&s->out, "auth") == NULL &&
	    ci_dict_get(&s->out, "user") != NULL &&
	    ci_dict_set(&s->out, "auth", "none", e) == -1)
		return -1;
	return 0;
}

/* What an account would silently do differently under mailflow. */
static int
notes(struct rc *c, struct section *s, struct mf_err *e)
{
	/* Said once, where the account tree starts. */
	if (s->name == NULL || s->own == 0 || s->parent != NULL ||
	    ci_dict_get(&s->eff, "host") == NULL)
		return 0;
	if (ci_dict_get(&s->eff, "tls") == NULL && ci_note(c->r, &s->notes,
	    s->line, e, "%s used no TLS here (no 'tls on'); mailflow uses "
	    "STARTTLS unless the account says 'tls none'", c->fmt == F_MSMTP ?
	    "msmtp" : "mpop") == -1)
		return -1;
	if (c->fmt == F_MPOP && ci_dict_get(&s->eff, "keep") == NULL &&
	    ci_note(c->r, &s->notes, s->line, e, "mpop deleted fetched mail "
	    "here (no 'keep on'); pop-fetch keeps it unless 'keep off' or "
	    "--delete") == -1)
		return -1;
	return 0;
}

static int
emit_rc(struct rc *c, struct mf_err *e)
{
	char head[CI_LINE_MAX + 64];
	size_t i;

	for (i = 0; i < c->n; i++)
		if (to_mailflow(c, &c->s[i], e) == -1 || notes(c, &c->s[i], e)
		    == -1)
			return -1;
	if ((c->s[0].out.n > 0 || c->s[0].notes.len > 0) &&
	    ci_emit_section(c->r, "defaults", 1, &c->s[0].out, NULL,
	    &c->s[0].notes, e) == -1)
		return -1;
	for (i = 1; i < c->n; i++) {
		struct section *s = &c->s[i];
		struct section *p = s->parent ? find_account(c, s->parent) : NULL;

		if (p != NULL)
			snprintf(head, sizeof(head), "account %s : %s", s->name,
			    s->parent);
		else
			snprintf(head, sizeof(head), "account %s", s->name);
		if (ci_emit_section(c->r, head, s->line, &s->out, p ? &p->out :
		    &c->s[0].out, &s->notes, e) == -1)
			return -1;
	}
	return 0;
}

static void
free_rc(struct rc *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->s[i].name);
		free(c->s[i].parent);
		ci_dict_free(&c->s[i].eff);
		ci_dict_free(&c->s[i].out);
		mf_buf_wipe(&c->s[i].notes);
	}
	free(c->s);
}

static int
convert_rc(struct mf_cfgimport *r, const char *text, struct mf_err *e)
{
	struct rc c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.r = r;
	c.fmt = r->fmt == MF_CFGIMPORT_MPOP ? F_MPOP : F_MSMTP;
	rc = parse_rc(&c, text, e) == 0 && emit_rc(&c, e) == 0 ? 0 : -1;
	free_rc(&c);
	return rc;
}

/* ---- formats ---- */

static const char *const fmt_names[] = {
	[MF_CFGIMPORT_AUTO] = "auto", [MF_CFGIMPORT_MSMTP] = "msmtp",
	[MF_CFGIMPORT_MPOP] = "mpop", [MF_CFGIMPORT_MBSYNC] = "mbsync",
};

int
mf_cfgimport_format_parse(const char *s, enum mf_cfgimport_format *out)
{
	int i;

	for (i = MF_CFGIMPORT_MSMTP; i <= MF_CFGIMPORT_MBSYNC; i++)
		if (strcmp(s, fmt_names[i]) == 0)
			return *out = (enum mf_cfgimport_format)i, 0;
	return -1;
}

const char *
mf_cfgimport_format_name(enum mf_cfgimport_format f)
{
	return (unsigned)f <= MF_CFGIMPORT_MBSYNC ? fmt_names[f] : "?";
}

/* Keys found only in one format. */
static const char *const mbsync_words[] = { "imapaccount", "imapstore",
	"maildirstore", "channel", "group" };
static const char *const mpop_words[] = { "delivery", "uidls_file", "keep",
	"only_new", "killsize", "skipsize", "filter", "received_header",
	"pipelining" };
static const char *const msmtp_words[] = { "from", "domain", "aliases",
	"protocol", "dsn_notify", "dsn_return", "set_from_header",
	"set_date_header", "set_msgid_header", "add_missing_from_header",
	"add_missing_date_header", "remove_bcc_headers", "auto_from",
	"maildomain", "undisclosed_recipients", "allow_from_override",
	"logfile_time_format" };

static int
word_in(const char *w, size_t n, const char *const *list, size_t nlist)
{
	size_t i;

	for (i = 0; i < nlist; i++)
		if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
			return 1;
	return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum mf_cfgimport_format
mf_cfgimport_detect(const char *text)
{
	int mpop = 0, msmtp = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *w = p + strspn(p, " \t");
		size_t n = strcspn(w, " \t\r\n");

		if (word_in(w, n, mbsync_words, NELEM(mbsync_words)))
			return MF_CFGIMPORT_MBSYNC;
		mpop |= word_in(w, n, mpop_words, NELEM(mpop_words));
		msmtp |= word_in(w, n, msmtp_words, NELEM(msmtp_words));
		p = w + strcspn(w, "\n");
		if (*p == '\n')
			p++;
	}
	if (mpop != msmtp)
		return mpop ? MF_CFGIMPORT_MPOP : MF_CFGIMPORT_MSMTP;
	return MF_CFGIMPORT_AUTO;
}

/* ---- the result ---- */

struct mf_cfgimport *
mf_cfgimport_convert(const char *text, const char *name,
                     enum mf_cfgimport_format f, struct mf_err *e)
{
	struct mf_cfgimport *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL || (r->name = ci_dup_str(name ? name : "(input)", e)) ==
	    NULL) {
		free(r);
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	mf_buf_init(&r->out, CI_OUT_MAX);
	if (f == MF_CFGIMPORT_AUTO && (f = mf_cfgimport_detect(text)) ==
	    MF_CFGIMPORT_AUTO) {
		mf_err_set(e, MF_E_DATA, "%s: cannot tell its format from its "
		    "keys (an msmtprc, an mpoprc or an mbsyncrc?): name it with "
		    "--from", r->name);
		mf_cfgimport_free(r);
		return NULL;
	}
	r->fmt = f;
	rc = mf_buf_printf(&r->out, e, "# mailflow configuration (mailflow(5)),"
	    " converted from the %s file %s\n# by mailflow-config import.\n",
	    mf_cfgimport_format_name(f), r->name);
	if (rc == 0)
		rc = f == MF_CFGIMPORT_MBSYNC ? ci_mbsync(r, text, e) :
		    convert_rc(r, text, e);
	if (rc == 0 && r->password)
		rc = mf_buf_puts(&r->out, "\n# This file holds a password: keep "
		    "it mode 0600 (chmod 600 FILE); mailflow\n# refuses it "
		    "otherwise.  passwordeval is safer.\n", e);
	if (rc == -1) {
		mf_cfgimport_free(r);
		return NULL;
	}
	return r;
}

const char *
mf_cfgimport_text(const struct mf_cfgimport *r)
{
	return r->out.data != NULL ? r->out.data : "";
}

enum mf_cfgimport_format
mf_cfgimport_source(const struct mf_cfgimport *r)
{
	return r->fmt;
}

const char *
mf_cfgimport_warning(const struct mf_cfgimport *r, size_t i)
{
	return i < r->nwarn ? r->warn[i] : NULL;
}

int
mf_cfgimport_has_password(const struct mf_cfgimport *r)
{
	return r->password;
}

void
mf_cfgimport_free(struct mf_cfgimport *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nwarn; i++)
		free(r->warn[i]);
	mf_buf_wipe(&r->out);
	free(r->name);
	free(r);
}
