/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SVA_FNV_H
#define SVA_FNV_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 32 bits: names hashed into small open-addressed tables (loader.c, corebtf.c). */
#define FNV1A32_BASIS 2166136261u
#define FNV1A32_PRIME 16777619u

static inline uint32_t fnv1a32(const char *s)
{
	uint32_t h = FNV1A32_BASIS;

	while (*s)
		h = (h ^ (uint8_t)*s++) * FNV1A32_PRIME;
	return h;
}

/* The same of the first n bytes of s. */
static inline uint32_t fnv1a32_n(const char *s, size_t n)
{
	uint32_t h = FNV1A32_BASIS;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * FNV1A32_PRIME;
	return h;
}

#endif
