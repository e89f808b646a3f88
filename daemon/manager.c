/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Manager's life: start as a list of named steps, the control tick as
 * one line per phase (measure -> sample -> decide -> actuate -> report), and
 * stop. Checks and recovery live in preflight.c, reload in reload.c, what is
 * said about it all in report.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "metric.h"
#include "node-info.h"
#include "node-locate.h"
#include "publish.h"
#include "report.h"
#include "runstate.h"
#include "util.h"

char *manager_run_dir(const char *root, const char *run_dir)
{
	char *p = NULL;

	if (strcmp(root, "/") == 0)
		return strdup(run_dir);
	if (asprintf(&p, "%s%s%s", root, run_dir[0] == '/' ? "" : "/", run_dir) < 0)
		return NULL;
	return p;
}

int manager_record(Manager *m)
{
	RunState s = {
		.pid = getpid(),
		.kdamond = (int)m->damon.kd,
		.kdamond_pid = m->damon.pid,
		.created_kdamonds = true, /* damon_create() makes kdamond 0 from nothing, or fails */
		.damon_stat_taken = m->damon_stat_taken,
		.digest = m->digest,
		.reloads = m->reloads,
		.reload_ok = m->reload_ok,
	};
	int r = runstate_write(m->run_dir, &s);
	if (r < 0) {
		log_error("cannot write %s/state: %s", m->run_dir, strerror(-r));
		return r;
	}
	return 0;
}

/* --- start ---------------------------------------------------------------- */

static int start_open_root(Manager *m, const char *root, const Sysfs *proto)
{
	int r = sysfs_open(root, &m->fs);

	if (r < 0) {
		log_error("cannot open root directory %s: %s", root, strerror(-r));
		return EXIT_USAGE;
	}
	if (proto) {
		m->fs.write_hook = proto->write_hook;
		m->fs.read_hook = proto->read_hook;
		m->fs.hook_data = proto->hook_data;
		m->fs.busy_retries = proto->busy_retries;
		m->fs.busy_sleep_us = proto->busy_sleep_us;
	}
	m->root = strdup(root);
	m->real_root = strcmp(root, "/") == 0;
	m->run_dir = manager_run_dir(root, m->cfg->run_dir);
	return m->root && m->run_dir ? EXIT_OK : EXIT_RUNTIME;
}

static int start_recover(Manager *m)
{
	int r = manager_recover(&m->fs, m->run_dir);

	if (r == -EALREADY || r == -EPERM)
		return EXIT_REFUSED;
	return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}

static int start_open_kpageflags(Manager *m)
{
	int r = kpageflags_open(&m->fs, (uint64_t)getpid() * 2654435761ULL, &m->kpf);

	if (r < 0)
		log_warning("cannot open /proc/kpageflags (%s): counting every byte of hot regions, including memory "
			    "DAMON cannot migrate, ignoring", strerror(-r));
	m->have_kpf = r >= 0;
	return EXIT_OK;
}

/* Logs why damon_plan_build() failed. */
int manager_plan_error(const Config *c, int r, size_t bad_tier)
{
	if (r == -ENOENT)
		log_error("%s: tiers[%zu].node = %d has no online memory", c->path, bad_tier, c->tiers[bad_tier].node);
	else if (r == -E2BIG)
		log_error("the tier nodes' memory cannot be described in %d DAMON regions", DAMON_MAX_REGIONS);
	else
		log_error("node %d's memory is too fragmented for %d address filters", c->tiers[bad_tier].node,
			  DAMON_MAX_FILTERS);
	return r;
}

int manager_check_metric(const Manager *m, const Config *c)
{
	if (!c->measure.kernel_metric || (m->damon.feat.eligible_metric && m->damon.feat.temporal))
		return 0;
	log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NO_FIELDS,
		   "%s: measure.metric = \"kernel\" needs DAMON's node_eligible_mem_bp quota goal metric and the "
		   "temporal goal tuner (Linux 7.2); this kernel's DAMON has %s",
		   c->path, m->damon.feat.temporal ? "the tuner but not the metric" : "neither");
	return -EOPNOTSUPP;
}

