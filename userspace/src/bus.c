// SPDX-License-Identifier: GPL-2.0
/* Port I/O and MMIO buses: address ranges -> device handlers. */
#include <errno.h>
#include <string.h>

#include "bus.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const char *name, const struct bus_ops *ops, void *opaque)
{
	unsigned int i;

	if (!len || base + len - 1 < base)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->nr >= BUS_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->nr] = (struct bus_range){
		.base = base, .len = len, .name = name,
		.ops = ops, .opaque = opaque,
	};
	bus->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->len)
			return r;
	}
	return NULL;
}

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/*
 * Remember which addresses nobody claims, so --stats can name them.  Two
 * vCPUs may race for a free slot, hence the compare-and-swap; once the
 * table is full only the totals keep counting.
 */
static void note_unhandled(struct bus *bus, uint64_t addr, int write)
{
	/* Slots hold addr + 1 so that a zero slot means "free". */
	uint64_t key = addr + 1;
	unsigned int i;

	__atomic_add_fetch(write ? &bus->unhandled_writes :
			   &bus->unhandled_reads, 1, __ATOMIC_RELAXED);
	for (i = 0; i < BUS_MAX_UNHANDLED; i++) {
		struct bus_unhandled *u = &bus->unhandled[i];
		uint64_t cur = __atomic_load_n(&u->addr, __ATOMIC_ACQUIRE);

		if (cur == 0 &&
		    __atomic_compare_exchange_n(&u->addr, &cur, key, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			cur = key;
		if (cur != key)
			continue;
		__atomic_add_fetch(write ? &u->writes : &u->reads, 1,
				   __ATOMIC_RELAXED);
		return;
	}
}

uint64_t bus_read(struct bus *bus, uint64_t addr, unsigned int size)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r || !r->ops->read) {
		note_unhandled(bus, addr, 0);
		return size_mask(size);
	}
	return r->ops->read(r->opaque, addr - r->base, size) & size_mask(size);
}

void bus_write(struct bus *bus, uint64_t addr, unsigned int size,
	       uint64_t val)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r || !r->ops->write) {
		note_unhandled(bus, addr, 1);
		return;
	}
	r->ops->write(r->opaque, addr - r->base, size, val & size_mask(size));
}
