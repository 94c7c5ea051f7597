// SPDX-License-Identifier: GPL-2.0
/* The port/MMIO bus: registration, dispatch, unclaimed accesses. */
#include <errno.h>

#include "bus.h"
#include "tests.h"

struct fake_dev {
	uint64_t last_off, last_val;
	unsigned int last_size, reads, writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned int size)
{
	struct fake_dev *d = opaque;

	d->reads++;
	d->last_off = off;
	d->last_size = size;
	return 0x1122334455667788ULL;
}

static void fake_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct fake_dev *d = opaque;

	d->writes++;
	d->last_off = off;
	d->last_size = size;
	d->last_val = val;
}

static const struct bus_ops fake_ops = { fake_read, fake_write };

START_TEST(test_register_rejects_overlap_and_empty)
{
	struct bus bus;
	struct fake_dev d = { 0 };

	bus_init(&bus, "pio");
	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, "a", &fake_ops, &d), 0);
	ck_assert_int_eq(bus_register(&bus, 0x3ff, 1, "b", &fake_ops, &d), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x3f0, 9, "c", &fake_ops, &d), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x3f0, 8, "d", &fake_ops, &d), 0);
	ck_assert_int_eq(bus_register(&bus, 0x100, 0, "e", &fake_ops, &d), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, ~0ULL, 2, "f", &fake_ops, &d), -EINVAL);
	ck_assert_uint_eq(bus.nr, 2);
}
END_TEST

START_TEST(test_register_full)
{
	struct bus bus;
	struct fake_dev d = { 0 };
	unsigned int i;

	bus_init(&bus, "pio");
	for (i = 0; i < BUS_MAX_RANGES; i++)
		ck_assert_int_eq(bus_register(&bus, i * 16, 16, "x", &fake_ops, &d), 0);
	ck_assert_int_eq(bus_register(&bus, 0x10000, 1, "y", &fake_ops, &d), -ENOSPC);
}
END_TEST

START_TEST(test_dispatch_passes_offset_and_size)
{
	struct bus bus;
	struct fake_dev a = { 0 }, b = { 0 };

	bus_init(&bus, "mmio");
	bus_register(&bus, 0xd0000000, 0x1000, "a", &fake_ops, &a);
	bus_register(&bus, 0xd0001000, 0x1000, "b", &fake_ops, &b);

	bus_write(&bus, 0xd0001010, 4, 0xdeadbeefcafeULL);
	ck_assert_uint_eq(b.writes, 1);
	ck_assert_uint_eq(a.writes, 0);
	ck_assert_uint_eq(b.last_off, 0x10);
	ck_assert_uint_eq(b.last_size, 4);
	/* Values are cut to the access size before the device sees them. */
	ck_assert_uint_eq(b.last_val, 0xbeefcafeULL);

	ck_assert_uint_eq(bus_read(&bus, 0xd0000fff, 2), 0x7788);
	ck_assert_uint_eq(a.last_off, 0xfff);
	ck_assert_uint_eq(a.reads, 1);
	ck_assert_uint_eq(bus.unhandled_reads + bus.unhandled_writes, 0);
}
END_TEST

START_TEST(test_unclaimed_reads_all_ones_writes_counted)
{
	struct bus bus;
	unsigned int i;

	bus_init(&bus, "pio");
	ck_assert_uint_eq(bus_read(&bus, 0x80, 1), 0xff);
	ck_assert_uint_eq(bus_read(&bus, 0x80, 2), 0xffff);
	ck_assert_uint_eq(bus_read(&bus, 0x81, 4), 0xffffffffULL);
	ck_assert_uint_eq(bus_read(&bus, 0x0, 8), ~0ULL);
	bus_write(&bus, 0x80, 1, 0x12);
	bus_write(&bus, 0x80, 1, 0x13);
	ck_assert_uint_eq(bus.unhandled_reads, 4);
	ck_assert_uint_eq(bus.unhandled_writes, 2);
	/* Per-address records: 0x80, 0x81, 0x0 in first-seen order. */
	ck_assert_uint_eq(bus.unhandled[0].addr, 0x80 + 1);
	ck_assert_uint_eq(bus.unhandled[0].reads, 2);
	ck_assert_uint_eq(bus.unhandled[0].writes, 2);
	ck_assert_uint_eq(bus.unhandled[1].addr, 0x81 + 1);
	ck_assert_uint_eq(bus.unhandled[2].addr, 0x0 + 1);
	ck_assert_uint_eq(bus.unhandled[2].reads, 1);

	/* Beyond the table, totals still count. */
	for (i = 0; i < 20; i++)
		bus_write(&bus, 0x1000 + i, 1, 0);
	ck_assert_uint_eq(bus.unhandled_writes, 22);
	ck_assert_uint_eq(bus.unhandled[BUS_MAX_UNHANDLED - 1].addr,
			  0x1000 + (BUS_MAX_UNHANDLED - 4) + 1);
}
END_TEST

Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_register_rejects_overlap_and_empty);
	tcase_add_test(tc, test_register_full);
	tcase_add_test(tc, test_dispatch_passes_offset_and_size);
	tcase_add_test(tc, test_unclaimed_reads_all_ones_writes_counted);
	suite_add_tcase(s, tc);
	return s;
}
