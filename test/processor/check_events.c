// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/events.c (events_decode, events_stats,
 * events_format_time).
 *
 * Records are built here field by field from the layouts in bpf/proc.h, not
 * by any code under test. Each case ends exactly at a PROT_NONE page, so a
 * decoder that reads past the record length faults. Valid records are
 * paired with malformed twins (wrong length, unknown kind, lengths beyond
 * their named maxima); hostile but well-sized contents (no NUL, bytes that
 * are not UTF-8) must still become valid JSON, and a secret in argv must not
 * survive anywhere in the serialised object.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <jansson.h>
#include <linux/types.h>

#include "bpf/proc.h"
#include "bpf/stats.h"
#include "processor/events.h"
#include "processor/scrub.h"
#include "processor/scrub_txn.h"

Suite *events_suite(void);

#define EXEC_LEN     ((uint32_t)sizeof(struct proc_exec))
#define EXIT_LEN     ((uint32_t)sizeof(struct proc_hdr))
#define TS_BOOT      2000000000ull /* event: 2 s after boot */
#define START_BOOT   1000000000ull /* process start: 1 s after boot */
#define BOOT_TO_REAL (1700000000123456789ll - (int64_t)TS_BOOT)
#define EVENT_TIME   "2023-11-14T22:13:20.123456789Z"
#define START_TIME   "2023-11-14T22:13:19.123456789Z"
#define SECRET       "hunter2"
#define ARGS         "true\0--password\0" SECRET "\0"
#define FFFD         "\xef\xbf\xbd"
#define NO_POISON    ((json_t *)(uintptr_t)0x1)

/* ---- record builders ---- */

static void fill_hdr(struct proc_hdr *h, __u32 kind)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->ts_boot_ns = TS_BOOT;
	h->start_boot_ns = START_BOOT;
	h->cgroup_id = 0x1234;
	h->pid = 4242;
	h->tid = 4243;
	h->ppid = 1;
	h->uid = 1000;
	h->gid = 1001;
	memcpy(h->comm, "true", 5);
}

static void make_exec(struct proc_exec *e)
{
	memset(e, 0, sizeof(*e));
	fill_hdr(&e->hdr, PROC_EXEC);
	memcpy(e->filename, "/usr/bin/true", sizeof("/usr/bin/true"));
	e->filename_len = sizeof("/usr/bin/true") - 1;
	memcpy(e->args, ARGS, sizeof(ARGS) - 1);
	e->args_len = sizeof(ARGS) - 1;
}

/* ---- mutations: each turns the base record into one case ---- */

static void m_none(struct proc_exec *e, uint32_t *len)
{
	(void)e, (void)len;
}

static void m_flags(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.flags = PROC_F_ARGS_TRUNCATED | PROC_F_ARGS_FAULT | PROC_F_FILENAME_TRUNCATED;
}

static void m_filename_longest(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	memset(e->filename, 'f', PROC_FILENAME_MAX); /* and no NUL at all */
	e->filename[0] = '/';
	e->filename_len = PROC_FILENAME_MAX - 1;
}

static void m_filename_short_len(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->filename_len = 8; /* "/usr/bin" of "/usr/bin/true" */
}

static void m_filename_len_max(struct proc_exec *e, uint32_t *len)
{
	m_filename_longest(e, len);
	e->filename_len = PROC_FILENAME_MAX;
}

static void m_filename_len_huge(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->filename_len = UINT32_MAX;
}

static void m_args_full_no_nul(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	memset(e->args, 'a', PROC_ARGS_MAX);
	e->args_len = PROC_ARGS_MAX;
}

static void m_args_two_no_final_nul(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	memset(e->args, 'b', PROC_ARGS_MAX);
	e->args[0] = 'x';
	e->args[1] = '\0';
	e->args_len = PROC_ARGS_MAX;
}

