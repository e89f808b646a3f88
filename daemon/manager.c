/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "metric.h"
#include "node-info.h"
#include "runstate.h"
#include "util.h"

#define MIB ((uint64_t)1024 * 1024)
#define PAGE 4096ULL
/* Consecutive failed intervals before giving up. */
#define MAX_FAILURES 10

static void field(char *buf, size_t size, const char *key, long long v)
{
	snprintf(buf, size, "%s=%lld", key, v);
}

static int node_of(const Manager *m, size_t i)
{
	return m->cfg->tiers[i].node;
}

/* The tier nodes' memory ranges, sorted: DAMON regions must be sorted and
 * non-overlapping. */
static int build_regions(Manager *m, DamonPlan *p)
{
	p->n_regions = 0;
	for (size_t r = 0; r < m->map.n; r++) {
		const NodeRange *nr = &m->map.ranges[r];
		if (config_tier_index(m->cfg, nr->node) < 0)
			continue;
		if (p->n_regions && p->regions[p->n_regions - 1].end == nr->start) {
			p->regions[p->n_regions - 1].end = nr->end;
			continue;
		}
		if (p->n_regions == DAMON_MAX_REGIONS)
			return -E2BIG;
		p->regions[p->n_regions++] = (DamonRange){ nr->start, nr->end };
	}
	return p->n_regions ? 0 : -ENOENT;
}

/* Address filters restricting a scheme to SRC's memory: reject every part of
 * the monitored span that is not on SRC (the form 6.12 honours, §0b). */
static int build_rejects(Manager *m, int src, DamonScheme *s)
{
	uint64_t lo = m->plan.regions[0].start, hi = m->plan.regions[m->plan.n_regions - 1].end;
	uint64_t cur = lo;

	s->n_reject = 0;
	for (size_t r = 0; r < m->map.n; r++) {
		const NodeRange *nr = &m->map.ranges[r];
		if (nr->node != src || nr->end <= lo || nr->start >= hi)
			continue;
		if (nr->start > cur) {
			if (s->n_reject == DAMON_MAX_FILTERS)
				return -E2BIG;
			s->reject[s->n_reject++] = (DamonRange){ cur, nr->start };
		}
		cur = MAX(cur, nr->end);
	}
	if (cur < hi) {
		if (s->n_reject == DAMON_MAX_FILTERS)
			return -E2BIG;
		s->reject[s->n_reject++] = (DamonRange){ cur, hi };
	}
	return 0;
}

static void build_plan(Manager *m)
{
	const Config *c = m->cfg;
	DamonPlan *p = &m->plan;
	uint32_t nr_min = config_hot_min_nr_accesses(c);
	uint32_t age_min = (uint32_t)((uint64_t)c->hot.min_age_ms * 1000 / c->monitor.aggr_us);

	p->sample_us = c->monitor.sample_us;
	p->aggr_us = c->monitor.aggr_us;
	p->min_regions = c->monitor.min_regions;
	p->max_regions = c->monitor.max_regions;

	/* Scheme 0: the measurement. stat, hot pattern, no quota, no filters:
	 * its tried_regions are every hot region (damon-sysfs.md §6.1). */
	p->schemes[0] = (DamonScheme){ .action = "stat", .target_nid = -1, .sz_min = PAGE,
				       .nr_accesses_min = nr_min, .age_min = age_min, .armed = true };
	p->n_schemes = 1;
	for (size_t s = 0; s < c->n_tiers; s++)
		for (size_t d = 0; d < c->n_tiers; d++) {
			m->pair_scheme[s][d] = -1;
			if (s == d)
				continue;
			DamonScheme *x = &p->schemes[p->n_schemes];
			*x = (DamonScheme){
				.action = "migrate_hot",
				.target_nid = node_of(m, d),
				.sz_min = PAGE,
				.nr_accesses_min = nr_min,
				.age_min = age_min,
				.armed = false,
				.quota_bytes = PAGE,
				.reset_ms = m->window_ms,
				.goal = m->damon.feat.temporal,
				.goal_target = MAX(c->tiers[d].hot_share_bp, 1u),
				.goal_current = 2 * MAX(c->tiers[d].hot_share_bp, 1u),
			};
			m->pair_scheme[s][d] = (int)p->n_schemes++;
		}
}

static void controller_setup(Manager *m)
{
	const Config *c = m->cfg;
	CtlParams p = {
		.n = c->n_tiers,
		.deadband_bp = c->migration.deadband_bp,
		.max_bytes_per_tick = (uint64_t)c->migration.max_mib_per_s * MIB * c->interval_ms / 1000,
		.hold_ms = c->migration.hold_s * 1000,
	};
	for (size_t i = 0; i < c->n_tiers; i++) {
		p.node[i] = c->tiers[i].node;
		p.target_bp[i] = c->tiers[i].hot_share_bp;
	}
	controller_init(&m->ctl, &p);
}

