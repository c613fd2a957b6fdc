/* sasl.c - the SASL client mechanisms (RFC 4422) shared by SMTP, POP3 and
 * IMAP: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/-256(-PLUS), XOAUTH2,
 * OAUTHBEARER and EXTERNAL. */
#include "sasl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "crypto.h"
#include "tls.h"

#define SCRAM_MSG_MAX 8192
#define SCRAM_ITER_MAX 10000000u   /* refuse a server asking for minutes of CPU */
#define SCRAM_NONCE_BYTES 18
#define SASL_STR_MAX 4096

enum mech {
	M_OAUTHBEARER, M_XOAUTH2, M_SCRAM256_PLUS, M_SCRAM256, M_SCRAM1,
	M_CRAM_MD5, M_PLAIN, M_LOGIN, M_EXTERNAL, M_NONE
};

/* Our preference order; the OAuth mechanisms only apply with a token and
 * EXTERNAL only when asked for, so listing them first/last is safe. */
const char *const mf_sasl_mechs[] = {
	"OAUTHBEARER", "XOAUTH2", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
	"SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "EXTERNAL", NULL
};

struct mf_sasl {
	enum mech m;
	char *user, *authzid, *password, *token, *host;
	unsigned port;
	unsigned char *cb;
	size_t cb_len;
	char cb_type[32];
	int server_plus;
	char *test_nonce;
	int step;                   /* challenges answered so far */
	/* SCRAM */
	char gs2[SASL_STR_MAX];     /* gs2-header, e.g. "n,," */
	struct mf_buf auth_msg;     /* client-first-bare, then AuthMessage */
	char nonce[128];
	unsigned char server_sig[64];
	int scram_state;            /* 0 start, 1 sent first, 2 sent final, 3 verified */
	char server_error[512];
};

static enum mech
mech_of(const char *name)
{
	size_t i;

	for (i = 0; mf_sasl_mechs[i] != NULL; i++)
		if (strcasecmp(name, mf_sasl_mechs[i]) == 0)
			return (enum mech)i;
	return M_NONE;
}

int
mf_sasl_supported(const char *mech)
{
	return mech_of(mech) != M_NONE;
}

/* enum mech follows mf_sasl_mechs, and M_NONE is its length. */
int
mf_sasl_rank(const char *mech)
{
	return (int)mech_of(mech);
}

/* Bearer tokens count as plaintext too: whoever reads them can use them. */
int
mf_sasl_is_plaintext(const char *mech)
{
	enum mech m = mech_of(mech);

	return m == M_PLAIN || m == M_LOGIN || m == M_XOAUTH2 ||
	    m == M_OAUTHBEARER;
}

int
mf_sasl_secret_is_token(const char *want)
{
	char word[64];
	size_t n;
	int any = 0;

	if (want == NULL)
		return 0;
	while (*want != '\0') {
		want += strspn(want, " ,");
		n = strcspn(want, " ,");
		if (n == 0)
			break;
		if (n >= sizeof(word))
			return 0;
		memcpy(word, want, n);
		word[n] = '\0';
		want += n;
		if (mech_of(word) != M_XOAUTH2 && mech_of(word) != M_OAUTHBEARER)
			return 0;
		any = 1;
	}
	return any;
}

static int
is_scram(enum mech m)
{
	return m == M_SCRAM256_PLUS || m == M_SCRAM256 || m == M_SCRAM1;
}

const char *
mf_sasl_mech(const struct mf_sasl *s)
{
	return mf_sasl_mechs[s->m];
}

const char *
mf_sasl_server_error(const struct mf_sasl *s)
{
	return s->server_error;
}

/* ---- choosing ---- */

/* 1 if word (len n) is in the space/comma separated list. */
static int
in_list(const char *list, const char *word, size_t n)
{
	const char *p = list;

	while (*p != '\0') {
		size_t l;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		l = strcspn(p, " ,\t");
		if (l == n && l > 0 && strncasecmp(p, word, n) == 0)
			return 1;
		p += l;
	}
	return 0;
}

static int
want_any(const char *want)
{
	return want == NULL || want[0] == '\0' || in_list(want, "auto", 4);
}

enum why { W_OK, W_UNKNOWN, W_NOT_WANTED, W_PLAIN, W_NEED_TOKEN,
	   W_NEED_PASSWORD, W_NEED_CB };

static enum why
usable(enum mech m, const char *want, const struct mf_sasl_params *p,
       int encrypted, int allow_plain)
{
	int token = p->token != NULL && p->token[0] != '\0';
	int pass = p->password != NULL;

	if (m == M_NONE)
		return W_UNKNOWN;
	if (m == M_EXTERNAL ? !in_list(want ? want : "", "EXTERNAL", 8) :
	    (!want_any(want) && !in_list(want, mf_sasl_mechs[m],
	    strlen(mf_sasl_mechs[m]))))
		return W_NOT_WANTED;
	if (m == M_OAUTHBEARER || m == M_XOAUTH2) {
		if (!token)
			return W_NEED_TOKEN;
	} else if (m != M_EXTERNAL && !pass)
		return W_NEED_PASSWORD;
	if (m == M_SCRAM256_PLUS && p->cb_data == NULL)
		return W_NEED_CB;
	if (mf_sasl_is_plaintext(mf_sasl_mechs[m]) && !encrypted && !allow_plain)
		return W_PLAIN;
	return W_OK;
}

/* Append the offered mechanisms that failed for `why` to list. */
static void
collect(const char *offered, const char *want, const struct mf_sasl_params *p,
        int encrypted, int allow_plain, enum why why, char *list, size_t len)
{
	const char *o = offered;

	list[0] = '\0';
	while (*o != '\0') {
		char name[64];
		size_t l;

		while (*o == ' ' || *o == ',' || *o == '\t')
			o++;
		l = strcspn(o, " ,\t");
		if (l > 0 && l < sizeof(name)) {
			memcpy(name, o, l);
			name[l] = '\0';
			if (usable(mech_of(name), want, p, encrypted, allow_plain)
			    == why) {
				size_t u = strlen(list);

				snprintf(list + u, len - u, "%s%s", u ? " " : "", name);
			}
		}
		o += l;
	}
}

