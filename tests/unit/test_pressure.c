// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pasid-pressure against the kernel's one global PASID allocator: records as the BPF side
 * emits them on 7.2 (iommu_sva_bind_device -> iommu_alloc_mm_data ->
 * iommu_alloc_global_pasid, whose fexit is the pasid_alloc record, then
 * iommu_attach_device_pasid, then the bind's fexit; mm teardown: mm_pasid_drop, then the
 * iommu_free_global_pasid it calls). PASIDs are those ida_alloc_range(1, max_pasids - 1)
 * hands out: the lowest free one.
 */
#include "tap.h"
#include "correlate.h"

#define SVA 0x10
#define PAGING 0x01
#define WIDE_GROUP 1
#define NARROW_GROUP 2

struct world {
	struct correlator *c;
	int n;
	struct finding f[16];
	uint64_t seq;
	uint64_t now;
};

static void collect(const struct finding *f, void *ctx)
{
	struct world *w = ctx;

	if (w->n < 16)
		w->f[w->n] = *f;
	w->n++;
}

static void world_init(struct world *w, double pct)
{
	struct correlator_opts o = { .leak_grace_ns = 2000000000ull, .on_finding = collect,
				     .pasid_pressure_pct = pct };

	memset(w, 0, sizeof(*w));
	o.ctx = w;
	w->c = correlator_new(&o);
	w->now = 1000000000ull;
}

static struct sva_event ev_of(struct world *w, uint16_t type, uint32_t tgid, const char *dev,
			      int32_t group, uint32_t max_pasids)
{
	struct sva_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.seq = w->seq++;
	w->now += 1000000;
	ev.ts_ns = w->now;
	ev.pid = ev.tgid = tgid;
	snprintf(ev.comm, sizeof(ev.comm), "proc%u", tgid);
	snprintf(ev.dev_name, sizeof(ev.dev_name), "%s", dev ? dev : "");
	ev.group_id = group;
	ev.max_pasids = max_pasids;
	ev.pasid = SVA_PASID_NONE;
	ev.domain_type = (uint32_t)-1;
	ev.users = -1;
	ev.stack_id = -1;
	return ev;
}

/* A first bind of mm on dev (7.2): the allocation, the attach, the bind. The alloc's seq. */
static uint64_t bind_new(struct world *w, uint32_t tgid, uint64_t mm, const char *dev,
			 int32_t group, uint32_t max_pasids, uint32_t pasid)
{
	struct sva_event ev = ev_of(w, SVA_REC_PASID_ALLOC, tgid, dev, group, max_pasids);
	uint64_t alloc_seq = ev.seq;

	ev.pasid = pasid;
	correlator_event(w->c, &ev);
	ev = ev_of(w, SVA_REC_ATTACH, tgid, dev, group, max_pasids);
	ev.pasid = pasid;
	ev.mm = mm;
	ev.domain = 0xd000 + mm;
	ev.domain_type = SVA;
	ev.handle = 0xa000 + mm;
	correlator_event(w->c, &ev);
	ev = ev_of(w, SVA_REC_BIND, tgid, dev, group, max_pasids);
	ev.pasid = pasid;
	ev.mm = mm;
	ev.domain = 0xd000 + mm;
	ev.domain_type = SVA;
	ev.handle = 0xa000 + mm;
	ev.users = 1;
	correlator_event(w->c, &ev);
	return alloc_seq;
}

/* The last unbind of mm's bond on dev: iommu_sva_unbind_device, then the detach. */
static void unbind_last(struct world *w, uint32_t tgid, uint64_t mm, const char *dev,
			int32_t group, uint32_t max_pasids, uint32_t pasid)
{
	struct sva_event ev = ev_of(w, SVA_REC_UNBIND, tgid, dev, group, max_pasids);

	ev.handle = 0xa000 + mm;
	ev.mm = mm;
	ev.pasid = pasid;
	ev.domain = 0xd000 + mm;
	ev.domain_type = SVA;
	ev.users = 1;
	ev.flags = SVA_EVF_USERS_BEFORE;
	correlator_event(w->c, &ev);
	ev = ev_of(w, SVA_REC_DETACH, tgid, dev, group, max_pasids);
	ev.pasid = pasid;
	ev.domain = 0xd000 + mm;
	ev.domain_type = SVA;
	correlator_event(w->c, &ev);
}

