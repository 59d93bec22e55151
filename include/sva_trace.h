/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event ABI shared by the BPF programs (bpf/) and userspace (src/).
 *
 * Every ring-buffer record starts with its record type. Fields have fixed
 * widths and explicit padding so that the BPF side (compiled with
 * -target bpf) and the host side agree byte for byte; the sizes are pinned
 * by static asserts below, which both sides compile.
 */
#ifndef SVA_TRACE_H
#define SVA_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SVA_COMM_LEN 16
#define SVA_DEV_NAME_LEN 32

/*
 * iommu_domain.type values, as include/linux/iommu.h has them from 6.2 through 7.2
 * (__IOMMU_DOMAIN_PAGING 1<<0, _DMA_API 1<<1, _PT 1<<2, _DMA_FQ 1<<3, _SVA 1<<4,
 * _PLATFORM 1<<5, _NESTED 1<<6): defined once here for the BPF side and userspace.
 */
#define SVA_DOMAIN_BLOCKED 0x0u
#define SVA_DOMAIN_IDENTITY 0x4u /* __IOMMU_DOMAIN_PT */
#define SVA_DOMAIN_UNMANAGED 0x1u /* __IOMMU_DOMAIN_PAGING */
#define SVA_DOMAIN_DMA 0x3u /* PAGING | DMA_API */
#define SVA_DOMAIN_DMA_FQ 0xbu /* PAGING | DMA_API | DMA_FQ */
#define SVA_DOMAIN_SVA 0x10u
#define SVA_DOMAIN_PLATFORM 0x20u
#define SVA_DOMAIN_NESTED 0x40u

/* No PASID: the kernel's IOMMU_PASID_INVALID / INVALID_IOASID. */
#define SVA_PASID_NONE 0xffffffffu
/* Field could not be read on this kernel (or does not exist there). */
#define SVA_UNKNOWN_S32 (-1)

/* Record types: the first field of every record. Values are ABI. */
enum sva_rec_type {
	SVA_REC_BIND = 1, /* iommu_sva_bind_device returned */
	SVA_REC_UNBIND = 2, /* iommu_sva_unbind_device called */
	SVA_REC_ATTACH = 3, /* iommu_attach_device_pasid returned */
	SVA_REC_REPLACE = 4, /* iommu_replace_device_pasid returned */
	SVA_REC_DETACH = 5, /* iommu_detach_device_pasid called */
	SVA_REC_LOOKUP = 6, /* iommu_attach_handle_get returned */
	SVA_REC_PASID_ALLOC = 7, /* a PASID was allocated */
	SVA_REC_PASID_FREE = 8, /* a PASID was released */
	SVA_REC_MM_PASID_DROP = 9, /* an mm gave up its PASID (mm teardown) */
	SVA_REC_PROC_EXIT = 10, /* a process that used SVA exited */
	SVA_REC_MM_EXIT = 11, /* exit_mmap: the last task using an SVA mm is gone */
	SVA_REC__MAX,
};

/* sva_event.flags */
enum sva_event_flags {
	/* users was read before the call (unbind); after = users - 1 */
	SVA_EVF_USERS_BEFORE = 1 << 0,
	/* the record came from a kprobe/kretprobe pair, not fentry/fexit */
	SVA_EVF_KPROBE = 1 << 1,
	/* LOOKUP: emitted because --all-lookups, not because it failed */
	SVA_EVF_LOOKUP_SAMPLED = 1 << 2,
	/* PROC_EXIT: the whole thread group is gone (last thread exited) */
	SVA_EVF_GROUP_DEAD = 1 << 3,
	/* users counts the shared SVA domain's binds (6.2-6.7: a new handle per bind) */
	SVA_EVF_USERS_DOMAIN = 1 << 4,
	/* users read from the driver's private bond (6.1: intel_svm_dev, arm_smmu_bond) */
	SVA_EVF_USERS_DRIVER = 1 << 5,
	/* ATTACH/REPLACE -EBUSY while the group was being reset (7.x resetting_domain) */
	SVA_EVF_GROUP_RESETTING = 1 << 6,
	/* PASID_ALLOC: the mm already had this PASID; nothing was allocated (6.1 reuse) */
	SVA_EVF_PASID_EXISTING = 1 << 7,
	/* BIND: the mm could not be remembered (the BPF map of SVA mms was full): no mm_exit
	 * record will come for it */
	SVA_EVF_MM_UNTRACKED = 1 << 8,
	/* BIND/UNBIND/ATTACH/DETACH: made by a kernel thread (PF_KTHREAD: a kworker running a
	 * deferred release, a hot-unplug thread), which uses no mm of its own */
	SVA_EVF_KTHREAD = 1 << 9,
	/* BIND/UNBIND/ATTACH/DETACH: made by an exiting task (PF_EXITING, set by do_exit's
	 * exit_signals before exit_mm): a descriptor's release in exit_files/exit_task_work,
	 * after the process_exit record of the process's last thread */
	SVA_EVF_EXITING = 1 << 10,
};

