/* mime.h - composing messages (RFC 5322, MIME RFC 2045-2049) and reading
 * the header of a ready one, for mailsend.
 *
 * Composition: headers with non-ASCII text become RFC 2047 encoded-words
 * (split on UTF-8 character boundaries, each word at most 75 characters),
 * display names are quoted or encoded as RFC 5322 §3.2.5 requires, bodies
 * go out 7bit, quoted-printable or base64 as their content needs (never
 * 8-bit, so no server needs 8BITMIME), text + HTML become
 * multipart/alternative, attachments multipart/mixed with their type from
 * libmagic and RFC 2231 file names.  Date, Message-ID and MIME-Version
 * are added unless given.  A CR or LF inside any value the caller passes
 * is refused with MF_E_USAGE (header injection); only this module
 * includes libmagic.
 *
 * Must not: send anything, print or exit; only mime.c includes magic.h. */
#ifndef MF_MIME_H
#define MF_MIME_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define MF_MIME_MSG_MAX ((size_t)256 << 20)  /* largest composed message */

struct mf_mime_attachment {
	const char *path;      /* file to read */
	const char *type;      /* MIME type, or NULL: from libmagic */
	const char *name;      /* file name shown, or NULL: basename of path */
};

struct mf_mime_compose {
	const char *from;            /* "addr", "Name <addr>" (required) */
	const char *from_name;       /* display name for a bare from, or NULL */
	const char *const *to;       /* address lists as the user typed them */
	size_t nto;
	const char *const *cc;
	size_t ncc;
	const char *subject;         /* UTF-8, or NULL */
	const char *text;            /* body text (UTF-8), or NULL */
	size_t text_len;
	const char *html;            /* HTML alternative, or NULL */
	size_t html_len;
	const struct mf_mime_attachment *att;
	size_t natt;
	const char *const *headers;  /* extra "Name: value" lines */
	size_t nheaders;
	const char *msgid_domain;    /* NULL: the from address's domain */
};

/* Compose the whole message into out (CRLF line endings).  MF_E_USAGE for
 * a CR/LF inside a value, a bad address or header; MF_E_IO when an
 * attachment cannot be read; MF_E_DATA for text that is not UTF-8. */
int mf_mime_compose(const struct mf_mime_compose *c, struct mf_buf *out,
                    struct mf_err *e);

/* Parse "FILE;type=T;name=N" (both optional) into a; the strings point
 * into buf (a copy of spec). MF_E_USAGE on an unknown parameter. */
int mf_mime_parse_attach_spec(const char *spec, char *buf, size_t buflen,
                              struct mf_mime_attachment *a, struct mf_err *e);

/* ---- pieces, exposed for tests ---- */

/* Append `text` as an unstructured header value (RFC 2047 §5(1)): as is
 * when it is printable ASCII without "=?", else as "=?UTF-8?B?...?="
 * words of at most 75 characters each, never splitting a UTF-8
 * character, separated by CRLF SP (folding).  `used` is the length of
 * the header line before the value ("Subject: " = 9): the first word is
 * kept short enough for the line to fit 76 characters. MF_E_DATA when
 * text is not valid UTF-8. */
int mf_mime_encode_header(const char *text, size_t used, struct mf_buf *out,
                          struct mf_err *e);

/* Split one address "Name <a@b>", "a@b", "\"Last, First\" <a@b>" into
 * display name (unquoted, may be "") and addr-spec. MF_E_USAGE when it is
 * not an address. */
int mf_mime_parse_address(const char *in, char *name, size_t namelen,
                          char *addr, size_t addrlen, struct mf_err *e);

/* Append one address in header form: the name as an atom phrase, a quoted
 * string (specials, with \" and \\ escaped) or encoded-words (non-ASCII),
 * then "<addr>".  A UTF-8 domain is written as A-labels unless the local
 * part is UTF-8 (mf_idn_addr_wire(): such an address needs SMTPUTF8 and
 * goes whole); MF_E_USAGE for a domain that is not a valid IDN. */
int mf_mime_format_address(const char *name, const char *addr,
                           struct mf_buf *out, struct mf_err *e);

