/* syncstate.c - per-folder sync state: snapshot + write-ahead journal. */
#include "syncstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "durable.h"

#define STATE_FILE_MAX (512u << 20)

struct mf_syncstate {
	char *dir;
	char *snap;       /* DIR/KEY.state */
	char *journal;    /* DIR/KEY.journal */
	unsigned long gen;
	uint32_t uidvalidity, uidnext;
	uint64_t modseq;
	struct mf_syncstate_entry *v;
	size_t n, cap;
	struct mf_buf pending;
	int journal_open; /* journal holds a header for this generation */
	int partial;      /* opened by _open_head: entries not read */
	size_t nhead;     /* then: the snapshot's entries, counted */
	int stream;       /* _stream(): entries in the journal only */
	uint32_t *su;     /* then: their UIDs, sorted */
	size_t sn, scap;
	int picked;       /* _load_some(): only the entries picked held */
	uint32_t *pr;     /* then: the picked UIDs, ranges (lo, hi), sorted */
	size_t npr;       /* number of ranges */
	size_t nskip;     /* snapshot entries left unread */
	char *kwtab[MF_SYNCSTATE_KEYWORDS];
};

static char *path_join(const char *dir, const char *key, const char *ext)
{
	size_t n = strlen(dir) + strlen(key) + strlen(ext) + 2;
	char *p = malloc(n);

	if (p)
		(void)snprintf(p, n, "%s/%s%s", dir, key, ext);  /* n is exact */
	return p;
}

static size_t find(const struct mf_syncstate *s, uint32_t uid, int *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n && s->v[lo].uid == uid;
	return lo;
}

static int put_mem(struct mf_syncstate *s, uint32_t uid, const char *flags,
                   unsigned status, const char *base, struct mf_err *e)
{
	int found;
	size_t i = find(s, uid, &found), fl = strlen(flags) + 1;
	char *fb = malloc(fl + strlen(base) + 1);  /* flags, then base */

	if (!fb)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	memcpy(fb, flags, fl);
	strcpy(fb + fl, base);  /* sized above */
	if (!found) {
		if (s->n == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 256;
			void *nv = realloc(s->v, nc * sizeof *s->v);
			if (!nv) {
				free(fb);
				return mf_err_set(e, MF_E_NOMEM, "out of memory");
			}
			s->v = nv;
			s->cap = nc;
		}
		memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
		s->n++;
	} else {
		free(s->v[i].flags);
	}
	s->v[i].uid = uid;
	s->v[i].status = status;
	s->v[i].flags = fb;
	s->v[i].base = fb + fl;
	return 0;
}

static void del_mem(struct mf_syncstate *s, uint32_t uid)
{
	int found;
	size_t i = find(s, uid, &found);

	if (!found)
		return;
	free(s->v[i].flags);  /* base is in the same allocation */
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
}

static void clear_mem(struct mf_syncstate *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].flags);
	}
	s->n = 0;
}

static int valid_word(const char *w)
{
	return *w && !strpbrk(w, " \n\r\t");
}

/* A flag set (imapflags.h: letters, then " keyword" each) is valid in a
 * record: at most 6 letters, words without control characters. */
static int valid_flags(const char *flags)
{
	return strcspn(flags, " ") <= 6 && !strpbrk(flags, "\n\r\t") &&
	       !strstr(flags, "  ") && flags[strlen(flags) - (*flags != 0)] != ' ';
}

/* "+ UID STATUS LETTERS BASE[ KEYWORD...]": the keywords of the flag set
 * follow the base name, so records without any read as before. */
static int print_entry(struct mf_buf *b, uint32_t uid, unsigned status,
                       const char *flags, const char *base, struct mf_err *e)
{
	int l = (int)strcspn(flags, " ");

	return mf_buf_printf(b, e, "+ %u %u %.*s %s%s\n", uid, status,
	                     l ? l : 1, l ? flags : "-", base, flags + l);
}

