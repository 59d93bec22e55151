#!/bin/sh
# debian-pkg.sh - download and unpack Debian packages (kernels, busybox, ...) for the
# QEMU tests, through a private apt configuration.
#
# Why private: the tests need kernels from suites the machine's apt sources do not name
# (bookworm-backports, trixie, sid) and arm64 packages, and must not change the system's
# apt state. All apt state (sources list, lists, caches, status) lives under the cache
# root; only the mirror URIs are taken from the system's sources, at run time.
#
# Usage: debian-pkg.sh [--arch amd64|arm64] COMMAND ARGS
#   fetch PKG[=VER]   download the newest (or given) .deb of PKG into the cache, print its path
#   extract PKG[=VER] unpack it (dpkg-deb -x) into a cache dir keyed by name+version, print the dir
#   newest ERE        print "NAME VERSION" of the newest package whose whole name matches ERE
#   update            refresh the private package lists now
#   apt-get|apt-cache ARGS  run that apt tool with the private configuration (debugging)
#
# Cache root: $SVA_TRACE_CACHE, else $XDG_CACHE_HOME/sva-trace, else ~/.cache/sva-trace.
# Lists are refreshed at most once per run, and only when something is not cached
# (no lists yet, the mirror changed, or a package/version is not in the lists or can no
# longer be downloaded). Once a package is cached this works offline.
# Exit codes: 0 ok, 1 package not found or download failed, 2 environment error.
set -eu

prog=debian-pkg
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }

arch=amd64
while [ $# -gt 0 ]; do
	case $1 in
	--arch) [ $# -ge 2 ] || die "--arch needs a value" 2; arch=$2; shift 2 ;;
	--arch=*) arch=${1#--arch=}; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1" 2 ;;
	*) break ;;
	esac
done
case $arch in amd64|arm64) ;; *) die "unsupported --arch '$arch' (amd64 or arm64)" 2 ;; esac
[ $# -ge 1 ] || die "usage: $prog [--arch amd64|arm64] fetch|extract|newest|update ARGS" 2
cmd=$1; shift

for t in apt-get apt-cache dpkg dpkg-deb flock; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (this needs a Debian system)" 2
done

cache_root=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sva-trace}
aptd=$cache_root/apt/$arch          # private apt state for this architecture
debs=$cache_root/debs               # downloaded .deb files
pkgs=$cache_root/pkg                # unpacked packages
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
etc_apt=${SVA_TRACE_APT_ETC:-/etc/apt}   # overridable only to test the sources parsing

# --- mirror URIs from the system's sources ------------------------------------------
# Prints "main URI" and "security URI" lines (either may be missing). deb822 stanzas
# (*.sources) and one-line entries (sources.list, *.list) are both understood; the first
# 'deb' entry naming suite bookworm (resp. bookworm-security) wins.
system_uris() {
	for f in "$etc_apt"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = "" }
		{
			n = split($0, line, "\n"); uri = ""; suites = ""; types = ""; enabled = "yes"
			for (i = 1; i <= n; i++) {
				l = line[i]
				if (l ~ /^[ \t]*#/) continue
				k = tolower(l); sub(/:.*/, "", k); v = l; sub(/^[^:]*:[ \t]*/, "", v)
				if (k == "uris") { split(v, u, /[ \t]+/); uri = u[1] }
				else if (k == "suites") suites = " " v " "
				else if (k == "types") types = " " v " "
				else if (k == "enabled") enabled = tolower(v)
			}
			if (uri == "" || types !~ /[ \t]deb[ \t]/ || enabled == "no") next
			if (suites ~ /[ \t]bookworm[ \t]/) print "main", uri
			if (suites ~ /[ \t]bookworm-security[ \t]/) print "security", uri
		}' "$f"
	done
	for f in "$etc_apt"/sources.list "$etc_apt"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '{ sub(/#.*/, "") }
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			uri = $i; suite = $(i + 1)
			if (suite == "bookworm") print "main", uri
			if (suite == "bookworm-security" || suite == "bookworm/updates") print "security", uri
		}' "$f"
	done
}

