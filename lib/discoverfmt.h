/* discoverfmt.h - smtp-auth-test --discover's output: the steps tried
 * with their outcomes, the verdict, and the mailflow(5) configuration
 * block; or all of it as one JSON summary object.
 *
 * Must not: decide anything (discover.h did), print or exit. */
#ifndef MF_DISCOVERFMT_H
#define MF_DISCOVERFMT_H

#include "buf.h"
#include "discover.h"
#include "err.h"

/* The configuration block alone: one "account NAME" section per account
 * (host, port, tls, auth, user), submission first.  Every value came
 * through discover.c's checks (host names, no blanks). */
int mf_discoverfmt_config(const struct mf_disc_result *r, struct mf_buf *out,
                          struct mf_err *e);

/* The human report: numbered steps, verdict, then the block. */
int mf_discoverfmt_text(const struct mf_disc_result *r, struct mf_buf *out,
                        struct mf_err *e);

/* The JSON summary (man/mailflow.schema.json), one line. */
int mf_discoverfmt_json(const struct mf_disc_result *r, struct mf_buf *out,
                        struct mf_err *e);

#endif
