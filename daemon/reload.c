/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reload (SIGHUP, and memory hotplug): build a whole candidate {config, node
 * map, plan, parameters} in locals, apply it, and swap it in only when the
 * kernel took it; otherwise discard it and keep running the old one. Also
 * the `dtierd --reload` client. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "report.h"
#include "runstate.h"
#include "util.h"

typedef struct Candidate {
	Config *cfg; /* NULL: the running one (the node map changed) */
	NodeMap map;
	DamonSetup setup;
} Candidate;

static void candidate_done(Candidate *c)
{
	config_free(c->cfg);
	node_map_free(&c->map);
}

static const Config *candidate_cfg(const Manager *m, const Candidate *c)
{
	return c->cfg ? c->cfg : m->cfg;
}

/* Config (unless CFG is already set), node map, plan. Returns 0, -EINVAL
 * for an invalid config file (reported), or -errno (logged). */
static int candidate_build(Manager *m, Candidate *c)
{
	size_t bad = 0;
	int r;

	if (!c->cfg) {
		ConfigErrors errs = { 0 };
		r = config_load(m->cfg->path, &c->cfg, &errs);
		report_config_errors(&errs);
		config_errors_clear(&errs);
		if (r < 0)
			return -EINVAL;
		if (strcmp(c->cfg->run_dir, m->cfg->run_dir) != 0 ||
		    c->cfg->damon_stat_takeover != m->cfg->damon_stat_takeover)
			log_warning("reload: run_dir and damon_stat_takeover take effect at the next start, ignoring");
		free(c->cfg->run_dir);
		c->cfg->run_dir = strdup(m->cfg->run_dir);
		c->cfg->damon_stat_takeover = m->cfg->damon_stat_takeover;
		if (!c->cfg->run_dir)
			return -ENOMEM;
		if (c->cfg->n_tiers == 0 && manager_default_tiers(&m->fs, c->cfg) < 0)
			return -EINVAL;
		if (manager_check_metric(m, c->cfg) < 0)
			return -EINVAL;
	}
	/* Memory may have come or gone since the last look. */
	r = node_map_load(&m->fs, &c->map);
	if (r < 0) {
		log_error("reload: cannot read the memory-block node map: %s", strerror(-r));
		return r;
	}
	r = damon_plan_build(candidate_cfg(m, c), &c->map, &c->setup, &bad);
	if (r < 0)
		return manager_plan_error(candidate_cfg(m, c), r, bad);
	damon_plan_fit_kernel(&c->setup.plan, &m->damon.feat);
	return 0;
}

static bool same_map(const NodeMap *a, const NodeMap *b)
{
	return a->n == b->n && a->block_size == b->block_size &&
	       (a->n == 0 || memcmp(a->ranges, b->ranges, a->n * sizeof(*a->ranges)) == 0);
}

/* The kdamond's schemes stay; only targets, speed and timing change. */
static bool only_targets_differ(const Manager *m, const Candidate *c)
{
	return same_map(&m->map, &c->map) && config_only_targets_differ(m->cfg, candidate_cfg(m, c));
}

/* The running controller keeps what it learned if the nodes are the same. */
static void swap_controller(Manager *m, const CtlParams *np)
{
	bool same_nodes = m->ctl.p.n == np->n && memcmp(m->ctl.p.node, np->node, np->n * sizeof(np->node[0])) == 0;

	if (!same_nodes) {
		controller_init(&m->ctl, np);
		return;
	}
	m->ctl.p.deadband_bp = np->deadband_bp;
	m->ctl.p.hold_ms = np->hold_ms;
	m->ctl.p.max_bytes_per_tick = np->max_bytes_per_tick;
	if (memcmp(m->ctl.p.target_bp, np->target_bp, np->n * sizeof(np->target_bp[0])) != 0)
		controller_set_targets(&m->ctl, np->target_bp);
}

static void swap_in(Manager *m, Candidate *c, bool new_plan)
{
	if (c->cfg) {
		report_targets_changed(m->cfg, c->cfg);
		config_free(m->cfg);
		m->cfg = TAKE_PTR(c->cfg);
	}
	node_map_free(&m->map);
	m->map = c->map;
	c->map = (NodeMap){ 0 };
	swap_controller(m, &c->setup.ctl);
	m->setup.act = c->setup.act;
	m->setup.ctl = c->setup.ctl;
	if (new_plan) {
		/* New pair schemes start disarmed (first quota window); the
		 * next interval arms them and sets their quotas. */
		m->setup.plan = c->setup.plan;
		actuate_init(&m->act, &m->setup.plan);
	}
}

