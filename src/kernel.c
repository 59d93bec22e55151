// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/capability.h>

#include "kernel.h"
#include "print.h"

int kernel_btf_load(const char *path, struct btf **btf, bool *kernel_btf)
{
	*kernel_btf = access(KERNEL_BTF_PATH, R_OK) == 0;
	if (path) {
		*btf = btf__parse(path, NULL);
		if (!*btf) {
			int ret = -errno;

			sva_warn("cannot read BTF from '%s': %s", path, strerror(-ret));
			sva_warn("--btf takes a raw BTF blob or an ELF file with a .BTF section made "
				 "for this exact kernel");
			return ret;
		}
		return 0;
	}
	if (!*kernel_btf) {
		sva_warn("this kernel has no BTF (%s is missing): it was built without "
			 "CONFIG_DEBUG_INFO_BTF", KERNEL_BTF_PATH);
		sva_warn("pass --btf FILE with the BTF of this exact kernel, or use a kernel built "
			 "with BTF (Debian's are)");
		return -ENOENT;
	}
	*btf = btf__load_vmlinux_btf();
	if (!*btf) {
		int ret = -errno;

		sva_warn("cannot parse %s: %s", KERNEL_BTF_PATH, strerror(-ret));
		return ret;
	}
	return 0;
}

/* A text symbol of /proc/kallsyms ("addr t|T name [module]"). */
struct ksym {
	uint64_t addr;
	char *name;
};

/* Both tables are a sorted array of symbols: by name (kallsyms), by address (ksym_table). */
struct kallsyms {
	struct ksym *syms;
	size_t count;
};

struct ksym_table {
	struct ksym *syms;
	size_t count;
};

static void ksyms_free(struct ksym *syms, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(syms[i].name);
	free(syms);
}

/*
 * The one /proc/kallsyms reader: the text symbols ('t'/'T'), without module symbols when
 * !modules, without the address-0 ones (what kptr_restrict shows) when !zero_addrs.
 * Returns 0, or -ENOMEM with nothing allocated.
 */
static int read_text_symbols(FILE *f, bool modules, bool zero_addrs, struct ksym **syms,
			     size_t *count)
{
	struct ksym *all = NULL;
	size_t n = 0, cap = 0;
	char line[512];

	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if ((!addr && !zero_addrs) || (!modules && strchr(line, '[')))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct ksym *grown = realloc(all, ncap * sizeof(*grown));

			if (!grown)
				goto fail;
			all = grown;
			cap = ncap;
		}
		all[n].addr = addr;
		all[n].name = strdup(name);
		if (!all[n].name)
			goto fail;
		n++;
	}
	*syms = all;
	*count = n;
	return 0;
fail:
	ksyms_free(all, n);
	return -ENOMEM;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct ksym *)a)->name, ((const struct ksym *)b)->name);
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Module symbols are not ours; the names count even when kptr_restrict zeroes the addresses. */
struct kallsyms *kallsyms_parse(FILE *f)
{
	struct kallsyms *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return NULL;
	if (read_text_symbols(f, false, true, &ks->syms, &ks->count)) {
		free(ks);
		errno = ENOMEM;
		return NULL;
	}
	if (ks->count)
		qsort(ks->syms, ks->count, sizeof(*ks->syms), cmp_name);
	return ks;
}

struct kallsyms *kallsyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct kallsyms *ks;

	if (!f)
		return NULL;
	ks = kallsyms_parse(f);
	fclose(f);
	return ks;
}

bool kallsyms_has_func(const struct kallsyms *ks, const char *name)
{
	struct ksym key = { .name = (char *)name };

	return ks && ks->count &&
	       bsearch(&key, ks->syms, ks->count, sizeof(*ks->syms), cmp_name) != NULL;
}

void kallsyms_free(struct kallsyms *ks)
{
	if (!ks)
		return;
	ksyms_free(ks->syms, ks->count);
	free(ks);
}

/* Stacks go through drivers: module symbols are kept; zero addresses resolve nothing. */
struct ksym_table *ksym_table_parse(FILE *f)
{
	struct ksym_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (read_text_symbols(f, true, false, &t->syms, &t->count)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	if (t->count)
		qsort(t->syms, t->count, sizeof(*t->syms), cmp_addr);
	return t;
}

struct ksym_table *ksym_table_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksym_table *t;

	if (!f)
		return NULL;
	t = ksym_table_parse(f);
	fclose(f);
	return t;
}

const char *ksym_resolve(const struct ksym_table *t, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = t ? t->count : 0;

	/* the last symbol at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	else
		snprintf(buf, len, "%s+0x%llx", t->syms[lo - 1].name,
			 (unsigned long long)(addr - t->syms[lo - 1].addr));
	return buf;
}

void ksym_table_free(struct ksym_table *t)
{
	if (!t)
		return;
	ksyms_free(t->syms, t->count);
	free(t);
}

int fentry_can_attach(const struct btf *btf, const char *func)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id, prog_fd, link_fd, ret = 0;

	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id <= 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "sva_probe", "GPL", insns, 2, &opts);
	if (prog_fd < 0)
		return -errno;
	link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_FENTRY, NULL);
	if (link_fd < 0)
		ret = -errno;
	else
		close(link_fd);
	close(prog_fd);
	return ret;
}

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *data, int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data)) {
		int ret = -errno;

		sva_warn("cannot read this process's capabilities: %s", strerror(-ret));
		return ret;
	}
	admin = has_cap(data, CAP_SYS_ADMIN);
	bpf = has_cap(data, CAP_BPF);
	perfmon = has_cap(data, CAP_PERFMON);
	if (admin || (bpf && perfmon))
		return 0;
	sva_warn("loading tracing programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and "
		 "this process has %s", bpf ? "CAP_BPF only" : perfmon ? "CAP_PERFMON only" : "neither");
	sva_warn("run it as root: sudo sva-trace");
	return -EPERM;
}
