// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace: stream IOMMU SVA / PASID events from the kernel. This file dispatches: the
 * command line (options.c), the BPF side (loader.c), the records' way to the correlator
 * (session.c) and what becomes of them (run.c); main() maps errors to exit statuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "doctor.h"
#include "json_writer.h"
#include "kernel.h"
#include "loader.h"
#include "metrics_serve.h"
#include "options.h"
#include "postmortem.h"
#include "print.h"
#include "ptrhash.h"
#include "report.h"
#include "run.h"
#include "safefile.h"
#include "session.h"

static volatile sig_atomic_t exiting;
static volatile sig_atomic_t exit_signal; /* the signal that ended the run, 0 for none */
static volatile sig_atomic_t snapshot_requested;
static volatile sig_atomic_t resync_requested;

/*
 * SIGINT, SIGTERM and SIGHUP (the terminal went away) all end a trace the same way:
 * detach, drain, summary, export. SIGUSR1 asks for a snapshot of the export, SIGUSR2 for a
 * re-sync (the kernel's state read again and compared with the model).
 */
static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		snapshot_requested = 1;
	} else if (sig == SIGUSR2) {
		resync_requested = 1;
	} else {
		if (!exiting)
			exit_signal = sig;
		exiting = 1;
	}
}

/* ---- errors: stderr through the print hook, and in JSON mode one "error" record ---- */

/* What was said since diag_mark(), lines joined by newlines, for the JSON error record. */
static struct {
	char text[4096];
	size_t len;
} diag;

static void diag_mark(void)
{
	diag.len = 0;
	diag.text[0] = '\0';
}

static void print_hook(enum sva_print_level level, const char *prefix, const char *msg, void *ctx)
{
	sva_print_stderr(level, prefix, msg, ctx);
	if (diag.len < sizeof(diag.text) - 1)
		diag.len += (size_t)snprintf(diag.text + diag.len, sizeof(diag.text) - diag.len,
					     "%s%s", diag.len ? "\n" : "", msg);
	if (diag.len > sizeof(diag.text) - 1)
		diag.len = sizeof(diag.text) - 1;
}

/* The run whose gathered lines (run.h, run_gather_output) go out before an error record. */
static struct run *gathering_run;

/* A step failed with exit status code: in JSON mode, say what it said as an error record. */
static int fail(const struct sva_options *opts, int code)
{
	struct json_writer w;

	if (!opts->json)
		return code;
	jw_init(&w);
	report_error_json(&w, code, diag.len ? diag.text : "failed");
	if (!jw_finish(&w)) {
		if (gathering_run)
			run_flush_output(gathering_run);
		fflush(stdout);
		fprintf(stdout, "%s\n", w.buf);
		fflush(stdout);
	}
	jw_free(&w);
	return code;
}

__attribute__((format(printf, 3, 4))) static int fatal(const struct sva_options *opts, int code,
							const char *fmt, ...)
{
	va_list ap;

	diag_mark();
	va_start(ap, fmt);
	sva_vpr(SVA_PR_WARN, fmt, ap);
	va_end(ap);
	return fail(opts, code);
}

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
		sigaction(SIGUSR2, &sa, NULL);
	} else {
		/* A replay has no snapshots; a stray SIGUSR1 must not kill or interrupt it. */
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, SIG_IGN);
	}
	/* A closed pipe ends the run through EPIPE, not by killing us mid-way. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * What stdout did not take is lost: say so, and exit 1 unless the status says worse already. A
 * reader that went away (| head) is not an error (sva_stdout_error).
 */
static int stdout_status(int status, int write_errno)
{
	int err = sva_stdout_error(write_errno);

	if (!err)
		return status;
	sva_warn("writing to stdout failed: %s; the output is incomplete", strerror(err));
	return status ? status : 1;
}

/* An output that would replace the capture being read, or the other output: 0, or 2 said. */
static int check_outputs(const struct sva_options *opts)
{
	const char *capture = opts->replay_path;
	const char *outputs[2][2] = { { "--export", opts->export_path },
				      { "--metrics-file", opts->metrics_file } };

	if (capture && !strcmp(capture, "-"))
		capture = NULL; /* stdin */
	for (int i = 0; i < 2; i++) {
		if (outputs[i][1] && opts->replay_path && safefile_same(outputs[i][1], capture))
			return fatal(opts, 2, "%s '%s' is the capture being replayed: writing it "
					      "would replace the capture; name another file",
				     outputs[i][0], outputs[i][1]);
	}
	if (opts->export_path && opts->metrics_file &&
	    safefile_same(opts->export_path, opts->metrics_file))
		return fatal(opts, 2, "--export and --metrics-file name one file, '%s': each would "
				      "replace the other; name two files",
			     opts->export_path);
	return 0;
}

/* --report FILE, or --replay of an export: 0, 1 (a --fail-on kind found), 2. */
static int report(const char *path, const struct sva_options *opts)
{
	int ret = report_export(path, opts->json, opts->fail_on, opts->raw_pointers, stdout);

	return ret < 0 ? 2 : ret;
}

