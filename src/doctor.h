/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sva-trace doctor: reads the machine (procfs, sysfs, the kernel config, PCI config
 * space) and says, per PCI device, what stands between it and a working SVA bind.
 * Read-only; works unprivileged where the files allow. docs/doctor.md has the rules.
 */
#ifndef SVA_DOCTOR_H
#define SVA_DOCTOR_H

/* Version of the --json document (docs/doctor.md); bumped on incompatible changes. */
#define DOCTOR_FORMAT 1

/*
 * argv[0] is "doctor". Returns the exit code: 0 some device can bind SVA, 1 none can
 * (or it cannot be told), 2 usage or environment error.
 */
int doctor_main(int argc, char **argv);

#endif
