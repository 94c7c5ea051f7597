/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a run ends.  Any vCPU thread or device may ask for the end with an
 * exit status; the first request wins and wakes the main thread.
 */
#ifndef MVX_RUNCTL_H
#define MVX_RUNCTL_H

/* Exit statuses of minivmx-run besides the guest's own (exit device). */
#define RUN_EXIT_OK		0	/* all vCPUs halted, reset, exit(0) */
#define RUN_EXIT_USAGE		1	/* bad option, image or setup failure */
#define RUN_EXIT_GUEST_FAILED	2	/* shutdown, failed entry, internal error */
#define RUN_EXIT_GUEST_PANIC	3	/* "Kernel panic" line on the console */

void runctl_reset(void);
/* Returns 1 when this request is the one that ends the run. */
int runctl_request_stop(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int runctl_stopping(void);
/* Block until a stop was requested; returns its status. */
int runctl_wait(void);
int runctl_status(void);
const char *runctl_reason(void);

#endif /* MVX_RUNCTL_H */
