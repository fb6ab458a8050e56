// SPDX-License-Identifier: Apache-2.0
/*
 * sql_normalize() on arbitrary text. Input layout:
 *
 *   0  u8 flags   bit 0: the text is a truncated capture
 *   then the SQL text (any bytes)
 *
 * Checked on every input:
 *  - with cap = len + 1 (an exactly-sized heap buffer): the result is the
 *    output length, at most len (the documented bound), or SQL_UNPARSEABLE
 *    with "" and an all-empty info; never SQL_TOO_LONG;
 *  - cap = the output length (one short) and cap = 0 give SQL_TOO_LONG;
 *  - the info fields are terminated and the summary is "op coll";
 *  - outside `names` the output has no quote ('), backslash, comment
 *    opener, control byte, doubled or edge space;
 *  - idempotence: normalizing the output (not truncated) gives it back;
 *  - no literal leaks. A second, deliberately simple reader written here
 *    (not the normalizer's lexer) marks, once per dialect reading (MySQL:
 *    backslash escapes, flat comments; PostgreSQL: no escapes outside E'',
 *    nested comments), the contents of '...' strings (E/N/B/X/U& prefixes
 *    included), of dollar quotes and of comments. Bytes marked by both
 *    readings are literal or comment whatever the dialect. Every word of 4+
 *    bytes cut from such a run (split at whitespace and at ? ( ) , which
 *    are all the output writes of its own, as "?" and in a respelled list
 *    "(?),(") must be absent from the output, unless the same bytes also
 *    occur in the input somewhere not marked by both (code, maybe).
 */
#include <stdbool.h>

#include "processor/scrub_sql.h"
#include "test/fuzz/fuzz.h"

#define WORD_MIN 4 /* shorter words occur as code too often to say anything */
#define MARK_MY  1
#define MARK_PG  2
#define MARK_ALL (MARK_MY | MARK_PG)

