// SPDX-License-Identifier: GPL-2.0
/*
 * Port 0x80, the POST code port.  Linux writes it for its I/O delay
 * (outb_p, native_io_delay) thousands of times during a boot, and
 * firmware writes progress codes there; nobody reads it back.  Writes
 * are dropped and reads give 0xFF, as on an ISA bus with nothing behind
 * the port; the device only keeps these writes out of the unhandled-port
 * counts of --stats.
 */
#include "devices.h"

static uint64_t postcode_read(void *opaque, uint64_t off, unsigned int size)
{
	(void)opaque;
	(void)off;
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static void postcode_write(void *opaque, uint64_t off, unsigned int size,
			   uint64_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)val;
}

static const struct bus_ops postcode_ops = {
	.read = postcode_read,
	.write = postcode_write,
};

int postcode_attach(struct bus *pio)
{
	return bus_register(pio, POSTCODE_PORT, 1, "post", &postcode_ops, NULL);
}
