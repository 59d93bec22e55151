// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --report: a readable postmortem from an export (findings first, then the
 * bonds still bound, grouped by device and process). Reads with yajl's tree
 * interface, the library replay.c parses captures with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yajl/yajl_tree.h>

#include "correlate.h"
#include "export.h"
#include "json_writer.h"
#include "postmortem.h"
#include "print.h"
#include "ptrhash.h"

/* Nesting deeper than this is refused before parsing (replay.c has the same limit). */
#define MAX_DEPTH 2048

/* The value of key k in object o (the first, duplicates are refused at load), or NULL. */
static yajl_val member(yajl_val o, const char *k)
{
	if (!YAJL_IS_OBJECT(o))
		return NULL;
	for (size_t i = 0; i < o->u.object.len; i++)
		if (!strcmp(o->u.object.keys[i], k))
			return o->u.object.values[i];
	return NULL;
}

static size_t array_len(yajl_val a)
{
	return YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
}

static yajl_val array_at(yajl_val a, size_t i)
{
	return a->u.array.values[i];
}

static const char *str_or(yajl_val o, const char *k, const char *dflt)
{
	const char *s = YAJL_GET_STRING(member(o, k));

	return s ? s : dflt;
}

static long long int_or(yajl_val o, const char *k, long long dflt)
{
	yajl_val v = member(o, k);

	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : dflt;
}

static bool is_true(yajl_val o, const char *k)
{
	return YAJL_IS_TRUE(member(o, k));
}

/*
 * yajl keeps duplicate keys and recurses to free a tree: refuse what the export writer never
 * writes, a key twice in one object (the first name in *dup) or nesting past MAX_DEPTH.
 */
static bool has_duplicate_key(yajl_val v, const char **dup)
{
	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++)
			if (has_duplicate_key(v->u.array.values[i], dup))
				return true;
	} else if (YAJL_IS_OBJECT(v)) {
		for (size_t i = 0; i < v->u.object.len; i++) {
			for (size_t j = 0; j < i; j++) {
				if (!strcmp(v->u.object.keys[i], v->u.object.keys[j])) {
					*dup = v->u.object.keys[i];
					return true;
				}
			}
			if (has_duplicate_key(v->u.object.values[i], dup))
				return true;
		}
	}
	return false;
}

static bool too_deep(const char *text)
{
	unsigned int depth = 0;
	bool in_string = false;

	for (const char *p = text; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '{' || *p == '[') {
			if (++depth > MAX_DEPTH)
				return true;
		} else if ((*p == '}' || *p == ']') && depth) {
			depth--;
		}
	}
	return false;
}

/* The first line of yajl's message ("parse error: ...", then the text around it). */
static void one_line(char *msg)
{
	size_t n = strcspn(msg, "\n");

	while (n && (msg[n - 1] == '.' || msg[n - 1] == ' '))
		n--;
	msg[n] = '\0';
}

