/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tracing session: the one path from records to the correlator, for sva-trace and
 * sva-top, live and replayed.
 *
 * Live, it owns the ring buffer (polling, decoding, bad records), the kernel's lost
 * counter and the privilege drop. Live and replayed alike, records go through the
 * reorder window (reorder.h) and the correlator's lookahead (correlator_feed), and reach
 * the front end and then the correlator in `seq` order. Loss is accounted in one place:
 * the kernel's lost counter rising, and gaps still open after the window, are told to the
 * correlator once each (the larger of the two counts, since a record the kernel failed to
 * queue also leaves a gap), at their position in the sequence, so that only the state live
 * then becomes uncertain.
 * A gap that closes within the window is a reorder, not a loss.
 */
#ifndef SVA_SESSION_H
#define SVA_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cause.h"
#include "correlate.h"
#include "reorder.h"
#include "replay.h"
#include "sva_trace.h"

struct sva_loader;
struct ring_buffer;

enum session_loss_source {
	SESSION_LOSS_KERNEL, /* the kernel's lost counter rose (ring buffer full, probe misses) */
	SESSION_LOSS_GAP, /* sequence numbers still missing after the reorder window */
};

struct session_ops {
	/* each record, in seq order, before the correlator sees it */
	void (*on_event)(const struct sva_event *ev, void *ctx);
	/* records were lost (after the correlator was told); total: all so far */
	void (*on_lost)(uint64_t count, uint64_t total, uint64_t ts_ns,
			enum session_loss_source src, void *ctx);
	/* optional: a record that failed to decode (err says why), dropped */
	void (*on_bad_record)(const char *err, uint64_t nr_bad, void *ctx);
	void *ctx;
};

struct session {
	struct correlator *corr;
	struct session_ops ops;
	struct reorder win;
	/*
	 * Between the window and the correlator: records released in order wait here a few
	 * records deep while what they read is prefetched (correlate.h correlator_feed). Drained
	 * before anything else reaches the correlator or the front end, so both see what they
	 * saw without it, in the same order.
	 */
	struct correlator_feed feed;
	bool live;
	/* live */
	const struct sva_loader *ld;
	struct ring_buffer *rb;
	uint64_t next_lost_check_ns;
	/* accounting */
	uint64_t bad_records;
	uint64_t kernel_lost_read; /* the kernel's counter as last read (or the capture's sum) */
	uint64_t kernel_lost_marked; /* ... of which placed in the window */
	uint64_t lost_at_read; /* the kernel's counter when a state read was last compared */
	uint64_t kernel_lost_out; /* ... of which the window let out */
	uint64_t gap_lost; /* sequence numbers declared lost by the window */
	uint64_t lost_told; /* told to the correlator: max(kernel_lost_out, gap_lost) */
	struct sva_kernel_facts kernel; /* live: names inline checks (cause.h) */
	uint64_t last_ts; /* highest ts_ns released */
	uint64_t clock_ns; /* replay: the highest ts_ns read, the window's clock */
	/* replay (session_replay) */
	const struct session_replay_ops *replay_ops;
	bool replay_started;
	uint64_t replay_end_ns; /* the highest ts_ns of a record or end record read */
};

/* What a front end hears of a capture read by session_replay(). */
struct session_replay_ops {
	/*
	 * once: the first start record, or (no probes, no kernel) the first record's time if
	 * none came before it; the correlator has been told whether exit_mmap was traced
	 */
	void (*on_start)(const struct replay_start *st, void *ctx);
	/* optional: the capture's kernel release and machine (NULL when absent) */
	void (*on_start_info)(const char *kernel, const char *machine, void *ctx);
	/* optional: each record before it enters the window; false drops it (sva-top paces here) */
	bool (*on_record)(const struct sva_event *ev, void *ctx);
	/* optional: an end record */
	void (*on_end)(uint64_t ts_ns, void *ctx);
	/* optional: a state record (replay.h) */
	void (*on_state)(const struct sva_state_rec *r, uint64_t seq, uint64_t ts_ns, void *ctx);
	void *ctx;
};

/* live: first seq 0 (a fresh BPF object); a replay starts at its first record. 0 or -ENOMEM. */
int session_init(struct session *s, struct correlator *corr, const struct session_ops *ops,
		 bool live);
void session_free(struct session *s);

/* Live: maps the loaded object's ring buffer. 0 or -errno. */
int session_open_ring(struct session *s, const struct sva_loader *ld);
/*
 * Live: drops the capabilities tracing no longer needs (privdrop.h), keeping what reading
 * the maps and writing write_paths (privdrop.h) need. 0 or -errno; kept names what was kept.
 */
