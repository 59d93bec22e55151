// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "top.h"

static uint64_t key_of(int32_t group, uint32_t pasid)
{
	return ((uint64_t)(uint32_t)group << 32) | pasid;
}

int top_state_init(struct top_state *s, const struct correlator *corr)
{
	memset(s, 0, sizeof(*s));
	s->corr = corr;
	if (u64map_init(&s->errors_by_key, 64) || u64map_init(&s->mismatch_keys, 16) ||
	    u64map_init(&s->lookups_prev, 64) || u64map_init(&s->lookups_rate, 64) ||
	    u64map_init(&s->max_pasids, 16)) {
		top_state_free(s);
		return -ENOMEM;
	}
	return 0;
}

void top_state_free(struct top_state *s)
{
	u64map_free(&s->errors_by_key);
	u64map_free(&s->mismatch_keys);
	u64map_free(&s->lookups_prev);
	u64map_free(&s->lookups_rate);
	u64map_free(&s->max_pasids);
}

static struct top_note *note_add(struct top_state *s);

/* A failed bind, attach, replace or PASID allocation: a FAILED note with its cause. */
static void note_failure(struct top_state *s, const struct sva_event *ev, const struct fmt_opts *o)
{
	struct top_note *n = note_add(s);
	static const char tag[] = "FAILED ";

	n->kind = TOP_NOTE_FAILURE;
	n->ev = *ev;
	memcpy(n->text, tag, sizeof(tag));
	sva_event_format_text(ev, o, n->text + sizeof(tag) - 1, sizeof(n->text) - sizeof(tag) + 1);
}

void top_state_event(struct top_state *s, const struct sva_event *ev, const struct fmt_opts *o)
{
	bool failed = false;
	uint64_t n = 0;

	switch (ev->type) {
	case SVA_REC_BIND:
		s->binds++;
		failed = ev->ret != 0;
		break;
	case SVA_REC_UNBIND:
		s->unbinds++;
		break;
	case SVA_REC_ATTACH:
	case SVA_REC_REPLACE:
		s->attaches++;
		failed = ev->ret != 0;
		break;
	case SVA_REC_DETACH:
		s->detaches++;
		break;
	case SVA_REC_LOOKUP:
		s->lookup_events++;
		if (s->lookups_from_events) {
			uint64_t d = 0;

			u64map_get(&s->lookups_rate, key_of(ev->group_id, ev->pasid), &d);
			u64map_put(&s->lookups_rate, key_of(ev->group_id, ev->pasid), d + 1);
			s->lookups_total++;
		}
		failed = ev->ret != 0 && ev->ret != -2; /* ENOENT is a normal answer */
		break;
	case SVA_REC_PASID_ALLOC:
		if (ev->ret < 0)
			note_failure(s, ev, o);
		return; /* not an operation on a (group, PASID): no row's error */
	default:
		break;
	}
	if (ev->max_pasids && ev->group_id >= 0)
		u64map_put(&s->max_pasids, (uint64_t)(uint32_t)ev->group_id, ev->max_pasids);
	if (!failed)
		return;
	if (ev->type != SVA_REC_LOOKUP) /* a look-up's EBUSY is the type-mismatch finding */
		note_failure(s, ev, o);
	s->errors++;
	u64map_get(&s->errors_by_key, key_of(ev->group_id, ev->pasid), &n);
	u64map_put(&s->errors_by_key, key_of(ev->group_id, ev->pasid), n + 1);
}

static struct top_note *note_add(struct top_state *s)
{
	/* a ring: notes[(first + i) % TOP_NOTES], first = notes_total - nr_notes */
	struct top_note *n = &s->notes[s->notes_total % TOP_NOTES];

	if (s->nr_notes < TOP_NOTES)
		s->nr_notes++;
	s->notes_total++;
	return n;
}

const struct top_note *top_state_note(const struct top_state *s, unsigned int i)
{
	return &s->notes[(s->notes_total - s->nr_notes + i) % TOP_NOTES];
}

