// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Failure provenance: the kernel side's frame rule (bpf/cause_frame.h), driven with the call
 * sequences of the kernels' bind paths, and the explanations of src/cause.c checked against
 * what each function returns in Debian's linux-source-6.1, -6.12 and -7.2.
 */
#include <linux/types.h>
#include <stdbool.h>
#include <string.h>

#include "tap.h"
#include "cause.h"
#include "correlate.h"
#include "../../bpf/cause_frame.h"

/* ---- the frame rule ---- */

static void enter(struct inflight *f)
{
	frame_open(f);
}

static void leave(struct inflight *f, unsigned int func, int err, __u8 flags)
{
	frame_exit_at(f, (__u16)func, err, flags);
}

static struct cause leave_traced(struct inflight *f, unsigned int func, int err)
{
	struct cause c;

	memset(&c, 0, sizeof(c));
	traced_exit_at(f, &c, (__u16)func, err, 0);
	return c;
}

/*
 * 7.2 iommu_sva_bind_device: the attach to the mm's existing domain (another IOMMU's) fails
 * with -EINVAL and the loop goes on; the new domain's allocation (iommu_sva_domain_alloc,
 * inlined) fails with -EOPNOTSUPP. The bind failed in its own body, not in the attach.
 */
TEST(a_callee_error_the_caller_handled_is_not_the_cause_of_another_errno)
{
	struct inflight f;
	struct cause c;

	memset(&f, 0, sizeof(f));
	enter(&f); /* iommu_sva_bind_device */
	enter(&f); /* iommu_attach_device_pasid, nested traced call */
	(void)leave_traced(&f, SVA_CF_IOMMU_ATTACH_DEVICE_PASID, -EINVAL);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_BIND_DEVICE, -EOPNOTSUPP);
	EXPECT_EQ(c.func, SVA_CF_IOMMU_SVA_BIND_DEVICE);
	EXPECT_EQ(c.err, -EOPNOTSUPP);
	EXPECT_TRUE(c.flags & SVA_CAUSE_INLINE);
	EXPECT_EQ(c.calls, 1);
	EXPECT_EQ(f.depth, 0);
}

/* A probed callee that ignores its own callee's -ENOMEM and fails with -EINVAL is named. */
TEST(a_callee_that_swallowed_an_error_and_failed_itself_is_named)
{
	struct inflight f;
	struct cause c;

	memset(&f, 0, sizeof(f));
	enter(&f); /* iommu_sva_bind_device */
	enter(&f); /* the driver's op, depth 1 */
	enter(&f); /* a callee of it, depth 2 */
	leave(&f, SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -ENOMEM, 0);
	leave(&f, SVA_CF_INTEL_SVM_SET_DEV_PASID, -EINVAL, 0);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_BIND_DEVICE, -EINVAL);
	EXPECT_EQ(c.func, SVA_CF_INTEL_SVM_SET_DEV_PASID);
	EXPECT_EQ(c.err, -EINVAL);
	EXPECT_EQ(c.depth, 1);
	EXPECT_FALSE(c.flags & SVA_CAUSE_INLINE);
}

/* 7.2: bind -> attach -> __iommu_set_group_pasid -> set_dev_pasid -> PASID entry in use. */
TEST(an_error_passed_up_unchanged_names_the_innermost_function)
{
	struct inflight f;
	struct cause c;

	memset(&f, 0, sizeof(f));
	enter(&f); /* iommu_sva_bind_device */
	enter(&f); /* iommu_alloc_mm_data */
	enter(&f); /* iommu_alloc_global_pasid */
	leave(&f, SVA_CF_IOMMU_ALLOC_GLOBAL_PASID, 0, 0);
	leave(&f, SVA_CF_IOMMU_ALLOC_MM_DATA, 0, 0);
	enter(&f); /* iommu_attach_device_pasid */
	enter(&f); /* __iommu_set_group_pasid */
	enter(&f); /* intel_svm_set_dev_pasid */
	enter(&f); /* intel_pasid_setup_first_level */
	leave(&f, SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -EBUSY, 0);
	leave(&f, SVA_CF_INTEL_SVM_SET_DEV_PASID, -EBUSY, 0);
	leave(&f, SVA_CF_IOMMU_SET_GROUP_PASID, -EBUSY, 0);
	(void)leave_traced(&f, SVA_CF_IOMMU_ATTACH_DEVICE_PASID, -EBUSY);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_BIND_DEVICE, -EBUSY);
	EXPECT_EQ(c.func, SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL);
	EXPECT_EQ(c.err, -EBUSY);
	EXPECT_EQ(c.depth, 4);
	EXPECT_EQ(c.calls, 6);
}

