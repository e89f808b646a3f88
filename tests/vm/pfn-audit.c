/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtierd-pfn-audit: what the hot bytes in DAMON's hot regions really are, page
 * by page. For the VM tests: it reads one scheme's tried regions (as left by
 * dtierd's last update), the memory-block node map, /proc/kpageflags and the
 * workload's own /proc/PID/pagemap, and sorts every page of every region that
 * matches the scheme's access pattern into: the workload's hot pages, the
 * workload's cold pages, other processes' or the page cache's pages, and
 * pages DAMON cannot migrate. Independent of dtierd's own code.
 *
 *   dtierd-pfn-audit --pid P --buf ADDR --buf-mib N --hot ADDR --hot-mib N
 *                    [--islands N] [--kdamond K] [--scheme S] [--regions] [--update]
 *
 * --update first asks the kdamond for fresh tried regions
 * (update_schemes_tried_regions): with measure.source = "levels" dtierd
 * never does. Guest only: it writes the kdamond's state file.
 *
 * Output: one "AUDIT node=..." line per node and, with --regions, one
 * "AUDIT-R ..." line per matching region piece. Per node, weighted is the
 * exact count of dtierd's meaning (a region piece's migratable bytes, at
 * most piece x nr_accesses / max), raw the same without the cap: what the
 * level schemes count (every byte of a hot region, weighted by its level).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE ((uint64_t)4096)
#define MAX_NODES 8
#define KPF_REFERENCED 2
#define KPF_ACTIVE 6
#define KPF_LRU 5
#define KPF_SLAB 7
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_HEAD 15
#define KPF_TAIL 16
#define KPF_HUGE 17
#define KPF_UNEVICTABLE 18
#define KPF_NOPAGE 20
#define KPF_THP 22
#define KPF_OFFLINE 23
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

typedef struct Owned {
	uint64_t pfn;
	int hot;
	int seen; /* 1: in a counted region, 2: there but not migratable */
} Owned;

typedef struct Tally {
	uint64_t region, migratable, wl_hot, wl_cold, other_anon, other_file, other_mapped, unmovable;
	uint64_t weighted;  /* min(migratable, region * nr_accesses / max) */
	uint64_t raw;       /* region * nr_accesses / max: what the levels count */
} Tally;

static uint64_t read_u64(const char *path, int base)
{
	char buf[64] = "";
	FILE *f = fopen(path, "re");
	if (!f)
		return UINT64_MAX;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoull(buf, NULL, base);
}

