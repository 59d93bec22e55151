// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replay of a JSON Lines capture, parsed with yajl's streaming (SAX) interface:
 * no tree is built. While a line is parsed, the values of the fields we know
 * (top level of the object only) are kept in slots; everything else is
 * skipped at any depth. Once the whole line has parsed, the slots are checked
 * in a fixed order and turned into a struct sva_event or a sink call, so that
 * "type" may come anywhere and the error reported for a line does not depend
 * on the order of its fields.
 *
 * Errors in the JSON text itself (syntax, bad UTF-8, integers that do not fit
 * in 64 bits, duplicate fields) are reported as soon as they are met, like a
 * tree parser would, before any check of the values. UTF-8 is yajl's own
 * check (a lead byte and its continuation bytes; a lone \u surrogate decodes to
 * '?'): the strings kept go out through json_writer, which replaces any byte
 * that is not well-formed UTF-8, so nothing stricter is needed here.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "cause.h"
#include "decode.h"
#include "replay.h"

/* Nesting deeper than this is refused (postmortem.c has the same limit). */
#define MAX_DEPTH 2048
/* Bytes of a string field kept: enough for every check and message below. */
#define STR_KEEP 48
/* A key longer than this is not quoted in messages. */
#define KEY_MAX 64

/* The top-level fields any record type reads. */
enum field {
	F_TYPE,
	F_SEQ,
	F_TS_NS,
	F_CPU,
	F_PID,
	F_TID,
	F_GROUP,
	F_PASID,
	F_DOMAIN_TYPE_RAW,
	F_USERS,
	F_RET,
	F_MAX_PASIDS,
	F_STACK_ID,
	F_WANT_TYPE_RAW,
	F_EXIT_CODE,
	F_COMM,
	F_DEV,
	F_MM,
	F_DOMAIN,
	F_HANDLE,
	F_USERS_BEFORE_CALL,
	F_GROUP_DEAD,
	F_USERS_OF,
	F_RESETTING,
	F_PASID_EXISTING,
	F_PROBE,
	F_POINTERS,
	F_COUNT,
	F_KERNEL,
	F_MACHINE,
	F_CAUSE,
	/* inside "cause" */
	F_CAUSE_FUNCTION,
	F_CAUSE_RET,
	F_CAUSE_RETURNED,
	F_CAUSE_DEPTH,
	F_CAUSE_INLINE,
	F_CAUSE_CHECK,
	F_CAUSE_CALLEES,
	F_MM_UNTRACKED,
	F_KTHREAD,
	F_EXITING,
	F_PROBES,
	F_KIND,
	F_START_NS,
	F_FLAGS_RAW,
	F_NEXT_SEQ,
	F_CALLS_IN_FLIGHT,
	F__MAX
};

static const char *const field_names[F__MAX] = {
	[F_TYPE] = "type",
	[F_SEQ] = "seq",
	[F_TS_NS] = "ts_ns",
	[F_CPU] = "cpu",
	[F_PID] = "pid",
	[F_TID] = "tid",
	[F_GROUP] = "group",
	[F_PASID] = "pasid",
	[F_DOMAIN_TYPE_RAW] = "domain_type_raw",
	[F_USERS] = "users",
	[F_RET] = "ret",
	[F_MAX_PASIDS] = "max_pasids",
	[F_STACK_ID] = "stack_id",
	[F_WANT_TYPE_RAW] = "want_type_raw",
	[F_EXIT_CODE] = "exit_code",
	[F_COMM] = "comm",
	[F_DEV] = "dev",
	[F_MM] = "mm",
	[F_DOMAIN] = "domain",
	[F_HANDLE] = "handle",
	[F_USERS_BEFORE_CALL] = "users_before_call",
	[F_GROUP_DEAD] = "group_dead",
	[F_USERS_OF] = "users_of",
	[F_RESETTING] = "resetting",
	[F_PASID_EXISTING] = "pasid_existing",
	[F_PROBE] = "probe",
	[F_POINTERS] = "pointers",
	[F_COUNT] = "count",
	[F_KERNEL] = "kernel",
	[F_MACHINE] = "machine",
	[F_CAUSE] = "cause",
	[F_CAUSE_FUNCTION] = "cause.function",
	[F_CAUSE_RET] = "cause.ret",
	[F_CAUSE_RETURNED] = "cause.returned",
	[F_CAUSE_DEPTH] = "cause.depth",
	[F_CAUSE_INLINE] = "cause.inline",
	[F_CAUSE_CHECK] = "cause.check",
	[F_CAUSE_CALLEES] = "cause.callees_entered",
	[F_MM_UNTRACKED] = "mm_untracked",
	[F_KTHREAD] = "kthread",
	[F_EXITING] = "exiting",
	[F_PROBES] = "probes",
	[F_KIND] = "kind",
	[F_START_NS] = "start_ns",
	[F_FLAGS_RAW] = "flags_raw",
	[F_NEXT_SEQ] = "next_seq",
	[F_CALLS_IN_FLIGHT] = "calls_in_flight",
};

_Static_assert(F__MAX <= 64, "the present mask is 64 bits");

bool replay_start_has_probe(const struct replay_start *st, const char *function)
{
	for (int i = 0; i < st->nr_probes; i++)
		if (!strcmp(st->probes[i].function, function))
			return true;
	return false;
}

/* The JSON type of a value. */
enum kind { K_NULL, K_FALSE, K_TRUE, K_INT, K_REAL, K_STRING, K_OBJECT, K_ARRAY };

struct slot {
	enum kind kind;
	long long i; /* K_INT */
	size_t len; /* K_STRING: full length in bytes */
	char s[STR_KEEP + 1]; /* K_STRING: the first STR_KEEP bytes, NUL-terminated */
};

struct ctx {
	const char *path;
	unsigned long line;
	char *err;
	size_t errlen;

	/* the line being parsed */
	const unsigned char *text;
	size_t len;
	bool finishing; /* inside yajl_complete_parse: offsets are not into text */
	yajl_handle h;
	unsigned int depth; /* 0: outside the top-level value */
	bool top_seen; /* the line's top-level value has begun */
	enum kind top; /* and its kind */
	int cur; /* field whose value comes next at depth 1 (2 inside "cause"), or -1 */
	bool in_cause; /* inside the "cause" object (depth 2) */
	uint64_t present; /* bit per enum field: its key was met */
	struct slot f[F__MAX];
	/* the start record's "probes" array: [{"function": F, "mode": M}, ...] */
	bool in_probes; /* inside it (depth 2: the array, 3: an entry) */
	char *probe_dest; /* where the string value next at depth 3 goes, or NULL */
	size_t probe_dest_len;
	struct replay_probe probe; /* the entry being read */
	int nr_probes;
	struct replay_probe probes[REPLAY_MAX_PROBES];
	const char *probes_bad; /* why the array is not what a start record has, or NULL */
	/* last key met at any depth: names the field in syntax errors */
	const unsigned char *key;
	size_t keylen;
	unsigned char keybuf[KEY_MAX];
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *x, const char *field,
						      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (field)
		snprintf(x->err, x->errlen, "%s:%lu: field '%s': %s", x->path, x->line, field, msg);
	else
		snprintf(x->err, x->errlen, "%s:%lu: %s", x->path, x->line, msg);
	return -EINVAL;
}

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_OBJECT: return "an object";
	case K_ARRAY: return "an array";
	case K_STRING: return "a string";
	case K_INT: return "an integer";
	case K_REAL: return "a real number";
	case K_TRUE:
	case K_FALSE: return "a boolean";
	case K_NULL: return "null";
	}
	return "?";
}

