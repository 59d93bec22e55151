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
	FINDING_PASID_PRESSURE, /* a device's PASIDs in use reached a share of its max_pasids */
	FINDING__MAX,
};

enum finding_severity {
	SEV_INFO,
	SEV_WARNING,
	SEV_ERROR,
	SEV_CRITICAL,
};

/* Why a finding may be false (uncertain). */
enum finding_doubt {
	DOUBT_NONE,
	DOUBT_LOST, /* records were lost while its subject was live */
	/*
	 * 6.1 drivers whose bond count cannot be read: binds made before tracing started
	 * cannot be ruled out, so a second unbind is not certainly a double unbind
	 */
	DOUBT_UNCOUNTED,
	/*
	 * too many threads whose tids share a slot of the correlator's waiting table waited at
	 * once: the record another one waited for may be this one (it may repeat a finding)
	 */
	DOUBT_CROWDED,
	/*
	 * An attach refused with EBUSY where no domain was seen: none in the state read at
	 * start-up, none attached since, nothing lost. The 7.x group reset it may have met
	 * is read after the call (a reset that ended meanwhile is not seen).
	 */
	DOUBT_HOLDER_UNSEEN,
	/*
	 * A bond read at start-up whose unbinds, recorded while the state was read (seq below
	 * next_seq), may have released every reference the state counted: the read takes no
	 * lock, so whether it is still bound is unknown (no record was lost)
	 */
	DOUBT_START_RACE,
	DOUBT__MAX
};

/* A pasid-pressure finding's counts: in_use = attached + held_elsewhere, of usable. */
struct finding_pressure {
	uint32_t in_use, usable, max_pasids, attached, held_elsewhere;
	double threshold_pct;
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
	bool uncertain; /* lost events (or, see doubt, an unreadable count) could explain it */
	enum finding_doubt doubt; /* why it is uncertain; DOUBT_NONE when it is not */
	uint64_t ts_ns; /* when it was found (event time) */
	struct finding_subject subject;
	int nr_evidence;
	uint64_t evidence[FINDING_MAX_EVIDENCE]; /* sequence numbers */
	char message[FINDING_MSG_LEN];
	bool has_pressure; /* pasid-pressure: the counts behind it (JSON "pressure") */
	struct finding_pressure pressure;
};

/*
 * A retracted finding: a leak whose bond was unbound after all (a driver's release callback
 * in a kworker, a process that got the descriptor over SCM_RIGHTS, a CLONE_VM sibling).
 */
struct resolution {
	enum finding_kind kind; /* what is retracted (FINDING_LEAK) */
	uint64_t ts_ns; /* the unbind that retracts it */
	uint64_t finding_ts_ns; /* when the finding was made */
	uint64_t late_ns; /* unbind time - when its mm was gone (mm_exit, or the last owner exit) */
	struct finding_subject subject;
	uint32_t by_pid, by_tid; /* who unbound it */
	char by_comm[SVA_COMM_LEN];
	int nr_evidence;
	uint64_t evidence[FINDING_MAX_EVIDENCE]; /* the unbind's seq */
	char message[FINDING_MSG_LEN];
};

/* One step of a bond's history, as bond_step_at() reads it. */
struct bond_step {
	uint64_t seq;
	uint64_t ts_ns;
	uint16_t type; /* SVA_REC_BIND or SVA_REC_UNBIND */
	int32_t users_after; /* as the kernel had it; -1 unknown */
	uint32_t tgid;
};

/*
 * A step as a bond keeps it: 24 bytes, where struct bond_step's type made 32. Whether it
 * was a bind or an unbind is a bit of the bond's step_unbinds (issue 18: most live bonds
 * hold one to eight steps, a fifth of their memory at a million).
 */
struct bond_step_rec {
	uint64_t seq;
	uint64_t ts_ns;
	int32_t users_after;
	uint32_t tgid;
};

