// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state read at start-up (state.h): its JSON records, exactly, and the correlator it seeds. */
#include "tap.h"
#include "state.h"

static struct sva_state_rec task(uint32_t tgid, uint64_t mm, uint64_t start_ns)
{
	struct sva_state_rec r = { .kind = SVA_STATE_TASK, .tgid = tgid, .mm = mm,
				   .start_ns = start_ns, .pasid = 7, .group_id = -1, .users = -1 };

	strcpy(r.comm, "dsa_app");
	return r;
}

static struct sva_state_rec bond(int32_t group, uint64_t handle, uint64_t mm, int32_t users)
{
	struct sva_state_rec r = { .kind = SVA_STATE_ATTACH, .group_id = group, .pasid = 7,
				   .domain = 0xd0, .domain_type = SVA_DOMAIN_SVA, .users = users,
				   .handle = handle, .mm = mm, .max_pasids = 8 };

	snprintf(r.dev_name, sizeof(r.dev_name), "dsa%d", group);
	return r;
}

static char *json_of(const struct sva_state *st, size_t i)
{
	static char out[1024];
	struct ptrhash raw;
	struct json_writer w;

	ptrhash_init(&raw, true);
	jw_init(&w);
	sva_state_format_json(&w, st, i, &raw);
	if (jw_finish(&w))
		snprintf(out, sizeof(out), "(invalid)");
	else
		snprintf(out, sizeof(out), "%s", w.buf);
	jw_free(&w);
	return out;
}

/* Two processes share mm 0xa1 (a CLONE_VM sibling): both are the bond's owners. */
static void fill(struct sva_state *st)
{
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };

	r = task(100, 0xa1, 500);
	sva_state_add(st, &r);
	r = task(101, 0xa1, 400);
	sva_state_add(st, &r);
	r = bond(4, 0xb1, 0xa1, 2);
	sva_state_add(st, &r);
	r = (struct sva_state_rec){ .kind = SVA_STATE_ATTACH, .group_id = 5, .pasid = 100,
				    .domain = 0xd2, .domain_type = SVA_DOMAIN_UNMANAGED, .users = -1,
				    .handle = 0xb2, .max_pasids = 8 };
	strcpy(r.dev_name, "dsa5");
	sva_state_add(st, &r);
	r = (struct sva_state_rec){ .kind = SVA_STATE_GROUP, .group_id = 4, .max_pasids = 8,
				    .count = 1, .users = -1 };
	strcpy(r.dev_name, "dsa4");
	sva_state_add(st, &r);
	sva_state_add(st, &end);
	st->seq = 3;
	st->ts_ns = 1000;
	st->read_ns = 2500000;
}

TEST(state_records_as_json_exactly)
{
	struct sva_state st = { 0 };

	fill(&st);
	ASSERT_EQ(st.nr, 5);
	ASSERT_TRUE(st.ended);
	EXPECT_STREQ(json_of(&st, 0),
		     "{\"type\":\"state\",\"version\":1,\"kind\":\"task\",\"pid\":100,\"comm\":\"dsa_app\","
		     "\"mm\":\"0x00000000000000a1\",\"pasid\":7,\"start_ns\":500}");
	EXPECT_STREQ(json_of(&st, 2),
		     "{\"type\":\"state\",\"version\":1,\"kind\":\"attachment\",\"group\":4,\"pasid\":7,"
		     "\"dev\":\"dsa4\",\"max_pasids\":8,\"domain\":\"0x00000000000000d0\","
		     "\"domain_type\":\"sva\",\"domain_type_raw\":16,\"handle\":\"0x00000000000000b1\","
		     "\"mm\":\"0x00000000000000a1\",\"users\":2,\"bond\":true,\"owner_pids\":[100,101]}");
	EXPECT_STREQ(json_of(&st, 3),
		     "{\"type\":\"state\",\"version\":1,\"kind\":\"attachment\",\"group\":5,\"pasid\":100,"
		     "\"dev\":\"dsa5\",\"max_pasids\":8,\"domain\":\"0x00000000000000d2\","
		     "\"domain_type\":\"unmanaged\",\"domain_type_raw\":1,\"handle\":\"0x00000000000000b2\","
		     "\"mm\":null,\"users\":null,\"bond\":false,\"owner_pids\":[]}");
	EXPECT_STREQ(json_of(&st, 4),
		     "{\"type\":\"state\",\"version\":1,\"kind\":\"group\",\"group\":4,\"dev\":\"dsa4\","
		     "\"max_pasids\":8,\"count\":1}");
	EXPECT_STREQ(json_of(&st, 5),
		     "{\"type\":\"state\",\"version\":1,\"kind\":\"end\",\"next_seq\":3,\"ts_ns\":1000,"
		     "\"read_ns\":2500000,\"processes\":2,\"groups\":1,\"attachments\":2,\"bonds\":1,"
		     "\"flags_raw\":0,\"unreadable\":null}");
	sva_state_free(&st);
}

