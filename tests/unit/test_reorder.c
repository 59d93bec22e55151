// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reorder window: records out in seq order, gaps lost only after the window. */
#include "tap.h"
#include "reorder.h"

#define MS 1000000ull

/* What came out, in order: records as their seq, gaps as -(first+1) with the count after. */
struct out {
	int64_t items[4096];
	int n;
	uint64_t gap_seqs, gaps, late, losses, loss_count;
	int64_t loss_at[16]; /* n (items out so far) at each loss mark */
};

static void on_record(const struct sva_event *ev, void *ctx)
{
	struct out *o = ctx;

	if (o->n < 4096)
		o->items[o->n++] = (int64_t)ev->seq;
}

static void on_gap(uint64_t first, uint64_t count, void *ctx)
{
	struct out *o = ctx;

	o->gaps++;
	o->gap_seqs += count;
	if (o->n < 4095) {
		o->items[o->n++] = -(int64_t)first - 1;
		o->items[o->n++] = (int64_t)count;
	}
}

static void on_loss(uint64_t count, uint64_t ts_ns, void *ctx)
{
	struct out *o = ctx;

	(void)ts_ns;
	if (o->losses < 16)
		o->loss_at[o->losses] = o->n;
	o->losses++;
	o->loss_count += count;
}

static void on_late(const struct sva_event *ev, void *ctx)
{
	struct out *o = ctx;

	(void)ev;
	o->late++;
}

static struct reorder w;
static struct out out;

static void setup(uint32_t max_records, uint64_t max_wait_ns, int64_t first)
{
	const struct reorder_sink sink = { on_record, on_gap, on_loss, on_late, &out };

	memset(&out, 0, sizeof(out));
	ASSERT_EQ(reorder_init(&w, &sink, max_records, max_wait_ns, first), 0);
}

static void push(uint64_t seq, uint64_t now_ns)
{
	struct sva_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = SVA_REC_BIND;
	ev.seq = seq;
	ev.ts_ns = 1000 + seq;
	ASSERT_EQ(reorder_push(&w, &ev, now_ns), 0);
}

TEST(in_order_records_go_out_at_once)
{
	setup(0, 0, 0);
	for (uint64_t s = 0; s < 5; s++) {
		push(s, 0);
		EXPECT_EQ(out.n, (int)s + 1);
	}
	EXPECT_EQ(reorder_held(&w), 0);
	EXPECT_EQ(out.gaps, 0);
	reorder_free(&w);
}

TEST(out_of_order_records_are_released_in_seq_order)
{
	static const int64_t want[] = { 0, 1, 2, 3, 4, 5 };

	setup(0, 0, 0);
	push(0, 0);
	push(2, 1);
	push(4, 2);
	EXPECT_EQ(out.n, 1); /* 2 and 4 wait for 1 and 3 */
	EXPECT_EQ(reorder_held(&w), 2);
	push(3, 3);
	EXPECT_EQ(out.n, 1);
	push(1, 4);
	EXPECT_EQ(out.n, 5);
	push(5, 5);
	ASSERT_EQ(out.n, 6);
	for (int i = 0; i < 6; i++)
		EXPECT_EQ(out.items[i], want[i]);
	EXPECT_EQ(out.gaps, 0);
	EXPECT_EQ(w.st.max_held, 3);
	reorder_free(&w);
}

TEST(a_gap_within_the_window_is_not_lost)
{
	setup(0, 100 * MS, 0);
	push(0, 0);
	push(2, 10 * MS);
	reorder_expire(&w, 109 * MS); /* 99 ms of waiting: still a reorder */
	EXPECT_EQ(out.gaps, 0);
	EXPECT_EQ(out.n, 1);
	push(1, 109 * MS);
	EXPECT_EQ(out.n, 3);
	EXPECT_EQ(out.gaps, 0);
	reorder_free(&w);
}

TEST(a_gap_still_open_after_the_window_is_lost)
{
	static const int64_t want[] = { 0, -2, 1, 2, 3, 4 };

	setup(0, 100 * MS, 0);
	push(0, 0);
	push(3, 10 * MS);
	push(4, 20 * MS);
	push(2, 50 * MS); /* 1 is still missing */
	reorder_expire(&w, 109 * MS);
	EXPECT_EQ(out.gaps, 0);
	EXPECT_EQ(out.n, 1);
	reorder_expire(&w, 110 * MS); /* seq 3 has waited 100 ms: 1 is lost */
	ASSERT_EQ(out.n, 6);
	for (int i = 0; i < 6; i++)
		EXPECT_EQ(out.items[i], want[i]);
	EXPECT_EQ(out.gap_seqs, 1);
	EXPECT_EQ(reorder_held(&w), 0);
	reorder_free(&w);
}