/*
 * The refcount ledger of one kernel count (a handle's users, or on 6.2-6.7 the shared
 * domain's). Bind reads the count after iommu_sva_lock is released and unbind before it is
 * taken, so with threads a reading may be off from the records' order by what other threads
 * were doing meanwhile: the ledger keeps per thread where it last was, and judges a reading
 * only outside the range those threads can explain (docs/FINDINGS.md, "refcount").
 */
#define LEDGER_THREADS 4
/*
 * 12 bytes: a thread's records so far are binds_at + unbinds_at (the ledger counts ops as
 * binds + unbinds), and whether its last one was an unbind is a bit of ledger.unbind_last.
 */
struct ledger_thread {
	uint32_t tid; /* 0: free slot */
	uint32_t binds_at, unbinds_at; /* the ledger's counters after its last record */
};

/* Laid out without holes: one per live bond (issue 18: memory per live bond). */
struct ledger {
	int64_t recorded; /* binds - unbinds recorded */
	int64_t owed_recorded;
	uint64_t owed_seq;
	uint32_t binds, unbinds; /* records seen (wrapping counters, compared by difference) */
	/* a reading above what the trace can explain, until binds recorded later explain it */
	int32_t owed;
	/*
	 * Of owed, the references a first sight showed (bound before tracing, or by binds
	 * recorded later): no finding if unpaid. Binds pay the others first.
	 */
	int32_t owed_forgiven_n;
	uint32_t owed_tid, owed_ops;
	int32_t owed_users;
	bool crowded; /* more threads than tracked: only the certain rules apply */
	bool owed_forgiven; /* crowded: what is owed is no finding any more */
	uint8_t unbind_last; /* bit i: th[i]'s last record was an unbind */
	/*
	 * References of a first sight (owed, forgiven) that binds recorded later paid: each may
	 * instead be one from before tracing, which a later reading then shows (saturating)
	 */
	uint8_t first_paid;
	struct ledger_thread th[LEDGER_THREADS];
};

/*
 * History kept per bond: the first BOND_HISTORY_HEAD steps and the most
 * recent ones up to BOND_HISTORY_MAX in all; nr_steps counts every step.
 * Allocated as it grows, since most bonds see one bind and one unbind.
 */
#define BOND_HISTORY_HEAD 8
#define BOND_HISTORY_MAX 32

struct mm_state;

/* Fields grouped by size, without holes: one per live bond (issue 18). */
struct bond {
	uint64_t handle;
	uint64_t domain;
	uint64_t mm;
	uint64_t created_seq;
	uint64_t created_ns;
	uint64_t owner_exit_ns; /* when the last task using its mm was seen to go; 0 while used */
	uint64_t leak_ns; /* when the leak finding was made */
	int64_t expected_users; /* binds - unbinds seen (6.2-6.7: 1 until its unbind) */
	uint64_t nr_binds, nr_unbinds;
	uint64_t nr_steps; /* all steps, including those no longer kept */
	/* min(nr_steps, BOND_HISTORY_MAX) kept, in a buffer of the next power of two */
	struct bond_step_rec *steps;
	/* live list, in creation order */
	struct bond *prev, *next;
	/* the bonds of one mm, for exits and mm drops */
	struct mm_state *mms;
	struct bond *mm_prev, *mm_next;
	uint32_t domain_type;
	int32_t group_id;
	uint32_t pasid;
	uint32_t owner_pid;
	int32_t kernel_users; /* last count read in the kernel, -1 unknown */
	uint32_t step_unbinds; /* bit i: steps[i] is an unbind (else a bind) */
	/*
	 * SVA_DEV_NAME_LEN and SVA_COMM_LEN bytes, not NUL-terminated when full: interned, one
	 * copy per distinct name among the live bonds (issue 18: 48 bytes a bond before), valid
	 * while the bond is. Whoever keeps a bond past its end copies them.
	 */
	const char *dev_name;
	const char *owner_comm;
	bool unknown_origin; /* existed before tracing started */
	bool at_start; /* read from the kernel's state at start-up (correlator_seed_attachment) */
	uint8_t uncertain; /* enum finding_doubt: why its findings may be false; 0: certain */
	bool leak_reported;
	bool unresolved; /* owner gone past the grace, but uncertain: not called a leak */
	bool domain_counted; /* 6.2-6.7: users is the shared domain's count */
	/*
	 * A first sight of its count showed references the records did not (bound before
	 * tracing, or by binds recorded later): the records' count may reach 0 before the
	 * kernel's (binds recorded since taken for those), and a later unbind shows it again
	 */
	bool hidden_refs;
	struct ledger ledger; /* the handle's count; unused when users counts the domain */
};