/* 1-based column, in characters, of byte offset off of the line. */
static unsigned long column_of(const struct ctx *x, size_t off)
{
	unsigned long col = 1;

	if (off > x->len)
		off = x->len;
	for (size_t i = 0; i < off; i++)
		col += (x->text[i] & 0xc0) != 0x80;
	return col;
}

/* Offset in the line of a token yajl hands us (a pointer into it, or into its own buffer). */
static size_t offset_of(const struct ctx *x, const void *p, size_t tokenlen)
{
	uintptr_t a = (uintptr_t)p, t = (uintptr_t)x->text;

	if (a >= t && a <= t + x->len)
		return (size_t)(a - t);
	/* Copied by yajl: the token ran up to the end of the line. */
	return x->len >= tokenlen ? x->len - tokenlen : 0;
}

/* "not valid JSON: ..." naming the last key seen. */
__attribute__((format(printf, 3, 4))) static int syntax(struct ctx *x, size_t off,
							const char *fmt, ...)
{
	char msg[200], key[KEY_MAX];
	const char *field = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->keylen && x->keylen < sizeof(key)) {
		size_t i;

		for (i = 0; i < x->keylen && x->key[i] >= 0x20 && x->key[i] < 0x7f; i++)
			key[i] = (char)x->key[i];
		key[i] = '\0';
		if (i == x->keylen)
			field = key;
	}
	return fail(x, field, "not valid JSON: %s (column %lu)", msg, column_of(x, off));
}

static bool in_line(const struct ctx *x, const unsigned char *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, t = (uintptr_t)x->text;

	return a >= t && a <= t + x->len && n <= t + x->len - a;
}

/*
 * Where the next value at the top level of the object goes: *slot is the
 * field's slot, or NULL when the value is skipped. 0 when the value may not
 * be there at all (a second value on the line).
 */
static int target(struct ctx *x, enum kind k, size_t off, struct slot **slot)
{
	*slot = NULL;
	if (x->depth == 0) {
		if (x->top_seen) {
			syntax(x, off, "end of file expected");
			return 0;
		}
		x->top_seen = true;
		x->top = k;
		return 1;
	}
	if ((x->depth == 1 || (x->depth == 2 && x->in_cause)) && x->cur >= 0) {
		*slot = &x->f[x->cur];
		x->cur = -1;
		(*slot)->kind = k;
	}
	if (x->in_probes && !x->probes_bad) {
		if (x->depth == 2 && k != K_OBJECT)
			x->probes_bad = "an entry is not an object";
		else if (x->depth == 3 && x->probe_dest && k != K_STRING)
			x->probes_bad = "an entry's function or mode is not a string";
	}
	return 1;
}

static int on_null(void *ctx)
{
	struct ctx *x = ctx;
	struct slot *s;

	return target(x, K_NULL, x->finishing ? x->len : yajl_get_bytes_consumed(x->h), &s);
}

static int on_boolean(void *ctx, int b)
{
	struct ctx *x = ctx;
	struct slot *s;

	return target(x, b ? K_TRUE : K_FALSE,
		      x->finishing ? x->len : yajl_get_bytes_consumed(x->h), &s);
}

/*
 * Every number, as text (yajl_number): an integer must fit in 64 bits and a
 * real must not overflow a double, wherever they are.
 */
static int on_number(void *ctx, const char *num, size_t n)
{
	struct ctx *x = ctx;
	unsigned long long u = 0, limit;
	bool neg = false, big = false;
	size_t i = 0;
	struct slot *s;

	if (n && num[0] == '-') {
		neg = true;
		i = 1;
	}
	for (; i < n; i++) {
		unsigned int d = (unsigned int)(unsigned char)num[i] - '0';

		if (d > 9)
			break;
		if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, d, &u))
			big = true;
	}
	if (i < n) {
		/* '.', 'e' or 'E': a real number. */
		char tmp[64], *c = n < sizeof(tmp) ? tmp : malloc(n + 1);
		double d;

		if (!c) {
			fail(x, NULL, "out of memory");
			return 0;
		}
		memcpy(c, num, n);
		c[n] = '\0';
		errno = 0;
		d = strtod(c, NULL);
		if (c != tmp)
			free(c);
		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
			syntax(x, offset_of(x, num, n), "real number overflow");
			return 0;
		}
		return target(x, K_REAL, offset_of(x, num, n), &s);
	}
	limit = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	if (big || u > limit) {
		syntax(x, offset_of(x, num, n), neg ? "too big negative integer" : "too big integer");
		return 0;
	}
	if (!target(x, K_INT, offset_of(x, num, n), &s))
		return 0;
	if (s)
		s->i = neg ? (long long)(0 - u) : (long long)u;
	return 1;
}

static int on_string(void *ctx, const unsigned char *str, size_t n)
{
	struct ctx *x = ctx;
	struct slot *s;
	size_t keep;

	if (!target(x, K_STRING, offset_of(x, str, n), &s))
		return 0;
	if (x->in_probes && x->depth == 3 && x->probe_dest) {
		/* a longer name than any probe's is kept cut: it matches none */
		keep = n < x->probe_dest_len - 1 ? n : x->probe_dest_len - 1;
		memcpy(x->probe_dest, str, keep);
		x->probe_dest[keep] = '\0';
	}
	if (s) {
		keep = n < STR_KEEP ? n : STR_KEEP;
		s->len = n;
		memcpy(s->s, str, keep);
		s->s[keep] = '\0';
	}
	return 1;
}

static int container(struct ctx *x, enum kind k)
{
	struct slot *s;
	size_t off = x->finishing ? x->len : yajl_get_bytes_consumed(x->h);
	bool cause = x->depth == 1 && x->cur == F_CAUSE && k == K_OBJECT;
	bool probes = x->depth == 1 && x->cur == F_PROBES && k == K_ARRAY;

	if (!target(x, k, off ? off - 1 : 0, &s))
		return 0;
	x->in_cause = cause;
	x->probe_dest = NULL;
	if (probes)
		x->in_probes = true;
	else if (x->in_probes && x->depth == 2)
		memset(&x->probe, 0, sizeof(x->probe));
	if (++x->depth > MAX_DEPTH) {
		syntax(x, off ? off - 1 : 0, "maximum parsing depth reached");
		return 0;
	}
	return 1;
}

static int on_start_map(void *ctx)
{
	return container(ctx, K_OBJECT);
}

static int on_start_array(void *ctx)
{
	return container(ctx, K_ARRAY);
}

