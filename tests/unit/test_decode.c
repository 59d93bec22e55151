// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Records: validation, names, the text line and the JSON object of each type. */
#include <bpf/btf.h>
#include <inttypes.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "tap.h"
#include "cause.h"
#include "kernel.h"
#include "decode.h"

static const unsigned char test_key[PTRHASH_KEY_LEN] = "0123456789abcdef";

static struct sva_event base_event(uint16_t type)
{
	struct sva_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.cpu = 1;
	ev.seq = 7;
	ev.ts_ns = 5000001000ull;
	ev.pid = 101;
	ev.tgid = 100;
	strcpy(ev.comm, "dsa_test");
	ev.mm = 0xffff888012345000ull;
	strcpy(ev.dev_name, "0000:6a:01.0");
	ev.group_id = 12;
	ev.pasid = 3;
	ev.domain = 0xffff888076540000ull;
	ev.domain_type = 0x10;
	ev.users = 1;
	ev.handle = 0xffff888011110000ull;
	ev.stack_id = -1;
	return ev;
}

static yajl_val to_json(const struct sva_event *ev, const struct ptrhash *ph)
{
	struct fmt_opts o = { .t0_ns = 5000000000ull, .ptrs = ph };
	struct json_writer w;
	char jerr[256];
	yajl_val root;

	jw_init(&w);
	sva_event_format_json(&w, ev, &o);
	if (jw_finish(&w)) {
		jw_free(&w);
		return NULL;
	}
	root = yajl_tree_parse(w.buf, jerr, sizeof(jerr));
	if (!root)
		printf("# not JSON: %s (%s)\n", w.buf, jerr);
	jw_free(&w);
	return root;
}

/* The member k of object o, or NULL. */
static yajl_val jget(yajl_val o, const char *k)
{
	const char *path[] = { k, NULL };

	return yajl_tree_get(o, path, yajl_t_any);
}

