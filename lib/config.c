/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libconfig.h>
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "util.h"

void config_errors_clear(ConfigErrors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
}

static void add_error(ConfigErrors *e, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add_error(ConfigErrors *e, const char *file, int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!e || e->n >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *m = NULL;
	if (asprintf(&m, "%s:%d: %s", file, line, buf) < 0)
		return;
	e->msg[e->n++] = m;
}

void config_free(Config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->run_dir);
	free(c);
}

typedef struct Parser {
	const char *file;
	ConfigErrors *errs;
	int root_line; /* line used for "missing key" errors */
	bool failed;
} Parser;

/* Keys allowed in each group; anything else is a typo the operator wants to
 * hear about rather than a silently ignored setting. */
static const char *const keys_top[] = { "interval_ms", "monitor", "hot", "migration", "measure",
					"tiers", "damon_stat_takeover", "run_dir", NULL };
static const char *const keys_monitor[] = { "sample_us", "aggr_us", "min_regions", "max_regions", NULL };
static const char *const keys_hot[] = { "min_access_percent", "min_age_ms", NULL };
static const char *const keys_migration[] = { "max_mib_per_s", "deadband_bp", "hold_s", NULL };
static const char *const keys_measure[] = { "kpageflags_max_pages", NULL };
static const char *const keys_tier[] = { "node", "hot_share_bp", NULL };

static int line_of(const config_setting_t *s, int fallback)
{
	int l = s ? (int)config_setting_source_line(s) : 0;
	return l > 0 ? l : fallback;
}

static void check_keys(Parser *p, const config_setting_t *group, const char *prefix,
		       const char *const *allowed)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;

		if (!name)
			continue;
		for (const char *const *k = allowed; *k; k++)
			if (strcmp(*k, name) == 0)
				ok = true;
		if (!ok) {
			add_error(p->errs, p->file, line_of(s, p->root_line), "unknown key '%s%s'", prefix, name);
			p->failed = true;
		}
	}
}

/* Reads integer key NAME of GROUP into *ret, checking [lo, hi]. A missing
 * key takes DEF if HAS_DEF, else is an error. */
static void get_int(Parser *p, const config_setting_t *group, const char *prefix, const char *name,
		    long long lo, long long hi, bool has_def, long long def, long long *ret)
{
	const config_setting_t *s = group ? config_setting_get_member(group, name) : NULL;

	*ret = def;
	if (!s) {
		if (!has_def) {
			add_error(p->errs, p->file, line_of(group, p->root_line), "missing required key '%s%s'",
				  prefix, name);
			p->failed = true;
		}
		return;
	}
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		add_error(p->errs, p->file, line_of(s, p->root_line), "%s%s must be an integer", prefix, name);
		p->failed = true;
		return;
	}
	long long v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		add_error(p->errs, p->file, line_of(s, p->root_line), "%s%s = %lld is out of range [%lld, %lld]",
			  prefix, name, v, lo, hi);
		p->failed = true;
		return;
	}
	*ret = v;
}

static const config_setting_t *get_group(Parser *p, const config_setting_t *root, const char *name,
					 bool required, const char *const *allowed)
{
	const config_setting_t *g = config_setting_get_member(root, name);
	char prefix[64];

	if (!g) {
		if (required) {
			add_error(p->errs, p->file, p->root_line, "missing required group '%s'", name);
			p->failed = true;
		}
		return NULL;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		add_error(p->errs, p->file, line_of(g, p->root_line), "%s must be a group { ... }", name);
		p->failed = true;
		return NULL;
	}
	snprintf(prefix, sizeof(prefix), "%s.", name);
	check_keys(p, g, prefix, allowed);
	return g;
}