static int on_end(void *ctx)
{
	struct ctx *x = ctx;
	size_t i;

	if (x->depth == 2)
		x->in_cause = false;
	if (x->in_probes && x->depth == 3 && !x->probes_bad) {
		if (!x->probe.function[0])
			x->probes_bad = "an entry has no function";
		else if (x->nr_probes < REPLAY_MAX_PROBES)
			x->probes[x->nr_probes++] = x->probe;
	} else if (x->in_probes && x->depth == 2) {
		x->in_probes = false;
	}
	x->probe_dest = NULL;
	if (--x->depth)
		return 1;
	/*
	 * The line's value is complete: only blanks may follow. Checked here,
	 * as the parser (made to take one value after another) would take the
	 * start of a token left at the end of the line to go on on the next.
	 */
	i = x->finishing ? x->len : yajl_get_bytes_consumed(x->h);
	while (i < x->len && (x->text[i] == ' ' || x->text[i] == '\t' || x->text[i] == '\r' ||
			      x->text[i] == '\n'))
		i++;
	if (i == x->len)
		return 1;
	syntax(x, i, "end of file expected");
	return 0;
}

/* The field a top-level key names, or -1. */
static int field_of(const unsigned char *k, size_t n)
{
#define IS(f, name) (!memcmp(k, name, sizeof(name) - 1) ? (f) : -1)
	switch (n) {
	case 2:
		return IS(F_MM, "mm");
	case 3:
		switch (k[0]) {
		case 's': return IS(F_SEQ, "seq");
		case 'c': return IS(F_CPU, "cpu");
		case 'p': return IS(F_PID, "pid");
		case 't': return IS(F_TID, "tid");
		case 'd': return IS(F_DEV, "dev");
		case 'r': return IS(F_RET, "ret");
		}
		return -1;
	case 4:
		switch (k[0]) {
		case 't': return IS(F_TYPE, "type");
		case 'k': return IS(F_KIND, "kind");
		}
		return IS(F_COMM, "comm");
	case 5:
		switch (k[0]) {
		case 't': return IS(F_TS_NS, "ts_ns");
		case 'g': return IS(F_GROUP, "group");
		case 'u': return IS(F_USERS, "users");
		case 'c': return k[1] == 'o' ? IS(F_COUNT, "count") : IS(F_CAUSE, "cause");
		case 'p': return k[1] == 'a' ? IS(F_PASID, "pasid") : IS(F_PROBE, "probe");
		}
		return -1;
	case 6:
		switch (k[0]) {
		case 'd': return IS(F_DOMAIN, "domain");
		case 'k': return IS(F_KERNEL, "kernel");
		case 'p': return IS(F_PROBES, "probes");
		}
		return IS(F_HANDLE, "handle");
	case 7:
		switch (k[0]) {
		case 'k': return IS(F_KTHREAD, "kthread");
		case 'e': return IS(F_EXITING, "exiting");
		}
		return IS(F_MACHINE, "machine");
	case 8:
		switch (k[0]) {
		case 's': return k[3] == 'r' ? IS(F_START_NS, "start_ns") : IS(F_STACK_ID, "stack_id");
		case 'n': return IS(F_NEXT_SEQ, "next_seq");
		case 'u': return IS(F_USERS_OF, "users_of");
		}
		return IS(F_POINTERS, "pointers");
	case 9:
		switch (k[0]) {
		case 'e': return IS(F_EXIT_CODE, "exit_code");
		case 'f': return IS(F_FLAGS_RAW, "flags_raw");
		}
		return IS(F_RESETTING, "resetting");
	case 10:
		return k[0] == 'm' ? IS(F_MAX_PASIDS, "max_pasids") : IS(F_GROUP_DEAD, "group_dead");
	case 12:
		return IS(F_MM_UNTRACKED, "mm_untracked");
	case 13:
		return IS(F_WANT_TYPE_RAW, "want_type_raw");
	case 14:
		return IS(F_PASID_EXISTING, "pasid_existing");
	case 15:
		return k[0] == 'd' ? IS(F_DOMAIN_TYPE_RAW, "domain_type_raw") :
				     IS(F_CALLS_IN_FLIGHT, "calls_in_flight");
	case 17:
		return IS(F_USERS_BEFORE_CALL, "users_before_call");
	}
	return -1;
#undef IS
}

/* The field a key inside "cause" names, or -1. */
static int cause_field_of(const unsigned char *k, size_t n)
{
	static const int fields[] = { F_CAUSE_FUNCTION, F_CAUSE_RET, F_CAUSE_RETURNED,
				      F_CAUSE_DEPTH, F_CAUSE_INLINE, F_CAUSE_CHECK,
				      F_CAUSE_CALLEES };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *name = field_names[fields[i]] + sizeof("cause.") - 1;

		if (strlen(name) == n && !memcmp(k, name, n))
			return fields[i];
	}
	return -1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct ctx *x = ctx;
	int f;

	/* Remember it for messages; yajl's own buffers do not last. */
	x->keylen = n;
	if (in_line(x, k, n)) {
		x->key = k;
	} else if (n < sizeof(x->keybuf)) {
		memcpy(x->keybuf, k, n);
		x->key = x->keybuf;
	}
	if (x->in_probes && x->depth == 3) {
		x->probe_dest = NULL;
		if (n == 8 && !memcmp(k, "function", 8)) {
			x->probe_dest = x->probe.function;
			x->probe_dest_len = sizeof(x->probe.function);
		} else if (n == 4 && !memcmp(k, "mode", 4)) {
			x->probe_dest = x->probe.mode;
			x->probe_dest_len = sizeof(x->probe.mode);
		}
		return 1;
	}
	if (x->depth == 2 && x->in_cause)
		f = cause_field_of(k, n);
	else if (x->depth != 1 || x->top != K_OBJECT)
		return 1;
	else
		f = field_of(k, n);
	x->cur = f;
	if (f < 0)
		return 1;
	if (x->present & (1ull << f)) {
		fail(x, field_names[f], "appears twice");
		return 0;
	}
	x->present |= 1ull << f;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

/* ---- the checks, once the line has parsed ---- */

static const struct slot *get(const struct ctx *x, enum field f)
{
	return x->present & (1ull << f) ? &x->f[f] : NULL;
}

/* Integer field in [min, max]; absent or null gives dflt when allowed. */
static int get_int(struct ctx *x, enum field f, int64_t min, int64_t max, bool required,
		   bool nullable, int64_t dflt, int64_t *out)
{
	const struct slot *v = get(x, f);
	const char *name = field_names[f];

	if (!v || v->kind == K_NULL) {
		if ((!v && required) || (v && !nullable))
			return fail(x, name, v ? "expected an integer, got null" : "missing");
		*out = dflt;
		return 0;
	}
	if (v->kind != K_INT)
		return fail(x, name, "expected an integer%s, got %s", nullable ? " or null" : "",
			    kind_name(v->kind));
	if (v->i < min || v->i > max)
		return fail(x, name, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
			    (int64_t)v->i, min, max);
	*out = v->i;
	return 0;
}

