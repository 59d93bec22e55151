// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A small BTF for libbpf's CO-RE relocations (corebtf.h).
 *
 * libbpf 1.1 finds the candidates of each type a relocation starts from (its "root") by
 * walking every type of the target BTF and comparing names: on a 7.2 kernel (66 k types)
 * about 2 ms of a TCG guest per root, 13 roots in bpf/sva_trace.bpf.c, the largest part of
 * the load after the verifier. What a relocation can look at in the target is: the types
 * named like a root (all of them: libbpf tries each), and whatever the access path walks
 * from there without following a pointer (members, embedded structs and unions, arrays,
 * typedefs and modifiers down to the field's type). Past a pointer libbpf looks only at
 * the pointee's kind (field relocations: a pointer field is compatible with any pointer;
 * type compatibility: structs and unions are compatible by kind alone), so a named struct
 * or union reached only through a pointer is kept as an empty one of the same name, kind and
 * size. Two relocation kinds see more: TYPE_ID_TARGET answers the target's type id (which
 * here would be the small BTF's) and TYPE_MATCHES compares types deeply; an object with
 * either, or with a root that the kernel's BTF does not have (libbpf then searches the
 * modules' BTF), gets no small BTF.
 *
 * The root types are read from the object's .BTF.ext (its CO-RE relocation records, in the
 * layout of the kernel's Documentation/bpf/btf.rst) and named from its .BTF.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include "corebtf.h"
#include "fnv.h"

/* .BTF.ext's header (Documentation/bpf/btf.rst); core_relo_* only when hdr_len covers it */
struct ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off;
	uint32_t func_info_len;
	uint32_t line_info_off;
	uint32_t line_info_len;
	uint32_t core_relo_off;
	uint32_t core_relo_len;
};

/* One ELF section of the object by name, or NULL. */
static const void *elf_section(const void *obj, size_t size, const char *want, size_t *len)
{
	const Elf64_Ehdr *eh = obj;
	const Elf64_Shdr *sh, *strs;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(*sh) ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(*sh) ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	sh = (const Elf64_Shdr *)((const char *)obj + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	for (int i = 0; i < eh->e_shnum; i++) {
		const char *name = (const char *)obj + strs->sh_offset + sh[i].sh_name;

		if (strs->sh_offset + sh[i].sh_name >= size || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			continue;
		if (!strncmp(name, want, size - (strs->sh_offset + sh[i].sh_name)) &&
		    strlen(want) < size - (strs->sh_offset + sh[i].sh_name)) {
			*len = sh[i].sh_size;
			return (const char *)obj + sh[i].sh_offset;
		}
	}
	return NULL;
}

/* The length of a name without its flavor: "mm_struct___v61" -> 9, as libbpf matches them. */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' &&
		    name[i + 3] == '_' && name[i + 4] != '_')
			return i + 1;
	return n;
}

#define ROOT_SLOTS 256 /* a power of two, at least twice the roots */

struct roots {
	const char *name[ROOT_SLOTS]; /* essential name (not NUL-terminated there), or NULL */
	size_t len[ROOT_SLOTS];
	uint32_t hash[ROOT_SLOTS];
	bool found[ROOT_SLOTS];
	int n;
};

static int root_add(struct roots *r, const char *name)
{
	size_t len = essential_len(name);
	uint32_t h = fnv1a32_n(name, len), i = h;

	for (; r->name[i % ROOT_SLOTS]; i++)
		if (r->hash[i % ROOT_SLOTS] == h && r->len[i % ROOT_SLOTS] == len &&
		    !memcmp(r->name[i % ROOT_SLOTS], name, len))
			return 0;
	if (2 * (r->n + 1) > ROOT_SLOTS)
		return -E2BIG;
	i %= ROOT_SLOTS;
	r->name[i] = name;
	r->len[i] = len;
	r->hash[i] = h;
	r->n++;
	return 0;
}

/* The root slot of a target type's name, or -1. */
static int root_find(const struct roots *r, const char *name)
{
	size_t len = essential_len(name);
	uint32_t h = fnv1a32_n(name, len);

	for (uint32_t i = h; r->name[i % ROOT_SLOTS]; i++)
		if (r->hash[i % ROOT_SLOTS] == h && r->len[i % ROOT_SLOTS] == len &&
		    !memcmp(r->name[i % ROOT_SLOTS], name, len))
			return (int)(i % ROOT_SLOTS);
	return -1;
}

