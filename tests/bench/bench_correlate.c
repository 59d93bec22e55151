// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench_correlate: the correlator fed decoded records in-process, as the live ring-buffer
 * path feeds it (through correlator_feed's lookahead, as session.c does). Prints events/s
 * and peak RSS. The event mix is mix.h's, the one gen_capture.c writes: bonds bound, bound
 * again (nested), unbound, failed look-ups.
 *
 * Usage: bench_correlate [--steady] [--exits] [EVENTS] [SLOTS]   (mix.h says what they mean)
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

/*
 * The thread's CPU time, not wall time: the machine is shared (other jobs, a CI run), and
 * wall time counted their slices as the correlator's.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	bool steady = false, exits = false;
	char **arg = argv + 1;
	int nargs = argc - 1;

	for (; nargs > 0 && (!strcmp(arg[0], "--steady") || !strcmp(arg[0], "--exits")); nargs--)
		*(strcmp(*arg++, "--steady") ? &exits : &steady) = true;
	uint64_t n = nargs > 0 ? strtoull(arg[0], NULL, 10) : 20000000;
	uint64_t slots = nargs > 1 ? strtoull(arg[1], NULL, 10) : 1000;
	struct correlator_opts o = { .on_finding = count };
	struct correlator *c = correlator_new(&o);
	struct bench_mix m;
	/* Records are made up front, like the ring buffer hands them over. */
	/* 4096 (600 KiB): a larger batch would count against the peak RSS per live bond */
	size_t batch = 1 << 12;
	struct sva_event *evs = calloc(batch, sizeof(*evs));
	uint64_t seq = 0, ts = 1000000000ull;
	double busy = 0, t0;
	struct rusage ru;
	struct correlator_stats st;
	struct correlator_feed feed;

	if (nargs > 2 || (arg[0] && arg[0][0] == '-')) {
		fprintf(stderr, "usage: bench_correlate [--steady] [--exits] [EVENTS] [SLOTS]\n");
		return 2;
	}
	if (!c || !evs || bench_mix_init(&m, slots, steady))
		return 1;
	m.exits = exits;
	correlator_feed_init(&feed, c);
	while (seq < n) {
		size_t k = 0;

		for (; k < batch && seq + k < n; k++) {
			ts += 1000;
			bench_mix_event(&m, &evs[k], seq + k, ts);
		}
		t0 = now_s();
		for (size_t i = 0; i < k; i++) {
			const struct sva_event *ev = correlator_feed(&feed, &evs[i]);

			if (ev)
				correlator_event(c, ev);
		}
		busy += now_s() - t0;
		seq += k;
	}
	t0 = now_s();
	for (const struct sva_event *ev; (ev = correlator_feed_next(&feed));)
		correlator_event(c, ev);
	busy += now_s() - t0;
	correlator_get_stats(c, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("correlator in-process (CPU time): %" PRIu64 " events, %" PRIu64 " live bonds at the end, "
	       "%" PRIu64 " findings: %.2f M events/s, peak RSS %ld KiB\n",
	       n, st.live_bonds, findings, (double)n / busy / 1e6, ru.ru_maxrss);
	correlator_free(c);
	free(evs);
	bench_mix_free(&m);
	return findings ? 1 : 0;
}
