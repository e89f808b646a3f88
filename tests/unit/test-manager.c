/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The real manager (daemon/manager.c, preflight.c, reload.c) driven against
 * the emulated DAMON tree (fake-damon.c) over the two-node fixture: start,
 * ticks, teardown, recovery, adoption and reload, and every way dtierd could
 * touch DAMON state that is not its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-damon.h"
#include "log.h"
#include "manager.h"
#include "runstate.h"
#include "status.h"
#include "test-util.h"
#include "util.h"

#define K0 "kdamonds/0"
#define STAT "sys/module/damon_stat/parameters/enabled"

typedef struct Env {
	FakeDamon f;
	sd_event *event;
	Manager m;
	bool started;
	char run_dir[PATH_MAX];
	char conf[PATH_MAX];
	int notify_fd;
	/* Checks run inside the write hook (what was recorded before a
	 * write that changes the kernel's state). */
	SysfsWriteHook fake_hook;
	unsigned n_intent_checks, n_intent_missing;
} Env;

/* EBUSY on reads: a read hook that fails the next read_busy_left reads of
 * a path ending in read_busy_suffix (DAMON's `pid` and `state` handlers
 * take a trylock and return EBUSY). */
static char read_busy_suffix[64];
static unsigned read_busy_left, read_busy_hits;

static int busy_read_hook(void *userdata, const char *path)
{
	size_t n = strlen(path), k = strlen(read_busy_suffix);

	(void)userdata;
	if (read_busy_left > 0 && k && n >= k && strcmp(path + n - k, read_busy_suffix) == 0) {
		read_busy_left--;
		read_busy_hits++;
		return -EBUSY;
	}
	return 0;
}

/* What the daemon logged, through log.c's sink: the message, its
 * MESSAGE_ID and its fields as "KEY=value\n" lines. */
typedef struct Logged {
	int level;
	char msgid[40];
	char msg[1024];
	char fields[1024];
} Logged;

#define LOGGED_MAX 512
static Logged logged[LOGGED_MAX];
static size_t n_logged;

static void record_log(void *userdata, int level, const char *msgid, const LogField *f, size_t n, const char *msg)
{
	(void)userdata;
	if (n_logged == LOGGED_MAX)
		return;
	Logged *l = &logged[n_logged++];
	size_t o = 0;
	*l = (Logged){ .level = level };
	snprintf(l->msgid, sizeof(l->msgid), "%s", msgid ? msgid : "");
	snprintf(l->msg, sizeof(l->msg), "%s", msg);
	for (size_t i = 0; i < n && o < sizeof(l->fields); i++)
		o += (size_t)(f[i].str ? snprintf(l->fields + o, sizeof(l->fields) - o, "%s=%s\n", f[i].key, f[i].str)
				       : snprintf(l->fields + o, sizeof(l->fields) - o, "%s=%lld\n", f[i].key,
						  f[i].value));
}

/* The first entry from FROM on with MESSAGE_ID MSGID ("" for none, NULL for
 * any) whose message contains NEEDLE (NULL: any), or NULL. */
static const Logged *find_logged(size_t from, const char *msgid, const char *needle)
{
	for (size_t i = from; i < n_logged; i++)
		if ((!msgid || strcmp(logged[i].msgid, msgid) == 0) && (!needle || strstr(logged[i].msg, needle)))
			return &logged[i];
	return NULL;
}

static size_t count_logged(size_t from, const char *msgid, const char *needle)
{
	size_t k = 0;
	for (const Logged *l = find_logged(from, msgid, needle); l; l = find_logged((size_t)(l - logged) + 1, msgid, needle))
		k++;
	return k;
}

static void assert_field(const Logged *l, const char *key_value)
{
	char line[256];

	assert_non_null(l);
	snprintf(line, sizeof(line), "%s\n", key_value);
	if (!strstr(l->fields, line))
		fail_msg("'%s' lacks field %s (has: %s)", l->msg, key_value, l->fields);
}

static const char *conf_hot(const char *extra, unsigned share0, unsigned hot_percent)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "interval_ms = 1000;\n"
		 "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		 "hot = { min_access_percent = %u; };\n"
		 "migration = { max_mib_per_s = 256; };\n"
		 "tiers = ( { node = 0; hot_share_bp = %u; }, { node = 1; hot_share_bp = %u; } );\n"
		 "run_dir = \"/run/dtierd-unit\";\n%s",
		 hot_percent, share0, 10000 - share0, extra ? extra : "");
	return buf;
}

static const char *conf_text(const char *extra, unsigned share0)
{
	return conf_hot(extra, share0, 5);
}

static void write_conf(Env *e, const char *text)
{
	tu_write(e->f.root, "dtierd.conf", "%s", text);
}

static int setup(void **state)
{
	Env *e = calloc(1, sizeof(*e));
	char cmd[2 * PATH_MAX];

	fake_damon_init(&e->f, &FAKE_DAMON_7_3);
	tu_mkdirs(e->f.root, "run");
	snprintf(cmd, sizeof(cmd), "cp -a '%s/sys/devices' '%s/sys/'", tu_fixture("node-map-two-nodes"), e->f.root);
	assert_int_equal(system(cmd), 0);
	/* --root moves run_dir under the root (item 10). */
	snprintf(e->run_dir, sizeof(e->run_dir), "%s/run/dtierd-unit", e->f.root);
	snprintf(e->conf, sizeof(e->conf), "%s/dtierd.conf", e->f.root);
	write_conf(e, conf_text(NULL, 6000));
	assert_int_equal(sd_event_new(&e->event), 0);
	e->notify_fd = -1;
	n_logged = 0;
	log_set_sink(record_log, NULL);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	Env *e = *state;
	if (e->started)
		(void)manager_stop(&e->m);
	log_set_sink(NULL, NULL);
	sd_event_unref(e->event);
	if (e->notify_fd >= 0)
		close(e->notify_fd);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	fake_damon_free(&e->f);
	free(e);
	return 0;
}

static int start(Env *e)
{
	ConfigErrors errs = { 0 };
	Config *cfg = NULL;

	assert_int_equal(config_load(e->conf, &cfg, &errs), 0);
	int r = manager_start_with(&e->m, cfg, e->f.root, &e->f.fs, e->event);
	e->started = r == EXIT_OK;
	return r;
}

static void start_ok(Env *e)
{
	assert_int_equal(start(e), EXIT_OK);
	fake_damon_settle(&e->f);
}

static int tick(Env *e)
{
	int r = manager_tick(&e->m);
	fake_damon_settle(&e->f);
	return r;
}