static const char *jstr(yajl_val o, const char *k)
{
	yajl_val v = jget(o, k);

	return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static long long jint(yajl_val o, const char *k)
{
	yajl_val v = jget(o, k);

	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

TEST(decode_rejects_short_records_and_unknown_types)
{
	struct sva_event ev = base_event(SVA_REC_BIND), out;
	char err[128];

	EXPECT_EQ(sva_event_decode(&ev, sizeof(ev) - 1, &out, err, sizeof(err)), -EINVAL);
	EXPECT_TRUE(strstr(err, "expected 152") != NULL);
	EXPECT_EQ(sva_event_decode(&ev, SVA_EVENT_SIZE_V1 - 1, &out, err, sizeof(err)), -EINVAL);
	ev.type = SVA_REC__MAX;
	EXPECT_EQ(sva_event_decode(&ev, sizeof(ev), &out, err, sizeof(err)), -EINVAL);
	EXPECT_TRUE(strstr(err, "unknown record type") != NULL);
	ev.type = 0;
	EXPECT_EQ(sva_event_decode(&ev, sizeof(ev), &out, err, sizeof(err)), -EINVAL);
	ev.type = SVA_REC_LOOKUP;
	EXPECT_EQ(sva_event_decode(&ev, sizeof(ev), &out, err, sizeof(err)), 0);
	EXPECT_EQ(memcmp(&ev, &out, sizeof(ev)), 0);
}

TEST(every_record_type_has_a_unique_name_that_maps_back)
{
	for (unsigned int t = 1; t < SVA_REC__MAX; t++) {
		const char *name = sva_rec_type_name(t);

		ASSERT_TRUE(name != NULL);
		EXPECT_EQ(sva_rec_type_from_name(name), t);
	}
	EXPECT_TRUE(sva_rec_type_name(0) == NULL);
	EXPECT_EQ(sva_rec_type_from_name("nonsense"), 0);
}

TEST(domain_types_and_errnos_are_named)
{
	EXPECT_STREQ(sva_domain_type_name(0x10), "sva");
	EXPECT_STREQ(sva_domain_type_name(0x01), "unmanaged");
	EXPECT_STREQ(sva_domain_type_name(0x00), "blocked");
	EXPECT_TRUE(sva_domain_type_name(0x1234) == NULL);
	EXPECT_STREQ(sva_errno_name(-16), "EBUSY");
	EXPECT_STREQ(sva_errno_name(-2), "ENOENT");
	EXPECT_STREQ(sva_errno_name(-75), "EOVERFLOW");
	EXPECT_TRUE(sva_errno_name(0) == NULL);
}

TEST(bind_json_has_every_field_with_hashed_pointers)
{
	struct sva_event ev = base_event(SVA_REC_BIND);
	struct ptrhash ph;
	char expect_mm[PTRHASH_STR_LEN], raw_mm[32];
	yajl_val j;

	ptrhash_init_key(&ph, test_key);
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(jstr(j, "type"), "bind");
	EXPECT_EQ(jint(j, "seq"), 7);
	EXPECT_EQ(jint(j, "ts_ns"), 5000001000ll);
	EXPECT_EQ(jint(j, "pid"), 100);
	EXPECT_EQ(jint(j, "tid"), 101);
	EXPECT_EQ(jint(j, "cpu"), 1);
	EXPECT_STREQ(jstr(j, "comm"), "dsa_test");
	EXPECT_STREQ(jstr(j, "dev"), "0000:6a:01.0");
	EXPECT_EQ(jint(j, "group"), 12);
	EXPECT_EQ(jint(j, "pasid"), 3);
	EXPECT_STREQ(jstr(j, "domain_type"), "sva");
	EXPECT_EQ(jint(j, "users"), 1);
	EXPECT_EQ(jint(j, "ret"), 0);
	EXPECT_TRUE(jget(j, "errno") == NULL);
	ptrhash_format(&ph, ev.mm, expect_mm);
	snprintf(raw_mm, sizeof(raw_mm), "0x%016llx", (unsigned long long)ev.mm);
	EXPECT_STREQ(jstr(j, "mm"), expect_mm);
	EXPECT_TRUE(strcmp(jstr(j, "mm"), raw_mm) != 0);
	yajl_tree_free(j);
	ptrhash_free(&ph);
}

TEST(raw_pointers_print_the_real_address)
{
	struct sva_event ev = base_event(SVA_REC_UNBIND);
	struct ptrhash ph;
	yajl_val j;

	ptrhash_init(&ph, true);
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(jstr(j, "handle"), "0xffff888011110000");
	yajl_tree_free(j);
}

TEST(pointer_hash_is_stable_per_key_and_differs_across_keys)
{
	struct ptrhash a, b;
	unsigned char other[PTRHASH_KEY_LEN] = "fedcba9876543210";

	ptrhash_init_key(&a, test_key);
	ptrhash_init_key(&b, other);
	EXPECT_TRUE(ptrhash_map(&a, 0xffff888012345000ull) == ptrhash_map(&a, 0xffff888012345000ull));
	EXPECT_TRUE(ptrhash_map(&a, 0xffff888012345000ull) != ptrhash_map(&b, 0xffff888012345000ull));
	EXPECT_TRUE(ptrhash_map(&a, 0xffff888012345000ull) != ptrhash_map(&a, 0xffff888012345008ull));
	EXPECT_EQ(ptrhash_map(&a, 0), 0);
	ptrhash_free(&a);
	ptrhash_free(&b);
	ASSERT_EQ(ptrhash_init(&a, false), 0);
	ASSERT_EQ(ptrhash_init(&b, false), 0);
	EXPECT_TRUE(memcmp(a.key, b.key, PTRHASH_KEY_LEN) != 0);
	ptrhash_free(&a);
	ptrhash_free(&b);
}

TEST(unknown_fields_are_null_not_sentinels)
{
	struct sva_event ev = base_event(SVA_REC_ATTACH);
	struct ptrhash ph;
	yajl_val j;

	ptrhash_init_key(&ph, test_key);
	ev.users = -1;
	ev.group_id = -1;
	ev.pasid = SVA_PASID_NONE;
	ev.handle = 0;
	ev.dev_name[0] = '\0';
	ev.ret = -16;
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	EXPECT_TRUE(YAJL_IS_NULL(jget(j, "users")));
	EXPECT_TRUE(YAJL_IS_NULL(jget(j, "group")));
	EXPECT_TRUE(YAJL_IS_NULL(jget(j, "pasid")));
	EXPECT_TRUE(YAJL_IS_NULL(jget(j, "handle")));
	EXPECT_TRUE(YAJL_IS_NULL(jget(j, "dev")));
	EXPECT_EQ(jint(j, "ret"), -16);
	EXPECT_STREQ(jstr(j, "errno"), "EBUSY");
	yajl_tree_free(j);
	ptrhash_free(&ph);
}

TEST(hostile_device_and_comm_names_stay_valid_json_and_text)
{
	struct sva_event ev = base_event(SVA_REC_BIND);
	struct fmt_opts o;
	struct ptrhash ph;
	char line[1024];
	yajl_val j;

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 0, .ptrs = &ph };
	memset(ev.dev_name, 0, sizeof(ev.dev_name));
	memcpy(ev.dev_name, "d\"e\\v\n\x01\x7f\xc3\xa9\xff", 11);
	memset(ev.comm, 'x', sizeof(ev.comm)); /* 16 bytes, no NUL */
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(jstr(j, "dev"), "d\"e\\v\n\x01\x7f\xc3\xa9\xef\xbf\xbd");
	EXPECT_STREQ(jstr(j, "comm"), "xxxxxxxxxxxxxxxx");
	yajl_tree_free(j);

	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "d\"e\\x5cv\\x0a\\x01\\x7f\\xc3\\xa9\\xff") != NULL);
	EXPECT_TRUE(strchr(line, '\n') == NULL);
	EXPECT_TRUE(strstr(line, "xxxxxxxxxxxxxxxx ") != NULL);
	ptrhash_free(&ph);
}

