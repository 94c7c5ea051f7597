// SPDX-License-Identifier: GPL-2.0
/*
 * The 8042 keyboard controller with no devices, and port 0x80, driven
 * through the port bus the way Linux's i8042 driver and reboot code do.
 */
#include <string.h>

#include "devices.h"
#include "runctl.h"
#include "tests.h"

#define DATA	I8042_DATA_PORT
#define CMD	I8042_COMMAND_PORT

/* Status bits */
#define OBF	0x01
#define IBF	0x02
#define SYS	0x04
#define CMDDAT	0x08
#define UNLOCK	0x10
#define AUXDATA	0x20
#define TIMEOUT	0x40

/* Command byte bits */
#define KBDINT	0x01
#define AUXINT	0x02
#define KBDDIS	0x10
#define AUXDIS	0x20
#define XLATE	0x40

static struct bus pio;
static struct i8042 kbc;
static int level[16], rises[16];

static void follow_irq(void *opaque, unsigned int irq, int lvl)
{
	(void)opaque;
	ck_assert(irq == I8042_KBD_IRQ || irq == I8042_AUX_IRQ);
	if (lvl && !level[irq])
		rises[irq]++;
	level[irq] = lvl;
}

static void setup(void)
{
	bus_init(&pio, "pio");
	runctl_reset();
	i8042_init(&kbc);
	ck_assert_int_eq(i8042_attach(&kbc, &pio), 0);
	memset(level, 0, sizeof(level));
	memset(rises, 0, sizeof(rises));
	i8042_connect_irq(&kbc, follow_irq, NULL);
}

static uint8_t status(void)
{
	return bus_read(&pio, CMD, 1);
}

static void command(uint8_t cmd)
{
	bus_write(&pio, CMD, 1, cmd);
}

static void data(uint8_t val)
{
	bus_write(&pio, DATA, 1, val);
}

/* A command that returns one byte: check OBF, then read it. */
static uint8_t query(uint8_t cmd)
{
	command(cmd);
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), OBF);
	return bus_read(&pio, DATA, 1);
}

static uint8_t read_ctr(void)
{
	return query(0x20);
}

static void write_ctr(uint8_t val)
{
	command(0x60);
	data(val);
}

START_TEST(test_power_on_status_and_ctr)
{
	/* Unlocked, POST passed, nothing to read, ready for input. */
	ck_assert_uint_eq(status(), UNLOCK | SYS);
	ck_assert_uint_eq(read_ctr(), XLATE | AUXDIS | 0x04 | KBDINT);
	ck_assert_uint_eq(status() & (OBF | IBF), 0);
}
END_TEST

START_TEST(test_self_test)
{
	write_ctr(0x00);		/* SYS off as after a cold start */
	ck_assert_uint_eq(status() & SYS, 0);
	ck_assert_uint_eq(query(0xaa), 0x55);
	ck_assert_uint_eq(status() & OBF, 0);
	ck_assert_uint_eq(status() & SYS, SYS);
	ck_assert_uint_eq(read_ctr(), 0x04);
}
END_TEST

START_TEST(test_ctr_and_ram_round_trip)
{
	write_ctr(0x47);
	ck_assert_uint_eq(read_ctr(), 0x47);
	write_ctr(0x74);
	ck_assert_uint_eq(read_ctr(), 0x74);
	command(0x7f);			/* RAM byte 31 */
	data(0xa5);
	command(0x61);
	data(0x5a);
	ck_assert_uint_eq(query(0x3f), 0xa5);
	ck_assert_uint_eq(query(0x21), 0x5a);
	ck_assert_uint_eq(read_ctr(), 0x74);	/* RAM writes left it */
}
END_TEST

START_TEST(test_status_command_bit_and_no_ibf)
{
	command(0xad);
	ck_assert_uint_eq(status() & (CMDDAT | IBF), CMDDAT);
	data(0x00);			/* to the keyboard */
	ck_assert_uint_eq(status() & (CMDDAT | IBF), 0);
	/* The system flag is the command byte's bit 2. */
	write_ctr(0x00);
	ck_assert_uint_eq(status() & SYS, 0);
	write_ctr(0x04);
	ck_assert_uint_eq(status() & SYS, SYS);
	ck_assert_uint_eq(status() & UNLOCK, UNLOCK);
}
END_TEST