void top_state_finding(struct top_state *s, const struct finding *f, const struct fmt_opts *o)
{
	struct top_note *n = note_add(s);

	s->findings++;
	if (f->kind == FINDING_TYPE_MISMATCH || f->kind == FINDING_CROSS_MM)
		u64map_put(&s->mismatch_keys, key_of(f->subject.group_id, f->subject.pasid), 1);
	n->kind = TOP_NOTE_FINDING;
	n->f = *f;
	finding_format_text(f, o, n->text, sizeof(n->text));
}

void top_state_resolved(struct top_state *s, const struct resolution *r, const struct fmt_opts *o)
{
	struct top_note *n = note_add(s);

	s->resolved++;
	n->kind = TOP_NOTE_RESOLVED;
	n->r = *r;
	resolution_format_text(r, o, n->text, sizeof(n->text));
}

void top_state_lookups(struct top_state *s, const struct lookup_row *rows, int n)
{
	s->lookups_total = 0;
	for (int i = 0; i < n; i++) {
		uint64_t total = rows[i].n[0] + rows[i].n[1] + rows[i].n[2] + rows[i].n[3];
		uint64_t key = key_of(rows[i].group_id, rows[i].pasid), prev = 0;

		s->lookups_total += total;
		u64map_get(&s->lookups_prev, key, &prev);
		/* rate stored as the delta; divided by the interval in top_frame_build */
		u64map_put(&s->lookups_rate, key, total >= prev ? total - prev : 0);
		u64map_put(&s->lookups_prev, key, total);
	}
}

static struct top_row *new_row(struct top_frame *f)
{
	if (f->nr_rows == f->cap_rows) {
		size_t ncap = f->cap_rows ? f->cap_rows * 2 : 64;
		struct top_row *n = realloc(f->rows, ncap * sizeof(*n));

		if (!n)
			return NULL;
		f->rows = n;
		f->cap_rows = ncap;
	}
	memset(&f->rows[f->nr_rows], 0, sizeof(f->rows[0]));
	return &f->rows[f->nr_rows++];
}

struct build_ctx {
	struct top_state *s;
	struct top_frame *f;
	double secs;
};

static double lookups_per_s(struct build_ctx *x, int32_t group, uint32_t pasid)
{
	uint64_t d = 0;

	u64map_get(&x->s->lookups_rate, key_of(group, pasid), &d);
	return x->secs > 0 ? (double)d / x->secs : 0;
}

/* The group with the largest used share of its usable PASIDs (ties: the first in group order). */
static void most_pressed(const struct pasid_pressure *p, void *arg)
{
	struct top_frame *f = arg;

	if (!p->max_pasids)
		return;
	if (f->max_pasids < p->max_pasids)
		f->max_pasids = p->max_pasids;
	if (!pasid_pressure_usable(p))
		return;
	if (!pasid_pressure_usable(&f->pressure) ||
	    (uint64_t)p->in_use * pasid_pressure_usable(&f->pressure) >
		    (uint64_t)f->pressure.in_use * pasid_pressure_usable(p))
		f->pressure = *p;
}

static void add_bond(const struct bond *b, void *arg)
{
	struct build_ctx *x = arg;
	struct top_row *r;
	uint64_t v = 0;

	if (x->s->filter && !sva_filter_bond(x->s->filter, b))
		return;
	r = new_row(x->f);
	if (!r)
		return;
	r->bond = true;
	r->handle = b->handle;
	r->pasid = b->pasid;
	memcpy(r->dev, b->dev_name, sizeof(r->dev));
	r->group = b->group_id;
	r->pid = b->owner_pid;
	memcpy(r->comm, b->owner_comm, sizeof(r->comm));
	r->domain_type = b->domain ? b->domain_type : SVA_DOMAIN_SVA;
	r->users = b->expected_users;
	r->age_ns = x->f->now_ns > b->created_ns ? x->f->now_ns - b->created_ns : 0;
	r->lookups_per_s = lookups_per_s(x, b->group_id, b->pasid);
	u64map_get(&x->s->errors_by_key, key_of(b->group_id, b->pasid), &v);
	r->errors = v;
	if (b->leak_reported || b->owner_exit_ns)
		r->flags |= TOP_LEAK;
	/* LEAK? until the grace has passed and the leak is found: LEAK then */
	if (b->owner_exit_ns && !b->leak_reported)
		r->flags |= TOP_EXITED;
	if (b->uncertain)
		r->flags |= TOP_UNCERTAIN;
	if (u64map_get(&x->s->mismatch_keys, key_of(b->group_id, b->pasid), NULL))
		r->flags |= TOP_MISMATCH;
	x->f->live_bonds++;
}

