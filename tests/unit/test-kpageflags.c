/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kpageflags.c: which pages DAMON could migrate (docs/kernel-interface.md,
 * "Measurement"), counted exactly or by sampling from a proc/kpageflags file. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpageflags.h"
#include "test-util.h"

#define B(n) (1ULL << (n))
#define LRU B(KPF_LRU)
#define HEAD B(KPF_COMPOUND_HEAD)
#define TAIL B(KPF_COMPOUND_TAIL)
#define THP B(22)
#define ANON B(12)

static void test_page_migratable(void **state)
{
	assert_true(kpageflags_page_migratable(LRU));
	assert_true(kpageflags_page_migratable(LRU | ANON | B(6) /* ACTIVE */ | B(18) /* UNEVICTABLE */));
	assert_true(kpageflags_page_migratable(LRU | HEAD | THP));
	assert_false(kpageflags_page_migratable(0));
	assert_false(kpageflags_page_migratable(ANON));
	static const int never[] = { KPF_NOPAGE, KPF_HUGE, KPF_SLAB, KPF_BUDDY, KPF_OFFLINE, KPF_PGTABLE,
				     KPF_RESERVED };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_false(kpageflags_page_migratable(LRU | B(never[i])));
}

static void test_count_buf(void **state)
{
	/* Small pages of each kind. */
	const uint64_t small[] = {
		LRU, LRU | ANON, 0, B(KPF_BUDDY), B(KPF_SLAB), B(KPF_NOPAGE), B(KPF_PGTABLE), B(KPF_RESERVED) | LRU,
		B(KPF_OFFLINE), LRU,
	};
	assert_int_equal(kpageflags_count_buf(small, 10, 0), 3);
	assert_int_equal(kpageflags_count_buf(small, 0, 0), 0);

	/* A PMD THP, the way older kernels show it (LRU on the head only)
	 * and newer ones (folio flags on every page): 512 either way. */
	static uint64_t thp[1 + 512 + 1];
	thp[0] = B(KPF_BUDDY);
	thp[1] = HEAD | LRU | THP | ANON;
	for (int i = 2; i < 513; i++)
		thp[i] = TAIL | THP | ANON;
	thp[513] = LRU;
	assert_int_equal(kpageflags_count_buf(thp, 514, 0), 513);
	for (int i = 2; i < 513; i++)
		thp[i] |= LRU;
	assert_int_equal(kpageflags_count_buf(thp, 514, 0), 513);
	/* Of them, the THP's 512 pages are in a huge page (the 4 KiB page
	 * after it is not), and tails past the buffer's start take their
	 * head's word (LEAD_HEAD). */
	uint64_t n_thp = 0;
	assert_int_equal(kpageflags_count_buf_thp(thp, 514, 0, &n_thp), 513);
	assert_int_equal(n_thp, 512);
	assert_int_equal(kpageflags_count_buf_thp(thp + 2, 512, HEAD | LRU | THP | ANON, &n_thp), 512);
	assert_int_equal(n_thp, 511);
	const uint64_t plain[] = { LRU | ANON, LRU, B(KPF_BUDDY) | THP };
	assert_int_equal(kpageflags_count_buf_thp(plain, 3, 0, &n_thp), 2);
	assert_int_equal(n_thp, 0);

	/* A hugetlb folio: HUGE on the head, tails follow it, even where
	 * they show LRU. */
	uint64_t huge[8] = { HEAD | B(KPF_HUGE) };
	for (int i = 1; i < 8; i++)
		huge[i] = TAIL | B(KPF_HUGE) | LRU;
	assert_int_equal(kpageflags_count_buf(huge, 8, 0), 0);

	/* A compound page off the LRU (slab, driver page): its tails do not
	 * count even when they carry LRU. */
	uint64_t slab[4] = { HEAD | B(KPF_SLAB), TAIL | LRU, TAIL | LRU, TAIL | LRU };
	assert_int_equal(kpageflags_count_buf(slab, 4, 0), 0);
	uint64_t nolru[4] = { HEAD, TAIL | LRU, TAIL | LRU, LRU };
	assert_int_equal(kpageflags_count_buf(nolru, 4, 0), 1);

	/* Leading tails: judged by LEAD_HEAD when given... */
	uint64_t lead[5] = { TAIL, TAIL, TAIL, LRU, 0 };
	assert_int_equal(kpageflags_count_buf(lead, 5, HEAD | LRU), 4);
	assert_int_equal(kpageflags_count_buf(lead, 5, HEAD | LRU | B(KPF_HUGE)), 1);
	assert_int_equal(kpageflags_count_buf(lead, 5, HEAD | B(KPF_SLAB)), 1);
	/* ...and by their own flags when the head is unknown. */
	assert_int_equal(kpageflags_count_buf(lead, 5, 0), 1);
	uint64_t lead_lru[3] = { TAIL | LRU, TAIL | LRU, 0 };
	assert_int_equal(kpageflags_count_buf(lead_lru, 3, 0), 2);

	/* The lead head applies only to the first folio. */
	uint64_t two[6] = { TAIL, TAIL, HEAD | B(KPF_SLAB), TAIL | LRU, HEAD | LRU, TAIL };
	assert_int_equal(kpageflags_count_buf(two, 6, HEAD | LRU), 4);

	/* A hole (NOPAGE) between folios, and a NOPAGE page with a stale
	 * tail bit, never count. */
	uint64_t hole[4] = { HEAD | LRU, TAIL | B(KPF_NOPAGE), B(KPF_NOPAGE), TAIL };
	assert_int_equal(kpageflags_count_buf(hole, 4, 0), 1);
}

