// SPDX-License-Identifier: GPL-2.0
/* Instantiates the tracepoints declared in trace.h. */
#define CREATE_TRACE_POINTS
#include "trace.h"

static const char * const run_exit_names[] = {
	[MVX_EXIT_UNKNOWN] = "UNKNOWN",
	[MVX_EXIT_EXCEPTION] = "EXCEPTION",
	[MVX_EXIT_IO] = "IO",
	[MVX_EXIT_HYPERCALL] = "HYPERCALL",
	[MVX_EXIT_DEBUG] = "DEBUG",
	[MVX_EXIT_HLT] = "HLT",
	[MVX_EXIT_MMIO] = "MMIO",
	[MVX_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[MVX_EXIT_SHUTDOWN] = "SHUTDOWN",
	[MVX_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[MVX_EXIT_INTR] = "INTR",
	[MVX_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
};

/* The name of a KVM_EXIT_* reason, as KVM's tracepoints print it. */
const char *mvx_run_exit_name(u32 reason)
{
	if (reason < ARRAY_SIZE(run_exit_names) && run_exit_names[reason])
		return run_exit_names[reason];
	return "?";
}

void mvx_trace_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info)
{
	*info = (struct mvx_exit_info) { .name = "?" };
	if (mvx_ops->exit_info)
		mvx_ops->exit_info(vcpu, info);
}
