// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace: stream IOMMU SVA / PASID events from the kernel.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decode.h"
#include "json_writer.h"
#include "kernel.h"
#include "loader.h"
#include "options.h"
#include "ptrhash.h"
#include "sva_trace.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

struct run {
	const struct sva_options *opts;
	struct sva_loader ld;
	struct ptrhash ptrs;
	struct fmt_opts fmt;
	struct json_writer jw;
	uint64_t counts[SVA_REC__MAX];
	uint64_t decode_errors;
	uint64_t lost_reported;
	bool output_broken; /* EPIPE: the reader went away */
};

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

static int handle_record(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	struct sva_event ev;
	char err[128], line[1024];

	if (sva_event_decode(data, size, &ev, err, sizeof(err))) {
		if (!r->decode_errors++)
			fprintf(stderr, "sva-trace: dropping bad record: %s\n", err);
		return 0;
	}
	r->counts[ev.type]++;
	if (r->opts->json) {
		jw_reset(&r->jw);
		sva_event_format_json(&r->jw, &ev, &r->fmt);
		emit_json(r);
	} else {
		sva_event_format_text(&ev, &r->fmt, line, sizeof(line));
		emit_line(r, line);
	}
	return 0;
}

static uint64_t read_lost(struct run *r)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals, total = 0;
	uint32_t zero = 0;

	if (ncpu <= 0)
		return 0;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(r->ld.skel->maps.lost), &zero, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}

static void report_lost(struct run *r)
{
	uint64_t total = read_lost(r);

	if (total <= r->lost_reported)
		return;
	if (r->opts->json) {
		jw_reset(&r->jw);
		jw_start_object(&r->jw);
		jw_string_field(&r->jw, "type", "lost");
		jw_uint_field(&r->jw, "count", total - r->lost_reported);
		jw_uint_field(&r->jw, "total", total);
		jw_uint_field(&r->jw, "ts_ns", now_mono_ns());
		jw_end_object(&r->jw);
		emit_json(r);
	} else {
		fprintf(stderr, "sva-trace: lost %" PRIu64 " events (ring buffer full; %" PRIu64
				" in all so far)\n", total - r->lost_reported, total);
	}
	r->lost_reported = total;
}

static void emit_start(struct run *r)
{
	struct utsname u;

	if (!r->opts->json) {
		printf("%s\n", sva_text_header());
		return;
	}
	uname(&u);
	jw_reset(&r->jw);
	jw_start_object(&r->jw);
	jw_string_field(&r->jw, "type", "start");
	jw_string_field(&r->jw, "tool", "sva-trace");
	jw_string_field(&r->jw, "version", sva_trace_version);
	jw_uint_field(&r->jw, "format", 1);
	jw_string_field(&r->jw, "kernel", u.release);
	jw_string_field(&r->jw, "machine", u.machine);
	jw_uint_field(&r->jw, "ts_ns", r->fmt.t0_ns);
	jw_string_field(&r->jw, "pointers", r->opts->raw_pointers ? "raw" : "hashed");
	jw_name(&r->jw, "probes");
	jw_start_array(&r->jw);
	for (int i = 0; i < r->ld.nr_probes; i++) {
		const struct probe_state *ps = &r->ld.probes[i];

		if (!ps->attached)
			continue;
		jw_start_object(&r->jw);
		jw_string_field(&r->jw, "function", ps->spec->func);
		jw_string_field(&r->jw, "mode", attach_mode_name(ps));
		jw_end_object(&r->jw);
	}
	jw_end_array(&r->jw);
	jw_end_object(&r->jw);
	emit_json(r);
}

/* Look-up counters summed over CPUs, one entry per (group, PASID). */
static void emit_lookup_summary(struct run *r)
{
	int fd = bpf_map__fd(r->ld.skel->maps.lookups);
	int ncpu = libbpf_num_possible_cpus();
	struct sva_lookup_key key, next, *prev = NULL;
	struct sva_lookup_count *vals;
	bool any = false;

	if (ncpu <= 0)
		return;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		uint64_t n[SVA_LOOKUP__MAX] = {};

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			for (int k = 0; k < SVA_LOOKUP__MAX; k++)
				n[k] += vals[c].n[k];
		if (r->opts->json) {
			jw_start_object(&r->jw);
			if (key.group_id >= 0)
				jw_int_field(&r->jw, "group", key.group_id);
			else
				jw_null_field(&r->jw, "group");
			jw_uint_field(&r->jw, "pasid", key.pasid);
			jw_uint_field(&r->jw, "handle", n[SVA_LOOKUP_HANDLE]);
			jw_uint_field(&r->jw, "enoent", n[SVA_LOOKUP_ENOENT]);
			jw_uint_field(&r->jw, "ebusy", n[SVA_LOOKUP_EBUSY]);
			jw_uint_field(&r->jw, "other", n[SVA_LOOKUP_OTHER]);
			jw_end_object(&r->jw);
		} else {
			if (!any)
				printf("  look-ups by group/PASID: handle enoent ebusy other\n");
			printf("    group %d pasid %u: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			       key.group_id, key.pasid, n[0], n[1], n[2], n[3]);
		}
		any = true;
	}
	free(vals);
}

