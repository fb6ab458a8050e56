// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for loader/args.c (loader_parse_args).
 *
 * The loader runs privileged, so argv is its first untrusted input. One
 * table holds every accepted command line next to its malformed twins; each
 * rejection must say which option is at fault, because the message is all an
 * operator gets before the loader exits with LOADER_EXIT_USAGE. Generated
 * arguments (N cgroups, over-long paths) are expanded from short tokens.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/args.h"

Suite *args_suite(void);

#define PROG        "bpfwarden-loader"
#define CG          "/sys/fs/cgroup/unified/x"
#define ARGV_MAX    (2 * (LOADER_CGROUPS_MAX + 1) + 16)
#define ERR_LEN     512
#define TOK_LONG    "@LONG"    /* a path of LOADER_PATH_MAX bytes: one too long */
#define TOK_LONGEST "@LONGEST" /* a path of LOADER_PATH_MAX - 1 bytes: the longest */

struct want {
	size_t ncgroups;
	bool system_wide, keep_pins, verbose;
	const char *cgroup0;   /* NULL: not checked */
	const char *pin_dir;   /* NULL: the default */
	const char *user;      /* NULL: the default */
	const char *processor; /* NULL: expected NULL */
	uint32_t ringbuf;      /* 0: the default */
	int processor_argc;
	const char *processor_arg0;
};

struct args_case {
	const char *name;
	int gen_cgroups;     /* prepend this many distinct --cgroup options */
	const char *args[8]; /* after argv[0], NULL-terminated */
	int rc;              /* 0, 1 (help) or -EINVAL */
	const char *err[2];  /* substrings the error must contain */
	struct want w;
};