typedef struct Env {
	char *root;
	Sysfs fs;
	Kpf k;
} Env;

static int setup(void **state)
{
	Env *e = calloc(1, sizeof(*e));
	e->root = tu_mkdtemp();
	tu_sysfs_open(e->root, &e->fs);
	e->k.fd = -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	Env *e = *state;
	kpageflags_close(&e->k);
	sysfs_close(&e->fs);
	tu_rmtree(e->root);
	free(e);
	return 0;
}

static void write_kpf(Env *e, const uint64_t *flags, size_t n, uint64_t seed)
{
	tu_write_bytes(e->root, "proc/kpageflags", flags, n * sizeof(*flags));
	kpageflags_close(&e->k);
	assert_int_equal(kpageflags_open(&e->fs, seed, &e->k), 0);
}

static void test_open(void **state)
{
	Env *e = *state;
	Kpf k = { .fd = -1 };

	assert_int_equal(kpageflags_open(&e->fs, 1, &k), -ENOENT);
	assert_int_equal(k.fd, -1);
	kpageflags_close(&k);
	/* Seed 0 would make xorshift stick at 0: replaced. */
	tu_write_bytes(e->root, "proc/kpageflags", "", 0);
	assert_int_equal(kpageflags_open(&e->fs, 0, &k), 0);
	assert_true(k.rng != 0);
	kpageflags_close(&k);
	assert_int_equal(k.fd, -1);
}

