/* cfgimport.h - convert another tool's configuration (an msmtprc, an
 * mpoprc or an mbsyncrc) into a mailflow configuration file (mailflow(5)).
 *
 * Pure: text in, text out; no file, environment or command is touched.
 * Every setting mailflow can express is converted to mailflow's own keys
 * and values (tls on + tls_starttls off -> tls implicit, domain -> ehlo,
 * PassCmd -> passwordeval, an mbsync Channel -> one account ...).  A line
 * with no meaning in mailflow becomes a comment
 *     # not converted: KEY VALUE (reason)
 * in the output and a warning; where the peer's default differs from
 * mailflow's in a way that matters (msmtp's clear-text default, mpop
 * deleting fetched mail, msmtp's port 25) the output says so in a
 * "# note:" line, also a warning.  Passwords: passwordeval stays
 * passwordeval; a password given in clear is copied, with a warning that
 * the output file must be mode 0600 (mailflow refuses it otherwise).
 *
 * msmtp and mpop semantics are kept: "defaults" apply to the accounts that
 * follow them, "account NAME : A,B" copies A's then B's settings, an empty
 * value unsets; the output keeps the account structure (defaults, one
 * parent per account, "account default : NAME") and writes in each
 * section what makes mailflow's inheritance give the same result.
 *
 * Must not: read or write files, run commands, print or exit. */
#ifndef MF_CFGIMPORT_H
#define MF_CFGIMPORT_H

#include <stddef.h>

#include "err.h"

enum mf_cfgimport_format {
	MF_CFGIMPORT_AUTO = 0,   /* guess from the keys */
	MF_CFGIMPORT_MSMTP,
	MF_CFGIMPORT_MPOP,
	MF_CFGIMPORT_MBSYNC
};

/* "msmtp", "mpop" or "mbsync" to the format: 0, or -1 for another word. */
int mf_cfgimport_format_parse(const char *s, enum mf_cfgimport_format *out);
const char *mf_cfgimport_format_name(enum mf_cfgimport_format f);

/* The format text is written in, from its keys (mbsync's section keywords;
 * mpop's delivery, keep, uidls_file ...; msmtp's from, domain, aliases
 * ...); MF_CFGIMPORT_AUTO when the keys do not tell. */
enum mf_cfgimport_format mf_cfgimport_detect(const char *text);

struct mf_cfgimport;

/* Convert text (NUL-terminated) written in format f (AUTO: detected).
 * name is used in messages ("NAME:LINE: ...").  Returns the result, or
 * NULL with MF_E_DATA for a text that cannot be made sense of (format not
 * recognised, a quote not closed, an account line or parent that does not
 * parse, a setting outside any section, a Channel naming an unknown
 * Store), MF_E_NOMEM when out of memory. */
struct mf_cfgimport *mf_cfgimport_convert(const char *text, const char *name,
                                          enum mf_cfgimport_format f,
                                          struct mf_err *e);

/* The mailflow configuration file, NUL-terminated; lives as long as r. */
const char *mf_cfgimport_text(const struct mf_cfgimport *r);
/* The format converted from (never AUTO). */
enum mf_cfgimport_format mf_cfgimport_source(const struct mf_cfgimport *r);
/* The warnings, "NAME:LINE: ..." (no values, so no secrets); NULL for i
 * past the last. */
const char *mf_cfgimport_warning(const struct mf_cfgimport *r, size_t i);
/* 1 when the output holds a password in clear. */
int mf_cfgimport_has_password(const struct mf_cfgimport *r);

/* Free r, wiping its text (it may hold a password).  NULL is fine. */
void mf_cfgimport_free(struct mf_cfgimport *r);

#endif
