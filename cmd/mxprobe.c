/* mxprobe - where does mail for a domain go, and is that path secure.
 * Options in, lib/mx.h does the work (--batch through a pool of worker
 * threads, mf_mx_check_all()), lib/mxfmt.h renders the reports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "dns.h"
#include "err.h"
#include "idn.h"
#include "mx.h"
#include "mxfmt.h"
#include "shard.h"

/* mxprobe is a checker: what it found about the domains is told by these
 * two, documented in mxprobe(1); everything else (usage, configuration,
 * local errors) is lib/err.c's status, as in every tool. */
#define EX_FINDINGS     1   /* some domain has findings */
#define EX_PROBE_FAILED 2   /* some domain could not be checked */
#define JOBS_MAX 256

enum {
	OPT_RESOLVER = 1100, OPT_TIMEOUT, OPT_PORT, OPT_EHLO, OPT_TRUST,
	OPT_DNS_ONLY, OPT_NO_DANE, OPT_NO_STS, OPT_BATCH, OPT_JOBS, OPT_JSON,
	OPT_PER_IP, OPT_SHARD, OPT_CONFIG
};

static const struct option longopts[] = {
	{ "resolver",       required_argument, NULL, OPT_RESOLVER },
	{ "timeout",        required_argument, NULL, OPT_TIMEOUT },
	{ "port",           required_argument, NULL, OPT_PORT },
	{ "ehlo",           required_argument, NULL, OPT_EHLO },
	{ "tls-trust-file", required_argument, NULL, OPT_TRUST },
	{ "dns-only",       no_argument,       NULL, OPT_DNS_ONLY },
	{ "no-dane",        no_argument,       NULL, OPT_NO_DANE },
	{ "no-mta-sts",     no_argument,       NULL, OPT_NO_STS },
	{ "batch",          required_argument, NULL, OPT_BATCH },
	{ "jobs",           required_argument, NULL, OPT_JOBS },
	{ "per-ip",         required_argument, NULL, OPT_PER_IP },
	{ "shard",          required_argument, NULL, OPT_SHARD },
	{ "json",           no_argument,       NULL, OPT_JSON },
	{ "config",         required_argument, NULL, OPT_CONFIG },
	MF_CLI_STDLONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const char usage_text[] =
"usage: mxprobe [options] DOMAIN...\n"
"       mxprobe [options] --batch FILE|-\n"
"Show where mail for each DOMAIN goes (MX routing, RFC 5321 5.1) and check\n"
"that path: every MX address over SMTP with STARTTLS, DANE, MTA-STS.\n"
"  --resolver IP[:PORT]  ask this DNS server (default: the system's)\n"
"  -4, -6                IPv4 / IPv6 addresses only\n"
"  --timeout SEC         per DNS try and per SMTP stage (default: 5 and 30)\n"
"  --port N              SMTP port to probe (default 25)\n"
"  --ehlo NAME           name to send in EHLO\n"
"  --tls-trust-file F    PEM trust anchors for certificates (default: system)\n"
"  --dns-only            no SMTP connections\n"
"  --no-dane             skip TLSA lookups and DANE checks\n"
"  --no-mta-sts          skip MTA-STS and TLS-RPT\n"
"  --batch FILE|-        read domains, one per line ('-': standard input)\n"
"  --jobs N              domains probed concurrently (default 8)\n"
"  --per-ip N            SMTP sessions at once per address (default 2)\n"
"  --shard K/N           only the domains of slice K (0..N-1) of N, chosen\n"
"                        by a stable hash of the name\n"
"  --json                JSON Lines: one record per address, one per\n"
"                        domain, and a summary as the last line\n"
"  --config FILE         read resolver, timeout, tls_trust_file and ehlo\n"
"                        from FILE (default: mailflow(5)'s search)\n"
"  -h, --help            this help\n"
"  -V, --version         show the version\n"
"Exit status: 0 no findings, 1 findings, 2 a domain could not be checked,\n"
"64 usage, 78 configuration (mailflow(7) has the table).\n";

struct run {
	size_t ndone, nfindings, nfailed;   /* domains, for the JSON summary */
	struct mf_mx_params p;
	struct mf_dns_opts dopts;
	struct mf_mx_domains domains;
	struct mf_mx_source src;
	const char *batch;
	const char *config;         /* --config */
	int timeout_set;            /* --timeout given */
	struct mf_settings st;      /* the configuration read */
	int json;
	int worst;
};

static int
usage_error(const char *what, const char *arg)
{
	char m[MF_ERR_MSG_MAX];

	mf_fmt(m, sizeof(m), "%s%s", what, arg ? arg : "");
	return mf_cli_usage_error(stderr, "mxprobe", m);
}

/* --json: the last line, after every domain's records. */
static void
json_summary(const struct run *r, const struct timespec *started,
             const struct mf_err *e)
{
	struct mf_buf out = MF_BUF_INIT(65536);
	struct mf_json j;

	mf_json_init(&j, &out);
	mf_cli_json_begin(&j, "mxprobe");
	mf_json_kv_int(&j, "domains", (long long)r->ndone);
	mf_json_kv_int(&j, "domains_with_findings", (long long)r->nfindings);
	mf_json_kv_int(&j, "domains_failed", (long long)r->nfailed);
	mf_cli_json_end(&j, r->worst, mf_cli_elapsed_ms(started), e);
	printf("%s\n", out.data ? out.data : "{}");
	mf_buf_free(&out);
}

static int
fail(const struct mf_err *e)
{
	if (e->kind == MF_E_USAGE)
		return mf_cli_usage_error(stderr, "mxprobe", e->msg);
	return mf_cli_fail(stderr, "mxprobe", e);
}

/* One domain done (calls are serialised by the library). */
static void
emit(void *arg, const char *domain, const struct mf_mx_report *rep,
     const struct mf_err *e)
{
	struct run *r = arg;
	struct mf_buf out = MF_BUF_INIT(8 << 20);
	struct mf_err fe;

	r->ndone++;
	if (rep == NULL) {
		mf_cli_msg(stderr, "mxprobe", "%s: %s", domain, e->msg);
		r->worst = EX_PROBE_FAILED;
		r->nfailed++;
		return;
	}
	r->nfindings += rep->status == EX_FINDINGS;
	r->nfailed += rep->status == EX_PROBE_FAILED;
	if (r->json)
		mf_mx_format_json(rep, &out, &fe);
	else
		mf_mx_format_text(rep, &out, &fe);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	if (!r->json)
		fputc('\n', stdout);
	fflush(stdout);
	if (rep->status > r->worst)
		r->worst = rep->status;
	mf_buf_free(&out);
}

static int
parse_num(const char *opt, const char *arg, long min, long max, long *out)
{
	if (mf_parse_long(arg, min, max, out) == -1)
		return usage_error(opt, ": bad value");
	return 0;
}

static void
config_notice(void *arg, const char *msg)
{
	(void)arg;
	mf_cli_msg(stderr, "mxprobe", "%s", msg);
}

/* The shared configuration (mailflow(5): the defaults and the default
 * account) gives what the command line did not: resolver, timeout,
 * tls_trust_file, ehlo. */
static int
configure(struct run *r, struct mf_err *e)
{
	struct mf_cli c;
	const struct mf_account *a;

	memset(&c, 0, sizeof(c));
	c.config = r->config;
	c.notice = config_notice;
	if (mf_cli_resolve(&c, NULL, &r->st, e) == -1)
		return -1;
	a = r->st.conf;
	if (r->dopts.resolver == NULL && a->resolver != NULL) {
		struct mf_dns *probe = mf_dns_new(&(struct mf_dns_opts){
		    .resolver = a->resolver }, e);

		if (probe == NULL)
			return mf_err_set(e, MF_E_CONFIG, "%s: resolver: %s",
			    mf_config_path(r->st.cfg), e->msg);
		mf_dns_free(probe);
		r->dopts.resolver = a->resolver;
	}
	if (!r->timeout_set && r->st.timeout_ms > 0) {
		r->p.timeout_ms = r->st.timeout_ms;
		r->dopts.timeout_ms = r->st.timeout_ms;
	}
	if (r->p.ca_file == NULL && r->st.tlsp.ca_file != NULL) {
		r->p.ca_file = r->st.tlsp.ca_file;
		r->p.sts.ca_file = r->st.tlsp.ca_file;
	}
	if (r->p.ehlo == NULL)
		r->p.ehlo = r->st.ehlo;
	return 0;
}

static int
options(int argc, char **argv, struct run *r, long *jobs)
{
	struct mf_err e;
	long n;
	int c;

	while ((c = mf_cli_getopt(argc, argv, "46" MF_CLI_STDSHORT, longopts,
	    &e)) != -1) {
		switch (c) {
		case '4': r->p.family = 4; break;
		case '6': r->p.family = 6; break;
		case OPT_RESOLVER: r->dopts.resolver = optarg; break;
		case OPT_TIMEOUT:
			if (parse_num("--timeout", optarg, 1, 3600, &n))
				return EX_USAGE;
			r->p.timeout_ms = (int)n * 1000;
			r->dopts.timeout_ms = (int)n * 1000;
			r->timeout_set = 1;
			break;
		case OPT_PORT:
			if (parse_num("--port", optarg, 1, 65535, &n))
				return EX_USAGE;
			r->p.port = optarg;
			break;
		case OPT_EHLO: r->p.ehlo = optarg; break;
		case OPT_TRUST:
			r->p.ca_file = optarg;
			r->p.sts.ca_file = optarg;
			break;
		case OPT_DNS_ONLY: r->p.dns_only = 1; break;
		case OPT_NO_DANE: r->p.no_dane = 1; break;
		case OPT_NO_STS: r->p.no_mta_sts = 1; break;
		case OPT_BATCH: r->batch = optarg; break;
		case OPT_SHARD:
			if (mf_shard_parse(optarg, &r->src.shard_k,
			    &r->src.shard_n) == -1)
				return usage_error("--shard wants K/N with "
				    "0 <= K < N: ", optarg);
			break;
		case OPT_JOBS:
			if (parse_num("--jobs", optarg, 1, JOBS_MAX, jobs))
				return EX_USAGE;
			break;
		case OPT_PER_IP:
			if (parse_num("--per-ip", optarg, 1, 64, &n))
				return EX_USAGE;
			r->p.per_ip_limit = (int)n;
			break;
		case OPT_JSON: r->json = 1; break;
		case OPT_CONFIG: r->config = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			exit(mf_cli_print_version(stdout, "mxprobe"));
		default:
			return usage_error(e.msg, NULL);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct run r;
	struct mf_dns *probe;
	struct mf_err e;
	struct timespec started;
	char name[MF_IDN_NAME_MAX];
	long jobs = 8;
	int rc, i;

	clock_gettime(CLOCK_MONOTONIC, &started);
	mf_err_clear(&e);
	r.p.port = "25";
	r.p.timeout_ms = 30000;
	r.dopts.timeout_ms = 5000;
	/* An MTA-STS policy host in tests listens on a non-standard port. */
	r.p.sts.port = getenv("MXPROBE_MTA_STS_PORT");
	if ((rc = options(argc, argv, &r, &jobs)) != 0)
		return rc;
	if (configure(&r, &e) == -1)
		return fail(&e);
	r.p.sts.timeout_ms = r.p.timeout_ms;
	for (i = optind; i < argc; i++)
		if (mf_idn_to_ascii(argv[i], name, sizeof(name), MF_E_USAGE,
		    &e) == -1 || mf_mx_domains_add(&r.domains, argv[i],
		    &e) == -1)
			return fail(&e);
	if (r.domains.n == 0 && r.batch == NULL)
		return usage_error("no DOMAIN given", NULL);
	r.src.list = &r.domains;
	if (r.batch != NULL) {
		/* Read as the probes go, never whole (lib/mx.h). */
		r.src.stream = strcmp(r.batch, "-") == 0 ? stdin :
		    fopen(r.batch, "r");
		if (r.src.stream == NULL) {
			mf_err_sys(&e, MF_E_IO, errno, "--batch %s", r.batch);
			return fail(&e);
		}
	}
	/* Check the resolver address once, before any thread starts. */
	probe = mf_dns_new(&r.dopts, &e);
	if (probe == NULL)
		return fail(&e);
	mf_dns_free(probe);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (mf_mx_check_all(&r.dopts, &r.p, &r.src, (int)jobs, emit, &r,
	    &e) == -1) {
		if (e.kind == MF_E_IO)
			mf_err_prefix(&e, "--batch %s", r.batch);
		r.worst = fail(&e);
	} else {
		mf_err_clear(&e);
	}
	if (r.src.too_long > 0) {
		mf_cli_msg(stderr, "mxprobe", "--batch %s: %llu lines too long "
		    "for a domain name, skipped", r.batch, r.src.too_long);
		if (r.worst < EX_PROBE_FAILED)
			r.worst = EX_PROBE_FAILED;
	}
	if (r.src.stream != NULL && r.src.stream != stdin)
		fclose(r.src.stream);
	if (r.json)
		json_summary(&r, &started, &e);
	mf_mx_domains_free(&r.domains);
	mf_cli_settings_free(&r.st);
	return r.worst;
}