static void add_attachment(const struct attachment *a, void *arg)
{
	struct build_ctx *x = arg;
	struct top_row *r;
	uint64_t v = 0;

	if (x->s->filter && !sva_filter_attachment(x->s->filter, a))
		return;
	x->f->pasids_in_use++;
	/* An SVA attachment made by a bind is shown by its bond's row. */
	if (a->domain_type == SVA_DOMAIN_SVA && a->handle && correlator_find_bond(x->s->corr, a->handle))
		return;
	r = new_row(x->f);
	if (!r)
		return;
	r->pasid = a->pasid;
	memcpy(r->dev, a->dev_name, sizeof(r->dev));
	r->group = a->group_id;
	r->pid = a->owner_pid;
	memcpy(r->comm, a->owner_comm, sizeof(r->comm));
	r->domain_type = a->domain_type;
	r->users = -1;
	r->age_ns = x->f->now_ns > a->since_ns ? x->f->now_ns - a->since_ns : 0;
	r->lookups_per_s = lookups_per_s(x, a->group_id, a->pasid);
	u64map_get(&x->s->errors_by_key, key_of(a->group_id, a->pasid), &v);
	r->errors = v;
	if (a->uncertain)
		r->flags |= TOP_UNCERTAIN;
	if (u64map_get(&x->s->mismatch_keys, key_of(a->group_id, a->pasid), NULL))
		r->flags |= TOP_MISMATCH;
}

/* The findings and retractions since the previous frame, oldest first. */
static void notes_since(struct top_state *s, struct top_frame *f)
{
	uint64_t n = s->notes_total - s->prev_notes_total;

	f->nr_notes = 0;
	f->notes_missed = n > s->nr_notes ? n - s->nr_notes : 0;
	n -= f->notes_missed;
	if (n && !f->notes) {
		f->notes = malloc(TOP_NOTES * sizeof(*f->notes));
		if (!f->notes) {
			f->notes_missed += n;
			n = 0;
		}
	}
	for (uint64_t i = 0; i < n; i++)
		f->notes[f->nr_notes++] = *top_state_note(s, (unsigned int)(s->nr_notes - n + i));
	s->prev_notes_total = s->notes_total;
}

void top_frame_build(struct top_state *s, struct top_frame *f, uint64_t now_ns)
{
	struct build_ctx x = { .s = s, .f = f };
	struct correlator_stats st;
	double secs = s->prev_ns && now_ns > s->prev_ns ? (double)(now_ns - s->prev_ns) / 1e9 : 0;

	f->nr_rows = 0;
	f->now_ns = now_ns;
	f->live_bonds = 0;
	f->pasids_in_use = 0;
	x.secs = secs;
	if (secs > 0) {
		f->rates.binds = (double)(s->binds - s->prev_binds) / secs;
		f->rates.unbinds = (double)(s->unbinds - s->prev_unbinds) / secs;
		f->rates.attaches = (double)(s->attaches - s->prev_attaches) / secs;
		f->rates.detaches = (double)(s->detaches - s->prev_detaches) / secs;
		f->rates.errors = (double)(s->errors - s->prev_errors) / secs;
		f->rates.lookups = (double)(s->lookups_total - s->prev_lookups_total) / secs;
	} else {
		memset(&f->rates, 0, sizeof(f->rates));
	}
	correlator_for_each_bond(s->corr, add_bond, &x);
	correlator_for_each_attachment(s->corr, add_attachment, &x);
	correlator_get_stats(s->corr, &st);
	f->lost = st.lost;
	f->findings = s->findings;
	f->resolved = s->resolved;
	notes_since(s, f);
	f->max_pasids = 0;
	u64map_for_each(&s->max_pasids, k, v, {
		(void)k;
		if (v > f->max_pasids)
			f->max_pasids = (uint32_t)v;
	});
	memset(&f->pressure, 0, sizeof(f->pressure));
	correlator_for_each_pasid_pressure(s->corr, most_pressed, f);
	s->prev_binds = s->binds;
	s->prev_unbinds = s->unbinds;
	s->prev_attaches = s->attaches;
	s->prev_detaches = s->detaches;
	s->prev_errors = s->errors;
	s->prev_lookups_total = s->lookups_total;
	s->prev_ns = now_ns;
	/* a rate is for one interval */
	for (size_t i = 0; s->lookups_rate.slots && i < s->lookups_rate.cap; i++)
		s->lookups_rate.slots[i].val = 0; /* (no slots before the first put) */
}

