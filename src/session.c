// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A tracing session (session.h). */
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cause.h"
#include "decode.h"
#include "loader.h"
#include "privdrop.h"
#include "replay.h"
#include "session.h"
#include "state.h"

#define LOST_CHECK_NS 1000000000ull /* the kernel's lost counter, read once a second */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Tells the correlator (and the front end) what is newly known to be lost. The count and
 * the place are told apart: the kernel's counter, read when a gap opens, may already hold
 * records lost at later gaps. Those gaps add nothing to the count, but each is still a place
 * where records went missing, so what is live there becomes uncertain (at_gap).
 */
static void tell_lost(struct session *s, uint64_t ts_ns, enum session_loss_source src, bool at_gap)
{
	uint64_t want = s->kernel_lost_out > s->gap_lost ? s->kernel_lost_out : s->gap_lost;
	uint64_t n = want > s->lost_told ? want - s->lost_told : 0;

	if (!n && !at_gap)
		return;
	s->lost_told += n;
	correlator_lost(s->corr, n, ts_ns);
	if (n && s->ops.on_lost)
		s->ops.on_lost(n, want, ts_ns, src, s->ops.ctx);
}

/* A record whose turn it is: the front end's line, then the correlator. */
static void correlate(struct session *s, const struct sva_event *ev)
{
	if (s->ops.on_event)
		s->ops.on_event(ev, s->ops.ctx);
	correlator_event(s->corr, ev);
}

/* Every record of the lookahead (correlator_feed_next), before anything else happens. */
static void feed_drain(struct session *s)
{
	const struct sva_event *ev;

	while ((ev = correlator_feed_next(&s->feed)))
		correlate(s, ev);
}

static void win_record(const struct sva_event *ev, void *ctx)
{
	struct session *s = ctx;

	if (ev->ts_ns > s->last_ts)
		s->last_ts = ev->ts_ns;
	ev = correlator_feed(&s->feed, ev);
	if (ev)
		correlate(s, ev);
}

static void win_gap(uint64_t first, uint64_t count, void *ctx)
{
	struct session *s = ctx;

	(void)first;
	feed_drain(s);
	s->gap_lost += count;
	tell_lost(s, s->last_ts, SESSION_LOSS_GAP, true);
}

static void win_loss(uint64_t count, uint64_t ts_ns, void *ctx)
{
	struct session *s = ctx;

	feed_drain(s);
	s->kernel_lost_out += count;
	tell_lost(s, ts_ns, SESSION_LOSS_KERNEL, false);
}

/*
 * A record whose number was already declared lost: the correlator has already been told
 * (the state it touches is uncertain), and it is shown, since it happened.
 */
static void win_late(const struct sva_event *ev, void *ctx)
{
	struct session *s = ctx;

	feed_drain(s);
	correlate(s, ev);
}

int session_init(struct session *s, struct correlator *corr, const struct session_ops *ops,
		 bool live)
{
	const struct reorder_sink sink = {
		.on_record = win_record,
		.on_gap = win_gap,
		.on_loss = win_loss,
		.on_late = win_late,
		.ctx = s,
	};

	memset(s, 0, sizeof(*s));
	s->corr = corr;
	s->ops = *ops;
	s->live = live;
	correlator_feed_init(&s->feed, corr);
	/* Live, the BPF object is fresh: its counter starts at 0 (bpf/sva_trace.bpf.c). */
	if (reorder_init(&s->win, &sink, 0, 0, live ? 0 : -1))
		return -ENOMEM;
	/* A replay shows every record of its input, even a repeated one (cat a b | ...). */
	s->win.deliver_stale = !live;
	return 0;
}

void session_free(struct session *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	reorder_free(&s->win);
}

/*
 * Records the kernel could not queue plus probe hits it did not deliver (kretprobe misses,
 * BPF recursion misses): both are records the reader will never see. A part that cannot
 * be read counts as 0, as the loader's callers did before; the total never goes back.
 */
static uint64_t read_kernel_lost(struct session *s)
{
	uint64_t lost, missed;

	if (!s->ld)
		return s->kernel_lost_read;
	if (sva_loader_read_lost(s->ld, &lost))
		lost = 0;
	if (sva_loader_read_missed(s->ld, &missed))
		missed = 0;
	return lost + missed;
}

