/* cli.h - what the client tools' command lines share: the account, the
 * server, TLS and credential options, merged over the config file.
 *
 * A tool adds MF_CLI_LONGOPTS to its getopt_long table and MF_CLI_SHORTOPTS
 * to its short option string, passes every option to mf_cli_option() first,
 * then calls mf_cli_resolve() to get the effective settings: command line
 * over account over defaults.  Passwords are never options.
 *
 * Must not: speak a protocol or reach past the protocol modules into the
 * transport, or exit; it prints only to the FILE a tool hands it. */
#ifndef MF_CLI_H
#define MF_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "cred.h"
#include "err.h"
#include "json.h"
#include "maillog.h"
#include "settings.h"
#include "tls.h"

enum {
	MF_OPT_CONFIG = 1000,
	MF_OPT_TLS,
	MF_OPT_TLS_TRUST_FILE,
	MF_OPT_TLS_FINGERPRINT,
	MF_OPT_TLS_CERT,
	MF_OPT_TLS_KEY,
	MF_OPT_TLS_MIN_VERSION,
	MF_OPT_TLS_PRIORITY,
	MF_OPT_INSECURE,
	MF_OPT_AUTH,
	MF_OPT_PASSWORDEVAL,
	MF_OPT_TIMEOUT,
	MF_OPT_SHOW_SECRETS,
	MF_OPT_SNI,
	MF_OPT_LOGFILE,
	MF_OPT_SYSLOG,
	MF_OPT_TOOL_BASE = 1100   /* tools number their own long options from here */
};

/* -a ACCOUNT, -s HOST[:PORT], -p PORT, -u USER, -v, -h, -V */
#define MF_CLI_SHORTOPTS "a:s:p:u:v" MF_CLI_STDSHORT

/* What every tool has, mxprobe included: -h/--help, -V/--version. */
#define MF_CLI_STDSHORT "hV"
#define MF_CLI_STDLONGOPTS \
	{ "help",             no_argument,       NULL, 'h' }, \
	{ "version",          no_argument,       NULL, 'V' }

#define MF_CLI_LONGOPTS \
	{ "account",          required_argument, NULL, 'a' }, \
	{ "config",           required_argument, NULL, MF_OPT_CONFIG }, \
	{ "server",           required_argument, NULL, 's' }, \
	{ "port",             required_argument, NULL, 'p' }, \
	{ "user",             required_argument, NULL, 'u' }, \
	{ "verbose",          no_argument,       NULL, 'v' }, \
	{ "tls",              required_argument, NULL, MF_OPT_TLS }, \
	{ "tls-trust-file",   required_argument, NULL, MF_OPT_TLS_TRUST_FILE }, \
	{ "tls-fingerprint",  required_argument, NULL, MF_OPT_TLS_FINGERPRINT }, \
	{ "tls-cert",         required_argument, NULL, MF_OPT_TLS_CERT }, \
	{ "tls-key",          required_argument, NULL, MF_OPT_TLS_KEY }, \
	{ "tls-min-version",  required_argument, NULL, MF_OPT_TLS_MIN_VERSION }, \
	{ "tls-priority",     required_argument, NULL, MF_OPT_TLS_PRIORITY }, \
	{ "insecure",         no_argument,       NULL, MF_OPT_INSECURE }, \
	{ "sni",              required_argument, NULL, MF_OPT_SNI }, \
	{ "auth",             required_argument, NULL, MF_OPT_AUTH }, \
	{ "passwordeval",     required_argument, NULL, MF_OPT_PASSWORDEVAL }, \
	{ "timeout",          required_argument, NULL, MF_OPT_TIMEOUT }, \
	{ "show-secrets",     no_argument,       NULL, MF_OPT_SHOW_SECRETS }, \
	MF_CLI_STDLONGOPTS

/* The log options (maillog.h) of the tools that send or fetch mail:
 * --logfile FILE, --syslog on|off|FACILITY. */
#define MF_CLI_LOGOPTS \
	{ "logfile",          required_argument, NULL, MF_OPT_LOGFILE }, \
	{ "syslog",           required_argument, NULL, MF_OPT_SYSLOG }

/* The options' help text, for a tool's --help (one option per line);
 * mf_cli_log_usage for MF_CLI_LOGOPTS. */
extern const char mf_cli_usage[];
extern const char mf_cli_log_usage[];

/* getopt_long() with one error path for every tool: getopt's own messages
 * are off (opterr = 0); on an unknown option, a missing or an unexpected
 * value it returns '?' with e set (MF_E_USAGE) to a message naming the
 * option as the user wrote it ("unknown option -b in -bs", "option --to
 * needs a value").  Otherwise as getopt_long(): the option, or -1. */
int mf_cli_getopt(int argc, char *const argv[], const char *shortopts,
                  const struct option *longopts, struct mf_err *e);

