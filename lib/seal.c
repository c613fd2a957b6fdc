/* seal.c - 7-bit, content signing/encryption, then DKIM, in that order:
 * DKIM signs the message as it leaves, so it comes last (RFC 6376 §5). */
#include "seal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim.h"
#include "mime.h"
#include "mimepart.h"
#include "pgp.h"
#include "smime.h"
#include "smimeenc.h"
#include "smtp.h"

struct mf_seal {
	const struct mf_seal_params *p;
	mf_seal_note_fn note;
	void *arg;
	struct mf_dkim_key *dkim;
	struct mf_pgp *pgp;
	char pgp_signer[512];          /* the signing key's description */
	struct mf_smime_signer *smime;
	struct mf_smime_enc *smime_enc;
};

static const char *
pick(const char *opt, const char *cfg)
{
	return opt != NULL ? opt : cfg;
}

void
mf_seal_params_merge(struct mf_seal_params *p, const struct mf_account *a)
{
	if (a == NULL)
		return;
	p->dkim_key = pick(p->dkim_key, a->dkim_key);
	p->dkim_selector = pick(p->dkim_selector, a->dkim_selector);
	p->dkim_domain = pick(p->dkim_domain, a->dkim_domain);
	p->dkim_headers = pick(p->dkim_headers, a->dkim_headers);
	p->pgp_key = pick(p->pgp_key, a->pgp_key);
	p->smime_cert = pick(p->smime_cert, a->smime_cert);
	p->smime_key = pick(p->smime_key, a->smime_key);
	p->smime_recipient_certs = pick(p->smime_recipient_certs,
	    a->smime_recipient_certs);
}

int
mf_seal_wanted(const struct mf_seal_params *p)
{
	return p->dkim_key != NULL || p->dkim_selector != NULL ||
	    p->dkim_domain != NULL || p->pgp_sign || p->pgp_encrypt ||
	    p->smime_sign || p->nsmime_encrypt > 0;
}

static void
note(const struct mf_seal *s, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(const struct mf_seal *s, int warning, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (s->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->note(s->arg, warning, line);
}

static int
check_dkim(const struct mf_seal_params *p, struct mf_err *e)
{
	if (p->dkim_key == NULL)
		return mf_err_set(e, MF_E_CONFIG, "--dkim-selector and "
		    "--dkim-domain need --dkim-key (or dkim_key)");
	if (p->dkim_selector == NULL)
		return mf_err_set(e, MF_E_CONFIG, "--dkim-key needs "
		    "--dkim-selector (or dkim_selector): the DNS name under "
		    "_domainkey that holds the public key");
	return 0;
}

static int
check_smime(const struct mf_seal_params *p, struct mf_err *e)
{
	if (p->pgp_sign || p->pgp_encrypt)
		return mf_err_set(e, MF_E_USAGE, "S/MIME and OpenPGP do not go "
		    "together: choose one");
	if (p->smime_sign && (p->smime_cert == NULL || p->smime_key == NULL))
		return mf_err_set(e, MF_E_CONFIG, "--smime-sign needs "
		    "--smime-cert and --smime-key (or smime_cert, smime_key)");
	return 0;
}

/* The recipients' certificates, and the sender's own when there is one
 * (RFC 8551 §3.3 leaves it to the sender; mail clients add it so the
 * sent copy can be read). */
static int
load_smime_enc(struct mf_seal *s, struct mf_err *e)
{
	const struct mf_seal_params *p = s->p;

	if ((s->smime_enc = mf_smime_enc_load(p->smime_encrypt,
	    p->nsmime_encrypt, p->smime_recipient_certs, e)) == NULL)
		return -1;
	if (p->smime_cert != NULL)
		return mf_smime_enc_add_self(s->smime_enc, p->smime_cert,
		    time(NULL), e);
	return 0;
}

struct mf_seal *
mf_seal_new(const struct mf_seal_params *p, mf_seal_note_fn fn, void *arg,
            struct mf_err *e)
{
	struct mf_seal *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "seal");
		return NULL;
	}
	s->p = p;
	s->note = fn;
	s->arg = arg;
	if (p->dkim_key != NULL || p->dkim_selector != NULL ||
	    p->dkim_domain != NULL) {
		if (check_dkim(p, e) == -1 ||
		    (s->dkim = mf_dkim_key_load(p->dkim_key, e)) == NULL) {
			mf_seal_free(s);
			return NULL;
		}
	}
	if ((p->pgp_sign || p->pgp_encrypt) &&
	    (s->pgp = mf_pgp_new(e)) == NULL) {
		mf_seal_free(s);
		return NULL;
	}
	if ((p->smime_sign || p->nsmime_encrypt > 0) &&
	    check_smime(p, e) == -1) {
		mf_seal_free(s);
		return NULL;
	}
	if (p->smime_sign && (s->smime = mf_smime_signer_load(p->smime_cert,
	    p->smime_key, time(NULL), e)) == NULL) {
		mf_seal_free(s);
		return NULL;
	}
	if (p->nsmime_encrypt > 0 && load_smime_enc(s, e) == -1) {
		mf_seal_free(s);
		return NULL;
	}
	return s;
}

