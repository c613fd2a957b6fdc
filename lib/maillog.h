/* maillog.h - the admin's log: one line per message (mailsend) or per run
 * (pop-fetch, imap-sync), to a log file and/or syslog, the way msmtp's
 * `logfile` and `syslog` settings work, for grepping when cron mail goes
 * missing.
 *
 * A line is built from "key=value" fields in the order they are added
 * (host=... tls=... from=... recipients=... mailsize=... smtpstatus=...
 * exitcode=EX_OK); a value with blanks or quotes is single-quoted, and
 * control characters become '?', so a hostile server reply cannot forge
 * a second line.  The caller decides what goes in: nothing here knows
 * about secrets, so callers never add a password, token or AUTH data.
 *
 * The log file gets "Mon DD HH:MM:SS TOOL FIELDS\n", appended with one
 * write(2) on a file opened O_APPEND for each line (so several tools and
 * logrotate can share it); "-" is the standard output.  syslog gets
 * FIELDS under the tool's name, LOG_INFO for success, LOG_ERR for failure,
 * with the facility chosen ("on" is LOG_MAIL, as in msmtp).
 *
 * Must not: split a line over several writes, let a control character
 * through, or exit. */
#ifndef MF_MAILLOG_H
#define MF_MAILLOG_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define MF_MAILLOG_LINE_MAX 4096

/* Parse a syslog setting: "on" (LOG_MAIL), "off", or a facility name
 * LOG_USER, LOG_MAIL, LOG_LOCAL0 .. LOG_LOCAL7 (the LOG_ prefix is
 * optional, any case).  *facility is the syslog(3) facility, or -1 for
 * "off".  -1 on anything else. */
int mf_maillog_facility(const char *s, int *facility);

/* One line being built.  Fields that do not fit are dropped whole and
 * the line ends in "truncated=yes". */
struct mf_maillog_line {
	char text[MF_MAILLOG_LINE_MAX];
	size_t len;
	int truncated;
};

void mf_maillog_line_init(struct mf_maillog_line *l);
/* Append " key=value"; a NULL value adds nothing. */
void mf_maillog_add(struct mf_maillog_line *l, const char *key,
                    const char *value);
void mf_maillog_addf(struct mf_maillog_line *l, const char *key,
                     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append " recipients=a,b,c" from a list. */
void mf_maillog_add_list(struct mf_maillog_line *l, const char *key,
                         const char *const *v, size_t n);

/* The sysexits(3) name of a status for the exitcode field ("EX_OK",
 * "EX_TEMPFAIL" ...; "EX_<number>" for others). */
const char *mf_maillog_exit_name(int status, char *buf, size_t buflen);

struct mf_maillog;

/* A log for tool (its name, borrowed) writing to logfile (NULL: none)
 * and syslog (NULL or "off": none; else as mf_maillog_facility).  Both
 * strings are copied.  Nothing is opened yet.  MF_E_CONFIG for a bad
 * syslog value.  Returns NULL also when both are off (nothing to log):
 * check e->kind, MF_OK then. */
struct mf_maillog *mf_maillog_open(const char *tool, const char *logfile,
                                   const char *syslog, struct mf_err *e);
/* Write the line (failed: the run or message failed).  Both sinks are
 * tried; -1 with MF_E_IO naming the file when the log file cannot be
 * opened or written.  lg may be NULL (then nothing is done, 0). */
int mf_maillog_write(struct mf_maillog *lg, const struct mf_maillog_line *l,
                     int failed, struct mf_err *e);
/* The text written to the log file for l at time t, without the newline
 * (for tests and for the tools' -v). */
void mf_maillog_format(const struct mf_maillog *lg,
                       const struct mf_maillog_line *l, time_t t, char *out,
                       size_t outlen);
/* NULL is fine. */
void mf_maillog_close(struct mf_maillog *lg);

#endif
