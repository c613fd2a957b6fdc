/* tlsmode.h - how a connection is secured (STARTTLS, implicit TLS, none,
 * auto): the setting's values and their names.  A base module, so that
 * the configuration can name a mode without depending on the TLS layer;
 * it knows nothing of GnuTLS and does no I/O.
 *
 * Must not: depend on any other module, print or exit. */
#ifndef MF_TLSMODE_H
#define MF_TLSMODE_H

/* How a tool secures a protocol connection (shared by SMTP, POP3, IMAP). */
enum mf_tls_mode {
	MF_TLS_UNSET = 0,  /* not configured: the tool picks its default */
	MF_TLS_STARTTLS,   /* upgrade in-protocol; required */
	MF_TLS_IMPLICIT,   /* TLS from the first byte (465, 993, 995) */
	MF_TLS_NONE,       /* cleartext */
	MF_TLS_AUTO        /* smtp-auth-test: implicit on 465, else STARTTLS if offered */
};

/* Parse "starttls", "implicit" (also "tls", "ssl"), "none", "auto".
 * -1 on anything else. */
int mf_tls_mode_parse(const char *s, enum mf_tls_mode *out);
const char *mf_tls_mode_name(enum mf_tls_mode m);

#endif
