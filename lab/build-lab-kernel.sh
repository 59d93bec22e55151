#!/bin/sh
# build-lab-kernel.sh - build the sva-trace lab kernel: Debian's linux-source-7.2 +
# lab/kernel/mock-sva.patch (SVA support for the iommufd selftest mock IOMMU) + a config
# fragment on top of tinyconfig: lab/kernel/lab.config for x86_64 (bzImage),
# lab/kernel/lab-arm64.config for arm64 (Image, cross-built with aarch64-linux-gnu-gcc).
#
# Usage: lab/build-lab-kernel.sh [--arch x86_64|arm64] [--force] [--jobs N] [--source-version VER]
#   Prints the path of the kernel image on stdout; progress and the total time on stderr.
#   --arch            x86_64 (default) or arm64
#   --force           rebuild even when the cached kernel exists
#   --jobs N          make -jN (default: nproc)
#   --source-version  use this version of linux-source-7.2 (default: the newest the
#                     archive has; once downloaded it is cached, see debian-pkg.sh)
#
# Output (cache): ${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sva-trace}/lab/KEY/
#   bzImage | Image the kernel (x86_64 | arm64)
#   include/        make headers_install output (linux/iommufd.h, ...) plus
#                   include/iommufd_test.h (the patched test-op ABI): build guest
#                   programs with  gcc -static -I DIR/include  (arm64:
#                   aarch64-linux-gnu-gcc -static -I DIR/include)
#   config          the kernel .config; System.map; vmlinux.btf (raw .BTF section)
#   BUILD-INFO      inputs of KEY, build time; build.log  the make output
# KEY is a hash of the source package version, the fragment, mock-sva.patch and this
# script (and the architecture, for arm64): any change rebuilds, an unchanged set is never rebuilt. The build runs in a
# temporary directory next to the result, which is renamed into place at the end
# (atomic; concurrent runs for the same KEY wait for each other).
#
# Environment: LAB_KERNEL_WORKTREE=DIR keeps the kernel tree in DIR between builds,
# so that a changed patch rebuilds incrementally (about a minute for selftest.c)
# instead of from scratch (one directory per architecture); LAB_KERNEL_VERBOSE=1 shows the make output on stderr.
# Needs the packages of scripts/setup-deps.sh. Exit: 0 ok, 1 build failed, 2 usage or
# environment error.
set -eu

prog=build-lab-kernel
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
self=$here/$(basename "$0")
kpatch=$here/kernel/mock-sva.patch
srcpkg=linux-source-7.2

arch=x86_64 force=0 jobs='' srcver=''
while [ $# -gt 0 ]; do
	case $1 in
	--arch) [ $# -ge 2 ] || die "--arch needs a value" 2; arch=$2; shift 2 ;;
	--arch=*) arch=${1#--arch=}; shift ;;
	--force) force=1; shift ;;
	--jobs) [ $# -ge 2 ] || die "--jobs needs a value" 2; jobs=$2; shift 2 ;;
	--jobs=*) jobs=${1#--jobs=}; shift ;;
	--source-version) [ $# -ge 2 ] || die "--source-version needs a value" 2; srcver=$2; shift 2 ;;
	--source-version=*) srcver=${1#--source-version=}; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" 2 ;;
	esac
done
[ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
case $jobs in ''|*[!0-9]*|0) die "--jobs must be a positive number" 2 ;; esac
# Per architecture: fragment, make variables, image target and file, cross tools.
case $arch in
x86_64|amd64)
	arch=x86_64 fragment=$here/kernel/lab.config cross='' kmake_arch=x86_64
	image=bzImage image_src=arch/x86/boot/bzImage ;;
arm64|aarch64)
	arch=arm64 fragment=$here/kernel/lab-arm64.config cross=aarch64-linux-gnu- kmake_arch=arm64
	image=Image image_src=arch/arm64/boot/Image ;;
*) die "unsupported --arch '$arch' (x86_64 or arm64)" 2 ;;
esac

start=$(date +%s)
elapsed() {
	t=$(( $(date +%s) - start ))
	printf '%dm %02ds' $((t / 60)) $((t % 60))
}

[ -f "$fragment" ] || die "$fragment missing" 2
[ -f "$kpatch" ] || die "$kpatch missing" 2
[ "$(uname -m)" = x86_64 ] || die "builds on an x86_64 host only (arm64 is cross-built)" 2
for t in make gcc flex bison bc pahole patch tar xz rsync cpio perl sha256sum flock readelf \
	"${cross}gcc" "${cross}objcopy"; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found: run scripts/setup-deps.sh (as root)" 2
