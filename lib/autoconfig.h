/* autoconfig.h - the Mozilla ISPDB / autoconfig document
 * (config-v1.1.xml), the subset mail discovery needs.
 *
 * mf_autoconfig_parse() is pure and bounded: bytes in, at most
 * MF_AC_SERVERS_MAX servers out.  It reads elements, attributes, text,
 * comments, the XML declaration and the five predefined entities; a
 * DOCTYPE, CDATA, processing instructions other than the declaration,
 * unknown entities, names or values over their limits, and nesting deeper
 * than MF_AC_DEPTH_MAX are errors (so no entity expansion, no external
 * fetch, no unbounded work).  Of the document only
 * clientConfig/emailProvider/{incoming,outgoing}Server and their
 * hostname, port, socketType, username and authentication children are
 * kept; everything else is skipped.
 *
 * Must not: fetch anything (https.h and discover.h do), print or exit. */
#ifndef MF_AUTOCONFIG_H
#define MF_AUTOCONFIG_H

#include <stddef.h>

#include "err.h"

#define MF_AC_DOC_MAX 65536     /* bytes of a document */
#define MF_AC_SERVERS_MAX 16
#define MF_AC_DEPTH_MAX 16
#define MF_AC_VALUE_MAX 256     /* a text or attribute value */

enum mf_ac_proto { MF_AC_SMTP = 0, MF_AC_IMAP, MF_AC_POP3 };
enum mf_ac_socket {
	MF_AC_SOCK_UNKNOWN = 0, /* missing or not one of the three */
	MF_AC_SSL,              /* implicit TLS */
	MF_AC_STARTTLS,
	MF_AC_PLAIN
};

struct mf_ac_server {
	enum mf_ac_proto proto;
	char hostname[MF_AC_VALUE_MAX];
	int port;                   /* 0 when missing or invalid */
	enum mf_ac_socket socket;
	char username[MF_AC_VALUE_MAX];   /* placeholders substituted */
	char auth[64];              /* the first <authentication>, e.g.
	                               "password-cleartext"; "" if none */
};

struct mf_autoconfig {
	size_t n;
	struct mf_ac_server srv[MF_AC_SERVERS_MAX];
	size_t skipped;             /* servers of other types, or beyond MAX */
};

/* Parse doc (len bytes, need not be NUL-terminated) for the address
 * ("local@domain"; %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% in
 * usernames and hostnames are replaced from it).  0 with ac filled
 * (servers in document order), -1 with e (MF_E_PROTO, or MF_E_LIMIT for
 * a size limit) on anything malformed.  A document without servers is
 * not an error: ac->n is 0. */
int mf_autoconfig_parse(const char *doc, size_t len, const char *address,
                        struct mf_autoconfig *ac, struct mf_err *e);

/* "smtp", "imap", "pop3"; "SSL", "STARTTLS", "plain", "unknown". */
const char *mf_ac_proto_name(enum mf_ac_proto p);
const char *mf_ac_socket_name(enum mf_ac_socket s);

#endif
