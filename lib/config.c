/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

void config_errors_clear(ConfigErrors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
}

void config_free(Config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->run_dir);
	free(c->prometheus_textfile);
	free(c);
}

/* libconfig 1.5's limit on nested @include (scanctx.h, MAX_INCLUDE_DEPTH). */
#define INCLUDE_MAX_DEPTH 10
/* Files read for one load: the top file and its @include's. */
#define SOURCES_MAX 32

/* A file of the configuration, as dtierd read it. */
typedef struct Source {
	char *name; /* as libconfig names it: NULL for the top file, else the @include string */
	char *path; /* as messages name it */
	char *text;
	size_t len;
	int top_line; /* line of the top file's @include that led here; 0 for the top file */
} Source;

/* A number as written in the file. libconfig 1.5 keeps only the low 32
 * bits of an integer written without an L suffix (4294967296 reads as 0):
 * each number setting is hooked to its literal so that get_int() checks
 * the value the operator wrote. */
typedef enum LiteralKind { LITERAL_INT, LITERAL_INT64, LITERAL_FLOAT } LiteralKind;

typedef struct Literal {
	const char *text; /* into a Source's text */
	size_t len;
	LiteralKind kind;
} Literal;

/* A message and where it points, in reading order: the top file's line
 * (for an included file, the line of the outermost @include), the file,
 * its line, and the order of reporting among equals. */
typedef struct Pending {
	char *msg;
	int key[4];
} Pending;

/* More messages than this are not kept: a 1 MiB file of typos would
 * otherwise keep tens of thousands. */
#define PENDING_MAX 1024

typedef struct Parser {
	const char *file;
	const char *include_dir; /* NULL: libconfig resolves @include against the working directory */
	ConfigErrors *errs;
	Source src[SOURCES_MAX];
	size_t n_src;
	size_t bytes; /* read so far, at most CONFIG_MAX_BYTES */
	Literal *lits; /* every number in the files, in libconfig's reading order */
	size_t n_lits, cap_lits;
	Pending *pend; /* messages, sorted by where they point before they reach errs */
	size_t n_pend, cap_pend;
} Parser;

static void parser_done(Parser *p)
{
	for (size_t i = 0; i < p->n_src; i++) {
		free(p->src[i].name);
		free(p->src[i].path);
		free(p->src[i].text);
	}
	p->n_src = 0;
	free(p->lits);
	p->lits = NULL;
	p->n_lits = p->cap_lits = 0;
	for (size_t i = 0; i < p->n_pend; i++)
		free(p->pend[i].msg);
	free(p->pend);
	p->pend = NULL;
	p->n_pend = p->cap_pend = 0;
}

/* The source libconfig calls FILE (NULL: the top file). */
static size_t source_index(const Parser *p, const char *file)
{
	for (size_t i = 1; file && i < p->n_src; i++)
		if (strcmp(p->src[i].name, file) == 0)
			return i;
	return 0;
}

/* Adds a message at LINE of the file libconfig calls FILE. */
static void report_at(Parser *p, const char *file, int line, const char *fmt, va_list ap)
{
	size_t k = source_index(p, file);
	const Source *f = &p->src[k];
	char buf[512], *m = NULL;

	if (p->n_pend == PENDING_MAX)
		return;
	if (p->n_pend == p->cap_pend) {
		size_t cap = MAX(p->cap_pend * 2, (size_t)16);
		Pending *n = realloc(p->pend, cap * sizeof(*n));
		if (!n)
			return;
		p->pend = n;
		p->cap_pend = cap;
	}
	line = MAX(line, 1);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (asprintf(&m, "%s:%d: %s", f->path, line, buf) < 0)
		return;
	p->pend[p->n_pend] = (Pending){
		.msg = m,
		.key = { k == 0 ? line : f->top_line, (int)k, line, (int)p->n_pend },
	};
	p->n_pend++;
}

