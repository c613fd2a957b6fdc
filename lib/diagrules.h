/* diagrules.h - what smtp-auth-test observed and what it makes of it:
 * the report of one run (the steps, the capabilities, TLS, each AUTH
 * attempt) and the pure rule table that turns those observations into
 * findings (a stable code, what happened, why, and the fix) and an exit
 * status.  No I/O: a test fills a report by hand and calls
 * mf_diag_analyze().  The session walk that fills a report for real is
 * diag.h; formatting is diagfmt.h.
 *
 * Must not: do I/O of any kind, print or exit. */
#ifndef MF_DIAGRULES_H
#define MF_DIAGRULES_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "smtp.h"
#include "tls.h"

/* The steps of a session, in order.  PROBE is the extra connection made
 * to tell a silent implicit-TLS port or a TLS version mismatch apart. */
enum mf_diag_stage_id {
	MF_DIAG_CONNECT = 0,
	MF_DIAG_BANNER,
	MF_DIAG_EHLO,
	MF_DIAG_STARTTLS,
	MF_DIAG_EHLO_TLS,
	MF_DIAG_AUTH,
	MF_DIAG_MAIL,
	MF_DIAG_RCPT,
	MF_DIAG_PROBE,
	MF_DIAG_NSTAGES
};

/* Stable finding codes (the names are the JSON/-q vocabulary). */
enum mf_diag_code {
	MF_DIAG_OK = 0,
	MF_DIAG_AUTH_NEEDS_STARTTLS,   /* 1 */
	MF_DIAG_IMPLICIT_TLS_PORT,     /* 2 */
	MF_DIAG_PLAINTEXT_PORT_TLS,    /* 3 */
	MF_DIAG_NO_STARTTLS,           /* 4 */
	MF_DIAG_TLS_UNAVAILABLE_454,   /* 5 */
	MF_DIAG_CERT_NAME_MISMATCH,    /* 6 */
	MF_DIAG_CERT_EXPIRED,          /* 7 */
	MF_DIAG_CERT_NOT_YET_VALID,    /* 7 */
	MF_DIAG_CERT_UNTRUSTED,        /* 8 */
	MF_DIAG_CERT_PIN_MISMATCH,
	MF_DIAG_TLS_VERSION_MISMATCH,  /* 9 */
	MF_DIAG_TLS_HANDSHAKE_FAILED,
	MF_DIAG_AUTH_BAD_CREDENTIALS,  /* 10 */
	MF_DIAG_AUTH_APP_PASSWORD,     /* 11 */
	MF_DIAG_AUTH_ENCRYPTION_REQUIRED, /* 12 */
	MF_DIAG_AUTH_MECH_UNSUPPORTED, /* 13 */
	MF_DIAG_OAUTH_ERROR,           /* 14 */
	MF_DIAG_AUTH_TEMPFAIL,
	MF_DIAG_AUTH_FAILED,
	MF_DIAG_AUTH_NOT_OFFERED,
	MF_DIAG_NO_USABLE_MECH,
	MF_DIAG_SENDER_NOT_AUTHORIZED, /* 15 */
	MF_DIAG_RCPT_REFUSED,
	MF_DIAG_SERVER_BUSY_421,       /* 16 */
	MF_DIAG_GREYLISTED,            /* 16 */
	MF_DIAG_SERVICE_REFUSED_554,
	MF_DIAG_CONN_REFUSED,          /* 17 */
	MF_DIAG_CONN_TIMEOUT,          /* 17 */
	MF_DIAG_DNS_FAILURE,           /* 17 */
	MF_DIAG_CONN_FAILED,
	MF_DIAG_NO_BANNER,
	MF_DIAG_EHLO_NAME_REJECTED,    /* 18 */
	MF_DIAG_CONN_CLOSED,           /* 19 */
	MF_DIAG_GARBAGE_REPLY,         /* 19 */
	MF_DIAG_REPLY_TIMEOUT,
	MF_DIAG_PLAINTEXT_AUTH_ONLY,   /* 20 */
	MF_DIAG_PLAINTEXT_SESSION,
	MF_DIAG_TLS_INSECURE,
	MF_DIAG_NO_USER,
	MF_DIAG_CLIENT_CONFIG,         /* our own settings are wrong */
	MF_DIAG_NCODES
};

enum mf_diag_severity { MF_DIAG_INFO = 0, MF_DIAG_WARNING, MF_DIAG_ERROR };

/* What one step did. */
struct mf_diag_stage {
	int done;                 /* attempted */
	int ok;                   /* worked */
	long ms;                  /* how long it took */
	enum mf_err_kind err;     /* MF_OK or why it failed */
	int sys_errno;
	int code;                 /* server reply code, 0 if none */
	char enhanced[16];
	char text[512];           /* reply text (first lines), or our note */
	char msg[512];            /* error message, "" when ok */
};

