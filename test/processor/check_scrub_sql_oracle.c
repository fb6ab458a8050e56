// SPDX-License-Identifier: Apache-2.0
/*
 * Oracle test for processor/scrub_sql.c: PostgreSQL's own parser, as
 * libpg_query (Debian libpg-query-dev) packages it, says which spans of each
 * statement are constants; none of them may survive sql_normalize().
 *
 * pg_query_normalize() replaces each constant with $n and copies the rest
 * verbatim; pg_query_scan() gives every token's byte span. Walking both
 * together recovers exactly which spans were replaced (a "- 6" counts as
 * one), and the scanner adds every constant token it saw, replaced or not
 * (COPY ... TO 'file' is kept by pg_query). A constant must then be absent
 * from our output: its text as written, and its content (quotes and
 * dollar tags removed) unless those bytes occur elsewhere in the statement
 * (WHERE nspname <> 'pg_catalog' also names pg_catalog). Short contents and
 * numbers are looked for as whole tokens. pg_query also replaces a few
 * words: TRUE, FALSE, NULL, and bare names given to SET (SET search_path TO
 * public: its parse tree holds a string). Words are kept on purpose, so
 * only replaced spans whose token is a constant are judged.
 *
 * Links -lpg_query (there is no pkg-config file); the normalizer does not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <pg_query.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "processor/scrub_sql.h"

Suite *scrub_sql_oracle_suite(void);

#define TOKENS_MAX  512
#define SPANS_MAX   256
#define OUT_MAX     4096
#define CONTENT_MIN 3 /* shorter contents are only looked for as whole tokens */

/* Token numbers from pg_query.proto (enum Token). */
#define TOK_FCONST  260
#define TOK_SCONST  261
#define TOK_USCONST 262
#define TOK_BCONST  263
#define TOK_XCONST  264
#define TOK_ICONST  266

/* Field numbers of ScanResult and ScanToken in pg_query.proto. */
#define PB_SCAN_TOKENS 2
#define PB_TOK_START   1
#define PB_TOK_END     2
#define PB_TOK_TOKEN   4
#define PB_VARINT      0
#define PB_FIXED64     1
#define PB_LEN         2
#define PB_FIXED32     5

