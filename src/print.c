// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The diagnostic hook (print.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "print.h"

static const char *print_prefix = "";
static sva_print_fn print_hook = sva_print_stderr;
static void *print_ctx;

void sva_print_set_prefix(const char *prefix)
{
	print_prefix = prefix ? prefix : "";
}

const char *sva_print_prefix(void)
{
	return print_prefix;
}

sva_print_fn sva_print_set_hook(sva_print_fn fn, void *ctx)
{
	sva_print_fn old = print_hook;

	print_hook = fn ? fn : sva_print_stderr;
	print_ctx = fn ? ctx : NULL;
	return old;
}

/*
 * The first line prefixed: continuation lines are indented by the message itself. Written
 * to descriptor 2, not through the stderr FILE, which a caller may have pointed at
 * sva_print_stream() for glibc's sake (options.c): the message would come back to the hook.
 */
void sva_print_stderr(enum sva_print_level level, const char *prefix, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	dprintf(STDERR_FILENO, "%s%s\n", prefix, msg);
}

void sva_vpr(enum sva_print_level level, const char *fmt, va_list ap)
{
	char msg[4096];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	print_hook(level, print_prefix, msg, print_ctx);
}

void sva_pr(enum sva_print_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sva_vpr(level, fmt, ap);
	va_end(ap);
}

/* sva_print_stream(): the unfinished line, as written so far. */
struct print_stream {
	enum sva_print_level level;
	char line[1024];
	size_t len;
};

static void stream_line(struct print_stream *ps)
{
	ps->line[ps->len] = '\0';
	print_hook(ps->level, "", ps->line, print_ctx);
	ps->len = 0;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	struct print_stream *ps = cookie;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			stream_line(ps);
		else if (ps->len < sizeof(ps->line) - 1)
			ps->line[ps->len++] = buf[i];
	}
	return (ssize_t)size;
}

static int stream_close(void *cookie)
{
	struct print_stream *ps = cookie;

	if (ps->len)
		stream_line(ps);
	free(ps);
	return 0;
}

FILE *sva_print_stream(enum sva_print_level level)
{
	static const cookie_io_functions_t io = { .write = stream_write, .close = stream_close };
	struct print_stream *ps = calloc(1, sizeof(*ps));
	FILE *f;

	if (!ps)
		return NULL;
	ps->level = level;
	f = fopencookie(ps, "w", io);
	if (!f)
		free(ps);
	return f;
}

int sva_stdout_error(int write_errno)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	int err = write_errno;
	struct stat st;

	if (fflush(stdout) == EOF && !err)
		err = errno;
	if (!err && ferror(stdout))
		err = EIO;
	if (!err || err == EPIPE)
		return 0;
	/* A pipe whose reader left may have failed first with another errno: its going counts. */
	if (!fstat(STDOUT_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	    poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
		return 0;
	return err;
}
