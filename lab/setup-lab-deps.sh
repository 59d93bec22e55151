#!/bin/sh
# setup-lab-deps.sh - install the Debian packages needed to build the lab kernel
# (lab/build-lab-kernel.sh) and its guest programs, on a fresh Debian 12.
# Idempotent: only packages that are not installed yet are given to apt-get.
# (Kept apart from scripts/setup-deps.sh so the two lists can be merged by hand.)
set -eu

# Kernel build: make gcc flex bison bc libssl-dev libelf-dev (objtool), dwarves (pahole,
# for DEBUG_INFO_BTF), cpio + xz-utils (source tarball, kheaders), rsync (headers_install),
# patch, perl, python3 (a few kernel build helpers), libc6-dev.
# Guest programs and runs: libcap-dev (the kernel's own iommufd selftests link -lcap),
# busybox-static and qemu-system-x86 (tests/vm/), debian-archive-keyring (debian-pkg.sh).
PKGS="make gcc libc6-dev flex bison bc libssl-dev libelf-dev dwarves cpio xz-utils rsync
patch perl python3 libcap-dev busybox-static qemu-system-x86 debian-archive-keyring"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "setup-lab-deps: missing Debian packages:$missing" >&2
	echo "setup-lab-deps: run this script as root (or: sudo apt-get install$missing)" >&2
	exit 2
fi
echo "setup-lab-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