#define MF_DIAG_MECH_MAX 16

enum mf_diag_mech_result {
	MF_DIAG_MECH_NOT_TRIED = 0,  /* we do not implement it, or no secret fits */
	MF_DIAG_MECH_OK,
	MF_DIAG_MECH_FAILED
};

/* One AUTH attempt. */
struct mf_diag_mech {
	char name[32];
	enum mf_diag_mech_result result;
	long ms;
	enum mf_err_kind err;
	int code;
	char enhanced[16];
	char text[512];
	char sasl_error[512];     /* decoded OAuth error payload, or "" */
	char note[128];           /* why not tried, or "" */
};

struct mf_diag_finding {
	enum mf_diag_code code;
	enum mf_diag_severity severity;
	int exit_code;            /* what this finding alone would exit with */
	char what[512];
	char why[512];
	char fix[512];
};

#define MF_DIAG_FINDINGS_MAX 12
#define MF_DIAG_TRANSCRIPT_MAX (256 * 1024)

/* Everything observed in one run, then the analysis. */
struct mf_diag_report {
	/* what was asked */
	char host[256];
	char port[8];
	enum mf_tls_mode tls_req;      /* as given (AUTO when not given) */
	enum mf_tls_mode tls_used;     /* IMPLICIT, STARTTLS or NONE */
	char verify_name[256];
	int insecure;
	int pinned;
	int user_given;
	int mech_explicit;             /* --mech named mechanisms */
	int from_given, to_given;
	int quit_after;                /* last stage asked for, MF_DIAG_NSTAGES: all */
	int timeout_ms;
	char peer[64];                 /* address connected to */

	/* what happened */
	struct mf_diag_stage stage[MF_DIAG_NSTAGES];
	int have_caps_before, have_caps_after;
	struct mf_smtp_caps caps_before, caps_after;
	int tls_attempted;             /* STARTTLS sent or implicit handshake */
	int tls_ok;
	struct mf_tls_info tls;
	int probe_kind;                /* 0 none, 1 implicit-TLS probe, 2 legacy TLS probe */
	int probe_ok;                  /* the probe worked (220 over TLS / handshake) */
	char probe_version[16];        /* TLS version the legacy probe negotiated */
	int auth_withheld;             /* credentials not sent (unencrypted) */
	struct mf_diag_mech mech[MF_DIAG_MECH_MAX];
	size_t nmech;
	long total_ms;
	struct mf_buf transcript;      /* "MARKER line\n" ..., secrets redacted */

	/* the analysis */
	struct mf_diag_finding finding[MF_DIAG_FINDINGS_MAX];
	size_t nfinding;
	int exit_code;
	char verdict[512];
};

/* Prepare an empty report. */
void mf_diag_report_init(struct mf_diag_report *r);
/* Free what the report holds (not r itself). */
void mf_diag_report_free(struct mf_diag_report *r);

/* Pure: derive findings, exit_code and verdict from r's observations
 * (replacing earlier findings). Exit codes: 0 every requested step
 * worked, 77 credentials or sender refused, 75 temporary (4xx, timeout,
 * closed), 69 unreachable / TLS failure / missing feature, 76 protocol
 * violation, 78 (64) our own configuration (options) is wrong. */
void mf_diag_analyze(struct mf_diag_report *r);

/* "AUTH_NEEDS_STARTTLS" ...; "?" for an unknown code. */
const char *mf_diag_code_name(enum mf_diag_code c);
/* "connect", "banner", "ehlo", "starttls", "ehlo-tls", "auth", "mail",
 * "rcpt", "probe". */
const char *mf_diag_stage_name(enum mf_diag_stage_id id);
/* Parse a --quit-after word (connect|banner|ehlo|tls|auth|mail|rcpt).
 * -1 on anything else. */
int mf_diag_stage_parse(const char *s, enum mf_diag_stage_id *out);
const char *mf_diag_severity_name(enum mf_diag_severity s);

/* 1 if the report has a finding with this code. */
int mf_diag_has(const struct mf_diag_report *r, enum mf_diag_code c);

/* The capabilities AUTH is decided on: those after TLS if there was TLS,
 * else those before; NULL when EHLO never answered. */
const struct mf_smtp_caps *mf_diag_auth_caps(const struct mf_diag_report *r);

/* The server software, when the banner or the EHLO reply names it:
 * "Postfix", "Exim", "OpenSMTPD", "Dovecot submission", "Microsoft
 * Exchange" or "Sendmail"; NULL when it cannot be told. */
const char *mf_diag_product(const struct mf_diag_report *r);

/* 1 for the mechanisms that take an OAuth token instead of a password
 * (XOAUTH2, OAUTHBEARER), any case. */
int mf_diag_is_oauth_mech(const char *mech);

#endif
