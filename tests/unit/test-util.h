/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers shared by the unit tests: temp roots, files written relative to
 * them, fixture paths. Everything a test touches lives under a mkdtemp()
 * directory; nothing is ever resolved against the host's "/". */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

/* A new empty directory under $TMPDIR (or /tmp). Free with tu_rmtree(). */
char *tu_mkdtemp(void);
/* rm -rf PATH; refuses anything that is not a tu_mkdtemp() directory. */
void tu_rmtree(char *path);

/* Writes TEXT (printf format) to ROOT/REL, creating parent directories. */
void tu_write(const char *root, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes N bytes. */
void tu_write_bytes(const char *root, const char *rel, const void *data, size_t n);
void tu_mkdirs(const char *root, const char *rel);
void tu_symlink(const char *root, const char *rel, const char *target);
void tu_unlink(const char *root, const char *rel);
/* Contents of ROOT/REL with trailing newlines stripped, in a static buffer
 * (overwritten by the next call), or NULL if it cannot be read. */
const char *tu_read(const char *root, const char *rel);
bool tu_exists(const char *root, const char *rel);

/* Opens a Sysfs on ROOT (which must not be "/"), with a fast EBUSY backoff. */
void tu_sysfs_open(const char *root, Sysfs *ret);

/* tests/fixtures in the source tree ($FIXTURES, else the path compiled in). */
const char *tu_fixtures(void);
/* Path of fixture scenario NAME, in a static buffer. */
const char *tu_fixture(const char *name);

/* Index of the first message in MSGS[0..n) containing every NULL-terminated
 * needle, or -1. */
int tu_find_msg(char *const *msgs, size_t n, ...);
