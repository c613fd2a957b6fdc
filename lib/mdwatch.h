/* mdwatch.h - notice changes in Maildir folders (Linux inotify): a file
 * delivered to new/, a message renamed in cur/ (flags), a file deleted.
 * The caller polls the descriptor and reads which folder changed; it
 * decides itself how long to wait for more (lib/imapidle.h debounce).
 *
 * Must not: read or change messages, print or exit. */
#ifndef MF_MDWATCH_H
#define MF_MDWATCH_H

#include <stddef.h>

#include "err.h"

struct mf_mdwatch;

struct mf_mdwatch *mf_mdwatch_new(struct mf_err *e);
/* Watch DIR/cur and DIR/new of the Maildir folder dir, reporting id for
 * their changes.  A missing directory is MF_E_IO; too many watches
 * (fs.inotify.max_user_watches) MF_E_LIMIT. */
int mf_mdwatch_add(struct mf_mdwatch *w, const char *dir, size_t id,
                   struct mf_err *e);
/* The descriptor to poll(2) for input. */
int mf_mdwatch_fd(const struct mf_mdwatch *w);
/* Read every event waiting, without blocking, calling fn with the id of
 * each changed folder (maybe several times).  Returns the number of
 * events, -1 on a read error.  An overflowed queue calls fn with
 * (size_t)-1: anything may have changed. */
int mf_mdwatch_read(struct mf_mdwatch *w, void (*fn)(void *arg, size_t id),
                    void *arg, struct mf_err *e);
/* Forget every watch (before adding them again). */
void mf_mdwatch_clear(struct mf_mdwatch *w);
void mf_mdwatch_free(struct mf_mdwatch *w);

#endif
