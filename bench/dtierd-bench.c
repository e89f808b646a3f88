/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dtierd-bench: the CPU cost and the error of one interval's measurement
 * (tried_regions_read + metric_hot_share with the paddr locator and
 * kpageflags), as daemon/manager.c measure() does it, on fake roots built in
 * a temp directory (tmpfs /dev/shm by default):
 *   - memory in 128 MiB blocks from 0 with a PCI hole [3, 4) GiB, contiguous
 *     nodes (2: 50/50, 3: 40/30/30 %), one block in 32 offline;
 *   - a DAMON partition of the address space into 2 N regions, N of them hot
 *     (the stat scheme's tried_regions: names 1, 3, 5, ... as 6.14+);
 *   - a sparse proc/kpageflags: holes read as 0 (no page), only the 2 MiB
 *     chunks touching hot regions are written: THPs (half with LRU on the
 *     head only, as older kernels show them), mTHPs, 4 KiB pages mixed with
 *     buddy/slab/page-table pages, free, slab, hugetlb and reserved chunks.
 * The same roots carry the level schemes' total_bytes (per node and
 * nr_accesses level, what DAMON's update_schemes_tried_bytes writes), and
 * the levels measurement (measure.source = "levels") is timed on them too.
 * A hot region's nr_accesses is given whatever its pages are, or with
 * --sampled drawn as DAMON's sampling would count it (sample_nr()).
 * The exact answer is computed here, from the generator's own knowledge of
 * what each page is (not by the library), and compared with the library's.
 * Also measures a real sysfs file open+read+close and real /proc/kpageflags
 * reads (read-only, harmless files) to estimate the cost on a real kernel.
 * Never touches the host's DAMON tree. Run: ninja -C build bench. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "damon-sysfs.h"
#include "kpageflags.h"
#include "metric.h"
#include "node-locate.h"
#include "node-map.h"
#include "sysfs.h"
#include "tried-regions.h"

#define PAGE 4096ULL
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define GIB (1ULL << 30)
#define BLOCK (128ULL << 20)
#define CHUNK_PAGES 512 /* generator unit: one 2 MiB aligned chunk */
#define B(n) (1ULL << (n))
#define KPF_ANON 12
#define KPF_THP 22
#define MAX_NR 20 /* aggr_us / sample_us, as the default config: 100 ms / 5 ms */
#define MIN_NR 5  /* hot.min_access_percent = 25 */
#define KDAMOND DAMON_ADMIN "/kdamonds/0"
#define TRIED KDAMOND "/contexts/0/schemes/0/tried_regions"
/* measure.source = "levels": one stat scheme per node and nr_accesses level
 * from MIN_NR to MAX_NR (damon-plan.c build_levels), after scheme 0; then
 * the pairs and the pulse. */
#define N_LEVELS (MAX_NR - MIN_NR + 1)
#define LEVELS_FIRST 1
#define LEVELS_END(n_nodes) (LEVELS_FIRST + (size_t)(n_nodes) * N_LEVELS)
#define PULSE(n_nodes) (LEVELS_END(n_nodes) + (size_t)(n_nodes) * ((n_nodes) - 1))
/* Apply passes in one interval: a 1 s interval over 100 ms aggregations. */
#define LEVEL_PASSES 10

static const char *tmpbase = "/dev/shm";
static uint64_t budget = 1 << 20; /* config default measure.kpageflags_max_pages */
static int reps = 9;
static bool sampled_nr = false; /* --sampled */

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double u01(uint64_t h)
{
	return (double)(h >> 11) / 9007199254740992.0;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* This process's read syscalls and bytes read (/proc/self/io), to count the
 * files and kpageflags bytes a stage reads without instrumenting lib/. */
static void io_counts(uint64_t *ret_syscr, uint64_t *ret_rchar)
{
	char buf[512];
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	*ret_syscr = *ret_rchar = 0;
	if (n <= 0)
		return;
	buf[n] = 0;
	char *p = strstr(buf, "rchar:");
	if (p)
		*ret_rchar = strtoull(p + 6, NULL, 10);
	p = strstr(buf, "syscr:");
	if (p)
		*ret_syscr = strtoull(p + 6, NULL, 10);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "dtierd-bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static void put(const char *root, const char *rel, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(p, errno);
	if (write(fd, text, strlen(text)) < 0)
		die(p, errno);
	close(fd);
}

static void mkdirs(const char *root, const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die(p, errno);
}

static void rmtree(const char *path)
{
	char cmd[4200];
	/* Only our own mkdtemp() directories. */
	if (!strstr(path, "/dtierd-bench."))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "dtierd-bench: cannot remove %s\n", path);
}

/* ---- the memory layout ---- */

typedef struct Layout {
	uint64_t mem;       /* RAM bytes */
	uint64_t end;       /* end of the physical address space */
	size_t n_blocks;
	int8_t *block_node; /* -1: PCI hole (absent), -2: offline */
	int n_nodes;
	double thp;
	bool old_kernel; /* tails without their folio's flags (pre-folio stable_page_flags()) */
	uint64_t seed;
} Layout;

static int node_of_addr(const Layout *L, uint64_t addr)
{
	uint64_t b = addr / BLOCK;
	return b < L->n_blocks ? L->block_node[b] : -1;
}

static void layout_init(Layout *L, uint64_t mem, int n_nodes, double thp, uint64_t seed)
{
	/* 3-node scenarios show THP tails as older kernels did, 2-node ones as
	 * the folio-era kernels (6.10+?) do: both look-back paths are timed. */
	*L = (Layout){ .mem = mem, .n_nodes = n_nodes, .thp = thp, .old_kernel = n_nodes == 3, .seed = seed };
	L->end = mem > 3 * GIB ? mem + GIB : mem;
	L->n_blocks = L->end / BLOCK;
	L->block_node = malloc(L->n_blocks);
	const double cut2[] = { 0.5, 1.01 }, cut3[] = { 0.4, 0.7, 1.01 };
	uint64_t ram = 0;
	for (size_t b = 0; b < L->n_blocks; b++) {
		uint64_t a = b * BLOCK;
		if (a >= 3 * GIB && a < 4 * GIB && L->end > 4 * GIB) {
			L->block_node[b] = -1;
			continue;
		}
		double f = (double)ram / (double)mem;
		int node = 0;
		while (f >= (n_nodes == 2 ? cut2 : cut3)[node])
			node++;
		L->block_node[b] = (int8_t)node;
		if (b % 32 == 17)
			L->block_node[b] = -2;
		ram += BLOCK;
	}
}

/* Flags of the 512 pages of aligned chunk C, and whether each is migratable
 * (the generator's own truth: it knows what it put there). */
static void gen_chunk(const Layout *L, uint64_t c, uint64_t *flags, uint8_t *mig)
{
	uint64_t h = mix64(L->seed ^ mix64(c));
	double dens = 0.3 + 0.7 * u01(mix64(L->seed ^ (c / 512) ^ 0x5555)); /* per 1 GiB */
	double u = u01(h), v = u01(mix64(h));
	int node = node_of_addr(L, c * CHUNK_PAGES * PAGE);

	if (node < 0) {
		for (int i = 0; i < CHUNK_PAGES; i++) {
			flags[i] = node == -2 ? B(KPF_NOPAGE) : 0;
			mig[i] = 0;
		}
		return;
	}
	if (u < L->thp) {
		/* A PMD THP; older kernels show LRU on the head only. */
		bool old = L->old_kernel;
		for (int i = 0; i < CHUNK_PAGES; i++) {
			uint64_t lru = (i == 0 || !old) ? B(KPF_LRU) : 0;
			flags[i] = (i == 0 ? B(KPF_COMPOUND_HEAD) : B(KPF_COMPOUND_TAIL)) | B(KPF_THP) | B(KPF_ANON) | lru;
			mig[i] = 1;
		}
		return;
	}
	for (int i = 0; i < CHUNK_PAGES; i++) {
		uint64_t ph = mix64(h ^ (uint64_t)(i + 1));
		double pu = u01(ph);
		uint64_t f = 0;
		uint8_t m = 0;
		if (v < 0.62) { /* 4 KiB pages, some free, slab, page tables */
			if (pu < dens) {
				f = B(KPF_LRU) | (ph & 2 ? B(KPF_ANON) : 0);
				m = 1;
			} else {
				static const int other[] = { KPF_BUDDY, KPF_SLAB, KPF_PGTABLE, -1 };
				int o = other[(ph >> 8) % 4];
				f = o < 0 ? 0 : B(o);
			}
		} else if (v < 0.74) { /* order-4 mTHPs, each LRU or not */
			int head = i & ~15;
			bool lru = u01(mix64(h ^ (uint64_t)(head + 7))) < dens;
			f = (i == head ? B(KPF_COMPOUND_HEAD) : B(KPF_COMPOUND_TAIL)) | B(KPF_THP) |
			    (lru && (i == head || !L->old_kernel) ? B(KPF_LRU) : 0);
			m = lru;
		} else if (v < 0.86) { /* free: buddy head at each 2^9 block */
			f = i == 0 ? B(KPF_BUDDY) : 0;
		} else if (v < 0.93) { /* order-3 slab pages */
			f = ((i & 7) ? B(KPF_COMPOUND_TAIL) : B(KPF_COMPOUND_HEAD)) | B(KPF_SLAB);
		} else if (v < 0.98) { /* a 2 MiB hugetlb folio */
			f = (i ? B(KPF_COMPOUND_TAIL) : B(KPF_COMPOUND_HEAD)) | B(KPF_HUGE);
		} else {
			f = B(KPF_RESERVED);
		}
		flags[i] = f;
		mig[i] = m;
	}
}

/* ---- the scenario ---- */

typedef struct Truth {
	uint64_t start, end;
	uint32_t nr;
	uint64_t mig_node[3];
} Truth;

typedef struct Scenario {
	uint64_t mem;
	size_t n_regions;
	int n_nodes;
	int thp_pct;
} Scenario;

typedef struct Costs {
	double tmpfs_file_full_us, tmpfs_file_rel_us, real_file_full_us, real_file_rel_us;
	double tmpfs_kpf_call_us, tmpfs_kpf_entry_ns, real_kpf_call_us, real_kpf_entry_ns;
	bool real_kpf;
} Costs;

static Costs costs;
static bool rel_opens = true; /* tried_regions_read opens region files relative to their directory */
static TriedFields read_fields = TRIED_NO_AGE; /* as the daemon reads them */

typedef struct Result {
	double cpu_med, cpu_max, regions_ms, split_ms, kpf_ms;
	double files, kpf_mib, kpf_calls, real_med, real_max;
	double err_bp_max, err_total_rms_bp, err_total_mean_bp, bound_bp_mean, bound_bp_min;
	double gen_s;
	size_t n_tried;
	/* measure.source = "levels" on the same root */
	double lv_cpu_med, lv_cpu_max, lv_files, lv_real_med, lv_real_max, lv_err_bp_max, lv_err_total_mean_bp;
	double lv_err_total_2sigma_bp, lv_bound_bp_mean;
} Result;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The hot candidates the level schemes see: every region the generator
 * made hot, with its given nr_accesses, and with --sampled the chance P
 * that one DAMON sample finds it accessed (given / MAX_NR x its migratable
 * share; NULL: as given, the same in every pass). */
typedef struct LevelSource {
	const Layout *L;
	Truth *t;
	double *p;
	size_t n;
} LevelSource;

/* A region's nr_accesses in apply pass PASS of interval REP: with --sampled
 * a fresh Binomial(MAX_NR, p) draw, as each aggregation samples anew. */
static uint32_t pass_nr(const LevelSource *ls, size_t i, int rep, int pass)
{
	if (!ls->p)
		return ls->t[i].nr;
	uint32_t nr = 0;
	uint64_t base = mix64(ls->L->seed ^ mix64(((uint64_t)rep * LEVEL_PASSES + (uint64_t)pass) * 1000003 + i + 1));
	for (uint32_t s = 0; s < MAX_NR; s++)
		nr += u01(mix64(base + s)) < ls->p[i];
	return nr;
}

/* What update_schemes_stats leaves in the level schemes after LEVEL_PASSES
 * apply passes from zero in interval REP: scheme LEVELS_FIRST + node *
 * N_LEVELS + j has tried the bytes (sz_tried) and the pieces (nr_tried) of
 * the hot regions with nr_accesses >= MIN_NR + j in that pass inside
 * node's online blocks (its address filters reject everything else, and
 * split a region at the node's edge), every byte of them, migratable or
 * not; scheme 0 every hot region; the pulse every monitored byte
 * (MONITORED). */
static void put_levels(const char *root, const LevelSource *ls, uint64_t monitored, int rep)
{
	const Layout *L = ls->L;
	uint64_t bytes[3][N_LEVELS] = { { 0 } }, pieces[3][N_LEVELS] = { { 0 } }, sz0 = 0, nr0 = 0;
	char rel[512], v[64];

	for (int pass = 0; pass < LEVEL_PASSES; pass++)
		for (size_t i = 0; i < ls->n; i++) {
			const Truth *t = &ls->t[i];
			uint32_t nr = pass_nr(ls, i, rep, pass);
			unsigned touched = 0;
			if (nr < MIN_NR)
				continue;
			sz0 += t->end - t->start;
			nr0++;
			for (uint64_t a = t->start; a < t->end;) {
				uint64_t b = MIN((a / BLOCK + 1) * BLOCK, t->end);
				int node = node_of_addr(L, a);
				for (uint32_t j = 0; node >= 0 && j < N_LEVELS && nr >= MIN_NR + j; j++) {
					bytes[node][j] += b - a;
					pieces[node][j] += !(touched & 1u << node);
				}
				if (node >= 0)
					touched |= 1u << node;
				a = b;
			}
		}
	put(root, KDAMOND "/state", "on\n");
	for (size_t s = 0; s <= PULSE(L->n_nodes); s++) {
		uint64_t sz = s == 0 ? sz0 : s == PULSE(L->n_nodes) ? monitored * LEVEL_PASSES : 0, nr = s == 0 ? nr0 : 0;
		if (s >= LEVELS_FIRST && s < LEVELS_END(L->n_nodes)) {
			sz = bytes[(s - LEVELS_FIRST) / N_LEVELS][(s - LEVELS_FIRST) % N_LEVELS];
			nr = pieces[(s - LEVELS_FIRST) / N_LEVELS][(s - LEVELS_FIRST) % N_LEVELS];
		}
		snprintf(rel, sizeof(rel), KDAMOND "/contexts/0/schemes/%zu/stats", s);
		mkdirs(root, rel);
		size_t at = strlen(rel);
		snprintf(rel + at, sizeof(rel) - at, "/sz_tried");
		snprintf(v, sizeof(v), "%llu\n", (unsigned long long)sz);
		put(root, rel, v);
		snprintf(rel + at, sizeof(rel) - at, "/nr_tried");
		snprintf(v, sizeof(v), "%llu\n", (unsigned long long)nr);
		put(root, rel, v);
	}
}

static void exact_hot(const Truth *t, size_t n, int n_nodes, double *ret_node, double *ret_total);

/* The hot bytes the level schemes stand for, per node: the exact count
 * (exact_hot()), and with --sampled its expectation over DAMON's sampling:
 * each region's nr_accesses ~ Binomial(MAX_NR, p), counted from MIN_NR
 * up, its migratable bytes scaled by min(1, size x nr / MAX_NR /
 * migratable). So the levels' error is their own: the sampling noise of
 * one interval's passes, and what they cannot see, the cap at the
 * migratable bytes. */
static void levels_truth(const LevelSource *ls, int n_nodes, double *ret_node, double *ret_total)
{
	if (!ls->p) {
		exact_hot(ls->t, ls->n, n_nodes, ret_node, ret_total);
		return;
	}
	*ret_total = 0;
	for (int k = 0; k < n_nodes; k++)
		ret_node[k] = 0;
	for (size_t i = 0; i < ls->n; i++) {
		const Truth *t = &ls->t[i];
		double m = 0, f = 0, p = ls->p[i];
		for (int k = 0; k < n_nodes; k++)
			m += (double)t->mig_node[k] * PAGE;
		if (m == 0)
			continue;
		for (uint32_t nr = MIN_NR; nr <= MAX_NR && p > 0; nr++) {
			double pmf = p >= 1 ? nr == MAX_NR : exp(lgamma(MAX_NR + 1) - lgamma(nr + 1) - lgamma(MAX_NR - nr + 1) + nr * log(p) +
					 (MAX_NR - nr) * log1p(-p));
			f += pmf * MIN(1.0, (double)(t->end - t->start) * nr / MAX_NR / m);
		}
		for (int k = 0; k < n_nodes; k++)
			ret_node[k] += (double)t->mig_node[k] * PAGE * f;
	}
	for (int k = 0; k < n_nodes; k++)
		*ret_total += ret_node[k];
}

/* The median and the largest of the reps values in V (sorted in place). */
static void median_max(double *v, double *ret_med, double *ret_max)
{
	qsort(v, (size_t)reps, sizeof(double), cmp_d);
	*ret_med = v[reps / 2];
	*ret_max = v[reps - 1];
}

/* --sampled: each hot region's nr_accesses as DAMON's physical-address
 * sampling would count it rather than as given. Every sample checks one
 * random page, and only an accessed LRU folio counts (damon_get_folio()
 * takes LRU folios only, so slab, page tables, free, hugetlb and reserved
 * pages never read as accessed): nr ~ Binomial(MAX_NR, given / MAX_NR x the
 * region's migratable share). Regions that fall below MIN_NR leave scheme
 * 0's tried list, as they would leave the kernel's. Returns how many stay. */
static size_t sample_nr(const Layout *L, Truth *t, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		double m = 0;
		for (int k = 0; k < L->n_nodes; k++)
			m += (double)t[i].mig_node[k] * PAGE;
		double p = t[i].nr / (double)MAX_NR * m / (double)(t[i].end - t[i].start);
		uint32_t nr = 0;
		for (uint32_t s = 0; s < MAX_NR; s++)
			nr += u01(mix64(L->seed ^ mix64(i * 977 + s + 1))) < p;
		t[i].nr = nr;
		if (nr >= MIN_NR)
			t[kept++] = t[i];
	}
	return kept;
}

