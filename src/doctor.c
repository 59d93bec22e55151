// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-trace doctor: what stands between each PCI device and a working SVA bind.
 *
 * Everything is read, nothing is written: procfs and sysfs under a root that tests
 * point at fixture trees (--root, SVA_TRACE_SYSROOT), the kernel config, the symbol
 * names of /proc/kallsyms (or the kernel's BTF), and PCI config space. Each rule cites
 * the kernel code it mirrors; docs/doctor.md lists them with the output format.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <bpf/btf.h>

#include "doctor.h"
#include "json_writer.h"
#include "kernel.h"
#include "print.h"

#define PROG "sva-trace doctor"

enum status { ST_OK, ST_INFO, ST_WARN, ST_BLOCK, ST_UNKNOWN };
static const char *const status_text[] = { "ok", "info", "warn", "BLOCK", "unknown" };
static const char *const status_json[] = { "ok", "info", "warn", "block", "unknown" };

/* -1 unknown, 0 no, 1 yes */
enum tri { T_UNKNOWN = -1, T_NO = 0, T_YES = 1 };

struct check {
	const char *id;
	enum status st;
	char *msg, *evidence, *fix;
};

struct checks {
	struct check *v;
	size_t n, cap;
};

enum unit_kind { U_INTEL, U_AMD, U_SMMUV3, U_OTHER };

struct unit {
	char name[64];
	enum unit_kind kind;
	bool regs_read;
	char version[32];
	uint64_t cap, ecap;	/* VT-d */
	uint64_t efr, efr2;	/* AMD */
	uint64_t max_pasids;	/* the unit's limit as the driver computes it; 0 none/unknown */
	struct checks checks;
};

struct cap_state {
	enum tri present;
	bool enabled;
	unsigned width;	/* PASID: max PASID width */
	bool exec, priv;
};

struct pcidev {
	char bdf[64];
	char vendor[8], device[8], class_[8];
	char driver[64];
	int group;	/* -1 none */
	char group_type[32];
	int group_devices;
	char unit[64];
	long cfg_len;	/* bytes of config space read; -1 unreadable */
	struct cap_state pasid, ats, pri;
	uint64_t max_pasids;
	struct checks checks;
	enum status verdict;	/* ST_OK can bind, ST_BLOCK cannot, ST_UNKNOWN */
};

struct doctor {
	const char *root;	/* "" for the live system */
	bool json;
	char release[256], arch[256];
	char upstream[32];
	int ver[3];
	bool ver_known;
	char *upstream_evidence;
	char *cmdline;
	char *config;		/* text of the kernel config, NULL when none readable */
	char config_source[PATH_MAX];
	char *config_tried;
	struct kallsyms *ks;
	struct btf *btf;
	const char *sym_source;	/* "kallsyms", "BTF" or NULL */
	bool cpu_gbpages, cpu_la57, cpuinfo_read;
	enum tri iommu_sva;
	struct checks kernel;
	struct unit *units;
	size_t nunits;
	struct pcidev *devs;
	size_t ndevs;
	char **needs_root;
	size_t nneeds_root;
};

/* ---- small helpers ---- */

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(2);
	}
	return s;
}

static void add_check(struct checks *c, const char *id, enum status st, char *msg, char *evidence,
		      char *fix)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct check *v = realloc(c->v, ncap * sizeof(*v));

		if (!v) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(2);
		}
		c->v = v;
		c->cap = ncap;
	}
	c->v[c->n++] = (struct check){ id, st, msg, evidence, fix };
}

static void free_checks(struct checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].msg);
		free(c->v[i].evidence);
		free(c->v[i].fix);
	}
	free(c->v);
}

/* BLOCK beats UNKNOWN beats the rest: the verdict a list of checks gives. */
static enum status worst(const struct checks *c)
{
	enum status w = ST_OK;

	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].st == ST_BLOCK)
			return ST_BLOCK;
		if (c->v[i].st == ST_UNKNOWN)
			w = ST_UNKNOWN;
	}
	return w;
}

static void need_root(struct doctor *d, char *what)
{
	for (size_t i = 0; i < d->nneeds_root; i++) {
		if (!strcmp(d->needs_root[i], what)) {
			free(what);
			return;
		}
	}
	char **n = realloc(d->needs_root, (d->nneeds_root + 1) * sizeof(*n));

	if (!n)
		exit(2);
	d->needs_root = n;
	n[d->nneeds_root++] = what;
}

static void path_of(const struct doctor *d, char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s%s", d->root, rel);
}

/* Reads a whole file under the root, at most max bytes; trailing newlines cut. -errno. */
static int read_file(const struct doctor *d, const char *rel, char **out, size_t max, size_t *lenp)
{
	char p[PATH_MAX];
	FILE *f;
	char *buf;
	size_t len;

	path_of(d, p, sizeof(p), rel);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, max, f);
	if (ferror(f)) {
		int err = errno ? -errno : -EIO;

		fclose(f);
		free(buf);
		return err;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	else
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			buf[--len] = '\0';
	*out = buf;
	return 0;
}

static char *read_str(const struct doctor *d, const char *rel)
{
	char *s = NULL;

	return read_file(d, rel, &s, 4096, NULL) ? NULL : s;
}

