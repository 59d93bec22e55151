// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "correlate.h"
#include "decode.h"
#include "objmap.h"
#include "pidmap.h"
#include "slab.h"
#include "u64map.h"

#define RECENT_CAP 4096 /* ended bonds / detached PASIDs remembered */
#define RECENT_FIRST 64 /* ... allocated at first; the ring grows to RECENT_CAP as it fills */

/*
 * A bounded memory of things that ended, for "after free" checks. recent_put fills the fields
 * up to dev_name; the rest are each ring's own, filled by the one caller that puts them.
 */
struct recent_entry {
	uint64_t key;
	uint64_t seq; /* the event that ended it */
	uint64_t lost_epoch; /* c->lost_epoch at that time */
	uint32_t owner_pid;
	uint32_t pasid;
	int32_t group_id;
	char owner_comm[SVA_COMM_LEN];
	char dev_name[SVA_DEV_NAME_LEN];
	/* ended bonds and domains: the count's ledger, for a bind that continues it */
	struct ledger ledger;
	bool has_ledger;
	bool hidden_refs; /* ended bonds: struct bond's: one may still be held (on_unbind) */
	uint64_t mm; /* ended bonds: the bond's mm (0: not known) */
	/*
	 * detached: the attachment's domain and attach record (UINT64_MAX: attached before
	 * tracing), and the time of the detach record that ended it (0: ended otherwise)
	 */
	uint64_t domain;
	uint64_t since_seq;
	uint64_t detach_ns;
	uint32_t domain_type;
	bool busy_told; /* an EBUSY was explained by this detached holder already */
};

/*
 * Grown, not allocated whole: 2 x 4096 entries are 2 MB that most runs never fill, and the
 * unit tests make a correlator per interleaving (about 60,000): under ASan each 2 MB
 * allocation was mapped, its shadow written and unmapped again, 36 of the 40 s that
 * test_correlate took.
 */
struct recent {
	struct u64map index; /* key -> slot + 1 */
	struct recent_entry *slots; /* a ring of cap entries, cap <= RECENT_CAP */
	uint32_t cap;
	uint32_t next; /* ring position */
	uint32_t used;
};

/*
 * Someone who bound or unbound a bond of an mm: while one lives, the bond has an owner.
 * (No comm: none was ever read; what a finding names is the exit's, in struct mm_gone.)
 */
struct mm_owner {
	uint32_t tgid;
	bool dead;
};

/* Who was seen to leave an mm: only mms whose owners exited have one (issue 18). */
struct mm_gone {
	char gone_comm[SVA_COMM_LEN];
	char owners_gone_comm[SVA_COMM_LEN];
};

/*
 * The bonds of one mm and the processes seen using them. A bond belongs to its mm, not to
 * whoever bound it first: it is judged a leak only once no task using the mm is left.
 * 64 bytes, one cache line (issue 18: one per live bond when each process has its own mm):
 * the owners' capacity follows from nr_owners, and whether exit_mmap was seen from the mms
 * index (mm_exited).
 */
struct mm_state {
	uint64_t key; /* the mm, or MM_KEY_NONE | tgid for a bond whose mm is unknown */
	struct bond *bonds;
	/*
	 * Most mms have one owner: it is kept here (no allocation, issue 18); from the second
	 * on, all are in an array of the power of two at or above nr_owners (mm_owners()).
	 */
	union {
		struct mm_owner first_owner; /* nr_owners <= 1 */
		struct mm_owner *owners; /* nr_owners >= 2 */
	};
	uint64_t gone_ns; /* when the last task using it was seen to go; 0 while in use */
	/* every owner exited (waiting for exit_mmap): the last one's exit, for a fallback */
	uint64_t owners_gone_ns;
	/* the comms of gone_tgid and owners_gone_tgid, allocated with the first; NULL: none */
	struct mm_gone *names;
	uint32_t nr_owners, live_owners;
	uint32_t gone_tgid; /* the exit that made it gone; 0: exit_mmap */
	uint32_t owners_gone_tgid;
};

_Static_assert(sizeof(struct mm_state) == 64, "an mm state is one cache line");

#define MM_KEY_NONE (1ull << 63)

/*
 * The mms whose exit_mmap the trace can expect, as bpf/sva_trace.bpf.c's sva_mms map has
 * them: an mm enters that map at a recorded successful bind (unless the map was full: the
 * bind then says mm_untracked) and leaves it at its exit_mmap. A loss may hide either, so
 * it empties this mirror; bounded like the map, beyond which mms fall back too.
 */
#define EXIT_MMS_MAX 65536

/*
 * mms whose mm_exit came while the trace knew no bond of theirs: a bond bound before tracing
 * (6.1's state has none; a capture without a state) may still be bound then, and is first seen
 * at a later unbind (a release runs after exit_mm: kernel/exit.c do_exit, 6.1-7.2). Its mm is
 * gone since that mm_exit. The last GONE_MMS of them, in a ring indexed by mm.
 */
#define GONE_MMS 1024

/*
 * The processes whose exit was recorded last: a release they run after it (do_exit's
 * exit_files and exit_task_work come after trace_sched_process_exit) may unbind a descriptor
 * they were given, of another mm. That unbind makes no owner.
 */
#define EXITED_RECENT 64

struct gone_mm {
	uint64_t mm;
	uint64_t ts_ns; /* its mm_exit */
};

/*
 * The mms a process owns bonds of, so that its exit visits only those. Most processes own
 * bonds of one mm: the procs map then holds that mm_state's address with PROC_ONE_MM set,
 * and a proc_state is allocated only for a second mm (issue 18: memory per live bond).
 */
#define PROC_ONE_MM 1u

struct proc_state {
	uint32_t nr, cap;
	struct mm_state **mms;
};

/*
 * The count of a 6.2-6.7 SVA domain, which users reads there. It lives as long as a bond
 * on that domain does: the kernel frees the domain with its last bond (iommu_sva_unbind_device,
 * 6.5: --domain->users == 0 -> iommu_domain_free), and an address used again is a new domain.
 */
struct domain_count {
	struct ledger ledger;
	struct finding_subject subject; /* the bond of its last record */
	uint64_t mm; /* the domain's: of the record that made this count, 0 unknown */
	uint8_t uncertain; /* enum finding_doubt, as a bond's */
	uint32_t live_bonds; /* bonds (handles) of this domain the trace has live */
};

/* Leak deadlines, in order: owner exits arrive in time order. */
struct leak_check {
	uint64_t handle;
	uint64_t created_seq; /* the bond incarnation it is about */
	uint64_t deadline_ns;
};

/* PASID use per group (pasid-pressure). */
struct group_use {
	struct pasid_pressure p;
	uint32_t global_in_range; /* global PASIDs in 1..usable */
	uint32_t overlap; /* of those, attached in the group */
	bool reported; /* at or above the threshold since the last finding */
};

/*
 * The global PASID set: PASIDs are 20 bits (PCIe; SMMUv3 ssid_bits at most 20), so two
 * bitmaps of at most 2^20 bits, 256 KiB whatever the number of bonds, grown to the highest
 * PASID seen (the IDA hands out the lowest free one: small while few are out). A PASID
 * above 2^20 is not counted (a count too low: no false warning).
 */
#define GP_PASIDS (1u << 20)
#define NO_SEQ UINT64_MAX

#define NAME_CACHE 16

/*
 * A record that waits for a later one of the same thread (the free of an mm_pasid_drop, the
 * bind of an EBUSY look-up): the calls in flight at once, one per CPU at most, but any number
 * of other CPUs' records may come between a thread's two. A thread's set is its tid's low
 * bits (every other record of the thread looks its set up: two loads, where a scan of the
 * entries cost about 80 instructions a record once a few were left, e.g. by 6.1 - 6.5's
 * mm_pasid_drop, whose free has no record of its own). Threads whose tids are equal mod
 * PENDING_SETS wait in one set, and so do CPUs' idle tasks (all tid 0, each dropping a lazy
 * mm): two ways keep two waits apart, and a third pushes the older out to a third place,
 * looked at only when the two miss. A fourth pushes that one out of the waits to the set's
 * lost place: the lost wait's own thread's record of its PASID may then be its partner or
 * not (unsure, not a certain answer either way), and the thread's next other record ends it
 * as it ends a wait; other threads' records are judged as before. A second loss in the set
 * while one is there forgets a lost wait: the set is unsure for any record that finds no
 * wait from then on (blind).
 */
#define PENDING_SETS 64 /* a power of two */
#define PENDING_WAYS 2
#define PENDING_PUSHED PENDING_WAYS /* a set's place for the wait pushed out of its ways */
#define PENDING_LOST (PENDING_WAYS + 1) /* ... and for the one pushed out of that */

struct pending_entry {
	uint32_t key; /* tid + 1; 0: empty (tid 0 is the idle task, which may drop an mm) */
	uint32_t pasid;
};

struct pending {
	/*
	 * [0]: the later wait, [1]: the one before, [PENDING_PUSHED]: the last pushed out of
	 * the two, [PENDING_LOST]: the last pushed out of that; side by side (32 bytes, two
	 * sets a cache line), so that a record of a thread that waits for nothing (every
	 * record while waits are left) looks at one set only
	 */
	struct pending_entry e[PENDING_SETS][PENDING_LOST + 1];
	uint64_t blind; /* sets that lost a wait while their lost place was taken */
	uint32_t n; /* entries in e, lost ones included */
};

/* What a record's thread waited for (pending_take). */
enum pending_match {
	PENDING_NONE,
	PENDING_FOUND,
	PENDING_UNSURE, /* none found, but its set lost a wait: it may be that one's partner */
};

/*
 * Prefetches (correlator_feed) pay once the live bonds, their mm states and indexes outgrow
 * the caches (tens of megabytes); below that they are only instructions, which the live
 * reader counts (issue 18: at most 2,000 a record at 10 k live bonds).
 */
#define PREFETCH_MIN_BONDS 65536

/* History buffers of 1, 2, 4 ... BOND_HISTORY_MAX steps: one slab each. */
#define STEP_CLASSES 6
_Static_assert(1u << (STEP_CLASSES - 1) == BOND_HISTORY_MAX, "a class per doubling");

struct correlator {
	struct correlator_opts opts;
	struct u64map groups; /* group id -> struct group_use * */
	/*
	 * PASIDs out of the kernel's global allocator (iommu_global_pasid_ida, 6.6+; the
	 * ioasid/IDA of iommu_sva_alloc_pasid before) as the records and the state show them
	 * (gp_held), and those of them allocated or read since the last loss (gp_sure: the
	 * others' free may have been lost). Allocated at the first global PASID. gp_freed:
	 * those whose free was recorded since the last loss and no allocation since, which a
	 * re-sync's state, read while they were freed, may still show (correlator_resync_*).
	 */
	uint64_t *gp_held, *gp_sure, *gp_freed;
	uint32_t gp_words; /* of each */
	uint32_t gp_count;
	uint32_t gp_last_pasid; /* the last allocation seen, and its record */
	uint64_t gp_last_seq;
	uint64_t seed_seq; /* correlator_seed_begin */
	/*
	 * Bonds, mm states and histories come from slabs (issue 18: a million live bonds):
	 * no malloc header per object, a freed one is the next one allocated.
	 */
	struct slab bond_slab, mm_slab, step_slab[STEP_CLASSES];
	struct slab name_slab;
	struct objmap names; /* hash of the 32 bytes -> struct name_entry */
	struct name_entry *name_cache[NAME_CACHE]; /* by hash, before the index */
	struct objmap bonds; /* handle -> struct bond (its first field) */
	struct bond *live_head, *live_tail;
	struct u64map attachments; /* attach_key -> struct attachment * */
	/*
	 * pasid -> attached count of domains a global PASID may be attached with: all but
	 * iommufd's paging and nested ones, at PASIDs the VMM chose (global_pasid_domain)
	 */
	struct u64map pasid_users;
	struct u64map pasid_sva_users; /* pasid -> attached count of SVA domains */
	struct objmap mms; /* key -> struct mm_state (its first field) */
	struct pidmap procs; /* tgid -> struct proc_state *, or struct mm_state * | PROC_ONE_MM */
	struct u64map domains; /* 6.2-6.7 domain -> struct domain_count * */
	struct u64map exit_mms; /* mm -> 1: an mm_exit record will come (mm_exit_traced) */
	/*
	 * PASID -> mm, from the state's task records: a 6.1 unbind names the PASID of the
	 * driver's bond but not always its mm (Intel VT-d, on_unbind)
	 */
	struct u64map state_pasid_mms;
	struct u64map gone_mms_index; /* mm -> its slot in gone_mms + 1 */
	struct gone_mm *gone_mms; /* GONE_MMS, allocated at the first */
	uint32_t gone_mms_next;
	uint32_t exited[EXITED_RECENT]; /* tgids, a ring */
	/*
	 * mm -> struct mm_state *: mms whose mm_exit came (out of the mms index) with bonds
	 * uncertain, for their mm_pasid_drop (end_lost_bonds_of_mm); kept only after a loss
	 */
	struct u64map exited_states;
	uint32_t exited_next;
	/*
	 * A record said kthread or exiting: the BPF side sets both (bpf remember_task), so an
	 * unbind without exiting comes from a live process (mm_add_owner)
	 */
	bool task_flags_seen;
	/*
	 * mm_pasid_drop records whose iommu_free_global_pasid has not come yet: it is the next
	 * record of the same thread (other CPUs' records may come in between, in seq order).
	 */
	struct pending drops;
	struct recent ended_bonds;
	struct recent ended_domains; /* 6.2-6.7 domains whose last traced bond ended: ledgers */
	struct recent detached;
	struct leak_check *leaks;
	size_t leaks_head, leaks_len, leaks_cap;
	uint64_t lost_epoch;
	uint64_t last_ts;
	/*
	 * EBUSY look-ups and attaches already explained, per thread: the bind they fail comes
	 * later on that thread (explain_busy_bind says nothing more).
	 */
	struct pending busy;
	/* attaches refused for a group reset (7.x), per thread: the bind they fail says so */
	struct pending reset_busy;
	/* the start-up state had every PASID array: what was attached before tracing */
	bool pasid_arrays_read;
	/* EBUSYs waiting for their holder's record (busy_unknown_holder), oldest first */
	struct busy_wait *busy_waits;
	uint32_t nbusy_waits;
	struct correlator_stats st;
};

static const char *const kind_names[FINDING__MAX] = {
	[FINDING_LEAK] = "leak",
	[FINDING_REFCOUNT] = "refcount",
	[FINDING_TYPE_MISMATCH] = "type-mismatch",
	[FINDING_CROSS_MM] = "cross-mm",
	[FINDING_PASID_STATE] = "pasid-state",
	[FINDING_BIND_ERROR] = "bind-error",
	[FINDING_PASID_PRESSURE] = "pasid-pressure",
};

const char *finding_kind_name(enum finding_kind kind)
{
	return (unsigned int)kind < FINDING__MAX ? kind_names[kind] : "?";
}

int finding_kind_from_name(const char *name)
{
	for (int k = 0; k < FINDING__MAX; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

const char *finding_severity_name(enum finding_severity sev)
{
	switch (sev) {
	case SEV_INFO: return "info";
	case SEV_WARNING: return "warning";
	case SEV_ERROR: return "error";
	case SEV_CRITICAL: return "critical";
	}
	return "?";
}

int finding_kinds_parse(const char *list, unsigned int *mask, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	*mask = 0;
	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "expected a comma-separated list of finding kinds, or 'all'");
		return -EINVAL;
	}
	if (!strcmp(list, "all")) {
		*mask = (1u << FINDING__MAX) - 1;
		return 0;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = finding_kind_from_name(tok);

		if (k < 0) {
			snprintf(err, errlen,
				 "unknown finding kind '%s' (known: leak, refcount, type-mismatch, "
				 "cross-mm, pasid-state, bind-error, pasid-pressure, or all)", tok);
			return -EINVAL;
		}
		*mask |= 1u << k;
	}
	if (!*mask) {
		snprintf(err, errlen, "expected at least one finding kind");
		return -EINVAL;
	}
	return 0;
}

const char *bind_errno_explanation(int64_t err)
{
	if (err < -4095 || err > 0)
		return "not an errno: the kernel returned an invalid error pointer";
	switch (-err) {
	case ENODEV:
		return "the device has no IOMMU group, or this kernel cannot do SVA for it "
		       "(CONFIG_IOMMU_SVA off, or the IOMMU driver has SVA disabled)";
	case EOPNOTSUPP:
		/* 6.1/6.12 iommu.c, iommu-sva.c: the CONFIG_X86 disable returns it first */
		return "an x86 kernel with the stable backport \"iommu: disable SVA when "
		       "CONFIG_X86 is set\" (6.1.163+, 6.12.64+) refuses every bind, or the "
		       "IOMMU driver cannot make SVA domains for this device (no "
		       "domain_alloc_sva), or SVA was not enabled on it";
	case ENOSPC:
		return "no PASID could be allocated: the PASID space is exhausted, or the device "
		       "reports max_pasids 0";
	case EOVERFLOW:
		return "the process already has a PASID that is above this device's max_pasids "
		       "(it got it from a device with a larger PASID space)";
	case EBUSY:
		return "the process's PASID is held on this device by a domain of another type or "
		       "by another process's bond, or already attached in the device's group, the "
		       "device's group is being reset (7.x), or the mm uses x86 LAM tagged "
		       "addresses";
	case ENOMEM:
		return "the kernel ran out of memory (or, on 6.1 - 6.3, of PASIDs)";
	case EINVAL:
		/* 6.1 iommu.c: iommu_group_device_count != 1 */
		return "the kernel rejected the arguments (PASID range, device state; 6.1: the "
		       "device shares its IOMMU group with other devices)";
	default:
		return "see the IOMMU driver's bind path for this errno";
	}
}

/*
 * Where a failed bind failed, from its cause (kernel-side provenance): " in
 * iommu_alloc_global_pasid (IOMMU_PASID_INVALID, depth 1)" or " (check x86-sva-disabled in
 * iommu_sva_bind_device)"; "" without a cause (older captures, kernels without the probes).
 */
static const char *cause_where(const struct sva_event *ev, char *buf, size_t len)
{
	const char *fname = sva_cause_func_name(ev->cause_func);
	const char *check = sva_inline_check_name(ev->cause_check);
	char num[24];

	if (!sva_event_has_cause(ev))
		return "";
	if (ev->cause_flags & SVA_CAUSE_INLINE)
		snprintf(buf, len, " (%s%s in %s's own body)", check ? "check " : "an unnamed check",
			 check ? check : "", fname ? fname : "unknown");
	else if (ev->cause_err == ev->ret && !(ev->cause_flags & (SVA_CAUSE_NULL | SVA_CAUSE_NO_PASID)))
		snprintf(buf, len, " in %s (depth %u)", fname ? fname : "an unknown function",
			 ev->cause_depth);
	else /* it returned something else: a NULL, no PASID, another errno */
		snprintf(buf, len, " in %s (which returned %s, depth %u)",
			 fname ? fname : "an unknown function",
			 sva_cause_returned(ev, num, sizeof(num)), ev->cause_depth);
	return buf;
}

/* The cause's explanation when the kernel side recorded one, else the errno's. */
static const char *bind_explanation(const struct sva_event *ev)
{
	const char *why = sva_cause_explain(ev);

	return why ? why : bind_errno_explanation(ev->ret);
}

/* ---- small helpers ---- */

static uint64_t attach_key(int32_t group, uint32_t pasid)
{
	return ((uint64_t)(uint32_t)group << 32) | pasid;
}

/* The thread's records no longer wait. */
static inline void pending_forget(struct pending *p, uint32_t tid)
{
	uint32_t i = tid & (PENDING_SETS - 1), key = tid + 1;
	struct pending_entry *set = p->e[i];

	/* written out: GCC keeps a loop over the places (8 instructions more a record) */
	_Static_assert(PENDING_PUSHED == 2 && PENDING_LOST == 3, "two ways, pushed, lost");
	if (set[0].key == key) {
		set[0].key = 0;
		p->n--;
	}
	if (set[1].key == key) {
		set[1].key = 0;
		p->n--;
	}
	if (set[PENDING_PUSHED].key == key) {
		set[PENDING_PUSHED].key = 0;
		p->n--;
	}
	if (set[PENDING_LOST].key == key) {
		set[PENDING_LOST].key = 0;
		p->n--;
	}
}

static void pending_add(struct pending *p, uint32_t tid, uint32_t pasid)
{
	uint32_t i = tid & (PENDING_SETS - 1), key = tid + 1;
	struct pending_entry *set = p->e[i];

	_Static_assert(PENDING_WAYS == 2, "the later way first, the older pushed out");
	if ((set[0].key == key && set[0].pasid == pasid) ||
	    (set[1].key == key && set[1].pasid == pasid) ||
	    (set[PENDING_PUSHED].key == key && set[PENDING_PUSHED].pasid == pasid))
		return;
	if (!set[0].key) {
		p->n++;
	} else if (!set[1].key) {
		set[1] = set[0];
		p->n++;
	} else {
		/* a third wait in the set; a fourth loses one, a fifth forgets one */
		if (!set[PENDING_PUSHED].key || !set[PENDING_LOST].key)
			p->n++;
		else
			p->blind |= 1ull << i;
		if (set[PENDING_PUSHED].key)
			set[PENDING_LOST] = set[PENDING_PUSHED];
		set[PENDING_PUSHED] = set[1];
		set[1] = set[0];
	}
	set[0] = (struct pending_entry){ key, pasid };
}

/* The thread's record waited for this one (same PASID): it is consumed. */
static enum pending_match pending_take(struct pending *p, uint32_t tid, uint32_t pasid)
{
	uint32_t i = tid & (PENDING_SETS - 1), key = tid + 1;
	struct pending_entry *set = p->e[i];

	/* the ways first, then the pushed entry */
	for (int w = 0; w <= PENDING_PUSHED; w++) {
		if (set[w].key == key && set[w].pasid == pasid) {
			set[w].key = 0;
			p->n--;
			return PENDING_FOUND;
		}
	}
	/* the lost wait's own thread and PASID: this may be its partner; it waits no more */
	if (set[PENDING_LOST].key == key && set[PENDING_LOST].pasid == pasid) {
		set[PENDING_LOST].key = 0;
		p->n--;
		return PENDING_UNSURE;
	}
	return p->blind >> i & 1 ? PENDING_UNSURE : PENDING_NONE;
}

static void copy_name(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
}

/* Doubles the ring (RECENT_FIRST at first), up to RECENT_CAP; on failure it stays as it is. */
static void recent_grow(struct recent *r)
{
	uint32_t cap = !r->cap ? RECENT_FIRST : r->cap * 2 < RECENT_CAP ? r->cap * 2 : RECENT_CAP;
	struct recent_entry *slots = realloc(r->slots, cap * sizeof(*slots));

	if (!slots)
		return;
	r->slots = slots;
	r->cap = cap;
}

