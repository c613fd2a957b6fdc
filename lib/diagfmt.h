/* diagfmt.h - smtp-auth-test's report for people (text) and for programs
 * (one JSON document), from a struct mf_diag_report.  Both are appended to
 * a caller's buffer; nothing here prints.  The JSON format is documented
 * in smtp-auth-test(1).
 *
 * Must not: draw findings (diagrules.h does), print or exit. */
#ifndef MF_DIAGFMT_H
#define MF_DIAGFMT_H

#include "buf.h"
#include "diagrules.h"

/* The sections after the transcript: STAGES, CAPABILITIES, TLS, AUTH,
 * DIAGNOSIS and the verdict line.  -1 (e filled) if out hits its limit. */
int mf_diagfmt_text(const struct mf_diag_report *r, struct mf_buf *out,
                    struct mf_err *e);

/* The verdict line alone (for -q), with a newline. */
int mf_diagfmt_verdict(const struct mf_diag_report *r, struct mf_buf *out,
                       struct mf_err *e);

/* One JSON document (object) with a trailing newline. */
int mf_diagfmt_json(const struct mf_diag_report *r, struct mf_buf *out,
                    struct mf_err *e);

#endif