/* xorshift64: the same bytes every run */
static uint64_t test_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A kernel char array of random length with bytes drawn mostly from the awkward ones. */
static void random_chars(uint64_t *x, char *s, size_t max)
{
	static const unsigned char odd[] = { 0, 1, 0x1f, ' ', '"', '\\', '~', 0x7f, 0x80, 0xc3,
					      0xa9, 0xff, 'a', 'Z', '0', ':' };
	size_t n = test_rand(x) % (max + 1);

	memset(s, 0, max);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(test_rand(x) & 1 ? 'a' + test_rand(x) % 26 : odd[test_rand(x) % sizeof(odd)]);
}

TEST(own_siphash_of_a_word_is_libsodiums_siphash24_of_its_little_endian_bytes)
{
	uint64_t x = 88172645463325252ull;
	int differ = 0;

	for (int i = 0; i < 20000; i++) {
		unsigned char key[PTRHASH_KEY_LEN], in[8], out[8];
		uint64_t m = test_rand(&x), want;

		for (size_t k = 0; k < sizeof(key); k++)
			key[k] = (unsigned char)test_rand(&x);
		if (i % 4 == 0)
			m &= 0xffffull << (16 * (i % 16 / 4)); /* sparse words too */
		for (int b = 0; b < 8; b++)
			in[b] = (unsigned char)(m >> (8 * b));
		crypto_shorthash_siphash24(out, in, sizeof(in), key);
		want = 0;
		for (int b = 0; b < 8; b++)
			want |= (uint64_t)out[b] << (8 * b);
		differ += ptrhash_siphash24_u64(key, m) != want;
	}
	EXPECT_EQ(differ, 0);
	/* the reference's own first test vector: key 00..0f, message 00..07 */
	{
		unsigned char key[PTRHASH_KEY_LEN];

		for (int k = 0; k < PTRHASH_KEY_LEN; k++)
			key[k] = (unsigned char)k;
		EXPECT_TRUE(ptrhash_siphash24_u64(key, 0x0706050403020100ull) == 0x93f5f5799a932462ull);
	}
}

/* ptrhash.c's hex16 (SSE2 on x86_64, shifts elsewhere): every digit in every place. */
TEST(pointer_hex_digits_are_printfs_for_every_digit_in_every_place)
{
	struct ptrhash raw, keyed;
	uint64_t x = 88172645463325252ull;
	char want[PTRHASH_STR_LEN], buf[16];
	int bad_raw = 0, bad_keyed = 0;

	ptrhash_init(&raw, true);
	ptrhash_init_key(&keyed, test_key);
	for (int i = 0; i < 20000; i++) {
		/* each of the 16 digits, in each of the 16 places, over random others */
		uint64_t ptr = test_rand(&x);

		if (i < 256)
			ptr = (ptr & ~(0xfull << (i / 16 * 4))) | (uint64_t)(i % 16) << (i / 16 * 4);
		snprintf(want, sizeof(want), "0x%016" PRIx64, ptr);
		bad_raw += memcmp(ptrhash_hex(&raw, ptr, buf), want + 2, 16) != 0;
		ptrhash_format(&keyed, ptr, want);
		bad_keyed += memcmp(ptrhash_hex(&keyed, ptr, buf), want + 2, 16) != 0;
	}
	EXPECT_EQ(bad_raw, 0);
	EXPECT_EQ(bad_keyed, 0);
	ptrhash_free(&keyed);
}

TEST(cached_pointer_hashes_and_hex_are_the_uncached_ones_while_the_cache_grows)
{
	struct ptrhash ph, uncached;
	uint64_t x = 88172645463325252ull;
	int differ = 0;

	ptrhash_init_key(&ph, test_key);
	ASSERT_TRUE(ph.cache != NULL);
	uncached = ph;
	uncached.cache = NULL; /* the same key, every pointer hashed */
	/* working sets of 50, 5,000 and 200,000 pointers: hits, growth, then a full cache */
	for (uint64_t set = 50; set <= 200000; set *= 100) {
		for (int i = 0; i < 400000; i++) {
			uint64_t ptr = 0xffff888000000000ull + (test_rand(&x) % set) * 64;

			char a[16], b[16];

			differ += ptrhash_map(&ph, ptr) != ptrhash_map(&uncached, ptr);
			differ += memcmp(ptrhash_hex(&ph, ptr, a), ptrhash_hex(&uncached, ptr, b), 16) != 0;
		}
	}
	EXPECT_EQ(differ, 0);
	EXPECT_EQ(ptrhash_map(&ph, 0), 0);
	ptrhash_free(&ph);
	EXPECT_TRUE(ph.cache == NULL);
	ptrhash_free(&ph); /* twice is harmless */
}

