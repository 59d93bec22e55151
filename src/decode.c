// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cause.h"
#include "decode.h"

/*
 * The flags most records do not have, each a field of its own, in output order: the text
 * line's and the JSON object's form. One test of them all first (the live reader's cost per
 * record, issue 18), the list only for a record that has one.
 */
#define RARE_FLAG_LIST(X)                                                                   \
	X(SVA_EVF_USERS_DOMAIN, " users_of=domain", ",\"users_of\":\"domain\"")                  \
	X(SVA_EVF_USERS_DRIVER, " users_of=driver", ",\"users_of\":\"driver\"")                  \
	X(SVA_EVF_GROUP_RESETTING, " resetting", ",\"resetting\":true")                        \
	X(SVA_EVF_PASID_EXISTING, " existing", ",\"pasid_existing\":true")                     \
	X(SVA_EVF_MM_UNTRACKED, " mm_untracked", ",\"mm_untracked\":true")                     \
	X(SVA_EVF_KTHREAD, " kthread", ",\"kthread\":true")                                    \
	X(SVA_EVF_EXITING, " exiting", ",\"exiting\":true")
#define RARE_BIT(flag, text, json) | (flag)
#define RARE_FLAGS (0 RARE_FLAG_LIST(RARE_BIT))
#define RARE_ENTRY(flag, text, json) { flag, sizeof(text) - 1, sizeof(json) - 1, text, json },

static const struct rare_flag {
	uint32_t flag;
	uint8_t text_len, json_len;
	const char *text, *json;
} rare_flags[] = { RARE_FLAG_LIST(RARE_ENTRY) };

static const char *const rec_names[SVA_REC__MAX] = {
	[SVA_REC_BIND] = "bind",
	[SVA_REC_UNBIND] = "unbind",
	[SVA_REC_ATTACH] = "attach",
	[SVA_REC_REPLACE] = "replace",
	[SVA_REC_DETACH] = "detach",
	[SVA_REC_LOOKUP] = "lookup",
	[SVA_REC_PASID_ALLOC] = "pasid_alloc",
	[SVA_REC_PASID_FREE] = "pasid_free",
	[SVA_REC_MM_PASID_DROP] = "mm_pasid_drop",
	[SVA_REC_PROC_EXIT] = "process_exit",
	[SVA_REC_MM_EXIT] = "mm_exit",
};

const char *sva_rec_type_name(unsigned int type)
{
	if (type == 0 || type >= SVA_REC__MAX)
		return NULL;
	return rec_names[type];
}

unsigned int sva_rec_type_from_name(const char *name)
{
	for (unsigned int t = 1; t < SVA_REC__MAX; t++)
		if (rec_names[t] && !strcmp(rec_names[t], name))
			return t;
	return 0;
}

int sva_event_decode(const void *data, size_t size, struct sva_event *ev, char *err,
		     size_t errlen)
{
	uint16_t type;

	/* A record from before the cause fields has none: the rest of the layout is the same. */
	if (size < SVA_EVENT_SIZE_V1 || (size > SVA_EVENT_SIZE_V1 && size < sizeof(*ev))) {
		snprintf(err, errlen, "record of %zu bytes, expected %zu: BPF object and tool disagree",
			 size, sizeof(*ev));
		return -EINVAL;
	}
	memcpy(&type, data, sizeof(type));
	if (type == 0 || type >= SVA_REC__MAX) { /* !sva_rec_type_name(type), without a call */
		snprintf(err, errlen, "unknown record type %u", type);
		return -EINVAL;
	}
	if (size >= sizeof(*ev)) {
		/* the common case: one constant-size copy */
		memcpy(ev, data, sizeof(*ev));
		return 0;
	}
	memset(ev, 0, sizeof(*ev));
	memcpy(ev, data, size);
	if (size == SVA_EVENT_SIZE_V1) {
		/* its last 4 bytes were padding, where cause_func and its neighbours are now */
		ev->cause_func = 0;
		ev->cause_depth = 0;
		ev->cause_flags = 0;
	}
	return 0;
}

/*
 * IOMMU_DOMAIN_* from include/linux/iommu.h. The values are built from the
 * same __IOMMU_DOMAIN_* bits in 6.1, 6.12 and 7.2 (docs/KERNELS.md); later
 * generations only added bits.
 */
static const char *domain_type_name_n(uint32_t type, size_t *n)
{
#define NAME_N(s) (*n = sizeof(s) - 1, s)
	switch (type) {
	case SVA_DOMAIN_BLOCKED: return NAME_N("blocked");
	case SVA_DOMAIN_IDENTITY: return NAME_N("identity");
	case SVA_DOMAIN_UNMANAGED: return NAME_N("unmanaged");
	case SVA_DOMAIN_DMA: return NAME_N("dma");
	case SVA_DOMAIN_DMA_FQ: return NAME_N("dma_fq");
	case SVA_DOMAIN_SVA: return NAME_N("sva");
	case SVA_DOMAIN_PLATFORM: return NAME_N("platform");
	case SVA_DOMAIN_NESTED: return NAME_N("nested");
	default: *n = 0; return NULL;
	}
#undef NAME_N
}