static int start_build_plan(Manager *m)
{
	size_t bad = 0;
	int r = damon_plan_build(m->cfg, &m->map, &m->setup, &bad);

	if (r < 0) {
		manager_plan_error(m->cfg, r, bad);
		return r == -ENOENT ? EXIT_KERNEL : EXIT_RUNTIME;
	}
	controller_init(&m->ctl, &m->setup.ctl);
	actuate_init(&m->act, &m->setup.plan);
	return EXIT_OK;
}

/* The first change to the kernel's state (DAMON_STAT off, or nr_kdamonds):
 * recorded before it is made, so that a crash at any point leaves a record
 * that names everything dtierd may have done. */
static int start_take_damon(Manager *m)
{
	bool take = false;
	int r = preflight_check_modules(m, &take);

	if (r != EXIT_OK)
		return r;
	m->damon_stat_taken = take;
	m->digest = DAMON_DIGEST_NONE;
	if (manager_record(m) < 0)
		return EXIT_RUNTIME;
	m->recorded = true;
	return take ? preflight_take_damon_stat(m) : EXIT_OK;
}

static int start_create_kdamond(Manager *m)
{
	char desc[256];
	int r = damon_create(&m->damon, &m->fs);

	if (r == -EEXIST) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS, "refusing to start: a kdamond appeared while starting");
		return EXIT_REFUSED;
	}
	if (r < 0) {
		log_error("cannot create a kdamond under /sys/kernel/mm/damon/admin/kdamonds: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	r = damon_require_features(&m->damon.feat, desc, sizeof(desc));
	if (r < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NO_FIELDS, "kernel too old: dtierd needs %s", desc);
		return EXIT_KERNEL;
	}
	log_info("DAMON features: goal tuner %s, %s address filters%s, %s", m->damon.feat.temporal ? "temporal" : "consist",
		 m->damon.feat.core_filters ? "core" : "legacy", m->damon.feat.filter_allow ? " with allow" : "",
		 m->damon.feat.eligible_metric ? "node_eligible_mem_bp" : "no node_eligible_mem_bp");
	if (manager_check_metric(m, m->cfg) < 0)
		return EXIT_KERNEL;
	return EXIT_OK;
}

/* Stages the plan and records the staged tree's digest. */
int manager_stage(Manager *m)
{
	char path[512] = "";
	int r = damon_stage(&m->damon, &m->setup.plan, path, sizeof(path));

	if (r < 0) {
		log_error("cannot write %s: %s", path[0] ? path : "DAMON configuration", strerror(-r));
		return r;
	}
	r = damon_digest(&m->damon, &m->digest);
	if (r < 0)
		return r;
	m->stage_dirty = false;
	/* The schemes may be new, and at new indices (the pulse follows the
	 * levels and the pairs): their counters start over. */
	m->have_levels_last = false;
	m->have_measure_tried = false;
	m->have_measure_pulse = false;
	return manager_record(m);
}

static int start_stage(Manager *m)
{
	damon_plan_fit_kernel(&m->setup.plan, &m->damon.feat);
	publish_init(m);
	return manager_stage(m) < 0 ? EXIT_RUNTIME : EXIT_OK;
}

static int start_run(Manager *m)
{
	int r = damon_start(&m->damon);

	if (r == -EBUSY) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
			   "cannot start the kdamond: EBUSY (another exclusive DAMON user, such as DAMON_RECLAIM, "
			   "DAMON_LRU_SORT or DAMON_STAT, started meanwhile?)");
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		log_error("cannot start the kdamond (state on): %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	if (manager_record(m) < 0)
		return EXIT_RUNTIME;
	manager_levels_baseline(m);
	report_started(m);
	return EXIT_OK;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata);