TEST(the_end_record_says_what_6_1_cannot_read)
{
	char why[512];

	sva_state_unreadable(SVA_STATE_NO_PASID_ARRAY, why, sizeof(why));
	EXPECT_TRUE(strstr(why, "no iommu_group.pasid_array") != NULL);
	EXPECT_TRUE(strstr(why, "6.1") != NULL);
	sva_state_unreadable(0, why, sizeof(why));
	EXPECT_STREQ(why, "");
}

struct seen {
	int leaks;
	uint64_t leak_handle;
	uint32_t leak_owner;
};

static void on_finding(const struct finding *f, void *ctx)
{
	struct seen *s = ctx;

	if (f->kind == FINDING_LEAK) {
		s->leaks++;
		s->leak_handle = f->subject.handle;
		s->leak_owner = f->subject.owner_pid;
	}
}

static struct sva_event exit_of(uint32_t tgid, uint64_t seq, uint64_t ts)
{
	struct sva_event ev = { .type = SVA_REC_PROC_EXIT, .flags = SVA_EVF_GROUP_DEAD, .seq = seq,
				.ts_ns = ts, .pid = tgid, .tgid = tgid, .group_id = -1,
				.pasid = SVA_PASID_NONE, .users = -1, .stack_id = -1 };

	return ev;
}

TEST(a_seeded_bond_is_a_leak_once_every_process_using_its_mm_exited)
{
	struct seen seen = { 0 };
	struct correlator_opts o = { .on_finding = on_finding, .ctx = &seen,
				     .leak_grace_ns = 1000 };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 };
	const struct bond *b;
	struct sva_event ev;
	struct correlator_stats cs;

	ASSERT_TRUE(c != NULL);
	fill(&st);
	sva_state_seed(&st, c, NULL, NULL);
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.live_bonds, 1);
	EXPECT_EQ(cs.start_bonds, 1);
	EXPECT_EQ(cs.live_attachments, 2);
	b = correlator_find_bond(c, 0xb1);
	ASSERT_TRUE(b != NULL);
	EXPECT_TRUE(b->at_start);
	EXPECT_FALSE(b->unknown_origin);
	EXPECT_EQ(b->owner_pid, 101); /* the earlier started of the two */
	EXPECT_EQ(b->created_ns, 400);
	EXPECT_EQ(b->expected_users, 2);
	/* one of two owners exits: not a leak */
	ev = exit_of(101, 3, 10000);
	correlator_event(c, &ev);
	correlator_tick(c, 20000);
	EXPECT_EQ(seen.leaks, 0);
	/* the last one: a leak after the grace, about the seeded bond */
	ev = exit_of(100, 4, 30000);
	correlator_event(c, &ev);
	correlator_tick(c, 30500);
	EXPECT_EQ(seen.leaks, 0);
	correlator_tick(c, 31000);
	EXPECT_EQ(seen.leaks, 1);
	EXPECT_EQ(seen.leak_handle, 0xb1);
	correlator_free(c);
	sva_state_free(&st);
}