/*
 * One event. Pointers are raw kernel addresses; userspace hashes them
 * before they leave the tool unless asked otherwise.
 */
struct sva_event {
	__u16 type; /* enum sva_rec_type */
	__u16 flags; /* enum sva_event_flags */
	__u32 cpu;
	__u64 seq; /* per-run sequence; a gap means lost records */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 pid; /* thread id */
	__u32 tgid; /* process id */
	char comm[SVA_COMM_LEN];
	__u64 mm; /* mm_struct the operation is about (bind: the bound mm) */
	char dev_name[SVA_DEV_NAME_LEN];
	__s32 group_id; /* iommu_group id, -1 unknown */
	__u32 pasid; /* SVA_PASID_NONE when none */
	__u64 domain; /* struct iommu_domain * */
	__u32 domain_type; /* iommu_domain.type as the kernel has it */
	__s32 users; /* handle users after the operation, -1 unknown */
	__u64 handle; /* struct iommu_sva * or struct iommu_attach_handle * */
	__s64 ret; /* 0 or -errno; PASID_ALLOC: the PASID or -errno */
	__s32 stack_id; /* kernel stack id with --stacks, else -1 */
	__u32 aux; /* LOOKUP: requested domain type; PROC_EXIT: exit code */
	__u32 max_pasids; /* the device's max_pasids, 0 unknown */
	/*
	 * Failure provenance (bind, attach, replace, PASID allocation that failed): the
	 * innermost probed function on the SVA path that returned the error the call
	 * failed with, recorded in the kernel while the call was in flight on this thread.
	 * Records from before these fields (SVA_EVENT_SIZE_V1 bytes) decode with none.
	 */
	__u16 cause_func; /* enum sva_cause_func; 0: no cause recorded */
	__u8 cause_depth; /* calls below the traced function (1: it called cause_func) */
	__u8 cause_flags; /* enum sva_cause_flags */
	__s32 cause_err; /* what cause_func returned, as -errno */
	__u16 cause_check; /* SVA_CAUSE_INLINE: the check that failed (userspace, cause.h) */
	__u16 cause_calls; /* probed functions entered during the call (saturates) */
};

/* sva_event.cause_flags */
enum sva_cause_flags {
	/*
	 * The traced call failed and no probed function inside it did: the error came
	 * from a check in its own body (or in a callee the compiler inlined).
	 * cause_func is the traced function itself, cause_depth 0.
	 */
	SVA_CAUSE_INLINE = 1 << 0,
	/* cause_func returned NULL (an allocator), not an ERR_PTR: cause_err is -ENOMEM */
	SVA_CAUSE_NULL = 1 << 1,
	/* cause_func returned no PASID (IOMMU_PASID_INVALID): cause_err is -ENOSPC */
	SVA_CAUSE_NO_PASID = 1 << 2,
};

/*
 * Functions that can be a cause. Values are ABI (a record carries them); names and
 * explanations are in src/cause.c, which also says which kernels have each.
 */