/* The control timer, and the watchdog on the event loop itself: sd-event
 * sends WATCHDOG=1 whenever the loop is idle, at any interval_ms, and stops
 * when a sysfs write hangs. */
static int start_timer(Manager *m)
{
	uint64_t now, wd_usec = 0;
	int r;

	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(m->event, &m->timer, CLOCK_MONOTONIC, now + (uint64_t)m->cfg->interval_ms * 1000, 10000,
			      on_tick, m);
	if (r < 0) {
		log_error("cannot add the control timer: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0) {
		log_error("cannot set up the watchdog: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	/* update_schemes_tried_regions blocks for up to one aggregation
	 * interval (it waits for every scheme's apply interval). */
	if (r > 0 && sd_watchdog_enabled(false, &wd_usec) > 0 && 2 * m->cfg->monitor.aggr_us > wd_usec)
		log_warning("monitor.aggr_us = %" PRIu64 " is more than half of WatchdogSec=%" PRIu64
			    " ms: a measurement may outlast the watchdog, ignoring",
			    m->cfg->monitor.aggr_us, wd_usec / 1000);
	m->ready_pending = true;
	return EXIT_OK;
}

int manager_start(Manager *m, Config *cfg, const char *root, sd_event *event)
{
	return manager_start_with(m, cfg, root, NULL, event);
}

int manager_start_with(Manager *m, Config *cfg, const char *root, const Sysfs *proto, sd_event *event)
{
	static int (*const steps[])(Manager *m) = {
		preflight_check_kernel, start_recover,        preflight_check_foreign, start_open_kpageflags,
		start_build_plan,       start_take_damon,     start_create_kdamond,    start_stage,
		start_run,              start_timer,
	};
	int r;

	*m = (Manager){ .cfg = cfg, .event = event, .fs = { .root_fd = -1 }, .kpf = { .fd = -1 },
			.damon = { .pid = -1 } };
	r = start_open_root(m, root, proto);
	for (size_t i = 0; r == EXIT_OK && i < ELEMENTSOF(steps); i++)
		r = steps[i](m);
	if (r != EXIT_OK)
		(void)manager_stop(m);
	return r;
}

/* --- stop ----------------------------------------------------------------- */

/* Undoes what is recorded; the record goes only when all of it is undone,
 * so that --cleanup can retry the rest. */
static int stop_undo_damon(Manager *m)
{
	int r = damon_teardown(&m->damon);

	if (r == -EPERM) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
			   "kdamond %u is not dtierd's any more (another kernel thread runs there): leaving it alone",
			   m->damon.kd);
		return r;
	}
	if (r < 0) {
		log_error("cleaning up kdamond %u failed: %s", m->damon.kd, strerror(-r));
		return r;
	}
	if (m->damon_stat_taken) {
		r = damon_module_set_enabled(&m->fs, DAMON_MOD_STAT, true);
		if (r < 0) {
			log_error("cannot turn damon_stat back on: %s", strerror(-r));
			return r;
		}
		log_notice("turned damon_stat back on");
		m->damon_stat_taken = false;
	}
	return 0;
}

int manager_stop(Manager *m)
{
	int r = 0;

	m->timer = sd_event_source_unref(m->timer);
	publish_stop(m);
	if (m->recorded) {
		r = stop_undo_damon(m);
		if (r == 0)
			r = runstate_remove(m->run_dir);
		else
			log_notice("keeping %s/state for dtierd --cleanup", m->run_dir);
	}
	if (m->have_kpf)
		kpageflags_close(&m->kpf);
	m->have_kpf = false;
	node_map_free(&m->map);
	sysfs_close(&m->fs);
	config_free(m->cfg);
	m->cfg = NULL;
	free(m->root);
	free(m->run_dir);
	m->root = m->run_dir = NULL;
	return r;
}

/* --- the tick ------------------------------------------------------------- */

/* Before any write of this interval: is what runs at our index ours? */
static int tick_check_owned(Manager *m)
{
	int64_t pid = -1;
	int r = damon_check_owned(&m->damon);

	/* -ESRCH is said by manager_on_tick_result(), for a commit as well. */
	if (r == -EPERM) {
		(void)sysfs_read_s64(&m->fs, &pid, "%s/pid", m->damon.dir);
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, FIELDS({ "DTIERD_KDAMOND_PID", pid }),
			   "kdamond %u now runs as pid %" PRId64 ", not as dtierd's pid %" PRId64
			   ": someone stopped it and started their own; writing nothing more to it",
			   m->damon.kd, pid, m->damon.pid);
	}
	return r;
}

/* Scheme 0's tried regions, asked for afresh, sorted by address. On 6.12
 * the update came back empty (total_bytes 0 too) for 57 of 120 intervals
 * of a steady hot set (s12), at random; on 7.3 it once listed 9 224
 * regions, 38 GiB on node 0 of a 2 GiB guest, whose overlaps one apply
 * pass cannot have (the controller then held a wrong share for 12 s). An
 * empty answer after a non-empty one, or one that overlaps, is asked for
 * again, up to MANAGER_TRIED_REREADS times (~300 ms each on 6.12). */
static int read_hot_regions(Manager *m, RegionList *ret)
{
	int r;

	for (unsigned attempt = 0;; attempt++) {
		r = damon_update_tried_regions(&m->damon);
		if (r < 0)
			return r;
		r = damon_read_tried_regions(&m->damon, 0, TRIED_NO_AGE, ret);
		if (r < 0)
			return r;
		m->measure_bad = region_list_sort_overlaps(ret) ? "tried regions that overlap" : NULL;
		if (!m->measure_bad && (ret->n > 0 || m->last_n_regions == 0))
			return 0;
		if (attempt == MANAGER_TRIED_REREADS) {
			/* Overlapping: no measurement (measurement_unanswered()). */
			if (m->measure_bad)
				region_list_free(ret);
			return 0;
		}
		log_debug("%s (read %u of this interval): asking again", m->measure_bad ?: "no tried regions",
			  attempt + 1);
		region_list_free(ret);
	}
}

/* The level counters into RET, in the LEVELS_* order (manager.h), the order
 * metric_levels_per_pass() takes them in. */
static int read_level_counters(Manager *m, uint64_t *ret)
{
	const DamonPlan *p = &m->setup.plan;
	int r;

	r = damon_read_sz_tried(&m->damon, p->pulse, &ret[LEVELS_PULSE]);
	if (r >= 0)
		r = damon_read_sz_tried(&m->damon, 0, &ret[LEVELS_SZ0]);
	if (r >= 0)
		r = damon_read_nr_tried(&m->damon, 0, &ret[LEVELS_NR0]);
	size_t n = m->cfg->n_tiers * p->n_levels;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = damon_read_sz_tried(&m->damon, p->levels_first + i, &ret[LEVELS_FIRST + i]);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = damon_read_nr_tried(&m->damon, p->levels_first + i, &ret[LEVELS_FIRST + n + i]);
	return r;
}

/* The bytes DAMON monitors: what the pulse tries in every pass. */
static uint64_t monitored_bytes(const DamonPlan *p)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < p->n_regions; i++)
		sum += p->regions[i].end - p->regions[i].start;
	return sum;
}

