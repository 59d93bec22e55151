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

struct ptrhash {
	bool raw;
	unsigned char key[PTRHASH_KEY_LEN];
};

/* Random key: 0, or -errno if the system has no randomness for us. */
int ptrhash_init(struct ptrhash *p, bool raw);
/* Fixed key, for tests and reproducible replays. */
void ptrhash_init_key(struct ptrhash *p, const unsigned char key[PTRHASH_KEY_LEN]);
/* 0 stays 0; anything else maps to its hash (or itself when raw). */
uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr);
/* "0x%016llx" of the mapped value. */
void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN]);

#endif
