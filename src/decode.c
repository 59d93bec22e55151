// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"

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

	if (size < sizeof(*ev)) {
		snprintf(err, errlen, "record of %zu bytes, expected %zu: BPF object and tool disagree",
			 size, sizeof(*ev));
		return -EINVAL;
	}
	memcpy(&type, data, sizeof(type));
	if (!sva_rec_type_name(type)) {
		snprintf(err, errlen, "unknown record type %u", type);
		return -EINVAL;
	}
	memcpy(ev, data, sizeof(*ev));
	return 0;
}

/*
 * IOMMU_DOMAIN_* from include/linux/iommu.h. The values are built from the
 * same __IOMMU_DOMAIN_* bits in 6.1, 6.12 and 7.2 (docs/KERNELS.md); later
 * generations only added bits.
 */
const char *sva_domain_type_name(uint32_t type)
{
	switch (type) {
	case 0x00: return "blocked";
	case 0x04: return "identity";
	case 0x01: return "unmanaged";
	case 0x03: return "dma";
	case 0x0b: return "dma_fq";
	case 0x10: return "sva";
	case 0x20: return "platform";
	case 0x40: return "nested";
	default: return NULL;
	}
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
			tmp[0] = (char)c;
			n = 1;
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

static void fmt_result(const struct sva_event *ev, char *buf, size_t len)
{
	const char *name;

	if (ev->type == SVA_REC_PASID_ALLOC && ev->ret >= 0) {
		snprintf(buf, len, "ok");
		return;
	}
	if (ev->type == SVA_REC_UNBIND || ev->type == SVA_REC_DETACH ||
	    ev->type == SVA_REC_PASID_FREE || ev->type == SVA_REC_MM_PASID_DROP ||
	    ev->type == SVA_REC_PROC_EXIT) {
		snprintf(buf, len, "-");
		return;
	}
	if (ev->ret == 0) {
		snprintf(buf, len, "ok");
		return;
	}
	name = sva_errno_name(ev->ret);
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%" PRId64, (int64_t)ev->ret);
}

int sva_event_format_text(const struct sva_event *ev, const struct fmt_opts *o, char *buf,
			  size_t len)
{
	char comm[4 * SVA_COMM_LEN + 1], dev[4 * SVA_DEV_NAME_LEN + 1];
	char group[12], pasid[12], users[12], result[24], p1[PTRHASH_STR_LEN];
	const char *tname, *dtype;
	uint64_t rel = ev->ts_ns >= o->t0_ns ? ev->ts_ns - o->t0_ns : 0;
	int n, m;

	sva_text_escape(comm, sizeof(comm), ev->comm, SVA_COMM_LEN);
	sva_text_escape(dev, sizeof(dev), ev->dev_name, SVA_DEV_NAME_LEN);
	if (!dev[0])
		snprintf(dev, sizeof(dev), "-");
	if (ev->group_id >= 0)
		snprintf(group, sizeof(group), "%d", ev->group_id);
	else
		snprintf(group, sizeof(group), "-");
	if (ev->pasid != SVA_PASID_NONE)
		snprintf(pasid, sizeof(pasid), "%u", ev->pasid);
	else
		snprintf(pasid, sizeof(pasid), "-");
	if (ev->users >= 0)
		snprintf(users, sizeof(users), "%d%s", ev->users,
			 (ev->flags & SVA_EVF_USERS_BEFORE) ? "*" : "");
	else
		snprintf(users, sizeof(users), "-");
	fmt_result(ev, result, sizeof(result));
	tname = sva_rec_type_name(ev->type);

	n = snprintf(buf, len, "%-13.6f %-3u %-7u %-16s %-14s %-16s %-5s %-6s %-5s %s",
		     (double)rel / 1e9, ev->cpu, ev->tgid, comm, tname ? tname : "?", dev, group,
		     pasid, users, result);
	if (n < 0 || (size_t)n >= len)
		return n;

#define APPEND(...)                                                          \
	do {                                                                 \
		m = snprintf(buf + n, len - (size_t)n, __VA_ARGS__);         \
		if (m < 0 || (size_t)(n + m) >= len)                         \
			return n + (m < 0 ? 0 : m);                          \
		n += m;                                                      \
	} while (0)

	if (ev->domain) {
		dtype = sva_domain_type_name(ev->domain_type);
		ptrhash_format(o->ptrs, ev->domain, p1);
		if (dtype)
			APPEND(" domain=%s(%s)", p1, dtype);
		else
			APPEND(" domain=%s(type %#x)", p1, ev->domain_type);
	}
	if (ev->handle) {
		ptrhash_format(o->ptrs, ev->handle, p1);
		APPEND(" handle=%s", p1);
	}
	if (ev->mm) {
		ptrhash_format(o->ptrs, ev->mm, p1);
		APPEND(" mm=%s", p1);
	}
	if (ev->type == SVA_REC_LOOKUP) {
		dtype = sva_domain_type_name(ev->aux);
		if (dtype)
			APPEND(" want=%s", dtype);
		else
			APPEND(" want=%#x", ev->aux);
	}
	if (ev->type == SVA_REC_PROC_EXIT)
		APPEND(" exit_code=%u", ev->aux);
	if (ev->stack_id >= 0)
		APPEND(" stack=%d", ev->stack_id);
#undef APPEND
	return n;
}

static void ptr_field(struct json_writer *w, const char *name, uint64_t ptr,
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

void sva_event_format_json(struct json_writer *w, const struct sva_event *ev,
			   const struct fmt_opts *o)
{
	const char *tname = sva_rec_type_name(ev->type);
	const char *dtype, *ename;

	jw_start_object(w);
	jw_string_field(w, "type", tname ? tname : "unknown");
	jw_uint_field(w, "seq", ev->seq);
	jw_uint_field(w, "ts_ns", ev->ts_ns);
	jw_uint_field(w, "cpu", ev->cpu);
	jw_uint_field(w, "pid", ev->tgid);
	jw_uint_field(w, "tid", ev->pid);
	jw_name(w, "comm");
	jw_string_n(w, ev->comm, SVA_COMM_LEN);
	ptr_field(w, "mm", ev->mm, o->ptrs);
	jw_name(w, "dev");
	if (ev->dev_name[0])
		jw_string_n(w, ev->dev_name, SVA_DEV_NAME_LEN);
	else
		jw_null(w);
	if (ev->group_id >= 0)
		jw_int_field(w, "group", ev->group_id);
	else
		jw_null_field(w, "group");
	if (ev->pasid != SVA_PASID_NONE)
		jw_uint_field(w, "pasid", ev->pasid);
	else
		jw_null_field(w, "pasid");
	ptr_field(w, "domain", ev->domain, o->ptrs);
	if (ev->domain) {
		dtype = sva_domain_type_name(ev->domain_type);
		jw_name(w, "domain_type");
		if (dtype)
			jw_string(w, dtype);
		else
			jw_null(w);
		jw_uint_field(w, "domain_type_raw", ev->domain_type);
	}
	ptr_field(w, "handle", ev->handle, o->ptrs);
	if (ev->users >= 0)
		jw_int_field(w, "users", ev->users);
	else
		jw_null_field(w, "users");
	if (ev->flags & SVA_EVF_USERS_BEFORE)
		jw_bool_field(w, "users_before_call", true);
	jw_int_field(w, "ret", ev->ret);
	ename = ev->ret < 0 ? sva_errno_name(ev->ret) : NULL;
	if (ename)
		jw_string_field(w, "errno", ename);
	if (ev->max_pasids)
		jw_uint_field(w, "max_pasids", ev->max_pasids);
	if (ev->type == SVA_REC_LOOKUP) {
		dtype = sva_domain_type_name(ev->aux);
		jw_name(w, "want_type");
		if (dtype)
			jw_string(w, dtype);
		else
			jw_null(w);
		jw_uint_field(w, "want_type_raw", ev->aux);
	}
	if (ev->type == SVA_REC_PROC_EXIT)
		jw_uint_field(w, "exit_code", ev->aux);
	if (ev->stack_id >= 0)
		jw_int_field(w, "stack_id", ev->stack_id);
	jw_string_field(w, "probe", (ev->flags & SVA_EVF_KPROBE) ? "kprobe" : "fentry");
	jw_end_object(w);
}
