// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace: stream IOMMU SVA / PASID events from the kernel.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "child.h"
#include "correlate.h"
#include "decode.h"
#include "doctor.h"
#include "export.h"
#include "json_writer.h"
#include "kernel.h"
#include "filter.h"
#include "loader.h"
#include "options.h"
#include "postmortem.h"
#include "print.h"
#include "privdrop.h"
#include "ptrhash.h"
#include "replay.h"
#include "report.h"
#include "safefile.h"
#include "session.h"

static volatile sig_atomic_t exiting;
static volatile sig_atomic_t exit_signal; /* the signal that ended the run, 0 for none */
static volatile sig_atomic_t snapshot_requested;

/*
 * SIGINT, SIGTERM and SIGHUP (the terminal went away) all end a trace the same way:
 * detach, drain, summary, export. SIGUSR1 asks for a snapshot of the export.
 */
static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		snapshot_requested = 1;
	} else {
		if (!exiting)
			exit_signal = sig;
		exiting = 1;
	}
}

/* ---- fatal errors: stderr, and in JSON mode one "error" record on stdout too ---- */

static void emit_error_json(int code, const char *text)
{
	struct json_writer w;
	char msg[4096];
	size_t len = 0;

	/* The lines without their "sva-trace: " prefixes, joined by newlines. */
	while (*text && len < sizeof(msg) - 1) {
		size_t n = strcspn(text, "\n");

		if (!strncmp(text, "sva-trace: ", 11)) {
			text += 11;
			n -= 11;
		}
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%.*s", len ? "\n" : "",
					(int)n, text);
		text += n;
		text += *text == '\n';
	}
	jw_init(&w);
	jw_start_object(&w);
	jw_string_field(&w, "type", "error");
	jw_int_field(&w, "code", code);
	jw_string_field(&w, "message", msg);
	jw_end_object(&w);
	if (!jw_finish(&w)) {
		fflush(stdout);
		fprintf(stdout, "%s\n", w.buf);
		fflush(stdout);
	}
	jw_free(&w);
}

/* Prints "sva-trace: MESSAGE" to stderr (and the JSON error record); returns code. */
__attribute__((format(printf, 3, 4))) static int fatal(const struct sva_options *opts, int code,
							const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sva-trace: %s\n", text);
	if (opts && opts->json)
		emit_error_json(code, text);
	return code;
}

/*
 * Diagnostics of a step that writes them to a FILE (options, loader, privileges): in JSON
 * mode they are collected, so that a failure can also be told as one JSON record.
 */
struct diag {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *diag_begin(struct diag *d, bool collect)
{
	d->buf = NULL;
	d->len = 0;
	d->f = collect ? open_memstream(&d->buf, &d->len) : NULL;
	if (!d->f)
		d->f = stderr;
	return d->f;
}

/* Copies what was collected to stderr; code != 0: the step failed, say so in JSON too. */
static int diag_end(struct diag *d, bool json, int code)
{
	if (d->f != stderr) {
		fclose(d->f);
		if (d->buf)
			fputs(d->buf, stderr);
		if (code && json)
			emit_error_json(code, d->buf && d->buf[0] ? d->buf : "failed");
		free(d->buf);
	}
	d->f = NULL;
	return code;
}

struct run {
	const struct sva_options *opts;
	struct sva_loader ld;
	struct sva_filter filter; /* what is shown (--pid --comm --dev --pasid) */
	struct ptrhash ptrs;
	struct fmt_opts fmt;
	struct json_writer jw;
	struct correlator *corr;
	struct session sess;
	uint64_t counts[SVA_REC__MAX];
	uint64_t findings_shown[FINDING__MAX]; /* what the filters let through, for the summary */
	uint64_t resolved_shown;
	uint64_t fail_hits; /* certain findings of a --fail-on kind, less those retracted */
	uint64_t fail_uncertain; /* ... uncertain ones, which do not fail the run */
	bool output_broken; /* EPIPE: the reader went away */
	/* replay */
	bool started;
	uint64_t end_ns;
	/* export */
	bool keep; /* --export: keep what the export needs */
	struct export_keep kept;
	uint64_t start_wall_ns;
	char kernel_release[65], machine[65], boot_id[40];
	struct ksym_table *ksyms; /* read before the capabilities go (--stacks) */
};

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* line has room for one more byte at line[len] (it is NUL-terminated there). */
static void emit_line_len(struct run *r, char *line, size_t len)
{
	if (r->output_broken)
		return;
	line[len] = '\n';
	if (fwrite_unlocked(line, 1, len + 1, stdout) != len + 1) {
		r->output_broken = true;
		exiting = 1;
	}
	line[len] = '\0';
}

static void emit_line(struct run *r, const char *line)
{
	if (r->output_broken)
		return;
	if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF) {
		r->output_broken = true;
		exiting = 1;
	}
}