static int stop(Env *e)
{
	e->started = false;
	return manager_stop(&e->m);
}

static bool have_record(Env *e)
{
	char p[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/state", e->run_dir);
	return access(p, F_OK) == 0;
}

static void put_record(Env *e, const RunState *s)
{
	assert_int_equal(runstate_write(e->run_dir, s), 0);
}

/* A child that waits until killed, and dies with the test (a failed
 * assertion must not leave it behind, holding the test's output open). */
static pid_t waiting_child(const char *comm)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_RDWR);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (comm)
			prctl(PR_SET_NAME, comm);
		pause();
		_exit(0);
	}
	usleep(20000);
	return p;
}

/* A pid that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

/* --- the ordinary life ---------------------------------------------------- */

static void test_start_tick_stop(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_string_equal(fake_damon_get(f, K0 "/state"), "on");
	assert_string_equal(fake_damon_get(f, K0 "/contexts/0/operations"), "paddr");
	/* stat + 2 pair schemes + the pulse + 20 level schemes per node
	 * (measure.source = "auto" on a kernel with damos_walk). */
	assert_string_equal(fake_damon_get(f, K0 "/contexts/0/schemes/nr_schemes"), "44");
	assert_true(have_record(e));
	assert_int_equal(tick(e), 0);
	/* The first interval arms the pair schemes with a full commit. */
	assert_int_equal(f->n_commits, 1);
	assert_int_equal(tick(e), 0);
	assert_int_equal(f->n_commits, 1);
	assert_int_equal(f->n_goal_commits, 1);
	assert_int_equal(stop(e), 0);
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "0");
	assert_false(have_record(e));
}

/* Item 10: with --root, run_dir is under the root, never the host's. */
static void test_root_moves_run_dir(void **state)
{
	Env *e = *state;

	start_ok(e);
	assert_true(have_record(e));
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_int_equal(s.pid, getpid());
	assert_int_equal(s.kdamond, 0);
	assert_true(s.kdamond_pid == 4242);
}

/* --- item 1: someone else's kdamond at our index --------------------------- */

static void test_foreign_kdamond_at_our_index(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	/* Another tool stops ours and starts its own at index 0. */
	fake_damon_put(f, K0 "/pid", "7777");
	fake_damon_log_clear(f);
	int r = tick(e);
	assert_int_equal(r, -EPERM);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(stop(e), -EPERM);
	/* Nothing written into it, nothing torn down. */
	assert_int_equal(f->n_log, 0);
	assert_string_equal(fake_damon_get(f, K0 "/state"), "on");
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "1");
}

/* --- item 2: adopt only what is provably ours ----------------------------- */

static void test_recover_leaves_someones_staged_context(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	/* A stale record of a dead dtierd, and someone's staged vaddr
	 * context at the recorded index. */
	put_record(e, &(RunState){ .pid = dead_pid(), .kdamond = 0, .kdamond_pid = 4242, .created_kdamonds = true });
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 1);
	fake_damon_set_nr(f, K0 "/contexts/nr_contexts", 1);
	fake_damon_set_nr(f, K0 "/contexts/0/targets/nr_targets", 1);
	fake_damon_log_clear(f);
	assert_int_equal(manager_recover(&f->fs, e->run_dir), -EPERM);
	assert_int_equal(f->n_log, 0);
	assert_string_equal(fake_damon_get(f, K0 "/contexts/nr_contexts"), "1");
	/* And start refuses it. */
	assert_int_equal(start(e), EXIT_REFUSED);
	assert_int_equal(f->n_log, 0);
}

static void test_create_refuses_empty_foreign_kdamond(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	/* An empty stopped kdamond 0 that someone created. */
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 1);
	fake_damon_log_clear(f);
	assert_int_equal(start(e), EXIT_REFUSED);
	assert_int_equal(f->n_log, 0);
	assert_false(have_record(e));
}

static void test_recover_own_crashed_kdamond(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	RunState s;

	/* A dtierd that was SIGKILLed: its kdamond runs, its record stays. */
	start_ok(e);
	assert_int_equal(tick(e), 0);
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	s.pid = dead_pid();
	put_record(e, &s);
	e->started = false; /* forget it, like a crash */

	assert_int_equal(manager_recover(&f->fs, e->run_dir), 0);
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "0");
	assert_false(have_record(e));
	/* The Manager of the "crashed" instance is not stopped: free it. */
	e->m.damon = (Damon){ 0 };
	(void)manager_stop(&e->m);
}

/* --- item 3: the record goes only when everything was undone -------------- */

static void test_teardown_busy_keeps_record(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	write_conf(e, conf_text("damon_stat_takeover = true;\n", 6000));
	fake_damon_put(f, STAT, "Y");
	/* DAMON_STAT is off while dtierd runs; the fake's `on` is EBUSY
	 * while it is on. */
	start_ok(e);
	assert_string_equal(fake_damon_get(f, STAT), "N");
	assert_int_equal(tick(e), 0);

	/* `off` stays EBUSY through every retry. */
	snprintf(f->busy_suffix, sizeof(f->busy_suffix), K0 "/state");
	f->busy_left = 1000;
	assert_int_equal(stop(e), -EBUSY);
	assert_string_equal(fake_damon_get(f, K0 "/state"), "on");
	assert_true(have_record(e));
	/* DAMON_STAT stays off: turning it on would fail against a running
	 * kdamond anyway, and --cleanup restores it with the record. */
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_true(s.damon_stat_taken);

	/* --cleanup retries, once the lock is free. */
	f->busy_left = 0;
	assert_int_equal(manager_recover(&f->fs, e->run_dir), 0);
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "0");
	assert_string_equal(fake_damon_get(f, STAT), "Y");
	assert_false(have_record(e));
}

static void test_stat_restore_failure_keeps_record(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	write_conf(e, conf_text("damon_stat_takeover = true;\n", 6000));
	fake_damon_put(f, STAT, "Y");
	start_ok(e);
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "damon_stat/parameters/enabled");
	f->fail_errno = EIO;
	assert_int_equal(stop(e), -EIO);
	assert_true(have_record(e));
	f->fail_suffix[0] = '\0';
	assert_int_equal(manager_recover(&f->fs, e->run_dir), 0);
	assert_string_equal(fake_damon_get(f, STAT), "Y");
	assert_false(have_record(e));
}

/* --- item 4: intent is recorded before every change ----------------------- */

