// SPDX-License-Identifier: GPL-2.0
/* Guest panic detection on the UART output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "panicwatch.h"
#include "runctl.h"
#include "tests.h"

#define THR	UART_COM1_BASE
#define MCR	(UART_COM1_BASE + 4)

static struct panic_watch pw;

static void setup(void)
{
	panic_watch_init(&pw);
}

/* Feed s; returns how many of its bytes ended a panic line. */
static int feed(const char *s)
{
	int hits = 0;

	while (*s)
		hits += panic_watch_byte(&pw, (uint8_t)*s++);
	return hits;
}

START_TEST(test_plain_panic_line)
{
	ck_assert_int_eq(feed("Kernel panic - not syncing: test\n"), 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "test");
}
END_TEST

/* Linux's console: time stamp, caller id, "\r\n" line ends. */
START_TEST(test_linux_prefixes_and_crlf)
{
	static const char vfs[] =
		"[    1.234567] Kernel panic - not syncing: VFS: Unable to mount root fs\r\n";
	static const char init[] =
		"[    2.000001][    T1] Kernel panic - not syncing: Attempted to kill init!\r\n";

	ck_assert_int_eq(feed("[    0.912345] Run /init as init process\r\n"), 0);
	ck_assert_int_eq(feed(vfs), 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "VFS: Unable to mount root fs");
	ck_assert_int_eq(feed(init), 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "Attempted to kill init!");
}
END_TEST

/* Only a whole line counts: nothing until its '\n'. */
START_TEST(test_split_and_only_at_line_end)
{
	ck_assert_int_eq(feed("Kernel pa"), 0);
	ck_assert_int_eq(feed("nic - not syncing: split"), 0);
	ck_assert_int_eq(feed(" here\r"), 0);
	ck_assert_int_eq(feed("\n"), 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "split here");
}
END_TEST

START_TEST(test_no_match_mid_line)
{
	ck_assert_int_eq(feed("# echo Kernel panic - not syncing: no\n"), 0);
	ck_assert_int_eq(feed("---[ end Kernel panic - not syncing: no ]---\n"), 0);
	ck_assert_int_eq(feed("[ unclosed Kernel panic - not syncing: no\n"), 0);
	ck_assert_int_eq(feed("Kernel panic - not syncing\n"), 0);
	ck_assert_int_eq(feed("kernel panic - not syncing: no\n"), 0);
}
END_TEST

/* A long line neither matches past its start nor spoils the next line. */
START_TEST(test_long_lines)
{
	static const char marker[] = "Kernel panic - not syncing: ";
	const size_t len = 2 * PANIC_LINE_MAX;
	char *line = malloc(len + sizeof(marker) + 4);

	ck_assert_ptr_nonnull(line);
	memset(line, 'a', len);
	snprintf(line + len, sizeof(marker) + 4, "%sno\n", marker);
	ck_assert_int_eq(feed(line), 0);
	ck_assert_int_eq(feed("Kernel panic - not syncing: yes\n"), 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "yes");

	/* A reason longer than the line buffer is cut. */
	memset(line, 'r', len);
	memcpy(line, marker, strlen(marker));
	snprintf(line + len, 2, "\n");
	ck_assert_int_eq(feed(line), 1);
	ck_assert_uint_eq(strlen(panic_watch_reason(&pw)),
			  PANIC_LINE_MAX - 1 - strlen(marker));
	free(line);
}
END_TEST

START_TEST(test_reason_made_printable)
{
	static const char s[] = "Kernel panic - not syncing: a\x1b[0m\0z\n";
	size_t i;
	int hits = 0;

	for (i = 0; i < sizeof(s) - 1; i++)
		hits += panic_watch_byte(&pw, (uint8_t)s[i]);
	ck_assert_int_eq(hits, 1);
	ck_assert_str_eq(panic_watch_reason(&pw), "a?[0m z");
}
END_TEST

/* Through the UART: the guest's transmitted bytes end the run. */
START_TEST(test_uart_output_ends_run_with_panic_status)
{
	static struct bus bus;
	static struct uart u;
	const char *s = "[ 0.5] Kernel panic - not syncing: test\r\n";
	const char *said = "minivmx-run: guest kernel panic: test\n";
	FILE *out = fopen("/dev/null", "w");
	char err[128] = "";
	int fds[2], saved_stderr;

	ck_assert_ptr_nonnull(out);
	runctl_reset();
	bus_init(&bus, "pio");
	uart_init(&u, out, -1);
	ck_assert_int_eq(uart_attach(&u, &bus, UART_COM1_BASE), 0);
	uart_watch_output(&u, panic_watch_uart_byte, &pw);

	/* Loopback bytes do not leave the UART: not watched. */
	bus_write(&bus, MCR, 1, 0x10);
	for (const char *p = s; *p; p++)
		bus_write(&bus, THR, 1, (uint8_t)*p);
	ck_assert_int_eq(runctl_stopping(), 0);

	/* Its stderr line, caught in a pipe. */
	ck_assert_int_eq(pipe(fds), 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fds[1], 2);
	bus_write(&bus, MCR, 1, 0);
	for (const char *p = s; *p; p++) {
		ck_assert_int_eq(runctl_stopping(), 0);
		bus_write(&bus, THR, 1, (uint8_t)*p);
	}
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], err, sizeof(err) - 1), strlen(said));
	ck_assert_str_eq(err, said);
	ck_assert_int_eq(runctl_stopping(), 1);
	ck_assert_int_eq(runctl_status(), RUN_EXIT_GUEST_PANIC);
	ck_assert_str_eq(runctl_reason(), "guest kernel panic: test");
	fclose(out);
}
END_TEST

Suite *panicwatch_suite(void)
{
	Suite *s = suite_create("panicwatch");
	TCase *tc = tcase_create("matcher");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_plain_panic_line);
	tcase_add_test(tc, test_linux_prefixes_and_crlf);
	tcase_add_test(tc, test_split_and_only_at_line_end);
	tcase_add_test(tc, test_no_match_mid_line);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_reason_made_printable);
	tcase_add_test(tc, test_uart_output_ends_run_with_panic_status);
	suite_add_tcase(s, tc);
	return s;
}
