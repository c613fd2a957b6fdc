/* cli.c - the client tools' shared options, merged over the config file:
 * command line over account over defaults. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "esc.h"
#include "idn.h"
#include "sock.h"

#define CLI_TIMEOUT_MAX 86400

/* The Makefile passes the one VERSION (plus git describe) for this file. */
#ifndef MF_VERSION
#define MF_VERSION "0.0.0 (unknown build)"
#endif

const char mf_cli_usage[] =
"  -a, --account NAME        use account NAME from the configuration file\n"
"      --config FILE         configuration file (default:\n"
"                            $XDG_CONFIG_HOME/mailflow/config)\n"
"  -s, --server HOST[:PORT]  server to connect to (overrides the account)\n"
"  -p, --port PORT           server port\n"
"  -u, --user USER           user name to authenticate as\n"
"  -v, --verbose             show the protocol dialogue (twice: more)\n"
"      --tls MODE            starttls, implicit, none or auto\n"
"      --tls-trust-file FILE trust the CA certificates in FILE (PEM)\n"
"      --tls-fingerprint FP  trust the server certificate with this SHA-256\n"
"                            fingerprint (of the certificate or its key)\n"
"      --tls-cert FILE       client certificate (PEM)\n"
"      --tls-key FILE        key of the client certificate (PEM)\n"
"      --tls-min-version V   lowest TLS version: 1.0, 1.1, 1.2 or 1.3\n"
"      --tls-priority STR    GnuTLS priority string\n"
"      --insecure            do not verify the server certificate (unsafe)\n"
"      --sni NAME            server name to send in TLS SNI\n"
"      --auth MECHS          SASL mechanism(s) to use, \"auto\" or \"none\"\n"
"      --passwordeval CMD    run CMD to get the password (first output line)\n"
"      --timeout SECONDS     network time limit\n"
"      --show-secrets        do not hide credentials in the -v transcript\n"
"  -h, --help                show this help\n"
"  -V, --version             show the version\n";

const char *
mf_cli_version(void)
{
	return MF_VERSION;
}

int
mf_cli_print_version(FILE *f, const char *tool)
{
	fprintf(f, "%s (mailflow) %s\n", tool, MF_VERSION);
	return 0;
}

int
mf_cli_usage_error(FILE *f, const char *tool, const char *msg)
{
	char esc[MF_ESC_SIZE(MF_ERR_MSG_MAX)];

	fprintf(f, "%s: %s; see %s --help\n", tool,
	    mf_esc_str(esc, sizeof(esc), msg), tool);
	return EX_USAGE;
}

void
mf_cli_msg(FILE *f, const char *tool, const char *fmt, ...)
{
	char m[MF_ERR_MSG_MAX * 2], esc[MF_ESC_SIZE(sizeof(m))];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	fprintf(f, "%s: %s\n", tool, mf_esc_str(esc, sizeof(esc), m));
}

void
mf_cli_warn_insecure(FILE *f, const char *tool, const struct mf_settings *s)
{
	if (s->tlsp.insecure)
		mf_cli_msg(f, tool, "WARNING: --insecure: the server's "
		    "certificate is NOT verified");
}

int
mf_cli_fail(FILE *f, const char *tool, const struct mf_err *e)
{
	mf_cli_msg(f, tool, "%s", e->msg);
	return mf_err_exit_code(e);
}

long long
mf_cli_elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

void
mf_cli_json_begin(struct mf_json *j, const char *tool)
{
	mf_json_object_begin(j);
	mf_json_kv_string(j, "type", "summary");
	mf_json_kv_string(j, "tool", tool);
	mf_json_kv_string(j, "version", MF_VERSION);
}

void
mf_cli_json_error(struct mf_json *j, enum mf_err_kind kind, const char *message)
{
	mf_json_kv_error(j, mf_err_kind_name(kind), message);
}

