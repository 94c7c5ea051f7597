// SPDX-License-Identifier: GPL-2.0
/* Guest panic detection on the console output (see panicwatch.h). */
#include <stdio.h>
#include <string.h>

#include "panicwatch.h"
#include "runctl.h"

void panic_watch_init(struct panic_watch *pw)
{
	pw->len = 0;
	pw->reason[0] = '\0';
}

/* Past leading spaces and "[...]" groups; NULL for an unclosed '['. */
static const char *skip_line_prefix(const char *p)
{
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p != '[')
			return p;
		p = strchr(p, ']');
		if (!p)
			return NULL;
		p++;
	}
}

/* Copy the reason, dropping trailing '\r' and spaces, '?' for the rest. */
static void keep_reason(struct panic_watch *pw, const char *r)
{
	size_t n = strlen(r), i;

	while (n && (r[n - 1] == '\r' || r[n - 1] == ' '))
		n--;
	for (i = 0; i < n; i++)
		pw->reason[i] = (r[i] >= 0x20 && r[i] < 0x7f) ? r[i] : '?';
	pw->reason[n] = '\0';
}

/* The line in pw->line is complete: a panic line? */
static int check_line(struct panic_watch *pw)
{
	const char *p;

	pw->line[pw->len] = '\0';
	p = skip_line_prefix(pw->line);
	if (!p || strncmp(p, PANIC_MARKER, strlen(PANIC_MARKER)))
		return 0;
	p += strlen(PANIC_MARKER);
	if (*p == ' ')
		p++;
	keep_reason(pw, p);
	return 1;
}

int panic_watch_byte(struct panic_watch *pw, uint8_t c)
{
	int panic;

	if (c != '\n') {
		/* NUL would end the line early for the string functions. */
		if (pw->len < PANIC_LINE_MAX - 1)
			pw->line[pw->len++] = c ? c : ' ';
		return 0;
	}
	panic = check_line(pw);
	pw->len = 0;
	return panic;
}

const char *panic_watch_reason(const struct panic_watch *pw)
{
	return pw->reason;
}

void panic_watch_uart_byte(void *opaque, uint8_t c)
{
	struct panic_watch *pw = opaque;

	if (!panic_watch_byte(pw, c))
		return;
	if (runctl_request_stop(RUN_EXIT_GUEST_PANIC, "guest kernel panic: %s",
				pw->reason))
		fprintf(stderr, "minivmx-run: guest kernel panic: %s\n",
			pw->reason);
}
