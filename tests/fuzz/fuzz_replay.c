// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: arbitrary bytes as a JSON Lines capture for --replay. Every parsed
 * event goes through the correlator; any input must end in success or a clean error with a
 * message, never a crash, a sanitizer report or a leak; and every line replay.c's fast path
 * takes must give the same event through the general (yajl) parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "replay.h"

static void on_event(const struct sva_event *ev, void *ctx)
{
	correlator_event(ctx, ev);
}

static void on_lost(uint64_t n, uint64_t ts, void *ctx)
{
	correlator_lost(ctx, n, ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct correlator_opts co = { .leak_grace_ns = 1000 };
	struct correlator *c = correlator_new(&co);
	/* check_fast_path: a line the fast path reads must read the same through yajl */
	struct replay_sink sink = { .on_event = on_event, .on_lost = on_lost, .ctx = c,
				    .check_fast_path = true };
	char err[512];
	FILE *f;
	int ret;

	if (!c)
		return 0;
	f = fmemopen((void *)data, size ? size : 1, "r");
	if (f) {
		if (!size)
			fgetc(f); /* an empty stream */
		err[0] = '\0';
		ret = replay_stream(f, "fuzz", &sink, err, sizeof(err));
		if (ret && !err[0])
			abort(); /* every failure must say why */
		fclose(f);
	}
	correlator_finish(c, UINT64_MAX / 2);
	correlator_free(c);
	return 0;
}
