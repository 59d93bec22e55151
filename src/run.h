/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One sva-trace run, live or replayed: what each record, finding, resolution and loss
 * becomes on stdout (text lines or JSON Lines, after the filters), the start and summary
 * records, the --fail-on count and what the export keeps. sva-trace.c dispatches; the
 * session (session.h) feeds records in seq order.
 */
#ifndef SVA_RUN_H
#define SVA_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "correlate.h"
#include "decode.h"
#include "export.h"
#include "filter.h"
#include "json_writer.h"
#include "kernel.h"
#include "loader.h"
#include "options.h"
#include "ptrhash.h"
#include "session.h"
#include "state.h"

struct metrics;
struct metrics_sink;

struct run {
	const struct sva_options *opts;
	struct sva_loader ld;
	struct sva_filter filter; /* what is shown (--pid --comm --dev --pasid) */
	struct ptrhash ptrs;
	struct fmt_opts fmt;
	struct json_writer jw;
	struct correlator *corr;
	struct session sess;
	uint64_t counts[SVA_REC__MAX];
	uint64_t findings_shown[FINDING__MAX]; /* what the filters let through, for the summary */
	uint64_t resolved_shown;
	uint64_t fail_hits; /* certain findings of a --fail-on kind, less those retracted */
	uint64_t fail_doubt[DOUBT__MAX]; /* ... uncertain ones, by doubt: they do not fail the run */
	bool output_broken; /* stdout refused a write: the reader went away, or a full disk */
	int output_errno;   /* why (EPIPE: the reader went away) */
	/*
	 * Output into a file or a pipe: lines gathered here and handed to stdio a block at a
	 * time (run_flush_output), not one fwrite each. NULL on a terminal (line by line).
	 */
	char *out;
	size_t out_len;
	volatile sig_atomic_t *stop; /* set when the output breaks: the run ends */
	/* replay: the capture's probes, repeated in the replay's own start record */
	struct replay_probe cap_probes[REPLAY_MAX_PROBES];
	int nr_cap_probes;
	/* export */
	bool keep; /* --export: keep what the export needs */
	struct export_keep kept;
	uint64_t start_wall_ns;
	char kernel_release[65], machine[65], boot_id[40];
	struct ksym_table *ksyms; /* read before the capabilities go (--stacks) */
	/* --metrics / --metrics-file */
	struct metrics *mx;
	struct metrics_sink *msink;
	uint64_t replayed; /* records replayed, for the metrics refresh */
	/* what was bound at start (state.h): read live before the privileges go, or replayed */
	struct sva_state state;
	bool state_emitted;
	struct sva_state resync; /* the last re-sync's read (a replay: the capture's) */
	uint64_t resync_diffs; /* differences of the last re-sync */
};

/* The correlator and session for opts (live unless --replay). 0 or -ENOMEM. */
int run_init(struct run *r, const struct sva_options *opts, volatile sig_atomic_t *stop);
void run_free(struct run *r);
/*
 * Into a file or a pipe (stdout fully buffered): gather lines in blocks of RUN_OUT_SIZE.
 * Whatever else writes to stdout, or flushes it, calls run_flush_output() first.
 */
#define RUN_OUT_SIZE (64 << 10)
void run_gather_output(struct run *r);
/* The gathered lines to stdio (not flushed there): false when the output is broken. */
bool run_flush_output(struct run *r);
/* A write to stdout failed with err: no more output, and the run stops. */
void run_output_failed(struct run *r, int err);
/* run_flush_output(), then stdio's buffer to stdout: false when the output is broken. */
bool run_flush_stdout(struct run *r);

/* --export: what the run keeps from now on. 0 or -ENOMEM. */
int run_keep_for_export(struct run *r);
/* Live: this machine's kernel release, architecture and boot id, for the export. */
void run_describe_host(struct run *r);

/*
 * --metrics / --metrics-file: binds the socket and checks the file (before privileges go).
 * 0 (also without either option), or -errno after saying why (exit 2 material).
 */
int run_open_metrics(struct run *r);
/* After the privilege drop (live) or the replay: fixed facts, first snapshot, HTTP thread. */
int run_start_metrics(struct run *r);
/* Refreshes the snapshot and the file when the interval has passed (or force): 0 or -errno. */
int run_update_metrics(struct run *r, uint64_t now_ns, bool force);

/* The start record (JSON) or the text header. */
void run_emit_start(struct run *r);
/*
 * Live: reads the kernel's SVA state (the task iterator) into r->state; with seed, the
 * correlator starts from it and its owners' exits are traced. Needs the start-up privileges.
 */
void run_read_state(struct run *r, bool seed);
/* The state read: "state" records (JSON) or the table (text), once, after the start record. */
void run_emit_state(struct run *r);
/*
 * Live re-sync (SIGUSR2): the window emptied, the kernel's state read again (until no record
 * came during the read, 3 tries), its records written (JSON) and compared with the model
 * (state.h): each difference a "resync" record or line, the model corrected.
 */
void run_resync(struct run *r);
/* correlator_finish, then the summary at now_ns (the kernel clock). */
void run_emit_summary(struct run *r, uint64_t now_ns);
/* At the end: --fail-on findings that did not fail the run because they are uncertain. */
void run_note_uncertain_fail(const struct run *r);
/* Writes the export; on failure says so and returns -errno (the old file stays). */
int run_write_export(struct run *r, const char *reason, uint64_t end_ns);

/*
 * --replay: the capture (or export) at opts->replay_path, through the session. Returns 0
 * (exit status from r->fail_hits), 1 when the export report found a --fail-on kind, or
 * -errno after saying why: -EINTR interrupted by *exit_signal (the summary of what was read
 * was printed, no export written), -EINVAL/-ENODATA malformed, others: unreadable, or the
 * export was not written (-EIO).
 */
int run_replay(struct run *r, const volatile sig_atomic_t *exit_signal);

#endif
