/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sva-trace command line: parsed into one struct, no side effects. */
#ifndef SVA_OPTIONS_H
#define SVA_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sva_trace.h"

enum probe_mode {
	PROBE_MODE_AUTO,
	PROBE_MODE_FENTRY,
	PROBE_MODE_KPROBE,
};

struct sva_options {
	uint32_t pid; /* 0: all */
	char comm[SVA_COMM_LEN]; /* "" : all */
	char dev[SVA_DEV_NAME_LEN]; /* "" : all */
	uint32_t pasid; /* SVA_PASID_NONE: all */
	uint64_t duration_s; /* 0: until interrupted */
	bool json;
	int verbose;
	const char *btf_path;
	enum probe_mode probe_mode;
	bool check;
	bool stacks;
	bool all_lookups;
	bool raw_pointers;
	const char *replay_path; /* --replay FILE ("-": stdin) */
	unsigned int fail_on; /* bit mask of enum finding_kind */
	uint64_t leak_grace_ns;
	double pasid_pressure_pct; /* --pasid-pressure: 0 default (90) */
	const char *export_path; /* --export FILE */
	uint32_t export_ended; /* ended bonds kept for the export */
	const char *report_path; /* --report FILE */
	uint32_t ring_size; /* bytes of the BPF ring buffer (--ring-size) */
	const char *metrics_listen; /* --metrics [ADDR:]PORT */
	const char *metrics_file; /* --metrics-file FILE */
	uint64_t metrics_interval_ns; /* --metrics-interval (default 1 s) */
	bool quiet; /* -q: no event, finding or resolved lines */
	char **cmd; /* after "--": the command to run and trace, NULL-terminated */
	bool exit_now; /* --help / --version printed: exit 0 */
};

/*
 * Parses argv into *opts. Returns 0 on success, -EINVAL on a usage error (said
 * through print.h, argp's own messages too). Help and version go to out and set
 * opts->exit_now.
 */
int sva_options_parse(int argc, char **argv, struct sva_options *opts, FILE *out);

struct argp;

/*
 * The options sva-top shares with sva-trace (--pid --comm --dev --pasid --raw-pointers
 * --ring-size --probe-mode --btf), as an argp child: its input is the struct sva_options
 * they fill in (set state->child_inputs[i] at ARGP_KEY_INIT; state->name names the tool
 * in messages). Errors are said through print.h and return EINVAL.
 */
extern const struct argp sva_shared_argp;
/* The argp group of --probe-mode and --btf: a front end puts its "Probes:" header there. */
#define PROBES_GROUP 5

/* Every field at its default (all events, auto probes, 2 s leak grace, 1 MiB ring). */
void sva_options_defaults(struct sva_options *opts);

#define SVA_RING_SIZE_DEFAULT (1u << 20)
#define SVA_RING_SIZE_MAX (1u << 31) /* max_entries is 32 bits; the kernel wants a power of 2 */

/* "4096", "64K", "4M", "1G" (binary units, "MiB"/"MB" accepted) into bytes. */
int parse_size(const char *s, uint64_t *out);

/* "auto", "fentry", "kprobe" */
const char *probe_mode_name(enum probe_mode mode);

/* Strict decimal seconds ("2", "0.5") into ns, in [min_ns, max_ns]. */
int parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out);

/* Strict unsigned parsing: digits only (0x for hex), no sign, in [min, max]. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

extern const char *sva_trace_version;

#endif
