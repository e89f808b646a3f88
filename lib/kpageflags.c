/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <math.h>
#include <string.h>

#include "kpageflags.h"
#include "util.h"

#define BIT(n) (1ULL << (n))
#define READ_BATCH 8192 /* entries per pread: 64 KiB */
#define KPF_THP 22

int kpageflags_open(const Sysfs *fs, uint64_t seed, Kpf *ret)
{
	int fd = openat(fs->root_fd, "proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret = (Kpf){ .fd = fd, .rng = seed ? seed : 0x9e3779b97f4a7c15ULL };
	return 0;
}

void kpageflags_close(Kpf *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

static uint64_t never_bits(void);

bool kpageflags_page_migratable(uint64_t f)
{
	return (f & BIT(KPF_LRU)) && !(f & never_bits());
}

uint64_t kpageflags_count_buf_thp(const uint64_t *flags, size_t n, uint64_t lead_head, uint64_t *ret_thp)
{
	/* Older kernels set LRU only on the head page of a large folio, newer
	 * ones copy folio flags to every page: deciding tails by their head
	 * gives the same answer on both. */
	bool folio_ok = lead_head ? kpageflags_page_migratable(lead_head) : false;
	bool folio_thp = lead_head & BIT(KPF_THP);
	bool have_head = lead_head != 0;
	uint64_t count = 0, thp = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t f = flags[i];
		bool ok, is_thp;

		if (f & BIT(KPF_COMPOUND_TAIL) && !(f & BIT(KPF_NOPAGE))) {
			ok = have_head ? folio_ok : kpageflags_page_migratable(f);
			is_thp = have_head ? folio_thp : (f & BIT(KPF_THP));
		} else {
			ok = kpageflags_page_migratable(f);
			is_thp = f & BIT(KPF_THP);
			have_head = f & BIT(KPF_COMPOUND_HEAD);
			folio_ok = ok;
			folio_thp = is_thp;
		}
		count += ok;
		thp += ok && is_thp;
	}
	if (ret_thp)
		*ret_thp = thp;
	return count;
}

uint64_t kpageflags_count_buf(const uint64_t *flags, size_t n, uint64_t lead_head)
{
	return kpageflags_count_buf_thp(flags, n, lead_head, NULL);
}

static int pread_entries(Kpf *k, uint64_t pfn, uint64_t *buf, size_t n, size_t *ret_n)
{
	ssize_t got = pread(k->fd, buf, n * sizeof(uint64_t), (off_t)(pfn * sizeof(uint64_t)));
	if (got < 0)
		return -errno;
	/* Past the last PFN the kernel returns EOF: those pages do not exist. */
	*ret_n = (size_t)got / sizeof(uint64_t);
	return 0;
}

static uint64_t never_bits(void)
{
	return BIT(KPF_NOPAGE) | BIT(KPF_HUGE) | BIT(KPF_SLAB) | BIT(KPF_BUDDY) | BIT(KPF_OFFLINE) |
	       BIT(KPF_PGTABLE) | BIT(KPF_RESERVED);
}

/* Flags of the head of the folio that PFN's tail page (flags TAIL) belongs
 * to, or 0 if not found; adds the entries read to *READ. Folios are
 * naturally aligned: the head is at PFN & ~(2^order - 1), and every aligned
 * place between it and PFN is a tail of the same folio. The old fixed
 * 512-entry look-back read 19-57 MiB of kpageflags per interval, 2.4-6x the
 * budget (issue 10). */
static uint64_t find_head(Kpf *k, uint64_t pfn, uint64_t tail, uint64_t *read)
{
	uint64_t prev = pfn;

	/* A tail that is never migratable (hugetlb, slab) is not migratable
	 * whatever its head says. */
	if (tail & never_bits())
		return 0;
	for (unsigned order = 1; order <= 9; order++) {
		uint64_t c = pfn & ~((1ULL << order) - 1), f;
		size_t n = 0;

		if (c == prev)
			continue;
		prev = c;
		if (pread_entries(k, c, &f, 1, &n) < 0 || n == 0)
			return 0;
		(*read)++;
		if (f & BIT(KPF_COMPOUND_HEAD))
			return f;
		if (!(f & BIT(KPF_COMPOUND_TAIL)))
			break;
	}

	/* Not at an aligned place: a folio no kernel lays out this way (test
	 * data), or larger than a PMD. Look back linearly as far as a PMD. */
	uint64_t buf[KPF_MAX_LOOKBACK];
	uint64_t first = pfn > KPF_MAX_LOOKBACK ? pfn - KPF_MAX_LOOKBACK : 0;
	size_t n = 0;

	if (pfn == 0 || pread_entries(k, first, buf, (size_t)(pfn - first), &n) < 0)
		return 0;
	*read += n;
	for (size_t i = n; i-- > 0;) {
		if (buf[i] & BIT(KPF_COMPOUND_HEAD))
			return buf[i];
		if (!(buf[i] & BIT(KPF_COMPOUND_TAIL)))
			return 0;
	}
	return 0;
}

/* Learns whether tails carry their folio's flags (see Kpf). */
static void learn_tails(Kpf *k, const uint64_t *buf, size_t n)
{
	const uint64_t want = BIT(KPF_COMPOUND_TAIL) | BIT(KPF_THP) | BIT(KPF_LRU);

	for (size_t i = 0; i < n && k->tails_carry_lru != 1; i++)
		if ((buf[i] & want) == want)
			k->tails_carry_lru = 1;
}

/* Counts [pfn, pfn + n) exactly. */
static int count_exact(Kpf *k, uint64_t pfn, uint64_t n, uint64_t *ret_count, uint64_t *ret_thp,
		       uint64_t *ret_read)
{
	static __thread uint64_t buf[READ_BATCH];
	uint64_t count = 0, thp = 0, read_total = 0;

	while (n > 0) {
		size_t want = (size_t)MIN(n, (uint64_t)READ_BATCH), got = 0;
		int r = pread_entries(k, pfn, buf, want, &got);
		if (r < 0)
			return r;
		if (got == 0)
			break;
		if (k->tails_carry_lru != 1)
			learn_tails(k, buf, got);
		/* A batch (or range) starting inside a large folio: judge its
		 * leading tails by the folio's head, found by looking back,
		 * unless the tails carry the folio's flags themselves. */
		uint64_t lead = 0;
		if ((buf[0] & BIT(KPF_COMPOUND_TAIL)) && k->tails_carry_lru != 1)
			lead = find_head(k, pfn, buf[0], &read_total);
		uint64_t t;
		count += kpageflags_count_buf_thp(buf, got, lead, &t);
		thp += t;
		read_total += got;
		pfn += got;
		n -= got;
	}
	*ret_count = count;
	*ret_thp = thp;
	*ret_read = read_total;
	return 0;
}

uint64_t kpageflags_chunk_cost(const Kpf *k)
{
	return KPF_SAMPLE_CHUNK + (k->tails_carry_lru == 1 ? 0 : KPF_LOOKBACK_RESERVE);
}

static uint64_t next_rand(Kpf *k)
{
	uint64_t x = k->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return k->rng = x;
}

uint64_t kpageflags_rand(Kpf *k)
{
	return next_rand(k);
}

int kpageflags_count(Kpf *k, uint64_t start, uint64_t end, uint64_t max_pages, KpfCount *ret)
{
	KpfCount c = { .pages = end > start ? end - start : 0 };
	int r;

	if (c.pages == 0) {
		*ret = c;
		return 0;
	}
	if (max_pages == 0 || c.pages <= max_pages || c.pages <= 2 * KPF_SAMPLE_CHUNK) {
		r = count_exact(k, start, c.pages, &c.migratable, &c.thp, &c.pages_read);
		if (r < 0)
			return r;
		*ret = c;
		return 0;
	}

	/* Stratified sampling: K strata of equal size, one chunk at a random
	 * offset in each. The error bound is 2 standard errors of the total,
	 * from the spread of the chunk fractions (treated as a simple random
	 * sample, which overestimates the error of stratified sampling). */
	uint64_t kstrata = MAX(max_pages / kpageflags_chunk_cost(k), 1u);
	double sum = 0, sumsq = 0, sumd2 = 0, prev = 0;
	uint64_t est = 0, est_thp = 0;
	for (uint64_t i = 0; i < kstrata; i++) {
		uint64_t s0 = start + c.pages * i / kstrata, s1 = start + c.pages * (i + 1) / kstrata;
		uint64_t len = s1 - s0, chunk = MIN(len, (uint64_t)KPF_SAMPLE_CHUNK), got, cnt, thp;
		uint64_t off = len > chunk ? next_rand(k) % (len - chunk + 1) : 0;

		/* Aligned, so that a chunk starting on a tail finds its head in
		 * a few reads, where the stratum is long enough that the pages
		 * an aligned chunk cannot reach (< 1 chunk at each end) do not
		 * matter. */
		if (len >= 8 * KPF_SAMPLE_CHUNK) {
			uint64_t a = (s0 + off) & ~((uint64_t)KPF_SAMPLE_CHUNK - 1);
			off = a >= s0 ? a - s0 : off;
		}
		r = count_exact(k, s0 + off, chunk, &cnt, &thp, &got);
		if (r < 0)
			return r;
		c.pages_read += got;
		double f = chunk ? (double)cnt / (double)chunk : 0;
		sum += f;
		sumsq += f * f;
		if (i > 0)
			sumd2 += (f - prev) * (f - prev);
		prev = f;
		est += (uint64_t)(f * (double)len + 0.5);
		est_thp += chunk ? (uint64_t)((double)thp / (double)chunk * (double)len + 0.5) : 0;
	}
	c.chunks = kstrata;
	c.sum_f = sum;
	c.sum_f2 = sumsq;
	c.sum_d2 = sumd2;
	if (kstrata >= 2) {
		double mean = sum / (double)kstrata;
		double var = (sumsq - (double)kstrata * mean * mean) / (double)(kstrata - 1);
		if (var < 0)
			var = 0;
		double stratum = (double)c.pages / (double)kstrata;
		c.err_pages = (uint64_t)(2.0 * stratum * sqrt(var * (double)kstrata) + 0.5);
	}
	c.migratable = MIN(est, c.pages);
	c.thp = MIN(est_thp, c.migratable);
	c.sampled = true;
	*ret = c;
	return 0;
}
