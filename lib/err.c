/* err.c - error recording and the sysexits map. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

void
mf_err_clear(struct mf_err *e)
{
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

/* err.c sits below buf.c, so it keeps its own bounded copy. */
static void
copy_bounded(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void __attribute__((format(printf, 3, 0)))
vset(struct mf_err *e, enum mf_err_kind kind, const char *fmt, va_list ap)
{
	e->kind = kind;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int
mf_err_set(struct mf_err *e, enum mf_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	mf_err_clear(e);
	va_start(ap, fmt);
	vset(e, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int
mf_err_sys(struct mf_err *e, enum mf_err_kind kind, int errnum,
           const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	mf_err_clear(e);
	va_start(ap, fmt);
	vset(e, kind, fmt, ap);
	va_end(ap);
	e->sys_errno = errnum;
	n = strlen(e->msg);
	if (n + 3 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 3);
		copy_bounded(e->msg + n + 2, strerror(errnum),
		    sizeof(e->msg) - n - 2);
	}
	return -1;
}

int
mf_err_reply(struct mf_err *e, enum mf_err_kind kind, int code,
             const char *enhanced, const char *text, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	mf_err_clear(e);
	va_start(ap, fmt);
	vset(e, kind, fmt, ap);
	va_end(ap);
	e->reply_code = code;
	snprintf(e->enhanced, sizeof(e->enhanced), "%s", enhanced ? enhanced : "");
	snprintf(e->reply, sizeof(e->reply), "%s", text ? text : "");
	return -1;
}

void
mf_err_prefix(struct mf_err *e, const char *fmt, ...)
{
	char old[MF_ERR_MSG_MAX];
	size_t n;
	va_list ap;

	if (e == NULL)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (n + 3 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 3);
		n += 2;
		copy_bounded(e->msg + n, old, sizeof(e->msg) - n);
	}
}

static const struct {
	const char *name;
	int exit_code;
} kinds[] = {
	[MF_OK]            = { "ok", EX_OK },
	[MF_E_USAGE]       = { "usage", EX_USAGE },
	[MF_E_DATA]        = { "data", EX_DATAERR },
	[MF_E_NOHOST]      = { "no-host", EX_UNAVAILABLE },
	[MF_E_CONNECT]     = { "connect", EX_TEMPFAIL },
	[MF_E_TIMEOUT]     = { "timeout", EX_TEMPFAIL },
	[MF_E_CLOSED]      = { "closed", EX_TEMPFAIL },
	[MF_E_TLS]         = { "tls", EX_UNAVAILABLE },
	[MF_E_TLS_VERIFY]  = { "tls-verify", EX_UNAVAILABLE },
	[MF_E_PROTO]       = { "protocol", EX_PROTOCOL },
	[MF_E_TEMP]        = { "temporary", EX_TEMPFAIL },
	[MF_E_PERM]        = { "permanent", EX_UNAVAILABLE },
	[MF_E_AUTH]        = { "auth", EX_NOPERM },
	[MF_E_IO]          = { "io", EX_IOERR },
	[MF_E_NOMEM]       = { "no-memory", EX_OSERR },
	[MF_E_LIMIT]       = { "limit", EX_PROTOCOL },
	[MF_E_CONFIG]      = { "config", EX_CONFIG },
	[MF_E_UNSUPPORTED] = { "unsupported", EX_UNAVAILABLE },
	[MF_E_INTERNAL]    = { "internal", EX_SOFTWARE },
	[MF_E_NOUSER]      = { "no-user", EX_NOUSER },
};

int
mf_err_kind_exit(enum mf_err_kind kind)
{
	if ((size_t)kind >= sizeof(kinds) / sizeof(kinds[0]))
		return EX_SOFTWARE;
	return kinds[kind].exit_code;
}

int
mf_err_exit_code(const struct mf_err *e)
{
	return e == NULL ? EX_SOFTWARE : mf_err_kind_exit(e->kind);
}

const char *
mf_err_kind_name(enum mf_err_kind kind)
{
	if ((size_t)kind >= sizeof(kinds) / sizeof(kinds[0]))
		return "unknown";
	return kinds[kind].name;
}
