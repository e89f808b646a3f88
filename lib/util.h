/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small helpers shared by lib/ and daemon/: scope-bound cleanup, array sizes. */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Defines typep(Type **p) that calls func(*p) when non-NULL. */
#define DEFINE_CLEANUP(type, func)                     \
	static inline void func##p(type *p)            \
	{                                              \
		if (*p)                                \
			func(*p);                      \
	}

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                           \
	({                                    \
		__typeof__(p) _p_ = (p);      \
		(p) = NULL;                   \
		_p_;                          \
	})
/* Parses a decimal/0x unsigned 64-bit number, rejecting trailing garbage
 * other than whitespace. Returns 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, unsigned base, unsigned long long *ret);
int parse_s64(const char *s, long long *ret);

/* Monotonic clock in milliseconds. */
unsigned long long now_ms(void);

/* The kernel's base page size, sysconf(_SC_PAGESIZE): what one
 * /proc/kpageflags entry covers and DAMON's smallest region (4096 on x86,
 * 4096, 16384 or 65536 on arm64, 65536 on ppc64). A power of two. */
uint64_t system_page_size(void);
