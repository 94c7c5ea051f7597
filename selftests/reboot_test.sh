#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Takes the PC down while guests spin on every CPU: VMX/SVM is turned off
# underneath running vCPUs (by our reboot notifier for "reboot", by the
# kernel's emergency callback, from NMI, for "sysrq").  Must be the last
# thing in a PC boot: scripts/check runs it under "vmtest --expect-reboot"
# and fails on any Oops/BUG/WARNING in the console log.
#
#   reboot_test.sh reboot    reboot -f (reboot notifiers, then reset)
#   reboot_test.sh sysrq     sysrq b (emergency restart, no notifiers)
#
# Does not return when it works; prints "not ok" and exits 1 otherwise.

how=${1:-reboot}
BIN=${TMPDIR:-/tmp}/reboot_test.$$.bin

# Every kernel message to the console, warnings included: the console log
# is all that survives the reset.
echo 8 > /proc/sys/kernel/printk

# Real mode: "cli; jmp ." spins with interrupts off, the worst case for
# getting the vCPU thread out of the guest.
printf '\372\353\376' > "$BIN"
ncpu=$(grep -c '^processor' /proc/cpuinfo)
pids=
for n in 1 2; do
	minivmx-run --cpus "$ncpu" "$BIN" > /dev/null 2>&1 &
	pids="$pids $!"
done
# The guests are in: both runners are alive and burn CPU.
sleep 2
for p in $pids; do
	if ! kill -0 "$p" 2>/dev/null; then
		echo "not ok - reboot_test: a spinning guest ended before the $how"
		exit 1
	fi
done
echo "reboot_test: $ncpu vCPUs in each of 2 VMs spinning; going down ($how)"
# Let the UART drain that line: the reset drops what is still buffered.
sleep 1
case $how in
reboot)
	reboot -f ;;
sysrq)
	echo 1 > /proc/sys/kernel/sysrq
	echo b > /proc/sysrq-trigger ;;
*)
	echo "usage: reboot_test.sh reboot|sysrq"
	exit 2 ;;
esac
sleep 60
echo "not ok - reboot_test: the PC is still up 60 s after the $how"
exit 1