/* Split an address list ("a@b, \"X, Y\" <c@d>, group: e@f;") into the
 * addr-specs, calling fn for each. MF_E_USAGE when an entry is not an
 * address; a non-zero return of fn stops the walk with -1 (fn fills e,
 * which is the same e as here). */
int mf_mime_address_list(const char *list,
                         int (*fn)(void *arg, const char *name,
                                   const char *addr),
                         void *arg, struct mf_err *e);

/* Quoted-printable (RFC 2045 §6.7) of in[0..len) into out: lines of at
 * most 76 characters, CRLF line breaks for any input line ending,
 * trailing white space encoded. */
int mf_mime_qp_encode(const char *in, size_t len, struct mf_buf *out,
                      struct mf_err *e);

/* base64 with CRLF after every 76 characters (RFC 2045 §6.8). */
int mf_mime_base64_lines(const void *in, size_t len, struct mf_buf *out,
                         struct mf_err *e);

/* 1 if s[0..len) is valid UTF-8. */
int mf_mime_utf8_valid(const char *s, size_t len);

/* A fresh random multipart boundary ("=_mf_" and hex, which cannot
 * occur in quoted-printable or base64 text) into out (48 bytes do). */
int mf_mime_new_boundary(char *out, size_t outlen, struct mf_err *e);

/* The next header field of msg[0..hlen) at *pos: [*fstart, *fend) is the
 * whole field with folded lines and its line ending, *nlen the length of
 * its name.  0 at the end of the header (a blank line or hlen). */
int mf_mime_next_field(const char *msg, size_t hlen, size_t *pos,
                       size_t *fstart, size_t *fend, size_t *nlen);

/* MF_E_USAGE naming `what` if value contains CR or LF. */
int mf_mime_check_value(const char *what, const char *value,
                        struct mf_err *e);

/* ---- ready messages (--message, -t, --batch, the queue) ---- */

/* The header of msg[0..len): its length including the blank line (len
 * if there is none). */
size_t mf_mime_header_len(const char *msg, size_t len);

/* The unfolded value of the first header field `name` into out ("" and
 * -1 if absent). */
int mf_mime_header_get(const char *msg, size_t len, const char *name,
                       char *out, size_t outlen);

/* Call fn for every address in the To, Cc and Bcc fields (-t). */
int mf_mime_header_recipients(const char *msg, size_t len,
                              int (*fn)(void *arg, const char *name,
                                        const char *addr),
                              void *arg, struct mf_err *e);

/* Copy msg to out without its Bcc fields and without a leading mbox
 * "From " line, adding Date and Message-ID when missing (sendmail's
 * behaviour for a submitted message). */
int mf_mime_prepare(const char *msg, size_t len, const char *msgid_domain,
                    struct mf_buf *out, struct mf_err *e);

/* When msg has no From field, put "From: NAME <addr>" (name may be NULL)
 * at its start, as sendmail does for a message without one. */
int mf_mime_add_from(struct mf_buf *msg, const char *name, const char *addr,
                     struct mf_err *e);

/* The input of sendmail without -i ends at a line holding only "."
 * (sendmail(8)): the length of msg up to that line. */
size_t mf_mime_sendmail_cut(const char *msg, size_t len);

/* A set of envelope recipients, each once (compared without case). */
#define MF_RCPTS_MAX 1000
struct mf_rcpts {
	char *v[MF_RCPTS_MAX];
	size_t n;
};

/* Add every address of the list (see mf_mime_address_list). */
int mf_rcpts_add_list(struct mf_rcpts *r, const char *list, struct mf_err *e);
/* Add one addr-spec. */
int mf_rcpts_add(struct mf_rcpts *r, const char *addr, struct mf_err *e);
/* The recipients in the To, Cc and Bcc fields of msg (-t). */
int mf_rcpts_add_header(struct mf_rcpts *r, const char *msg, size_t len,
                        struct mf_err *e);
/* 1 if an address (or `also`, may be NULL) needs SMTPUTF8. */
int mf_rcpts_need_utf8(const struct mf_rcpts *r, const char *also);
void mf_rcpts_clear(struct mf_rcpts *r);

#endif