/* The one usage-error line: "TOOL: MESSAGE; see TOOL --help" on f (the
 * message escaped for the terminal).  Returns EX_USAGE (64) for
 * "return mf_cli_usage_error(stderr, ...)". */
int mf_cli_usage_error(FILE *f, const char *tool, const char *msg);

/* Every other line a tool writes about a run: "TOOL: MESSAGE" on f, the
 * whole message escaped (esc.h), since it may quote the server. */
void mf_cli_msg(FILE *f, const char *tool, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The failure line "TOOL: e->msg" (escaped) and the exit status for e
 * (mf_err_exit_code: the one policy, mailflow(7)). */
int mf_cli_fail(FILE *f, const char *tool, const struct mf_err *e);

/* --json has one shape in every tool (mailflow(7); the JSON Schema is
 * man/mailflow.schema.json): the tool's last object is its summary.
 * mf_cli_json_begin() opens it with "type": "summary", "tool" and
 * "version"; the tool adds its results; mf_cli_json_end() adds "exit",
 * "elapsed_ms" (integer milliseconds) and, when e holds a
 * failure, "error": {"kind", "message"}, and closes it.  The same error
 * object is written by mf_cli_json_error() wherever a tool reports one. */
void mf_cli_json_begin(struct mf_json *j, const char *tool);
void mf_cli_json_end(struct mf_json *j, int exit_status, long long elapsed_ms,
                     const struct mf_err *e);
void mf_cli_json_error(struct mf_json *j, enum mf_err_kind kind,
                       const char *message);

/* A host or domain name in --json: under key the form used on the wire
 * (A-labels, mf_idn_wire_name()), and under key + "_unicode" its U-label
 * form when it has one (an IDN, typed in UTF-8 or as xn-- labels).  The
 * one rule for every name of every tool (mailflow(7)). */
void mf_cli_json_name(struct mf_json *j, const char *key, const char *name);

/* Milliseconds of CLOCK_MONOTONIC since *start. */
long long mf_cli_elapsed_ms(const struct timespec *start);

/* The release, "X.Y.Z" or "X.Y.Z (gHASH)" when built from a git checkout. */
const char *mf_cli_version(void);

/* --version: "TOOL (mailflow) X.Y.Z ..." and a newline on f. Returns 0. */
int mf_cli_print_version(FILE *f, const char *tool);

/* What the command line said (NULL/0: not given). */
struct mf_cli {
	const char *account, *config, *server, *port, *user;
	const char *tls, *trust_file, *fingerprint, *cert, *key;
	const char *min_version, *priority, *sni, *auth, *passwordeval;
	const char *logfile, *syslog;
	enum mf_config_peer peer;    /* whose file to read when mailflow has
	                                none: msmtp's (mailsend), mpop's */
	void (*notice)(void *arg, const char *msg);  /* the config's warnings,
	                                and under -v which file was read */
	void *notice_arg;
	int insecure, timeout, show_secrets, verbose;
};

/* Handle opt/arg if it is one of the shared options: returns 1 if it was
 * (the value stored in c), 0 if it is the tool's own, -1 on a bad value
 * (MF_E_USAGE with a message). Options given twice: the last one wins,
 * except -v, which counts. */
int mf_cli_option(struct mf_cli *c, int opt, const char *arg, struct mf_err *e);

/* The effective settings of one run: struct mf_settings (settings.h). */

/* Load the config (c->config or the default search), select c->account
 * (or `account_arg`, a positional ACCOUNT, when c->account is NULL; or the
 * default account) and merge the command line over it. MF_E_CONFIG for a
 * config error or unknown account, MF_E_USAGE for bad option values. */
int mf_cli_resolve(const struct mf_cli *c, const char *account_arg,
                   struct mf_settings *s, struct mf_err *e);

/* With certificate verification off (--insecure, tls_insecure), the
 * warning every run of a tool that connects gives on f; else nothing. */
void mf_cli_warn_insecure(FILE *f, const char *tool,
                          const struct mf_settings *s);

void mf_cli_settings_free(struct mf_settings *s);

/* The run's log (maillog.h) from s->logfile and s->syslog, under the
 * tool's name: NULL without error when neither is set. */
struct mf_maillog *mf_cli_maillog(const struct mf_settings *s,
                                  const char *tool, struct mf_err *e);

/* End a one-per-run line with errormsg= (why->msg, when status is not 0)
 * and exitcode=, and write it to the settings' log (opened and closed
 * here).  0 also when no log is configured; -1 with e when the log
 * cannot be written. */
int mf_cli_log_run(const struct mf_settings *s, const char *tool,
                   struct mf_maillog_line *l, int status,
                   const struct mf_err *why, struct mf_err *e);


#endif
