// SPDX-License-Identifier: GPL-2.0
/*
 * The console on a pseudo-terminal: raw mode and its restoration (at the
 * end, at exit, on a fatal signal), and the keys of a terminal reaching
 * the UART through the escape filter.  Each case that owns a terminal
 * runs in a child of its own session with the pty as controlling terminal.
 */
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "console.h"
#include "runctl.h"
#include "tests.h"

#define LSR	(UART_COM1_BASE + 5)
/* Limits: a child's waits, the child, the test case (libcheck, s). */
#define WAIT_LIMIT_MS	5000
#define CHILD_LIMIT_MS	10000
#define TCASE_LIMIT_S	20

static int master = -1, slave = -1;
static struct termios cooked;

static void open_pty(void)
{
	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	/* A known cooked mode, the kind a shell leaves. */
	ck_assert_int_eq(tcgetattr(slave, &cooked), 0);
	cooked.c_iflag |= ICRNL | IXON | BRKINT;
	cooked.c_oflag |= OPOST | ONLCR;
	cooked.c_lflag |= ECHO | ICANON | ISIG | IEXTEN;
	ck_assert_int_eq(tcsetattr(slave, TCSANOW, &cooked), 0);
	ck_assert_int_eq(tcgetattr(slave, &cooked), 0);
}

static void close_pty(void)
{
	close(slave);
	close(master);
}

static int same_mode(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	       a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	       !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

static int slave_is_cooked(void)
{
	struct termios now;

	return !tcgetattr(slave, &now) && same_mode(&now, &cooked);
}

/* In a child: a new session whose controlling terminal is the pty. */
static void own_pty(void)
{
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		_exit(100);
}

/*
 * Run fn in a child; returns its wait status.  A child that hangs is
 * killed: in its own session, libcheck's time limit would miss it.
 */
static int in_child(void (*fn)(void))
{
	struct timespec ms = { 0, 1000000 };
	pid_t pid = fork();
	int st, waited;

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		fn();
		_exit(0);
	}
	for (waited = 0; waitpid(pid, &st, WNOHANG) != pid; waited++) {
		if (waited == CHILD_LIMIT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("child hung, killed after %d ms", CHILD_LIMIT_MS);
		}
		nanosleep(&ms, NULL);
	}
	return st;
}

static void expect_exit(int st, int code)
{
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
		      "child status 0x%x, want exit %d", st, code);
}

START_TEST(test_raw_mode_and_restore)
{
	struct termios raw;

	ck_assert_int_eq(console_make_raw(slave), 0);
	ck_assert_int_eq(tcgetattr(slave, &raw), 0);
	ck_assert_uint_eq(raw.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0);
	ck_assert_uint_eq(raw.c_iflag & (ICRNL | IXON | BRKINT), 0);
	ck_assert_uint_eq(raw.c_oflag & OPOST, OPOST);	/* our lines end */
	ck_assert_uint_eq(raw.c_cc[VMIN], 1);
	ck_assert_int_eq(slave_is_cooked(), 0);
	console_restore();
	ck_assert_int_eq(slave_is_cooked(), 1);
	console_restore();	/* twice is harmless */
	ck_assert_int_eq(slave_is_cooked(), 1);
}
END_TEST

static void raw_then_exit(void)
{
	if (console_make_raw(slave))
		_exit(101);
	exit(7);		/* atexit must restore */
}

/* As in the runner: libcheck's own SIGTERM handler is not there. */
static void default_signals(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
}

static void raw_then_sigterm(void)
{
	default_signals();
	if (console_make_raw(slave))
		_exit(101);
	raise(SIGTERM);
	_exit(102);		/* not reached */
}

static void raw_then_segv(void)
{
	default_signals();
	if (console_make_raw(slave))
		_exit(101);
	raise(SIGSEGV);
	_exit(102);
}

START_TEST(test_restored_at_exit)
{
	expect_exit(in_child(raw_then_exit), 7);
	ck_assert_int_eq(slave_is_cooked(), 1);
}
END_TEST

/* The terminal comes back, and the signal still kills as before. */
START_TEST(test_restored_on_fatal_signals)
{
	int st = in_child(raw_then_sigterm);

	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	ck_assert_int_eq(slave_is_cooked(), 1);
	st = in_child(raw_then_segv);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	ck_assert_int_eq(slave_is_cooked(), 1);
}
END_TEST

static void check_own_pty_is_terminal(void)
{
	own_pty();
	_exit(console_is_terminal(slave) ? 0 : 1);
}

START_TEST(test_only_own_foreground_terminal)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(console_is_terminal(fds[0]), 0);
	close(fds[0]);
	close(fds[1]);
	/* Not our controlling terminal: not ours to change. */
	ck_assert_int_eq(console_is_terminal(slave), 0);
	expect_exit(in_child(check_own_pty_is_terminal), 0);
}
END_TEST

