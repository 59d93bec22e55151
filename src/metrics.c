// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Metrics and their text renderer (metrics.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "metrics.h"
#include "options.h"
#include "u64map.h"

/* Device index of records without a device (process exits, mm drops): label "". */
#define NO_DEVICE 0xffffu
/* Result codes of an operation's series: 0 ok, 1..4095 the errno, this one any other value. */
#define RESULT_OTHER 4096u

const char *const metrics_lookup_result_names[SVA_LOOKUP__MAX] = {
	[SVA_LOOKUP_HANDLE] = "handle",
	[SVA_LOOKUP_ENOENT] = "ENOENT",
	[SVA_LOOKUP_EBUSY] = "EBUSY",
	[SVA_LOOKUP_OTHER] = "other",
};

struct device_gauges {
	uint64_t bonds, leaked, attachments, pasids;
	/* its group's pasid-pressure (correlate.h), usable 0: not known */
	uint32_t group_in_use, group_usable;
};

struct metrics {
	/* label values of devices, in order of first sight; the last slot is "_other" */
	char devices[METRICS_MAX_DEVICES + 1][SVA_DEV_NAME_LEN + 1];
	int nr_devices;
	uint16_t last_device; /* the previous look-up's answer, tried first */
	uint32_t max_pasids[METRICS_MAX_DEVICES + 1]; /* 0: unknown */
	int32_t group[METRICS_MAX_DEVICES + 1]; /* its iommu group + 1; 0: unknown */
	struct device_gauges gauges[METRICS_MAX_DEVICES + 1];
	bool gathered;
	/* (type << 40 | device << 24 | result) -> count */
	struct u64map ops;
	uint64_t records[SVA_REC__MAX];
	uint64_t findings[FINDING__MAX][SEV_CRITICAL + 1];
	uint64_t retracted[FINDING__MAX];
	uint64_t lost, bad_records;
	bool have_lookups;
	uint64_t lookups[SVA_LOOKUP__MAX];
	bool have_info;
	struct metrics_info info;
	char strings[8][64]; /* copies of info's strings */
	char probe_names[METRICS_MAX_PROBES][2][48];
	struct u64map pasid_set; /* metrics_gather's scratch: (device << 32 | pasid) */
};

const char *metrics_content_type(enum metrics_format fmt)
{
	return fmt == METRICS_FORMAT_OPENMETRICS ?
		       "application/openmetrics-text; version=1.0.0; charset=utf-8" :
		       "text/plain; version=0.0.4; charset=utf-8";
}

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (u64map_init(&m->ops, 64) || u64map_init(&m->pasid_set, 64)) {
		metrics_free(m);
		return NULL;
	}
	snprintf(m->devices[METRICS_MAX_DEVICES], sizeof(m->devices[0]), "%s",
		 METRICS_OTHER_DEVICE);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	u64map_free(&m->ops);
	u64map_free(&m->pasid_set);
	free(m);
}

static const char *keep_string(struct metrics *m, int slot, const char *s)
{
	if (!s)
		return NULL;
	snprintf(m->strings[slot], sizeof(m->strings[slot]), "%s", s);
	return m->strings[slot];
}

void metrics_set_info(struct metrics *m, const struct metrics_info *info)
{
	m->info = *info;
	m->info.version = keep_string(m, 0, info->version);
	m->info.libbpf = keep_string(m, 1, info->libbpf);
	m->info.kernel_release = keep_string(m, 2, info->kernel_release);
	m->info.machine = keep_string(m, 3, info->machine);
	m->info.probe_mode = keep_string(m, 4, info->probe_mode);
	if (m->info.nr_probes > METRICS_MAX_PROBES)
		m->info.nr_probes = METRICS_MAX_PROBES;
	for (int i = 0; i < m->info.nr_probes; i++) {
		snprintf(m->probe_names[i][0], sizeof(m->probe_names[i][0]), "%s",
			 info->probes[i].function ? info->probes[i].function : "");
		snprintf(m->probe_names[i][1], sizeof(m->probe_names[i][1]), "%s",
			 info->probes[i].mode ? info->probes[i].mode : "");
		m->info.probes[i].function = m->probe_names[i][0];
		m->info.probes[i].mode = m->probe_names[i][1];
	}
	m->have_info = true;
}

