// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <inttypes.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "cause.h"
#include "corebtf.h"
#include "fnv.h"
#include "json_writer.h"
#include "kernel.h"
#include "loader.h"
#include "print.h"
#include "sva_state.h"
#include "state.h"
#include "sva_trace.skel.h"
#include "sva_state.skel.h"

#define PROG(x) offsetof(struct sva_trace_bpf, progs.x)

/*
 * The traced calls bind, attach, replace and PASID allocation have an fentry beside their
 * fexit: it opens the thread's in-flight frame that failure provenance needs. Unbind and
 * detach are recorded at their entry and have an fexit beside it: with bind, attach and
 * replace they count the state-changing calls in flight (sva_loader_calls).
 */
static const struct probe_spec specs[SVA_NR_PROBES] = {
	{ "iommu_sva_bind_device", PROG(fexit_bind), PROG(kprobe_bind), PROG(kretprobe_bind), true,
	  false, PROG(fentry_bind), .fsession_prog = PROG(fsession_bind) },
	{ "iommu_sva_unbind_device", PROG(fexit_unbind), PROG(kprobe_unbind),
	  PROG(kretprobe_unbind), true, false, PROG(fentry_unbind),
	  .fsession_prog = PROG(fsession_unbind) },
	{ "iommu_attach_device_pasid", PROG(fexit_attach), PROG(kprobe_attach),
	  PROG(kretprobe_attach), true, false, PROG(fentry_attach),
	  .fsession_prog = PROG(fsession_attach) },
	{ "iommu_replace_device_pasid", PROG(fexit_replace), PROG(kprobe_replace),
	  PROG(kretprobe_replace), true, false, PROG(fentry_replace),
	  .fsession_prog = PROG(fsession_replace) },
	{ "iommu_detach_device_pasid", PROG(fexit_detach), PROG(kprobe_detach),
	  PROG(kretprobe_detach), true, false, PROG(fentry_detach),
	  .fsession_prog = PROG(fsession_detach) },
	{ "iommu_attach_handle_get", PROG(fexit_lookup), PROG(kprobe_lookup),
	  PROG(kretprobe_lookup), true },
	{ "iommu_alloc_global_pasid", PROG(fexit_pasid_alloc), PROG(kprobe_pasid_alloc),
	  PROG(kretprobe_pasid_alloc), false, false, PROG(fentry_pasid_alloc),
	  .fsession_prog = PROG(fsession_pasid_alloc) },
	{ "iommu_free_global_pasid", PROG(fentry_pasid_free), PROG(kprobe_pasid_free), 0, false },
	{ "iommu_sva_alloc_pasid", PROG(fexit_mm_pasid_alloc), PROG(kprobe_mm_pasid_alloc),
	  PROG(kretprobe_mm_pasid_alloc), false, false, PROG(fentry_mm_pasid_alloc) },
	{ "ioasid_free", PROG(fentry_ioasid_free), PROG(kprobe_ioasid_free), 0, false },
	{ "mm_pasid_drop", PROG(fentry_mm_pasid_drop), PROG(kprobe_mm_pasid_drop), 0, false },
	{ "iommu_report_device_fault", PROG(fexit_fault_report), PROG(kprobe_fault_report),
	  PROG(kretprobe_fault_report), false, false, PROG(fentry_fault_report),
	  .fsession_prog = PROG(fsession_fault_report) },
	{ "sched_process_exit", PROG(proc_exit), 0, 0, false, true },
	{ "exit_mmap", PROG(mm_exit), 0, 0, false, true },
};

