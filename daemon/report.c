/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "node-info.h"
#include "report.h"

#define MIB ((uint64_t)1024 * 1024)

static int node_of(const Manager *m, size_t i)
{
	return m->cfg->tiers[i].node;
}

void report_config_errors(const ConfigErrors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		log_fields(LOG_ERR, MSGID_CONFIG_REJECTED, FIELDS({ "DTIERD_CONFIG_ERROR", 0, errs->msg[i] }), "%s",
			   errs->msg[i]);
}

void report_node_topology(int node)
{
	NodeTopology t;

	if (node_topology_libnuma(node, &t) < 0)
		return;
	log_fields(LOG_INFO, NULL, FIELDS({ "DTIERD_NODE", node }), "node %d: %" PRIu64 " MiB, %s", node,
		   t.size_bytes / MIB, t.has_cpus ? "with CPUs" : "CPU-less (expander-like)");
}

void report_started(const Manager *m)
{
	log_fields(LOG_NOTICE, MSGID_STARTED, FIELDS({ "DTIERD_KDAMOND_PID", m->damon.pid }),
		   "started kdamond %u (pid %" PRId64 "): %zu tier nodes, %zu regions, %zu schemes, interval %u ms, "
		   "hot memory measured by %s",
		   m->damon.kd, m->damon.pid, m->cfg->n_tiers, m->setup.plan.n_regions, m->setup.plan.n_schemes,
		   m->cfg->interval_ms, m->setup.plan.n_levels ? "level schemes" : "tried regions");
}

/* One node's share in a reached, lost or drifted event. A drift is logged
 * while the hysteresis holds the share without migration, up to twice the
 * band; past the band it is not "within" it, and the line says how far it
 * is (s17-6.12 said "62.92 % still within the band of target 60.00 %"
 * with a 1.5-point band). */
static void report_share(const Manager *m, const CtlDecision *d, size_t i)
{
	bool lost = d->events & CTL_EV_LOST;
	unsigned hot = d->display_bp[i], target = d->target_bp[i];
	unsigned off = (unsigned)abs((int)hot - (int)target);
	const char *what = lost				? "left the band of"
			   : d->events & CTL_EV_REACHED ? "reached"
			   : off <= d->band_bp		? "still within the band of"
							: NULL;

	if (what)
		log_fields(LOG_NOTICE, lost ? MSGID_TARGET_LOST : MSGID_TARGET_REACHED,
			   FIELDS({ "DTIERD_NODE", node_of(m, i) }, { "DTIERD_HOT_BP", hot }, { "DTIERD_TARGET_BP", target }),
			   "node %d: hot share %u.%02u %% %s target %u.%02u %%", node_of(m, i), hot / 100, hot % 100,
			   what, target / 100, target % 100);
	else
		log_fields(LOG_NOTICE, MSGID_TARGET_REACHED,
			   FIELDS({ "DTIERD_NODE", node_of(m, i) }, { "DTIERD_HOT_BP", hot }, { "DTIERD_TARGET_BP", target }),
			   "node %d: hot share %u.%02u %% drifted %u.%02u points from target %u.%02u %% (band %u.%02u; "
			   "migration resumes past %u.%02u)",
			   node_of(m, i), hot / 100, hot % 100, off / 100, off % 100, target / 100, target % 100,
			   d->band_bp / 100, d->band_bp % 100, 2 * d->band_bp / 100, 2 * d->band_bp % 100);
}

void report_events(const Manager *m, const CtlDecision *d)
{
	size_t n = m->cfg->n_tiers;

	if (d->events & CTL_EV_CLAMPED) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			unsigned conf = m->cfg->tiers[i].hot_share_bp;
			if (!d->clamped[i] && d->target_bp[i] == conf)
				continue;
			any = true;
			log_fields(LOG_NOTICE, MSGID_TARGET_CLAMPED,
				   FIELDS({ "DTIERD_NODE", node_of(m, i) }, { "DTIERD_TARGET_BP", d->target_bp[i] },
					  { "DTIERD_CONFIGURED_BP", conf }),
				   "node %d: target %u bp %s to %u bp (%s)", node_of(m, i), conf,
				   d->clamped[i] ? "clamped" : "raised", d->target_bp[i],
				   d->full[i]      ? "DAMON could not migrate more into the node: what it holds"
				   : d->clamped[i] ? "the node cannot hold more of the hot memory"
						   : "taking over what other nodes cannot hold");
		}
		/* The clamp lifted: say so, or the last word would be the clamp. */
		if (!any)
			log_notice("every node can hold its configured share again: targets as configured");
	}
	if (d->events & (CTL_EV_REACHED | CTL_EV_LOST | CTL_EV_DRIFTED)) {
		for (size_t i = 0; i < n; i++)
			report_share(m, d, i);
	}
}

