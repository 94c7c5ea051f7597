/* SPDX-License-Identifier: GPL-2.0 */
/* Per-vCPU exit counters and guest time, printed by --stats. */
#ifndef MVX_STATS_H
#define MVX_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "bus.h"

#define STATS_NR_REASONS	32	/* MVX_EXIT_* below this; others: last */

/* Written only by the vCPU's own thread. */
struct vcpu_stats {
	uint64_t exits[STATS_NR_REASONS];
	uint64_t interrupted;	/* MVX_RUN returned EINTR */
	uint64_t ns_in_guest;	/* inside MVX_RUN */
	uint64_t ns_outside;	/* between MVX_RUN calls */
};

static inline void stats_count_exit(struct vcpu_stats *s, uint32_t reason)
{
	s->exits[reason < STATS_NR_REASONS ? reason : STATS_NR_REASONS - 1]++;
}

void stats_print(FILE *f, const struct vcpu_stats *per_vcpu,
		 unsigned int nr_vcpus, const struct bus *pio,
		 const struct bus *mmio);

#endif /* MVX_STATS_H */
