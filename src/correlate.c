// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "decode.h"
#include "u64map.h"

#define RECENT_CAP 4096 /* ended bonds / detached PASIDs remembered */

/* A bounded memory of things that ended, for "after free" checks. */
struct recent_entry {
	uint64_t key;
	uint64_t seq; /* the event that ended it */
	uint64_t lost_epoch; /* c->lost_epoch at that time */
	uint32_t owner_pid;
	uint32_t pasid;
	int32_t group_id;
	char owner_comm[SVA_COMM_LEN];
	char dev_name[SVA_DEV_NAME_LEN];
};

struct recent {
	struct u64map index; /* key -> slot + 1 */
	struct recent_entry slots[RECENT_CAP];
	uint32_t next; /* ring position */
	uint32_t used;
};

/* Leak deadlines, in order: owner exits arrive in time order. */
struct leak_check {
	uint64_t handle;
	uint64_t created_seq; /* the bond incarnation it is about */
	uint64_t deadline_ns;
};

struct correlator {
	struct correlator_opts opts;
	struct u64map bonds; /* handle -> struct bond * */
	struct bond *live_head, *live_tail;
	struct u64map attachments; /* attach_key -> struct attachment * */
	struct u64map pasid_users; /* pasid -> attached count */
	struct recent ended_bonds;
	struct recent detached;
	struct leak_check *leaks;
	size_t leaks_head, leaks_len, leaks_cap;
	uint64_t next_seq;
	uint64_t lost_epoch;
	uint64_t last_ts;
	/* the last EBUSY explained by a lookup or attach, to not explain it twice */
	uint32_t busy_tid;
	uint32_t busy_pasid;
	uint64_t busy_seq;
	struct correlator_stats st;
};

static const char *const kind_names[FINDING__MAX] = {
	[FINDING_LEAK] = "leak",
	[FINDING_REFCOUNT] = "refcount",
	[FINDING_TYPE_MISMATCH] = "type-mismatch",
	[FINDING_CROSS_MM] = "cross-mm",
	[FINDING_PASID_STATE] = "pasid-state",
	[FINDING_BIND_ERROR] = "bind-error",
};

const char *finding_kind_name(enum finding_kind kind)
{
	return (unsigned int)kind < FINDING__MAX ? kind_names[kind] : "?";
}

int finding_kind_from_name(const char *name)
{
	for (int k = 0; k < FINDING__MAX; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

const char *finding_severity_name(enum finding_severity sev)
{
	switch (sev) {
	case SEV_INFO: return "info";
	case SEV_WARNING: return "warning";
	case SEV_ERROR: return "error";
	case SEV_CRITICAL: return "critical";
	}
	return "?";
}

int finding_kinds_parse(const char *list, unsigned int *mask, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	*mask = 0;
	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "expected a comma-separated list of finding kinds, or 'all'");
		return -1;
	}
	if (!strcmp(list, "all")) {
		*mask = (1u << FINDING__MAX) - 1;
		return 0;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = finding_kind_from_name(tok);

		if (k < 0) {
			snprintf(err, errlen,
				 "unknown finding kind '%s' (known: leak, refcount, type-mismatch, "
				 "cross-mm, pasid-state, bind-error, or all)", tok);
			return -1;
		}
		*mask |= 1u << k;
	}
	if (!*mask) {
		snprintf(err, errlen, "expected at least one finding kind");
		return -1;
	}
	return 0;
}

const char *bind_errno_explanation(int64_t err)
{
	if (err < -4095 || err > 0)
		return "not an errno: the kernel returned an invalid error pointer";
	switch (-err) {
	case ENODEV:
		return "the device has no IOMMU group, or this kernel cannot do SVA for it "
		       "(CONFIG_IOMMU_SVA off, or the IOMMU driver has SVA disabled)";
	case EOPNOTSUPP:
		return "the IOMMU driver cannot make SVA domains for this device (no "
		       "domain_alloc_sva), or SVA was not enabled on it";
	case ENOSPC:
		return "no PASID could be allocated: the PASID space is exhausted, or the device "
		       "reports max_pasids 0";
	case EOVERFLOW:
		return "the process already has a PASID that is above this device's max_pasids "
		       "(it got it from a device with a larger PASID space)";
	case EBUSY:
		return "the process's PASID is held on this device by a domain of another type or "
		       "by another process's bond, or the mm uses x86 LAM tagged addresses";
	case ENOMEM:
		return "the kernel ran out of memory (or, on 6.1, of PASIDs)";
	case EINVAL:
		return "the kernel rejected the arguments (PASID range, device state)";
	default:
		return "see the IOMMU driver's bind path for this errno";
	}
}

/* ---- small helpers ---- */

static uint64_t attach_key(int32_t group, uint32_t pasid)
{
	return ((uint64_t)(uint32_t)group << 32) | pasid;
}

static void copy_name(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
}

