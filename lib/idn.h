/* idn.h - internationalized domain names (IDNA2008, RFC 5890-5893).
 *
 * Host names and mail domains may be typed in UTF-8 ("bücher.example");
 * DNS, TLS (SNI, certificate names) and SMTP without SMTPUTF8 only know
 * the A-label form ("xn--bcher-kva.example", RFC 5890 §2.3.2.1).  This
 * module owns the conversion (libidn2 inside: only idn.c includes idn2.h):
 *
 *   mf_idn_to_ascii()      UTF-8 or ASCII name -> the name for the wire;
 *   mf_idn_to_unicode()    wire name -> U-labels, for display;
 *   mf_idn_wire_name()     a typed name as it goes on the wire, for output;
 *   mf_idn_display()       "bücher.example (xn--bcher-kva.example)";
 *   mf_idn_addr_to_ascii() local@domain with the domain as A-labels;
 *   mf_idn_addr_wire()     an address for SMTP and generated headers.
 *
 * A name all in ASCII goes to the wire unchanged (DNS names such as
 * "_mta-sts.example", IP addresses and address literals are not IDNs);
 * only its "xn--" labels are checked, since a malformed A-label must not
 * be used (RFC 5891 §5.4).  A name with UTF-8 is mapped by UTS #46
 * non-transitional processing (upper case folded, NFC) and then checked
 * against IDNA2008 (RFC 5892 code points, hyphen rules, label length). */
#ifndef MF_IDN_H
#define MF_IDN_H

#include <stddef.h>

#include "err.h"

/* Big enough for any DNS name in either form (253 octets as A-labels; the
 * U-label form of a 63-octet A-label takes at most 4 bytes per octet). */
#define MF_IDN_NAME_MAX 1024

/* 1 when s is all ASCII (bytes below 0x80), else 0. */
int mf_idn_is_ascii(const char *s);

/* The A-label form of name into out (outlen bytes).  A trailing dot is
 * kept.  On an invalid name -1 with e's kind set to `kind` (the caller
 * knows whether the name was an argument, MF_E_USAGE, or data,
 * MF_E_DATA) and a message naming the name and what is wrong with it. */
int mf_idn_to_ascii(const char *name, char *out, size_t outlen,
                    enum mf_err_kind kind, struct mf_err *e);

/* The U-label form of a wire name, for display.  A name without A-labels,
 * or one that cannot be decoded, is copied as it is.  Never fails (out is
 * cut to fit). */
void mf_idn_to_unicode(const char *name, char *out, size_t outlen);

/* 1 when name's display form differs from it (it holds an A-label that
 * decodes), else 0. */
int mf_idn_has_unicode(const char *name);

/* The name for the wire as mf_idn_to_ascii() makes it; a name that is
 * not a valid IDN is copied as it is (its use fails later, with the
 * error).  For output that must show what was used.  Never fails (out is
 * cut to fit). */
void mf_idn_wire_name(const char *name, char *out, size_t outlen);

/* How to show a host or domain name to a person, whether it was typed in
 * UTF-8 or comes from the wire: "bücher.example (xn--bcher-kva.example)"
 * (U-labels, then the A-label form used on the wire) when it has a
 * Unicode form, else the name as it is.  The one display convention of
 * every tool.  Never fails (out is cut to fit). */
void mf_idn_display(const char *name, char *out, size_t outlen);

/* The address local@domain with its domain as A-labels (the local part is
 * kept; an address without '@' or with an address literal is copied).
 * *utf8_local (may be NULL) is set to 1 when the local part holds UTF-8,
 * which only an SMTPUTF8 server accepts (RFC 6531 §3.3).  -1 as in
 * mf_idn_to_ascii. */
int mf_idn_addr_to_ascii(const char *addr, char *out, size_t outlen,
                         int *utf8_local, enum mf_err_kind kind,
                         struct mf_err *e);

/* The address as it goes into SMTP (MAIL, RCPT) and into a header that
 * mailflow writes: the domain as A-labels (RFC 5891 §4), unless the
 * local part is UTF-8 -- such an address only travels under SMTPUTF8
 * (RFC 6531 §3.3, RFC 6532 §3.2), and then goes whole as given.
 * *utf8_local (may be NULL) says which.  -1 as in mf_idn_to_ascii. */
int mf_idn_addr_wire(const char *addr, char *out, size_t outlen,
                     int *utf8_local, enum mf_err_kind kind,
                     struct mf_err *e);

#endif