void manager_levels_baseline(Manager *m)
{
	m->have_levels_last = false;
	if (!m->setup.plan.n_levels || damon_update_stats(&m->damon) < 0)
		return;
	m->have_levels_last = read_level_counters(m, m->levels_last) >= 0;
}

/* measure.source = "levels": the level schemes' bytes per apply pass since
 * the last interval, from their cumulative sz_tried. One
 * update_schemes_stats answers at once on every kernel; a tried-bytes
 * request waits for a whole apply pass, holding DAMON's sysfs lock, and
 * before 6.14 answered nothing for 5 of 6 requests at ~1 300 regions under
 * TCG. It is also the mean of every pass in the interval, not one.
 * Returns the passes measured, or 0 with m->measure_bad saying why there is
 * no measurement, or -errno. */
static int read_levels_per_pass(Manager *m, uint64_t *ret)
{
	size_t n = LEVELS_FIRST + 2 * m->cfg->n_tiers * m->setup.plan.n_levels;
	uint64_t now[LEVELS_COUNTERS_MAX];
	int r;

	memset(ret, 0, n * sizeof(*ret));
	r = damon_update_stats(&m->damon);
	if (r < 0)
		return r;
	m->stats_fresh = true;
	r = read_level_counters(m, now);
	if (r < 0)
		return r;
	bool had = m->have_levels_last;
	uint64_t *last = m->levels_last, pulse0 = last[LEVELS_PULSE];
	r = had ? metric_levels_per_pass(last, now, n, monitored_bytes(&m->setup.plan), ret) : -ESTALE;
	memcpy(last, now, n * sizeof(*now));
	m->have_levels_last = true;
	if (r == 0)
		m->measure_bad = "DAMON applied no scheme since the last interval";
	else if (r < 0 && had) {
		snprintf(m->measure_bad_text, sizeof(m->measure_bad_text),
			 "the level schemes' counters started over: the pulse's sz_tried %" PRIu64 " -> %" PRIu64
			 ", passes of %" PRIu64 " KiB",
			 pulse0, now[LEVELS_PULSE], monitored_bytes(&m->setup.plan) / 1024);
		m->measure_bad = m->measure_bad_text;
	} else if (r < 0)
		m->measure_bad = "the level schemes' first counters";
	else
		m->measure_bad = NULL;
	return MAX(r, 0);
}