static void recent_put(struct correlator *c, struct recent *r, uint64_t key, uint64_t seq,
		       uint32_t owner, const char *comm, const char *dev, int32_t group,
		       uint32_t pasid)
{
	struct recent_entry *e;
	uint64_t slot;

	if (u64map_get(&r->index, key, &slot)) {
		e = &r->slots[slot - 1];
	} else {
		e = &r->slots[r->next];
		if (r->used == RECENT_CAP)
			u64map_del(&r->index, e->key);
		else
			r->used++;
		u64map_put(&r->index, key, (uint64_t)r->next + 1);
		r->next = (r->next + 1) % RECENT_CAP;
	}
	e->key = key;
	e->seq = seq;
	e->lost_epoch = c->lost_epoch;
	e->owner_pid = owner;
	e->group_id = group;
	e->pasid = pasid;
	copy_name(e->owner_comm, comm, SVA_COMM_LEN);
	copy_name(e->dev_name, dev, SVA_DEV_NAME_LEN);
}

static struct recent_entry *recent_get(struct recent *r, uint64_t key)
{
	uint64_t slot;

	return u64map_get(&r->index, key, &slot) ? &r->slots[slot - 1] : NULL;
}

static void recent_del(struct recent *r, uint64_t key)
{
	uint64_t slot;

	/* The slot stays in the ring; the index no longer points at it. */
	if (u64map_get(&r->index, key, &slot)) {
		u64map_del(&r->index, key);
		r->slots[slot - 1].key = 0;
	}
}

static void finding_init(struct finding *f, enum finding_kind kind, enum finding_severity sev,
			 const struct sva_event *ev)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->severity = sev;
	f->ts_ns = ev ? ev->ts_ns : 0;
	f->subject.group_id = -1;
	f->subject.pasid = SVA_PASID_NONE;
}

static void add_evidence(struct finding *f, uint64_t seq)
{
	for (int i = 0; i < f->nr_evidence; i++)
		if (f->evidence[i] == seq)
			return;
	if (f->nr_evidence < FINDING_MAX_EVIDENCE)
		f->evidence[f->nr_evidence++] = seq;
	else
		f->evidence[FINDING_MAX_EVIDENCE - 1] = seq; /* keep the latest */
}

static void subject_from_bond(struct finding *f, const struct bond *b)
{
	f->subject.handle = b->handle;
	f->subject.domain = b->domain;
	f->subject.mm = b->mm;
	f->subject.group_id = b->group_id;
	f->subject.pasid = b->pasid;
	f->subject.owner_pid = b->owner_pid;
	copy_name(f->subject.owner_comm, b->owner_comm, SVA_COMM_LEN);
	copy_name(f->subject.dev_name, b->dev_name, SVA_DEV_NAME_LEN);
	f->uncertain = b->uncertain;
	if (b->nr_steps)
		add_evidence(f, bond_step_at(b, 0)->seq);
}

static void subject_from_attachment(struct finding *f, const struct attachment *a)
{
	f->subject.handle = a->handle;
	f->subject.domain = a->domain;
	f->subject.mm = a->mm;
	f->subject.group_id = a->group_id;
	f->subject.pasid = a->pasid;
	f->subject.owner_pid = a->owner_pid;
	copy_name(f->subject.owner_comm, a->owner_comm, SVA_COMM_LEN);
	copy_name(f->subject.dev_name, a->dev_name, SVA_DEV_NAME_LEN);
	f->uncertain = a->uncertain;
	if (!a->unknown_origin)
		add_evidence(f, a->since_seq);
}

