// SPDX-License-Identifier: GPL-2.0
/* The 8259A pair, programmed through its ports as Linux and a BIOS do. */
#include <errno.h>
#include <pthread.h>

#include "devices.h"
#include "tests.h"

#define M_CMD	0x20
#define M_DATA	0x21
#define S_CMD	0xa0
#define S_DATA	0xa1
#define ELCR_M	0x4d0
#define ELCR_S	0x4d1

#define OCW3_READ_IRR	0x0a
#define OCW3_READ_ISR	0x0b
#define OCW3_POLL	0x0c
#define OCW2_EOI	0x20
#define OCW2_SEOI(ir)	(0x60 | (ir))

static struct bus pio;
static struct pic pic;
static int raised;

static void count_raise(void *opaque)
{
	int *count = opaque;

	(*count)++;
}

static void setup(void)
{
	bus_init(&pio, "pio");
	pic_init(&pic);
	ck_assert_int_eq(pic_attach(&pic, &pio), 0);
	raised = 0;
	pic_set_intr_callback(&pic, count_raise, &raised);
}

static void out(uint16_t port, uint8_t val)
{
	bus_write(&pio, port, 1, val);
}

static uint8_t in(uint16_t port)
{
	return bus_read(&pio, port, 1);
}

/* Linux's init_8259A(): vectors 0x30 and 0x38, slave on IR2. */
static void init_linux(int auto_eoi)
{
	out(M_DATA, 0xff);
	out(S_DATA, 0xff);
	out(M_CMD, 0x11);
	out(M_DATA, 0x30);
	out(M_DATA, 1 << 2);
	out(M_DATA, auto_eoi ? 0x03 : 0x01);
	out(S_CMD, 0x11);
	out(S_DATA, 0x38);
	out(S_DATA, 2);
	out(S_DATA, 0x01);
	out(M_DATA, 0x00);
	out(S_DATA, 0x00);
}

static uint8_t read_reg(uint16_t cmd_port, uint8_t ocw3)
{
	out(cmd_port, ocw3);
	return in(cmd_port);
}

static uint8_t irr(uint16_t cmd_port)
{
	return read_reg(cmd_port, OCW3_READ_IRR);
}

static uint8_t isr(uint16_t cmd_port)
{
	return read_reg(cmd_port, OCW3_READ_ISR);
}

START_TEST(test_power_on_masks_everything)
{
	ck_assert_uint_eq(in(M_DATA), 0xff);
	ck_assert_uint_eq(in(S_DATA), 0xff);
	pic_set_irq(&pic, 1, 1);
	pic_set_irq(&pic, 12, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_int_eq(raised, 0);
	/* The BIOS vector base: IRQ 7's vector is the spurious answer. */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x0f);
	/* Requests are latched even while masked ... */
	ck_assert_uint_eq(irr(S_CMD), 0x10);
	/* ... but a masked slave request does not reach the master. */
	ck_assert_uint_eq(irr(M_CMD), 0x02);
}
END_TEST

START_TEST(test_imr_reads_back)
{
	/* Linux's probe_8259A(): no PIC unless the mask reads back. */
	out(M_DATA, 0xff);
	out(M_DATA, 0xa5);
	ck_assert_uint_eq(in(M_DATA), 0xa5);
	out(S_DATA, 0x5a);
	ck_assert_uint_eq(in(S_DATA), 0x5a);
	ck_assert_uint_eq(in(M_DATA), 0xa5);
}
END_TEST

START_TEST(test_init_sets_vector_base)
{
	init_linux(0);
	pic_set_irq(&pic, 0, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x30);
	out(M_CMD, OCW2_EOI);
	pic_set_irq(&pic, 9, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x39);

	/* ICW2's low three bits are not part of the base. */
	out(M_CMD, 0x11);
	out(M_DATA, 0x47);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	pic_set_irq(&pic, 6, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x46);
}
END_TEST