/*
 * A NULL or "no PASID" return has no errno of its own: the caller's is a translation.
 * 6.1 iommu_sva_alloc_pasid: ioasid_alloc's INVALID_IOASID becomes -ENOMEM.
 */
TEST(a_null_or_no_pasid_return_is_the_cause_of_whatever_errno_the_caller_makes)
{
	struct inflight f;
	struct cause c;

	memset(&f, 0, sizeof(f));
	enter(&f); /* iommu_sva_alloc_pasid (traced) */
	enter(&f); /* ioasid_alloc */
	leave(&f, SVA_CF_IOASID_ALLOC, -ENOSPC, SVA_CAUSE_NO_PASID);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_ALLOC_PASID, -ENOMEM);
	EXPECT_EQ(c.func, SVA_CF_IOASID_ALLOC);
	EXPECT_EQ(c.err, -ENOSPC);
	EXPECT_TRUE(c.flags & SVA_CAUSE_NO_PASID);
	EXPECT_FALSE(c.flags & SVA_CAUSE_INLINE);

	memset(&f, 0, sizeof(f));
	enter(&f);
	enter(&f); /* a pointer-returning callee that returned NULL */
	leave(&f, SVA_CF_INTEL_SVM_BIND, -ENOMEM, SVA_CAUSE_NULL);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_BIND_DEVICE, -EINVAL);
	EXPECT_EQ(c.func, SVA_CF_INTEL_SVM_BIND);
}

/* A failure handled inside a call that then succeeds is forgotten (as before). */
TEST(an_error_handled_inside_a_successful_call_is_no_cause)
{
	struct inflight f;
	struct cause c;

	memset(&f, 0, sizeof(f));
	enter(&f); /* bind */
	enter(&f); /* a callee */
	enter(&f);
	leave(&f, SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -EBUSY, 0);
	leave(&f, SVA_CF_INTEL_SVM_SET_DEV_PASID, 0, 0);
	c = leave_traced(&f, SVA_CF_IOMMU_SVA_BIND_DEVICE, -EBUSY);
	EXPECT_EQ(c.func, SVA_CF_IOMMU_SVA_BIND_DEVICE);
	EXPECT_TRUE(c.flags & SVA_CAUSE_INLINE);
}

/* ---- the explanations, per kernel function and errno ---- */

static const char *explain(unsigned int func, int err)
{
	struct sva_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = SVA_REC_BIND;
	ev.ret = err;
	ev.cause_func = (uint16_t)func;
	ev.cause_err = err;
	ev.cause_depth = 1;
	return sva_cause_explain(&ev);
}

static bool says(unsigned int func, int err, const char *what)
{
	const char *text = explain(func, err);

	return text && strstr(text, what);
}

/* 6.1 intel/svm.c intel_svm_bind: its own errors are about a supervisor PASID. */
TEST(intel_svm_bind_explains_its_supervisor_pasid_checks)
{
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_BIND, -EOPNOTSUPP, "ecap.SRS"));
	EXPECT_FALSE(says(SVA_CF_INTEL_SVM_BIND, -EOPNOTSUPP, "IOMMU_DEV_FEAT_SVA"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_BIND, -EINVAL, "user mm"));
	EXPECT_FALSE(says(SVA_CF_INTEL_SVM_BIND, -EINVAL, "ATS"));
	/* nothing on its path returns -ENODEV but a probed callee: no invented reason */
	EXPECT_STREQ(explain(SVA_CF_INTEL_SVM_BIND, -ENODEV),
		     "intel_svm_bind failed; see its source for this errno");
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_BIND, -ENOMEM, "out of memory"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_BIND_MM, -ENOMEM, "out of memory"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_ALLOC_PASID, -EOVERFLOW, "EOVERFLOW"));
}

/* intel/pasid.c, all three: -ENODEV is the missing PASID table entry, not -EINVAL. */
TEST(intel_pasid_setup_first_level_tells_einval_from_enodev)
{
	EXPECT_TRUE(says(SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -EINVAL, "ecap.FLTS"));
	EXPECT_FALSE(says(SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -EINVAL, "PASID table entry"));
	EXPECT_TRUE(says(SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -ENODEV, "no PASID table entry"));
	EXPECT_TRUE(says(SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, -EBUSY, "already present"));
}

