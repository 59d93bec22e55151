/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CO-RE shims: every difference between kernel generations that the BPF
 * programs have to cope with lives here, behind one small getter each.
 *
 * The structs below are "flavors": libbpf matches them to the running
 * kernel's types by the name before the triple underscore, field by field,
 * so none of them depends on which kernel vmlinux.h was generated from.
 * Only the fields we read are declared. docs/KERNELS.md has the layouts of
 * each generation, read from Debian's linux-source packages.
 */
#ifndef SVA_CORE_FIXES_BPF_H
#define SVA_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>
#include "sva_trace.h"

/* refcount_t as the kernel lays it out (struct, not int: CO-RE checks). */
struct refcount_struct___x {
	struct {
		int counter;
	} refs;
} __attribute__((preserve_access_index));

/*
 * 6.11+: struct iommu_sva embeds a struct iommu_attach_handle whose domain
 * pointer replaced iommu_sva.domain (14678219cf40 "iommu: Introduce
 * domain attachment handle", 6.11).
 */
struct iommu_attach_handle___sva {
	struct iommu_domain *domain;
} __attribute__((preserve_access_index));

struct iommu_sva___v611 {
	struct iommu_attach_handle___sva handle;
	struct device *dev;
	struct refcount_struct___x users;
} __attribute__((preserve_access_index));

/*
 * 6.2 - 6.10: SVA domains (136467962e49, be51b1d6bbff, 6.2) with the domain
 * pointer in struct iommu_sva itself. One handle per bind until 6.8; from
 * 6.8 (092edaddb660) one handle per (device, mm) with a users refcount.
 */
struct iommu_sva___v62 {
	struct device *dev;
	struct iommu_domain *domain;
	struct refcount_struct___x users; /* 6.8 - 6.10 only */
} __attribute__((preserve_access_index));

/*
 * 6.1 and older: struct iommu_sva is a bare driver-embedded { dev } with no
 * refcount of its own (Intel keeps users in the private intel_svm_dev).
 */
struct iommu_sva___v61 {
	struct device *dev;
} __attribute__((preserve_access_index));

/*
 * 6.8+: the per-mm SVA state moved from mm->pasid to mm->iommu_mm
 * (struct iommu_mm_data): 541a3e257d48 added it, 1fa05c932dc7 removed
 * mm->pasid.
 */
struct iommu_mm_data___x {
	__u32 pasid;
} __attribute__((preserve_access_index));

struct mm_struct___v68 {
	struct iommu_mm_data___x *iommu_mm;
} __attribute__((preserve_access_index));

/* <= 6.7: the PASID lived directly in the mm (CONFIG_IOMMU_SVA). */
struct mm_struct___v61 {
	__u32 pasid;
} __attribute__((preserve_access_index));

/*
 * type exists everywhere; mm and users (binds in 6.2 - 6.7, devices from
 * 6.8) exist for SVA domains from 6.2, inside an anonymous union.
 */
struct iommu_domain___x {
	unsigned int type;
	struct mm_struct *mm;
	int users;
} __attribute__((preserve_access_index));

/*
 * recovery_cnt: devices of the group under reset; while non-zero,
 * iommu_attach_device_pasid() and iommu_replace_device_pasid() fail with
 * -EBUSY (7.x, drivers/iommu/iommu.c: "concurrent attach during device
 * recovery").
 */
struct iommu_group___x {
	int id;
	unsigned int recovery_cnt;
} __attribute__((preserve_access_index));

/* max_pasids arrived with the PASID attach API (6.2). */
struct dev_iommu___x {
	__u32 max_pasids;
} __attribute__((preserve_access_index));

struct device___x {
	struct {
		const char *name;
	} kobj;
	struct iommu_group___x *iommu_group;
	struct dev_iommu___x *iommu;
} __attribute__((preserve_access_index));

/*
 * SVA_READ(direct, p, field): p->field. Each getter below takes `direct`: true when p (and
 * every pointer the getter reaches from it) is a typed pointer the verifier knows, i.e. an
 * fentry/fexit argument (the attach function's BTF types it) or a field read through one.
 * Such a load is one instruction that the JIT guards with an exception-table entry, a fault
 * giving 0 as bpf_probe_read_kernel() would (PROBE_MEM; tracing programs have it on every
 * kernel we support). Otherwise (kprobe arguments, return values from bpf_get_func_ret(), a
 * pointer read through a union, which the verifier types by its first member, or one
 * computed with container_of) the read is bpf_probe_read_kernel(): a helper call, with its
 * range check and page-fault disabling, for every field. `direct` is a constant at every
 * call site, so the compiler keeps one of the two.
 */
#define SVA_READ(direct, p, field) ((direct) ? (p)->field : BPF_CORE_READ(p, field))

