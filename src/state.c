// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "state.h"

int sva_state_add(struct sva_state *st, const struct sva_state_rec *r)
{
	if (r->kind == SVA_STATE_END) {
		st->end = *r;
		st->ended = true;
		return 0;
	}
	if (r->kind != SVA_STATE_TASK && r->kind != SVA_STATE_GROUP && r->kind != SVA_STATE_ATTACH)
		return 0; /* a kind from a newer kernel side: not ours to guess */
	/* A process whose leader exited: one record per thread, the first kept (rare: a scan). */
	if (r->kind == SVA_STATE_TASK && (r->flags & SVA_STATE_LEADER_GONE))
		for (size_t i = 0; i < st->nr; i++)
			if (st->recs[i].kind == SVA_STATE_TASK && st->recs[i].tgid == r->tgid)
				return 0;
	if (st->nr == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		struct sva_state_rec *n = realloc(st->recs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->recs = n;
		st->cap = ncap;
	}
	st->recs[st->nr++] = *r;
	return 0;
}

bool sva_state_add_replayed(struct sva_state *st, const struct sva_state_rec *r, uint64_t seq,
			    uint64_t ts_ns)
{
	sva_state_add(st, r);
	if (r->kind != SVA_STATE_END)
		return false;
	st->seq = seq;
	st->ts_ns = ts_ns;
	return true;
}

void sva_state_reset(struct sva_state *st)
{
	st->nr = 0;
	st->ended = false;
	memset(&st->end, 0, sizeof(st->end));
	st->seq = st->ts_ns = st->read_ns = 0;
	st->err = 0;
}

void sva_state_free(struct sva_state *st)
{
	free(st->recs);
	memset(st, 0, sizeof(*st));
}

static bool is_bond(const struct sva_state_rec *r)
{
	return r->kind == SVA_STATE_ATTACH && r->domain_type == SVA_DOMAIN_SVA && r->handle;
}

void sva_state_count(const struct sva_state *st, struct sva_state_counts *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < st->nr; i++) {
		const struct sva_state_rec *r = &st->recs[i];

		n->processes += r->kind == SVA_STATE_TASK;
		n->groups += r->kind == SVA_STATE_GROUP;
		n->attachments += r->kind == SVA_STATE_ATTACH;
		n->bonds += is_bond(r);
	}
}

const char *sva_state_unreadable(uint16_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(flag, text)                                                                    \
	if ((flags & (flag)) && n < len)                                                   \
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "", text);
	ADD(SVA_STATE_NO_MM_PASID, "no per-mm PASID (neither mm->iommu_mm nor mm->pasid)");
	ADD(SVA_STATE_NO_PASID_ARRAY,
	    "no bonds nor PASID attachments: this kernel has no iommu_group.pasid_array (6.1: "
	    "bonds live in the IOMMU driver's private structures); only each process's PASID "
	    "is read");
	ADD(SVA_STATE_NO_GROUP_LIST,
	    "no bonds nor PASID attachments: the iommu groups cannot be reached "
	    "(/sys/kernel/iommu_groups could not be opened: is sysfs mounted?)");
	ADD(SVA_STATE_TRUNCATED, "partial: a bound of the walk was reached (1024 groups, 65536 "
	    "PASID-array slots, 8 levels)");
#undef ADD
	return buf;
}

/* The processes using mm: the earliest started first. */
static const struct sva_state_rec *first_task(const struct sva_state *st, uint64_t mm)
{
	const struct sva_state_rec *best = NULL;

	for (size_t i = 0; mm && i < st->nr; i++) {
		const struct sva_state_rec *t = &st->recs[i];

		if (t->kind == SVA_STATE_TASK && t->mm == mm &&
		    (!best || t->start_ns < best->start_ns ||
		     (t->start_ns == best->start_ns && t->tgid < best->tgid)))
			best = t;
	}
	return best;
}

/* The correlator's view of an ATTACH record: owners from the TASK records of its mm. */
static void seed_of(const struct sva_state *st, const struct sva_state_rec *r,
		    struct correlator_seed *s)
{
	const struct sva_state_rec *t;

