# fixtures.sh - builds the procfs/sysfs trees `sva-trace doctor --root DIR` reads in
# tests/cli/test_doctor.sh. Sourced (POSIX sh); each case_NAME DIR builds one machine.
#
# The VT-d register values of the QEMU cases are the ones QEMU 7.2 shows a 7.2 guest
# (tests/vm/test_doctor_vm.sh boots them): legacy ecap f00f4a, x-scalable-mode=on
# ecap 480080f00f4a, plus x-pasid-mode=on ecap 490080f00f4a, cap d2008c22260206 in all.
# The "hardware" values (SVA-capable VT-d, AMD-Vi) are built from the bit definitions of
# 7.2 drivers/iommu/intel/iommu.h and amd/amd_iommu_types.h, not read from a machine.

# fx_file ROOT PATH CONTENT
fx_file() {
	mkdir -p "$1$(dirname "$2")"
	printf '%s\n' "$3" >"$1$2"
}

# fx_kernel ROOT RELEASE ARCH PROC_VERSION CMDLINE
fx_kernel() {
	fx_file "$1" /proc/sys/kernel/osrelease "$2"
	fx_file "$1" /proc/sys/kernel/arch "$3"
	fx_file "$1" /proc/version "$4"
	fx_file "$1" /proc/cmdline "$5"
	mkdir -p "$1/sys/class/iommu" "$1/sys/kernel/iommu_groups" "$1/sys/bus/pci/devices"
}

# fx_cpuinfo ROOT FLAGS...
fx_cpuinfo() {
	r=$1; shift
	fx_file "$r" /proc/cpuinfo "processor	: 0
vendor_id	: GenuineIntel
flags		: fpu vme $*
"
}

# fx_kallsyms ROOT FUNC...: text symbols (addresses hidden, as an unprivileged reader sees them)
fx_kallsyms() {
	r=$1; shift
	mkdir -p "$r/proc"
	{ for s in schedule "$@"; do echo "0000000000000000 T $s"; done
	  echo "0000000000000000 t idxd_probe	[idxd]"; } >"$r/proc/kallsyms"
}

# fx_config ROOT RELEASE OPTION...  (/boot/config-RELEASE; "X=n" is written "# X is not set")
fx_config() {
	r=$1 rel=$2; shift 2
	mkdir -p "$r/boot"
	for o in "$@"; do
		case $o in
		*=n) echo "# ${o%=n} is not set" ;;
		*) echo "$o" ;;
		esac
	done >"$r/boot/config-$rel"
}

# fx_dmar ROOT NAME VERSION CAP ECAP
fx_dmar() {
	d=$1/sys/devices/virtual/iommu/$2
	mkdir -p "$d/intel-iommu" "$d/devices"
	printf '%s\n' "$3" >"$d/intel-iommu/version"
	printf '%s\n' "$4" >"$d/intel-iommu/cap"
	printf '%s\n' "$5" >"$d/intel-iommu/ecap"
	ln -s "../../devices/virtual/iommu/$2" "$1/sys/class/iommu/$2"
}

# fx_ivhd ROOT NAME FEATURES
fx_ivhd() {
	d=$1/sys/devices/virtual/iommu/$2
	mkdir -p "$d/amd-iommu"
	printf '%s\n' "$3" >"$d/amd-iommu/features"
	printf '%s\n' 190b3 >"$d/amd-iommu/cap"
	ln -s "../../devices/virtual/iommu/$2" "$1/sys/class/iommu/$2"
}

# fx_group ROOT N TYPE
fx_group() {
	mkdir -p "$1/sys/kernel/iommu_groups/$2/devices"
	printf '%s\n' "$3" >"$1/sys/kernel/iommu_groups/$2/type"
}