START_TEST(test_enable_disable_ports)
{
	write_ctr(0x00);
	command(0xad);
	ck_assert_uint_eq(read_ctr(), KBDDIS);
	command(0xa7);
	ck_assert_uint_eq(read_ctr(), KBDDIS | AUXDIS);
	command(0xae);
	ck_assert_uint_eq(read_ctr(), AUXDIS);
	command(0xa8);
	ck_assert_uint_eq(read_ctr(), 0x00);
}
END_TEST

START_TEST(test_port_tests_and_password)
{
	ck_assert_uint_eq(query(0xab), 0x00);
	ck_assert_uint_eq(query(0xa9), 0x00);
	ck_assert_uint_eq(query(0xa4), 0xf1);	/* no password */
}
END_TEST

START_TEST(test_loopback)
{
	command(0xd3);			/* as if from the aux device */
	data(0x5a);
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), OBF | AUXDATA);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0x5a);
	ck_assert_uint_eq(status() & (OBF | AUXDATA), 0);
	command(0xd2);			/* as if from the keyboard */
	data(0xa4);
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), OBF);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0xa4);
}
END_TEST

START_TEST(test_no_keyboard_answers_fe_with_timeout)
{
	data(0xf2);			/* keyboard GET ID */
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), OBF | TIMEOUT);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0xfe);
	ck_assert_uint_eq(status() & (OBF | TIMEOUT), 0);
	/* A byte after a command that took none goes to the keyboard too. */
	command(0xae);
	data(0xed);
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), OBF | TIMEOUT);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0xfe);
}
END_TEST

START_TEST(test_no_mouse_answers_fe_with_timeout)
{
	command(0xd4);
	data(0xff);			/* mouse reset */
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT),
			  OBF | AUXDATA | TIMEOUT);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0xfe);
	ck_assert_uint_eq(status() & (OBF | AUXDATA | TIMEOUT), 0);
}
END_TEST

START_TEST(test_irq1_follows_keyboard_data)
{
	write_ctr(KBDINT);
	data(0xf2);
	ck_assert_int_eq(level[1], 1);
	ck_assert_int_eq(level[12], 0);
	bus_read(&pio, DATA, 1);
	ck_assert_int_eq(level[1], 0);
	/* Controller answers come on IRQ 1 too. */
	query(0xaa);
	ck_assert_int_eq(rises[1], 2);
	/* With the interrupt disabled: no IRQ; enabling it raises the line. */
	write_ctr(0x00);
	data(0xf2);
	ck_assert_int_eq(level[1], 0);
	write_ctr(KBDINT);
	ck_assert_int_eq(level[1], 1);
	ck_assert_int_eq(rises[1], 3);
}
END_TEST

START_TEST(test_irq12_follows_aux_data)
{
	/* Linux's AUX IRQ test: loop 0xA5 back with AUXINT on. */
	write_ctr(AUXINT);
	command(0xd3);
	data(0xa5);
	ck_assert_int_eq(level[12], 1);
	ck_assert_int_eq(level[1], 0);
	ck_assert_uint_eq(status() & AUXDATA, AUXDATA);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1), 0xa5);
	ck_assert_int_eq(level[12], 0);
	command(0xd4);
	data(0xf2);
	ck_assert_int_eq(rises[12], 2);
	ck_assert_int_eq(rises[1], 0);
	/* AUXINT alone does not forward keyboard data. */
	bus_read(&pio, DATA, 1);
	data(0xf2);
	ck_assert_int_eq(level[1], 0);
	ck_assert_int_eq(level[12], 0);
	/* Nor KBDINT aux data. */
	bus_read(&pio, DATA, 1);
	write_ctr(KBDINT);
	command(0xd3);
	data(0xa5);
	ck_assert_uint_eq(status() & (OBF | AUXDATA), OBF | AUXDATA);
	ck_assert_int_eq(level[12], 0);
	ck_assert_int_eq(level[1], 0);
	ck_assert_int_eq(rises[12], 2);
}
END_TEST

