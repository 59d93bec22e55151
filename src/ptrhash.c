// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#include "ptrhash.h"

_Static_assert(PTRHASH_KEY_LEN == crypto_shorthash_siphash24_KEYBYTES, "SipHash-2-4 key size");

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
	return 0;
}

void ptrhash_init_key(struct ptrhash *p, const unsigned char key[PTRHASH_KEY_LEN])
{
	memset(p, 0, sizeof(*p));
	memcpy(p->key, key, PTRHASH_KEY_LEN);
}

uint64_t ptrhash_map(const struct ptrhash *p, uint64_t ptr)
{
	unsigned char in[8], out[crypto_shorthash_siphash24_BYTES];
	uint64_t h = 0;

	if (!ptr || p->raw)
		return ptr;
	for (int i = 0; i < 8; i++)
		in[i] = (unsigned char)(ptr >> (8 * i));
	crypto_shorthash_siphash24(out, in, sizeof(in), p->key);
	for (int i = 0; i < 8; i++)
		h |= (uint64_t)out[i] << (8 * i);
	/* Never map a real pointer to 0, which means "none". */
	return h ? h : 1;
}

void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN])
{
	snprintf(out, PTRHASH_STR_LEN, "0x%016" PRIx64, ptrhash_map(p, ptr));
}