/* Stages and commits C's plan on the running kdamond. The kernel matches
 * schemes by index and keeps the monitoring results and quota state of the
 * schemes it already had. On failure the old plan is staged back; if even
 * that fails, the next full commit stages it whole first. */
static int commit_candidate(Manager *m, Candidate *c)
{
	char path[512] = "";
	uint64_t digest;
	int r;

	r = damon_stage(&m->damon, &c->setup.plan, path, sizeof(path));
	if (r >= 0)
		r = damon_digest(&m->damon, &digest);
	if (r >= 0) {
		/* Intent: a crash from here on leaves the new tree. */
		uint64_t old = m->digest;
		m->digest = digest;
		r = manager_record(m);
		if (r >= 0)
			r = damon_commit(&m->damon);
		if (r < 0)
			m->digest = old;
	}
	if (r == -ESRCH || r == -EPERM)
		return r;
	if (r < 0) {
		log_error("reload: cannot apply the new configuration (%s%s%s), still running the previous one", path,
			  path[0] ? ": " : "", strerror(-r));
		if (manager_stage(m) < 0) {
			log_error("reload: cannot stage the previous configuration again either; the next interval retries "
				  "before it commits anything");
			m->stage_dirty = true;
		}
		return r;
	}
	return 0;
}

/* Applies C. Returns 0 (targets and limits only), 1 (a new plan was
 * committed) or -errno; -ESRCH/-EPERM: the kdamond is gone or not ours, the
 * loop must end. */
static int apply_candidate(Manager *m, Candidate *c)
{
	if (only_targets_differ(m, c)) {
		/* The next interval writes the goals and the per-window quota
		 * for the new speed cap. */
		swap_in(m, c, false);
		return 0;
	}
	int r = commit_candidate(m, c);
	if (r < 0)
		return r;
	swap_in(m, c, true);
	manager_levels_baseline(m);
	return 1;
}

/* Returns what apply_candidate() did, or -errno (logged). */
static int reload(Manager *m, Candidate *c)
{
	int r = candidate_build(m, c);

	if (r >= 0)
		r = apply_candidate(m, c);
	candidate_done(c);
	if (r == -ESRCH)
		report_kdamond_stopped(m, "on committing a new DAMON plan");
	else if (r == -EPERM)
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
			   "reload: kdamond %u is not dtierd's any more on commit; writing nothing more to it",
			   m->damon.kd);
	if (r == -ESRCH || r == -EPERM)
		sd_event_exit(m->event, EXIT_RUNTIME);
	return r;
}

void manager_reload(Manager *m)
{
	Candidate c = { 0 };

	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, (uint64_t)now_ms() * 1000);
	int r = reload(m, &c);
	m->reload_ok = r >= 0;
	/* The kdamond gone or not ours: said, and the loop ends. */
	if (r != -ESRCH && r != -EPERM)
		report_reload(m, r);
	m->reloads++;
	(void)manager_record(m);
	/* Applied: READY=1 once an interval of it completed. Rejected: the
	 * old configuration runs on, ready now. */
	if (m->reload_ok)
		m->ready_pending = true;
	else
		sd_notify(false, "READY=1");
}

int manager_check_node_map(Manager *m)
{
	NodeMap now = { 0 };
	int r = node_map_load(&m->fs, &now);

	if (r < 0)
		return r;
	bool same = same_map(&m->map, &now);
	node_map_free(&now);
	if (same)
		return 0;
	log_notice("the memory-block node map changed (memory hotplug): rebuilding the DAMON plan");
	Candidate c = { 0 };
	r = reload(m, &c);
	if (r >= 0)
		log_notice("memory hotplug: committed the rebuilt DAMON plan to the running kdamond %u", m->damon.kd);
	else if (r != -ESRCH && r != -EPERM)
		log_error("memory hotplug: still running the previous DAMON plan; retrying within %llu s",
			  MANAGER_MAP_CHECK_USEC / 1000000);
	return 1;
}

int manager_request_reload(const char *run_dir, int mainpid, unsigned timeout_ms)
{
	RunState st, now;
	int r = runstate_read(run_dir, &st);

	if (r < 0)
		return -ESRCH;
	/* Only a dtierd: the record may be stale and its pid reused. */
	if ((mainpid > 0 && st.pid != mainpid) || !manager_pid_is_dtierd(st.pid))
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
