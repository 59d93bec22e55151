// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "kernel.h"
#include "print.h"
#include "report.h"
#include "safefile.h"

static void wall_field(struct json_writer *w, const char *name, uint64_t ns)
{
	char buf[64];
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000ull / 1000));
	jw_string_field(w, name, buf);
}

static void nullable_str(struct json_writer *w, const char *name, const char *s)
{
	if (s && *s)
		jw_string_field(w, name, s);
	else
		jw_null_field(w, name);
}

struct attach_ctx {
	struct json_writer *w;
	const struct fmt_opts *fmt;
};

static void attachment_json(const struct attachment *a, void *arg)
{
	struct attach_ctx *x = arg;
	struct json_writer *w = x->w;
	const char *t = sva_domain_type_name(a->domain_type);

	jw_start_object(w);
	sva_json_group_field(w, a->group_id);
	jw_uint_field(w, "pasid", a->pasid);
	sva_json_dev_field(w, a->dev_name);
	sva_json_ptr_field(w, "domain", a->domain, x->fmt->ptrs);
	jw_name(w, "domain_type");
	if (t)
		jw_string(w, t);
	else
		jw_null(w);
	sva_json_ptr_field(w, "handle", a->handle, x->fmt->ptrs);
	sva_json_ptr_field(w, "mm", a->mm, x->fmt->ptrs);
	sva_json_owner_fields(w, a->owner_pid, a->owner_comm);
	if (a->unknown_origin || a->at_start)
		jw_null_field(w, "since_seq");
	else
		jw_uint_field(w, "since_seq", a->since_seq);
	jw_bool_field(w, "unknown_origin", a->unknown_origin);
	jw_bool_field(w, "at_start", a->at_start);
	jw_bool_field(w, "uncertain", a->uncertain);
	jw_end_object(w);
}

/* PASIDs in use: the distinct PASIDs of the live attachments, with their count. */
struct pasid_ctx {
	uint32_t pasids[4096];
	uint32_t counts[4096];
	int n;
};

static void pasid_collect(const struct attachment *a, void *arg)
{
	struct pasid_ctx *p = arg;

	for (int i = 0; i < p->n; i++) {
		if (p->pasids[i] == a->pasid) {
			p->counts[i]++;
			return;
		}
	}
	if (p->n < 4096) {
		p->pasids[p->n] = a->pasid;
		p->counts[p->n++] = 1;
	}
}