static void m_args_secret_at_end(struct proc_exec *e, uint32_t *len)
{
	static const char tail[] = "--password\0" SECRET; /* no final NUL: cut by the kernel */
	size_t n = sizeof(tail) - 1;

	(void)len;
	memset(e->args, 'a', PROC_ARGS_MAX);
	e->args[PROC_ARGS_MAX - n - 1] = '\0';
	memcpy(e->args + PROC_ARGS_MAX - n, tail, n);
	e->args_len = PROC_ARGS_MAX;
}

static void m_args_empty(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->args_len = 0;
}

static void m_args_len_over(struct proc_exec *e, uint32_t *len)
{
	m_args_full_no_nul(e, len);
	e->args_len = PROC_ARGS_MAX + 1;
}

static void m_args_len_huge(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->args_len = UINT32_MAX;
}

static void m_comm_no_nul(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	memset(e->hdr.comm, 'c', PROC_COMM_LEN);
}

static void m_not_utf8(struct proc_exec *e, uint32_t *len)
{
	static const char args[] = "\x80"
	                           "abc\0--x=\xc0\xaf\0\xed\xa0\x80\0";

	(void)len;
	memcpy(e->hdr.comm, "t\xff\xfe", 4);
	memcpy(e->filename, "/bin/\xc3(\xf4\x90\x80\x80", 11);
	e->filename_len = 10;
	memcpy(e->args, args, sizeof(args) - 1);
	e->args_len = sizeof(args) - 1;
}

static void m_kind_zero(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.kind = 0;
}

static void m_kind_three(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.kind = 3;
}

static void m_kind_huge(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.kind = UINT32_MAX;
}

static void m_kind_exit(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.kind = PROC_EXIT;
}

static void m_kind_exec(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.kind = PROC_EXEC;
}

static void m_exit_code_3(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.exit_code = 3 << 8;
}

static void m_exit_signal_9(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.exit_code = 9;
}

static void m_exit_core_11(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.exit_code = 0x80 | 11; /* core dumped */
}

static void m_exit_start_after_event(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.start_boot_ns = TS_BOOT + 1;
}

/* Timestamps are the kernel's word: huge ones must not overflow the arithmetic. */
static void m_huge_times(struct proc_exec *e, uint32_t *len)
{
	(void)len;
	e->hdr.ts_boot_ns = INT64_MAX;
	e->hdr.start_boot_ns = INT64_MAX - 5;
}

static void m_len_minus_1(struct proc_exec *e, uint32_t *len)
{
	(void)e;
	(*len)--;
}

static void m_len_plus_8(struct proc_exec *e, uint32_t *len)
{
	(void)e;
	*len += 8;
}

/* ---- JSON checks ---- */

static void expect_str(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "%s: not a string", key);
	ck_assert_str_eq(json_string_value(v), want);
}

static void expect_int(json_t *o, const char *key, json_int_t want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s: not an integer", key);
	ck_assert_msg(json_integer_value(v) == want, "%s: %lld, want %lld", key,
	              (long long)json_integer_value(v), (long long)want);
}

static void expect_absent(json_t *o, const char *key)
{
	ck_assert_msg(json_object_get(o, key) == NULL, "%s present", key);
}

static const char *arg_at(json_t *o, size_t i)
{
	json_t *v = json_array_get(json_object_get(o, "args"), i);

	ck_assert_msg(json_is_string(v), "args[%zu]: not a string", i);
	return json_string_value(v);
}

static void expect_nargs(json_t *o, size_t n)
{
	json_t *a = json_object_get(o, "args");

	ck_assert(json_is_array(a));
	ck_assert_uint_eq(json_array_size(a), n);
}

static void check_hdr(json_t *o, const char *comm)
{
	expect_str(o, "time", EVENT_TIME);
	expect_str(o, "process_start_time", START_TIME);
	expect_int(o, "pid", 4242);
	expect_int(o, "tid", 4243);
	expect_int(o, "ppid", 1);
	expect_int(o, "uid", 1000);
	expect_int(o, "gid", 1001);
	expect_int(o, "cgroup_id", 0x1234);
	if (comm)
		expect_str(o, "comm", comm);
}