/* The roots of the object's CO-RE relocations; -errno when a small BTF would not do. */
static int read_roots(const struct btf *local, const void *ext, size_t ext_len, struct roots *r)
{
	struct ext_header h;
	const char *p, *end;
	uint32_t rec_size;

	if (ext_len < offsetof(struct ext_header, core_relo_off))
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	memcpy(&h, ext, ext_len < sizeof(h) ? ext_len : sizeof(h));
	if (h.magic != BTF_MAGIC || h.hdr_len > ext_len)
		return -EINVAL;
	if (h.hdr_len < sizeof(h) || !h.core_relo_len)
		return 0; /* no CO-RE relocations */
	p = (const char *)ext + h.hdr_len + h.core_relo_off;
	end = p + h.core_relo_len;
	if (h.core_relo_off > ext_len - h.hdr_len || h.core_relo_len > ext_len - h.hdr_len -
								 h.core_relo_off || end - p < 4)
		return -EINVAL;
	memcpy(&rec_size, p, 4);
	p += 4;
	if (rec_size < sizeof(struct bpf_core_relo))
		return -EINVAL;
	while (end - p >= 8) {
		uint32_t nr;

		memcpy(&nr, p + 4, 4);
		p += 8;
		if (nr > (size_t)(end - p) / rec_size)
			return -EINVAL;
		for (uint32_t i = 0; i < nr; i++, p += rec_size) {
			struct bpf_core_relo rel;
			const struct btf_type *t;
			const char *name;
			int ret;

			memcpy(&rel, p, sizeof(rel));
			if (rel.kind == BPF_CORE_TYPE_ID_LOCAL)
				continue; /* answered from the object's own BTF */
			if (rel.kind == BPF_CORE_TYPE_ID_TARGET || rel.kind == BPF_CORE_TYPE_MATCHES ||
			    rel.kind > BPF_CORE_TYPE_MATCHES)
				return -EOPNOTSUPP;
			t = btf__type_by_id(local, rel.type_id);
			name = t ? btf__name_by_offset(local, t->name_off) : NULL;
			if (!name || !name[0])
				return -EINVAL;
			ret = root_add(r, name);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * A root the kernel's BTF lacks (a type of another generation, e.g. 6.1's intel_svm_dev on
 * 7.2) has no candidate in the small BTF either; libbpf, without it, would look for one in
 * the modules' BTF. So do we, by name only: -ENOENT (the caller uses the kernel's BTF) when
 * a module has one, 0 when none does.
 */
static int missing_in_modules(const struct btf *k, const struct roots *r)
{
	bool missing = false;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	for (int i = 0; i < ROOT_SLOTS; i++)
		missing |= r->name[i] && !r->found[i];
	if (!missing)
		return 0;
	d = opendir("/sys/kernel/btf");
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char path[300];
		struct btf *m;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		m = btf__parse_split(path, (struct btf *)k);
		if (!m) {
			ret = -errno; /* unreadable: leave it to libbpf */
			break;
		}
		for (uint32_t id = btf__type_cnt(k), n = btf__type_cnt(m); !ret && id < n; id++) {
			const struct btf_type *t = btf__type_by_id(m, id);
			int slot;

			if (!t->name_off)
				continue;
			slot = root_find(r, btf__name_by_offset(m, t->name_off));
			if (slot >= 0 && !r->found[slot])
				ret = -ENOENT;
		}
		btf__free(m);
	}
	closedir(d);
	return ret;
}

enum mark { UNSEEN, OPAQUE, FULL };

/* Marks what relocations of the roots can look at (the header comment), from id. */
static int mark_from(const struct btf *k, uint8_t *mark, uint32_t n, uint32_t *stack,
		     uint32_t root)
{
	uint32_t sp = 0;

	stack[sp++] = root << 1; /* low bit: reached through a pointer */
	while (sp) {
		uint32_t e = stack[--sp], id = e >> 1;
		bool via_ptr = e & 1;
		const struct btf_type *t;

		if (!id || id >= n)
			continue;
		t = btf__type_by_id(k, id);
		if (via_ptr && btf_is_composite(t) && t->name_off) {
			if (mark[id] == UNSEEN)
				mark[id] = OPAQUE;
			continue;
		}
		if (mark[id] == FULL)
			continue;
		mark[id] = FULL;
		/* at most 2 + vlen pushes; the stack holds n entries, each type once FULL */
		if (sp + 2 + (uint32_t)btf_vlen(t) > n)
			return -E2BIG;
		switch (btf_kind(t)) {
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION: {
			const struct btf_member *m = btf_members(t);

			for (int i = 0; i < btf_vlen(t); i++)
				stack[sp++] = m[i].type << 1;
			break;
		}
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			stack[sp++] = t->type << 1 | via_ptr;
			break;
		case BTF_KIND_PTR:
			stack[sp++] = t->type << 1 | 1;
			break;
		case BTF_KIND_ARRAY:
			stack[sp++] = btf_array(t)->type << 1;
			stack[sp++] = btf_array(t)->index_type << 1;
			break;
		case BTF_KIND_FUNC_PROTO: {
			const struct btf_param *pa = btf_params(t);

			stack[sp++] = t->type << 1 | 1;
			for (int i = 0; i < btf_vlen(t); i++)
				stack[sp++] = pa[i].type << 1 | 1;
			break;
		}
		default: /* INT, FLOAT, ENUM, ENUM64, FWD: nothing further */
			break;
		}
	}
	return 0;
}

