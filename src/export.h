/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The postmortem export: one versioned JSON document with everything needed to
 * understand a run (docs/export.schema.json describes it).
 */
#ifndef SVA_EXPORT_H
#define SVA_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate.h"
#include "decode.h"
#include "json_writer.h"
#include "loader.h"
#include "options.h"

#define EXPORT_SCHEMA "sva-trace-export"
/* 2: findings carry their retraction ("resolved"); findings_by_kind counts what was shown */
#define EXPORT_SCHEMA_VERSION 2

/* A finding with copies of the events that prove it (those still known), and its retraction. */
struct kept_finding {
	struct finding f;
	int nr_events;
	struct sva_event events[FINDING_MAX_EVIDENCE];
	bool resolved; /* a later unbind retracted it: res says who and how late */
	struct resolution res;
};

/* A bond that ended, kept for the export (history copied). */
struct kept_bond {
	struct bond b; /* its dev_name and owner_comm point at the copies below */
	uint64_t ended_ns;
	char dev_name[SVA_DEV_NAME_LEN];
	char owner_comm[SVA_COMM_LEN];
};

struct stack_row {
	int32_t id;
	int depth;
	char frames[32][80];
};

struct export_input {
	const char *reason; /* "exit", "snapshot" */
	const struct sva_options *opts;
	const struct sva_loader *ld; /* NULL in replay */
	const struct correlator *corr;
	const struct fmt_opts *fmt;
	const char *kernel_release, *machine, *boot_id;
	uint64_t start_wall_ns, end_wall_ns; /* CLOCK_REALTIME */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC, the events' clock */
	const uint64_t *counts; /* per record type */
	uint64_t lost, bad_records;
	uint64_t seq_gaps; /* sequence numbers declared lost that never came (session.h) */
	const struct lookup_row *lookups;
	int nr_lookups;
	const struct kept_finding *findings;
	int nr_findings;
	uint64_t findings_dropped;
	const uint64_t *findings_by_kind; /* the findings kept (shown), per kind, dropped included */
	uint64_t resolved; /* retractions of kept findings */
	const struct kept_bond *ended; /* oldest first */
	int nr_ended;
	const struct stack_row *stacks;
	int nr_stacks;
};

/* Builds the document into w (reset first). */
void export_build(struct json_writer *w, const struct export_input *in);

/*
 * What a run keeps for its export while it traces: the recent events (the evidence of
 * findings, by sequence number), the findings with copies of those events, and the most
 * recent ended bonds with their history. Memory is bounded by the constants below and
 * --export-ended.
 */
#define EXPORT_EVENT_RING 4096
#define EXPORT_MAX_FINDINGS 1024

struct export_keep {
	struct sva_event *ring;
	uint64_t ring_count;
	struct kept_finding *findings;
	int nr_findings;
	uint64_t findings_dropped;
	uint64_t by_kind[FINDING__MAX];
	uint64_t resolved;
	struct kept_bond *ended; /* a ring of ended_max */
	uint32_t ended_max, ended_pos, nr_ended;
};

/* ended_max: --export-ended (0: none kept). 0 or -ENOMEM. */
int export_keep_init(struct export_keep *k, uint32_t ended_max);
void export_keep_free(struct export_keep *k);
void export_keep_event(struct export_keep *k, const struct sva_event *ev);
void export_keep_finding(struct export_keep *k, const struct finding *f);
/* A kept finding retracted (correlator_opts.on_resolved): kept with it. */
void export_keep_resolution(struct export_keep *k, const struct resolution *r);
/* A bond's final release (correlator_opts.on_bond_end): its history is copied. */
void export_keep_bond_end(struct export_keep *k, const struct bond *b, uint64_t ts_ns);

/*
 * Kernel stacks recorded with --stacks, symbolized with ks (the copy read at start-up;
 * NULL: read /proc/kallsyms now). Returns the number of rows; the caller frees *out.
 */
struct ksym_table;
int export_collect_stacks(const struct sva_loader *ld, struct ksym_table *ks,
			  struct stack_row **out);

/*
 * Builds the document from in plus what k kept (findings, ended bonds) and writes it to
 * path atomically (safefile.h). 0, or -errno after a message on stderr (the old file stays).
 */
int export_write(const char *path, struct export_input *in, const struct export_keep *k);

#endif
