/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event mix both benchmarks draw from: gen_capture.c writes it as a JSON Lines
 * capture, bench_correlate.c feeds it to the correlator in-process, so (a) and (b)
 * measure the same stream. xorshift64 with a fixed seed: the same stream every run.
 *
 * SLOTS processes, one bond slot each (pid 1000+slot, PASID 1+slot, group slot%8).
 * A step picks a slot at random: one in 16 steps is a failed handle look-up (ENOENT);
 * otherwise the slot is bound (from 0 users), bound again (nested, users 1 -> 2, one
 * time in 4) or unbound. A slot whose users reach 0 starts a new bond (new handle) at
 * its next bind.
 *
 * churn mode: about 5/8 of the slots are bound at any time (the chain 0 -> 1 -> {2, 0}).
 * steady mode: every slot is bound first (SLOTS bind records), and a last unbind is
 * followed at once by the next incarnation's bind, so exactly SLOTS bonds are live
 * throughout (give or take the one being replaced): the benchmark's "live bonds".
 * exits mode: one step in 16 (of those that are not look-ups) is instead the exit of a
 * process that used SVA but holds no bond (pid 3000000 up, whole thread group), the
 * way short-lived helpers of a busy machine come and go: an exit must not cost a scan
 * of every live bond. Each exit is followed by its mm's mm_pasid_drop (the helper's PASID,
 * 2000000 up; its mm holds no bond): neither may an mm drop.
 */
#ifndef SVA_BENCH_MIX_H
#define SVA_BENCH_MIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum bench_kind { BENCH_LOOKUP, BENCH_BIND, BENCH_UNBIND, BENCH_EXIT, BENCH_MM_DROP };

struct bench_op {
	enum bench_kind kind;
	uint64_t slot;
	uint64_t handle;	/* bind/unbind: the slot's current bond */
	uint64_t mm;
	int users;		/* bind: after the call; unbind: before the call */
	unsigned cpu;
};

struct bench_mix {
	uint64_t rng;
	uint64_t slots;
	bool steady;
	bool exits;
	uint64_t nr_exits;	/* exits mode: exits so far */
	bool drop_pending;	/* exits mode: the last exit's mm_pasid_drop comes next */
	uint64_t prebound;	/* steady: slots bound so far by the prelude */
	bool rebind_pending;	/* steady: bind rebind_slot next */
	uint64_t rebind_slot;
	uint32_t *users;
	uint64_t *incarnation;
};

static inline int bench_mix_init(struct bench_mix *m, uint64_t slots, bool steady)
{
	*m = (struct bench_mix){ .rng = 88172645463325252ull, .slots = slots ? slots : 1,
				 .steady = steady };
	m->users = calloc(m->slots, sizeof(*m->users));
	m->incarnation = calloc(m->slots, sizeof(*m->incarnation));
	return m->users && m->incarnation ? 0 : -1;
}

static inline void bench_mix_free(struct bench_mix *m)
{
	free(m->users);
	free(m->incarnation);
}