static void set_reason(struct probe_state *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The callee program slots, by flavor (bpf/sva_trace.bpf.c CALLEE_SLOT). */
#define SLOT(i) { PROG(callee_fentry_##i), PROG(callee_fexit_##i), PROG(callee_kprobe_##i), \
		  PROG(callee_kretprobe_##i), PROG(callee_fsession_##i) }
static const size_t slot_progs[SVA_CALLEE_SLOTS][5] = {
	SLOT(0), SLOT(1), SLOT(2), SLOT(3), SLOT(4), SLOT(5), SLOT(6), SLOT(7),
	SLOT(8), SLOT(9), SLOT(10), SLOT(11), SLOT(12), SLOT(13), SLOT(14), SLOT(15),
};
#undef SLOT

/* One probe per callee of src/cause.c's table; slots are given once the plan is made. */
static void add_callees(struct sva_loader *ld)
{
	int n;
	const struct sva_callee *c = sva_callees(&n);

	for (int i = 0; i < n && i < SVA_MAX_CALLEES; i++) {
		struct probe_spec *s = &ld->callee_specs[i];

		memset(s, 0, sizeof(*s));
		s->func = c[i].func;
		s->callee_id = c[i].id;
		s->iommu_prefix = c[i].iommu_prefix;
		s->iommu_what = c[i].iommu_what;
		s->callee_slot = -1;
		ld->probes[ld->nr_probes++].spec = s;
		ld->nr_callees++;
	}
}

/*
 * Gives each callee the plan kept a slot, in table order; one past the last slot is not
 * probed. The slot's programs become the spec's, so attaching, falling back to kprobes
 * and detaching treat callees like the traced functions.
 */
static void assign_slots(struct sva_loader *ld)
{
	int next = 0;

	for (int i = SVA_NR_PROBES; i < ld->nr_probes; i++) {
		struct probe_state *p = &ld->probes[i];
		struct probe_spec *s = &ld->callee_specs[i - SVA_NR_PROBES];

		s->callee_slot = -1;
		s->fentry_entry_prog = s->fentry_prog = s->kprobe_prog = s->kretprobe_prog = 0;
		s->fsession_prog = 0;
		if (p->mode == ATTACH_NONE)
			continue;
		if (next == SVA_CALLEE_SLOTS) {
			p->mode = ATTACH_NONE;
			set_reason(p, "no free BPF program slot (%d in use)", SVA_CALLEE_SLOTS);
			continue;
		}
		s->callee_slot = next;
		s->fentry_entry_prog = slot_progs[next][0];
		s->fentry_prog = slot_progs[next][1];
		s->kprobe_prog = slot_progs[next][2];
		s->kretprobe_prog = slot_progs[next][3];
		s->fsession_prog = slot_progs[next][4];
		next++;
	}
}

/*
 * How the callee reports failure: its BTF return type, else the table's. By the id the plan
 * found: a search by name per callee was a linear scan of the kernel's BTF each, 19 of them
 * (most of the plan's time under TCG, and for callees this kernel does not even have).
 */
static enum sva_ret_kind callee_ret_kind(const struct btf *btf, const struct probe_state *p)
{
	int n;
	const struct sva_callee *c = sva_callees(&n);
	enum sva_ret_kind dflt = SVA_RET_INT;

	for (int i = 0; i < n; i++)
		if (c[i].id == p->spec->callee_id)
			dflt = c[i].ret;
	return p->in_btf ? sva_btf_func_ret_kind(btf, p->btf_id, dflt) : dflt;
}

void sva_loader_opts_from(struct sva_loader_opts *lo, const struct sva_options *opts)
{
	memset(lo, 0, sizeof(*lo));
	lo->btf_path = opts->btf_path;
	lo->probe_mode = opts->probe_mode;
	lo->verbose = opts->verbose;
	lo->check = opts->check;
	lo->stacks = opts->stacks;
	lo->all_lookups = opts->all_lookups;
	lo->ring_size = opts->ring_size;
}

const struct probe_spec *sva_probe_specs(int *count)
{
	*count = SVA_NR_PROBES;
	return specs;
}

bool sva_loader_attached(const struct sva_loader *ld, const char *func)
{
	for (int i = 0; i < ld->nr_probes; i++)
		if (ld->probes[i].attached && !strcmp(ld->probes[i].spec->func, func))
			return true;
	return false;
}

const char *attach_mode_name(const struct probe_state *p)
{
	switch (p->mode) {
	case ATTACH_NONE:
		return "-";
	case ATTACH_FENTRY:
		if (p->session)
			return "fsession";
		return p->spec->kretprobe_prog ? "fexit" : "fentry";
	case ATTACH_KPROBE:
		return p->spec->kretprobe_prog ? "kprobe+kretprobe" : "kprobe";
	case ATTACH_RAW_TP:
		return "raw_tp";
	}
	return "?";
}

static void set_reason(struct probe_state *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

/*
 * /proc/kallsyms is only needed for kprobes: reading and indexing it is the
 * slowest step of start-up (~0.4 s of a ~1 s start under QEMU TCG), so it is
 * read when a probe needs a kprobe, the kernel has no BTF, or --check asks
 * for the whole picture.
 */
static struct kallsyms *need_kallsyms(struct sva_loader *ld, const struct sva_loader_opts *opts,
				      struct kallsyms **ks)
{
	if (*ks || ld->kallsyms_read)
		return *ks;
	ld->kallsyms_read = true;
	*ks = kallsyms_load();
	if (!*ks && opts->verbose)
		sva_info("/proc/kallsyms unreadable (%s): kprobe mode unavailable", strerror(errno));
	for (int i = 0; *ks && i < ld->nr_probes; i++) {
		struct probe_state *p = &ld->probes[i];

		if (p->spec->tracepoint)
			continue;
		p->in_kallsyms = kallsyms_has_func(*ks, p->spec->func);
		p->present = p->present || p->in_kallsyms;
		/* Found only now (not in BTF): a kprobe at the next load. */
		if (p->in_kallsyms && !p->in_btf && p->mode == ATTACH_NONE &&
		    opts->probe_mode != PROBE_MODE_FENTRY) {
			p->mode = ATTACH_KPROBE;
			p->reason[0] = '\0';
		}
	}
	return *ks;
}

/* A probe fentry could not serve: kprobe if allowed and possible, else none. */
static void plan_kprobe(struct sva_loader *ld, struct probe_state *p,
			const struct sva_loader_opts *opts, struct kallsyms **ks)
{
	p->mode = ATTACH_NONE;
	if (opts->probe_mode == PROBE_MODE_FENTRY)
		return;
	need_kallsyms(ld, opts, ks);
	if (!p->present) {
		set_reason(p, "not in this kernel");
		return;
	}
	if (!p->in_kallsyms) {
		if (opts->probe_mode == PROBE_MODE_KPROBE || !p->reason[0])
			set_reason(p, "not in /proc/kallsyms: kprobe impossible");
		return;
	}
	p->mode = ATTACH_KPROBE;
}

/* The plan's table of probe names: a power of two, at least twice the probes. */
#define PLAN_SLOTS 128
_Static_assert(PLAN_SLOTS >= 2 * (SVA_NR_PROBES + SVA_MAX_CALLEES), "plan table too small");

/*
 * Decide present / in_btf / in_kallsyms and the mode of each probe. fentry is
 * planned for every function in the kernel's BTF without trying it first: the
 * load and attach that follow are the test (see sva_loader_start). Every
 * function we probe is a global, traceable text symbol with a BTF FUNC record
 * wherever it exists (docs/KERNEL-SYMBOLS.md), so with kernel BTF a function
 * absent from it is absent from the kernel.
 */
/*
 * A driver's callee is left out on a machine without that driver's IOMMU: Debian's x86
 * kernels have both the VT-d and the AMD callees in their BTF, and each costs two programs
 * to verify and two trampoline updates at start-up (about 8 ms each on the lab kernel).
 * Every IOMMU driver registers its units in /sys/class/iommu (iommu_device_sysfs_add: VT-d
 * "dmar%d", AMD "ivhd%d", SMMUv3 "smmu3.%pa"; 6.1 - 7.2) and none is a module, so a driver
 * without a unit there runs none of its SVA code here. The class is read once; when it
 * cannot be read every callee is planned, as before.
 */
static void plan_driver_callees(struct sva_loader *ld)
{
	bool has_unit[SVA_MAX_CALLEES] = { false };
	DIR *d = opendir(SVA_IOMMU_CLASS_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		for (int i = SVA_NR_PROBES; i < ld->nr_probes; i++) {
			const char *pre = ld->probes[i].spec->iommu_prefix;

			if (pre && !strncmp(e->d_name, pre, strlen(pre)))
				has_unit[i - SVA_NR_PROBES] = true;
		}
	closedir(d);
	for (int i = SVA_NR_PROBES; i < ld->nr_probes; i++) {
		struct probe_state *p = &ld->probes[i];
		const struct probe_spec *s = p->spec;

		if (p->mode == ATTACH_NONE || !s->iommu_prefix || has_unit[i - SVA_NR_PROBES])
			continue;
		p->mode = ATTACH_NONE;
		set_reason(p, "no %s in this machine (%s has no %s*)", s->iommu_what,
			   SVA_IOMMU_CLASS_DIR, s->iommu_prefix);
	}
}

/* The kernel's own enum bpf_attach_type in its BTF says whether it has fsession at all. */
#define SESSION_KFUNC "bpf_session_is_return"
/* The state iterator's target: libbpf's "bpf_iter_" prefix and SEC("iter/task")'s name. */
#define ITER_TASK_FUNC "bpf_iter_task"

static bool enum_has_fsession(const struct btf *btf, const struct btf_type *t)
{
	const char *name = btf__name_by_offset(btf, t->name_off);
	const struct btf_enum *e = btf_enum(t);

	if (!name || strcmp(name, "bpf_attach_type"))
		return false;
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *n = btf__name_by_offset(btf, e->name_off);

		if (n && !strcmp(n, "BPF_TRACE_FSESSION"))
			return e->val == SVA_BPF_TRACE_FSESSION;
	}
	return false;
}

static void plan_probes(struct sva_loader *ld, const struct sva_loader_opts *opts,
			const struct btf *btf, struct kallsyms **ks)
{
	/*
	 * One pass over the kernel's types, not one btf__find_by_name_kind each; each FUNC's
	 * name is hashed once and looked up among the probes' (a strcmp against every probe
	 * name per FUNC was 146 ms of a 1.1 s start-up: Debian's 6.12 BTF has ~60 k FUNCs).
	 */
	uint16_t slots[PLAN_SLOTS] = { 0 }; /* probe index + 1, by name hash; 0: empty */
	uint32_t hashes[SVA_NR_PROBES + SVA_MAX_CALLEES];
	uint32_t session_hash = fnv1a32(SESSION_KFUNC), iter_hash = fnv1a32(ITER_TASK_FUNC);
	bool fsession = false;
	int session_id = 0;

	for (int i = 0; i < ld->nr_probes; i++) {
		uint32_t h = fnv1a32(ld->probes[i].spec->func), j = h;

		hashes[i] = h;
		if (ld->probes[i].spec->tracepoint)
			continue;
		while (slots[j % PLAN_SLOTS])
			j++;
		slots[j % PLAN_SLOTS] = (uint16_t)(i + 1);
	}
	for (uint32_t id = 1, n = btf ? btf__type_cnt(btf) : 0; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;
		uint32_t h;

		if (btf_is_enum(t) && !fsession) {
			fsession = enum_has_fsession(btf, t);
			continue;
		}
		if (!btf_is_func(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (!name)
			continue;
		h = fnv1a32(name);
		if (h == session_hash && !session_id && !strcmp(name, SESSION_KFUNC))
			session_id = (int)id;
		if (h == iter_hash && !ld->iter_task_id && !strcmp(name, ITER_TASK_FUNC))
			ld->iter_task_id = (int)id;
		for (uint32_t j = h; slots[j % PLAN_SLOTS]; j++) {
			struct probe_state *p = &ld->probes[slots[j % PLAN_SLOTS] - 1];

			/* the first FUNC of that name, as libbpf's btf__find_by_name_kind */
			if (!p->in_btf && hashes[p - ld->probes] == h &&
			    !strcmp(name, p->spec->func)) {
				p->in_btf = true;
				p->btf_id = (int)id;
			}
		}
	}
	/*
	 * fsession where the kernel has it, in auto mode (--probe-mode fentry keeps the
	 * fentry/fexit pairs) and with the kernel's own BTF (the kfunc's id is the kernel's).
	 */
	ld->session_kfunc_id = fsession && ld->kernel_btf && !opts->btf_path &&
				       opts->probe_mode == PROBE_MODE_AUTO ? session_id : 0;
	if (!ld->kernel_btf || opts->btf_path) /* the state iterator's target: the kernel's id */
		ld->iter_task_id = 0;
	if (!ld->kernel_btf || opts->probe_mode == PROBE_MODE_KPROBE || opts->check)
		need_kallsyms(ld, opts, ks);
	for (int i = 0; i < ld->nr_probes; i++) {
		struct probe_state *p = &ld->probes[i];
		const struct probe_spec *s = p->spec;

		p->mode = ATTACH_NONE;
		if (s->tracepoint) {
			p->present = true;
			p->mode = ATTACH_RAW_TP;
			continue;
		}
		p->present = p->in_btf || p->in_kallsyms;
		if (!p->present) {
			set_reason(p, "not in this kernel");
			continue;
		}
		if (opts->probe_mode != PROBE_MODE_KPROBE) {
			if (ld->kernel_btf && p->in_btf) {
				p->mode = ATTACH_FENTRY;
				continue;
			}
			set_reason(p, "fentry needs the function in kernel BTF");
		}
		plan_kprobe(ld, p, opts, ks);
	}
	plan_driver_callees(ld);
}

/*
 * The load failed with fentry planned: find which functions the kernel
 * refuses fentry for, one small trial program each, and plan kprobes for those.
 */
static void retry_plan_after_refusal(struct sva_loader *ld, const struct sva_loader_opts *opts,
				     struct kallsyms **ks)
{
	for (int i = 0; i < ld->nr_probes; i++) {
		struct probe_state *p = &ld->probes[i];
		int ret;

		if (p->mode != ATTACH_FENTRY)
			continue;
		ret = fentry_can_attach(p->btf_id);
		if (!ret)
			continue;
		set_reason(p, "fentry refused by the kernel: %s", strerror(-ret));
		plan_kprobe(ld, p, opts, ks);
	}
}

static bool sessions_planned(const struct sva_loader *ld)
{
	for (int i = 0; i < ld->nr_probes; i++)
		if (ld->probes[i].session)
			return true;
	return false;
}

/*
 * The kernel refused an fsession program (at load or attach): fentry/fexit pairs instead,
 * for every function, with a fresh load (autoload is fixed at load time).
 */
static void drop_sessions(struct sva_loader *ld, int err)
{
	ld->session_kfunc_id = 0;
	ld->session_refused = err;
	for (int i = 0; i < ld->nr_probes; i++)
		ld->probes[i].session = false;
}

static bool fentry_planned(const struct sva_loader *ld)
{
	for (int i = 0; i < ld->nr_probes; i++)
		if (ld->probes[i].mode == ATTACH_FENTRY)
			return true;
	return false;
}

static struct bpf_program *prog(struct sva_loader *ld, size_t off)
{
	return off ? *(struct bpf_program **)((char *)ld->skel + off) : NULL;
}

/*
 * fentry/fexit targets by the plan's BTF ids. libbpf 1.1 finds the target of every
 * fentry/fexit program it loads (and of every bpf_program__set_attach_target) with
 * btf__find_by_name_kind, a walk over all of the kernel's types: about 2.1 M instructions
 * each on the lab kernel's 66 k types (callgrind), 27 programs there, a tenth of the
 * start-up. The plan found each target's id already in its one hashed pass over the same
 * BTF (/sys/kernel/btf/vmlinux), so a handler of our own for "fentry" and "fexit" sections
 * gives libbpf that id at load. Registered only when the plan read the kernel's own BTF
 * (with --btf FILE its ids need not be the kernel's) and kept for the process's life:
 * loaded programs point at their section handler. Programs of other objects (sva-floor's)
 * keep the target they set by name (bpf_program__set_attach_target).
 *
 * The same handler keeps libbpf from parsing the kernel's BTF a second time. libbpf 1.1
 * parses /sys/kernel/btf/vmlinux at the load of any object with an autoloaded
 * BPF_PROG_TYPE_TRACING program (libbpf.c obj_needs_vmlinux_btf, prog_needs_vmlinux_btf),
 * to find its attach target by name: 20 ms of the lab kernel's start-up, the plan's parse
 * done again, which nothing reads once the target ids are ours and the CO-RE relocations
 * use the small BTF (btf_custom_path). So our sections open as TRACED_OPENED_AS, a type that
 * needs no kernel BTF, and each program becomes BPF_PROG_TYPE_TRACING in its prepare
 * callback. libbpf 1.1 reads a program's type at open (the handler's), in that check, in a
 * check that it is set at all, and then only in the bpf_prog_load call that follows the
 * callback (bpf_object_load_prog); bpf_program__set_type is allowed until the object's
 * load has ended. Where libbpf still needs the kernel's BTF (a target set by name, CO-RE
 * against the whole BTF) it parses it as before. The attach takes no program type
 * (bpf_program__attach_trace: the link's attach type is the handler's expected one).
 * Newer libbpf's bpf_program__set_type also drops the program's section handler, which
 * bpf_program__attach needs: attach_one calls bpf_program__attach_trace itself.
 */
#define TRACED_OPENED_AS BPF_PROG_TYPE_RAW_TRACEPOINT

static struct sva_loader *ids_loader; /* the loader whose load is under way */

/*
 * An fsession program's calls of helper SVA_SESSION_IS_RETURN become calls of the kfunc
 * bpf_session_is_return (bpf/sva_trace.bpf.c): src_reg BPF_PSEUDO_KFUNC_CALL, the kfunc's id
 * in the kernel's BTF (off 0: vmlinux). libbpf 1.1 takes the new instructions from this
 * callback (bpf_program__set_insns).
 */
static int session_calls(struct bpf_program *bp, int kfunc_id)
{
	size_t n = bpf_program__insn_cnt(bp);
	struct bpf_insn *insns = malloc(n * sizeof(*insns));
	int ret, found = 0;

	if (!insns)
		return -ENOMEM;
	memcpy(insns, bpf_program__insns(bp), n * sizeof(*insns));
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn *in = &insns[i];

		if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg || in->imm != SVA_SESSION_IS_RETURN)
			continue;
		in->src_reg = BPF_PSEUDO_KFUNC_CALL;
		in->imm = kfunc_id;
		in->off = 0;
		found++;
	}
	ret = found ? bpf_program__set_insns(bp, insns, n) : -ENOENT;
	free(insns);
	return ret;
}

static int prepare_traced_load(struct bpf_program *bp, struct bpf_prog_load_opts *o, long cookie)
{
	struct sva_loader *ld = ids_loader;
	int ret;

	(void)cookie;
	ret = bpf_program__set_type(bp, BPF_PROG_TYPE_TRACING); /* see TRACED_OPENED_AS */
	if (ret)
		return ret;
	if (o->attach_btf_id) /* bpf_program__set_attach_target() resolved it */
		return 0;
	for (int i = 0; ld && ld->skel && i < ld->nr_probes; i++) {
		const struct probe_state *ps = &ld->probes[i];

		if (ps->mode != ATTACH_FENTRY || !ps->in_btf)
			continue;
		if (ps->session && bp == prog(ld, ps->spec->fsession_prog)) {
			o->attach_btf_id = ps->btf_id;
			return session_calls(bp, ld->session_kfunc_id);
		}
		if (bp == prog(ld, ps->spec->fentry_prog) ||
		    bp == prog(ld, ps->spec->fentry_entry_prog)) {
			o->attach_btf_id = ps->btf_id;
			return 0;
		}
	}
	/* only the plan's programs are loaded without a target set by name */
	sva_warn("BPF program %s: no attach target planned", bpf_program__name(bp));
	return -ESRCH;
}

static int attach_traced(const struct bpf_program *bp, long cookie, struct bpf_link **link)
{
	(void)cookie;
	*link = bpf_program__attach_trace(bp);
	return *link ? 0 : -errno;
}

/* Once per process, before the first open: see prepare_traced_load. */
static bool traced_handlers_registered(void)
{
	static int state; /* 0 not tried, 1 registered, -1 failed */
	LIBBPF_OPTS(libbpf_prog_handler_opts, hopts, .prog_prepare_load_fn = prepare_traced_load,
		    .prog_attach_fn = attach_traced);

	if (!state) {
		state = libbpf_register_prog_handler("fentry+", TRACED_OPENED_AS,
						     BPF_TRACE_FENTRY, &hopts) >= 0 &&
				libbpf_register_prog_handler("fexit+", TRACED_OPENED_AS,
							     BPF_TRACE_FEXIT, &hopts) >= 0 &&
				libbpf_register_prog_handler("fsession+", TRACED_OPENED_AS,
							     SVA_BPF_TRACE_FSESSION, &hopts) >= 0 ?
			1 : -1;
	}
	return state > 0;
}

/* The map libbpf last failed to create: its own message is the only place that names it. */
static char failed_map[64];

static void note_failed_map(const char *fmt, va_list args)
{
	char line[256];
	const char *p;

	vsnprintf(line, sizeof(line), fmt, args);
	/* libbpf 1.x: "libbpf: map '%s': failed to create: %s(%d)" */
	p = !strncmp(line, "libbpf: ", 8) ? line + 8 : line;
	if (strncmp(p, "map '", 5) || !strstr(p, "': failed to create:"))
		return;
	p += 5;
	snprintf(failed_map, sizeof(failed_map), "%.*s", (int)strcspn(p, "'"), p);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN)
		note_failed_map(fmt, args);
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t verbose_t0;

/* -vv: libbpf's messages, stamped with the time since start-up began. */
static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list args)
{
	uint64_t us = mono_us() - verbose_t0;
	va_list copy;

	va_copy(copy, args);
	if (level == LIBBPF_WARN)
		note_failed_map(fmt, copy);
	va_end(copy);
	fprintf(stderr, "[%4" PRIu64 ".%03" PRIu64 " ms] ", us / 1000, us % 1000);
	return vfprintf(stderr, fmt, args);
}

static void format_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ull << 30) && !(n % (1ull << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", n >> 30);
	else if (n >= (1ull << 20) && !(n % (1ull << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", n >> 20);
	else if (n >= 1024 && !(n % 1024))
		snprintf(buf, len, "%" PRIu64 " KiB", n >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", n);
}

/*
 * A map the kernel would not create for lack of memory. Since 5.11 BPF maps are charged to
 * the memory cgroup (the "switch to memcg-based memory accounting" series); before, to
 * RLIMIT_MEMLOCK (EPERM when exceeded), which libbpf 1.x raises itself only on such old
 * kernels. Either way the fix is a smaller map or a higher limit.
 */
static void explain_map_failure(struct sva_loader *ld, int ret)
{
	struct bpf_map *map = bpf_object__find_map_by_name(ld->skel->obj, failed_map);
	bool ring = map && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF;
	char size[32] = "?";

	if (ring)
		format_bytes(bpf_map__max_entries(map), size, sizeof(size));
	else if (map)
		format_bytes((uint64_t)bpf_map__max_entries(map) *
				     (bpf_map__key_size(map) + bpf_map__value_size(map)),
			     size, sizeof(size));
	sva_warn("the kernel could not create the BPF map '%s' (%s%s): %s", failed_map,
		 ring ? "a ring buffer of " : "about ", size, strerror(-ret));
	sva_warn("BPF maps are charged to the memory cgroup (kernels 5.11 and later) or to "
		 "RLIMIT_MEMLOCK (older kernels): raise the cgroup's memory.max or 'ulimit -l', "
		 "or free memory%s",
		 ring ? ", or ask for a smaller ring with --ring-size (default 1M)" : "");
}

/*
 * Test hook (tests/vm/test_probes.sh): SVA_TRACE_INSNS=FILE writes one line per loaded
 * program, its name and a hash of its final instructions (map references left out: their
 * descriptors differ from run to run), to compare two loads.
 */
static void write_insns_digest(const struct bpf_object *obj, const char *mode)
{
	const char *path = getenv("SVA_TRACE_INSNS");
	struct bpf_program *p;
	FILE *f;

	if (!path || !(f = fopen(path, mode)))
		return;
	bpf_object__for_each_program(p, obj) {
		const struct bpf_insn *in = bpf_program__insns(p);
		size_t n = bpf_program__insn_cnt(p);
		uint64_t h = 14695981039346656037ull;

		if (!bpf_program__autoload(p))
			continue;
		for (size_t i = 0; i < n; i++) {
			struct bpf_insn x = in[i];

			if (x.code == (BPF_LD | BPF_IMM | BPF_DW) && x.src_reg && i + 1 < n) {
				x.imm = 0; /* a map: its descriptor */
				h = (h ^ x.code ^ (uint64_t)x.src_reg << 8) * 1099511628211ull;
				i++;
				continue;
			}
			for (size_t b = 0; b < sizeof(x); b++)
				h = (h ^ ((const uint8_t *)&x)[b]) * 1099511628211ull;
		}
		fprintf(f, "%s %016" PRIx64 " %zu\n", bpf_program__name(p), h, n);
	}
	fclose(f);
}

/* -v says once per start-up which BTF the CO-RE relocations used. */
/* Test hook (tests/vm/test_probes.sh): SVA_TRACE_CORE_BTF=full, no small CO-RE BTF. */
static bool small_core_btf_wanted(void)
{
	const char *v = getenv("SVA_TRACE_CORE_BTF");

	return !v || strcmp(v, "full");
}

static bool explain_core_once(struct sva_loader *ld)
{
	if (ld->core_explained)
		return false;
	ld->core_explained = true;
	return true;
}

/* The per-thread LRU maps sized for this machine's CPUs (kernel.h sva_thread_map_entries). */
static void size_thread_maps(struct sva_trace_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();

	bpf_map__set_max_entries(skel->maps.inflight,
				 sva_thread_map_entries(bpf_map__max_entries(skel->maps.inflight), ncpu));
	bpf_map__set_max_entries(skel->maps.entries,
				 sva_thread_map_entries(bpf_map__max_entries(skel->maps.entries), ncpu));
}

/* Explains a failure (print.h) when explain; a first try leaves that to the caller. */
static int open_and_load(struct sva_loader *ld, const struct sva_loader_opts *opts,
			 const struct btf *btf, bool explain)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .btf_custom_path = opts->btf_path);
	struct sva_trace_bpf *skel;
	struct bpf_program *p;
	bool ids = !opts->btf_path && ld->kernel_btf && btf && traced_handlers_registered();
	char core_path[32];
	int ret, core_fd = -1;

	/*
	 * The CO-RE relocations against a small BTF cut from the kernel's (src/corebtf.c);
	 * SVA_TRACE_CORE_BTF=full (a test hook) or any doubt: against the kernel's whole BTF.
	 */
	if (ids && !ld->core_refused && small_core_btf_wanted()) {
		size_t sz;
		const void *elf = sva_trace_bpf__elf_bytes(&sz);

		unsigned int n = 0;

		core_fd = corebtf_build(btf, elf, sz, core_path, sizeof(core_path), &n);
		if (core_fd >= 0)
			oopts.btf_custom_path = core_path;
		if (opts->verbose && explain_core_once(ld)) {
			if (core_fd >= 0)
				sva_info("CO-RE relocations against %u of the kernel's %u types", n,
					 btf__type_cnt(btf) - 1);
			else
				sva_info("CO-RE relocations against all of the kernel's %u types (%s)",
					 btf__type_cnt(btf) - 1, strerror(-core_fd));
		}
	}
	skel = sva_trace_bpf__open_opts(&oopts);
	if (!skel) {
		ret = -errno;
		if (core_fd >= 0)
			close(core_fd);
		if (explain)
			sva_warn("cannot open the BPF object: %s", strerror(-ret));
		return ret;
	}
	ld->skel = skel;

	for (int i = 0; i < ld->nr_probes; i++)
		if (!strcmp(ld->probes[i].spec->func, "iommu_alloc_global_pasid"))
			skel->rodata->global_pasid_alloc = ld->probes[i].present;
	skel->rodata->all_lookups = opts->all_lookups;
	skel->rodata->want_stacks = opts->stacks;
	assign_slots(ld);
	for (int i = SVA_NR_PROBES; i < ld->nr_probes; i++) {
		const struct probe_state *ps = &ld->probes[i];
		int slot = ps->spec->callee_slot;

		if (slot < 0)
			continue;
		skel->rodata->slot_func[slot] = (__u16)ps->spec->callee_id;
		skel->rodata->slot_ret[slot] = (__u8)ps->callee_ret;
		/* a slot names no function: its target is the plan's (prepare_traced_load) */
		if (ps->mode == ATTACH_FENTRY && !ids) {
			bpf_program__set_attach_target(prog(ld, ps->spec->fentry_entry_prog), 0,
						       ps->spec->func);
			bpf_program__set_attach_target(prog(ld, ps->spec->fentry_prog), 0,
						       ps->spec->func);
		}
	}
	if (!opts->stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);

	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	for (int i = 0; i < ld->nr_probes; i++) {
		struct probe_state *ps = &ld->probes[i];

		ps->session = ids && ld->session_kfunc_id && ps->mode == ATTACH_FENTRY &&
			      ps->spec->fsession_prog;
		switch (ps->mode) {
		case ATTACH_FENTRY:
			if (ps->session) {
				bpf_program__set_autoload(prog(ld, ps->spec->fsession_prog), true);
				break;
			}
			if (ps->spec->fentry_entry_prog)
				bpf_program__set_autoload(prog(ld, ps->spec->fentry_entry_prog), true);
			/* fall through */
		case ATTACH_RAW_TP:
			bpf_program__set_autoload(prog(ld, ps->spec->fentry_prog), true);
			break;
		case ATTACH_KPROBE:
			bpf_program__set_autoload(prog(ld, ps->spec->kprobe_prog), true);
			if (ps->spec->kretprobe_prog)
				bpf_program__set_autoload(prog(ld, ps->spec->kretprobe_prog), true);
			break;
		case ATTACH_NONE:
			break;
		}
	}

	bpf_map__set_max_entries(skel->maps.events, opts->ring_size ? opts->ring_size :
							       SVA_RING_SIZE_DEFAULT);
	size_thread_maps(skel);

	failed_map[0] = '\0';
	ids_loader = ld;
	ret = sva_trace_bpf__load(skel);
	ids_loader = NULL;
	if (core_fd >= 0)
		close(core_fd);
	if (ret && core_fd >= 0) {
		/* not expected (src/corebtf.c), but then the whole BTF: one more try */
		sva_trace_bpf__destroy(skel);
		ld->skel = NULL;
		ld->core_refused = ret;
		if (opts->verbose)
			sva_info("the load with the small CO-RE BTF failed (%s): again with the "
				 "kernel's whole BTF", strerror(-ret));
		return open_and_load(ld, opts, btf, explain);
	}
	if (!ret)
		write_insns_digest(ld->skel->obj, "we");
	if (ret && !explain) /* a first try: refusals are looked into by the caller */
		return ret;
	if (ret && failed_map[0] && (ret == -ENOMEM || ret == -EPERM || ret == -E2BIG)) {
		explain_map_failure(ld, ret);
		return ret;
	}
	if (ret) {
		sva_warn("the kernel refused to load the BPF programs: %s", strerror(-ret));
		if (ret == -EPERM || ret == -EACCES)
			sva_warn("run as root (CAP_BPF, CAP_PERFMON); on a kernel in lockdown "
				 "mode BPF tracing is not available at all");
		else
			sva_warn("run with -vv to see the verifier log");
	}
	return ret;
}

static void attach_failure_reason(struct probe_state *ps, int err)
{
	char earlier[sizeof(ps->reason)];
	const char *hint = "";

	/* Keep why fentry was not used: "fentry refused ...; kprobe ...". */
	snprintf(earlier, sizeof(earlier), "%s", ps->reason);
	if (ps->mode == ATTACH_KPROBE && err == -ENOENT)
		hint = " (no kprobe support in this kernel: CONFIG_KPROBES off?)";
	else if (ps->mode == ATTACH_KPROBE && err == -EINVAL)
		hint = " (function on the kprobe blacklist, or renamed by the compiler?)";
	else if (err == -EPERM || err == -EACCES)
		hint = " (lockdown or missing privileges)";
	set_reason(ps, "%s%s%s attach failed: %s%s", earlier, earlier[0] ? "; " : "",
		   ps->mode == ATTACH_KPROBE ? "kprobe" : ps->mode == ATTACH_FENTRY ? "fentry" : "raw_tp",
		   strerror(-err), hint);
}

/*
 * kretprobes with a maxactive of our choosing. The kernel keeps one instance
 * per call in flight and misses the return of a call that finds none free:
 * its default, max(10, 2 x CPUs), is too few when callers sleep inside (every
 * thread waiting on iommu_sva_lock or a group mutex holds one). libbpf 1.1's
 * perf kprobe attach cannot set it; a tracefs kprobe_events definition
 * "r<N>:group/event func", opened through perf_event_open of its id, can.
 */
#define KRETPROBE_MAXACTIVE 4096 /* KRETPROBE_MAXACTIVE_MAX, kernel/trace/trace_kprobe.c */
#define KRETPROBE_GROUP "sva_trace"

/*
 * Test hook (tests/vm/test_lab_stress.sh): SVA_TRACE_KRETPROBE_MAXACTIVE=N (1 to 4096) asks
 * for fewer instances, so that returns are missed as on a machine with more callers asleep
 * inside than instances.
 */
static int kretprobe_maxactive(void)
{
	const char *v = getenv("SVA_TRACE_KRETPROBE_MAXACTIVE");
	char *end;
	long n;

	if (!v)
		return KRETPROBE_MAXACTIVE;
	n = strtol(v, &end, 10);
	return *end || n < 1 || n > KRETPROBE_MAXACTIVE ? KRETPROBE_MAXACTIVE : (int)n;
}

static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/kprobe_events", dirs[i]);
		if (!access(path, W_OK))
			return dirs[i];
	}
	return NULL;
}

static int kprobe_events_write(const char *dir, const char *line)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Definitions a killed sva-trace left behind ("sva_trace/<func>_<pid>" of a dead pid). */
static void remove_stale_kretprobes(const char *dir)
{
	char path[64], line[512], event[128], cmd[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ":" KRETPROBE_GROUP "/"), *us;
		long pid;

		if (!p || sscanf(p + 1, "%127s", event) != 1)
			continue;
		us = strrchr(event, '_');
		pid = us ? strtol(us + 1, NULL, 10) : 0;
		if (pid <= 0 || !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		snprintf(cmd, sizeof(cmd), "-:%s", event);
		kprobe_events_write(dir, cmd);
	}
	fclose(f);
}

static void remove_kretprobe_event(struct sva_loader *ld, struct probe_state *ps)
{
	char cmd[128];

	if (!ps->kretprobe_event[0] || !ld->tracefs)
		return;
	snprintf(cmd, sizeof(cmd), "-:%s/%s", KRETPROBE_GROUP, ps->kretprobe_event);
	kprobe_events_write(ld->tracefs, cmd);
	ps->kretprobe_event[0] = '\0';
}

static struct bpf_link *attach_kretprobe(struct sva_loader *ld, struct probe_state *ps,
					 struct bpf_program *p)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT,
					.sample_period = 1, .wakeup_events = 1 };
	char line[256], path[256];
	struct bpf_link *link;
	unsigned long long id;
	int pfd, ret;
	FILE *f;

	if (!ld->tracefs && (ld->tracefs = tracefs_dir()))
		remove_stale_kretprobes(ld->tracefs);
	if (!ld->tracefs) {
		/* No tracefs: a perf kretprobe, with the kernel's default maxactive. */
		ps->maxactive_default = true;
		return bpf_program__attach_kprobe(p, true, ps->spec->func);
	}
	snprintf(ps->kretprobe_event, sizeof(ps->kretprobe_event), "%.40s_%d", ps->spec->func,
		 (int)getpid());
	snprintf(line, sizeof(line), "r%d:%s/%s %s\n", kretprobe_maxactive(), KRETPROBE_GROUP,
		 ps->kretprobe_event, ps->spec->func);
	ret = kprobe_events_write(ld->tracefs, line);
	if (ret) {
		ps->kretprobe_event[0] = '\0';
		errno = -ret;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", ld->tracefs, KRETPROBE_GROUP,
		 ps->kretprobe_event);
	f = fopen(path, "re");
	ret = f && fscanf(f, "%llu", &id) == 1 ? 0 : -ENOENT;
	if (f)
		fclose(f);
	attr.config = id;
	pfd = ret ? -1 : (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (!ret && pfd < 0)
		ret = -errno;
	link = ret ? NULL : bpf_program__attach_perf_event(p, pfd);
	if (!ret && !link) {
		ret = -errno;
		close(pfd);
	}
	if (ret) {
		remove_kretprobe_event(ld, ps);
		errno = -ret;
		return NULL;
	}
	if (ld->kprobe_profile_fd < 0) {
		/* Opened now: reading it later may come after privileges are dropped. */
		snprintf(path, sizeof(path), "%s/kprobe_profile", ld->tracefs);
		ld->kprobe_profile_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return link;
}

static int attach_one(struct sva_loader *ld, struct probe_state *ps)
{
	size_t names[2] = { 0, 0 };
	int ret = 0;

	/*
	 * The return's program first: a call that begins between the two attachments then has
	 * its return seen without its entry, which the programs ignore (a call's entry seen
	 * without its return would count it in flight for good, sva_loader_calls).
	 */
	if (ps->mode == ATTACH_KPROBE && ps->spec->kretprobe_prog) {
		names[0] = ps->spec->kretprobe_prog;
		names[1] = ps->spec->kprobe_prog;
	} else if (ps->mode == ATTACH_KPROBE) {
		names[0] = ps->spec->kprobe_prog;
	} else if (ps->session) {
		names[0] = ps->spec->fsession_prog;
	} else if (ps->mode == ATTACH_FENTRY && ps->spec->fentry_entry_prog) {
		names[0] = ps->spec->fentry_prog;
		names[1] = ps->spec->fentry_entry_prog;
	} else {
		names[0] = ps->spec->fentry_prog;
	}
	for (int i = 0; i < 2 && names[i]; i++) {
		struct bpf_link *link;

		if (ps->mode == ATTACH_KPROBE && names[i] == ps->spec->kretprobe_prog)
			link = attach_kretprobe(ld, ps, prog(ld, names[i]));
		else if (ps->mode == ATTACH_KPROBE && probe_is_callee(ps))
			/* a slot program: SEC("kprobe") names no function */
			link = bpf_program__attach_kprobe(prog(ld, names[i]), false, ps->spec->func);
		else if (ps->mode == ATTACH_FENTRY) /* not by its handler: see TRACED_OPENED_AS */
			link = bpf_program__attach_trace(prog(ld, names[i]));
		else
			link = bpf_program__attach(prog(ld, names[i]));
		if (!link) {
			ret = -errno;
			attach_failure_reason(ps, ret);
			break;
		}
		ps->links[i] = link;
	}
	if (ret) {
		for (int i = 0; i < 2; i++) {
			bpf_link__destroy(ps->links[i]);
			ps->links[i] = NULL;
		}
		remove_kretprobe_event(ld, ps);
		return ret;
	}
	ps->attached = true;
	ps->reason[0] = '\0';
	return 0;
}

/* What start-up keeps between its phases. */
struct start {
	struct btf *btf;
	struct kallsyms *ks;
	bool tried; /* a load or attach was refused and planned again */
	uint64_t t[5]; /* start, BTF read, planned, loaded, attached */
};

/*
 * Phase 1: which functions exist and how each will be probed. Fails only when
 * the kernel's BTF is unusable or (not --check) none of the SVA functions exists.
 */
static int plan(struct sva_loader *ld, const struct sva_loader_opts *opts, struct start *st)
{
	int ret, present = 0;

	st->t[0] = verbose_t0 = mono_us();
	ret = kernel_btf_load(opts->btf_path, &st->btf, &ld->kernel_btf);
	if (ret)
		return ret;
	st->t[1] = mono_us();
	plan_probes(ld, opts, st->btf, &st->ks);
	for (int i = SVA_NR_PROBES; i < ld->nr_probes; i++)
		ld->probes[i].callee_ret = callee_ret_kind(st->btf, &ld->probes[i]);
	st->t[2] = mono_us();
	if (opts->check)
		return 0;
	/* Not in BTF proves it only for what we have measured: ask kallsyms too. */
	for (int pass = 0; pass < 2 && !present; pass++) {
		if (pass)
			need_kallsyms(ld, opts, &st->ks);
		for (int i = 0; i < ld->nr_probes; i++)
			present += ld->probes[i].spec->sva && ld->probes[i].present;
	}
	if (present)
		return 0;
	/* Nothing to load: say so before the kernel is asked anything. */
	sva_warn("this kernel has none of the IOMMU SVA/PASID functions sva-trace traces "
		 "(iommu_sva_bind_device, iommu_attach_device_pasid, ...: not in %s nor in "
		 "/proc/kallsyms)",
		 opts->btf_path ? opts->btf_path : "its BTF");
	sva_warn("it was built without CONFIG_IOMMU_SVA and the PASID API, so there is nothing "
		 "to trace; use a kernel with CONFIG_IOMMU_SVA (6.1 or later); 'sva-trace --check' "
		 "lists each function");
	ld->no_sva_functions = true;
	return -ENOENT;
}

/*
 * Phase 2: load and attach as planned. A refusal is not final while fentry is
 * planned untried: find the refused functions, plan kprobes for them, again.
 */
static int load_with_fallback(struct sva_loader *ld, const struct sva_loader_opts *opts,
			      struct start *st)
{
	int ret, retry_kprobe;

	for (;;) {
		bool untried = !st->tried && fentry_planned(ld);
		int refused = 0;

		ret = open_and_load(ld, opts, st->btf, !untried && !ld->session_kfunc_id);
		if (ret && sessions_planned(ld)) {
			sva_trace_bpf__destroy(ld->skel);
			ld->skel = NULL;
			drop_sessions(ld, ret);
			continue;
		}
		if (ret && untried) {
			sva_trace_bpf__destroy(ld->skel);
			ld->skel = NULL;
			retry_plan_after_refusal(ld, opts, &st->ks);
			st->tried = true;
			continue;
		}
		if (ret)
			return ret;
		st->t[3] = mono_us();
		retry_kprobe = 0;
		for (int i = 0; i < ld->nr_probes; i++) {
			struct probe_state *ps = &ld->probes[i];

			if (ps->mode == ATTACH_NONE)
				continue;
			ret = attach_one(ld, ps);
			if (ret && ps->session && !refused)
				refused = ret;
			else if (ret && ps->mode == ATTACH_FENTRY && opts->probe_mode == PROBE_MODE_AUTO)
				retry_kprobe++;
		}
		if (refused) {
			sva_loader_detach(ld);
			sva_trace_bpf__destroy(ld->skel);
			ld->skel = NULL;
			for (int i = 0; i < ld->nr_probes; i++)
				ld->probes[i].attached = false;
			drop_sessions(ld, refused);
			continue;
		}
		if (!retry_kprobe)
			break;
		/*
		 * fentry loaded but would not attach (e.g. ftrace refuses the
		 * function): fall back to kprobes for those, which needs a
		 * fresh load because autoload is fixed at load time.
		 */
		for (int i = 0; i < ld->nr_probes; i++) {
			struct probe_state *ps = &ld->probes[i];

			if (ps->mode == ATTACH_FENTRY && !ps->attached)
				plan_kprobe(ld, ps, opts, &st->ks);
		}
		sva_loader_detach(ld);
		sva_trace_bpf__destroy(ld->skel);
		ld->skel = NULL;
		for (int i = 0; i < ld->nr_probes; i++)
			ld->probes[i].attached = false;
		st->tried = true;
	}
	st->t[4] = mono_us();
	for (int i = 0; i < ld->nr_probes; i++) {
		struct probe_state *ps = &ld->probes[i];

		if (!ps->attached || probe_is_callee(ps))
			continue;
		ld->nr_attached++;
		if (ps->spec->sva)
			ld->nr_sva_attached++;
	}
	return 0;
}

/* Phase 3: what attached (print.h): one line per surprise, or everything with -v. */
static void report(const struct sva_loader *ld, const struct sva_loader_opts *opts,
		   const struct start *st)
{
	const uint64_t *t = st->t;

	if (opts->verbose)
		sva_info("probes attached %" PRIu64 " ms after start-up began: "
			 "kernel BTF %" PRIu64 " ms, probe plan %" PRIu64 " ms%s, load %" PRIu64
			 " ms%s, attach %" PRIu64 " ms", (t[4] - t[0]) / 1000,
			 (t[1] - t[0]) / 1000, (t[2] - t[1]) / 1000,
			 ld->kallsyms_read ? " (with /proc/kallsyms)" : "", (t[3] - t[2]) / 1000,
			 st->tried ? " (more than one)" : "", (t[4] - t[3]) / 1000);
	if (!opts->verbose && !opts->check) {
		/* One line, so a kernel without some functions is not a surprise. */
		char missing[512] = "";
		size_t len = 0;

		for (int i = 0; i < ld->nr_probes; i++) {
			const struct probe_state *ps = &ld->probes[i];

			if (ps->present || probe_is_callee(ps) || len >= sizeof(missing))
				continue;
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s",
						len ? ", " : "", ps->spec->func);
		}
		if (len)
			sva_warn("not in this kernel, not traced: %s", missing);
		for (int i = 0; i < ld->nr_probes; i++) {
			const struct probe_state *ps = &ld->probes[i];

			if (ps->present && !ps->attached && !probe_is_callee(ps))
				sva_warn("%s: not attached: %s", ps->spec->func, ps->reason);
		}
	}
	if (opts->verbose && ld->skel)
		sva_info("per-thread maps for %d possible CPUs: %u in-flight entries, %u stashed "
			 "arguments", libbpf_num_possible_cpus(),
			 bpf_map__max_entries(ld->skel->maps.inflight),
			 bpf_map__max_entries(ld->skel->maps.entries));
	if (opts->verbose && ld->session_refused)
		sva_info("the kernel has fsession (BPF_TRACE_FSESSION) but refused it here (%s): "
			 "fentry/fexit pairs instead", strerror(-ld->session_refused));
	if (opts->verbose) {
		for (int i = 0; i < ld->nr_probes; i++) {
			const struct probe_state *ps = &ld->probes[i];

			if (ps->attached)
				sva_info("%s%s: attached (%s%s)", probe_is_callee(ps) ? "callee " : "",
					 ps->spec->func, attach_mode_name(ps),
					 ps->maxactive_default ? "; no tracefs: the kernel's default "
								 "kretprobe maxactive" : "");
			else
				sva_info("%s%s: not attached: %s", probe_is_callee(ps) ? "callee " : "",
					 ps->spec->func, ps->reason);
		}
	}
}

int sva_loader_start(struct sva_loader *ld, const struct sva_loader_opts *opts)
{
	struct start st = { 0 };
	int ret;

	memset(ld, 0, sizeof(*ld));
	ld->kprobe_profile_fd = -1;
	ld->groups_dir_fd = -1;
	ld->nr_probes = SVA_NR_PROBES;
	ld->probe_mode = opts->probe_mode;
	for (int i = 0; i < SVA_NR_PROBES; i++)
		ld->probes[i].spec = &specs[i];
	add_callees(ld);
	libbpf_set_print(opts->verbose >= 2 ? libbpf_verbose : libbpf_quiet);

	ret = plan(ld, opts, &st);
	if (!ret)
		ret = load_with_fallback(ld, opts, &st);
	if (!ret)
		report(ld, opts, &st);
	/*
	 * The state iterator's small CO-RE BTF, cut now that the probes are attached and while
	 * the kernel's BTF is parsed: state_load comes later (src/corebtf.c).
	 */
	ld->state_core_fd = -1;
	if (!ret && !opts->btf_path && ld->kernel_btf && st.btf &&
	    small_core_btf_wanted()) {
		size_t sz;
		const void *elf = sva_state_bpf__elf_bytes(&sz);
		unsigned int n;

		ld->state_core_fd = corebtf_build(st.btf, elf, sz, ld->state_core_path,
						  sizeof(ld->state_core_path), &n);
	}
	btf__free(st.btf);
	kallsyms_free(st.ks);
	return ret;
}

void sva_loader_detach(struct sva_loader *ld)
{
	for (int i = 0; i < ld->nr_probes; i++) {
		for (int j = 0; j < 2; j++) {
			bpf_link__destroy(ld->probes[i].links[j]);
			ld->probes[i].links[j] = NULL;
		}
		remove_kretprobe_event(ld, &ld->probes[i]);
	}
}

void sva_loader_free(struct sva_loader *ld)
{
	bpf_link__destroy(ld->state_link);
	ld->state_link = NULL;
	sva_state_bpf__destroy(ld->state_skel);
	ld->state_skel = NULL;
	if (ld->groups_dir_fd > 0)
		close(ld->groups_dir_fd);
	ld->groups_dir_fd = -1;
	sva_loader_detach(ld);
	sva_trace_bpf__destroy(ld->skel);
	ld->skel = NULL;
	if (ld->kprobe_profile_fd >= 0)
		close(ld->kprobe_profile_fd);
	ld->kprobe_profile_fd = -1;
	if (ld->state_core_fd > 0)
		close(ld->state_core_fd);
	ld->state_core_fd = -1;
}

static void check_json_probe(struct json_writer *w, const struct probe_state *ps)
{
	jw_start_object(w);
	jw_string_field(w, "function", ps->spec->func);
	jw_bool_field(w, "present", ps->present);
	jw_bool_field(w, "attached", ps->attached);
	if (ps->attached)
		jw_string_field(w, "mode", attach_mode_name(ps));
	else
		jw_null_field(w, "mode");
	if (!ps->attached)
		jw_string_field(w, "reason", ps->reason);
	jw_end_object(w);
}

void sva_loader_print_check(const struct sva_loader *ld, bool json, FILE *out)
{
	char why[512];

	if (json) {
		struct json_writer w;

		jw_init(&w);
		jw_start_object(&w);
		jw_string_field(&w, "type", "check");
		jw_string_field(&w, "probe_mode", probe_mode_name(ld->probe_mode));
		jw_name(&w, "probes");
		jw_start_array(&w);
		for (int i = 0; i < ld->nr_probes; i++) {
			const struct probe_state *ps = &ld->probes[i];

			if (probe_is_callee(ps))
				continue;
			check_json_probe(&w, ps);
		}
		jw_end_array(&w);
		jw_uint_field(&w, "sva_probes_attached", (uint64_t)ld->nr_sva_attached);
		/* failure provenance: the callees of the SVA path, probed while a call is in flight */
		jw_name(&w, "callees");
		jw_start_array(&w);
		for (int i = 0; i < ld->nr_probes; i++)
			if (probe_is_callee(&ld->probes[i]))
				check_json_probe(&w, &ld->probes[i]);
		jw_end_array(&w);
		jw_name(&w, "state");
		jw_start_object(&w);
		jw_bool_field(&w, "readable", ld->state_read);
		if (!ld->state_read)
			jw_string_field(&w, "unreadable", ld->state_err ? strerror(-ld->state_err) :
							   "not tried");
		else if (ld->state_flags)
			jw_string_field(&w, "unreadable", sva_state_unreadable(ld->state_flags, why,
									       sizeof(why)));
		else
			jw_null_field(&w, "unreadable");
		jw_end_object(&w);
		jw_end_object(&w);
		if (!jw_finish(&w))
			fprintf(out, "%s\n", w.buf);
		jw_free(&w);
		return;
	}
	fprintf(out, "%-28s %-7s %-8s %-17s %s\n", "FUNCTION", "PRESENT", "ATTACHED", "MODE",
		"REASON");
	for (int i = 0, w = 28; i < ld->nr_probes; i++) {
		const struct probe_state *ps = &ld->probes[i];

		/* the callees of the SVA path: failure provenance, a table of their own */
		if (i == SVA_NR_PROBES) {
			w = 31;
			fprintf(out, "\n%-*s %-7s %-8s %-17s %s\n", w, "CALLEE (failure provenance)",
				"PRESENT", "ATTACHED", "MODE", "REASON");
		}
		if (ps->attached)
			fprintf(out, "%-*s %-7s %-8s %s\n", w, ps->spec->func, "yes", "yes",
				attach_mode_name(ps));
		else
			fprintf(out, "%-*s %-7s %-8s %-17s %s\n", w, ps->spec->func,
				ps->present ? "yes" : "no", "no", "-", ps->reason);
	}
	/* The bonds that exist at start-up (bpf/sva_state.bpf.c): what this kernel lets us read. */
	if (!ld->state_read)
		fprintf(out, "state at start-up: not readable: %s\n",
			ld->state_err ? strerror(-ld->state_err) : "not tried");
	else if (ld->state_flags)
		fprintf(out, "state at start-up: partly readable: %s\n",
			sva_state_unreadable(ld->state_flags, why, sizeof(why)));
	else
		fprintf(out, "state at start-up: readable (bonds, PASID attachments, processes' PASIDs)\n");
}

/* Look-up counters summed over CPUs, one row per (group, PASID); caller frees. */
int sva_loader_read_lookups(const struct sva_loader *ld, struct lookup_row **rows_out)
{
	int fd = ld->skel ? bpf_map__fd(ld->skel->maps.lookups) : -1;
	int ncpu = libbpf_num_possible_cpus(), n = 0, cap = 0;
	struct sva_lookup_key key, next, *prev = NULL;
	struct sva_lookup_count *vals;
	struct lookup_row *rows = NULL;

	*rows_out = NULL;
	if (ncpu <= 0 || fd < 0)
		return 0;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct lookup_row *row;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 64;
			struct lookup_row *nr = realloc(rows, (size_t)ncap * sizeof(*nr));

			if (!nr)
				break;
			rows = nr;
			cap = ncap;
		}
		row = &rows[n++];
		memset(row, 0, sizeof(*row));
		row->group_id = key.group_id;
		row->pasid = key.pasid;
		for (int c = 0; c < ncpu; c++)
			for (int k = 0; k < SVA_LOOKUP__MAX; k++)
				row->n[k] += vals[c].n[k];
	}
	free(vals);
	*rows_out = rows;
	return n;
}