/* A parsed export in *root: 0, or -errno after saying why. */
static int load_export(const char *path, yajl_val *root)
{
	char msg[1024] = "", *text = NULL;
	const char *dup = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re"), *mem;

	*root = NULL;
	if (!f) {
		int ret = -errno;

		sva_warn("--report: cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	mem = open_memstream(&text, &len);
	if (mem) {
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, mem);
		fclose(mem);
	}
	if (!mem || ferror(f) || !text) {
		int ret = errno ? -errno : -ENOMEM;

		sva_warn("--report: cannot read %s: %s", path, strerror(-ret));
		fclose(f);
		free(text);
		return ret;
	}
	fclose(f);
	if (strlen(text) != len)
		snprintf(msg, sizeof(msg), "a NUL byte at offset %zu", strlen(text));
	else if (too_deep(text))
		snprintf(msg, sizeof(msg), "maximum parsing depth reached");
	else if (!(*root = yajl_tree_parse(text, msg, sizeof(msg))))
		one_line(msg[0] ? msg : strcpy(msg, "out of memory"));
	else if (has_duplicate_key(*root, &dup))
		snprintf(msg, sizeof(msg), "duplicate object key \"%.64s\"", dup);
	free(text);
	if (msg[0]) {
		sva_warn("--report: %s: not a valid export: %s", path, msg);
		yajl_tree_free(*root);
		*root = NULL;
		return -EINVAL;
	}
	return 0;
}

/* The fields of an export that hold kernel addresses (export.c, report.c, decode.c). */
static bool is_pointer_key(const char *k)
{
	return !strcmp(k, "handle") || !strcmp(k, "domain") || !strcmp(k, "mm");
}

/*
 * An address of an export as shown: as written when ph is NULL (the export's own choice, or
 * --raw-pointers), else its hash; "?" for what is not an address, which is never shown raw.
 */
static const char *shown_pointer(const struct ptrhash *ph, const char *s,
				 char out[PTRHASH_STR_LEN])
{
	size_t n;

	if (!ph || !s)
		return s;
	n = s[0] == '0' && s[1] == 'x' ? strspn(s + 2, "0123456789abcdefABCDEF") : 0;
	if (!n || n > 16 || s[2 + n])
		return "?";
	ptrhash_format(ph, strtoull(s + 2, NULL, 16), out);
	return out;
}

static void write_value(struct json_writer *w, yajl_val v, const struct ptrhash *ph);

/* Member v of an object, named k: an address hashed when ph is set. */
static void write_member(struct json_writer *w, const char *k, yajl_val v,
			 const struct ptrhash *ph)
{
	char hex[PTRHASH_STR_LEN];
	const char *s;

	jw_name(w, k);
	if (!ph || !is_pointer_key(k) || !YAJL_IS_STRING(v)) {
		write_value(w, v, ph);
		return;
	}
	s = shown_pointer(ph, YAJL_GET_STRING(v), hex);
	if (strcmp(s, "?"))
		jw_string(w, s);
	else
		jw_null(w);
}

/* A value of the export tree again as JSON (numbers as they were written). */
static void write_value(struct json_writer *w, yajl_val v, const struct ptrhash *ph)
{
	if (YAJL_IS_STRING(v)) {
		jw_string(w, YAJL_GET_STRING(v));
	} else if (YAJL_IS_INTEGER(v)) {
		jw_int(w, YAJL_GET_INTEGER(v));
	} else if (YAJL_IS_NUMBER(v)) {
		jw_raw(w, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v)));
	} else if (YAJL_IS_OBJECT(v)) {
		jw_start_object(w);
		for (size_t i = 0; i < v->u.object.len; i++)
			write_member(w, v->u.object.keys[i], v->u.object.values[i], ph);
		jw_end_object(w);
	} else if (YAJL_IS_ARRAY(v)) {
		jw_start_array(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			write_value(w, v->u.array.values[i], ph);
		jw_end_array(w);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		jw_bool(w, YAJL_IS_TRUE(v));
	} else {
		jw_null(w);
	}
}

/*
 * A finding of the export as its live JSON Lines record: its fields in order, "type" last;
 * a retracted one (schema 2: "resolved" is an object) then its live "resolved" record.
 */
static void write_object_as(struct json_writer *w, yajl_val o, const char *type,
			    const char *skip, const struct ptrhash *ph)
{
	bool typed = false;

	if (!YAJL_IS_OBJECT(o)) {
		jw_fail(w);
		return;
	}
	jw_start_object(w);
	for (size_t i = 0; i < o->u.object.len; i++) {
		if (skip && !strcmp(o->u.object.keys[i], skip))
			continue;
		if (!strcmp(o->u.object.keys[i], "type")) {
			jw_name(w, "type");
			jw_string(w, type);
			typed = true;
		} else {
			write_member(w, o->u.object.keys[i], o->u.object.values[i], ph);
		}
	}
	if (!typed)
		jw_string_field(w, "type", type);
	jw_end_object(w);
}

static void write_finding(struct json_writer *w, yajl_val f, const struct ptrhash *ph)
{
	write_object_as(w, f, "finding", "resolved", ph);
}

/* The later unbind that retracted the finding, or NULL. */
static yajl_val resolution_of(yajl_val f)
{
	yajl_val r = member(f, "resolved");

	return YAJL_IS_OBJECT(r) ? r : NULL;
}

bool export_file_is_export(const char *path)
{
	char msg[128];
	yajl_val root;
	bool yes;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	struct stat st;
	ssize_t n;

	/*
	 * Only a regular file is looked at: a pipe or FIFO (--replay <(...)) cannot be read twice,
	 * the lines read here would be lost to the replay, and opening one may wait for a writer.
	 */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	/* An export is one line; a capture's first line is its start record. */
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return false;
	}
	root = too_deep(line) ? NULL : yajl_tree_parse(line, msg, sizeof(msg));
	free(line);
	yes = root && !strcmp(str_or(root, "schema", ""), EXPORT_SCHEMA);
	yajl_tree_free(root);
	return yes;
}