static int cmp_owned(const void *a, const void *b)
{
	const Owned *x = a, *y = b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* PFNs of the workload's mapping, each marked hot or cold. */
/* Whether address A of the workload's mapping [BUF, BUF + LEN) is hot: in
 * [HOT, HOT + HOT_LEN), or with ISLANDS > 1 (dtierd-workload --islands) in
 * one of the islands of HOT_LEN / ISLANDS at the start of each
 * LEN / ISLANDS of the mapping. */
static bool is_hot(uint64_t a, uint64_t buf, uint64_t len, uint64_t hot, uint64_t hot_len, uint64_t islands)
{
	if (islands <= 1)
		return a >= hot && a < hot + hot_len;
	return (a - buf) % (len / islands) < hot_len / islands;
}

static Owned *read_owned(int pid, uint64_t buf, uint64_t len, uint64_t hot, uint64_t hot_len, uint64_t islands,
			 size_t *ret_n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = len / PAGE, k = 0;
	uint64_t *pm = calloc(n, 8);
	Owned *o = calloc(n, sizeof(*o));
	if (!pm || !o || pread(fd, pm, n * 8, (off_t)(buf / PAGE * 8)) != (ssize_t)(n * 8)) {
		close(fd);
		free(pm);
		free(o);
		return NULL;
	}
	close(fd);
	for (size_t i = 0; i < n; i++) {
		if (!(pm[i] >> 63))
			continue;
		uint64_t a = buf + i * PAGE;
		o[k++] = (Owned){ pm[i] & ((1ULL << 55) - 1), is_hot(a, buf, len, hot, hot_len, islands) };
	}
	free(pm);
	qsort(o, k, sizeof(*o), cmp_owned);
	*ret_n = k;
	return o;
}

/* One tried region as its four files said. */
typedef struct Region {
	uint64_t start, end, acc, age;
} Region;

static int cmp_region(const void *a, const void *b)
{
	const Region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* One value from file NAME under the directory DFD; UINT64_MAX if it is
 * gone. */
static uint64_t read_u64_at(int dfd, const char *name)
{
	char buf[64];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UINT64_MAX;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

/* Every region under SDIR, sorted by start, with how many vanished while
 * we read them; NULL on ENOMEM or if SDIR cannot be opened.
 *
 * Another writer's update (dtierd's own, every interval, with
 * measure.source = "regions") removes and refills the region directories
 * while we read them. Reading a region's four files by path mixed two
 * updates: one region's start with another's end made one region of
 * half the node (s22-regions-7.3: levels vs exact 5164 bp). The files are
 * opened relative to the region's own directory, so they are all one
 * region's, or missing once it is removed: then the region is skipped. */
static Region *read_regions(const char *sdir, size_t *ret_n, unsigned *ret_vanished)
{
	DIR *d = opendir(sdir);
	Region *r = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	*ret_vanished = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			Region *nr = realloc(r, (cap = cap ? cap * 2 : 1024) * sizeof(*r));
			if (!nr) {
				free(r);
				closedir(d);
				return NULL;
			}
			r = nr;
		}
		int rfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		Region x = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
		if (rfd >= 0) {
			x = (Region){ read_u64_at(rfd, "start"), read_u64_at(rfd, "end"),
				      read_u64_at(rfd, "nr_accesses"), read_u64_at(rfd, "age") };
			close(rfd);
		}
		if (x.start == UINT64_MAX || x.end == UINT64_MAX || x.acc == UINT64_MAX || x.age == UINT64_MAX)
			(*ret_vanished)++;
		else
			r[n++] = x;
	}
	closedir(d);
	if (!r && !(r = malloc(sizeof(*r))))
		return NULL;
	qsort(r, n, sizeof(*r), cmp_region);
	*ret_n = n;
	return r;
}

static int node_of_pfn(const int *block_node, size_t n_blocks, uint64_t block_pages, uint64_t pfn);

/* Flags of the head of the folio PFN is in (PFN's own if not a tail). */
static uint64_t head_before(int kpf, uint64_t pfn)
{
	for (uint64_t back = 0; back <= 512 && back <= pfn; back++) {
		uint64_t f = 0;
		if (pread(kpf, &f, 8, (off_t)((pfn - back) * 8)) != 8)
			return 0;
		if (!(f & (1ULL << KPF_TAIL)))
			return f;
	}
	return 0;
}

/* The workload's hot pages in no counted region (or counted but not
 * migratable), as PFN ranges with their node: where the measurement is short. */
static void print_missing(const Owned *o, size_t n, const int *block_node, size_t n_blocks, uint64_t block_pages)
{
	for (size_t i = 0; i < n;) {
		if (!o[i].hot || o[i].seen == 1) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < n && o[j].hot && o[j].seen == o[i].seen && o[j].pfn == o[j - 1].pfn + 1)
			j++;
		printf("AUDIT-MISSING node=%d pfn=0x%" PRIx64 "-0x%" PRIx64 " kib=%zu %s\n",
		       node_of_pfn(block_node, n_blocks, block_pages, o[i].pfn), o[i].pfn, o[j - 1].pfn + 1,
		       (j - i) * 4, o[i].seen == 2 ? "in-region-unmovable" : "no-counted-region");
		i = j;
	}
}

/* The monitoring target's initial regions, as dtierd wrote them. */
static void print_targets(int kd)
{
	for (int i = 0;; i++) {
		char p[160];
		snprintf(p, sizeof(p), "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0/targets/0/regions/%d/start",
			 kd, i);
		uint64_t s = read_u64(p, 10);
		snprintf(p, sizeof(p), "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0/targets/0/regions/%d/end",
			 kd, i);
		uint64_t e = read_u64(p, 10);
		if (s == UINT64_MAX || e == UINT64_MAX)
			return;
		printf("AUDIT-TARGET pfn=0x%" PRIx64 "-0x%" PRIx64 "\n", s / PAGE, e / PAGE);
	}
}

