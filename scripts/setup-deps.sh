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

missing=""
for p in $PKGS; do
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
