// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON writer: structure, escaping, and that yajl reads back what we meant. */
#include <yajl/yajl_parse.h>

#include "tap.h"
#include "json_writer.h"

/* The one string value of {"s": <value>}, with its length (a \u0000 in it counts). */
struct decoded {
	char *s;
	size_t len;
	int strings;
};

static int on_string(void *ctx, const unsigned char *str, size_t len)
{
	struct decoded *d = ctx;

	if (d->strings++)
		return 0;
	d->s = malloc(len + 1);
	if (!d->s)
		return 0;
	memcpy(d->s, str, len);
	d->s[len] = '\0';
	d->len = len;
	return 1;
}

static const yajl_callbacks string_callbacks = { .yajl_string = on_string };

/* Writes {"s": <input>} and returns what a real JSON parser decodes for "s". */
static char *roundtrip(const char *input, size_t max, size_t *outlen)
{
	struct decoded d = { 0 };
	struct json_writer w;
	yajl_handle h = NULL;
	char *copy = NULL;

	jw_init(&w);
	jw_start_object(&w);
	jw_name(&w, "s");
	jw_string_n(&w, input, max);
	jw_end_object(&w);
	if (jw_finish(&w))
		goto out;
	h = yajl_alloc(&string_callbacks, NULL, &d);
	if (!h)
		goto out;
	if (yajl_parse(h, (const unsigned char *)w.buf, w.len) != yajl_status_ok ||
	    yajl_complete_parse(h) != yajl_status_ok) {
		unsigned char *e = yajl_get_error(h, 0, NULL, 0);

		printf("# yajl rejected %s: %s\n", w.buf, e ? (char *)e : "?");
		yajl_free_error(h, e);
		free(d.s);
		goto out;
	}
	if (d.strings == 1) {
		copy = d.s;
		*outlen = d.len;
	} else {
		free(d.s);
	}
out:
	if (h)
		yajl_free(h);
	jw_free(&w);
	return copy;
}

TEST(every_control_character_is_escaped_and_round_trips)
{
	for (int c = 1; c < 0x20; c++) {
		char in[4] = { 'a', (char)c, 'b', 0 }, esc[32];
		size_t n = 0;
		char *out;

		jw_escape(esc, sizeof(esc), in, sizeof(in));
		for (const char *p = esc; *p; p++)
			ASSERT_TRUE((unsigned char)*p >= 0x20);
		out = roundtrip(in, sizeof(in), &n);
		ASSERT_TRUE(out != NULL);
		EXPECT_EQ(n, 3);
		EXPECT_EQ(memcmp(out, in, 3), 0);
		free(out);
	}
}

TEST(delete_quote_and_backslash_are_escaped)
{
	char esc[64];
	size_t n = 0;
	char *out;

	jw_escape(esc, sizeof(esc), "a\"b\\c\x7f", 64);
	EXPECT_STREQ(esc, "a\\\"b\\\\c\\u007f");
	out = roundtrip("a\"b\\c\x7f", 64, &n);
	ASSERT_TRUE(out != NULL);
	EXPECT_STREQ(out, "a\"b\\c\x7f");
	free(out);
}

TEST(valid_utf8_device_names_pass_through)
{
	const char *names[] = { "caf\xc3\xa9", "\xe2\x82\xac" "dev", "\xf0\x9f\x98\x80",
				"\xef\xbf\xbf" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = 0;
		char *out = roundtrip(names[i], 64, &n);

		ASSERT_TRUE(out != NULL);
		EXPECT_STREQ(out, names[i]);
		free(out);
	}
}

TEST(invalid_utf8_becomes_replacement_character)
{
	/* lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF, 0xff */
	const char *bad[] = { "a\x80z", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
			      "\xff" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 0;
		char *out = roundtrip(bad[i], 64, &n);

		ASSERT_TRUE(out != NULL);
		EXPECT_TRUE(strstr(out, "\xef\xbf\xbd") != NULL);
		free(out);
	}
}

TEST(string_n_stops_at_the_bound_of_an_unterminated_array)
{
	char comm[4] = { 'a', 'b', 'c', 'd' }; /* no NUL, as a full kernel comm */
	size_t n = 0;
	char *out = roundtrip(comm, sizeof(comm), &n);

	ASSERT_TRUE(out != NULL);
	EXPECT_EQ(n, 4);
	EXPECT_STREQ(out, "abcd");
	free(out);
}

TEST(nested_containers_get_commas_in_the_right_places)
{
	struct json_writer w;

	jw_init(&w);
	jw_start_object(&w);
	jw_uint_field(&w, "a", 1);
	jw_name(&w, "b");
	jw_start_array(&w);
	jw_int(&w, -2);
	jw_start_object(&w);
	jw_end_object(&w);
	jw_null(&w);
	jw_bool(&w, true);
	jw_end_array(&w);
	jw_uint_field(&w, "max", UINT64_MAX);
	jw_end_object(&w);
	ASSERT_EQ(jw_finish(&w), 0);
	EXPECT_STREQ(w.buf, "{\"a\":1,\"b\":[-2,{},null,true],\"max\":18446744073709551615}");
	jw_free(&w);
}

TEST(unbalanced_documents_are_reported)
{
	struct json_writer w;

	jw_init(&w);
	jw_start_object(&w);
	EXPECT_NE(jw_finish(&w), 0);
	jw_end_object(&w);
	EXPECT_EQ(jw_finish(&w), 0);
	jw_end_object(&w); /* one too many */
	EXPECT_NE(jw_finish(&w), 0);
	jw_reset(&w);
	jw_start_object(&w);
	jw_name(&w, "dangling");
	jw_end_object(&w);
	EXPECT_NE(jw_finish(&w), 0);
	jw_free(&w);
}

TEST(depth_limit_is_enforced)
{
	struct json_writer w;

	jw_init(&w);
	for (int i = 0; i < JW_MAX_DEPTH + 1; i++)
		jw_start_array(&w);
	EXPECT_TRUE(w.failed);
	jw_free(&w);
}
