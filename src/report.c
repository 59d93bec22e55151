// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <string.h>

#include "report.h"

/* "12,15,20": a finding's or resolution's evidence sequence numbers */
static void evidence_text(char *buf, size_t len, const uint64_t *ev, int nr)
{
	size_t n = 0;

	/* none: a bond read from the kernel's state at start-up, with nothing traced since */
	snprintf(buf, len, "%s", nr ? "" : "-");
	for (int i = 0; i < nr && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64, i ? "," : "", ev[i]);
}

/* "evidence": [12, 15, 20], the same in JSON */
static void evidence_json(struct json_writer *w, const uint64_t *ev, int nr)
{
	jw_name(w, "evidence");
	jw_start_array(w);
	for (int i = 0; i < nr; i++)
		jw_uint(w, ev[i]);
	jw_end_array(w);
}

static const struct doubt_desc doubts[DOUBT__MAX] = {
	[DOUBT_LOST] = { NULL, "events were lost",
			 "events were lost while their subjects were live",
			 "a larger --ring-size avoids the loss" },
	[DOUBT_UNCOUNTED] = { "count_unreadable", "the driver's count cannot be read",
			      "the driver's bond count cannot be read, so binds made before "
			      "tracing cannot be ruled out",
			      "start tracing before the device is opened to see every bind" },
	[DOUBT_CROWDED] = { "threads_crowded", "too many threads waited at once",
			    "more threads whose ids share a slot of the correlator's waiting "
			    "tables waited at once than it keeps: the record may be the one a "
			    "lost wait was for",
			    NULL },
	[DOUBT_HOLDER_UNSEEN] = { "holder_unseen", "no holder was seen",
				  "an attach refused with EBUSY where no domain was seen: most "
				  "likely during a group reset",
				  NULL },
	[DOUBT_START_RACE] = { "start_race", "its unbind raced the start-up read",
			       "a bond read at start-up whose unbinds, recorded while the state "
			       "was read, may have released every reference the read counted: the "
			       "read takes no lock",
			       NULL },
};

const struct doubt_desc *finding_doubt_desc(enum finding_doubt d)
{
	/* DOUBT_NONE (never uncertain) and anything unknown read as records lost */
	return d > DOUBT_NONE && d < DOUBT__MAX ? &doubts[d] : &doubts[DOUBT_LOST];
}

void finding_format_text(const struct finding *f, const struct fmt_opts *o, char *buf,
			 size_t len)
{
	char dev[4 * SVA_DEV_NAME_LEN + 1], ev[FINDING_MAX_EVIDENCE * 22], h[PTRHASH_STR_LEN];

	sva_text_escape(dev, sizeof(dev), f->subject.dev_name, SVA_DEV_NAME_LEN);
	evidence_text(ev, sizeof(ev), f->evidence, f->nr_evidence);
	ptrhash_format(o->ptrs, f->subject.handle, h);
	snprintf(buf, len, "FINDING %s %s%s%s%s: dev=%s group=%d pasid=%d%s%s: %s [events %s]",
		 finding_severity_name(f->severity), finding_kind_name(f->kind),
		 f->uncertain ? " (uncertain: " : "",
		 f->uncertain ? finding_doubt_desc(f->doubt)->text : "", f->uncertain ? ")" : "",
		 dev[0] ? dev : "-",
		 f->subject.group_id, f->subject.pasid == SVA_PASID_NONE ? -1 : (int)f->subject.pasid,
		 f->subject.handle ? " handle=" : "", f->subject.handle ? h : "", f->message, ev);
}

void finding_format_json(struct json_writer *w, const struct finding *f, const struct fmt_opts *o)
{
	jw_start_object(w);
	jw_string_field(w, "type", "finding");
	finding_format_json_fields(w, f, o);
	jw_end_object(w);
}

static void subject_json(struct json_writer *w, const struct finding_subject *s,
			 const struct fmt_opts *o);

