/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Findings and the end-of-run state (outstanding bonds), as text or JSON. */
#ifndef SVA_REPORT_H
#define SVA_REPORT_H

#include <stdio.h>

#include "correlate.h"
#include "decode.h"
#include "json_writer.h"

/* One finding: a text line (no newline) or a JSON object. */
void finding_format_text(const struct finding *f, const struct fmt_opts *o, char *buf,
			 size_t len);
void finding_format_json(struct json_writer *w, const struct finding *f, const struct fmt_opts *o);
/* The same fields without the enclosing object and its "type". */
void finding_format_json_fields(struct json_writer *w, const struct finding *f,
				const struct fmt_opts *o);

/* A retracted finding (a leak whose bond was unbound later): text line or JSON object. */
void resolution_format_text(const struct resolution *r, const struct fmt_opts *o, char *buf,
			    size_t len);
void resolution_format_json(struct json_writer *w, const struct resolution *r,
			    const struct fmt_opts *o);

/* Outstanding bonds at end of tracing, with their age at now_ns. */
void report_outstanding_text(FILE *out, const struct correlator *c, const struct fmt_opts *o,
			     uint64_t now_ns);
void report_outstanding_json(struct json_writer *w, const struct correlator *c,
			     const struct fmt_opts *o, uint64_t now_ns);
/* One bond as a JSON object (history included). */
void bond_format_json(struct json_writer *w, const struct bond *b, const struct fmt_opts *o,
		      uint64_t now_ns);

#endif
