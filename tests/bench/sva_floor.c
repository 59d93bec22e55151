// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sva-floor - the empty-program floor of issue 18, and the guest's view of BPF program stats.
 *
 *   sva-floor [--kprobe]   plans and attaches sva-trace's probes with sva-trace's own loader
 *                          (src/loader.c), notes each attachment (function and kind: fentry,
 *                          fexit, kprobe, kretprobe, raw_tp), detaches them, and attaches an
 *                          empty program (bpf/sva_floor.bpf.c) to each instead. Prints one
 *                          line when they are attached, then waits for SIGINT or SIGTERM.
 *                          What a traced call pays with these attached is the floor: the
 *                          cost any BPF tracer of the same functions pays, whatever its body.
 *   sva-floor --stats      one line per BPF program in the kernel: name, where a link
 *                          attaches it (KIND:FUNCTION, "-" for none or another kind of link),
 *                          run_cnt and run_time_ns (kernel.bpf_stats_enabled), instructions
 *                          after verification (xlated) and processed by the verifier.
 *
 * Output: "sva-floor: attached N programs: KIND:FUNC ..." (stdout), or for --stats
 * "PROG id=I name=N target=T run_cnt=C run_time_ns=R xlated_insns=X verified_insns=V".
 * Exit: 0 done, 1 a load or attach failed, 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "sva_trace.skel.h"
#include "sva_floor.skel.h"

enum floor_kind { FLOOR_FENTRY, FLOOR_FEXIT, FLOOR_KPROBE, FLOOR_KRETPROBE, FLOOR_RAW_TP };
static const char *const kind_names[] = { "fentry", "fexit", "kprobe", "kretprobe", "raw_tp" };

#define FLOOR_SLOTS 30 /* bpf/sva_floor.bpf.c */
#define MAX_ATTACH (5 * FLOOR_SLOTS)

struct attachment {
	enum floor_kind kind;
	char func[64];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct bpf_program *skel_prog(const struct sva_loader *ld, size_t off)
{
	return off ? *(struct bpf_program **)((char *)ld->skel + off) : NULL;
}

/*
 * What sva-trace attached on this kernel, as src/loader.c's attach_one() attaches it; a
 * function sva-trace probes with one fsession program (7.x) gets the floor of the fentry +
 * fexit pair it has elsewhere: the floor stays the empty fentry/fexit programs of issue 18.
 */
static int sva_attachments(struct attachment *out, enum probe_mode mode)
{
	struct sva_loader_opts lo = { .probe_mode = mode };
	struct sva_loader ld;
	int n = 0;

	if (sva_loader_start(&ld, &lo)) {
		sva_loader_free(&ld);
		return -1;
	}
	for (int i = 0; i < ld.nr_probes; i++) {
		const struct probe_state *ps = &ld.probes[i];
		const struct probe_spec *s = ps->spec;
		size_t progs[2] = { 0, 0 };

		if (!ps->attached)
			continue;
		if (ps->mode == ATTACH_KPROBE) {
			progs[0] = s->kprobe_prog;
			progs[1] = s->kretprobe_prog;
		} else if (ps->mode == ATTACH_FENTRY && s->fentry_entry_prog) {
			progs[0] = s->fentry_entry_prog;
			progs[1] = s->fentry_prog;
		} else {
			progs[0] = s->fentry_prog;
		}
		for (int j = 0; j < 2 && progs[j] && n < MAX_ATTACH; j++) {
			struct bpf_program *p = skel_prog(&ld, progs[j]);
			struct attachment *a = &out[n++];

			snprintf(a->func, sizeof(a->func), "%s", s->func);
			if (ps->mode == ATTACH_RAW_TP)
				a->kind = FLOOR_RAW_TP;
			else if (ps->mode == ATTACH_KPROBE)
				a->kind = progs[j] == s->kretprobe_prog ? FLOOR_KRETPROBE : FLOOR_KPROBE;
			else
				a->kind = bpf_program__expected_attach_type(p) == BPF_TRACE_FEXIT ?
						  FLOOR_FEXIT : FLOOR_FENTRY;
		}
	}
	sva_loader_free(&ld);
	return n;
}

static struct bpf_program *floor_slot(struct sva_floor_bpf *skel, enum floor_kind kind, int slot)
{
	char name[32];

