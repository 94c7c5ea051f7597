// SPDX-License-Identifier: GPL-2.0
/* Flat binary, ELF and firmware loaders. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "loader.h"
#include "util.h"

int image_read(const char *path, struct image *img, char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;
	int fd;

	img->data = NULL;
	img->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return set_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return set_err(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return set_err(err, errlen, "%s: empty image", path);
	}
	if ((unsigned long long)st.st_size > OPT_MAX_MEM) {
		close(fd);
		return set_err(err, errlen, "%s: image larger than any guest RAM",
			       path);
	}
	img->data = malloc(st.st_size);
	if (!img->data) {
		close(fd);
		return set_err(err, errlen, "%s: out of memory", path);
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, img->data + done, st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			image_free(img);
			return set_err(err, errlen, "%s: read failed: %s", path,
				       n ? strerror(errno) : "file shrank");
		}
		done += n;
	}
	close(fd);
	img->size = done;
	return 0;
}

void image_free(struct image *img)
{
	free(img->data);
	img->data = NULL;
	img->size = 0;
}

enum image_kind image_kind(const struct image *img)
{
	if (img->size < EI_NIDENT || memcmp(img->data, ELFMAG, SELFMAG))
		return IMAGE_FLAT;
	return img->data[EI_CLASS] == ELFCLASS64 ? IMAGE_ELF64 : IMAGE_ELF32;
}

int load_flat(struct mvx_memmap *map, const struct image *img, uint64_t addr,
	      struct load_info *info, char *err, size_t errlen)
{
	void *dst = mvx_memmap_hva(map, addr, img->size);

	if (!img->size)
		return set_err(err, errlen, "flat image: empty");
	if (!dst)
		return set_err(err, errlen,
			       "flat image: 0x%llx-0x%llx is not guest RAM (see --mem, --load)",
			       (unsigned long long)addr,
			       (unsigned long long)(addr + img->size - 1));
	memcpy(dst, img->data, img->size);
	info->entry = addr;
	info->mode = MODE_REAL;
	info->low = addr;
	info->high = addr + img->size;
	return 0;
}

/* One program header, widened to 64 bits whatever the class. */
struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr(const struct image *img, int is64, uint64_t off,
		      struct seg *s)
{
	if (is64) {
		Elf64_Phdr p;

		memcpy(&p, img->data + off, sizeof(p));
		*s = (struct seg){ p.p_type, p.p_offset, p.p_paddr,
				   p.p_filesz, p.p_memsz };
	} else {
		Elf32_Phdr p;

		memcpy(&p, img->data + off, sizeof(p));
		*s = (struct seg){ p.p_type, p.p_offset, p.p_paddr,
				   p.p_filesz, p.p_memsz };
	}
}

/* Header facts shared by both classes. */
struct elf_hdr {
	int is64;
	uint64_t entry, phoff;
	unsigned int phnum, phentsize;
};

static int parse_elf_header(const struct image *img, struct elf_hdr *h,
			    char *err, size_t errlen)
{
	const uint8_t *id = img->data;

	if (img->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG))
		return set_err(err, errlen, "ELF: bad magic");
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return set_err(err, errlen, "ELF: unknown class %u", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return set_err(err, errlen, "ELF: not little-endian");
	h->is64 = id[EI_CLASS] == ELFCLASS64;

	if (h->is64) {
		Elf64_Ehdr e;

		if (img->size < sizeof(e))
			return set_err(err, errlen, "ELF: truncated header (%zu bytes)",
				       img->size);
		memcpy(&e, img->data, sizeof(e));
		if (e.e_machine != EM_X86_64)
			return set_err(err, errlen, "ELF64: machine %u is not x86-64",
				       e.e_machine);
		if (e.e_type != ET_EXEC)
			return set_err(err, errlen, "ELF: not an executable (type %u)",
				       e.e_type);
		*h = (struct elf_hdr){ 1, e.e_entry, e.e_phoff, e.e_phnum,
				       e.e_phentsize };
		if (h->phentsize != sizeof(Elf64_Phdr))
			return set_err(err, errlen, "ELF: bad program header size %u",
				       h->phentsize);
	} else {
		Elf32_Ehdr e;

		if (img->size < sizeof(e))
			return set_err(err, errlen, "ELF: truncated header (%zu bytes)",
				       img->size);
		memcpy(&e, img->data, sizeof(e));
		if (e.e_machine != EM_386)
			return set_err(err, errlen, "ELF32: machine %u is not i386",
				       e.e_machine);
		if (e.e_type != ET_EXEC)
			return set_err(err, errlen, "ELF: not an executable (type %u)",
				       e.e_type);
		*h = (struct elf_hdr){ 0, e.e_entry, e.e_phoff, e.e_phnum,
				       e.e_phentsize };
		if (h->phentsize != sizeof(Elf32_Phdr))
			return set_err(err, errlen, "ELF: bad program header size %u",
				       h->phentsize);
	}
	if (!h->phnum)
		return set_err(err, errlen, "ELF: no program headers");
	if (h->phoff > img->size ||
	    (uint64_t)h->phnum * h->phentsize > img->size - h->phoff)
		return set_err(err, errlen, "ELF: truncated (program headers past end of file)");
	return 0;
}

