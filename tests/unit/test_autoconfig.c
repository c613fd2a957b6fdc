/* Unit tests: the autoconfig (config-v1.1.xml) reader: a real-shaped
 * document, placeholders, and hostile or malformed input. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"

static const char doc[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<!-- served by the ISP -->\n"
"<clientConfig version=\"1.1\">\n"
"  <emailProvider id=\"example.test\">\n"
"    <domain>example.test</domain>\n"
"    <displayName>Example &amp; Co</displayName>\n"
"    <incomingServer type=\"imap\">\n"
"      <hostname>imap.%EMAILDOMAIN%</hostname>\n"
"      <port>993</port>\n"
"      <socketType>SSL</socketType>\n"
"      <authentication>password-cleartext</authentication>\n"
"      <username>%EMAILADDRESS%</username>\n"
"    </incomingServer>\n"
"    <incomingServer type='pop3'>\n"
"      <hostname> pop.example.test </hostname>\n"
"      <port>110</port>\n"
"      <socketType>STARTTLS</socketType>\n"
"      <username>%EMAILLOCALPART%</username>\n"
"      <authentication>password-encrypted</authentication>\n"
"      <authentication>password-cleartext</authentication>\n"
"    </incomingServer>\n"
"    <incomingServer type=\"exchange\"><hostname>x.test</hostname>"
"<port>443</port></incomingServer>\n"
"    <outgoingServer type=\"smtp\">\n"
"      <hostname>smtp.example.test</hostname>\n"
"      <port>587</port>\n"
"      <socketType>STARTTLS</socketType>\n"
"      <username>%EMAILLOCALPART%</username>\n"
"      <authentication>password-cleartext</authentication>\n"
"      <addThisServer>true</addThisServer>\n"
"    </outgoingServer>\n"
"    <documentation url=\"http://example.test/\"><descr lang=\"en\">x</descr>"
"</documentation>\n"
"  </emailProvider>\n"
"</clientConfig>\n";

Test(autoconfig, full_document)
{
	struct mf_autoconfig ac;
	struct mf_err e;

	cr_assert_eq(mf_autoconfig_parse(doc, strlen(doc), "alice@example.test",
	    &ac, &e), 0, "%s", e.msg);
	cr_assert_eq(ac.n, 3);
	cr_assert_eq(ac.skipped, 1);
	cr_assert_eq(ac.srv[0].proto, MF_AC_IMAP);
	cr_assert_str_eq(ac.srv[0].hostname, "imap.example.test");
	cr_assert_eq(ac.srv[0].port, 993);
	cr_assert_eq(ac.srv[0].socket, MF_AC_SSL);
	cr_assert_str_eq(ac.srv[0].username, "alice@example.test");
	cr_assert_str_eq(ac.srv[0].auth, "password-cleartext");
	cr_assert_eq(ac.srv[1].proto, MF_AC_POP3);
	cr_assert_str_eq(ac.srv[1].hostname, "pop.example.test");
	cr_assert_eq(ac.srv[1].socket, MF_AC_STARTTLS);
	cr_assert_str_eq(ac.srv[1].username, "alice");
	cr_assert_str_eq(ac.srv[1].auth, "password-encrypted");
	cr_assert_eq(ac.srv[2].proto, MF_AC_SMTP);
	cr_assert_str_eq(ac.srv[2].hostname, "smtp.example.test");
	cr_assert_eq(ac.srv[2].port, 587);
	cr_assert_str_eq(ac.srv[2].username, "alice");
}

/* Every strict prefix of the document is refused, never read past. */
Test(autoconfig, every_truncation_fails_cleanly)
{
	struct mf_autoconfig ac;
	struct mf_err e;
	size_t n, len = strlen(doc);
	char *copy;

	for (n = 0; n < len - 1; n++) {
		copy = malloc(n + 1);
		cr_assert_not_null(copy);
		memcpy(copy, doc, n);   /* exactly n bytes: ASan sees overreads */
		if (mf_autoconfig_parse(copy, n, "a@b", &ac, &e) == 0)
			cr_assert(n >= len - 2, "prefix of %zu bytes accepted", n);
		free(copy);
	}
}

struct bad_case {
	const char *doc;
	enum mf_err_kind kind;
};

#define HEAD "<clientConfig><emailProvider><outgoingServer type=\"smtp\">"
#define TAIL "</outgoingServer></emailProvider></clientConfig>"
#define WRAP(x) "<clientConfig><emailProvider><outgoingServer type=\"smtp\">" \
	x "</outgoingServer></emailProvider></clientConfig>"