/* Nothing is allocated before the first entry: most fuzz inputs never end a bond. */
static int recent_init(struct recent *r)
{
	return u64map_init(&r->index, RECENT_FIRST * 2);
}

static void recent_free(struct recent *r)
{
	u64map_free(&r->index);
	free(r->slots);
	r->slots = NULL;
}

static struct recent_entry *recent_put(struct correlator *c, struct recent *r, uint64_t key,
				       uint64_t seq, uint32_t owner, const char *comm,
				       const char *dev, int32_t group, uint32_t pasid)
{
	struct recent_entry *e;
	uint64_t slot;

	if (u64map_get(&r->index, key, &slot)) {
		e = &r->slots[slot - 1];
	} else {
		/* Filled up to cap: grow (the ring has not wrapped yet), else wrap. */
		if (r->next == r->cap && r->cap < RECENT_CAP)
			recent_grow(r);
		if (!r->cap)
			return NULL; /* out of memory before the first entry */
		if (r->next == r->cap)
			r->next = 0; /* at RECENT_CAP, or out of memory: the oldest goes */
		e = &r->slots[r->next];
		if (r->used == r->cap)
			u64map_del(&r->index, e->key);
		else
			r->used++;
		u64map_put(&r->index, key, (uint64_t)r->next + 1);
		r->next++;
	}
	e->key = key;
	e->seq = seq;
	e->lost_epoch = c->lost_epoch;
	e->owner_pid = owner;
	e->group_id = group;
	e->pasid = pasid;
	copy_name(e->owner_comm, comm, SVA_COMM_LEN);
	copy_name(e->dev_name, dev, SVA_DEV_NAME_LEN);
	return e;
}

static struct recent_entry *recent_get(struct recent *r, uint64_t key)
{
	uint64_t slot;

	return u64map_get(&r->index, key, &slot) ? &r->slots[slot - 1] : NULL;
}

static void recent_del(struct recent *r, uint64_t key)
{
	uint64_t slot;

	/* The slot stays in the ring; the index no longer points at it. */
	if (u64map_get(&r->index, key, &slot)) {
		u64map_del(&r->index, key);
		r->slots[slot - 1].key = 0;
	}
}

/* "process 12 (comm)" into buf */
static const char *who(char *buf, size_t len, uint32_t pid, const char *comm)
{
	char name[4 * SVA_COMM_LEN + 1];

	if (!pid) {
		snprintf(buf, len, "an unknown process");
		return buf;
	}
	sva_text_escape(name, sizeof(name), comm, SVA_COMM_LEN);
	snprintf(buf, len, "process %u (%s)", pid, name);
	return buf;
}

static const char *type_name(uint32_t type, char *buf, size_t len)
{
	const char *n = sva_domain_type_name(type);

	if (n)
		return n;
	if (type == (uint32_t)-1)
		return "unknown";
	snprintf(buf, len, "type %#x", type);
	return buf;
}

/* The device for a message: escaped (kernel names are bytes), bounded, never empty. */
static const char *dev_label(const char *dev, char *buf, size_t len)
{
	if (!dev[0])
		return "the device";
	sva_text_escape(buf, len, dev, SVA_DEV_NAME_LEN);
	return buf;
}

static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

/* ---- findings: every one is built here ---- */

static struct finding_subject subject_of_bond(const struct bond *b)
{
	struct finding_subject s = {
		.handle = b->handle, .domain = b->domain, .mm = b->mm, .group_id = b->group_id,
		.pasid = b->pasid, .owner_pid = b->owner_pid,
	};

	copy_name(s.owner_comm, b->owner_comm, SVA_COMM_LEN);
	copy_name(s.dev_name, b->dev_name, SVA_DEV_NAME_LEN);
	return s;
}

static struct finding_subject subject_of_attachment(const struct attachment *a)
{
	struct finding_subject s = {
		.handle = a->handle, .domain = a->domain, .mm = a->mm, .group_id = a->group_id,
		.pasid = a->pasid, .owner_pid = a->owner_pid,
	};

	copy_name(s.owner_comm, a->owner_comm, SVA_COMM_LEN);
	copy_name(s.dev_name, a->dev_name, SVA_DEV_NAME_LEN);
	return s;
}

static struct finding_subject subject_of_event(const struct sva_event *ev)
{
	struct finding_subject s = {
		.handle = ev->handle, .domain = ev->domain, .mm = ev->mm, .group_id = ev->group_id,
		.pasid = ev->pasid, .owner_pid = ev->tgid,
	};

	copy_name(s.owner_comm, ev->comm, SVA_COMM_LEN);
	copy_name(s.dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
	return s;
}

static void add_evidence(uint64_t *list, int *n, uint64_t seq)
{
	for (int i = 0; i < *n; i++)
		if (list[i] == seq)
			return;
	if (*n < FINDING_MAX_EVIDENCE)
		list[(*n)++] = seq;
	else
		list[FINDING_MAX_EVIDENCE - 1] = seq; /* keep the latest */
}

/*
 * The one place a finding is made: kind, severity, when, about what, how sure, which
 * records prove it (sequence numbers, duplicates dropped, at most FINDING_MAX_EVIDENCE) and
 * the message, which says what the trace shows.
 */
static void finding_emit(struct correlator *c, enum finding_kind kind, enum finding_severity sev,
			 uint64_t ts_ns, const struct finding_subject *subject,
			 enum finding_doubt doubt, const uint64_t *evidence, int nr_evidence,
			 const char *fmt, ...) __attribute__((format(printf, 9, 10)));

static void finding_vemit(struct correlator *c, enum finding_kind kind,
			  enum finding_severity sev, uint64_t ts_ns,
			  const struct finding_subject *subject, enum finding_doubt doubt,
			  const uint64_t *evidence, int nr_evidence,
			  const struct finding_pressure *pressure, const char *fmt, va_list ap)
{
	struct finding f;

	_Static_assert(DOUBT_NONE == false && DOUBT_LOST == true, "bool converts to a doubt");
	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.severity = sev;
	f.uncertain = doubt != DOUBT_NONE;
	f.doubt = doubt;
	f.ts_ns = ts_ns;
	f.subject = *subject;
	for (int i = 0; i < nr_evidence; i++)
		add_evidence(f.evidence, &f.nr_evidence, evidence[i]);
	if (pressure) {
		f.has_pressure = true;
		f.pressure = *pressure;
	}
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	c->st.findings[kind]++;
	if (c->opts.on_finding)
		c->opts.on_finding(&f, c->opts.ctx);
}

/* Why a finding may be false: records were lost, else a thread's wait was (struct pending). */
static inline enum finding_doubt doubt_of(bool lost, bool crowded)
{
	return lost ? DOUBT_LOST : crowded ? DOUBT_CROWDED : DOUBT_NONE;
}

/* (doubt: a bool "records were lost" converts to DOUBT_NONE / DOUBT_LOST.) */
static void finding_emit(struct correlator *c, enum finding_kind kind, enum finding_severity sev,
			 uint64_t ts_ns, const struct finding_subject *subject,
			 enum finding_doubt doubt, const uint64_t *evidence, int nr_evidence,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finding_vemit(c, kind, sev, ts_ns, subject, doubt, evidence, nr_evidence, NULL, fmt, ap);
	va_end(ap);
}

/* A pasid-pressure warning, with its counts. */
static void finding_emit_pressure(struct correlator *c, const struct finding_pressure *p,
				  uint64_t ts_ns, const struct finding_subject *subject,
				  bool uncertain, const uint64_t *evidence, int nr_evidence,
				  const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static void finding_emit_pressure(struct correlator *c, const struct finding_pressure *p,
				  uint64_t ts_ns, const struct finding_subject *subject,
				  bool uncertain, const uint64_t *evidence, int nr_evidence,
				  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finding_vemit(c, FINDING_PASID_PRESSURE, SEV_WARNING, ts_ns, subject,
		      uncertain ? DOUBT_LOST : DOUBT_NONE, evidence, nr_evidence, p, fmt, ap);
	va_end(ap);
}

/* ---- bonds ---- */

_Static_assert(BOND_HISTORY_MAX <= 32, "a kept step's type is a bit of step_unbinds");

/* Where step i (in time order) is kept in b->steps. */
static uint32_t bond_step_slot(const struct bond *b, uint32_t i)
{
	uint32_t ring = BOND_HISTORY_MAX - BOND_HISTORY_HEAD;

	if (b->nr_steps <= BOND_HISTORY_MAX || i < BOND_HISTORY_HEAD)
		return i;
	/* steps after the head live in a ring; the oldest kept one is at nr_steps % ring */
	return BOND_HISTORY_HEAD +
	       (uint32_t)((b->nr_steps - BOND_HISTORY_HEAD + (i - BOND_HISTORY_HEAD)) % ring);
}

struct bond_step bond_step_at(const struct bond *b, uint32_t i)
{
	uint32_t slot = bond_step_slot(b, i);
	const struct bond_step_rec *r = &b->steps[slot];

	return (struct bond_step){
		.seq = r->seq,
		.ts_ns = r->ts_ns,
		.type = b->step_unbinds >> slot & 1 ? SVA_REC_UNBIND : SVA_REC_BIND,
		.users_after = r->users_after,
		.tgid = r->tgid,
	};
}

uint32_t bond_steps_kept(const struct bond *b)
{
	return b->nr_steps < BOND_HISTORY_MAX ? (uint32_t)b->nr_steps : BOND_HISTORY_MAX;
}

/*
 * The buffer b->steps has: the power of two at or above the steps kept (it grows when a
 * step comes to a full one, and a step it could not grow for is not counted).
 */
static uint32_t bond_steps_cap(const struct bond *b)
{
	uint32_t kept = bond_steps_kept(b);

	return kept <= 1 ? kept : 2u << (31 - __builtin_clz(kept - 1));
}

/* The slab of a history of cap steps (a power of two up to BOND_HISTORY_MAX). */
static struct slab *step_slab(struct correlator *c, uint32_t cap)
{
	return &c->step_slab[__builtin_ctz(cap)];
}

static void bond_add_step(struct correlator *c, struct bond *b, const struct sva_event *ev,
			  int32_t users_after)
{
	struct bond_step_rec *s;
	uint32_t ring = BOND_HISTORY_MAX - BOND_HISTORY_HEAD, cap = bond_steps_cap(b), slot;

	if (b->nr_steps < BOND_HISTORY_MAX && b->nr_steps == cap) {
		uint32_t ncap = cap ? cap * 2 : 1; /* most live bonds have one step */
		struct bond_step_rec *n;

		/* not zeroed: only steps below nr_steps are read, each written first */
		n = slab_alloc_raw(step_slab(c, ncap));
		if (!n)
			return; /* out of memory: the step is not kept, nor counted (every index
				 * below nr_steps must be in steps[0..cap)) */
		if (cap) {
			/*
			 * Step by step, not memcpy: GCC makes that a rep movsq here, whose start-up
			 * cost more than the copy (issue 18: a tenth of the time at 1 M bonds)
			 */
			for (uint32_t i = 0; i < cap; i++)
				n[i] = b->steps[i];
			slab_free(step_slab(c, cap), b->steps);
		}
		b->steps = n;
	}
	if (b->nr_steps < BOND_HISTORY_MAX)
		slot = (uint32_t)b->nr_steps;
	else
		slot = BOND_HISTORY_HEAD + (uint32_t)((b->nr_steps - BOND_HISTORY_HEAD) % ring);
	s = &b->steps[slot];
	s->seq = ev->seq;
	s->ts_ns = ev->ts_ns;
	s->users_after = users_after;
	s->tgid = ev->tgid;
	if (ev->type != SVA_REC_BIND) /* on_bind's and on_unbind's records only */
		b->step_unbinds |= 1u << slot;
	else
		b->step_unbinds &= ~(1u << slot);
	b->nr_steps++;
}

/* The first step's seq and the event's: what most bond findings cite. */
static int bond_evidence(const struct bond *b, const struct sva_event *ev, uint64_t *list)
{
	int n = 0;

	if (b->nr_steps)
		add_evidence(list, &n, bond_step_at(b, 0).seq);
	if (ev)
		add_evidence(list, &n, ev->seq);
	return n;
}

/* ---- the refcount ledger (docs/FINDINGS.md, "refcount") ---- */

/* Records seen: ops = binds + unbinds, for the ledger and for each thread (wrapping). */
static inline uint32_t ledger_ops(const struct ledger *l)
{
	return l->binds + l->unbinds;
}

static inline uint32_t ledger_thread_ops(const struct ledger_thread *t)
{
	return t->binds_at + t->unbinds_at;
}

static struct ledger_thread *ledger_thread(struct ledger *l, uint32_t tid)
{
	for (int i = 0; i < LEDGER_THREADS; i++)
		if (l->th[i].tid == tid)
			return &l->th[i];
	return NULL;
}

/*
 * What the kernel's count may have been when a record's reading was taken, given the
 * records seen. The reading of a bind is taken after its critical section, that of an
 * unbind before its own; the thread's earlier records are complete. Other threads may
 * meanwhile have:
 *  - bound, recorded after this thread's previous record, with the critical section after
 *    the reading (the count is lower than the records say: by at most those binds);
 *  - entered an unbind, recorded, whose critical section had not run (higher: at most one
 *    per thread whose last record is an unbind, plus the unbinds recorded after this
 *    thread's previous record);
 *  - bound before the reading and not yet recorded (higher: owed to records to come).
 * A reading below the range is certain now; one above it waits for the binds to come.
 */
struct ledger_range {
	int64_t recorded; /* what the records say the count was at the reading */
	int64_t lo, hi; /* what other threads can explain; lo_known false: none below */
	bool lo_known;
};

static struct ledger_range ledger_range(const struct ledger *l, uint32_t tid, bool is_bind)
{
	struct ledger_range r = { .recorded = l->recorded + (is_bind ? 1 : 0) };
	const struct ledger_thread *own = NULL;
	uint32_t pending = 0;

	for (int i = 0; i < LEDGER_THREADS; i++) {
		if (!l->th[i].tid)
			continue;
		if (l->th[i].tid == tid)
			own = &l->th[i];
		else if (l->unbind_last & (1u << i))
			pending++;
	}
	r.hi = r.recorded + pending;
	if (own) {
		r.lo_known = true;
		/*
		 * Readings above what was explained, recorded since, counted binds whose
		 * critical section may also come after this reading: still owed ones too.
		 */
		r.lo = r.recorded - (int64_t)(uint32_t)(l->binds - own->binds_at) -
		       (l->owed > 0 ? l->owed : 0);
		r.hi += (int64_t)(uint32_t)(l->unbinds - own->unbinds_at);
	} else {
		/* its first record here: every unbind so far may be in flight */
		r.hi += l->unbinds;
	}
	return r;
}

/*
 * A bind pays what an earlier reading owes if it may have run before that reading: a
 * thread whose last record here came before the reading, or whose first record this is.
 */
static bool ledger_pay(struct ledger *l, uint32_t tid)
{
	const struct ledger_thread *t = ledger_thread(l, tid);

	if (l->owed <= 0 || tid == l->owed_tid)
		return false;
	if (t && (uint32_t)(l->owed_ops - ledger_thread_ops(t)) >= 0x80000000u)
		return false;
	l->owed--;
	if (l->owed < l->owed_forgiven_n) {
		/* a reference of the first sight, or one from before tracing (first_paid) */
		l->owed_forgiven_n = l->owed;
		if (l->first_paid < UINT8_MAX)
			l->first_paid++;
	}
	return true;
}

static void ledger_apply(struct ledger *l, uint32_t tid, bool is_bind)
{
	struct ledger_thread *t = ledger_thread(l, tid);

	if (!t && !l->crowded) {
		t = ledger_thread(l, 0);
		if (t) {
			t->tid = tid;
		} else {
			/*
			 * Too many threads to follow: only what is certain is judged from here.
			 * A reading owed stays counted, and binds recorded later still pay it
			 * (its bind may be one of them), but it is no finding any more.
			 */
			l->crowded = true;
			l->owed_forgiven = true;
		}
	}
	l->recorded += is_bind ? 1 : -1;
	if (is_bind)
		l->binds++;
	else
		l->unbinds++;
	if (t) {
		uint8_t bit = (uint8_t)(1u << (t - l->th));

		l->unbind_last = is_bind ? l->unbind_last & ~bit : l->unbind_last | bit;
		t->binds_at = l->binds;
		t->unbinds_at = l->unbinds;
	}
}

/*
 * One record against a ledger: pay what earlier readings owe, judge this reading, apply.
 * Returns true and fills *r when the reading is below what any interleaving explains.
 */
static bool ledger_record(struct ledger *l, const struct sva_event *ev, bool is_bind,
			  int32_t users, struct ledger_range *r)
{
	bool low = false;
	int64_t excess = 0;

	/* A bind that pays was counted already, when the reading that needed it came. */
	if (is_bind && ledger_pay(l, ev->pid))
		l->recorded--;
	if (users >= 1 && !l->crowded) {
		*r = ledger_range(l, ev->pid, is_bind);
		if (r->lo_known && users < r->lo) {
			low = true;
		} else if (users > r->hi) {
			/*
			 * Binds the records have not shown yet (or made outside the traced
			 * functions): counted now, owed until binds recorded later explain them.
			 */
			excess = users - r->hi;
			/*
			 * As many as binds recorded since paid references of the first sight may
			 * be references from before tracing instead (CLONE_VM siblings that bound
			 * before tracing): forgiven as the first sight's were.
			 */
			if (l->first_paid) {
				uint8_t n = l->first_paid;

				if (excess < n)
					n = (uint8_t)excess;
				l->owed_forgiven_n += n;
				l->first_paid -= n;
			}
			l->owed_tid = ev->pid;
			l->owed_ops = ledger_ops(l);
			l->owed_users = users;
			l->owed_recorded = r->recorded;
			l->owed_seq = ev->seq;
		}
	}
	ledger_apply(l, ev->pid, is_bind);
	l->recorded += excess;
	l->owed += (int32_t)excess;
	return low;
}

/* A count first seen at users (the records show none of it): owed, forgiven if unpaid. */
static void ledger_first_sight(struct ledger *l, const struct sva_event *ev, int64_t users)
{
	l->recorded = users;
	l->owed = (int32_t)(users - 1);
	l->owed_forgiven_n = l->owed;
	l->owed_tid = ev->pid;
	l->owed_ops = ledger_ops(l);
	l->owed_users = (int32_t)users;
	l->owed_recorded = 1;
	l->owed_seq = ev->seq;
}

/* ---- mms and their owners ---- */

/*
 * The mms tgid owns bonds of: their number (0: none), in *mms (one is kept in *one). Valid
 * until the process's mms change.
 */
static uint32_t proc_mms(struct correlator *c, uint32_t tgid, uint64_t *v, struct mm_state **one,
			 struct mm_state ***mms)
{
	struct proc_state *p;

	*v = pidmap_get(&c->procs, tgid);
	if (!*v)
		return 0;
	if (*v & PROC_ONE_MM) {
		*one = (struct mm_state *)(uintptr_t)(*v & ~(uint64_t)PROC_ONE_MM);
		*mms = one;
		return 1;
	}
	p = (struct proc_state *)(uintptr_t)*v;
	*mms = p->mms;
	return p->nr;
}

/* The process is forgotten (v: its procs map value). */
static void proc_free(struct correlator *c, uint32_t tgid, uint64_t v)
{
	pidmap_del(&c->procs, tgid);
	if (!(v & PROC_ONE_MM)) {
		struct proc_state *p = (struct proc_state *)(uintptr_t)v;

		free(p->mms);
		free(p);
	}
}

/* tgid owns a bond of m now: 0, or -ENOMEM (nothing changed). */
static int proc_add_mm(struct correlator *c, uint32_t tgid, struct mm_state *m)
{
	struct proc_state *p;
	uint64_t v;

	v = pidmap_get(&c->procs, tgid);
	if (!v)
		return pidmap_put(&c->procs, tgid, (uint64_t)(uintptr_t)m | PROC_ONE_MM);
	if (v & PROC_ONE_MM) {
		p = calloc(1, sizeof(*p));
		if (p)
			p->mms = malloc(2 * sizeof(*p->mms));
		if (!p || !p->mms) {
			free(p);
			return -ENOMEM;
		}
		p->mms[0] = (struct mm_state *)(uintptr_t)(v & ~(uint64_t)PROC_ONE_MM);
		p->nr = 1;
		p->cap = 2;
		pidmap_put(&c->procs, tgid, (uint64_t)(uintptr_t)p); /* a replacement: no memory */
	} else {
		p = (struct proc_state *)(uintptr_t)v;
	}
	if (p->nr == p->cap) {
		uint32_t ncap = p->cap ? p->cap * 2 : 2;
		struct mm_state **n = realloc(p->mms, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->mms = n;
		p->cap = ncap;
	}
	p->mms[p->nr++] = m;
	return 0;
}

static void proc_drop_mm(struct correlator *c, uint32_t tgid, const struct mm_state *m)
{
	struct proc_state *p;
	uint64_t v;

	v = pidmap_get(&c->procs, tgid);
	if (!v)
		return;
	if (v & PROC_ONE_MM) {
		if ((v & ~(uint64_t)PROC_ONE_MM) == (uint64_t)(uintptr_t)m)
			proc_free(c, tgid, v);
		return;
	}
	p = (struct proc_state *)(uintptr_t)v;
	for (uint32_t i = 0; i < p->nr; i++) {
		if (p->mms[i] == m) {
			p->mms[i] = p->mms[--p->nr];
			break;
		}
	}
	if (!p->nr)
		proc_free(c, tgid, v);
}

static uint64_t mm_key(uint64_t mm, uint32_t tgid)
{
	return mm ? mm : MM_KEY_NONE | tgid;
}

static struct mm_state *mm_get(struct correlator *c, uint64_t key, bool create)
{
	struct mm_state *m;

	m = objmap_get(&c->mms, key);
	if (m || !create)
		return m;
	m = slab_alloc_raw(&c->mm_slab);
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m)); /* inline stores */
	m->key = key;
	if (objmap_add(&c->mms, m)) {
		slab_free(&c->mm_slab, m);
		return NULL;
	}
	return m;
}

/* m's owners, nr_owners of them. */
static inline struct mm_owner *mm_owners(struct mm_state *m)
{
	return m->nr_owners <= 1 ? &m->first_owner : m->owners;
}

/*
 * exit_mmap was seen: on_mm_exit took m out of the mms index (the address may come back as
 * a new mm, which starts afresh); until then m is the one indexed under its key.
 */
static bool mm_exited(const struct correlator *c, const struct mm_state *m)
{
	return objmap_get(&c->mms, m->key) != m;
}

static void mm_free(struct correlator *c, struct mm_state *m)
{
	struct mm_owner *owners = mm_owners(m);
	uint64_t v;

	if (c->exited_states.len && u64map_get(&c->exited_states, m->key, &v) &&
	    v == (uint64_t)(uintptr_t)m)
		u64map_del(&c->exited_states, m->key);

	for (uint32_t i = 0; i < m->nr_owners; i++)
		if (!owners[i].dead)
			proc_drop_mm(c, owners[i].tgid, m);
	objmap_del(&c->mms, m); /* (none once exited) */
	if (m->nr_owners > 1)
		free(m->owners);
	free(m->names);
	slab_free(&c->mm_slab, m);
}

/*
 * Whether m's exit_mmap will be recorded: the probe is attached and the mm is in the BPF
 * sva_mms map (mirrored in exit_mms). Else its bonds are judged when every process seen
 * using it has exited: a bond first seen at an unbind (bound before tracing), an mm the
 * records do not name, a bind whose mm the full map could not take, anything live at a loss.
 */
static bool mm_exit_expected(const struct correlator *c, const struct mm_state *m)
{
	uint64_t v;

	return c->opts.mm_exit_traced && u64map_get(&c->exit_mms, m->key, &v) && !mm_exited(c, m);
}

/* A successful bind record of mm: the BPF side put it in sva_mms, unless it says it could not. */
static void exit_mm_expect(struct correlator *c, const struct sva_event *ev)
{
	if (!c->opts.mm_exit_traced || !ev->mm || (ev->flags & SVA_EVF_MM_UNTRACKED) ||
	    c->exit_mms.len >= EXIT_MMS_MAX)
		return;
	u64map_put(&c->exit_mms, ev->mm, 1);
}

/* mm's exit came with no bond of it known (GONE_MMS); out of memory: not remembered. */
static void gone_mm_put(struct correlator *c, uint64_t mm, uint64_t ts_ns)
{
	struct gone_mm *g;
	uint64_t v;

	if (!c->gone_mms && !(c->gone_mms = calloc(GONE_MMS, sizeof(*c->gone_mms))))
		return;
	g = &c->gone_mms[c->gone_mms_next];
	/* the oldest makes room (unless the index moved on to a newer slot of its mm) */
	if (g->mm && u64map_get(&c->gone_mms_index, g->mm, &v) && v == c->gone_mms_next + 1u)
		u64map_del(&c->gone_mms_index, g->mm);
	if (u64map_put(&c->gone_mms_index, mm, c->gone_mms_next + 1u))
		return;
	*g = (struct gone_mm){ mm, ts_ns };
	c->gone_mms_next = (c->gone_mms_next + 1) % GONE_MMS;
}

/* When mm's exit came while no bond of it was known; 0 if none is remembered. */
static uint64_t gone_mm_ts(const struct correlator *c, uint64_t mm)
{
	uint64_t v;

	if (!mm || !u64map_get(&c->gone_mms_index, mm, &v))
		return 0;
	return c->gone_mms[v - 1].ts_ns;
}

/* A bind of mm: the address is a live mm again, whatever went there before. */
static void gone_mm_forget(struct correlator *c, uint64_t mm)
{
	if (c->gone_mms_index.len && mm)
		u64map_del(&c->gone_mms_index, mm);
}

/* Records were lost: a bind that reused one of these addresses may be among them. */
static void gone_mms_clear(struct correlator *c)
{
	if (!c->gone_mms)
		return;
	for (uint32_t i = 0; i < GONE_MMS; i++)
		if (c->gone_mms[i].mm)
			u64map_del(&c->gone_mms_index, c->gone_mms[i].mm);
	memset(c->gone_mms, 0, GONE_MMS * sizeof(*c->gone_mms));
	c->gone_mms_next = 0;
}

/* A task of the mm is back (a bind after every known owner exited): the mm is in use. */
static void mm_in_use(struct correlator *c, struct mm_state *m)
{
	m->owners_gone_ns = 0;
	if (!m->gone_ns || mm_exited(c, m))
		return;
	m->gone_ns = 0;
	for (struct bond *b = m->bonds; b; b = b->mm_next)
		b->owner_exit_ns = 0;
}

/*
 * A kernel thread (the record says kthread: PF_KTHREAD; captures from before the flag: a
 * workqueue worker, which kernel/workqueue.c names "kworker/..."), running a deferred release
 * (fput from a kernel thread goes to delayed_fput, a device's last put) or a hot-unplug. It
 * has no mm of its own, and the trace never sees a kernel thread exit (bpf remember_task skips
 * PF_KTHREAD): as an owner it would keep the mm in use for good.
 */
static bool kernel_worker(const struct sva_event *ev)
{
	/* comm is SVA_COMM_LEN bytes: the 8 compared inline, not by a strncmp call */
	return (ev->flags & SVA_EVF_KTHREAD) ||
	       (ev->comm[0] == 'k' && !memcmp(ev->comm, "kworker/", 8));
}

/* tgid's exit was one of the last EXITED_RECENT recorded. */
static bool exited_recently(const struct correlator *c, uint32_t tgid)
{
	for (uint32_t i = 0; i < EXITED_RECENT; i++)
		if (c->exited[i] == tgid)
			return true;
	return false;
}

/*
 * tgid bound or unbound a bond of m: it is an owner until its whole thread group exits.
 * An unbinder that comes after the mm is gone (a kworker running a release callback, a
 * process that got the descriptor) does not bring the mm back; a binder does. Nor does an
 * owner seen exiting that unbinds afterwards: do_exit runs exit_files() and
 * exit_task_work() (where the descriptor's release unbinds) after trace_sched_process_exit,
 * so that unbind is the dead process's last act, not a sign of life; the same goes for a
 * process seen exiting just before that unbinds a descriptor it was given (EXITED_RECENT). A
 * kworker that unbinds is never an owner.
 */
static void mm_add_owner(struct correlator *c, struct mm_state *m, const struct sva_event *ev,
			 bool binds)
{
	struct mm_owner *owners = mm_owners(m), *grown = NULL, *o = NULL;
	uint32_t nr = m->nr_owners;

	/*
	 * An unbind by an exiting task (the record says exiting: PF_EXITING) is a release run by
	 * do_exit after the process's exit record: its last act, never a sign that it uses the mm.
	 */
	if (!binds && (m->gone_ns || kernel_worker(ev) || (ev->flags & SVA_EVF_EXITING)))
		return;
	for (uint32_t i = 0; i < nr; i++)
		if (owners[i].tgid == ev->tgid)
			o = &owners[i];
	/*
	 * Once the records carry the exiting flag, an unbind without it is no release at exit but
	 * a live process: one whose tgid was that of a process seen exiting, given again
	 * (kernel/pid.c alloc_pid: idr_alloc_cyclic, wrapping at pid_max), which uses the mm
	 * as any other unbinder may.
	 */
	if (o && (!o->dead || (!binds && !c->task_flags_seen)))
		return;
	if (!o && !binds && !c->task_flags_seen && exited_recently(c, ev->tgid))
		return;
	/* a new owner, and the array (or the one inline) is full: nr is a power of two */
	if (!o && nr && !(nr & (nr - 1))) {
		grown = nr == 1 ? malloc(2 * sizeof(*grown)) :
				  realloc(m->owners, 2 * nr * sizeof(*grown));
		if (!grown)
			return;
		if (nr == 1)
			grown[0] = m->first_owner; /* in place once the second owner is added */
		else
			m->owners = owners = grown;
	}
	if (proc_add_mm(c, ev->tgid, m)) {
		if (nr == 1)
			free(grown); /* the first owner stays inline */
		return;
	}
	if (!o) {
		if (grown)
			m->owners = owners = grown;
		o = &owners[m->nr_owners++];
		o->tgid = ev->tgid;
	}
	o->dead = false;
	m->live_owners++;
	mm_in_use(c, m);
}

static void mm_gone(struct correlator *c, struct mm_state *m, uint64_t ts_ns, uint32_t tgid,
		    const char *comm);

static void bond_link_mm(struct correlator *c, struct bond *b, const struct sva_event *ev)
{
	uint64_t key = mm_key(b->mm, ev->tgid);
	struct mm_state *m = mm_get(c, key, true);

	if (!m)
		return;
	b->mms = m;
	b->mm_next = m->bonds;
	if (m->bonds)
		m->bonds->mm_prev = b;
	m->bonds = b;
	b->owner_exit_ns = m->gone_ns;
}

static void bond_unlink_mm(struct correlator *c, struct bond *b)
{
	struct mm_state *m = b->mms;

	if (!m)
		return;
	if (b->mm_prev)
		b->mm_prev->mm_next = b->mm_next;
	else
		m->bonds = b->mm_next;
	if (b->mm_next)
		b->mm_next->mm_prev = b->mm_prev;
	b->mms = NULL;
	if (!m->bonds)
		mm_free(c, m);
}

/* ---- interned names: a bond's device and owner comm ---- */

/*
 * One distinct name (a device's, or a comm padded with zeros) shared by the live bonds that
 * have it: a million bonds have a few devices and comms. Counted, so the table follows the
 * live bonds, not every name a capture ever had.
 */
struct name_entry {
	uint64_t key; /* name_hash of name */
	uint32_t refs;
	bool indexed; /* false: another name had the same hash, this one is not in names */
	char name[SVA_DEV_NAME_LEN];
};

_Static_assert(SVA_COMM_LEN <= SVA_DEV_NAME_LEN && SVA_DEV_NAME_LEN == 32, "a comm fits a name of 4 words");

/* The name of no device or no process: not counted. */
static const char zero_name[SVA_DEV_NAME_LEN];

/* A name as words: SVA_DEV_NAME_LEN bytes, zero-padded. */
#define NAME_WORDS (SVA_DEV_NAME_LEN / 8)

static uint64_t name_hash(const uint64_t w[NAME_WORDS])
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < NAME_WORDS; i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static bool name_is(const struct name_entry *e, const uint64_t w[NAME_WORDS])
{
	uint64_t x = 0, v;

	for (int i = 0; i < NAME_WORDS; i++) {
		memcpy(&v, e->name + 8 * i, sizeof(v));
		x |= v ^ w[i];
	}
	return !x;
}

/*
 * The interned copy of the len bytes at bytes (len <= SVA_DEV_NAME_LEN): counted, give it
 * back with name_put. Out of memory: zero_name (the bond is unnamed, not lost). A small
 * cache by hash is tried first: a stream of bonds repeats a few devices and comms.
 */
static inline __attribute__((always_inline)) const char *name_get(struct correlator *c,
								      const char *bytes, size_t len)
{
	uint64_t w[NAME_WORDS] = { 0 }, key;
	struct name_entry *e, **cached;

	memcpy(w, bytes, len);
	if (!(w[0] | w[1] | w[2] | w[3]))
		return zero_name;
	key = name_hash(w);
	cached = &c->name_cache[key % NAME_CACHE];
	e = *cached;
	if (!e || !name_is(e, w)) {
		e = objmap_get(&c->names, key);
		if (!e || !name_is(e, w)) {
			e = slab_alloc(&c->name_slab);
			if (!e)
				return zero_name;
			e->key = key;
			memcpy(e->name, w, sizeof(e->name));
			/* a second name with one hash is kept apart, unindexed */
			e->indexed = !objmap_get(&c->names, key) && !objmap_add(&c->names, e);
		}
		*cached = e;
	}
	e->refs++;
	return e->name;
}

static void name_put(struct correlator *c, const char *name)
{
	struct name_entry *e;

	if (name == zero_name)
		return;
	e = (struct name_entry *)(name - offsetof(struct name_entry, name));
	if (--e->refs)
		return;
	if (c->name_cache[e->key % NAME_CACHE] == e)
		c->name_cache[e->key % NAME_CACHE] = NULL;
	if (e->indexed)
		objmap_del(&c->names, e);
	slab_free(&c->name_slab, e);
}

/* ---- bonds ---- */

static struct domain_count *domain_count_find(struct correlator *c, uint64_t domain)
{
	uint64_t v;