static int intent_hook(void *userdata, const char *path, const char *value)
{
	Env *e = userdata;
	size_t n = strlen(path);
	RunState s;

	bool stat_off = n > 8 && strstr(path, "damon_stat/parameters/enabled") && value[0] == 'N';
	bool create = strstr(path, "kdamonds/nr_kdamonds") && value[0] == '1';
	bool on = strstr(path, "kdamonds/0/state") && strcmp(value, "on") == 0;
	if (stat_off || create || on) {
		e->n_intent_checks++;
		if (runstate_read(e->run_dir, &s) < 0 || (stat_off && !s.damon_stat_taken) ||
		    ((create || on) && s.kdamond != 0) || (create && !s.created_kdamonds))
			e->n_intent_missing++;
	}
	return e->fake_hook(&e->f, path, value);
}

static void test_intent_recorded_before_changes(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	write_conf(e, conf_text("damon_stat_takeover = true;\n", 6000));
	fake_damon_put(f, STAT, "Y");
	e->fake_hook = f->fs.write_hook;
	f->fs.write_hook = intent_hook;
	f->fs.hook_data = e;
	start_ok(e);
	assert_int_equal(e->n_intent_checks, 3);
	assert_int_equal(e->n_intent_missing, 0);
	f->fs.write_hook = e->fake_hook;
	f->fs.hook_data = f;
}

static void test_unwritable_record_stops_start(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	/* run_dir's parent is missing: the record cannot be written. */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/run", f->root);
	assert_int_equal(rmdir(p), 0);
	fake_damon_log_clear(f);
	assert_int_equal(start(e), EXIT_RUNTIME);
	assert_int_equal(f->n_log, 0);
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "0");
}

/* measure.metric = "kernel" on a kernel without node_eligible_mem_bp (the
 * 6.12 shape): start says so, naming the file and the key, exits 4 and
 * leaves no kdamond behind. */
static void test_kernel_metric_missing(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	f->shape = &FAKE_DAMON_6_12;
	write_conf(e, conf_text("measure = { metric = \"kernel\"; };\n", 6000));
	size_t from = n_logged;
	assert_int_equal(start(e), EXIT_KERNEL);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s: measure.metric = \"kernel\" needs", e->conf);
	const Logged *l = find_logged(from, MSGID_KERNEL_FEATURE, want);
	assert_int_equal(l->level, LOG_ERR);
	assert_string_equal(fake_damon_get(f, "kdamonds/nr_kdamonds"), "0");
	assert_false(have_record(e));
}

/* The same by reload: refused, the running plan kept. */
static void test_reload_kernel_metric_missing(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	f->shape = &FAKE_DAMON_6_12;
	start_ok(e);
	assert_int_equal(tick(e), 0);
	write_conf(e, conf_text("measure = { metric = \"kernel\"; };\n", 6000));
	fake_damon_log_clear(f);
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_non_null(find_logged(from, MSGID_KERNEL_FEATURE, NULL));
	assert_non_null(find_logged(from, MSGID_RELOAD_REJECTED, "reload rejected, still running the previous"));
	assert_int_equal(f->n_log, 0);
	assert_false(e->m.cfg->measure.kernel_metric);
	assert_int_equal(tick(e), 0);
}

/* A reload to measure.metric = "kernel" (7.3 shape): a new plan whose
 * pairs chase the kernel's metric of their destination; from then on
 * dtierd writes their targets and never their current values. */
static void test_reload_to_kernel_metric(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	write_conf(e, conf_text("measure = { metric = \"kernel\"; };\n", 6000));
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_non_null(find_logged(from, MSGID_RELOAD_ACCEPTED, "a new DAMON plan committed"));
	for (int d = 0; d <= 1; d++) {
		char p[128];
		int i = e->m.setup.act.pair_scheme[1 - d][d];
		snprintf(p, sizeof(p), K0 "/contexts/0/schemes/%d/quotas/goals/0/target_metric", i);
		assert_string_equal(fake_damon_get(f, "%s", p), "node_eligible_mem_bp");
		snprintf(p, sizeof(p), K0 "/contexts/0/schemes/%d/quotas/goals/0/nid", i);
		assert_string_equal(fake_damon_get(f, "%s", p), d == 1 ? "1" : "0");
	}
	fake_damon_log_clear(f);
	assert_int_equal(tick(e), 0);
	assert_int_equal(fake_damon_log_count(f, 0, "goals/0/current_value"), 0);
	assert_true(fake_damon_log_count(f, 0, "goals/0/target_value") > 0);
	/* dtierctl status says whose metric it is. */
	DtierdStatus *st = calloc(1, sizeof(*st));
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", e->run_dir, STATUS_FILE);
	assert_int_equal(status_read(path, st), 0);
	assert_int_equal(st->metric, STATUS_METRIC_KERNEL);
	free(st);
}