# fx_pci ROOT BDF VENDOR DEVICE CLASS DRIVER GROUP IOMMU CFGSIZE [CAP...]
#   DRIVER/GROUP/IOMMU "-" for none; CFGSIZE 64, 256 or 4096;
#   CAP: pasid=WIDTH:ENABLED ats=ENABLED pri=ENABLED (extended capabilities from 0x100)
fx_pci() {
	r=$1 bdf=$2 ven=$3 dev=$4 cls=$5 drv=$6 grp=$7 mmu=$8 size=$9
	shift 9
	d=$r/sys/devices/pci0000:00/$bdf
	mkdir -p "$d"
	printf '0x%s\n' "$ven" >"$d/vendor"
	printf '0x%s\n' "$dev" >"$d/device"
	printf '0x%s\n' "$cls" >"$d/class"
	ln -s "../../../devices/pci0000:00/$bdf" "$r/sys/bus/pci/devices/$bdf"
	if [ "$drv" != - ]; then
		mkdir -p "$r/sys/bus/pci/drivers/$drv"
		ln -s "../../../bus/pci/drivers/$drv" "$d/driver"
	fi
	if [ "$grp" != - ]; then
		ln -s "../../../kernel/iommu_groups/$grp" "$d/iommu_group"
		ln -s "../../../../devices/pci0000:00/$bdf" "$r/sys/kernel/iommu_groups/$grp/devices/$bdf"
	fi
	[ "$mmu" = - ] || ln -s "../../virtual/iommu/$mmu" "$d/iommu"
	perl -e '
		my ($size, $ven, $dev, @caps) = @ARGV;
		my $b = "\0" x $size;
		substr($b, 0, 4) = pack("vv", hex $ven, hex $dev);
		my $pos = 0x100;
		for my $i (0 .. $#caps) {
			my ($name, $val) = split /=/, $caps[$i];
			my $next = $i < $#caps ? $pos + 0x10 : 0;
			my %id = (pasid => 0x1b, ats => 0x0f, pri => 0x13);
			substr($b, $pos, 4) = pack("V", $id{$name} | 1 << 16 | $next << 20);
			if ($name eq "pasid") {
				my ($w, $en) = split /:/, $val;
				substr($b, $pos + 4, 4) = pack("vv", $w << 8, $en ? 1 : 0);
			} elsif ($name eq "ats") {
				substr($b, $pos + 4, 4) = pack("vv", 0x20, $val ? 0x8000 : 0);
			} else {
				substr($b, $pos + 4, 4) = pack("vv", $val ? 1 : 0, 0);
				substr($b, $pos + 8, 4) = pack("V", 512);
			}
			$pos += 0x10;
		}
		print $b;' "$size" "$ven" "$dev" "$@" >"$d/config"
}

# The three emulated devices of a QEMU q35 guest that doctor sees (ICH9 functions: no
# PCIe extended config space), in groups as the VT-d driver makes them.
fx_q35_devices() { # ROOT IOMMU|-
	if [ "$2" = - ]; then
		fx_pci "$1" 0000:00:00.0 8086 29c0 060000 - - - 256
		fx_pci "$1" 0000:00:1f.2 8086 2922 010601 ahci - - 256
	else
		fx_group "$1" 0 DMA-FQ
		fx_group "$1" 2 DMA-FQ
		fx_pci "$1" 0000:00:00.0 8086 29c0 060000 - 0 "$2" 256
		fx_pci "$1" 0000:00:1f.2 8086 2922 010601 ahci 2 "$2" 256
		fx_pci "$1" 0000:00:1f.3 8086 2930 0c0500 - 2 "$2" 256
	fi
}

Q35_CAP=d2008c22260206
K72=7.2.13+deb14-cloud-amd64
V72="Linux version 7.2.13+deb14-cloud-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-15) #1 SMP PREEMPT_DYNAMIC Debian 7.2.13-1 (2026-10-20)"
# 7.2's SVA symbols (its BTF has them all; iommu_sva_invalidate_kva_range is the real fix)
SYMS72="iommu_sva_bind_device iommu_sva_unbind_device iommu_attach_handle_get mm_pasid_drop
iommu_sva_iopf_handler iommu_sva_invalidate_kva_range intel_svm_check intel_iommu_probe_device"

case_no_iommu() {
	fx_kernel "$1" "$K72" x86_64 "$V72" "console=ttyS0 quiet"
	fx_cpuinfo "$1" pdpe1gb la57
	fx_kallsyms "$1" $SYMS72
	fx_q35_devices "$1" -
}