int sva_loader_events_fd(const struct sva_loader *ld)
{
	return ld->skel ? bpf_map__fd(ld->skel->maps.events) : -ENOENT;
}

int sva_loader_probe_map_fd(const struct sva_loader *ld)
{
	return ld->skel ? bpf_map__fd(ld->skel->maps.lost) : -ENOENT;
}

/* Sum of a one-slot per-CPU u64 array. */
static int read_percpu_u64(int fd, uint64_t *total)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t zero = 0;
	uint64_t *vals;
	int ret = 0;

	*total = 0;
	if (fd < 0)
		return fd;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, vals))
		ret = -errno;
	for (int i = 0; !ret && i < ncpu; i++)
		*total += vals[i];
	free(vals);
	return ret;
}

int sva_loader_read_lost(const struct sva_loader *ld, uint64_t *total)
{
	return read_percpu_u64(sva_loader_probe_map_fd(ld), total);
}

int sva_loader_next_stack_id(const struct sva_loader *ld, const int32_t *prev, int32_t *next)
{
	uint32_t key, nk;

	if (!ld->skel || bpf_map__max_entries(ld->skel->maps.stacks) <= 1)
		return -ENOENT;
	if (prev)
		key = (uint32_t)*prev;
	if (bpf_map_get_next_key(bpf_map__fd(ld->skel->maps.stacks), prev ? &key : NULL, &nk))
		return -errno;
	*next = (int32_t)nk;
	return 0;
}