static int check_nodes(Manager *m)
{
	for (size_t i = 0; i < m->cfg->n_tiers; i++) {
		int node = node_of(m, i);
		if (node_map_node_bytes(&m->map, node) == 0) {
			log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NULL, 0,
				   "%s: tiers[%zu].node = %d has no online memory blocks under /sys/devices/system/node/node%d",
				   m->cfg->path, i, node, node);
			return -ENOENT;
		}
		if (m->real_root) {
			NodeTopology t;
			if (node_topology_libnuma(node, &t) == 0) {
				char f1[32];
				field(f1, sizeof(f1), "DTIERD_NODE", node);
				const char *fields[] = { f1 };
				log_fields(LOG_INFO, NULL, fields, 1, "node %d: %" PRIu64 " MiB, %s", node,
					   t.size_bytes / MIB, t.has_cpus ? "with CPUs" : "CPU-less (expander-like)");
			}
		}
	}
	return 0;
}

/* DAMON_RECLAIM, DAMON_LRU_SORT and DAMON_STAT start their contexts
 * exclusively: while one runs, `on` of a sysfs kdamond fails with EBUSY. */
static int check_modules(Manager *m)
{
	bool take_stat = false;

	/* Decide for every module before changing any: a refusal must leave
	 * DAMON_STAT as it was. */
	for (unsigned mod = 0; mod < _DAMON_MOD_MAX; mod++) {
		int r = damon_module_enabled(&m->fs, mod);
		if (r <= 0)
			continue;
		const char *name = damon_module_name(mod);
		if (mod == DAMON_MOD_STAT && m->cfg->damon_stat_takeover) {
			take_stat = true;
			continue;
		}
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NULL, 0,
			   "%s is running and keeps DAMON sysfs kdamonds from starting; turn it off with "
			   "'echo N > /sys/module/%s/parameters/enabled'%s",
			   name, name, mod == DAMON_MOD_STAT ? " or set damon_stat_takeover = true; in the config" : "");
		return EXIT_REFUSED;
	}
	if (take_stat) {
		int r = damon_module_set_enabled(&m->fs, DAMON_MOD_STAT, false);
		if (r < 0) {
			log_error("cannot turn damon_stat off (/sys/module/damon_stat/parameters/enabled): %s", strerror(-r));
			return EXIT_RUNTIME;
		}
		m->damon_stat_taken = true;
		log_notice("turned damon_stat off for dtierd's lifetime (damon_stat_takeover = true); it is turned back on at exit");
	}
	return EXIT_OK;
}

static void write_runstate(Manager *m)
{
	int64_t kpid = -1;
	(void)damon_read_pid(&m->damon, &kpid);
	RunState s = { .pid = getpid(), .kdamond = (int)m->damon.kd, .kdamond_pid = kpid,
		       .created_kdamonds = m->damon.created_kdamonds, .damon_stat_taken = m->damon_stat_taken,
		       .reloads = m->reloads, .reload_ok = m->reload_ok };
	int r = runstate_write(m->cfg->run_dir, &s);
	if (r < 0)
		log_warning("cannot write %s/state: %s, ignoring", m->cfg->run_dir, strerror(-r));
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata);

/* A previous instance that died without cleaning up (SIGKILL, crash, a
 * watchdog abort) leaves its kdamond running and its run-state file behind.
 * Remove what it created, and only that: the kdamond it recorded, if it still
 * runs as the recorded kernel thread (or is stopped), and give DAMON_STAT
 * back if it had taken it. Returns 0 (nothing left, or cleaned), -EALREADY
 * if the recorded dtierd is still alive, or -errno. */
