// SPDX-License-Identifier: GPL-2.0
/*
 * Machine layout as the runner builds it before any device is opened:
 * firmware window and its low alias, the long-mode page tables, and the
 * images and devices it must refuse with a message.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "machine.h"
#include "tests.h"

static struct machine m;
static struct options opt;
static char err[512];

#define PARSE(...) parse((const char *[]){ "minivmx-run", __VA_ARGS__, NULL })

static int parse(const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	return options_parse(&opt, argc, (char **)args, err, sizeof(err));
}

static void teardown(void)
{
	machine_destroy(&m);
}

START_TEST(test_firmware_layout_and_alias)
{
	struct image img;
	uint8_t *top, *low;

	ck_assert_int_eq(PARSE("--mem", "16M", "--firmware", "guests/firmware.bin"), 0);
	ck_assert_msg(machine_prepare(&m, &opt, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(image_read("guests/firmware.bin", &img, err, sizeof(err)), 0);

	/* The image ends at 4 GiB: the reset vector is its last 16 bytes. */
	top = mvx_memmap_hva(&m.layout, 0xfffffff0, 16);
	ck_assert_ptr_nonnull(top);
	ck_assert_mem_eq(top, img.data + img.size - 16, 16);
	ck_assert_ptr_nonnull(mvx_memmap_hva(&m.layout, 0x100000000ULL - img.size, img.size));
	/* ... and the same bytes appear just below 1 MiB. */
	low = mvx_memmap_hva(&m.layout, 0xffff0, 16);
	ck_assert_ptr_eq(low, top);
	low = mvx_memmap_hva(&m.layout, 0xf0000, img.size);
	ck_assert_ptr_nonnull(low);
	ck_assert_mem_eq(low, img.data, img.size);
	ck_assert_ptr_nonnull(mvx_memmap_hva(&m.layout, FW_LOW_ALIAS_BASE, FW_LOW_ALIAS_SIZE));
	/* RAM around the legacy hole, none inside it. */
	ck_assert_ptr_nonnull(mvx_memmap_hva(&m.layout, 0, LOW_RAM_END));
	ck_assert_ptr_null(mvx_memmap_hva(&m.layout, LOW_RAM_END, 1));
	ck_assert_ptr_null(mvx_memmap_hva(&m.layout, 0xdffff, 1));
	ck_assert_ptr_nonnull(mvx_memmap_hva(&m.layout, 0x100000, (16 << 20) - 0x100000));
	ck_assert_ptr_null(mvx_memmap_hva(&m.layout, 16 << 20, 1));
	image_free(&img);
}
END_TEST

static int write_file(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ret;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, size);
	close(fd);
	return ret;
}

START_TEST(test_firmware_too_large_or_empty)
{
	const char *path = "/tmp/mvx-test-fw.bin";

	ck_assert_int_eq(write_file(path, FW_MAX_SIZE + 4096), 0);
	ck_assert_int_eq(PARSE("--firmware", path), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "window"));
	machine_destroy(&m);

	ck_assert_int_eq(write_file(path, 0), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	unlink(path);
}
END_TEST

/* Walk the runner's page tables for va; returns the physical address. */
static uint64_t translate(uint64_t va)
{
	uint64_t *pml4, *pdpt, *pd, e;

	pml4 = mvx_memmap_hva(&m.layout, SYS_AREA_GPA + 0x1000, 4096);
	e = pml4[(va >> 39) & 511];
	ck_assert(e & 1);
	pdpt = mvx_memmap_hva(&m.layout, e & ~0xfffULL, 4096);
	ck_assert_ptr_nonnull(pdpt);
	e = pdpt[(va >> 30) & 511];
	ck_assert(e & 1);
	pd = mvx_memmap_hva(&m.layout, e & ~0xfffULL, 4096);
	ck_assert_ptr_nonnull(pd);
	e = pd[(va >> 21) & 511];
	ck_assert(e & 1);
	ck_assert(e & 0x80);		/* 2 MiB page */
	ck_assert(e & 2);		/* writable */
	return (e & ~0x1fffffULL & ((1ULL << 52) - 1)) | (va & 0x1fffff);
}

START_TEST(test_long_mode_tables_identity_map_4g)
{
	static const uint64_t probes[] = { 0, 0x7c00, 0x100000, 0x3fffffff,
		0x40000000, 0xd0000000, 0xfffffff0 };
	const uint64_t *gdt;
	unsigned int i;

	ck_assert_int_eq(PARSE("--mode", "long", "guests/hello-long.bin"), 0);
	ck_assert_msg(machine_prepare(&m, &opt, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(m.entry, PM_LOAD_DEFAULT);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		ck_assert_uint_eq(translate(probes[i]), probes[i]);
	gdt = mvx_memmap_hva(&m.layout, SYS_AREA_GPA, 32);
	ck_assert_uint_eq(gdt[0], 0);
	/* 64-bit code: L=1, D=0, present, code, readable. */
	ck_assert_uint_eq((gdt[MVX_GDT_CODE64 / 8] >> 40) & 0xff, 0x9b);
	ck_assert_uint_eq((gdt[MVX_GDT_CODE64 / 8] >> 53) & 3, 1);
	ck_assert_uint_eq((gdt[MVX_GDT_DATA / 8] >> 40) & 0xff, 0x93);
	ck_assert_uint_eq((gdt[MVX_GDT_CODE32 / 8] >> 53) & 3, 2);
}
END_TEST

START_TEST(test_images_refused_with_file_name)
{
	const char *path = "/tmp/mvx-test-trunc.elf";
	struct image img;
	int fd;

	ck_assert_int_eq(PARSE("--mode", "long", "--load", "0x8000", "guests/hello-long.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "overlaps"));
	machine_destroy(&m);

	ck_assert_int_eq(PARSE("--mode", "real", "--load", "0x100000", "guests/hello-real.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "below 1 MiB"));
	machine_destroy(&m);

	ck_assert_int_eq(PARSE("--mem", "1M", "--mode", "long", "guests/hello-long.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not guest RAM"));
	machine_destroy(&m);

	/* A real ELF cut in the middle of its program headers. */
	ck_assert_int_eq(image_read("guests/hello-long.elf", &img, err, sizeof(err)), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(write(fd, img.data, 70), 70);
	close(fd);
	image_free(&img);
	ck_assert_int_eq(PARSE(path), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	unlink(path);
}
END_TEST

START_TEST(test_device_errors)
{
	ck_assert_int_eq(PARSE("--device", "/nonexistent/minivmx", "guests/hello-real.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), 0);
	ck_assert_int_eq(machine_create(&m, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/minivmx: No such file or directory");
	machine_destroy(&m);

	/* A device that is not a hypervisor. */
	ck_assert_int_eq(PARSE("--device", "/dev/null", "guests/hello-real.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), 0);
	ck_assert_int_eq(machine_create(&m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/dev/null: MVX_GET_API_VERSION"));
}
END_TEST

Suite *machine_suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("layout");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_firmware_layout_and_alias);
	tcase_add_test(tc, test_firmware_too_large_or_empty);
	tcase_add_test(tc, test_long_mode_tables_identity_map_4g);
	tcase_add_test(tc, test_images_refused_with_file_name);
	tcase_add_test(tc, test_device_errors);
	suite_add_tcase(s, tc);
	return s;
}
