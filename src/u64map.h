/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash map from u64 to u64 with open addressing and linear probing,
 * sized to a power of two and kept at most half full. Deletion uses
 * backward shifting, so there are no tombstones and look-ups stay short
 * however many objects come and go: memory follows the live count.
 */
#ifndef SVA_U64MAP_H
#define SVA_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;
	uint64_t val;
};

struct u64map {
	struct u64map_slot *slots;
	uint8_t *used;
	size_t cap; /* power of two */
	size_t len;
	size_t min_cap;
};

/* 0 (memory is taken at the first u64map_put, which may fail with -ENOMEM). */
int u64map_init(struct u64map *m, size_t min_cap);
void u64map_free(struct u64map *m);
bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/* Insert or replace. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
bool u64map_del(struct u64map *m, uint64_t key);

/* Rules objmap and pidmap share with u64map. The capacity for min_cap: a power of two, >= 16. */
static inline size_t u64map_cap_for(size_t min_cap)
{
	size_t cap = 16;

	while (cap < min_cap)
		cap *= 2;
	return cap;
}

/*
 * Backward-shift deletion: the entry at slot j, whose look-up starts at home, moves into the
 * hole at slot i when home is not cyclically in (i, j].
 */
static inline bool u64map_fills_hole(size_t i, size_t j, size_t home)
{
	return (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j));
}

/* Iterate; the body must not modify the map. An empty map has no slots to visit. */
#define u64map_for_each(m, k, v, body)                                     \
	do {                                                               \
		for (size_t i_##k = 0; (m)->len && i_##k < (m)->cap; i_##k++) { \
			if (!(m)->used[i_##k])                             \
				continue;                                  \
			uint64_t k = (m)->slots[i_##k].key;                \
			uint64_t v = (m)->slots[i_##k].val;                \
			body                                               \
		}                                                          \
	} while (0)

#endif
