/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQL normalizer: the scrubber's rule for db.query.text. Captured statements
 * (PostgreSQL, MySQL/MariaDB) carry literals, and literals carry passwords,
 * tokens and personal data; only the statement's shape may leave the node.
 *
 * A lexer, not a parser: captures keep only the first bytes of a statement,
 * so the text must be handled whatever its end. The rules, in order:
 *
 *  - Literals become "?": '...' strings, E'', N'', B'', X'', U&'', _charset'',
 *    dollar quotes ($$...$$, $tag$...$tag$), numbers (integers, decimals,
 *    exponents, 0x.., 0b..; a sign directly before a number where an operand
 *    cannot stand, as in "= -5", is part of it: "= ?"). TRUE, FALSE, NULL
 *    stay: they are words.
 *  - "..." is an identifier in PostgreSQL and a string in MySQL. It is kept
 *    only when its content looks like an identifier ([A-Za-z_][A-Za-z0-9_$]*,
 *    at most 64 bytes) and it does not stand where a value does: after a
 *    comparison (=, <, >, and what ends in them), after LIKE/ILIKE/RLIKE/
 *    REGEXP/THEN/ELSE, IDENTIFIED BY, PASSWORD( / AGAINST(, inside IN (...) or
 *    a VALUES row; "x". is always a qualifier. Anything else becomes "?".
 *    A MySQL string that looks like an identifier outside those places
 *    (SELECT "abc", f("abc")) is kept: the detector pass must catch it.
 *    `...` (MySQL) is always a name: kept as written if it holds at most 64
 *    bytes of printable text or UTF-8 without quotes or backslashes.
 *  - Comments are removed (they act as a space): -- to the end of the line,
 *    # to the end of the line (MySQL; "#>" is PostgreSQL's JSON operator and
 *    stays, any other # in PostgreSQL loses the rest of its line), and
 *    block comments, MySQL's executable ("slash-star-bang") and optimizer
 *    hint ("slash-star-plus") forms included.
 *  - IN (?, ?, ...) becomes IN (?); VALUES (?, ?), (?, ?) becomes VALUES (?).
 *    Only lists whose every item is "?" collapse; a list that turns out to
 *    hold something else ($1, NULL, f()) is written back with the part held
 *    so far respelled without spaces: IN (?,?, NULL). A list cut by the end
 *    of the text collapses to "(?" (or "(?,").
 *  - Whitespace runs become one space; leading and trailing space goes.
 *    Words (keywords keep their case), operators and placeholders ($1, ?,
 *    :name, @var) are kept.
 *
 * Dialects: backslash escapes in '...' and "..." (MySQL; PostgreSQL only in
 * E'') and nested block comments (PostgreSQL) are read both ways. A reading
 * that meets a byte no SQL allows (below) is ruled out. The output comes
 * from a reading that holds to the end of the text (to the cut, if
 * truncated), MySQL's if both do. Wherever the other reading is still
 * possible, even if it ends inside an open quote, both must yield the same
 * tokens: the output stops with "?" at the first token they disagree on.
 * The cost: a MySQL string with a single \' usually ends the output there
 * (read PostgreSQL's way, the rest is an open string), unless the
 * PostgreSQL reading then meets a stray backslash and is ruled out.
 * Neither reading holds: unparseable.
 *
 * Bytes: outside quotes and comments only printable ASCII, whitespace and
 * UTF-8 inside words are allowed; a backslash, a control character, a lone
 * "$", a $tag$ over 64 bytes or invalid UTF-8 there makes the text
 * unparseable. Inside literals and comments anything goes: it is removed.
 */
#ifndef BPFWARDEN_PROCESSOR_SCRUB_SQL_H
#define BPFWARDEN_PROCESSOR_SCRUB_SQL_H

#include <stdbool.h>
#include <stddef.h>

#define SQL_OP_MAX         32
#define SQL_COLLECTION_MAX 128
#define SQL_SUMMARY_MAX    192
#define SQL_INPUT_MAX      (1u << 20) /* longer texts are refused: 16 KiB is the capture limit */

#define SQL_UNPARSEABLE -1
#define SQL_TOO_LONG    -2

/*
 * What the first statement is about, OpenTelemetry style; every field is
 * NUL-terminated and "" when unknown.
 *   operation:  the first keyword, uppercased, if it is a statement verb
 *               (SELECT, INSERT, UPDATE, DELETE, SET, BEGIN, ...). WITH gives
 *               the main verb after the CTEs, or "WITH" if it is cut away.
 *               CREATE/ALTER/DROP TABLE give "CREATE TABLE" etc.
 *   collection: the main table as written, quotes removed, schema kept
 *               ("public.users"): FROM x (SELECT, DELETE), INTO x (INSERT,
 *               REPLACE, MERGE), UPDATE x, TABLE x, COPY x, TRUNCATE x,
 *               CREATE/ALTER/DROP TABLE x, LOCK x. Never a literal; "" when
 *               the name is a subquery or function, does not fit, or may be
 *               cut by the truncation.
 *   summary:    "operation collection", "" parts omitted ("SELECT users").
 */
struct sql_info {
	char operation[SQL_OP_MAX];
	char collection[SQL_COLLECTION_MAX];
	char summary[SQL_SUMMARY_MAX];
};

/*
 * Normalize @len bytes of SQL at @in (NULL only when @len is 0) into @out
 * (@cap bytes; NULL only when @cap is 0), NUL-terminated. @truncated: the
 * capture cut the text, so it may end mid-token; an unterminated literal,
 * quoted name or comment then ends the output (a literal as "?"). Without
 * @truncated, a reading that leaves one open cannot be the output's (see
 * Dialects): with neither reading left, the text is unparseable.
 *
 * Returns the output length (NUL excluded), at most @len;
 * SQL_UNPARSEABLE when the text cannot be vouched for (nothing of it may be
 * exported; @out is "" and @info all ""); SQL_TOO_LONG when the output needs
 * more than @cap - 1 bytes (@out is "", @info is still filled). Normalizing
 * the output again gives the same output. @info may be NULL.
 */
long sql_normalize(const char *in, size_t len, bool truncated, char *out, size_t cap,
                   struct sql_info *info);

#endif
