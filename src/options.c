// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "correlate.h"
#include "metrics.h"
#include "options.h"
#include "print.h"

#ifndef SVA_TRACE_VERSION
#define SVA_TRACE_VERSION "0.1.0"
#endif

const char *sva_trace_version = SVA_TRACE_VERSION;

static const char doc[] =
	"Trace IOMMU Shared Virtual Addressing: binds, unbinds, PASID attaches and look-ups.\n"
	"\n"
	"USAGE: sva-trace [OPTIONS] [-- COMMAND [ARGS...]]\n"
	"       sva-trace doctor [--json] [--root DIR]   (what blocks an SVA bind here; doctor --help)\n"
	"\n"
	"EXAMPLES:\n"
	"    sva-trace                  # stream every SVA/PASID event as text\n"
	"    sva-trace --json           # the same as JSON Lines\n"
	"    sva-trace -p 1234          # only process 1234\n"
	"    sva-trace --dev 0000:6a:01.0 --pasid 2\n"
	"    sva-trace --check          # which probes attach on this kernel, and how\n"
	"    sva-trace doctor           # which devices can bind SVA, and what stops the others\n"
	"    sva-trace --probe-mode kprobe -d 10\n"
	"    sva-trace --json > capture.jsonl; sva-trace --replay capture.jsonl\n"
	"    sva-trace --fail-on leak,refcount -- ./accel_test   # CI: fail on what it leaves behind\n"
	"    sva-trace -q --metrics 9464   # a daemon for Prometheus: GET http://127.0.0.1:9464/metrics";

enum {
	OPT_COMM = 1000,
	OPT_DEV,
	OPT_PASID,
	OPT_BTF,
	OPT_PROBE_MODE,
	OPT_CHECK,
	OPT_STACKS,
	OPT_ALL_LOOKUPS,
	OPT_RAW_POINTERS,
	OPT_REPLAY,
	OPT_FAIL_ON,
	OPT_LEAK_GRACE,
	OPT_PASID_PRESSURE,
	OPT_EXPORT,
	OPT_EXPORT_ENDED,
	OPT_REPORT,
	OPT_RING_SIZE,
	OPT_METRICS,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	OPT_HELP,
	OPT_USAGE,
	OPT_VERSION,
};

/*
 * argp lists options by group number, then by name, and a header opens the group of its number:
 * two headers with one number leave the first empty. Each group has its own number (sva-top's
 * "Probes:" header uses PROBES_GROUP too, options.h).
 */