static void emit_summary(struct run *r)
{
	uint64_t total = 0;

	for (int t = 1; t < SVA_REC__MAX; t++)
		total += r->counts[t];
	if (r->opts->json) {
		jw_reset(&r->jw);
		jw_start_object(&r->jw);
		jw_string_field(&r->jw, "type", "summary");
		jw_uint_field(&r->jw, "ts_ns", now_mono_ns());
		jw_uint_field(&r->jw, "events", total);
		jw_name(&r->jw, "by_type");
		jw_start_object(&r->jw);
		for (int t = 1; t < SVA_REC__MAX; t++)
			jw_uint_field(&r->jw, sva_rec_type_name((unsigned int)t), r->counts[t]);
		jw_end_object(&r->jw);
		jw_uint_field(&r->jw, "lost", r->lost_reported);
		jw_uint_field(&r->jw, "bad_records", r->decode_errors);
		jw_name(&r->jw, "lookups");
		jw_start_array(&r->jw);
		emit_lookup_summary(r);
		jw_end_array(&r->jw);
		jw_end_object(&r->jw);
		emit_json(r);
		return;
	}
	if (r->output_broken)
		return;
	printf("\n%" PRIu64 " events", total);
	for (int t = 1; t < SVA_REC__MAX; t++)
		if (r->counts[t])
			printf(", %" PRIu64 " %s", r->counts[t], sva_rec_type_name((unsigned int)t));
	printf("; lost %" PRIu64 " events\n", r->lost_reported);
	emit_lookup_summary(r);
}

int main(int argc, char **argv)
{
	struct sva_options opts;
	struct ring_buffer *rb = NULL;
	struct run *r = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t deadline = 0, next_lost_check;
	int err;

	err = sva_options_parse(argc, argv, &opts, stdout, stderr);
	if (err)
		return 2;
	if (opts.exit_now)
		return 0;

	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "sva-trace: out of memory\n");
		return 1;
	}
	r->opts = &opts;
	jw_init(&r->jw);

	if (check_privileges(stderr)) {
		err = 2;
		goto cleanup;
	}
	if (ptrhash_init(&r->ptrs, opts.raw_pointers)) {
		fprintf(stderr, "sva-trace: no randomness for the pointer-hash key: %s\n",
			strerror(errno));
		err = 2;
		goto cleanup;
	}
	r->fmt.ptrs = &r->ptrs;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe ends the run through EPIPE, not by killing us mid-way. */
	signal(SIGPIPE, SIG_IGN);

	err = sva_loader_start(&r->ld, &opts, stderr);
	if (err) {
		err = 2;
		goto cleanup;
	}

	if (opts.check) {
		sva_loader_print_check(&r->ld, &opts, stdout);
		err = r->ld.nr_sva_attached > 0 ? 0 : 1;
		goto cleanup;
	}
	if (!r->ld.nr_sva_attached) {
		fprintf(stderr, "sva-trace: none of the SVA/PASID functions could be traced on "
				"this kernel; 'sva-trace --check' says why for each\n");
		err = 1;
		goto cleanup;
	}

	rb = ring_buffer__new(bpf_map__fd(r->ld.skel->maps.events), handle_record, r, NULL);
	if (!rb) {
		fprintf(stderr, "sva-trace: cannot map the ring buffer: %s\n", strerror(errno));
		err = 2;
		goto cleanup;
	}

	r->fmt.t0_ns = now_mono_ns();
	emit_start(r);
	if (!opts.json)
		fprintf(stderr, "sva-trace: tracing %d probes; Ctrl-C to stop\n",
			r->ld.nr_attached);
	fflush(stdout);
	if (opts.duration_s)
		deadline = r->fmt.t0_ns + opts.duration_s * 1000000000ull;
	next_lost_check = r->fmt.t0_ns + 1000000000ull;

	while (!exiting) {
		uint64_t now;

		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "sva-trace: reading the ring buffer failed: %s\n",
				strerror(-err));
			err = 1;
			goto cleanup;
		}
		if (fflush(stdout) == EOF) {
			r->output_broken = true;
			break;
		}
		now = now_mono_ns();
		if (now >= next_lost_check) {
			report_lost(r);
			next_lost_check = now + 1000000000ull;
		}
		if (deadline && now >= deadline)
			break;
	}

	/* Stop new records, then drain what is already queued. */
	sva_loader_detach(&r->ld);
	ring_buffer__consume(rb);
	report_lost(r);
	emit_summary(r);
	fflush(stdout);
	err = 0;

cleanup:
	ring_buffer__free(rb);
	sva_loader_free(&r->ld);
	jw_free(&r->jw);
	free(r);
	return err;
}
