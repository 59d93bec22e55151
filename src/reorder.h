/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The reorder window: records leave in sequence order.
 *
 * The BPF side takes `seq` with a global fetch-add just before the ring-buffer write
 * (bpf/sva_trace.bpf.c, event_submit), and the programs are only migrate-disabled, so
 * records from different CPUs reach the ring, and the reader, out of `seq` order. A
 * missing number is therefore first a record still on its way, and only later a lost one.
 *
 * The window holds the records that arrive above a gap and releases them, in order,
 * as soon as the gap fills. A gap is declared lost (and skipped) when
 *   - a record above it has waited max_wait_ns (default 100 ms) of the caller's clock
 *     (live: CLOCK_MONOTONIC, the clock of ts_ns; replay: the capture's ts_ns), or
 *   - more than max_records (default 65536) sequence numbers would be open at once, or
 *   - at reorder_flush() (end of tracing).
 * So no record waits longer than max_wait_ns, and memory is at most max_records records
 * (allocated as the window grows, 64 to start with).
 *
 * A record whose number was already declared lost (it came later than the window) is
 * delivered at once through on_late; one whose number was already released or is held
 * is a duplicate and dropped (or, with deliver_stale, delivered through on_late too: a
 * replay shows what its capture holds, e.g. two captures one after the other). Loss marks (the kernel's lost counter rose) are kept in
 * sequence position and delivered when every record before that position is out.
 */
#ifndef SVA_REORDER_H
#define SVA_REORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "sva_trace.h"

#define REORDER_DEFAULT_RECORDS 65536u
#define REORDER_DEFAULT_WAIT_NS 100000000ull

struct reorder_sink {
	/* every record, in sequence order (and late ones through on_late) */
	void (*on_record)(const struct sva_event *ev, void *ctx);
	/* sequence numbers [first, first + count) never came: declared lost */
	void (*on_gap)(uint64_t first, uint64_t count, void *ctx);
	/* a loss mark reached its position (reorder_mark_loss) */
	void (*on_loss)(uint64_t count, uint64_t ts_ns, void *ctx);
	/* optional: a record whose sequence number was declared lost before it came */
	void (*on_late)(const struct sva_event *ev, void *ctx);
	void *ctx;
};

struct reorder_stats {
	uint64_t released; /* records out through on_record, in order */
	uint64_t gaps; /* gap ranges declared lost */
	uint64_t gap_seqs; /* sequence numbers in them */
	uint64_t late; /* records through on_late */
	uint64_t duplicates; /* dropped */
	uint64_t max_held; /* most records held at once */
};

struct reorder_slot;
struct reorder_wait;
struct reorder_mark;

struct reorder {
	struct reorder_sink sink;
	uint32_t max_records; /* power of two */
	uint64_t max_wait_ns;
	bool started; /* next is known */
	bool deliver_stale; /* duplicates go out through on_late too (set after init) */
	uint64_t next; /* lowest sequence number not yet released or declared lost */
	uint64_t end; /* one above the highest sequence number seen */
	uint32_t cap; /* slots allocated (power of two, <= max_records) */
	uint32_t held;
	struct reorder_slot *slots; /* indexed by seq & (cap - 1) */
	/* held records in arrival order (with stale entries of records since released) */
	struct reorder_wait *waits;
	uint32_t wait_head, wait_len;
	/* loss marks in position order */
	struct reorder_mark *marks;
	uint32_t nr_marks;
	/* the most recent ranges declared lost, to tell a late record from a duplicate */
	uint64_t lost_first[16], lost_end[16];
	uint32_t lost_pos;
	struct reorder_stats st;
};

/*
 * max_records (rounded up to a power of two) and max_wait_ns: 0 for the defaults.
 * first_seq: the sequence number expected first when known (live: 0, the BPF counter's
 * start), or -1 to take the first record's (a replay may start anywhere).
 * Returns 0 or -ENOMEM.
 */
int reorder_init(struct reorder *w, const struct reorder_sink *sink, uint32_t max_records,
		 uint64_t max_wait_ns, int64_t first_seq);
void reorder_free(struct reorder *w);

/*
 * One record, arrived at now_ns. Releases what it lets go (and what the count bound
 * forces out). Returns 0, or -ENOMEM (the window could not grow: it was flushed first,
 * so nothing is lost but order).
 */
int reorder_push(struct reorder *w, const struct sva_event *ev, uint64_t now_ns);
/* Declares lost the gaps below records that have waited max_wait_ns at now_ns. */
void reorder_expire(struct reorder *w, uint64_t now_ns);
/* End: every gap is lost, every record and mark goes out. */
void reorder_flush(struct reorder *w);

/*
 * A state read accounts for every record numbered below seq (a re-sync): held records below it
 * go out, the numbers still missing below it are lost now (on_gap), and none of them is waited
 * for. A record below it that comes later is a late one.
 */
void reorder_skip_to(struct reorder *w, uint64_t seq);

/*
 * count records were lost (the kernel's counter rose): delivered through on_loss once
 * every sequence number below before_seq is out (released or declared lost). Positions
 * never go back: a mark is never delivered before an earlier one.
 */
void reorder_mark_loss(struct reorder *w, uint64_t before_seq, uint64_t count, uint64_t ts_ns);

/* The lowest sequence number still open (the first gap when records are held). */
static inline uint64_t reorder_next(const struct reorder *w)
{
	return w->next;
}

/* One above the highest sequence number seen (where a loss "now" goes). */
static inline uint64_t reorder_end(const struct reorder *w)
{
	return w->end > w->next ? w->end : w->next;
}

static inline uint32_t reorder_held(const struct reorder *w)
{
	return w->held;
}

/* The ts_ns of the first record held above the gap, or UINT64_MAX when none is held. */
uint64_t reorder_held_min_ts(const struct reorder *w);

#endif