static void emit_json(struct run *r)
{
	if (jw_finish(&r->jw)) {
		fprintf(stderr, "sva-trace: internal error: malformed JSON object dropped\n");
		return;
	}
	emit_line(r, r->jw.buf);
}

static void emit_start(struct run *r);

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
	if (!sva_filter_event(&r->filter, ev))
		return;
	r->counts[ev->type]++;
	if (r->opts->json) {
		jw_reset(&r->jw);
		sva_event_format_json(&r->jw, ev, &r->fmt);
		emit_json(r);
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

/* At the end: --fail-on findings that did not fail the run because they are uncertain. */
static void note_uncertain_fail(const struct run *r)
{
	if (r->fail_uncertain)
		fprintf(stderr, "sva-trace: %" PRIu64 " finding(s) of the --fail-on kinds are "
				"uncertain (events were lost while their subjects were live) and did "
				"not fail the run; a larger --ring-size avoids the loss\n",
			r->fail_uncertain);
}

static void on_finding(const struct finding *f, void *ctx)
{
	struct run *r = ctx;
	char line[2048];

	/* Filtered out: not shown, kept nor counted for --fail-on, as if not traced. */
	if (!sva_filter_finding(&r->filter, f))
		return;
	r->findings_shown[f->kind]++;
	/* An uncertain finding (events were lost) may be false: it never fails the run. */
	if ((r->opts->fail_on & (1u << f->kind)) && f->uncertain)
		r->fail_uncertain++;
	else if (r->opts->fail_on & (1u << f->kind))
		r->fail_hits++;
	if (r->keep)
		export_keep_finding(&r->kept, f);
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

	/* Retracts a finding the filters hid: as hidden, and no shown finding's fail hit. */
	if (!sva_filter_resolution(&r->filter, res))
		return;
	r->resolved_shown++;
	if (r->keep)
		export_keep_resolution(&r->kept, res);
	if ((r->opts->fail_on & (1u << res->kind)) && r->fail_hits)
		r->fail_hits--;
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
		fprintf(stderr, "sva-trace: dropping bad record: %s\n", err);
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
		fprintf(stderr, "sva-trace: lost %" PRIu64 " events (%s; %" PRIu64
				" in all so far)\n", count,
			src == SESSION_LOSS_KERNEL ? "ring buffer full or probe hits missed" :
						     "sequence numbers still missing after the "
						     "reorder window",
			total);
	}
}

static void emit_start(struct run *r)
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
		printf("%s\n", sva_text_header());
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

		if (ps->attached && st.nr_probes < SVA_NR_PROBES)
			probes[st.nr_probes++] = (struct report_probe){ ps->spec->func,
									attach_mode_name(ps) };
	}
	jw_reset(&r->jw);
	report_start_json(&r->jw, &st);
	emit_json(r);
}

static uint64_t now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Writes the export; on failure says so and returns -errno (the old file stays). */
static int write_export(struct run *r, const char *reason, uint64_t end_ns)
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