static size_t build_root(const char *root, const Layout *L, Truth **ret_t, size_t n_regions, LevelSource *ret_ls)
{
	char rel[512];
	uint64_t seed = L->seed;

	/* Node map. */
	mkdirs(root, "sys/devices/system/memory");
	put(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (int n = 0; n < L->n_nodes; n++) {
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d", n);
		mkdirs(root, rel);
	}
	for (size_t b = 0; b < L->n_blocks; b++) {
		if (L->block_node[b] == -1)
			continue;
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%zu", b);
		mkdirs(root, rel);
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%zu/state", b);
		put(root, rel, L->block_node[b] == -2 ? "offline\n" : "online\n");
		/* Which node an offline block hangs off does not matter. */
		int node = L->block_node[b] >= 0 ? L->block_node[b] : 0;
		char p[4096], target[128];
		snprintf(p, sizeof(p), "%s/sys/devices/system/node/node%d/memory%zu", root, node, b);
		snprintf(target, sizeof(target), "../../memory/memory%zu", b);
		if (symlink(target, p) < 0)
			die(p, errno);
	}

	/* Regions: 2 N log-uniform sizes over the address space, N hot. */
	size_t nr = 2 * n_regions;
	double *w = malloc(nr * sizeof(*w)), sum = 0;
	for (size_t i = 0; i < nr; i++) {
		w[i] = exp(log(64.0) * (u01(mix64(seed ^ (i * 3 + 1))) - 0.5));
		sum += w[i];
	}
	uint8_t *hot = calloc(nr, 1);
	for (size_t placed = 0; placed < n_regions;) {
		size_t i = mix64(seed ^ (placed * 7919 + 13)) % nr;
		while (hot[i])
			i = (i + 1) % nr;
		hot[i] = 1;
		placed++;
	}
	Truth *t = calloc(n_regions, sizeof(*t));
	uint64_t pages = L->end / PAGE, at = 0;
	double acc = 0;
	size_t k = 0;
	for (size_t i = 0; i < nr; i++) {
		acc += w[i];
		uint64_t e = i + 1 == nr ? pages : (uint64_t)(acc / sum * (double)pages);
		if (e <= at)
			e = at + 1;
		if (hot[i]) {
			uint64_t h = mix64(seed ^ (i * 31 + 5));
			t[k].start = at * PAGE;
			t[k].end = e * PAGE;
			t[k].nr = u01(h) < 0.3 ? MAX_NR : MIN_NR + (uint32_t)(mix64(h) % (MAX_NR - MIN_NR));
			k++;
		}
		at = e;
	}
	free(w);
	free(hot);

	/* kpageflags, sparse; the truth from the same pass. */
	mkdirs(root, "proc");
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/kpageflags", root);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)(pages * 8)) < 0)
		die(p, errno);
	uint64_t flags[CHUNK_PAGES];
	uint8_t mig[CHUNK_PAGES];
	uint64_t last_written = UINT64_MAX;
	for (size_t i = 0; i < n_regions; i++) {
		uint64_t s = t[i].start / PAGE, e = t[i].end / PAGE;
		for (uint64_t c = s / CHUNK_PAGES; c * CHUNK_PAGES < e; c++) {
			gen_chunk(L, c, flags, mig);
			if (c != last_written) {
				if (pwrite(fd, flags, sizeof(flags), (off_t)(c * CHUNK_PAGES * 8)) < 0)
					die(p, errno);
				last_written = c;
			}
			int node = node_of_addr(L, c * CHUNK_PAGES * PAGE);
			if (node < 0)
				continue;
			uint64_t a = c * CHUNK_PAGES > s ? c * CHUNK_PAGES : s;
			uint64_t b = (c + 1) * CHUNK_PAGES < e ? (c + 1) * CHUNK_PAGES : e;
			for (uint64_t q = a; q < b; q++)
				t[i].mig_node[node] += mig[q - c * CHUNK_PAGES];
		}
	}
	close(fd);
	LevelSource ls = { .L = L, .t = malloc(n_regions * sizeof(*t)), .n = n_regions };
	if (!ls.t)
		die("levels", ENOMEM);
	memcpy(ls.t, t, n_regions * sizeof(*t));
	if (sampled_nr) {
		ls.p = malloc(n_regions * sizeof(*ls.p));
		if (!ls.p)
			die("levels", ENOMEM);
		for (size_t i = 0; i < n_regions; i++) {
			double m = 0;
			for (int q = 0; q < L->n_nodes; q++)
				m += (double)t[i].mig_node[q] * PAGE;
			ls.p[i] = t[i].nr / (double)MAX_NR * m / (double)(t[i].end - t[i].start);
		}
		n_regions = sample_nr(L, t, n_regions);
	}

	/* tried_regions. */
	mkdirs(root, TRIED);
	uint64_t total = 0;
	for (size_t i = 0; i < n_regions; i++) {
		char v[64];
		snprintf(rel, sizeof(rel), TRIED "/%zu", 2 * i + 1);
		mkdirs(root, rel);
		const struct {
			const char *name;
			uint64_t v;
		} f[] = { { "start", t[i].start },
			  { "end", t[i].end },
			  { "nr_accesses", t[i].nr },
			  { "age", 3 + i % 50 },
			  { "sz_filter_passed", 0 } };
		for (size_t j = 0; j < 5; j++) {
			snprintf(rel, sizeof(rel), TRIED "/%zu/%s", 2 * i + 1, f[j].name);
			snprintf(v, sizeof(v), "%llu\n", (unsigned long long)f[j].v);
			put(root, rel, v);
		}
		total += t[i].end - t[i].start;
	}
	char v[64];
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)total);
	put(root, TRIED "/total_bytes", v);
	put_levels(root, &ls, L->mem, 0);

	*ret_t = t;
	*ret_ls = ls;
	return n_regions;
}