int sva_loader_read_stack(const struct sva_loader *ld, int32_t id, uint64_t ips[SVA_STACK_DEPTH])
{
	uint32_t key = (uint32_t)id;

	if (!ld->skel)
		return -ENOENT;
	return bpf_map_lookup_elem(bpf_map__fd(ld->skel->maps.stacks), &key, ips) ? -errno : 0;
}

/*
 * Returns our kretprobes missed: kprobe_profile's third column ("event nhit
 * nmissed"), which for a kretprobe adds the returns lost for want of an
 * instance (rp.nmissed) to the probe's own misses.
 */
static uint64_t kretprobes_missed(const struct sva_loader *ld)
{
	static char buf[1 << 16];
	uint64_t total = 0;
	ssize_t n;
	char *line, *save = NULL;

	if (ld->kprobe_profile_fd < 0)
		return 0;
	n = pread(ld->kprobe_profile_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char event[128];
		unsigned long long hit, missed;

		if (sscanf(line, "%127s %llu %llu", event, &hit, &missed) != 3)
			continue;
		for (int i = 0; i < ld->nr_probes; i++)
			if (ld->probes[i].kretprobe_event[0] &&
			    !strcmp(event, ld->probes[i].kretprobe_event))
				total += missed;
	}
	return total;
}