START_TEST(test_init_without_icw3_and_icw4)
{
	/* SNGL, no IC4: ICW2 only, the next data write is the mask. */
	out(M_CMD, 0x12);
	ck_assert_uint_eq(in(M_DATA), 0x00);	/* ICW1 clears IMR */
	out(M_DATA, 0x20);
	out(M_DATA, 0xfe);
	ck_assert_uint_eq(in(M_DATA), 0xfe);
	pic_set_irq(&pic, 0, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x20);
	/* No ICW4: no AEOI, the request is in service. */
	ck_assert_uint_eq(isr(M_CMD), 0x01);

	/* Cascade, no IC4: ICW2, ICW3, then the mask. */
	out(S_CMD, 0x10);
	out(S_DATA, 0x28);
	out(S_DATA, 0x02);
	out(S_DATA, 0x7f);
	ck_assert_uint_eq(in(S_DATA), 0x7f);
}
END_TEST

START_TEST(test_icw1_clears_state)
{
	init_linux(0);
	pic_set_irq(&pic, 3, 1);
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	out(M_DATA, 0x40);
	out(M_CMD, OCW3_READ_ISR);
	ck_assert_uint_eq(in(M_CMD), 0x08);

	out(M_CMD, 0x11);
	out(M_DATA, 0x30);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	ck_assert_uint_eq(in(M_DATA), 0x00);
	/* The read select is back to IRR; ISR and IRR are clear. */
	ck_assert_uint_eq(in(M_CMD), 0x00);
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	/* The edge detector was reset: line 5, still high, must rise again. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	pic_set_irq(&pic, 5, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	pic_set_irq(&pic, 5, 0);
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
}
END_TEST

START_TEST(test_mask_holds_request_back)
{
	init_linux(0);
	out(M_DATA, 0x10);
	pic_set_irq(&pic, 4, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(irr(M_CMD), 0x10);
	out(M_DATA, 0x00);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	/* Masked between INTR and INTA: the request is gone for the CPU. */
	out(M_DATA, 0x10);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);
	ck_assert_uint_eq(isr(M_CMD), 0x00);

	/* The slave's mask, and the cascade's mask on the master. */
	out(M_DATA, 0x00);
	pic_set_irq(&pic, 4, 0);
	out(M_CMD, 0x11);
	out(M_DATA, 0x30);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	out(S_DATA, 0x08);
	pic_set_irq(&pic, 11, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(S_DATA, 0x00);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	out(M_DATA, 0x04);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_DATA, 0x00);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3b);
}
END_TEST