/* The wanted mechanisms the server offers but mailflow does not implement
 * (Cyrus offers SCRAM-SHA-1-PLUS), into list; nonzero when there are any. */
static int
unknown_wanted(const char *offered, const char *want, char *list, size_t len)
{
	const char *w = want;

	list[0] = '\0';
	while (*w != '\0') {
		char name[64];
		size_t l;

		w += strspn(w, " ,\t");
		l = strcspn(w, " ,\t");
		if (l > 0 && l < sizeof(name)) {
			memcpy(name, w, l);
			name[l] = '\0';
			if (mech_of(name) == M_NONE && in_list(offered, name, l)) {
				size_t u = strlen(list);

				snprintf(list + u, len - u, "%s%s", u ? " " : "", name);
			}
		}
		w += l;
	}
	return list[0] != '\0';
}

static int
choose_error(const char *offered, const char *want,
             const struct mf_sasl_params *p, int encrypted, int allow_plain,
             struct mf_err *e)
{
	char l[512];

#define LIST(w) collect(offered, want, p, encrypted, allow_plain, w, l, sizeof(l))
	LIST(W_PLAIN);
	if (l[0] != '\0')
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server offers %s but"
		    " not over an unencrypted connection: that would expose the"
		    " password; use TLS", l);
	LIST(W_NEED_TOKEN);
	if (l[0] != '\0' && p->password != NULL && !want_any(want))
		return mf_err_set(e, MF_E_UNSUPPORTED, "%s needs an OAuth token"
		    " (given as the password through passwordeval)", l);
	if (!want_any(want) && unknown_wanted(offered, want, l, sizeof(l)))
		return mf_err_set(e, MF_E_UNSUPPORTED, "SASL mechanism %s is not"
		    " supported by mailflow (the server offers: %s)", l, offered);
	if (!want_any(want) || (want != NULL && in_list(want, "EXTERNAL", 8)))
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not offer"
		    " the requested mechanism (%s); it offers: %s", want,
		    offered[0] ? offered : "nothing");
	LIST(W_NEED_CB);
	if (l[0] != '\0')
		return mf_err_set(e, MF_E_UNSUPPORTED, "of the offered mechanisms"
		    " (%s) only %s would do, and it needs TLS channel binding",
		    offered, l);
	LIST(W_NEED_PASSWORD);
	if (l[0] != '\0')
		return mf_err_set(e, MF_E_UNSUPPORTED, "no password for %s", l);
#undef LIST
	if (offered[0] == '\0')
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server offers no SASL"
		    " mechanisms");
	return mf_err_set(e, MF_E_UNSUPPORTED, "none of the offered mechanisms"
	    " (%s) is supported", offered);
}

int
mf_sasl_choose(const char *offered, const char *want,
               const struct mf_sasl_params *p, int encrypted,
               int allow_plain, char *out, size_t outlen, struct mf_err *e)
{
	size_t i;

	if (offered == NULL)
		offered = "";
	for (i = 0; mf_sasl_mechs[i] != NULL; i++) {
		const char *m = mf_sasl_mechs[i];

		if (!in_list(offered, m, strlen(m)))
			continue;
		if (usable((enum mech)i, want, p, encrypted, allow_plain) != W_OK)
			continue;
		if (mf_strlcpy(out, m, outlen) >= outlen)
			return mf_err_set(e, MF_E_INTERNAL, "mechanism buffer too small");
		return 0;
	}
	return choose_error(offered, want, p, encrypted, allow_plain, e);
}

int
mf_sasl_offers_plus(const char *offered)
{
	const char *o = offered ? offered : "";

	while (*o != '\0') {
		size_t l;

		o += strspn(o, " ,\t");
		l = strcspn(o, " ,\t");
		if (l > 5 && strncasecmp(o + l - 5, "-PLUS", 5) == 0)
			return 1;
		o += l;
	}
	return 0;
}

void
mf_sasl_bind_tls(struct mf_sasl_params *p, struct mf_transport *t,
                 unsigned char *buf, size_t buflen)
{
	const char *type = NULL;
	size_t len = buflen;

	p->cb_data = NULL;
	p->cb_len = 0;
	p->cb_type = NULL;
	if (t == NULL || !mf_transport_is_tls(t) ||
	    mf_tls_channel_binding(t, &type, buf, &len, NULL) == -1)
		return;
	p->cb_data = buf;
	p->cb_len = len;
	p->cb_type = type;
}

/* Did the server answer the attempt with a refusal (as opposed to a lost
 * connection, or a server that failed to prove itself)?  Only then is
 * another mechanism worth a try. */
static int
server_refused(const struct mf_err *e)
{
	return (e->kind == MF_E_AUTH || e->kind == MF_E_UNSUPPORTED ||
	    e->kind == MF_E_PERM) && (e->reply[0] != '\0' || e->reply_code != 0);
}

int
mf_sasl_login(const char *offered, const char *want,
              const struct mf_sasl_params *p, int encrypted, int allow_plain,
              mf_sasl_attempt_fn attempt, void *arg, struct mf_transcript *tr,
              char *used, size_t usedlen, struct mf_err *e)
{
	struct mf_sasl_params q = *p;
	struct mf_err first;
	char mech[64], plus[64];

	if (used != NULL && usedlen > 0)
		used[0] = '\0';
	q.server_plus = mf_sasl_offers_plus(offered);
	if (mf_sasl_choose(offered, want, &q, encrypted, allow_plain, mech,
	    sizeof(mech), e) == -1)
		return -1;
	if (used != NULL)
		mf_strlcpy(used, mech, usedlen);
	mf_err_clear(&first);
	if (attempt(arg, mech, &q, &first) == 0)
		return 0;
	*e = first;
	if (!want_any(want) || strlen(mech) <= 5 ||
	    strcasecmp(mech + strlen(mech) - 5, "-PLUS") != 0 ||
	    !server_refused(&first))
		return -1;
	/* Once, without binding: the server may bind another type than the
	 * one this TLS version gives us (Cyrus SASL knows only tls-unique). */
	mf_strlcpy(plus, mech, sizeof(plus));
	q.cb_data = NULL;
	q.cb_len = 0;
	q.cb_type = NULL;
	if (mf_sasl_choose(offered, NULL, &q, encrypted, allow_plain, mech,
	    sizeof(mech), NULL) == -1)
		return -1;
	mf_transcript_info(tr, "%s refused (%s); trying %s without channel "
	    "binding", plus, first.reply, mech);
	if (used != NULL)
		mf_strlcpy(used, mech, usedlen);
	mf_err_clear(e);
	if (attempt(arg, mech, &q, e) == 0)
		return 0;
	mf_err_prefix(e, "after %s was refused", plus);
	return -1;
}