TEST(text_and_json_escape_any_comm_and_device_bytes_like_the_reference_escapers)
{
	struct ptrhash ph;
	struct fmt_opts o;
	char line[1024], cut[1024], want[1024], comm[4 * SVA_COMM_LEN + 1];
	char dev[4 * SVA_DEV_NAME_LEN + 1], jcomm[6 * SVA_COMM_LEN + 1], jdev[6 * SVA_DEV_NAME_LEN + 1];
	struct json_writer w;
	uint64_t x = 88172645463325252ull;
	int bad_text = 0, bad_json = 0, bad_cut = 0;

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 5000000000ull, .ptrs = &ph };
	jw_init(&w);
	for (int i = 0; i < 20000; i++) {
		struct sva_event ev = base_event(SVA_REC_BIND);
		int n;

		random_chars(&x, ev.comm, SVA_COMM_LEN);
		random_chars(&x, ev.dev_name, SVA_DEV_NAME_LEN);
		sva_text_escape(comm, sizeof(comm), ev.comm, SVA_COMM_LEN);
		sva_text_escape(dev, sizeof(dev), ev.dev_name, SVA_DEV_NAME_LEN);
		/* the columns as printf pads them */
		snprintf(want, sizeof(want), "%-13s %-3u %-7u %-16s %-14s %-16s %-5d %-6u %-5d ok ",
			 "0.000001", ev.cpu, ev.tgid, comm, "bind", dev[0] ? dev : "-", ev.group_id,
			 ev.pasid, ev.users);
		n = sva_event_format_text(&ev, &o, line, sizeof(line));
		bad_text += (size_t)n != strlen(line) || strncmp(line, want, strlen(want));
		/* any buffer size: a prefix of the whole line */
		n = sva_event_format_text(&ev, &o, cut, (size_t)(i % 300) + 1);
		bad_cut += (size_t)n != strlen(cut) || strncmp(cut, line, (size_t)n) ||
			   (size_t)n != ((size_t)(i % 300) < strlen(line) ? (size_t)(i % 300) : strlen(line));

		jw_escape(jcomm, sizeof(jcomm), ev.comm, SVA_COMM_LEN);
		jw_escape(jdev, sizeof(jdev), ev.dev_name, SVA_DEV_NAME_LEN);
		jw_reset(&w);
		sva_event_format_json(&w, &ev, &o);
		snprintf(want, sizeof(want), "\"comm\":\"%s\"", jcomm);
		bad_json += jw_finish(&w) || !strstr(w.buf, want);
		if (ev.dev_name[0]) {
			snprintf(want, sizeof(want), "\"dev\":\"%s\"", jdev);
			bad_json += !strstr(w.buf, want);
		}
	}
	jw_free(&w);
	EXPECT_EQ(bad_text, 0);
	EXPECT_EQ(bad_cut, 0);
	EXPECT_EQ(bad_json, 0);
	ptrhash_free(&ph);
}