/* The last component of a symlink's target under the root, or "" */
static void link_base(const struct doctor *d, const char *rel, char *out, size_t len)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;
	const char *b;

	out[0] = '\0';
	path_of(d, p, sizeof(p), rel);
	n = readlink(p, t, sizeof(t) - 1);
	if (n <= 0)
		return;
	t[n] = '\0';
	b = strrchr(t, '/');
	snprintf(out, len, "%s", b ? b + 1 : t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory under the root (no dot entries); NULL if none. */
static char **list_dir(const struct doctor *d, const char *rel, size_t *count)
{
	char p[PATH_MAX];
	DIR *dir;
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;

	*count = 0;
	path_of(d, p, sizeof(p), rel);
	dir = opendir(p);
	if (!dir)
		return NULL;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		char **nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			exit(2);
		v = nv;
		v[n++] = strdup(e->d_name);
	}
	closedir(dir);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*count = n;
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* ---- kernel: version, config, symbols ---- */

static bool parse_ver(const char *s, int v[3])
{
	int n = 0;

	v[2] = 0;
	if (sscanf(s, "%d.%d.%d%n", &v[0], &v[1], &v[2], &n) >= 2)
		return true;
	return false;
}

static int ver_cmp(const struct doctor *d, int a, int b, int c)
{
	int w[3] = { a, b, c };

	for (int i = 0; i < 3; i++)
		if (d->ver[i] != w[i])
			return d->ver[i] < w[i] ? -1 : 1;
	return 0;
}

static void read_kernel_identity(struct doctor *d)
{
	char *s, *v, *sig;

	s = read_str(d, "/proc/sys/kernel/osrelease");
	snprintf(d->release, sizeof(d->release), "%s", s ? s : "");
	free(s);
	s = read_str(d, "/proc/sys/kernel/arch");
	if (s) {
		snprintf(d->arch, sizeof(d->arch), "%s", s);
		free(s);
	} else if (!d->root[0]) {
		struct utsname u;

		if (!uname(&u))
			snprintf(d->arch, sizeof(d->arch), "%s", u.machine);
	}
	if (!d->arch[0])
		snprintf(d->arch, sizeof(d->arch), "unknown");

	/*
	 * Distribution kernels hide the upstream version: Debian's 6.1 is "6.1.0-N-cloud-amd64"
	 * (its /proc/version ends "Debian 6.1.192-3"), Ubuntu's "6.8.0-N-generic" (its
	 * /proc/version_signature ends with the upstream version).
	 */
	v = read_str(d, "/proc/version");
	if (v && (s = strstr(v, " Debian ")) && parse_ver(s + 8, d->ver)) {
		size_t n = strcspn(s + 8, " \n)");

		d->ver_known = true;
		d->upstream_evidence = fmt("\"Debian %.*s\" in /proc/version", (int)n, s + 8);
	} else if ((sig = read_str(d, "/proc/version_signature")) && (s = strrchr(sig, ' ')) &&
		   parse_ver(s + 1, d->ver)) {
		d->ver_known = true;
		d->upstream_evidence = fmt("\"%s\" in /proc/version_signature", s + 1);
		free(sig);
	} else if (parse_ver(d->release, d->ver)) {
		free(sig);
		d->ver_known = true;
		d->upstream_evidence = fmt("the release string (no distribution version found in "
					   "/proc/version)");
	}
	free(v);
	if (d->ver_known)
		snprintf(d->upstream, sizeof(d->upstream), "%d.%d.%d", d->ver[0], d->ver[1], d->ver[2]);
}

static int read_gz(const struct doctor *d, const char *rel, char **out)
{
	char p[PATH_MAX];
	gzFile gz;
	size_t cap = 1 << 18, len = 0;
	char *buf;
	int n;

	path_of(d, p, sizeof(p), rel);
	if (access(p, R_OK))
		return -errno;
	gz = gzopen(p, "rb");
	if (!gz)
		return -errno ? -errno : -EIO;
	buf = malloc(cap + 1);
	if (!buf) {
		gzclose(gz);
		return -ENOMEM;
	}
	while ((n = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *nb;

			if (cap >= (64u << 20))
				break;
			nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	gzclose(gz);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static void read_config(struct doctor *d)
{
	char rel[PATH_MAX];
	char *text = NULL;
	int e1, e2 = 0;

	snprintf(rel, sizeof(rel), "/boot/config-%s", d->release);
	e1 = read_file(d, rel, &text, 8u << 20, NULL);
	if (!e1) {
		d->config = text;
		snprintf(d->config_source, sizeof(d->config_source), "%s", rel);
		return;
	}
	e2 = read_gz(d, "/proc/config.gz", &text);
	if (!e2) {
		d->config = text;
		snprintf(d->config_source, sizeof(d->config_source), "/proc/config.gz");
		return;
	}
	d->config_tried = fmt("%s: %s; /proc/config.gz: %s", rel, strerror(-e1), strerror(-e2));
	if (e1 == -EACCES)
		need_root(d, fmt("the kernel config %s", rel));
	if (e2 == -EACCES)
		need_root(d, fmt("the kernel config /proc/config.gz"));
}

/* 'y', 'm', 'n' (not set or absent), 'v' (another value), 0 no config */
static char config_get(const struct doctor *d, const char *name)
{
	size_t n = strlen(name);
	const char *p = d->config;

	if (!p)
		return 0;
	while (*p) {
		if (!strncmp(p, name, n) && p[n] == '=') {
			char c = p[n + 1];

			return (c == 'y' || c == 'm') && (p[n + 2] == '\n' || !p[n + 2]) ? c : 'v';
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 'n';
}

static void load_symbols(struct doctor *d)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(d, p, sizeof(p), "/proc/kallsyms");
	f = fopen(p, "re");
	if (f) {
		d->ks = kallsyms_parse(f);
		fclose(f);
		if (d->ks && kallsyms_has_func(d->ks, "schedule")) {
			d->sym_source = "kallsyms";
			return;
		}
		/* an empty list: kallsyms hidden (CONFIG_KALLSYMS off or a restricted view) */
		kallsyms_free(d->ks);
		d->ks = NULL;
	}
	path_of(d, p, sizeof(p), KERNEL_BTF_PATH);
	if (access(p, R_OK) == 0) {
		d->btf = btf__parse(p, NULL);
		if (d->btf)
			d->sym_source = "BTF";
	}
}

static enum tri sym_has(const struct doctor *d, const char *name)
{
	if (d->ks)
		return kallsyms_has_func(d->ks, name) ? T_YES : T_NO;
	if (d->btf)
		return btf__find_by_name_kind(d->btf, name, BTF_KIND_FUNC) > 0 ? T_YES : T_NO;
	return T_UNKNOWN;
}

/*
 * A config option: from the config when one is readable, else inferred from the
 * functions that only exist when it is set (syms, NULL-terminated). *evidence says which.
 */
static enum tri kernel_option(const struct doctor *d, const char *name, const char *const *syms,
			      char **evidence)
{
	char c = config_get(d, name);

	if (c) {
		*evidence = c == 'n' ? fmt("%s is not set in %s", name, d->config_source) :
				       fmt("%s=%c in %s", name, c, d->config_source);
		return c == 'y' || c == 'm' ? T_YES : T_NO;
	}
	if (!d->sym_source || !syms) {
		*evidence = fmt("no kernel config and no symbol list readable");
		return T_UNKNOWN;
	}
	for (const char *const *s = syms; *s; s++) {
		if (sym_has(d, *s) == T_YES) {
			*evidence = fmt("inferred: %s has %s", d->sym_source, *s);
			return T_YES;
		}
	}
	char list[512] = "";
	size_t len = 0;

	for (const char *const *s = syms; *s && len < sizeof(list); s++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					s == syms ? "" : ", ", *s);
	*evidence = fmt("inferred: %s has none of %s", d->sym_source, list);
	return T_NO;
}

static bool is_x86(const struct doctor *d)
{
	return !strcmp(d->arch, "x86_64") || !strcmp(d->arch, "x86") ||
	       (d->arch[0] == 'i' && strstr(d->arch, "86"));
}

/* The value of a kernel parameter on the command line ("" for a flag), NULL if absent. */
static const char *cmdline_param(const struct doctor *d, const char *key, char *buf, size_t len)
{
	const char *p = d->cmdline;
	size_t kl = strlen(key);
	const char *found = NULL;

	while (p && *p) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n == 0)
			break;
		if (!strncmp(p, "--", n > 2 ? 2 : n) && n == 2)
			break; /* the rest goes to init */
		if (!strncmp(p, key, kl) && (p[kl] == '=' || kl == n)) {
			size_t vl = kl == n ? 0 : n - kl - 1;

			snprintf(buf, len, "%.*s", (int)vl, p + kl + (kl == n ? 0 : 1));
			found = buf; /* the last occurrence wins, as in the kernel */
		}
		p += n;
	}
	return found;
}

/* Does a comma-separated option list contain opt? */
static bool has_opt(const char *list, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = list; p && *p;) {
		if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static const char *const syms_iommu_sva[] = {
	"mm_pasid_drop",	 /* 6.2+: drivers/iommu/iommu-sva.c, built with IOMMU_SVA */
	"iommu_sva_alloc_pasid", /* 6.1: drivers/iommu/iommu-sva-lib.c, likewise */
	NULL
};
static const char *const syms_intel_svm[] = { "intel_svm_check", NULL }; /* intel/svm.c */
static const char *const syms_smmu_sva[] = {
	"arm_smmu_sva_domain_alloc", /* 6.12, 7.2: arm-smmu-v3-sva.c */
	"arm_smmu_sva_bind",	     /* 6.1 */
	NULL
};


static void check_kernel(struct doctor *d)
{
	struct checks *c = &d->kernel;
	char *ev = NULL;
	char buf[256];

	add_check(c, "kernel", ST_INFO,
		  fmt("Linux %s, %s%s%s", d->release[0] ? d->release : "(unknown release)", d->arch,
		      d->ver_known ? ", upstream " : "", d->ver_known ? d->upstream : ""),
		  d->ver_known ? fmt("/proc/sys/kernel/osrelease; upstream version from %s",
				     d->upstream_evidence) :
				 fmt("/proc/sys/kernel/osrelease"),
		  NULL);

	if (d->config)
		add_check(c, "config", ST_INFO, fmt("kernel config read from %s", d->config_source),
			  NULL, NULL);
	else
		add_check(c, "config", ST_INFO,
			  fmt("no kernel config readable; options below are inferred from %s",
			      d->sym_source ? d->sym_source : "nothing (no symbol list either)"),
			  fmt("%s", d->config_tried), NULL);

	/* CONFIG_IOMMU_SVA: the SVA core (iommu_sva_bind_device's real body). */
	d->iommu_sva = kernel_option(d, "CONFIG_IOMMU_SVA", syms_iommu_sva, &ev);
	if (d->iommu_sva == T_YES)
		add_check(c, "iommu_sva", ST_OK, fmt("CONFIG_IOMMU_SVA is set"), ev, NULL);
	else if (d->iommu_sva == T_NO)
		add_check(c, "iommu_sva", ST_BLOCK,
			  fmt("CONFIG_IOMMU_SVA is not set: iommu_sva_bind_device() is a stub "
			      "returning -ENODEV"),
			  ev,
			  fmt("boot a kernel built with the IOMMU driver's SVA option "
			      "(INTEL_IOMMU_SVM, AMD_IOMMU, ARM_SMMU_V3_SVA), which selects IOMMU_SVA"));
	else
		add_check(c, "iommu_sva", ST_UNKNOWN, fmt("cannot tell whether CONFIG_IOMMU_SVA is set"),
			  ev, fmt("make /boot/config-%s or /proc/config.gz or /proc/kallsyms readable",
				  d->release));

	/*
	 * The stable backport "iommu: disable SVA when CONFIG_X86 is set" (CVE-2025-71089;
	 * Debian's changelogs list it under upstream 6.1.163 and 6.12.64) puts
	 * `if (IS_ENABLED(CONFIG_X86)) return ERR_PTR(-EOPNOTSUPP);` at the top of
	 * iommu_sva_bind_device (6.1.192 drivers/iommu/iommu.c, 6.12.117 iommu-sva.c). The
	 * check is a compile-time constant, so on 6.12 the rest of bind is dead code and the
	 * compiler drops what only bind reaches: iommu_sva_domain_alloc, and with it
	 * iommu_sva_iopf_handler, whose address only that function takes (6.12.117's BTF has
	 * no iommu_sva_iopf_handler; 7.2.13's has it). 7.2 has the real fix instead
	 * (iommu_sva_invalidate_kva_range, called from mm/pgtable-generic.c).
	 */
	if (!is_x86(d)) {
		add_check(c, "sva_disabled", ST_OK,
			  fmt("not x86: the stable backport that disables SVA applies to CONFIG_X86 "
			      "kernels only"),
			  fmt("architecture %s", d->arch), NULL);
	} else if (d->iommu_sva == T_NO) {
		add_check(c, "sva_disabled", ST_INFO,
			  fmt("not applicable: no SVA core in this kernel"), NULL, NULL);
	} else {
		enum tri fix = sym_has(d, "iommu_sva_invalidate_kva_range");
		enum tri handle_get = sym_has(d, "iommu_attach_handle_get");
		enum tri iopf = sym_has(d, "iommu_sva_iopf_handler");
		bool in_range = d->ver_known &&
				((d->ver[0] == 6 && d->ver[1] == 1 && d->ver[2] >= 163) ||
				 (d->ver[0] == 6 && d->ver[1] == 12 && d->ver[2] >= 64));
		char *disabled_fix = fmt(
			"boot a kernel without the stable backport \"iommu: disable SVA when "
			"CONFIG_X86 is set\" (in 6.1.163+ and 6.12.64+): one with the kernel-address "
			"IOTLB fix (iommu_sva_invalidate_kva_range, e.g. 7.2), or an older stable release");
		const char *disabled_msg = "this kernel disables SVA on x86: every "
					   "iommu_sva_bind_device() returns -EOPNOTSUPP";

		if (fix == T_YES) {
			add_check(c, "sva_disabled", ST_OK,
				  fmt("SVA is not disabled: the kernel has the kernel-address IOTLB fix"),
				  fmt("%s has iommu_sva_invalidate_kva_range", d->sym_source), NULL);
			free(disabled_fix);
		} else if (handle_get == T_YES && d->ver_known && ver_cmp(d, 6, 12, 0) >= 0 &&
			   iopf != T_UNKNOWN) {
			if (iopf == T_NO)
				add_check(c, "sva_disabled", ST_BLOCK, fmt("%s", disabled_msg),
					  fmt("%s lacks iommu_sva_iopf_handler: the compiler dropped "
					      "the bind path after the CONFIG_X86 check%s%s%s",
					      d->sym_source,
					      in_range ? "; upstream " : "", in_range ? d->upstream : "",
					      in_range ? " is in the affected range" : ""),
					  disabled_fix);
			else {
				add_check(c, "sva_disabled", ST_OK,
					  fmt("SVA is not disabled: the bind path is compiled in"),
					  fmt("%s has iommu_sva_iopf_handler", d->sym_source), NULL);
				free(disabled_fix);
			}
		} else if (in_range) {
			add_check(c, "sva_disabled", ST_BLOCK, fmt("%s", disabled_msg),
				  fmt("upstream %s (%s) is at or after the stable release that "
				      "took the backport", d->upstream, d->upstream_evidence),
				  disabled_fix);
		} else if (d->ver_known && d->ver[0] == 6 && (d->ver[1] == 1 || d->ver[1] == 12)) {
			add_check(c, "sva_disabled", ST_OK,
				  fmt("SVA is not disabled: upstream %s predates the backport",
				      d->upstream),
				  fmt("version from %s", d->upstream_evidence), NULL);
			free(disabled_fix);
		} else {
			add_check(c, "sva_disabled", ST_UNKNOWN,
				  fmt("cannot tell whether this kernel disables SVA on x86"),
				  fmt("no signature in %s and upstream %s is outside the known ranges",
				      d->sym_source ? d->sym_source : "(no symbols)",
				      d->ver_known ? d->upstream : "unknown"),
				  fmt("look for \"iommu: disable SVA when CONFIG_X86 is set\" in the "
				      "kernel's changelog, or run sva-trace during a bind: the "
				      "failure's cause names it"));
			free(disabled_fix);
		}
	}

	/* The command line: what decides the VT-d/AMD modes beyond the hardware. */
	{
		static const char *const keys[] = { "intel_iommu", "amd_iommu", "iommu",
						    "iommu.passthrough", "iommu.strict", NULL };
		char list[512] = "";
		size_t len = 0;

		for (const char *const *k = keys; *k; k++) {
			const char *v = cmdline_param(d, *k, buf, sizeof(buf));

			if (v && len < sizeof(list))
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s=%s",
							len ? " " : "", *k, v);
		}
		if (!d->cmdline)
			add_check(c, "cmdline", ST_UNKNOWN, fmt("/proc/cmdline is not readable"), NULL,
				  NULL);
		else
			add_check(c, "cmdline", ST_INFO,
				  len ? fmt("IOMMU options: %s", list) :
					fmt("no IOMMU options on the kernel command line"),
				  fmt("/proc/cmdline"), NULL);
	}
	(void)ev;
}

/* ---- IOMMU units ---- */

static bool parse_hex(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return !errno && end != s && (*end == '\0' || *end == '\n' || *end == ':');
}

static void read_cpuinfo(struct doctor *d)
{
	char *s = NULL;
	char *flags;

	if (read_file(d, "/proc/cpuinfo", &s, 1u << 20, NULL))
		return;
	d->cpuinfo_read = true;
	flags = strstr(s, "\nflags");
	if (flags) {
		char *eol = strchr(flags + 1, '\n');

		if (eol)
			*eol = '\0';
		d->cpu_gbpages = strstr(flags, " pdpe1gb") != NULL;
		d->cpu_la57 = strstr(flags, " la57") != NULL;
	}
	free(s);
}

#define BIT(x, n) (((x) >> (n)) & 1)

/* The VT-d registers as Linux's intel/iommu.h reads them (7.2 cap_* / ecap_* macros). */
static void check_intel_unit(struct doctor *d, struct unit *u)
{
	char rel[PATH_MAX], buf[64];
	char *ver, *cap, *ecap, *ev = NULL;
	struct checks *c = &u->checks;
	enum tri svm = kernel_option(d, "CONFIG_INTEL_IOMMU_SVM", syms_intel_svm, &ev);
	const char *smv;

	snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/intel-iommu/version", u->name);
	ver = read_str(d, rel);
	snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/intel-iommu/cap", u->name);
	cap = read_str(d, rel);
	snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/intel-iommu/ecap", u->name);
	ecap = read_str(d, rel);
	u->regs_read = parse_hex(cap, &u->cap) && parse_hex(ecap, &u->ecap);
	snprintf(u->version, sizeof(u->version), "%s", ver ? ver : "?");
	free(ver);
	free(cap);
	free(ecap);

	if (svm == T_YES)
		add_check(c, "svm_option", ST_OK, fmt("CONFIG_INTEL_IOMMU_SVM is set"), ev, NULL);
	else if (svm == T_NO)
		add_check(c, "svm_option", ST_BLOCK,
			  fmt("CONFIG_INTEL_IOMMU_SVM is not set: the VT-d driver has no SVA domains"),
			  ev, fmt("boot a kernel built with CONFIG_INTEL_IOMMU_SVM=y"));
	else
		add_check(c, "svm_option", ST_UNKNOWN,
			  fmt("cannot tell whether CONFIG_INTEL_IOMMU_SVM is set"), ev, NULL);

	if (!u->regs_read) {
		add_check(c, "registers", ST_UNKNOWN,
			  fmt("cannot read the unit's cap/ecap registers"),
			  fmt("/sys/class/iommu/%s/intel-iommu/{cap,ecap}", u->name), NULL);
		return;
	}
	uint64_t e = u->ecap, k = u->cap;
	unsigned pss = (unsigned)((e >> 35) & 0x1f);
	char pasid_bits[32];

	snprintf(pasid_bits, sizeof(pasid_bits), " (%u-bit)", pss + 1);

	add_check(c, "registers", ST_INFO,
		  fmt("VT-d %s: scalable mode %s, PASID %s%s, PRS %s, nesting %s, "
		      "SMPWC %s, FL1GP %s, FL5LP %s",
		      u->version, BIT(e, 43) ? "yes" : "no", BIT(e, 40) ? "yes" : "no",
		      BIT(e, 40) ? pasid_bits : "", BIT(e, 29) ? "yes" : "no",
		      BIT(e, 26) ? "yes" : "no", BIT(e, 48) ? "yes" : "no",
		      BIT(k, 56) ? "yes" : "no", BIT(k, 60) ? "yes" : "no"),
		  fmt("/sys/class/iommu/%s/intel-iommu/{version,cap,ecap}: cap 0x%" PRIx64
		      " ecap 0x%" PRIx64 " (ecap bits SMTS 43, PASID 40, PSS 39:35, PRS 29, "
		      "NEST 26, SMPWC 48; cap bits FL1GP 56, FL5LP 60)",
		      u->name, k, e),
		  NULL);

	/* sm_supported(): intel_iommu_sm && ecap_smts (7.2 intel/iommu.h) */
	if (!BIT(e, 43)) {
		add_check(c, "scalable_mode", ST_BLOCK,
			  fmt("the unit has no scalable mode (ecap.SMTS is 0): VT-d needs it for PASIDs"),
			  NULL,
			  fmt("none in software: SVA needs scalable-mode VT-d hardware (in QEMU: "
			      "-device intel-iommu,x-scalable-mode=on)"));
	} else {
		const char *why = NULL;
		enum status st;
		char *sev = NULL;

		smv = cmdline_param(d, "intel_iommu", buf, sizeof(buf));
		if (smv && has_opt(smv, "sm_off")) {
			st = ST_BLOCK;
			why = "intel_iommu=...sm_off on the command line turns it off";
			sev = fmt("/proc/cmdline");
		} else if (smv && has_opt(smv, "sm_on")) {
			st = ST_OK;
			why = "on: intel_iommu=...sm_on on the command line";
			sev = fmt("/proc/cmdline");
		} else {
			char cv = config_get(d, "CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON");

			if (cv == 'y') {
				st = ST_OK;
				why = "on by default in this kernel";
				sev = fmt("CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y in %s",
					  d->config_source);
			} else if (cv) {
				st = ST_BLOCK;
				why = "off: this kernel's default is legacy mode and the command line does "
				      "not say sm_on";
				sev = fmt("CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON is not set in %s",
					  d->config_source);
			} else {
				st = ST_UNKNOWN;
				why = "depends on CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON, which no "
				      "readable file tells, and the command line does not say sm_on";
				sev = fmt("/proc/cmdline; %s", d->config_tried ? d->config_tried : "");
			}
		}
		add_check(c, "scalable_mode", st,
			  fmt("the unit supports scalable mode (ecap.SMTS); the kernel's use of it: %s",
			      why),
			  sev,
			  st == ST_OK ? NULL : fmt("boot with intel_iommu=on,sm_on"));
	}

	/* pasid_supported(): sm_supported && ecap_pasid; iommu.max_pasids = 2 << PSS (dmar.c) */
	if (!BIT(e, 40)) {
		add_check(c, "pasid", ST_BLOCK, fmt("the unit does not support PASIDs (ecap.PASID is 0)"),
			  NULL,
			  fmt("none in software: needs PASID-capable VT-d hardware (in QEMU: "
			      "x-scalable-mode=on,x-pasid-mode=on)"));
	} else {
		u->max_pasids = 2ull << pss;
		add_check(c, "pasid", ST_OK,
			  fmt("the unit supports PASIDs: %u-bit, max_pasids %" PRIu64, pss + 1,
			      u->max_pasids),
			  NULL, NULL);
	}

	/* intel_svm_check() (6.12 and 7.2 intel/svm.c) sets VTD_FLAG_SVM_CAPABLE. */
	if (BIT(e, 43) && BIT(e, 40)) {
		char why[512] = "";
		size_t len = 0;

		if (!BIT(e, 48))
			len += (size_t)snprintf(why + len, sizeof(why) - len,
						"%secap.SMPWC (bit 48, page-walk coherency) is 0",
						len ? "; " : "");
		if (d->cpu_gbpages && !BIT(k, 56))
			len += (size_t)snprintf(why + len, sizeof(why) - len,
						"%sthe CPU has 1 GiB pages (pdpe1gb) and cap.FL1GP (bit "
						"56) is 0", len ? "; " : "");
		if (d->cpu_la57 && !BIT(k, 60))
			len += (size_t)snprintf(why + len, sizeof(why) - len,
						"%sthe CPU uses 5-level paging (la57) and cap.FL5LP (bit "
						"60) is 0", len ? "; " : "");
		if (len)
			add_check(c, "svm_capable", ST_BLOCK,
				  fmt("the driver does not mark the unit SVM-capable (intel_svm_check): "
				      "%s; SVA domain allocation returns -ENODEV", why),
				  fmt("ecap, cap%s", d->cpuinfo_read ? ", /proc/cpuinfo flags" : ""),
				  fmt("none in software: the unit cannot walk the CPU's page tables"));
		else if (!d->cpuinfo_read)
			add_check(c, "svm_capable", ST_UNKNOWN,
				  fmt("ecap.SMPWC is set but /proc/cpuinfo is unreadable: the 1 GiB and "
				      "5-level paging checks of intel_svm_check cannot be made"),
				  NULL, NULL);
		else
			add_check(c, "svm_capable", ST_OK,
				  fmt("SVM-capable as intel_svm_check judges it (SMPWC, and FL1GP/FL5LP "
				      "where the CPU needs them)"),
				  fmt("ecap, cap, /proc/cpuinfo flags"), NULL);
	}

	add_check(c, "prs", BIT(e, 29) ? ST_OK : ST_WARN,
		  BIT(e, 29) ? fmt("page requests (PRI) supported: I/O page faults can reach the CPU's "
				   "page tables") :
			       fmt("no page request support (ecap.PRS is 0): only devices that handle "
				   "their own faults (no PRI, like DSA) can use SVA"),
		  NULL, NULL);
	add_check(c, "nesting", ST_INFO,
		  fmt("nested translation %s (ecap.NEST; not needed for SVA)",
		      BIT(e, 26) ? "supported" : "not supported"),
		  NULL, NULL);
}

/* AMD-Vi: EFR bits as 7.2 amd/amd_iommu_types.h names them; the rules of amd_iommu.h/init.c. */
static void check_amd_unit(struct doctor *d, struct unit *u)
{
	char rel[PATH_MAX];
	char *feat, *ev = NULL;
	struct checks *c = &u->checks;
	enum tri sva;

	(void)ev;
	/* AMD SVA domains exist where amd/pasid.c does (amd_iommu_domain_alloc_sva: 6.12, 7.2). */
	sva = sym_has(d, "amd_iommu_domain_alloc_sva");
	if (sva == T_YES)
		add_check(c, "sva_support", ST_OK, fmt("the AMD driver allocates SVA domains"),
			  fmt("%s has amd_iommu_domain_alloc_sva", d->sym_source), NULL);
	else if (sva == T_NO)
		add_check(c, "sva_support", ST_BLOCK,
			  fmt("this kernel's AMD driver has no SVA domain allocator"),
			  fmt("%s lacks amd_iommu_domain_alloc_sva", d->sym_source),
			  fmt("boot a kernel whose AMD IOMMU driver supports SVA (6.12 and 7.2 do)"));
	else
		add_check(c, "sva_support", ST_UNKNOWN,
			  fmt("cannot tell whether the AMD driver allocates SVA domains"),
			  fmt("no symbol list readable"), NULL);

	snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/amd-iommu/features", u->name);
	feat = read_str(d, rel);
	/* "EFR:EFR2" since amd_iommu_efr (6.12, 7.2 init.c); 6.1 prints "features2:features" */
	u->regs_read = parse_hex(feat, &u->efr);
	if (u->regs_read && strchr(feat, ':'))
		parse_hex(strchr(feat, ':') + 1, &u->efr2);
	if (u->regs_read && strchr(feat, ':') && d->ver_known && ver_cmp(d, 6, 2, 0) < 0) {
		uint64_t t = u->efr;

		u->efr = u->efr2;
		u->efr2 = t;
	}
	free(feat);
	if (!u->regs_read) {
		add_check(c, "registers", ST_UNKNOWN, fmt("cannot read the unit's feature register"),
			  fmt("%s", rel), NULL);
		return;
	}
	uint64_t f = u->efr;
	unsigned pasmax = (unsigned)((f >> 32) & 0x1f);

	add_check(c, "registers", ST_INFO,
		  fmt("AMD-Vi: PPR %s, GT %s, GIOSup %s, EPHSup %s, SNP %s, PASmax %u",
		      BIT(f, 1) ? "yes" : "no", BIT(f, 4) ? "yes" : "no", BIT(f, 48) ? "yes" : "no",
		      BIT(f, 50) ? "yes" : "no", BIT(f, 63) ? "yes" : "no", pasmax),
		  fmt("%s: EFR 0x%" PRIx64 " (bits PPR 1, GT 4, PASmax 36:32, GIOSup 48, EPHSup 50, "
		      "SNP 63)", rel, f),
		  NULL);
	/* amd_iommu_gt_ppr_supported(): GIOSUP && GT && PPR && EPHSUP */
	{
		char why[256] = "";
		size_t len = 0;
		static const struct { int bit; const char *name; } need[] = {
			{ 48, "GIOSup" }, { 4, "GT" }, { 1, "PPR" }, { 50, "EPHSup" } };

		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (!BIT(f, need[i].bit))
				len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s",
							len ? ", " : "", need[i].name);
		if (len)
			add_check(c, "pasid", ST_BLOCK,
				  fmt("no PASID support in the unit (amd_iommu_gt_ppr_supported): "
				      "missing %s", why),
				  NULL, fmt("none in software: needs an IOMMU with guest translation "
					    "and PPR"));
		else {
			u->max_pasids = (1ull << (pasmax + 1)) - 1;
			add_check(c, "pasid", ST_OK,
				  fmt("PASIDs supported (GT, PPR, GIOSup, EPHSup): max_pasids %" PRIu64,
				      u->max_pasids),
				  NULL, NULL);
		}
	}
	if (BIT(f, 63))
		add_check(c, "snp", ST_WARN,
			  fmt("the unit supports SEV-SNP: when the kernel enables SNP, "
			      "amd_iommu_pasid_supported() is false and SVA is off"),
			  NULL, fmt("if binds fail with SNP on, boot without SNP host support"));
	if (d->cpu_la57)
		add_check(c, "la57", ST_WARN,
			  fmt("the CPU uses 5-level paging: SVA needs the IOMMU's guest page "
			      "table in 5-level mode (amd_iommu_pasid_supported)"),
			  fmt("/proc/cpuinfo flags"), NULL);
}

static void check_smmu_unit(struct doctor *d, struct unit *u)
{
	char *ev = NULL;
	enum tri sva = kernel_option(d, "CONFIG_ARM_SMMU_V3_SVA", syms_smmu_sva, &ev);

	/*
	 * Without a config, the SVA functions missing from kallsyms only prove the option off when
	 * the driver's own code is there (built in, or the module loaded): arm-smmu-v3-sva.o is
	 * linked into the same image as arm-smmu-v3.o. Debian's arm64 kernels build it in.
	 */
	if (sva == T_NO && !d->config && d->ks && sym_has(d, "arm_smmu_device_probe") == T_YES) {
		char *both = fmt("%s, but has the driver's arm_smmu_device_probe", ev);

		free(ev);
		ev = both;
	} else if (sva == T_NO && !d->config) {
		sva = T_UNKNOWN;
	}
	if (sva == T_YES)
		add_check(&u->checks, "sva_option", ST_OK, fmt("CONFIG_ARM_SMMU_V3_SVA is set"), ev,
			  NULL);
	else if (sva == T_NO)
		add_check(&u->checks, "sva_option", ST_BLOCK,
			  fmt("CONFIG_ARM_SMMU_V3_SVA is not set: the SMMUv3 driver has no SVA"), ev,
			  fmt("boot a kernel built with CONFIG_ARM_SMMU_V3_SVA=y (Debian's arm64 "
			      "kernels do not set it)"));
	else
		/* arm_smmu_v3 may be a module, whose symbols this list does not hold */
		add_check(&u->checks, "sva_option", ST_UNKNOWN,
			  fmt("cannot tell whether CONFIG_ARM_SMMU_V3_SVA is set"), ev,
			  fmt("make /boot/config-%s or /proc/config.gz readable", d->release));
	add_check(&u->checks, "registers", ST_WARN,
		  fmt("SMMUv3 exports no feature registers in sysfs: the driver's own check "
		      "(arm_smmu_sva_supported: BTM, ASID bits, stall or PRI) is not visible here"),
		  fmt("/sys/class/iommu/%s", u->name), NULL);
}

static void read_units(struct doctor *d)
{
	size_t n;
	char **names = list_dir(d, "/sys/class/iommu", &n);
	char rel[PATH_MAX], p[PATH_MAX];
	struct stat st;

	d->units = calloc(n ? n : 1, sizeof(*d->units));
	for (size_t i = 0; i < n; i++) {
		struct unit *u = &d->units[d->nunits++];

		snprintf(u->name, sizeof(u->name), "%s", names[i]);
		snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/intel-iommu", u->name);
		path_of(d, p, sizeof(p), rel);
		if (!stat(p, &st)) {
			u->kind = U_INTEL;
			check_intel_unit(d, u);
			continue;
		}
		snprintf(rel, sizeof(rel), "/sys/class/iommu/%s/amd-iommu", u->name);
		path_of(d, p, sizeof(p), rel);
		if (!stat(p, &st)) {
			u->kind = U_AMD;
			check_amd_unit(d, u);
			continue;
		}
		if (has_prefix(u->name, "smmu3.")) {
			u->kind = U_SMMUV3;
			check_smmu_unit(d, u);
			continue;
		}
		u->kind = U_OTHER;
		add_check(&u->checks, "driver", ST_BLOCK,
			  fmt("an IOMMU this tool knows no SVA support for"), NULL, NULL);
	}
	free_list(names, n);
}

static const char *unit_kind_name(enum unit_kind k)
{
	switch (k) {
	case U_INTEL: return "intel-vtd";
	case U_AMD: return "amd-vi";
	case U_SMMUV3: return "arm-smmu-v3";
	default: return "other";
	}
}

static struct unit *find_unit(struct doctor *d, const char *name)
{
	for (size_t i = 0; i < d->nunits; i++)
		if (!strcmp(d->units[i].name, name))
			return &d->units[i];
	return NULL;
}

static void check_no_units(struct doctor *d)
{
	char p[PATH_MAX], buf[256];
	struct stat st;
	const char *v;
	bool dmar, ivrs;

	if (d->nunits)
		return;
	path_of(d, p, sizeof(p), "/sys/firmware/acpi/tables/DMAR");
	dmar = !stat(p, &st);
	path_of(d, p, sizeof(p), "/sys/firmware/acpi/tables/IVRS");
	ivrs = !stat(p, &st);
	v = cmdline_param(d, "intel_iommu", buf, sizeof(buf));
	if (dmar && v && has_opt(v, "off"))
		add_check(&d->kernel, "iommu", ST_BLOCK,
			  fmt("no IOMMU driver is active: intel_iommu=off on the command line"),
			  fmt("/sys/class/iommu is empty; /sys/firmware/acpi/tables/DMAR exists"),
			  fmt("remove intel_iommu=off; boot with intel_iommu=on,sm_on"));
	else if (dmar)
		add_check(&d->kernel, "iommu", ST_BLOCK,
			  fmt("no IOMMU driver is active although the firmware describes VT-d units"),
			  fmt("/sys/class/iommu is empty; /sys/firmware/acpi/tables/DMAR exists"),
			  fmt("boot with intel_iommu=on,sm_on"));
	else if (ivrs)
		add_check(&d->kernel, "iommu", ST_BLOCK,
			  fmt("no IOMMU driver is active although the firmware describes AMD-Vi units"),
			  fmt("/sys/class/iommu is empty; /sys/firmware/acpi/tables/IVRS exists"),
			  fmt("remove amd_iommu=off or iommu=off from the command line"));
	else
		add_check(&d->kernel, "iommu", ST_BLOCK, fmt("no IOMMU: no driver registered a unit"),
			  fmt("/sys/class/iommu is empty%s", is_x86(d) ?
			      "; no ACPI DMAR or IVRS table in /sys/firmware/acpi/tables" : ""),
			  fmt("enable VT-d / AMD-Vi / the SMMU in the firmware (in QEMU: -M q35 "
			      "-device intel-iommu,x-scalable-mode=on,x-pasid-mode=on)"));
}

/* ---- PCI devices ---- */

static uint32_t cfg32(const uint8_t *b, size_t off)
{
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
	       (uint32_t)b[off + 3] << 24;
}

static uint16_t cfg16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] | b[off + 1] << 8);
}