/* 7.2 only checks SVA support in the SVA domain ops; an entry in use is EBUSY elsewhere. */
TEST(intel_svm_domain_ops_say_which_generation_checks_sva_support)
{
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_DOMAIN_ALLOC, -EINVAL, "7.2"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_DOMAIN_ALLOC, -ENODEV, "7.2"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_SET_DEV_PASID, -EINVAL, "7.2"));
	EXPECT_FALSE(says(SVA_CF_INTEL_SVM_SET_DEV_PASID, -EINVAL, "in use"));
	EXPECT_TRUE(says(SVA_CF_INTEL_SVM_SET_DEV_PASID, -ENOMEM, "out of memory"));
}

/* amd/pasid.c 6.12, 7.2 */
TEST(amd_explanations_match_what_the_driver_checks)
{
	EXPECT_FALSE(says(SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA, -ENOMEM, "PPR"));
	EXPECT_TRUE(says(SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA, -ENOMEM, "mmu notifier"));
	EXPECT_FALSE(says(SVA_CF_AMD_SVA_SET_DEV_PASID, -EINVAL, "GCR3"));
	EXPECT_TRUE(says(SVA_CF_AMD_SVA_SET_DEV_PASID, -EINVAL, "returned as -EINVAL"));
	EXPECT_TRUE(says(SVA_CF_AMD_SVA_SET_DEV_PASID, -ENOMEM, "GCR3"));
}

/* arm-smmu-v3*.c 6.1, 6.12, 7.2 */
TEST(smmuv3_explanations_match_what_the_driver_checks)
{
	EXPECT_TRUE(says(SVA_CF_ARM_SMMU_SVA_BIND, -EINVAL, "stage-1"));
	EXPECT_TRUE(says(SVA_CF_ARM_SMMU_SVA_BIND_INNER, -ENODEV, "IOMMU_DEV_FEAT_SVA"));
	EXPECT_TRUE(says(SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC, -EBUSY, "ASID"));
	EXPECT_TRUE(says(SVA_CF_ARM_SMMU_SET_PASID, -EINVAL, "another SMMUv3"));
	EXPECT_FALSE(says(SVA_CF_ARM_SMMU_SET_PASID, -EINVAL, "ssid_bits"));
	EXPECT_TRUE(says(SVA_CF_ARM_SMMU_SET_PASID, -ENOMEM, "context-descriptor"));
}

/* the core: iommu-sva.c 6.12 vs 7.2, iommu.c, 6.1 ioasid.c */
TEST(core_explanations_cover_every_reason_of_their_errno)
{
	EXPECT_TRUE(says(SVA_CF_IOMMU_SVA_DOMAIN_ALLOC, -ENOMEM, "6.12"));
	EXPECT_TRUE(says(SVA_CF_IOMMU_ATTACH_DEVICE_PASID, -ENOMEM, "xa_insert"));
	EXPECT_TRUE(says(SVA_CF_IOASID_ALLOC, -ENOSPC, "out of memory"));
	EXPECT_TRUE(says(SVA_CF_MOCK_DOMAIN_SET_DEV_PASID, -ENOMEM, "PASID 1024"));
}

/* Without a cause, the errno's list: the CONFIG_X86 disable and 6.1's group rule. */
TEST(a_bind_errno_without_a_cause_lists_the_common_reasons)
{
	EXPECT_TRUE(strstr(bind_errno_explanation(-EOPNOTSUPP), "CONFIG_X86") != NULL);
	EXPECT_TRUE(strstr(bind_errno_explanation(-EINVAL), "IOMMU group") != NULL);
	EXPECT_TRUE(strstr(bind_errno_explanation(-EBUSY), "already attached") != NULL);
}

/* 6.12 iommu_sva_domain_alloc has no -EOPNOTSUPP (it falls back to domain_alloc); 7.2 has. */
TEST(no_domain_alloc_sva_is_named_only_where_the_kernel_has_that_check)
{
	struct sva_kernel_facts k612, k72;
	struct sva_event a, b;

	memset(&a, 0, sizeof(a));
	a.type = SVA_REC_BIND;
	a.ret = -EOPNOTSUPP;
	a.cause_func = SVA_CF_IOMMU_SVA_BIND_DEVICE;
	a.cause_err = -EOPNOTSUPP;
	a.cause_flags = SVA_CAUSE_INLINE;
	a.cause_calls = 2;
	b = a;
	sva_kernel_facts_init(&k612, "6.12.118", "aarch64");
	sva_kernel_facts_init(&k72, "7.2.13", "aarch64");
	sva_cause_resolve(&a, &k612);
	sva_cause_resolve(&b, &k72);
	EXPECT_EQ(a.cause_check, SVA_IC_UNKNOWN);
	EXPECT_EQ(b.cause_check, SVA_IC_NO_DOMAIN_ALLOC_SVA);
}
