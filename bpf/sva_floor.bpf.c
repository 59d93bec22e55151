// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor (issue 18): programs with no body, attached by tests/bench/sva_floor.c to the
 * same functions, with the same attach types, as sva-trace's probes. What they cost a traced
 * call (the trampoline or kprobe, the program call, the return) is what any BPF tracer pays;
 * sva-trace's in-kernel cost is reported as a multiple of it.
 *
 * Generic slots: the bench tool sets each fentry/fexit slot's target before load and
 * attaches kprobes and raw tracepoints by name; unused slots are not loaded.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define FLOOR_SLOT(i)                                                                   \
	SEC("fentry") int floor_fentry_##i(void *ctx) { return 0; }                     \
	SEC("fexit") int floor_fexit_##i(void *ctx) { return 0; }                       \
	SEC("kprobe") int floor_kprobe_##i(void *ctx) { return 0; }                     \
	SEC("kretprobe") int floor_kretprobe_##i(void *ctx) { return 0; }               \
	SEC("raw_tp") int floor_raw_tp_##i(void *ctx) { return 0; }

/* As many of each kind as sva-trace can attach: 14 functions and 16 callee slots. */
FLOOR_SLOT(0) FLOOR_SLOT(1) FLOOR_SLOT(2) FLOOR_SLOT(3) FLOOR_SLOT(4) FLOOR_SLOT(5)
FLOOR_SLOT(6) FLOOR_SLOT(7) FLOOR_SLOT(8) FLOOR_SLOT(9) FLOOR_SLOT(10) FLOOR_SLOT(11)
FLOOR_SLOT(12) FLOOR_SLOT(13) FLOOR_SLOT(14) FLOOR_SLOT(15) FLOOR_SLOT(16) FLOOR_SLOT(17)
FLOOR_SLOT(18) FLOOR_SLOT(19) FLOOR_SLOT(20) FLOOR_SLOT(21) FLOOR_SLOT(22) FLOOR_SLOT(23)
FLOOR_SLOT(24) FLOOR_SLOT(25) FLOOR_SLOT(26) FLOOR_SLOT(27) FLOOR_SLOT(28) FLOOR_SLOT(29)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
