// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The metrics model and its renderer: exact text in both formats, bounded labels, listen specs. */
#include "tap.h"
#include "correlate.h"
#include "metrics.h"

#define MS 1000000ull
#define H1 0xffff888000001000ull
#define H2 0xffff888000002000ull
#define MM1 0xffff888100000000ull
#define MM2 0xffff888200000000ull

struct world {
	struct correlator *c;
	struct metrics *m;
	uint64_t seq, now;
};

static void on_finding(const struct finding *f, void *ctx)
{
	metrics_finding(ctx, f);
}

static void on_resolved(const struct resolution *r, void *ctx)
{
	metrics_resolved(ctx, r);
}

static void world_init(struct world *w)
{
	struct correlator_opts o = { .leak_grace_ns = 2000 * MS, .on_finding = on_finding,
				     .on_resolved = on_resolved };

	memset(w, 0, sizeof(*w));
	w->m = metrics_new();
	o.ctx = w->m;
	w->c = correlator_new(&o);
	w->now = 1000 * MS;
}

static void world_free(struct world *w)
{
	correlator_free(w->c);
	metrics_free(w->m);
}

static struct sva_event ev_of(struct world *w, uint16_t type, uint32_t tgid, const char *dev)
{
	struct sva_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.seq = w->seq++;
	w->now += MS;
	ev.ts_ns = w->now;
	ev.pid = ev.tgid = tgid;
	snprintf(ev.comm, sizeof(ev.comm), "proc%u", tgid);
	snprintf(ev.dev_name, sizeof(ev.dev_name), "%s", dev);
	ev.group_id = 3;
	ev.pasid = SVA_PASID_NONE;
	ev.domain_type = (uint32_t)-1;
	ev.users = -1;
	ev.stack_id = -1;
	return ev;
}

/* As the session does: the front end (metrics) sees a record, then the correlator. */
static void feed(struct world *w, const struct sva_event *ev)
{
	metrics_event(w->m, ev);
	correlator_event(w->c, ev);
}

static void bind(struct world *w, const char *dev, uint32_t tgid, uint64_t mm, uint64_t handle,
		 uint32_t pasid, int users, int64_t ret, uint32_t max_pasids)
{
	struct sva_event ev = ev_of(w, SVA_REC_BIND, tgid, dev);

	ev.mm = mm;
	ev.handle = ret ? 0 : handle;
	ev.pasid = ret ? SVA_PASID_NONE : pasid;
	ev.users = ret ? -1 : users;
	ev.ret = ret;
	ev.max_pasids = max_pasids;
	if (!ret) {
		ev.domain = 0xffff888300000000ull;
		ev.domain_type = SVA_DOMAIN_SVA;
	}
	feed(w, &ev);
}

static void unbind(struct world *w, const char *dev, uint32_t tgid, uint64_t handle, int before)
{
	struct sva_event ev = ev_of(w, SVA_REC_UNBIND, tgid, dev);

	ev.handle = handle;
	ev.users = before;
	ev.flags = SVA_EVF_USERS_BEFORE;
	feed(w, &ev);
}

/* __mmdrop -> mm_pasid_drop -> iommu_free_global_pasid (7.2) */
static void mm_drop(struct world *w, uint32_t tid, uint64_t mm, uint32_t pasid)
{
	struct sva_event ev = ev_of(w, SVA_REC_MM_PASID_DROP, tid, "");

	ev.mm = mm;
	ev.pasid = pasid;
	feed(w, &ev);
	ev = ev_of(w, SVA_REC_PASID_FREE, tid, "");
	ev.pasid = pasid;
	feed(w, &ev);
}

static void proc_exit(struct world *w, uint32_t tgid)
{
	struct sva_event ev = ev_of(w, SVA_REC_PROC_EXIT, tgid, "");

	ev.flags = SVA_EVF_GROUP_DEAD;
	feed(w, &ev);
}

