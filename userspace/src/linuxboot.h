/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Booting a Linux bzImage: bzimage.c lays out guest RAM, this file adds
 * the GDT and the boot vCPU's registers the 32-bit boot protocol asks for.
 */
#ifndef MVX_LINUXBOOT_H
#define MVX_LINUXBOOT_H

#include "bzimage.h"
#include "loader.h"
#include "mvx.h"
#include "options.h"

/* What the runner's machine tells the kernel. */
struct linux_machine {
	uint64_t mem;		/* guest RAM is [0, mem) */
	uint64_t gdt_gpa;	/* where the boot GDT goes */
	uint32_t tsc_khz;	/* 0: unknown */
};

/*
 * Load kernel (and opt->initrd, opt->append) into guest RAM and write a
 * GDT for BZ_BOOT_CS/BZ_BOOT_DS.  The command line gets
 * "tsc_early_khz=<lm->tsc_khz>" unless it has a tsc_early_khz already.
 * Returns 0, or -1 with a one-line reason in err.
 */
int linux_load(struct mvx_memmap *map, const struct image *kernel,
	       const struct options *opt, const struct linux_machine *lm,
	       struct bz_boot *boot, char *err, size_t errlen);
/* Registers of the boot vCPU at the 32-bit entry (see bzimage.h). */
int linux_setup_boot_vcpu(struct mvx_vcpu *v, uint64_t gdt_gpa,
			  const struct bz_boot *boot);

#endif /* MVX_LINUXBOOT_H */
