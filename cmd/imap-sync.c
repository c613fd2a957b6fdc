/* imap-sync - keep a local Maildir in step with IMAP folders. */
#include "buf.h"
#include "cli.h"
#include "durable.h"
#include "err.h"
#include "esc.h"
#include "idn.h"
#include "imapsync.h"
#include "progress.h"
#include "json.h"

#include <malloc.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIST_MAX 256

enum { O_LAYOUT = MF_OPT_TOOL_BASE, O_FOLDER, O_EXCLUDE, O_PULL, O_TWOWAY,
       O_EXPUNGE, O_DRY, O_IDLE, O_JOBS, O_STATE, O_PROGRESS, O_JSON,
       O_IDLECONN, O_POLL, O_RMIN, O_RMAX, O_KEEPALIVE, O_NONOTIFY,
       O_FNAMES };

static const struct option longopts[] = {
	MF_CLI_LONGOPTS,
	MF_CLI_LOGOPTS,
	{ "maildir", required_argument, NULL, 'm' },
	{ "layout", required_argument, NULL, O_LAYOUT },
	{ "folder-names", required_argument, NULL, O_FNAMES },
	{ "folder", required_argument, NULL, O_FOLDER },
	{ "exclude", required_argument, NULL, O_EXCLUDE },
	{ "pull", no_argument, NULL, O_PULL },
	{ "two-way", no_argument, NULL, O_TWOWAY },
	{ "expunge", no_argument, NULL, O_EXPUNGE },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "idle", no_argument, NULL, O_IDLE },
	{ "jobs", required_argument, NULL, O_JOBS },
	{ "idle-connections", required_argument, NULL, O_IDLECONN },
	{ "poll-interval", required_argument, NULL, O_POLL },
	{ "reconnect-min", required_argument, NULL, O_RMIN },
	{ "reconnect-max", required_argument, NULL, O_RMAX },
	{ "keepalive", required_argument, NULL, O_KEEPALIVE },
	{ "no-notify", no_argument, NULL, O_NONOTIFY },
	{ "state", required_argument, NULL, O_STATE },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	struct mf_cli cli;
	const char *maildir, *state, *folders[LIST_MAX], *excludes[LIST_MAX];
	const char *folder_names;
	size_t nfolders, nexcludes;
	enum mf_imapsync_layout layout;
	int two_way, expunge, dry, idle, jobs, progress, quiet, json;
	struct mf_imapsync_idle svc;
};

struct ui {
	struct opts *o;
	struct mf_buf json;
	struct mf_json j;
	struct mf_progress pg;
	char pg_folder[MF_ESC_SIZE(128)];
	unsigned long fetched, folders, failed, uploaded;
	unsigned long shown;           /* folder errors printed on stderr */
	unsigned long long bytes;
	const struct mf_settings *s;   /* of the run, for --idle's events */
	char host[256];                /* the server, for the summary */
	int host_shown;                /* its line is out (this run) */
};

static volatile int stop, reload, sync_now;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else if (sig == SIGUSR1)
		sync_now = 1;
	else
		stop = 1;
}

/* --idle runs as a service: TERM/INT stop it after the message being
 * fetched, HUP re-reads the configuration, USR1 syncs at once.  Buffers
 * of 32 KiB and more (one set per connection, dropped at each reconnect)
 * are mapped and unmapped whole, so months of reconnects cannot fragment
 * the heap into a growing process. */