/* The exact answer, by the agreed meaning: a region counts its migratable
 * bytes scaled by min(1, size * nr / max / migratable). */
static void exact_hot(const Truth *t, size_t n, int n_nodes, double *ret_node, double *ret_total)
{
	for (int k = 0; k < n_nodes; k++)
		ret_node[k] = 0;
	for (size_t i = 0; i < n; i++) {
		double m = 0;
		for (int k = 0; k < n_nodes; k++)
			m += (double)t[i].mig_node[k] * PAGE;
		if (m == 0)
			continue;
		double acc = (double)(t[i].end - t[i].start) * t[i].nr / MAX_NR;
		double f = acc < m ? acc / m : 1;
		for (int k = 0; k < n_nodes; k++)
			ret_node[k] += (double)t[i].mig_node[k] * PAGE * f;
	}
	*ret_total = 0;
	for (int k = 0; k < n_nodes; k++)
		*ret_total += ret_node[k];
}

/* measure.source = "levels", as manager.c tick_measure_levels() does it:
 * one update_schemes_stats, the pulse's sz_tried, scheme 0's sz_tried and
 * nr_tried and every level scheme's sz_tried and nr_tried, their growth
 * per pass since the last interval (here: from zero), then
 * metric_levels_hot(). Each file costs what a region file does, by full
 * path. With --sampled every interval samples the regions afresh (the
 * counters are rewritten before it, not timed), and the error is against
 * the regions' accessed bytes before sampling (levels_truth()): its two
 * sigma over the intervals is what err_bytes must bound. */
