/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mock_ops.h - the lab kernel's mock-device test ops (lab/kernel/mock-sva.patch and the
 * iommufd selftest driver), one quiet call each, shared by sva_smoke, sva_stress,
 * sva_bench, sva_fail and sva_pci (whose op binds a real PCI device, not a mock one).
 *
 * Every op returns 0 or -errno and prints nothing: sva_smoke adds its own messages,
 * sva_bench calls them in timed loops. Needs <linux/iommufd.h> and the lab build's
 * iommufd_test.h (gcc -I CACHE/lab/KEY/include).
 */
#ifndef SVA_LAB_MOCK_OPS_H
#define SVA_LAB_MOCK_OPS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#define PASID_INVALID 0xffffffffu

/* One iommufd with an IOAS and a PASID-capable mock device (its own iommu group). */
struct mockdev {
	int fd;
	__u32 ioas_id;
	__u32 stdev_id;		/* the test ops' device id */
	__u32 idev_id;		/* iommufd's device id (HWPT_ALLOC, TRIGGER_IOPF) */
	__u32 hwpt_id;		/* the mock domain the RID starts on */
};

struct bind_out {
	__u32 pasid, bond_id, users;
};

struct unbind_out {
	__u32 calls, users, pasid, flags;
};

static inline int mock_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) ? -errno : 0;
}

static inline void mock_cmd_init(struct iommu_test_cmd *cmd, __u32 op, __u32 id)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
}

/*
 * Opens /dev/iommu and creates a mock device with dev_flags (MOCK_FLAGS_DEVICE_*); on
 * failure *step names the call that failed.
 */
static inline int mock_open_flags(struct mockdev *m, __u32 dev_flags, const char **step)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd cmd;
	int err;

	*m = (struct mockdev){ .fd = -1 };
	*step = "open /dev/iommu";
	m->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	*step = "IOMMU_IOAS_ALLOC";
	err = mock_ioctl(m->fd, IOMMU_IOAS_ALLOC, &alloc);
	if (!err) {
		m->ioas_id = alloc.out_ioas_id;
		*step = "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS";
		mock_cmd_init(&cmd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, m->ioas_id);
		cmd.mock_domain_flags.dev_flags = dev_flags;
		err = mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
	}
	if (err) {
		close(m->fd);
		m->fd = -1;
		return err;
	}
	m->stdev_id = cmd.mock_domain_flags.out_stdev_id;
	m->idev_id = cmd.mock_domain_flags.out_idev_id;
	m->hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	return 0;
}

/* A PASID-capable mock device (20 PASID bits). */
static inline int mock_open(struct mockdev *m, const char **step)
{
	return mock_open_flags(m, MOCK_FLAGS_DEVICE_PASID, step);
}

static inline void mock_close(struct mockdev *m)
{
	if (m->fd >= 0)
		close(m->fd);	/* the release path unbinds what is left */
	m->fd = -1;
}

/* IOMMU_TEST_OP_SVA_BIND: iommu_sva_bind_device(dev, current->mm). */
static inline int mock_sva_bind(struct mockdev *m, __u32 flags, struct bind_out *o)
{
	struct iommu_test_cmd cmd;
	int err;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_SVA_BIND, m->stdev_id);
	cmd.sva_bind.flags = flags;
	err = mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
	if (err)
		return err;
	o->pasid = cmd.sva_bind.out_pasid;
	o->bond_id = cmd.sva_bind.out_bond_id;
	o->users = cmd.sva_bind.out_users;
	return 0;
}

/*
 * IOMMU_TEST_OP_SVA_BIND with MOCK_SVA_DEFER_UNBIND: every unbind of the bond (the unbind
 * op and the release path) runs defer_ms later in a kworker.
 */
static inline int mock_sva_bind_defer(struct mockdev *m, __u32 flags, __u32 defer_ms,
				      struct bind_out *o)
{
	struct iommu_test_cmd cmd;
	int err;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_SVA_BIND, m->stdev_id);
	cmd.sva_bind.flags = flags | MOCK_SVA_DEFER_UNBIND;
	cmd.sva_bind.defer_ms = defer_ms;
	err = mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
	if (err)
		return err;
	o->pasid = cmd.sva_bind.out_pasid;
	o->bond_id = cmd.sva_bind.out_bond_id;
	o->users = cmd.sva_bind.out_users;
	return 0;
}