void export_build(struct json_writer *w, const struct export_input *in)
{
	const struct sva_options *o = in->opts;
	struct correlator_stats st;
	struct attach_ctx ax = { .w = w, .fmt = in->fmt };
	static struct pasid_ctx pc;

	correlator_get_stats(in->corr, &st);
	jw_reset(w);
	jw_start_object(w);
	jw_string_field(w, "schema", EXPORT_SCHEMA);
	jw_uint_field(w, "schema_version", EXPORT_SCHEMA_VERSION);
	jw_string_field(w, "reason", in->reason);
	jw_name(w, "tool");
	jw_start_object(w);
	jw_string_field(w, "name", "sva-trace");
	jw_string_field(w, "version", sva_trace_version);
	jw_end_object(w);
	jw_name(w, "kernel");
	jw_start_object(w);
	nullable_str(w, "release", in->kernel_release);
	nullable_str(w, "machine", in->machine);
	nullable_str(w, "boot_id", in->boot_id);
	jw_end_object(w);
	jw_name(w, "time");
	jw_start_object(w);
	if (in->start_wall_ns) {
		wall_field(w, "start_wall", in->start_wall_ns);
		wall_field(w, "end_wall", in->end_wall_ns);
	} else {
		jw_null_field(w, "start_wall");
		jw_null_field(w, "end_wall");
	}
	jw_uint_field(w, "start_boot_ns", in->start_ns);
	jw_uint_field(w, "end_boot_ns", in->end_ns);
	jw_end_object(w);
	jw_string_field(w, "pointers", o->raw_pointers ? "raw" : "hashed");
	jw_bool_field(w, "replay", o->replay_path != NULL);

	jw_name(w, "probes");
	jw_start_array(w);
	for (int i = 0; in->ld && i < in->ld->nr_probes; i++) {
		const struct probe_state *ps = &in->ld->probes[i];

		if (probe_is_callee(ps))
			continue;
		jw_start_object(w);
		jw_string_field(w, "function", ps->spec->func);
		jw_bool_field(w, "present", ps->present);
		jw_bool_field(w, "attached", ps->attached);
		if (ps->attached)
			jw_string_field(w, "mode", attach_mode_name(ps));
		else
			jw_null_field(w, "mode");
		jw_end_object(w);
	}
	jw_end_array(w);

	jw_name(w, "filters");
	jw_start_object(w);
	if (o->pid)
		jw_uint_field(w, "pid", o->pid);
	else
		jw_null_field(w, "pid");
	nullable_str(w, "comm", o->comm);
	nullable_str(w, "dev", o->dev);
	if (o->pasid != SVA_PASID_NONE)
		jw_uint_field(w, "pasid", o->pasid);
	else
		jw_null_field(w, "pasid");
	jw_bool_field(w, "all_lookups", o->all_lookups);
	jw_uint_field(w, "leak_grace_ns", o->leak_grace_ns);
	jw_end_object(w);

	jw_uint_field(w, "lost", in->lost);
	jw_uint_field(w, "seq_gaps", in->seq_gaps);
	jw_uint_field(w, "bad_records", in->bad_records);
	jw_name(w, "counters");
	jw_start_object(w);
	for (int t = 1; t < SVA_REC__MAX; t++)
		jw_uint_field(w, sva_rec_type_name((unsigned int)t), in->counts[t]);
	jw_end_object(w);

	jw_name(w, "lookups");
	report_lookups_json(w, in->lookups, in->nr_lookups);

	jw_name(w, "bonds");
	report_outstanding_json(w, in->corr, in->fmt, in->end_ns, NULL);
	jw_name(w, "ended_bonds");
	jw_start_array(w);
	for (int i = 0; i < in->nr_ended; i++)
		bond_format_json(w, &in->ended[i].b, in->fmt, in->ended[i].ended_ns);
	jw_end_array(w);
	jw_uint_field(w, "bonds_ended_total", st.ended_bonds);

	jw_name(w, "attachments");
	jw_start_array(w);
	correlator_for_each_attachment(in->corr, attachment_json, &ax);
	jw_end_array(w);

	memset(&pc, 0, sizeof(pc));
	correlator_for_each_attachment(in->corr, pasid_collect, &pc);
	jw_name(w, "pasids");
	jw_start_array(w);
	for (int i = 0; i < pc.n; i++) {
		jw_start_object(w);
		jw_uint_field(w, "pasid", pc.pasids[i]);
		jw_uint_field(w, "attachments", pc.counts[i]);
		jw_end_object(w);
	}
	jw_end_array(w);

	jw_name(w, "findings");
	jw_start_array(w);
	for (int i = 0; i < in->nr_findings; i++) {
		const struct kept_finding *k = &in->findings[i];

		jw_start_object(w);
		finding_format_json_fields(w, &k->f, in->fmt);
		jw_name(w, "evidence_events");
		jw_start_array(w);
		for (int e = 0; e < k->nr_events; e++)
			sva_event_format_json(w, &k->events[e], in->fmt);
		jw_end_array(w);
		jw_name(w, "resolved");
		if (k->resolved) {
			jw_start_object(w);
			resolution_format_json_fields(w, &k->res, in->fmt);
			jw_end_object(w);
		} else {
			jw_null(w);
		}
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_uint_field(w, "findings_dropped", in->findings_dropped);
	jw_uint_field(w, "resolved", in->resolved);
	/* What the filters showed, and apart what they hid (the correlator found every one). */
	jw_name(w, "findings_by_kind");
	jw_start_object(w);
	for (int k = 0; k < FINDING__MAX; k++)
		jw_uint_field(w, finding_kind_name((enum finding_kind)k),
			      in->findings_by_kind ? in->findings_by_kind[k] : st.findings[k]);
	jw_end_object(w);
	jw_name(w, "findings_hidden_by_filters");
	jw_start_object(w);
	for (int k = 0; k < FINDING__MAX; k++) {
		uint64_t shown = in->findings_by_kind ? in->findings_by_kind[k] : st.findings[k];

		jw_uint_field(w, finding_kind_name((enum finding_kind)k),
			      st.findings[k] > shown ? st.findings[k] - shown : 0);
	}
	jw_end_object(w);

	jw_name(w, "stacks");
	jw_start_array(w);
	for (int i = 0; i < in->nr_stacks; i++) {
		jw_start_object(w);
		jw_int_field(w, "id", in->stacks[i].id);
		jw_name(w, "frames");
		jw_start_array(w);
		for (int f = 0; f < in->stacks[i].depth; f++)
			jw_string(w, in->stacks[i].frames[f]);
		jw_end_array(w);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_end_object(w);
}

int export_keep_init(struct export_keep *k, uint32_t ended_max)
{
	memset(k, 0, sizeof(*k));
	k->ended_max = ended_max;
	k->ring = calloc(EXPORT_EVENT_RING, sizeof(*k->ring));
	k->findings = calloc(EXPORT_MAX_FINDINGS, sizeof(*k->findings));
	k->ended = calloc(ended_max ? ended_max : 1, sizeof(*k->ended));
	if (!k->ring || !k->findings || !k->ended) {
		export_keep_free(k);
		return -ENOMEM;
	}
	return 0;
}

void export_keep_free(struct export_keep *k)
{
	for (uint32_t i = 0; k->ended && i < k->nr_ended; i++)
		free(k->ended[i].b.steps);
	free(k->ended);
	free(k->findings);
	free(k->ring);
	memset(k, 0, sizeof(*k));
}

void export_keep_event(struct export_keep *k, const struct sva_event *ev)
{
	k->ring[k->ring_count++ % EXPORT_EVENT_RING] = *ev;
}

void export_keep_finding(struct export_keep *k, const struct finding *f)
{
	struct kept_finding *kf;
	uint64_t first = k->ring_count > EXPORT_EVENT_RING ? k->ring_count - EXPORT_EVENT_RING : 0;

	k->by_kind[f->kind]++;
	if (k->nr_findings == EXPORT_MAX_FINDINGS) {
		k->findings_dropped++;
		return;
	}
	kf = &k->findings[k->nr_findings++];
	kf->f = *f;
	kf->nr_events = 0;
	kf->resolved = false;
	/* The evidence events still in the recent ring, by sequence number. */
	for (int e = 0; e < f->nr_evidence; e++) {
		for (uint64_t i = k->ring_count; i > first; i--) {
			const struct sva_event *ev = &k->ring[(i - 1) % EXPORT_EVENT_RING];

			if (ev->seq == f->evidence[e]) {
				kf->events[kf->nr_events++] = *ev;
				break;
			}
		}
	}
}

void export_keep_resolution(struct export_keep *k, const struct resolution *r)
{
	/* The most recent finding of that kind on that bond not yet retracted. */
	for (int i = k->nr_findings - 1; i >= 0; i--) {
		struct kept_finding *kf = &k->findings[i];

		if (kf->f.kind == r->kind && kf->f.subject.handle == r->subject.handle &&
		    !kf->resolved) {
			kf->resolved = true;
			kf->res = *r;
			k->resolved++;
			return;
		}
	}
}

void export_keep_bond_end(struct export_keep *k, const struct bond *b, uint64_t ts_ns)
{
	struct kept_bond *kb;
	struct bond_step_rec *steps;
	uint32_t kept = bond_steps_kept(b), unbinds = 0;

	if (!k->ended_max)
		return;
	steps = malloc((kept ? kept : 1) * sizeof(*steps));
	if (!steps)
		return;
	/* In time order, so the copy reads like a bond that never wrapped. */
	for (uint32_t i = 0; i < kept; i++) {
		struct bond_step s = bond_step_at(b, i);

		steps[i] = (struct bond_step_rec){ .seq = s.seq, .ts_ns = s.ts_ns,
						   .users_after = s.users_after, .tgid = s.tgid };
		unbinds |= (uint32_t)(s.type != SVA_REC_BIND) << i;
	}
	kb = &k->ended[k->ended_pos];
	if (k->nr_ended == k->ended_max)
		free(kb->b.steps);
	else
		k->nr_ended++;
	kb->b = *b;
	kb->b.steps = steps;
	kb->b.step_unbinds = unbinds;
	kb->b.nr_steps = kept; /* history_len then counts what is kept */
	kb->b.prev = kb->b.next = NULL;
	/* the correlator's interned names go with the bond: copied */
	memcpy(kb->dev_name, b->dev_name, SVA_DEV_NAME_LEN);
	memcpy(kb->owner_comm, b->owner_comm, SVA_COMM_LEN);
	kb->b.dev_name = kb->dev_name;
	kb->b.owner_comm = kb->owner_comm;
	kb->ended_ns = ts_ns;
	k->ended_pos = (k->ended_pos + 1) % k->ended_max;
}

int export_collect_stacks(const struct sva_loader *ld, struct ksym_table *ksyms,
			  struct stack_row **out)
{
	int32_t key, next, *prev = NULL;
	uint64_t ips[SVA_STACK_DEPTH];
	struct ksym_table *ks;
	struct stack_row *rows = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	/* Without CAP_SYSLOG /proc/kallsyms shows zeros: use the copy read at start-up. */
	ks = ksyms ? ksyms : ksym_table_load();
	while (!sva_loader_next_stack_id(ld, prev, &next) && n < 4096) {
		struct stack_row *row;

		key = next;
		prev = &key;
		if (sva_loader_read_stack(ld, key, ips))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			struct stack_row *nr = realloc(rows, (size_t)ncap * sizeof(*nr));

			if (!nr)
				break;
			rows = nr;
			cap = ncap;
		}
		row = &rows[n++];
		row->id = (int32_t)key;
		row->depth = 0;
		for (int i = 0; i < SVA_STACK_DEPTH && ips[i] && row->depth < 32; i++) {
			ksym_resolve(ks, ips[i], row->frames[row->depth], sizeof(row->frames[0]));
			row->depth++;
		}
	}
	if (ks != ksyms)
		ksym_table_free(ks);
	*out = rows;
	return n;
}

int export_write(const char *path, struct export_input *in, const struct export_keep *k)
{
	struct kept_bond *ended;
	struct json_writer w;
	char err[512];
	int ret = 0;

	in->findings = k->findings;
	in->nr_findings = k->nr_findings;
	in->findings_dropped = k->findings_dropped;
	in->findings_by_kind = k->by_kind;
	in->resolved = k->resolved;
	/* The ring of ended bonds, oldest first. */
	ended = calloc(k->nr_ended ? k->nr_ended : 1, sizeof(*ended));
	if (ended) {
		uint32_t first = k->nr_ended == k->ended_max ? k->ended_pos : 0;

		for (uint32_t i = 0; i < k->nr_ended; i++)
			ended[i] = k->ended[(first + i) % k->ended_max];
		in->ended = ended;
		in->nr_ended = (int)k->nr_ended;
	}
	jw_init(&w);
	export_build(&w, in);
	if (jw_finish(&w)) {
		sva_warn("internal error: the export is not valid JSON; not written");
		ret = -EINVAL;
	} else {
		/* One document, newline-terminated, for tools that read lines. */
		jw_newline(&w);
		if (safefile_write(path, w.buf, w.len, err, sizeof(err))) {
			sva_warn("export: %s", err);
			ret = -EIO;
		}
	}
	jw_free(&w);
	free(ended);
	return ret;
}