TEST(a_bond_no_process_uses_at_start_is_outstanding_not_a_leak_of_this_run)
{
	struct seen seen = { 0 };
	struct correlator_opts o = { .on_finding = on_finding, .ctx = &seen,
				     .leak_grace_ns = 1000 };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 };
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };

	ASSERT_TRUE(c != NULL);
	r = bond(4, 0xb9, 0xa9, 1); /* mm 0xa9: no task record, its processes are gone */
	sva_state_add(&st, &r);
	sva_state_add(&st, &end);
	st.ts_ns = 1000;
	sva_state_seed(&st, c, NULL, NULL);
	correlator_tick(c, 1000000);
	correlator_finish(c, 2000000);
	EXPECT_EQ(seen.leaks, 0);
	EXPECT_TRUE(correlator_find_bond(c, 0xb9) != NULL);
	correlator_free(c);
	sva_state_free(&st);
}

TEST(unbinds_end_a_seeded_bond_and_records_older_than_the_state_are_not_counted_twice)
{
	struct seen seen = { 0 };
	struct correlator_opts o = { .on_finding = on_finding, .ctx = &seen };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 };
	struct sva_event ev = { .type = SVA_REC_UNBIND, .flags = SVA_EVF_USERS_BEFORE,
				.pid = 100, .tgid = 100, .mm = 0xa1, .group_id = 4, .pasid = 7,
				.domain = 0xd0, .domain_type = SVA_DOMAIN_SVA, .handle = 0xb1,
				.stack_id = -1 };
	struct correlator_stats cs;

	ASSERT_TRUE(c != NULL);
	fill(&st);
	sva_state_seed(&st, c, NULL, NULL);
	/* seq 2 < the state's 3: an unbind the state already reflects (users 2 is after it) */
	ev.seq = 2;
	ev.ts_ns = 2000;
	ev.users = 3;
	correlator_event(c, &ev);
	EXPECT_EQ(correlator_find_bond(c, 0xb1)->expected_users, 2);
	ev.seq = 3;
	ev.ts_ns = 3000;
	ev.users = 2;
	correlator_event(c, &ev);
	EXPECT_EQ(correlator_find_bond(c, 0xb1)->expected_users, 1);
	ev.seq = 4;
	ev.ts_ns = 4000;
	ev.users = 1;
	correlator_event(c, &ev);
	EXPECT_TRUE(correlator_find_bond(c, 0xb1) == NULL);
	correlator_finish(c, 10000000000ull);
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.ended_bonds, 1);
	EXPECT_EQ(cs.unknown_origin_bonds, 0);
	for (int k = 0; k < FINDING__MAX; k++)
		EXPECT_EQ(cs.findings[k], 0);
	correlator_free(c);
	sva_state_free(&st);
}

TEST(pasid_pressure_is_reported_once_at_the_threshold_and_again_after_falling_below)
{
	struct correlator_opts o = { .pasid_pressure_pct = 50 };
	struct correlator *c = correlator_new(&o);
	struct sva_event ev = { .type = SVA_REC_ATTACH, .pid = 9, .tgid = 9, .group_id = 4,
				.domain_type = SVA_DOMAIN_UNMANAGED, .max_pasids = 4,
				.users = -1, .stack_id = -1 };
	struct correlator_stats cs;
	int got = 0;

	ASSERT_TRUE(c != NULL);
	strcpy(ev.dev_name, "dsa4");
	for (uint32_t pasid = 1; pasid <= 3; pasid++) {
		ev.seq = pasid;
		ev.pasid = pasid;
		ev.domain = 0xd0 + pasid;
		correlator_event(c, &ev);
	}
	correlator_get_stats(c, &cs);
	got = (int)cs.findings[FINDING_PASID_PRESSURE];
	EXPECT_EQ(got, 1); /* at 2 of the 3 usable (PASIDs 1-3), not again at 3 */
	ev.type = SVA_REC_DETACH;
	for (uint32_t pasid = 2; pasid <= 3; pasid++) {
		ev.seq++;
		ev.pasid = pasid;
		ev.domain = 0xd0 + pasid;
		correlator_event(c, &ev);
	}
	ev.type = SVA_REC_ATTACH;
	ev.seq++;
	ev.pasid = 3;
	correlator_event(c, &ev);
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.findings[FINDING_PASID_PRESSURE], 2);
	correlator_free(c);
}

/*
 * PASID 0 is the device's RID (IOMMU_NO_PASID): a device with max_pasids 4 is full with PASIDs
 * 1-3 attached, and the default 90 % must see that. A group's usable PASIDs are those of its
 * smallest device: iommu_attach_device_pasid checks the PASID against every device.
 */
