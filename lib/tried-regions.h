/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A scheme's tried_regions/ directory, as filled by the kernel on
 * `update_schemes_tried_regions`. Region directory names are not 0..n-1:
 * 6.2-6.13 share one counter among all schemes, 6.14-7.1 count 1, 3, 5, ...
 * and drift across updates. They are read with readdir() and ordered by
 * numeric name, as damo does. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

typedef struct Region {
	uint64_t start, end; /* [start, end) */
	uint32_t nr_accesses;
	uint32_t age;
} Region;

typedef struct RegionList {
	size_t n, cap;
	Region *v;
	uint64_t total_bytes; /* tried_regions/total_bytes, 0 if absent */
} RegionList;

void region_list_free(RegionList *l);
int region_list_append(RegionList *l, const Region *r);
/* Sorts L by start address and says whether any two regions overlap: a
 * scheme's regions of one apply pass never do, so an answer that does is
 * not one pass (7.3 once listed 9 224 regions, 38 GiB on a 2 GiB guest). */
bool region_list_sort_overlaps(RegionList *l);

/* Which files of each region are read. Files are most of a measurement's
 * cost at thousands of regions (~4 us each on real sysfs, issue 10); a
 * scheme's own access pattern has already judged the age. */
typedef enum TriedFields {
	TRIED_ALL,      /* start, end, nr_accesses, age */
	TRIED_NO_AGE,   /* start, end, nr_accesses; age reads 0 */
} TriedFields;

/* Reads DIR (relative to the root, e.g. ".../schemes/0/tried_regions") into
 * *ret, regions in numeric-name order, with the files FIELDS says.
 * Non-numeric entries (total_bytes) are skipped; a region directory
 * missing a file read is -EIO, an unparsable value -EINVAL, a region with
 * end < start -EINVAL. Returns 0 or -errno. */
int tried_regions_read(const Sysfs *fs, const char *dir, TriedFields fields, RegionList *ret);