void top_frame_free(struct top_frame *f)
{
	free(f->rows);
	free(f->notes);
	memset(f, 0, sizeof(*f));
}

static enum top_col sort_col;
static bool sort_desc;

static int cmp_str(const char *a, const char *b, size_t n)
{
	return strncmp(a, b, n);
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	int c = 0;

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y))
	switch (sort_col) {
	case COL_PASID: c = CMP(a->pasid, b->pasid); break;
	case COL_DEV: c = cmp_str(a->dev, b->dev, SVA_DEV_NAME_LEN); break;
	case COL_GROUP: c = CMP(a->group, b->group); break;
	case COL_PID: c = CMP(a->pid, b->pid); break;
	case COL_COMM: c = cmp_str(a->comm, b->comm, SVA_COMM_LEN); break;
	case COL_TYPE: c = CMP(a->domain_type, b->domain_type); break;
	case COL_USERS: c = CMP(a->users, b->users); break;
	case COL_AGE: c = CMP(a->age_ns, b->age_ns); break;
	case COL_LOOKUPS: c = CMP(a->lookups_per_s, b->lookups_per_s); break;
	case COL_ERRORS: c = CMP(a->errors, b->errors); break;
	default: break;
	}
	/* ties: a stable, meaningful order */
	if (!c)
		c = CMP(a->pasid, b->pasid);
	if (!c)
		c = CMP(a->handle, b->handle);
#undef CMP
	return sort_desc ? -c : c;
}

void top_frame_sort(struct top_frame *f, enum top_col col, bool descending)
{
	sort_col = col;
	sort_desc = descending;
	if (f->nr_rows > 1) /* rows is NULL in a frame that never had any: qsort must not see it */
		qsort(f->rows, f->nr_rows, sizeof(*f->rows), cmp_rows);
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

void top_frame_filter(struct top_frame *f, const char *text)
{
	size_t out = 0;
	char line[512];

	if (!text || !*text)
		return;
	for (size_t i = 0; i < f->nr_rows; i++) {
		top_row_format(&f->rows[i], line, sizeof(line));
		if (contains_ci(line, text))
			f->rows[out++] = f->rows[i];
	}
	f->nr_rows = out;
}

const char *top_col_name(enum top_col col)
{
	static const char *const names[COL__MAX] = { "PASID", "DEVICE", "GROUP", "PID", "COMM",
						     "TYPE", "USERS", "AGE", "LKUP/s", "ERRS" };

	return (unsigned int)col < COL__MAX ? names[col] : "?";
}

const char *top_row_header(void)
{
	return "PASID   DEVICE           GROUP PID     COMM             TYPE      USERS AGE       "
	       "LKUP/s     ERRS  FLAGS";
}

void top_flags_format(unsigned int flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags & TOP_LEAK ? (flags & TOP_EXITED ? "LEAK? " : "LEAK ") : "",
		 flags & TOP_MISMATCH ? "MISMATCH " : "", flags & TOP_UNCERTAIN ? "UNCERTAIN " : "",
		 flags ? "" : "-");
	len = strlen(buf);
	if (len && buf[len - 1] == ' ')
		buf[len - 1] = '\0';
}

