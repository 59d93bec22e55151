// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: arbitrary bytes as ring-buffer records. Each SVA_EVENT_SIZE-byte (152)
 * chunk goes through the decoder, both formatters and the correlator, as the live path does;
 * the last partial chunk is decoded with its short size: refused cleanly, or, at
 * SVA_EVENT_SIZE_V1 (144) bytes, read as a record from before the cause fields.
 * Findings are formatted too. Crashes, sanitizer reports and leaks are failures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "decode.h"
#include "report.h"

static const unsigned char key[PTRHASH_KEY_LEN] = "fuzzfuzzfuzzfuzz";

static void on_finding(const struct finding *f, void *ctx)
{
	const struct fmt_opts *o = ctx;
	struct json_writer w;
	char line[2048];

	finding_format_text(f, o, line, sizeof(line));
	jw_init(&w);
	finding_format_json(&w, f, o);
	if (jw_finish(&w))
		abort(); /* every finding must be well-formed JSON */
	jw_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptrhash ph;
	struct fmt_opts o = { .ptrs = &ph };
	struct correlator_opts co = { .leak_grace_ns = 1000, .on_finding = on_finding, .ctx = &o };
	struct correlator *c;
	struct json_writer w;
	char line[1024], err[128];
	size_t off = 0;

	ptrhash_init_key(&ph, key);
	c = correlator_new(&co);
	if (!c) {
		ptrhash_free(&ph);
		return 0;
	}
	jw_init(&w);
	while (off < size) {
		size_t n = size - off < SVA_EVENT_SIZE ? size - off : SVA_EVENT_SIZE;
		struct sva_event ev;

		if (!sva_event_decode(data + off, n, &ev, err, sizeof(err))) {
			sva_event_format_text(&ev, &o, line, sizeof(line));
			jw_reset(&w);
			sva_event_format_json(&w, &ev, &o);
			if (jw_finish(&w))
				abort();
			correlator_event(c, &ev);
		}
		off += n;
	}
	correlator_lost(c, 1, 0);
	correlator_finish(c, UINT64_MAX / 2);
	jw_free(&w);
	correlator_free(c);
	ptrhash_free(&ph);
	return 0;
}
