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
#define CALL_STACK 2 /* a power of 2; the SVA path nests two (bind -> attach, unbind -> detach) */

/* The state-changing calls a re-sync must not read across (calls_push, calls_pop). */
enum sva_call {
	SVA_CALL_BIND = 1,
	SVA_CALL_UNBIND,
	SVA_CALL_ATTACH,
	SVA_CALL_REPLACE,
	SVA_CALL_DETACH,
};

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
	/* state-changing calls open on this thread whose entry was counted (calls_push) */
	__u64 call_sp[CALL_STACK]; /* where each was entered on the thread's kernel stack */
	__u8 call_func[CALL_STACK]; /* which (enum sva_call) */
	__u8 ncalls;
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

/*
 * ---- the state-changing calls open on a thread ----
 *
 * The probes count the entries and returns of bind, unbind, attach, replace and detach so
 * that a state read knows none was in flight across it (bpf/sva_trace.bpf.c calls_entered).
 * A return counts only against an entry its thread counted, and only against its own
 * function's: each thread keeps a stack of the calls it has open, each with the address its
 * probe ran at on the thread's kernel stack (the trampoline's or kprobe's context). The stack
 * grows down on x86_64 and arm64, and these functions sleep (mutexes): they run in process
 * context, on the task's stack. So:
 * - a call nested in another (attach in bind, detach in unbind) is entered at a lower address
 *   than its caller; a call entered at or above an open one's address is not inside it, so
 *   that one returned and its return was not seen (a return program the trampoline skipped,
 *   a kretprobe instance the kernel did not have): it is dropped, counted as returned and
 *   lost, rather than left in flight for good;
 * - a return pops its own function's frame and the frames above it (calls inside it, which
 *   returned before it did, unseen); a return whose function has no frame (its entry was
 *   skipped or began before the probes) pops nothing: it does not take an outer call's count.
 * At the thread's exit (sched_process_exit, not inside any of these calls) what is left is
 * lost too (calls_drop).
 */

/*
 * An index into the stack that the verifier sees bounded: the compiler, knowing the value from
 * a comparison just made, would drop the mask and index with a copy whose bound the verifier
 * lost (6.1: "R5 max value is outside of the allowed memory range"); the empty asm hides it.
 */
#ifdef __bpf__
#define CALL_IDX(x) ({ __u32 __i = (x); asm volatile("" : "+r"(__i)); __i & (CALL_STACK - 1); })
#else
#define CALL_IDX(x) ((__u32)(x) & (CALL_STACK - 1))
#endif

/*
 * A counted call func entered at sp: drops the open calls it cannot be inside (returned
 * unseen) and pushes it; *counted says whether there was room (a call not pushed is not
 * counted, and its return is then unmatched). Returns how many were dropped.
 */
static __always_inline __u32 calls_push(struct inflight *f, __u8 func, __u64 sp, bool *counted)
{
	__u32 n = f->ncalls, lost = 0;

	for (int i = 0; i < CALL_STACK; i++) {
		if (!n || n > CALL_STACK || f->call_sp[CALL_IDX(n - 1)] > sp)
			break;
		n--;
		lost++;
	}
	*counted = n < CALL_STACK;
	if (*counted) {
		n = CALL_IDX(n);
		f->call_sp[n] = sp;
		f->call_func[n] = func;
		n++;
	}
	f->ncalls = n;
	return lost;
}

/*
 * The return of func: pops its topmost frame and those above it. Returns whether it had one
 * (false: an unmatched return); *lost gets the frames above it (inner calls returned unseen).
 */
static __always_inline bool calls_pop(struct inflight *f, __u8 func, __u32 *lost)
{
	__u32 n = f->ncalls;

	*lost = 0;
	for (int i = CALL_STACK - 1; i >= 0; i--) {
		if ((__u32)i < n && f->call_func[i] == func) {
			*lost = n - 1 - i;
			f->ncalls = i;
			return true;
		}
	}
	return false;
}

/* The thread exits: every call still open returned unseen. Returns how many. */
static __always_inline __u32 calls_drop(struct inflight *f)
{
	__u32 n = f->ncalls;

	f->ncalls = 0;
	return n;
}

#endif
