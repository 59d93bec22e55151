// SPDX-License-Identifier: GPL-2.0
/*
 * sva_stress - shared ownership, deferred unbinds and concurrency on the lab kernel's mock
 * SVA device (lab/kernel/mock-sva.patch): what tests/vm/test_lab_faults.sh and
 * tests/vm/test_lab_stress.sh run under sva-trace. Correct driver behaviour only, except
 * for the one leak "stress ... leak" injects.
 *
 * Usage: sva_stress SCENARIO [ARGS]
 *   counters        print the mock's own counts of its SVA calls since boot, one line:
 *                   "COUNTERS binds B bind_errors E unbinds U release_unbinds R
 *                    deferred_queued Q deferred_done D" (IOMMU_TEST_OP_SVA_COUNTERS)
 *   deferred MS     a child binds two bonds with MOCK_SVA_DEFER_UNBIND, unbinds the first (the
 *                   op only queues it) and exits; the release path queues the second. Both
 *                   unbinds run MS ms later in kworkers, after the binder is gone. Waits for
 *                   them (the mock's deferred_done counter), then 200 ms.
 *   scm MS          child A binds and passes its iommufd over SCM_RIGHTS to child B, then
 *                   exits; MS ms after A's exit B unbinds A's bond on the received descriptor
 *                   and closes it.
 *   clonevm MS      child A binds, then clone()s B with CLONE_VM|CLONE_PARENT (its own tgid,
 *                   A's mm, a copy of A's descriptor table) and exits; MS ms after A's exit B
 *                   unbinds the bond and exits.
 *   grandchild MS   a child forks a grandchild and exits, and the command exits at once; the
 *                   grandchild binds, unbinds MS ms later and exits.
 *   stress SECS NPROC NTHREADS NDEV PAUSE_US [handoff] [leak]
 *                   for SECS seconds NPROC worker processes at a time, each with NTHREADS
 *                   threads binding and unbinding (MOCK_SVA_CONCURRENT: no mock lock around the
 *                   core calls) on its NDEV mock devices, a thread holding 0-2 bonds, PAUSE_US
 *                   microseconds between its operations. A worker lives 0.3-1 s, leaves some
 *                   bonds to the release path at its exit, and is replaced by a new one.
 *                   "handoff": one bind in eight is MOCK_SVA_DEFER_UNBIND (a kworker
 *                   unbinds it 5-24 ms after the unbind op or the release), and every other
 *                   worker passes its first device's descriptor over SCM_RIGHTS to a receiver
 *                   process before it exits, which closes it 20-59 ms later (the release
 *                   unbinds what is left there, in the receiver; prints "RECEIVER pid P").
 *                   "leak": halfway, one more child binds with MOCK_SVA_LEAK_ON_RELEASE and
 *                   exits (prints "LEAKER pid P pasid X").
 * Lines the tests read: "LEAKER ...", "COUNTERS ...", "BINDER pid P pasid X", "UNBINDER pid P",
 * "sva_stress: PASSED" / "sva_stress: FAILED (N failures)".
 * Build: gcc -static -O2 -Wall -pthread -I CACHE/lab/KEY/include -o sva_stress sva_stress.c
 * Exit: 0 when every check passed, 1 otherwise, 2 for usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mock_ops.h"

static int failures;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("sva_stress: %s: ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dev_open(struct mockdev *m)
{
	const char *step;
	int err = mock_open(m, &step);

	if (err)
		printf("sva_stress: pid %d: %s: %s\n", (int)getpid(), step, strerror(-err));
	return err;
}

static int read_counters(struct sva_counters *c)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = mock_sva_counters(fd, c);
	close(fd);
	return err;
}

static int scenario_counters(void)
{
	struct sva_counters c;
	int err = read_counters(&c);

	if (err) {
		printf("sva_stress: IOMMU_TEST_OP_SVA_COUNTERS: %s\n", strerror(-err));
		return 1;
	}
	printf("COUNTERS binds %u bind_errors %u unbinds %u release_unbinds %u deferred_queued %u deferred_done %u\n",
	       c.binds, c.bind_errors, c.unbinds, c.release_unbinds, c.deferred_queued,
	       c.deferred_done);
	return 0;
}

/* Waits for every child; returns how many did not exit with 0. */
static int reap_all(void)
{
	int st, bad = 0;
	pid_t p;

	while ((p = wait(&st)) > 0 || (p < 0 && errno == EINTR))
		if (p > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			printf("sva_stress: child %d ended with status %#x\n", (int)p, st);
			bad++;
		}
	return bad;
}

