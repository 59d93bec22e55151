/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pseudo-random source both benchmarks draw their event mix from
 * (xorshift64, fixed seed): gen_capture.c writes the same mix as JSON that
 * bench_correlate.c feeds in-process, so (a) and (b) measure the same stream.
 */
#ifndef SVA_BENCH_MIX_H
#define SVA_BENCH_MIX_H

#include <stdint.h>

static uint64_t bench_rng = 88172645463325252ull;

static inline uint64_t bench_next(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return bench_rng;
}

#endif
