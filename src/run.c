// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One sva-trace run (run.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <sodium.h>

#include "metrics.h"
#include "metrics_serve.h"
#include "postmortem.h"
#include "print.h"
#include "report.h"
#include "run.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void run_gather_output(struct run *r)
{
	r->out = malloc(RUN_OUT_SIZE); /* without it, line by line as on a terminal */
	r->out_len = 0;
}

void run_output_failed(struct run *r, int err)
{
	if (!r->output_broken)
		r->output_errno = err ? err : EIO;
	r->output_broken = true;
	*r->stop = 1;
}

bool run_flush_output(struct run *r)
{
	size_t n = r->out_len;

	r->out_len = 0;
	if (!n || r->output_broken)
		return !r->output_broken;
	if (fwrite_unlocked(r->out, 1, n, stdout) != n)
		run_output_failed(r, errno);
	return !r->output_broken;
}

bool run_flush_stdout(struct run *r)
{
	if (run_flush_output(r) && fflush(stdout) == EOF)
		run_output_failed(r, errno);
	return !r->output_broken;
}

/* Room for a line of up to len bytes and its newline at r->out + r->out_len. */
static inline void out_room(struct run *r, size_t len)
{
	if (r->out_len + len + 1 > RUN_OUT_SIZE)
		run_flush_output(r);
}

/* A line of len bytes (less than RUN_OUT_SIZE) and its newline, gathered. */
static void out_append(struct run *r, const char *line, size_t len)
{
	out_room(r, len);
	memcpy(r->out + r->out_len, line, len);
	r->out[r->out_len + len] = '\n';
	r->out_len += len + 1;
}

/* line has room for one more byte at line[len] (it is NUL-terminated there). */
static void emit_line_len(struct run *r, char *line, size_t len)
{
	if (r->output_broken)
		return;
	if (r->out && len < RUN_OUT_SIZE) {
		out_append(r, line, len);
		return;
	}
	run_flush_output(r);
	line[len] = '\n';
	if (fwrite_unlocked(line, 1, len + 1, stdout) != len + 1)
		run_output_failed(r, errno);
	line[len] = '\0';
}

static void emit_line(struct run *r, const char *line)
{
	size_t len;

	if (r->output_broken)
		return;
	len = strlen(line);
	if (r->out && len < RUN_OUT_SIZE) {
		out_append(r, line, len);
		return;
	}
	run_flush_output(r);
	if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF)
		run_output_failed(r, errno);
}

static void emit_json(struct run *r)
{
	if (jw_finish(&r->jw)) {
		sva_warn("internal error: malformed JSON object dropped");
		return;
	}
	/* its length is known: one fwrite, no strlen (the buffer has room for the newline) */
	emit_line_len(r, r->jw.buf, r->jw.len);
}

/*
 * One record, live or replayed, in seq order: print it if the filters show it (the session
 * then lets the correlator see it, shown or not).
 */
static void on_event(const struct sva_event *ev, void *ctx)
{
	struct run *r = ctx;
	char line[2048];

	if (r->keep)
		export_keep_event(&r->kept, ev);
	/* Metrics count every record: the filters choose what is printed. */
	if (r->mx) {
		metrics_event(r->mx, ev);
		/* A replay has no poll loop: its snapshot is refreshed every 1024 records. */
		if (r->opts->replay_path && !(++r->replayed & 1023))
			run_update_metrics(r, mono_ns(), false);
	}
	if (!sva_filter_event(&r->filter, ev))
		return;
	r->counts[ev->type]++;
	if (r->opts->quiet)
		return;
	if (r->opts->json && r->out) {
		/* into the block of lines, as emit_json would copy it there */
		int n;

		out_room(r, SVA_EVENT_JSON_MAX);
		n = sva_event_format_json_buf(ev, &r->fmt, r->out + r->out_len);
		if (n < 0) {
			sva_warn("internal error: malformed JSON object dropped");
			return;
		}
		if (r->output_broken)
			return;
		r->out[r->out_len + (size_t)n] = '\n';
		r->out_len += (size_t)n + 1;
	} else if (r->opts->json) {
		jw_reset(&r->jw);
		sva_event_format_json(&r->jw, ev, &r->fmt);
		emit_json(r);
	} else if (r->out) {
		/* formatted in place: room for the longest line as below, and its newline */
		size_t n;

		if (r->output_broken)
			return;
		out_room(r, sizeof(line) - 1);
		n = (size_t)sva_event_format_text(ev, &r->fmt, r->out + r->out_len, sizeof(line) - 1);
		r->out[r->out_len + n] = '\n';
		r->out_len += n + 1;
	} else {
		int n = sva_event_format_text(ev, &r->fmt, line, sizeof(line) - 1);

		emit_line_len(r, line, (size_t)n);
	}
}