/* Step i (0 <= i < min(nr_steps, BOND_HISTORY_MAX)) in time order. */
struct bond_step bond_step_at(const struct bond *b, uint32_t i);
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
	bool at_start; /* read from the kernel's state */
	bool uncertain;
	bool mismatch_reported;
};

struct correlator;

struct correlator_opts {
	uint64_t leak_grace_ns; /* default 2 s */
	/*
	 * The exit_mmap probe is attached (SVA_REC_MM_EXIT records come): an mm is gone at its
	 * mm_exit record, not when the processes the trace saw using it exited, since a task
	 * the trace never saw (a CLONE_VM sibling) may still use it. Mms whose exit_mmap the
	 * trace cannot expect are still judged by process exits (docs/FINDINGS.md, "leak").
	 */
	bool mm_exit_traced;
	/*
	 * pasid-pressure: a warning when a device's attached PASIDs reach this percentage of its
	 * max_pasids (0: the default, 90; above 100: never).
	 */
	double pasid_pressure_pct;
	/*
	 * No probe reports the global allocator's frees (neither pasid_free nor mm_pasid_drop
	 * is attached, e.g. a kernel that inlined them): PASIDs would only ever be added to the
	 * global set, and a long trace would warn of pressure that is not there. So the global
	 * set is not kept, and pasid-pressure counts the group's attachments only.
	 */
	bool pasid_frees_untraced;
	void (*on_finding)(const struct finding *f, void *ctx);
	/* optional: a finding retracted by what came later (a leak's bond was unbound) */
	void (*on_resolved)(const struct resolution *r, void *ctx);
	/* optional: a bond's final release, just before it is forgotten */
	void (*on_bond_end)(const struct bond *b, uint64_t ts_ns, void *ctx);
	void *ctx;
};

struct correlator_stats {
	uint64_t events;
	uint64_t live_bonds;
	uint64_t ended_bonds;
	uint64_t unknown_origin_bonds;
	uint64_t start_bonds; /* bonds read from the kernel's state (correlator_seed_attachment) */
	uint64_t start_attachments;
	uint64_t live_attachments;
	uint64_t global_pasids; /* PASIDs out of the global allocator, as far as the trace knows */
	uint64_t lost; /* records lost, as told by correlator_lost() (the session's accounting) */
	uint64_t inferred_unbinds; /* bonds their mm's mm_pasid_drop ended: no unbind seen */
	uint64_t unresolved_bonds; /* would be leaks, but their unbind may be among lost records */
	uint64_t resolved; /* findings retracted (leaks whose bond was unbound later) */
	uint64_t reused_handles; /* a bind returned a live handle's address as a new object */
	uint64_t domain_ledgers; /* 6.2-6.7 shared-domain counts followed now (live domains) */
	uint64_t findings[FINDING__MAX];
};

struct correlator *correlator_new(const struct correlator_opts *opts);
void correlator_free(struct correlator *c);

/*
 * Sets opts.mm_exit_traced after creation, before the first record: live, once the probes
 * are attached; in a replay, from the capture's start record.
 */
void correlator_set_mm_exit_traced(struct correlator *c, bool on);

/*
 * Whether a probe reports the global PASID allocator's frees (opts.pasid_frees_untraced),
 * set like mm_exit_traced: live from the attached probes, in a replay from the start record.
 */
void correlator_set_pasid_frees_traced(struct correlator *c, bool on);

