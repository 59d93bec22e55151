// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reorder window (reorder.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"

#define REORDER_MIN_CAP 64u
#define REORDER_MAX_MARKS 64u

struct reorder_slot {
	bool present;
	uint64_t arrived_ns;
	struct sva_event ev;
};

struct reorder_wait {
	uint64_t seq;
	uint64_t arrived_ns;
};

struct reorder_mark {
	uint64_t pos;
	uint64_t count;
	uint64_t ts_ns;
};

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

int reorder_init(struct reorder *w, const struct reorder_sink *sink, uint32_t max_records,
		 uint64_t max_wait_ns, int64_t first_seq)
{
	memset(w, 0, sizeof(*w));
	w->sink = *sink;
	w->max_records = round_pow2(max_records ? max_records : REORDER_DEFAULT_RECORDS);
	if (w->max_records < REORDER_MIN_CAP)
		w->max_records = REORDER_MIN_CAP;
	w->max_wait_ns = max_wait_ns ? max_wait_ns : REORDER_DEFAULT_WAIT_NS;
	w->cap = REORDER_MIN_CAP;
	w->slots = calloc(w->cap, sizeof(*w->slots));
	w->waits = calloc(w->cap, sizeof(*w->waits));
	w->marks = calloc(REORDER_MAX_MARKS, sizeof(*w->marks));
	if (!w->slots || !w->waits || !w->marks) {
		reorder_free(w);
		return -ENOMEM;
	}
	if (first_seq >= 0) {
		w->started = true;
		w->next = w->end = (uint64_t)first_seq;
	}
	return 0;
}

void reorder_free(struct reorder *w)
{
	free(w->slots);
	free(w->waits);
	free(w->marks);
	w->slots = NULL;
	w->waits = NULL;
	w->marks = NULL;
	w->held = w->cap = 0;
}

/* Marks whose every earlier sequence number is out. */
static void release_marks(struct reorder *w)
{
	uint32_t n = 0;

	while (n < w->nr_marks && w->marks[n].pos <= w->next) {
		w->sink.on_loss(w->marks[n].count, w->marks[n].ts_ns, w->sink.ctx);
		n++;
	}
	if (n) {
		memmove(w->marks, w->marks + n, (w->nr_marks - n) * sizeof(*w->marks));
		w->nr_marks -= n;
	}
}

static void note_lost_range(struct reorder *w, uint64_t first, uint64_t end)
{
	w->lost_first[w->lost_pos] = first;
	w->lost_end[w->lost_pos] = end;
	w->lost_pos = (w->lost_pos + 1) % 16;
	w->st.gaps++;
	w->st.gap_seqs += end - first;
}

/* Declares [next, upto) lost (upto > next, nothing held in it), then moves next there. */
static void declare_lost(struct reorder *w, uint64_t upto)
{
	uint64_t first = w->next;

	/* Marks inside the gap come out first: they are about state before it. */
	while (w->nr_marks && w->marks[0].pos <= first)
		release_marks(w);
	note_lost_range(w, first, upto);
	w->next = upto;
	w->sink.on_gap(first, upto - first, w->sink.ctx);
}

/* Releases the held records from next on while they are contiguous. */
static void release_run(struct reorder *w)
{
	for (;;) {
		struct reorder_slot *s;

		release_marks(w);
		if (!w->held)
			break;
		s = &w->slots[w->next & (w->cap - 1)];
		if (!s->present || s->ev.seq != w->next)
			break;
		s->present = false;
		w->held--;
		w->next++;
		w->st.released++;
		w->sink.on_record(&s->ev, w->sink.ctx);
	}
	if (w->next > w->end)
		w->end = w->next;
}

/* The lowest held sequence number (held > 0). */
static uint64_t lowest_held(const struct reorder *w)
{
	uint64_t s = w->next;

	while (!w->slots[s & (w->cap - 1)].present || w->slots[s & (w->cap - 1)].ev.seq != s)
		s++;
	return s;
}

/* Skips the gap at next (held > 0): declares it lost and releases what follows it. */
static void skip_gap(struct reorder *w)
{
	declare_lost(w, lowest_held(w));
	release_run(w);
}

/* Everything out: gaps up to the highest held record are lost. */
static void drain(struct reorder *w)
{
	release_run(w);
	while (w->held)
		skip_gap(w);
	w->wait_len = 0;
}

static int grow(struct reorder *w, uint32_t ncap)
{
	struct reorder_slot *slots = calloc(ncap, sizeof(*slots));
	struct reorder_wait *waits = calloc(ncap, sizeof(*waits));

	if (!slots || !waits) {
		free(slots);
		free(waits);
		return -ENOMEM;
	}
	for (uint64_t s = w->next; s < w->end; s++) {
		struct reorder_slot *o = &w->slots[s & (w->cap - 1)];

		if (o->present && o->ev.seq == s)
			slots[s & (ncap - 1)] = *o;
	}
	for (uint32_t i = 0; i < w->wait_len; i++)
		waits[i] = w->waits[(w->wait_head + i) & (w->cap - 1)];
	free(w->slots);
	free(w->waits);
	w->slots = slots;
	w->waits = waits;
	w->wait_head = 0;
	w->cap = ncap;
	return 0;
}

/* The oldest waiting entry of a record still held, dropping stale ones; NULL if none. */
static struct reorder_wait *oldest_wait(struct reorder *w)
{
	while (w->wait_len) {
		struct reorder_wait *e = &w->waits[w->wait_head];
		const struct reorder_slot *s = &w->slots[e->seq & (w->cap - 1)];

		if (e->seq >= w->next && s->present && s->ev.seq == e->seq)
			return e;
		w->wait_head = (w->wait_head + 1) & (w->cap - 1);
		w->wait_len--;
	}
	return NULL;
}