static const char *const corpus[] = {
	"SELECT * FROM users WHERE id = 42",
	"SELECT * FROM users WHERE email = 'alice@example.com' AND active = true",
	"SELECT name FROM accounts WHERE balance > 1000.50 AND created_at < '2024-01-01'",
	"SELECT '1'::int, '2024-05-06'::date, CAST('3.14159' AS numeric)",
	"SELECT ARRAY[1, 2, 3], ARRAY['alpha', 'beta'], '{4,5,6}'::int[]",
	"SELECT data->>'email', data->'address'->>'city' FROM profiles "
	"WHERE data @> '{\"role\": \"admin\"}'",
	"SELECT data #>> '{a,b}' FROM docs WHERE data ? 'secret_key'",
	"SELECT * FROM t WHERE x IN (1, 2, 3) AND y NOT IN ('pear', 'quince')",
	"SELECT * FROM t WHERE x BETWEEN 10 AND 20",
	"SELECT -5, - 6, 7 - 8, +9",
	"SELECT 1.5e10, .25, 0.001, 123456789012345678901234567890",
	"SELECT E'line\\nbreak\\\\n', E'it\\'s escaped'",
	"SELECT B'1010', X'DEADBEEF'",
	"SELECT U&'d\\0061t\\+000061 unicode'",
	"SELECT $$dollar quoted secret$$, $tag$another secret$tag$",
	"SELECT 'multi'\n'part continued'",
	"WITH active AS (SELECT id FROM users WHERE status = 'active') SELECT count(*) FROM active",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50) "
	"SELECT * FROM r",
	"WITH ins AS (INSERT INTO log (msg) VALUES ('started job') RETURNING id) SELECT id FROM "
	"ins",
	"INSERT INTO orders (customer_id, total, note) VALUES (17, 99.95, 'gift wrap please')",
	"INSERT INTO t (a, b) VALUES (1, 'xray'), (2, 'yankee'), (3, 'zulu')",
	"INSERT INTO t (a) SELECT generate_series(1, 100)",
	"INSERT INTO kv (k, v) VALUES ('token', 'abcdef123456') "
	"ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
	"UPDATE users SET password_hash = 'bcrypt$2b$12$abcdefghijk', updated_at = now() "
	"WHERE id = 7",
	"UPDATE accounts SET balance = balance - 250 WHERE owner = 'bob' RETURNING balance",
	"DELETE FROM sessions WHERE expires_at < now() - interval '30 days'",
	"DELETE FROM audit USING users WHERE audit.user_id = users.id AND users.name = 'mallory'",
	"SELECT * FROM events WHERE ts > now() - '1 hour'::interval ORDER BY ts DESC "
	"LIMIT 100 OFFSET 20",
	"SELECT coalesce(nickname, 'anonymous') FROM people",
	"SELECT CASE WHEN score > 90 THEN 'A' WHEN score > 80 THEN 'B' ELSE 'C' END FROM grades",
	"SELECT * FROM t WHERE name LIKE 'Jo%' OR name ILIKE '%smith%'",
	"SELECT * FROM t WHERE name ~ '^admin[0-9]+$'",
	"SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS')",
	"SELECT substring('confidential text' from 3 for 5)",
	"SELECT \"User\".\"Id\", \"User\".\"Email\" FROM \"public\".\"User\" "
	"WHERE \"User\".\"Email\" = 'x@y.zz'",
	"SELECT * FROM t1 JOIN t2 ON t1.id = t2.t1_id WHERE t2.code = 'ZX81'",
	"SELECT jsonb_build_object('key', 'value', 'n', 12)",
	"SELECT '{\"a\": [1, 2, {\"b\": \"nested secret\"}]}'::jsonb",
	"SELECT * FROM t WHERE tags && ARRAY['red', 'blue']::text[]",
	"SELECT * FROM t WHERE id = ANY(ARRAY[5, 6, 7])",
	"SELECT * FROM t WHERE id = ANY('{8,9}'::int[])",
	"COPY users (id, email) FROM STDIN WITH (FORMAT csv, DELIMITER ';')",
	"COPY (SELECT * FROM users WHERE region = 'eu-west') TO STDOUT WITH CSV HEADER",
	"COPY t TO '/var/tmp/export_secret.csv'",
	"DO $$BEGIN RAISE NOTICE 'password is %', 'hunter2'; END$$",
	"DO $body$ DECLARE x int := 5; BEGIN PERFORM pg_sleep(x); END $body$ LANGUAGE plpgsql",
	"CREATE FUNCTION add(a int, b int) RETURNS int AS $$ SELECT a + b + 1000 $$ "
	"LANGUAGE sql IMMUTABLE",
	"CREATE OR REPLACE FUNCTION greet(name text) RETURNS text LANGUAGE plpgsql AS "
	"$fn$ BEGIN RETURN 'Hello ' || name; END $fn$",
	"CREATE TABLE items (id serial PRIMARY KEY, name text DEFAULT 'unnamed', "
	"price numeric(10,2) CHECK (price > 0))",
	"ALTER TABLE items ADD COLUMN sku text DEFAULT 'SKU-0000'",
	"CREATE INDEX idx_items_name ON items (lower(name)) WHERE price > 100",
	"CREATE USER app_user WITH PASSWORD 'S3cretPassw0rd'",
	"ALTER ROLE app_user PASSWORD 'An0therSecret'",
	"SET search_path TO 'tenant_42', public",
	"SET statement_timeout = 5000",
	"SELECT set_config('app.user_id', '1234', false)",
	"PREPARE q (int) AS SELECT * FROM t WHERE id = $1 AND kind = 'kind_k'",
	"EXECUTE q(99)",
	"SELECT $1::text, $2::int FROM t WHERE note = 'literal next to params'",
	"SELECT * FROM t WHERE a = 1 /* comment 'with quote' */ AND b = 'after comment'",
	"SELECT 1 -- trailing 'comment'",
	"SELECT x FROM generate_series(1, 10) AS g(x) WHERE x % 2 = 0",
	"SELECT date_trunc('month', created_at), count(*) FROM orders GROUP BY 1 "
	"HAVING count(*) > 5",
	"SELECT * FROM t ORDER BY created_at DESC NULLS LAST LIMIT 5",
	"SELECT row_number() OVER (PARTITION BY dept ORDER BY salary DESC) FROM emp "
	"WHERE dept <> 'hr dept'",
	"VALUES (1, 'one'), (2, 'two')",
	"SELECT * FROM (VALUES (1, 'aaa'), (2, 'bbb')) AS v(n, s)",
	"SELECT pg_catalog.set_config('search_path', '', false)",
	"SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN "
	"pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname "
	"OPERATOR(pg_catalog.~) '^(users)$' COLLATE pg_catalog.default AND "
	"pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3",
	"UPDATE pgbench_accounts SET abalance = abalance + -2416 WHERE aid = 58123",
	"SELECT 'it''s doubled', 'back\\slash'",
	"SELECT 'tab\tinside', 'new\nline'",
	"SELECT TRUE, FALSE, NULL, 'true'::boolean",
	"SELECT interval '1 year 2 months', timestamp '2020-02-02 10:00:00', date '1999-12-31'",
	"NOTIFY channel, 'payload data'",
	"LOCK TABLE accounts IN SHARE MODE",
	"SELECT * FROM t WHERE (a, b) IN ((1, 'xx'), (2, 'yy'))",
	"SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE name = 'nested')",
	"EXPLAIN ANALYZE SELECT * FROM big WHERE k = 'explain me'",
	"SELECT 'A' || 'B' || 3::text",
	"SELECT * FROM t WHERE a = -1.5e-3 AND b = 'x''y''z'",
};

