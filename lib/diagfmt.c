/* diagfmt.c - smtp-auth-test's text and JSON reports. */
#include "diagfmt.h"
#include "esc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certfmt.h"
#include "cli.h"
#include "idn.h"
#include "json.h"

static const char *
mech_result_name(enum mf_diag_mech_result m)
{
	switch (m) {
	case MF_DIAG_MECH_OK: return "ok";
	case MF_DIAG_MECH_FAILED: return "failed";
	default: return "not-tried";
	}
}

static const char *
tls_used_name(enum mf_tls_mode m)
{
	switch (m) {
	case MF_TLS_IMPLICIT: return "implicit";
	case MF_TLS_STARTTLS: return "starttls";
	case MF_TLS_NONE: return "none";
	default: return "auto";
	}
}

/* Server text may hold anything: escape control bytes before it reaches
 * a terminal. */
static void
safe(const char *in, char *out, size_t outlen)
{
	mf_esc_str(out, outlen, in);
}

/* ------------------------------------------------------------------ text */

static void
text_stages(const struct mf_diag_report *r, struct mf_buf *b)
{
	char t[600], one[sizeof(r->stage[0].text)];
	char line[sizeof(r->stage[0].text)];
	int i;

	mf_buf_puts(b, "STAGES\n", NULL);
	for (i = 0; i < MF_DIAG_NSTAGES; i++) {
		const struct mf_diag_stage *s = &r->stage[i];
		const char *detail;

		if (!s->done)
			continue;
		/* A failure after a positive reply (the handshake after "220
		 * go ahead") is told by our message, not by that reply. */
		int show_code = s->code && (s->ok || s->code >= 400);

		/* EHLO's other lines are the capabilities, shown below. */
		mf_strlcpy(line, s->text, sizeof(line));
		if ((i == MF_DIAG_EHLO || i == MF_DIAG_EHLO_TLS) && s->ok)
			line[strcspn(line, "\n")] = '\0';
		detail = show_code || s->ok ? mf_smtp_reply_line(line, one,
		    sizeof(one)) : s->msg;
		safe(detail, t, sizeof(t));
		if (show_code)
			mf_buf_printf(b, NULL, "  %-9s %-7s %6ld ms  %d %s%s%s\n",
			              mf_diag_stage_name((enum mf_diag_stage_id)i),
			              s->ok ? "ok" : "FAILED", s->ms, s->code,
			              s->enhanced, s->enhanced[0] ? " " : "", t);
		else
			mf_buf_printf(b, NULL, "  %-9s %-7s %6ld ms  %s\n",
			              mf_diag_stage_name((enum mf_diag_stage_id)i),
			              s->ok ? "ok" : "FAILED", s->ms, t);
	}
}

