#!/bin/sh
# test_lab_arm64.sh - TAP: tests/vm/test_lab.sh on the arm64 lab kernel
# (lab/build-lab-kernel.sh --arch arm64) in qemu-system-aarch64 -M virt,iommu=smmuv3: the same
# scenarios under the CI assert mode with the same exact findings, bonds and event counts, then
# the filters, with the cross-built static sva-trace (make ARCH=arm64) and sva_smoke
# (aarch64-linux-gnu-gcc -static). Part of `make check-full`, not of `make check`: a cold
# build of the arm64 lab kernel does not fit in make check's time (README.md, "CI time").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SVA_LAB_ARCH=arm64
export SVA_LAB_ARCH
exec "$here/../vm/test_lab.sh" "$@"