	memset(s, 0, sizeof(*s));
	s->handle = r->handle;
	s->domain = r->domain;
	s->domain_type = r->domain_type;
	s->mm = r->domain_type == SVA_DOMAIN_SVA ? r->mm : 0;
	s->group_id = r->group_id;
	s->pasid = r->pasid;
	s->users = r->users;
	s->max_pasids = r->max_pasids;
	memcpy(s->dev_name, r->dev_name, SVA_DEV_NAME_LEN);
	t = first_task(st, s->mm);
	s->since_ns = t && t->start_ns ? t->start_ns : st->ts_ns;
	if (t) {
		s->owner_pid = t->tgid;
		memcpy(s->owner_comm, t->comm, SVA_COMM_LEN);
	}
}

/* Groups first (max_pasids for pasid-pressure), owners last (they join seeded bonds). */
static void seed_groups(const struct sva_state *st, struct correlator *c)
{
	for (size_t i = 0; i < st->nr; i++)
		if (st->recs[i].kind == SVA_STATE_GROUP)
			correlator_seed_group(c, st->recs[i].group_id, st->recs[i].dev_name,
					      st->recs[i].max_pasids);
}

static void seed_owners(struct sva_state *st, struct correlator *c,
			bool (*remember)(uint32_t tgid, uint64_t mm, void *ctx), void *ctx)
{
	for (size_t i = 0; i < st->nr; i++) {
		struct sva_state_rec *t = &st->recs[i];
		bool exit_recorded;

		if (t->kind != SVA_STATE_TASK)
			continue;
		if (remember && !remember(t->tgid, t->mm, ctx))
			t->flags |= SVA_STATE_MM_UNTRACKED;
		exit_recorded = !(t->flags & SVA_STATE_MM_UNTRACKED);
		correlator_seed_owner(c, t->mm, t->tgid, t->comm, exit_recorded);
		correlator_seed_task_pasid(c, t->mm, t->pasid);
	}
	correlator_seed_end(c, st->ts_ns);
}

/*
 * A PASID of the global allocator, as the state shows one: each process's mm PASID (TASK),
 * each SVA domain's (its mm's; an mm with no task left, whose bond holds it), and each one a
 * DMA-API domain is attached at: in 6.11 - 7.2 only idxd attaches that kind at a PASID, its
 * own from iommu_alloc_global_pasid (drivers/dma/idxd/init.c idxd_enable_system_pasid, at
 * probe, so before tracing as a rule). iommufd's paging and nested domains sit at PASIDs the
 * VMM chose: not the allocator's.
 */
static bool global_pasid_of(const struct sva_state_rec *r)
{
	if (r->kind == SVA_STATE_TASK)
		return true;
	if (r->kind != SVA_STATE_ATTACH)
		return false;
	switch (r->domain_type) {
	case SVA_DOMAIN_SVA:
	case SVA_DOMAIN_DMA:
	case SVA_DOMAIN_DMA_FQ:
	case SVA_DOMAIN_IDENTITY:
		return true;
	default:
		return false;
	}
}

/*
 * The PASIDs the global allocator has out, as far as the state shows them (global_pasid_of).
 * After the attachments: a PASID attached in a group then counts once there.
 */
static void seed_global_pasids(const struct sva_state *st, struct correlator *c)
{
	for (size_t i = 0; i < st->nr; i++) {
		if (global_pasid_of(&st->recs[i]))
			correlator_seed_global_pasid(c, st->recs[i].pasid);
	}
}

void sva_state_seed(struct sva_state *st, struct correlator *c,
		    bool (*remember)(uint32_t tgid, uint64_t mm, void *ctx), void *ctx)
{
	correlator_seed_begin(c, st->seq);
	seed_groups(st, c);
	for (size_t i = 0; i < st->nr; i++) {
		struct correlator_seed s;

		if (st->recs[i].kind != SVA_STATE_ATTACH)
			continue;
		seed_of(st, &st->recs[i], &s);
		correlator_seed_attachment(c, &s);
	}
	seed_global_pasids(st, c);
	if (st->ended && !(st->end.flags & (SVA_STATE_NO_PASID_ARRAY | SVA_STATE_NO_GROUP_LIST |
					    SVA_STATE_TRUNCATED)))
		correlator_seed_pasid_arrays_read(c);
	seed_owners(st, c, remember, ctx);
}

/*
 * A re-sync's global PASIDs: those seed_global_pasids takes, and the PASIDs attached with other
 * domains (iommufd's), which are not taken off either.
 */