void
mf_cli_json_name(struct mf_json *j, const char *key, const char *name)
{
	char k[64], a[MF_IDN_NAME_MAX], u[MF_IDN_NAME_MAX];

	mf_idn_wire_name(name, a, sizeof(a));
	mf_json_kv_string(j, key, a);
	mf_idn_to_unicode(a, u, sizeof(u));
	if (strcmp(u, a) == 0)
		return;
	mf_fmt(k, sizeof(k), "%s_unicode", key);
	mf_json_kv_string(j, k, u);
}

void
mf_cli_json_end(struct mf_json *j, int exit_status, long long elapsed_ms,
                const struct mf_err *e)
{
	mf_json_kv_int(j, "exit", exit_status);
	mf_json_kv_int(j, "elapsed_ms", elapsed_ms);
	if (e != NULL && e->kind != MF_OK)
		mf_cli_json_error(j, e->kind, e->msg);
	mf_json_object_end(j);
}

/* A "--name[=value]" word as getopt_long() reads it: 1 if it takes the
 * next word as its value, 0 if it is fine alone, -1 (e set) if getopt
 * refuses it. Abbreviations count when they are unambiguous. */
static int
check_long(const char *word, int have_next, const struct option *lo,
           struct mf_err *e)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	const struct option *hit = NULL;
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	int nhits = 0;

	for (; lo != NULL && lo->name != NULL; lo++) {
		if (strncmp(lo->name, name, len) != 0)
			continue;
		if (strlen(lo->name) == len) {
			hit = lo;
			nhits = 1;
			break;
		}
		if (hit == NULL || hit->val != lo->val ||
		    hit->has_arg != lo->has_arg)
			nhits++;
		if (hit == NULL)
			hit = lo;
	}
	if (nhits == 0)
		return mf_err_set(e, MF_E_USAGE, "unknown option --%.*s",
		    (int)len, name);
	if (nhits > 1)
		return mf_err_set(e, MF_E_USAGE, "ambiguous option --%.*s",
		    (int)len, name);
	if (eq != NULL && hit->has_arg == no_argument)
		return mf_err_set(e, MF_E_USAGE, "option --%s takes no value",
		    hit->name);
	if (eq == NULL && hit->has_arg == required_argument) {
		if (!have_next)
			return mf_err_set(e, MF_E_USAGE, "option --%s needs a "
			    "value", hit->name);
		return 1;
	}
	return 0;
}

/* A "-abc" word, the same way. */
static int
check_short(const char *word, int have_next, const char *so,
            struct mf_err *e)
{
	const char *p;
	size_t i;

	for (i = 1; word[i] != '\0'; i++) {
		p = word[i] == ':' ? NULL : strchr(so, word[i]);
		if (p == NULL && strlen(word) > 2)
			return mf_err_set(e, MF_E_USAGE, "unknown option -%c in "
			    "%s", word[i], word);
		if (p == NULL)
			return mf_err_set(e, MF_E_USAGE, "unknown option -%c",
			    word[i]);
		if (p[1] != ':')
			continue;
		if (word[i + 1] != '\0' || p[2] == ':')
			return 0;
		if (!have_next)
			return mf_err_set(e, MF_E_USAGE, "option -%c needs a "
			    "value", word[i]);
		return 1;
	}
	return 0;
}

/* getopt_long() said '?' or ':' but not which word: walk argv as it does
 * (options anywhere, "--" ends them) to the first word it refuses. */
static void
describe_bad(int argc, char *const argv[], const char *so,
             const struct option *lo, struct mf_err *e)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			continue;
		if (argv[i][1] == '-')
			r = check_long(argv[i], i + 1 < argc, lo, e);
		else
			r = check_short(argv[i], i + 1 < argc, so, e);
		if (r == -1)
			return;
		i += r;
	}
	mf_err_set(e, MF_E_USAGE, "bad option");
}

