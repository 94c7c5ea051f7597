// SPDX-License-Identifier: GPL-2.0
/* The --stats table: counts per reason, per vCPU, per port. */
#include <stdlib.h>
#include <string.h>

#include "mvx.h"
#include "stats.h"
#include "tests.h"

static char *print(struct vcpu_stats *s, unsigned int n, struct bus *pio,
		   struct bus *mmio)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	stats_print(f, s, n, pio, mmio);
	fclose(f);
	return buf;
}

START_TEST(test_table_counts)
{
	struct vcpu_stats s[2];
	struct bus pio, mmio;
	unsigned int i;
	char *out;

	memset(s, 0, sizeof(s));
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	for (i = 0; i < 100; i++) {
		stats_count_exit(&s[0], MVX_EXIT_IO);
		stats_count_port(&s[0], 0x3f8, 1);
	}
	for (i = 0; i < 3; i++) {
		stats_count_exit(&s[1], MVX_EXIT_IO);
		stats_count_port(&s[1], 0x3fd, 0);
	}
	stats_count_exit(&s[1], MVX_EXIT_IO);
	stats_count_port(&s[1], 0x3f8, 1);
	stats_count_exit(&s[0], MVX_EXIT_HLT);
	stats_count_exit(&s[1], 999);		/* unknown reason: OTHER */
	bus_read(&pio, 0x1234, 1);

	out = print(s, 2, &pio, &mmio);
	ck_assert_msg(strstr(out, "IO                        100            4          104\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "HLT                         1            0            1\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "OTHER                       0            1            1\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "all                       101            5          106\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "0x3f8      out           101\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "0x3fd      in              3\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "0x1234: 1 reads, 0 writes") != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(test_port_table_overflow)
{
	struct vcpu_stats s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < STATS_NR_PORTS + 5; i++)
		stats_count_port(&s, 0x100 + i, 1);
	ck_assert_uint_eq(s.other_port_exits, 5);
	ck_assert_uint_eq(s.ports[STATS_NR_PORTS - 1].port, 0x100 + STATS_NR_PORTS - 1);
	stats_count_port(&s, 0x100, 0);		/* same port, other direction */
	ck_assert_uint_eq(s.other_port_exits, 6);
}
END_TEST

Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_table_counts);
	tcase_add_test(tc, test_port_table_overflow);
	suite_add_tcase(s, tc);
	return s;
}
