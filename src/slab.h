/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A slab of fixed-size objects for the correlator's per-bond state (issue 18: a million live
 * bonds). Against malloc it saves the 8 to 16 bytes of header and rounding per chunk, the
 * bin searches of _int_malloc (a third of the correlator's instructions at 1 M live bonds),
 * and keeps a freed object for the next allocation of its kind, while it is still in the
 * cache (an ended bond is followed by a new one). Chunks double from a few objects, so a
 * correlator that holds ten bonds (a fuzz input) costs a few hundred bytes; chunks of 2 MiB
 * and more are asked to be backed by transparent huge pages, since at a million bonds each
 * event touches objects spread over hundreds of megabytes and 4 KiB pages miss the TLB.
 *
 * Memory is returned at slab_destroy only: the slab keeps its high-water mark (peak RSS is
 * what the benchmarks judge, and glibc's heap kept it too). Under AddressSanitizer free and
 * unused objects are poisoned, so a use after free is still caught.
 */
#ifndef SVA_SLAB_H
#define SVA_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define slab_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define slab_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define slab_poison(p, n) ((void)(p), (void)(n))
#define slab_unpoison(p, n) ((void)(p), (void)(n))
#endif

#define SLAB_ALIGN 64 /* objects start on a cache line when their size is a multiple of it */

struct slab_chunk;

struct slab {
	size_t obj_size; /* a multiple of 8 */
	void *free_list; /* freed objects, the first word links them */
	char *cur, *end; /* the unused rest of the newest chunk */
	size_t next_objs; /* objects in the next chunk */
	struct slab_chunk *chunks;
};

/*
 * obj_size is rounded up to 8: objects are 8-byte aligned, and 16-byte aligned when
 * obj_size is a multiple of 16 (objmap.h's need). Nothing is allocated before the first
 * slab_alloc.
 */
void slab_init(struct slab *s, size_t obj_size);
/* An object from the unused rest of the newest chunk, or a new chunk (slab_alloc_raw's). */
void *slab_alloc_new(struct slab *s);

/*
 * An object whose bytes are undefined (the caller writes what it reads: a zeroing of a
 * size known where it is called is a few inline stores, where slab_alloc calls memset),
 * or NULL when out of memory. Inline: most allocations take the last object freed.
 */
static inline void *slab_alloc_raw(struct slab *s)
{
	void *p = s->free_list;

	if (!p)
		return slab_alloc_new(s);
	slab_unpoison(p, s->obj_size);
	memcpy(&s->free_list, p, sizeof(void *));
	return p;
}

/* A zeroed object, or NULL when out of memory. */
void *slab_alloc(struct slab *s);
/* p from slab_alloc of s (NULL: nothing). */
void slab_free(struct slab *s, void *p);
/* Frees every chunk: every object of s is gone. */
void slab_destroy(struct slab *s);

/*
 * A zeroed table of n elements of size bytes, read at random (objmap, pidmap): calloc below
 * 2 MiB, else aligned to 2 MiB and asked for transparent huge pages, so that a probe is not
 * also a TLB miss. Freed with free(). NULL when out of memory.
 */
void *slab_table_zalloc(size_t n, size_t size);

#endif