/* mm's last reference: __mmdrop -> mm_pasid_drop -> iommu_free_global_pasid. */
static void mm_drop(struct world *w, uint32_t tid, uint64_t mm, uint32_t pasid)
{
	struct sva_event ev = ev_of(w, SVA_REC_MM_PASID_DROP, tid, NULL, -1, 0);

	ev.mm = mm;
	ev.pasid = pasid;
	correlator_event(w->c, &ev);
	ev = ev_of(w, SVA_REC_PASID_FREE, tid, NULL, -1, 0);
	ev.pasid = pasid;
	correlator_event(w->c, &ev);
}

struct one_group {
	int32_t group;
	struct pasid_pressure p;
	bool seen;
};

static void find_group(const struct pasid_pressure *p, void *ctx)
{
	struct one_group *o = ctx;

	if (p->group_id == o->group) {
		o->p = *p;
		o->seen = true;
	}
}

static struct pasid_pressure pressure_of(struct world *w, int32_t group)
{
	struct one_group o = { .group = group };

	correlator_for_each_pasid_pressure(w->c, find_group, &o);
	return o.p;
}

/* The narrow device's group as the state read at start-up shows it: nothing attached. */
static void seed_narrow_group(struct world *w)
{
	char dev[SVA_DEV_NAME_LEN] = "narrow0"; /* a record's field: SVA_DEV_NAME_LEN bytes */

	correlator_seed_begin(w->c, 0);
	correlator_seed_group(w->c, NARROW_GROUP, dev, 4);
	correlator_seed_end(w->c, w->now);
}

/*
 * The case the group-only count missed: three processes bind a wide device (PASIDs 1-3),
 * and a device with max_pasids 4 in another group, nothing attached there, can give no new
 * mm a PASID (ida_alloc_range(1, 3) finds none: ENOSPC). The allocation that took the last
 * one is the evidence. A process that unbinds keeps its PASID until its mm is dropped.
 */
TEST(pasid_pressure_counts_global_pasids_held_by_other_devices_binds)
{
	struct world w;
	struct pasid_pressure p;
	uint64_t third = 0;

	world_init(&w, 0);
	ASSERT_TRUE(w.c != NULL);
	seed_narrow_group(&w);
	for (uint32_t i = 1; i <= 3; i++)
		third = bind_new(&w, 100 + i, 0x1000 * i, "wide0", WIDE_GROUP, 1024, i);
	ASSERT_EQ(w.n, 1);
	EXPECT_EQ(w.f[0].kind, FINDING_PASID_PRESSURE);
	EXPECT_EQ(w.f[0].subject.group_id, NARROW_GROUP);
	EXPECT_STREQ(w.f[0].subject.dev_name, "narrow0");
	EXPECT_EQ(w.f[0].subject.pasid, 3);
	EXPECT_EQ(w.f[0].subject.owner_pid, 103); /* whose allocation took the last one */
	EXPECT_FALSE(w.f[0].uncertain);
	EXPECT_EQ(w.f[0].nr_evidence, 1);
	EXPECT_EQ(w.f[0].evidence[0], third);
	EXPECT_TRUE(w.f[0].has_pressure);
	EXPECT_EQ(w.f[0].pressure.in_use, 3);
	EXPECT_EQ(w.f[0].pressure.usable, 3);
	EXPECT_EQ(w.f[0].pressure.attached, 0);
	EXPECT_EQ(w.f[0].pressure.held_elsewhere, 3);
	EXPECT_TRUE(strstr(w.f[0].message, "3 of the 3 PASIDs of group 2 are in use") != NULL);
	EXPECT_TRUE(strstr(w.f[0].message, "0 attached in the group, 3 held elsewhere") != NULL);
	p = pressure_of(&w, NARROW_GROUP);
	EXPECT_EQ(p.in_use, 3);
	EXPECT_EQ(p.held_elsewhere, 3);
	/* the wide group: its own 3 attached, counted once though they are global too */
	p = pressure_of(&w, WIDE_GROUP);
	EXPECT_EQ(p.attached, 3);
	EXPECT_EQ(p.held_elsewhere, 0);
	EXPECT_EQ(p.in_use, 3);

	/* 102 unbinds: its mm keeps PASID 2 (iommu_sva_unbind_device frees no PASID) */
	unbind_last(&w, 102, 0x2000, "wide0", WIDE_GROUP, 1024, 2);
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).in_use, 3);
	p = pressure_of(&w, WIDE_GROUP); /* no new mm can get PASID 2 on wide0 either */
	EXPECT_EQ(p.attached, 2);
	EXPECT_EQ(p.held_elsewhere, 1);
	EXPECT_EQ(p.in_use, 3);
	/* its mm is dropped: PASID 2 goes back to the IDA */
	mm_drop(&w, 102, 0x2000, 2);
	p = pressure_of(&w, NARROW_GROUP);
	EXPECT_EQ(p.in_use, 2);
	EXPECT_EQ(p.held_elsewhere, 2);
	/* the next new mm gets the lowest free one, 2: full again, a second warning */
	bind_new(&w, 104, 0x4000, "wide0", WIDE_GROUP, 1024, 2);
	EXPECT_EQ(w.n, 2);
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).in_use, 3);
	/* a PASID above the narrow device's range changes nothing there */
	bind_new(&w, 105, 0x5000, "wide0", WIDE_GROUP, 1024, 4);
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).in_use, 3);
	EXPECT_EQ(w.n, 2);
	correlator_free(w.c);
}