static void run_levels(Sysfs *fs, const char *root, const LevelSource *ls, uint64_t monitored, Result *res)
{
	const int n_nodes = ls->L->n_nodes;
	Damon d = { .fs = fs };
	uint32_t level_nr[N_LEVELS];
	enum { N_COUNTERS = 3 + 2 * 3 * N_LEVELS };
	uint64_t now[N_COUNTERS], last[N_COUNTERS] = { 0 }, per[N_COUNTERS];
	const int nodes[] = { 0, 1, 2 };
	const size_t nl = (size_t)n_nodes * N_LEVELS, n = 3 + 2 * nl;
	double cpu[64], real[64], files = 0, err_max = 0, err_sum = 0, err2 = 0, bound_sum = 0;
	double truth_node[3], truth_total;
	uint32_t truth_bp[3];
	int r;

	levels_truth(ls, n_nodes, truth_node, &truth_total);
	{
		uint64_t b[3];
		for (int k = 0; k < n_nodes; k++)
			b[k] = (uint64_t)truth_node[k];
		metric_shares_bp(b, (size_t)n_nodes, truth_bp);
	}
	snprintf(d.dir, sizeof(d.dir), KDAMOND);
	for (uint32_t j = 0; j < N_LEVELS; j++)
		level_nr[j] = MIN_NR + j;
	for (int rep = 0; rep < reps; rep++) {
		HotShare h;
		if (ls->p && rep > 0)
			put_levels(root, ls, monitored, rep);
		double t0 = cpu_ms();
		r = damon_update_stats(&d);
		if (r >= 0)
			r = damon_read_sz_tried(&d, PULSE(n_nodes), &now[0]);
		if (r >= 0)
			r = damon_read_sz_tried(&d, 0, &now[1]);
		if (r >= 0)
			r = damon_read_nr_tried(&d, 0, &now[2]);
		for (size_t i = 0; r >= 0 && i < nl; i++)
			r = damon_read_sz_tried(&d, LEVELS_FIRST + i, &now[3 + i]);
		for (size_t i = 0; r >= 0 && i < nl; i++)
			r = damon_read_nr_tried(&d, LEVELS_FIRST + i, &now[3 + nl + i]);
		if (r < 0)
			die("level counters", -r);
		int passes = metric_levels_per_pass(last, now, n, monitored, per);
		if (passes != LEVEL_PASSES)
			die("level passes", EPROTO);
		LevelCounts lc = { .bytes = per + 3, .regions = per + 3 + nl, .nr = level_nr, .n = N_LEVELS,
				   .max_nr = MAX_NR, .passes = (uint32_t)passes };
		metric_levels_hot(&lc, nodes, (size_t)n_nodes, &h);
		double t1 = cpu_ms();
		/* The state write and every counter (sysfs_read reads each file
		 * to its end: two read calls a file). */
		double nfiles = 1.0 + (double)n;
		cpu[rep] = t1 - t0;
		real[rep] = cpu[rep] + nfiles * (costs.real_file_full_us - costs.tmpfs_file_full_us) / 1e3;
		files += nfiles;
		for (int k = 0; k < n_nodes; k++)
			err_max = MAX(err_max, fabs((double)h.share_bp[k] - (double)truth_bp[k]));
		double et = ((double)h.total - truth_total) / truth_total * 1e4;
		err_sum += et;
		err2 += et * et;
		bound_sum += (double)h.err_bytes / truth_total * 1e4;
	}
	median_max(cpu, &res->lv_cpu_med, &res->lv_cpu_max);
	median_max(real, &res->lv_real_med, &res->lv_real_max);
	res->lv_files = files / reps;
	res->lv_err_bp_max = err_max;
	res->lv_err_total_mean_bp = err_sum / reps;
	res->lv_err_total_2sigma_bp = 2 * sqrt(err2 / reps);
	res->lv_bound_bp_mean = bound_sum / reps;
}

