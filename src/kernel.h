/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel offers: BTF, symbols, fentry, privileges. */
#ifndef SVA_KERNEL_H
#define SVA_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sva_trace.h" /* enum sva_ret_kind */

struct btf;
struct kallsyms;

#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"

/*
 * Loads the kernel's BTF, or the one in path. *kernel_btf tells whether the
 * running kernel exposes its own BTF (fentry needs that). Returns 0, or -errno
 * after saying what to do (print.h).
 */
int kernel_btf_load(const char *path, struct btf **btf, bool *kernel_btf);

/*
 * Both tables below come from one parser of /proc/kallsyms text: _load reads the file,
 * _parse reads f (a copy, a test's sample; NULL: the file). NULL with errno on failure.
 */

/* Text symbols of /proc/kallsyms by name (the names, which root always sees). */
struct kallsyms *kallsyms_load(void);
struct kallsyms *kallsyms_parse(FILE *f);
bool kallsyms_has_func(const struct kallsyms *ks, const char *name);
void kallsyms_free(struct kallsyms *ks);

/* Kernel text addresses to "function+0xoff" (root sees real addresses). */
struct ksym_table;
struct ksym_table *ksym_table_load(void);
struct ksym_table *ksym_table_parse(FILE *f);
/* Writes "name+0xoff" or "0x..." when unknown; returns buf. */
const char *ksym_resolve(const struct ksym_table *t, uint64_t addr, char *buf, size_t len);
void ksym_table_free(struct ksym_table *t);

/* 0 if a trivial fentry program loads and attaches on the FUNC with that kernel BTF id, else -errno. */
int fentry_can_attach(int btf_id);

/*
 * 0 when the process has what loading and attaching needs (CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN); otherwise says what to do (print.h), returns -EPERM.
 */
int check_privileges(void);

/*
 * How func reports failure, from its return type in btf (typedef ioasid_t: no PASID;
 * a pointer: ERR_PTR or NULL; an integer: -errno); dflt when btf lacks it or it returns void.
 */
enum sva_ret_kind sva_btf_ret_kind(const struct btf *btf, const char *func, enum sva_ret_kind dflt);
/* The same for the FUNC record with type id func_id (> 0), found without a search. */
enum sva_ret_kind sva_btf_func_ret_kind(const struct btf *btf, int func_id, enum sva_ret_kind dflt);

/*
 * Entries for a per-thread BPF LRU map of at least floor entries on a machine of ncpu possible
 * CPUs: two of 6.1's per-CPU batches of free nodes a CPU (kernel.c), at most 2^17 (floor if
 * larger). ncpu <= 0 (unknown): floor.
 */
uint32_t sva_thread_map_entries(uint32_t floor, int ncpu);

#endif