/* Walks the PCIe extended capabilities (0x100..) as pci_find_ext_capability does. */
static void parse_ext_caps(struct pcidev *p, const uint8_t *b, size_t len)
{
	size_t pos = 0x100;
	int ttl = (4096 - 0x100) / 8;

	p->pasid.present = p->ats.present = p->pri.present = T_NO;
	while (pos >= 0x100 && pos + 16 <= len && ttl-- > 0) {
		uint32_t h = cfg32(b, pos);
		unsigned id = h & 0xffff;

		if (h == 0 || h == 0xffffffff)
			break;
		if (id == 0x1b) { /* PCI_EXT_CAP_ID_PASID */
			uint16_t cap = cfg16(b, pos + 4), ctrl = cfg16(b, pos + 6);

			p->pasid.present = T_YES;
			p->pasid.width = (cap >> 8) & 0x1f;
			p->pasid.exec = cap & 2;
			p->pasid.priv = cap & 4;
			p->pasid.enabled = ctrl & 1;
		} else if (id == 0x0f) { /* PCI_EXT_CAP_ID_ATS */
			p->ats.present = T_YES;
			p->ats.enabled = cfg16(b, pos + 6) & 0x8000;
		} else if (id == 0x13) { /* PCI_EXT_CAP_ID_PRI */
			p->pri.present = T_YES;
			p->pri.enabled = cfg16(b, pos + 4) & 1;
		}
		pos = h >> 20;
	}
}