static __always_inline __u32 sva_mm_pasid(struct mm_struct *mm, bool direct)
{
	struct mm_struct___v68 *mm68 = (void *)mm;
	struct mm_struct___v61 *mm61 = (void *)mm;
	struct iommu_mm_data___x *data;

	if (!mm)
		return SVA_PASID_NONE;
	if (bpf_core_field_exists(mm68->iommu_mm)) {
		data = SVA_READ(direct, mm68, iommu_mm);
		if (!data)
			return SVA_PASID_NONE;
		return SVA_READ(direct, data, pasid);
	}
	if (bpf_core_field_exists(mm61->pasid))
		return SVA_READ(direct, mm61, pasid);
	return SVA_PASID_NONE;
}

/* The domain an SVA bond is attached with; NULL on 6.1 (none exists). */
static __always_inline struct iommu_domain *sva_bond_domain(void *bond, bool direct)
{
	struct iommu_sva___v611 *b611 = bond;
	struct iommu_sva___v62 *b62 = bond;

	if (!bond)
		return NULL;
	if (bpf_core_field_exists(b611->handle))
		return SVA_READ(direct, b611, handle.domain);
	if (bpf_core_field_exists(b62->domain))
		return SVA_READ(direct, b62, domain);
	return NULL;
}

/*
 * 6.1: struct iommu_sva is embedded in the driver's private bond, which keeps
 * the count. Intel VT-d: intel_svm_dev.users, a plain int under
 * pasid_mutex (drivers/iommu/intel/svm.c, 6.1: users++ / users--); SMMUv3:
 * arm_smmu_bond.refs, a refcount_t (arm-smmu-v3-sva.c, 6.1). Both were
 * removed when the core took the count over (6.2, be51b1d6bbff).
 */
struct intel_svm_dev___v61 {
	struct device *dev;
	struct iommu_sva___v61 sva;
	__u32 pasid;
	int users;
} __attribute__((preserve_access_index));

struct arm_smmu_bond___v61 {
	struct iommu_sva___v61 sva;
	struct mm_struct *mm;
	struct refcount_struct___x refs;
} __attribute__((preserve_access_index));

/*
 * A kernel without CONFIG_IOMMU_SVA (every Debian arm64 kernel: no ARM_SMMU_V3_SVA) has no
 * struct iommu_sva in its BTF. An unguarded read of it is an instruction libbpf poisons, and
 * the verifier rejects the whole program wherever that read is reachable: the start-up
 * state iterator, loaded on every kernel, did not load there.
 */
static __always_inline struct device *sva_bond_dev(void *bond, bool direct)
{
	struct iommu_sva___v61 *b = bond;

	if (!bond || !bpf_core_field_exists(b->dev))
		return NULL;
	return SVA_READ(direct, b, dev);
}

/* 6.1 Intel VT-d: the intel_svm_dev that embeds bond when its device is dev, else NULL. */
static __always_inline struct intel_svm_dev___v61 *sva_intel_sdev(void *bond, struct device *dev)
{
	struct intel_svm_dev___v61 *sdev;

	if (!bpf_core_type_exists(struct intel_svm_dev___v61))
		return NULL;
	sdev = (void *)((char *)bond - bpf_core_field_offset(struct intel_svm_dev___v61, sva));
	return BPF_CORE_READ(sdev, dev) == dev ? sdev : NULL;
}

/* 6.1 SMMUv3: the arm_smmu_bond that would embed bond (its mm says whether it does), or NULL. */
static __always_inline struct arm_smmu_bond___v61 *sva_smmu_bond(void *bond)
{
	if (!bpf_core_type_exists(struct arm_smmu_bond___v61))
		return NULL;
	return (void *)((char *)bond - bpf_core_field_offset(struct arm_smmu_bond___v61, sva));
}

/*
 * The 6.1 driver-private count behind bond, -1 unknown. mm: the bound mm
 * when known (bind), else NULL. A driver other than these two embeds
 * iommu_sva elsewhere: each read is checked against a field that must
 * agree (the device, the mm) before the count is believed.
 */
static __always_inline __s32 sva_bond_driver_users(void *bond, struct mm_struct *mm)
{
	struct intel_svm_dev___v61 *sdev = sva_intel_sdev(bond, sva_bond_dev(bond, false));
	struct arm_smmu_bond___v61 *ab;
	struct mm_struct *bond_mm;

	if (sdev)
		return BPF_CORE_READ(sdev, users);
	ab = sva_smmu_bond(bond);
	bond_mm = ab ? BPF_CORE_READ(ab, mm) : NULL;
	if (bond_mm && (!mm || bond_mm == mm))
		return BPF_CORE_READ(ab, refs.refs.counter);
	return SVA_UNKNOWN_S32;
}

/*
 * 6.1: the mm and PASID of a driver's bond, which an unbind's struct iommu_sva (a bare
 * { dev }, no domain) does not name. SMMUv3: arm_smmu_bond.mm, and its mm->pasid; Intel
 * VT-d: intel_svm_dev.pasid only (the mm is in the intel_svm that holds the sdev on its
 * list, which nothing in the sdev points to; userspace maps the PASID to the mm of the
 * process the state showed with it). Each checked as sva_bond_driver_users is. Nothing on
 * 6.2+, where the domain names both.
 */
