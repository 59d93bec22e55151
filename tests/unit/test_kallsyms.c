// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/kallsyms parsing (which functions a kprobe could attach to) and kernel.c's sizing. */
#include "tap.h"
#include "kernel.h"

static const char sample[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81234560 T iommu_sva_bind_device\n"
	"ffffffff81234990 t iommu_sva_alloc_pasid\n"
	"ffffffff81300000 D iommu_attach_handle_get\n" /* data: not a function */
	"ffffffffc0001000 t mm_pasid_drop\t[some_module]\n"
	"0000000000000000 T iommu_attach_device_pasid\n" /* kptr_restrict: names still count */
	"garbage line\n";

TEST(text_symbols_are_found_data_and_module_symbols_are_not)
{
	FILE *f = fmemopen((void *)sample, sizeof(sample) - 1, "r");
	struct kallsyms *ks = kallsyms_parse(f);

	fclose(f);
	ASSERT_TRUE(ks != NULL);
	EXPECT_TRUE(kallsyms_has_func(ks, "iommu_sva_bind_device"));
	EXPECT_TRUE(kallsyms_has_func(ks, "iommu_sva_alloc_pasid"));
	EXPECT_TRUE(kallsyms_has_func(ks, "iommu_attach_device_pasid"));
	EXPECT_FALSE(kallsyms_has_func(ks, "iommu_attach_handle_get"));
	EXPECT_FALSE(kallsyms_has_func(ks, "mm_pasid_drop"));
	EXPECT_FALSE(kallsyms_has_func(ks, "iommu_sva_bind"));
	kallsyms_free(ks);
}

TEST(empty_kallsyms_has_nothing)
{
	FILE *f = fmemopen((void *)"", 0, "r");
	struct kallsyms *ks;

	if (!f)
		f = fopen("/dev/null", "r");
	ks = kallsyms_parse(f);
	fclose(f);
	ASSERT_TRUE(ks != NULL);
	EXPECT_FALSE(kallsyms_has_func(ks, "iommu_sva_bind_device"));
	kallsyms_free(ks);
}

/* The same reader feeds stack symbolization: there module symbols count, zero addresses not. */
TEST(stack_addresses_resolve_to_the_symbol_at_or_below_them_module_ones_included)
{
	FILE *f = fmemopen((void *)sample, sizeof(sample) - 1, "r");
	struct ksym_table *t = ksym_table_parse(f);
	char buf[128];

	fclose(f);
	ASSERT_TRUE(t != NULL);
	EXPECT_STREQ(ksym_resolve(t, 0xffffffff81234568ull, buf, sizeof(buf)),
		     "iommu_sva_bind_device+0x8");
	EXPECT_STREQ(ksym_resolve(t, 0xffffffff81234990ull, buf, sizeof(buf)),
		     "iommu_sva_alloc_pasid+0x0");
	/* data symbols are not functions: the text symbol before it still owns the address */
	EXPECT_STREQ(ksym_resolve(t, 0xffffffff81300010ull, buf, sizeof(buf)),
		     "iommu_sva_alloc_pasid+0xcb680");
	EXPECT_STREQ(ksym_resolve(t, 0xffffffffc0001004ull, buf, sizeof(buf)), "mm_pasid_drop+0x4");
	/* below the first symbol: the zero-address line was not kept as a symbol at 0 */
	EXPECT_STREQ(ksym_resolve(t, 0x1000, buf, sizeof(buf)), "0x1000");
	ksym_table_free(t);
}

/* Both loaders read the running kernel's /proc/kallsyms through the same parser. */
TEST(both_tables_load_this_kernels_kallsyms)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr = 0;
	char line[512], name[256], type;
	bool found = false;
	struct kallsyms *ks;
	struct ksym_table *t;
	char buf[128];

	if (!f)
		SKIP("/proc/kallsyms is not readable here");
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 &&
			(type == 'T' || type == 't') && !strcmp(name, "schedule") && !strchr(line, '[');
	fclose(f);
	if (!found)
		SKIP("no 'schedule' text symbol in /proc/kallsyms (hidden symbols)");
	ks = kallsyms_load();
	t = ksym_table_load();
	ASSERT_TRUE(ks != NULL);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(kallsyms_has_func(ks, "schedule"));
	EXPECT_FALSE(kallsyms_has_func(ks, "no_such_function_in_any_kernel"));
	/* kptr_restrict shows zeros to the unprivileged: then nothing resolves, by design */
	if (addr)
		EXPECT_STREQ(ksym_resolve(t, addr + 1, buf, sizeof(buf)), "schedule+0x1");
	kallsyms_free(ks);
	ksym_table_free(t);
}

/*
 * The per-thread LRU maps on many CPUs (kernel.c sva_thread_map_entries): 6.1 hands each CPU
 * 128 free nodes at a time and evicts in-use entries once the shared list is empty, so the
 * map needs two such batches a possible CPU, never fewer entries than the object's own.
 */
TEST(per_thread_lru_maps_have_two_of_61s_batches_a_cpu_within_the_floor_and_the_cap)
{
	EXPECT_EQ(sva_thread_map_entries(4096, 1), 4096u);	/* the lab guest: the object's */
	EXPECT_EQ(sva_thread_map_entries(4096, 16), 4096u);	/* 16 x 256: just the floor */
	EXPECT_EQ(sva_thread_map_entries(4096, 17), 4352u);
	EXPECT_EQ(sva_thread_map_entries(10240, 64), 16384u);
	EXPECT_EQ(sva_thread_map_entries(4096, 512), 131072u);
	EXPECT_EQ(sva_thread_map_entries(4096, 8192), 131072u);	/* the cap */
	EXPECT_EQ(sva_thread_map_entries(1u << 18, 8192), 1u << 18); /* never below the floor */
	EXPECT_EQ(sva_thread_map_entries(4096, 0), 4096u);	/* CPUs unknown */
	EXPECT_EQ(sva_thread_map_entries(4096, -22), 4096u);
	/* 6.1's batch is 128 nodes: at least two a CPU whenever the cap allows */
	for (int n = 1; n <= 512; n++)
		EXPECT_TRUE(sva_thread_map_entries(4096, n) >= 2u * 128u * (unsigned int)n);
}
