/* sasl.h - one SASL client for SMTP (RFC 4954), POP3 (RFC 5034) and IMAP
 * (RFC 3501 §6.2.2, RFC 4959): the mechanisms and the whole exchange.
 *
 * Owns: choosing a mechanism (mf_sasl_choose, mf_sasl_login with its one
 * retry without channel binding), the mechanisms themselves (PLAIN, LOGIN,
 * CRAM-MD5, SCRAM-SHA-1/-256(-PLUS), XOAUTH2, OAUTHBEARER, EXTERNAL), and
 * the conversation (mf_sasl_exchange: command, challenges, base64, cancel,
 * limits), which each protocol drives through a small descriptor of its
 * words.  Does not own: sockets, line reading, the protocol's replies --
 * those come through the descriptor's hooks.  Secrets are wiped at free
 * and never reach a transcript unredacted.  The lower-level calls
 * (mf_sasl_new, _initial, _step, _finish) stay public for the RFC vector
 * tests.
 *
 * Must not: spell a protocol's command words (the descriptor does), keep a
 * secret unwiped, print or exit. */
#ifndef MF_SASL_H
#define MF_SASL_H

#include <stddef.h>

#include "buf.h"
#include "cred.h"
#include "err.h"
#include "transcript.h"
#include "transport.h"

struct mf_sasl_params {
	const char *user;          /* authentication identity */
	const char *authzid;       /* authorization identity, or NULL */
	const char *password;      /* password (PLAIN, LOGIN, CRAM-MD5, SCRAM) */
	const char *token;         /* OAuth 2 bearer token (XOAUTH2, OAUTHBEARER) */
	const char *host;          /* server host, for OAUTHBEARER's host= */
	unsigned port;             /* server port, for OAUTHBEARER's port= */
	const unsigned char *cb_data; /* channel binding data for *-PLUS
	                                 (mf_sasl_bind_tls); NULL when not on TLS */
	size_t cb_len;
	const char *cb_type;       /* "tls-exporter" (RFC 9266) or "tls-unique"
	                              (RFC 5929); NULL: tls-exporter */
	int server_plus;           /* the server offered a *-PLUS mechanism:
	                              then SCRAM without binding says "n", never
	                              "y" (RFC 5802 §6); mf_sasl_login sets it */
	const char *test_nonce;    /* fixed client nonce, for RFC test vectors only */
};

struct mf_sasl;

/* Zero p and fill it for one login of account a with `secret` (borrowed):
 * a bearer token when `want` names only OAuth mechanisms
 * (mf_sasl_secret_is_token), else a password; host and port for
 * OAUTHBEARER (may be NULL, 0); a->test_nonce (tests only) as is. */
void mf_sasl_params_set(struct mf_sasl_params *p, const struct mf_auth *a,
                        const char *want, const char *secret,
                        const char *host, unsigned port);

/* Mechanisms we implement, in our order of preference (strongest first;
 * the OAuth ones are only usable with a token, EXTERNAL only on request),
 * NULL-terminated. */
extern const char *const mf_sasl_mechs[];

/* 1 if we implement `mech` (case-insensitive). */
int mf_sasl_supported(const char *mech);

/* Place of `mech` in mf_sasl_mechs (0 = strongest; case-insensitive), or
 * the list's length for a mechanism we do not implement. */
int mf_sasl_rank(const char *mech);

/* 1 if mech sends the password in a recoverable form (PLAIN, LOGIN; also
 * XOAUTH2 and OAUTHBEARER, whose bearer token is as good as a password). */
int mf_sasl_is_plaintext(const char *mech);

/* Is the user's secret an OAuth 2 bearer token rather than a password?
 * Only when `want` (the --auth value: a space/comma-separated list) names
 * OAuth mechanisms (XOAUTH2, OAUTHBEARER) and nothing else; "auto", NULL
 * and password mechanisms mean a password.  The protocol modules use this
 * one rule, so a password is never sent as a bearer token to a server that
 * merely offers XOAUTH2. */
int mf_sasl_secret_is_token(const char *want);