/* ---- deferred ---- */

static int scenario_deferred(unsigned int ms)
{
	struct sva_counters c0, c;
	double t0;
	pid_t pid;
	int st, err;

	printf("sva_stress: --- deferred %u ms ---\n", ms);
	err = read_counters(&c0);
	if (err) {
		check(0, "deferred: counters: %s", strerror(-err));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct mockdev m;
		struct bind_out a, b;
		struct unbind_out u;

		if (dev_open(&m))
			_exit(1);
		if (mock_sva_bind_defer(&m, 0, ms, &a) || mock_sva_bind_defer(&m, 0, ms, &b))
			_exit(1);
		printf("BINDER pid %d pasid %u\n", (int)getpid(), a.pasid);
		if (mock_sva_unbind(&m, a.bond_id, 0, &u) || u.calls != 0 ||
		    !(u.flags & MOCK_SVA_UNBIND_DEFERRED))
			_exit(1);
		fflush(stdout);
		_exit(0);	/* bond b: the release path queues its unbind */
	}
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "deferred: child bound twice, unbind of the 1st queued, exited");
	t0 = now_s();
	for (;;) {
		err = read_counters(&c);
		if (err || c.deferred_done - c0.deferred_done >= 2 || now_s() - t0 > ms / 1000.0 + 10)
			break;
		msleep(20);
	}
	check(!err && c.deferred_queued - c0.deferred_queued == 2 &&
	      c.deferred_done - c0.deferred_done == 2,
	      "deferred: 2 unbinds queued, both made by kworkers %.2f s after the exit (asked %u ms)",
	      now_s() - t0, ms);
	msleep(200);
	return 0;
}

/* ---- scm ---- */

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* What A tells B besides the descriptor: the device and the bond. */
struct scm_info {
	__u32 stdev_id, bond_id, pasid;
};

static int scenario_scm(unsigned int ms)
{
	int sv[2], go[2], st, okb = 0;
	pid_t a, b;

	printf("sva_stress: --- scm %u ms ---\n", ms);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(go)) {
		check(0, "scm: socketpair, pipe");
		return 1;
	}
	fflush(stdout);
	b = fork();
	if (b == 0) {
		struct mockdev m = { .fd = -1 };
		struct scm_info in;
		struct unbind_out u;
		char c;

		close(sv[0]);
		close(go[1]);
		m.fd = recv_fd(sv[1]);
		if (m.fd < 0 || read(sv[1], &in, sizeof(in)) != sizeof(in))
			_exit(1);
		if (read(go[0], &c, 1) != 1)	/* A has exited */
			_exit(1);
		msleep(ms);
		m.stdev_id = in.stdev_id;
		if (mock_sva_unbind(&m, in.bond_id, 0, &u) || u.calls != 1 || u.users != 0)
			_exit(1);
		printf("UNBINDER pid %d: bond %u (PASID %u) on the received descriptor\n",
		       (int)getpid(), in.bond_id, u.pasid);
		fflush(stdout);
		mock_close(&m);
		_exit(0);
	}
	a = fork();
	if (a == 0) {
		struct mockdev m;
		struct bind_out o;
		struct scm_info out;

		close(sv[1]);
		if (dev_open(&m) || mock_sva_bind(&m, 0, &o))
			_exit(1);
		printf("BINDER pid %d pasid %u\n", (int)getpid(), o.pasid);
		out.stdev_id = m.stdev_id;
		out.bond_id = o.bond_id;
		out.pasid = o.pasid;
		if (send_fd(sv[0], m.fd) || write(sv[0], &out, sizeof(out)) != sizeof(out))
			_exit(1);
		fflush(stdout);
		_exit(0);	/* its descriptor closes; B's copy keeps the file open */
	}
	close(sv[0]);
	close(sv[1]);
	check(a > 0 && waitpid(a, &st, 0) == a && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "scm: A bound, sent the descriptor and exited");
	if (write(go[1], "g", 1) != 1)
		check(0, "scm: tell B");
	close(go[1]);
	close(go[0]);
	okb = b > 0 && waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	check(okb, "scm: B unbound A's bond %u ms after A's exit (1 call, users 0)", ms);
	return 0;
}

