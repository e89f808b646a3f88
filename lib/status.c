/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "status.h"
#include "util.h"

static const char *const goal_tuner_names[] = { "consist", "temporal", NULL };
static const char *const metric_names[] = { "userspace", "kernel", NULL };
static const char *const filter_names[] = { "legacy", "core", NULL };
static const char *const source_names[] = { "regions", "levels", NULL };

_Static_assert(sizeof(StatusGoalTuner) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(StatusMetric) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(StatusFilter) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(StatusSource) == sizeof(int), "enums are stored as int");

static const char *enum_name(const char *const *names, int v)
{
	for (int i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return NULL;
}

const char *status_goal_tuner_name(StatusGoalTuner t) { return enum_name(goal_tuner_names, (int)t); }
const char *status_metric_name(StatusMetric m) { return enum_name(metric_names, (int)m); }
const char *status_filter_name(StatusFilter f) { return enum_name(filter_names, (int)f); }

/* One table describes the format for both the writer and the reader, so
 * that the two cannot disagree on a key, a type or a range. */
typedef enum FieldType {
	F_U64,  /* uint64_t */
	F_UINT, /* unsigned */
	F_INT,  /* int */
	F_S64,  /* int64_t */
	F_BOOL,
	F_STR,  /* char[STATUS_TEXT_MAX] */
	F_ENUM, /* int, one of names[] */
	F_OBJ,  /* nested object described by sub[] at offset */
	F_ARR,  /* array of objects: sub[] per element, count at count_offset */
} FieldType;

typedef struct Field {
	const char *name;
	FieldType type;
	size_t offset;
	long long min;
	unsigned long long max;
	const char *const *names;
	const struct Field *sub;
	size_t elem_size, max_elems, count_offset;
	/* Added after format 1 was first written: a file without it (from
	 * an older dtierd still running through an upgrade) reads as 0. */
	bool optional;
} Field;

#define U64(s, m, lo, hi) { #m, F_U64, offsetof(s, m), lo, hi, NULL, NULL, 0, 0, 0 }
#define UINT(s, m, lo, hi) { #m, F_UINT, offsetof(s, m), lo, hi, NULL, NULL, 0, 0, 0 }
#define INT(s, m, lo, hi) { #m, F_INT, offsetof(s, m), lo, hi, NULL, NULL, 0, 0, 0 }
#define BOOL(s, m) { #m, F_BOOL, offsetof(s, m), 0, 1, NULL, NULL, 0, 0, 0 }
#define STR(s, m) { #m, F_STR, offsetof(s, m), 0, 0, NULL, NULL, 0, 0, 0 }
#define END { NULL, 0, 0, 0, 0, NULL, NULL, 0, 0, 0 }

/* Nodes are kernel node ids (MAX_NUMNODES is at most 1024); a pid fits
 * PID_MAX_LIMIT (4M); byte counts are any u64. */
#define NODE_MAX 1023
#define PID_MAX 4194304

static const Field node_fields[] = {
	INT(StatusNode, node, 0, NODE_MAX),
	U64(StatusNode, capacity_bytes, 0, UINT64_MAX),
	U64(StatusNode, hot_bytes, 0, UINT64_MAX),
	UINT(StatusNode, share_bp, 0, 10000),
	UINT(StatusNode, target_bp, 0, 10000),
	UINT(StatusNode, configured_bp, 0, 10000),
	BOOL(StatusNode, clamped),
	STR(StatusNode, clamp_reason),
	END,
};

static const Field pair_fields[] = {
	INT(StatusPair, from, 0, NODE_MAX),
	INT(StatusPair, to, 0, NODE_MAX),
	INT(StatusPair, scheme, 0, 65535),
	U64(StatusPair, tried_bytes, 0, UINT64_MAX),
	U64(StatusPair, applied_bytes, 0, UINT64_MAX),
	U64(StatusPair, quota_bytes, 0, UINT64_MAX),
	U64(StatusPair, migrated_total_bytes, 0, UINT64_MAX),
	U64(StatusPair, migrated_last_minute_bytes, 0, UINT64_MAX),
	END,
};

static const Field written_fields[] = {
	{ "realtime_ms", F_U64, offsetof(DtierdStatus, written_realtime_ms), 0, UINT64_MAX, NULL, NULL, 0, 0, 0 },
	{ "monotonic_ms", F_U64, offsetof(DtierdStatus, written_monotonic_ms), 0, UINT64_MAX, NULL, NULL, 0, 0, 0 },
	END,
};

static const Field kdamond_fields[] = {
	{ "index", F_INT, offsetof(DtierdStatus, kdamond), -1, 65535, NULL, NULL, 0, 0, 0 },
	{ "pid", F_S64, offsetof(DtierdStatus, kdamond_pid), -1, PID_MAX, NULL, NULL, 0, 0, 0 },
	END,
};

static const Field feature_fields[] = {
	{ "goal_tuner", F_ENUM, offsetof(DtierdStatus, goal_tuner), 0, 0, goal_tuner_names, NULL, 0, 0, 0 },
	{ "metric", F_ENUM, offsetof(DtierdStatus, metric), 0, 0, metric_names, NULL, 0, 0, 0 },
	{ "filter", F_ENUM, offsetof(DtierdStatus, filter), 0, 0, filter_names, NULL, 0, 0, 0 },
	END,
};

#define M(m) offsetof(DtierdStatus, measurement.m)
static const Field measurement_fields[] = {
	{ "cpu_us_median", F_U64, M(cpu_us_median), 0, UINT64_MAX, NULL, NULL, 0, 0, 0 },
	{ "cpu_us_max", F_U64, M(cpu_us_max), 0, UINT64_MAX, NULL, NULL, 0, 0, 0 },
	{ "cpu_us_last", F_U64, M(cpu_us_last), 0, UINT64_MAX, NULL, NULL, 0, 0, 0, true },
	{ "err_bp", F_UINT, M(err_bp), 0, 10000, NULL, NULL, 0, 0, 0 },
	{ "pages_read", F_U64, M(pages_read), 0, UINT64_MAX, NULL, NULL, 0, 0, 0 },
	{ "source", F_ENUM, M(source), 0, 0, source_names, NULL, 0, 0, 0, true },
	END,
};
#undef M

static const Field status_fields[] = {
	{ "format", F_INT, SIZE_MAX, STATUS_FORMAT, STATUS_FORMAT, NULL, NULL, 0, 0, 0 },
	{ "written", F_OBJ, 0, 0, 0, NULL, written_fields, 0, 0, 0 },
	INT(DtierdStatus, pid, 1, PID_MAX),
	{ "kdamond", F_OBJ, 0, 0, 0, NULL, kdamond_fields, 0, 0, 0 },
	/* config.c's range for interval_ms */
	UINT(DtierdStatus, interval_ms, 100, 3600000),
	{ "features", F_OBJ, 0, 0, 0, NULL, feature_fields, 0, 0, 0 },
	{ "nodes", F_ARR, offsetof(DtierdStatus, nodes), 0, 0, NULL, node_fields, sizeof(StatusNode),
	  STATUS_MAX_NODES, offsetof(DtierdStatus, n_nodes) },
	{ "pairs", F_ARR, offsetof(DtierdStatus, pairs), 0, 0, NULL, pair_fields, sizeof(StatusPair),
	  STATUS_MAX_PAIRS, offsetof(DtierdStatus, n_pairs) },
	{ "measurement", F_OBJ, 0, 0, 0, NULL, measurement_fields, 0, 0, 0 },
	U64(DtierdStatus, errors_total, 0, UINT64_MAX),
	STR(DtierdStatus, last_error),
	END,
};

/* ---- writer ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void write_object(FILE *f, const Field *fields, const void *base, unsigned indent);

static void write_value(FILE *f, const Field *fd, const void *base, unsigned indent)
{
	const char *p = fd->offset == SIZE_MAX ? NULL : (const char *)base + fd->offset;

	switch (fd->type) {
	case F_U64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)(const void *)p);
		break;
	case F_UINT:
		fprintf(f, "%u", *(const unsigned *)(const void *)p);
		break;
	case F_INT:
		fprintf(f, "%d", fd->offset == SIZE_MAX ? STATUS_FORMAT : *(const int *)(const void *)p);
		break;
	case F_S64:
		fprintf(f, "%" PRId64, *(const int64_t *)(const void *)p);
		break;
	case F_BOOL:
		fputs(*(const bool *)(const void *)p ? "true" : "false", f);
		break;
	case F_STR:
		json_string(f, p);
		break;
	case F_ENUM: {
		const char *n = enum_name(fd->names, *(const int *)(const void *)p);
		json_string(f, n ? n : "unknown");
		break;
	}
	case F_OBJ:
		write_object(f, fd->sub, base, indent);
		break;
	case F_ARR: {
		size_t n = *(const size_t *)(const void *)((const char *)base + fd->count_offset);
		if (n == 0) {
			fputs("[]", f);
			break;
		}
		fputs("[\n", f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%*s", (int)(indent + 2), "");
			write_object(f, fd->sub, p + i * fd->elem_size, indent + 2);
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s]", (int)indent, "");
		break;
	}
	}
}

static void write_object(FILE *f, const Field *fields, const void *base, unsigned indent)
{
	fputs("{\n", f);
	for (const Field *fd = fields; fd->name; fd++) {
		fprintf(f, "%*s\"%s\": ", (int)(indent + 2), "", fd->name);
		write_value(f, fd, base, indent + 2);
		fputs(fd[1].name ? ",\n" : "\n", f);
	}
	fprintf(f, "%*s}", (int)indent, "");
}

int status_to_json(const DtierdStatus *st, FILE *f)
{
	write_object(f, status_fields, st, 0);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

/* ---- reader: just enough JSON for the format above ---- */

typedef struct Parser {
	const char *s;
	unsigned depth;
} Parser;

#define MAX_DEPTH 16

static void skip_ws(Parser *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static int expect(Parser *p, char c)
{
	skip_ws(p);
	if (*p->s != c)
		return -EINVAL;
	p->s++;
	return 0;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* A string into BUF (NULL: skip it). Escapes \uXXXX become UTF-8; surrogate
 * pairs are not needed by our writer and are rejected. */
static int parse_string(Parser *p, char *buf, size_t size)
{
	size_t n = 0;
	int r = expect(p, '"');
	if (r < 0)
		return r;
	for (;;) {
		unsigned char c = (unsigned char)*p->s++;
		char out[4];
		size_t k = 1;

		if (c == '\0' || c < 0x20)
			return -EINVAL;
		if (c == '"')
			break;
		out[0] = (char)c;
		if (c == '\\') {
			char e = *p->s++;
			unsigned u;
			switch (e) {
			case '"': case '\\': case '/': out[0] = e; break;
			case 'n': out[0] = '\n'; break;
			case 't': out[0] = '\t'; break;
			case 'r': out[0] = '\r'; break;
			case 'b': out[0] = '\b'; break;
			case 'f': out[0] = '\f'; break;
			case 'u':
				if (hex4(p->s, &u) < 0 || u == 0 || (u >= 0xd800 && u <= 0xdfff))
					return -EINVAL;
				p->s += 4;
				if (u < 0x80) {
					out[0] = (char)u;
				} else if (u < 0x800) {
					out[0] = (char)(0xc0 | (u >> 6));
					out[1] = (char)(0x80 | (u & 0x3f));
					k = 2;
				} else {
					out[0] = (char)(0xe0 | (u >> 12));
					out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
					out[2] = (char)(0x80 | (u & 0x3f));
					k = 3;
				}
				break;
			default:
				return -EINVAL;
			}
		}
		if (buf) {
			if (n + k >= size)
				return -ERANGE;
			memcpy(buf + n, out, k);
		}
		n += k;
	}
	if (buf)
		buf[n] = '\0';
	return 0;
}

/* An integer: -?(0|[1-9][0-9]*). A fraction or exponent is the wrong type. */
static int parse_integer(Parser *p, bool *ret_neg, unsigned long long *ret_mag)
{
	bool neg = false;
	unsigned long long v = 0;

	skip_ws(p);
	if (*p->s == '-') {
		neg = true;
		p->s++;
	}
	if (*p->s < '0' || *p->s > '9')
		return -EINVAL;
	if (*p->s == '0' && p->s[1] >= '0' && p->s[1] <= '9')
		return -EINVAL;
	bool overflow = false;
	for (; *p->s >= '0' && *p->s <= '9'; p->s++) {
		unsigned d = (unsigned)(*p->s - '0');
		if (v > (ULLONG_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (*p->s == '.' || *p->s == 'e' || *p->s == 'E')
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	*ret_neg = neg;
	*ret_mag = v;
	return 0;
}

static int parse_literal(Parser *p, const char *lit)
{
	skip_ws(p);
	size_t n = strlen(lit);
	if (strncmp(p->s, lit, n) != 0)
		return -EINVAL;
	p->s += n;
	return 0;
}

/* Calls ITEM for each element of a sequence OPEN ... CLOSE ("{}" or "[]"),
 * elements separated by commas. */
typedef int (*ItemFn)(Parser *p, void *userdata);
static int parse_seq(Parser *p, char open, char close, ItemFn item, void *userdata)
{
	int r = expect(p, open);
	if (r < 0)
		return r;
	if (++p->depth > MAX_DEPTH)
		return -EINVAL;
	skip_ws(p);
	if (*p->s != close) {
		for (;;) {
			r = item(p, userdata);
			if (r < 0)
				return r;
			skip_ws(p);
			if (*p->s != ',')
				break;
			p->s++;
		}
	}
	r = expect(p, close);
	if (r < 0)
		return r;
	p->depth--;
	return 0;
}

static int skip_value(Parser *p);

static int skip_value_item(Parser *p, void *userdata)
{
	return skip_value(p);
}

static int skip_member_item(Parser *p, void *userdata)
{
	int r = parse_string(p, NULL, 0);
	if (r >= 0)
		r = expect(p, ':');
	if (r >= 0)
		r = skip_value(p);
	return r;
}

static int skip_value(Parser *p)
{
	bool neg;
	unsigned long long mag;
	int r;

	skip_ws(p);
	switch (*p->s) {
	case '"':
		return parse_string(p, NULL, 0);
	case '{':
		return parse_seq(p, '{', '}', skip_member_item, NULL);
	case '[':
		return parse_seq(p, '[', ']', skip_value_item, NULL);
	case 't':
		return parse_literal(p, "true");
	case 'f':
		return parse_literal(p, "false");
	case 'n':
		return parse_literal(p, "null");
	default:
		/* A number: integers only in our format, but skip any. */
		r = parse_integer(p, &neg, &mag);
		if (r == -EINVAL && (*p->s == '.' || *p->s == 'e' || *p->s == 'E')) {
			p->s++;
			while ((*p->s >= '0' && *p->s <= '9') || *p->s == '.' || *p->s == 'e' || *p->s == 'E' ||
			       *p->s == '+' || *p->s == '-')
				p->s++;
			r = 0;
		}
		return r;
	}
}

static int parse_object(Parser *p, const Field *fields, void *base);

typedef struct ElemCtx {
	const Field *fd;
	char *base;
	size_t n;
} ElemCtx;

static int elem_item(Parser *p, void *userdata)
{
	ElemCtx *c = userdata;

	if (c->n >= c->fd->max_elems)
		return -ERANGE;
	int r = parse_object(p, c->fd->sub, c->base + c->n * c->fd->elem_size);
	if (r < 0)
		return r;
	c->n++;
	return 0;
}

static int parse_field(Parser *p, const Field *fd, void *base)
{
	char *ptr = fd->offset == SIZE_MAX ? NULL : (char *)base + fd->offset;
	bool neg;
	unsigned long long mag;
	int r;

	switch (fd->type) {
	case F_U64:
	case F_UINT:
	case F_INT:
	case F_S64: {
		r = parse_integer(p, &neg, &mag);
		if (r < 0)
			return r;
		/* Only small negative minimums (-1) occur in the table. */
		if (neg && (fd->min >= 0 || mag > (unsigned long long)-fd->min))
			return -ERANGE;
		if (!neg && (mag > fd->max || (fd->min > 0 && mag < (unsigned long long)fd->min)))
			return -ERANGE;
		long long sv = neg ? -(long long)mag : (long long)mag;
		if (!ptr) /* "format": checked, not stored */
			return 0;
		if (fd->type == F_U64)
			*(uint64_t *)(void *)ptr = mag;
		else if (fd->type == F_UINT)
			*(unsigned *)(void *)ptr = (unsigned)mag;
		else if (fd->type == F_INT)
			*(int *)(void *)ptr = (int)sv;
		else
			*(int64_t *)(void *)ptr = sv;
		return 0;
	}
	case F_BOOL:
		skip_ws(p);
		if (*p->s == 't') {
			r = parse_literal(p, "true");
			*(bool *)(void *)ptr = true;
		} else {
			r = parse_literal(p, "false");
			*(bool *)(void *)ptr = false;
		}
		return r;
	case F_STR:
		return parse_string(p, ptr, STATUS_TEXT_MAX);
	case F_ENUM: {
		char buf[32];
		r = parse_string(p, buf, sizeof(buf));
		if (r < 0)
			return r == -ERANGE ? -EINVAL : r;
		for (int i = 0; fd->names[i]; i++)
			if (strcmp(fd->names[i], buf) == 0) {
				*(int *)(void *)ptr = i;
				return 0;
			}
		return -EINVAL;
	}
	case F_OBJ:
		return parse_object(p, fd->sub, base);
	case F_ARR: {
		ElemCtx c = { .fd = fd, .base = ptr };
		r = parse_seq(p, '[', ']', elem_item, &c);
		if (r < 0)
			return r;
		*(size_t *)(void *)((char *)base + fd->count_offset) = c.n;
		return 0;
	}
	}
	return -EINVAL;
}

typedef struct MemberCtx {
	const Field *fields;
	size_t nf;
	void *base;
	uint64_t seen;
} MemberCtx;

static int member_item(Parser *p, void *userdata)
{
	MemberCtx *c = userdata;
	char key[64];
	size_t i;

	int r = parse_string(p, key, sizeof(key));
	if (r == -ERANGE)
		key[0] = '\0'; /* too long to be ours: skipped below */
	else if (r < 0)
		return r;
	r = expect(p, ':');
	if (r < 0)
		return r;
	for (i = 0; i < c->nf; i++)
		if (strcmp(c->fields[i].name, key) == 0)
			break;
	if (i == c->nf)
		return skip_value(p);
	if (c->seen & (UINT64_C(1) << i))
		return -EINVAL; /* a duplicate key */
	c->seen |= UINT64_C(1) << i;
	return parse_field(p, &c->fields[i], c->base);
}

/* Every field of FIELDS (fewer than 64) but the optional ones must be
 * present, each at most once. */
static int parse_object(Parser *p, const Field *fields, void *base)
{
	MemberCtx c = { .fields = fields, .base = base };
	uint64_t required = 0;

	for (; fields[c.nf].name; c.nf++)
		if (!fields[c.nf].optional)
			required |= UINT64_C(1) << c.nf;
	int r = parse_seq(p, '{', '}', member_item, &c);
	if (r < 0)
		return r;
	return (c.seen & required) == required ? 0 : -EINVAL;
}

int status_parse(const char *text, DtierdStatus *ret)
{
	Parser p = { .s = text };
	_cleanup_free_ DtierdStatus *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;

	int r = parse_object(&p, status_fields, st);
	if (r < 0)
		return r;
	skip_ws(&p);
	if (*p.s != '\0')
		return -EINVAL;
	*ret = *st;
	return 0;
}

#define STATUS_READ_MAX (1024 * 1024)

int status_read(const char *path, DtierdStatus *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat sb;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	if (sb.st_size > STATUS_READ_MAX)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, (size_t)sb.st_size + 1 - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > (size_t)sb.st_size)
			return -EFBIG; /* grew while we read: not a file we wrote */
	}
	buf[n] = '\0';
	if (strlen(buf) != n)
		return -EINVAL; /* a NUL byte */
	return status_parse(buf, ret);
}

int status_write_atomic(const char *dir, const char *name, StatusWriteFn fn, const void *userdata)
{
	char tmp[NAME_MAX + 1];
	struct stat sb;

	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fstat(dfd, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	/* Dot-prefixed and not ending in .prom or .json: node_exporter's
	 * textfile collector and our readers ignore it. */
	int k = snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	if (k < 0 || (size_t)k >= sizeof(tmp))
		return -ENAMETOOLONG;

	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* Left by an earlier process with our pid that died mid-write. */
		if (unlinkat(dfd, tmp, 0) < 0)
			return -errno;
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int r = -errno;
		close(fd);
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	/* Before the rename, whatever the umask (the unit runs with
	 * UMask=0077): what we publish is for readers that are not root —
	 * dtierctl run by an operator, node_exporter as its own user. */
	int r = fchmod(fd, 0644) < 0 ? -errno : fn(f, userdata);
	if (fflush(f) != 0 && r >= 0)
		r = -errno;
	if (ferror(f) && r >= 0)
		r = -EIO;
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	return 0;
}

static int write_json(FILE *f, const void *userdata)
{
	return status_to_json(userdata, f);
}

int status_write(const char *dir, const DtierdStatus *st)
{
	return status_write_atomic(dir, STATUS_FILE, write_json, st);
}

/* ---- migration accounting ---- */

uint64_t status_previous_total(const DtierdStatus *prev, int from, int to)
{
	if (!prev)
		return 0;
	for (size_t i = 0; i < prev->n_pairs; i++)
		if (prev->pairs[i].from == from && prev->pairs[i].to == to)
			return prev->pairs[i].migrated_total_bytes;
	return 0;
}

uint64_t migration_window_last_minute(const MigrationWindow *w, uint64_t now_ms)
{
	uint64_t now_s = MAX(now_ms / 1000, w->last_s), sum = 0;

	if (!w->started)
		return 0;
	for (size_t i = 0; i < MIGRATION_WINDOW_S; i++)
		if (w->bucket_s[i] + MIGRATION_WINDOW_S > now_s && w->bucket_s[i] <= now_s)
			sum += w->bucket_bytes[i];
	return sum;
}

void migration_window_counter_restarted(MigrationWindow *w)
{
	w->last_counter = 0;
}

uint64_t migration_window_add(MigrationWindow *w, uint64_t now_ms, uint64_t counter)
{
	uint64_t now_s = now_ms / 1000;
	uint64_t delta;

	if (w->started && now_s < w->last_s)
		now_s = w->last_s;
	if (!w->started || counter < w->last_counter)
		delta = counter; /* new, or the scheme was recreated: from 0 */
	else
		delta = counter - w->last_counter;

	size_t b = (size_t)(now_s % MIGRATION_WINDOW_S);
	if (!w->started || w->bucket_s[b] != now_s) {
		w->bucket_s[b] = now_s;
		w->bucket_bytes[b] = 0;
	}
	w->bucket_bytes[b] += delta;
	w->total += delta;
	w->last_counter = counter;
	w->last_s = now_s;
	w->started = true;
	return migration_window_last_minute(w, now_ms);
}