/* Pick the best mechanism among `offered` (space-separated, as in EHLO
 * AUTH / CAPA SASL / IMAP AUTH=) that we support and can use with what we
 * have: token mechanisms need p->token, password ones p->password, -PLUS
 * needs p->cb_data, plaintext ones need `encrypted` (or allow_plain).
 * `want` (NULL, "" or "auto": any) restricts to a space/comma-separated
 * list; EXTERNAL is only chosen when `want` names it. With a token the
 * OAuth mechanisms come first.
 * Writes the name into out. -1 (MF_E_UNSUPPORTED with a message listing
 * what was offered) if none fits. */
int mf_sasl_choose(const char *offered, const char *want,
                   const struct mf_sasl_params *p, int encrypted,
                   int allow_plain, char *out, size_t outlen,
                   struct mf_err *e);

/* 1 if the space/comma-separated list names a *-PLUS mechanism. */
int mf_sasl_offers_plus(const char *offered);

/* Point p's channel binding at the data of TLS transport t (copied into
 * buf, which must stay alive while p is used; 64 bytes are enough) and set
 * its type.  p is left without binding when t is not TLS or the binding is
 * not available. */
void mf_sasl_bind_tls(struct mf_sasl_params *p, struct mf_transport *t,
                      unsigned char *buf, size_t buflen);

/* One authentication attempt over a protocol: run the exchange for mech
 * with p.  0 on success; -1 with e filled (a server refusal carries the
 * server's reply in e->reply). */
typedef int (*mf_sasl_attempt_fn)(void *arg, const char *mech,
                                  const struct mf_sasl_params *p,
                                  struct mf_err *e);

/* Choose among `offered` (as mf_sasl_choose) and authenticate through
 * `attempt`, with p->server_plus set from `offered`.  When `want` is
 * automatic (NULL, "", "auto") and the server refuses a *-PLUS mechanism
 * (e.g. it binds another channel-binding type than the one this TLS
 * version gives), try once more with the best mechanism without channel
 * binding, and note that in tr (may be NULL).  The mechanism last tried is
 * written to used (may be NULL). */
int mf_sasl_login(const char *offered, const char *want,
                  const struct mf_sasl_params *p, int encrypted,
                  int allow_plain, mf_sasl_attempt_fn attempt, void *arg,
                  struct mf_transcript *tr, char *used, size_t usedlen,
                  struct mf_err *e);

/* ---- the exchange, shared by the three protocols ----
 *
 * A protocol describes its side once (curl's SASLproto idea) and
 * mf_sasl_exchange() runs the whole conversation: the command with the
 * initial response when allowed ("=" when it is empty: RFC 4954 §4,
 * RFC 5034 §4, RFC 4959 §3), otherwise the initial response after the
 * server's first (empty) continuation; every challenge decoded, answered
 * and encoded; "*" to cancel when a challenge is bad or the rounds run out
 * (the server's answer to the cancel is read, so the session stays in
 * step); the server's success checked by mf_sasl_finish().  Limits:
 * MF_SASL_ROUNDS challenges, MF_SASL_PAYLOAD_MAX bytes per decoded
 * challenge or response. */
#define MF_SASL_ROUNDS 16
#define MF_SASL_PAYLOAD_MAX 65536

enum mf_sasl_reply_kind {
	MF_SASL_CONTINUE,  /* SMTP 334, POP3 and IMAP "+" */
	MF_SASL_SUCCESS,   /* SMTP 235, POP3 +OK, IMAP tagged OK */
	MF_SASL_FAILURE    /* anything else that ends the exchange */
};

struct mf_sasl_reply {
	enum mf_sasl_reply_kind kind;
	const char *payload;  /* CONTINUE: the base64 text after "334 " or
	                         "+ " ("" for none); valid until the next read */
};

struct mf_sasl_proto {
	const char *command;   /* "AUTH" (SMTP, POP3) or "AUTHENTICATE" (IMAP) */
	size_t ir_line_max;    /* longest command line that may carry the
	                          initial response (POP3: 255, RFC 5034 §4);
	                          0: no limit of its own */
	/* Send the command line `line` ("AUTH PLAIN AGFsaWNl...") and flush;
	 * bytes from secret_from on are a secret.  IMAP adds its tag. */
	int (*send_command)(void *io, const char *line, size_t secret_from,
	                    struct mf_err *e);
	/* Send one untagged line (a response, or "*") and flush; `secret`
	 * says whether the transcript must redact it. */
	int (*send_line)(void *io, const char *line, int secret,
	                 struct mf_err *e);
	/* Read the next reply belonging to the exchange and say what it is
	 * (the protocol keeps the reply itself for its caller). */
	int (*read_reply)(void *io, struct mf_sasl_reply *r, struct mf_err *e);
	/* The server refused `mech` with the reply last read: fill e (kind,
	 * server reply, a readable message). */
	void (*refused)(void *io, const char *mech, struct mf_err *e);
};

