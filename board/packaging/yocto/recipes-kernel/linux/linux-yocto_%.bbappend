# The kernel options qbnetd needs, from board/packaging/kernel/qbnetd.cfg
# (the board's UDC is the BSP's to enable). linux-yocto merges .cfg files
# in SRC_URI as config fragments; other kernel recipes can add the same
# file to their own fragment mechanism.
FILESEXTRAPATHS:prepend := "${THISDIR}/../../../kernel:"
SRC_URI += "file://qbnetd.cfg"
