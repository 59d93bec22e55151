// SPDX-License-Identifier: GPL-2.0
/*
 * sva_bench - micro-benchmarks of the SVA/PASID paths sva-trace probes, for the lab
 * kernel (lab/kernel/mock-sva.patch): each mode drives one path in a loop through the
 * mock device's test ops (lab/guest/mock_ops.h) and prints the cost per operation,
 * measured with CLOCK_MONOTONIC over the whole loop (one warm-up operation first).
 *
 * Usage:
 *   sva_bench bind N     N x (SVA bind + unbind of this process's mm) on one mock device:
 *                        iommu_sva_bind_device (its iommu_attach_handle_get finds nothing,
 *                        then iommu_attach_device_pasid) + iommu_sva_unbind_device
 *                        (iommu_detach_device_pasid)
 *   sva_bench attach N   N x (attach + detach of a paging hwpt at PASID 100):
 *                        iommu_attach_device_pasid + iommu_detach_device_pasid
 *   sva_bench iopf N     N I/O page faults at this process's bound SVA PASID, one per
 *                        untouched page: each IOMMU_TEST_OP_TRIGGER_IOPF looks the handle
 *                        up (iommu_attach_handle_get, found) and queues the fault; the
 *                        kernel's IOPF workqueue answers it by faulting the page in.
 *                        Timed: the N triggers (the look-up path); then, untimed, until
 *                        mincore() shows all N pages present and 200 ms more for the
 *                        last responses before the unbind
 *   sva_bench startup PATTERN SECONDS -- TRACER [ARGS...]
 *                        forks TRACER with its stdout on a pipe and keeps doing bind +
 *                        unbind (one pair per millisecond) until TRACER prints a line
 *                        containing PATTERN: the time from fork to that line is how long
 *                        the tracer takes until its probes are attached and reporting.
 *                        Then SIGINT to TRACER, its output is drained, it is reaped.
 *                        Fails after SECONDS. With SVA_BENCH_HOOK="FUNC ..." in the
 *                        environment it also times fork to the moment ftrace shows every
 *                        FUNC hooked (/sys/kernel/tracing/enabled_functions): the probes
 *                        attached, whatever the tracer then takes to report.
 * Output (stdout, one line): sva_bench mode=M ops=N total_ns=T ns_per_op=X
 *                        (startup: sva_bench mode=startup ns=T pairs=P [attached_ns=A])
 * Build: gcc -static -O2 -Wall -I CACHE/lab/KEY/include -o sva_bench sva_bench.c
 * Exit: 0 measured, 1 an operation failed (message on stderr), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mock_ops.h"

/* A PASID of iommufd's own choosing, far from the global SVA allocator's low numbers. */
#define USER_PASID 100
#define MAX_OPS 10000000ul

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "sva_bench: %s: %s\n", what, strerror(-err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: sva_bench bind|attach|iopf N\n"
			"       sva_bench startup PATTERN SECONDS -- TRACER [ARGS...]\n");
	return 2;
}

/* Strict: digits only, 1..max. */
static int parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *out == 0 || *out > max ? -1 : 0;
}

static int open_device(struct mockdev *m)
{
	const char *step;
	int err = mock_open(m, &step);

	return err ? fail(step, err) : 0;
}

static void report(const char *mode, unsigned long n, uint64_t ns)
{
	printf("sva_bench mode=%s ops=%lu total_ns=%llu ns_per_op=%.0f\n", mode, n,
	       (unsigned long long)ns, (double)ns / (double)n);
}

static int bind_unbind(struct mockdev *m)
{
	struct bind_out b;
	struct unbind_out u;
	int err = mock_sva_bind(m, 0, &b);

	if (err)
		return fail("IOMMU_TEST_OP_SVA_BIND", err);
	err = mock_sva_unbind(m, b.bond_id, 0, &u);
	if (err)
		return fail("IOMMU_TEST_OP_SVA_UNBIND", err);
	if (u.users != 0) {
		fprintf(stderr, "sva_bench: unbind left %u users: something else holds this mm's bond\n",
			u.users);
		return 1;
	}
	return 0;
}

static int bench_bind(unsigned long n)
{
	struct mockdev m;
	uint64_t t0;
	unsigned long i;
	int rc = 1;

	if (open_device(&m))
		return 1;
	if (bind_unbind(&m))	/* warm-up: allocates this mm's PASID */
		goto out;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (bind_unbind(&m))
			goto out;
	report("bind", n, now_ns() - t0);
	rc = 0;
out:
	mock_close(&m);
	return rc;
}

static int attach_detach(struct mockdev *m, __u32 hwpt)
{
	int err = mock_pasid_op(m, IOMMU_TEST_OP_PASID_ATTACH, USER_PASID, hwpt);

	if (err)
		return fail("IOMMU_TEST_OP_PASID_ATTACH", err);
	err = mock_pasid_op(m, IOMMU_TEST_OP_PASID_DETACH, USER_PASID, 0);
	return err ? fail("IOMMU_TEST_OP_PASID_DETACH", err) : 0;
}

