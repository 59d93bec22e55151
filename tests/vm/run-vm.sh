#!/bin/sh
# run-vm.sh - boot a kernel + initramfs (from mkinitramfs.sh) in QEMU, print the guest
# console on stdout and exit with the exit code of the guest's /run.sh.
#
# Usage: run-vm.sh [--arch x86_64|arm64] [--timeout SECS] [--mem MB] [--smp N]
#                  [--log FILE] [--retries N] [--nic SPEC] --kernel VMLINUZ --initrd CPIO.gz
#                  [--append EXTRA] [-- QEMU-ARGS...]
#   --timeout  per boot, default 120 s; --retries: extra boots when the kernel died before
#   /init started (default 1); --log: keep the console log there; --nic: QEMU's -nic SPEC
#   instead of none, e.g. user,model=e1000,hostfwd=tcp:127.0.0.1:PORT-:PORT (user networking:
#   the guest is 10.0.2.15/24, which the guest script sets up itself).
# Exit: the guest's rc (from the SVA_VM_EXIT=<rc> line /init prints), 124 on timeout
# (QEMU is killed), 125 when the guest ended without the marker (panic, crash), 2 for
# usage/environment errors.
#
# Always pure TCG emulation: KVM on the project's machines is present but broken (see
# LAB-NOTES.md), and single-threaded (see tcg_thread below). Timings inside the guest are
# emulated; compare only ratios.
set -eu

prog=run-vm
die() { echo "$prog: $1" >&2; exit "${2:-2}"; }

arch=x86_64 timeout=120 mem=1024 smp=2 kernel='' initrd='' append='' keeplog='' retries=1 nic=none
while [ $# -gt 0 ]; do
	case $1 in
	--arch|--timeout|--mem|--smp|--kernel|--initrd|--append|--log|--retries|--nic)
		[ $# -ge 2 ] || die "$1 needs a value"
		v=$2; o=${1#--}; shift 2
		case $o in
		arch) arch=$v ;; timeout) timeout=$v ;; mem) mem=$v ;; smp) smp=$v ;;
		kernel) kernel=$v ;; initrd) initrd=$v ;; append) append=$v ;; log) keeplog=$v ;;
		retries) retries=$v ;; nic) nic=$v ;;
		esac ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 0 ;;
	--) shift; break ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
{ [ -n "$kernel" ] && [ -n "$initrd" ]; } || die "usage: $prog [--arch x86_64|arm64] [--timeout SECS] --kernel VMLINUZ --initrd CPIO [--append EXTRA]"
[ -f "$kernel" ] || die "kernel '$kernel' not found"
[ -f "$initrd" ] || die "initrd '$initrd' not found"
case $timeout in ''|*[!0-9]*) die "--timeout must be whole seconds" ;; esac
case $retries in ''|*[!0-9]*) die "--retries must be a number" ;; esac
case $arch in
x86_64|amd64) qemu=qemu-system-x86_64 pkg=qemu-system-x86 console=ttyS0
	set -- -cpu max "$@" ;;
arm64|aarch64) qemu=qemu-system-aarch64 pkg=qemu-system-arm console=ttyAMA0
	# The virt board with QEMU's SMMUv3, the IOMMU that arm64 SVA runs on: Debian's arm64
	# kernels build its driver in, so the guest has a real arm-smmu-v3 instance.
	# pauth-impdef: pointer authentication stays on (the kernel signs every return address)
	# but with QEMU's cheap IMPDEF algorithm instead of emulating QARMA: measured, a 6.12
	# guest running sva-trace --check twice took 25 s instead of 52 s.
	set -- -M virt,iommu=smmuv3 -cpu max,pauth-impdef=on "$@" ;;
*) die "unsupported --arch '$arch' (x86_64 or arm64)" ;;
esac
command -v "$qemu" >/dev/null 2>&1 || die "$qemu not found: install $pkg (scripts/setup-deps.sh)"
command -v timeout >/dev/null 2>&1 || die "timeout(1) not found (coreutils)"

# One host thread runs all vCPUs in turn (thread=single). With one thread per vCPU (MTTCG) a
# vCPU can run a stale translation of code the kernel is live-patching on another vCPU: an
# "Oops: int3" at a traced function's first bytes when a probe was attached or detached while
# another vCPU ran it (seen in test_hardening_vm: sva-trace detaching during a bind burst), and
# once while booting. SVA_VM_TCG_THREAD=multi brings MTTCG back.
tcg_thread=${SVA_VM_TCG_THREAD:-single}
case $tcg_thread in single|multi) ;; *) die "SVA_VM_TCG_THREAD must be single or multi" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/sva-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
log=$work/console.log

# One boot; sets $qrc (QEMU's exit status, 124 = timed out).
# QEMU's status must survive the pipe (POSIX sh has no pipefail), hence the rc file.
# stdin is /dev/null so QEMU's -nographic never grabs the caller's terminal; sed -u
# strips the serial console's CRs and the firmware's terminal resets/escapes without
# holding lines back.
boot() {
	rm -f "$work/qemu.rc"
	{
		rc=0
		timeout -k 5 "$timeout" "$qemu" -accel "tcg,thread=$tcg_thread" "$@" -m "$mem" -smp "$smp" -nographic -no-reboot \
			-nic "$nic" -kernel "$kernel" -initrd "$initrd" \
			-append "console=$console quiet panic=-1${append:+ $append}" </dev/null 2>&1 || rc=$?
		echo "$rc" >"$work/qemu.rc"
	} | sed -u 's/\r//g; s/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$log"
	qrc=$(cat "$work/qemu.rc" 2>/dev/null || echo 1)
}

# A stock kernel under MTTCG very rarely oopsed while booting (seen once in ~40 boots of
# 7.2: int3 in code being live-patched on the other vCPU; see thread=single above). That is
# not the test's failure, so a boot that died before /init announced itself is retried.
tries=0
while :; do
	boot "$@"
	tries=$((tries + 1))
	case $qrc in 124|137) break ;; esac
	grep -q 'SVA_VM_INIT' "$log" && break
	[ "$tries" -le "$retries" ] || break
	echo "$prog: guest died before /init started (QEMU exit $qrc); booting again ($tries/$retries)" >&2
done

[ -z "$keeplog" ] || cp "$log" "$keeplog"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "$prog: TIMEOUT: guest still running after ${timeout}s; QEMU killed" >&2
	exit 124
fi
# The last marker wins; the guest's own output cannot end after /init's final line.
m=$(grep -o 'SVA_VM_EXIT=[0-9]*' "$log" | tail -n 1 | cut -d= -f2)
if [ -z "$m" ]; then
	echo "$prog: guest ended without the SVA_VM_EXIT marker (QEMU exit $qrc): kernel panic, init crash or QEMU error; see the console output above" >&2
	exit 125
fi
exit "$m"