static void on_bond_end(const struct bond *b, uint64_t ts_ns, void *ctx)
{
	struct run *r = ctx;

	if (r->keep)
		export_keep_bond_end(&r->kept, b, ts_ns);
}

void run_note_uncertain_fail(const struct run *r)
{
	for (int d = DOUBT_NONE + 1; d < DOUBT__MAX; d++) {
		const struct doubt_desc *dd = finding_doubt_desc(d);

		if (r->fail_doubt[d])
			sva_warn("%" PRIu64 " finding(s) of the --fail-on kinds are uncertain (%s) and "
				 "did not fail the run%s%s",
				 r->fail_doubt[d], dd->why, dd->advice ? "; " : "",
				 dd->advice ? dd->advice : "");
	}
}

static void on_finding(const struct finding *f, void *ctx)
{
	struct run *r = ctx;
	char line[2048];

	if (r->mx)
		metrics_finding(r->mx, f);
	/* Filtered out: not shown, kept nor counted for --fail-on, as if not traced. */
	if (!sva_filter_finding(&r->filter, f))
		return;
	r->findings_shown[f->kind]++;
	/* An uncertain finding (events were lost, ...) may be false: it never fails the run. */
	if (r->opts->fail_on & (1u << f->kind)) {
		if (!f->uncertain)
			r->fail_hits++;
		else
			r->fail_doubt[f->doubt > DOUBT_NONE && f->doubt < DOUBT__MAX ? f->doubt :
										    DOUBT_LOST]++;
	}
	if (r->keep)
		export_keep_finding(&r->kept, f);
	if (r->opts->quiet)
		return;
	if (r->opts->json) {
		jw_reset(&r->jw);
		finding_format_json(&r->jw, f, &r->fmt);
		emit_json(r);
	} else {
		finding_format_text(f, &r->fmt, line, sizeof(line));
		emit_line(r, line);
	}
}

/*
 * A leak retracted by an unbind seen before tracing ends no longer fails --fail-on: the
 * bond was released, late; the resolved record says by whom and how late.
 */
static void on_resolved(const struct resolution *res, void *ctx)
{
	struct run *r = ctx;
	char line[2048];

	if (r->mx)
		metrics_resolved(r->mx, res);
	/* Retracts a finding the filters hid: as hidden, and no shown finding's fail hit. */
	if (!sva_filter_resolution(&r->filter, res))
		return;
	r->resolved_shown++;
	if (r->keep)
		export_keep_resolution(&r->kept, res);
	if ((r->opts->fail_on & (1u << res->kind)) && r->fail_hits)
		r->fail_hits--;
	if (r->opts->quiet)
		return;
	if (r->opts->json) {
		jw_reset(&r->jw);
		resolution_format_json(&r->jw, res, &r->fmt);
		emit_json(r);
	} else {
		resolution_format_text(res, &r->fmt, line, sizeof(line));
		emit_line(r, line);
	}
}

static void on_bad_record(const char *err, uint64_t nr_bad, void *ctx)
{
	(void)ctx;
	if (nr_bad == 1)
		sva_warn("dropping bad record: %s", err);
}

