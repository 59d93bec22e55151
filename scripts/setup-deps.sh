#!/bin/sh
# Install every Debian package sva-trace needs to build and test, on a fresh Debian 12.
# Idempotent: packages already present are not touched, and apt is only asked when one is missing.
set -eu

PKGS="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
libyajl-dev libncurses-dev libsodium-dev perl ca-certificates
qemu-system-x86 qemu-system-arm busybox-static cpio gzip xz-utils zstd lz4 debian-archive-keyring
jq python3 python3-jsonschema libclang-rt-14-dev tmux
libc6-dev flex bison bc libssl-dev dwarves rsync patch libcap-dev bpftrace
libmicrohttpd-dev curl prometheus"
# make ARCH=arm64: Debian's cross compiler, and the arm64 builds of the libraries sva-trace
# links statically, installed beside the host's through dpkg multiarch (every one of them is
# Multi-Arch: same). busybox-static for the arm64 guests is not installed: it cannot share a
# system with the host's, so the tests unpack it (scripts/debian-pkg.sh --arch arm64).
CROSS_ARCH=arm64
CROSS_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libc6-dev:arm64 libbpf-dev:arm64
libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64 libsodium-dev:arm64 libyajl-dev:arm64
libcap-dev:arm64 libncurses-dev:arm64"

missing=""
for p in $PKGS $CROSS_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "setup-deps: missing Debian packages:$missing" >&2
	echo "setup-deps: run this script as root (or: sudo apt-get install$missing)" >&2
	exit 2
fi
echo "setup-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The :arm64 packages need dpkg to accept that architecture (and apt to fetch its lists).
case "$missing" in *":$CROSS_ARCH"*)
	if ! { dpkg --print-architecture; dpkg --print-foreign-architectures; } | grep -qx "$CROSS_ARCH"; then
		echo "setup-deps: dpkg --add-architecture $CROSS_ARCH (for make ARCH=$CROSS_ARCH)" >&2
		dpkg --add-architecture "$CROSS_ARCH"
	fi ;;
esac
apt-get update -qq
# Debian's prometheus package is here for promtool and for the tests, which run the server
# themselves (own port, config and storage). Its postinst would start and enable the
# prometheus service: a policy-rc.d that denies every start (invoke-rc.d and, on systemd,
# deb-systemd-invoke ask it) keeps it from starting, unless the machine has one already.
policy=/usr/sbin/policy-rc.d
own_policy=0
case " $missing " in *" prometheus "*)
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# setup-deps.sh: no service starts during this install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
	fi ;;
esac
rc=0
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ "$own_policy" = 0 ] || rm -f "$policy"
[ "$rc" = 0 ] || exit "$rc"
case " $missing " in *" prometheus "*)
	# ... and not at the next boot either.
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable prometheus.service >/dev/null 2>&1 || :
	fi ;;
esac
