// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate.h"
#include "filter.h"
#include "options.h"

void sva_filter_from(struct sva_filter *f, const struct sva_options *opts)
{
	memset(f, 0, sizeof(*f));
	f->pid = opts->pid;
	memcpy(f->comm, opts->comm, sizeof(f->comm));
	memcpy(f->dev, opts->dev, sizeof(f->dev));
	f->pasid = opts->pasid;
}

bool sva_filter_active(const struct sva_filter *f)
{
	return f->pid || f->comm[0] || f->dev[0] || f->pasid != SVA_PASID_NONE;
}

void sva_filter_describe(const struct sva_filter *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (f->pid)
		n += (size_t)snprintf(buf + n, len - n, " --pid %" PRIu32, f->pid);
	if (f->comm[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, " --comm %.*s", SVA_COMM_LEN, f->comm);
	if (f->dev[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, " --dev %.*s", SVA_DEV_NAME_LEN, f->dev);
	if (f->pasid != SVA_PASID_NONE && n < len)
		snprintf(buf + n, len - n, " --pasid %" PRIu32, f->pasid);
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}

/* Names compare as the kernel's fixed-size, possibly unterminated arrays. */
static bool name_matches(const char *want, const char *have, size_t len)
{
	return !want[0] || !strncmp(want, have, len);
}

static bool matches(const struct sva_filter *f, uint32_t tgid, const char *comm,
		    const char *dev, uint32_t pasid)
{
	if (f->pid && tgid != f->pid)
		return false;
	if (!name_matches(f->comm, comm, SVA_COMM_LEN))
		return false;
	if (!name_matches(f->dev, dev, SVA_DEV_NAME_LEN))
		return false;
	return f->pasid == SVA_PASID_NONE || pasid == f->pasid;
}

bool sva_filter_event(const struct sva_filter *f, const struct sva_event *ev)
{
	return matches(f, ev->tgid, ev->comm, ev->dev_name, ev->pasid);
}

bool sva_filter_finding(const struct sva_filter *f, const struct finding *fi)
{
	const struct finding_subject *s = &fi->subject;

	return matches(f, s->owner_pid, s->owner_comm, s->dev_name, s->pasid);
}

bool sva_filter_resolution(const struct sva_filter *f, const struct resolution *r)
{
	const struct finding_subject *s = &r->subject;

	return matches(f, s->owner_pid, s->owner_comm, s->dev_name, s->pasid);
}

bool sva_filter_bond(const struct sva_filter *f, const struct bond *b)
{
	return matches(f, b->owner_pid, b->owner_comm, b->dev_name, b->pasid);
}

bool sva_filter_attachment(const struct sva_filter *f, const struct attachment *a)
{
	return matches(f, a->owner_pid, a->owner_comm, a->dev_name, a->pasid);
}
