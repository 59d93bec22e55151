# lab-guest.sh - what the lab-VM tests need on the host side, sourced after tests/lib/tap.sh
# (needs $top and $work; failures bail):
#   lab_guest_build      the lab kernel (lab/build-lab-kernel.sh, cached) in $kernel and
#                        $work/sva_smoke built statically against its headers
#   lab_guest_cc NAME    $work/NAME from lab/guest/NAME.c the same way (e.g. sva_stress)
#   bpftool_guest_files  Debian's bpftool, which is dynamically linked, with its libraries:
#                        sets $bpftool_files to mkinitramfs.sh SRC:/DEST arguments
#   dynamic_guest_files BIN [NAME]  the same for any dynamically linked BIN, as /bin/NAME
#                        (e.g. the dynamic sva-trace: the static one has no --metrics
#                        endpoint): sets $dynamic_files
#   lab_initramfs OUT RUN.SH FILES...  mkinitramfs.sh for the lab architecture
#   lab_vm ARGS...       run-vm.sh for the lab architecture (ARGS: --timeout etc.)
#
# The architecture: SVA_LAB_ARCH=x86_64 (default) or arm64 (tests/vm/test_lab_arm64.sh).
# Sourcing sets lab_arch, lab_cc (the guest programs' compiler), bin (the static sva-trace
# of that architecture: make STATIC=1, or make ARCH=arm64) and lab_slow, the factor by
# which guest timeouts grow (arm64 is emulated about 3 times slower than x86 under TCG).
case ${SVA_LAB_ARCH:-x86_64} in
x86_64) lab_arch=x86_64 lab_cc=gcc lab_slow=1 bin=$top/.output/static/sva-trace
	lab_bin_how="make STATIC=1" ;;
arm64) lab_arch=arm64 lab_cc=aarch64-linux-gnu-gcc lab_slow=3 bin=$top/.output/arm64/static/sva-trace
	lab_bin_how="make ARCH=arm64" ;;
*) echo "lab-guest: SVA_LAB_ARCH must be x86_64 or arm64, not '$SVA_LAB_ARCH'" >&2; exit 2 ;;
esac
lab_initramfs() { "$top/tests/vm/mkinitramfs.sh" --arch "$lab_arch" "$@"; }
lab_vm() { "$top/tests/vm/run-vm.sh" --arch "$lab_arch" "$@"; }
# lab_kernel: the lab kernel of the architecture in $kernel, its headers in $inc (bails).
lab_kernel() {
	kernel=$("$top/lab/build-lab-kernel.sh" --arch "$lab_arch" 2>"$work/build.err") || {
		tail -n 20 "$work/build.err" | sed 's/^/# /'
		bail "the $lab_arch lab kernel could not be built"
	}
	inc=$(dirname "$kernel")/include
}

lab_guest_build() {
	lab_kernel
	$lab_cc -static -O2 -Wall -I "$inc" -o "$work/sva_smoke" \
		"$top/lab/guest/sva_smoke.c" 2>"$work/cc.err" || {
		sed 's/^/# /' "$work/cc.err"
		bail "sva_smoke does not build against the lab kernel's headers"
	}
}

# lab_guest_cc NAME: $work/NAME from lab/guest/NAME.c, static, against the lab kernel's
# headers (after lab_guest_build).
lab_guest_cc() {
	$lab_cc -static -O2 -Wall -pthread -I "$inc" -o "$work/$1" \
		"$top/lab/guest/$1.c" 2>"$work/cc.err" || {
		sed 's/^/# /' "$work/cc.err"
		bail "$1 does not build against the lab kernel's headers"
	}
}

bpftool_guest_files() {
	_bpftool=$(readlink -f /usr/sbin/bpftool)
	[ -x "$_bpftool" ] || bail "bpftool missing: run scripts/setup-deps.sh"
	dynamic_guest_files "$_bpftool" bpftool
	bpftool_files=$dynamic_files
}

dynamic_guest_files() {
	[ -x "$1" ] || bail "$1 missing"
	dynamic_files="$1:/bin/${2:-$(basename "$1")}"
	for _l in $(ldd "$1" | awk '/=>/ { print $3 } /ld-linux/ && !/=>/ { print $1 }'); do
		case $_l in
		*ld-linux*) dynamic_files="$dynamic_files $_l:/lib64/$(basename "$_l")" ;;
		*) dynamic_files="$dynamic_files $(readlink -f "$_l"):/lib/x86_64-linux-gnu/$(basename "$_l")" ;;
		esac
	done
}

# guest_failed LOG RC: the guest did not finish: show the kernel's report if it oopsed (from
# its first line), else the console's last lines, then bail. A copy of the whole console
# stays in ${SVA_TRACE_KEEP_LOGS:-/tmp}/sva-lab-console.<test>.<pid>.log for a closer look.
guest_failed() {
	_keep=${SVA_TRACE_KEEP_LOGS:-/tmp}/sva-lab-console.$(basename "$0" .sh).$$.log
	cp "$1" "$_keep" 2>/dev/null || _keep="(not kept)"
	if grep -q -E 'BUG:|Oops|general protection fault|kernel NULL pointer' "$1"; then
		sed -n '/BUG:\|Oops\|general protection fault\|kernel NULL pointer/,$p' "$1" | head -n 60 | sed 's/^/# /'
	else
		tail -n 30 "$1" | sed 's/^/# /'
	fi
	bail "the lab guest did not run (rc $2; console kept in $_keep)"
}

# Guest script lines for the sva_stress tests (test_lab_faults.sh, test_lab_stress.sh).
# stress_guest_head: the shebang, the CPU count, and gone(), which waits for every sva_stress
# process (forked children, CLONE_VM siblings, deferred unbinders) to end.
stress_guest_head() {
	echo '#!/bin/sh'
	echo 'echo'
	echo 'echo "CPUS $(grep -c ^processor /proc/cpuinfo)"'
	echo 'gone() { i=0; while [ $i -lt 200 ] && pidof sva_stress >/dev/null; do sleep 0.1; i=$((i + 1)); done; }'
}
# stress_guest_case CASE ARGS: the mock's counters before (C0) and after (C1) the case, the run
# of sva_stress ARGS under sva-trace in CI mode, its exit status (RC), records (J), stderr (E).
stress_guest_case() {
	echo "sva_stress counters | sed 's/^/C0 $1 /'"
	echo "timeout 90 sva-trace --json --leak-grace 1 --fail-on leak,refcount,cross-mm -- sva_stress $2 >/tmp/$1.jsonl 2>/tmp/$1.err"
	echo "echo \"RC $1 \$?\""
	echo 'gone'
	echo "sva_stress counters | sed 's/^/C1 $1 /'"
	echo "sed 's/^/J $1 /' /tmp/$1.jsonl"
	echo "sed 's/^/E $1 /' /tmp/$1.err"
}
# stress_guest_boot: the guest script in $work/run.sh, with $bin and $work/sva_stress, on 4 CPUs;
# its console goes to $work/log, and t0 is the boot's start.
stress_guest_boot() {
	lab_initramfs "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_stress" >/dev/null
	t0=$(date +%s)
	rc=0
	lab_vm --smp 4 --timeout $((300 * lab_slow)) --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
	[ $rc = 0 ] || guest_failed "$work/log" $rc
}
