/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading an export back: --report, and --replay of an export. */
#ifndef SVA_POSTMORTEM_H
#define SVA_POSTMORTEM_H

#include <stdbool.h>
#include <stdio.h>

/* Whether path holds an export (rather than a JSON Lines capture). */
bool export_file_is_export(const char *path);

/*
 * Prints the postmortem (text), or the export's findings as JSON Lines, on out. The
 * addresses of an export made with --raw-pointers are hashed unless raw_pointers.
 * Returns 0, 1 when a finding of a fail_on kind is in it, or -errno after saying
 * why (print.h): unreadable, or not an export (-EINVAL).
 */
int report_export(const char *path, bool json_out, unsigned int fail_on, bool raw_pointers,
		  FILE *out);

#endif
