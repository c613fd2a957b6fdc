/* maillog.c - msmtp-style log lines to a file and/or syslog. */
#include "maillog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"

struct mf_maillog {
	char tool[32];
	char *logfile;       /* NULL: no file; "-": standard output */
	int facility;        /* -1: no syslog */
	int opened;          /* openlog() done */
};

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "on", LOG_MAIL }, { "mail", LOG_MAIL }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
mf_maillog_facility(const char *s, int *facility)
{
	size_t i;

	if (s == NULL)
		return -1;
	if (strcasecmp(s, "off") == 0)
		return *facility = -1, 0;
	if (strncasecmp(s, "LOG_", 4) == 0 && strcasecmp(s + 4, "on") != 0)
		s += 4;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(s, facilities[i].name) == 0)
			return *facility = facilities[i].facility, 0;
	return -1;
}

void
mf_maillog_line_init(struct mf_maillog_line *l)
{
	l->text[0] = '\0';
	l->len = 0;
	l->truncated = 0;
}

/* Room kept for " truncated=yes". */
#define TAIL_ROOM 16

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v != '\0'; v++)
		if (*v == ' ' || *v == '\t' || *v == '\'' || *v == '"' ||
		    *v == '=' || (unsigned char)*v < 0x20 || *v == 0x7f)
			return 1;
	return 0;
}

/* Render " key=value" into out; -1 when it does not fit. */
static int
render(const char *key, const char *v, char *out, size_t outlen)
{
	size_t n = 0;
	int q = needs_quotes(v);
	int k = snprintf(out, outlen, " %s=%s", key, q ? "'" : "");

	if (k < 0 || (size_t)k >= outlen)
		return -1;
	n = (size_t)k;
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (n + 3 >= outlen)
			return -1;
		if (c < 0x20 || c == 0x7f)
			out[n++] = '?';
		else if (c == '\'') {
			/* 'it'\''s' would be shell; a doubled quote reads better */
			out[n++] = '\'';
			out[n++] = '\'';
		} else
			out[n++] = (char)c;
	}
	if (q)
		out[n++] = '\'';
	out[n] = '\0';
	return (int)n;
}

void
mf_maillog_add(struct mf_maillog_line *l, const char *key, const char *value)
{
	char field[MF_MAILLOG_LINE_MAX];
	int n;

	if (value == NULL)
		return;
	n = render(key, value, field, sizeof(field));
	if (n == -1 || l->len + (size_t)n + TAIL_ROOM >= sizeof(l->text)) {
		if (!l->truncated) {
			l->truncated = 1;
			mf_strlcpy(l->text + l->len, " truncated=yes",
			    sizeof(l->text) - l->len);
			l->len += strlen(l->text + l->len);
		}
		return;
	}
	if (l->truncated)
		return;
	memcpy(l->text + l->len, field, (size_t)n + 1);
	l->len += (size_t)n;
}