/* Numbers at every length and across each 10^k and 10^8-group boundary, as printf has them. */
TEST(json_and_text_numbers_are_printfs_at_every_length)
{
	struct ptrhash ph;
	struct fmt_opts o;
	struct json_writer w;
	char line[1024], want[64];
	uint64_t x = 88172645463325252ull, p10 = 1;
	int bad_json = 0, bad_text = 0, n = 0;

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 0, .ptrs = &ph };
	jw_init(&w);
	for (int k = 0; k <= 20; k++) {
		for (int j = 0; j < 40; j++) {
			struct sva_event ev = base_event(SVA_REC_PROC_EXIT);
			uint64_t v = j < 3 ? p10 - 1 + (uint64_t)j : test_rand(&x) % (k < 19 ? p10 * 10 : ~0ull);

			if (k == 20 && j == 3)
				v = ~0ull;
			ev.seq = v;
			ev.ts_ns = v;
			ev.aux = (uint32_t)v;
			ev.tgid = (uint32_t)(v >> 7);
			/* a first thread's tid is its pid's digits again (sva_event_format_json_buf) */
			ev.pid = j % 2 ? ev.tgid : (uint32_t)v;
			jw_reset(&w);
			sva_event_format_json(&w, &ev, &o);
			snprintf(want, sizeof(want), "\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",", v, v);
			bad_json += strstr(w.buf, want) == NULL;
			snprintf(want, sizeof(want), "\"exit_code\":%u,", ev.aux);
			bad_json += strstr(w.buf, want) == NULL;
			snprintf(want, sizeof(want), ",\"pid\":%u,\"tid\":%u,\"comm\":", ev.tgid, ev.pid);
			bad_json += strstr(w.buf, want) == NULL;
			sva_event_format_text(&ev, &o, line, sizeof(line));
			snprintf(want, sizeof(want), " %-7u ", ev.tgid);
			bad_text += strstr(line, want) == NULL;
			snprintf(want, sizeof(want), " exit_code=%u", ev.aux);
			bad_text += strstr(line, want) == NULL;
			/* the TIME column: seconds and microseconds, rounded as %.6f */
			snprintf(want, sizeof(want), "%.6f ", (double)((v / 1000 + (v % 1000 >= 500)) /
								      1000000) +
						      (double)((v / 1000 + (v % 1000 >= 500)) % 1000000) / 1e6);
			bad_text += v < (1ull << 52) && strncmp(line, want, strlen(want));
			n++;
		}
		if (k < 19)
			p10 *= 10;
	}
	EXPECT_EQ(bad_json, 0);
	EXPECT_EQ(bad_text, 0);
	EXPECT_TRUE(n == 21 * 40);
	jw_free(&w);
	ptrhash_free(&ph);
}

TEST(text_lines_of_each_type_say_what_happened)
{
	struct ptrhash ph;
	struct fmt_opts o;
	char line[1024];
	struct sva_event ev;

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 5000000000ull, .ptrs = &ph };

	ev = base_event(SVA_REC_BIND);
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strncmp(line, "0.000001 ", 9) == 0);
	EXPECT_TRUE(strstr(line, " bind ") && strstr(line, "0000:6a:01.0") && strstr(line, " ok"));
	EXPECT_TRUE(strstr(line, "(sva)") != NULL);
	EXPECT_TRUE(strstr(line, "ffff888") == NULL); /* no raw pointer */

	ev = base_event(SVA_REC_UNBIND);
	ev.flags = SVA_EVF_USERS_BEFORE;
	ev.users = 2;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " unbind ") && strstr(line, " 2* "));

	ev = base_event(SVA_REC_LOOKUP);
	ev.ret = -16;
	ev.aux = 0x10;
	ev.domain = 0;
	ev.handle = 0;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " lookup ") && strstr(line, "EBUSY") && strstr(line, "want=sva"));

	ev = base_event(SVA_REC_ATTACH);
	ev.domain_type = 0x01;
	ev.ret = -22;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "EINVAL") && strstr(line, "(unmanaged)"));

	ev = base_event(SVA_REC_PROC_EXIT);
	ev.aux = 9;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " process_exit ") && strstr(line, "exit_code=9"));

	ev = base_event(SVA_REC_PASID_ALLOC);
	ev.ret = 0;
	ev.pasid = 1;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " pasid_alloc ") && strstr(line, " 1 "));
	ptrhash_free(&ph);
}

TEST(text_output_is_truncated_not_overflowed)
{
	struct ptrhash ph;
	struct fmt_opts o;
	struct sva_event ev = base_event(SVA_REC_BIND);
	char line[40];

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 0, .ptrs = &ph };
	memset(line, 'Z', sizeof(line));
	sva_event_format_text(&ev, &o, line, 32);
	EXPECT_EQ(strlen(line), 31);
	EXPECT_EQ(line[33], 'Z');
	ptrhash_free(&ph);
}

TEST(every_type_formats_to_parseable_json_with_its_name)
{
	struct ptrhash ph;

	ptrhash_init_key(&ph, test_key);
	for (unsigned int t = 1; t < SVA_REC__MAX; t++) {
		struct sva_event ev = base_event((uint16_t)t);
		yajl_val j = to_json(&ev, &ph);

		ASSERT_TRUE(j != NULL);
		EXPECT_STREQ(jstr(j, "type"), sva_rec_type_name(t));
		yajl_tree_free(j);
	}
	ptrhash_free(&ph);
}

TEST(a_record_from_before_the_cause_fields_decodes_with_no_cause)
{
	struct sva_event ev = base_event(SVA_REC_BIND), out;
	unsigned char old[SVA_EVENT_SIZE_V1];
	char err[128];

	ev.ret = -28;
	memcpy(old, &ev, sizeof(old));
	/* the old layout's padding held garbage-free zeros; make sure they are not read as a cause */
	memset(old + SVA_EVENT_SIZE_V1 - 4, 0xab, 4);
	ASSERT_EQ(sva_event_decode(old, sizeof(old), &out, err, sizeof(err)), 0);
	EXPECT_EQ(out.ret, -28);
	EXPECT_EQ(out.max_pasids, ev.max_pasids);
	EXPECT_FALSE(sva_event_has_cause(&out));
	EXPECT_EQ(out.cause_err, 0);
	EXPECT_TRUE(sva_cause_explain(&out) == NULL);
}