void finding_format_json_fields(struct json_writer *w, const struct finding *f,
				const struct fmt_opts *o)
{
	jw_string_field(w, "kind", finding_kind_name(f->kind));
	jw_string_field(w, "severity", finding_severity_name(f->severity));
	jw_bool_field(w, "uncertain", f->uncertain);
	/* absent when uncertain: records were lost (the reason since format 1) */
	if (f->uncertain && finding_doubt_desc(f->doubt)->reason)
		jw_string_field(w, "uncertain_reason", finding_doubt_desc(f->doubt)->reason);
	jw_uint_field(w, "ts_ns", f->ts_ns);
	subject_json(w, &f->subject, o);
	evidence_json(w, f->evidence, f->nr_evidence);
	jw_string_field(w, "message", f->message);
	if (f->has_pressure) {
		jw_name(w, "pressure");
		jw_start_object(w);
		jw_uint_field(w, "in_use", f->pressure.in_use);
		jw_uint_field(w, "usable", f->pressure.usable);
		jw_uint_field(w, "max_pasids", f->pressure.max_pasids);
		jw_uint_field(w, "attached", f->pressure.attached);
		jw_uint_field(w, "held_elsewhere", f->pressure.held_elsewhere);
		{
			/* a percentage from --pasid-pressure: finite, 0-100 (options.c) */
			char pct[32];
			int n = snprintf(pct, sizeof(pct), "%g", f->pressure.threshold_pct);

			jw_name(w, "threshold_pct");
			jw_raw(w, pct, n > 0 && (size_t)n < sizeof(pct) ? (size_t)n : 0);
		}
		jw_end_object(w);
	}
}

void resolution_format_text(const struct resolution *r, const struct fmt_opts *o, char *buf,
			    size_t len)
{
	char dev[4 * SVA_DEV_NAME_LEN + 1], h[PTRHASH_STR_LEN], ev[FINDING_MAX_EVIDENCE * 22];

	sva_text_escape(dev, sizeof(dev), r->subject.dev_name, SVA_DEV_NAME_LEN);
	evidence_text(ev, sizeof(ev), r->evidence, r->nr_evidence);
	ptrhash_format(o->ptrs, r->subject.handle, h);
	snprintf(buf, len, "RESOLVED %s: dev=%s group=%d pasid=%d%s%s: %s [events %s]",
		 finding_kind_name(r->kind), dev[0] ? dev : "-", r->subject.group_id,
		 r->subject.pasid == SVA_PASID_NONE ? -1 : (int)r->subject.pasid,
		 r->subject.handle ? " handle=" : "", r->subject.handle ? h : "", r->message, ev);
}

void resolution_format_json(struct json_writer *w, const struct resolution *r,
			    const struct fmt_opts *o)
{
	jw_start_object(w);
	jw_string_field(w, "type", "resolved");
	resolution_format_json_fields(w, r, o);
	jw_end_object(w);
}

void resolution_format_json_fields(struct json_writer *w, const struct resolution *r,
				   const struct fmt_opts *o)
{
	jw_string_field(w, "kind", finding_kind_name(r->kind));
	jw_uint_field(w, "ts_ns", r->ts_ns);
	jw_uint_field(w, "finding_ts_ns", r->finding_ts_ns);
	jw_uint_field(w, "late_ns", r->late_ns);
	subject_json(w, &r->subject, o);
	jw_uint_field(w, "by_pid", r->by_pid);
	jw_uint_field(w, "by_tid", r->by_tid);
	jw_name(w, "by_comm");
	jw_string_n(w, r->by_comm, SVA_COMM_LEN);
	evidence_json(w, r->evidence, r->nr_evidence);
	jw_string_field(w, "message", r->message);
}

