/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bus maps address ranges (port numbers or guest-physical addresses) to
 * device handlers.  Ranges are registered before the vCPUs start and never
 * change afterwards, so lookups take no lock; each device locks itself.
 */
#ifndef MVX_BUS_H
#define MVX_BUS_H

#include <stdint.h>

#define BUS_MAX_RANGES	32
#define BUS_MAX_UNHANDLED	8	/* distinct unhandled addresses remembered */

struct bus_ops {
	/* off is relative to the start of the range; size is 1, 2, 4 or 8. */
	uint64_t (*read)(void *opaque, uint64_t off, unsigned int size);
	void (*write)(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const char *name;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus_unhandled {
	uint64_t addr;		/* address + 1; 0 = free slot */
	uint64_t reads;
	uint64_t writes;
};

struct bus {
	const char *name;		/* "pio" or "mmio" */
	unsigned int nr;
	struct bus_range ranges[BUS_MAX_RANGES];
	/* Accesses nothing claimed; updated atomically by any vCPU. */
	uint64_t unhandled_reads;
	uint64_t unhandled_writes;
	struct bus_unhandled unhandled[BUS_MAX_UNHANDLED];
};

void bus_init(struct bus *bus, const char *name);
/* 0, -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOSPC. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const char *name, const struct bus_ops *ops, void *opaque);
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);
/* Unclaimed reads return all-ones of the access size. */
uint64_t bus_read(struct bus *bus, uint64_t addr, unsigned int size);
/* Unclaimed writes are dropped and counted. */
void bus_write(struct bus *bus, uint64_t addr, unsigned int size,
	       uint64_t val);

#endif /* MVX_BUS_H */
