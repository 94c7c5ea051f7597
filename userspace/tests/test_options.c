// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing of minivmx-run. */
#include <string.h>

#include "options.h"
#include "tests.h"

static struct options opt;
static char err[256];

/* Parse a NULL-terminated list of arguments after the program name. */
#define PARSE(...) parse((const char *[]){ "minivmx-run", __VA_ARGS__, NULL })

static int parse(const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	return options_parse(&opt, argc, (char **)args, err, sizeof(err));
}

START_TEST(test_defaults)
{
	ck_assert_int_eq(PARSE("guest.bin"), 0);
	ck_assert_str_eq(opt.device, "/dev/minivmx");
	ck_assert_uint_eq(opt.mem, 64ULL << 20);
	ck_assert_uint_eq(opt.cpus, 1);
	ck_assert_str_eq(opt.kernel, "guest.bin");
	ck_assert_ptr_null(opt.firmware);
	ck_assert_int_eq(opt.mode, MODE_AUTO);
	ck_assert_int_eq(opt.load_set, 0);
	ck_assert_int_eq(opt.entry_set, 0);
	ck_assert_int_eq(opt.stats, 0);
	ck_assert_int_eq(opt.help, 0);
}
END_TEST

START_TEST(test_all_options)
{
	ck_assert_int_eq(PARSE("--device", "/dev/kvm", "--mem", "128M",
			       "--cpus", "4", "--mode", "long", "--load",
			       "0x200000", "--entry", "2097168", "--stats",
			       "--kernel", "k.elf"), 0);
	ck_assert_str_eq(opt.device, "/dev/kvm");
	ck_assert_uint_eq(opt.mem, 128ULL << 20);
	ck_assert_uint_eq(opt.cpus, 4);
	ck_assert_int_eq(opt.mode, MODE_LONG);
	ck_assert_uint_eq(opt.load, 0x200000);
	ck_assert_int_eq(opt.load_set, 1);
	ck_assert_uint_eq(opt.entry, 0x200010);
	ck_assert_int_eq(opt.entry_set, 1);
	ck_assert_int_eq(opt.stats, 1);
	ck_assert_str_eq(opt.kernel, "k.elf");

	ck_assert_int_eq(PARSE("--device=/dev/kvm", "--mode=protected", "x"), 0);
	ck_assert_int_eq(opt.mode, MODE_PROTECTED);
	ck_assert_int_eq(PARSE("--mode", "real", "x"), 0);
	ck_assert_int_eq(opt.mode, MODE_REAL);
	ck_assert_int_eq(PARSE("--firmware", "fw.bin"), 0);
	ck_assert_str_eq(opt.firmware, "fw.bin");
	ck_assert_ptr_null(opt.kernel);
}
END_TEST

START_TEST(test_help)
{
	ck_assert_int_eq(PARSE("--help"), 0);
	ck_assert_int_eq(opt.help, 1);
	/* --help wins over what follows, even garbage. */
	ck_assert_int_eq(PARSE("--help", "--cpus", "0"), 0);
	ck_assert_int_eq(opt.help, 1);
}
END_TEST

START_TEST(test_version)
{
	ck_assert_int_eq(PARSE("--version"), 0);
	ck_assert_int_eq(opt.version, 1);
	ck_assert_int_eq(opt.help, 0);
	ck_assert_int_eq(PARSE("--version", "--bogus"), 0);
	ck_assert_int_eq(opt.version, 1);
	ck_assert_int_eq(PARSE("guest.bin"), 0);
	ck_assert_int_eq(opt.version, 0);
}
END_TEST

START_TEST(test_sizes)
{
	uint64_t v;

	ck_assert_int_eq(parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(parse_size("0x1000", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(parse_size("512K", &v), 0);
	ck_assert_uint_eq(v, 512 << 10);
	ck_assert_int_eq(parse_size("64m", &v), 0);
	ck_assert_uint_eq(v, 64 << 20);
	ck_assert_int_eq(parse_size("2GiB", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(parse_size("1T", &v), 0);
	ck_assert_uint_eq(v, 1ULL << 40);
	ck_assert_int_eq(parse_size("", &v), -1);
	ck_assert_int_eq(parse_size("-1", &v), -1);
	ck_assert_int_eq(parse_size("12Q", &v), -1);
	ck_assert_int_eq(parse_size("12 M", &v), -1);
	ck_assert_int_eq(parse_size("1Mx", &v), -1);
	ck_assert_int_eq(parse_size("M", &v), -1);
	ck_assert_int_eq(parse_size("99999999999999999999", &v), -1);
	ck_assert_int_eq(parse_size("17179869184G", &v), -1);	/* overflow */
}
END_TEST

START_TEST(test_bad_values)
{
	ck_assert_int_eq(PARSE("--mem", "lots", "x"), -1);
	ck_assert_ptr_nonnull(strstr(err, "--mem lots"));
	ck_assert_int_eq(PARSE("--mem", "512K", "x"), -1);	/* < 1M */
	ck_assert_int_eq(PARSE("--mem", "4G", "x"), -1);	/* > 3G */
	ck_assert_int_eq(PARSE("--mem", "1049000", "x"), -1);	/* not 4K */
	ck_assert_int_eq(PARSE("--mem", "3G", "x"), 0);
	ck_assert_int_eq(PARSE("--cpus", "0", "x"), -1);
	ck_assert_ptr_nonnull(strstr(err, "--cpus 0"));
	ck_assert_int_eq(PARSE("--cpus", "65", "x"), -1);
	ck_assert_int_eq(PARSE("--cpus", "two", "x"), -1);
	ck_assert_int_eq(PARSE("--cpus", "64", "x"), 0);
	ck_assert_int_eq(PARSE("--mode", "virtual8086", "x"), -1);
	ck_assert_ptr_nonnull(strstr(err, "real, protected or long"));
	ck_assert_int_eq(PARSE("--load", "zz", "x"), -1);
	ck_assert_int_eq(PARSE("--entry", "-5", "x"), -1);
}
END_TEST

START_TEST(test_bad_command_lines)
{
	ck_assert_int_eq(PARSE("--stats"), -1);
	ck_assert_ptr_nonnull(strstr(err, "no image"));
	ck_assert_int_eq(PARSE("--frobnicate", "x"), -1);
	ck_assert_str_eq(err, "--frobnicate: unknown option");
	ck_assert_int_eq(PARSE("x", "--mem"), -1);
	ck_assert_str_eq(err, "--mem: needs an argument");
	ck_assert_int_eq(PARSE("a.bin", "b.bin"), -1);
	ck_assert_ptr_nonnull(strstr(err, "b.bin: unexpected argument"));
	ck_assert_int_eq(PARSE("--kernel", "a.bin", "b.bin"), -1);
	ck_assert_ptr_nonnull(strstr(err, "IMAGE given twice"));
	ck_assert_int_eq(PARSE("--firmware", "fw", "--mode", "long"), -1);
	ck_assert_ptr_nonnull(strstr(err, "reset vector"));
	ck_assert_int_eq(PARSE("--firmware", "fw", "--entry", "0"), -1);
	ck_assert_int_eq(PARSE("-x", "a"), -1);
}
END_TEST

Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_bad_command_lines);
	suite_add_tcase(s, tc);
	return s;
}
