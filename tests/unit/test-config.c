/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c: the operator's view. A valid file gives the documented values
 * (defaults included); every kind of invalid file is rejected with messages
 * that name the file, the line and the key, all problems at once. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "test-util.h"
#include "util.h"

/* The smallest valid file: only the required keys. */
#define MINIMAL                                                                                    \
	"interval_ms = 1000;\n"                                                                    \
	"monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n" \
	"hot = { min_access_percent = 5; };\n"                                                     \
	"migration = { max_mib_per_s = 256; };\n"                                                  \
	"tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n"

typedef struct Result {
	int r;
	Config *c;
	ConfigErrors e;
} Result;

static Result load(const char *text)
{
	Result res = { 0 };
	res.r = config_load_string("test.conf", text, &res.c, &res.e);
	return res;
}

static void result_free(Result *res)
{
	config_free(res->c);
	config_errors_clear(&res->e);
}

static void dump(const Result *res)
{
	for (size_t i = 0; i < res->e.n; i++)
		print_message("  [%zu] %s\n", i, res->e.msg[i]);
}

/* Loads TEXT expecting -EINVAL and exactly N_EXPECTED messages; the first
 * must contain every needle (NULL-terminated). */
static void expect_invalid(const char *text, size_t n_expected, ...)
{
	/* n_expected == 0: at least one message, the first one checked. */
	Result res = load(text);
	va_list ap;

	if (res.r != -EINVAL || (n_expected ? res.e.n != n_expected : res.e.n == 0))
		dump(&res);
	assert_int_equal(res.r, -EINVAL);
	assert_null(res.c);
	if (n_expected)
		assert_int_equal(res.e.n, n_expected);
	else
		assert_true(res.e.n > 0);
	va_start(ap, n_expected);
	for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *)) {
		if (!strstr(res.e.msg[0], needle))
			fail_msg("message '%s' lacks '%s'", res.e.msg[0], needle);
	}
	va_end(ap);
	result_free(&res);
}

static void test_minimal_values_and_defaults(void **state)
{
	Result res = load(MINIMAL);

	dump(&res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.e.n, 0);
	Config *c = res.c;
	assert_string_equal(c->path, "test.conf");
	assert_int_equal(c->interval_ms, 1000);
	assert_int_equal(c->monitor.sample_us, 5000);
	assert_int_equal(c->monitor.aggr_us, 100000);
	assert_int_equal(c->monitor.min_regions, 10);
	assert_int_equal(c->monitor.max_regions, 1000);
	assert_int_equal(c->hot.min_access_percent, 5);
	assert_int_equal(c->migration.max_mib_per_s, 256);
	/* Defaults of the optional keys (dtierd.conf(5)). */
	assert_int_equal(c->hot.min_age_ms, 0);
	assert_int_equal(c->migration.deadband_bp, 150);
	assert_int_equal(c->migration.hold_s, 10);
	assert_int_equal(c->measure.kpageflags_max_pages, 1 << 20);
	assert_false(c->damon_stat_takeover);
	assert_string_equal(c->run_dir, "/run/dtierd");
	assert_null(c->prometheus_textfile);
	assert_int_equal(c->n_tiers, 2);
	assert_int_equal(c->tiers[0].node, 0);
	assert_int_equal(c->tiers[0].hot_share_bp, 6000);
	assert_int_equal(c->tiers[1].node, 1);
	assert_int_equal(c->tiers[1].hot_share_bp, 4000);
	assert_int_equal(config_tier_index(c, 1), 1);
	assert_int_equal(config_tier_index(c, 0), 0);
	assert_int_equal(config_tier_index(c, 2), -1);
	result_free(&res);
}

static void test_all_keys(void **state)
{
	Result res = load("interval_ms = 250;\n"
			  "monitor = { sample_us = 2000; aggr_us = 40000; min_regions = 3; max_regions = 3; };\n"
			  "hot = { min_access_percent = 100; min_age_ms = 3600000; };\n"
			  "migration = { max_mib_per_s = 1; deadband_bp = 2500; hold_s = 0; };\n"
			  "measure = { kpageflags_max_pages = 0; source = \"levels\"; metric = \"kernel\"; };\n"
			  "damon_stat_takeover = true;\n"
			  "run_dir = \"/run/dtierd-test\";\n"
			  "prometheus_textfile = \"/var/lib/prometheus/node-exporter/dtierd.prom\";\n"
			  "tiers = ( { node = 2; hot_share_bp = 0; }, { node = 63; hot_share_bp = 10000; },\n"
			  "          { node = 5; hot_share_bp = 0; } );\n");
	dump(&res);
	assert_int_equal(res.r, 0);
	Config *c = res.c;
	assert_int_equal(c->interval_ms, 250);
	assert_int_equal(c->monitor.sample_us, 2000);
	assert_int_equal(c->monitor.aggr_us, 40000);
	assert_int_equal(c->monitor.min_regions, 3);
	assert_int_equal(c->monitor.max_regions, 3);
	assert_int_equal(c->hot.min_access_percent, 100);
	assert_int_equal(c->hot.min_age_ms, 3600000);
	assert_int_equal(c->migration.max_mib_per_s, 1);
	assert_int_equal(c->migration.deadband_bp, 2500);
	assert_int_equal(c->migration.hold_s, 0);
	assert_int_equal(c->measure.kpageflags_max_pages, 0);
	assert_true(c->measure.kernel_metric);
	assert_int_equal(c->measure.source, CONFIG_SOURCE_LEVELS);
	assert_true(c->damon_stat_takeover);
	assert_string_equal(c->run_dir, "/run/dtierd-test");
	assert_string_equal(c->prometheus_textfile, "/var/lib/prometheus/node-exporter/dtierd.prom");
	assert_int_equal(c->n_tiers, 3);
	assert_int_equal(c->tiers[1].node, 63);
	assert_int_equal(c->tiers[2].node, 5);
	assert_int_equal(config_tier_index(c, 5), 2);
	result_free(&res);
}

