/* popstate.c - the UIDL journal of pop-fetch (format in popstate.h). */
#include "popstate.h"
#include "buf.h"
#include "crypto.h"
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "mailflow-popstate 1\n"
#define PATH_MAX_LEN 4096
#define FILE_MAX (256UL * 1024 * 1024)

/* One UID: the identities of the messages delivered under it. */
struct entry {
	char *uid;
	char *ids;        /* "SIZE:HASH SIZE:HASH ...", or NULL */
	int bare;         /* also recorded without an identity (older runs) */
};

struct mf_popstate {
	char path[PATH_MAX_LEN];
	int fd;           /* the journal, O_APPEND */
	int lockfd;
	struct entry *slot; /* open-addressing set of UIDs */
	size_t nslot, count;
	struct mf_buf pending;
};

int
mf_popstate_uid_valid(const char *uid)
{
	size_t n = 0;

	for (; uid[n] != '\0'; n++)
		if ((unsigned char)uid[n] < 0x21 || (unsigned char)uid[n] > 0x7e)
			return 0;
	return n > 0 && n <= MF_POPSTATE_UID_MAX;
}

/* FNV-1a: the set only needs a spread, not a cryptographic hash. */
static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

static size_t
find_slot(struct entry *slot, size_t nslot, const char *uid)
{
	size_t i = hash_str(uid) & (nslot - 1);

	while (slot[i].uid != NULL && strcmp(slot[i].uid, uid) != 0)
		i = (i + 1) & (nslot - 1);
	return i;
}

static int
grow(struct mf_popstate *s, struct mf_err *e)
{
	size_t n = s->nslot ? s->nslot * 2 : 1024, i;
	struct entry *ns = calloc(n, sizeof(*ns));

	if (ns == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "state table");
	for (i = 0; i < s->nslot; i++)
		if (s->slot[i].uid != NULL)
			ns[find_slot(ns, n, s->slot[i].uid)] = s->slot[i];
	free(s->slot);
	s->slot = ns;
	s->nslot = n;
	return 0;
}

/* "SIZE:HASH": decimal size, MF_POPSTATE_HASH_LEN lowercase hex digits. */
int
mf_popstate_id_valid(const char *id)
{
	size_t n = 0, h = 0;

	while (id[n] >= '0' && id[n] <= '9')
		n++;
	if (n == 0 || n > 20 || id[n] != ':')
		return 0;
	for (id += n + 1; id[h] != '\0'; h++)
		if (!((id[h] >= '0' && id[h] <= '9') ||
		    (id[h] >= 'a' && id[h] <= 'f')))
			return 0;
	return h == MF_POPSTATE_HASH_LEN;
}

