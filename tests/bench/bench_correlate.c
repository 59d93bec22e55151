// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench_correlate: the correlator fed decoded records in-process, as the live ring-buffer
 * path feeds it. Prints events/s and peak RSS. The event mix is the one of gen_capture.c:
 * LIVE bonds alive at any time, nested binds, unbinds, failed look-ups.
 *
 * Usage: bench_correlate [EVENTS] [LIVE]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "correlate.h"
#include "mix.h"

static uint64_t findings;

static void count(const struct finding *f, void *ctx)
{
	(void)f;
	(void)ctx;
	findings++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	uint64_t live = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
	struct correlator_opts o = { .on_finding = count };
	struct correlator *c = correlator_new(&o);
	uint32_t *users = calloc(live, sizeof(*users));
	uint64_t *incarnation = calloc(live, sizeof(*incarnation));
	/* Records are made up front, like the ring buffer hands them over. */
	size_t batch = 1 << 16;
	struct sva_event *evs = calloc(batch, sizeof(*evs));
	uint64_t seq = 0, ts = 1000000000ull;
	double busy = 0, t0;
	struct rusage ru;
	struct correlator_stats st;

	if (!c || !users || !incarnation || !evs)
		return 1;
	while (seq < n) {
		size_t k = 0;

		for (; k < batch && seq + k < n; k++) {
			struct sva_event *ev = &evs[k];
			uint64_t r = bench_next(), slot = r % live;

			memset(ev, 0, sizeof(*ev));
			ev->seq = seq + k;
			ts += 1000;
			ev->ts_ns = ts;
			ev->tgid = ev->pid = 1000 + (uint32_t)slot;
			memcpy(ev->comm, "bench", 6);
			ev->group_id = (int32_t)(slot % 8);
			ev->pasid = 1 + (uint32_t)slot;
			ev->stack_id = -1;
			if ((r >> 8) % 16 == 0) {
				ev->type = SVA_REC_LOOKUP;
				ev->ret = -2;
				ev->aux = 16;
				continue;
			}
			ev->handle = 0xffff888000000000ull +
				     ((slot << 20) | (incarnation[slot] & 0xfffff)) * 64;
			ev->mm = 0xffff889000000000ull + slot * 4096;
			ev->domain = ev->mm + 0x100000000ull;
			ev->domain_type = 16;
			if (users[slot] == 0 || (users[slot] == 1 && (r >> 12) % 4 == 0)) {
				ev->type = SVA_REC_BIND;
				ev->users = (int32_t)++users[slot];
			} else {
				ev->type = SVA_REC_UNBIND;
				ev->flags = SVA_EVF_USERS_BEFORE;
				ev->users = (int32_t)users[slot]--;
				if (!users[slot])
					incarnation[slot]++;
			}
		}
		t0 = now_s();
		for (size_t i = 0; i < k; i++)
			correlator_event(c, &evs[i]);
		busy += now_s() - t0;
		seq += k;
	}
	correlator_get_stats(c, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("correlator in-process: %" PRIu64 " events, %" PRIu64 " live bonds at the end, "
	       "%" PRIu64 " findings: %.2f M events/s, peak RSS %ld KiB\n",
	       n, st.live_bonds, findings, (double)n / busy / 1e6, ru.ru_maxrss);
	correlator_free(c);
	free(evs);
	free(users);
	free(incarnation);
	return findings ? 1 : 0;
}