enum sva_cause_func {
	SVA_CF_NONE = 0,
	/* traced functions: a failure of one nested in another is a cause of the outer */
	SVA_CF_IOMMU_SVA_BIND_DEVICE = 1,
	SVA_CF_IOMMU_ATTACH_DEVICE_PASID = 2,
	SVA_CF_IOMMU_REPLACE_DEVICE_PASID = 3,
	SVA_CF_IOMMU_ATTACH_HANDLE_GET = 4,
	SVA_CF_IOMMU_ALLOC_GLOBAL_PASID = 5,
	SVA_CF_IOMMU_SVA_ALLOC_PASID = 6,
	/* the IOMMU core's SVA path */
	SVA_CF_IOMMU_ALLOC_MM_DATA = 7,
	SVA_CF_IOMMU_SVA_DOMAIN_ALLOC = 8,
	SVA_CF_IOMMU_SET_GROUP_PASID = 9, /* __iommu_set_group_pasid */
	SVA_CF_IOASID_ALLOC = 10,
	/* Intel VT-d */
	SVA_CF_INTEL_SVM_BIND = 11,
	SVA_CF_INTEL_SVM_BIND_MM = 12,
	SVA_CF_INTEL_SVM_ALLOC_PASID = 13,
	SVA_CF_INTEL_SVM_DOMAIN_ALLOC = 14,
	SVA_CF_INTEL_SVM_SET_DEV_PASID = 15,
	SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL = 16,
	/* AMD-Vi */
	SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA = 17,
	SVA_CF_AMD_SVA_SET_DEV_PASID = 18, /* iommu_sva_set_dev_pasid, amd/pasid.c */
	/* ARM SMMUv3 */
	SVA_CF_ARM_SMMU_SVA_BIND = 19,
	SVA_CF_ARM_SMMU_SVA_BIND_INNER = 20, /* __arm_smmu_sva_bind */
	SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC = 21,
	SVA_CF_ARM_SMMU_SVA_SET_DEV_PASID = 22,
	SVA_CF_ARM_SMMU_SET_PASID = 23,
	/* the iommufd selftest mock IOMMU (lab kernel) */
	SVA_CF_MOCK_DOMAIN_ALLOC_SVA = 24,
	SVA_CF_MOCK_DOMAIN_SET_DEV_PASID = 25, /* mock_domain_set_dev_pasid_nop */
	SVA_CF__MAX,
};

/*
 * Program slots for probed callees in the BPF object: the loader gives one to each callee
 * the running kernel has (at most 13 of src/cause.c's table exist in one kernel).
 */
#define SVA_CALLEE_SLOTS 16
/*
 * The helper id bpf/sva_trace.bpf.c calls for bpf_session_is_return(): far above the last
 * helper any kernel has (about 215 in 7.2); the loader rewrites each such call into the
 * kfunc call before the program is loaded, and only in fsession programs.
 */
#define SVA_SESSION_IS_RETURN 0x7ff0

/* How a probed function reports failure (from its BTF return type). */
enum sva_ret_kind {
	SVA_RET_INT = 1, /* int/long: -errno */
	SVA_RET_PTR = 2, /* pointer: ERR_PTR(-errno), or NULL */
	SVA_RET_PASID = 3, /* ioasid_t: IOMMU_PASID_INVALID */
};

/* Key of the per-CPU look-up counters (iommu_attach_handle_get). */
struct sva_lookup_key {
	__s32 group_id;
	__u32 pasid;
};

/* Look-up results, index into sva_lookup_count.n[]. */
enum sva_lookup_result {
	SVA_LOOKUP_HANDLE = 0, /* found a handle */
	SVA_LOOKUP_ENOENT = 1, /* nothing attached */
	SVA_LOOKUP_EBUSY = 2, /* a domain of another type holds the PASID */
	SVA_LOOKUP_OTHER = 3, /* any other error */
	SVA_LOOKUP__MAX,
};

/* Value of the per-CPU look-up counters. */
struct sva_lookup_count {
	__u64 n[SVA_LOOKUP__MAX];
};

#define SVA_EVENT_SIZE 152
/* Records before the cause fields: still decoded (no cause). */
#define SVA_EVENT_SIZE_V1 144
_Static_assert(sizeof(struct sva_event) == SVA_EVENT_SIZE, "sva_event ABI size changed");
_Static_assert(sizeof(struct sva_lookup_key) == 8, "sva_lookup_key ABI size changed");
_Static_assert(sizeof(struct sva_lookup_count) == 32, "sva_lookup_count ABI size changed");

#endif /* SVA_TRACE_H */
