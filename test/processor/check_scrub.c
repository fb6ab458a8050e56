// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/scrub.c (scrub_arg).
 *
 * Arguments are scrubbed as whole argv sequences with one secret_next state,
 * the way events.c does it, because "--password hunter2" is a secret spread
 * over two arguments. Each rule has a redacted case and near-misses that
 * must come out verbatim; every case says which rule (by its exported name)
 * fires how often. Whatever the output capacity, the secret never appears.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "processor/scrub.h"

Suite *scrub_suite(void);

#define ARGS_MAX 6
#define OUT_MAX  256
#define MARK     SCRUB_MARK
#define MARK_LEN (sizeof(SCRUB_MARK) - 1)

struct scrub_case {
	const char *name;
	const char *argv[ARGS_MAX + 1]; /* NULL-terminated */
	const char *want[ARGS_MAX + 1];
	const char *rule; /* scrub_rule_names entry expected to fire; NULL: none */
	unsigned int hits;
	const char *secret; /* must appear in no output; NULL: nothing secret */
};

static const struct scrub_case cases[] = {
	{ "flag_equals",
	  { "psql", "--password=hunter2" },
	  { "psql", "--password=" MARK },
	  "arg_flag_value",
	  1,
	  "hunter2" },
	{ "flag_next_arg",
	  { "mysql", "--password", "hunter2", "db" },
	  { "mysql", "--password", MARK, "db" },
	  "arg_after_secret_flag",
	  1,
	  "hunter2" },
	{ "short_p_next_arg",
	  { "mysql", "-p", "hunter2", "db" },
	  { "mysql", "-p", MARK, "db" },
	  "arg_after_secret_flag",
	  1,
	  "hunter2" },
	{ "short_p_attached",
	  { "mysql", "-phunter2" },
	  { "mysql", "-p" MARK },
	  "arg_attached_p",
	  1,
	  "hunter2" },
	{ "env_pgpassword",
	  { "env", "PGPASSWORD=xyzzy1", "psql" },
	  { "env", "PGPASSWORD=" MARK, "psql" },
	  "arg_key_value",
	  1,
	  "xyzzy1" },
	{ "key_api_key",
	  { "curl", "api_key=xyzzy2" },
	  { "curl", "api_key=" MARK },
	  "arg_key_value",
	  1,
	  "xyzzy2" },
	{ "key_token",
	  { "x", "token=xyzzy3" },
	  { "x", "token=" MARK },
	  "arg_key_value",
	  1,
	  "xyzzy3" },
	{ "key_single_char", { "token=x" }, { "token=" MARK }, "arg_key_value", 1, NULL },
	{ "url_userinfo",
	  { "psql", "postgres://bob:s3cret@db:5432/app" },
	  { "psql", "postgres://bob:" MARK "@db:5432/app" },
	  "arg_url_userinfo",
	  1,
	  "s3cret" },
	{ "url_in_flag_value",
	  { "app", "--db=postgres://bob:s3cret@db/app" },
	  { "app", "--db=postgres://bob:" MARK "@db/app" },
	  "arg_url_userinfo",
	  1,
	  "s3cret" },
	{ "flag_client_secret",
	  { "oauth", "--client-secret=abcq" },
	  { "oauth", "--client-secret=" MARK },
	  "arg_flag_value",
	  1,
	  "abc" },
	{ "flag_mixed_case_next",
	  { "cli", "--Auth-Token", "abc" },
	  { "cli", "--Auth-Token", MARK },
	  "arg_after_secret_flag",
	  1,
	  "abc" },
	{ "next_arg_looks_like_flag",
	  { "cli", "--token", "--weird-secret" },
	  { "cli", "--token", MARK },
	  "arg_after_secret_flag",
	  1,
	  "--weird-secret" },
	{ "two_secret_flags",
	  { "cli", "--token", "aaa1", "--password", "bbb2", "run" },
	  { "cli", "--token", MARK, "--password", MARK, "run" },
	  "arg_after_secret_flag",
	  2,
	  "aaa1" },
	{ "empty_value",
	  { "cli", "--password=" },
	  { "cli", "--password=" MARK },
	  "arg_flag_value",
	  1,
	  NULL },
	{ "secret_flag_last", { "cli", "--password" }, { "cli", "--password" }, NULL, 0, NULL },

	/* near-misses: kept verbatim, nothing counted */
	{ "port_flag", { "psql", "--port=5432" }, { "psql", "--port=5432" }, NULL, 0, NULL },
	{ "ls_la", { "ls", "-la" }, { "ls", "-la" }, NULL, 0, NULL },
	{ "path", { "/usr/bin/ls" }, { "/usr/bin/ls" }, NULL, 0, NULL },
	{ "url_at_in_path",
	  { "curl", "http://example.com/a@b" },
	  { "curl", "http://example.com/a@b" },
	  NULL,
	  0,
	  NULL },
	{ "url_user_no_password",
	  { "git", "ssh://git@example.com/r" },
	  { "git", "ssh://git@example.com/r" },
	  NULL,
	  0,
	  NULL },
	{ "url_port",
	  { "curl", "https://example.com:8443/x" },
	  { "curl", "https://example.com:8443/x" },
	  NULL,
	  0,
	  NULL },
	{ "user_at_host", { "ssh", "user@host" }, { "ssh", "user@host" }, NULL, 0, NULL },
	{ "verbose", { "make", "--verbose" }, { "make", "--verbose" }, NULL, 0, NULL },
	{ "plain_key_value", { "make", "a=b" }, { "make", "a=b" }, NULL, 0, NULL },
	{ "dash_p_dash", { "cp", "-p-" }, { "cp", "-p-" }, NULL, 0, NULL },
	{ "empty_and_dashes", { "", "-", "--" }, { "", "-", "--" }, NULL, 0, NULL },
	{ "utf8_kept", { "echo", "caf\xc3\xa9" }, { "echo", "caf\xc3\xa9" }, NULL, 0, NULL },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static size_t argc_of(const struct scrub_case *c)
{
	size_t n = 0;

	while (n < ARGS_MAX && c->argv[n])
		n++;
	return n;
}

static int rule_index(const char *name)
{
	for (int i = 0; i < SCRUB_RULES; i++)
		if (strcmp(scrub_rule_names[i], name) == 0)
			return i;
	ck_abort_msg("no scrub rule named %s", name);
	return -1;
}

/* Scrub a whole argv with one secret_next state, as the exporter does. */
static void scrub_argv(const char *const *argv, size_t argc, char out[][OUT_MAX],
                       struct scrub_counts *counts)
{
	bool secret_next = false;

	memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; i < argc; i++) {
		size_t n = scrub_arg(argv[i], out[i], OUT_MAX, &secret_next, counts);

		ck_assert_uint_eq(n, strlen(out[i]));
	}
}