void
mf_seal_free(struct mf_seal *s)
{
	if (s == NULL)
		return;
	mf_dkim_key_free(s->dkim);
	mf_pgp_free(s->pgp);
	mf_smime_signer_free(s->smime);
	mf_smime_enc_free(s->smime_enc);
	free(s);
}

/* The domain of the message's (first) From address into out. */
static int
from_domain(const struct mf_buf *msg, const char *fallback, char *out,
            size_t outlen)
{
	char v[1024], name[512], addr[512];
	struct mf_err ign;
	const char *at;

	if (mf_mime_header_get(msg->data, msg->len, "From", v, sizeof(v)) == 0 &&
	    mf_mime_parse_address(v, name, sizeof(name), addr, sizeof(addr),
	    &ign) == 0)
		at = strrchr(addr, '@');
	else
		at = fallback ? strrchr(fallback, '@') : NULL;
	if (at == NULL || at[1] == '\0')
		return -1;
	mf_strlcpy(out, at + 1, outlen);
	return 0;
}

/* 1 when d is dom or a parent domain of it (RFC 7489 §3.1.1 relaxed
 * alignment, as far as it can be judged without the PSL). */
static int
aligned(const char *d, const char *dom)
{
	size_t dl = strlen(d), l = strlen(dom);

	if (strcasecmp(d, dom) == 0)
		return 1;
	return l > dl && dom[l - dl - 1] == '.' &&
	    strcasecmp(dom + l - dl, d) == 0;
}

static int
apply_dkim(struct mf_seal *s, struct mf_buf *msg, const char *from,
           struct mf_err *e)
{
	const struct mf_seal_params *p = s->p;
	struct mf_dkim_sign sp;
	char dom[256];
	int have = from_domain(msg, from, dom, sizeof(dom)) == 0;

	memset(&sp, 0, sizeof(sp));
	sp.domain = p->dkim_domain ? p->dkim_domain : (have ? dom : NULL);
	sp.selector = p->dkim_selector;
	sp.headers = p->dkim_headers;
	sp.when = time(NULL);
	if (sp.domain == NULL)
		return mf_err_set(e, MF_E_USAGE, "DKIM: no From domain; give "
		    "--dkim-domain");
	/* A signature by a domain that is not the From domain proves
	 * little to receivers (DMARC): say so, but send. */
	if (have && !aligned(sp.domain, dom))
		note(s, 1, "DKIM domain %s does not match the From domain %s "
		    "(DMARC alignment will fail)", sp.domain, dom);
	if (mf_dkim_sign_message(s->dkim, &sp, msg, e) == -1)
		return -1;
	note(s, 0, "DKIM: signed with %s key %s (d=%s, s=%s)",
	    mf_dkim_alg_name(mf_dkim_key_alg(s->dkim)), p->dkim_key, sp.domain,
	    sp.selector);
	return 0;
}

