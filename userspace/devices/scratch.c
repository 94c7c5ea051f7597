// SPDX-License-Identifier: GPL-2.0
/* MMIO scratch page: a memory that lives behind MMIO exits. */
#include <string.h>

#include "devices.h"

void scratch_init(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
}

static uint64_t scratch_read(void *opaque, uint64_t off, unsigned int size)
{
	struct scratch *s = opaque;
	uint64_t val = 0;

	if (off + size > SCRATCH_MMIO_SIZE)
		return ~0ULL;
	pthread_mutex_lock(&s->lock);
	memcpy(&val, s->mem + off, size);
	pthread_mutex_unlock(&s->lock);
	return val;
}

static void scratch_write(void *opaque, uint64_t off, unsigned int size,
			  uint64_t val)
{
	struct scratch *s = opaque;

	if (off + size > SCRATCH_MMIO_SIZE)
		return;
	pthread_mutex_lock(&s->lock);
	memcpy(s->mem + off, &val, size);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops scratch_ops = {
	.read = scratch_read,
	.write = scratch_write,
};

int scratch_attach(struct scratch *s, struct bus *mmio)
{
	return bus_register(mmio, SCRATCH_MMIO_BASE, SCRATCH_MMIO_SIZE,
			    "scratch", &scratch_ops, s);
}
