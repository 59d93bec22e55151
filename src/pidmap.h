/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash map from a process id (uint32_t) to a value that is never 0 (an address, tagged or
 * not): 12-byte slots, where u64map spends 17 (a 64-bit key and a used byte beside each slot,
 * a second cache miss per look-up). At a million processes with bonds the correlator's map
 * of them is 24 MiB instead of 34 (issue 18: memory per live bond). Open addressing, linear
 * probing, at most half full, backward-shift deletion, as u64map.
 */
#ifndef SVA_PIDMAP_H
#define SVA_PIDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pidmap_slot {
	uint32_t pid;
	uint64_t val; /* 0: empty */
} __attribute__((packed));

struct pidmap {
	struct pidmap_slot *slots;
	size_t cap; /* power of two, 0 before the first insertion */
	size_t len;
	size_t min_cap;
};

void pidmap_init(struct pidmap *m, size_t min_cap);
void pidmap_free(struct pidmap *m);
/* The value of pid, 0 when there is none. */
uint64_t pidmap_get(const struct pidmap *m, uint32_t pid);
/* Insert or replace (val != 0): 0, or -ENOMEM. */
int pidmap_put(struct pidmap *m, uint32_t pid, uint64_t val);
bool pidmap_del(struct pidmap *m, uint32_t pid);

/* Process ids are dense and small: mixed before masking (a 32-bit finalizer). */
static inline size_t pidmap_slot_of(uint32_t pid, size_t cap)
{
	pid ^= pid >> 16;
	pid *= 0x7feb352du;
	pid ^= pid >> 15;
	pid *= 0x846ca68bu;
	pid ^= pid >> 16;
	return (size_t)pid & (cap - 1);
}

/* Starts loading the slot where pid's look-up begins (a hint; always inline: objmap.h). */
static inline __attribute__((always_inline)) void
pidmap_prefetch(const struct pidmap *m, uint32_t pid)
{
	if (m->len)
		__builtin_prefetch(&m->slots[pidmap_slot_of(pid, m->cap)]);
}

/*
 * Starts loading what pid's value points to (its low bits, a tag, masked off), when pid is
 * within the first four slots of its run. Reads the slots (load them first: pidmap_prefetch).
 */
static inline __attribute__((always_inline)) void
pidmap_prefetch_value(const struct pidmap *m, uint32_t pid, uint64_t tag_mask)
{
	size_t i = pidmap_slot_of(pid, m->cap);

	if (!m->len)
		return;
	for (int n = 0; n < 4 && m->slots[i].val; n++, i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].pid == pid) {
			__builtin_prefetch((const void *)(uintptr_t)(m->slots[i].val & ~tag_mask));
			return;
		}
	}
}

/* Iterate; the body must not modify the map. */
#define pidmap_for_each(m, k, v, body)                                     \
	do {                                                               \
		for (size_t i_##k = 0; i_##k < (m)->cap; i_##k++) {        \
			uint32_t k = (m)->slots[i_##k].pid;                \
			uint64_t v = (m)->slots[i_##k].val;                \
			if (!v)                                            \
				continue;                                  \
			body                                               \
		}                                                          \
	} while (0)

#endif
