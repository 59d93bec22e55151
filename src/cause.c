// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Failure provenance tables. The functions, their errnos and the inline checks are
 * read from Debian's linux-source-6.1 (6.1.192), -6.12 (6.12.118) and -7.2 (7.2.13):
 * drivers/iommu/iommu.c, iommu-sva.c (iommu-sva-lib.c and ioasid.c on 6.1), intel/svm.c,
 * intel/pasid.c, intel/iommu.c, amd/pasid.c, amd/iommu.c, arm/arm-smmu-v3/arm-smmu-v3-sva.c,
 * arm-smmu-v3.c and the lab's iommufd selftest mock (iommufd/selftest.c). A row whose
 * reason exists in one generation only says which.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"

static const char *const func_names[SVA_CF__MAX] = {
	[SVA_CF_IOMMU_SVA_BIND_DEVICE] = "iommu_sva_bind_device",
	[SVA_CF_IOMMU_ATTACH_DEVICE_PASID] = "iommu_attach_device_pasid",
	[SVA_CF_IOMMU_REPLACE_DEVICE_PASID] = "iommu_replace_device_pasid",
	[SVA_CF_IOMMU_ATTACH_HANDLE_GET] = "iommu_attach_handle_get",
	[SVA_CF_IOMMU_ALLOC_GLOBAL_PASID] = "iommu_alloc_global_pasid",
	[SVA_CF_IOMMU_SVA_ALLOC_PASID] = "iommu_sva_alloc_pasid",
	[SVA_CF_IOMMU_ALLOC_MM_DATA] = "iommu_alloc_mm_data",
	[SVA_CF_IOMMU_SVA_DOMAIN_ALLOC] = "iommu_sva_domain_alloc",
	[SVA_CF_IOMMU_SET_GROUP_PASID] = "__iommu_set_group_pasid",
	[SVA_CF_IOASID_ALLOC] = "ioasid_alloc",
	[SVA_CF_INTEL_SVM_BIND] = "intel_svm_bind",
	[SVA_CF_INTEL_SVM_BIND_MM] = "intel_svm_bind_mm",
	[SVA_CF_INTEL_SVM_ALLOC_PASID] = "intel_svm_alloc_pasid",
	[SVA_CF_INTEL_SVM_DOMAIN_ALLOC] = "intel_svm_domain_alloc",
	[SVA_CF_INTEL_SVM_SET_DEV_PASID] = "intel_svm_set_dev_pasid",
	[SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL] = "intel_pasid_setup_first_level",
	[SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA] = "amd_iommu_domain_alloc_sva",
	[SVA_CF_AMD_SVA_SET_DEV_PASID] = "iommu_sva_set_dev_pasid",
	[SVA_CF_ARM_SMMU_SVA_BIND] = "arm_smmu_sva_bind",
	[SVA_CF_ARM_SMMU_SVA_BIND_INNER] = "__arm_smmu_sva_bind",
	[SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC] = "arm_smmu_sva_domain_alloc",
	[SVA_CF_ARM_SMMU_SVA_SET_DEV_PASID] = "arm_smmu_sva_set_dev_pasid",
	[SVA_CF_ARM_SMMU_SET_PASID] = "arm_smmu_set_pasid",
	[SVA_CF_MOCK_DOMAIN_ALLOC_SVA] = "mock_domain_alloc_sva",
	[SVA_CF_MOCK_DOMAIN_SET_DEV_PASID] = "mock_domain_set_dev_pasid_nop",
};

/*
 * The callees, outermost first. Static ones may be inlined by the compiler, and 6.12
 * kernels with the CONFIG_X86 SVA disable drop the dead bind path (doctor.c): whatever
 * the running kernel lacks is skipped and listed by --check.
 */
/* A driver's callee: its IOMMUs' /sys/class/iommu prefix and what they are (struct sva_callee). */
#define VTD "dmar", "Intel VT-d unit"
#define AMD_VI "ivhd", "AMD IOMMU"
#define SMMU_V3 "smmu3.", "Arm SMMUv3"

