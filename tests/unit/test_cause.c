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

/* ---- the state-changing calls open on a thread (calls_push, calls_pop, calls_drop) ---- */

/*
 * One thread's counted calls, as bpf/sva_trace.bpf.c counts them: entered, returned (with
 * the lost ones found out), unmatched returns, lost returns. sp: the probe's context address
 * on the thread's kernel stack, lower for a call nested deeper.
 */
struct counts {
	struct inflight f;
	unsigned int entered, returned, unmatched, lost;
};

static void c_enter(struct counts *c, __u8 func, __u64 sp)
{
	bool counted;
	__u32 lost = calls_push(&c->f, func, sp, &counted);

	c->lost += lost;
	c->returned += lost;
	c->entered += counted;
}

static void c_return(struct counts *c, __u8 func)
{
	__u32 lost;

	if (!calls_pop(&c->f, func, &lost)) {
		c->unmatched++;
		return;
	}
	c->lost += lost;
	c->returned += lost + 1;
}

static void c_exit(struct counts *c)
{
	__u32 n = calls_drop(&c->f);

	c->lost += n;
	c->returned += n;
}

/* In flight, as a state read sees it: entered - returned. */
static unsigned int c_in_flight(const struct counts *c)
{
	return c->entered - c->returned;
}

/* 7.2: bind calls attach (deeper on the stack), unbind calls detach: both balance. */
TEST(nested_calls_are_counted_in_flight_until_the_outer_returns)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_BIND, 0x9000);
	c_enter(&c, SVA_CALL_ATTACH, 0x8e00);
	EXPECT_EQ(c_in_flight(&c), 2u);
	c_return(&c, SVA_CALL_ATTACH);
	EXPECT_EQ(c_in_flight(&c), 1u); /* the bind is still in its critical section */
	c_return(&c, SVA_CALL_BIND);
	c_enter(&c, SVA_CALL_UNBIND, 0x9000);
	c_enter(&c, SVA_CALL_DETACH, 0x8e00);
	c_return(&c, SVA_CALL_DETACH);
	c_return(&c, SVA_CALL_UNBIND);
	EXPECT_EQ(c_in_flight(&c), 0u);
	EXPECT_EQ(c.entered, 4u);
	EXPECT_EQ(c.unmatched, 0u);
	EXPECT_EQ(c.lost, 0u);
}

/*
 * The review's hole: the attach's entry program skipped by the trampoline (another thread
 * preempted inside it on this CPU). Its return must not take the bind's count: with one
 * counter per thread it did, and a read during the rest of the bind looked quiet.
 */
TEST(an_inner_return_whose_entry_was_skipped_does_not_take_the_outer_calls_count)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_BIND, 0x9000);
	/* attach entered at 0x8e00, its entry program skipped: nothing pushed */
	c_return(&c, SVA_CALL_ATTACH);
	EXPECT_EQ(c.unmatched, 1u);
	EXPECT_EQ(c_in_flight(&c), 1u); /* the bind is still in flight */
	c_return(&c, SVA_CALL_BIND);
	EXPECT_EQ(c_in_flight(&c), 0u);
	EXPECT_EQ(c.lost, 0u);
}

/*
 * A return program skipped (or a kretprobe instance missing): the unbind stays open. Before,
 * it was in flight for good and every later re-sync was declined; the thread's next counted
 * call at the same depth (the same ioctl path: the same stack address) or above it cannot
 * be inside it, so it returned.
 */
TEST(a_call_whose_return_was_not_seen_is_counted_returned_at_the_threads_next_call)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_UNBIND, 0x9000);
	c_enter(&c, SVA_CALL_DETACH, 0x8e00);
	c_return(&c, SVA_CALL_DETACH);
	/* the unbind's return is not seen */
	EXPECT_EQ(c_in_flight(&c), 1u);
	c_enter(&c, SVA_CALL_BIND, 0x9000);
	EXPECT_EQ(c.lost, 1u);
	EXPECT_EQ(c_in_flight(&c), 1u); /* the bind alone */
	c_return(&c, SVA_CALL_BIND);
	EXPECT_EQ(c_in_flight(&c), 0u);
	/* above it (a shallower path) too */
	c_enter(&c, SVA_CALL_UNBIND, 0x9000);
	c_enter(&c, SVA_CALL_BIND, 0x9100);
	EXPECT_EQ(c.lost, 2u);
	EXPECT_EQ(c_in_flight(&c), 1u);
}

/* A deeper call may be inside the open one: it is not taken for returned. */
TEST(a_deeper_call_leaves_the_open_one_in_flight)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_UNBIND, 0x9000);
	c_enter(&c, SVA_CALL_BIND, 0x8000);
	EXPECT_EQ(c.lost, 0u);
	EXPECT_EQ(c_in_flight(&c), 2u);
	c_return(&c, SVA_CALL_BIND);
	EXPECT_EQ(c_in_flight(&c), 1u);
}

/*
 * An inner call's return not seen: the outer's return pops it too (it returned before its
 * caller did), instead of finding the wrong function on top and leaving both in flight.
 */
TEST(an_outer_return_pops_the_inner_calls_whose_return_was_not_seen)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_BIND, 0x9000);
	c_enter(&c, SVA_CALL_ATTACH, 0x8e00);
	/* the attach's return is not seen */
	c_return(&c, SVA_CALL_BIND);
	EXPECT_EQ(c.lost, 1u);
	EXPECT_EQ(c.unmatched, 0u);
	EXPECT_EQ(c_in_flight(&c), 0u);
}

/*
 * The thread exits (sched_process_exit, in do_exit: inside none of these calls): what is
 * open returned unseen. Its release-path unbinds after that count afresh.
 */
TEST(a_threads_exit_counts_what_it_left_open_as_returned)
{
	struct counts c = { 0 };

	c_enter(&c, SVA_CALL_BIND, 0x9000);
	c_enter(&c, SVA_CALL_ATTACH, 0x8e00);
	c_exit(&c);
	EXPECT_EQ(c.lost, 2u);
	EXPECT_EQ(c_in_flight(&c), 0u);
	c_enter(&c, SVA_CALL_UNBIND, 0x9400); /* exit_files -> release -> unbind */
	EXPECT_EQ(c_in_flight(&c), 1u);
	c_return(&c, SVA_CALL_UNBIND);
	EXPECT_EQ(c_in_flight(&c), 0u);
	EXPECT_EQ(c.lost, 2u);
}

/* More calls open than the stack holds: the extra one is not counted, its return unmatched. */
TEST(a_call_beyond_the_stack_is_not_counted_and_its_return_is_unmatched)
{
	struct counts c = { 0 };
	__u64 sp = 0x9000;

	for (int i = 0; i < CALL_STACK; i++, sp -= 0x100)
		c_enter(&c, SVA_CALL_BIND, sp);
	EXPECT_EQ(c.entered, (unsigned int)CALL_STACK);
	c_enter(&c, SVA_CALL_ATTACH, sp);
	EXPECT_EQ(c.entered, (unsigned int)CALL_STACK);
	c_return(&c, SVA_CALL_ATTACH);
	EXPECT_EQ(c.unmatched, 1u);
	EXPECT_EQ(c_in_flight(&c), (unsigned int)CALL_STACK);
	for (int i = 0; i < CALL_STACK; i++)
		c_return(&c, SVA_CALL_BIND);
	EXPECT_EQ(c_in_flight(&c), 0u);
	EXPECT_EQ(c.lost, 0u);
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
