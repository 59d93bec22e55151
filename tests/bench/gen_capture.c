// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_capture: write a synthetic sva-trace --json capture of N events to stdout, the way
 * a busy machine would produce it: LIVE bonds alive at any time, each bound, sometimes
 * bound again (nested), unbound, with failed handle look-ups and PASID attaches mixed in.
 * Memory in the correlator must follow LIVE, not N.
 *
 * Usage: gen_capture N [LIVE]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "mix.h"

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	uint64_t live = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
	uint64_t seq = 0, ts = 1000000000ull, gen = 0;
	uint32_t *users = calloc(live, sizeof(*users));
	uint64_t *incarnation = calloc(live, sizeof(*incarnation));

	if (!users || !incarnation)
		return 1;
	printf("{\"type\":\"start\",\"tool\":\"sva-trace\",\"version\":\"bench\",\"format\":1,"
	       "\"kernel\":\"synthetic\",\"machine\":\"x86_64\",\"ts_ns\":%" PRIu64
	       ",\"pointers\":\"hashed\",\"probes\":[]}\n", ts);
	while (seq < n) {
		uint64_t r = bench_next(), slot = r % live, handle, mm;
		uint32_t pid = 1000 + (uint32_t)slot, pasid = 1 + (uint32_t)slot;
		const char *type;
		int u;

		ts += 1000 + (r >> 40) % 1000;
		handle = 0xffff888000000000ull + ((slot << 20) | (incarnation[slot] & 0xfffff)) * 64;
		mm = 0xffff889000000000ull + slot * 4096;
		if ((r >> 8) % 16 == 0) {
			printf("{\"type\":\"lookup\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64
			       ",\"cpu\":%u,\"pid\":%u,\"tid\":%u,\"comm\":\"bench%u\",\"mm\":null,"
			       "\"dev\":null,\"group\":%u,\"pasid\":%u,\"domain\":null,\"handle\":null,"
			       "\"users\":null,\"ret\":-2,\"errno\":\"ENOENT\",\"want_type\":\"sva\","
			       "\"want_type_raw\":16,\"probe\":\"fentry\"}\n",
			       seq++, ts, (unsigned)(r & 1), pid, pid, (unsigned)slot % 100,
			       (unsigned)slot % 8, pasid);
			continue;
		}
		if (users[slot] == 0 || (users[slot] == 1 && (r >> 12) % 4 == 0)) {
			type = "bind";
			u = (int)++users[slot];
		} else {
			type = "unbind";
			u = (int)users[slot]--; /* read before the call */
		}
		printf("{\"type\":\"%s\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",\"cpu\":%u,"
		       "\"pid\":%u,\"tid\":%u,\"comm\":\"bench%u\",\"mm\":\"0x%016" PRIx64 "\","
		       "\"dev\":\"0000:6a:%02x.0\",\"group\":%u,\"pasid\":%u,\"domain\":\"0x%016" PRIx64
		       "\",\"domain_type\":\"sva\",\"domain_type_raw\":16,\"handle\":\"0x%016" PRIx64
		       "\",\"users\":%d,%s\"ret\":0,\"max_pasids\":1048576,\"probe\":\"fentry\"}\n",
		       type, seq++, ts, (unsigned)(r & 1), pid, pid, (unsigned)slot % 8, mm,
		       (unsigned)slot % 8, (unsigned)slot % 8, pasid, (uint64_t)(mm + 0x100000000ull), handle, u,
		       type[0] == 'u' ? "\"users_before_call\":true," : "");
		if (users[slot] == 0)
			incarnation[slot]++;
		gen++;
	}
	printf("{\"type\":\"summary\",\"ts_ns\":%" PRIu64 "}\n", ts + 1);
	free(users);
	free(incarnation);
	return 0;
}
