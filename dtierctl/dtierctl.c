/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dtierctl: what the running dtierd is doing, from the status it publishes
 * in its run_dir. Reads one file and answers at once; never touches DAMON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dtierd-build.h"
#include "status.h"
#include "util.h"

/* Documented in dtierctl(8). */
enum {
	EXIT_RUNNING = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
	EXIT_STALE = 4,
};

/* config.c's default, for when the configuration cannot be read: status
 * must still answer (the daemon's --cleanup does the same). */
#define DEFAULT_RUN_DIR "/run/dtierd"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dtierctl [OPTIONS] status [--json]\n"
		"Show what the running dtierd is doing, from the status it publishes.\n\n"
		"Commands:\n"
		"  status              per node: capacity, hot memory, share now and target;\n"
		"                      per node pair: bytes migrated; measurement cost\n\n"
		"Options:\n"
		"  -c, --config PATH   configuration file, for run_dir (default %s)\n"
		"      --run-dir DIR   read DIR/status.json instead of the configuration's run_dir\n"
		"  -j, --json          print the status as JSON\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n\n"
		"Exit status: 0 dtierd runs and its status is fresh, 1 the status cannot be read,\n"
		"2 usage error, 3 dtierd is not running, 4 the status is stale. See dtierctl(8).\n",
		DTIERD_CONFIG_PATH);
}

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *fmt_bytes(char *buf, size_t size, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	size_t u = 0;

	if (b < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", b);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static const char *fmt_bp(char *buf, size_t size, unsigned bp)
{
	snprintf(buf, size, "%u.%u%%", bp / 100, (bp % 100) / 10);
	return buf;
}

static const char *fmt_ms(char *buf, size_t size, uint64_t ms)
{
	if (ms < 10000)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " s", ms / 1000, (ms % 1000) / 100);
	else if (ms < 3600 * 1000)
		snprintf(buf, size, "%" PRIu64 " s", ms / 1000);
	else
		snprintf(buf, size, "%" PRIu64 " h %" PRIu64 " min", ms / 3600000, ms / 60000 % 60);
	return buf;
}

/* Text from the file, with control characters shown as escapes: the
 * terminal gets no escape sequences from it. */
static void print_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static bool pid_alive(int pid)
{
	/* EPERM: it exists but is not ours to signal (dtierctl as a user). */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Age of the status: by CLOCK_MONOTONIC, which is system-wide and immune
 * to clock changes; by the wall clock only if the monotonic stamp is from
 * the future (written in another boot or time namespace). */
static uint64_t status_age_ms(const DtierdStatus *st)
{
	uint64_t mono = clock_ms(CLOCK_MONOTONIC), real = clock_ms(CLOCK_REALTIME);

	if (st->written_monotonic_ms <= mono)
		return mono - st->written_monotonic_ms;
	return st->written_realtime_ms <= real ? real - st->written_realtime_ms : 0;
}

static void print_human(const DtierdStatus *st)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];

	printf("features: goal tuner %s, metric %s, filters %s; kdamond %d (pid %" PRId64 ")\n\n",
	       status_goal_tuner_name(st->goal_tuner) ?: "?", status_metric_name(st->metric) ?: "?",
	       status_filter_name(st->filter) ?: "?", st->kdamond, st->kdamond_pid);

	printf("%4s  %10s  %10s  %6s  %6s  %6s  %-22s  %s\n", "node", "capacity", "hot", "share", "target",
	       "config", "moved in: total/1 min", "moved out: total/1 min");
	for (size_t i = 0; i < st->n_nodes; i++) {
		const StatusNode *n = &st->nodes[i];
		uint64_t in = 0, in_min = 0, out = 0, out_min = 0;
		char share[16], target[16], conf[16], inb[48], outb[48];

		for (size_t j = 0; j < st->n_pairs; j++) {
			const StatusPair *p = &st->pairs[j];
			if (p->to == n->node) {
				in += p->migrated_total_bytes;
				in_min += p->migrated_last_minute_bytes;
			}
			if (p->from == n->node) {
				out += p->migrated_total_bytes;
				out_min += p->migrated_last_minute_bytes;
			}
		}
		snprintf(inb, sizeof(inb), "%s / %s", fmt_bytes(a, sizeof(a), in), fmt_bytes(b, sizeof(b), in_min));
		snprintf(outb, sizeof(outb), "%s / %s", fmt_bytes(c, sizeof(c), out), fmt_bytes(d, sizeof(d), out_min));
		printf("%4d  %10s  %10s  %6s  %6s%c %6s  %-22s  %s\n", n->node,
		       fmt_bytes(e, sizeof(e), n->capacity_bytes), fmt_bytes(g, sizeof(g), n->hot_bytes),
		       fmt_bp(share, sizeof(share), n->share_bp), fmt_bp(target, sizeof(target), n->target_bp),
		       n->clamped ? '*' : ' ', fmt_bp(conf, sizeof(conf), n->configured_bp), inb, outb);
	}
	for (size_t i = 0; i < st->n_nodes; i++) {
		const StatusNode *n = &st->nodes[i];
		char x[16], y[16];
		if (!n->clamped)
			continue;
		printf("* node %d: target clamped from %s to %s: ", n->node, fmt_bp(x, sizeof(x), n->configured_bp),
		       fmt_bp(y, sizeof(y), n->target_bp));
		print_text(n->clamp_reason[0] ? n->clamp_reason : "no reason given");
		putchar('\n');
	}

	if (st->n_pairs > 0) {
		printf("\n%6s  %-10s  %10s  %10s  %10s  %11s  %10s\n", "scheme", "from -> to", "tried", "applied",
		       "quota", "moved total", "last min");
		for (size_t i = 0; i < st->n_pairs; i++) {
			const StatusPair *p = &st->pairs[i];
			char pair[32], t[32];
			snprintf(pair, sizeof(pair), "%d -> %d", p->from, p->to);
			printf("%6d  %-10s  %10s  %10s  %10s  %11s  %10s\n", p->scheme, pair,
			       fmt_bytes(a, sizeof(a), p->tried_bytes), fmt_bytes(b, sizeof(b), p->applied_bytes),
			       fmt_bytes(c, sizeof(c), p->quota_bytes), fmt_bytes(d, sizeof(d), p->migrated_total_bytes),
			       fmt_bytes(t, sizeof(t), p->migrated_last_minute_bytes));
		}
	}

	char err[24], from[64];
	bool levels = st->measurement.source == STATUS_SOURCE_LEVELS;
	snprintf(err, sizeof(err), "+-%u.%02u%%", st->measurement.err_bp / 100, st->measurement.err_bp % 100);
	if (levels)
		snprintf(from, sizeof(from), "from level schemes");
	else
		snprintf(from, sizeof(from), "from tried regions, %" PRIu64 " pages read", st->measurement.pages_read);
	printf("\nmeasurement: %" PRIu64 ".%03" PRIu64 " ms CPU the last interval, %" PRIu64 ".%03" PRIu64
	       " ms median of the last minute, "
	       "%" PRIu64 ".%03" PRIu64 " ms max; error bound %s; %s\n",
	       st->measurement.cpu_us_last / 1000, st->measurement.cpu_us_last % 1000,
	       st->measurement.cpu_us_median / 1000, st->measurement.cpu_us_median % 1000,
	       st->measurement.cpu_us_max / 1000, st->measurement.cpu_us_max % 1000,
	       st->measurement.err_bp ? err
	       : levels	      ? "none (a level per access count)"
			      : "none (every page read)",
	       from);
	printf("errors: %" PRIu64 "%s", st->errors_total, st->last_error[0] ? ", last: " : "");
	print_text(st->last_error);
	putchar('\n');
}