START_TEST(test_output_port_keeps_a20_on)
{
	ck_assert_uint_eq(query(0xd0) & 0x03, 0x03);	/* A20, not in reset */
	command(0xd1);
	data(0xdd);			/* A20 off: ignored */
	ck_assert_int_eq(runctl_stopping(), 0);
	ck_assert_uint_eq(query(0xd0) & 0x03, 0x03);
	command(0xd1);
	data(0xdf);			/* what Linux writes */
	ck_assert_int_eq(runctl_stopping(), 0);
	ck_assert_uint_eq(status() & OBF, 0);	/* no answer, no keyboard */
}
END_TEST

START_TEST(test_output_port_irq_bits)
{
	write_ctr(KBDINT);
	data(0x00);			/* 0xFE pending, IRQ 1 high */
	command(0xd0);
	ck_assert_uint_eq(bus_read(&pio, DATA, 1) & 0x30, 0x10);
}
END_TEST

START_TEST(test_reset_command_ends_run)
{
	command(0xff);			/* pulses no line */
	data(0xfe);			/* goes to the keyboard */
	ck_assert_int_eq(runctl_stopping(), 0);
	command(0xfe);
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), 0);
	ck_assert_str_eq(runctl_reason(),
			 "guest reset through the keyboard controller");
}
END_TEST

START_TEST(test_other_pulses_of_bit0_reset)
{
	command(0xfd);			/* bit 0 not pulsed */
	ck_assert_int_eq(runctl_stopping(), 0);
	command(0xf0);
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), 0);
}
END_TEST

START_TEST(test_output_port_reset_line)
{
	command(0xd1);
	data(0x02);			/* reset line low */
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), 0);
	ck_assert_str_eq(runctl_reason(),
			 "guest reset through the keyboard controller");
}
END_TEST

/* Linux's reboot: kb_wait() until IBF clears, then 0xFE; never spins. */
START_TEST(test_reboot_after_pending_output)
{
	data(0xf4);			/* leave a byte in the buffer */
	ck_assert_uint_eq(status() & IBF, 0);
	command(0xfe);
	ck_assert_int_eq(runctl_stopping(), 1);
}
END_TEST

START_TEST(test_post_code_port)
{
	ck_assert_int_eq(postcode_attach(&pio), 0);
	ck_assert_uint_eq(bus_read(&pio, POSTCODE_PORT, 1), 0xff);
	ck_assert_uint_eq(bus_read(&pio, POSTCODE_PORT, 2), 0xffff);
	ck_assert_uint_eq(bus_read(&pio, POSTCODE_PORT, 4), 0xffffffffULL);
	bus_write(&pio, POSTCODE_PORT, 1, 0x00);
	bus_write(&pio, POSTCODE_PORT, 1, 0x55);
	ck_assert_uint_eq(bus_read(&pio, POSTCODE_PORT, 1), 0xff);
	ck_assert_uint_eq(pio.unhandled_reads, 0);
	ck_assert_uint_eq(pio.unhandled_writes, 0);
	ck_assert_int_eq(runctl_stopping(), 0);
}
END_TEST

Suite *i8042_suite(void)
{
	Suite *s = suite_create("i8042");
	TCase *tc = tcase_create("controller");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_power_on_status_and_ctr);
	tcase_add_test(tc, test_self_test);
	tcase_add_test(tc, test_ctr_and_ram_round_trip);
	tcase_add_test(tc, test_status_command_bit_and_no_ibf);
	tcase_add_test(tc, test_enable_disable_ports);
	tcase_add_test(tc, test_port_tests_and_password);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_no_keyboard_answers_fe_with_timeout);
	tcase_add_test(tc, test_no_mouse_answers_fe_with_timeout);
	tcase_add_test(tc, test_irq1_follows_keyboard_data);
	tcase_add_test(tc, test_irq12_follows_aux_data);
	tcase_add_test(tc, test_output_port_keeps_a20_on);
	tcase_add_test(tc, test_output_port_irq_bits);
	tcase_add_test(tc, test_reset_command_ends_run);
	tcase_add_test(tc, test_other_pulses_of_bit0_reset);
	tcase_add_test(tc, test_output_port_reset_line);
	tcase_add_test(tc, test_reboot_after_pending_output);
	tcase_add_test(tc, test_post_code_port);
	suite_add_tcase(s, tc);
	return s;
}