static void run_scenario(const Scenario *sc, Result *res)
{
	char root[256];
	Layout L;
	Truth *t;
	double g0 = wall_us();

	snprintf(root, sizeof(root), "%s/dtierd-bench.XXXXXX", tmpbase);
	if (!mkdtemp(root))
		die(root, errno);
	layout_init(&L, sc->mem, sc->n_nodes, sc->thp_pct / 100.0,
		    mix64(sc->mem ^ sc->n_regions * 131 ^ (uint64_t)sc->n_nodes * 7 ^ (uint64_t)sc->thp_pct));
	LevelSource ls;
	size_t n_hot = build_root(root, &L, &t, sc->n_regions, &ls);
	double exact_node[3], exact_total;
	exact_hot(t, n_hot, sc->n_nodes, exact_node, &exact_total);
	uint32_t exact_bp[3];
	{
		uint64_t b[3];
		for (int k = 0; k < sc->n_nodes; k++)
			b[k] = (uint64_t)exact_node[k];
		metric_shares_bp(b, (size_t)sc->n_nodes, exact_bp);
	}
	res->gen_s = (wall_us() - g0) / 1e6;

	Sysfs fs;
	NodeMap map;
	int r;
	if ((r = sysfs_open(root, &fs)) < 0 || (r = node_map_load(&fs, &map)) < 0)
		die("node map", -r);
	const int nodes[] = { 0, 1, 2 };
	const HotPattern pat = { .min_nr_accesses = MIN_NR, .min_age = 0, .max_nr_accesses = MAX_NR };
	double cpu[64], real[64], reg_ms = 0, split_ms = 0, kpf_ms = 0, files = 0, kbytes = 0, kcalls = 0;
	double err_max = 0, err2 = 0, err_sum = 0, bound_sum = 0, bound_min = 1e18;

	if (reps > 64)
		reps = 64;
	for (int rep = 0; rep < reps; rep++) {
		RegionList regions;
		Kpf kpf;
		PaddrLocator loc;
		HotShare h, h0;
		uint64_t c0, b0, c1, b1, c2, b2;

		if ((r = kpageflags_open(&fs, mix64(rep + 1), &kpf)) < 0)
			die("kpageflags", -r);
		/* The split alone (no kpageflags), for the stage table. */
		if ((r = tried_regions_read(&fs, TRIED, read_fields, &regions)) < 0)
			die("tried_regions", -r);
		paddr_locator_init(&loc, &map, NULL);
		double s0 = cpu_ms();
		metric_hot_share(&regions, &pat, &loc.base, budget, nodes, (size_t)sc->n_nodes, &h0);
		double s1 = cpu_ms();
		region_list_free(&regions);

		/* One interval, as the daemon does it. */
		io_counts(&c0, &b0);
		double t0 = cpu_ms();
		if ((r = tried_regions_read(&fs, TRIED, read_fields, &regions)) < 0)
			die("tried_regions", -r);
		double t1 = cpu_ms();
		io_counts(&c1, &b1);
		paddr_locator_init(&loc, &map, &kpf);
		double t2 = cpu_ms();
		if ((r = metric_hot_share(&regions, &pat, &loc.base, budget, nodes, (size_t)sc->n_nodes, &h)) < 0)
			die("metric", -r);
		double t3 = cpu_ms();
		io_counts(&c2, &b2);
		res->n_tried = regions.n;
		region_list_free(&regions);
		kpageflags_close(&kpf);

		double nfiles = (double)(c1 - c0 - 1), ncalls = (double)(c2 - c1 - 1);
		double nentries = (double)(b2 - b1) / 8; /* /proc/self/io itself: < 200 bytes */
		cpu[rep] = (t1 - t0) + (t3 - t2);
		double file_delta = rel_opens ? costs.real_file_rel_us - costs.tmpfs_file_rel_us
					      : costs.real_file_full_us - costs.tmpfs_file_full_us;
		real[rep] = cpu[rep] + nfiles * file_delta / 1e3 +
			    ncalls * (costs.real_kpf_call_us - costs.tmpfs_kpf_call_us) / 1e3 +
			    nentries * (costs.real_kpf_entry_ns - costs.tmpfs_kpf_entry_ns) / 1e6;
		reg_ms += t1 - t0;
		split_ms += s1 - s0;
		kpf_ms += (t3 - t2) - (s1 - s0);
		files += nfiles;
		kbytes += (double)(b2 - b1);
		kcalls += ncalls;
		for (int k = 0; k < sc->n_nodes; k++) {
			double e = fabs((double)h.share_bp[k] - (double)exact_bp[k]);
			if (e > err_max)
				err_max = e;
		}
		double et = ((double)h.total - exact_total) / exact_total * 1e4;
		err2 += et * et;
		err_sum += et;
		double bnd = (double)h.err_bytes / exact_total * 1e4;
		bound_sum += bnd;
		if (bnd < bound_min)
			bound_min = bnd;
	}
	median_max(cpu, &res->cpu_med, &res->cpu_max);
	median_max(real, &res->real_med, &res->real_max);
	res->regions_ms = reg_ms / reps;
	res->split_ms = split_ms / reps;
	res->kpf_ms = kpf_ms / reps;
	res->files = files / reps;
	res->kpf_mib = kbytes / reps / (1 << 20);
	res->kpf_calls = kcalls / reps;
	res->err_bp_max = err_max;
	res->err_total_rms_bp = sqrt(err2 / reps);
	res->err_total_mean_bp = err_sum / reps;
	res->bound_bp_mean = bound_sum / reps;
	res->bound_bp_min = bound_min;
	run_levels(&fs, root, &ls, L.mem, res);

	node_map_free(&map);
	sysfs_close(&fs);
	free(t);
	free(ls.t);
	free(ls.p);
	free(L.block_node);
	rmtree(root);
}

