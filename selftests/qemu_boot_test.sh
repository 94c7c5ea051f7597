#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Debian's unmodified QEMU on minivmx (issue 16): qemu-system-x86_64, put
# in the PC by "vmtest --qemu", starts SeaBIOS at the reset vector, which
# loads the PC's own kernel with a busybox initramfs; its /init prints
# uname -r and reboots (reboot=t, a triple fault), and -no-reboot makes
# QEMU exit 0 there.  QEMU opens /dev/kvm by name: for minivmx that is a
# link to /dev/minivmx, made here while no KVM module owns the name.
# Prints TAP, three tests a configuration; /init's lines go to
# $QEMU_BOOT_OUT ("<config>: init: ...") for run_tests to compare with
# KVM's.  What QEMU says on stderr is always shown: a wrong answer to an
# ioctl shows up there.
#
#   qemu_boot_test.sh           on ${MVX_DEVICE:-/dev/minivmx}
#   QEMU_BOOT_CONFIGS="..."     of irqchip-off, kvm, smp2, isapc
#                               (default: irqchip-off kvm isapc)
#   QEMU_BOOT_TIMEOUT=S         limit for each boot (default 1200)
DEV=${MVX_DEVICE:-/dev/minivmx}
CONFIGS=${QEMU_BOOT_CONFIGS:-irqchip-off kvm isapc}
LIMIT=${QEMU_BOOT_TIMEOUT:-1200}
OUT=${QEMU_BOOT_OUT:-${TMPDIR:-/tmp}/qemu_boot.out}
KERNEL=/boot/vmlinuz
CMDLINE="console=ttyS0 panic=-1 quiet reboot=t"
W=$(mktemp -d "${TMPDIR:-/tmp}/qemu_boot.XXXXXX") || exit 1
. "$(dirname "$0")/initramfs.sh"
n=0
failed=0
link=
ESC=$(printf '\033')

. "$(dirname "$0")/tap.sh"

cleanup() {
	[ -z "$link" ] || rm -f /dev/kvm
	rm -rf "$W"
}
trap cleanup EXIT

# The empty line ends SeaBIOS' "Booting from ROM..", which a quiet kernel
# leaves open (seen with one CPU under -icount).
write_init() {
	cat > "$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo
echo "init: uname -r $(uname -r)"
echo "init: $(grep -c ^processor /proc/cpuinfo) CPU(s)"
reboot -f
EOF
}

accel_args() {	# configuration
	case $1 in
	irqchip-off) echo "-accel kvm,kernel-irqchip=off" ;;
	kvm) echo "-accel kvm" ;;
	smp2) echo "-accel kvm,kernel-irqchip=off -smp 2" ;;
	# isapc has no PCI, no ACPI and no I/O APIC; its default CPU is a 486.
	isapc) echo "-accel kvm,kernel-irqchip=off -M isapc -cpu qemu64" ;;
	*) return 1 ;;
	esac
}

# 6.12 oopses in setup_IO_APIC on an isapc (no I/O APIC there).
extra_append() {	# configuration
	[ "$1" != isapc ] || echo " noapic"
}

# QEMU finds the hypervisor at /dev/kvm only.
point_dev_kvm() {
	[ "$DEV" = /dev/kvm ] && return 0
	if [ -e /dev/kvm ] && [ ! -L /dev/kvm ]; then
		echo "Bail out! /dev/kvm is KVM's: unload it (kvm-unload) first"
		return 1
	fi
	ln -sf "$DEV" /dev/kvm && link=yes
}

boot_config() {	# configuration
	cfg=$1
	failed_before=$failed
	if ! args=$(accel_args "$cfg"); then
		echo "Bail out! no configuration called $cfg"
		exit 1
	fi
	t0=$(uptime_cs)
	# shellcheck disable=SC2086
	timeout -s KILL "$LIMIT" qemu-system-x86_64 $args -m 256 -nodefaults \
		-nographic -serial stdio -no-reboot -kernel "$KERNEL" \
		-initrd "$W/init.cpio" -append "$CMDLINE$(extra_append "$cfg")" \
		< /dev/null > "$W/console" 2> "$W/err"
	rc=$?
	# The PC's time to /init and out (reboot -f is at once), for make bench.
	echo "# $cfg: qemu-system-x86_64 $args: ran $(seconds_since "$t0") s"
	# SeaBIOS leaves terminal controls (ESC c, ESC [ ... ) on the line.
	tr -d '\r' < "$W/console" | sed "s/$ESC\[[0-9;?]*[A-Za-z]//g; s/${ESC}c//g" \
		> "$W/text"
	tap $((rc != 0)) "$cfg: QEMU exits 0 after the guest's reboot (status $rc)"
	grep -q "^init: uname -r $(uname -r)\$" "$W/text"
	tap $? "$cfg: SeaBIOS loads the PC's kernel and its /init runs"
	! grep -Eq "Kernel panic|BUG:|WARNING: CPU|Oops|Call Trace" "$W/text"
	tap $? "$cfg: no kernel complaint on the console"
	grep '^init: ' "$W/text" | sed "s/^/$cfg: /" >> "$OUT"
	if [ -s "$W/err" ]; then
		echo "# $cfg: QEMU's stderr:"
		sed 's/^/#   /' "$W/err"
	fi
	if [ "$failed" -ne "$failed_before" ]; then
		echo "# $cfg: console:"
		sed 's/^/#   /' "$W/text" | tail -n 40
	fi
}

set -- $CONFIGS
echo "TAP version 13"
echo "1..$(($# * 3))"
echo "# $DEV: $KERNEL, append \"$CMDLINE\""
command -v qemu-system-x86_64 > /dev/null ||
	{ echo "Bail out! no qemu-system-x86_64 (vmtest --qemu puts it in)"; exit 1; }
point_dev_kvm || exit 1
write_init "$W/init"
if ! build_initramfs "$W/root" "$W/init.cpio" "$W/init"; then
	echo "Bail out! cannot build the initramfs"
	exit 1
fi
: > "$OUT"
for c in $CONFIGS; do
	boot_config "$c"
done
[ "$failed" -eq 0 ]
