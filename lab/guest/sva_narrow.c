// SPDX-License-Identifier: GPL-2.0
/*
 * sva_narrow - exhausts a device's PASID space for real: one mock device with 2 PASID bits
 * (MOCK_FLAGS_DEVICE_PASID_NARROW: max_pasids 4, so the global PASIDs it can take are 1-3),
 * and child processes (each a fresh mm, so each needs its own global PASID) binding it one
 * after the other and holding their bond, until a bind fails. In 7.2's iommu-sva.c the
 * bind's iommu_alloc_mm_data calls iommu_alloc_global_pasid, whose
 * ida_alloc_range(1, max_pasids - 1) has no free ID left: it returns IOMMU_PASID_INVALID
 * and the bind -ENOSPC. Then every holder unbinds and exits.
 *
 * Run it as the first SVA user of a boot (tests/vm/test_lab_pasid_space.sh): PASIDs 1-3
 * are then free, and exactly 3 binds succeed. Prints "sva_narrow: bind N: ..." per child,
 * then "sva_narrow: PASSED" if some binds succeeded with PASIDs below 4 and the next one
 * failed with ENOSPC, "FAILED" (exit 1) otherwise. Build: gcc -static -I LAB/include.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "mock_ops.h"

#define MAX_CHILDREN 8

int main(void)
{
	int report[2], hold[2], n = 0, ok = 0, last = 0, bad = 0, st;
	pid_t kids[MAX_CHILDREN];
	struct mockdev m = { .fd = -1 };
	const char *step;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = mock_open_flags(&m, MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_PASID_NARROW, &step);
	if (rc) {
		printf("sva_narrow: open a mock device with max_pasids 4: %s: FAIL (%d)\n", step, rc);
		printf("sva_narrow: FAILED\n");
		return 1;
	}
	if (pipe(report) || pipe(hold))
		return 1;
	while (n < MAX_CHILDREN) {
		struct holder_result r;
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			close(report[0]);
			close(hold[1]);
			mock_sva_holder(&m, report[1], hold[0]);
		}
		kids[n++] = pid;
		if (read(report[0], &r, sizeof(r)) != sizeof(r)) {
			printf("sva_narrow: bind %d: the child died\n", n);
			bad++;
			break;
		}
		last = r.rc;
		if (r.rc) {
			printf("sva_narrow: bind %d: %s (%d)\n", n, strerror(-r.rc), r.rc);
			break;
		}
		printf("sva_narrow: bind %d: ok, PASID %u\n", n, r.pasid);
		if (r.pasid == 0 || r.pasid >= 4)
			bad++;
		ok++;
	}
	close(hold[1]); /* every holder unbinds and exits */
	for (int i = 0; i < n; i++)
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	mock_close(&m);
	printf("sva_narrow: %d binds held, then %d\n", ok, last);
	bad += !ok || last != -ENOSPC;
	printf("sva_narrow: %s\n", bad ? "FAILED" : "PASSED");
	return bad ? 1 : 0;
}