/* The mock's counts of its own SVA calls since boot (IOMMU_TEST_OP_SVA_COUNTERS). */
struct sva_counters {
	__u32 binds, bind_errors, unbinds, release_unbinds, deferred_queued, deferred_done;
};

/* fd: any open /dev/iommu. */
static inline int mock_sva_counters(int fd, struct sva_counters *c)
{
	struct iommu_test_cmd cmd;
	int err;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_SVA_COUNTERS, 0);
	err = mock_ioctl(fd, IOMMU_TEST_CMD, &cmd);
	if (err)
		return err;
	c->binds = cmd.sva_counters.out_binds;
	c->bind_errors = cmd.sva_counters.out_bind_errors;
	c->unbinds = cmd.sva_counters.out_unbinds;
	c->release_unbinds = cmd.sva_counters.out_release_unbinds;
	c->deferred_queued = cmd.sva_counters.out_deferred_queued;
	c->deferred_done = cmd.sva_counters.out_deferred_done;
	return 0;
}

/* IOMMU_TEST_OP_SVA_UNBIND of bond_id (0 = the newest bond). */
static inline int mock_sva_unbind(struct mockdev *m, __u32 bond_id, __u32 flags,
				  struct unbind_out *o)
{
	struct iommu_test_cmd cmd;
	int err;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_SVA_UNBIND, m->stdev_id);
	cmd.sva_unbind.bond_id = bond_id;
	cmd.sva_unbind.flags = flags;
	err = mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
	if (err)
		return err;
	o->calls = cmd.sva_unbind.out_calls;
	o->users = cmd.sva_unbind.out_users;
	o->pasid = cmd.sva_unbind.out_pasid;
	o->flags = cmd.sva_unbind.out_flags;
	return 0;
}

/*
 * A paging hwpt on the IOAS that may be attached at a PASID (IOMMU_HWPT_ALLOC_PASID);
 * fault_id != 0 gives it that fault queue (IOMMU_FAULT_QUEUE_ALLOC's out_fault_id).
 */
static inline int mock_hwpt_alloc_pasid(struct mockdev *m, __u32 fault_id, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = IOMMU_HWPT_ALLOC_PASID,
		.dev_id = m->idev_id,
		.pt_id = m->ioas_id,
	};
	int err;

	if (fault_id) {
		a.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		a.fault_id = fault_id;
	}
	err = mock_ioctl(m->fd, IOMMU_HWPT_ALLOC, &a);
	if (!err)
		*hwpt_id = a.out_hwpt_id;
	return err;
}

/* op is IOMMU_TEST_OP_PASID_ATTACH, _REPLACE or _DETACH (hwpt_id unused by DETACH). */
static inline int mock_pasid_op(struct mockdev *m, __u32 op, __u32 pasid, __u32 hwpt_id)
{
	struct iommu_test_cmd cmd;

	mock_cmd_init(&cmd, op, m->stdev_id);
	cmd.pasid_attach.pasid = pasid;	/* same layout for replace and detach */
	cmd.pasid_attach.pt_id = hwpt_id;
	return mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
}

/* Whether iommufd has hwpt_id (0 = nothing) at the PASID: IOMMU_TEST_OP_PASID_CHECK_HWPT. */
static inline int mock_pasid_has_hwpt(struct mockdev *m, __u32 pasid, __u32 hwpt_id)
{
	struct iommu_test_cmd cmd;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_PASID_CHECK_HWPT, m->stdev_id);
	cmd.pasid_check.pasid = pasid;
	cmd.pasid_check.hwpt_id = hwpt_id;
	return mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd) == 0;
}

