// SPDX-License-Identifier: GPL-2.0
/*
 * Machine layout as the runner builds it before any device is opened:
 * firmware window and its low alias, the long-mode page tables, and the
 * images and devices it must refuse with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bzimage.h"
#include "cpuid.h"
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

/* The first /boot/vmlinuz-* of this host, or NULL (with a note). */
static const char *host_bzimage(glob_t *g)
{
	if (glob("/boot/vmlinuz-*", 0, NULL, g) || !g->gl_pathc) {
		printf("SKIP: no /boot/vmlinuz-* on this host\n");
		return NULL;
	}
	return g->gl_pathv[0];
}

/*
 * A bzImage given as IMAGE: 128 MiB by default, the boot GDT at the
 * runner's system area, the command line with the TSC rate added.
 */
START_TEST(test_bzimage_prepared_for_linux)
{
	const uint64_t *gdt;
	const char *kernel, *cmdline;
	char want[64];
	glob_t g;

	kernel = host_bzimage(&g);
	if (!kernel)
		return;
	ck_assert_int_eq(PARSE(kernel), 0);
	ck_assert_msg(machine_prepare(&m, &opt, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(m.linux_boot, 1);
	ck_assert_uint_eq(m.mem, BZ_DEFAULT_MEM);
	ck_assert_ptr_nonnull(mvx_memmap_hva(&m.layout, BZ_DEFAULT_MEM - 4096, 4096));
	ck_assert_uint_eq(m.boot.zero_page, BZ_ZERO_PAGE_GPA);

	gdt = mvx_memmap_hva(&m.layout, SYS_AREA_GPA, 32);
	ck_assert_ptr_nonnull(gdt);
	ck_assert_uint_eq(gdt[BZ_BOOT_CS / 8] >> 40 & 0xff, 0x9b);	/* code */
	ck_assert_uint_eq(gdt[BZ_BOOT_DS / 8] >> 40 & 0xff, 0x93);	/* data */

	cmdline = mvx_memmap_hva(&m.layout, m.boot.cmdline, 256);
	ck_assert_ptr_nonnull(cmdline);
	ck_assert_uint_gt(m.tsc_khz, 0);
	snprintf(want, sizeof(want), " tsc_early_khz=%u", m.tsc_khz);
	ck_assert_str_eq(cmdline + strlen(BZ_DEFAULT_CMDLINE), want);
	ck_assert_mem_eq(cmdline, BZ_DEFAULT_CMDLINE, strlen(BZ_DEFAULT_CMDLINE));
	machine_destroy(&m);

	/* --mem wins; a command line with its own TSC rate is left alone. */
	ck_assert_int_eq(PARSE("--mem", "200M", "--append",
			       "console=ttyS0 tsc_early_khz=1000", kernel), 0);
	ck_assert_msg(machine_prepare(&m, &opt, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(m.mem, 200ULL << 20);
	cmdline = mvx_memmap_hva(&m.layout, m.boot.cmdline, 64);
	ck_assert_str_eq(cmdline, "console=ttyS0 tsc_early_khz=1000");
	globfree(&g);
}
END_TEST

START_TEST(test_bzimage_options_refused)
{
	const char *kernel;
	glob_t g;

	/* --initrd/--append name a file that is not a bzImage, and say why. */
	ck_assert_int_eq(PARSE("--initrd", "guests/echo.bin", "guests/echo.bin"), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "guests/echo.bin is not a Linux bzImage (no HdrS"), "%s", err);
	machine_destroy(&m);

	kernel = host_bzimage(&g);
	if (!kernel)
		return;
	ck_assert_int_eq(PARSE("--mode", "long", kernel), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "--mode, --load and --entry do not apply"), "%s", err);
	machine_destroy(&m);
	ck_assert_int_eq(PARSE("--cpus", "2", kernel), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "one vCPU only"), "%s", err);
	machine_destroy(&m);
	ck_assert_int_eq(PARSE("--initrd", "/nonexistent.cpio", kernel), 0);
	ck_assert_int_eq(machine_prepare(&m, &opt, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent.cpio"), "%s", err);
	globfree(&g);
}
END_TEST

static struct mvx_cpuid_entry2 *leaf(struct mvx_cpuid2 *c, uint32_t fn)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

/* What the machine's CPUID takes away and adds. */
START_TEST(test_machine_cpuid)
{
	static const struct mvx_cpuid_entry2 in[] = {
		{ .function = 1, .ecx = ~0U, .edx = ~0U },
		{ .function = 7, .ecx = ~0U },
		{ .function = 0x15, .eax = 2, .ebx = 184, .ecx = 0 },
		{ .function = 0x40000000, .eax = 0x40000001 },
		{ .function = 0x40000001, .eax = ~0U },
		{ .function = 0x80000001, .edx = ~0U },
	};
	struct machine_cpuid mc = { .tsc_khz = 2500000 };
	struct mvx_cpuid2 *c;

	c = calloc(1, sizeof(*c) + sizeof(in));
	ck_assert_ptr_nonnull(c);
	c->nent = 6;
	memcpy(c->entries, in, sizeof(in));
	machine_cpuid_filter(c, &mc);
	ck_assert_uint_eq(c->nent, 4);
	ck_assert_ptr_null(leaf(c, 0x40000000));
	ck_assert_ptr_null(leaf(c, 0x40000001));
	ck_assert_uint_eq(leaf(c, 1)->edx, ~0U & ~(1U << 9 | 1U << 7 | 1U << 14));
	ck_assert_uint_eq(leaf(c, 1)->ecx, ~0U & ~(1U << 21 | 1U << 24));
	ck_assert_uint_eq(leaf(c, 7)->ecx, ~0U & ~(1U << 16));
	ck_assert_uint_eq(leaf(c, 0x80000001)->edx, ~0U & ~(1U << 9 | 1U << 7 | 1U << 14));
	ck_assert_uint_eq(leaf(c, 0x15)->eax, 1);
	ck_assert_uint_eq(leaf(c, 0x15)->ebx, 1);
	ck_assert_uint_eq(leaf(c, 0x15)->ecx, 2500000000U);
	free(c);
}
END_TEST

/* The measured TSC rate is plausible: 10 MHz to 10 GHz. */
START_TEST(test_tsc_rate_measured)
{
	uint32_t khz = measure_tsc_khz();

	ck_assert_uint_gt(khz, 10000);
	ck_assert_uint_lt(khz, 10000000);
}
END_TEST

struct tty_writer {
	FILE *f;
	int failed;		/* fputs or fflush failed */
	int done;		/* atomic */
};

/* A device's output, as the UART does it: stdio, then a flush. */
static void *write_to_tty(void *arg)
{
	struct tty_writer *w = arg;
	char line[512];

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	w->failed = fputs(line, w->f) < 0 || fflush(w->f);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Write to fd until it would block, twice: the tty moves data on late. */
static void fill_tty(int fd)
{
	struct timespec settle = { 0, 50 * 1000 * 1000 };
	int flags = fcntl(fd, F_GETFL), round;
	char buf[4096] = { 0 };

	ck_assert_int_eq(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
	for (round = 0; round < 2; round++) {
		while (write(fd, buf, sizeof(buf)) > 0)
			;
		ck_assert_int_eq(errno, EAGAIN);
		nanosleep(&settle, NULL);
	}
	ck_assert_int_eq(fcntl(fd, F_SETFL, flags), 0);
}

/*
 * A kick that finds a vCPU thread blocked in a write to a full terminal
 * (the guest's console output) must not fail that write: once the
 * terminal drains, all of it arrives.
 */
START_TEST(test_kick_spares_terminal_writes)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct tty_writer w = { 0 };
	int master, slave, i;
	struct termios raw;
	char buf[4096];
	pthread_t t;

	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	ck_assert_int_eq(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	ck_assert_int_eq(tcsetattr(slave, TCSANOW, &raw), 0);
	fill_tty(slave);
	ck_assert_int_eq(machine_install_kick_handler(), 0);
	w.f = fdopen(slave, "w");
	ck_assert_ptr_nonnull(w.f);
	ck_assert_int_eq(pthread_create(&t, NULL, write_to_tty, &w), 0);
	for (i = 0; i < 10; i++) {
		nanosleep(&pause, NULL);
		pthread_kill(t, MACHINE_KICK_SIGNAL);
	}
	ck_assert_int_eq(fcntl(master, F_SETFL, O_NONBLOCK), 0);
	while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		if (read(master, buf, sizeof(buf)) <= 0)
			nanosleep(&pause, NULL);
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(w.failed, 0);
	fclose(w.f);
	close(master);
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
	tcase_add_test(tc, test_bzimage_prepared_for_linux);
	tcase_add_test(tc, test_bzimage_options_refused);
	tcase_add_test(tc, test_machine_cpuid);
	tcase_add_test(tc, test_tsc_rate_measured);
	tcase_add_test(tc, test_kick_spares_terminal_writes);
	suite_add_tcase(s, tc);
	return s;
}
