// SPDX-License-Identifier: GPL-2.0
/* The runner's console: raw terminal, escape keys, panic watch. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "escape.h"
#include "panicwatch.h"
#include "runctl.h"
#include "util.h"

/*
 * The terminal mode to put back; raw_fd >= 0 while it is raw.  raw_fd is
 * read in signal handlers: atomic accesses only.
 */
static struct termios saved_mode;
static int raw_fd = -1;

/* Signals whose default action ends the process. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE,
	SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
};
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Bytes read from the terminal at a time. */
#define CONSOLE_CHUNK	256

static struct panic_watch panic_watch;
static int pipe_w = -1;		/* the guest's side of the input */
static pthread_t reader;

int console_is_terminal(int fd)
{
	pid_t fg;

	if (!isatty(fd))
		return 0;
	/* In the background, changing its mode would stop us (SIGTTOU). */
	fg = tcgetpgrp(fd);
	return fg >= 0 && fg == getpgrp();
}

/* Async-signal-safe: tcsetattr is, and the exchange is lock-free. */
void console_restore(void)
{
	int fd = __atomic_exchange_n(&raw_fd, -1, __ATOMIC_ACQ_REL);

	if (fd >= 0)
		tcsetattr(fd, TCSANOW, &saved_mode);
}

static void restore_at_exit(void)
{
	console_restore();
}

/* Put the terminal back, then die of the signal as before. */
static void restore_and_die(int sig)
{
	console_restore();
	raise(sig);	/* SA_RESETHAND: the default action, on return */
}

/*
 * Signals the runner does not otherwise handle would leave the terminal
 * raw.  SIGINT, SIGTERM and SIGHUP are the run's own once it started
 * (sigwait in vcpu.c); these handlers cover the moments before.  Ignored
 * signals (nohup) stay ignored.
 */
static void restore_on_fatal_signals(void)
{
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_die;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(fatal_signals); i++) {
		if (sigaction(fatal_signals[i], NULL, &old) ||
		    old.sa_handler != SIG_DFL)
			continue;
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

/* Raw input, as QEMU's stdio: every key to the guest, untranslated. */
static void set_raw_flags(struct termios *t)
{
	t->c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
			ICRNL | IXON);
	t->c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t->c_cflag &= ~(CSIZE | PARENB);
	t->c_cflag |= CS8;
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
}

int console_make_raw(int fd)
{
	static int registered;
	struct termios raw;

	if (tcgetattr(fd, &saved_mode))
		return -1;
	raw = saved_mode;
	set_raw_flags(&raw);
	if (!registered) {
		if (atexit(restore_at_exit))
			return -1;
		restore_on_fatal_signals();
		registered = 1;
	}
	__atomic_store_n(&raw_fd, fd, __ATOMIC_RELEASE);
	if (tcsetattr(fd, TCSANOW, &raw)) {
		__atomic_store_n(&raw_fd, -1, __ATOMIC_RELEASE);
		return -1;
	}
	return 0;
}

/* Guest bytes into the pipe; what does not fit (64 KiB ahead) is lost. */
static void to_guest(const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(pipe_w, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void quit_from_console(void)
{
	if (runctl_request_stop(RUN_EXIT_OK, "quit from the console (Ctrl-A x)"))
		fputs("minivmx-run: terminated (Ctrl-A x)\n", stderr);
}

/* Returns 0 after Ctrl-A x.  len is at most CONSOLE_CHUNK. */
static int feed_keys(struct escape *e, const uint8_t *buf, size_t len)
{
	uint8_t out[CONSOLE_CHUNK];
	size_t used, out_len;

	while (len) {
		switch (escape_filter(e, buf, len, &used, out, &out_len)) {
		case ESCAPE_QUIT:
			quit_from_console();
			return 0;
		case ESCAPE_HELP:
			fputs(escape_help, stderr);
			break;
		default:
			break;
		}
		to_guest(out, out_len);
		buf += used;
		len -= used;
	}
	return 1;
}

/* The terminal's keys until Ctrl-A x, EOF or an error. */
static void *console_reader(void *arg)
{
	int fd = (int)(long)arg;
	struct escape e;
	uint8_t buf[CONSOLE_CHUNK];
	ssize_t len;

	escape_init(&e);
	for (;;) {
		len = read(fd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0 || !feed_keys(&e, buf, len))
			break;
	}
	close(pipe_w);		/* the guest sees the end of its input */
	return NULL;
}

/* Signals stay with the run's own threads (vcpu.c), not this one. */
static int start_reader(int fd)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&reader, NULL, console_reader, (void *)(long)fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -1;
	pthread_detach(reader);
	return 0;
}

/* Raw terminal in_fd, a reader thread, the UART on a pipe. */
static int start_terminal(struct uart *u, int in_fd, char *err,
			  size_t errlen)
{
	int fds[2];

	if (pipe(fds))
		return set_err(err, errlen, "console pipe: %s", strerror(errno));
	/* Never block the reader: Ctrl-A x must get through. */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	pipe_w = fds[1];
	if (console_make_raw(in_fd)) {
		set_err(err, errlen, "console: cannot make the terminal raw: %s",
			strerror(errno));
		goto fail;
	}
	if (start_reader(in_fd)) {
		console_restore();
		set_err(err, errlen, "console: cannot start its reader thread");
		goto fail;
	}
	uart_set_input(u, fds[0]);
	return 0;
fail:
	close(fds[0]);
	close(fds[1]);
	pipe_w = -1;
	return -1;
}

int console_start(struct uart *u, int in_fd, char *err, size_t errlen)
{
	panic_watch_init(&panic_watch);
	uart_watch_output(u, panic_watch_uart_byte, &panic_watch);
	if (!console_is_terminal(in_fd))
		return 0;
	return start_terminal(u, in_fd, err, errlen);
}

void console_stop(void)
{
	console_restore();
}