case_vtd_legacy() {
	fx_kernel "$1" "$K72" x86_64 "$V72" "console=ttyS0 quiet intel_iommu=on"
	fx_cpuinfo "$1" pdpe1gb la57
	fx_kallsyms "$1" $SYMS72
	fx_dmar "$1" dmar0 1:0 $Q35_CAP f00f4a
	fx_q35_devices "$1" dmar0
}

case_vtd_scalable_nopasid() {
	fx_kernel "$1" "$K72" x86_64 "$V72" "console=ttyS0 quiet intel_iommu=on,sm_on"
	fx_cpuinfo "$1" pdpe1gb la57
	fx_kallsyms "$1" $SYMS72
	fx_dmar "$1" dmar0 1:0 $Q35_CAP 480080f00f4a
	fx_q35_devices "$1" dmar0
}

# QEMU's scalable+PASID unit (no SMPWC: not SVM-capable) in a kernel with a config
# that leaves scalable mode to the command line, which does not ask for it.
case_vtd_qemu_pasid() {
	fx_kernel "$1" "$K72" x86_64 "$V72" "console=ttyS0 quiet intel_iommu=on"
	fx_cpuinfo "$1" pdpe1gb la57
	fx_kallsyms "$1" $SYMS72
	fx_config "$1" "$K72" CONFIG_IOMMU_SVA=y CONFIG_INTEL_IOMMU=y CONFIG_INTEL_IOMMU_SVM=y \
		CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=n
	fx_dmar "$1" dmar0 1:0 $Q35_CAP 490080f00f4a
	fx_q35_devices "$1" dmar0
}

# An SVA-capable VT-d unit with a DSA (idxd, PASID+ATS, user PASID on, a shared wq) that
# can bind, a HiSilicon-style uacce device registered without SVA, and a PASID device
# whose PASID the driver did not enable.
case_vtd_sva() {
	r=$1
	fx_kernel "$r" "$K72" x86_64 "$V72" "console=ttyS0 intel_iommu=on,sm_on"
	fx_cpuinfo "$r" pdpe1gb la57
	fx_kallsyms "$r" $SYMS72
	fx_config "$r" "$K72" CONFIG_IOMMU_SVA=y CONFIG_INTEL_IOMMU=y CONFIG_INTEL_IOMMU_SVM=y \
		CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y
	fx_dmar "$r" dmar1 1:0 11d2008c22260206 1ed9824f00f4a
	fx_group "$r" 5 DMA
	fx_group "$r" 6 DMA
	fx_group "$r" 7 DMA-FQ
	fx_pci "$r" 0000:6a:01.0 8086 0b25 088000 idxd 5 dmar1 4096 pasid=20:1 ats=1
	fx_pci "$r" 0000:6b:00.0 19e5 a250 120000 hisi_zip 6 dmar1 4096 pasid=16:1 ats=1 pri=0
	fx_pci "$r" 0000:6c:00.0 8086 1234 120000 - 7 dmar1 4096 pasid=20:0 ats=0
	dsa=$r/sys/devices/pci0000:00/0000:6a:01.0/dsa0
	mkdir -p "$dsa/wq0.0" "$dsa/wq0.1" "$r/sys/bus/dsa/devices"
	echo 1 >"$dsa/pasid_enabled"
	echo shared >"$dsa/wq0.0/mode"; echo enabled >"$dsa/wq0.0/state"
	echo dedicated >"$dsa/wq0.1/mode"; echo disabled >"$dsa/wq0.1/state"
	ln -s ../../../devices/pci0000:00/0000:6a:01.0/dsa0 "$r/sys/bus/dsa/devices/dsa0"
	ln -s ../../../devices/pci0000:00/0000:6a:01.0/dsa0/wq0.0 "$r/sys/bus/dsa/devices/wq0.0"
	ln -s ../../../devices/pci0000:00/0000:6a:01.0/dsa0/wq0.1 "$r/sys/bus/dsa/devices/wq0.1"
	u=$r/sys/devices/pci0000:00/0000:6b:00.0/uacce/hisi_zip-0
	mkdir -p "$u" "$r/sys/class/uacce"
	echo 0 >"$u/flags"
	ln -s ../../../0000:6b:00.0 "$u/device"
	ln -s ../../devices/pci0000:00/0000:6b:00.0/uacce/hisi_zip-0 "$r/sys/class/uacce/hisi_zip-0"
}

