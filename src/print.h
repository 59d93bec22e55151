/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One diagnostic channel for the library code, as libbpf_set_print() is for libbpf:
 * modules say what happened through sva_pr(), without naming the program; the program
 * sets the prefix ("sva-trace: ", "sva-top: ") and may install its own hook (sva-trace
 * in --json mode also keeps the messages, to repeat a fatal one as a JSON error record).
 * Library functions return 0 or -errno; only main() maps that to an exit status.
 */
#ifndef SVA_PRINT_H
#define SVA_PRINT_H

#include <stdarg.h>
#include <stdio.h>

enum sva_print_level {
	SVA_PR_WARN, /* something failed or will be missing: always shown */
	SVA_PR_INFO, /* what the tool did (-v) */
};

/* msg is one message without the prefix; it may span lines, without a final newline. */
typedef void (*sva_print_fn)(enum sva_print_level level, const char *prefix, const char *msg,
			     void *ctx);

/* The program's name as messages start ("sva-trace: "); "" until set. */
void sva_print_set_prefix(const char *prefix);
const char *sva_print_prefix(void);
/* NULL restores the default: each line of msg, prefixed, on stderr. Returns the old hook. */
sva_print_fn sva_print_set_hook(sva_print_fn fn, void *ctx);
/* The default hook, for a program's own hook to call. */
void sva_print_stderr(enum sva_print_level level, const char *prefix, const char *msg, void *ctx);

__attribute__((format(printf, 2, 3))) void sva_pr(enum sva_print_level level, const char *fmt,
						   ...);
void sva_vpr(enum sva_print_level level, const char *fmt, va_list ap);

/*
 * For library code that writes its messages to a FILE (glibc's argp and getopt): each line
 * written goes to the hook as one message, without the prefix (those lines carry their own
 * "PROG: "). fclose() passes on an unfinished last line. NULL (errno set) on failure.
 */
FILE *sva_print_stream(enum sva_print_level level);

/*
 * After the last write to stdout: 0 when all of it got there or its reader went away (a closed
 * pipe, "| head": the reader's choice), else why it was lost: write_errno when the caller saw
 * the failure, else what flushing says (EIO when only stdio's error flag tells).
 */
int sva_stdout_error(int write_errno);

#define sva_warn(...) sva_pr(SVA_PR_WARN, __VA_ARGS__)
#define sva_info(...) sva_pr(SVA_PR_INFO, __VA_ARGS__)

#endif
