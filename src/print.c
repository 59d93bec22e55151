// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The diagnostic hook (print.h). */
#include <stdio.h>
#include <string.h>

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

/* The first line prefixed: continuation lines are indented by the message itself. */
void sva_print_stderr(enum sva_print_level level, const char *prefix, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	fprintf(stderr, "%s%s\n", prefix, msg);
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
