/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sva-top's model: what one frame shows (header counters and one row per live
 * bond or PASID attachment), sorting, filtering, and its text and JSON forms.
 * No terminal code here, so batch mode and the tests use it directly.
 */
#ifndef SVA_TOP_H
#define SVA_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate.h"
#include "decode.h"
#include "filter.h"
#include "json_writer.h"
#include "loader.h"
#include "u64map.h"

enum top_col {
	COL_PASID,
	COL_DEV,
	COL_GROUP,
	COL_PID,
	COL_COMM,
	COL_TYPE,
	COL_USERS,
	COL_AGE,
	COL_LOOKUPS,
	COL_ERRORS,
	COL__MAX,
};

enum top_flags {
	TOP_LEAK = 1 << 0, /* leak found, or owner exited and still bound */
	TOP_MISMATCH = 1 << 1, /* a type-mismatch finding on this PASID */
	TOP_UNCERTAIN = 1 << 2, /* events were lost while it was live */
	TOP_EXITED = 1 << 3, /* owner exited, no leak found (yet): LEAK? */
};

struct top_row {
	bool bond; /* a bond; else a PASID attachment */
	uint64_t handle; /* bond: its handle (key for the detail view) */
	uint32_t pasid;
	char dev[SVA_DEV_NAME_LEN];
	int32_t group;
	uint32_t pid;
	char comm[SVA_COMM_LEN];
	uint32_t domain_type;
	int64_t users; /* -1: not a bond */
	uint64_t age_ns;
	double lookups_per_s;
	uint64_t errors;
	unsigned int flags;
};

/* Counters the frame's header shows, per second over the last interval. */
struct top_rates {
	double binds, unbinds, attaches, detaches, lookups, errors;
};

/*
 * A finding, a retraction (a leak whose bond a later unbind released) or a failed operation
 * (bind, attach, replace or PASID allocation, with its cause), as sva-trace prints it: the
 * findings view lists the last ones, each frame those made since the previous frame.
 */
#define TOP_NOTES 64
enum top_note_kind {
	TOP_NOTE_FINDING, /* f */
	TOP_NOTE_RESOLVED, /* r */
	TOP_NOTE_FAILURE, /* ev */
};
struct top_note {
	enum top_note_kind kind;
	union {
		struct finding f;
		struct resolution r;
		struct sva_event ev;
	};
	/* sva-trace's FINDING or RESOLVED line; for a failure "FAILED " and its event line */
	char text[2048];
};

struct top_state {
	const struct correlator *corr;
	/* --pid --comm --dev --pasid: rows and header counts are of what they match (NULL: all) */
	const struct sva_filter *filter;
	bool lookups_from_events; /* replay: no kernel counters, count look-up records */
	/* event counters, totals */
	uint64_t binds, unbinds, attaches, detaches, errors, lookup_events;
	uint64_t findings;
	uint64_t resolved; /* findings retracted */
	uint64_t lost;
	/* at the previous frame */
	uint64_t prev_binds, prev_unbinds, prev_attaches, prev_detaches, prev_errors;
	uint64_t prev_lookups_total, lookups_total;
	uint64_t prev_ns;
	struct u64map errors_by_key; /* (group, pasid) -> failed operations */
	struct u64map mismatch_keys; /* (group, pasid) -> 1 */
	struct u64map lookups_prev; /* (group, pasid) -> look-ups seen at the previous frame */
	struct u64map lookups_rate; /* (group, pasid) -> look-ups/s * 1000 */
	struct u64map max_pasids; /* group -> a device's max_pasids */
	/* the last findings and retractions, oldest first; notes_total counts every one */
	struct top_note notes[TOP_NOTES];
	unsigned int nr_notes;
	uint64_t notes_total, prev_notes_total;
};

struct top_frame {
	uint64_t now_ns;
	struct top_rates rates;
	uint64_t live_bonds, pasids_in_use, lost, findings, resolved;
	uint32_t max_pasids; /* largest device max_pasids seen, 0 unknown */
	/* the group whose PASIDs are the most used share of its max_pasids (none: max 0) */
	struct pasid_pressure pressure;
	struct top_row *rows;
	size_t nr_rows, cap_rows;
	/* findings, retractions and failures since the previous frame (the last TOP_NOTES) */
	struct top_note *notes;
	size_t nr_notes;
	uint64_t notes_missed; /* more than TOP_NOTES came: the oldest are not in notes */
};

/* 0 or -ENOMEM. */
int top_state_init(struct top_state *s, const struct correlator *corr);
void top_state_free(struct top_state *s);
/* Every event, after the correlator saw it; a failed operation also becomes a note. */
void top_state_event(struct top_state *s, const struct sva_event *ev, const struct fmt_opts *o);
void top_state_finding(struct top_state *s, const struct finding *f, const struct fmt_opts *o);
void top_state_resolved(struct top_state *s, const struct resolution *r, const struct fmt_opts *o);
/* The i-th of the last findings and retractions (0: oldest kept), i < s->nr_notes. */
const struct top_note *top_state_note(const struct top_state *s, unsigned int i);
/* Kernel look-up counters (NULL, 0 in replay: counted from events). */
void top_state_lookups(struct top_state *s, const struct lookup_row *rows, int n);

/* Builds the frame at now_ns (rates over the time since the previous frame). */
void top_frame_build(struct top_state *s, struct top_frame *f, uint64_t now_ns);
void top_frame_free(struct top_frame *f);
/* Sorting (by column, ascending or not) and filtering (substring, case-insensitive). */
void top_frame_sort(struct top_frame *f, enum top_col col, bool descending);
void top_frame_filter(struct top_frame *f, const char *text);

const char *top_col_name(enum top_col col);
/* Column headers and one row, as text of fixed widths. */
const char *top_row_header(void);
void top_row_format(const struct top_row *r, char *buf, size_t len);
void top_flags_format(unsigned int flags, char *buf, size_t len);
/*
 * The header lines (kernel, probes, counters). TOP_HEADER_LEN holds the longest counters line
 * (every number at 20 digits and the pressure's device name escaped at 4 bytes a byte): a
 * long device name does not cut the lost, findings and resolved counts off.
 */
#define TOP_HEADER_LEN 512
void top_header_format(const struct top_frame *f, const char *kernel, const char *probes,
		       char lines[3][TOP_HEADER_LEN]);
/* A whole frame as plain text (batch mode) or as one JSON object. */
void top_frame_print(FILE *out, const struct top_frame *f, const char *kernel, const char *probes);
void top_frame_json(struct json_writer *w, const struct top_frame *f, const char *kernel,
		    const char *probes, const struct fmt_opts *o);

#endif