/* The configuration file we install must stay valid. */
static void test_shipped_config(void **state)
{
	const char *path = getenv("DTIERD_CONF");
	Config *c = NULL;
	ConfigErrors e = { 0 };

	if (!path)
		skip();
	int r = config_load(path, &c, &e);
	for (size_t i = 0; i < e.n; i++)
		print_message("%s\n", e.msg[i]);
	assert_int_equal(r, 0);
	assert_int_equal(e.n, 0);
	config_free(c);
}

static void test_syntax_error(void **state)
{
	/* A value missing on line 4, after a comment and a group whose
	 * optional ';' is left out (libconfig allows that). */
	expect_invalid("interval_ms = 1000;\n"
		       "# comment\n"
		       "hot = { min_access_percent = 5; }\n"
		       "monitor = { sample_us = 5000; aggr_us = ; };\n",
		       1, "test.conf:4: ", "syntax error", NULL);
	expect_invalid("interval_ms = = 3;\n", 1, "test.conf:1: syntax error", NULL);
	/* Unterminated string. */
	expect_invalid(MINIMAL "run_dir = \"/run;\n", 1, "test.conf:", "syntax error", NULL);
}

static void test_out_of_range(void **state)
{
	/* Each message names the key, the value and both bounds, at the
	 * key's own line. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256;\n"
		       "  deadband_bp = 5;\n"
		       "};\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:5: ", "migration.deadband_bp = 5 is out of range [10, 2500]", NULL);
	expect_invalid("interval_ms = 99;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "interval_ms = 99 is out of range [100, 3600000]", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 101; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:3: ", "hot.min_access_percent = 101 is out of range [1, 100]", NULL);
	/* In a tier, with the element's index. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = (\n"
		       "  { node = 0; hot_share_bp = 6000; },\n"
		       "  { node = 1; hot_share_bp = 12000; }\n"
		       ");\n",
		       1, "test.conf:7: ", "tiers[1].hot_share_bp = 12000 is out of range [0, 10000]", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = -1; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:5: ", "tiers[0].node = -1 is out of range [0, 63]", NULL);
	expect_invalid(MINIMAL "measure = { metric = \"damon\"; };\n", 1, "test.conf:6: ",
		       "measure.metric must be \"userspace\" or \"kernel\"", NULL);
	expect_invalid(MINIMAL "measure = { metric = 1; };\n", 1, "test.conf:6: ",
		       "measure.metric must be \"userspace\" or \"kernel\"", NULL);
	expect_invalid(MINIMAL "measure = { source = \"buckets\"; };\n", 1, "test.conf:6: ",
		       "measure.source must be \"auto\", \"regions\" or \"levels\"", NULL);
	/* 64-bit values are range-checked too, not truncated. */
	expect_invalid(MINIMAL "measure = { kpageflags_max_pages = 10000000000000L; };\n", 1, "test.conf:6: ",
		       "measure.kpageflags_max_pages = 10000000000000 is out of range [0, 1099511627776]", NULL);
	expect_invalid("interval_ms = 5000000000L;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "interval_ms = 5000000000 is out of range [100, 3600000]", NULL);
}

static void test_wide_integers(void **state)
{
	/* libconfig 1.5 keeps only the low 32 bits of an integer without an
	 * L suffix: 4294967296 read as 0, 2147483648 as -2147483648. dtierd
	 * checks the literal as written. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 4294967296; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:5: ", "tiers[0].node = 4294967296 is out of range [0, 63]", NULL);
	/* In range for the key, but not what libconfig read. */
	expect_invalid(MINIMAL "measure = { kpageflags_max_pages = 4294967296; };\n", 1, "test.conf:6: ",
		       "measure.kpageflags_max_pages = 4294967296 does not fit in 32 bits (write 4294967296L)", NULL);
	expect_invalid(MINIMAL "measure = { kpageflags_max_pages = 0xFFFFFFFF; };\n", 1, "test.conf:6: ",
		       "measure.kpageflags_max_pages = 0xFFFFFFFF does not fit in 32 bits (write 0xFFFFFFFFL)", NULL);
	expect_invalid("interval_ms = 2147483648;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "interval_ms = 2147483648 is out of range [100, 3600000]", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = -2147483649; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:4: ", "migration.max_mib_per_s = -2147483649 is out of range [1, 1048576]", NULL);
	/* Wider than 64 bits, with or without the suffix. */
	expect_invalid(MINIMAL "measure = { kpageflags_max_pages = 99999999999999999999; };\n", 1, "test.conf:6: ",
		       "measure.kpageflags_max_pages = 99999999999999999999 is out of range [0, 1099511627776]", NULL);
	expect_invalid(MINIMAL "measure = { kpageflags_max_pages = 99999999999999999999L; };\n", 1, "test.conf:6: ",
		       "measure.kpageflags_max_pages = 99999999999999999999L is out of range [0, 1099511627776]", NULL);
	/* The second of two same-named keys on one line, after numbers in
	 * comments, strings, names, floats, lists and an unknown key that
	 * must not be taken for it. */
	Result res = load("# 4294967297 0x10 1.5\n"
			  "interval_ms = 1000; /* 12 */ run_dir = \"/run/7 \\\" 8\";\n"
			  "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			  "hot = { min_access_percent = 5; };\n"
			  "migration = { max_mib_per_s = 256; };\n"
			  "x1 = ( 1.5, .5, 2e3, 7L, 0x7, +3, [ 1, 2 ] ); // 9\n"
			  "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 4294967297; hot_share_bp = 4000; } );\n");
	dump(&res);
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, 2);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:6: unknown key 'x1'", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:7: tiers[1].node = 4294967297 is out of range [0, 63]",
				NULL) >= 0);
	result_free(&res);

	/* With the suffix, or in 32 bits, values are what they say. */
	res = load(MINIMAL "measure = { kpageflags_max_pages = 4294967296L; };\n");
	assert_int_equal(res.r, 0);
	assert_true(res.c->measure.kpageflags_max_pages == 4294967296ULL);
	result_free(&res);
	res = load(MINIMAL "measure = { kpageflags_max_pages = 0xFFFFFFFFL; };\n");
	assert_int_equal(res.r, 0);
	assert_true(res.c->measure.kpageflags_max_pages == 4294967295ULL);
	result_free(&res);
	res = load(MINIMAL "measure = { kpageflags_max_pages = 2147483647; };\n");
	assert_int_equal(res.r, 0);
	assert_true(res.c->measure.kpageflags_max_pages == 2147483647ULL);
	result_free(&res);
}

