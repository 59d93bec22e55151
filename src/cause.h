/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Failure provenance: which function on the SVA path a failed bind, attach, replace or
 * PASID allocation failed in (the kernel side records it, include/sva_trace.h), its name,
 * the functions probed for it on each kernel generation, and one line per function and
 * errno that says what it means. When no probed function failed, the check inside the
 * traced function that did is named for the running kernel (sva_cause_resolve).
 * Pure tables and functions: unit-tested on the host.
 */
#ifndef SVA_CAUSE_H
#define SVA_CAUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "sva_trace.h"

/* A probed callee: found at run time (BTF for fentry, kallsyms for kprobes). */
struct sva_callee {
	unsigned int id; /* enum sva_cause_func */
	const char *func;
	enum sva_ret_kind ret; /* when the kernel's BTF does not say */
	const char *kernels; /* where it exists, for --check and the docs */
	/*
	 * A driver's function: the name its IOMMUs take in /sys/class/iommu ("dmar" for VT-d,
	 * "ivhd" for AMD, "smmu3." for SMMUv3), and what they are; NULL for the core's and the
	 * mock's. The loader probes it only on a machine that has such an IOMMU.
	 */
	const char *iommu_prefix;
	const char *iommu_what;
};

/* The callees the loader probes (traced functions excluded: they have their own probes). */
const struct sva_callee *sva_callees(int *count);

/* cause_func of a replayed cause whose function this version does not know */
#define SVA_CF_UNKNOWN 0xffffu

/* "iommu_alloc_global_pasid"; NULL for an unknown id. */
const char *sva_cause_func_name(unsigned int id);
/* The inverse; 0 when unknown. */
unsigned int sva_cause_func_from_name(const char *name);

/* Inline checks (cause_check): userspace only, carried by name in JSON. */
enum sva_inline_check {
	SVA_IC_UNKNOWN = 0,
	SVA_IC_X86_SVA_DISABLED,
	SVA_IC_NO_GROUP,
	SVA_IC_NO_SVA_BIND_OP, /* 6.1: no sva_bind op, or no group */
	SVA_IC_GROUP_NOT_SINGLETON, /* 6.1 */
	SVA_IC_MM_PGTABLE_INCOMPAT,
	SVA_IC_MM_PASID_ABOVE_MAX,
	SVA_IC_PASID_OTHER_MM,
	SVA_IC_NO_DOMAIN_ALLOC_SVA,
	SVA_IC_HANDLE_ALLOC,
	SVA_IC_NO_SET_DEV_PASID,
	SVA_IC_ATTACH_INVALID,
	SVA_IC_GROUP_RESETTING,
	SVA_IC_PASID_IN_USE,
	SVA_IC_PASID_ARRAY_ALLOC,
	SVA_IC_REPLACE_INVALID,
	SVA_IC_NO_FREE_PASID,
	SVA_IC__MAX,
};

/* "x86-sva-disabled"; NULL for an unknown id (0 included). */
const char *sva_inline_check_name(unsigned int id);
/* The inverse; 0 when unknown. */
unsigned int sva_inline_check_from_name(const char *name);

/* What naming an inline check needs to know about the kernel that made the record. */
struct sva_kernel_facts {
	bool known; /* version parsed */
	unsigned int major, minor, patch; /* upstream version from the release string */
	bool x86;
};

/* From uname -r and uname -m (either may be NULL: unknown). */
void sva_kernel_facts_init(struct sva_kernel_facts *k, const char *release, const char *machine);

/* For a failed event with an inline cause: sets ev->cause_check when the check is known. */
void sva_cause_resolve(struct sva_event *ev, const struct sva_kernel_facts *k);

/* Whether the event carries a cause (a failure with provenance). */
static inline bool sva_event_has_cause(const struct sva_event *ev)
{
	return ev->cause_func != SVA_CF_NONE;
}

/*
 * One line, specific to the cause's function and errno (or to the inline check),
 * saying what failed and what to look at. NULL when the event has no cause.
 */
const char *sva_cause_explain(const struct sva_event *ev);

#endif
