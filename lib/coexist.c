/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coexist.h"
#include "util.h"

#define NUMA_BALANCING_PATH "proc/sys/kernel/numa_balancing"
#define DEMOTION_PATH "sys/kernel/mm/numa/demotion_enabled"

int coexist_parse_numa_balancing(const char *s, int *ret)
{
	unsigned long long v;

	if (parse_u64(s, 10, &v) < 0 || v > 3)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int coexist_parse_bool(const char *s, int *ret)
{
	static const char *const yes[] = { "true", "1", "y", "Y", "yes", "on", NULL };
	static const char *const no[] = { "false", "0", "n", "N", "no", "off", NULL };
	char buf[16];
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; yes[i]; i++)
		if (strcmp(buf, yes[i]) == 0) {
			*ret = 1;
			return 0;
		}
	for (size_t i = 0; no[i]; i++)
		if (strcmp(buf, no[i]) == 0) {
			*ret = 0;
			return 0;
		}
	return -EINVAL;
}

static void add(Coexist *c, CoexistFlags flag, const char *msg)
{
	c->flags |= flag;
	snprintf(c->msgs[c->n_msgs++], COEXIST_MSG_MAX, "%s", msg);
}

void coexist_evaluate(int numa_balancing, int demotion_enabled, Coexist *ret)
{
	Coexist c = { .numa_balancing = numa_balancing, .demotion_enabled = demotion_enabled };

	if (numa_balancing > 0 && (numa_balancing & 2))
		add(&c, COEXIST_NUMA_BALANCING_TIERING,
		    "NUMA balancing is in memory tiering mode (kernel.numa_balancing = 2 or 3): the kernel "
		    "promotes hot pages from CPU-less nodes to the top tier on its own, competing with dtierd "
		    "for the same pages; set kernel.numa_balancing = 0 while dtierd runs");
	if (numa_balancing > 0 && (numa_balancing & 1))
		add(&c, COEXIST_NUMA_BALANCING_NORMAL,
		    "NUMA balancing is on (kernel.numa_balancing = 1 or 3): it migrates pages to the node of "
		    "the CPU that touches them, undoing placements dtierd makes on CPU-less nodes; set "
		    "kernel.numa_balancing = 0 while dtierd runs");
	if (demotion_enabled > 0)
		add(&c, COEXIST_DEMOTION,
		    "memory demotion is enabled (/sys/kernel/mm/numa/demotion_enabled = true): under memory "
		    "pressure reclaim moves pages from the top tier to a slower node, competing with dtierd's "
		    "placement; echo false > /sys/kernel/mm/numa/demotion_enabled to leave it to dtierd");
	*ret = c;
}

/* Reads PATH and parses it with PARSE; an absent file leaves *RET at -1. */
static int read_optional(const Sysfs *fs, const char *path, int (*parse)(const char *, int *), int *ret)
{
	char buf[32];
	int r = sysfs_read_str(fs, buf, sizeof(buf), "%s", path);

	*ret = -1;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return parse(buf, ret);
}

int coexist_check(const Sysfs *fs, Coexist *ret)
{
	int nb, de, r;

	r = read_optional(fs, NUMA_BALANCING_PATH, coexist_parse_numa_balancing, &nb);
	if (r < 0)
		return r;
	r = read_optional(fs, DEMOTION_PATH, coexist_parse_bool, &de);
	if (r < 0)
		return r;
	coexist_evaluate(nb, de, ret);
	return 0;
}