/* Another dtierd runs: start refuses and leaves its record alone. */
static void test_other_dtierd_running(void **state)
{
	Env *e = *state;
	pid_t child = waiting_child("dtierd");

	put_record(e, &(RunState){ .pid = child, .kdamond = 0, .kdamond_pid = 4242, .created_kdamonds = true });
	fake_damon_log_clear(&e->f);
	assert_int_equal(start(e), EXIT_REFUSED);
	assert_int_equal(e->f.n_log, 0);
	assert_true(have_record(e));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* --- item 6: --reload signals only a dtierd ------------------------------- */

static void test_request_reload_unrelated_pid(void **state)
{
	Env *e = *state;
	pid_t child = waiting_child(NULL);

	put_record(e, &(RunState){ .pid = child, .kdamond = 0, .kdamond_pid = 4242 });
	assert_int_equal(manager_request_reload(e->run_dir, 0, 200), -ESRCH);
	usleep(20000);
	int status;
	assert_int_equal(waitpid(child, &status, WNOHANG), 0); /* still alive */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* --- item 8: the watchdog follows the loop -------------------------------- */

static void test_watchdog_follows_event_loop(void **state)
{
	Env *e = *state;
	char pid[32];

	/* A one-hour interval is valid; the watchdog must not depend on it. */
	write_conf(e, conf_text(NULL, 6000));
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_USEC", "10000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	start_ok(e);
	assert_int_equal(sd_event_get_watchdog(e->event), 1);
}

/* --- the tick's failure counter ------------------------------------------- */

static void test_tick_failures_then_give_up(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	snprintf(f->busy_suffix, sizeof(f->busy_suffix), K0 "/state");
	f->busy_left = 100000;
	for (unsigned i = 1; i < MANAGER_MAX_FAILURES; i++) {
		assert_int_equal(manager_on_tick_result(&e->m, tick(e)), 0);
		assert_int_equal(e->m.failures, i);
	}
	assert_null(find_logged(0, MSGID_GIVING_UP, NULL));
	/* The tenth in a row ends the loop with EXIT_RUNTIME. */
	assert_int_equal(manager_on_tick_result(&e->m, tick(e)), EXIT_RUNTIME);
	const Logged *l = find_logged(0, MSGID_GIVING_UP, "10 control intervals in a row failed (last: ");
	assert_int_equal(l->level, LOG_ERR);
	assert_field(l, "DTIERD_FAILURES=10");
	assert_int_equal(count_logged(0, MSGID_GIVING_UP, NULL), 1);
	/* One good interval resets the count. */
	f->busy_left = 0;
	e->m.failures = 3;
	assert_int_equal(manager_on_tick_result(&e->m, tick(e)), 0);
	assert_int_equal(e->m.failures, 0);
}

/* EBUSY on reading `pid`: retried; past the retries the interval fails
 * before writing anything, and the counter counts it. */
static void test_tick_read_ebusy(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	f->fs.read_hook = busy_read_hook;
	start_ok(e);
	assert_int_equal(tick(e), 0);
	snprintf(read_busy_suffix, sizeof(read_busy_suffix), K0 "/pid");
	read_busy_left = 2;
	read_busy_hits = 0;
	assert_int_equal(tick(e), 0);
	assert_int_equal(read_busy_hits, 2);

	read_busy_left = 1000;
	fake_damon_log_clear(f);
	int r = tick(e);
	assert_int_equal(r, -EBUSY);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(manager_on_tick_result(&e->m, r), 0);
	assert_int_equal(e->m.failures, 1);
	read_busy_left = 0;
	assert_int_equal(manager_on_tick_result(&e->m, tick(e)), 0);
	assert_int_equal(e->m.failures, 0);
	read_busy_suffix[0] = '\0';
}

/* --- tiers from the topology --------------------------------------------- */

static const char *const CONF_NO_TIERS = "migration = { max_mib_per_s = 256; };\n"
					 "run_dir = \"/run/dtierd-unit\";\n";

/* No `tiers`: node 0 (CPUs) is the fast tier, node 1 (CPU-less) the slow
 * one, and all the hot memory is wanted on node 0. */
static void test_no_tiers_from_topology(void **state)
{
	Env *e = *state;

	write_conf(e, CONF_NO_TIERS);
	start_ok(e);
	assert_int_equal(e->m.cfg->n_tiers, 2);
	assert_int_equal(e->m.ctl.p.node[0], 0);
	assert_int_equal(e->m.ctl.p.target_bp[0], 10000);
	assert_int_equal(e->m.ctl.p.node[1], 1);
	assert_int_equal(e->m.ctl.p.target_bp[1], 0);
	assert_non_null(find_logged(0, NULL, "no tiers set; from the topology, the hot memory's targets are: "
					     "node 0 (CPUs) 100.00 %, node 1 (CPU-less) 0.00 %"));
	/* Stat + a pair scheme each way + the pulse + the level schemes. */
	assert_string_equal(fake_damon_get(&e->f, K0 "/contexts/0/schemes/nr_schemes"), "44");
	assert_int_equal(tick(e), 0);

	/* A reload to named tiers and back. */
	write_conf(e, conf_text(NULL, 6000));
	manager_reload(&e->m);
	assert_int_equal(e->m.ctl.p.target_bp[0], 6000);
	write_conf(e, CONF_NO_TIERS);
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_int_equal(e->m.ctl.p.target_bp[0], 10000);
	assert_null(find_logged(from, MSGID_RELOAD_REJECTED, NULL));
}

/* Every memory node has CPUs: nothing tells fast from slow. One error
 * naming the file, and nothing created. */
static void test_no_tiers_cannot_tell(void **state)
{
	Env *e = *state;

	tu_write(e->f.root, "sys/devices/system/node/node1/cpulist", "1\n");
	write_conf(e, CONF_NO_TIERS);
	assert_int_equal(start(e), EXIT_CONFIG);
	char msg[PATH_MAX + 128];
	snprintf(msg, sizeof(msg), "%s: no tiers set, and nothing tells the fast nodes from the slow ones", e->conf);
	const Logged *l = find_logged(0, NULL, msg);
	assert_non_null(l);
	assert_int_equal(l->level, LOG_ERR);
	assert_int_equal(count_logged(0, NULL, "no tiers set"), 1);
	assert_string_equal(fake_damon_get(&e->f, "kdamonds/nr_kdamonds"), "0");
	assert_false(have_record(e));
}

/* --- an update that does not answer ---------------------------------------- */

static size_t count_writes(const FakeDamon *f, const char *value)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_log; i++)
		n += strcmp(f->log[i].value, value) == 0;
	return n;
}

/* Node NODE's entry in the status.json dtierd last wrote. */
static StatusNode status_node(Env *e, size_t node)
{
	char p[PATH_MAX + 16];
	DtierdStatus st;

	snprintf(p, sizeof(p), "%s/" STATUS_FILE, e->run_dir);
	assert_int_equal(status_read(p, &st), 0);
	assert_true(node < st.n_nodes);
	return st.nodes[node];
}

static uint64_t status_hot_kib(Env *e, size_t node)
{
	return status_node(e, node).hot_bytes / 1024;
}

static unsigned status_share(Env *e, size_t node)
{
	return status_node(e, node).share_bp;
}

#define MIB_ (UINT64_C(1) << 20)

/* 48 MiB hot on node 0, 16 MiB on node 1 (the fixture: 128 MiB blocks,
 * 0-7 on node 0, 8-15 on node 1); started, one interval: 75 %. */
static void start_with_hot_regions(Env *e)
{
	FakeDamon *f = &e->f;

	/* The regions source; scheme 0's counters as each test sets them. */
	write_conf(e, conf_text("measure = { source = \"regions\"; };\n", 6000));
	f->passes_per_update = 0;
	f->n_tried = 2;
	f->tried[0].start = 16 * MIB_;
	f->tried[0].end = 64 * MIB_;
	f->tried[1].start = 8 * 128 * MIB_;
	f->tried[1].end = 8 * 128 * MIB_ + 16 * MIB_;
	for (size_t i = 0; i < 2; i++) {
		f->tried[i].nr_accesses = 20;
		f->tried[i].age = 100;
	}
	start_ok(e);
	f->sz_tried[0] = 64 * MIB_;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_share(e, 0), 7500);
}

