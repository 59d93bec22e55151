#!/bin/sh
# demo.sh - the main job on a machine without SVA hardware (make demo): boot the lab kernel
# (lab/: the kernel's real SVA core with a mock IOMMU and device) in QEMU and run a short
# story under sva-trace: binds and unbinds, a PASID reused, I/O page faults, a PASID held by
# a paging domain (type mismatch), then two driver bugs (a bond
# left bound at release, a reference taken twice and dropped once), showing the live log
# and the findings as they appear. The first run builds the lab kernel (about 10 minutes).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$top/.output/static/sva-trace
[ -x "$bin" ] || { echo "demo: $bin is missing: run 'make STATIC=1'" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
echo "demo: getting the lab kernel (built once, then cached; the first build takes ~10 min)" >&2
kernel=$("$top/lab/build-lab-kernel.sh")
gcc -static -O2 -Wall -I "$(dirname "$kernel")/include" -o "$work/sva_smoke" \
	"$top/lab/guest/sva_smoke.c"
cat >"$work/run.sh" <<'GUEST'
#!/bin/sh
echo
echo "== guest kernel $(uname -r): the lab kernel, with a mock SVA device"
sva-trace --check
echo
echo "== sva-trace --leak-grace 1 -- sva_smoke basic reuse iopf mismatch leak extra"
echo "   (the story's own narration goes to stderr, prefixed 'sva_smoke:')"
sva-trace --leak-grace 1 --fail-on leak -- sva_smoke basic reuse iopf mismatch leak extra 2>&1
echo "== sva-trace exited $? (1: --fail-on leak found a leak)"
GUEST
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_smoke" >/dev/null
echo "demo: booting the lab kernel under QEMU/TCG, about 30 s" >&2
"$here/run-vm.sh" --timeout 300 --kernel "$kernel" --initrd "$work/initrd.gz" |
	sed -n '/^== guest/,/^SVA_VM_EXIT=/p' | grep -v '^SVA_VM_EXIT='