	return u64map_get(&c->domains, domain, &v) ? (struct domain_count *)(uintptr_t)v : NULL;
}

/*
 * A bond of a 6.2-6.7 domain begins: its count is followed (a fresh one at a new address).
 * A bind at a domain whose last traced bond just ended continues that domain's ledger:
 * iommu_sva_bind_device does domain->users++ under iommu_sva_lock and is read at fexit,
 * after the unlock; iommu_sva_unbind_device is read at fentry, before the lock. So a bind
 * recorded after the last unbind may have run first (the kernel never freed the domain),
 * and unbinds recorded before it may not have run yet: the ledger knows which threads.
 */
static void domain_bond_add(struct correlator *c, const struct sva_event *ev)
{
	struct domain_count *d = domain_count_find(c, ev->domain);
	struct recent_entry *gone;

	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return;
		if (u64map_put(&c->domains, ev->domain, (uint64_t)(uintptr_t)d)) {
			free(d);
			return;
		}
		c->st.domain_ledgers++;
		d->mm = ev->mm;
		gone = recent_get(&c->ended_domains, ev->domain);
		if (gone && gone->has_ledger && gone->lost_epoch == c->lost_epoch &&
		    ev->type == SVA_REC_BIND)
			d->ledger = gone->ledger;
		recent_del(&c->ended_domains, ev->domain);
	}
	d->live_bonds++;
}

static void ledger_owed_finding(struct correlator *c, const struct finding_subject *s,
				uint64_t first_seq, enum finding_doubt doubt, const struct ledger *l,
				uint64_t now_ns, bool domain);

/*
 * A bond of a 6.2-6.7 domain ended: the domain's last bond the trace has. The kernel frees
 * the domain with its last reference, but binds whose critical section came before this
 * unbind's may still be recorded later (their handles hold the domain). A reading still
 * owed is such a bind to come: the ledger stays until one pays it, or is judged at the end.
 * Otherwise the ledger is freed and remembered for a bind that reads 2 or more right after.
 */
static void domain_bond_end(struct correlator *c, const struct bond *b, const struct sva_event *ev)
{
	struct domain_count *d = domain_count_find(c, b->domain);
	struct recent_entry *e;

	if (!d || --d->live_bonds || d->ledger.owed > 0)
		return;
	e = recent_put(c, &c->ended_domains, b->domain, ev->seq, b->owner_pid, b->owner_comm,
		       b->dev_name, b->group_id, b->pasid);
	if (e) {
		e->ledger = d->ledger;
		e->has_ledger = true;
	}
	u64map_del(&c->domains, b->domain);
	free(d);
	c->st.domain_ledgers--;
}

static struct bond *bond_new(struct correlator *c, const struct sva_event *ev)
{
	struct bond *b = slab_alloc_raw(&c->bond_slab);

	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b)); /* inline stores */
	b->handle = ev->handle;
	b->domain = ev->domain;
	b->domain_type = ev->domain_type;
	b->mm = ev->mm;
	b->group_id = ev->group_id;
	b->pasid = ev->pasid;
	b->dev_name = name_get(c, ev->dev_name, SVA_DEV_NAME_LEN);
	b->owner_pid = ev->tgid;
	b->owner_comm = name_get(c, ev->comm, SVA_COMM_LEN);
	b->created_seq = ev->seq;
	b->created_ns = ev->ts_ns;
	b->kernel_users = -1;
	b->domain_counted = (ev->flags & SVA_EVF_USERS_DOMAIN) != 0;
	if (objmap_add(&c->bonds, b)) {
		name_put(c, b->dev_name);
		name_put(c, b->owner_comm);
		slab_free(&c->bond_slab, b);
		return NULL;
	}
	b->prev = c->live_tail;
	if (c->live_tail)
		c->live_tail->next = b;
	else
		c->live_head = b;
	c->live_tail = b;
	c->st.live_bonds++;
	bond_link_mm(c, b, ev);
	if (b->domain_counted && b->domain)
		domain_bond_add(c, ev);
	return b;
}

static void bond_free_mem(struct correlator *c, struct bond *b)
{
	name_put(c, b->dev_name);
	name_put(c, b->owner_comm);
	if (b->nr_steps)
		slab_free(step_slab(c, bond_steps_cap(b)), b->steps);
	slab_free(&c->bond_slab, b);
}

static void bond_end(struct correlator *c, struct bond *b, const struct sva_event *ev)
{
	struct recent_entry *e;

	if (c->opts.on_bond_end)
		c->opts.on_bond_end(b, ev->ts_ns, c->opts.ctx);
	e = recent_put(c, &c->ended_bonds, b->handle, ev->seq, b->owner_pid, b->owner_comm,
		       b->dev_name, b->group_id, b->pasid);
	if (e) {
		/* the bond's own count (not its domain's), once a reading came */
		e->has_ledger = !b->domain_counted && b->kernel_users != -1;
		if (e->has_ledger)
			e->ledger = b->ledger;
		e->hidden_refs = b->hidden_refs;
		e->mm = b->mm;
	}
	if (b->unresolved && c->st.unresolved_bonds)
		c->st.unresolved_bonds--;
	if (b->domain_counted && b->domain)
		domain_bond_end(c, b, ev);
	bond_unlink_mm(c, b);
	objmap_del(&c->bonds, b);
	if (b->prev)
		b->prev->next = b->next;
	else
		c->live_head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		c->live_tail = b->prev;
	c->st.live_bonds--;
	c->st.ended_bonds++;
	bond_free_mem(c, b);
}

static struct bond *bond_get(struct correlator *c, uint64_t handle)
{
	return objmap_get(&c->bonds, handle);
}

const struct attachment *correlator_find_attachment(const struct correlator *c, int32_t group,
						    uint32_t pasid)
{
	uint64_t v;

	return u64map_get(&c->attachments, attach_key(group, pasid), &v) ?
		       (const struct attachment *)(uintptr_t)v :
		       NULL;
}

