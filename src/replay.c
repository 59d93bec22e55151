// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decode.h"
#include "replay.h"

struct ctx {
	const char *path;
	unsigned long line;
	char *err;
	size_t errlen;
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

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* Integer field in [min, max]; absent or null gives dflt when allowed. */
static int get_int(struct ctx *x, json_t *o, const char *name, int64_t min, int64_t max,
		   bool required, bool nullable, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(o, name);
	json_int_t i;

	if (!v || json_is_null(v)) {
		if ((!v && required) || (v && !nullable))
			return fail(x, name, v ? "expected an integer, got null" : "missing");
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v))
		return fail(x, name, "expected an integer%s, got %s", nullable ? " or null" : "",
			    json_kind(v));
	i = json_integer_value(v);
	if (i < min || i > max)
		return fail(x, name, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
			    (int64_t)i, min, max);
	*out = i;
	return 0;
}

/* "0x..." pointer string or null. */
static int get_ptr(struct ctx *x, json_t *o, const char *name, __u64 *out)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	char *end;

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(x, name, "expected a pointer string \"0x...\" or null, got %s",
			    json_kind(v));
	s = json_string_value(v);
	if (strncmp(s, "0x", 2) || !s[2] || strlen(s) > 18 ||
	    strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
		return fail(x, name, "expected a pointer string \"0x\" + 1 to 16 hex digits, got \"%.40s\"", s);
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return 0;
}

static int get_str(struct ctx *x, json_t *o, const char *name, char *dst, size_t max,
		   bool required)
{
	json_t *v = json_object_get(o, name);
	size_t len;

	memset(dst, 0, max);
	if (!v || json_is_null(v)) {
		if (required)
			return fail(x, name, "missing");
		return 0;
	}
	if (!json_is_string(v))
		return fail(x, name, "expected a string, got %s", json_kind(v));
	len = json_string_length(v);
	if (len > max)
		return fail(x, name, "%zu bytes, more than the kernel's %zu", len, max);
	if (memchr(json_string_value(v), '\0', len))
		return fail(x, name, "contains a NUL character");
	memcpy(dst, json_string_value(v), len);
	return 0;
}

static int parse_event(struct ctx *x, json_t *o, unsigned int type, struct sva_event *ev)
{
	int64_t v;
	int ret = 0;
	json_t *b;

	memset(ev, 0, sizeof(*ev));
	ev->type = (uint16_t)type;
#define INT(name, min, max, req, nul, dflt, dst)                                   \
	do {                                                                       \
		ret = get_int(x, o, name, min, max, req, nul, dflt, &v);           \
		if (ret)                                                           \
			return ret;                                                \
		dst = v;                                                           \
	} while (0)
	INT("seq", 0, INT64_MAX, true, false, 0, ev->seq);
	INT("ts_ns", 0, INT64_MAX, true, false, 0, ev->ts_ns);
	INT("cpu", 0, UINT32_MAX, false, false, 0, ev->cpu);
	INT("pid", 0, UINT32_MAX, true, false, 0, ev->tgid);
	INT("tid", 0, UINT32_MAX, false, false, ev->tgid, ev->pid);
	INT("group", -1, INT32_MAX, false, true, -1, ev->group_id);
	INT("pasid", 0, SVA_PASID_NONE - 1, false, true, SVA_PASID_NONE, ev->pasid);
	INT("domain_type_raw", 0, UINT32_MAX, false, false, UINT32_MAX, ev->domain_type);
	INT("users", -1, INT32_MAX, false, true, -1, ev->users);
	INT("ret", -4095, INT64_MAX, false, false, 0, ev->ret);
	INT("max_pasids", 0, UINT32_MAX, false, false, 0, ev->max_pasids);
	INT("stack_id", -1, INT32_MAX, false, false, -1, ev->stack_id);
	if (type == SVA_REC_LOOKUP)
		INT("want_type_raw", 0, UINT32_MAX, false, false, UINT32_MAX, ev->aux);
	if (type == SVA_REC_PROC_EXIT)
		INT("exit_code", 0, UINT32_MAX, false, false, 0, ev->aux);
#undef INT
	if ((ret = get_str(x, o, "comm", ev->comm, SVA_COMM_LEN, false)) ||
	    (ret = get_str(x, o, "dev", ev->dev_name, SVA_DEV_NAME_LEN, false)) ||
	    (ret = get_ptr(x, o, "mm", &ev->mm)) || (ret = get_ptr(x, o, "domain", &ev->domain)) ||
	    (ret = get_ptr(x, o, "handle", &ev->handle)))
		return ret;
	b = json_object_get(o, "users_before_call");
	if (b && !json_is_null(b)) {
		if (!json_is_boolean(b))
			return fail(x, "users_before_call", "expected a boolean, got %s", json_kind(b));
		if (json_is_true(b))
			ev->flags |= SVA_EVF_USERS_BEFORE;
	}
	b = json_object_get(o, "probe");
	if (json_is_string(b) && !strcmp(json_string_value(b), "kprobe"))
		ev->flags |= SVA_EVF_KPROBE;
	return 0;
}

