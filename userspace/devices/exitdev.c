// SPDX-License-Identifier: GPL-2.0
/*
 * Exit device on port 0xF4: OUT of N (any size) ends the run and
 * minivmx-run exits with status N & 0xff.  Unlike QEMU's isa-debug-exit
 * the value is not shifted, so "out 0" means success.
 */
#include "devices.h"
#include "runctl.h"

static uint64_t exitdev_read(void *opaque, uint64_t off, unsigned int size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0;
}

static void exitdev_write(void *opaque, uint64_t off, unsigned int size,
			  uint64_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	runctl_request_stop(val & 0xff, "guest wrote %llu to the exit port",
			    (unsigned long long)val);
}

static const struct bus_ops exitdev_ops = {
	.read = exitdev_read,
	.write = exitdev_write,
};

int exitdev_attach(struct bus *pio)
{
	return bus_register(pio, EXITDEV_PORT, 1, "exit", &exitdev_ops, NULL);
}