static int parse(const char *name, config_t *cf, Config **ret, ConfigErrors *errs)
{
	Parser p = { .file = name, .errs = errs, .root_line = 1 };
	const config_setting_t *root = config_root_setting(cf);
	long long v;

	Config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(name);
	if (!c->path) {
		config_free(c);
		return -ENOMEM;
	}

	check_keys(&p, root, "", keys_top);

	get_int(&p, root, "", "interval_ms", 100, 3600000, false, 1000, &v);
	c->interval_ms = (unsigned)v;

	/* The cross-checks below need this group's own keys valid, not the
	 * whole file so far: an unrelated error must not hide them. */
	bool failed_before_monitor = p.failed;
	p.failed = false;
	const config_setting_t *g = get_group(&p, root, "monitor", true, keys_monitor);
	get_int(&p, g, "monitor.", "sample_us", 100, 10000000, false, 5000, &v);
	c->monitor.sample_us = (uint64_t)v;
	get_int(&p, g, "monitor.", "aggr_us", 1000, 100000000, false, 100000, &v);
	c->monitor.aggr_us = (uint64_t)v;
	get_int(&p, g, "monitor.", "min_regions", 3, 100000, false, 10, &v);
	c->monitor.min_regions = (unsigned)v;
	get_int(&p, g, "monitor.", "max_regions", 3, 100000, false, 1000, &v);
	c->monitor.max_regions = (unsigned)v;
	if (g && !p.failed) {
		if (c->monitor.aggr_us < c->monitor.sample_us) {
			add_error(errs, name, line_of(config_setting_get_member(g, "aggr_us"), 1),
				  "monitor.aggr_us = %llu must be >= monitor.sample_us = %llu",
				  (unsigned long long)c->monitor.aggr_us, (unsigned long long)c->monitor.sample_us);
			p.failed = true;
		}
		if (c->monitor.min_regions > c->monitor.max_regions) {
			add_error(errs, name, line_of(config_setting_get_member(g, "min_regions"), 1),
				  "monitor.min_regions = %u must be <= monitor.max_regions = %u",
				  c->monitor.min_regions, c->monitor.max_regions);
			p.failed = true;
		}
	}
	p.failed = p.failed || failed_before_monitor;

	/* Each interval waits for a tried-regions walk, which takes at least
	 * one aggregation interval (up to two): leave room for it. */
	if (!p.failed && (uint64_t)c->interval_ms * 1000 < 2 * c->monitor.aggr_us) {
		add_error(errs, name, line_of(config_setting_get_member(root, "interval_ms"), 1),
			  "interval_ms = %u must be at least twice monitor.aggr_us (%llu us)", c->interval_ms,
			  (unsigned long long)c->monitor.aggr_us);
		p.failed = true;
	}

	g = get_group(&p, root, "hot", true, keys_hot);
	get_int(&p, g, "hot.", "min_access_percent", 1, 100, false, 5, &v);
	c->hot.min_access_percent = (unsigned)v;
	get_int(&p, g, "hot.", "min_age_ms", 0, 3600000, true, 0, &v);
	c->hot.min_age_ms = (unsigned)v;

	g = get_group(&p, root, "migration", true, keys_migration);
	get_int(&p, g, "migration.", "max_mib_per_s", 1, 1048576, false, 256, &v);
	c->migration.max_mib_per_s = (unsigned)v;
	get_int(&p, g, "migration.", "deadband_bp", 10, 2500, true, 150, &v);
	c->migration.deadband_bp = (unsigned)v;
	get_int(&p, g, "migration.", "hold_s", 0, 3600, true, 10, &v);
	c->migration.hold_s = (unsigned)v;

	g = get_group(&p, root, "measure", false, keys_measure);
	get_int(&p, g, "measure.", "kpageflags_max_pages", 0, 1LL << 40, true, 1 << 20, &v);
	c->measure.kpageflags_max_pages = (uint64_t)v;

	const config_setting_t *s = config_setting_get_member(root, "damon_stat_takeover");
	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			add_error(errs, name, line_of(s, 1), "damon_stat_takeover must be true or false");
			p.failed = true;
		} else {
			c->damon_stat_takeover = config_setting_get_bool(s);
		}
	}

	s = config_setting_get_member(root, "run_dir");
	const char *rd = "/run/dtierd";
	if (s) {
		const char *str = config_setting_get_string(s);
		if (!str || str[0] != '/') {
			add_error(errs, name, line_of(s, 1), "run_dir must be an absolute path string");
			p.failed = true;
		} else {
			rd = str;
		}
	}
	c->run_dir = strdup(rd);
	if (!c->run_dir) {
		config_free(c);
		return -ENOMEM;
	}

	/* tiers = ( { node = N; hot_share_bp = B; }, ... ) */
	s = config_setting_get_member(root, "tiers");
	if (!s) {
		add_error(errs, name, 1, "missing required list 'tiers'");
		p.failed = true;
	} else if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		add_error(errs, name, line_of(s, 1), "tiers must be a list ( { node = N; hot_share_bp = B; }, ... )");
		p.failed = true;
	} else {
		int n = config_setting_length(s);
		unsigned long sum = 0;
		bool tiers_ok = true;
		/* Only nodes that were read count for the duplicate check: a
		 * missing or invalid node is 0 here and would also be reported
		 * as "listed twice". */
		bool node_ok[CONFIG_MAX_TIERS] = { false };

		if (n < 2 || n > CONFIG_MAX_TIERS) {
			add_error(errs, name, line_of(s, 1), "tiers has %d entries, must have between 2 and %d", n,
				  CONFIG_MAX_TIERS);
			p.failed = true;
			tiers_ok = false;
		}
		for (int i = 0; i < n && i < CONFIG_MAX_TIERS; i++) {
			const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
			char prefix[32];

			snprintf(prefix, sizeof(prefix), "tiers[%d].", i);
			if (config_setting_type(t) != CONFIG_TYPE_GROUP) {
				add_error(errs, name, line_of(t, 1), "tiers[%d] must be a group { node = N; hot_share_bp = B; }", i);
				p.failed = true;
				tiers_ok = false;
				continue;
			}
			bool before = p.failed;
			p.failed = false;
			check_keys(&p, t, prefix, keys_tier);
			bool keys_failed = p.failed;
			p.failed = false;
			get_int(&p, t, prefix, "node", 0, 63, false, 0, &v);
			c->tiers[i].node = (int)v;
			node_ok[i] = !p.failed;
			p.failed = p.failed || keys_failed;
			get_int(&p, t, prefix, "hot_share_bp", 0, 10000, false, 0, &v);
			c->tiers[i].hot_share_bp = (unsigned)v;
			if (p.failed)
				tiers_ok = false;
			p.failed = p.failed || before;
			sum += c->tiers[i].hot_share_bp;
			for (int j = 0; j < i && node_ok[i]; j++)
				if (node_ok[j] && c->tiers[j].node == c->tiers[i].node) {
					add_error(errs, name, line_of(config_setting_get_member(t, "node"), 1),
						  "tiers[%d].node = %d is listed twice (also tiers[%d])", i,
						  c->tiers[i].node, j);
					p.failed = true;
					tiers_ok = false;
				}
		}
		c->n_tiers = (size_t)MIN(n, CONFIG_MAX_TIERS);
		if (tiers_ok && sum != 10000) {
			add_error(errs, name, line_of(s, 1),
				  "tiers: hot_share_bp values sum to %lu, must sum to 10000 (100 %%)", sum);
			p.failed = true;
		}
	}

	if (p.failed) {
		config_free(c);
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

static int load(const char *name, const char *path, const char *text, Config **ret, ConfigErrors *errs)
{
	config_t cf;
	int r;

	config_init(&cf);
	config_set_options(&cf, CONFIG_OPTION_AUTOCONVERT);
	if (path) {
		/* Distinguish "cannot open" from syntax errors: libconfig reports
		 * both as CONFIG_FALSE. */
		FILE *f = fopen(path, "re");
		if (!f) {
			r = -errno;
			char *m = NULL;
			if (errs && errs->n < CONFIG_MAX_ERRORS &&
			    asprintf(&m, "%s: cannot open: %s", name, strerror(-r)) >= 0)
				errs->msg[errs->n++] = m;
			config_destroy(&cf);
			return r;
		}
		r = config_read(&cf, f);
		fclose(f);
	} else {
		r = config_read_string(&cf, text);
	}
	if (r != CONFIG_TRUE) {
		add_error(errs, name, config_error_line(&cf), "syntax error: %s", config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	r = parse(name, &cf, ret, errs);
	config_destroy(&cf);
	return r;
}

int config_load(const char *path, Config **ret, ConfigErrors *errs)
{
	return load(path, path, NULL, ret, errs);
}

int config_load_string(const char *name, const char *text, Config **ret, ConfigErrors *errs)
{
	return load(name, NULL, text, ret, errs);
}

void config_print(const Config *c, void *fp)
{
	FILE *f = fp;

	fprintf(f, "# effective configuration of %s\n", c->path);
	fprintf(f, "interval_ms = %u;\n", c->interval_ms);
	fprintf(f, "monitor = { sample_us = %llu; aggr_us = %llu; min_regions = %u; max_regions = %u; };\n",
		(unsigned long long)c->monitor.sample_us, (unsigned long long)c->monitor.aggr_us,
		c->monitor.min_regions, c->monitor.max_regions);
	fprintf(f, "hot = { min_access_percent = %u; min_age_ms = %u; };  # nr_accesses >= %u of %llu samples\n",
		c->hot.min_access_percent, c->hot.min_age_ms, config_hot_min_nr_accesses(c),
		(unsigned long long)(c->monitor.aggr_us / c->monitor.sample_us));
	fprintf(f, "migration = { max_mib_per_s = %u; deadband_bp = %u; hold_s = %u; };\n",
		c->migration.max_mib_per_s, c->migration.deadband_bp, c->migration.hold_s);
	fprintf(f, "measure = { kpageflags_max_pages = %llu; };\n",
		(unsigned long long)c->measure.kpageflags_max_pages);
	fprintf(f, "damon_stat_takeover = %s;\n", c->damon_stat_takeover ? "true" : "false");
	fprintf(f, "run_dir = \"%s\";\n", c->run_dir);
	fprintf(f, "tiers = (\n");
	for (size_t i = 0; i < c->n_tiers; i++)
		fprintf(f, "  { node = %d; hot_share_bp = %u; }%s\n", c->tiers[i].node, c->tiers[i].hot_share_bp,
			i + 1 < c->n_tiers ? "," : "");
	fprintf(f, ");\n");
}

unsigned config_hot_min_nr_accesses(const Config *c)
{
	uint64_t samples = c->monitor.aggr_us / c->monitor.sample_us;
	uint64_t n = (samples * c->hot.min_access_percent + 99) / 100;
	return (unsigned)MAX(n, 1u);
}

int config_tier_index(const Config *c, int node)
{
	for (size_t i = 0; i < c->n_tiers; i++)
		if (c->tiers[i].node == node)
			return (int)i;
	return -1;
}

bool config_only_targets_differ(const Config *a, const Config *b)
{
	if (a->interval_ms != b->interval_ms || memcmp(&a->monitor, &b->monitor, sizeof(a->monitor)) ||
	    memcmp(&a->hot, &b->hot, sizeof(a->hot)) || a->n_tiers != b->n_tiers)
		return false;
	for (size_t i = 0; i < a->n_tiers; i++)
		if (a->tiers[i].node != b->tiers[i].node)
			return false;
	return true;
}
