// SPDX-License-Identifier: GPL-2.0
/*
 * sva_pci - SVA bind of this process on a real PCI device through its real IOMMU driver
 * (IOMMU_TEST_OP_SVA_BIND_PCI of the lab kernel), for tests/vm/test_lab_vtd.sh: Intel
 * VT-d on QEMU q35 with -device intel-iommu, and the same op on Arm SMMUv3.
 *
 *   sva_pci query SSSS:BB:DD.F               prints the device's own max_pasids and
 *                                            whether it is in an iommu group; no bind
 *   sva_pci bind SSSS:BB:DD.F CLAIM [EXPECT] one bind (unbound again if it succeeds);
 *                                            CLAIM != 0 is the max_pasids the device is
 *                                            given for the call (0: its own); EXPECT is
 *                                            ok or an errno name (ENOSPC, ENODEV, ...)
 *
 * One bind per process: the mm keeps the PASID a bind allocated (until it goes), and
 * a second bind of that mm would stop at another check (iommu_alloc_mm_data).
 * Prints one "sva_pci: ..." line; exit 0 when the result is EXPECT (or none was
 * given), 1 when not, 2 on bad arguments. Build: gcc -static -I LAB/include.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mock_ops.h"

static const struct {
	int err;
	const char *name;
} errnos[] = {
	{ ENODEV, "ENODEV" },	  { ENOSPC, "ENOSPC" }, { EINVAL, "EINVAL" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENXIO, "ENXIO" }, { EBUSY, "EBUSY" },
	{ ENOMEM, "ENOMEM" },	  { EOVERFLOW, "EOVERFLOW" }, { EPERM, "EPERM" },
	{ ENOTTY, "ENOTTY" },
};

static const char *errname(int err)
{
	static char buf[24];

	if (!err)
		return "ok";
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == -err)
			return errnos[i].name;
	snprintf(buf, sizeof(buf), "errno%d", -err);
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: sva_pci query SSSS:BB:DD.F | sva_pci bind SSSS:BB:DD.F CLAIM [EXPECT]\n");
	return 2;
}

/* SSSS:BB:DD.F, hexadecimal (segment 0-ffff, bus 0-ff, device 0-1f, function 0-7). */
static int parse_addr(const char *s, struct pci_addr *a)
{
	unsigned int seg, bus, dev, fn;
	char end;

	if (sscanf(s, "%4x:%2x:%2x.%1x%c", &seg, &bus, &dev, &fn, &end) != 4 || dev > 0x1f ||
	    fn > 7)
		return -1;
	a->segment = seg;
	a->bus = bus;
	a->devfn = dev << 3 | fn;
	return 0;
}

int main(int argc, char **argv)
{
	struct pci_bind_out o = { 0 };
	struct pci_addr a;
	unsigned long claim = 0;
	char *end;
	int fd, err;

	if (argc < 3 || parse_addr(argv[2], &a))
		return usage();
	if (!strcmp(argv[1], "bind")) {
		if (argc < 4 || argc > 5)
			return usage();
		errno = 0;
		claim = strtoul(argv[3], &end, 0);
		if (errno || *end || end == argv[3] || claim > 0xffffffffUL)
			return usage();
	} else if (strcmp(argv[1], "query") || argc != 3) {
		return usage();
	}
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("sva_pci: open /dev/iommu");
		return 1;
	}
	if (!strcmp(argv[1], "query")) {
		err = mock_sva_bind_pci(fd, &a, MOCK_SVA_PCI_QUERY, 0, &o);
		if (err) {
			printf("sva_pci: query %s: %s\n", argv[2], errname(err));
			return 1;
		}
		printf("sva_pci: query %s: max_pasids %u, iommu group %s\n", argv[2], o.max_pasids,
		       o.flags & MOCK_SVA_PCI_HAS_GROUP ? "yes" : "no");
		return 0;
	}
	err = mock_sva_bind_pci(fd, &a, 0, (__u32)claim, &o);
	if (err)
		printf("sva_pci: bind %s claim %lu: %s\n", argv[2], claim, errname(err));
	else
		printf("sva_pci: bind %s claim %lu: ok, PASID %u (unbound)\n", argv[2], claim,
		       o.pasid);
	close(fd);
	if (argc == 5 && strcmp(argv[4], errname(err))) {
		printf("sva_pci: expected %s\n", argv[4]);
		return 1;
	}
	return 0;
}