/* Read n guest bytes from the UART like a polling guest; 0 on time out. */
static int guest_read(struct bus *bus, char *buf, size_t n)
{
	struct timespec ms = { 0, 1000000 };
	size_t got = 0;
	int tries = 0;

	while (got < n) {
		if (bus_read(bus, LSR, 1) & 0x01) {
			buf[got++] = bus_read(bus, UART_COM1_BASE, 1);
			continue;
		}
		if (++tries > WAIT_LIMIT_MS)
			return 0;
		nanosleep(&ms, NULL);
	}
	return 1;
}

static int wait_for_stop(void)
{
	struct timespec ms = { 0, 1000000 };
	int tries;

	for (tries = 0; tries < WAIT_LIMIT_MS && !runctl_stopping(); tries++)
		nanosleep(&ms, NULL);
	return runctl_stopping();
}

/*
 * The whole input path: keys typed on the terminal reach the guest through
 * the escape filter; Ctrl-A x ends the run with status 0.
 */
static void console_session(void)
{
	static struct bus bus;
	static struct uart u;
	char err[256], got[8];
	FILE *out = fopen("/dev/null", "w");
	FILE *said = tmpfile();

	own_pty();
	/* The runner's messages, to check them. */
	if (!said || dup2(fileno(said), 2) < 0)
		_exit(109);
	runctl_reset();
	bus_init(&bus, "pio");
	uart_init(&u, out, slave);
	if (!out || uart_attach(&u, &bus, UART_COM1_BASE) ||
	    console_start(&u, slave, err, sizeof(err)))
		_exit(110);
	if (slave_is_cooked())
		_exit(111);
	if (write(master, "ab\001\001c\001zd\001h\r", 11) != 11)
		_exit(112);
	if (!guest_read(&bus, got, 5) || memcmp(got, "ab\001cd", 5))
		_exit(113);
	/* Raw: \r stays \r, and no echo came back to the terminal. */
	if (!guest_read(&bus, got, 1) || got[0] != '\r')
		_exit(114);
	if (runctl_stopping())
		_exit(115);
	if (write(master, "\x01x", 2) != 2 || !wait_for_stop())
		_exit(116);
	if (runctl_status() != RUN_EXIT_OK ||
	    !strstr(runctl_reason(), "Ctrl-A x"))
		_exit(117);
	console_stop();
	if (!slave_is_cooked())
		_exit(118);
	fflush(stderr);
	rewind(said);
	memset(err, 0, sizeof(err));
	if (!fread(err, 1, sizeof(err) - 1, said) ||
	    !strstr(err, "Ctrl-A h       this help\n") ||
	    !strstr(err, "\nminivmx-run: terminated (Ctrl-A x)\n"))
		_exit(119);
	_exit(0);
}

START_TEST(test_terminal_keys_reach_uart_and_ctrl_a_x_quits)
{
	char echo[16];
	int n;

	expect_exit(in_child(console_session), 0);
	/* Nothing was echoed: raw mode had ECHO off. */
	fcntl(master, F_SETFL, O_NONBLOCK);
	n = read(master, echo, sizeof(echo));
	ck_assert_int_le(n, 0);
}
END_TEST

/* A guest that never reads: typing ahead must not block Ctrl-A x. */
static void typed_ahead_session(void)
{
	static struct uart u;
	static char keys[4096];
	char err[256];
	size_t sent;

	own_pty();
	runctl_reset();
	uart_init(&u, stdout, slave);
	if (console_start(&u, slave, err, sizeof(err)))
		_exit(110);
	memset(keys, 'k', sizeof(keys));
	/* Twice the pipe's 64 KiB: the rest is dropped, not waited for. */
	for (sent = 0; sent < 128 * 1024; sent += sizeof(keys))
		if (write(master, keys, sizeof(keys)) != sizeof(keys))
			_exit(111);
	if (write(master, "\001x", 2) != 2 || !wait_for_stop())
		_exit(112);
	_exit(runctl_status() == RUN_EXIT_OK ? 0 : 113);
}

START_TEST(test_ctrl_a_x_after_much_typing_ahead)
{
	expect_exit(in_child(typed_ahead_session), 0);
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("pty");

	tcase_add_checked_fixture(tc, open_pty, close_pty);
	tcase_set_timeout(tc, TCASE_LIMIT_S);
	tcase_add_test(tc, test_raw_mode_and_restore);
	tcase_add_test(tc, test_restored_at_exit);
	tcase_add_test(tc, test_restored_on_fatal_signals);
	tcase_add_test(tc, test_only_own_foreground_terminal);
	tcase_add_test(tc, test_terminal_keys_reach_uart_and_ctrl_a_x_quits);
	tcase_add_test(tc, test_ctrl_a_x_after_much_typing_ahead);
	suite_add_tcase(s, tc);
	return s;
}
