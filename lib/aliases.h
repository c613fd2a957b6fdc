/* aliases.h - local recipients ("root", "www-data") mapped to addresses,
 * in msmtp's aliases file format, for mail that cron(8) and scripts send
 * to user names.
 *
 * One "name: address[, address...]" per line; '#' starts a comment line;
 * "default: address" maps every name not listed.  Names are matched
 * without regard to case.  A mapping is not expanded again (as in msmtp):
 * its addresses must have a domain.  Addresses that already have one are
 * never looked up.
 *
 * Must not: write the aliases file, look names up in DNS, print or exit. */
#ifndef MF_ALIASES_H
#define MF_ALIASES_H

#include <stddef.h>

#include "err.h"

struct mf_aliases;

/* Read and parse path (bounded size).  MF_E_CONFIG naming the file (and
 * line) when it cannot be read or a line is malformed. */
struct mf_aliases *mf_aliases_load(const char *path, struct mf_err *e);
/* The same from memory; name is used in messages. */
struct mf_aliases *mf_aliases_parse(const char *text, const char *name,
                                    struct mf_err *e);
void mf_aliases_free(struct mf_aliases *a);

/* The comma-separated addresses name maps to (its own line, else
 * "default"), or NULL.  Owned by a. */
const char *mf_aliases_lookup(const struct mf_aliases *a, const char *name);

/* 1 when addr has no domain part (no '@'), so it needs a mapping. */
int mf_aliases_is_local(const char *addr);

#endif
