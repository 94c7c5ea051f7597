// SPDX-License-Identifier: GPL-2.0
/* The --stats table. */
#include <inttypes.h>

#include "mvx.h"
#include "stats.h"

static const char *reason_name(unsigned int r)
{
	return r == STATS_NR_REASONS - 1 ? "OTHER" : mvx_exit_name(r);
}

static void print_exit_table(FILE *f, const struct vcpu_stats *s,
			     unsigned int n)
{
	uint64_t total_all = 0;
	unsigned int r, v;

	fprintf(f, "%-16s", "exit reason");
	for (v = 0; v < n; v++)
		fprintf(f, " %10s%-2u", "vcpu", v);
	fprintf(f, " %12s\n", "total");
	for (r = 0; r < STATS_NR_REASONS; r++) {
		uint64_t total = 0;

		for (v = 0; v < n; v++)
			total += s[v].exits[r];
		if (!total)
			continue;
		total_all += total;
		fprintf(f, "%-16s", reason_name(r));
		for (v = 0; v < n; v++)
			fprintf(f, " %12" PRIu64, s[v].exits[r]);
		fprintf(f, " %12" PRIu64 "\n", total);
	}
	fprintf(f, "%-16s", "all");
	for (v = 0; v < n; v++) {
		uint64_t t = 0;

		for (r = 0; r < STATS_NR_REASONS; r++)
			t += s[v].exits[r];
		fprintf(f, " %12" PRIu64, t);
	}
	fprintf(f, " %12" PRIu64 "\n", total_all);
}

void stats_count_port(struct vcpu_stats *s, uint16_t port, int out)
{
	unsigned int i;

	for (i = 0; i < STATS_NR_PORTS; i++) {
		struct port_count *p = &s->ports[i];

		if (!p->used) {
			p->used = 1;
			p->port = port;
			p->out = out;
		}
		if (p->port == port && p->out == out) {
			p->exits++;
			return;
		}
	}
	s->other_port_exits++;
}

/* IO exits per port and direction, summed over vCPUs, first seen first. */
static void print_ports(FILE *f, const struct vcpu_stats *s, unsigned int n)
{
	struct port_count all[STATS_NR_PORTS * 4];
	unsigned int nr = 0, v, i, j;
	uint64_t other = 0;

	for (v = 0; v < n; v++) {
		other += s[v].other_port_exits;
		for (i = 0; i < STATS_NR_PORTS && s[v].ports[i].used; i++) {
			const struct port_count *p = &s[v].ports[i];

			for (j = 0; j < nr; j++)
				if (all[j].port == p->port && all[j].out == p->out)
					break;
			if (j == nr && nr == sizeof(all) / sizeof(all[0])) {
				other += p->exits;
				continue;
			}
			if (j == nr)
				all[nr++] = *p;
			else
				all[j].exits += p->exits;
		}
	}
	if (!nr)
		return;
	fprintf(f, "%-10s %-4s %12s\n", "IO port", "dir", "exits");
	for (j = 0; j < nr; j++)
		fprintf(f, "0x%-8x %-4s %12" PRIu64 "\n", all[j].port,
			all[j].out ? "out" : "in", all[j].exits);
	if (other)
		fprintf(f, "%-15s %12" PRIu64 "\n", "other ports", other);
}

static void print_times(FILE *f, const struct vcpu_stats *s, unsigned int n)
{
	unsigned int v;

	fprintf(f, "%-6s %14s %14s %12s %12s\n", "vcpu", "in guest ms",
		"outside ms", "interrupted", "injected");
	for (v = 0; v < n; v++)
		fprintf(f, "%-6u %14.3f %14.3f %12" PRIu64 " %12" PRIu64 "\n",
			v, s[v].ns_in_guest / 1e6, s[v].ns_outside / 1e6,
			s[v].interrupted, s[v].injected);
}

static void print_unhandled(FILE *f, const struct bus *bus)
{
	unsigned int i;

	fprintf(f, "%s: unhandled reads %" PRIu64 ", writes %" PRIu64 "\n",
		bus->name, bus->unhandled_reads, bus->unhandled_writes);
	for (i = 0; i < BUS_MAX_UNHANDLED && bus->unhandled[i].addr; i++)
		fprintf(f, "  0x%" PRIx64 ": %" PRIu64 " reads, %" PRIu64
			" writes\n", bus->unhandled[i].addr - 1,
			bus->unhandled[i].reads, bus->unhandled[i].writes);
}

void stats_print(FILE *f, const struct vcpu_stats *per_vcpu,
		 unsigned int nr_vcpus, const struct bus *pio,
		 const struct bus *mmio)
{
	fprintf(f, "--- minivmx-run statistics ---\n");
	print_exit_table(f, per_vcpu, nr_vcpus);
	print_ports(f, per_vcpu, nr_vcpus);
	print_times(f, per_vcpu, nr_vcpus);
	print_unhandled(f, pio);
	print_unhandled(f, mmio);
}
