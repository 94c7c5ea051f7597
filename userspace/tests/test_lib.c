// SPDX-License-Identifier: GPL-2.0
/* libmvx parts that need no device: memory map, system area, exit names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mvx.h"
#include "tests.h"

START_TEST(test_memmap_bounds_and_overlap)
{
	static uint8_t a[0x2000], b[0x1000];
	struct mvx_memmap map;

	memset(&map, 0, sizeof(map));
	ck_assert_int_eq(mvx_memmap_add(&map, 0x10000, sizeof(a), a), 0);
	ck_assert_int_eq(mvx_memmap_add(&map, 0x11000, sizeof(b), b), -EEXIST);
	ck_assert_ptr_nonnull(strstr(mvx_last_error(), "overlaps"));
	ck_assert_int_eq(mvx_memmap_add(&map, 0xf000, 0x1001, b), -EEXIST);
	ck_assert_int_eq(mvx_memmap_add(&map, 0x12000, sizeof(b), b), 0);
	ck_assert_int_eq(mvx_memmap_add(&map, 0x20000, 0, b), -EINVAL);
	ck_assert_int_eq(mvx_memmap_add(&map, ~0ULL - 10, 0x1000, b), -EINVAL);

	ck_assert_ptr_eq(mvx_memmap_hva(&map, 0x10000, 1), a);
	ck_assert_ptr_eq(mvx_memmap_hva(&map, 0x11fff, 1), a + 0x1fff);
	/* An access straddling two regions is not one host range. */
	ck_assert_ptr_null(mvx_memmap_hva(&map, 0x11fff, 2));
	ck_assert_ptr_eq(mvx_memmap_hva(&map, 0x12000, 0x1000), b);
	ck_assert_ptr_null(mvx_memmap_hva(&map, 0x12000, 0x1001));
	ck_assert_ptr_null(mvx_memmap_hva(&map, 0xffff, 1));
	ck_assert_ptr_null(mvx_memmap_hva(&map, ~0ULL, 2));
}
END_TEST

START_TEST(test_memmap_full)
{
	static uint8_t page[0x1000];
	struct mvx_memmap map;
	unsigned int i;

	memset(&map, 0, sizeof(map));
	for (i = 0; i < MVX_LIB_MAX_REGIONS; i++)
		ck_assert_int_eq(mvx_memmap_add(&map, i * 0x1000ULL, 0x1000, page), 0);
	ck_assert_int_eq(mvx_memmap_add(&map, 0x100000, 0x1000, page), -ENOSPC);
}
END_TEST

START_TEST(test_sys_area_needs_ram)
{
	static uint8_t ram[0x20000];
	struct mvx_memmap map;
	const uint64_t *gdt;

	memset(&map, 0, sizeof(map));
	mvx_memmap_add(&map, 0, sizeof(ram), ram);
	ck_assert_int_eq(mvx_write_sys_area(&map, 0x1f000, 1), -EFAULT);
	ck_assert_int_eq(mvx_write_sys_area(&map, 0x8800, 1), -EFAULT);
	ck_assert_int_eq(mvx_write_sys_area(&map, 0x8000, 0), 0);
	gdt = (const uint64_t *)(ram + 0x8000);
	ck_assert_uint_eq(gdt[MVX_GDT_DATA / 8], 0x00cf93000000ffffULL);
	/* Protected mode writes no page tables. */
	ck_assert_uint_eq(*(uint64_t *)(ram + 0x9000), 0);
}
END_TEST

START_TEST(test_exit_names)
{
	ck_assert_str_eq(mvx_exit_name(MVX_EXIT_IO), "IO");
	ck_assert_str_eq(mvx_exit_name(MVX_EXIT_SHUTDOWN), "SHUTDOWN");
	ck_assert_str_eq(mvx_exit_name(MVX_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR");
	ck_assert_str_eq(mvx_exit_name(11), "?");
	ck_assert_str_eq(mvx_exit_name(12345), "?");
}
END_TEST

Suite *lib_suite(void)
{
	Suite *s = suite_create("libmvx");
	TCase *tc = tcase_create("host");

	tcase_add_test(tc, test_memmap_bounds_and_overlap);
	tcase_add_test(tc, test_memmap_full);
	tcase_add_test(tc, test_sys_area_needs_ram);
	tcase_add_test(tc, test_exit_names);
	suite_add_tcase(s, tc);
	return s;
}