/* ---- clonevm ---- */

struct clone_arg {
	struct mockdev m;
	struct bind_out o;
	int go;			/* read end: EOF or a byte once A is gone */
	unsigned int ms;
};

static char clone_stack[256 * 1024] __attribute__((aligned(16)));

/*
 * B: A's mm, its own tgid. Only system calls after A is gone: it runs on A's TLS (errno),
 * which nothing else touches by then.
 */
static int clone_b(void *p)
{
	struct clone_arg *ca = p;
	struct unbind_out u;
	char c;

	if (read(ca->go, &c, 1) != 1)
		_exit(1);
	msleep(ca->ms);
	if (mock_sva_unbind(&ca->m, ca->o.bond_id, 0, &u) || u.calls != 1 || u.users != 0)
		_exit(1);
	mock_close(&ca->m);
	_exit(0);
}

static int scenario_clonevm(unsigned int ms)
{
	static struct clone_arg ca;	/* shared with B through the mm */
	int go[2], st;
	pid_t a;

	printf("sva_stress: --- clonevm %u ms ---\n", ms);
	if (pipe(go)) {
		check(0, "clonevm: pipe");
		return 1;
	}
	fflush(stdout);
	a = fork();
	if (a == 0) {
		pid_t b;

		close(go[1]);
		ca.go = go[0];
		ca.ms = ms;
		if (dev_open(&ca.m) || mock_sva_bind(&ca.m, 0, &ca.o))
			_exit(1);
		b = clone(clone_b, clone_stack + sizeof(clone_stack),
			  CLONE_VM | CLONE_PARENT | SIGCHLD, &ca);
		if (b < 0)
			_exit(1);
		printf("BINDER pid %d pasid %u\n", (int)getpid(), ca.o.pasid);
		printf("SIBLING pid %d (CLONE_VM)\n", (int)b);
		fflush(stdout);
		_exit(0);
	}
	close(go[0]);
	check(a > 0 && waitpid(a, &st, 0) == a && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "clonevm: A bound, cloned its CLONE_VM sibling and exited");
	if (write(go[1], "g", 1) != 1)
		check(0, "clonevm: tell B");
	close(go[1]);
	check(reap_all() == 0, "clonevm: the sibling unbound the bond %u ms after A's exit", ms);
	return 0;
}

/* ---- grandchild ---- */

static int scenario_grandchild(unsigned int ms)
{
	pid_t c;
	int st;

	printf("sva_stress: --- grandchild %u ms ---\n", ms);
	fflush(stdout);
	c = fork();
	if (c == 0) {
		if (fork() == 0) {
			struct mockdev m;
			struct bind_out o;
			struct unbind_out u;

			msleep(100);	/* its parent and the command are gone by then */
			if (dev_open(&m) || mock_sva_bind(&m, 0, &o))
				_exit(1);
			printf("BINDER pid %d pasid %u (grandchild)\n", (int)getpid(), o.pasid);
			fflush(stdout);
			msleep(ms);
			if (mock_sva_unbind(&m, o.bond_id, 0, &u) || u.calls != 1)
				_exit(1);
			printf("sva_stress: grandchild %d unbound after %u ms\n", (int)getpid(), ms);
			fflush(stdout);
			mock_close(&m);
			_exit(0);
		}
		_exit(0);
	}
	check(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "grandchild: the child forked a grandchild and exited; the command exits now");
	return 0;
}

/* ---- stress ---- */

struct stress_cfg {
	double end;		/* this worker's end (monotonic seconds) */
	int ndev;
	unsigned int pause_us;
	int handoff;		/* "handoff": deferred (kworker) unbinds, descriptors passed on */
	struct mockdev *dev;
};

struct held {
	int dev;
	__u32 bond_id;
};

struct thread_res {
	struct stress_cfg *cfg;
	unsigned int seed;
	long binds, unbinds, errors;
};