static char *render(struct world *w, enum metrics_format fmt, double now)
{
	char *buf = NULL;
	size_t len = 0;

	metrics_gather(w->m, w->c);
	if (metrics_render(w->m, fmt, now, &buf, &len))
		return NULL;
	if (strlen(buf) != len) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Prints where two texts part, for a failing exact comparison. */
static void show_diff(const char *got, const char *want)
{
	size_t i = 0, line = 1;

	while (got[i] && got[i] == want[i]) {
		line += got[i] == '\n';
		i++;
	}
	printf("# texts differ at line %zu:\n# got:  %.80s\n# want: %.80s\n", line, got + i,
	       want + i);
}

#define EXPECT_TEXT(got, want)                                       \
	do {                                                         \
		const char *g_ = (got);                              \
		ASSERT_TRUE(g_ != NULL);                             \
		if (strcmp(g_, (want)))                              \
			show_diff(g_, (want));                       \
		EXPECT_STREQ(g_, (want));                            \
	} while (0)

/*
 * The story: a bind and unbind on mock0, a second process bound on mock0 that exits and leaks
 * its bond after the grace, a failed bind on 0000:6a:01.0 (EBUSY); one lost record, the kernel's
 * look-up counters, probe info. Every family, in the Prometheus text format.
 */
static void story(struct world *w)
{
	struct metrics_info info = {
		.version = "0.1.0",
		.libbpf = "v1.1",
		.kernel_release = "7.2.13",
		.machine = "x86_64",
		.probe_mode = "auto",
		.nr_probes = 2,
		.probes = { { "iommu_sva_bind_device", "fexit" },
			    { "sched_process_exit", "raw_tp" } },
		.start_time_s = 1700000000.5,
	};
	const uint64_t lookups[SVA_LOOKUP__MAX] = { 7, 2, 1, 0 };

	world_init(w);
	metrics_set_info(w->m, &info);
	bind(w, "mock0", 10, MM1, H1, 1, 1, 0, 1024);
	unbind(w, "mock0", 10, H1, 1);
	bind(w, "mock0", 11, MM2, H2, 2, 1, 0, 1024);
	bind(w, "0000:6a:01.0", 12, MM1, 0, 0, -1, -16, 0);
	proc_exit(w, 11);
	correlator_tick(w->c, w->now + 2500 * MS); /* the grace: H2 is a leak */
	metrics_set_lost(w->m, 1, 0);
	metrics_set_lookups(w->m, lookups);
}

static const char prometheus_story[] =
	"# HELP sva_trace_build_info sva-trace's version and the libbpf it runs with.\n"
	"# TYPE sva_trace_build_info gauge\n"
	"sva_trace_build_info{version=\"0.1.0\",libbpf=\"v1.1\"} 1\n"
	"# HELP sva_trace_kernel_info The traced kernel and the probe mode asked for.\n"
	"# TYPE sva_trace_kernel_info gauge\n"
	"sva_trace_kernel_info{release=\"7.2.13\",machine=\"x86_64\",probe_mode=\"auto\"} 1\n"
	"# HELP sva_trace_probe_info One series per attached probe: the kernel function and how it is attached.\n"
	"# TYPE sva_trace_probe_info gauge\n"
	"sva_trace_probe_info{function=\"iommu_sva_bind_device\",mode=\"fexit\"} 1\n"
	"sva_trace_probe_info{function=\"sched_process_exit\",mode=\"raw_tp\"} 1\n"
	"# HELP sva_trace_start_time_seconds When tracing started, in seconds since the epoch.\n"
	"# TYPE sva_trace_start_time_seconds gauge\n"
	"sva_trace_start_time_seconds 1700000000.5\n"
	"# HELP sva_operations_total SVA/PASID API calls by operation, device and result (ok or the errno name).\n"
	"# TYPE sva_operations_total counter\n"
	"sva_operations_total{op=\"bind\",device=\"0000:6a:01.0\",result=\"EBUSY\"} 1\n"
	"sva_operations_total{op=\"bind\",device=\"mock0\",result=\"ok\"} 2\n"
	"sva_operations_total{op=\"unbind\",device=\"mock0\",result=\"ok\"} 1\n"
	"# HELP sva_records_total Records read by type, every one the probes made (exits and mm teardown included).\n"
	"# TYPE sva_records_total counter\n"
	"sva_records_total{type=\"bind\"} 3\n"
	"sva_records_total{type=\"unbind\"} 1\n"
	"sva_records_total{type=\"attach\"} 0\n"
	"sva_records_total{type=\"replace\"} 0\n"
	"sva_records_total{type=\"detach\"} 0\n"
	"sva_records_total{type=\"lookup\"} 0\n"
	"sva_records_total{type=\"pasid_alloc\"} 0\n"
	"sva_records_total{type=\"pasid_free\"} 0\n"
	"sva_records_total{type=\"mm_pasid_drop\"} 0\n"
	"sva_records_total{type=\"process_exit\"} 1\n"
	"sva_records_total{type=\"mm_exit\"} 0\n"
	"# HELP sva_lookups_total iommu_attach_handle_get calls by result, counted in the kernel.\n"
	"# TYPE sva_lookups_total counter\n"
	"sva_lookups_total{result=\"handle\"} 7\n"
	"sva_lookups_total{result=\"ENOENT\"} 2\n"
	"sva_lookups_total{result=\"EBUSY\"} 1\n"
	"sva_lookups_total{result=\"other\"} 0\n"
	"# HELP sva_bonds Live SVA bonds (bound handles) per device.\n"
	"# TYPE sva_bonds gauge\n"
	"sva_bonds{device=\"0000:6a:01.0\"} 0\n"
	"sva_bonds{device=\"mock0\"} 1\n"
	"# HELP sva_leaked_bonds Live bonds reported as leaked (bound after their owner went).\n"
	"# TYPE sva_leaked_bonds gauge\n"
	"sva_leaked_bonds{device=\"0000:6a:01.0\"} 0\n"
	"sva_leaked_bonds{device=\"mock0\"} 1\n"
	"# HELP sva_attachments Live PASID attachments per device.\n"
	"# TYPE sva_attachments gauge\n"
	"sva_attachments{device=\"0000:6a:01.0\"} 0\n"
	"sva_attachments{device=\"mock0\"} 0\n"
	"# HELP sva_pasids PASIDs in use per device (by a live bond or attachment).\n"
	"# TYPE sva_pasids gauge\n"
	"sva_pasids{device=\"0000:6a:01.0\"} 0\n"
	"sva_pasids{device=\"mock0\"} 1\n"
	"# HELP sva_device_max_pasids The device's max_pasids as the kernel reported it (devices that reported one).\n"
	"# TYPE sva_device_max_pasids gauge\n"
	"sva_device_max_pasids{device=\"mock0\"} 1024\n"
	"# HELP sva_pasid_pressure_ratio PASIDs in use divided by the PASIDs usable (1 to max_pasids - 1), per device that reported max_pasids: those attached in its iommu group and those the global allocator has given to any process or driver.\n"
	"# TYPE sva_pasid_pressure_ratio gauge\n"
	/* 2 of 1023: PASID 1 stays MM1's after its unbind (no mm_pasid_drop), PASID 2 MM2's */
	"sva_pasid_pressure_ratio{device=\"mock0\"} 0.0019550342130987292\n"
	"# HELP sva_findings_total Findings made, by kind and severity.\n"
	"# TYPE sva_findings_total counter\n"
	"sva_findings_total{kind=\"leak\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"leak\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"leak\",severity=\"error\"} 1\n"
	"sva_findings_total{kind=\"leak\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"refcount\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"refcount\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"refcount\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"refcount\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"type-mismatch\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"type-mismatch\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"type-mismatch\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"type-mismatch\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"cross-mm\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"cross-mm\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"cross-mm\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"cross-mm\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"pasid-state\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"pasid-state\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"pasid-state\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"pasid-state\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"bind-error\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"bind-error\",severity=\"warning\"} 1\n"
	"sva_findings_total{kind=\"bind-error\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"bind-error\",severity=\"critical\"} 0\n"
	"sva_findings_total{kind=\"pasid-pressure\",severity=\"info\"} 0\n"
	"sva_findings_total{kind=\"pasid-pressure\",severity=\"warning\"} 0\n"
	"sva_findings_total{kind=\"pasid-pressure\",severity=\"error\"} 0\n"
	"sva_findings_total{kind=\"pasid-pressure\",severity=\"critical\"} 0\n"
	"# HELP sva_findings_open Findings made and not retracted since tracing started, by kind.\n"
	"# TYPE sva_findings_open gauge\n"
	"sva_findings_open{kind=\"leak\"} 1\n"
	"sva_findings_open{kind=\"refcount\"} 0\n"
	"sva_findings_open{kind=\"type-mismatch\"} 0\n"
	"sva_findings_open{kind=\"cross-mm\"} 0\n"
	"sva_findings_open{kind=\"pasid-state\"} 0\n"
	"sva_findings_open{kind=\"bind-error\"} 1\n"
	"sva_findings_open{kind=\"pasid-pressure\"} 0\n"
	"# HELP sva_findings_retracted_total Findings retracted by a later record (a leak's bond unbound late), by kind.\n"
	"# TYPE sva_findings_retracted_total counter\n"
	"# HELP sva_lost_records_total Records lost (ring buffer full, probe hits missed, sequence gaps).\n"
	"# TYPE sva_lost_records_total counter\n"
	"sva_lost_records_total 1\n"
	"# HELP sva_bad_records_total Records that failed to decode, dropped.\n"
	"# TYPE sva_bad_records_total counter\n"
	"sva_bad_records_total 0\n"
	"# HELP sva_trace_snapshot_timestamp_seconds When this snapshot was rendered, in seconds since the epoch.\n"
	"# TYPE sva_trace_snapshot_timestamp_seconds gauge\n"
	"sva_trace_snapshot_timestamp_seconds 1700000100.25\n";

TEST(prometheus_text_of_a_story_is_exact)
{
	struct world w;
	char *text;

	story(&w);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 1700000100.25);
	EXPECT_TEXT(text, prometheus_story);
	free(text);
	world_free(&w);
}

