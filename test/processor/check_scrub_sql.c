// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/scrub_sql.c (sql_normalize).
 *
 * One table of statements: every literal form, comment form and list, the
 * near-misses that must come out unchanged, truncated and malformed twins,
 * and SQL as real clients send it (psql, pgbench, JDBC, MySQL connectors).
 * Each case is also run at every output capacity, at every prefix (as a
 * truncated capture), ending at a PROT_NONE page, and through a second
 * normalization that must change nothing. Literals are checked two ways:
 * the secrets a case names, and every quoted string a naive reader finds
 * in the input (assert_no_literal), which must be absent from the output.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "processor/scrub_sql.h"

Suite *scrub_sql_suite(void);

#define SECRETS_MAX     4
#define OUT_MAX         4096
#define LIT_MIN         3 /* shorter quoted strings may well be names elsewhere ('id') */
#define CAP_EXTRA       16
#define UNPARSEABLE     NULL
#define BIG_LEN         40000 /* well past the 16 KiB a capture keeps */
#define IN_LIST_LONG    20000
#define DOLLAR_TAG_LONG 70     /* past the normalizer's tag limit (64) */
#define SAME            (-100) /* big_case: the output is the input */

/*
 * CASE(name, text, truncated, want, operation, collection, secrets...);
 * RAW_CASE: the naive quoted-string reader is wrong there (backslashes);
 * NUL_CASE: the text holds a NUL. secrets[0] is always NULL.
 */