static void subject_from_event(struct finding *f, const struct sva_event *ev)
{
	f->subject.handle = ev->handle;
	f->subject.domain = ev->domain;
	f->subject.mm = ev->mm;
	f->subject.group_id = ev->group_id;
	f->subject.pasid = ev->pasid;
	f->subject.owner_pid = ev->tgid;
	copy_name(f->subject.owner_comm, ev->comm, SVA_COMM_LEN);
	copy_name(f->subject.dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
}

static void report(struct correlator *c, struct finding *f)
{
	c->st.findings[f->kind]++;
	if (c->opts.on_finding)
		c->opts.on_finding(f, c->opts.ctx);
}

/* "process 12 (comm)" into buf */
static const char *who(char *buf, size_t len, uint32_t pid, const char *comm)
{
	char name[4 * SVA_COMM_LEN + 1];

	if (!pid) {
		snprintf(buf, len, "an unknown process");
		return buf;
	}
	sva_text_escape(name, sizeof(name), comm, SVA_COMM_LEN);
	snprintf(buf, len, "process %u (%s)", pid, name);
	return buf;
}

static const char *type_name(uint32_t type, char *buf, size_t len)
{
	const char *n = sva_domain_type_name(type);

	if (n)
		return n;
	if (type == (uint32_t)-1)
		return "unknown";
	snprintf(buf, len, "type %#x", type);
	return buf;
}

/* The device for a message: escaped (kernel names are bytes), bounded, never empty. */
static const char *dev_label(const char *dev, char *buf, size_t len)
{
	if (!dev[0])
		return "the device";
	sva_text_escape(buf, len, dev, SVA_DEV_NAME_LEN);
	return buf;
}

static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

/* ---- bonds ---- */

const struct bond_step *bond_step_at(const struct bond *b, uint32_t i)
{
	uint32_t ring = BOND_HISTORY_MAX - BOND_HISTORY_HEAD;
	uint64_t tail_steps;

	if (b->nr_steps <= BOND_HISTORY_MAX || i < BOND_HISTORY_HEAD)
		return &b->steps[i];
	/* steps after the head live in a ring; the oldest kept one is at nr_steps % ring */
	tail_steps = b->nr_steps - BOND_HISTORY_HEAD;
	return &b->steps[BOND_HISTORY_HEAD +
			 (uint32_t)((tail_steps + (i - BOND_HISTORY_HEAD)) % ring)];
}

uint32_t bond_steps_kept(const struct bond *b)
{
	return b->nr_steps < BOND_HISTORY_MAX ? (uint32_t)b->nr_steps : BOND_HISTORY_MAX;
}

static void bond_add_step(struct bond *b, const struct sva_event *ev, int32_t users_after)
{
	struct bond_step *s;
	uint32_t ring = BOND_HISTORY_MAX - BOND_HISTORY_HEAD;

	if (b->nr_steps < BOND_HISTORY_MAX && b->nr_steps == b->steps_cap) {
		uint32_t ncap = b->steps_cap ? b->steps_cap * 2 : 2;
		struct bond_step *n;

		if (ncap > BOND_HISTORY_MAX)
			ncap = BOND_HISTORY_MAX;
		n = realloc(b->steps, ncap * sizeof(*n));
		if (!n) {
			b->nr_steps++; /* counted, not kept */
			return;
		}
		b->steps = n;
		b->steps_cap = ncap;
	}
	if (b->nr_steps < BOND_HISTORY_MAX)
		s = &b->steps[b->nr_steps];
	else
		s = &b->steps[BOND_HISTORY_HEAD + (b->nr_steps - BOND_HISTORY_HEAD) % ring];
	s->seq = ev->seq;
	s->ts_ns = ev->ts_ns;
	s->type = ev->type;
	s->users_after = users_after;
	s->tgid = ev->tgid;
	b->nr_steps++;
}

static struct bond *bond_new(struct correlator *c, const struct sva_event *ev)
{
	struct bond *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->handle = ev->handle;
	b->domain = ev->domain;
	b->domain_type = ev->domain_type;
	b->mm = ev->mm;
	b->group_id = ev->group_id;
	b->pasid = ev->pasid;
	copy_name(b->dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
	b->owner_pid = ev->tgid;
	copy_name(b->owner_comm, ev->comm, SVA_COMM_LEN);
	b->created_seq = ev->seq;
	b->created_ns = ev->ts_ns;
	b->kernel_users = -1;
	if (u64map_put(&c->bonds, b->handle, (uint64_t)(uintptr_t)b)) {
		free(b);
		return NULL;
	}
	b->prev = c->live_tail;
	if (c->live_tail)
		c->live_tail->next = b;
	else
		c->live_head = b;
	c->live_tail = b;
	c->st.live_bonds++;
	return b;
}

static void bond_end(struct correlator *c, struct bond *b, const struct sva_event *ev)
{
	if (c->opts.on_bond_end)
		c->opts.on_bond_end(b, ev->ts_ns, c->opts.ctx);
	recent_put(c, &c->ended_bonds, b->handle, ev->seq, b->owner_pid, b->owner_comm,
		   b->dev_name, b->group_id, b->pasid);
	u64map_del(&c->bonds, b->handle);
	if (b->prev)
		b->prev->next = b->next;
	else
		c->live_head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		c->live_tail = b->prev;
	c->st.live_bonds--;
	c->st.ended_bonds++;
	free(b->steps);
	free(b);
}

static struct bond *bond_get(struct correlator *c, uint64_t handle)
{
	uint64_t v;

	return u64map_get(&c->bonds, handle, &v) ? (struct bond *)(uintptr_t)v : NULL;
}

static void refcount_finding(struct correlator *c, struct bond *b, const struct sva_event *ev,
			     enum finding_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void refcount_finding(struct correlator *c, struct bond *b, const struct sva_event *ev,
			     enum finding_severity sev, const char *fmt, ...)
{
	struct finding f;
	va_list ap;

	finding_init(&f, FINDING_REFCOUNT, sev, ev);
	subject_from_bond(&f, b);
	add_evidence(&f, ev->seq);
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	report(c, &f);
}

static struct attachment *attachment_get(struct correlator *c, int32_t group, uint32_t pasid)
{
	uint64_t v;

	return u64map_get(&c->attachments, attach_key(group, pasid), &v) ?
		       (struct attachment *)(uintptr_t)v :
		       NULL;
}

/* An EBUSY bind: say who holds the PASID, if the trace knows. */
static void explain_busy_bind(struct correlator *c, const struct sva_event *ev)
{
	char dbuf[4 * SVA_DEV_NAME_LEN + 1];
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);
	char owner[96], tbuf[24];
	struct finding f;

	if (c->busy_tid == ev->pid && c->busy_pasid == ev->pasid && c->busy_seq + 8 >= ev->seq)
		return; /* the lookup or attach just before said it already */
	if (a && a->attached && a->domain_type != SVA_DOMAIN_SVA) {
		finding_init(&f, FINDING_TYPE_MISMATCH, SEV_ERROR, ev);
		subject_from_attachment(&f, a);
		add_evidence(&f, ev->seq);
		snprintf(f.message, sizeof(f.message),
			 "SVA bind of PASID %u on %s failed with EBUSY: the PASID is held by %s %s "
			 "domain that %s attached; detach it, or give the SVA user another PASID",
			 ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
			 article(type_name(a->domain_type, tbuf, sizeof(tbuf))),
			 type_name(a->domain_type, tbuf, sizeof(tbuf)),
			 who(owner, sizeof(owner), a->owner_pid, a->owner_comm));
		report(c, &f);
		return;
	}
	if (a && a->attached && a->mm && ev->mm && a->mm != ev->mm) {
		finding_init(&f, FINDING_CROSS_MM, SEV_ERROR, ev);
		subject_from_attachment(&f, a);
		add_evidence(&f, ev->seq);
		snprintf(f.message, sizeof(f.message),
			 "SVA bind of PASID %u on %s failed with EBUSY: the PASID is bound there to "
			 "another mm, owned by %s; PASIDs are per mm, so that bond outlived its "
			 "process or was handed to the wrong one",
			 ev->pasid, dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
			 who(owner, sizeof(owner), a->owner_pid, a->owner_comm));
		report(c, &f);
		return;
	}
	finding_init(&f, FINDING_BIND_ERROR, SEV_WARNING, ev);
	subject_from_event(&f, ev);
	add_evidence(&f, ev->seq);
	snprintf(f.message, sizeof(f.message), "SVA bind on %s failed with EBUSY: %s",
		 dev_label(ev->dev_name, dbuf, sizeof(dbuf)), bind_errno_explanation(ev->ret));
	report(c, &f);
}

static void on_bind(struct correlator *c, const struct sva_event *ev)
{
	char dbuf[4 * SVA_DEV_NAME_LEN + 1];
	struct bond *b;
	struct finding f;
	char owner[96];

	if (ev->ret != 0 || !ev->handle) {
		if (ev->ret == -EBUSY) {
			explain_busy_bind(c, ev);
			return;
		}
		finding_init(&f, FINDING_BIND_ERROR, SEV_WARNING, ev);
		subject_from_event(&f, ev);
		add_evidence(&f, ev->seq);
		if (ev->ret == 0) {
			snprintf(f.message, sizeof(f.message),
				 "SVA bind on %s returned no handle and no error: the caller cannot "
				 "tell it failed", dev_label(ev->dev_name, dbuf, sizeof(dbuf)));
			report(c, &f);
			return;
		}
		snprintf(f.message, sizeof(f.message), "SVA bind on %s failed with %s: %s",
			 dev_label(ev->dev_name, dbuf, sizeof(dbuf)),
			 sva_errno_name(ev->ret) ? sva_errno_name(ev->ret) : "an error",
			 bind_errno_explanation(ev->ret));
		report(c, &f);
		return;
	}

	b = bond_get(c, ev->handle);
	if (!b) {
		b = bond_new(c, ev);
		if (!b)
			return;
		recent_del(&c->ended_bonds, ev->handle); /* a new object at that address */
		b->nr_binds = 1;
		if (ev->users > 1) {
			/* Bound before tracing started: the kernel's count is the truth. */
			b->unknown_origin = true;
			c->st.unknown_origin_bonds++;
			b->expected_users = ev->users;
		} else {
			b->expected_users = 1;
		}
		b->kernel_users = ev->users;
		bond_add_step(b, ev, ev->users);
		return;
	}

	b->nr_binds++;
	b->expected_users++;
	bond_add_step(b, ev, ev->users);
	if (b->mm && ev->mm && b->mm != ev->mm) {
		finding_init(&f, FINDING_CROSS_MM, SEV_CRITICAL, ev);
		subject_from_bond(&f, b);
		add_evidence(&f, ev->seq);
		snprintf(f.message, sizeof(f.message),
			 "SVA bind returned the bond of another mm (owned by %s) for PASID %u: the "
			 "device would DMA into the wrong address space; this kernel lacks the "
			 "mm check in iommu_sva_bind_device",
			 who(owner, sizeof(owner), b->owner_pid, b->owner_comm), b->pasid);
		report(c, &f);
	}
	if (ev->users >= 0 && ev->users != b->expected_users) {
		refcount_finding(c, b, ev, SEV_ERROR,
				 "after this bind the kernel counts %d users on the bond but the "
				 "trace saw %" PRId64 " binds not yet unbound: a bind or unbind "
				 "happened outside the traced functions",
				 ev->users, b->expected_users);
		b->expected_users = ev->users;
	}
	b->kernel_users = ev->users;
}

static void on_unbind(struct correlator *c, const struct sva_event *ev)
{
	struct bond *b = bond_get(c, ev->handle);
	bool before_known = ev->users >= 0 && (ev->flags & SVA_EVF_USERS_BEFORE);
	struct recent_entry *gone;
	struct finding f;
	char owner[96];

	if (!b) {
		gone = recent_get(&c->ended_bonds, ev->handle);
		if (gone) {
			finding_init(&f, FINDING_REFCOUNT, SEV_CRITICAL, ev);
			subject_from_event(&f, ev);
			f.subject.owner_pid = gone->owner_pid;
			copy_name(f.subject.owner_comm, gone->owner_comm, SVA_COMM_LEN);
			copy_name(f.subject.dev_name, gone->dev_name, SVA_DEV_NAME_LEN);
			f.subject.group_id = gone->group_id;
			f.subject.pasid = gone->pasid;
			f.uncertain = gone->lost_epoch != c->lost_epoch;
			add_evidence(&f, gone->seq);
			add_evidence(&f, ev->seq);
			snprintf(f.message, sizeof(f.message),
				 "unbind of a bond that was already freed (its last unbind was "
				 "event %" PRIu64 ", bond of %s): a double unbind, a use after free "
				 "in the driver",
				 gone->seq, who(owner, sizeof(owner), gone->owner_pid, gone->owner_comm));
			report(c, &f);
			return;
		}
		/* First sight of a bond made before tracing: trust the kernel's count. */
		b = bond_new(c, ev);
		if (!b)
			return;
		b->unknown_origin = true;
		b->owner_pid = 0;
		memset(b->owner_comm, 0, sizeof(b->owner_comm));
		c->st.unknown_origin_bonds++;
		b->expected_users = before_known ? ev->users : 1;
	}

	if (before_known) {
		if (ev->users == 0) {
			refcount_finding(c, b, ev, SEV_CRITICAL,
					 "unbind of a bond whose users count is already 0: the "
					 "refcount underflows");
			b->expected_users = 0;
		} else if (ev->users != b->expected_users) {
			refcount_finding(c, b, ev, SEV_ERROR,
					 "before this unbind the kernel counts %d users on the bond "
					 "but the trace saw %" PRId64 " binds not yet unbound",
					 ev->users, b->expected_users);
			b->expected_users = ev->users;
		}
	}
	b->nr_unbinds++;
	b->expected_users--;
	b->kernel_users = before_known ? ev->users - 1 : -1;
	bond_add_step(b, ev, b->kernel_users);
	if (b->expected_users < 0 && !before_known) {
		refcount_finding(c, b, ev, SEV_CRITICAL,
				 "more unbinds (%" PRIu64 ") than binds (%" PRIu64 ") on this bond: "
				 "the refcount underflows",
				 b->nr_unbinds, b->nr_binds);
	}
	if (b->expected_users <= 0)
		bond_end(c, b, ev);
}

/* ---- attachments and PASIDs ---- */

static void pasid_users_add(struct correlator *c, uint32_t pasid, int delta)
{
	uint64_t n = 0;

	u64map_get(&c->pasid_users, pasid, &n);
	if (delta < 0 && n == 0)
		return;
	n += (uint64_t)(int64_t)delta;
	if (n)
		u64map_put(&c->pasid_users, pasid, n);
	else
		u64map_del(&c->pasid_users, pasid);
}

static struct attachment *attachment_new(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->group_id = ev->group_id;
	a->pasid = ev->pasid;
	if (u64map_put(&c->attachments, attach_key(ev->group_id, ev->pasid),
		       (uint64_t)(uintptr_t)a)) {
		free(a);
		return NULL;
	}
	return a;
}

static void attachment_set(struct correlator *c, struct attachment *a, const struct sva_event *ev)
{
	if (!a->attached) {
		c->st.live_attachments++;
		pasid_users_add(c, a->pasid, 1);
	}
	a->attached = true;
	a->domain = ev->domain;
	a->domain_type = ev->domain_type;
	a->handle = ev->handle;
	a->mm = ev->domain_type == SVA_DOMAIN_SVA ? ev->mm : 0;
	copy_name(a->dev_name, ev->dev_name, SVA_DEV_NAME_LEN);
	a->owner_pid = ev->tgid;
	copy_name(a->owner_comm, ev->comm, SVA_COMM_LEN);
	a->since_seq = ev->seq;
	a->since_ns = ev->ts_ns;
	a->uncertain = false;
	a->mismatch_reported = false;
}

static void attachment_remove(struct correlator *c, struct attachment *a, uint64_t seq)
{
	if (a->attached) {
		c->st.live_attachments--;
		pasid_users_add(c, a->pasid, -1);
	}
	recent_put(c, &c->detached, attach_key(a->group_id, a->pasid), seq, a->owner_pid,
		   a->owner_comm, a->dev_name, a->group_id, a->pasid);
	u64map_del(&c->attachments, attach_key(a->group_id, a->pasid));
	free(a);
}

static void pasid_state_finding(struct correlator *c, const struct sva_event *ev,
				const struct attachment *a, enum finding_severity sev,
				const char *msg)
{
	struct finding f;

	finding_init(&f, FINDING_PASID_STATE, sev, ev);
	if (a)
		subject_from_attachment(&f, a);
	else
		subject_from_event(&f, ev);
	add_evidence(&f, ev->seq);
	snprintf(f.message, sizeof(f.message), "%s", msg);
	report(c, &f);
}

static void type_mismatch_finding(struct correlator *c, const struct sva_event *ev,
				  struct attachment *a, uint32_t want_type, const char *what)
{
	char owner[96], t1[24], t2[24], holder[160];
	struct finding f;

	c->busy_tid = ev->pid;
	c->busy_pasid = ev->pasid;
	c->busy_seq = ev->seq;
	if (a && a->mismatch_reported)
		return; /* once per holder: look-ups repeat at fault rate */
	if (a)
		snprintf(holder, sizeof(holder), "%s %s domain attached by %s",
			 article(type_name(a->domain_type, t2, sizeof(t2))),
			 type_name(a->domain_type, t2, sizeof(t2)),
			 who(owner, sizeof(owner), a->owner_pid, a->owner_comm));
	finding_init(&f, FINDING_TYPE_MISMATCH, SEV_ERROR, ev);
	if (a) {
		subject_from_attachment(&f, a);
		a->mismatch_reported = true;
	} else {
		subject_from_event(&f, ev);
		f.subject.owner_pid = 0;
	}
	add_evidence(&f, ev->seq);
	snprintf(f.message, sizeof(f.message),
		 "%s for %s %s domain at PASID %u of group %d failed with EBUSY: the PASID is "
		 "held by %s",
		 what, article(type_name(want_type, t1, sizeof(t1))),
		 type_name(want_type, t1, sizeof(t1)), ev->pasid, ev->group_id,
		 a ? holder : "a domain of another type that was attached before tracing started");
	report(c, &f);
}

static void on_attach(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);

	if (ev->ret == -EBUSY) {
		if (a && a->attached && a->domain_type == ev->domain_type) {
			c->busy_tid = ev->pid;
			c->busy_pasid = ev->pasid;
			c->busy_seq = ev->seq;
			pasid_state_finding(c, ev, a, SEV_WARNING,
					    "attach over an occupied PASID: another domain of the same "
					    "type is attached there (EBUSY)");
		} else {
			type_mismatch_finding(c, ev, a && a->attached ? a : NULL, ev->domain_type,
					      "attach");
		}
		return;
	}
	if (ev->ret != 0)
		return;
	if (a && a->attached && a->domain != ev->domain) {
		/* The kernel refuses this; seeing it means we missed a detach. */
		pasid_state_finding(c, ev, a, SEV_WARNING,
				    "attach over an occupied PASID succeeded: a detach was not "
				    "seen");
	}
	if (!a) {
		a = attachment_new(c, ev);
		if (!a)
			return;
		recent_del(&c->detached, attach_key(ev->group_id, ev->pasid));
	}
	attachment_set(c, a, ev);
}

static void on_replace(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);

	if (ev->ret != 0)
		return;
	if (!a) {
		if (recent_get(&c->detached, attach_key(ev->group_id, ev->pasid)))
			pasid_state_finding(c, ev, NULL, SEV_WARNING,
					    "replace on a PASID that was detached: nothing to replace");
		a = attachment_new(c, ev);
		if (!a)
			return;
		a->unknown_origin = true;
	}
	attachment_set(c, a, ev);
}