/* --metrics after a replay: the end state, served until a signal. 0, or -errno of the file. */
static int serve_replayed_metrics(struct run *r)
{
	int err = run_update_metrics(r, now_mono_ns(), true);

	if (!metrics_sink_serves(r->msink))
		return err;
	sva_warn("serving the replayed state's metrics on http://%s/metrics; Ctrl-C to stop",
		 metrics_sink_address(r->msink));
	/* Refreshed still: the snapshot's time says the endpoint is alive (SVATraceStale). */
	while (!exiting) {
		poll(NULL, 0, 200);
		run_update_metrics(r, now_mono_ns(), false);
	}
	return err;
}

/* --replay: exit status 0, 1 (--fail-on, interrupted, export not written) or 2. */
static int replay(struct run *r, const struct sva_options *opts)
{
	int err;

	if (strcmp(opts->replay_path, "-") && export_file_is_export(opts->replay_path))
		return report(opts->replay_path, opts);
	diag_mark();
	if (run_start_metrics(r))
		return fail(opts, 2);
	err = run_replay(r, &exit_signal);
	if (err == -EPIPE && opts->export_path) {
		/* As when a signal interrupts it: the export would not be the capture's end. */
		sva_warn("the replay stopped where stdout stopped taking its output: the export "
			 "was not written");
		return 1;
	}
	if (err == -EPIPE)
		return 0;
	if (err)
		return fail(opts, err == -EINTR ? 1 : 2);
	diag_mark();
	if (opts->export_path && run_write_export(r, "exit", r->sess.replay_end_ns)) {
		sva_warn("the export was not written");
		return fail(opts, 1);
	}
	if (r->msink && serve_replayed_metrics(r)) {
		sva_warn("--metrics-file: the replay's end state was not written");
		return fail(opts, 1);
	}
	return r->fail_hits ? 1 : 0;
}

/* Live: probes attached, ring mapped, the command started, privileges dropped. 0 or status. */
static int start_live(struct run *r, const struct sva_options *opts, struct child *child)
{
	/* The files written after the drop (the first NULL ends the list). */
	const char *write_paths[] = { opts->export_path ? opts->export_path : opts->metrics_file,
				      opts->metrics_file, NULL };
	struct sva_loader_opts lopts;
	char kept[64];
	int err;

	diag_mark();
	if (check_privileges())
		return fail(opts, 2);
	err = ptrhash_init(&r->ptrs, opts->raw_pointers);
	if (err)
		return fatal(opts, 2, "no randomness for the pointer-hash key: %s", strerror(-err));
	run_describe_host(r);
	sva_loader_opts_from(&lopts, opts);
	diag_mark();
	if (sva_loader_start(&r->ld, &lopts))
		return fail(opts, 2);
	if (opts->check) {
		run_read_state(r, false); /* for the table's line on what it can read */
		sva_loader_print_check(&r->ld, opts->json, stdout);
		return r->ld.nr_sva_attached > 0 ? 0 : 1;
	}
	/*
	 * An environment error (2), not 1: under --fail-on, 1 says a finding was made, and a
	 * kernel that lets nothing be traced made none (a CI job must not read it so).
	 */
	if (!r->ld.nr_sva_attached)
		return fatal(opts, 2, "none of the SVA/PASID functions could be traced on this "
				      "kernel; 'sva-trace --check' says why for each");
	err = session_open_ring(&r->sess, &r->ld);
	if (err)
		return fatal(opts, 2, "cannot map the ring buffer: %s", strerror(-err));
	/* What is bound already: read (and the correlator seeded) before the first record. */
	run_read_state(r, true);
	/* Forked now, with the privileges we started with: the command keeps them. */
	err = opts->cmd ? child_start(child, opts->cmd, opts->json) : 0;
	if (err)
		return fatal(opts, 2, "cannot start '%s': %s", opts->cmd[0], strerror(-err));
	if (opts->stacks)
		r->ksyms = ksym_table_load();
	/* Attached, mapped, forked, symbols read: what is left needs no privilege. */
	if (!session_drop_privileges(&r->sess, write_paths, kept, sizeof(kept)) &&
	    opts->verbose)
		sva_info("capabilities dropped%s%s", kept[0] ? "; kept: " : " (all)", kept);
	return 0;
}