static void report_file(Parser *p, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report_file(Parser *p, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_at(p, file, line, fmt, ap);
	va_end(ap);
}

/* Adds a message at setting S (NULL: line 1 of the top file). */
static void report(Parser *p, const config_setting_t *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(Parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_at(p, s ? config_setting_source_file(s) : NULL, s ? (int)config_setting_source_line(s) : 1, fmt, ap);
	va_end(ap);
}

static int pending_cmp(const void *a, const void *b)
{
	const Pending *x = a, *y = b;

	for (size_t i = 0; i < ELEMENTSOF(x->key); i++)
		if (x->key[i] != y->key[i])
			return x->key[i] < y->key[i] ? -1 : 1;
	return 0;
}

/* Hands the messages to ERRS in line order, as many as it holds. */
static void flush_reports(Parser *p)
{
	if (p->n_pend)
		qsort(p->pend, p->n_pend, sizeof(*p->pend), pending_cmp);
	for (size_t i = 0; i < p->n_pend; i++) {
		if (p->errs && p->errs->n < CONFIG_MAX_ERRORS)
			p->errs->msg[p->errs->n++] = TAKE_PTR(p->pend[i].msg);
		free(p->pend[i].msg);
	}
	p->n_pend = 0;
}

static const char *file_type_name(mode_t m)
{
	return S_ISDIR(m) ? "directory" : S_ISFIFO(m) ? "FIFO" : S_ISCHR(m) ? "character device" :
	       S_ISBLK(m) ? "block device" : S_ISSOCK(m) ? "socket" : "unknown type";
}

/* Reads PATH, a regular file of at most LIMIT bytes, into *RET_TEXT
 * (NUL-terminated) and *RET_LEN. Opened non-blocking so that a FIFO does
 * not hang the open, and checked before libconfig sees it: its scanner
 * calls exit(2) when reading fails (a directory). LIMIT_NOTE follows the
 * limit in the "too large" message. Returns 0, or -errno with the problem
 * in WHY ("not a regular file (directory)"). */
static int read_text_file(const char *path, size_t limit, const char *limit_note, char **ret_text, size_t *ret_len,
			  char *why, size_t why_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0) {
		int r = -errno;
		snprintf(why, why_size, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		snprintf(why, why_size, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "not a regular file (%s)", file_type_name(st.st_mode));
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	/* Read to end of file or one byte past the limit, whatever st_size
	 * said: a file that grows meanwhile is read whole or refused, never
	 * cut at its old size. */
	size_t cap = limit + 1;
	_cleanup_free_ char *text = malloc(cap + 1);
	if (!text) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	size_t n = 0;
	while (n < cap) {
		ssize_t k = read(fd, text + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = -errno;
			snprintf(why, why_size, "cannot read: %s", strerror(-r));
			return r;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > limit || (unsigned long long)st.st_size > limit) {
		snprintf(why, why_size, "too large (%llu bytes, the limit is %d MiB%s)",
			 (unsigned long long)MAX((off_t)n, st.st_size), CONFIG_MAX_BYTES >> 20, limit_note);
		return -EFBIG;
	}
	text[n] = '\0';
	*ret_len = n;
	*ret_text = TAKE_PTR(text);
	return 0;
}

static int count_lines(const char *a, const char *b)
{
	int n = 0;
	for (; a < b; a++)
		n += *a == '\n';
	return n;
}

/* A NUL byte would end libconfig's string early and silently drop the rest
 * of the file. */
static int check_text(Parser *p, const Source *f)
{
	const char *nul = memchr(f->text, '\0', f->len);

	if (!nul)
		return 0;
	report_file(p, f->name, 1 + count_lines(f->text, nul), "contains a NUL byte, not a text file");
	return -EINVAL;
}

/* libconfig's include_open, ^[ \t]*@include[ \t]+\", at Q (a line start),
 * then the name up to the closing quote, with its \\ and \" escapes.
 * Returns the position after the quote and the name in *RET_NAME, or NULL
 * if Q does not start an @include. */
static const char *match_include(const char *q, const char *end, char **ret_name)
{
	static const char kw[] = "@include";

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if ((size_t)(end - q) < sizeof(kw) || memcmp(q, kw, sizeof(kw) - 1) != 0)
		return NULL;
	q += sizeof(kw) - 1;
	const char *blank = q;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == blank || q == end || *q != '"')
		return NULL;
	q++;
	char *name = malloc((size_t)(end - q) + 1);
	if (!name)
		return NULL;
	size_t n = 0;
	for (; q < end && *q != '"'; q++) {
		if (*q == '\\' && q + 1 < end && (q[1] == '\\' || q[1] == '"'))
			q++;
		else if (*q == '\\')
			continue; /* no rule of libconfig's matches it: dropped */
		name[n++] = *q;
	}
	if (q == end) {
		free(name);
		return NULL;
	}
	name[n] = '\0';
	*ret_name = name;
	return q + 1;
}

/* libconfig's number rules at Q, longest match first as flex does:
 * hex(64) 0[Xx][0-9A-Fa-f]+L?L?, float [-+]?[0-9]*\.[0-9]*(exp)? or
 * [-+]?[0-9]+exp, integer(64) [-+]?[0-9]+L?L?. Returns the end of the
 * number and its kind, or NULL if Q starts none. */
static const char *match_number(const char *q, const char *end, LiteralKind *ret_kind)
{
	const char *p = q;

	if (p < end && (*p == '+' || *p == '-'))
		p++;
	const char *digits = p;
	while (p < end && isdigit((unsigned char)*p))
		p++;
	size_t n_digits = (size_t)(p - digits);
	LiteralKind kind = LITERAL_INT;

	if (digits == q && n_digits == 1 && *q == '0' && p + 1 < end && (*p == 'x' || *p == 'X') &&
	    isxdigit((unsigned char)p[1])) {
		for (p++; p < end && isxdigit((unsigned char)*p); p++)
			;
	} else {
		bool point = p < end && *p == '.';
		if (point)
			for (p++; p < end && isdigit((unsigned char)*p); p++)
				;
		const char *e = p + 1;
		if (e < end && (*e == '+' || *e == '-'))
			e++;
		if ((point || n_digits > 0) && p < end && (*p == 'e' || *p == 'E') && e < end &&
		    isdigit((unsigned char)*e)) {
			for (p = e; p < end && isdigit((unsigned char)*p); p++)
				;
			point = true;
		}
		if (point) {
			*ret_kind = LITERAL_FLOAT;
			return p;
		}
		if (n_digits == 0)
			return NULL;
	}
	if (p < end && *p == 'L') {
		kind = LITERAL_INT64;
		p += p + 1 < end && p[1] == 'L' ? 2 : 1;
	}
	*ret_kind = kind;
	return p;
}

static bool is_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '*';
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

static int add_literal(Parser *p, const char *text, size_t len, LiteralKind kind)
{
	if (p->n_lits == p->cap_lits) {
		size_t cap = MAX(p->cap_lits * 2, (size_t)64);
		Literal *l = realloc(p->lits, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		p->lits = l;
		p->cap_lits = cap;
	}
	p->lits[p->n_lits++] = (Literal){ .text = text, .len = len, .kind = kind };
	return 0;
}

static int scan_source(Parser *p, size_t idx, int depth);

/* Reads the file that @include "NAME", on LINE of FROM, names, the way
 * libconfig 1.5 will open it (scanctx.c: the include directory, "/", the
 * name), so that libconfig only ever opens a checked regular file. A file
 * swapped in between the check and libconfig's open is not caught: whoever
 * can do that can edit the configuration anyway. Takes NAME. */
static int scan_include(Parser *p, size_t from, int line, char *name, int depth)
{
	_cleanup_free_ char *name_owned = name, *path = NULL, *text = NULL;
	const char *where = p->src[from].name;
	char why[256];
	size_t len;

	if (depth >= INCLUDE_MAX_DEPTH)
		return 0; /* libconfig says "include file nesting too deep" */
	if (p->include_dir && name[0] == '/') {
		report_file(p, where, line, "@include \"%s\": must be a path relative to %s", name, p->include_dir);
		return -EINVAL;
	}
	if (p->n_src == SOURCES_MAX) {
		report_file(p, where, line, "@include \"%s\": more than %d files in one configuration", name,
			    SOURCES_MAX);
		return -EINVAL;
	}
	if (p->include_dir ? asprintf(&path, "%s/%s", p->include_dir, name) < 0 : !(path = strdup(name)))
		return -ENOMEM;
	int r = read_text_file(path, CONFIG_MAX_BYTES - p->bytes, " with the file and its includes", &text, &len,
			       why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		report_file(p, where, line, "@include \"%s\": %s: %s", name, path, why);
		return -EINVAL;
	}
	size_t idx = p->n_src++;
	p->src[idx] = (Source){
		.name = TAKE_PTR(name_owned),
		.path = TAKE_PTR(path),
		.text = TAKE_PTR(text),
		.len = len,
		.top_line = from == 0 ? line : p->src[from].top_line,
	};
	p->bytes += len;
	r = check_text(p, &p->src[idx]);
	if (r < 0)
		return r;
	return scan_source(p, idx, depth + 1);
}

/* Walks source IDX as libconfig 1.5's scanner (scanner.l) does, far enough
 * to find what it will act on outside comments and strings: @include, and
 * numbers (names are skipped whole: "typo0" holds none). */
static int scan_source(Parser *p, size_t idx, int depth)
{
	const char *s = p->src[idx].text, *end = s + p->src[idx].len, *q = s;
	int line = 1;

	while (q < end) {
		const char *start = q, *next;
		LiteralKind kind;
		char *name;
		int r = 0;

		if ((q == s || q[-1] == '\n') && (next = match_include(start, end, &name))) {
			r = scan_include(p, idx, line, name, depth);
		} else if (start[0] == '/' && start + 1 < end && start[1] == '*') {
			next = memmem(start + 2, (size_t)(end - start - 2), "*/", 2);
			next = next ? next + 2 : end;
		} else if (start[0] == '#' || (start[0] == '/' && start + 1 < end && start[1] == '/')) {
			next = memchr(start, '\n', (size_t)(end - start));
			next = next ? next : end;
		} else if (start[0] == '"') {
			for (next = start + 1; next < end && *next != '"'; next++)
				if (*next == '\\' && next + 1 < end && (next[1] == '\\' || next[1] == '"'))
					next++;
			next = next < end ? next + 1 : end;
		} else if (is_name_start(start[0])) {
			for (next = start + 1; next < end && is_name_char(*next); next++)
				;
		} else if ((next = match_number(start, end, &kind))) {
			r = add_literal(p, start, (size_t)(next - start), kind);
		} else {
			next = start + 1;
		}
		if (r < 0)
			return r;
		line += count_lines(start, next);
		q = next;
	}
	return 0;
}

static bool literal_fits(const Literal *lit, const config_setting_t *s)
{
	return (lit->kind == LITERAL_FLOAT) == (config_setting_type(s) == CONFIG_TYPE_FLOAT);
}

/* Walks the number settings under S in document order, pairing each with
 * the next of LITS: checks that they pair up (HOOK false), or hooks each
 * to its literal (HOOK true). Returns false at the first setting whose
 * literal is missing or of the other kind (float or integer). */
static bool pair_literals(config_setting_t *s, Literal *lits, size_t n_lits, size_t *i, bool hook)
{
	int n = config_setting_length(s);

	for (int k = 0; k < n; k++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)k);
		if (config_setting_is_aggregate(e)) {
			if (!pair_literals(e, lits, n_lits, i, hook))
				return false;
		} else if (config_setting_is_number(e)) {
			if (*i == n_lits || !literal_fits(&lits[*i], e))
				return false;
			if (hook)
				config_setting_set_hook(e, &lits[*i]);
			++*i;
		}
	}
	return true;
}

/* The scan found the numbers in the order libconfig read them, so the
 * settings pair with the literals one to one. If they do not (another
 * count, a float against an integer), the scan misread the file somewhere
 * and no setting is hooked: values are then libconfig's, as before the
 * check existed. */
static void match_literals(Parser *p, config_t *cf)
{
	config_setting_t *root = config_root_setting(cf);
	size_t i = 0;

	if (pair_literals(root, p->lits, p->n_lits, &i, false) && i == p->n_lits) {
		i = 0;
		pair_literals(root, p->lits, p->n_lits, &i, true);
	}
}

/* The value of LIT in *RET. Returns false if it does not fit in 64 bits. */
static bool literal_value(const Literal *lit, long long *ret)
{
	char buf[96];
	size_t len = lit->len;

	while (len > 0 && lit->text[len - 1] == 'L')
		len--;
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, lit->text, len);
	buf[len] = '\0';
	errno = 0;
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		unsigned long long u = strtoull(buf, NULL, 16);
		if (errno || u > LLONG_MAX)
			return false;
		*ret = (long long)u;
		return true;
	}
	*ret = strtoll(buf, NULL, 10);
	return errno == 0;
}

