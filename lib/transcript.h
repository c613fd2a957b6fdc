/* transcript.h - the protocol lines a tool sends and receives, for -v.
 *
 * Markers are the ones swaks made familiar: "->" sent in clear, "<-"
 * received in clear, "~>" and "<~" the same inside TLS, "===" our own
 * notes, "***" errors.  Secrets (AUTH payloads, passwords) are replaced by
 * "********" unless the transcript was made with MF_TX_SHOW_SECRETS.
 * Control characters from the peer are shown escaped (\r, \x1b ...) so a
 * hostile server cannot drive the user's terminal.
 *
 * Must not: show a secret unless the user asked for it, or exit; it
 * writes only to the FILE it is given. */
#ifndef MF_TRANSCRIPT_H
#define MF_TRANSCRIPT_H

#include <stddef.h>
#include <stdio.h>

enum mf_tx_dir { MF_TX_SEND, MF_TX_RECV, MF_TX_INFO, MF_TX_ERROR };

#define MF_TX_SHOW_SECRETS 0x1u  /* print AUTH payloads and passwords */
#define MF_TX_TIMESTAMPS   0x2u  /* prefix each line with elapsed ms */

#define MF_TX_NO_SECRET ((size_t)-1)

/* Receives each line already redacted and escaped (no line ending). */
typedef void (*mf_transcript_fn)(void *arg, enum mf_tx_dir dir, int tls,
                                 const char *line);

struct mf_transcript;

/* Print lines to `out` (not owned). NULL on out of memory. */
struct mf_transcript *mf_transcript_new(FILE *out, unsigned flags);
/* Hand lines to fn (e.g. to collect them for JSON). */
struct mf_transcript *mf_transcript_new_cb(mf_transcript_fn fn, void *arg,
                                           unsigned flags);
void mf_transcript_free(struct mf_transcript *tr);

/* Record one protocol line of len bytes (without CRLF).  When secret_from
 * is not MF_TX_NO_SECRET, bytes from that offset on are a secret. tr may be
 * NULL (nothing happens). */
void mf_transcript_line(struct mf_transcript *tr, enum mf_tx_dir dir, int tls,
                        const char *line, size_t len, size_t secret_from);

/* A note of ours ("=== TLS started: TLS1.3 ..."). */
void mf_transcript_info(struct mf_transcript *tr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int mf_transcript_shows_secrets(const struct mf_transcript *tr);

/* The marker for a direction: "->", "<-", "~>", "<~", "===", "***". */
const char *mf_transcript_marker(enum mf_tx_dir dir, int tls);

#endif