int
mf_cli_getopt(int argc, char *const argv[], const char *shortopts,
              const struct option *longopts, struct mf_err *e)
{
	char so[128];
	int c, n;

	opterr = 0;
	if (shortopts[0] == ':')
		shortopts++;
	n = snprintf(so, sizeof(so), ":%s", shortopts);
	if (n < 0 || (size_t)n >= sizeof(so)) {
		mf_err_set(e, MF_E_INTERNAL, "option string too long");
		return '?';
	}
	c = getopt_long(argc, argv, so, longopts, NULL);
	if (c == '?' || c == ':') {
		describe_bad(argc, argv, shortopts, longopts, e);
		return '?';
	}
	return c;
}

const char mf_cli_log_usage[] =
"      --logfile FILE        append one line per message or run to FILE\n"
"      --syslog on|off|FACILITY  log that line to syslog (on: LOG_MAIL)\n";

static int
valid_min_version(const char *v)
{
	return strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 ||
	    strcmp(v, "1.2") == 0 || strcmp(v, "1.3") == 0;
}

static int
check_server(const char *arg, struct mf_err *e)
{
	char host[256], port[8] = "";

	if (mf_sock_unix_path(arg) != NULL)
		return 0;
	if (mf_sock_split_hostport(arg, host, sizeof(host), port, sizeof(port),
	    e) == -1)
		return mf_err_set(e, MF_E_USAGE, "--server: bad value '%s'"
		    " (expected HOST, HOST:PORT or unix:/PATH)", arg);
	return 0;
}

static int
option_value(struct mf_cli *c, int opt, const char *arg, struct mf_err *e)
{
	enum mf_tls_mode m;
	long n;
	int m2;

	switch (opt) {
	case 's':
		if (check_server(arg, e) == -1)
			return -1;
		c->server = arg;
		return 1;
	case 'p':
		if (mf_parse_long(arg, 1, 65535, &n) == -1)
			return mf_err_set(e, MF_E_USAGE, "--port: bad value '%s'"
			    " (1 to 65535)", arg);
		c->port = arg;
		return 1;
	case MF_OPT_TLS:
		if (mf_tls_mode_parse(arg, &m) == -1)
			return mf_err_set(e, MF_E_USAGE, "--tls: bad value '%s'"
			    " (starttls, implicit, none or auto)", arg);
		c->tls = arg;
		return 1;
	case MF_OPT_TLS_MIN_VERSION:
		if (!valid_min_version(arg))
			return mf_err_set(e, MF_E_USAGE, "--tls-min-version: bad"
			    " value '%s' (1.0, 1.1, 1.2 or 1.3)", arg);
		c->min_version = arg;
		return 1;
	case MF_OPT_SYSLOG:
		if (mf_maillog_facility(arg, &m2) == -1)
			return mf_err_set(e, MF_E_USAGE, "--syslog: bad value '%s'"
			    " (on, off, LOG_USER, LOG_MAIL or LOG_LOCAL0 to "
			    "LOG_LOCAL7)", arg);
		c->syslog = arg;
		return 1;
	case MF_OPT_TIMEOUT:
		if (mf_parse_long(arg, 1, CLI_TIMEOUT_MAX, &n) == -1)
			return mf_err_set(e, MF_E_USAGE, "--timeout: bad value '%s'"
			    " (seconds, 1 to %d)", arg, CLI_TIMEOUT_MAX);
		c->timeout = (int)n;
		return 1;
	}
	return 0;
}

static const char **
string_slot(struct mf_cli *c, int opt)
{
	switch (opt) {
	case 'a': return &c->account;
	case 'u': return &c->user;
	case MF_OPT_CONFIG: return &c->config;
	case MF_OPT_TLS_TRUST_FILE: return &c->trust_file;
	case MF_OPT_TLS_FINGERPRINT: return &c->fingerprint;
	case MF_OPT_TLS_CERT: return &c->cert;
	case MF_OPT_TLS_KEY: return &c->key;
	case MF_OPT_TLS_PRIORITY: return &c->priority;
	case MF_OPT_SNI: return &c->sni;
	case MF_OPT_AUTH: return &c->auth;
	case MF_OPT_PASSWORDEVAL: return &c->passwordeval;
	case MF_OPT_LOGFILE: return &c->logfile;
	}
	return NULL;
}

