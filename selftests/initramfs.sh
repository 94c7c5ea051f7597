# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that boot Linux in minivmx-run inside the test PC:
# a busybox initramfs built on the spot from the PC's own busybox.
#
#   build_initramfs DIR ARCHIVE INIT    INIT (a file) becomes DIR/init

build_initramfs() {
	mkdir -p "$1/bin" "$1/dev" "$1/proc" "$1/sys" &&
	cp /bin/busybox "$1/bin/busybox" &&
	mknod "$1/dev/console" c 5 1 &&
	cp "$3" "$1/init" &&
	chmod 755 "$1/init" &&
	(cd "$1" && find . | cpio -o -H newc 2> /dev/null) > "$2"
}