const char *sva_domain_type_name(uint32_t type)
{
	size_t n;

	return domain_type_name_n(type, &n);
}

const char *sva_errno_name(int64_t err)
{
	/* -INT64_MIN does not exist: range-check before negating */
	if (err < -4095 || err > 4095 || err == 0)
		return NULL;
	if (err < 0)
		err = -err;
	return strerrorname_np((int)err);
}

size_t sva_text_escape(char *out, size_t outlen, const char *s, size_t max)
{
	size_t o = 0;
	char tmp[5];

	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *p = tmp;
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			/* the common case, without a memcpy call per byte */
			if (o + 1 < outlen)
				out[o] = (char)c;
			o++;
			continue;
		} else {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		}
		if (o + n < outlen)
			memcpy(out + o, p, n);
		o += n;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
	return o;
}

const char *sva_text_header(void)
{
	return "TIME(s)       CPU PID     COMM             EVENT          DEVICE           "
	       "GROUP PASID  USERS RESULT";
}

/* The RESULT column: "ok", "-", the errno's name or the number (in buf); *n its length. */
static const char *fmt_result(const struct sva_event *ev, char *buf, size_t len, size_t *n)
{
	const char *name;

	if (ev->type == SVA_REC_PASID_ALLOC && ev->ret >= 0) {
		*n = 2;
		return "ok";
	}
	if (ev->type == SVA_REC_UNBIND || ev->type == SVA_REC_DETACH ||
	    ev->type == SVA_REC_PASID_FREE || ev->type == SVA_REC_MM_PASID_DROP ||
	    ev->type == SVA_REC_PROC_EXIT) {
		*n = 1;
		return "-";
	}
	if (ev->ret == 0) {
		*n = 2;
		return "ok";
	}
	name = sva_errno_name(ev->ret);
	if (!name) {
		snprintf(buf, len, "%" PRId64, (int64_t)ev->ret);
		name = buf;
	}
	*n = strlen(name);
	return name;
}

/*
 * The text line is on the replay hot path (one per event): built with small
 * appenders instead of snprintf, which cost about half of a replay's time. They are
 * inlined, so that a literal's length is a constant and its copy a few moves; a string of
 * variable length up to 32 bytes is copied with two overlapping moves (copy_short), not a
 * call to memcpy.
 */