/* Declares lost whatever lies below seq (held records below it go out first). */
static void release_below(struct reorder *w, uint64_t seq)
{
	while (w->held && w->next < seq) {
		if (lowest_held(w) >= seq)
			break;
		skip_gap(w);
	}
	if (w->next < seq) {
		declare_lost(w, seq);
		release_run(w);
	}
}

static bool was_declared_lost(const struct reorder *w, uint64_t seq)
{
	for (int i = 0; i < 16; i++)
		if (seq >= w->lost_first[i] && seq < w->lost_end[i])
			return true;
	return false;
}

/* The record at next: out now, and what was waiting behind it. */
static void release_now(struct reorder *w, const struct sva_event *ev)
{
	w->next++;
	if (w->next > w->end)
		w->end = w->next;
	w->st.released++;
	w->sink.on_record(ev, w->sink.ctx);
	/* Nothing held and no loss to tell (the common case): release_run would do nothing. */
	if (w->held || w->nr_marks)
		release_run(w);
}

int reorder_push(struct reorder *w, const struct sva_event *ev, uint64_t now_ns)
{
	struct reorder_slot *s;
	uint64_t seq = ev->seq;
	int err = 0;

	if (__builtin_expect(seq == w->next && w->started, 1)) {
		/* The common case: in order, nothing to hold (the checks below all pass it). */
		release_now(w, ev);
		return 0;
	}
	if (!w->started) {
		w->started = true;
		w->next = w->end = seq;
	}
	if (seq < w->next) {
		bool lost = was_declared_lost(w, seq);

		if (lost)
			w->st.late++;
		else
			w->st.duplicates++;
		if ((lost || w->deliver_stale) && w->sink.on_late)
			w->sink.on_late(ev, w->sink.ctx);
		return 0;
	}
	/* Above a gap it is held; the count bound first: at most max_records numbers open. */
	if (seq > w->next && seq - w->next >= w->max_records)
		release_below(w, seq - w->max_records + 1);
	/* Room for its slot (grows up to max_records) ... */
	while (seq > w->next && seq - w->next >= w->cap && !err) {
		err = grow(w, w->cap * 2);
		if (err) /* order is all that is lost: what is held goes out now */
			release_below(w, seq);
	}
	/* ... and for its place in the wait list (which also holds stale entries). */
	while (seq > w->next && w->wait_len == w->cap && oldest_wait(w) && w->wait_len == w->cap) {
		uint64_t oldest = w->waits[w->wait_head].seq;

		if (w->cap < w->max_records && !grow(w, w->cap * 2))
			break;
		release_below(w, oldest < seq ? oldest : seq);
	}
	if (seq == w->next) {
		/* The common case: in order, nothing to hold. */
		release_now(w, ev);
		return err;
	}
	s = &w->slots[seq & (w->cap - 1)];
	if (s->present && s->ev.seq == seq) {
		w->st.duplicates++;
		if (w->deliver_stale && w->sink.on_late)
			w->sink.on_late(ev, w->sink.ctx);
		return err;
	}
	s->present = true;
	s->arrived_ns = now_ns;
	s->ev = *ev;
	w->held++;
	if (w->held > w->st.max_held)
		w->st.max_held = w->held;
	if (seq + 1 > w->end)
		w->end = seq + 1;
	w->waits[(w->wait_head + w->wait_len) & (w->cap - 1)] =
		(struct reorder_wait){ .seq = seq, .arrived_ns = now_ns };
	w->wait_len++;
	return err;
}

void reorder_expire(struct reorder *w, uint64_t now_ns)
{
	struct reorder_wait *e;

	while ((e = oldest_wait(w)) && now_ns >= e->arrived_ns &&
	       now_ns - e->arrived_ns >= w->max_wait_ns)
		release_below(w, e->seq);
	release_marks(w);
}

void reorder_flush(struct reorder *w)
{
	drain(w);
	/* Marks past the last record: nothing more will come. */
	for (uint32_t i = 0; i < w->nr_marks; i++)
		w->sink.on_loss(w->marks[i].count, w->marks[i].ts_ns, w->sink.ctx);
	w->nr_marks = 0;
}

void reorder_skip_to(struct reorder *w, uint64_t seq)
{
	if (!w->started) {
		w->started = true;
		w->next = w->end = seq;
		return;
	}
	release_below(w, seq);
	release_marks(w);
}

void reorder_mark_loss(struct reorder *w, uint64_t before_seq, uint64_t count, uint64_t ts_ns)
{
	struct reorder_mark *last = w->nr_marks ? &w->marks[w->nr_marks - 1] : NULL;

	if (!count)
		return;
	if (last && before_seq < last->pos)
		before_seq = last->pos;
	if (last && (before_seq == last->pos || w->nr_marks == REORDER_MAX_MARKS)) {
		/* Same position, or no room: one mark says both (counts add up). */
		last->count += count;
		last->ts_ns = ts_ns;
		return;
	}
	w->marks[w->nr_marks++] = (struct reorder_mark){ before_seq, count, ts_ns };
	release_marks(w);
}

uint64_t reorder_held_min_ts(const struct reorder *w)
{
	uint64_t min = UINT64_MAX;

	if (!w->held)
		return min;
	for (uint64_t s = w->next; s < w->end; s++) {
		const struct reorder_slot *sl = &w->slots[s & (w->cap - 1)];

		if (sl->present && sl->ev.seq == s && sl->ev.ts_ns < min)
			min = sl->ev.ts_ns;
	}
	return min;
}
