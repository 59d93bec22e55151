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

/* Which text symbols a table keeps, and in which order. */
struct ksym_view {
	bool modules; /* module symbols ("... [module]") */
	bool zero_addrs; /* address 0, as kptr_restrict shows them */
	int (*cmp)(const void *, const void *);
};

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
static const struct ksym_view functions_view = { .zero_addrs = true, .cmp = cmp_name };
/* Stacks go through drivers: module symbols are kept; zero addresses resolve nothing. */
static const struct ksym_view addresses_view = { .modules = true, .cmp = cmp_addr };

static void ksyms_free(struct ksym *syms, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(syms[i].name);
	free(syms);
}

static int ksyms_parse(FILE *f, const struct ksym_view *view, struct ksym **syms, size_t *count)
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
		if ((!addr && !view->zero_addrs) || (!view->modules && strchr(line, '[')))
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
	if (n)
		qsort(all, n, sizeof(*all), view->cmp);
	*syms = all;
	*count = n;
	return 0;
fail:
	ksyms_free(all, n);
	return -ENOMEM;
}

/*
 * The one /proc/kallsyms reader, for both tables: the text symbols ('t'/'T') the view keeps,
 * sorted its way, from f (NULL: /proc/kallsyms). 0, or -errno with nothing allocated.
 */
static int ksyms_read(FILE *f, const struct ksym_view *view, struct ksym **syms, size_t *count)
{
	FILE *own = f ? NULL : fopen("/proc/kallsyms", "re");
	int ret;

	if (!f && !own)
		return -errno;
	ret = ksyms_parse(f ? f : own, view, syms, count);
	if (own)
		fclose(own);
	return ret;
}

struct kallsyms *kallsyms_parse(FILE *f)
{
	struct kallsyms *ks = calloc(1, sizeof(*ks));
	int ret = ks ? ksyms_read(f, &functions_view, &ks->syms, &ks->count) : -ENOMEM;

	if (ret) {
		free(ks);
		errno = -ret;
		return NULL;
	}
	return ks;
}

struct kallsyms *kallsyms_load(void)
{
	return kallsyms_parse(NULL);
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

struct ksym_table *ksym_table_parse(FILE *f)
{
	struct ksym_table *t = calloc(1, sizeof(*t));
	int ret = t ? ksyms_read(f, &addresses_view, &t->syms, &t->count) : -ENOMEM;

	if (ret) {
		free(t);
		errno = -ret;
		return NULL;
	}
	return t;
}

struct ksym_table *ksym_table_load(void)
{
	return ksym_table_parse(NULL);
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

int fentry_can_attach(int btf_id)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int prog_fd, link_fd, ret = 0;

	if (btf_id <= 0)
		return -ENOENT;
	opts.attach_btf_id = btf_id;
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
	sva_warn("run it as root: sudo %s", program_invocation_short_name);
	return -EPERM;
}

/*
 * Failure provenance (cause.h): how a probed callee reports failure, from its BTF return
 * type.
 */
enum sva_ret_kind sva_btf_ret_kind(const struct btf *btf, const char *func, enum sva_ret_kind dflt)
{
	/* a linear search of the whole kernel BTF: the loader passes the id it found instead */
	int id = btf ? btf__find_by_name_kind(btf, func, BTF_KIND_FUNC) : -1;

	return id > 0 ? sva_btf_func_ret_kind(btf, id, dflt) : dflt;
}

enum sva_ret_kind sva_btf_func_ret_kind(const struct btf *btf, int func_id, enum sva_ret_kind dflt)
{
	const struct btf_type *t = btf__type_by_id(btf, func_id);
	int id;

	if (!t || !btf_is_func(t))
		return dflt;
	t = btf__type_by_id(btf, t->type); /* its FUNC_PROTO */
	if (!t || !btf_is_func_proto(t))
		return dflt;
	for (id = (int)t->type; id > 0;) {
		t = btf__type_by_id(btf, id);
		if (!t)
			return dflt;
		/* ioasid_t is an unsigned int whose failure value is IOMMU_PASID_INVALID */
		if (btf_is_typedef(t) && !strcmp(btf__name_by_offset(btf, t->name_off), "ioasid_t"))
			return SVA_RET_PASID;
		if (btf_is_mod(t) || btf_is_typedef(t)) {
			id = (int)t->type;
			continue;
		}
		return btf_is_ptr(t) ? SVA_RET_PTR : SVA_RET_INT;
	}
	return dflt; /* void: nothing to fail with */
}

/*
 * The per-thread LRU maps (a thread's in-flight entry, kprobe mode's stashed arguments) on
 * many CPUs. 6.1's common LRU (kernel/bpf/bpf_lru_list.c, Debian 6.1.192:
 * `bpf_lru_list_pop_free_to_local`) refills a CPU's own free list with LOCAL_FREE_TARGET
 * (128) nodes at a time, and when the shared free list has fewer it evicts the rest of the
 * batch from the inactive list (`__bpf_lru_list_shrink`: entries whose reference bit two
 * rotations cleared; one regardless of it when there are none), before it would take
 * another CPU's free nodes. Past max_entries / 128 CPUs that use the map, a call in flight
 * across a few refills loses its entry while the map is nearly empty, and with it its failure
 * frames and its count in calls_entered (a re-sync then declines for good). 6.12.118 and 7.2
 * make the batch max_entries / possible CPUs / 2 (`lru->target_free`). Two batches a possible
 * CPU keep 6.1 from it; the objects' sizes are the floor, 2^17 the cap: at 512 possible CPUs
 * about 20 MiB of kernel memory for the in-flight entries (152 bytes an element: the hash
 * table's and LRU's header, the key, struct inflight) and 13 MiB for the stashed arguments;
 * 2.5 and 1.6 MiB at 64.
 */
#define THREAD_MAP_PER_CPU 256
#define THREAD_MAP_MAX (1u << 17)

uint32_t sva_thread_map_entries(uint32_t floor, int ncpu)
{
	uint64_t n = ncpu > 0 ? (uint64_t)ncpu * THREAD_MAP_PER_CPU : 0;

	if (n < floor)
		n = floor;
	if (n > THREAD_MAP_MAX)
		n = floor > THREAD_MAP_MAX ? floor : THREAD_MAP_MAX;
	return (uint32_t)n;
}
