/* idn.c - IDNA2008 through libidn2 (the only file that includes idn2.h). */
#include "idn.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "esc.h"

/* UTS #46 non-transitional processing maps what a person types (upper
 * case, NFC/NFKC compatibility forms) onto IDNA2008 labels; "ß" stays
 * "ß" (RFC 5892 lists it PVALID), unlike IDNA2003's "ss". */
#define TO_ASCII_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

int
mf_idn_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* "xn--" at the start of any label (RFC 5890 §2.3.1: the ACE prefix is
 * case-insensitive). */
static int
has_ace_label(const char *s)
{
	const char *p = s;

	for (;;) {
		if (strncasecmp(p, "xn--", 4) == 0)
			return 1;
		if ((p = strchr(p, '.')) == NULL)
			return 0;
		p++;
	}
}

/* What is wrong, in words a person acts on. */
static const char *
reason(int rc)
{
	switch (rc) {
	case IDN2_ENCODING_ERROR:
		return "not valid UTF-8";
	case IDN2_HYPHEN_STARTEND:
		return "a label starts or ends with a hyphen (RFC 5891 §4.2.3.1)";
	case IDN2_2HYPHEN:
		return "a label has \"--\" in its third and fourth position "
		    "(RFC 5891 §4.2.3.1)";
	case IDN2_DISALLOWED:
	case IDN2_UNASSIGNED:
		return "a code point is not allowed in a domain name "
		    "(RFC 5892)";
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_PUNYCODE_OVERFLOW:
		return "a label is longer than 63 octets as an A-label "
		    "(RFC 5890 §2.3.2.1)";
	case IDN2_TOO_BIG_DOMAIN:
		return "longer than 253 octets (RFC 1035 §2.3.4)";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
		return "an xn-- label is not a valid A-label (RFC 5891 §5.4)";
	case IDN2_BIDI:
		return "mixes right-to-left and left-to-right text against "
		    "RFC 5893";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO_NO_RULE:
		return "a joiner or other contextual code point is out of "
		    "place (RFC 5892 Appendix A)";
	case IDN2_LEADING_COMBINING:
		return "a label starts with a combining mark (RFC 5891 "
		    "§4.2.3.2)";
	case IDN2_MALLOC:
		return "out of memory";
	default:
		return idn2_strerror(rc);
	}
}

static int
bad_name(const char *name, int rc, enum mf_err_kind kind, struct mf_err *e)
{
	char shown[MF_ESC_SIZE(256)];

	return mf_err_set(e, rc == IDN2_MALLOC ? MF_E_NOMEM : kind,
	    "invalid domain name \"%s\": %s", mf_esc_str(shown, sizeof(shown),
	    name), reason(rc));
}

static int
copy_out(const char *name, const char *s, char *out, size_t outlen,
         enum mf_err_kind kind, struct mf_err *e)
{
	if (mf_strlcpy(out, s, outlen) >= outlen)
		return bad_name(name, IDN2_TOO_BIG_DOMAIN, kind, e);
	return 0;
}

/* RFC 5891 §5.4: an A-label is decoded, and must encode back to itself. */
static int
check_alabels(const char *name, enum mf_err_kind kind, struct mf_err *e)
{
	char *u = NULL, *back = NULL;
	int rc;

	rc = idn2_to_unicode_8z8z(name, &u, 0);
	if (rc == IDN2_OK)
		rc = idn2_to_ascii_8z(u, &back, TO_ASCII_FLAGS);
	if (rc == IDN2_OK && strcasecmp(back, name) != 0)
		rc = IDN2_ALABEL_ROUNDTRIP_FAILED;
	free(u);
	free(back);
	return rc == IDN2_OK ? 0 : bad_name(name, rc, kind, e);
}

int
mf_idn_to_ascii(const char *name, char *out, size_t outlen,
                enum mf_err_kind kind, struct mf_err *e)
{
	char *a = NULL;
	int rc;

	if (mf_idn_is_ascii(name)) {
		if (has_ace_label(name) && check_alabels(name, kind, e) == -1)
			return -1;
		return copy_out(name, name, out, outlen, kind, e);
	}
	if ((rc = idn2_to_ascii_8z(name, &a, TO_ASCII_FLAGS)) != IDN2_OK)
		return bad_name(name, rc, kind, e);
	rc = copy_out(name, a, out, outlen, kind, e);
	free(a);
	return rc;
}

void
mf_idn_to_unicode(const char *name, char *out, size_t outlen)
{
	char *u = NULL;

	if (mf_idn_is_ascii(name) && has_ace_label(name) &&
	    idn2_to_unicode_8z8z(name, &u, 0) == IDN2_OK &&
	    mf_strlcpy(out, u, outlen) < outlen) {
		free(u);
		return;
	}
	free(u);
	mf_strlcpy(out, name, outlen);
}

int
mf_idn_has_unicode(const char *name)
{
	char u[MF_IDN_NAME_MAX];

	mf_idn_to_unicode(name, u, sizeof(u));
	return strcmp(u, name) != 0;
}

void
mf_idn_wire_name(const char *name, char *out, size_t outlen)
{
	struct mf_err e;

	if (mf_idn_is_ascii(name) ||
	    mf_idn_to_ascii(name, out, outlen, MF_E_DATA, &e) == -1)
		mf_strlcpy(out, name, outlen);
}

void
mf_idn_display(const char *name, char *out, size_t outlen)
{
	char a[MF_IDN_NAME_MAX], u[MF_IDN_NAME_MAX];

	/* a name as typed is shown by its wire form's U-labels, so that
	 * "BÜCHER.example" and "xn--bcher-kva.example" look the same */
	mf_idn_wire_name(name, a, sizeof(a));
	mf_idn_to_unicode(a, u, sizeof(u));
	if (strcmp(u, a) == 0)
		mf_strlcpy(out, name, outlen);
	else
		mf_fmt(out, outlen, "%s (%s)", u, a);
}

int
mf_idn_addr_to_ascii(const char *addr, char *out, size_t outlen,
                     int *utf8_local, enum mf_err_kind kind,
                     struct mf_err *e)
{
	char local[MF_IDN_NAME_MAX], domain[MF_IDN_NAME_MAX];
	const char *at = strrchr(addr, '@');
	size_t n;
	int r;

	if (utf8_local != NULL)
		*utf8_local = 0;
	if (at == NULL || at[1] == '[')   /* no domain, or a literal */
		return copy_out(addr, addr, out, outlen, kind, e);
	n = (size_t)(at - addr);
	if (n >= sizeof(local))
		return mf_err_set(e, kind, "address too long");
	memcpy(local, addr, n);
	local[n] = '\0';
	if (utf8_local != NULL)
		*utf8_local = !mf_idn_is_ascii(local);
	if (mf_idn_to_ascii(at + 1, domain, sizeof(domain), kind, e) == -1)
		return -1;
	r = snprintf(out, outlen, "%s@%s", local, domain);
	if (r < 0 || (size_t)r >= outlen)
		return mf_err_set(e, kind, "address too long");
	return 0;
}

int
mf_idn_addr_wire(const char *addr, char *out, size_t outlen, int *utf8_local,
                 enum mf_err_kind kind, struct mf_err *e)
{
	int u8;

	if (mf_idn_addr_to_ascii(addr, out, outlen, &u8, kind, e) == -1)
		return -1;
	if (utf8_local != NULL)
		*utf8_local = u8;
	if (u8)
		return copy_out(addr, addr, out, outlen, kind, e);
	return 0;
}