static void test_count_exact(void **state)
{
	Env *e = *state;
	enum { N = 20000 };
	uint64_t *f = calloc(N, sizeof(*f));
	KpfCount c;

	/* Every third page on the LRU, the rest free: 6667 of 20000. */
	uint64_t want = 0;
	for (size_t i = 0; i < N; i++) {
		f[i] = i % 3 == 0 ? LRU : B(KPF_BUDDY);
		want += i % 3 == 0;
	}
	write_kpf(e, f, N, 1);
	assert_int_equal(kpageflags_count(&e->k, 0, N, 0, &c), 0);
	assert_int_equal(c.pages, N);
	assert_int_equal(c.pages_read, N);
	assert_int_equal(c.migratable, want);
	assert_int_equal(c.err_pages, 0);
	assert_false(c.sampled);
	/* A budget at least the range size is still exact. */
	assert_int_equal(kpageflags_count(&e->k, 0, N, N, &c), 0);
	assert_false(c.sampled);
	assert_int_equal(c.migratable, want);
	/* Sub-ranges. */
	assert_int_equal(kpageflags_count(&e->k, 1, 4, 0, &c), 0);
	assert_int_equal(c.migratable, 1);
	assert_int_equal(kpageflags_count(&e->k, 3, 4, 0, &c), 0);
	assert_int_equal(c.migratable, 1);
	/* Empty and inverted ranges read nothing. */
	assert_int_equal(kpageflags_count(&e->k, 10, 10, 0, &c), 0);
	assert_int_equal(c.pages, 0);
	assert_int_equal(c.pages_read, 0);
	assert_int_equal(kpageflags_count(&e->k, 10, 5, 0, &c), 0);
	assert_int_equal(c.pages, 0);
	assert_int_equal(c.migratable, 0);
	free(f);
}

/* N free pages to put folios in. */
static uint64_t *free_pages(size_t n)
{
	uint64_t *f = calloc(n, sizeof(*f));
	for (size_t i = 0; i < n; i++)
		f[i] = B(KPF_BUDDY);
	return f;
}

/* A folio of N pages at HEAD: FLAGS on the head, TAIL_FLAGS on the tails. */
static void put_folio(uint64_t *f, size_t head, size_t n, uint64_t flags, uint64_t tail_flags)
{
	f[head] = HEAD | flags;
	for (size_t i = 1; i < n; i++)
		f[head + i] = TAIL | tail_flags;
}

static void test_thp_lookback(void **state)
{
	Env *e = *state;
	enum { N = 20000 };
	uint64_t *f = free_pages(N);
	KpfCount c;

	/* Older-kernel THPs (LRU on the head only):
	 *  - at 1024: a range starting in the middle must find its head;
	 *  - at 7936: crosses the 8192-entry read batch boundary;
	 *  - at 4096: a non-LRU compound page whose tails carry LRU. */
	put_folio(f, 1024, 512, LRU | THP, THP);
	put_folio(f, 7936, 512, LRU | THP, THP);
	put_folio(f, 4096, 512, B(KPF_SLAB), LRU);
	write_kpf(e, f, N, 1);

	assert_int_equal(kpageflags_count(&e->k, 0, N, 0, &c), 0);
	assert_int_equal(c.migratable, 1024);
	assert_int_equal(kpageflags_count(&e->k, 1300, 1400, 0, &c), 0);
	assert_int_equal(c.migratable, 100);
	/* The last tail: the head is 511 entries back. */
	assert_int_equal(kpageflags_count(&e->k, 1535, 1536, 0, &c), 0);
	assert_int_equal(c.migratable, 1);
	assert_int_equal(kpageflags_count(&e->k, 1530, 1540, 0, &c), 0);
	assert_int_equal(c.migratable, 6);
	/* Only the tails of the batch-crossing THP. */
	assert_int_equal(kpageflags_count(&e->k, 8000, 8448, 0, &c), 0);
	assert_int_equal(c.migratable, 448);
	assert_int_equal(kpageflags_count(&e->k, 4200, 4300, 0, &c), 0);
	assert_int_equal(c.migratable, 0);

	/* A tail run at PFN 0..: no head to find, tails judged alone. */
	f[0] = TAIL | LRU;
	f[1] = TAIL;
	write_kpf(e, f, N, 1);
	assert_int_equal(kpageflags_count(&e->k, 0, 2, 0, &c), 0);
	assert_int_equal(c.migratable, 1);
	free(f);
}