static void service_setup(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);

	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: imap-sync [OPTIONS] [ACCOUNT]\n%s"
	    "  -m, --maildir DIR         local Maildir root\n"
	    "      --layout maildir++|fs subfolders as .A.B or as A/B\n"
	    "      --folder-names utf8|mutf7  folder names on disk: UTF-8, or\n"
	    "                            modified UTF-7 as Dovecot/Courier/mbsync\n"
	    "      --folder PATTERN      IMAP LIST pattern to sync (repeatable;\n"
	    "                            default: all folders)\n"
	    "      --exclude PATTERN     skip folders matching PATTERN (repeatable)\n"
	    "      --pull                server to local only (the default)\n"
	    "      --two-way             also send local changes to the server\n"
	    "      --expunge             propagate deletions\n"
	    "      --dry-run             say what would change, change nothing\n"
	    "      --idle                run as a service: watch, sync, reconnect\n"
	    "      --jobs N              sync N folders in parallel (N connections)\n"
	    "      --idle-connections N  folders watched by IDLE (default 4)\n"
	    "      --poll-interval SECS  STATUS poll of the others (default 300)\n"
	    "      --reconnect-min SECS  first reconnect delay (default 1)\n"
	    "      --reconnect-max SECS  longest reconnect delay (default 300)\n"
	    "      --keepalive SECS      probe idle connections (default 60)\n"
	    "      --no-notify           do not use NOTIFY (RFC 5465)\n"
	    "      --state DIR           sync state directory\n"
	    "      --progress            progress also when standard error is not a\n"
	    "                            terminal (plain lines; on a terminal a bar\n"
	    "                            is the default)\n"
	    "  -q, --quiet               print only errors\n"
	    "      --json                JSON summary per folder on stdout\n%s",
	    mf_cli_usage, mf_cli_log_usage);
}

/* The --idle service's numbers: connections, or seconds. */
static int svc_option(struct opts *o, int c, const char *arg, struct mf_err *e)
{
	long v;

	if (c == O_IDLECONN) {
		if (mf_parse_long(arg, 0, 64, &v) < 0)
			return mf_err_set(e, MF_E_USAGE, "--idle-connections: 0..64");
		o->svc.connections = v ? (int)v : -1;
		return 0;
	}
	if (mf_parse_long(arg, c == O_RMIN || c == O_RMAX ? 0 : 1, 86400, &v) < 0)
		return mf_err_set(e, MF_E_USAGE, "%s: seconds, up to 86400",
		                  c == O_POLL ? "--poll-interval" : c == O_RMIN
		                  ? "--reconnect-min" : c == O_RMAX
		                  ? "--reconnect-max" : "--keepalive");
	int ms = (int)v * 1000;
	if (c == O_POLL)
		o->svc.poll_ms = ms;
	else if (c == O_RMIN)
		o->svc.backoff_min_ms = ms ? ms : 1;
	else if (c == O_RMAX)
		o->svc.backoff_max_ms = ms ? ms : 1;
	else
		o->svc.keepalive_ms = ms;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o, struct mf_err *e)
{
	int c;
	long v;

	while ((c = mf_cli_getopt(argc, argv, MF_CLI_SHORTOPTS "m:q", longopts,
	                          e)) != -1) {
		int r = c == '?' ? -1 : mf_cli_option(&o->cli, c, optarg, e);
		if (r < 0)
			return -1;
		if (r == 1)
			continue;
		switch (c) {
		case 'm': o->maildir = optarg; break;
		case O_LAYOUT:
			if (!strcmp(optarg, "maildir++"))
				o->layout = MF_LAYOUT_MAILDIRPP;
			else if (!strcmp(optarg, "fs"))
				o->layout = MF_LAYOUT_FS;
			else
				return mf_err_set(e, MF_E_USAGE,
				                  "--layout: use maildir++ or fs");
			break;
		case O_FNAMES:
			if (!mf_config_choice("utf8|mutf7", optarg))
				return mf_err_set(e, MF_E_USAGE,
				                  "--folder-names: use utf8 or mutf7");
			o->folder_names = optarg;
			break;
		case O_FOLDER:
		case O_EXCLUDE: {
			const char **v2 = c == O_FOLDER ? o->folders : o->excludes;
			size_t *n = c == O_FOLDER ? &o->nfolders : &o->nexcludes;
			if (*n >= LIST_MAX)
				return mf_err_set(e, MF_E_USAGE, "too many %s options",
				                  c == O_FOLDER ? "--folder" : "--exclude");
			v2[(*n)++] = optarg;
			break;
		}
		case O_PULL: o->two_way = 0; break;
		case O_TWOWAY: o->two_way = 1; break;
		case O_EXPUNGE: o->expunge = 1; break;
		case O_DRY: o->dry = 1; break;
		case O_IDLE: o->idle = 1; break;
		case O_JOBS:
			if (mf_parse_long(optarg, 1, 64, &v) < 0)
				return mf_err_set(e, MF_E_USAGE, "--jobs: a number 1..64");
			o->jobs = (int)v;
			break;
		case O_IDLECONN:
		case O_POLL:
		case O_RMIN:
		case O_RMAX:
		case O_KEEPALIVE:
			if (svc_option(o, c, optarg, e) < 0)
				return -1;
			break;
		case O_NONOTIFY: o->svc.no_notify = 1; break;
		case O_STATE: o->state = optarg; break;
		case O_PROGRESS: o->progress = 1; break;
		case 'q': o->quiet = 1; break;
		case O_JSON: o->json = 1; break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			exit(mf_cli_print_version(stdout, "imap-sync"));
		default:
			return mf_err_set(e, MF_E_USAGE, "unknown option");
		}
	}
	if (argc - optind > 1)
		return mf_err_set(e, MF_E_USAGE, "unexpected argument %s",
		                  argv[optind + 1]);
	return 0;
}

