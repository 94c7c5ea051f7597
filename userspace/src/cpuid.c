// SPDX-License-Identifier: GPL-2.0
/* The runner's CPUID: see cpuid.h. */
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "cpuid.h"

#define LEAF1_EDX_MCE		(1U << 7)
#define LEAF1_EDX_APIC		(1U << 9)
#define LEAF1_EDX_MCA		(1U << 14)
#define LEAF1_ECX_X2APIC	(1U << 21)
#define LEAF1_ECX_TSC_DEADLINE	(1U << 24)
#define LEAF7_ECX_LA57		(1U << 16)
/* AMD repeats the leaf 1 EDX bits it shares with Intel in 0x80000001. */
#define EXT1_EDX_MCE		(1U << 7)
#define EXT1_EDX_APIC		(1U << 9)
#define EXT1_EDX_MCA		(1U << 14)

#define LEAF_TSC_CRYSTAL	0x15
#define HV_LEAF_FIRST		0x40000000U
#define HV_LEAF_LAST		0x4fffffffU

static void trim_entry(struct mvx_cpuid_entry2 *e,
		       const struct machine_cpuid *mc)
{
	switch (e->function) {
	case 1:
		e->edx &= ~(LEAF1_EDX_APIC | LEAF1_EDX_MCE | LEAF1_EDX_MCA);
		e->ecx &= ~(LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE);
		break;
	case 7:
		if (e->index == 0)
			e->ecx &= ~LEAF7_ECX_LA57;
		break;
	case LEAF_TSC_CRYSTAL:
		if (mc->tsc_khz) {
			/* TSC = crystal * EBX / EAX, crystal = ECX Hz. */
			e->eax = 1;
			e->ebx = 1;
			e->ecx = mc->tsc_khz * 1000U;
			e->edx = 0;
		}
		break;
	case 0x80000001:
		e->edx &= ~(EXT1_EDX_APIC | EXT1_EDX_MCE | EXT1_EDX_MCA);
		break;
	}
}

void machine_cpuid_filter(struct mvx_cpuid2 *cpuid, void *arg)
{
	const struct machine_cpuid *mc = arg;
	unsigned int i, n = 0;

	for (i = 0; i < cpuid->nent; i++) {
		struct mvx_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function >= HV_LEAF_FIRST && e->function <= HV_LEAF_LAST)
			continue;
		trim_entry(e, mc);
		if (n != i)
			cpuid->entries[n] = *e;
		n++;
	}
	cpuid->nent = n;
}

static uint64_t monotonic_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint32_t measure_tsc_khz(void)
{
	/* 20 ms: within 0.1% even when each clock read costs microseconds. */
	const struct timespec wait = { 0, 20 * 1000 * 1000 };
	uint64_t t0, t1, c0, c1;

	t0 = monotonic_raw_ns();
	c0 = __rdtsc();
	nanosleep(&wait, NULL);
	t1 = monotonic_raw_ns();
	c1 = __rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 0;
	return (uint32_t)((c1 - c0) * 1000000ULL / (t1 - t0));
}