/* clang-format off */
#define CASE(name, in, trunc, want, op, coll, ...) \
	{ name, in, 0, trunc, want, op, coll, { NULL, ##__VA_ARGS__ }, false }
#define RAW_CASE(name, in, trunc, want, op, coll, ...) \
	{ name, in, 0, trunc, want, op, coll, { NULL, ##__VA_ARGS__ }, true }
#define NUL_CASE(name, in, trunc, want, op, coll, ...) \
	{ name, in, sizeof(in) - 1, trunc, want, op, coll, { NULL, ##__VA_ARGS__ }, false }
/* clang-format on */

struct sql_case {
	const char *name;
	const char *in;
	size_t len;       /* 0: strlen(in) */
	bool truncated;   /* the capture cut the text */
	const char *want; /* UNPARSEABLE: SQL_UNPARSEABLE */
	const char *op, *coll;
	const char *secrets[SECRETS_MAX]; /* must appear in no output; NULLs skipped */
	bool no_auto; /* the naive quoted-string reader is wrong here (backslashes) */
};

static const struct sql_case cases[] = {
	/* string literal forms */
	CASE("squote", "SELECT * FROM users WHERE name = 'alice'", false,
	     "SELECT * FROM users WHERE name = ?", "SELECT", "users", "alice"),
	CASE("squote_doubled", "SELECT 'O''Brien' FROM t", false, "SELECT ? FROM t", "SELECT", "t",
	     "Brien"),
	CASE("squote_empty", "SELECT '' FROM t", false, "SELECT ? FROM t", "SELECT", "t"),
	RAW_CASE("mysql_backslash", "SELECT * FROM t WHERE pw = 'it\\'s hunter2'", false,
	         "SELECT * FROM t WHERE pw = ?", "SELECT", "t", "hunter2", "s hunter"),
	/* one \' leaves the PostgreSQL reading possible (an open string): output stops */
	RAW_CASE("mysql_one_escape_stops", "SELECT * FROM t WHERE a = 'O\\'Brien' AND b = 1", false,
	         "SELECT * FROM t WHERE a = ?", "SELECT", "t", "Brien"),
	/* open in MySQL's reading but not cut: PostgreSQL's reading must not leak it */
	RAW_CASE("mysql_open_not_truncated", "SELECT * FROM t WHERE pw = 'it\\'s hunter2", false,
	         "SELECT * FROM t WHERE pw = ?", "SELECT", "t", "hunter2"),
	RAW_CASE("mysql_dquote_escape", "SELECT * FROM t WHERE a = \"x\\\"hunter2\" AND b = 2",
	         false, "SELECT * FROM t WHERE a = ?", "SELECT", "t", "hunter2"),
	RAW_CASE("mysql_backslash_two", "INSERT INTO t VALUES ('O\\'Brien', 'D\\'Arcy')", false,
	         "INSERT INTO t VALUES (?)", "INSERT", "t", "Brien", "Arcy"),
	RAW_CASE("mysql_backslash_backslash", "SELECT 'a\\\\', 'hunter2' FROM t", false,
	         "SELECT ?, ? FROM t", "SELECT", "t", "hunter2"),
	/* MySQL reads on past C:\dir\' and ends open: possible, so output stops there */
	RAW_CASE("pg_backslash_at_end", "SELECT * FROM t WHERE p = 'C:\\dir\\' AND q = 'hunter2'",
	         false, "SELECT * FROM t WHERE p = ?", "SELECT", "t", "hunter2", "dir"),
	/* MySQL reads on and meets a backslash outside quotes: ruled out */
	RAW_CASE("pg_backslash_only_reading", "SELECT 'C:\\dir\\', 'x\\y' FROM t", false,
	         "SELECT ?, ? FROM t", "SELECT", "t", "dir"),
	RAW_CASE("pg_backslash_truncated",
	         "SELECT * FROM t WHERE p = 'C:\\dir\\' AND q = 'hunter2' AND", true,
	         "SELECT * FROM t WHERE p = ?", "SELECT", "t", "hunter2", "dir"),
	RAW_CASE("estring", "SELECT E'tab\\there\\'s secret' FROM t", false, "SELECT ? FROM t",
	         "SELECT", "t", "secret", "there"),
	RAW_CASE("estring_lower", "SELECT e'a\\\\' || 'hunter2' FROM t", false,
	         "SELECT ? || ? FROM t", "SELECT", "t", "hunter2"),
	CASE("nstring", "SELECT N'na\xc3\xafve', n'abcd'", false, "SELECT ?, ?", "SELECT", "",
	     "abcd", "na\xc3\xafve"),
	CASE("bstring", "SELECT B'0101', b'1'", false, "SELECT ?, ?", "SELECT", "", "0101"),
	CASE("xstring", "SELECT X'deadbeef', x'00'", false, "SELECT ?, ?", "SELECT", "",
	     "deadbeef"),
	CASE("ustring", "SELECT U&'d\\0061t\\+000061' UESCAPE '!'", false, "SELECT ? UESCAPE ?",
	     "SELECT", "", "0061"),
	CASE("uident_plain", "SELECT U&\"col\" FROM t", false, "SELECT U&\"col\" FROM t", "SELECT",
	     "t"),
	RAW_CASE("uident_escaped", "SELECT U&\"d\\0061t\" FROM t", false, "SELECT ? FROM t",
	         "SELECT", "t", "0061"),
	CASE("charset_introducer", "SELECT _utf8mb4'hunter2' COLLATE utf8mb4_bin", false,
	     "SELECT _utf8mb4? COLLATE utf8mb4_bin", "SELECT", "", "hunter2"),
	CASE("dollar", "SELECT $$hunter2$$", false, "SELECT ?", "SELECT", "", "hunter2"),
	CASE("dollar_tag", "SELECT $fn$ body 'q' $$ inside $fn$, 1", false, "SELECT ?, ?", "SELECT",
	     "", "body", "inside"),
	CASE("dollar_tag_utf8", "SELECT $\xc3\xa9$ secret $\xc3\xa9$", false, "SELECT ?", "SELECT",
	     "", "secret"),
	CASE("do_block", "DO $$BEGIN RAISE NOTICE 'hi %', 42; END$$", false, "DO ?", "DO", "",
	     "RAISE", "NOTICE"),
	CASE("function_body",
	     "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 4242 $body$ LANGUAGE sql", false,
	     "CREATE FUNCTION f() RETURNS int AS ? LANGUAGE sql", "CREATE", "", "4242"),
	CASE("dquote_mysql_value", "SELECT * FROM t WHERE name = \"hunter2\"", false,
	     "SELECT * FROM t WHERE name = ?", "SELECT", "t", "hunter2"),
	CASE("dquote_pg_names",
	     "SELECT \"Id\", \"user_name\" FROM \"public\".\"Users\" WHERE \"Id\" = $1", false,
	     "SELECT \"Id\", \"user_name\" FROM \"public\".\"Users\" WHERE \"Id\" = $1", "SELECT",
	     "public.Users"),
	CASE("dquote_qualifier_after_eq",
	     "SELECT * FROM \"a\" JOIN \"b\" ON \"a\".\"id\" = \"b\".\"a_id\"", false,
	     "SELECT * FROM \"a\" JOIN \"b\" ON \"a\".\"id\" = \"b\".\"a_id\"", "SELECT", "a"),
	CASE("dquote_then_number_dot", "SELECT * FROM a WHERE x = \"b\".5", false,
	     "SELECT * FROM a WHERE x = ??", "SELECT", "a"),
	CASE("dquote_not_name_shaped", "SELECT \"John Smith\", \"x-y\", \"9lives\" FROM t", false,
	     "SELECT ?, ?, ? FROM t", "SELECT", "t", "John", "9lives"),
	CASE("dquote_like", "SELECT * FROM t WHERE a LIKE \"abcd\" OR b REGEXP \"efgh\"", false,
	     "SELECT * FROM t WHERE a LIKE ? OR b REGEXP ?", "SELECT", "t", "abcd", "efgh"),
	CASE("dquote_in_list", "SELECT * FROM t WHERE a IN (\"red\", \"blue\")", false,
	     "SELECT * FROM t WHERE a IN (?)", "SELECT", "t", "red", "blue"),
	CASE("dquote_values", "INSERT INTO t (a, b) VALUES (\"alice\", \"bob\")", false,
	     "INSERT INTO t (a, b) VALUES (?)", "INSERT", "t", "alice", "bob"),
	CASE("dquote_then_else", "SELECT CASE WHEN a THEN \"yes1\" ELSE \"no22\" END FROM t", false,
	     "SELECT CASE WHEN a THEN ? ELSE ? END FROM t", "SELECT", "t", "yes1", "no22"),
	CASE("identified_by", "CREATE USER 'app'@'%' IDENTIFIED BY \"hunter2\"", false,
	     "CREATE USER ?@? IDENTIFIED BY ?", "CREATE", "", "hunter2"),
	CASE("password_func", "SET PASSWORD = PASSWORD(\"hunter2\")", false,
	     "SET PASSWORD = PASSWORD(?)", "SET", "", "hunter2"),
	CASE("backticks", "SELECT `order id`, `t1`.`c` FROM `db`.`my table`", false,
	     "SELECT `order id`, `t1`.`c` FROM `db`.`my table`", "SELECT", "db.my table"),
	RAW_CASE("backtick_with_quote", "SELECT `it's` FROM t", false, "SELECT ? FROM t", "SELECT",
	         "t", "it's"),
	/* numbers, signs, words that stay */
	CASE("numbers", "SELECT 1, 2.5, .5, 1e10, 1.5E-3, 0x1F, 0b101, 12abc FROM t", false,
	     "SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM t", "SELECT", "t", "0x1F", "12abc", "1e10"),
	CASE("signs", "SELECT -5, - 6, x-7, x - 8, (-9), a = -10, b=+11, c*-12 FROM t", false,
	     "SELECT ?, - ?, x-?, x - ?, (?), a = ?, b=?, c*? FROM t", "SELECT", "t"),
	CASE("bool_null_kept", "SELECT * FROM t WHERE a IS NULL AND b = TRUE AND c <> false", false,
	     "SELECT * FROM t WHERE a IS NULL AND b = TRUE AND c <> false", "SELECT", "t"),
	CASE("casts", "SELECT '1'::int, '{1,2}'::int[], interval '1 day', date '2024-01-02'", false,
	     "SELECT ?::int, ?::int[], interval ?, date ?", "SELECT", "", "2024", "day"),
	CASE("arrays", "SELECT ARRAY[1,2,-3], a[1] FROM t", false,
	     "SELECT ARRAY[?,?,?], a[?] FROM t", "SELECT", "t"),
	CASE("json_ops",
	     "SELECT data->>'email', data #> '{a,b}', data @> '{\"k\":1}', data ? 'key1' FROM t",
	     false, "SELECT data->>?, data #> ?, data @> ?, data ? ? FROM t", "SELECT", "t",
	     "email", "key1"),
	/* comments */
	CASE("line_comment", "SELECT 1 -- hunter2\nFROM t", false, "SELECT ? FROM t", "SELECT", "t",
	     "hunter2"),
	CASE("line_comment_cr", "SELECT 1 -- hunter2\rFROM t", false, "SELECT ? FROM t", "SELECT",
	     "t", "hunter2"),
	CASE("line_comment_at_end", "SELECT 1 -- hunter2", false, "SELECT ?", "SELECT", "",
	     "hunter2"),
	CASE("hash_comment", "SELECT 1 # hunter2\nFROM t", false, "SELECT ? FROM t", "SELECT", "t",
	     "hunter2"),
	CASE("block_comment", "SELECT /* hunter2 */ 1", false, "SELECT ?", "SELECT", "", "hunter2"),
	CASE("block_comment_separates", "SELECT a/**/FROM t", false, "SELECT a FROM t", "SELECT",
	     "t"),
	CASE("nested_comment", "SELECT /* a /* hunter2 */ still */ 1 FROM t", false, "SELECT ?",
	     "SELECT", "", "hunter2", "still"),
	CASE("nested_comment_mysql_open", "SELECT /* a /* x */ ' */ 1 FROM t", false, "SELECT ?",
	     "SELECT", ""),
	RAW_CASE("nested_comment_pg_only", "SELECT /* a /* x */ \\ */ 1 FROM t", false,
	         "SELECT ? FROM t", "SELECT", "t"),
	CASE("mysql_executable_comment", "/*!40101 SET NAMES utf8 */ SELECT 1", false, "SELECT ?",
	     "SELECT", "", "NAMES", "utf8"),
	CASE("mysql_hint", "SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t", false,
	     "SELECT * FROM t", "SELECT", "t", "MAX_EXEC"),
	CASE("comment_marks_in_string", "SELECT '-- not a comment', '/* nor */', '# no' FROM t",
	     false, "SELECT ?, ?, ? FROM t", "SELECT", "t", "not a", "nor"),
	RAW_CASE("quote_in_comment", "-- it's\nSELECT 1 /* don't */ FROM t # isn't", false,
	         "SELECT ? FROM t", "SELECT", "t"),
	CASE("hash_json_op", "SELECT j #>> '{a}' FROM t", false, "SELECT j #>> ? FROM t", "SELECT",
	     "t"),
	CASE("hash_pg_xor_loses_line", "SELECT 5 # 3, 'x' FROM t", false, "SELECT ?", "SELECT", ""),
	/* lists */
	CASE("in_numbers", "SELECT * FROM t WHERE id IN (1, 2, 3)", false,
	     "SELECT * FROM t WHERE id IN (?)", "SELECT", "t"),
	CASE("in_strings_nospace", "SELECT * FROM t WHERE id IN('a1','b2')", false,
	     "SELECT * FROM t WHERE id IN(?)", "SELECT", "t"),
	CASE("in_placeholders", "SELECT * FROM t WHERE id IN (?, ?, ?)", false,
	     "SELECT * FROM t WHERE id IN (?)", "SELECT", "t"),
	CASE("in_dollar_params_kept", "SELECT * FROM t WHERE id IN ($1, $2)", false,
	     "SELECT * FROM t WHERE id IN ($1, $2)", "SELECT", "t"),
	CASE("in_mixed", "SELECT * FROM t WHERE id IN (1, NULL, 3)", false,
	     "SELECT * FROM t WHERE id IN (?, NULL, ?)", "SELECT", "t"),
	CASE("in_subquery", "SELECT * FROM t WHERE id IN (SELECT id FROM u)", false,
	     "SELECT * FROM t WHERE id IN (SELECT id FROM u)", "SELECT", "t"),
	CASE("not_in_negative", "SELECT * FROM t WHERE id NOT IN ( -1 , -2 )", false,
	     "SELECT * FROM t WHERE id NOT IN (?)", "SELECT", "t"),
	CASE("in_tuples", "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", false,
	     "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))", "SELECT", "t"),
	CASE("in_empty", "SELECT * FROM t WHERE id IN ()", false, "SELECT * FROM t WHERE id IN ()",
	     "SELECT", "t"),
	CASE("in_one", "SELECT * FROM t WHERE id IN ( 'x' )", false,
	     "SELECT * FROM t WHERE id IN (?)", "SELECT", "t"),
	CASE("values_rows", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", false,
	     "INSERT INTO t VALUES (?)", "INSERT", "t"),
	CASE("values_with_call", "INSERT INTO t (a, b) VALUES (1, NOW()), (2, NOW())", false,
	     "INSERT INTO t (a, b) VALUES (?, NOW()), (?, NOW())", "INSERT", "t"),
	CASE("values_second_row_differs", "INSERT INTO t VALUES (1, 2), (3, DEFAULT)", false,
	     "INSERT INTO t VALUES (?),(?, DEFAULT)", "INSERT", "t"),
	CASE("values_on_duplicate", "INSERT INTO t VALUES (1), (2) ON DUPLICATE KEY UPDATE a = 3",
	     false, "INSERT INTO t VALUES (?) ON DUPLICATE KEY UPDATE a = ?", "INSERT", "t"),
	CASE("values_statement", "VALUES (1, 'x'), (2, 'y')", false, "VALUES (?)", "VALUES", ""),
	CASE("values_params_kept", "INSERT INTO t VALUES ($1, $2)", false,
	     "INSERT INTO t VALUES ($1, $2)", "INSERT", "t"),
	CASE("values_trailing_comma", "INSERT INTO t VALUES (1), x", false,
	     "INSERT INTO t VALUES (?), x", "INSERT", "t"),
	/* truncated in the middle of each form, and the same text not truncated */
	CASE("trunc_squote", "SELECT * FROM t WHERE a = 'hunt", true, "SELECT * FROM t WHERE a = ?",
	     "SELECT", "t", "hunt"),
	CASE("unterminated_squote", "SELECT * FROM t WHERE a = 'hunt", false, UNPARSEABLE, "", "",
	     "hunt"),
	CASE("trunc_squote_escape", "SELECT 'abc\\", true, "SELECT ?", "SELECT", "", "abc"),
	RAW_CASE("trunc_estring_escape", "SELECT E'abc\\'", true, "SELECT ?", "SELECT", "", "abc"),
	CASE("trunc_dollar", "SELECT $$secr", true, "SELECT ?", "SELECT", "", "secr"),
	CASE("unterminated_dollar", "SELECT $$secr", false, UNPARSEABLE, "", "", "secr"),
	CASE("trunc_dollar_tag", "SELECT $fn$ secr $f", true, "SELECT ?", "SELECT", "", "secr"),
	CASE("trunc_dollar_open_tag", "SELECT $fn", true, "SELECT $fn", "SELECT", ""),
	CASE("trunc_lone_dollar", "SELECT $", true, "SELECT ?", "SELECT", ""),
	CASE("lone_dollar", "SELECT $", false, UNPARSEABLE, "", ""),
	CASE("lone_dollar_inside", "SELECT $ FROM t", false, UNPARSEABLE, "", ""),
	CASE("trunc_block_comment", "SELECT 1 /* secr", true, "SELECT ?", "SELECT", "", "secr"),
	CASE("unterminated_block_comment", "SELECT 1 /* secr", false, UNPARSEABLE, "", ""),
	CASE("trunc_dquote", "SELECT \"Us", true, "SELECT ?", "SELECT", "", "Us"),
	CASE("unterminated_dquote", "SELECT \"Us", false, UNPARSEABLE, "", ""),
	CASE("trunc_backtick", "SELECT `us", true, "SELECT ?", "SELECT", "", "us"),
	CASE("trunc_xstring", "SELECT X'dead", true, "SELECT ?", "SELECT", "", "dead"),
	CASE("trunc_ustring", "SELECT U&'secr", true, "SELECT ?", "SELECT", "", "secr"),
	CASE("trunc_prefix_only", "SELECT E", true, "SELECT E", "SELECT", ""),
	CASE("trunc_in_list", "SELECT * FROM t WHERE id IN (1, 2, 3, 4", true,
	     "SELECT * FROM t WHERE id IN (?", "SELECT", "t"),
	CASE("trunc_in_list_comma", "SELECT * FROM t WHERE id IN (1, 2,", true,
	     "SELECT * FROM t WHERE id IN (?,", "SELECT", "t"),
	CASE("trunc_values", "INSERT INTO t VALUES (1, 2), (3, 4), (5", true,
	     "INSERT INTO t VALUES (?),(?", "INSERT", "t"),
	CASE("trunc_values_between_rows", "INSERT INTO t VALUES (1, 2), (3, 4),", true,
	     "INSERT INTO t VALUES (?),", "INSERT", "t"),
	CASE("trunc_mid_name", "SELECT * FROM users_arch", true, "SELECT * FROM users_arch",
	     "SELECT", ""),
	CASE("name_at_end", "SELECT * FROM users_arch", false, "SELECT * FROM users_arch", "SELECT",
	     "users_arch"),
	CASE("trunc_after_name", "SELECT * FROM users ", true, "SELECT * FROM users", "SELECT",
	     "users"),
	CASE("trunc_mid_verb", "SELEC", true, "SELEC", "", ""),
	CASE("trunc_verb_maybe_longer", "SET", true, "SET", "", ""),
	CASE("trunc_mid_number", "SELECT * FROM t LIMIT 10", true, "SELECT * FROM t LIMIT ?",
	     "SELECT", "t"),
	CASE("trunc_mid_utf8", "SELECT caf\xc3", true, "SELECT caf", "SELECT", ""),
	CASE("trunc_mid_utf8_4", "SELECT x\xf0\x9f\x98", true, "SELECT x", "SELECT", ""),
	CASE("cut_utf8_not_truncated", "SELECT caf\xc3", false, UNPARSEABLE, "", ""),
	CASE("trunc_mid_dash", "SELECT 1 -", true, "SELECT ? -", "SELECT", ""),
	CASE("trunc_with", "WITH a AS (SELECT * FROM x WHERE", true,
	     "WITH a AS (SELECT * FROM x WHERE", "WITH", ""),
	/* near-misses: names with digits, placeholders, prefix letters as names */
	CASE("names_with_digits", "SELECT t1.col_2, c3 FROM t1 JOIN table2 ON t1.id = table2.t1_id",
	     false, "SELECT t1.col_2, c3 FROM t1 JOIN table2 ON t1.id = table2.t1_id", "SELECT",
	     "t1"),
	CASE("dollar_params", "SELECT * FROM t WHERE a = $1 AND b = $12", false,
	     "SELECT * FROM t WHERE a = $1 AND b = $12", "SELECT", "t"),
	CASE("named_params", "SELECT * FROM logs_2024 WHERE x = :name AND y = @v", false,
	     "SELECT * FROM logs_2024 WHERE x = :name AND y = @v", "SELECT", "logs_2024"),
	CASE("dollar_in_names", "SELECT a$b, _x, a$$b$$ FROM t", false,
	     "SELECT a$b, _x, a$$b$$ FROM t", "SELECT", "t"),
	CASE("prefix_letters_as_names", "SELECT e, n, b, x, u FROM t WHERE name='x1'", false,
	     "SELECT e, n, b, x, u FROM t WHERE name=?", "SELECT", "t", "x1"),
	CASE("mysql_vars", "SELECT @var, @@session.sql_mode", false,
	     "SELECT @var, @@session.sql_mode", "SELECT", ""),
	CASE("unicode_names", "SELECT pr\xc3\xa9nom FROM cl\xc3\xa9s", false,
	     "SELECT pr\xc3\xa9nom FROM cl\xc3\xa9s", "SELECT", "cl\xc3\xa9s"),
	CASE("whitespace_collapsed", "  SELECT\t\n a ,\r\n\tb   FROM   t  \n", false,
	     "SELECT a , b FROM t", "SELECT", "t"),
	/* bytes no SQL allows outside quotes */
	CASE("backslash_outside", "SELECT \\N", false, UNPARSEABLE, "", ""),
	CASE("control_outside", "SELECT 1\x01", false, UNPARSEABLE, "", ""),
	CASE("control_inside", "SELECT 'a\x01secret'", false, "SELECT ?", "SELECT", "", "secret"),
	NUL_CASE("nul_inside", "SELECT 'ab\0cdef' FROM t", false, "SELECT ? FROM t", "SELECT", "t",
	         "cdef"),
	NUL_CASE("nul_outside", "SELECT 1\0 FROM t", false, UNPARSEABLE, "", ""),
	CASE("invalid_utf8_name", "SELECT caf\xc3(", false, UNPARSEABLE, "", ""),
	CASE("invalid_utf8_inside", "SELECT '\xff\xfe' FROM t", false, "SELECT ? FROM t", "SELECT",
	     "t"),
	CASE("overlong_utf8_name", "SELECT a\xc0\xaf", false, UNPARSEABLE, "", ""),
	CASE("del_outside", "SELECT a\x7f", false, UNPARSEABLE, "", ""),
	CASE("empty", "", false, "", "", ""),
	CASE("blank", "  \n\t ", false, "", "", ""),
	CASE("comment_only", "-- hunter2", false, "", "", "", "hunter2"),
	CASE("quotes_only", "''''", false, "?", "", ""),
	CASE("quotes_odd", "'''", false, UNPARSEABLE, "", ""),
	CASE("quotes_odd_truncated", "'''", true, "?", "", ""),
	/* the summary */
	CASE("with_insert",
	     "WITH a AS (SELECT * FROM x), b AS (SELECT 1) INSERT INTO orders SELECT * FROM a",
	     false,
	     "WITH a AS (SELECT * FROM x), b AS (SELECT ?) INSERT INTO orders SELECT * FROM a",
	     "INSERT", "orders"),
	CASE("with_recursive",
	     "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n+1 FROM t WHERE n < 100) "
	     "SELECT sum(n) FROM t",
	     false,
	     "WITH RECURSIVE t(n) AS (VALUES (?) UNION ALL SELECT n+? FROM t WHERE n < ?) "
	     "SELECT sum(n) FROM t",
	     "SELECT", "t"),
	CASE("delete_only", "DELETE FROM ONLY sessions WHERE id = 1", false,
	     "DELETE FROM ONLY sessions WHERE id = ?", "DELETE", "sessions"),
	CASE("update_modifiers", "UPDATE LOW_PRIORITY IGNORE `db`.`t` SET a = 1", false,
	     "UPDATE LOW_PRIORITY IGNORE `db`.`t` SET a = ?", "UPDATE", "db.t"),
	CASE("insert_ignore_set", "INSERT IGNORE INTO t2 SET a = 1", false,
	     "INSERT IGNORE INTO t2 SET a = ?", "INSERT", "t2"),
	CASE("insert_without_into", "insert t3 values (1)", false, "insert t3 values (?)", "INSERT",
	     "t3"),
	CASE("replace_into", "REPLACE INTO kv VALUES ('k', 'v')", false,
	     "REPLACE INTO kv VALUES (?)", "REPLACE", "kv"),
	CASE("from_function", "SELECT * FROM generate_series(1, 10)", false,
	     "SELECT * FROM generate_series(?, ?)", "SELECT", ""),
	CASE("from_subquery", "SELECT * FROM (SELECT 1) s", false, "SELECT * FROM (SELECT ?) s",
	     "SELECT", ""),
	CASE("from_inside_call", "SELECT EXTRACT(YEAR FROM ts) FROM events", false,
	     "SELECT EXTRACT(YEAR FROM ts) FROM events", "SELECT", "events"),
	CASE("parenthesized_union", "(SELECT a FROM t1) UNION (SELECT a FROM t2)", false,
	     "(SELECT a FROM t1) UNION (SELECT a FROM t2)", "SELECT", "t1"),
	CASE("table_verb", "TABLE users", false, "TABLE users", "TABLE", "users"),
	CASE("truncate_table", "TRUNCATE TABLE a, b", false, "TRUNCATE TABLE a, b", "TRUNCATE",
	     "a"),
	CASE("drop_table", "DROP TABLE IF EXISTS old_users", false,
	     "DROP TABLE IF EXISTS old_users", "DROP TABLE", "old_users"),
	CASE("create_temp_table", "CREATE TEMPORARY TABLE tmp_x (id int)", false,
	     "CREATE TEMPORARY TABLE tmp_x (id int)", "CREATE TABLE", "tmp_x"),
	CASE("create_index", "CREATE INDEX i ON t (a)", false, "CREATE INDEX i ON t (a)", "CREATE",
	     ""),
	CASE("lock_tables", "LOCK TABLES t1 READ", false, "LOCK TABLES t1 READ", "LOCK", "t1"),
	CASE("lowercase_verb", "select * from Users", false, "select * from Users", "SELECT",
	     "Users"),
	CASE("first_statement_only", "SELECT 1; DELETE FROM t", false, "SELECT ?; DELETE FROM t",
	     "SELECT", ""),
	CASE("not_a_verb", "FOO BAR", false, "FOO BAR", "", ""),
	CASE("verb_prefix_word", "SELECTX 1", false, "SELECTX ?", "", ""),
	CASE("quoted_name_with_space", "SELECT * FROM \"weird name\"", false, "SELECT * FROM ?",
	     "SELECT", "", "weird"),
	CASE("collection_literal_never", "SELECT * FROM 'users'", false, "SELECT * FROM ?",
	     "SELECT", ""),
	CASE("collection_too_long",
	     "SELECT * FROM s0123456789012345678901234567890123456789012345678901234567890."
	     "t0123456789012345678901234567890123456789012345678901234567890123",
	     false,
	     "SELECT * FROM s0123456789012345678901234567890123456789012345678901234567890."
	     "t0123456789012345678901234567890123456789012345678901234567890123",
	     "SELECT", ""),
	CASE("collection_dot_at_end", "SELECT * FROM s.", false, "SELECT * FROM s.", "SELECT", ""),
	CASE("explain", "EXPLAIN SELECT * FROM t", false, "EXPLAIN SELECT * FROM t", "EXPLAIN", ""),
	CASE("copy_from_stdin", "COPY pgbench_accounts FROM STDIN", false,
	     "COPY pgbench_accounts FROM STDIN", "COPY", "pgbench_accounts"),
	CASE("copy_to_file", "COPY t TO '/tmp/secret.csv'", false, "COPY t TO ?", "COPY", "t",
	     "secret.csv"),
	/* real clients */
	CASE("psql_d",
	     "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN "
	     "pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname "
	     "OPERATOR(pg_catalog.~) "
	     "'^(users)$' COLLATE pg_catalog.default\n  AND "
	     "pg_catalog.pg_table_is_visible(c.oid)\nORDER "
	     "BY 2, 3;",
	     false,
	     "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN "
	     "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname "
	     "OPERATOR(pg_catalog.~) "
	     "? COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY ?, "
	     "?;",
	     "SELECT", "pg_catalog.pg_class", "^(users)$"),
	CASE("psql_dt",
	     "SELECT n.nspname as \"Schema\",\n  c.relname as \"Name\",\n  CASE c.relkind WHEN 'r' "
	     "THEN "
	     "'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' END as \"Type\",\n  "
	     "pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"\nFROM pg_catalog.pg_class c\n    "
	     " "
	     "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relkind IN "
	     "('r','p','')\n      AND n.nspname <> 'pg_catalog'\n      AND n.nspname !~ "
	     "'^pg_toast'\n"
	     "  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;",
	     false,
	     "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind WHEN ? THEN ? "
	     "WHEN ? "
	     "THEN ? WHEN ? THEN ? END as \"Type\", pg_catalog.pg_get_userbyid(c.relowner) as "
	     "\"Owner\" "
	     "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = "
	     "c.relnamespace "
	     "WHERE c.relkind IN (?) AND n.nspname <> ? AND n.nspname !~ ? AND "
	     "pg_catalog.pg_table_is_visible(c.oid) ORDER BY ?,?;",
	     "SELECT", "pg_catalog.pg_class", "materialized", "^pg_toast"),
	CASE("pgbench_simple_update",
	     "UPDATE pgbench_accounts SET abalance = abalance + -2416 WHERE aid = 58123;", false,
	     "UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?;", "UPDATE",
	     "pgbench_accounts", "2416", "58123"),
	CASE("pgbench_extended_select", "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
	     false, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", "SELECT",
	     "pgbench_accounts"),
	CASE("pgbench_history",
	     "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 58123, "
	     "-2416, "
	     "CURRENT_TIMESTAMP);",
	     false,
	     "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?,?,?,?, "
	     "CURRENT_TIMESTAMP);",
	     "INSERT", "pgbench_history", "58123", "2416"),
	CASE("pgbench_init_create",
	     "create table pgbench_history(tid int,bid int,aid    int,delta int,mtime "
	     "timestamp,filler "
	     "char(22))",
	     false,
	     "create table pgbench_history(tid int,bid int,aid int,delta int,mtime "
	     "timestamp,filler "
	     "char(?))",
	     "CREATE TABLE", "pgbench_history"),
	CASE("pgbench_init_copy", "copy pgbench_accounts from stdin with (freeze on)", false,
	     "copy pgbench_accounts from stdin with (freeze on)", "COPY", "pgbench_accounts"),
	CASE("pgbench_init_insert", "insert into pgbench_branches(bid,bbalance) values(1,0)", false,
	     "insert into pgbench_branches(bid,bbalance) values(?)", "INSERT", "pgbench_branches"),
	CASE("pgbench_vacuum", "vacuum analyze pgbench_branches", false,
	     "vacuum analyze pgbench_branches", "VACUUM", ""),
	CASE("pg_dump_search_path", "SELECT pg_catalog.set_config('search_path', '', false);",
	     false, "SELECT pg_catalog.set_config(?, ?, false);", "SELECT", "", "search_path"),
	CASE("jdbc_pg_application_name", "SET application_name = 'PostgreSQL JDBC Driver'", false,
	     "SET application_name = ?", "SET", "", "JDBC"),
	CASE("jdbc_pg_float_digits", "SET extra_float_digits = 3", false,
	     "SET extra_float_digits = ?", "SET", ""),
	CASE("django_pg",
	     "SELECT \"auth_user\".\"id\", \"auth_user\".\"password\" FROM \"auth_user\" WHERE "
	     "\"auth_user\".\"username\" = 'admin' LIMIT 21",
	     false,
	     "SELECT \"auth_user\".\"id\", \"auth_user\".\"password\" FROM \"auth_user\" WHERE "
	     "\"auth_user\".\"username\" = ? LIMIT ?",
	     "SELECT", "auth_user", "admin"),
	CASE("rails_mysql",
	     "SELECT `users`.* FROM `users` WHERE `users`.`email` = 'a.person@example.com' LIMIT 1",
	     false, "SELECT `users`.* FROM `users` WHERE `users`.`email` = ? LIMIT ?", "SELECT",
	     "users", "example.com", "person"),
	CASE("hibernate", "select u1_0.id,u1_0.name from users u1_0 where u1_0.id=?", false,
	     "select u1_0.id,u1_0.name from users u1_0 where u1_0.id=?", "SELECT", "users"),
	CASE("connector_j_preamble",
	     "/* mysql-connector-java-8.0.28 (Revision: 7ff2161da3899f379fb3171b6538b191b1c5c7e2) "
	     "*/SELECT  @@session.auto_increment_increment AS auto_increment_increment, "
	     "@@character_set_client AS character_set_client, @@max_allowed_packet AS "
	     "max_allowed_packet, @@sql_mode AS sql_mode",
	     false,
	     "SELECT @@session.auto_increment_increment AS auto_increment_increment, "
	     "@@character_set_client AS character_set_client, @@max_allowed_packet AS "
	     "max_allowed_packet, @@sql_mode AS sql_mode",
	     "SELECT", "", "Revision", "7ff2161d"),
	CASE("mysql_cli_version", "select @@version_comment limit 1", false,
	     "select @@version_comment limit ?", "SELECT", ""),
	CASE("mysql_version", "SELECT @@version", false, "SELECT @@version", "SELECT", ""),
	CASE("mysql_set_names", "SET NAMES utf8mb4", false, "SET NAMES utf8mb4", "SET", ""),
	CASE("mysql_set_names_collate", "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'", false,
	     "SET NAMES ? COLLATE ?", "SET", "", "general"),
	CASE("mysql_results_null", "SET character_set_results = NULL", false,
	     "SET character_set_results = NULL", "SET", ""),
	CASE("mysql_autocommit", "SET autocommit=1", false, "SET autocommit=?", "SET", ""),
	CASE("mysql_show_vars", "SHOW VARIABLES LIKE 'sql_mode'", false, "SHOW VARIABLES LIKE ?",
	     "SHOW", "", "sql_mode"),
	CASE("mysql_isolation", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", false,
	     "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "SET", ""),
	CASE("mysql_database", "SELECT DATABASE()", false, "SELECT DATABASE()", "SELECT", ""),
	CASE("mysql_sql_mode", "SET sql_mode='STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'", false,
	     "SET sql_mode=?", "SET", "", "STRICT"),
	CASE("mysql_alter_user", "ALTER USER 'root'@'localhost' IDENTIFIED BY 'S3cr3t!pw'", false,
	     "ALTER USER ?@? IDENTIFIED BY ?", "ALTER", "", "S3cr3t", "localhost"),
	CASE("pg_create_role", "CREATE ROLE app LOGIN PASSWORD 'S3cr3t!pw'", false,
	     "CREATE ROLE app LOGIN PASSWORD ?", "CREATE", "", "S3cr3t"),
	CASE("begin_commit", "BEGIN; COMMIT", false, "BEGIN; COMMIT", "BEGIN", ""),
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static size_t case_len(const struct sql_case *c)
{
	return c->len ? c->len : strlen(c->in);
}

/* An exactly-sized heap copy, so ASan sees a read one byte past the end. */
static char *dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

static long norm(const char *in, size_t len, bool truncated, char *out, size_t cap,
                 struct sql_info *info)
{
	char *copy = dup_exact(in, len);
	long r = sql_normalize(copy, len, truncated, out, cap, info);

	free(copy);
	return r;
}

static void assert_secrets(const struct sql_case *c, const char *out)
{
	for (int i = 0; i < SECRETS_MAX; i++)
		ck_assert_msg(!c->secrets[i] || !strstr(out, c->secrets[i]),
		              "%s: secret '%s' in '%s'", c->name, c->secrets[i], out);
}

/*
 * What a naive PostgreSQL-style reader takes for quoted strings ('...' with
 * '' inside, $$...$$) outside -- and block comments: none of their contents
 * may be in the output, unless the same bytes occur elsewhere in the input
 * (WHERE n.nspname <> 'pg_catalog' names pg_catalog too). Cases with
 * backslashes opt out (no_auto).
 */
static size_t naive_skip(const char *in, size_t len, size_t i)
{
	if (in[i] == '-' && i + 1 < len && in[i + 1] == '-') {
		while (i < len && in[i] != '\n')
			i++;
	} else if (in[i] == '/' && i + 1 < len && in[i + 1] == '*') {
		const char *e = memmem(in + i + 2, len - i - 2, "*/", 2);

		i = e ? (size_t)(e - in) + 2 : len;
	}
	return i;
}

static int occurrences(const char *hay, size_t n, const char *needle, size_t k)
{
	int count = 0;

	for (const char *p = hay; (p = memmem(p, n - (size_t)(p - hay), needle, k)) != NULL; p++)
		count++;
	return count;
}

static void assert_no_literal(const char *name, const char *in, size_t len, const char *out)
{
	size_t i = 0;

	while (i < len) {
		size_t j = naive_skip(in, len, i), start, end;
		const char *close = NULL;

		if (j != i) {
			i = j;
			continue;
		}
		if (in[i] == '\'') {
			start = end = i + 1;
			while (end < len &&
			       (in[end] != '\'' || (end + 1 < len && in[end + 1] == '\'')))
				end += in[end] == '\'' ? 2 : 1;
		} else if (in[i] == '$' && i + 1 < len && in[i + 1] == '$' &&
		           (close = memmem(in + i + 2, len - i - 2, "$$", 2)) != NULL) {
			start = i + 2;
			end = (size_t)(close - in);
		} else {
			i++;
			continue;
		}
		if (end > len)
			end = len;
		if (end - start >= LIT_MIN && occurrences(in, len, in + start, end - start) == 1)
			ck_assert_msg(!memmem(out, strlen(out), in + start, end - start),
			              "%s: literal '%.*s' in '%s'", name, (int)(end - start),
			              in + start, out);
		i = end + (close ? 2 : 1);
	}
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/*
 * Whatever the input, the output has no quote, no comment, no control byte,
 * no stray space, and no number: a digit only inside a name or a $n
 * (`names` aside: they are kept as written).
 * Returns what is wrong, or NULL. (One ck_assert per output: libcheck's
 * bookkeeping per assertion would dominate a per-byte loop.)
 */
static const char *shape_error(const char *out)
{
	size_t n = strlen(out);
	bool in_bq = false;

	if (n > 0 && (out[0] == ' ' || out[n - 1] == ' '))
		return "edge space";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i], d = (unsigned char)out[i + 1];

		if (c < ' ' || c == 0x7f)
			return "control byte";
		if (c == '`')
			in_bq = !in_bq;
		if (in_bq) /* `names` are kept whatever they hold */
			continue;
		if (c == '\'' || c == '\\')
			return "quote";
		if ((c == '-' && d == '-') || (c == '/' && d == '*') || (c == '#' && d != '>'))
			return "comment";
		if (c == ' ' && d == ' ')
			return "double space";
		if (c >= '0' && c <= '9' && (i == 0 || !name_char(out[i - 1])))
			return "number";
	}
	return NULL;
}

static void assert_shape(const char *name, const char *out)
{
	const char *err = shape_error(out);

	ck_assert_msg(err == NULL, "%s: %s in '%s'", name, err, out);
}

static void assert_info(const struct sql_case *c, const struct sql_info *info)
{
	char sum[SQL_SUMMARY_MAX];

	ck_assert_msg(strcmp(info->operation, c->op) == 0, "%s: operation '%s', want '%s'", c->name,
	              info->operation, c->op);
	ck_assert_msg(strcmp(info->collection, c->coll) == 0, "%s: collection '%s', want '%s'",
	              c->name, info->collection, c->coll);
	snprintf(sum, sizeof(sum), "%s%s%s", c->op, c->op[0] && c->coll[0] ? " " : "", c->coll);
	ck_assert_str_eq(info->summary, sum);
}

/* Normalizing an output again changes nothing. */
static void assert_idempotent(const char *name, const char *out)
{
	char again[OUT_MAX];
	long r = norm(out, strlen(out), false, again, sizeof(again), NULL);

	ck_assert_msg(r == (long)strlen(out) && strcmp(again, out) == 0,
	              "%s: second pass %ld '%s' != '%s'", name, r, again, out);
}

static void check_table(const struct sql_case *c)
{
	size_t len = case_len(c);
	struct sql_info info;
	char out[OUT_MAX];
	long r;

	memset(out, 'Z', sizeof(out));
	r = norm(c->in, len, c->truncated, out, sizeof(out), &info);
	if (!c->want) {
		ck_assert_msg(r == SQL_UNPARSEABLE, "%s: %ld '%s', want unparseable", c->name, r,
		              out);
		ck_assert_str_eq(out, "");
		ck_assert_str_eq(info.operation, "");
		ck_assert_str_eq(info.summary, "");
		return;
	}
	ck_assert_msg(r >= 0 && strcmp(out, c->want) == 0, "%s: got %ld '%s', want '%s'", c->name,
	              r, out, c->want);
	ck_assert_uint_eq((size_t)r, strlen(out));
	ck_assert_uint_le((size_t)r, len);
	assert_info(c, &info);
	assert_secrets(c, out);
	assert_shape(c->name, out);
	if (!c->no_auto)
		assert_no_literal(c->name, c->in, len, out);
	assert_idempotent(c->name, out);
}

/*
 * Every capacity from 0 to the input's length plus CAP_EXTRA, in an
 * exactly-sized buffer: too small gives SQL_TOO_LONG and "", never a cut
 * output; large enough gives the full output; never a write past cap.
 */
static void check_every_cap(const struct sql_case *c)
{
	size_t len = case_len(c), want = c->want ? strlen(c->want) : 0;

	for (size_t cap = 0; cap <= len + CAP_EXTRA; cap++) {
		char *out = malloc(cap ? cap : 1);
		struct sql_info info;
		long r;

		ck_assert_ptr_nonnull(out);
		memset(out, 'Z', cap);
		r = norm(c->in, len, c->truncated, cap ? out : NULL, cap, &info);
		if (!c->want)
			ck_assert_int_eq(r, SQL_UNPARSEABLE);
		else if (cap <= want)
			ck_assert_msg(r == SQL_TOO_LONG, "%s: cap %zu gave %ld", c->name, cap, r);
		else
			ck_assert_str_eq(out, c->want);
		if (cap > 0 && r < 0)
			ck_assert_int_eq(out[0], '\0');
		if (c->want)
			assert_info(c, &info); /* filled even when the text does not fit */
		free(out);
	}
}

/*
 * Every prefix, as the capture would cut it: the same guarantees, and a
 * text that parses whole parses at every cut. Not marked truncated, a
 * prefix must parse or be refused, never leak.
 */
static void check_prefixes(const struct sql_case *c)
{
	size_t len = case_len(c);

	for (size_t k = 0; k <= len; k++) {
		char out[OUT_MAX];
		long r = norm(c->in, k, true, out, sizeof(out), NULL);

		if (c->want)
			ck_assert_msg(r >= 0, "%s: prefix %zu unparseable", c->name, k);
		if (r >= 0) {
			ck_assert_uint_le((size_t)r, k);
			assert_secrets(c, out);
			assert_shape(c->name, out);
			if (!c->no_auto)
				assert_no_literal(c->name, c->in, k, out);
			assert_idempotent(c->name, out);
		}
		r = norm(c->in, k, false, out, sizeof(out), NULL);
		if (r >= 0) {
			assert_secrets(c, out);
			assert_shape(c->name, out);
		}
	}
}

/* The text ending at a PROT_NONE page: nothing reads past it. */
static void check_at_guard_page(const struct sql_case *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = case_len(c);
	char *base =
	        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char out[OUT_MAX];
	long r;

	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
	memcpy(base + page - len, c->in, len);
	r = sql_normalize(base + page - len, len, c->truncated, out, sizeof(out), NULL);
	if (c->want)
		ck_assert_str_eq(out, c->want);
	else
		ck_assert_int_eq(r, SQL_UNPARSEABLE);
	for (size_t k = 0; k <= len; k++)
		sql_normalize(base + page - k, k, true, out, sizeof(out), NULL);
	ck_assert_int_eq(munmap(base, 2 * page), 0);
}

/* One fork per case: libcheck forks per test, which is slow under ASan. */
START_TEST(sql_case)
{
	check_table(&cases[_i]);
	check_every_cap(&cases[_i]);
	check_prefixes(&cases[_i]);
	check_at_guard_page(&cases[_i]);
}
END_TEST

/* ---- adversarial inputs ---- */

static char *repeat(const char *unit, size_t times, const char *head, const char *tail, size_t *len)
{
	size_t u = strlen(unit), h = strlen(head), t = strlen(tail);
	char *p = malloc(h + u * times + t + 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, head, h);
	for (size_t i = 0; i < times; i++)
		memcpy(p + h + i * u, unit, u);
	memcpy(p + h + u * times, tail, t + 1);
	*len = h + u * times + t;
	return p;
}

struct big_case {
	const char *unit, *head, *tail;
	size_t times;
	bool truncated;
	long want_len; /* SAME: the output equals the input; or a return code */
	const char *want;
};

static const struct big_case bigs[] = {
	{ "a", "", "", BIG_LEN, false, SAME, NULL },
	{ "7", "", "", BIG_LEN, false, 1, "?" },
	{ "7", "SELECT ", "", BIG_LEN, true, 8, "SELECT ?" },
	{ "x", "SELECT '", "", BIG_LEN, true, 8, "SELECT ?" },
	{ "x", "SELECT '", "", BIG_LEN, false, SQL_UNPARSEABLE, NULL },
	{ "''", "SELECT '", "'", BIG_LEN, false, 8, "SELECT ?" },
	{ "\\'", "SELECT '", "'", BIG_LEN, false, 8, "SELECT ?" },
	{ "/*", "SELECT 1 ", "", BIG_LEN, false, SQL_UNPARSEABLE, NULL },
	{ "/*", "SELECT 1 ", "", BIG_LEN, true, 10, "SELECT ? ?" }, /* MySQL: / * / is one */
	{ "/* */", "SELECT 1", "", BIG_LEN, false, 8, "SELECT ?" },
	{ "(", "SELECT ", "1", BIG_LEN, false, (long)BIG_LEN + 8, NULL },
	{ "1, ", "SELECT * FROM t WHERE a IN (", "1)", IN_LIST_LONG, false, 30,
	  "SELECT * FROM t WHERE a IN (?)" },
	{ "(1, 'a'), ", "INSERT INTO t VALUES ", "(2, 'b')", IN_LIST_LONG, false, 24,
	  "INSERT INTO t VALUES (?)" },
	{ "1, ", "SELECT * FROM t WHERE a IN (", "", IN_LIST_LONG, true, 30,
	  "SELECT * FROM t WHERE a IN (?," },
	{ "$b$", "SELECT $a$", "", BIG_LEN, true, 8, "SELECT ?" },
	{ "$", "SELECT $a", "", 1, false, SQL_UNPARSEABLE, NULL }, /* $a$ opens, never closes */
	{ " \t\n", "SELECT", "1", BIG_LEN, false, 8, "SELECT ?" },
	{ "-- x\n", "SELECT", "1", BIG_LEN, false, 8, "SELECT ?" },
	{ "\"", "SELECT ", "", BIG_LEN, false, 8, "SELECT ?" }, /* "" pairs: one string */
	{ "`", "SELECT ", "", BIG_LEN, false, 8, "SELECT ?" },
	{ "\xc3\xa9", "SELECT ", "", BIG_LEN, false, SAME, NULL },
	{ "\xff", "SELECT ", "", BIG_LEN, false, SQL_UNPARSEABLE, NULL },
	{ "\xff", "SELECT '", "'", BIG_LEN, false, 8, "SELECT ?" },
	{ "a", "SELECT $", "$ x", DOLLAR_TAG_LONG, false, SQL_UNPARSEABLE, NULL },
};

START_TEST(sql_big)
{
	const struct big_case *b = &bigs[_i];
	size_t len, cap;
	char *in = repeat(b->unit, b->times, b->head, b->tail, &len), *out;
	long r;

	cap = len + 1;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	r = sql_normalize(in, len, b->truncated, out, cap, NULL);
	if (b->want_len == SAME) {
		ck_assert_int_eq(r, (long)len);
		ck_assert_mem_eq(out, in, len);
	} else {
		ck_assert_msg(r == b->want_len, "big %d: %ld, want %ld", _i, r, b->want_len);
	}
	if (b->want)
		ck_assert_str_eq(out, b->want);
	if (r >= 0) {
		assert_shape("big", out);
		ck_assert_uint_le((size_t)r, len);
	}
	free(out);
	free(in);
}
END_TEST

/* Every byte, alone and in each place a lexer treats differently. */
START_TEST(sql_every_byte)
{
	static const char *const frames[][2] = {
		{ "", "" },
		{ "SELECT ", " FROM t" },
		{ "SELECT '", "'" },
		{ "SELECT \"", "\"" },
		{ "SELECT `", "`" },
		{ "SELECT $$", "$$" },
		{ "-- ", "\nSELECT 1" },
		{ "/* ", " */ x" },
		{ "SELECT a", "" },
		{ "SELECT 1", "" },
		{ "SELECT E'", "'" },
		{ "SELECT '\\", "'" },
	};

	for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
		for (int b = 0; b < 256; b++) {
			char in[64], out[64];
			size_t hl = strlen(frames[f][0]), tl = strlen(frames[f][1]);
			long r;

			memcpy(in, frames[f][0], hl);
			in[hl] = (char)b;
			memcpy(in + hl + 1, frames[f][1], tl);
			for (int trunc = 0; trunc < 2; trunc++) {
				r = norm(in, hl + 1 + tl, trunc, out, sizeof(out), NULL);
				if (r < 0) {
					ck_assert_int_eq(r, SQL_UNPARSEABLE);
					continue;
				}
				assert_shape("byte", out);
				assert_idempotent("byte", out);
			}
		}
	}
}
END_TEST

/* Quotes inside quotes inside comments, in every combination of two readings. */
START_TEST(sql_nested_quotes)
{
	static const char *const texts[] = {
		"SELECT 'a\"b''c`d' FROM t WHERE x = \"e'f\"",
		"SELECT \"a''b\", `c'd`, 'e\\'f' FROM t",
		"SELECT $a$ ' \" ` $b$ $a$, $b$ $a$ ' $b$",
		"SELECT '/*', '*/', \"--\", `#` FROM t",
		"SELECT /* ' */ 1, /* \" */ 2 -- '\n, 3 # \"\n",
		"SELECT 'it\\'s', 'C:\\', 'x' FROM t",
		"SELECT '\\\\\\'', '\\\\' FROM t",
		"SELECT E'\\\\'' FROM t",
		"SELECT 'a' 'b' \"c\" \"d\" FROM t",
		"SELECT ''''''', '''' FROM t",
	};
	char out[OUT_MAX];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (size_t k = 0; k <= strlen(texts[i]); k++) {
			for (int trunc = 0; trunc < 2; trunc++) {
				long r = norm(texts[i], k, trunc, out, sizeof(out), NULL);

				if (r < 0)
					continue;
				assert_shape(texts[i], out);
				assert_idempotent(texts[i], out);
			}
		}
	}
}
END_TEST

START_TEST(sql_limits)
{
	char out[16];
	struct sql_info info;

	ck_assert_int_eq(sql_normalize(NULL, 0, false, out, sizeof(out), &info), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(sql_normalize(NULL, 1, false, out, sizeof(out), &info), SQL_UNPARSEABLE);
	ck_assert_int_eq(sql_normalize("x", 1, false, NULL, 0, NULL), SQL_TOO_LONG);
	ck_assert_int_eq(sql_normalize("", 0, false, NULL, 0, NULL), SQL_TOO_LONG);
	ck_assert_int_eq(sql_normalize("'", 1, false, NULL, 0, NULL), SQL_UNPARSEABLE);
	ck_assert_int_eq(sql_normalize("SELECT 1", 8, false, out, sizeof(out), NULL), 8);
	ck_assert_str_eq(out, "SELECT ?");
}
END_TEST

START_TEST(sql_input_max)
{
	size_t len = (size_t)SQL_INPUT_MAX + 1;
	char *in = malloc(len), out[16];

	ck_assert_ptr_nonnull(in);
	memset(in, 'a', len);
	ck_assert_int_eq(sql_normalize(in, len, false, out, sizeof(out), NULL), SQL_UNPARSEABLE);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(sql_normalize(in, len - 1, false, out, sizeof(out), NULL), SQL_TOO_LONG);
	free(in);
}
END_TEST

Suite *scrub_sql_suite(void)
{
	Suite *s = suite_create("scrub_sql");
	TCase *t = tcase_create("normalize");

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, sql_case, 0, N_CASES);
	tcase_add_loop_test(t, sql_big, 0, (int)(sizeof(bigs) / sizeof(bigs[0])));
	tcase_add_test(t, sql_every_byte);
	tcase_add_test(t, sql_nested_quotes);
	tcase_add_test(t, sql_limits);
	tcase_add_test(t, sql_input_max);
	suite_add_tcase(s, t);
	return s;
}
