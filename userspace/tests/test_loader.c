// SPDX-License-Identifier: GPL-2.0
/* Flat, ELF and firmware loaders, including the images they must refuse. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "tests.h"

#define RAM_SIZE	(2u << 20)

static uint8_t *ram;
static struct mvx_memmap map;
static char err[256];

static void setup(void)
{
	ram = malloc(RAM_SIZE);
	memset(ram, 0xcc, RAM_SIZE);
	memset(&map, 0, sizeof(map));
	ck_assert_int_eq(mvx_memmap_add(&map, 0, RAM_SIZE, ram), 0);
	err[0] = '\0';
}

static void teardown(void)
{
	free(ram);
}

/*
 * A minimal executable: header, one PT_NOTE and one PT_LOAD program
 * header, 16 bytes of payload loaded at paddr with 16 bytes of bss.
 */
struct elf_spec {
	int is64;
	uint64_t paddr, entry;
	uint16_t machine, type;
};

static size_t make_elf(uint8_t *buf, const struct elf_spec *sp)
{
	size_t ehsz = sp->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsz = sp->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t payload = ehsz + 2 * phsz;
	unsigned int i;

	memset(buf, 0, payload + 16);
	for (i = 0; i < 16; i++)
		buf[payload + i] = 0xa0 + i;
	if (sp->is64) {
		Elf64_Ehdr e = { 0 };
		Elf64_Phdr p[2] = { { 0 } };

		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		e.e_type = sp->type;
		e.e_machine = sp->machine;
		e.e_entry = sp->entry;
		e.e_phoff = ehsz;
		e.e_phentsize = phsz;
		e.e_phnum = 2;
		p[0].p_type = PT_NOTE;
		p[1].p_type = PT_LOAD;
		p[1].p_offset = payload;
		p[1].p_paddr = sp->paddr;
		p[1].p_vaddr = 0xffffffff80000000ULL;	/* must not be used */
		p[1].p_filesz = 16;
		p[1].p_memsz = 32;
		memcpy(buf, &e, sizeof(e));
		memcpy(buf + ehsz, p, sizeof(p));
	} else {
		Elf32_Ehdr e = { 0 };
		Elf32_Phdr p[2] = { { 0 } };

		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS32;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		e.e_type = sp->type;
		e.e_machine = sp->machine;
		e.e_entry = sp->entry;
		e.e_phoff = ehsz;
		e.e_phentsize = phsz;
		e.e_phnum = 2;
		p[0].p_type = PT_NOTE;
		p[1].p_type = PT_LOAD;
		p[1].p_offset = payload;
		p[1].p_paddr = sp->paddr;
		p[1].p_filesz = 16;
		p[1].p_memsz = 32;
		memcpy(buf, &e, sizeof(e));
		memcpy(buf + ehsz, p, sizeof(p));
	}
	return payload + 16;
}

static const struct elf_spec elf64_ok = { 1, 0x100000, 0x100004, EM_X86_64, ET_EXEC };
static const struct elf_spec elf32_ok = { 0, 0x20000, 0x20000, EM_386, ET_EXEC };

static int ram_untouched(uint64_t gpa, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (ram[gpa + i] != 0xcc)
			return 0;
	return 1;
}

START_TEST(test_flat_loads_at_address)
{
	uint8_t data[] = { 0xfa, 0xf4, 0xeb, 0xfe };
	struct image img = { data, sizeof(data) };
	struct load_info li;

	ck_assert_int_eq(load_flat(&map, &img, 0x7c00, &li, err, sizeof(err)), 0);
	ck_assert_mem_eq(ram + 0x7c00, data, sizeof(data));
	ck_assert_uint_eq(li.entry, 0x7c00);
	ck_assert_uint_eq(li.high, 0x7c04);
}
END_TEST

START_TEST(test_flat_outside_ram_refused)
{
	uint8_t data[8] = { 0 };
	struct image img = { data, sizeof(data) };
	struct load_info li;

	ck_assert_int_eq(load_flat(&map, &img, RAM_SIZE - 4, &li, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not guest RAM"));
	ck_assert(ram_untouched(RAM_SIZE - 4, 4));
	img.size = 0;
	ck_assert_int_eq(load_flat(&map, &img, 0, &li, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_elf64_segments_and_bss)
{
	uint8_t buf[512];
	struct image img = { buf, make_elf(buf, &elf64_ok) };
	struct load_info li;
	unsigned int i;

	ck_assert_int_eq(image_kind(&img), IMAGE_ELF64);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), 0);
	ck_assert_uint_eq(li.entry, 0x100004);
	ck_assert_int_eq(li.mode, MODE_LONG);
	for (i = 0; i < 16; i++)
		ck_assert_uint_eq(ram[0x100000 + i], 0xa0 + i);
	for (i = 16; i < 32; i++)
		ck_assert_uint_eq(ram[0x100000 + i], 0);
	ck_assert_uint_eq(ram[0x100000 + 32], 0xcc);
	ck_assert_uint_eq(li.low, 0x100000);
	ck_assert_uint_eq(li.high, 0x100020);
}
END_TEST

START_TEST(test_elf32_protected_mode)
{
	uint8_t buf[512];
	struct image img = { buf, make_elf(buf, &elf32_ok) };
	struct load_info li;

	ck_assert_int_eq(image_kind(&img), IMAGE_ELF32);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), 0);
	ck_assert_int_eq(li.mode, MODE_PROTECTED);
	ck_assert_uint_eq(ram[0x20000], 0xa0);
}
END_TEST