mirror_uris() {
	uris=$(system_uris)
	main_uri=$(printf '%s\n' "$uris" | awk '$1 == "main" { print $2; exit }')
	sec_uri=$(printf '%s\n' "$uris" | awk '$1 == "security" { print $2; exit }')
	[ -n "$main_uri" ] || die "no 'deb' source for suite bookworm in $etc_apt/sources.list{,.d/} (need the Debian mirror URI)" 2
	if [ -z "$sec_uri" ]; then
		# Debian mirrors publish the security archive next to the main one.
		sec_uri=${main_uri%/}-security
		say "no bookworm-security source found; assuming $sec_uri"
	fi
}

# --- private apt configuration -----------------------------------------------------
# Atomically replace $1 with stdin when the content differs (keeps mtimes stable).
write_if_changed() {
	tmp=$1.tmp.$$
	cat >"$tmp"
	if cmp -s "$tmp" "$1" 2>/dev/null; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

setup_apt() {
	[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)" 2
	mirror_uris
	mkdir -p "$aptd/lists/partial" "$aptd/cache/archives/partial" "$aptd/preferences.d" "$debs" "$pkgs" ||
		die "cannot create cache directories under $cache_root" 2
	[ -f "$aptd/status" ] || : >"$aptd/status"   # empty dpkg status: nothing "installed"
	o="[arch=$arch signed-by=$keyring]"
	write_if_changed "$aptd/sources.list" <<EOF
# generated by $prog; URIs taken from the system's apt sources
deb $o $main_uri bookworm main
deb $o $sec_uri bookworm-security main
deb $o $main_uri bookworm-backports main
deb $o $main_uri trixie main
deb $o $main_uri sid main
EOF
	# Loaded with -c on top of the system configuration (so proxies etc. still apply):
	# drop the system's update hooks (PackageKit, appstream) and the index targets we
	# do not need, so an update of our lists does nothing outside the cache root.
	write_if_changed "$aptd/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
EOF
	# One apt user of this private state at a time (parallel test runs share the cache).
	exec 9>"$aptd/lock"
	flock -w 1800 9 || die "timed out waiting for the lock $aptd/lock" 2
}

papt() {
	tool=$1; shift
	"$tool" -c "$aptd/apt.conf" \
		-o Dir::Etc::sourcelist="$aptd/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::Etc::preferences="$aptd/preferences" -o Dir::Etc::preferencesparts="$aptd/preferences.d" \
		-o Dir::State::Lists="$aptd/lists" -o Dir::State::status="$aptd/status" \
		-o Dir::Cache="$aptd/cache" -o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=srcpkgcache.bin \
		-o APT::Architecture="$arch" -o APT::Architectures="$arch" \
		-o APT::Sandbox::User=root \
		"$@"
}

# Temp dirs live next to their final place (same filesystem: rename is atomic) and are
# removed if the run is interrupted.
tmpd=
trap '[ -z "$tmpd" ] || rm -rf "$tmpd"' EXIT
trap 'exit 130' INT TERM HUP

updated=0
do_update() {
	[ "$updated" = 0 ] || return 0
	updated=1
	say "updating private package lists ($arch) ..."
	log=$aptd/update.log
	if ! papt apt-get -q update >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get update of the private lists failed (network? see above)" 2
	fi
	# apt-get update exits 0 when single suites fail; show those, do not stop for them.
	grep -E '^(W|E|Err):' "$log" >&2 || true
	cp "$aptd/sources.list" "$aptd/lists/.sources.stamp"
}

# Lists must exist and be for the current sources (the mirror may have changed).
ensure_lists() {
	cmp -s "$aptd/sources.list" "$aptd/lists/.sources.stamp" 2>/dev/null || do_update
}

# "NAME VERSION" of the newest package whose whole name matches the ERE $1, or nothing.
# Ties in version go to the alphabetically first name, so the choice is deterministic.
newest_match() {
	names=$(papt apt-cache pkgnames 2>/dev/null | grep -E "^($1)\$" | LC_ALL=C sort -u) || true
	[ -n "$names" ] || return 0
	# shellcheck disable=SC2086
	papt apt-cache show $names 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' | LC_ALL=C sort -u -k1,1 -k2,2 |
		{
			bn=; bv=
			while read -r n v; do
				if [ -z "$bv" ] || dpkg --compare-versions "$v" gt "$bv"; then bn=$n; bv=$v; fi
			done
			[ -z "$bn" ] || echo "$bn $bv"
		}
}

# Resolve "PKG" or "PKG=VER" into $pkg and $ver (newest version when not given).
resolve() {
	pkg=${1%%=*}; ver=
	case $1 in *=*) ver=${1#*=} ;; esac
	case $pkg in ''|*[!a-z0-9.+-]*) die "invalid package name '$pkg'" 2 ;; esac
	pattern=$(printf '%s' "$pkg" | sed 's/[.+]/\\&/g')
	nv=$(newest_match "$pattern")
	[ -n "$nv" ] || return 1
	[ -n "$ver" ] || ver=${nv#* }
}

deb_path() { echo "$debs/${pkg}_$(echo "$ver" | sed 's/:/%3a/g')_$arch.deb"; }

# Download $pkg=$ver unless cached; sets $deb.
download() {
	deb=$(deb_path)
	[ -s "$deb" ] && return 0
	tmpd=$(mktemp -d "$debs/.dl.XXXXXX")
	# apt-get download writes into the current directory: a private temp dir, then one
	# rename, so an interrupted download never leaves a partial .deb under its final name.
	if (cd "$tmpd" && papt apt-get -q download "$pkg=$ver" >&2); then
		set -- "$tmpd"/*.deb
		if [ $# -eq 1 ] && [ -f "$1" ] && dpkg-deb --info "$1" >/dev/null 2>&1; then
			mv -f "$1" "$deb"; rmdir "$tmpd"; tmpd=; return 0
		fi
	fi
	rm -rf "$tmpd"; tmpd=
	return 1
}

fetch() {
	setup_apt
	# An explicit version that is cached needs neither lists nor network.
	case $1 in *=*) pkg=${1%%=*}; ver=${1#*=}; deb=$(deb_path); [ -s "$deb" ] && return 0 ;; esac
	ensure_lists
	if ! resolve "$1"; then
		# Not in our lists: maybe they are older than the package (or version) asked for.
		do_update
		resolve "$1" || die "package '$1' not found in bookworm{,-security,-backports}, trixie or sid ($arch)"
	fi
	# A cached .deb needs no network even when the lists are out of date.
	deb=$(deb_path)
	[ -s "$deb" ] && return 0
	say "downloading $pkg $ver ($arch)"
	download && return 0
	# The mirror may have dropped that version since our lists were fetched.
	if [ "$updated" = 0 ]; then
		do_update
		case $1 in *=*) ;; *) resolve "$1" || die "package '$1' vanished from the archive" ;; esac
		download && return 0
	fi
	die "failed to download $pkg=$ver ($arch)"
}

extract() {
	fetch "$1"
	dir=$pkgs/${pkg}_$(echo "$ver" | sed 's/:/%3a/g')_$arch
	if [ ! -d "$dir" ]; then
		tmpd=$(mktemp -d "$pkgs/.x.XXXXXX")
		dpkg-deb -x "$deb" "$tmpd" || die "dpkg-deb -x $deb failed"
		printf '%s %s %s\n' "$pkg" "$ver" "$arch" >"$tmpd/.sva-trace-pkg"  # who this came from
		# A concurrent run may have won the race; its copy is identical.
		mv -T "$tmpd" "$dir" 2>/dev/null || rm -rf "$tmpd"
		tmpd=
	fi
}

case $cmd in
fetch) [ $# -eq 1 ] || die "usage: $prog fetch PKG[=VER]" 2; fetch "$1"; echo "$deb" ;;
extract) [ $# -eq 1 ] || die "usage: $prog extract PKG[=VER]" 2; extract "$1"; echo "$dir" ;;
newest)
	[ $# -eq 1 ] || die "usage: $prog newest ERE" 2
	setup_apt; ensure_lists
	nv=$(newest_match "$1")
	[ -n "$nv" ] || { do_update; nv=$(newest_match "$1"); }
	[ -n "$nv" ] || die "no package name matches ^($1)\$ ($arch)"
	echo "$nv" ;;
update) setup_apt; do_update ;;
apt-get|apt-cache) setup_apt; papt "$cmd" "$@" ;;
*) die "unknown command '$cmd' (fetch, extract, newest, update, apt-get, apt-cache)" 2 ;;
esac