/* The idxd device (dsaN / iaxN) of this PCI function: its SVA state. */
static void check_idxd(struct doctor *d, struct pcidev *p)
{
	size_t n;
	char **names = list_dir(d, "/sys/bus/dsa/devices", &n);
	char rel[PATH_MAX], pth[PATH_MAX], real[PATH_MAX];
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i];
		char *en, *parent;

		if (!has_prefix(nm, "dsa") && !has_prefix(nm, "iax"))
			continue;
		snprintf(rel, sizeof(rel), "/sys/bus/dsa/devices/%s", nm);
		path_of(d, pth, sizeof(pth), rel);
		if (!realpath(pth, real))
			continue;
		*strrchr(real, '/') = '\0';
		parent = strrchr(real, '/');
		if (!parent || strcmp(parent + 1, p->bdf))
			continue;
		found = true;
		snprintf(rel, sizeof(rel), "/sys/bus/dsa/devices/%s/pasid_enabled", nm);
		en = read_str(d, rel);

		/* the work queues wqN.M of this device: mode and state */
		char wqs[1024] = "";
		size_t len = 0, prefix_len;
		char prefix[32];
		bool shared = false;

		snprintf(prefix, sizeof(prefix), "wq%s.", nm + 3);
		prefix_len = strlen(prefix);
		for (size_t j = 0; j < n; j++) {
			char *mode, *state;

			if (strncmp(names[j], prefix, prefix_len))
				continue;
			snprintf(rel, sizeof(rel), "/sys/bus/dsa/devices/%s/mode", names[j]);
			mode = read_str(d, rel);
			snprintf(rel, sizeof(rel), "/sys/bus/dsa/devices/%s/state", names[j]);
			state = read_str(d, rel);
			if (mode && !strcmp(mode, "shared"))
				shared = true;
			if (len < sizeof(wqs))
				len += (size_t)snprintf(wqs + len, sizeof(wqs) - len, "%s%s %s %s",
							len ? ", " : "", names[j],
							mode ? mode : "?", state ? state : "?");
			free(mode);
			free(state);
		}
		if (!en)
			add_check(&p->checks, "idxd", ST_UNKNOWN,
				  fmt("%s: pasid_enabled is not readable", nm),
				  fmt("/sys/bus/dsa/devices/%s/pasid_enabled", nm), NULL);
		else if (!strcmp(en, "1"))
			add_check(&p->checks, "idxd", ST_OK,
				  fmt("%s: user PASID enabled; work queues: %s", nm,
				      len ? wqs : "none configured"),
				  fmt("/sys/bus/dsa/devices/%s/pasid_enabled = 1", nm), NULL);
		else
			add_check(&p->checks, "idxd", ST_BLOCK,
				  fmt("%s: idxd runs without user PASID (pasid_enabled 0): no SVA and no "
				      "shared work queues%s; work queues: %s", nm,
				      shared ? " (a shared wq is configured and cannot be enabled)" : "",
				      len ? wqs : "none configured"),
				  fmt("/sys/bus/dsa/devices/%s/pasid_enabled = %s", nm, en),
				  fmt("idxd turns user SVA on at probe when the IOMMU can: fix the IOMMU "
				      "blockers above, then reload idxd (dmesg shows \"Unable to turn "
				      "on user SVA feature\" when it fails)"));
		free(en);
	}
	if (!found)
		add_check(&p->checks, "idxd", ST_INFO,
			  fmt("bound to idxd but no dsa/iax device of it is in /sys/bus/dsa/devices"),
			  NULL, NULL);
	free_list(names, n);
}

