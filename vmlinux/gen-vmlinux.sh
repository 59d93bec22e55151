#!/bin/sh
# gen-vmlinux.sh - generate vmlinux/{x86,arm64}/vmlinux.h from the BTF of Debian's 6.12
# cloud kernels, without booting them.
#
# Usage: vmlinux/gen-vmlinux.sh [x86|arm64 ...]         (default: both)
#        vmlinux/gen-vmlinux.sh extract-btf VMLINUZ OUT.btf
#
# How: fetch the kernel package (tests/vm/kernels.sh), decompress the vmlinuz to the raw
# kernel (x86 bzImage: the payload the setup header points at, decompressed with the
# tool its magic names; arm64: raw Image, or a gzip of it), cut the BTF blob out of it
# (scripts/btf-extract.c, compiled once into the cache), check that bpftool parses it,
# then `bpftool btf dump file BLOB format c`.
# Why Debian 6.12: it is the oldest packaged kernel with the 6.11+ SVA types
# (struct iommu_attach_handle); CO-RE relocations cover older and newer layouts.
# The arm64 header gets struct iommu_sva and iommu_mm_data from the x86 BTF (see gen()).
set -eu

prog=gen-vmlinux
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PATH=$PATH:/usr/sbin:/sbin   # Debian's bpftool lives in /usr/sbin
cache_root=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sva-trace}
STRUCTS="iommu_sva iommu_attach_handle iommu_domain iommu_group iommu_mm_data"

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2 (scripts/setup-deps.sh)" 2; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
hex() { od -An -tx1 -j "$2" -N"$3" "$1" | tr -d ' \n'; }

# Build the BTF cutter once per source version (keyed by the source's checksum).
btf_tool() {
	need gcc gcc
	src=$top/scripts/btf-extract.c
	sum=$(cksum <"$src" | cut -d' ' -f1)
	bin=$cache_root/tools/btf-extract-$sum
	if [ ! -x "$bin" ]; then
		mkdir -p "$cache_root/tools"
		gcc -O2 -Wall -Wextra -o "$bin.tmp.$$" "$src" || die "cannot compile $src" 2
		mv -f "$bin.tmp.$$" "$bin"
	fi
	echo "$bin"
}

# decompress the payload starting at byte OFF (0-based) of length LEN (or to the end) of $1,
# choosing the tool by the payload's magic; raw kernel on stdout.
unpack_at() {
	f=$1 off=$2 len=$3
	m=$(hex "$f" "$off" 6)
	slice() { if [ -n "$len" ]; then tail -c +"$((off + 1))" "$f" | head -c "$len"; else tail -c +"$((off + 1))" "$f"; fi; }
	case $m in
	28b52ffd*) need zstd zstd; slice | zstd -dc -q ;;
	fd377a585a00) need xz xz-utils; slice | xz -dc -q --single-stream ;;
	1f8b*) slice | gzip -dc -q ;;
	02214c18*) need lz4 lz4; slice | lz4 -dc -q ;;          # lz4 legacy frame (kernel style)
	5d0000*) need xz xz-utils; slice | xz -dc -q --format=lzma ;;
	*) die "unknown compression magic $m in $f at $off" ;;
	esac
}

# raw (decompressed) kernel image of the vmlinuz $1 -> file $2
decompress() {
	f=$1 out=$2
	if [ "$(hex "$f" 0 4)" = 7f454c46 ]; then        # already an ELF vmlinux
		cp "$f" "$out"
	elif [ "$(od -An -c -j 514 -N4 "$f" | tr -d ' ')" = HdrS ]; then
		# x86 bzImage: boot protocol >= 2.08 gives payload_offset/payload_length relative to
		# the protected-mode code, which starts after (setup_sects + 1) 512-byte sectors.
		# The payload ends with a 4-byte uncompressed-size trailer that decompressors
		# would reject as garbage; drop it.
		ss=$(od -An -tu1 -j 497 -N1 "$f" | tr -d ' ')
		[ "$ss" != 0 ] || ss=4
		po=$(u32 "$f" 584) pl=$(u32 "$f" 588)
		[ "$pl" -gt 4 ] || die "$f: bzImage without payload info (boot protocol < 2.08?)"
		unpack_at "$f" "$(( (ss + 1) * 512 + po ))" "$((pl - 4))" >"$out" ||
			die "cannot decompress the payload of $f"
	elif [ "$(od -An -c -j 56 -N4 "$f" | tr -d ' ')" = ARMd ]; then
		cp "$f" "$out"                                   # raw arm64 Image
	elif [ "$(hex "$f" 0 2)" = 1f8b ]; then
		gzip -dc "$f" >"$out" || die "cannot gunzip $f"   # arm64 Image.gz
	else
		die "$f: not a bzImage, arm64 Image(.gz) or ELF vmlinux"
	fi
}

# extract-btf VMLINUZ OUT: the kernel's BTF blob, verified by bpftool.
extract_btf() {
	need bpftool bpftool
	tool=$(btf_tool)
	tmpd=$(mktemp -d "${TMPDIR:-/tmp}/sva-btf.XXXXXX")
	decompress "$1" "$tmpd/vmlinux"
	"$tool" "$tmpd/vmlinux" "$tmpd/btf" >&2 || { rm -rf "$tmpd"; die "no BTF found in $1"; }
	if ! bpftool btf dump file "$tmpd/btf" >/dev/null; then
		rm -rf "$tmpd"; die "bpftool cannot parse the BTF cut from $1"
	fi
	mv -f "$tmpd/btf" "$2"
	rm -rf "$tmpd"
}