/* --idle's events: stderr and the log (reconnect attempts as errors). */
static void on_notice(void *arg, int trouble, const char *msg)
{
	struct ui *ui = arg;
	struct mf_maillog *lg;
	struct mf_maillog_line l;
	struct mf_err e;

	mf_cli_msg(stderr, "imap-sync", "%s", msg);
	mf_err_clear(&e);
	if (!ui->s || !(lg = mf_cli_maillog(ui->s, "imap-sync", &e))) {
		if (e.kind != MF_OK)
			mf_cli_msg(stderr, "imap-sync", "warning: %s", e.msg);
		return;
	}
	mf_settings_log_start(ui->s, &l);
	mf_maillog_add(&l, "event", msg);
	if (mf_maillog_write(lg, &l, trouble, &e) < 0)
		mf_cli_msg(stderr, "imap-sync", "warning: %s", e.msg);
	mf_maillog_close(lg);
}

static void on_warn(void *arg, const char *msg)
{
	struct ui *ui = arg;

	if (!ui->o->quiet)
		mf_cli_msg(stderr, "imap-sync", "warning: %s", msg);
}

/* lib/progress.h's one behaviour; each folder's rate and time left count
 * from its own start.  The folder name is the server's: escaped. */
static void on_progress(void *arg, const char *folder, unsigned long done,
                        unsigned long total)
{
	struct ui *ui = arg;
	char line[1024], name[MF_ESC_SIZE(128)];
	const char *text;

	mf_esc_str(name, sizeof name, folder);
	if (strcmp(name, ui->pg_folder) != 0) {
		fputs(mf_progress_clear(&ui->pg), stderr);
		mf_progress_start(&ui->pg, ui->pg.mode);
		mf_strlcpy(ui->pg_folder, name, sizeof ui->pg_folder);
	}
	text = mf_progress_update(&ui->pg, line, sizeof line, name, done, total,
	                          0);
	if (text != NULL) {
		fputs(text, stderr);
		fflush(stderr);
	}
}