/*
 * Records were lost: a "lost" record in JSON (a replay of the capture tells the
 * correlator at the same place), a note on stderr in text. A replay marks the place in
 * the text stream, since its stderr is not the capture's.
 */
static void on_lost(uint64_t count, uint64_t total, uint64_t ts_ns, enum session_loss_source src,
		    void *ctx)
{
	struct run *r = ctx;

	if (r->opts->json) {
		jw_reset(&r->jw);
		report_lost_json(&r->jw, count, total, ts_ns);
		emit_json(r);
	} else if (r->opts->replay_path) {
		emit_line(r, "# lost events here (ring buffer full)");
	} else {
		sva_warn("lost %" PRIu64 " events (%s; %" PRIu64 " in all so far)", count,
			 src == SESSION_LOSS_KERNEL ? "ring buffer full or probe hits missed" :
						      "sequence numbers still missing after the "
						      "reorder window",
			 total);
	}
}

void run_emit_start(struct run *r)
{
	struct report_probe probes[SVA_NR_PROBES];
	struct report_start st = {
		.tool = "sva-trace",
		.version = sva_trace_version,
		.ts_ns = r->fmt.t0_ns,
		.raw_pointers = r->opts->raw_pointers,
		.replay = r->opts->replay_path != NULL,
		.probes = probes,
	};
	struct utsname u;

	if (!r->opts->json) {
		if (!r->opts->quiet) {
			run_flush_output(r);
			printf("%s\n", sva_text_header());
		}
		return;
	}
	uname(&u);
	if (!st.replay) {
		/* A replay's kernel is the capture's, not this machine's. */
		st.kernel = u.release;
		st.machine = u.machine;
	}
	for (int i = 0; sva_loader_loaded(&r->ld) && i < r->ld.nr_probes; i++) {
		const struct probe_state *ps = &r->ld.probes[i];

		if (ps->attached && !probe_is_callee(ps) && st.nr_probes < SVA_NR_PROBES)
			probes[st.nr_probes++] = (struct report_probe){ ps->spec->func,
									attach_mode_name(ps) };
	}
	/*
	 * A replay's probes are the capture's: they say how its leaks were judged
	 * (exit_mmap), and a replay of this output must judge them the same way.
	 */
	for (int i = 0; st.replay && i < r->nr_cap_probes && st.nr_probes < SVA_NR_PROBES; i++)
		probes[st.nr_probes++] = (struct report_probe){ r->cap_probes[i].function,
								r->cap_probes[i].mode };
	jw_reset(&r->jw);
	report_start_json(&r->jw, &st);
	emit_json(r);
}

static bool state_remember(uint32_t tgid, uint64_t mm, void *ctx)
{
	struct run *r = ctx;

	return sva_loader_remember_owner(&r->ld, tgid, mm);
}

void run_read_state(struct run *r, bool seed)
{
	uint64_t in_flight = 0;

	r->state.err = session_read_start_state(&r->ld, r->opts->btf_path, &r->state, &in_flight);
	if (r->opts->verbose && !r->state.err)
		sva_info("state at start-up read in %.1f ms (%zu records%s)",
			 (double)r->state.read_ns / 1e6, r->state.nr,
			 in_flight ? ", traced calls in flight across it" : "");
	if (seed && !r->state.err && r->state.ended)
		sva_state_seed(&r->state, r->corr, state_remember, r);
}

static void emit_state_records(struct run *r, const struct sva_state *st)
{
	if (r->opts->quiet) /* -q: stream lines, like events */
		return;
	for (size_t i = 0; i <= st->nr; i++) {
		jw_reset(&r->jw);
		sva_state_format_json(&r->jw, st, i, &r->ptrs);
		emit_json(r);
	}
}

