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

#include "options.h" /* enum probe_mode */
#include "sva_trace.h" /* enum sva_ret_kind */

struct sva_trace_bpf;
struct sva_state_bpf;
struct sva_state_rec;
struct bpf_link;
struct btf;
struct kallsyms;

/* What the loader needs to know, and nothing else of the command line. */
struct sva_loader_opts {
	const char *btf_path; /* NULL: /sys/kernel/btf/vmlinux */
	enum probe_mode probe_mode;
	int verbose; /* 1: probe modes and timings; 2: libbpf's own messages too */
	bool check; /* --check: look up every function, print no start-up summary */
	bool stacks; /* record kernel stacks */
	bool all_lookups; /* log successful look-ups too */
	uint32_t ring_size; /* ring buffer bytes; 0: SVA_RING_SIZE_DEFAULT */
};

/* The loader's share of the command line. */
void sva_loader_opts_from(struct sva_loader_opts *lo, const struct sva_options *opts);

enum attach_mode {
	ATTACH_NONE,
	ATTACH_FENTRY, /* fentry or fexit, per probe */
	ATTACH_KPROBE, /* kprobe, with a kretprobe where the return matters */
	ATTACH_RAW_TP,
};

/* Where the IOMMUs register (drivers' callees are probed only beside their IOMMU). */
#define SVA_IOMMU_CLASS_DIR "/sys/class/iommu"

struct probe_spec {
	const char *func; /* kernel function or tracepoint */
	/*
	 * Programs, as offsets of their struct bpf_program * in the skeleton
	 * (offsetof(struct sva_trace_bpf, progs.x)): a renamed program is a compile
	 * error in loader.c. 0: none.
	 */
	size_t fentry_prog;
	size_t kprobe_prog;
	size_t kretprobe_prog; /* 0: no return value needed */
	bool sva; /* an SVA/PASID API probe (counts for --check) */
	bool tracepoint;
	size_t fentry_entry_prog; /* fentry beside the fexit: state at entry (fentry mode) */
	/*
	 * The pair fentry_entry_prog + fentry_prog as one 7.x fsession program (both runs on
	 * one trampoline link): used instead where the kernel has BPF_TRACE_FSESSION. 0: none.
	 */
	size_t fsession_prog;
	/*
	 * A callee probed for failure provenance (src/cause.h): its programs are generic slots
	 * (fentry target set before load, kprobes attached by name); -1 for the others.
	 */
	int callee_slot;
	unsigned int callee_id; /* enum sva_cause_func */
	const char *iommu_prefix; /* a driver's callee: its IOMMUs' /sys/class/iommu prefix */
	const char *iommu_what;
};

struct probe_state {
	const struct probe_spec *spec;
	bool present; /* the running kernel has the function */
	bool in_btf; /* ... with BTF (needed for fentry) */
	bool in_kallsyms; /* ... as a symbol (needed for kprobe) */
	int btf_id; /* its FUNC record in the kernel's BTF (in_btf), found in the plan's one pass */
	enum attach_mode mode;
	bool session; /* ATTACH_FENTRY through spec->fsession_prog */
	bool attached;
	char reason[160]; /* why not attached */
	struct bpf_link *links[2];
	char kretprobe_event[64]; /* our tracefs kretprobe event, "" if none */
	enum sva_ret_kind callee_ret; /* callees: how it reports failure (BTF return type) */
	bool maxactive_default; /* kretprobe through perf: the kernel's default maxactive */
};

/*
 * BPF_TRACE_FSESSION in the uapi enum bpf_attach_type (include/uapi/linux/bpf.h, 7.x): uapi
 * values never change, and libbpf 1.1 has no name for it.
 */
#define SVA_BPF_TRACE_FSESSION 58

#define SVA_NR_PROBES 14
/* Callees of the SVA path probed for failure provenance: at most src/cause.c's table. */
#define SVA_MAX_CALLEES 24

struct sva_loader {
	struct sva_trace_bpf *skel; /* only loader.c looks inside */
	struct sva_state_bpf *state_skel; /* the state iterator (bpf/sva_state.bpf.c), once loaded */
	struct bpf_link *state_link;
	int groups_dir_fd; /* /sys/kernel/iommu_groups, held for the state iterator; -1 none */
	int state_err; /* why the state cannot be read (-errno), 0 until tried or when it can */
	bool state_read; /* a state read ended with its END record */
	uint16_t state_flags; /* ... whose flags say what this kernel did not let it read */
	enum probe_mode probe_mode;
	/*
	 * The SVA_NR_PROBES traced functions, then nr_callees callees (spec->callee_slot set
	 * once planned); nr_probes counts both. Front ends list the callees apart.
	 */
	struct probe_state probes[SVA_NR_PROBES + SVA_MAX_CALLEES];
	struct probe_spec callee_specs[SVA_MAX_CALLEES];
	int nr_probes;
	int nr_callees;
	int nr_attached;
	int nr_sva_attached;
	bool kernel_btf; /* /sys/kernel/btf/vmlinux usable for fentry */
	/* the kernel's BTF id of the kfunc bpf_session_is_return when it has fsession, else 0 */
	int session_kfunc_id;
	int session_refused; /* -errno of the kernel's refusal of fsession, 0 if none */
	bool core_explained; /* -v said which BTF the CO-RE relocations used */
	int core_refused; /* -errno of a failed load with the small CO-RE BTF, 0 if none */
	int state_core_fd; /* the state iterator's small CO-RE BTF (corebtf.h), -1 none */
	int iter_task_id; /* the kernel's BTF id of bpf_iter_task (the iterator's target), or 0 */
	char state_core_path[32];
	bool kallsyms_read; /* /proc/kallsyms was read (it is read only when needed) */
	bool no_sva_functions; /* start failed: the kernel has none of the SVA functions */
	const char *tracefs; /* where our kretprobe events were defined */
	int kprobe_profile_fd; /* tracefs kprobe_profile (nmissed), -1 when unused */
};