/* Keys allowed in each group; anything else is a typo the operator wants to
 * hear about rather than a silently ignored setting. */
static const char *const keys_top[] = { "interval_ms", "monitor", "hot", "migration", "measure",
					"tiers", "damon_stat_takeover", "run_dir", "prometheus_textfile", NULL };
static const char *const keys_monitor[] = { "sample_us", "aggr_us", "min_regions", "max_regions", NULL };
static const char *const keys_hot[] = { "min_access_percent", "min_age_ms", NULL };
static const char *const keys_migration[] = { "max_mib_per_s", "deadband_bp", "hold_s", NULL };
static const char *const keys_measure[] = { "kpageflags_max_pages", "source", "metric", NULL };
static const char *const keys_tier[] = { "node", "hot_share_bp", NULL };

/* Levenshtein distance of A and B; SIZE_MAX if either is longer than a
 * key could be. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			row[j] = MIN(MIN(row[j], row[j - 1]) + 1, diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

/* The key of ALLOWED closest to NAME, if within a third of its length (at
 * least one edit): "min_acess_percent" -> "min_access_percent",
 * "deadband" -> "deadband_bp"; "foo" is not taken for "hot". Or NULL. */
static const char *closest_key(const char *name, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (const char *const *k = allowed; *k; k++) {
		size_t d = edit_distance(name, *k);
		if (d <= MAX(strlen(*k) / 3, (size_t)1) && d < best_d) {
			best = *k;
			best_d = d;
		}
	}
	return best;
}