static __always_inline void sva_bond_driver_mm(void *bond, __u64 *mm, __u32 *pasid)
{
	struct iommu_sva___v611 *b611 = bond;
	struct iommu_sva___v62 *b62 = bond;
	struct intel_svm_dev___v61 *sdev;
	struct arm_smmu_bond___v61 *ab;
	struct mm_struct *bond_mm;

	if (!bond || bpf_core_field_exists(b611->handle) || bpf_core_field_exists(b62->domain))
		return;
	sdev = sva_intel_sdev(bond, sva_bond_dev(bond, false));
	if (sdev && bpf_core_field_exists(sdev->pasid)) {
		*pasid = BPF_CORE_READ(sdev, pasid);
		return;
	}
	ab = sva_smmu_bond(bond);
	bond_mm = ab ? BPF_CORE_READ(ab, mm) : NULL;
	if (bond_mm) {
		*mm = (__u64)bond_mm;
		*pasid = sva_mm_pasid(bond_mm, false);
	}
}

/*
 * The bond's users count and where it was read (flags |= SVA_EVF_USERS_*):
 * iommu_sva.users from 6.8; the SVA domain's users (one per bind, a new
 * handle each) in 6.2 - 6.7 (USERS_DOMAIN); the driver's bond on 6.1
 * (USERS_DRIVER, always read with the helper: the driver's struct is reached by
 * container_of); -1 when none of these can be read.
 */
static __always_inline __s32 sva_bond_users(void *bond, struct mm_struct *mm, __u16 *flags,
					    bool direct)
{
	struct iommu_sva___v611 *b611 = bond;
	struct iommu_sva___v62 *b62 = bond;
	struct iommu_domain___x *d;
	__s32 users;

	if (!bond)
		return SVA_UNKNOWN_S32;
	if (bpf_core_field_exists(b611->handle))
		return SVA_READ(direct, b611, users.refs.counter);
	if (bpf_core_field_exists(b62->users))
		return SVA_READ(direct, b62, users.refs.counter);
	if (bpf_core_field_exists(b62->domain)) {
		d = (void *)SVA_READ(direct, b62, domain);
		if (d && bpf_core_field_exists(d->users)) {
			*flags |= SVA_EVF_USERS_DOMAIN;
			/* users is in the domain's union: read with the helper */
			return BPF_CORE_READ(d, users);
		}
		return SVA_UNKNOWN_S32;
	}
	users = sva_bond_driver_users(bond, mm);
	if (users != SVA_UNKNOWN_S32)
		*flags |= SVA_EVF_USERS_DRIVER;
	return users;
}

/*
 * Domain type and owning mm; type -1 when there is no domain. The mm is in the domain's
 * union: always read with the helper, and what it returns is not a typed pointer.
 */
static __always_inline void sva_domain_info(struct iommu_domain *domain, __u32 *type,
					    struct mm_struct **mm, bool direct)
{
	struct iommu_domain___x *d = (void *)domain;

	*type = (__u32)-1;
	*mm = NULL;
	if (!domain)
		return;
	*type = SVA_READ(direct, d, type);
	if (bpf_core_field_exists(d->mm))
		*mm = BPF_CORE_READ(d, mm);
}

static __always_inline __s32 sva_group_id(struct iommu_group *group, bool direct)
{
	struct iommu_group___x *g = (void *)group;

	if (!group)
		return SVA_UNKNOWN_S32;
	return SVA_READ(direct, g, id);
}

/* Whether dev's group is being reset (7.x); false where the kernel has no such state. */
static __always_inline bool sva_dev_group_resetting(struct device *dev, bool direct)
{
	struct device___x *d = (void *)dev;
	struct iommu_group___x *g = NULL;

	if (!dev || !bpf_core_field_exists(g->recovery_cnt))
		return false;
	g = SVA_READ(direct, d, iommu_group);
	return g && SVA_READ(direct, g, recovery_cnt) > 0;
}

static __always_inline void sva_dev_info(struct device *dev, char *name, __s32 *group_id,
					 __u32 *max_pasids, bool direct)
{
	struct device___x *d = (void *)dev;
	struct dev_iommu___x *param;
	const char *kname;

	*group_id = SVA_UNKNOWN_S32;
	*max_pasids = 0;
	if (!dev)
		return;
	kname = SVA_READ(direct, d, kobj.name);
	if (kname)
		bpf_probe_read_kernel_str(name, SVA_DEV_NAME_LEN, kname);
	*group_id = sva_group_id((void *)SVA_READ(direct, d, iommu_group), direct);
	param = SVA_READ(direct, d, iommu);
	if (param && bpf_core_field_exists(param->max_pasids))
		*max_pasids = SVA_READ(direct, param, max_pasids);
}

#endif /* SVA_CORE_FIXES_BPF_H */
