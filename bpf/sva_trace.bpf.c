// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace kernel side: one record per SVA/PASID operation into a ring
 * buffer, look-ups counted per CPU.
 *
 * Every probe exists twice: as fentry/fexit (preferred: arguments and
 * return value in one program, no entry stash) and as kprobe/kretprobe
 * (kernels or lockdown settings that refuse fentry). Userspace picks one
 * flavor per function before load and disables the other with
 * bpf_program__set_autoload(); functions missing from the running kernel
 * get neither.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sva_trace.h"
#include "core_fixes.bpf.h"
#include "cause_frame.h"

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
#define ENOENT 2
#define EBUSY 16
#define ENOSPC 28
#define ENOMEM 12

/*
 * Knobs, set by userspace through skel->rodata before load. There are no
 * filters here: --pid, --comm, --dev and --pasid choose what is shown
 * (src/filter.c); the correlator needs every record of a bond's history,
 * whoever runs it (an unbind from a kworker, a PASID freed where the mm is
 * dropped).
 */
const volatile bool all_lookups = false;
const volatile bool want_stacks = false;
/*
 * The kernel has iommu_alloc_global_pasid (6.6+): on 6.6 and 6.7 the static
 * iommu_sva_alloc_pasid calls it, and the outer record alone is kept.
 */
const volatile bool global_pasid_alloc = false;

/*
 * Failure provenance: the function and return kind of each callee program slot, set by
 * the loader for the callees the running kernel has (src/cause.c lists them).
 */
const volatile __u16 slot_func[SVA_CALLEE_SLOTS] = {};
const volatile __u8 slot_ret[SVA_CALLEE_SLOTS] = {};

/* Next sequence number; records that could not be queued leave a gap. */
__u64 next_seq = 0;

/* When the reader was last woken (event_submit rations wake-ups). */
__u64 last_wakeup_ns = 0;
#define WAKEUP_INTERVAL_NS 10000000ull /* 10 ms: at most ~100 wake-ups a second */

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h, unchanged since 2.6 */
#define PF_EXITING 0x00000004 /* include/linux/sched.h, unchanged since 2.6 */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * Records the ring buffer had no room for, per CPU. Per-CPU is not enough
 * to make "+= 1" safe: fentry and kprobe programs run preemptible (only
 * migration is disabled), so two programs can interleave on one CPU. Every
 * counter is incremented with an atomic add.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * The hash maps allocate entries when first used (BPF_F_NO_PREALLOC): a
 * preallocated per-CPU map of 16384 entries costs 16384 x 32 bytes per
 * possible CPU (128 MiB on a 256-CPU server) and was 80 ms of a 0.5 s start-up
 * under QEMU TCG. Tracing programs may use such maps from 6.1 on, where the BPF
 * memory allocator made run-time allocation safe in any context (earlier
 * kernels WARN for kprobe and raw_tp programs; 6.1 is our oldest).
 */

/* iommu_attach_handle_get results per (group, PASID), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct sva_lookup_key);
	__type(value, struct sva_lookup_count);
} lookups SEC(".maps");

/* Processes that bound, unbound, attached or detached something: their exit is recorded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} sva_tgids SEC(".maps");

/* mm_structs that were bound: exit_mmap of one is recorded (SVA_REC_MM_EXIT). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} sva_mms SEC(".maps");

/* Arguments kept from entry for the return (kprobe flavor; PASID allocation in both). */
struct entry_key {
	__u64 pid_tgid;
	__u32 probe;
	__u32 __pad;
};

struct entry_args {
	__u64 arg[4];
};

/*
 * LRU: a thread whose return was never seen (a kretprobe instance the kernel
 * did not have, counted as missed; a program detached mid-call) leaves its
 * entry behind, and the oldest such entries make room instead of new calls
 * failing to stash.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct entry_key);
	__type(value, struct entry_args);
} entries SEC(".maps");

/* Kernel stacks for --stacks; userspace shrinks it to 1 entry otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

/*
 * ---- failure provenance ----
 *
 * The frames and the cause rule: cause_frame.h. Outside traced calls a callee program finds
 * no entry, or its thread's entry at depth 0, and returns: that look-up is the whole cost on
 * every other path.
 */

/*
 * A thread's entry is made at its first traced call and kept (depth 0 between calls):
 * a map update and delete per call cost more than the call's other probes together
 * (measured under TCG: kprobe_bind 35.7 against 1.8 us). LRU: the entries of threads
 * gone, or of a call whose return we never saw (a kretprobe missed), make room. The loader
 * gives it (and entries) 256 entries a possible CPU on large machines: 6.1's LRU evicts
 * entries in use past max_entries / 128 CPUs (src/kernel.c sva_thread_map_entries).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* This thread's in-flight entry; made (zeroed: depth 0) when create and it has none. */
static __always_inline struct inflight *thread_entry(bool create)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct inflight *f = bpf_map_lookup_elem(&inflight, &key), zero = {};

	if (f || !create)
		return f;
	bpf_map_update_elem(&inflight, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&inflight, &key);
}

/* Opens a frame; a traced call creates the thread's entry, a callee only uses one. */
static __always_inline struct inflight *frame_enter(bool traced)
{
	struct inflight *f = thread_entry(traced);

	if (!f)
		return NULL;
	if (!f->depth && !traced)
		return NULL; /* the thread's entry is kept between calls: not in flight */
	frame_open(f);
	return f;
}

/*
 * State-changing calls (bind, unbind, attach, replace, detach) entered and returned. A state
 * read compares them to know that none was in flight across it (src/session.c,
 * session_read_state): a bind's critical section can end during the read while its record
 * is only made at its return, an unbind's record is made at its entry before it changes
 * anything. Both counts are taken by a fetching add, which the JITs emit fully ordered
 * (x86 lock xadd; arm64 ldaddal, or an exclusive pair and dmb): an entry is counted before
 * the call changes anything, a return after its last change and after its record. A return
 * counts only against its own function's entry on its thread (cause_frame.h calls_push and
 * calls_pop): a call begun before its entry program was attached, or whose entry program the
 * trampoline skipped, would otherwise be a return without an entry, or take an outer call's.
 * A call whose return was never seen is counted as returned once its thread enters another
 * such call where it cannot be inside it, or exits.
 */