/* 1 + the value of a hex digit; 0 for any other byte. */
static const unsigned char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* "0x..." pointer string or null. */
static int get_ptr(struct ctx *x, enum field f, __u64 *out)
{
	const struct slot *v = get(x, f);
	const char *name = field_names[f];
	__u64 p = 0;

	*out = 0;
	if (!v || v->kind == K_NULL)
		return 0;
	if (v->kind != K_STRING)
		return fail(x, name, "expected a pointer string \"0x...\" or null, got %s",
			    kind_name(v->kind));
	if (v->len < 3 || v->len > 18 || v->s[0] != '0' || v->s[1] != 'x')
		goto bad;
	for (size_t i = 2; i < v->len; i++) {
		unsigned char h = hexval[(unsigned char)v->s[i]];

		if (!h)
			goto bad;
		p = p << 4 | (__u64)(h - 1);
	}
	*out = p;
	return 0;
bad:
	return fail(x, name, "expected a pointer string \"0x\" + 1 to 16 hex digits, got \"%.40s\"",
		    v->s);
}

static int get_str(struct ctx *x, enum field f, char *dst, size_t max, bool required)
{
	const struct slot *v = get(x, f);
	const char *name = field_names[f];

	memset(dst, 0, max);
	if (!v || v->kind == K_NULL) {
		if (required)
			return fail(x, name, "missing");
		return 0;
	}
	if (v->kind != K_STRING)
		return fail(x, name, "expected a string, got %s", kind_name(v->kind));
	if (v->len > max)
		return fail(x, name, "%zu bytes, more than the kernel's %zu", v->len, max);
	if (memchr(v->s, '\0', v->len))
		return fail(x, name, "contains a NUL character");
	memcpy(dst, v->s, v->len);
	return 0;
}

/* The string value of field f when it is exactly s. */
static bool str_is(const struct slot *v, const char *s)
{
	size_t n = strlen(s);

	return v && v->kind == K_STRING && v->len == n && !memcmp(v->s, s, n);
}

_Static_assert(SVA_COMM_LEN <= STR_KEEP && SVA_DEV_NAME_LEN <= STR_KEEP, "STR_KEEP too small");

/* A boolean field that sets flag when true (dflt when absent or null). */
static int get_flag(struct ctx *x, enum field f, bool dflt, uint16_t flag, struct sva_event *ev)
{
	const struct slot *b = get(x, f);
	bool on = dflt;

	if (b && b->kind != K_NULL) {
		if (b->kind != K_TRUE && b->kind != K_FALSE)
			return fail(x, field_names[f], "expected a boolean, got %s",
				    kind_name(b->kind));
		on = b->kind == K_TRUE;
	}
	if (on)
		ev->flags |= flag;
	return 0;
}

/*
 * "cause" (docs/json-format.md): function, ret, depth, inline, check, callees_entered and
 * returned are read back; the explanation is not (it comes from this version's tables).
 */
static int parse_cause(struct ctx *x, struct sva_event *ev)
{
	const struct slot *c = get(x, F_CAUSE), *v;
	int64_t n;
	int ret;

	if (!c || c->kind == K_NULL)
		return 0;
	if (c->kind != K_OBJECT)
		return fail(x, "cause", "expected an object or null, got %s", kind_name(c->kind));
	v = get(x, F_CAUSE_FUNCTION);
	if (!v || v->kind != K_STRING)
		return fail(x, "cause.function", v ? "expected a string, got %s" : "missing%s",
			    v ? kind_name(v->kind) : "");
	/* A function a later version knows: kept as a cause of an unknown function. */
	ev->cause_func = (uint16_t)(v->len <= STR_KEEP ? sva_cause_func_from_name(v->s) : 0);
	if (!ev->cause_func)
		ev->cause_func = SVA_CF_UNKNOWN;
	if ((ret = get_int(x, F_CAUSE_RET, -4095, 0, true, false, 0, &n)))
		return ret;
	ev->cause_err = (int32_t)n;
	if ((ret = get_int(x, F_CAUSE_DEPTH, 0, UINT8_MAX, true, false, 0, &n)))
		return ret;
	ev->cause_depth = (uint8_t)n;
	if ((ret = get_int(x, F_CAUSE_CALLEES, 0, UINT16_MAX, false, false, 0, &n)))
		return ret;
	ev->cause_calls = (uint16_t)n;
	v = get(x, F_CAUSE_INLINE);
	if (v && v->kind != K_TRUE && v->kind != K_FALSE && v->kind != K_NULL)
		return fail(x, "cause.inline", "expected a boolean, got %s", kind_name(v->kind));
	if (v && v->kind == K_TRUE)
		ev->cause_flags |= SVA_CAUSE_INLINE;
	v = get(x, F_CAUSE_RETURNED);
	if (str_is(v, "NULL"))
		ev->cause_flags |= SVA_CAUSE_NULL;
	else if (str_is(v, "IOMMU_PASID_INVALID"))
		ev->cause_flags |= SVA_CAUSE_NO_PASID;
	else if (v && v->kind != K_NULL)
		return fail(x, "cause.returned", "expected \"NULL\" or \"IOMMU_PASID_INVALID\"");
	v = get(x, F_CAUSE_CHECK);
	if (v && v->kind == K_STRING) {
		/* a check a later version names: unknown here */
		ev->cause_check = (uint16_t)(v->len <= STR_KEEP ? sva_inline_check_from_name(v->s) : 0);
	} else if (v && v->kind != K_NULL) {
		return fail(x, "cause.check", "expected a string or null, got %s", kind_name(v->kind));
	}
	return 0;
}

/* dst = integer field f as get_int reads it, or return its failure (the caller's x, v, ret). */
#define INT(f, min, max, req, nul, dflt, dst)                                      \
	do {                                                                       \
		ret = get_int(x, f, min, max, req, nul, dflt, &v);                 \
		if (ret)                                                           \
			return ret;                                                \
		dst = v;                                                           \
	} while (0)