done

cache_root=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sva-trace}
labc=$cache_root/lab
mkdir -p "$labc" || die "cannot create $labc" 2

# --- the source package (downloaded once, then cached by debian-pkg.sh) ---------------
say "locating $srcpkg${srcver:+ $srcver} ..."
pkgdir=$(sh "$repo/scripts/debian-pkg.sh" extract "$srcpkg${srcver:+=$srcver}") ||
	die "cannot get $srcpkg (scripts/debian-pkg.sh failed)" 2
ver=$(awk '{ print $2; exit }' "$pkgdir/.sva-trace-pkg" 2>/dev/null) || ver=
[ -n "$ver" ] || die "no version recorded in $pkgdir/.sva-trace-pkg" 2
tarball=$pkgdir/usr/src/$srcpkg.tar.xz
[ -f "$tarball" ] || die "$tarball missing in the unpacked package" 2

# --- cache key ---------------------------------------------------------------------------
sum() { sha256sum "$1" | cut -d' ' -f1; }
inputs=$(printf '%s %s\n%s %s\nmock-sva.patch %s\nbuild-lab-kernel.sh %s\n' \
	"$srcpkg" "$ver" "$(basename "$fragment")" "$(sum "$fragment")" "$(sum "$kpatch")" "$(sum "$self")")
[ "$arch" = x86_64 ] || inputs=$(printf 'arch %s\n%s\n' "$arch" "$inputs")
key=$(printf '%s\n' "$inputs" | sha256sum | cut -c1-16)
out=$labc/$key

if [ "$force" = 0 ] && [ -s "$out/$image" ]; then
	say "cached: $srcpkg $ver, key $key (total $(elapsed))"
	echo "$out/$image"
	exit 0
fi

# One build per key at a time; a waiter finds the finished result.
exec 8>"$labc/.lock-$key"
flock 8 || die "cannot lock $labc/.lock-$key" 2
if [ "$force" = 0 ] && [ -s "$out/$image" ]; then
	say "built meanwhile by another run: key $key (total $(elapsed))"
	echo "$out/$image"
	exit 0
fi