static void on_detach(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a = attachment_get(c, ev->group_id, ev->pasid);
	struct recent_entry *gone;

	if (!a) {
		gone = recent_get(&c->detached, attach_key(ev->group_id, ev->pasid));
		if (gone) {
			char msg[FINDING_MSG_LEN];
			struct finding f;

			finding_init(&f, FINDING_PASID_STATE, SEV_ERROR, ev);
			subject_from_event(&f, ev);
			f.uncertain = gone->lost_epoch != c->lost_epoch;
			add_evidence(&f, gone->seq);
			add_evidence(&f, ev->seq);
			snprintf(msg, sizeof(msg),
				 "detach without attach: PASID %u of group %d was already detached "
				 "(event %" PRIu64 ")",
				 ev->pasid, ev->group_id, gone->seq);
			snprintf(f.message, sizeof(f.message), "%s", msg);
			report(c, &f);
			recent_del(&c->detached, attach_key(ev->group_id, ev->pasid));
		}
		/* else: attached before tracing started; nothing to say */
		recent_put(c, &c->detached, attach_key(ev->group_id, ev->pasid), ev->seq, ev->tgid,
			   ev->comm, ev->dev_name, ev->group_id, ev->pasid);
		return;
	}
	if (a->domain && ev->domain && a->domain != ev->domain)
		pasid_state_finding(c, ev, a, SEV_ERROR,
				    "detach names another domain than the one attached at this "
				    "PASID");
	attachment_remove(c, a, ev->seq);
}

