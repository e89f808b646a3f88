/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* dtierd's status as a Prometheus text-format file, for node_exporter's
 * textfile collector (--collector.textfile.directory, on Debian
 * /var/lib/prometheus/node-exporter): DIR/dtierd.prom, replaced atomically
 * (temp file in DIR + rename, as the collector's documentation asks) each
 * time the status is published. Metric names follow the Prometheus naming
 * rules (base units, _bytes, _seconds, _ratio, counters end in _total). */

#include <stdio.h>

#include "status.h"

#define PROM_FILE "dtierd.prom"

/* Writes the metrics for ST to F: HELP and TYPE lines for every family,
 * families in a fixed order, one sample per node or ordered node pair.
 * Pure apart from F. Returns 0 or -EIO. */
int prom_to_text(const DtierdStatus *st, FILE *f);

/* What a stopped dtierd leaves behind: dtierd_up 0 and nothing else, so
 * that the last values do not linger as if current. */
int prom_to_text_stopped(FILE *f);

/* Writes DIR/dtierd.prom atomically from ST, or the stopped form if ST is
 * NULL. Returns 0 or -errno (-ENOTDIR if DIR is not a directory). */
int prom_write(const char *dir, const DtierdStatus *st);
/* The same for PATH, an absolute path whose directory exists (the config's
 * prometheus_textfile): the temp file goes beside it. The file is mode 0644
 * whatever the umask, for node_exporter, which runs as its own user. Returns
 * 0 or -errno (-EINVAL if PATH has no directory or no file name). */
int prom_write_file(const char *path, const DtierdStatus *st);
