// SPDX-License-Identifier: GPL-2.0
/*
 * ptyrun: run a command on a new pseudo-terminal, its controlling terminal
 * and stdin/stdout/stderr, and play steps on it in order (for
 * check-guests: minivmx-run's console on a terminal):
 *   -t SEC    the limit of each later wait (default 60)
 *   -r        wait until the terminal is raw (ECHO and ICANON off)
 *   -w TEXT   wait until the output contains TEXT
 *   -s TEXT   type TEXT (escapes: \n \r \\ \xNN)
 *   -d MS     wait MS milliseconds
 *   -k SIG    send signal number SIG to the command
 * Then wait for the command to end and print on stdout:
 *   output: <all it wrote; \xNN for all but printable ASCII>
 *   status: N  or  signal: N
 *   restored: yes|no   (the terminal's mode now is the one before)
 * A wait past its limit prints "timeout: STEP" and kills the command.
 */
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

static char out[1 << 20];
static size_t out_len;
static int master, slave;
static pid_t child;
static long limit_ms = 60000;

#define DRAIN_QUIET_MS	500

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Collect what the command wrote, waiting up to ms for something; returns
 * the number of bytes collected.
 */
static ssize_t collect(int ms)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = read(master, out + out_len, sizeof(out) - 1 - out_len);
	if (n > 0)
		out_len += n;
	out[out_len] = '\0';
	return n > 0 ? n : 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* TEXT of -s into bytes; returns their number. */
static size_t unescape(const char *s, char *buf)
{
	size_t n = 0;

	while (*s) {
		if (s[0] != '\\' || !s[1]) {
			buf[n++] = *s++;
		} else if (s[1] == 'n' || s[1] == 'r') {
			buf[n++] = s[1] == 'n' ? '\n' : '\r';
			s += 2;
		} else if (s[1] == 'x' && hex_digit(s[2]) >= 0 &&
			   hex_digit(s[3]) >= 0) {
			buf[n++] = hex_digit(s[2]) * 16 + hex_digit(s[3]);
			s += 4;
		} else {
			buf[n++] = s[1];
			s += 2;
		}
	}
	return n;
}

static int is_raw(void)
{
	struct termios t;

	return !tcgetattr(slave, &t) && !(t.c_lflag & (ECHO | ICANON));
}

static int has_text(const char *text)
{
	return !!strstr(out, text);
}

/* Collect output until cond(arg) or the limit; 0 on time out. */
static int wait_until(int (*cond)(const char *arg), const char *arg)
{
	long t0 = now_ms();

	while (!cond(arg)) {
		if (now_ms() - t0 > limit_ms) {
			printf("timeout: %s\n", arg);
			kill(child, SIGKILL);
			return 0;
		}
		collect(10);
	}
	return 1;
}

static int raw_cond(const char *arg)
{
	(void)arg;
	return is_raw();
}

static void pause_ms(long ms)
{
	long t0 = now_ms();

	while (now_ms() - t0 < ms)
		collect(10);
}

static void start(char **cmd)
{
	child = fork();
	if (child)
		return;
	setsid();
	ioctl(slave, TIOCSCTTY, 0);
	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	close(master);
	execvp(cmd[0], cmd);
	_exit(127);
}

/* Steps argv[1..n); returns -1 for a bad one. */
static int play(int n, char **argv)
{
	char buf[4096];
	size_t len;
	int i;

	for (i = 1; i < n; i++) {
		const char *step = argv[i], *arg = i + 1 < n ? argv[i + 1] : NULL;

		if (!strcmp(step, "-r")) {
			wait_until(raw_cond, "-r");
			continue;
		}
		if (!arg || strlen(arg) >= sizeof(buf))
			return -1;
		i++;
		if (!strcmp(step, "-t")) {
			limit_ms = atol(arg) * 1000;
		} else if (!strcmp(step, "-w")) {
			wait_until(has_text, arg);
		} else if (!strcmp(step, "-s")) {
			len = unescape(arg, buf);
			if (write(master, buf, len) != (ssize_t)len)
				perror("ptyrun: write");
		} else if (!strcmp(step, "-d")) {
			pause_ms(atol(arg));
		} else if (!strcmp(step, "-k")) {
			kill(child, atoi(arg));
		} else {
			return -1;
		}
	}
	return 0;
}

/*
 * The command's last words (minivmx-run's exit message) reach the master
 * through the tty layer's deferred work, which a slow emulated PC can run
 * long after the command is gone: read until the terminal stays quiet.
 */
static void drain(void)
{
	long quiet_since = now_ms(), t0 = quiet_since;

	while (now_ms() - quiet_since < DRAIN_QUIET_MS &&
	       now_ms() - t0 < limit_ms) {
		if (collect(10))
			quiet_since = now_ms();
	}
}

static int wait_end(void)
{
	long t0 = now_ms();
	int st;

	while (waitpid(child, &st, WNOHANG) != child) {
		if (now_ms() - t0 > limit_ms) {
			printf("timeout: end\n");
			kill(child, SIGKILL);
			waitpid(child, &st, 0);
			break;
		}
		collect(10);
	}
	drain();
	return st;
}

static void report(int st, const struct termios *before)
{
	struct termios now;
	size_t i;

	printf("output: ");
	for (i = 0; i < out_len; i++) {
		unsigned char c = out[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	putchar('\n');
	if (WIFEXITED(st))
		printf("status: %d\n", WEXITSTATUS(st));
	else
		printf("signal: %d\n", WTERMSIG(st));
	tcgetattr(slave, &now);
	printf("restored: %s\n",
	       now.c_iflag == before->c_iflag && now.c_oflag == before->c_oflag &&
	       now.c_cflag == before->c_cflag && now.c_lflag == before->c_lflag &&
	       !memcmp(now.c_cc, before->c_cc, sizeof(now.c_cc)) ? "yes" : "no");
}

int main(int argc, char **argv)
{
	struct termios before;
	int steps;

	for (steps = 1; steps < argc && strcmp(argv[steps], "--"); steps++)
		;
	if (steps >= argc - 1) {
		fprintf(stderr, "usage: ptyrun [STEPS] -- COMMAND [ARGS]\n");
		return 2;
	}
	if (openpty(&master, &slave, NULL, NULL, NULL) ||
	    tcgetattr(slave, &before)) {
		perror("ptyrun: openpty");
		return 2;
	}
	start(argv + steps + 1);
	if (child < 0) {
		perror("ptyrun: fork");
		return 2;
	}
	if (play(steps, argv)) {
		fprintf(stderr, "ptyrun: bad steps\n");
		kill(child, SIGKILL);
	}
	report(wait_end(), &before);
	return 0;
}