static void subject_json(struct json_writer *w, const struct finding_subject *s,
			 const struct fmt_opts *o)
{
	const struct finding_subject *f_subject = s;

	jw_name(w, "subject");
	jw_start_object(w);
	sva_json_ptr_field(w, "handle", f_subject->handle, o->ptrs);
	sva_json_ptr_field(w, "domain", f_subject->domain, o->ptrs);
	sva_json_ptr_field(w, "mm", f_subject->mm, o->ptrs);
	sva_json_dev_field(w, f_subject->dev_name);
	sva_json_group_pasid_fields(w, f_subject->group_id, f_subject->pasid);
	sva_json_owner_fields(w, f_subject->owner_pid, f_subject->owner_comm);
	jw_end_object(w);
}

struct outstanding_ctx {
	FILE *out;
	struct json_writer *w;
	const struct fmt_opts *o;
	const struct sva_filter *filter;
	uint64_t now_ns;
	int count;
};

static bool bond_shown(const struct outstanding_ctx *x, const struct bond *b)
{
	return !x->filter || sva_filter_bond(x->filter, b);
}

static void text_bond(const struct bond *b, void *arg)
{
	struct outstanding_ctx *x = arg;
	char dev[4 * SVA_DEV_NAME_LEN + 1], comm[4 * SVA_COMM_LEN + 1], h[PTRHASH_STR_LEN];
	char owner_pid[16] = "";

	if (!bond_shown(x, b))
		return;
	if (!x->count++)
		fprintf(x->out, "outstanding bonds (still bound at end of tracing; not an error "
				"by itself):\n");
	sva_text_escape(dev, sizeof(dev), b->dev_name, SVA_DEV_NAME_LEN);
	sva_text_escape(comm, sizeof(comm), b->owner_comm, SVA_COMM_LEN);
	/* No owner known (a bond first seen at an unbind, or read at start-up unused): "?". */
	if (b->owner_pid)
		snprintf(owner_pid, sizeof(owner_pid), "/%u", b->owner_pid);
	ptrhash_format(x->o->ptrs, b->handle, h);
	fprintf(x->out,
		"  handle=%s dev=%s group=%d pasid=%d owner=%s%s%s users=%" PRId64
		" age=%.3fs binds=%" PRIu64 " unbinds=%" PRIu64 "%s%s%s\n",
		h, dev[0] ? dev : "-", b->group_id, b->pasid == SVA_PASID_NONE ? -1 : (int)b->pasid,
		b->owner_pid ? comm : "?", owner_pid,
		b->owner_exit_ns ? "(exited)" : "", b->expected_users,
		x->now_ns > b->created_ns ? (double)(x->now_ns - b->created_ns) / 1e9 : 0.0,
		b->nr_binds, b->nr_unbinds,
		b->unknown_origin ? " unknown-origin" : b->at_start ? " at-start" : "",
		b->leak_reported ? " LEAK" : "", b->uncertain ? " uncertain" : "");
}

void report_outstanding_text(FILE *out, const struct correlator *c, const struct fmt_opts *o,
			     uint64_t now_ns, const struct sva_filter *filter)
{
	struct outstanding_ctx x = { .out = out, .o = o, .now_ns = now_ns, .filter = filter };

	correlator_for_each_bond(c, text_bond, &x);
}

