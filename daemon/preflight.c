/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Before dtierd changes anything: is DAMON there, are the tier nodes there,
 * is anything of someone else's in the way, and what did a dead dtierd leave
 * behind (removed only if provably its own). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "coexist.h"
#include "log.h"
#include "manager.h"
#include "report.h"
#include "runstate.h"
#include "topology.h"
#include "util.h"

bool manager_pid_is_dtierd(int pid)
{
	char path[64], comm[64] = "";

	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, comm, sizeof(comm) - 1);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return strncmp(comm, "dtierd", 6) == 0;
}

/* A previous instance that died without cleaning up (SIGKILL, crash, a
 * watchdog abort) leaves its kdamond and its record behind. */
int manager_recover(Sysfs *fs, const char *run_dir)
{
	RunState st;
	Damon d;
	int r;

	r = runstate_read(run_dir, &st);
	if (r == -ENOENT)
		return 0;
	if (r == -EPERM) {
		log_error("%s/state or its directory is not a plain file/directory of root's; not trusting it, "
			  "not touching any kdamond", run_dir);
		return -EPERM;
	}
	if (r < 0) {
		log_warning("%s/state is unreadable (%s); not touching any kdamond, removing it", run_dir, strerror(-r));
		(void)runstate_remove(run_dir);
		return 0;
	}
	if (st.pid != getpid() && manager_pid_is_dtierd(st.pid)) {
		log_error("another dtierd (pid %d) is running and owns kdamond %d (%s/state)", (int)st.pid, st.kdamond,
			  run_dir);
		return -EALREADY;
	}
	if (st.kdamond >= 0) {
		r = damon_adopt(&d, fs, (unsigned)st.kdamond, st.kdamond_pid, st.created_kdamonds, st.digest);
		if (r == -EPERM) {
			log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
				   "kdamond %d, recorded by dtierd pid %d in %s/state, is not the one it staged (another "
				   "configuration or kernel thread): leaving it alone; remove it by hand, then %s/state",
				   st.kdamond, (int)st.pid, run_dir, run_dir);
			return -EPERM;
		}
		if (r < 0 && r != -ENOENT) {
			log_error("cannot inspect kdamond %d left by dtierd pid %d: %s", st.kdamond, (int)st.pid,
				  strerror(-r));
			return r;
		}
		if (r == 0) {
			r = damon_teardown(&d);
			if (r < 0) {
				log_error("cannot remove kdamond %d left by dtierd pid %d: %s", st.kdamond, (int)st.pid,
					  strerror(-r));
				return r;
			}
			log_notice("removed kdamond %d left behind by dtierd pid %d", st.kdamond, (int)st.pid);
		}
	}
	if (st.damon_stat_taken) {
		r = damon_module_set_enabled(fs, DAMON_MOD_STAT, true);
		if (r < 0) {
			log_error("cannot turn damon_stat back on: %s", strerror(-r));
			return r;
		}
		log_notice("turned damon_stat back on (dtierd pid %d had turned it off)", (int)st.pid);
	}
	return runstate_remove(run_dir);
}

int preflight_check_kernel(Manager *m)
{
	int r;

	if (damon_available(&m->fs) < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NO_FIELDS,
			   "DAMON sysfs interface not found (%s/sys/kernel/mm/damon/admin/kdamonds): kernel too old or "
			   "built without CONFIG_DAMON_SYSFS; dtierd needs Linux 6.11+ with DAMON",
			   m->real_root ? "" : m->root);
		return EXIT_KERNEL;
	}
	r = node_map_load(&m->fs, &m->map);
	if (r < 0) {
		log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NO_FIELDS,
			   "cannot read the memory-block node map (/sys/devices/system/memory, /sys/devices/system/node): %s",
			   strerror(-r));
		return EXIT_KERNEL;
	}
	if (m->cfg->n_tiers == 0 && manager_default_tiers(&m->fs, m->cfg) < 0)
		return EXIT_CONFIG;
	for (size_t i = 0; i < m->cfg->n_tiers; i++) {
		int node = m->cfg->tiers[i].node;
		if (node_map_node_bytes(&m->map, node) == 0) {
			log_fields(LOG_ERR, MSGID_KERNEL_FEATURE, NO_FIELDS,
				   "%s: tiers[%zu].node = %d has no online memory blocks under /sys/devices/system/node/node%d",
				   m->cfg->path, i, node, node);
			return EXIT_KERNEL;
		}
		/* libnuma reads the real /sys only. */
		if (m->real_root)
			report_node_topology(node);
	}
	/* NUMA balancing and demotion move the same pages by their own
	 * rules: say so, and go on (the operator decides). */
	Coexist cx;
	if (coexist_check(&m->fs, &cx) == 0)
		for (size_t i = 0; i < cx.n_msgs; i++)
			log_warning("%s", cx.msgs[i]);
	return EXIT_OK;
}

