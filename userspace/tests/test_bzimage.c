// SPDX-License-Identifier: GPL-2.0
/*
 * Linux boot protocol loader: Debian's own kernels, crafted setup headers
 * and the files it must refuse.  Offsets are written out from boot.rst
 * here, not taken from bzimage.c, so that a wrong offset there fails.
 */
#include <elf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bzimage.h"
#include "tests.h"

#define MIB		0x100000ULL
#define RAM_SIZE	(128 * MIB)
#define PM_LEN		0x2000	/* protected-mode part of crafted images */

static uint8_t *ram;
static struct mvx_memmap map;
static char err[512];

static void setup(void)
{
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_ptr_ne(ram, MAP_FAILED);
	memset(&map, 0, sizeof(map));
	ck_assert_int_eq(mvx_memmap_add(&map, 0, RAM_SIZE, ram), 0);
	err[0] = '\0';
}

static void teardown(void)
{
	munmap(ram, RAM_SIZE);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static int all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Nothing of a refused load may reach guest RAM. */
static void assert_ram_untouched(void)
{
	ck_assert(all_zero(ram + BZ_ZERO_PAGE_GPA, BZ_ZERO_PAGE_SIZE));
	ck_assert(all_zero(ram + BZ_CMDLINE_GPA, 256));
	ck_assert(all_zero(ram + BZ_KERNEL_GPA, PM_LEN));
	ck_assert(all_zero(ram + RAM_SIZE - 8 * MIB, 8 * MIB));
}

/* Knobs of a crafted bzImage; the defaults describe a modern kernel. */
struct fake {
	uint8_t setup_sects;
	uint16_t version;
	uint8_t loadflags;
	uint8_t hdr_len;	/* byte at 0x201 */
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint64_t pref_address;
	uint32_t init_size;
	uint16_t xloadflags;
};

static const struct fake fake_ok = {
	.setup_sects = 2, .version = 0x020f, .loadflags = 0x01,
	.hdr_len = 0x6a, .cmdline_size = 2047, .initrd_addr_max = 0x7fffffff,
	.pref_address = 0x1000000, .init_size = 0x800000, .xloadflags = 0x7f,
};

static size_t fake_pm_offset(const struct fake *f)
{
	return ((f->setup_sects ? f->setup_sects : 4) + 1) * 512;
}

/* A setup header by boot.rst's offsets, then PM_LEN bytes of kernel. */
static size_t make_bzimage(uint8_t *buf, const struct fake *f)
{
	size_t pm = fake_pm_offset(f), i;

	memset(buf, 0, pm + PM_LEN);
	buf[0] = 'M';
	buf[1] = 'Z';
	buf[0x1ef] = 0xff;		/* sentinel: must not be copied */
	buf[0x1f1] = f->setup_sects;
	put32(buf + 0x1f4, PM_LEN / 16);	/* syssize */
	put16(buf + 0x1fc, 0x0801);		/* root_dev, copied as is */
	put16(buf + 0x1fe, 0xaa55);
	buf[0x200] = 0xeb;
	buf[0x201] = f->hdr_len;
	memcpy(buf + 0x202, "HdrS", 4);
	put16(buf + 0x206, f->version);
	put16(buf + 0x20e, 0x1234);		/* kernel_version */
	buf[0x211] = f->loadflags;
	put32(buf + 0x214, 0x100000);		/* code32_start */
	put32(buf + 0x22c, f->initrd_addr_max);
	put32(buf + 0x230, 0x200000);		/* kernel_alignment */
	buf[0x234] = 1;				/* relocatable_kernel */
	buf[0x235] = 0x15;
	put16(buf + 0x236, f->xloadflags);
	put32(buf + 0x238, f->cmdline_size);
	put64(buf + 0x258, f->pref_address);
	put32(buf + 0x260, f->init_size);
	memset(buf + 0x26c, 0xee, 0x290 - 0x26c);	/* past the header */
	for (i = 0; i < PM_LEN; i++)
		buf[pm + i] = 0x11 + i * 7;
	return pm + PM_LEN;
}

static uint8_t fake_buf[5 * 512 + PM_LEN];

static int load_fake(const struct fake *f, const struct bz_params *p,
		     struct bz_boot *boot)
{
	struct image img = { fake_buf, make_bzimage(fake_buf, f) };

	err[0] = '\0';
	return bzimage_load(&map, &img, p, boot, err, sizeof(err));
}

static void assert_refused(const struct image *img, const struct bz_params *p,
			   const char *fragment)
{
	struct bz_boot boot;

	err[0] = '\0';
	ck_assert_int_eq(bzimage_load(&map, img, p, &boot, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, fragment), "\"%s\" lacks \"%s\"", err,
		      fragment);
	assert_ram_untouched();
}

static void assert_fake_refused(const struct fake *f,
				const struct bz_params *p, const char *fragment)
{
	struct image img = { fake_buf, make_bzimage(fake_buf, f) };

	assert_refused(&img, p, fragment);
}

static void assert_entry(const struct bz_e820_entry *e, uint64_t addr,
			 uint64_t size, uint32_t type)
{
	ck_assert_uint_eq(e->addr, addr);
	ck_assert_uint_eq(e->size, size);
	ck_assert_uint_eq(e->type, type);
}

/* An entry of the zero page's table: 20 bytes, addr, size, type. */
static void assert_e820(const uint8_t *e, uint64_t addr, uint64_t size,
			uint32_t type)
{
	ck_assert_uint_eq(get64(e), addr);
	ck_assert_uint_eq(get64(e + 8), size);
	ck_assert_uint_eq(get32(e + 16), type);
}

/* Bytes of the setup header the loader writes; the rest is the image's. */
static int written_by_loader(unsigned int off)
{
	return (off >= 0x1fa && off < 0x1fc) ||	/* vid_mode */
	       off == 0x210 || off == 0x211 ||	/* type_of_loader, loadflags */
	       (off >= 0x218 && off < 0x220) ||	/* ramdisk_image, _size */
	       (off >= 0x224 && off < 0x226) ||	/* heap_end_ptr */
	       (off >= 0x228 && off < 0x22c) ||	/* cmd_line_ptr */
	       (off >= 0x250 && off < 0x258);	/* setup_data */
}

static void assert_header_copied(const uint8_t *zp, const uint8_t *img)
{
	unsigned int end = 0x202 + img[0x201], off;

	for (off = 0x1f1; off < end; off++)
		if (!written_by_loader(off))
			ck_assert_msg(zp[off] == img[off],
				      "zero page 0x%x: 0x%02x, image 0x%02x",
				      off, zp[off], img[off]);
	ck_assert(all_zero(zp + end, 0x290 - end));
	/* All else below the header is 0 but alt_mem_k and e820_entries. */
	ck_assert(all_zero(zp, 0x1e0));
	ck_assert(all_zero(zp + 0x1e4, 4));
	ck_assert(all_zero(zp + 0x1e9, 0x1f1 - 0x1e9));	/* sentinel too */
}

static void make_initrd(struct image *rd, size_t size)
{
	size_t i;

	rd->data = malloc(size);
	ck_assert_ptr_nonnull(rd->data);
	rd->size = size;
	for (i = 0; i < size; i++)
		rd->data[i] = i * 13 + (i >> 12);
}

/* One Debian kernel of /boot, loaded as the runner would with defaults. */
static void check_real_kernel(const char *pattern)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	const uint8_t *zp = ram + BZ_ZERO_PAGE_GPA;
	struct image img, rd;
	struct bz_boot boot;
	struct bz_info bi;
	glob_t g;
	size_t pm;

	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc) {
		printf("SKIP: no %s on this host, a Debian kernel test is skipped\n",
		       pattern);
		return;
	}
	ck_assert_msg(image_read(g.gl_pathv[0], &img, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert(bzimage_detect(&img));
	ck_assert_msg(bzimage_parse(&img, &bi, err, sizeof(err)) == 0, "%s: %s",
		      g.gl_pathv[0], err);
	ck_assert_uint_ge(bi.version, 0x020f);
	ck_assert_uint_eq(bi.version, get16(img.data + 0x206));
	ck_assert(bi.xloadflags & 0x1);		/* XLF_KERNEL_64 */
	ck_assert_uint_ge(bi.cmdline_size, 255);
	ck_assert_uint_eq(bi.pref_address, get64(img.data + 0x258));
	ck_assert_uint_eq(bi.init_size, get32(img.data + 0x260));

	make_initrd(&rd, 3 * MIB + 123);
	p.initrd = &rd;
	ck_assert_msg(bzimage_load(&map, &img, &p, &boot, err, sizeof(err)) == 0,
		      "%s: %s", g.gl_pathv[0], err);

	/* Entry points and where things are. */
	ck_assert_uint_eq(boot.zero_page, BZ_ZERO_PAGE_GPA);
	ck_assert_uint_eq(boot.entry32, 0x100000);
	ck_assert_uint_eq(boot.entry64, 0x100200);
	ck_assert_uint_eq(boot.kernel_end,
			  get64(img.data + 0x258) + get32(img.data + 0x260));

	/* Zero page: the image's header with the loader's fields. */
	assert_header_copied(zp, img.data);
	ck_assert_uint_eq(get16(zp + 0x1fe), 0xaa55);
	ck_assert_mem_eq(zp + 0x202, "HdrS", 4);
	ck_assert_uint_eq(zp[0x210], 0xff);			/* type_of_loader */
	ck_assert_uint_eq(zp[0x211] & 0x81, 0x81);	/* LOADED_HIGH, CAN_USE_HEAP */
	ck_assert_uint_eq(get16(zp + 0x224), 0xde00);	/* heap_end_ptr */
	ck_assert_uint_eq(get32(zp + 0x228), BZ_CMDLINE_GPA);
	ck_assert_str_eq((char *)ram + get32(zp + 0x228), BZ_DEFAULT_CMDLINE);

	/* Initrd: page aligned, as high as RAM allows, above the kernel. */
	ck_assert_uint_eq(get32(zp + 0x218), boot.initrd_start);
	ck_assert_uint_eq(get32(zp + 0x21c), 3 * MIB + 123);
	ck_assert_uint_eq(boot.initrd_start % 4096, 0);
	ck_assert_uint_le(boot.initrd_start + rd.size, RAM_SIZE);
	ck_assert_uint_gt(boot.initrd_start + rd.size, RAM_SIZE - 4096);
	ck_assert_uint_le(boot.initrd_start + rd.size - 1,
			  get32(img.data + 0x22c));
	ck_assert_uint_ge(boot.initrd_start, boot.kernel_end);
	ck_assert_mem_eq(ram + boot.initrd_start, rd.data, rd.size);

	/* e820: low RAM, BIOS area, RAM from 1 MiB to the end. */
	ck_assert_uint_eq(zp[0x1e8], 3);
	assert_e820(zp + 0x2d0, 0, 0x9fc00, 1);
	assert_e820(zp + 0x2d0 + 20, 0x9fc00, 0x100000 - 0x9fc00, 2);
	assert_e820(zp + 0x2d0 + 40, 0x100000, RAM_SIZE - 0x100000, 1);
	ck_assert(all_zero(zp + 0x2d0 + 60, 20));
	ck_assert_uint_eq(get32(zp + 0x1e0), (RAM_SIZE - MIB) >> 10);

	/* The protected-mode kernel at 1 MiB, nothing more. */
	pm = (img.data[0x1f1] + 1) * 512;
	ck_assert_mem_eq(ram + 0x100000, img.data + pm,
			 get32(img.data + 0x1f4) * 16);
	ck_assert(all_zero(ram + 0x100000 + get32(img.data + 0x1f4) * 16, 4096));

	free(rd.data);
	image_free(&img);
	globfree(&g);
}

START_TEST(test_debian_6_1_boots)
{
	check_real_kernel("/boot/vmlinuz-6.1.*");
}
END_TEST

START_TEST(test_debian_6_12_boots)
{
	check_real_kernel("/boot/vmlinuz-6.12.*");
}
END_TEST

/* init_size is honoured: Debian's kernels need more than 64 MiB. */
START_TEST(test_debian_kernels_need_init_size)
{
	struct bz_params p = { .mem_size = 64 * MIB };
	static const char * const patterns[] = { "/boot/vmlinuz-6.1.*", "/boot/vmlinuz-6.12.*" };
	struct bz_boot boot;
	struct image img;
	unsigned int i;
	glob_t g;

	for (i = 0; i < 2; i++) {
		if (glob(patterns[i], 0, NULL, &g) || !g.gl_pathc) {
			printf("SKIP: no %s on this host\n", patterns[i]);
			continue;
		}
		ck_assert_int_eq(image_read(g.gl_pathv[0], &img, err, sizeof(err)), 0);
		ck_assert_int_eq(bzimage_load(&map, &img, &p, &boot, err,
					      sizeof(err)), -1);
		ck_assert_msg(strstr(err, "kernel does not fit"), "%s", err);
		ck_assert_ptr_nonnull(strstr(err, "--mem is 64 MiB"));
		assert_ram_untouched();
		image_free(&img);
		globfree(&g);
	}
}
END_TEST

START_TEST(test_crafted_loads)
{
	struct bz_params p = { .mem_size = RAM_SIZE, .cmdline = "root=/dev/vda" };
	const uint8_t *zp = ram + BZ_ZERO_PAGE_GPA;
	struct bz_boot boot;
	struct fake f = fake_ok;

	ck_assert_msg(load_fake(&f, &p, &boot) == 0, "%s", err);
	assert_header_copied(zp, fake_buf);
	ck_assert_uint_eq(get16(zp + 0x1fc), 0x0801);
	ck_assert_uint_eq(zp[0x211], 0x81);
	ck_assert_uint_eq(get16(zp + 0x1fa), 0xffff);	/* vid_mode "normal" */
	ck_assert_str_eq((char *)ram + BZ_CMDLINE_GPA, "root=/dev/vda");
	ck_assert_uint_eq(get32(zp + 0x218), 0);	/* no initrd */
	ck_assert_uint_eq(get32(zp + 0x21c), 0);
	ck_assert_uint_eq(boot.initrd_size, 0);
	ck_assert_mem_eq(ram + 0x100000, fake_buf + 3 * 512, PM_LEN);
	/* runs at pref_address 16 MiB, needs init_size 8 MiB there */
	ck_assert_uint_eq(boot.kernel_end, 0x1800000);
	ck_assert_uint_eq(boot.entry64, 0x100200);
	ck_assert_uint_eq(boot.info.setup_sects, 2);
}
END_TEST

/* boot.rst's runtime start: aligned up, or pref_address when fixed. */
START_TEST(test_kernel_window)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct image img = { fake_buf, 0 };
	struct bz_boot boot;
	struct fake f = fake_ok;

	f.pref_address = 0x1100000;	/* 17 MiB, aligned up to 18 MiB */
	ck_assert_int_eq(load_fake(&f, &p, &boot), 0);
	ck_assert_uint_eq(boot.kernel_end, 0x1200000 + 0x800000);

	f.pref_address = 0x3000000;	/* not relocatable: runs there */
	img.size = make_bzimage(fake_buf, &f);
	fake_buf[0x234] = 0;
	ck_assert_int_eq(bzimage_load(&map, &img, &p, &boot, err, sizeof(err)), 0);
	ck_assert_uint_eq(boot.kernel_end, 0x3000000 + 0x800000);
}
END_TEST

