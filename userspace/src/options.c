// SPDX-License-Identifier: GPL-2.0
/* Command line of minivmx-run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bzimage.h"
#include "options.h"
#include "util.h"

void options_usage(FILE *f)
{
	fputs(
"Usage: minivmx-run [options] [IMAGE]\n"
"Run a guest on /dev/minivmx (or /dev/kvm) with a UART console on stdout.\n"
"\n"
"  --device PATH     hypervisor device (default /dev/minivmx; /dev/kvm works)\n"
"  --mem SIZE        guest RAM, e.g. 64M, 1G (default 64M, 128M for a\n"
"                    Linux bzImage; 1M..3G)\n"
"  --cpus N          number of vCPUs, one thread each (default 1, max 64)\n"
"  --firmware FILE   firmware image: ends at 4 GiB, last 128 KiB also at\n"
"                    0xE0000; vCPUs start at the reset vector 0xFFFFFFF0\n"
"                    (each with its id as CPUID initial APIC id)\n"
"  --kernel FILE     Linux bzImage, ELF32/ELF64 or flat binary (same as\n"
"                    IMAGE)\n"
"  --initrd FILE     initramfs for a bzImage\n"
"  --append CMDLINE  kernel command line for a bzImage (default\n"
"                    \"" BZ_DEFAULT_CMDLINE "\")\n"
"  --mode MODE       real, protected or long (default: real for flat\n"
"                    binaries, protected for ELF32, long for ELF64)\n"
"  --load ADDR       load address of a flat binary (default 0x7c00 in real\n"
"                    mode, 0x100000 otherwise)\n"
"  --entry ADDR      start address (default: --load, or the ELF entry)\n"
"  --stats           print exit counts and guest time on stderr at the end\n"
"  --help            this text\n"
"  --version         print the version of minivmx-run and exit\n"
"\n"
"Guest ABI: at entry RSI = vCPU id; RSP = 0x80000 - 0x1000 * id (SP =\n"
"0x7c00 - 0x200 * id in real mode). Protected and long mode use a flat GDT\n"
"(code64 0x08, data 0x10, code32 0x18) and, in long mode, page tables\n"
"identity-mapping 4 GiB, both at 0x8000-0xEFFF.\n"
"A Linux bzImage (boot protocol 2.06 or later) starts at its 32-bit entry\n"
"with a zero page, e820 map and command line built by the runner, on one\n"
"vCPU. The machine has no local APIC and CPUID says so: Linux runs with\n"
"the PIC and the PIT.\n"
"Devices: UART 0x3F8, debug console 0xE9, exit port 0xF4 (OUT N ends the\n"
"run with status N), CMOS 0x70/0x71, reset 0xCF9/0x64/0x92, MMIO scratch\n"
"page at 0xD0000000.\n"
"Console: the UART on stdin/stdout. On a terminal, raw mode for the run\n"
"(Ctrl-C goes to the guest); Ctrl-A x quits (status 0), Ctrl-A h lists\n"
"the keys, Ctrl-A Ctrl-A sends Ctrl-A. Other stdin reaches the guest as is.\n"
"Exit status: the guest's (exit port), 0 when every vCPU halted, the guest\n"
"reset or Ctrl-A x, 1 for usage/setup errors, 2 when the guest crashed,\n"
"3 when it printed \"Kernel panic - not syncing\", 128+N when signal N\n"
"(INT, TERM, HUP) ended the run.\n", f);
}

int parse_size(const char *s, uint64_t *out)
{
	static const char *const units = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end) {
		u = strchr(units, *end & ~0x20);
		if (!u || !*u)
			return -1;
		shift = 10 * (u - units + 1);
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (shift && v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_addr(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_mode(const char *s, enum boot_mode *mode)
{
	if (!strcmp(s, "real"))
		*mode = MODE_REAL;
	else if (!strcmp(s, "protected"))
		*mode = MODE_PROTECTED;
	else if (!strcmp(s, "long"))
		*mode = MODE_LONG;
	else
		return -1;
	return 0;
}

enum { OPT_DEVICE = 256, OPT_MEM, OPT_CPUS, OPT_FIRMWARE, OPT_KERNEL,
	OPT_INITRD, OPT_APPEND, OPT_MODE, OPT_LOAD, OPT_ENTRY, OPT_STATS,
	OPT_HELP, OPT_VERSION };

static const struct option long_opts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "load", required_argument, NULL, OPT_LOAD },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Handle one option; returns 0 or -1 with err set. */
static int apply_option(struct options *opt, int c, const char *arg,
			char *err, size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_DEVICE:
		opt->device = arg;
		return 0;
	case OPT_MEM:
		if (parse_size(arg, &v)) {
			set_err(err, errlen, "--mem %s: not a size (e.g. 64M, 1G)", arg);
			return -1;
		}
		if (v < OPT_MIN_MEM || v > OPT_MAX_MEM || (v & 0xfff)) {
			set_err(err, errlen,
				"--mem %s: must be a multiple of 4K between 1M and 3G", arg);
			return -1;
		}
		opt->mem = v;
		opt->mem_set = 1;
		return 0;
	case OPT_CPUS:
		if (parse_addr(arg, &v) || v < 1 || v > OPT_MAX_CPUS) {
			set_err(err, errlen, "--cpus %s: must be 1..%d", arg,
				OPT_MAX_CPUS);
			return -1;
		}
		opt->cpus = v;
		return 0;
	case OPT_FIRMWARE:
		opt->firmware = arg;
		return 0;
	case OPT_KERNEL:
		opt->kernel = arg;
		return 0;
	case OPT_INITRD:
		opt->initrd = arg;
		return 0;
	case OPT_APPEND:
		opt->append = arg;
		return 0;
	case OPT_MODE:
		if (parse_mode(arg, &opt->mode)) {
			set_err(err, errlen,
				"--mode %s: must be real, protected or long", arg);
			return -1;
		}
		return 0;
	case OPT_LOAD:
	case OPT_ENTRY:
		if (parse_addr(arg, &v)) {
			set_err(err, errlen, "--%s %s: not an address",
				c == OPT_LOAD ? "load" : "entry", arg);
			return -1;
		}
		if (c == OPT_LOAD) {
			opt->load = v;
			opt->load_set = 1;
		} else {
			opt->entry = v;
			opt->entry_set = 1;
		}
		return 0;
	case OPT_STATS:
		opt->stats = 1;
		return 0;
	}
	set_err(err, errlen, "unknown option");
	return -1;
}

