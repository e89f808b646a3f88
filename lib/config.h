/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* /etc/dtierd.conf: libconfig syntax, every key range-checked, every error
 * reported as "FILE:LINE: key: problem". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_TIERS 8
#define CONFIG_MAX_ERRORS 32
/* DAMON never lets a region grow past the monitored size / min_regions. With
 * 10 (DAMON's own default) regions of 100+ MiB of mostly free memory each
 * held one hot 2 MiB THP in the VM runs (6.12): one sample in 20 landing on
 * it is 0.3 expected, so most aggregations read the region as never accessed
 * and dtierd's share sat a folio (4 points of a 48 MiB hot set) off the
 * workload's. 200 caps a region of a 2 GiB machine at 10 MiB, where such a
 * folio is 4 samples in 20. Hot regions cost the measurement; cold ones only
 * kdamond's sampling. */
#define CONFIG_DEFAULT_MIN_REGIONS 200
/* Largest configuration read, the file and all it includes together:
 * libconfig 1.5 reads an included file's stream in time quadratic in its
 * line length (a 16 MiB line took 4 minutes). */
#define CONFIG_MAX_BYTES (1024 * 1024)

typedef struct TierConfig {
	int node;
	unsigned hot_share_bp;
} TierConfig;

/* measure.source. LEVELS: per-node stat schemes, one per nr_accesses level,
 * read as the growth of their sz_tried per apply pass (no region files, no
 * kpageflags). REGIONS: scheme 0's tried regions placed on their nodes and
 * sampled in /proc/kpageflags. AUTO: levels, which answer on every kernel. */
enum { CONFIG_SOURCE_AUTO, CONFIG_SOURCE_REGIONS, CONFIG_SOURCE_LEVELS };
/* "auto", "regions", "levels" */
extern const char *const config_source_names[];

typedef struct Config {
	char *path;
	unsigned interval_ms;
	struct {
		uint64_t sample_us;
		uint64_t aggr_us;
		unsigned min_regions;
		unsigned max_regions;
	} monitor;
	struct {
		unsigned min_access_percent;
		unsigned min_age_ms;
	} hot;
	struct {
		unsigned max_mib_per_s;
		unsigned deadband_bp;
		unsigned hold_s;
	} migration;
	struct {
		uint64_t kpageflags_max_pages; /* per-interval budget, 0 = never sample */
		/* measure.metric = "kernel": the pairs' quota goals are the
		 * kernel's node_eligible_mem_bp (7.2+), not dtierd's user_input */
		bool kernel_metric;
		/* measure.source: where the hot bytes per node come from
		 * (CONFIG_SOURCE_*) */
		unsigned source;
	} measure;
	bool damon_stat_takeover;
	char *run_dir;
	char *prometheus_textfile; /* NULL: no Prometheus export */
	size_t n_tiers; /* 0: none set, the topology's default (topology_default_tiers()) */
	TierConfig tiers[CONFIG_MAX_TIERS];
} Config;

typedef struct ConfigErrors {
	size_t n;
	char *msg[CONFIG_MAX_ERRORS]; /* "FILE:LINE: ..." */
} ConfigErrors;

void config_errors_clear(ConfigErrors *e);

/* Parses and validates PATH, a regular file of at most CONFIG_MAX_BYTES
 * with what it @include's (relative to PATH's directory). On success returns
 * 0 and a new Config in *ret. On invalid content returns -EINVAL with every
 * problem found in ERRS, in line order (each naming file, line and key; a
 * setting in an included file names that file). When PATH cannot be used
 * returns -errno with one message "PATH: problem" in ERRS: -ENOENT etc.
 * from open(2), -EISDIR for a directory, -EINVAL for another file that is
 * not regular, -EFBIG when too large. */
int config_load(const char *path, Config **ret, ConfigErrors *errs);
/* Same, from a string (tests). NAME is used in messages; @include is
 * resolved against the working directory. */
int config_load_string(const char *name, const char *text, Config **ret, ConfigErrors *errs);
void config_free(Config *c);

/* Prints the effective configuration, in config syntax, to F. */
void config_print(const Config *c, void *f);

/* hot.min_access_percent expressed in DAMON nr_accesses units (samples per
 * aggregation interval, rounded up, at least 1). */
unsigned config_hot_min_nr_accesses(const Config *c);
/* Index of NODE in c->tiers, or -1. */
int config_tier_index(const Config *c, int node);
/* True if A and B differ at most in tier targets, migration and the
 * kpageflags budget: what applies without changing the kdamond's schemes. */
bool config_only_targets_differ(const Config *a, const Config *b);