static void test_missing_required(void **state)
{
	/* Only the speed cap must be written (and the tiers, unless the
	 * topology's default suits): an operator's whole config can be those
	 * two. The rest are dtierd.conf(5)'s defaults. */
	Result ok = load("migration = { max_mib_per_s = 64; };\n"
			 "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	dump(&ok);
	assert_int_equal(ok.r, 0);
	assert_int_equal(ok.c->interval_ms, 1000);
	assert_int_equal(ok.c->monitor.sample_us, 5000);
	assert_int_equal(ok.c->monitor.aggr_us, 100000);
	assert_int_equal(ok.c->monitor.min_regions, 200);
	assert_int_equal(ok.c->monitor.max_regions, 1000);
	assert_int_equal(ok.c->hot.min_access_percent, 5);
	assert_int_equal(ok.c->migration.max_mib_per_s, 64);
	result_free(&ok);
	/* A missing key in a group is reported at the group's line. */
	expect_invalid("interval_ms = 1000;\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = {\n"
		       "  hold_s = 10; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:3: ", "missing required key 'migration.max_mib_per_s'", NULL);
	/* A default that conflicts with a written value is named at that value. */
	expect_invalid("monitor = {\n  max_regions = 100; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "monitor.min_regions = 200 must be <= monitor.max_regions = 100", NULL);
	/* No tiers: the daemon takes them from the topology. */
	Result no_tiers = load("migration = { max_mib_per_s = 256; };\n");
	dump(&no_tiers);
	assert_int_equal(no_tiers.r, 0);
	assert_int_equal(no_tiers.c->n_tiers, 0);
	result_free(&no_tiers);
	expect_invalid("interval_ms = 1000;\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; },\n"
		       "  { hot_share_bp = 4000; } );\n",
		       1, "test.conf:4: ", "missing required key 'tiers[1].node'", NULL);
	/* Empty file: the required group, one message; not the keys of the
	 * missing group. */
	Result res = load("");
	assert_int_equal(res.r, -EINVAL);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "missing required group 'migration'", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "missing required key 'migration.max_mib_per_s'", NULL) < 0);
	assert_int_equal(res.e.n, 1);
	result_free(&res);
}

static void test_unknown_key(void **state)
{
	/* A typo of an optional key would otherwise silently keep the
	 * default. */
	expect_invalid(MINIMAL "migration2 = 1;\n", 1, "test.conf:6: ", "unknown key 'migration2'", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5;\n"
		       "        min_age = 100; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:4: ", "unknown key 'hot.min_age'", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; },\n"
		       "  { node = 1; hot_share_bp = 4000; share = 1; } );\n",
		       1, "test.conf:6: ", "unknown key 'tiers[1].share'", NULL);
	/* A misspelt required key: both the typo and the missing key. */
	Result res = load("interval_ms = 1000;\n"
			  "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			  "hot = { min_access_percent = 5; };\n"
			  "migration = { max_mib_per_sec = 256; };\n"
			  "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, 2);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:4: ",
				"unknown key 'migration.max_mib_per_sec', did you mean 'max_mib_per_s'?", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:4: ", "missing required key 'migration.max_mib_per_s'",
				NULL) >= 0);
	/* A misspelt optional key: the typo alone (its default stands in). */
	result_free(&res);
	expect_invalid("hot = { min_acess_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "unknown key 'hot.min_acess_percent', did you mean 'min_access_percent'?",
		       NULL);
}

static void test_duplicate_node(void **state)
{
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = (\n"
		       "  { node = 1; hot_share_bp = 5000; },\n"
		       "  { node = 0; hot_share_bp = 2500; },\n"
		       "  { node = 1; hot_share_bp = 2500; }\n"
		       ");\n",
		       1, "test.conf:8: ", "tiers[2].node = 1 is listed twice (also tiers[0])", NULL);
	/* A node that could not be read is not also "listed twice" (it would
	 * be compared as 0). */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; },\n"
		       "  { node = 64; hot_share_bp = 4000; } );\n",
		       1, "test.conf:6: ", "tiers[1].node = 64 is out of range [0, 63]", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( 5000, { node = 0; hot_share_bp = 5000; }, { node = 1; hot_share_bp = 5000; } );\n",
		       1, "test.conf:5: ", "tiers[0] must be a group", NULL);
}

static void test_shares_sum(void **state)
{
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 3999; } );\n",
		       1, "test.conf:5: ", "sum to 9999, must sum to 10000", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 6000; } );\n",
		       1, "test.conf:5: ", "sum to 12000", NULL);
}

static void test_wrong_type(void **state)
{
	expect_invalid("interval_ms = \"1000\";\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:1: ", "interval_ms must be an integer", NULL);
	/* A float is not silently truncated. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5.5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:3: ", "hot.min_access_percent must be an integer", NULL);
	expect_invalid(MINIMAL "damon_stat_takeover = 1;\n", 1, "test.conf:6: ",
		       "damon_stat_takeover must be true or false", NULL);
	expect_invalid(MINIMAL "run_dir = \"run/dtierd\";\n", 1, "test.conf:6: ", "run_dir must be an absolute path",
		       NULL);
	expect_invalid(MINIMAL "run_dir = 5;\n", 1, "test.conf:6: ", "run_dir must be an absolute path", NULL);
	/* node_exporter reads only DIR/NAME.prom (not hidden files). */
	static const char *const bad_textfiles[] = { "\"dtierd.prom\"", "\"/var/lib/x/\"", "\"/var/lib/x/dtierd\"",
						     "\"/var/lib/x/.prom\"", "\"/var/lib/x/.dtierd.prom\"", "\"\"",
						     "true" };
	for (size_t i = 0; i < ELEMENTSOF(bad_textfiles); i++) {
		char text[512];
		snprintf(text, sizeof(text), MINIMAL "prometheus_textfile = %s;\n", bad_textfiles[i]);
		expect_invalid(text, 1, "test.conf:6: ",
			       "prometheus_textfile must be an absolute path to NAME.prom", NULL);
	}
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = 5;\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:2: ", "monitor must be a group", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = { node = 0; hot_share_bp = 10000; };\n",
		       1, "test.conf:5: ", "tiers must be a list", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, 4000 );\n",
		       1, "test.conf:5: ", "tiers[1] must be a group", NULL);
}

