// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <endian.h>
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
	uint64_t in = htole64(ptr), out, h;

	if (!ptr || p->raw)
		return ptr;
	/* little-endian bytes in and out, as before (one copy each, not a loop of shifts) */
	_Static_assert(crypto_shorthash_siphash24_BYTES == sizeof(out), "SipHash-2-4 output size");
	crypto_shorthash_siphash24((unsigned char *)&out, (const unsigned char *)&in, sizeof(in),
				   p->key);
	h = le64toh(out);
	/* Never map a real pointer to 0, which means "none". */
	return h ? h : 1;
}

void ptrhash_format(const struct ptrhash *p, uint64_t ptr, char out[PTRHASH_STR_LEN])
{
	snprintf(out, PTRHASH_STR_LEN, "0x%016" PRIx64, ptrhash_map(p, ptr));
}