int session_drop_privileges(struct session *s, const char *const *write_paths, char *kept,
			    size_t kept_len);
/*
 * Live: waits up to timeout_ms for records, drains the ring, lets out what the window
 * allows at now, reads the kernel's lost counter once a second, and tells the correlator
 * the time (see session_clock). 0 (also when a signal interrupted the wait), or -errno.
 */
int session_poll(struct session *s, int timeout_ms);
/* Live: stop reading: drain the ring, read the lost counter, empty the window. */
void session_finish_live(struct session *s);

/* Replay: one record read from a capture. */
void session_replay_event(struct session *s, const struct sva_event *ev);
/* Replay: a "lost" record of the capture. */
void session_replay_lost(struct session *s, uint64_t count, uint64_t ts_ns);
/*
 * Replay: reads a capture (replay.h) into the session: records and lost records through
 * the window, the start and end records to ops. Returns replay_stream()'s result (0, or
 * -errno with err set; -EINTR: *stop was set). The window is not flushed (session_flush).
 */
int session_replay(struct session *s, FILE *f, const char *path,
		   const struct session_replay_ops *ops, const volatile sig_atomic_t *stop, char *err,
		   size_t errlen);
/* End of input (or of tracing): every gap is lost, every record goes out. */
void session_flush(struct session *s);
/*
 * A re-sync's state read accounts for the records numbered below seq: a gap below it is a loss
 * told now, before the model is compared with the read, not when the next record shows it.
 */
void session_skip_to(struct session *s, uint64_t seq);

/*
 * Live: the kernel-clock time the correlator may judge deadlines at: now, but never past
 * a record still held in the window (its unbind may be the one a leak waits for).
 */
uint64_t session_clock(const struct session *s, uint64_t now_ns);

/*
 * Live, before a state read's seq is compared (session_skip_to): every record numbered below
 * seq was numbered before the counter was read, but the ring gives records out in the order
 * they were reserved, and a program preempted between its reservation and its submit (BPF
 * programs are preemptible on a preemptible kernel) holds back those reserved after it.
 * Polls for at most max_ms until the records below seq are in, so that such a one is not
 * called a loss; false when they are not all in.
 */
bool session_wait_for(struct session *s, uint64_t seq, int max_ms);

struct sva_loader;
struct sva_state;

/* Why a state read was not taken (session_read_state's -EAGAIN). */
struct state_race {
	uint64_t records; /* records made during the last read */
	uint64_t calls; /* traced state-changing calls that entered across it and had not returned */
};

/*
 * Live: a state read to compare with what the records built (a re-sync, state.h). The
 * records below the counter are applied first, then the kernel is walked (without locks: a
 * bind or unbind on another CPU may be in the walk or not) and the read stamped with the
 * counter after it. A read is taken only when no record was made during it and no traced
 * bind, unbind, attach, replace or detach was in flight at any moment of it (the probes
 * count their entries and returns, sva_loader_calls): a bind's critical section can end
 * during the walk with its record made at its return after it, an unbind's record is made at
 * its entry before it changes anything. Before each read it waits up to 50 ms for calls in
 * flight to return; a raced read is repeated, tries times at most. The records made during
 * the last read are applied before it returns (their seq is below st->seq). Returns 0;
 * -EAGAIN when every read raced (*race says how; st must not be compared then: an unbind
 * the walk missed would come back as a bond never unbound); or the read's -errno.
 */
int session_read_state(struct session *s, struct sva_loader *ld, const char *btf_path,
		       struct sva_state *st, int tries, struct state_race *race);

/*
 * Live, at start-up: the state read that seeds the correlator. Unlike a re-sync it applies
 * no record first (the records wait in the ring: those below st->seq came before the read
 * ended, correlate.h); it waits up to 50 ms for traced calls in flight to return and reads
 * again, three times at most, while one was in flight across the read (*in_flight: how many
 * across the last). Calls begun before the probes were attached are not counted: a bond's
 * first record after the read settles its count (correlate.c). 0, or the read's -errno.
 */
int session_read_start_state(struct sva_loader *ld, const char *btf_path, struct sva_state *st,
			     uint64_t *in_flight);

/*
 * Sequence numbers the window declared lost and that never came (a late one is not counted):
 * the summary's seq_gaps. The session owns this count; the correlator only hears of losses.
 */
static inline uint64_t session_seq_gaps(const struct session *s)
{
	return s->win.st.gap_seqs - s->win.st.late;
}

/* Lost records told to the correlator so far. */
static inline uint64_t session_lost(const struct session *s)
{
	return s->lost_told;
}

#endif
