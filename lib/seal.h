/* seal.h - what mailsend does to a message between composing it and
 * submitting it: make it 7-bit, sign and/or encrypt its content
 * (OpenPGP/MIME, pgp.h; S/MIME, smime.h and smimeenc.h), then DKIM-sign
 * it (dkim.h).
 *
 * One call, mf_seal_apply(), transforms a prepared message in place, in
 * every mode (composed, --message, stdin, -t, --batch); a queued message
 * is stored sealed, so a flush never seals it again.  Keys are loaded
 * when the seal is made, so a missing key fails before anything is sent
 * or queued.  This module includes no crypto library itself.
 *
 * Must not: send or queue anything (sendjob.h does), print or exit. */
#ifndef MF_SEAL_H
#define MF_SEAL_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "err.h"

#define MF_SEAL_CERTS_MAX 64        /* --smime-encrypt certificates */

/* What to do (the options; NULL / 0 when not given). */
struct mf_seal_params {
	const char *dkim_key, *dkim_selector, *dkim_domain, *dkim_headers;
	int pgp_sign, pgp_encrypt;   /* RFC 3156 PGP/MIME */
	const char *pgp_key;         /* signing key; NULL: the From address's */
	int smime_sign;              /* RFC 8551 multipart/signed */
	const char *smime_cert, *smime_key;
	/* RFC 8551 §3.3 enveloped-data to the envelope recipients' and the
	 * sender's (smime_cert) certificates, found in these files or
	 * directories (--smime-encrypt), then in smime_recipient_certs. */
	const char *smime_encrypt[MF_SEAL_CERTS_MAX];
	size_t nsmime_encrypt;
	const char *smime_recipient_certs;
};

/* Told what was done (warning 0, for -v) or what looks wrong but does
 * not stop the send (warning 1: print it always). */
typedef void (*mf_seal_note_fn)(void *arg, int warning, const char *text);

struct mf_seal;

/* Fill the unset fields of p from the account's keys (dkim_key ...);
 * a may be NULL. */
void mf_seal_params_merge(struct mf_seal_params *p, const struct mf_account *a);

/* 1 when p asks for anything. */
int mf_seal_wanted(const struct mf_seal_params *p);

/* Load the keys and certificates p names.  MF_E_CONFIG for a missing,
 * unreadable or unusable key or certificate file; MF_E_USAGE for options that do not go together.  p is
 * borrowed and must outlive the seal. */
struct mf_seal *mf_seal_new(const struct mf_seal_params *p,
                            mf_seal_note_fn note, void *arg,
                            struct mf_err *e);
void mf_seal_free(struct mf_seal *s);

/* Transform msg in place (CRLF wire form on return).  from is the
 * envelope sender; rcpts the envelope recipients (for encryption).
 * MF_E_DATA for a message that cannot be sealed or a recipient without
 * a usable key or certificate. */
int mf_seal_apply(struct mf_seal *s, struct mf_buf *msg, const char *from,
                  const char *const *rcpts, size_t nrcpts, struct mf_err *e);

#endif
