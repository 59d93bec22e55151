// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `-- CMD`: the command runs, and the trace waits for every process it left behind. */
#include <time.h>

#include "tap.h"
#include "child.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Polls until exited (5 s at most); returns whether cmd_exited was seen before exited. */
static bool poll_until_exited(struct child *c)
{
	uint64_t until = now_ms() + 5000;
	bool cmd_first = false;

	while (!c->exited && now_ms() < until) {
		child_poll(c);
		if (c->cmd_exited && !c->exited)
			cmd_first = true;
		usleep(10000);
	}
	return cmd_first;
}

TEST(a_backgrounded_grandchild_is_waited_for)
{
	char dir[] = "/tmp/sva-child-XXXXXX", script[512], mark[300];
	char *argv[] = { "sh", "-c", script, NULL };
	struct child c = CHILD_INIT;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(mark, sizeof(mark), "%s/done", dir);
	/* The command exits at once with 3; the process it put in the background lives on. */
	snprintf(script, sizeof(script), "(sleep 0.5; echo late > %s) & exit 3", mark);
	ASSERT_EQ(child_start(&c, argv, false), 0);
	child_go(&c);
	EXPECT_TRUE(poll_until_exited(&c)); /* the command ended first ... */
	ASSERT_TRUE(c.exited); /* ... and the end came only with the grandchild's */
	f = fopen(mark, "r");
	EXPECT_TRUE(f != NULL); /* written just before the grandchild exited */
	if (f)
		fclose(f);
	EXPECT_EQ(child_exit_code(&c), 3); /* the command's own status */
	unlink(mark);
	rmdir(dir);
}

TEST(a_command_without_descendants_ends_with_itself)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct child c = CHILD_INIT;

	ASSERT_EQ(child_start(&c, argv, false), 0);
	child_go(&c);
	poll_until_exited(&c);
	ASSERT_TRUE(c.exited);
	EXPECT_TRUE(c.cmd_exited);
	EXPECT_EQ(child_exit_code(&c), 128 + SIGTERM);
}

TEST(the_command_waits_for_child_go)
{
	char dir[] = "/tmp/sva-child-XXXXXX", script[512], mark[300];
	char *argv[] = { "sh", "-c", script, NULL };
	struct child c = CHILD_INIT;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	snprintf(script, sizeof(script), "echo > %s", mark);
	ASSERT_EQ(child_start(&c, argv, false), 0);
	usleep(200000);
	EXPECT_TRUE(access(mark, F_OK) != 0); /* not before the probes are attached */
	child_poll(&c);
	EXPECT_FALSE(c.cmd_exited);
	child_go(&c);
	poll_until_exited(&c);
	EXPECT_TRUE(access(mark, F_OK) == 0);
	EXPECT_EQ(child_exit_code(&c), 0);
	unlink(mark);
	rmdir(dir);
}

TEST(a_command_that_cannot_run_exits_127)
{
	char *argv[] = { "/nonexistent/sva-child-test", NULL };
	struct child c = CHILD_INIT;

	ASSERT_EQ(child_start(&c, argv, false), 0);
	child_go(&c);
	poll_until_exited(&c);
	ASSERT_TRUE(c.exited);
	EXPECT_EQ(child_exit_code(&c), 127);
}