static const char *default_tiers_refusal(int r)
{
	switch (r) {
	case -ENODEV:
		return "fewer than two NUMA nodes have memory";
	case -EINVAL:
		return "nothing tells the fast nodes from the slow ones";
	case -E2BIG:
		return "there are more memory nodes than dtierd can tier";
	default:
		return strerror(-r);
	}
}

int manager_default_tiers(const Sysfs *fs, Config *cfg)
{
	Topology *t = NULL;
	TopologyWarnings w;
	char layout[512];
	size_t o = 0;

	int r = topology_load(fs, &t);
	if (r < 0) {
		log_error("%s: no tiers set, and the NUMA topology (/sys/devices/system/node) cannot be read: %s",
			  cfg->path, strerror(-r));
		return r;
	}
	r = topology_default_tiers(t, cfg->tiers, &cfg->n_tiers, &w);
	/* Refused, the error line says why; the warnings are for a layout
	 * taken. */
	for (size_t i = 0; r == 0 && i < w.n; i++)
		log_warning("%s", w.msg[i]);
	for (size_t i = 0; r == 0 && i < cfg->n_tiers; i++) {
		const TopologyNode *n = topology_node(t, cfg->tiers[i].node);
		o += (size_t)snprintf(layout + o, sizeof(layout) - MIN(o, sizeof(layout)), "%s node %d (%s) %u.%02u %%",
				      i ? "," : "", cfg->tiers[i].node, n && n->n_cpus ? "CPUs" : "CPU-less",
				      cfg->tiers[i].hot_share_bp / 100, cfg->tiers[i].hot_share_bp % 100);
	}
	topology_free(t);
	if (r < 0) {
		cfg->n_tiers = 0;
		log_error("%s: no tiers set, and %s: name them in the configuration (see dtierd --show-topology)",
			  cfg->path, default_tiers_refusal(r));
		return r;
	}
	log_info("%s: no tiers set; from the topology, the hot memory's targets are:%s", cfg->path, layout);
	return 0;
}

/* Refuse before writing anything if the tree is someone else's. */
int preflight_check_foreign(Manager *m)
{
	char desc[256];
	int r = damon_check_foreign(&m->fs, desc, sizeof(desc));

	if (r == -EEXIST) {
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
			   "refusing to start: %s; dtierd never modifies, stops or renumbers a kdamond it did not create",
			   desc);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		log_error("cannot read DAMON state under /sys/kernel/mm/damon/admin/kdamonds: %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* DAMON_RECLAIM, DAMON_LRU_SORT and DAMON_STAT start their contexts
 * exclusively: while one runs, `on` of a sysfs kdamond fails with EBUSY.
 * Decide for every module before changing any: a refusal must leave
 * DAMON_STAT as it was. */
int preflight_check_modules(Manager *m, bool *ret_take)
{
	bool take = false;

	for (unsigned mod = 0; mod < _DAMON_MOD_MAX; mod++) {
		if (damon_module_enabled(&m->fs, mod) <= 0)
			continue;
		const char *name = damon_module_name(mod);
		if (mod == DAMON_MOD_STAT && m->cfg->damon_stat_takeover) {
			take = true;
			continue;
		}
		log_fields(LOG_ERR, MSGID_FOREIGN_DAMON, NO_FIELDS,
			   "%s is running and keeps DAMON sysfs kdamonds from starting; turn it off with "
			   "'echo N > /sys/module/%s/parameters/enabled'%s",
			   name, name, mod == DAMON_MOD_STAT ? " or set damon_stat_takeover = true; in the config" : "");
		return EXIT_REFUSED;
	}
	*ret_take = take;
	return EXIT_OK;
}

/* The record already says damon_stat_taken (the caller wrote it first). */
int preflight_take_damon_stat(Manager *m)
{
	int r = damon_module_set_enabled(&m->fs, DAMON_MOD_STAT, false);

	if (r < 0) {
		log_error("cannot turn damon_stat off (/sys/module/damon_stat/parameters/enabled): %s", strerror(-r));
		return EXIT_RUNTIME;
	}
	log_notice("turned damon_stat off for dtierd's lifetime (damon_stat_takeover = true); it is turned back on at exit");
	return EXIT_OK;
}
