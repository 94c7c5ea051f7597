// SPDX-License-Identifier: GPL-2.0
/*
 * 8259A programmable interrupt controller pair, as wired in a PC/AT:
 * the master at 0x20/0x21 drives the CPU's INTR, the slave at 0xA0/0xA1
 * drives the master's IR2, and the ELCR at 0x4D0/0x4D1 (one bit per IRQ)
 * makes a line level-triggered.  IRQ 0, 1, 2, 8 and 13 are always edge.
 *
 * What the guest can program (what Linux's i8259 driver and a BIOS use):
 *   ICW1-ICW4   vector base (ICW2 & 0xF8), LTIM, optional ICW4 (AEOI,
 *               special fully nested); SNGL only skips ICW3, the wiring
 *               stays; ICW1 clears IMR, ISR and IRR and resets priorities.
 *   OCW1        the mask register (IMR).
 *   OCW2        non-specific and specific EOI, rotate on EOI, rotate in
 *               AEOI, set priority.
 *   OCW3        read IRR or ISR on the command port, poll, special mask.
 * Edge inputs latch IRR on a rising edge and keep it until the request is
 * acknowledged (so a device may pulse a line); level inputs make IRR
 * follow the line.  A request gone before the INTA cycle gives the
 * spurious IR7 vector of that chip (IRQ 7 or, through the cascade, 15)
 * without setting ISR.  Power-on state: what a PC BIOS programs (vectors
 * 0x08 and 0x70, cascade on IR2, all edge) but every line masked, so a
 * guest that never programs the PIC never sees an interrupt.  Registers
 * are bytes: wider accesses act on the first one.
 *
 * How a runner delivers interrupts with it:
 *   1. A device thread calls pic_set_irq(pic, line, level).
 *   2. If that raised INTR, the callback given to pic_set_intr_callback()
 *      runs in the same thread, outside the PIC's lock: it kicks the vCPU
 *      out of the guest (immediate_exit = 1 in its run area, and a signal
 *      to its thread so that MVX_RUN returns -EINTR).
 *   3. The vCPU thread, back in userspace, sees pic_has_interrupt().  If
 *      the guest can take an interrupt now (run->if_flag and
 *      run->ready_for_interrupt_injection) it calls pic_acknowledge()
 *      and injects that vector with MVX_INTERRUPT (KVM_INTERRUPT);
 *      otherwise it sets run->request_interrupt_window and re-enters, and
 *      does so at the IRQ_WINDOW_OPEN exit.
 *   4. pic_acknowledge() is the INTA cycle (the request moves to ISR), so
 *      call it only right before the injection.  The callback reports
 *      rising edges only: after an injection, check pic_has_interrupt()
 *      again, as INTR may have stayed high (AEOI, a second request).
 */
#include <string.h>

#include "devices.h"

#define ICW1_IC4		0x01	/* ICW4 follows */
#define ICW1_SNGL		0x02	/* no slave: no ICW3 */
#define ICW1_LTIM		0x08	/* all inputs level-triggered */
#define ICW1_INIT		0x10	/* on the command port: ICW1 */
#define ICW4_AEOI		0x02
#define ICW4_SFNM		0x10

#define OCW3_SELECT		0x08	/* bits 4-3 = 01: OCW3, 00: OCW2 */
#define OCW3_RIS		0x01
#define OCW3_RR			0x02
#define OCW3_POLL		0x04
#define OCW3_SMM		0x20
#define OCW3_ESMM		0x40

#define OCW2_LEVEL(v)		((v) & 0x07)
#define OCW2_CMD(v)		((v) >> 5)
#define OCW2_ROTATE_AEOI_CLEAR	0
#define OCW2_EOI		1
#define OCW2_NOP		2
#define OCW2_SPECIFIC_EOI	3
#define OCW2_ROTATE_AEOI_SET	4
#define OCW2_ROTATE_EOI		5
#define OCW2_SET_PRIORITY	6
#define OCW2_ROTATE_SPECIFIC	7

#define POLL_INTERRUPT		0x80	/* poll byte: bit 7 = request, 2-0 = IR */
#define SPURIOUS_IR		7
#define NO_IR			-1