static const char *
option_name(int opt)
{
	static const struct option longopts[] = { MF_CLI_LONGOPTS,
	    MF_CLI_LOGOPTS };
	size_t i;

	for (i = 0; i < sizeof(longopts) / sizeof(longopts[0]); i++)
		if (longopts[i].val == opt)
			return longopts[i].name;
	return "?";
}

int
mf_cli_option(struct mf_cli *c, int opt, const char *arg, struct mf_err *e)
{
	const char **slot;
	int r;

	switch (opt) {
	case 'v':
		c->verbose++;
		return 1;
	case MF_OPT_INSECURE:
		c->insecure = 1;
		return 1;
	case MF_OPT_SHOW_SECRETS:
		c->show_secrets = 1;
		return 1;
	}
	if ((r = option_value(c, opt, arg, e)) != 0)
		return r;
	if ((slot = string_slot(c, opt)) == NULL)
		return 0;
	if (arg == NULL || arg[0] == '\0')
		return mf_err_set(e, MF_E_USAGE, "--%s: the value must not be"
		    " empty", option_name(opt));
	*slot = arg;
	return 1;
}

static const char *
pick(const char *cmdline, const char *acct)
{
	return cmdline != NULL ? cmdline : acct;
}

static int
merge_server(const struct mf_cli *c, const struct mf_account *a,
             struct mf_settings *s, struct mf_err *e)
{
	if (a->host != NULL &&
	    mf_strlcpy(s->host, a->host, sizeof(s->host)) >= sizeof(s->host))
		return mf_err_set(e, MF_E_CONFIG, "%s: host name too long",
		    a->source ? a->source : "config");
	if (a->port != 0)
		snprintf(s->port, sizeof(s->port), "%d", a->port);
	/* "unix:/path": a local socket, no port. */
	if (mf_sock_unix_path(c->server) != NULL) {
		if (mf_strlcpy(s->host, c->server, sizeof(s->host)) >=
		    sizeof(s->host))
			return mf_err_set(e, MF_E_USAGE, "--server: socket path "
			    "too long");
	} else if (c->server != NULL && mf_sock_split_hostport(c->server, s->host,
	    sizeof(s->host), s->port, sizeof(s->port), e) == -1)
		return mf_err_set(e, MF_E_USAGE, "--server: bad value '%s'",
		    c->server);
	if (c->port != NULL)
		mf_strlcpy(s->port, c->port, sizeof(s->port));
	return 0;
}

static int
merge_tls(const struct mf_cli *c, const struct mf_account *a,
          struct mf_settings *s, struct mf_err *e)
{
	struct mf_tls_params *t = &s->tlsp;

	s->tls = a->tls;
	if (c->tls != NULL && mf_tls_mode_parse(c->tls, &s->tls) == -1)
		return mf_err_set(e, MF_E_USAGE, "--tls: bad value '%s'", c->tls);
	t->verify_name = s->host[0] != '\0' ? s->host : NULL;
	t->sni = c->sni;
	t->ca_file = pick(c->trust_file, a->tls_trust_file);
	t->fingerprint = pick(c->fingerprint, a->tls_fingerprint);
	t->cert_file = pick(c->cert, a->tls_cert_file);
	t->key_file = pick(c->key, a->tls_key_file);
	t->min_version = pick(c->min_version, a->tls_min_version);
	if (t->min_version != NULL && (strcmp(t->min_version, "1.0") == 0 ||
	    strcmp(t->min_version, "1.1") == 0))
		mf_cli_msg(stderr, program_invocation_short_name, "warning: TLS "
		    "minimum version %s: TLS 1.0 and 1.1 are deprecated (RFC "
		    "8996); the default is %s", t->min_version,
		    MF_TLS_MIN_DEFAULT);
	t->priority = pick(c->priority, a->tls_priority);
	t->insecure = c->insecure || a->tls_insecure;
	return 0;
}

