/* lineio.h - line-oriented I/O over a transport, shared by SMTP, POP3 and
 * IMAP.
 *
 * Reading: lines end in CRLF; a bare LF is tolerated (and noted) because
 * real servers send it and RFC 5321 §2.3.8 / RFC 1939 readers are expected
 * to cope.  A line longer than the limit is an error (MF_E_LIMIT), never a
 * truncation.  Byte-count reads serve IMAP literals and anything sized.
 * Writing: everything sent is buffered and goes out at mf_lineio_flush()
 * (or when the buffer passes 64 KiB), so a pipelined command group is one
 * write and a message body is sent in full-size TLS records.
 * Every line sent or received goes to the transcript, if one is attached.
 *
 * Must not: know a protocol's words, dial, print or exit. */
#ifndef MF_LINEIO_H
#define MF_LINEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "tls.h"
#include "transcript.h"
#include "transport.h"

struct mf_lineio;

/* Take ownership of transport t; tr (may be NULL) is borrowed. */
struct mf_lineio *mf_lineio_new(struct mf_transport *t,
                                struct mf_transcript *tr, struct mf_err *e);
/* Close the transport and free everything. NULL is fine. */
void mf_lineio_free(struct mf_lineio *l);

/* Longest accepted line, excluding the line ending (default 64 KiB). */
void mf_lineio_set_max_line(struct mf_lineio *l, size_t max);
/* Timeout for each read/write in ms (default: the transport's). */
void mf_lineio_set_timeout(struct mf_lineio *l, int timeout_ms);
/* 1: received lines are not put in the transcript (message bodies). */
void mf_lineio_set_quiet(struct mf_lineio *l, int quiet);

/* Read one line. *line points into an internal buffer, NUL-terminated,
 * without its line ending, valid until the next read call.
 * Errors: MF_E_CLOSED (EOF, also in the middle of a line), MF_E_LIMIT,
 * MF_E_TIMEOUT, transport errors. */
int mf_lineio_read_line(struct mf_lineio *l, const char **line, size_t *len,
                        struct mf_err *e);
/* 1 if the last line read ended with a bare LF instead of CRLF. */
int mf_lineio_last_bare_lf(const struct mf_lineio *l);

/* Read up to n bytes (buffered data first). Returns the count (>0),
 * 0 at EOF, -1 on error. Not put in the transcript. */
ssize_t mf_lineio_read_some(struct mf_lineio *l, void *dst, size_t n,
                            struct mf_err *e);
/* Read exactly n bytes; EOF before that is MF_E_CLOSED. */
int mf_lineio_read_exact(struct mf_lineio *l, void *dst, size_t n,
                         struct mf_err *e);

/* Wait until input is available: 1 yes, 0 timed out, -1 error. */
int mf_lineio_wait(struct mf_lineio *l, int timeout_ms, struct mf_err *e);

/* Queue one line (CRLF is added) and record it in the transcript.
 * The line must not contain CR or LF (MF_E_INTERNAL otherwise). */
int mf_lineio_send(struct mf_lineio *l, struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As mf_lineio_send; bytes from secret_from on are redacted in the
 * transcript (MF_TX_NO_SECRET for none). */
int mf_lineio_send_secret(struct mf_lineio *l, size_t secret_from,
                          struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Queue raw bytes (message data); not put in the transcript. */
int mf_lineio_write(struct mf_lineio *l, const void *p, size_t n,
                    struct mf_err *e);
/* Send everything queued. */
int mf_lineio_flush(struct mf_lineio *l, struct mf_err *e);

/* STARTTLS: flush, then wrap the live transport in TLS.  Refuses with
 * MF_E_PROTO if the server sent bytes after its go-ahead that we have not
 * read yet: they came in clear and could be an injection (CVE-2011-0411). */
int mf_lineio_starttls(struct mf_lineio *l, const struct mf_tls_params *p,
                       struct mf_tls_info *info, struct mf_err *e);

int mf_lineio_is_tls(const struct mf_lineio *l);
/* Unread bytes already buffered. */
size_t mf_lineio_pending(const struct mf_lineio *l);
struct mf_transport *mf_lineio_transport(struct mf_lineio *l);
struct mf_transcript *mf_lineio_transcript(struct mf_lineio *l);
/* Bytes read from / written to the transport so far (counters for tests
 * and --json). */
unsigned long long mf_lineio_bytes_in(const struct mf_lineio *l);
unsigned long long mf_lineio_bytes_out(const struct mf_lineio *l);

#endif