static int
pgp_signed(struct mf_seal *s, const struct mf_buf *outer,
           const struct mf_buf *ent, struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf sig = MF_BUF_INIT(1 << 20);
	size_t slen = mf_mimepart_signed_len(ent->data, ent->len);
	char micalg[32], params[128];
	int rc;

	/* RFC 3156 §5: a detached signature over the first part exactly as
	 * it stands between the boundaries. */
	if (mf_pgp_sign(s->pgp, ent->data, slen, &sig, micalg, sizeof(micalg),
	    e) == -1) {
		mf_buf_free(&sig);
		return -1;
	}
	mf_fmt(params, sizeof(params), "protocol=\"application/pgp-signature\"; "
	    "micalg=%s", micalg);
	rc = mf_mimepart_signed(outer, ent->data, slen, params,
	    "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
	    "Content-Description: OpenPGP digital signature\r\n"
	    "Content-Disposition: attachment; filename=\"signature.asc\"\r\n",
	    sig.data, sig.len, out, e);
	mf_buf_free(&sig);
	return rc;
}

static int
pgp_encrypted(struct mf_seal *s, const struct mf_buf *outer,
              const struct mf_buf *ent, const char *from,
              const char *const *rcpts, size_t nrcpts, struct mf_buf *out,
              struct mf_err *e)
{
	struct mf_buf c = MF_BUF_INIT(ent->max);
	int rc;

	/* RFC 3156 §4, §6.2: the whole entity, signed inside when asked. */
	if (mf_pgp_encrypt(s->pgp, ent->data, ent->len, rcpts, nrcpts, from,
	    s->p->pgp_sign, &c, e) == -1) {
		mf_buf_free(&c);
		return -1;
	}
	rc = mf_mimepart_encrypted(outer, "application/pgp-encrypted",
	    "Content-Type: application/pgp-encrypted\r\n"
	    "Content-Description: PGP/MIME version identification\r\n",
	    "Version: 1\r\n",
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
	    "Content-Description: OpenPGP encrypted message\r\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n",
	    c.data, c.len, out, e);
	mf_buf_free(&c);
	return rc;
}

/* PGP/MIME around the message's content entity; msg is replaced. */
static int
apply_pgp(struct mf_seal *s, struct mf_buf *msg, const char *from,
          const char *const *rcpts, size_t nrcpts, struct mf_err *e)
{
	struct mf_buf outer = MF_BUF_INIT(msg->max), ent = MF_BUF_INIT(msg->max);
	struct mf_buf out = MF_BUF_INIT(msg->max);
	int rc = -1;

	if (s->p->pgp_sign && s->pgp_signer[0] == '\0' &&
	    mf_pgp_set_signer(s->pgp, s->p->pgp_key, from, s->pgp_signer,
	    sizeof(s->pgp_signer), e) == -1)
		goto out;
	if (mf_mimepart_split(msg->data, msg->len, &outer, &ent, e) == -1)
		goto out;
	if (s->p->pgp_encrypt)
		rc = pgp_encrypted(s, &outer, &ent, from, rcpts, nrcpts, &out, e);
	else
		rc = pgp_signed(s, &outer, &ent, &out, e);
	if (rc == -1)
		goto out;
	/* gpg armours with LF: back to wire form for DKIM and the wire. */
	mf_buf_reset(msg);
	rc = mf_smtp_normalise(out.data, out.len, 0, msg, e);
	if (rc == 0 && s->p->pgp_sign)
		note(s, 0, "OpenPGP: signed with %s", s->pgp_signer);
	if (rc == 0 && s->p->pgp_encrypt)
		note(s, 0, "OpenPGP: encrypted to %zu recipient(s) and the "
		    "sender", nrcpts);
out:
	mf_buf_free(&outer);
	mf_buf_free(&ent);
	mf_buf_free(&out);
	return rc;
}

/* S/MIME multipart/signed (RFC 8551 §3.5.3) around the content. */
static int
apply_smime(struct mf_seal *s, struct mf_buf *msg, const char *from,
            struct mf_err *e)
{
	struct mf_buf outer = MF_BUF_INIT(msg->max), ent = MF_BUF_INIT(msg->max);
	struct mf_buf out = MF_BUF_INIT(msg->max), sig = MF_BUF_INIT(1 << 20);
	size_t slen;
	int rc = -1;