static int set_kw_mem(struct mf_syncstate *s, unsigned idx, const char *name,
                      struct mf_err *e)
{
	char *n = NULL;

	if (name && !(n = strdup(name)))
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	free(s->kwtab[idx]);
	s->kwtab[idx] = n;
	return 0;
}

/* "K INDEX NAME" (or NAME "-": none): the folder's keyword table. */
static int apply_kw(struct mf_syncstate *s, char *f1, char *f2,
                    struct mf_err *e)
{
	long idx;

	if (mf_parse_long(f1, 0, MF_SYNCSTATE_KEYWORDS - 1, &idx) < 0 ||
	    !valid_word(f2))
		return mf_err_set(e, MF_E_DATA, "corrupt sync state record");
	return set_kw_mem(s, (unsigned)idx, strcmp(f2, "-") ? f2 : NULL, e);
}

/* "+" records: the flag set is the letters and the words after the base. */
static int apply_entry(struct mf_syncstate *s, char **f, char *rest,
                       struct mf_err *e)
{
	char set[MF_SYNCSTATE_FLAGS_MAX];
	long uid, st;
	int n;

	if (mf_parse_long(f[1], 1, 0xFFFFFFFFl, &uid) < 0 ||
	    mf_parse_long(f[2], 0, 3, &st) < 0 || strlen(f[3]) > 6)
		return mf_err_set(e, MF_E_DATA, "corrupt sync state record");
	n = snprintf(set, sizeof set, "%s%s%s", strcmp(f[3], "-") ? f[3] : "",
	             rest ? " " : "", rest ? rest : "");
	if (n < 0 || (size_t)n >= sizeof set || !valid_flags(set))
		return mf_err_set(e, MF_E_DATA, "corrupt sync state record");
	return put_mem(s, (uint32_t)uid, set, (unsigned)st, f[4], e);
}

/* Apply one record line (NUL-terminated, no newline). */
static int apply(struct mf_syncstate *s, char *line, struct mf_err *e)
{
	char *f[5], *rest = NULL;
	int nf = 0;
	char *p = line;
	long long v;

	while (nf < 5 && *p) {
		f[nf++] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p && *p)
		rest = p;
	if (nf == 0)
		return 0;
	if (nf == 3 && !rest && !strcmp(f[0], "K"))
		return apply_kw(s, f[1], f[2], e);
	if (nf == 2 && !rest && (!strcmp(f[0], "V") || !strcmp(f[0], "R") ||
	                !strcmp(f[0], "N") || !strcmp(f[0], "M") ||
	                !strcmp(f[0], "-"))) {
		char *end;
		errno = 0;
		v = strtoll(f[1], &end, 10);
		if (errno || *end || v < 0 || (f[0][0] != 'M' && v > 0xFFFFFFFFll))
			goto bad;
		switch (f[0][0]) {
		case 'R':
			clear_mem(s);
			s->modseq = 0;
			s->uidnext = 0;
			/* fall through */
		case 'V':
			s->uidvalidity = (uint32_t)v;
			break;
		case 'N':
			s->uidnext = (uint32_t)v;
			break;
		case 'M':
			s->modseq = (uint64_t)v;
			break;
		default:
			del_mem(s, (uint32_t)v);
		}
		return 0;
	}
	if (nf == 5 && !strcmp(f[0], "+"))
		return apply_entry(s, f, rest, e);
bad:
	return mf_err_set(e, MF_E_DATA, "corrupt sync state record");
}

#define LOAD_CHUNK (64u << 10)    /* bytes of a file read at once */

/* How a file is being read, line by line as it streams in. */
struct reader {
	struct mf_syncstate *s;
	int journal;        /* the journal, else the snapshot */
	int head;           /* snapshot: its values only, entries counted */
	int pick;           /* snapshot: only the picked entries */
	int first;          /* the next line is the file's first */
	size_t complete;    /* bytes of complete lines so far */
	size_t total;       /* bytes read */
};

