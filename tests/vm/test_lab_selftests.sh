#!/bin/sh
# test_lab_selftests.sh - TAP: the kernel's own iommufd selftest
# (tools/testing/selftests/iommu/iommufd.c of the lab kernel's linux-source-7.2) run in the
# lab guest twice in one boot, first alone, then under the CI assert mode
#   sva-trace --json --fail-on leak,refcount,cross-mm -- iommufd
# Asserts: sva-trace exits with the selftest's own exit code (the selftest may fail on its
# own: hugepage, auto-IOVA and access_domain_destory tests need more than the lab config),
# no leak/refcount/cross-mm finding, the selftest really exercised the traced functions
# (attach, detach and look-ups seen), and tracing changed nothing (same exit code, same
# pass/fail/skip counts and the same failing tests with and without sva-trace).
#
# The selftest sources (only tools/testing/selftests/iommu, kselftest*.h and
# drivers/iommu/iommufd/iommufd_test.h) are extracted from the same linux-source-7.2 version
# the lab kernel was built from (its BUILD-INFO) and cached under
# ${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/sva-trace}/lab-selftests/VERSION/; the
# binary is built static against the lab kernel's include/ (headers_install) each run (~4 s).
#
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1),
# libcap-dev (static libcap.a).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=$top/.output/static/sva-trace
cache=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sva-trace}/lab-selftests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

