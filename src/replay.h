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
#include "sva_state.h"

/* One entry of a start record's "probes": an attached probe (docs/json-format.md). */
#define REPLAY_MAX_PROBES 32
struct replay_probe {
	char function[48];
	char mode[24];
};

/* A start record. */
struct replay_start {
	uint64_t ts_ns;
	bool raw_pointers;
	const char *kernel, *machine; /* NULL when absent */
	const struct replay_probe *probes; /* the first REPLAY_MAX_PROBES */
	int nr_probes;
};

/* Whether the capture's start record lists that function among its attached probes. */
bool replay_start_has_probe(const struct replay_start *st, const char *function);

struct replay_sink {
	/* a start record (valid during the call) */
	void (*on_start)(const struct replay_start *st, void *ctx);
	void (*on_event)(const struct sva_event *ev, void *ctx);
	void (*on_lost)(uint64_t count, uint64_t ts_ns, void *ctx);
	void (*on_end)(uint64_t ts_ns, void *ctx);
	/* optional: a "state" record; seq and ts_ns are the end record's (0 for the others) */
	void (*on_state)(const struct sva_state_rec *r, uint64_t seq, uint64_t ts_ns, void *ctx);
	void *ctx;
	/* optional: set (by a signal handler) to stop before the next record */
	const volatile sig_atomic_t *stop;
	/* tests: every line the fast path reads is also read by the general parser, and the
	 * two events compared (abort() when they differ) */
	bool check_fast_path;
};

/*
 * 0, or a negative errno with err set (-EINVAL: malformed input; -EINTR: *sink->stop was
 * set, the records before it were delivered).
 */
int replay_stream(FILE *f, const char *path, const struct replay_sink *sink, char *err,
		  size_t errlen);

#endif
