// SPDX-License-Identifier: GPL-2.0
/*
 * sva_fail - every failure the lab kernel's real SVA core and mock IOMMU can produce, one
 * per scenario, each in a child process (a fresh mm): tests/vm/test_lab_causes.sh runs them
 * under sva-trace and checks the cause each failed record carries.
 *
 *   nopasid      SVA bind on a mock device without PASID support (max_pasids 0), fresh mm:
 *                iommu_alloc_global_pasid returns IOMMU_PASID_INVALID, the bind ENOSPC
 *   overflow     the mm gets PASID 1.. on a PASID device (bind, unbind), then binds the
 *                device without PASIDs: iommu_alloc_mm_data's PASID >= max_pasids, EOVERFLOW
 *   mismatch     a paging hwpt at the mm's PASID on another device, then the SVA bind there:
 *                iommu_attach_handle_get finds a domain of another type, EBUSY
 *   in-use       the mm bound by SVA at PASID P, then iommufd attaches a paging hwpt at P on
 *                the same device: iommu_attach_device_pasid's xa_insert, EBUSY
 *   range        iommufd attach at PASID 1 << 20, the mock's max_pasids: EINVAL
 *   replace1024  paging hwpt A at PASID 1024, replaced by B: the mock's set_dev_pasid fakes
 *                -ENOMEM on the second attach at 1024 (IOMMU_TEST_PASID_RESERVED)
 *
 * Prints "sva_fail: SCENARIO: ok|FAIL ..." per step and exits non-zero if a call did not
 * fail the way the kernel source says it must. Build: gcc -static -I LAB/include.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "mock_ops.h"

static int failures;

static void check(int cond, const char *scenario, const char *what, int got)
{
	printf("sva_fail: %s: %s: %s (%d)\n", scenario, what, cond ? "ok" : "FAIL", got);
	if (!cond)
		failures++;
}

/* A mock device; pasid: with MOCK_FLAGS_DEVICE_PASID (20 PASID bits), else max_pasids 0. */
static int open_dev(struct mockdev *m, int pasid)
{
	const char *step;

	return mock_open_flags(m, pasid ? MOCK_FLAGS_DEVICE_PASID : 0, &step);
}

/* A PASID device whose RID is on a PASID-compatible paging hwpt (iommufd requires it). */
static int open_pasid_compat(struct mockdev *m)
{
	__u32 hwpt;

	if (open_dev(m, 1))
		return -1;
	if (mock_hwpt_alloc_pasid(m, 0, &hwpt) || mock_rid_replace(m, hwpt)) {
		mock_close(m);
		return -1;
	}
	return 0;
}

static void nopasid(void)
{
	struct mockdev m;
	struct bind_out b;

	if (open_dev(&m, 0))
		return check(0, "nopasid", "open a mock device without PASID", -1);
	check(mock_sva_bind(&m, 0, &b) == -ENOSPC, "nopasid", "bind fails with ENOSPC", 0);
	mock_close(&m);
}

static void overflow(void)
{
	struct mockdev p, n;
	struct bind_out b;
	struct unbind_out u;
	int rc;

	if (open_dev(&p, 1) || open_dev(&n, 0))
		return check(0, "overflow", "open two mock devices", -1);
	rc = mock_sva_bind(&p, 0, &b);
	check(!rc, "overflow", "bind on the PASID device", rc);
	if (!rc)
		mock_sva_unbind(&p, b.bond_id, 0, &u);
	rc = mock_sva_bind(&n, 0, &b);
	check(rc == -EOVERFLOW, "overflow", "bind on the device without PASID fails with EOVERFLOW", rc);
	mock_close(&p);
	mock_close(&n);
}