/* IRQ 0 (timer), 1 (keyboard), 2 (cascade) and 8 (RTC), 13 (FPU). */
#define MASTER_ELCR_WRITABLE	0xf8
#define SLAVE_ELCR_WRITABLE	0xde

/* Power-on state of one chip; also what ICW1 leaves, but vectors and IMR. */
static void chip_reset(struct pic_chip *c, uint8_t vector_base,
		       uint8_t elcr_writable, uint8_t icw3)
{
	memset(c, 0, sizeof(*c));
	c->vector_base = vector_base;
	c->elcr_writable = elcr_writable;
	c->icw3 = icw3;
	c->imr = 0xff;
	c->lowest = 7;
}

void pic_init(struct pic *pic)
{
	memset(pic, 0, sizeof(*pic));
	pthread_mutex_init(&pic->lock, NULL);
	chip_reset(&pic->master, 0x08, MASTER_ELCR_WRITABLE,
		   1 << PIC_CASCADE_IR);
	chip_reset(&pic->slave, 0x70, SLAVE_ELCR_WRITABLE, PIC_CASCADE_IR);
}

void pic_set_intr_callback(struct pic *pic, void (*fn)(void *opaque),
			   void *opaque)
{
	pthread_mutex_lock(&pic->lock);
	pic->intr_raised = fn;
	pic->intr_opaque = opaque;
	pthread_mutex_unlock(&pic->lock);
}