/* A refcount finding about bond b (or, for a bond not known, the event). */
static void refcount_finding(struct correlator *c, const struct bond *b,
			     const struct sva_event *ev, enum finding_severity sev,
			     const char *msg)
{
	struct finding_subject s = b ? subject_of_bond(b) : subject_of_event(ev);
	uint64_t evidence[FINDING_MAX_EVIDENCE];
	int n = 0;

	if (b)
		n = bond_evidence(b, ev, evidence);
	else
		add_evidence(evidence, &n, ev->seq);
	/* An unbind names the device it was passed. */
	if (ev->type == SVA_REC_UNBIND && ev->dev_name[0])
		copy_name(s.dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
	finding_emit(c, FINDING_REFCOUNT, sev, ev->ts_ns, &s, b ? b->uncertain : false, evidence,
		     n, "%s", msg);
}

/* The certain rules on a reading; false when the reading is not a count to judge. */
static bool reading_sane(struct correlator *c, const struct bond *b, const struct sva_event *ev,
			 bool is_bind)
{
	char msg[FINDING_MSG_LEN];

	if (ev->users < -1) {
		snprintf(msg, sizeof(msg),
			 "the kernel's users count of this bond reads %d %s this %s: a negative "
			 "count is a saturated refcount (the kernel caught an underflow or an "
			 "overflow and stopped counting)",
			 ev->users, is_bind ? "after" : "before", is_bind ? "bind" : "unbind");
		refcount_finding(c, b, ev, SEV_CRITICAL, msg);
		return false;
	}
	if (!is_bind && (ev->flags & SVA_EVF_USERS_BEFORE) && ev->users == 0) {
		refcount_finding(c, b, ev, SEV_CRITICAL,
				 "unbind of a bond whose users count is already 0: the refcount "
				 "underflows");
		return false;
	}
	return ev->users >= 1;
}

/* A reading the interleavings cannot explain: a count changed outside the traced calls. */
static void ledger_low_finding(struct correlator *c, const struct bond *b,
			       const struct sva_event *ev, bool is_bind,
			       const struct ledger_range *r, bool domain)
{
	char msg[FINDING_MSG_LEN];

	snprintf(msg, sizeof(msg),
		 "%s this %s the kernel counts %d users on the %s but the trace saw %" PRId64
		 " binds not yet unbound%s: an unbind happened outside the traced functions",
		 is_bind ? "after" : "before", is_bind ? "bind" : "unbind", ev->users,
		 domain ? "shared SVA domain" : "bond", r->recorded,
		 r->lo == r->recorded ? "" : ", more than other threads' binds in flight explain");
	refcount_finding(c, b, ev, SEV_ERROR, msg);
}

/* At the end: readings above what the trace explained, and no bind came to explain them. */
static void ledger_owed_finding(struct correlator *c, const struct finding_subject *s,
				uint64_t first_seq, enum finding_doubt doubt, const struct ledger *l,
				uint64_t now_ns, bool domain)
{
	uint64_t evidence[FINDING_MAX_EVIDENCE];
	int n = 0;

	if (l->owed <= l->owed_forgiven_n || l->owed_forgiven)
		return;
	if (first_seq != UINT64_MAX)
		add_evidence(evidence, &n, first_seq);
	add_evidence(evidence, &n, l->owed_seq);
	finding_emit(c, FINDING_REFCOUNT, SEV_ERROR, now_ns, s, doubt, evidence, n,
		     "at event %" PRIu64 " the kernel counted %d users on the %s but the trace saw "
		     "%" PRId64 " binds not yet unbound, and no bind recorded later explains the "
		     "difference: a bind happened outside the traced functions",
		     l->owed_seq, l->owed_users, domain ? "shared SVA domain" : "bond",
		     l->owed_recorded);
}

/* The bond b's count (or its domain's) sees this record. */
static void bond_count(struct correlator *c, struct bond *b, const struct sva_event *ev,
		       bool is_bind)
{
	struct ledger_range r;
	struct domain_count *d;

	/* 6.2-6.7: the bond's domain, as its first record named it (handle->domain is fixed) */
	d = b->domain_counted && b->domain ? domain_count_find(c, b->domain) : NULL;
	if (!reading_sane(c, b, ev, is_bind)) {
		if (d)
			ledger_apply(&d->ledger, ev->pid, is_bind);
		else if (!b->domain_counted)
			ledger_apply(&b->ledger, ev->pid, is_bind);
		return;
	}
	if (b->domain_counted) {
		if (!d)
			return;
		/*
		 * A domain kept for a reading owed (domain_bond_end), and a bind reading 1 that
		 * cannot pay it (it ran after that reading): every reference of the domain went,
		 * the owed one too, so no bind recorded later can explain it. Judged now; the
		 * count starts again.
		 */
		if (is_bind && ev->users == 1 && d->live_bonds == 1 && d->ledger.owed > 0) {
			struct ledger tmp = d->ledger;

			if (!ledger_pay(&tmp, ev->pid)) {
				ledger_owed_finding(c, &d->subject, UINT64_MAX, d->uncertain,
						    &d->ledger, ev->ts_ns, true);
				memset(&d->ledger, 0, sizeof(d->ledger));
			}
		}
		d->subject = subject_of_bond(b);
		d->uncertain = b->uncertain;
		/*
		 * A fresh domain (its first bind reads 1) is a new object at that address,
		 * unless unbinds recorded before may still be in flight.
		 */
		if (is_bind && ev->users == 1 && d->ledger.recorded <= 0 && !d->ledger.unbind_last)
			memset(&d->ledger, 0, sizeof(d->ledger));
		/*
		 * First sight of a domain that has binds from before tracing (a count above what
		 * this record explains): counted as the kernel has it, without a finding if no
		 * later bind explains it, as for a handle first seen bound.
		 */
		else if (!ledger_ops(&d->ledger) && ev->users > (is_bind ? 1 : 0)) {
			ledger_first_sight(&d->ledger, ev, ev->users);
			if (is_bind)
				d->ledger.recorded--; /* this bind's own, added when it is applied */
		}
		if (ledger_record(&d->ledger, ev, is_bind, ev->users, &r))
			ledger_low_finding(c, b, ev, is_bind, &r, true);
		return;
	}
	/*
	 * A bond read at start-up, at its first record after the read: the state's users may
	 * count a bind whose record comes after next_seq (its critical section ran before the
	 * read) and miss an unbind recorded before it (its critical section ran after). The
	 * count starts again from this reading, as for a bond first seen bound.
	 */
	if (b->at_start && !ledger_ops(&b->ledger) && !b->ledger.crowded) {
		ledger_first_sight(&b->ledger, ev, ev->users);
		b->hidden_refs = ev->users > 1;
		if (is_bind)
			b->ledger.recorded--; /* this bind's own, added when it is applied */
	}
	if (ledger_record(&b->ledger, ev, is_bind, ev->users, &r))
		ledger_low_finding(c, b, ev, is_bind, &r, false);
}

static struct attachment *attachment_get(struct correlator *c, int32_t group, uint32_t pasid)
{
	uint64_t v;

	return u64map_get(&c->attachments, attach_key(group, pasid), &v) ?
		       (struct attachment *)(uintptr_t)v :
		       NULL;
}

/* An EBUSY bind: say who holds the PASID, if the trace knows. */
static void explain_busy_bind(struct correlator *c, const struct sva_event *ev)
{
	char dbuf[4 * SVA_DEV_NAME_LEN + 1];
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);
	char owner[96], tbuf[24];
	struct finding_subject s;
	uint64_t evidence[2];
	int n = 0;

	char wbuf[128];
	enum pending_match busy, reset;
	enum finding_doubt doubt;
	bool crowded;

	busy = pending_take(&c->busy, ev->pid, ev->pasid);
	if (busy == PENDING_FOUND)
		return; /* the lookup or attach before it, on this thread, said it already */
	reset = pending_take(&c->reset_busy, ev->pid, ev->pasid);
	if (reset == PENDING_FOUND) {
		s = subject_of_event(ev);
		finding_emit(c, FINDING_BIND_ERROR, SEV_WARNING, ev->ts_ns, &s, false,
			     (uint64_t[]){ ev->seq }, 1,
			     "SVA bind of PASID %u on %s failed with EBUSY: its attach was refused "
			     "because the device's iommu group was being reset (7.x: "
			     "iommu_attach_device_pasid refuses attaches while group->recovery_cnt "
			     "is set); bind again once the reset is done",
			     ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)));
		return;
	}
	/* its look-up's, attach's or reset's wait may have been lost: this may repeat it */
	crowded = busy == PENDING_UNSURE || reset == PENDING_UNSURE;
	doubt = doubt_of(a && a->uncertain, crowded);
	if (a && a->attached && !a->unknown_origin)
		add_evidence(evidence, &n, a->since_seq);
	add_evidence(evidence, &n, ev->seq);
	if (a && a->attached && a->domain_type != SVA_DOMAIN_SVA) {
		s = subject_of_attachment(a);
		finding_emit(c, FINDING_TYPE_MISMATCH, SEV_ERROR, ev->ts_ns, &s, doubt, evidence, n,
			     "SVA bind of PASID %u on %s failed with EBUSY: the PASID is held by %s %s "
			     "domain that %s attached; detach it, or give the SVA user another PASID",
			     ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
			     article(type_name(a->domain_type, tbuf, sizeof(tbuf))),
			     type_name(a->domain_type, tbuf, sizeof(tbuf)),
			     who(owner, sizeof(owner), a->owner_pid, a->owner_comm));
		return;
	}
	if (a && a->attached && a->mm && ev->mm && a->mm != ev->mm) {
		s = subject_of_attachment(a);
		finding_emit(c, FINDING_CROSS_MM, SEV_ERROR, ev->ts_ns, &s, doubt, evidence, n,
			     "SVA bind of PASID %u on %s failed with EBUSY: the PASID is bound there to "
			     "another mm, owned by %s; PASIDs are per mm, so that bond outlived its "
			     "process or was handed to the wrong one",
			     ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
			     who(owner, sizeof(owner), a->owner_pid, a->owner_comm));
		return;
	}
	if (a && a->attached && a->domain_type == SVA_DOMAIN_SVA && a->mm && a->mm == ev->mm) {
		char abuf[4 * SVA_DEV_NAME_LEN + 1];

		s = subject_of_event(ev);
		finding_emit(c, FINDING_BIND_ERROR, SEV_WARNING, ev->ts_ns, &s, doubt, evidence, n,
			     "SVA bind of PASID %u on %s failed with EBUSY: this mm is bound at "
			     "that PASID of group %d already, through %s; before 6.11 (6.8-6.10) "
			     "a bond is per device, and the group's one PASID entry is taken, so "
			     "another device of the group cannot bind the same mm (unbind there "
			     "first, or use that device's bond)",
			     ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)), ev->group_id,
			     dev_label(a->dev_name, abuf, sizeof(abuf)));
		return;
	}
	s = subject_of_event(ev);
	finding_emit(c, FINDING_BIND_ERROR, SEV_WARNING, ev->ts_ns, &s, doubt_of(false, crowded),
		     (uint64_t[]){ ev->seq }, 1, "SVA bind on %s failed with EBUSY%s: %s",
		     dev_label(ev->dev_name, dbuf, sizeof(dbuf)), cause_where(ev, wbuf, sizeof(wbuf)),
		     bind_explanation(ev));
}

static void bind_failed(struct correlator *c, const struct sva_event *ev)
{
	char dbuf[4 * SVA_DEV_NAME_LEN + 1], wbuf[128];
	struct finding_subject s = subject_of_event(ev);

	if (ev->ret == -EBUSY) {
		explain_busy_bind(c, ev);
		return;
	}
	if (ev->ret == 0) {
		finding_emit(c, FINDING_BIND_ERROR, SEV_WARNING, ev->ts_ns, &s, false, (uint64_t[]){ ev->seq }, 1,
			     "SVA bind on %s returned no handle and no error: the caller cannot "
			     "tell it failed", dev_label(ev->dev_name, dbuf, sizeof(dbuf)));
		return;
	}
	finding_emit(c, FINDING_BIND_ERROR, SEV_WARNING, ev->ts_ns, &s, false, (uint64_t[]){ ev->seq }, 1,
		     "SVA bind on %s failed with %s%s: %s",
		     dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
		     sva_errno_name(ev->ret) ? sva_errno_name(ev->ret) : "an error",
		     cause_where(ev, wbuf, sizeof(wbuf)), bind_explanation(ev));
}

/*
 * A bind returned the address of a bond the trace still counts as bound, but as a new
 * object: on 6.2-6.7 every bind allocates its handle, and elsewhere a live handle is
 * reused through refcount_inc, so its first bind reading users 1 is a new allocation.
 * The old bond's last unbind was not seen; the histories are kept apart.
 */
static void bond_replaced(struct correlator *c, struct bond *old, const struct sva_event *ev)
{
	char msg[FINDING_MSG_LEN];

	c->st.reused_handles++;
	if (old->uncertain || old->hidden_refs) {
		/*
		 * Its unbind may be among the lost records; or references the records never
		 * showed (bound before tracing) were released by an unbind that began before
		 * the probes were attached: recorded nowhere, its critical section after
		 * the first reading.
		 */
		c->st.inferred_unbinds++;
	} else {
		snprintf(msg, sizeof(msg),
			 "a bind returned this bond's address as a new object (users %d) while "
			 "the trace still counted %" PRId64 " binds not unbound on the old one: its "
			 "last unbind was not seen (the two are kept apart)",
			 ev->users, old->expected_users);
		refcount_finding(c, old, ev, SEV_WARNING, msg);
	}
	bond_end(c, old, ev);
}

/*
 * A bind that returned the address of a live bond: the same object (a nested bind, users
 * went up through refcount_inc) or a new one at a reused address? 6.2-6.7 allocate a handle
 * per bind: always new. Elsewhere a reading of 1 is new when no interleaving explains it as
 * the same object: another mm's bond never reads 1 (the kernel increments a shared one),
 * and the same mm's reads 1 only if every other reference was released, which the records
 * show unless other threads' binds may still be in flight. Another mm's bind reading 2 or
 * more is new too when the bond's count showed references the records never did: the
 * release of one may have begun before the probes were attached (bond_replaced).
 */
static bool bind_is_new_object(const struct bond *b, const struct sva_event *ev, bool domain)
{
	struct ledger_range r;
	struct ledger tmp;

	if (domain || b->domain_counted)
		return true;
	if (ev->users != 1)
		return b->hidden_refs && b->mm && ev->mm && b->mm != ev->mm;
	if (b->mm && ev->mm && b->mm != ev->mm)
		return true;
	if (b->ledger.crowded)
		return false;
	tmp = b->ledger;
	if (ledger_pay(&tmp, ev->pid))
		tmp.recorded--;
	r = ledger_range(&tmp, ev->pid, true);
	return r.lo_known && 1 < r.lo;
}

/*
 * 6.2-6.7: iommu_sva_bind_device (iommu-sva.c) takes the SVA domain attached at the mm's
 * PASID (iommu_get_domain_for_dev_pasid) and does domain->users++ without checking
 * domain->mm, so a PASID two mms hold at once gives the second a handle on the first's
 * domain. A new handle every time: seen as its domain, live in the trace for another mm.
 * That domain's handles all end in the records before its address can come back: each
 * handle's unbind is recorded at fentry, before the critical section that frees it; and
 * another mm's bind reading 1 is the only reference to its domain, a new one.
 */
static void domain_cross_mm(struct correlator *c, const struct bond *b, const struct sva_event *ev)
{
	struct domain_count *d = domain_count_find(c, b->domain);
	struct finding_subject s;
	char owner[96];

	if (!d || d->live_bonds < 2 || !d->mm || !ev->mm || d->mm == ev->mm)
		return;
	if (ev->users == 1) {
		/* no other reference: a new domain at a freed one's address (records lost) */
		d->mm = ev->mm;
		return;
	}
	s = subject_of_bond(b);
	finding_emit(c, FINDING_CROSS_MM, SEV_CRITICAL, ev->ts_ns, &s, d->uncertain,
		     (uint64_t[]){ ev->seq }, 1,
		     "SVA bind returned a handle on the SVA domain of another mm (%s, users %d) "
		     "for PASID %u: the device would DMA into the wrong address space; this "
		     "kernel (6.2-6.7) takes the domain at the PASID without checking its mm",
		     who(owner, sizeof(owner), d->subject.owner_pid, d->subject.owner_comm),
		     ev->users, b->pasid);
}

/*
 * A bind of another mm returned the address of a bond read at start-up. Bonds are read
 * only on 6.11+ (group->pasid_array), where iommu_sva_bind_device returns -EBUSY for a
 * handle whose domain->mm is not the caller's: the state's bond was freed and its address
 * given to a new one. Its last unbind raced the read (the read takes no lock): recorded
 * before next_seq with its critical section after the read, or begun before the probes
 * were attached (no record at all). No finding; the new bond is counted alone.
 */
static void start_bond_freed(struct correlator *c, struct bond *b, const struct sva_event *ev)
{
	c->st.reused_handles++;
	c->st.inferred_unbinds++;
	bond_end(c, b, ev);
	recent_del(&c->ended_bonds, ev->handle);
}

static void on_bind(struct correlator *c, const struct sva_event *ev)
{
	bool domain = (ev->flags & SVA_EVF_USERS_DOMAIN) != 0;
	struct recent_entry *gone;
	char owner[96];
	struct bond *b;

	if (ev->ret != 0 || !ev->handle) {
		bind_failed(c, ev);
		return;
	}
	gone_mm_forget(c, ev->mm);
	b = bond_get(c, ev->handle);
	if (b && b->at_start) {
		if (b->mm && ev->mm && b->mm != ev->mm) {
			start_bond_freed(c, b, ev);
			b = NULL;
		} else if (ev->seq < c->seed_seq) {
			/* made before the state was read, which has it already */
			b->nr_binds++;
			bond_add_step(c, b, ev, ev->users);
			return;
		}
	}
	if (b && bind_is_new_object(b, ev, domain)) {
		bond_replaced(c, b, ev);
		b = NULL;
	}
	if (!b) {
		gone = recent_get(&c->ended_bonds, ev->handle);
		b = bond_new(c, ev);
		if (!b)
			return;
		/*
		 * A bind of no mm: 6.1's supervisor SVA (drivers/dma/idxd/init.c
		 * idxd_enable_system_pasid: iommu_sva_bind_device(dev, NULL, &flags) with
		 * SVM_FLAG_SUPERVISOR_MODE; intel/svm.c intel_svm_bind binds init_mm). The
		 * kernel's own, until the driver unbinds it at removal: no process owns it, and
		 * the exit of the one that loaded the driver is no leak.
		 */
		if (!ev->mm)
			bond_unlink_mm(c, b);
		if (domain && b->domain)
			domain_cross_mm(c, b, ev);
		/*
		 * A bind reading 2 or more right after the trace saw the count reach 0: another
		 * thread's bind ran before that unbind's critical section. Same object: the
		 * ledger goes on. So does one reading 1 while unbinds recorded before it may
		 * not have run yet (or the threads were too many to follow): a new handle or
		 * the same, their references may still be counted at its later readings. Not
		 * for another mm's bind: the old bond's references are not in a new bond's
		 * count (lost records hid its last unbind: bond_replaced).
		 */
		if (!domain && gone && gone->has_ledger && gone->lost_epoch == c->lost_epoch &&
		    (ev->users > 1 || gone->ledger.unbind_last || gone->ledger.crowded) &&
		    (gone->mm == ev->mm || !gone->mm || !ev->mm)) {
			b->ledger = gone->ledger;
			/* the same count: references from before tracing may be in it still */
			b->hidden_refs = gone->hidden_refs;
			b->unknown_origin = gone->hidden_refs;
		}
		else if (!domain && ev->users > 1) {
			/*
			 * Bound before tracing started, or other threads' binds ran first and
			 * are recorded later: counted as the kernel has it, and owed to binds
			 * yet to come, without a finding if none comes.
			 */
			b->unknown_origin = true;
			c->st.unknown_origin_bonds++;
			ledger_first_sight(&b->ledger, ev, ev->users);
			b->ledger.recorded--; /* this bind's own, added when it is applied */
			b->hidden_refs = true;
		}
		recent_del(&c->ended_bonds, ev->handle); /* a new object at that address */
	} else if (b->mm && ev->mm && b->mm != ev->mm) {
		struct finding_subject s = subject_of_bond(b);
		uint64_t evidence[FINDING_MAX_EVIDENCE];
		int n = bond_evidence(b, ev, evidence);

		finding_emit(c, FINDING_CROSS_MM, SEV_CRITICAL, ev->ts_ns, &s, b->uncertain,
			     evidence, n,
			     "SVA bind returned the bond of another mm (owned by %s) for PASID %u: "
			     "the device would DMA into the wrong address space; this kernel lacks "
			     "the mm check in iommu_sva_bind_device",
			     who(owner, sizeof(owner), b->owner_pid, b->owner_comm), b->pasid);
	}
	b->nr_binds++;
	exit_mm_expect(c, ev);
	if (b->mms)
		mm_add_owner(c, b->mms, ev, true);
	bond_count(c, b, ev, true);
	b->expected_users = b->domain_counted ? 1 : b->ledger.recorded;
	b->kernel_users = ev->users;
	bond_add_step(c, b, ev, ev->users);
}

/* A retracted leak: say who unbound the bond, and how late. */
static void leak_resolved(struct correlator *c, const struct bond *b, const struct sva_event *ev)
{
	bool dropped = ev->type == SVA_REC_MM_PASID_DROP;
	char unbinder[96];
	struct resolution r;

	memset(&r, 0, sizeof(r));
	r.kind = FINDING_LEAK;
	r.ts_ns = ev->ts_ns;
	r.finding_ts_ns = b->leak_ns;
	r.late_ns = ev->ts_ns > b->owner_exit_ns ? ev->ts_ns - b->owner_exit_ns : 0;
	r.subject = subject_of_bond(b);
	r.by_pid = ev->tgid;
	r.by_tid = ev->pid;
	copy_name(r.by_comm, ev->comm, SVA_COMM_LEN);
	add_evidence(r.evidence, &r.nr_evidence, ev->seq);
	if (dropped)
		snprintf(r.message, sizeof(r.message),
			 "leak retracted: its mm was freed (mm_pasid_drop, from __mmdrop) %.1f s "
			 "after %s, %.1f s after the leak was reported, which the bond's SVA domain "
			 "rules out while it is bound (it holds the mm): it was unbound, and that "
			 "unbind was not recorded",
			 (double)r.late_ns / 1e9,
			 b->mms && b->mms->gone_tgid ? "the last process seen using it exited" :
						       "it was torn down",
			 (double)(ev->ts_ns > b->leak_ns ? ev->ts_ns - b->leak_ns : 0) / 1e9);
	else
		snprintf(r.message, sizeof(r.message),
			 "leak retracted: %s (thread %u) unbound the bond %.1f s after %s, %.1f s "
			 "after the leak was reported",
			 who(unbinder, sizeof(unbinder), ev->tgid, ev->comm), ev->pid,
			 (double)r.late_ns / 1e9,
			 b->mms && b->mms->gone_tgid ? "the last process seen using its mm exited" :
						       "its mm was torn down",
			 (double)(ev->ts_ns > b->leak_ns ? ev->ts_ns - b->leak_ns : 0) / 1e9);
	c->st.resolved++;
	if (c->opts.on_resolved)
		c->opts.on_resolved(&r, c->opts.ctx);
}

static void on_unbind(struct correlator *c, const struct sva_event *ev)
{
	bool known = ev->users >= 0 && (ev->flags & SVA_EVF_USERS_BEFORE);
	bool domain = (ev->flags & SVA_EVF_USERS_DOMAIN) != 0;
	struct bond *b = bond_get(c, ev->handle);
	struct recent_entry *gone, reopen;
	struct sva_event named;
	uint64_t gone_ts, mm_of_pasid;
	bool reopened = false;
	char owner[96];

	if (ev->flags & (SVA_EVF_KTHREAD | SVA_EVF_EXITING))
		c->task_flags_seen = true;
	if (!b) {
		gone = recent_get(&c->ended_bonds, ev->handle);
		/*
		 * A bond whose count was first seen with references the records did not show
		 * (hidden_refs) and reached 0 in the records: CLONE_VM siblings (their own tgids,
		 * the same mm) bound it before tracing, and a sibling's bind recorded after that
		 * first reading was taken for one that ran before it (ledger_pay). An unbind that
		 * still reads 1 or more releases one of the references from before tracing: the
		 * bond is seen again, not a double unbind (a freed sdev reads the 0 it was left).
		 */
		if (gone && gone->hidden_refs && gone->has_ledger && known && ev->users >= 1 &&
		    gone->lost_epoch == c->lost_epoch) {
			reopen = *gone;
			reopened = true;
			gone = NULL;
		}
		if (gone) {
			struct finding_subject s = subject_of_event(ev);
			uint64_t evidence[2] = { gone->seq, ev->seq };

			s.owner_pid = gone->owner_pid;
			copy_name(s.owner_comm, gone->owner_comm, SVA_COMM_LEN);
			if (!ev->dev_name[0])
				copy_name(s.dev_name, gone->dev_name, SVA_DEV_NAME_LEN);
			s.group_id = gone->group_id;
			s.pasid = gone->pasid;
			/* Lost records can hide the bind in between: never certain then. */
			if (gone->lost_epoch != c->lost_epoch || known || domain) {
				finding_emit(c, FINDING_REFCOUNT, SEV_CRITICAL, ev->ts_ns, &s,
					     gone->lost_epoch != c->lost_epoch, evidence, 2,
					     "unbind of a bond that was already freed (its last unbind "
					     "was event %" PRIu64 ", bond of %s): a double unbind, a use "
					     "after free in the driver",
					     gone->seq,
					     who(owner, sizeof(owner), gone->owner_pid,
						 gone->owner_comm));
				return;
			}
			/*
			 * Nothing lost, but the count cannot be read (6.1 drivers without it):
			 * binds of this bond made before tracing started are invisible, so the
			 * trace cannot tell a double unbind from the release of one of those.
			 */
			finding_emit(c, FINDING_REFCOUNT, SEV_WARNING, ev->ts_ns, &s,
				     DOUBT_UNCOUNTED, evidence, 2,
				     "unbind of a bond whose every recorded bind was already unbound "
				     "(its last unbind was event %" PRIu64 ", bond of %s): a double "
				     "unbind unless the bond was also bound before tracing started, "
				     "which this driver's unreadable count cannot rule out",
				     gone->seq,
				     who(owner, sizeof(owner), gone->owner_pid, gone->owner_comm));
			return;
		}
		/*
		 * 6.1: no domain names the unbind's mm; the driver's bond gave its PASID (Intel
		 * VT-d intel_svm_dev.pasid), which the state's task records map to the mm: a
		 * PASID is the mm's until __mmdrop frees it (mm_pasid_drop -> ioasid_free), and
		 * the bond holds mm_count. The bond is then judged by that mm's exit.
		 */
		if (!ev->mm && reopened && reopen.mm) {
			named = *ev;
			named.mm = reopen.mm;
			ev = &named;
		} else if (!ev->mm && ev->pasid != SVA_PASID_NONE && c->state_pasid_mms.len &&
			   u64map_get(&c->state_pasid_mms, ev->pasid, &mm_of_pasid)) {
			named = *ev;
			named.mm = mm_of_pasid;
			ev = &named;
		}
		/* First sight of a bond made before tracing: trust the kernel's count. */
		b = bond_new(c, ev);
		if (!b)
			return;
		b->unknown_origin = true;
		b->owner_pid = 0;
		name_put(c, b->owner_comm);
		b->owner_comm = zero_name;
		c->st.unknown_origin_bonds++;
		if (reopened && reopen.has_ledger) {
			/*
			 * The same count, whose unbinds in flight the ledger knows, plus the one
			 * reference from before tracing that this unbind releases.
			 */
			b->ledger = reopen.ledger;
			b->ledger.recorded++;
			b->hidden_refs = true;
		} else if (known && ev->users > 1 && !domain) {
			ledger_first_sight(&b->ledger, ev, ev->users);
			b->hidden_refs = true;
		} else {
			b->ledger.recorded = 1;
		}
		/* its mm's exit came before (GONE_MMS): gone since then, not back in use */
		gone_ts = gone_mm_ts(c, ev->mm);
		if (gone_ts && b->mms && !b->mms->gone_ns) {
			objmap_del(&c->mms, b->mms); /* exited, as on_mm_exit leaves an mm */
			mm_gone(c, b->mms, gone_ts, 0, ev->comm);
		}
	}
	if (b->at_start && ev->seq < c->seed_seq) {
		/*
		 * Recorded before the read ended, which had the bond: its critical section ran
		 * before the read (the state's count is without it) or after it (the state's
		 * count has it). When the unbinds recorded so far may have released every
		 * reference the state counted, no record tells whether the bond is still
		 * bound: uncertain, as after a loss (no certain leak; its mm_pasid_drop ends it).
		 * A read during which no traced call was in flight (the state's calls_in_flight
		 * 0) does not tell: an unbind begun before the probes were attached is counted
		 * nowhere, and may release the reference the read counted after the walk (a
		 * recorded unbind took 2 -> 1 before it, the unseen one takes 1 -> 0 after).
		 */
		b->nr_unbinds++;
		if ((int64_t)b->nr_unbinds >= b->ledger.recorded && !b->uncertain)
			b->uncertain = DOUBT_START_RACE;
		bond_add_step(c, b, ev, known && ev->users > 0 ? ev->users - 1 : -1);
		return;
	}
	if (b->mms)
		mm_add_owner(c, b->mms, ev, false);
	b->nr_unbinds++;
	bond_count(c, b, ev, false);
	if (b->domain_counted) {
		b->expected_users = 0;
	} else {
		b->expected_users = b->ledger.recorded;
		if (b->expected_users < 0) {
			char msg[FINDING_MSG_LEN];

			snprintf(msg, sizeof(msg),
				 "more unbinds (%" PRIu64 ") than binds (%" PRIu64 ") on this bond: "
				 "the refcount underflows", b->nr_unbinds, b->nr_binds);
			refcount_finding(c, b, ev, SEV_CRITICAL, msg);
			b->ledger.recorded = 0;
		}
	}
	b->kernel_users = known && ev->users > 0 ? ev->users - 1 : -1;
	bond_add_step(c, b, ev, b->kernel_users);
	if (b->expected_users <= 0) {
		/*
		 * The count reached 0 with binds still owed: a bind recorded later cannot
		 * explain an earlier reading once every reference is released.
		 */
		if (!b->domain_counted && b->ledger.owed > 0) {
			struct finding_subject s = subject_of_bond(b);

			ledger_owed_finding(c, &s, bond_step_at(b, 0).seq, b->uncertain,
					    &b->ledger, ev->ts_ns, false);
			b->ledger.owed = 0;
			b->ledger.owed_forgiven_n = 0;
		}
		if (b->leak_reported)
			leak_resolved(c, b, ev);
		bond_end(c, b, ev);
	}
}