/* uacce (HiSilicon accelerators): flags bit 0 is UACCE_DEV_SVA (uapi/misc/uacce/uacce.h). */
static void check_uacce(struct doctor *d, struct pcidev *p)
{
	size_t n;
	char **names = list_dir(d, "/sys/class/uacce", &n);
	char rel[PATH_MAX], dev[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		char *flags;
		unsigned long f;

		snprintf(rel, sizeof(rel), "/sys/class/uacce/%s/device", names[i]);
		link_base(d, rel, dev, sizeof(dev));
		if (strcmp(dev, p->bdf))
			continue;
		snprintf(rel, sizeof(rel), "/sys/class/uacce/%s/flags", names[i]);
		flags = read_str(d, rel);
		if (!flags) {
			add_check(&p->checks, "uacce", ST_UNKNOWN, fmt("%s: flags not readable", names[i]),
				  fmt("%s", rel), NULL);
			continue;
		}
		f = strtoul(flags, NULL, 0);
		if (f & 1)
			add_check(&p->checks, "uacce", ST_OK,
				  fmt("%s: registered with UACCE_DEV_SVA", names[i]),
				  fmt("%s = %s", rel, flags), NULL);
		else
			add_check(&p->checks, "uacce", ST_BLOCK,
				  fmt("%s: registered without UACCE_DEV_SVA: opening it does not bind "
				      "SVA", names[i]),
				  fmt("%s = %s", rel, flags),
				  fmt("the driver fell back to no-SVA mode (its uacce_mode parameter, or "
				      "the IOMMU refused SVA at probe): fix the blockers above and reload it"));
		free(flags);
	}
	free_list(names, n);
}

