// SPDX-License-Identifier: GPL-2.0
/*
 * Linux/x86 boot protocol: bzImage parsing, zero page, e820 map, kernel,
 * command line and initrd placement (Documentation/arch/x86/boot.rst).
 * The host is x86 too, so the little-endian header is read in place.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage.h"
#include "util.h"

/*
 * Setup header fields (boot.rst): the same offsets in the image and in the
 * zero page, which holds the header at 0x1f1 too.
 */
#define SH_SETUP_SECTS		0x1f1	/* 1 byte */
#define SH_SYSSIZE		0x1f4	/* 4: 16-byte paragraphs */
#define SH_VID_MODE		0x1fa	/* 2 */
#define SH_BOOT_FLAG		0x1fe	/* 2 */
#define SH_JUMP_LEN		0x201	/* 1: header ends at 0x202 + this */
#define SH_HEADER		0x202	/* 4: "HdrS" */
#define SH_VERSION		0x206	/* 2 */
#define SH_TYPE_OF_LOADER	0x210	/* 1 */
#define SH_LOADFLAGS		0x211	/* 1 */
#define SH_CODE32_START		0x214	/* 4 */
#define SH_RAMDISK_IMAGE	0x218	/* 4 */
#define SH_RAMDISK_SIZE		0x21c	/* 4 */
#define SH_HEAP_END_PTR		0x224	/* 2 */
#define SH_CMD_LINE_PTR		0x228	/* 4 */
#define SH_INITRD_ADDR_MAX	0x22c	/* 4 */
#define SH_KERNEL_ALIGNMENT	0x230	/* 4 */
#define SH_RELOCATABLE		0x234	/* 1 */
#define SH_XLOADFLAGS		0x236	/* 2 */
#define SH_CMDLINE_SIZE		0x238	/* 4 */
#define SH_SETUP_DATA		0x250	/* 8 */
#define SH_PREF_ADDRESS		0x258	/* 8 */
#define SH_INIT_SIZE		0x260	/* 4 */
#define SH_START		SH_SETUP_SECTS
#define SH_END_MAX		0x290	/* the header's room in the zero page */

/* struct boot_params fields outside the setup header. */
#define BP_ALT_MEM_K		0x1e0	/* 4 */
#define BP_E820_ENTRIES		0x1e8	/* 1 */
#define BP_E820_TABLE		0x2d0	/* 20 bytes an entry */
#define BP_E820_ENTRY_SIZE	20

#define HDR_MAGIC		"HdrS"
#define BOOT_FLAG		0xaa55

#define PROTO_MIN		0x0206	/* cmdline_size */
#define PROTO_2_09		0x0209	/* setup_data */
#define PROTO_2_10		0x020a	/* pref_address, init_size */
#define PROTO_2_12		0x020c	/* xloadflags */
/* Where the header must reach for the fields of each protocol. */
#define SH_END_2_06		(SH_CMDLINE_SIZE + 4)
#define SH_END_2_10		(SH_INIT_SIZE + 4)

#define LOADED_HIGH		0x01
#define QUIET_FLAG		0x20
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x0001
#define LOADER_UNDEFINED	0xff	/* type_of_loader: no assigned id */
#define VID_MODE_NORMAL		0xffff
/* boot.rst's sample: heap up to 0xe000 in the real-mode segment. */
#define HEAP_END_PTR		(0xe000 - 0x200)
#define ENTRY64_OFFSET		0x200
#define SECTOR			512
#define PAGE			0x1000ULL
#define MIB			0x100000ULL
#define BELOW_4G		0x100000000ULL

