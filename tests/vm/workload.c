/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtierd-workload: a memory workload with independent ground truth for the VM
 * tests. It places an anonymous mapping on one NUMA node, keeps a hot subset of
 * it busy, and every few seconds reports where the hot pages are, as seen by
 * move_pages(2) -- not by dtierd or DAMON.
 *
 *   dtierd-workload --size-mib 256 --hot-mib 64 --node 1 --duration 150 \
 *                   --report-every 2 [--move-hot-after S] [--hot-offset-mib M]
 *                   [--resize T:MIB[,T:MIB...]] [--move-at T:MIB[,T:MIB...]] [--thp]
 *                   [--thp-mib M] [--shmem]
 * --resize: at time T the hot set becomes MIB long (from its offset);
 * --move-at: at time T the hot set moves to offset MIB of the mapping;
 * --shmem: the mapping is a memfd (shared memory, page cache) instead of
 * anonymous memory;
 * --thp-mib: only the first M MiB of the mapping in transparent huge pages,
 * the rest in 4 KiB pages (a mixed hot set: --hot-mib 64 --thp-mib 32);
 * --islands N: the hot set is N islands of hot-mib / N each, one at the start
 * of each N-th of the mapping, cold between them: a fragmented hot set for
 * which DAMON keeps many regions (not with --resize, --move-at or
 * --move-hot-after).
 *
 * Stream mode (background noise, not a hot set; a second process):
 *   dtierd-workload --stream-mib 384 [--stream-node 0] [--stream-mib-per-s 48] \
 *                   [--duration S] [--report-every S]
 * maps --stream-mib MiB in 4 KiB pages (MADV_NOHUGEPAGE), filled on
 * --stream-node, and reads it sequentially, one byte a page, in 1 MiB chunks
 * paced to --stream-mib-per-s: each page is touched once per pass (384 MiB at
 * 48 MiB/s: once every 8 s). Report line, where the whole buffer is:
 *   STREAM t=12.0 pages=98304 n0=98304 n1=0 bad=0 n0_bp=10000 n1_bp=0 passes=1
 *
 * Both start lines end with mono0=S, CLOCK_MONOTONIC at t=0, so that the
 * reports of processes started separately can be put on one time axis.
 *
 * Report line (stdout, flushed):
 *   WORKLOAD t=12.0 hot_pages=16384 n0=9830 n1=6554 bad=0 n0_bp=6000 n1_bp=4000
 * nK = hot pages on node K (every node with memory up to the highest one),
 * bad = pages move_pages could not place (not present, error), nK_bp = nK share of
 * hot_pages in basis points.
 *
 * Raw syscalls keep it static and free of libnuma.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND 2
#define MAX_NODES 64
/* The kernel reads maxnode - 1 bits (mm/mempolicy.c get_nodes()). */
#define MASK_MAXNODE (MAX_NODES + 1)
/* x86 flush_tlb_mm_range(): ranges over 33 pages are flushed in full. */
#define DUMMY_PAGES 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long sys_mbind(void *addr, unsigned long len, int mode, const unsigned long *mask,
		      unsigned long maxnode, unsigned flags)
{
	return syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags);
}

static long sys_move_pages(unsigned long count, void **pages, const int *nodes, int *status,
			   int flags)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status, flags);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a sysfs node list such as "0-1,3" into a bit mask. */
static int parse_nodelist(const char *s, unsigned long *ret_mask)
{
	unsigned long mask = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a >= MAX_NODES)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= MAX_NODES)
				return -EINVAL;
			s = end;
		}
		for (long i = a; i <= b; i++)
			mask |= 1UL << i;
		if (*s == ',')
			s++;
	}
	*ret_mask = mask;
	return 0;
}

static int memory_nodes(unsigned long *ret_mask)
{
	static const char *const paths[] = {
		"/sys/devices/system/node/has_memory",
		"/sys/devices/system/node/online",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char buf[256];
		FILE *f = fopen(paths[i], "re");

		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (parse_nodelist(buf, ret_mask) == 0 && *ret_mask)
			return 0;
	}
	return -ENOENT;
}