/* Authenticate with `mech` over `io` as described by `proto`.  ir_ok: the
 * initial response may go on the command line (IMAP: only when SASL-IR is
 * advertised, RFC 4959).  0 on success; -1 with e filled: the protocol's
 * refusal (with the decoded OAuth error appended, which is also copied to
 * why when why is not NULL), MF_E_PROTO for a bad or endless exchange, or
 * the mechanism's own error (e.g. an impostor's SCRAM signature). */
int mf_sasl_exchange(const struct mf_sasl_proto *proto, void *io, int ir_ok,
                     const char *mech, const struct mf_sasl_params *p,
                     char *why, size_t whylen, struct mf_err *e);

/* 1 when mech sends first and is done in one round trip without a
 * security layer: PLAIN and EXTERNAL.  RFC 4954 §4 lets such an AUTH,
 * with its initial response, ride in a pipelined group (RFC 2920). */
int mf_sasl_one_round(const char *mech);
/* Send only mech's command with its initial response (a one-round
 * mechanism's whole part; the initial response must fit the command
 * line): the protocol reads the verdict later, in turn with the replies
 * of what it pipelined behind.  0, or -1 with e filled. */
int mf_sasl_send_one_round(const struct mf_sasl_proto *proto, void *io,
                           const char *mech, const struct mf_sasl_params *p,
                           struct mf_err *e);

/* Start a session for `mech` (MF_E_UNSUPPORTED if unknown). Copies what
 * it needs from p (strings are duplicated). */
struct mf_sasl *mf_sasl_new(const char *mech, const struct mf_sasl_params *p,
                            struct mf_err *e);
void mf_sasl_free(struct mf_sasl *s);

const char *mf_sasl_mech(const struct mf_sasl *s);

/* The client's first message. *has_initial is set to 0 for mechanisms that
 * wait for a server challenge first (LOGIN, CRAM-MD5); otherwise `out`
 * holds the initial response (possibly empty: EXTERNAL). */
int mf_sasl_initial(struct mf_sasl *s, struct mf_buf *out, int *has_initial,
                    struct mf_err *e);

/* Answer a server challenge in[0..len) by writing the response to out.
 * For SCRAM the server-final message is checked here (MF_E_AUTH if its
 * signature is wrong, the server is an impostor).  For XOAUTH2 and
 * OAUTHBEARER a challenge is the server's JSON error: it is decoded into
 * mf_sasl_server_error() and the response is the dummy the RFCs ask for
 * (OAUTHBEARER: a single 0x01, RFC 7628 §3.2.3; XOAUTH2: empty).
 * An empty first challenge to a mechanism with an initial response
 * (protocols without initial-response support) is answered with it. */
int mf_sasl_step(struct mf_sasl *s, const unsigned char *in, size_t len,
                 struct mf_buf *out, struct mf_err *e);

/* Call after the server reported success.  Optional additional data
 * (IMAP/SMTP success with data) may be given in in/len (else NULL, 0).
 * -1 with MF_E_AUTH if a mutual-auth mechanism did not verify the server. */
int mf_sasl_finish(struct mf_sasl *s, const unsigned char *in, size_t len,
                   struct mf_err *e);

/* A readable rendering of the last error payload the server sent (decoded
 * XOAUTH2/OAUTHBEARER JSON: status, scope, schemes), or "" if none. */
const char *mf_sasl_server_error(const struct mf_sasl *s);

/* Decode an XOAUTH2/OAUTHBEARER error payload (the JSON object, raw or
 * still base64-encoded) into readable text, e.g. "status 401
 * (invalid_token: the token is expired or revoked); required scope:
 * https://mail.google.com/". Writes "" if it is not such a payload. */
void mf_sasl_describe_oauth_error(const unsigned char *json, size_t len,
                                  char *out, size_t outlen);

#endif