START_TEST(test_setup_sects_zero_means_four)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct bz_boot boot;
	struct fake f = fake_ok;

	f.setup_sects = 0;
	ck_assert_msg(load_fake(&f, &p, &boot) == 0, "%s", err);
	ck_assert_uint_eq(boot.info.setup_sects, 4);
	ck_assert_uint_eq(boot.info.pm_offset, 5 * 512);
	ck_assert_mem_eq(ram + 0x100000, fake_buf + 5 * 512, PM_LEN);
}
END_TEST

START_TEST(test_no_64bit_entry_without_xlf_kernel_64)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct bz_boot boot;
	struct fake f = fake_ok;

	f.xloadflags = 0x02;
	ck_assert_int_eq(load_fake(&f, &p, &boot), 0);
	ck_assert_uint_eq(boot.entry64, 0);
	ck_assert_uint_eq(boot.entry32, 0x100000);
	/* Before 2.12 there is no xloadflags to read at all. */
	f = fake_ok;
	f.version = 0x0209;
	ck_assert_int_eq(load_fake(&f, &p, &boot), 0);
	ck_assert_uint_eq(boot.entry64, 0);
	/* ... nor pref_address and init_size before 2.10. */
	ck_assert_uint_eq(boot.kernel_end, 0x100000 + PM_LEN);
}
END_TEST