static bool alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool word_char(unsigned char c)
{
	return alpha(c) || digit(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* What the output writes of its own: "?", and "(?),(" in a respelled list. */
static bool forgeable(unsigned char c)
{
	return c == '?' || c == '(' || c == ')' || c == ',';
}

static void mark(uint8_t *m, size_t from, size_t to, uint8_t bit)
{
	for (size_t i = from; i < to; i++)
		m[i] |= bit;
}

/* A quote opening at @i: mark its content; returns the index past it. */
static size_t quoted(const uint8_t *s, size_t n, size_t i, bool esc, uint8_t *m, uint8_t bit)
{
	size_t j = i + 1;

	while (j < n) {
		if (s[j] == s[i] && j + 1 < n && s[j + 1] == s[i])
			j += 2;
		else if (s[j] == s[i])
			break;
		else
			j += esc && s[j] == '\\' ? 2 : 1;
	}
	if (j > n)
		j = n;
	if (m)
		mark(m, i + 1, j, bit);
	return j < n ? j + 1 : n;
}

/* $tag$ ... $tag$ at @i, or 0 if @i does not open one. */
static size_t dollar(const uint8_t *s, size_t n, size_t i, uint8_t *m, uint8_t bit)
{
	size_t t = i + 1, tl, j;

	if (t < n && digit(s[t]))
		return 0;
	while (t < n && word_char(s[t]) && s[t] != '$')
		t++;
	if (t >= n || s[t] != '$')
		return 0;
	tl = t + 1 - i;
	for (j = t + 1; j + tl <= n; j++)
		if (memcmp(s + j, s + i, tl) == 0)
			break;
	if (j + tl > n)
		j = n;
	mark(m, t + 1, j, bit);
	return j < n ? j + tl : n;
}

static size_t comment(const uint8_t *s, size_t n, size_t i, bool nest, uint8_t *m, uint8_t bit)
{
	size_t j = i + 2, level = 1;

	if (s[i] != '/') { /* -- or # to the end of the line */
		j = i + 1;
		while (j < n && s[j] != '\n' && s[j] != '\r')
			j++;
		mark(m, i + 1, j, bit);
		return j;
	}
	while (j < n && level > 0) {
		if (s[j] == '*' && j + 1 < n && s[j + 1] == '/')
			level--, j += 2;
		else if (nest && s[j] == '/' && j + 1 < n && s[j + 1] == '*')
			level++, j += 2;
		else
			j++;
	}
	mark(m, i + 2, j, bit);
	return j;
}

/* One dialect reading over the whole text, marking with @bit. */
static void read_marks(const uint8_t *s, size_t n, bool mysql, uint8_t *m, uint8_t bit)
{
	size_t i = 0, j;

	while (i < n) {
		uint8_t c = s[i], d = i + 1 < n ? s[i + 1] : 0;

		if (alpha(c) || c == '_' || c >= 0x80) {
			for (j = i; j < n && word_char(s[j]);)
				j++;
			if (j - i == 1 && (c | 0x20) == 'e' && j < n && s[j] == '\'')
				j = quoted(s, n, j, true, m, bit);
			i = j;
		} else if (digit(c)) {
			while (i < n && (word_char(s[i]) || s[i] == '.') && s[i] != '$')
				i++;
		} else if (c == '\'') {
			i = quoted(s, n, i, mysql, m, bit);
		} else if (c == '"' || c == '`') {
			i = quoted(s, n, i, mysql && c == '"', NULL, 0);
		} else if (c == '$' && digit(d)) { /* $1: the name that may follow keeps its $s */
			for (i++; i < n && digit(s[i]);)
				i++;
		} else if (c == '$' && (j = dollar(s, n, i, m, bit)) != 0) {
			i = j;
		} else if ((c == '-' && d == '-') || (c == '#' && d != '>') ||
		           (c == '/' && d == '*')) {
			i = comment(s, n, i, !mysql, m, bit);
		} else {
			i++;
		}
	}
}

/* Is every occurrence of @w (@k bytes) in @s marked by both readings? */
static bool only_in_literals(const uint8_t *s, size_t n, const uint8_t *m, const uint8_t *w,
                             size_t k)
{
	for (const uint8_t *p = s; (p = memmem(p, n - (size_t)(p - s), w, k)) != NULL; p++)
		for (size_t i = 0; i < k; i++)
			if (m[(size_t)(p - s) + i] != MARK_ALL)
				return false;
	return true;
}

static void check_literals(const uint8_t *s, size_t n, const char *out, size_t olen)
{
	uint8_t *m = calloc(n ? n : 1, 1);
	size_t i = 0;

	FUZZ_CHECK(m != NULL);
	read_marks(s, n, true, m, MARK_MY);
	read_marks(s, n, false, m, MARK_PG);
	while (i < n) {
		size_t j = i;

		while (j < n && m[j] == MARK_ALL && !space(s[j]) && !forgeable(s[j]))
			j++;
		if (j - i >= WORD_MIN && only_in_literals(s, n, m, s + i, j - i))
			FUZZ_CHECK(memmem(out, olen, s + i, j - i) == NULL);
		i = j > i ? j : i + 1;
	}
	free(m);
}

/* Outside `names` (kept verbatim, whatever they hold): no quote, comment, control byte, stray
 * space. */
static void check_shape(const char *out, size_t olen)
{
	bool name = false;

	FUZZ_CHECK(olen == 0 || (out[0] != ' ' && out[olen - 1] != ' '));
	for (size_t i = 0; i < olen; i++) {
		char c = out[i], d = i + 1 < olen ? out[i + 1] : '\0';

		FUZZ_CHECK((unsigned char)c >= ' ' && c != 0x7f);
		if (c == '`')
			name = !name;
		if (name)
			continue;
		FUZZ_CHECK(c != '\'' && c != '\\');
		FUZZ_CHECK(!(c == '-' && d == '-') && !(c == '/' && d == '*') &&
		           !(c == ' ' && d == ' '));
		FUZZ_CHECK(c != '#' || d == '>');
	}
	FUZZ_CHECK(!name);
}

static void check_info(const struct sql_info *info, bool empty)
{
	char sum[SQL_SUMMARY_MAX];
	size_t a;

	FUZZ_CHECK(memchr(info->operation, 0, sizeof(info->operation)) != NULL);
	FUZZ_CHECK(memchr(info->collection, 0, sizeof(info->collection)) != NULL);
	FUZZ_CHECK(memchr(info->summary, 0, sizeof(info->summary)) != NULL);
	if (empty)
		FUZZ_CHECK(!info->operation[0] && !info->collection[0] && !info->summary[0]);
	FUZZ_CHECK(info->operation[0] || !info->collection[0]);
	a = strlen(info->operation);
	memcpy(sum, info->operation, a);
	if (a && info->collection[0])
		sum[a++] = ' ';
	memcpy(sum + a, info->collection, strlen(info->collection) + 1);
	FUZZ_CHECK(strcmp(sum, info->summary) == 0);
}

/* Too small by one, and no room at all: SQL_TOO_LONG, nothing written past cap. */
static void check_small_caps(const char *in, size_t len, bool trunc, size_t olen)
{
	char *small = olen ? malloc(olen) : NULL;

	FUZZ_CHECK(olen == 0 || small != NULL);
	FUZZ_CHECK(sql_normalize(in, len, trunc, small, olen, NULL) == SQL_TOO_LONG);
	FUZZ_CHECK(olen == 0 || small[0] == '\0');
	FUZZ_CHECK(sql_normalize(in, len, trunc, NULL, 0, NULL) == SQL_TOO_LONG);
	free(small);
}

static void check_again(const char *out, size_t olen)
{
	char *copy = fuzz_dup(out, olen), *again = malloc(olen + 1);

	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(sql_normalize(copy, olen, false, again, olen + 1, NULL) == (long)olen);
	FUZZ_CHECK(memcmp(again, out, olen + 1) == 0);
	free(again);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sql_info info;
	size_t len;
	char *in, *out;
	bool trunc;
	long r;

	if (size < 1)
		return 0;
	trunc = data[0] & 1;
	len = size - 1;
	in = fuzz_dup(data + 1, len);
	out = malloc(len + 1);
	FUZZ_CHECK(out != NULL);
	r = sql_normalize(in, len, trunc, out, len + 1, &info);
	FUZZ_CHECK(r == SQL_UNPARSEABLE || (r >= 0 && (size_t)r <= len));
	check_info(&info, r == SQL_UNPARSEABLE);
	if (r == SQL_UNPARSEABLE) {
		FUZZ_CHECK(out[0] == '\0');
	} else {
		FUZZ_CHECK(strlen(out) == (size_t)r);
		check_shape(out, (size_t)r);
		check_literals(data + 1, len, out, (size_t)r);
		check_again(out, (size_t)r);
		check_small_caps(in, len, trunc, (size_t)r);
	}
	free(out);
	free(in);
	return 0;
}
