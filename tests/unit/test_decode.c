// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Records: validation, names, the text line and the JSON object of each type. */
#include <yajl/yajl_tree.h>

#include "tap.h"
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
	EXPECT_TRUE(strstr(err, "expected 144") != NULL);
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
	ASSERT_EQ(ptrhash_init(&a, false), 0);
	ASSERT_EQ(ptrhash_init(&b, false), 0);
	EXPECT_TRUE(memcmp(a.key, b.key, PTRHASH_KEY_LEN) != 0);
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
}