START_TEST(test_initrd_below_initrd_addr_max)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct image rd;
	struct bz_boot boot;
	struct fake f = fake_ok;
	uint64_t limit = 0x3800000;	/* initrd_addr_max 0x37ffffff */

	f.initrd_addr_max = limit - 1;
	make_initrd(&rd, MIB + 123);
	p.initrd = &rd;
	ck_assert_msg(load_fake(&f, &p, &boot) == 0, "%s", err);
	ck_assert_uint_eq(boot.initrd_start, (limit - rd.size) & ~0xfffULL);
	ck_assert_uint_eq(boot.initrd_start % 4096, 0);
	ck_assert_uint_le(boot.initrd_start + rd.size, limit);
	ck_assert_uint_eq(get32(ram + BZ_ZERO_PAGE_GPA + 0x218), boot.initrd_start);
	ck_assert_mem_eq(ram + boot.initrd_start, rd.data, rd.size);
	free(rd.data);
}
END_TEST

/* The top of RAM the runner keeps is neither RAM in e820 nor the initrd's. */
START_TEST(test_initrd_below_reserved_top)
{
	struct bz_range top = { RAM_SIZE - 4 * MIB, RAM_SIZE };
	struct bz_params p = { .mem_size = RAM_SIZE, .reserved = &top,
			       .nr_reserved = 1 };
	const uint8_t *zp = ram + BZ_ZERO_PAGE_GPA;
	struct image rd;
	struct bz_boot boot;

	make_initrd(&rd, 2 * MIB);
	p.initrd = &rd;
	ck_assert_msg(load_fake(&fake_ok, &p, &boot) == 0, "%s", err);
	ck_assert_uint_eq(boot.initrd_start, RAM_SIZE - 6 * MIB);
	ck_assert_uint_eq(zp[0x1e8], 4);
	assert_e820(zp + 0x2d0 + 40, 0x100000, RAM_SIZE - 4 * MIB - 0x100000, 1);
	assert_e820(zp + 0x2d0 + 60, RAM_SIZE - 4 * MIB, 4 * MIB, 2);
	free(rd.data);
}
END_TEST

