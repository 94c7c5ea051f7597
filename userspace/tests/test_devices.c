// SPDX-License-Identifier: GPL-2.0
/*
 * Exit device, reset sources, CMOS, debug console, MMIO scratch.  The
 * keyboard controller's reset is in test_i8042.c.
 */
#include <stdlib.h>

#include "devices.h"
#include "runctl.h"
#include "tests.h"

static struct bus pio;

static void setup(void)
{
	bus_init(&pio, "pio");
	runctl_reset();
}

START_TEST(test_exit_port_sets_status)
{
	ck_assert_int_eq(exitdev_attach(&pio), 0);
	ck_assert_int_eq(runctl_stopping(), 0);
	bus_write(&pio, EXITDEV_PORT, 1, 42);
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_wait(), 42);
	/* The first request wins. */
	bus_write(&pio, EXITDEV_PORT, 4, 7);
	ck_assert_int_eq(runctl_status(), 42);
}
END_TEST

START_TEST(test_exit_port_zero_is_success)
{
	exitdev_attach(&pio);
	bus_write(&pio, EXITDEV_PORT, 2, 0x100);	/* status is N & 0xff */
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), 0);
}
END_TEST

START_TEST(test_reset_cf9)
{
	struct resetdev r;

	resetdev_init(&r);
	ck_assert_int_eq(resetdev_attach(&r, &pio), 0);
	bus_write(&pio, 0xcf9, 1, 0x02);	/* "hard reset" bit alone: no */
	ck_assert_int_eq(runctl_stopping(), 0);
	ck_assert_uint_eq(bus_read(&pio, 0xcf9, 1), 0x02);
	bus_write(&pio, 0xcf9, 1, 0x06);
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), 0);
}
END_TEST

START_TEST(test_reset_port92)
{
	struct resetdev r;

	resetdev_init(&r);
	resetdev_attach(&r, &pio);
	ck_assert_uint_eq(bus_read(&pio, 0x92, 1), 0x02);
	bus_write(&pio, 0x92, 1, 0x00);
	ck_assert_uint_eq(bus_read(&pio, 0x92, 1), 0x02);	/* A20 stays on */
	ck_assert_int_eq(runctl_stopping(), 0);
	bus_write(&pio, 0x92, 1, 0x01);
	ck_assert_int_eq(runctl_stopping(), 1);
}
END_TEST

static unsigned int cmos_get(unsigned int idx)
{
	bus_write(&pio, 0x70, 1, idx);
	return bus_read(&pio, 0x71, 1);
}

static unsigned int cmos_get16(unsigned int idx)
{
	return cmos_get(idx) | cmos_get(idx + 1) << 8;
}

START_TEST(test_cmos_memory_size_64m)
{
	static struct cmos c;

	cmos_init(&c, 64ULL << 20, 0);
	ck_assert_int_eq(cmos_attach(&c, &pio), 0);
	ck_assert_uint_eq(cmos_get16(0x15), 640);
	ck_assert_uint_eq(cmos_get16(0x17), 63 * 1024);
	ck_assert_uint_eq(cmos_get16(0x30), 63 * 1024);
	ck_assert_uint_eq(cmos_get16(0x34), (48 << 20) >> 16);
	ck_assert_uint_eq(cmos_get(0x5b) | cmos_get(0x5c) | cmos_get(0x5d), 0);
	/* Bit 7 of the index is the NMI mask, not part of the index. */
	ck_assert_uint_eq(cmos_get(0x80 | 0x15), 640 & 0xff);
}
END_TEST

START_TEST(test_cmos_memory_size_large)
{
	static struct cmos c;

	cmos_init(&c, 3ULL << 30, 6ULL << 30);
	cmos_attach(&c, &pio);
	ck_assert_uint_eq(cmos_get16(0x30), 0xffff);	/* saturates */
	ck_assert_uint_eq(cmos_get16(0x34), ((3ULL << 30) - (16 << 20)) >> 16);
	ck_assert_uint_eq(cmos_get(0x5b) | cmos_get(0x5c) << 8 |
			  cmos_get(0x5d) << 16, (6ULL << 30) >> 16);
}
END_TEST

static int is_bcd(unsigned int v)
{
	return (v & 0xf) <= 9 && (v >> 4) <= 9;
}

START_TEST(test_cmos_clock_is_bcd_and_ram_keeps_values)
{
	static struct cmos c;

	cmos_init(&c, 16 << 20, 0);
	cmos_attach(&c, &pio);
	ck_assert(is_bcd(cmos_get(0x00)));
	ck_assert(is_bcd(cmos_get(0x02)));
	ck_assert(is_bcd(cmos_get(0x04)));
	ck_assert(is_bcd(cmos_get(0x09)));
	ck_assert_uint_eq(cmos_get(0x32), 0x20);
	ck_assert_uint_eq(cmos_get(0x0b), 0x02);
	ck_assert_uint_eq(cmos_get(0x0d), 0x80);
	bus_write(&pio, 0x70, 1, 0x0d);
	bus_write(&pio, 0x71, 1, 0x00);		/* read-only */
	ck_assert_uint_eq(cmos_get(0x0d), 0x80);
	bus_write(&pio, 0x70, 1, 0x40);
	bus_write(&pio, 0x71, 1, 0xa5);
	ck_assert_uint_eq(cmos_get(0x40), 0xa5);
}
END_TEST

START_TEST(test_debugcon_and_scratch)
{
	static struct scratch s;
	struct debugcon d;
	struct bus mmio;
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	debugcon_init(&d, f);
	ck_assert_int_eq(debugcon_attach(&d, &pio), 0);
	bus_write(&pio, 0xe9, 1, 'o');
	bus_write(&pio, 0xe9, 1, 'k');
	ck_assert_uint_eq(bus_read(&pio, 0xe9, 1), 0xe9);
	fclose(f);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(buf, "ok", 2);
	free(buf);

	bus_init(&mmio, "mmio");
	scratch_init(&s);
	ck_assert_int_eq(scratch_attach(&s, &mmio), 0);
	bus_write(&mmio, SCRATCH_MMIO_BASE + 8, 8, 0x0123456789abcdefULL);
	ck_assert_uint_eq(bus_read(&mmio, SCRATCH_MMIO_BASE + 8, 8),
			  0x0123456789abcdefULL);
	ck_assert_uint_eq(bus_read(&mmio, SCRATCH_MMIO_BASE + 9, 2), 0xabcd);
	ck_assert_uint_eq(bus_read(&mmio, SCRATCH_MMIO_BASE + 0xffe, 4),
			  0xffffffffULL);
	ck_assert_uint_eq(bus_read(&mmio, SCRATCH_MMIO_BASE + 0x1000, 4),
			  0xffffffffULL);
	ck_assert_uint_eq(mmio.unhandled_reads, 1);
}
END_TEST

Suite *devices_suite(void)
{
	Suite *s = suite_create("devices");
	TCase *tc = tcase_create("pio");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_exit_port_sets_status);
	tcase_add_test(tc, test_exit_port_zero_is_success);
	tcase_add_test(tc, test_reset_cf9);
	tcase_add_test(tc, test_reset_port92);
	tcase_add_test(tc, test_cmos_memory_size_64m);
	tcase_add_test(tc, test_cmos_memory_size_large);
	tcase_add_test(tc, test_cmos_clock_is_bcd_and_ram_keeps_values);
	tcase_add_test(tc, test_debugcon_and_scratch);
	suite_add_tcase(s, tc);
	return s;
}
