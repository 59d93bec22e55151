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

struct ptrhash_cache;

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
/* Frees the cache (a zeroed or raw struct ptrhash has none); init may follow. */
void ptrhash_free(struct ptrhash *p);
/* 0 stays 0; anything else maps to its hash (or itself when raw). */
uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr);
/*
 * The 16 lowercase hex digits of the mapped value (no "0x", no NUL): from the cache, or
 * written into buf and returned.
 */
const char *ptrhash_hex(const struct ptrhash *p, uint64_t ptr, char buf[16]);
/* "0x%016llx" of the mapped value. */
void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN]);

#endif
