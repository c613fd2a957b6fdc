/* shard.c - stable slices of a name list (see shard.h). */
#include "shard.h"

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "idn.h"

int
mf_shard_parse(const char *s, unsigned *k, unsigned *n)
{
	const char *slash = strchr(s, '/');
	char kbuf[16];
	long kv, nv;
	size_t kl;

	if (slash == NULL || (kl = (size_t)(slash - s)) == 0 ||
	    kl >= sizeof(kbuf))
		return -1;
	memcpy(kbuf, s, kl);
	kbuf[kl] = '\0';
	if (mf_parse_long(kbuf, 0, MF_SHARD_N_MAX - 1, &kv) == -1 ||
	    mf_parse_long(slash + 1, 1, MF_SHARD_N_MAX, &nv) == -1 || kv >= nv)
		return -1;
	*k = (unsigned)kv;
	*n = (unsigned)nv;
	return 0;
}

unsigned long long
mf_shard_hash(const char *name)
{
	unsigned long long h = 14695981039346656037ULL;
	char alabel[MF_IDN_NAME_MAX];
	size_t len, i;
	unsigned char c;

	/* A U-label name is the same domain as its A-labels (RFC 5890 §2.3.2.1):
	 * hash the wire form, so "bücher.example" and "xn--bcher-kva.example"
	 * share a shard.  A name libidn2 refuses is hashed as given (its probe
	 * fails the same way in every shard). */
	if (!mf_idn_is_ascii(name) &&
	    mf_idn_to_ascii(name, alabel, sizeof(alabel), MF_E_DATA, NULL) == 0)
		name = alabel;
	len = strlen(name);
	/* Domain names compare case-insensitively (RFC 4343) and a trailing
	 * dot names the same domain: hash the canonical form. */
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 1099511628211ULL;
	}
	return h;
}

unsigned
mf_shard_of(const char *name, unsigned n)
{
	if (n <= 1)
		return 0;
	return (unsigned)(mf_shard_hash(name) % n);
}
