// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objmap.h"
#include "slab.h"
#include "u64map.h" /* the rules it shares */

static inline uint64_t key_of(uintptr_t slot)
{
	uint64_t key;

	memcpy(&key, (const void *)(slot & ~OBJMAP_TAG_MASK), sizeof(key));
	return key;
}

void objmap_init(struct objmap *m, size_t min_cap)
{
	memset(m, 0, sizeof(*m));
	m->min_cap = u64map_cap_for(min_cap);
}

void objmap_free(struct objmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}

static void insert_slot(uintptr_t *slots, size_t cap, uintptr_t v, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = v;
}

static int resize(struct objmap *m, size_t cap)
{
	uintptr_t *n = slab_table_zalloc(cap, sizeof(uintptr_t));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			insert_slot(n, cap, m->slots[i], objmap_mix(key_of(m->slots[i])));
	free(m->slots);
	m->slots = n;
	m->cap = cap;
	return 0;
}

void *objmap_get(const struct objmap *m, uint64_t key)
{
	uint64_t h = objmap_mix(key);
	uintptr_t tag = objmap_tag(h);
	size_t i;

	if (!m->len)
		return NULL;
	for (i = (size_t)h & (m->cap - 1); m->slots[i]; i = (i + 1) & (m->cap - 1))
		if ((m->slots[i] & OBJMAP_TAG_MASK) == tag && key_of(m->slots[i]) == key)
			return (void *)(m->slots[i] & ~OBJMAP_TAG_MASK);
	return NULL;
}

int objmap_add(struct objmap *m, void *obj)
{
	uint64_t key, h;

	memcpy(&key, obj, sizeof(key));
	h = objmap_mix(key);
	if (!m->slots) {
		m->cap = m->min_cap ? m->min_cap : 16;
		m->slots = slab_table_zalloc(m->cap, sizeof(uintptr_t));
		if (!m->slots) {
			m->cap = 0;
			return -ENOMEM;
		}
	}
	if ((m->len + 1) * 2 > m->cap && resize(m, m->cap * 2))
		return -ENOMEM;
	insert_slot(m->slots, m->cap, (uintptr_t)obj | objmap_tag(h), h);
	m->len++;
	return 0;
}

bool objmap_del(struct objmap *m, const void *obj)
{
	uint64_t key;
	size_t i, j, home;

	if (!m->len)
		return false;
	memcpy(&key, obj, sizeof(key));
	i = (size_t)objmap_mix(key) & (m->cap - 1);
	while (m->slots[i] && (const void *)(m->slots[i] & ~OBJMAP_TAG_MASK) != obj)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i])
		return false;
	/* Backward-shift deletion: later entries of the run move into the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->slots[j])
			break;
		home = (size_t)objmap_mix(key_of(m->slots[j])) & (m->cap - 1);
		if (u64map_fills_hole(i, j, home)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = 0;
	m->len--;
	/* Shrink when mostly empty, so memory follows the live count. */
	if (m->cap > m->min_cap && m->len * 8 < m->cap)
		resize(m, m->cap / 2);
	return true;
}