static int parse_event(struct ctx *x, unsigned int type, struct sva_event *ev)
{
	const struct slot *b;
	int64_t v;
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	ev->type = (uint16_t)type;
	INT(F_SEQ, 0, INT64_MAX, true, false, 0, ev->seq);
	INT(F_TS_NS, 0, INT64_MAX, true, false, 0, ev->ts_ns);
	INT(F_CPU, 0, UINT32_MAX, false, false, 0, ev->cpu);
	INT(F_PID, 0, UINT32_MAX, true, false, 0, ev->tgid);
	INT(F_TID, 0, UINT32_MAX, false, false, ev->tgid, ev->pid);
	INT(F_GROUP, -1, INT32_MAX, false, true, -1, ev->group_id);
	INT(F_PASID, 0, SVA_PASID_NONE - 1, false, true, SVA_PASID_NONE, ev->pasid);
	INT(F_DOMAIN_TYPE_RAW, 0, UINT32_MAX, false, false, UINT32_MAX, ev->domain_type);
	/* below -1: a saturated refcount as the kernel had it (-1 is "unknown") */
	INT(F_USERS, INT32_MIN, INT32_MAX, false, true, -1, ev->users);
	INT(F_RET, -4095, INT64_MAX, false, false, 0, ev->ret);
	INT(F_MAX_PASIDS, 0, UINT32_MAX, false, false, 0, ev->max_pasids);
	INT(F_STACK_ID, -1, INT32_MAX, false, false, -1, ev->stack_id);
	if (type == SVA_REC_LOOKUP)
		INT(F_WANT_TYPE_RAW, 0, UINT32_MAX, false, false, UINT32_MAX, ev->aux);
	if (type == SVA_REC_PROC_EXIT)
		INT(F_EXIT_CODE, 0, UINT32_MAX, false, false, 0, ev->aux);
	if ((ret = get_str(x, F_COMM, ev->comm, SVA_COMM_LEN, false)) ||
	    (ret = get_str(x, F_DEV, ev->dev_name, SVA_DEV_NAME_LEN, false)) ||
	    (ret = get_ptr(x, F_MM, &ev->mm)) || (ret = get_ptr(x, F_DOMAIN, &ev->domain)) ||
	    (ret = get_ptr(x, F_HANDLE, &ev->handle)))
		return ret;
	if ((ret = get_flag(x, F_USERS_BEFORE_CALL, false, SVA_EVF_USERS_BEFORE, ev)))
		return ret;
	if (str_is(get(x, F_PROBE), "kprobe"))
		ev->flags |= SVA_EVF_KPROBE;
	/* Captures from before the field have only the group's last exit: absent means true. */
	if (type == SVA_REC_PROC_EXIT) {
		ret = get_flag(x, F_GROUP_DEAD, true, SVA_EVF_GROUP_DEAD, ev);
		if (ret)
			return ret;
	}
	if ((ret = get_flag(x, F_RESETTING, false, SVA_EVF_GROUP_RESETTING, ev)) ||
	    (ret = get_flag(x, F_PASID_EXISTING, false, SVA_EVF_PASID_EXISTING, ev)) ||
	    (ret = get_flag(x, F_MM_UNTRACKED, false, SVA_EVF_MM_UNTRACKED, ev)) ||
	    (ret = get_flag(x, F_KTHREAD, false, SVA_EVF_KTHREAD, ev)) ||
	    (ret = get_flag(x, F_EXITING, false, SVA_EVF_EXITING, ev)))
		return ret;
	b = get(x, F_USERS_OF);
	if (b && b->kind != K_NULL) {
		if (str_is(b, "domain"))
			ev->flags |= SVA_EVF_USERS_DOMAIN;
		else if (str_is(b, "driver"))
			ev->flags |= SVA_EVF_USERS_DRIVER;
		else
			return fail(x, "users_of", "expected \"domain\" or \"driver\"");
	}
	return parse_cause(x, ev);
}

/* A "state" record (docs/json-format.md): what the kernel had bound when tracing began. */
static int parse_state(struct ctx *x, struct sva_state_rec *r, uint64_t *seq, uint64_t *ts_ns)
{
	const struct slot *k = get(x, F_KIND);
	int64_t v;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->group_id = -1;
	r->users = -1;
	r->domain_type = UINT32_MAX;
	*seq = *ts_ns = 0;
	if (!k || k->kind != K_STRING)
		return fail(x, "kind", k ? "expected a string, got %s" : "missing%s",
			    k ? kind_name(k->kind) : "");
	if (str_is(k, "task")) {
		r->kind = SVA_STATE_TASK;
		INT(F_PID, 0, UINT32_MAX, true, false, 0, r->tgid);
		INT(F_PASID, 0, SVA_PASID_NONE - 1, true, false, 0, r->pasid);
		INT(F_START_NS, 0, INT64_MAX, false, false, 0, r->start_ns);
		if ((ret = get_str(x, F_COMM, r->comm, SVA_COMM_LEN, false)) ||
		    (ret = get_ptr(x, F_MM, &r->mm)))
			return ret;
		if (get(x, F_MM_UNTRACKED) && get(x, F_MM_UNTRACKED)->kind == K_TRUE)
			r->flags |= SVA_STATE_MM_UNTRACKED;
	} else if (str_is(k, "group")) {
		r->kind = SVA_STATE_GROUP;
		INT(F_GROUP, -1, INT32_MAX, true, false, -1, r->group_id);
		INT(F_MAX_PASIDS, 0, UINT32_MAX, false, false, 0, r->max_pasids);
		INT(F_COUNT, 0, UINT32_MAX, false, false, 0, r->count);
		if ((ret = get_str(x, F_DEV, r->dev_name, SVA_DEV_NAME_LEN, false)))
			return ret;
	} else if (str_is(k, "attachment")) {
		r->kind = SVA_STATE_ATTACH;
		INT(F_GROUP, -1, INT32_MAX, true, false, -1, r->group_id);
		INT(F_PASID, 0, SVA_PASID_NONE - 1, true, false, 0, r->pasid);
		INT(F_MAX_PASIDS, 0, UINT32_MAX, false, false, 0, r->max_pasids);
		INT(F_DOMAIN_TYPE_RAW, 0, UINT32_MAX, true, false, UINT32_MAX, r->domain_type);
		INT(F_USERS, INT32_MIN, INT32_MAX, false, true, -1, r->users);
		if ((ret = get_str(x, F_DEV, r->dev_name, SVA_DEV_NAME_LEN, false)) ||
		    (ret = get_ptr(x, F_MM, &r->mm)) || (ret = get_ptr(x, F_DOMAIN, &r->domain)) ||
		    (ret = get_ptr(x, F_HANDLE, &r->handle)))
			return ret;
	} else if (str_is(k, "end")) {
		r->kind = SVA_STATE_END;
		INT(F_NEXT_SEQ, 0, INT64_MAX, true, false, 0, *seq);
		INT(F_TS_NS, 0, INT64_MAX, true, false, 0, *ts_ns);
		INT(F_FLAGS_RAW, 0, UINT16_MAX, false, false, 0, r->flags);
		INT(F_CALLS_IN_FLIGHT, 0, INT32_MAX, false, true, -1, r->users);
	} else {
		return fail(x, "kind", "unknown state kind \"%.40s\" (expected task, group, "
				       "attachment or end)", k->s);
	}
#undef INT
	return 0;
}

