/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SVA_COREBTF_H
#define SVA_COREBTF_H

#include <stddef.h>

struct btf;

/*
 * The part of the kernel's BTF that the CO-RE relocations of a BPF object (its ELF bytes)
 * can look at, as a BTF of its own in a memfd: its path ("/proc/self/fd/N") goes into
 * bpf_object_open_opts.btf_custom_path, so that libbpf searches candidates among a few
 * hundred types instead of walking all of the kernel's once per relocated type.
 *
 * Returns the memfd (close it after the object is loaded), or -errno when the small BTF
 * could relocate differently than the kernel's: a relocation kind that names target ids or
 * compares types deeply, or a type the kernel's BTF does not have (libbpf would then look in
 * the modules' BTF). The caller then opens the object without it.
 */
int corebtf_build(const struct btf *kernel, const void *obj, size_t obj_size, char *path,
		  size_t path_len, unsigned int *nr_types);

#endif