#define N_CORPUS ((int)(sizeof(corpus) / sizeof(corpus[0])))
_Static_assert(sizeof(corpus) / sizeof(corpus[0]) >= 60, "the brief asks for 60 statements");

struct pgtok {
	int start, end, token;
};

struct span {
	int start, end;
	int token; /* of the span's constant token */
};

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Skip a field's value of wire type @wt; false if it runs past @end. */
static bool pb_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t v;

	if (wt == PB_VARINT)
		return pb_varint(p, end, &v);
	if (wt == PB_FIXED64 || wt == PB_FIXED32) {
		size_t n = wt == PB_FIXED64 ? 8 : 4;

		if ((size_t)(end - *p) < n)
			return false;
		*p += n;
		return true;
	}
	if (wt != PB_LEN || !pb_varint(p, end, &v) || v > (uint64_t)(end - *p))
		return false;
	*p += v;
	return true;
}

static void pb_token(const uint8_t *p, const uint8_t *end, struct pgtok *t)
{
	memset(t, 0, sizeof(*t));
	while (p < end) {
		uint64_t key, v;

		ck_assert(pb_varint(&p, end, &key));
		if ((key & 7) != PB_VARINT) {
			ck_assert(pb_skip(&p, end, key & 7));
			continue;
		}
		ck_assert(pb_varint(&p, end, &v));
		if (key >> 3 == PB_TOK_START)
			t->start = (int)v;
		else if (key >> 3 == PB_TOK_END)
			t->end = (int)v;
		else if (key >> 3 == PB_TOK_TOKEN)
			t->token = (int)v;
	}
}

/* The tokens of @sql, in order, from pg_query_scan()'s protobuf. */
static int scan(const char *sql, struct pgtok *toks)
{
	PgQueryScanResult r = pg_query_scan(sql);
	const uint8_t *p = (const uint8_t *)r.pbuf.data, *end = p + r.pbuf.len;
	int n = 0;

	ck_assert_msg(!r.error, "scan: %s", r.error ? r.error->message : "");
	while (p < end) {
		uint64_t key, len;

		ck_assert(pb_varint(&p, end, &key));
		if (key >> 3 != PB_SCAN_TOKENS || (key & 7) != PB_LEN) {
			ck_assert(pb_skip(&p, end, key & 7));
			continue;
		}
		ck_assert(pb_varint(&p, end, &len) && len <= (uint64_t)(end - p));
		ck_assert_int_lt(n, TOKENS_MAX);
		pb_token(p, p + len, &toks[n++]);
		p += len;
	}
	pg_query_free_scan_result(r);
	return n;
}