/* ---- attachments and PASIDs ---- */

static void pasid_count_add(struct u64map *m, uint32_t pasid, int delta)
{
	uint64_t n = 0;

	u64map_get(m, pasid, &n);
	if (delta < 0 && n == 0)
		return;
	n += (uint64_t)(int64_t)delta;
	if (n)
		u64map_put(m, pasid, n);
	else
		u64map_del(m, pasid);
}

static struct group_use *group_use_get(struct correlator *c, int32_t group, bool create)
{
	struct group_use *g;
	uint64_t v;

	if (group < 0)
		return NULL;
	if (u64map_get(&c->groups, (uint64_t)(uint32_t)group, &v))
		return (struct group_use *)(uintptr_t)v;
	if (!create || !(g = calloc(1, sizeof(*g))))
		return NULL;
	g->p.group_id = group;
	if (u64map_put(&c->groups, (uint64_t)(uint32_t)group, (uint64_t)(uintptr_t)g)) {
		free(g);
		return NULL;
	}
	return g;
}

static bool attached_in_group(struct correlator *c, int32_t group, uint32_t pasid)
{
	struct attachment *a = attachment_get(c, group, pasid);

	return a && a->attached;
}

static void group_totals(struct group_use *g)
{
	g->p.held_elsewhere = g->global_in_range - g->overlap;
	g->p.in_use = g->p.attached + g->p.held_elsewhere;
}

/*
 * pasid is held, sure, and no free of it was seen since: a bind of its mm changes nothing
 * (most binds; checked inline before global_pasid_set).
 */
static inline bool global_pasid_settled(const struct correlator *c, uint32_t pasid)
{
	uint32_t w = pasid / 64;

	return w < c->gp_words &&
	       (c->gp_held[w] & c->gp_sure[w] & ~c->gp_freed[w] & (1ull << (pasid % 64)));
}

static bool global_pasid_held(const struct correlator *c, uint32_t pasid)
{
	return pasid / 64 < c->gp_words && (c->gp_held[pasid / 64] >> (pasid % 64) & 1);
}

/* Room for pasid in the bitmaps (false: out of memory, or above 2^20). */
static bool gp_grow_slow(struct correlator *c, uint32_t pasid)
{
	uint32_t words = c->gp_words ? c->gp_words : 4;
	uint64_t *held, *sure, *freed;

	if (pasid >= GP_PASIDS)
		return false;
	while (words <= pasid / 64)
		words *= 2;
	held = realloc(c->gp_held, words * sizeof(*held));
	if (!held)
		return false;
	c->gp_held = held;
	sure = realloc(c->gp_sure, words * sizeof(*sure));
	if (!sure)
		return false;
	c->gp_sure = sure;
	freed = realloc(c->gp_freed, words * sizeof(*freed));
	if (!freed)
		return false;
	c->gp_freed = freed;
	memset(held + c->gp_words, 0, (words - c->gp_words) * sizeof(*held));
	memset(sure + c->gp_words, 0, (words - c->gp_words) * sizeof(*sure));
	memset(freed + c->gp_words, 0, (words - c->gp_words) * sizeof(*freed));
	c->gp_words = words;
	return true;
}

static inline bool gp_grow(struct correlator *c, uint32_t pasid)
{
	return pasid / 64 < c->gp_words || gp_grow_slow(c, pasid);
}

/* PASIDs 1..usable set in map of c's size (and not in without, if given). */
static uint32_t gp_count_range(const struct correlator *c, const uint64_t *map,
			       const uint64_t *without, uint32_t usable)
{
	uint32_t n = 0, last;

	if (!c->gp_words || !usable)
		return 0;
	last = usable < c->gp_words * 64 ? usable : c->gp_words * 64 - 1;
	for (uint32_t w = 0; w <= last / 64; w++) {
		uint64_t bits = map[w] & ~(without ? without[w] : 0);

		if (w == 0)
			bits &= ~1ull; /* PASID 0: the RID */
		if (w == last / 64 && last % 64 != 63)
			bits &= (2ull << (last % 64)) - 1;
		n += (uint32_t)__builtin_popcountll(bits);
	}
	return n;
}

/*
 * The group's range changed (its max_pasids became known or smaller): count it again. The
 * seq of the latest allocation counted there, NO_SEQ if none was seen (all from the state).
 */
static uint64_t group_recount(struct correlator *c, struct group_use *g)
{
	uint32_t usable = pasid_pressure_usable(&g->p);

	g->global_in_range = gp_count_range(c, c->gp_held, NULL, usable);
	g->overlap = 0;
	g->p.attached = 0;
	u64map_for_each(&c->attachments, key, val, {
		const struct attachment *a = (const struct attachment *)(uintptr_t)val;

		(void)key;
		if (a->group_id != g->p.group_id || !a->attached || a->pasid < 1 ||
		    a->pasid > usable)
			continue;
		g->p.attached++;
		g->overlap += global_pasid_held(c, a->pasid);
	});
	group_totals(g);
	/* the last allocation seen, when it is one of those counted */
	if (c->gp_last_seq != NO_SEQ && c->gp_last_pasid <= usable &&
	    global_pasid_held(c, c->gp_last_pasid))
		return c->gp_last_seq;
	return NO_SEQ;
}

static void group_use_judge(struct correlator *c, struct group_use *g, bool rising,
			    const struct finding_subject *s, uint64_t ts_ns,
			    const uint64_t *evidence, int nr_evidence);

/* A record named the device's max_pasids (bind, attach, PASID allocation, the state). */
static void group_max_pasids(struct correlator *c, int32_t group, const char *dev, uint32_t max,
			     const struct sva_event *ev)
{
	struct group_use *g = max ? group_use_get(c, group, true) : NULL;
	struct finding_subject s;
	uint64_t evidence[2], last;
	int n = 0;

	if (!g)
		return;
	/* every device of the group must accept the PASID (iommu_attach_device_pasid) */
	if (g->p.max_pasids && g->p.max_pasids <= max)
		return;
	g->p.max_pasids = max;
	copy_name(g->p.dev_name, dev, SVA_DEV_NAME_LEN);
	last = group_recount(c, g);
	/*
	 * The global PASIDs already out may fill the range it now has: a device first seen
	 * in the record of its failing bind (ENOSPC) is full from that record on.
	 */
	memset(&s, 0, sizeof(s));
	s.group_id = group;
	s.pasid = SVA_PASID_NONE;
	copy_name(s.dev_name, dev, SVA_DEV_NAME_LEN);
	if (last != NO_SEQ)
		evidence[n++] = last;
	if (ev) {
		s.mm = ev->mm;
		s.pasid = ev->pasid;
		s.owner_pid = ev->tgid;
		copy_name(s.owner_comm, ev->comm, SVA_COMM_LEN);
		evidence[n++] = ev->seq;
	}
	group_use_judge(c, g, true, &s, ev ? ev->ts_ns : c->last_ts, evidence, n);
}

static double pressure_pct(const struct correlator *c)
{
	return c->opts.pasid_pressure_pct > 0 ? c->opts.pasid_pressure_pct : 90.0;
}

/*
 * Records may have been lost since a PASID counted in g was allocated (its free may be among
 * them) or while one of g's attachments was live (its detach): the count may be too high.
 */
static bool group_use_uncertain(struct correlator *c, const struct group_use *g)
{
	uint32_t usable = pasid_pressure_usable(&g->p);

	if (!c->lost_epoch)
		return false;
	if (gp_count_range(c, c->gp_held, c->gp_sure, usable))
		return true;
	u64map_for_each(&c->attachments, key, val, {
		const struct attachment *a = (const struct attachment *)(uintptr_t)val;

		(void)key;
		if (a->group_id == g->p.group_id && a->attached && a->uncertain &&
		    a->pasid >= 1 && a->pasid <= usable)
			return true;
	});
	return false;
}

/*
 * g's use changed (rising: it grew): at the threshold a pasid-pressure warning, once until
 * the use falls below it again. s: what made it grow; evidence: the records that did (none
 * from the state).
 */
static void group_use_judge(struct correlator *c, struct group_use *g, bool rising,
			    const struct finding_subject *s, uint64_t ts_ns,
			    const uint64_t *evidence, int nr_evidence)
{
	double pct = pressure_pct(c);
	uint32_t usable = pasid_pressure_usable(&g->p);
	bool over = usable && pct <= 100 && g->p.in_use * 100.0 >= pct * usable;

	if (over && !g->reported && rising) {
		struct finding_pressure fp = {
			.in_use = g->p.in_use, .usable = usable, .max_pasids = g->p.max_pasids,
			.attached = g->p.attached, .held_elsewhere = g->p.held_elsewhere,
			.threshold_pct = pct,
		};
		finding_emit_pressure(c, &fp, ts_ns, s, group_use_uncertain(c, g), evidence,
				      nr_evidence,
				      "%u of the %u PASIDs of group %d are in use (1-%u: max_pasids %u of "
				      "%s): %u attached in the group, %u held elsewhere (global PASIDs "
				      "of other processes or drivers; a process keeps its PASID after "
				      "unbinding, until its mm is gone), %.1f %% (threshold %g %%): once "
				      "all are used, new binds on it fail (ENOSPC); look for bonds left "
				      "bound and processes that keep a PASID",
				      g->p.in_use, usable, g->p.group_id, usable, g->p.max_pasids,
				      g->p.dev_name[0] ? g->p.dev_name : "its device", g->p.attached,
				      g->p.held_elsewhere, g->p.in_use * 100.0 / usable, pct);
	}
	g->reported = over;
}

/* A PASID attached (delta 1) or detached in a's group. */
static void group_use_add(struct correlator *c, const struct attachment *a, int delta)
{
	struct group_use *g = group_use_get(c, a->group_id, delta > 0);
	uint32_t usable;

	if (!g)
		return;
	if (!g->p.dev_name[0])
		copy_name(g->p.dev_name, a->dev_name, SVA_DEV_NAME_LEN);
	usable = pasid_pressure_usable(&g->p);
	/*
	 * Only PASIDs in the group's range: 6.2 - 6.8 check no other device of the group in
	 * iommu_attach_device_pasid (the check came in 6.9), so a wider device's PASIDs above
	 * the narrow one's range may be attached there, and they take nothing the narrow one
	 * could be given (group_recount counts them again when the range changes).
	 */
	if (a->pasid < 1 || a->pasid > usable)
		return;
	if (global_pasid_held(c, a->pasid)) {
		if (delta > 0)
			g->overlap++;
		else if (g->overlap)
			g->overlap--;
	}
	if (delta < 0 && g->p.attached)
		g->p.attached--;
	else if (delta > 0)
		g->p.attached++;
	group_totals(g);
	{
		struct finding_subject s = subject_of_attachment(a);
		bool seen = !a->at_start && !a->unknown_origin;

		group_use_judge(c, g, delta > 0, &s, a->since_ns, &a->since_seq, seen);
	}
}

/*
 * The global allocator handed out pasid (added) or took it back: every group whose usable
 * range holds it changes, attached there or not (O(groups), and groups are few). ev: the
 * record, NULL when read from the state.
 */
static void global_pasid_set(struct correlator *c, uint32_t pasid, bool add,
			     const struct sva_event *ev)
{
	bool had = global_pasid_held(c, pasid);
	uint64_t seq = ev ? ev->seq : 0, bit = 1ull << (pasid % 64);

	if (pasid == 0 || pasid >= GP_PASIDS || c->opts.pasid_frees_untraced)
		return;
	/* a free seen (of one held or not): not held from this record on, until allocated */
	if (!add && ev && gp_grow(c, pasid))
		c->gp_freed[pasid / 64] |= bit;
	if (add ? !gp_grow(c, pasid) : !had)
		return; /* out of memory: not counted (a count too low, no false warning) */
	if (add) {
		/* handed out again: whatever hid its free, it is held now, from this record */
		c->gp_held[pasid / 64] |= bit;
		c->gp_sure[pasid / 64] |= bit;
		c->gp_freed[pasid / 64] &= ~bit;
		if (ev && ev->type == SVA_REC_PASID_ALLOC) {
			c->gp_last_pasid = pasid;
			c->gp_last_seq = ev->seq;
		}
	} else {
		c->gp_held[pasid / 64] &= ~bit;
		c->gp_sure[pasid / 64] &= ~bit;
	}
	c->gp_count += add && !had;
	c->gp_count -= !add && had;
	c->st.global_pasids = c->gp_count;
	if (had == add)
		return;
	u64map_for_each(&c->groups, key, val, {
		struct group_use *g = (struct group_use *)(uintptr_t)val;
		uint32_t usable = pasid_pressure_usable(&g->p);
		bool here;

		(void)key;
		if (pasid > usable)
			continue;
		here = attached_in_group(c, g->p.group_id, pasid);
		if (add) {
			g->global_in_range++;
			g->overlap += here;
		} else {
			g->global_in_range -= g->global_in_range > 0;
			g->overlap -= here && g->overlap > 0;
		}
		group_totals(g);
		if (here && add)
			continue; /* its use did not change */
		{
			struct finding_subject s;

			memset(&s, 0, sizeof(s));
			s.group_id = g->p.group_id;
			s.pasid = pasid;
			copy_name(s.dev_name, g->p.dev_name, SVA_DEV_NAME_LEN);
			if (ev) {
				s.owner_pid = ev->tgid;
				s.mm = ev->mm;
				copy_name(s.owner_comm, ev->comm, SVA_COMM_LEN);
			}
			group_use_judge(c, g, add, &s, ev ? ev->ts_ns : c->last_ts, &seq,
					ev ? 1 : 0);
		}
	});
}

/*
 * Whether a domain of this type may be attached at a PASID of the global allocator. In 7.2 only
 * iommu-sva.c (SVA domains at the mm's PASID) and idxd (its own PASID with the device's DMA-API
 * domain: DMA, DMA-FQ or identity, drivers/dma/idxd/init.c idxd_enable_system_pasid) attach
 * one; iommufd (iommufd/device.c) attaches paging (IOMMU_DOMAIN_UNMANAGED) and nested domains
 * at PASIDs the VMM chooses, which the allocator does not know: one of those at the number of
 * a global PASID being freed is no conflict.
 */
static bool global_pasid_domain(uint32_t type)
{
	return type != SVA_DOMAIN_UNMANAGED && type != SVA_DOMAIN_NESTED;
}

/* a's domain counted (delta 1) or not at its PASID, by kind (on_pasid_release) */
static void pasid_users_count(struct correlator *c, const struct attachment *a, int delta)
{
	if (global_pasid_domain(a->domain_type))
		pasid_count_add(&c->pasid_users, a->pasid, delta);
	if (a->domain_type == SVA_DOMAIN_SVA)
		pasid_count_add(&c->pasid_sva_users, a->pasid, delta);
}

static void pasid_users_add(struct correlator *c, const struct attachment *a, int delta)
{
	pasid_users_count(c, a, delta);
	group_use_add(c, a, delta);
}

static struct attachment *attachment_new(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->group_id = ev->group_id;
	a->pasid = ev->pasid;
	if (u64map_put(&c->attachments, attach_key(ev->group_id, ev->pasid),
		       (uint64_t)(uintptr_t)a)) {
		free(a);
		return NULL;
	}
	return a;
}