TEST(openmetrics_names_families_without_suffixes_and_ends_with_eof)
{
	struct world w;
	char *text;

	story(&w);
	text = render(&w, METRICS_FORMAT_OPENMETRICS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "# HELP sva_trace_build sva-trace's version and the libbpf it runs with.\n"
				 "# TYPE sva_trace_build info\n"
				 "sva_trace_build_info{version=\"0.1.0\",libbpf=\"v1.1\"} 1\n") == text);
	EXPECT_TRUE(strstr(text, "# TYPE sva_operations counter\n"
				 "sva_operations_total{op=\"bind\",device=\"0000:6a:01.0\",result=\"EBUSY\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "# TYPE sva_lost_records counter\nsva_lost_records_total 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "# TYPE sva_bonds gauge\n") != NULL);
	EXPECT_TRUE(strstr(text, "_total counter") == NULL);
	/* no snapshot time asked (0): not rendered */
	EXPECT_TRUE(strstr(text, "snapshot_timestamp") == NULL);
	EXPECT_TRUE(strlen(text) > 6 && !strcmp(text + strlen(text) - 6, "# EOF\n"));
	free(text);
	world_free(&w);
}

TEST(a_late_unbind_retracts_the_leak_and_empties_the_gauges)
{
	struct world w;
	char *text;

	story(&w);
	unbind(&w, "mock0", 99, H2, 1); /* a kworker releases the leaked bond */
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "sva_findings_open{kind=\"leak\"} 0\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_findings_retracted_total{kind=\"leak\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_findings_total{kind=\"leak\",severity=\"error\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_bonds{device=\"mock0\"} 0\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_leaked_bonds{device=\"mock0\"} 0\n") != NULL);
	/* unbound, but both mms still hold their PASIDs: nobody else can have them */
	EXPECT_TRUE(strstr(text, "sva_pasid_pressure_ratio{device=\"mock0\"} 0.0019550342130987292\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_operations_total{op=\"unbind\",device=\"mock0\",result=\"ok\"} 2\n") != NULL);
	free(text);
	mm_drop(&w, 0, MM1, 1);
	mm_drop(&w, 0, MM2, 2);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "sva_pasid_pressure_ratio{device=\"mock0\"} 0\n") != NULL);
	free(text);
	world_free(&w);
}