int manager_recover(Sysfs *fs, const char *run_dir)
{
	RunState st;
	Damon d;
	int r;

	r = runstate_read(run_dir, &st);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warning("%s/state is unreadable (%s); not touching any kdamond, removing it", run_dir, strerror(-r));
		(void)runstate_remove(run_dir);
		return 0;
	}
	if (st.pid > 0 && st.pid != getpid() && kill(st.pid, 0) == 0) {
		char comm[64] = "";
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)st.pid);
		FILE *f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		if (strncmp(comm, "dtierd", 6) == 0) {
			log_error("another dtierd (pid %d) is running and owns kdamond %d (%s/state)", (int)st.pid,
				  st.kdamond, run_dir);
			return -EALREADY;
		}
	}
	if (st.kdamond >= 0) {
		r = damon_adopt(&d, fs, (unsigned)st.kdamond, st.kdamond_pid, st.created_kdamonds);
		if (r == 0) {
			r = damon_teardown(&d);
			if (r < 0) {
				log_error("cannot remove kdamond %d left by dtierd pid %d: %s", st.kdamond, (int)st.pid,
					  strerror(-r));
				return r;
			}
			log_notice("removed kdamond %d left behind by dtierd pid %d", st.kdamond, (int)st.pid);
		} else if (r == -EPERM) {
			log_warning("kdamond %d runs as pid other than the recorded %lld: not ours any more, leaving it alone",
				    st.kdamond, (long long)st.kdamond_pid);
		} else if (r != -ENOENT) {
			log_error("cannot inspect kdamond %d left by dtierd pid %d: %s", st.kdamond, (int)st.pid,
				  strerror(-r));
			return r;
		}
	}
	if (st.damon_stat_taken) {
		r = damon_module_set_enabled(fs, DAMON_MOD_STAT, true);
		if (r < 0)
			log_error("cannot turn damon_stat back on: %s", strerror(-r));
		else
			log_notice("turned damon_stat back on (dtierd pid %d had turned it off)", (int)st.pid);
	}
	(void)runstate_remove(run_dir);
	return 0;
}


int manager_start(Manager *m, Config *cfg, const char *root, sd_event *event)
{
	char desc[256], path[512];
	int r;

	*m = (Manager){ .cfg = cfg, .event = event, .exit_code = EXIT_OK, .fs = { .root_fd = -1 } };
	m->kpf.fd = -1;
	m->root = strdup(root);
	m->real_root = strcmp(root, "/") == 0;
	m->window_ms = MAX(cfg->monitor.aggr_us / 1000, 1u);

	r = sysfs_open(root, &m->fs);
	if (r < 0) {
		log_error("cannot open root directory %s: %s", root, strerror(-r));
		return EXIT_USAGE;
	}
	if (damon_available(&m->fs) < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NULL, 0,
			   "DAMON sysfs interface not found (%s/sys/kernel/mm/damon/admin/kdamonds): kernel too old or "
			   "built without CONFIG_DAMON_SYSFS; dtierd needs Linux 6.11+ with DAMON",
			   m->real_root ? "" : root);
		return EXIT_KERNEL;
	}
	r = node_map_load(&m->fs, &m->map);
	if (r < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NULL, 0,
			   "cannot read the memory-block node map (/sys/devices/system/memory, /sys/devices/system/node): %s",
			   strerror(-r));
		return EXIT_KERNEL;
	}
	if (check_nodes(m) < 0)
		return EXIT_KERNEL;

	r = manager_recover(&m->fs, cfg->run_dir);
	if (r == -EALREADY)
		return EXIT_REFUSED;
	if (r < 0)
		return EXIT_RUNTIME;

	/* Refuse before writing anything if the tree is someone else's. */
	r = damon_check_foreign(&m->fs, desc, sizeof(desc));
	if (r == -EEXIST) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NULL, 0,
			   "refusing to start: %s; dtierd never modifies, stops or renumbers a kdamond it did not create",
			   desc);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		log_error("cannot read DAMON state under /sys/kernel/mm/damon/admin/kdamonds: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	r = check_modules(m);
	if (r != EXIT_OK)
		return r;

	r = kpageflags_open(&m->fs, (uint64_t)getpid() * 2654435761ULL, &m->kpf);
	if (r < 0)
		log_warning("cannot open /proc/kpageflags (%s): counting every byte of hot regions, including memory "
			    "DAMON cannot migrate, ignoring", strerror(-r));
	else
		m->have_kpf = true;

	r = build_regions(m, &m->plan);
	if (r < 0) {
		log_error("the tier nodes' memory cannot be described in %d DAMON regions: %s", DAMON_MAX_REGIONS,
			  strerror(-r));
		goto fail_runtime;
	}
	build_plan(m);
	for (size_t s = 0; s < cfg->n_tiers; s++)
		for (size_t d = 0; d < cfg->n_tiers; d++)
			if (m->pair_scheme[s][d] >= 0) {
				r = build_rejects(m, node_of(m, s), &m->plan.schemes[m->pair_scheme[s][d]]);
				if (r < 0) {
					log_error("node %d's memory is too fragmented for %d address filters",
						  node_of(m, s), DAMON_MAX_FILTERS);
					goto fail_runtime;
				}
			}
	controller_setup(m);

	r = damon_create(&m->damon, &m->fs);
	if (r == -EEXIST) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NULL, 0, "refusing to start: a kdamond appeared while starting");
		m->exit_code = EXIT_REFUSED;
		goto fail;
	}
	if (r < 0) {
		log_error("cannot create a kdamond under /sys/kernel/mm/damon/admin/kdamonds: %s", strerror(-r));
		goto fail_runtime;
	}
	write_runstate(m);
	r = damon_require_features(&m->damon.feat, desc, sizeof(desc));
	if (r < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NULL, 0, "kernel too old: dtierd needs %s", desc);
		m->exit_code = EXIT_KERNEL;
		goto fail;
	}
	/* Goals only where the tuner acts within a window (see tick). */
	for (size_t i = 1; i < m->plan.n_schemes; i++)
		m->plan.schemes[i].goal = m->damon.feat.temporal;
	log_info("DAMON features: goal tuner %s, %s address filters%s", m->damon.feat.temporal ? "temporal" : "consist",
		 m->damon.feat.core_filters ? "core" : "legacy", m->damon.feat.filter_allow ? " with allow" : "");

	path[0] = '\0';
	r = damon_stage(&m->damon, &m->plan, path, sizeof(path));
	if (r < 0) {
		log_error("cannot write %s: %s", path[0] ? path : "DAMON configuration", strerror(-r));
		goto fail_runtime;
	}
	r = damon_start(&m->damon);
	if (r < 0) {
		if (r == -EBUSY)
			log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NULL, 0,
				   "cannot start the kdamond: EBUSY (another exclusive DAMON user, such as DAMON_RECLAIM, "
				   "DAMON_LRU_SORT or DAMON_STAT, started meanwhile?)");
		else
			log_error("cannot start the kdamond (state on): %s", strerror(-r));
		goto fail_runtime;
	}
	write_runstate(m);

	int64_t kpid = -1;
	(void)damon_read_pid(&m->damon, &kpid);
	{
		char f1[48];
		field(f1, sizeof(f1), "DTIERD_KDAMOND_PID", kpid);
		const char *fields[] = { f1 };
		log_fields(LOG_NOTICE, MSGID_STARTED, fields, 1,
			   "started kdamond %u (pid %" PRId64 "): %zu tier nodes, %zu regions, %zu schemes, interval %u ms",
			   m->damon.kd, kpid, cfg->n_tiers, m->plan.n_regions, m->plan.n_schemes, cfg->interval_ms);
	}

	uint64_t now;
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(event, &m->timer, CLOCK_MONOTONIC, now + (uint64_t)cfg->interval_ms * 1000, 10000,
			      on_tick, m);
	if (r < 0) {
		log_error("cannot add the control timer: %s", strerror(-r));
		goto fail_runtime;
	}
	if (sd_watchdog_enabled(false, &m->watchdog_usec) > 0 &&
	    (uint64_t)cfg->interval_ms * 1000 * 2 > m->watchdog_usec)
		log_warning("interval_ms = %u is more than half of WatchdogSec=%" PRIu64 " ms: the watchdog may fire, ignoring",
			    cfg->interval_ms, m->watchdog_usec / 1000);
	return EXIT_OK;

