// SPDX-License-Identifier: GPL-2.0
/* Debug console on port 0xE9: one OUT per character, no status to poll. */
#include "devices.h"

void debugcon_init(struct debugcon *d, FILE *out)
{
	pthread_mutex_init(&d->lock, NULL);
	d->out = out;
}

/* Reading back the port number lets a guest detect the device. */
static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned int size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return DEBUGCON_PORT;
}

static void debugcon_write(void *opaque, uint64_t off, unsigned int size,
			   uint64_t val)
{
	struct debugcon *d = opaque;
	char c = val & 0xff;

	(void)off;
	(void)size;
	pthread_mutex_lock(&d->lock);
	fputc(c, d->out);
	if (c == '\n')
		fflush(d->out);
	pthread_mutex_unlock(&d->lock);
}

static const struct bus_ops debugcon_ops = {
	.read = debugcon_read,
	.write = debugcon_write,
};

int debugcon_attach(struct debugcon *d, struct bus *pio)
{
	return bus_register(pio, DEBUGCON_PORT, 1, "debugcon", &debugcon_ops, d);
}