# AMD-Vi with GT/PPR, an NPU (amdxdna) with PASID+ATS+PRI; 6.12.50 (before the backport),
# config read from /proc/config.gz; idxd-style user PASID state does not apply.
case_amd() {
	r=$1
	fx_kernel "$r" 6.12.50-amd64 x86_64 \
		"Linux version 6.12.50-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.50-1 (2025-10-01)" \
		"BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 iommu=pt"
	fx_cpuinfo "$r" pdpe1gb
	fx_kallsyms "$r" iommu_sva_bind_device iommu_attach_handle_get mm_pasid_drop \
		iommu_sva_iopf_handler amd_iommu_domain_alloc_sva
	printf '%s\n' CONFIG_IOMMU_SVA=y CONFIG_AMD_IOMMU=y | gzip -n >"$r/proc/config.gz"
	fx_ivhd "$r" ivhd0 5000f000003db:0
	fx_group "$r" 12 identity
	fx_pci "$r" 0000:c4:00.1 1022 17f0 118000 amdxdna 12 ivhd0 4096 pasid=16:1 ats=1 pri=1
}

# Debian 6.1: the release string hides the stable version, /proc/version has it (6.1.192,
# after 6.1.163, which took "iommu: disable SVA when CONFIG_X86 is set").
case_sva_disabled_61() {
	r=$1
	fx_kernel "$r" 6.1.0-56-amd64 x86_64 \
		"Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-20)" \
		"BOOT_IMAGE=/vmlinuz intel_iommu=on,sm_on"
	fx_cpuinfo "$r" pdpe1gb la57
	fx_kallsyms "$r" iommu_sva_bind_device iommu_sva_alloc_pasid intel_svm_check intel_svm_bind
	fx_dmar "$r" dmar1 1:0 11d2008c22260206 1ed9824f00f4a
	fx_group "$r" 5 DMA
	fx_pci "$r" 0000:6a:01.0 8086 0b25 088000 idxd 5 dmar1 4096 pasid=20:1 ats=1
}

# Debian 6.12.117 as its BTF shows it: the bind path is dead code (no
# iommu_sva_iopf_handler), no config readable.
case_sva_disabled_612() {
	r=$1
	fx_kernel "$r" 6.12.117+deb12-cloud-amd64 x86_64 \
		"Linux version 6.12.117+deb12-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1~deb12u1 (2026-11-01)" \
		"console=ttyS0 intel_iommu=on,sm_on"
	fx_cpuinfo "$r" pdpe1gb la57
	fx_kallsyms "$r" iommu_sva_bind_device iommu_sva_unbind_device iommu_attach_handle_get \
		mm_pasid_drop intel_svm_check
	fx_dmar "$r" dmar1 1:0 11d2008c22260206 1ed9824f00f4a
	fx_group "$r" 5 DMA
	fx_pci "$r" 0000:6a:01.0 8086 0b25 088000 idxd 5 dmar1 4096 pasid=20:1 ats=1
}

# The SVA-capable machine seen by an unprivileged user: config space is cut at 64 bytes
# (sysfs does that for non-root readers), the kernel config is root-only.
case_unprivileged() {
	case_vtd_sva "$1"
	chmod 0400 "$1/boot/config-$K72"
	for cfg in "$1"/sys/devices/pci0000:00/*/config; do
		head -c 64 "$cfg" >"$cfg.64" && mv "$cfg.64" "$cfg"
	done
}

DOCTOR_CASES="no_iommu vtd_legacy vtd_scalable_nopasid vtd_qemu_pasid vtd_sva amd
sva_disabled_61 sva_disabled_612 unprivileged"
