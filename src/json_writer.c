// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

void jw_init(struct json_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct json_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jw_reset(struct json_writer *w)
{
	w->len = 0;
	w->depth = 0;
	w->after_name = false;
	w->failed = false;
	memset(w->need_comma, 0, sizeof(w->need_comma));
	if (w->buf)
		w->buf[0] = '\0';
}

int jw_finish(const struct json_writer *w)
{
	return (w->failed || w->depth != 0 || w->after_name) ? -EINVAL : 0;
}

static bool reserve(struct json_writer *w, size_t more)
{
	size_t need = w->len + more + 1;
	char *nbuf;
	size_t ncap;

	if (w->failed)
		return false;
	if (need <= w->cap)
		return true;
	ncap = w->cap ? w->cap : 256;
	while (ncap < need)
		ncap *= 2;
	nbuf = realloc(w->buf, ncap);
	if (!nbuf) {
		w->failed = true;
		return false;
	}
	w->buf = nbuf;
	w->cap = ncap;
	return true;
}

static void put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Separator before a value or a name, depending on where we are. */
static void before_value(struct json_writer *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		put(w, ",", 1);
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void open(struct json_writer *w, char c)
{
	before_value(w);
	if (w->depth >= JW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	put(w, &c, 1);
	w->need_comma[w->depth++] = false;
}

static void close_(struct json_writer *w, char c)
{
	if (w->depth <= 0 || w->after_name) {
		w->failed = true;
		return;
	}
	w->depth--;
	put(w, &c, 1);
}

void jw_newline(struct json_writer *w)
{
	if (w->depth != 0 || w->after_name) {
		w->failed = true;
		return;
	}
	put(w, "\n", 1);
}

void jw_start_object(struct json_writer *w)
{
	open(w, '{');
}

void jw_end_object(struct json_writer *w)
{
	close_(w, '}');
}

void jw_start_array(struct json_writer *w)
{
	open(w, '[');
}

void jw_end_array(struct json_writer *w)
{
	close_(w, ']');
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Bytes that stand for themselves in a JSON string: printable ASCII but " (0x22) and \\ (0x5c). */
static const bool plain_ascii[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

size_t jw_escape(char *out, size_t outlen, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strnlen(str, max), i = 0, o = 0;
	char esc[8];

#define EMIT(p, n)                                                   \
	do {                                                         \
		size_t n_ = (n);                                     \
		if (o + n_ < outlen)                                 \
			memcpy(out + o, (p), n_);                    \
		o += n_;                                             \
	} while (0)

	while (i < len) {
		unsigned char c = s[i];
		size_t seq, run;

		/* Most strings are printable ASCII with nothing to escape: copy runs of it. */
		for (run = i; run < len && plain_ascii[s[run]]; run++)
			;
		if (run > i) {
			EMIT(s + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '"': EMIT("\\\"", 2); i++; continue;
		case '\\': EMIT("\\\\", 2); i++; continue;
		case '\b': EMIT("\\b", 2); i++; continue;
		case '\f': EMIT("\\f", 2); i++; continue;
		case '\n': EMIT("\\n", 2); i++; continue;
		case '\r': EMIT("\\r", 2); i++; continue;
		case '\t': EMIT("\\t", 2); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			EMIT(esc, 6);
			i++;
			continue;
		}
		seq = utf8_seq_len(s + i, len - i);
		if (!seq) {
			EMIT("\\ufffd", 6);
			i++;
			continue;
		}
		EMIT(s + i, seq);
		i += seq;
	}
#undef EMIT
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
	return o;
}

void jw_string_n(struct json_writer *w, const char *s, size_t max)
{
	size_t len = strnlen(s, max), worst = 6 * len;

	before_value(w);
	/* One pass: room for the worst case (every byte a \uXXXX escape), then escape. */
	if (!reserve(w, worst + 2))
		return;
	w->buf[w->len++] = '"';
	w->len += jw_escape(w->buf + w->len, worst + 1, s, len);
	w->buf[w->len++] = '"';
	w->buf[w->len] = '\0';
}

void jw_raw(struct json_writer *w, const char *json, size_t n)
{
	before_value(w);
	put(w, json, n);
}

char *jw_raw_begin(struct json_writer *w, size_t max)
{
	before_value(w);
	return reserve(w, max) ? w->buf + w->len : NULL;
}

void jw_raw_end(struct json_writer *w, size_t n)
{
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_fail(struct json_writer *w)
{
	w->failed = true;
}

void jw_string(struct json_writer *w, const char *s)
{
	jw_string_n(w, s, SIZE_MAX);
}

void jw_name(struct json_writer *w, const char *name)
{
	if (w->depth <= 0 || w->after_name) {
		w->failed = true;
		return;
	}
	jw_string(w, name);
	put(w, ":", 1);
	w->after_name = true;
}

/* Decimal digits of v, written backwards from end; returns the first. (snprintf was a
 * sixth of the instructions of a JSON event line.) */
static char *u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void jw_uint(struct json_writer *w, uint64_t v)
{
	char num[24], *p = u64_digits(v, num + sizeof(num));

	before_value(w);
	put(w, p, (size_t)(num + sizeof(num) - p));
}

void jw_int(struct json_writer *w, int64_t v)
{
	char num[24], *p = u64_digits(v < 0 ? -(uint64_t)v : (uint64_t)v, num + sizeof(num));

	if (v < 0)
		*--p = '-';
	before_value(w);
	put(w, p, (size_t)(num + sizeof(num) - p));
}

void jw_bool(struct json_writer *w, bool v)
{
	before_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jw_null(struct json_writer *w)
{
	before_value(w);
	put(w, "null", 4);
}

void jw_string_field(struct json_writer *w, const char *name, const char *s)
{
	jw_name(w, name);
	jw_string(w, s);
}

void jw_uint_field(struct json_writer *w, const char *name, uint64_t v)
{
	jw_name(w, name);
	jw_uint(w, v);
}

void jw_int_field(struct json_writer *w, const char *name, int64_t v)
{
	jw_name(w, name);
	jw_int(w, v);
}

void jw_bool_field(struct json_writer *w, const char *name, bool v)
{
	jw_name(w, name);
	jw_bool(w, v);
}

void jw_null_field(struct json_writer *w, const char *name)
{
	jw_name(w, name);
	jw_null(w);
}