/* The tier nodes' numbers, in tier order: the metric's nodes. */
static void tier_nodes(const Config *c, int *ret)
{
	for (size_t i = 0; i < c->n_tiers; i++)
		ret[i] = c->tiers[i].node;
}

/* measure.source = "levels": hot bytes per tier node from the level
 * schemes' bytes per pass. */
static int tick_measure_levels(Manager *m, HotShare *ret)
{
	const DamonPlan *p = &m->setup.plan;
	uint64_t per_pass[LEVELS_COUNTERS_MAX];
	int nodes[CONFIG_MAX_TIERS];
	int r;

	r = read_levels_per_pass(m, per_pass);
	if (r < 0)
		return r;
	tier_nodes(m->cfg, nodes);
	LevelCounts lc = { .bytes = per_pass + LEVELS_FIRST,
			   .regions = per_pass + LEVELS_FIRST + m->cfg->n_tiers * p->n_levels,
			   .nr = p->level_nr,
			   .n = p->n_levels,
			   .max_nr = (uint32_t)(p->aggr_us / p->sample_us),
			   .passes = (uint32_t)r };
	metric_levels_hot(&lc, nodes, m->cfg->n_tiers, ret);
	ret->n_regions = ret->total ? MAX(per_pass[LEVELS_NR0], 1u) : 0;
	/* Scheme 0 and the nodes' lowest levels try the same regions in each
	 * pass; only a region across a node's edge, which an address filter
	 * splits and the pass then leaves, can tell them apart. */
	uint64_t lowest = 0;
	for (size_t t = 0; t < m->cfg->n_tiers; t++)
		lowest += per_pass[LEVELS_FIRST + t * p->n_levels];
	if (!m->measure_bad && (lowest > per_pass[LEVELS_SZ0] ? lowest - per_pass[LEVELS_SZ0] : per_pass[LEVELS_SZ0] - lowest) * 200 > per_pass[LEVELS_SZ0])
		log_debug("level totals of %" PRIu64 " KiB per pass, scheme 0's %" PRIu64 " KiB", lowest / 1024,
			  per_pass[LEVELS_SZ0] / 1024);
	return 0;
}