/* Reports every member of GROUP not in ALLOWED. Returns true if there was
 * none. */
static bool check_keys(Parser *p, const config_setting_t *group, const char *prefix,
		       const char *const *allowed)
{
	int n = config_setting_length(group);
	bool valid = true;

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool known = false;

		if (!name)
			continue;
		for (const char *const *k = allowed; *k; k++)
			if (strcmp(*k, name) == 0)
				known = true;
		if (known)
			continue;
		const char *guess = closest_key(name, allowed);
		if (guess)
			report(p, s, "unknown key '%s%s', did you mean '%s'?", prefix, name, guess);
		else
			report(p, s, "unknown key '%s%s'", prefix, name);
		valid = false;
	}
	return valid;
}

/* Reads integer key NAME of GROUP into *ret, checking [lo, hi]. A missing
 * key takes DEF if HAS_DEF, else is an error. Returns true if the key is
 * valid (or validly absent); *ret is DEF otherwise. */
static bool get_int(Parser *p, const config_setting_t *group, const char *prefix, const char *name,
		    long long lo, long long hi, bool has_def, long long def, long long *ret)
{
	const config_setting_t *s = group ? config_setting_get_member(group, name) : NULL;

	*ret = def;
	if (!s) {
		if (has_def)
			return true;
		report(p, group, "missing required key '%s%s'", prefix, name);
		return false;
	}
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		report(p, s, "%s%s must be an integer", prefix, name);
		return false;
	}
	long long v = config_setting_get_int64(s);
	const Literal *lit = config_setting_get_hook(s);
	if (lit && !literal_value(lit, &v)) {
		report(p, s, "%s%s = %.*s is out of range [%lld, %lld]", prefix, name, (int)lit->len, lit->text, lo,
		       hi);
		return false;
	}
	if (v < lo || v > hi) {
		report(p, s, "%s%s = %lld is out of range [%lld, %lld]", prefix, name, v, lo, hi);
		return false;
	}
	if (v != config_setting_get_int64(s)) {
		report(p, s, "%s%s = %.*s does not fit in 32 bits (write %.*sL)", prefix, name, (int)lit->len,
		       lit->text, (int)lit->len, lit->text);
		return false;
	}
	*ret = v;
	return true;
}