/* Asks kdamond KD to refill its schemes' tried_regions; the write returns
 * once the kdamond has done it. dtierd's own state writes hold the admin
 * tree's trylock meanwhile: EBUSY is retried for up to 10 s. */
static int update_tried_regions(int kd)
{
	static const char cmd[] = "update_schemes_tried_regions\n";
	char p[96];
	int err = 0;

	snprintf(p, sizeof(p), "/sys/kernel/mm/damon/admin/kdamonds/%d/state", kd);
	for (int tries = 0; tries < 500; tries++) {
		int fd = open(p, O_WRONLY | O_CLOEXEC);
		err = fd < 0 || write(fd, cmd, sizeof(cmd) - 1) < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		if (err != EBUSY)
			break;
		usleep(20000);
	}
	if (err)
		fprintf(stderr, "AUDIT error: %s: update_schemes_tried_regions: %s\n", p, strerror(err));
	return err ? -1 : 0;
}

static bool has_regions(DIR *d)
{
	struct dirent *de;
	bool found = false;

	while (!found && (de = readdir(d)))
		found = de->d_name[0] >= '0' && de->d_name[0] <= '9';
	rewinddir(d);
	return found;
}

static int node_of_pfn(const int *block_node, size_t n_blocks, uint64_t block_pages, uint64_t pfn)
{
	uint64_t b = pfn / block_pages;
	return b < n_blocks ? block_node[b] : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "buf", required_argument, NULL, 'b' },
		{ "buf-mib", required_argument, NULL, 'B' },
		{ "hot", required_argument, NULL, 'h' },
		{ "hot-mib", required_argument, NULL, 'H' },
		{ "kdamond", required_argument, NULL, 'k' },
		{ "scheme", required_argument, NULL, 's' },
		{ "regions", no_argument, NULL, 'r' },
		{ "update", no_argument, NULL, 'u' },
		{ "islands", required_argument, NULL, 'I' },
		{}
	};
	int pid = 0, kd = 0, sc = 0, c;
	uint64_t buf = 0, buf_len = 0, hot = 0, hot_len = 0, islands = 1;
	bool per_region = false, update = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pid = atoi(optarg); break;
		case 'b': buf = strtoull(optarg, NULL, 0); break;
		case 'B': buf_len = strtoull(optarg, NULL, 0) << 20; break;
		case 'h': hot = strtoull(optarg, NULL, 0); break;
		case 'H': hot_len = strtoull(optarg, NULL, 0) << 20; break;
		case 'k': kd = atoi(optarg); break;
		case 's': sc = atoi(optarg); break;
		case 'r': per_region = true; break;
		case 'u': update = true; break;
		case 'I': islands = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	size_t n_owned = 0;
	Owned *owned = read_owned(pid, buf, buf_len, hot, hot_len, islands, &n_owned);
	if (!owned) {
		fprintf(stderr, "AUDIT error: cannot read pid %d's pagemap\n", pid);
		return 1;
	}

	/* Memory-block node map. */
	uint64_t block_pages = read_u64("/sys/devices/system/memory/block_size_bytes", 16) / PAGE;
	static int block_node[1 << 16];
	size_t n_blocks = 0;
	memset(block_node, 0xff, sizeof(block_node));
	for (int nd = 0; nd < MAX_NODES; nd++) {
		char p[96];
		snprintf(p, sizeof(p), "/sys/devices/system/node/node%d", nd);
		DIR *d = opendir(p);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d))) {
			unsigned long b;
			if (sscanf(de->d_name, "memory%lu", &b) == 1 && b < (1 << 16)) {
				block_node[b] = nd;
				if (b + 1 > n_blocks)
					n_blocks = b + 1;
			}
		}
		closedir(d);
	}

	char sdir[160], p[256];
	snprintf(sdir, sizeof(sdir), "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0", kd);
	snprintf(p, sizeof(p), "%s/monitoring_attrs/intervals/sample_us", sdir);
	uint64_t sample_us = read_u64(p, 10);
	snprintf(p, sizeof(p), "%s/monitoring_attrs/intervals/aggr_us", sdir);
	uint64_t max_acc = read_u64(p, 10) / (sample_us ? sample_us : 1);
	snprintf(p, sizeof(p), "%s/schemes/%d/access_pattern/nr_accesses/min", sdir, sc);
	uint64_t min_acc = read_u64(p, 10);
	snprintf(p, sizeof(p), "%s/schemes/%d/access_pattern/age/min", sdir, sc);
	uint64_t min_age = read_u64(p, 10);
	snprintf(sdir + strlen(sdir), sizeof(sdir) - strlen(sdir), "/schemes/%d/tried_regions", sc);

	if (per_region)
		print_targets(kd);
	int kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	DIR *d = NULL;
	/* dtierd's update_schemes_tried_regions empties the directory while
	 * it runs: wait for a populated one. On 6.12 our own update often
	 * comes back empty (s17, s20: up to five in a row, while dtierd's levels
	 * saw the regions): ask again, up to 5 times, and say how many it took. */
	for (int upd = 1; upd <= (update ? 5 : 1); upd++) {
		if (d)
			closedir(d);
		if (update && update_tried_regions(kd) < 0)
			return 1;
		d = opendir(sdir);
		for (int tries = 0; d && tries < 20 && !has_regions(d); tries++) {
			closedir(d);
			usleep(100000);
			d = opendir(sdir);
		}
		if (!d || has_regions(d)) {
			if (update)
				printf("AUDIT updates=%d\n", upd);
			break;
		}
		/* Which way 6.12 came back empty: total_bytes 0 is its update
		 * timing out before the scheme was applied (the timeout is
		 * wall-clock, the apply a count of kdamond iterations); bytes
		 * without directories is another writer's tried-bytes or
		 * clear command wiping them. */
		char tb[400];
		snprintf(tb, sizeof(tb), "%s/total_bytes", sdir);
		printf("AUDIT empty update %d: total_bytes=%llu\n", upd, (unsigned long long)read_u64(tb, 10));
	}
	if (kpf < 0 || !d) {
		fprintf(stderr, "AUDIT error: cannot open kpageflags or %s\n", sdir);
		return 1;
	}
	closedir(d);
	size_t n_snap = 0;
	unsigned vanished = 0;
	Region *snap = read_regions(sdir, &n_snap, &vanished);
	if (!snap) {
		fprintf(stderr, "AUDIT error: cannot read %s: %s\n", sdir, strerror(errno));
		return 1;
	}
	printf("AUDIT vanished_while_read=%u\n", vanished);
	Tally t[MAX_NODES] = { 0 };
	unsigned n_regions = 0;
	for (size_t ri = 0; ri < n_snap; ri++) {
		uint64_t s = snap[ri].start, e = snap[ri].end, acc = snap[ri].acc, age = snap[ri].age;
		if (e <= s || acc < min_acc || age < min_age)
			continue;
		n_regions++;
		/* A region may start inside a large folio: its tails are what
		 * their head is. */
		uint64_t head = head_before(kpf, s / PAGE);
		Tally piece[MAX_NODES] = { 0 };
		for (uint64_t pfn = s / PAGE; pfn < e / PAGE; pfn++) {
			int nd = node_of_pfn(block_node, n_blocks, block_pages, pfn);
			if (nd < 0 || nd >= MAX_NODES)
				continue;
			uint64_t f = 0;
			if (pread(kpf, &f, 8, (off_t)(pfn * 8)) != 8)
				f = 1ULL << KPF_NOPAGE;
			if (!(f & (1ULL << KPF_TAIL)))
				head = f;
			uint64_t v = (f & (1ULL << KPF_TAIL)) ? head : f;
			Tally *x = &piece[nd];
			x->region += PAGE;
			bool mig = (v & (1ULL << KPF_LRU)) &&
				   !(v & ((1ULL << KPF_SLAB) | (1ULL << KPF_BUDDY) | (1ULL << KPF_HUGE) |
					  (1ULL << KPF_NOPAGE) | (1ULL << KPF_OFFLINE) | (1ULL << KPF_PGTABLE) |
					  (1ULL << KPF_RESERVED)));
			if (!mig) {
				Owned k2 = { pfn, 0 }, *o2 = bsearch(&k2, owned, n_owned, sizeof(*owned), cmp_owned);
				if (o2)
					o2->seen = 2;
				x->unmovable += PAGE;
				continue;
			}
			x->migratable += PAGE;
			Owned key = { pfn, 0 }, *o = bsearch(&key, owned, n_owned, sizeof(*owned), cmp_owned);
			if (o)
				o->seen = 1;
			if (o && o->hot)
				x->wl_hot += PAGE;
			else if (o)
				x->wl_cold += PAGE;
			else if (v & (1ULL << KPF_ANON))
				x->other_anon += PAGE;
			else if (v & (1ULL << KPF_MMAP))
				x->other_mapped += PAGE;
			else
				x->other_file += PAGE;
		}
		for (int nd = 0; nd < MAX_NODES; nd++) {
			Tally *x = &piece[nd];
			if (!x->region)
				continue;
			uint64_t w = max_acc ? x->region * acc / max_acc : x->region;
			x->weighted = w < x->migratable ? w : x->migratable;
			x->raw = w;
			if (per_region)
				printf("AUDIT-R node=%d pfn=0x%" PRIx64 "-0x%" PRIx64 " nr_accesses=%" PRIu64
				       " age=%" PRIu64 " kib=%" PRIu64 " migratable=%" PRIu64 " wl_hot=%" PRIu64
				       " wl_cold=%" PRIu64 " other=%" PRIu64 "\n",
				       nd, s / PAGE, e / PAGE, acc, age, x->region / 1024, x->migratable / 1024, x->wl_hot / 1024,
				       x->wl_cold / 1024, (x->other_anon + x->other_file + x->other_mapped) / 1024);
			t[nd].region += x->region;
			t[nd].migratable += x->migratable;
			t[nd].wl_hot += x->wl_hot;
			t[nd].wl_cold += x->wl_cold;
			t[nd].other_anon += x->other_anon;
			t[nd].other_file += x->other_file;
			t[nd].other_mapped += x->other_mapped;
			t[nd].unmovable += x->unmovable;
			t[nd].weighted += x->weighted;
			t[nd].raw += x->raw;
		}
	}
	free(snap);
	uint64_t tot_mig = 0, tot_hot = 0, tot_w = 0, tot_raw = 0, wl_truth[MAX_NODES] = { 0 }, wl_tot = 0;
	for (size_t i = 0; i < n_owned; i++)
		if (owned[i].hot) {
			int nd = node_of_pfn(block_node, n_blocks, block_pages, owned[i].pfn);
			if (nd >= 0 && nd < MAX_NODES)
				wl_truth[nd] += PAGE;
			wl_tot += PAGE;
		}
	for (int nd = 0; nd < MAX_NODES; nd++) {
		tot_mig += t[nd].migratable;
		tot_hot += t[nd].wl_hot;
		tot_w += t[nd].weighted;
		tot_raw += t[nd].raw;
	}
	printf("AUDIT regions=%u min_nr_accesses=%" PRIu64 "/%" PRIu64 " min_age=%" PRIu64 "\n", n_regions, min_acc,
	       max_acc, min_age);
	for (int nd = 0; nd < MAX_NODES; nd++) {
		Tally *x = &t[nd];
		if (!x->region && !wl_truth[nd])
			continue;
		printf("AUDIT node=%d region_kib=%" PRIu64 " counted_kib=%" PRIu64 " wl_hot_kib=%" PRIu64
		       " wl_cold_kib=%" PRIu64 " other_anon_kib=%" PRIu64 " other_mapped_file_kib=%" PRIu64
		       " other_unmapped_file_kib=%" PRIu64 " unmovable_kib=%" PRIu64 " weighted_kib=%" PRIu64
		       " raw_kib=%" PRIu64 " counted_bp=%" PRIu64 " weighted_bp=%" PRIu64 " raw_bp=%" PRIu64
		       " truth_bp=%" PRIu64 "\n",
		       nd, x->region / 1024, x->migratable / 1024, x->wl_hot / 1024, x->wl_cold / 1024,
		       x->other_anon / 1024, x->other_mapped / 1024, x->other_file / 1024, x->unmovable / 1024,
		       x->weighted / 1024, x->raw / 1024, tot_mig ? x->migratable * 10000 / tot_mig : 0,
		       tot_w ? x->weighted * 10000 / tot_w : 0, tot_raw ? x->raw * 10000 / tot_raw : 0, wl_tot ? wl_truth[nd] * 10000 / wl_tot : 0);
	}
	(void)tot_hot;
	print_missing(owned, n_owned, block_node, n_blocks, block_pages);
	return 0;
}
