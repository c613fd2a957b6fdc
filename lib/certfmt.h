/* certfmt.h - a peer certificate's facts (struct mf_cert_info) for the
 * tools' --json output, written the same way by every tool.
 *
 * Owns only the rendering of facts tls.c gathered; it must not open a
 * connection, verify anything or include GnuTLS. */
#ifndef MF_CERTFMT_H
#define MF_CERTFMT_H

#include <stddef.h>
#include <time.h>

#include "json.h"
#include "tls.h"

/* t as ISO 8601 UTC ("2026-11-21T23:08:00Z") into out; "" when t is 0 or
 * cannot be converted. */
void mf_certfmt_iso_time(time_t t, char *out, size_t outlen);

/* One JSON object: subject, issuer, sans, not_before, not_after (ISO 8601
 * UTC, null when unknown), days_left (to not_after, negative once
 * expired), sha256, spki_sha256, self_signed, is_ca, key. */
void mf_certfmt_json(struct mf_json *j, const struct mf_cert_info *c);

#endif