static struct sva_event failed_bind(unsigned int func, int err, unsigned int depth)
{
	struct sva_event ev = base_event(SVA_REC_BIND);

	ev.ret = -28;
	ev.handle = 0;
	ev.domain = 0;
	ev.users = -1;
	ev.cause_func = (uint16_t)func;
	ev.cause_err = err;
	ev.cause_depth = (uint8_t)depth;
	ev.cause_calls = 2;
	return ev;
}

TEST(a_failed_bind_names_its_cause_in_text_and_json)
{
	struct sva_event ev = failed_bind(SVA_CF_IOMMU_ALLOC_GLOBAL_PASID, -28, 1);
	struct ptrhash ph;
	struct fmt_opts o;
	char line[2048];
	yajl_val j, c;
	const char *path[] = { "cause", NULL };

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 5000000000ull, .ptrs = &ph };
	ev.cause_flags = SVA_CAUSE_NO_PASID;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " ENOSPC ") != NULL);
	EXPECT_TRUE(strstr(line, " cause=iommu_alloc_global_pasid(IOMMU_PASID_INVALID) depth=1: "
				 "no PASID was free below the device's max_pasids") != NULL);
	EXPECT_TRUE(strchr(line, '\n') == NULL);
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	c = yajl_tree_get(j, path, yajl_t_object);
	ASSERT_TRUE(c != NULL);
	EXPECT_STREQ(jstr(c, "function"), "iommu_alloc_global_pasid");
	EXPECT_STREQ(jstr(c, "errno"), "ENOSPC");
	EXPECT_STREQ(jstr(c, "returned"), "IOMMU_PASID_INVALID");
	EXPECT_EQ(jint(c, "ret"), -28);
	EXPECT_EQ(jint(c, "depth"), 1);
	EXPECT_EQ(jint(c, "callees_entered"), 2);
	EXPECT_TRUE(YAJL_IS_FALSE(jget(c, "inline")));
	EXPECT_TRUE(YAJL_IS_NULL(jget(c, "check")));
	EXPECT_TRUE(strstr(jstr(c, "explanation"), "max_pasids is 0") != NULL);
	yajl_tree_free(j);

	/* no cause: no "cause" member, and the text line ends as before */
	ev = base_event(SVA_REC_BIND);
	j = to_json(&ev, &ph);
	ASSERT_TRUE(j != NULL);
	EXPECT_TRUE(jget(j, "cause") == NULL);
	yajl_tree_free(j);
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "cause=") == NULL);
	ptrhash_free(&ph);
}

TEST(explanations_are_specific_to_function_and_errno)
{
	struct sva_event a = failed_bind(SVA_CF_IOMMU_ATTACH_HANDLE_GET, -16, 1);
	struct sva_event b = failed_bind(SVA_CF_IOMMU_ALLOC_MM_DATA, -75, 1);
	struct sva_event c = failed_bind(SVA_CF_IOMMU_ALLOC_MM_DATA, -16, 1);
	struct sva_event d = failed_bind(SVA_CF_MOCK_DOMAIN_SET_DEV_PASID, -12, 2);
	struct sva_event e = failed_bind(SVA_CF_IOMMU_SET_GROUP_PASID, -19, 1);
	struct sva_event f = failed_bind(SVA_CF_IOASID_ALLOC, -5, 1);

	EXPECT_TRUE(strstr(sva_cause_explain(&a), "type mismatch") != NULL);
	EXPECT_TRUE(strstr(sva_cause_explain(&b), "not below this device's max_pasids") != NULL);
	EXPECT_TRUE(strstr(sva_cause_explain(&c), "LAM") != NULL);
	EXPECT_TRUE(strstr(sva_cause_explain(&d), "PASID 1024") != NULL);
	/* a function's catch-all row for an errno without its own */
	EXPECT_TRUE(strstr(sva_cause_explain(&e), "set_dev_pasid failed") != NULL);
	/* a function without any row: named, not invented */
	EXPECT_STREQ(sva_cause_explain(&f), "ioasid_alloc failed; see its source for this errno");
	/* every function has a name that maps back, and every callee is a known function */
	for (unsigned int i = 1; i < SVA_CF__MAX; i++) {
		ASSERT_TRUE(sva_cause_func_name(i) != NULL);
		EXPECT_EQ(sva_cause_func_from_name(sva_cause_func_name(i)), i);
	}
	{
		int n;
		const struct sva_callee *cl = sva_callees(&n);

		EXPECT_GT(n, 10);
		for (int i = 0; i < n; i++)
			EXPECT_STREQ(sva_cause_func_name(cl[i].id), cl[i].func);
	}
}