fail_runtime:
	m->exit_code = EXIT_RUNTIME;
fail:
	manager_stop(m);
	return m->exit_code;
}

int manager_stop(Manager *m)
{
	int r, ret = 0;

	m->timer = sd_event_source_unref(m->timer);
	r = damon_teardown(&m->damon);
	if (r < 0) {
		log_error("cleaning up kdamond %u failed: %s", m->damon.kd, strerror(-r));
		ret = r;
	}
	if (m->damon_stat_taken) {
		r = damon_module_set_enabled(&m->fs, DAMON_MOD_STAT, true);
		if (r < 0) {
			log_error("cannot turn damon_stat back on: %s", strerror(-r));
			ret = ret ?: r;
		} else {
			log_notice("turned damon_stat back on");
		}
		m->damon_stat_taken = false;
	}
	if (m->cfg)
		(void)runstate_remove(m->cfg->run_dir);
	if (m->have_kpf)
		kpageflags_close(&m->kpf);
	m->have_kpf = false;
	node_map_free(&m->map);
	sysfs_close(&m->fs);
	config_free(m->cfg);
	m->cfg = NULL;
	free(m->root);
	m->root = NULL;
	return ret;
}

/* One measurement: hot bytes per tier node from scheme 0's tried regions. */
static int measure(Manager *m, HotShare *hs)
{
	RegionList regions = { 0 };
	int nodes[CONFIG_MAX_TIERS];
	PaddrLocator loc;
	int r;

	r = damon_update_tried_regions(&m->damon);
	if (r < 0)
		return r;
	r = damon_read_tried_regions(&m->damon, 0, &regions);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->cfg->n_tiers; i++)
		nodes[i] = node_of(m, i);
	paddr_locator_init(&loc, &m->map, m->have_kpf ? &m->kpf : NULL);
	HotPattern pat = { .min_nr_accesses = m->plan.schemes[0].nr_accesses_min,
			   .min_age = m->plan.schemes[0].age_min,
			   .max_nr_accesses = (uint32_t)(m->plan.aggr_us / m->plan.sample_us) };
	r = metric_hot_share(&regions, &pat, &loc.base, m->cfg->measure.kpageflags_max_pages, nodes, m->cfg->n_tiers, hs);
	region_list_free(&regions);
	return r;
}