TEST(a_replay_has_no_kernel_probe_or_lookup_series)
{
	struct metrics_info info = { .version = "0.1.0" };
	struct world w;
	char *text;

	world_init(&w);
	metrics_set_info(w.m, &info);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "sva_trace_build_info{version=\"0.1.0\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "kernel_info") == NULL);
	EXPECT_TRUE(strstr(text, "probe_info") == NULL);
	EXPECT_TRUE(strstr(text, "sva_lookups_total") == NULL);
	EXPECT_TRUE(strstr(text, "start_time") == NULL);
	/* no device seen: the per-device families have no series */
	EXPECT_TRUE(strstr(text, "# TYPE sva_bonds gauge\n# HELP sva_leaked_bonds") != NULL);
	free(text);
	world_free(&w);
}

TEST(device_labels_are_bounded_and_escaped)
{
	struct world w;
	char dev[SVA_DEV_NAME_LEN], *text;

	world_init(&w);
	for (int i = 0; i < METRICS_MAX_DEVICES + 10; i++) {
		snprintf(dev, sizeof(dev), "dev%03d", i);
		bind(&w, dev, 10, MM1, 0, 0, -1, -19, 0);
	}
	/* a quote, a backslash and bytes that are not printable ASCII */
	bind(&w, "a\"b\\c\x01\xff", 10, MM1, 0, 0, -1, -19, 0);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "{op=\"bind\",device=\"dev063\",result=\"ENODEV\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "device=\"dev064\"") == NULL);
	/* the 10 devices past the limit and the odd one count under _other */
	EXPECT_TRUE(strstr(text, "{op=\"bind\",device=\"_other\",result=\"ENODEV\"} 11\n") != NULL);
	EXPECT_TRUE(strstr(text, "sva_bonds{device=\"_other\"} 0\n") != NULL);
	free(text);
	world_free(&w);

	world_init(&w);
	bind(&w, "a\"b\\c\x01\xff", 10, MM1, 0, 0, -1, -19, 0);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "device=\"a\\\"b\\\\c??\",result=\"ENODEV\"} 1\n") != NULL);
	free(text);
	world_free(&w);
}

