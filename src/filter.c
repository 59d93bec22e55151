// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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
