/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runner's console: the UART on the terminal, as QEMU -nographic.
 *
 * When the input is a terminal the runner owns (it is in the foreground),
 * it goes to raw mode: no echo, no line editing, no signals from the keys
 * (Ctrl-C, Ctrl-Z, Ctrl-\ reach the guest), no CR/LF translation of input.
 * Output processing stays on, so the runner's own messages still end their
 * lines.  The saved mode comes back at the end of the run, at exit and on
 * the signals that would kill the runner.  A thread reads the terminal
 * from the start, so the escape keys (escape.h) work even when the guest
 * never reads; the guest's bytes go through a pipe the UART reads, which
 * keeps up to 64 KiB typed ahead (past that, keys are dropped).
 *
 * Any other input (a pipe, a file, /dev/null) is the UART's unchanged,
 * byte for byte: no escape keys, so scripts may send any byte.
 *
 * On the output side, every run watches for a guest panic (panicwatch.h).
 */
#ifndef MVX_CONSOLE_H
#define MVX_CONSOLE_H

#include <stddef.h>

#include "devices.h"

/* fd is a terminal whose foreground process group is ours. */
int console_is_terminal(int fd);
/*
 * Save fd's terminal mode and make it raw; the saved mode is restored by
 * console_restore(), at exit and on fatal signals.  Returns 0 or -1.
 */
int console_make_raw(int fd);
void console_restore(void);

/*
 * Connect the UART to the console before the run: the panic watch on its
 * output and, when in_fd is a terminal of ours, raw mode and the escape
 * keys on its input.  Returns 0, or -1 with err set.
 */
int console_start(struct uart *u, int in_fd, char *err, size_t errlen);
/* After the run: the terminal back as it was. */
void console_stop(void);

#endif /* MVX_CONSOLE_H */
