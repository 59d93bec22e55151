// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>
#ifdef __x86_64__ /* SSE2 is part of the architecture */
#include <emmintrin.h>
#endif

#include "ptrhash.h"

_Static_assert(PTRHASH_KEY_LEN == crypto_shorthash_siphash24_KEYBYTES, "SipHash-2-4 key size");

/*
 * A table of pointer -> hash and its hex digits, in sets of CACHE_WAYS entries: a hit moves
 * its entry one place forward, a miss goes in front and drops the last. It starts at 2 KiB (a
 * fuzzer or a test makes many) and grows 4x when more than a quarter of the last
 * as-many-as-its-size look-ups missed (the pointers in use do not fit; new pointers miss
 * whatever the size), up to 2 MiB: 65536 entries, enough for the three pointers of twenty
 * thousand live bonds. A hit is exact (the whole pointer is compared); what it holds is what
 * SipHash gave for that pointer under this key. In bench_reader's stream (10 k live bonds,
 * 569,450 look-ups of 104,612 distinct pointers) a direct-mapped table of the same size,
 * growing after windows four times longer, missed 218,718 times; these sets 123,564.
 */
#define CACHE_FIRST_BITS 6
#define CACHE_MAX_BITS 16
#define CACHE_WAYS PTRHASH_CACHE_WAYS /* entries a set: 128 bytes, two cache lines */

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

void ptrhash_init_seed(struct ptrhash *p, const char *seed)
{
	unsigned char key[PTRHASH_KEY_LEN];

	crypto_generichash(key, sizeof(key), (const unsigned char *)seed, strlen(seed), NULL, 0);
	ptrhash_init_key(p, key);
}

/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) of the 8
 * little-endian bytes of one word: the one block of the message, then the block that holds
 * only its length (8 << 56), then the finalization. The same value as libsodium's
 * crypto_shorthash_siphash24 of those bytes (tests/unit/test_decode.c compares them), in
 * about 120 instructions instead of 155: no byte loop, no length cases.
 */
#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND                                                                              \
	do {                                                                                   \
		v0 += v1;                                                                      \
		v1 = SIP_ROTL(v1, 13);                                                         \
		v1 ^= v0;                                                                      \
		v0 = SIP_ROTL(v0, 32);                                                         \
		v2 += v3;                                                                      \
		v3 = SIP_ROTL(v3, 16);                                                         \
		v3 ^= v2;                                                                      \
		v0 += v3;                                                                      \
		v3 = SIP_ROTL(v3, 21);                                                         \
		v3 ^= v0;                                                                      \
		v2 += v1;                                                                      \
		v1 = SIP_ROTL(v1, 17);                                                         \
		v1 ^= v2;                                                                      \
		v2 = SIP_ROTL(v2, 32);                                                         \
	} while (0)

uint64_t ptrhash_siphash24_u64(const unsigned char key[PTRHASH_KEY_LEN], uint64_t m)
{
	uint64_t k0, k1, v0, v1, v2, v3;
	const uint64_t last = (uint64_t)8 << 56;

	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	k0 = le64toh(k0);
	k1 = le64toh(k1);
	v0 = k0 ^ 0x736f6d6570736575ull;
	v1 = k1 ^ 0x646f72616e646f6dull;
	v2 = k0 ^ 0x6c7967656e657261ull;
	v3 = k1 ^ 0x7465646279746573ull;
	v3 ^= m;
	SIP_ROUND;
	SIP_ROUND;
	v0 ^= m;
	v3 ^= last;
	SIP_ROUND;
	SIP_ROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t siphash(const struct ptrhash *p, uint64_t ptr)
{
	/* the pointer's little-endian bytes, the hash read back little-endian, as before */
	uint64_t h = ptrhash_siphash24_u64(p->key, ptr);

	/* Never map a real pointer to 0, which means "none". */
	return h ? h : 1;
}

/*
 * Four times the entries, the old ones moved over (a failed allocation keeps the old). A new
 * set takes entries from one old set only, in their order.
 */
static void cache_grow(struct ptrhash_cache *c)
{
	unsigned int bits = c->bits + 2 > CACHE_MAX_BITS ? CACHE_MAX_BITS : c->bits + 2;
	struct ptrhash_entry *e = calloc(1u << bits, sizeof(*e));

	if (!e)
		return;
	for (size_t i = 0; i < (1u << c->bits); i++) {
		uint64_t ptr = c->e[i].ptr;
		struct ptrhash_entry *set = ptrhash_cache_set(e, bits, ptr);

		if (!ptr)
			continue;
		for (int w = 0; w < CACHE_WAYS; w++) {
			if (!set[w].ptr) {
				set[w] = c->e[i];
				break;
			}
		}
	}
	free(c->e);
	c->e = e;
	c->bits = bits;
}

#ifdef __x86_64__ /* SSE2 is part of the architecture */
/*
 * The 16 hex digits of v, most significant first, into out (no NUL): v's bytes big-endian in
 * one register, each byte's high nibble (a 16-bit shift, masked to each byte's own) and low
 * nibble interleaved into two bytes, then '0' added to each, and 'a' - '0' - 10 more to those
 * above 9. 15 instructions where the two hex8 below are about 50: a pointer's first sight
 * (0.6 a record in bench_reader's stream) pays them.
 */
static void hex16(char *out, uint64_t v)
{
	const __m128i nibble = _mm_set1_epi8(0x0f);
	__m128i x = _mm_cvtsi64_si128((long long)htobe64(v));
	__m128i n = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), nibble),
				      _mm_and_si128(x, nibble));
	__m128i above9 = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));

	n = _mm_add_epi8(n, _mm_set1_epi8('0'));
	n = _mm_add_epi8(n, _mm_and_si128(above9, _mm_set1_epi8('a' - '0' - 10)));
	_mm_storeu_si128((__m128i *)out, n);
}
#else
/*
 * The 8 hex digits of x, most significant first, into out (no NUL), without a loop: each
 * nibble spread to a byte (byte i = nibble i), then '0' added, and 'a' - '0' - 10 more to
 * those of 10 and up (adding 6 carries into bit 4 exactly for them).
 */