static void test_eof(void **state)
{
	Env *e = *state;
	enum { N = 1000 };
	uint64_t f[N];

	/* Past max_pfn the kernel returns EOF: those PFNs do not exist. */
	for (size_t i = 0; i < N; i++)
		f[i] = LRU;
	write_kpf(e, f, N, 1);
	KpfCount c;
	assert_int_equal(kpageflags_count(&e->k, 900, 2000, 0, &c), 0);
	assert_int_equal(c.pages, 1100);
	assert_int_equal(c.pages_read, 100);
	assert_int_equal(c.migratable, 100);
	assert_int_equal(kpageflags_count(&e->k, 5000, 6000, 0, &c), 0);
	assert_int_equal(c.pages_read, 0);
	assert_int_equal(c.migratable, 0);
	/* Sampling over a range mostly past the end: no more than exists. */
	assert_int_equal(kpageflags_count(&e->k, 0, 100000, 1024, &c), 0);
	assert_true(c.sampled);
	assert_true(c.migratable <= N + c.err_pages);
	assert_true(c.pages_read <= N);

	/* A read error is returned: a directory is not a kpageflags file. */
	tu_unlink(e->root, "proc/kpageflags");
	tu_mkdirs(e->root, "proc/kpageflags");
	kpageflags_close(&e->k);
	assert_int_equal(kpageflags_open(&e->fs, 1, &e->k), 0);
	assert_int_equal(kpageflags_count(&e->k, 0, 10, 0, &c), -EISDIR);
	assert_int_equal(kpageflags_count(&e->k, 0, 100000, 1024, &c), -EISDIR);
}