static void c_exec(json_t *o)
{
	expect_str(o, "kind", "exec");
	check_hdr(o, "true");
	expect_str(o, "filename", "/usr/bin/true");
	expect_nargs(o, 3);
	ck_assert_str_eq(arg_at(o, 0), "true");
	ck_assert_str_eq(arg_at(o, 1), "--password");
	ck_assert_str_eq(arg_at(o, 2), SCRUB_MARK);
	ck_assert(json_is_false(json_object_get(o, "args_truncated")));
	expect_absent(o, "args_unreadable");
	expect_absent(o, "filename_truncated");
	expect_absent(o, "exit_code");
	ck_assert_uint_eq(json_object_size(o), 13);
}

static void c_flags(json_t *o)
{
	expect_str(o, "kind", "exec");
	ck_assert(json_is_true(json_object_get(o, "args_truncated")));
	ck_assert(json_is_true(json_object_get(o, "args_unreadable")));
	ck_assert(json_is_true(json_object_get(o, "filename_truncated")));
}

static void c_filename_longest(json_t *o)
{
	const char *f = json_string_value(json_object_get(o, "filename"));

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(strlen(f), PROC_FILENAME_MAX - 1);
	ck_assert_int_eq(f[0], '/');
	ck_assert_uint_eq(strspn(f + 1, "f"), PROC_FILENAME_MAX - 2);
}

static void c_filename_short_len(json_t *o)
{
	expect_str(o, "filename", "/usr/bin");
}

static void c_args_full_no_nul(json_t *o)
{
	expect_nargs(o, 1);
	ck_assert_uint_eq(strlen(arg_at(o, 0)), PROC_ARGS_MAX);
	ck_assert_uint_eq(strspn(arg_at(o, 0), "a"), PROC_ARGS_MAX);
}

static void c_args_two_no_final_nul(json_t *o)
{
	expect_nargs(o, 2);
	ck_assert_str_eq(arg_at(o, 0), "x");
	ck_assert_uint_eq(strlen(arg_at(o, 1)), PROC_ARGS_MAX - 2);
}

static void c_args_secret_at_end(json_t *o)
{
	expect_nargs(o, 3);
	ck_assert_str_eq(arg_at(o, 1), "--password");
	ck_assert_str_eq(arg_at(o, 2), SCRUB_MARK);
}

static void c_args_empty(json_t *o)
{
	expect_nargs(o, 0);
}

static void c_comm_no_nul(json_t *o)
{
	expect_str(o, "comm", "cccccccccccccccc");
}

static void c_not_utf8(json_t *o)
{
	char *ascii = json_dumps(o, JSON_ENSURE_ASCII);

	expect_str(o, "comm", "t" FFFD FFFD);
	expect_str(o, "filename", "/bin/" FFFD "(" FFFD FFFD FFFD); /* len cuts the last byte */
	expect_nargs(o, 3);
	ck_assert_str_eq(arg_at(o, 0), FFFD "abc");
	ck_assert_str_eq(arg_at(o, 1), "--x=" FFFD FFFD);
	ck_assert_str_eq(arg_at(o, 2), FFFD FFFD FFFD);
	ck_assert_ptr_nonnull(ascii);
	ck_assert_ptr_nonnull(strcasestr(ascii, "\\ufffd"));
	free(ascii);
}

static void c_exit_code_3(json_t *o)
{
	expect_str(o, "kind", "exit");
	check_hdr(o, "true");
	expect_int(o, "exit_code", 3);
	expect_int(o, "exit_signal", 0);
	expect_int(o, "duration_ns", (json_int_t)(TS_BOOT - START_BOOT));
	expect_absent(o, "args");
	expect_absent(o, "filename");
}

static void c_exit_signal_9(json_t *o)
{
	expect_str(o, "kind", "exit");
	expect_int(o, "exit_code", 0);
	expect_int(o, "exit_signal", 9);
}

static void c_exit_core_11(json_t *o)
{
	expect_int(o, "exit_code", 0);
	expect_int(o, "exit_signal", 11);
}

static void c_exit_start_after_event(json_t *o)
{
	expect_str(o, "kind", "exit");
	expect_absent(o, "duration_ns");
}