	snprintf(name, sizeof(name), "floor_%s_%d", kind_names[kind], slot);
	return bpf_object__find_program_by_name(skel->obj, name);
}

static int run_floor(enum probe_mode mode)
{
	struct attachment att[MAX_ATTACH];
	struct bpf_program *progs[MAX_ATTACH];
	struct bpf_link *links[MAX_ATTACH] = { 0 };
	int used[5] = { 0 }, n, rc = 1;
	struct sva_floor_bpf *skel;
	struct bpf_program *p;

	n = sva_attachments(att, mode);
	if (n <= 0) {
		fprintf(stderr, "sva-floor: sva-trace's loader attached nothing on this kernel\n");
		return 1;
	}
	skel = sva_floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "sva-floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	for (int i = 0; i < n; i++) {
		if (used[att[i].kind] == FLOOR_SLOTS) {
			fprintf(stderr, "sva-floor: more than %d %s attachments\n", FLOOR_SLOTS,
				kind_names[att[i].kind]);
			goto out;
		}
		progs[i] = floor_slot(skel, att[i].kind, used[att[i].kind]++);
		bpf_program__set_autoload(progs[i], true);
		if (att[i].kind == FLOOR_FENTRY || att[i].kind == FLOOR_FEXIT)
			bpf_program__set_attach_target(progs[i], 0, att[i].func);
	}
	if (sva_floor_bpf__load(skel)) {
		fprintf(stderr, "sva-floor: the kernel refused the empty programs: %s\n",
			strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		switch (att[i].kind) {
		case FLOOR_KPROBE:
		case FLOOR_KRETPROBE:
			links[i] = bpf_program__attach_kprobe(progs[i], att[i].kind == FLOOR_KRETPROBE,
							      att[i].func);
			break;
		case FLOOR_RAW_TP:
			links[i] = bpf_program__attach_raw_tracepoint(progs[i], att[i].func);
			break;
		default:
			links[i] = bpf_program__attach(progs[i]);
		}
		if (!links[i]) {
			fprintf(stderr, "sva-floor: %s:%s: attach failed: %s\n", kind_names[att[i].kind],
				att[i].func, strerror(errno));
			goto out;
		}
	}
	printf("sva-floor: attached %d programs:", n);
	for (int i = 0; i < n; i++)
		printf(" %s:%s", kind_names[att[i].kind], att[i].func);
	printf("\n");
	fflush(stdout);
	while (!stop)
		pause();
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	sva_floor_bpf__destroy(skel);
	return rc;
}

/* Where each link attaches its program: kind:function for fentry/fexit/raw_tp links. */
struct link_target {
	__u32 prog_id;
	char target[96];
};

static int link_targets(const struct btf *vmlinux, struct link_target *out, int max)
{
	__u32 id = 0;
	int n = 0;

	while (n < max && !bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		char tp[64] = "";
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone meanwhile */
		info.raw_tracepoint.tp_name = (__u64)(unsigned long)tp;
		info.raw_tracepoint.tp_name_len = sizeof(tp);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			struct link_target *l = &out[n];

			l->prog_id = info.prog_id;
			if (info.type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
				snprintf(l->target, sizeof(l->target), "raw_tp:%s", tp);
				n++;
			} else if (info.type == BPF_LINK_TYPE_TRACING && vmlinux) {
				const struct btf_type *t =
					btf__type_by_id(vmlinux, info.tracing.target_btf_id);

				snprintf(l->target, sizeof(l->target), "%s:%s",
					 info.tracing.attach_type == BPF_TRACE_FEXIT ? "fexit" :
					 info.tracing.attach_type == SVA_BPF_TRACE_FSESSION ?
						 "fsession" : "fentry",
					 t && btf_is_func(t) ? btf__name_by_offset(vmlinux, t->name_off) : "?");
				n++;
			}
		}
		close(fd);
	}
	return n;
}

/* Every BPF program in the kernel, with its run statistics (root). */
static int print_stats(void)
{
	static struct link_target targets[1024];
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int ntargets = link_targets(vmlinux, targets, 1024);
	__u32 id = 0;
	int rc = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		const char *target = "-";
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone meanwhile */
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			fprintf(stderr, "sva-floor: program %u: %s\n", id, strerror(errno));
			rc = 1;
		} else {
			for (int i = 0; i < ntargets; i++)
				if (targets[i].prog_id == id)
					target = targets[i].target;
			printf("PROG id=%u name=%s target=%s run_cnt=%llu run_time_ns=%llu "
			       "xlated_insns=%u verified_insns=%u\n",
			       id, info.name, target, (unsigned long long)info.run_cnt,
			       (unsigned long long)info.run_time_ns, info.xlated_prog_len / 8,
			       info.verified_insns);
		}
		close(fd);
	}
	btf__free(vmlinux);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc == 2 && !strcmp(argv[1], "--stats"))
		return print_stats();
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--kprobe"))) {
		fprintf(stderr, "usage: sva-floor [--kprobe]\n       sva-floor --stats\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return run_floor(argc == 2 ? PROBE_MODE_KPROBE : PROBE_MODE_AUTO);
}