START_TEST(test_fixed_priority_and_nesting)
{
	init_linux(0);
	pic_set_irq(&pic, 5, 1);
	pic_set_irq(&pic, 3, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	/* IRQ 3 in service holds back 5, lower priority ... */
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* ... and itself, but not a higher one. */
	pic_set_irq(&pic, 3, 0);
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	pic_set_irq(&pic, 1, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x31);
	ck_assert_uint_eq(isr(M_CMD), 0x0a);
	out(M_CMD, OCW2_EOI);		/* ends IRQ 1, the highest */
	ck_assert_uint_eq(isr(M_CMD), 0x08);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);	/* relatched */
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

START_TEST(test_cascade_priority)
{
	init_linux(0);
	/* The slave's lines rank as IR2: above IRQ 3 ... */
	pic_set_irq(&pic, 3, 1);
	pic_set_irq(&pic, 14, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3e);
	ck_assert_uint_eq(isr(M_CMD), 0x04);
	ck_assert_uint_eq(isr(S_CMD), 0x40);
	/* ... so IRQ 3 waits for the master's EOI of the cascade. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* A higher slave line still waits too: IR2 is in service. */
	pic_set_irq(&pic, 8, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* Linux's order: specific EOI to the slave, then to master IR2. */
	out(S_CMD, OCW2_SEOI(6));
	out(M_CMD, OCW2_SEOI(2));
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	ck_assert_uint_eq(isr(S_CMD), 0x00);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x38);
	out(S_CMD, OCW2_EOI);
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	out(M_CMD, OCW2_EOI);

	/* ... and below IRQ 0 and 1. */
	pic_set_irq(&pic, 9, 1);
	pic_set_irq(&pic, 1, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x31);
	/* IRQ 1 in service holds back the whole slave. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x39);
}
END_TEST

START_TEST(test_slave_priority_inside)
{
	init_linux(0);
	pic_set_irq(&pic, 12, 1);
	pic_set_irq(&pic, 10, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3a);
	out(S_CMD, OCW2_EOI);
	out(M_CMD, OCW2_EOI);
	/* The slave's second request is a new rise of the master's IR2. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3c);
	out(S_CMD, OCW2_EOI);
	out(M_CMD, OCW2_EOI);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

START_TEST(test_specific_eoi)
{
	init_linux(0);
	pic_set_irq(&pic, 6, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x36);
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
	ck_assert_uint_eq(isr(M_CMD), 0x50);
	/* Ends the named level, not the highest one. */
	out(M_CMD, OCW2_SEOI(6));
	ck_assert_uint_eq(isr(M_CMD), 0x10);
	/* Specific EOI of a level not in service changes nothing. */
	out(M_CMD, OCW2_SEOI(3));
	ck_assert_uint_eq(isr(M_CMD), 0x10);
	out(M_CMD, 0x40);		/* OCW2 no-op */
	ck_assert_uint_eq(isr(M_CMD), 0x10);
	out(M_CMD, OCW2_SEOI(4));
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	/* A non-specific EOI with nothing in service is harmless. */
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(isr(M_CMD), 0x00);
}
END_TEST

START_TEST(test_rotation)
{
	init_linux(0);
	pic_set_irq(&pic, 3, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	out(M_CMD, 0xa0);	/* rotate on non-specific EOI: IR3 lowest */
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	pic_set_irq(&pic, 3, 0);
	pic_set_irq(&pic, 3, 1);
	pic_set_irq(&pic, 5, 1);
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
	out(M_CMD, 0xe0 | 4);	/* rotate on specific EOI: IR4 lowest */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
	out(M_CMD, OCW2_SEOI(5));
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	out(M_CMD, OCW2_SEOI(3));

	/* Set priority: IR6 lowest makes IR7 the highest. */
	out(M_CMD, 0xc0 | 6);
	pic_set_irq(&pic, 0, 1);
	pic_set_irq(&pic, 7, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);
	ck_assert_uint_eq(isr(M_CMD), 0x80);
	/* Back to fixed priority: IR7 lowest. */
	out(M_CMD, 0xc0 | 7);
	pic_set_irq(&pic, 6, 1);
	/* IR7 in service no longer holds back IR0 or IR6. */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x30);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);	/* spurious */
	out(M_CMD, OCW2_EOI);	/* IR0 */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x36);
}
END_TEST

START_TEST(test_ocw3_register_select)
{
	init_linux(0);
	pic_set_irq(&pic, 1, 1);
	pic_set_irq(&pic, 0, 1);
	ck_assert_uint_eq(in(M_CMD), 0x03);	/* IRR after init */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x30);
	ck_assert_uint_eq(in(M_CMD), 0x02);
	out(M_CMD, OCW3_READ_ISR);
	ck_assert_uint_eq(in(M_CMD), 0x01);
	ck_assert_uint_eq(in(M_CMD), 0x01);	/* the selection sticks */
	out(M_CMD, 0x08);			/* OCW3 without RR: kept */
	ck_assert_uint_eq(in(M_CMD), 0x01);
	out(M_CMD, 0x09);			/* RIS without RR: ignored */
	ck_assert_uint_eq(in(M_CMD), 0x01);
	out(M_CMD, OCW3_READ_IRR);
	ck_assert_uint_eq(in(M_CMD), 0x02);
	/* The data port reads IMR whatever the selection. */
	out(M_CMD, OCW3_READ_ISR);
	ck_assert_uint_eq(in(M_DATA), 0x00);
}
END_TEST

