/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Counting the memory DAMON can actually migrate, from /proc/kpageflags (one
 * u64 of flags per PFN). DAMON's paddr migrate only takes folios on an LRU
 * list (damon_get_folio()); free (buddy), slab, page-table, hugetlb, offline,
 * reserved and hole pages are never migrated, so they must not count as
 * eligible memory either. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

#define KPF_LRU 5
#define KPF_SLAB 7
#define KPF_BUDDY 10
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_NOPAGE 20
#define KPF_OFFLINE 23
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

/* Pages read contiguously per sample: one 512-byte pread, and a chunk keeps
 * the folio look-back cheap. */
#define KPF_SAMPLE_CHUNK 64
/* Largest folio whose tail pages we resolve back to their head: PMD THP. */
#define KPF_MAX_LOOKBACK 512

typedef struct Kpf {
	int fd;
	uint64_t rng; /* xorshift state for sample offsets */
} Kpf;

typedef struct KpfCount {
	uint64_t pages;           /* pages in the range */
	uint64_t pages_read;      /* kpageflags entries read */
	uint64_t migratable;      /* migratable pages (estimate when sampled) */
	uint64_t err_pages;       /* ~95 % bound of the sampling error, 0 if exact */
	bool sampled;
} KpfCount;

/* Opens proc/kpageflags under the root. Returns 0 or -errno. */
int kpageflags_open(const Sysfs *fs, uint64_t seed, Kpf *ret);
void kpageflags_close(Kpf *k);

/* Whether a page with these flags belongs to a folio DAMON may migrate. */
bool kpageflags_page_migratable(uint64_t flags);

/* Counts migratable pages among FLAGS[0..n). A tail page takes its folio's
 * verdict from the last head seen; LEAD_HEAD is the flags of the head of a
 * folio that started before FLAGS[0] (or 0 if unknown). Large folios thus
 * count once, at their size. Pure; for tests and the reader below. */
uint64_t kpageflags_count_buf(const uint64_t *flags, size_t n, uint64_t lead_head);

/* Counts migratable pages in PFNs [start, end). Reads every entry when the
 * range has at most MAX_PAGES pages (or MAX_PAGES is 0); otherwise reads
 * MAX_PAGES / KPF_SAMPLE_CHUNK chunks, one at a random offset in each of as
 * many equal strata, and extrapolates. Returns 0 or -errno. */
int kpageflags_count(Kpf *k, uint64_t start_pfn, uint64_t end_pfn, uint64_t max_pages, KpfCount *ret);
