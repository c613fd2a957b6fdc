/* https.h - one bounded HTTPS GET, for the documents mail discovery
 * fetches: MTA-STS policies (RFC 8461 §3.3) and Mozilla autoconfig files.
 *
 * The caller resolves the name (through its own DNS context, so
 * --resolver holds) and passes one address; the certificate is always
 * verified against the name (no insecure mode), redirects are never
 * followed, only status 200 counts, and the whole response is limited to
 * the caller's maximum body size plus the header.
 *
 * Must not: resolve names (the caller does, with its own DNS context),
 * follow redirects, read past its size limit, print or exit. */
#ifndef MF_HTTPS_H
#define MF_HTTPS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct mf_https_params {
	const char *ca_file;      /* trust anchors; NULL: the system's */
	const char *port;         /* NULL: "443" */
	int timeout_ms;           /* connect and each read; 0: 10000 */
	size_t body_max;          /* 0: 65536 */
	const char *accept;       /* Accept header; NULL: "*\/\*" */
	const char *user_agent;   /* NULL: "mailflow" */
};

struct mf_https_response {
	int status;               /* HTTP status code, 0 if none arrived */
	char content_type[128];   /* the Content-Type value, "" if none */
};

/* GET https://HOST/PATH from addr.  The body of a 200 response is
 * appended to body; resp (may be NULL) gets the status and the content
 * type whenever a response arrived.  -1 with e on a connection or TLS
 * failure, a malformed or over-long response (MF_E_PROTO / MF_E_LIMIT) and
 * any status but 200 (MF_E_PROTO, "HTTP status N"). */
int mf_https_get(const char *host, const char *addr, const char *path,
                 const struct mf_https_params *p, struct mf_buf *body,
                 struct mf_https_response *resp, struct mf_err *e);

/* Pure, for tests: split a raw HTTP/1.x response into status, content
 * type and body (chunked transfer coding decoded). Same errors. */
int mf_https_parse(struct mf_buf *raw, struct mf_buf *body,
                   struct mf_https_response *resp, struct mf_err *e);

#endif