/* The options sva-top shares with sva-trace: filters and how to trace (sva_shared_argp). */
static const struct argp_option shared_options[] = {
	{ NULL, 0, NULL, 0, "Filters:", 1 },
	{ "pid", 'p', "PID", 0, "Only events of this process (thread group id)", 1 },
	{ "comm", OPT_COMM, "COMM", 0, "Only events of tasks with this command name", 1 },
	{ "dev", OPT_DEV, "DEVICE", 0, "Only events on this device (its dev_name, e.g. 0000:6a:01.0)", 1 },
	{ "pasid", OPT_PASID, "PASID", 0, "Only events on this PASID", 1 },
	{ "raw-pointers", OPT_RAW_POINTERS, NULL, 0,
	  "Show real kernel addresses instead of per-run keyed hashes (defeats KASLR)", 2 },
	{ "ring-size", OPT_RING_SIZE, "BYTES", 0,
	  "BPF ring buffer size: a power of two, a multiple of the page size, K/M/G suffixes (default 1M); raise it when events are lost", 2 },
	{ "probe-mode", OPT_PROBE_MODE, "MODE", 0,
	  "auto (BPF trampolines where the kernel allows: fsession on 7.x, else fentry/fexit; else kprobes), fentry (fentry/fexit only), or kprobe", PROBES_GROUP },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use when /sys/kernel/btf/vmlinux is missing", PROBES_GROUP },
	{},
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "json", 'j', NULL, 0, "JSON Lines on stdout (see docs/json-format.md)", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS", 2 },
	{ "stacks", OPT_STACKS, NULL, 0, "Record a kernel stack id with every event", 2 },
	{ "all-lookups", OPT_ALL_LOOKUPS, NULL, 0,
	  "Log every iommu_attach_handle_get call, not only failed ones (they are always counted)", 2 },
	{ "verbose", 'v', NULL, 0, "Say which probe attached in which mode and what start-up cost; repeat for libbpf debug output", 2 },
	{ NULL, 0, NULL, 0, "Findings:", 3 },
	{ "fail-on", OPT_FAIL_ON, "KINDS", 0,
	  "Exit 1 if a finding of these kinds was made: leak, refcount, type-mismatch, cross-mm, pasid-state, bind-error, pasid-pressure (comma list) or all", 3 },
	{ "leak-grace", OPT_LEAK_GRACE, "SECONDS", 0,
	  "A bond still bound this long after its owner exited is a leak (default 2)", 3 },
	{ "pasid-pressure", OPT_PASID_PRESSURE, "PERCENT", 0,
	  "A pasid-pressure warning when the PASIDs in use for a device's group (attached there or held from the global allocator) reach PERCENT of its max_pasids - 1 (default 90)", 3 },
	{ NULL, 0, NULL, 0, "Postmortem:", 4 },
	{ "replay", OPT_REPLAY, "FILE", 0,
	  "Read a capture written by --json (- for stdin) instead of tracing", 4 },
	{ "export", OPT_EXPORT, "FILE", 0,
	  "Write a JSON snapshot of the state (docs/export.md) at exit and on SIGUSR1; atomic, mode 0600", 4 },
	{ "export-ended", OPT_EXPORT_ENDED, "N", 0, "Ended bonds kept for the export (default 64)", 4 },
	{ "report", OPT_REPORT, "FILE", 0, "Print a readable postmortem of an export and exit", 4 },
	{ "quiet", 'q', NULL, 0,
	  "No event, finding, resolved, state or re-sync lines (the summary and errors still): with --metrics, a daemon", 2 },
	{ NULL, 0, NULL, 0, "Metrics (Prometheus, docs/metrics.md):", 6 },
	{ "metrics", OPT_METRICS, "[ADDR:]PORT", 0,
	  "Serve GET /metrics on ADDR (default 127.0.0.1) and PORT; with --replay, the end state until interrupted", 6 },
	{ "metrics-file", OPT_METRICS_FILE, "FILE", 0,
	  "Rewrite FILE atomically (mode 0644) each interval, for node_exporter's textfile collector", 6 },
	{ "metrics-interval", OPT_METRICS_INTERVAL, "SECONDS", 0,
	  "How often the metrics are refreshed and the file rewritten (default 1, 0.1 to 3600)", 6 },
	{ NULL, 0, NULL, 0, "Probes:", PROBES_GROUP },
	{ "check", OPT_CHECK, NULL, 0,
	  "Print one row per probe (present, attached, mode, reason) and exit: 0 if any SVA probe attached, 1 if none", PROBES_GROUP },
	{ NULL, 0, NULL, 0, "Help:", -1 },
	{ "help", OPT_HELP, NULL, 0, "Show this help and exit", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Show a short usage message and exit", -1 },
	{ "version", OPT_VERSION, NULL, 0, "Print the version and exit", -1 },
	{},
};

struct parse_state {
	struct sva_options *opts;
	FILE *out;
};

const char *probe_mode_name(enum probe_mode mode)
{
	switch (mode) {
	case PROBE_MODE_AUTO: return "auto";
	case PROBE_MODE_FENTRY: return "fentry";
	case PROBE_MODE_KPROBE: return "kprobe";
	}
	return "?";
}

int parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, scale = 1000000000ull;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > max_ns / 1000000000ull)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
		}
	}
	if (*p)
		return -EINVAL;
	*out = whole * 1000000000ull + frac;
	if (*out < min_ns || *out > max_ns)
		return -ERANGE;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	/* Decimal, or hex after 0x: never octal, where "010" would be 8 and "08" an error. */
	v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return -EINVAL;
		}
		end++;
		/* "4M", "4MB", "4MiB" */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* "PROG: MESSAGE" and where to look next (print.h). */
__attribute__((format(printf, 2, 3))) static int usage_error(const struct argp_state *state,
							     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sva_warn("%s\nTry '%s --help' for more information.", msg, state->name);
	return EINVAL;
}

