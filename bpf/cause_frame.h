/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Failure provenance, the frame bookkeeping of one thread: pure functions on its in-flight
 * entry, shared by the kernel side (bpf/sva_trace.bpf.c, which finds the entry in its map)
 * and the unit tests (tests/unit/test_cause.c), which drive it with the call sequences of the
 * kernel's bind paths.
 *
 * While a traced call (bind, attach, replace, PASID allocation) is in flight on a thread,
 * every probed function entered on that thread opens a frame (depth + 1, stamped with the
 * count of entries so far). When one returns an error it becomes the cause, unless a frame
 * opened inside it (a larger stamp) already is one that it passed on: the innermost function
 * of the last failing chain. A function that returns success clears a cause from inside it
 * (the error was handled). When the traced call returns, the cause inside it goes into its
 * record.
 *
 * "Passed on" is told by the errno: the SVA path's callers return a probed callee's errno
 * unchanged (6.1, 6.12, 7.2: iommu_sva_bind_device, iommu_attach_device_pasid,
 * __iommu_set_group_pasid, intel_svm_bind/_set_dev_pasid, arm_smmu_sva_set_dev_pasid). A
 * caller that returns another errno handled the callee's error and failed in its own body,
 * e.g. 6.12/7.2 iommu_sva_bind_device: an attach to one of the mm's existing domains fails
 * (-EINVAL, another IOMMU's domain), the loop goes on, and the new domain's allocation fails
 * (-EOPNOTSUPP, inlined). A callee that returned no errno (NULL, no PASID: SVA_CAUSE_NULL,
 * SVA_CAUSE_NO_PASID) is turned into one by its caller (6.1 iommu_sva_alloc_pasid: ioasid_alloc's
 * INVALID_IOASID becomes -ENOMEM), so any errno passes it on.
 */
#ifndef SVA_CAUSE_FRAME_H
#define SVA_CAUSE_FRAME_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define CAUSE_MAX_DEPTH 15

struct inflight {
	__u32 depth; /* frames open on this thread */
	__u32 calls; /* probed functions entered so far */
	__u32 stamp[CAUSE_MAX_DEPTH + 1]; /* calls when the frame at each depth was entered */
	__u32 cause_stamp; /* stamp of the frame that failed */
	__s32 cause_err;
	__u16 cause_func;
	__u8 cause_depth;
	__u8 cause_flags;
	__u32 in_fault; /* iommu_report_device_fault calls open on this thread */
	__u32 changing; /* state-changing calls open on this thread whose entry was counted */
};

/* A traced call's cause, as its record carries it (sva_event.cause_*); zero: none. */
struct cause {
	__s32 err;
	__u16 func;
	__u16 calls;
	__u8 depth;
	__u8 flags;
};

static __always_inline __u32 frame_stamp(const struct inflight *f, __u32 depth)
{
	return depth <= CAUSE_MAX_DEPTH ? f->stamp[depth & CAUSE_MAX_DEPTH] : 0;
}

/* Opens a frame on an entry that is in flight (a traced call's first frame: depth 0). */
static __always_inline void frame_open(struct inflight *f)
{
	__u32 d;

	if (!f->depth)
		f->cause_func = 0;
	d = ++f->depth;
	f->calls++;
	if (d <= CAUSE_MAX_DEPTH)
		f->stamp[d & CAUSE_MAX_DEPTH] = f->calls;
}

/* Whether the frame stamped s returning err passes on the cause found inside it. */
static __always_inline bool cause_passed_on(const struct inflight *f, __u32 s, int err)
{
	if (!f->cause_func || f->cause_stamp <= s)
		return false; /* none inside this call */
	return f->cause_err == err || (f->cause_flags & (SVA_CAUSE_NULL | SVA_CAUSE_NO_PASID));
}

/* Closes the frame of func, which returned err (0: success). */
static __always_inline void frame_exit_at(struct inflight *f, __u16 func, int err, __u8 flags)
{
	__u32 d = f->depth, s;

	if (!d)
		return;
	s = frame_stamp(f, d);
	if (err) {
		/* keep a cause from inside this call that it passed on: it is the innermost */
		if (!cause_passed_on(f, s, err)) {
			f->cause_func = func;
			f->cause_err = err;
			f->cause_depth = d > 255 ? 255 : d;
			f->cause_flags = flags;
			f->cause_stamp = s;
		}
	} else if (f->cause_func && f->cause_stamp > s) {
		f->cause_func = 0; /* handled inside a call that succeeded */
	}
	f->depth = d - 1;
}

/*
 * The traced call func returns err: its cause (or that none inside it failed, or that it
 * failed with another errno than the one inside: its own body) goes into *c, then its frame
 * closes like a callee's (it may be inside another traced call).
 */
static __always_inline void traced_exit_at(struct inflight *f, struct cause *c, __u16 func,
					   int err, __u8 flags)
{
	__u32 d, s, n;

	d = f->depth;
	s = frame_stamp(f, d);
	if (err && d && s) {
		n = f->calls - s;
		c->calls = n > 0xffff ? 0xffff : n;
		if (cause_passed_on(f, s, err)) {
			c->func = f->cause_func;
			c->err = f->cause_err;
			c->depth = f->cause_depth > d ? f->cause_depth - d : 0;
			c->flags = f->cause_flags;
		} else {
			c->func = func;
			c->err = err;
			c->flags = SVA_CAUSE_INLINE | flags;
		}
	}
	frame_exit_at(f, func, err, flags);
}

#endif
