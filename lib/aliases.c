/* aliases.c - msmtp-style aliases for recipients without a domain. */
#include "aliases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

#define ALIASES_MAX_SIZE (1024 * 1024)
#define ALIASES_LINE_MAX 4096

struct alias {
	char *name;
	char *value;
};

struct mf_aliases {
	struct alias *v;
	size_t n, cap;
};

void
mf_aliases_free(struct mf_aliases *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].value);
	}
	free(a->v);
	free(a);
}

int
mf_aliases_is_local(const char *addr)
{
	return strchr(addr, '@') == NULL;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Every address of a value needs a domain: a mapping is not expanded
 * again. */
static int
check_value(const char *v)
{
	const char *p = v;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *at = memchr(p, '@', n);

		if (at == NULL)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
add(struct mf_aliases *a, const char *name, const char *value,
    struct mf_err *e)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct alias *nv = realloc(a->v, nc * sizeof(*nv));

		if (nv == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "aliases");
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n].name = strdup(name);
	a->v[a->n].value = strdup(value);
	if (a->v[a->n].name == NULL || a->v[a->n].value == NULL) {
		free(a->v[a->n].name);
		free(a->v[a->n].value);
		return mf_err_sys(e, MF_E_NOMEM, errno, "aliases");
	}
	a->n++;
	return 0;
}

static int
parse_line(struct mf_aliases *a, char *l, const char *name, int lineno,
           struct mf_err *e)
{
	char *colon, *key, *val;

	l = trim(l);
	if (*l == '\0' || *l == '#')
		return 0;
	if ((colon = strchr(l, ':')) == NULL)
		return mf_err_set(e, MF_E_CONFIG, "%s:%d: expected 'name: "
		    "address[, address...]'", name, lineno);
	*colon = '\0';
	key = trim(l);
	val = trim(colon + 1);
	if (*key == '\0' || strpbrk(key, " \t@") != NULL)
		return mf_err_set(e, MF_E_CONFIG, "%s:%d: bad alias name '%s'",
		    name, lineno, key);
	if (*val == '\0' || check_value(val) == -1)
		return mf_err_set(e, MF_E_CONFIG, "%s:%d: '%s' must map to "
		    "addresses with a domain (user@example.org)", name, lineno,
		    key);
	return add(a, key, val, e);
}

struct mf_aliases *
mf_aliases_parse(const char *text, const char *name, struct mf_err *e)
{
	struct mf_aliases *a = calloc(1, sizeof(*a));
	char line[ALIASES_LINE_MAX];
	int lineno = 0;

	if (a == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "aliases");
		return NULL;
	}
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		lineno++;
		if (n >= sizeof(line)) {
			mf_err_set(e, MF_E_CONFIG, "%s:%d: line too long", name,
			    lineno);
			goto fail;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		if (parse_line(a, line, name, lineno, e) == -1)
			goto fail;
		text += n + (nl != NULL);
	}
	return a;
fail:
	mf_aliases_free(a);
	return NULL;
}

struct mf_aliases *
mf_aliases_load(const char *path, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(ALIASES_MAX_SIZE);
	struct mf_aliases *a = NULL;
	char chunk[4096];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		mf_err_sys(e, MF_E_CONFIG, errno, "aliases: cannot read %s",
		    path);
		return NULL;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			mf_err_sys(e, MF_E_CONFIG, errno, "aliases: cannot read "
			    "%s", path);
			goto out;
		}
		if (mf_buf_append(&b, chunk, (size_t)r, e) == -1) {
			mf_err_set(e, MF_E_CONFIG, "aliases: %s is larger than "
			    "%d bytes", path, ALIASES_MAX_SIZE);
			goto out;
		}
	}
	if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
		mf_err_set(e, MF_E_CONFIG, "aliases: %s contains a NUL byte",
		    path);
		goto out;
	}
	a = mf_aliases_parse(b.data ? b.data : "", path, e);
out:
	close(fd);
	mf_buf_free(&b);
	return a;
}

const char *
mf_aliases_lookup(const struct mf_aliases *a, const char *name)
{
	const char *def = NULL;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < a->n; i++) {
		if (strcasecmp(a->v[i].name, name) == 0)
			return a->v[i].value;
		if (def == NULL && strcasecmp(a->v[i].name, "default") == 0)
			def = a->v[i].value;
	}
	return def;
}