/* Is id among the space-separated list ids? */
static int
id_listed(const char *ids, const char *id)
{
	size_t n = strlen(id);
	const char *p;

	for (p = ids; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		if (*p == ' ')
			p++;
		if (strncmp(p, id, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Insert uid (and its identity, NULL for none) into the set: 1 if
 * something was new, 0 if all was present, -1 on error. */
static int
set_insert(struct mf_popstate *s, const char *uid, const char *id,
           struct mf_err *e)
{
	struct entry *en;
	size_t i, n;
	char *ni;

	if ((s->count + 1) * 2 > s->nslot && grow(s, e) == -1)
		return -1;
	i = find_slot(s->slot, s->nslot, uid);
	en = &s->slot[i];
	if (en->uid == NULL) {
		en->uid = strdup(uid);
		if (en->uid == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "state entry");
		s->count++;
	} else if (id == NULL || id_listed(en->ids, id)) {
		if (id == NULL && !en->bare) {
			en->bare = 1;
			return 1;
		}
		return 0;
	}
	if (id == NULL) {
		en->bare = 1;
		return 1;
	}
	n = (en->ids != NULL ? strlen(en->ids) + 1 : 0) + strlen(id) + 1;
	ni = malloc(n);
	if (ni == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "state entry");
	snprintf(ni, n, "%s%s%s", en->ids != NULL ? en->ids : "",
	    en->ids != NULL ? " " : "", id);
	free(en->ids);
	en->ids = ni;
	return 1;
}

static const struct entry *
lookup(const struct mf_popstate *s, const char *uid)
{
	const struct entry *en;

	if (s->nslot == 0)
		return NULL;
	en = &s->slot[find_slot(s->slot, s->nslot, uid)];
	return en->uid != NULL ? en : NULL;
}

int
mf_popstate_has(const struct mf_popstate *s, const char *uid)
{
	return lookup(s, uid) != NULL;
}

int
mf_popstate_has_bare(const struct mf_popstate *s, const char *uid)
{
	const struct entry *en = lookup(s, uid);

	return en != NULL && en->bare;
}

int
mf_popstate_has_size(const struct mf_popstate *s, const char *uid,
                     unsigned long long size)
{
	const struct entry *en = lookup(s, uid);
	char want[32];
	const char *p;
	size_t n;

	if (en == NULL)
		return 0;
	n = (size_t)snprintf(want, sizeof(want), "%llu:", size);
	for (p = en->ids; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		if (*p == ' ')
			p++;
		if (strncmp(p, want, n) == 0)
			return 1;
	}
	return 0;
}

int
mf_popstate_has_hash(const struct mf_popstate *s, const char *uid,
                     const char *hash)
{
	const struct entry *en = lookup(s, uid);
	const char *p, *c;

	if (en == NULL)
		return 0;
	for (p = en->ids; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		if (*p == ' ')
			p++;
		c = strchr(p, ':');
		if (c != NULL && strncmp(c + 1, hash, MF_POPSTATE_HASH_LEN) == 0)
			return 1;
	}
	return 0;
}

size_t
mf_popstate_count(const struct mf_popstate *s)
{
	return s->count;
}

static int
mkdirs(const char *dir, struct mf_err *e)
{
	char tmp[PATH_MAX_LEN];
	size_t i, n = mf_strlcpy(tmp, dir, sizeof(tmp));

	if (n >= sizeof(tmp))
		return mf_err_set(e, MF_E_IO, "path too long: %s", dir);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return mf_err_sys(e, MF_E_IO, errno, "cannot create %s", tmp);
		tmp[i] = dir[i];
	}
	return 0;
}

static int
read_file(int fd, const char *path, struct mf_buf *b, struct mf_err *e)
{
	char chunk[65536];
	ssize_t r;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return mf_err_sys(e, MF_E_IO, errno, "reading %s", path);
		if (r == 0)
			return 0;
		if (mf_buf_append(b, chunk, (size_t)r, e) == -1) {
			mf_err_prefix(e, "%s", path);
			return -1;
		}
	}
}

/* Load "+ UID [SIZE:HASH]" lines; *torn is set when the file does not end in a
 * complete line (a crash during an append). */
static int
parse_journal(struct mf_popstate *s, struct mf_buf *b, int *torn,
              struct mf_err *e)
{
	size_t hl = strlen(HEADER), pos, lineno = 1;
	char *nl, *line, *id;

	*torn = 0;
	if (b->len == 0) {
		*torn = 1;  /* created but header never written: rewrite */
		return 0;
	}
	if (b->len < hl || memcmp(b->data, HEADER, hl) != 0)
		return mf_err_set(e, MF_E_DATA, "%s: not a pop-fetch state file",
		    s->path);
	for (pos = hl; pos < b->len; pos = (size_t)(nl - b->data) + 1) {
		line = b->data + pos;
		lineno++;
		nl = memchr(line, '\n', b->len - pos);
		if (nl == NULL) {
			*torn = 1;
			break;
		}
		*nl = '\0';
		id = line[0] != '\0' && line[1] != '\0' ? strchr(line + 2, ' ') :
		    NULL;
		if (id != NULL)
			*id++ = '\0';
		if (line[0] != '+' || line[1] != ' ' ||
		    !mf_popstate_uid_valid(line + 2) ||
		    (id != NULL && !mf_popstate_id_valid(id)))
			return mf_err_set(e, MF_E_DATA, "%s:%zu: bad record",
			    s->path, lineno);
		if (set_insert(s, line + 2, id, e) == -1)
			return -1;
	}
	return 0;
}

static int
take_lock(struct mf_popstate *s, struct mf_err *e)
{
	char lp[PATH_MAX_LEN + 8];

	if (mf_durable_path(lp, sizeof(lp), e, "%s.lock", s->path) == -1)
		return -1;
	s->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "cannot open %s", lp);
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return mf_err_set(e, MF_E_TEMP, "%s is locked: another "
			    "pop-fetch is running for this account", lp);
		return mf_err_sys(e, MF_E_IO, errno, "cannot lock %s", lp);
	}
	return 0;
}

static int
open_journal(struct mf_popstate *s, struct mf_err *e)
{
	s->fd = open(s->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (s->fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "cannot open %s", s->path);
	return 0;
}

struct mf_popstate *
mf_popstate_open(const char *path, struct mf_err *e)
{
	struct mf_popstate *s = calloc(1, sizeof(*s));
	struct mf_buf b = MF_BUF_INIT(FILE_MAX);
	char dir[PATH_MAX_LEN];
	int torn = 0, created = 0;

	if (s == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "state");
		return NULL;
	}
	s->fd = s->lockfd = -1;
	mf_buf_init(&s->pending, FILE_MAX);
	if (mf_durable_path(s->path, sizeof(s->path), e, "%s", path) == -1 ||
	    mf_durable_dirname(path, dir, sizeof(dir), e) == -1)
		goto fail;
	if (mkdirs(dir, e) == -1 || take_lock(s, e) == -1)
		goto fail;
	s->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd >= 0)
		created = 1;
	else if (errno != EEXIST) {
		mf_err_sys(e, MF_E_IO, errno, "cannot create %s", path);
		goto fail;
	} else if (open_journal(s, e) == -1) {
		goto fail;
	}
	if (!created && (read_file(s->fd, path, &b, e) == -1 ||
	    parse_journal(s, &b, &torn, e) == -1))
		goto fail;
	mf_buf_free(&b);
	if ((created || torn) && mf_popstate_compact(s, NULL, NULL, e) == -1)
		goto fail;
	return s;
