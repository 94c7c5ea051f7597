/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of minivmx-run (libcheck); they need no hypervisor device. */
#ifndef MVX_TESTS_H
#define MVX_TESTS_H

#include <check.h>

Suite *bus_suite(void);
Suite *uart_suite(void);
Suite *devices_suite(void);
Suite *pit_suite(void);
Suite *loader_suite(void);
Suite *bzimage_suite(void);
Suite *options_suite(void);
Suite *machine_suite(void);
Suite *stats_suite(void);
Suite *lib_suite(void);
Suite *pic_suite(void);
Suite *irq_suite(void);
Suite *escape_suite(void);
Suite *panicwatch_suite(void);
Suite *console_suite(void);
Suite *i8042_suite(void);

#endif /* MVX_TESTS_H */
