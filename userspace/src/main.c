// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx-run: run a guest on /dev/minivmx or /dev/kvm.  See
 * options_usage() for the command line and the guest-visible conventions.
 */
#include <stdio.h>
#include <unistd.h>

#include "console.h"
#include "machine.h"
#include "runctl.h"

int main(int argc, char **argv)
{
	static struct machine m;
	struct options opt;
	char err[512];
	int status;

	if (options_parse(&opt, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "minivmx-run: %s (see --help)\n", err);
		return RUN_EXIT_USAGE;
	}
	if (opt.help) {
		options_usage(stdout);
		return 0;
	}
	if (opt.version) {
		printf("minivmx-run %s\n", MVX_VERSION);
		return 0;
	}
	if (machine_prepare(&m, &opt, err, sizeof(err)) ||
	    machine_create(&m, err, sizeof(err))) {
		fprintf(stderr, "minivmx-run: %s\n", err);
		return RUN_EXIT_USAGE;
	}
	if (console_start(&m.uart, STDIN_FILENO, err, sizeof(err))) {
		fprintf(stderr, "minivmx-run: %s\n", err);
		return RUN_EXIT_USAGE;
	}
	status = machine_run(&m);
	console_stop();
	if (opt.stats)
		machine_print_stats(&m, stderr);
	return status;
}
