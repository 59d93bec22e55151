#!/bin/sh
# demo.sh - the main job on a machine without SVA hardware: boot Debian's newest kernel
# (7.2) in QEMU and run sva-trace in it: which probes attach, how, then a short trace.
#
# Debian's kernel has no device that binds SVA, so the trace shows the probes working and
# no events; the lab kernel with a mock SVA device (issue 4) will replace this story.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$top/.output/static/sva-trace
kernel=${SVA_DEMO_KERNEL:-7.2}
[ -x "$bin" ] || { echo "demo: $bin is missing: run 'make STATIC=1'" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cat >"$work/run.sh" <<'GUEST'
#!/bin/sh
echo
echo "== guest kernel $(uname -r)"
echo "== sva-trace --check: which SVA/PASID functions this kernel has, and how each is traced"
sva-trace --check
echo "== sva-trace --check --probe-mode kprobe"
sva-trace --check --probe-mode kprobe
echo "== sva-trace -d 3 -v: stream events for 3 seconds (no SVA device here: no events)"
sva-trace -d 3 -v
GUEST
vmlinuz=$("$here/kernels.sh" "$kernel")
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" >/dev/null
echo "demo: booting $kernel ($vmlinuz) under QEMU/TCG, about 20 s" >&2
"$here/run-vm.sh" --timeout 180 --kernel "$vmlinuz" --initrd "$work/initrd.gz" |
	sed -n '/^== guest/,/^SVA_VM_EXIT=/p'