/*
 * A device name as a label value: printable ASCII kept, anything else (the kernel's names are
 * bytes, Prometheus wants UTF-8) becomes '?'. Escaping for the text format comes later.
 */
static void device_label(char *out, const char *name)
{
	size_t i;

	for (i = 0; i < SVA_DEV_NAME_LEN && name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
}

/* The device's index, added on first sight; "_other" past the limit; NO_DEVICE for "". */
static uint16_t device_index(struct metrics *m, const char *name)
{
	char label[SVA_DEV_NAME_LEN + 1];

	if (!name[0])
		return NO_DEVICE;
	device_label(label, name);
	if (m->last_device < m->nr_devices && !strcmp(m->devices[m->last_device], label))
		return m->last_device;
	for (int i = 0; i < m->nr_devices; i++) {
		if (!strcmp(m->devices[i], label))
			return m->last_device = (uint16_t)i;
	}
	if (m->nr_devices == METRICS_MAX_DEVICES)
		return METRICS_MAX_DEVICES;
	strcpy(m->devices[m->nr_devices], label);
	return m->last_device = (uint16_t)m->nr_devices++;
}

/* The operations counted in sva_operations_total: the kernel's SVA/PASID API calls. */
static bool is_operation(unsigned int type)
{
	switch (type) {
	case SVA_REC_BIND:
	case SVA_REC_UNBIND:
	case SVA_REC_ATTACH:
	case SVA_REC_REPLACE:
	case SVA_REC_DETACH:
	case SVA_REC_PASID_ALLOC:
	case SVA_REC_PASID_FREE:
	case SVA_REC_MM_PASID_DROP:
		return true;
	default:
		/* look-ups are counted in the kernel (sva_lookups_total); exits are not calls */
		return false;
	}
}

void metrics_event(struct metrics *m, const struct sva_event *ev)
{
	uint64_t key, count = 0;
	uint32_t result;
	uint16_t dev;

	if (ev->type >= SVA_REC__MAX)
		return;
	m->records[ev->type]++;
	if (!is_operation(ev->type))
		return;
	dev = device_index(m, ev->dev_name);
	if (dev != NO_DEVICE && ev->max_pasids)
		m->max_pasids[dev] = ev->max_pasids;
	if (dev != NO_DEVICE && dev < METRICS_MAX_DEVICES && ev->group_id >= 0)
		m->group[dev] = ev->group_id + 1;
	/* pasid_alloc returns the PASID: any value >= 0 is a success */
	if (ev->ret >= 0)
		result = 0;
	else if (ev->ret >= -4095 && sva_errno_name(ev->ret))
		result = (uint32_t)-ev->ret;
	else
		result = RESULT_OTHER;
	key = (uint64_t)ev->type << 40 | (uint64_t)dev << 24 | result;
	u64map_get(&m->ops, key, &count);
	/* Out of memory: the series is not counted (bounded: types x devices x errnos). */
	u64map_put(&m->ops, key, count + 1);
}

void metrics_finding(struct metrics *m, const struct finding *f)
{
	if ((unsigned int)f->kind < FINDING__MAX && (unsigned int)f->severity <= SEV_CRITICAL)
		m->findings[f->kind][f->severity]++;
}

void metrics_resolved(struct metrics *m, const struct resolution *r)
{
	if ((unsigned int)r->kind < FINDING__MAX)
		m->retracted[r->kind]++;
}

void metrics_set_lost(struct metrics *m, uint64_t lost, uint64_t bad_records)
{
	m->lost = lost;
	m->bad_records = bad_records;
}

void metrics_set_lookups(struct metrics *m, const uint64_t totals[SVA_LOOKUP__MAX])
{
	memcpy(m->lookups, totals, sizeof(m->lookups));
	m->have_lookups = true;
}

static void count_pasid(struct metrics *m, uint16_t dev, uint32_t pasid)
{
	uint64_t key = (uint64_t)dev << 32 | pasid;

	/* no scratch set (out of memory at the gather): PASIDs are not counted */
	if (!m->pasid_set.cap || pasid == SVA_PASID_NONE || u64map_get(&m->pasid_set, key, NULL))
		return;
	if (!u64map_put(&m->pasid_set, key, 1))
		m->gauges[dev].pasids++;
}

static void gather_bond(const struct bond *b, void *ctx)
{
	struct metrics *m = ctx;
	uint16_t dev = device_index(m, b->dev_name);

	if (dev == NO_DEVICE)
		return;
	if (dev < METRICS_MAX_DEVICES && b->group_id >= 0)
		m->group[dev] = b->group_id + 1;
	m->gauges[dev].bonds++;
	if (b->leak_reported)
		m->gauges[dev].leaked++;
	count_pasid(m, dev, b->pasid);
}

static void gather_attachment(const struct attachment *a, void *ctx)
{
	struct metrics *m = ctx;
	uint16_t dev;

	if (!a->attached)
		return;
	dev = device_index(m, a->dev_name);
	if (dev == NO_DEVICE)
		return;
	if (dev < METRICS_MAX_DEVICES && a->group_id >= 0)
		m->group[dev] = a->group_id + 1;
	m->gauges[dev].attachments++;
	count_pasid(m, dev, a->pasid);
}

/* Each device of the group gets the group's count (its PASIDs and the global ones). */
static void gather_pressure(const struct pasid_pressure *p, void *ctx)
{
	struct metrics *m = ctx;

	if (!pasid_pressure_usable(p))
		return;
	for (int i = 0; i < m->nr_devices && i < METRICS_MAX_DEVICES; i++) {
		if (m->group[i] != p->group_id + 1)
			continue;
		m->gauges[i].group_in_use = p->in_use;
		m->gauges[i].group_usable = pasid_pressure_usable(p);
	}
}

void metrics_gather(struct metrics *m, const struct correlator *c)
{
	memset(m->gauges, 0, sizeof(m->gauges));
	u64map_free(&m->pasid_set);
	if (u64map_init(&m->pasid_set, 64))
		memset(&m->pasid_set, 0, sizeof(m->pasid_set));
	correlator_for_each_bond(c, gather_bond, m);
	correlator_for_each_attachment(c, gather_attachment, m);
	correlator_for_each_pasid_pressure(c, gather_pressure, m);
	m->gathered = true;
}

/* ---- the renderer ---- */

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len)
			break;
		size_t cap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		char *nb = realloc(t->buf, cap);

		if (!nb) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
	t->len += (size_t)n;
}