static void hex8(char *out, uint32_t x)
{
	uint64_t v = x;

	v = (v | (v << 16)) & 0x0000ffff0000ffffull;
	v = (v | (v << 8)) & 0x00ff00ff00ff00ffull;
	v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0full;
	v += 0x3030303030303030ull + (((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull) *
					      ('a' - '0' - 10);
	v = htobe64(v); /* nibble 7 first in memory */
	memcpy(out, &v, 8);
}

static void hex16(char *out, uint64_t v)
{
	hex8(out, (uint32_t)(v >> 32));
	hex8(out + 8, (uint32_t)v);
}
#endif

/*
 * Not in the set's first entry: in another (moved one place forward), or a miss: the window's
 * verdict first (it closes at the first miss after 1 << bits look-ups), then the entry
 * filled in front, the others one place back (the last one dropped). Out of line, so that a
 * hit in front needs no registers saved.
 */
struct ptrhash_entry *ptrhash_cache_fill(const struct ptrhash *p, struct ptrhash_entry *set,
					 uint64_t ptr)
{
	struct ptrhash_cache *c = p->cache;
	struct ptrhash_entry e;
	int w;

	for (w = 1; w < CACHE_WAYS; w++) {
		if (set[w].ptr == ptr) {
			e = set[w];
			set[w] = set[w - 1];
			set[w - 1] = e;
			return set + w - 1;
		}
	}
	if (c->lookups >= (1u << c->bits)) {
		if (c->misses > c->lookups / 4 && c->bits < CACHE_MAX_BITS) {
			cache_grow(c);
			set = ptrhash_cache_set(c->e, c->bits, ptr);
		}
		c->lookups = c->misses = 0;
	}
	c->misses++;
	_Static_assert(CACHE_WAYS == 4, "the entries moved back one by one");
	set[3] = set[2]; /* (a memmove call cost as much again) */
	set[2] = set[1];
	set[1] = set[0];
	set->ptr = ptr;
	set->hash = siphash(p, ptr);
	hex16(set->hex, set->hash);
	return set;
}

/* The cache entry of ptr (not 0), filled on a miss; NULL when there is no cache. */
static inline struct ptrhash_entry *cache_entry(const struct ptrhash *p, uint64_t ptr)
{
	struct ptrhash_cache *c = p->cache;
	struct ptrhash_entry *set;

	if (!c)
		return NULL;
	c->lookups++;
	set = ptrhash_cache_set(c->e, c->bits, ptr);
	return set->ptr == ptr ? set : ptrhash_cache_fill(p, set, ptr);
}

uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr)
{
	struct ptrhash_entry *e;

	if (!ptr || p->raw)
		return ptr;
	e = cache_entry(p, ptr);
	return e ? e->hash : siphash(p, ptr);
}

const char *ptrhash_hex_uncached(const struct ptrhash *p, uint64_t ptr, char buf[16])
{
	struct ptrhash_entry *e;

	if (ptr && !p->raw && (e = cache_entry(p, ptr)))
		return e->hex;
	hex16(buf, ptrhash_map(p, ptr));
	return buf;
}

void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN])
{
	snprintf(out, PTRHASH_STR_LEN, "0x%016" PRIx64, ptrhash_map(p, ptr));
}