static void
text_caps_one(struct mf_buf *b, const char *label, const struct mf_smtp_caps *c)
{
	char line[2200];
	size_t i;

	mf_strlcpy(line, c->raw, sizeof(line));
	for (i = 0; line[i]; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	mf_buf_printf(b, NULL, "  %-11s %s\n", label, line[0] ? line : "(none)");
	mf_buf_printf(b, NULL, "  %-11s STARTTLS %s, AUTH %s\n", "",
	              c->starttls ? "offered" : "not offered",
	              c->auth[0] ? c->auth : "not offered");
}

static void
text_caps(const struct mf_diag_report *r, struct mf_buf *b)
{
	if (!r->have_caps_before && !r->have_caps_after)
		return;
	mf_buf_puts(b, "CAPABILITIES\n", NULL);
	if (mf_diag_product(r) != NULL)
		mf_buf_printf(b, NULL, "  %-11s %s (from its banner/EHLO)\n",
		              "server:", mf_diag_product(r));
	if (r->have_caps_before)
		text_caps_one(b, "before TLS:", &r->caps_before);
	if (r->have_caps_after)
		text_caps_one(b, r->tls_used == MF_TLS_IMPLICIT ? "over TLS:"
		              : "after TLS:", &r->caps_after);
}

static void
text_cert(struct mf_buf *b, size_t i, const struct mf_cert_info *c)
{
	char nb[32], na[32];

	mf_certfmt_iso_time(c->not_before, nb, sizeof(nb));
	mf_certfmt_iso_time(c->not_after, na, sizeof(na));
	mf_buf_printf(b, NULL, "    %zu subject: %s\n", i, c->subject);
	mf_buf_printf(b, NULL, "      issuer:  %s\n", c->issuer);
	if (c->sans[0])
		mf_buf_printf(b, NULL, "      names:   %s\n", c->sans);
	mf_buf_printf(b, NULL, "      valid:   %s .. %s%s%s\n", nb, na,
	              c->self_signed ? "  (self-signed)" : "",
	              c->is_ca ? "  (CA)" : "");
	mf_buf_printf(b, NULL, "      key:     %s  sha256 %s\n", c->key_desc,
	              c->sha256);
}

static void
text_tls(const struct mf_diag_report *r, struct mf_buf *b)
{
	const struct mf_tls_info *t = &r->tls;
	char ps[200], shown[MF_IDN_NAME_MAX];
	size_t i;

	if (!r->tls_attempted)
		return;
	mf_buf_puts(b, "TLS\n", NULL);
	if (t->version[0])
		mf_buf_printf(b, NULL, "  %s, %s, key exchange %s%s%s\n",
		              t->version, t->cipher, t->kx[0] ? t->kx : "?",
		              t->mac[0] ? ", MAC " : "", t->mac);
	if (!r->tls_ok)
		mf_buf_puts(b, "  handshake: FAILED\n", NULL);
	if (t->alert[0])
		mf_buf_printf(b, NULL, "  alert: %s\n", t->alert);
	if (t->plaintext_seen[0]) {
		safe(t->plaintext_seen, ps, sizeof(ps));
		mf_buf_printf(b, NULL, "  the server answered in clear: \"%s\"\n", ps);
	}
	mf_idn_display(t->checked_name[0] ? t->checked_name : r->verify_name,
	    shown, sizeof(shown));
	if (t->handshake_done || t->chain_len)
		mf_buf_printf(b, NULL, "  verification: %s (name checked: %s)%s%s\n",
		              t->verified ? "ok" : (r->insecure ? "SKIPPED (--insecure)"
		                                               : "FAILED"),
		              shown, t->verify_reason[0] ? "\n    " : "",
		              t->verify_reason);
	if (t->chain_len)
		mf_buf_printf(b, NULL, "  chain as sent by the server (%zu):\n",
		              t->chain_len);
	for (i = 0; i < t->chain_len && i < MF_TLS_CHAIN_MAX; i++)
		text_cert(b, i, &t->chain[i]);
	if (r->probe_kind == 2)
		mf_buf_printf(b, NULL, "  probe with TLS 1.0/1.1 allowed: %s%s%s\n",
		              r->probe_ok ? "handshake worked" : "failed too",
		              r->probe_version[0] ? ", negotiated " : "",
		              r->probe_version);
}

static void
text_auth(const struct mf_diag_report *r, struct mf_buf *b)
{
	char t[600], se[600];
	size_t i;

	if (r->nmech == 0 && !r->auth_withheld)
		return;
	mf_buf_puts(b, "AUTH\n", NULL);
	if (r->auth_withheld)
		mf_buf_puts(b, "  credentials NOT sent: the connection is not "
		            "encrypted\n", NULL);
	for (i = 0; i < r->nmech; i++) {
		const struct mf_diag_mech *m = &r->mech[i];

		safe(m->text, t, sizeof(t));
		if (m->result == MF_DIAG_MECH_NOT_TRIED) {
			mf_buf_printf(b, NULL, "  %-14s not tried (%s)\n", m->name,
			              m->note);
			continue;
		}
		mf_buf_printf(b, NULL, "  %-14s %-7s %6ld ms  %d %s%s%s%s%s%s\n",
		              m->name, m->result == MF_DIAG_MECH_OK ? "ok" : "FAILED",
		              m->ms, m->code, m->enhanced, m->enhanced[0] ? " " : "",
		              t, m->note[0] ? " (" : "", m->note,
		              m->note[0] ? ")" : "");
		if (m->sasl_error[0]) {
			safe(m->sasl_error, se, sizeof(se));
			mf_buf_printf(b, NULL, "  %-14s server error: %s\n", "", se);
		}
	}
}

static void
text_findings(const struct mf_diag_report *r, struct mf_buf *b)
{
	char w[1100];
	size_t i;

	mf_buf_puts(b, "DIAGNOSIS\n", NULL);
	if (r->nfinding == 0)
		mf_buf_puts(b, "  no problems found\n", NULL);
	for (i = 0; i < r->nfinding; i++) {
		const struct mf_diag_finding *f = &r->finding[i];

		safe(f->what, w, sizeof(w));
		mf_buf_printf(b, NULL, "  [%s] %s\n", f->severity == MF_DIAG_ERROR
		              ? "ERROR" : f->severity == MF_DIAG_WARNING ? "WARNING"
		              : "INFO", mf_diag_code_name(f->code));
		mf_buf_printf(b, NULL, "    What: %s\n", w);
		mf_buf_printf(b, NULL, "    Why:  %s\n", f->why);
		mf_buf_printf(b, NULL, "    Fix:  %s\n", f->fix);
	}
}

int
mf_diagfmt_verdict(const struct mf_diag_report *r, struct mf_buf *out,
                   struct mf_err *e)
{
	char v[1100];

	safe(r->verdict, v, sizeof(v));
	return mf_buf_printf(out, e, "%s\n", v);
}

int
mf_diagfmt_text(const struct mf_diag_report *r, struct mf_buf *out,
                struct mf_err *e)
{
	char host[MF_IDN_NAME_MAX];
	size_t before = out->len;

	mf_idn_display(r->host, host, sizeof(host));
	mf_buf_printf(out, NULL, "\nsmtp-auth-test %s port %s%s%s, TLS %s "
	              "(asked: %s), %ld ms\n", host, r->port,
	              r->peer[0] ? " at " : "", r->peer,
	              tls_used_name(r->tls_used), tls_used_name(r->tls_req),
	              r->total_ms);
	text_stages(r, out);
	text_caps(r, out);
	text_tls(r, out);
	text_auth(r, out);
	text_findings(r, out);
	mf_buf_puts(out, "VERDICT: ", NULL);
	if (mf_diagfmt_verdict(r, out, e) == -1 || out->len == before)
		return mf_err_set(e, MF_E_LIMIT, "report too long");
	return 0;
}

/* ------------------------------------------------------------------ JSON */

static void
json_caps(struct mf_json *j, const char *key, int have,
          const struct mf_smtp_caps *c)
{
	const char *p;

	mf_json_key(j, key);
	if (!have) {
		mf_json_null(j);
		return;
	}
	mf_json_object_begin(j);
	mf_json_kv_bool(j, "esmtp", c->esmtp);
	mf_json_kv_bool(j, "starttls", c->starttls);
	mf_json_kv_bool(j, "pipelining", c->pipelining);
	mf_json_kv_bool(j, "size", c->size);
	mf_json_kv_int(j, "size_max", (long long)c->size_max);
	mf_json_kv_bool(j, "8bitmime", c->eightbitmime);
	mf_json_kv_bool(j, "smtputf8", c->smtputf8);
	mf_json_kv_bool(j, "dsn", c->dsn);
	mf_json_kv_bool(j, "chunking", c->chunking);
	mf_json_kv_bool(j, "enhancedstatuscodes", c->enhancedstatuscodes);
	mf_json_key(j, "auth");
	mf_json_array_begin(j);
	for (p = c->auth; *p;) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n)
			mf_json_string_n(j, p, n);
		p += n;
	}
	mf_json_array_end(j);
	mf_json_key(j, "keywords");
	mf_json_array_begin(j);
	for (p = c->raw; *p;) {
		size_t n = strcspn(p, "\n");

		if (n)
			mf_json_string_n(j, p, n);
		p += n;
		p += *p == '\n';
	}
	mf_json_array_end(j);
	mf_json_object_end(j);
}

