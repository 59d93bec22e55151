/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records from the ring buffer: validation, names, and their two output
 * forms (a text line, a JSON object). Pure functions of the record and the
 * formatting options, so that they are unit-tested on the host.
 */
#ifndef SVA_DECODE_H
#define SVA_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sva_trace.h"
#include "json_writer.h"
#include "ptrhash.h"

struct fmt_opts {
	uint64_t t0_ns; /* timestamps print relative to this */
	const struct ptrhash *ptrs; /* how kernel pointers leave the tool */
};

/* Checks size and record type; copies into *ev. 0 or -EINVAL with err set. */
int sva_event_decode(const void *data, size_t size, struct sva_event *ev, char *err,
		     size_t errlen);

/* "bind", "unbind", ...; NULL for an unknown type. */
const char *sva_rec_type_name(unsigned int type);
/* The inverse; 0 when unknown. */
unsigned int sva_rec_type_from_name(const char *name);
/* "sva", "paging", "blocked", ...; NULL when the value matches none. */
const char *sva_domain_type_name(uint32_t type);
/* "EBUSY" for -16 or 16; NULL when unknown. */
const char *sva_errno_name(int64_t err);

/* What a cause's function returned ("ENOSPC", "NULL", ...); buf holds a number's text. */
const char *sva_cause_returned(const struct sva_event *ev, char *buf, size_t len);

/* Text: header line, then one line per record (no trailing newline). */
const char *sva_text_header(void);
int sva_event_format_text(const struct sva_event *ev, const struct fmt_opts *o, char *buf,
			  size_t len);
/* JSON: one object; the caller owns the writer and prints w->buf. */
/* Room for the longest event object with its NUL (the part up to "ret" is 688 bytes). */
#define SVA_EVENT_JSON_MAX 2048
/* The event's JSON object into buf (SVA_EVENT_JSON_MAX bytes): its length, without a NUL. */
int sva_event_format_json_buf(const struct sva_event *ev, const struct fmt_opts *o, char *buf);
void sva_event_format_json(struct json_writer *w, const struct sva_event *ev,
			   const struct fmt_opts *o);

/* A pointer field: "0x%016x" of its hash (or raw value), null for NULL. */
void sva_json_ptr_field(struct json_writer *w, const char *name, uint64_t ptr,
			const struct ptrhash *ph);

/* "dev": the device's name (a kernel char array), null when empty. */
void sva_json_dev_field(struct json_writer *w, const char *dev_name);
/* "owner_pid" and "owner_comm" (a kernel char array); "owner_pid" null alone when unknown (0). */
void sva_json_owner_fields(struct json_writer *w, uint32_t owner_pid, const char *owner_comm);
/* "group", null when unknown (group < 0). */
void sva_json_group_field(struct json_writer *w, int32_t group_id);
/* "group" and "pasid", each null when unknown (group < 0, SVA_PASID_NONE). */
void sva_json_group_pasid_fields(struct json_writer *w, int32_t group_id, uint32_t pasid);

/* Kernel char arrays as text: printable ASCII as is, the rest as \xNN. */
size_t sva_text_escape(char *out, size_t outlen, const char *s, size_t max);

#endif
