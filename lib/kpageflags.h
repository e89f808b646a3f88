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

/* Pages read contiguously per sample: one 128-byte pread. On a real
 * /proc/kpageflags a pread costs ~0.3-0.4 us plus ~50 ns per entry (bench/),
 * so 16 pages cost about what 7 more entries would; smaller chunks spread
 * over more places estimate a region's migratable share better per entry
 * read (memory comes in 2 MiB THPs and runs of like pages). Chunks start
 * 16-aligned where the stratum allows, so a chunk starting on a tail needs at
 * most 5 single-entry reads to find its head. */
#define KPF_SAMPLE_CHUNK 16
/* Entries one sample chunk may cost: the chunk and a look-back of at most 5
 * aligned entries (orders 5-9 for a 16-aligned chunk). */
#define KPF_LOOKBACK_RESERVE 5
/* Largest folio whose tail pages we resolve back to their head: PMD THP.
 * Folios are naturally aligned, so the head of PFN's folio is at
 * PFN & ~(2^order - 1) for some order <= 9. */
#define KPF_MAX_LOOKBACK 512

typedef struct Kpf {
	int fd;
	uint64_t rng; /* xorshift state for sample offsets */
	/* 1 once a THP tail was seen carrying LRU: this kernel copies folio
	 * flags to tail pages (the folio-era stable_page_flags()), so a tail's
	 * own flags give its folio's verdict and no look-back is needed. */
	int tails_carry_lru;
} Kpf;

typedef struct KpfCount {
	uint64_t pages;           /* pages in the range */
	uint64_t pages_read;      /* kpageflags entries read */
	uint64_t migratable;      /* migratable pages (estimate when sampled) */
	uint64_t thp;             /* of them, in transparent huge pages (estimate when sampled) */
	uint64_t err_pages;       /* ~95 % bound of the sampling error, 0 if exact */
	bool sampled;
	/* When sampled: chunks read, the sums of their migratable fractions
	 * and of the squares, and the sum of the squared differences between
	 * successive chunks' fractions (strata are in address order), for
	 * callers that pool variances. */
	uint64_t chunks;
	double sum_f, sum_f2, sum_d2;
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
/* The same, and *RET_THP the migratable pages among them that belong to a
 * transparent huge page (their folio's head has KPF_THP). */
uint64_t kpageflags_count_buf_thp(const uint64_t *flags, size_t n, uint64_t lead_head, uint64_t *ret_thp);

/* The next number of K's random sequence (xorshift64). */
uint64_t kpageflags_rand(Kpf *k);

/* Entries a sample chunk is charged against a budget: KPF_SAMPLE_CHUNK, plus
 * KPF_LOOKBACK_RESERVE until tails are known to carry their folio's flags. */
uint64_t kpageflags_chunk_cost(const Kpf *k);

/* Counts migratable pages in PFNs [start, end). Reads every entry when the
 * range has at most MAX_PAGES pages (or MAX_PAGES is 0); otherwise reads
 * MAX(MAX_PAGES / kpageflags_chunk_cost(), 1) chunks, one at a random offset in each
 * of as many equal strata, and extrapolates (err_pages is 0 with one chunk:
 * no spread to judge by; pool chunks over ranges instead). A chunk or range
 * starting on a tail page looks back for its folio's head at the aligned
 * places it can be (at most 9 single entries), and over up to 511 entries
 * only for data no kernel produces (a misaligned folio); entries read to look
 * back count in pages_read. Returns 0 or -errno. */
int kpageflags_count(Kpf *k, uint64_t start_pfn, uint64_t end_pfn, uint64_t max_pages, KpfCount *ret);
