// SPDX-License-Identifier: GPL-2.0
/* Runs every suite; the exit status is non-zero when any test failed. */
#include <stdlib.h>

#include "tests.h"

int main(void)
{
	SRunner *sr = srunner_create(bus_suite());
	int failed;

	srunner_add_suite(sr, uart_suite());
	srunner_add_suite(sr, devices_suite());
	srunner_add_suite(sr, pit_suite());
	srunner_add_suite(sr, loader_suite());
	srunner_add_suite(sr, bzimage_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, machine_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, lib_suite());
	srunner_add_suite(sr, pic_suite());
	srunner_add_suite(sr, irq_suite());
	srunner_add_suite(sr, escape_suite());
	srunner_add_suite(sr, panicwatch_suite());
	srunner_add_suite(sr, console_suite());
	srunner_add_suite(sr, i8042_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