void
mf_sasl_params_set(struct mf_sasl_params *p, const struct mf_auth *a,
                   const char *want, const char *secret, const char *host,
                   unsigned port)
{
	memset(p, 0, sizeof(*p));
	p->user = a->user;
	p->authzid = a->authzid;
	if (mf_sasl_secret_is_token(want))
		p->token = secret;
	else
		p->password = secret;
	p->host = host;
	p->port = port;
	p->test_nonce = a->test_nonce;
}

/* ---- session ---- */

static void
free_str(char **s)
{
	if (*s != NULL) {
		mf_memwipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void
mf_sasl_free(struct mf_sasl *s)
{
	if (s == NULL)
		return;
	free_str(&s->user);
	free_str(&s->authzid);
	free_str(&s->password);
	free_str(&s->token);
	free_str(&s->host);
	free_str(&s->test_nonce);
	if (s->cb != NULL) {
		mf_memwipe(s->cb, s->cb_len);
		free(s->cb);
	}
	mf_buf_wipe(&s->auth_msg);
	mf_memwipe(s, sizeof(*s));
	free(s);
}

static int
dup_opt(char **dst, const char *src)
{
	if (src == NULL)
		return 0;
	return (*dst = strdup(src)) == NULL ? -1 : 0;
}

struct mf_sasl *
mf_sasl_new(const char *mech, const struct mf_sasl_params *p, struct mf_err *e)
{
	enum mech m = mech_of(mech);
	struct mf_sasl *s;

	if (m == M_NONE) {
		mf_err_set(e, MF_E_UNSUPPORTED, "SASL mechanism %s is not"
		    " supported", mech);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	s->m = m;
	s->port = p->port;
	s->server_plus = p->server_plus;
	if (mf_strlcpy(s->cb_type, p->cb_type ? p->cb_type : "tls-exporter",
	    sizeof(s->cb_type)) >= sizeof(s->cb_type)) {
		mf_sasl_free(s);
		mf_err_set(e, MF_E_INTERNAL, "channel binding type too long");
		return NULL;
	}
	mf_buf_init(&s->auth_msg, SCRAM_MSG_MAX);
	if (dup_opt(&s->user, p->user) == -1 ||
	    dup_opt(&s->authzid, p->authzid) == -1 ||
	    dup_opt(&s->password, p->password) == -1 ||
	    dup_opt(&s->token, p->token) == -1 ||
	    dup_opt(&s->host, p->host) == -1 ||
	    dup_opt(&s->test_nonce, p->test_nonce) == -1)
		goto nomem;
	if (p->cb_data != NULL) {
		if ((s->cb = malloc(p->cb_len ? p->cb_len : 1)) == NULL)
			goto nomem;
		memcpy(s->cb, p->cb_data, p->cb_len);
		s->cb_len = p->cb_len;
	}
	if (m == M_SCRAM256_PLUS && s->cb == NULL) {
		mf_sasl_free(s);
		mf_err_set(e, MF_E_UNSUPPORTED, "%s needs TLS channel binding data",
		    mech);
		return NULL;
	}
	if ((m == M_XOAUTH2 || m == M_OAUTHBEARER) ? s->token == NULL :
	    (m != M_EXTERNAL && s->password == NULL)) {
		mf_sasl_free(s);
		mf_err_set(e, MF_E_AUTH, "%s needs %s", mf_sasl_mechs[m],
		    m == M_XOAUTH2 || m == M_OAUTHBEARER ? "an OAuth token" :
		    "a password");
		return NULL;
	}
	return s;
nomem:
	mf_sasl_free(s);
	mf_err_set(e, MF_E_NOMEM, "out of memory");
	return NULL;
}

/* ---- SASLprep (RFC 4013), the part a client needs ---- */

/* Decode one UTF-8 sequence; returns its length, 0 if invalid. */
static size_t
utf8_next(const unsigned char *p, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = p[0];

	if (c < 0x80)
		return *cp = c, 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* RFC 3454 C.1.2, mapped to SPACE by RFC 4013 §2.1. */
static int
nonascii_space(uint32_t c)
{
	return c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/* RFC 3454 B.1, mapped to nothing. */
static int
maps_to_nothing(uint32_t c)
{
	return c == 0xad || c == 0x34f || c == 0x1806 ||
	    (c >= 0x180b && c <= 0x180d) || (c >= 0x200c && c <= 0x200d) ||
	    c == 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff;
}

/* RFC 4013 §2.3: control characters, private use and non-characters. */
static int
prohibited(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xfdd0 && c <= 0xfdef) ||
	    (c & 0xfffe) == 0xfffe || c >= 0xf0000 ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x206a && c <= 0x206f);
}

/* Map and check; NFKC normalization is not done: non-ASCII strings are
 * passed on as given (already NFKC for nearly all real passwords). */
static int
saslprep(const char *what, const char *in, struct mf_buf *out,
         struct mf_err *e)
{
	const unsigned char *p = (const unsigned char *)in;

	while (*p != '\0') {
		uint32_t c;
		size_t n = utf8_next(p, &c);

		if (n == 0)
			return mf_err_set(e, MF_E_AUTH, "the %s is not valid UTF-8,"
			    " which SCRAM requires (RFC 5802 §2.2)", what);
		if (prohibited(c))
			return mf_err_set(e, MF_E_AUTH, "the %s contains the"
			    " character U+%04X, which SASLprep (RFC 4013)"
			    " prohibits", what, (unsigned)c);
		if (nonascii_space(c)) {
			if (mf_buf_putc(out, ' ', e) == -1)
				return -1;
		} else if (!maps_to_nothing(c) &&
		    mf_buf_append(out, p, n, e) == -1)
			return -1;
		p += n;
	}
	return mf_buf_append(out, "", 0, e);
}

/* RFC 5802 §5.1 saslname: ',' and '=' are escaped. */
static int
put_saslname(struct mf_buf *b, const char *s, struct mf_err *e)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (*s == ',')
			r = mf_buf_puts(b, "=2C", e);
		else if (*s == '=')
			r = mf_buf_puts(b, "=3D", e);
		else
			r = mf_buf_putc(b, *s, e);
	}
	return r;
}

/* ---- simple mechanisms ---- */

static int
plain_initial(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	/* RFC 4616 §2: [authzid] NUL authcid NUL passwd */
	if (s->authzid != NULL && mf_buf_puts(out, s->authzid, e) == -1)
		return -1;
	if (mf_buf_putc(out, '\0', e) == -1 ||
	    mf_buf_puts(out, s->user ? s->user : "", e) == -1 ||
	    mf_buf_putc(out, '\0', e) == -1 ||
	    mf_buf_puts(out, s->password ? s->password : "", e) == -1)
		return -1;
	return 0;
}

static int
xoauth2_initial(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	return mf_buf_printf(out, e, "user=%s\001auth=Bearer %s\001\001",
	    s->user ? s->user : "", s->token ? s->token : "");
}

static int
oauthbearer_initial(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	const char *authz = s->authzid ? s->authzid : s->user;

	/* RFC 7628 §3.1: gs2-header, then kvpairs separated by ^A */
	if (mf_buf_puts(out, "n,", e) == -1)
		return -1;
	if (authz != NULL && (mf_buf_puts(out, "a=", e) == -1 ||
	    put_saslname(out, authz, e) == -1))
		return -1;
	if (mf_buf_puts(out, ",\001", e) == -1)
		return -1;
	if (s->host != NULL && mf_buf_printf(out, e, "host=%s\001", s->host) == -1)
		return -1;
	if (s->port != 0 && mf_buf_printf(out, e, "port=%u\001", s->port) == -1)
		return -1;
	return mf_buf_printf(out, e, "auth=Bearer %s\001\001",
	    s->token ? s->token : "");
}

static int
cram_md5_step(struct mf_sasl *s, const unsigned char *in, size_t len,
              struct mf_buf *out, struct mf_err *e)
{
	unsigned char mac[16];
	char hex[33];

	/* RFC 2195 §2: user SP hex(HMAC-MD5(password, challenge)) */
	if (s->step > 0)
		return mf_err_set(e, MF_E_PROTO, "CRAM-MD5: unexpected second"
		    " challenge");
	if (len == 0)
		return mf_err_set(e, MF_E_PROTO, "CRAM-MD5: empty challenge");
	if (mf_hmac(MF_MD5, s->password, strlen(s->password), in, len, mac, e)
	    == -1)
		return -1;
	mf_hex(mac, sizeof(mac), hex);
	mf_memwipe(mac, sizeof(mac));
	return mf_buf_printf(out, e, "%s %s", s->user ? s->user : "", hex);
}

static int
login_step(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	/* The prompts ("Username:", "Password:") vary and are sometimes
	 * localized: answer by position, not by text. */
	if (s->step == 0)
		return mf_buf_puts(out, s->user ? s->user : "", e);
	if (s->step == 1)
		return mf_buf_puts(out, s->password ? s->password : "", e);
	return mf_err_set(e, MF_E_PROTO, "LOGIN: unexpected third challenge");
}

/* ---- OAuth error payloads ---- */

struct kv { const char *key; char val[256]; };

/* Read a JSON string at *p (just after its opening quote) into out. */
static int
json_string(const char **p, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (*p < end && **p != '"') {
		char c = **p;

		if (c == '\\' && *p + 1 < end) {
			(*p)++;
			c = **p;
			if (c == 'u') {
				c = '?';   /* non-ASCII is not needed for words */
				*p += (end - *p > 4) ? 4 : 0;
			} else if (c == 'n' || c == 't' || c == 'r' || c == 'b' ||
			    c == 'f')
				c = ' ';
		}
		if ((unsigned char)c < 0x20)
			c = ' ';
		if (n + 1 < outlen)
			out[n++] = c;
		(*p)++;
	}
	out[n] = '\0';
	if (*p >= end)
		return -1;
	(*p)++;
	return 0;
}

static void
json_ws(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r' ||
	    **p == '\n'))
		(*p)++;
}