static int dispatch(struct ctx *x, const struct replay_sink *s, unsigned long *records)
{
	const struct slot *t, *p;
	unsigned int rec;
	struct sva_event ev;
	int64_t v;
	int ret = 0;

	if (x->top != K_OBJECT)
		return fail(x, NULL, "expected a JSON object, got %s", kind_name(x->top));
	t = get(x, F_TYPE);
	if (!t || t->kind != K_STRING)
		return fail(x, "type", t ? "expected a string, got %s" : "missing%s",
			    t ? kind_name(t->kind) : "");
	(*records)++;
	if (t->len <= STR_KEEP && memchr(t->s, '\0', t->len))
		return fail(x, "type", "contains a NUL character");
	rec = t->len <= STR_KEEP ? sva_rec_type_from_name(t->s) : 0;
	if (rec) {
		ret = parse_event(x, rec, &ev);
		if (!ret && s->on_event)
			s->on_event(&ev, s->ctx);
	} else if (str_is(t, "start")) {
		const struct slot *kr = get(x, F_KERNEL), *mc = get(x, F_MACHINE);
		const struct slot *pr = get(x, F_PROBES);
		struct replay_start st = { .probes = x->probes, .nr_probes = x->nr_probes };

		p = get(x, F_POINTERS);
		ret = get_int(x, F_TS_NS, 0, INT64_MAX, true, false, 0, &v);
		if (!ret && p && p->kind != K_STRING)
			ret = fail(x, "pointers", "expected \"hashed\" or \"raw\", got %s",
				   kind_name(p->kind));
		/* The probes decide how the correlator judges leaks: malformed is an error. */
		if (!ret && pr && pr->kind != K_ARRAY)
			ret = fail(x, "probes", "expected an array of {\"function\", \"mode\"} "
						"objects, got %s", kind_name(pr->kind));
		if (!ret && pr && x->probes_bad)
			ret = fail(x, "probes", "%s (expected {\"function\": NAME, \"mode\": MODE})",
				   x->probes_bad);
		st.ts_ns = (uint64_t)v;
		st.raw_pointers = str_is(p, "raw");
		/* Informational: a missing or odd value is left out, not an error. */
		st.kernel = kr && kr->kind == K_STRING ? kr->s : NULL;
		st.machine = mc && mc->kind == K_STRING ? mc->s : NULL;
		if (!ret && s->on_start)
			s->on_start(&st, s->ctx);
	} else if (str_is(t, "lost")) {
		int64_t ts;

		ret = get_int(x, F_COUNT, 0, INT64_MAX, true, false, 0, &v);
		if (!ret)
			ret = get_int(x, F_TS_NS, 0, INT64_MAX, false, false, 0, &ts);
		if (!ret && s->on_lost)
			s->on_lost((uint64_t)v, (uint64_t)ts, s->ctx);
	} else if (str_is(t, "summary")) {
		ret = get_int(x, F_TS_NS, 0, INT64_MAX, false, false, 0, &v);
		if (!ret && v && s->on_end)
			s->on_end((uint64_t)v, s->ctx);
	} else if (str_is(t, "state")) {
		struct sva_state_rec sr;
		uint64_t seq, ts;

		ret = parse_state(x, &sr, &seq, &ts);
		if (!ret && s->on_state)
			s->on_state(&sr, seq, ts, s->ctx);
	} else if (str_is(t, "finding") || str_is(t, "check") || str_is(t, "error") ||
		   str_is(t, "resync")) {
		/* re-sync differences are recomputed from the state records before them */
		/* Findings are recomputed; a check table carries no events. */
	} else {
		ret = fail(x, "type", "unknown record type \"%.40s\"", t->s);
	}
	return ret;
}

/* A syntax error yajl found, at byte off of the line (lexical: in a token). */
static int yajl_failure(struct ctx *x, size_t off)
{
	unsigned char *e = yajl_get_error(x->h, 0, NULL, 0);
	const char *msg = e ? (const char *)e : "?", *colon;
	size_t n;
	int ret;

	/*
	 * yajl stops just past the byte it could not take. When that byte cut a
	 * multi-byte sequence short, the sequence's first byte is the one to name.
	 */
	if (e && strstr(msg, "invalid bytes in UTF8 string") && off && off <= x->len) {
		const unsigned char *t = x->text;
		size_t bad = off - 1, lead = bad;

		while (lead && (t[lead - 1] & 0xc0) == 0x80)
			lead--;
		if ((t[bad] & 0xc0) != 0x80 && lead && t[lead - 1] >= 0xc0 &&
		    bad - (lead - 1) < (t[lead - 1] >= 0xf0 ? 4u : t[lead - 1] >= 0xe0 ? 3u : 2u))
			bad = lead - 1;
		ret = syntax(x, bad, "unable to decode byte 0x%02x", t[bad]);
		yajl_free_error(x->h, e);
		return ret;
	}
	/* "parse error: premature EOF\n": keep what follows "error: ". */
	colon = strstr(msg, "error: ");
	if (colon)
		msg = colon + 7;
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.' || msg[n - 1] == ' '))
		n--;
	ret = syntax(x, off, "%.*s", (int)n, msg);
	if (e)
		yajl_free_error(x->h, e);
	return ret;
}

/* ---- the fast path: an event line exactly as sva-trace writes it ---- */

/*
 * sva_event_format_json writes every event with the same keys in the same order, strings
 * from kernel names and tables, integers without fraction or exponent. A line in exactly
 * that form is read here in one pass: yajl's callbacks and the slot checks above cost about
 * 13,600 instructions a line, two thirds of a replay's work. Anything else (another key
 * order, blanks, an escape or a byte outside printable ASCII in a string, a "cause", a value
 * out of its range, a record that is not an event) makes it give up without a word, and the
 * general parser takes the line from its start, errors included. What it accepts, the
 * general parser reads to the same struct sva_event: replay_sink.check_fast_path makes
 * every accepted line go through both and compares (tests/fuzz/fuzz_replay.c sets it).
 */
struct fast {
	const char *p, *end;
};

#define FAST_INLINE static inline __attribute__((always_inline))

/*
 * Inlined, so that n and the literal are constants: 8 bytes a compare against an immediate
 * (gcc calls memcmp for the longer keys), the last 8 overlapping the one before.
 */
FAST_INLINE bool fast_lit(struct fast *c, const char *lit, size_t n)
{
	uint64_t a, b;
	size_t i;

	if ((size_t)(c->end - c->p) < n)
		return false;
	if (n < 8) {
		for (i = 0; i < n; i++)
			if (c->p[i] != lit[i])
				return false;
	} else {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&a, c->p + i, 8);
			memcpy(&b, lit + i, 8);
			if (a != b)
				return false;
		}
		if (i < n) {
			memcpy(&a, c->p + n - 8, 8);
			memcpy(&b, lit + n - 8, 8);
			if (a != b)
				return false;
		}
	}
	c->p += n;
	return true;
}

#define FAST_LIT(c, lit) fast_lit((c), (lit), sizeof(lit) - 1)
/* A key after the first: its comma, quotes and colon. */
#define FAST_KEY(c, key) FAST_LIT((c), ",\"" key "\":")

/*
 * An integer in [min, max]: "-"? then "0" or a digit 1-9 and at most 17 more (a longer one
 * is left to the general parser's checks). A fraction, an exponent or a leading zero stops
 * at a byte the next key's literal does not match.
 */
FAST_INLINE bool fast_int(struct fast *c, int64_t min, int64_t max, int64_t *out)
{
	const char *p = c->p, *end = c->end;
	bool neg = false;
	uint64_t v = 0;
	int64_t r;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || (unsigned int)(*p - '0') > 9)
		return false;
	if (*p == '0') {
		p++;
	} else {
		const char *first = p;
		unsigned int d;

		/* the line ends in a NUL (handle_line), which stops this loop */
		while ((d = (unsigned int)(*p - '0')) <= 9) {
			v = v * 10 + d;
			p++;
		}
		if (p - first > 18)
			return false; /* v may have wrapped: the general parser's range checks */
	}
	r = neg ? -(int64_t)v : (int64_t)v;
	if (r < min || r > max)
		return false;
	c->p = p;
	*out = r;
	return true;
}