/*
 * No probe reports the frees (a kernel that inlined mm_pasid_drop and the free): every
 * PASID a process ever got would stay counted, and on a long trace the narrow device
 * would be "full" of PASIDs long given back. So the global set is not kept: the same
 * three binds on the wide device make no warning for the narrow one; the wide group's own
 * attachments still count.
 */
TEST(pasid_pressure_without_a_traced_free_counts_attachments_only)
{
	struct world w;
	struct pasid_pressure p;

	world_init(&w, 0);
	ASSERT_TRUE(w.c != NULL);
	correlator_set_pasid_frees_traced(w.c, false);
	seed_narrow_group(&w);
	for (uint32_t i = 1; i <= 3; i++)
		bind_new(&w, 100 + i, 0x1000 * i, "wide0", WIDE_GROUP, 1024, i);
	EXPECT_EQ(w.n, 0);
	p = pressure_of(&w, NARROW_GROUP);
	EXPECT_EQ(p.in_use, 0);
	EXPECT_EQ(p.held_elsewhere, 0);
	p = pressure_of(&w, WIDE_GROUP);
	EXPECT_EQ(p.attached, 3);
	EXPECT_EQ(p.in_use, 3);
	correlator_free(w.c);
}

/* A group's own SVA PASID is global and attached: one PASID, counted once. */
TEST(pasid_pressure_counts_a_groups_own_sva_pasid_once)
{
	struct world w;
	struct pasid_pressure p;

	world_init(&w, 0);
	ASSERT_TRUE(w.c != NULL);
	bind_new(&w, 100, 0x1000, "narrow0", NARROW_GROUP, 4, 1);
	bind_new(&w, 101, 0x2000, "narrow0", NARROW_GROUP, 4, 2);
	p = pressure_of(&w, NARROW_GROUP);
	EXPECT_EQ(p.in_use, 2);
	EXPECT_EQ(p.attached, 2);
	EXPECT_EQ(p.held_elsewhere, 0);
	EXPECT_EQ(w.n, 0); /* 2 of 3: below 90 % */
	/* an iommufd paging domain at a PASID the VMM chose: in the group only */
	{
		struct sva_event ev = ev_of(&w, SVA_REC_ATTACH, 200, "narrow0", NARROW_GROUP, 4);

		ev.pasid = 3;
		ev.domain = 0xe003;
		ev.domain_type = PAGING;
		ev.handle = 0xb003;
		correlator_event(w.c, &ev);
	}
	p = pressure_of(&w, NARROW_GROUP);
	EXPECT_EQ(p.in_use, 3);
	EXPECT_EQ(p.attached, 3);
	ASSERT_EQ(w.n, 1);
	EXPECT_EQ(w.f[0].pressure.held_elsewhere, 0);
	correlator_free(w.c);
}

/*
 * Global PASIDs known before the group's max_pasids is: counted when it becomes known; and
 * the state's PASIDs (a process's mm PASID) count like allocations seen.
 */
