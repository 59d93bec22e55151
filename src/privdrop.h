/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Dropping the capabilities tracing no longer needs once the probes are attached. */
#ifndef SVA_PRIVDROP_H
#define SVA_PRIVDROP_H

#include <stddef.h>
#include <stdio.h>

/*
 * Clears the effective, permitted, inheritable and ambient capability sets and the
 * bounding set, then sets PR_SET_NO_NEW_PRIVS. Kept, only when needed: CAP_BPF (or
 * CAP_SYS_ADMIN) when this kernel still wants it for look-ups on map_fd (before 6.5, with
 * kernel.unprivileged_bpf_disabled set), CAP_DAC_OVERRIDE when the folder of one of
 * write_paths (NULL-terminated: the export, the metrics file; NULL for none) is not
 * writable without it. kept gets their names ("" for none). Returns 0, or -errno after a
 * warning through sva_pr() (tracing goes on with the capabilities it had).
 */
int privileges_drop(int map_fd, const char *const *write_paths, char *kept, size_t kept_len);

#endif
