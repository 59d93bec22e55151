/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `sva-trace -- CMD`: the command runs under tracing, and the trace lasts until the
 * command and every process it started are gone.
 *
 * A driver's release path runs when the last descriptor closes, and a command often hands
 * its device to a background process (a daemon, `cmd &` in a script) that outlives it: a
 * trace that ended with the command would call that bond a leak. So the tracer makes itself
 * a child subreaper (PR_SET_CHILD_SUBREAPER): orphaned descendants are reparented to it
 * instead of init, it reaps them, and "exited" means none is left.
 */
#ifndef SVA_CHILD_H
#define SVA_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct child {
	pid_t pid; /* the command, -1 before child_start */
	int go_fd; /* write end: closing it lets the command exec */
	bool cmd_exited; /* the command itself ended (status holds how) */
	bool exited; /* ... and every descendant it left is gone too */
	int status;
	uint64_t exit_ns; /* CLOCK_MONOTONIC when exited became true */
};

#define CHILD_INIT { .pid = -1, .go_fd = -1 }

/*
 * Forks the command; it waits in the child until child_go(). With json, its stdout goes to
 * stderr (JSON Lines on stdout stay parseable). A failed exec is said through sva_pr()
 * (in the child) and exits 127. 0 or -errno.
 */
int child_start(struct child *c, char **argv, bool json);
/* Lets the command exec (idempotent). */
void child_go(struct child *c);
/* Reaps what ended without waiting; sets cmd_exited, then exited when no descendant is left. */
void child_poll(struct child *c);
/* The command's exit status as a shell reports it: the code, or 128 + the signal. */
int child_exit_code(const struct child *c);

#endif