/* "T:N[,T:N...]" into at most 8 (time, value) pairs, times not decreasing. */
static int parse_schedule(char *arg, double *ret_t, unsigned long *ret_v, size_t *ret_n)
{
	size_t n = 0;

	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		if (n == 8 || sscanf(tok, "%lf:%lu", &ret_t[n], &ret_v[n]) != 2 || (n && ret_t[n] < ret_t[n - 1]))
			return -EINVAL;
		n++;
	}
	*ret_n = n;
	return 0;
}

/* AnonHugePages of this process (kB), from /proc/self/smaps_rollup: how much
 * of the mapping really is in huge pages; -1 if unknown. */
static long anon_huge_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dtierd-workload [--size-mib N] [--hot-mib N] [--node N] [--duration S]\n"
		"                       [--report-every S] [--move-hot-after S] [--hot-offset-mib M]\n"
		"                       [--moved-offset-mib M] [--resize T:MIB[,T:MIB...]]\n"
		"                       [--move-at T:MIB[,T:MIB...]] [--thp] [--thp-mib M] [--shmem]\n"
		"                       [--islands N]\n"
		"       dtierd-workload --stream-mib N [--stream-node K] [--stream-mib-per-s R]\n"
		"                       [--duration S] [--report-every S]\n");
}

/* Full TLB flush of this mm: see the comment in main()'s access loop. */
static void flush_tlb(char *dummy, long ps)
{
	mprotect(dummy, DUMMY_PAGES * ps, PROT_READ);
	mprotect(dummy, DUMMY_PAGES * ps, PROT_READ | PROT_WRITE);
}

/* The pages of a hot set: n pages from base, island_pages of them at the
 * start of each stride bytes (island_pages = n: one contiguous run). */
typedef struct {
	char *base;
	size_t n;
	size_t island_pages;
	size_t stride;
} HotSet;

static char *hot_page(const HotSet *h, size_t i, long ps)
{
	return h->base + i / h->island_pages * h->stride + i % h->island_pages * ps;
}

/*
 * Print one "<tag> t=..." placement line for the pages of h: nK pages on
 * node K (0..max_node), bad = not placed. Returns 0 or -errno.
 */
static int report_placement(const char *tag, const char *count_key, double t, const HotSet *h,
			    long ps, int max_node, void **pages, int *status, unsigned long passes)
{
	unsigned long cnt[MAX_NODES] = { 0 }, bad = 0;
	size_t n = h->n;

	for (size_t i = 0; i < n; i++)
		pages[i] = hot_page(h, i, ps);
	if (sys_move_pages(n, pages, NULL, status, 0) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		if (status[i] >= 0 && status[i] < MAX_NODES)
			cnt[status[i]]++;
		else
			bad++;
	}
	printf("%s t=%.1f %s=%zu", tag, t, count_key, n);
	for (int k = 0; k <= max_node; k++)
		printf(" n%d=%lu", k, cnt[k]);
	printf(" bad=%lu", bad);
	for (int k = 0; k <= max_node; k++)
		printf(" n%d_bp=%lu", k, cnt[k] * 10000 / n);
	printf(" passes=%lu\n", passes);
	return 0;
}

/*
 * Stream mode: len bytes filled on node, then read once per pass, paced to
 * mib_per_s, until duration or a signal. The policy is widened to every memory
 * node after the fill, as for the hot set: where the pages end up is then
 * what dtierd (DAMON) did, not what the policy allowed. Returns the exit status.
 */