const struct probe_spec *sva_probe_specs(int *count);
const char *attach_mode_name(const struct probe_state *p);

/*
 * Opens, loads and attaches according to opts. Returns 0 (even when some
 * or all probes did not attach: see nr_sva_attached), or a negative errno
 * after saying why through print.h (exit 2 material).
 */
int sva_loader_start(struct sva_loader *ld, const struct sva_loader_opts *opts);
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

/* Whether programs are loaded (not a replay, not a failed start). */
static inline bool sva_loader_loaded(const struct sva_loader *ld)
{
	return ld->skel != NULL;
}

/* Whether the probe on kernel function (or tracepoint) func is attached. */
bool sva_loader_attached(const struct sva_loader *ld, const char *func);

/* Whether a probe is a failure-provenance callee (listed apart from the traced functions). */
static inline bool probe_is_callee(const struct probe_state *p)
{
	return p->spec->callee_id != 0;
}

/* The --check table (text or JSON). */
void sva_loader_print_check(const struct sva_loader *ld, bool json, FILE *out);

/* The map reads the front ends need; each returns -errno when nothing is loaded. */

/* The ring buffer map, for ring_buffer__new(). */
int sva_loader_events_fd(const struct sva_loader *ld);
/* A small per-CPU array whose reads privileges_drop() tries without privileges. */
int sva_loader_probe_map_fd(const struct sva_loader *ld);
/* Records the kernel could not queue (ring buffer full), since load. */
int sva_loader_read_lost(const struct sva_loader *ld, uint64_t *total);

#define SVA_STACK_DEPTH 127
/* Stack ids in the stack map, in map order: prev NULL for the first. 0 or -ENOENT at the end. */
int sva_loader_next_stack_id(const struct sva_loader *ld, const int32_t *prev, int32_t *next);
/* The kernel return addresses of stack id (zero-filled after the last frame). */
int sva_loader_read_stack(const struct sva_loader *ld, int32_t id, uint64_t ips[SVA_STACK_DEPTH]);

/*
 * Probe hits the kernel could not deliver to our programs, since load: BPF
 * recursion misses (every mode) and kretprobe instances missing (kprobe mode).
 * A count that rises means records were lost.
 */
int sva_loader_read_missed(const struct sva_loader *ld, uint64_t *total);

/*
 * The kernel's SVA state now (bpf/sva_state.bpf.c, include/sva_state.h): runs the task
 * iterator and calls fn for each record, the END record last. The first call loads the
 * iterator (it needs the privileges start-up has); later calls (a re-sync) reuse it.
 * *elapsed_ns: the read's time, loading included. 0, or -errno after saying why.
 */
int sva_loader_read_state(struct sva_loader *ld, const char *btf_path,
			  void (*fn)(const struct sva_state_rec *r, void *ctx), void *ctx,
			  uint64_t *elapsed_ns);

/* The BPF sequence counter: the seq the next record will have (0 when nothing is loaded). */
uint64_t sva_loader_next_seq(const struct sva_loader *ld);

/*
 * The state-changing calls (bind, unbind, attach, replace, detach) whose entry the probes
 * counted, and those of them that returned (bpf/sva_trace.bpf.c calls_entered): equal, none
 * is in flight. Read returned first, so that *returned == *entered proves it for a moment
 * between the two reads. Both 0 when nothing is loaded.
 */
void sva_loader_calls(const struct sva_loader *ld, uint64_t *entered, uint64_t *returned);
/*
 * Returns of those calls whose entry was not counted (bpf/sva_trace.bpf.c returns_unmatched):
 * one that grows after a read may have been in flight across it uncounted.
 */
uint64_t sva_loader_unmatched_returns(const struct sva_loader *ld);

/*
 * An owner found in the state: its exit (tgid) and its mm's exit_mmap (mm) will be recorded
 * like those of a process that bound while traced. Returns whether the mm was remembered
 * (false when the map is full: its exit_mmap will not be recorded).
 */
bool sva_loader_remember_owner(struct sva_loader *ld, uint32_t tgid, uint64_t mm);

#endif