/* A label value with the text format's escapes (backslash, double quote, newline). */
static void put_value(struct text *t, const char *s)
{
	char esc[2 * 64 + 1];
	size_t o = 0;

	for (; *s && o < sizeof(esc) - 2; s++) {
		if (*s == '\\' || *s == '"') {
			esc[o++] = '\\';
			esc[o++] = *s;
		} else if (*s == '\n') {
			esc[o++] = '\\';
			esc[o++] = 'n';
		} else {
			esc[o++] = *s;
		}
	}
	esc[o] = '\0';
	put(t, "\"%s\"", esc);
}

enum family_type { COUNTER, GAUGE, INFO };

struct renderer {
	struct text t;
	enum metrics_format fmt;
};

/*
 * HELP and TYPE of a family. Prometheus 0.0.4 names counters with their _total and has no
 * info type (a gauge named *_info); OpenMetrics names the family without the suffix.
 */
static void family(struct renderer *r, const char *base, enum family_type type, const char *help)
{
	bool om = r->fmt == METRICS_FORMAT_OPENMETRICS;
	const char *suffix = "";
	const char *tname = type == COUNTER ? "counter" : type == INFO && om ? "info" : "gauge";

	if (!om)
		suffix = type == COUNTER ? "_total" : type == INFO ? "_info" : "";
	put(&r->t, "# HELP %s%s %s\n# TYPE %s%s %s\n", base, suffix, help, base, suffix, tname);
}

/* A sample's name: the family's, with _total (counters) or _info (info) in both formats. */
static void sample(struct renderer *r, const char *base, enum family_type type)
{
	put(&r->t, "%s%s", base, type == COUNTER ? "_total" : type == INFO ? "_info" : "");
}

static void label(struct renderer *r, bool first, const char *name, const char *value)
{
	put(&r->t, "%s%s=", first ? "{" : ",", name);
	put_value(&r->t, value);
}

static void value_u64(struct renderer *r, bool labels, uint64_t v)
{
	put(&r->t, "%s %" PRIu64 "\n", labels ? "}" : "", v);
}

