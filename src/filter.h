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
#include <stddef.h>
#include <stdint.h>

#include "sva_trace.h"

struct sva_options;
struct finding;
struct resolution;
struct bond;
struct attachment;

struct sva_filter {
	uint32_t pid; /* thread group id; 0: any */
	char comm[SVA_COMM_LEN]; /* "": any */
	char dev[SVA_DEV_NAME_LEN]; /* "": any */
	uint32_t pasid; /* SVA_PASID_NONE: any */
};

void sva_filter_from(struct sva_filter *f, const struct sva_options *opts);
/* Whether any of the four is set. */
bool sva_filter_active(const struct sva_filter *f);
/* The options that set it, as typed: "--pid 200 --dev mock0" ("" when none). */
void sva_filter_describe(const struct sva_filter *f, char *buf, size_t len);
/* A record is shown when the task that ran it, its device and its PASID all match. */
bool sva_filter_event(const struct sva_filter *f, const struct sva_event *ev);
/*
 * A finding is shown when its subject matches: the owner's pid and command,
 * the device, the PASID. A subject that does not know a filtered field does
 * not match it.
 */
bool sva_filter_finding(const struct sva_filter *f, const struct finding *fi);
/* A retraction is shown when the finding it retracts was: the same subject rule. */
bool sva_filter_resolution(const struct sva_filter *f, const struct resolution *r);
/*
 * A live bond or attachment (sva-top's rows, the summary's outstanding bonds) is shown
 * when the subject its findings would have matches: owner, device, PASID.
 */
bool sva_filter_bond(const struct sva_filter *f, const struct bond *b);
bool sva_filter_attachment(const struct sva_filter *f, const struct attachment *a);

#endif
