// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pidmap.h"
#include "slab.h"
#include "u64map.h" /* the rules it shares */

void pidmap_init(struct pidmap *m, size_t min_cap)
{
	memset(m, 0, sizeof(*m));
	m->min_cap = u64map_cap_for(min_cap);
}

void pidmap_free(struct pidmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}

static void insert_new(struct pidmap_slot *slots, size_t cap, uint32_t pid, uint64_t val)
{
	size_t i = pidmap_slot_of(pid, cap);

	while (slots[i].val)
		i = (i + 1) & (cap - 1);
	slots[i].pid = pid;
	slots[i].val = val;
}

static int resize(struct pidmap *m, size_t cap)
{
	struct pidmap_slot *n = slab_table_zalloc(cap, sizeof(struct pidmap_slot));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].val)
			insert_new(n, cap, m->slots[i].pid, m->slots[i].val);
	free(m->slots);
	m->slots = n;
	m->cap = cap;
	return 0;
}

uint64_t pidmap_get(const struct pidmap *m, uint32_t pid)
{
	size_t i;

	if (!m->len)
		return 0;
	for (i = pidmap_slot_of(pid, m->cap); m->slots[i].val; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].pid == pid)
			return m->slots[i].val;
	return 0;
}

int pidmap_put(struct pidmap *m, uint32_t pid, uint64_t val)
{
	size_t i;

	if (!m->slots) {
		m->cap = m->min_cap ? m->min_cap : 16;
		m->slots = slab_table_zalloc(m->cap, sizeof(struct pidmap_slot));
		if (!m->slots) {
			m->cap = 0;
			return -ENOMEM;
		}
	}
	for (i = pidmap_slot_of(pid, m->cap); m->slots[i].val; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].pid == pid) {
			m->slots[i].val = val;
			return 0;
		}
	}
	if ((m->len + 1) * 2 > m->cap) {
		if (resize(m, m->cap * 2))
			return -ENOMEM;
		insert_new(m->slots, m->cap, pid, val);
	} else {
		m->slots[i].pid = pid;
		m->slots[i].val = val;
	}
	m->len++;
	return 0;
}

bool pidmap_del(struct pidmap *m, uint32_t pid)
{
	size_t i, j, home;

	if (!m->len)
		return false;
	i = pidmap_slot_of(pid, m->cap);
	while (m->slots[i].val && m->slots[i].pid != pid)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].val)
		return false;
	/* Backward-shift deletion: later entries of the run move into the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->slots[j].val)
			break;
		home = pidmap_slot_of(m->slots[j].pid, m->cap);
		if (u64map_fills_hole(i, j, home)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].val = 0;
	m->len--;
	/* Shrink when mostly empty, so memory follows the live count. */
	if (m->cap > m->min_cap && m->len * 8 < m->cap)
		resize(m, m->cap / 2);
	return true;
}
