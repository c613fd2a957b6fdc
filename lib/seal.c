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
#include "smtp.h"

struct mf_seal {
	const struct mf_seal_params *p;
	mf_seal_note_fn note;
	void *arg;
	struct mf_dkim_key *dkim;
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
}

int
mf_seal_wanted(const struct mf_seal_params *p)
{
	return p->dkim_key != NULL || p->dkim_selector != NULL ||
	    p->dkim_domain != NULL;
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
	return s;
}

void
mf_seal_free(struct mf_seal *s)
{
	if (s == NULL)
		return;
	mf_dkim_key_free(s->dkim);
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

int
mf_seal_apply(struct mf_seal *s, struct mf_buf *msg, const char *from,
              const char *const *rcpts, size_t nrcpts, struct mf_err *e)
{
	struct mf_buf wire = MF_BUF_INIT(msg->max), seven = MF_BUF_INIT(msg->max);
	int changed = 0;

	(void)rcpts;
	(void)nrcpts;
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
		    "before signing");
	mf_buf_free(msg);
	*msg = seven;
	if (s->dkim != NULL && apply_dkim(s, msg, from, e) == -1)
		return -1;
	return 0;
}
