#!/bin/sh
# mkinitramfs.sh - build the tiny initramfs that every QEMU test boots.
#
# Usage: mkinitramfs.sh [--arch x86_64|arm64] [--busybox PATH] OUT.cpio.gz RUN.SH [FILE|SRC:/DEST ...]
#   RUN.SH        guest script, installed as /run.sh and run by /init with busybox sh
#   FILE          copied to /bin/BASENAME (e.g. a static test binary)
#   SRC:/DEST     copied to /DEST (DEST ending in / means "into that directory");
#                 SRC may be a directory (copied recursively)
#   --arch arm64  use busybox-static for arm64 from Debian (scripts/debian-pkg.sh)
#   --busybox P   use this static busybox instead of the host's /bin/busybox
#
# /init prints SVA_VM_INIT (for run-vm.sh: the kernel got as far as init), mounts proc,
# sysfs, devtmpfs, tmpfs /tmp, tracefs, debugfs and bpffs, runs
# /run.sh with output on the console, prints the marker line SVA_VM_EXIT=<rc> (parsed
# by run-vm.sh) and powers off. The archive is deterministic: sorted entries, owner 0:0,
# mtime 0, gzip -n.
set -eu

prog=mkinitramfs
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
here=$(cd "$(dirname "$0")" && pwd)

arch=x86_64
busybox=
while [ $# -gt 0 ]; do
	case $1 in
	--arch) [ $# -ge 2 ] || die "--arch needs a value" 2; arch=$2; shift 2 ;;
	--busybox) [ $# -ge 2 ] || die "--busybox needs a path" 2; busybox=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 0 ;;
	-*) die "unknown option $1" 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "usage: $prog [--arch x86_64|arm64] [--busybox PATH] OUT.cpio.gz RUN.SH [FILE|SRC:/DEST ...]" 2
out=$1; run=$2; shift 2
[ -f "$run" ] || die "guest script '$run' not found" 2
for t in cpio gzip find sort; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (run scripts/setup-deps.sh)" 2
done

if [ -z "$busybox" ]; then
	case $arch in
	x86_64|amd64) busybox=/bin/busybox
		[ -x "$busybox" ] || die "/bin/busybox missing: install busybox-static (scripts/setup-deps.sh)" 2 ;;
	arm64|aarch64)
		d=$(sh "$here/../../scripts/debian-pkg.sh" --arch arm64 extract busybox-static) ||
			die "cannot get busybox-static for arm64" 2
		busybox=$d/bin/busybox   # bookworm layout; sid's is merged-/usr
		[ -f "$busybox" ] || busybox=$d/usr/bin/busybox ;;
	*) die "unsupported --arch '$arch'" 2 ;;
	esac
fi
[ -f "$busybox" ] || die "busybox '$busybox' not found" 2
# A dynamically linked busybox (Debian's plain 'busybox' package) cannot run in the
# library-less guest; catch that here rather than as a kernel panic.
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "$busybox is dynamically linked; install busybox-static" 2
fi

umask 022
stage=$(mktemp -d "${TMPDIR:-/tmp}/sva-initramfs.XXXXXX")
tmp=
trap 'rm -rf "$stage"; [ -z "$tmp" ] || rm -f "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" "$stage/dev" \
	"$stage/proc" "$stage/sys" "$stage/tmp" "$stage/run" "$stage/root" "$stage/etc"
cp "$busybox" "$stage/bin/busybox"
chmod 755 "$stage/bin/busybox"
cp "$run" "$stage/run.sh"
chmod 755 "$stage/run.sh"

# The applet links are made at boot (busybox --install -s): the arm64 busybox cannot
# run on the build host to list its applets, and it costs the guest only milliseconds.
cat >"$stage/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root SVA_VM=1
mnt() { mkdir -p "$3"; mount -t "$1" "$2" "$3" 2>/dev/null || echo "init: cannot mount $1 on $3" >&2; }
mnt proc proc /proc
mnt sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mnt devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo SVA_VM_INIT
mnt tmpfs tmpfs /tmp
mnt tracefs tracefs /sys/kernel/tracing
mnt debugfs debugfs /sys/kernel/debug
mnt bpf bpf /sys/fs/bpf
cd /
sh /run.sh
rc=$?
echo
echo "SVA_VM_EXIT=$rc"
sync
poweroff -f
# Only reached if poweroff failed: exiting init panics, and panic=-1 ends QEMU.
sleep 1
exit "$rc"
EOF
chmod 755 "$stage/init"

for a in "$@"; do
	case $a in
	*:/*) src=${a%:/*}; dest=/${a##*:/} ;;
	*) src=$a; dest=/bin/ ;;
	esac
	[ -e "$src" ] || die "input '$src' not found" 2
	case $dest in */) mkdir -p "$stage$dest"; dest=$dest$(basename "$src") ;; esac
	mkdir -p "$stage$(dirname "$dest")"
	cp -R -L "$src" "$stage$dest"   # -L: follow symlinks so no dangling host links
done

# Determinism: fixed mtimes, sorted names, numeric owner 0:0, no gzip name/timestamp.
find "$stage" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -3 >"$tmp" ||
	{ rm -f "$tmp"; die "cpio/gzip failed"; }
mv -f "$tmp" "$out"
