/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state ABI: what bpf/sva_state.bpf.c's task iterator writes into its seq_file at
 * start-up (and at a re-sync), one fixed-size record each, read by loader.c.
 * Same rules as sva_trace.h: record kind first, fixed widths, explicit padding, size pinned.
 */
#ifndef SVA_STATE_H
#define SVA_STATE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "sva_trace.h"

enum sva_state_kind {
	SVA_STATE_TASK = 1, /* a process (thread-group leader) whose mm holds a PASID */
	SVA_STATE_GROUP = 2, /* an iommu group: its first device, max_pasids, PASIDs used */
	SVA_STATE_ATTACH = 3, /* one entry of a group's PASID array (an SVA bond if type SVA) */
	SVA_STATE_END = 4, /* last record: counts, and what could not be read (flags) */
	SVA_STATE__MAX,
};

/* sva_state_rec.flags of SVA_STATE_END: the parts this kernel did not let us read */
enum sva_state_flags {
	/* no struct iommu_group.pasid_array (6.1: bonds are driver-private, no PASID attach API) */
	SVA_STATE_NO_PASID_ARRAY = 1 << 0,
	/* no way to the iommu groups (/sys/kernel/iommu_groups could not be opened) */
	SVA_STATE_NO_GROUP_LIST = 1 << 1,
	/* a bound was reached (devices, groups, PASID-array slots): the state is partial */
	SVA_STATE_TRUNCATED = 1 << 2,
	/* neither mm->iommu_mm nor mm->pasid: no per-mm PASID */
	SVA_STATE_NO_MM_PASID = 1 << 3,
	/* ATTACH: the entry is a bare domain (7.x tagged entry): no handle */
	SVA_STATE_BARE_DOMAIN = 1 << 4,
	/* TASK, set by userspace: its mm's exit_mmap will not be recorded (sva_mms map full) */
	SVA_STATE_MM_UNTRACKED = 1 << 5,
	/*
	 * END of a groups run that stopped at its record budget: group_id is the ordinal of the
	 * group to resume at, start_ns the PASID to resume at in it, tgid how many of its
	 * PASIDs were written. Userspace runs the iterator again from there.
	 */
	SVA_STATE_MORE = 1 << 6,
	/*
	 * TASK read from a thread, not the leader: the thread-group leader had exited (a main
	 * thread's pthread_exit leaves a zombie leader whose mm is NULL while the other threads
	 * run). Every such thread writes one; userspace keeps the first of a tgid.
	 */
	SVA_STATE_LEADER_GONE = 1 << 7,
};

/*
 * The iterator runs more than once per read: the program can write only what one seq_file
 * buffer holds in one call (bpf_iter: 8 pages), and the groups are written in its last call.
 * So a first run writes the tasks, then runs write the groups, each from where the previous
 * one stopped. Userspace puts this at the start of the walk map's value before each run.
 */
enum sva_state_mode {
	SVA_STATE_MODE_TASKS = 0,
	SVA_STATE_MODE_GROUPS = 1,
};

struct sva_state_cursor {
	__u32 mode; /* enum sva_state_mode */
	__u32 skip_groups; /* groups written whole by earlier runs */
	__u64 resume_index; /* in the group after those: PASIDs below this were written */
	__u32 resume_count; /* ... that many */
	__u32 budget; /* records this run may write */
};

/* Records per groups run: 200 x 112 bytes fit the 32 KiB seq_file buffer. */
#define SVA_STATE_BUDGET 200

struct sva_state_rec {
	__u16 kind; /* enum sva_state_kind */
	__u16 flags; /* enum sva_state_flags */
	__u32 tgid; /* TASK; END with SVA_STATE_MORE: PASIDs of the resumed group written */
	__u64 mm; /* TASK: its mm; ATTACH of an SVA domain: the domain's mm */
	__u64 start_ns; /* TASK: task start time (CLOCK_MONOTONIC, like the events' ts_ns) */
	char comm[SVA_COMM_LEN]; /* TASK */
	__u32 pasid; /* TASK: the mm's PASID; ATTACH: the array index */
	__s32 group_id; /* GROUP, ATTACH; END: groups walked */
	__u64 domain; /* ATTACH */
	__u32 domain_type; /* ATTACH */
	__s32 users; /* ATTACH of an SVA handle: iommu_sva.users, else -1; END: see below */
	__u64 handle; /* ATTACH: struct iommu_sva * / iommu_attach_handle *, 0 for a bare domain */
	char dev_name[SVA_DEV_NAME_LEN]; /* GROUP: first device; ATTACH: the bond's device */
	__u32 max_pasids; /* GROUP, ATTACH: the device's max_pasids, 0 unknown */
	__u32 count; /* GROUP: PASID-array entries; TASK: SVA domains of the mm; END: records */
};

/*
 * END's users, set by userspace (src/session.c): the traced state-changing calls (bind,
 * unbind, attach, replace, detach) that entered across the read and had not returned; 0: none
 * was in flight at any moment of it; -1: not known (the BPF side, older captures).
 */

#define SVA_STATE_REC_SIZE 112
_Static_assert(sizeof(struct sva_state_rec) == SVA_STATE_REC_SIZE, "sva_state_rec ABI size changed");

#endif /* SVA_STATE_H */
