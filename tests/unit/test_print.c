// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The diagnostic hook (print.c): one channel, the program's prefix, FILE writers adapted. */
#include "tap.h"
#include "print.h"

static char said[4096];

static void keep(enum sva_print_level level, const char *prefix, const char *msg, void *ctx)
{
	size_t len = strlen(said);

	(void)ctx;
	snprintf(said + len, sizeof(said) - len, "[%s|%s|%s]", level == SVA_PR_WARN ? "W" : "I",
		 prefix, msg);
}

static void listen(void)
{
	said[0] = '\0';
	sva_print_set_prefix("tool: ");
	sva_print_set_hook(keep, NULL);
}

TEST(messages_reach_the_hook_with_the_programs_prefix_and_no_final_newline)
{
	listen();
	sva_warn("cannot open '%s': %s", "x", "No such file");
	sva_info("attached\n");
	EXPECT_STREQ(said, "[W|tool: |cannot open 'x': No such file][I|tool: |attached]");
}

TEST(a_stream_hands_each_line_on_without_the_prefix_and_the_last_at_close)
{
	FILE *f;

	listen();
	f = sva_print_stream(SVA_PR_WARN);
	ASSERT_TRUE(f != NULL);
	setvbuf(f, NULL, _IONBF, 0);
	fprintf(f, "prog: unrecognized option '--x'\nTry `prog");
	EXPECT_STREQ(said, "[W||prog: unrecognized option '--x']");
	fprintf(f, " --help'");
	fclose(f);
	EXPECT_STREQ(said, "[W||prog: unrecognized option '--x'][W||Try `prog --help']");
}

TEST(the_default_hook_writes_prefix_and_message_to_descriptor_2)
{
	int fds[2], saved;
	char buf[256] = "";
	ssize_t n;

	ASSERT_EQ(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	sva_print_set_prefix("tool: ");
	sva_print_set_hook(NULL, NULL);
	sva_warn("two\nlines");
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	ASSERT_TRUE(n > 0);
	EXPECT_STREQ(buf, "tool: two\nlines\n");
}