static void emit_summary(struct run *r, uint64_t now_ns)
{
	struct report_summary sum = {
		.ts_ns = now_ns,
		.counts = r->counts,
		.bad_records = r->sess.bad_records,
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
	} else if (!r->output_broken) {
		report_summary_text(stdout, r->corr, &r->fmt, &sum);
	}
	free(lookups);
}

/* ---- replay ---- */

static void replay_on_start(uint64_t ts_ns, bool raw, void *ctx)
{
	struct run *r = ctx;
	unsigned char key[PTRHASH_KEY_LEN];
	char seed[64];

	if (r->started)
		return;
	r->started = true;
	r->fmt.t0_ns = ts_ns;
	/*
	 * A capture made with --raw-pointers holds addresses: hash them on the
	 * way out unless asked not to, with a key derived from the capture so
	 * that a replay is deterministic.
	 */
	if (raw && !r->opts->raw_pointers) {
		snprintf(seed, sizeof(seed), "sva-trace replay %" PRIu64, ts_ns);
		crypto_generichash(key, sizeof(key), (const unsigned char *)seed, strlen(seed), NULL, 0);
		ptrhash_init_key(&r->ptrs, key);
	}
	emit_start(r);
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

static void replay_on_event(const struct sva_event *ev, void *ctx)
{
	struct run *r = ctx;

	if (!r->started)
		replay_on_start(ev->ts_ns, false, r);
	if (ev->ts_ns > r->end_ns)
		r->end_ns = ev->ts_ns;
	session_replay_event(&r->sess, ev);
}

static void replay_on_lost(uint64_t count, uint64_t ts_ns, void *ctx)
{
	struct run *r = ctx;

	session_replay_lost(&r->sess, count, ts_ns);
}

static void replay_on_end(uint64_t ts_ns, void *ctx)
{
	struct run *r = ctx;

	if (ts_ns > r->end_ns)
		r->end_ns = ts_ns;
}

static int run_replay(struct run *r)
{
	const struct replay_sink sink = {
		.on_start = replay_on_start,
		.on_event = replay_on_event,
		.on_lost = replay_on_lost,
		.on_end = replay_on_end,
		.on_start_info = replay_on_start_info,
		.ctx = r,
		.stop = &exiting,
	};
	const char *path = r->opts->replay_path;
	char err[512];
	FILE *f;
	int ret;

	/* Replayed pointers are already what the capture chose to show. */
	ptrhash_init(&r->ptrs, true);
	if (strcmp(path, "-") && export_file_is_export(path))
		return report_export(path, r->opts->json, r->opts->fail_on, stdout, stderr);
	if (!strcmp(path, "-")) {
		f = stdin;
		path = "<stdin>";
	} else {
		f = fopen(path, "re");
		if (!f)
			return fatal(r->opts, 2, "cannot open the capture '%s': %s", path,
				     strerror(errno));
	}
	ret = replay_stream(f, path, &sink, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	/* What the window still holds: at the end, or up to an interruption. */
	if (!ret || ret == -EINTR)
		session_flush(&r->sess);
	if (ret == -EINTR && r->output_broken)
		return 0; /* the reader went away (| head): nothing more to say, nowhere to say it */
	if (ret == -EINTR) {
		/*
		 * SIGINT, SIGTERM or SIGHUP: the summary of what was read, but no export, which
		 * would look like the state at the end of the capture; the previous one stays.
		 */
		emit_summary(r, r->end_ns);
		fflush(stdout);
		return fatal(r->opts, 1, "replay %s by %s: the summary covers only the records "
					 "before it%s", err, strsignal(exit_signal),
			     r->opts->export_path ? "; the export was not written" : "");
	}
	if (ret) {
		fflush(stdout);
		return fatal(r->opts, 2, "replay: %s%s", err,
			     ret == -EINVAL || ret == -ENODATA ?
				     "\nsva-trace: replay takes a JSON Lines capture written by "
				     "'sva-trace --json'" : "");
	}
	emit_summary(r, r->end_ns);
	fflush(stdout);
	note_uncertain_fail(r);
	if (r->opts->export_path && write_export(r, "exit", r->end_ns))
		return 1;
	return r->fail_hits ? 1 : 0;
}

/* The reader of a pipe on stdout went away: stop now, not at the next event. */
static bool output_closed(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return false;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

static void install_signals(bool live)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: the poll (or a replay's read) returns EINTR and the loop looks. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (live) {
		sigaction(SIGUSR1, &sa, NULL);
	} else {
		/* A replay has no snapshots; a stray SIGUSR1 must not kill or interrupt it. */
		signal(SIGUSR1, SIG_IGN);
	}
	/* A closed pipe ends the run through EPIPE, not by killing us mid-way. */
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct sva_options opts;
	struct session_ops sops = { .on_event = on_event, .on_lost = on_lost,
				    .on_bad_record = on_bad_record };
	struct run *r = NULL;
	struct child child = CHILD_INIT;
	struct correlator_opts copts = { .on_finding = on_finding };
	uint64_t deadline = 0, now;
	struct diag d;
	int err;

	sva_print_set_prefix("sva-trace: ");
	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return doctor_main(argc - 1, argv + 1);
	err = sva_options_parse(argc, argv, &opts, stdout, diag_begin(&d, true));
	/* opts.json tells whether --json came before a usage error */
	diag_end(&d, opts.json, err ? 2 : 0);
	if (err)
		return 2;
	if (opts.exit_now)
		return 0;
	/* From here a signal ends the run cleanly, even one that comes during attach. */
	install_signals(!opts.replay_path && !opts.report_path);
	/*
	 * Into a file or pipe, write in 64 KiB blocks rather than stdio's 4 KiB: at high event
	 * rates each write(2) is a cost the traced machine pays. The loop flushes after every
	 * poll, so nothing waits in the buffer longer than that.
	 */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	r = calloc(1, sizeof(*r));
	if (!r)
		return fatal(&opts, 1, "out of memory");
	r->opts = &opts;
	sva_filter_from(&r->filter, &opts);
	jw_init(&r->jw);
	r->fmt.ptrs = &r->ptrs;
	copts.ctx = r;
	copts.leak_grace_ns = opts.leak_grace_ns;
	copts.on_bond_end = on_bond_end;
	copts.on_resolved = on_resolved;
	r->corr = correlator_new(&copts);
	sops.ctx = r;
	if (!r->corr || session_init(&r->sess, r->corr, &sops, !opts.replay_path)) {
		err = fatal(&opts, 1, "out of memory");
		goto cleanup;
	}

	if (opts.report_path) {
		err = report_export(opts.report_path, opts.json, opts.fail_on, stdout, stderr);
		goto cleanup;
	}
	if (opts.export_path) {
		char msg[512];

		/* An unwritable export path is an error now, not after hours of tracing. */
		if (safefile_check(opts.export_path, msg, sizeof(msg))) {
			err = fatal(&opts, 2, "--export: %s", msg);
			goto cleanup;
		}
		r->keep = true;
		if (export_keep_init(&r->kept, opts.export_ended)) {
			err = fatal(&opts, 1, "out of memory");
			goto cleanup;
		}
	}

	if (opts.replay_path) {
		err = run_replay(r);
		goto cleanup;
	}

	if (diag_end(&d, opts.json, check_privileges(diag_begin(&d, opts.json)) ? 2 : 0)) {
		err = 2;
		goto cleanup;
	}
	if (ptrhash_init(&r->ptrs, opts.raw_pointers)) {
		err = fatal(&opts, 2, "no randomness for the pointer-hash key: %s", strerror(errno));
		goto cleanup;
	}
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

	{
		struct sva_loader_opts lopts;

		sva_loader_opts_from(&lopts, &opts);
		err = sva_loader_start(&r->ld, &lopts, diag_begin(&d, opts.json));
	}
	if (diag_end(&d, opts.json, err ? 2 : 0)) {
		err = 2;
		goto cleanup;
	}

	if (opts.check) {
		sva_loader_print_check(&r->ld, opts.json, stdout);
		err = r->ld.nr_sva_attached > 0 ? 0 : 1;
		goto cleanup;
	}
	if (!r->ld.nr_sva_attached) {
		err = fatal(&opts, 1, "none of the SVA/PASID functions could be traced on this "
				      "kernel; 'sva-trace --check' says why for each");
		goto cleanup;
	}

	err = session_open_ring(&r->sess, &r->ld);
	if (err) {
		err = fatal(&opts, 2, "cannot map the ring buffer: %s", strerror(-err));
		goto cleanup;
	}

	if (opts.cmd) {
		/* Forked now, with the privileges we started with: the command keeps them. */
		err = child_start(&child, opts.cmd, opts.json);
		if (err) {
			err = fatal(&opts, 2, "cannot start '%s': %s", opts.cmd[0], strerror(-err));
			goto cleanup;
		}
	}
	if (opts.stacks)
		r->ksyms = ksym_table_load();
	{
		char kept[64];

		/* Attached, mapped, forked, symbols read: what is left needs no privilege. */
		if (!session_drop_privileges(&r->sess, opts.export_path, kept, sizeof(kept)) &&
		    opts.verbose)
			fprintf(stderr, "sva-trace: capabilities dropped%s%s\n",
				kept[0] ? "; kept: " : " (all)", kept);
	}

	r->fmt.t0_ns = now_mono_ns();
	r->start_wall_ns = now_wall_ns();
	emit_start(r);
	if (!opts.json)
		fprintf(stderr, "sva-trace: tracing %d probes; %s\n", r->ld.nr_attached,
			opts.cmd ? "running the command" : "Ctrl-C to stop");
	fflush(stdout);
	if (opts.duration_s)
		deadline = r->fmt.t0_ns + opts.duration_s * 1000000000ull;
	child_go(&child);

	while (!exiting) {
		/* Records, in seq order, then the correlator's clock (session.h). */
		err = session_poll(&r->sess, 100);
		/* SIGUSR1 (a snapshot) interrupts the poll too: only stop when asked to. */
		if (exiting)
			break;
		if (err < 0) {
			err = fatal(&opts, 1, "reading the ring buffer failed: %s", strerror(-err));
			goto cleanup;
		}
		if (fflush(stdout) == EOF || output_closed()) {
			r->output_broken = true;
			break;
		}
		now = now_mono_ns();
		if (snapshot_requested) {
			snapshot_requested = 0;
			if (opts.export_path)
				write_export(r, "snapshot", now);
		}
		if (deadline && now >= deadline)
			break;
		if (opts.cmd) {
			child_poll(&child);
			/* After the command and all it started: release paths, then the grace. */
			if (child.exited && now >= child.exit_ns + opts.leak_grace_ns + 200000000ull)
				break;
		}
	}

	/* Stop new records, then drain what is already queued. */
	sva_loader_detach(&r->ld);
	session_finish_live(&r->sess);
	now = now_mono_ns();
	emit_summary(r, now);
	fflush(stdout);
	note_uncertain_fail(r);
	/* A signal from here on is already what we are doing: the export is finished whole. */
	if (opts.export_path && write_export(r, "exit", now))
		err = fatal(&opts, 1, "the export was not written (see above)");
	else if (r->fail_hits)
		err = 1;
	else if (opts.cmd && child.cmd_exited)
		err = child_exit_code(&child);
	else
		err = 0;

cleanup:
	if (child.pid > 0 && !child.cmd_exited) {
		/* Interrupted before the command ended: it goes on without us. */
		child_go(&child);
	}
	session_free(&r->sess);
	sva_loader_free(&r->ld);
	correlator_free(r->corr);
	export_keep_free(&r->kept);
	ksym_table_free(r->ksyms);
	jw_free(&r->jw);
	free(r);
	return err;
}