/* ---- per-file and per-entry costs, tmpfs and real ---- */

static double file_cost_us(int dirfd, const char *path, int n)
{
	char buf[128];
	double t0 = wall_us();
	for (int i = 0; i < n; i++) {
		int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NAN;
		if (read(fd, buf, sizeof(buf)) < 0) {
			close(fd);
			return NAN;
		}
		close(fd);
	}
	return (wall_us() - t0) / n;
}

/* Per pread call and per entry, from 64- and 512-entry reads at random
 * 64-aligned PFNs below MAX_PFN. */
static void kpf_cost(int fd, uint64_t max_pfn, double *ret_call_us, double *ret_entry_ns)
{
	static uint64_t buf[512];
	const size_t sz[2] = { 16, 512 };
	const int n = 2000, rounds = 7;
	double call[7], entry[7];
	for (int round = 0; round < rounds; round++) {
		double t[2];
		for (int j = 0; j < 2; j++) {
			double t0 = wall_us();
			/* The same PFNs for both sizes: the per-entry cost depends on
			 * what is there. */
			for (int i = 0; i < n; i++) {
				uint64_t pfn = (mix64((uint64_t)(round * n + i)) % (max_pfn - 512)) & ~511ULL;
				if (pread(fd, buf, sz[j] * 8, (off_t)(pfn * 8)) < 0)
					die("pread kpageflags", errno);
			}
			t[j] = (wall_us() - t0) / n;
		}
		entry[round] = (t[1] - t[0]) / (double)(sz[1] - sz[0]) * 1e3;
		call[round] = t[0] - (double)sz[0] * entry[round] / 1e3;
	}
	qsort(call, rounds, sizeof(double), cmp_d);
	qsort(entry, rounds, sizeof(double), cmp_d);
	*ret_entry_ns = entry[rounds / 2];
	*ret_call_us = MAX(call[rounds / 2], 0.0);
}

