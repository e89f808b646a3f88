/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "coexist.h"
#include "config.h"
#include "dtierd-build.h"
#include "log.h"
#include "manager.h"
#include "publish.h"
#include "report.h"
#include "topology.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dtierd [OPTIONS]\n"
		"Keep a configured share of hot memory on each NUMA tier with DAMON.\n\n"
		"  -c, --config PATH   configuration file (default %s)\n"
		"  -t, --test-config   check the configuration, print it, touch nothing\n"
		"  -r, --root DIR      resolve kernel paths (sys/, proc/) under DIR (tests)\n"
		"      --reload        make the running dtierd re-read its config; wait and report\n"
		"                      whether it was applied (for ExecReload=)\n"
		"      --cleanup       remove the DAMON state a stopped or crashed dtierd left\n"
		"                      (its kdamond, DAMON_STAT takeover) and exit\n"
		"      --show-topology print the NUMA nodes, their memory, CPUs, distances and\n"
		"                      memory tiers, and what would compete with dtierd; exit\n"
		"  -v, --verbose       log per-interval measurements (debug level)\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n\n"
		"Runs in the foreground until SIGTERM or SIGINT; SIGHUP reloads the configuration.\n"
		"See dtierd(8) and dtierd.conf(5).\n",
		DTIERD_CONFIG_PATH);
}

/* --show-topology: read-only; touches no DAMON state. */
static int show_topology_and_exit(const char *root)
{
	Sysfs fs = { .root_fd = -1 };
	Topology *t = NULL;
	Coexist cx;
	int r = sysfs_open(root, &fs);

	if (r >= 0)
		r = topology_load(&fs, &t);
	if (r < 0) {
		log_error("cannot read the NUMA topology under %s: %s", root, strerror(-r));
		if (fs.root_fd >= 0)
			sysfs_close(&fs);
		return EXIT_KERNEL;
	}
	topology_print(stdout, t);
	if (coexist_check(&fs, &cx) == 0)
		for (size_t i = 0; i < cx.n_msgs; i++)
			printf("warning: %s\n", cx.msgs[i]);
	topology_free(t);
	sysfs_close(&fs);
	return EXIT_OK;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	Manager *m = userdata;

	if (si->ssi_signo == SIGHUP) {
		manager_reload(m);
		return 0;
	}
	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	sd_event_exit(sd_event_source_get_event(s), EXIT_OK);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test-config", no_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ "reload", no_argument, NULL, 'R' },
		{ "show-topology", no_argument, NULL, 'T' },
		{},
	};
	const char *config_path = DTIERD_CONFIG_PATH, *root = "/";
	bool test_config = false, cleanup = false, reload = false, show_topology = false;
	int c;

	log_open();
	while ((c = getopt_long(argc, argv, "c:tr:vhV", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test_config = true;
			break;
		case 'r':
			root = optarg;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'C':
			cleanup = true;
			break;
		case 'R':
			reload = true;
			break;
		case 'T':
			show_topology = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("dtierd %s\n", DTIERD_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "dtierd: unknown option; see dtierd --help\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dtierd: unexpected argument '%s'; see dtierd --help\n", argv[optind]);
		return EXIT_USAGE;
	}

	if (show_topology)
		return show_topology_and_exit(root);
	if (reload) {
		/* ExecReload=: systemd 252 has no notify-reload, so make
		 * `systemctl reload` wait for the outcome here, and fail when
		 * the new file was rejected. The running dtierd re-reads its
		 * own config path; run_dir comes from this one (or default). */
		ConfigErrors cerrs = { 0 };
		Config *ccfg = NULL;
		const char *mainpid = getenv("MAINPID"); /* set for ExecReload= */
		if (config_load(config_path, &ccfg, &cerrs) < 0)
			ccfg = NULL;
		config_errors_clear(&cerrs);
		char *run_dir = manager_run_dir(root, ccfg ? ccfg->run_dir : "/run/dtierd");
		int r = run_dir ? manager_request_reload(run_dir, mainpid ? atoi(mainpid) : 0, 60000) : -ENOMEM;
		free(run_dir);
		config_free(ccfg);
		if (r == -EINVAL)
			log_error("reload rejected: the running dtierd keeps its previous configuration (see its log)");
		else if (r < 0)
			log_error("reload failed: %s", r == -ESRCH ? "no running dtierd found in the run-state file"
								  : strerror(-r));
		return r == 0 ? EXIT_OK : r == -EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
	}
	if (cleanup) {
		/* ExecStopPost=: runs after the main process is gone, whatever
		 * way it went; it needs only run_dir, so a broken config file
		 * must not stop it. */
		ConfigErrors cerrs = { 0 };
		Config *ccfg = NULL;
		Sysfs fs;
		if (config_load(config_path, &ccfg, &cerrs) < 0) {
			ccfg = NULL;
			log_warning("%s is not valid, cleaning up with run_dir /run/dtierd", config_path);
		}
		config_errors_clear(&cerrs);
		char *run_dir = manager_run_dir(root, ccfg ? ccfg->run_dir : "/run/dtierd");
		if (!run_dir) {
			config_free(ccfg);
			return EXIT_RUNTIME;
		}
		int r = sysfs_open(root, &fs);
		if (r < 0) {
			log_error("cannot open root directory %s: %s", root, strerror(-r));
			free(run_dir);
			config_free(ccfg);
			return EXIT_USAGE;
		}
		r = manager_recover(&fs, run_dir);
		sysfs_close(&fs);
		free(run_dir);
		/* Only once no dtierd runs: a crashed one left dtierd_up 1. */
		if (r == 0)
			publish_cleanup(ccfg, root);
		config_free(ccfg);
		return r == 0 ? EXIT_OK : r == -EALREADY || r == -EPERM ? EXIT_REFUSED : EXIT_RUNTIME;
	}

	ConfigErrors errs = { 0 };
	Config *cfg = NULL;
	int r = config_load(config_path, &cfg, &errs);
	if (r < 0) {
		report_config_errors(&errs);
		config_errors_clear(&errs);
		return EXIT_CONFIG;
	}
	if (test_config) {
		config_print(cfg, stdout);
		config_free(cfg);
		return EXIT_OK;
	}

	sd_event *event = NULL;
	r = sd_event_default(&event);
	if (r < 0) {
		log_error("cannot create the event loop: %s", strerror(-r));
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	/* The signals are blocked: without their sources they would be lost,
	 * and SIGTERM could not stop dtierd. */
	Manager m;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sd_event_add_signal(event, NULL, sigs[i], on_signal, &m);
		if (r < 0) {
			log_error("cannot watch %s: %s", strsignal(sigs[i]), strerror(-r));
			sd_event_unref(event);
			config_free(cfg);
			return EXIT_RUNTIME;
		}
	}
	r = manager_start(&m, cfg, root, event);
	if (r != EXIT_OK) {
		sd_event_unref(event);
		return r;
	}

	int code = EXIT_OK;
	r = sd_event_loop(event);
	code = r < 0 ? EXIT_RUNTIME : r;
	sd_notify(false, "STOPPING=1");
	if (manager_stop(&m) < 0) {
		/* Leave the rest to ExecStopPost=dtierd --cleanup. */
		code = code ? code : EXIT_RUNTIME;
	} else {
		log_fields(LOG_NOTICE, MSGID_STOPPED, NULL, 0, "stopped; DAMON state created by dtierd removed");
	}
	sd_event_unref(event);
	return code;
}
