#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The end of "make demo": minivmx-run boots the PC's own kernel
# (/boot/vmlinuz) with a busybox initramfs whose /init starts a shell on
# the console, and a few commands are typed at its prompt, as a person
# would: uname -a, the interrupt counts (the PIT's timer on IRQ 0, the
# UART on IRQ 4), poweroff.  Everything the guest prints is shown.
#
#   linux_shell.sh [DEVICE]    default /dev/minivmx; /dev/kvm works the same
DEV=${1:-/dev/minivmx}
W=$(mktemp -d "${TMPDIR:-/tmp}/linux_shell.XXXXXX") || exit 1
. "$(dirname "$0")/initramfs.sh"
trap "" PIPE

cat > "$W/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "Linux $(uname -r) is up in minivmx-run; a shell on ttyS0:"
exec sh
EOF

# Type one line once the shell has shown one more prompt ("/ # ") than
# lines typed so far.  Counted, not looked for at the end: busybox's line
# editing asks the terminal where its cursor is (ESC [ 6 n) right after
# the prompt.
typed=0
type_line() {	# text
	n=0
	while [ "$(grep -a -o '/ # ' "$W/console" 2> /dev/null | wc -l)" -le $typed ] &&
	      [ $n -lt 600 ] && kill -0 "$pid" 2> /dev/null; do
		sleep 1
		n=$((n + 1))
	done
	echo "$1" >&3
	typed=$((typed + 1))
}

build_initramfs "$W/root" "$W/init.cpio" "$W/init" || exit 1
mkfifo "$W/in"
echo "\$ minivmx-run --device $DEV --kernel /boot/vmlinuz --initrd init.cpio --append \"console=ttyS0 quiet panic=-1\""
minivmx-run --device "$DEV" --kernel /boot/vmlinuz --initrd "$W/init.cpio" \
	--append "console=ttyS0 quiet panic=-1" < "$W/in" > "$W/console" 2>&1 &
pid=$!
tail -f "$W/console" &
shown=$!
exec 3> "$W/in"
type_line "uname -a"
type_line "cat /proc/interrupts"
type_line "poweroff -f"
wait "$pid"
rc=$?
sleep 1
kill "$shown" 2> /dev/null
echo
echo "minivmx-run exited with status $rc"
rm -rf "$W"
exit $rc