static void on_resync_diff(const struct resync_diff *d, void *ctx)
{
	static const char *const what[RESYNC__MAX] = {
		[RESYNC_UNTRACED_BOND] = "a bond the kernel has and the trace never saw bound "
					 "(its bind was among lost records): adopted",
		[RESYNC_GONE_BOND] = "a bond the trace has and the kernel no longer has (its "
				     "unbind was among lost records): ended",
		[RESYNC_USERS] = "the bond's users count differs: the kernel's taken",
		[RESYNC_UNTRACED_ATTACHMENT] = "a PASID attachment the trace never saw: adopted",
		[RESYNC_GONE_ATTACHMENT] = "an attachment the kernel no longer has (its detach "
					   "was lost): ended",
		[RESYNC_GONE_PASID] = "a global PASID no process and no attachment holds any "
				      "more (its free was among lost records): no longer counted",
	};
	struct run *r = ctx;
	char h[PTRHASH_STR_LEN], dev[4 * SVA_DEV_NAME_LEN + 1], line[512];

	if (r->opts->quiet)
		return;
	if (r->opts->json) {
		jw_reset(&r->jw);
		jw_start_object(&r->jw);
		jw_string_field(&r->jw, "type", "resync");
		jw_string_field(&r->jw, "kind", resync_kind_name(d->kind));
		sva_json_ptr_field(&r->jw, "handle", d->subject.handle, &r->ptrs);
		jw_name(&r->jw, "dev");
		if (d->subject.dev_name[0])
			jw_string_n(&r->jw, d->subject.dev_name, SVA_DEV_NAME_LEN);
		else
			jw_null(&r->jw);
		jw_int_field(&r->jw, "group", d->subject.group_id);
		jw_uint_field(&r->jw, "pasid", d->subject.pasid);
		sva_json_ptr_field(&r->jw, "mm", d->subject.mm, &r->ptrs);
		if (d->kind == RESYNC_USERS) {
			jw_int_field(&r->jw, "trace_users", d->trace_users);
			jw_int_field(&r->jw, "kernel_users", d->kernel_users);
		}
		jw_end_object(&r->jw);
		emit_json(r);
		return;
	}
	ptrhash_format(&r->ptrs, d->subject.handle, h);
	sva_text_escape(dev, sizeof(dev), d->subject.dev_name, SVA_DEV_NAME_LEN);
	snprintf(line, sizeof(line), "RESYNC %s: dev=%s group=%d pasid=%u handle=%s: %s",
		 resync_kind_name(d->kind), dev[0] ? dev : "-", d->subject.group_id,
		 d->subject.pasid, d->subject.handle ? h : "-", what[d->kind]);
	if (d->kind == RESYNC_USERS)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " (trace %" PRId64
			 ", kernel %" PRId64 ")", d->trace_users, d->kernel_users);
	emit_line(r, line);
}

/* A re-sync's read against the model: its records, each difference, the end (run.h). */
static void apply_resync(struct run *r, struct sva_state *st, bool live)
{
	char why[512];

	if (st->end.flags & (SVA_STATE_NO_PASID_ARRAY | SVA_STATE_NO_GROUP_LIST |
			     SVA_STATE_TRUNCATED)) {
		sva_warn("re-sync: cannot compare the bonds with the kernel's: %s",
			 sva_state_unreadable(st->end.flags, why, sizeof(why)));
		return;
	}
	/*
	 * Records below the read's seq are in it: one lost among them is a loss before the
	 * comparison (what it leaves uncertain, the read settles), not one after it.
	 */
	session_skip_to(&r->sess, st->seq);
	if (r->opts->json)
		emit_state_records(r, st);
	r->resync_diffs = sva_state_resync(st, r->corr, live ? state_remember : NULL, r,
					   on_resync_diff, r);
	if (r->opts->quiet)
		return;
	if (r->opts->json) {
		jw_reset(&r->jw);
		jw_start_object(&r->jw);
		jw_string_field(&r->jw, "type", "resync");
		jw_string_field(&r->jw, "kind", "end");
		jw_uint_field(&r->jw, "ts_ns", st->ts_ns);
		jw_uint_field(&r->jw, "next_seq", st->seq);
		jw_uint_field(&r->jw, "differences", r->resync_diffs);
		jw_end_object(&r->jw);
		emit_json(r);
	} else {
		char line[160];

		snprintf(line, sizeof(line), "RESYNC: %" PRIu64 " difference%s between the kernel's "
			 "state and the trace's model (read in %.1f ms)", r->resync_diffs,
			 r->resync_diffs == 1 ? "" : "s", (double)st->read_ns / 1e6);
		emit_line(r, line);
	}
}

