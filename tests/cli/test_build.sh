#!/bin/sh
# test_build.sh - TAP: what the Makefile promises about the build (issue 12 point 7): header
# dependencies, a BPF object without DWARF but with BTF, headers that compile alone, phony
# targets that have rules, sva-top installed once. Reads the build; builds nothing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
out=$top/.output
mk() { make -C "$top" --no-print-directory "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

tap_plan 7
[ -f "$out/sva_trace.bpf.o" ] && [ -f "$out/loader.o" ] || bail "build first: make all unit-tests"

readelf -S -W "$out/sva_trace.bpf.o" >"$work/sections" 2>&1
t "the BPF object keeps .BTF and .BTF.ext (CO-RE and the skeleton need them)" \
	sh -c "grep -q ' \.BTF ' '$work/sections' && grep -q ' \.BTF\.ext ' '$work/sections'"
t "the BPF object has no DWARF (.debug_* stripped)" sh -c "! grep -q '\.debug_' '$work/sections'"
# make -q -W FILE: would the target be remade if FILE were new? (exit 1: yes, 0: up to date)
t "-MMD: a changed header remakes what includes it (kernel.h -> loader.o)" \
	sh -c "! make -C '$top' --no-print-directory -q -W src/kernel.h .output/loader.o"
t "... and only that (kernel.h does not remake json_writer.o)" \
	make -C "$top" --no-print-directory -q -W src/kernel.h .output/json_writer.o
t "every header compiles on its own (make headers, one checked stamp per header, is up to date)" \
	make -C "$top" --no-print-directory -q headers
missing=
for p in $(mk -pnq all 2>/dev/null | sed -n 's/^\.PHONY: //p'); do
	mk -pnq all 2>/dev/null | grep -q "^$p:" || missing="$missing $p"
done
[ -z "$missing" ] && ok "every .PHONY target has a rule" || not_ok "every .PHONY target has a rule (none for:$missing)"
t "install lists sva-top once" \
	sh -c "[ \$(make -C '$top' --no-print-directory -n install DESTDIR=/nonexistent | grep -c 'sbin/sva-top\$') = 1 ]"
tap_done
