// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#include "ptrhash.h"

_Static_assert(PTRHASH_KEY_LEN == crypto_shorthash_siphash24_KEYBYTES, "SipHash-2-4 key size");

/*
 * A direct-mapped table of pointer -> hash. It starts at 1 KiB (a fuzzer or a test makes
 * many) and grows 4x when more than a quarter of the last 4x-its-size look-ups missed (the
 * pointers in use do not fit; new pointers miss whatever the size), up to 2 MiB: 131072 entries, enough for the three pointers of
 * tens of thousands of live bonds. A hit is exact (the whole pointer is compared); what it
 * holds is what SipHash gave for that pointer under this key.
 */
#define CACHE_FIRST_BITS 6
#define CACHE_MAX_BITS 17

struct ptrhash_entry {
	uint64_t ptr, hash;
};

struct ptrhash_cache {
	struct ptrhash_entry *e;
	unsigned int bits;
	uint32_t lookups, misses; /* in the current window of 4 << bits look-ups */
};

static void cache_new(struct ptrhash *p)
{
	p->cache = calloc(1, sizeof(*p->cache));
	if (!p->cache)
		return;
	p->cache->bits = CACHE_FIRST_BITS;
	p->cache->e = calloc(1u << CACHE_FIRST_BITS, sizeof(*p->cache->e));
	if (!p->cache->e) {
		free(p->cache);
		p->cache = NULL;
	}
}

void ptrhash_free(struct ptrhash *p)
{
	if (p->cache)
		free(p->cache->e);
	free(p->cache);
	p->cache = NULL;
}

int ptrhash_init(struct ptrhash *p, bool raw)
{
	ssize_t n;

	memset(p, 0, sizeof(*p));
	p->raw = raw;
	if (raw)
		return 0;
	/* getrandom() rather than sodium_init(): no global state, no fds. */
	n = getrandom(p->key, sizeof(p->key), 0);
	if (n != (ssize_t)sizeof(p->key))
		return n < 0 ? -errno : -EIO;
	cache_new(p);
	return 0;
}

void ptrhash_init_key(struct ptrhash *p, const unsigned char key[PTRHASH_KEY_LEN])
{
	memset(p, 0, sizeof(*p));
	memcpy(p->key, key, PTRHASH_KEY_LEN);
	cache_new(p);
}

static uint64_t siphash(const struct ptrhash *p, uint64_t ptr)
{
	uint64_t in = htole64(ptr), out, h;

	/* little-endian bytes in and out, as before (one copy each, not a loop of shifts) */
	_Static_assert(crypto_shorthash_siphash24_BYTES == sizeof(out), "SipHash-2-4 output size");
	crypto_shorthash_siphash24((unsigned char *)&out, (const unsigned char *)&in, sizeof(in),
				   p->key);
	h = le64toh(out);
	/* Never map a real pointer to 0, which means "none". */
	return h ? h : 1;
}

/* Four times the entries, the old ones moved over (a failed allocation keeps the old). */
static void cache_grow(struct ptrhash_cache *c)
{
	unsigned int bits = c->bits + 2 > CACHE_MAX_BITS ? CACHE_MAX_BITS : c->bits + 2;
	struct ptrhash_entry *e = calloc(1u << bits, sizeof(*e));

	if (!e)
		return;
	for (size_t i = 0; i < (1u << c->bits); i++) {
		uint64_t ptr = c->e[i].ptr;

		if (ptr)
			e[(ptr * 0x9e3779b97f4a7c15ull) >> (64 - bits)] = c->e[i];
	}
	free(c->e);
	c->e = e;
	c->bits = bits;
}

uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr)
{
	struct ptrhash_cache *c = p->cache;
	struct ptrhash_entry *e;

	if (!ptr || p->raw)
		return ptr;
	if (!c)
		return siphash(p, ptr);
	/* Fibonacci hashing: the pointer's upper bits are all alike, its lower ones aligned */
	e = &c->e[(ptr * 0x9e3779b97f4a7c15ull) >> (64 - c->bits)];
	if (__builtin_expect(++c->lookups >= (4u << c->bits), 0)) {
		if (c->misses > c->lookups / 4 && c->bits < CACHE_MAX_BITS) {
			cache_grow(c);
			e = &c->e[(ptr * 0x9e3779b97f4a7c15ull) >> (64 - c->bits)];
		}
		c->lookups = c->misses = 0;
	}
	if (e->ptr == ptr)
		return e->hash;
	c->misses++;
	e->ptr = ptr;
	e->hash = siphash(p, ptr);
	return e->hash;
}

void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN])
{
	snprintf(out, PTRHASH_STR_LEN, "0x%016" PRIx64, ptrhash_map(p, ptr));
}