static void attachment_set(struct correlator *c, struct attachment *a, const struct sva_event *ev)
{
	bool was = a->attached;

	/*
	 * Another domain at a PASID attached already (iommu_replace_device_pasid, or an attach
	 * over one whose detach was not seen): the PASID stayed in use in its group, so its
	 * pasid-pressure count neither fell nor rose (a fall and a rise would re-arm it).
	 */
	if (was) {
		c->st.live_attachments--;
		pasid_users_count(c, a, -1);
	}
	a->attached = true;
	a->domain = ev->domain;
	a->domain_type = ev->domain_type;
	a->handle = ev->handle;
	a->mm = ev->domain_type == SVA_DOMAIN_SVA ? ev->mm : 0;
	copy_name(a->dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
	a->owner_pid = ev->tgid;
	copy_name(a->owner_comm, ev->comm, SVA_COMM_LEN);
	a->since_seq = ev->seq;
	a->since_ns = ev->ts_ns;
	a->uncertain = false;
	a->mismatch_reported = false;
	c->st.live_attachments++;
	if (was)
		pasid_users_count(c, a, 1);
	else
		pasid_users_add(c, a, 1);
}

/* The entry in c->detached that remembers it (NULL when out of memory). */
static struct recent_entry *attachment_remove(struct correlator *c, struct attachment *a,
					      uint64_t seq)
{
	struct recent_entry *e;

	if (a->attached) {
		c->st.live_attachments--;
		pasid_users_add(c, a, -1);
	}
	e = recent_put(c, &c->detached, attach_key(a->group_id, a->pasid), seq, a->owner_pid,
		       a->owner_comm, a->dev_name, a->group_id, a->pasid);
	if (e) {
		e->domain = a->domain;
		e->domain_type = a->domain_type;
		e->since_seq = a->unknown_origin ? UINT64_MAX : a->since_seq;
		e->detach_ns = 0;
		e->busy_told = false;
	}
	u64map_del(&c->attachments, attach_key(a->group_id, a->pasid));
	free(a);
	return e;
}

static void pasid_state_finding(struct correlator *c, const struct sva_event *ev,
				const struct attachment *a, enum finding_severity sev,
				const char *msg)
{
	struct finding_subject s = a ? subject_of_attachment(a) : subject_of_event(ev);
	uint64_t evidence[2];
	int n = 0;

	if (a && !a->unknown_origin)
		add_evidence(evidence, &n, a->since_seq);
	add_evidence(evidence, &n, ev->seq);
	finding_emit(c, FINDING_PASID_STATE, sev, ev->ts_ns, &s, a ? a->uncertain : false,
		     evidence, n, "%s", msg);
}

static void type_mismatch_finding(struct correlator *c, const struct sva_event *ev,
				  struct attachment *a, uint32_t want_type, const char *what)
{
	char owner[96], t1[24], t2[24], holder[320];
	bool lookup = ev->type == SVA_REC_LOOKUP;
	struct finding_subject s;
	uint64_t evidence[2];
	int n = 0;

	if (a && a->mismatch_reported)
		return; /* once per holder: look-ups repeat at fault rate */
	if (a) {
		snprintf(holder, sizeof(holder), "%s %s domain attached by %s%s",
			 article(type_name(a->domain_type, t2, sizeof(t2))),
			 type_name(a->domain_type, t2, sizeof(t2)),
			 who(owner, sizeof(owner), a->owner_pid, a->owner_comm),
			 lookup && a->uncertain ? ", as far as the trace knows (records were lost "
						  "since: another domain may hold it now)" : "");
		s = subject_of_attachment(a);
		a->mismatch_reported = true;
		if (!a->unknown_origin)
			add_evidence(evidence, &n, a->since_seq);
	} else {
		s = subject_of_event(ev);
		s.owner_pid = 0;
	}
	add_evidence(evidence, &n, ev->seq);
	/*
	 * A typed look-up's EBUSY is itself the proof (iommu_attach_handle_get: the handle's
	 * domain type is not the one asked for), whoever holds the PASID: lost records make
	 * only its holder unsure. An attach's EBUSY is a mismatch only if the holder's type
	 * differs, which records lost may have changed (or hidden: no holder known).
	 */
	finding_emit(c, FINDING_TYPE_MISMATCH, SEV_ERROR, ev->ts_ns, &s,
		     !lookup && (a ? a->uncertain : c->lost_epoch != 0), evidence, n,
		     "%s for %s %s domain at PASID %u of group %d failed with EBUSY: the PASID is "
		     "held by %s",
		     what, article(type_name(want_type, t1, sizeof(t1))),
		     type_name(want_type, t1, sizeof(t1)), ev->pasid, ev->group_id,
		     a ? holder : "a domain of another type that was attached before tracing started");
}

/*
 * An EBUSY whose holder the records do not show yet, or show on its way out. The probes record
 * iommu_attach_device_pasid and iommu_replace_device_pasid at fexit, after the group->mutex
 * unlock, and iommu_detach_device_pasid at fentry, before the mutex is taken (iommu.c, 6.2 -
 * 7.2); the entry of group->pasid_array that a look-up (xa_lock only) or another attach
 * (group->mutex) finds taken is stored and erased inside. So, on another CPU:
 * - a holder's attach stores its entry, an EBUSY is recorded, then the attach's own record
 *   (7.2 stores it once the driver's op succeeded, xa_store; 6.11 - 6.14 store the handle
 *   before the op, xa_insert, and erase it if the op fails; 6.2 - 6.10 xa_cmpxchg the domain
 *   in before the op): the EBUSY waits for that record (busy_unknown_holder);
 * - a holder's detach is recorded, an EBUSY finds its entry still there (the driver's
 *   remove_dev_pasid runs first, then xa_erase): named from c->detached (busy_detached).
 * The SVA core's callers hold iommu_sva_lock around attach and detach; iommufd holds its
 * igroup->lock: only callers under different locks race so (an SVA bind against iommufd).
 */
#define BUSY_WAITS 8
/*
 * How long an EBUSY waits for its holder's record, in record time: that record is written
 * right after the holder's mutex_unlock, late only by as long as its task is preempted.
 */
#define BUSY_HOLDER_WAIT_NS (1000 * 1000000ull)

/* An EBUSY look-up or attach waiting for its holder's record */
struct busy_wait {
	struct sva_event ev;
	uint64_t lost_epoch; /* c->lost_epoch when it came */
};

/* Who held a PASID that an EBUSY found taken, as far as the records tell. */
struct busy_holder {
	struct finding_subject s;
	struct attachment *a; /* a holder attached now (mismatch_reported), or NULL */
	uint32_t type; /* its domain type; (uint32_t)-1 not known */
	uint64_t mm; /* an SVA holder's mm, 0 not known */
	uint64_t seq[2]; /* its records (attach, detach); UINT64_MAX: none */
	char text[360]; /* "an unmanaged domain attached by ..." */
	bool uncertain;
	bool transient; /* held for a moment only: its attach failed (a warning) */
};

static void busy_holder_init(struct busy_holder *h)
{
	memset(h, 0, sizeof(*h));
	h->type = (uint32_t)-1;
	h->seq[0] = h->seq[1] = UINT64_MAX;
}

/* The finding for an EBUSY look-up or attach (ev) whose holder h was found at last. */
static void busy_finding(struct correlator *c, const struct sva_event *ev,
			 const struct busy_holder *h)
{
	uint32_t want = ev->type == SVA_REC_LOOKUP ? ev->aux : ev->domain_type;
	uint64_t evidence[FINDING_MAX_EVIDENCE], seqs[3] = { h->seq[0], h->seq[1], ev->seq };
	char t1[24];
	int n = 0;

	if (h->a && h->a->mismatch_reported && ev->type == SVA_REC_LOOKUP)
		return; /* once per holder, as type_mismatch_finding */
	/* in seq order: the holder's records may come before or after the EBUSY's */
	for (int i = 1; i < 3; i++)
		for (int j = i; j > 0 && seqs[j] < seqs[j - 1]; j--) {
			uint64_t t = seqs[j];

			seqs[j] = seqs[j - 1];
			seqs[j - 1] = t;
		}
	for (int i = 0; i < 3 && seqs[i] != UINT64_MAX; i++)
		add_evidence(evidence, &n, seqs[i]);
	if (ev->type == SVA_REC_ATTACH && h->type == ev->domain_type) {
		/* 6.8 - 6.10: the SVA core's own attach where the mm's domain is (on_attach) */
		if (h->type == SVA_DOMAIN_SVA && h->mm && h->mm == ev->mm)
			return;
		finding_emit(c, FINDING_PASID_STATE, SEV_WARNING, ev->ts_ns, &h->s, h->uncertain,
			     evidence, n,
			     "attach over an occupied PASID: another domain of the same type is "
			     "attached there (EBUSY): %s", h->text);
		return;
	}
	if (h->a)
		h->a->mismatch_reported = true;
	finding_emit(c, FINDING_TYPE_MISMATCH, h->transient ? SEV_WARNING : SEV_ERROR, ev->ts_ns,
		     &h->s, h->uncertain, evidence, n,
		     "%s for %s %s domain at PASID %u of group %d failed with EBUSY: the PASID is "
		     "held by %s",
		     ev->type == SVA_REC_LOOKUP ? "handle look-up" : "attach",
		     article(type_name(want, t1, sizeof(t1))), type_name(want, t1, sizeof(t1)),
		     ev->pasid, ev->group_id, h->text);
}

/* "an unmanaged domain" into buf */
static const char *a_domain(char *buf, size_t len, uint32_t type)
{
	char t[24];
	const char *name = type_name(type, t, sizeof(t));

	snprintf(buf, len, "%s %s domain", article(name), name);
	return buf;
}

/*
 * The holder's detach was recorded (fentry) and its entry not erased yet when the EBUSY came:
 * a detach recorded less than BUSY_HOLDER_WAIT_NS before it, with no attach since (an attach
 * takes the key out of c->detached) and nothing lost since. Once per detached holder.
 */
static bool busy_detached(struct correlator *c, const struct sva_event *ev)
{
	struct recent_entry *e = recent_get(&c->detached, attach_key(ev->group_id, ev->pasid));
	char owner[96], dom[40];
	struct busy_holder h;

	if (!e || !e->detach_ns || e->lost_epoch != c->lost_epoch || e->seq > ev->seq ||
	    ev->ts_ns > e->detach_ns + BUSY_HOLDER_WAIT_NS)
		return false;
	if (e->busy_told)
		return true;
	e->busy_told = true;
	busy_holder_init(&h);
	h.type = e->domain_type;
	h.seq[0] = e->since_seq;
	h.seq[1] = e->seq;
	h.s.group_id = e->group_id;
	h.s.pasid = e->pasid;
	h.s.domain = e->domain;
	copy_name(h.s.dev_name, e->dev_name, SVA_DEV_NAME_LEN);
	a_domain(dom, sizeof(dom), e->domain_type);
	if (e->since_seq == UINT64_MAX) {
		snprintf(h.text, sizeof(h.text), "%s attached before tracing started, being "
			 "detached by %s (event %" PRIu64 ", recorded before its entry is erased)",
			 dom,
			 who(owner, sizeof(owner), e->owner_pid, e->owner_comm), e->seq);
	} else {
		h.s.owner_pid = e->owner_pid;
		copy_name(h.s.owner_comm, e->owner_comm, SVA_COMM_LEN);
		snprintf(h.text, sizeof(h.text), "%s attached by %s, being detached (event %" PRIu64
			 ", recorded before its entry is erased)", dom,
			 who(owner, sizeof(owner), e->owner_pid, e->owner_comm), e->seq);
	}
	busy_finding(c, ev, &h);
	return true;
}

/*
 * The holder never showed: attached before tracing started, as far as the trace can tell.
 * Not so when the state read at start-up had every PASID array and nothing was lost since:
 * then no domain held that PASID. An attach's EBUSY then came from a 7.x group reset
 * (iommu_attach_device_pasid: group->recovery_cnt) whose end, by a
 * pci_dev_reset_iommu_done waiting for the attach's group->mutex, came before the fexit
 * read `resetting`: uncertain, never a certain type mismatch. (A look-up's EBUSY needs a
 * handle of another type: its kind is certain whoever held it.)
 */
static void busy_unknown_finding(struct correlator *c, const struct sva_event *ev)
{
	struct finding_subject s;
	char t[24];

	if (ev->type == SVA_REC_ATTACH && c->pasid_arrays_read && !c->lost_epoch) {
		s = subject_of_event(ev);
		s.owner_pid = 0;
		finding_emit(c, FINDING_TYPE_MISMATCH, SEV_WARNING, ev->ts_ns, &s,
			     DOUBT_HOLDER_UNSEEN, (uint64_t[]){ ev->seq }, 1,
			     "attach for %s %s domain at PASID %u of group %d failed with EBUSY, but "
			     "no domain was seen there (none in the state read at start-up, none "
			     "attached since): most likely refused during a group reset (7.x) that "
			     "ended before the record was written",
			     article(type_name(ev->domain_type, t, sizeof(t))),
			     type_name(ev->domain_type, t, sizeof(t)), ev->pasid, ev->group_id);
		return;
	}
	if (ev->type == SVA_REC_LOOKUP)
		type_mismatch_finding(c, ev, NULL, ev->aux, "handle look-up");
	else
		type_mismatch_finding(c, ev, NULL, ev->domain_type, "attach");
}

/* (in arrival order: the first is the oldest) */
static void busy_wait_drop(struct correlator *c, uint32_t i)
{
	c->nbusy_waits--;
	memmove(&c->busy_waits[i], &c->busy_waits[i + 1],
		(c->nbusy_waits - i) * sizeof(c->busy_waits[0]));
}

/* An EBUSY look-up or attach with no known holder: named now, or waits for its holder. */
static void busy_unknown_holder(struct correlator *c, const struct sva_event *ev)
{
	if (busy_detached(c, ev))
		return;
	for (uint32_t i = 0; i < c->nbusy_waits; i++)
		if (c->busy_waits[i].ev.group_id == ev->group_id &&
		    c->busy_waits[i].ev.pasid == ev->pasid && c->busy_waits[i].ev.type == ev->type)
			return; /* one finding per holder */
	if (!c->busy_waits) {
		c->busy_waits = calloc(BUSY_WAITS, sizeof(*c->busy_waits));
		if (!c->busy_waits) {
			busy_unknown_finding(c, ev);
			return;
		}
	}
	if (c->nbusy_waits == BUSY_WAITS) {
		busy_unknown_finding(c, &c->busy_waits[0].ev); /* the oldest */
		busy_wait_drop(c, 0);
	}
	c->busy_waits[c->nbusy_waits].ev = *ev;
	c->busy_waits[c->nbusy_waits++].lost_epoch = c->lost_epoch;
}

/*
 * A record at a PASID that EBUSYs wait at: a successful attach or replace (the holder,
 * attached as a now), a failed attach, or a detach of a holder attached before tracing.
 */
static void busy_waits_resolve(struct correlator *c, const struct sva_event *rec,
			       struct attachment *a)
{
	char owner[96], dom[40], err[16];
	struct busy_holder h;
	const char *e;

	for (uint32_t i = 0; i < c->nbusy_waits;) {
		const struct sva_event *w = &c->busy_waits[i].ev;

		if (w->group_id != rec->group_id || w->pasid != rec->pasid || w->seq > rec->seq) {
			i++;
			continue;
		}
		/* a look-up's EBUSY was over another type: not this domain (records lost?) */
		if (w->type == SVA_REC_LOOKUP && rec->domain_type == w->aux) {
			i++;
			continue;
		}
		busy_holder_init(&h);
		a_domain(dom, sizeof(dom), rec->domain_type);
		if (a) {
			h.a = a;
			h.s = subject_of_attachment(a);
			h.type = a->domain_type;
			h.mm = a->mm;
			h.seq[0] = rec->seq;
			snprintf(h.text, sizeof(h.text), "%s attached by %s, whose attach is "
				 "recorded after this EBUSY (event %" PRIu64 "; it returns after "
				 "storing the PASID's entry)", dom,
				 who(owner, sizeof(owner), a->owner_pid, a->owner_comm),
				 (uint64_t)rec->seq);
		} else if (rec->type == SVA_REC_DETACH) {
			h.s = subject_of_event(rec);
			h.s.owner_pid = 0;
			h.s.owner_comm[0] = '\0';
			h.type = rec->domain_type;
			h.seq[0] = rec->seq;
			snprintf(h.text, sizeof(h.text), "%s attached before tracing started "
				 "(detached by %s, event %" PRIu64 ")", dom,
				 who(owner, sizeof(owner), rec->tgid, rec->comm),
				 (uint64_t)rec->seq);
		} else {
			/*
			 * A failed attach whose driver op ran (a callee is its cause): its entry
			 * was in the array meanwhile on 6.11 - 6.14 only. Attaches serialise on
			 * group->mutex, so it never made another attach fail; a look-up of
			 * another type it did.
			 */
			if (w->type != SVA_REC_LOOKUP) {
				i++;
				continue;
			}
			e = sva_errno_name(rec->ret);
			if (!e) {
				snprintf(err, sizeof(err), "%" PRId64, (int64_t)rec->ret);
				e = err;
			}
			h.s = subject_of_event(rec);
			h.type = rec->domain_type;
			h.seq[0] = rec->seq;
			h.transient = true;
			snprintf(h.text, sizeof(h.text), "%s that %s was attaching, for a "
				 "moment: that attach failed with %s (event %" PRIu64 "); "
				 "6.11 - 6.14 store the handle before the driver's op runs and "
				 "erase it if the op fails", dom,
				 who(owner, sizeof(owner), rec->tgid, rec->comm), e,
				 (uint64_t)rec->seq);
		}
		/*
		 * A look-up's EBUSY is a mismatch whoever held it; an attach's finding depends
		 * on the holder's type, which records lost since may have hidden.
		 */
		h.uncertain = w->type == SVA_REC_ATTACH &&
			      ((a && a->uncertain) ||
			       c->busy_waits[i].lost_epoch != c->lost_epoch);
		busy_finding(c, w, &h);
		busy_wait_drop(c, i);
	}
}

/* EBUSYs whose holder did not show in BUSY_HOLDER_WAIT_NS (at the end, UINT64_MAX: all) */
static __attribute__((noinline)) void busy_waits_expire(struct correlator *c, uint64_t now_ns)
{
	for (uint32_t i = 0; i < c->nbusy_waits;) {
		if (now_ns != UINT64_MAX &&
		    c->busy_waits[i].ev.ts_ns + BUSY_HOLDER_WAIT_NS > now_ns) {
			i++;
			continue;
		}
		busy_unknown_finding(c, &c->busy_waits[i].ev);
		busy_wait_drop(c, i);
	}
}

static void on_attach(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);

	if (ev->ret == -EBUSY) {
		/*
		 * 7.x refuses PASID attaches while the group is being reset
		 * (iommu_attach_device_pasid: group->resetting_domain): no domain holds the
		 * PASID for that, so it is neither an occupant nor a type mismatch.
		 */
		if (ev->flags & SVA_EVF_GROUP_RESETTING) {
			if (ev->domain_type == SVA_DOMAIN_SVA)
				pending_add(&c->reset_busy, ev->pid, ev->pasid);
			return;
		}
		/*
		 * The SVA core's own attach at the mm's PASID, in a group where the same mm's
		 * SVA domain holds it: 6.8-6.10 find a bond by device (iommu_sva_bind_device:
		 * handle->dev == dev), so another device of the group tries the mm's domains
		 * there and gets EBUSY (iommu_attach_device_pasid, xa_cmpxchg). No caller
		 * attached over a PASID: the bind it fails says why (explain_busy_bind).
		 */
		if (a && a->attached && a->domain_type == SVA_DOMAIN_SVA &&
		    ev->domain_type == SVA_DOMAIN_SVA && a->mm && a->mm == ev->mm)
			return;
		/* only an SVA bind's own attach has a bind to wait for */
		if (ev->domain_type == SVA_DOMAIN_SVA)
			pending_add(&c->busy, ev->pid, ev->pasid);
		if (!a || !a->attached)
			busy_unknown_holder(c, ev);
		else if (a->domain_type == ev->domain_type)
			pasid_state_finding(c, ev, a, SEV_WARNING,
					    "attach over an occupied PASID: another domain of the same "
					    "type is attached there (EBUSY)");
		else
			type_mismatch_finding(c, ev, a, ev->domain_type, "attach");
		return;
	}
	if (ev->ret != 0) {
		/* failed with its driver op's error: see busy_waits_resolve */
		if (c->nbusy_waits && ev->cause_func && !(ev->cause_flags & SVA_CAUSE_INLINE))
			busy_waits_resolve(c, ev, NULL);
		return;
	}
	if (a && a->attached && a->domain != ev->domain) {
		/* The kernel refuses this; seeing it means we missed a detach. */
		pasid_state_finding(c, ev, a, SEV_WARNING,
				    "attach over an occupied PASID succeeded: a detach was not "
				    "seen");
	}
	if (!a) {
		a = attachment_new(c, ev);
		if (!a)
			return;
		recent_del(&c->detached, attach_key(ev->group_id, ev->pasid));
	}
	attachment_set(c, a, ev);
	if (c->nbusy_waits)
		busy_waits_resolve(c, ev, a);
}

static void on_replace(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);

	if (ev->ret != 0)
		return;
	if (!a) {
		if (recent_get(&c->detached, attach_key(ev->group_id, ev->pasid)))
			pasid_state_finding(c, ev, NULL, SEV_WARNING,
					    "replace on a PASID that was detached: nothing to replace");
		a = attachment_new(c, ev);
		if (!a)
			return;
		a->unknown_origin = true;
	}
	attachment_set(c, a, ev);
	if (c->nbusy_waits)
		busy_waits_resolve(c, ev, a);
}

static void on_detach(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);
	struct recent_entry *gone;

	if (!a) {
		gone = recent_get(&c->detached, attach_key(ev->group_id, ev->pasid));
		if (gone) {
			struct finding_subject s = subject_of_event(ev);
			uint64_t evidence[2] = { gone->seq, ev->seq };

			finding_emit(c, FINDING_PASID_STATE, SEV_ERROR, ev->ts_ns, &s,
				     gone->lost_epoch != c->lost_epoch, evidence, 2,
				     "detach without attach: PASID %u of group %d was already "
				     "detached (event %" PRIu64 ")",
				     ev->pasid, ev->group_id, gone->seq);
			recent_del(&c->detached, attach_key(ev->group_id, ev->pasid));
		}
		/* else: attached before tracing started; nothing to say */
		if (c->nbusy_waits)
			busy_waits_resolve(c, ev, NULL); /* that holder's EBUSYs */
		gone = recent_put(c, &c->detached, attach_key(ev->group_id, ev->pasid), ev->seq,
				  ev->tgid, ev->comm, ev->dev_name, ev->group_id, ev->pasid);
		if (gone) {
			gone->domain = ev->domain;
			gone->domain_type = ev->domain_type;
			gone->since_seq = UINT64_MAX;
			gone->detach_ns = ev->ts_ns;
			gone->busy_told = false;
		}
		return;
	}
	/*
	 * Recorded before the read ended (at fentry, before the xa_erase): the read saw it
	 * attached before the erase, or attached again after it, whose attach is recorded
	 * later (fexit) whether before next_seq or after. Another domain: attached again.
	 * The same: detached now (a record of its attach again re-creates it); kept, it
	 * made the mm's mm_pasid_drop a certain "released while still attached".
	 */
	if (a->at_start && ev->seq < c->seed_seq && a->domain && ev->domain &&
	    a->domain != ev->domain)
		return;
	if (a->domain && ev->domain && a->domain != ev->domain)
		pasid_state_finding(c, ev, a, SEV_ERROR,
				    "detach names another domain than the one attached at this "
				    "PASID");
	gone = attachment_remove(c, a, ev->seq);
	if (gone)
		gone->detach_ns = ev->ts_ns;
}

static void on_lookup(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a;

	if (ev->ret != -EBUSY)
		return;
	/*
	 * The fault path's fallback (io-pgfault.c find_fault_handler, 6.11 - 7.2): a fault at a
	 * PASID with no handle, on a driver with a user-managed PASID table, is looked up again
	 * at the RID as IOMMU_DOMAIN_NESTED. EBUSY there says only that the RID's domain is not
	 * a nested one (the usual case); the fault is dropped for want of a handler at its own
	 * PASID, which is no domain of the wrong type holding a PASID.
	 */
	if (ev->aux == SVA_DOMAIN_NESTED && ev->pasid == 0)
		return;
	a = attachment_get(c, ev->group_id, ev->pasid);
	/* only an SVA bind's own look-up has a bind to wait for */
	if (ev->aux == SVA_DOMAIN_SVA)
		pending_add(&c->busy, ev->pid, ev->pasid);
	/* (one of the type asked for cannot be it: the trace's view is stale, records lost) */
	if (a && a->attached && a->domain_type != ev->aux)
		type_mismatch_finding(c, ev, a, ev->aux, "handle look-up");
	else
		busy_unknown_holder(c, ev);
}

/*
 * mm_pasid_drop runs when the mm's last reference goes, and a bond still bound holds its
 * SVA domain's grab of the mm (iommu_sva_bind_device -> mmgrab), so it cannot run while
 * any bond of that mm is bound. A bond of that mm that still looks bound is one whose
 * unbind was among lost records (it is uncertain): it ended, and so did the uncertain
 * attachments of that mm's SVA domain (their detach was lost with it).
 */
static void end_lost_bonds_of_mm(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *gone[64];
	struct mm_state *m;
	int ngone = 0;
	uint64_t v;

	if (!ev->mm)
		return;
	/* its exit_mmap came first (mm/mmap.c exit_mmap, then __mmdrop): out of the index */
	if (c->exited_states.len && u64map_get(&c->exited_states, ev->mm, &v)) {
		m = (struct mm_state *)(uintptr_t)v;
		u64map_del(&c->exited_states, ev->mm);
	} else {
		m = mm_get(c, ev->mm, false);
	}
	for (struct bond *b = m ? m->bonds : NULL, *next; b; b = next) {
		next = b->mm_next;
		/*
		 * 6.8+: a handle's SVA domain holds its mm (iommu_sva_domain_alloc's mmgrab,
		 * dropped by iommu_domain_free after the domain's last handle: iommu-sva.c and
		 * iommu.c 6.12, 7.2), and mm_pasid_drop runs only in __mmdrop (kernel/fork.c),
		 * once nothing holds the mm: every bond of it is gone, a certain one too. Its
		 * unbind was not recorded: begun before the probes were attached (a bond read at
		 * start-up, whose unbind raced the attach), or missed by a probe. Not a leak; a
		 * leak already reported is retracted. 6.2 - 6.7 (a count of the shared domain):
		 * a bind of another mm may have been handed this mm's domain (cross-mm), whose
		 * mm is then not the bond's; only a bond in doubt is ended there, as before.
		 * (ending the last bond frees m; next is then NULL)
		 */
		if (b->uncertain || !b->domain_counted) {
			c->st.inferred_unbinds++;
			if (b->leak_reported)
				leak_resolved(c, b, ev);
			bond_end(c, b, ev);
		}
	}
	if (!c->lost_epoch)
		return; /* nothing is uncertain before a loss */
	u64map_for_each(&c->attachments, key, val, {
		struct attachment *a = (struct attachment *)(uintptr_t)val;

		(void)key;
		if (a->mm == ev->mm && a->uncertain && a->attached && ngone < 64)
			gone[ngone++] = a;
	});
	for (int i = 0; i < ngone; i++)
		attachment_remove(c, gone[i], ev->seq);
}