/* Called with each complete line (newline cut off): 0 go on, 1 stop,
 * -1 error. */
typedef int (*line_fn)(void *arg, char *line, struct mf_err *e);

/* Hand the complete lines of b to fn; *used: their length. */
static int each_in(struct mf_buf *b, line_fn fn, void *arg, size_t *used,
                   struct mf_err *e)
{
	char *start = b->data ? b->data : "";
	char *p = start, *end = start + b->len;
	int r;

	*used = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;  /* torn tail, or the rest comes with the next read */
		*nl = '\0';
		if ((r = fn(arg, p, e)) != 0)
			return r;
		p = nl + 1;
		*used = (size_t)(p - start);
	}
	return 0;
}

/* Read path a chunk at a time, handing each complete line to fn: a chunk
 * and one line are held, whatever the file's size.  0; 1 no such file;
 * 2 fn stopped; -1.  *complete ends as the length of the complete lines
 * (what follows is a torn tail), *total as the bytes read. */
static int each_line(const char *path, line_fn fn, void *arg,
                     size_t *complete, size_t *total, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(STATE_FILE_MAX);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used;
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return errno == ENOENT ? 1 : mf_err_sys(e, MF_E_IO, errno, "open %s", path);
	while (r == 0) {
		if (mf_buf_reserve(&b, LOAD_CHUNK, e) < 0) {
			r = -1;
			break;
		}
		n = read(fd, b.data + b.len, LOAD_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		if (n <= 0)
			break;
		b.len += (size_t)n;
		*total += (size_t)n;
		b.data[b.len] = '\0';
		r = each_in(&b, fn, arg, &used, e);
		*complete += used;
		memmove(b.data, b.data + used, b.len - used);
		b.len -= used;
		b.data[b.len] = '\0';
	}
	close(fd);
	mf_buf_free(&b);
	return r == 1 ? 2 : r;
}

/* The UID of a "+ UID ..." record, 0 if it has none (apply() then says
 * the record is corrupt). */
static uint32_t record_uid(const char *p)
{
	char *end;
	unsigned long u;

	errno = 0;
	u = strtoul(p + 2, &end, 10);
	return errno || end == p + 2 || *end != ' ' || u > 0xFFFFFFFFul
	       ? 0 : (uint32_t)u;
}

int mf_uid_ranges_has(const uint32_t *ranges, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ranges[2 * mid + 1] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ranges[2 * lo] <= uid;
}

/* 1 when uid is among the UIDs _load_some() picked. */
static int picks(const struct mf_syncstate *s, uint32_t uid)
{
	return mf_uid_ranges_has(s->pr, s->npr, uid);
}

/* One line of the snapshot or the journal into the state; 1: a stale
 * journal (from before a rewrite). */
static int load_line(void *arg, char *p, struct mf_err *e)
{
	struct reader *rd = arg;
	struct mf_syncstate *s = rd->s;
	uint32_t uid;

	if (rd->first && rd->journal) {
		unsigned long g;
		if (sscanf(p, "gen %lu", &g) != 1 || g != s->gen)
			return 1;
	} else if (rd->first) {
		if (strcmp(p, "mailflow-syncstate 1"))
			return mf_err_set(e, MF_E_DATA, "%s: not a sync state file",
			                  s->snap);
	} else if (!rd->journal && !strncmp(p, "gen ", 4)) {
		if (sscanf(p, "gen %lu", &s->gen) != 1)
			return mf_err_set(e, MF_E_DATA, "%s: bad generation", s->snap);
	} else if (rd->head && p[0] == '+' && p[1] == ' ') {
		s->nhead++;
	} else if (rd->pick && p[0] == '+' && p[1] == ' ' &&
	           (uid = record_uid(p)) != 0 && !picks(s, uid)) {
		s->nskip++;
	} else if (apply(s, p, e) < 0) {
		mf_err_prefix(e, "%s", rd->journal ? s->journal : s->snap);
		return -1;
	}
	rd->first = 0;
	return 0;
}

static int read_lines(struct mf_syncstate *s, const char *path,
                      struct reader *rd, struct mf_err *e)
{
	rd->s = s;
	return each_line(path, load_line, rd, &rd->complete, &rd->total, e);
}

/* A journal with records in it: the last run did not end cleanly. */
static int journal_waits(const struct mf_syncstate *s)
{
	struct stat sb;

	return stat(s->journal, &sb) == 0 && sb.st_size > 0;
}

static int load(struct mf_syncstate *s, int head, struct mf_err *e)
{
	struct reader rd = { s, 0, head && !journal_waits(s), s->picked, 1, 0, 0 };
	int r = read_lines(s, s->snap, &rd, e);

	s->partial = rd.head && r == 0;   /* no snapshot: nothing left out */
	if (r < 0 || s->partial)
		return r < 0 ? -1 : 0;
	rd = (struct reader){ s, 1, 0, 0, 1, 0, 0 };
	r = read_lines(s, s->journal, &rd, e);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0;
	if (r == 2) {
		/* stale: remove it so new records do not follow old ones */
		return unlink(s->journal) < 0 && errno != ENOENT
		       ? mf_err_sys(e, MF_E_IO, errno, "unlink %s", s->journal) : 0;
	}
	s->journal_open = rd.complete > 0;
	/* a torn tail (a crash mid-write) is cut off */
	if (rd.complete < rd.total && truncate(s->journal, (off_t)rd.complete) < 0)
		return mf_err_sys(e, MF_E_IO, errno, "truncate %s", s->journal);
	return 0;
}

static struct mf_syncstate *open_state(const char *dir, const char *key,
                                       int head, struct mf_err *e)
{
	struct mf_syncstate *s;

	if (!*key || strchr(key, '/') || key[0] == '.') {
		mf_err_set(e, MF_E_INTERNAL, "bad sync state key");
		return NULL;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		mf_err_sys(e, MF_E_IO, errno, "mkdir %s", dir);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	mf_buf_init(&s->pending, STATE_FILE_MAX);
	s->dir = strdup(dir);
	s->snap = path_join(dir, key, ".state");
	s->journal = path_join(dir, key, ".journal");
	if (!s->dir || !s->snap || !s->journal) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		mf_syncstate_free(s);
		return NULL;
	}
	if (load(s, head, e) < 0) {
		mf_syncstate_free(s);
		return NULL;
	}
	return s;
}

struct mf_syncstate *mf_syncstate_open(const char *dir, const char *key,
                                       struct mf_err *e)
{
	return open_state(dir, key, 0, e);
}

struct mf_syncstate *mf_syncstate_open_head(const char *dir, const char *key,
                                            struct mf_err *e)
{
	return open_state(dir, key, 1, e);
}

int mf_syncstate_load(struct mf_syncstate *s, struct mf_err *e)
{
	if (s->picked)
		return mf_err_set(e, MF_E_INTERNAL, "%s: read in part already",
		                  s->snap);
	if (!s->partial)
		return 0;
	s->nhead = 0;
	return load(s, 0, e);
}

/* ranges: n pairs (lo, hi), each lo <= hi, sorted and apart. */
static int ranges_ok(const uint32_t *ranges, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ranges[2 * i] > ranges[2 * i + 1] ||
		    (i && ranges[2 * i] <= ranges[2 * i - 1]))
			return 0;
	return 1;
}