static const struct sva_callee callees[] = {
	{ SVA_CF_IOMMU_ALLOC_MM_DATA, "iommu_alloc_mm_data", SVA_RET_PTR, "6.8+ (static)" },
	{ SVA_CF_IOMMU_SVA_DOMAIN_ALLOC, "iommu_sva_domain_alloc", SVA_RET_PTR, "6.2+ (static from 6.11)" },
	{ SVA_CF_IOMMU_SET_GROUP_PASID, "__iommu_set_group_pasid", SVA_RET_INT, "6.2+ (static)" },
	{ SVA_CF_IOASID_ALLOC, "ioasid_alloc", SVA_RET_PASID, "<= 6.3" },
	{ SVA_CF_INTEL_SVM_BIND, "intel_svm_bind", SVA_RET_PTR, "<= 6.1", VTD },
	{ SVA_CF_INTEL_SVM_BIND_MM, "intel_svm_bind_mm", SVA_RET_PTR, "<= 6.1 (static)", VTD },
	{ SVA_CF_INTEL_SVM_ALLOC_PASID, "intel_svm_alloc_pasid", SVA_RET_INT,
	  "<= 6.1 (static)", VTD },
	{ SVA_CF_INTEL_SVM_DOMAIN_ALLOC, "intel_svm_domain_alloc", SVA_RET_PTR, "6.2+", VTD },
	{ SVA_CF_INTEL_SVM_SET_DEV_PASID, "intel_svm_set_dev_pasid", SVA_RET_INT,
	  "6.2+ (static)", VTD },
	{ SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, "intel_pasid_setup_first_level", SVA_RET_INT,
	  "all", VTD },
	{ SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA, "amd_iommu_domain_alloc_sva", SVA_RET_PTR,
	  "6.10+", AMD_VI },
	{ SVA_CF_AMD_SVA_SET_DEV_PASID, "iommu_sva_set_dev_pasid", SVA_RET_INT, "6.10+", AMD_VI },
	{ SVA_CF_ARM_SMMU_SVA_BIND, "arm_smmu_sva_bind", SVA_RET_PTR, "<= 6.1", SMMU_V3 },
	{ SVA_CF_ARM_SMMU_SVA_BIND_INNER, "__arm_smmu_sva_bind", SVA_RET_PTR,
	  "<= 6.1 (static)", SMMU_V3 },
	{ SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC, "arm_smmu_sva_domain_alloc", SVA_RET_PTR,
	  "6.2+", SMMU_V3 },
	{ SVA_CF_ARM_SMMU_SVA_SET_DEV_PASID, "arm_smmu_sva_set_dev_pasid", SVA_RET_INT,
	  "6.2+ (static)", SMMU_V3 },
	{ SVA_CF_ARM_SMMU_SET_PASID, "arm_smmu_set_pasid", SVA_RET_INT, "6.10+", SMMU_V3 },
	{ SVA_CF_MOCK_DOMAIN_ALLOC_SVA, "mock_domain_alloc_sva", SVA_RET_PTR, "lab kernel (static)" },
	{ SVA_CF_MOCK_DOMAIN_SET_DEV_PASID, "mock_domain_set_dev_pasid_nop", SVA_RET_INT,
	  "6.11+ with CONFIG_IOMMUFD_TEST (static)" },
};

const struct sva_callee *sva_callees(int *count)
{
	*count = (int)(sizeof(callees) / sizeof(callees[0]));
	return callees;
}

const char *sva_cause_func_name(unsigned int id)
{
	return id < SVA_CF__MAX ? func_names[id] : NULL;
}

unsigned int sva_cause_func_from_name(const char *name)
{
	for (unsigned int i = 1; i < SVA_CF__MAX; i++)
		if (func_names[i] && !strcmp(func_names[i], name))
			return i;
	return 0;
}

/* ---- inline checks ---- */

struct inline_check {
	const char *name;
	const char *explanation;
};

