/* mailflow-config - mailflow's configuration file from another tool's:
 * "import" reads an msmtprc, an mpoprc or an mbsyncrc and prints the
 * mailflow configuration (lib/cfgimport.h does the work). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "cfgimport.h"
#include "cli.h"
#include "err.h"
#include "queue.h"

#define INPUT_MAX (1024 * 1024)

enum { OPT_FROM = MF_OPT_TOOL_BASE };

static const struct option longopts[] = {
	{ "from", required_argument, NULL, OPT_FROM },
	MF_CLI_STDLONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const char usage_text[] =
"usage: mailflow-config import [--from msmtp|mpop|mbsync] FILE|-\n"
"Convert an msmtprc, an mpoprc or an mbsyncrc (FILE, or '-' for the\n"
"standard input) into a mailflow configuration file (mailflow(5)), written\n"
"to the standard output; what cannot be converted is kept as a comment\n"
"and said on the standard error.\n"
"      --from FORMAT     the input's format: msmtp, mpop or mbsync\n"
"                        (default: recognised by its keys)\n"
"  -h, --help            this help\n"
"  -V, --version         show the version\n"
"Exit status: 0 converted, 64 usage, 65 an input it cannot make sense of,\n"
"66 an input it cannot read (mailflow(7) has the table).\n";

static int
usage_error(const char *msg)
{
	return mf_cli_usage_error(stderr, "mailflow-config", msg);
}

static int
import(const char *path, enum mf_cfgimport_format f)
{
	const char *w, *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	struct mf_cfgimport *r;
	struct mf_err e;
	char *text;
	size_t len, i;
	int rc;

	mf_err_clear(&e);
	if (mf_queue_read_file(path, INPUT_MAX, &text, &len, &e) == -1) {
		mf_cli_msg(stderr, "mailflow-config", "cannot read %s",
		    e.msg);
		return e.kind == MF_E_DATA ? EX_DATAERR : EX_NOINPUT;
	}
	if (memchr(text, '\0', len) != NULL) {
		mf_err_set(&e, MF_E_DATA, "%s: contains a NUL byte: not a "
		    "configuration file", name);
		r = NULL;
	} else {
		r = mf_cfgimport_convert(text, name, f, &e);
	}
	mf_memwipe(text, len);
	free(text);
	if (r == NULL)
		return mf_cli_fail(stderr, "mailflow-config", &e);
	for (i = 0; (w = mf_cfgimport_warning(r, i)) != NULL; i++)
		mf_cli_msg(stderr, "mailflow-config", "warning: %s", w);
	rc = fputs(mf_cfgimport_text(r), stdout) == EOF || fflush(stdout) ==
	    EOF ? EX_IOERR : 0;
	if (rc != 0)
		mf_cli_msg(stderr, "mailflow-config", "cannot write the "
		    "standard output");
	mf_cfgimport_free(r);
	return rc;
}

int
main(int argc, char **argv)
{
	enum mf_cfgimport_format f = MF_CFGIMPORT_AUTO;
	struct mf_err e;
	char msg[MF_ERR_MSG_MAX];
	int c;

	mf_err_clear(&e);
	while ((c = mf_cli_getopt(argc, argv, MF_CLI_STDSHORT, longopts, &e))
	    != -1) {
		switch (c) {
		case OPT_FROM:
			if (mf_cfgimport_format_parse(optarg, &f) == -1) {
				mf_fmt(msg, sizeof(msg), "--from: '%s' is not "
				    "msmtp, mpop or mbsync", optarg);
				return usage_error(msg);
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			return mf_cli_print_version(stdout, "mailflow-config");
		default:
			return usage_error(e.msg);
		}
	}
	if (optind >= argc)
		return usage_error("no command given (import)");
	if (strcmp(argv[optind], "import") != 0) {
		mf_fmt(msg, sizeof(msg), "unknown command '%s' (import)",
		    argv[optind]);
		return usage_error(msg);
	}
	if (argc - optind != 2)
		return usage_error(argc - optind < 2 ? "import needs a FILE "
		    "(or - for the standard input)" : "import takes one FILE");
	return import(argv[optind + 1], f);
}