/* A flat object whose values are strings (or bare numbers/literals). */
static int
json_flat(const char *p, const char *end, struct kv *kv, size_t nkv)
{
	char key[64], val[256];

	json_ws(&p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		size_t i;

		json_ws(&p, end);
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p++ != '"' || json_string(&p, end, key, sizeof(key)))
			return -1;
		json_ws(&p, end);
		if (p >= end || *p++ != ':')
			return -1;
		json_ws(&p, end);
		if (p < end && *p == '"') {
			p++;
			if (json_string(&p, end, val, sizeof(val)) == -1)
				return -1;
		} else {
			size_t n = 0;

			while (p < end && *p != ',' && *p != '}' && *p != ' ') {
				if (*p == '{' || *p == '[' || *p == '"')
					return -1;
				if (n + 1 < sizeof(val))
					val[n++] = *p;
				p++;
			}
			val[n] = '\0';
		}
		for (i = 0; i < nkv; i++)
			if (strcmp(key, kv[i].key) == 0)
				mf_strlcpy(kv[i].val, val, sizeof(kv[i].val));
		json_ws(&p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		return (p < end && *p == '}') ? 0 : -1;
	}
}

static const struct {
	const char *code, *name, *text;
} oauth_statuses[] = {
	{ "400", "invalid_request", "the request is malformed" },
	{ "401", "invalid_token", "the token is expired or revoked" },
	{ "403", "insufficient_scope", "the token lacks the required scope" },
};

static size_t
describe_status(const char *status, char *out, size_t outlen)
{
	size_t i;
	int n = -1;

	for (i = 0; i < sizeof(oauth_statuses) / sizeof(oauth_statuses[0]); i++) {
		if (strcmp(status, oauth_statuses[i].code) == 0)
			n = snprintf(out, outlen, "status %s (%s: %s)", status,
			    oauth_statuses[i].name, oauth_statuses[i].text);
		else if (strcmp(status, oauth_statuses[i].name) == 0)
			n = snprintf(out, outlen, "status %s (%s)", status,
			    oauth_statuses[i].text);
	}
	if (n < 0)
		n = snprintf(out, outlen, "status %s", status);
	return n < 0 ? 0 : strlen(out);
}