int sva_loader_read_missed(const struct sva_loader *ld, uint64_t *total)
{
	struct bpf_program *p;

	*total = 0;
	if (!ld->skel)
		return -ENOENT;
	/* The kernel skips a program rather than run it inside itself (bpf_prog_info.recursion_misses, 5.12). */
	bpf_object__for_each_program(p, ld->skel->obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			*total += info.recursion_misses;
	}
	*total += kretprobes_missed(ld);
	return 0;
}

/*
 * The state iterator's target by the plan's id, as the probes' (TRACED_OPENED_AS): libbpf
 * 1.1's own "iter/" handler finds bpf_iter_task by name in the kernel's BTF, which it parses
 * for that (20 ms on the lab kernel, before the state at start-up can be read). Ours is
 * registered for SEC("iter/task") alone, when the plan found the id, and kept for the
 * process's life; a load without an id (another loader in the same process) asks libbpf for
 * it by name, as libbpf's handler would. The attach is bpf_program__attach_iter's, which
 * needs no handler.
 */
static const struct sva_loader *iter_loader; /* the loader whose state iterator is loading */

static int prepare_iter_load(struct bpf_program *bp, struct bpf_prog_load_opts *o, long cookie)
{
	int ret = bpf_program__set_type(bp, BPF_PROG_TYPE_TRACING);

	(void)cookie;
	if (ret)
		return ret;
	ret = iter_loader && iter_loader->iter_task_id ? iter_loader->iter_task_id :
		libbpf_find_vmlinux_btf_id("task", BPF_TRACE_ITER);
	if (ret < 0)
		return ret;
	o->attach_btf_id = (__u32)ret;
	return 0;
}

