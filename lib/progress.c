/* progress.c - progress bar formatting. */
#include "progress.h"

#include <stdio.h>
#include <string.h>

void
mf_progress_format(char *out, size_t outlen, const char *label,
                   unsigned long done, unsigned long total,
                   unsigned long long bytes)
{
	char bar[MF_PROGRESS_WIDTH + 1], size[32] = "";
	unsigned long shown = done > total ? total : done;
	size_t i, fill = 0;
	unsigned pct = 0;

	if (outlen == 0)
		return;
	if (total > 0) {
		fill = (size_t)((unsigned long long)shown * MF_PROGRESS_WIDTH / total);
		pct = (unsigned)((unsigned long long)shown * 100 / total);
	}
	for (i = 0; i < MF_PROGRESS_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[MF_PROGRESS_WIDTH] = '\0';
	if (bytes > 0)
		snprintf(size, sizeof(size), ", %.1f MiB", (double)bytes / 1048576.0);
	snprintf(out, outlen, "[%s] %3u%% %s%s%lu/%lu%s", bar, pct,
	    label ? label : "", label && *label ? " " : "", done, total, size);
}

enum mf_progress_mode
mf_progress_mode(int quiet, int asked, int is_tty)
{
	if (quiet)
		return MF_PROGRESS_OFF;
	if (is_tty)
		return MF_PROGRESS_BAR;
	return asked ? MF_PROGRESS_LINES : MF_PROGRESS_OFF;
}

void
mf_progress_start(struct mf_progress *p, enum mf_progress_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last_ms = -MF_PROGRESS_LINE_MS;
}

static long long
since_start(const struct mf_progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - p->start.tv_sec) * 1000 +
	    (now.tv_nsec - p->start.tv_nsec) / 1000000;
}

void
mf_progress_rate(char *out, size_t outlen, unsigned long done,
                 unsigned long total, unsigned long long bytes,
                 long long elapsed_ms)
{
	size_t n = strlen(out);
	long long left;

	if (elapsed_ms <= 0 || done == 0 || n + 1 >= outlen)
		return;
	if (bytes > 0)
		snprintf(out + n, outlen - n, ", %.1f MiB/s",
		    (double)bytes / 1048576.0 * 1000.0 / (double)elapsed_ms);
	else
		snprintf(out + n, outlen - n, ", %.1f/s",
		    (double)done * 1000.0 / (double)elapsed_ms);
	n = strlen(out);
	if (total <= done || n + 1 >= outlen)
		return;
	left = (long long)(total - done) * elapsed_ms / (long long)done / 1000;
	snprintf(out + n, outlen - n, ", %lld:%02lld left", left / 60, left % 60);
}

const char *
mf_progress_update(struct mf_progress *p, char *out, size_t outlen,
                   const char *label, unsigned long done, unsigned long total,
                   unsigned long long bytes)
{
	static const char erase[] = "\r\033[K";
	long long now;
	size_t pre;

	if (p->mode == MF_PROGRESS_OFF || outlen <= sizeof(erase) + 1)
		return NULL;
	now = since_start(p);
	if (p->mode == MF_PROGRESS_LINES && now - p->last_ms <
	    MF_PROGRESS_LINE_MS && done < total)
		return NULL;
	p->last_ms = now;
	pre = p->mode == MF_PROGRESS_BAR ? sizeof(erase) - 1 : 0;
	memcpy(out, erase, pre);
	mf_progress_format(out + pre, outlen - pre - 1, label, done, total,
	    bytes);
	mf_progress_rate(out + pre, outlen - pre - 1, done, total, bytes, now);
	if (p->mode == MF_PROGRESS_LINES)
		memcpy(out + strlen(out), "\n", 2);
	p->drawn = p->mode == MF_PROGRESS_BAR;
	return out;
}

const char *
mf_progress_clear(struct mf_progress *p)
{
	if (!p->drawn)
		return "";
	p->drawn = 0;
	return "\r\033[K";
}