/* Hot bytes per tier node from scheme 0's tried regions. */
static int tick_measure(Manager *m, HotShare *ret)
{
	const DamonPlan *p = &m->setup.plan;
	RegionList regions = { 0 };
	int nodes[CONFIG_MAX_TIERS];
	PaddrLocator loc;
	int r;

	if (p->n_levels)
		return tick_measure_levels(m, ret);
	r = read_hot_regions(m, &regions);
	if (r < 0)
		return r;
	tier_nodes(m->cfg, nodes);
	paddr_locator_init(&loc, &m->map, m->have_kpf ? &m->kpf : NULL);
	/* Scheme 0's access pattern judged the age already (not read). */
	HotPattern pat = { .min_nr_accesses = p->schemes[0].nr_accesses_min,
			   .max_nr_accesses = (uint32_t)(p->aggr_us / p->sample_us) };
	r = metric_hot_share(&regions, &pat, &loc.base, m->cfg->measure.kpageflags_max_pages, nodes, m->cfg->n_tiers,
			     ret);
	region_list_free(&regions);
	if (r < 0)
		log_warning("measurement failed: %s", strerror(-r));
	return r;
}

/* What each pair migrated so far, and what each node could hold. */
static int tick_sample(Manager *m, const HotShare *hs, CtlSample *ret)
{
	const ActuateParams *a = &m->setup.act;
	CtlSample smp = { .now_ms = now_ms() };
	int r;

	/* The levels refreshed the stats this interval already. */
	r = m->stats_fresh ? 0 : damon_update_stats(&m->damon);
	m->stats_fresh = false;
	if (r < 0)
		return r;
	for (size_t s = 0; s < a->n; s++)
		for (size_t t = 0; t < a->n; t++)
			if (a->pair_scheme[s][t] >= 0) {
				r = damon_read_sz_applied(&m->damon, (size_t)a->pair_scheme[s][t], &smp.applied[s][t]);
				if (r < 0)
					return r;
				/* Unknown stays 0: no stall is ever seen. */
				(void)damon_read_sz_tried(&m->damon, (size_t)a->pair_scheme[s][t], &smp.tried[s][t]);
			}
	/* The error bound is honest with at least 4 sample chunks per region
	 * (bench/); below that the controller must not trust small
	 * differences at all: the bound then spans the whole band. */
	smp.err_bytes = hs->chunks == 0 || hs->chunks >= 4 * hs->n_regions ? hs->err_bytes : hs->total;
	uint64_t anon = 0, anon_thp = 0;
	for (size_t i = 0; i < a->n; i++) {
		NodeMeminfo mi;
		smp.hot_bytes[i] = hs->hot_bytes[i];
		smp.region_bytes[i] = hs->region_bytes[i];
		if (node_meminfo_read(&m->fs, m->cfg->tiers[i].node, &mi) == 0) {
			smp.capacity_bytes[i] = controller_node_capacity(mi.total_bytes, mi.free_bytes, hs->hot_bytes[i]);
			anon += mi.anon_bytes;
			anon_thp += mi.anon_thp_bytes;
		}
	}
	/* Mostly huge pages: every move is at least one 2 MiB folio. The
	 * levels read no page flags: the tier nodes' anonymous and shmem
	 * memory stands in for the hot memory there. */
	if (m->setup.plan.n_levels ? anon && anon_thp * 2 >= anon : hs->total && hs->thp_bytes * 2 >= hs->total)
		smp.folio_bytes = CTL_MAX_FOLIO;
	memcpy(m->last_applied, smp.applied, sizeof(m->last_applied));
	memcpy(m->last_capacity, smp.capacity_bytes, sizeof(m->last_capacity));
	*ret = smp;
	return 0;
}

/* Writes A: every goal, then a goals-only commit, or the schemes' values
 * and a full commit. A tree left half-written (a failed reload) is staged
 * whole again first. */
