/* fuzz_lineio.c - line and byte-count reads over a memory transport: the
 * peer's bytes arrive in fuzzer-chosen chunks, the reader alternates line
 * reads, exact reads (IMAP literals) and partial reads, with a small
 * line limit. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lineio.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_rng ops;
	struct mf_lineio *l;
	struct mf_err e;
	struct fz_mem m;
	size_t max, got = 0;
	char tmp[300];
	int i;

	if (size < 3)
		return 0;
	max = 1 + data[1] * 4;          /* 1 .. 1021 */
	ops.s = data[2] | 1u << 20;
	l = mf_lineio_new(fz_mem_transport(&m, data + 3, size - 3,
	    data[0] * 40503u, data[0] & 0x3f), NULL, &e);
	FUZZ_CHECK(l != NULL);
	mf_lineio_set_max_line(l, max);
	for (i = 0; i < 10000; i++) {
		unsigned op = fz_next(&ops) % 8;
		const char *line;
		size_t len, n;
		ssize_t r;

		if (op < 5) {
			if (mf_lineio_read_line(l, &line, &len, &e) == -1)
				break;
			FUZZ_CHECK(len <= max);
			FUZZ_CHECK(line[len] == '\0');
			FUZZ_CHECK(memchr(line, '\n', len) == NULL);
			got += len + 1;
		} else if (op < 7) {
			n = fz_next(&ops) % sizeof(tmp);
			if (mf_lineio_read_exact(l, tmp, n, &e) == -1)
				break;
			got += n;
		} else {
			n = 1 + fz_next(&ops) % sizeof(tmp);
			r = mf_lineio_read_some(l, tmp, n, &e);
			if (r <= 0)
				break;
			FUZZ_CHECK((size_t)r <= n);
			got += (size_t)r;
		}
		FUZZ_CHECK(got <= size - 3);
	}
	FUZZ_CHECK(mf_lineio_bytes_in(l) <= size - 3);
	mf_lineio_free(l);
	return 0;
}