static void
json_stages(struct mf_json *j, const struct mf_diag_report *r)
{
	int i;

	mf_json_key(j, "stages");
	mf_json_array_begin(j);
	for (i = 0; i < MF_DIAG_NSTAGES; i++) {
		const struct mf_diag_stage *s = &r->stage[i];

		if (!s->done)
			continue;
		mf_json_object_begin(j);
		mf_json_kv_string(j, "name",
		                  mf_diag_stage_name((enum mf_diag_stage_id)i));
		mf_json_kv_bool(j, "ok", s->ok);
		mf_json_kv_int(j, "ms", s->ms);
		mf_json_kv_int(j, "code", s->code);
		mf_json_kv_string(j, "enhanced", s->enhanced);
		mf_json_kv_string(j, "text", s->text);
		mf_json_kv_string(j, "error", s->ok ? NULL : mf_err_kind_name(s->err));
		mf_json_kv_string(j, "message", s->ok ? NULL : s->msg);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
}

static void
json_tls(struct mf_json *j, const struct mf_diag_report *r)
{
	const struct mf_tls_info *t = &r->tls;
	size_t i;

	mf_json_key(j, "tls");
	if (!r->tls_attempted) {
		mf_json_null(j);
		return;
	}
	mf_json_object_begin(j);
	mf_json_kv_bool(j, "ok", r->tls_ok);
	mf_json_kv_string(j, "version", t->version);
	mf_json_kv_string(j, "cipher", t->cipher);
	mf_json_kv_string(j, "kx", t->kx);
	mf_json_kv_string(j, "mac", t->mac);
	mf_json_kv_bool(j, "verified", t->verified);
	mf_json_kv_bool(j, "insecure", r->insecure);
	mf_json_kv_int(j, "verify_status", t->verify_status);
	mf_json_kv_string(j, "verify_reason", t->verify_reason);
	mf_json_kv_string(j, "checked_name", t->checked_name[0] ? t->checked_name
	                  : r->verify_name);
	mf_json_kv_bool(j, "name_mismatch", t->name_mismatch);
	mf_json_kv_bool(j, "expired", t->expired);
	mf_json_kv_bool(j, "not_yet_valid", t->not_yet_valid);
	mf_json_kv_bool(j, "unknown_ca", t->unknown_ca);
	mf_json_kv_bool(j, "pin_mismatch", t->pin_mismatch);
	mf_json_kv_string(j, "alert", t->alert);
	mf_json_kv_string(j, "plaintext_seen", t->plaintext_seen);
	mf_json_key(j, "chain");
	mf_json_array_begin(j);
	for (i = 0; i < t->chain_len && i < MF_TLS_CHAIN_MAX; i++)
		mf_certfmt_json(j, &t->chain[i]);
	mf_json_array_end(j);
	mf_json_object_end(j);
}

static void
json_probe(struct mf_json *j, const struct mf_diag_report *r)
{
	mf_json_key(j, "probe");
	if (r->probe_kind == 0) {
		mf_json_null(j);
		return;
	}
	mf_json_object_begin(j);
	mf_json_kv_string(j, "kind", r->probe_kind == 1 ? "implicit-tls"
	                                                : "legacy-tls");
	mf_json_kv_bool(j, "ok", r->probe_ok);
	mf_json_kv_string(j, "tls_version", r->probe_version);
	mf_json_object_end(j);
}

static void
json_auth(struct mf_json *j, const struct mf_diag_report *r)
{
	size_t i;

	mf_json_key(j, "auth");
	mf_json_object_begin(j);
	mf_json_kv_bool(j, "user_given", r->user_given);
	mf_json_kv_bool(j, "withheld", r->auth_withheld);
	mf_json_key(j, "mechanisms");
	mf_json_array_begin(j);
	for (i = 0; i < r->nmech; i++) {
		const struct mf_diag_mech *m = &r->mech[i];

		mf_json_object_begin(j);
		mf_json_kv_string(j, "name", m->name);
		mf_json_kv_string(j, "result", mech_result_name(m->result));
		mf_json_kv_int(j, "ms", m->ms);
		mf_json_kv_int(j, "code", m->code);
		mf_json_kv_string(j, "enhanced", m->enhanced);
		mf_json_kv_string(j, "text", m->text);
		mf_json_kv_string(j, "server_error", m->sasl_error);
		mf_json_kv_string(j, "note", m->note);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
	mf_json_object_end(j);
}

static void
json_findings(struct mf_json *j, const struct mf_diag_report *r)
{
	size_t i;

	mf_json_key(j, "findings");
	mf_json_array_begin(j);
	for (i = 0; i < r->nfinding; i++) {
		const struct mf_diag_finding *f = &r->finding[i];

		mf_json_object_begin(j);
		mf_json_kv_string(j, "code", mf_diag_code_name(f->code));
		mf_json_kv_string(j, "severity", mf_diag_severity_name(f->severity));
		mf_json_kv_int(j, "exit", f->exit_code);
		mf_json_kv_string(j, "message", f->what);
		mf_json_kv_string(j, "why", f->why);
		mf_json_kv_string(j, "fix", f->fix);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
	mf_json_key(j, "codes");
	mf_json_array_begin(j);
	for (i = 0; i < r->nfinding; i++)
		mf_json_string(j, mf_diag_code_name(r->finding[i].code));
	mf_json_array_end(j);
}

static void
json_transcript(struct mf_json *j, const struct mf_diag_report *r)
{
	const char *p = r->transcript.data ? r->transcript.data : "";

	mf_json_key(j, "transcript");
	mf_json_array_begin(j);
	while (*p) {
		size_t n = strcspn(p, "\n");

		mf_json_string_n(j, p, n);
		p += n;
		p += *p == '\n';
	}
	mf_json_array_end(j);
}

int
mf_diagfmt_json(const struct mf_diag_report *r, struct mf_buf *out,
                struct mf_err *e)
{
	struct mf_json j;

	mf_json_init(&j, out);
	mf_cli_json_begin(&j, "smtp-auth-test");
	mf_cli_json_name(&j, "host", r->host);
	mf_json_kv_string(&j, "port", r->port);
	mf_json_kv_string(&j, "peer", r->peer);
	mf_json_kv_string(&j, "tls_requested", tls_used_name(r->tls_req));
	mf_json_kv_string(&j, "tls_mode", tls_used_name(r->tls_used));
	json_stages(&j, r);
	mf_json_key(&j, "capabilities");
	mf_json_object_begin(&j);
	json_caps(&j, "before_tls", r->have_caps_before, &r->caps_before);
	json_caps(&j, "after_tls", r->have_caps_after, &r->caps_after);
	mf_json_object_end(&j);
	json_tls(&j, r);
	json_probe(&j, r);
	json_auth(&j, r);
	json_findings(&j, r);
	mf_json_kv_string(&j, "verdict", r->verdict);
	json_transcript(&j, r);
	mf_cli_json_end(&j, r->exit_code, r->total_ms, NULL);
	if (mf_json_status(&j) == -1)
		return mf_err_set(e, MF_E_LIMIT, "JSON report too long");
	return mf_buf_putc(out, '\n', e);
}