START_TEST(test_poll_command)
{
	init_linux(0);
	ck_assert_uint_eq(read_reg(M_CMD, OCW3_POLL), 0x00);
	pic_set_irq(&pic, 6, 1);
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(read_reg(M_CMD, OCW3_POLL), 0x84);
	/* The poll read was an acknowledge: IR4 is in service. */
	ck_assert_uint_eq(isr(M_CMD), 0x10);
	ck_assert_uint_eq(irr(M_CMD), 0x40);
	/* Only the next read polls. */
	ck_assert_uint_eq(in(M_CMD), 0x40);
	ck_assert_uint_eq(read_reg(M_CMD, OCW3_POLL), 0x00);
	out(M_CMD, OCW2_EOI);
	ck_assert_uint_eq(read_reg(M_CMD, OCW3_POLL), 0x86);
	out(M_CMD, OCW2_EOI);

	/* Polling the slave answers with its own IR number. */
	pic_set_irq(&pic, 13, 1);
	ck_assert_uint_eq(read_reg(S_CMD, OCW3_POLL), 0x85);
	ck_assert_uint_eq(isr(S_CMD), 0x20);
	/* The poll also works on the data port's read. */
	out(S_CMD, OCW2_EOI);
	pic_set_irq(&pic, 15, 1);
	out(S_CMD, OCW3_POLL);
	ck_assert_uint_eq(in(S_DATA), 0x87);
	ck_assert_uint_eq(in(S_DATA), 0x00);	/* IMR again */
}
END_TEST

START_TEST(test_edge_latches_a_pulse)
{
	init_linux(0);
	pic_set_irq(&pic, 4, 1);
	pic_set_irq(&pic, 4, 0);
	ck_assert_uint_eq(irr(M_CMD), 0x10);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
	out(M_CMD, OCW2_EOI);
	/* A line held high is one request, not one per EOI. */
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
	out(M_CMD, OCW2_EOI);
	pic_set_irq(&pic, 4, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(irr(M_CMD), 0x00);
}
END_TEST

START_TEST(test_level_follows_line)
{
	init_linux(0);
	out(ELCR_M, 0x20);
	ck_assert_uint_eq(in(ELCR_M), 0x20);
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(irr(M_CMD), 0x20);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	pic_set_irq(&pic, 5, 0);
	ck_assert_uint_eq(irr(M_CMD), 0x00);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* Still high at EOI: the same line interrupts again. */
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
	ck_assert_uint_eq(irr(M_CMD), 0x20);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_CMD, OCW2_EOI);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
	pic_set_irq(&pic, 5, 0);
	out(M_CMD, OCW2_EOI);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);

	/* Switching a latched edge line to level makes IRR follow it. */
	pic_set_irq(&pic, 6, 1);
	pic_set_irq(&pic, 6, 0);
	ck_assert_uint_eq(irr(M_CMD), 0x40);
	out(ELCR_M, 0x60);
	ck_assert_uint_eq(irr(M_CMD), 0x00);

	/* A slave line through the slave's ELCR. */
	out(ELCR_S, 0x08);
	pic_set_irq(&pic, 11, 1);
	ck_assert_uint_eq(irr(S_CMD), 0x08);
	pic_set_irq(&pic, 11, 0);
	ck_assert_uint_eq(irr(S_CMD), 0x00);
}
END_TEST