static bool iter_handler_registered(void)
{
	static int state; /* 0 not tried, 1 registered, -1 failed */
	LIBBPF_OPTS(libbpf_prog_handler_opts, hopts, .prog_prepare_load_fn = prepare_iter_load);

	if (!state)
		state = libbpf_register_prog_handler("iter/task", TRACED_OPENED_AS, BPF_TRACE_ITER,
						     &hopts) >= 0 ? 1 : -1;
	return state > 0;
}

/* The state iterator, loaded once. */
static int state_load(struct sva_loader *ld, const char *btf_path)
{
	struct sva_state_bpf *skel;
	int ret;

	if (ld->state_skel)
		return 0;
	if (ld->state_err)
		return ld->state_err;
	if (btf_path) {
		/* A BPF iterator is typed by the running kernel's own BTF. */
		sva_warn("the bonds that exist at start-up cannot be read with --btf: BPF "
			 "iterators need the kernel's own BTF (/sys/kernel/btf/vmlinux); "
			 "only what happens from now on is traced");
		return ld->state_err = -EOPNOTSUPP;
	}
	{
		LIBBPF_OPTS(bpf_object_open_opts, oopts);

		if (ld->state_core_fd >= 0)
			oopts.btf_custom_path = ld->state_core_path;
		if (ld->iter_task_id)
			iter_handler_registered();
		skel = sva_state_bpf__open_opts(&oopts);
	}
	if (skel && ld->groups_dir_fd < 0) {
		/* The program finds the groups through this descriptor (sva_state.bpf.c). */
		ld->groups_dir_fd = open("/sys/kernel/iommu_groups",
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		skel->rodata->groups_dir_fd = ld->groups_dir_fd >= 0 ? ld->groups_dir_fd :
					      errno == ENOENT ? -2 : -1;
	}
	iter_loader = ld;
	ret = skel ? sva_state_bpf__load(skel) : -errno;
	iter_loader = NULL;
	if (!ret)
		write_insns_digest(skel->obj, "ae");
	if (ld->state_core_fd >= 0)
		close(ld->state_core_fd);
	ld->state_core_fd = -1;
	if (!ret) {
		ld->state_link = bpf_program__attach_iter(skel->progs.dump_task, NULL);
		if (!ld->state_link)
			ret = -errno;
	}
	if (ret) {
		sva_state_bpf__destroy(skel);
		sva_warn("cannot read the SVA state at start-up (the task iterator did not %s: %s); "
			 "bonds made before now show up at their first unbind only; -vv shows "
			 "libbpf's log", skel ? "load" : "open", strerror(-ret));
		return ld->state_err = ret;
	}
	ld->state_skel = skel;
	return 0;
}

/*
 * One run of the iterator from cursor: every record but the END to fn, the END in *end.
 * 0, or -errno (-EIO: no END record came).
 */
static int state_run(struct sva_loader *ld, const struct sva_state_cursor *cursor,
		     void (*fn)(const struct sva_state_rec *r, void *ctx), void *ctx,
		     struct sva_state_rec *end)
{
	static char buf[SVA_STATE_REC_SIZE * 64];
	size_t have = 0, vsize = bpf_map__value_size(ld->state_skel->maps.walks);
	bool ended = false;
	uint32_t zero = 0;
	void *value;
	ssize_t n;
	int fd, ret;

	/* The walk's state starts from the cursor (sva_state.h), the rest zero. */
	value = calloc(1, vsize);
	if (!value)
		return -ENOMEM;
	memcpy(value, cursor, sizeof(*cursor));
	ret = bpf_map_update_elem(bpf_map__fd(ld->state_skel->maps.walks), &zero, value, BPF_ANY);
	free(value);
	if (ret)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(ld->state_link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0 || (n < 0 && errno == EINTR)) {
		size_t off = 0;

		if (n < 0)
			continue;
		have += (size_t)n;
		for (; have - off >= SVA_STATE_REC_SIZE; off += SVA_STATE_REC_SIZE) {
			struct sva_state_rec r;

			memcpy(&r, buf + off, sizeof(r));
			if (r.kind == SVA_STATE_END) {
				*end = r;
				ended = true;
			} else {
				fn(&r, ctx);
			}
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	ret = n < 0 ? -errno : 0;
	close(fd);
	return !ret && !ended ? -EIO : ret;
}

/* Groups runs per read, at most: 1024 groups, 65536 PASID-array slots at 200 records each. */
#define STATE_MAX_RUNS 400

int sva_loader_read_state(struct sva_loader *ld, const char *btf_path,
			  void (*fn)(const struct sva_state_rec *r, void *ctx), void *ctx,
			  uint64_t *elapsed_ns)
{
	struct sva_state_cursor cursor = { .mode = SVA_STATE_MODE_TASKS };
	struct sva_state_rec end, all = { .kind = SVA_STATE_END, .users = -1 };
	uint64_t t0 = mono_us();
	int ret, runs = 0;

	*elapsed_ns = 0;
	ret = state_load(ld, btf_path);
	if (ret)
		return ret;
	/* The tasks, then the groups, each run from where the last one stopped (sva_state.h). */
	ret = state_run(ld, &cursor, fn, ctx, &end);
	all.flags |= end.flags;
	all.count += end.count;
	cursor = (struct sva_state_cursor){ .mode = SVA_STATE_MODE_GROUPS,
					    .budget = SVA_STATE_BUDGET };
	while (!ret) {
		ret = state_run(ld, &cursor, fn, ctx, &end);
		if (ret)
			break;
		all.flags |= end.flags & ~SVA_STATE_MORE;
		all.count += end.count;
		if (!(end.flags & SVA_STATE_MORE))
			break;
		if (++runs >= STATE_MAX_RUNS) {
			all.flags |= SVA_STATE_TRUNCATED;
			break;
		}
		cursor.skip_groups = (uint32_t)end.group_id;
		cursor.resume_index = end.start_ns;
		cursor.resume_count = end.tgid;
	}
	*elapsed_ns = (mono_us() - t0) * 1000;
	ld->state_read = !ret;
	if (ret) {
		sva_warn("reading the SVA state failed: %s", ret == -EIO ? "the iterator ended "
			 "without its last record" : strerror(-ret));
		return ret;
	}
	ld->state_flags = all.flags;
	fn(&all, ctx);
	return 0;
}

uint64_t sva_loader_unmatched_returns(const struct sva_loader *ld)
{
	return ld->skel && ld->skel->bss ?
		       __atomic_load_n(&ld->skel->bss->returns_unmatched, __ATOMIC_SEQ_CST) : 0;
}

void sva_loader_calls(const struct sva_loader *ld, uint64_t *entered, uint64_t *returned)
{
	*entered = *returned = 0;
	if (!ld->skel || !ld->skel->bss)
		return;
	/* returned first: read the other way round, a call could fall between the two */
	*returned = __atomic_load_n(&ld->skel->bss->calls_returned, __ATOMIC_SEQ_CST);
	*entered = __atomic_load_n(&ld->skel->bss->calls_entered, __ATOMIC_SEQ_CST);
}

uint64_t sva_loader_next_seq(const struct sva_loader *ld)
{
	return ld->skel && ld->skel->bss ? __atomic_load_n(&ld->skel->bss->next_seq, __ATOMIC_ACQUIRE) : 0;
}

bool sva_loader_remember_owner(struct sva_loader *ld, uint32_t tgid, uint64_t mm)
{
	uint8_t one = 1;

	if (!ld->skel)
		return false;
	if (tgid)
		bpf_map_update_elem(bpf_map__fd(ld->skel->maps.sva_tgids), &tgid, &one, BPF_ANY);
	return mm && !bpf_map_update_elem(bpf_map__fd(ld->skel->maps.sva_mms), &mm, &one,
					  BPF_ANY);
}