static void on_report(void *arg, const struct mf_imapsync_result *r)
{
	struct ui *ui = arg;
	struct mf_json *j = &ui->j;
	char name[MF_ESC_SIZE(1024)], host[MF_IDN_NAME_MAX];

	fputs(mf_progress_clear(&ui->pg), stderr);
	ui->fetched += r->fetched;
	ui->bytes += r->bytes;
	ui->uploaded += r->uploaded;
	ui->folders++;
	ui->failed += r->error != NULL;
	if (ui->o->json) {
		mf_json_object_begin(j);
		mf_json_kv_string(j, "folder", r->folder);
		mf_json_kv_string(j, "path", r->path);
		if (r->special_use && *r->special_use)
			mf_json_kv_string(j, "special_use", r->special_use);
		if (r->error) {
			mf_cli_json_error(j, (enum mf_err_kind)r->error_kind,
			                  r->error);
			mf_json_kv_bool(j, "refused", r->refused);
		}
		mf_json_kv_bool(j, "dry_run", r->dry_run);
		mf_json_kv_bool(j, "uidvalidity_reset", r->uidvalidity_reset);
		mf_json_kv_int(j, "fetched", (long long)r->fetched);
		mf_json_kv_int(j, "bytes", (long long)r->bytes);
		mf_json_kv_int(j, "adopted", (long long)r->adopted);
		mf_json_kv_int(j, "flags_local", (long long)r->flags_local);
		mf_json_kv_int(j, "flags_remote", (long long)r->flags_remote);
		mf_json_kv_int(j, "uploaded", (long long)r->uploaded);
		mf_json_kv_int(j, "deleted_local", (long long)r->deleted_local);
		mf_json_kv_int(j, "deleted_remote", (long long)r->deleted_remote);
		mf_json_kv_int(j, "messages", (long long)r->messages);
		mf_json_kv_int(j, "bodies_skipped", (long long)r->bodies_skipped);
		mf_json_object_end(j);
		return;
	}
	if (r->refused)
		return;   /* the warning said it */
	if (r->error) {
		mf_cli_msg(stderr, "imap-sync", "%s: %s", r->folder, r->error);
		ui->shown++;
		if (!r->bodies_skipped)
			return;   /* else a partial sync: say what was done */
	}
	if (ui->o->quiet)
		return;
	/* A folder with nothing to do says nothing, unless -v. */
	if (!ui->o->cli.verbose && r->fetched == 0 && r->adopted == 0 &&
	    r->flags_local == 0 && r->flags_remote == 0 && r->uploaded == 0 &&
	    r->deleted_local == 0 && r->deleted_remote == 0 &&
	    !r->uidvalidity_reset)
		return;
	/* the server once, above its first folder line, in both forms when
	 * it is an IDN (mf_idn_display) */
	if (!ui->host_shown) {
		mf_idn_display(ui->host, host, sizeof host);
		printf("imap-sync: %s\n", host);
		ui->host_shown = 1;
	}
	printf("%s%s: %lu new (%llu bytes), %lu adopted, flags %lu local/%lu "
	       "server, %lu uploaded, %lu/%lu deleted local/server, %lu body(s) "
	       "skipped%s\n",
	       r->dry_run ? "(dry run) " : "",
	       mf_esc_str(name, sizeof name, r->folder), r->fetched, r->bytes,
	       r->adopted, r->flags_local, r->flags_remote, r->uploaded,
	       r->deleted_local, r->deleted_remote, r->bodies_skipped,
	       r->uidvalidity_reset ? ", UIDVALIDITY reset" : "");
	fflush(stdout);
}

static void on_config_notice(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "imap-sync: %s\n", msg);
}

/* One log line per run (logfile / syslog). */
static void log_run(const struct mf_settings *s, const struct ui *ui, int rc,
                    const struct mf_err *why)
{
	struct mf_maillog_line l;
	struct mf_err e;

	mf_settings_log_start(s, &l);
	mf_maillog_addf(&l, "folders", "%lu", ui->folders);
	mf_maillog_addf(&l, "failed", "%lu", ui->failed);
	mf_maillog_addf(&l, "fetched", "%lu", ui->fetched);
	mf_maillog_addf(&l, "bytes", "%llu", ui->bytes);
	mf_maillog_addf(&l, "uploaded", "%lu", ui->uploaded);
	if (mf_cli_log_run(s, "imap-sync", &l, rc, why, &e) < 0)
		mf_cli_msg(stderr, "imap-sync", "warning: %s", e.msg);
}

static int maildir_path(const char *in, char *out, size_t len, struct mf_err *e)
{
	const char *home = getenv("HOME");

	if (!in || !*in)
		return mf_err_set(e, MF_E_USAGE, "no Maildir: use -m or an account's "
		                  "maildir");
	if (!strncmp(in, "~/", 2) && home)
		return mf_durable_join(out, len, home, in + 2, e);
	if (mf_strlcpy(out, in, len) >= len)
		return mf_err_set(e, MF_E_USAGE, "Maildir path too long");
	return 0;
}

static void fill_params(struct mf_imapsync_params *p, const struct opts *o,
                        const struct mf_settings *s, const char *maildir)
{
	memset(p, 0, sizeof *p);
	mf_settings_conn(s, &p->imap);
	p->maildir = maildir;
	p->state_dir = o->state ? o->state : s->state;
	p->layout = o->layout;
	p->names_mutf7 = !strcmp(o->folder_names ? o->folder_names :
	                         s->folder_names ? s->folder_names : "utf8",
	                         "mutf7");
	p->folders = o->folders;
	p->nfolders = o->nfolders;
	p->excludes = o->excludes;
	p->nexcludes = o->nexcludes;
	p->two_way = o->two_way;
	p->expunge = o->expunge;
	p->dry_run = o->dry;
	p->idle = o->idle;
	p->jobs = o->jobs;
	p->lock_wait_ms = 2000;
	p->report = on_report;
	p->warn = on_warn;
	p->notice = on_notice;
	p->progress = on_progress;
	p->stop = &stop;
	p->idle_opts = o->svc;
	p->sync_now = &sync_now;
	p->reload = &reload;
}