static void test_tier_count(void **state)
{
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 10000; } );\n",
		       1, "test.conf:5: ", "tiers has 1 entries, must have between 2 and 8", NULL);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( );\n",
		       1, "test.conf:5: ", "tiers has 0 entries", NULL);
	/* Nine tiers: rejected, and nothing is written past tiers[7]. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 2000; }, { node = 1; hot_share_bp = 1000; },\n"
		       "  { node = 2; hot_share_bp = 1000; }, { node = 3; hot_share_bp = 1000; },\n"
		       "  { node = 4; hot_share_bp = 1000; }, { node = 5; hot_share_bp = 1000; },\n"
		       "  { node = 6; hot_share_bp = 1000; }, { node = 7; hot_share_bp = 1000; },\n"
		       "  { node = 8; hot_share_bp = 1000; } );\n",
		       1, "test.conf:5: ", "tiers has 9 entries, must have between 2 and 8", NULL);
}

static void test_monitor_cross_checks(void **state)
{
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000;\n"
		       "  aggr_us = 4000;\n"
		       "  min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:3: ", "monitor.aggr_us = 4000 must be >= monitor.sample_us = 5000", NULL);
	/* Equal is fine: one sample per aggregation. */
	Result res = load("interval_ms = 1000;\n"
			  "monitor = { sample_us = 5000; aggr_us = 5000; min_regions = 10; max_regions = 1000; };\n"
			  "hot = { min_access_percent = 5; };\n"
			  "migration = { max_mib_per_s = 256; };\n"
			  "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	assert_int_equal(res.r, 0);
	assert_int_equal(config_hot_min_nr_accesses(res.c), 1);
	result_free(&res);
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000;\n"
		       "  min_regions = 100; max_regions = 99; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
		       1, "test.conf:3: ", "monitor.min_regions = 100 must be <= monitor.max_regions = 99", NULL);
}

static void test_several_errors(void **state)
{
	/* One pass reports every problem, each at its own line, so the
	 * operator does not fix them one reload at a time. */
	Result res = load("interval_ms = 10;\n"                                             /* 1 */
			  "monitor = { sample_us = 5000;\n"                                 /* 2 */
			  "  aggr_us = 1000;\n"                                             /* 3 */
			  "  min_regions = 10; max_regions = 1000; };\n"                    /* 4 */
			  "hot = { min_access_percent = 5; };\n"                            /* 5 */
			  "migration = { max_mib_per_s = 256; deadband = 100; };\n"         /* 6 */
			  "tiers = ( { node = 0; hot_share_bp = 6000; },\n"                 /* 7 */
			  "          { node = 1; hot_share_bp = 3000; } );\n");             /* 8 */
	dump(&res);
	assert_int_equal(res.r, -EINVAL);
	assert_null(res.c);
	assert_int_equal(res.e.n, 4);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:1: ", "interval_ms = 10 is out of range [100, 3600000]",
				NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:3: ", "monitor.aggr_us = 1000", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:6: ", "unknown key 'migration.deadband'", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:7: ", "sum to 9000", NULL) >= 0);
	result_free(&res);
}

static void test_error_order(void **state)
{
	/* Messages come in the order of the lines they name, whatever the
	 * order in which the groups are checked. */
	Result res = load("tiers = ( { node = 0; hot_share_bp = 16000; }, { node = 1; hot_share_bp = 4000; } );\n" /* 1 */
			  "migration = { max_mib_per_s = 0; };\n"                                          /* 2 */
			  "hot = { min_access_percent = 5; min_age = 3; };\n"                               /* 3 */
			  "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1; };\n"
			  "interval_ms = 10;\n");                                                           /* 5 */
	static const char *const want[] = {
		"test.conf:1: tiers[0].hot_share_bp = 16000 is out of range",
		"test.conf:2: migration.max_mib_per_s = 0 is out of range",
		"test.conf:3: unknown key 'hot.min_age'",
		"test.conf:4: monitor.max_regions = 1 is out of range",
		"test.conf:5: interval_ms = 10 is out of range",
	};
	dump(&res);
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		if (!strstr(res.e.msg[i], want[i]))
			fail_msg("message %zu is '%s', want '%s'", i, res.e.msg[i], want[i]);
	result_free(&res);

	/* Past the cap, the messages kept are the first lines': the
	 * interval error on line 1 is checked after the unknown keys. */
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text), "interval_ms = 10;\n%s", strchr(MINIMAL, '\n') + 1);
	for (int i = 0; i < 2 * CONFIG_MAX_ERRORS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "typo%d = 1;\n", i);
	res = load(text);
	assert_int_equal(res.e.n, CONFIG_MAX_ERRORS);
	assert_non_null(strstr(res.e.msg[0], "test.conf:1: interval_ms = 10 is out of range"));
	assert_non_null(strstr(res.e.msg[1], "test.conf:6: unknown key 'typo0'"));
	result_free(&res);
}