/* splitmix64, for the test's own data. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_sampling(void **state)
{
	Env *e = *state;
	enum { N = 1 << 20, CHUNK = 512, NCHUNKS = N / CHUNK, BUDGET = 16384, SEEDS = 50 };
	uint64_t *f = malloc(N * sizeof(*f));
	uint64_t rng = 42;

	/* 4 GiB of PFNs in 2 MiB chunks; exactly 30 % of the chunks, at
	 * random places, hold migratable memory: half of them one THP
	 * (head + 511 tails, LRU on the head only), half 4 KiB LRU pages
	 * with a sprinkle of slab. The rest is free, slab or holes. */
	uint8_t *hot = calloc(NCHUNKS, 1);
	for (size_t placed = 0; placed < NCHUNKS * 3 / 10;) {
		size_t i = mix(&rng) % NCHUNKS;
		if (!hot[i]) {
			hot[i] = 1 + (placed & 1);
			placed++;
		}
	}
	for (size_t ch = 0; ch < NCHUNKS; ch++) {
		uint64_t *p = f + ch * CHUNK;
		for (size_t i = 0; i < CHUNK; i++) {
			switch (hot[ch]) {
			case 0:
				p[i] = ch % 3 == 0 ? B(KPF_BUDDY) : ch % 3 == 1 ? B(KPF_SLAB) : B(KPF_NOPAGE);
				break;
			case 1:
				p[i] = i == 0 ? HEAD | LRU | THP | ANON : TAIL | THP | ANON;
				break;
			default:
				p[i] = i % 16 == 15 ? B(KPF_SLAB) : LRU;
			}
		}
	}
	uint64_t truth = kpageflags_count_buf(f, N, 0);
	write_kpf(e, f, N, 1);

	KpfCount exact;
	assert_int_equal(kpageflags_count(&e->k, 0, N, 0, &exact), 0);
	assert_int_equal(exact.migratable, truth);
	assert_true(truth > N / 4 && truth < N * 3 / 10);

	/* Sampling 1.6 % of the pages in 256 chunks of 64. The reported
	 * bound is 2 standard errors of a simple random sample of chunk
	 * fractions: here the fractions are ~0 or ~1 (p ~= 0.29), so it is
	 * about 2 * N * sqrt(0.2 / 256) ~= 56 k pages (5.4 % of the range,
	 * ~19 % of the truth). Stratification makes the real error smaller,
	 * so the truth lies inside the bound in nearly every trial; we allow
	 * 2 of 50 misses (a 95 % bound would miss 2.5 on average were it
	 * tight) and accept bounds up to 8 % of the range. */
	unsigned misses = 0;
	double sum_abs_err = 0, sum_err = 0;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		KpfCount c;
		kpageflags_close(&e->k);
		assert_int_equal(kpageflags_open(&e->fs, seed, &e->k), 0);
		assert_int_equal(kpageflags_count(&e->k, 0, N, BUDGET, &c), 0);
		assert_true(c.sampled);
		assert_int_equal(c.pages, N);
		/* The budget holds the chunks and their look-backs. */
		assert_int_equal(kpageflags_chunk_cost(&e->k), KPF_SAMPLE_CHUNK + KPF_LOOKBACK_RESERVE);
		assert_int_equal(c.chunks, BUDGET / kpageflags_chunk_cost(&e->k));
		assert_true(c.pages_read <= BUDGET);
		assert_true(c.pages_read >= c.chunks * KPF_SAMPLE_CHUNK);
		assert_true(c.err_pages > 0);
		assert_true(c.err_pages < N * 8 / 100);
		double err = fabs((double)c.migratable - (double)truth);
		sum_abs_err += err;
		sum_err += (double)c.migratable - (double)truth;
		if (err > (double)c.err_pages) {
			misses++;
			print_message("seed %llu: estimate %llu, truth %llu, bound %llu\n", (unsigned long long)seed,
				      (unsigned long long)c.migratable, (unsigned long long)truth,
				      (unsigned long long)c.err_pages);
		}
	}
	print_message("sampling: %u misses, mean abs err %.0f pages (truth %llu)\n", misses, sum_abs_err / SEEDS, (unsigned long long)truth);
	assert_true(misses <= 2);
	/* Seen: mean |error| ~20 k pages (2 % of the range). And no bias:
	 * the mean signed error over 50 trials is ~0 (its own standard
	 * error is ~4 k pages). Data and seeds are fixed: deterministic. */
	assert_true(sum_abs_err / SEEDS < 0.035 * N);
	assert_true(fabs(sum_err / SEEDS) < 12000);

	/* Different seeds sample different places; the same seed repeats. */
	KpfCount a, b;
	kpageflags_close(&e->k);
	assert_int_equal(kpageflags_open(&e->fs, 7, &e->k), 0);
	assert_int_equal(kpageflags_count(&e->k, 0, N, BUDGET, &a), 0);
	kpageflags_close(&e->k);
	assert_int_equal(kpageflags_open(&e->fs, 7, &e->k), 0);
	assert_int_equal(kpageflags_count(&e->k, 0, N, BUDGET, &b), 0);
	assert_int_equal(a.migratable, b.migratable);

	/* Uniform memory: the estimate is exact and the bound 0. */
	for (size_t i = 0; i < N; i++)
		f[i] = LRU;
	write_kpf(e, f, N, 3);
	assert_int_equal(kpageflags_count(&e->k, 0, N, BUDGET, &a), 0);
	assert_true(a.sampled);
	assert_int_equal(a.migratable, N);
	assert_int_equal(a.err_pages, 0);
	/* A range inside one THP, sampled: every chunk needs the look-back. */
	for (size_t i = 0; i < N; i++)
		f[i] = i % 512 == 0 ? HEAD | LRU : TAIL;
	write_kpf(e, f, N, 3);
	assert_int_equal(kpageflags_count(&e->k, 100, N - 100, 4096, &a), 0);
	assert_true(a.sampled);
	assert_int_equal(a.migratable, N - 200);

	free(hot);
	free(f);
}

/* The look-back reads only the aligned places a folio's head can be, counts
 * what it reads, and is skipped where it cannot change the verdict. */