static void c_huge_times(json_t *o)
{
	const char *t = json_string_value(json_object_get(o, "time"));

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t[strlen(t) - 1], 'Z');
	ck_assert(json_is_string(json_object_get(o, "process_start_time")));
	if (json_object_get(o, "exit_code"))
		expect_int(o, "duration_ns", 5);
}

/* ---- the table ---- */

struct event_case {
	const char *name;
	__u32 kind; /* base record: PROC_EXEC (struct proc_exec) or PROC_EXIT (proc_hdr) */
	void (*mutate)(struct proc_exec *e, uint32_t *len);
	int rc;
	void (*check)(json_t *o);
};

static const struct event_case cases[] = {
	{ "exec", PROC_EXEC, m_none, 0, c_exec },
	{ "exec_flags", PROC_EXEC, m_flags, 0, c_flags },
	{ "exec_filename_longest", PROC_EXEC, m_filename_longest, 0, c_filename_longest },
	{ "exec_filename_len_short", PROC_EXEC, m_filename_short_len, 0, c_filename_short_len },
	{ "exec_args_full_no_nul", PROC_EXEC, m_args_full_no_nul, 0, c_args_full_no_nul },
	{ "exec_args_two_no_final_nul", PROC_EXEC, m_args_two_no_final_nul, 0,
	  c_args_two_no_final_nul },
	{ "exec_args_secret_at_end", PROC_EXEC, m_args_secret_at_end, 0, c_args_secret_at_end },
	{ "exec_args_empty", PROC_EXEC, m_args_empty, 0, c_args_empty },
	{ "exec_comm_no_nul", PROC_EXEC, m_comm_no_nul, 0, c_comm_no_nul },
	{ "exec_not_utf8", PROC_EXEC, m_not_utf8, 0, c_not_utf8 },
	{ "exit_code", PROC_EXIT, m_exit_code_3, 0, c_exit_code_3 },
	{ "exit_signal", PROC_EXIT, m_exit_signal_9, 0, c_exit_signal_9 },
	{ "exit_core", PROC_EXIT, m_exit_core_11, 0, c_exit_core_11 },
	{ "exit_start_after_event", PROC_EXIT, m_exit_start_after_event, 0,
	  c_exit_start_after_event },
	{ "exit_comm_no_nul", PROC_EXIT, m_comm_no_nul, 0, c_comm_no_nul },
	{ "exec_huge_times", PROC_EXEC, m_huge_times, 0, c_huge_times },
	{ "exit_huge_times", PROC_EXIT, m_huge_times, 0, c_huge_times },

	/* malformed twins */
	{ "exec_filename_len_max", PROC_EXEC, m_filename_len_max, -EBADMSG, NULL },
	{ "exec_filename_len_huge", PROC_EXEC, m_filename_len_huge, -EBADMSG, NULL },
	{ "exec_args_len_over", PROC_EXEC, m_args_len_over, -EBADMSG, NULL },
	{ "exec_args_len_huge", PROC_EXEC, m_args_len_huge, -EBADMSG, NULL },
	{ "exec_kind_zero", PROC_EXEC, m_kind_zero, -EBADMSG, NULL },
	{ "exec_kind_three", PROC_EXEC, m_kind_three, -EBADMSG, NULL },
	{ "exec_kind_huge", PROC_EXEC, m_kind_huge, -EBADMSG, NULL },
	{ "exec_sized_kind_exit", PROC_EXEC, m_kind_exit, -EBADMSG, NULL },
	{ "exit_sized_kind_exec", PROC_EXIT, m_kind_exec, -EBADMSG, NULL },
	{ "exit_kind_three", PROC_EXIT, m_kind_three, -EBADMSG, NULL },
	{ "exec_short_by_one", PROC_EXEC, m_len_minus_1, -EBADMSG, NULL },
	{ "exec_long_by_8", PROC_EXEC, m_len_plus_8, -EBADMSG, NULL },
	{ "exit_short_by_one", PROC_EXIT, m_len_minus_1, -EBADMSG, NULL },
	{ "exit_long_by_8", PROC_EXIT, m_len_plus_8, -EBADMSG, NULL },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* ---- harness ---- */

struct guard {
	unsigned char *base;
	size_t page;
};

static struct guard guard_map(void)
{
	struct guard g = { .page = (size_t)sysconf(_SC_PAGESIZE) };

	ck_assert_uint_ge(g.page, EXEC_LEN + 8);
	g.base = mmap(NULL, 2 * g.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g.base, MAP_FAILED);
	ck_assert_int_eq(mprotect(g.base + g.page, g.page, PROT_NONE), 0);
	return g;
}

/* @len bytes of @rec ending exactly at the PROT_NONE page. */
static const void *guard_place(const struct guard *g, const void *rec, uint32_t len)
{
	unsigned char *at = g->base + g->page - len;

	memcpy(at, rec, len);
	return at;
}

static void guard_unmap(struct guard *g)
{
	ck_assert_int_eq(munmap(g->base, 2 * g->page), 0);
}

static struct events_ctx new_ctx(void)
{
	struct events_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.boot_to_real_ns = BOOT_TO_REAL;
	return ctx;
}

/* Decode and check the counters move as the result says. */
static int decode(struct events_ctx *ctx, const void *rec, uint32_t len, json_t **out)
{
	struct events_ctx before = *ctx;
	int rc;

	*out = NO_POISON;
	rc = events_decode(ctx, rec, len, out);
	ck_assert_uint_eq(ctx->records, before.records + 1);
	if (rc < 0) {
		ck_assert_ptr_null(*out);
		ck_assert_uint_eq(ctx->malformed, before.malformed + (rc == -EBADMSG));
		ck_assert_uint_eq(ctx->exec, before.exec);
		ck_assert_uint_eq(ctx->exit, before.exit);
		return rc;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(*out);
	ck_assert(json_is_object(*out));
	ck_assert_uint_eq(ctx->malformed, before.malformed);
	ck_assert_uint_eq(ctx->exec + ctx->exit, before.exec + before.exit + 1);
	return rc;
}

START_TEST(decode_table)
{
	const struct event_case *c = &cases[_i];
	struct events_ctx ctx = new_ctx();
	struct guard g = guard_map();
	unsigned char buf[EXEC_LEN + 8] = { 0 };
	struct proc_exec e;
	uint32_t len = c->kind == PROC_EXEC ? EXEC_LEN : EXIT_LEN;
	json_t *o;
	char *text;
	int rc;

	make_exec(&e);
	e.hdr.kind = c->kind;
	c->mutate(&e, &len);
	ck_assert_uint_le(len, sizeof(buf));
	memcpy(buf, &e, sizeof(e));
	rc = decode(&ctx, guard_place(&g, buf, len), len, &o);
	ck_assert_msg(rc == c->rc, "%s: got %d, want %d", c->name, rc, c->rc);
	if (rc == 0) {
		ck_assert_uint_eq(c->kind == PROC_EXEC ? ctx.exec : ctx.exit, 1);
		text = json_dumps(o, JSON_COMPACT);
		ck_assert_msg(text, "%s: json_dumps failed", c->name);
		ck_assert_msg(!strstr(text, SECRET), "%s: secret in %s", c->name, text);
		free(text);
		c->check(o);
		json_decref(o);
	} else {
		ck_assert_uint_eq(ctx.malformed, 1);
	}
	guard_unmap(&g);
}
END_TEST

/* Every length from 0 to past the largest record that is not its kind's size. */
START_TEST(decode_every_length)
{
	struct events_ctx ctx = new_ctx();
	struct guard g = guard_map();
	unsigned char buf[EXEC_LEN + 8];
	struct proc_exec e;
	uint64_t rejected = 0;
	json_t *o;

	for (int k = 0; k < 2; k++) {
		__u32 kind = k ? PROC_EXIT : PROC_EXEC;
		uint32_t valid = k ? EXIT_LEN : EXEC_LEN;

		make_exec(&e);
		e.hdr.kind = kind;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &e, sizeof(e));
		for (uint32_t len = 0; len <= EXEC_LEN + 8; len++) {
			int rc = decode(&ctx, guard_place(&g, buf, len), len, &o);

			if (len == valid) {
				ck_assert_int_eq(rc, 0);
				json_decref(o);
				continue;
			}
			ck_assert_msg(rc == -EBADMSG, "kind %u len %u: %d", kind, len, rc);
			rejected++;
		}
	}
	ck_assert_uint_eq(ctx.malformed, rejected);
	ck_assert_uint_eq(ctx.records, rejected + 2);
	ck_assert_uint_eq(ctx.exec, 1);
	ck_assert_uint_eq(ctx.exit, 1);
	guard_unmap(&g);
}
END_TEST

/* Many records through one context: the static argv buffers carry nothing over. */
START_TEST(decode_sequence)
{
	struct events_ctx ctx = new_ctx();
	struct proc_exec e, big;
	uint32_t len = EXEC_LEN;
	json_t *o;

	make_exec(&big);
	m_args_full_no_nul(&big, &len);
	make_exec(&e);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(decode(&ctx, &big, EXEC_LEN, &o), 0);
		json_decref(o);
		ck_assert_int_eq(decode(&ctx, &e, EXEC_LEN, &o), 0);
		c_exec(o);
		json_decref(o);
	}
	ck_assert_uint_eq(ctx.exec, 8);
	ck_assert_uint_eq(ctx.scrub.hits[SCRUB_NEXT_ARG], 4);
}
END_TEST