int mf_syncstate_load_some(struct mf_syncstate *s, const uint32_t *ranges,
                           size_t n, struct mf_err *e)
{
	if (!ranges_ok(ranges, n) || s->stream || s->picked)
		return mf_err_set(e, MF_E_INTERNAL, "%s: bad pick", s->snap);
	/* read whole already, or a journal to replay: everything is read */
	if (!s->partial || journal_waits(s))
		return mf_syncstate_load(s, e);
	if (n == 0)
		return mf_err_set(e, MF_E_INTERNAL, "%s: empty pick", s->snap);
	if (!(s->pr = malloc(2 * n * sizeof *s->pr)))
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	memcpy(s->pr, ranges, 2 * n * sizeof *s->pr);
	s->npr = n;
	s->picked = 1;
	s->nhead = 0;
	return load(s, 0, e) < 0 ? -1 : 1;
}

/* Nothing may change a state whose entries were not read. */
static int loaded(const struct mf_syncstate *s, struct mf_err *e)
{
	return s->partial ? mf_err_set(e, MF_E_INTERNAL, "%s: changed before "
	                               "it was read", s->snap) : 0;
}

/* Nor an entry a pick left unread: its record would be written twice. */
static int held(const struct mf_syncstate *s, uint32_t uid,
                struct mf_err *e)
{
	if (loaded(s, e) < 0)
		return -1;
	return !s->picked || picks(s, uid) ? 0 :
	       mf_err_set(e, MF_E_INTERNAL, "%s: UID %u changed but not read",
	                  s->snap, uid);
}

