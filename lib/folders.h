/* folders.h - IMAP folder names <-> local Maildir paths, for imap-sync.
 *
 * A server folder name is modified UTF-7 (RFC 3501 §5.1.3); locally it is
 * UTF-8 and becomes a directory under the Maildir root, either Maildir++
 * (ROOT/.A.B) or nested (ROOT/A/B).  A name is hostile data: one that
 * could leave the root, confuse the layout, or land in the directory of
 * another folder is refused, never followed.  Pure: no I/O.
 *
 * Must not: touch the file system or the network, print or exit. */
#ifndef MF_FOLDERS_H
#define MF_FOLDERS_H

#include <stddef.h>

#include "err.h"

/* (Named for imapsync.h, its first user, which includes this header.) */
enum mf_imapsync_layout {
	MF_LAYOUT_MAILDIRPP,   /* subfolders as ROOT/.A.B (Maildir++) */
	MF_LAYOUT_FS           /* subfolders as ROOT/A/B */
};

/* Map a UTF-8 folder name with hierarchy delimiter delim (0: none) to a
 * path relative to the Maildir root ("" for INBOX). -1 (MF_E_DATA, a
 * reason in e) for names that could leave the root or confuse the
 * layout: empty components, "." or "..", '/', control characters,
 * '.' in a Maildir++ component, "cur"/"new"/"tmp" or a leading '.' in
 * the fs layout, or a result longer than outlen. */
int mf_folders_map_name(const char *name, char delim,
                        enum mf_imapsync_layout layout, char *out,
                        size_t outlen, struct mf_err *e);

/* IMAP LIST-style match (RFC 3501 §6.3.8): '*' matches anything, '%'
 * anything but delim.  1 on a match, else 0. */
int mf_folders_match(const char *pattern, const char *name, char delim);

/* The file name under which the sync state of the folder with the
 * modified UTF-7 name utf7 is kept: "f" + hex of the name, or "h" + a
 * 64-bit FNV-1a hash when that would be long.  out needs 170 bytes for
 * the hex form (smaller buffers always get the hash). */
void mf_folders_state_key(const char *utf7, char *out, size_t len);

/* One folder selected for synchronisation. */
struct mf_folder {
	char *utf7;             /* name on the server */
	char *utf8;             /* name shown to the user */
	char *rel;              /* path under the Maildir root, "" for INBOX */
	char delim;             /* hierarchy delimiter, 0 if none */
	char special[16];       /* RFC 6154 attribute, "" if none */
};

struct mf_folders {
	struct mf_folder *v;
	size_t n, cap;
	enum mf_imapsync_layout layout;
	int names_mutf7;                /* local paths from the modified UTF-7
	                                   name as the server spells it */
	const char *const *excludes;    /* UTF-8 LIST patterns, not owned */
	size_t nexcludes;
};

/* Why mf_folders_add() refused a name: the name as it may be shown (escaped
 * when it is not valid UTF-8) and the reason. */
struct mf_folders_refusal {
	char name[1024];
	char why[1200];
};

enum {
	MF_FOLDERS_ADDED,
	MF_FOLDERS_SKIPPED,     /* already listed, or excluded */
	MF_FOLDERS_REFUSED      /* unsafe, undecodable or colliding: see *why */
};

/* Add the server folder utf7[0..len) (as LIST returned it, delimiter
 * delim, special-use attribute special or "") to fl unless it is
 * already there or matches an exclude pattern.  Refused, with the
 * reason in *why: a NUL byte in the name, invalid modified UTF-7, a name
 * mf_folders_map_name() refuses, or one that maps to the local path of a
 * folder already added.  Returns an MF_FOLDERS_* value, or -1
 * (MF_E_NOMEM) when out of memory. */
int mf_folders_add(struct mf_folders *fl, const char *utf7, size_t len,
                   char delim, const char *special,
                   struct mf_folders_refusal *why, struct mf_err *e);

/* Free the folders (not the excludes); fl may then be reused. */
void mf_folders_free(struct mf_folders *fl);

#endif