static void on_lookup(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *a;

	if (ev->ret != -EBUSY)
		return;
	a = attachment_get(c, ev->group_id, ev->pasid);
	type_mismatch_finding(c, ev, a && a->attached ? a : NULL, ev->aux, "handle look-up");
}

/*
 * mm_pasid_drop runs when the mm's last reference goes, and a bond still bound holds its
 * SVA domain's grab of the mm (iommu_sva_bind_device -> mmgrab), so it cannot run while
 * any bond of that mm is bound. A bond of that mm that still looks bound is one whose
 * unbind was among lost records (it is uncertain): it ended, and so did the uncertain
 * attachments of that mm's SVA domain (their detach was lost with it).
 */
static void end_lost_bonds_of_mm(struct correlator *c, const struct sva_event *ev)
{
	struct attachment *gone[64];
	int ngone = 0;

	if (!ev->mm)
		return;
	for (struct bond *b = c->live_head, *next; b; b = next) {
		next = b->next;
		if (b->mm == ev->mm && b->uncertain) {
			c->st.inferred_unbinds++;
			bond_end(c, b, ev);
		}
	}
	u64map_for_each(&c->attachments, key, val, {
		struct attachment *a = (struct attachment *)(uintptr_t)val;

		(void)key;
		if (a->mm == ev->mm && a->uncertain && a->attached && ngone < 64)
			gone[ngone++] = a;
	});
	for (int i = 0; i < ngone; i++)
		attachment_remove(c, gone[i], ev->seq);
}