static int check_combination(struct options *opt, char *err, size_t errlen)
{
	if (!opt->kernel && !opt->firmware) {
		set_err(err, errlen, "no image: give IMAGE, --kernel FILE or --firmware FILE");
		return -1;
	}
	if (opt->firmware && (opt->mode != MODE_AUTO || opt->entry_set)) {
		set_err(err, errlen,
			"--firmware starts at the reset vector: --mode and --entry do not apply");
		return -1;
	}
	if ((opt->initrd || opt->append) && !opt->kernel) {
		set_err(err, errlen, "--initrd and --append need --kernel BZIMAGE");
		return -1;
	}
	return 0;
}

int options_parse(struct options *opt, int argc, char **argv,
		  char *err, size_t errlen)
{
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->device = OPT_DEFAULT_DEVICE;
	opt->mem = OPT_DEFAULT_MEM;
	opt->cpus = 1;
	err[0] = '\0';

	optind = 0;		/* full re-initialisation, for repeated calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			if (optopt >= OPT_DEVICE)
				set_err(err, errlen, "%s: needs an argument",
					argv[optind - 1]);
			else
				set_err(err, errlen, "%s: unknown option",
					argv[optind - 1]);
			return -1;
		}
		if (c == OPT_HELP || c == OPT_VERSION) {
			opt->help = c == OPT_HELP;
			opt->version = c == OPT_VERSION;
			return 0;
		}
		if (apply_option(opt, c, optarg, err, errlen))
			return -1;
	}

	if (optind < argc) {
		if (opt->kernel) {
			set_err(err, errlen, "%s: IMAGE given twice (also --kernel %s)",
				argv[optind], opt->kernel);
			return -1;
		}
		opt->kernel = argv[optind++];
	}
	if (optind < argc) {
		set_err(err, errlen, "%s: unexpected argument", argv[optind]);
		return -1;
	}
	return check_combination(opt, err, errlen);
}
