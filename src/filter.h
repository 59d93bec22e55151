/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --pid, --comm, --dev, --pasid: what is shown. The correlator sees every
 * record (an unbind from a kworker or another process, a PASID freed where
 * the mm is dropped, a process exit belong to a bond's history whoever runs
 * them); these predicates decide which records and findings are printed.
 */
#ifndef SVA_FILTER_H
#define SVA_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "sva_trace.h"

struct sva_options;
struct finding;

struct sva_filter {
	uint32_t pid; /* thread group id; 0: any */
	char comm[SVA_COMM_LEN]; /* "": any */
	char dev[SVA_DEV_NAME_LEN]; /* "": any */
	uint32_t pasid; /* SVA_PASID_NONE: any */
};

void sva_filter_from(struct sva_filter *f, const struct sva_options *opts);
/* Whether any of the four is set. */
bool sva_filter_active(const struct sva_filter *f);
/* A record is shown when the task that ran it, its device and its PASID all match. */
bool sva_filter_event(const struct sva_filter *f, const struct sva_event *ev);
/*
 * A finding is shown when its subject matches: the owner's pid and command,
 * the device, the PASID. A subject that does not know a filtered field does
 * not match it.
 */
bool sva_filter_finding(const struct sva_filter *f, const struct finding *fi);

#endif