START_TEST(test_e820_layouts)
{
	struct bz_e820_entry t[BZ_E820_MAX];
	struct bz_range r[3];
	int n;

	/* A runner's system area below 1 MiB splits low RAM. */
	r[0] = (struct bz_range){ 0x8000, 0xf000 };
	n = bz_build_e820(64 * MIB, r, 1, t, BZ_E820_MAX, err, sizeof(err));
	ck_assert_int_eq(n, 5);
	assert_entry(&t[0], 0, 0x8000, 1);
	assert_entry(&t[1], 0x8000, 0x7000, 2);
	assert_entry(&t[2], 0xf000, 0x9fc00 - 0xf000, 1);
	assert_entry(&t[3], 0x9fc00, 0x60400, 2);
	assert_entry(&t[4], 0x100000, 63 * MIB, 1);

	/*
	 * Overlapping ranges merge, a range touching the BIOS area joins it,
	 * one beyond RAM is still listed as reserved.
	 */
	r[0] = (struct bz_range){ 0x100000, 0x180000 };
	r[1] = (struct bz_range){ 0x140000, 0x200000 };
	r[2] = (struct bz_range){ 0xfec00000, 0xfec01000 };
	n = bz_build_e820(16 * MIB, r, 3, t, BZ_E820_MAX, err, sizeof(err));
	ck_assert_int_eq(n, 4);
	assert_entry(&t[0], 0, 0x9fc00, 1);
	assert_entry(&t[1], 0x9fc00, 0x200000 - 0x9fc00, 2);
	assert_entry(&t[2], 0x200000, 14 * MIB, 1);
	assert_entry(&t[3], 0xfec00000, 0x1000, 2);

	/* A hole in the middle of high RAM. */
	r[0] = (struct bz_range){ 32 * MIB, 33 * MIB };
	n = bz_build_e820(64 * MIB, r, 1, t, BZ_E820_MAX, err, sizeof(err));
	ck_assert_int_eq(n, 5);
	assert_entry(&t[2], 0x100000, 31 * MIB, 1);
	assert_entry(&t[3], 32 * MIB, MIB, 2);
	assert_entry(&t[4], 33 * MIB, 31 * MIB, 1);

	/* Ranges given in any order. */
	r[0] = (struct bz_range){ 32 * MIB, 33 * MIB };
	r[1] = (struct bz_range){ 8 * MIB, 9 * MIB };
	n = bz_build_e820(64 * MIB, r, 2, t, BZ_E820_MAX, err, sizeof(err));
	ck_assert_int_eq(n, 7);
	assert_entry(&t[2], 0x100000, 7 * MIB, 1);
	assert_entry(&t[3], 8 * MIB, MIB, 2);
	assert_entry(&t[4], 9 * MIB, 23 * MIB, 1);
	assert_entry(&t[5], 32 * MIB, MIB, 2);
	assert_entry(&t[6], 33 * MIB, 31 * MIB, 1);

	/* Bad input. */
	r[0] = (struct bz_range){ 0x5000, 0x5000 };
	ck_assert_int_eq(bz_build_e820(64 * MIB, r, 1, t, BZ_E820_MAX, err,
				       sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	ck_assert_int_eq(bz_build_e820(64 * MIB, NULL, 0, t, 2, err,
				       sizeof(err)), -1);
}
END_TEST

START_TEST(test_refuses_no_magic)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct fake f = fake_ok;
	struct image img = { fake_buf, make_bzimage(fake_buf, &f) };

	memcpy(fake_buf + 0x202, "HdrT", 4);
	assert_refused(&img, &p, "no HdrS magic at 0x202");
	ck_assert_ptr_nonnull(strstr(err, "PE/COFF"));	/* it starts with MZ */
	fake_buf[0] = 0;
	assert_refused(&img, &p, "boot sector");
	put16(fake_buf + 0x1fe, 0);
	assert_refused(&img, &p, "format is unknown");
	ck_assert(!bzimage_detect(&img));

	/* HdrS without the boot flag is no bzImage either. */
	make_bzimage(fake_buf, &f);
	put16(fake_buf + 0x1fe, 0x1234);
	ck_assert(!bzimage_detect(&img));
	assert_refused(&img, &p, "boot flag at 0x1fe is 0x1234");
}
END_TEST

START_TEST(test_refuses_old_protocol)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct fake f = fake_ok;

	f.version = 0x0205;
	assert_fake_refused(&f, &p, "boot protocol 2.05 is older than 2.06");
	f.version = 0x0206;
	f.hdr_len = 0x3a;	/* ends at 0x23c, right after cmdline_size */
	ck_assert_int_eq(load_fake(&f, &p, &(struct bz_boot){ 0 }), 0);
}
END_TEST