static void test_lookback_bounded(void **state)
{
	Env *e = *state;
	enum { N = 8192 };
	uint64_t *f = free_pages(N);
	KpfCount c;

	/* An aligned PMD THP as older kernels show it (LRU on the head). */
	put_folio(f, 1024, 512, LRU | THP, THP);
	/* A 2 MiB hugetlb folio: its tails are never migratable. */
	put_folio(f, 2048, 512, B(KPF_HUGE), B(KPF_HUGE));
	write_kpf(e, f, N, 1);
	assert_int_equal(kpageflags_chunk_cost(&e->k), KPF_SAMPLE_CHUNK + KPF_LOOKBACK_RESERVE);

	/* PFN 1324 = 0x52c: the head is found at 0x400 after reading 0x528,
	 * 0x520, 0x500 and 0x400 (orders 3, 4, 6, 9), not 300 entries. */
	assert_int_equal(kpageflags_count(&e->k, 1324, 1334, 0, &c), 0);
	assert_int_equal(c.migratable, 10);
	assert_int_equal(c.pages_read, 10 + 4);
	/* A 64-aligned start inside the folio: orders 7-9 only. */
	assert_int_equal(kpageflags_count(&e->k, 1024 + 192, 1024 + 208, 0, &c), 0);
	assert_int_equal(c.migratable, 16);
	assert_int_equal(c.pages_read, 16 + 2);
	/* Hugetlb tails: no look-back. */
	assert_int_equal(kpageflags_count(&e->k, 2100, 2110, 0, &c), 0);
	assert_int_equal(c.migratable, 0);
	assert_int_equal(c.pages_read, 10);
	assert_int_equal(e->k.tails_carry_lru, 0);

	/* Sampled, every chunk inside the THP: each finds the head, and the
	 * look-backs stay inside the budget. */
	const uint64_t budget = 10 * kpageflags_chunk_cost(&e->k);
	assert_int_equal(kpageflags_count(&e->k, 1024 + 1, 1536, budget, &c), 0);
	assert_true(c.sampled);
	assert_int_equal(c.chunks, 10);
	assert_true(c.migratable == 511);
	assert_true(c.pages_read <= budget);

	/* One THP tail carrying LRU (a folio-era kernel): from then on tails
	 * speak for their folio and nothing is looked back at; a chunk costs
	 * its entries only. */
	put_folio(f, 4096, 512, LRU | THP, LRU | THP);
	write_kpf(e, f, N, 1);
	assert_int_equal(kpageflags_count(&e->k, 4096 + 100, 4096 + 110, 0, &c), 0);
	assert_int_equal(c.migratable, 10);
	assert_int_equal(e->k.tails_carry_lru, 1);
	assert_int_equal(kpageflags_chunk_cost(&e->k), KPF_SAMPLE_CHUNK);
	assert_int_equal(kpageflags_count(&e->k, 1324, 1334, 0, &c), 0);
	assert_int_equal(c.pages_read, 10);
	free(f);
}

/* A budget of one chunk: one chunk read, no spread to judge an error by. */
static void test_single_chunk(void **state)
{
	Env *e = *state;
	enum { N = 1 << 16 };
	uint64_t *f = calloc(N, sizeof(*f));
	KpfCount c;

	for (size_t i = 0; i < N; i++)
		f[i] = i % 2 ? LRU : B(KPF_BUDDY);
	write_kpf(e, f, N, 9);
	assert_int_equal(kpageflags_count(&e->k, 0, N, 1, &c), 0);
	assert_true(c.sampled);
	assert_int_equal(c.chunks, 1);
	assert_int_equal(c.pages_read, KPF_SAMPLE_CHUNK);
	assert_int_equal(c.err_pages, 0);
	assert_true(c.migratable == N / 2);
	assert_true(c.sum_f == 0.5 && c.sum_d2 == 0);
	/* Two strata: the successive difference is there. */
	for (size_t i = 0; i < N / 2; i++)
		f[i] = LRU;
	write_kpf(e, f, N, 9);
	assert_int_equal(kpageflags_count(&e->k, 0, N, 2 * kpageflags_chunk_cost(&e->k), &c), 0);
	assert_int_equal(c.chunks, 2);
	assert_true(c.sum_f == 1.5);
	assert_true(c.sum_d2 == 0.25);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_migratable),
		cmocka_unit_test(test_count_buf),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thp_lookback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookback_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_chunk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