static void measure_costs(void)
{
	char root[256];
	snprintf(root, sizeof(root), "%s/dtierd-bench.XXXXXX", tmpbase);
	if (!mkdtemp(root))
		die(root, errno);
	mkdirs(root, TRIED "/1");
	put(root, TRIED "/1/start", "4294967296\n");
	int rootfd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	char p[512];
	snprintf(p, sizeof(p), "%s/" TRIED, root);
	int dfd = open(p, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	costs.tmpfs_file_full_us = file_cost_us(rootfd, TRIED "/1/start", 20000);
	costs.tmpfs_file_rel_us = file_cost_us(dfd, "1/start", 20000);
	close(dfd);

	/* Real sysfs: harmless read-only attributes (block_size_bytes is as
	 * small as a DAMON region file). Full path from "/" vs relative. */
	int sysroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int memdir = open("/sys/devices/system/memory", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	costs.real_file_full_us = file_cost_us(sysroot, "sys/devices/system/memory/block_size_bytes", 20000);
	costs.real_file_rel_us = memdir >= 0 ? file_cost_us(memdir, "block_size_bytes", 20000) : NAN;
	if (isnan(costs.real_file_full_us)) {
		/* The figure. */
		costs.real_file_full_us = 5.5;
		costs.real_file_rel_us = 5.0;
	}
	if (memdir >= 0)
		close(memdir);
	close(sysroot);

	/* tmpfs kpageflags: a 64 MiB sparse file with data. */
	snprintf(p, sizeof(p), "%s/kpf", root);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	static uint64_t blk[8192];
	for (size_t i = 0; i < 8192; i++)
		blk[i] = B(KPF_LRU);
	for (int i = 0; i < 1024; i++)
		if (pwrite(fd, blk, sizeof(blk), (off_t)i * (off_t)sizeof(blk)) < 0)
			die(p, errno);
	kpf_cost(fd, 1024 * 8192, &costs.tmpfs_kpf_call_us, &costs.tmpfs_kpf_entry_ns);
	close(fd);
	close(rootfd);
	rmtree(root);

	/* The real /proc/kpageflags, read-only, where readable (root). */
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	long phys = sysconf(_SC_PHYS_PAGES);
	if (fd >= 0 && phys > 4096) {
		kpf_cost(fd, (uint64_t)phys, &costs.real_kpf_call_us, &costs.real_kpf_entry_ns);
		costs.real_kpf = true;
		close(fd);
	} else {
		if (fd >= 0)
			close(fd);
		costs.real_kpf_call_us = 0.5; /* the issue's ~56 ns per entry, say 0.5 us per call */
		costs.real_kpf_entry_ns = 56;
	}
}

/* The levels table: the same roots, measure.source = "levels". */
static void print_levels(const Scenario *sc, const Result *res, size_t n)
{
	printf("\nmeasure.source = \"levels\" on the same roots (%d levels per node; every byte of a hot region "
	       "counts, migratable or not; error against %s):\n\n",
	       N_LEVELS, sampled_nr ? "the accessed bytes before DAMON's sampling, each interval sampled afresh"
				    : "the exact count");
	printf("| memory | regions | nodes | THP | files | CPU/interval median (max) ms "
	       "| real-kernel est. median (max) ms | share err max bp | total err mean (2 sigma) bp | bound mean bp |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++)
		printf("| %llu GiB | %zu | %d | %d %% | %.0f | %.3f (%.3f) | %.3f (%.3f) | %.1f | %+.1f (%.1f) | %.1f |\n",
		       (unsigned long long)(sc[i].mem / GIB), res[i].n_tried, sc[i].n_nodes, sc[i].thp_pct, res[i].lv_files,
		       res[i].lv_cpu_med, res[i].lv_cpu_max, res[i].lv_real_med, res[i].lv_real_max, res[i].lv_err_bp_max,
		       res[i].lv_err_total_mean_bp, res[i].lv_err_total_2sigma_bp, res[i].lv_bound_bp_mean);
}

static void usage(void)
{
	printf("usage: dtierd-bench [--quick] [--only MEM_GIB[:REGIONS]] [--budget PAGES] [--reps N] [--tmp DIR]\n"
	       "                    [--costs FULL_US,REL_US,CALL_US,ENTRY_NS] [--full-path-opens] [--with-age]\n"
	       "                    [--sampled]\n"
	       "  Builds fake roots in DIR (default /dev/shm) and prints a markdown table.\n"
	       "  --costs: real-kernel costs to estimate with (sysfs file by full path and relative,\n"
	       "  kpageflags per pread and per entry) instead of the ones measured here;\n"
	       "  --full-path-opens: the library opens region files by full path (before issue 10);\n"
	       "  --with-age: each region's age file is read too (before 2026-12-01's second session);\n"
	       "  --sampled: hot regions' nr_accesses as DAMON's sampling counts them (only LRU pages\n"
	       "  read as accessed) instead of as given whatever the pages are.\n");
}

int main(int argc, char **argv)
{
	bool quick = false;
	const char *costs_arg = NULL;
	uint64_t only_mem = 0;
	size_t only_regions = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
			budget = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--costs") && i + 1 < argc)
			costs_arg = argv[++i];
		else if (!strcmp(argv[i], "--full-path-opens"))
			rel_opens = false;
		else if (!strcmp(argv[i], "--sampled"))
			sampled_nr = true;
		else if (!strcmp(argv[i], "--with-age"))
			read_fields = TRIED_ALL;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tmp") && i + 1 < argc)
			tmpbase = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			char *e;
			only_mem = strtoull(argv[++i], &e, 10);
			only_regions = *e == ':' ? strtoull(e + 1, NULL, 10) : 0;
		} else {
			usage();
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (reps < 2)
		reps = 2;

	measure_costs();
	if (costs_arg &&
	    sscanf(costs_arg, "%lf,%lf,%lf,%lf", &costs.real_file_full_us, &costs.real_file_rel_us,
		   &costs.real_kpf_call_us, &costs.real_kpf_entry_ns) != 4) {
		usage();
		return 2;
	}
	printf("costs: file open+read+close tmpfs %.2f us (relative %.2f), real sysfs %.2f us (relative %.2f); "
	       "kpageflags pread tmpfs %.2f us + %.1f ns/entry, real %.2f us + %.1f ns/entry%s\n",
	       costs.tmpfs_file_full_us, costs.tmpfs_file_rel_us, costs.real_file_full_us, costs.real_file_rel_us,
	       costs.tmpfs_kpf_call_us, costs.tmpfs_kpf_entry_ns, costs.real_kpf_call_us, costs.real_kpf_entry_ns,
	       costs.real_kpf ? "" : " (not readable here: the issue's figures)");
	printf("budget %llu pages, %d intervals per scenario, fake roots in %s; nr_accesses %s\n\n",
	       (unsigned long long)budget, reps, tmpbase,
	       sampled_nr ? "sampled as DAMON does (--sampled)" : "as given, whatever the pages");
	printf("| memory | regions | nodes | THP | CPU/interval median (max) ms | stages: regions / split / kpageflags ms "
	       "| files | kpageflags MiB (preads) | real-kernel est. median (max) ms | share err max bp | total err rms (mean) bp "
	       "| bound mean (min) bp | build s |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);

	const uint64_t mems[] = { 64, 1024, 4096 };
	const size_t regs[] = { 1000, 8192 };
	Scenario done_sc[24];
	Result done[24];
	size_t n_done = 0;
	for (size_t mi = 0; mi < 3; mi++)
		for (size_t ri = 0; ri < 2; ri++)
			for (int nn = 2; nn <= 3; nn++)
				for (int th = 0; th < 2; th++) {
					Scenario sc = { mems[mi] * GIB, regs[ri], nn, th ? 70 : 10 };
					Result res = { 0 };
					if (only_mem && (mems[mi] != only_mem || (only_regions && regs[ri] != only_regions)))
						continue;
					if (quick && (nn == 3 || mi == 2))
						continue;
					run_scenario(&sc, &res);
					printf("| %llu GiB | %zu | %d | %d %% | %.1f (%.1f) | %.1f / %.1f / %.1f | %.0f | %.1f (%.0f) "
					       "| %.0f (%.0f) | %.1f | %.1f (%+.1f) | %.1f (%.1f) | %.1f |\n",
					       (unsigned long long)mems[mi], res.n_tried, nn, sc.thp_pct, res.cpu_med,
					       res.cpu_max, res.regions_ms, res.split_ms, res.kpf_ms, res.files, res.kpf_mib,
					       res.kpf_calls, res.real_med, res.real_max, res.err_bp_max, res.err_total_rms_bp, res.err_total_mean_bp,
					       res.bound_bp_mean, res.bound_bp_min, res.gen_s);
					fflush(stdout);
					done_sc[n_done] = sc;
					done[n_done++] = res;
				}
	print_levels(done_sc, done, n_done);
	return 0;
}