static const struct inline_check checks[SVA_IC__MAX] = {
	[SVA_IC_X86_SVA_DISABLED] = {
		"x86-sva-disabled",
		"this x86 kernel has the stable backport \"iommu: disable SVA when CONFIG_X86 is "
		"set\" (upstream 72f98ef9a4be, in 6.1.163+, 6.12.64+ and some 6.18.y): "
		"iommu_sva_bind_device returns -EOPNOTSUPP before doing anything; boot a kernel with "
		"the kernel-address IOTLB fix (7.x) or one from before the backport" },
	[SVA_IC_NO_GROUP] = {
		"no-iommu-group",
		"the device has no IOMMU group (dev->iommu_group is NULL): no IOMMU translates for "
		"it; check that the IOMMU is on (intel_iommu=on, amd_iommu) and not in passthrough "
		"for this device" },
	[SVA_IC_NO_SVA_BIND_OP] = {
		"no-sva-bind-op",
		"the device's IOMMU driver has no sva_bind operation, or the device has no IOMMU "
		"group (6.1 iommu_sva_bind_device): this IOMMU or its driver cannot do SVA" },
	[SVA_IC_GROUP_NOT_SINGLETON] = {
		"group-has-several-devices",
		"the device shares its IOMMU group with other devices, which 6.1 SVA refuses "
		"(iommu_group_device_count != 1); give it its own group (ACS)" },
	[SVA_IC_MM_PGTABLE_INCOMPAT] = {
		"mm-pgtable-incompatible",
		"the process's page tables cannot be shared with the IOMMU (arch_pgtable_dma_compat: "
		"on x86 the mm has LAM tagged addresses enabled)" },
	[SVA_IC_MM_PASID_ABOVE_MAX] = {
		"mm-pasid-above-max-pasids",
		"the process already has a PASID (from a device with a larger PASID space) that is "
		"not below this device's max_pasids (iommu_alloc_mm_data)" },
	[SVA_IC_PASID_OTHER_MM] = {
		"pasid-bound-to-other-mm",
		"an SVA handle at this process's PASID belongs to another mm "
		"(attach_handle->domain->mm != mm): a bond of another process outlived it" },
	[SVA_IC_NO_DOMAIN_ALLOC_SVA] = {
		"no-domain-alloc-sva",
		"the IOMMU driver has no domain_alloc_sva operation (iommu_sva_domain_alloc, 7.2; "
		"6.12 has no such check): it cannot make SVA domains" },
	[SVA_IC_HANDLE_ALLOC] = {
		"handle-allocation",
		"allocating the SVA handle failed (kzalloc in iommu_sva_bind_device): out of memory" },
	[SVA_IC_NO_SET_DEV_PASID] = {
		"no-set-dev-pasid",
		"the domain has no set_dev_pasid operation, or the IOMMU driver has no blocked "
		"domain that can detach a PASID: this driver cannot attach domains to PASIDs" },
	[SVA_IC_ATTACH_INVALID] = {
		"pasid-out-of-range-or-foreign-domain",
		"the PASID is 0 (IOMMU_NO_PASID) or not below a device's max_pasids, or the domain "
		"belongs to another IOMMU driver" },
	[SVA_IC_GROUP_RESETTING] = {
		"group-resetting",
		"a device of the group is being reset (group->recovery_cnt): attaches are refused "
		"until the reset is done; retry after it" },
	[SVA_IC_PASID_IN_USE] = {
		"pasid-in-use",
		"the PASID is already in the group's PASID array (xa_insert -EBUSY): another "
		"domain or an SVA bond holds it; detach that first" },
	[SVA_IC_PASID_ARRAY_ALLOC] = {
		"pasid-array-allocation",
		"reserving the PASID in the group's PASID array failed (xa_insert): out of memory" },
	[SVA_IC_REPLACE_INVALID] = {
		"replace-invalid",
		"nothing is attached at this PASID (a replace needs an attached domain), or the "
		"PASID is 0, the handle is missing or reused, or the domain belongs to another driver" },
	[SVA_IC_NO_FREE_PASID] = {
		"no-free-pasid",
		"no PASID was free below the device's max_pasids: max_pasids is 0 (the device has no "
		"PASID capability enabled) or every global PASID below it is in use (leaked bonds "
		"keep theirs)" },
};

const char *sva_inline_check_name(unsigned int id)
{
	return id > 0 && id < SVA_IC__MAX ? checks[id].name : NULL;
}

unsigned int sva_inline_check_from_name(const char *name)
{
	for (unsigned int i = 1; i < SVA_IC__MAX; i++)
		if (checks[i].name && !strcmp(checks[i].name, name))
			return i;
	return 0;
}

void sva_kernel_facts_init(struct sva_kernel_facts *k, const char *release, const char *machine)
{
	unsigned int v[3] = { 0, 0, 0 };
	const char *p = release;
	char *end;

	memset(k, 0, sizeof(*k));
	k->x86 = machine && (!strcmp(machine, "x86_64") || !strcmp(machine, "i686") ||
			     !strcmp(machine, "i386"));
	for (int i = 0; p && i < 3; i++) {
		unsigned long n;

		if (*p < '0' || *p > '9')
			break;
		n = strtoul(p, &end, 10);
		v[i] = n > 100000 ? 100000 : (unsigned int)n;
		k->known = i >= 1;
		if (*end != '.')
			break;
		p = end + 1;
	}
	k->major = v[0];
	k->minor = v[1];
	k->patch = v[2];
}