static int cmp_bond(const void *a, const void *b)
{
	yajl_val x = *(const yajl_val *)a, y = *(const yajl_val *)b;
	int c = strcmp(str_or(x, "dev", ""), str_or(y, "dev", ""));

	if (c)
		return c;
	return (int)(int_or(x, "owner_pid", 0) - int_or(y, "owner_pid", 0));
}

int report_export(const char *path, bool json_out, unsigned int fail_on, bool raw_pointers,
		  FILE *out)
{
	yajl_val root, findings, bonds, kernel, t;
	yajl_val *sorted = NULL;
	struct ptrhash hashed, *ph = NULL;
	char seed[64], hex[PTRHASH_STR_LEN];
	size_t i, nb;
	const char *last_dev = NULL;
	long long last_pid = -1;
	bool fail = false;
	int ret = load_export(path, &root);

	if (ret)
		return ret;
	if (!YAJL_IS_OBJECT(root) || strcmp(str_or(root, "schema", ""), EXPORT_SCHEMA)) {
		sva_warn("--report: %s is not an sva-trace export (no \"schema\": \"%s\"); write "
			 "one with sva-trace --export FILE", path, EXPORT_SCHEMA);
		yajl_tree_free(root);
		return -EINVAL;
	}
	if (int_or(root, "schema_version", 0) > EXPORT_SCHEMA_VERSION)
		sva_warn("--report: %s has schema version %lld, newer than this build's %d: fields "
			 "it does not know are left out",
			 path, int_or(root, "schema_version", 0), EXPORT_SCHEMA_VERSION);
	findings = member(root, "findings");
	bonds = member(root, "bonds");
	kernel = member(root, "kernel");
	t = member(root, "time");
	/* Hashed as the replay of the capture was (run.c): the key derived from its start. */
	if (!strcmp(str_or(root, "pointers", ""), "raw") && !raw_pointers) {
		snprintf(seed, sizeof(seed), "sva-trace replay %lld",
			 int_or(t, "start_boot_ns", 0));
		ptrhash_init_seed(&hashed, seed);
		ph = &hashed;
	}

	for (i = 0; i < array_len(findings); i++) {
		yajl_val f = array_at(findings, i);
		int k = finding_kind_from_name(str_or(f, "kind", ""));

		/*
		 * as live: an uncertain finding (events were lost) does not fail, nor does one
		 * a later unbind retracted
		 */
		if (k >= 0 && (fail_on & (1u << k)) && !is_true(f, "uncertain") &&
		    !resolution_of(f))
			fail = true;
	}

	if (json_out) {
		struct json_writer w;

		jw_init(&w);
		for (i = 0; i < array_len(findings); i++) {
			jw_reset(&w);
			write_finding(&w, array_at(findings, i), ph);
			if (jw_finish(&w)) {
				sva_warn("--report: %s: finding %zu is not an object of at most %d "
					 "levels: left out", path, i, JW_MAX_DEPTH);
				continue;
			}
			fprintf(out, "%.*s\n", (int)w.len, w.buf);
			if (!resolution_of(array_at(findings, i)))
				continue;
			jw_reset(&w);
			write_object_as(&w, resolution_of(array_at(findings, i)), "resolved", NULL,
					ph);
			if (jw_finish(&w)) {
				sva_warn("--report: %s: the retraction of finding %zu is too deep: "
					 "left out", path, i);
				continue;
			}
			fprintf(out, "%.*s\n", (int)w.len, w.buf);
		}
		jw_free(&w);
		yajl_tree_free(root);
		if (ph)
			ptrhash_free(ph);
		return fail ? 1 : 0;
	}

	fprintf(out, "sva-trace postmortem of %s\n", path);
	fprintf(out, "kernel %s (%s), boot %s; %s to %s; tool %s\n",
		str_or(kernel, "release", "?"), str_or(kernel, "machine", "?"),
		str_or(kernel, "boot_id", "?"), str_or(t, "start_wall", "?"),
		str_or(t, "end_wall", "?"),
		str_or(member(root, "tool"), "version", "?"));
	fprintf(out, "export reason: %s; lost events: %lld\n\n", str_or(root, "reason", "?"),
		int_or(root, "lost", 0));

	fprintf(out, "FINDINGS (%zu)\n", array_len(findings));
	for (i = 0; i < array_len(findings); i++) {
		yajl_val f = array_at(findings, i), subj = member(f, "subject");
		yajl_val evs = member(f, "evidence_events");

		fprintf(out, "  [%s] %s%s: %s\n", str_or(f, "severity", "?"), str_or(f, "kind", "?"),
			is_true(f, "uncertain") ? " (uncertain)" : "",
			str_or(f, "message", ""));
		fprintf(out, "      device %s, PASID %lld, owner %s/%lld\n", str_or(subj, "dev", "-"),
			int_or(subj, "pasid", -1), str_or(subj, "owner_comm", "?"),
			int_or(subj, "owner_pid", 0));
		for (size_t e = 0; e < array_len(evs); e++) {
			yajl_val ev = array_at(evs, e);

			yajl_val cause = member(ev, "cause");

			fprintf(out, "      event %lld: %s by %s/%lld users %lld ret %lld\n",
				int_or(ev, "seq", -1), str_or(ev, "type", "?"), str_or(ev, "comm", "?"),
				int_or(ev, "pid", 0), int_or(ev, "users", -1), int_or(ev, "ret", 0));
			if (cause && is_true(cause, "inline"))
				fprintf(out, "        cause: check %s in %s: %s\n",
					str_or(cause, "check", "(unnamed)"), str_or(cause, "function", "?"),
					str_or(cause, "explanation", ""));
			else if (cause)
				fprintf(out, "        cause: %s returned %s at depth %lld: %s\n",
					str_or(cause, "function", "?"),
					str_or(cause, "returned", str_or(cause, "errno", "?")),
					int_or(cause, "depth", 0), str_or(cause, "explanation", ""));
		}
		if (resolution_of(f))
			fprintf(out, "      RETRACTED: %s\n", str_or(resolution_of(f), "message", "?"));
	}
	if (!array_len(findings))
		fprintf(out, "  none\n");
	/* Schema 2: findings of subjects the filters did not match are counted, not listed. */
	{
		yajl_val hid = member(root, "findings_hidden_by_filters");
		long long nhid = 0;

		for (size_t k = 0; YAJL_IS_OBJECT(hid) && k < hid->u.object.len; k++)
			if (YAJL_IS_INTEGER(hid->u.object.values[k]))
				nhid += YAJL_GET_INTEGER(hid->u.object.values[k]);
		if (nhid > 0) {
			fprintf(out, "  and %lld hidden by the filters (not in the export):", nhid);
			for (size_t k = 0; k < hid->u.object.len; k++)
				if (YAJL_IS_INTEGER(hid->u.object.values[k]) &&
				    YAJL_GET_INTEGER(hid->u.object.values[k]) > 0)
					fprintf(out, " %lld %s", YAJL_GET_INTEGER(hid->u.object.values[k]),
						hid->u.object.keys[k]);
			fprintf(out, "\n");
		}
	}

	nb = array_len(bonds);
	fprintf(out, "\nBONDS STILL BOUND (%zu), by device and process\n", nb);
	sorted = calloc(nb ? nb : 1, sizeof(*sorted));
	for (i = 0; sorted && i < nb; i++)
		sorted[i] = array_at(bonds, i);
	if (sorted)
		qsort(sorted, nb, sizeof(*sorted), cmp_bond);
	for (i = 0; sorted && i < nb; i++) {
		yajl_val b = sorted[i];
		const char *dev = str_or(b, "dev", "-");
		long long pid = int_or(b, "owner_pid", 0);

		if (!last_dev || strcmp(dev, last_dev)) {
			fprintf(out, "  device %s\n", dev);
			last_pid = -1;
		}
		if (pid != last_pid)
			fprintf(out, "    process %lld (%s)%s\n", pid, str_or(b, "owner_comm", "?"),
				is_true(b, "owner_exited") ? ", exited" : "");
		fprintf(out, "      PASID %lld handle %s users %lld age %.3f s, %lld binds %lld "
			     "unbinds%s%s\n",
			int_or(b, "pasid", -1), shown_pointer(ph, str_or(b, "handle", "?"), hex),
			int_or(b, "users", -1),
			(double)int_or(b, "age_ns", 0) / 1e9, int_or(b, "binds", 0),
			int_or(b, "unbinds", 0),
			is_true(b, "leak") ? ", LEAK" : "",
			is_true(b, "unknown_origin") ? ", bound before tracing" : "");
		last_dev = dev;
		last_pid = pid;
	}
	if (!nb)
		fprintf(out, "  none\n");
	free(sorted);
	yajl_tree_free(root);
	if (ph)
		ptrhash_free(ph);
	return fail ? 1 : 0;
}
