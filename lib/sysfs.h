/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Rooted access to kernel files. Every kernel path dtierd touches is relative
 * ("sys/kernel/mm/damon/...", "proc/kpageflags") and resolved against a root
 * directory fd: "/" in production, a temp tree in tests (--root). */

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct Sysfs Sysfs;

/* Test seam: called before every write. Return 0 to let the write through, or
 * a -errno to make the write fail with that error (e.g. -EBUSY). */
typedef int (*SysfsWriteHook)(void *userdata, const char *path, const char *value);
/* Test seam: called before every read, with the same HOOK_DATA. Return 0 to
 * let the read through, or a -errno to fail it (DAMON's state and pid
 * handlers return -EBUSY to reads too). */
typedef int (*SysfsReadHook)(void *userdata, const char *path);

typedef struct SysfsKept SysfsKept;

struct Sysfs {
	int root_fd;
	SysfsWriteHook write_hook;
	SysfsReadHook read_hook;
	void *hook_data; /* passed to both hooks */
	/* Bounded backoff for EBUSY from DAMON's trylock'ed sysfs mutex. */
	unsigned busy_retries;   /* attempts after the first */
	unsigned busy_sleep_us;  /* first sleep; doubles, capped at 100 ms */
	unsigned long long n_writes; /* statistics, for tests and debug logs */
	SysfsKept *kept;  /* the files sysfs_read_u64_kept() keeps open */
	bool keep_any_fs; /* test seam: keep regular files open too */
};

/* Opens ROOT as a directory. Returns 0 or -errno. */
int sysfs_open(const char *root, Sysfs *ret);
void sysfs_close(Sysfs *fs);

/* All path arguments are printf formats relative to the root.
 *
 * Reads read to end of file, strip trailing newlines and blanks, and return 0
 * or -errno; a value that, stripped, does not fit in the buffer (SIZE - 1
 * bytes for sysfs_read_str(), 63 for the numbers) is -EOVERFLOW, never a
 * shorter value. The output is written only on success. */
int sysfs_read_str(const Sysfs *fs, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int sysfs_read_u64(const Sysfs *fs, uint64_t *ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sysfs_read_s64(const Sysfs *fs, int64_t *ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like sysfs_read_u64(), for a file read every interval: the first read
 * keeps it open, later ones re-read it with pread() at offset 0, which on
 * sysfs runs the attribute's show() afresh. An open+read+read+close costs
 * 6-7 times one pread (14 against 2 us on the host); under TCG the ~90
 * counters of the level schemes took ~20 ms per interval that way. Only
 * files on sysfs are kept (a regular file replaced by a rename would go on
 * being read old), at most SYSFS_KEPT_MAX of them; a kept file whose read
 * fails (its kobject removed: -ENODEV) is opened afresh once. */
#define SYSFS_KEPT_MAX 256
int sysfs_read_u64_kept(const Sysfs *fs, uint64_t *ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a text file into BUF of SIZE (sysfs_read_str()). */
int sysfs_read_str_kept(const Sysfs *fs, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* How many files are kept open (for tests). */
size_t sysfs_kept_count(const Sysfs *fs);

/* Returns true if the path exists (any type). */
bool sysfs_exists(const Sysfs *fs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One open+write+close of VALUE (no trailing newline added). Returns 0 or
 * -errno; a short write is -EIO. */
int sysfs_write_str(Sysfs *fs, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sysfs_write_u64(Sysfs *fs, uint64_t value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sysfs_write_s64(Sysfs *fs, int64_t value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like sysfs_write_str(), but retries -EBUSY with a bounded exponential
 * backoff (busy_retries, busy_sleep_us). For DAMON `state` and `nr_*` files,
 * whose handlers use mutex_trylock() and return EBUSY while any other DAMON
 * sysfs command is in flight. Returns 0, -EBUSY when retries ran out, or
 * another -errno. */
int sysfs_write_str_retry(Sysfs *fs, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like sysfs_read_s64(), with the same EBUSY retry (DAMON's `pid`). */
int sysfs_read_s64_retry(const Sysfs *fs, int64_t *ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
