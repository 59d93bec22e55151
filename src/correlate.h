/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The correlator: turns the event stream into the kernel's SVA state
 * (bonds, attachments, PASIDs, processes) and says what is wrong with it.
 *
 * It is fed decoded records in sequence order, the same way from the live
 * ring buffer and from a replayed capture, and reports findings through a
 * callback. It does no I/O and keeps memory proportional to live objects:
 * ended bonds are freed, per-bond history is bounded.
 */
#ifndef SVA_CORRELATE_H
#define SVA_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sva_trace.h"

enum finding_kind {
	FINDING_LEAK,
	FINDING_REFCOUNT,
	FINDING_TYPE_MISMATCH,
	FINDING_CROSS_MM,
	FINDING_PASID_STATE,
	FINDING_BIND_ERROR,
	FINDING__MAX,
};

enum finding_severity {
	SEV_INFO,
	SEV_WARNING,
	SEV_ERROR,
	SEV_CRITICAL,
};

#define FINDING_MAX_EVIDENCE 8
#define FINDING_MSG_LEN 512

/* What a finding is about: a bond (handle) or an attachment (group, PASID). */
struct finding_subject {
	uint64_t handle; /* 0 for attachments */
	uint64_t domain;
	uint64_t mm;
	int32_t group_id;
	uint32_t pasid;
	uint32_t owner_pid;
	char owner_comm[SVA_COMM_LEN];
	char dev_name[SVA_DEV_NAME_LEN];
};

struct finding {
	enum finding_kind kind;
	enum finding_severity severity;
	bool uncertain; /* lost events could explain it */
	uint64_t ts_ns; /* when it was found (event time) */
	struct finding_subject subject;
	int nr_evidence;
	uint64_t evidence[FINDING_MAX_EVIDENCE]; /* sequence numbers */
	char message[FINDING_MSG_LEN];
};

/* One step of a bond's history. */
struct bond_step {
	uint64_t seq;
	uint64_t ts_ns;
	uint16_t type; /* SVA_REC_BIND or SVA_REC_UNBIND */
	int32_t users_after; /* as the kernel had it; -1 unknown */
	uint32_t tgid;
};

/*
 * History kept per bond: the first BOND_HISTORY_HEAD steps and the most
 * recent ones up to BOND_HISTORY_MAX in all; nr_steps counts every step.
 * Allocated as it grows, since most bonds see one bind and one unbind.
 */
#define BOND_HISTORY_HEAD 8
#define BOND_HISTORY_MAX 32

struct bond {
	uint64_t handle;
	uint64_t domain;
	uint32_t domain_type;
	uint64_t mm;
	int32_t group_id;
	uint32_t pasid;
	char dev_name[SVA_DEV_NAME_LEN];
	uint32_t owner_pid;
	char owner_comm[SVA_COMM_LEN];
	uint64_t created_seq;
	uint64_t created_ns;
	uint64_t owner_exit_ns; /* 0 while the owner lives */
	bool unknown_origin; /* existed before tracing started */
	bool uncertain; /* events were lost while it was alive */
	bool leak_reported;
	bool unresolved; /* owner gone past the grace, but uncertain: not called a leak */
	int64_t expected_users; /* binds - unbinds seen, synced to the kernel's count */
	int32_t kernel_users; /* last count read in the kernel, -1 unknown */
	uint64_t nr_binds, nr_unbinds;
	uint64_t nr_steps; /* all steps, including those no longer kept */
	uint32_t steps_cap;
	struct bond_step *steps;
	/* live list, in creation order */
	struct bond *prev, *next;
};

/* Step i (0 <= i < min(nr_steps, BOND_HISTORY_MAX)) in time order. */
const struct bond_step *bond_step_at(const struct bond *b, uint32_t i);
uint32_t bond_steps_kept(const struct bond *b);

struct attachment {
	int32_t group_id;
	uint32_t pasid;
	uint64_t domain;
	uint32_t domain_type;
	uint64_t handle;
	uint64_t mm; /* SVA domains: the domain's mm */
	char dev_name[SVA_DEV_NAME_LEN];
	uint32_t owner_pid;
	char owner_comm[SVA_COMM_LEN];
	uint64_t since_seq;
	uint64_t since_ns;
	bool attached; /* false: detached, kept to recognise a second detach */
	bool unknown_origin;
	bool uncertain;
	bool mismatch_reported;
};

struct correlator;

struct correlator_opts {
	uint64_t leak_grace_ns; /* default 2 s */
	void (*on_finding)(const struct finding *f, void *ctx);
	/* optional: a bond's final release, just before it is forgotten */
	void (*on_bond_end)(const struct bond *b, uint64_t ts_ns, void *ctx);
	void *ctx;
};

struct correlator_stats {
	uint64_t events;
	uint64_t live_bonds;
	uint64_t ended_bonds;
	uint64_t unknown_origin_bonds;
	uint64_t live_attachments;
	uint64_t lost; /* reported by the kernel (lost records) */
	uint64_t seq_gaps; /* sequence numbers never seen */
	uint64_t inferred_unbinds; /* bonds ended by their mm's mm_pasid_drop: unbind lost */
	uint64_t unresolved_bonds; /* would be leaks, but their unbind may be among lost records */
	uint64_t findings[FINDING__MAX];
};

struct correlator *correlator_new(const struct correlator_opts *opts);
void correlator_free(struct correlator *c);

/* Feed one record. Records should come in sequence order. */
void correlator_event(struct correlator *c, const struct sva_event *ev);
/* The kernel reported n lost records: live state becomes uncertain. */
void correlator_lost(struct correlator *c, uint64_t n, uint64_t ts_ns);
/* Time passes (CLOCK_MONOTONIC ns): leak deadlines are checked. */
void correlator_tick(struct correlator *c, uint64_t now_ns);
/* End of tracing at now_ns: last leak check. */
void correlator_finish(struct correlator *c, uint64_t now_ns);

/* The live bond with this handle, or NULL. */
const struct bond *correlator_find_bond(const struct correlator *c, uint64_t handle);

void correlator_get_stats(const struct correlator *c, struct correlator_stats *st);
/* Iterate live bonds / attachments (order: by creation). */
void correlator_for_each_bond(const struct correlator *c,
			      void (*fn)(const struct bond *b, void *ctx), void *ctx);
void correlator_for_each_attachment(const struct correlator *c,
				    void (*fn)(const struct attachment *a, void *ctx), void *ctx);

const char *finding_kind_name(enum finding_kind kind);
/* -1 when unknown */
int finding_kind_from_name(const char *name);
const char *finding_severity_name(enum finding_severity sev);

/* Parses "leak,refcount" or "all" into a bit mask of kinds; -1 on error (err set). */
int finding_kinds_parse(const char *list, unsigned int *mask, char *err, size_t errlen);

/* The kernel's meaning of a failed bind's errno, one sentence. */
const char *bind_errno_explanation(int64_t err);

#endif
