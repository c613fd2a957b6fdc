/* kwtable.c - keyword <-> Maildir letter table (Dovecot's dovecot-keywords). */
#include "kwtable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "durable.h"

#define FILE_MAX (64u << 10)

struct mf_kwtable {
	char *name[MF_KWTABLE_MAX];
	uint32_t dirty;
};

struct mf_kwtable *
mf_kwtable_new(void)
{
	return calloc(1, sizeof(struct mf_kwtable));
}

void
mf_kwtable_free(struct mf_kwtable *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < MF_KWTABLE_MAX; i++)
		free(t->name[i]);
	free(t);
}

int
mf_kwtable_valid(const char *s)
{
	size_t n = 0;

	/* "-" stands for "none" in the sync state's records */
	if (*s == '\0' || *s == '\\' || strcmp(s, "-") == 0)
		return 0;
	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;
		/* RFC 3501 §9: atom-char excludes atom-specials */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return n <= MF_KWTABLE_NAME_MAX;
}

static int
find(const struct mf_kwtable *t, const char *kw)
{
	int i;

	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (t->name[i] != NULL && strcasecmp(t->name[i], kw) == 0)
			return i;
	return -1;
}

int
mf_kwtable_set(struct mf_kwtable *t, unsigned idx, const char *kw,
               struct mf_err *e)
{
	int at;

	if (idx >= MF_KWTABLE_MAX || !mf_kwtable_valid(kw))
		return mf_err_set(e, MF_E_DATA, "bad keyword table entry %u", idx);
	at = find(t, kw);
	if (at == (int)idx)
		return 0;
	if (t->name[idx] != NULL || at != -1)
		return mf_err_set(e, MF_E_DATA, "keyword table: letter %c is "
		    "both %s and %s", 'a' + (at != -1 ? at : (int)idx),
		    at != -1 ? t->name[at] : t->name[idx], kw);
	t->name[idx] = strdup(kw);
	if (t->name[idx] == NULL)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

int
mf_kwtable_parse(struct mf_kwtable *t, const char *text, size_t len,
                 struct mf_err *e)
{
	const char *p = text, *end = text + len;
	char line[MF_KWTABLE_NAME_MAX + 16], *sp;
	long idx;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		const char *next = nl != NULL ? nl + 1 : end;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n >= sizeof(line)) {
			p = next;
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = next;
		sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		if (mf_parse_long(line, 0, 1000000, &idx) == -1 ||
		    idx >= MF_KWTABLE_MAX || !mf_kwtable_valid(sp + 1))
			continue;
		if (mf_kwtable_set(t, (unsigned)idx, sp + 1, e) == -1)
			return -1;
	}
	return 0;
}

int
mf_kwtable_format(const struct mf_kwtable *t, struct mf_buf *out,
                  struct mf_err *e)
{
	size_t i;

	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (t->name[i] != NULL &&
		    mf_buf_printf(out, e, "%zu %s\n", i, t->name[i]) == -1)
			return -1;
	return 0;
}

int
mf_kwtable_load(struct mf_kwtable *t, const char *dir, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(FILE_MAX);
	char path[4096], chunk[4096];
	ssize_t n;
	int fd, r = -1;

	if (mf_durable_join(path, sizeof(path), dir, MF_KWTABLE_FILE, e) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 1 : mf_err_sys(e, MF_E_IO, errno,
		    "open %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (mf_buf_append(&b, chunk, (size_t)n, e) == -1)
			goto out;
	if (n == -1) {
		mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		goto out;
	}
	r = mf_kwtable_parse(t, b.data != NULL ? b.data : "", b.len, e);
	if (r == -1)
		mf_err_prefix(e, "%s", path);
out:
	close(fd);
	mf_buf_free(&b);
	return r;
}

int
mf_kwtable_save(struct mf_kwtable *t, const char *dir, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(FILE_MAX);
	char path[4096];
	int r = -1;

	if (mf_durable_join(path, sizeof(path), dir, MF_KWTABLE_FILE, e) == 0 &&
	    mf_kwtable_format(t, &b, e) == 0 &&
	    mf_durable_replace(path, NULL, b.data != NULL ? b.data : "", b.len,
	    0600, e) == 0) {
		t->dirty = 0;
		r = 0;
	}
	mf_buf_free(&b);
	return r;
}

const char *
mf_kwtable_name(const struct mf_kwtable *t, char letter)
{
	if (letter < 'a' || letter > 'z')
		return NULL;
	return t->name[letter - 'a'];
}

char
mf_kwtable_letter(const struct mf_kwtable *t, const char *kw)
{
	int i = find(t, kw);

	return i == -1 ? 0 : (char)('a' + i);
}

char
mf_kwtable_assign(struct mf_kwtable *t, const char *kw)
{
	return mf_kwtable_assign_avoid(t, kw, 0);
}

char
mf_kwtable_assign_avoid(struct mf_kwtable *t, const char *kw, uint32_t avoid)
{
	int i = find(t, kw);

	if (i != -1)
		return (char)('a' + i);
	if (!mf_kwtable_valid(kw))
		return 0;
	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (t->name[i] == NULL && !(avoid & (1u << i))) {
			t->name[i] = strdup(kw);
			if (t->name[i] == NULL)
				return 0;
			t->dirty |= 1u << i;
			return (char)('a' + i);
		}
	return 0;
}

size_t
mf_kwtable_count(const struct mf_kwtable *t)
{
	size_t i, n = 0;

	for (i = 0; i < MF_KWTABLE_MAX; i++)
		n += t->name[i] != NULL;
	return n;
}

uint32_t
mf_kwtable_dirty(const struct mf_kwtable *t)
{
	return t->dirty;
}

void
mf_kwtable_clean(struct mf_kwtable *t)
{
	t->dirty = 0;
}