static void *stress_thread(void *p)
{
	struct thread_res *r = p;
	struct stress_cfg *cfg = r->cfg;
	struct held h[2];
	struct bind_out o;
	struct unbind_out u;
	int nh = 0, i;

	while (now_s() < cfg->end) {
		if (nh < 2 && (nh == 0 || rand_r(&r->seed) % 2)) {
			int d = rand_r(&r->seed) % cfg->ndev;
			int err;

			/*
			 * handoff: one bind in eight is unbound by a kworker 5-24 ms after its
			 * unbind op (or its release): a kernel thread's unbind of a bond whose
			 * other references this process's threads still take and drop
			 */
			if (cfg->handoff && !(rand_r(&r->seed) % 8))
				err = mock_sva_bind_defer(&cfg->dev[d], MOCK_SVA_CONCURRENT,
							  5 + rand_r(&r->seed) % 20, &o);
			else
				err = mock_sva_bind(&cfg->dev[d], MOCK_SVA_CONCURRENT, &o);
			if (err) {
				r->errors++;
			} else {
				h[nh].dev = d;
				h[nh++].bond_id = o.bond_id;
				r->binds++;
			}
		} else {
			i = rand_r(&r->seed) % nh;
			if (mock_sva_unbind(&cfg->dev[h[i].dev], h[i].bond_id, 0, &u))
				r->errors++;
			else
				r->unbinds++; /* or queued for a kworker (handoff) */
			h[i] = h[--nh];
		}
		if (cfg->pause_us)
			usleep(cfg->pause_us);
	}
	/* One time in four a bond is left to the release path (exit_files, after exit_mm) */
	while (nh > 0 && rand_r(&r->seed) % 4) {
		nh--;
		if (mock_sva_unbind(&cfg->dev[h[nh].dev], h[nh].bond_id, 0, &u))
			r->errors++;
		else
			r->unbinds++;
	}
	return NULL;
}

/*
 * handoff: every other worker passes its first device's descriptor over SCM_RIGHTS (sock) to
 * the receiver before it exits; the bonds its threads left there are then released in the
 * receiver, a live process of another mm, after this worker's mm is gone.
 */
static void stress_worker(double end, int nthreads, int ndev, unsigned int pause_us,
			  unsigned int seed, int sock)
{
	struct mockdev dev[8];
	struct stress_cfg cfg = { .ndev = ndev, .pause_us = pause_us, .handoff = sock >= 0,
				  .dev = dev };
	struct thread_res res[16];
	pthread_t tid[16];
	long binds = 0, unbinds = 0, errors = 0;
	double life = 0.3 + (seed % 8) / 10.0;
	int i;

	cfg.end = now_s() + life;
	if (cfg.end > end)
		cfg.end = end;
	for (i = 0; i < ndev; i++)
		if (dev_open(&dev[i]))
			_exit(1);
	for (i = 0; i < nthreads; i++) {
		res[i] = (struct thread_res){ .cfg = &cfg, .seed = seed * 131 + i };
		if (pthread_create(&tid[i], NULL, stress_thread, &res[i]))
			_exit(1);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		binds += res[i].binds;
		unbinds += res[i].unbinds;
		errors += res[i].errors;
	}
	if (sock >= 0 && seed % 2 && send_fd(sock, dev[0].fd))
		errors++;
	/* exit closes the devices: the release path unbinds what is left */
	_exit(errors ? 1 : 0);
}

/*
 * handoff's receiver: closes each descriptor it gets 20-59 ms later (the release path unbinds
 * the bonds left on it, in this process: not exiting, not a kernel thread, another mm), until
 * the socket closes. Prints "RECEIVER pid P got N".
 */
static void stress_receiver(int sock)
{
	unsigned int seed = (unsigned int)getpid();
	int fd, n = 0;

	printf("RECEIVER pid %d\n", (int)getpid());
	fflush(stdout);
	while ((fd = recv_fd(sock)) >= 0) {
		msleep(20 + rand_r(&seed) % 40);
		close(fd);
		n++;
	}
	printf("RECEIVER pid %d got %d\n", (int)getpid(), n);
	fflush(stdout);
	_exit(0);
}