/* The secret, or its first four bytes, appears nowhere in @s. */
static void assert_no_secret(const struct scrub_case *c, const char *s)
{
	char head[5] = "";

	if (!c->secret)
		return;
	ck_assert_msg(!strstr(s, c->secret), "%s: secret in '%s'", c->name, s);
	strncat(head, c->secret, 4);
	ck_assert_msg(!strstr(s, head), "%s: part of the secret in '%s'", c->name, s);
}

START_TEST(scrub_table)
{
	const struct scrub_case *c = &cases[_i];
	size_t argc = argc_of(c);
	char out[ARGS_MAX][OUT_MAX];
	struct scrub_counts counts;

	scrub_argv(c->argv, argc, out, &counts);
	for (size_t i = 0; i < argc; i++) {
		ck_assert_msg(strcmp(out[i], c->want[i]) == 0, "%s: arg %zu: got '%s', want '%s'",
		              c->name, i, out[i], c->want[i]);
		assert_no_secret(c, out[i]);
	}
	for (int r = 0; r < SCRUB_RULES; r++) {
		uint64_t want = c->rule && r == rule_index(c->rule) ? c->hits : 0;

		ck_assert_msg(counts.hits[r] == want, "%s: rule %s hit %llu times, want %llu",
		              c->name, scrub_rule_names[r], (unsigned long long)counts.hits[r],
		              (unsigned long long)want);
	}
}
END_TEST

/*
 * Every capacity from the contract's minimum to the full output: terminated
 * within cap, the state carried as at full size, and no secret. An output
 * without a mark must be a prefix of the full one.
 */