/* Feed one record. Records should come in sequence order. */
void correlator_event(struct correlator *c, const struct sva_event *ev);

/*
 * The way records reach the correlator in the tool (session.c, live and replayed) and in
 * its benchmarks: through a short lookahead, so that what a record's correlation reads is
 * loading while the records before it are correlated (issue 18: at a million live bonds
 * each record's index slots, then its bond and mm state, then the bond's history and list
 * neighbours, are cache misses that depend on each other). A record is handed out once
 * CORRELATOR_AHEAD more have come; meanwhile it is prefetched in stages: its index slots
 * when it comes, the objects they point to CORRELATOR_AHEAD_OBJECTS records before its
 * turn, what its bond points to CORRELATOR_AHEAD_LINKS before. Prefetches are hints: the
 * caller correlates the records one at a time, in the order fed. Below 65,536 live bonds
 * (everything cached) a record goes straight through.
 */
#define CORRELATOR_AHEAD 8
#define CORRELATOR_AHEAD_OBJECTS 4
#define CORRELATOR_AHEAD_LINKS 2
#define CORRELATOR_FEED_RING 16 /* a power of two above CORRELATOR_AHEAD */

struct correlator_feed {
	struct correlator *corr;
	/*
	 * Records that go straight through before the bond count is looked at again (it
	 * costs a call): the reader's instructions at 10 k live bonds (issue 18, 2,000)
	 */
	uint32_t straight;
	uint32_t head, len;
	struct sva_event ring[CORRELATOR_FEED_RING]; /* from head on, len of them, oldest first */
};

void correlator_feed_init(struct correlator_feed *f, struct correlator *c);
const struct sva_event *correlator_feed_slow(struct correlator_feed *f,
					     const struct sva_event *ev);

/*
 * Takes ev (records in sequence order) and returns the record whose turn it is: ev itself,
 * one fed earlier, or NULL while the lookahead fills. The caller writes that record's line
 * (if it writes lines), then gives it to correlator_event(). Valid until the next call.
 */
static inline const struct sva_event *correlator_feed(struct correlator_feed *f,
						      const struct sva_event *ev)
{
	if (__builtin_expect(f->straight != 0, 1)) { /* (only while nothing is held) */
		f->straight--;
		return ev;
	}
	return correlator_feed_slow(f, ev);
}
/*
 * The oldest record still held (its turn now, as above), or NULL when none is: the caller
 * takes them all before anything else reaches the correlator or its front end (a loss, a
 * tick, a state read, the end), which then see what they saw without the lookahead.
 */
const struct sva_event *correlator_feed_next(struct correlator_feed *f);

/*
 * Records were lost here, n of them not told before (n may be 0: the kernel's counter can
 * count records lost at a later gap before that gap is reached): live state becomes uncertain.
 */
void correlator_lost(struct correlator *c, uint64_t n, uint64_t ts_ns);
/*
 * Time passes (CLOCK_MONOTONIC ns): leak deadlines are checked, and EBUSYs that waited a
 * second for their holder's record are told without it.
 */
void correlator_tick(struct correlator *c, uint64_t now_ns);
/*
 * No record comes after this one (a replay's end): what waits for a later record (an EBUSY's
 * holder) is told now. correlator_finish does it too.
 */
void correlator_end_of_records(struct correlator *c);
/* End of tracing at now_ns: last leak check. */
void correlator_finish(struct correlator *c, uint64_t now_ns);

/* The live bond with this handle, or NULL. */
const struct bond *correlator_find_bond(const struct correlator *c, uint64_t handle);
/* The attachment (attached, or kept detached) at group and PASID, or NULL. */
const struct attachment *correlator_find_attachment(const struct correlator *c, int32_t group,
						    uint32_t pasid);

void correlator_get_stats(const struct correlator *c, struct correlator_stats *st);
/* Iterate live bonds / attachments (order: by creation). */
void correlator_for_each_bond(const struct correlator *c,
			      void (*fn)(const struct bond *b, void *ctx), void *ctx);