static void check_device(struct doctor *d, struct pcidev *p)
{
	struct checks *c = &p->checks;
	struct unit *u = p->unit[0] ? find_unit(d, p->unit) : NULL;
	bool intel = u && u->kind == U_INTEL;
	bool v61 = d->ver_known && d->ver[0] == 6 && d->ver[1] <= 1;

	/* the IOMMU */
	if (p->group < 0) {
		add_check(c, "iommu_group", ST_BLOCK,
			  fmt("not behind an IOMMU: the device has no iommu_group"),
			  fmt("/sys/bus/pci/devices/%s/iommu_group is missing", p->bdf),
			  d->nunits ? fmt("check that the IOMMU's ACPI scope covers this device") : NULL);
	} else {
		enum status st = ST_OK;

		if (p->group_devices > 1)
			st = v61 ? ST_BLOCK : ST_INFO;
		add_check(c, "iommu_group", st,
			  fmt("group %d, default domain %s, %d device%s%s", p->group,
			      p->group_type[0] ? p->group_type : "?", p->group_devices,
			      p->group_devices == 1 ? "" : "s",
			      p->group_devices <= 1 ? "" :
			      v61 ? ": 6.1's iommu_sva_bind_device refuses groups of more than one "
				    "device (-EINVAL)" :
				    ": a PASID attach applies to every device of the group"),
			  fmt("/sys/kernel/iommu_groups/%d/{type,devices}", p->group),
			  st == ST_BLOCK ? fmt("put the device in its own group (ACS on the path)") :
					   NULL);
	}
	if (p->group >= 0) {
		if (!u)
			add_check(c, "iommu", ST_UNKNOWN,
				  fmt("the device's IOMMU unit is not in /sys/class/iommu"),
				  fmt("/sys/bus/pci/devices/%s/iommu", p->bdf), NULL);
		else if (worst(&u->checks) == ST_BLOCK)
			add_check(c, "iommu", ST_BLOCK,
				  fmt("its IOMMU %s cannot do SVA (see %s above)", u->name, u->name),
				  NULL, NULL);
		else if (worst(&u->checks) == ST_UNKNOWN)
			add_check(c, "iommu", ST_UNKNOWN,
				  fmt("its IOMMU %s may not do SVA (see %s above)", u->name, u->name),
				  NULL, NULL);
		else
			add_check(c, "iommu", ST_OK, fmt("its IOMMU %s can do SVA", u->name), NULL,
				  NULL);
	}

	/* config space: PASID, ATS, PRI */
	if (p->cfg_len < 0) {
		add_check(c, "config_space", ST_UNKNOWN,
			  fmt("config space is not readable: PASID, ATS and PRI unknown"),
			  fmt("/sys/bus/pci/devices/%s/config", p->bdf), NULL);
	} else if (p->cfg_len <= 64 && geteuid() != 0) {
		add_check(c, "config_space", ST_UNKNOWN,
			  fmt("only the first 64 bytes of config space are readable without root: "
			      "PASID, ATS and PRI unknown"),
			  fmt("/sys/bus/pci/devices/%s/config (%ld bytes)", p->bdf, p->cfg_len),
			  fmt("run as root"));
		need_root(d, fmt("PCI extended config space (PASID, ATS, PRI capabilities)"));
	} else if (p->cfg_len <= 256) {
		add_check(c, "pasid", ST_BLOCK,
			  fmt("no PASID capability: the device has no PCIe extended config space"),
			  fmt("/sys/bus/pci/devices/%s/config is %ld bytes", p->bdf, p->cfg_len),
			  fmt("none in software: SVA needs a device with the PCIe PASID capability"));
	} else {
		if (p->pasid.present != T_YES) {
			add_check(c, "pasid", ST_BLOCK,
				  fmt("no PASID capability (extended capability 0x1b)"),
				  fmt("/sys/bus/pci/devices/%s/config", p->bdf),
				  fmt("none in software: SVA needs a device with the PCIe PASID "
				      "capability"));
		} else {
			uint64_t dev_max = 1ull << p->pasid.width;
			enum status st = ST_OK;
			char maxs[32] = "unknown";

			if (u && u->max_pasids) {
				p->max_pasids = dev_max < u->max_pasids ? dev_max : u->max_pasids;
				snprintf(maxs, sizeof(maxs), "%" PRIu64, p->max_pasids);
			}
			if (!p->pasid.enabled)
				st = intel ? ST_BLOCK : ST_WARN;
			add_check(c, "pasid", st,
				  fmt("PASID capability: %u-bit%s%s, %s; max_pasids %s", p->pasid.width,
				      p->pasid.exec ? ", exec" : "", p->pasid.priv ? ", priv" : "",
				      p->pasid.enabled ? "enabled" : "not enabled", maxs),
				  fmt("/sys/bus/pci/devices/%s/config; max_pasids = min(device, IOMMU) "
				      "as dev_iommu_get_max_pasids computes it", p->bdf),
				  p->pasid.enabled ? NULL :
				  intel && worst(&u->checks) != ST_OK ?
					  fmt("the VT-d driver enables PASID at probe only when the unit "
					      "supports PASIDs in scalable mode: fix the IOMMU first") :
				  intel ? fmt("the VT-d driver enables PASID at probe "
					      "(intel_iommu_probe_device) when the unit supports PASIDs; "
					      "it did not for this device: look for it in dmesg") :
					  fmt("the IOMMU driver enables PASID when it attaches the device"));
		}
		/* VT-d: intel_iommu_sva_supported (7.2) / intel_iommu_enable_sva (6.12) need ATS. */
		if (p->ats.present != T_YES)
			add_check(c, "ats", intel ? ST_BLOCK : ST_INFO,
				  fmt("no ATS capability%s", intel ? ": the VT-d driver refuses SVA "
					  "without ATS enabled (-EINVAL)" : ""),
				  NULL, NULL);
		else
			add_check(c, "ats", p->ats.enabled || !intel ? ST_OK : ST_BLOCK,
				  fmt("ATS capability, %s", p->ats.enabled ? "enabled" : "not enabled"),
				  NULL,
				  p->ats.enabled || !intel ? NULL :
				  fmt("the VT-d driver enables ATS when it attaches the device; "
				      "check the ACPI SATC/ATSR tables cover it"));
		if (p->pri.present != T_YES)
			add_check(c, "pri", ST_INFO,
				  fmt("no PRI capability: the device must handle its own I/O page faults"),
				  NULL, NULL);
		else
			add_check(c, "pri", ST_INFO,
				  fmt("PRI capability, %s%s", p->pri.enabled ? "enabled" : "not enabled",
				      p->pri.enabled ? "" : " (the device's driver enables it with I/O "
							    "page faults before binding)"),
				  NULL, NULL);
	}

	/* the driver */
	add_check(c, "driver", ST_INFO,
		  p->driver[0] ? fmt("bound to %s", p->driver) : fmt("no driver bound"),
		  fmt("/sys/bus/pci/devices/%s/driver", p->bdf), NULL);
	if (!strcmp(p->driver, "idxd"))
		check_idxd(d, p);
	check_uacce(d, p);
	if (!strcmp(p->driver, "amdxdna"))
		add_check(c, "amdxdna", ST_INFO,
			  fmt("amdxdna binds SVA for each client that opens the device "
			      "(amdxdna_sva_init, 7.2 drivers/accel/amdxdna/amdxdna_pci_drv.c)"),
			  NULL, NULL);

	p->verdict = worst(&d->kernel) == ST_BLOCK ? ST_BLOCK : worst(c);
	if (p->verdict == ST_OK && worst(&d->kernel) == ST_UNKNOWN)
		p->verdict = ST_UNKNOWN;
}