/* Key NAME of G if written there, else G: where a complaint about a value
 * (perhaps a default) points. */
static const config_setting_t *member_or_group(const config_setting_t *g, const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	return s ? s : g;
}

/* Looks up group NAME of ROOT into *ret (NULL when absent) and checks its
 * keys. Returns true if the group is valid or validly absent. */
static bool get_group(Parser *p, const config_setting_t *root, const char *name, bool required,
		      const char *const *allowed, const config_setting_t **ret)
{
	const config_setting_t *g = config_setting_get_member(root, name);
	char prefix[64];

	*ret = NULL;
	if (!g) {
		if (!required)
			return true;
		report(p, NULL, "missing required group '%s'", name);
		return false;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		report(p, g, "%s must be a group { ... }", name);
		return false;
	}
	*ret = g;
	snprintf(prefix, sizeof(prefix), "%s.", name);
	return check_keys(p, g, prefix, allowed);
}

/* Each parse_* function reads its own keys into C and returns whether they
 * were valid, so that a cross-check can depend on exactly the keys it
 * compares and an unrelated error elsewhere does not hide it. */

static bool parse_interval(Parser *p, const config_setting_t *root, Config *c)
{
	long long v;
	bool valid = get_int(p, root, "", "interval_ms", 100, 3600000, true, 1000, &v);
	c->interval_ms = (unsigned)v;
	return valid;
}

static bool parse_monitor(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *g;
	long long v;

	bool valid = get_group(p, root, "monitor", false, keys_monitor, &g);
	if (!g && !valid)
		return false; /* missing or not a group: its keys are not looked for */
	valid &= get_int(p, g, "monitor.", "sample_us", 100, 10000000, true, 5000, &v);
	c->monitor.sample_us = (uint64_t)v;
	valid &= get_int(p, g, "monitor.", "aggr_us", 1000, 100000000, true, 100000, &v);
	c->monitor.aggr_us = (uint64_t)v;
	valid &= get_int(p, g, "monitor.", "min_regions", 3, 100000, true, CONFIG_DEFAULT_MIN_REGIONS, &v);
	c->monitor.min_regions = (unsigned)v;
	valid &= get_int(p, g, "monitor.", "max_regions", 3, 100000, true, 1000, &v);
	c->monitor.max_regions = (unsigned)v;
	if (!valid || !g)
		return valid; /* absent: the defaults, which agree */

	if (c->monitor.aggr_us < c->monitor.sample_us) {
		report(p, member_or_group(g, "aggr_us"),
		       "monitor.aggr_us = %llu must be >= monitor.sample_us = %llu",
		       (unsigned long long)c->monitor.aggr_us, (unsigned long long)c->monitor.sample_us);
		valid = false;
	}
	if (c->monitor.min_regions > c->monitor.max_regions) {
		report(p, member_or_group(g, "min_regions"),
		       "monitor.min_regions = %u must be <= monitor.max_regions = %u", c->monitor.min_regions,
		       c->monitor.max_regions);
		valid = false;
	}
	return valid;
}