static void mismatch(void)
{
	struct mockdev x, y;
	struct bind_out b;
	struct unbind_out u;
	__u32 hwpt;
	int rc;

	if (open_dev(&x, 1) || open_pasid_compat(&y))
		return check(0, "mismatch", "open two mock devices", -1);
	rc = mock_sva_bind(&x, 0, &b);
	check(!rc, "mismatch", "bind on device X", rc);
	if (rc)
		return;
	mock_sva_unbind(&x, b.bond_id, 0, &u);
	rc = mock_hwpt_alloc_pasid(&y, 0, &hwpt);
	if (!rc)
		rc = mock_pasid_op(&y, IOMMU_TEST_OP_PASID_ATTACH, b.pasid, hwpt);
	check(!rc, "mismatch", "paging hwpt at the mm's PASID on device Y", rc);
	rc = mock_sva_bind(&y, 0, &b);
	check(rc == -EBUSY, "mismatch", "bind on device Y fails with EBUSY", rc);
	mock_pasid_op(&y, IOMMU_TEST_OP_PASID_DETACH, b.pasid, 0);
	mock_close(&x);
	mock_close(&y);
}

static void in_use(void)
{
	struct mockdev m;
	struct bind_out b;
	struct unbind_out u;
	__u32 hwpt;
	int rc;

	if (open_pasid_compat(&m))
		return check(0, "in-use", "open a mock device", -1);
	rc = mock_sva_bind(&m, 0, &b);
	check(!rc, "in-use", "SVA bind", rc);
	if (rc)
		return;
	rc = mock_hwpt_alloc_pasid(&m, 0, &hwpt);
	if (!rc)
		rc = mock_pasid_op(&m, IOMMU_TEST_OP_PASID_ATTACH, b.pasid, hwpt);
	check(rc == -EBUSY, "in-use", "paging attach at the bond's PASID fails with EBUSY", rc);
	mock_sva_unbind(&m, b.bond_id, 0, &u);
	mock_close(&m);
}

static void range(void)
{
	struct mockdev m;
	__u32 hwpt;
	int rc;

	if (open_pasid_compat(&m))
		return check(0, "range", "open a mock device", -1);
	rc = mock_hwpt_alloc_pasid(&m, 0, &hwpt);
	if (!rc)
		rc = mock_pasid_op(&m, IOMMU_TEST_OP_PASID_ATTACH, 1u << 20, hwpt);
	check(rc == -EINVAL, "range", "attach at PASID 1 << 20 fails with EINVAL", rc);
	mock_close(&m);
}

static void replace1024(void)
{
	struct mockdev m;
	__u32 a, b;
	int rc;

	if (open_pasid_compat(&m))
		return check(0, "replace1024", "open a mock device", -1);
	rc = mock_hwpt_alloc_pasid(&m, 0, &a);
	if (!rc)
		rc = mock_hwpt_alloc_pasid(&m, 0, &b);
	if (!rc)
		rc = mock_pasid_op(&m, IOMMU_TEST_OP_PASID_ATTACH, 1024, a);
	check(!rc, "replace1024", "attach hwpt A at PASID 1024", rc);
	if (rc)
		return;
	rc = mock_pasid_op(&m, IOMMU_TEST_OP_PASID_REPLACE, 1024, b);
	check(rc == -ENOMEM, "replace1024", "replace by hwpt B fails with ENOMEM", rc);
	mock_pasid_op(&m, IOMMU_TEST_OP_PASID_DETACH, 1024, 0);
	mock_close(&m);
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "nopasid", nopasid },	  { "overflow", overflow }, { "mismatch", mismatch },
	{ "in-use", in_use },	  { "range", range },	    { "replace1024", replace1024 },
};

int main(int argc, char **argv)
{
	int st, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		pid_t pid;

		if (argc > 1 && strcmp(argv[1], scenarios[i].name))
			continue;
		pid = fork();
		if (pid == 0) {
			scenarios[i].fn();
			exit(failures ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	printf("sva_fail: %s\n", bad ? "FAILED" : "PASSED");
	return bad ? 1 : 0;
}
