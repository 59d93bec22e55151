// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

#define poison(p, n) slab_poison(p, n)
#define unpoison(p, n) slab_unpoison(p, n)

#define HUGE_PAGE (2u << 20)
#define FIRST_CHUNK 1024 /* bytes of objects in the first chunk */
#define MAX_CHUNK (64u << 20)

/* At the start of each chunk, one SLAB_ALIGN unit: the objects follow. */
struct slab_chunk {
	struct slab_chunk *next;
	size_t bytes; /* the whole chunk */
	int mapped; /* mmap'd (huge-page sized), else malloc'd */
};

_Static_assert(sizeof(struct slab_chunk) <= SLAB_ALIGN, "chunk header fits one unit");

void slab_init(struct slab *s, size_t obj_size)
{
	memset(s, 0, sizeof(*s));
	s->obj_size = (obj_size + 7) & ~(size_t)7;
	s->next_objs = FIRST_CHUNK / s->obj_size > 4 ? FIRST_CHUNK / s->obj_size : 4;
}

/* A chunk of at least bytes, 2 MiB aligned and huge-page backed when that large. */
static struct slab_chunk *chunk_new(size_t bytes)
{
	struct slab_chunk *ch;

	if (bytes >= HUGE_PAGE) {
		size_t len = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
		char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *a;

		if (p == MAP_FAILED)
			return NULL;
		/* keep the 2 MiB aligned part: the head and tail go back */
		a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
		if (a > p)
			munmap(p, (size_t)(a - p));
		if (a + len < p + len + HUGE_PAGE)
			munmap(a + len, (size_t)(p + len + HUGE_PAGE - (a + len)));
#ifdef MADV_HUGEPAGE
		madvise(a, len, MADV_HUGEPAGE); /* a hint: without THP it stays 4 KiB pages */
#endif
		ch = (struct slab_chunk *)a;
		ch->bytes = len;
		ch->mapped = 1;
		return ch;
	}
	ch = aligned_alloc(SLAB_ALIGN, (bytes + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1));
	if (!ch)
		return NULL;
	ch->bytes = bytes;
	ch->mapped = 0;
	return ch;
}

static int slab_grow(struct slab *s)
{
	size_t bytes = SLAB_ALIGN + s->next_objs * s->obj_size;
	struct slab_chunk *ch = chunk_new(bytes);

	if (!ch)
		return -1;
	ch->next = s->chunks;
	s->chunks = ch;
	s->cur = (char *)ch + SLAB_ALIGN;
	s->end = (char *)ch + ch->bytes; /* a huge chunk's rounding is usable too */
	poison(s->cur, (size_t)(s->end - s->cur));
	if (s->next_objs * s->obj_size < MAX_CHUNK)
		s->next_objs *= 2;
	return 0;
}

void *slab_alloc_new(struct slab *s)
{
	void *p;

	if ((size_t)(s->end - s->cur) < s->obj_size && slab_grow(s))
		return NULL;
	p = s->cur;
	s->cur += s->obj_size;
	unpoison(p, s->obj_size);
	return p;
}

void *slab_alloc(struct slab *s)
{
	void *p = slab_alloc_raw(s);

	if (p)
		memset(p, 0, s->obj_size);
	return p;
}

void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	memcpy(p, &s->free_list, sizeof(void *));
	s->free_list = p;
	poison(p, s->obj_size);
}

void slab_destroy(struct slab *s)
{
	struct slab_chunk *ch = s->chunks, *next;

	for (; ch; ch = next) {
		unpoison(ch, ch->bytes);
		next = ch->next;
		if (ch->mapped)
			munmap(ch, ch->bytes);
		else
			free(ch);
	}
	slab_init(s, s->obj_size);
}

void *slab_table_zalloc(size_t n, size_t size)
{
	size_t bytes = n * size;
	void *s;

	if (bytes < HUGE_PAGE)
		return calloc(n, size);
	/*
	 * aligned_alloc takes a multiple of the alignment (C11; ASan refuses the 3 MiB of a
	 * pidmap of 12-byte slots, which glibc let pass): what is past bytes stays unused
	 */
	s = aligned_alloc(HUGE_PAGE, (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1));
	if (!s)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(s, bytes, MADV_HUGEPAGE);
#endif
	memset(s, 0, bytes);
	return s;
}
