// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The command of `sva-trace -- CMD` and its descendants (child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "print.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int child_start(struct child *c, char **argv, bool json)
{
	int fds[2];
	char b;

	/* Descendants the command leaves behind become ours, not init's (child.h). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -errno;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (c->pid == 0) {
		/* Wait until the probes are attached, then become the command. */
		close(fds[1]);
		if (read(fds[0], &b, 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (json && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		sva_warn("cannot run '%s': %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	c->go_fd = fds[1];
	return 0;
}

void child_go(struct child *c)
{
	if (c->go_fd >= 0) {
		close(c->go_fd);
		c->go_fd = -1;
	}
}

void child_poll(struct child *c)
{
	int status;
	pid_t p;

	if (c->pid <= 0 || c->exited)
		return;
	/* The command, and the orphans reparented to us (we start no other process). */
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == c->pid) {
			c->cmd_exited = true;
			c->status = status;
		}
	}
	if (p < 0 && errno == ECHILD && c->cmd_exited) {
		c->exited = true;
		c->exit_ns = mono_ns();
	}
}

int child_exit_code(const struct child *c)
{
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return 1;
}