static void read_devices(struct doctor *d)
{
	size_t n;
	char **names = list_dir(d, "/sys/bus/pci/devices", &n);
	char rel[PATH_MAX], grp[64];

	d->devs = calloc(n ? n : 1, sizeof(*d->devs));
	for (size_t i = 0; i < n; i++) {
		struct pcidev *p = &d->devs[d->ndevs++];
		char *s;
		uint8_t *cfg = NULL;
		size_t len = 0;
		int err;

		snprintf(p->bdf, sizeof(p->bdf), "%s", names[i]);
#define ATTR(field, name)                                                                   \
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/" name, p->bdf);               \
		s = read_str(d, rel);                                                               \
		snprintf(p->field, sizeof(p->field), "%s", s ? (has_prefix(s, "0x") ? s + 2 : s) : "?"); \
		free(s);
		ATTR(vendor, "vendor")
		ATTR(device, "device")
		ATTR(class_, "class")
#undef ATTR
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/driver", p->bdf);
		link_base(d, rel, p->driver, sizeof(p->driver));
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/iommu", p->bdf);
		link_base(d, rel, p->unit, sizeof(p->unit));
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/iommu_group", p->bdf);
		link_base(d, rel, grp, sizeof(grp));
		p->group = grp[0] ? atoi(grp) : -1;
		if (p->group >= 0) {
			size_t nd;
			char **devs;

			snprintf(rel, sizeof(rel), "/sys/kernel/iommu_groups/%d/type", p->group);
			s = read_str(d, rel);
			snprintf(p->group_type, sizeof(p->group_type), "%s", s ? s : "");
			free(s);
			snprintf(rel, sizeof(rel), "/sys/kernel/iommu_groups/%d/devices", p->group);
			devs = list_dir(d, rel, &nd);
			p->group_devices = (int)nd;
			free_list(devs, nd);
		}
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/config", p->bdf);
		err = read_file(d, rel, (char **)&cfg, 4096, &len);
		p->pasid.present = p->ats.present = p->pri.present = T_UNKNOWN;
		if (err) {
			p->cfg_len = -1;
			if (err == -EACCES)
				need_root(d, fmt("PCI config space"));
		} else {
			p->cfg_len = (long)len;
			if (len > 256)
				parse_ext_caps(p, cfg, len);
			else if (len > 64 || geteuid() == 0)
				p->pasid.present = p->ats.present = p->pri.present = T_NO;
		}
		free(cfg);
		check_device(d, p);
	}
	free_list(names, n);
}

/* ---- output ---- */

static void print_check(const struct check *k)
{
	printf("  %-7s  %-13s %s\n", status_text[k->st], k->id, k->msg);
	if (k->evidence)
		printf("  %-7s  %-13s evidence: %s\n", "", "", k->evidence);
	if (k->fix)
		printf("  %-7s  %-13s fix: %s\n", "", "", k->fix);
}

static const char *verdict_text(enum status v)
{
	return v == ST_OK ? "can bind SVA" : v == ST_BLOCK ? "cannot bind SVA" :
							     "cannot tell whether it can bind SVA";
}

static const char *verdict_json(enum status v)
{
	return v == ST_OK ? "can_bind" : v == ST_BLOCK ? "cannot_bind" : "unknown";
}

static size_t count_can(const struct doctor *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->ndevs; i++)
		k += d->devs[i].verdict == ST_OK;
	return k;
}

static void print_text(const struct doctor *d)
{
	size_t can = count_can(d), unknown = 0;

	printf("sva-trace doctor: what stands between each device and an SVA bind\n");
	if (d->root[0])
		printf("root: %s\n", d->root);
	printf("\nKernel\n");
	for (size_t i = 0; i < d->kernel.n; i++)
		print_check(&d->kernel.v[i]);
	for (size_t i = 0; i < d->nunits; i++) {
		const struct unit *u = &d->units[i];

		printf("\nIOMMU %s (%s)\n", u->name, unit_kind_name(u->kind));
		for (size_t j = 0; j < u->checks.n; j++)
			print_check(&u->checks.v[j]);
	}
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct pcidev *p = &d->devs[i];

		unknown += p->verdict == ST_UNKNOWN;
		printf("\nDevice %s [%s:%s] class %s: %s\n", p->bdf, p->vendor, p->device, p->class_,
		       verdict_text(p->verdict));
		for (size_t j = 0; j < p->checks.n; j++)
			print_check(&p->checks.v[j]);
	}
	printf("\n");
	if (!d->ndevs)
		printf("Verdict: no PCI devices found (/sys/bus/pci/devices is empty)\n");
	else if (can) {
		printf("Verdict: %zu of %zu device%s can bind SVA:", can, d->ndevs,
		       d->ndevs == 1 ? "" : "s");
		for (size_t i = 0; i < d->ndevs; i++)
			if (d->devs[i].verdict == ST_OK)
				printf(" %s", d->devs[i].bdf);
		printf("\n");
	} else
	{
		printf("Verdict: no device can bind SVA (%zu device%s", d->ndevs,
		       d->ndevs == 1 ? "" : "s");
		if (unknown)
			printf(", %zu undecided", unknown);
		printf(")\n");
	}
	for (size_t i = 0; i < d->nneeds_root; i++)
		printf("As root doctor would also read: %s\n", d->needs_root[i]);
}

static void json_checks(struct json_writer *w, const struct checks *c)
{
	jw_name(w, "checks");
	jw_start_array(w);
	for (size_t i = 0; i < c->n; i++) {
		jw_start_object(w);
		jw_string_field(w, "id", c->v[i].id);
		jw_string_field(w, "status", status_json[c->v[i].st]);
		jw_string_field(w, "message", c->v[i].msg);
		if (c->v[i].evidence)
			jw_string_field(w, "evidence", c->v[i].evidence);
		if (c->v[i].fix)
			jw_string_field(w, "fix", c->v[i].fix);
		jw_end_object(w);
	}
	jw_end_array(w);
}

static void json_cap(struct json_writer *w, const char *name, const struct cap_state *c, bool pasid)
{
	jw_name(w, name);
	if (c->present == T_UNKNOWN) {
		jw_null(w);
		return;
	}
	jw_start_object(w);
	jw_bool_field(w, "present", c->present == T_YES);
	if (c->present == T_YES) {
		jw_bool_field(w, "enabled", c->enabled);
		if (pasid) {
			jw_uint_field(w, "width", c->width);
			jw_bool_field(w, "exec", c->exec);
			jw_bool_field(w, "priv", c->priv);
		}
	}
	jw_end_object(w);
}

