#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# minivmx and the distro KVM race for VMX/SVM (issue 13, item 6): minivmx
# VMs are created and run in a loop while kvm-load / a KVM VM / kvm-unload
# loop runs beside it, so either side may come first on any CPU.  Whoever
# loses must get a clean error: EBUSY from minivmx; from KVM whatever it
# returns for a CPU it cannot enable (6.1: EBUSY, 6.12: EIO after "enabling
# virtualization on CPU failed").  Nothing else may fail, and dmesg must
# stay free of oopses and warnings.  Prints TAP.
#
# Environment: RACE_SECONDS (default 20) bounds the loop; it always runs
# at least two kvm-load/kvm-unload rounds (in Bochs one costs seconds).
DIR=$(cd "$(dirname "$0")" && pwd)
TMP=${TMPDIR:-/tmp}/race_test.$$
BAD='BUG|WARNING|Oops|general protection|scheduling while atomic|Call Trace'
BUSY='Device or resource busy'
KVM_LOST='Device or resource busy|Input/output error'
n=0
failed=0

. "$DIR/tap.sh"

echo "TAP version 13"
echo "1..5"
why=
if [ "${MVX_DEVICE:-/dev/minivmx}" != /dev/minivmx ]; then
	why="races minivmx against KVM: needs MVX_DEVICE=/dev/minivmx"
elif ! command -v kvm-load > /dev/null; then
	why="no kvm-load here (only in scripts/vmtest's PCs)"
elif [ ! -d /sys/module/minivmx ]; then
	why="minivmx is not loaded"
elif grep -Eq '^(kvm_intel|kvm_amd) ' /proc/modules; then
	why="KVM is loaded already"
fi
if [ -n "$why" ]; then
	for i in 1 2 3 4 5; do
		echo "ok $i - race_test # SKIP $why"
	done
	exit 0
fi

dmesg_lines=$(dmesg | wc -l)

# Background: minivmx VMs, one after the other, until told to stop.
rm -f "$TMP.stop" "$TMP.vms"
(
	while [ ! -e "$TMP.stop" ]; do
		"$DIR/vm_holder" --once > "$TMP.vm" 2>&1 && echo "ran" ||
			{ cat "$TMP.vm"; echo; }
	done > "$TMP.vms"
) &
loop=$!

# Foreground: KVM comes and goes.  Either step may lose to minivmx.
kvm_bad=0
kvm_rounds=0
kvm_won=0
unload_retries=0
t_end=$(( $(date +%s) + ${RACE_SECONDS:-20} ))
while [ $kvm_rounds -lt 2 ] || [ "$(date +%s)" -lt $t_end ]; do
	kvm_rounds=$((kvm_rounds + 1))
	if kvm-load > "$TMP.kvm" 2>&1; then
		if MVX_DEVICE=/dev/kvm "$DIR/vm_holder" --once > "$TMP.kvm" 2>&1; then
			kvm_won=$((kvm_won + 1))
		elif ! grep -Eq "$KVM_LOST" "$TMP.kvm"; then
			echo "# round $kvm_rounds, KVM VM failed other than EBUSY/EIO:"
			sed 's/^/#   /' "$TMP.kvm"
			kvm_bad=1
		fi
	elif ! grep -Eq "$KVM_LOST" "$TMP.kvm"; then
		echo "# round $kvm_rounds, kvm-load failed other than EBUSY/EIO:"
		sed 's/^/#   /' "$TMP.kvm"
		kvm_bad=1
	fi
	# A failed load leaves kvm.ko behind; a KVM VM's last reference
	# may outlive its process for a moment.
	tries=0
	until kvm-unload > "$TMP.kvm" 2>&1; do
		tries=$((tries + 1))
		if [ $tries -ge 20 ]; then
			echo "# round $kvm_rounds: kvm-unload keeps failing:"
			sed 's/^/#   /' "$TMP.kvm"
			kvm_bad=1
			break
		fi
		sleep 0.2
	done
	unload_retries=$((unload_retries + tries))
done
touch "$TMP.stop"
wait $loop

ran=$(grep -c '^ran$' "$TMP.vms")
busy=$(grep -c "$BUSY" "$TMP.vms")
other=$(grep -v "^ran$" "$TMP.vms" | grep -v "$BUSY" | grep -c .)
echo "# $kvm_rounds KVM rounds, $kvm_won ran a KVM guest ($unload_retries kvm-unload retries); minivmx VMs: $ran ran, $busy got EBUSY, $other failed otherwise"
[ "$other" -eq 0 ] || grep -v "^ran$" "$TMP.vms" | grep -v "$BUSY" |
	sort | uniq -c | sed 's/^/#   /'
tap "$other" "minivmx VMs racing KVM either run or fail with EBUSY"
tap $kvm_bad "kvm-load and KVM VMs racing minivmx either work or fail cleanly"

# The race over, each side gets the CPU when the other is gone.
"$DIR/vm_holder" --once > "$TMP.vm" 2>&1
st=$?
[ $st -eq 0 ] || sed 's/^/#   /' "$TMP.vm"
tap $st "minivmx runs a guest after the race"
st=1
if kvm-load > "$TMP.kvm" 2>&1 &&
   MVX_DEVICE=/dev/kvm "$DIR/vm_holder" --once >> "$TMP.kvm" 2>&1; then
	st=0
else
	sed 's/^/#   /' "$TMP.kvm"
fi
tries=0
until kvm-unload > /dev/null 2>&1 || [ $tries -ge 20 ]; do
	tries=$((tries + 1))
	sleep 0.2
done
tap $st "KVM runs a guest once minivmx's VMs are gone"

dmesg | tail -n +$((dmesg_lines + 1)) > "$TMP.dmesg"
grep -E "$BAD" "$TMP.dmesg" | head -n 20 | sed 's/^/#   /'
! grep -Eq "$BAD" "$TMP.dmesg"
tap $? "dmesg has no BUG/WARNING/Oops/Call Trace from the race"

rm -f "$TMP.stop" "$TMP.vms" "$TMP.vm" "$TMP.kvm" "$TMP.dmesg"
[ $failed -eq 0 ]