static uint8_t level_lines(const struct pic_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* Level inputs: IRR is the line, whatever happened to it before. */
static void follow_level_lines(struct pic_chip *c)
{
	uint8_t level = level_lines(c);

	c->irr = (c->irr & ~level) | (c->input & level);
}

static void chip_set_input(struct pic_chip *c, unsigned int ir, int high)
{
	uint8_t bit = 1 << ir;

	if (high && !(c->input & bit))
		c->irr |= bit;		/* a rising edge latches either way */
	if (high)
		c->input |= bit;
	else
		c->input &= ~bit;
	follow_level_lines(c);
}

/* 0 is the highest priority; with no rotation IR0 is 0 and IR7 is 7. */
static unsigned int priority(const struct pic_chip *c, unsigned int ir)
{
	return (ir - c->lowest - 1) & 7;
}

static int highest_priority_ir(const struct pic_chip *c, uint8_t bits)
{
	unsigned int p, ir;

	for (p = 0; p < 8; p++) {
		ir = (c->lowest + 1 + p) & 7;
		if (bits & (1 << ir))
			return ir;
	}
	return NO_IR;
}

/*
 * The in-service levels that hold back requests: in special mask mode a
 * masked level does not (the handler masked itself to let lower levels in).
 */
static uint8_t blocking_isr(const struct pic_chip *c)
{
	return c->special_mask ? c->isr & ~c->imr : c->isr;
}

/* The IR this chip would signal now, or NO_IR. */
static int chip_request(const struct pic_chip *c, int is_master)
{
	int req = highest_priority_ir(c, c->irr & ~c->imr);
	int cur = highest_priority_ir(c, blocking_isr(c));

	if (req == NO_IR || cur == NO_IR)
		return req;
	if (priority(c, req) < priority(c, cur))
		return req;
	/* Special fully nested: the slave may nest inside its own level. */
	if (is_master && c->sfnm && req == cur && req == PIC_CASCADE_IR)
		return req;
	return NO_IR;
}

/* The request moves to ISR (unless AEOI); an edge latch is used up. */
static void chip_intack(struct pic_chip *c, unsigned int ir)
{
	uint8_t bit = 1 << ir;

	if (!(level_lines(c) & bit))
		c->irr &= ~bit;
	if (!c->aeoi)
		c->isr |= bit;
	else if (c->rotate_on_aeoi)
		c->lowest = ir;
}

/*
 * Propagate the slave's INT to master IR2, then the master's to INTR.
 * Returns 1 when INTR just went from 0 to 1.  Caller holds the lock.
 */
static int update_outputs(struct pic *pic)
{
	int was = pic->intr;

	chip_set_input(&pic->master, PIC_CASCADE_IR,
		       chip_request(&pic->slave, 0) != NO_IR);
	pic->intr = chip_request(&pic->master, 1) != NO_IR;
	return pic->intr && !was;
}

/* Unlock, then tell the runner if INTR rose: it may call back into us. */
static void unlock_and_notify(struct pic *pic, int raised)
{
	void (*fn)(void *opaque) = pic->intr_raised;
	void *opaque = pic->intr_opaque;

	pthread_mutex_unlock(&pic->lock);
	if (raised && fn)
		fn(opaque);
}

void pic_set_irq(struct pic *pic, unsigned int line, int level)
{
	struct pic_chip *c;

	if (line > 15 || line == PIC_CASCADE_IR)
		return;
	c = line < 8 ? &pic->master : &pic->slave;
	pthread_mutex_lock(&pic->lock);
	chip_set_input(c, line & 7, level != 0);
	unlock_and_notify(pic, update_outputs(pic));
}

int pic_has_interrupt(struct pic *pic)
{
	int intr;

	pthread_mutex_lock(&pic->lock);
	intr = pic->intr;
	pthread_mutex_unlock(&pic->lock);
	return intr;
}

/* The slave's part of an INTA cycle that the master gave to IR2. */
static uint8_t slave_intack(struct pic *pic)
{
	struct pic_chip *s = &pic->slave;
	int ir = chip_request(s, 0);

	/*
	 * The slave drops INT during the cycle, so a request it still has
	 * (AEOI, or a higher one) is a new edge on the master's IR2.
	 */
	chip_set_input(&pic->master, PIC_CASCADE_IR, 0);
	if (ir == NO_IR)
		return s->vector_base | SPURIOUS_IR;
	chip_intack(s, ir);
	return s->vector_base | ir;
}

uint8_t pic_acknowledge(struct pic *pic)
{
	struct pic_chip *m = &pic->master;
	uint8_t vector;
	int ir;

	pthread_mutex_lock(&pic->lock);
	ir = chip_request(m, 1);
	if (ir == NO_IR) {
		vector = m->vector_base | SPURIOUS_IR;
	} else {
		chip_intack(m, ir);
		if (ir == PIC_CASCADE_IR)
			vector = slave_intack(pic);
		else
			vector = m->vector_base | ir;
	}
	unlock_and_notify(pic, update_outputs(pic));
	return vector;
}

/* A poll read: an INTA cycle of this chip alone, answered as a byte. */
static uint8_t chip_poll(struct pic_chip *c, int is_master)
{
	int ir = chip_request(c, is_master);

	c->poll = 0;
	if (ir == NO_IR)
		return 0;
	chip_intack(c, ir);
	return POLL_INTERRUPT | ir;
}

static void write_icw1(struct pic_chip *c, uint8_t val)
{
	uint8_t vector_base = c->vector_base;
	uint8_t elcr = c->elcr, elcr_writable = c->elcr_writable;
	uint8_t input = c->input, icw3 = c->icw3;

	/*
	 * IMR, ISR, IRR, priorities, special mask and the read select start
	 * over; the edge detectors are reset, so an input already high must
	 * go low and high again.  The ELCR is a separate register.
	 */
	chip_reset(c, vector_base, elcr_writable, icw3);
	c->imr = 0;
	c->elcr = elcr;
	c->input = input;
	c->ltim = !!(val & ICW1_LTIM);
	c->single = !!(val & ICW1_SNGL);
	c->icw4_wanted = !!(val & ICW1_IC4);
	c->icw_next = 2;
	follow_level_lines(c);
}

static uint8_t next_icw_after(const struct pic_chip *c, uint8_t icw)
{
	if (icw < 3 && !c->single)
		return 3;
	if (icw < 4 && c->icw4_wanted)
		return 4;
	return 0;
}

static void write_icw(struct pic_chip *c, uint8_t val)
{
	uint8_t icw = c->icw_next;

	if (icw == 2) {
		c->vector_base = val & 0xf8;
	} else if (icw == 3) {
		c->icw3 = val;
	} else {
		c->aeoi = !!(val & ICW4_AEOI);
		c->sfnm = !!(val & ICW4_SFNM);
	}
	c->icw_next = next_icw_after(c, icw);
}

static void end_of_interrupt(struct pic_chip *c, int ir, int rotate)
{
	if (ir == NO_IR)
		return;		/* nothing in service: a stray EOI */
	c->isr &= ~(1 << ir);
	if (rotate)
		c->lowest = ir;
}

static void write_ocw2(struct pic_chip *c, uint8_t val)
{
	unsigned int level = OCW2_LEVEL(val);

	switch (OCW2_CMD(val)) {
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_on_aeoi = 0;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_on_aeoi = 1;
		break;
	case OCW2_EOI:
		end_of_interrupt(c, highest_priority_ir(c, c->isr), 0);
		break;
	case OCW2_ROTATE_EOI:
		end_of_interrupt(c, highest_priority_ir(c, c->isr), 1);
		break;
	case OCW2_SPECIFIC_EOI:
		end_of_interrupt(c, level, 0);
		break;
	case OCW2_ROTATE_SPECIFIC:
		end_of_interrupt(c, level, 1);
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void write_ocw3(struct pic_chip *c, uint8_t val)
{
	if (val & OCW3_ESMM)
		c->special_mask = !!(val & OCW3_SMM);
	if (val & OCW3_RR)
		c->read_isr = !!(val & OCW3_RIS);
	if (val & OCW3_POLL)
		c->poll = 1;
}

static void chip_write(struct pic *pic, struct pic_chip *c, uint64_t off,
		       uint8_t val)
{
	pthread_mutex_lock(&pic->lock);
	if (off == 0 && (val & ICW1_INIT))
		write_icw1(c, val);
	else if (off == 0 && (val & OCW3_SELECT))
		write_ocw3(c, val);
	else if (off == 0)
		write_ocw2(c, val);
	else if (c->icw_next)
		write_icw(c, val);
	else
		c->imr = val;
	unlock_and_notify(pic, update_outputs(pic));
}

static uint8_t chip_read(struct pic *pic, struct pic_chip *c, uint64_t off)
{
	uint8_t val;

	pthread_mutex_lock(&pic->lock);
	if (c->poll)
		val = chip_poll(c, c == &pic->master);
	else if (off == 1)
		val = c->imr;
	else
		val = c->read_isr ? c->isr : c->irr;
	unlock_and_notify(pic, update_outputs(pic));
	return val;
}

static uint64_t master_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pic *pic = opaque;

	(void)size;
	return chip_read(pic, &pic->master, off);
}

static void master_write(void *opaque, uint64_t off, unsigned int size,
			 uint64_t val)
{
	struct pic *pic = opaque;

	(void)size;
	chip_write(pic, &pic->master, off, val);
}

static uint64_t slave_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pic *pic = opaque;

	(void)size;
	return chip_read(pic, &pic->slave, off);
}

static void slave_write(void *opaque, uint64_t off, unsigned int size,
			uint64_t val)
{
	struct pic *pic = opaque;

	(void)size;
	chip_write(pic, &pic->slave, off, val);
}

static struct pic_chip *elcr_chip(struct pic *pic, uint64_t off)
{
	return off == 0 ? &pic->master : &pic->slave;
}

static uint64_t elcr_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pic *pic = opaque;
	uint8_t val;

	(void)size;
	pthread_mutex_lock(&pic->lock);
	val = elcr_chip(pic, off)->elcr;
	pthread_mutex_unlock(&pic->lock);
	return val;
}

static void elcr_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct pic *pic = opaque;
	struct pic_chip *c = elcr_chip(pic, off);

	(void)size;
	pthread_mutex_lock(&pic->lock);
	c->elcr = val & c->elcr_writable;
	follow_level_lines(c);
	unlock_and_notify(pic, update_outputs(pic));
}

static const struct bus_ops master_ops = {
	.read = master_read,
	.write = master_write,
};

static const struct bus_ops slave_ops = {
	.read = slave_read,
	.write = slave_write,
};

static const struct bus_ops elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
};

int pic_attach(struct pic *pic, struct bus *pio)
{
	int ret;

	ret = bus_register(pio, PIC_MASTER_PORT, 2, "pic-master", &master_ops,
			   pic);
	if (!ret)
		ret = bus_register(pio, PIC_SLAVE_PORT, 2, "pic-slave",
				   &slave_ops, pic);
	if (!ret)
		ret = bus_register(pio, PIC_ELCR_PORT, 2, "elcr", &elcr_ops,
				   pic);
	return ret;
}