struct time_case {
	int64_t ns;
	const char *want;
};

static const struct time_case times[] = {
	{ 0, "1970-01-01T00:00:00.000000000Z" },
	{ 1, "1970-01-01T00:00:00.000000001Z" },
	{ 999999999, "1970-01-01T00:00:00.999999999Z" },
	{ 1700000000123456789ll, "2023-11-14T22:13:20.123456789Z" },
	{ -1, "1969-12-31T23:59:59.999999999Z" },
	{ -1000000000, "1969-12-31T23:59:59.000000000Z" },
	{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
	{ INT64_MIN, "1677-09-21T00:12:43.145224192Z" },
};

START_TEST(format_time_table)
{
	const struct time_case *c = &times[_i];
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	events_format_time(c->ns, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->want);
}
END_TEST

/* A short buffer gets a terminated prefix, never an overflow (ASan). */
START_TEST(format_time_short_buffer)
{
	const char *want = "2023-11-14T22:13:20.123456789Z";

	for (size_t len = 1; len <= strlen(want) + 1; len++) {
		char *buf = malloc(len);

		ck_assert_ptr_nonnull(buf);
		events_format_time(1700000000123456789ll, buf, len);
		ck_assert_uint_eq(strlen(buf), len - 1);
		ck_assert_mem_eq(buf, want, len - 1);
		free(buf);
	}
}
END_TEST

static const char *const kernel_names[STAT_COUNT] = {
	"security_events_submitted",
	"security_events_dropped_ringbuf_full",
	"exec_args_truncated",
	"exec_args_unreadable",
	"exec_filename_truncated",
	"exec_filename_unreadable",
	"events_out_of_scope",
	"l7_records_submitted",
	"l7_records_dropped_ringbuf_full",
	"l7_payload_truncated",
	"l7_state_dropped_map_full",
	"l7_filtered_port_comm",
	"l7_packets_not_tcp",
	"tls_records_dropped_ringbuf_full",
	"tls_calls_out_of_scope",
};

static void check_stats(json_t *st, const struct events_ctx *ctx, const uint64_t *k, size_t nk)
{
	json_t *kern = json_object_get(st, "kernel");
	json_t *proc = json_object_get(st, "processor");
	json_t *scrub = json_object_get(json_object_get(proc, "scrub"), "rules");

	expect_str(st, "kind", "stats");
	expect_str(st, "time", EVENT_TIME);
	ck_assert(json_is_object(kern));
	ck_assert_uint_eq(json_object_size(kern), nk < STAT_COUNT ? nk : STAT_COUNT);
	for (size_t i = 0; i < nk && i < STAT_COUNT; i++)
		expect_int(kern, kernel_names[i], (json_int_t)k[i]);
	ck_assert(json_is_object(proc));
	expect_int(proc, "records", (json_int_t)ctx->records);
	expect_int(proc, "exec_events", (json_int_t)ctx->exec);
	expect_int(proc, "exit_events", (json_int_t)ctx->exit);
	expect_int(proc, "records_malformed", (json_int_t)ctx->malformed);
	/* one "scrub" object: the argument rules, the transaction rules, the detectors */
	ck_assert(json_is_object(scrub));
	ck_assert_uint_eq(json_object_size(scrub), SCRUB_RULES + SR__COUNT);
	for (int r = 0; r < SCRUB_RULES; r++)
		expect_int(scrub, scrub_rule_names[r], (json_int_t)ctx->scrub.hits[r]);
	for (int r = 0; r < SR__COUNT; r++)
		ck_assert(json_is_integer(json_object_get(scrub, scrub_txn_rule_names[r])));
	ck_assert_uint_eq(
	        json_object_size(json_object_get(json_object_get(proc, "scrub"), "detectors")),
	        DET__COUNT);
}

START_TEST(stats_object)
{
	static const size_t nks[] = { STAT_COUNT, STAT_SLOTS, 3, 0 };
	volatile uint64_t kv[STAT_SLOTS];
	uint64_t k[STAT_SLOTS];
	struct events_ctx ctx = new_ctx();

	for (size_t i = 0; i < STAT_SLOTS; i++)
		kv[i] = k[i] = 1000 + i;
	ctx.records = 10;
	ctx.exec = 4;
	ctx.exit = 3;
	ctx.malformed = 2;
	for (int r = 0; r < SCRUB_RULES; r++)
		ctx.scrub.hits[r] = 100u + (unsigned int)r;
	for (size_t n = 0; n < sizeof(nks) / sizeof(nks[0]); n++) {
		json_t *st = events_stats(&ctx, kv, nks[n], 1700000000123456789ll);

		ck_assert_ptr_nonnull(st);
		check_stats(st, &ctx, k, nks[n]);
		json_decref(st);
	}
}
END_TEST

/* Counters from real decodes show up in the stats record. */
START_TEST(stats_after_decode)
{
	volatile uint64_t kv[STAT_SLOTS] = { 0 };
	uint64_t k[STAT_SLOTS] = { 0 };
	struct events_ctx ctx = new_ctx();
	struct proc_exec e;
	json_t *o, *st;

	make_exec(&e);
	ck_assert_int_eq(decode(&ctx, &e, EXEC_LEN, &o), 0);
	json_decref(o);
	e.hdr.kind = PROC_EXIT;
	ck_assert_int_eq(decode(&ctx, &e, EXIT_LEN, &o), 0);
	json_decref(o);
	ck_assert_int_eq(decode(&ctx, &e, EXIT_LEN - 1, &o), -EBADMSG);
	st = events_stats(&ctx, kv, STAT_COUNT, 1700000000123456789ll);
	ck_assert_ptr_nonnull(st);
	check_stats(st, &ctx, k, STAT_COUNT);
	expect_int(json_object_get(json_object_get(json_object_get(st, "processor"), "scrub"),
	                           "rules"),
	           "arg_after_secret_flag", 1);
	expect_int(json_object_get(st, "processor"), "records", 3);
	expect_int(json_object_get(st, "processor"), "records_malformed", 1);
	json_decref(st);
}
END_TEST

Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *dec = tcase_create("decode");
	TCase *misc = tcase_create("stats_time");

	tcase_add_loop_test(dec, decode_table, 0, N_CASES);
	tcase_add_test(dec, decode_every_length);
	tcase_add_test(dec, decode_sequence);
	suite_add_tcase(s, dec);

	tcase_add_loop_test(misc, format_time_table, 0, (int)(sizeof(times) / sizeof(times[0])));
	tcase_add_test(misc, format_time_short_buffer);
	tcase_add_test(misc, stats_object);
	tcase_add_test(misc, stats_after_decode);
	suite_add_tcase(s, misc);
	return s;
}