TEST(pasid_pressure_counts_pasids_1_to_max_minus_1_of_the_groups_smallest_device)
{
	struct correlator_opts o = { 0 }; /* default threshold, 90 % */
	struct correlator *c = correlator_new(&o);
	struct sva_event ev = { .type = SVA_REC_ATTACH, .pid = 9, .tgid = 9, .group_id = 4,
				.domain_type = SVA_DOMAIN_UNMANAGED, .max_pasids = 1024,
				.users = -1, .stack_id = -1 };
	struct correlator_stats cs;

	ASSERT_TRUE(c != NULL);
	strcpy(ev.dev_name, "big0");
	ev.seq = 1;
	ev.pasid = 1;
	ev.domain = 0xd1;
	correlator_event(c, &ev); /* 1 of 1023 */
	strcpy(ev.dev_name, "small0"); /* the same group, 2 PASID bits */
	ev.max_pasids = 4;
	for (uint32_t pasid = 2; pasid <= 3; pasid++) {
		ev.seq = pasid;
		ev.pasid = pasid;
		ev.domain = 0xd0 + pasid;
		correlator_event(c, &ev);
	}
	/* big0 reporting again must not widen the group back to 1023 */
	strcpy(ev.dev_name, "big0");
	ev.max_pasids = 1024;
	ev.type = SVA_REC_DETACH;
	ev.seq = 4;
	correlator_event(c, &ev); /* PASID 3 off: 2 of 3 */
	ev.type = SVA_REC_ATTACH;
	ev.seq = 5;
	ev.domain = 0xe3;
	correlator_event(c, &ev); /* 3 of 3 again */
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.findings[FINDING_PASID_PRESSURE], 2); /* at 3 of 3, twice */
	correlator_free(c);
}

static void count_diff(const struct resync_diff *d, void *ctx)
{
	int *by_kind = ctx;

	by_kind[d->kind]++;
}

/*
 * The kernel frees an unbound bond's struct iommu_sva (iommu-sva.c, 6.8 - 7.2: kfree(handle)
 * when its users drop to 0), and the next bind anywhere may get the same address. A re-sync
 * after lost records can find the trace's bond's handle on another process's bond in another
 * group: the trace's bond is gone and the kernel's is untraced (test_state_vm.sh met it: a
 * short-lived holder's lost unbind, then holder C's second bind at that address).
 */
TEST(resync_a_handle_reused_by_another_bond_is_gone_and_untraced)
{
	struct correlator_opts o = { 0 };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 }, fresh = { 0 };
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };
	const struct bond *b;
	int by_kind[RESYNC__MAX] = { 0 };

	ASSERT_TRUE(c != NULL);
	fill(&st); /* bond 0xb1 of mm 0xa1 at group 4, paging attachment at group 5 PASID 100 */
	sva_state_seed(&st, c, NULL, NULL);
	/* the kernel now: 0xb1 is another process's bond (mm 0xa2) at group 6; group 4 empty */
	r = task(200, 0xa2, 600);
	sva_state_add(&fresh, &r);
	r = bond(6, 0xb1, 0xa2, 1);
	sva_state_add(&fresh, &r);
	sva_state_add(&fresh, &end);
	fresh.seq = 10;
	fresh.ts_ns = 5000;
	sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind);
	EXPECT_EQ(by_kind[RESYNC_GONE_BOND], 1);
	EXPECT_EQ(by_kind[RESYNC_UNTRACED_BOND], 1);
	EXPECT_EQ(by_kind[RESYNC_UNTRACED_ATTACHMENT], 0);
	b = correlator_find_bond(c, 0xb1);
	ASSERT_TRUE(b != NULL);
	EXPECT_EQ(b->group_id, 6);
	EXPECT_EQ(b->mm, 0xa2);
	/* the same read again: the model is the kernel's */
	memset(by_kind, 0, sizeof(by_kind));
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 0);
	correlator_free(c);
	sva_state_free(&st);
	sva_state_free(&fresh);
}