# blob_for ID: cached, verified BTF blob of kernel ID; sets KERNEL_* and $blob.
blob_for() {
	eval "$("$top/tests/vm/kernels.sh" --info "$1")" || die "cannot get kernel $1" 2
	mkdir -p "$cache_root/btf"
	blob=$cache_root/btf/${KERNEL_PKG}_$KERNEL_VERSION.btf
	[ -s "$blob" ] || extract_btf "$KERNEL_VMLINUZ" "$blob"
}

# print the definition "struct $2 { ... };" from the C dump $1 (empty if absent)
struct_def() { awk -v h="struct $2 {" '$0 == h { p = 1 } p { print } p && /^};$/ { exit }' "$1"; }

gen() {
	case $1 in
	x86) id=6.12 ;;
	arm64) id=6.12-arm64 ;;
	*) die "unknown arch '$1' (x86 or arm64)" 2 ;;
	esac
	blob_for "$id"
	out=$here/$1/vmlinux.h
	tmp=$out.tmp.$$
	mkdir -p "$here/$1"
	bpftool btf dump file "$blob" format c >"$tmp.body" || { rm -f "$tmp.body"; die "bpftool btf dump failed for $blob"; }

	# Debian's arm64 configs (every flavour, 6.12 and 7.2) lack ARM_SMMU_V3_SVA, hence
	# IOMMU_SVA, so BTF has no struct iommu_sva / iommu_mm_data there. Their layout is
	# arch-independent, so take them from the x86 BTF of the same kernel release; they are
	# placed inside the preserve_access_index region, so CO-RE still relocates every access
	# against the running kernel (which, on arm64, must have IOMMU_SVA for them to matter).
	grafted=
	for s in $STRUCTS; do
		grep -q "^struct $s {" "$tmp.body" && continue
		[ "$1" = arm64 ] || { rm -f "$tmp.body"; die "struct $s missing from the $1 BTF ($KERNEL_PKG)"; }
		if [ ! -s "$tmp.x86" ]; then   # subshell: keep this kernel's KERNEL_* and $blob
			(blob_for 6.12 && echo "$KERNEL_PKG $KERNEL_VERSION" >"$tmp.x86pkg" &&
				bpftool btf dump file "$blob" format c >"$tmp.x86") || { rm -f "$tmp".*; die "cannot dump the x86 BTF"; }
			x86_pkg=$(cat "$tmp.x86pkg")
		fi
		struct_def "$tmp.x86" "$s" | grep -q . || { rm -f "$tmp".*; die "struct $s is in neither BTF"; }
		{ echo "/* struct $s: from the x86 BTF ($x86_pkg): not in this kernel's BTF */"
		  struct_def "$tmp.x86" "$s"; echo; } >>"$tmp.graft"
		grafted="$grafted $s"
	done

	{
		echo "/* Generated by vmlinux/gen-vmlinux.sh - do not edit."
		echo " * Source: Debian package $KERNEL_PKG version $KERNEL_VERSION ($KERNEL_ARCH),"
		echo " *         file ${KERNEL_VMLINUZ#"$cache_root"/pkg/*/}, kernel $KERNEL_RELEASE."
		echo " * Command: vmlinux/gen-vmlinux.sh $1  (BTF cut from the vmlinuz by scripts/btf-extract.c, then"
		echo " *          bpftool btf dump file ${KERNEL_PKG}_$KERNEL_VERSION.btf format c"
		echo " *          with $(bpftool version 2>/dev/null | head -n 1))"
		[ -z "$grafted" ] || echo " * Added from the x86 BTF of $x86_pkg (this kernel has no IOMMU_SVA):$grafted"
		echo " */"
		if [ -n "$grafted" ]; then
			# insert before the closing "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX / #pragma pop"
			awk -v g="$tmp.graft" '
				{ line[NR] = $0 }
				$0 == "#pragma clang attribute pop" { pop = NR }
				END {
					for (i = 1; i <= NR; i++) {
						if (i == pop - 1) while ((getline l < g) > 0) print l
						print line[i]
					}
				}' "$tmp.body"
		else
			cat "$tmp.body"
		fi
	} >"$tmp" || { rm -f "$tmp" "$tmp".*; die "cannot write $tmp"; }
	rm -f "$tmp.body" "$tmp.x86" "$tmp.x86pkg" "$tmp.graft"
	for s in $STRUCTS; do
		grep -q "^struct $s {" "$tmp" || { rm -f "$tmp"; die "struct $s missing from $out"; }
	done
	# The header must compile for BPF and the structs must be complete types.
	if command -v clang >/dev/null 2>&1; then
		t="int sizes[] = {$(for s in $STRUCTS; do printf 'sizeof(struct %s), ' "$s"; done)};"
		if ! printf '%s\n' "$t" | clang -target bpf -fsyntax-only -include "$tmp" -x c - 2>"$tmp.err"; then
			cat "$tmp.err" >&2; rm -f "$tmp" "$tmp.err"; die "$out does not compile with clang -target bpf"
		fi
		rm -f "$tmp.err"
	fi
	mv -f "$tmp" "$out"
	echo "$prog: wrote $out ($(wc -c <"$out") bytes) from $KERNEL_PKG $KERNEL_VERSION${grafted:+ + x86 types:$grafted}" >&2
}

if [ "${1:-}" = extract-btf ]; then
	[ $# -eq 3 ] || die "usage: $prog extract-btf VMLINUZ OUT.btf" 2
	[ -f "$2" ] || die "'$2' not found" 2
	extract_btf "$2" "$3"
	exit 0
fi
[ $# -gt 0 ] || set -- x86 arm64
for a in "$@"; do gen "$a"; done
