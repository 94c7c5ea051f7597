// SPDX-License-Identifier: GPL-2.0
/* Booting a Linux bzImage: see linuxboot.h. */
#include <string.h>

#include "linuxboot.h"
#include "util.h"

/*
 * Selectors 0x10 and 0x18 (__BOOT_CS, __BOOT_DS): flat 4 GiB, accessed
 * bits preset.  The kernel loads its own GDT first thing, so this one
 * only needs to live until then.
 */
static const uint64_t linux_gdt[] = {
	0,
	0,
	0x00cf9b000000ffffULL,	/* code, execute/read, 32-bit */
	0x00cf93000000ffffULL,	/* data, read/write */
};

static int read_initrd(const char *path, struct image *img, char *err,
		       size_t errlen)
{
	char tmp[256];

	memset(img, 0, sizeof(*img));
	if (!path)
		return 0;
	if (!image_read(path, img, tmp, sizeof(tmp)))
		return 0;
	return set_err(err, errlen, "--initrd %s", tmp);
}

static int write_gdt(struct mvx_memmap *map, uint64_t gpa, char *err,
		     size_t errlen)
{
	void *gdt = mvx_memmap_hva(map, gpa, sizeof(linux_gdt));

	if (!gdt)
		return set_err(err, errlen, "no guest RAM at 0x%llx for the boot GDT",
			       (unsigned long long)gpa);
	memcpy(gdt, linux_gdt, sizeof(linux_gdt));
	return 0;
}

/*
 * Linux cannot calibrate the TSC against the PIT here: each PIT read is an
 * exit, too slow and too irregular for its checks, and CPUID's frequency
 * leaves are Intel-only.  So the command line says what the runner
 * measured, unless it already says something.
 */
static int build_cmdline(char *buf, size_t len, const char *cmdline,
			 uint32_t tsc_khz, char *err, size_t errlen)
{
	int n;

	if (!cmdline)
		cmdline = BZ_DEFAULT_CMDLINE;
	if (!tsc_khz || strstr(cmdline, "tsc_early_khz="))
		n = snprintf(buf, len, "%s", cmdline);
	else
		n = snprintf(buf, len, "%s%stsc_early_khz=%u", cmdline,
			     *cmdline ? " " : "", tsc_khz);
	if (n < 0 || (size_t)n >= len)
		return set_err(err, errlen, "--append: command line of %zu bytes is too long",
			       strlen(cmdline));
	return 0;
}

int linux_load(struct mvx_memmap *map, const struct image *kernel,
	       const struct options *opt, const struct linux_machine *lm,
	       struct bz_boot *boot, char *err, size_t errlen)
{
	char cmdline[BZ_CMDLINE_AREA + 32];
	struct bz_params p = {
		.mem_size = lm->mem,
		.cmdline = cmdline,
	};
	struct image initrd;
	int ret;

	if (build_cmdline(cmdline, sizeof(cmdline), opt->append, lm->tsc_khz,
			  err, errlen) ||
	    read_initrd(opt->initrd, &initrd, err, errlen))
		return -1;
	p.initrd = &initrd;
	ret = bzimage_load(map, kernel, &p, boot, err, errlen);
	if (!ret)
		ret = write_gdt(map, lm->gdt_gpa, err, errlen);
	image_free(&initrd);
	return ret;
}

static void set_selectors(struct mvx_sregs *s)
{
	s->cs.selector = BZ_BOOT_CS;
	s->ds.selector = BZ_BOOT_DS;
	s->es.selector = BZ_BOOT_DS;
	s->ss.selector = BZ_BOOT_DS;
	s->fs.selector = BZ_BOOT_DS;
	s->gs.selector = BZ_BOOT_DS;
	s->gdt.limit = sizeof(linux_gdt) - 1;
}

int linux_setup_boot_vcpu(struct mvx_vcpu *v, uint64_t gdt_gpa,
			  const struct bz_boot *boot)
{
	struct mvx_sregs sregs;
	struct mvx_regs regs;
	int ret;

	/* Flat 32-bit protected mode, paging off; then the protocol's selectors. */
	ret = mvx_setup_protected_mode(v, gdt_gpa);
	if (!ret)
		ret = mvx_get_sregs(v, &sregs);
	if (ret)
		return ret;
	set_selectors(&sregs);
	ret = mvx_set_sregs(v, &sregs);
	if (ret)
		return ret;

	memset(&regs, 0, sizeof(regs));
	regs.rsi = boot->zero_page;
	regs.rip = boot->entry32;
	regs.rflags = 0x2;	/* IF = 0 */
	return mvx_set_regs(v, &regs);
}
