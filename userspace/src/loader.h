/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Image loaders.  They write into guest RAM through an mvx_memmap, so they
 * run (and are tested) without any hypervisor device.  On failure they
 * return -1 with a one-line reason in err.
 */
#ifndef MVX_LOADER_H
#define MVX_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "mvx.h"
#include "options.h"

/* Firmware window: the image ends at 4 GiB and may be at most 16 MiB. */
#define FW_WINDOW_END		0x100000000ULL
#define FW_MAX_SIZE		(16ULL << 20)
#define FW_LOW_ALIAS_BASE	0xe0000ULL	/* last 128 KiB seen here too */
#define FW_LOW_ALIAS_SIZE	0x20000ULL

struct image {
	uint8_t *data;
	size_t size;
};

enum image_kind { IMAGE_FLAT, IMAGE_ELF32, IMAGE_ELF64 };

struct load_info {
	uint64_t entry;
	enum boot_mode mode;	/* what the image asks for (MODE_AUTO resolved) */
	uint64_t low, high;	/* guest-physical span written */
};

/* Read a whole file; rejects missing, unreadable and empty files. */
int image_read(const char *path, struct image *img, char *err, size_t errlen);
void image_free(struct image *img);
enum image_kind image_kind(const struct image *img);

/* Flat binary at addr; fails unless [addr, addr + size) is guest RAM. */
int load_flat(struct mvx_memmap *map, const struct image *img, uint64_t addr,
	      struct load_info *info, char *err, size_t errlen);
/* ELF32 (i386) or ELF64 (x86-64) executable: PT_LOAD segments by p_paddr. */
int load_elf(struct mvx_memmap *map, const struct image *img,
	     struct load_info *info, char *err, size_t errlen);

/*
 * Size of the firmware window for an image of img_size bytes: rounded up
 * to 4 KiB and at least FW_LOW_ALIAS_SIZE, so the low alias is always
 * backed.  Fails for empty images and for images above FW_MAX_SIZE.
 */
int firmware_window_size(size_t img_size, uint64_t *window, char *err,
			 size_t errlen);
/* Copy the image so that it ends at the end of the window. */
void firmware_place(void *window, uint64_t window_size,
		    const struct image *img);

#endif /* MVX_LOADER_H */