/* Gauges with fractions (ratios, times): shortest exact-enough form, the same every run. */
static void value_double(struct renderer *r, bool labels, double v)
{
	put(&r->t, "%s %.17g\n", labels ? "}" : "", v);
}

struct op_row {
	const char *op;
	const char *device;
	char result[24];
	uint64_t count;
};

static int op_row_cmp(const void *a, const void *b)
{
	const struct op_row *x = a, *y = b;
	int c = strcmp(x->op, y->op);

	if (!c)
		c = strcmp(x->device, y->device);
	return c ? c : strcmp(x->result, y->result);
}

/* Indexes of the known devices sorted by label (the gauges' order). */
static int device_order(const struct metrics *m, int *order)
{
	int n = m->nr_devices;

	for (int i = 0; i < n; i++)
		order[i] = i;
	/* insertion sort: at most 64 */
	for (int i = 1; i < n; i++) {
		int v = order[i], j = i;

		while (j > 0 && strcmp(m->devices[order[j - 1]], m->devices[v]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	/* "_other" last, when something counted there */
	if (m->nr_devices == METRICS_MAX_DEVICES)
		order[n++] = METRICS_MAX_DEVICES;
	return n;
}

static int render_operations(struct renderer *r, const struct metrics *m)
{
	struct op_row *rows = NULL;
	size_t nr = 0;

	family(r, "sva_operations", COUNTER,
	       "SVA/PASID API calls by operation, device and result (ok or the errno name).");
	if (m->ops.len) {
		rows = calloc(m->ops.len, sizeof(*rows));
		if (!rows)
			return -ENOMEM;
	}
	u64map_for_each(&m->ops, key, count, {
		unsigned int type = (unsigned int)(key >> 40);
		unsigned int dev = (unsigned int)(key >> 24) & 0xffff;
		uint32_t result = (uint32_t)key & 0xffffff;
		struct op_row *row = &rows[nr++];

		row->op = sva_rec_type_name(type);
		row->device = dev == NO_DEVICE ? "" : m->devices[dev];
		if (!result)
			strcpy(row->result, "ok");
		else if (result == RESULT_OTHER)
			strcpy(row->result, "other");
		else
			snprintf(row->result, sizeof(row->result), "%s",
				 sva_errno_name(-(int64_t)result));
		row->count = count;
	});
	if (nr) /* qsort(NULL, 0) is undefined: UBSan stops the sanitized test_metrics */
		qsort(rows, nr, sizeof(*rows), op_row_cmp);
	for (size_t i = 0; i < nr; i++) {
		sample(r, "sva_operations", COUNTER);
		label(r, true, "op", rows[i].op);
		label(r, false, "device", rows[i].device);
		label(r, false, "result", rows[i].result);
		value_u64(r, true, rows[i].count);
	}
	free(rows);
	return 0;
}

static void render_info(struct renderer *r, const struct metrics *m)
{
	const struct metrics_info *in = &m->info;

	family(r, "sva_trace_build", INFO, "sva-trace's version and the libbpf it runs with.");
	sample(r, "sva_trace_build", INFO);
	label(r, true, "version", in->version ? in->version : "");
	if (in->libbpf)
		label(r, false, "libbpf", in->libbpf);
	value_u64(r, true, 1);
	if (in->kernel_release) {
		family(r, "sva_trace_kernel", INFO, "The traced kernel and the probe mode asked for.");
		sample(r, "sva_trace_kernel", INFO);
		label(r, true, "release", in->kernel_release);
		label(r, false, "machine", in->machine ? in->machine : "");
		label(r, false, "probe_mode", in->probe_mode ? in->probe_mode : "");
		value_u64(r, true, 1);
		family(r, "sva_trace_probe", INFO,
		       "One series per attached probe: the kernel function and how it is attached.");
		for (int i = 0; i < in->nr_probes; i++) {
			sample(r, "sva_trace_probe", INFO);
			label(r, true, "function", in->probes[i].function);
			label(r, false, "mode", in->probes[i].mode);
			value_u64(r, true, 1);
		}
	}
	if (in->start_time_s > 0) {
		family(r, "sva_trace_start_time_seconds", GAUGE,
		       "When tracing started, in seconds since the epoch.");
		sample(r, "sva_trace_start_time_seconds", GAUGE);
		value_double(r, false, in->start_time_s);
	}
}

static void render_device_gauge(struct renderer *r, const struct metrics *m, const int *order,
				int nd, const char *name, const char *help, size_t field)
{
	family(r, name, GAUGE, help);
	for (int i = 0; i < nd; i++) {
		const struct device_gauges *g = &m->gauges[order[i]];

		sample(r, name, GAUGE);
		label(r, true, "device", m->devices[order[i]]);
		value_u64(r, true, *(const uint64_t *)((const char *)g + field));
	}
}

int metrics_render(const struct metrics *m, enum metrics_format fmt, double now_s, char **buf,
		   size_t *len)
{
	struct renderer r = { .fmt = fmt };
	int order[METRICS_MAX_DEVICES + 1];
	int nd = device_order(m, order);

	r.t.cap = 8192;
	r.t.buf = malloc(r.t.cap);
	if (!r.t.buf)
		return -ENOMEM;
	r.t.buf[0] = '\0';

	if (m->have_info)
		render_info(&r, m);
	if (render_operations(&r, m)) {
		free(r.t.buf);
		return -ENOMEM;
	}

	family(&r, "sva_records", COUNTER,
	       "Records read by type, every one the probes made (exits and mm teardown included).");
	for (unsigned int type = 1; type < SVA_REC__MAX; type++) {
		sample(&r, "sva_records", COUNTER);
		label(&r, true, "type", sva_rec_type_name(type));
		value_u64(&r, true, m->records[type]);
	}

	if (m->have_lookups) {
		family(&r, "sva_lookups", COUNTER,
		       "iommu_attach_handle_get calls by result, counted in the kernel.");
		for (int i = 0; i < SVA_LOOKUP__MAX; i++) {
			sample(&r, "sva_lookups", COUNTER);
			label(&r, true, "result", metrics_lookup_result_names[i]);
			value_u64(&r, true, m->lookups[i]);
		}
	}

	if (m->gathered) {
		render_device_gauge(&r, m, order, nd, "sva_bonds",
				    "Live SVA bonds (bound handles) per device.",
				    offsetof(struct device_gauges, bonds));
		render_device_gauge(&r, m, order, nd, "sva_leaked_bonds",
				    "Live bonds reported as leaked (bound after their owner went).",
				    offsetof(struct device_gauges, leaked));
		render_device_gauge(&r, m, order, nd, "sva_attachments",
				    "Live PASID attachments per device.",
				    offsetof(struct device_gauges, attachments));
		render_device_gauge(&r, m, order, nd, "sva_pasids",
				    "PASIDs in use per device (by a live bond or attachment).",
				    offsetof(struct device_gauges, pasids));
	}
	family(&r, "sva_device_max_pasids", GAUGE,
	       "The device's max_pasids as the kernel reported it (devices that reported one).");
	for (int i = 0; i < nd; i++) {
		if (!m->max_pasids[order[i]])
			continue;
		sample(&r, "sva_device_max_pasids", GAUGE);
		label(&r, true, "device", m->devices[order[i]]);
		value_u64(&r, true, m->max_pasids[order[i]]);
	}
	if (m->gathered) {
		family(&r, "sva_pasid_pressure_ratio", GAUGE,
		       "PASIDs in use divided by the PASIDs usable (1 to max_pasids - 1), per device "
		       "that reported max_pasids: those attached in its iommu group and those the "
		       "global allocator has given to any process or driver.");
		for (int i = 0; i < nd; i++) {
			const struct device_gauges *g = &m->gauges[order[i]];

			/* PASID 0 is the device's RID: never attached by PASID (correlate.h) */
			if (m->max_pasids[order[i]] < 2)
				continue;
			sample(&r, "sva_pasid_pressure_ratio", GAUGE);
			label(&r, true, "device", m->devices[order[i]]);
			if (g->group_usable) /* the group's smallest device sets its range */
				value_double(&r, true, (double)g->group_in_use / g->group_usable);
			else
				value_double(&r, true, (double)g->pasids /
							       (m->max_pasids[order[i]] - 1));
		}
	}

	/*
	 * Every kind and severity, zeros too: increase() sees a series' first rise only if the
	 * series existed before it (alerts.yml's SVATypeMismatch). 24 series.
	 */
	family(&r, "sva_findings", COUNTER, "Findings made, by kind and severity.");
	for (int k = 0; k < FINDING__MAX; k++) {
		for (int s = 0; s <= SEV_CRITICAL; s++) {
			sample(&r, "sva_findings", COUNTER);
			label(&r, true, "kind", finding_kind_name(k));
			label(&r, false, "severity", finding_severity_name(s));
			value_u64(&r, true, m->findings[k][s]);
		}
	}
	family(&r, "sva_findings_open", GAUGE,
	       "Findings made and not retracted since tracing started, by kind.");
	for (int k = 0; k < FINDING__MAX; k++) {
		uint64_t made = 0;

		for (int s = 0; s <= SEV_CRITICAL; s++)
			made += m->findings[k][s];
		sample(&r, "sva_findings_open", GAUGE);
		label(&r, true, "kind", finding_kind_name(k));
		value_u64(&r, true, made > m->retracted[k] ? made - m->retracted[k] : 0);
	}
	family(&r, "sva_findings_retracted", COUNTER,
	       "Findings retracted by a later record (a leak's bond unbound late), by kind.");
	for (int k = 0; k < FINDING__MAX; k++) {
		if (!m->retracted[k])
			continue;
		sample(&r, "sva_findings_retracted", COUNTER);
		label(&r, true, "kind", finding_kind_name(k));
		value_u64(&r, true, m->retracted[k]);
	}

	family(&r, "sva_lost_records", COUNTER,
	       "Records lost (ring buffer full, probe hits missed, sequence gaps).");
	sample(&r, "sva_lost_records", COUNTER);
	value_u64(&r, false, m->lost);
	family(&r, "sva_bad_records", COUNTER, "Records that failed to decode, dropped.");
	sample(&r, "sva_bad_records", COUNTER);
	value_u64(&r, false, m->bad_records);

	if (now_s > 0) {
		family(&r, "sva_trace_snapshot_timestamp_seconds", GAUGE,
		       "When this snapshot was rendered, in seconds since the epoch.");
		sample(&r, "sva_trace_snapshot_timestamp_seconds", GAUGE);
		value_double(&r, false, now_s);
	}
	if (fmt == METRICS_FORMAT_OPENMETRICS)
		put(&r.t, "# EOF\n");
	if (r.t.oom) {
		free(r.t.buf);
		return -ENOMEM;
	}
	*buf = r.t.buf;
	*len = r.t.len;
	return 0;
}

int metrics_parse_listen(const char *spec, char *host, size_t hostlen, uint16_t *port,
			 char *err, size_t errlen)
{
	const char *colon, *port_s;
	uint64_t v;

	if (!spec || !*spec) {
		snprintf(err, errlen, "expected [ADDR:]PORT, e.g. 9464 or 0.0.0.0:9464");
		return -EINVAL;
	}
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || end == spec + 1) {
			snprintf(err, errlen, "an IPv6 address is written [ADDR]:PORT, e.g. [::1]:9464");
			return -EINVAL;
		}
		if ((size_t)(end - spec - 1) >= hostlen) {
			snprintf(err, errlen, "address too long");
			return -EINVAL;
		}
		snprintf(host, hostlen, "%.*s", (int)(end - spec - 1), spec + 1);
		port_s = end + 2;
	} else if ((colon = strrchr(spec, ':'))) {
		if (colon == spec || memchr(spec, ':', (size_t)(colon - spec))) {
			snprintf(err, errlen, colon == spec ? "the address before ':' is empty" :
							      "an IPv6 address is written [ADDR]:PORT");
			return -EINVAL;
		}
		if ((size_t)(colon - spec) >= hostlen) {
			snprintf(err, errlen, "address too long");
			return -EINVAL;
		}
		snprintf(host, hostlen, "%.*s", (int)(colon - spec), spec);
		port_s = colon + 1;
	} else {
		snprintf(host, hostlen, "127.0.0.1");
		port_s = spec;
	}
	if (parse_u64(port_s, 1, 65535, &v) || !isdigit((unsigned char)port_s[0]) ||
	    (port_s[0] == '0' && port_s[1])) {
		snprintf(err, errlen, "the port '%s' is not a number from 1 to 65535", port_s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}