static void hex_field(struct json_writer *w, const char *name, uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	jw_string_field(w, name, b);
}

static int print_json(const struct doctor *d, int code)
{
	struct json_writer w;
	size_t can = count_can(d);

	jw_init(&w);
	jw_start_object(&w);
	jw_string_field(&w, "type", "doctor");
	jw_uint_field(&w, "format", DOCTOR_FORMAT);
	jw_string_field(&w, "root", d->root[0] ? d->root : "/");
	jw_name(&w, "kernel");
	jw_start_object(&w);
	jw_string_field(&w, "release", d->release);
	jw_string_field(&w, "arch", d->arch);
	if (d->ver_known)
		jw_string_field(&w, "upstream", d->upstream);
	else
		jw_null_field(&w, "upstream");
	if (d->config)
		jw_string_field(&w, "config", d->config_source);
	else
		jw_null_field(&w, "config");
	if (d->sym_source)
		jw_string_field(&w, "symbols", d->sym_source);
	else
		jw_null_field(&w, "symbols");
	if (d->cmdline)
		jw_string_field(&w, "cmdline", d->cmdline);
	else
		jw_null_field(&w, "cmdline");
	json_checks(&w, &d->kernel);
	jw_end_object(&w);

	jw_name(&w, "iommus");
	jw_start_array(&w);
	for (size_t i = 0; i < d->nunits; i++) {
		const struct unit *u = &d->units[i];

		jw_start_object(&w);
		jw_string_field(&w, "name", u->name);
		jw_string_field(&w, "driver", unit_kind_name(u->kind));
		if (u->kind == U_INTEL && u->regs_read) {
			jw_string_field(&w, "version", u->version);
			hex_field(&w, "cap", u->cap);
			hex_field(&w, "ecap", u->ecap);
		} else if (u->kind == U_AMD && u->regs_read) {
			hex_field(&w, "efr", u->efr);
			hex_field(&w, "efr2", u->efr2);
		}
		if (u->max_pasids)
			jw_uint_field(&w, "max_pasids", u->max_pasids);
		else
			jw_null_field(&w, "max_pasids");
		jw_string_field(&w, "verdict", verdict_json(worst(&u->checks)));
		json_checks(&w, &u->checks);
		jw_end_object(&w);
	}
	jw_end_array(&w);

	jw_name(&w, "devices");
	jw_start_array(&w);
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct pcidev *p = &d->devs[i];

		jw_start_object(&w);
		jw_string_field(&w, "bdf", p->bdf);
		jw_string_field(&w, "vendor", p->vendor);
		jw_string_field(&w, "device", p->device);
		jw_string_field(&w, "class", p->class_);
		if (p->driver[0])
			jw_string_field(&w, "driver", p->driver);
		else
			jw_null_field(&w, "driver");
		if (p->unit[0])
			jw_string_field(&w, "iommu", p->unit);
		else
			jw_null_field(&w, "iommu");
		if (p->group >= 0) {
			jw_int_field(&w, "group", p->group);
			jw_string_field(&w, "group_type", p->group_type);
			jw_int_field(&w, "group_devices", p->group_devices);
		} else {
			jw_null_field(&w, "group");
		}
		if (p->cfg_len >= 0)
			jw_int_field(&w, "config_bytes", p->cfg_len);
		else
			jw_null_field(&w, "config_bytes");
		json_cap(&w, "pasid", &p->pasid, true);
		json_cap(&w, "ats", &p->ats, false);
		json_cap(&w, "pri", &p->pri, false);
		if (p->max_pasids)
			jw_uint_field(&w, "max_pasids", p->max_pasids);
		else
			jw_null_field(&w, "max_pasids");
		jw_string_field(&w, "verdict", verdict_json(p->verdict));
		json_checks(&w, &p->checks);
		jw_end_object(&w);
	}
	jw_end_array(&w);

	jw_name(&w, "can_bind");
	jw_start_array(&w);
	for (size_t i = 0; i < d->ndevs; i++)
		if (d->devs[i].verdict == ST_OK)
			jw_string(&w, d->devs[i].bdf);
	jw_end_array(&w);
	jw_name(&w, "needs_root");
	jw_start_array(&w);
	for (size_t i = 0; i < d->nneeds_root; i++)
		jw_string(&w, d->needs_root[i]);
	jw_end_array(&w);
	jw_string_field(&w, "verdict", can ? "can_bind" : "cannot_bind");
	jw_int_field(&w, "exit_code", code);
	jw_end_object(&w);
	if (jw_finish(&w)) {
		jw_free(&w);
		fprintf(stderr, PROG ": internal error: the JSON document is incomplete\n");
		return 2;
	}
	printf("%s\n", w.buf);
	jw_free(&w);
	return code;
}

/* ---- main ---- */

static int usage_error(bool json, const char *fmt_, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt_);
	vsnprintf(msg, sizeof(msg), fmt_, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", msg);
	if (json) {
		struct json_writer w;

		jw_init(&w);
		jw_start_object(&w);
		jw_string_field(&w, "type", "error");
		jw_int_field(&w, "code", 2);
		jw_string_field(&w, "message", msg);
		jw_end_object(&w);
		if (!jw_finish(&w))
			printf("%s\n", w.buf);
		jw_free(&w);
	}
	return 2;
}

static const char help[] =
	"Usage: sva-trace doctor [--json] [--root DIR]\n"
	"\n"
	"Inspect this machine and say, per PCI device, what stands between it and a working\n"
	"SVA bind: the kernel (IOMMU_SVA, the driver's SVA option, whether the kernel disables\n"
	"SVA), each IOMMU unit (VT-d scalable mode, PASID, PRS; AMD-Vi GT/PPR; SMMUv3), and per\n"
	"device the iommu group, the PASID/ATS/PRI capabilities and the driver's SVA state.\n"
	"Reads only; runs unprivileged where the files allow and says what root would add.\n"
	"\n"
	"  --json       one JSON document (format in docs/doctor.md)\n"
	"  --root DIR   read /proc, /sys and /boot under DIR (also: SVA_TRACE_SYSROOT=DIR)\n"
	"  -h, --help   this text\n"
	"\n"
	"Exit status: 0 some device can bind SVA; 1 none can, or it cannot be told;\n"
	"2 usage or environment error, or the report could not be written to stdout.\n";

int doctor_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor d = { .root = "" };
	const char *root = getenv("SVA_TRACE_SYSROOT");
	char rootbuf[PATH_MAX];
	struct stat st;
	int opt, code, lost;
	bool json = false;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = true;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			d.json = true;
			break;
		case 'r':
			/* "" would be this machine's own /, not what was asked for */
			if (!*optarg)
				return usage_error(json, "--root '' is not a directory: name one "
							 "(see sva-trace doctor --help)");
			root = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case ':':
			return usage_error(json, "%s needs a value (see sva-trace doctor --help)",
					   argv[optind - 1]);
		default:
			return usage_error(json, "unknown option '%s' (see sva-trace doctor --help)",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(json, "unexpected argument '%s': doctor takes no operands",
				   argv[optind]);
	if (root && *root) {
		size_t n;

		if (stat(root, &st) || !S_ISDIR(st.st_mode))
			return usage_error(json, "root '%s' is not a directory", root);
		snprintf(rootbuf, sizeof(rootbuf), "%s", root);
		n = strlen(rootbuf);
		while (n > 1 && rootbuf[n - 1] == '/')
			rootbuf[--n] = '\0';
		d.root = !strcmp(rootbuf, "/") ? "" : rootbuf;
	}

	read_kernel_identity(&d);
	if (!d.release[0])
		return usage_error(json, "cannot read %s/proc/sys/kernel/osrelease: is procfs mounted?",
				   d.root);
	d.cmdline = read_str(&d, "/proc/cmdline");
	read_config(&d);
	load_symbols(&d);
	read_cpuinfo(&d);
	check_kernel(&d);
	read_units(&d);
	check_no_units(&d);
	read_devices(&d);

	code = count_can(&d) ? 0 : 1;
	if (d.json)
		code = print_json(&d, code);
	else
		print_text(&d);
	lost = sva_stdout_error(ferror(stdout) ? errno : 0); /* the print's own failure */
	if (lost) {
		fprintf(stderr, PROG ": writing the report to stdout failed: %s\n", strerror(lost));
		code = 2;
	}

	free_checks(&d.kernel);
	for (size_t i = 0; i < d.nunits; i++)
		free_checks(&d.units[i].checks);
	for (size_t i = 0; i < d.ndevs; i++)
		free_checks(&d.devs[i].checks);
	free(d.units);
	free(d.devs);
	free_list(d.needs_root, d.nneeds_root);
	free(d.cmdline);
	free(d.config);
	free(d.config_tried);
	free(d.upstream_evidence);
	kallsyms_free(d.ks);
	btf__free(d.btf);
	return code;
}
