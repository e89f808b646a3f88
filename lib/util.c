/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <time.h>

#include "util.h"

int parse_u64(const char *s, unsigned base, unsigned long long *ret)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-' || *s == '\0')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, (int)base);
	if (errno)
		return -errno;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_s64(const char *s, long long *ret)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

uint64_t system_page_size(void)
{
	long v = sysconf(_SC_PAGESIZE);

	/* Linux always answers; the fallback is only for the type's sake. */
	return v > 0 ? (uint64_t)v : 4096;
}

unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}
