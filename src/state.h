/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's SVA state at start-up (include/sva_state.h records, read live by
 * sva_loader_read_state or from a capture's "state" records): kept, written as JSON
 * "state" records and as a text table, and fed to the correlator as what was bound
 * before tracing began.
 */
#ifndef SVA_STATE_USER_H
#define SVA_STATE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate.h"
#include "json_writer.h"
#include "ptrhash.h"
#include "sva_state.h"

#define SVA_STATE_JSON_VERSION 1

struct sva_state {
	struct sva_state_rec *recs; /* TASK, GROUP and ATTACH records, in the kernel's order */
	size_t nr, cap;
	struct sva_state_rec end; /* the END record (valid when ended) */
	bool ended;
	uint64_t seq; /* the BPF sequence counter once read (correlator_seed_begin) */
	uint64_t ts_ns; /* when it was read (CLOCK_MONOTONIC) */
	uint64_t read_ns; /* how long reading took */
	int err; /* live: why it could not be read (-errno), 0 when it was */
};

/* Keeps one record; the END record ends the state. 0 or -ENOMEM. */
int sva_state_add(struct sva_state *st, const struct sva_state_rec *r);
/*
 * Keeps one record of a capture's state block (replay), as sva_state_add; the END record
 * also stamps st with its seq and ts_ns. True when r was that END record: the block is whole.
 */
bool sva_state_add_replayed(struct sva_state *st, const struct sva_state_rec *r, uint64_t seq,
			    uint64_t ts_ns);
/* Empties st for another read (a re-sync). */
void sva_state_reset(struct sva_state *st);
void sva_state_free(struct sva_state *st);

/* Counts by what they are. */
struct sva_state_counts {
	uint32_t processes, groups, attachments, bonds;
};
void sva_state_count(const struct sva_state *st, struct sva_state_counts *n);

/*
 * What this kernel did not let the iterator read (END flags), one sentence, "" when
 * everything was read.
 */
const char *sva_state_unreadable(uint16_t flags, char *buf, size_t len);

/*
 * The correlator starts from st: every attachment, every SVA bond with its owners (the
 * processes using its mm, the first one as its owner), bonds of an mm nobody uses left to
 * the leak rule. remember (live): called per owner, returns whether the BPF side will
 * record its mm's exit_mmap (sva_loader_remember_owner; a TASK it could not take is marked
 * SVA_STATE_MM_UNTRACKED); NULL (replay): the TASK records' marks say it.
 */
void sva_state_seed(struct sva_state *st, struct correlator *c,
		    bool (*remember)(uint32_t tgid, uint64_t mm, void *ctx), void *ctx);

/*
 * Re-sync: compares the correlator's model with st (a fresh read) and corrects it
 * (correlator_resync), calling fn per difference; owners as sva_state_seed. Returns the
 * number of differences. Only meaningful when st's END flags are 0 (everything readable).
 */
size_t sva_state_resync(struct sva_state *st, struct correlator *c,
			bool (*remember)(uint32_t tgid, uint64_t mm, void *ctx), void *ctx,
			void (*fn)(const struct resync_diff *d, void *fctx), void *fctx);

/* JSON: record i of st (i == st->nr: the END record) as one "state" object. */
void sva_state_format_json(struct json_writer *w, const struct sva_state *st, size_t i,
			   const struct ptrhash *ph);
/* Text: the table of what was bound at start, then the notice of what could not be read. */
void sva_state_print_text(FILE *out, const struct sva_state *st, const struct ptrhash *ph);

#endif
