/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the daemon tells the operator: journal events, STATUS=, and the
 * per-interval debug lines. No decisions here. */

#include "config.h"
#include "controller.h"
#include "manager.h"
#include "metric.h"

void report_config_errors(const ConfigErrors *errs);
void report_node_topology(int node);
void report_started(const Manager *m);
/* Events of D (targets reached, lost, clamped). */
void report_events(const Manager *m, const CtlDecision *d);
void report_status(const Manager *m, const CtlDecision *d);
void report_debug(const Manager *m, const HotShare *hs, const CtlDecision *d);
void report_targets_changed(const Config *old, const Config *nc);
/* Our kdamond is not running any more and dtierd did not stop it; DURING
 * says when dtierd found out ("" or e.g. "on the reload's commit"). */
void report_kdamond_stopped(const Manager *m, const char *during);
/* m->failures intervals in a row failed, the last with R: dtierd exits. */
void report_giving_up(const Manager *m, int r);
/* A SIGHUP reload: applied (R >= 0; R > 0: a new plan was committed) or
 * rejected (R < 0: the previous configuration runs on). */
void report_reload(const Manager *m, int r);