void
mf_sasl_describe_oauth_error(const unsigned char *json, size_t len,
                             char *out, size_t outlen)
{
	struct kv kv[] = { { "status", "" }, { "scope", "" }, { "schemes", "" },
	    { "openid-configuration", "" } };
	struct mf_buf dec = MF_BUF_INIT(4096);
	const char *p = (const char *)json;
	size_t i, u;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < len && (p[i] == ' ' || p[i] == '\r' || p[i] == '\n'); i++)
		;
	/* Accept the payload raw or still base64-encoded, as it comes off
	 * the wire. */
	if (i < len && p[i] != '{') {
		if (mf_base64_decode(p, len, &dec, 1, NULL) == -1 || dec.len == 0)
			goto done;
		p = dec.data;
		len = dec.len;
	}
	if (json_flat(p, p + len, kv, sizeof(kv) / sizeof(kv[0])) == -1 ||
	    kv[0].val[0] == '\0')
		goto done;
	u = describe_status(kv[0].val, out, outlen);
	if (kv[1].val[0] != '\0' && u < outlen)
		u += (size_t)snprintf(out + u, outlen - u, "; required scope: %s",
		    kv[1].val);
	if (kv[2].val[0] != '\0' && strcasecmp(kv[2].val, "Bearer") != 0 &&
	    u < outlen)
		u += (size_t)snprintf(out + u, outlen - u, "; schemes: %s",
		    kv[2].val);
	if (kv[3].val[0] != '\0' && u < outlen)
		snprintf(out + u, outlen - u, "; see %s", kv[3].val);
done:
	mf_buf_free(&dec);
}

static int
oauth_step(struct mf_sasl *s, const unsigned char *in, size_t len,
           struct mf_buf *out, struct mf_err *e)
{
	mf_sasl_describe_oauth_error(in, len, s->server_error,
	    sizeof(s->server_error));
	if (s->server_error[0] == '\0')
		snprintf(s->server_error, sizeof(s->server_error),
		    "unreadable error payload (%zu bytes)", len);
	/* RFC 7628 §3.2.3: answer with a lone ^A; XOAUTH2 (Google's
	 * documentation) expects an empty response.  The server then fails
	 * the command. */
	if (s->m == M_OAUTHBEARER)
		return mf_buf_putc(out, '\001', e);
	return mf_buf_append(out, "", 0, e);
}

/* ---- SCRAM (RFC 5802, RFC 7677; channel binding RFC 9266) ---- */

static enum mf_hash
scram_hash(const struct mf_sasl *s)
{
	return s->m == M_SCRAM1 ? MF_SHA1 : MF_SHA256;
}