static void log_events(Manager *m, const CtlDecision *d)
{
	size_t n = m->cfg->n_tiers;

	if (d->events & CTL_EV_CLAMPED)
		for (size_t i = 0; i < n; i++)
			if (d->clamped[i] || d->target_bp[i] != m->cfg->tiers[i].hot_share_bp) {
				char f1[32], f2[32], f3[32];
				field(f1, sizeof(f1), "DTIERD_NODE", node_of(m, i));
				field(f2, sizeof(f2), "DTIERD_TARGET_BP", d->target_bp[i]);
				field(f3, sizeof(f3), "DTIERD_CONFIGURED_BP", m->cfg->tiers[i].hot_share_bp);
				const char *fields[] = { f1, f2, f3 };
				log_fields(LOG_NOTICE, MSGID_TARGET_CLAMPED, fields, 3,
					   "node %d: target %u bp %s to %u bp (%s)", node_of(m, i),
					   m->cfg->tiers[i].hot_share_bp, d->clamped[i] ? "clamped" : "raised",
					   d->target_bp[i],
					   d->clamped[i] ? "the node cannot hold more of the hot memory"
							 : "taking over what other nodes cannot hold");
			}
	if (d->events & (CTL_EV_REACHED | CTL_EV_LOST))
		for (size_t i = 0; i < n; i++) {
			char f1[32], f2[32], f3[32];
			field(f1, sizeof(f1), "DTIERD_NODE", node_of(m, i));
			field(f2, sizeof(f2), "DTIERD_HOT_BP", d->display_bp[i]);
			field(f3, sizeof(f3), "DTIERD_TARGET_BP", d->target_bp[i]);
			const char *fields[] = { f1, f2, f3 };
			bool reached = d->events & CTL_EV_REACHED;
			log_fields(LOG_NOTICE, reached ? MSGID_TARGET_REACHED : MSGID_TARGET_LOST, fields, 3,
				   "node %d: hot share %u.%02u %% %s target %u.%02u %%", node_of(m, i),
				   d->display_bp[i] / 100, d->display_bp[i] % 100, reached ? "reached" : "left the band of",
				   d->target_bp[i] / 100, d->target_bp[i] % 100);
		}
}

static void notify_status(Manager *m, const CtlDecision *d)
{
	char status[512];
	size_t o = 0, n = m->cfg->n_tiers;
	uint64_t in[CTL_N] = { 0 }, out[CTL_N] = { 0 };

	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++) {
			out[s] += m->ctl.moved_total[s][t];
			in[t] += m->ctl.moved_total[s][t];
		}
	o += (size_t)snprintf(status + o, sizeof(status) - o, "%s", d->in_band ? "on target:" : "converging:");
	for (size_t i = 0; i < n && o < sizeof(status); i++)
		o += (size_t)snprintf(status + o, sizeof(status) - o, " node%d %u.%u%%/%u.%u%% (+%" PRIu64 "/-%" PRIu64 " MiB)",
				      node_of(m, i), d->display_bp[i] / 100, d->display_bp[i] % 100 / 10,
				      d->target_bp[i] / 100, d->target_bp[i] % 100 / 10, in[i] / MIB, out[i] / MIB);
	sd_notifyf(false, "STATUS=%s", status);
}