/* Live: records until a signal, --duration, the command's end or a closed output. */
static int trace_live(struct run *r, const struct sva_options *opts, struct child *child)
{
	uint64_t deadline = 0, now;
	int err, metrics_err;

	r->fmt.t0_ns = now_mono_ns();
	r->start_wall_ns = now_wall_ns();
	/* After the privilege drop: the HTTP thread starts with none (metrics_serve.h). */
	diag_mark();
	if (run_start_metrics(r))
		return fail(opts, 2);
	if (!opts->json)
		run_emit_state(r); /* before the events' header */
	run_emit_start(r);
	if (opts->json)
		run_emit_state(r);
	if (!opts->json)
		sva_warn("tracing %d probes; %s", r->ld.nr_attached,
			 opts->cmd ? "running the command" : "Ctrl-C to stop");
	run_flush_stdout(r);
	if (opts->duration_s)
		deadline = r->fmt.t0_ns + opts->duration_s * 1000000000ull;
	child_go(child);

	while (!exiting) {
		/* Records, in seq order, then the correlator's clock (session.h). */
		err = session_poll(&r->sess, 100);
		/* SIGUSR1 (a snapshot) interrupts the poll too: only stop when asked to. */
		if (exiting)
			break;
		if (err < 0)
			return fatal(opts, 1, "reading the ring buffer failed: %s", strerror(-err));
		if (run_flush_stdout(r) && output_closed())
			run_output_failed(r, EPIPE);
		if (r->output_broken)
			break;
		now = now_mono_ns();
		run_update_metrics(r, now, false);
		if (resync_requested) {
			resync_requested = 0;
			run_resync(r);
		}
		if (snapshot_requested) {
			snapshot_requested = 0;
			if (opts->export_path)
				run_write_export(r, "snapshot", now);
		}
		if (deadline && now >= deadline)
			break;
		if (opts->cmd) {
			child_poll(child);
			/* After the command and all it started: release paths, then the grace. */
			if (child->exited && now >= child->exit_ns + opts->leak_grace_ns + 200000000ull)
				break;
		}
	}

	/* Stop new records, then drain what is already queued. */
	sva_loader_detach(&r->ld);
	session_finish_live(&r->sess);
	now = now_mono_ns();
	run_emit_summary(r, now);
	run_flush_stdout(r);
	diag_mark();
	metrics_err = run_update_metrics(r, now, true);
	run_note_uncertain_fail(r);
	/* A signal from here on is already what we are doing: the export is finished whole. */
	if (opts->export_path && run_write_export(r, "exit", now)) {
		sva_warn("the export was not written");
		return fail(opts, 1);
	}
	if (metrics_err) {
		sva_warn("--metrics-file: the metrics at the end were not written");
		return fail(opts, 1);
	}
	if (r->fail_hits)
		return 1;
	return opts->cmd && child->cmd_exited ? child_exit_code(child) : 0;
}

int main(int argc, char **argv)
{
	struct sva_options opts;
	struct child child = CHILD_INIT;
	struct run *r;
	char msg[512];
	int err;

	sva_print_set_prefix("sva-trace: ");
	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return doctor_main(argc - 1, argv + 1);
	sva_print_set_hook(print_hook, NULL);
	/* opts.json tells whether --json came before a usage error */
	if (sva_options_parse(argc, argv, &opts, stdout))
		return fail(&opts, 2);
	if (opts.exit_now)
		return stdout_status(0, 0);
	/* From here a signal ends the run cleanly, even one that comes during attach. */
	install_signals(!opts.replay_path && !opts.report_path);
	/*
	 * Into a file or pipe, write in 64 KiB blocks rather than stdio's 4 KiB: at high event
	 * rates each write(2) is a cost the traced machine pays. The loop flushes after every
	 * poll, so nothing waits in the buffer longer than that.
	 */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	r = malloc(sizeof(*r));
	if (!r)
		return fatal(&opts, 1, "out of memory");
	err = run_init(r, &opts, &exiting);
	if (!err && !isatty(STDOUT_FILENO)) {
		/* Into a file or pipe, lines are gathered and handed to stdio a block at a time. */
		run_gather_output(r);
		gathering_run = r;
	}
	if (err) {
		err = fatal(&opts, 1, "out of memory");
	} else if ((err = check_outputs(&opts))) {
		/* said */
	} else if (opts.report_path) {
		err = report(opts.report_path, &opts);
		/* the errno of the report's write that failed (report_export) */
		if (fflush(stdout) == EOF || ferror(stdout))
			r->output_errno = errno;
	} else if (opts.export_path && safefile_check(opts.export_path, msg, sizeof(msg))) {
		/* An unwritable export path is an error now, not after hours of tracing. */
		err = fatal(&opts, 2, "--export: %s", msg);
	} else if (opts.export_path && run_keep_for_export(r)) {
		err = fatal(&opts, 1, "out of memory");
	} else if ((opts.metrics_listen || opts.metrics_file) && (diag_mark(), run_open_metrics(r))) {
		/* A port in use or an unwritable file is an error now, before any probe. */
		err = fail(&opts, 2);
	} else if (opts.replay_path) {
		err = replay(r, &opts);
	} else {
		err = start_live(r, &opts, &child);
		if (!err && !opts.check)
			err = trace_live(r, &opts, &child);
	}

	/* Interrupted before the command ended: it goes on without us. */
	if (child.pid > 0 && !child.cmd_exited)
		child_go(&child);
	/* Nothing is left gathered on any path; if something were, better late than lost. */
	run_flush_output(r);
	gathering_run = NULL;
	err = stdout_status(err, r->output_errno);
	run_free(r);
	free(r);
	return err;
}