__u64 calls_entered = 0;
__u64 calls_returned = 0;
/*
 * Returns whose entry was not counted: a call begun before the probes were attached, or one
 * whose entry program the trampoline skipped (on a preemptible kernel, another thread
 * preempted inside that program on the same CPU: prog->active) or whose thread entry could
 * not be made. Such a call may have been in flight across a read: the read looks at this
 * count again a while after the walk (src/session.c).
 */
__u64 returns_unmatched = 0;

static __always_inline void ordered_add(__u64 *p, __u64 n)
{
	__u64 old = __sync_fetch_and_add(p, n);

	/* a used result: BPF_FETCH, not the plain atomic add (unordered on arm64) */
	asm volatile("" : : "r"(old));
}

static __always_inline void ordered_inc(__u64 *p)
{
	ordered_add(p, 1);
}

/*
 * A state-changing call's entry, on its thread's entry f (NULL: neither end is counted), its
 * probe's context ctx on the thread's kernel stack (its address is where the call is).
 */
static __always_inline void call_entered(struct inflight *f, __u8 func, void *ctx)
{
	bool counted;
	__u32 lost;

	if (!f)
		return;
	lost = calls_push(f, func, (__u64)ctx, &counted);
	if (lost) /* calls found to have returned unseen */
		ordered_add(&calls_returned, lost);
	if (counted)
		ordered_inc(&calls_entered);
}

/* Its return: after its record, so that a read counting it has the record's seq below. */
static __always_inline void call_returned(__u8 func)
{
	struct inflight *f = thread_entry(false);
	__u32 lost;

	if (!f || !calls_pop(f, func, &lost)) {
		ordered_inc(&returns_unmatched);
		return;
	}
	ordered_add(&calls_returned, lost + 1); /* with the inner calls returned unseen */
}

/*
 * -errno (0: success) from a return value of the given kind; *flags gets
 * SVA_CAUSE_NULL / SVA_CAUSE_NO_PASID.
 */
static __always_inline int ret_errno(__u64 ret, __u8 kind, __u8 *flags)
{
	*flags = 0;
	if (kind == SVA_RET_INT) {
		int r = (int)ret;

		return r < 0 && r >= -MAX_ERRNO ? r : 0;
	}
	if (kind == SVA_RET_PTR) {
		if (!ret) {
			*flags = SVA_CAUSE_NULL;
			return -ENOMEM;
		}
		return IS_ERR_VALUE(ret) ? (int)(long)ret : 0;
	}
	if (kind == SVA_RET_PASID && (__u32)ret == SVA_PASID_NONE) {
		*flags = SVA_CAUSE_NO_PASID;
		return -ENOSPC;
	}
	return 0;
}

/* A callee's return (the slot or built-in program knows func and its return kind). */
static __always_inline void callee_exit(__u16 func, __u8 kind, __u64 ret)
{
	struct inflight *f = thread_entry(false);
	__u8 flags;
	int err;

	if (!f)
		return;
	err = ret_errno(ret, kind, &flags);
	frame_exit_at(f, func, err, flags);
}

/*
 * A leaf callee probed on return only (iommu_attach_handle_get): entry and return at
 * once. ENOENT from it is the normal "no bond yet" answer of every first bind, not an
 * error.
 */
static __always_inline void leaf_exit(struct inflight *f, __u16 func, __u8 kind, __u64 ret,
				      int benign)
{
	__u8 flags;
	__u32 d;
	int err;

	if (!f || !f->depth)
		return;
	err = ret_errno(ret, kind, &flags);
	if (err == benign)
		err = 0;
	d = ++f->depth;
	f->calls++;
	if (d <= CAUSE_MAX_DEPTH)
		f->stamp[d & CAUSE_MAX_DEPTH] = f->calls;
	frame_exit_at(f, func, err, flags);
}

/* The traced call func returns err: its cause goes into *c (cause_frame.h). */
static __always_inline void traced_exit(struct cause *c, __u16 func, int err, __u8 flags)
{
	struct inflight *f = thread_entry(false);

	if (f)
		traced_exit_at(f, c, func, err, flags);
}

static __always_inline void put_cause(struct sva_event *ev, const struct cause *c)
{
	ev->cause_func = c->func;
	ev->cause_err = c->err;
	ev->cause_depth = c->depth;
	ev->cause_flags = c->flags;
	ev->cause_calls = c->calls;
}

static __always_inline void event_init(struct sva_event *ev, __u16 type, bool kprobe)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->flags = kprobe ? SVA_EVF_KPROBE : 0;
	ev->cpu = bpf_get_smp_processor_id();
	ev->ts_ns = bpf_ktime_get_ns();
	ev->pid = (__u32)pid_tgid;
	ev->tgid = pid_tgid >> 32;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->group_id = SVA_UNKNOWN_S32;
	ev->pasid = SVA_PASID_NONE;
	ev->domain_type = (__u32)-1;
	ev->users = SVA_UNKNOWN_S32;
	ev->stack_id = -1;
}

/* A record that found no room: its sequence number is left as a gap, and counted. */
static __always_inline void event_lost(void)
{
	__u32 zero = 0;
	__u64 *nlost;

	__sync_fetch_and_add(&next_seq, 1);
	nlost = bpf_map_lookup_elem(&lost, &zero);
	if (nlost)
		__sync_fetch_and_add(nlost, 1);
}

/*
 * The record is written in place in the ring (reserve, fill, submit): no copy of it on
 * the stack and no second copy into the ring. NULL when the ring is full (counted).
 */
static __always_inline struct sva_event *event_new(__u16 type, bool kprobe)
{
	struct sva_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		event_lost();
		return NULL;
	}
	event_init(ev, type, kprobe);
	return ev;
}

static __always_inline void event_submit(void *ctx, struct sva_event *ev)
{
	__u64 wake;

	if (want_stacks)
		ev->stack_id = bpf_get_stackid(ctx, &stacks, 0);
	ev->seq = __sync_fetch_and_add(&next_seq, 1);
	/*
	 * Ration wake-ups. The default wakes the reader for every record written
	 * while it is caught up, i.e. nearly every record at a steady rate: an
	 * irq_work on the traced path and a context switch per event. Here the
	 * reader is woken at most every 10 ms (so a lone event is seen at once),
	 * or when a quarter of the ring is used (so a burst cannot fill it first).
	 * It also drains the ring at every poll timeout. Racing CPUs may both wake
	 * it: harmless.
	 */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >=
	    bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4 ||
	    ev->ts_ns - last_wakeup_ns >= WAKEUP_INTERVAL_NS) {
		wake = BPF_RB_FORCE_WAKEUP;
		last_wakeup_ns = ev->ts_ns;
	} else {
		wake = BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(ev, wake);
}