/* Reads the counter; a rise becomes a loss mark before sequence number before_seq. */
static void check_kernel_lost(struct session *s, uint64_t before_seq)
{
	uint64_t total = read_kernel_lost(s);

	if (total <= s->kernel_lost_read)
		return;
	reorder_mark_loss(&s->win, before_seq, total - s->kernel_lost_read, mono_ns());
	s->kernel_lost_marked += total - s->kernel_lost_read;
	s->kernel_lost_read = total;
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	struct sva_event ev;
	char err[128];

	if (sva_event_decode(data, size, &ev, err, sizeof(err))) {
		s->bad_records++;
		if (s->ops.on_bad_record) {
			/* (told after the lines of the records before it, as before the lookahead) */
			feed_drain(s);
			s->ops.on_bad_record(err, s->bad_records, s->ops.ctx);
		}
		return 0;
	}
	/*
	 * A new gap is the first sign that records were lost, or only that another CPU's
	 * are late: the counter tells the two apart. Read now, a rise is placed just before
	 * this record, where the loss happened, so that what was live then (and only that)
	 * becomes uncertain. A gap that the counter does not explain waits in the window.
	 */
	if (ev.seq > reorder_end(&s->win))
		check_kernel_lost(s, ev.seq);
	/* A failure in the traced function's own body: name the check for this kernel. */
	sva_cause_resolve(&ev, &s->kernel);
	reorder_push(&s->win, &ev, mono_ns());
	return 0;
}

/*
 * The functions whose probes report a global PASID's free: iommu_free_global_pasid (6.6+),
 * ioasid_free (6.1-6.3), and mm_pasid_drop (6.4+, where the mm's PASID goes back). One of
 * them, attached live (ld) or listed in a capture's start record (st), is enough.
 */
static bool pasid_frees_probed(const struct sva_loader *ld, const struct replay_start *st)
{
	static const char *const frees[] = { "iommu_free_global_pasid", "ioasid_free",
					     "mm_pasid_drop" };

	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
		if (ld ? sva_loader_attached(ld, frees[i]) : replay_start_has_probe(st, frees[i]))
			return true;
	return false;
}

int session_open_ring(struct session *s, const struct sva_loader *ld)
{
	struct utsname u;

	s->ld = ld;
	if (!uname(&u))
		sva_kernel_facts_init(&s->kernel, u.release, u.machine);
	else
		sva_kernel_facts_init(&s->kernel, NULL, NULL);
	/* exit_mmap attached: an mm is gone at its mm_exit record (correlate.h). */
	correlator_set_mm_exit_traced(s->corr, sva_loader_attached(ld, "exit_mmap"));
	/* A global PASID's free is seen (pasid-pressure keeps the global set; correlate.h). */
	correlator_set_pasid_frees_traced(s->corr, pasid_frees_probed(ld, NULL));
	s->rb = ring_buffer__new(sva_loader_events_fd(ld), on_ring_record, s, NULL);
	if (!s->rb)
		return -errno;
	s->next_lost_check_ns = mono_ns() + LOST_CHECK_NS;
	return 0;
}

int session_drop_privileges(struct session *s, const char *const *write_paths, char *kept,
			    size_t kept_len)
{
	return privileges_drop(sva_loader_probe_map_fd(s->ld), write_paths, kept, kept_len);
}

uint64_t session_clock(const struct session *s, uint64_t now_ns)
{
	uint64_t held = reorder_held_min_ts(&s->win);

	return held <= now_ns ? (held ? held - 1 : 0) : now_ns;
}

int session_poll(struct session *s, int timeout_ms)
{
	uint64_t now;
	int err;

	/* Records come without wake-ups until a quarter of the ring is full
	 * (bpf/sva_trace.bpf.c): drain it after every timeout too. */
	err = ring_buffer__poll(s->rb, timeout_ms);
	if (err >= 0)
		err = ring_buffer__consume(s->rb);
	if (err == -EINTR)
		err = 0; /* a signal: the caller looks at its flags */
	now = mono_ns();
	if (now >= s->next_lost_check_ns) {
		check_kernel_lost(s, reorder_end(&s->win));
		s->next_lost_check_ns = now + LOST_CHECK_NS;
	}
	reorder_expire(&s->win, now);
	/* what this poll read is correlated before the front end looks again */
	feed_drain(s);
	correlator_tick(s->corr, session_clock(s, now));
	return err < 0 ? err : 0;
}

void session_finish_live(struct session *s)
{
	if (s->rb)
		ring_buffer__consume(s->rb);
	check_kernel_lost(s, reorder_end(&s->win));
	reorder_flush(&s->win);
	feed_drain(s);
}

void session_replay_event(struct session *s, const struct sva_event *ev)
{
	/* The window's clock in a replay is the capture's: the highest ts_ns read. */
	if (ev->ts_ns > s->clock_ns)
		s->clock_ns = ev->ts_ns;
	reorder_push(&s->win, ev, s->clock_ns);
	reorder_expire(&s->win, s->clock_ns);
}

