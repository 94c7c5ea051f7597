// SPDX-License-Identifier: GPL-2.0
/*
 * 8042 keyboard controller (PS/2 style) with nothing plugged into its
 * keyboard and aux (mouse) ports: data at 0x60, status and commands at
 * 0x64, output on IRQ 1 (keyboard data) and IRQ 12 (aux data).
 *
 * Why a controller and not "no controller": Linux without ACPI expects an
 * i8042 and probes the ports directly; what it needs to finish quickly is
 * an answer to every question, and a controller gives those naturally:
 *   - controller commands answer at once (IBF always reads 0, so neither
 *     i8042_wait_write() nor the reboot path's kb_wait() ever spins);
 *   - the aux loopback command 0xD3 echoes with the aux bit set, and with
 *     the aux interrupt enabled the echo raises IRQ 12: Linux's AUX IRQ
 *     test passes instead of waiting 250 ms for it;
 *   - a byte for a device (0x60 not after a command, or 0xD4 then 0x60)
 *     gets what a controller returns when no device clocks the byte out:
 *     0xFE with the time-out status bit (and the aux bit for 0xD4), raised
 *     on IRQ 1 or 12.  atkbd takes 0xFE as a NAK and psmouse the time-out
 *     as an error, so both give up at once instead of after 200 ms per
 *     try, and Linux ends up with the controller and no input devices.
 * "No controller" would need a status register that lies (OBF stuck on,
 * so that i8042_flush() gives up, but IBF off for kb_wait()), and firmware
 * that looks for a keyboard would learn nothing sensible from it.
 *
 * Model: one-byte output buffer, overwritten by a new byte as on the real
 * part (software drains it before the next command).  Commands complete
 * at once.  The interrupt lines follow "output buffer full" for their
 * source, gated by the command byte's interrupt enables; the PIC latches
 * the rising edge.  Resets end the run with status 0 ("reboot" at the end
 * of a boot): pulse commands 0xF0-0xFE with bit 0 clear (0xFE is the usual
 * one) and an output port write (0xD1) with bit 0 clear.  A20 is always
 * on: the output port reads it set whatever was written.
 */
#include <string.h>

#include "devices.h"
#include "runctl.h"

/* Status register (read 0x64) */
#define ST_OBF		0x01	/* output buffer full */
#define ST_SYS		0x04	/* system flag, mirrors CTR_SYS */
#define ST_CMD		0x08	/* last write was to 0x64 */
#define ST_UNLOCKED	0x10	/* keylock switch off */
#define ST_AUXDATA	0x20	/* output buffer holds aux data */
#define ST_TIMEOUT	0x40	/* no answer from the device */

/* Command byte (CTR, controller RAM byte 0) */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40
/* As a BIOS leaves it: translation, keyboard interrupt, POST passed. */
#define CTR_DEFAULT	(CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT)

/* Output port (0xD0/0xD1) */
#define OUT_RESET	0x01	/* low: the CPU is held in reset */
#define OUT_A20		0x02
#define OUT_KBD_OBF	0x10	/* IRQ 1 line */
#define OUT_AUX_OBF	0x20	/* IRQ 12 line */
#define OUT_LINES_IDLE	0xc0	/* keyboard clock and data high */

/* Controller commands (write 0x64) */
#define CMD_READ_RAM	0x20	/* 0x20-0x3F: RAM byte N - 0x20 */
#define CMD_WRITE_RAM	0x60	/* 0x60-0x7F: RAM byte N - 0x60 */
#define CMD_PASSWORD	0xa4
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUTP	0xd0
#define CMD_WRITE_OUTP	0xd1
#define CMD_KBD_LOOP	0xd2
#define CMD_AUX_LOOP	0xd3
#define CMD_AUX_SEND	0xd4
#define CMD_PULSE	0xf0	/* 0xF0-0xFF: pulse output port bits 3-0 */

#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00
#define NO_PASSWORD	0xf1
#define NO_DEVICE_REPLY	0xfe

#define RESET_REASON	"guest reset through the keyboard controller"

void i8042_init(struct i8042 *k)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ram[0] = CTR_DEFAULT;
}

void i8042_connect_irq(struct i8042 *k,
		       void (*set_irq)(void *opaque, unsigned int irq,
				       int level),
		       void *opaque)
{
	pthread_mutex_lock(&k->lock);
	k->set_irq = set_irq;
	k->irq_opaque = opaque;
	pthread_mutex_unlock(&k->lock);
}

static void set_line(struct i8042 *k, int *cur, unsigned int irq, int level)
{
	if (*cur == level)
		return;
	*cur = level;
	if (k->set_irq)
		k->set_irq(k->irq_opaque, irq, level);
}

/* Called with the lock held after any change of status or CTR. */
static void update_irqs(struct i8042 *k)
{
	int full = k->status & ST_OBF;
	int aux = k->status & ST_AUXDATA;

	set_line(k, &k->kbd_irq, I8042_KBD_IRQ,
		 full && !aux && (k->ram[0] & CTR_KBDINT));
	set_line(k, &k->aux_irq, I8042_AUX_IRQ,
		 full && aux && (k->ram[0] & CTR_AUXINT));
}

/* flags: ST_AUXDATA and/or ST_TIMEOUT. */
static void put_output(struct i8042 *k, uint8_t val, uint8_t flags)
{
	k->out = val;
	k->status = (k->status & ST_CMD) | ST_OBF | flags;
	update_irqs(k);
}