/*
 * The current process used SVA: its exit will be recorded. Returns the record's flags for
 * the task: SVA_EVF_KTHREAD for a kernel thread (never remembered: its exit is not traced)
 * and SVA_EVF_EXITING for a task in do_exit. An exiting one is not remembered either: its
 * release runs in exit_files/exit_task_work after sched_process_exit deleted the key of its
 * last thread, and a key written then would stay in the map for good.
 */
static __always_inline __u16 remember_task(void)
{
	/* a typed pointer (5.11+): flags is one load, not a bpf_probe_read_kernel call */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (task->flags & PF_KTHREAD)
		return SVA_EVF_KTHREAD;
	if (task->flags & PF_EXITING)
		return SVA_EVF_EXITING;
	/*
	 * Look before writing: an update of a key already there allocates a new element and
	 * frees the old one (BPF_F_NO_PREALLOC), about 1,000 instructions under the lab's
	 * bpf_stats, where the look-up is a tenth of that. Only the last thread's exit deletes
	 * the key (proc_exit), so no other thread of the process can lose it in between.
	 */
	if (!bpf_map_lookup_elem(&sva_tgids, &tgid))
		bpf_map_update_elem(&sva_tgids, &tgid, &one, BPF_ANY);
	return 0;
}

/* The mm was bound: its exit_mmap will be recorded. False when the map is full. */
static __always_inline bool remember_mm(struct mm_struct *mm)
{
	__u64 key = (__u64)mm;
	__u8 one = 1;

	/* As remember_task: an mm bound before is in the map until its exit_mmap. */
	if (bpf_map_lookup_elem(&sva_mms, &key))
		return true;
	return !bpf_map_update_elem(&sva_mms, &key, &one, BPF_ANY);
}

static __always_inline void fill_domain(struct sva_event *ev, struct iommu_domain *domain,
					bool direct)
{
	struct mm_struct *owner;

	ev->domain = (__u64)domain;
	sva_domain_info(domain, &ev->domain_type, &owner, direct);
	/* domain->mm shares a union with paging-domain fields: only SVA domains have one. */
	if (owner && !ev->mm && ev->domain_type == SVA_DOMAIN_SVA)
		ev->mm = (__u64)owner;
}

/* ---- the operations, shared by both flavors ---- */

/*
 * Each operation first keeps its state (the thread's in-flight frame, the process and mm
 * maps), which must not depend on whether the ring has room, then reserves its record and
 * fills it in the ring. The record is tested for NULL once, right after the reservation:
 * 6.1's verifier does not know that a reservation it has seen to be non-NULL stays so, and
 * on a second test it follows the NULL branch to an exit that never submits ("Unreleased
 * reference").
 */

/*
 * `kprobe`: the kprobe flavor, whose pointers are plain numbers; in the fentry/fexit flavor
 * the arguments are typed and read directly (SVA_READ in core_fixes.bpf.h).
 */

/* iommu_sva_bind_device() returns a handle or an ERR_PTR, never NULL (6.1 - 7.2). */
static __always_inline int on_bind(void *ctx, struct device *dev, struct mm_struct *mm, void *ret,
				   bool kprobe)
{
	int err = IS_ERR_VALUE(ret) ? (int)(long)ret : 0;
	struct cause c = {};
	struct sva_event *ev;
	bool mm_tracked;
	__u16 kthread;

	kthread = remember_task();
	traced_exit(&c, SVA_CF_IOMMU_SVA_BIND_DEVICE, err, 0);
	/*
	 * Without it no mm_exit comes: userspace judges this mm by process exits. No mm: 6.1's
	 * supervisor SVA (idxd binds init_mm through a NULL mm), which no exit_mmap ends.
	 */
	mm_tracked = err || !mm || remember_mm(mm);
	ev = event_new(SVA_REC_BIND, kprobe);
	if (!ev)
		return 0;
	put_cause(ev, &c);
	ev->flags |= kthread;
	ev->mm = (__u64)mm;
	sva_dev_info(dev, ev->dev_name, &ev->group_id, &ev->max_pasids, !kprobe);
	ev->pasid = sva_mm_pasid(mm, !kprobe);
	if (err) {
		ev->ret = err;
	} else {
		/* the return value is a number in both flavors (bpf_get_func_ret) */
		ev->handle = (__u64)ret;
		ev->users = sva_bond_users(ret, mm, &ev->flags, false);
		fill_domain(ev, sva_bond_domain(ret, false), false);
		if (!mm_tracked)
			ev->flags |= SVA_EVF_MM_UNTRACKED;
	}
	event_submit(ctx, ev);
	return 0;
}

static __always_inline int on_unbind(void *ctx, void *bond, bool kprobe)
{
	__u16 kthread;
	struct sva_event *ev;

	call_entered(thread_entry(true), SVA_CALL_UNBIND, ctx); /* before its record */
	kthread = remember_task();

	ev = event_new(SVA_REC_UNBIND, kprobe);
	if (!ev)
		return 0;
	ev->flags |= kthread;
	ev->handle = (__u64)bond;
	/* The device the caller passed in, through its handle: handle->dev. */
	sva_dev_info(sva_bond_dev(bond, !kprobe), ev->dev_name, &ev->group_id, &ev->max_pasids,
		     !kprobe);
	/* After the call the bond may be freed: read it on the way in. */
	ev->users = sva_bond_users(bond, NULL, &ev->flags, !kprobe);
	if (ev->users != SVA_UNKNOWN_S32)
		ev->flags |= SVA_EVF_USERS_BEFORE;
	fill_domain(ev, sva_bond_domain(bond, !kprobe), !kprobe);
	/* the domain's mm, from its union: not a typed pointer */
	if (ev->mm)
		ev->pasid = sva_mm_pasid((void *)ev->mm, false);
	else
		sva_bond_driver_mm(bond, &ev->mm, &ev->pasid); /* 6.1: no domain */
	event_submit(ctx, ev);
	return 0;
}