/* start_with_hot_regions, then the second interval (the first measurement
 * that has one before it) decides a push from node 0: 75 % for 60 %. */
static void start_pushing(Env *e)
{
	start_with_hot_regions(e);
	e->f.sz_tried[0] += 64 * MIB_;
	assert_int_equal(tick(e), 0);
	assert_int_not_equal(e->m.act.committed_quota[e->m.setup.act.pair_scheme[0][1]], ACTUATE_STOP_QUOTA);
}

/* Every pair scheme's committed quota is the stop quota (nothing moves). */
static void assert_pairs_stopped(Env *e)
{
	for (size_t i = e->m.setup.act.pairs_first; i < e->m.setup.act.pairs_end; i++)
		assert_int_equal(e->m.act.committed_quota[i], ACTUATE_STOP_QUOTA);
}

/* measure.source = "levels": the share from the level schemes' counters,
 * no region files: 48 MiB at 20 of 20 on node 0, 16 MiB at 10 of 20 on
 * node 1 (8 MiB hot) read 48 / 56 = 85.71 %. The fake kdamond makes
 * PASSES apply passes between two stats updates. */
static void start_levels(Env *e, const char *extra, unsigned passes)
{
	FakeDamon *f = &e->f;

	write_conf(e, conf_text(extra, 6000));
	f->n_tried = 2;
	f->tried[0].start = 16 * MIB_;
	f->tried[0].end = 64 * MIB_;
	f->tried[0].nr_accesses = 20;
	f->tried[1].start = 8 * 128 * MIB_;
	f->tried[1].end = 8 * 128 * MIB_ + 16 * MIB_;
	f->tried[1].nr_accesses = 10;
	f->tried[0].age = f->tried[1].age = 100;
	f->passes_per_update = passes;
	start_ok(e);
	fake_damon_log_clear(f);
}

/* The counters read once the kdamond started are where the first interval
 * measures from: their growth per pass is the measurement, from one stats
 * update an interval and no tried-regions or tried-bytes request. */
static void test_levels_measure(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_levels(e, "measure = { source = \"levels\"; };\n", 3);
	assert_int_equal(tick(e), 0);
	assert_int_equal(count_writes(f, "update_schemes_stats"), 1);
	assert_int_equal(count_writes(f, "update_schemes_tried_bytes"), 0);
	assert_int_equal(count_writes(f, "update_schemes_tried_regions"), 0);
	assert_int_equal(status_share(e, 0), 8571);
	assert_int_equal(status_hot_kib(e, 0), 48 * 1024);
	/* The node-1 region cools to 5 of 20: 48 / 52 = 92.31 %. */
	f->tried[1].nr_accesses = 5;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_share(e, 0), 9231);
}

/* An interval in which DAMON applied no scheme has no measurement: the
 * status stays as it was. Counters that went back (a restarted kdamond)
 * are read afresh, and the next interval measures from them. */
static void test_levels_no_pass(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_levels(e, NULL, 1); /* "auto": levels */
	assert_int_not_equal(e->m.setup.plan.n_levels, 0);
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_hot_kib(e, 0), 48 * 1024);
	f->apply_stalled = true;
	f->tried[0].nr_accesses = 10; /* 24 MiB hot on node 0 */
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_hot_kib(e, 0), 48 * 1024);
	f->apply_stalled = false;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_hot_kib(e, 0), 24 * 1024);
	memset(f->sz_tried, 0, sizeof(f->sz_tried));
	f->tried[0].nr_accesses = 20;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_hot_kib(e, 0), 24 * 1024);
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_hot_kib(e, 0), 48 * 1024);
}

/* One interval that asks MANAGER_TRIED_REREADS more times and then has no
 * measurement: status.json is as it was. */
static void tick_skipped(Env *e)
{
	FakeDamon *f = &e->f;

	f->sz_tried[0] += 64 * MIB_;
	fake_damon_log_clear(f);
	assert_int_equal(tick(e), 0);
	assert_int_equal(count_writes(f, "update_schemes_tried_regions"), 1 + MANAGER_TRIED_REREADS);
	assert_int_equal(status_share(e, 0), 7500);
}

/* 6.12 answered about half the tried-regions updates with no regions while
 * its kdamond went on trying them (s12, s2-converge-6.12 in CI: dtierctl
 * showed 0 % for a steady 60 %). Such an interval is asked again, then
 * changes nothing; once nothing is tried any more, the hot set is gone. */
static void test_unanswered_measurement_skipped(void **state)
{
	Env *e = *state;

	start_with_hot_regions(e);
	/* No regions, but the measurement scheme tried 64 MiB more. */
	e->f.tried_unanswered = true;
	tick_skipped(e);
	/* Nothing tried since: believed. */
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_share(e, 0), 0);
}

/* An interval with no measurement while a pair runs: the push moved its
 * interval's worth, and another would pass the error the last measurement
 * saw, so it stops (a quota left open moved 275 MiB for a 57 MiB error in
 * s20-many-regions-7.3, through ten unmeasured intervals). */
static void test_blind_push_stops_at_the_error(void **state)
{
	Env *e = *state;

	start_pushing(e);
	size_t push = (size_t)e->m.setup.act.pair_scheme[0][1];
	e->f.sz_applied[push] += e->m.decision.bytes_per_tick[0][1];
	e->f.tried_unanswered = true;
	tick_skipped(e);
	assert_pairs_stopped(e);
}

/* 6.12 under TCG at ~1 500 hot regions (s20-many-regions): runs of up to
 * four intervals in which the kdamond applied no scheme at all, the
 * tried regions empty and scheme 0's sz_tried flat, which dtierd took for
 * a hot set gone (measured 0 %, and the controller acted on it). The
 * pulse did not grow either: no measurement. Once DAMON applies its
 * schemes again and still finds nothing hot, the hot set is gone. */
static void test_no_apply_pass_is_no_measurement(void **state)
{
	Env *e = *state;

	start_pushing(e);
	e->f.tried_unanswered = true;
	e->f.apply_stalled = true;
	size_t push = (size_t)e->m.setup.act.pair_scheme[0][1];
	uint64_t quota = e->m.act.committed_quota[push];
	unsigned commits = e->f.n_commits;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tick(e), 0);
		assert_int_equal(status_share(e, 0), 7500);
	}
	/* Nothing moved, so the push stays within the error last measured
	 * and runs on as it was: no quota changed. */
	assert_int_equal(e->m.act.committed_quota[push], quota);
	assert_int_equal(e->f.n_commits, commits);
	e->f.apply_stalled = false;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_share(e, 0), 0);
}

