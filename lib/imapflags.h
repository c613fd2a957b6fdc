/* imapflags.h - IMAP flags and keywords <-> Maildir info letters, and the
 * rules imap-sync merges them by.
 *
 * A "flag set" is what imap-sync synchronises of one message: a sorted
 * subset of the letters "DFPRST" -- the RFC 3501 §2.3.2 system flags
 * \Draft D, \Flagged F, \Answered R, \Seen S, \Deleted T, and the keyword
 * $Forwarded as Maildir's P ("passed", as mbsync and Dovecot's LDA write
 * it) -- then every other keyword ($Junk, $NotJunk, $MDNSent, any name),
 * each after one space, sorted without regard to case:
 * "FS $Junk Work", " $MDNSent", "".  At most MF_FLAGSET_MAX bytes; a set
 * that would be longer keeps whole keywords only.  Keywords reach a file
 * name through the folder's keyword table (kwtable.h): letters a-z.
 * Pure: no I/O.
 *
 * Must not: touch files or the network, print or exit. */
#ifndef MF_IMAPFLAGS_H
#define MF_IMAPFLAGS_H

#include <stddef.h>

#include "kwtable.h"

#define MF_FLAGSET_MAX 2048

/* The flag set of the n IMAP flags in names, as a FETCH FLAGS list
 * gives them (\Recent, unknown system flags and names that are no valid
 * keyword are ignored). */
void mf_imapflags_from_names(const char *const *names, size_t n,
                             char *out, size_t len);

/* The system letters of a flag set ("FS" of "FS $Junk"), into out[8]. */
void mf_imapflags_letters(const char *set, char *out);

/* The IMAP flags of a set, space-separated ("\\Flagged \\Seen $Junk"),
 * truncated to whole flags when len is short. */
void mf_imapflags_to_imap(const char *set, char *out, size_t len);

/* The flag set a Maildir file shows: its letters among "DFPRST", the
 * keywords of its letters a-z that t names, and the keywords of base
 * (the set at the last sync) that have no letter in t -- the file cannot
 * show those, so they count as unchanged locally.  t may be NULL. */
void mf_imapflags_local(const char *file_letters, const struct mf_kwtable *t,
                        const char *base, char *out, size_t len);

/* The Maildir letters for a file that had file_letters and must now show
 * set: its letters we do not synchronise (other capitals, lower-case
 * letters t does not name) are kept; keywords without a letter get the
 * next free one in t (see mf_kwtable_dirty) while there is one. */
void mf_imapflags_file_letters(const char *file_letters, const char *set,
                               struct mf_kwtable *t, char *out, size_t len);

/* What to add to and remove from set `from` to reach `to`, as sets. */
void mf_imapflags_diff(const char *from, const char *to, char *add,
                       size_t alen, char *del, size_t dlen);

/* Two-way merge against the last synchronised set base: per flag and
 * keyword, the side that changed since wins (both changed: they agree). */
void mf_imapflags_merge3(const char *base, const char *local,
                         const char *server, char *out, size_t len);

/* Pull merge: a flag or keyword the server changed since base takes the
 * server's value, every other keeps its local value. */
void mf_imapflags_pull(const char *base, const char *local,
                       const char *server, char *out, size_t len);

/* 1 when the set has flag letter c ('S' ...). */
int mf_imapflags_has(const char *set, char c);

#endif