static void on_pasid_release(struct correlator *c, const struct sva_event *ev)
{
	uint64_t n = 0;
	char msg[FINDING_MSG_LEN];
	struct finding f;
	bool uncertain = false;

	if (ev->type == SVA_REC_MM_PASID_DROP)
		end_lost_bonds_of_mm(c, ev);
	if (ev->pasid == SVA_PASID_NONE || !u64map_get(&c->pasid_users, ev->pasid, &n) || !n)
		return;
	/* An attachment whose detach may be among lost records makes this unprovable. */
	u64map_for_each(&c->attachments, key, val, {
		const struct attachment *a = (const struct attachment *)(uintptr_t)val;

		(void)key;
		if (a->pasid == ev->pasid && a->attached && a->uncertain)
			uncertain = true;
	});
	snprintf(msg, sizeof(msg),
		 "PASID %u released while still attached to %" PRIu64 " device(s): the "
		 "allocator may hand it out again while a device still uses it",
		 ev->pasid, n);
	finding_init(&f, FINDING_PASID_STATE, SEV_ERROR, ev);
	subject_from_event(&f, ev);
	f.uncertain = uncertain;
	add_evidence(&f, ev->seq);
	snprintf(f.message, sizeof(f.message), "%s", msg);
	report(c, &f);
}