static int stream_main(size_t len, int node, unsigned long mem_nodes, int max_node, double mib_per_s,
		       double duration, double report_every)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned long one = 1UL << node;
	size_t n_pages = len / ps, chunk = (size_t)1 << 20;
	/* the time one 1 MiB chunk may take at the asked rate */
	double chunk_s = 1.0 / mib_per_s;
	volatile char *buf;
	char *dummy;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dummy = mmap(NULL, DUMMY_PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || dummy == MAP_FAILED) {
		fprintf(stderr, "STREAM error: mmap: %s\n", strerror(errno));
		return 1;
	}
	madvise((char *)buf, len, MADV_NOHUGEPAGE);
	if (sys_mbind((char *)buf, len, MPOL_BIND, &one, MASK_MAXNODE, 0) < 0) {
		fprintf(stderr, "STREAM error: mbind(node %d): %s\n", node, strerror(errno));
		return 1;
	}
	for (size_t off = 0; off < len; off += ps)
		buf[off] = 1;
	for (long i = 0; i < DUMMY_PAGES; i++)
		dummy[i * ps] = 1;
	if (sys_mbind((char *)buf, len, MPOL_BIND, &mem_nodes, MASK_MAXNODE, 0) < 0) {
		fprintf(stderr, "STREAM error: mbind(all nodes): %s\n", strerror(errno));
		return 1;
	}

	void **pages = calloc(n_pages, sizeof(*pages));
	int *status = calloc(n_pages, sizeof(*status));
	if (!pages || !status) {
		fprintf(stderr, "STREAM error: out of memory\n");
		return 1;
	}

	HotSet all = { .base = (char *)buf, .n = n_pages, .island_pages = n_pages, .stride = len };
	double t0 = now_s(), next_report = 0, next_chunk = 0;
	unsigned long passes = 0, sum = 0;
	size_t pos = 0;
	int r;

	printf("STREAM start size_mib=%zu node=%d memory_nodes=0x%lx pages=%zu page_size=%ld "
	       "mib_per_s=%.1f pass_s=%.1f duration=%.1f pid=%d buf=%p mono0=%.3f\n",
	       len >> 20, node, mem_nodes, n_pages, ps, mib_per_s, (double)(len >> 20) / mib_per_s,
	       duration, (int)getpid(), (void *)buf, t0);

	while (!stop) {
		double t = now_s() - t0;

		if (t >= next_report || t >= duration) {
			r = report_placement("STREAM", "pages", t, &all, ps, max_node, pages, status,
					     passes);
			if (r < 0) {
				fprintf(stderr, "STREAM error: move_pages: %s\n", strerror(-r));
				return 1;
			}
			next_report += report_every;
			while (next_report <= t)
				next_report += report_every;
		}
		if (t >= duration)
			break;
		if (t < next_chunk) {
			double d = next_chunk - t;
			struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (time_t)d) * 1e9) };

			nanosleep(&ts, NULL);
			continue;
		}
		for (size_t off = 0; off < chunk && pos + off < len; off += ps)
			sum += buf[pos + off];
		flush_tlb(dummy, ps);
		pos += chunk;
		if (pos >= len) {
			pos = 0;
			passes++;
		}
		next_chunk += chunk_s;
		/* behind by more than a pass (a stalled guest): do not burst to catch up */
		if (next_chunk < t - (double)(len >> 20) * chunk_s)
			next_chunk = t;
	}
	/* a last report on a signal too, so the end state is on record */
	if (stop && report_placement("STREAM", "pages", now_s() - t0, &all, ps, max_node, pages,
				     status, passes) < 0)
		return 1;
	printf("STREAM done t=%.1f passes=%lu sum=%lu%s\n", now_s() - t0, passes, sum,
	       stop ? " (signal)" : "");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size-mib", required_argument, NULL, 's' },
		{ "hot-mib", required_argument, NULL, 'h' },
		{ "node", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "report-every", required_argument, NULL, 'r' },
		{ "move-hot-after", required_argument, NULL, 'm' },
		{ "hot-offset-mib", required_argument, NULL, 'o' },
		{ "moved-offset-mib", required_argument, NULL, 'O' },
		{ "thp", no_argument, NULL, 't' },
		{ "thp-mib", required_argument, NULL, 'T' },
		{ "resize", required_argument, NULL, 'z' },
		{ "move-at", required_argument, NULL, 'M' },
		{ "shmem", no_argument, NULL, 'S' },
		{ "stream-mib", required_argument, NULL, 'x' },
		{ "stream-node", required_argument, NULL, 'X' },
		{ "stream-mib-per-s", required_argument, NULL, 'R' },
		{ "islands", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, '?' },
		{}
	};
	unsigned long size_mib = 256, hot_mib = 64, hot_off_mib = 0, moved_off_mib = (unsigned long)-1;
	double duration = 150, report_every = 2, move_after = -1;
	int node = 1, c;
	bool thp = false;
	unsigned long thp_mib = 0;
	/* --resize: at time resize_t[i] the hot set becomes resize_mib[i]. */
	double resize_t[8];
	unsigned long resize_mib[8];
	size_t n_resize = 0, next_resize = 0;
	double move_t[8];
	unsigned long move_off[8];
	size_t n_move = 0, next_move = 0;
	bool shmem = false;
	unsigned long stream_mib = 0;
	int stream_node = 0;
	double stream_rate = 48;
	unsigned long islands = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': size_mib = strtoul(optarg, NULL, 0); break;
		case 'h': hot_mib = strtoul(optarg, NULL, 0); break;
		case 'n': node = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'r': report_every = atof(optarg); break;
		case 'm': move_after = atof(optarg); break;
		case 'o': hot_off_mib = strtoul(optarg, NULL, 0); break;
		case 'O': moved_off_mib = strtoul(optarg, NULL, 0); break;
		case 't': thp = true; break;
		case 'T': thp_mib = strtoul(optarg, NULL, 0); break;
		case 'z':
		case 'M':
			if ((c == 'z' ? parse_schedule(optarg, resize_t, resize_mib, &n_resize)
				      : parse_schedule(optarg, move_t, move_off, &n_move)) < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'S': shmem = true; break;
		case 'x': stream_mib = strtoul(optarg, NULL, 0); break;
		case 'X': stream_node = atoi(optarg); break;
		case 'R': stream_rate = atof(optarg); break;
		case 'I': islands = strtoul(optarg, NULL, 0); break;
		default: usage(stderr); return 2;
		}
	}
	if (stream_mib)
		node = stream_node;
	if (stream_mib && (stream_node < 0 || stream_node >= MAX_NODES || stream_rate <= 0 ||
			   report_every <= 0)) {
		usage(stderr);
		return 2;
	}
	if (moved_off_mib == (unsigned long)-1)
		moved_off_mib = size_mib - hot_mib;     /* default: the end of the mapping */
	if (size_mib == 0 || hot_mib == 0 || hot_off_mib + hot_mib > size_mib ||
	    moved_off_mib + hot_mib > size_mib || node < 0 || node >= MAX_NODES ||
	    report_every <= 0) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < n_resize; i++)
		if (resize_mib[i] == 0 || hot_off_mib + resize_mib[i] > size_mib ||
		    (move_after >= 0 && moved_off_mib + resize_mib[i] > size_mib)) {
			usage(stderr);
			return 2;
		}

	for (size_t i = 0; i < n_move; i++)
		if (move_off[i] + hot_mib > size_mib) {
			usage(stderr);
			return 2;
		}
	/* islands of whole pages, one per stride, the set not moving */
	unsigned long psz = (unsigned long)sysconf(_SC_PAGESIZE);
	if (islands == 0 || (hot_mib << 20) % (islands * psz) || (size_mib << 20) % (islands * psz) ||
	    (islands > 1 && (n_resize || n_move || move_after >= 0 || hot_off_mib))) {
		usage(stderr);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	long ps = sysconf(_SC_PAGESIZE);
	size_t len = size_mib << 20, hot_pages = (hot_mib << 20) / ps;
	unsigned long mem_nodes, one = 1UL << node;
	int max_node = 0;

	if (memory_nodes(&mem_nodes) < 0) {
		fprintf(stderr, "WORKLOAD error: cannot read the memory node list\n");
		return 1;
	}
	if (!(mem_nodes & one)) {
		fprintf(stderr, "WORKLOAD error: node %d has no memory\n", node);
		return 1;
	}
	for (int i = 0; i < MAX_NODES; i++)
		if (mem_nodes & (1UL << i))
			max_node = i;
	if (stream_mib)
		return stream_main(stream_mib << 20, node, mem_nodes, max_node, stream_rate, duration,
				   report_every);

	char *buf;
	if (shmem) {
		int fd = (int)syscall(SYS_memfd_create, "dtierd-workload", 0);
		if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
			fprintf(stderr, "WORKLOAD error: memfd: %s\n", strerror(errno));
			return 1;
		}
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else {
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	char *dummy = mmap(NULL, DUMMY_PAGES * ps, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || dummy == MAP_FAILED) {
		fprintf(stderr, "WORKLOAD error: mmap: %s\n", strerror(errno));
		return 1;
	}
	madvise(buf, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (!thp && thp_mib)
		madvise(buf, (thp_mib << 20) < len ? thp_mib << 20 : len, MADV_HUGEPAGE);
	if (sys_mbind(buf, len, MPOL_BIND, &one, MASK_MAXNODE, 0) < 0) {
		fprintf(stderr, "WORKLOAD error: mbind(node %d): %s\n", node, strerror(errno));
		return 1;
	}
	for (size_t off = 0; off < len; off += ps)
		buf[off] = 1;
	for (long i = 0; i < DUMMY_PAGES; i++)
		dummy[i * ps] = 1;
	/*
	 * Widen the policy to every memory node so that DAMON may migrate the
	 * pages. A bind policy also keeps automatic NUMA balancing away.
	 * Without MPOL_MF_MOVE the pages stay where they are.
	 */
	if (sys_mbind(buf, len, MPOL_BIND, &mem_nodes, MASK_MAXNODE, 0) < 0) {
		fprintf(stderr, "WORKLOAD error: mbind(all nodes): %s\n", strerror(errno));
		return 1;
	}

	size_t max_pages = len / ps;
	void **pages = calloc(max_pages, sizeof(*pages));
	int *status = calloc(max_pages, sizeof(*status));
	if (!pages || !status) {
		fprintf(stderr, "WORKLOAD error: out of memory\n");
		return 1;
	}

	double t0 = now_s(), next_report = 0;

	printf("WORKLOAD start size_mib=%lu hot_mib=%lu hot_offset_mib=%lu node=%d "
	       "memory_nodes=0x%lx hot_pages=%zu page_size=%ld move_hot_after=%.1f "
	       "moved_offset_mib=%lu duration=%.1f thp_kib=%ld islands=%lu pid=%d buf=%p mono0=%.3f\n",
	       size_mib, hot_mib, hot_off_mib, node, mem_nodes, hot_pages, ps, move_after,
	       moved_off_mib, duration, anon_huge_kib(), islands, (int)getpid(), (void *)buf, t0);

	HotSet hs = { .base = buf + (hot_off_mib << 20), .n = hot_pages,
		      .island_pages = hot_pages / islands, .stride = len / islands };
	bool moved = false;
	unsigned long passes = 0;

	while (!stop) {
		double t = now_s() - t0;

		if (!moved && move_after >= 0 && t >= move_after) {
			hs.base = buf + (moved_off_mib << 20);
			moved = true;
			printf("WORKLOAD t=%.1f hot set moved to offset %lu MiB\n", t, moved_off_mib);
		}
		if (next_move < n_move && t >= move_t[next_move]) {
			hs.base = buf + (move_off[next_move] << 20);
			printf("WORKLOAD t=%.1f hot set moved to offset %lu MiB\n", t, move_off[next_move]);
			next_move++;
		}
		if (next_resize < n_resize && t >= resize_t[next_resize]) {
			hs.n = hs.island_pages = (resize_mib[next_resize] << 20) / ps;
			printf("WORKLOAD t=%.1f hot set resized to %lu MiB\n", t, resize_mib[next_resize]);
			next_resize++;
		}
		if (t >= next_report || t >= duration) {
			int r = report_placement("WORKLOAD", "hot_pages", t, &hs, ps, max_node, pages,
						 status, passes);

			if (r < 0) {
				fprintf(stderr, "WORKLOAD error: move_pages: %s\n", strerror(-r));
				return 1;
			}
			next_report += report_every;
			while (next_report <= t)
				next_report += report_every;
		}
		if (t >= duration)
			break;

		for (size_t i = 0; i < hs.n; i++)
			(*hot_page(&hs, i, ps))++;
		/*
		 * Under TCG the accessed bits are only set on a soft-TLB miss and
		 * that TLB grows until it holds the whole hot set; a full TLB
		 * flush per pass keeps DAMON's sampling seeing the accesses
		 * (vm-testing.md, "TCG hides accesses from DAMON").
		 */
		flush_tlb(dummy, ps);
		passes++;
	}
	printf("WORKLOAD done t=%.1f passes=%lu%s\n", now_s() - t0, passes,
	       stop ? " (signal)" : "");
	return 0;
}