/* Each interval waits for a tried-regions walk, which takes at least one
 * aggregation interval (up to two): leave room for it. Needs interval_ms
 * and the monitor group valid. */
static bool check_interval_vs_aggr(Parser *p, const config_setting_t *root, const Config *c)
{
	if ((uint64_t)c->interval_ms * 1000 >= 2 * c->monitor.aggr_us)
		return true;
	report(p, config_setting_get_member(root, "interval_ms"),
	       "interval_ms = %u must be at least twice monitor.aggr_us (%llu us)", c->interval_ms,
	       (unsigned long long)c->monitor.aggr_us);
	return false;
}

static bool parse_hot(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *g;
	long long v;

	bool valid = get_group(p, root, "hot", false, keys_hot, &g);
	if (!g && !valid)
		return false; /* missing or not a group: its keys are not looked for */
	valid &= get_int(p, g, "hot.", "min_access_percent", 1, 100, true, 5, &v);
	c->hot.min_access_percent = (unsigned)v;
	valid &= get_int(p, g, "hot.", "min_age_ms", 0, 3600000, true, 0, &v);
	c->hot.min_age_ms = (unsigned)v;
	return valid;
}

static bool parse_migration(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *g;
	long long v;

	bool valid = get_group(p, root, "migration", true, keys_migration, &g);
	if (!g && !valid)
		return false; /* missing or not a group: its keys are not looked for */
	valid &= get_int(p, g, "migration.", "max_mib_per_s", 1, 1048576, false, 256, &v);
	c->migration.max_mib_per_s = (unsigned)v;
	valid &= get_int(p, g, "migration.", "deadband_bp", 10, 2500, true, 150, &v);
	c->migration.deadband_bp = (unsigned)v;
	valid &= get_int(p, g, "migration.", "hold_s", 0, 3600, true, 10, &v);
	c->migration.hold_s = (unsigned)v;
	return valid;
}

/* measure.KEY: one of two words, DEFLT when left out; *RET_OTHER says
 * whether it is OTHER. */
/* KEY of group G: one of the NULL-terminated NAMES, the first if absent. */
static bool parse_choice(Parser *p, const config_setting_t *g, const char *key, const char *const *names,
			 unsigned *ret)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	const char *str = s ? config_setting_get_string(s) : names[0];
	char list[128] = "";

	for (unsigned i = 0; names[i]; i++) {
		if (str && strcmp(str, names[i]) == 0) {
			*ret = i;
			return true;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
			 i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	}
	report(p, s, "measure.%s must be %s", key, list);
	return false;
}

const char *const config_source_names[] = { "auto", "regions", "levels", NULL };
static const char *const metric_names[] = { "userspace", "kernel", NULL };

static bool parse_measure(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *g;
	long long v;

	bool valid = get_group(p, root, "measure", false, keys_measure, &g);
	if (!g && !valid)
		return false; /* missing or not a group: its keys are not looked for */
	valid &= get_int(p, g, "measure.", "kpageflags_max_pages", 0, 1LL << 40, true, 1 << 20, &v);
	c->measure.kpageflags_max_pages = (uint64_t)v;
	/* Where the hot bytes per node come from: scheme 0's tried regions,
	 * placed on their nodes and sampled in /proc/kpageflags ("regions"),
	 * or a total per node and nr_accesses level from stat schemes
	 * restricted to each node ("levels": a few dozen files whatever the
	 * number of regions), or the one that suits every kernel ("auto",
	 * the levels today). */
	valid &= parse_choice(p, g, "source", config_source_names, &c->measure.source);
	/* Whose eligible-memory metric the pairs' quota goals chase: dtierd's
	 * ("userspace") or the kernel's own node_eligible_mem_bp ("kernel",
	 * Linux 7.2+: probed when the kdamond is staged). */
	unsigned metric = 0;
	valid &= parse_choice(p, g, "metric", metric_names, &metric);
	c->measure.kernel_metric = metric == 1;
	return valid;
}

