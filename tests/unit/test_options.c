// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Command-line parsing: values, strictness, exit codes and messages. */
#include <stdarg.h>

#include "tap.h"
#include "options.h"
#include "print.h"

static char errbuf[4096];

/* What the parse said through the print hook, each message on its own line(s). */
static void keep_message(enum sva_print_level level, const char *prefix, const char *msg, void *ctx)
{
	size_t len = strlen(errbuf);

	(void)level;
	(void)ctx;
	snprintf(errbuf + len, sizeof(errbuf) - len, "%s%s\n", prefix, msg);
}

/* 0, or 2 on a usage error (the exit status main maps -EINVAL to). */
static int parse(struct sva_options *o, ...)
{
	char *argv[32] = { "sva-trace" };
	int argc = 1, ret;
	va_list ap;
	FILE *out = fopen("/dev/null", "w");
	char *a;

	va_start(ap, o);
	while ((a = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	memset(errbuf, 0, sizeof(errbuf));
	sva_print_set_prefix("sva-trace: ");
	sva_print_set_hook(keep_message, NULL);
	ret = sva_options_parse(argc, argv, o, out);
	sva_print_set_hook(NULL, NULL);
	fclose(out);
	return ret == -EINVAL ? 2 : ret;
}

TEST(defaults_trace_everything_in_auto_mode)
{
	struct sva_options o;

	ASSERT_EQ(parse(&o, NULL), 0);
	EXPECT_EQ(o.pid, 0);
	EXPECT_EQ(o.pasid, SVA_PASID_NONE);
	EXPECT_EQ(o.probe_mode, PROBE_MODE_AUTO);
	EXPECT_FALSE(o.json);
	EXPECT_FALSE(o.raw_pointers);
	EXPECT_STREQ(o.comm, "");
}

TEST(all_options_are_parsed)
{
	struct sva_options o;

	ASSERT_EQ(parse(&o, "-p", "42", "--comm", "dsa_test", "--dev", "0000:6a:01.0", "--pasid",
			"0x10", "-d", "5", "-j", "-v", "-v", "--btf", "/tmp/x", "--probe-mode",
			"kprobe", "--stacks", "--all-lookups", "--raw-pointers", NULL),
		  0);
	EXPECT_EQ(o.pid, 42);
	EXPECT_STREQ(o.comm, "dsa_test");
	EXPECT_STREQ(o.dev, "0000:6a:01.0");
	EXPECT_EQ(o.pasid, 16);
	EXPECT_EQ(o.duration_s, 5);
	EXPECT_TRUE(o.json);
	EXPECT_EQ(o.verbose, 2);
	EXPECT_STREQ(o.btf_path, "/tmp/x");
	EXPECT_EQ(o.probe_mode, PROBE_MODE_KPROBE);
	EXPECT_TRUE(o.stacks && o.all_lookups && o.raw_pointers);
}

TEST(check_and_fentry_mode)
{
	struct sva_options o;

	ASSERT_EQ(parse(&o, "--check", "--probe-mode=fentry", NULL), 0);
	EXPECT_TRUE(o.check);
	EXPECT_EQ(o.probe_mode, PROBE_MODE_FENTRY);
}

TEST(bad_numbers_are_usage_errors_naming_the_option)
{
	struct sva_options o;
	const char *bad_pids[] = { "0", "-1", "12x", "", "+5", "99999999999", " 7" };

	for (size_t i = 0; i < sizeof(bad_pids) / sizeof(bad_pids[0]); i++) {
		EXPECT_EQ(parse(&o, "-p", bad_pids[i], NULL), 2);
		EXPECT_TRUE(strstr(errbuf, "invalid --pid") != NULL);
	}
	EXPECT_EQ(parse(&o, "--pasid", "4294967295", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "invalid --pasid '4294967295'") != NULL);
	EXPECT_EQ(parse(&o, "-d", "0", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "invalid --duration") != NULL);
	EXPECT_EQ(parse(&o, "-d", "1.5", NULL), 2);
}

TEST(over_long_names_are_rejected)
{
	struct sva_options o;

	EXPECT_EQ(parse(&o, "--comm", "0123456789abcdef", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "1 to 15 characters") != NULL);
	EXPECT_EQ(parse(&o, "--comm", "0123456789abcde", NULL), 0);
	EXPECT_EQ(parse(&o, "--dev", "0123456789012345678901234567890123", NULL), 2);
}

TEST(unknown_option_mode_and_argument_are_usage_errors)
{
	struct sva_options o;

	EXPECT_EQ(parse(&o, "--frobnicate", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "frobnicate") != NULL);
	EXPECT_EQ(parse(&o, "--probe-mode", "uprobe", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "expected auto, fentry or kprobe") != NULL);
	EXPECT_EQ(parse(&o, "stray", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "unexpected argument 'stray'") != NULL);
	EXPECT_EQ(parse(&o, "-p", NULL), 2);
}

/* One channel: our messages and argp's both reach the program's print hook, prefixed once. */
TEST(usage_errors_go_through_the_print_hook_with_the_program_prefix)
{
	struct sva_options o;

	EXPECT_EQ(parse(&o, "-p", "abc", NULL), 2);
	EXPECT_STREQ(errbuf, "sva-trace: invalid --pid 'abc': expected a process id from 1 to "
			     "2147483647\nTry 'sva-trace --help' for more information.\n");
	EXPECT_EQ(parse(&o, "--frobnicate", NULL), 2);
	EXPECT_TRUE(strstr(errbuf, "unrecognized option '--frobnicate'\n") != NULL);
	EXPECT_TRUE(strstr(errbuf, "sva-trace: sva-trace:") == NULL);
	EXPECT_TRUE(strstr(errbuf, "\nTry `sva-trace --help' or `sva-trace --usage' for more "
				   "information.\n") != NULL);
}

TEST(help_and_version_exit_zero_without_running)
{
	struct sva_options o;

	EXPECT_EQ(parse(&o, "--help", NULL), 0);
	EXPECT_TRUE(o.exit_now);
	EXPECT_EQ(parse(&o, "--version", NULL), 0);
	EXPECT_TRUE(o.exit_now);
}

TEST(parse_u64_is_strict)
{
	uint64_t v;

	EXPECT_EQ(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	EXPECT_TRUE(v == UINT64_MAX);
	EXPECT_NE(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), 0);
	EXPECT_NE(parse_u64("-0", 0, 10, &v), 0);
	EXPECT_NE(parse_u64("0x", 0, 10, &v), 0);
	EXPECT_EQ(parse_u64("0xa", 0, 10, &v), 0);
	EXPECT_EQ(v, 10);
	/* a leading zero is decimal still, not octal */
	EXPECT_EQ(parse_u64("010", 0, 100, &v), 0);
	EXPECT_EQ(v, 10);
	EXPECT_EQ(parse_u64("08", 0, 100, &v), 0);
	EXPECT_EQ(v, 8);
	EXPECT_NE(parse_u64("11", 0, 10, &v), 0);
}
