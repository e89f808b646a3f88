/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The status dtierd publishes each interval as RUN_DIR/status.json, for
 * dtierctl and monitoring: what it measured, what it aims at, what it moved.
 * One JSON object in a format of our own (format 1):
 *
 *   {"format": 1,
 *    "written": {"realtime_ms": N, "monotonic_ms": N},
 *    "pid": N, "kdamond": {"index": N, "pid": N}, "interval_ms": N,
 *    "features": {"goal_tuner": "consist"|"temporal",
 *                 "metric": "userspace"|"kernel", "filter": "legacy"|"core"},
 *    "nodes": [{"node", "capacity_bytes", "hot_bytes", "share_bp",
 *               "target_bp", "configured_bp", "clamped", "clamp_reason"}...],
 *    "pairs": [{"from", "to", "scheme", "tried_bytes", "applied_bytes",
 *               "quota_bytes", "migrated_total_bytes",
 *               "migrated_last_minute_bytes"}...],
 *    "measurement": {"cpu_us_median", "cpu_us_max", "cpu_us_last", "err_bp",
 *                    "pages_read", "source": "regions"|"levels"},
 *    "errors_total": N, "last_error": "..."}
 *
 * Numbers are non-negative integers (kdamond index and pid may be -1:
 * unknown). The reader is strict: every key must be present, with its type
 * and in range; unknown keys are skipped, so that a newer writer's additions
 * do not break an older dtierctl. Writer and reader live here so that they
 * cannot drift apart. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define STATUS_FORMAT 1
#define STATUS_MAX_NODES CONFIG_MAX_TIERS
#define STATUS_MAX_PAIRS (STATUS_MAX_NODES * (STATUS_MAX_NODES - 1))
#define STATUS_TEXT_MAX 256
#define STATUS_FILE "status.json"

typedef enum StatusGoalTuner {
	STATUS_TUNER_CONSIST,
	STATUS_TUNER_TEMPORAL,
} StatusGoalTuner;

typedef enum StatusMetric {
	STATUS_METRIC_USERSPACE, /* dtierd counts node shares from kpageflags */
	STATUS_METRIC_KERNEL,    /* the kernel's node_eligible_mem_bp goal metric */
} StatusMetric;

typedef enum StatusFilter {
	STATUS_FILTER_LEGACY, /* address filters in filters/ */
	STATUS_FILTER_CORE,   /* core_filters/ (7.x) */
} StatusFilter;

typedef enum StatusSource {
	STATUS_SOURCE_REGIONS, /* scheme 0's tried regions and kpageflags */
	STATUS_SOURCE_LEVELS,  /* per-node level schemes' total_bytes */
} StatusSource;

typedef struct StatusNode {
	int node;
	uint64_t capacity_bytes;
	uint64_t hot_bytes;
	unsigned share_bp;      /* hot share measured now */
	unsigned target_bp;     /* effective target (after clamping) */
	unsigned configured_bp; /* what the config asked for */
	bool clamped;
	char clamp_reason[STATUS_TEXT_MAX];
} StatusNode;

typedef struct StatusPair {
	int from, to;
	int scheme;                     /* DAMOS scheme index */
	uint64_t tried_bytes;           /* DAMOS sz_tried */
	uint64_t applied_bytes;         /* DAMOS sz_applied, cumulative since start */
	uint64_t quota_bytes;           /* effective quota per quota window */
	uint64_t migrated_total_bytes;  /* including previous instances' totals */
	uint64_t migrated_last_minute_bytes;
} StatusPair;

typedef struct DtierdStatus {
	uint64_t written_realtime_ms; /* CLOCK_REALTIME */
	uint64_t written_monotonic_ms; /* CLOCK_MONOTONIC: system-wide, for staleness */
	int pid;
	int kdamond;         /* index under kdamonds/, -1 if none */
	int64_t kdamond_pid; /* -1 if not running */
	unsigned interval_ms;
	StatusGoalTuner goal_tuner;
	StatusMetric metric;
	StatusFilter filter;
	size_t n_nodes;
	StatusNode nodes[STATUS_MAX_NODES];
	size_t n_pairs;
	StatusPair pairs[STATUS_MAX_PAIRS];
	struct {
		uint64_t cpu_us_median; /* CPU time of one interval's measurement, last minute */
		uint64_t cpu_us_max;
		uint64_t cpu_us_last;   /* the last interval's (optional in the file: 0 if absent) */
		unsigned err_bp;        /* sampling error bound */
		uint64_t pages_read;    /* kpageflags entries read in the last interval */
		StatusSource source;    /* measure.source (optional in the file: regions) */
	} measurement;
	uint64_t errors_total;
	char last_error[STATUS_TEXT_MAX];
} DtierdStatus;