static bool at_least(const struct sva_kernel_facts *k, unsigned int major, unsigned int minor)
{
	return k->known && (k->major > major || (k->major == major && k->minor >= minor));
}

/*
 * Which check in the traced function's own body returned this errno, given what the
 * kernel side saw: cause_calls counts the probed functions entered during the call, so
 * 0 means the check came before the first call (iommu_alloc_global_pasid,
 * iommu_attach_handle_get, the driver's sva_bind: always probed where they exist).
 */
static unsigned int inline_check(const struct sva_event *ev, const struct sva_kernel_facts *k)
{
	int err = (int)-ev->ret;
	bool none_called = ev->cause_calls == 0;

	switch (ev->type) {
	case SVA_REC_BIND:
		if (!k->known)
			return SVA_IC_UNKNOWN;
		if (!at_least(k, 6, 2)) {
			/* 6.1 iommu.c: sva_bind op, group, CONFIG_X86, group size, driver */
			if (err == ENODEV && none_called)
				return SVA_IC_NO_SVA_BIND_OP;
			if (err == EOPNOTSUPP && none_called && k->x86 && k->major == 6 && k->minor == 1)
				return SVA_IC_X86_SVA_DISABLED;
			if (err == EINVAL && none_called)
				return SVA_IC_GROUP_NOT_SINGLETON;
			return SVA_IC_UNKNOWN;
		}
		if (err == ENODEV && none_called)
			return SVA_IC_NO_GROUP;
		if (err == EOPNOTSUPP && none_called && k->x86 && k->major == 6 &&
		    (k->minor == 12 || k->minor == 18))
			return SVA_IC_X86_SVA_DISABLED;
		if (err == EBUSY)
			return none_called ? SVA_IC_MM_PGTABLE_INCOMPAT :
					     at_least(k, 6, 11) ? SVA_IC_PASID_OTHER_MM : SVA_IC_UNKNOWN;
		if (err == EOVERFLOW)
			return SVA_IC_MM_PASID_ABOVE_MAX;
		/*
		 * 7.2 iommu_sva_domain_alloc: -EOPNOTSUPP without domain_alloc_sva; 6.12 (and
		 * before) falls back to domain_alloc(IOMMU_DOMAIN_SVA) and has no such check.
		 */
		if (err == EOPNOTSUPP && !none_called && at_least(k, 6, 13))
			return SVA_IC_NO_DOMAIN_ALLOC_SVA;
		if (err == ENOMEM && !none_called && at_least(k, 6, 11))
			return SVA_IC_HANDLE_ALLOC;
		return SVA_IC_UNKNOWN;
	case SVA_REC_ATTACH:
	case SVA_REC_REPLACE:
		if (err == ENODEV && none_called)
			return SVA_IC_NO_GROUP;
		if (err == EOPNOTSUPP && none_called)
			return SVA_IC_NO_SET_DEV_PASID;
		if (err == EBUSY && (ev->flags & SVA_EVF_GROUP_RESETTING))
			return SVA_IC_GROUP_RESETTING;
		if (ev->type == SVA_REC_REPLACE)
			return err == EINVAL ? SVA_IC_REPLACE_INVALID : SVA_IC_UNKNOWN;
		if (err == EINVAL && none_called)
			return SVA_IC_ATTACH_INVALID;
		if (err == EBUSY && none_called)
			return SVA_IC_PASID_IN_USE;
		if (err == ENOMEM && none_called)
			return SVA_IC_PASID_ARRAY_ALLOC;
		return SVA_IC_UNKNOWN;
	case SVA_REC_PASID_ALLOC:
		return err == ENOSPC ? SVA_IC_NO_FREE_PASID : SVA_IC_UNKNOWN;
	}
	return SVA_IC_UNKNOWN;
}

void sva_cause_resolve(struct sva_event *ev, const struct sva_kernel_facts *k)
{
	/* an errno only: -INT64_MIN would not fit */
	if (!(ev->cause_flags & SVA_CAUSE_INLINE) || ev->cause_check || ev->ret >= 0 ||
	    ev->ret < -4095)
		return;
	ev->cause_check = (uint16_t)inline_check(ev, k);
}