START_TEST(test_elcr_fixed_edge_lines)
{
	out(ELCR_M, 0xff);
	out(ELCR_S, 0xff);
	ck_assert_uint_eq(in(ELCR_M), 0xf8);	/* IRQ 0, 1, 2 */
	ck_assert_uint_eq(in(ELCR_S), 0xde);	/* IRQ 8, 13 */
	init_linux(0);
	/* ICW1 leaves the ELCR alone. */
	ck_assert_uint_eq(in(ELCR_M), 0xf8);
	pic_set_irq(&pic, 0, 1);
	pic_set_irq(&pic, 0, 0);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x30);	/* IRQ 0 latched */
}
END_TEST

START_TEST(test_ltim_makes_all_level)
{
	out(M_CMD, 0x19);	/* LTIM, cascade, ICW4 */
	out(M_DATA, 0x30);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	pic_set_irq(&pic, 0, 1);
	pic_set_irq(&pic, 0, 0);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(irr(M_CMD), 0x00);
	pic_set_irq(&pic, 0, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x30);
}
END_TEST

START_TEST(test_spurious_irq7)
{
	init_linux(0);
	out(ELCR_M, 0x08);
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	pic_set_irq(&pic, 3, 0);	/* gone before the INTA cycle */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);
	/* Linux tells it from a real IRQ 7 by the ISR bit. */
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	/* A real IRQ 7 sets it. */
	pic_set_irq(&pic, 7, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);
	ck_assert_uint_eq(isr(M_CMD), 0x80);
}
END_TEST

START_TEST(test_spurious_irq15)
{
	init_linux(0);
	out(ELCR_S, 0x08);
	pic_set_irq(&pic, 11, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	pic_set_irq(&pic, 11, 0);
	/*
	 * The master latched the cascade's edge and still asks; the slave
	 * has nothing left and answers with its IR7.
	 */
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3f);
	ck_assert_uint_eq(isr(S_CMD), 0x00);
	/* The master's cascade is in service: Linux sends it an EOI. */
	ck_assert_uint_eq(isr(M_CMD), 0x04);
	out(M_CMD, OCW2_SEOI(2));
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

START_TEST(test_auto_eoi)
{
	init_linux(1);
	pic_set_irq(&pic, 3, 1);
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	ck_assert_uint_eq(isr(M_CMD), 0x00);
	/* Nothing in service: the lower request follows at once. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x35);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);

	/* Rotate in AEOI mode: the acknowledged level becomes lowest. */
	out(M_CMD, 0x80);
	pic_set_irq(&pic, 3, 0);
	pic_set_irq(&pic, 3, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	pic_set_irq(&pic, 3, 0);
	pic_set_irq(&pic, 3, 1);
	pic_set_irq(&pic, 6, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x36);
	out(M_CMD, 0x00);	/* clear rotate in AEOI */
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);	/* IR6 lowest */
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
}
END_TEST

START_TEST(test_auto_eoi_slave_keeps_delivering)
{
	out(M_CMD, 0x11);
	out(M_DATA, 0x30);
	out(M_DATA, 0x04);
	out(M_DATA, 0x03);
	out(S_CMD, 0x11);
	out(S_DATA, 0x38);
	out(S_DATA, 0x02);
	out(S_DATA, 0x03);
	pic_set_irq(&pic, 8, 1);
	pic_set_irq(&pic, 12, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x38);
	/* The slave still asks: a new edge on the master's IR2. */
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3c);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(isr(M_CMD) | isr(S_CMD), 0x00);
}
END_TEST

