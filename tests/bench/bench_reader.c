// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench_reader: the reader's own work per ring-buffer record, as the live path does it
 * (src/session.c on_ring_record, src/run.c on_event): the raw record decoded
 * (sva_event_decode), its cause resolved, pushed through the reorder window stamped with
 * CLOCK_MONOTONIC, then, in seq order, formatted (text, or --json) with hashed pointers,
 * gathered in 64 KiB blocks for stdout as into a file or pipe, and given to the correlator. Only libbpf's ring-buffer walk and the
 * poll are missing. host-bench.sh runs it under callgrind with --toggle-collect=reader_record:
 * instructions per record (issue 18, item 1). The stream is mix.h's (--steady --exits).
 *
 * Usage: [BENCH_FIXED_KEY=1] bench_reader [--json] [EVENTS] [SLOTS] > /dev/null
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cause.h"
#include "correlate.h"
#include "decode.h"
#include "json_writer.h"
#include "ptrhash.h"
#include "reorder.h"
#include "run.h" /* RUN_OUT_SIZE */
#include "mix.h"

struct reader {
	struct correlator *corr;
	struct correlator_feed feed;
	struct reorder win;
	struct sva_kernel_facts kernel;
	struct ptrhash ptrs;
	struct fmt_opts fmt;
	struct json_writer jw;
	bool json;
	uint64_t findings, bad;
	char out[RUN_OUT_SIZE];
	size_t out_len;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_finding(const struct finding *f, void *ctx)
{
	struct reader *r = ctx;

	(void)f;
	r->findings++;
}

/* run.c's run_flush_output: the gathered lines to stdio. */
static void out_flush(struct reader *r)
{
	fwrite_unlocked(r->out, 1, r->out_len, stdout);
	r->out_len = 0;
}

/*
 * run.c's on_event into a file or pipe (stdout is /dev/null here): the line gathered in a
 * block (the text formatted in place), then (session.c's correlate) the correlator.
 */
static void correlate(struct reader *r, const struct sva_event *ev)
{
	const size_t longest = 2047; /* run.c's line[2048], less its newline */

	if (r->json) {
		int n;

		if (r->out_len + SVA_EVENT_JSON_MAX + 1 > RUN_OUT_SIZE)
			out_flush(r);
		n = sva_event_format_json_buf(ev, &r->fmt, r->out + r->out_len);
		if (n >= 0) {
			r->out[r->out_len + (size_t)n] = '\n';
			r->out_len += (size_t)n + 1;
		}
	} else {
		size_t n;

		if (r->out_len + longest + 1 > RUN_OUT_SIZE)
			out_flush(r);
		n = (size_t)sva_event_format_text(ev, &r->fmt, r->out + r->out_len, longest);
		r->out[r->out_len + n] = '\n';
		r->out_len += n + 1;
	}
	correlator_event(r->corr, ev);
}

/* session.c's win_record: out of the window, through the correlator's lookahead. */
static void on_record(const struct sva_event *ev, void *ctx)
{
	struct reader *r = ctx;

	ev = correlator_feed(&r->feed, ev);
	if (ev)
		correlate(r, ev);
}

static void on_gap(uint64_t first, uint64_t count, void *ctx)
{
	(void)first;
	(void)count;
	(void)ctx;
}

static void on_loss(uint64_t count, uint64_t ts_ns, void *ctx)
{
	(void)count;
	(void)ts_ns;
	(void)ctx;
}

/* session.c's on_ring_record: one raw record as libbpf hands it over. Not inlined: callgrind
 * counts what it costs, inclusive. */
__attribute__((noinline)) void reader_record(struct reader *r, const void *data, size_t size)
{
	struct sva_event ev;
	char err[128];

	if (sva_event_decode(data, size, &ev, err, sizeof(err))) {
		r->bad++;
		return;
	}
	sva_cause_resolve(&ev, &r->kernel);
	reorder_push(&r->win, &ev, mono_ns());
}

int main(int argc, char **argv)
{
	static struct reader r; /* its 64 KiB block */
	const struct reorder_sink sink = {
		.on_record = on_record, .on_gap = on_gap, .on_loss = on_loss, .ctx = &r,
	};
	struct correlator_opts co = { .on_finding = on_finding, .ctx = &r };
	char **arg = argv + 1;
	int nargs = argc - 1;
	uint64_t n, slots, ts = 1000000000ull;
	struct sva_event raw;
	struct bench_mix m;

	if (nargs > 0 && !strcmp(arg[0], "--json")) {
		r.json = true;
		arg++;
		nargs--;
	}
	if (nargs > 2 || (nargs > 0 && arg[0][0] == '-')) {
		fprintf(stderr, "usage: bench_reader [--json] [EVENTS] [SLOTS]\n");
		return 2;
	}
	n = nargs > 0 ? strtoull(arg[0], NULL, 10) : 1000000;
	slots = nargs > 1 ? strtoull(arg[1], NULL, 10) : 10000;
	if (ptrhash_init(&r.ptrs, false) || bench_mix_init(&m, slots, true))
		return 1;
	/* BENCH_FIXED_KEY=1: a fixed pointer-hash key, so that two builds' output can be diffed */
	if (getenv("BENCH_FIXED_KEY")) {
		static const unsigned char key[PTRHASH_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		ptrhash_free(&r.ptrs);
		ptrhash_init_key(&r.ptrs, key);
	}
	m.exits = true;
	r.fmt.ptrs = &r.ptrs;
	r.fmt.t0_ns = ts;
	sva_kernel_facts_init(&r.kernel, "7.2.13", "x86_64");
	jw_init(&r.jw);
	r.corr = correlator_new(&co);
	if (!r.corr || reorder_init(&r.win, &sink, 0, 0, 0))
		return 1;
	correlator_feed_init(&r.feed, r.corr);
	for (uint64_t seq = 0; seq < n; seq++) {
		ts += 1000;
		bench_mix_event(&m, &raw, seq, ts);
		reader_record(&r, &raw, sizeof(raw));
	}
	reorder_flush(&r.win);
	for (const struct sva_event *ev; (ev = correlator_feed_next(&r.feed));)
		correlate(&r, ev);
	out_flush(&r);
	fflush(stdout);
	fprintf(stderr, "reader: %" PRIu64 " records (%s), %" PRIu64 " bad, %" PRIu64
		" findings, %" PRIu64 " released\n", n, r.json ? "json" : "text", r.bad, r.findings,
		r.win.st.released);
	reorder_free(&r.win);
	correlator_free(r.corr);
	jw_free(&r.jw);
	ptrhash_free(&r.ptrs);
	bench_mix_free(&m);
	return r.findings || r.bad || r.win.st.released != n ? 1 : 0;
}
