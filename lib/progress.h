/* progress.h - the progress bar the tools draw on a terminal.
 *
 * Pure formatting: the tool prints the line (after "\r\033[K") on stderr
 * when stderr is a terminal; lib/ itself never prints.
 *
 * Must not: print or exit (the tool prints the line). */
#ifndef MF_PROGRESS_H
#define MF_PROGRESS_H

#include <stddef.h>
#include <time.h>

#define MF_PROGRESS_WIDTH 30   /* cells of the bar */

/* Write "[#########.....................]  30% LABEL 600/2000, 4.2 MiB"
 * into out (always NUL-terminated, truncated to fit). label may be NULL or
 * "" (then left out); bytes is shown when non-zero. done above total is
 * shown as a full bar; total 0 as an empty one. */
void mf_progress_format(char *out, size_t outlen, const char *label,
                        unsigned long done, unsigned long total,
                        unsigned long long bytes);

/* How a tool shows progress on stderr (the one behaviour of pop-fetch and
 * imap-sync): nothing with -q, or when stderr is not a terminal and
 * --progress was not asked; a bar redrawn in place on a terminal (the
 * default); plain lines, at most one per MF_PROGRESS_LINE_MS, when stderr
 * is not a terminal but --progress was asked: never an escape sequence
 * into a pipe or a cron mail. */
enum mf_progress_mode { MF_PROGRESS_OFF, MF_PROGRESS_BAR, MF_PROGRESS_LINES };
#define MF_PROGRESS_LINE_MS 5000

enum mf_progress_mode mf_progress_mode(int quiet, int asked, int is_tty);

struct mf_progress {
	enum mf_progress_mode mode;
	struct timespec start;
	long long last_ms;    /* when the last line was given out */
	int drawn;            /* a bar is on the screen */
};

void mf_progress_start(struct mf_progress *p, enum mf_progress_mode mode);

/* The text to write to stderr now for this state (the bar after "\r\033[K",
 * or a line with its newline), or NULL when nothing is due.  The line is
 * mf_progress_format()'s plus the rate and the time left:
 * "..., 1.2 MiB/s, 0:42 left" (messages per second when bytes is 0). */
const char *mf_progress_update(struct mf_progress *p, char *out, size_t outlen,
                               const char *label, unsigned long done,
                               unsigned long total, unsigned long long bytes);

/* What erases the bar before other output ("" when none is drawn). */
const char *mf_progress_clear(struct mf_progress *p);

/* Pure: the rate and the time left after elapsed_ms, appended to out. */
void mf_progress_rate(char *out, size_t outlen, unsigned long done,
                      unsigned long total, unsigned long long bytes,
                      long long elapsed_ms);

#endif
