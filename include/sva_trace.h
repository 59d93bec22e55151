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
	__u32 __pad;
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

#define SVA_EVENT_SIZE 144
_Static_assert(sizeof(struct sva_event) == SVA_EVENT_SIZE, "sva_event ABI size changed");
_Static_assert(sizeof(struct sva_lookup_key) == 8, "sva_lookup_key ABI size changed");
_Static_assert(sizeof(struct sva_lookup_count) == 32, "sva_lookup_count ABI size changed");

#endif /* SVA_TRACE_H */