static int tick(Manager *m)
{
	const Config *c = m->cfg;
	size_t n = c->n_tiers;
	HotShare hs;
	CtlSample smp = { 0 };
	CtlDecision d;
	int r;

	r = damon_is_running(&m->damon);
	if (r == 0) {
		log_error("kdamond %u stopped by itself (a rejected commit on kernels before 6.18 does that)", m->damon.kd);
		return -ESRCH;
	}
	r = measure(m, &hs);
	if (r < 0) {
		log_warning("measurement failed: %s", strerror(-r));
		return r;
	}
	r = damon_update_stats(&m->damon);
	if (r < 0)
		return r;
	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++)
			if (m->pair_scheme[s][t] >= 0) {
				r = damon_read_sz_applied(&m->damon, (size_t)m->pair_scheme[s][t], &smp.applied[s][t]);
				if (r < 0)
					return r;
			}
	smp.now_ms = now_ms();
	for (size_t i = 0; i < n; i++) {
		NodeMeminfo mi;
		smp.hot_bytes[i] = hs.hot_bytes[i];
		if (node_meminfo_read(&m->fs, node_of(m, i), &mi) == 0)
			smp.capacity_bytes[i] = controller_node_capacity(mi.total_bytes, mi.free_bytes, hs.hot_bytes[i]);
	}
	controller_step(&m->ctl, &smp, &d);

	/* Actuate. Each pair's size quota is the actuator, with a charge
	 * window one interval long once armed: what the controller asked for
	 * this interval, or 1 byte (less than a page: nothing moves) while
	 * the pair should not run. A window of one aggregation let every
	 * window move at least one large folio whatever the quota (DAMON
	 * charges the region it split to fit the quota, then migrates the
	 * whole 2 MiB folio under it): with THP that was >= 20 MiB/s while
	 * running, and the share hunted +-12 points on 6.12. On kernels with
	 * the temporal tuner the user_input goal also closes the quota as
	 * soon as the target is met; 6.12's consist tuner only ramps x2 per
	 * window from 1 byte after each stop, so there the quota goes
	 * without a goal (esz = bytes). */
	bool need_commit = !m->armed, goals = false;
	uint64_t cap = (uint64_t)c->migration.max_mib_per_s * MIB * c->interval_ms / 1000;
	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++) {
			int i = m->pair_scheme[s][t];
			if (i < 0)
				continue;
			DamonScheme *x = &m->plan.schemes[i];
			uint64_t q = d.run[s][t] ? controller_window_quota(d.bytes_per_tick[s][t], c->interval_ms,
									  c->interval_ms, cap)
						 : 1;
			if (q != m->committed_quota[i]) {
				x->quota_bytes = q;
				need_commit = true;
			}
			if (!x->goal)
				continue;
			uint64_t target, current;
			controller_goal_values(&d, s, t, m->damon.feat.temporal, &target, &current);
			x->goal_target = target;
			x->goal_current = current;
			r = damon_set_goal(&m->damon, (size_t)i, target, current);
			if (r < 0)
				return r;
			goals = true;
		}
	if (need_commit) {
		for (size_t i = 1; i < m->plan.n_schemes; i++) {
			m->plan.schemes[i].armed = true;
			m->plan.schemes[i].reset_ms = c->interval_ms;
			r = damon_stage_scheme_values(&m->damon, i, &m->plan.schemes[i]);
			if (r < 0)
				return r;
		}
		r = damon_commit(&m->damon);
		if (r < 0)
			return r;
		for (size_t i = 1; i < m->plan.n_schemes; i++) {
			if (m->plan.schemes[i].quota_bytes != m->committed_quota[i])
				log_debug("scheme %zu (to node %d): quota %" PRIu64 " bytes per %" PRIu64 " ms", i,
					  m->plan.schemes[i].target_nid, m->plan.schemes[i].quota_bytes,
					  m->plan.schemes[i].reset_ms);
			m->committed_quota[i] = m->plan.schemes[i].quota_bytes;
		}
		m->armed = true;
	} else if (goals) {
		r = damon_commit_goals(&m->damon);
		if (r < 0)
			return r;
	}

	/* Per-interval numbers at debug level only. */
	if (log_get_max_level() >= LOG_DEBUG)
		for (size_t i = 0; i < n; i++) {
			char f1[32], f2[32], f3[32], f4[48];
			uint64_t moved_in = 0;
			for (size_t s = 0; s < n; s++)
				moved_in += d.moved[s][i];
			field(f1, sizeof(f1), "DTIERD_NODE", node_of(m, i));
			field(f2, sizeof(f2), "DTIERD_HOT_BP", d.estimate_bp[i]);
			field(f3, sizeof(f3), "DTIERD_TARGET_BP", d.target_bp[i]);
			field(f4, sizeof(f4), "DTIERD_MIGRATED_BYTES", (long long)moved_in);
			const char *fields[] = { f1, f2, f3, f4 };
			log_fields(LOG_DEBUG, NULL, fields, 4,
				   "node %d: hot %" PRIu64 " KiB measured %u bp estimate %u bp target %u bp, moved in %" PRIu64
				   " KiB; total %" PRIu64 " KiB +-%" PRIu64 " KiB, %zu regions, %" PRIu64 " pages read",
				   node_of(m, i), hs.hot_bytes[i] / 1024, d.measured_bp[i], d.estimate_bp[i], d.target_bp[i],
				   moved_in / 1024, hs.total / 1024, hs.err_bytes / 1024, hs.n_regions, hs.pages_read);
		}
	log_events(m, &d);
	notify_status(m, &d);
	if (!m->ready) {
		sd_notify(false, "READY=1");
		m->ready = true;
	}
	return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	Manager *m = userdata;

	/* Re-arm first, on the interval grid. */
	sd_event_source_set_time(s, usec + (uint64_t)m->cfg->interval_ms * 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ON);

	int r = tick(m);
	m->ticks++;
	if (r == -ESRCH) {
		sd_event_exit(m->event, EXIT_RUNTIME);
		return 0;
	}
	if (r < 0) {
		if (++m->failures >= MAX_FAILURES) {
			log_error("%u control intervals in a row failed (last: %s), giving up", m->failures, strerror(-r));
			sd_event_exit(m->event, EXIT_RUNTIME);
			return 0;
		}
		log_warning("control interval failed: %s, retrying next interval", strerror(-r));
		return 0;
	}
	m->failures = 0;
	/* Only a completed interval feeds the watchdog: a hung sysfs write
	 * lets it fire. */
	if (m->watchdog_usec)
		sd_notify(false, "WATCHDOG=1");
	return 0;
}