/* A string of printable ASCII without a backslash: *s and *n its bytes between the quotes. */
static bool fast_str(struct fast *c, const char **s, size_t *n)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"')
		return false;
	q = c->p + 1;
	/* 8 bytes a step while 8 are left and none is a quote, a backslash or not printable */
	while (c->end - q >= 8) {
		const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
		uint64_t w, bs, qt;

		memcpy(&w, q, 8);
		w = le64toh(w);
		bs = w ^ (ones * '\\');
		qt = w ^ (ones * '"');
		if ((((w - ones * 0x20) & ~w) | (w + ones) | w | ((bs - ones) & ~bs) |
		     ((qt - ones) & ~qt)) & highs)
			break;
		q += 8;
	}
	for (; q < c->end && *q != '"'; q++) {
		unsigned char b = (unsigned char)*q;

		if (b < 0x20 || b > 0x7e || b == '\\')
			return false;
	}
	if (q >= c->end)
		return false;
	*s = c->p + 1;
	*n = (size_t)(q - *s);
	c->p = q + 1;
	return true;
}

/* A string value nothing reads back (a name from our tables), or null. */
static bool fast_skip_name(struct fast *c)
{
	const char *s;
	size_t n;

	return FAST_LIT(c, "null") || fast_str(c, &s, &n);
}

/* A string of at most max bytes copied into dst (zeroed by the caller), or null. */
static bool fast_chars(struct fast *c, char *dst, size_t max)
{
	const char *s;
	size_t n;

	if (FAST_LIT(c, "null"))
		return true;
	if (!fast_str(c, &s, &n) || n > max)
		return false;
	memcpy(dst, s, n);
	return true;
}

/* "0x" and 1 to 16 hex digits in quotes, or null (0). */
static bool fast_ptr(struct fast *c, __u64 *out)
{
	const char *q;
	__u64 p = 0;
	size_t n;

	if (FAST_LIT(c, "null")) {
		*out = 0;
		return true;
	}
	if (!FAST_LIT(c, "\"0x"))
		return false;
	for (q = c->p; q < c->end; q++) {
		unsigned char h = hexval[(unsigned char)*q];

		if (!h)
			break;
		p = p << 4 | (__u64)(h - 1);
	}
	n = (size_t)(q - c->p);
	if (n < 1 || n > 16 || q >= c->end || *q != '"')
		return false;
	c->p = q + 1;
	*out = p;
	return true;
}

/*
 * An event line in sva_event_format_json's form into *ev; false: not in that form. Keys the
 * general parser lets a line leave out may be missing here too (gen_capture writes its
 * mm_pasid_drop lines short, older versions had no group_dead), with its defaults.
 */
static bool fast_event(const unsigned char *line, size_t len, struct sva_event *ev)
{
	/* line[len] is the NUL replay_stream put in place of the newline */
	struct fast c = { .p = (const char *)line, .end = (const char *)line + len };
	char name[24];
	const char *s;
	size_t n;
	int64_t v;
	unsigned int type;

	if (!FAST_LIT(&c, "{\"type\":") || !fast_str(&c, &s, &n) || n >= sizeof(name))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	type = sva_rec_type_from_name(name);
	if (!type)
		return false;
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint16_t)type;
	/* parse_event's defaults for the keys that may be missing */
	ev->group_id = -1;
	ev->pasid = SVA_PASID_NONE;
	ev->domain_type = UINT32_MAX;
	ev->users = -1;
	ev->stack_id = -1;
	if (type == SVA_REC_LOOKUP)
		ev->aux = UINT32_MAX;
	else if (type == SVA_REC_PROC_EXIT)
		ev->flags |= SVA_EVF_GROUP_DEAD;
/* A key that must be there, with an integer. */
#define FAST_INT(key, min, max, dst)                                               \
	do {                                                                       \
		if (!FAST_KEY(&c, key) || !fast_int(&c, min, max, &v))             \
			return false;                                              \
		dst = v;                                                           \
	} while (0)
/* A key that may be missing (dst keeps its default), with an integer or, if nullable, null. */
#define FAST_OPT(key, nullable, min, max, dst)                                     \
	do {                                                                       \
		if (FAST_KEY(&c, key)) {                                           \
			if (nullable && FAST_LIT(&c, "null"))                      \
				break;                                             \
			if (!fast_int(&c, min, max, &v))                           \
				return false;                                      \
			dst = v;                                                   \
		}                                                                  \
	} while (0)
	FAST_INT("seq", 0, INT64_MAX, ev->seq);
	FAST_INT("ts_ns", 0, INT64_MAX, ev->ts_ns);
	FAST_OPT("cpu", false, 0, UINT32_MAX, ev->cpu);
	FAST_INT("pid", 0, UINT32_MAX, ev->tgid);
	ev->pid = ev->tgid;
	FAST_OPT("tid", false, 0, UINT32_MAX, ev->pid);
	if ((FAST_KEY(&c, "comm") && !fast_chars(&c, ev->comm, SVA_COMM_LEN)) ||
	    (FAST_KEY(&c, "mm") && !fast_ptr(&c, &ev->mm)) ||
	    (FAST_KEY(&c, "dev") && !fast_chars(&c, ev->dev_name, SVA_DEV_NAME_LEN)))
		return false;
	FAST_OPT("group", true, -1, INT32_MAX, ev->group_id);
	FAST_OPT("pasid", true, 0, SVA_PASID_NONE - 1, ev->pasid);
	if (FAST_KEY(&c, "domain") && !fast_ptr(&c, &ev->domain))
		return false;
	if (FAST_KEY(&c, "domain_type") && !fast_skip_name(&c))
		return false;
	FAST_OPT("domain_type_raw", false, 0, UINT32_MAX, ev->domain_type);
	if (FAST_KEY(&c, "handle") && !fast_ptr(&c, &ev->handle))
		return false;
	FAST_OPT("users", true, INT32_MIN, INT32_MAX, ev->users);
	if (FAST_LIT(&c, ",\"users_before_call\":true"))
		ev->flags |= SVA_EVF_USERS_BEFORE;
	FAST_OPT("ret", false, -4095, INT64_MAX, ev->ret);
	if (FAST_KEY(&c, "errno") && !fast_skip_name(&c))
		return false;
	FAST_OPT("max_pasids", false, 0, UINT32_MAX, ev->max_pasids);
	if (type == SVA_REC_LOOKUP) {
		if (FAST_KEY(&c, "want_type") && !fast_skip_name(&c))
			return false;
		FAST_OPT("want_type_raw", false, 0, UINT32_MAX, ev->aux);
	}
	if (type == SVA_REC_PROC_EXIT) {
		FAST_OPT("exit_code", false, 0, UINT32_MAX, ev->aux);
		if (FAST_LIT(&c, ",\"group_dead\":false"))
			ev->flags &= (uint16_t)~SVA_EVF_GROUP_DEAD;
		else
			FAST_LIT(&c, ",\"group_dead\":true");
	}
	if (FAST_LIT(&c, ",\"users_of\":\"domain\""))
		ev->flags |= SVA_EVF_USERS_DOMAIN;
	else if (FAST_LIT(&c, ",\"users_of\":\"driver\""))
		ev->flags |= SVA_EVF_USERS_DRIVER;
	if (FAST_LIT(&c, ",\"resetting\":true"))
		ev->flags |= SVA_EVF_GROUP_RESETTING;
	if (FAST_LIT(&c, ",\"pasid_existing\":true"))
		ev->flags |= SVA_EVF_PASID_EXISTING;
	if (FAST_LIT(&c, ",\"mm_untracked\":true"))
		ev->flags |= SVA_EVF_MM_UNTRACKED;
	if (FAST_LIT(&c, ",\"kthread\":true"))
		ev->flags |= SVA_EVF_KTHREAD;
	if (FAST_LIT(&c, ",\"exiting\":true"))
		ev->flags |= SVA_EVF_EXITING;
	FAST_OPT("stack_id", false, -1, INT32_MAX, ev->stack_id);
