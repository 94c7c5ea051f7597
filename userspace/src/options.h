/* SPDX-License-Identifier: GPL-2.0 */
/* Command line of minivmx-run. */
#ifndef MVX_OPTIONS_H
#define MVX_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

enum boot_mode {
	MODE_AUTO,		/* flat: real; ELF32: protected; ELF64: long */
	MODE_REAL,
	MODE_PROTECTED,
	MODE_LONG,
};

#define OPT_DEFAULT_DEVICE	"/dev/minivmx"
#define OPT_DEFAULT_MEM		(64ULL << 20)
#define OPT_MIN_MEM		(1ULL << 20)
#define OPT_MAX_MEM		(3ULL << 30)	/* below the 32-bit hole */
#define OPT_MAX_CPUS		64

struct options {
	const char *device;
	uint64_t mem;
	unsigned int cpus;
	const char *firmware;
	const char *kernel;	/* --kernel FILE or the IMAGE argument */
	const char *initrd;	/* --initrd FILE (bzImage only) */
	const char *append;	/* --append CMDLINE (bzImage only) */
	int mem_set;		/* --mem given: no default by image kind */
	enum boot_mode mode;
	uint64_t load;
	int load_set;
	uint64_t entry;
	int entry_set;
	int stats;
	int help;
	int version;
};

/*
 * Parse argv into opt.  Returns 0, or -1 with a one-line reason in err.
 * --help sets opt->help, --version opt->version; either stops parsing.
 */
int options_parse(struct options *opt, int argc, char **argv,
		  char *err, size_t errlen);
/* "64M", "1G", "4096", "0x100000", "512KiB" -> bytes; -1 when malformed. */
int parse_size(const char *s, uint64_t *out);
void options_usage(FILE *f);

#endif /* MVX_OPTIONS_H */
