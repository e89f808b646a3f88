/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prom.h"
#include "publish.h"
#include "status.h"
#include "util.h"

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void publish_init(Manager *m)
{
	char path[PATH_MAX];
	DtierdStatus *prev = calloc(1, sizeof(*prev));
	size_t n = m->cfg->n_tiers;

	m->status_failing = m->prom_failing = false;
	cost_ring_init(&m->cost, 0);
	memset(m->mig_win, 0, sizeof(m->mig_win));
	snprintf(path, sizeof(path), "%s/%s", m->run_dir, STATUS_FILE);
	bool have = prev && status_read(path, prev) == 0;
	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++)
			m->mig_base[s][t] = status_previous_total(have ? prev : NULL, m->cfg->tiers[s].node,
								  m->cfg->tiers[t].node);
	free(prev);
}

void publish_error(Manager *m, int err)
{
	m->errors_total++;
	snprintf(m->last_error, sizeof(m->last_error), "%s", strerror(err < 0 ? -err : err));
}

static void fill_nodes(const Manager *m, const HotShare *hs, const CtlDecision *d, DtierdStatus *st)
{
	st->n_nodes = m->cfg->n_tiers;
	for (size_t i = 0; i < st->n_nodes; i++) {
		StatusNode *x = &st->nodes[i];
		x->node = m->cfg->tiers[i].node;
		x->capacity_bytes = m->last_capacity[i];
		x->hot_bytes = hs->hot_bytes[i];
		x->share_bp = d->display_bp[i];
		x->target_bp = d->target_bp[i];
		x->configured_bp = m->cfg->tiers[i].hot_share_bp;
		x->clamped = d->clamped[i];
		if (d->full[i])
			snprintf(x->clamp_reason, sizeof(x->clamp_reason),
				 "DAMON could not migrate more into the node: what it holds");
		else if (d->clamped[i])
			snprintf(x->clamp_reason, sizeof(x->clamp_reason), "the node cannot hold more of the hot memory");
		else if (d->target_bp[i] > x->configured_bp)
			snprintf(x->clamp_reason, sizeof(x->clamp_reason), "taking over what other nodes cannot hold");
	}
}

static void fill_pairs(Manager *m, const Actuation *a, uint64_t now, DtierdStatus *st)
{
	const ActuateParams *p = &m->setup.act;

	for (size_t s = 0; s < p->n; s++)
		for (size_t t = 0; t < p->n; t++) {
			int i = p->pair_scheme[s][t];
			if (i < 0 || st->n_pairs == STATUS_MAX_PAIRS)
				continue;
			StatusPair *x = &st->pairs[st->n_pairs++];
			uint64_t applied = m->last_applied[s][t];
			x->from = m->cfg->tiers[s].node;
			x->to = m->cfg->tiers[t].node;
			x->scheme = i;
			(void)damon_read_sz_tried(&m->damon, (size_t)i, &x->tried_bytes);
			x->applied_bytes = applied;
			x->quota_bytes = a->quota[i];
			x->migrated_last_minute_bytes = migration_window_add(&m->mig_win[s][t], now, applied);
			x->migrated_total_bytes = m->mig_base[s][t] + m->mig_win[s][t].total;
		}
}

/* Says once that PATH cannot be written (R), and once that it can again.
 * *FAILING is what the previous write did. */
static void said_once(bool *failing, const char *path, int r)
{
	if (r < 0 && !*failing)
		log_warning("cannot write %s: %s; retrying each interval without saying it again, ignoring", path,
			    strerror(-r));
	else if (r >= 0 && *failing)
		log_notice("writing %s again", path);
	*failing = r < 0;
}

/* The stopped form into the file dtierd is leaving (a reload changed the
 * path, or dtierd stops). */
static void prom_retire(Manager *m)
{
	if (!m->prom_path)
		return;
	int r = prom_write_file(m->prom_path, NULL);
	if (r < 0 && !m->prom_failing)
		log_warning("cannot write %s: %s, ignoring", m->prom_path, strerror(-r));
	free(m->prom_path);
	m->prom_path = NULL;
	m->prom_failing = false;
}

static void publish_prom(Manager *m, const DtierdStatus *st)
{
	const char *conf = m->cfg->prometheus_textfile;
	_cleanup_free_ char *want = conf ? manager_run_dir(m->root, conf) : NULL;

	if (conf && !want)
		return;
	if (!want || !m->prom_path || strcmp(want, m->prom_path) != 0) {
		prom_retire(m);
		m->prom_path = TAKE_PTR(want);
	}
	if (m->prom_path)
		said_once(&m->prom_failing, m->prom_path, prom_write_file(m->prom_path, st));
}

void publish_stop(Manager *m)
{
	prom_retire(m);
}

void publish_cleanup(const Config *cfg, const char *root)
{
	if (!cfg || !cfg->prometheus_textfile)
		return;
	_cleanup_free_ char *path = manager_run_dir(root, cfg->prometheus_textfile);
	if (!path || access(path, F_OK) < 0)
		return;
	int r = prom_write_file(path, NULL);
	if (r < 0)
		log_warning("cannot write %s: %s, ignoring", path, strerror(-r));
}

void publish_tick(Manager *m, const HotShare *hs, const CtlDecision *d, const Actuation *a, uint64_t cpu_us)
{
	DtierdStatus *st = calloc(1, sizeof(*st));
	uint64_t now = now_ms();
	CostStats cs = { 0 };

	if (!st)
		return;
	cost_ring_add(&m->cost, now, cpu_us);
	(void)cost_ring_stats(&m->cost, now, &cs);
	m->cost_stats = cs;
	*st = (DtierdStatus){
		.written_realtime_ms = realtime_ms(),
		.written_monotonic_ms = now,
		.pid = (int)getpid(),
		.kdamond = (int)m->damon.kd,
		.kdamond_pid = m->damon.pid,
		.interval_ms = m->cfg->interval_ms,
		.goal_tuner = m->damon.feat.temporal ? STATUS_TUNER_TEMPORAL : STATUS_TUNER_CONSIST,
		.metric = m->cfg->measure.kernel_metric ? STATUS_METRIC_KERNEL : STATUS_METRIC_USERSPACE,
		.filter = m->damon.feat.core_filters ? STATUS_FILTER_CORE : STATUS_FILTER_LEGACY,
		.errors_total = m->errors_total,
	};
	st->measurement.cpu_us_median = cs.median_us;
	st->measurement.cpu_us_max = cs.max_us;
	st->measurement.cpu_us_last = cpu_us;
	st->measurement.err_bp = hs->total ? (unsigned)MIN(hs->err_bytes * 10000 / hs->total, 10000u) : 0;
	st->measurement.pages_read = hs->pages_read;
	st->measurement.source = m->setup.plan.n_levels ? STATUS_SOURCE_LEVELS : STATUS_SOURCE_REGIONS;
	snprintf(st->last_error, sizeof(st->last_error), "%s", m->last_error);
	fill_nodes(m, hs, d, st);
	fill_pairs(m, a, now, st);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", m->run_dir, STATUS_FILE);
	said_once(&m->status_failing, path, status_write(m->run_dir, st));
	publish_prom(m, st);
	free(st);
}