static __always_inline int on_attach(void *ctx, __u16 type, struct iommu_domain *domain,
				     struct device *dev, __u32 pasid, void *handle, long ret,
				     bool kprobe)
{
	struct cause c = {};
	struct sva_event *ev;
	__u16 kthread;

	kthread = remember_task();
	traced_exit(&c, type == SVA_REC_ATTACH ? SVA_CF_IOMMU_ATTACH_DEVICE_PASID :
						 SVA_CF_IOMMU_REPLACE_DEVICE_PASID, (int)ret, 0);
	ev = event_new(type, kprobe);
	if (!ev)
		return 0;
	put_cause(ev, &c);
	ev->flags |= kthread;
	sva_dev_info(dev, ev->dev_name, &ev->group_id, &ev->max_pasids, !kprobe);
	ev->pasid = pasid;
	ev->handle = (__u64)handle;
	ev->ret = ret;
	/* Read after the call: a reset that began or ended meanwhile is not seen. */
	if (ret == -EBUSY && sva_dev_group_resetting(dev, !kprobe))
		ev->flags |= SVA_EVF_GROUP_RESETTING;
	fill_domain(ev, domain, !kprobe);
	event_submit(ctx, ev);
	return 0;
}

static __always_inline int on_detach(void *ctx, struct iommu_domain *domain, struct device *dev,
				     __u32 pasid, bool kprobe)
{
	__u16 kthread;
	struct sva_event *ev;

	call_entered(thread_entry(true), SVA_CALL_DETACH, ctx); /* before its record */
	kthread = remember_task();
	ev = event_new(SVA_REC_DETACH, kprobe);
	if (!ev)
		return 0;
	ev->flags |= kthread;
	sva_dev_info(dev, ev->dev_name, &ev->group_id, &ev->max_pasids, !kprobe);
	ev->pasid = pasid;
	fill_domain(ev, domain, !kprobe);
	event_submit(ctx, ev);
	return 0;
}

static __always_inline int on_lookup(void *ctx, struct iommu_group *group, __u32 pasid,
				     __u32 want_type, void *ret, bool kprobe)
{
	struct inflight *f = thread_entry(false); /* one look-up for the frame and the fault mark */
	struct sva_lookup_key key = {};
	struct sva_lookup_count zero = {}, *count;
	struct sva_event *ev;
	int result;

	/* Inside a traced bind: a callee (ENOENT is its normal "no bond yet"). */
	leaf_exit(f, SVA_CF_IOMMU_ATTACH_HANDLE_GET, SVA_RET_PTR,
		  ret ? (__u64)ret : (__u64)-ENOENT, -ENOENT);
	/* The fault path calls this per I/O page fault: count, don't log. */
	key.group_id = sva_group_id(group, !kprobe);
	key.pasid = pasid;
	if (!IS_ERR_VALUE(ret) && ret)
		result = SVA_LOOKUP_HANDLE;
	else if ((long)ret == -ENOENT || !ret)
		result = SVA_LOOKUP_ENOENT;
	else if ((long)ret == -EBUSY)
		result = SVA_LOOKUP_EBUSY;
	else
		result = SVA_LOOKUP_OTHER;

	count = bpf_map_lookup_elem(&lookups, &key);
	if (!count) {
		bpf_map_update_elem(&lookups, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&lookups, &key);
	}
	if (count && result >= 0 && result < SVA_LOOKUP__MAX)
		__sync_fetch_and_add(&count->n[result], 1);

	if (result == SVA_LOOKUP_HANDLE && !all_lookups)
		return 0;
	/*
	 * Inside iommu_report_device_fault, a type-0 look-up that finds nothing is
	 * the fault path's first try (io-pgfault.c find_fault_handler, 6.11+: the
	 * fault's PASID, then IOMMU_NO_PASID for a nested domain when the driver
	 * has a user-managed PASID table): normal at fault rate, so counted only.
	 */
	/* f->in_fault: this thread is inside iommu_report_device_fault (fault_report_enter) */
	if (result == SVA_LOOKUP_ENOENT && !want_type && f && f->in_fault)
		return 0;
	ev = event_new(SVA_REC_LOOKUP, kprobe);
	if (!ev)
		return 0;
	ev->group_id = key.group_id;
	ev->pasid = pasid;
	ev->aux = want_type;
	if (result == SVA_LOOKUP_HANDLE) {
		ev->flags |= SVA_EVF_LOOKUP_SAMPLED;
		ev->handle = (__u64)ret;
		/* the return value is a number: read with the helper */
		fill_domain(ev, BPF_CORE_READ((struct iommu_attach_handle___sva *)ret, domain),
			    false);
	} else {
		ev->ret = ret ? (long)ret : -ENOENT;
	}
	event_submit(ctx, ev);
	return 0;
}

/* dev_typed: dev is the fexit program's own argument (else it comes from the stash) */
static __always_inline int on_pasid_alloc(void *ctx, struct device *dev, bool dev_typed,
					  struct mm_struct *mm, long ret, __u32 pasid,
					  bool existing, bool kprobe, __u16 func, __u8 ret_flags)
{
	struct cause c = {};
	struct sva_event *ev;

	traced_exit(&c, func, (int)ret, ret_flags);
	ev = event_new(SVA_REC_PASID_ALLOC, kprobe);
	if (!ev)
		return 0;
	put_cause(ev, &c);
	sva_dev_info(dev, ev->dev_name, &ev->group_id, &ev->max_pasids, dev_typed);
	ev->mm = (__u64)mm;
	ev->pasid = pasid;
	ev->ret = ret;
	if (existing)
		ev->flags |= SVA_EVF_PASID_EXISTING;
	event_submit(ctx, ev);
	return 0;
}

static __always_inline int on_pasid_free(void *ctx, __u16 type, struct mm_struct *mm, __u32 pasid,
					 bool kprobe)
{
	struct sva_event *ev = event_new(type, kprobe);

	if (!ev)
		return 0;
	ev->mm = (__u64)mm;
	ev->pasid = pasid;
	event_submit(ctx, ev);
	return 0;
}

/* ---- entry stash: kprobe flavor, and PASID allocation in both ---- */

enum probe_id {
	PROBE_BIND = 1,
	PROBE_ATTACH,
	PROBE_REPLACE,
	PROBE_LOOKUP,
	PROBE_PASID_ALLOC,
	PROBE_MM_PASID_ALLOC,
};

static __always_inline void stash(__u32 probe, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	struct entry_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .probe = probe };
	struct entry_args args = { .arg = { a0, a1, a2, a3 } };

	bpf_map_update_elem(&entries, &key, &args, BPF_ANY);
}