/* One run with what the configuration says now: 0 done, 1 when --idle
 * was asked to re-read it (SIGHUP), else the exit status (said). */
static int run_once(int argc, char **argv, struct opts *o, struct ui *ui,
                    struct mf_err *e)
{
	static char maildir[4096];
	struct mf_imapsync_params p;
	struct mf_settings s;
	struct mf_transcript *tr = NULL;
	int rc = -1;

	memset(&s, 0, sizeof s);
	memset(&p, 0, sizeof p);
	o->cli.notice = on_config_notice;
	if (mf_cli_resolve(&o->cli, optind < argc ? argv[optind] : NULL, &s,
	                   e) < 0)
		return -1;
	mf_cli_warn_insecure(stderr, "imap-sync", &s);
	if (mf_settings_require(&s, 1, e) == 0 &&
	    maildir_path(o->maildir ? o->maildir : s.maildir, maildir,
	                 sizeof maildir, e) == 0)
		fill_params(&p, o, &s, maildir);
	/* the password once, before connecting: a prompt, then every login */
	if (p.maildir && mf_auth_hold(&p.imap.cred, e) == 0) {
		if (s.verbose)
			tr = mf_transcript_new(stderr, s.show_secrets
			                       ? MF_TX_SHOW_SECRETS : 0);
		p.imap.tr = tr;
		p.arg = ui;
		ui->s = &s;
		mf_strlcpy(ui->host, s.host, sizeof ui->host);
		ui->host_shown = 0;
		rc = mf_imapsync_run(&p, e);
		ui->s = NULL;
	}
	mf_auth_release(&p.imap.cred);
	mf_transcript_free(tr);
	log_run(&s, ui, rc < 0 ? mf_err_exit_code(e) : 0, e);
	mf_cli_settings_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ui ui;
	struct mf_err e;
	struct timespec started;
	int rc, status;

	clock_gettime(CLOCK_MONOTONIC, &started);
	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof o);
	memset(&ui, 0, sizeof ui);
	mf_err_clear(&e);
	if (parse_opts(argc, argv, &o, &e) < 0)
		return mf_cli_usage_error(stderr, "imap-sync", e.msg);
	ui.o = &o;
	mf_progress_start(&ui.pg, mf_progress_mode(o.quiet, o.progress,
	                                           isatty(STDERR_FILENO)));
	mf_buf_init(&ui.json, 64u << 20);
	mf_json_init(&ui.j, &ui.json);
	mf_cli_json_begin(&ui.j, "imap-sync");
	mf_json_key(&ui.j, "folders");
	mf_json_array_begin(&ui.j);
	if (o.idle)
		service_setup();
	while ((rc = run_once(argc, argv, &o, &ui, &e)) == 1) {
		reload = 0;
		on_notice(&ui, 0, "re-reading the configuration (SIGHUP)");
	}
	mf_json_array_end(&ui.j);
	if (ui.host[0] != '\0')
		mf_cli_json_name(&ui.j, "host", ui.host);
	mf_json_kv_int(&ui.j, "fetched", (long long)ui.fetched);
	if (rc < 0 && ui.shown > 0) {
		/* each folder's error is on its own line already */
		mf_cli_msg(stderr, "imap-sync", "%lu of %lu folder(s) failed",
		           ui.failed, ui.folders);
		status = mf_err_exit_code(&e);
	} else
		status = rc < 0 ? mf_cli_fail(stderr, "imap-sync", &e) : 0;
	mf_cli_json_end(&ui.j, status, mf_cli_elapsed_ms(&started), rc < 0 ? &e : NULL);
	if (o.json)
		printf("%s\n", ui.json.data ? ui.json.data : "{}");
	mf_buf_free(&ui.json);
	return status;
}