static size_t resync_global_pasids(const struct sva_state *st, struct correlator *c,
				   void (*fn)(const struct resync_diff *d, void *fctx), void *fctx)
{
	uint32_t *held = calloc(st->nr ? st->nr : 1, sizeof(*held));
	uint32_t *other = calloc(st->nr ? st->nr : 1, sizeof(*other));
	size_t nh = 0, no = 0, diffs = 0;

	if (held && other) {
		for (size_t i = 0; i < st->nr; i++) {
			const struct sva_state_rec *r = &st->recs[i];

			if (global_pasid_of(r))
				held[nh++] = r->pasid;
			else if (r->kind == SVA_STATE_ATTACH)
				other[no++] = r->pasid;
		}
		diffs = correlator_resync_global_pasids(c, held, nh, other, no, fn, fctx);
	} else {
		seed_global_pasids(st, c); /* out of memory: added, none taken off */
	}
	free(held);
	free(other);
	return diffs;
}

size_t sva_state_resync(struct sva_state *st, struct correlator *c,
			bool (*remember)(uint32_t tgid, uint64_t mm, void *ctx), void *ctx,
			void (*fn)(const struct resync_diff *d, void *fctx), void *fctx)
{
	struct correlator_seed *kern = calloc(st->nr ? st->nr : 1, sizeof(*kern));
	size_t n = 0, diffs;

	if (!kern)
		return 0;
	for (size_t i = 0; i < st->nr; i++)
		if (st->recs[i].kind == SVA_STATE_ATTACH)
			seed_of(st, &st->recs[i], &kern[n++]);
	seed_groups(st, c);
	diffs = correlator_resync(c, kern, n, st->seq, st->ts_ns, fn, fctx);
	diffs += resync_global_pasids(st, c, fn, fctx);
	seed_owners(st, c, remember, ctx);
	free(kern);
	return diffs;
}

static void dev_field(struct json_writer *w, const char *dev)
{
	jw_name(w, "dev");
	if (dev[0])
		jw_string_n(w, dev, SVA_DEV_NAME_LEN);
	else
		jw_null(w);
}

void sva_state_format_json(struct json_writer *w, const struct sva_state *st, size_t i,
			   const struct ptrhash *ph)
{
	const struct sva_state_rec *r = i < st->nr ? &st->recs[i] : &st->end;
	const char *dtype;

	jw_start_object(w);
	jw_string_field(w, "type", "state");
	jw_uint_field(w, "version", SVA_STATE_JSON_VERSION);
	switch (r->kind) {
	case SVA_STATE_TASK:
		jw_string_field(w, "kind", "task");
		jw_uint_field(w, "pid", r->tgid);
		jw_name(w, "comm");
		jw_string_n(w, r->comm, SVA_COMM_LEN);
		sva_json_ptr_field(w, "mm", r->mm, ph);
		jw_uint_field(w, "pasid", r->pasid);
		jw_uint_field(w, "start_ns", r->start_ns);
		if (r->flags & SVA_STATE_MM_UNTRACKED)
			jw_bool_field(w, "mm_untracked", true);
		break;
	case SVA_STATE_GROUP:
		jw_string_field(w, "kind", "group");
		jw_int_field(w, "group", r->group_id);
		dev_field(w, r->dev_name);
		jw_uint_field(w, "max_pasids", r->max_pasids);
		jw_uint_field(w, "count", r->count);
		break;
	case SVA_STATE_ATTACH:
		jw_string_field(w, "kind", "attachment");
		jw_int_field(w, "group", r->group_id);
		jw_uint_field(w, "pasid", r->pasid);
		dev_field(w, r->dev_name);
		jw_uint_field(w, "max_pasids", r->max_pasids);
		sva_json_ptr_field(w, "domain", r->domain, ph);
		dtype = sva_domain_type_name(r->domain_type);
		jw_name(w, "domain_type");
		if (dtype)
			jw_string(w, dtype);
		else
			jw_null(w);
		jw_uint_field(w, "domain_type_raw", r->domain_type);
		sva_json_ptr_field(w, "handle", r->handle, ph);
		sva_json_ptr_field(w, "mm", r->domain_type == SVA_DOMAIN_SVA ? r->mm : 0, ph);
		if (r->users >= 0 || r->users < -1)
			jw_int_field(w, "users", r->users);
		else
			jw_null_field(w, "users");
		jw_bool_field(w, "bond", is_bond(r));
		/* informational (a replay joins tasks by mm): the processes using its mm */
		jw_name(w, "owner_pids");
		jw_start_array(w);
		for (size_t k = 0; is_bond(r) && r->mm && k < st->nr; k++)
			if (st->recs[k].kind == SVA_STATE_TASK && st->recs[k].mm == r->mm)
				jw_uint(w, st->recs[k].tgid);
		jw_end_array(w);
		break;
	default: {
		struct sva_state_counts n;
		char why[512];

		sva_state_count(st, &n);
		jw_string_field(w, "kind", "end");
		jw_uint_field(w, "next_seq", st->seq);
		jw_uint_field(w, "ts_ns", st->ts_ns);
		jw_uint_field(w, "read_ns", st->read_ns);
		/* live reads from now on: not written when not known (older captures) */
		if (r->users >= 0)
			jw_int_field(w, "calls_in_flight", r->users);
		jw_uint_field(w, "processes", n.processes);
		jw_uint_field(w, "groups", n.groups);
		jw_uint_field(w, "attachments", n.attachments);
		jw_uint_field(w, "bonds", n.bonds);
		jw_uint_field(w, "flags_raw", r->flags);
		sva_state_unreadable(r->flags, why, sizeof(why));
		if (why[0])
			jw_string_field(w, "unreadable", why);
		else
			jw_null_field(w, "unreadable");
		break;
	}
	}
	jw_end_object(w);
}