/* One marked type into the small BTF, its references through map (kernel id -> new id). */
static int emit(struct btf *out, const struct btf *k, const struct btf_type *t, uint8_t mark,
		const uint32_t *map)
{
	const char *name = btf__name_by_offset(k, t->name_off);
	int ret;

	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);

		int id = btf_is_struct(t) ? btf__add_struct(out, name, t->size) :
					    btf__add_union(out, name, t->size);

		ret = 0; /* btf__add_field: 0 or -errno */
		for (int i = 0; id > 0 && !ret && mark == FULL && i < btf_vlen(t); i++)
			ret = btf__add_field(out, btf__name_by_offset(k, m[i].name_off),
					     map[m[i].type], btf_member_bit_offset(t, i),
					     btf_member_bitfield_size(t, i));
		return ret ? ret : id;
	}
	case BTF_KIND_TYPEDEF:
		return btf__add_typedef(out, name, map[t->type]);
	case BTF_KIND_CONST:
		return btf__add_const(out, map[t->type]);
	case BTF_KIND_VOLATILE:
		return btf__add_volatile(out, map[t->type]);
	case BTF_KIND_RESTRICT:
		return btf__add_restrict(out, map[t->type]);
	case BTF_KIND_TYPE_TAG:
		return btf__add_type_tag(out, name, map[t->type]);
	case BTF_KIND_PTR:
		return btf__add_ptr(out, map[t->type]);
	case BTF_KIND_ARRAY:
		return btf__add_array(out, map[btf_array(t)->index_type], map[btf_array(t)->type],
				      btf_array(t)->nelems);
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *pa = btf_params(t);

		int id = btf__add_func_proto(out, map[t->type]);

		ret = 0; /* btf__add_func_param: 0 or -errno */
		for (int i = 0; id > 0 && !ret && i < btf_vlen(t); i++)
			ret = btf__add_func_param(out, btf__name_by_offset(k, pa[i].name_off),
						  map[pa[i].type]);
		return ret ? ret : id;
	}
	default: /* INT, FLOAT, ENUM, ENUM64, FWD: no references, copied as they are */
		return btf__add_type(out, k, t);
	}
}

static int small_btf(const struct btf *k, struct roots *r, struct btf **outp)
{
	uint32_t n = btf__type_cnt(k), next = 1;
	uint8_t *mark = calloc(n, 1);
	uint32_t *map = calloc(n, sizeof(*map)), *stack = malloc(n * sizeof(*stack));
	struct btf *out = NULL;
	int ret = -ENOMEM;

	if (!mark || !map || !stack)
		goto out;
	/* every type named like a root: libbpf tries each as a candidate */
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(k, id);
		int slot;

		if (!t->name_off || btf_is_func(t) || btf_is_var(t) || btf_is_datasec(t) ||
		    btf_is_decl_tag(t))
			continue;
		slot = root_find(r, btf__name_by_offset(k, t->name_off));
		if (slot < 0)
			continue;
		r->found[slot] = true;
		ret = mark_from(k, mark, n, stack, id);
		if (ret)
			goto out;
	}
	ret = missing_in_modules(k, r);
	if (ret)
		goto out;
	for (uint32_t id = 1; id < n; id++)
		if (mark[id])
			map[id] = next++;
	out = btf__new_empty();
	ret = out ? 0 : -errno;
	for (uint32_t id = 1; !ret && id < n; id++)
		if (mark[id]) {
			int nid = emit(out, k, btf__type_by_id(k, id), mark[id], map);

			ret = nid < 0 ? nid : (uint32_t)nid == map[id] ? 0 : -EINVAL;
		}
out:
	free(mark);
	free(map);
	free(stack);
	if (ret)
		btf__free(out);
	else
		*outp = out;
	return ret;
}

int corebtf_build(const struct btf *kernel, const void *obj, size_t obj_size, char *path,
		  size_t path_len, unsigned int *nr_types)
{
	struct roots *r = calloc(1, sizeof(*r));
	const void *btf_sec, *ext, *raw;
	size_t btf_len = 0, ext_len = 0;
	struct btf *local = NULL, *out = NULL;
	uint32_t raw_len;
	int ret, fd = -1;

	if (!r)
		return -ENOMEM;
	btf_sec = elf_section(obj, obj_size, ".BTF", &btf_len);
	ext = elf_section(obj, obj_size, ".BTF.ext", &ext_len);
	ret = btf_sec && ext ? 0 : -ENOENT;
	if (!ret) {
		local = btf__new(btf_sec, (uint32_t)btf_len);
		ret = local ? 0 : -errno;
	}
	if (!ret)
		ret = read_roots(local, ext, ext_len, r);
	if (!ret && !r->n)
		ret = -ENOENT; /* nothing to relocate */
	if (!ret)
		ret = small_btf(kernel, r, &out);
	if (!ret) {
		raw = btf__raw_data(out, &raw_len);
		fd = raw ? memfd_create("sva-trace-core-btf", MFD_CLOEXEC) : -1;
		ret = fd < 0 ? -errno : write(fd, raw, raw_len) == (ssize_t)raw_len ? 0 : -EIO;
	}
	if (!ret) {
		snprintf(path, path_len, "/proc/self/fd/%d", fd);
		*nr_types = btf__type_cnt(out) - 1;
		if (access(path, R_OK)) /* no /proc: libbpf could not open it */
			ret = -errno;
	}
	if (ret && fd >= 0)
		close(fd);
	btf__free(out);
	btf__free(local);
	free(r);
	return ret ? ret : fd;
}