static void test_did_you_mean(void **state)
{
	/* An unknown key close to one of its group's keys names it. */
	static const struct {
		const char *line, *want;
	} t[] = {
		{ "hot2 = 1;", "unknown key 'hot2', did you mean 'hot'?" },
		{ "migration2 = 1;", "unknown key 'migration2', did you mean 'migration'?" },
		{ "measure = { kpageflags_max = 1; };", "unknown key 'measure.kpageflags_max', did you mean 'kpageflags_max_pages'?" },
		{ "monitor2 = { };", "unknown key 'monitor2', did you mean 'monitor'?" },
		{ "Interval_MS = 1;", "unknown key 'Interval_MS', did you mean 'interval_ms'?" },
		/* Too far from every key: no guess. */
		{ "bogus = 1;", "unknown key 'bogus'" },
		{ "foo = 1;", "unknown key 'foo'" },
	};
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char text[2048];
		snprintf(text, sizeof(text), "%s%s\n", MINIMAL, t[i].line);
		Result res = load(text);
		int k = tu_find_msg(res.e.msg, res.e.n, "unknown key", NULL);
		if (k < 0 || !strstr(res.e.msg[k], t[i].want) ||
		    (!strstr(t[i].want, "did you mean") && strstr(res.e.msg[k], "did you mean"))) {
			dump(&res);
			fail_msg("case %zu: want '%s'", i, t[i].want);
		}
		result_free(&res);
	}
	/* In a tier entry, against the tier's keys. */
	expect_invalid("interval_ms = 1000;\n"
		       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		       "hot = { min_access_percent = 5; };\n"
		       "migration = { max_mib_per_s = 256; deadband = 100; };\n"
		       "tiers = ( { node = 0; hot_share_bp = 6000; },\n"
		       "  { node = 1; hot_share_bp = 4000; hot_share = 1; } );\n",
		       2, "test.conf:4: unknown key 'migration.deadband', did you mean 'deadband_bp'?", NULL);
}

static void test_error_cap(void **state)
{
	/* More problems than ConfigErrors holds: capped, no overflow. */
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text), "%s", MINIMAL);
	for (int i = 0; i < 2 * CONFIG_MAX_ERRORS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "typo%d = 1;\n", i);
	Result res = load(text);
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, CONFIG_MAX_ERRORS);
	assert_non_null(strstr(res.e.msg[0], "test.conf:6: unknown key 'typo0'"));
	result_free(&res);
}

static void test_interval_vs_aggr(void **state)
{
	/* An interval shorter than two aggregation intervals cannot hold the
	 * tried-regions walk it waits for. */
	Result res = load("interval_ms = 1000;\n"
			  "monitor = { sample_us = 5000; aggr_us = 600000; min_regions = 10; max_regions = 1000; };\n"
			  "hot = { min_access_percent = 5; };\n"
			  "migration = { max_mib_per_s = 256; };\n"
			  "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, 1);
	assert_non_null(strstr(res.e.msg[0], "test.conf:1: interval_ms = 1000 must be at least twice monitor.aggr_us"));
	result_free(&res);
	/* The check needs interval_ms and the monitor group valid, nothing
	 * else: an unknown key elsewhere does not hide it. */
	res = load("interval_ms = 100;\n"
		   "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		   "hot = { min_access_percent = 5; };\n"
		   "migration = { max_mib_per_s = 256; };\n"
		   "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n"
		   "bogus = 1;\n");
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.e.n, 2);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:1: interval_ms = 100 must be at least twice", NULL) >= 0);
	assert_true(tu_find_msg(res.e.msg, res.e.n, "test.conf:6: unknown key 'bogus'", NULL) >= 0);
	result_free(&res);
}

static void test_hot_min_nr_accesses(void **state)
{
	static const struct {
		unsigned sample_us, aggr_us, percent, want;
	} t[] = {
		{ 5000, 100000, 5, 1 },    /* 20 samples: 5 % = 1 */
		{ 5000, 100000, 7, 2 },    /* 1.4 rounds up */
		{ 5000, 100000, 10, 2 },   /* exact */
		{ 5000, 100000, 11, 3 },   /* 2.2 rounds up */
		{ 5000, 100000, 100, 20 }, /* every sample */
		{ 5000, 100000, 1, 1 },    /* 0.2: at least one access */
		{ 3000, 100000, 50, 17 },  /* 33 whole samples (not 33.3): 16.5 -> 17 */
		{ 5000, 5000, 1, 1 },      /* one sample per aggregation */
		{ 100, 100000000, 100, 1000000 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "interval_ms = %u;\n"
			 "monitor = { sample_us = %u; aggr_us = %u; min_regions = 10; max_regions = 1000; };\n"
			 "hot = { min_access_percent = %u; };\n"
			 "migration = { max_mib_per_s = 256; };\n"
			 "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n",
			 t[i].aggr_us / 500 > 1000 ? t[i].aggr_us / 500 : 1000, t[i].sample_us, t[i].aggr_us,
			 t[i].percent);
		Result res = load(text);
		assert_int_equal(res.r, 0);
		if (config_hot_min_nr_accesses(res.c) != t[i].want)
			fail_msg("case %zu: %u us / %u us at %u %%: got %u, want %u", i, t[i].sample_us, t[i].aggr_us,
				 t[i].percent, config_hot_min_nr_accesses(res.c), t[i].want);
		result_free(&res);
	}
}

