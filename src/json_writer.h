/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small JSON writer into a growable buffer: typed emitters, commas
 * handled lazily, nesting depth checked. Strings are escaped per RFC 8259:
 * quote, backslash and every control character are escaped, valid UTF-8
 * passes through, and bytes that are not valid UTF-8 become U+FFFD.
 */
#ifndef SVA_JSON_WRITER_H
#define SVA_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool need_comma[JW_MAX_DEPTH];
	bool after_name;
	bool failed; /* out of memory or misuse; the buffer is not JSON */
};

void jw_init(struct json_writer *w);
void jw_free(struct json_writer *w);
/* Forget the contents, keep the allocation. */
void jw_reset(struct json_writer *w);
/* 0 when the document is complete (all containers closed), -EINVAL otherwise. */
int jw_finish(const struct json_writer *w);

/* A newline after a complete document. */
void jw_newline(struct json_writer *w);

void jw_start_object(struct json_writer *w);
void jw_end_object(struct json_writer *w);
void jw_start_array(struct json_writer *w);
void jw_end_array(struct json_writer *w);
void jw_name(struct json_writer *w, const char *name);

void jw_string(struct json_writer *w, const char *s);
/* At most max bytes of s, stopping at a NUL: for fixed kernel char arrays. */
void jw_string_n(struct json_writer *w, const char *s, size_t max);
void jw_uint(struct json_writer *w, uint64_t v);
void jw_int(struct json_writer *w, int64_t v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
/* A value already formatted as valid JSON (the caller vouches for it), written as is. */
void jw_raw(struct json_writer *w, const char *json, size_t n);
/*
 * A value of at most max bytes written straight into the buffer (the caller vouches that
 * it is valid JSON): where to write it, or NULL when the writer failed (out of memory).
 * jw_raw_end() with the length written then.
 */
char *jw_raw_begin(struct json_writer *w, size_t max);
void jw_raw_end(struct json_writer *w, size_t n);
/* Marks the document broken: jw_finish() will refuse it. */
void jw_fail(struct json_writer *w);

void jw_string_field(struct json_writer *w, const char *name, const char *s);
void jw_uint_field(struct json_writer *w, const char *name, uint64_t v);
void jw_int_field(struct json_writer *w, const char *name, int64_t v);
void jw_bool_field(struct json_writer *w, const char *name, bool v);
void jw_null_field(struct json_writer *w, const char *name);

/* Escape into a caller's buffer (used by tests); returns bytes needed. */
size_t jw_escape(char *out, size_t outlen, const char *s, size_t max);

#endif
