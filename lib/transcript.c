/* transcript.c - redacted, escaped protocol transcripts. */
#include "transcript.h"
#include "esc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mf_transcript {
	FILE *out;
	mf_transcript_fn fn;
	void *arg;
	unsigned flags;
	struct timespec start;
};

#define LINE_SHOW_MAX 4096

static struct mf_transcript *
alloc(unsigned flags)
{
	struct mf_transcript *tr = calloc(1, sizeof(*tr));

	if (tr != NULL) {
		tr->flags = flags;
		clock_gettime(CLOCK_MONOTONIC, &tr->start);
	}
	return tr;
}

struct mf_transcript *
mf_transcript_new(FILE *out, unsigned flags)
{
	struct mf_transcript *tr = alloc(flags);

	if (tr != NULL)
		tr->out = out;
	return tr;
}

struct mf_transcript *
mf_transcript_new_cb(mf_transcript_fn fn, void *arg, unsigned flags)
{
	struct mf_transcript *tr = alloc(flags);

	if (tr != NULL) {
		tr->fn = fn;
		tr->arg = arg;
	}
	return tr;
}

void
mf_transcript_free(struct mf_transcript *tr)
{
	free(tr);
}

int
mf_transcript_shows_secrets(const struct mf_transcript *tr)
{
	return tr != NULL && (tr->flags & MF_TX_SHOW_SECRETS);
}

const char *
mf_transcript_marker(enum mf_tx_dir dir, int tls)
{
	switch (dir) {
	case MF_TX_SEND:
		return tls ? "~>" : "->";
	case MF_TX_RECV:
		return tls ? "<~" : "<-";
	case MF_TX_INFO:
		return "===";
	default:
		return "***";
	}
}

static void
emit(struct mf_transcript *tr, enum mf_tx_dir dir, int tls, const char *text)
{
	struct timespec now;
	long ms;

	if (tr->fn != NULL) {
		tr->fn(tr->arg, dir, tls, text);
		return;
	}
	if (tr->out == NULL)
		return;
	if (tr->flags & MF_TX_TIMESTAMPS) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - tr->start.tv_sec) * 1000 +
		    (now.tv_nsec - tr->start.tv_nsec) / 1000000;
		fprintf(tr->out, "[%6ld ms] ", ms);
	}
	fprintf(tr->out, "%s %s\n", mf_transcript_marker(dir, tls), text);
	fflush(tr->out);
}

void
mf_transcript_line(struct mf_transcript *tr, enum mf_tx_dir dir, int tls,
                   const char *line, size_t len, size_t secret_from)
{
	char shown[LINE_SHOW_MAX];
	size_t keep = len;

	if (tr == NULL)
		return;
	if (secret_from != MF_TX_NO_SECRET && !(tr->flags & MF_TX_SHOW_SECRETS)
	    && secret_from < len)
		keep = secret_from;
	mf_esc_mem(shown, sizeof(shown) - 12, line, keep);
	if (keep < len) {
		/* Fits: 12 bytes were kept free above. */
		size_t n = strlen(shown);
		memcpy(shown + n, "********", 9);
	}
	emit(tr, dir, tls, shown);
}

void
mf_transcript_info(struct mf_transcript *tr, const char *fmt, ...)
{
	char msg[LINE_SHOW_MAX], shown[LINE_SHOW_MAX];
	va_list ap;

	if (tr == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mf_esc_str(shown, sizeof(shown), msg);
	emit(tr, MF_TX_INFO, 0, shown);
}