START_TEST(test_special_mask_mode)
{
	init_linux(0);
	pic_set_irq(&pic, 3, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	pic_set_irq(&pic, 6, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* The handler masks itself and enters special mask mode. */
	out(M_DATA, 0x08);
	out(M_CMD, 0x68);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x36);
	ck_assert_uint_eq(isr(M_CMD), 0x48);
	out(M_CMD, OCW2_SEOI(6));
	/* Leaving it: IR3 in service holds lower levels back again. */
	out(M_CMD, 0x48);
	pic_set_irq(&pic, 6, 0);
	pic_set_irq(&pic, 6, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	/* ESMM clear: the SMM bit alone changes nothing. */
	out(M_CMD, 0x28);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

START_TEST(test_special_fully_nested)
{
	out(M_CMD, 0x11);
	out(M_DATA, 0x30);
	out(M_DATA, 0x04);
	out(M_DATA, 0x11);	/* SFNM */
	out(S_CMD, 0x11);
	out(S_DATA, 0x38);
	out(S_DATA, 0x02);
	out(S_DATA, 0x01);
	pic_set_irq(&pic, 12, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x3c);
	/* A higher slave level may interrupt the slave's own handler. */
	pic_set_irq(&pic, 9, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x39);
	ck_assert_uint_eq(isr(S_CMD), 0x12);
	/* A lower master level may not. */
	pic_set_irq(&pic, 5, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

START_TEST(test_callback_once_per_rising_intr)
{
	init_linux(0);
	ck_assert_int_eq(raised, 0);
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(raised, 1);
	pic_set_irq(&pic, 4, 1);	/* INTR already high */
	pic_set_irq(&pic, 3, 1);
	ck_assert_int_eq(raised, 1);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x33);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_CMD, OCW2_EOI);		/* IRQ 4 comes through */
	ck_assert_int_eq(raised, 2);
	out(M_DATA, 0x10);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	out(M_DATA, 0x00);
	ck_assert_int_eq(raised, 3);
	/* A higher request while INTR is high: no new edge. */
	pic_set_irq(&pic, 1, 1);
	ck_assert_int_eq(raised, 3);
	/* Reads and unrelated writes do not call it. */
	irr(M_CMD);
	out(S_DATA, 0xff);
	ck_assert_int_eq(raised, 3);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x31);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x37);	/* 4 held back */
	ck_assert_int_eq(raised, 3);
	out(M_CMD, OCW2_EOI);
	ck_assert_int_eq(raised, 4);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x34);
	/* Through the cascade too. */
	out(S_DATA, 0x00);
	pic_set_irq(&pic, 10, 1);
	ck_assert_int_eq(raised, 5);

	/* No callback set: INTR still works. */
	pic_set_intr_callback(&pic, NULL, NULL);
	out(M_DATA, 0xff);
	out(M_DATA, 0x00);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_int_eq(raised, 5);
}
END_TEST

static int intr_seen_by_callback;

/* What a runner's kick may do: look at the PIC again, from the callback. */
static void look_again(void *opaque)
{
	struct pic *p = opaque;

	intr_seen_by_callback = pic_has_interrupt(p);
}

START_TEST(test_callback_may_call_back)
{
	init_linux(0);
	intr_seen_by_callback = 0;
	pic_set_intr_callback(&pic, look_again, &pic);
	pic_set_irq(&pic, 12, 1);	/* would deadlock under the lock */
	ck_assert_int_eq(intr_seen_by_callback, 1);
}
END_TEST

#define STRESS_PULSES	2000

static void *pulse_line(void *arg)
{
	unsigned int line = (uintptr_t)arg;
	int i;

	for (i = 0; i < STRESS_PULSES; i++) {
		pic_set_irq(&pic, line, 1);
		pic_set_irq(&pic, line, 0);
	}
	return NULL;
}

/* One INTA and the EOIs Linux would send; returns the IRQ, or -1. */
static int service_one(void)
{
	uint8_t vector = pic_acknowledge(&pic);
	int irq = vector - 0x30;

	ck_assert_uint_ge(vector, 0x30);
	ck_assert_uint_le(vector, 0x3f);
	if (irq >= 8)
		out(S_CMD, OCW2_EOI);
	if (irq != 7 && irq != 15)
		out(M_CMD, OCW2_EOI);
	else if (irq == 15)
		out(M_CMD, OCW2_SEOI(2));
	return irq == 7 || irq == 15 ? -1 : irq;
}