void sva_state_print_text(FILE *out, const struct sva_state *st, const struct ptrhash *ph)
{
	struct sva_state_counts n;
	char why[512];

	sva_state_count(st, &n);
	fprintf(out, "state at start: %u bond%s, %u PASID attachment%s, %u process%s with a "
		     "PASID, %u iommu group%s (read in %.1f ms)\n",
		n.bonds, n.bonds == 1 ? "" : "s", n.attachments, n.attachments == 1 ? "" : "s",
		n.processes, n.processes == 1 ? "" : "es", n.groups, n.groups == 1 ? "" : "s",
		(double)st->read_ns / 1e6);
	if (n.attachments) {
		fprintf(out, "  %-6s %-16s %5s %-9s %5s %-18s %s\n", "PASID", "DEVICE", "GROUP",
			"TYPE", "USERS", "HANDLE", "OWNERS");
		for (size_t i = 0; i < st->nr; i++) {
			const struct sva_state_rec *r = &st->recs[i];
			char dev[4 * SVA_DEV_NAME_LEN + 1], h[PTRHASH_STR_LEN], users[16];
			char owners[256] = "";
			const char *dtype = sva_domain_type_name(r->domain_type);
			size_t len = 0;

			if (r->kind != SVA_STATE_ATTACH)
				continue;
			sva_text_escape(dev, sizeof(dev), r->dev_name, SVA_DEV_NAME_LEN);
			ptrhash_format(ph, r->handle, h);
			if (r->users >= 0)
				snprintf(users, sizeof(users), "%d", r->users);
			else
				snprintf(users, sizeof(users), "-");
			for (size_t k = 0; is_bond(r) && r->mm && k < st->nr; k++) {
				const struct sva_state_rec *t = &st->recs[k];
				char comm[4 * SVA_COMM_LEN + 1];

				if (t->kind != SVA_STATE_TASK || t->mm != r->mm || len >= sizeof(owners))
					continue;
				sva_text_escape(comm, sizeof(comm), t->comm, SVA_COMM_LEN);
				len += (size_t)snprintf(owners + len, sizeof(owners) - len, "%s%u/%s",
							len ? "," : "", t->tgid, comm);
			}
			fprintf(out, "  %-6u %-16s %5d %-9s %5s %-18s %s\n", r->pasid,
				dev[0] ? dev : "-", r->group_id, dtype ? dtype : "?", users,
				r->handle ? h : "-",
				owners[0] ? owners : is_bond(r) ? "(none: no process uses its mm)" : "-");
		}
	}
	sva_state_unreadable(st->end.flags, why, sizeof(why));
	if (why[0])
		fprintf(out, "  not read on this kernel: %s\n", why);
}