START_TEST(test_refuses_not_loaded_high)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct fake f = fake_ok;

	f.loadflags = 0x80;
	assert_fake_refused(&f, &p, "LOADED_HIGH");
}
END_TEST

START_TEST(test_refuses_long_cmdline)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct fake f = fake_ok;
	struct bz_boot boot;

	f.cmdline_size = 16;
	p.cmdline = "0123456789abcdefg";	/* 17 */
	assert_fake_refused(&f, &p, "longer than the kernel's cmdline_size 16");
	p.cmdline = "0123456789abcdef";		/* 16: the most allowed */
	ck_assert_msg(load_fake(&f, &p, &boot) == 0, "%s", err);
	ck_assert_str_eq((char *)ram + BZ_CMDLINE_GPA, p.cmdline);
}
END_TEST

START_TEST(test_refuses_kernel_too_big)
{
	struct bz_range r = { 20 * MIB, 21 * MIB };
	struct bz_params p = { .mem_size = 32 * MIB };
	struct fake f = fake_ok;
	struct bz_boot boot;

	f.init_size = 16 * MIB;		/* 16 MiB + 16 MiB: exactly fits */
	ck_assert_msg(load_fake(&f, &p, &boot) == 0, "%s", err);
	memset(ram, 0, 32 * MIB);
	f.init_size = 16 * MIB + 1;
	assert_fake_refused(&f, &p, "kernel does not fit in guest RAM");
	ck_assert_ptr_nonnull(strstr(err, "--mem is 32 MiB"));

	/* A preferred address out of reach. */
	f.init_size = 0x800000;
	f.pref_address = 0x100000000ULL;
	assert_fake_refused(&f, &p, "outside 1 MiB-4 GiB");
	f.pref_address = 0x1000000;

	/* A range the runner keeps inside the kernel's window. */
	f.init_size = 0x800000;
	p.reserved = &r;
	p.nr_reserved = 1;
	assert_fake_refused(&f, &p, "kernel does not fit in guest RAM");
}
END_TEST