void session_replay_lost(struct session *s, uint64_t count, uint64_t ts_ns)
{
	/* Written where the live run let it out: after every record read so far. */
	s->kernel_lost_read += count;
	s->kernel_lost_marked += count;
	reorder_mark_loss(&s->win, reorder_end(&s->win), count, ts_ns);
}

void session_flush(struct session *s)
{
	reorder_flush(&s->win);
	feed_drain(s);
}

bool session_wait_for(struct session *s, uint64_t seq, int max_ms)
{
	uint64_t end = mono_ns() + (uint64_t)max_ms * 1000000;

	while (reorder_next(&s->win) < seq)
		if (mono_ns() >= end || session_poll(s, 1) < 0)
			return false;
	return true;
}

static void state_add_record(const struct sva_state_rec *rec, void *ctx)
{
	sva_state_add(ctx, rec);
}

/*
 * Waits until no traced state-changing call is in flight (s: polling the session, which
 * applies what comes; NULL: sleeping, the records wait in the ring); false after max_ms.
 */
static bool wait_calls_returned(struct session *s, struct sva_loader *ld, int max_ms)
{
	uint64_t end = mono_ns() + (uint64_t)max_ms * 1000000, entered, returned;

	for (;;) {
		sva_loader_calls(ld, &entered, &returned);
		if (entered == returned)
			return true;
		if (mono_ns() >= end || (s ? session_poll(s, 1) < 0 : usleep(1000) < 0))
			return false;
	}
}

/*
 * One read of the state between the probes' two counts: returned before the walk and
 * entered after it (each a fence away). *in_flight == 0: no traced bind, unbind, attach,
 * replace or detach was in flight at any moment of the walk, and every record of one that
 * ended before it is below *seq0 (its return is counted after its record). st->seq is read
 * before the entered count: a call not in that count entered after it, and its records (an
 * unbind's at its entry, after the count) are numbered from st->seq on. A call whose entry
 * was not counted (its entry program skipped by the trampoline on a preemptible kernel) is
 * seen only at its return (sva_loader_unmatched_returns): a read that looks quiet is held
 * UNMATCHED_WAIT_MS more (sleeping: a poll would apply records made after the walk before the
 * read is compared), and such a return in that time counts as a call in flight (a call
 * longer than that is missed). END's users gets
 * *in_flight (sva_state.h). Returns the read's error.
 */
#define UNMATCHED_WAIT_MS 20

static int read_between_counts(struct sva_loader *ld, const char *btf_path, struct sva_state *st,
			       uint64_t *seq0, uint64_t *in_flight)
{
	uint64_t elapsed = 0, returned, entered, ignored, unmatched;
	int err;

	sva_state_reset(st);
	unmatched = sva_loader_unmatched_returns(ld);
	sva_loader_calls(ld, &ignored, &returned);
	*seq0 = sva_loader_next_seq(ld);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	err = sva_loader_read_state(ld, btf_path, state_add_record, st, &elapsed);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->seq = sva_loader_next_seq(ld);
	sva_loader_calls(ld, &entered, &ignored);
	st->read_ns = elapsed;
	st->ts_ns = mono_ns();
	*in_flight = entered - returned;
	if (!err && !*in_flight) {
		uint64_t end = mono_ns() + UNMATCHED_WAIT_MS * 1000000ull;

		while (mono_ns() < end && !usleep(1000))
			;
		*in_flight = sva_loader_unmatched_returns(ld) - unmatched;
	}
	if (!err && st->ended)
		st->end.users = *in_flight > INT32_MAX ? INT32_MAX : (int32_t)*in_flight;
	return err;
}

int session_read_state(struct session *s, struct sva_loader *ld, const char *btf_path,
		       struct sva_state *st, int tries, struct state_race *race)
{
	uint64_t seq0 = 0, calls = 0;
	int err;

