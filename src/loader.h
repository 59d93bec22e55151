/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The probe table and the loader: which kernel functions we trace, whether
 * the running kernel has them, fentry or kprobe for each, load, attach.
 */
#ifndef SVA_LOADER_H
#define SVA_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"

struct sva_trace_bpf;
struct bpf_link;
struct btf;

enum attach_mode {
	ATTACH_NONE,
	ATTACH_FENTRY, /* fentry or fexit, per probe */
	ATTACH_KPROBE, /* kprobe, with a kretprobe where the return matters */
	ATTACH_RAW_TP,
};

struct probe_spec {
	const char *func; /* kernel function or tracepoint */
	const char *fentry_prog; /* program names in bpf/sva_trace.bpf.c */
	const char *kprobe_prog;
	const char *kretprobe_prog; /* NULL: no return value needed */
	bool sva; /* an SVA/PASID API probe (counts for --check) */
	bool tracepoint;
};

struct probe_state {
	const struct probe_spec *spec;
	bool present; /* the running kernel has the function */
	bool in_btf; /* ... with BTF (needed for fentry) */
	bool in_kallsyms; /* ... as a symbol (needed for kprobe) */
	enum attach_mode mode;
	bool attached;
	char reason[160]; /* why not attached */
	struct bpf_link *links[2];
};

#define SVA_NR_PROBES 12

struct sva_loader {
	struct sva_trace_bpf *skel;
	struct probe_state probes[SVA_NR_PROBES];
	int nr_probes;
	int nr_attached;
	int nr_sva_attached;
	bool kernel_btf; /* /sys/kernel/btf/vmlinux usable for fentry */
	bool kallsyms_read; /* /proc/kallsyms was read (it is read only when needed) */
	bool no_sva_functions; /* start failed: the kernel has none of the SVA functions */
};

const struct probe_spec *sva_probe_specs(int *count);
const char *attach_mode_name(const struct probe_state *p);

/*
 * Opens, loads and attaches according to opts. Returns 0 (even when some
 * or all probes did not attach: see nr_sva_attached), or a negative errno
 * after printing an explanation to err (exit 2 material).
 */
int sva_loader_start(struct sva_loader *ld, const struct sva_options *opts, FILE *err);
/* Detaches every link; the maps stay readable until sva_loader_free(). */
void sva_loader_detach(struct sva_loader *ld);
void sva_loader_free(struct sva_loader *ld);

/* One row of the in-kernel look-up counters, summed over CPUs. */
struct lookup_row {
	int32_t group_id;
	uint32_t pasid;
	uint64_t n[SVA_LOOKUP__MAX];
};

/* Reads the look-up counters once (one row per group and PASID); caller frees *rows. */
int sva_loader_read_lookups(const struct sva_loader *ld, struct lookup_row **rows);

/* The --check table (text or JSON). */
void sva_loader_print_check(const struct sva_loader *ld, const struct sva_options *opts,
			    FILE *out);

#endif
