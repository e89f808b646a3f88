/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "tried-regions.h"
#include "util.h"

void region_list_free(RegionList *l)
{
	free(l->v);
	*l = (RegionList){ 0 };
}

int region_list_append(RegionList *l, const Region *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		Region *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return 0;
}

typedef struct Named {
	unsigned long long idx;
} Named;

static int cmp_named(const void *a, const void *b)
{
	const Named *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int read_field(const Sysfs *fs, const char *dir, unsigned long long idx, const char *name, uint64_t *ret)
{
	int r = sysfs_read_u64(fs, ret, "%s/%llu/%s", dir, idx, name);
	if (r == -ENOENT)
		return -EIO;
	return r;
}

int tried_regions_read(const Sysfs *fs, const char *dir, RegionList *ret)
{
	RegionList l = { 0 };
	uint64_t v;
	int r;

	int fd = openat(fs->root_fd, dir[0] == '/' ? dir + 1 : dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}

	_cleanup_free_ Named *names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long long idx;
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || parse_u64(de->d_name, 10, &idx) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			Named *nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				return -ENOMEM;
			names = nn;
		}
		names[n++] = (Named){ idx };
	}
	/* qsort() with a NULL base is undefined even for 0 elements. */
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_named);

	for (size_t i = 0; i < n; i++) {
		Region reg;
		uint64_t s, e, a, g;

		if ((r = read_field(fs, dir, names[i].idx, "start", &s)) < 0 ||
		    (r = read_field(fs, dir, names[i].idx, "end", &e)) < 0 ||
		    (r = read_field(fs, dir, names[i].idx, "nr_accesses", &a)) < 0 ||
		    (r = read_field(fs, dir, names[i].idx, "age", &g)) < 0)
			goto fail;
		if (e < s || a > UINT32_MAX || g > UINT32_MAX) {
			r = -EINVAL;
			goto fail;
		}
		reg = (Region){ .start = s, .end = e, .nr_accesses = (uint32_t)a, .age = (uint32_t)g };
		r = region_list_append(&l, &reg);
		if (r < 0)
			goto fail;
	}
	if (sysfs_read_u64(fs, &v, "%s/total_bytes", dir) == 0)
		l.total_bytes = v;
	*ret = l;
	return 0;
fail:
	region_list_free(&l);
	return r;
}
