// SPDX-License-Identifier: GPL-2.0
/* Console escape keys (Ctrl-A x/h/Ctrl-A) on byte streams. */
#include <string.h>

#include "escape.h"
#include "tests.h"

#define CTRL_A	"\x01"

/* What a stream of reads gave: guest bytes, and the commands in order. */
struct result {
	char out[256];
	size_t out_len;
	char cmds[16];		/* 'q' quit, 'h' help */
	size_t nr_cmds;
	size_t after_quit;	/* input bytes not taken after a quit */
};

/* Feed the NULL-terminated list of reads like the console reader does. */
static void run_reads(const char *const *reads, struct result *r)
{
	struct escape e;
	size_t used, n;
	enum escape_cmd cmd;

	memset(r, 0, sizeof(*r));
	escape_init(&e);
	for (; *reads; reads++) {
		const uint8_t *p = (const uint8_t *)*reads;
		size_t len = strlen(*reads);

		while (len) {
			cmd = escape_filter(&e, p, len, &used,
					    (uint8_t *)r->out + r->out_len, &n);
			ck_assert_uint_le(used, len);
			ck_assert_uint_le(n, used);
			r->out_len += n;
			p += used;
			len -= used;
			if (cmd == ESCAPE_QUIT) {
				r->cmds[r->nr_cmds++] = 'q';
				r->after_quit = len;
				return;
			}
			if (cmd == ESCAPE_HELP)
				r->cmds[r->nr_cmds++] = 'h';
		}
	}
}

static void run_one(const char *input, struct result *r)
{
	const char *const reads[] = { input, NULL };

	run_reads(reads, r);
}

START_TEST(test_plain_bytes_pass)
{
	struct result r;

	run_one("ls -l\r\x03\x1a\x1c", &r);
	ck_assert_uint_eq(r.out_len, 9);
	ck_assert_mem_eq(r.out, "ls -l\r\x03\x1a\x1c", 9);
	ck_assert_uint_eq(r.nr_cmds, 0);
}
END_TEST

START_TEST(test_ctrl_a_x_quits)
{
	struct result r;

	run_one("ab" CTRL_A "xcd", &r);
	ck_assert_uint_eq(r.nr_cmds, 1);
	ck_assert_int_eq(r.cmds[0], 'q');
	ck_assert_uint_eq(r.out_len, 2);
	ck_assert_mem_eq(r.out, "ab", 2);
	ck_assert_uint_eq(r.after_quit, 2);	/* "cd" left */
}
END_TEST

START_TEST(test_ctrl_a_ctrl_a_sends_one)
{
	struct result r;

	run_one("a" CTRL_A CTRL_A "b" CTRL_A CTRL_A CTRL_A CTRL_A, &r);
	ck_assert_uint_eq(r.nr_cmds, 0);
	ck_assert_uint_eq(r.out_len, 5);
	ck_assert_mem_eq(r.out, "a" CTRL_A "b" CTRL_A CTRL_A, 5);
}
END_TEST

/* The escaped Ctrl-A is a plain byte: the x after it is the guest's. */
START_TEST(test_escaped_ctrl_a_then_x_is_not_quit)
{
	struct result r;

	run_one(CTRL_A CTRL_A "x", &r);
	ck_assert_uint_eq(r.nr_cmds, 0);
	ck_assert_uint_eq(r.out_len, 2);
	ck_assert_mem_eq(r.out, CTRL_A "x", 2);
}
END_TEST

START_TEST(test_help_and_go_on)
{
	struct result r;

	run_one("a" CTRL_A "hb" CTRL_A "?c", &r);
	ck_assert_uint_eq(r.nr_cmds, 2);
	ck_assert_mem_eq(r.cmds, "hh", 2);
	ck_assert_uint_eq(r.out_len, 3);
	ck_assert_mem_eq(r.out, "abc", 3);
	ck_assert_ptr_nonnull(strstr(escape_help, "Ctrl-A x"));
}
END_TEST

START_TEST(test_unknown_key_dropped)
{
	struct result r;

	run_one("a" CTRL_A "zb" CTRL_A "X", &r);
	ck_assert_uint_eq(r.nr_cmds, 0);
	ck_assert_uint_eq(r.out_len, 2);
	ck_assert_mem_eq(r.out, "ab", 2);
}
END_TEST

START_TEST(test_split_across_reads)
{
	static const char *const quit[] = { "ab" CTRL_A, "x", NULL };
	static const char *const send[] = {
		CTRL_A, CTRL_A, "x", CTRL_A, "h", NULL
	};
	struct result r;

	run_reads(quit, &r);
	ck_assert_uint_eq(r.nr_cmds, 1);
	ck_assert_int_eq(r.cmds[0], 'q');
	ck_assert_uint_eq(r.out_len, 2);

	run_reads(send, &r);
	ck_assert_uint_eq(r.nr_cmds, 1);
	ck_assert_int_eq(r.cmds[0], 'h');
	ck_assert_uint_eq(r.out_len, 2);
	ck_assert_mem_eq(r.out, CTRL_A "x", 2);
}
END_TEST

Suite *escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("ctrl-a");

	tcase_add_test(tc, test_plain_bytes_pass);
	tcase_add_test(tc, test_ctrl_a_x_quits);
	tcase_add_test(tc, test_ctrl_a_ctrl_a_sends_one);
	tcase_add_test(tc, test_escaped_ctrl_a_then_x_is_not_quit);
	tcase_add_test(tc, test_help_and_go_on);
	tcase_add_test(tc, test_unknown_key_dropped);
	tcase_add_test(tc, test_split_across_reads);
	suite_add_tcase(s, tc);
	return s;
}