START_TEST(test_concurrent_devices)
{
	static const unsigned int lines[] = { 0, 4, 10, 14 };
	pthread_t threads[4];
	unsigned int served[16] = { 0 };
	unsigned int i;
	int irq;

	init_linux(0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, pulse_line,
						(void *)(uintptr_t)lines[i]),
				 0);
	for (i = 0; i < 20000; i++) {
		irq = pic_has_interrupt(&pic) ? service_one() : -1;
		if (irq >= 0)
			served[irq]++;
	}
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	while (pic_has_interrupt(&pic)) {
		irq = service_one();
		if (irq >= 0)
			served[irq]++;
	}
	/* Every line got through, nothing else did, nothing is left. */
	for (i = 0; i < 16; i++) {
		if (i == 0 || i == 4 || i == 10 || i == 14)
			ck_assert_uint_ge(served[i], 1);
		else
			ck_assert_uint_eq(served[i], 0);
	}
	ck_assert_uint_eq(isr(M_CMD) | isr(S_CMD), 0x00);
	ck_assert_uint_eq(irr(S_CMD), 0x00);
}
END_TEST

START_TEST(test_bad_lines_are_ignored)
{
	init_linux(0);
	pic_set_irq(&pic, 2, 1);	/* the cascade is not a device line */
	pic_set_irq(&pic, 16, 1);
	pic_set_irq(&pic, ~0u, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	ck_assert_uint_eq(irr(M_CMD) | irr(S_CMD), 0x00);
	ck_assert_int_eq(raised, 0);
}
END_TEST

START_TEST(test_attach_claims_ports)
{
	struct pic other;

	pic_init(&other);
	ck_assert_int_eq(pic_attach(&other, &pio), -EEXIST);
	ck_assert_ptr_nonnull(bus_find(&pio, 0x21));
	ck_assert_ptr_nonnull(bus_find(&pio, 0xa1));
	ck_assert_ptr_nonnull(bus_find(&pio, 0x4d1));
	ck_assert_ptr_null(bus_find(&pio, 0x22));
	ck_assert_ptr_null(bus_find(&pio, 0x4d2));
}
END_TEST

Suite *pic_suite(void)
{
	Suite *s = suite_create("pic");
	TCase *tc = tcase_create("8259a");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_power_on_masks_everything);
	tcase_add_test(tc, test_imr_reads_back);
	tcase_add_test(tc, test_init_sets_vector_base);
	tcase_add_test(tc, test_init_without_icw3_and_icw4);
	tcase_add_test(tc, test_icw1_clears_state);
	tcase_add_test(tc, test_mask_holds_request_back);
	tcase_add_test(tc, test_fixed_priority_and_nesting);
	tcase_add_test(tc, test_cascade_priority);
	tcase_add_test(tc, test_slave_priority_inside);
	tcase_add_test(tc, test_specific_eoi);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_ocw3_register_select);
	tcase_add_test(tc, test_poll_command);
	tcase_add_test(tc, test_edge_latches_a_pulse);
	tcase_add_test(tc, test_level_follows_line);
	tcase_add_test(tc, test_elcr_fixed_edge_lines);
	tcase_add_test(tc, test_ltim_makes_all_level);
	tcase_add_test(tc, test_spurious_irq7);
	tcase_add_test(tc, test_spurious_irq15);
	tcase_add_test(tc, test_auto_eoi);
	tcase_add_test(tc, test_auto_eoi_slave_keeps_delivering);
	tcase_add_test(tc, test_special_mask_mode);
	tcase_add_test(tc, test_special_fully_nested);
	tcase_add_test(tc, test_callback_once_per_rising_intr);
	tcase_add_test(tc, test_callback_may_call_back);
	tcase_add_test(tc, test_concurrent_devices);
	tcase_add_test(tc, test_bad_lines_are_ignored);
	tcase_add_test(tc, test_attach_claims_ports);
	suite_add_tcase(s, tc);
	return s;
}