static void fmt_age(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

void top_row_format(const struct top_row *r, char *buf, size_t len)
{
	char dev[4 * SVA_DEV_NAME_LEN + 1], comm[4 * SVA_COMM_LEN + 1], age[16], flags[48];
	char users[24], type[16];
	const char *t = sva_domain_type_name(r->domain_type);

	sva_text_escape(dev, sizeof(dev), r->dev, SVA_DEV_NAME_LEN);
	sva_text_escape(comm, sizeof(comm), r->comm, SVA_COMM_LEN);
	fmt_age(r->age_ns, age, sizeof(age));
	top_flags_format(r->flags, flags, sizeof(flags));
	if (r->users >= 0)
		snprintf(users, sizeof(users), "%" PRId64, r->users);
	else
		snprintf(users, sizeof(users), "-");
	snprintf(type, sizeof(type), "%s", t ? t : "?");
	snprintf(buf, len, "%-7u %-16s %-5d %-7u %-16s %-9s %-5s %-9s %-10.1f %-5" PRIu64 " %s",
		 r->pasid, dev[0] ? dev : "-", r->group, r->pid, r->pid ? comm : "?", type, users,
		 age, r->lookups_per_s, r->errors, flags);
}

void top_header_format(const struct top_frame *f, const char *kernel, const char *probes,
		       char lines[3][TOP_HEADER_LEN])
{
	char maxp[24], pressure[192] = "";
	char dev[4 * SVA_DEV_NAME_LEN + 1];

	if (f->max_pasids)
		snprintf(maxp, sizeof(maxp), "%u", f->max_pasids);
	else
		snprintf(maxp, sizeof(maxp), "?");
	snprintf(lines[0], TOP_HEADER_LEN, "sva-top - kernel %s - probes: %s", kernel ? kernel : "?",
		 probes ? probes : "?");
	if (pasid_pressure_usable(&f->pressure)) {
		sva_text_escape(dev, sizeof(dev), f->pressure.dev_name, SVA_DEV_NAME_LEN);
		snprintf(pressure, sizeof(pressure), "  pressure %.1f%% (%s %u/%u)",
			 f->pressure.in_use * 100.0 / pasid_pressure_usable(&f->pressure),
			 dev[0] ? dev : "?", f->pressure.in_use,
			 pasid_pressure_usable(&f->pressure));
	}
	snprintf(lines[1], TOP_HEADER_LEN,
		 "bonds %" PRIu64 "  PASIDs in use %" PRIu64 " (max_pasids %s)%s  lost %" PRIu64
		 "  findings %" PRIu64 "  resolved %" PRIu64,
		 f->live_bonds, f->pasids_in_use, maxp, pressure, f->lost, f->findings, f->resolved);
	snprintf(lines[2], TOP_HEADER_LEN,
		 "per s: binds %.1f  unbinds %.1f  attaches %.1f  detaches %.1f  look-ups %.1f  "
		 "errors %.1f",
		 f->rates.binds, f->rates.unbinds, f->rates.attaches, f->rates.detaches,
		 f->rates.lookups, f->rates.errors);
}

void top_frame_print(FILE *out, const struct top_frame *f, const char *kernel, const char *probes)
{
	char lines[3][TOP_HEADER_LEN], row[512];

	top_header_format(f, kernel, probes, lines);
	fprintf(out, "%s\n%s\n%s\n\n%s\n", lines[0], lines[1], lines[2], top_row_header());
	for (size_t i = 0; i < f->nr_rows; i++) {
		top_row_format(&f->rows[i], row, sizeof(row));
		fprintf(out, "%s\n", row);
	}
	/* What the findings view got since the previous frame: sva-trace's lines. */
	if (f->notes_missed)
		fprintf(out, "(%" PRIu64 " earlier findings, retractions or failures not shown)\n",
			f->notes_missed);
	for (size_t i = 0; i < f->nr_notes; i++)
		fprintf(out, "%s\n", f->notes[i].text);
	fprintf(out, "\n");
}

void top_frame_json(struct json_writer *w, const struct top_frame *f, const char *kernel,
		    const char *probes, const struct fmt_opts *o)
{
	char flags[48], h[PTRHASH_STR_LEN];

	jw_start_object(w);
	jw_string_field(w, "type", "frame");
	jw_uint_field(w, "ts_ns", f->now_ns);
	jw_string_field(w, "kernel", kernel ? kernel : "");
	jw_string_field(w, "probes", probes ? probes : "");
	jw_uint_field(w, "live_bonds", f->live_bonds);
	jw_uint_field(w, "pasids_in_use", f->pasids_in_use);
	if (f->max_pasids)
		jw_uint_field(w, "max_pasids", f->max_pasids);
	else
		jw_null_field(w, "max_pasids");
	if (pasid_pressure_usable(&f->pressure)) {
		jw_name(w, "pasid_pressure");
		jw_start_object(w);
		jw_int_field(w, "group", f->pressure.group_id);
		jw_name(w, "dev");
		jw_string_n(w, f->pressure.dev_name, SVA_DEV_NAME_LEN);
		jw_uint_field(w, "in_use", f->pressure.in_use);
		jw_uint_field(w, "attached", f->pressure.attached);
		jw_uint_field(w, "held_elsewhere", f->pressure.held_elsewhere);
		jw_uint_field(w, "usable", pasid_pressure_usable(&f->pressure));
		jw_uint_field(w, "max_pasids", f->pressure.max_pasids);
		jw_end_object(w);
	} else {
		jw_null_field(w, "pasid_pressure");
	}
	jw_uint_field(w, "lost", f->lost);
	jw_uint_field(w, "findings", f->findings);
	jw_uint_field(w, "resolved", f->resolved);
	jw_name(w, "per_second");
	jw_start_object(w);
	/* rates as integers per thousand seconds would be odd; round to 0.1 */
	jw_uint_field(w, "binds_x10", (uint64_t)(f->rates.binds * 10 + 0.5));
	jw_uint_field(w, "unbinds_x10", (uint64_t)(f->rates.unbinds * 10 + 0.5));
	jw_uint_field(w, "attaches_x10", (uint64_t)(f->rates.attaches * 10 + 0.5));
	jw_uint_field(w, "detaches_x10", (uint64_t)(f->rates.detaches * 10 + 0.5));
	jw_uint_field(w, "lookups_x10", (uint64_t)(f->rates.lookups * 10 + 0.5));
	jw_uint_field(w, "errors_x10", (uint64_t)(f->rates.errors * 10 + 0.5));
	jw_end_object(w);
	jw_name(w, "rows");
	jw_start_array(w);
	for (size_t i = 0; i < f->nr_rows; i++) {
		const struct top_row *r = &f->rows[i];
		const char *t = sva_domain_type_name(r->domain_type);

		jw_start_object(w);
		jw_string_field(w, "kind", r->bond ? "bond" : "attachment");
		jw_uint_field(w, "pasid", r->pasid);
		jw_name(w, "dev");
		jw_string_n(w, r->dev, SVA_DEV_NAME_LEN);
		jw_int_field(w, "group", r->group);
		jw_uint_field(w, "pid", r->pid);
		jw_name(w, "comm");
		jw_string_n(w, r->comm, SVA_COMM_LEN);
		jw_name(w, "domain_type");
		if (t)
			jw_string(w, t);
		else
			jw_null(w);
		if (r->users >= 0)
			jw_int_field(w, "users", r->users);
		else
			jw_null_field(w, "users");
		jw_uint_field(w, "age_ns", r->age_ns);
		jw_uint_field(w, "lookups_per_s_x10", (uint64_t)(r->lookups_per_s * 10 + 0.5));
		jw_uint_field(w, "errors", r->errors);
		top_flags_format(r->flags, flags, sizeof(flags));
		jw_string_field(w, "flags", flags);
		if (r->bond) {
			ptrhash_format(o->ptrs, r->handle, h);
			jw_string_field(w, "handle", h);
		}
		jw_end_object(w);
	}
	jw_end_array(w);
	/* since the previous frame: sva-trace's finding and resolved records */
	jw_name(w, "new_findings");
	jw_start_array(w);
	for (size_t i = 0; i < f->nr_notes; i++) {
		if (f->notes[i].kind == TOP_NOTE_RESOLVED)
			resolution_format_json(w, &f->notes[i].r, o);
		else if (f->notes[i].kind == TOP_NOTE_FINDING)
			finding_format_json(w, &f->notes[i].f, o);
	}
	jw_end_array(w);
	/* ... and its records of failed operations, each with its cause */
	jw_name(w, "new_failures");
	jw_start_array(w);
	for (size_t i = 0; i < f->nr_notes; i++) {
		if (f->notes[i].kind == TOP_NOTE_FAILURE)
			sva_event_format_json(w, &f->notes[i].ev, o);
	}
	jw_end_array(w);
	/* findings, retractions and failures that did not fit (the oldest) */
	jw_uint_field(w, "new_findings_missed", f->notes_missed);
	jw_end_object(w);
}
