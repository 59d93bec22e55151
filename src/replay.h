/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a JSON Lines capture written by sva-trace --json, with yajl (a
 * streaming parser from Debian: no tree per line, about 700k lines/s).
 * Unknown fields are ignored (newer captures replay on older builds);
 * anything malformed stops the replay with "FILE:LINE: field 'x': ...".
 */
#ifndef SVA_REPLAY_H
#define SVA_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include "sva_trace.h"

struct replay_sink {
	void (*on_start)(uint64_t ts_ns, bool raw_pointers, void *ctx);
	void (*on_event)(const struct sva_event *ev, void *ctx);
	void (*on_lost)(uint64_t count, uint64_t ts_ns, void *ctx);
	void (*on_end)(uint64_t ts_ns, void *ctx);
	/* optional: the capture's kernel release and machine (NULL when absent) */
	void (*on_start_info)(const char *kernel, const char *machine, void *ctx);
	void *ctx;
	/* optional: set (by a signal handler) to stop before the next record */
	const volatile sig_atomic_t *stop;
};

/*
 * 0, or a negative errno with err set (-EINVAL: malformed input; -EINTR: *sink->stop was
 * set, the records before it were delivered).
 */
int replay_stream(FILE *f, const char *path, const struct replay_sink *sink, char *err,
		  size_t errlen);

#endif