/* libpg_query 15 leaves USCONST's end unset: find the quote's end ourselves. */
static void fix_usconst(const char *sql, struct pgtok *t)
{
	const char *q;
	size_t i;

	if (t->token != TOK_USCONST || t->end > t->start)
		return;
	q = strchr(sql + t->start, '\'');
	ck_assert_ptr_nonnull(q);
	for (i = (size_t)(q - sql) + 1; sql[i]; i++) {
		if (sql[i] == '\'' && sql[i + 1] == '\'')
			i++;
		else if (sql[i] == '\'')
			break;
	}
	ck_assert_int_eq(sql[i], '\'');
	t->end = (int)i + 1;
}

static bool is_const(int token)
{
	return token == TOK_FCONST || token == TOK_SCONST || token == TOK_USCONST ||
	       token == TOK_BCONST || token == TOK_XCONST || token == TOK_ICONST;
}

/* "$n" at @s: its length, or 0. */
static size_t param_len(const char *s)
{
	size_t n = 1;

	if (s[0] != '$' || s[1] < '0' || s[1] > '9')
		return 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * Walk the statement's tokens against pg_query_normalize()'s output: the
 * text between tokens is copied, a token is either copied or became $n.
 * A sign before a number goes with it. Returns the replaced spans.
 */
static int replaced_spans(const char *sql, const char *norm, const struct pgtok *toks, int ntok,
                          struct span *spans)
{
	size_t i = 0, j = 0;
	int n = 0;

	for (int k = 0; k < ntok; k++) {
		const struct pgtok *t = &toks[k];
		size_t gap = (size_t)t->start - i, tl = (size_t)(t->end - t->start), pl;

		ck_assert_msg(strncmp(norm + j, sql + i, gap) == 0,
		              "align: gap at %zu in '%s' / '%s'", i, sql, norm);
		i += gap;
		j += gap;
		if (strncmp(norm + j, sql + i, tl) == 0) {
			i += tl;
			j += tl;
			continue;
		}
		pl = param_len(norm + j);
		ck_assert_msg(pl > 0, "align: token at %zu neither kept nor replaced: '%s' / '%s'",
		              i, sql, norm);
		while ((sql[t->start] == '-' || sql[t->start] == '+') && k + 1 < ntok &&
		       !is_const(t->token))
			t = &toks[++k];
		ck_assert_int_lt(n, SPANS_MAX);
		spans[n++] = (struct span){ (int)i, t->end, t->token };
		i = (size_t)t->end;
		j += pl;
	}
	ck_assert_msg(strcmp(norm + j, sql + i) == 0, "align: tail '%s' / '%s'", sql + i, norm + j);
	return n;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* @k bytes at @w appear in @out, not as part of a longer name. */
static bool has_token(const char *out, const char *w, size_t k)
{
	size_t n = strlen(out);

	for (const char *p = out; (p = memmem(p, n - (size_t)(p - out), w, k)) != NULL; p++) {
		bool before = p > out && name_char(p[-1]) && name_char(w[0]);
		bool after = name_char(p[k]) && name_char(w[k - 1]);

		if (!before && !after)
			return true;
	}
	return false;
}

static int occurrences(const char *hay, const char *w, size_t k)
{
	size_t n = strlen(hay);
	int count = 0;

	for (const char *p = hay; (p = memmem(p, n - (size_t)(p - hay), w, k)) != NULL; p++)
		count++;
	return count;
}

/* What is inside the quotes or dollar tags of the constant [s, e), if any. */
static bool content_of(const char *sql, int s, int e, int *cs, int *ce)
{
	const char *q = memchr(sql + s, '\'', (size_t)(e - s));

	if (sql[s] == '$') {
		const char *tag_end = memchr(sql + s + 1, '$', (size_t)(e - s - 1));
		int tl;

		ck_assert_ptr_nonnull(tag_end);
		tl = (int)(tag_end - (sql + s)) + 1;
		*cs = s + tl;
		*ce = e - tl;
		return *ce >= *cs;
	}
	if (!q)
		return false;
	*cs = (int)(q - sql) + 1;
	*ce = e - 1;
	return *ce >= *cs;
}

static void assert_absent(const char *sql, const char *out, const struct span *sp)
{
	const char *text = sql + sp->start;
	size_t tl = (size_t)(sp->end - sp->start);
	int cs, ce;

	ck_assert_msg(!has_token(out, text, tl), "constant '%.*s' in '%s'", (int)tl, text, out);
	if (!content_of(sql, sp->start, sp->end, &cs, &ce) || ce == cs)
		return;
	if (occurrences(sql, sql + cs, (size_t)(ce - cs)) > 1)
		return; /* the same bytes are also code or another constant */
	if (ce - cs >= CONTENT_MIN)
		ck_assert_msg(!memmem(out, strlen(out), sql + cs, (size_t)(ce - cs)),
		              "content '%.*s' in '%s'", ce - cs, sql + cs, out);
	else
		ck_assert_msg(!has_token(out, sql + cs, (size_t)(ce - cs)),
		              "content '%.*s' in '%s'", ce - cs, sql + cs, out);
}

START_TEST(oracle_corpus)
{
	const char *sql = corpus[_i];
	static struct pgtok toks[TOKENS_MAX];
	static struct span spans[SPANS_MAX];
	PgQueryNormalizeResult pn = pg_query_normalize(sql);
	int ntok, nspan, checked = 0;
	char out[OUT_MAX];
	long r;

	ck_assert_msg(!pn.error, "pg_query_normalize: %s: %s", sql,
	              pn.error ? pn.error->message : "");
	ntok = scan(sql, toks);
	for (int k = 0; k < ntok; k++)
		fix_usconst(sql, &toks[k]);
	nspan = replaced_spans(sql, pn.normalized_query, toks, ntok, spans);
	r = sql_normalize(sql, strlen(sql), false, out, sizeof(out), NULL);
	ck_assert_msg(r >= 0, "sql_normalize refused '%s': %ld", sql, r);
	for (int k = 0; k < nspan; k++) {
		if (!is_const(spans[k].token))
			continue; /* a word: TRUE, NULL, SET x TO name */
		assert_absent(sql, out, &spans[k]);
		checked++;
	}
	for (int k = 0; k < ntok; k++) {
		struct span sp = { toks[k].start, toks[k].end, toks[k].token };

		if (is_const(toks[k].token)) {
			assert_absent(sql, out, &sp);
			checked++;
		}
	}
	ck_assert_msg(checked > 0 || !strpbrk(sql, "'0123456789"), "nothing checked in '%s'", sql);
	pg_query_free_normalize_result(pn);
}
END_TEST

/* The alignment itself, on a statement whose answer is known. */
START_TEST(oracle_alignment)
{
	static const char sql[] = "SELECT -5, - 6, x-7 FROM t LIMIT 10 OFFSET 5 /* $9 */";
	static struct pgtok toks[TOKENS_MAX];
	struct span spans[SPANS_MAX];
	PgQueryNormalizeResult pn = pg_query_normalize(sql);
	int ntok, n;

	ck_assert_ptr_null(pn.error);
	ntok = scan(sql, toks);
	n = replaced_spans(sql, pn.normalized_query, toks, ntok, spans);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(strncmp(sql + spans[0].start, "-5", 2), 0);
	ck_assert_int_eq(spans[1].end - spans[1].start, 3); /* "- 6" */
	ck_assert_int_eq(strncmp(sql + spans[2].start, "7", 1), 0);
	ck_assert_int_eq(strncmp(sql + spans[3].start, "10", 2), 0);
	ck_assert_int_eq(strncmp(sql + spans[4].start, "5", 1), 0);
	pg_query_free_normalize_result(pn);
}
END_TEST

Suite *scrub_sql_oracle_suite(void)
{
	Suite *s = suite_create("scrub_sql_oracle");
	TCase *t = tcase_create("pg_query");

	tcase_add_loop_test(t, oracle_corpus, 0, N_CORPUS);
	tcase_add_test(t, oracle_alignment);
	suite_add_tcase(s, t);
	return s;
}
