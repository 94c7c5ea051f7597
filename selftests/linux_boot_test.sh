#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# minivmx-run boots Debian's own kernels (issue 15): each /boot/vmlinuz-*
# vmtest put in the PC (6.1 and 6.12) with a busybox initramfs built here,
# whose /init prints uname -r, sleeps one second (the PIT timer works),
# reads a line from the console (UART receive interrupts) and reboots
# (reboot=t: a triple fault, which ends the runner with 0 for a bzImage).
# The line is typed only once /init asks for it, as a person would.
# Prints TAP, six tests a kernel; the /init lines of all the boots go to
# $LINUX_BOOT_OUT ("<release>: init: ...") for run_tests, which compares
# them with KVM's.
#
#   linux_boot_test.sh              on ${MVX_DEVICE:-/dev/minivmx}
#   LINUX_BOOT_KERNELS="FILE..."    other bzImages, globs allowed (default:
#                                   /boot/vmlinuz-*, else /boot/vmlinuz)
#   LINUX_BOOT_TIMEOUT=S            limit for each boot (default 1200)
#   LINUX_BOOT_APPEND="OPTIONS"     more kernel options for the guests
DEV=${MVX_DEVICE:-/dev/minivmx}
KERNELS=${LINUX_BOOT_KERNELS:-$(ls /boot/vmlinuz-* 2> /dev/null)}
KERNELS=${KERNELS:-/boot/vmlinuz}
LIMIT=${LINUX_BOOT_TIMEOUT:-1200}
OUT=${LINUX_BOOT_OUT:-${TMPDIR:-/tmp}/linux_boot.out}
CMDLINE="console=ttyS0 panic=-1 quiet reboot=t${LINUX_BOOT_APPEND:+ $LINUX_BOOT_APPEND}"
LINE="a line typed at the console"
W=$(mktemp -d "${TMPDIR:-/tmp}/linux_boot.XXXXXX") || exit 1
. "$(dirname "$0")/initramfs.sh"
n=0
trap "" PIPE	# the runner may be gone when the line is typed
failed=0

. "$(dirname "$0")/tap.sh"

# The guest's /init: busybox ash.  Its "init: " lines are the result.
write_init() {
	cat > "$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo "init: uname -r $(uname -r)"
sleep 1
echo "init: slept 1 s"
echo "init: ready for a line"
read -r line
echo "init: read '$line'"
reboot -f
EOF
	chmod 755 "$1"
}

# Wait until the console shows $1, the runner ended, or the time is up.
wait_for_console() {	# text, runner pid, deadline (seconds since epoch)
	while ! grep -q "$1" "$W/console" 2> /dev/null; do
		kill -0 "$2" 2> /dev/null || return 1
		[ "$(date +%s)" -lt "$3" ] || return 1
		sleep 1
	done
}

# The release a kernel file should report: its name says, or it is ours.
release_of() {
	case $1 in
	*/vmlinuz-*) echo "${1##*/vmlinuz-}" ;;
	*) uname -r ;;
	esac
}

# Boot $1 once, type the line, check what came out: six TAP lines.
boot_kernel() {
	kernel=$1
	rel=$(release_of "$kernel")
	failed_before=$failed
	rm -f "$W/in" "$W/console" "$W/err"
	mkfifo "$W/in"
	deadline=$(($(date +%s) + LIMIT))
	t0=$(uptime_cs)
	minivmx-run --device "$DEV" --kernel "$kernel" --initrd "$W/init.cpio" \
		--append "$CMDLINE" < "$W/in" > "$W/console" 2> "$W/err" &
	pid=$!
	( sleep "$LIMIT"; kill -TERM "$pid" 2> /dev/null ) > /dev/null 2>&1 &
	watchdog=$!
	exec 3> "$W/in"
	# The boot time to /init's first line, for make bench (0.1 s steps).
	while ! grep -q "init: uname" "$W/console" 2> /dev/null &&
	      kill -0 "$pid" 2> /dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
		usleep 100000
	done
	echo "# $rel: boot to /init: $(seconds_since "$t0") s"
	wait_for_console "init: ready for a line" "$pid" "$deadline"
	tap $? "$rel: /init asks for a line"
	echo "$LINE" >&3
	exec 3>&-
	wait "$pid"
	rc=$?
	kill "$watchdog" 2> /dev/null
	wait "$watchdog" 2> /dev/null
	tr -d '\r' < "$W/console" > "$W/text"
	tap $((rc != 0)) "$rel: minivmx-run exits 0 after the reboot's triple fault (status $rc)"
	grep -q "^init: uname -r $rel\$" "$W/text"
	tap $? "$rel: the guest runs that kernel"
	grep -q "^init: slept 1 s\$" "$W/text"
	tap $? "$rel: sleep 1 returns (timer interrupts)"
	grep -q "^init: read '$LINE'\$" "$W/text"
	tap $? "$rel: the typed line reaches /init (UART receive interrupts)"
	! grep -Eq "Kernel panic|BUG:|WARNING: CPU|Oops|Call Trace" "$W/text"
	tap $? "$rel: no kernel complaint on the console"
	grep '^init: ' "$W/text" | sed "s/^/$rel: /" >> "$OUT"
	if [ "$failed" -ne "$failed_before" ]; then
		echo "# $rel: console:"
		sed 's/^/#   /' "$W/text" | tail -n 60
		echo "# $rel: stderr:"
		sed 's/^/#   /' "$W/err"
	fi
}

set -- $KERNELS
echo "TAP version 13"
echo "1..$(($# * 6))"
echo "# $DEV: $KERNELS, append \"$CMDLINE\""
write_init "$W/init"
if ! build_initramfs "$W/root" "$W/init.cpio" "$W/init"; then
	echo "Bail out! cannot build the initramfs"
	exit 1
fi
: > "$OUT"
for k in $KERNELS; do
	boot_kernel "$k"
done
rm -rf "$W"
[ "$failed" -eq 0 ]