void report_status(const Manager *m, const CtlDecision *d)
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

/* Per-interval numbers, at debug level only. */
void report_debug(const Manager *m, const HotShare *hs, const CtlDecision *d)
{
	size_t n = m->cfg->n_tiers;

	if (log_get_max_level() < LOG_DEBUG)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t moved_in = 0;
		for (size_t s = 0; s < n; s++)
			moved_in += d->moved[s][i];
		log_fields(LOG_DEBUG, NULL,
			   FIELDS({ "DTIERD_NODE", node_of(m, i) }, { "DTIERD_HOT_BP", d->estimate_bp[i] },
				  { "DTIERD_TARGET_BP", d->target_bp[i] }, { "DTIERD_MIGRATED_BYTES", (long long)moved_in },
				  { "DTIERD_CPU_US", (long long)m->cost_stats.last_us },
				  { "DTIERD_CPU_MEDIAN_US", (long long)m->cost_stats.median_us },
				  { "DTIERD_CPU_MAX_US", (long long)m->cost_stats.max_us }),
			   "node %d: hot %" PRIu64 " KiB measured %u bp estimate %u bp target %u bp, moved in %" PRIu64
			   " KiB; total %" PRIu64 " KiB +-%" PRIu64 " KiB, %zu regions, %" PRIu64 " pages read; cpu %" PRIu64
			   " us (last minute: median %" PRIu64 ", max %" PRIu64 ")",
			   node_of(m, i), hs->hot_bytes[i] / 1024, d->measured_bp[i], d->estimate_bp[i], d->target_bp[i],
			   moved_in / 1024, hs->total / 1024, hs->err_bytes / 1024, hs->n_regions, hs->pages_read,
			   m->cost_stats.last_us, m->cost_stats.median_us, m->cost_stats.max_us);
	}
}

void report_targets_changed(const Config *old, const Config *nc)
{
	for (size_t i = 0; i < nc->n_tiers && i < old->n_tiers; i++) {
		unsigned was = old->tiers[i].hot_share_bp, now = nc->tiers[i].hot_share_bp;
		if (was == now)
			continue;
		log_fields(LOG_NOTICE, NULL,
			   FIELDS({ "DTIERD_NODE", nc->tiers[i].node }, { "DTIERD_TARGET_BP", now },
				  { "DTIERD_PREVIOUS_TARGET_BP", was }),
			   "reload: node %d target %u bp -> %u bp", nc->tiers[i].node, was, now);
	}
}

void report_kdamond_stopped(const Manager *m, const char *during)
{
	log_fields(LOG_ERR, MSGID_KDAMOND_STOPPED,
		   FIELDS({ "DTIERD_KDAMOND", m->damon.kd }, { "DTIERD_KDAMOND_PID", m->damon.pid }),
		   "kdamond %u (pid %" PRId64 ") stopped by itself%s%s (another tool turned it off, or the kernel "
		   "rejected a commit: before 6.18 that stops the kdamond)",
		   m->damon.kd, m->damon.pid, during[0] ? " " : "", during);
}

void report_giving_up(const Manager *m, int r)
{
	log_fields(LOG_ERR, MSGID_GIVING_UP, FIELDS({ "DTIERD_FAILURES", m->failures }),
		   "%u control intervals in a row failed (last: %s), giving up", m->failures, strerror(-r));
}

void report_reload(const Manager *m, int r)
{
	if (r >= 0)
		log_fields(LOG_NOTICE, MSGID_RELOAD_ACCEPTED, FIELDS({ "DTIERD_CONFIG_FILE", 0, m->cfg->path }),
			   r > 0 ? "reload: applied %s, a new DAMON plan committed to the running kdamond %u"
				 : "reload: applied %s, new targets and limits from the next interval (kdamond %u keeps "
				   "its schemes)",
			   m->cfg->path, m->damon.kd);
	else
		log_fields(LOG_ERR, MSGID_RELOAD_REJECTED, FIELDS({ "DTIERD_CONFIG_FILE", 0, m->cfg->path }),
			   "reload rejected, still running the previous configuration of %s", m->cfg->path);
}