void bond_format_json(struct json_writer *w, const struct bond *b, const struct fmt_opts *o,
		      uint64_t now_ns)
{
	const char *dtype = sva_domain_type_name(b->domain_type);

	jw_start_object(w);
	sva_json_ptr_field(w, "handle", b->handle, o->ptrs);
	sva_json_dev_field(w, b->dev_name);
	sva_json_group_pasid_fields(w, b->group_id, b->pasid);
	sva_json_ptr_field(w, "mm", b->mm, o->ptrs);
	sva_json_ptr_field(w, "domain", b->domain, o->ptrs);
	jw_name(w, "domain_type");
	if (b->domain && dtype)
		jw_string(w, dtype);
	else
		jw_null(w);
	sva_json_owner_fields(w, b->owner_pid, b->owner_comm);
	jw_bool_field(w, "owner_exited", b->owner_exit_ns != 0);
	jw_int_field(w, "users", b->expected_users);
	jw_uint_field(w, "created_seq", b->created_seq);
	jw_uint_field(w, "age_ns", now_ns > b->created_ns ? now_ns - b->created_ns : 0);
	jw_bool_field(w, "unknown_origin", b->unknown_origin);
	jw_bool_field(w, "at_start", b->at_start);
	jw_bool_field(w, "uncertain", b->uncertain);
	/* absent when uncertain: records were lost (as a finding's) */
	if (b->uncertain && finding_doubt_desc(b->uncertain)->reason)
		jw_string_field(w, "uncertain_reason", finding_doubt_desc(b->uncertain)->reason);
	jw_bool_field(w, "leak", b->leak_reported);
	jw_uint_field(w, "binds", b->nr_binds);
	jw_uint_field(w, "unbinds", b->nr_unbinds);
	jw_uint_field(w, "history_len", b->nr_steps);
	jw_name(w, "history");
	jw_start_array(w);
	for (uint32_t i = 0; i < bond_steps_kept(b); i++) {
		struct bond_step s = bond_step_at(b, i);

		jw_start_object(w);
		jw_uint_field(w, "seq", s.seq);
		jw_uint_field(w, "ts_ns", s.ts_ns);
		jw_string_field(w, "op", s.type == SVA_REC_BIND ? "bind" : "unbind");
		jw_uint_field(w, "pid", s.tgid);
		if (s.users_after >= 0)
			jw_int_field(w, "users", s.users_after);
		else
			jw_null_field(w, "users");
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_end_object(w);
}

static void json_bond(const struct bond *b, void *arg)
{
	struct outstanding_ctx *x = arg;

	if (bond_shown(x, b))
		bond_format_json(x->w, b, x->o, x->now_ns);
}

void report_outstanding_json(struct json_writer *w, const struct correlator *c,
			     const struct fmt_opts *o, uint64_t now_ns,
			     const struct sva_filter *filter)
{
	struct outstanding_ctx x = { .w = w, .o = o, .now_ns = now_ns, .filter = filter };

	jw_start_array(w);
	correlator_for_each_bond(c, json_bond, &x);
	jw_end_array(w);
}

void report_error_json(struct json_writer *w, int code, const char *message)
{
	jw_start_object(w);
	jw_string_field(w, "type", "error");
	jw_int_field(w, "code", code);
	jw_string_field(w, "message", message);
	jw_end_object(w);
}

void report_start_json(struct json_writer *w, const struct report_start *s)
{
	jw_start_object(w);
	jw_string_field(w, "type", "start");
	jw_string_field(w, "tool", s->tool);
	jw_string_field(w, "version", s->version);
	jw_uint_field(w, "format", 1);
	if (s->kernel)
		jw_string_field(w, "kernel", s->kernel);
	if (s->machine)
		jw_string_field(w, "machine", s->machine);
	jw_uint_field(w, "ts_ns", s->ts_ns);
	jw_string_field(w, "pointers", s->raw_pointers ? "raw" : "hashed");
	if (s->replay)
		jw_bool_field(w, "replay", true);
	jw_name(w, "probes");
	jw_start_array(w);
	for (int i = 0; i < s->nr_probes; i++) {
		jw_start_object(w);
		jw_string_field(w, "function", s->probes[i].function);
		jw_string_field(w, "mode", s->probes[i].mode);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_end_object(w);
}

void report_lost_json(struct json_writer *w, uint64_t count, uint64_t total, uint64_t ts_ns)
{
	jw_start_object(w);
	jw_string_field(w, "type", "lost");
	jw_uint_field(w, "count", count);
	jw_uint_field(w, "total", total);
	jw_uint_field(w, "ts_ns", ts_ns);
	jw_end_object(w);
}

void report_lookups_json(struct json_writer *w, const struct lookup_row *rows, int nr)
{
	jw_start_array(w);
	for (int i = 0; i < nr; i++) {
		const struct lookup_row *l = &rows[i];

		jw_start_object(w);
		sva_json_group_field(w, l->group_id);
		jw_uint_field(w, "pasid", l->pasid);
		jw_uint_field(w, "handle", l->n[SVA_LOOKUP_HANDLE]);
		jw_uint_field(w, "enoent", l->n[SVA_LOOKUP_ENOENT]);
		jw_uint_field(w, "ebusy", l->n[SVA_LOOKUP_EBUSY]);
		jw_uint_field(w, "other", l->n[SVA_LOOKUP_OTHER]);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* What a summary counts: the shown findings, retractions and outstanding bonds, and the hidden. */
struct summary_counts {
	bool filtered;
	uint64_t events; /* records of every type */
	uint64_t findings[FINDING__MAX], hidden[FINDING__MAX];
	uint64_t nr_findings, nr_hidden;
	uint64_t resolved, resolved_hidden;
	uint64_t outstanding, outstanding_hidden;
	uint64_t unresolved; /* of the outstanding bonds shown */
	uint64_t unresolved_start; /* ... of them, bonds whose unbind raced the start-up read */
};

struct count_ctx {
	const struct sva_filter *filter;
	struct summary_counts *n;
};

static void count_bond(const struct bond *b, void *arg)
{
	struct count_ctx *x = arg;

	if (x->filter && !sva_filter_bond(x->filter, b)) {
		x->n->outstanding_hidden++;
		return;
	}
	x->n->outstanding++;
	x->n->unresolved += b->unresolved;
	x->n->unresolved_start += b->unresolved && b->uncertain == DOUBT_START_RACE;
}

static void summary_count(const struct correlator *c, const struct report_summary *s,
			  const struct correlator_stats *st, struct summary_counts *n)
{
	struct count_ctx x = { .n = n };

	memset(n, 0, sizeof(*n));
	for (int t = 1; t < SVA_REC__MAX; t++)
		n->events += s->counts[t];
	n->filtered = s->filter && sva_filter_active(s->filter) && s->findings_shown;
	x.filter = n->filtered ? s->filter : NULL;
	for (int k = 0; k < FINDING__MAX; k++) {
		n->findings[k] = n->filtered ? s->findings_shown[k] : st->findings[k];
		n->hidden[k] = st->findings[k] > n->findings[k] ? st->findings[k] - n->findings[k] : 0;
		n->nr_findings += n->findings[k];
		n->nr_hidden += n->hidden[k];
	}
	n->resolved = n->filtered ? s->resolved_shown : st->resolved;
	n->resolved_hidden = st->resolved > n->resolved ? st->resolved - n->resolved : 0;
	correlator_for_each_bond(c, count_bond, &x);
	if (!n->filtered)
		n->unresolved = st->unresolved_bonds;
}

/* ", N KIND" for each kind of finding counted in n. */
static void findings_by_kind_text(FILE *out, const uint64_t *n)
{
	for (int k = 0; k < FINDING__MAX; k++)
		if (n[k])
			fprintf(out, ", %" PRIu64 " %s", n[k],
				finding_kind_name((enum finding_kind)k));
}

static void findings_by_kind_json(struct json_writer *w, const char *name, const uint64_t *n)
{
	jw_name(w, name);
	jw_start_object(w);
	for (int k = 0; k < FINDING__MAX; k++)
		jw_uint_field(w, finding_kind_name((enum finding_kind)k), n[k]);
	jw_end_object(w);
}

void report_summary_json(struct json_writer *w, const struct correlator *c,
			 const struct fmt_opts *o, const struct report_summary *s)
{
	struct correlator_stats st;
	struct summary_counts n;

	correlator_get_stats(c, &st);
	summary_count(c, s, &st, &n);
	jw_start_object(w);
	jw_string_field(w, "type", "summary");
	jw_uint_field(w, "ts_ns", s->ts_ns);
	jw_uint_field(w, "events", n.events);
	jw_name(w, "by_type");
	jw_start_object(w);
	for (int t = 1; t < SVA_REC__MAX; t++)
		jw_uint_field(w, sva_rec_type_name((unsigned int)t), s->counts[t]);
	jw_end_object(w);
	jw_uint_field(w, "lost", st.lost);
	jw_uint_field(w, "seq_gaps", s->seq_gaps);
	jw_uint_field(w, "inferred_unbinds", st.inferred_unbinds);
	jw_uint_field(w, "unresolved_bonds", n.unresolved);
	jw_uint_field(w, "resolved", n.resolved);
	jw_uint_field(w, "bad_records", s->bad_records);
	findings_by_kind_json(w, "findings", n.findings);
	jw_uint_field(w, "bonds_ended", st.ended_bonds);
	jw_uint_field(w, "live_attachments", st.live_attachments);
	jw_name(w, "outstanding");
	report_outstanding_json(w, c, o, s->ts_ns, n.filtered ? s->filter : NULL);
	jw_name(w, "lookups");
	report_lookups_json(w, s->lookups, s->nr_lookups);
	if (n.filtered) {
		jw_name(w, "hidden_by_filters");
		jw_start_object(w);
		findings_by_kind_json(w, "findings", n.hidden);
		jw_uint_field(w, "resolved", n.resolved_hidden);
		jw_uint_field(w, "outstanding", n.outstanding_hidden);
		jw_end_object(w);
	}
	jw_end_object(w);
}

void report_summary_text(FILE *out, const struct correlator *c, const struct fmt_opts *o,
			 const struct report_summary *s)
{
	struct correlator_stats st;
	struct summary_counts n;

	correlator_get_stats(c, &st);
	summary_count(c, s, &st, &n);
	fprintf(out, "\n%" PRIu64 " events", n.events);
	for (int t = 1; t < SVA_REC__MAX; t++)
		if (s->counts[t])
			fprintf(out, ", %" PRIu64 " %s", s->counts[t], sva_rec_type_name((unsigned int)t));
	fprintf(out, "; lost %" PRIu64 " events\n", st.lost);
	fprintf(out, "%" PRIu64 " findings", n.nr_findings);
	findings_by_kind_text(out, n.findings);
	fprintf(out, "; %" PRIu64 " bonds ended, %" PRIu64 " outstanding, %" PRIu64
		     " PASID attachments\n",
		st.ended_bonds, n.outstanding, st.live_attachments);
	if (n.resolved)
		fprintf(out, "%" PRIu64 " finding(s) retracted: their bond was unbound after they "
			     "were made (see RESOLVED)\n",
			n.resolved);
	if (n.unresolved > n.unresolved_start)
		fprintf(out, "%" PRIu64 " outstanding bonds outlived their owners, but events were "
			     "lost while they lived: not called leaks (their unbind may be among the "
			     "lost records)\n",
			n.unresolved - n.unresolved_start);
	if (n.unresolved_start)
		fprintf(out, "%" PRIu64 " outstanding bonds read at start-up outlived their owners, "
			     "but unbinds of them recorded while the state was read, or begun before "
			     "tracing, may have released every reference the read counted (it takes no "
			     "lock): not called leaks\n",
			n.unresolved_start);
	if (n.filtered) {
		char desc[128];

		sva_filter_describe(s->filter, desc, sizeof(desc));
		fprintf(out, "filters %s: the counts above are what they let through; hidden: %" PRIu64
			     " findings",
			desc, n.nr_hidden);
		findings_by_kind_text(out, n.hidden);
		fprintf(out, "; %" PRIu64 " retracted; %" PRIu64 " outstanding bonds\n",
			n.resolved_hidden, n.outstanding_hidden);
	}
	report_outstanding_text(out, c, o, s->ts_ns, n.filtered ? s->filter : NULL);
	for (int i = 0; i < s->nr_lookups; i++) {
		const struct lookup_row *l = &s->lookups[i];

		if (!i)
			fprintf(out, "  look-ups by group/PASID: handle enoent ebusy other\n");
		fprintf(out, "    group %d pasid %u: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			l->group_id, l->pasid, l->n[0], l->n[1], l->n[2], l->n[3]);
	}
}
