/* mxfmt.h - what an MX report (mx.h) means and how it reads: the findings
 * drawn from routing, probes, DANE and MTA-STS, and the report rendered as
 * text for people or JSON Lines for programs.  Pure: no I/O, nothing
 * printed; output is appended to a caller's buffer. */
#ifndef MF_MXFMT_H
#define MF_MXFMT_H

#include "buf.h"
#include "err.h"
#include "mx.h"

/* Draw findings from routing, probes and MTA-STS (pure; used by
 * mf_mx_check, exposed for tests). Sets r->status. */
void mf_mx_analyze(struct mf_mx_report *r, const struct mf_mx_params *p);

/* Human-readable report, appended to out. */
int mf_mx_format_text(const struct mf_mx_report *r, struct mf_buf *out,
                      struct mf_err *e);
/* JSON Lines: one {"type":"address"...} per probe, then one
 * {"type":"summary"...} for the domain; appended to out. */
int mf_mx_format_json(const struct mf_mx_report *r, struct mf_buf *out,
                      struct mf_err *e);

#endif