TEST(resync_reports_each_difference_and_the_model_becomes_the_kernels)
{
	struct correlator_opts o = { 0 };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 }, fresh = { 0 };
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };
	struct correlator_stats cs;
	int by_kind[RESYNC__MAX] = { 0 };

	ASSERT_TRUE(c != NULL);
	fill(&st); /* bond 0xb1 (users 2) at group 4, paging attachment at group 5 PASID 100 */
	sva_state_seed(&st, c, NULL, NULL);
	/* the kernel now: 0xb1 with users 1, a new bond 0xb3 at group 6, the paging one gone */
	r = task(100, 0xa1, 500);
	sva_state_add(&fresh, &r);
	r = bond(4, 0xb1, 0xa1, 1);
	sva_state_add(&fresh, &r);
	r = bond(6, 0xb3, 0xa1, 1);
	sva_state_add(&fresh, &r);
	sva_state_add(&fresh, &end);
	fresh.seq = 10;
	fresh.ts_ns = 5000;
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 3);
	EXPECT_EQ(by_kind[RESYNC_USERS], 1);
	EXPECT_EQ(by_kind[RESYNC_UNTRACED_BOND], 1);
	EXPECT_EQ(by_kind[RESYNC_GONE_ATTACHMENT], 1);
	EXPECT_EQ(by_kind[RESYNC_GONE_BOND], 0);
	EXPECT_EQ(correlator_find_bond(c, 0xb1)->expected_users, 1);
	EXPECT_TRUE(correlator_find_bond(c, 0xb3) != NULL);
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.live_bonds, 2);
	EXPECT_EQ(cs.live_attachments, 2);
	/* the same read again: nothing differs any more */
	memset(by_kind, 0, sizeof(by_kind));
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 0);
	/* and a read without 0xb3: it is gone */
	sva_state_reset(&fresh);
	r = bond(4, 0xb1, 0xa1, 1);
	sva_state_add(&fresh, &r);
	sva_state_add(&fresh, &end);
	fresh.seq = 11;
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 2);
	EXPECT_EQ(by_kind[RESYNC_GONE_BOND], 1); /* and its attachment */
	EXPECT_TRUE(correlator_find_bond(c, 0xb3) == NULL);
	correlator_free(c);
	sva_state_free(&st);
	sva_state_free(&fresh);
}

struct pressure_sink {
	int n, uncertain;
	uint32_t in_use;
};

static void pressure_seen(const struct finding *f, void *ctx)
{
	struct pressure_sink *p = ctx;

	if (f->kind != FINDING_PASID_PRESSURE)
		return;
	p->n++;
	p->uncertain += f->uncertain;
	p->in_use = f->pressure.in_use;
}

static void alloc_pasid(struct correlator *c, uint64_t seq, uint32_t pasid, uint64_t mm,
			int32_t group, uint32_t max_pasids)
{
	struct sva_event ev = { .type = SVA_REC_PASID_ALLOC, .seq = seq, .ts_ns = seq * 1000,
				.pid = 50 + (uint32_t)seq, .tgid = 50 + (uint32_t)seq, .mm = mm,
				.pasid = pasid, .group_id = group, .max_pasids = max_pasids,
				.users = -1, .stack_id = -1 };

	strcpy(ev.dev_name, "iax1");
	correlator_event(c, &ev);
}

/*
 * A global PASID is freed when its mm goes (__mmdrop -> mm_pasid_drop ->
 * iommu_free_global_pasid, 6.6 - 7.2); a free among lost records leaves the trace counting
 * the PASID as held. A re-sync's state shows which are held (each process's mm PASID, each
 * SVA attachment's): one held only from before the loss and in neither is gone; the ones the
 * state shows are known again, and the pressure they make is no longer uncertain.
 */