static void write_ctr(struct i8042 *k, uint8_t val)
{
	k->ram[0] = val;
	update_irqs(k);
}

static uint8_t output_port(struct i8042 *k)
{
	return OUT_LINES_IDLE | OUT_A20 | OUT_RESET |
	       (k->kbd_irq ? OUT_KBD_OBF : 0) |
	       (k->aux_irq ? OUT_AUX_OBF : 0);
}

static void write_output_port(uint8_t val)
{
	/* A20 stays on; the reset line is active low. */
	if (!(val & OUT_RESET))
		runctl_request_stop(0, RESET_REASON);
}

/* Commands without a data byte; returns 1 if one is expected. */
static int run_command(struct i8042 *k, uint8_t cmd)
{
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + I8042_RAM_SIZE) {
		put_output(k, k->ram[cmd - CMD_READ_RAM], 0);
		return 0;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM_SIZE)
		return 1;
	if (cmd >= CMD_PULSE) {
		if (!(cmd & OUT_RESET))
			runctl_request_stop(0, RESET_REASON);
		return 0;
	}
	switch (cmd) {
	case CMD_PASSWORD:
		put_output(k, NO_PASSWORD, 0);
		break;
	case CMD_AUX_DISABLE:
		write_ctr(k, k->ram[0] | CTR_AUXDIS);
		break;
	case CMD_AUX_ENABLE:
		write_ctr(k, k->ram[0] & ~CTR_AUXDIS);
		break;
	case CMD_KBD_DISABLE:
		write_ctr(k, k->ram[0] | CTR_KBDDIS);
		break;
	case CMD_KBD_ENABLE:
		write_ctr(k, k->ram[0] & ~CTR_KBDDIS);
		break;
	case CMD_SELF_TEST:
		/* A passed self test sets the system flag. */
		k->ram[0] |= CTR_SYS;
		put_output(k, SELF_TEST_OK, 0);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		/* Nothing attached: the lines float high, which is "OK". */
		put_output(k, PORT_TEST_OK, 0);
		break;
	case CMD_READ_OUTP:
		put_output(k, output_port(k), 0);
		break;
	case CMD_WRITE_OUTP:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		return 1;
	default:
		break;		/* unknown commands are ignored */
	}
	return 0;
}

/* The data byte of the command that waited for one. */
static void command_data(struct i8042 *k, uint8_t cmd, uint8_t val)
{
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM_SIZE) {
		if (cmd == CMD_WRITE_RAM)
			write_ctr(k, val);
		else
			k->ram[cmd - CMD_WRITE_RAM] = val;
		return;
	}
	switch (cmd) {
	case CMD_WRITE_OUTP:
		write_output_port(val);
		break;
	case CMD_KBD_LOOP:
		put_output(k, val, 0);
		break;
	case CMD_AUX_LOOP:
		put_output(k, val, ST_AUXDATA);
		break;
	case CMD_AUX_SEND:
		put_output(k, NO_DEVICE_REPLY, ST_AUXDATA | ST_TIMEOUT);
		break;
	}
}

static uint8_t read_status(struct i8042 *k)
{
	/* IBF (bit 1) never shows: every write is taken at once. */
	return k->status | ST_UNLOCKED | (k->ram[0] & CTR_SYS ? ST_SYS : 0);
}

static uint64_t i8042_data_read(void *opaque, uint64_t off, unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t val;

	(void)off;
	(void)size;
	pthread_mutex_lock(&k->lock);
	/* An empty buffer reads its last byte again. */
	val = k->out;
	k->status &= ST_CMD;
	update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	return val;
}

static void i8042_data_write(void *opaque, uint64_t off, unsigned int size,
			     uint64_t val)
{
	struct i8042 *k = opaque;
	uint8_t cmd;

	(void)off;
	(void)size;
	pthread_mutex_lock(&k->lock);
	k->status &= ~ST_CMD;
	cmd = k->pending;
	k->pending = 0;
	if (cmd)
		command_data(k, cmd, val);
	else	/* for the keyboard, which is not there */
		put_output(k, NO_DEVICE_REPLY, ST_TIMEOUT);
	pthread_mutex_unlock(&k->lock);
}

static uint64_t i8042_status_read(void *opaque, uint64_t off,
				  unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t val;

	(void)off;
	(void)size;
	pthread_mutex_lock(&k->lock);
	val = read_status(k);
	pthread_mutex_unlock(&k->lock);
	return val;
}

static void i8042_command_write(void *opaque, uint64_t off, unsigned int size,
				uint64_t val)
{
	struct i8042 *k = opaque;
	uint8_t cmd = val;

	(void)off;
	(void)size;
	pthread_mutex_lock(&k->lock);
	k->status |= ST_CMD;
	k->pending = run_command(k, cmd) ? cmd : 0;
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_data_ops = {
	.read = i8042_data_read, .write = i8042_data_write
};

static const struct bus_ops i8042_command_ops = {
	.read = i8042_status_read, .write = i8042_command_write
};

int i8042_attach(struct i8042 *k, struct bus *pio)
{
	int ret;

	/* Two single ports: 0x61 belongs to the PIT (pit.c). */
	ret = bus_register(pio, I8042_DATA_PORT, 1, "i8042", &i8042_data_ops,
			   k);
	if (!ret)
		ret = bus_register(pio, I8042_COMMAND_PORT, 1, "i8042",
				   &i8042_command_ops, k);
	return ret;
}