/* The shared options; the input is the struct sva_options they fill in. */
static error_t parse_shared(int key, char *arg, struct argp_state *state)
{
	struct sva_options *o = state->input;
	uint64_t v;

	switch (key) {
	case 'p':
		if (parse_u64(arg, 1, INT32_MAX, &v))
			return usage_error(state, "invalid --pid '%s': expected a process id from 1 to 2147483647", arg);
		o->pid = (uint32_t)v;
		break;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= SVA_COMM_LEN)
			return usage_error(state, "invalid --comm '%s': expected 1 to 15 characters (the kernel truncates command names to 15)", arg);
		strcpy(o->comm, arg);
		break;
	case OPT_DEV:
		if (!*arg || strlen(arg) >= SVA_DEV_NAME_LEN)
			return usage_error(state, "invalid --dev '%s': expected a device name of 1 to 31 characters, as in /sys/bus/*/devices/", arg);
		strcpy(o->dev, arg);
		break;
	case OPT_PASID:
		/* PASIDs are 20 bits wide (PCIe); accept the full ioasid_t range but the invalid value. */
		if (parse_u64(arg, 0, SVA_PASID_NONE - 1, &v))
			return usage_error(state, "invalid --pasid '%s': expected a number from 0 to 4294967294", arg);
		o->pasid = (uint32_t)v;
		break;
	case OPT_RAW_POINTERS:
		o->raw_pointers = true;
		break;
	case OPT_RING_SIZE: {
		long page = sysconf(_SC_PAGESIZE);

		if (parse_size(arg, &v) || v < (uint64_t)page || v > SVA_RING_SIZE_MAX ||
		    (v & (v - 1)) || v % (uint64_t)page)
			return usage_error(state, "invalid --ring-size '%s': expected a power of two from "
						  "%ldK (the page size) to 2G, e.g. 4M or 65536", arg,
					   page / 1024);
		o->ring_size = (uint32_t)v;
		break;
	}
	case OPT_PROBE_MODE:
		if (!strcmp(arg, "auto"))
			o->probe_mode = PROBE_MODE_AUTO;
		else if (!strcmp(arg, "fentry"))
			o->probe_mode = PROBE_MODE_FENTRY;
		else if (!strcmp(arg, "kprobe"))
			o->probe_mode = PROBE_MODE_KPROBE;
		else
			return usage_error(state, "invalid --probe-mode '%s': expected auto, fentry or kprobe", arg);
		break;
	case OPT_BTF:
		if (!*arg)
			return usage_error(state, "invalid --btf '%s': expected a file name", arg);
		o->btf_path = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp sva_shared_argp = { .options = shared_options, .parser = parse_shared };

void sva_options_defaults(struct sva_options *o)
{
	memset(o, 0, sizeof(*o));
	o->pasid = SVA_PASID_NONE;
	o->probe_mode = PROBE_MODE_AUTO;
	o->leak_grace_ns = 2000000000ull;
	o->export_ended = 64;
	o->ring_size = SVA_RING_SIZE_DEFAULT;
	o->metrics_interval_ns = 1000000000ull;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct sva_options *o = ps->opts;
	uint64_t v;
	int err;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		state->name = (char *)"sva-trace";
		break;
	case 'd':
		err = parse_u64(arg, 1, 100ULL * 365 * 24 * 3600, &v);
		if (err)
			return usage_error(state, "invalid --duration '%s': expected a whole number of seconds, at least 1", arg);
		o->duration_s = v;
		break;
	case 'j':
		o->json = true;
		break;
	case 'v':
		o->verbose++;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_METRICS: {
		char host[64], msg[160];
		uint16_t port;

		if (metrics_parse_listen(arg, host, sizeof(host), &port, msg, sizeof(msg)))
			return usage_error(state, "invalid --metrics '%s': %s", arg, msg);
		o->metrics_listen = arg;
		break;
	}
	case OPT_METRICS_FILE:
		if (!*arg)
			return usage_error(state, "invalid --metrics-file '': expected a file name");
		o->metrics_file = arg;
		break;
	case OPT_METRICS_INTERVAL:
		if (parse_seconds(arg, 100000000ull, 3600ull * 1000000000ull, &o->metrics_interval_ns))
			return usage_error(state, "invalid --metrics-interval '%s': expected seconds from 0.1 to 3600, e.g. 1 or 15", arg);
		break;
	case OPT_CHECK:
		o->check = true;
		break;
	case OPT_STACKS:
		o->stacks = true;
		break;
	case OPT_ALL_LOOKUPS:
		o->all_lookups = true;
		break;
	case OPT_REPLAY:
		if (!*arg)
			return usage_error(state, "invalid --replay '': expected a file name, or - for stdin");
		o->replay_path = arg;
		break;
	case OPT_FAIL_ON: {
		char msg[200];

		if (finding_kinds_parse(arg, &o->fail_on, msg, sizeof(msg)))
			return usage_error(state, "invalid --fail-on '%s': %s", arg, msg);
		break;
	}
	case OPT_LEAK_GRACE:
		if (parse_seconds(arg, 0, 3600ull * 1000000000ull, &o->leak_grace_ns))
			return usage_error(state, "invalid --leak-grace '%s': expected seconds from 0 to 3600, e.g. 2 or 0.5", arg);
		break;
	case OPT_PASID_PRESSURE: {
		char *end;
		double pct;

		errno = 0;
		pct = strtod(arg, &end);
		/* digits and a point: strtod also takes blanks, hex, exponents, "nan" */
		if (!isdigit((unsigned char)*arg) || strspn(arg, "0123456789.") != strlen(arg) ||
		    *end || errno || !(pct > 0 && pct <= 100))
			return usage_error(state, "invalid --pasid-pressure '%s': expected a percentage "
						  "above 0 and up to 100, e.g. 90 or 0.5", arg);
		o->pasid_pressure_pct = pct;
		break;
	}
	case OPT_EXPORT:
		if (!*arg)
			return usage_error(state, "invalid --export '': expected a file name");
		o->export_path = arg;
		break;
	case OPT_EXPORT_ENDED:
		err = parse_u64(arg, 0, 100000, &v);
		if (err)
			return usage_error(state, "invalid --export-ended '%s': expected a number from 0 to 100000", arg);
		o->export_ended = (uint32_t)v;
		break;
	case OPT_REPORT:
		if (!*arg)
			return usage_error(state, "invalid --report '': expected an export file");
		o->report_path = arg;
		break;
	case OPT_HELP:
		argp_state_help(state, ps->out, ARGP_HELP_STD_HELP & ~ARGP_HELP_EXIT_OK);
		o->exit_now = true;
		break;
	case OPT_USAGE:
		argp_state_help(state, ps->out, ARGP_HELP_USAGE);
		o->exit_now = true;
		break;
	case OPT_VERSION:
		fprintf(ps->out, "sva-trace %s\n", sva_trace_version);
		o->exit_now = true;
		break;
	case ARGP_KEY_ARG:
		return usage_error(state, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int sva_options_parse(int argc, char **argv, struct sva_options *opts, FILE *out)
{
	static const struct argp_child children[] = { { &sva_shared_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = {
		.options = options,
		.parser = parse_arg,
		.doc = doc,
		.children = children,
	};
	struct parse_state ps = { .opts = opts, .out = out };
	FILE *saved_stderr = stderr, *argp_err;
	int ret;

	sva_options_defaults(opts);

	/* Everything after "--" is the command to run: argp never sees it. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			if (i + 1 >= argc) {
				sva_warn("'--' must be followed by a command to run\n"
					 "Try 'sva-trace --help' for more information.");
				return -EINVAL;
			}
			opts->cmd = argv + i + 1;
			argc = i;
			break;
		}
	}

	/* argp and getopt say what they refuse on stderr: make that the print hook. */
	argp_err = sva_print_stream(SVA_PR_WARN);
	if (argp_err)
		stderr = argp_err;
	ret = argp_parse(&argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP | ARGP_IN_ORDER, NULL, &ps);
	stderr = saved_stderr;
	if (argp_err)
		fclose(argp_err);
	if (ret)
		return -EINVAL;
	if (opts->exit_now)
		return 0;
	/* What a mode would leave undone (a command not run, an export not written) is refused. */
	if (opts->report_path &&
	    (opts->replay_path || opts->check || opts->cmd || opts->export_path)) {
		sva_warn("--report prints an export; it cannot be combined with %s\n"
			 "Try 'sva-trace --help' for more information.",
			 opts->replay_path ? "--replay" : opts->check ? "--check" :
			 opts->cmd ? "a command to run" : "--export");
		return -EINVAL;
	}
	if (opts->check && (opts->cmd || opts->export_path)) {
		sva_warn("--check only lists the probes; it cannot be combined with %s\n"
			 "Try 'sva-trace --help' for more information.",
			 opts->cmd ? "a command to run" : "--export");
		return -EINVAL;
	}
	if (opts->replay_path && (opts->cmd || opts->check)) {
		sva_warn("--replay reads a capture; it cannot be combined with %s\n"
			 "Try 'sva-trace --help' for more information.",
			 opts->cmd ? "a command to run" : "--check");
		return -EINVAL;
	}
	if ((opts->metrics_listen || opts->metrics_file) && (opts->check || opts->report_path)) {
		sva_warn("--metrics and --metrics-file need a trace or a replay; they cannot be "
			 "combined with %s\n"
			 "Try 'sva-trace --help' for more information.",
			 opts->check ? "--check" : "--report");
		return -EINVAL;
	}
	return 0;
}
