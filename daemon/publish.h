/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What dtierd publishes each interval for dtierctl and monitoring:
 * RUN_DIR/status.json (lib/status.c), replaced atomically, with migration
 * totals that survive restarts, and the measurement's own CPU cost. */

#include "manager.h"
#include "metric.h"

/* Picks up the previous instance's migration totals from its status file. */
void publish_init(Manager *m);
/* Publishes this interval: HS measured, D decided, A committed, the tick's
 * CPU time CPU_US. A status that cannot be written is a warning. */
void publish_tick(Manager *m, const HotShare *hs, const CtlDecision *d, const Actuation *a, uint64_t cpu_us);
/* Remembers ERR as the last error (for dtierctl). */
void publish_error(Manager *m, int err);
