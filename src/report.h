/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Findings and the end-of-run state (outstanding bonds), as text or JSON. */
#ifndef SVA_REPORT_H
#define SVA_REPORT_H

#include <stdio.h>

#include "correlate.h"
#include "decode.h"
#include "filter.h"
#include "json_writer.h"
#include "loader.h"

/*
 * What each doubt (correlate.h) says: reason, its JSON uncertain_reason (NULL for records
 * lost, the reason since format 1, and for DOUBT_NONE); text, in a finding's line after
 * "uncertain: "; why, why an uncertain finding of it did not fail --fail-on; advice, what
 * avoids it (NULL: nothing).
 */
struct doubt_desc {
	const char *reason, *text, *why, *advice;
};
const struct doubt_desc *finding_doubt_desc(enum finding_doubt d);

/* One finding: a text line (no newline) or a JSON object. */
void finding_format_text(const struct finding *f, const struct fmt_opts *o, char *buf,
			 size_t len);
void finding_format_json(struct json_writer *w, const struct finding *f, const struct fmt_opts *o);
/* The same fields without the enclosing object and its "type". */
void finding_format_json_fields(struct json_writer *w, const struct finding *f,
				const struct fmt_opts *o);

/* A retracted finding (a leak whose bond was unbound later): text line or JSON object. */
void resolution_format_text(const struct resolution *r, const struct fmt_opts *o, char *buf,
			    size_t len);
void resolution_format_json(struct json_writer *w, const struct resolution *r,
			    const struct fmt_opts *o);
/* The same fields without the enclosing object and its "type" (the export nests them). */
void resolution_format_json_fields(struct json_writer *w, const struct resolution *r,
				   const struct fmt_opts *o);

/*
 * Outstanding bonds at end of tracing, with their age at now_ns: those the filter shows
 * (sva_filter_bond; NULL: all).
 */
void report_outstanding_text(FILE *out, const struct correlator *c, const struct fmt_opts *o,
			     uint64_t now_ns, const struct sva_filter *filter);
void report_outstanding_json(struct json_writer *w, const struct correlator *c,
			     const struct fmt_opts *o, uint64_t now_ns,
			     const struct sva_filter *filter);
/* One bond as a JSON object (history included). */
void bond_format_json(struct json_writer *w, const struct bond *b, const struct fmt_opts *o,
		      uint64_t now_ns);

/* A fatal error in --json mode: {"type":"error","code":CODE,"message":...} (exit status CODE). */
void report_error_json(struct json_writer *w, int code, const char *message);

/* The records that frame a run: start, lost, summary (docs/json-format.md). */
struct report_probe {
	const char *function;
	const char *mode;
};

struct report_start {
	const char *tool, *version;
	const char *kernel, *machine; /* NULL in a replay: the capture's, not this machine's */
	uint64_t ts_ns;
	bool raw_pointers;
	bool replay;
	const struct report_probe *probes; /* the attached ones */
	int nr_probes;
};

void report_start_json(struct json_writer *w, const struct report_start *s);
/* The in-kernel look-up counters, one object per (group, PASID). */
void report_lookups_json(struct json_writer *w, const struct lookup_row *rows, int nr);
void report_lost_json(struct json_writer *w, uint64_t count, uint64_t total, uint64_t ts_ns);

struct report_summary {
	uint64_t ts_ns;
	const uint64_t *counts; /* per record type */
	uint64_t bad_records;
	uint64_t seq_gaps; /* sequence numbers declared lost that never came (session_seq_gaps) */
	const struct lookup_row *lookups; /* the in-kernel look-up counters */
	int nr_lookups;
	/*
	 * --pid --comm --dev --pasid (NULL or inactive: none). With filters the summary counts
	 * what was shown: the findings and retractions the program printed (findings_shown,
	 * resolved_shown) and the outstanding bonds the filter matches; what they hid is
	 * counted apart, labelled as hidden.
	 */
	const struct sva_filter *filter;
	const uint64_t *findings_shown; /* per kind */
	uint64_t resolved_shown;
};

/* The summary after correlator_finish(): one JSON object, or text lines on out. */
void report_summary_json(struct json_writer *w, const struct correlator *c,
			 const struct fmt_opts *o, const struct report_summary *s);
void report_summary_text(FILE *out, const struct correlator *c, const struct fmt_opts *o,
			 const struct report_summary *s);

#endif