void correlator_for_each_attachment(const struct correlator *c,
				    void (*fn)(const struct attachment *a, void *ctx), void *ctx);

/*
 * PASID use of one iommu group (its devices share its PASID array), for gauges. A PASID is
 * in use when it is attached in the group or, within 1 to max_pasids - 1, held from the
 * kernel's one global PASID allocator by anyone (iommu_alloc_global_pasid: every mm that
 * bound any device keeps its PASID until mm_pasid_drop; drivers such as idxd take their own):
 * a new bind on this group's device cannot get it either.
 */
struct pasid_pressure {
	int32_t group_id;
	uint32_t max_pasids; /* the smallest of its devices', 0 unknown */
	uint32_t in_use; /* attached + held_elsewhere */
	uint32_t attached; /* PASIDs attached in the group now */
	uint32_t held_elsewhere; /* global PASIDs in 1..usable not attached in the group */
	char dev_name[SVA_DEV_NAME_LEN]; /* the device that reported max_pasids */
};

/*
 * The PASIDs an attach or an SVA bind can use in such a group: 1 to max_pasids - 1. PASID 0
 * is the device's own (IOMMU_NO_PASID, the RID): iommu_attach_device_pasid refuses it and the
 * SVA allocators start at 1 (IOMMU_FIRST_GLOBAL_PASID; ioasid/iommu_sva_alloc_pasid min 1 on
 * 6.1-6.5). A device with max_pasids 4 is full with 3 attached. 0: unknown or none.
 */
static inline uint32_t pasid_pressure_usable(const struct pasid_pressure *p)
{
	return p->max_pasids > 1 ? p->max_pasids - 1 : 0;
}

/*
 * Each group whose max_pasids or PASID use is known, in group order. For metrics and
 * sva-top's header (metrics.c can build its pressure gauge from it).
 */
void correlator_for_each_pasid_pressure(const struct correlator *c,
					void (*fn)(const struct pasid_pressure *p, void *ctx),
					void *ctx);

/*
 * Seeding from the kernel's state (state.h reads it, bpf/sva_state.bpf.c): what was bound
 * before tracing began. Call before the first record: correlator_seed_begin, then each
 * attachment and each owner, then correlator_seed_end.
 */
struct correlator_seed {
	uint64_t handle; /* 0: a domain attached without a handle */
	uint64_t domain;
	uint32_t domain_type;
	uint64_t mm; /* an SVA domain's mm */
	int32_t group_id;
	uint32_t pasid;
	int32_t users; /* the handle's users, -1 unknown */
	uint32_t max_pasids; /* the device's, 0 unknown */
	char dev_name[SVA_DEV_NAME_LEN];
	uint64_t since_ns; /* age: the mm's first process's start when known, else now */
	uint32_t owner_pid; /* a process using the mm, 0 none */
	char owner_comm[SVA_COMM_LEN];
};

/*
 * snapshot_seq: the BPF sequence counter after the state was read. Records below it came
 * before the read ended, so what they did is in the state already: they are not counted
 * again on a bond or attachment the state has.
 */
void correlator_seed_begin(struct correlator *c, uint64_t snapshot_seq);
/* One entry of a group's PASID array: an attachment, and a bond when it is an SVA handle. */
void correlator_seed_attachment(struct correlator *c, const struct correlator_seed *s);
/*
 * A process using mm: an owner of mm's bonds. exit_recorded: its mm's exit_mmap will be
 * recorded (the loader put it in the BPF map of SVA mms).
 */
void correlator_seed_owner(struct correlator *c, uint64_t mm, uint32_t tgid, const char *comm,
			   bool exit_recorded);
/*
 * A process's mm has this PASID (its task record): on 6.1 an unbind names the PASID of the
 * driver's bond but not its mm (Intel VT-d), and a bond first seen there is judged by the
 * mm this gives.
 */