static __always_inline bool unstash(__u32 probe, struct entry_args *out)
{
	struct entry_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .probe = probe };
	struct entry_args *args = bpf_map_lookup_elem(&entries, &key);

	if (!args)
		return false;
	*out = *args;
	bpf_map_delete_elem(&entries, &key);
	return true;
}

static __always_inline bool stashed(__u32 probe)
{
	struct entry_key key = { .pid_tgid = bpf_get_current_pid_tgid(), .probe = probe };

	return bpf_map_lookup_elem(&entries, &key) != NULL;
}

/*
 * iommu_report_device_fault entered and returned on this thread: a count in the thread's
 * in-flight entry (made here if the thread has none; depth 0, so callee programs still see
 * no traced call). A look-up of it is what the fault path pays per fault; the entry stash
 * it replaces was an LRU update, look-up and delete. A return never seen (a kretprobe
 * missed) leaves the count up, as it left the stash: that thread's ENOENT look-ups of
 * type 0 are then counted but not logged.
 */
static __always_inline void fault_report_enter(void)
{
	struct inflight *f = thread_entry(true);

	if (f)
		f->in_fault++;
}

static __always_inline void fault_report_exit(void)
{
	struct inflight *f = thread_entry(false);

	if (f && f->in_fault)
		f->in_fault--;
}

/*
 * iommu_sva_alloc_pasid(mm, ...): 6.1 - 6.7 (static from 6.4, so possibly
 * inlined and then not probed). It reuses the mm's PASID when it has one
 * ("Is a PASID already associated with this mm?", 6.1 iommu-sva-lib.c, 6.4 -
 * 6.7 iommu-sva.c): the PASID at entry tells a reuse from an allocation.
 * Its second argument is the device on 6.6 - 6.7 only
 * (iommu_sva_alloc_pasid(mm, dev) since 2dcebc7ddce7 "iommu: Move global PASID
 * allocation from SVA to core", 6.6; (mm, min, max) before), which is exactly
 * when iommu_alloc_global_pasid exists beside it (global_pasid_alloc).
 */
static __always_inline void mm_pasid_alloc_entry(struct mm_struct *mm, __u64 arg1, bool direct)
{
	__u32 before = sva_mm_pasid(mm, direct);

	stash(PROBE_MM_PASID_ALLOC, (__u64)mm, before, global_pasid_alloc ? arg1 : 0, 0);
	frame_enter(true);
}

static __always_inline int mm_pasid_alloc_exit(void *ctx, int ret, bool kprobe)
{
	struct entry_args a;
	struct mm_struct *mm;
	__u32 before;
	bool existing;

	if (!unstash(PROBE_MM_PASID_ALLOC, &a))
		return 0;
	mm = (void *)a.arg[0];
	before = a.arg[1];
	existing = before != SVA_PASID_NONE && before != 0;
	return on_pasid_alloc(ctx, (struct device *)a.arg[2], false, mm, ret,
			      sva_mm_pasid(mm, false), existing, kprobe,
			      SVA_CF_IOMMU_SVA_ALLOC_PASID, 0);
}

/*
 * iommu_alloc_global_pasid(dev): 6.6+. On 6.6 and 6.7 iommu_sva_alloc_pasid
 * calls it: while that is on this thread's stack its record stands for both.
 */
static __always_inline bool pasid_alloc_nested(void)
{
	return global_pasid_alloc && stashed(PROBE_MM_PASID_ALLOC);
}

/* ---- fentry / fexit flavor ---- */

/*
 * fexit programs fetch the return value with bpf_get_func_ret(): its slot
 * depends on the function's arity, which changed between generations
 * (iommu_attach_device_pasid gained a 4th argument in 6.11).
 */
static __always_inline __u64 func_ret(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return ret;
}

static __always_inline __u64 func_arg(void *ctx, __u32 n)
{
	__u64 v = 0;

	bpf_get_func_arg(ctx, n, &v);
	return v;
}

/*
 * 7.x fsession programs (BPF_TRACE_FSESSION): one program that the trampoline runs at the
 * function's entry and again at its return, instead of an fentry and an fexit program on
 * the same trampoline (kernel/bpf/trampoline.c, arch/{x86,arm64}/net/bpf_jit_comp.c of
 * 7.2). The kfunc bpf_session_is_return(ctx) tells the two runs apart. libbpf 1.1 knows
 * neither the attach type nor, without a walk of the kernel's BTF per kfunc, the kfunc's id:
 * the call is written as a call of helper SVA_SESSION_IS_RETURN, which no kernel has, and the
 * loader turns it into the kfunc call (src/loader.c prepare_traced_load) with the id its plan
 * found. The loader loads these programs only where the kernel has both; elsewhere the
 * fentry/fexit pair below does the same.
 */
static bool (*session_is_return)(void *ctx) = (void *)SVA_SESSION_IS_RETURN;

/* Entries of the traced calls: open the thread's in-flight frame (failure provenance). */
SEC("fentry/iommu_sva_bind_device")
int BPF_PROG(fentry_bind)
{
	call_entered(frame_enter(true), SVA_CALL_BIND, ctx);
	return 0;
}

SEC("fentry/iommu_attach_device_pasid")
int BPF_PROG(fentry_attach)
{
	call_entered(frame_enter(true), SVA_CALL_ATTACH, ctx);
	return 0;
}

SEC("fentry/iommu_replace_device_pasid")
int BPF_PROG(fentry_replace)
{
	call_entered(frame_enter(true), SVA_CALL_REPLACE, ctx);
	return 0;
}

SEC("fentry/iommu_alloc_global_pasid")
int BPF_PROG(fentry_pasid_alloc)
{
	/* 6.6-6.7: nested in iommu_sva_alloc_pasid, a callee (no entry of its own) */
	frame_enter(!pasid_alloc_nested());
	return 0;
}

/*
 * Callee slots: the same two bodies for every probed callee, one program per slot and
 * flavor. libbpf 1.1 binds an fentry/fexit program to one target at load
 * (bpf_program__set_attach_target), so each callee the kernel has gets a slot of its
 * own; the loader fills slot_func/slot_ret and loads only the slots in use. A kprobe
 * program could be attached to many functions, but the slot still tells which function
 * returned without bpf_get_func_ip (kretprobes lack it before 6.x).
 */