START_TEST(scrub_every_cap)
{
	const struct scrub_case *c = &cases[_i];
	size_t argc = argc_of(c);

	for (size_t i = 0; i < argc; i++) {
		size_t full = strlen(c->want[i]) + 1;

		for (size_t cap = sizeof(SCRUB_MARK); cap <= full; cap++) {
			struct scrub_counts counts = { { 0 } };
			char scratch[OUT_MAX], *out = malloc(cap);
			bool secret_next = false;
			size_t n;

			ck_assert_ptr_nonnull(out);
			for (size_t k = 0; k < i; k++)
				scrub_arg(c->argv[k], scratch, sizeof(scratch), &secret_next,
				          &counts);
			memset(out, 0x5a, cap);
			n = scrub_arg(c->argv[i], out, cap, &secret_next, &counts);
			ck_assert_uint_lt(n, cap);
			ck_assert_int_eq(out[n], '\0');
			ck_assert_uint_eq(strlen(out), n);
			assert_no_secret(c, out);
			if (cap == full)
				ck_assert_str_eq(out, c->want[i]);
			if (!strstr(c->want[i], MARK))
				ck_assert_mem_eq(out, c->want[i], n);
			else
				ck_assert_msg(strstr(out, MARK), "%s: cap %zu lost the mark: '%s'",
				              c->name, cap, out);
			free(out);
		}
	}
}
END_TEST

/* Each argument ending (with its NUL) at a PROT_NONE page: no over-read. */
START_TEST(scrub_at_guard_page)
{
	const struct scrub_case *c = &cases[_i];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), argc = argc_of(c);
	char *base =
	        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct scrub_counts counts = { { 0 } };
	bool secret_next = false;
	char out[OUT_MAX];

	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
	for (size_t i = 0; i < argc; i++) {
		size_t len = strlen(c->argv[i]) + 1;
		char *arg = base + page - len;

		memcpy(arg, c->argv[i], len);
		scrub_arg(arg, out, sizeof(out), &secret_next, &counts);
		ck_assert_str_eq(out, c->want[i]);
	}
	ck_assert_int_eq(munmap(base, 2 * page), 0);
}
END_TEST

/* Counts accumulate across calls and arguments; no rule touches another's counter. */
START_TEST(counts_accumulate)
{
	static const char *const argv[] = { "--password=a1", "-pb2", "token=c3",
		                            "--token",       "d4",   "x://u:e5@h" };
	struct scrub_counts counts = { { 0 } };
	char out[OUT_MAX];
	bool secret_next = false;

	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
			scrub_arg(argv[i], out, sizeof(out), &secret_next, &counts);
	ck_assert(!secret_next);
	for (int r = 0; r < SCRUB_RULES; r++)
		ck_assert_msg(counts.hits[r] == 3, "rule %s: %llu", scrub_rule_names[r],
		              (unsigned long long)counts.hits[r]);
}
END_TEST

START_TEST(rule_names)
{
	for (int i = 0; i < SCRUB_RULES; i++) {
		ck_assert_ptr_nonnull(scrub_rule_names[i]);
		ck_assert_int_gt(strlen(scrub_rule_names[i]), 0);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(scrub_rule_names[i], scrub_rule_names[j]);
	}
	ck_assert_int_eq(rule_index("arg_flag_value"), SCRUB_FLAG_VALUE);
	ck_assert_int_eq(rule_index("arg_after_secret_flag"), SCRUB_NEXT_ARG);
	ck_assert_int_eq(rule_index("arg_attached_p"), SCRUB_ATTACHED_P);
	ck_assert_int_eq(rule_index("arg_key_value"), SCRUB_KEY_VALUE);
	ck_assert_int_eq(rule_index("arg_url_userinfo"), SCRUB_URL_USERINFO);
}
END_TEST

Suite *scrub_suite(void)
{
	Suite *s = suite_create("scrub");
	TCase *t = tcase_create("args");

	tcase_add_loop_test(t, scrub_table, 0, N_CASES);
	tcase_add_loop_test(t, scrub_every_cap, 0, N_CASES);
	tcase_add_loop_test(t, scrub_at_guard_page, 0, N_CASES);
	tcase_add_test(t, counts_accumulate);
	tcase_add_test(t, rule_names);
	suite_add_tcase(s, t);
	return s;
}