/* The configuration's warnings, and under -v the file read. */
static void
tell_config(const struct mf_cli *c, const struct mf_config *cfg)
{
	const char *w, *path = mf_config_path(cfg);
	char note[4200];
	size_t i;

	if (c->notice == NULL)
		return;
	if (c->verbose && mf_config_is_peer_file(cfg)) {
		mf_fmt(note, sizeof(note), "no mailflow configuration file: "
		    "reading %s (%s format)", path, c->peer == MF_CONFIG_PEER_MSMTP
		    ? "msmtp" : "mpop");
		c->notice(c->notice_arg, note);
	} else if (c->verbose) {
		mf_fmt(note, sizeof(note), "configuration: %s", path[0] ? path :
		    "none (command line only)");
		c->notice(c->notice_arg, note);
	}
	for (i = 0; (w = mf_config_warning(cfg, i)) != NULL; i++) {
		mf_fmt(note, sizeof(note), "warning: %s", w);
		c->notice(c->notice_arg, note);
	}
}

int
mf_cli_resolve(const struct mf_cli *c, const char *account_arg,
               struct mf_settings *s, struct mf_err *e)
{
	const struct mf_account *a;
	const char *name = c->account != NULL ? c->account : account_arg;
	int timeout;

	memset(s, 0, sizeof(*s));
	if ((s->cfg = mf_config_load_for(c->config, c->peer, e)) == NULL)
		return -1;
	tell_config(c, s->cfg);
	if ((a = mf_config_account(s->cfg, name, e)) == NULL)
		goto fail;
	/* The defaults alone (no account selected or configured) are not an
	 * account; their values still apply. */
	s->acct = a->name != NULL ? a : NULL;
	s->conf = a;
	if (merge_server(c, a, s, e) == -1 || merge_tls(c, a, s, e) == -1)
		goto fail;
	s->user = pick(c->user, a->user);
	s->auth = pick(c->auth, a->auth);
	s->passwordeval = pick(c->passwordeval, a->passwordeval);
	s->password = c->passwordeval != NULL ? NULL : a->password;
	s->from = a->from;
	s->maildir = a->maildir;
	s->state = a->state;
	s->queue = a->queue;
	s->ehlo = a->ehlo;
	s->logfile = pick(c->logfile, a->logfile);
	s->syslog = pick(c->syslog, a->syslog);
	s->aliases = a->aliases;
	s->protocol = a->protocol;
	s->folder_names = a->folder_names;
	s->mda = a->mda;
	s->keep = a->keep;
	s->only_new = a->only_new;
	timeout = c->timeout != 0 ? c->timeout : a->timeout;
	s->timeout_ms = timeout * 1000;
	s->verbose = c->verbose;
	s->show_secrets = c->show_secrets;
	return 0;
fail:
	mf_config_free(s->cfg);
	memset(s, 0, sizeof(*s));
	return -1;
}

void
mf_cli_settings_free(struct mf_settings *s)
{
	if (s == NULL)
		return;
	mf_config_free(s->cfg);
	memset(s, 0, sizeof(*s));
}

struct mf_maillog *
mf_cli_maillog(const struct mf_settings *s, const char *tool,
               struct mf_err *e)
{
	return mf_maillog_open(tool, s->logfile, s->syslog, e);
}


int
mf_cli_log_run(const struct mf_settings *s, const char *tool,
               struct mf_maillog_line *l, int status,
               const struct mf_err *why, struct mf_err *e)
{
	struct mf_maillog *lg;
	char ex[16];
	int rc;

	if ((lg = mf_cli_maillog(s, tool, e)) == NULL)
		return e->kind == MF_OK ? 0 : -1;
	if (status != 0 && why != NULL)
		mf_maillog_add(l, "errormsg", why->msg);
	mf_maillog_add(l, "exitcode", mf_maillog_exit_name(status, ex,
	    sizeof(ex)));
	rc = mf_maillog_write(lg, l, status != 0, e);
	mf_maillog_close(lg);
	return rc;
}