static void test_only_targets_differ(void **state)
{
	Result a = load(MINIMAL);
	Result same = load(MINIMAL);
	Result targets = load("interval_ms = 1000;\n"
			      "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			      "hot = { min_access_percent = 5; };\n"
			      "migration = { max_mib_per_s = 256; };\n"
			      "tiers = ( { node = 0; hot_share_bp = 2000; }, { node = 1; hot_share_bp = 8000; } );\n");
	Result speed = load("interval_ms = 1000;\n"
			    "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			    "hot = { min_access_percent = 5; };\n"
			    "migration = { max_mib_per_s = 64; deadband_bp = 300; };\n"
			    "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	Result interval = load("interval_ms = 2000;\n"
			       "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			       "hot = { min_access_percent = 5; };\n"
			       "migration = { max_mib_per_s = 256; };\n"
			       "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	Result monitor = load("interval_ms = 1000;\n"
			      "monitor = { sample_us = 5000; aggr_us = 200000; min_regions = 10; max_regions = 1000; };\n"
			      "hot = { min_access_percent = 5; };\n"
			      "migration = { max_mib_per_s = 256; };\n"
			      "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	Result hot = load("interval_ms = 1000;\n"
			  "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			  "hot = { min_access_percent = 5; min_age_ms = 500; };\n"
			  "migration = { max_mib_per_s = 256; };\n"
			  "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	Result nodes = load("interval_ms = 1000;\n"
			    "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			    "hot = { min_access_percent = 5; };\n"
			    "migration = { max_mib_per_s = 256; };\n"
			    "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 2; hot_share_bp = 4000; } );\n");
	Result order = load("interval_ms = 1000;\n"
			    "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			    "hot = { min_access_percent = 5; };\n"
			    "migration = { max_mib_per_s = 256; };\n"
			    "tiers = ( { node = 1; hot_share_bp = 4000; }, { node = 0; hot_share_bp = 6000; } );\n");
	Result three = load("interval_ms = 1000;\n"
			    "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
			    "hot = { min_access_percent = 5; };\n"
			    "migration = { max_mib_per_s = 256; };\n"
			    "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 2000; },\n"
			    "  { node = 2; hot_share_bp = 2000; } );\n");
	Result measure = load(MINIMAL "measure = { kpageflags_max_pages = 4096; metric = \"userspace\"; };\n");
	Result kernel = load(MINIMAL "measure = { metric = \"kernel\"; };\n");
	Result levels = load(MINIMAL "measure = { source = \"levels\"; };\n");
	Result *all[] = { &a,   &same,  &targets, &speed,   &interval, &monitor, &hot,
			  &nodes, &order, &three,   &measure, &kernel,   &levels };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_int_equal(all[i]->r, 0);

	assert_true(config_only_targets_differ(a.c, same.c));
	assert_true(config_only_targets_differ(a.c, targets.c));
	/* Migration and measure settings apply without touching the
	 * kdamond's schemes (config.h). */
	assert_true(config_only_targets_differ(a.c, speed.c));
	assert_true(config_only_targets_differ(a.c, measure.c));
	/* Everything the running kdamond or the tick depends on needs a
	 * restart. */
	assert_false(config_only_targets_differ(a.c, interval.c));
	assert_false(config_only_targets_differ(a.c, monitor.c));
	assert_false(config_only_targets_differ(a.c, hot.c));
	assert_false(config_only_targets_differ(a.c, nodes.c));
	assert_false(config_only_targets_differ(a.c, order.c));
	assert_false(config_only_targets_differ(a.c, three.c));
	assert_false(config_only_targets_differ(three.c, a.c));
	/* The pairs' goals change metric: the schemes are staged again. */
	assert_false(config_only_targets_differ(a.c, kernel.c));
	assert_false(a.c->measure.kernel_metric);
	/* So do the level schemes of measure.source. */
	assert_false(config_only_targets_differ(a.c, levels.c));
	assert_int_equal(a.c->measure.source, CONFIG_SOURCE_AUTO);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		result_free(all[i]);
}

static void test_print_roundtrip(void **state)
{
	/* `dtierd -p` output is itself a valid file with the same values. */
	Result a = load("interval_ms = 500;\n"
			"monitor = { sample_us = 2000; aggr_us = 40000; min_regions = 5; max_regions = 50; };\n"
			"hot = { min_access_percent = 30; min_age_ms = 200; };\n"
			"migration = { max_mib_per_s = 100; deadband_bp = 200; hold_s = 3; };\n"
			"measure = { kpageflags_max_pages = 4096; metric = \"kernel\"; };\n"
			"damon_stat_takeover = true;\n"
			"run_dir = \"/tmp/x\";\n"
			"prometheus_textfile = \"/tmp/x/dtierd.prom\";\n"
			"tiers = ( { node = 0; hot_share_bp = 5000; }, { node = 1; hot_share_bp = 3000; },\n"
			"  { node = 3; hot_share_bp = 2000; } );\n");
	assert_int_equal(a.r, 0);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	config_print(a.c, f);
	fclose(f);
	Result b = load(buf);
	if (b.r != 0) {
		print_message("%s", buf);
		dump(&b);
	}
	assert_int_equal(b.r, 0);
	assert_int_equal(b.c->interval_ms, 500);
	assert_int_equal(b.c->monitor.sample_us, 2000);
	assert_int_equal(b.c->monitor.aggr_us, 40000);
	assert_int_equal(b.c->monitor.min_regions, 5);
	assert_int_equal(b.c->monitor.max_regions, 50);
	assert_int_equal(b.c->hot.min_access_percent, 30);
	assert_int_equal(b.c->hot.min_age_ms, 200);
	assert_int_equal(b.c->migration.max_mib_per_s, 100);
	assert_int_equal(b.c->migration.deadband_bp, 200);
	assert_int_equal(b.c->migration.hold_s, 3);
	assert_int_equal(b.c->measure.kpageflags_max_pages, 4096);
	assert_true(b.c->measure.kernel_metric);
	assert_true(b.c->damon_stat_takeover);
	assert_string_equal(b.c->run_dir, "/tmp/x");
	assert_string_equal(b.c->prometheus_textfile, "/tmp/x/dtierd.prom");
	assert_int_equal(b.c->n_tiers, 3);
	assert_int_equal(b.c->tiers[2].node, 3);
	assert_int_equal(b.c->tiers[2].hot_share_bp, 2000);
	/* The hot threshold in samples is spelled out: 30 % of 20 = 6. */
	assert_non_null(strstr(buf, "nr_accesses >= 6 of 20 samples"));
	free(buf);
	result_free(&a);
	result_free(&b);
}