fail:
	mf_buf_free(&b);
	mf_popstate_close(s);
	return NULL;
}

void
mf_popstate_close(struct mf_popstate *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	for (i = 0; i < s->nslot; i++) {
		free(s->slot[i].uid);
		free(s->slot[i].ids);
	}
	free(s->slot);
	mf_buf_free(&s->pending);
	free(s);
}

int
mf_popstate_add(struct mf_popstate *s, const char *uid, struct mf_err *e)
{
	return mf_popstate_add_id(s, uid, NULL, e);
}

int
mf_popstate_add_id(struct mf_popstate *s, const char *uid, const char *id,
                   struct mf_err *e)
{
	int r;

	if (!mf_popstate_uid_valid(uid))
		return mf_err_set(e, MF_E_DATA, "invalid UID for the state");
	if (id != NULL && !mf_popstate_id_valid(id))
		return mf_err_set(e, MF_E_DATA, "invalid identity for the state");
	r = set_insert(s, uid, id, e);
	if (r != 1)
		return r;
	return mf_buf_printf(&s->pending, e, "+ %s%s%s\n", uid,
	    id != NULL ? " " : "", id != NULL ? id : "");
}

/* The journal lines of one entry: one per identity, "+ UID" for a bare
 * record. */
static int
put_entry(struct mf_buf *out, const struct entry *en, struct mf_err *e)
{
	const char *p, *sp;
	size_t n;

	if (en->bare && mf_buf_printf(out, e, "+ %s\n", en->uid) == -1)
		return -1;
	for (p = en->ids; p != NULL && *p != '\0'; p = sp) {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (mf_buf_printf(out, e, "+ %s %.*s\n", en->uid, (int)n, p) == -1)
			return -1;
		if (sp != NULL)
			sp++;
	}
	return 0;
}

int
mf_popstate_sync(struct mf_popstate *s, struct mf_err *e)
{
	if (s->pending.len > 0 &&
	    mf_durable_write(s->fd, s->pending.data, s->pending.len, s->path, e) == -1)
		return -1;
	if (fdatasync(s->fd) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "fsync %s", s->path);
	mf_buf_reset(&s->pending);
	return 0;
}

static int
write_compacted(struct mf_popstate *s, const char *tmp,
                int (*keep)(void *, const char *), void *arg, struct mf_err *e)
{
	struct mf_buf out = MF_BUF_INIT(FILE_MAX);
	size_t i;
	int r = -1;

	if (mf_buf_puts(&out, HEADER, e) == -1)
		goto done;
	for (i = 0; i < s->nslot; i++) {
		if (s->slot[i].uid == NULL ||
		    (keep != NULL && !keep(arg, s->slot[i].uid)))
			continue;
		if (put_entry(&out, &s->slot[i], e) == -1)
			goto done;
	}
	r = mf_durable_replace(s->path, tmp, out.data, out.len, 0600, e);
done:
	mf_buf_free(&out);
	return r;
}

/* Drop the entries keep() refuses from the in-memory set. */
static void
prune(struct mf_popstate *s, int (*keep)(void *, const char *), void *arg)
{
	struct entry *old = s->slot;
	size_t n = s->nslot, i;

	if (keep == NULL)
		return;
	s->slot = calloc(n, sizeof(*s->slot));
	if (s->slot == NULL) {  /* keep the superset: harmless */
		s->slot = old;
		return;
	}
	s->count = 0;
	for (i = 0; i < n; i++) {
		if (old[i].uid == NULL)
			continue;
		if (keep(arg, old[i].uid)) {
			s->slot[find_slot(s->slot, n, old[i].uid)] = old[i];
			s->count++;
		} else {
			free(old[i].uid);
			free(old[i].ids);
		}
	}
	free(old);
}

int
mf_popstate_compact(struct mf_popstate *s, int (*keep)(void *, const char *),
                    void *arg, struct mf_err *e)
{
	char tmp[PATH_MAX_LEN + 8];

	if (mf_durable_path(tmp, sizeof(tmp), e, "%s.tmp", s->path) == -1 ||
	    write_compacted(s, tmp, keep, arg, e) == -1)
		return -1;
	prune(s, keep, arg);
	mf_buf_reset(&s->pending);
	if (s->fd >= 0)
		close(s->fd);
	return open_journal(s, e);
}

int
mf_popstate_tag(const char *account, const char *uid, char *out,
                size_t outlen, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(2 * PATH_MAX_LEN);
	unsigned char md[32];
	char hex[65];
	int r;

	r = mf_buf_puts(&b, account, e);
	if (r == 0)
		r = mf_buf_putc(&b, '\0', e);
	if (r == 0)
		r = mf_buf_puts(&b, uid, e);
	if (r == 0)
		r = mf_hash(MF_SHA256, b.data, b.len, md, e);
	mf_buf_free(&b);
	if (r == -1)
		return -1;
	mf_hex(md, sizeof(md), hex);
	hex[MF_POPSTATE_TAG_LEN] = '\0';
	mf_strlcpy(out, hex, outlen);
	return 0;
}