START_TEST(test_refuses_initrd_too_big)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	struct bz_boot boot;
	struct image rd;

	/* Above the kernel's window (24 MiB) there are 104 MiB. */
	make_initrd(&rd, 104 * MIB);
	p.initrd = &rd;
	ck_assert_msg(load_fake(&fake_ok, &p, &boot) == 0, "%s", err);
	ck_assert_uint_eq(boot.initrd_start, 24 * MIB);
	free(rd.data);
	memset(ram, 0, RAM_SIZE);

	make_initrd(&rd, 104 * MIB + 1);
	p.initrd = &rd;
	assert_fake_refused(&fake_ok, &p, "initrd");
	ck_assert_ptr_nonnull(strstr(err, "does not fit in guest RAM"));
	free(rd.data);
}
END_TEST

START_TEST(test_refuses_elf)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	uint8_t buf[4096] = { 0 };
	struct image img = { buf, sizeof(buf) };
	Elf64_Ehdr e = { 0 };

	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS64;
	e.e_machine = EM_X86_64;
	memcpy(buf, &e, sizeof(e));
	assert_refused(&img, &p, "no HdrS magic");
	ck_assert_ptr_nonnull(strstr(err, "looks like an ELF executable"));
	img.size = sizeof(e);	/* short, but still recognisably ELF */
	assert_refused(&img, &p, "ELF");
}
END_TEST

