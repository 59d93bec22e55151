// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Failure provenance: the kernel side's frame rule (bpf/cause_frame.h), driven with the call
 * sequences of the kernels' bind paths.
 */
#include <linux/types.h>
#include <stdbool.h>
#include <string.h>

#include "tap.h"
#include "cause.h"
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