tmp=$(mktemp -d "$labc/.build-$key.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
stage=$tmp/out
mkdir -p "$stage"
log=$stage/build.log
: >"$log"

# Runs a command with its output in the build log (and on stderr when verbose);
# on failure shows the end of the log.
run() {
	what=$1; shift
	say "$what ($(elapsed))"
	echo "### $what: $*" >>"$log"
	if [ "${LAB_KERNEL_VERBOSE:-0}" = 1 ]; then
		# POSIX sh has no pipefail: keep the command's status in a file.
		{ "$@" 2>&1; echo $? >"$tmp/rc"; } | tee -a "$log" >&2
		rc=$(cat "$tmp/rc")
	else
		rc=0; "$@" >>"$log" 2>&1 || rc=$?
	fi
	if [ "$rc" != 0 ]; then
		tail -n 60 "$log" >&2
		die "$what failed (exit $rc); full log above is the end of $log" 1
	fi
}

extract_tree() {   # $1 = destination directory (must not exist)
	mkdir -p "$1.x"
	tar -xJf "$tarball" -C "$1.x" || { rm -rf "$1.x"; die "cannot unpack $tarball" 1; }
	if ! mv "$1.x/$srcpkg" "$1" || ! rmdir "$1.x"; then
		die "unexpected layout of $tarball" 1
	fi
}

# --- kernel tree -------------------------------------------------------------------------
wt=${LAB_KERNEL_WORKTREE:-}
if [ -n "$wt" ]; then
	# Persistent tree: same source version -> undo the previously applied patch and
	# apply the new one; make then rebuilds only what changed.
	tree=$wt
	if [ -d "$tree" ] && [ "$(cat "$tree/.lab-source" 2>/dev/null)" != "$srcpkg $ver $arch" ]; then
		say "work tree $tree is not $srcpkg $ver for $arch: replacing it"
		rm -rf "$tree"
	fi
	if [ ! -d "$tree" ]; then
		say "unpacking $srcpkg $ver into $tree ($(elapsed))"
		mkdir -p "$(dirname "$tree")"
		extract_tree "$tree"
		echo "$srcpkg $ver $arch" >"$tree/.lab-source"
	fi
	if [ -f "$tree/.lab-applied.patch" ]; then
		if cmp -s "$tree/.lab-applied.patch" "$kpatch"; then
			say "patch already applied in the work tree"
		else
			run "reverting the previously applied patch" patch -d "$tree" -p1 -R --batch -i "$tree/.lab-applied.patch"
			rm -f "$tree/.lab-applied.patch"
		fi
	fi
	if [ ! -f "$tree/.lab-applied.patch" ]; then
		run "applying mock-sva.patch" patch -d "$tree" -p1 --forward --batch -i "$kpatch"
		cp "$kpatch" "$tree/.lab-applied.patch"
	fi
else
	tree=$tmp/linux
	say "unpacking $srcpkg $ver ($(elapsed))"
	extract_tree "$tree"
	run "applying mock-sva.patch" patch -d "$tree" -p1 --forward --batch -i "$kpatch"
fi

# --- configuration -----------------------------------------------------------------------
mk() { make -C "$tree" ARCH="$kmake_arch" ${cross:+CROSS_COMPILE="$cross"} "$@"; }
run "make tinyconfig" mk tinyconfig
# shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
run "merging $(basename "$fragment")" sh -c 'cd "$1" && scripts/kconfig/merge_config.sh -m .config "$2"' sh "$tree" "$fragment"
run "make olddefconfig" mk olddefconfig

# Every symbol of the fragment must have come out as written (olddefconfig silently
# drops what has unmet dependencies).
bad=$(awk '
	FNR == NR {
		if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) { n = $0; sub(/=.*/, "", n); want[n] = $0 }
		else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) { n = $2; want[n] = "" }
		next
	}
	/^CONFIG_[A-Za-z0-9_]+=/ { n = $0; sub(/=.*/, "", n); have[n] = $0 }
	END {
		for (n in want) {
			h = (n in have) ? have[n] : ""
			if (h != want[n]) printf "  %s: wanted \"%s\", got \"%s\"\n", n, want[n] == "" ? "not set" : want[n], h == "" ? "not set" : h
		}
	}' "$fragment" "$tree/.config")
if [ -n "$bad" ]; then
	echo "$bad" >&2
	die "the kernel configuration does not have what $(basename "$fragment") asks for (see above)" 1
fi
say "configuration verified: $(grep -c '^CONFIG_' "$fragment") symbols of $(basename "$fragment") as requested"

# --- build -------------------------------------------------------------------------------
case $arch in
x86_64) took='about 10 minutes' ;;
arm64) took='about 20 minutes' ;;
esac
run "make -j$jobs $image ($arch, this takes $took on 2 cores)" mk -j"$jobs" "$image"
run "make headers_install" mk headers_install INSTALL_HDR_PATH="$stage"

readelf -S "$tree/vmlinux" | grep -q '[[:space:]]\.BTF[[:space:]]' ||
	die "vmlinux has no .BTF section (pahole too old or DEBUG_INFO_BTF off?)" 1
${cross}objcopy -O binary --only-section=.BTF "$tree/vmlinux" "$stage/vmlinux.btf" ||
	die "cannot extract .BTF from vmlinux" 1
chmod 644 "$stage/vmlinux.btf"
cp "$tree/$image_src" "$stage/$image"
cp "$tree/.config" "$stage/config"
cp "$tree/System.map" "$stage/System.map"
cp "$tree/drivers/iommu/iommufd/iommufd_test.h" "$stage/include/iommufd_test.h"
grep -q IOMMU_TEST_OP_SVA_BIND "$stage/include/iommufd_test.h" ||
	die "the installed iommufd_test.h lacks the lab test ops (patch not applied?)" 1
{
	echo "key $key"
	printf '%s\n' "$inputs"
	echo "kernel $(mk -s kernelrelease 2>/dev/null || echo '?') $arch"
	echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with make -j$jobs in $(elapsed)"
} >"$stage/BUILD-INFO"

# --- publish atomically ------------------------------------------------------------------
if [ -e "$out" ]; then
	mv "$out" "$tmp/old"    # --force, or a leftover without the image
fi
mv -T "$stage" "$out" || die "cannot move the result to $out" 1
say "built $srcpkg $ver + lab patch for $arch: $out (total $(elapsed))"
echo "$out/$image"