START_TEST(test_refuses_compressed)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	uint8_t buf[2048] = { 0 };
	struct image img = { buf, sizeof(buf) };

	memcpy(buf, "\x1f\x8b\x08\x00", 4);
	assert_refused(&img, &p, "gzip-compressed");
	memcpy(buf, "\xfd\x37\x7a\x58\x5a\x00", 6);
	assert_refused(&img, &p, "xz-compressed");
	memcpy(buf, "\x28\xb5\x2f\xfd", 4);
	assert_refused(&img, &p, "zstd-compressed");
	img.size = 10;
	assert_refused(&img, &p, "zstd-compressed");
}
END_TEST

START_TEST(test_refuses_empty_short_truncated)
{
	struct bz_params p = { .mem_size = RAM_SIZE };
	uint8_t buf[0x300] = { 0 };
	struct image img = { buf, 0 };
	struct fake f = fake_ok;

	assert_refused(&img, &p, "empty");
	img.size = 0x100;
	assert_refused(&img, &p, "too short");

	/* the file ends inside the setup header */
	img = (struct image){ fake_buf, 0x250 };
	make_bzimage(fake_buf, &f);
	assert_refused(&img, &p, "truncated (setup header ends at 0x26c");
	/* syssize promises more than the file has */
	img = (struct image){ fake_buf, make_bzimage(fake_buf, &f) - 1 };
	assert_refused(&img, &p, "truncated");
	/* the header ends before the fields of its protocol */
	f.hdr_len = 0x30;
	assert_fake_refused(&f, &p, "too short for protocol 2.15");
	/* code32_start must be the kernel loaded at 1 MiB */
	f = fake_ok;
	img.size = make_bzimage(fake_buf, &f);
	put32(fake_buf + 0x214, 0x10000);
	assert_refused(&img, &p, "code32_start");
}
END_TEST

Suite *bzimage_suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("boot protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_debian_6_1_boots);
	tcase_add_test(tc, test_debian_6_12_boots);
	tcase_add_test(tc, test_debian_kernels_need_init_size);
	tcase_add_test(tc, test_crafted_loads);
	tcase_add_test(tc, test_kernel_window);
	tcase_add_test(tc, test_setup_sects_zero_means_four);
	tcase_add_test(tc, test_no_64bit_entry_without_xlf_kernel_64);
	tcase_add_test(tc, test_initrd_below_initrd_addr_max);
	tcase_add_test(tc, test_initrd_below_reserved_top);
	tcase_add_test(tc, test_e820_layouts);
	tcase_add_test(tc, test_refuses_no_magic);
	tcase_add_test(tc, test_refuses_old_protocol);
	tcase_add_test(tc, test_refuses_not_loaded_high);
	tcase_add_test(tc, test_refuses_long_cmdline);
	tcase_add_test(tc, test_refuses_kernel_too_big);
	tcase_add_test(tc, test_refuses_initrd_too_big);
	tcase_add_test(tc, test_refuses_elf);
	tcase_add_test(tc, test_refuses_compressed);
	tcase_add_test(tc, test_refuses_empty_short_truncated);
	suite_add_tcase(s, tc);
	return s;
}
