/* scratchdir.h - a private directory per test and the Maildir files in
 * it, for the unit tests of the engines that write to disk (popfetch,
 * imapsync, queue). */
#ifndef MF_TEST_SCRATCHDIR_H
#define MF_TEST_SCRATCHDIR_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Make a new directory /tmp/mf-NAME-XXXXXX into dir. */
static inline void
scratch_make(char *dir, size_t len, const char *name)
{
	cr_assert_lt((size_t)snprintf(dir, len, "/tmp/mf-%s-XXXXXX", name),
	    len);
	cr_assert_not_null(mkdtemp(dir));
}

/* Remove it with everything in it. */
static inline void
scratch_remove(const char *dir)
{
	char cmd[160];

	cr_assert_lt((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir),
	    sizeof(cmd));
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

/* The messages in md/sub, in name order, concatenated into all; with
 * flags each is "FLAGS=CONTENT|" (FLAGS the letters after ":2,", "-" for
 * a name without them).  Returns how many there are. */
static inline size_t
maildir_read(const char *md, const char *sub, int flags, char *all,
             size_t alllen)
{
	char path[512], buf[1024];
	struct dirent **names;
	const char *info;
	size_t got = 0;
	FILE *fp;
	int i, k;

	all[0] = '\0';
	cr_assert_lt((size_t)snprintf(path, sizeof(path), "%s/%s", md, sub),
	    sizeof(path));
	k = scandir(path, &names, NULL, alphasort);
	cr_assert_geq(k, 0, "scandir %s", path);
	for (i = 0; i < k; i++) {
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		cr_assert_lt((size_t)snprintf(path, sizeof(path), "%s/%s/%s", md,
		    sub, names[i]->d_name), sizeof(path));
		fp = fopen(path, "r");
		cr_assert_not_null(fp, "%s", path);
		buf[fread(buf, 1, sizeof(buf) - 1, fp)] = '\0';
		fclose(fp);
		if (flags) {
			info = strstr(names[i]->d_name, ":2,");
			strncat(all, info ? info + 3 : "-", alllen - strlen(all) - 1);
			strncat(all, "=", alllen - strlen(all) - 1);
		}
		strncat(all, buf, alllen - strlen(all) - 1);
		if (flags)
			strncat(all, "|", alllen - strlen(all) - 1);
		got++;
		free(names[i]);
	}
	free(names);
	return got;
}

#endif