/* ---- explanations of failing callees ---- */

struct explanation {
	unsigned int func;
	int err; /* positive errno; 0: any */
	const char *text;
};

/* Specific (function, errno) first; a function's errno-0 row covers the others. */
static const struct explanation explanations[] = {
	{ SVA_CF_IOMMU_ALLOC_GLOBAL_PASID, ENOSPC,
	  "no PASID was free below the device's max_pasids: max_pasids is 0 (no PASID capability "
	  "enabled on the device) or every global PASID below it is in use (leaked bonds keep "
	  "theirs)" },
	{ SVA_CF_IOMMU_SVA_ALLOC_PASID, ENOSPC,
	  "no PASID was free in the range the driver asked for (its max_pasids): the PASID "
	  "space is used up, or the device allows none" },
	{ SVA_CF_IOMMU_SVA_ALLOC_PASID, EOVERFLOW,
	  "the process already has a PASID that is outside this device's range (it got it from "
	  "a device with a larger PASID space)" },
	{ SVA_CF_IOMMU_SVA_ALLOC_PASID, EINVAL,
	  "the driver asked for an empty or invalid PASID range (min > max, or max_pasids 0)" },
	{ SVA_CF_IOMMU_SVA_ALLOC_PASID, EBUSY,
	  "the process's page tables cannot be shared with the IOMMU (arch_pgtable_dma_compat: "
	  "x86 LAM enabled on the mm)" },
	/* 6.1 ioasid.c: INVALID_IOASID for no free ID and for a failed kzalloc alike */
	{ SVA_CF_IOASID_ALLOC, ENOSPC,
	  "the IOASID allocator had no free PASID in the requested range (or could not allocate "
	  "its record: out of memory)" },
	{ SVA_CF_IOMMU_ALLOC_MM_DATA, EOVERFLOW,
	  "the process already has a PASID (from a device with a larger PASID space) that is "
	  "not below this device's max_pasids" },
	{ SVA_CF_IOMMU_ALLOC_MM_DATA, EBUSY,
	  "the process's page tables cannot be shared with the IOMMU (arch_pgtable_dma_compat: "
	  "x86 LAM enabled on the mm)" },
	{ SVA_CF_IOMMU_ALLOC_MM_DATA, ENOSPC,
	  "no PASID could be allocated for the process: the device's max_pasids is 0 or the "
	  "global PASID space below it is used up" },
	{ SVA_CF_IOMMU_ALLOC_MM_DATA, ENOMEM, "allocating the process's iommu_mm_data failed" },
	{ SVA_CF_IOMMU_ATTACH_HANDLE_GET, EBUSY,
	  "the process's PASID is held on this device's group by a domain of another type (a "
	  "paging or nested domain attached there, e.g. by iommufd/VFIO): type mismatch" },
	/*
	 * 7.2 iommu-sva.c: -EOPNOTSUPP without domain_alloc_sva. 6.12 falls back to the
	 * driver's domain_alloc(IOMMU_DOMAIN_SVA) and makes its NULL -ENOMEM.
	 */
	{ SVA_CF_IOMMU_SVA_DOMAIN_ALLOC, EOPNOTSUPP,
	  "the IOMMU driver has no domain_alloc_sva operation (7.2), or its domain_alloc_sva "
	  "refused SVA for this device" },
	{ SVA_CF_IOMMU_SVA_DOMAIN_ALLOC, ENOMEM,
	  "the IOMMU driver could not allocate an SVA domain (6.12: also a driver without "
	  "domain_alloc_sva whose domain_alloc makes no SVA domains)" },
	{ SVA_CF_IOMMU_ATTACH_DEVICE_PASID, EBUSY,
	  "the PASID is already attached in the device's group (another domain or bond holds "
	  "it), or the group is being reset" },
	{ SVA_CF_IOMMU_ATTACH_DEVICE_PASID, EINVAL,
	  "the PASID is 0 or not below the device's max_pasids, or the domain belongs to another "
	  "IOMMU driver" },
	{ SVA_CF_IOMMU_ATTACH_DEVICE_PASID, ENOMEM,
	  "reserving the PASID in the group's PASID array failed (xa_insert): out of memory" },
	{ SVA_CF_IOMMU_ATTACH_DEVICE_PASID, EOPNOTSUPP,
	  "the domain or the IOMMU driver cannot attach to a PASID (no set_dev_pasid)" },
	{ SVA_CF_IOMMU_REPLACE_DEVICE_PASID, EINVAL,
	  "nothing was attached at the PASID, or the replacement domain or handle is invalid" },
	{ SVA_CF_IOMMU_SET_GROUP_PASID, 0,
	  "the IOMMU driver's set_dev_pasid failed for a device of the group (probe the driver's "
	  "op to see why); the core rolled the other devices back" },
	/*
	 * 6.1 intel/svm.c intel_svm_bind: its own checks are about a supervisor (kernel) PASID,
	 * SVM_FLAG_SUPERVISOR_MODE in drvdata (idxd's kernel work queues); the SVM capability,
	 * PASID/ATS/PRI checks are in intel_iommu_enable_sva (iommu_dev_enable_feature), not on
	 * the bind path, and nothing on it returns -ENODEV but intel_pasid_setup_first_level
	 * (probed: named itself). intel_svm_bind_mm, often inlined: -ENOMEM, or the mmu
	 * notifier's error.
	 */
	{ SVA_CF_INTEL_SVM_BIND, EINVAL,
	  "a supervisor (kernel) PASID was asked for (SVM_FLAG_SUPERVISOR_MODE) together with a "
	  "user mm, which VT-d refuses" },
	{ SVA_CF_INTEL_SVM_BIND, EOPNOTSUPP,
	  "a supervisor (kernel) PASID was asked for (SVM_FLAG_SUPERVISOR_MODE, as idxd does for "
	  "its kernel work queues) and this VT-d unit has no supervisor request support "
	  "(ecap.SRS)" },
	{ SVA_CF_INTEL_SVM_BIND, ENOMEM,
	  "VT-d ran out of memory for the bond (its intel_svm, the device entry, the mmu "
	  "notifier or the PASID's private-data slot)" },
	{ SVA_CF_INTEL_SVM_BIND_MM, ENOMEM,
	  "VT-d ran out of memory for the bond (its intel_svm, the device entry, the mmu "
	  "notifier or the PASID's private-data slot)" },
	/* it returns iommu_sva_alloc_pasid(mm, PASID_MIN, PASID count - 1)'s error as is */
	{ SVA_CF_INTEL_SVM_ALLOC_PASID, 0,
	  "VT-d's PASID allocation for the process failed (iommu_sva_alloc_pasid from 1 to the "
	  "device's PASID count - 1: EINVAL the device allows no PASID above 0, EOVERFLOW the "
	  "process's PASID is outside that range, ENOMEM none free or out of memory)" },
	/*
	 * 7.2 intel/svm.c: intel_svm_domain_alloc and intel_svm_set_dev_pasid both start with
	 * intel_iommu_sva_supported() -> VTD_FLAG_SVM_CAPABLE, which intel_svm_check() sets
	 * only for scalable mode + ecap.PASID + ecap.SMPWC (and cap.FL1GP / cap.FL5LP when the
	 * CPU uses 1 GiB pages / 5-level paging). 6.12 checks this in intel_iommu_enable_sva
	 * (the driver's iommu_dev_enable_feature), not on the bind path: there the domain
	 * allocation fails only for memory or the mmu notifier, and set_dev_pasid only for
	 * memory or in intel_pasid_setup_first_level (probed: named itself).
	 */
	{ SVA_CF_INTEL_SVM_DOMAIN_ALLOC, EINVAL,
	  "VT-d cannot do SVA for this device (7.2 intel_iommu_sva_supported): VT-d disabled, or "
	  "the device has PASID or ATS not enabled, or PRI supported but not enabled" },
	{ SVA_CF_INTEL_SVM_DOMAIN_ALLOC, ENODEV,
	  "this VT-d unit is not SVM-capable (7.2; intel_svm_check: scalable mode in use, "
	  "ecap.PASID and ecap.SMPWC, plus cap.FL1GP/FL5LP if the CPU uses 1 GiB pages/5-level "
	  "paging; 'sva-trace doctor' names what is missing)" },
	{ SVA_CF_INTEL_SVM_DOMAIN_ALLOC, ENOMEM,
	  "VT-d could not allocate the SVA domain or register its mmu notifier" },
	{ SVA_CF_INTEL_SVM_SET_DEV_PASID, EINVAL,
	  "VT-d refused the PASID (7.2 intel_iommu_sva_supported): VT-d disabled, or PASID or "
	  "ATS not enabled on the device, or PRI supported but not enabled" },
	{ SVA_CF_INTEL_SVM_SET_DEV_PASID, ENODEV,
	  "this VT-d unit is not SVM-capable (7.2; intel_svm_check: scalable mode in use, "
	  "ecap.PASID and ecap.SMPWC, plus cap.FL1GP/FL5LP if the CPU uses 1 GiB pages/5-level "
	  "paging)" },
	{ SVA_CF_INTEL_SVM_SET_DEV_PASID, ENOMEM,
	  "VT-d ran out of memory for the device's PASID bookkeeping (dev_pasid, cache tag)" },
	{ SVA_CF_INTEL_SVM_SET_DEV_PASID, 0,
	  "VT-d could not set up the PASID's cache tag, I/O page faults or PASID table entry "
	  "for the device" },
	/* intel/pasid.c, 6.1 6.12 7.2: -ENODEV when intel_pasid_get_entry() finds none */
	{ SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, EINVAL,
	  "VT-d cannot use the process's page table for first-level translation: no first-level "
	  "support (ecap.FLTS), or the CPU uses 5-level paging and the unit lacks cap.FL5LP "
	  "(6.1 also: a supervisor PASID without ecap.SRS or with CR0.WP clear)" },
	{ SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, ENODEV,
	  "VT-d has no PASID table entry for this PASID: the device has no PASID table, the "
	  "PASID is not below the table's size, or allocating a PASID table page failed" },
	{ SVA_CF_INTEL_PASID_SETUP_FIRST_LEVEL, EBUSY,
	  "the VT-d PASID table entry for this PASID is already present" },
	/*
	 * amd/pasid.c 6.12 and 7.2: the domain allocation checks nothing of the device; the
	 * attach answers -EINVAL also when its kzalloc fails, and -ENOMEM from the GCR3 table
	 * (amd_iommu_set_gcr3 -> update_gcr3, amd/iommu.c).
	 */
	{ SVA_CF_AMD_IOMMU_DOMAIN_ALLOC_SVA, 0,
	  "AMD-Vi could not make the SVA domain: out of memory for the protection domain, or "
	  "registering its mmu notifier failed" },
	{ SVA_CF_AMD_SVA_SET_DEV_PASID, EINVAL,
	  "AMD-Vi refused the PASID: 0 or not below the device's PASID count, or PASID not "
	  "enabled on the device, or allocating its entry in the domain's list failed (out of "
	  "memory, returned as -EINVAL)" },
	{ SVA_CF_AMD_SVA_SET_DEV_PASID, ENOMEM,
	  "allocating a level of the device's GCR3 table for the PASID failed: out of memory" },
	{ SVA_CF_AMD_SVA_SET_DEV_PASID, EOPNOTSUPP,
	  "AMD-Vi cannot replace one SVA domain by another at a PASID (7.2)" },
	/*
	 * 6.1 arm-smmu-v3-sva.c: arm_smmu_sva_bind wants a stage-1 domain on the device;
	 * __arm_smmu_sva_bind (static) -ENODEV when SVA is not enabled on the master.
	 */
	{ SVA_CF_ARM_SMMU_SVA_BIND, EINVAL,
	  "the device's domain is not a stage-1 SMMUv3 domain (ARM_SMMU_DOMAIN_S1), which SVA "
	  "needs" },
	{ SVA_CF_ARM_SMMU_SVA_BIND, ENODEV,
	  "SVA is not enabled on this SMMUv3 master: the device driver did not enable the SVA "
	  "feature first (iommu_dev_enable_feature IOMMU_DEV_FEAT_SVA), or it failed" },
	{ SVA_CF_ARM_SMMU_SVA_BIND_INNER, ENODEV,
	  "SVA is not enabled on this SMMUv3 master: the device driver did not enable the SVA "
	  "feature first (iommu_dev_enable_feature IOMMU_DEV_FEAT_SVA), or it failed" },
	{ SVA_CF_ARM_SMMU_SVA_BIND, 0,
	  "the SMMUv3 driver refused the bind (SVA not enabled for the master, or no context "
	  "descriptor or ASID for the mm)" },
	{ SVA_CF_ARM_SMMU_SVA_BIND_INNER, 0,
	  "the SMMUv3 driver could not bind the mm (no PASID in the master's SSID range, or no "
	  "ASID or context descriptor)" },
	/* 7.2 checks ARM_SMMU_FEAT_SVA here and in set_dev_pasid; 6.12 in neither */
	{ SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC, EOPNOTSUPP,
	  "this SMMUv3 does not have SVA (7.2; ARM_SMMU_FEAT_SVA: BTM/stall or PRI, matching "
	  "page table format)" },
	{ SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC, EBUSY,
	  "no free ASID for the SVA domain: every ASID of this SMMUv3 (1 to 2^asid_bits - 1) is "
	  "in use" },
	{ SVA_CF_ARM_SMMU_SVA_DOMAIN_ALLOC, 0,
	  "the SMMUv3 driver could not allocate the SVA domain or an ASID for it" },
	{ SVA_CF_ARM_SMMU_SVA_SET_DEV_PASID, EOPNOTSUPP,
	  "this SMMUv3 does not have SVA (7.2; ARM_SMMU_FEAT_SVA)" },
	{ SVA_CF_ARM_SMMU_SVA_SET_DEV_PASID, EINVAL,
	  "the process's mm is already exiting (mmget_not_zero failed)" },
	/* arm-smmu-v3.c 6.12 and 7.2: "The core code validates pasid" (no SSID check here) */
	{ SVA_CF_ARM_SMMU_SET_PASID, EINVAL,
	  "the SVA domain belongs to another SMMUv3 than the device, or the device's RID is "
	  "attached to a domain whose STE has no CD table (not identity or blocked: a paging or "
	  "nested domain)" },
	{ SVA_CF_ARM_SMMU_SET_PASID, ENOMEM,
	  "allocating the context-descriptor table leaf for the PASID failed: out of memory" },
	{ SVA_CF_ARM_SMMU_SET_PASID, 0,
	  "the SMMUv3 driver could not prepare the attach (arm_smmu_attach_prepare: "
	  "invalidation list, ATS, I/O page faults)" },
	{ SVA_CF_MOCK_DOMAIN_ALLOC_SVA, EOPNOTSUPP,
	  "the mock device was created without MOCK_FLAGS_DEVICE_PASID: it has no PASID support" },
	{ SVA_CF_MOCK_DOMAIN_SET_DEV_PASID, ENOMEM,
	  "the iommufd selftest mock fakes this error on the second attach at PASID 1024 "
	  "(IOMMU_TEST_PASID_RESERVED), to test the core's rollback; at another PASID, out of "
	  "memory adding the device to the I/O page fault queue" },
	{ SVA_CF_MOCK_DOMAIN_SET_DEV_PASID, 0,
	  "the mock IOMMU could not enable I/O page faults for the domain at this PASID" },
};

