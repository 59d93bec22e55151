// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --report: a readable postmortem from an export (findings first, then the
 * bonds still bound, grouped by device and process). Reads with jansson.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "correlate.h"
#include "export.h"
#include "postmortem.h"

static const char *str_or(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

static long long int_or(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool export_file_is_export(const char *path)
{
	json_error_t jerr;
	json_t *root;
	bool yes;
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return false;
	/* An export is one line; a capture's first line is its start record. */
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return false;
	}
	root = json_loadb(line, (size_t)n, 0, &jerr);
	free(line);
	yes = root && !strcmp(str_or(root, "schema", ""), EXPORT_SCHEMA);
	json_decref(root);
	return yes;
}

static int cmp_bond(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(str_or(x, "dev", ""), str_or(y, "dev", ""));

	if (c)
		return c;
	return (int)(int_or(x, "owner_pid", 0) - int_or(y, "owner_pid", 0));
}

int report_export(const char *path, bool json_out, unsigned int fail_on, FILE *out, FILE *err)
{
	json_error_t jerr;
	json_t *root, *findings, *bonds, *kernel, *t;
	json_t **sorted = NULL;
	size_t i, nb;
	const char *last_dev = NULL;
	long long last_pid = -1;
	bool fail = false;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fprintf(err, "sva-trace: --report: %s:%d: not a valid export: %s\n", path, jerr.line,
			jerr.text);
		return 2;
	}
	if (!json_is_object(root) || strcmp(str_or(root, "schema", ""), EXPORT_SCHEMA)) {
		fprintf(err, "sva-trace: --report: %s is not an sva-trace export (no \"schema\": \"%s\"); "
			     "write one with sva-trace --export FILE\n", path, EXPORT_SCHEMA);
		json_decref(root);
		return 2;
	}
	if (int_or(root, "schema_version", 0) > EXPORT_SCHEMA_VERSION)
		fprintf(err, "sva-trace: --report: %s has schema version %lld, newer than this "
			     "build's %d: fields it does not know are left out\n",
			path, int_or(root, "schema_version", 0), EXPORT_SCHEMA_VERSION);
	findings = json_object_get(root, "findings");
	bonds = json_object_get(root, "bonds");
	kernel = json_object_get(root, "kernel");
	t = json_object_get(root, "time");

	for (i = 0; json_is_array(findings) && i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		int k = finding_kind_from_name(str_or(f, "kind", ""));

		/* as live: an uncertain finding (events were lost) does not fail */
		if (k >= 0 && (fail_on & (1u << k)) && !json_is_true(json_object_get(f, "uncertain")))
			fail = true;
	}

	if (json_out) {
		for (i = 0; json_is_array(findings) && i < json_array_size(findings); i++) {
			json_t *f = json_deep_copy(json_array_get(findings, i));
			char *s;

			json_object_set_new(f, "type", json_string("finding"));
			s = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (s)
				fprintf(out, "%s\n", s);
			free(s);
			json_decref(f);
		}
		json_decref(root);
		return fail ? 1 : 0;
	}

	fprintf(out, "sva-trace postmortem of %s\n", path);
	fprintf(out, "kernel %s (%s), boot %s; %s to %s; tool %s\n",
		str_or(kernel, "release", "?"), str_or(kernel, "machine", "?"),
		str_or(kernel, "boot_id", "?"), str_or(t, "start_wall", "?"),
		str_or(t, "end_wall", "?"),
		str_or(json_object_get(root, "tool"), "version", "?"));
	fprintf(out, "export reason: %s; lost events: %lld\n\n", str_or(root, "reason", "?"),
		int_or(root, "lost", 0));

	fprintf(out, "FINDINGS (%zu)\n", json_is_array(findings) ? json_array_size(findings) : 0);
	for (i = 0; json_is_array(findings) && i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i), *subj = json_object_get(f, "subject");
		json_t *evs = json_object_get(f, "evidence_events");

		fprintf(out, "  [%s] %s%s: %s\n", str_or(f, "severity", "?"), str_or(f, "kind", "?"),
			json_is_true(json_object_get(f, "uncertain")) ? " (uncertain)" : "",
			str_or(f, "message", ""));
		fprintf(out, "      device %s, PASID %lld, owner %s/%lld\n", str_or(subj, "dev", "-"),
			int_or(subj, "pasid", -1), str_or(subj, "owner_comm", "?"),
			int_or(subj, "owner_pid", 0));
		for (size_t e = 0; json_is_array(evs) && e < json_array_size(evs); e++) {
			json_t *ev = json_array_get(evs, e);

			fprintf(out, "      event %lld: %s by %s/%lld users %lld ret %lld\n",
				int_or(ev, "seq", -1), str_or(ev, "type", "?"), str_or(ev, "comm", "?"),
				int_or(ev, "pid", 0), int_or(ev, "users", -1), int_or(ev, "ret", 0));
		}
	}
	if (!json_is_array(findings) || !json_array_size(findings))
		fprintf(out, "  none\n");

	nb = json_is_array(bonds) ? json_array_size(bonds) : 0;
	fprintf(out, "\nBONDS STILL BOUND (%zu), by device and process\n", nb);
	sorted = calloc(nb ? nb : 1, sizeof(*sorted));
	for (i = 0; sorted && i < nb; i++)
		sorted[i] = json_array_get(bonds, i);
	if (sorted)
		qsort(sorted, nb, sizeof(*sorted), cmp_bond);
	for (i = 0; sorted && i < nb; i++) {
		json_t *b = sorted[i];
		const char *dev = str_or(b, "dev", "-");
		long long pid = int_or(b, "owner_pid", 0);

		if (!last_dev || strcmp(dev, last_dev)) {
			fprintf(out, "  device %s\n", dev);
			last_pid = -1;
		}
		if (pid != last_pid)
			fprintf(out, "    process %lld (%s)%s\n", pid, str_or(b, "owner_comm", "?"),
				json_is_true(json_object_get(b, "owner_exited")) ? ", exited" : "");
		fprintf(out, "      PASID %lld handle %s users %lld age %.3f s, %lld binds %lld "
			     "unbinds%s%s\n",
			int_or(b, "pasid", -1), str_or(b, "handle", "?"), int_or(b, "users", -1),
			(double)int_or(b, "age_ns", 0) / 1e9, int_or(b, "binds", 0),
			int_or(b, "unbinds", 0),
			json_is_true(json_object_get(b, "leak")) ? ", LEAK" : "",
			json_is_true(json_object_get(b, "unknown_origin")) ? ", bound before tracing" : "");
		last_dev = dev;
		last_pid = pid;
	}
	if (!nb)
		fprintf(out, "  none\n");
	free(sorted);
	json_decref(root);
	return fail ? 1 : 0;
}