static struct sva_event inline_failure(uint16_t type, int ret, unsigned int calls)
{
	struct sva_event ev = base_event(type);

	ev.ret = ret;
	ev.cause_func = type == SVA_REC_BIND ? SVA_CF_IOMMU_SVA_BIND_DEVICE :
			type == SVA_REC_ATTACH ? SVA_CF_IOMMU_ATTACH_DEVICE_PASID :
			type == SVA_REC_REPLACE ? SVA_CF_IOMMU_REPLACE_DEVICE_PASID :
						  SVA_CF_IOMMU_ALLOC_GLOBAL_PASID;
	ev.cause_err = ret;
	ev.cause_flags = SVA_CAUSE_INLINE;
	ev.cause_calls = (uint16_t)calls;
	return ev;
}

/* The check resolved for an inline failure on a kernel, by name ("" for none). */
static const char *check_on(struct sva_event ev, const char *release, const char *machine)
{
	struct sva_kernel_facts k;
	const char *name;

	sva_kernel_facts_init(&k, release, machine);
	sva_cause_resolve(&ev, &k);
	name = sva_inline_check_name(ev.cause_check);
	return name ? name : "";
}

TEST(inline_checks_are_named_per_kernel_generation)
{
	struct sva_event eop = inline_failure(SVA_REC_BIND, -95, 0);

	/* the CONFIG_X86 SVA disable: x86 6.1.y, 6.12.y, 6.18.y; nothing was called */
	EXPECT_STREQ(check_on(eop, "6.12.74+deb13-amd64", "x86_64"), "x86-sva-disabled");
	EXPECT_STREQ(check_on(eop, "6.1.0-56-cloud-amd64", "x86_64"), "x86-sva-disabled");
	EXPECT_STREQ(check_on(eop, "6.18.7-gentoo", "x86_64"), "x86-sva-disabled");
	/* not on arm64, not on 7.x (upstream has the real fix), not after a probed call */
	EXPECT_STREQ(check_on(eop, "6.12.74+deb13-arm64", "aarch64"), "");
	EXPECT_STREQ(check_on(eop, "7.2.13+deb14-amd64", "x86_64"), "");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -95, 2), "7.2.13", "x86_64"),
		     "no-domain-alloc-sva");
	/* other bind checks */
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -75, 1), "7.2.13", "x86_64"),
		     "mm-pasid-above-max-pasids");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -16, 0), "7.2.13", "x86_64"),
		     "mm-pgtable-incompatible");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -16, 2), "7.2.13", "x86_64"),
		     "pasid-bound-to-other-mm");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -19, 0), "6.12.118", "x86_64"),
		     "no-iommu-group");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -19, 0), "6.1.192", "x86_64"),
		     "no-sva-bind-op");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_BIND, -22, 0), "6.1.192", "x86_64"),
		     "group-has-several-devices");
	/* attach, replace, PASID allocation */
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_ATTACH, -16, 0), "7.2.13", "x86_64"),
		     "pasid-in-use");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_ATTACH, -22, 0), "7.2.13", "x86_64"),
		     "pasid-out-of-range-or-foreign-domain");
	{
		struct sva_event r = inline_failure(SVA_REC_ATTACH, -16, 0);

		r.flags |= SVA_EVF_GROUP_RESETTING;
		EXPECT_STREQ(check_on(r, "7.2.13", "x86_64"), "group-resetting");
	}
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_REPLACE, -22, 0), "7.2.13", "x86_64"),
		     "replace-invalid");
	EXPECT_STREQ(check_on(inline_failure(SVA_REC_PASID_ALLOC, -28, 0), "7.2.13", "x86_64"),
		     "no-free-pasid");
	/* an unknown kernel names nothing rather than guessing */
	EXPECT_STREQ(check_on(eop, NULL, NULL), "");
	/* the explanation follows the check; an unnamed one says what is known */
	{
		struct sva_event x = eop;
		struct sva_kernel_facts k;

		sva_kernel_facts_init(&k, "6.12.74", "x86_64");
		sva_cause_resolve(&x, &k);
		EXPECT_TRUE(strstr(sva_cause_explain(&x), "72f98ef9a4be") != NULL);
		EXPECT_TRUE(strstr(sva_cause_explain(&eop), "no probed function") != NULL);
	}
	for (unsigned int i = 1; i < SVA_IC__MAX; i++) {
		ASSERT_TRUE(sva_inline_check_name(i) != NULL);
		EXPECT_EQ(sva_inline_check_from_name(sva_inline_check_name(i)), i);
	}
}

