/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash index of objects that carry their own key: each object starts with its uint64_t
 * key and is 16-byte aligned (slab.h's objects are when their size is a multiple of 16).
 * A slot is the object's address alone, 8 bytes, where u64map spends 17 (key, value, used
 * byte): at a million live bonds the index of bonds by handle is 16 MiB instead of 34
 * (issue 18: memory per live bond). The alignment's four low bits carry four bits of the
 * key's hash, so a probe past another object reads it only once in 16. Open addressing,
 * linear probing, at most half full, backward-shift deletion (no tombstones), as u64map.
 * No iteration: callers that need an order keep a list.
 */
#ifndef SVA_OBJMAP_H
#define SVA_OBJMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct objmap {
	uintptr_t *slots; /* 0: empty; else the object's address | tag */
	size_t cap; /* power of two, 0 before the first insertion */
	size_t len;
	size_t min_cap;
};

void objmap_init(struct objmap *m, size_t min_cap);
void objmap_free(struct objmap *m);
/* The object whose key is key, or NULL. */
void *objmap_get(const struct objmap *m, uint64_t key);
/* Adds obj (its key must not be in the map): 0, or -ENOMEM. */
int objmap_add(struct objmap *m, void *obj);
/* Removes obj (this very object): true if it was there. */
bool objmap_del(struct objmap *m, const void *obj);

/* Kernel pointers share their high bits: mixed (splitmix64 finalizer), as in u64map. */
static inline uint64_t objmap_mix(uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return key;
}

#define OBJMAP_TAG_MASK ((uintptr_t)15) /* slab objects are 16-byte aligned at least */

/* The slot index from the hash's low bits, the tag from its top bits: independent. */
static inline uintptr_t objmap_tag(uint64_t h)
{
	return (uintptr_t)(h >> 58) & OBJMAP_TAG_MASK;
}

/*
 * Starts loading the slot where key's look-up begins (a hint: nothing changes). Always
 * inline: GCC split an inline one's body out and dropped the calls to it, taking
 * __builtin_prefetch for an instruction without effect.
 */
static inline __attribute__((always_inline)) void
objmap_prefetch(const struct objmap *m, uint64_t key)
{
	if (m->len)
		__builtin_prefetch(&m->slots[(size_t)objmap_mix(key) & (m->cap - 1)]);
}

/*
 * Starts loading the object key's look-up would find, size bytes of it: the first one in
 * its probe run whose tag matches (four slots looked at, at most). Reads the slots (load
 * them first: objmap_prefetch), not the objects: a hint, which may load a wrong one.
 */
static inline __attribute__((always_inline)) void
objmap_prefetch_object(const struct objmap *m, uint64_t key, size_t size)
{
	uint64_t h = objmap_mix(key);
	size_t i = (size_t)h & (m->cap - 1);

	if (!m->len)
		return;
	for (int n = 0; n < 4 && m->slots[i]; n++, i = (i + 1) & (m->cap - 1)) {
		if ((m->slots[i] & OBJMAP_TAG_MASK) != objmap_tag(h))
			continue;
		for (size_t off = 0; off < size; off += 64)
			__builtin_prefetch((const char *)(m->slots[i] & ~OBJMAP_TAG_MASK) + off);
		return;
	}
}

/*
 * Starts loading the keys of the objects in key's probe run (eight slots at most): a
 * deletion's backward shift reads those after the deleted one to find their home slots.
 */
static inline __attribute__((always_inline)) void
objmap_prefetch_run(const struct objmap *m, uint64_t key)
{
	size_t i = (size_t)objmap_mix(key) & (m->cap - 1);

	if (!m->len)
		return;
	for (int n = 0; n < 8 && m->slots[i]; n++, i = (i + 1) & (m->cap - 1))
		__builtin_prefetch((const void *)(m->slots[i] & ~OBJMAP_TAG_MASK));
}

#endif
