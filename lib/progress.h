/* progress.h - the progress bar the tools draw on a terminal.
 *
 * Pure formatting: the tool prints the line (after "\r\033[K") on stderr
 * when stderr is a terminal; lib/ itself never prints. */
#ifndef MF_PROGRESS_H
#define MF_PROGRESS_H

#include <stddef.h>

#define MF_PROGRESS_WIDTH 30   /* cells of the bar */

/* Write "[#########.....................]  30% LABEL 600/2000, 4.2 MiB"
 * into out (always NUL-terminated, truncated to fit). label may be NULL or
 * "" (then left out); bytes is shown when non-zero. done above total is
 * shown as a full bar; total 0 as an empty one. */
void mf_progress_format(char *out, size_t outlen, const char *label,
                        unsigned long done, unsigned long total,
                        unsigned long long bytes);

#endif
