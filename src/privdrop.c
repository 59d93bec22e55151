// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/capability.h>

#include "privdrop.h"
#include "print.h"
#include "safefile.h"

/*
 * Whether bpf() commands on maps we already hold (look-ups of the lost counter, the
 * look-up counters and the stacks) still work without any capability. Since 6.5
 * ("bpf: Centralize permissions checks for all BPF map types" and the series around it)
 * only map and program creation check capabilities; before, with
 * kernel.unprivileged_bpf_disabled set, every bpf() command needed CAP_BPF or
 * CAP_SYS_ADMIN. Rather than guess from the version (backports), ask the kernel: a child
 * without capabilities tries one look-up.
 */
static bool map_reads_need_cap(int map_fd)
{
	pid_t pid;
	int status;

	if (map_fd < 0)
		return false;
	pid = fork();
	if (pid < 0)
		return true; /* cannot tell: keep what reading needs */
	if (pid == 0) {
		cap_t none = cap_init();
		int ncpu = libbpf_num_possible_cpus();
		unsigned long long *vals = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*vals));
		__u32 zero = 0;

		if (!none || !vals || cap_set_proc(none))
			_exit(2);
		_exit(bpf_map_lookup_elem(map_fd, &zero, vals) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return true;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* Whether the file (the export, the metrics file) can still be written once the DAC override capabilities are gone. */
static bool export_needs_dac_override(const char *path)
{
	static const cap_value_t dac[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER };
	cap_t saved = cap_get_proc(), trial = cap_dup(saved);
	char msg[512];
	bool needs = true;

	if (saved && trial && !cap_set_flag(trial, CAP_EFFECTIVE, 3, dac, CAP_CLEAR) &&
	    !cap_set_proc(trial)) {
		needs = safefile_check(path, msg, sizeof(msg)) != 0;
		cap_set_proc(saved);
	}
	cap_free(trial);
	cap_free(saved);
	return needs;
}

static bool have_cap(cap_t caps, cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;

	return !cap_get_flag(caps, c, CAP_PERMITTED, &v) && v == CAP_SET;
}

int privileges_drop(int map_fd, const char *const *write_paths, char *kept, size_t kept_len)
{
	cap_value_t keep[2];
	int nkeep = 0;
	cap_t cur = cap_get_proc(), next = NULL;
	size_t len = 0;
	int ret = 0;

	kept[0] = '\0';
	if (!cur) {
		ret = -errno;
		goto out;
	}
	if (map_reads_need_cap(map_fd))
		keep[nkeep++] = have_cap(cur, CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
	for (int i = 0; write_paths && write_paths[i]; i++) {
		if (export_needs_dac_override(write_paths[i])) {
			keep[nkeep++] = CAP_DAC_OVERRIDE;
			break;
		}
	}

	/* The bounding set first: that needs CAP_SETPCAP, which goes next. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept_cap = false;

		for (int i = 0; i < nkeep; i++)
			kept_cap |= keep[i] == c;
		if (!kept_cap && CAP_IS_SUPPORTED(c))
			cap_drop_bound(c); /* EPERM without CAP_SETPCAP: the rest still holds */
	}
	next = cap_init();
	if (!next) {
		ret = -errno;
		goto out;
	}
	for (int i = 0; i < nkeep; i++) {
		if (!have_cap(cur, keep[i]))
			continue;
		cap_set_flag(next, CAP_PERMITTED, 1, &keep[i], CAP_SET);
		cap_set_flag(next, CAP_EFFECTIVE, 1, &keep[i], CAP_SET);
		len += (size_t)snprintf(kept + len, len < kept_len ? kept_len - len : 0, "%s%s",
					len ? "," : "", keep[i] == CAP_BPF ? "cap_bpf" :
					keep[i] == CAP_SYS_ADMIN ? "cap_sys_admin" : "cap_dac_override");
	}
	if (cap_set_proc(next)) {
		ret = -errno;
		goto out;
	}
	cap_reset_ambient();
	/* Nothing exec'd by this process can gain privileges back (a root exec would). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		ret = -errno;
out:
	if (ret)
		sva_warn("could not drop capabilities after attaching: %s; tracing goes on with "
			 "them", strerror(-ret));
	cap_free(next);
	cap_free(cur);
	return ret;
}
