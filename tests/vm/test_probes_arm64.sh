#!/bin/sh
# test_probes_arm64.sh - TAP: test_probes.sh's checks on Debian's arm64 6.12 and 7.2 cloud
# kernels in qemu-system-aarch64 (-M virt,iommu=smmuv3 -cpu max, TCG), one boot each, with the
# cross-built static sva-trace (make ARCH=arm64). Usage: test_probes_arm64.sh [KERNEL_ID...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- 6.12-arm64 7.2-arm64
exec "$here/test_probes.sh" "$@"