static bool parse_damon_stat_takeover(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *s = config_setting_get_member(root, "damon_stat_takeover");

	if (!s)
		return true;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		report(p, s, "damon_stat_takeover must be true or false");
		return false;
	}
	c->damon_stat_takeover = config_setting_get_bool(s);
	return true;
}

/* Returns 1 if valid, 0 if not, -ENOMEM. */
static int parse_run_dir(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *s = config_setting_get_member(root, "run_dir");
	const char *rd = "/run/dtierd";
	int valid = 1;

	if (s) {
		const char *str = config_setting_get_string(s);
		if (!str || str[0] != '/') {
			report(p, s, "run_dir must be an absolute path string");
			valid = 0;
		} else {
			rd = str;
		}
	}
	c->run_dir = strdup(rd);
	return c->run_dir ? valid : -ENOMEM;
}

/* Whether PATH names a file node_exporter's textfile collector reads: an
 * absolute path whose last component is NAME.prom (the collector ignores
 * every other file in its directory). */
static bool valid_textfile_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	if (path[0] != '/' || !base)
		return false;
	base++;
	n = strlen(base);
	return n > strlen(".prom") && strcmp(base + n - strlen(".prom"), ".prom") == 0 && base[0] != '.';
}

/* prometheus_textfile = "/var/lib/prometheus/node-exporter/dtierd.prom";
 * optional, off when absent. Returns 1 if valid, 0 if not, -ENOMEM. */
static int parse_prometheus_textfile(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *s = config_setting_get_member(root, "prometheus_textfile");

	if (!s)
		return 1;
	const char *str = config_setting_get_string(s);
	if (!str || !valid_textfile_path(str) || strlen(str) >= PATH_MAX) {
		report(p, s, "prometheus_textfile must be an absolute path to NAME.prom");
		return 0;
	}
	c->prometheus_textfile = strdup(str);
	return c->prometheus_textfile ? 1 : -ENOMEM;
}

/* tiers[I] = { node = N; hot_share_bp = B; }. *RET_NODE_VALID says whether
 * the node was read, for the duplicate check: a missing or invalid node is
 * 0 here and would also be reported as "listed twice". */
static bool parse_tier(Parser *p, const config_setting_t *t, int i, TierConfig *ret, bool *ret_node_valid)
{
	char prefix[32];
	long long v;

	*ret_node_valid = false;
	snprintf(prefix, sizeof(prefix), "tiers[%d].", i);
	if (config_setting_type(t) != CONFIG_TYPE_GROUP) {
		report(p, t, "tiers[%d] must be a group { node = N; hot_share_bp = B; }",
			  i);
		return false;
	}
	bool valid = check_keys(p, t, prefix, keys_tier);
	*ret_node_valid = get_int(p, t, prefix, "node", 0, 63, false, 0, &v);
	ret->node = (int)v;
	valid &= *ret_node_valid;
	valid &= get_int(p, t, prefix, "hot_share_bp", 0, 10000, false, 0, &v);
	ret->hot_share_bp = (unsigned)v;
	return valid;
}

/* tiers = ( { node = N; hot_share_bp = B; }, ... ) */
static bool parse_tiers(Parser *p, const config_setting_t *root, Config *c)
{
	const config_setting_t *s = config_setting_get_member(root, "tiers");

	/* No tiers: the daemon takes them from the topology
	 * (topology_default_tiers()). */
	if (!s)
		return true;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		report(p, s, "tiers must be a list ( { node = N; hot_share_bp = B; }, ... )");
		return false;
	}

	int n = config_setting_length(s);
	bool valid = true;
	bool node_valid[CONFIG_MAX_TIERS] = { false };
	unsigned long sum = 0;

	if (n < 2 || n > CONFIG_MAX_TIERS) {
		report(p, s, "tiers has %d entries, must have between 2 and %d", n, CONFIG_MAX_TIERS);
		valid = false;
	}
	c->n_tiers = (size_t)MIN(n, CONFIG_MAX_TIERS);
	for (int i = 0; i < (int)c->n_tiers; i++) {
		const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);

		valid &= parse_tier(p, t, i, &c->tiers[i], &node_valid[i]);
		sum += c->tiers[i].hot_share_bp;
		for (int j = 0; j < i && node_valid[i]; j++)
			if (node_valid[j] && c->tiers[j].node == c->tiers[i].node) {
				report(p, config_setting_get_member(t, "node"),
				       "tiers[%d].node = %d is listed twice (also tiers[%d])", i, c->tiers[i].node, j);
				valid = false;
			}
	}
	if (valid && sum != 10000) {
		report(p, s, "tiers: hot_share_bp values sum to %lu, must sum to 10000 (100 %%)", sum);
		valid = false;
	}
	return valid;
}

