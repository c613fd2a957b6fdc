/* hookrun.h - run a shell command from a Criterion PRE_ALL hook, where
 * cr_assert cannot be used (test fixtures made by certtool, openssl ...):
 * the first failure is printed and remembered in *failed, and later
 * commands are skipped; the tests then fail on the missing fixtures. */
#ifndef MF_TEST_HOOKRUN_H
#define MF_TEST_HOOKRUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void
hook_run(int *failed, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), unused));

static void
hook_run(int *failed, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	if (*failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		*failed = 1;
	}
}

#endif
