// SPDX-License-Identifier: GPL-2.0
/*
 * sva_hold - make SVA bonds and keep them, for tests of what sva-trace reads at start-up.
 *
 * Usage: sva_hold NDEV [leak] [paging] [leaderexit]
 *   Creates NDEV PASID-capable mock devices (each its own iommu group), binds the calling
 *   process's mm on each (with MOCK_SVA_LEAK_ON_RELEASE when "leak" is given: the driver's
 *   release path then leaves the bond bound when the process exits) and, with "paging",
 *   attaches a PASID-compatible paging hwpt at PASID 200 of the first device. Then prints
 *   one line per bond and "sva_hold: ready", and waits:
 *     SIGUSR1  unbind every bond (and detach the paging PASID), print "sva_hold: unbound"
 *     SIGTERM  exit without unbinding: the release path unbinds (or, with "leak", does not)
 *   With "leaderexit" the waiting is done by a second thread, a third one idles, and the main
 *   thread calls pthread_exit: the thread-group leader is a zombie with no mm while the
 *   process lives on in two threads.
 * Build: gcc -static -O2 -Wall -pthread -I CACHE/lab/KEY/include -o sva_hold sva_hold.c
 * Exit: 0, 1 when a bind or attach failed, 2 for usage errors.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_ops.h"

#define MAX_DEV 16
#define PAGING_PASID 200

static volatile sig_atomic_t got_usr1, got_term;

/* What the waiting needs (main's, or the second thread's with "leaderexit"). */
static struct mockdev m[MAX_DEV];
static struct bind_out b[MAX_DEV];
static bool paging;
static sigset_t old;
static int n;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* Until SIGTERM: SIGUSR1 unbinds everything. Exits the process. */
static void *wait_signals(void *arg)
{
	(void)arg;
	for (;;) {
		while (!got_usr1 && !got_term)
			sigsuspend(&old);
		if (got_term)
			exit(0);
		got_usr1 = 0;
		for (int i = 0; i < n; i++) {
			struct unbind_out u = { 0 };
			int err = mock_sva_unbind(&m[i], b[i].bond_id, 0, &u);

			printf("sva_hold: unbind %d: %s (users left %u)\n", i,
			       err ? strerror(-err) : "ok", u.users);
		}
		if (paging)
			mock_pasid_op(&m[0], IOMMU_TEST_OP_PASID_DETACH, PAGING_PASID, 0);
		printf("sva_hold: unbound\n");
		fflush(stdout);
	}
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	bool leak = false, leaderexit = false;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *step;
	__u32 hwpt = 0;
	sigset_t mask;
	pthread_t t;
	int err;

	if (argc < 2 || (n = atoi(argv[1])) < 1 || n > MAX_DEV) {
		fprintf(stderr, "usage: sva_hold NDEV(1-%d) [leak] [paging] [leaderexit]\n", MAX_DEV);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "leak"))
			leak = true;
		else if (!strcmp(argv[i], "paging"))
			paging = true;
		else if (!strcmp(argv[i], "leaderexit"))
			leaderexit = true;
		else {
			fprintf(stderr, "sva_hold: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	for (int i = 0; i < n; i++) {
		err = mock_open(&m[i], &step);
		if (err) {
			printf("sva_hold: %s: %s\n", step, strerror(-err));
			return 1;
		}
		err = mock_sva_bind(&m[i], leak ? MOCK_SVA_LEAK_ON_RELEASE : 0, &b[i]);
		if (err) {
			printf("sva_hold: SVA_BIND on device %d: %s\n", i, strerror(-err));
			return 1;
		}
		printf("sva_hold: pid %d bond %d pasid %u users %u\n", (int)getpid(), i, b[i].pasid,
		       b[i].users);
	}
	if (paging) {
		err = mock_hwpt_alloc_pasid(&m[0], 0, &hwpt);
		if (!err)
			err = mock_rid_replace(&m[0], hwpt);
		if (!err)
			err = mock_pasid_op(&m[0], IOMMU_TEST_OP_PASID_ATTACH, PAGING_PASID, hwpt);
		if (err) {
			printf("sva_hold: paging hwpt at PASID %d: %s\n", PAGING_PASID, strerror(-err));
			return 1;
		}
		printf("sva_hold: pid %d paging pasid %d\n", (int)getpid(), PAGING_PASID);
	}
	if (leaderexit) {
		/* the signals stay blocked in both threads but for the waiter's sigsuspend */
		err = pthread_create(&t, NULL, wait_signals, NULL);
		if (!err)
			err = pthread_create(&t, NULL, idle, NULL);
		if (err) {
			printf("sva_hold: pthread_create: %s\n", strerror(err));
			return 1;
		}
		printf("sva_hold: ready\n");
		fflush(stdout);
		pthread_exit(NULL);
	}
	printf("sva_hold: ready\n");
	fflush(stdout);
	wait_signals(NULL);
	return 0;
}