void run_resync(struct run *r)
{
	struct state_race race;
	int err = session_read_state(&r->sess, &r->ld, r->opts->btf_path, &r->resync, 3, &race);

	/* Three reads that all raced binds or unbinds are not compared (session.h). */
	if (err == -EAGAIN)
		sva_warn("re-sync not done: the kernel's SVA state changed during each of 3 reads "
			 "(during the last: %" PRIu64 " records, %" PRIu64 " binds, unbinds, "
			 "attaches or detaches in flight); send SIGUSR2 again when it is quieter",
			 race.records, race.calls);
	if (err)
		return;
	apply_resync(r, &r->resync, true);
}

void run_emit_state(struct run *r)
{
	if (r->state_emitted || !r->state.ended)
		return;
	r->state_emitted = true;
	if (!r->opts->json) {
		if (!r->opts->quiet) {
			run_flush_output(r);
			sva_state_print_text(stdout, &r->state, &r->ptrs);
		}
		return;
	}
	emit_state_records(r, &r->state);
}

static uint64_t now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int run_write_export(struct run *r, const char *reason, uint64_t end_ns)
{
	struct export_input in = {
		.reason = reason,
		.opts = r->opts,
		.ld = sva_loader_loaded(&r->ld) ? &r->ld : NULL,
		.corr = r->corr,
		.fmt = &r->fmt,
		.kernel_release = r->kernel_release,
		.machine = r->machine,
		.boot_id = r->boot_id,
		.start_wall_ns = r->start_wall_ns,
		.end_wall_ns = r->start_wall_ns ? now_wall_ns() : 0,
		.start_ns = r->fmt.t0_ns,
		.end_ns = end_ns,
		.counts = r->counts,
		.bad_records = r->sess.bad_records,
		.seq_gaps = session_seq_gaps(&r->sess),
	};
	struct correlator_stats st;
	struct lookup_row *lookups;
	struct stack_row *stacks = NULL;
	int ret;

	correlator_get_stats(r->corr, &st);
	in.lost = st.lost;
	in.nr_lookups = sva_loader_read_lookups(&r->ld, &lookups);
	in.lookups = lookups;
	if (in.ld && r->opts->stacks)
		in.nr_stacks = export_collect_stacks(&r->ld, r->ksyms, &stacks);
	in.stacks = stacks;
	ret = export_write(r->opts->export_path, &in, &r->kept);
	free(lookups);
	free(stacks);
	return ret;
}

void run_emit_summary(struct run *r, uint64_t now_ns)
{
	struct report_summary sum = {
		.ts_ns = now_ns,
		.counts = r->counts,
		.bad_records = r->sess.bad_records,
		.seq_gaps = session_seq_gaps(&r->sess),
		.filter = &r->filter,
		.findings_shown = r->findings_shown,
	};
	struct lookup_row *lookups;

	correlator_finish(r->corr, now_ns);
	sum.resolved_shown = r->resolved_shown; /* after the last leak check */
	sum.nr_lookups = sva_loader_read_lookups(&r->ld, &lookups);
	sum.lookups = lookups;
	if (r->opts->json) {
		jw_reset(&r->jw);
		report_summary_json(&r->jw, r->corr, &r->fmt, &sum);
		emit_json(r);
	} else if (run_flush_output(r)) {
		report_summary_text(stdout, r->corr, &r->fmt, &sum);
	}
	free(lookups);
}

/* ---- replay ---- */

