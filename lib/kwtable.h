/* kwtable.h - a Maildir folder's keyword table: IMAP keywords (RFC 3501
 * §2.3.2) <-> the letters a-z in the info part of its file names.
 *
 * Dovecot's convention, so that a Dovecot pointed at the same Maildir
 * reads the same keywords: letter a is index 0 ... z is 25, and the file
 * "dovecot-keywords" in the folder's directory lists "INDEX NAME" lines.
 * The table only grows: a keyword keeps its letter for good, since files
 * carry it.  At most 26 keywords have a letter; the caller keeps any more
 * by name (imap-sync: in its sync state).  Keywords compare without
 * regard to case (RFC 3501 §2.3.2 flags are atoms; servers match them so).
 * Pure except mf_kwtable_load() and mf_kwtable_save().
 *
 * Must not: write the table other than by durable.h's replace, print or
 * exit. */
#ifndef MF_KWTABLE_H
#define MF_KWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define MF_KWTABLE_MAX      26       /* letters a-z */
#define MF_KWTABLE_NAME_MAX 255      /* longest keyword we keep */
#define MF_KWTABLE_FILE     "dovecot-keywords"

struct mf_kwtable;

/* An empty table; NULL when out of memory. */
struct mf_kwtable *mf_kwtable_new(void);
/* NULL is fine. */
void mf_kwtable_free(struct mf_kwtable *t);

/* 1 when s is a keyword we keep: an IMAP atom (RFC 3501 §9 atom-char:
 * no space, control, "(){%*\"\\]"), not a system flag ("\\..."), at most
 * MF_KWTABLE_NAME_MAX bytes, and not "-" (a keyword we do not keep is
 * never synchronised, so never removed either). */
int mf_kwtable_valid(const char *s);

/* Add the "INDEX NAME" lines of text[len] (dovecot-keywords) to t.  Lines
 * that are not of that form, indexes past 25 and invalid names are
 * skipped, as Dovecot skips them; a second name for an index already
 * set, or a name already listed under another index, is MF_E_DATA (the
 * letters on disk would mean two things). */
int mf_kwtable_parse(struct mf_kwtable *t, const char *text, size_t len,
                     struct mf_err *e);
/* The table as dovecot-keywords text, appended to out. */
int mf_kwtable_format(const struct mf_kwtable *t, struct mf_buf *out,
                      struct mf_err *e);

/* Read DIR/dovecot-keywords into t: 0 read, 1 no such file (t unchanged),
 * -1 with MF_E_IO or MF_E_DATA. */
int mf_kwtable_load(struct mf_kwtable *t, const char *dir, struct mf_err *e);
/* Write t to DIR/dovecot-keywords atomically (temp file, fsync, rename,
 * directory fsync) and mark it clean. */
int mf_kwtable_save(struct mf_kwtable *t, const char *dir, struct mf_err *e);

/* The keyword of letter ('a'..'z'), NULL if none. */
const char *mf_kwtable_name(const struct mf_kwtable *t, char letter);
/* The letter of keyword kw, 0 if it has none. */
char mf_kwtable_letter(const struct mf_kwtable *t, const char *kw);
/* The letter of kw, giving it the first free one if it has none; 0 when
 * the table is full, kw is not valid, or out of memory. */
char mf_kwtable_assign(struct mf_kwtable *t, const char *kw);
/* The same, never giving a new letter whose index is set in avoid. */
char mf_kwtable_assign_avoid(struct mf_kwtable *t, const char *kw,
                             uint32_t avoid);
/* Set index idx (0..25) to kw (no-op when it already holds kw);
 * MF_E_DATA when idx holds another keyword or kw is elsewhere. */
int mf_kwtable_set(struct mf_kwtable *t, unsigned idx, const char *kw,
                   struct mf_err *e);
/* Number of keywords with a letter. */
size_t mf_kwtable_count(const struct mf_kwtable *t);

/* Indexes set by mf_kwtable_assign() since the last mf_kwtable_clean()
 * (bit i: index i), so the caller can persist them before a file shows
 * their letters. */
uint32_t mf_kwtable_dirty(const struct mf_kwtable *t);
void mf_kwtable_clean(struct mf_kwtable *t);

#endif