/* ---- processes and leaks ---- */

static void leak_queue_push(struct correlator *c, const struct bond *b, uint64_t deadline)
{
	if (c->leaks_len == c->leaks_cap) {
		size_t ncap = c->leaks_cap ? c->leaks_cap * 2 : 64;
		struct leak_check *n = malloc(ncap * sizeof(*n));

		if (!n)
			return;
		for (size_t i = 0; i < c->leaks_len; i++)
			n[i] = c->leaks[(c->leaks_head + i) % c->leaks_cap];
		free(c->leaks);
		c->leaks = n;
		c->leaks_cap = ncap;
		c->leaks_head = 0;
	}
	c->leaks[(c->leaks_head + c->leaks_len) % c->leaks_cap] =
		(struct leak_check){ b->handle, b->created_seq, deadline };
	c->leaks_len++;
}

static void on_exit_event(struct correlator *c, const struct sva_event *ev)
{
	for (struct bond *b = c->live_head; b; b = b->next) {
		if (b->owner_pid != ev->tgid || b->owner_exit_ns)
			continue;
		b->owner_exit_ns = ev->ts_ns;
		leak_queue_push(c, b, ev->ts_ns + c->opts.leak_grace_ns);
	}
}

static void leak_finding(struct correlator *c, struct bond *b, uint64_t now_ns)
{
	char owner[96];
	struct finding f;

	b->leak_reported = true;
	finding_init(&f, FINDING_LEAK, SEV_ERROR, NULL);
	f.ts_ns = now_ns;
	subject_from_bond(&f, b);
	for (uint32_t i = 0; i < bond_steps_kept(b); i++)
		add_evidence(&f, bond_step_at(b, i)->seq);
	snprintf(f.message, sizeof(f.message),
		 "bond still bound %.1f s after its owner %s exited (users %" PRId64 ", %" PRIu64
		 " binds, %" PRIu64 " unbinds): the driver did not unbind on release, so the "
		 "PASID and the mm stay pinned",
		 (double)(now_ns - b->owner_exit_ns) / 1e9,
		 who(owner, sizeof(owner), b->owner_pid, b->owner_comm), b->expected_users,
		 b->nr_binds, b->nr_unbinds);
	report(c, &f);
}

void correlator_tick(struct correlator *c, uint64_t now_ns)
{
	while (c->leaks_len) {
		struct leak_check *l = &c->leaks[c->leaks_head];
		struct bond *b;

		if (l->deadline_ns > now_ns)
			break;
		b = bond_get(c, l->handle);
		if (b && b->created_seq == l->created_seq && !b->leak_reported && !b->unresolved) {
			/*
			 * A leak is the absence of an unbind, and lost records are exactly
			 * where an unbind can go missing: a bond that lived through a loss
			 * is not called a leak. It stays outstanding, flagged uncertain,
			 * and is counted as unresolved.
			 */
			if (b->uncertain) {
				b->unresolved = true;
				c->st.unresolved_bonds++;
			} else {
				leak_finding(c, b, now_ns);
			}
		}
		c->leaks_head = (c->leaks_head + 1) % c->leaks_cap;
		c->leaks_len--;
	}
}