static bool same_nodes(const Config *a, const Config *b)
{
	if (a->n_tiers != b->n_tiers)
		return false;
	for (size_t i = 0; i < a->n_tiers; i++)
		if (a->tiers[i].node != b->tiers[i].node)
			return false;
	return true;
}

/* Applies NC to the running kdamond: re-stage the whole plan and commit. The
 * kernel matches schemes by index and keeps monitoring results and the
 * quota state of schemes it already had. Returns 0 or -errno; *ret_path
 * names a file that failed. */
static int reload_commit(Manager *m, Config *nc, char *ret_path, size_t path_size)
{
	Config *old = m->cfg;
	int r;

	for (size_t i = 0; i < nc->n_tiers; i++)
		if (node_map_node_bytes(&m->map, nc->tiers[i].node) == 0) {
			snprintf(ret_path, path_size, "%s: tiers[%zu].node = %d has no online memory", nc->path, i,
				 nc->tiers[i].node);
			return -ENOENT;
		}
	m->cfg = nc;
	m->window_ms = MAX(nc->monitor.aggr_us / 1000, 1u);
	DamonPlan plan = { 0 };
	DamonPlan saved = m->plan;
	int saved_pairs[CTL_N][CTL_N];
	memcpy(saved_pairs, m->pair_scheme, sizeof(saved_pairs));
	m->plan = plan;
	r = build_regions(m, &m->plan);
	if (r >= 0) {
		build_plan(m);
		for (size_t s = 0; s < nc->n_tiers && r >= 0; s++)
			for (size_t d = 0; d < nc->n_tiers && r >= 0; d++)
				if (m->pair_scheme[s][d] >= 0)
					r = build_rejects(m, nc->tiers[s].node, &m->plan.schemes[m->pair_scheme[s][d]]);
	}
	if (r >= 0)
		r = damon_stage(&m->damon, &m->plan, ret_path, path_size);
	if (r >= 0)
		r = damon_commit(&m->damon);
	if (r < 0 && r != -ESRCH) {
		/* Not committed: the kdamond still runs the old plan. */
		m->cfg = old;
		m->window_ms = MAX(old->monitor.aggr_us / 1000, 1u);
		m->plan = saved;
		memcpy(m->pair_scheme, saved_pairs, sizeof(saved_pairs));
		(void)damon_stage(&m->damon, &m->plan, NULL, 0);
		return r;
	}
	if (r < 0) {
		config_free(old); /* -ESRCH: the kdamond died on commit; we exit. */
		return r;
	}
	/* New pair schemes start disarmed (first quota window); the next
	 * interval arms them and sets their quotas. */
	m->armed = false;
	memset(m->committed_quota, 0, sizeof(m->committed_quota));
	if (same_nodes(old, nc)) {
		uint32_t t[CTL_N];
		for (size_t i = 0; i < nc->n_tiers; i++)
			t[i] = nc->tiers[i].hot_share_bp;
		m->ctl.p.deadband_bp = nc->migration.deadband_bp;
		m->ctl.p.hold_ms = nc->migration.hold_s * 1000;
		m->ctl.p.max_bytes_per_tick = (uint64_t)nc->migration.max_mib_per_s * MIB * nc->interval_ms / 1000;
		controller_set_targets(&m->ctl, t);
	} else {
		controller_setup(m);
	}
	config_free(old);
	return 0;
}