/* Names of the feature values ("consist", ...), NULL if out of range. */
const char *status_goal_tuner_name(StatusGoalTuner t);
const char *status_metric_name(StatusMetric m);
const char *status_filter_name(StatusFilter f);

/* Writes ST as JSON (format 1, one key per line, trailing newline) to F.
 * Returns 0, or -EIO if F reports an error. Pure apart from F. */
int status_to_json(const DtierdStatus *st, FILE *f);

/* Parses TEXT. Returns 0 and fills *RET, or -EINVAL (not JSON, not format
 * 1, a key missing or of the wrong type) or -ERANGE (a number out of its
 * range, too many nodes or pairs, a string too long). */
int status_parse(const char *text, DtierdStatus *ret);

/* Reads and parses the status file at PATH (at most 1 MiB). Returns 0,
 * -ENOENT, -EFBIG, a status_parse() error or another -errno. */
int status_read(const char *path, DtierdStatus *ret);

/* Writes DIR/status.json atomically: a new temp file in DIR (O_CREAT|O_EXCL|
 * O_NOFOLLOW), then rename() over the old one, so readers see the old or
 * the new file, never a partial one. No fsync: the file lives in /run and a
 * crash loses it anyway. DIR must exist and be a directory (not a symlink):
 * -ENOTDIR otherwise. Returns 0 or -errno. */
int status_write(const char *dir, const DtierdStatus *st);

/* The atomic-replace step of status_write(), for other files published in
 * a directory (prom.c): calls FN(F, USERDATA) on a temp file beside NAME,
 * then renames it to DIR/NAME, mode 0644 whatever the umask. FN returns 0 or -errno; on any failure the
 * temp file is removed and the old DIR/NAME left as it was. */
typedef int (*StatusWriteFn)(FILE *f, const void *userdata);
int status_write_atomic(const char *dir, const char *name, StatusWriteFn fn, const void *userdata);

/* migrated_total_bytes of pair FROM -> TO in PREV (the previous instance's
 * status, read at start), or 0 if PREV is NULL or lacks the pair: what a new
 * instance adds to its own counts so that totals survive restarts. Pure. */
uint64_t status_previous_total(const DtierdStatus *prev, int from, int to);

/* Bytes migrated by one scheme over the last minute, from its cumulative
 * DAMOS sz_applied sampled once per interval. Sixty one-second buckets: the
 * sum covers between 59 and 60 s. A counter smaller than the previous sample
 * means the scheme was recreated (reload, kdamond restart): it counts from 0
 * again. Pure: the caller passes the monotonic time. Zero-initialise. */
#define MIGRATION_WINDOW_S 60
typedef struct MigrationWindow {
	bool started;
	uint64_t last_counter;
	uint64_t last_s;   /* second of the newest sample */
	uint64_t total;    /* bytes since the window was created, resets bridged */
	uint64_t bucket_s[MIGRATION_WINDOW_S];
	uint64_t bucket_bytes[MIGRATION_WINDOW_S];
} MigrationWindow;

/* Adds the sample COUNTER taken at NOW_MS (CLOCK_MONOTONIC ms; a time
 * earlier than the previous sample's counts as that time). The first sample
 * counts from 0: create the window with the scheme. Returns the bytes
 * migrated in the last minute, NOW_MS included. */
uint64_t migration_window_add(MigrationWindow *w, uint64_t now_ms, uint64_t counter);
/* The caller recreated the scheme (reload, kdamond restart): the next
 * sample counts in full. Without this a recreated scheme is still caught
 * when its counter comes back smaller, but not when it has already grown
 * past the old value by the first sample. */
void migration_window_counter_restarted(MigrationWindow *w);
/* Bytes in the last minute as of NOW_MS, without a new sample. */
uint64_t migration_window_last_minute(const MigrationWindow *w, uint64_t now_ms);