static void on_pasid_release(struct correlator *c, const struct sva_event *ev)
{
	uint64_t n = 0, n_sva = 0;
	bool uncertain = false, sva_only = false, crowded = false;
	enum pending_match drop;
	char msg[FINDING_MSG_LEN];

	if (ev->type == SVA_REC_MM_PASID_DROP) {
		end_lost_bonds_of_mm(c, ev);
		/*
		 * mm_pasid_drop (iommu-sva.c 6.12, 7.2) calls iommu_free_global_pasid and
		 * nothing else traced: that free is the thread's next record, whatever other
		 * CPUs recorded in between.
		 */
		pending_add(&c->drops, ev->pid, ev->pasid);
		sva_only = true;
	} else {
		drop = pending_take(&c->drops, ev->pid, ev->pasid);
		/* iommu_free_global_pasid called by that mm_pasid_drop (6.6+) */
		sva_only = drop == PENDING_FOUND;
		/*
		 * Or maybe: that mm_pasid_drop's wait was lost. An SVA domain at the PASID
		 * conflicts with either free; only another global one is then unsure.
		 */
		crowded = drop == PENDING_UNSURE && ev->pasid != SVA_PASID_NONE &&
			  !(u64map_get(&c->pasid_sva_users, ev->pasid, &n_sva) && n_sva);
	}
	/*
	 * An mm's PASID is an SVA PASID; any other free (idxd's own PASID, or an mm's whose
	 * mm_pasid_drop was not seen) conflicts with the domains a global PASID is attached
	 * with (global_pasid_domain). iommufd attaches paging and nested domains at PASIDs the
	 * VMM chooses, not from the global allocator, so one of those at the same number is no
	 * conflict.
	 */
	if (ev->pasid == SVA_PASID_NONE ||
	    !u64map_get(sva_only ? &c->pasid_sva_users : &c->pasid_users, ev->pasid, &n) || !n)
		return;
	/* An attachment whose detach may be among lost records makes this unprovable. */
	if (c->lost_epoch) {
		u64map_for_each(&c->attachments, key, val, {
			const struct attachment *a = (const struct attachment *)(uintptr_t)val;

			(void)key;
			if (a->pasid == ev->pasid && a->attached && a->uncertain &&
			    (sva_only ? a->domain_type == SVA_DOMAIN_SVA :
					global_pasid_domain(a->domain_type)))
				uncertain = true;
		});
	}
	snprintf(msg, sizeof(msg),
		 "PASID %u released while still attached to %" PRIu64 " device(s)%s: the "
		 "allocator may hand it out again while a device still uses it",
		 ev->pasid, n, sva_only ? " as an SVA PASID" : "");
	{
		struct finding_subject s = subject_of_event(ev);

		finding_emit(c, FINDING_PASID_STATE, SEV_ERROR, ev->ts_ns, &s,
			     doubt_of(uncertain, crowded), (uint64_t[]){ ev->seq }, 1, "%s", msg);
	}
}

/* ---- processes, mms and leaks ---- */

static void leak_queue_push(struct correlator *c, const struct bond *b, uint64_t deadline)
{
	if (c->leaks_len == c->leaks_cap) {
		size_t ncap = c->leaks_cap ? c->leaks_cap * 2 : 64;
		struct leak_check *n = malloc(ncap * sizeof(*n));

		if (!n)
			return;
		for (size_t i = 0; i < c->leaks_len; i++)
			n[i] = c->leaks[(c->leaks_head + i) % c->leaks_cap];
		free(c->leaks);
		c->leaks = n;
		c->leaks_cap = ncap;
		c->leaks_head = 0;
	}
	c->leaks[(c->leaks_head + c->leaks_len) % c->leaks_cap] =
		(struct leak_check){ b->handle, b->created_seq, deadline };
	c->leaks_len++;
}

static const char no_comm[SVA_COMM_LEN];

/* m's names of who left it, allocated at the first need (out of memory: none, unnamed). */
static struct mm_gone *mm_names(struct mm_state *m)
{
	if (!m->names)
		m->names = calloc(1, sizeof(*m->names));
	return m->names;
}

/* No task using m is left: its bonds get the grace, then are judged. */
static void mm_gone(struct correlator *c, struct mm_state *m, uint64_t ts_ns, uint32_t tgid,
		    const char *comm)
{
	m->gone_ns = ts_ns;
	m->gone_tgid = tgid;
	if (tgid && mm_names(m)) /* (exit_mmap's comm is not an owner's: never named) */
		copy_name(m->names->gone_comm, comm, SVA_COMM_LEN);
	for (struct bond *b = m->bonds; b; b = b->mm_next) {
		b->owner_exit_ns = ts_ns;
		leak_queue_push(c, b, ts_ns + c->opts.leak_grace_ns);
	}
}

/* Every owner of m exited: gone now, or (exit_mmap expected) when its mm_exit comes. */
static void mm_owners_gone(struct correlator *c, struct mm_state *m, const struct sva_event *ev)
{
	m->owners_gone_ns = ev->ts_ns;
	m->owners_gone_tgid = ev->tgid;
	if (mm_names(m))
		copy_name(m->names->owners_gone_comm, ev->comm, SVA_COMM_LEN);
	if (!m->gone_ns && !mm_exit_expected(c, m))
		mm_gone(c, m, ev->ts_ns, ev->tgid, ev->comm);
}

static void on_exit_event(struct correlator *c, const struct sva_event *ev)
{
	struct mm_state *one, **mms;
	uint32_t nr;
	uint64_t v;

	/* A thread that is not the last of its group leaves the process, and the mm, alive. */
	if (!(ev->flags & SVA_EVF_GROUP_DEAD))
		return;
	if (ev->tgid) {
		c->exited[c->exited_next] = ev->tgid;
		c->exited_next = (c->exited_next + 1) % EXITED_RECENT;
	}
	nr = proc_mms(c, ev->tgid, &v, &one, &mms);
	if (!nr)
		return;
	for (uint32_t i = 0; i < nr; i++) {
		struct mm_state *m = mms[i];
		struct mm_owner *owners = mm_owners(m);

		for (uint32_t k = 0; k < m->nr_owners; k++) {
			if (owners[k].tgid != ev->tgid || owners[k].dead)
				continue;
			owners[k].dead = true;
			m->live_owners--;
		}
		if (!m->live_owners && !m->gone_ns)
			mm_owners_gone(c, m, ev);
	}
	proc_free(c, ev->tgid, v);
}

/*
 * m is exited and has a bond its mm_pasid_drop would end (end_lost_bonds_of_mm): one whose
 * unbind may be lost, or any of 6.8+, whose domain holds the mm: found again at that drop.
 */
static void exited_state_keep(struct correlator *c, struct mm_state *m)
{
	for (struct bond *b = m->bonds; b; b = b->mm_next) {
		if (b->uncertain || !b->domain_counted) {
			u64map_put(&c->exited_states, m->key, (uint64_t)(uintptr_t)m);
			return;
		}
	}
}

/* exit_mmap: no task uses this mm any more, whoever the trace saw or did not see. */
static void on_mm_exit(struct correlator *c, const struct sva_event *ev)
{
	struct mm_state *m = ev->mm ? mm_get(c, ev->mm, false) : NULL;

	if (ev->mm)
		u64map_del(&c->exit_mms, ev->mm);
	if (!m) {
		/* a bond bound before tracing may yet show up, at an unbind */
		if (ev->mm)
			gone_mm_put(c, ev->mm, ev->ts_ns);
		return;
	}
	/* The address may come back as another mm: that one starts afresh (and m is exited). */
	objmap_del(&c->mms, m);
	if (m->bonds)
		exited_state_keep(c, m);
	if (!m->gone_ns)
		mm_gone(c, m, ev->ts_ns, 0, ev->comm);
}

static void leak_finding(struct correlator *c, struct bond *b, uint64_t now_ns)
{
	const struct mm_state *m = b->mms;
	char owner[96], went[320], owners[80];
	struct finding_subject s = subject_of_bond(b);
	uint64_t evidence[FINDING_MAX_EVIDENCE];
	int n = 0;

	b->leak_reported = true;
	b->leak_ns = now_ns;
	for (uint32_t i = 0; i < bond_steps_kept(b); i++)
		add_evidence(evidence, &n, bond_step_at(b, i).seq);
	snprintf(owners, sizeof(owners), "%u process%s bound or unbound it",
		 m ? m->nr_owners : 1, m && m->nr_owners != 1 ? "es" : "");
	if (b->at_start && !b->nr_binds && !b->nr_unbinds)
		snprintf(owners, sizeof(owners), "bound before tracing began, read from the "
			 "kernel's state");
	else if (m && !m->nr_owners && b->nr_steps && bond_step_at(b, 0).ts_ns >= m->gone_ns)
		snprintf(owners, sizeof(owners), "bound before tracing began, first seen after "
			 "its mm went");
	else if (m && !m->nr_owners)
		snprintf(owners, sizeof(owners), "bound before tracing began, unbound by kernel "
			 "workers only");
	/*
	 * Only what the trace shows: exit_mmap means no task uses the mm; without it, that
	 * every process seen binding or unbinding exited (one never seen may use the mm).
	 */
	if (m && m->gone_tgid)
		snprintf(went, sizeof(went), "the last process seen using its mm exited (%s; %s, "
			 "none is left)",
			 who(owner, sizeof(owner), m->gone_tgid, m->names ? m->names->gone_comm : no_comm),
			 owners);
	else
		snprintf(went, sizeof(went), "its mm was torn down (exit_mmap: no task uses it; "
			 "%s)", owners);
	finding_emit(c, FINDING_LEAK, SEV_ERROR, now_ns, &s, b->uncertain, evidence, n,
		     "bond still bound %.1f s after %s: users %" PRId64 ", %" PRIu64 " binds, %"
		     PRIu64 " unbinds, no unbind since; the PASID and the mm stay pinned while it "
		     "is bound",
		     (double)(now_ns - b->owner_exit_ns) / 1e9, went, b->expected_users,
		     b->nr_binds, b->nr_unbinds);
}

/* The leak checks due by now_ns (out of line: see correlator_tick) */
static __attribute__((noinline)) void leak_checks_due(struct correlator *c, uint64_t now_ns)
{
	while (c->leaks_len) {
		struct leak_check *l = &c->leaks[c->leaks_head];
		struct bond *b;

		if (l->deadline_ns > now_ns)
			break;
		b = bond_get(c, l->handle);
		if (b && b->created_seq == l->created_seq && !b->leak_reported && !b->unresolved &&
		    b->owner_exit_ns && b->owner_exit_ns + c->opts.leak_grace_ns <= now_ns) {
			/*
			 * A leak is the absence of an unbind, and lost records are exactly
			 * where an unbind can go missing: a bond that lived through a loss
			 * is not called a leak. It stays outstanding, flagged uncertain,
			 * and is counted as unresolved.
			 */
			if (b->uncertain) {
				b->unresolved = true;
				c->st.unresolved_bonds++;
			} else {
				leak_finding(c, b, now_ns);
			}
		}
		c->leaks_head = (c->leaks_head + 1) % c->leaks_cap;
		c->leaks_len--;
	}
}

/*
 * Called for every record: two tests, then calls out of line, so that no registers are saved
 * when neither has work (inlined, the two loops cost every record ~19 instructions).
 */
void correlator_tick(struct correlator *c, uint64_t now_ns)
{
	if (c->nbusy_waits)
		busy_waits_expire(c, now_ns);
	if (c->leaks_len)
		leak_checks_due(c, now_ns);
}

void correlator_end_of_records(struct correlator *c)
{
	/* the holders that never showed: attached before tracing, as far as it can tell */
	if (c->nbusy_waits)
		busy_waits_expire(c, UINT64_MAX);
}

void correlator_finish(struct correlator *c, uint64_t now_ns)
{
	correlator_tick(c, now_ns);
	correlator_end_of_records(c);
	/* Readings above what the trace explained, which no later bind explained. */
	for (struct bond *b = c->live_head; b; b = b->next) {
		struct finding_subject s = subject_of_bond(b);

		if (!b->domain_counted && b->ledger.owed > 0) {
			ledger_owed_finding(c, &s, b->nr_steps ? bond_step_at(b, 0).seq : UINT64_MAX,
					    b->uncertain, &b->ledger, now_ns, false);
			b->ledger.owed = 0;
			b->ledger.owed_forgiven_n = 0;
		}
	}
	u64map_for_each(&c->domains, key, val, {
		struct domain_count *d = (struct domain_count *)(uintptr_t)val;

		(void)key;
		if (d->ledger.owed > 0) {
			ledger_owed_finding(c, &d->subject, UINT64_MAX, d->uncertain, &d->ledger,
					    now_ns, true);
			d->ledger.owed = 0;
			d->ledger.owed_forgiven_n = 0;
		}
	});
}

/* Records may be missing from here on: what is live now may have changed unseen. */
static void mark_uncertain(struct correlator *c)
{
	c->lost_epoch++;
	/* the free of any PASID held now may be among the lost records */
	if (c->gp_words) {
		memset(c->gp_sure, 0, c->gp_words * sizeof(uint64_t));
		/* and a PASID freed before may have been allocated again among them */
		memset(c->gp_freed, 0, c->gp_words * sizeof(uint64_t));
	}
	for (struct bond *b = c->live_head; b; b = b->next) {
		b->uncertain = DOUBT_LOST;
		/* an exited mm: found again at its mm_pasid_drop */
		if (b->mms && b->mms->gone_ns && mm_exited(c, b->mms))
			u64map_put(&c->exited_states, b->mms->key, (uint64_t)(uintptr_t)b->mms);
	}
	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		((struct attachment *)(uintptr_t)val)->uncertain = true;
	});
	u64map_for_each(&c->domains, key, val, {
		(void)key;
		((struct domain_count *)(uintptr_t)val)->uncertain = DOUBT_LOST;
	});
	gone_mms_clear(c);
	/*
	 * An mm_exit (or the bind that made an mm expect one) may be among the lost records:
	 * the mms live now are judged by process exits from here on, those whose owners all
	 * exited already from that exit. A later bind of an mm shows it alive, expecting again.
	 */
	if (c->opts.mm_exit_traced && c->exit_mms.len) {
		u64map_free(&c->exit_mms);
		if (u64map_init(&c->exit_mms, 64))
			c->opts.mm_exit_traced = false;
		/*
		 * Every mm state has a live bond (it is freed with its last): visited through
		 * them, those still in the mms index; a second bond of one finds it gone already.
		 * (The leak checks this queues are of bonds now uncertain: their order makes no
		 * finding.)
		 */
		for (struct bond *b = c->live_head; b; b = b->next) {
			struct mm_state *m = b->mms;

			if (m && !m->gone_ns && !m->live_owners && m->owners_gone_ns &&
			    !mm_exited(c, m))
				mm_gone(c, m, m->owners_gone_ns, m->owners_gone_tgid,
					m->names ? m->names->owners_gone_comm : no_comm);
		}
	}
}

void correlator_lost(struct correlator *c, uint64_t n, uint64_t ts_ns)
{
	(void)ts_ns;
	c->st.lost += n;
	mark_uncertain(c);
}

/*
 * Loss is told, not guessed from sequence numbers: the session (session.h) restores order
 * and tells correlator_lost() where records went missing (the kernel's counter, a gap still
 * open after the reorder window), once, at that position.
 */
/*
 * The lookahead's prefetch stages (correlator_feed). Inline where they are used: GCC takes
 * a function of prefetches alone for one without effects and drops the calls to it.
 *
 * First, when a record is fed: the index slots its look-ups begin at.
 */
static inline __attribute__((always_inline)) void prefetch_slots(const struct correlator *c,
								 const struct sva_event *ev)
{
	switch (ev->type) {
	case SVA_REC_BIND:
	case SVA_REC_UNBIND:
		/* the bond; a new or last one's mm state and its owner's process */
		objmap_prefetch(&c->bonds, ev->handle);
		objmap_prefetch(&c->mms, mm_key(ev->mm, ev->tgid));
		pidmap_prefetch(&c->procs, ev->tgid);
		/* a bind checks that its PASID is held (global_pasid_settled): three bitmaps */
		if (ev->type == SVA_REC_BIND && ev->pasid / 64 < c->gp_words) {
			__builtin_prefetch(&c->gp_held[ev->pasid / 64]);
			__builtin_prefetch(&c->gp_sure[ev->pasid / 64]);
			__builtin_prefetch(&c->gp_freed[ev->pasid / 64]);
		}
		break;
	case SVA_REC_PROC_EXIT:
		pidmap_prefetch(&c->procs, ev->tgid);
		break;
	case SVA_REC_MM_PASID_DROP:
	case SVA_REC_MM_EXIT:
		objmap_prefetch(&c->mms, ev->mm);
		break;
	default:
		break;
	}
}

/* Then, some records later, the objects those slots point to (their slots are loaded). */
static inline __attribute__((always_inline)) void prefetch_objects(const struct correlator *c,
								   const struct sva_event *ev)
{
	switch (ev->type) {
	case SVA_REC_BIND:
	case SVA_REC_UNBIND:
		objmap_prefetch_object(&c->bonds, ev->handle, sizeof(struct bond));
		objmap_prefetch_object(&c->mms, mm_key(ev->mm, ev->tgid), sizeof(struct mm_state));
		break;
	case SVA_REC_PROC_EXIT:
		pidmap_prefetch_value(&c->procs, ev->tgid, PROC_ONE_MM);
		break;
	case SVA_REC_MM_PASID_DROP:
	case SVA_REC_MM_EXIT:
		objmap_prefetch_object(&c->mms, ev->mm, sizeof(struct mm_state));
		break;
	default:
		break;
	}
}

/*
 * Last, just before its turn, what its bond (loaded now) points to: the history step it
 * writes, and, for what looks like its last unbind, its neighbours in the live list and the
 * keys a deletion from the bonds and mms indexes reads. Looked up afresh: the records in
 * between may have ended the bond the objects stage saw.
 */
static inline __attribute__((always_inline)) void prefetch_links(const struct correlator *c,
								 const struct sva_event *ev)
{
	const struct bond *b;

	if (ev->type != SVA_REC_BIND && ev->type != SVA_REC_UNBIND)
		return;
	b = objmap_get(&c->bonds, ev->handle);
	if (!b)
		return;
	if (b->steps) {
		__builtin_prefetch(b->steps, 1);
		__builtin_prefetch(&b->steps[b->nr_steps < BOND_HISTORY_MAX ? b->nr_steps :
								      BOND_HISTORY_MAX - 1], 1);
	}
	/* a full history moves to the buffer its slab hands out next (bond_add_step) */
	if (b->nr_steps < BOND_HISTORY_MAX && b->nr_steps == bond_steps_cap(b)) {
		uint32_t ncap = b->nr_steps ? 2 * (uint32_t)b->nr_steps : 1;

		__builtin_prefetch(c->step_slab[__builtin_ctz(ncap)].free_list, 1);
	}
	if (ev->type == SVA_REC_UNBIND && b->expected_users <= 1) {
		if (b->prev)
			__builtin_prefetch(&b->prev->next, 1);
		if (b->next)
			__builtin_prefetch(&b->next->prev, 1);
		objmap_prefetch_run(&c->bonds, b->handle);
		if (b->mms)
			objmap_prefetch_run(&c->mms, b->mms->key);
	}
}

/* Records let straight through between two looks at the bond count. */
#define FEED_STRAIGHT 256

void correlator_feed_init(struct correlator_feed *f, struct correlator *c)
{
	f->corr = c;
	f->straight = 0;
	f->head = f->len = 0;
}

static inline const struct sva_event *feed_at(const struct correlator_feed *f, uint32_t i)
{
	return &f->ring[(f->head + i) & (CORRELATOR_FEED_RING - 1)];
}

/* The oldest record out (len > 0), after the next stages of the later ones. */
static const struct sva_event *feed_pop(struct correlator_feed *f)
{
	const struct correlator *c = f->corr;
	const struct sva_event *ev = feed_at(f, 0);

	if (c->bonds.len >= PREFETCH_MIN_BONDS) {
		if (f->len > CORRELATOR_AHEAD_OBJECTS)
			prefetch_objects(c, feed_at(f, CORRELATOR_AHEAD_OBJECTS));
		if (f->len > CORRELATOR_AHEAD_LINKS)
			prefetch_links(c, feed_at(f, CORRELATOR_AHEAD_LINKS));
	}
	f->head = (f->head + 1) & (CORRELATOR_FEED_RING - 1);
	f->len--;
	return ev;
}

_Static_assert(CORRELATOR_FEED_RING > CORRELATOR_AHEAD &&
	       !(CORRELATOR_FEED_RING & (CORRELATOR_FEED_RING - 1)) &&
	       CORRELATOR_AHEAD > CORRELATOR_AHEAD_OBJECTS &&
	       CORRELATOR_AHEAD_OBJECTS > CORRELATOR_AHEAD_LINKS && CORRELATOR_AHEAD_LINKS > 0,
	       "the lookahead's stages, in order, and room for the record handed out");

static const struct sva_event *feed_ahead(struct correlator_feed *f, const struct sva_event *ev)
{
	const struct correlator *c = f->corr;
	struct sva_event *held = &f->ring[(f->head + f->len++) & (CORRELATOR_FEED_RING - 1)];

	*held = *ev;
	if (c->bonds.len >= PREFETCH_MIN_BONDS)
		prefetch_slots(c, held);
	return f->len > CORRELATOR_AHEAD ? feed_pop(f) : NULL;
}

const struct sva_event *correlator_feed_slow(struct correlator_feed *f,
					     const struct sva_event *ev)
{
	/*
	 * Everything cached: no prefetch pays for its instructions. The next records go
	 * straight through as well (a prefetch is only a hint: the order is the same).
	 */
	if (!f->len && f->corr->bonds.len < PREFETCH_MIN_BONDS) {
		f->straight = FEED_STRAIGHT - 1;
		return ev;
	}
	return feed_ahead(f, ev);
}

const struct sva_event *correlator_feed_next(struct correlator_feed *f)
{
	return f->len ? feed_pop(f) : NULL;
}

