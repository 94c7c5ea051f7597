/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID the runner's machine shows: what the device supports, minus
 * what this machine does not have, plus a TSC frequency.
 */
#ifndef MVX_CPUID_H
#define MVX_CPUID_H

#include <stdint.h>

#include "mvx.h"

/* What the machine tells its guests through CPUID. */
struct machine_cpuid {
	uint32_t tsc_khz;	/* 0: unknown, leaf 0x15 left as reported */
};

/*
 * Trim a supported-CPUID table (arg: a struct machine_cpuid):
 *   - no local APIC, x2APIC or TSC-deadline timer: the runner has no local
 *     APIC, so a guest must use the PIC and the PIT;
 *   - no MCE/MCA: the runner emulates no machine-check banks;
 *   - no LA57;
 *   - no hypervisor leaves (0x40000000-0x4FFFFFFF): the runner offers
 *     no paravirtual devices, on /dev/minivmx and on /dev/kvm alike, so
 *     a guest behaves the same on both;
 *   - leaf 0x15 (Intel's TSC/crystal ratio) says the TSC runs at tsc_khz:
 *     the guest TSC ticks at the host's rate, and the host CPU's own leaf
 *     need not describe that (emulators get it wrong).
 */
void machine_cpuid_filter(struct mvx_cpuid2 *cpuid, void *arg);
/* The host TSC's rate in kHz, measured against CLOCK_MONOTONIC_RAW. */
uint32_t measure_tsc_khz(void);

#endif /* MVX_CPUID_H */