TEST(results_are_ok_errno_names_or_other)
{
	struct world w;
	struct sva_event ev;
	char *text;

	world_init(&w);
	ev = ev_of(&w, SVA_REC_PASID_ALLOC, 10, "mock0");
	ev.ret = 5; /* the PASID */
	feed(&w, &ev);
	ev = ev_of(&w, SVA_REC_ATTACH, 10, "mock0");
	ev.ret = -5000; /* not an errno */
	feed(&w, &ev);
	ev = ev_of(&w, SVA_REC_LOOKUP, 10, "mock0");
	ev.ret = -2; /* look-ups are the kernel counters' business */
	feed(&w, &ev);
	text = render(&w, METRICS_FORMAT_PROMETHEUS, 0);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "{op=\"pasid_alloc\",device=\"mock0\",result=\"ok\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "{op=\"attach\",device=\"mock0\",result=\"other\"} 1\n") != NULL);
	EXPECT_TRUE(strstr(text, "op=\"lookup\"") == NULL);
	EXPECT_TRUE(strstr(text, "sva_records_total{type=\"lookup\"} 1\n") != NULL);
	free(text);
	world_free(&w);
}

TEST(listen_specs_parse_or_say_what_is_wrong)
{
	char host[64], err[128];
	uint16_t port = 0;

	ASSERT_EQ(metrics_parse_listen("9464", host, sizeof(host), &port, err, sizeof(err)), 0);
	EXPECT_STREQ(host, "127.0.0.1");
	EXPECT_EQ(port, 9464);
	ASSERT_EQ(metrics_parse_listen("0.0.0.0:80", host, sizeof(host), &port, err, sizeof(err)), 0);
	EXPECT_STREQ(host, "0.0.0.0");
	EXPECT_EQ(port, 80);
	ASSERT_EQ(metrics_parse_listen("[::1]:9464", host, sizeof(host), &port, err, sizeof(err)), 0);
	EXPECT_STREQ(host, "::1");
	ASSERT_EQ(metrics_parse_listen("localhost:65535", host, sizeof(host), &port, err, sizeof(err)), 0);
	EXPECT_STREQ(host, "localhost");
	EXPECT_EQ(port, 65535);
	EXPECT_EQ(metrics_parse_listen("0", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_TRUE(strstr(err, "'0' is not a number from 1 to 65535") != NULL);
	EXPECT_EQ(metrics_parse_listen("65536", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(metrics_parse_listen("0x10", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(metrics_parse_listen("host:", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(metrics_parse_listen(":9464", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_TRUE(strstr(err, "empty") != NULL);
	EXPECT_EQ(metrics_parse_listen("::1:9464", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_TRUE(strstr(err, "[ADDR]:PORT") != NULL);
	EXPECT_EQ(metrics_parse_listen("", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(metrics_parse_listen("[]:1", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
}
