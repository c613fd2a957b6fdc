/* mxfmt.h - how an MX report (mx.h) reads: the report with its findings
 * rendered as text for people or JSON Lines for programs.  Pure: no I/O,
 * nothing printed; output is appended to a caller's buffer.  It draws no
 * findings itself (mf_mx_analyze in mx.h does).
 *
 * Must not: draw findings (mx.h does), print or exit. */
#ifndef MF_MXFMT_H
#define MF_MXFMT_H

#include "buf.h"
#include "err.h"
#include "mx.h"

/* Human-readable report, appended to out. */
int mf_mx_format_text(const struct mf_mx_report *r, struct mf_buf *out,
                      struct mf_err *e);
/* JSON Lines: one {"type":"address"...} per probe, then one
 * {"type":"summary"...} for the domain; appended to out. */
int mf_mx_format_json(const struct mf_mx_report *r, struct mf_buf *out,
                      struct mf_err *e);

#endif