void correlator_finish(struct correlator *c, uint64_t now_ns)
{
	correlator_tick(c, now_ns);
}

/* Records may be missing from here on: what is live now may have changed unseen. */
static void mark_uncertain(struct correlator *c)
{
	c->lost_epoch++;
	for (struct bond *b = c->live_head; b; b = b->next)
		b->uncertain = true;
	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		((struct attachment *)(uintptr_t)val)->uncertain = true;
	});
}

void correlator_lost(struct correlator *c, uint64_t n, uint64_t ts_ns)
{
	(void)ts_ns;
	if (!n)
		return;
	c->st.lost += n;
	mark_uncertain(c);
}

void correlator_event(struct correlator *c, const struct sva_event *ev)
{
	c->st.events++;
	if (ev->seq >= c->next_seq) {
		/*
		 * A gap is the first sign of lost records. sva-trace reads the kernel's lost
		 * counter when it sees one, but a CPU that failed to queue a record may not
		 * have counted it yet: findings from here on must not trust the live state.
		 * (A record from another CPU arriving late, below, also leaves a gap: then
		 * this is too careful, never wrong.)
		 */
		if (ev->seq > c->next_seq && c->st.events > 1)
			mark_uncertain(c);
		c->st.seq_gaps += ev->seq - c->next_seq;
		c->next_seq = ev->seq + 1;
	} else if (c->st.seq_gaps) {
		c->st.seq_gaps--; /* a record from another CPU arrived late */
	}
	if (ev->ts_ns > c->last_ts)
		c->last_ts = ev->ts_ns;
	correlator_tick(c, ev->ts_ns);

	switch (ev->type) {
	case SVA_REC_BIND: on_bind(c, ev); break;
	case SVA_REC_UNBIND: on_unbind(c, ev); break;
	case SVA_REC_ATTACH: on_attach(c, ev); break;
	case SVA_REC_REPLACE: on_replace(c, ev); break;
	case SVA_REC_DETACH: on_detach(c, ev); break;
	case SVA_REC_LOOKUP: on_lookup(c, ev); break;
	case SVA_REC_PASID_FREE:
	case SVA_REC_MM_PASID_DROP: on_pasid_release(c, ev); break;
	case SVA_REC_PROC_EXIT: on_exit_event(c, ev); break;
	default: break;
	}
}

struct correlator *correlator_new(const struct correlator_opts *opts)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->opts = *opts;
	if (!c->opts.leak_grace_ns)
		c->opts.leak_grace_ns = 2000000000ull;
	if (u64map_init(&c->bonds, 1024) || u64map_init(&c->attachments, 256) ||
	    u64map_init(&c->pasid_users, 256) || u64map_init(&c->ended_bonds.index, RECENT_CAP * 2) ||
	    u64map_init(&c->detached.index, RECENT_CAP * 2)) {
		correlator_free(c);
		return NULL;
	}
	return c;
}

void correlator_free(struct correlator *c)
{
	struct bond *b, *next;

	if (!c)
		return;
	for (b = c->live_head; b; b = next) {
		next = b->next;
		free(b->steps);
		free(b);
	}
	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		free((void *)(uintptr_t)val);
	});
	u64map_free(&c->bonds);
	u64map_free(&c->attachments);
	u64map_free(&c->pasid_users);
	u64map_free(&c->ended_bonds.index);
	u64map_free(&c->detached.index);
	free(c->leaks);
	free(c);
}

const struct bond *correlator_find_bond(const struct correlator *c, uint64_t handle)
{
	uint64_t v;

	return u64map_get(&c->bonds, handle, &v) ? (const struct bond *)(uintptr_t)v : NULL;
}

void correlator_get_stats(const struct correlator *c, struct correlator_stats *st)
{
	*st = c->st;
}

void correlator_for_each_bond(const struct correlator *c,
			      void (*fn)(const struct bond *b, void *ctx), void *ctx)
{
	for (const struct bond *b = c->live_head; b; b = b->next)
		fn(b, ctx);
}

static int cmp_attachment(const void *x, const void *y)
{
	const struct attachment *a = *(const struct attachment *const *)x;
	const struct attachment *b = *(const struct attachment *const *)y;

	return a->since_seq < b->since_seq ? -1 : a->since_seq > b->since_seq;
}

void correlator_for_each_attachment(const struct correlator *c,
				    void (*fn)(const struct attachment *a, void *ctx), void *ctx)
{
	size_t n = 0, i = 0;
	const struct attachment **all;

	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		(void)val;
		n++;
	});
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return;
	u64map_for_each(&c->attachments, key, val, {
		(void)key;
		all[i++] = (const struct attachment *)(uintptr_t)val;
	});
	/* Map order is hash order: sort for deterministic output. */
	qsort(all, n, sizeof(*all), cmp_attachment);
	for (i = 0; i < n; i++)
		fn(all[i], ctx);
	free(all);
}
