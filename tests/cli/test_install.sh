#!/bin/sh
# test_install.sh - TAP: make install honours PREFIX and DESTDIR and installs the man page.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM

tap_plan 6
make -C "$top" --no-print-directory install DESTDIR="$dest" PREFIX=/opt/sva >"$dest.log" 2>&1
t "make install DESTDIR=... PREFIX=/opt/sva succeeds" [ $? = 0 ]
t "the binary lands in DESTDIR/PREFIX/sbin, executable" [ -x "$dest/opt/sva/sbin/sva-trace" ]
t "the installed binary runs" sh -c "'$dest/opt/sva/sbin/sva-trace' --version | grep -q '^sva-trace '"
t "sva-trace(8) lands in DESTDIR/PREFIX/share/man/man8" \
	sh -c "[ -f '$dest/opt/sva/share/man/man8/sva-trace.8' ] && grep -q '^.TH SVA-TRACE 8' '$dest/opt/sva/share/man/man8/sva-trace.8'"
t "sva-top lands beside it and runs" sh -c "'$dest/opt/sva/sbin/sva-top' --help | grep -q 'USAGE: sva-top'"
t "sva-top(8) lands beside sva-trace(8)" grep -q '^.TH SVA-TOP 8' "$dest/opt/sva/share/man/man8/sva-top.8"
rm -f "$dest.log"
tap_done