static void replay_on_start(const struct replay_start *st, void *ctx)
{
	struct run *r = ctx;
	uint64_t ts_ns = st->ts_ns;
	bool raw = st->raw_pointers;
	char seed[64];

	r->fmt.t0_ns = ts_ns;
	r->nr_cap_probes = st->nr_probes < REPLAY_MAX_PROBES ? st->nr_probes : REPLAY_MAX_PROBES;
	if (r->nr_cap_probes) /* a start record without probes: st->probes may be NULL */
		memcpy(r->cap_probes, st->probes, (size_t)r->nr_cap_probes * sizeof(*st->probes));
	/*
	 * A capture made with --raw-pointers holds addresses: hash them on the
	 * way out unless asked not to, with a key derived from the capture so
	 * that a replay is deterministic.
	 */
	if (raw && !r->opts->raw_pointers) {
		snprintf(seed, sizeof(seed), "sva-trace replay %" PRIu64, ts_ns);
		ptrhash_free(&r->ptrs);
		ptrhash_init_seed(&r->ptrs, seed);
	}
	run_emit_start(r);
}

static void replay_on_start_info(const char *kernel, const char *machine, void *ctx)
{
	struct run *r = ctx;

	/* The export of a replay describes the traced machine, not this one. */
	if (kernel)
		snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", kernel);
	if (machine)
		snprintf(r->machine, sizeof(r->machine), "%s", machine);
}

/* The capture's state records: kept until its end record, then seeded and shown as live. */
static void replay_on_state(const struct sva_state_rec *rec, uint64_t seq, uint64_t ts_ns,
			    void *ctx)
{
	struct run *r = ctx;

	if (r->state.ended) {
		/* A later state block is a re-sync: compared with the model as it was live. */
		if (!sva_state_add_replayed(&r->resync, rec, seq, ts_ns))
			return;
		session_flush(&r->sess);
		apply_resync(r, &r->resync, false);
		sva_state_reset(&r->resync);
		return;
	}
	if (!sva_state_add_replayed(&r->state, rec, seq, ts_ns))
		return;
	sva_state_seed(&r->state, r->corr, NULL, NULL);
	run_emit_state(r);
}

int run_replay(struct run *r, const volatile sig_atomic_t *exit_signal)
{
	const struct session_replay_ops ops = {
		.on_start = replay_on_start,
		.on_start_info = replay_on_start_info,
		.on_state = replay_on_state,
		.ctx = r,
	};
	const char *path = r->opts->replay_path;
	char err[512];
	FILE *f;
	int ret;

	/* Replayed pointers are already what the capture chose to show. */
	ptrhash_free(&r->ptrs); /* the live run's, made before the mode was known */
	ptrhash_init(&r->ptrs, true);
	if (!strcmp(path, "-")) {
		f = stdin;
		path = "<stdin>";
	} else {
		f = fopen(path, "re");
		if (!f) {
			ret = -errno;
			sva_warn("cannot open the capture '%s': %s", path, strerror(-ret));
			return ret;
		}
	}
	ret = session_replay(&r->sess, f, path, &ops, r->stop, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	/* What the window still holds: at the end, or up to an interruption. */
	if (!ret || ret == -EINTR)
		session_flush(&r->sess);
	if (ret == -EINTR && r->output_broken)
		return -EPIPE; /* the reader went away (| head): nothing more to say, nowhere to say it */
	if (ret == -EINTR) {
		/*
		 * SIGINT, SIGTERM or SIGHUP: the summary of what was read, but no export, which
		 * would look like the state at the end of the capture; the previous one stays.
		 */
		run_emit_summary(r, r->sess.replay_end_ns);
		run_flush_stdout(r);
		sva_warn("replay %s by %s: the summary covers only the records before it%s", err,
			 strsignal(*exit_signal),
			 r->opts->export_path ? "; the export was not written" : "");
		return ret;
	}
	if (ret) {
		run_flush_stdout(r);
		sva_warn("replay: %s", err);
		if (ret == -EINVAL || ret == -ENODATA)
			sva_warn("replay takes a JSON Lines capture written by 'sva-trace --json'");
		return ret;
	}
	run_emit_summary(r, r->sess.replay_end_ns);
	run_flush_stdout(r);
	run_note_uncertain_fail(r);
	return 0;
}

int run_init(struct run *r, const struct sva_options *opts, volatile sig_atomic_t *stop)
{
	const struct correlator_opts copts = {
		.on_finding = on_finding,
		.on_bond_end = on_bond_end,
		.on_resolved = on_resolved,
		.leak_grace_ns = opts->leak_grace_ns,
		.pasid_pressure_pct = opts->pasid_pressure_pct,
		.ctx = r,
	};
	const struct session_ops sops = {
		.on_event = on_event,
		.on_lost = on_lost,
		.on_bad_record = on_bad_record,
		.ctx = r,
	};

	memset(r, 0, sizeof(*r));
	r->opts = opts;
	r->stop = stop;
	sva_filter_from(&r->filter, opts);
	jw_init(&r->jw);
	r->fmt.ptrs = &r->ptrs;
	r->corr = correlator_new(&copts);
	if (!r->corr || session_init(&r->sess, r->corr, &sops, !opts->replay_path))
		return -ENOMEM;
	return 0;
}

int run_keep_for_export(struct run *r)
{
	r->keep = true;
	return export_keep_init(&r->kept, r->opts->export_ended);
}

void run_describe_host(struct run *r)
{
	struct utsname u;
	FILE *f;

	uname(&u);
	snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", u.release);
	snprintf(r->machine, sizeof(r->machine), "%s", u.machine);
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (fgets(r->boot_id, sizeof(r->boot_id), f))
			r->boot_id[strcspn(r->boot_id, "\n")] = '\0';
		fclose(f);
	}
}

