// SPDX-License-Identifier: GPL-2.0
/*
 * sva_global - one global PASID allocator for every device: three holder processes (each a
 * fresh mm, so each needs its own global PASID) bind a wide mock device (20 PASID bits) and
 * keep their bond, taking PASIDs 1, 2 and 3; then a fourth process binds a narrow mock
 * device (MOCK_FLAGS_DEVICE_PASID_NARROW: max_pasids 4, its own iommu group, nothing
 * attached in it) and fails with ENOSPC: 7.2's iommu_alloc_mm_data ->
 * iommu_alloc_global_pasid -> ida_alloc_range(&iommu_global_pasid_ida, 1, 3) finds no free
 * ID although no PASID is attached on the narrow device. Then the holders unbind and exit.
 *
 * Run it as the first SVA user of a boot (tests/vm/test_lab_global_pasid.sh): PASIDs 1-3
 * are then free. Prints "sva_global: holder N: ok, PASID P", "sva_global: narrow bind:
 * ERR (rc)", then "sva_global: PASSED" if the holders got PASIDs 1-3 and the narrow bind
 * failed with ENOSPC, "FAILED" (exit 1) otherwise. Build: gcc -static -I LAB/include.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "mock_ops.h"

#define HOLDERS 3

static pid_t spawn(struct mockdev *m, int report[2], int hold[2], struct holder_result *r)
{
	pid_t pid = fork();

	if (pid == 0) {
		close(report[0]);
		close(hold[1]);
		mock_sva_holder(m, report[1], hold[0]);
	}
	if (pid < 0 || read(report[0], r, sizeof(*r)) != sizeof(*r))
		r->rc = -ECHILD;
	return pid;
}

int main(void)
{
	struct mockdev wide = { .fd = -1 }, narrow = { .fd = -1 };
	int report[2], hold[2], bad = 0, st, rc;
	pid_t kids[HOLDERS + 1];
	struct holder_result r;
	const char *step;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = mock_open(&wide, &step);
	if (!rc)
		rc = mock_open_flags(&narrow,
				     MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_PASID_NARROW, &step);
	if (rc) {
		printf("sva_global: open the mock devices: %s: FAIL (%d)\nsva_global: FAILED\n",
		       step, rc);
		return 1;
	}
	if (pipe(report) || pipe(hold))
		return 1;
	for (int i = 0; i < HOLDERS; i++) {
		kids[i] = spawn(&wide, report, hold, &r);
		if (r.rc) {
			printf("sva_global: holder %d: %s (%d)\n", i + 1, strerror(-r.rc), r.rc);
			bad++;
		} else {
			printf("sva_global: holder %d: ok, PASID %u\n", i + 1, r.pasid);
			bad += r.pasid != (__u32)i + 1;
		}
	}
	kids[HOLDERS] = spawn(&narrow, report, hold, &r);
	printf("sva_global: narrow bind: %s (%d)\n", r.rc ? strerror(-r.rc) : "ok", r.rc);
	bad += r.rc != -ENOSPC;
	close(hold[1]); /* the holders unbind and exit */
	for (int i = 0; i <= HOLDERS; i++)
		if (kids[i] <= 0 || waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			bad++;
	mock_close(&narrow);
	mock_close(&wide);
	printf("sva_global: %s\n", bad ? "FAILED" : "PASSED");
	return bad ? 1 : 0;
}