void
mf_maillog_addf(struct mf_maillog_line *l, const char *key, const char *fmt,
                ...)
{
	char v[MF_MAILLOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	mf_maillog_add(l, key, v);
}

void
mf_maillog_add_list(struct mf_maillog_line *l, const char *key,
                    const char *const *v, size_t n)
{
	char all[MF_MAILLOG_LINE_MAX];
	size_t i, len = 0;

	all[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t k = strlen(v[i]);

		if (len + k + 2 >= sizeof(all))
			break;
		if (i > 0)
			all[len++] = ',';
		memcpy(all + len, v[i], k + 1);
		len += k;
	}
	mf_maillog_add(l, key, all);
}

const char *
mf_maillog_exit_name(int status, char *buf, size_t buflen)
{
	static const struct {
		int st;
		const char *name;
	} names[] = {
		{ EX_OK, "EX_OK" }, { EX_USAGE, "EX_USAGE" },
		{ EX_DATAERR, "EX_DATAERR" }, { EX_NOINPUT, "EX_NOINPUT" },
		{ EX_NOUSER, "EX_NOUSER" }, { EX_NOHOST, "EX_NOHOST" },
		{ EX_UNAVAILABLE, "EX_UNAVAILABLE" },
		{ EX_SOFTWARE, "EX_SOFTWARE" }, { EX_OSERR, "EX_OSERR" },
		{ EX_OSFILE, "EX_OSFILE" }, { EX_CANTCREAT, "EX_CANTCREAT" },
		{ EX_IOERR, "EX_IOERR" }, { EX_TEMPFAIL, "EX_TEMPFAIL" },
		{ EX_PROTOCOL, "EX_PROTOCOL" }, { EX_NOPERM, "EX_NOPERM" },
		{ EX_CONFIG, "EX_CONFIG" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].st == status)
			return names[i].name;
	mf_fmt(buf, buflen, "EX_%d", status);
	return buf;
}

struct mf_maillog *
mf_maillog_open(const char *tool, const char *logfile, const char *syslog_,
                struct mf_err *e)
{
	struct mf_maillog *lg;
	int fac = -1;

	mf_err_clear(e);
	if (syslog_ != NULL && mf_maillog_facility(syslog_, &fac) == -1) {
		mf_err_set(e, MF_E_CONFIG, "syslog: bad value '%s' (on, off, "
		    "LOG_USER, LOG_MAIL or LOG_LOCAL0 to LOG_LOCAL7)", syslog_);
		return NULL;
	}
	if ((logfile == NULL || logfile[0] == '\0') && fac == -1)
		return NULL;
	if ((lg = calloc(1, sizeof(*lg))) == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "log");
		return NULL;
	}
	mf_strlcpy(lg->tool, tool, sizeof(lg->tool));
	lg->facility = fac;
	if (logfile != NULL && logfile[0] != '\0' &&
	    (lg->logfile = strdup(logfile)) == NULL) {
		free(lg);
		mf_err_sys(e, MF_E_NOMEM, errno, "log");
		return NULL;
	}
	return lg;
}

void
mf_maillog_format(const struct mf_maillog *lg, const struct mf_maillog_line *l,
                  time_t t, char *out, size_t outlen)
{
	struct tm tm;
	char when[32];

	/* msmtp's log time format, local time: "Dec 06 14:36:09". */
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%b %d %H:%M:%S", &tm) == 0)
		mf_strlcpy(when, "-", sizeof(when));
	mf_fmt(out, outlen, "%s %s%s", when, lg->tool, l->text);
}

static int
write_file(const struct mf_maillog *lg, const struct mf_maillog_line *l,
           struct mf_err *e)
{
	char text[MF_MAILLOG_LINE_MAX + 64];
	size_t n;
	ssize_t w;
	int fd, std = strcmp(lg->logfile, "-") == 0;

	mf_maillog_format(lg, l, time(NULL), text, sizeof(text) - 1);
	n = strlen(text);
	text[n++] = '\n';
	fd = std ? STDOUT_FILENO : open(lg->logfile, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "cannot open the log file "
		    "%s", lg->logfile);
	/* One write on an O_APPEND file: lines of concurrent runs do not
	 * interleave. */
	do
		w = write(fd, text, n);
	while (w == -1 && errno == EINTR);
	if (w == -1 || (size_t)w != n) {
		int err = w == -1 ? errno : ENOSPC;

		if (!std)
			close(fd);
		return mf_err_sys(e, MF_E_IO, err, "cannot write the log file "
		    "%s", lg->logfile);
	}
	if (!std && close(fd) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "cannot write the log "
		    "file %s", lg->logfile);
	return 0;
}

int
mf_maillog_write(struct mf_maillog *lg, const struct mf_maillog_line *l,
                 int failed, struct mf_err *e)
{
	int rc = 0;

	if (lg == NULL)
		return 0;
	if (lg->facility != -1) {
		if (!lg->opened) {
			openlog(lg->tool, LOG_PID, lg->facility);
			lg->opened = 1;
		}
		/* The line starts with a blank (" key=..."): skip it. */
		syslog((failed ? LOG_ERR : LOG_INFO) | lg->facility, "%s",
		    l->text[0] == ' ' ? l->text + 1 : l->text);
	}
	if (lg->logfile != NULL)
		rc = write_file(lg, l, e);
	return rc;
}

void
mf_maillog_close(struct mf_maillog *lg)
{
	if (lg == NULL)
		return;
	if (lg->opened)
		closelog();
	free(lg->logfile);
	free(lg);
}
