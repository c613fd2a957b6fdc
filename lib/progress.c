/* progress.c - progress bar formatting. */
#include "progress.h"

#include <stdio.h>

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
