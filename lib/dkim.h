/* dkim.h - DKIM signatures (RFC 6376) for mailsend: relaxed/relaxed
 * canonicalisation, rsa-sha256 (RFC 6376 §3.3.1) and ed25519-sha256
 * (RFC 8463), the algorithm chosen by the key.
 *
 * The canonicalisation and header-selection functions are pure (bytes
 * in, bytes out) and unit-tested against the RFC's examples; signing
 * reads a PEM private key (PKCS#1 RSA or PKCS#8 RSA/Ed25519) through
 * GnuTLS.  dkim.c is one of the GnuTLS users besides tls.c and crypto.c:
 * it owns the DKIM key and its signature.  Messages are CRLF wire form
 * (mf_smtp_normalise); nothing here prints or exits.
 *
 * Must not: query DNS (publishing the key is the user's), print or exit. */
#ifndef MF_DKIM_H
#define MF_DKIM_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* The header fields signed when the user names none (RFC 6376 §5.4.1's
 * recommendation); from, to, subject and date are listed once more than
 * they occur ("over-signed", §8.15) so that none can be added later. */
#define MF_DKIM_DEFAULT_HEADERS "from:to:cc:subject:date:message-id:" \
    "reply-to:in-reply-to:references:mime-version:content-type:" \
    "content-transfer-encoding:content-disposition:list-id:" \
    "list-unsubscribe"
#define MF_DKIM_OVERSIGN "from:to:subject:date"

/* ---- canonicalisation (pure) ---- */

/* Relaxed header canonicalisation (RFC 6376 §3.4.2) of one field
 * field[0..len) as it appears in the message (name, colon, value, folded
 * lines, with or without the final CRLF), appended to out with a final
 * CRLF unless crlf is 0. */
int mf_dkim_canon_header(const char *field, size_t len, int crlf,
                         struct mf_buf *out, struct mf_err *e);

/* Relaxed body canonicalisation (RFC 6376 §3.4.4) of body[0..len):
 * whitespace runs become one SP, trailing whitespace and trailing empty
 * lines go, a non-empty result ends with CRLF.  Bare LF counts as CRLF. */
int mf_dkim_canon_body(const char *body, size_t len, struct mf_buf *out,
                       struct mf_err *e);

/* The h= list for the header of msg: with `list` (colon or comma
 * separated names, as the user gave them) that list, lower-cased and
 * colon separated; else every field of MF_DKIM_DEFAULT_HEADERS present
 * in the message as often as it occurs, plus MF_DKIM_OVERSIGN once more.
 * MF_E_USAGE when a given list lacks "from" (RFC 6376 §5.4) or has an
 * empty or invalid name. */
int mf_dkim_header_list(const char *msg, size_t len, const char *list,
                        struct mf_buf *out, struct mf_err *e);

/* Append the canonical form of the fields named in hlist (colon
 * separated), each instance picked from the bottom of the header up
 * (RFC 6376 §5.4.2); a name with no instance left adds nothing. */
int mf_dkim_canon_selected(const char *msg, size_t len, const char *hlist,
                           struct mf_buf *out, struct mf_err *e);

/* ---- signing ---- */

enum mf_dkim_alg { MF_DKIM_RSA_SHA256, MF_DKIM_ED25519_SHA256 };

struct mf_dkim_key;

/* Read the private key from a PEM file.  MF_E_CONFIG when it is missing,
 * unreadable, not a key, or neither RSA (at least 1024 bits, RFC 8301
 * §3.2) nor Ed25519.  The key material is wiped on free. */
struct mf_dkim_key *mf_dkim_key_load(const char *path, struct mf_err *e);
void mf_dkim_key_free(struct mf_dkim_key *k);
enum mf_dkim_alg mf_dkim_key_alg(const struct mf_dkim_key *k);
/* "rsa-sha256" or "ed25519-sha256" (the a= tag). */
const char *mf_dkim_alg_name(enum mf_dkim_alg a);
/* The public key as a DNS TXT record value ("v=DKIM1; k=rsa; p=...",
 * RFC 6376 §3.6.1, RFC 8463 §4) appended to out. */
int mf_dkim_key_record(const struct mf_dkim_key *k, struct mf_buf *out,
                       struct mf_err *e);

struct mf_dkim_sign {
	const char *domain;      /* d= (required) */
	const char *selector;    /* s= (required) */
	const char *headers;     /* user's list, or NULL for the default */
	time_t when;             /* t=; 0: no t= tag */
};

/* Sign msg (CRLF wire form, header and body) with k and put the
 * DKIM-Signature field at its top.  MF_E_USAGE for a bad domain,
 * selector or header list; MF_E_DATA for a message without a header. */
int mf_dkim_sign_message(const struct mf_dkim_key *k,
                         const struct mf_dkim_sign *p, struct mf_buf *msg,
                         struct mf_err *e);

#endif
