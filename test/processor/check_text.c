// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/text.c (text_utf8).
 *
 * Every string the kernel hands the processor (comm, filename, argv) goes
 * through text_utf8() before it reaches JSON, so its output must be valid
 * UTF-8 whatever the input, and it must never read past @len. The table pairs
 * each valid sequence with its malformed twins (one U+FFFD per byte that does
 * not start a valid sequence, as text.h documents); the validator below is
 * written from Unicode's table of well-formed byte sequences, independently
 * of text.c, and judges random inputs.
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

#include "processor/text.h"

Suite *text_suite(void);

#define R           "\xef\xbf\xbd" /* U+FFFD */
#define FUZZ_RUNS   10000
#define FUZZ_IN_MAX 64
#define OUT_MAX     (3 * FUZZ_IN_MAX + 1)

struct text_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define T(name, in, want)                                                                          \
	{                                                                                          \
		name, in, sizeof(in) - 1, want                                                     \
	}

static const struct text_case cases[] = {
	T("ascii", "hello, world", "hello, world"),
	T("ascii_controls", "a\tb\x01\x7f", "a\tb\x01\x7f"),
	T("two_byte", "caf\xc3\xa9", "caf\xc3\xa9"),
	T("two_byte_lowest", "\xc2\x80", "\xc2\x80"),
	T("two_byte_highest", "\xdf\xbf", "\xdf\xbf"),
	T("three_byte", "\xe2\x82\xac", "\xe2\x82\xac"),
	T("three_byte_lowest", "\xe0\xa0\x80", "\xe0\xa0\x80"),
	T("three_byte_below_surrogates", "\xed\x9f\xbf", "\xed\x9f\xbf"),
	T("three_byte_above_surrogates", "\xee\x80\x80", "\xee\x80\x80"),
	T("three_byte_highest", "\xef\xbf\xbf", "\xef\xbf\xbf"),
	T("replacement_char_itself", R, R),
	T("four_byte", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
	T("four_byte_lowest", "\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),
	T("four_byte_highest", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
	T("mixed_valid", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z",
	  "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"),

	/* malformed twins: one U+FFFD for every byte that starts no valid sequence */
	T("lone_continuation", "\x80", R),
	T("lone_continuation_high",
	  "a\xbf"
	  "b",
	  "a" R "b"),
	T("byte_ff", "\xff", R),
	T("byte_fe", "\xfe", R),
	T("overlong_two_c0", "\xc0\xaf", R R),
	T("overlong_two_c1", "\xc1\xbf", R R),
	T("overlong_three", "\xe0\x80\xaf", R R R),
	T("overlong_three_max", "\xe0\x9f\xbf", R R R),
	T("overlong_four", "\xf0\x8f\xbf\xbf", R R R R),
	T("surrogate_high", "\xed\xa0\x80", R R R),
	T("surrogate_low", "\xed\xbf\xbf", R R R),
	T("above_max", "\xf4\x90\x80\x80", R R R R),
	T("lead_f5", "\xf5\x80\x80\x80", R R R R),
	T("truncated_two_at_end", "a\xc3", "a" R),
	T("truncated_three_at_end", "a\xe2\x82", "a" R R),
	T("truncated_four_at_end", "a\xf0\x9f\x98", "a" R R R),
	T("truncated_two_mid",
	  "\xc3"
	  "a",
	  R "a"),
	T("truncated_three_mid",
	  "\xe2\x82"
	  "a",
	  R R "a"),
	T("lead_then_lead", "\xc3\xc3\xa9", R "\xc3\xa9"),
	T("mixed_invalid",
	  "a\xff"
	  "b\xc3\xa9"
	  "c",
	  "a" R "b\xc3\xa9"
	  "c"),

	/* NUL and @len bound the input */
	T("embedded_nul", "ab\0cd", "ab"),
	T("nul_first", "\0abc", ""),
	T("nul_inside_sequence", "\xc3\0\xa9", R),
	{ "len_zero", "abc", 0, "" },
	{ "len_cuts_ascii", "abcdef", 3, "abc" },
	{ "len_cuts_sequence", "\xc3\xa9", 1, R },
	{ "len_cuts_four_byte", "\xf0\x9f\x98\x80", 3, R R R },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* Unicode 15, table 3-7 (well-formed UTF-8 byte sequences); NUL is not allowed. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t len;

		if (b == 0)
			return false;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			len = 2;
		else if (b >= 0xe0 && b <= 0xef)
			len = 3;
		else if (b >= 0xf0 && b <= 0xf4)
			len = 4;
		else
			return false;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += len;
	}
	return true;
}

/* Byte length of the (valid) character starting with @b. */
static size_t char_len(unsigned char b)
{
	return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/* The longest whole-character prefix of valid @want that fits in @room bytes. */
static size_t fit(const char *want, size_t room)
{
	size_t n = 0, len = strlen(want);

	while (n < len && n + char_len((unsigned char)want[n]) <= room)
		n += char_len((unsigned char)want[n]);
	return n;
}

/* Run text_utf8 into a heap buffer of exactly @cap bytes, so ASan sees overruns. */
static size_t convert(const char *in, size_t len, size_t cap, char *copy_out)
{
	char *out = malloc(cap);
	size_t n;

	ck_assert_ptr_nonnull(out);
	memset(out, 0x5a, cap);
	n = text_utf8(in, len, out, cap);
	ck_assert_uint_lt(n, cap);
	ck_assert_int_eq(out[n], '\0');
	ck_assert_uint_eq(strlen(out), n);
	ck_assert_msg(utf8_valid((const unsigned char *)out, n), "invalid UTF-8 out");
	memcpy(copy_out, out, n + 1);
	free(out);
	return n;
}

/* Two pages, the second PROT_NONE: input placed at the end of the first. */
struct guard {
	unsigned char *base;
	size_t page;
};

static struct guard guard_map(void)
{
	struct guard g = { .page = (size_t)sysconf(_SC_PAGESIZE) };

	g.base = mmap(NULL, 2 * g.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g.base, MAP_FAILED);
	ck_assert_int_eq(mprotect(g.base + g.page, g.page, PROT_NONE), 0);
	return g;
}

static const char *guard_place(const struct guard *g, const void *in, size_t len)
{
	unsigned char *at = g->base + g->page - len;

	ck_assert_uint_le(len, g->page);
	memcpy(at, in, len);
	return (const char *)at;
}

static void guard_unmap(struct guard *g)
{
	ck_assert_int_eq(munmap(g->base, 2 * g->page), 0);
}

START_TEST(convert_table)
{
	const struct text_case *c = &cases[_i];
	char out[OUT_MAX];
	size_t n = convert(c->in, c->len, sizeof(out), out);

	ck_assert_msg(strcmp(out, c->want) == 0, "%s: wrong output", c->name);
	ck_assert_uint_eq(n, strlen(c->want));
}
END_TEST

/* Every cap from 1 up: a whole-character prefix, never half a sequence. */
START_TEST(convert_every_cap)
{
	const struct text_case *c = &cases[_i];
	size_t full = strlen(c->want);
	char out[OUT_MAX];

	for (size_t cap = 1; cap <= full + 1; cap++) {
		size_t want = fit(c->want, cap - 1);
		size_t n = convert(c->in, c->len, cap, out);

		ck_assert_msg(n == want, "%s: cap %zu gave %zu bytes, want %zu", c->name, cap, n,
		              want);
		ck_assert_mem_eq(out, c->want, n);
	}
}
END_TEST

/* Input ending exactly at a PROT_NONE page, every prefix of it: no over-read. */
START_TEST(convert_at_guard_page)
{
	const struct text_case *c = &cases[_i];
	struct guard g = guard_map();
	char out[OUT_MAX];

	for (size_t len = 0; len <= c->len; len++) {
		const char *in = guard_place(&g, c->in, len);

		convert(in, len, sizeof(out), out);
		if (len == c->len)
			ck_assert_str_eq(out, c->want);
	}
	guard_unmap(&g);
}
END_TEST

/* Long runs of each kind ending at the guard page, with no NUL to stop at. */
START_TEST(long_input_at_guard_page)
{
	static const char *const units[] = {
		"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xf0\x9f\x98"
	};
	struct guard g = guard_map();
	char *src = malloc(g.page), *out = malloc(3 * g.page + 1);

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(out);
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ul = strlen(units[u]);

		for (size_t i = 0; i < g.page; i++)
			src[i] = units[u][i % ul];
		for (size_t len = g.page - 8; len <= g.page; len++) {
			const char *in = guard_place(&g, src + g.page - len, len);
			size_t n = text_utf8(in, len, out, 3 * g.page + 1);

			ck_assert_int_eq(out[n], '\0');
			ck_assert(utf8_valid((const unsigned char *)out, n));
		}
	}
	free(out);
	free(src);
	guard_unmap(&g);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Mostly bytes that matter to UTF-8 (leads, limits, continuations), some random. */
static unsigned char fuzz_byte(void)
{
	static const unsigned char edge[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
		                              0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
		                              0xf0, 0xf4, 0xf5, 0xf8, 0xfe, 0xff };
	uint32_t r = rng();

	if (r % 4 == 0)
		return (unsigned char)(r >> 8);
	return edge[(r >> 8) % sizeof(edge)];
}

/*
 * Random byte strings: the output is always valid UTF-8, NUL-terminated
 * within cap; and with room to spare, input that is already valid up to its
 * first NUL comes out unchanged.
 */
START_TEST(fuzz_random)
{
	unsigned char in[FUZZ_IN_MAX];
	char out[OUT_MAX];
	struct guard g = guard_map();

	for (int run = 0; run < FUZZ_RUNS; run++) {
		size_t len = rng() % (FUZZ_IN_MAX + 1);
		size_t cap = 1 + rng() % OUT_MAX;
		const char *at;
		size_t n, plain;

		for (size_t i = 0; i < len; i++)
			in[i] = fuzz_byte();
		at = guard_place(&g, in, len);
		n = convert(at, len, cap, out);
		ck_assert_uint_lt(n, cap);
		plain = strnlen((const char *)in, len);
		if (plain < cap && utf8_valid(in, plain)) {
			ck_assert_uint_eq(n, plain);
			ck_assert_mem_eq(out, in, plain);
		}
	}
	guard_unmap(&g);
}
END_TEST

/* With the largest output, everything up to the first NUL is accounted for. */
START_TEST(fuzz_full_cap)
{
	unsigned char in[FUZZ_IN_MAX];
	char out[OUT_MAX];

	for (int run = 0; run < FUZZ_RUNS; run++) {
		size_t len = rng() % (FUZZ_IN_MAX + 1), plain;
		size_t n;

		for (size_t i = 0; i < len; i++)
			in[i] = fuzz_byte();
		plain = strnlen((const char *)in, len);
		n = convert((const char *)in, len, sizeof(out), out);
		/* Each input byte yields at most 3 output bytes, each kept byte at least 1. */
		ck_assert_uint_le(n, 3 * plain);
		ck_assert_uint_ge(n, plain);
		if (utf8_valid(in, plain))
			ck_assert_mem_eq(out, in, plain);
	}
}
END_TEST

/* The validator agrees with the table: an input is valid iff it comes out unchanged. */
START_TEST(validator_self_check)
{
	for (int i = 0; i < N_CASES; i++) {
		const struct text_case *c = &cases[i];
		size_t plain = strnlen(c->in, c->len);
		bool same = strlen(c->want) == plain && memcmp(c->want, c->in, plain) == 0;

		ck_assert(utf8_valid((const unsigned char *)c->want, strlen(c->want)));
		ck_assert_msg(utf8_valid((const unsigned char *)c->in, plain) == same, "%s",
		              c->name);
	}
}
END_TEST

Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *table = tcase_create("table");
	TCase *fuzz = tcase_create("fuzz");

	tcase_add_loop_test(table, convert_table, 0, N_CASES);
	tcase_add_loop_test(table, convert_every_cap, 0, N_CASES);
	tcase_add_loop_test(table, convert_at_guard_page, 0, N_CASES);
	tcase_add_test(table, long_input_at_guard_page);
	tcase_add_test(table, validator_self_check);
	suite_add_tcase(s, table);

	tcase_add_test(fuzz, fuzz_random);
	tcase_add_test(fuzz, fuzz_full_cap);
	tcase_set_timeout(fuzz, 60);
	suite_add_tcase(s, fuzz);
	return s;
}