total=6
tap_plan $total
check() { # check DESCRIPTION CONDITION...
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# --- build ---------------------------------------------------------------------------------
[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
if ! kernel=$("$top/lab/build-lab-kernel.sh" 2>"$work/build.err"); then
	tail -n 20 "$work/build.err" | sed 's/^/# /'
	bail "the lab kernel could not be built"
fi
kdir=$(dirname "$kernel")
inc=$kdir/include
srcpkg=linux-source-7.2
ver=$(awk -v p="$srcpkg" '$1 == p { print $2; exit }' "$kdir/BUILD-INFO" 2>/dev/null)
[ -n "$ver" ] || bail "no $srcpkg version in $kdir/BUILD-INFO"
src=$cache/$ver
sel=tools/testing/selftests
if [ ! -f "$src/$sel/iommu/iommufd.c" ]; then
	pkgdir=$(sh "$top/scripts/debian-pkg.sh" extract "$srcpkg=$ver" 2>"$work/pkg.err") || {
		sed 's/^/# /' "$work/pkg.err"; bail "cannot get $srcpkg $ver (scripts/debian-pkg.sh)"; }
	mkdir -p "$cache" || bail "cannot create $cache"
	tmp=$(mktemp -d "$cache/.x.XXXXXX") || bail "cannot create a temp dir in $cache"
	if tar -xJf "$pkgdir/usr/src/$srcpkg.tar.xz" -C "$tmp" --strip-components=1 --wildcards \
		"*/$sel/iommu/*" "*/$sel/kselftest*.h" '*/drivers/iommu/iommufd/iommufd_test.h' \
		2>"$work/tar.err" && [ -f "$tmp/$sel/iommu/iommufd.c" ]; then
		# atomic publish; a concurrent run may have won, then ours goes
		mv -T "$tmp" "$src" 2>/dev/null || rm -rf "$tmp"
	else
		sed 's/^/# /' "$work/tar.err"; rm -rf "$tmp"
		bail "cannot extract the iommufd selftest from $srcpkg $ver"
	fi
fi
if gcc -static -O2 -Wall -Wno-unused-function -D_GNU_SOURCE -I "$src/$sel" -I "$inc" \
	-o "$work/iommufd" "$src/$sel/iommu/iommufd.c" -lcap 2>"$work/cc.err"; then
	ok "iommufd selftest of $srcpkg $ver built static against the lab kernel (key $(basename "$kdir"))"
else
	tail -n 30 "$work/cc.err" | sed 's/^/# /'
	bail "the iommufd selftest does not build (libcap-dev installed?)"
fi

# --- one boot: the selftest alone, then under sva-trace -----------------------------------
cat >"$work/run.sh" <<'EOF'
#!/bin/sh
echo
timeout 240 iommufd >/tmp/plain.out 2>&1
echo "RC plain $?"
sva-trace --json --fail-on leak,refcount,cross-mm -- \
	sh -c 'timeout 240 iommufd >/tmp/traced.out 2>&1; rc=$?; echo $rc >/tmp/traced.rc; exit $rc' \
	>/tmp/st.jsonl 2>/tmp/st.err
echo "RC sva-trace $?"
echo "RC traced $(cat /tmp/traced.rc)"
sed 's/^/P /' /tmp/plain.out
sed 's/^/T /' /tmp/traced.out
sed 's/^/J /' /tmp/st.jsonl
sed 's/^/E /' /tmp/st.err
EOF
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/iommufd" >/dev/null
rc=0
"$here/run-vm.sh" --timeout 400 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
sed -n 's/^P //p' "$work/log" >"$work/plain.out"
sed -n 's/^T //p' "$work/log" >"$work/traced.out"
sed -n 's/^J //p' "$work/log" | grep '^{' >"$work/st.jsonl"
rc_plain=$(sed -n 's/^RC plain //p' "$work/log")
rc_st=$(sed -n 's/^RC sva-trace //p' "$work/log")
rc_traced=$(sed -n 's/^RC traced //p' "$work/log")
# "# Totals: pass:212 fail:29 xfail:0 xpass:0 skip:5 error:0" -> "212 29 5"
totals() { sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .*skip:\([0-9]*\).*/\1 \2 \3/p' "$1"; }
tot_plain=$(totals "$work/plain.out")
tot_traced=$(totals "$work/traced.out")
echo "# guest rc $rc; selftest exit: alone '$rc_plain', under sva-trace '$rc_traced'; sva-trace exit '$rc_st'"
echo "# selftest pass/fail/skip: alone '$tot_plain', under sva-trace '$tot_traced'"
if [ $rc = 0 ] && [ -n "$tot_plain" ] && [ -n "$tot_traced" ]; then
	ok "the guest ran the selftest alone and under sva-trace to the end"
else
	not_ok "the guest ran the selftest alone and under sva-trace to the end (guest rc $rc)"
	grep -v '^[PTJ] ' "$work/log" | tail -n 30 | sed 's/^/# /'
fi

if [ -n "$rc_plain" ] && [ "$rc_st" = "$rc_plain" ] && [ "$rc_traced" = "$rc_plain" ]; then
	ok "sva-trace exited with the selftest's own exit code ($rc_plain)"
else
	not_ok "sva-trace exited with the selftest's own exit code (alone '$rc_plain', traced '$rc_traced', sva-trace '$rc_st')"
fi

summary=$(jq -c 'select(.type == "summary")' "$work/st.jsonl" 2>/dev/null | tail -n 1)
if [ -n "$summary" ]; then
	echo "$summary" | jq -r '"# sva-trace: \(.events) events, by type \(.by_type | tostring), lost \(.lost), outstanding \(.outstanding | length)",
		"# findings \(.findings | tostring)",
		"# look-up counts: handle \([.lookups[].handle] | add // 0), enoent \([.lookups[].enoent] | add // 0), ebusy \([.lookups[].ebusy] | add // 0), other \([.lookups[].other] | add // 0) over \(.lookups | length) group/pasid pairs"'
else
	echo "# no summary record from sva-trace"
	sed -n 's/^E /# stderr: /p' "$work/log" | tail -n 20
fi
find=$(echo "$summary" | jq -r '"\(.findings.leak) \(.findings.refcount) \(.findings["cross-mm"])"' 2>/dev/null)
check "no leak, refcount or cross-mm finding (leak refcount cross-mm: '$find')" test "$find" = "0 0 0"
exercised=$(echo "$summary" | jq '.by_type.attach > 0 and .by_type.detach > 0 and
	(.by_type.lookup + ([.lookups[] | .handle + .enoent + .ebusy + .other] | add // 0)) > 0' 2>/dev/null)
check "the selftest exercised the traced functions (attach, detach and look-ups seen)" \
	test "$exercised" = true

notok() { sed -n 's/^not ok [0-9]* //p' "$1"; }
if [ -n "$tot_plain" ] && [ "$tot_plain" = "$tot_traced" ] && [ "${tot_plain%% *}" -gt 0 ] &&
	[ "$(notok "$work/plain.out")" = "$(notok "$work/traced.out")" ]; then
	ok "tracing changed nothing: same pass/fail/skip ($tot_plain) and the same failing tests"
else
	not_ok "tracing changed nothing: same pass/fail/skip (alone '$tot_plain', traced '$tot_traced') and the same failing tests"
	notok "$work/plain.out" >"$work/nok.plain"; notok "$work/traced.out" >"$work/nok.traced"
	diff "$work/nok.plain" "$work/nok.traced" | sed 's/^/# /'
fi
echo "# failing selftests (known: need hugepages or more kernel config): $(notok "$work/plain.out" | wc -l)"
notok "$work/plain.out" | sed 's/^/#   /'
[ "$failed" = 0 ]