struct line {
	char *buf;
	size_t len, cap; /* cap excludes the NUL */
	bool full;
};

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* n bytes from s to d: constant sizes become moves; 32 and less two overlapping moves. */
ALWAYS_INLINE void copy_short(char *d, const char *s, size_t n)
{
	if (n > 32) {
		memcpy(d, s, n);
	} else if (n >= 16) {
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/* What does not fit: as much as does, and the line marked full. */
static void put_mem_cut(struct line *l, const char *s, size_t n)
{
	n = l->cap - l->len;
	l->full = true;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

ALWAYS_INLINE void put_mem(struct line *l, const char *s, size_t n)
{
	if (__builtin_expect(l->len + n > l->cap, 0)) {
		put_mem_cut(l, s, n);
		return;
	}
	copy_short(l->buf + l->len, s, n);
	l->len += n;
}

/* Inlined: a literal's strlen is a constant. */
ALWAYS_INLINE void put_str(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

/* Bytes that sva_text_escape writes as \\xNN: below 0x20, above 0x7e, the backslash. */
static inline bool text_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/*
 * A mask with bit 7 of each byte of w (little-endian: byte 0 first) that is below 0x20 (NUL
 * included), above 0x7e or a backslash. Exact up to the first such byte; bytes after it
 * may be flagged too (borrows and carries run upwards from it), so only the lowest bit set
 * is to be trusted.
 */
static inline uint64_t text_stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t bs = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | (w + ones) | w | ((bs - ones) & ~bs)) & highs;
}

/* From a byte to escape on: sva_text_escape's loop, up to the NUL or max. Returns the length. */
static __attribute__((noinline)) size_t text_escape_rest(char *d, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	char *d0 = d;

	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (text_plain(c)) {
			*d++ = (char)c;
		} else {
			d[0] = '\\';
			d[1] = 'x';
			d[2] = hex[c >> 4];
			d[3] = hex[c & 15];
			d += 4;
		}
	}
	return (size_t)(d - d0);
}

/*
 * sva_text_escape of a kernel char array (max a multiple of 8) into d, which has room for
 * 4 * max bytes: 8 bytes a step while they are plain, up to the NUL (the common end).
 * Returns the length written.
 */
static size_t text_escape_fast(char *d, const char *s, size_t max)
{
	for (size_t i = 0; i < max; i += 8) {
		uint64_t w, stops;

		memcpy(&w, s + i, 8);
		memcpy(d + i, s + i, 8); /* the plain bytes; what follows a stop is overwritten */
		stops = text_stops(le64toh(w));
		if (stops) {
			size_t k = i + ((unsigned int)__builtin_ctzll(stops) >> 3);

			if (!s[k])
				return k;
			return k + text_escape_rest(d + k, s + k, max - k);
		}
	}
	return max;
}
/* "00" to "99": two digits a division (timestamps have 10 and more) */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* v in decimal, ending with a NUL at end[-1]: returns its first digit. */
static char *fmt_u64(char *end, uint64_t v)
{
	*--end = '\0';
	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		end -= 2;
		memcpy(end, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/*
 * ---- writing at a cursor, without checks: for the parts of a line whose longest form fits
 * in the room made before (each use says how) ----
 */

/* n bytes (a constant: a few moves) at d; returns the end. */
ALWAYS_INLINE char *out_mem(char *d, const char *s, size_t n)
{
	memcpy(d, s, n);
	return d + n;
}

#define OUT_LIT(d, lit) ((d) = out_mem((d), (lit), sizeof(lit) - 1))

/* The 4 digits of v (below 10,000, leading zeros kept) at d: two pairs. */
static inline void out_4digits(char *d, uint32_t v)
{
	memcpy(d, digit_pairs + 2 * (v / 100), 2);
	memcpy(d + 2, digit_pairs + 2 * (v % 100), 2);
}

/* v (below 10,000) in decimal at d, 1 to 4 bytes. Returns the end. */
static inline char *out_up_to_4(char *d, uint32_t v)
{
	if (v < 10) {
		*d = (char)('0' + v);
		return d + 1;
	}
	if (v < 100) {
		memcpy(d, digit_pairs + 2 * v, 2);
		return d + 2;
	}
	if (v < 1000) {
		d[0] = (char)('0' + v / 100);
		memcpy(d + 1, digit_pairs + 2 * (v % 100), 2);
		return d + 3;
	}
	out_4digits(d, v);
	return d + 4;
}

/* v (below 10^8) in decimal at d, 1 to 8 bytes: 32-bit divisions only. Returns the end. */
static inline char *out_up_to_8(char *d, uint32_t v)
{
	if (v < 10000)
		return out_up_to_4(d, v);
	d = out_up_to_4(d, v / 10000);
	out_4digits(d, v % 10000);
	return d + 4;
}

/*
 * v (100 and up) in decimal at d, at most 20 bytes, in groups of 8 digits so that all but
 * one division are 32-bit (timestamps in nanoseconds have 10 to 19 digits). Returns the end.
 */
static char *out_u64_long(char *d, uint64_t v)
{
	uint32_t lo;

	if (v < 100000000)
		return out_up_to_8(d, (uint32_t)v);
	lo = (uint32_t)(v % 100000000);
	v /= 100000000;
	if (v < 100000000) {
		d = out_up_to_8(d, (uint32_t)v);
	} else {
		uint32_t mid = (uint32_t)(v % 100000000);

		d = out_up_to_4(d, (uint32_t)(v / 100000000)); /* 2^64 has 20 digits: 4 here */
		out_4digits(d, mid / 10000);
		out_4digits(d + 4, mid % 10000);
		d += 8;
	}
	out_4digits(d, lo / 10000);
	out_4digits(d + 4, lo % 10000);
	return d + 8;
}

/* v in decimal at d (at most 20 bytes); one and two digits inline. Returns the end. */
ALWAYS_INLINE char *out_u64(char *d, uint64_t v)
{
	if (v < 10) {
		*d = (char)('0' + v);
		return d + 1;
	}
	if (v < 100)
		return out_mem(d, digit_pairs + 2 * v, 2);
	return out_u64_long(d, v);
}

/* At most 20 bytes. */
ALWAYS_INLINE char *out_i64(char *d, int64_t v)
{
	if (v < 0) {
		*d++ = '-';
		return out_u64(d, -(uint64_t)v);
	}
	return out_u64(d, (uint64_t)v);
}

/* "0x" and the 16 hex digits of the hashed pointer, in quotes: 20 bytes. */
ALWAYS_INLINE char *out_json_ptr(char *d, const struct ptrhash *ph, uint64_t ptr)
{
	char tmp[16];

	memcpy(d, "\"0x", 3);
	memcpy(d + 3, ptrhash_hex(ph, ptr, tmp), 16);
	d[19] = '"';
	return d + 20;
}

/* A name from our tables in a column: the record type names' lengths are known. */
static const unsigned char rec_name_len[SVA_REC__MAX] = {
	[SVA_REC_BIND] = 4,
	[SVA_REC_UNBIND] = 6,
	[SVA_REC_ATTACH] = 6,
	[SVA_REC_REPLACE] = 7,
	[SVA_REC_DETACH] = 6,
	[SVA_REC_LOOKUP] = 6,
	[SVA_REC_PASID_ALLOC] = 11,
	[SVA_REC_PASID_FREE] = 10,
	[SVA_REC_MM_PASID_DROP] = 13,
	[SVA_REC_PROC_EXIT] = 12,
	[SVA_REC_MM_EXIT] = 7,
};

/* What a cause's function returned: "ENOSPC", "NULL", "IOMMU_PASID_INVALID", or the number. */
const char *sva_cause_returned(const struct sva_event *ev, char *buf, size_t len)
{
	const char *name = sva_errno_name(ev->cause_err);

	if (ev->cause_flags & SVA_CAUSE_NULL)
		return "NULL";
	if (ev->cause_flags & SVA_CAUSE_NO_PASID)
		return "IOMMU_PASID_INVALID";
	if (name)
		return name;
	snprintf(buf, len, "%d", ev->cause_err);
	return buf;
}

/*
 * " cause=iommu_alloc_global_pasid(IOMMU_PASID_INVALID) depth=1: EXPLANATION", or for a
 * check in the traced function's own body " cause=iommu_sva_bind_device(EOPNOTSUPP)
 * inline check=x86-sva-disabled: EXPLANATION".
 */
static void put_cause_text(struct line *l, const struct sva_event *ev)
{
	const char *fname = sva_cause_func_name(ev->cause_func);
	const char *check = sva_inline_check_name(ev->cause_check);
	char num[24];

	put_str(l, " cause=");
	put_str(l, fname ? fname : "unknown");
	put_str(l, "(");
	put_str(l, sva_cause_returned(ev, num, sizeof(num)));
	put_str(l, ")");
	if (ev->cause_flags & SVA_CAUSE_INLINE) {
		put_str(l, " inline check=");
		put_str(l, check ? check : "unknown");
	} else {
		put_str(l, " depth=");
		put_str(l, fmt_u64(num + sizeof(num), ev->cause_depth));
	}
	put_str(l, ": ");
	put_str(l, sva_cause_explain(ev));
}

/* 33 spaces: a column's padding (32 at most) and its separator, written whatever is needed */
static const char col_spaces[] = "                                 ";

/* s (n bytes) at d as a column of width (up to 32), room for n + 33. Returns the end. */
ALWAYS_INLINE char *out_col(char *d, const char *s, size_t n, size_t width)
{
	copy_short(d, s, n);
	memcpy(d + n, col_spaces, 33);
	return d + (n < width ? width : n) + 1;
}

/* What was written from d to e made a column of width (up to 32): room for 33 after e. */
ALWAYS_INLINE char *out_pad(char *d, char *e, size_t width)
{
	memcpy(e, col_spaces, 33);
	return d + ((size_t)(e - d) < width ? width : (size_t)(e - d)) + 1;
}

/* A number as a column of width (up to 32), room for 53. Returns the end. */
ALWAYS_INLINE char *out_u64_col(char *d, uint64_t v, size_t width)
{
	return out_pad(d, out_u64(d, v), width);
}

/* A kernel char array (max a multiple of 8) escaped as a column; room for 4 * max + 33. */
static char *out_escaped_col(char *d, const char *s, size_t max, size_t width)
{
	size_t n = text_escape_fast(d, s, max);

	memcpy(d + n, col_spaces, 33);
	return d + (n < width ? width : n) + 1;
}

/* " " and the 16 hex digits of a hashed pointer after "0x": 18 bytes. */
static char *out_hex_ptr(char *d, const struct ptrhash *ph, uint64_t ptr)
{
	char tmp[16];

	memcpy(d, "0x", 2);
	memcpy(d + 2, ptrhash_hex(ph, ptr, tmp), 16);
	return d + 18;
}

/* A domain type's name (9 bytes at most), or "type 0xN" (15): returns the end. */
static char *out_domain_type(char *d, uint32_t type, const char *prefix)
{
	size_t n;
	const char *name = domain_type_name_n(type, &n);

	if (!name)
		return d + sprintf(d, "%s%#x", prefix, type);
	copy_short(d, name, n);
	return d + n;
}

/*
 * The text line from RESULT (at most 32 bytes, given) up to the cause, at most 248 bytes:
 * RESULT 32, " domain=0x...(type 0x...)" 43, " handle=0x..." 26, " mm=0x..." 22, " want=0x..." 16,
 * " exit_code=N thread" 28, the five flags 64, " stack=N" 17.
 */
#define TEXT_TAIL_MAX 256

static char *out_text_tail(char *d, const struct sva_event *ev, const struct fmt_opts *o,
			   const char *res, size_t rlen)
{
	copy_short(d, res, rlen);
	d += rlen;
	if (ev->domain) {
		OUT_LIT(d, " domain=");
		d = out_hex_ptr(d, o->ptrs, ev->domain);
		*d++ = '(';
		d = out_domain_type(d, ev->domain_type, "type ");
		*d++ = ')';
	}
	if (ev->handle) {
		OUT_LIT(d, " handle=");
		d = out_hex_ptr(d, o->ptrs, ev->handle);
	}
	if (ev->mm) {
		OUT_LIT(d, " mm=");
		d = out_hex_ptr(d, o->ptrs, ev->mm);
	}
	if (ev->type == SVA_REC_LOOKUP) {
		OUT_LIT(d, " want=");
		d = out_domain_type(d, ev->aux, "");
	}
	if (ev->type == SVA_REC_PROC_EXIT) {
		OUT_LIT(d, " exit_code=");
		d = out_u64(d, ev->aux);
		if (!(ev->flags & SVA_EVF_GROUP_DEAD))
			OUT_LIT(d, " thread"); /* other threads of the process live on */
	}
	if (ev->flags & RARE_FLAGS)
		for (size_t i = 0; i < sizeof(rare_flags) / sizeof(rare_flags[0]); i++)
			if (ev->flags & rare_flags[i].flag)
				d = out_mem(d, rare_flags[i].text, rare_flags[i].text_len);
	if (ev->stack_id >= 0) {
		OUT_LIT(d, " stack=");
		d = out_u64(d, (uint64_t)ev->stack_id);
	}
	return d;
}

/*
 * The columns up to USERS have a longest form: TIME 18 bytes, CPU, PID, GROUP and PASID 10
 * (u32), EVENT 14 (its width), USERS 12, COMM and DEVICE escaped at 4 bytes a byte (64 and
 * 128), each and its separator; the last one's 33 bytes of padding and the escaper's 8-byte
 * steps write up to 41 bytes past its start. They are written at a cursor without checks
 * when the buffer has more than TEXT_COLUMNS_MAX bytes; RESULT and the rest through the
 * checked line.
 */
#define TEXT_COLUMNS_MAX 512
#define TEXT_LINE_MAX 2048 /* more than the longest line */

static int format_text(const struct sva_event *ev, const struct fmt_opts *o, char *buf,
		       size_t len);

int sva_event_format_text(const struct sva_event *ev, const struct fmt_opts *o, char *buf,
			  size_t len)
{
	char whole[TEXT_LINE_MAX];
	int n;

	_Static_assert(18 + 4 * 10 + 14 + 12 + 4 * SVA_COMM_LEN + 4 * SVA_DEV_NAME_LEN + 8 + 41 <
			       TEXT_COLUMNS_MAX,
		       "the columns fit");
	if (len > TEXT_COLUMNS_MAX)
		return format_text(ev, o, buf, len);
	if (!len)
		return 0;
	/* A short buffer (sva-top's list): the line's prefix, as if it had been cut there. */
	n = format_text(ev, o, whole, sizeof(whole));
	if ((size_t)n > len - 1)
		n = (int)(len - 1);
	memcpy(buf, whole, (size_t)n);
	buf[n] = '\0';
	return n;
}

static int format_text(const struct sva_event *ev, const struct fmt_opts *o, char *buf,
		       size_t len)
{
	char result[24];
	const char *res;
	uint64_t rel = ev->ts_ns >= o->t0_ns ? ev->ts_ns - o->t0_ns : 0;
	uint64_t us = (rel + 500) / 1000; /* %.6f of seconds, rounded like printf */
	struct line l;
	size_t rlen;
	uint32_t frac;
	char *d = buf, *e;

	res = fmt_result(ev, result, sizeof(result), &rlen);

	/* seconds, '.', 6 digits of microseconds (three pairs) */
	e = out_u64(d, us / 1000000);
	frac = (uint32_t)(us % 1000000);
	*e = '.';
	memcpy(e + 1, digit_pairs + 2 * (frac / 10000), 2);
	memcpy(e + 3, digit_pairs + 2 * (frac / 100 % 100), 2);
	memcpy(e + 5, digit_pairs + 2 * (frac % 100), 2);
	d = out_pad(d, e + 7, 13);
	d = out_u64_col(d, ev->cpu, 3);
	d = out_u64_col(d, ev->tgid, 7);
	d = out_escaped_col(d, ev->comm, SVA_COMM_LEN, 16);
	if (sva_rec_type_name(ev->type))
		d = out_col(d, rec_names[ev->type], rec_name_len[ev->type], 14);
	else
		d = out_col(d, "?", 1, 14);
	if (ev->dev_name[0])
		d = out_escaped_col(d, ev->dev_name, SVA_DEV_NAME_LEN, 16);
	else
		d = out_col(d, "-", 1, 16);
	if (ev->group_id >= 0)
		d = out_u64_col(d, (uint64_t)ev->group_id, 5);
	else
		d = out_col(d, "-", 1, 5);
	if (ev->pasid != SVA_PASID_NONE)
		d = out_u64_col(d, ev->pasid, 6);
	else
		d = out_col(d, "-", 1, 6);
	if (ev->users < -1) {
		/* a saturated refcount: the kernel's negative value, as it is */
		d = out_pad(d, out_i64(d, ev->users), 5);
	} else if (ev->users >= 0) {
		e = out_u64(d, (uint64_t)ev->users);
		if (ev->flags & SVA_EVF_USERS_BEFORE)
			*e++ = '*';
		d = out_pad(d, e, 5);
	} else {
		d = out_col(d, "-", 1, 5);
	}
	l = (struct line){ .buf = buf, .len = (size_t)(d - buf), .cap = len - 1 };
	if (l.len > l.cap) {
		/* only when called with a short buffer, which sva_event_format_text does not */
		l.len = l.cap;
		l.full = true;
	}
	/* RESULT (an errno's name or a number: 32 bytes is more than enough) and the rest */
	if (rlen > 32) {
		put_mem(&l, res, rlen);
		rlen = 0;
	}
	if (l.cap - l.len >= TEXT_TAIL_MAX) {
		l.len += (size_t)(out_text_tail(buf + l.len, ev, o, res, rlen) - (buf + l.len));
	} else {
		char tail[TEXT_TAIL_MAX];

		put_mem(&l, tail, (size_t)(out_text_tail(tail, ev, o, res, rlen) - tail));
	}
	if (sva_event_has_cause(ev))
		put_cause_text(&l, ev);
	buf[l.len] = '\0';
	return (int)l.len;
}

void sva_json_ptr_field(struct json_writer *w, const char *name, uint64_t ptr,
			const struct ptrhash *ph)
{
	char s[PTRHASH_STR_LEN];

	if (!ptr) {
		jw_null_field(w, name);
		return;
	}
	ptrhash_format(ph, ptr, s);
	jw_string_field(w, name, s);
}

void sva_json_dev_field(struct json_writer *w, const char *dev_name)
{
	jw_name(w, "dev");
	if (dev_name[0])
		jw_string_n(w, dev_name, SVA_DEV_NAME_LEN);
	else
		jw_null(w);
}

void sva_json_owner_fields(struct json_writer *w, uint32_t owner_pid, const char *owner_comm)
{
	if (!owner_pid) {
		jw_null_field(w, "owner_pid");
		return;
	}
	jw_uint_field(w, "owner_pid", owner_pid);
	jw_name(w, "owner_comm");
	jw_string_n(w, owner_comm, SVA_COMM_LEN);
}

void sva_json_group_field(struct json_writer *w, int32_t group_id)
{
	if (group_id >= 0)
		jw_int_field(w, "group", group_id);
	else
		jw_null_field(w, "group");
}

void sva_json_group_pasid_fields(struct json_writer *w, int32_t group_id, uint32_t pasid)
{
	sva_json_group_field(w, group_id);
	if (pasid != SVA_PASID_NONE)
		jw_uint_field(w, "pasid", pasid);
	else
		jw_null_field(w, "pasid");
}

/* ---- the JSON line of an event, built directly (the hot path of --json) ---- */

/* A constant that needs no escaping: a key with its quotes and colon, a literal. */
#define PUT_LIT(l, lit) put_mem((l), (lit), sizeof(lit) - 1)

ALWAYS_INLINE void put_json_u64(struct line *l, const char *key_lit, size_t key_len, uint64_t v)
{
	char tmp[24];

	char *p = fmt_u64(tmp + sizeof(tmp), v);

	put_mem(l, key_lit, key_len);
	put_mem(l, p, (size_t)(tmp + sizeof(tmp) - 1 - p));
}

ALWAYS_INLINE void put_json_i64(struct line *l, const char *key_lit, size_t key_len, int64_t v)
{
	char tmp[24], *p = fmt_u64(tmp + sizeof(tmp), v < 0 ? -(uint64_t)v : (uint64_t)v);

	put_mem(l, key_lit, key_len);
	if (v < 0)
		put_mem(l, "-", 1);
	put_mem(l, p, (size_t)(tmp + sizeof(tmp) - 1 - p));
}

#define PUT_U64(l, key, v) put_json_u64((l), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (v))
#define PUT_I64(l, key, v) put_json_i64((l), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (v))

/*
 * Bit 7 of each byte of w that jw_escape would not copy as it is: below 0x20 (NUL included),
 * above 0x7e, a quote or a backslash. Only the lowest bit set is exact (see text_stops).
 */
static inline uint64_t json_stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t bs = w ^ (ones * '\\'), qt = w ^ (ones * '"');

	return (((w - ones * 0x20) & ~w) | (w + ones) | w | ((bs - ones) & ~bs) |
		((qt - ones) & ~qt)) & highs;
}

/*
 * A kernel char array (max a multiple of 8) of plain printable ASCII up to its NUL or its
 * end, copied 8 bytes a step into d (room for max + 8): its length, or -1 when a byte needs
 * jw_escape.
 */
ALWAYS_INLINE long json_plain_copy(char *d, const char *s, size_t max)
{
	for (size_t i = 0; i < max; i += 8) {
		uint64_t w, stops;

		memcpy(&w, s + i, 8);
		memcpy(d + i, s + i, 8);
		stops = json_stops(le64toh(w));
		if (stops) {
			size_t k = i + ((unsigned int)__builtin_ctzll(stops) >> 3);

			return s[k] ? -1 : (long)k;
		}
	}
	return (long)max;
}

/* A string that may hold anything (comm, device name): escaped, in quotes. */
static void put_json_str(struct line *l, const char *s, size_t max)
{
	size_t room, n;
	long plain;

	if (!(max % 8) && l->len + max + 10 <= l->cap) {
		l->buf[l->len] = '"';
		plain = json_plain_copy(l->buf + l->len + 1, s, max);
		if (plain >= 0) {
			l->len += (size_t)plain + 1;
			l->buf[l->len++] = '"';
			return;
		}
	}
	put_mem(l, "\"", 1);
	room = l->cap - l->len;
	n = jw_escape(l->buf + l->len, room + 1, s, max);
	if (n > room) {
		n = room;
		l->full = true;
	}
	l->len += n;
	put_mem(l, "\"", 1);
}

/* A name from our tables (record type, domain type, errno): no escaping needed, or null. */
static void put_json_name(struct line *l, const char *name)
{
	if (!name) {
		PUT_LIT(l, "null");
		return;
	}
	put_mem(l, "\"", 1);
	put_str(l, name);
	put_mem(l, "\"", 1);
}

/* A string from our own tables (names, explanations): escaped all the same. */
static void put_json_const(struct line *l, const char *s)
{
	put_json_str(l, s, strlen(s));
}

/*
 * "cause":{"function":F,"errno":E|null,"ret":R,"returned":"NULL"|"IOMMU_PASID_INVALID"
 * (only then),"depth":D,"inline":B,"check":C|null,"callees_entered":N,"explanation":X}
 */
static void put_cause_json(struct line *l, const struct sva_event *ev)
{
	const char *fname = sva_cause_func_name(ev->cause_func);
	const char *check = sva_inline_check_name(ev->cause_check);

	PUT_LIT(l, ",\"cause\":{\"function\":");
	put_json_name(l, fname ? fname : "unknown");
	PUT_LIT(l, ",\"errno\":");
	put_json_name(l, sva_errno_name(ev->cause_err));
	PUT_I64(l, "ret", ev->cause_err);
	if (ev->cause_flags & SVA_CAUSE_NULL)
		PUT_LIT(l, ",\"returned\":\"NULL\"");
	if (ev->cause_flags & SVA_CAUSE_NO_PASID)
		PUT_LIT(l, ",\"returned\":\"IOMMU_PASID_INVALID\"");
	PUT_U64(l, "depth", ev->cause_depth);
	if (ev->cause_flags & SVA_CAUSE_INLINE)
		PUT_LIT(l, ",\"inline\":true");
	else
		PUT_LIT(l, ",\"inline\":false");
	PUT_LIT(l, ",\"check\":");
	put_json_name(l, check);
	PUT_U64(l, "callees_entered", ev->cause_calls);
	PUT_LIT(l, ",\"explanation\":");
	put_json_const(l, sva_cause_explain(ev));
	PUT_LIT(l, "}");
}

/* A record type's name in quotes: at most 16 bytes (the names, 13 at most, padded). */
static const char rec_names_quoted[SVA_REC__MAX + 1][16] = {
	[0] = "\"unknown\"",
	[SVA_REC_BIND] = "\"bind\"",
	[SVA_REC_UNBIND] = "\"unbind\"",
	[SVA_REC_ATTACH] = "\"attach\"",
	[SVA_REC_REPLACE] = "\"replace\"",
	[SVA_REC_DETACH] = "\"detach\"",
	[SVA_REC_LOOKUP] = "\"lookup\"",
	[SVA_REC_PASID_ALLOC] = "\"pasid_alloc\"",
	[SVA_REC_PASID_FREE] = "\"pasid_free\"",
	[SVA_REC_MM_PASID_DROP] = "\"mm_pasid_drop\"",
	[SVA_REC_PROC_EXIT] = "\"process_exit\"",
	[SVA_REC_MM_EXIT] = "\"mm_exit\"",
};

/*
 * A kernel char array (comm, device name: max a multiple of 8) as a JSON string at d, which
 * has room for 6 * max + 2 bytes (jw_escape's worst: \u00XX a byte). Returns the end.
 */
ALWAYS_INLINE char *out_json_str(char *d, const char *s, size_t max)
{
	long plain = json_plain_copy(d + 1, s, max);

	*d = '"';
	if (plain < 0)
		plain = (long)jw_escape(d + 1, 6 * max + 1, s, max);
	d += plain + 1;
	*d = '"';
	return d + 1;
}


/*
 * The same object the json_writer calls used to build, field for field, written straight
 * into buf (the writer's buffer, or run.c's block of lines): --json prints one per event, and the generic writer cost as
 * much as the rest of the tool's work per event (the lab-VM benchmark lost records to it).
 * Up to "ret" every field has a longest form (numbers of 20 bytes, hashed pointers of 20,
 * comm and device name escaped at 6 bytes a byte: 688 bytes in all), so it is written at a
 * cursor without checks; the rest (the cause's strings) through the checked line.
 */
int sva_event_format_json_buf(const struct sva_event *ev, const struct fmt_opts *o, char *buf)
{
	char *d = buf, *pid;
	unsigned int type = sva_rec_type_name(ev->type) ? ev->type : 0;
	size_t pid_len;
	struct line l;

	/* the keys, numbers and pointers 400 bytes at most, the two strings escaped */
	_Static_assert(400 + (6 * SVA_COMM_LEN + 2) + (6 * SVA_DEV_NAME_LEN + 2) < SVA_EVENT_JSON_MAX,
		       "the fixed part fits");
	OUT_LIT(d, "{\"type\":");
	/* 16 bytes copied, the name's kept */
	memcpy(d, rec_names_quoted[type], 16);
	d += type ? (size_t)rec_name_len[type] + 2 : sizeof("\"unknown\"") - 1;
	OUT_LIT(d, ",\"seq\":");
	d = out_u64(d, ev->seq);
	OUT_LIT(d, ",\"ts_ns\":");
	d = out_u64(d, ev->ts_ns);
	OUT_LIT(d, ",\"cpu\":");
	d = out_u64(d, ev->cpu);
	OUT_LIT(d, ",\"pid\":");
	pid = d;
	d = out_u64(d, ev->tgid);
	pid_len = (size_t)(d - pid);
	OUT_LIT(d, ",\"tid\":");
	if (ev->pid == ev->tgid) {
		/*
		 * The thread that leads its process (a single-threaded one's only thread): the
		 * pid's digits again, 10 at most, in 16 bytes moved through registers (they
		 * overlap where they go; what follows the digits is written over next, and the
		 * room made counts 20 bytes a number).
		 */
		uint64_t w[2];

		memcpy(w, pid, sizeof(w));
		memcpy(d, w, sizeof(w));
		d += pid_len;
	} else {
		d = out_u64(d, ev->pid);
	}
	OUT_LIT(d, ",\"comm\":");
	d = out_json_str(d, ev->comm, SVA_COMM_LEN);
	OUT_LIT(d, ",\"mm\":");
	if (ev->mm)
		d = out_json_ptr(d, o->ptrs, ev->mm);
	else
		OUT_LIT(d, "null");
	OUT_LIT(d, ",\"dev\":");
	if (ev->dev_name[0])
		d = out_json_str(d, ev->dev_name, SVA_DEV_NAME_LEN);
	else
		OUT_LIT(d, "null");
	OUT_LIT(d, ",\"group\":");
	if (ev->group_id >= 0)
		d = out_u64(d, (uint64_t)ev->group_id);
	else
		OUT_LIT(d, "null");
	OUT_LIT(d, ",\"pasid\":");
	if (ev->pasid != SVA_PASID_NONE)
		d = out_u64(d, ev->pasid);
	else
		OUT_LIT(d, "null");
	OUT_LIT(d, ",\"domain\":");
	if (ev->domain) {
		size_t n; /* "unmanaged" at most */
		const char *dtype = domain_type_name_n(ev->domain_type, &n);

		d = out_json_ptr(d, o->ptrs, ev->domain);
		OUT_LIT(d, ",\"domain_type\":");
		if (dtype) {
			*d = '"';
			copy_short(d + 1, dtype, n);
			d[n + 1] = '"';
			d += n + 2;
		} else {
			OUT_LIT(d, "null");
		}
		OUT_LIT(d, ",\"domain_type_raw\":");
		d = out_u64(d, ev->domain_type);
	} else {
		OUT_LIT(d, "null");
	}
	OUT_LIT(d, ",\"handle\":");
	if (ev->handle)
		d = out_json_ptr(d, o->ptrs, ev->handle);
	else
		OUT_LIT(d, "null");
	OUT_LIT(d, ",\"users\":");
	if (ev->users != SVA_UNKNOWN_S32)
		d = out_i64(d, ev->users);
	else
		OUT_LIT(d, "null");
	if (ev->flags & SVA_EVF_USERS_BEFORE)
		OUT_LIT(d, ",\"users_before_call\":true");
	OUT_LIT(d, ",\"ret\":");
	d = out_i64(d, ev->ret);

	l = (struct line){ .buf = buf, .len = (size_t)(d - buf), .cap = SVA_EVENT_JSON_MAX - 1 };
	if (ev->ret < 0 && sva_errno_name(ev->ret)) {
		PUT_LIT(&l, ",\"errno\":");
		put_json_name(&l, sva_errno_name(ev->ret));
	}
	if (ev->max_pasids)
		PUT_U64(&l, "max_pasids", ev->max_pasids);
	if (ev->type == SVA_REC_LOOKUP) {
		PUT_LIT(&l, ",\"want_type\":");
		put_json_name(&l, sva_domain_type_name(ev->aux));
		PUT_U64(&l, "want_type_raw", ev->aux);
	}
	if (ev->type == SVA_REC_PROC_EXIT) {
		PUT_U64(&l, "exit_code", ev->aux);
		if (ev->flags & SVA_EVF_GROUP_DEAD)
			PUT_LIT(&l, ",\"group_dead\":true");
		else
			PUT_LIT(&l, ",\"group_dead\":false");
	}
	if (ev->flags & RARE_FLAGS)
		for (size_t i = 0; i < sizeof(rare_flags) / sizeof(rare_flags[0]); i++)
			if (ev->flags & rare_flags[i].flag)
				put_mem(&l, rare_flags[i].json, rare_flags[i].json_len);
	if (ev->stack_id >= 0)
		PUT_I64(&l, "stack_id", ev->stack_id);
	if (sva_event_has_cause(ev))
		put_cause_json(&l, ev);
	if (ev->flags & SVA_EVF_KPROBE)
		PUT_LIT(&l, ",\"probe\":\"kprobe\"}");
	else
		PUT_LIT(&l, ",\"probe\":\"fentry\"}");
	/* Cannot happen (2 KiB hold the longest object): a truncated object is no JSON. */
	return l.full ? -1 : (int)l.len;
}

void sva_event_format_json(struct json_writer *w, const struct sva_event *ev,
			   const struct fmt_opts *o)
{
	char *buf = jw_raw_begin(w, SVA_EVENT_JSON_MAX);
	int n;

	if (!buf)
		return; /* out of memory: the writer has failed */
	n = sva_event_format_json_buf(ev, o, buf);
	jw_raw_end(w, n < 0 ? 0 : (size_t)n);
	if (n < 0)
		jw_fail(w);
}