static void test_load_file(void **state)
{
	char *dir = tu_mkdtemp();
	char path[PATH_MAX];
	Config *c = NULL;
	ConfigErrors e = { 0 };

	/* Valid file: the path is kept for messages and reloads. */
	tu_write(dir, "dtierd.conf", "# test\n%s", MINIMAL);
	snprintf(path, sizeof(path), "%s/dtierd.conf", dir);
	assert_int_equal(config_load(path, &c, &e), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, path);
	assert_int_equal(c->tiers[1].hot_share_bp, 4000);
	config_free(c);
	c = NULL;

	/* Invalid file: messages name the file path and the line. */
	tu_write(dir, "bad.conf", "%s\nhot = 3;\n", MINIMAL);
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	assert_int_equal(config_load(path, &c, &e), -EINVAL);
	assert_null(c);
	assert_true(e.n >= 1);
	char want[PATH_MAX + 16];
	snprintf(want, sizeof(want), "%s:7: ", path);
	assert_true(tu_find_msg(e.msg, e.n, want, NULL) >= 0);
	config_errors_clear(&e);
	assert_int_equal(e.n, 0);

	tu_write(dir, "syntax.conf", "interval_ms = 1000;\n\nmonitor = {\n");
	snprintf(path, sizeof(path), "%s/syntax.conf", dir);
	assert_int_equal(config_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s:", path);
	assert_non_null(strstr(e.msg[0], want));
	assert_non_null(strstr(e.msg[0], "syntax error"));
	config_errors_clear(&e);

	/* Missing file: the errno, and one message saying so. */
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(config_load(path, &c, &e), -ENOENT);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], path));
	assert_non_null(strstr(e.msg[0], "cannot open"));
	assert_non_null(strstr(e.msg[0], strerror(ENOENT)));
	config_errors_clear(&e);

	/* Errors may be NULL: the result still says invalid. */
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	assert_int_equal(config_load(path, &c, NULL), -EINVAL);
	assert_int_equal(config_load_string("x", "interval_ms = ;", &c, NULL), -EINVAL);
	assert_null(c);
	tu_rmtree(dir);
}

/* Loads PATH expecting R and exactly one message containing every needle
 * (NULL-terminated). */
static void expect_load_error(const char *path, int r, ...)
{
	Config *c = NULL;
	ConfigErrors e = { 0 };
	va_list ap;

	int got = config_load(path, &c, &e);
	for (size_t i = 0; i < e.n; i++)
		print_message("  [%zu] %s\n", i, e.msg[i]);
	assert_int_equal(got, r);
	assert_null(c);
	assert_int_equal(e.n, 1);
	va_start(ap, r);
	for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
		if (!strstr(e.msg[0], needle))
			fail_msg("message '%s' lacks '%s'", e.msg[0], needle);
	va_end(ap);
	config_errors_clear(&e);
}

static void test_load_not_regular(void **state)
{
	char *dir = tu_mkdtemp();
	char path[PATH_MAX], want[PATH_MAX + 64];

	/* A directory made libconfig's scanner call exit(2) inside dtierd;
	 * a FIFO with no writer blocked it forever. */
	alarm(10);
	tu_mkdirs(dir, "conf.d");
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	snprintf(want, sizeof(want), "%s: not a regular file (directory)", path);
	expect_load_error(path, -EISDIR, want, NULL);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(want, sizeof(want), "%s: not a regular file (FIFO)", path);
	expect_load_error(path, -EINVAL, want, NULL);

	/* A symlink is followed: to a regular file it is fine, to a device
	 * it is not. */
	tu_symlink(dir, "null", "/dev/null");
	snprintf(path, sizeof(path), "%s/null", dir);
	snprintf(want, sizeof(want), "%s: not a regular file (character device)", path);
	expect_load_error(path, -EINVAL, want, NULL);
	alarm(0);
	tu_rmtree(dir);
}

static void test_load_size_limit(void **state)
{
	char *dir = tu_mkdtemp();
	char path[PATH_MAX], want[PATH_MAX + 64];
	Config *c = NULL;
	ConfigErrors e = { 0 };

	/* Exactly the limit: a valid file padded with a comment line. */
	size_t n = CONFIG_MAX_BYTES;
	char *text = malloc(n + 2);
	size_t len = (size_t)snprintf(text, n + 1, "%s#", MINIMAL);
	memset(text + len, 'x', n - 1 - len);
	text[n - 1] = '\n';
	tu_write_bytes(dir, "big.conf", text, n);
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	assert_int_equal(config_load(path, &c, &e), 0);
	config_free(c);

	/* One byte more (a 16 MiB one-line file took libconfig 4 minutes). */
	text[n - 1] = 'x';
	text[n] = '\n';
	tu_write_bytes(dir, "big.conf", text, n + 1);
	snprintf(want, sizeof(want), "%s: too large (1048577 bytes, the limit is 1 MiB)", path);
	expect_load_error(path, -EFBIG, want, NULL);

	/* A NUL byte would end libconfig's string early, silently dropping
	 * what follows. */
	tu_write_bytes(dir, "nul.conf", "interval_ms = 1000;\n#\0\n", 23);
	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	snprintf(want, sizeof(want), "%s:2: contains a NUL byte, not a text file", path);
	expect_load_error(path, -EINVAL, want, NULL);
	free(text);
	tu_rmtree(dir);
}

static void test_include(void **state)
{
	char path[PATH_MAX];
	Config *c = NULL;
	ConfigErrors e = { 0 };

	/* @include is relative to the including file's directory, not to
	 * the working directory (the test runs in the build tree). */
	snprintf(path, sizeof(path), "%s/dtierd.conf", tu_fixture("config-include"));
	int r = config_load(path, &c, &e);
	for (size_t i = 0; i < e.n; i++)
		print_message("  [%zu] %s\n", i, e.msg[i]);
	assert_int_equal(r, 0);
	assert_int_equal(c->n_tiers, 2);
	assert_int_equal(c->tiers[0].hot_share_bp, 7000);
	assert_int_equal(c->tiers[1].node, 1);
	assert_int_equal(c->hot.min_access_percent, 25);
	assert_true(c->damon_stat_takeover);
	config_free(c);
}