#undef FAST_INT
#undef FAST_OPT
	/* a "cause" is left to the general parser; so is anything else before the end */
	if (FAST_LIT(&c, ",\"probe\":\"kprobe\""))
		ev->flags |= SVA_EVF_KPROBE;
	else
		FAST_LIT(&c, ",\"probe\":\"fentry\"");
	return FAST_LIT(&c, "}") && c.p == c.end;
}

static int parse_line(struct ctx *x, const unsigned char *line, size_t len,
		      const struct replay_sink *s, unsigned long *records);

static void keep_event(const struct sva_event *ev, void *ctx)
{
	memcpy(ctx, ev, sizeof(*ev));
}

static int handle_line(struct ctx *x, const unsigned char *line, size_t len,
		       const struct replay_sink *s, unsigned long *records)
{
	struct sva_event ev;

	if (!fast_event(line, len, &ev))
		return parse_line(x, line, len, s, records);
	if (s->check_fast_path) {
		struct sva_event slow;
		const struct replay_sink keep = { .on_event = keep_event, .ctx = &slow };
		unsigned long n = 0;

		memset(&slow, 0xa5, sizeof(slow));
		if (parse_line(x, line, len, &keep, &n) || n != 1 || memcmp(&slow, &ev, sizeof(ev))) {
			fprintf(stderr, "%s:%lu: the fast path and the general parser disagree\n",
				x->path, x->line);
			abort();
		}
	}
	(*records)++;
	if (s->on_event)
		s->on_event(&ev, s->ctx);
	return 0;
}

/* Any line, through yajl and the slots. */
static int parse_line(struct ctx *x, const unsigned char *line, size_t len,
		      const struct replay_sink *s, unsigned long *records)
{
	const unsigned char *ff, *vt;
	yajl_status st;
	size_t i, plen;

	x->text = line;
	x->len = len;
	x->finishing = false;
	x->depth = 0;
	x->top_seen = false;
	x->cur = -1;
	x->in_cause = false;
	x->present = 0;
	x->keylen = 0;
	x->in_probes = false;
	x->probe_dest = NULL;
	x->nr_probes = 0;
	x->probes_bad = NULL;

	/* A record is an object; an array gets its own message below, anything else this one. */
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
				line[i] == '\n');
	     i++)
		;
	if (i == len || (line[i] != '{' && line[i] != '['))
		return syntax(x, i, "'[' or '{' expected");
	/* yajl takes \f and \v for blanks; JSON does not, anywhere (raw in strings neither). */
	plen = len;
	ff = memchr(line, '\f', len);
	vt = memchr(line, '\v', ff ? (size_t)(ff - line) : len);
	if (vt)
		plen = (size_t)(vt - line);
	else if (ff)
		plen = (size_t)(ff - line);

	st = yajl_parse(x->h, line, plen);
	if (st == yajl_status_ok && plen < len)
		return syntax(x, plen, "invalid character 0x%02x", line[plen]);
	if (st == yajl_status_ok) {
		x->finishing = true;
		st = yajl_complete_parse(x->h);
	}
	if (st == yajl_status_client_canceled)
		return -EINVAL; /* the callback said why */
	if (st != yajl_status_ok)
		return yajl_failure(x, x->finishing ? len : yajl_get_bytes_consumed(x->h));
	if (!x->top_seen)
		return syntax(x, len, "'[' or '{' expected");
	return dispatch(x, s, records);
}

int replay_stream(FILE *f, const char *path, const struct replay_sink *sink, char *err,
		  size_t errlen)
{
	struct ctx *x;
	unsigned long records = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	x = calloc(1, sizeof(*x));
	if (x) {
		x->path = path;
		x->err = err;
		x->errlen = errlen;
		x->h = yajl_alloc(&callbacks, NULL, x);
	}
	if (!x || !x->h) {
		free(x);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	/*
	 * One parser for the whole file: after yajl_complete_parse it takes the
	 * next line as a new value. A second value on one line is refused in
	 * target(). Strings are checked for UTF-8 (yajl's default, kept on).
	 */
	yajl_config(x->h, yajl_allow_multiple_values, 1);
	yajl_config(x->h, yajl_dont_validate_strings, 0);
	yajl_config(x->h, yajl_allow_comments, 0);

	for (;;) {
		bool nul = false, end = false;

		/* The first byte, looked at before getline reads the first line whole (below). */
		if (!x->line) {
			int c = getc(f);

			nul = c == '\0';
			end = c == EOF || (!nul && ungetc(c, f) == EOF);
		}
		n = nul || end ? -1 : getline(&line, &cap, f);
		if (sink->stop && *sink->stop) {
			/* A signal (a read it interrupted fails): what was read is delivered. */
			snprintf(err, errlen, "%s: interrupted after line %lu", path, x->line);
			ret = -EINTR;
			break;
		}
		if (nul) {
			/*
			 * No JSON text has a NUL byte, and a stream of them (/dev/zero, a binary
			 * file of zeros) may have no newline to end getline's line, ever.
			 */
			x->line++;
			ret = fail(x, NULL, "a NUL byte at the start of the line: binary data, not "
					    "a capture");
			break;
		}
		if (n < 0 && !feof(f) && !ferror(f)) {
			/* getline's own failure (ENOMEM): not the end of the capture */
			ret = errno ? -errno : -ENOMEM;
			snprintf(err, errlen,
				 "%s:%lu: cannot read the line: %s (no record is that long)", path,
				 x->line + 1, strerror(-ret));
			break;
		}
		if (n <= 0)
			break;
		x->line++;
		if (line[n - 1] != '\n') {
			/* The writer always ends a record with a newline. */
			ret = fail(x, NULL, "truncated record (no newline at the end of the file): "
					    "the capture was cut short");
			break;
		}
		line[--n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strspn(line, " \t") == (size_t)n)
			continue;
		ret = handle_line(x, (const unsigned char *)line, (size_t)n, sink, &records);
		if (ret)
			break;
	}
	if (!ret && ferror(f)) {
		ret = -errno;
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
	}
	if (!ret && !records) {
		snprintf(err, errlen, "%s: empty capture: no records (write one with sva-trace --json)",
			 path);
		ret = -ENODATA;
	}
	yajl_free(x->h);
	free(x);
	free(line);
	return ret;
}
