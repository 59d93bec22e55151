// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace's start-up state: what is already bound when tracing begins.
 *
 * One BPF task iterator (bpf_iter__task, 5.8+). Per process (thread-group
 * leader: its threads share its mm) whose mm holds a PASID: a TASK record. At
 * the iterator's last call (task == NULL) the iommu groups are walked and every
 * entry of each group's PASID array becomes an ATTACH record (an SVA bond when
 * its domain is an SVA domain), then an END record says what could not be read.
 *
 * The groups: no global is in the kernel's BTF, /proc/kallsyms has no data
 * symbols without CONFIG_KALLSYMS_ALL (nor can the verifier resolve a per-CPU
 * variable then), so they are reached through sysfs: userspace opens
 * /sys/kernel/iommu_groups, the directory of iommu_group_kset, and the program
 * follows that descriptor of its own reader (the iterator runs in the reading
 * task): file -> kernfs inode -> kernfs_node.priv (the kset's kobject) -> the
 * kset's list of group kobjects ->
 * every group. All walks are bounded; the lists are read without their locks
 * (a BPF program cannot take them), so a group or device added or removed
 * during the walk may be missed: the snapshot is best effort, and a re-sync
 * (SIGUSR2) reads it again.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sva_trace.h"
#include "sva_state.h"
#include "core_fixes.bpf.h"

#define MAX_GROUPS 1024
#define MAX_SLOTS 65536 /* PASID-array slots visited, all groups together */
#define XA_MAX_DEPTH 8 /* 20-bit PASIDs need 4 levels of 64 (XA_CHUNK_SHIFT 6), 5 of 16 */

/*
 * A descriptor of /sys/kernel/iommu_groups that userspace holds open (-1: it could not
 * be opened, -2: it does not exist, as on a machine without an IOMMU): the
 * sysfs directory of iommu_group_kset, whose list holds every group.
 */
const volatile int groups_dir_fd = -1;

/* struct iommu_group is private to drivers/iommu/iommu.c; the fields read here. */
struct iommu_group___st {
	struct kobject kobj;
	struct list_head devices;
	struct xarray pasid_array; /* 6.2+ (the PASID attach API) */
	int id;
} __attribute__((preserve_access_index));

/* drivers/iommu/iommu.c: one per device of a group, on group->devices */
struct group_device___st {
	struct list_head list;
	struct device *dev;
} __attribute__((preserve_access_index));

struct walk {
	struct sva_state_cursor cur; /* first: userspace writes it (sva_state.h) */
	__u32 ordinal; /* of the group being walked, in the kset's list */
	__u32 stopped; /* the budget ran out: resume at (ordinal, resume_at) */
	__u64 resume_at;
	__u32 nr_records;
	__u32 flags;
	__u32 nr_groups;
	__u32 slots_left;
	/* group walk */
	struct list_head *ghead, *gpos;
	/* PASID-array walk of one group: a stack of nodes */
	struct iommu_group___st *group;
	struct sva_state_rec grec;
	int depth;
	struct xa_node *node[XA_MAX_DEPTH];
	__u32 next[XA_MAX_DEPTH]; /* next slot to visit at each level */
	__u64 base[XA_MAX_DEPTH]; /* index of slot 0 at each level */
	__u32 chunk; /* slots per node (XA_CHUNK_SIZE) */
	struct sva_state_rec rec; /* scratch: too big for the BPF stack with the rest */
};

/*
 * The walk's state: too big for the 512-byte BPF stack, and kept across the
 * program's calls (one per task). Not per CPU: the reader may move between CPUs
 * between two read() calls; userspace zeroes it before each iterator it creates,
 * and only one reads at a time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walks SEC(".maps");

/* bpf_loop's context must be on the stack: it carries the walk (a map value). */
struct loop_ctx {
	struct walk *w;
	struct seq_file *seq; /* not in the walk: a pointer kept in a map loses its type */
};

static __always_inline void emit(struct loop_ctx *lc, struct sva_state_rec *r)
{
	struct walk *w = lc->w;

	if (!bpf_seq_write(lc->seq, r, sizeof(*r))) {
		w->nr_records++;
		if (w->cur.budget)
			w->cur.budget--;
	} else {
		w->flags |= SVA_STATE_TRUNCATED; /* the buffer was full after all */
	}
}

/* ---- a group's PASID array ---- */

#define XA_INTERNAL(e) (((unsigned long)(e) & 3) == 2)
#define XA_IS_NODE(e) (XA_INTERNAL(e) && (unsigned long)(e) > 4096)

/*
 * An entry of pasid_array at index: 6.2 - 6.10 a domain, 6.11 - 6.14 a handle
 * (struct iommu_attach_handle, whose first field is the domain pointer), 7.x a
 * pointer tagged in its low bits (IOMMU_PASID_ARRAY_DOMAIN 0, _HANDLE 1). The
 * first word tells a handle from a domain on every generation: a handle starts
 * with a kernel pointer (top bit set on x86-64 and arm64), a domain with its small
 * type (and 7.x's cookie_type, or padding).
 */
static __always_inline void attach_entry(struct loop_ctx *lc, __u64 index, unsigned long entry)
{
	struct walk *w = lc->w;
	struct sva_state_rec *r = &w->rec;
	unsigned long p = entry & ~3ul;
	struct mm_struct *mm;
	__u64 first = 0;
	__u32 mp;
	__s32 gid;

	/*
	 * Index 0 is IOMMU_NO_PASID: from 6.11 iommufd keeps the RID's own attachment there,
	 * which is no PASID attachment (and no traced function makes or ends it).
	 */
	if (!p || !index)
		return;
	/* written by an earlier run (sva_state.h: sva_state_cursor) */
	if (w->ordinal == w->cur.skip_groups && index < w->cur.resume_index)
		return;
	/* one record kept for the group's own */
	if (w->cur.budget <= 1) {
		w->stopped = 1;
		w->resume_at = index;
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = SVA_STATE_ATTACH;
	r->pasid = (__u32)index;
	r->group_id = w->grec.group_id;
	r->users = SVA_UNKNOWN_S32;
	bpf_probe_read_kernel(&first, sizeof(first), (void *)p);
	if (first >> 63) { /* kernel half (x86-64 with 4 or 5 levels: 0xffff8.., 0xff11..; arm64) */
		r->handle = p;
		r->domain = first;
	} else {
		r->domain = p;
		r->flags |= SVA_STATE_BARE_DOMAIN;
	}
	sva_domain_info((void *)r->domain, &r->domain_type, &mm, false);
	if (r->domain_type == SVA_DOMAIN_SVA) {
		r->mm = (__u64)mm;
		if (r->handle) {
			__u16 f = 0;

			r->users = sva_bond_users((void *)r->handle, mm, &f, false);
			sva_dev_info(sva_bond_dev((void *)r->handle, false), r->dev_name, &gid,
				     &mp, false);
			r->max_pasids = mp;
		}
	}
	if (!r->dev_name[0]) {
		__builtin_memcpy(r->dev_name, w->grec.dev_name, sizeof(r->dev_name));
		r->max_pasids = w->grec.max_pasids;
	}
	emit(lc, r);
	w->grec.count++;
}

static long xa_step(__u32 i, void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct walk *w = lc->w;
	int d = w->depth;
	struct xa_node *node;
	unsigned long entry = 0;
	__u32 slot;
	__u64 index;

	if (d < 0 || w->stopped)
		return 1;
	if (!w->slots_left) {
		w->flags |= SVA_STATE_TRUNCATED;
		return 1;
	}
	w->slots_left--;
	d &= XA_MAX_DEPTH - 1;
	slot = w->next[d];
	if (slot >= w->chunk || slot >= 64) {
		w->depth--;
		return 0;
	}
	w->next[d] = slot + 1;
	node = w->node[d];
	bpf_probe_read_kernel(&entry, sizeof(entry), &node->slots[slot & 63]);
	if (!entry)
		return 0;
	index = w->base[d] + ((__u64)slot << (BPF_CORE_READ(node, shift) & 63));
	if (XA_IS_NODE(entry)) {
		struct xa_node *child = (void *)(entry - 2);

		if (d + 1 >= XA_MAX_DEPTH) {
			w->flags |= SVA_STATE_TRUNCATED;
			return 0;
		}
		w->depth = d + 1;
		w->node[(d + 1) & (XA_MAX_DEPTH - 1)] = child;
		w->next[(d + 1) & (XA_MAX_DEPTH - 1)] = 0;
		w->base[(d + 1) & (XA_MAX_DEPTH - 1)] = index;
		return 0;
	}
	if (XA_INTERNAL(entry)) /* sibling, retry or zero entry */
		return 0;
	attach_entry(lc, index, entry);
	return 0;
}

static __always_inline void walk_group(struct loop_ctx *lc, struct iommu_group___st *g)
{
	struct walk *w = lc->w;
	struct sva_state_rec *gr = &w->grec;
	struct list_head *first;
	struct device *dev = NULL;
	unsigned long head;
	__s32 gid;
	__u32 mp;

	__builtin_memset(gr, 0, sizeof(*gr));
	gr->kind = SVA_STATE_GROUP;
	gr->group_id = BPF_CORE_READ(g, id);
	gr->users = SVA_UNKNOWN_S32;
	if (w->ordinal == w->cur.skip_groups)
		gr->count = w->cur.resume_count; /* PASIDs an earlier run wrote */
	first = BPF_CORE_READ(g, devices.next);
	if (first && first != &g->devices) {
		struct group_device___st *gd = (void *)first; /* list is its first field */

		dev = BPF_CORE_READ(gd, dev);
	}
	if (dev) {
		sva_dev_info(dev, gr->dev_name, &gid, &mp, false);
		gr->max_pasids = mp;
	}
	if (!bpf_core_field_exists(g->pasid_array)) {
		w->flags |= SVA_STATE_NO_PASID_ARRAY;
	} else {
		head = (unsigned long)BPF_CORE_READ(g, pasid_array.xa_head);
		if (XA_IS_NODE(head)) {
			w->depth = 0;
			w->node[0] = (void *)(head - 2);
			w->next[0] = 0;
			w->base[0] = 0;
			bpf_loop(MAX_SLOTS, xa_step, lc, 0);
		} else if (head && !XA_INTERNAL(head)) {
			attach_entry(lc, 0, head); /* a lone entry at index 0 lives in xa_head */
		}
	}
	if (!w->stopped)
		emit(lc, gr);
}

static long group_step(__u32 i, void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct walk *w = lc->w;
	struct kobject *kobj;
	struct list_head *pos = w->gpos;

	pos = BPF_CORE_READ(pos, next);
	w->gpos = pos;
	if (!pos || pos == w->ghead)
		return 1;
	if (w->ordinal >= MAX_GROUPS) {
		w->flags |= SVA_STATE_TRUNCATED;
		return 1;
	}
	if (w->ordinal >= w->cur.skip_groups && w->cur.budget <= 1) {
		/* no room for another group record: the next run starts at this group */
		w->stopped = 1;
		w->resume_at = 0;
		w->grec.count = 0;
		return 1;
	}
	if (w->ordinal >= w->cur.skip_groups) {
		kobj = (void *)((char *)pos - bpf_core_field_offset(struct kobject, entry));
		walk_group(lc, (void *)((char *)kobj -
					bpf_core_field_offset(struct iommu_group___st, kobj)));
		if (w->stopped)
			return 1;
		w->nr_groups++;
	}
	w->ordinal++;
	return 0;
}

static __always_inline void walk_groups(struct walk *w, struct seq_file *seq)
{
	struct loop_ctx lc = { .w = w, .seq = seq };
	struct task_struct *me = (void *)bpf_get_current_task();
	struct file **fds, *dir = NULL;
	struct kernfs_node *kn;
	struct kobject *kobj;
	unsigned int max_fds;
	struct kset *kset;

	if (!bpf_core_field_exists(((struct iommu_group___st *)0)->pasid_array))
		w->flags |= SVA_STATE_NO_PASID_ARRAY;
	if (groups_dir_fd == -2)
		return; /* no /sys/kernel/iommu_groups: this machine has no iommu group */
	if (groups_dir_fd < 0) {
		w->flags |= SVA_STATE_NO_GROUP_LIST;
		return;
	}
	/* Our own descriptor of /sys/kernel/iommu_groups: we are the task reading the iterator. */
	fds = BPF_CORE_READ(me, files, fdt, fd);
	max_fds = BPF_CORE_READ(me, files, fdt, max_fds);
	if (!fds || (unsigned int)groups_dir_fd >= max_fds) {
		w->flags |= SVA_STATE_NO_GROUP_LIST;
		return;
	}
	bpf_probe_read_kernel(&dir, sizeof(dir), &fds[groups_dir_fd & 0xffffff]);
	/* kernfs: inode->i_private is the node; a sysfs directory's node->priv its kobject */
	kn = dir ? BPF_CORE_READ(dir, f_inode, i_private) : NULL;
	kobj = kn ? BPF_CORE_READ(kn, priv) : NULL;
	if (!kobj) {
		w->flags |= SVA_STATE_NO_GROUP_LIST;
		return;
	}
	kset = (void *)((char *)kobj - bpf_core_field_offset(struct kset, kobj));
	w->ghead = &kset->list;
	w->gpos = w->ghead;
	w->slots_left = MAX_SLOTS;
	/* XA_CHUNK_SIZE: 64, or 16 with CONFIG_BASE_SMALL */
	w->chunk = bpf_core_field_size(struct xa_node, slots) / sizeof(void *);
	bpf_loop(MAX_GROUPS + 1, group_step, &lc, 0);
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct seq_file *seq = ctx->meta->seq;
	struct mm_struct___v68 *mm68;
	struct mm_struct___v61 *mm61;
	struct sva_state_rec *r;
	struct mm_struct *mm;
	__u32 zero = 0;
	struct walk *w;

	w = bpf_map_lookup_elem(&walks, &zero);
	if (!w)
		return 0;
	if (!task) {
		/* The last call: the groups, then what was read. */
		mm68 = NULL;
		mm61 = NULL;
		if (!bpf_core_field_exists(mm68->iommu_mm) && !bpf_core_field_exists(mm61->pasid))
			w->flags |= SVA_STATE_NO_MM_PASID;
		if (w->cur.mode == SVA_STATE_MODE_GROUPS)
			walk_groups(w, seq);
		r = &w->rec;
		__builtin_memset(r, 0, sizeof(*r));
		r->kind = SVA_STATE_END;
		r->flags = w->flags;
		r->group_id = w->nr_groups;
		r->users = SVA_UNKNOWN_S32;
		r->count = w->nr_records;
		if (w->stopped) {
			r->flags |= SVA_STATE_MORE;
			r->group_id = w->ordinal;
			r->start_ns = w->resume_at;
			r->tgid = w->grec.count;
		}
		bpf_seq_write(seq, r, sizeof(*r));
		return 0;
	}
	/*
	 * Threads share their leader's mm: one record per process, the leader's. A leader that
	 * exited before its threads (pthread_exit in main) is a zombie whose mm is NULL (exit_mm):
	 * then each thread with the mm writes the record (userspace keeps one per tgid), or the
	 * process, its PASID and its bonds' owner would be missing. Groups runs write none.
	 */
	if (w->cur.mode != SVA_STATE_MODE_TASKS)
		return 0;
	mm = task->mm;
	if (!mm)
		return 0;
	if (task->pid != task->tgid && task->group_leader->mm)
		return 0;
	r = &w->rec;
	__builtin_memset(r, 0, sizeof(*r));
	if (task->pid != task->tgid)
		r->flags = SVA_STATE_LEADER_GONE;
	r->pasid = sva_mm_pasid(mm, false);
	if (r->pasid == SVA_PASID_NONE || r->pasid == 0)
		return 0;
	r->kind = SVA_STATE_TASK;
	r->tgid = task->tgid;
	r->mm = (__u64)mm;
	r->start_ns = task->group_leader->start_time;
	r->group_id = SVA_UNKNOWN_S32;
	r->users = SVA_UNKNOWN_S32;
	r->domain_type = (__u32)-1;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);
	if (!bpf_seq_write(seq, r, sizeof(*r)))
		w->nr_records++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