/* Little-endian fields; the host is x86, the copy avoids unaligned loads. */
static uint16_t rd16(const uint8_t *base, unsigned int off)
{
	uint16_t v;

	memcpy(&v, base + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *base, unsigned int off)
{
	uint32_t v;

	memcpy(&v, base + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *base, unsigned int off)
{
	uint64_t v;

	memcpy(&v, base + off, sizeof(v));
	return v;
}

static void wr16(uint8_t *base, unsigned int off, uint16_t v)
{
	memcpy(base + off, &v, sizeof(v));
}

static void wr32(uint8_t *base, unsigned int off, uint32_t v)
{
	memcpy(base + off, &v, sizeof(v));
}

static void wr64(uint8_t *base, unsigned int off, uint64_t v)
{
	memcpy(base + off, &v, sizeof(v));
}

int bzimage_detect(const struct image *img)
{
	return img->size >= SH_HEADER + 4 &&
	       rd16(img->data, SH_BOOT_FLAG) == BOOT_FLAG &&
	       !memcmp(img->data + SH_HEADER, HDR_MAGIC, 4);
}

static int starts_with(const struct image *img, const char *magic,
		       size_t len)
{
	return img->size >= len && !memcmp(img->data, magic, len);
}

/* Magic numbers of files people mistake for a kernel image. */
static const struct {
	const char *magic;
	size_t len;
	const char *what;
} lookalikes[] = {
	{ "\x7f\x45\x4c\x46", 4,
	  "the file looks like an ELF executable (a vmlinux? give the bzImage)" },
	{ "\x1f\x8b", 2, "the file looks like gzip-compressed data" },
	{ "\x1f\x9e", 2, "the file looks like gzip-compressed data" },
	{ "\xfd\x37\x7a\x58\x5a\x00", 6,
	  "the file looks like xz-compressed data" },
	{ "\x28\xb5\x2f\xfd", 4, "the file looks like zstd-compressed data" },
	{ "BZh", 3, "the file looks like bzip2-compressed data" },
	{ "\x5d\x00\x00", 3, "the file looks like LZMA-compressed data" },
	{ "\x02\x21\x4c\x18", 4, "the file looks like LZ4-compressed data" },
	{ "\x04\x22\x4d\x18", 4, "the file looks like LZ4-compressed data" },
	{ "070701", 6,
	  "the file looks like a cpio archive (an initramfs? see --initrd)" },
	{ "070702", 6,
	  "the file looks like a cpio archive (an initramfs? see --initrd)" },
	{ NULL, 0, NULL }
};

const char *bzimage_describe(const struct image *img)
{
	size_t i;

	if (bzimage_detect(img))
		return "the file is a bzImage";
	if (!img->size)
		return "the file is empty";
	for (i = 0; lookalikes[i].magic; i++)
		if (starts_with(img, lookalikes[i].magic, lookalikes[i].len))
			return lookalikes[i].what;
	if (img->size < SH_HEADER + 4)
		return "the file is too short to hold a setup header";
	if (starts_with(img, "MZ", 2))
		return "the file looks like a PE/COFF (EFI) executable, no Linux setup header";
	if (rd16(img->data, SH_BOOT_FLAG) == BOOT_FLAG)
		return "the file looks like a boot sector or a pre-2.00 zImage";
	return "the file's format is unknown";
}

static int check_header_length(const struct image *img,
			       const struct bz_info *bi, char *err,
			       size_t errlen)
{
	unsigned int need = bi->version >= PROTO_2_10 ? SH_END_2_10 :
							SH_END_2_06;

	if (bi->hdr_end > SH_END_MAX)
		return set_err(err, errlen,
			       "bzImage: setup header ends at 0x%x, past its room in the zero page (0x%x)",
			       bi->hdr_end, SH_END_MAX);
	if (bi->hdr_end < need)
		return set_err(err, errlen,
			       "bzImage: setup header ends at 0x%x, too short for protocol %u.%02u (needs 0x%x)",
			       bi->hdr_end, bi->version >> 8, bi->version & 0xff,
			       need);
	if (bi->hdr_end > img->size)
		return set_err(err, errlen,
			       "bzImage: truncated (setup header ends at 0x%x, file has %zu bytes)",
			       bi->hdr_end, img->size);
	return 0;
}

/* Protected-mode code: after the boot sector and the setup sectors. */
static int locate_kernel(const struct image *img, struct bz_info *bi,
			 char *err, size_t errlen)
{
	bi->setup_sects = img->data[SH_SETUP_SECTS];
	if (!bi->setup_sects)
		bi->setup_sects = 4;
	bi->pm_offset = (size_t)(bi->setup_sects + 1) * SECTOR;
	/* Signed images carry more after syssize: load what syssize says. */
	bi->pm_size = (size_t)rd32(img->data, SH_SYSSIZE) * 16;
	if (!bi->pm_size)
		return set_err(err, errlen,
			       "bzImage: syssize is 0 (no protected-mode kernel)");
	if (bi->pm_offset > img->size ||
	    bi->pm_size > img->size - bi->pm_offset)
		return set_err(err, errlen,
			       "bzImage: truncated (%zu bytes of kernel at 0x%zx, file has %zu bytes)",
			       bi->pm_size, bi->pm_offset, img->size);
	bi->code32_start = rd32(img->data, SH_CODE32_START);
	if (bi->code32_start < BZ_KERNEL_GPA ||
	    bi->code32_start >= BZ_KERNEL_GPA + bi->pm_size)
		return set_err(err, errlen,
			       "bzImage: code32_start 0x%x is outside the kernel loaded at 0x%llx",
			       bi->code32_start, BZ_KERNEL_GPA);
	return 0;
}

/* The fields this loader needs, each only from a protocol that has it. */
static void read_fields(const struct image *img, struct bz_info *bi)
{
	const uint8_t *d = img->data;

	bi->loadflags = d[SH_LOADFLAGS];
	bi->cmdline_size = rd32(d, SH_CMDLINE_SIZE);
	bi->initrd_addr_max = rd32(d, SH_INITRD_ADDR_MAX);
	bi->kernel_alignment = rd32(d, SH_KERNEL_ALIGNMENT);
	bi->relocatable = d[SH_RELOCATABLE];
	if (bi->version >= PROTO_2_12)
		bi->xloadflags = rd16(d, SH_XLOADFLAGS);
	if (bi->version >= PROTO_2_10) {
		bi->pref_address = rd64(d, SH_PREF_ADDRESS);
		bi->init_size = rd32(d, SH_INIT_SIZE);
	}
}

int bzimage_parse(const struct image *img, struct bz_info *bi, char *err,
		  size_t errlen)
{
	uint16_t flag;

	memset(bi, 0, sizeof(*bi));
	if (img->size < SH_HEADER + 4 ||
	    memcmp(img->data + SH_HEADER, HDR_MAGIC, 4))
		return set_err(err, errlen, "bzImage: no HdrS magic at 0x202: %s",
			       bzimage_describe(img));
	flag = rd16(img->data, SH_BOOT_FLAG);
	if (flag != BOOT_FLAG)
		return set_err(err, errlen,
			       "bzImage: boot flag at 0x1fe is 0x%04x, not 0xaa55",
			       flag);
	bi->version = rd16(img->data, SH_VERSION);
	if (bi->version < PROTO_MIN)
		return set_err(err, errlen,
			       "bzImage: boot protocol %u.%02u is older than 2.06, the oldest supported",
			       bi->version >> 8, bi->version & 0xff);
	bi->hdr_end = SH_HEADER + img->data[SH_JUMP_LEN];
	if (check_header_length(img, bi, err, errlen))
		return -1;
	read_fields(img, bi);
	if (!(bi->loadflags & LOADED_HIGH))
		return set_err(err, errlen,
			       "bzImage: LOADED_HIGH is clear in loadflags: a zImage for 0x10000, not loadable high");
	return locate_kernel(img, bi, err, errlen);
}

/*
 * Where the kernel runs while it decompresses itself (boot.rst, init_size):
 * a relocatable kernel moves up to pref_address, aligned; another one
 * runs at pref_address.
 */
static uint64_t kernel_runtime_start(const struct bz_info *bi)
{
	uint64_t start = BZ_KERNEL_GPA;
	uint64_t align = bi->kernel_alignment;

	if (bi->version < PROTO_2_10 || !bi->pref_address)
		return start;
	if (!bi->relocatable)
		return bi->pref_address;
	if (start < bi->pref_address)
		start = bi->pref_address;
	if (align > 1)
		start = (start + align - 1) / align * align;
	return start;
}

/* End of the RAM the kernel needs from 1 MiB on; 0 when out of reach. */
static uint64_t kernel_footprint_end(const struct bz_info *bi)
{
	uint64_t run = kernel_runtime_start(bi);
	uint64_t end = BZ_KERNEL_GPA + bi->pm_size;

	if (run < BZ_KERNEL_GPA || run >= BELOW_4G)
		return 0;
	if (run + bi->init_size > end)
		end = run + bi->init_size;
	return end;
}

/* ---- e820 ---- */

static int cmp_entry(const void *a, const void *b)
{
	const struct bz_e820_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* Sort [start, end) ranges kept in entries, then merge those that touch. */
static unsigned int merge_ranges(struct bz_e820_entry *r, unsigned int n)
{
	unsigned int i, out = 0;

	qsort(r, n, sizeof(*r), cmp_entry);
	for (i = 0; i < n; i++) {
		if (out && r[out - 1].type == r[i].type &&
		    r[out - 1].addr + r[out - 1].size >= r[i].addr) {
			uint64_t end = r[i].addr + r[i].size;

			if (end > r[out - 1].addr + r[out - 1].size)
				r[out - 1].size = end - r[out - 1].addr;
			continue;
		}
		r[out++] = r[i];
	}
	return out;
}

static int add_entry(struct bz_e820_entry *t, unsigned int *n, unsigned int max,
		     uint64_t start, uint64_t end, uint32_t type)
{
	if (*n >= max)
		return -1;
	t[(*n)++] = (struct bz_e820_entry){ start, end - start, type };
	return 0;
}

/* Add [start, end) minus the sorted, merged reserved ranges as RAM. */
static int add_ram(struct bz_e820_entry *t, unsigned int *n, unsigned int max,
		   uint64_t start, uint64_t end,
		   const struct bz_e820_entry *res, unsigned int nres)
{
	uint64_t cur = start;
	unsigned int i;

	for (i = 0; i < nres && cur < end; i++) {
		uint64_t rs = res[i].addr, re = res[i].addr + res[i].size;

		if (re <= cur || rs >= end)
			continue;
		if (rs > cur && add_entry(t, n, max, cur, rs, BZ_E820_RAM))
			return -1;
		cur = re;
	}
	if (cur < end && add_entry(t, n, max, cur, end, BZ_E820_RAM))
		return -1;
	return 0;
}

int bz_build_e820(uint64_t mem_size, const struct bz_range *reserved,
		  unsigned int nr_reserved, struct bz_e820_entry *table,
		  unsigned int max, char *err, size_t errlen)
{
	struct bz_e820_entry res[BZ_E820_MAX], all[BZ_E820_MAX];
	unsigned int i, nres = 0, n = 0;
	uint64_t low_end = mem_size < BZ_LOW_RAM_END ? mem_size : BZ_LOW_RAM_END;

	if (nr_reserved >= BZ_E820_MAX / 2)
		return set_err(err, errlen, "e820: %u reserved ranges are too many",
			       nr_reserved);
	/* The EBDA and BIOS area, then what the runner keeps. */
	add_entry(res, &nres, BZ_E820_MAX, BZ_LOW_RAM_END, BZ_HIGH_RAM_START,
		  BZ_E820_RESERVED);
	for (i = 0; i < nr_reserved; i++) {
		if (reserved[i].start >= reserved[i].end)
			return set_err(err, errlen,
				       "e820: reserved range 0x%llx-0x%llx is empty",
				       (unsigned long long)reserved[i].start,
				       (unsigned long long)reserved[i].end);
		add_entry(res, &nres, BZ_E820_MAX, reserved[i].start,
			  reserved[i].end, BZ_E820_RESERVED);
	}
	nres = merge_ranges(res, nres);

	if (add_ram(all, &n, BZ_E820_MAX, 0, low_end, res, nres) ||
	    (mem_size > BZ_HIGH_RAM_START &&
	     add_ram(all, &n, BZ_E820_MAX, BZ_HIGH_RAM_START, mem_size, res,
		     nres)))
		return set_err(err, errlen, "e820: more than %u entries",
			       BZ_E820_MAX);
	for (i = 0; i < nres; i++)
		if (add_entry(all, &n, BZ_E820_MAX, res[i].addr,
			      res[i].addr + res[i].size, res[i].type))
			return set_err(err, errlen, "e820: more than %u entries",
				       BZ_E820_MAX);
	n = merge_ranges(all, n);
	if (n > max)
		return set_err(err, errlen, "e820: %u entries, room for %u", n,
			       max);
	memcpy(table, all, n * sizeof(*table));
	return n;
}

/* Is [start, start + len) inside one RAM entry of the map? */
static int is_free_ram(const struct bz_e820_entry *t, unsigned int n,
		       uint64_t start, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (t[i].type != BZ_E820_RAM || start < t[i].addr)
			continue;
		if (start - t[i].addr <= t[i].size &&
		    len <= t[i].size - (start - t[i].addr))
			return 1;
	}
	return 0;
}

/*
 * The highest page-aligned place for size bytes inside RAM, at or above
 * floor and ending at or below limit.  Returns 0 when there is none.
 */
static uint64_t highest_fit(const struct bz_e820_entry *t, unsigned int n,
			    uint64_t size, uint64_t floor, uint64_t limit)
{
	uint64_t best = 0, top, at;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (t[i].type != BZ_E820_RAM)
			continue;
		top = t[i].addr + t[i].size;
		if (top > limit)
			top = limit;
		if (top < size)
			continue;
		at = (top - size) & ~(PAGE - 1);
		if (at < t[i].addr || at < floor)
			continue;
		if (at > best)
			best = at;
	}
	return best;
}

/* ---- placement checks, all made before anything is written ---- */

struct layout {
	struct bz_e820_entry e820[BZ_E820_MAX];
	unsigned int nr_e820;
	uint64_t kernel_end;
	const char *cmdline;
	size_t cmdline_len;
	uint64_t initrd_start, initrd_size;
};

static unsigned long long mib_up(uint64_t bytes)
{
	return (bytes + MIB - 1) / MIB;
}

static int check_kernel_fits(const struct bz_info *bi,
			     const struct bz_params *p, struct layout *l,
			     char *err, size_t errlen)
{
	uint64_t run = kernel_runtime_start(bi);

	l->kernel_end = kernel_footprint_end(bi);
	if (!l->kernel_end)
		return set_err(err, errlen,
			       "bzImage: kernel wants to run at 0x%llx, outside 1 MiB-4 GiB",
			       (unsigned long long)run);
	if (!is_free_ram(l->e820, l->nr_e820, BZ_KERNEL_GPA,
			 l->kernel_end - BZ_KERNEL_GPA))
		return set_err(err, errlen,
			       "bzImage: kernel does not fit in guest RAM: it needs RAM up to %llu MiB (0x%llx-0x%llx: %zu bytes loaded at 1 MiB, run at 0x%llx with init_size %u MiB), --mem is %llu MiB",
			       mib_up(l->kernel_end), BZ_KERNEL_GPA,
			       (unsigned long long)l->kernel_end - 1,
			       bi->pm_size, (unsigned long long)run,
			       (unsigned int)mib_up(bi->init_size),
			       (unsigned long long)(p->mem_size / MIB));
	return 0;
}

static int check_cmdline(const struct bz_info *bi, const struct bz_params *p,
			 struct layout *l, char *err, size_t errlen)
{
	l->cmdline = p->cmdline ? p->cmdline : BZ_DEFAULT_CMDLINE;
	l->cmdline_len = strlen(l->cmdline);
	if (l->cmdline_len > bi->cmdline_size)
		return set_err(err, errlen,
			       "bzImage: command line is %zu bytes, longer than the kernel's cmdline_size %u",
			       l->cmdline_len, bi->cmdline_size);
	if (l->cmdline_len >= BZ_CMDLINE_AREA)
		return set_err(err, errlen,
			       "bzImage: command line is %zu bytes, the loader takes at most %d",
			       l->cmdline_len, BZ_CMDLINE_AREA - 1);
	if (!is_free_ram(l->e820, l->nr_e820, BZ_CMDLINE_GPA,
			 l->cmdline_len + 1) ||
	    !is_free_ram(l->e820, l->nr_e820, BZ_ZERO_PAGE_GPA,
			 BZ_ZERO_PAGE_SIZE))
		return set_err(err, errlen,
			       "bzImage: zero page (0x%llx) or command line (0x%llx) is not free RAM",
			       BZ_ZERO_PAGE_GPA, BZ_CMDLINE_GPA);
	return 0;
}

/* As high as allowed: below initrd_addr_max, 4 GiB and the top of RAM. */
static int place_initrd(const struct bz_info *bi, const struct bz_params *p,
			struct layout *l, char *err, size_t errlen)
{
	uint64_t limit = (uint64_t)bi->initrd_addr_max + 1;

	l->initrd_start = 0;
	l->initrd_size = 0;
	if (!p->initrd || !p->initrd->size)
		return 0;
	if (limit > BELOW_4G)
		limit = BELOW_4G;
	l->initrd_size = p->initrd->size;
	l->initrd_start = highest_fit(l->e820, l->nr_e820, l->initrd_size,
				      l->kernel_end, limit);
	if (!l->initrd_start)
		return set_err(err, errlen,
			       "bzImage: initrd (%llu bytes, %llu MiB) does not fit in guest RAM between the kernel's end 0x%llx and 0x%llx (--mem %llu MiB, initrd_addr_max 0x%x)",
			       (unsigned long long)l->initrd_size,
			       mib_up(l->initrd_size),
			       (unsigned long long)l->kernel_end,
			       (unsigned long long)(p->mem_size < limit ?
						    p->mem_size : limit),
			       (unsigned long long)(p->mem_size / MIB),
			       bi->initrd_addr_max);
	return 0;
}

/* Host addresses of everything written, so that no write is partial. */
struct targets {
	void *zero_page, *cmdline, *kernel, *initrd;
};

static int find_targets(struct mvx_memmap *map, const struct bz_info *bi,
			const struct bz_params *p, const struct layout *l,
			struct targets *t, char *err, size_t errlen)
{
	t->zero_page = mvx_memmap_hva(map, BZ_ZERO_PAGE_GPA, BZ_ZERO_PAGE_SIZE);
	t->cmdline = mvx_memmap_hva(map, BZ_CMDLINE_GPA, l->cmdline_len + 1);
	t->kernel = mvx_memmap_hva(map, BZ_KERNEL_GPA, bi->pm_size);
	t->initrd = NULL;
	if (l->initrd_size)
		t->initrd = mvx_memmap_hva(map, l->initrd_start, l->initrd_size);
	if (!t->zero_page || !t->cmdline || !t->kernel ||
	    (l->initrd_size && !t->initrd))
		return set_err(err, errlen,
			       "bzImage: guest memory map does not cover --mem %llu MiB",
			       (unsigned long long)(p->mem_size / MIB));
	return 0;
}

/* RAM above 1 MiB up to the first hole, for kernels that ignore e820. */
static uint32_t alt_mem_kib(const struct layout *l)
{
	unsigned int i;

	for (i = 0; i < l->nr_e820; i++)
		if (l->e820[i].type == BZ_E820_RAM &&
		    l->e820[i].addr == BZ_HIGH_RAM_START)
			return l->e820[i].size >> 10;
	return 0;
}

/* e820 entries are 20 bytes in the zero page: addr, size, type. */
static void write_e820(uint8_t *zp, const struct layout *l)
{
	unsigned int i, off;

	zp[BP_E820_ENTRIES] = l->nr_e820;
	for (i = 0; i < l->nr_e820; i++) {
		off = BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
		wr64(zp, off, l->e820[i].addr);
		wr64(zp, off + 8, l->e820[i].size);
		wr32(zp, off + 16, l->e820[i].type);
	}
}

/*
 * boot_params: all zero, the image's setup header, then what the loader
 * must write (boot.rst, "32-bit Boot Protocol").
 */
static void build_zero_page(const struct image *img, const struct bz_info *bi,
			    const struct layout *l, uint8_t *zp)
{
	memset(zp, 0, BZ_ZERO_PAGE_SIZE);
	memcpy(zp + SH_START, img->data + SH_START, bi->hdr_end - SH_START);
	wr16(zp, SH_VID_MODE, VID_MODE_NORMAL);
	zp[SH_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	/* Early messages wanted: the serial console is all there is. */
	zp[SH_LOADFLAGS] = (bi->loadflags | CAN_USE_HEAP) & ~QUIET_FLAG;
	wr16(zp, SH_HEAP_END_PTR, HEAP_END_PTR);
	wr32(zp, SH_CMD_LINE_PTR, BZ_CMDLINE_GPA);
	wr32(zp, SH_RAMDISK_IMAGE, l->initrd_start);
	wr32(zp, SH_RAMDISK_SIZE, l->initrd_size);
	if (bi->version >= PROTO_2_09)
		wr64(zp, SH_SETUP_DATA, 0);	/* no setup_data list */
	wr32(zp, BP_ALT_MEM_K, alt_mem_kib(l));
	write_e820(zp, l);
}

static void fill_boot(const struct bz_info *bi, const struct layout *l,
		      struct bz_boot *boot)
{
	boot->zero_page = BZ_ZERO_PAGE_GPA;
	boot->cmdline = BZ_CMDLINE_GPA;
	boot->entry32 = bi->code32_start;
	boot->entry64 = bi->xloadflags & XLF_KERNEL_64 ?
			BZ_KERNEL_GPA + ENTRY64_OFFSET : 0;
	boot->kernel_start = BZ_KERNEL_GPA;
	boot->kernel_end = l->kernel_end;
	boot->initrd_start = l->initrd_start;
	boot->initrd_size = l->initrd_size;
	boot->e820_entries = l->nr_e820;
	boot->info = *bi;
}

int bzimage_load(struct mvx_memmap *map, const struct image *img,
		 const struct bz_params *p, struct bz_boot *boot, char *err,
		 size_t errlen)
{
	uint8_t zp[BZ_ZERO_PAGE_SIZE];
	struct bz_info bi;
	struct targets t;
	struct layout l;
	int n;

	if (bzimage_parse(img, &bi, err, errlen))
		return -1;
	n = bz_build_e820(p->mem_size, p->reserved, p->nr_reserved, l.e820,
			  BZ_E820_MAX, err, errlen);
	if (n < 0)
		return -1;
	l.nr_e820 = n;
	if (check_kernel_fits(&bi, p, &l, err, errlen) ||
	    check_cmdline(&bi, p, &l, err, errlen) ||
	    place_initrd(&bi, p, &l, err, errlen) ||
	    find_targets(map, &bi, p, &l, &t, err, errlen))
		return -1;

	build_zero_page(img, &bi, &l, zp);
	memcpy(t.zero_page, zp, sizeof(zp));
	memcpy(t.cmdline, l.cmdline, l.cmdline_len + 1);
	memcpy(t.kernel, img->data + bi.pm_offset, bi.pm_size);
	if (l.initrd_size)
		memcpy(t.initrd, p->initrd->data, l.initrd_size);
	fill_boot(&bi, &l, boot);
	return 0;
}
