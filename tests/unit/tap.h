/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal kselftest-style harness that prints TAP for prove(1).
 *
 *   TEST(name) { EXPECT_EQ(a, b); ASSERT_TRUE(x); SKIP("why"); }
 *
 * Each test runs in a forked child under a timeout, so a crash or a hang
 * fails that test only. EXPECT_* records a failure and goes on; ASSERT_*
 * ends the test. SKIP ends it as skipped with a reason ("# SKIP" in TAP),
 * which prove does not count as a pass.
 */
#ifndef SVA_TAP_H
#define SVA_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_MAX_TESTS 256
#ifndef TAP_TIMEOUT_S
#define TAP_TIMEOUT_S 30
#endif

struct tap_test {
	const char *name;
	void (*fn)(void);
};

static struct tap_test tap_tests[TAP_MAX_TESTS];
static int tap_ntests;
static int tap_failed_in_child;

#define TAP_EXIT_PASS 0
#define TAP_EXIT_FAIL 1
#define TAP_EXIT_SKIP 4

#define TEST(name)                                                                  \
	static void name(void);                                                     \
	__attribute__((constructor)) static void tap_register_##name(void)          \
	{                                                                           \
		if (tap_ntests < TAP_MAX_TESTS)                                     \
			tap_tests[tap_ntests++] = (struct tap_test){ #name, name }; \
	}                                                                           \
	static void name(void)

#define TAP_FAIL_AT(...)                                                              \
	do {                                                                          \
		printf("# %s:%d: ", __FILE__, __LINE__);                              \
		printf(__VA_ARGS__);                                                  \
		printf("\n");                                                         \
		tap_failed_in_child = 1;                                              \
	} while (0)

#define TAP_CHECK(cond, fatal, ...)                 \
	do {                                        \
		if (!(cond)) {                      \
			TAP_FAIL_AT(__VA_ARGS__);   \
			if (fatal) {                \
				fflush(stdout);     \
				_exit(TAP_EXIT_FAIL); \
			}                           \
		}                                   \
	} while (0)

#define TAP_CMP_INT(a, op, b, fatal)                                                      \
	do {                                                                              \
		intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                          \
		TAP_CHECK(a_ op b_, fatal, "expected %s %s %s: %jd vs %jd", #a, #op, #b, \
			  a_, b_);                                                        \
	} while (0)

#define TAP_CMP_STR(a, b, fatal)                                                          \
	do {                                                                              \
		const char *a_ = (a), *b_ = (b);                                          \
		TAP_CHECK(a_ && b_ && !strcmp(a_, b_), fatal, "expected %s == %s: \"%s\" vs \"%s\"", \
			  #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                \
	} while (0)

#define EXPECT_EQ(a, b) TAP_CMP_INT(a, ==, b, 0)
#define EXPECT_NE(a, b) TAP_CMP_INT(a, !=, b, 0)
#define EXPECT_GT(a, b) TAP_CMP_INT(a, >, b, 0)
#define EXPECT_TRUE(x) TAP_CHECK((x), 0, "expected %s", #x)
#define EXPECT_FALSE(x) TAP_CHECK(!(x), 0, "expected !(%s)", #x)
#define EXPECT_STREQ(a, b) TAP_CMP_STR(a, b, 0)
#define ASSERT_EQ(a, b) TAP_CMP_INT(a, ==, b, 1)
#define ASSERT_NE(a, b) TAP_CMP_INT(a, !=, b, 1)
#define ASSERT_TRUE(x) TAP_CHECK((x), 1, "expected %s", #x)
#define ASSERT_FALSE(x) TAP_CHECK(!(x), 1, "expected !(%s)", #x)
#define ASSERT_STREQ(a, b) TAP_CMP_STR(a, b, 1)

#define SKIP(...)                                     \
	do {                                          \
		printf("# SKIP: ");                   \
		printf(__VA_ARGS__);                  \
		printf("\n");                         \
		fflush(stdout);                       \
		_exit(TAP_EXIT_SKIP);                 \
	} while (0)

static int tap_run_one(const struct tap_test *t)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return TAP_EXIT_FAIL;
	}
	if (pid == 0) {
		alarm(TAP_TIMEOUT_S);
		t->fn();
		fflush(stdout);
		_exit(tap_failed_in_child ? TAP_EXIT_FAIL : TAP_EXIT_PASS);
	}
	if (waitpid(pid, &status, 0) < 0)
		return TAP_EXIT_FAIL;
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return TAP_EXIT_FAIL;
	}
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	int failed = 0, passed = 0, skipped = 0;

	(void)argc;
	printf("TAP version 13\n1..%d\n", tap_ntests);
	for (int i = 0; i < tap_ntests; i++) {
		int rc = tap_run_one(&tap_tests[i]);

		if (rc == TAP_EXIT_PASS) {
			printf("ok %d - %s\n", i + 1, tap_tests[i].name);
			passed++;
		} else if (rc == TAP_EXIT_SKIP) {
			printf("ok %d - %s # SKIP\n", i + 1, tap_tests[i].name);
			skipped++;
		} else {
			printf("not ok %d - %s\n", i + 1, tap_tests[i].name);
			failed++;
		}
	}
	printf("# %s: %d passed, %d failed, %d skipped\n", argv[0], passed, failed, skipped);
	return failed ? 1 : 0;
}

#endif
