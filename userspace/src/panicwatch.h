/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest panic detection on the console output.  A line whose text, after
 * any leading spaces and "[...]" groups (Linux's printk time stamp and
 * caller id), starts with PANIC_MARKER is a panic; the rest of the line is
 * the reason.  The marker elsewhere in a line (a shell echoing it, say)
 * does not count.  Only whole lines count: the check runs at '\n'.
 */
#ifndef MVX_PANICWATCH_H
#define MVX_PANICWATCH_H

#include <stddef.h>
#include <stdint.h>

#define PANIC_MARKER	"Kernel panic - not syncing:"
/*
 * Bytes of a line kept for the check; a longer line is checked on its
 * start, which is where the marker must be, and its reason cut short.
 */
#define PANIC_LINE_MAX	256

struct panic_watch {
	char line[PANIC_LINE_MAX];
	size_t len;
	char reason[PANIC_LINE_MAX];
};

void panic_watch_init(struct panic_watch *pw);
/* Feed one output byte; returns 1 when it ended a panic line. */
int panic_watch_byte(struct panic_watch *pw, uint8_t c);
/* The reason of the last panic line, printable ASCII only. */
const char *panic_watch_reason(const struct panic_watch *pw);

/*
 * For uart_watch_output(): on a panic line, end the run with
 * RUN_EXIT_GUEST_PANIC and say so on stderr.  opaque: a panic_watch.
 */
void panic_watch_uart_byte(void *opaque, uint8_t c);

#endif /* MVX_PANICWATCH_H */