static inline uint64_t bench_mix_rand(struct bench_mix *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static inline void bench_mix_bond(struct bench_mix *m, struct bench_op *op, enum bench_kind kind)
{
	uint64_t slot = op->slot;

	op->kind = kind;
	op->handle = 0xffff888000000000ull + ((slot << 20) | (m->incarnation[slot] & 0xfffff)) * 64;
	op->mm = 0xffff889000000000ull + slot * 4096;
	if (kind == BENCH_BIND) {
		op->users = (int)++m->users[slot];
	} else {
		op->users = (int)m->users[slot]--;
		if (!m->users[slot])
			m->incarnation[slot]++;
	}
}

/* The next operation of the stream. */
static inline void bench_mix_next(struct bench_mix *m, struct bench_op *op)
{
	uint64_t r;

	if (m->drop_pending) {
		m->drop_pending = false;
		op->kind = BENCH_MM_DROP;
		op->slot = 3000000 - 1000 + m->nr_exits - 1; /* the helper that just exited */
		op->handle = 0;
		op->mm = 0xffff88a000000000ull + (m->nr_exits - 1) * 4096;
		op->users = 0;
		op->cpu = 0;
		return;
	}
	if (m->steady && (m->prebound < m->slots || m->rebind_pending)) {
		op->slot = m->prebound < m->slots ? m->prebound++ : m->rebind_slot;
		m->rebind_pending = false;
		op->cpu = 0;
		bench_mix_bond(m, op, BENCH_BIND);
		return;
	}
	r = bench_mix_rand(m);
	op->slot = r % m->slots;
	op->cpu = (unsigned)(r & 1);
	if ((r >> 8) % 16 == 0) {
		op->kind = BENCH_LOOKUP;
		op->handle = op->mm = 0;
		op->users = 0;
		return;
	}
	if (m->exits && (r >> 20) % 16 == 0) {
		op->kind = BENCH_EXIT;
		op->slot = 3000000 - 1000 + m->nr_exits++; /* pid = 1000 + slot */
		op->handle = op->mm = 0;
		op->users = 0;
		m->drop_pending = true;
		return;
	}
	if (m->users[op->slot] == 0 || (m->users[op->slot] == 1 && (r >> 12) % 4 == 0)) {
		bench_mix_bond(m, op, BENCH_BIND);
		return;
	}
	bench_mix_bond(m, op, BENCH_UNBIND);
	if (m->steady && !m->users[op->slot]) {
		m->rebind_pending = true;
		m->rebind_slot = op->slot;
	}
}

#ifdef SVA_TRACE_H
/*
 * The next operation as a decoded record (seq, ts_ns), as the ring buffer hands it over:
 * bench_correlate.c and bench_reader.c feed these. (gen_capture.c writes the same as JSON.)
 */
static inline void bench_mix_event(struct bench_mix *m, struct sva_event *ev, uint64_t seq,
				   uint64_t ts)
{
	struct bench_op op;

	bench_mix_next(m, &op);
	memset(ev, 0, sizeof(*ev));
	ev->seq = seq;
	ev->ts_ns = ts;
	ev->cpu = op.cpu;
	ev->tgid = ev->pid = 1000 + (uint32_t)op.slot;
	memcpy(ev->comm, "bench", 6);
	ev->group_id = (int32_t)(op.slot % 8);
	ev->pasid = 1 + (uint32_t)op.slot;
	ev->stack_id = -1;
	if (op.kind == BENCH_LOOKUP) {
		ev->type = SVA_REC_LOOKUP;
		ev->ret = -2;
		ev->aux = 16;
		return;
	}
	if (op.kind == BENCH_MM_DROP) {
		ev->type = SVA_REC_MM_PASID_DROP;
		ev->mm = op.mm;
		ev->group_id = -1;
		ev->pasid = 2000000 + (uint32_t)(op.slot - (3000000 - 1000));
		return;
	}
	if (op.kind == BENCH_EXIT) {
		ev->type = SVA_REC_PROC_EXIT;
		ev->flags = SVA_EVF_GROUP_DEAD;
		ev->group_id = -1;
		ev->pasid = SVA_PASID_NONE;
		return;
	}
	ev->handle = op.handle;
	ev->mm = op.mm;
	memcpy(ev->dev_name, "0000:6a:00.0", 13);
	ev->dev_name[9] += (char)(op.slot % 8); /* gen_capture's "0000:6a:%02x.0" */
	ev->domain = ev->mm + 0x100000000ull;
	ev->domain_type = 16;
	ev->users = op.users;
	if (op.kind == BENCH_BIND) {
		ev->type = SVA_REC_BIND;
	} else {
		ev->type = SVA_REC_UNBIND;
		ev->flags = SVA_EVF_USERS_BEFORE;
	}
}
#endif

#endif
