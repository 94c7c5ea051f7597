/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux/x86 boot protocol loader (Documentation/arch/x86/boot.rst): a
 * bzImage of protocol 2.06 or later is started through the 32-bit boot
 * protocol.  The real-mode setup code is not run; the loader builds the
 * zero page (struct boot_params) itself, writes the command line, places
 * the protected-mode kernel at 1 MiB and the initrd high in RAM.
 *
 * The runner then starts the boot vCPU in 32-bit flat protected mode:
 * CR0.PE = 1 and paging off; a GDT with flat 4 GiB descriptors for
 * BZ_BOOT_CS (execute/read) and BZ_BOOT_DS (read/write); CS = BZ_BOOT_CS,
 * DS = ES = SS = BZ_BOOT_DS; RFLAGS.IF = 0; ESI = bz_boot.zero_page;
 * EBP = EDI = EBX = 0; EIP = bz_boot.entry32.
 *
 * Like the other loaders these write into guest RAM through an
 * mvx_memmap and return -1 with a one-line reason in err on failure.
 */
#ifndef MVX_BZIMAGE_H
#define MVX_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"

/* Defaults that boot a distro kernel with nothing but --kernel. */
#define BZ_DEFAULT_MEM		(128ULL << 20)	/* QEMU's default */
/*
 * ttyS0 is the runner's UART; earlyprintk shows the boot before the
 * console driver is up; panic=-1 turns a panic into an immediate reboot,
 * so that a broken boot ends the run instead of spinning.
 */
#define BZ_DEFAULT_CMDLINE	"console=ttyS0 earlyprintk=serial panic=-1"

/* Where the loader puts what it builds (conventional RAM, below 1 MiB). */
#define BZ_ZERO_PAGE_GPA	0x10000ULL
#define BZ_ZERO_PAGE_SIZE	0x1000
#define BZ_CMDLINE_GPA		0x20000ULL
#define BZ_CMDLINE_AREA		0x10000	/* the longest we accept, with NUL */
#define BZ_KERNEL_GPA		0x100000ULL	/* protected-mode kernel */

/* Selectors the 32-bit boot protocol requires (__BOOT_CS, __BOOT_DS). */
#define BZ_BOOT_CS		0x10
#define BZ_BOOT_DS		0x18

/* The PC memory map the loader describes in the e820 table. */
#define BZ_LOW_RAM_END		0x9fc00ULL	/* EBDA and BIOS area above */
#define BZ_HIGH_RAM_START	0x100000ULL
#define BZ_E820_MAX		128		/* entries in the zero page */
#define BZ_E820_RAM		1
#define BZ_E820_RESERVED	2

/* A guest-physical range [start, end). */
struct bz_range {
	uint64_t start, end;
};

/* One e820 entry (20 bytes in the zero page; this copy is not packed). */
struct bz_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* What the loader reads from the setup header, by protocol version. */
struct bz_info {
	uint16_t version;		/* 0x020f is 2.15 */
	unsigned int setup_sects;	/* 0 in the header already made 4 */
	uint8_t loadflags;
	uint16_t xloadflags;		/* 0 before 2.12 */
	uint32_t code32_start;
	uint32_t cmdline_size;		/* without the terminating NUL */
	uint32_t initrd_addr_max;	/* highest byte the initrd may use */
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint64_t pref_address;		/* 0 before 2.10 */
	uint32_t init_size;		/* 0 before 2.10 */
	unsigned int hdr_end;		/* 0x202 + byte at 0x201 */
	size_t pm_offset;		/* protected-mode code in the file */
	size_t pm_size;			/* syssize * 16 */
};

/* What the runner provides. */
struct bz_params {
	uint64_t mem_size;		/* guest RAM is [0, mem_size) */
	const struct bz_range *reserved;	/* kept by the runner; or NULL */
	unsigned int nr_reserved;
	const char *cmdline;		/* NULL: BZ_DEFAULT_CMDLINE */
	const struct image *initrd;	/* NULL or empty: no initrd */
};

/* What the runner needs to start the kernel. */
struct bz_boot {
	uint64_t zero_page;		/* ESI */
	uint64_t cmdline;
	uint64_t entry32;		/* code32_start */
	uint64_t entry64;		/* load address + 0x200; 0 if no 64-bit entry */
	uint64_t kernel_start, kernel_end;	/* RAM the kernel may use to boot */
	uint64_t initrd_start, initrd_size;	/* size 0: none */
	unsigned int e820_entries;
	struct bz_info info;
};

/* Does the image carry the boot sector flag and the HdrS magic? */
int bzimage_detect(const struct image *img);
/*
 * What the file looks like, as a clause for a refusal: "the file is
 * empty", "the file looks like gzip-compressed data", ...
 */
const char *bzimage_describe(const struct image *img);
/* Check the setup header and fill info; nothing is written. */
int bzimage_parse(const struct image *img, struct bz_info *info, char *err,
		  size_t errlen);
/*
 * The e820 map: RAM 0-0x9FC00, reserved up to 1 MiB, RAM from 1 MiB to
 * mem_size, with the reserved ranges cut out of RAM and listed as
 * reserved.  Returns the number of entries (sorted, adjacent entries of
 * one type merged) or -1.
 */
int bz_build_e820(uint64_t mem_size, const struct bz_range *reserved,
		  unsigned int nr_reserved, struct bz_e820_entry *table,
		  unsigned int max, char *err, size_t errlen);
/*
 * Check that kernel, initrd and command line fit, then write the zero
 * page, the command line, the kernel and the initrd.  Guest RAM is left
 * untouched when it fails.
 */
int bzimage_load(struct mvx_memmap *map, const struct image *img,
		 const struct bz_params *p, struct bz_boot *boot, char *err,
		 size_t errlen);

#endif /* MVX_BZIMAGE_H */