Test(autoconfig, hostile_documents)
{
	static const struct bad_case cases[] = {
		{ "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><clientConfig/>", MF_E_PROTO },
		{ "<clientConfig><![CDATA[x]]></clientConfig>", MF_E_PROTO },
		{ "<clientConfig>&lol;</clientConfig>", MF_E_PROTO },
		{ "<clientConfig>&#0;</clientConfig>", MF_E_PROTO },
		{ "<clientConfig>&#x10FFFF;</clientConfig>", MF_E_PROTO },
		{ "<clientConfig><a></b></clientConfig>", MF_E_PROTO },
		{ "<clientConfig>", MF_E_PROTO },
		{ "<clientConfig/><clientConfig/>", MF_E_PROTO },
		{ "<html><body>404</body></html>", MF_E_PROTO },
		{ "", MF_E_PROTO },
		{ "just text", MF_E_PROTO },
		{ "<clientConfig a=b/>", MF_E_PROTO },
		{ "<clientConfig a=\"<\"/>", MF_E_PROTO },
		{ "<clientConfig><!-- never closed </clientConfig>", MF_E_PROTO },
		{ "<clientConfig><?php x ?></clientConfig>", MF_E_PROTO },
		{ WRAP("<hostname>evil.test\nhost injected</hostname><port>25</port>"),
		  MF_E_PROTO },
		{ WRAP("<hostname>a.test</hostname><port>0</port>"), MF_E_PROTO },
		{ WRAP("<hostname>a.test</hostname><port>99999</port>"), MF_E_PROTO },
		{ WRAP("<hostname>a.test</hostname><port>25</port>"
		  "<username>a b</username>"), MF_E_PROTO },
		{ WRAP("<hostname>a.test</hostname><port>25</port>"
		  "<username>a&#10;account evil</username>"), MF_E_PROTO },
	};
	struct mf_autoconfig ac;
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mf_err_clear(&e);
		cr_assert_eq(mf_autoconfig_parse(cases[i].doc,
		    strlen(cases[i].doc), "a@b.test", &ac, &e), -1, "case %zu: "
		    "%s", i, cases[i].doc);
		cr_assert_eq(e.kind, cases[i].kind, "case %zu: %s", i, e.msg);
		cr_assert_neq(e.msg[0], '\0');
	}
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1), *p;

	cr_assert_not_null(s);
	memcpy(s, head, hl);
	for (p = s + hl, i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

Test(autoconfig, limits)
{
	struct mf_autoconfig ac;
	struct mf_err e;
	char *s;

	/* nesting */
	s = repeat("<clientConfig>", "<a>", 40, "");
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s), "a@b", &ac, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	free(s);
	/* an over-long value */
	s = repeat(HEAD "<hostname>", "a", 300, "</hostname>" TAIL);
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s), "a@b", &ac, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	free(s);
	/* an over-long name */
	s = repeat("<clientConfig><", "n", 100, "/></clientConfig>");
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s), "a@b", &ac, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT, "%s", e.msg);
	free(s);
	/* the document size */
	s = repeat("<clientConfig>", " ", MF_AC_DOC_MAX, "</clientConfig>");
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s), "a@b", &ac, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	free(s);
	/* more servers than kept: the rest are counted, not stored */
	s = repeat("<clientConfig><emailProvider>", "<outgoingServer type=\"smtp\">"
	    "<hostname>s.test</hostname><port>587</port></outgoingServer>", 20,
	    "</emailProvider></clientConfig>");
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s), "a@b", &ac, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(ac.n, MF_AC_SERVERS_MAX);
	cr_assert_eq(ac.skipped, 20 - MF_AC_SERVERS_MAX);
	free(s);
	/* a placeholder that grows past the value limit */
	s = repeat(HEAD "<hostname>a.test</hostname><port>1</port><username>",
	    "%EMAILADDRESS%", 10, "</username>" TAIL);
	cr_assert_eq(mf_autoconfig_parse(s, strlen(s),
	    "someone.with.a.long.name@example.test", &ac, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	free(s);
}

Test(autoconfig, servers_without_host_or_port_are_skipped)
{
	static const char d[] = WRAP("<port>587</port>");
	struct mf_autoconfig ac;
	struct mf_err e;

	cr_assert_eq(mf_autoconfig_parse(d, strlen(d), "a@b", &ac, &e), 0);
	cr_assert_eq(ac.n, 0);
	cr_assert_eq(ac.skipped, 1);
}
