/* cfgimport_int.h - what cfgimport.c (msmtp, mpop, formats),
 * cfgimport_mbsync.c and the helpers below both in cfgimport_common.c
 * share; not part of the library's interface.
 *
 * Must not: be included outside lib/cfgimport*.c. */
#ifndef MF_CFGIMPORT_INT_H
#define MF_CFGIMPORT_INT_H

#include <stddef.h>

#include "buf.h"
#include "cfgimport.h"
#include "err.h"

#define CI_LINE_MAX 4096
#define CI_OUT_MAX (4 * 1024 * 1024)
#define CI_MAX_WARN 256

/* An ordered map of settings; a value "" means "unset". */
struct ci_item {
	char *key, *val;
};
struct ci_dict {
	struct ci_item *v;
	size_t n, cap;
};

struct mf_cfgimport {
	enum mf_cfgimport_format fmt;
	char *name;
	struct mf_buf out;
	char *warn[CI_MAX_WARN];
	size_t nwarn;
	int password;
};

/* A copy of s; NULL (MF_E_NOMEM) when out of memory. */
char *ci_dup_str(const char *s, struct mf_err *e);

int ci_dict_set(struct ci_dict *d, const char *k, const char *v,
                struct mf_err *e);
/* The value, or NULL when missing or unset (""). */
const char *ci_dict_get(const struct ci_dict *d, const char *k);
/* Every set value of src into dst. */
int ci_dict_overlay(struct ci_dict *dst, const struct ci_dict *src,
                    struct mf_err *e);
void ci_dict_free(struct ci_dict *d);

/* The next line of *p into line (without its newline); 0, 1 at the end,
 * -1 (MF_E_DATA) for a line too long. */
int ci_next_line(struct mf_cfgimport *r, const char **p, char *line,
                 size_t len, int *lineno, struct mf_err *e);

/* "NAME:LINE: MESSAGE" as a warning. */
int ci_warn(struct mf_cfgimport *r, int line, struct mf_err *e,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "NAME:LINE: MESSAGE" as an MF_E_DATA error; returns -1. */
int ci_fail(struct mf_cfgimport *r, int line, struct mf_err *e,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "# not converted: KEY VALUE (reason)" into notes, and a warning that
 * names the key and the reason (not the value); no warning when line < 0
 * (the line was already warned about). */
int ci_not_converted(struct mf_cfgimport *r, struct mf_buf *notes, int line,
                     const char *key, const char *val, const char *reason,
                     struct mf_err *e);
/* "# note: TEXT" into notes, and the same as a warning. */
int ci_note(struct mf_cfgimport *r, struct mf_buf *notes, int line,
            struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The warning for a password copied in clear. */
int ci_password(struct mf_cfgimport *r, int line, struct mf_err *e);

/* v as mailflow reads it back: bare, or quoted when it is empty or has
 * blanks or a quote at an end. */
int ci_put_value(struct mf_buf *b, const char *v, struct mf_err *e);
/* 1 if v holds a control character other than a tab: no mailflow(5)
 * line can carry it (a CR would end the line), so the input is refused. */
int ci_has_control(const char *v);

/* Write one section: the head line ("defaults", "account X : P"), each
 * setting of out that base (what mailflow inherits) does not already give,
 * then the notes.  A setting out lacks but base has is unset ("") where
 * mailflow allows it, else noted. */
int ci_emit_section(struct mf_cfgimport *r, const char *head, int line,
                    const struct ci_dict *out, const struct ci_dict *base,
                    const struct mf_buf *notes, struct mf_err *e);

/* A SASL mechanism (or mpop's "user"/"apop") as mailflow's --auth value,
 * upper-cased into buf; NULL when mailflow has no such method. */
const char *ci_auth_method(const char *m, int pop, char *buf, size_t len);
/* 1 if v is a TLS fingerprint mailflow accepts (SHA-256, hex with or
 * without colons, or sha256/BASE64). */
int ci_sha256_fingerprint(const char *v);

int ci_mbsync(struct mf_cfgimport *r, const char *text, struct mf_err *e);

#endif
