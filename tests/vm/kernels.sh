#!/bin/sh
# kernels.sh - map a test kernel id to a Debian kernel package, fetch and unpack it
# (cached, see scripts/debian-pkg.sh) and print the path of its vmlinuz.
#
# Usage: kernels.sh ID          print the vmlinuz path
#        kernels.sh --info ID   print KERNEL_* shell assignments (id, package, version,
#                               arch, release, vmlinuz) - the record of what was chosen
#        kernels.sh --list      print the known ids
#
# Ids (the newest matching package in the private lists wins, so the choice only moves
# when the lists are refreshed with `scripts/debian-pkg.sh update`):
#   6.1         linux-image-6.1.0-N-cloud-amd64              bookworm(-security): pre-6.2 SVA API
#   6.12        linux-image-6.12.N+deb12-cloud-amd64-unsigned bookworm-backports/-security
#   7.2         linux-binary-7.2.N+debN-cloud-amd64           sid (linux-image-* is a meta package
#                                                            there; image in usr/lib/modules/)
#   6.12-arm64  linux-image-6.12.N+deb12-cloud-arm64-unsigned  (no IOMMU_SVA: no Debian arm64
#               kernel config, 6.12 or 7.2, enables ARM_SMMU_V3_SVA; ARM_SMMU_V3 is built in)
#   7.2-arm64   linux-binary-7.2.N+debN-cloud-arm64           sid, like 7.2
# The record is also kept in $SVA_TRACE_CACHE/kernels/ID.env for tests to source/print.
set -eu

prog=kernels
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
here=$(cd "$(dirname "$0")" && pwd)
debpkg=$here/../../scripts/debian-pkg.sh
cache_root=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sva-trace}

ids="6.1 6.12 7.2 6.12-arm64 7.2-arm64"
# id -> "DEB_ARCH PACKAGE-NAME-ERE"
spec() {
	case $1 in
	6.1) echo 'amd64 linux-image-6\.1\.0-[0-9]+-cloud-amd64' ;;
	6.12) echo 'amd64 linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned' ;;
	7.2) echo 'amd64 linux-binary-7\.2\.[0-9]+\+deb[0-9]+-cloud-amd64' ;;
	6.12-arm64) echo 'arm64 linux-image-6\.12\.[0-9]+\+deb12-cloud-arm64-unsigned' ;;
	7.2-arm64) echo 'arm64 linux-binary-7\.2\.[0-9]+\+deb[0-9]+-cloud-arm64' ;;
	*) return 1 ;;
	esac
}

mode=path
case ${1:-} in
--list) echo "$ids" | tr ' ' '\n'; exit 0 ;;
--info) mode=info; shift ;;
-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 0 ;;
esac
[ $# -eq 1 ] || die "usage: $prog [--info] ID   (ids: $ids)" 2
id=$1
s=$(spec "$id") || die "unknown kernel id '$id' (known: $ids)" 2
arch=${s%% *}; ere=${s#* }

pick_and_extract() {
	nv=$(sh "$debpkg" --arch "$arch" newest "$ere") || return 1
	pkg=${nv% *}; ver=${nv#* }
	dir=$(sh "$debpkg" --arch "$arch" extract "$pkg=$ver")
}
# A failed extract may have refreshed stale lists (the mirror dropped that ABI), in which
# case picking again finds the package that replaced it.
pick_and_extract || { echo "$prog: retrying with refreshed lists" >&2; pick_and_extract; } ||
	die "cannot get a kernel package for '$id'"

# Debian puts the image in boot/ (linux-image-*) or usr/lib/modules/REL/ (linux-binary-*).
set -- "$dir"/boot/vmlinuz-* "$dir"/usr/lib/modules/*/vmlinuz
img=
for f in "$@"; do [ -f "$f" ] && { [ -z "$img" ] || die "several images in $dir: $img $f"; img=$f; }; done
[ -n "$img" ] || die "no vmlinuz in $pkg $ver ($dir)"
case $img in
*/boot/vmlinuz-*) rel=${img##*/vmlinuz-} ;;
*) rel=$(basename "$(dirname "$img")") ;;
esac

mkdir -p "$cache_root/kernels"
rec=$cache_root/kernels/$id.env
cat >"$rec.tmp.$$" <<EOF
KERNEL_ID='$id'
KERNEL_PKG='$pkg'
KERNEL_VERSION='$ver'
KERNEL_ARCH='$arch'
KERNEL_RELEASE='$rel'
KERNEL_VMLINUZ='$img'
EOF
mv -f "$rec.tmp.$$" "$rec"

if [ "$mode" = info ]; then cat "$rec"; else echo "$img"; fi