static void test_include_errors(void **state)
{
	char *dir = tu_mkdtemp();
	char path[PATH_MAX], want[PATH_MAX + 128];

	/* An included directory, FIFO or missing file is reported at the
	 * @include line, naming the file it resolved to; nothing exits or
	 * hangs. */
	alarm(10);
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	tu_mkdirs(dir, "sub");
	tu_write(dir, "main.conf", "interval_ms = 1000;\n@include \"sub\"\n");
	snprintf(want, sizeof(want), "%s:2: @include \"sub\": %s/sub: not a regular file (directory)", path, dir);
	expect_load_error(path, -EINVAL, want, NULL);

	tu_write(dir, "main.conf", "interval_ms = 1000;\n\n  @include \"fifo\"\n");
	snprintf(want, sizeof(want), "%s/fifo", dir);
	assert_int_equal(mkfifo(want, 0600), 0);
	snprintf(want, sizeof(want), "%s:3: @include \"fifo\": %s/fifo: not a regular file (FIFO)", path, dir);
	expect_load_error(path, -EINVAL, want, NULL);

	tu_write(dir, "main.conf", "@include \"nope.conf\"\n");
	snprintf(want, sizeof(want), "%s:1: @include \"nope.conf\": %s/nope.conf: cannot open: %s", path, dir,
		 strerror(ENOENT));
	expect_load_error(path, -EINVAL, want, NULL);

	/* Nested: the inner @include is named at its own file and line. */
	tu_write(dir, "main.conf", "# outer\n@include \"a.conf\"\n");
	tu_write(dir, "a.conf", "\n\n@include \"sub\"\n");
	snprintf(want, sizeof(want), "%s/a.conf:3: @include \"sub\": %s/sub: not a regular file (directory)", dir, dir);
	expect_load_error(path, -EINVAL, want, NULL);

	/* libconfig 1.5 prefixes the include directory to every name, so an
	 * absolute one cannot work: say so instead of "cannot open". */
	tu_write(dir, "main.conf", "@include \"/etc/dtierd-tiers.conf\"\n");
	snprintf(want, sizeof(want),
		 "%s:1: @include \"/etc/dtierd-tiers.conf\": must be a path relative to %s", path, dir);
	expect_load_error(path, -EINVAL, want, NULL);

	/* The size limit counts the file and everything it includes. */
	size_t n = CONFIG_MAX_BYTES / 2 + 1;
	char *pad = malloc(n);
	memset(pad, '#', n);
	pad[n - 1] = '\n';
	tu_write_bytes(dir, "pad.conf", pad, n);
	tu_write(dir, "main.conf", "@include \"pad.conf\"\n@include \"pad.conf\"\n");
	snprintf(want, sizeof(want), "%s:2: @include \"pad.conf\": %s/pad.conf: too large (", path, dir);
	expect_load_error(path, -EINVAL, want, "the limit is 1 MiB with the file and its includes", NULL);
	free(pad);

	/* Numbers in an included file are checked as written too. */
	tu_write(dir, "main.conf",
		 "interval_ms = 1000;\n"
		 "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
		 "hot = { min_access_percent = 5; };\n"
		 "@include \"tiers.conf\"\n"
		 "migration = { max_mib_per_s = 256; };\n");
	tu_write(dir, "tiers.conf", "tiers = ( { node = 0; hot_share_bp = 6000; },\n"
				     "  { node = 4294967296; hot_share_bp = 4000; } );\n");
	snprintf(want, sizeof(want), "%s/tiers.conf:2: tiers[1].node = 4294967296 is out of range [0, 63]", dir);
	expect_load_error(path, -EINVAL, want, NULL);

	/* A syntax error in an included file names that file and its line. */
	tu_write(dir, "tiers.conf", "tiers = (\n\n  { node = ; } );\n");
	snprintf(want, sizeof(want), "%s/tiers.conf:3: syntax error", dir);
	expect_load_error(path, -EINVAL, want, NULL);

	/* At most 32 files in all: the top one and 31 @include's. */
	char many[32 * 24] = "";
	for (int i = 0; i < 32; i++)
		strcat(many, "@include \"empty.conf\"\n");
	tu_write(dir, "empty.conf", "# nothing\n");
	tu_write(dir, "main.conf", "%s", many);
	snprintf(want, sizeof(want), "%s:32: @include \"empty.conf\": more than 32 files in one configuration", path);
	expect_load_error(path, -EINVAL, want, NULL);

	/* A file that includes itself stops at libconfig's depth limit. */
	tu_write(dir, "main.conf", "@include \"main.conf\"\n");
	expect_load_error(path, -EINVAL, "/main.conf:1: syntax error: include file nesting too deep", NULL);

	/* In line order, an included file's messages at its @include. */
	tu_write(dir, "main.conf", "interval_ms = 10;\n@include \"tiers.conf\"\nbogus = 1;\n"
				   "monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n"
				   "hot = { min_access_percent = 5; };\nmigration = { max_mib_per_s = 256; };\n");
	tu_write(dir, "tiers.conf", "tiers = ( { node = 0; hot_share_bp = 6000; },\n { node = 99; hot_share_bp = 4000; } );\n");
	Config *c = NULL;
	ConfigErrors e = { 0 };
	assert_int_equal(config_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.n, 3);
	snprintf(want, sizeof(want), "%s:1: interval_ms = 10", path);
	assert_non_null(strstr(e.msg[0], want));
	snprintf(want, sizeof(want), "%s/tiers.conf:2: tiers[1].node = 99", dir);
	assert_non_null(strstr(e.msg[1], want));
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus'", path);
	assert_non_null(strstr(e.msg[2], want));
	config_errors_clear(&e);

	/* @include inside a comment or a string is not an include. */
	tu_write(dir, "main.conf", "/*\n@include \"sub\"\n*/\nrun_dir = \"\n@include \\\"sub\\\"\";\n%s", MINIMAL);
	int r = config_load(path, &c, &e);
	for (size_t i = 0; i < e.n; i++)
		print_message("  [%zu] %s\n", i, e.msg[i]);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "run_dir must be an absolute path"));
	config_errors_clear(&e);
	alarm(0);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_values_and_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_shipped_config),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_wide_integers),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_node),
		cmocka_unit_test(test_shares_sum),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_tier_count),
		cmocka_unit_test(test_monitor_cross_checks),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_error_order),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_interval_vs_aggr),
		cmocka_unit_test(test_hot_min_nr_accesses),
		cmocka_unit_test(test_only_targets_differ),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_not_regular),
		cmocka_unit_test(test_load_size_limit),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