TEST(expiry_releases_everything_behind_the_lost_gap)
{
	setup(0, 100 * MS, 0);
	push(0, 0);
	push(2, 10 * MS);
	push(3, 10 * MS);
	push(5, 60 * MS); /* a second gap, at 4 */
	reorder_expire(&w, 110 * MS);
	/* 1 is lost; 2, 3 go out; 5 has waited only 50 ms: 4 is still a reorder */
	ASSERT_EQ(out.n, 5);
	EXPECT_EQ(out.items[0], 0);
	EXPECT_EQ(out.items[1], -2);
	EXPECT_EQ(out.items[2], 1);
	EXPECT_EQ(out.items[3], 2);
	EXPECT_EQ(out.items[4], 3);
	EXPECT_EQ(reorder_held(&w), 1);
	push(4, 120 * MS);
	EXPECT_EQ(out.n, 7);
	EXPECT_EQ(out.gaps, 1);
	reorder_free(&w);
}

TEST(a_record_later_than_the_window_comes_out_as_late)
{
	setup(0, 100 * MS, 0);
	push(0, 0);
	push(2, 0);
	reorder_expire(&w, 100 * MS);
	EXPECT_EQ(out.gaps, 1);
	push(1, 150 * MS); /* declared lost, then came */
	EXPECT_EQ(out.late, 1);
	EXPECT_EQ(w.st.late, 1);
	EXPECT_EQ(w.st.duplicates, 0);
	EXPECT_EQ(out.n, 4); /* 0, gap(2 items), 2: the late one is not an in-order record */
	reorder_free(&w);
}

TEST(duplicate_and_old_seq_are_dropped)
{
	setup(0, 0, 0);
	push(0, 0);
	push(1, 0);
	push(3, 0);
	push(3, 0); /* held twice */
	push(1, 0); /* already released */
	push(0, 0);
	EXPECT_EQ(w.st.duplicates, 3);
	EXPECT_EQ(out.late, 0);
	EXPECT_EQ(out.n, 2);
	EXPECT_EQ(reorder_held(&w), 1);
	push(2, 0);
	EXPECT_EQ(out.n, 4);
	EXPECT_EQ(out.items[3], 3);
	reorder_free(&w);
}

TEST(with_deliver_stale_a_duplicate_goes_out_as_it_came)
{
	setup(0, 0, -1);
	w.deliver_stale = true; /* a replay of two captures one after the other */
	push(0, 0);
	push(1, 0);
	push(0, 0);
	push(1, 0);
	EXPECT_EQ(out.n, 2);
	EXPECT_EQ(out.late, 2);
	EXPECT_EQ(w.st.duplicates, 2);
	reorder_free(&w);
}

TEST(flush_at_end_declares_the_open_gaps_and_releases_all)
{
	static const int64_t want[] = { 0, -2, 2, 3, -5, 1, 5 };

	setup(0, 100 * MS, 0);
	push(0, 0);
	push(5, 0);
	push(3, 0);
	EXPECT_EQ(out.n, 1);
	reorder_flush(&w);
	ASSERT_EQ(out.n, 7);
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(out.items[i], want[i]);
	EXPECT_EQ(out.gap_seqs, 3);
	EXPECT_EQ(reorder_held(&w), 0);
	reorder_free(&w);
}

TEST(loss_marks_come_out_at_their_position)
{
	setup(0, 100 * MS, 0);
	push(0, 0);
	push(1, 0);
	/* The kernel's counter rose when 4 came with a gap below it: the mark goes before 4. */
	push(4, 0);
	reorder_mark_loss(&w, 4, 2, 77);
	EXPECT_EQ(out.losses, 0);
	push(2, 0); /* 2 was a reorder; 3 is one of the lost */
	EXPECT_EQ(out.losses, 0);
	reorder_expire(&w, 100 * MS);
	ASSERT_EQ(out.losses, 1);
	EXPECT_EQ(out.loss_count, 2);
	/* after 0, 1, 2 and the gap at 3 (2 items), before 4 */
	EXPECT_EQ(out.loss_at[0], 5);
	EXPECT_EQ(out.n, 6);
	EXPECT_EQ(out.items[5], 4);
	/* With nothing held, a mark at the end goes out at once. */
	reorder_mark_loss(&w, reorder_end(&w), 1, 78);
	EXPECT_EQ(out.losses, 2);
	reorder_free(&w);
}