/* 7.3 once listed 9 224 regions, 38 GiB on node 0 of a 2 GiB guest, and
 * the controller held a wrong share for 12 s after it. Regions that
 * overlap are asked for again, then no measurement: nothing changes. */
static void test_overlapping_regions_skipped(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_with_hot_regions(e);
	/* Node 0's region listed three times. */
	f->tried[2] = f->tried[0];
	f->tried[3] = f->tried[0];
	f->n_tried = 4;
	tick_skipped(e);
	/* A sound answer is a measurement again. */
	f->n_tried = 1;
	assert_int_equal(tick(e), 0);
	assert_int_equal(status_share(e, 0), 10000);
}

/* --- the kdamond stops by itself ------------------------------------------ */

/* The kernel rejects what is committed and stops the kdamond (before 6.18:
 * the write succeeds, pid reads -1 after it). */
static int commit_stops_hook(void *userdata, const char *path, const char *value)
{
	Env *e = userdata;
	int r = e->fake_hook(&e->f, path, value);

	if (r == 0 && strstr(path, K0 "/state") && strcmp(value, "commit") == 0)
		fake_damon_put(&e->f, K0 "/pid", "-1");
	return r;
}

static void commit_stops_kdamond(Env *e)
{
	e->fake_hook = e->f.fs.write_hook;
	e->m.fs.write_hook = commit_stops_hook;
	e->m.fs.hook_data = e;
}

static void test_kdamond_stopped_by_itself(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	/* Found at the start of an interval. */
	fake_damon_put(f, K0 "/pid", "-1");
	assert_int_equal(manager_on_tick_result(&e->m, tick(e)), EXIT_RUNTIME);
	const Logged *l = find_logged(0, MSGID_KDAMOND_STOPPED, "kdamond 0 (pid 4242) stopped by itself");
	assert_int_equal(l->level, LOG_ERR);
	assert_field(l, "DTIERD_KDAMOND=0");
	assert_field(l, "DTIERD_KDAMOND_PID=4242");
	assert_int_equal(count_logged(0, MSGID_KDAMOND_STOPPED, NULL), 1);
	assert_null(find_logged(0, MSGID_GIVING_UP, NULL));
}

static void test_kdamond_stopped_on_commit(void **state)
{
	Env *e = *state;

	/* The first interval's full commit. */
	start_ok(e);
	commit_stops_kdamond(e);
	assert_int_equal(manager_on_tick_result(&e->m, tick(e)), EXIT_RUNTIME);
	assert_field(find_logged(0, MSGID_KDAMOND_STOPPED, "stopped by itself"), "DTIERD_KDAMOND_PID=4242");
}

static void test_kdamond_stopped_on_reload_commit(void **state)
{
	Env *e = *state;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	commit_stops_kdamond(e);
	/* A structural change: committed to the running kdamond. */
	write_conf(e, conf_hot(NULL, 6000, 25));
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_false(e->m.reload_ok);
	assert_non_null(find_logged(from, MSGID_KDAMOND_STOPPED, "stopped by itself on committing a new DAMON plan"));
	/* Not "still running the previous configuration": dtierd exits. */
	assert_null(find_logged(from, MSGID_RELOAD_REJECTED, NULL));
	assert_null(find_logged(from, MSGID_RELOAD_ACCEPTED, NULL));
}

/* --- the Prometheus textfile ---------------------------------------------- */

#define PROM_DIR "var/lib/prometheus/node-exporter"
#define PROM_CONF "prometheus_textfile = \"/" PROM_DIR "/dtierd.prom\";\n"

/* Every line of TEXT is a comment or "name[{labels}] number". */
static void assert_prom_samples(const char *text)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	unsigned samples = 0;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *value = strrchr(line, ' ');
		assert_non_null(value);
		char *end = NULL;
		(void)strtod(value + 1, &end);
		if (end == value + 1 || *end != '\0')
			fail_msg("not a sample: '%s'", line);
		assert_true(strncmp(line, "dtierd_", 7) == 0);
		samples++;
	}
	assert_true(samples > 10);
}

/* promtool check metrics accepts ROOT/REL, without a lint finding; skipped
 * without promtool (test-promtool.sh checks the golden file the same way). */
static void assert_promtool_ok(const char *root, const char *rel)
{
	char cmd[2 * PATH_MAX], out[4096] = "";

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return;
	snprintf(cmd, sizeof(cmd), "promtool check metrics <'%s/%s' 2>&1", root, rel);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	if (rc != 0 || n > 0)
		fail_msg("promtool check metrics: exit %d: %s", rc, out);
}