static int load_segment(struct mvx_memmap *map, const struct image *img,
			const struct seg *s, char *err, size_t errlen)
{
	uint8_t *dst;

	if (s->filesz > s->memsz)
		return set_err(err, errlen, "ELF: segment at 0x%llx: file size above memory size",
			       (unsigned long long)s->paddr);
	if (s->offset > img->size || s->filesz > img->size - s->offset)
		return set_err(err, errlen, "ELF: truncated (segment at 0x%llx past end of file)",
			       (unsigned long long)s->paddr);
	if (!s->memsz)
		return 0;
	dst = mvx_memmap_hva(map, s->paddr, s->memsz);
	if (!dst)
		return set_err(err, errlen,
			       "ELF: segment 0x%llx-0x%llx is not guest RAM (see --mem)",
			       (unsigned long long)s->paddr,
			       (unsigned long long)(s->paddr + s->memsz - 1));
	memcpy(dst, img->data + s->offset, s->filesz);
	memset(dst + s->filesz, 0, s->memsz - s->filesz);
	return 0;
}

int load_elf(struct mvx_memmap *map, const struct image *img,
	     struct load_info *info, char *err, size_t errlen)
{
	struct elf_hdr h = { 0 };
	unsigned int i, loaded = 0;
	struct seg s;

	if (parse_elf_header(img, &h, err, errlen))
		return -1;

	/* Check every segment before writing any. */
	for (i = 0; i < h.phnum; i++) {
		read_phdr(img, h.is64, h.phoff + (uint64_t)i * h.phentsize, &s);
		if (s.type != PT_LOAD)
			continue;
		if (s.filesz > s.memsz || s.offset > img->size ||
		    s.filesz > img->size - s.offset)
			return load_segment(map, img, &s, err, errlen);
	}

	info->low = ~0ULL;
	info->high = 0;
	for (i = 0; i < h.phnum; i++) {
		read_phdr(img, h.is64, h.phoff + (uint64_t)i * h.phentsize, &s);
		if (s.type != PT_LOAD)
			continue;
		if (load_segment(map, img, &s, err, errlen))
			return -1;
		if (s.paddr < info->low)
			info->low = s.paddr;
		if (s.paddr + s.memsz > info->high)
			info->high = s.paddr + s.memsz;
		loaded++;
	}
	if (!loaded)
		return set_err(err, errlen, "ELF: no loadable segment");
	if (!mvx_memmap_hva(map, h.entry, 1))
		return set_err(err, errlen, "ELF: entry point 0x%llx is not guest RAM",
			       (unsigned long long)h.entry);
	info->entry = h.entry;
	info->mode = h.is64 ? MODE_LONG : MODE_PROTECTED;
	return 0;
}

int firmware_window_size(size_t img_size, uint64_t *window, char *err,
			 size_t errlen)
{
	uint64_t w = ((uint64_t)img_size + 0xfff) & ~0xfffULL;

	if (!img_size)
		return set_err(err, errlen, "firmware: empty image");
	if (img_size > FW_MAX_SIZE)
		return set_err(err, errlen,
			       "firmware: %zu bytes do not fit its %llu MiB window below 4 GiB",
			       img_size, FW_MAX_SIZE >> 20);
	if (w < FW_LOW_ALIAS_SIZE)
		w = FW_LOW_ALIAS_SIZE;
	*window = w;
	return 0;
}

void firmware_place(void *window, uint64_t window_size,
		    const struct image *img)
{
	memset(window, 0xff, window_size - img->size);	/* erased flash */
	memcpy((uint8_t *)window + window_size - img->size, img->data,
	       img->size);
}