int run_open_metrics(struct run *r)
{
	const struct metrics_sink_opts mopts = {
		.listen = r->opts->metrics_listen,
		.file = r->opts->metrics_file,
		.interval_ns = r->opts->metrics_interval_ns,
	};
	char err[512];
	int ret;

	if (!mopts.listen && !mopts.file)
		return 0;
	r->mx = metrics_new();
	if (!r->mx) {
		sva_warn("out of memory");
		return -ENOMEM;
	}
	ret = metrics_sink_open(&r->msink, &mopts, err, sizeof(err));
	if (ret)
		sva_warn("%s", err);
	return ret;
}

int run_start_metrics(struct run *r)
{
	char err[512];
	int ret;

	if (!r->msink)
		return 0;
	metrics_describe(r->mx, r->opts, &r->ld, r->kernel_release, r->machine,
			 r->start_wall_ns ? (double)(r->start_wall_ns / 1000000) / 1000.0 : 0);
	/* The first snapshot before the first request can come. */
	run_update_metrics(r, 0, true);
	ret = metrics_sink_start(r->msink, err, sizeof(err));
	if (ret)
		sva_warn("%s", err);
	else if (metrics_sink_serves(r->msink) && r->opts->verbose)
		sva_info("serving metrics on http://%s/metrics", metrics_sink_address(r->msink));
	return ret;
}

int run_update_metrics(struct run *r, uint64_t now_ns, bool force)
{
	if (!r->msink)
		return 0;
	return metrics_sink_update(r->msink, r->mx, r->corr, &r->sess,
				   sva_loader_loaded(&r->ld) ? &r->ld : NULL, now_ns, force);
}

void run_free(struct run *r)
{
	sva_state_free(&r->state);
	sva_state_free(&r->resync);
	/* The HTTP thread first: it reads nothing of the run, but the process is ending. */
	metrics_sink_close(r->msink);
	metrics_free(r->mx);
	session_free(&r->sess);
	sva_loader_free(&r->ld);
	correlator_free(r->corr);
	export_keep_free(&r->kept);
	ksym_table_free(r->ksyms);
	jw_free(&r->jw);
	free(r->out);
	ptrhash_free(&r->ptrs);
}