/*
 * jansson reports where parsing stopped, not in which member: find the
 * last "name": before that position so the message can name the field.
 */
static bool key_near(const char *line, size_t pos, char *key, size_t keylen)
{
	size_t i = pos, end, start;

	while (i > 1) {
		i--;
		if (line[i] != ':')
			continue;
		end = i;
		while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
			end--;
		if (end < 2 || line[end - 1] != '"')
			continue;
		start = end - 1;
		while (start > 0 && line[start - 1] != '"')
			start--;
		if (start == 0)
			return false;
		if (end - 1 - start >= keylen)
			return false;
		memcpy(key, line + start, end - 1 - start);
		key[end - 1 - start] = '\0';
		return key[0] != '\0';
	}
	return false;
}

static int handle_line(struct ctx *x, const char *line, size_t len, const struct replay_sink *s,
		       unsigned long *records)
{
	json_error_t jerr;
	json_t *o, *t;
	const char *type;
	unsigned int rec;
	struct sva_event ev;
	int64_t v;
	int ret = 0;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		char key[64];

		if (key_near(line, jerr.position > 0 ? (size_t)jerr.position : 0, key, sizeof(key)))
			return fail(x, key, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
		return fail(x, NULL, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
	}
	if (!json_is_object(o)) {
		ret = fail(x, NULL, "expected a JSON object, got %s", json_kind(o));
		goto out;
	}
	t = json_object_get(o, "type");
	if (!json_is_string(t)) {
		ret = fail(x, "type", t ? "expected a string, got %s" : "missing%s",
			   t ? json_kind(t) : "");
		goto out;
	}
	type = json_string_value(t);
	(*records)++;
	rec = sva_rec_type_from_name(type);
	if (rec) {
		ret = parse_event(x, o, rec, &ev);
		if (!ret && s->on_event)
			s->on_event(&ev, s->ctx);
	} else if (!strcmp(type, "start")) {
		json_t *p = json_object_get(o, "pointers");

		ret = get_int(x, o, "ts_ns", 0, INT64_MAX, true, false, 0, &v);
		if (!ret && p && !json_is_string(p))
			ret = fail(x, "pointers", "expected \"hashed\" or \"raw\", got %s", json_kind(p));
		if (!ret && s->on_start)
			s->on_start((uint64_t)v, p && !strcmp(json_string_value(p), "raw"), s->ctx);
	} else if (!strcmp(type, "lost")) {
		int64_t ts;

		ret = get_int(x, o, "count", 0, INT64_MAX, true, false, 0, &v);
		if (!ret)
			ret = get_int(x, o, "ts_ns", 0, INT64_MAX, false, false, 0, &ts);
		if (!ret && s->on_lost)
			s->on_lost((uint64_t)v, (uint64_t)ts, s->ctx);
	} else if (!strcmp(type, "summary")) {
		ret = get_int(x, o, "ts_ns", 0, INT64_MAX, false, false, 0, &v);
		if (!ret && v && s->on_end)
			s->on_end((uint64_t)v, s->ctx);
	} else if (!strcmp(type, "finding") || !strcmp(type, "check")) {
		/* Findings are recomputed; a check table carries no events. */
	} else {
		ret = fail(x, "type", "unknown record type \"%.40s\"", type);
	}
out:
	json_decref(o);
	return ret;
}

int replay_stream(FILE *f, const char *path, const struct replay_sink *sink, char *err,
		  size_t errlen)
{
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	unsigned long records = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	while ((n = getline(&line, &cap, f)) > 0) {
		x.line++;
		if (line[n - 1] != '\n') {
			/* The writer always ends a record with a newline. */
			ret = fail(&x, NULL, "truncated record (no newline at the end of the file): "
					     "the capture was cut short");
			break;
		}
		line[--n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strspn(line, " \t") == (size_t)n)
			continue;
		ret = handle_line(&x, line, (size_t)n, sink, &records);
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
	free(line);
	return ret;
}