/* Every truncation point of a valid image must be refused, untouched RAM. */
START_TEST(test_elf_truncated_everywhere)
{
	uint8_t buf[512];
	size_t full = make_elf(buf, &elf64_ok), n;
	struct load_info li;

	for (n = 0; n < full; n++) {
		struct image img = { buf, n };

		err[0] = '\0';
		ck_assert_msg(load_elf(&map, &img, &li, err, sizeof(err)) == -1,
			      "ELF cut at %zu bytes was accepted", n);
		ck_assert(err[0]);
	}
	ck_assert(ram_untouched(0x100000, 32));
	{
		struct image img = { buf, 40 };

		load_elf(&map, &img, &li, err, sizeof(err));
		ck_assert_ptr_nonnull(strstr(err, "truncated"));
	}
	{
		struct image img = { buf, full - 1 };

		load_elf(&map, &img, &li, err, sizeof(err));
		ck_assert_ptr_nonnull(strstr(err, "truncated"));
	}
}
END_TEST

START_TEST(test_elf_bad_headers_refused)
{
	uint8_t buf[512];
	struct elf_spec sp;
	struct load_info li;
	struct image img = { buf, 0 };

	sp = elf64_ok;
	sp.machine = EM_AARCH64;
	img.size = make_elf(buf, &sp);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "machine"));

	sp = elf64_ok;
	sp.type = ET_DYN;
	img.size = make_elf(buf, &sp);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);

	sp = elf64_ok;
	sp.paddr = RAM_SIZE - 8;	/* segment runs off the end of RAM */
	img.size = make_elf(buf, &sp);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not guest RAM"));

	sp = elf64_ok;
	sp.entry = 0x40000000;
	img.size = make_elf(buf, &sp);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "entry"));

	sp = elf32_ok;
	img.size = make_elf(buf, &sp);
	buf[EI_DATA] = ELFDATA2MSB;
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
	buf[EI_DATA] = ELFDATA2LSB;
	buf[EI_CLASS] = 7;
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_elf_filesz_above_memsz_refused)
{
	uint8_t buf[512];
	struct image img = { buf, make_elf(buf, &elf64_ok) };
	struct load_info li;
	Elf64_Phdr p;

	memcpy(&p, buf + sizeof(Elf64_Ehdr) + sizeof(p), sizeof(p));
	p.p_memsz = 8;
	memcpy(buf + sizeof(Elf64_Ehdr) + sizeof(p), &p, sizeof(p));
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), -1);
	ck_assert(ram_untouched(0x100000, 32));
}
END_TEST

START_TEST(test_image_read_errors)
{
	char path[] = "/tmp/mvx-test-XXXXXX";
	struct image img;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(image_read(path, &img, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	ck_assert_int_eq(image_read(path, &img, err, sizeof(err)), 0);
	ck_assert_uint_eq(img.size, 3);
	ck_assert_int_eq(image_kind(&img), IMAGE_FLAT);
	image_free(&img);
	unlink(path);

	ck_assert_int_eq(image_read("/nonexistent/x.bin", &img, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/x.bin: No such file or directory");
	ck_assert_int_eq(image_read("/tmp", &img, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(test_firmware_window_sizes)
{
	uint64_t w = 0;

	ck_assert_int_eq(firmware_window_size(0, &w, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	ck_assert_int_eq(firmware_window_size(FW_MAX_SIZE + 1, &w, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "window"));
	ck_assert_int_eq(firmware_window_size(FW_MAX_SIZE, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w, FW_MAX_SIZE);
	ck_assert_int_eq(firmware_window_size(0x10000, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w, FW_LOW_ALIAS_SIZE);
	ck_assert_int_eq(firmware_window_size(0x30001, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w, 0x31000);
}
END_TEST

START_TEST(test_firmware_placed_at_window_end)
{
	uint8_t data[3] = { 1, 2, 3 };
	struct image img = { data, 3 };
	uint8_t win[0x1000];

	firmware_place(win, sizeof(win), &img);
	ck_assert_mem_eq(win + sizeof(win) - 3, data, 3);
	ck_assert_uint_eq(win[0], 0xff);
	ck_assert_uint_eq(win[sizeof(win) - 4], 0xff);
}
END_TEST

/* The guests built by make must load as the runner would load them. */
START_TEST(test_built_guests_load)
{
	struct image img;
	struct load_info li;

	ck_assert_msg(image_read("guests/hello-long.elf", &img, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), 0);
	ck_assert_uint_eq(li.entry, 0x100000);
	ck_assert_int_eq(li.mode, MODE_LONG);
	image_free(&img);

	ck_assert_int_eq(image_read("guests/hello-pm.elf", &img, err, sizeof(err)), 0);
	ck_assert_int_eq(load_elf(&map, &img, &li, err, sizeof(err)), 0);
	ck_assert_int_eq(li.mode, MODE_PROTECTED);
	image_free(&img);

	ck_assert_int_eq(image_read("guests/firmware.bin", &img, err, sizeof(err)), 0);
	ck_assert_uint_eq(img.size, 0x10000);
	/* The reset vector at 0xFFFFFFF0 holds a near jump (0xE9). */
	ck_assert_uint_eq(img.data[0xfff0], 0xe9);
	image_free(&img);
}
END_TEST

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("images");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flat_loads_at_address);
	tcase_add_test(tc, test_flat_outside_ram_refused);
	tcase_add_test(tc, test_elf64_segments_and_bss);
	tcase_add_test(tc, test_elf32_protected_mode);
	tcase_add_test(tc, test_elf_truncated_everywhere);
	tcase_add_test(tc, test_elf_bad_headers_refused);
	tcase_add_test(tc, test_elf_filesz_above_memsz_refused);
	tcase_add_test(tc, test_image_read_errors);
	tcase_add_test(tc, test_firmware_window_sizes);
	tcase_add_test(tc, test_firmware_placed_at_window_end);
	tcase_add_test(tc, test_built_guests_load);
	suite_add_tcase(s, tc);
	return s;
}