static int tick_actuate(Manager *m, const Actuation *a)
{
	DamonPlan *p = &m->setup.plan;
	const size_t first = m->setup.act.pairs_first, end = m->setup.act.pairs_end;
	bool full = a->full_commit || m->stage_dirty;
	int r;

	bool goals = false;

	for (size_t i = first; i < end; i++) {
		p->schemes[i].goal_target = a->goal_target[i];
		p->schemes[i].goal_current = a->goal_current[i];
		goals = goals || p->schemes[i].goal;
		if (full) {
			if (p->schemes[i].quota_bytes != a->quota[i] || p->schemes[i].reset_ms != a->reset_ms[i])
				log_debug("scheme %zu (to node %d): quota %" PRIu64 " bytes per %" PRIu64 " ms", i,
					  p->schemes[i].target_nid, a->quota[i], a->reset_ms[i]);
			p->schemes[i].armed = true;
			p->schemes[i].quota_bytes = a->quota[i];
			p->schemes[i].reset_ms = a->reset_ms[i];
		}
	}
	if (m->stage_dirty) {
		r = manager_stage(m);
		if (r < 0)
			return r;
	}
	for (size_t i = first; i < end; i++) {
		if (!p->schemes[i].goal)
			continue;
		r = damon_set_goal(&m->damon, i, a->goal_target[i], p->schemes[i].goal_eligible ? NULL : &a->goal_current[i]);
		if (r < 0)
			return r;
	}
	if (!full)
		return goals ? damon_commit_goals(&m->damon) : 0;
	for (size_t i = first; i < end; i++) {
		r = damon_stage_scheme_values(&m->damon, i, &p->schemes[i]);
		if (r < 0)
			return r;
	}
	r = damon_commit(&m->damon);
	if (r < 0)
		return r;
	Actuation done = *a;
	done.full_commit = true;
	actuate_committed(&m->act, &m->setup.act, &done);
	return 0;
}

static void tick_report(Manager *m, const HotShare *hs, const CtlDecision *d)
{
	report_debug(m, hs, d);
	report_events(m, d);
	report_status(m, d);
	/* After start and after each reload: once an interval of the
	 * (new) configuration completed. */
	if (m->ready_pending) {
		sd_notify(false, "READY=1");
		m->ready_pending = false;
	}
}

/* Did scheme I's sz_tried grow since the last interval? Unknown (the
 * file unreadable, or no last interval) is UNKNOWN. */
static bool sz_tried_grew(Manager *m, size_t i, uint64_t *last, bool *have_last, bool unknown)
{
	uint64_t tried = 0;
	bool known = damon_read_sz_tried(&m->damon, i, &tried) == 0;
	bool grew = known && *have_last ? tried > *last : unknown;

	*last = tried;
	*have_last = known;
	return grew;
}

/* Overlapping regions after MANAGER_TRIED_REREADS more requests are no
 * measurement. Empty tried regions after as many: did DAMON find nothing
 * hot, or not say, or not look? Scheme 0's sz_tried grows by every region
 * it tried: if it grew since the last interval, something was hot and the
 * empty answer is no measurement (the interval changes nothing). If not,
 * the pulse tells whether DAMON applied its schemes at all since: if it
 * did, the hot set is gone; if not, this is no measurement either. */
static const char *measurement_unanswered(Manager *m, const HotShare *hs)
{
	if (m->measure_bad)
		return m->measure_bad;
	/* The levels judged their own counters (read_levels_per_pass). */
	if (m->setup.plan.n_levels) {
		m->last_n_regions = hs->n_regions;
		return NULL;
	}
	size_t pulse = m->setup.plan.pulse;
	bool grew = sz_tried_grew(m, 0, &m->measure_tried, &m->have_measure_tried, false);
	/* Without a pulse to read, as before it: not grown is gone. */
	bool looked = !pulse || sz_tried_grew(m, pulse, &m->measure_pulse, &m->have_measure_pulse, true);
	if (hs->n_regions == 0 && grew)
		return "no tried regions, but some were tried";
	if (hs->n_regions == 0 && !looked)
		return "no tried regions, and DAMON applied no scheme since the last interval";
	m->last_n_regions = hs->n_regions;
	return NULL;
}