static int bench_attach(unsigned long n)
{
	struct mockdev m;
	__u32 rid_hwpt, hwpt;
	uint64_t t0;
	unsigned long i;
	int err, rc = 1;

	if (open_device(&m))
		return 1;
	/* The RID must sit on a PASID-compatible domain before anything goes to a PASID. */
	err = mock_hwpt_alloc_pasid(&m, 0, &rid_hwpt);
	if (!err)
		err = mock_rid_replace(&m, rid_hwpt);
	if (!err)
		err = mock_hwpt_alloc_pasid(&m, 0, &hwpt);
	if (err) {
		fail("PASID-compatible paging hwpts", err);
		goto out;
	}
	if (attach_detach(&m, hwpt))
		goto out;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (attach_detach(&m, hwpt))
			goto out;
	report("attach", n, now_ns() - t0);
	rc = 0;
out:
	mock_close(&m);
	return rc;
}

/* Waits (up to 60 s) until pages [first, first + n) of region are present. */
static int wait_present(char *region, unsigned long first, unsigned long n, unsigned char *vec)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t deadline = now_ns() + 60000000000ull;
	struct timespec nap = { 0, 20000 };
	unsigned long i, present = 0;

	for (;;) {
		if (mincore(region + first * page, n * page, vec))
			return fail("mincore", -errno);
		for (i = 0, present = 0; i < n; i++)
			present += vec[i] & 1;
		if (present == n)
			return 0;
		if (now_ns() > deadline)
			break;
		nanosleep(&nap, NULL);	/* let the IOPF workqueue run */
	}
	fprintf(stderr, "sva_bench: only %lu of %lu faulted pages present after 60 s: the IOPF "
		"workqueue did not answer the faults\n", present, n);
	return 1;
}