static char generic[SVA_CF__MAX][96];

const char *sva_cause_explain(const struct sva_event *ev)
{
	/* as int64_t: -INT32_MIN does not fit an int (the fuzzer sent it) */
	int64_t err = ev->cause_err < 0 ? -(int64_t)ev->cause_err : ev->cause_err;
	const char *name;

	if (!sva_event_has_cause(ev))
		return NULL;
	if (ev->cause_flags & SVA_CAUSE_INLINE) {
		if (ev->cause_check > 0 && ev->cause_check < SVA_IC__MAX)
			return checks[ev->cause_check].explanation;
		return "no probed function inside the call failed with this errno: a check in its "
		       "own body (or in a function the compiler inlined) returned the error";
	}
	for (size_t i = 0; i < sizeof(explanations) / sizeof(explanations[0]); i++)
		if (explanations[i].func == ev->cause_func && explanations[i].err == err)
			return explanations[i].text;
	for (size_t i = 0; i < sizeof(explanations) / sizeof(explanations[0]); i++)
		if (explanations[i].func == ev->cause_func && !explanations[i].err)
			return explanations[i].text;
	name = sva_cause_func_name(ev->cause_func);
	if (!name)
		return "a function this version of sva-trace does not know failed";
	/* Built once per function: the tables cover what each function is known to return. */
	if (!generic[ev->cause_func][0])
		snprintf(generic[ev->cause_func], sizeof(generic[0]),
			 "%s failed; see its source for this errno", name);
	return generic[ev->cause_func];
}