#define CALLEE_SLOT(i)                                                                 \
	SEC("fentry")                                                                  \
	int BPF_PROG(callee_fentry_##i)                                                \
	{                                                                              \
		frame_enter(false);                                                    \
		return 0;                                                              \
	}                                                                              \
	SEC("fexit")                                                                   \
	int BPF_PROG(callee_fexit_##i)                                                 \
	{                                                                              \
		callee_exit(slot_func[i], slot_ret[i], func_ret(ctx));                 \
		return 0;                                                              \
	}                                                                              \
	SEC("fsession")                                                                \
	int BPF_PROG(callee_fsession_##i)                                              \
	{                                                                              \
		if (!session_is_return(ctx))                                           \
			frame_enter(false);                                            \
		else                                                                   \
			callee_exit(slot_func[i], slot_ret[i], func_ret(ctx));         \
		return 0;                                                              \
	}                                                                              \
	SEC("kprobe")                                                                  \
	int BPF_KPROBE(callee_kprobe_##i)                                              \
	{                                                                              \
		frame_enter(false);                                                    \
		return 0;                                                              \
	}                                                                              \
	SEC("kretprobe")                                                               \
	int BPF_KRETPROBE(callee_kretprobe_##i)                                        \
	{                                                                              \
		callee_exit(slot_func[i], slot_ret[i], PT_REGS_RC(ctx));               \
		return 0;                                                              \
	}

CALLEE_SLOT(0)
CALLEE_SLOT(1)
CALLEE_SLOT(2)
CALLEE_SLOT(3)
CALLEE_SLOT(4)
CALLEE_SLOT(5)
CALLEE_SLOT(6)
CALLEE_SLOT(7)
CALLEE_SLOT(8)
CALLEE_SLOT(9)
CALLEE_SLOT(10)
CALLEE_SLOT(11)
CALLEE_SLOT(12)
CALLEE_SLOT(13)
CALLEE_SLOT(14)
CALLEE_SLOT(15)
_Static_assert(SVA_CALLEE_SLOTS == 16, "CALLEE_SLOT() lines and SVA_CALLEE_SLOTS differ");

/* iommu_sva_bind_device's return (fentry flavor), recorded, then counted. */
static __always_inline int bind_exit(void *ctx, struct device *dev, struct mm_struct *mm)
{
	on_bind(ctx, dev, mm, (void *)func_ret(ctx), false);
	call_returned(SVA_CALL_BIND);
	return 0;
}

SEC("fexit/iommu_sva_bind_device")
int BPF_PROG(fexit_bind, struct device *dev, struct mm_struct *mm)
{
	return bind_exit(ctx, dev, mm);
}

/* An unbind is recorded at its entry (the bond may be freed by its return). */
SEC("fentry/iommu_sva_unbind_device")
int BPF_PROG(fentry_unbind, void *bond)
{
	return on_unbind(ctx, bond, false);
}

SEC("fexit/iommu_sva_unbind_device")
int BPF_PROG(fexit_unbind)
{
	call_returned(SVA_CALL_UNBIND);
	return 0;
}

/* iommu_attach_device_pasid's return: its handle argument is 6.11+ (a 4th argument). */
static __always_inline int attach_exit(void *ctx, struct iommu_domain *domain, struct device *dev,
				       __u32 pasid)
{
	void *handle = NULL;

	if (bpf_get_func_arg_cnt(ctx) >= 4)
		handle = (void *)func_arg(ctx, 3);
	on_attach(ctx, SVA_REC_ATTACH, domain, dev, pasid, handle, (int)func_ret(ctx), false);
	call_returned(SVA_CALL_ATTACH);
	return 0;
}

/* iommu_replace_device_pasid's return, recorded, then counted. */
static __always_inline int replace_exit(void *ctx, struct iommu_domain *domain, struct device *dev,
					__u32 pasid, void *handle)
{
	on_attach(ctx, SVA_REC_REPLACE, domain, dev, pasid, handle, (int)func_ret(ctx), false);
	call_returned(SVA_CALL_REPLACE);
	return 0;
}

SEC("fexit/iommu_attach_device_pasid")
int BPF_PROG(fexit_attach, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	return attach_exit(ctx, domain, dev, pasid);
}

SEC("fexit/iommu_replace_device_pasid")
int BPF_PROG(fexit_replace, struct iommu_domain *domain, struct device *dev, __u32 pasid,
	     void *handle)
{
	return replace_exit(ctx, domain, dev, pasid, handle);
}

SEC("fentry/iommu_detach_device_pasid")
int BPF_PROG(fentry_detach, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	return on_detach(ctx, domain, dev, pasid, false);
}

SEC("fexit/iommu_detach_device_pasid")
int BPF_PROG(fexit_detach)
{
	call_returned(SVA_CALL_DETACH);
	return 0;
}

SEC("fexit/iommu_attach_handle_get")
int BPF_PROG(fexit_lookup, struct iommu_group *group, __u32 pasid, __u32 type)
{
	return on_lookup(ctx, group, pasid, type, (void *)func_ret(ctx), false);
}

/* 6.6+ global PASID allocator; returns IOMMU_PASID_INVALID on failure. */
static __always_inline int global_pasid_alloc_exit(void *ctx, struct device *dev, __u32 pasid)
{
	if (pasid_alloc_nested()) {
		callee_exit(SVA_CF_IOMMU_ALLOC_GLOBAL_PASID, SVA_RET_PASID, pasid);
		return 0;
	}
	return on_pasid_alloc(ctx, dev, true, NULL, pasid == SVA_PASID_NONE ? -ENOSPC : 0, pasid,
			      false, false, SVA_CF_IOMMU_ALLOC_GLOBAL_PASID,
			      pasid == SVA_PASID_NONE ? SVA_CAUSE_NO_PASID : 0);
}

SEC("fexit/iommu_alloc_global_pasid")
int BPF_PROG(fexit_pasid_alloc, struct device *dev)
{
	return global_pasid_alloc_exit(ctx, dev, (__u32)func_ret(ctx));
}

SEC("fentry/iommu_free_global_pasid")
int BPF_PROG(fentry_pasid_free, __u32 pasid)
{
	return on_pasid_free(ctx, SVA_REC_PASID_FREE, NULL, pasid, false);
}

/* <= 6.3: ioasid_free() releases what iommu_sva_alloc_pasid() took. */
SEC("fentry/ioasid_free")
int BPF_PROG(fentry_ioasid_free, __u32 pasid)
{
	return on_pasid_free(ctx, SVA_REC_PASID_FREE, NULL, pasid, false);
}

SEC("fentry/iommu_sva_alloc_pasid")
int BPF_PROG(fentry_mm_pasid_alloc, struct mm_struct *mm)
{
	/* every version has a second argument: raw, a device only on 6.6 - 6.7 */
	mm_pasid_alloc_entry(mm, ctx[1], true);
	return 0;
}

SEC("fexit/iommu_sva_alloc_pasid")
int BPF_PROG(fexit_mm_pasid_alloc, struct mm_struct *mm)
{
	return mm_pasid_alloc_exit(ctx, (int)func_ret(ctx), false);
}

/* The I/O page fault path, entry and return: only marks the thread for on_lookup. */
SEC("fentry/iommu_report_device_fault")
int BPF_PROG(fentry_fault_report)
{
	fault_report_enter();
	return 0;
}

SEC("fexit/iommu_report_device_fault")
int BPF_PROG(fexit_fault_report)
{
	fault_report_exit();
	return 0;
}

SEC("fentry/mm_pasid_drop")
int BPF_PROG(fentry_mm_pasid_drop, struct mm_struct *mm)
{
	__u32 pasid = sva_mm_pasid(mm, true);

	/* Called for every mm torn down; only those that had a PASID matter. */
	if (pasid == SVA_PASID_NONE || pasid == 0)
		return 0;
	return on_pasid_free(ctx, SVA_REC_MM_PASID_DROP, mm, pasid, false);
}

/* ---- fsession flavor (7.x): each pair above as one program ---- */

SEC("fsession/iommu_sva_bind_device")
int BPF_PROG(fsession_bind, struct device *dev, struct mm_struct *mm)
{
	if (!session_is_return(ctx)) {
		call_entered(frame_enter(true), SVA_CALL_BIND, ctx);
		return 0;
	}
	return bind_exit(ctx, dev, mm);
}

SEC("fsession/iommu_sva_unbind_device")
int BPF_PROG(fsession_unbind, void *bond)
{
	if (session_is_return(ctx)) {
		call_returned(SVA_CALL_UNBIND);
		return 0;
	}
	return on_unbind(ctx, bond, false);
}

SEC("fsession/iommu_attach_device_pasid")
int BPF_PROG(fsession_attach, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	if (!session_is_return(ctx)) {
		call_entered(frame_enter(true), SVA_CALL_ATTACH, ctx);
		return 0;
	}
	return attach_exit(ctx, domain, dev, pasid);
}

SEC("fsession/iommu_replace_device_pasid")
int BPF_PROG(fsession_replace, struct iommu_domain *domain, struct device *dev, __u32 pasid,
	     void *handle)
{
	if (!session_is_return(ctx)) {
		call_entered(frame_enter(true), SVA_CALL_REPLACE, ctx);
		return 0;
	}
	return replace_exit(ctx, domain, dev, pasid, handle);
}

SEC("fsession/iommu_detach_device_pasid")
int BPF_PROG(fsession_detach, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	if (session_is_return(ctx)) {
		call_returned(SVA_CALL_DETACH);
		return 0;
	}
	return on_detach(ctx, domain, dev, pasid, false);
}

SEC("fsession/iommu_alloc_global_pasid")
int BPF_PROG(fsession_pasid_alloc, struct device *dev)
{
	if (!session_is_return(ctx)) {
		frame_enter(!pasid_alloc_nested());
		return 0;
	}
	return global_pasid_alloc_exit(ctx, dev, (__u32)func_ret(ctx));
}

SEC("fsession/iommu_report_device_fault")
int BPF_PROG(fsession_fault_report)
{
	if (!session_is_return(ctx))
		fault_report_enter();
	else
		fault_report_exit();
	return 0;
}

/* ---- kprobe / kretprobe flavor ---- */

SEC("kprobe/iommu_sva_bind_device")
int BPF_KPROBE(kprobe_bind, struct device *dev, struct mm_struct *mm)
{
	stash(PROBE_BIND, (__u64)dev, (__u64)mm, 0, 0);
	call_entered(frame_enter(true), SVA_CALL_BIND, ctx);
	return 0;
}

SEC("kretprobe/iommu_sva_bind_device")
int BPF_KRETPROBE(kretprobe_bind, void *ret)
{
	struct entry_args a;

	if (unstash(PROBE_BIND, &a))
		on_bind(ctx, (void *)a.arg[0], (void *)a.arg[1], ret, true);
	call_returned(SVA_CALL_BIND);
	return 0;
}

SEC("kprobe/iommu_sva_unbind_device")
int BPF_KPROBE(kprobe_unbind, void *bond)
{
	return on_unbind(ctx, bond, true);
}

SEC("kretprobe/iommu_sva_unbind_device")
int BPF_KRETPROBE(kretprobe_unbind)
{
	call_returned(SVA_CALL_UNBIND);
	return 0;
}

SEC("kprobe/iommu_attach_device_pasid")
int BPF_KPROBE(kprobe_attach, void *domain, void *dev, __u32 pasid, void *handle)
{
	/* The 4th argument (the attach handle) only exists from 6.11 on. */
	if (!bpf_core_type_exists(struct iommu_attach_handle))
		handle = NULL;
	stash(PROBE_ATTACH, (__u64)domain, (__u64)dev, pasid, (__u64)handle);
	call_entered(frame_enter(true), SVA_CALL_ATTACH, ctx);
	return 0;
}

SEC("kretprobe/iommu_attach_device_pasid")
int BPF_KRETPROBE(kretprobe_attach, int ret)
{
	struct entry_args a;

	if (unstash(PROBE_ATTACH, &a))
		on_attach(ctx, SVA_REC_ATTACH, (void *)a.arg[0], (void *)a.arg[1], a.arg[2],
			  (void *)a.arg[3], ret, true);
	call_returned(SVA_CALL_ATTACH);
	return 0;
}

SEC("kprobe/iommu_replace_device_pasid")
int BPF_KPROBE(kprobe_replace, void *domain, void *dev, __u32 pasid, void *handle)
{
	stash(PROBE_REPLACE, (__u64)domain, (__u64)dev, pasid, (__u64)handle);
	call_entered(frame_enter(true), SVA_CALL_REPLACE, ctx);
	return 0;
}

SEC("kretprobe/iommu_replace_device_pasid")
int BPF_KRETPROBE(kretprobe_replace, int ret)
{
	struct entry_args a;

	if (unstash(PROBE_REPLACE, &a))
		on_attach(ctx, SVA_REC_REPLACE, (void *)a.arg[0], (void *)a.arg[1], a.arg[2],
			  (void *)a.arg[3], ret, true);
	call_returned(SVA_CALL_REPLACE);
	return 0;
}

SEC("kprobe/iommu_detach_device_pasid")
int BPF_KPROBE(kprobe_detach, void *domain, void *dev, __u32 pasid)
{
	return on_detach(ctx, domain, dev, pasid, true);
}

SEC("kretprobe/iommu_detach_device_pasid")
int BPF_KRETPROBE(kretprobe_detach)
{
	call_returned(SVA_CALL_DETACH);
	return 0;
}

SEC("kprobe/iommu_attach_handle_get")
int BPF_KPROBE(kprobe_lookup, void *group, __u32 pasid, __u32 type)
{
	stash(PROBE_LOOKUP, (__u64)group, pasid, type, 0);
	return 0;
}

SEC("kretprobe/iommu_attach_handle_get")
int BPF_KRETPROBE(kretprobe_lookup, void *ret)
{
	struct entry_args a;

	if (!unstash(PROBE_LOOKUP, &a))
		return 0;
	return on_lookup(ctx, (void *)a.arg[0], a.arg[1], a.arg[2], ret, true);
}

SEC("kprobe/iommu_alloc_global_pasid")
int BPF_KPROBE(kprobe_pasid_alloc, void *dev)
{
	if (!pasid_alloc_nested())
		stash(PROBE_PASID_ALLOC, (__u64)dev, 0, 0, 0);
	frame_enter(!pasid_alloc_nested());
	return 0;
}

SEC("kretprobe/iommu_alloc_global_pasid")
int BPF_KRETPROBE(kretprobe_pasid_alloc, __u32 pasid)
{
	struct entry_args a;

	if (!unstash(PROBE_PASID_ALLOC, &a)) {
		/* 6.6-6.7 inside iommu_sva_alloc_pasid: a callee only */
		callee_exit(SVA_CF_IOMMU_ALLOC_GLOBAL_PASID, SVA_RET_PASID, pasid);
		return 0;
	}
	return on_pasid_alloc(ctx, (void *)a.arg[0], false, NULL,
			      pasid == SVA_PASID_NONE ? -ENOSPC : 0, pasid, false, true,
			      SVA_CF_IOMMU_ALLOC_GLOBAL_PASID,
			      pasid == SVA_PASID_NONE ? SVA_CAUSE_NO_PASID : 0);
}

SEC("kprobe/iommu_free_global_pasid")
int BPF_KPROBE(kprobe_pasid_free, __u32 pasid)
{
	return on_pasid_free(ctx, SVA_REC_PASID_FREE, NULL, pasid, true);
}

SEC("kprobe/ioasid_free")
int BPF_KPROBE(kprobe_ioasid_free, __u32 pasid)
{
	return on_pasid_free(ctx, SVA_REC_PASID_FREE, NULL, pasid, true);
}

SEC("kprobe/iommu_sva_alloc_pasid")
int BPF_KPROBE(kprobe_mm_pasid_alloc, struct mm_struct *mm, __u64 arg1)
{
	mm_pasid_alloc_entry(mm, arg1, false);
	return 0;
}

SEC("kretprobe/iommu_sva_alloc_pasid")
int BPF_KRETPROBE(kretprobe_mm_pasid_alloc, int ret)
{
	return mm_pasid_alloc_exit(ctx, ret, true);
}

SEC("kprobe/iommu_report_device_fault")
int BPF_KPROBE(kprobe_fault_report)
{
	fault_report_enter();
	return 0;
}

SEC("kretprobe/iommu_report_device_fault")
int BPF_KRETPROBE(kretprobe_fault_report)
{
	fault_report_exit();
	return 0;
}

SEC("kprobe/mm_pasid_drop")
int BPF_KPROBE(kprobe_mm_pasid_drop, struct mm_struct *mm)
{
	__u32 pasid = sva_mm_pasid(mm, false);

	if (pasid == SVA_PASID_NONE || pasid == 0)
		return 0;
	return on_pasid_free(ctx, SVA_REC_MM_PASID_DROP, mm, pasid, true);
}

/* ---- tracepoints, raw in both modes ---- */

SEC("raw_tp/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *task)
{
	struct sva_event *ev;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	int live = BPF_CORE_READ(task, signal, live.counter);
	/* every thread's exit, in its own context (kernel/exit.c do_exit) */
	struct inflight *f = thread_entry(false);

	/* do_exit is inside none of the counted calls: what is open returned unseen */
	if (f && f->ncalls)
		ordered_add(&calls_returned, calls_drop(f));
	/* Only the last thread of a process that used SVA is of interest. */
	if (live != 0 || !bpf_map_lookup_elem(&sva_tgids, &tgid))
		return 0;
	bpf_map_delete_elem(&sva_tgids, &tgid);
	ev = event_new(SVA_REC_PROC_EXIT, false);
	if (!ev)
		return 0;
	ev->flags |= SVA_EVF_GROUP_DEAD;
	ev->aux = BPF_CORE_READ(task, exit_code);
	/* exit_mm() already ran: report the mm the process had, if any. */
	event_submit(ctx, ev);
	return 0;
}

/*
 * exit_mmap (tracepoint mmap:exit_mmap, 6.1+): the mm's last user is gone
 * (__mmput). Bonds may still hold the mm (mmgrab), but no task uses it: a
 * bond of that mm still bound from here on has no owner left.
 */
SEC("raw_tp/exit_mmap")
int BPF_PROG(mm_exit, struct mm_struct *mm)
{
	struct sva_event *ev;
	__u64 key = (__u64)mm;

	if (!bpf_map_lookup_elem(&sva_mms, &key))
		return 0;
	bpf_map_delete_elem(&sva_mms, &key);
	ev = event_new(SVA_REC_MM_EXIT, false);
	if (!ev)
		return 0;
	ev->mm = (__u64)mm;
	ev->pasid = sva_mm_pasid(mm, false); /* raw_tp: arguments are numbers */
	event_submit(ctx, ev);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