/* An interval with no measurement has no decision of its own, and a quota
 * left open goes on moving at the last one's rate: 7.3 at ~1 700 hot
 * regions (s20-many-regions) answered up to ten intervals in a row with
 * overlapping regions while a 16 MiB-per-window push ran, and moved 275
 * MiB for a 57 MiB error (node 0: 1 -> 95 %, then the pull took it back to
 * 1 %). A pair runs on blind only while another interval at its rate stays
 * within the error the last measurement saw; stopping every pair instead
 * starved 6.12, whose kdamond at ~1 300 regions under TCG left two of three
 * intervals unmeasured and moved ~0.4 MiB/s (17 % at 120 s, not 50 %). */
static int tick_blind(Manager *m, const CtlSample *smp)
{
	size_t n = m->setup.act.n;
	uint64_t moved[CTL_N][CTL_N] = { 0 };
	CtlDecision d;
	Actuation a;

	if (!m->act.armed)
		return 0;
	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++)
			moved[s][t] = smp->applied[s][t] - MIN(smp->applied[s][t], m->decision_applied[s][t]);
	controller_blind_step(&m->decision, n, moved, &d);
	actuate_decide(&m->setup.act, &m->act, &d, m->damon.feat.temporal, &a);
	return tick_actuate(m, &a);
}

int manager_tick(Manager *m)
{
	HotShare hs;
	CtlSample smp;
	CtlDecision d;
	Actuation a;
	uint64_t cpu0 = 0, cpu1 = 0;
	int r;

	(void)cost_cpu_us(&cpu0);
	r = tick_check_owned(m);
	if (r < 0)
		return r;
	r = tick_measure(m, &hs);
	if (r < 0)
		return r;
	r = tick_sample(m, &hs, &smp);
	if (r < 0)
		return r;
	const char *why = measurement_unanswered(m, &hs);
	if (why) {
		log_debug("no measurement (%s): no new decision this interval", why);
		return tick_blind(m, &smp);
	}
	controller_step(&m->ctl, &smp, &d);
	m->decision = d;
	memcpy(m->decision_applied, smp.applied, sizeof(m->decision_applied));
	actuate_decide(&m->setup.act, &m->act, &d, m->damon.feat.temporal, &a);
	r = tick_actuate(m, &a);
	if (r < 0)
		return r;
	(void)cost_cpu_us(&cpu1);
	publish_tick(m, &hs, &d, &a, cpu1 - cpu0);
	tick_report(m, &hs, &d);
	return 0;
}

int manager_on_tick_result(Manager *m, int r)
{
	/* Not ours any more, or stopped: nothing to retry. */
	if (r == -ESRCH)
		report_kdamond_stopped(m, "");
	if (r == -EPERM || r == -ESRCH)
		return EXIT_RUNTIME;
	if (r < 0) {
		publish_error(m, r);
		if (++m->failures >= MANAGER_MAX_FAILURES) {
			report_giving_up(m, r);
			return EXIT_RUNTIME;
		}
		log_warning("control interval failed: %s, retrying next interval", strerror(-r));
		return EXIT_OK;
	}
	m->failures = 0;
	return EXIT_OK;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	Manager *m = userdata;

	/* Re-arm first, on the interval grid. */
	sd_event_source_set_time(s, usec + (uint64_t)m->cfg->interval_ms * 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ON);

	int code = manager_on_tick_result(m, manager_tick(m));
	if (code != EXIT_OK) {
		sd_event_exit(m->event, code);
		return 0;
	}
	/* Memory blocks come and go (hotplug) without telling anyone: look
	 * every so often; reading the links is cheap next to an interval. */
	if (usec >= m->map_checked_usec + MANAGER_MAP_CHECK_USEC) {
		m->map_checked_usec = usec;
		(void)manager_check_node_map(m);
	}
	return 0;
}