	for (int i = 0; i < tries; i++) {
		wait_calls_returned(s, ld, 50);
		/* Everything recorded so far applied first: the read is compared with it. */
		session_wait_for(s, sva_loader_next_seq(ld), 20);
		session_flush(s);
		err = read_between_counts(ld, btf_path, st, &seq0, &calls);
		if (err)
			return err;
		if (st->seq == seq0 && !calls)
			break; /* nothing happened during the read */
	}
	race->records = st->seq - seq0;
	race->calls = calls;
	/*
	 * Every record below st->seq applied before the comparison. One may be held back: the
	 * ring gives records out in the order they were reserved, and a program preempted
	 * between its reservation and its submit (BPF programs are preemptible on a
	 * preemptible kernel) holds back every record reserved after it. Not compared then,
	 * nor are the missing records declared lost: the window keeps waiting for them. Unless
	 * the kernel lost records since the last compared read: the missing ones may be those,
	 * and a re-sync is what a loss needs (flushed: the gaps are losses).
	 */
	if (!session_wait_for(s, st->seq, 200) && read_kernel_lost(s) == s->lost_at_read) {
		race->records += st->seq - reorder_next(&s->win);
		return -EAGAIN;
	}
	session_flush(s);
	if (!race->records && !race->calls)
		s->lost_at_read = read_kernel_lost(s);
	return race->records || race->calls ? -EAGAIN : 0;
}

int session_read_start_state(struct sva_loader *ld, const char *btf_path, struct sva_state *st,
			     uint64_t *in_flight)
{
	uint64_t seq0;
	int err = 0;

	for (int i = 0; i < 3; i++) {
		wait_calls_returned(NULL, ld, 50);
		err = read_between_counts(ld, btf_path, st, &seq0, in_flight);
		if (err || !*in_flight)
			break;
	}
	if (err)
		*in_flight = 0;
	return err;
}

void session_skip_to(struct session *s, uint64_t seq)
{
	reorder_skip_to(&s->win, seq);
	feed_drain(s);
}

static void replay_begin(struct session *s, const struct replay_start *st)
{
	if (s->replay_started)
		return;
	s->replay_started = true;
	/*
	 * Judged as the live run judged it: by each mm's mm_exit record when the capture lists
	 * exit_mmap among its probes; else (older captures, none listed, no start record) by
	 * the exits of the processes seen (correlate.h, mm_exit_traced).
	 */
	correlator_set_mm_exit_traced(s->corr, replay_start_has_probe(st, "exit_mmap"));
	/* likewise the global PASIDs: kept when the capture's probes saw their frees */
	correlator_set_pasid_frees_traced(s->corr, pasid_frees_probed(NULL, st));
	s->replay_ops->on_start(st, s->replay_ops->ctx);
}

/* Every start record: its kernel and machine; the first one also begins the replay. */
static void replay_start(const struct replay_start *st, void *ctx)
{
	struct session *s = ctx;

	feed_drain(s);
	if (s->replay_ops->on_start_info)
		s->replay_ops->on_start_info(st->kernel, st->machine, s->replay_ops->ctx);
	replay_begin(s, st);
}

static void replay_record(const struct sva_event *ev, void *ctx)
{
	struct session *s = ctx;

	if (!s->replay_started) {
		const struct replay_start st = { .ts_ns = ev->ts_ns };

		replay_begin(s, &st);
	}
	if (ev->ts_ns > s->replay_end_ns)
		s->replay_end_ns = ev->ts_ns;
	if (s->replay_ops->on_record) {
		/* the front end (sva-top's frames) sees the model of every record before */
		feed_drain(s);
		if (!s->replay_ops->on_record(ev, s->replay_ops->ctx))
			return;
	}
	session_replay_event(s, ev);
}

static void replay_lost(uint64_t count, uint64_t ts_ns, void *ctx)
{
	session_replay_lost(ctx, count, ts_ns);
}

static void replay_end(uint64_t ts_ns, void *ctx)
{
	struct session *s = ctx;

	feed_drain(s);
	if (ts_ns > s->replay_end_ns)
		s->replay_end_ns = ts_ns;
	if (s->replay_ops->on_end)
		s->replay_ops->on_end(ts_ns, s->replay_ops->ctx);
}

static void replay_state(const struct sva_state_rec *r, uint64_t seq, uint64_t ts_ns, void *ctx)
{
	struct session *s = ctx;

	feed_drain(s);
	if (s->replay_ops->on_state)
		s->replay_ops->on_state(r, seq, ts_ns, s->replay_ops->ctx);
}

int session_replay(struct session *s, FILE *f, const char *path,
		   const struct session_replay_ops *ops, const volatile sig_atomic_t *stop, char *err,
		   size_t errlen)
{
	const struct replay_sink sink = {
		.on_start = replay_start,
		.on_event = replay_record,
		.on_lost = replay_lost,
		.on_end = replay_end,
		.on_state = replay_state,
		.ctx = s,
		.stop = stop,
	};

	int ret;

	s->replay_ops = ops;
	ret = replay_stream(f, path, &sink, err, errlen);
	/* what the window let out is shown and correlated, whatever stopped the stream */
	feed_drain(s);
	return ret;
}