static int
scram_nonce(struct mf_sasl *s, struct mf_err *e)
{
	unsigned char r[SCRAM_NONCE_BYTES];
	struct mf_buf b = MF_BUF_INIT(sizeof(s->nonce) - 1);

	if (s->test_nonce != NULL) {
		if (mf_strlcpy(s->nonce, s->test_nonce, sizeof(s->nonce)) >=
		    sizeof(s->nonce) || strchr(s->nonce, ',') != NULL)
			return mf_err_set(e, MF_E_INTERNAL, "bad test nonce");
		return 0;
	}
	if (mf_random(r, sizeof(r), e) == -1 ||
	    mf_base64_encode(r, sizeof(r), &b, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	mf_strlcpy(s->nonce, b.data, sizeof(s->nonce));
	mf_buf_free(&b);
	return 0;
}

static int
scram_initial(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf gs2 = MF_BUF_INIT(sizeof(s->gs2) - 1);
	struct mf_buf user = MF_BUF_INIT(SASL_STR_MAX);
	int r = -1;

	/* §7 gs2-cbind-flag: "p=" when binding; "y" when we could bind but
	 * the server offered no -PLUS (so a server that did offer one can
	 * detect a downgrade, §6); "n" otherwise -- also when we chose not to
	 * bind although the server offered -PLUS, or it must refuse "y". */
	if (s->m == M_SCRAM256_PLUS)
		r = mf_buf_printf(&gs2, e, "p=%s,", s->cb_type);
	else
		r = mf_buf_puts(&gs2, s->cb != NULL && !s->server_plus ? "y," :
		    "n,", e);
	if (r == -1)
		goto out;
	r = -1;
	if (s->authzid != NULL && (mf_buf_puts(&gs2, "a=", e) == -1 ||
	    put_saslname(&gs2, s->authzid, e) == -1))
		goto out;
	if (mf_buf_putc(&gs2, ',', e) == -1 || scram_nonce(s, e) == -1 ||
	    saslprep("user name", s->user ? s->user : "", &user, e) == -1)
		goto out;
	mf_strlcpy(s->gs2, gs2.data, sizeof(s->gs2));
	mf_buf_reset(&s->auth_msg);
	if (mf_buf_puts(&s->auth_msg, "n=", e) == -1 ||
	    put_saslname(&s->auth_msg, user.data, e) == -1 ||
	    mf_buf_printf(&s->auth_msg, e, ",r=%s", s->nonce) == -1)
		goto out;
	if (mf_buf_puts(out, s->gs2, e) == -1 ||
	    mf_buf_append(out, s->auth_msg.data, s->auth_msg.len, e) == -1)
		goto out;
	s->scram_state = 1;
	r = 0;
out:
	mf_buf_free(&gs2);
	mf_buf_wipe(&user);
	return r;
}

/* Find attribute `a` ("r", "s", ...) in a comma-separated SCRAM message. */
static int
scram_attr(const char *msg, size_t len, char a, const char **val, size_t *vlen)
{
	const char *p = msg, *end = msg + len;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *stop = c ? c : end;

		if (stop - p >= 2 && p[0] == a && p[1] == '=') {
			*val = p + 2;
			*vlen = (size_t)(stop - p - 2);
			return 0;
		}
		p = stop + 1;
	}
	return -1;
}

static int
scram_server_error(struct mf_sasl *s, const char *msg, size_t len,
                   struct mf_err *e)
{
	const char *v;
	size_t n;

	if (len >= 2 && msg[0] == 'e' && msg[1] == '=' &&
	    scram_attr(msg, len, 'e', &v, &n) == 0) {
		snprintf(s->server_error, sizeof(s->server_error), "%.*s", (int)n, v);
		/* A refusal by the server, recorded as its reply. */
		return mf_err_reply(e, MF_E_AUTH, 0, NULL, s->server_error,
		    "%s: the server refused: %s", mf_sasl_mech(s),
		    s->server_error);
	}
	return 0;
}

struct scram_keys {
	unsigned char salted[64], client_key[64], stored_key[64];
	unsigned char client_sig[64], server_key[64];
};

static int
scram_compute(struct mf_sasl *s, const unsigned char *salt, size_t saltlen,
              unsigned iter, struct scram_keys *k, unsigned char *proof,
              struct mf_err *e)
{
	enum mf_hash h = scram_hash(s);
	size_t hl = mf_hash_len(h), i;
	struct mf_buf pw = MF_BUF_INIT(SASL_STR_MAX);
	const char *am = s->auth_msg.data;
	size_t aml = s->auth_msg.len;
	int r = -1;

	/* §3: SaltedPassword := Hi(Normalize(password), salt, i) */
	if (saslprep("password", s->password ? s->password : "", &pw, e) == -1 ||
	    mf_pbkdf2(h, pw.data, pw.len, salt, saltlen, iter, k->salted, hl,
	    e) == -1 ||
	    mf_hmac(h, k->salted, hl, "Client Key", 10, k->client_key, e) == -1 ||
	    mf_hash(h, k->client_key, hl, k->stored_key, e) == -1 ||
	    mf_hmac(h, k->stored_key, hl, am, aml, k->client_sig, e) == -1 ||
	    mf_hmac(h, k->salted, hl, "Server Key", 10, k->server_key, e) == -1 ||
	    mf_hmac(h, k->server_key, hl, am, aml, s->server_sig, e) == -1)
		goto out;
	for (i = 0; i < hl; i++)
		proof[i] = k->client_key[i] ^ k->client_sig[i];
	r = 0;
out:
	mf_buf_wipe(&pw);
	return r;
}

/* Parse server-first-message (§5.1): r=, s=, i=; m= is a mandatory
 * extension we do not know. */
static int
scram_parse_first(struct mf_sasl *s, const char *msg, size_t len,
                  struct mf_buf *salt, unsigned *iter, const char **nonce,
                  size_t *nlen, struct mf_err *e)
{
	const char *v;
	size_t vl;
	char num[16];
	long it;

	if (len >= 2 && msg[0] == 'm' && msg[1] == '=')
		return mf_err_set(e, MF_E_PROTO, "%s: the server requires an"
		    " unknown extension", mf_sasl_mech(s));
	if (scram_attr(msg, len, 'r', nonce, nlen) == -1 ||
	    *nlen <= strlen(s->nonce) ||
	    memcmp(*nonce, s->nonce, strlen(s->nonce)) != 0)
		return mf_err_set(e, MF_E_PROTO, "%s: the server's nonce does not"
		    " extend ours", mf_sasl_mech(s));
	if (scram_attr(msg, len, 's', &v, &vl) == -1 ||
	    mf_base64_decode(v, vl, salt, 0, e) == -1 || salt->len == 0)
		return mf_err_set(e, MF_E_PROTO, "%s: bad or missing salt",
		    mf_sasl_mech(s));
	if (scram_attr(msg, len, 'i', &v, &vl) == -1 || vl >= sizeof(num))
		return mf_err_set(e, MF_E_PROTO, "%s: bad or missing iteration"
		    " count", mf_sasl_mech(s));
	memcpy(num, v, vl);
	num[vl] = '\0';
	if (mf_parse_long(num, 1, SCRAM_ITER_MAX, &it) == -1)
		return mf_err_set(e, MF_E_PROTO, "%s: bad iteration count '%s'",
		    mf_sasl_mech(s), num);
	*iter = (unsigned)it;
	return 0;
}

static int
scram_channel_binding(struct mf_sasl *s, struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf cb = MF_BUF_INIT(SASL_STR_MAX);
	int r;

	/* §5.1 c=: base64(gs2-header [cbind-data]) */
	r = mf_buf_puts(&cb, s->gs2, e);
	if (r == 0 && s->m == M_SCRAM256_PLUS)
		r = mf_buf_append(&cb, s->cb, s->cb_len, e);
	if (r == 0)
		r = mf_buf_puts(out, "c=", e);
	if (r == 0)
		r = mf_base64_encode(cb.data, cb.len, out, e);
	mf_buf_wipe(&cb);
	return r;
}

static int
scram_client_final(struct mf_sasl *s, const char *msg, size_t len,
                   struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf salt = MF_BUF_INIT(1024), wo = MF_BUF_INIT(SCRAM_MSG_MAX);
	struct scram_keys k;
	unsigned char proof[64];
	const char *nonce = NULL;
	size_t nlen = 0;
	unsigned iter = 0;
	int r = -1;

	if (scram_server_error(s, msg, len, e) == -1 ||
	    scram_parse_first(s, msg, len, &salt, &iter, &nonce, &nlen, e) == -1)
		goto out;
	/* client-final-message-without-proof (§7) */
	if (scram_channel_binding(s, &wo, e) == -1 ||
	    mf_buf_printf(&wo, e, ",r=%.*s", (int)nlen, nonce) == -1)
		goto out;
	/* AuthMessage := client-first-bare "," server-first "," c-f-w/o-proof */
	if (mf_buf_putc(&s->auth_msg, ',', e) == -1 ||
	    mf_buf_append(&s->auth_msg, msg, len, e) == -1 ||
	    mf_buf_putc(&s->auth_msg, ',', e) == -1 ||
	    mf_buf_append(&s->auth_msg, wo.data, wo.len, e) == -1)
		goto out;
	if (scram_compute(s, (unsigned char *)salt.data, salt.len, iter, &k,
	    proof, e) == -1)
		goto out;
	if (mf_buf_append(out, wo.data, wo.len, e) == -1 ||
	    mf_buf_puts(out, ",p=", e) == -1 ||
	    mf_base64_encode(proof, mf_hash_len(scram_hash(s)), out, e) == -1)
		goto out;
	s->scram_state = 2;
	r = 0;
out:
	mf_memwipe(&k, sizeof(k));
	mf_memwipe(proof, sizeof(proof));
	mf_buf_free(&salt);
	mf_buf_free(&wo);
	return r;
}

/* server-final-message (§7): v=ServerSignature or e=error. */
static int
scram_verify(struct mf_sasl *s, const char *msg, size_t len, struct mf_err *e)
{
	struct mf_buf sig = MF_BUF_INIT(128);
	size_t hl = mf_hash_len(scram_hash(s));
	const char *v;
	size_t vl;
	int ok;

	if (scram_server_error(s, msg, len, e) == -1)
		return -1;
	if (scram_attr(msg, len, 'v', &v, &vl) == -1 ||
	    mf_base64_decode(v, vl, &sig, 0, NULL) == -1) {
		mf_buf_free(&sig);
		return mf_err_set(e, MF_E_AUTH, "%s: the server's final message"
		    " has no valid signature", mf_sasl_mech(s));
	}
	ok = sig.len == hl && memcmp(sig.data, s->server_sig, hl) == 0;
	mf_buf_free(&sig);
	if (!ok)
		return mf_err_set(e, MF_E_AUTH, "%s: wrong server signature: the"
		    " server does not know the password (impostor?)",
		    mf_sasl_mech(s));
	s->scram_state = 3;
	return 0;
}

static int
scram_step(struct mf_sasl *s, const unsigned char *in, size_t len,
           struct mf_buf *out, struct mf_err *e)
{
	const char *msg = (const char *)in;

	if (memchr(in, '\0', len) != NULL)
		return mf_err_set(e, MF_E_PROTO, "%s: NUL in server message",
		    mf_sasl_mech(s));
	switch (s->scram_state) {
	case 0:
		/* The protocol could not send an initial response. */
		if (len == 0)
			return scram_initial(s, out, e);
		break;
	case 1:
		return scram_client_final(s, msg, len, out, e);
	case 2:
		/* Answered with an empty response; success comes next. */
		return scram_verify(s, msg, len, e) == -1 ? -1 :
		    mf_buf_append(out, "", 0, e);
	}
	return mf_err_set(e, MF_E_PROTO, "%s: unexpected server message",
	    mf_sasl_mech(s));
}

/* ---- dispatch ---- */

int
mf_sasl_initial(struct mf_sasl *s, struct mf_buf *out, int *has_initial,
                struct mf_err *e)
{
	*has_initial = 1;
	switch (s->m) {
	case M_LOGIN:
	case M_CRAM_MD5:
		*has_initial = 0;
		return 0;
	case M_PLAIN:
		return plain_initial(s, out, e);
	case M_XOAUTH2:
		return xoauth2_initial(s, out, e);
	case M_OAUTHBEARER:
		return oauthbearer_initial(s, out, e);
	case M_EXTERNAL:
		/* RFC 4422 Appendix A: the response is the authzid, maybe empty */
		return mf_buf_puts(out, s->authzid ? s->authzid : "", e);
	case M_SCRAM256_PLUS:
	case M_SCRAM256:
	case M_SCRAM1:
		return scram_initial(s, out, e);
	case M_NONE:
		break;
	}
	return mf_err_set(e, MF_E_INTERNAL, "no mechanism");
}

int
mf_sasl_step(struct mf_sasl *s, const unsigned char *in, size_t len,
             struct mf_buf *out, struct mf_err *e)
{
	int has, r;

	if (in == NULL)
		len = 0;
	switch (s->m) {
	case M_LOGIN:
		r = login_step(s, out, e);
		break;
	case M_CRAM_MD5:
		r = cram_md5_step(s, in, len, out, e);
		break;
	case M_PLAIN:
	case M_EXTERNAL:
	case M_XOAUTH2:
	case M_OAUTHBEARER:
		/* An empty first challenge asks for the initial response
		 * (RFC 4422 §5: no initial response in the command). */
		if (len == 0 && s->step == 0)
			r = mf_sasl_initial(s, out, &has, e);
		else if (s->m == M_XOAUTH2 || s->m == M_OAUTHBEARER)
			r = oauth_step(s, in, len, out, e);
		else
			r = mf_err_set(e, MF_E_PROTO, "%s: unexpected server"
			    " challenge", mf_sasl_mech(s));
		break;
	default:
		r = scram_step(s, in ? in : (const unsigned char *)"", len, out, e);
		break;
	}
	if (r == 0)
		s->step++;
	return r;
}

int
mf_sasl_finish(struct mf_sasl *s, const unsigned char *in, size_t len,
               struct mf_err *e)
{
	if (!is_scram(s->m))
		return 0;
	if (s->scram_state == 2 && in != NULL && len > 0 &&
	    scram_verify(s, (const char *)in, len, e) == -1)
		return -1;
	if (s->scram_state != 3)
		return mf_err_set(e, MF_E_AUTH, "%s: the server reported success"
		    " without proving it knows the password (no server"
		    " signature)", mf_sasl_mech(s));
	return 0;
}

/* ---- the exchange ---- */

#define B64_MAX (MF_SASL_PAYLOAD_MAX / 3 * 4 + 8)

/* Send a payload as one base64 line: on the command line after `prefix`
 * (then "=" stands for an empty payload), or alone (then it is an empty
 * line). */
static int
send_payload(const struct mf_sasl_proto *pr, void *io, const char *prefix,
             const struct mf_buf *raw, struct mf_err *e)
{
	struct mf_buf line = MF_BUF_INIT(B64_MAX + 128);
	size_t secret_from;
	int rc = -1;

	if (mf_buf_puts(&line, prefix != NULL ? prefix : "", e) == -1)
		goto done;
	secret_from = line.len;
	if (raw->len > 0) {
		if (mf_base64_encode(raw->data, raw->len, &line, e) == -1)
			goto done;
	} else if (prefix != NULL && mf_buf_puts(&line, "=", e) == -1) {
		goto done;
	}
	if (prefix != NULL)
		rc = pr->send_command(io, line.data, secret_from, e);
	else
		rc = pr->send_line(io, line.data ? line.data : "", 1, e);
done:
	mf_buf_wipe(&line);
	return rc;
}

/* "*" ends the exchange (RFC 4954 §4, RFC 5034 §4, RFC 3501 §6.2.2); the
 * server's answer to it is read and dropped, so that the next command
 * gets its own reply.  e keeps our reason. */
static void
cancel(const struct mf_sasl_proto *pr, void *io)
{
	struct mf_sasl_reply r;
	struct mf_err ign;

	mf_err_clear(&ign);
	if (pr->send_line(io, "*", 0, &ign) == 0)
		(void)pr->read_reply(io, &r, &ign);
}

/* The command, with the initial response when it may and does fit. */
static int
send_first(const struct mf_sasl_proto *pr, void *io, int ir_ok,
           struct mf_sasl *s, int *pending, struct mf_buf *first,
           struct mf_err *e)
{
	char cmd[128], prefix[130];
	int has_ir = 0, n;

	*pending = 0;
	if (mf_sasl_initial(s, first, &has_ir, e) == -1)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "%s %s", pr->command, mf_sasl_mech(s));
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return mf_err_set(e, MF_E_USAGE, "SASL mechanism name too long");
	if (has_ir && ir_ok && (pr->ir_line_max == 0 || (size_t)n + 1 +
	    (first->len > 0 ? (first->len + 2) / 3 * 4 : 1) <= pr->ir_line_max)) {
		(void)snprintf(prefix, sizeof(prefix), "%s ", cmd);
		return send_payload(pr, io, prefix, first, e);
	}
	*pending = has_ir;
	return pr->send_command(io, cmd, MF_TX_NO_SECRET, e);
}