static void test_prometheus_textfile(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	char line[128];
	struct stat sb;

	tu_mkdirs(f->root, PROM_DIR);
	write_conf(e, conf_text(PROM_CONF, 6000));
	start_ok(e);
	/* Off until the first interval completed: nothing to say yet. */
	assert_false(tu_exists(f->root, PROM_DIR "/dtierd.prom"));
	int s10 = e->m.setup.act.pair_scheme[1][0];
	assert_true(s10 > 0);
	f->sz_applied[s10] = 8 << 20;
	mode_t old = umask(077); /* as under the unit's UMask=0077 */
	assert_int_equal(tick(e), 0);
	umask(old);

	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/" PROM_DIR "/dtierd.prom", f->root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644); /* node_exporter runs as its own user */
	_cleanup_free_ char *text = strdup(tu_read(f->root, PROM_DIR "/dtierd.prom"));
	assert_prom_samples(text);
	assert_promtool_ok(f->root, PROM_DIR "/dtierd.prom");

	/* The values are the published status's. */
	DtierdStatus *st = calloc(1, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", e->run_dir, STATUS_FILE);
	assert_int_equal(status_read(path, st), 0);
	assert_non_null(strstr(text, "\ndtierd_up 1\n"));
	for (size_t i = 0; i < st->n_nodes; i++) {
		snprintf(line, sizeof(line), "\ndtierd_hot_share_ratio{node=\"%d\"} %u.%04u\n", st->nodes[i].node,
			 st->nodes[i].share_bp / 10000, st->nodes[i].share_bp % 10000);
		assert_non_null(strstr(text, line));
	}
	assert_non_null(strstr(text, "\ndtierd_target_share_ratio{node=\"0\"} 0.6000\n"));
	assert_non_null(strstr(text, "\ndtierd_target_share_ratio{node=\"1\"} 0.4000\n"));
	assert_non_null(strstr(text, "\ndtierd_migrated_bytes_total{from=\"1\",to=\"0\"} 8388608\n"));
	assert_non_null(strstr(text, "\ndtierd_migrated_bytes_total{from=\"0\",to=\"1\"} 0\n"));
	assert_non_null(strstr(text, "\n# TYPE dtierd_migrated_bytes_total counter\n"));
	assert_non_null(strstr(text, "\ndtierd_interval_cpu_median_seconds "));
	/* The last line (tu_read() strips the newline). */
	assert_non_null(strstr(text, "\ndtierd_errors_total 0"));
	free(st);
	/* Atomically replaced: no temp file left beside it. */
	snprintf(line, sizeof(line), PROM_DIR "/.dtierd.prom.%ld.tmp", (long)getpid());
	assert_false(tu_exists(f->root, line));

	/* Stopped: dtierd_up 0 and nothing else. */
	assert_int_equal(stop(e), 0);
	assert_string_equal(tu_read(f->root, PROM_DIR "/dtierd.prom"),
			    "# HELP dtierd_up 1 while dtierd runs and publishes its status, 0 after it stopped.\n"
			    "# TYPE dtierd_up gauge\n"
			    "dtierd_up 0");
}

/* Off by default; a directory that is missing is no failed interval, and
 * the file appears once the directory does. A reload to another path leaves
 * the old file saying dtierd_up 0. */
static void test_prometheus_textfile_missing_dir_and_reload(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	assert_null(e->m.prom_path);
	assert_false(tu_exists(f->root, "var"));

	write_conf(e, conf_text(PROM_CONF, 6000));
	manager_reload(&e->m);
	size_t from = n_logged;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(manager_on_tick_result(&e->m, tick(e)), 0);
		assert_int_equal(e->m.failures, 0);
	}
	assert_true(e->m.prom_failing);
	assert_false(tu_exists(f->root, PROM_DIR "/dtierd.prom"));
	/* Said once, not every interval. */
	const Logged *l = find_logged(from, NULL, "/" PROM_DIR "/dtierd.prom: No such file or directory");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_WARNING);
	assert_int_equal(count_logged(from, NULL, "dtierd.prom"), 1);
	tu_mkdirs(f->root, PROM_DIR);
	assert_int_equal(tick(e), 0);
	assert_false(e->m.prom_failing);
	assert_non_null(find_logged(from, NULL, "dtierd.prom again"));
	assert_int_equal(count_logged(from, NULL, "dtierd.prom"), 2);
	assert_non_null(strstr(tu_read(f->root, PROM_DIR "/dtierd.prom"), "\ndtierd_up 1\n"));

	write_conf(e, conf_text("prometheus_textfile = \"/" PROM_DIR "/other.prom\";\n", 6000));
	manager_reload(&e->m);
	assert_int_equal(tick(e), 0);
	assert_non_null(strstr(tu_read(f->root, PROM_DIR "/other.prom"), "\ndtierd_up 1\n"));
	assert_non_null(strstr(tu_read(f->root, PROM_DIR "/dtierd.prom"), "\ndtierd_up 0"));
	assert_null(strstr(tu_read(f->root, PROM_DIR "/dtierd.prom"), "dtierd_hot_share_ratio"));
}

/* --- reload --------------------------------------------------------------- */

