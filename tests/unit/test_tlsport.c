/* Unit tests: the TLS mode --tls auto picks for a port. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"

#include "tlsport.h"

Test(tlsport, auto_by_port)
{
	cr_expect_eq(mf_tlsport_auto("465"), MF_TLS_IMPLICIT);
	cr_expect_eq(mf_tlsport_auto("993"), MF_TLS_IMPLICIT);
	cr_expect_eq(mf_tlsport_auto("995"), MF_TLS_IMPLICIT);
	cr_expect_eq(mf_tlsport_auto("587"), MF_TLS_STARTTLS);
	cr_expect_eq(mf_tlsport_auto("25"), MF_TLS_STARTTLS);
	cr_expect_eq(mf_tlsport_auto("143"), MF_TLS_STARTTLS);
	cr_expect_eq(mf_tlsport_auto("110"), MF_TLS_STARTTLS);
	cr_expect_eq(mf_tlsport_auto(NULL), MF_TLS_STARTTLS);
}

Test(tlsport, plaintext_answer_names_starttls)
{
	struct mf_tls_info info;
	struct mf_err e;

	memset(&info, 0, sizeof(info));
	mf_err_set(&e, MF_E_TLS, "handshake failed");
	mf_tlsport_explain_implicit(&info, "587", &e);
	cr_expect_eq(e.kind, MF_E_TLS);
	mf_strlcpy(info.plaintext_seen, "220 mail ESMTP",
	    sizeof(info.plaintext_seen));
	mf_tlsport_explain_implicit(&info, "587", &e);
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "port 587 answered in clear text (\"220 mail "
	    "ESMTP\")") != NULL, "%s", e.msg);
	cr_expect(strstr(e.msg, "use --tls starttls") != NULL, "%s", e.msg);
}