void correlator_seed_task_pasid(struct correlator *c, uint64_t mm, uint32_t pasid);
/*
 * A PASID the kernel's global allocator has handed out, read from the state (a process's
 * mm->iommu_mm->pasid, or an SVA domain's attachment): counted for pasid-pressure until a
 * pasid_free or mm_pasid_drop record frees it. Call after the attachments.
 */
void correlator_seed_global_pasid(struct correlator *c, uint32_t pasid);
/* A group read from the state, attached or not: its device's max_pasids (pasid-pressure). */
void correlator_seed_group(struct correlator *c, int32_t group_id, const char *dev_name,
			   uint32_t max_pasids);
/*
 * End of the state at now_ns. A bond whose mm no process uses (leaked before tracing began)
 * stays outstanding without a leak finding: only owners seen to exit make leaks.
 */
void correlator_seed_end(struct correlator *c, uint64_t now_ns);
/*
 * The state read every group's whole PASID array (not partial, groups reachable, 6.2+): a
 * domain attached before tracing is in it. 6.11 - 6.14 keep a domain attached without a
 * handle (idxd's) as a reserved entry, which no walk sees.
 */
void correlator_seed_pasid_arrays_read(struct correlator *c);

/* Re-sync (SIGUSR2, sva-top's key): how the kernel's state differs from the model. */
enum resync_kind {
	RESYNC_UNTRACED_BOND, /* the kernel has a bond the trace never saw bound: adopted */
	RESYNC_GONE_BOND, /* the trace has a bond the kernel no longer has: its unbind was lost */
	RESYNC_USERS, /* both have the bond, with different users counts: the kernel's is taken */
	RESYNC_UNTRACED_ATTACHMENT, /* a PASID attachment the trace never saw: adopted */
	RESYNC_GONE_ATTACHMENT, /* an attachment the kernel no longer has: its detach was lost */
	/*
	 * A global PASID the trace holds (allocated before a loss) that no process and no
	 * attachment of the kernel's state holds: its free was lost; no longer counted.
	 */
	RESYNC_GONE_PASID,
	RESYNC__MAX,
};

struct resync_diff {
	enum resync_kind kind;
	struct finding_subject subject;
	uint32_t domain_type;
	int64_t trace_users, kernel_users; /* RESYNC_USERS */
};

const char *resync_kind_name(enum resync_kind kind);

/*
 * Compares the model with the kernel's attachments kern[0..n) (a fresh state read; SVA ones
 * with a handle are bonds), calls fn for each difference and corrects the model: bonds and
 * attachments the kernel has are adopted (as at start-up), those it does not have are ended,
 * a users count is taken from the kernel. Objects made by records numbered seq or later
 * (after the read began) are not compared. Returns the number of differences.
 */
size_t correlator_resync(struct correlator *c, const struct correlator_seed *kern, size_t n,
			 uint64_t seq, uint64_t now_ns,
			 void (*fn)(const struct resync_diff *d, void *ctx), void *ctx);

/*
 * Re-sync of the global PASIDs (pasid-pressure), after correlator_resync: held[0..nh) are the
 * PASIDs the state shows out of the global allocator (each process's mm PASID, each SVA
 * attachment's), other[0..no) those attached with other domains (a driver's own PASID looks
 * like an iommufd one there). held ones are counted, and sure again; a PASID the trace holds
 * only from before a loss that is in neither is gone (its free was lost). Returns the number
 * of differences.
 */
size_t correlator_resync_global_pasids(struct correlator *c, const uint32_t *held, size_t nh,
				       const uint32_t *other, size_t no,
				       void (*fn)(const struct resync_diff *d, void *ctx),
				       void *ctx);

const char *finding_kind_name(enum finding_kind kind);
/* -1 when unknown */
int finding_kind_from_name(const char *name);
const char *finding_severity_name(enum finding_severity sev);

/* Parses "leak,refcount" or "all" into a bit mask of kinds; -EINVAL on error (err set). */
int finding_kinds_parse(const char *list, unsigned int *mask, char *err, size_t errlen);

/* The kernel's meaning of a failed bind's errno, one sentence. */
const char *bind_errno_explanation(int64_t err);

#endif