static int bench_iopf(unsigned long n)
{
	long page = sysconf(_SC_PAGESIZE);
	struct mockdev m;
	struct bind_out b;
	struct unbind_out u;
	unsigned char *vec;
	char *region;
	uint64_t t0, t1;
	unsigned long i;
	int err, rc = 1;

	/* n + 1 pages never touched: each fault makes the kernel fault one in for the device. */
	region = mmap(NULL, (n + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	vec = malloc(n + 1);
	if (region == MAP_FAILED || !vec) {
		fprintf(stderr, "sva_bench: no memory for %lu pages\n", n + 1);
		return 1;
	}
	if (open_device(&m))
		return 1;
	err = mock_sva_bind(&m, 0, &b);
	if (err) {
		fail("IOMMU_TEST_OP_SVA_BIND", err);
		goto out;
	}
#define IOPF_PERM (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE)
	err = mock_trigger_iopf(&m, b.pasid, (uintptr_t)region, IOPF_PERM);	/* warm-up */
	if (err) {
		fail("IOMMU_TEST_OP_TRIGGER_IOPF", err);
		goto out;
	}
	if (wait_present(region, 0, 1, vec))
		goto out;
	t0 = now_ns();
	for (i = 1; i <= n; i++) {
		err = mock_trigger_iopf(&m, b.pasid, (uintptr_t)(region + i * page), IOPF_PERM);
		if (err) {
			fail("IOMMU_TEST_OP_TRIGGER_IOPF", err);
			goto out;
		}
	}
	/*
	 * Timed: the triggers, i.e. the synchronous part of each fault where the handle is
	 * looked up (iommu_report_device_fault -> find_fault_handler ->
	 * iommu_attach_handle_get) and the fault queued. The workqueue's answers (faulting the
	 * pages in, no traced function) are waited for untimed: on one vCPU their scheduling
	 * swung the per-fault time by +-30% from run to run, whatever was traced.
	 */
	t1 = now_ns();
	if (wait_present(region, 1, n, vec))
		goto out;
	/*
	 * A page is present before its work item has sent the response: unbinding right
	 * away removes the device's fault parameter under the last work item's feet
	 * (seen: NULL dereference in iopf_group_response on the lab kernel).
	 */
	usleep(200000);
	err = mock_sva_unbind(&m, b.bond_id, 0, &u);
	if (err) {
		fail("IOMMU_TEST_OP_SVA_UNBIND", err);
		goto out;
	}
	report("iopf", n, t1 - t0);
	rc = 0;
out:
	mock_close(&m);
	munmap(region, (n + 1) * page);
	free(vec);
	return rc;
}

/* Reads what the tracer wrote; 1 when a whole line with pattern came, -1 at EOF. */
static int scan_output(int fd, const char *pattern, char *line, size_t cap, size_t *len)
{
	char buf[4096];
	ssize_t got = read(fd, buf, sizeof(buf));
	ssize_t i;

	if (got == 0)
		return -1;
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (i = 0; i < got; i++) {
		if (buf[i] == '\n') {
			line[*len] = '\0';
			*len = 0;
			if (strstr(line, pattern))
				return 1;
		} else if (*len < cap - 1) {
			line[(*len)++] = buf[i];
		}
	}
	return 0;
}

/* Stops the tracer (SIGINT), reads its output to the end and reaps it. */
static void stop_tracer(pid_t pid, int fd)
{
	char buf[4096];
	uint64_t deadline;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int st;

	kill(pid, SIGINT);
	deadline = now_ns() + 30000000000ull;
	while (now_ns() < deadline) {
		if (poll(&pfd, 1, 100) > 0) {
			ssize_t got = read(fd, buf, sizeof(buf));

			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
	}
	if (waitpid(pid, &st, WNOHANG) == 0) {
		fprintf(stderr, "sva_bench: the tracer ignored SIGINT for 30 s; killed\n");
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	close(fd);
}

/* Whether every function named in hook (space-separated) is in ftrace's enabled list. */
static int all_hooked(const char *hook)
{
	char buf[16384], name[128];
	const char *p = hook;
	ssize_t got;
	int fd = open("/sys/kernel/tracing/enabled_functions", O_RDONLY);

	if (fd < 0)
		return 0;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	while (sscanf(p, "%127s", name) == 1) {
		size_t n = strlen(name);
		const char *q = buf;

		/* each line starts with the function name and a space */
		while ((q = strstr(q, name)) && !((q == buf || q[-1] == '\n') && q[n] == ' '))
			q += n;
		if (!q)
			return 0;
		p = strstr(p, name) + n;
	}
	return 1;
}

static int bench_startup(const char *pattern, unsigned long seconds, char **cmd)
{
	const char *hook = getenv("SVA_BENCH_HOOK");
	uint64_t attached_ns = 0;
	struct pollfd pfd = { .events = POLLIN };
	char line[8192];
	size_t len = 0;
	struct mockdev m;
	unsigned long pairs = 0;
	uint64_t t0, deadline;
	int p[2], found = 0, rc = 1;
	pid_t pid;

	if (open_device(&m))
		return 1;
	if (bind_unbind(&m) || pipe(p)) {
		mock_close(&m);
		return 1;
	}
	fflush(stdout);
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		mock_close(&m);
		return fail("fork", -errno);
	}
	if (pid == 0) {
		close(p[0]);
		close(m.fd);
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(p[1]);
		execvp(cmd[0], cmd);
		fprintf(stderr, "sva_bench: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	deadline = t0 + seconds * 1000000000ull;
	while (!found) {
		if (hook && !attached_ns && all_hooked(hook))
			attached_ns = now_ns() - t0;
		if (bind_unbind(&m))
			break;
		pairs++;
		if (poll(&pfd, 1, 1) > 0) {
			found = scan_output(p[0], pattern, line, sizeof(line), &len);
			if (found < 0) {
				fprintf(stderr, "sva_bench: %s ended before printing a line with '%s'\n",
					cmd[0], pattern);
				break;
			}
		}
		if (!found && now_ns() > deadline) {
			fprintf(stderr, "sva_bench: no line with '%s' from %s within %lu s\n", pattern,
				cmd[0], seconds);
			break;
		}
	}
	if (found > 0) {
		uint64_t ns = now_ns() - t0;

		if (hook && !attached_ns && all_hooked(hook))
			attached_ns = ns;
		if (hook)
			printf("sva_bench mode=startup ns=%llu pairs=%lu attached_ns=%llu\n",
			       (unsigned long long)ns, pairs, (unsigned long long)attached_ns);
		else
			printf("sva_bench mode=startup ns=%llu pairs=%lu\n", (unsigned long long)ns,
			       pairs);
		rc = 0;
	}
	fflush(stdout);
	stop_tracer(pid, p[0]);
	mock_close(&m);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "startup")) {
		if (parse_count(argv[2], MAX_OPS, &n)) {
			fprintf(stderr, "sva_bench: N must be a whole number from 1 to %lu\n", MAX_OPS);
			return 2;
		}
		if (!strcmp(argv[1], "bind"))
			return bench_bind(n);
		if (!strcmp(argv[1], "attach"))
			return bench_attach(n);
		if (!strcmp(argv[1], "iopf"))
			return bench_iopf(n);
		return usage();
	}
	if (argc >= 6 && !strcmp(argv[1], "startup") && !strcmp(argv[4], "--")) {
		if (!*argv[2] || parse_count(argv[3], 3600, &n)) {
			fprintf(stderr, "sva_bench: startup needs a non-empty PATTERN and SECONDS 1-3600\n");
			return 2;
		}
		return bench_startup(argv[2], n, argv + 5);
	}
	return usage();
}
