/* tlsport.c - the wrong TLS mode for a port, found in seconds. */
#include "tlsport.h"

#include <string.h>

enum mf_tls_mode
mf_tlsport_auto(const char *port)
{
	/* RFC 8314 §7: submissions 465, imaps 993, pop3s 995 */
	if (port != NULL && (strcmp(port, "465") == 0 ||
	    strcmp(port, "993") == 0 || strcmp(port, "995") == 0))
		return MF_TLS_IMPLICIT;
	return MF_TLS_STARTTLS;
}

int
mf_tlsport_probe(const char *host, const char *port,
                 const struct mf_sock_opts *so, int timeout_ms)
{
	struct mf_sock_opts o = *so;
	struct mf_tls_params tp;
	struct mf_transport *t, *w;
	struct mf_err e;

	if (timeout_ms <= 0)
		timeout_ms = MF_TLSPORT_PROBE_MS;
	o.connect_timeout_ms = o.io_timeout_ms = timeout_ms;
	if ((t = mf_sock_connect(host, port, &o, &e)) == NULL)
		return 0;
	memset(&tp, 0, sizeof(tp));
	tp.insecure = 1;         /* only asking "is it TLS?" */
	tp.timeout_ms = timeout_ms;
	if ((w = mf_tls_wrap(t, &tp, NULL, &e)) == NULL) {
		mf_transport_free(t);
		return 0;
	}
	mf_transport_free(w);
	return 1;
}

int
mf_tlsport_check_clear(struct mf_lineio *l, const char *host,
                       const char *port, const struct mf_sock_opts *so,
                       int timeout_ms, struct mf_err *e)
{
	int wait = MF_TLSPORT_GREETING_MS, r;

	if (timeout_ms > 0 && timeout_ms < wait)
		wait = timeout_ms;
	if ((r = mf_lineio_wait(l, wait, e)) != 0)
		return r == -1 ? -1 : 0;
	if (!mf_tlsport_probe(host, port, so, 0))
		return 0;
	return mf_err_set(e, MF_E_CONFIG, "port %s expects TLS at once: use "
	    "--tls implicit (or tls implicit in the account)", port);
}

void
mf_tlsport_explain_implicit(const struct mf_tls_info *info, const char *port,
                            struct mf_err *e)
{
	if (info == NULL || info->plaintext_seen[0] == '\0')
		return;
	mf_err_set(e, MF_E_CONFIG, "port %s answered in clear text (\"%s\"): it "
	    "expects STARTTLS: use --tls starttls (or tls starttls in the "
	    "account)", port, info->plaintext_seen);
}
