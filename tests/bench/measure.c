/*
 * measure: run a command and report its wall time and peak memory, for
 * make bench (tests/bench/run.sh compiles it into its work directory).
 *
 *	measure [-i FILE | -e DIR] [-o FILE] [-r FILE] -- CMD ARG...
 *
 * Prints "MS RSS_KB": the wall time in milliseconds from just before the
 * fork to just after the child is reaped, and the child's peak resident set
 * size in KiB (ru_maxrss from wait4 of that child).  The measurer is a small
 * C program on purpose: Linux counts the memory a child had before its exec
 * into ru_maxrss, so a child forked from Python would never report less
 * than Python's own ~10 MiB.  Here the floor is this program's ~1 MiB.
 *
 *	-i FILE	CMD reads FILE on its standard input (no shell between)
 *	-e DIR	run CMD once per file of DIR (sorted by name), one after the
 *		other, each file on its standard input: MS is the total, RSS
 *		the largest of all runs ("1,000 msmtp runs")
 *	-o FILE	CMD's standard output goes to FILE (default: discarded)
 *	-r FILE	CMD's standard error goes to FILE (default: discarded)
 *
 * Exit status: 0, or the first failing run's exit status, or 1 when it died
 * of a signal.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Run argv once with stdin from in; return its exit status, set *rss. */
static int
run_once(char **argv, const char *in, int out_fd, int err_fd, long *rss)
{
	struct rusage ru;
	pid_t pid;
	int fd, status;

	if ((pid = fork()) == -1) {
		perror("measure: fork");
		return 1;
	}
	if (pid == 0) {
		if ((fd = open(in != NULL ? in : "/dev/null", O_RDONLY)) == -1) {
			perror(in);
			_exit(127);
		}
		dup2(fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "measure: %s: exec failed\n", argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("measure: wait4");
		return 1;
	}
	if (ru.ru_maxrss > *rss)
		*rss = ru.ru_maxrss;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	dprintf(err_fd, "killed by signal %d\n", WTERMSIG(status));
	return 1;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	const char *in = NULL, *each = NULL, *out = "/dev/null", *err = "/dev/null";
	struct dirent **names = NULL;
	char path[4096];
	double start;
	long rss = 0;
	int c, i, n = 0, rc = 0, out_fd, err_fd;

	while ((c = getopt(argc, argv, "i:e:o:r:")) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'e': each = optarg; break;
		case 'o': out = optarg; break;
		case 'r': err = optarg; break;
		default: return 64;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: measure [-i FILE | -e DIR] [-o FILE] [-r FILE] -- CMD ARG...\n");
		return 64;
	}
	out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	err_fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out_fd == -1 || err_fd == -1) {
		perror("measure: output file");
		return 1;
	}
	if (each != NULL && (n = scandir(each, &names, NULL, by_name)) == -1) {
		perror(each);
		return 1;
	}
	start = now_ms();
	if (each == NULL)
		rc = run_once(argv + optind, in, out_fd, err_fd, &rss);
	for (i = 0; i < n && rc == 0; i++) {
		if (names[i]->d_name[0] == '.')
			continue;
		c = snprintf(path, sizeof(path), "%s/%s", each, names[i]->d_name);
		if (c < 0 || (size_t)c >= sizeof(path))
			return 1;
		rc = run_once(argv + optind, path, out_fd, err_fd, &rss);
	}
	printf("%.1f %ld\n", now_ms() - start, rss);
	return rc;
}