static int scenario_stress(int argc, char **argv)
{
	int secs, nproc, nthreads, ndev, leak = 0, handoff = 0, spawned = 0, bad = 0, st;
	int running = 0, sv[2] = { -1, -1 };
	unsigned int pause_us;
	double end, leak_at;
	pid_t p, receiver = -1;

	if (argc < 7)
		return -1;
	secs = atoi(argv[2]);
	nproc = atoi(argv[3]);
	nthreads = atoi(argv[4]);
	ndev = atoi(argv[5]);
	pause_us = (unsigned int)atoi(argv[6]);
	for (int a = 7; a < argc; a++) {
		if (!strcmp(argv[a], "leak"))
			leak = 1;
		else if (!strcmp(argv[a], "handoff"))
			handoff = 1;
		else
			return -1;
	}
	if (secs < 1 || nproc < 1 || nproc > 64 || nthreads < 1 || nthreads > 16 || ndev < 1 ||
	    ndev > 8)
		return -1;
	printf("sva_stress: --- stress %d s, %d processes x %d threads, %d devices each, pause %u us%s%s ---\n",
	       secs, nproc, nthreads, ndev, pause_us, handoff ? ", handoffs" : "",
	       leak ? ", one leak" : "");
	if (handoff) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
			check(0, "stress: socketpair: %s", strerror(errno));
			return 1;
		}
		fflush(stdout);
		receiver = fork();
		if (receiver == 0) {
			close(sv[0]);
			stress_receiver(sv[1]);
		}
		close(sv[1]);
		if (receiver < 0) {
			check(0, "stress: fork the receiver: %s", strerror(errno));
			return 1;
		}
	}
	end = now_s() + secs;
	leak_at = leak ? now_s() + secs / 2.0 : 0;
	while (now_s() < end) {
		while (running < nproc && now_s() < end - 0.2) {
			fflush(stdout);
			p = fork();
			if (p == 0)
				stress_worker(end, nthreads, ndev, pause_us, (unsigned int)spawned + 1,
					      sv[0]);
			if (p < 0)
				break;
			running++;
			spawned++;
		}
		if (leak_at && now_s() >= leak_at) {
			leak_at = 0;
			fflush(stdout);
			p = fork();
			if (p == 0) {
				struct mockdev m;
				struct bind_out o;

				if (dev_open(&m) || mock_sva_bind(&m, MOCK_SVA_LEAK_ON_RELEASE, &o))
					_exit(1);
				printf("LEAKER pid %d pasid %u\n", (int)getpid(), o.pasid);
				fflush(stdout);
				_exit(0);	/* the release path skips the bond: leaked */
			}
			running++;
		}
		p = waitpid(-1, &st, WNOHANG);
		if (p > 0 && p == receiver) {
			check(0, "stress: the receiver exited early");
			receiver = -1;
		} else if (p > 0) {
			running--;
			if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				bad++;
		} else {
			msleep(10);
		}
	}
	while (running > 0 && (p = waitpid(-1, &st, 0)) > 0) {
		if (p == receiver)
			continue;
		running--;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			bad++;
	}
	check(bad == 0, "stress: %d worker processes, %d failed", spawned, bad);
	if (handoff) {
		close(sv[0]);	/* every worker is gone: the receiver ends */
		check(waitpid(receiver, &st, 0) == receiver && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0, "stress: the receiver closed what it got and exited");
	}
	msleep(300);	/* the last mm drops */
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sva_stress counters | deferred MS | scm MS | clonevm MS | grandchild MS |\n"
			"       stress SECS NPROC NTHREADS NDEV PAUSE_US [handoff] [leak]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned int ms = 0;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "counters"))
		return scenario_counters();
	if (argc > 2)
		ms = (unsigned int)strtoul(argv[2], NULL, 10);
	if (!strcmp(argv[1], "deferred") && argc == 3)
		rc = scenario_deferred(ms);
	else if (!strcmp(argv[1], "scm") && argc == 3)
		rc = scenario_scm(ms);
	else if (!strcmp(argv[1], "clonevm") && argc == 3)
		rc = scenario_clonevm(ms);
	else if (!strcmp(argv[1], "grandchild") && argc == 3)
		rc = scenario_grandchild(ms);
	else if (!strcmp(argv[1], "stress"))
		rc = scenario_stress(argc, argv);
	else
		return usage();
	if (rc < 0)
		return usage();
	if (rc > 0)
		failures++;
	printf("sva_stress: %s (%d failure%s)\n", failures ? "FAILED" : "PASSED", failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