	/* RFC 8550 §3: the signer's address must be in the certificate. */
	if (from != NULL && !mf_smime_signer_has_email(s->smime, from)) {
		mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s (%s) is not "
		    "for the sender %s", s->p->smime_cert,
		    mf_smime_signer_name(s->smime), from);
		goto out;
	}
	if (mf_mimepart_split(msg->data, msg->len, &outer, &ent, e) == -1)
		goto out;
	slen = mf_mimepart_signed_len(ent.data, ent.len);
	if (mf_smime_sign(s->smime, ent.data, slen, &sig, e) == -1 ||
	    mf_mimepart_signed(&outer, ent.data, slen,
	    "protocol=\"application/pkcs7-signature\"; micalg=sha-256",
	    "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n",
	    sig.data, sig.len, &out, e) == -1)
		goto out;
	mf_buf_reset(msg);
	if ((rc = mf_buf_append(msg, out.data, out.len, e)) == 0)
		note(s, 0, "S/MIME: signed with the certificate %s (%s)",
		    s->p->smime_cert, mf_smime_signer_name(s->smime));
out:
	mf_buf_free(&outer);
	mf_buf_free(&ent);
	mf_buf_free(&out);
	mf_buf_free(&sig);
	return rc;
}

static void
smime_warn(void *arg, const char *text)
{
	note(arg, 1, "%s", text);
}

/* S/MIME application/pkcs7-mime enveloped-data (RFC 8551 §3.3) of the
 * content entity, Content- fields included; after signing (§3.7) that
 * entity is the multipart/signed. */
static int
apply_smime_encrypt(struct mf_seal *s, struct mf_buf *msg,
                    const char *const *rcpts, size_t nrcpts,
                    struct mf_err *e)
{
	struct mf_buf outer = MF_BUF_INIT(msg->max), ent = MF_BUF_INIT(msg->max);
	struct mf_buf out = MF_BUF_INIT(msg->max), c = MF_BUF_INIT(msg->max);
	char who[2048];
	int rc = -1;

	if (mf_smime_enc_pick(s->smime_enc, rcpts, nrcpts, time(NULL),
	    smime_warn, s, e) == -1 ||
	    mf_mimepart_split(msg->data, msg->len, &outer, &ent, e) == -1 ||
	    mf_smime_encrypt(s->smime_enc, ent.data, ent.len, &c, e) == -1 ||
	    mf_mimepart_single(&outer, "Content-Type: application/pkcs7-mime; "
	    "smime-type=enveloped-data; name=\"smime.p7m\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n",
	    c.data, c.len, &out, e) == -1)
		goto out;
	mf_buf_reset(msg);
	if ((rc = mf_buf_append(msg, out.data, out.len, e)) == 0) {
		mf_smime_enc_describe(s->smime_enc, who, sizeof(who));
		note(s, 0, "S/MIME: encrypted (AES-256-CBC) to %s", who);
	}
out:
	mf_buf_free(&outer);
	mf_buf_free(&ent);
	mf_buf_free(&out);
	mf_buf_free(&c);
	return rc;
}

int
mf_seal_apply(struct mf_seal *s, struct mf_buf *msg, const char *from,
              const char *const *rcpts, size_t nrcpts, struct mf_err *e)
{
	struct mf_buf wire = MF_BUF_INIT(msg->max), seven = MF_BUF_INIT(msg->max);
	int changed = 0;

	/* Sign what the server will see: CRLF lines, 7-bit content (no
	 * relay may then re-encode it, RFC 6376 §5.3, RFC 8551 §3.1.2). */
	if (mf_smtp_normalise(msg->data ? msg->data : "", msg->len, 0, &wire,
	    e) == -1 || mf_mimepart_7bit(wire.data ? wire.data : "", wire.len,
	    &seven, &changed, e) == -1) {
		mf_buf_free(&wire);
		mf_buf_free(&seven);
		return -1;
	}
	mf_buf_free(&wire);
	if (changed)
		note(s, 0, "8-bit content re-encoded as quoted-printable/base64 "
		    "before signing or encrypting");
	mf_buf_free(msg);
	*msg = seven;
	if (s->pgp != NULL && apply_pgp(s, msg, from, rcpts, nrcpts, e) == -1)
		return -1;
	if (s->smime != NULL && apply_smime(s, msg, from, e) == -1)
		return -1;
	if (s->smime_enc != NULL &&
	    apply_smime_encrypt(s, msg, rcpts, nrcpts, e) == -1)
		return -1;
	if (s->dkim != NULL && apply_dkim(s, msg, from, e) == -1)
		return -1;
	return 0;
}