/* Nor may a pick be left for all entries at once. */
static int not_picked(const struct mf_syncstate *s, struct mf_err *e)
{
	return s->picked ? mf_err_set(e, MF_E_INTERNAL, "%s: read in part",
	                              s->snap) : 0;
}

void mf_syncstate_free(struct mf_syncstate *s)
{
	if (!s)
		return;
	clear_mem(s);
	for (unsigned k = 0; k < MF_SYNCSTATE_KEYWORDS; k++)
		free(s->kwtab[k]);
	free(s->v);
	free(s->su);
	free(s->pr);
	free(s->dir);
	free(s->snap);
	free(s->journal);
	mf_buf_free(&s->pending);
	free(s);
}

/* Position of uid among the streamed UIDs; *found when there. */
static size_t stream_find(const struct mf_syncstate *s, uint32_t uid,
                          int *found)
{
	size_t lo = 0, hi = s->sn;

	/* they come in UID order as a rule: the last one first */
	if (s->sn && s->su[s->sn - 1] < uid)
		lo = s->sn;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->su[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->sn && s->su[lo] == uid;
	return lo;
}

static int stream_put(struct mf_syncstate *s, uint32_t uid, struct mf_err *e)
{
	int found;
	size_t i = stream_find(s, uid, &found);

	if (found)
		return 0;
	if (s->sn == s->scap) {
		size_t nc = s->scap ? s->scap * 2 : 1024;
		uint32_t *nv = realloc(s->su, nc * sizeof *nv);
		if (!nv)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		s->su = nv;
		s->scap = nc;
	}
	memmove(&s->su[i + 1], &s->su[i], (s->sn - i) * sizeof *s->su);
	s->su[i] = uid;
	s->sn++;
	return 0;
}

int mf_syncstate_stream(struct mf_syncstate *s, struct mf_err *e)
{
	if (loaded(s, e) < 0 || not_picked(s, e) < 0)
		return -1;
	if (s->n)
		return mf_err_set(e, MF_E_INTERNAL, "%s: streamed with entries "
		                  "held", s->snap);
	/* from a snapshot and a journal without entries, so that every
	 * entry written from now on is in the journal alone */
	if (mf_syncstate_compact(s, e) < 0)
		return -1;
	s->stream = 1;
	return 0;
}

/* In stream mode only entries are added. */
static int not_streaming(const struct mf_syncstate *s, struct mf_err *e)
{
	return s->stream ? mf_err_set(e, MF_E_INTERNAL, "%s: only additions "
	                              "while streaming", s->snap) : 0;
}

uint32_t mf_syncstate_uidvalidity(const struct mf_syncstate *s)
{
	return s->uidvalidity;
}

uint64_t mf_syncstate_modseq(const struct mf_syncstate *s)
{
	return s->modseq;
}

uint32_t mf_syncstate_uidnext(const struct mf_syncstate *s)
{
	return s->uidnext;
}

int mf_syncstate_set_modseq(struct mf_syncstate *s, uint64_t v,
                            struct mf_err *e)
{
	if (loaded(s, e) < 0)
		return -1;
	if (v == s->modseq)
		return 0;
	s->modseq = v;
	return mf_buf_printf(&s->pending, e, "M %llu\n", (unsigned long long)v);
}

int mf_syncstate_set_uidnext(struct mf_syncstate *s, uint32_t v,
                             struct mf_err *e)
{
	if (loaded(s, e) < 0)
		return -1;
	if (v == s->uidnext)
		return 0;
	s->uidnext = v;
	return mf_buf_printf(&s->pending, e, "N %u\n", v);
}

int mf_syncstate_reset(struct mf_syncstate *s, uint32_t uidvalidity,
                       struct mf_err *e)
{
	if (loaded(s, e) < 0 || not_streaming(s, e) < 0 || not_picked(s, e) < 0)
		return -1;
	clear_mem(s);
	s->modseq = 0;
	s->uidnext = 0;
	s->uidvalidity = uidvalidity;
	return mf_buf_printf(&s->pending, e, "R %u\n", uidvalidity);
}

size_t mf_syncstate_count(const struct mf_syncstate *s)
{
	return s->stream ? s->sn : s->partial ? s->nhead : s->nskip + s->n;
}

size_t mf_syncstate_held(const struct mf_syncstate *s)
{
	return s->n;
}

const struct mf_syncstate_entry *mf_syncstate_at(const struct mf_syncstate *s,
                                                 size_t i)
{
	return i < s->n ? &s->v[i] : NULL;
}

const struct mf_syncstate_entry *mf_syncstate_get(const struct mf_syncstate *s,
                                                  uint32_t uid)
{
	static const struct mf_syncstate_entry streamed = { 0, 0, "", "" };
	int found;
	size_t i;

	if (s->stream) {
		(void)stream_find(s, uid, &found);
		return found ? &streamed : NULL;
	}
	i = find(s, uid, &found);
	return found ? &s->v[i] : NULL;
}

int mf_syncstate_put(struct mf_syncstate *s, uint32_t uid, const char *flags,
                     unsigned status, const char *base, struct mf_err *e)
{
	if (held(s, uid, e) < 0)
		return -1;
	if (!uid || !valid_word(base) || !valid_flags(flags) ||
	    strlen(flags) >= MF_SYNCSTATE_FLAGS_MAX)
		return mf_err_set(e, MF_E_INTERNAL, "bad sync state entry");
	if ((s->stream ? stream_put(s, uid, e)
	               : put_mem(s, uid, flags, status, base, e)) < 0)
		return -1;
	return print_entry(&s->pending, uid, status, flags, base, e);
}

const char *mf_syncstate_keyword(const struct mf_syncstate *s, unsigned idx)
{
	return idx < MF_SYNCSTATE_KEYWORDS ? s->kwtab[idx] : NULL;
}

int mf_syncstate_set_keyword(struct mf_syncstate *s, unsigned idx,
                             const char *name, struct mf_err *e)
{
	if (loaded(s, e) < 0)
		return -1;
	if (idx >= MF_SYNCSTATE_KEYWORDS || (name && !valid_word(name)) ||
	    (name && !strcmp(name, "-")))
		return mf_err_set(e, MF_E_INTERNAL, "bad keyword table entry");
	if (set_kw_mem(s, idx, name, e) < 0)
		return -1;
	return mf_buf_printf(&s->pending, e, "K %u %s\n", idx, name ? name : "-");
}

int mf_syncstate_del(struct mf_syncstate *s, uint32_t uid, struct mf_err *e)
{
	if (held(s, uid, e) < 0 || not_streaming(s, e) < 0)
		return -1;
	if (!mf_syncstate_get(s, uid))
		return 0;
	del_mem(s, uid);
	return mf_buf_printf(&s->pending, e, "- %u\n", uid);
}

size_t mf_syncstate_pending(const struct mf_syncstate *s)
{
	return s->pending.len;
}

int mf_syncstate_commit(struct mf_syncstate *s, struct mf_err *e)
{
	char hdr[64];
	int fd, created = 0;

	if (s->pending.len == 0)
		return 0;
	fd = open(s->journal, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(s->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		created = 1;
		s->journal_open = 0;
	}
	if (fd < 0)
		return mf_err_sys(e, MF_E_IO, errno, "open %s", s->journal);
	snprintf(hdr, sizeof hdr, "gen %lu\n", s->gen);
	if ((!s->journal_open &&
	     mf_durable_write(fd, hdr, strlen(hdr), s->journal, e) < 0) ||
	    mf_durable_write(fd, s->pending.data, s->pending.len, s->journal,
	                     e) < 0) {
		close(fd);
		return -1;
	}
	if (mf_durable_fsync_close(fd, s->journal, e) < 0)
		return -1;
	s->journal_open = 1;
	mf_buf_reset(&s->pending);
	return created ? mf_durable_fsync_dir(s->dir, e) : 0;
}

#define SNAP_CHUNK (64u << 10)   /* bytes of the snapshot written at once */

/* Flush b to fd once it holds a chunk (all of it with force). */
static int snap_flush(int fd, struct mf_buf *b, const char *tmp, int force,
                      struct mf_err *e)
{
	if (b->len == 0 || (!force && b->len < SNAP_CHUNK))
		return 0;
	if (mf_durable_write(fd, b->data, b->len, tmp, e) < 0)
		return -1;
	mf_buf_reset(b);
	return 0;
}

/* Where the journal's entry records go while a snapshot is written. */
struct copy {
	int fd;
	struct mf_buf *b;
	const char *tmp;
};

static int copy_line(void *arg, char *line, struct mf_err *e)
{
	struct copy *c = arg;

	if (line[0] != '+' || line[1] != ' ')
		return 0;   /* "gen", and values the header holds */
	if (mf_buf_puts(c->b, line, e) < 0 || mf_buf_putc(c->b, '\n', e) < 0)
		return -1;
	return snap_flush(c->fd, c->b, c->tmp, 0, e);
}

/* Stream mode: the entries are the journal's records (it was committed
 * just before; _stream() began with an empty snapshot and journal). */
static int copy_entries(struct mf_syncstate *s, int fd, struct mf_buf *b,
                        const char *tmp, struct mf_err *e)
{
	struct copy c = { fd, b, tmp };
	size_t complete = 0, total = 0;
	int r = each_line(s->journal, copy_line, &c, &complete, &total, e);

	if (r < 0)
		return -1;
	if (complete != total)
		return mf_err_set(e, MF_E_INTERNAL, "%s: a record was cut",
		                  s->journal);
	return 0;
}

/* A pick: the old snapshot's records merged with the entries held. */
struct merge {
	struct copy c;
	const struct mf_syncstate *s;
	size_t i;           /* the next held entry to write */
};

/* Write the held entries below uid not written yet (all of them:
 * UINT32_MAX + 1). */
static int merge_held(struct merge *m, uint64_t uid, struct mf_err *e)
{
	const struct mf_syncstate *s = m->s;

	for (; m->i < s->n && s->v[m->i].uid < uid; m->i++)
		if (print_entry(m->c.b, s->v[m->i].uid, s->v[m->i].status,
		                s->v[m->i].flags, s->v[m->i].base, e) < 0 ||
		    snap_flush(m->c.fd, m->c.b, m->c.tmp, 0, e) < 0)
			return -1;
	return 0;
}

/* A record the pick left unread is copied as it is; a picked one is
 * replaced by what is held (nothing when it was deleted).  A snapshot in
 * UID order gives one in UID order; any other still gives each record
 * once. */
static int merge_line(void *arg, char *line, struct mf_err *e)
{
	struct merge *m = arg;
	uint32_t uid;

	if (line[0] != '+' || line[1] != ' ')
		return 0;   /* the header: written afresh */
	if (!(uid = record_uid(line)))
		return mf_err_set(e, MF_E_DATA, "%s: corrupt sync state record",
		                  m->s->snap);
	if (merge_held(m, uid, e) < 0)
		return -1;
	return picks(m->s, uid) ? 0 : copy_line(&m->c, line, e);
}

static int merge_entries(struct mf_syncstate *s, int fd, struct mf_buf *b,
                         const char *tmp, struct mf_err *e)
{
	struct merge m = { { fd, b, tmp }, s, 0 };
	size_t complete = 0, total = 0;
	int r = each_line(s->snap, merge_line, &m, &complete, &total, e);

	if (r < 0)
		return -1;
	return merge_held(&m, (uint64_t)UINT32_MAX + 1, e);
}

/* Every entry held, in UID order. */
static int held_entries(struct mf_syncstate *s, int fd, struct mf_buf *b,
                        const char *tmp, struct mf_err *e)
{
	struct merge m = { { fd, b, tmp }, s, 0 };

	return merge_held(&m, (uint64_t)UINT32_MAX + 1, e);
}

/* The snapshot, streamed to tmp a chunk at a time (memory stays flat in
 * the number of entries), fsynced, then renamed over the old one. */
static int write_snapshot(struct mf_syncstate *s, const char *tmp,
                          struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(STATE_FILE_MAX);
	int fd, r = -1;

	if ((fd = mf_durable_create(tmp, 0600, e)) < 0)
		return -1;
	if (mf_buf_printf(&b, e, "mailflow-syncstate 1\ngen %lu\nV %u\nM %llu\nN %u\n",
	                  s->gen + 1, s->uidvalidity,
	                  (unsigned long long)s->modseq, s->uidnext) < 0)
		goto out;
	for (unsigned k = 0; k < MF_SYNCSTATE_KEYWORDS; k++)
		if (s->kwtab[k] &&
		    mf_buf_printf(&b, e, "K %u %s\n", k, s->kwtab[k]) < 0)
			goto out;
	if (s->stream && copy_entries(s, fd, &b, tmp, e) < 0)
		goto out;
	if ((s->picked ? merge_entries(s, fd, &b, tmp, e)
	               : held_entries(s, fd, &b, tmp, e)) < 0)
		goto out;
	if (snap_flush(fd, &b, tmp, 1, e) < 0)
		goto out;
	r = mf_durable_fsync_close(fd, tmp, e);
	fd = -1;
	if (r == 0)
		r = mf_durable_rename(tmp, s->snap, e);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	mf_buf_free(&b);
	return r;
}

int mf_syncstate_compact(struct mf_syncstate *s, struct mf_err *e)
{
	size_t n = strlen(s->snap) + 5;
	char *tmp;
	int r = -1;

	if (loaded(s, e) < 0)
		return -1;
	if (!(tmp = malloc(n)))
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	(void)snprintf(tmp, n, "%s.tmp", s->snap);  /* n is exact */
	/* the journal is committed first so a failed rewrite loses nothing */
	if (mf_syncstate_commit(s, e) < 0 || write_snapshot(s, tmp, e) < 0)
		goto out;
	s->gen++;
	/* the old journal is now stale by generation; removing it is tidy */
	if (unlink(s->journal) < 0 && errno != ENOENT) {
		mf_err_sys(e, MF_E_IO, errno, "unlink %s", s->journal);
		goto out;
	}
	s->journal_open = 0;
	r = 0;
out:
	free(tmp);
	return r;
}
