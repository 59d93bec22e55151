// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_capture: write a synthetic sva-trace --json capture of N events to stdout, the way
 * a busy machine would produce it (the mix of mix.h): bonds bound, sometimes bound again
 * (nested), unbound, with failed handle look-ups mixed in. Memory in the correlator must
 * follow the live bonds, not N.
 *
 * Usage: gen_capture [--steady] [--exits] N [SLOTS]
 *   SLOTS     processes with one bond slot each (default 1000); about 5/8 are bound at any time
 *   --steady  bind every slot first, then keep exactly SLOTS bonds live (N counts the
 *             SLOTS prelude binds too)
 *   --exits   exits of processes that hold no bond among the steps, each followed by its
 *             mm's mm_pasid_drop
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"

int main(int argc, char **argv)
{
	bool steady = false, exits = false;
	char **arg = argv + 1;
	int nargs = argc - 1;

	for (; nargs > 0 && (!strcmp(arg[0], "--steady") || !strcmp(arg[0], "--exits")); nargs--)
		*(strcmp(*arg++, "--steady") ? &exits : &steady) = true;
	uint64_t n = nargs > 0 ? strtoull(arg[0], NULL, 10) : 1000000;
	uint64_t slots = nargs > 1 ? strtoull(arg[1], NULL, 10) : 1000;
	uint64_t seq, ts = 1000000000ull;
	struct bench_mix m;
	struct bench_op op;

	if (nargs > 2 || (arg[0] && arg[0][0] == '-')) {
		fprintf(stderr, "usage: gen_capture [--steady] [--exits] N [SLOTS]\n");
		return 2;
	}
	if (bench_mix_init(&m, slots, steady))
		return 1;
	m.exits = exits;
	printf("{\"type\":\"start\",\"tool\":\"sva-trace\",\"version\":\"bench\",\"format\":1,"
	       "\"kernel\":\"synthetic\",\"machine\":\"x86_64\",\"ts_ns\":%" PRIu64
	       ",\"pointers\":\"hashed\",\"probes\":[]}\n", ts);
	for (seq = 0; seq < n; seq++) {
		uint32_t pid, pasid;

		bench_mix_next(&m, &op);
		pid = 1000 + (uint32_t)op.slot;
		pasid = 1 + (uint32_t)op.slot;
		ts += 1000 + (m.rng >> 40) % 1000;
		if (op.kind == BENCH_LOOKUP) {
			printf("{\"type\":\"lookup\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64
			       ",\"cpu\":%u,\"pid\":%u,\"tid\":%u,\"comm\":\"bench%u\",\"mm\":null,"
			       "\"dev\":null,\"group\":%u,\"pasid\":%u,\"domain\":null,\"handle\":null,"
			       "\"users\":null,\"ret\":-2,\"errno\":\"ENOENT\",\"want_type\":\"sva\","
			       "\"want_type_raw\":16,\"probe\":\"fentry\"}\n",
			       seq, ts, op.cpu, pid, pid, (unsigned)(op.slot % 100),
			       (unsigned)(op.slot % 8), pasid);
			continue;
		}
		if (op.kind == BENCH_MM_DROP) {
			printf("{\"type\":\"mm_pasid_drop\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64
			       ",\"cpu\":%u,\"pid\":%u,\"tid\":%u,\"comm\":\"helper\",\"mm\":\"0x%016"
			       PRIx64 "\",\"pasid\":%u}\n",
			       seq, ts, op.cpu, pid, pid, op.mm,
			       2000000 + (uint32_t)(op.slot - (3000000 - 1000)));
			continue;
		}
		if (op.kind == BENCH_EXIT) {
			printf("{\"type\":\"process_exit\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64
			       ",\"cpu\":%u,\"pid\":%u,\"tid\":%u,\"comm\":\"helper\",\"mm\":null,"
			       "\"dev\":null,\"group\":null,\"pasid\":null,\"domain\":null,"
			       "\"handle\":null,\"users\":null,\"ret\":0,\"exit_code\":0,"
			       "\"probe\":\"fentry\"}\n",
			       seq, ts, op.cpu, pid, pid);
			continue;
		}
		printf("{\"type\":\"%s\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",\"cpu\":%u,"
		       "\"pid\":%u,\"tid\":%u,\"comm\":\"bench%u\",\"mm\":\"0x%016" PRIx64 "\","
		       "\"dev\":\"0000:6a:%02x.0\",\"group\":%u,\"pasid\":%u,\"domain\":\"0x%016" PRIx64
		       "\",\"domain_type\":\"sva\",\"domain_type_raw\":16,\"handle\":\"0x%016" PRIx64
		       "\",\"users\":%d,%s\"ret\":0,\"max_pasids\":1048576,\"probe\":\"fentry\"}\n",
		       op.kind == BENCH_BIND ? "bind" : "unbind", seq, ts, op.cpu, pid, pid,
		       (unsigned)(op.slot % 8), op.mm, (unsigned)(op.slot % 8),
		       (unsigned)(op.slot % 8), pasid, (uint64_t)(op.mm + 0x100000000ull), op.handle, op.users,
		       op.kind == BENCH_UNBIND ? "\"users_before_call\":true," : "");
	}
	printf("{\"type\":\"summary\",\"ts_ns\":%" PRIu64 "}\n", ts + 1);
	bench_mix_free(&m);
	return 0;
}
