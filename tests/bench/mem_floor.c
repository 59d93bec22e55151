// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mem_floor: what one cache line read at random costs on this machine, the floor under the
 * correlator at a million live bonds (issue 18: each event there reads a few lines of
 * state spread over half a gigabyte: the bonds index, the bond, its mm state, its history).
 * A random cyclic permutation of the lines of MIB MiB (huge pages asked for, as the
 * correlator's slabs and indexes are) is followed:
 *   - as one chain: each read needs the one before (latency, no overlap), and
 *   - as 8 chains at once: independent reads overlap (what out-of-order execution can
 *     get from one event's independent reads, or from prefetching across events).
 * Prints nanoseconds of CPU time per line read for both.
 *
 * Usage: mem_floor [MIB] [READS]     (default 512 MiB, 20 million reads)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE 64
#define CHAINS 8

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 512;
	uint64_t reads = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
	size_t bytes = (size_t)mib << 20, lines = bytes / LINE;
	uint32_t *perm;
	char *buf;
	double t0, one, many;
	uint64_t pos[CHAINS], sink = 0;

	if (argc > 3 || !mib || !reads || lines >= UINT32_MAX) {
		fprintf(stderr, "usage: mem_floor [MIB] [READS]\n");
		return 2;
	}
	buf = aligned_alloc(2u << 20, bytes);
	perm = malloc(lines * sizeof(*perm));
	if (!buf || !perm) {
		fprintf(stderr, "mem_floor: out of memory\n");
		return 1;
	}
#ifdef MADV_HUGEPAGE
	madvise(buf, bytes, MADV_HUGEPAGE);
#endif
	/* Sattolo's shuffle: one cycle through every line */
	for (size_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j = (size_t)(next_rand() % i);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < lines; i++) {
		uint64_t next = perm[i];

		memcpy(buf + (size_t)i * LINE, &next, sizeof(next));
	}
	free(perm);

	pos[0] = 0;
	t0 = cpu_s();
	for (uint64_t n = 0; n < reads; n++)
		memcpy(&pos[0], buf + pos[0] * LINE, sizeof(pos[0]));
	one = (cpu_s() - t0) / (double)reads * 1e9;
	sink += pos[0];

	for (int k = 0; k < CHAINS; k++)
		pos[k] = (uint64_t)k * (lines / CHAINS);
	t0 = cpu_s();
	for (uint64_t n = 0; n < reads / CHAINS; n++)
		for (int k = 0; k < CHAINS; k++)
			memcpy(&pos[k], buf + pos[k] * LINE, sizeof(pos[k]));
	many = (cpu_s() - t0) / (double)(reads / CHAINS * CHAINS) * 1e9;
	for (int k = 0; k < CHAINS; k++)
		sink += pos[k];

	printf("random line reads over %" PRIu64 " MiB: %.1f ns each in one chain, %.1f ns each "
	       "with %d chains at once (CPU time; checksum %" PRIu64 ")\n",
	       mib, one, many, CHAINS, sink % 10);
	free(buf);
	return 0;
}
