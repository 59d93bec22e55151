/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Metrics for Prometheus: counters fed from the session's records, findings, retractions,
 * lost counts and the in-kernel look-up counters; gauges gathered from the correlator's live
 * state; and the text renderer, in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
 *
 * No I/O and no threads here: the front end feeds it on the tracing thread and renders a
 * snapshot at each interval (metrics_serve.h publishes it). Label values are bounded: device
 * names (at most METRICS_MAX_DEVICES, then "_other"), record types, errno names, finding kinds
 * and severities, probe functions and modes. No PASID, process or pointer is ever a label
 * (docs/metrics.md).
 */
#ifndef SVA_METRICS_H
#define SVA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "sva_trace.h"

/* Distinct device label values; records of further devices count under "_other". */
#define METRICS_MAX_DEVICES 64
#define METRICS_OTHER_DEVICE "_other"

enum metrics_format {
	METRICS_FORMAT_PROMETHEUS, /* text/plain; version=0.0.4 */
	METRICS_FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* The Content-Type header of a format. */
const char *metrics_content_type(enum metrics_format fmt);

/* One attached probe, for sva_trace_probe_info. */
struct metrics_probe {
	const char *function;
	const char *mode; /* "fentry", "fexit", "kprobe", "raw_tp", ... */
};

#define METRICS_MAX_PROBES 16

/* What does not change during a run (set once; strings are copied). */
struct metrics_info {
	const char *version;
	const char *libbpf; /* libbpf_version_string(); NULL: not rendered */
	const char *kernel_release; /* NULL: a replay (no kernel info rendered) */
	const char *machine;
	const char *probe_mode; /* "auto", "fentry", "kprobe" (the --probe-mode asked) */
	int nr_probes;
	struct metrics_probe probes[METRICS_MAX_PROBES];
	double start_time_s; /* wall clock, seconds since the epoch; 0: not rendered */
};

/* Look-up results as sva_lookups_total has them (index: enum sva_lookup_result). */
extern const char *const metrics_lookup_result_names[SVA_LOOKUP__MAX];

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_set_info(struct metrics *m, const struct metrics_info *info);

/* Every record, in seq order (unfiltered: --pid/--comm/--dev/--pasid filter the stream only). */
void metrics_event(struct metrics *m, const struct sva_event *ev);
/* Every finding, and every retraction of one. */
void metrics_finding(struct metrics *m, const struct finding *f);
void metrics_resolved(struct metrics *m, const struct resolution *r);
/* The session's totals so far: lost records (told to the correlator) and undecodable ones. */
void metrics_set_lost(struct metrics *m, uint64_t lost, uint64_t bad_records);
/* The in-kernel look-up counters, summed over every (group, PASID) row. */
void metrics_set_lookups(struct metrics *m, const uint64_t totals[SVA_LOOKUP__MAX]);
/* The live gauges (bonds, attachments, PASIDs per device), from the correlator now. */
void metrics_gather(struct metrics *m, const struct correlator *c);

/*
 * Renders every metric into *buf (malloc'd, NUL-terminated; the caller frees it) and its
 * length into *len; now_s is the wall-clock time of the snapshot (sva_trace_snapshot_
 * timestamp_seconds). Deterministic: series sorted by their labels. 0 or -ENOMEM.
 */
int metrics_render(const struct metrics *m, enum metrics_format fmt, double now_s, char **buf,
		   size_t *len);

/*
 * "[ADDR:]PORT" (ADDR: an IPv4 address, a host name, or an IPv6 address in brackets;
 * default 127.0.0.1) into host and port. 0, or -EINVAL with err saying what is wrong.
 */
int metrics_parse_listen(const char *spec, char *host, size_t hostlen, uint16_t *port,
			 char *err, size_t errlen);

#endif
