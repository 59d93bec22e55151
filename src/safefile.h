/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Files that must never be half-written: a temporary file in the same folder,
 * written, fsync'd, mode 0600, then renamed over the target (which replaces a
 * symlink rather than following it), then the folder fsync'd.
 */
#ifndef SVA_SAFEFILE_H
#define SVA_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * At start-up: can path be written later? Refuses a symlink, a non-regular
 * file and a folder we cannot create files in. 0 or -errno with err set.
 */
int safefile_check(const char *path, char *err, size_t errlen);

/*
 * Whether writing path would replace the file named other (NULL: stdin): the same file, or,
 * neither there yet, one name in one folder. An output must not replace an input.
 */
bool safefile_same(const char *path, const char *other);

/* Replace path with data atomically. 0 or -errno with err set. */
int safefile_write(const char *path, const char *data, size_t len, char *err, size_t errlen);
/* The same with another mode than 0600 (a metrics file that node_exporter reads: 0644). */
int safefile_write_mode(const char *path, const char *data, size_t len, mode_t mode, char *err,
			size_t errlen);

#endif