/* Answer one challenge; -1 with e filled and the exchange cancelled. */
static int
answer(const struct mf_sasl_proto *pr, void *io, struct mf_sasl *s,
       const char *payload, struct mf_err *e)
{
	struct mf_buf in = MF_BUF_INIT(MF_SASL_PAYLOAD_MAX);
	struct mf_buf out = MF_BUF_INIT(MF_SASL_PAYLOAD_MAX);
	int rc = -1;

	if (strlen(payload) > B64_MAX) {
		mf_err_set(e, MF_E_PROTO, "the server's SASL challenge is too "
		    "long (over %d bytes)", MF_SASL_PAYLOAD_MAX);
	} else if (mf_base64_decode(payload, strlen(payload), &in, 0,
	    e) == -1) {
		mf_err_set(e, MF_E_PROTO, "the server's SASL challenge is not "
		    "base64");
	} else if (mf_sasl_step(s, (const unsigned char *)in.data, in.len,
	    &out, e) == -1) {
		if (e->kind == MF_E_DATA || e->kind == MF_E_LIMIT)
			e->kind = MF_E_PROTO;
	} else {
		rc = send_payload(pr, io, NULL, &out, e);
		goto done;
	}
	cancel(pr, io);
done:
	mf_buf_wipe(&in);
	mf_buf_wipe(&out);
	return rc;
}