static bool reload_apply(Manager *m)
{
	ConfigErrors errs = { 0 };
	Config *nc = NULL;
	char path[512] = "";

	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, (uint64_t)now_ms() * 1000);
	int r = config_load(m->cfg->path, &nc, &errs);
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			char f1[600];
			snprintf(f1, sizeof(f1), "CONFIG_ERROR=%s", errs.msg[i]);
			const char *fields[] = { f1 };
			log_fields(LOG_ERR, MSGID_CONFIG_REJECTED, fields, 1, "%s", errs.msg[i]);
		}
		log_error("reload rejected, still running the previous configuration of %s", m->cfg->path);
		config_errors_clear(&errs);
		return false;
	}
	if (strcmp(nc->run_dir, m->cfg->run_dir) != 0 || nc->damon_stat_takeover != m->cfg->damon_stat_takeover)
		log_warning("reload: run_dir and damon_stat_takeover take effect at the next start, ignoring");
	free(nc->run_dir);
	nc->run_dir = strdup(m->cfg->run_dir);
	nc->damon_stat_takeover = m->cfg->damon_stat_takeover;

	if (config_only_targets_differ(m->cfg, nc)) {
		/* Only goals change: the next interval writes them and issues
		 * commit_schemes_quota_goals. */
		uint32_t t[CTL_N];
		for (size_t i = 0; i < nc->n_tiers; i++) {
			t[i] = nc->tiers[i].hot_share_bp;
			if (t[i] != m->cfg->tiers[i].hot_share_bp) {
				char f1[32], f2[32], f3[40];
				field(f1, sizeof(f1), "DTIERD_NODE", nc->tiers[i].node);
				field(f2, sizeof(f2), "DTIERD_TARGET_BP", t[i]);
				field(f3, sizeof(f3), "DTIERD_PREVIOUS_TARGET_BP", m->cfg->tiers[i].hot_share_bp);
				const char *fields[] = { f1, f2, f3 };
				log_fields(LOG_NOTICE, NULL, fields, 3, "reload: node %d target %u bp -> %u bp",
					   nc->tiers[i].node, m->cfg->tiers[i].hot_share_bp, t[i]);
			}
		}
		m->ctl.p.deadband_bp = nc->migration.deadband_bp;
		m->ctl.p.hold_ms = nc->migration.hold_s * 1000;
		/* The per-window quota follows the speed cap at the next
		 * interval; no scheme changes. */
		m->ctl.p.max_bytes_per_tick = (uint64_t)nc->migration.max_mib_per_s * MIB * nc->interval_ms / 1000;
		bool changed = false;
		for (size_t i = 0; i < nc->n_tiers; i++)
			changed |= t[i] != m->cfg->tiers[i].hot_share_bp;
		if (changed)
			controller_set_targets(&m->ctl, t);
		m->cfg->migration = nc->migration;
		m->cfg->measure = nc->measure;
		for (size_t i = 0; i < nc->n_tiers; i++)
			m->cfg->tiers[i].hot_share_bp = t[i];
		config_free(nc);
	} else {
		r = reload_commit(m, nc, path, sizeof(path));
		if (r == -ESRCH) {
			log_error("reload: the kdamond stopped on commit (the kernel rejected the new configuration)");
			sd_event_exit(m->event, EXIT_RUNTIME);
			return false;
		}
		if (r < 0) {
			log_error("reload: cannot apply the new configuration (%s%s%s), still running the previous one",
				  path, path[0] ? ": " : "", strerror(-r));
			config_free(nc);
			return false;
		}
		log_notice("reload: committed the new configuration to the running kdamond %u", m->damon.kd);
	}
	return true;
}

void manager_reload(Manager *m)
{
	bool ok = reload_apply(m);

	m->reloads++;
	m->reload_ok = ok;
	write_runstate(m);
	sd_notify(false, "READY=1");
}

int manager_request_reload(const char *run_dir, unsigned timeout_ms)
{
	RunState st, now;
	int r = runstate_read(run_dir, &st);

	if (r < 0 || st.pid <= 0)
		return -ESRCH;
	if (kill(st.pid, SIGHUP) < 0)
		return -errno;
	for (unsigned waited = 0; waited < timeout_ms; waited += 50) {
		usleep(50000);
		if (runstate_read(run_dir, &now) == 0 && now.pid == st.pid && now.reloads > st.reloads)
			return now.reload_ok ? 0 : -EINVAL;
		if (kill(st.pid, 0) < 0)
			return -ESRCH;
	}
	return -ETIMEDOUT;
}
