// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "u64map.h"

/* Kernel pointers share their high bits: mix before masking (splitmix64 finalizer). */
static inline size_t slot_of(const struct u64map *m, uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t)key & (m->cap - 1);
}

static int alloc_slots(struct u64map *m, size_t cap)
{
	m->slots = malloc(cap * sizeof(*m->slots));
	m->used = calloc(cap, 1);
	if (!m->slots || !m->used) {
		free(m->slots);
		free(m->used);
		m->slots = NULL;
		m->used = NULL;
		return -ENOMEM;
	}
	m->cap = cap;
	m->len = 0;
	return 0;
}

/*
 * The slots are allocated at the first insertion, at min_cap as before: a map that stays
 * empty costs nothing (the fuzz targets make a correlator of eight maps per input, most of
 * them never used: issue 18), and the capacities, so the iteration order, are unchanged.
 */
int u64map_init(struct u64map *m, size_t min_cap)
{
	memset(m, 0, sizeof(*m));
	m->min_cap = u64map_cap_for(min_cap);
	m->cap = m->min_cap;
	return 0;
}

void u64map_free(struct u64map *m)
{
	free(m->slots);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t i;

	if (!m->len)
		return false;
	i = slot_of(m, key);
	while (m->used[i]) {
		if (m->slots[i].key == key) {
			if (val)
				*val = m->slots[i].val;
			return true;
		}
		i = (i + 1) & (m->cap - 1);
	}
	return false;
}

static void insert_new(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i = slot_of(m, key);

	while (m->used[i])
		i = (i + 1) & (m->cap - 1);
	m->used[i] = 1;
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->len++;
}

static int resize(struct u64map *m, size_t cap)
{
	struct u64map old = *m;

	if (alloc_slots(m, cap)) {
		*m = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i])
			insert_new(m, old.slots[i].key, old.slots[i].val);
	free(old.slots);
	free(old.used);
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (!m->slots) {
		/* (a map freed and not initialised again has no capacity: it starts at 16) */
		if (!m->cap)
			m->cap = m->min_cap = 16;
		if (alloc_slots(m, m->cap))
			return -ENOMEM;
	}
	i = slot_of(m, key);
	while (m->used[i]) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return 0;
		}
		i = (i + 1) & (m->cap - 1);
	}
	if ((m->len + 1) * 2 > m->cap) {
		if (resize(m, m->cap * 2))
			return -ENOMEM;
		insert_new(m, key, val);
		return 0;
	}
	m->used[i] = 1;
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->len++;
	return 0;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	size_t i, j, home;

	if (!m->len)
		return false;
	i = slot_of(m, key);
	while (m->used[i] && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->used[i])
		return false;
	/* Backward-shift deletion: move later entries of the run into the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->used[j])
			break;
		home = slot_of(m, m->slots[j].key);
		if (u64map_fills_hole(i, j, home)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->used[i] = 0;
	m->len--;
	/* Shrink when mostly empty, so memory follows the live count. */
	if (m->cap > m->min_cap && m->len * 8 < m->cap)
		resize(m, m->cap / 2);
	return true;
}