TEST(a_callees_failure_value_is_decided_from_its_btf_return_type)
{
	struct btf *btf = btf__new_empty();
	int i32, u32, ioasid, cint, ptr, proto;

	ASSERT_TRUE(btf != NULL);
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	ioasid = btf__add_typedef(btf, "ioasid_t", u32);
	cint = btf__add_const(btf, i32);
	ptr = btf__add_ptr(btf, 0);
	ASSERT_TRUE(ptr > 0 && cint > 0 && ioasid > 0);
	proto = btf__add_func_proto(btf, ioasid);
	btf__add_func(btf, "iommu_alloc_global_pasid", BTF_FUNC_GLOBAL, proto);
	proto = btf__add_func_proto(btf, ptr);
	btf__add_func(btf, "iommu_sva_domain_alloc", BTF_FUNC_STATIC, proto);
	proto = btf__add_func_proto(btf, cint);
	btf__add_func(btf, "__iommu_set_group_pasid", BTF_FUNC_STATIC, proto);
	proto = btf__add_func_proto(btf, 0);
	btf__add_func(btf, "iommu_detach_device_pasid", BTF_FUNC_GLOBAL, proto);

	EXPECT_EQ(sva_btf_ret_kind(btf, "iommu_alloc_global_pasid", SVA_RET_INT), SVA_RET_PASID);
	EXPECT_EQ(sva_btf_ret_kind(btf, "iommu_sva_domain_alloc", SVA_RET_INT), SVA_RET_PTR);
	EXPECT_EQ(sva_btf_ret_kind(btf, "__iommu_set_group_pasid", SVA_RET_PTR), SVA_RET_INT);
	/* void, absent, or no BTF at all: the table's kind */
	EXPECT_EQ(sva_btf_ret_kind(btf, "iommu_detach_device_pasid", SVA_RET_PTR), SVA_RET_PTR);
	EXPECT_EQ(sva_btf_ret_kind(btf, "intel_svm_bind", SVA_RET_PTR), SVA_RET_PTR);
	EXPECT_EQ(sva_btf_ret_kind(NULL, "iommu_alloc_global_pasid", SVA_RET_INT), SVA_RET_INT);
	/* by the FUNC's id (the loader's plan finds it), the same answers; a non-FUNC id: the table's */
	EXPECT_EQ(sva_btf_func_ret_kind(btf, btf__find_by_name_kind(btf, "iommu_alloc_global_pasid",
								   BTF_KIND_FUNC), SVA_RET_INT),
		  SVA_RET_PASID);
	EXPECT_EQ(sva_btf_func_ret_kind(btf, btf__find_by_name_kind(btf, "iommu_sva_domain_alloc",
								   BTF_KIND_FUNC), SVA_RET_INT),
		  SVA_RET_PTR);
	EXPECT_EQ(sva_btf_func_ret_kind(btf, ioasid, SVA_RET_INT), SVA_RET_INT);
	EXPECT_EQ(sva_btf_func_ret_kind(btf, 9999, SVA_RET_PTR), SVA_RET_PTR);
	btf__free(btf);
}

/*
 * A kernel thread's record (a kworker running a deferred release) says so, in text and in
 * JSON, and only then: the leak rule does not take a kernel thread for a user of the mm.
 */
TEST(a_kernel_threads_record_says_kthread_and_no_other_does)
{
	struct ptrhash ph;
	struct fmt_opts o;
	char line[1024];
	struct sva_event ev;
	yajl_val root;

	ptrhash_init_key(&ph, test_key);
	o = (struct fmt_opts){ .t0_ns = 5000000000ull, .ptrs = &ph };
	ev = base_event(SVA_REC_UNBIND);
	ev.flags = SVA_EVF_USERS_BEFORE | SVA_EVF_KTHREAD;
	strcpy(ev.comm, "kworker/1:2");
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, " kthread") != NULL);
	root = to_json(&ev, &ph);
	ASSERT_TRUE(root != NULL);
	EXPECT_TRUE(YAJL_IS_TRUE(jget(root, "kthread")));
	yajl_tree_free(root);
	ev.flags = SVA_EVF_USERS_BEFORE;
	sva_event_format_text(&ev, &o, line, sizeof(line));
	EXPECT_TRUE(strstr(line, "kthread") == NULL);
	root = to_json(&ev, &ph);
	ASSERT_TRUE(root != NULL);
	EXPECT_TRUE(jget(root, "kthread") == NULL);
	yajl_tree_free(root);
	ptrhash_free(&ph);
}