TEST(a_mark_never_overtakes_an_earlier_one)
{
	setup(0, 0, 0);
	push(0, 0);
	push(9, 0);
	reorder_mark_loss(&w, 9, 1, 1);
	reorder_mark_loss(&w, 2, 1, 2); /* asked earlier: kept after the first */
	push(1, 0);
	push(2, 0);
	EXPECT_EQ(out.losses, 0);
	reorder_flush(&w);
	EXPECT_EQ(out.losses, 1); /* both at position 9: one mark, counts added */
	EXPECT_EQ(out.loss_count, 2);
	reorder_free(&w);
}

TEST(memory_is_bounded_by_max_records)
{
	setup(1024, 100 * MS, 0);
	/* seq 0 never comes; 100000 records above it arrive without any time passing */
	for (uint64_t s = 1; s <= 100000; s++)
		push(s, 0);
	EXPECT_TRUE(w.cap <= 1024);
	EXPECT_TRUE(reorder_held(&w) < 1024);
	EXPECT_EQ(w.st.max_held, 1023);
	/* the count bound declared 0 lost and let everything after it go */
	EXPECT_EQ(out.gaps, 1);
	EXPECT_EQ(out.gap_seqs, 1);
	EXPECT_EQ(w.st.released, 100000);
	reorder_free(&w);
}

TEST(a_huge_jump_is_bounded_work)
{
	setup(1024, 100 * MS, 0);
	push(0, 0);
	push(5, 0);
	push(UINT64_MAX / 2, 0);
	/* everything below the last 1024 numbers is lost; 5 went out on the way */
	EXPECT_EQ(out.n, 1 + 2 + 1 + 2);
	EXPECT_EQ(out.items[3], 5);
	EXPECT_EQ(reorder_held(&w), 1);
	reorder_flush(&w);
	EXPECT_EQ(w.st.released, 3);
	EXPECT_EQ(w.st.gap_seqs, UINT64_MAX / 2 - 2);
	reorder_free(&w);
}

TEST(a_replay_starts_at_its_first_record)
{
	setup(0, 0, -1);
	push(1000, 0);
	push(1001, 0);
	EXPECT_EQ(out.n, 2);
	EXPECT_EQ(out.gaps, 0);
	reorder_free(&w);
}

TEST(the_oldest_held_timestamp_bounds_the_clock)
{
	setup(0, 0, 0);
	EXPECT_TRUE(reorder_held_min_ts(&w) == UINT64_MAX);
	push(0, 0);
	push(7, 0); /* ts 1007 */
	push(3, 0); /* ts 1003 */
	EXPECT_EQ(reorder_held_min_ts(&w), 1003);
	reorder_free(&w);
}

/*
 * A re-sync's state read accounts for every record below its seq: a gap below it is lost at
 * once (before the model is compared with the read), a held record below it goes out first,
 * and one of those numbers arriving afterwards is late, not a new gap.
 */
TEST(skip_to_declares_the_gaps_below_it_lost_now_and_releases_what_is_held)
{
	setup(0, 100 * MS, 0);
	push(0, 0);
	push(3, 0); /* held above the gap 1-2 */
	reorder_skip_to(&w, 6);
	ASSERT_EQ(out.n, 6);
	EXPECT_EQ(out.items[0], 0);
	EXPECT_EQ(out.items[1], -2); /* gap at 1 */
	EXPECT_EQ(out.items[2], 2);
	EXPECT_EQ(out.items[3], 3);
	EXPECT_EQ(out.items[4], -5); /* gap at 4 */
	EXPECT_EQ(out.items[5], 2);
	EXPECT_EQ(out.gap_seqs, 4);
	EXPECT_EQ(reorder_next(&w), 6);
	push(6, 1);
	push(4, 1);
	EXPECT_EQ(out.items[out.n - 1], 6);
	EXPECT_EQ(out.late, 1);
	EXPECT_EQ(out.gaps, 2);
	/* below what is already out: nothing */
	reorder_skip_to(&w, 3);
	EXPECT_EQ(out.gaps, 2);
	EXPECT_EQ(reorder_next(&w), 7);
	reorder_free(&w);
}

/* A replay whose first thing is a re-sync: numbering starts at its seq. */
TEST(skip_to_before_any_record_starts_the_numbering_there)
{
	setup(0, 100 * MS, -1);
	reorder_skip_to(&w, 40);
	push(40, 0);
	EXPECT_EQ(out.n, 1);
	EXPECT_EQ(out.gaps, 0);
	reorder_free(&w);
}
