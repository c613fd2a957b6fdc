/* discoverfmt.c - text, JSON and config output of a discovery. */
#include "discoverfmt.h"

#include <string.h>

#include "cli.h"
#include "esc.h"
#include "idn.h"
#include "json.h"
#include "tls.h"

int
mf_discoverfmt_config(const struct mf_disc_result *r, struct mf_buf *out,
                      struct mf_err *e)
{
	const struct mf_disc_account *a;
	size_t i;

	for (i = 0; i < r->nacct; i++) {
		a = &r->acct[i];
		if (mf_buf_printf(out, e, "%saccount %s\n"
		    "# %s, found by %s%s\n"
		    "host %s\nport %d\ntls %s\nauth %s\n", i ? "\n" : "",
		    a->name, mf_disc_proto_name(a->c.proto),
		    mf_disc_source_name(a->c.source),
		    a->tested ? ", tested" : ", not tested",
		    a->c.host, a->c.port, mf_tls_mode_name(a->c.tls),
		    a->auth) == -1)
			return -1;
		if (a->user[0] != '\0' &&
		    mf_buf_printf(out, e, "user %s\n", a->user) == -1)
			return -1;
	}
	return 0;
}

int
mf_discoverfmt_text(const struct mf_disc_result *r, struct mf_buf *out,
                    struct mf_err *e)
{
	const struct mf_disc_step *s;
	char detail[600], shown[MF_IDN_NAME_MAX];
	size_t i;

	/* names in both forms when they are IDNs (mf_idn_display) */
	mf_idn_display(r->domain, shown, sizeof(shown));
	if (mf_buf_printf(out, e, "discovering %s (domain %s)\n", r->query,
	    shown) == -1)
		return -1;
	for (i = 0; i < r->nstep; i++) {
		s = &r->step[i];
		/* details may quote servers: escape them for the terminal */
		mf_esc_str(detail, sizeof(detail), s->detail);
		if (s->is_attempt)
			mf_idn_display(s->cand.host, shown, sizeof(shown));
		if (s->is_attempt && mf_buf_printf(out, e, "%2zu %-10s %s:%d %s "
		    "(%s): %s%s%s [%ld ms]\n", i + 1, s->kind, shown, s->cand.port,
		    mf_tls_mode_name(s->cand.tls), mf_disc_source_name(s->cand.source),
		    s->outcome, detail[0] ? " - " : "", detail, s->ms) == -1)
			return -1;
		if (!s->is_attempt && mf_buf_printf(out, e, "%2zu %-10s %s: "
		    "%s%s%s [%ld ms]\n", i + 1, s->kind, s->what, s->outcome,
		    detail[0] ? " - " : "", detail, s->ms) == -1)
			return -1;
	}
	if (r->dropped && mf_buf_printf(out, e, "   (%zu more steps not "
	    "listed)\n", r->dropped) == -1)
		return -1;
	if (mf_buf_printf(out, e, "verdict: %s\n", r->verdict) == -1)
		return -1;
	if (r->nacct == 0)
		return 0;
	if (mf_buf_printf(out, e, "\n# mailflow configuration (mailflow(5)) "
	    "for %s\n", r->query) == -1)
		return -1;
	return mf_discoverfmt_config(r, out, e);
}

static void
json_step(struct mf_json *j, const struct mf_disc_step *s, size_t n)
{
	mf_json_object_begin(j);
	mf_json_kv_int(j, "step", (long long)n);
	mf_json_kv_string(j, "kind", s->kind);
	mf_json_kv_string(j, "what", s->what);
	mf_json_kv_string(j, "outcome", s->outcome);
	mf_json_kv_string(j, "detail", s->detail);
	mf_json_kv_int(j, "ms", s->ms);
	if (s->is_attempt) {
		mf_cli_json_name(j, "host", s->cand.host);
		mf_json_kv_int(j, "port", s->cand.port);
		mf_json_kv_string(j, "tls", mf_tls_mode_name(s->cand.tls));
		mf_json_kv_string(j, "source", mf_disc_source_name(s->cand.source));
		mf_json_kv_string(j, "offered", s->offered);
		mf_json_key(j, "mechanism");
		if (s->mech[0])
			mf_json_string(j, s->mech);
		else
			mf_json_null(j);
		mf_json_kv_int(j, "exit", s->exit_code);
	}
	mf_json_object_end(j);
}

int
mf_discoverfmt_json(const struct mf_disc_result *r, struct mf_buf *out,
                    struct mf_err *e)
{
	struct mf_buf cfg = MF_BUF_INIT(64 * 1024);
	struct mf_json j;
	size_t i;
	int rc;

	if (mf_discoverfmt_config(r, &cfg, e) == -1) {
		mf_buf_free(&cfg);
		return -1;
	}
	mf_json_init(&j, out);
	mf_cli_json_begin(&j, "smtp-auth-test");
	mf_json_kv_string(&j, "discover", r->query);
	mf_cli_json_name(&j, "domain", r->domain);
	mf_json_key(&j, "address");
	if (r->address[0])
		mf_json_string(&j, r->address);
	else
		mf_json_null(&j);
	mf_json_key(&j, "tried");
	mf_json_array_begin(&j);
	for (i = 0; i < r->nstep; i++)
		json_step(&j, &r->step[i], i + 1);
	mf_json_array_end(&j);
	mf_json_key(&j, "accounts");
	mf_json_array_begin(&j);
	for (i = 0; i < r->nacct; i++) {
		const struct mf_disc_account *a = &r->acct[i];

		mf_json_object_begin(&j);
		mf_json_kv_string(&j, "account", a->name);
		mf_json_kv_string(&j, "protocol", mf_disc_proto_name(a->c.proto));
		mf_cli_json_name(&j, "host", a->c.host);
		mf_json_kv_int(&j, "port", a->c.port);
		mf_json_kv_string(&j, "tls", mf_tls_mode_name(a->c.tls));
		mf_json_kv_string(&j, "auth", a->auth);
		mf_json_key(&j, "user");
		if (a->user[0])
			mf_json_string(&j, a->user);
		else
			mf_json_null(&j);
		mf_json_kv_string(&j, "source", mf_disc_source_name(a->c.source));
		mf_json_kv_bool(&j, "tested", a->tested);
		mf_json_object_end(&j);
	}
	mf_json_array_end(&j);
	mf_json_kv_string(&j, "config", cfg.len ? cfg.data : "");
	mf_json_kv_string(&j, "verdict", r->verdict);
	mf_cli_json_end(&j, r->exit_code, r->total_ms, NULL);
	mf_buf_free(&cfg);
	rc = mf_json_status(&j);
	if (rc == -1)
		return mf_err_set(e, MF_E_LIMIT, "JSON report too long");
	return mf_buf_putc(out, '\n', e);
}
