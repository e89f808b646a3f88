/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "prom.h"
#include "util.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Basis points as a ratio, exactly: 6000 -> 0.6000. */
static void ratio_bp(FILE *f, unsigned bp)
{
	fprintf(f, "%u.%04u\n", bp / 10000, bp % 10000);
}

typedef enum NodeValue { NV_SHARE, NV_TARGET, NV_CONFIGURED, NV_HOT, NV_CAPACITY, NV_CLAMPED } NodeValue;

static void per_node(FILE *f, const DtierdStatus *st, const char *name, NodeValue v)
{
	for (size_t i = 0; i < st->n_nodes; i++) {
		const StatusNode *n = &st->nodes[i];
		fprintf(f, "%s{node=\"%d\"} ", name, n->node);
		switch (v) {
		case NV_SHARE: ratio_bp(f, n->share_bp); break;
		case NV_TARGET: ratio_bp(f, n->target_bp); break;
		case NV_CONFIGURED: ratio_bp(f, n->configured_bp); break;
		case NV_HOT: fprintf(f, "%" PRIu64 "\n", n->hot_bytes); break;
		case NV_CAPACITY: fprintf(f, "%" PRIu64 "\n", n->capacity_bytes); break;
		case NV_CLAMPED: fprintf(f, "%d\n", n->clamped); break;
		}
	}
}

typedef enum PairValue { PV_TOTAL, PV_MINUTE, PV_APPLIED, PV_QUOTA } PairValue;

static void per_pair(FILE *f, const DtierdStatus *st, const char *name, PairValue v)
{
	for (size_t i = 0; i < st->n_pairs; i++) {
		const StatusPair *p = &st->pairs[i];
		uint64_t x = v == PV_TOTAL    ? p->migrated_total_bytes
			     : v == PV_MINUTE ? p->migrated_last_minute_bytes
			     : v == PV_APPLIED ? p->applied_bytes
					       : p->quota_bytes;
		fprintf(f, "%s{from=\"%d\",to=\"%d\"} %" PRIu64 "\n", name, p->from, p->to, x);
	}
}

/* Families of one sample per node or per ordered pair, in output order. */
static const struct {
	const char *name, *help;
	NodeValue v;
} node_families[] = {
	{ "dtierd_hot_share_ratio", "Share of the measured hot memory on the node.", NV_SHARE },
	{ "dtierd_target_share_ratio",
	  "Hot share dtierd aims at for the node (the configured share, clamped to what fits).", NV_TARGET },
	{ "dtierd_configured_share_ratio", "Hot share the configuration asks for.", NV_CONFIGURED },
	{ "dtierd_target_clamped", "1 if the node cannot hold its configured share.", NV_CLAMPED },
	{ "dtierd_hot_bytes", "Measured hot memory on the node.", NV_HOT },
	{ "dtierd_capacity_bytes", "Memory of the node.", NV_CAPACITY },
};

static const struct {
	const char *name, *type, *help;
	PairValue v;
} pair_families[] = {
	{ "dtierd_migrated_bytes_total", "counter",
	  "Bytes DAMON migrated from one node to another for dtierd, across dtierd restarts.", PV_TOTAL },
	{ "dtierd_migrated_last_minute_bytes", "gauge", "Bytes migrated in the last 60 seconds.", PV_MINUTE },
	{ "dtierd_scheme_applied_bytes_total", "counter",
	  "DAMOS sz_applied of the pair's migrate_hot scheme since dtierd started.", PV_APPLIED },
	{ "dtierd_quota_bytes", "gauge", "Effective DAMOS quota of the pair's scheme per quota window.", PV_QUOTA },
};

static void seconds_us(FILE *f, uint64_t us)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64 "\n", us / 1000000, us % 1000000);
}

int prom_to_text(const DtierdStatus *st, FILE *f)
{
	family(f, "dtierd_up", "gauge", "1 while dtierd runs and publishes its status, 0 after it stopped.");
	fputs("dtierd_up 1\n", f);
	family(f, "dtierd_last_update_timestamp_seconds", "gauge",
	       "When dtierd last wrote its status (Unix time).");
	fprintf(f, "dtierd_last_update_timestamp_seconds %" PRIu64 ".%03" PRIu64 "\n",
		st->written_realtime_ms / 1000, st->written_realtime_ms % 1000);
	family(f, "dtierd_interval_seconds", "gauge", "Control interval.");
	fprintf(f, "dtierd_interval_seconds %u.%03u\n", st->interval_ms / 1000, st->interval_ms % 1000);

	for (size_t i = 0; i < ELEMENTSOF(node_families); i++) {
		family(f, node_families[i].name, "gauge", node_families[i].help);
		per_node(f, st, node_families[i].name, node_families[i].v);
	}
	for (size_t i = 0; i < ELEMENTSOF(pair_families); i++) {
		family(f, pair_families[i].name, pair_families[i].type, pair_families[i].help);
		per_pair(f, st, pair_families[i].name, pair_families[i].v);
	}

	family(f, "dtierd_interval_cpu_seconds", "gauge", "CPU time of the last interval's measurement and control.");
	fputs("dtierd_interval_cpu_seconds ", f);
	seconds_us(f, st->measurement.cpu_us_last);
	family(f, "dtierd_interval_cpu_median_seconds", "gauge",
	       "Median CPU time of one interval's measurement over the last minute.");
	fputs("dtierd_interval_cpu_median_seconds ", f);
	seconds_us(f, st->measurement.cpu_us_median);
	family(f, "dtierd_interval_cpu_max_seconds", "gauge",
	       "Largest CPU time of one interval's measurement over the last minute.");
	fputs("dtierd_interval_cpu_max_seconds ", f);
	seconds_us(f, st->measurement.cpu_us_max);
	family(f, "dtierd_measurement_error_ratio", "gauge",
	       "Error bound of the hot shares from page sampling (0 when every page is read).");
	fputs("dtierd_measurement_error_ratio ", f);
	ratio_bp(f, st->measurement.err_bp);
	family(f, "dtierd_measurement_pages", "gauge", "Pages whose flags the last measurement read.");
	fprintf(f, "dtierd_measurement_pages %" PRIu64 "\n", st->measurement.pages_read);
	family(f, "dtierd_errors_total", "counter", "Errors dtierd handled (and logged) since it started.");
	fprintf(f, "dtierd_errors_total %" PRIu64 "\n", st->errors_total);
	return ferror(f) ? -EIO : 0;
}

int prom_to_text_stopped(FILE *f)
{
	family(f, "dtierd_up", "gauge", "1 while dtierd runs and publishes its status, 0 after it stopped.");
	fputs("dtierd_up 0\n", f);
	return ferror(f) ? -EIO : 0;
}

static int write_prom(FILE *f, const void *userdata)
{
	return userdata ? prom_to_text(userdata, f) : prom_to_text_stopped(f);
}

int prom_write(const char *dir, const DtierdStatus *st)
{
	return status_write_atomic(dir, PROM_FILE, write_prom, st);
}

int prom_write_file(const char *path, const DtierdStatus *st)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash[1] == '\0')
		return -EINVAL;
	_cleanup_free_ char *dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	return status_write_atomic(dir, slash + 1, write_prom, st);
}