static int cmd_status(const char *run_dir, bool json)
{
	char path[PATH_MAX];
	char age[32], every[32];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", run_dir, STATUS_FILE) >= sizeof(path)) {
		fprintf(stderr, "dtierctl: run directory path too long\n");
		return EXIT_ERROR;
	}
	_cleanup_free_ DtierdStatus *st = malloc(sizeof(*st));
	if (!st) {
		fprintf(stderr, "dtierctl: out of memory\n");
		return EXIT_ERROR;
	}
	r = status_read(path, st);
	if (r == -ENOENT || r == -ENOTDIR) {
		fprintf(json ? stderr : stdout, "dtierd is not running (no %s)\n", path);
		return EXIT_NOT_RUNNING;
	}
	if (r < 0) {
		fprintf(stderr, "dtierctl: cannot read %s: %s%s\n", path, strerror(-r),
			r == -EINVAL || r == -ERANGE ? " (not a dtierd status file, or a damaged one)" : "");
		return EXIT_ERROR;
	}

	uint64_t age_ms = status_age_ms(st);
	uint64_t stale_ms = 3 * (uint64_t)st->interval_ms + 5000;
	int ret;
	FILE *msg = json ? stderr : stdout;

	fmt_ms(age, sizeof(age), age_ms);
	fmt_ms(every, sizeof(every), st->interval_ms);
	if (!pid_alive(st->pid)) {
		fprintf(msg, "dtierd is not running: pid %d of %s is gone; its last status is from %s ago%s\n",
			st->pid, path, age, json ? "" : ":");
		ret = EXIT_NOT_RUNNING;
	} else if (age_ms > stale_ms) {
		fprintf(msg,
			"dtierd (pid %d) is stale: %s is %s old, but it is updated every %s; "
			"dtierd may be hung%s\n",
			st->pid, path, age, every, json ? "" : "; its last status:");
		ret = EXIT_STALE;
	} else {
		if (!json)
			printf("dtierd is running (pid %d), status updated %s ago, every %s\n", st->pid, age, every);
		ret = EXIT_RUNNING;
	}
	if (json) {
		if (status_to_json(st, stdout) < 0 || fflush(stdout) != 0)
			return EXIT_ERROR;
	} else {
		print_human(st);
		if (fflush(stdout) != 0)
			return EXIT_ERROR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	enum { OPT_RUN_DIR = 0x100 };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *config_path = DTIERD_CONFIG_PATH, *run_dir = NULL;
	bool json = false;
	int c;

	/* Options may come before or after the command (getopt permutes). */
	while ((c = getopt_long(argc, argv, "c:jhV", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case OPT_RUN_DIR:
			run_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_RUNNING;
		case 'V':
			printf("dtierctl %s\n", DTIERD_VERSION);
			return EXIT_RUNNING;
		default:
			fprintf(stderr, "dtierctl: unknown option; see dtierctl --help\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "dtierctl: no command given; see dtierctl --help\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "status") != 0) {
		fprintf(stderr, "dtierctl: unknown command '%s'; see dtierctl --help\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "dtierctl: unexpected argument '%s'; see dtierctl --help\n", argv[optind + 1]);
		return EXIT_USAGE;
	}

	Config *cfg = NULL;
	if (!run_dir) {
		ConfigErrors errs = { 0 };
		if (config_load(config_path, &cfg, &errs) == 0) {
			run_dir = cfg->run_dir;
		} else {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "dtierctl: %s\n", errs.msg[i]);
			fprintf(stderr, "dtierctl: %s is not usable, reading the status from %s\n", config_path,
				DEFAULT_RUN_DIR);
			run_dir = DEFAULT_RUN_DIR;
		}
		config_errors_clear(&errs);
	}
	int r = cmd_status(run_dir, json);
	config_free(cfg);
	return r;
}
