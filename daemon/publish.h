/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What dtierd publishes each interval for dtierctl and monitoring:
 * RUN_DIR/status.json (lib/status.c), replaced atomically, with migration
 * totals that survive restarts, and the measurement's own CPU cost; and the
 * same as a node_exporter textfile (lib/prom.c) if the configuration names
 * one (prometheus_textfile). */

#include "manager.h"
#include "metric.h"

/* Picks up the previous instance's migration totals from its status file. */
void publish_init(Manager *m);
/* Publishes this interval: HS measured, D decided, A committed, the tick's
 * CPU time CPU_US. A file that cannot be written is a warning, said once
 * until a write succeeds again. A reload that changes or drops
 * prometheus_textfile leaves the old file saying dtierd_up 0. */
void publish_tick(Manager *m, const HotShare *hs, const CtlDecision *d, const Actuation *a, uint64_t cpu_us);
/* Remembers ERR as the last error (for dtierctl). */
void publish_error(Manager *m, int err);
/* At stop: the textfile says dtierd_up 0, so that the last values do not
 * linger as if current. */
void publish_stop(Manager *m);
/* `dtierd --cleanup`: the same for the textfile CFG names under ROOT, if it
 * exists (after a crash it still says dtierd_up 1). */
void publish_cleanup(const Config *cfg, const char *root);
