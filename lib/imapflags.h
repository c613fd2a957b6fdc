/* imapflags.h - IMAP system flags <-> Maildir info letters, and the rules
 * imap-sync merges them by.
 *
 * Only five flags are synchronised (RFC 3501 §2.3.2 system flags, as
 * Maildir letters): \Draft D, \Flagged F, \Answered R, \Seen S, \Deleted T.
 * A "letters" string holds a sorted subset of "DFRST" (at most 5 letters
 * and a NUL, so 8-byte buffers are enough).  Pure: no I/O. */
#ifndef MF_IMAPFLAGS_H
#define MF_IMAPFLAGS_H

#include <stddef.h>

#include "imap.h"

/* The letters of the FLAGS list at r->toks[list] (other flags ignored). */
void mf_imapflags_from_list(const struct mf_imap_resp *r, size_t list,
                            char *out);

/* The synchronised letters among the Maildir flags in, sorted. */
void mf_imapflags_mapped(const char *in, char *out);

/* The IMAP flags for letters, space-separated ("\\Flagged \\Seen"),
 * truncated to whole flags when len is short. */
void mf_imapflags_to_imap(const char *letters, char *out, size_t len);

/* The Maildir flags local with its synchronised letters replaced by
 * mapped; letters we do not synchronise (a, b ... P) are kept. */
void mf_imapflags_merge_local(const char *local, const char *mapped,
                              char *out, size_t len);

/* Letters to add to and remove from `from` to reach `to`. */
void mf_imapflags_diff(const char *from, const char *to, char *add,
                       char *del);

/* Two-way merge against the last synchronised state base: per flag, the
 * side that changed since wins (both changed: they agree). */
void mf_imapflags_merge3(const char *base, const char *local,
                         const char *server, char *out);

/* Pull merge: a flag the server changed since base takes the server's
 * value, every other flag keeps its local value. */
void mf_imapflags_pull(const char *base, const char *local,
                       const char *server, char *out);

#endif