/* Moves the RID attachment to hwpt_id (must be PASID-compatible before PASID attaches). */
static inline int mock_rid_replace(struct mockdev *m, __u32 hwpt_id)
{
	struct iommu_test_cmd cmd;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, m->stdev_id);
	cmd.mock_domain_replace.pt_id = hwpt_id;
	return mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
}

/*
 * IOMMU_TEST_OP_TRIGGER_IOPF: the mock device reports a one-page request (last page of
 * group 1) for addr at pasid; perm is IOMMU_PGFAULT_PERM_*. The report runs
 * find_fault_handler() -> iommu_attach_handle_get() inside this ioctl.
 */
static inline int mock_trigger_iopf(struct mockdev *m, __u32 pasid, __u64 addr, __u32 perm)
{
	struct iommu_test_cmd cmd;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_TRIGGER_IOPF, 0);
	cmd.trigger_iopf.dev_id = m->idev_id;
	cmd.trigger_iopf.pasid = pasid;
	cmd.trigger_iopf.grpid = 1;
	cmd.trigger_iopf.perm = perm;
	cmd.trigger_iopf.addr = addr;
	return mock_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
}

/* A real PCI device for IOMMU_TEST_OP_SVA_BIND_PCI: segment (domain), bus, devfn. */
struct pci_addr {
	__u32 segment, bus, devfn;
};

struct pci_bind_out {
	__u32 pasid;		/* the PASID the bind got (it is unbound again at once) */
	__u32 max_pasids;	/* the device's own max_pasids (0: no PASID capability) */
	__u32 flags;		/* MOCK_SVA_PCI_HAS_GROUP */
};

/*
 * IOMMU_TEST_OP_SVA_BIND_PCI on any open /dev/iommu: iommu_sva_bind_device(&pdev->dev,
 * current->mm) through the device's real IOMMU driver, unbound again on success.
 * claim != 0: the device's max_pasids for the call; MOCK_SVA_PCI_QUERY in flags: no
 * bind, only o->max_pasids and o->flags. Returns 0 or the bind's -errno (-ENXIO: no
 * such device).
 */
static inline int mock_sva_bind_pci(int fd, const struct pci_addr *a, __u32 flags,
				    __u32 claim, struct pci_bind_out *o)
{
	struct iommu_test_cmd cmd;
	int err;

	mock_cmd_init(&cmd, IOMMU_TEST_OP_SVA_BIND_PCI, 0);
	cmd.sva_bind_pci.flags = flags;
	cmd.sva_bind_pci.segment = a->segment;
	cmd.sva_bind_pci.bus = a->bus;
	cmd.sva_bind_pci.devfn = a->devfn;
	cmd.sva_bind_pci.max_pasids = claim;
	err = mock_ioctl(fd, IOMMU_TEST_CMD, &cmd);
	if (err)
		return err;
	o->pasid = cmd.sva_bind_pci.out_pasid;
	o->max_pasids = cmd.sva_bind_pci.out_max_pasids;
	o->flags = cmd.sva_bind_pci.out_flags;
	return 0;
}

/* What a bond holder tells its parent: the bind's result and the PASID it got. */
struct holder_result {
	int rc;
	__u32 pasid;
};

/*
 * In a child: binds m with the child's mm, writes a holder_result to report_fd and, if the
 * bind succeeded, holds the bond until hold_fd reads EOF (the parent closes it; hold_fd < 0:
 * no wait), then unbinds. Exits 0, 1 if the unbind failed, 2 if the report could not be
 * written. (sva_narrow, sva_global)
 */
static inline void mock_sva_holder(struct mockdev *m, int report_fd, int hold_fd)
{
	struct holder_result r = { 0, PASID_INVALID };
	struct bind_out b = { 0 };
	struct unbind_out u;
	char c;

	r.rc = mock_sva_bind(m, 0, &b);
	if (!r.rc)
		r.pasid = b.pasid;
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	if (r.rc)
		_exit(0);
	while (hold_fd >= 0 && read(hold_fd, &c, 1) > 0)
		;
	_exit(mock_sva_unbind(m, b.bond_id, 0, &u) ? 1 : 0);
}

#endif /* SVA_LAB_MOCK_OPS_H */