static const struct args_case cases[] = {
	/* ---- accepted ---- */
	{ "cgroup", 0, { "--cgroup", CG }, 0, { NULL }, { .ncgroups = 1, .cgroup0 = CG } },
	{ "cgroup_equals", 0, { "--cgroup=" CG }, 0, { NULL }, { .ncgroups = 1, .cgroup0 = CG } },
	{ "two_cgroups",
	  0,
	  { "--cgroup", CG, "--cgroup", CG "2" },
	  0,
	  { NULL },
	  { .ncgroups = 2 } },
	{ "cgroups_max",
	  LOADER_CGROUPS_MAX,
	  { NULL },
	  0,
	  { NULL },
	  { .ncgroups = LOADER_CGROUPS_MAX } },
	{ "system_wide", 0, { "--system-wide" }, 0, { NULL }, { .system_wide = true } },
	{ "pin_dir",
	  0,
	  { "--system-wide", "--pin-dir", "/sys/fs/bpf/x" },
	  0,
	  { NULL },
	  { .system_wide = true, .pin_dir = "/sys/fs/bpf/x" } },
	{ "keep_pins",
	  0,
	  { "--system-wide", "--keep-pins" },
	  0,
	  { NULL },
	  { .system_wide = true, .keep_pins = true } },
	{ "user",
	  0,
	  { "--system-wide", "--user", "u" },
	  0,
	  { NULL },
	  { .system_wide = true, .user = "u" } },
	{ "processor",
	  0,
	  { "--system-wide", "--processor", "/abs" },
	  0,
	  { NULL },
	  { .system_wide = true, .processor = "/abs" } },
	{ "ringbuf",
	  0,
	  { "--system-wide", "--ringbuf-security", "65536" },
	  0,
	  { NULL },
	  { .system_wide = true, .ringbuf = 65536 } },
	{ "ringbuf_min",
	  0,
	  { "--system-wide", "--ringbuf-security", "16384" },
	  0,
	  { NULL },
	  { .system_wide = true, .ringbuf = LOADER_MIN_RINGBUF } },
	{ "ringbuf_max",
	  0,
	  { "--system-wide", "--ringbuf-security", "268435456" },
	  0,
	  { NULL },
	  { .system_wide = true, .ringbuf = LOADER_MAX_RINGBUF } },
	{ "verbose_short",
	  0,
	  { "-v", "--system-wide" },
	  0,
	  { NULL },
	  { .system_wide = true, .verbose = true } },
	{ "verbose_long",
	  0,
	  { "--verbose", "--system-wide" },
	  0,
	  { NULL },
	  { .system_wide = true, .verbose = true } },
	{ "processor_args",
	  0,
	  { "--system-wide", "--", "--stats-interval", "1" },
	  0,
	  { NULL },
	  { .system_wide = true, .processor_argc = 2, .processor_arg0 = "--stats-interval" } },
	{ "dashdash_alone", 0, { "--cgroup", CG, "--" }, 0, { NULL }, { .ncgroups = 1 } },
	{ "path_longest", 0, { "--cgroup", TOK_LONGEST }, 0, { NULL }, { .ncgroups = 1 } },
	{ "help", 0, { "--help" }, 1, { NULL }, { 0 } },
	{ "help_short", 0, { "-h" }, 1, { NULL }, { 0 } },
	{ "help_after_options", 0, { "--system-wide", "-v", "--help" }, 1, { NULL }, { 0 } },

	/* ---- malformed twins ---- */
	{ "no_scope", 0, { NULL }, -EINVAL, { "--cgroup", "--system-wide" }, { 0 } },
	{ "no_scope_options",
	  0,
	  { "-v", "--keep-pins" },
	  -EINVAL,
	  { "--cgroup", "--system-wide" },
	  { 0 } },
	{ "both_scopes",
	  0,
	  { "--cgroup", CG, "--system-wide" },
	  -EINVAL,
	  { "--cgroup", "--system-wide" },
	  { 0 } },
	{ "cgroup_relative",
	  0,
	  { "--cgroup", "unified/x" },
	  -EINVAL,
	  { "--cgroup", "unified/x" },
	  { 0 } },
	{ "cgroup_empty", 0, { "--cgroup", "" }, -EINVAL, { "--cgroup" }, { 0 } },
	{ "cgroup_twice",
	  0,
	  { "--cgroup", CG, "--cgroup", CG },
	  -EINVAL,
	  { "--cgroup", CG },
	  { 0 } },
	{ "cgroups_too_many",
	  LOADER_CGROUPS_MAX,
	  { "--cgroup", CG "/one-more" },
	  -EINVAL,
	  { "--cgroup", "64" },
	  { 0 } },
	{ "pin_dir_relative",
	  0,
	  { "--system-wide", "--pin-dir", "bpf/x" },
	  -EINVAL,
	  { "--pin-dir", "bpf/x" },
	  { 0 } },
	{ "user_empty", 0, { "--system-wide", "--user", "" }, -EINVAL, { "--user" }, { 0 } },
	{ "processor_relative",
	  0,
	  { "--system-wide", "--processor", "bin/p" },
	  -EINVAL,
	  { "--processor", "bin/p" },
	  { 0 } },
	{ "ringbuf_not_number",
	  0,
	  { "--system-wide", "--ringbuf-security", "lots" },
	  -EINVAL,
	  { "--ringbuf-security", "lots" },
	  { 0 } },
	{ "ringbuf_empty",
	  0,
	  { "--system-wide", "--ringbuf-security", "" },
	  -EINVAL,
	  { "--ringbuf-security" },
	  { 0 } },
	{ "ringbuf_negative",
	  0,
	  { "--system-wide", "--ringbuf-security", "-65536" },
	  -EINVAL,
	  { "--ringbuf-security", "-65536" },
	  { 0 } },
	{ "ringbuf_not_pow2",
	  0,
	  { "--system-wide", "--ringbuf-security", "98304" },
	  -EINVAL,
	  { "--ringbuf-security", "98304" },
	  { 0 } },
	{ "ringbuf_too_small",
	  0,
	  { "--system-wide", "--ringbuf-security", "8192" },
	  -EINVAL,
	  { "--ringbuf-security", "8192" },
	  { 0 } },
	{ "ringbuf_zero",
	  0,
	  { "--system-wide", "--ringbuf-security", "0" },
	  -EINVAL,
	  { "--ringbuf-security" },
	  { 0 } },
	{ "ringbuf_too_large",
	  0,
	  { "--system-wide", "--ringbuf-security", "536870912" },
	  -EINVAL,
	  { "--ringbuf-security", "536870912" },
	  { 0 } },
	{ "ringbuf_overflow",
	  0,
	  { "--system-wide", "--ringbuf-security", "18446744073709551616" },
	  -EINVAL,
	  { "--ringbuf-security" },
	  { 0 } },
	{ "ringbuf_trailing",
	  0,
	  { "--system-wide", "--ringbuf-security", "65536k" },
	  -EINVAL,
	  { "--ringbuf-security", "65536k" },
	  { 0 } },
	{ "ringbuf_space",
	  0,
	  { "--system-wide", "--ringbuf-security", "65536 " },
	  -EINVAL,
	  { "--ringbuf-security" },
	  { 0 } },
	{ "unknown_long", 0, { "--system-wide", "--bogus" }, -EINVAL, { "--bogus" }, { 0 } },
	{ "unknown_short", 0, { "--system-wide", "-x" }, -EINVAL, { "-x" }, { 0 } },
	{ "unknown_short_cluster_first", 0, { "-xv", "--system-wide" }, -EINVAL, { "-x" }, { 0 } },
	{ "unknown_short_cluster_last", 0, { "-vx", "--system-wide" }, -EINVAL, { "-x" }, { 0 } },
	{ "ambiguous_prefix", 0, { "--system-wide", "--p", "/x" }, -EINVAL, { "--p" }, { 0 } },
	{ "flag_with_value", 0, { "--system-wide=yes" }, -EINVAL, { "--system-wide" }, { 0 } },
	{ "missing_value", 0, { "--system-wide", "--cgroup" }, -EINVAL, { "--cgroup" }, { 0 } },
	{ "missing_value_pin_dir",
	  0,
	  { "--system-wide", "--pin-dir" },
	  -EINVAL,
	  { "--pin-dir" },
	  { 0 } },
	{ "stray_positional", 0, { "--system-wide", "extra" }, -EINVAL, { "extra", "--" }, { 0 } },
	{ "stray_first", 0, { "extra", "--system-wide" }, -EINVAL, { "extra" }, { 0 } },
	{ "stray_after_dashdash_value",
	  0,
	  { "--system-wide", "--user", "--", "extra" },
	  -EINVAL,
	  { "extra" },
	  { 0 } },
	{ "cgroup_too_long", 0, { "--cgroup", TOK_LONG }, -EINVAL, { "--cgroup", "4095" }, { 0 } },
	{ "pin_dir_too_long",
	  0,
	  { "--system-wide", "--pin-dir", TOK_LONG },
	  -EINVAL,
	  { "--pin-dir" },
	  { 0 } },
	{ "processor_too_long",
	  0,
	  { "--system-wide", "--processor", TOK_LONG },
	  -EINVAL,
	  { "--processor" },
	  { 0 } },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* A writable argv the parser may keep pointers into; freed by argv_free. */
struct argv_buf {
	int argc;
	char *argv[ARGV_MAX + 1];
};

static char *long_path(size_t len)
{
	char *p = malloc(len + 1);

	ck_assert_ptr_nonnull(p);
	memset(p, 'a', len);
	p[0] = '/';
	p[len] = '\0';
	return p;
}

static void argv_push(struct argv_buf *b, const char *s)
{
	char *copy;

	ck_assert_int_lt(b->argc, ARGV_MAX);
	if (strcmp(s, TOK_LONG) == 0)
		copy = long_path(LOADER_PATH_MAX);
	else if (strcmp(s, TOK_LONGEST) == 0)
		copy = long_path(LOADER_PATH_MAX - 1);
	else
		copy = strdup(s);
	ck_assert_ptr_nonnull(copy);
	b->argv[b->argc++] = copy;
	b->argv[b->argc] = NULL;
}

static void argv_build(struct argv_buf *b, const struct args_case *c)
{
	char cg[64];

	b->argc = 0;
	argv_push(b, PROG);
	for (int i = 0; i < c->gen_cgroups; i++) {
		snprintf(cg, sizeof(cg), "/sys/fs/cgroup/unified/g%d", i);
		argv_push(b, "--cgroup");
		argv_push(b, cg);
	}
	for (size_t i = 0; i < sizeof(c->args) / sizeof(c->args[0]) && c->args[i]; i++)
		argv_push(b, c->args[i]);
}

static void argv_free(struct argv_buf *b)
{
	for (int i = 0; i < b->argc; i++)
		free(b->argv[i]);
	b->argc = 0;
}

static void check_opts(const struct args_case *c, const struct loader_opts *o,
                       const struct argv_buf *b)
{
	const struct want *w = &c->w;

	ck_assert_uint_eq(o->ncgroups, w->ncgroups);
	for (size_t i = 0; i < o->ncgroups; i++) {
		ck_assert_ptr_nonnull(o->cgroups[i]);
		ck_assert_int_eq(o->cgroups[i][0], '/');
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(o->cgroups[i], o->cgroups[j]);
	}
	if (w->cgroup0)
		ck_assert_str_eq(o->cgroups[0], w->cgroup0);
	ck_assert(o->system_wide == w->system_wide);
	ck_assert(o->keep_pins == w->keep_pins);
	ck_assert(o->verbose == w->verbose);
	ck_assert_str_eq(o->pin_dir, w->pin_dir ? w->pin_dir : LOADER_DEFAULT_PIN_DIR);
	ck_assert_str_eq(o->user, w->user ? w->user : LOADER_DEFAULT_USER);
	if (w->processor)
		ck_assert_str_eq(o->processor, w->processor);
	else
		ck_assert_ptr_null(o->processor);
	ck_assert_uint_eq(o->ringbuf_security,
	                  w->ringbuf ? w->ringbuf : LOADER_DEFAULT_RINGBUF_SEC);

	/* The processor's argv is argv's own tail, NULL-terminated like argv. */
	ck_assert_int_eq(o->processor_argc, w->processor_argc);
	ck_assert_ptr_eq(o->processor_argv, b->argv + b->argc - w->processor_argc);
	ck_assert_ptr_null(o->processor_argv[o->processor_argc]);
	if (w->processor_arg0)
		ck_assert_str_eq(o->processor_argv[0], w->processor_arg0);
}

START_TEST(parse_table)
{
	const struct args_case *c = &cases[_i];
	struct argv_buf b;
	struct loader_opts o;
	char err[ERR_LEN];
	int rc;

	argv_build(&b, c);
	memset(err, 'x', sizeof(err));
	rc = loader_parse_args(b.argc, b.argv, &o, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: got %d, want %d (%s)", c->name, rc, c->rc,
	              memchr(err, '\0', sizeof(err)) ? err : "unterminated");
	ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
	if (rc == 0) {
		ck_assert_msg(err[0] == '\0', "%s: error text on success: %s", c->name, err);
		check_opts(c, &o, &b);
	} else if (rc < 0) {
		ck_assert_msg(err[0] != '\0', "%s: no reason given", c->name);
		ck_assert_ptr_null(strchr(err, '\n'));
		for (size_t i = 0; i < 2 && c->err[i]; i++)
			ck_assert_msg(strstr(err, c->err[i]), "%s: '%s' not named in: %s", c->name,
			              c->err[i], err);
	}
	argv_free(&b);
}
END_TEST

/* A tiny error buffer gets a cut, terminated reason, never an overflow (ASan). */
START_TEST(error_buffer_small)
{
	const struct args_case *c = &cases[_i];
	struct argv_buf b;
	struct loader_opts o;
	char *err = malloc(8);

	if (c->rc >= 0) {
		free(err);
		return;
	}
	ck_assert_ptr_nonnull(err);
	argv_build(&b, c);
	ck_assert_int_eq(loader_parse_args(b.argc, b.argv, &o, err, 8), -EINVAL);
	ck_assert_uint_lt(strnlen(err, 8), 8);
	argv_free(&b);
	free(err);
}
END_TEST

/* getopt keeps global state; each call must start over, even after an error mid-cluster. */
START_TEST(parse_twice)
{
	static const struct args_case first = { .args = { "--cgroup", CG, "--", "a", "b" } };
	static const struct args_case bad = { .args = { "-vx", "--system-wide" }, .rc = -EINVAL };
	static const struct args_case second = { .args = { "-v", "--system-wide" } };
	struct argv_buf b1, b2, b3;
	struct loader_opts o;
	char err[ERR_LEN];

	argv_build(&b1, &first);
	ck_assert_int_eq(loader_parse_args(b1.argc, b1.argv, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.ncgroups, 1);
	ck_assert_int_eq(o.processor_argc, 2);
	ck_assert_str_eq(o.processor_argv[0], "a");

	argv_build(&b2, &bad);
	ck_assert_int_eq(loader_parse_args(b2.argc, b2.argv, &o, err, sizeof(err)), -EINVAL);

	/* Same argv twice in a row: identical results. */
	argv_build(&b3, &second);
	for (int round = 0; round < 2; round++) {
		memset(&o, 0xa5, sizeof(o));
		ck_assert_int_eq(loader_parse_args(b3.argc, b3.argv, &o, err, sizeof(err)), 0);
		ck_assert(o.system_wide);
		ck_assert(o.verbose);
		ck_assert_uint_eq(o.ncgroups, 0);
		ck_assert_int_eq(o.processor_argc, 0);
		ck_assert_ptr_null(o.processor_argv[0]);
	}

	/* And the first again: nothing left over from the later parses. */
	ck_assert_int_eq(loader_parse_args(b1.argc, b1.argv, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.ncgroups, 1);
	ck_assert(!o.verbose);
	ck_assert_int_eq(o.processor_argc, 2);
	argv_free(&b1);
	argv_free(&b2);
	argv_free(&b3);
}
END_TEST

START_TEST(usage_mentions_options)
{
	static const char *const opts[] = { "--cgroup",           "--system-wide", "--pin-dir",
		                            "--keep-pins",        "--user",        "--processor",
		                            "--ringbuf-security", "--verbose",     "--help" };

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		ck_assert_msg(strstr(loader_usage, opts[i]), "usage lacks %s", opts[i]);
}
END_TEST

Suite *args_suite(void)
{
	Suite *s = suite_create("args");
	TCase *t = tcase_create("parse");

	tcase_add_loop_test(t, parse_table, 0, N_CASES);
	tcase_add_loop_test(t, error_buffer_small, 0, N_CASES);
	tcase_add_test(t, parse_twice);
	tcase_add_test(t, usage_mentions_options);
	suite_add_tcase(s, t);
	return s;
}