TEST(resync_takes_off_a_global_pasid_whose_free_was_lost_and_makes_the_rest_certain)
{
	struct pressure_sink p = { 0 };
	struct correlator_opts o = { .on_finding = pressure_seen, .ctx = &p };
	struct correlator *c = correlator_new(&o);
	struct sva_state fresh = { 0 };
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };
	struct correlator_stats cs;
	int by_kind[RESYNC__MAX] = { 0 };

	ASSERT_TRUE(c != NULL);
	correlator_set_pasid_frees_traced(c, true);
	/* PASIDs 1 and 2 out to two processes bound elsewhere (another group) */
	alloc_pasid(c, 1, 1, 0xa1, 9, 1024);
	alloc_pasid(c, 2, 2, 0xa2, 9, 1024);
	correlator_lost(c, 5, 3000); /* mm 0xa2's free may be among them */
	/* the kernel now: mm 0xa1 (PASID 1) is used by process 100, PASID 2 is nowhere */
	r = task(100, 0xa1, 500);
	r.pasid = 1;
	sva_state_add(&fresh, &r);
	sva_state_add(&fresh, &end);
	fresh.seq = 9;
	fresh.ts_ns = 9000;
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 1);
	EXPECT_EQ(by_kind[RESYNC_GONE_PASID], 1);
	correlator_get_stats(c, &cs);
	EXPECT_EQ(cs.global_pasids, 1);
	/*
	 * A device with max_pasids 4 (PASIDs 1-3 usable) binds at PASID 3: 2 of 3 in use (67 %),
	 * under the threshold; with PASID 2 still counted it would have been 3 of 3.
	 */
	alloc_pasid(c, 10, 3, 0xa3, 4, 4);
	EXPECT_EQ(p.n, 0);
	/* PASID 2 handed out again: 3 of 3, and PASID 1 is known from the re-sync: certain */
	alloc_pasid(c, 11, 2, 0xa4, 9, 1024);
	EXPECT_EQ(p.n, 1);
	EXPECT_EQ(p.in_use, 3);
	EXPECT_EQ(p.uncertain, 0);
	/* the same read again (PASIDs 2 and 3 allocated since): nothing differs */
	memset(by_kind, 0, sizeof(by_kind));
	fresh.seq = 12;
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 0);
	correlator_free(c);
	sva_state_free(&fresh);
}

/*
 * An attachment the trace and the kernel both have at a group and PASID, with another domain:
 * a replace (iommu_replace_device_pasid, 6.13+) or a detach and an attach were lost. The
 * trace's is gone and the kernel's adopted; one both have alike is certain again.
 */
TEST(resync_an_attachment_with_another_domain_is_gone_and_untraced)
{
	struct correlator_opts o = { 0 };
	struct correlator *c = correlator_new(&o);
	struct sva_state st = { 0 }, fresh = { 0 };
	struct sva_state_rec r, end = { .kind = SVA_STATE_END, .users = -1 };
	const struct attachment *a;
	int by_kind[RESYNC__MAX] = { 0 };

	ASSERT_TRUE(c != NULL);
	fill(&st); /* bond 0xb1 at group 4 PASID 7, paging domain 0xd2 at group 5 PASID 100 */
	sva_state_seed(&st, c, NULL, NULL);
	correlator_lost(c, 3, 1500);
	r = task(100, 0xa1, 500);
	sva_state_add(&fresh, &r);
	r = bond(4, 0xb1, 0xa1, 2);
	sva_state_add(&fresh, &r);
	r = st.recs[3]; /* the paging attachment, now with domain 0xd9 */
	r.domain = 0xd9;
	sva_state_add(&fresh, &r);
	sva_state_add(&fresh, &end);
	fresh.seq = 10;
	fresh.ts_ns = 5000;
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 2);
	EXPECT_EQ(by_kind[RESYNC_GONE_ATTACHMENT], 1);
	EXPECT_EQ(by_kind[RESYNC_UNTRACED_ATTACHMENT], 1);
	a = correlator_find_attachment(c, 5, 100);
	ASSERT_TRUE(a != NULL);
	EXPECT_EQ(a->domain, 0xd9);
	EXPECT_FALSE(a->uncertain);
	a = correlator_find_attachment(c, 4, 7);
	ASSERT_TRUE(a != NULL);
	EXPECT_FALSE(a->uncertain); /* the bond's attachment, the same in both */
	memset(by_kind, 0, sizeof(by_kind));
	EXPECT_EQ(sva_state_resync(&fresh, c, NULL, NULL, count_diff, by_kind), 0);
	correlator_free(c);
	sva_state_free(&st);
	sva_state_free(&fresh);
}
