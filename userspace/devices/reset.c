// SPDX-License-Identifier: GPL-2.0
/*
 * The ways a PC guest asks for a reset.  minivmx-run has no reset path, so
 * each one ends the run cleanly (status 0), which is what a test guest or
 * a "reboot" at the end of a boot wants.
 *   0xCF9  reset control: a write with bit 2 (RST_CPU) set
 *   0x92   system control port A: a write with bit 0 (fast reset) set
 * The keyboard controller's reset (command 0xFE on port 0x64) is in
 * i8042.c.
 */
#include <string.h>

#include "devices.h"
#include "runctl.h"

#define CF9_RST_CPU	0x04
#define P92_FAST_RESET	0x01
#define P92_A20		0x02

void resetdev_init(struct resetdev *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->port92 = P92_A20;	/* A20 is always on here */
}

static uint64_t cf9_read(void *opaque, uint64_t off, unsigned int size)
{
	struct resetdev *r = opaque;

	(void)off;
	(void)size;
	return __atomic_load_n(&r->cf9, __ATOMIC_RELAXED);
}

static void cf9_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct resetdev *r = opaque;

	(void)off;
	(void)size;
	__atomic_store_n(&r->cf9, val & 0x0e, __ATOMIC_RELAXED);
	if (val & CF9_RST_CPU)
		runctl_request_stop(0, "guest reset through port 0xCF9");
}

static uint64_t p92_read(void *opaque, uint64_t off, unsigned int size)
{
	struct resetdev *r = opaque;

	(void)off;
	(void)size;
	return __atomic_load_n(&r->port92, __ATOMIC_RELAXED);
}

static void p92_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct resetdev *r = opaque;

	(void)off;
	(void)size;
	__atomic_store_n(&r->port92, (val & ~P92_FAST_RESET) | P92_A20,
			 __ATOMIC_RELAXED);
	if (val & P92_FAST_RESET)
		runctl_request_stop(0, "guest reset through port 0x92");
}

static const struct bus_ops cf9_ops = { .read = cf9_read, .write = cf9_write };
static const struct bus_ops p92_ops = { .read = p92_read, .write = p92_write };

int resetdev_attach(struct resetdev *r, struct bus *pio)
{
	int ret;

	ret = bus_register(pio, 0x92, 1, "port92", &p92_ops, r);
	if (!ret)
		ret = bus_register(pio, 0xcf9, 1, "reset", &cf9_ops, r);
	return ret;
}