static int notify_setup(Env *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", e->f.root);
	e->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(e->notify_fd >= 0);
	assert_int_equal(bind(e->notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	return 0;
}

/* All notifications received so far, concatenated. */
static const char *notified(Env *e)
{
	static char all[8192];
	char buf[1024];
	ssize_t n;

	all[0] = '\0';
	while ((n = recv(e->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		strncat(all, buf, sizeof(all) - strlen(all) - 2);
		strcat(all, "\n");
	}
	return all;
}

static void test_reload_targets_only(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	unsigned commits = f->n_commits;
	write_conf(e, conf_text(NULL, 3000));
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_int_equal(e->m.ctl.p.target_bp[0], 3000);
	const Logged *l = find_logged(from, MSGID_RELOAD_ACCEPTED, "new targets and limits from the next interval");
	assert_int_equal(l->level, LOG_NOTICE);
	char field[PATH_MAX + 32];
	snprintf(field, sizeof(field), "DTIERD_CONFIG_FILE=%s", e->conf);
	assert_field(l, field);
	assert_null(find_logged(from, MSGID_RELOAD_REJECTED, NULL));
	assert_int_equal(f->n_commits, commits);
	assert_int_equal(tick(e), 0);
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_true(s.reloads == 1 && s.reload_ok);
}

static void test_reload_ready_after_first_interval(void **state)
{
	Env *e = *state;

	notify_setup(e);
	start_ok(e);
	assert_int_equal(tick(e), 0);
	assert_non_null(strstr(notified(e), "READY=1"));
	/* A structural change: a new plan, committed. */
	write_conf(e, conf_text(NULL, 6000));
	tu_write(e->f.root, "dtierd.conf", "%s", conf_hot(NULL, 6000, 25));
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_non_null(find_logged(from, MSGID_RELOAD_ACCEPTED, "a new DAMON plan committed to the running kdamond 0"));
	const char *n = notified(e);
	assert_non_null(strstr(n, "RELOADING=1"));
	assert_null(strstr(n, "READY=1"));
	assert_int_equal(tick(e), 0);
	assert_non_null(strstr(notified(e), "READY=1"));
}

static void test_reload_rejected_keeps_running(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	notify_setup(e);
	start_ok(e);
	assert_int_equal(tick(e), 0);
	(void)notified(e);
	write_conf(e, "tiers = oops;\n");
	fake_damon_log_clear(f);
	size_t from = n_logged;
	manager_reload(&e->m);
	assert_int_equal(f->n_log, 0);
	/* Each error with its own MESSAGE_ID, then the verdict. */
	const Logged *err = find_logged(from, MSGID_CONFIG_REJECTED, NULL);
	assert_non_null(err);
	assert_non_null(strstr(err->fields, "DTIERD_CONFIG_ERROR="));
	const Logged *l = find_logged(from, MSGID_RELOAD_REJECTED, "reload rejected, still running the previous");
	assert_true(l > err);
	assert_int_equal(l->level, LOG_ERR);
	assert_null(find_logged(from, MSGID_RELOAD_ACCEPTED, NULL));
	/* Nothing to wait for: READY=1 at once. */
	assert_non_null(strstr(notified(e), "READY=1"));
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_true(s.reloads == 1 && !s.reload_ok);
	assert_int_equal(e->m.cfg->tiers[0].hot_share_bp, 6000);
}

/* Item 13: a failed commit of the new plan, then a failed re-stage of the
 * old one: the next full commit must not commit the half-written tree. */
static void test_reload_commit_fails_restage_fails(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	tu_write(f->root, "dtierd.conf", "%s", conf_hot(NULL, 6000, 25));
	/* Every write of a pattern's nr_accesses/min fails. */
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "access_pattern/nr_accesses/min");
	f->fail_errno = EIO;
	size_t logged_from = n_logged;
	manager_reload(&e->m);
	assert_non_null(find_logged(logged_from, MSGID_RELOAD_REJECTED, NULL));
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_false(s.reload_ok);
	/* The old configuration stays. */
	assert_int_equal(e->m.cfg->hot.min_access_percent, 5);
	unsigned commits = f->n_commits;
	/* While the tree cannot be re-staged, nothing is committed. */
	assert_true(tick(e) < 0);
	assert_int_equal(f->n_commits, commits);
	/* Once it can, the whole old plan is staged again, then committed. */
	f->fail_suffix[0] = '\0';
	size_t from = f->n_log;
	assert_int_equal(tick(e), 0);
	assert_int_equal(f->n_commits, commits + 1);
	char n_schemes[16];
	snprintf(n_schemes, sizeof(n_schemes), "%zu", e->m.setup.plan.n_schemes);
	int staged = fake_damon_log_find(f, from, "schemes/nr_schemes", n_schemes);
	int commit = fake_damon_log_find(f, from, K0 "/state", "commit");
	assert_true(staged >= 0 && commit > staged);
	char want[16];
	snprintf(want, sizeof(want), "%u", 1u); /* ceil(5 % of 20 samples) */
	assert_string_equal(fake_damon_get(f, K0 "/contexts/0/schemes/0/access_pattern/nr_accesses/min"), want);
}

/* Item 11: a reload re-reads the node map. */
static void test_reload_rereads_node_map(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	size_t before = e->m.map.n;
	/* memory20 (node 0) goes offline. */
	tu_unlink(f->root, "sys/devices/system/node/node0/memory20");
	write_conf(e, conf_text(NULL, 5000));
	manager_reload(&e->m);
	assert_int_equal(e->m.map.n, before - 1);
	RunState s;
	assert_int_equal(runstate_read(e->run_dir, &s), 0);
	assert_true(s.reload_ok);
	/* The regions follow: one fewer. */
	assert_int_equal(tick(e), 0);
}

/* Item 11: memory hotplug without a reload rebuilds the plan. */
static void test_hotplug_rebuilds_plan(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	start_ok(e);
	assert_int_equal(tick(e), 0);
	assert_int_equal(manager_check_node_map(&e->m), 0);
	assert_string_equal(fake_damon_get(f, K0 "/contexts/0/targets/0/regions/nr_regions"), "3");
	/* memory20, node 0's lone block above node 1, goes offline. */
	tu_unlink(f->root, "sys/devices/system/node/node0/memory20");
	assert_int_equal(manager_check_node_map(&e->m), 1);
	fake_damon_settle(f);
	assert_string_equal(fake_damon_get(f, K0 "/contexts/0/targets/0/regions/nr_regions"), "2");
	assert_int_equal(e->m.setup.plan.n_regions, 2);
	assert_int_equal(tick(e), 0);
}

/* Every MESSAGE_ID the daemon uses has its catalog entry, and no entry is
 * left without its event. */
static void test_catalog_has_every_msgid(void **state)
{
	static const char *const ids[] = {
		MSGID_STARTED,	       MSGID_TARGET_REACHED, MSGID_TARGET_LOST,     MSGID_CONFIG_REJECTED,
		MSGID_FOREIGN_DAMON,   MSGID_KERNEL_FEATURE, MSGID_STOPPED,	    MSGID_TARGET_CLAMPED,
		MSGID_KDAMOND_STOPPED, MSGID_GIVING_UP,	     MSGID_RELOAD_ACCEPTED, MSGID_RELOAD_REJECTED,
	};
	const char *path = getenv("DTIERD_CATALOG");
	char *text = NULL;
	size_t n = 0, entries = 0;

	(void)state;
	if (!path)
		skip();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_true(getdelim(&text, &n, '\0', f) > 0);
	fclose(f);
	for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
		char head[64];
		snprintf(head, sizeof(head), "\n-- %s\nSubject: ", ids[i]);
		if (!strstr(text, head))
			fail_msg("no catalog entry for %s", ids[i]);
	}
	for (const char *p = strstr(text, "\n-- "); p; p = strstr(p + 1, "\n-- "))
		entries++;
	assert_int_equal(entries, ELEMENTSOF(ids));
	free(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_start_tick_stop),
		T(test_root_moves_run_dir),
		T(test_foreign_kdamond_at_our_index),
		T(test_recover_leaves_someones_staged_context),
		T(test_create_refuses_empty_foreign_kdamond),
		T(test_recover_own_crashed_kdamond),
		T(test_teardown_busy_keeps_record),
		T(test_stat_restore_failure_keeps_record),
		T(test_intent_recorded_before_changes),
		T(test_unwritable_record_stops_start),
		T(test_other_dtierd_running),
		T(test_request_reload_unrelated_pid),
		T(test_watchdog_follows_event_loop),
		T(test_tick_failures_then_give_up),
		T(test_tick_read_ebusy),
		T(test_no_tiers_from_topology),
		T(test_no_tiers_cannot_tell),
		T(test_unanswered_measurement_skipped),
		T(test_levels_measure),
		T(test_levels_no_pass),
		T(test_blind_push_stops_at_the_error),
		T(test_no_apply_pass_is_no_measurement),
		T(test_overlapping_regions_skipped),
		T(test_kdamond_stopped_by_itself),
		T(test_kdamond_stopped_on_commit),
		T(test_kdamond_stopped_on_reload_commit),
		T(test_prometheus_textfile),
		T(test_prometheus_textfile_missing_dir_and_reload),
		T(test_reload_targets_only),
		T(test_reload_ready_after_first_interval),
		T(test_reload_rejected_keeps_running),
		T(test_kernel_metric_missing),
		T(test_reload_kernel_metric_missing),
		T(test_reload_to_kernel_metric),
		T(test_reload_commit_fails_restage_fails),
		T(test_reload_rereads_node_map),
		T(test_hotplug_rebuilds_plan),
		cmocka_unit_test(test_catalog_has_every_msgid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