static int parse(Parser *p, config_t *cf, Config **ret)
{
	const config_setting_t *root = config_root_setting(cf);

	Config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(p->file);
	if (!c->path) {
		config_free(c);
		return -ENOMEM;
	}

	bool valid = check_keys(p, root, "", keys_top);
	bool interval_valid = parse_interval(p, root, c);
	bool monitor_valid = parse_monitor(p, root, c);
	valid &= interval_valid && monitor_valid && check_interval_vs_aggr(p, root, c);
	valid &= parse_hot(p, root, c);
	valid &= parse_migration(p, root, c);
	valid &= parse_measure(p, root, c);
	valid &= parse_damon_stat_takeover(p, root, c);
	int r = parse_run_dir(p, root, c);
	if (r < 0) {
		config_free(c);
		return r;
	}
	valid &= r > 0;
	r = parse_prometheus_textfile(p, root, c);
	if (r < 0) {
		config_free(c);
		return r;
	}
	valid &= r > 0;
	valid &= parse_tiers(p, root, c);

	if (!valid) {
		config_free(c);
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

/* Parses TEXT, the top file (taken), named NAME; @include's are resolved
 * against INCLUDE_DIR (NULL: the working directory). */
static int load_text(const char *name, const char *include_dir, char *text, size_t len, Config **ret,
		     ConfigErrors *errs)
{
	Parser p = { .file = name, .include_dir = include_dir, .errs = errs };
	config_t cf;

	p.src[p.n_src++] = (Source){ .path = strdup(name), .text = text, .len = len };
	p.bytes = len;
	if (!p.src[0].path) {
		parser_done(&p);
		return -ENOMEM;
	}
	int r = check_text(&p, &p.src[0]);
	if (r == 0)
		r = scan_source(&p, 0, 0);
	if (r == 0) {
		config_init(&cf);
		config_set_options(&cf, CONFIG_OPTION_AUTOCONVERT);
		if (include_dir)
			config_set_include_dir(&cf, include_dir);
		if (config_read_string(&cf, text) != CONFIG_TRUE) {
			report_file(&p, config_error_file(&cf), config_error_line(&cf), "syntax error: %s",
				    config_error_text(&cf));
			r = -EINVAL;
		} else {
			match_literals(&p, &cf);
			r = parse(&p, &cf, ret);
		}
		config_destroy(&cf);
	}
	flush_reports(&p);
	parser_done(&p);
	return r;
}

int config_load(const char *path, Config **ret, ConfigErrors *errs)
{
	char *text = NULL, why[256];
	size_t len;

	int r = read_text_file(path, CONFIG_MAX_BYTES, "", &text, &len, why, sizeof(why));
	if (r < 0) {
		char *m = NULL;
		if (errs && errs->n < CONFIG_MAX_ERRORS && asprintf(&m, "%s: %s", path, why) >= 0)
			errs->msg[errs->n++] = m;
		return r;
	}
	/* @include is relative to the file's own directory, as an operator
	 * reading it expects, not to dtierd's working directory ("/"). */
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		free(text);
		return -ENOMEM;
	}
	return load_text(path, dir, text, len, ret, errs);
}

int config_load_string(const char *name, const char *text, Config **ret, ConfigErrors *errs)
{
	char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	return load_text(name, NULL, copy, strlen(copy), ret, errs);
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
	fprintf(f, "measure = { kpageflags_max_pages = %llu; source = \"%s\"; metric = \"%s\"; };\n",
		(unsigned long long)c->measure.kpageflags_max_pages, config_source_names[c->measure.source],
		c->measure.kernel_metric ? "kernel" : "userspace");
	fprintf(f, "damon_stat_takeover = %s;\n", c->damon_stat_takeover ? "true" : "false");
	fprintf(f, "run_dir = \"%s\";\n", c->run_dir);
	if (c->prometheus_textfile)
		fprintf(f, "prometheus_textfile = \"%s\";\n", c->prometheus_textfile);
	if (c->n_tiers == 0) {
		fprintf(f, "# tiers: none set; taken from the topology at start (dtierd --show-topology)\n");
		return;
	}
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
	    memcmp(&a->hot, &b->hot, sizeof(a->hot)) || a->n_tiers != b->n_tiers ||
	    a->measure.kernel_metric != b->measure.kernel_metric || a->measure.source != b->measure.source)
		return false;
	for (size_t i = 0; i < a->n_tiers; i++)
		if (a->tiers[i].node != b->tiers[i].node)
			return false;
	return true;
}