void correlator_event(struct correlator *c, const struct sva_event *ev)
{
	c->st.events++;
	if (ev->ts_ns > c->last_ts)
		c->last_ts = ev->ts_ns;
	if (ev->max_pasids && ev->group_id >= 0)
		group_max_pasids(c, ev->group_id, ev->dev_name, ev->max_pasids, ev);
	correlator_tick(c, ev->ts_ns);
	/* a thread's record after its mm_pasid_drop: not the free that drop makes */
	if (c->drops.n && ev->type != SVA_REC_PASID_FREE && ev->type != SVA_REC_MM_PASID_DROP)
		pending_forget(&c->drops, ev->pid);
	/*
	 * An explained EBUSY waits for its bind: the thread's look-ups, attaches and PASID
	 * allocation come before it (iommu_sva_bind_device); anything else is another call.
	 */
	if ((c->busy.n || c->reset_busy.n) && ev->type != SVA_REC_LOOKUP &&
	    ev->type != SVA_REC_ATTACH && ev->type != SVA_REC_PASID_ALLOC &&
	    ev->type != SVA_REC_BIND) {
		pending_forget(&c->busy, ev->pid);
		pending_forget(&c->reset_busy, ev->pid);
	}

	switch (ev->type) {
	case SVA_REC_BIND:
		on_bind(c, ev);
		/* the bind they waited for, whatever came of it */
		if (c->busy.n)
			pending_forget(&c->busy, ev->pid);
		if (c->reset_busy.n)
			pending_forget(&c->reset_busy, ev->pid);
		/*
		 * A bound mm holds its PASID (6.4-6.5 may have no pasid_alloc record: the
		 * allocator inlined): known from the bind then. Held for certain from this
		 * record on, even if counted from before a loss: the binding thread holds the
		 * mm (mm_users), so the mm_pasid_drop that frees it comes later.
		 */
		if (ev->ret == 0 && !global_pasid_settled(c, ev->pasid))
			global_pasid_set(c, ev->pasid, true, ev);
		break;
	case SVA_REC_UNBIND: on_unbind(c, ev); break;
	case SVA_REC_ATTACH: on_attach(c, ev); break;
	case SVA_REC_REPLACE: on_replace(c, ev); break;
	case SVA_REC_DETACH: on_detach(c, ev); break;
	case SVA_REC_LOOKUP: on_lookup(c, ev); break;
	case SVA_REC_PASID_ALLOC:
		/* 6.1's pasid_existing: the mm's own, held already (added if not known) */
		if (ev->ret >= 0 && !((ev->flags & SVA_EVF_PASID_EXISTING) &&
				      global_pasid_held(c, ev->pasid)))
			global_pasid_set(c, ev->pasid, true, ev);
		break;
	case SVA_REC_PASID_FREE:
	case SVA_REC_MM_PASID_DROP:
		/* 6.1 ioasid_free from __mmdrop: the mm that had it is gone */
		if (c->state_pasid_mms.len)
			u64map_del(&c->state_pasid_mms, ev->pasid);
		on_pasid_release(c, ev);
		/*
		 * 6.6+: mm_pasid_drop, then the iommu_free_global_pasid it calls; 6.1-6.3 the
		 * inline mm_pasid_drop's ioasid_free. Either record frees it (the second finds
		 * it gone).
		 */
		global_pasid_set(c, ev->pasid, false, ev);
		break;
	case SVA_REC_PROC_EXIT: on_exit_event(c, ev); break;
	case SVA_REC_MM_EXIT: on_mm_exit(c, ev); break;
	default: break;
	}
}

struct correlator *correlator_new(const struct correlator_opts *opts)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->opts = *opts;
	c->gp_last_seq = NO_SEQ;
	if (!c->opts.leak_grace_ns)
		c->opts.leak_grace_ns = 2000000000ull;
	/* indexed in objmaps: 16-byte aligned (the four tag bits) */
	_Static_assert(sizeof(struct bond) % 16 == 0 && sizeof(struct mm_state) % 16 == 0 &&
		       sizeof(struct name_entry) % 16 == 0, "slab objects in an objmap");
	slab_init(&c->bond_slab, sizeof(struct bond));
	slab_init(&c->mm_slab, sizeof(struct mm_state));
	slab_init(&c->name_slab, sizeof(struct name_entry));
	objmap_init(&c->names, 16);
	for (int i = 0; i < STEP_CLASSES; i++)
		slab_init(&c->step_slab[i], sizeof(struct bond_step_rec) << i);
	objmap_init(&c->bonds, 1024);
	objmap_init(&c->mms, 1024);
	pidmap_init(&c->procs, 1024);
	if (u64map_init(&c->attachments, 256) ||
	    u64map_init(&c->pasid_users, 256) || u64map_init(&c->pasid_sva_users, 256) ||

	    u64map_init(&c->domains, 64) || u64map_init(&c->exit_mms, 64) ||
	    u64map_init(&c->state_pasid_mms, 16) ||
	    u64map_init(&c->gone_mms_index, 64) || u64map_init(&c->exited_states, 16) ||
	    u64map_init(&c->groups, 16) ||
	    recent_init(&c->ended_bonds) || recent_init(&c->ended_domains) ||
	    recent_init(&c->detached)) {
		correlator_free(c);
		return NULL;
	}
	return c;
}

void correlator_free(struct correlator *c)
{
	struct bond *b;

	if (!c)
		return;
	/* every mm state has a live bond: its owners array freed once, through its first */
	for (b = c->live_head; b; b = b->next) {
		struct mm_state *m = b->mms;

		if (!m)
			continue;
		for (struct bond *x = m->bonds; x; x = x->mm_next)
			x->mms = NULL;
		if (m->nr_owners > 1)
			free(m->owners);
		free(m->names);
	}
	/* bonds, mm states, histories and names go with their slabs */
	slab_destroy(&c->bond_slab);
	slab_destroy(&c->name_slab);
	objmap_free(&c->names);
	slab_destroy(&c->mm_slab);
	for (int i = 0; i < STEP_CLASSES; i++)
		slab_destroy(&c->step_slab[i]);
	if (c->attachments.slots)
		u64map_for_each(&c->attachments, key, val, {
			(void)key;
			free((void *)(uintptr_t)val);
		});
	if (c->domains.slots)
		u64map_for_each(&c->domains, key, val, {
			(void)key;
			free((void *)(uintptr_t)val);
		});
	if (c->procs.slots)
		pidmap_for_each(&c->procs, key, val, {
			struct proc_state *p = (struct proc_state *)(uintptr_t)val;

			(void)key;
			if (val & PROC_ONE_MM)
				continue;
			free(p->mms);
			free(p);
		});
	if (c->groups.slots)
		u64map_for_each(&c->groups, key, val, {
			(void)key;
			free((void *)(uintptr_t)val);
		});
	u64map_free(&c->groups);
	free(c->gp_held);
	free(c->gp_sure);
	free(c->gp_freed);
	objmap_free(&c->bonds);
	u64map_free(&c->attachments);
	u64map_free(&c->pasid_users);
	u64map_free(&c->pasid_sva_users);
	objmap_free(&c->mms);
	pidmap_free(&c->procs);
	u64map_free(&c->domains);
	u64map_free(&c->exit_mms);
	u64map_free(&c->state_pasid_mms);
	u64map_free(&c->gone_mms_index);
	u64map_free(&c->exited_states);
	free(c->gone_mms);
	recent_free(&c->ended_bonds);
	recent_free(&c->ended_domains);
	recent_free(&c->detached);
	free(c->leaks);
	free(c->busy_waits);
	free(c);
}

void correlator_set_pasid_frees_traced(struct correlator *c, bool on)
{
	c->opts.pasid_frees_untraced = !on;
}

void correlator_set_mm_exit_traced(struct correlator *c, bool on)
{
	c->opts.mm_exit_traced = on;
}

const struct bond *correlator_find_bond(const struct correlator *c, uint64_t handle)
{
	return objmap_get(&c->bonds, handle);
}

void correlator_get_stats(const struct correlator *c, struct correlator_stats *st)
{
	*st = c->st;
}

void correlator_for_each_bond(const struct correlator *c,
			      void (*fn)(const struct bond *b, void *ctx), void *ctx)
{
	for (const struct bond *b = c->live_head; b; b = b->next)
		fn(b, ctx);
}

static int cmp_attachment(const void *x, const void *y)
{
	const struct attachment *a = *(const struct attachment *const *)x;
	const struct attachment *b = *(const struct attachment *const *)y;

	return a->since_seq < b->since_seq ? -1 : a->since_seq > b->since_seq;
}

void correlator_for_each_attachment(const struct correlator *c,
				    void (*fn)(const struct attachment *a, void *ctx), void *ctx)
{
	size_t n = 0, i = 0;
	const struct attachment **all;

	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		(void)val;
		n++;
	});
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return;
	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		all[i++] = (const struct attachment *)(uintptr_t)val;
	});
	/* Map order is hash order: sort for deterministic output. */
	qsort(all, n, sizeof(*all), cmp_attachment);
	for (i = 0; i < n; i++)
		fn(all[i], ctx);
	free(all);
}

/* ---- seeding from the kernel's state ---- */

void correlator_seed_pasid_arrays_read(struct correlator *c)
{
	c->pasid_arrays_read = true;
}

void correlator_seed_begin(struct correlator *c, uint64_t snapshot_seq)
{
	c->seed_seq = snapshot_seq;
}

/* The record a seeded object is made from: no sequence number of its own. */
static struct sva_event seed_event(const struct correlator_seed *s, uint64_t ts_ns)
{
	struct sva_event ev = { 0 };

	ev.type = SVA_REC_BIND;
	ev.seq = 0;
	ev.ts_ns = ts_ns;
	ev.tgid = ev.pid = s->owner_pid;
	copy_name(ev.comm, s->owner_comm, SVA_COMM_LEN);
	ev.mm = s->mm;
	copy_name(ev.dev_name, s->dev_name, SVA_DEV_NAME_LEN);
	ev.group_id = s->group_id;
	ev.pasid = s->pasid;
	ev.domain = s->domain;
	ev.domain_type = s->domain_type;
	ev.users = s->users;
	ev.handle = s->handle;
	return ev;
}

void correlator_seed_attachment(struct correlator *c, const struct correlator_seed *s)
{
	struct sva_event ev = seed_event(s, s->since_ns);
	struct attachment *a = attachment_get(c, s->group_id, s->pasid);
	struct bond *b;

	group_max_pasids(c, s->group_id, s->dev_name, s->max_pasids, NULL);
	if (!a)
		a = attachment_new(c, &ev);
	if (a) {
		a->at_start = true; /* before attachment_set: a finding it makes has no event */
		attachment_set(c, a, &ev);
		c->st.start_attachments++;
	}
	if (s->domain_type != SVA_DOMAIN_SVA || !s->handle || bond_get(c, s->handle))
		return;
	b = bond_new(c, &ev);
	if (!b)
		return;
	b->at_start = true;
	b->created_seq = 0;
	/* The kernel's count is the truth here: nothing is owed to binds yet to come. */
	b->ledger.recorded = s->users > 0 ? s->users : 1;
	b->expected_users = b->ledger.recorded;
	b->kernel_users = s->users;
	c->st.start_bonds++;
}

void correlator_seed_owner(struct correlator *c, uint64_t mm, uint32_t tgid, const char *comm,
			   bool exit_recorded)
{
	struct mm_state *m = mm ? mm_get(c, mm, false) : NULL;
	struct sva_event ev = { 0 };

	/*
	 * Every task record's mm went into the BPF sva_mms map (sva_loader_remember_owner), bond
	 * seen or not: its exit_mmap will be recorded. On 6.1 the state has no bonds (no
	 * pasid_array), so a bond bound before tracing is first seen at an unbind: its mm is
	 * judged at that mm_exit, not by the exits of the few processes seen unbinding.
	 */
	if (mm && exit_recorded && c->opts.mm_exit_traced && c->exit_mms.len < EXIT_MMS_MAX)
		u64map_put(&c->exit_mms, mm, 1);
	/* Only the mms of bonds seeded: an mm with no bond is nothing the correlator follows. */
	if (!m || !m->bonds)
		return;
	ev.tgid = ev.pid = tgid;
	copy_name(ev.comm, comm, SVA_COMM_LEN);
	mm_add_owner(c, m, &ev, true);
}

void correlator_seed_task_pasid(struct correlator *c, uint64_t mm, uint32_t pasid)
{
	if (mm && pasid && pasid != SVA_PASID_NONE)
		u64map_put(&c->state_pasid_mms, pasid, mm);
}

void correlator_seed_end(struct correlator *c, uint64_t now_ns)
{
	/*
	 * A bond whose mm no process uses at start-up was leaked before this run: it is in the
	 * state, and outstanding at the end, but not a leak of this run (a CI run of a command
	 * must not fail for a bond an earlier one left). Only owners seen to exit make leaks.
	 */
	(void)c;
	(void)now_ns;
}

void correlator_seed_global_pasid(struct correlator *c, uint32_t pasid)
{
	if (!global_pasid_held(c, pasid))
		global_pasid_set(c, pasid, true, NULL);
}

void correlator_seed_group(struct correlator *c, int32_t group_id, const char *dev_name,
			   uint32_t max_pasids)
{
	group_max_pasids(c, group_id, dev_name, max_pasids, NULL);
}

static int cmp_pressure(const void *x, const void *y)
{
	const struct pasid_pressure *a = *(const struct pasid_pressure *const *)x;
	const struct pasid_pressure *b = *(const struct pasid_pressure *const *)y;

	return a->group_id < b->group_id ? -1 : a->group_id > b->group_id;
}

void correlator_for_each_pasid_pressure(const struct correlator *c,
					void (*fn)(const struct pasid_pressure *p, void *ctx),
					void *ctx)
{
	const struct pasid_pressure **all;
	size_t n = 0;

	if (!c->groups.len)
		return;
	all = calloc(c->groups.len, sizeof(*all));
	if (!all)
		return;
	u64map_for_each(&c->groups, key, val, {
		(void)key;
		if (n < c->groups.len)
			all[n++] = &((const struct group_use *)(uintptr_t)val)->p;
	});
	qsort(all, n, sizeof(*all), cmp_pressure);
	for (size_t i = 0; i < n; i++)
		fn(all[i], ctx);
	free(all);
}

/* ---- re-sync: the model against a fresh read of the kernel's state ---- */

static const char *const resync_names[RESYNC__MAX] = {
	[RESYNC_UNTRACED_BOND] = "untraced-bond",
	[RESYNC_GONE_BOND] = "gone-bond",
	[RESYNC_USERS] = "users",
	[RESYNC_UNTRACED_ATTACHMENT] = "untraced-attachment",
	[RESYNC_GONE_ATTACHMENT] = "gone-attachment",
	[RESYNC_GONE_PASID] = "gone-pasid",
};

const char *resync_kind_name(enum resync_kind kind)
{
	return kind < RESYNC__MAX ? resync_names[kind] : "?";
}

static void resync_report(enum resync_kind kind, const struct finding_subject *s, uint32_t type,
			  int64_t trace_users, int64_t kernel_users,
			  void (*fn)(const struct resync_diff *d, void *ctx), void *ctx, size_t *n)
{
	struct resync_diff d = { .kind = kind, .subject = *s, .domain_type = type,
				 .trace_users = trace_users, .kernel_users = kernel_users };

	(*n)++;
	if (fn)
		fn(&d, ctx);
}

static struct finding_subject subject_of_seed(const struct correlator_seed *k)
{
	struct finding_subject s = { .handle = k->handle, .domain = k->domain, .mm = k->mm,
				     .group_id = k->group_id, .pasid = k->pasid,
				     .owner_pid = k->owner_pid };

	copy_name(s.owner_comm, k->owner_comm, SVA_COMM_LEN);
	copy_name(s.dev_name, k->dev_name, SVA_DEV_NAME_LEN);
	return s;
}

static bool seed_is_bond(const struct correlator_seed *k)
{
	return k->domain_type == SVA_DOMAIN_SVA && k->handle;
}

/* The kernel's bond at b's handle is b: the same group, and the same mm where both know it. */
static bool seed_is_this_bond(const struct correlator_seed *k, const struct bond *b)
{
	return k->group_id == b->group_id && (!k->mm || !b->mm || k->mm == b->mm);
}

/*
 * The kernel's attachment k is the trace's a: the same domain type, and the same domain
 * where both know it.
 */
static bool seed_is_this_attachment(const struct correlator_seed *k, const struct attachment *a)
{
	return k->domain_type == a->domain_type &&
	       (!k->domain || !a->domain || k->domain == a->domain);
}

size_t correlator_resync(struct correlator *c, const struct correlator_seed *kern, size_t n,
			 uint64_t seq, uint64_t now_ns,
			 void (*fn)(const struct resync_diff *d, void *ctx), void *ctx)
{
	struct sva_event ev = { .type = SVA_REC_UNBIND, .seq = seq, .ts_ns = now_ns,
				.group_id = -1, .pasid = SVA_PASID_NONE, .users = -1 };
	struct u64map handles = { 0 }, keys = { 0 };
	struct attachment **gone_att = NULL;
	size_t diffs = 0, ngone = 0;
	uint64_t v;

	c->seed_seq = seq; /* records before the read are in it (correlator_seed_begin) */
	if (u64map_init(&handles, 64) || u64map_init(&keys, 64))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (seed_is_bond(&kern[i]))
			u64map_put(&handles, kern[i].handle, i);
		u64map_put(&keys, attach_key(kern[i].group_id, kern[i].pasid), i);
	}
	/*
	 * The trace's bonds: gone, or counted differently. The kernel frees an ended bond's
	 * struct iommu_sva, and the next bond made anywhere may get its address: a kernel bond
	 * at the same handle but in another group or of another mm is another bond (the trace's
	 * ended unseen, the kernel's is new), not this one.
	 */
	for (struct bond *b = c->live_head, *next; b; b = next) {
		next = b->next;
		if (b->created_seq >= seq && !b->at_start)
			continue; /* bound after the read began */
		if (!u64map_get(&handles, b->handle, &v) || !seed_is_this_bond(&kern[v], b)) {
			struct finding_subject s = subject_of_bond(b);

			resync_report(RESYNC_GONE_BOND, &s, b->domain_type, b->expected_users, 0, fn,
				      ctx, &diffs);
			c->st.inferred_unbinds++;
			bond_end(c, b, &ev);
			continue;
		}
		if (kern[v].users >= 0 && !b->domain_counted && b->expected_users != kern[v].users) {
			struct finding_subject s = subject_of_bond(b);

			resync_report(RESYNC_USERS, &s, b->domain_type, b->expected_users,
				      kern[v].users, fn, ctx, &diffs);
			b->expected_users = kern[v].users;
			b->ledger.recorded = kern[v].users;
			b->ledger.owed = 0;
			b->ledger.owed_forgiven_n = 0;
			b->kernel_users = kern[v].users;
		}
	}
	/* The trace's attachments the kernel no longer has. */
	if (c->attachments.len)
		gone_att = calloc(c->attachments.len, sizeof(*gone_att));
	u64map_for_each(&c->attachments, key, val, {
		struct attachment *a = (struct attachment *)(uintptr_t)val;

		if (!a->attached || (a->since_seq >= seq && !a->at_start && !a->unknown_origin))
			continue;
		if (!u64map_get(&keys, key, &v) && gone_att)
			gone_att[ngone++] = a;
	});
	for (size_t i = 0; i < ngone; i++) {
		struct finding_subject s = subject_of_attachment(gone_att[i]);

		resync_report(RESYNC_GONE_ATTACHMENT, &s, gone_att[i]->domain_type, 0, 0, fn, ctx,
			      &diffs);
		attachment_remove(c, gone_att[i], seq);
	}
	/*
	 * What the kernel has and the trace does not: adopted as at start-up. An attachment
	 * both have with another domain is another attachment (a replace, or a detach and an
	 * attach, among the lost records): the trace's is gone, the kernel's adopted. One both
	 * have alike is what the kernel has now, whatever was lost before: certain again.
	 */
	for (size_t i = 0; i < n; i++) {
		const struct correlator_seed *k = &kern[i];
		struct attachment *a = attachment_get(c, k->group_id, k->pasid);
		struct finding_subject s = subject_of_seed(k);
		bool new_bond = seed_is_bond(k) && !bond_get(c, k->handle);
		bool compared = a && a->attached &&
				(a->since_seq < seq || a->at_start || a->unknown_origin);
		bool other = compared && !new_bond && !seed_is_this_attachment(k, a);

		if (other) {
			struct finding_subject o = subject_of_attachment(a);

			resync_report(RESYNC_GONE_ATTACHMENT, &o, a->domain_type, 0, 0, fn, ctx,
				      &diffs);
		}
		if (new_bond)
			resync_report(RESYNC_UNTRACED_BOND, &s, k->domain_type, 0, k->users, fn, ctx,
				      &diffs);
		else if (!a || !a->attached || other)
			resync_report(RESYNC_UNTRACED_ATTACHMENT, &s, k->domain_type, 0, k->users, fn,
				      ctx, &diffs);
		if (new_bond || !a || !a->attached || other)
			correlator_seed_attachment(c, k);
		else if (compared)
			a->uncertain = false;
	}
out:
	free(gone_att);
	u64map_free(&handles);
	u64map_free(&keys);
	return diffs;
}

size_t correlator_resync_global_pasids(struct correlator *c, const uint32_t *held, size_t nh,
				       const uint32_t *other, size_t no,
				       void (*fn)(const struct resync_diff *d, void *ctx),
				       void *ctx)
{
	uint64_t *in_state;
	size_t diffs = 0;
	uint32_t words;

	for (size_t i = 0; i < nh; i++) {
		uint32_t p = held[i];

		/*
		 * Its free was recorded after the last loss, and no allocation since: the
		 * state was read before that free (the read takes no lock; the records below
		 * next_seq were applied first, run.c run_resync). Allocated again, its record
		 * would have come, or a loss would have forgotten the free.
		 */
		if (p / 64 < c->gp_words && (c->gp_freed[p / 64] >> (p % 64) & 1) &&
		    !global_pasid_held(c, p))
			continue;
		if (!global_pasid_held(c, p))
			global_pasid_set(c, p, true, NULL);
		else
			c->gp_sure[p / 64] |= 1ull << (p % 64);
	}
	words = c->gp_words;
	if (!words)
		return 0;
	in_state = calloc(words, sizeof(*in_state));
	if (!in_state)
		return 0; /* out of memory: nothing removed (a count too high stays uncertain) */
	for (size_t i = 0; i < nh + no; i++) {
		uint32_t p = i < nh ? held[i] : other[i - nh];

		if (p / 64 < words)
			in_state[p / 64] |= 1ull << (p % 64);
	}
	/*
	 * Held only from before a loss (not sure), and nowhere in the state: its free was among
	 * the lost records. The state cannot show a PASID whose mm no task uses and no bond
	 * holds (a lazy-TLB reference, an mmdrop_async still queued) or a driver's own PASID not
	 * attached: such a one is taken off too, a count too low rather than too high.
	 */
	for (uint32_t w = 0; w < words; w++) {
		uint64_t gone = c->gp_held[w] & ~c->gp_sure[w] & ~in_state[w];

		while (gone) {
			uint32_t pasid = w * 64 + (uint32_t)__builtin_ctzll(gone);
			struct finding_subject s = { .group_id = -1, .pasid = pasid };

			gone &= gone - 1;
			global_pasid_set(c, pasid, false, NULL);
			resync_report(RESYNC_GONE_PASID, &s, SVA_DOMAIN_SVA, 0, 0, fn, ctx, &diffs);
		}
	}
	free(in_state);
	return diffs;
}
