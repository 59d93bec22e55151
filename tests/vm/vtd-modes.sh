# shellcheck shell=sh disable=SC2034
# vtd-modes.sh - the Intel VT-d modes QEMU 7.2 emulates on q35, sourced by the VM tests that boot
# them (test_doctor_vm.sh, test_lab_vtd.sh). One mode name gives the QEMU arguments for
# run-vm.sh (after --) and the kernel command line (run-vm.sh --append):
#   none      q35, no IOMMU device
#   legacy    -device intel-iommu                                   intel_iommu=on
#   scalable  -device intel-iommu,x-scalable-mode=on                intel_iommu=on
#   pasid     -device intel-iommu,x-scalable-mode=on,x-pasid-mode=on intel_iommu=on,sm_on
vtd_modes="none legacy scalable pasid"
vtd_qemu_args() {
	case $1 in
	none) echo "-M q35" ;;
	legacy) echo "-M q35 -device intel-iommu" ;;
	scalable) echo "-M q35 -device intel-iommu,x-scalable-mode=on" ;;
	pasid) echo "-M q35 -device intel-iommu,x-scalable-mode=on,x-pasid-mode=on" ;;
	esac
}
vtd_cmdline() {
	case $1 in
	none) echo "" ;;
	legacy|scalable) echo "intel_iommu=on" ;;
	pasid) echo "intel_iommu=on,sm_on" ;;
	esac
}
