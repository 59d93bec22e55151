/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel pointers leave the tool as keyed hashes (SipHash-2-4 from
 * libsodium, a fresh random key per run): equal within one run, so that
 * records still correlate, and useless for defeating KASLR. --raw-pointers
 * switches to the real addresses.
 */
#ifndef SVA_PTRHASH_H
#define SVA_PTRHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTRHASH_KEY_LEN 16
#define PTRHASH_STR_LEN 19 /* "0x" + 16 hex digits + NUL */

/* The cache (ptrhash.c): here so that a hit is inlined in ptrhash_hex. */
struct ptrhash_entry {
	uint64_t ptr, hash;
	char hex[16];
};

struct ptrhash_cache {
	struct ptrhash_entry *e; /* 1 << bits entries, in sets of PTRHASH_CACHE_WAYS */
	unsigned int bits;
	uint32_t lookups, misses; /* in the current window of 1 << bits look-ups */
};

#define PTRHASH_CACHE_WAYS 4

struct ptrhash {
	bool raw;
	unsigned char key[PTRHASH_KEY_LEN];
	/*
	 * The hashes of pointers met lately, and their hex digits (a record's pointers come
	 * back in the next records of the same bond): a SipHash is about 160 instructions and
	 * its printing about 40, a hit about 15. NULL when raw
	 * or when it could not be allocated (every pointer is hashed then). It changes under a
	 * const struct ptrhash: one thread maps pointers at a time.
	 */
	struct ptrhash_cache *cache;
};

/* Random key: 0, or -errno if the system has no randomness for us. ptrhash_free() after. */
int ptrhash_init(struct ptrhash *p, bool raw);
/* Fixed key, for tests and reproducible replays. ptrhash_free() after. */
void ptrhash_init_key(struct ptrhash *p, const unsigned char key[PTRHASH_KEY_LEN]);
/*
 * A key derived from seed (BLAKE2b): a file that holds raw addresses (a capture or export made
 * with --raw-pointers) hashes to the same values each time it is read. ptrhash_free() after.
 */
void ptrhash_init_seed(struct ptrhash *p, const char *seed);
/* Frees the cache (a zeroed or raw struct ptrhash has none); init may follow. */
void ptrhash_free(struct ptrhash *p);
/* 0 stays 0; anything else maps to its hash (or itself when raw). */
uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr);
/*
 * The 16 lowercase hex digits of the mapped value (no "0x", no NUL): from the cache, or
 * written into buf and returned.
 */
/* Not in the set's first entry: in another, or a miss that fills one (ptrhash.c). */
struct ptrhash_entry *ptrhash_cache_fill(const struct ptrhash *p, struct ptrhash_entry *set,
					 uint64_t ptr);
/* ptrhash_hex without the cache (raw, 0, or no cache): the digits written into buf. */
const char *ptrhash_hex_uncached(const struct ptrhash *p, uint64_t ptr, char buf[16]);

/* The set of ptr in the cache, by Fibonacci hashing: the pointer's upper bits are all alike,
 * its lower ones aligned. */
static inline struct ptrhash_entry *ptrhash_cache_set(const struct ptrhash_entry *e,
						      unsigned int bits, uint64_t ptr)
{
	return (struct ptrhash_entry *)e +
	       ((ptr * 0x9e3779b97f4a7c15ull) >> (64 - (bits - 2))) * PTRHASH_CACHE_WAYS;
}

/* A hit in a set's first entry here, inlined; the rest out of line. */
static inline const char *ptrhash_hex(const struct ptrhash *p, uint64_t ptr, char buf[16])
{
	struct ptrhash_cache *c = p->cache;

	if (__builtin_expect(c && ptr && !p->raw, 1)) {
		struct ptrhash_entry *set = ptrhash_cache_set(c->e, c->bits, ptr);

		c->lookups++;
		if (set->ptr == ptr)
			return set->hex;
		if (set[1].ptr == ptr) {
			/* one place forward, as ptrhash_cache_fill does */
			struct ptrhash_entry e = set[1];

			set[1] = set[0];
			set[0] = e;
			return set->hex;
		}
		return ptrhash_cache_fill(p, set, ptr)->hex;
	}
	return ptrhash_hex_uncached(p, ptr, buf);
}

/* SipHash-2-4 under key of the 8 bytes of m, little-endian; the hash read little-endian. */
uint64_t ptrhash_siphash24_u64(const unsigned char key[PTRHASH_KEY_LEN], uint64_t m);
/* "0x%016llx" of the mapped value. */
void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN]);

#endif
