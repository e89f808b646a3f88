/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "cost.h"

void cost_ring_init(CostRing *r, uint64_t window_ms)
{
	r->window_ms = window_ms ? window_ms : 60000;
	r->n = r->head = 0;
}

void cost_ring_add(CostRing *r, uint64_t now_ms, uint64_t cpu_us)
{
	r->v[r->head].at_ms = now_ms;
	r->v[r->head].cpu_us = cpu_us;
	r->head = (r->head + 1) % COST_MAX_SAMPLES;
	if (r->n < COST_MAX_SAMPLES)
		r->n++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int cost_ring_stats(const CostRing *r, uint64_t now_ms, CostStats *ret)
{
	uint64_t v[COST_MAX_SAMPLES];
	size_t n = 0;

	if (r->n == 0)
		return -ENODATA;
	for (size_t i = 0; i < r->n; i++) {
		/* Oldest first: the ring starts at head once it is full. */
		size_t k = (r->head + COST_MAX_SAMPLES - r->n + i) % COST_MAX_SAMPLES;
		if (r->v[k].at_ms + r->window_ms > now_ms)
			v[n++] = r->v[k].cpu_us;
	}
	if (n == 0)
		return -ENODATA;
	CostStats s = { .n = n, .last_us = v[n - 1] };
	qsort(v, n, sizeof(v[0]), cmp_u64);
	s.median_us = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.max_us = v[n - 1];
	*ret = s;
	return 0;
}

int cost_cpu_us(uint64_t *ret)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return -errno;
	*ret = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	return 0;
}
