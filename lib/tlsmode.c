/* tlsmode.c - the names of the TLS modes (tlsmode.h). */
#include "tlsmode.h"

#include <stddef.h>
#include <strings.h>

static const struct {
	const char *name;
	enum mf_tls_mode mode;
} mode_names[] = {
	{ "starttls", MF_TLS_STARTTLS },
	{ "implicit", MF_TLS_IMPLICIT },
	{ "tls", MF_TLS_IMPLICIT },
	{ "ssl", MF_TLS_IMPLICIT },
	{ "none", MF_TLS_NONE },
	{ "auto", MF_TLS_AUTO },
};

int
mf_tls_mode_parse(const char *s, enum mf_tls_mode *out)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcasecmp(s, mode_names[i].name) == 0) {
			*out = mode_names[i].mode;
			return 0;
		}
	}
	return -1;
}

const char *
mf_tls_mode_name(enum mf_tls_mode m)
{
	switch (m) {
	case MF_TLS_UNSET:
		return "unset";
	case MF_TLS_STARTTLS:
		return "starttls";
	case MF_TLS_IMPLICIT:
		return "implicit";
	case MF_TLS_NONE:
		return "none";
	case MF_TLS_AUTO:
		return "auto";
	}
	return "?";
}