/* Append the decoded OAuth error (RFC 7628 §3.2.2) to the refusal. */
static void
add_server_error(struct mf_sasl *s, char *why, size_t whylen,
                 struct mf_err *e)
{
	const char *se = mf_sasl_server_error(s);
	size_t n;

	if (why != NULL && whylen > 0)
		mf_strlcpy(why, se, whylen);
	if (*se == '\0')
		return;
	n = strlen(e->msg);
	if (n < sizeof(e->msg) - 1)
		(void)snprintf(e->msg + n, sizeof(e->msg) - n, "; %s", se);
}

int
mf_sasl_one_round(const char *mech)
{
	enum mech m = mech_of(mech);

	return m == M_PLAIN || m == M_EXTERNAL;
}

int
mf_sasl_send_one_round(const struct mf_sasl_proto *pr, void *io,
                       const char *mech, const struct mf_sasl_params *p,
                       struct mf_err *e)
{
	struct mf_buf first = MF_BUF_INIT(MF_SASL_PAYLOAD_MAX);
	struct mf_sasl *s;
	int pending = 0, rc = -1;

	if (!mf_sasl_one_round(mech))
		return mf_err_set(e, MF_E_INTERNAL, "%s is not a one-round "
		    "SASL mechanism", mech);
	if ((s = mf_sasl_new(mech, p, e)) == NULL)
		return -1;
	if (send_first(pr, io, 1, s, &pending, &first, e) == 0)
		rc = pending ? mf_err_set(e, MF_E_INTERNAL, "the initial "
		    "response of %s did not fit the command line", mech) : 0;
	mf_buf_wipe(&first);
	mf_sasl_free(s);
	return rc;
}

int
mf_sasl_exchange(const struct mf_sasl_proto *pr, void *io, int ir_ok,
                 const char *mech, const struct mf_sasl_params *p,
                 char *why, size_t whylen, struct mf_err *e)
{
	struct mf_buf first = MF_BUF_INIT(MF_SASL_PAYLOAD_MAX);
	struct mf_sasl_reply r;
	struct mf_sasl *s;
	int pending, round, rc = -1;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((s = mf_sasl_new(mech, p, e)) == NULL)
		return -1;
	if (send_first(pr, io, ir_ok, s, &pending, &first, e) == -1)
		goto done;
	for (round = 0; ; round++) {
		if (pr->read_reply(io, &r, e) == -1)
			goto done;
		if (r.kind == MF_SASL_SUCCESS) {
			rc = mf_sasl_finish(s, NULL, 0, e);
			goto done;
		}
		if (r.kind == MF_SASL_FAILURE) {
			pr->refused(io, mf_sasl_mech(s), e);
			add_server_error(s, why, whylen, e);
			goto done;
		}
		if (round == MF_SASL_ROUNDS) {
			mf_err_set(e, MF_E_PROTO, "the server sent too many SASL "
			    "challenges (over %d)", MF_SASL_ROUNDS);
			cancel(pr, io);
			goto done;
		}
		if (pending) {
			/* RFC 4422 §5: the initial response follows the
			 * server's first, empty, challenge. */
			pending = 0;
			if (send_payload(pr, io, NULL, &first, e) == -1)
				goto done;
		} else if (answer(pr, io, s, r.payload, e) == -1) {
			goto done;
		}
	}
done:
	mf_buf_wipe(&first);
	mf_sasl_free(s);
	return rc;
}
