/* SPDX-License-Identifier: GPL-2.0 */
/* Per-vCPU exit counters and guest time, printed by --stats. */
#ifndef MVX_STATS_H
#define MVX_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "bus.h"

#define STATS_NR_REASONS	32	/* MVX_EXIT_* below this; others: last */

#define STATS_NR_PORTS		16	/* distinct (port, direction) pairs kept */

struct port_count {
	uint16_t port;
	uint8_t out;		/* 1: OUT, 0: IN */
	uint8_t used;
	uint64_t exits;
};

/* Written only by the vCPU's own thread. */
struct vcpu_stats {
	uint64_t exits[STATS_NR_REASONS];
	struct port_count ports[STATS_NR_PORTS];
	uint64_t other_port_exits;	/* IO exits beyond the table */
	uint64_t interrupted;	/* MVX_RUN returned EINTR */
	uint64_t injected;	/* MVX_INTERRUPT calls (PIC vectors) */
	uint64_t ns_in_guest;	/* inside MVX_RUN */
	uint64_t ns_outside;	/* between MVX_RUN calls */
};

static inline void stats_count_exit(struct vcpu_stats *s, uint32_t reason)
{
	s->exits[reason < STATS_NR_REASONS ? reason : STATS_NR_REASONS - 1]++;
}

/* One IO exit, whatever its repeat count (one exit is one round trip). */
void stats_count_port(struct vcpu_stats *s, uint16_t port, int out);

void stats_print(FILE *f, const struct vcpu_stats *per_vcpu,
		 unsigned int nr_vcpus, const struct bus *pio,
		 const struct bus *mmio);

#endif /* MVX_STATS_H */