TEST(pasid_pressure_counts_state_pasids_and_warns_when_a_full_range_is_learned)
{
	struct world w;
	struct sva_event ev;
	uint64_t alloc;

	world_init(&w, 0);
	ASSERT_TRUE(w.c != NULL);
	correlator_seed_begin(w.c, 0);
	correlator_seed_global_pasid(w.c, 1);
	correlator_seed_global_pasid(w.c, 2);
	correlator_seed_global_pasid(w.c, 2); /* two records of one mm: once */
	correlator_seed_end(w.c, w.now);
	w.seq = 0; /* (a run's first record has seq 0) */
	alloc = bind_new(&w, 100, 0x3000, "wide0", WIDE_GROUP, 1024, 3);
	EXPECT_EQ(w.n, 0);
	/*
	 * Now the narrow device says its max_pasids, in the record of a 4th mm's allocation,
	 * which fails: the range it learns is full already. Evidence: that record and the
	 * allocation of the last PASID counted.
	 */
	ev = ev_of(&w, SVA_REC_PASID_ALLOC, 104, "narrow0", NARROW_GROUP, 4);
	ev.ret = -28; /* IOMMU_PASID_INVALID: ENOSPC */
	correlator_event(w.c, &ev);
	ASSERT_EQ(w.n, 1);
	EXPECT_EQ(w.f[0].subject.group_id, NARROW_GROUP);
	EXPECT_EQ(w.f[0].subject.owner_pid, 104);
	EXPECT_EQ(w.f[0].nr_evidence, 2);
	EXPECT_EQ(w.f[0].evidence[0], alloc);
	EXPECT_EQ(w.f[0].evidence[1], ev.seq);
	EXPECT_EQ(w.f[0].pressure.held_elsewhere, 3);
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).in_use, 3);
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).held_elsewhere, 3);
	EXPECT_EQ(pressure_of(&w, WIDE_GROUP).in_use, 3); /* 1 attached, 2 held elsewhere */
	/* PASIDs far apart (the bitmaps grow), counted in a range learned later: 1-1023 */
	correlator_seed_begin(w.c, w.seq);
	correlator_seed_global_pasid(w.c, 200);
	correlator_seed_global_pasid(w.c, 1023);
	correlator_seed_global_pasid(w.c, 1024); /* above that range */
	correlator_seed_end(w.c, w.now);
	ev = ev_of(&w, SVA_REC_PASID_ALLOC, 105, "mid0", 7, 1024);
	ev.pasid = 4;
	correlator_event(w.c, &ev);
	EXPECT_EQ(pressure_of(&w, 7).held_elsewhere, 6); /* 1, 2, 3, 4, 200, 1023 */
	EXPECT_EQ(pressure_of(&w, NARROW_GROUP).in_use, 3);
	correlator_free(w.c);
}

/* A PASID allocated before records were lost may have been freed among them: uncertain. */
TEST(pasid_pressure_after_lost_records_is_uncertain)
{
	struct world w;

	world_init(&w, 0);
	ASSERT_TRUE(w.c != NULL);
	seed_narrow_group(&w);
	bind_new(&w, 101, 0x1000, "wide0", WIDE_GROUP, 1024, 1);
	bind_new(&w, 102, 0x2000, "wide0", WIDE_GROUP, 1024, 2);
	correlator_lost(w.c, 5, w.now);
	w.seq += 5;
	bind_new(&w, 103, 0x3000, "wide0", WIDE_GROUP, 1024, 3);
	ASSERT_EQ(w.n, 1);
	EXPECT_TRUE(w.f[0].uncertain);
	correlator_free(w.c);
}

/* The old rule's cases: PASIDs attached in the group alone, no global allocation. */
TEST(pasid_pressure_from_attachments_alone_is_unchanged)
{
	struct world w;

	world_init(&w, 50);
	ASSERT_TRUE(w.c != NULL);
	for (uint32_t pasid = 1; pasid <= 3; pasid++) {
		struct sva_event ev = ev_of(&w, SVA_REC_ATTACH, 9, "dsa4", 4, 4);

		ev.pasid = pasid;
		ev.domain = 0xd0 + pasid;
		ev.domain_type = PAGING;
		correlator_event(w.c, &ev);
	}
	ASSERT_EQ(w.n, 1); /* at 2 of 3 (50 %) */
	EXPECT_EQ(w.f[0].subject.pasid, 2);
	EXPECT_EQ(w.f[0].evidence[0], 1);
	EXPECT_EQ(w.f[0].pressure.attached, 2);
	EXPECT_EQ(w.f[0].pressure.held_elsewhere, 0);
	EXPECT_FALSE(w.f[0].uncertain);
	correlator_free(w.c);
}

