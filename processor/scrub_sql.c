// SPDX-License-Identifier: Apache-2.0
/*
 * SQL normalizer; the rules are in scrub_sql.h.
 *
 * Trust boundary: the text comes straight from captured traffic, so it is
 * hostile and may be cut anywhere. One lexer with O(1) state, no recursion
 * and no allocation, run in three passes: the MySQL reading and the
 * PostgreSQL reading each once, to see how far the text survives them;
 * then the output pass runs the chosen reading with the other one in step
 * as a shadow that must produce the very same tokens (see choose()). The
 * output is a function of the token stream only, which is what makes a
 * second normalization change nothing. Every write is checked against the
 * caller's capacity.
 */
#include <stdint.h>
#include <string.h>

#include "processor/scrub_sql.h"
#include "processor/text.h"

#define DOLLAR_TAG_MAX 64 /* bytes of $tag$; PostgreSQL names have at most 63 */
#define QIDENT_MAX     64 /* content of a kept "..." or `...`: MySQL's name limit */
#define KEYWORD_MAX    16 /* longest word worth looking up (HIGH_PRIORITY) */
#define NO_DEPTH       (-1)

_Static_assert(SQL_SUMMARY_MAX >= SQL_OP_MAX + SQL_COLLECTION_MAX, "summary holds both parts");
_Static_assert(SQL_INPUT_MAX < (1u << 30), "depths and lengths fit an int and a long");

enum tok_kind {
	TK_END,
	TK_SPACE,   /* whitespace or a comment: at most one space in the output */
	TK_WORD,    /* keyword or unquoted name: kept */
	TK_QIDENT,  /* quoted name: kept */
	TK_LITERAL, /* string, number, dollar quote: "?" */
	TK_PARAM,   /* $1 or ?: kept */
	TK_OP,      /* one punctuation byte: kept */
	TK_BAD,     /* a byte no SQL allows here */
};

struct tok {
	enum tok_kind kind;
	size_t s, e; /* [s, e) of the input */
	bool open;   /* the input ended inside it */
	int kw;      /* TK_WORD: index in keywords[] + 1, or 0 */
};

/* Keywords the lexer, the list collapser or the summary act on. */
enum kw_id {
	KW_OTHER,
	KW_WITH,
	KW_TABLE,
	KW_FROM,
	KW_IN,
	KW_VALUES,
	KW_BY,
	KW_IDENTIFIED,
};

enum kw_flag {
	F_VERB = 1 << 0,          /* a statement may start with it: the operation */
	F_MAIN = 1 << 1,          /* the main verb after WITH's CTEs */
	F_NONOPERAND = 1 << 2,    /* a sign after it starts a number: SELECT -1 */
	F_LITAFTER = 1 << 3,      /* "..." after it is a value: LIKE "x%" */
	F_LITFUNC = 1 << 4,       /* "..." as its first argument is a value */
	F_SKIP_INTO = 1 << 5,     /* INSERT [IGNORE] [INTO] name */
	F_SKIP_DIRECT = 1 << 6,   /* UPDATE [ONLY] name, TRUNCATE [TABLE] name */
	F_SKIP_FROM = 1 << 7,     /* FROM [ONLY] name */
	F_SKIP_DDL_PRE = 1 << 8,  /* CREATE [TEMP] TABLE */
	F_SKIP_DDL_POST = 1 << 9, /* CREATE TABLE [IF NOT EXISTS] name */
};

/* Where a verb's collection is named. */
enum verb_mode { M_NONE, M_FROM, M_INTO, M_DIRECT, M_DDL, M_WITH };

struct keyword {
	const char *name; /* uppercase */
	enum kw_id id;
	unsigned flags;
	enum verb_mode mode;
};

#define VERB(n, m)                                                                                 \
	{                                                                                          \
		n, KW_OTHER, F_VERB, m                                                             \
	}
#define MAIN(n, m, f)                                                                              \
	{                                                                                          \
		n, KW_OTHER, F_VERB | F_MAIN | (f), m                                              \
	}
#define WORD(n, id, flags)                                                                         \
	{                                                                                          \
		n, id, flags, M_NONE                                                               \
	}

static const struct keyword keywords[] = {
	MAIN("SELECT", M_FROM, F_NONOPERAND),
	MAIN("INSERT", M_INTO, 0),
	MAIN("UPDATE", M_DIRECT, 0),
	MAIN("DELETE", M_FROM, 0),
	MAIN("MERGE", M_INTO, 0),
	{ "WITH", KW_WITH, F_VERB, M_WITH },
	{ "TABLE", KW_TABLE, F_VERB | F_SKIP_DIRECT, M_DIRECT }, /* PostgreSQL TABLE t */
	{ "VALUES", KW_VALUES, F_VERB | F_NONOPERAND, M_NONE },
	VERB("REPLACE", M_INTO), /* MySQL */
	VERB("COPY", M_DIRECT),
	VERB("TRUNCATE", M_DIRECT),
	VERB("LOCK", M_DIRECT),
	VERB("CREATE", M_DDL),
	VERB("ALTER", M_DDL),
	VERB("DROP", M_DDL),
	/* verbs without a collection */
	VERB("SET", M_NONE),
	VERB("SHOW", M_NONE),
	VERB("BEGIN", M_NONE),
	VERB("START", M_NONE),
	VERB("COMMIT", M_NONE),
	VERB("ROLLBACK", M_NONE),
	VERB("SAVEPOINT", M_NONE),
	VERB("RELEASE", M_NONE),
	VERB("EXPLAIN", M_NONE),
	VERB("ANALYZE", M_NONE),
	VERB("VACUUM", M_NONE),
	VERB("CALL", M_NONE),
	VERB("DO", M_NONE),
	VERB("GRANT", M_NONE),
	VERB("REVOKE", M_NONE),
	VERB("PREPARE", M_NONE),
	VERB("EXECUTE", M_NONE),
	VERB("DEALLOCATE", M_NONE),
	VERB("DECLARE", M_NONE),
	VERB("FETCH", M_NONE),
	VERB("CLOSE", M_NONE),
	VERB("LISTEN", M_NONE),
	VERB("NOTIFY", M_NONE),
	VERB("UNLISTEN", M_NONE),
	VERB("DISCARD", M_NONE),
	VERB("RESET", M_NONE),
	VERB("USE", M_NONE),
	VERB("DESCRIBE", M_NONE),
	VERB("DESC", M_NONE),
	VERB("KILL", M_NONE),
	VERB("LOAD", M_NONE),
	VERB("REINDEX", M_NONE),
	VERB("CLUSTER", M_NONE),
	VERB("COMMENT", M_NONE),
	VERB("REFRESH", M_NONE),
	VERB("CHECKPOINT", M_NONE),
	VERB("ABORT", M_NONE),
	VERB("END", M_NONE),
	VERB("OPTIMIZE", M_NONE),
	VERB("FLUSH", M_NONE),
	VERB("RENAME", M_NONE),
	VERB("HANDLER", M_NONE),
	/* the way to a collection */
	WORD("FROM", KW_FROM, 0),
	WORD("INTO", KW_OTHER, F_SKIP_INTO),
	WORD("IGNORE", KW_OTHER, F_SKIP_INTO | F_SKIP_DIRECT),
	WORD("LOW_PRIORITY", KW_OTHER, F_SKIP_INTO | F_SKIP_DIRECT),
	WORD("DELAYED", KW_OTHER, F_SKIP_INTO),
	WORD("HIGH_PRIORITY", KW_OTHER, F_SKIP_INTO),
	WORD("ONLY", KW_OTHER, F_SKIP_DIRECT | F_SKIP_FROM | F_SKIP_DDL_POST),
	WORD("TABLES", KW_OTHER, F_SKIP_DIRECT),
	WORD("IF", KW_OTHER, F_SKIP_DDL_POST),
	WORD("EXISTS", KW_OTHER, F_SKIP_DDL_POST),
	WORD("NOT", KW_OTHER, F_SKIP_DDL_POST | F_NONOPERAND),
	WORD("TEMP", KW_OTHER, F_SKIP_DDL_PRE),
	WORD("TEMPORARY", KW_OTHER, F_SKIP_DDL_PRE),
	WORD("UNLOGGED", KW_OTHER, F_SKIP_DDL_PRE),
	WORD("GLOBAL", KW_OTHER, F_SKIP_DDL_PRE),
	WORD("LOCAL", KW_OTHER, F_SKIP_DDL_PRE),
	/* what comes after these is a value, not an operand's continuation */
	WORD("IN", KW_IN, F_NONOPERAND),
	WORD("BY", KW_BY, F_NONOPERAND),
	WORD("WHERE", KW_OTHER, F_NONOPERAND),
	WORD("AND", KW_OTHER, F_NONOPERAND),
	WORD("OR", KW_OTHER, F_NONOPERAND),
	WORD("WHEN", KW_OTHER, F_NONOPERAND),
	WORD("THEN", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("ELSE", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("LIKE", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("ILIKE", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("RLIKE", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("REGEXP", KW_OTHER, F_NONOPERAND | F_LITAFTER),
	WORD("RETURN", KW_OTHER, F_NONOPERAND),
	WORD("LIMIT", KW_OTHER, F_NONOPERAND),
	WORD("OFFSET", KW_OTHER, F_NONOPERAND),
	WORD("IS", KW_OTHER, F_NONOPERAND),
	WORD("BETWEEN", KW_OTHER, F_NONOPERAND),
	WORD("CASE", KW_OTHER, F_NONOPERAND),
	WORD("ON", KW_OTHER, F_NONOPERAND),
	WORD("HAVING", KW_OTHER, F_NONOPERAND),
	WORD("DEFAULT", KW_OTHER, F_NONOPERAND),
	WORD("INTERVAL", KW_OTHER, F_NONOPERAND),
	WORD("DISTINCT", KW_OTHER, F_NONOPERAND),
	WORD("ALL", KW_OTHER, F_NONOPERAND),
	/* MySQL credentials in "...": IDENTIFIED BY "pw", PASSWORD("pw") */
	WORD("IDENTIFIED", KW_IDENTIFIED, 0),
	WORD("PASSWORD", KW_OTHER, F_LITFUNC),
	WORD("OLD_PASSWORD", KW_OTHER, F_LITFUNC),
	WORD("AGAINST", KW_OTHER, F_LITFUNC),
};

#define N_KEYWORDS ((int)(sizeof(keywords) / sizeof(keywords[0])))

/* The last significant tokens a lexer saw: what "..." and a sign mean depends on them. */
struct prev {
	enum tok_kind kind; /* TK_END: none yet */
	char op;            /* TK_OP: the byte */
	int kw;             /* TK_WORD: keyword index + 1, or 0 */
};

struct lexer {
	const char *in;
	size_t len, pos;
	bool backslash; /* '...' and "..." take backslash escapes: the MySQL reading */
	bool nest;      /* block comments nest: the PostgreSQL reading */
	struct prev p1, p2;
	int depth;        /* parentheses open */
	int in_depth;     /* depth inside IN (...), or NO_DEPTH */
	int values_depth; /* depth of an open VALUES, or NO_DEPTH */
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Names may hold any non-ASCII character (both servers agree). */
static bool ident_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || is_digit(c) || c == '$';
}

/* Is @w (@n bytes) the uppercase keyword @kw, ignoring ASCII case? */
static bool kw_equal(const char *w, size_t n, const char *kw)
{
	for (size_t i = 0; i < n; i++)
		if (kw[i] == '\0' || (w[i] & ~0x20) != kw[i])
			return false;
	return kw[n] == '\0';
}

static int kw_lookup(const char *w, size_t n)
{
	if (n > KEYWORD_MAX || !is_alpha((unsigned char)w[0]))
		return 0;
	for (int i = 0; i < N_KEYWORDS; i++)
		if (keywords[i].name[0] == (w[0] & ~0x20) && kw_equal(w, n, keywords[i].name))
			return i + 1;
	return 0;
}

static enum kw_id kw_id(int kw)
{
	return kw ? keywords[kw - 1].id : KW_OTHER;
}

static unsigned kw_flags(int kw)
{
	return kw ? keywords[kw - 1].flags : 0;
}

/* A capture cut inside a UTF-8 character: its first bytes go, they say nothing. */
static size_t trim_cut_char(const unsigned char *s, size_t len)
{
	size_t i = len, need;

	while (i > 0 && len - i < 3 && (s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || s[i - 1] < 0xc2 || s[i - 1] > 0xf4)
		return len;
	i--;
	need = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
	return len - i < need ? i : len;
}

static void set_tok(struct tok *t, enum tok_kind kind, size_t s, size_t e, bool open)
{
	t->kind = kind;
	t->s = s;
	t->e = e;
	t->open = open;
}

/* The end of the quote opening at @q (past its closing quote), or len if open. */
static size_t quote_end(const struct lexer *lx, size_t q, bool esc, bool *closed)
{
	char quote = lx->in[q];
	size_t i = q + 1;

	while (i < lx->len) {
		if (lx->in[i] == quote) {
			if (i + 1 < lx->len && lx->in[i + 1] == quote) {
				i += 2; /* '' inside '...' */
				continue;
			}
			*closed = true;
			return i + 1;
		}
		i += esc && lx->in[i] == '\\' ? 2 : 1;
	}
	*closed = false;
	return lx->len;
}

/* "...": a name only if it looks like one; secrets look like names too, see below. */
static bool dq_shape(const char *s, size_t n)
{
	if (n == 0 || n > QIDENT_MAX || !(is_alpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '$'))
			return false;
	}
	return true;
}

/* `...` is always a name; kept if printable and free of quotes and escapes. */
static bool bq_shape(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > QIDENT_MAX)
		return false;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = text_utf8_seq((const unsigned char *)s + i, n - i);

		if (k == 0 || c < 0x20 || c == 0x7f || c == '\\' || c == '\'' || c == '"' ||
		    c == '`')
			return false;
		i += k;
	}
	return true;
}

/* Does a value stand here, so that "..." is a MySQL string? */
static bool value_context(const struct lexer *lx)
{
	const struct prev *p = &lx->p1, *q = &lx->p2;

	if (p->kind == TK_OP && (p->op == '=' || p->op == '<' || p->op == '>'))
		return true;
	if (p->kind == TK_WORD && (kw_flags(p->kw) & F_LITAFTER))
		return true;
	if (p->kind == TK_WORD && kw_id(p->kw) == KW_BY && q->kind == TK_WORD &&
	    kw_id(q->kw) == KW_IDENTIFIED)
		return true;
	if (p->kind == TK_OP && p->op == '(' && q->kind == TK_WORD && (kw_flags(q->kw) & F_LITFUNC))
		return true;
	if (lx->in_depth != NO_DEPTH && lx->depth >= lx->in_depth)
		return true;
	return lx->values_depth != NO_DEPTH && lx->depth > lx->values_depth;
}

static bool number_start(const struct lexer *lx, size_t i)
{
	if (i >= lx->len)
		return false;
	if (is_digit((unsigned char)lx->in[i]))
		return true;
	return lx->in[i] == '.' && i + 1 < lx->len && is_digit((unsigned char)lx->in[i + 1]);
}

/* A "." operator at @e makes "x" before it a qualifier ("x".5 is a number after it). */
static bool dot_follows(const struct lexer *lx, size_t e)
{
	return e < lx->len && lx->in[e] == '.' && !number_start(lx, e);
}

static void lex_squote(struct lexer *lx, struct tok *t, size_t s, size_t q, bool esc)
{
	bool closed;
	size_t e = quote_end(lx, q, esc, &closed);

	set_tok(t, TK_LITERAL, s, e, !closed);
}

/* "..." opening at @q (@s: where its U& prefix starts). "x". is always a qualifier. */
static void lex_dquote(struct lexer *lx, struct tok *t, size_t s, size_t q)
{
	bool closed, keep;
	size_t e = quote_end(lx, q, lx->backslash, &closed);

	keep = closed && dq_shape(lx->in + q + 1, e - q - 2) &&
	       (!value_context(lx) || dot_follows(lx, e));
	set_tok(t, keep ? TK_QIDENT : TK_LITERAL, s, e, !closed);
}

static void lex_bquote(struct lexer *lx, struct tok *t)
{
	bool closed;
	size_t q = lx->pos, e = quote_end(lx, q, false, &closed);
	bool keep = closed && bq_shape(lx->in + q + 1, e - q - 2);

	set_tok(t, keep ? TK_QIDENT : TK_LITERAL, q, e, !closed);
}

static size_t block_comment_end(const struct lexer *lx, bool *closed)
{
	size_t i = lx->pos + 2, level = 1;

	while (i < lx->len) {
		bool next_star = i + 1 < lx->len && lx->in[i + 1] == '*';

		if (lx->in[i] == '*' && i + 1 < lx->len && lx->in[i + 1] == '/') {
			i += 2;
			if (--level == 0) {
				*closed = true;
				return i;
			}
		} else if (lx->nest && lx->in[i] == '/' && next_star) {
			level++;
			i += 2;
		} else {
			i++;
		}
	}
	*closed = false;
	return lx->len;
}

/* -- and # comments end at the line's end; so does the text. */
static size_t line_end(const struct lexer *lx, size_t i)
{
	while (i < lx->len && lx->in[i] != '\n' && lx->in[i] != '\r')
		i++;
	return i;
}

/*
 * Everything a number may run into goes with it (1e-5, 0x1F, 0b01, 1abc,
 * which MySQL reads as a name): it all becomes "?", so being generous costs
 * nothing and leaves no digits behind.
 */
static size_t number_end(const struct lexer *lx, size_t i)
{
	const unsigned char *in = (const unsigned char *)lx->in;

	while (i < lx->len) {
		unsigned char c = in[i];

		if (is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c >= 0x80)
			i++;
		else if ((c == '+' || c == '-') && (in[i - 1] | 0x20) == 'e' && i + 1 < lx->len &&
		         is_digit(in[i + 1]))
			i++;
		else
			break;
	}
	return i;
}

/* Could the last token end an operand, making a sign after it an operator? */
static bool operand_before(const struct lexer *lx)
{
	switch (lx->p1.kind) {
	case TK_END:
		return false;
	case TK_WORD:
		return !(kw_flags(lx->p1.kw) & F_NONOPERAND);
	case TK_OP:
		return lx->p1.op == ')' || lx->p1.op == ']';
	default:
		return true;
	}
}

/* The end of the dollar quote whose tag is [@s, @s + @tlen), searched from @i. */
static size_t dollar_end(const struct lexer *lx, size_t s, size_t tlen, size_t i, bool *closed)
{
	const char *d;

	while (i < lx->len && (d = memchr(lx->in + i, '$', lx->len - i)) != NULL) {
		i = (size_t)(d - lx->in);
		if (lx->len - i >= tlen && memcmp(d, lx->in + s, tlen) == 0) {
			*closed = true;
			return i + tlen;
		}
		i++;
	}
	*closed = false;
	return lx->len;
}

/* $1, $tag$...$tag$, $$...$$, or a MySQL name starting with $. */
static void lex_dollar(struct lexer *lx, struct tok *t)
{
	const unsigned char *in = (const unsigned char *)lx->in;
	size_t s = lx->pos, i = s + 1, e;
	bool closed;

	if (i < lx->len && is_digit(in[i])) {
		while (i < lx->len && is_digit(in[i]))
			i++;
		set_tok(t, TK_PARAM, s, i, false);
		return;
	}
	while (i < lx->len && ident_char(in[i]) && in[i] != '$') {
		size_t k = text_utf8_seq(in + i, lx->len - i);

		if (k == 0) {
			set_tok(t, TK_BAD, s, i + 1, false);
			return;
		}
		i += k;
	}
	if (i < lx->len && in[i] == '$') {
		if (i + 1 - s > DOLLAR_TAG_MAX) {
			set_tok(t, TK_BAD, s, i + 1, false);
			return;
		}
		e = dollar_end(lx, s, i + 1 - s, i + 1, &closed);
		set_tok(t, TK_LITERAL, s, e, !closed);
		return;
	}
	if (i > s + 1) {
		set_tok(t, TK_WORD, s, i, false);
		return;
	}
	/* A lone $ is nothing in either dialect, unless the capture cut a $$ or $1. */
	set_tok(t, i == lx->len ? TK_LITERAL : TK_BAD, s, s + 1, i == lx->len);
}

/* E'..', N'..', B'..', X'..', U&'..', U&"..": the prefix belongs to the quote. */
static bool prefix_quote(struct lexer *lx, struct tok *t, size_t s, size_t e)
{
	char c = (char)(lx->in[s] | 0x20);

	if (e - s != 1 || e >= lx->len)
		return false;
	if (lx->in[e] == '\'' && (c == 'e' || c == 'n' || c == 'b' || c == 'x')) {
		lex_squote(lx, t, s, e, c == 'e' || lx->backslash);
		return true;
	}
	if (c != 'u' || lx->in[e] != '&' || e + 1 >= lx->len)
		return false;
	if (lx->in[e + 1] == '\'')
		lex_squote(lx, t, s, e + 1, lx->backslash);
	else if (lx->in[e + 1] == '"')
		lex_dquote(lx, t, s, e + 1);
	else
		return false;
	return true;
}

static void lex_word(struct lexer *lx, struct tok *t)
{
	const unsigned char *in = (const unsigned char *)lx->in;
	size_t s = lx->pos, i = s;

	while (i < lx->len && ident_char(in[i])) {
		size_t k = text_utf8_seq(in + i, lx->len - i);

		if (k == 0) {
			set_tok(t, TK_BAD, s, i + 1, false);
			return;
		}
		i += k;
	}
	if (prefix_quote(lx, t, s, i))
		return;
	set_tok(t, TK_WORD, s, i, false);
	t->kw = kw_lookup(lx->in + s, i - s);
}

/* Comments, signed numbers, ?, and single-byte operators. */
static void lex_punct(struct lexer *lx, struct tok *t)
{
	size_t s = lx->pos;
	unsigned char c = (unsigned char)lx->in[s];
	char next = s + 1 < lx->len ? lx->in[s + 1] : '\0';
	bool closed;

	if ((c == '-' && next == '-') || (c == '#' && next != '>'))
		set_tok(t, TK_SPACE, s, line_end(lx, s), false);
	else if (c == '/' && next == '*') {
		size_t e = block_comment_end(lx, &closed);

		set_tok(t, TK_SPACE, s, e, !closed);
	} else if ((c == '-' || c == '+') && number_start(lx, s + 1) && !operand_before(lx))
		set_tok(t, TK_LITERAL, s, number_end(lx, s + 1), false);
	else if (c == '?')
		set_tok(t, TK_PARAM, s, s + 1, false);
	else if (c > ' ' && c < 0x7f && c != '\\')
		set_tok(t, TK_OP, s, s + 1, false);
	else
		set_tok(t, TK_BAD, s, s + 1, false);
}

static void track_op(struct lexer *lx, char op)
{
	if (op == '(') {
		lx->depth++;
		if (lx->p1.kind == TK_WORD && kw_id(lx->p1.kw) == KW_IN && lx->in_depth == NO_DEPTH)
			lx->in_depth = lx->depth;
	} else if (op == ')') {
		if (lx->depth == lx->in_depth)
			lx->in_depth = NO_DEPTH;
		if (lx->depth == lx->values_depth)
			lx->values_depth = NO_DEPTH;
		if (lx->depth > 0)
			lx->depth--;
	} else if (op == ';') {
		lx->depth = 0;
		lx->in_depth = lx->values_depth = NO_DEPTH;
	}
}

/* VALUES lasts until a word at its own depth (ON DUPLICATE KEY, RETURNING). */
static void track_word(struct lexer *lx, int kw)
{
	if (kw_id(kw) == KW_VALUES)
		lx->values_depth = lx->depth;
	else if (lx->values_depth == lx->depth)
		lx->values_depth = NO_DEPTH;
}

static void note(struct lexer *lx, const struct tok *t)
{
	struct prev p = { t->kind, '\0', t->kw };

	if (t->kind == TK_OP) {
		p.op = lx->in[t->s];
		track_op(lx, p.op);
	} else if (t->kind == TK_WORD) {
		track_word(lx, t->kw);
	}
	lx->p2 = lx->p1;
	lx->p1 = p;
}

static void lex_next(struct lexer *lx, struct tok *t)
{
	unsigned char c;
	size_t i = lx->pos;

	t->kw = 0;
	if (i >= lx->len) {
		set_tok(t, TK_END, lx->len, lx->len, false);
		return;
	}
	c = (unsigned char)lx->in[i];
	if (is_space(c)) {
		while (i < lx->len && is_space((unsigned char)lx->in[i]))
			i++;
		set_tok(t, TK_SPACE, lx->pos, i, false);
	} else if (c == '\'') {
		lex_squote(lx, t, i, i, lx->backslash);
	} else if (c == '"') {
		lex_dquote(lx, t, i, i);
	} else if (c == '`') {
		lex_bquote(lx, t);
	} else if (c == '$') {
		lex_dollar(lx, t);
	} else if (number_start(lx, i)) {
		set_tok(t, TK_LITERAL, i, number_end(lx, i), false);
	} else if (ident_start(c)) {
		lex_word(lx, t);
	} else {
		lex_punct(lx, t);
	}
	lx->pos = t->e;
	if (t->kind != TK_SPACE && t->kind != TK_BAD)
		note(lx, t);
}

static void lexer_init(struct lexer *lx, const char *in, size_t len, bool mysql)
{
	memset(lx, 0, sizeof(*lx));
	lx->in = in;
	lx->len = len;
	lx->backslash = mysql;
	lx->nest = !mysql;
	lx->p1.kind = lx->p2.kind = TK_END;
	lx->in_depth = lx->values_depth = NO_DEPTH;
}

/*
 * How far the text survives a reading: READ_BAD, a byte no SQL allows, rules
 * the reading out; READ_OPEN, a quote or comment still open at the end, is
 * what a cut capture looks like, so the reading stays possible (its
 * literals must be respected) even when it cannot be the one output.
 */
enum reading { READ_BAD, READ_OPEN, READ_OK };

static enum reading try_reading(const char *in, size_t len, bool mysql)
{
	enum reading r = READ_OK;
	struct lexer lx;
	struct tok t;

	lexer_init(&lx, in, len, mysql);
	do {
		lex_next(&lx, &t);
		if (t.kind == TK_BAD)
			return READ_BAD;
		if (t.open)
			r = READ_OPEN;
	} while (t.kind != TK_END);
	return r;
}

/* ---- output ---- */

struct outbuf {
	char *buf;
	size_t cap, n;
	bool over;  /* something did not fit: nothing is returned */
	bool space; /* whitespace or a comment since the last token */
};

static void out_raw(struct outbuf *o, const char *s, size_t k)
{
	if (o->over || k >= o->cap - o->n) { /* n < cap holds while !over */
		o->over = true;
		return;
	}
	memcpy(o->buf + o->n, s, k);
	o->n += k;
}

static void out_sep(struct outbuf *o)
{
	if (o->space && o->n > 0)
		out_raw(o, " ", 1);
	o->space = false;
}

/*
 * IN (...) and VALUES (...), (...) are held back while every item is "?",
 * as counts only: the list then collapses. Anything else ends the hold and
 * the list is written out as it was seen, in a canonical spacing.
 */
enum lmode {
	L_IDLE,
	L_ARMED,  /* IN or VALUES was the last token */
	L_ITEM,   /* after "(" or ",": an item may come */
	L_SEP,    /* after an item: "," or ")" */
	L_ROWSEP, /* VALUES, after a row: "," may start another */
	L_OPEN,   /* VALUES, after "),": "(" may start another row */
};

struct lists {
	enum lmode m;
	bool values;
	size_t rows, items;
};

/* What the summary has seen of the first statement. */
enum istage { IS_START, IS_WITH, IS_FROM, IS_DDL, IS_SKIP, IS_NAME, IS_DOT, IS_DONE };

struct isum {
	enum istage st;
	int depth, base;
	unsigned skip;   /* keyword flags passed over before the name */
	bool func;       /* FROM x(...) names a function */
	size_t name_end; /* input offset after the name so far */
	char op[SQL_OP_MAX];
	char coll[SQL_COLLECTION_MAX];
	size_t clen;
};

struct norm {
	const char *in;
	size_t len;
	bool truncated;
	bool shadowed; /* both readings survived: they must agree */
	bool bad;
	struct lexer prim, shadow;
	struct outbuf o;
	struct lists l;
	struct isum is;
};

static bool is_op(const struct norm *n, const struct tok *t, char c)
{
	return t->kind == TK_OP && n->in[t->s] == c;
}

static bool is_item(const struct norm *n, const struct tok *t)
{
	return t->kind == TK_LITERAL || (t->kind == TK_PARAM && n->in[t->s] == '?');
}

static void out_tok(struct norm *n, const struct tok *t)
{
	out_sep(&n->o);
	if (t->kind == TK_LITERAL)
		out_raw(&n->o, "?", 1);
	else
		out_raw(&n->o, n->in + t->s, t->e - t->s);
}

/* The held list: collapsed, or (@full) item by item. */
static void list_write(struct norm *n, bool full)
{
	struct lists *l = &n->l;

	if (l->m == L_ROWSEP || l->m == L_OPEN) {
		out_raw(&n->o, l->m == L_OPEN ? "(?)," : "(?)", l->m == L_OPEN ? 4 : 3);
		return;
	}
	if (l->rows)
		out_raw(&n->o, "(?),", 4);
	out_raw(&n->o, "(", 1);
	for (size_t i = 0; i < l->items && (full || i == 0) && !n->o.over; i++)
		out_raw(&n->o, i ? ",?" : "?", i ? 2 : 1);
	if (l->m == L_ITEM && l->items)
		out_raw(&n->o, ",", 1);
}

/* Feed @t to the held list; false when @t ends it and is still to be written. */
static bool list_step(struct norm *n, const struct tok *t)
{
	struct lists *l = &n->l;
	enum lmode next = L_IDLE;

	if (l->m == L_ITEM && is_item(n, t)) {
		l->items++;
		next = L_SEP;
	} else if (l->m == L_SEP && is_op(n, t, ',')) {
		next = L_ITEM;
	} else if (l->m == L_SEP && is_op(n, t, ')') && !l->values) {
		out_raw(&n->o, "(?)", 3);
		next = L_IDLE;
		l->m = L_IDLE;
		n->o.space = false;
		return true;
	} else if (l->m == L_SEP && is_op(n, t, ')')) {
		l->rows++;
		l->items = 0;
		next = L_ROWSEP;
	} else if ((l->m == L_ROWSEP && is_op(n, t, ',')) || (l->m == L_OPEN && is_op(n, t, '('))) {
		next = l->m == L_ROWSEP ? L_OPEN : L_ITEM;
	}
	if (next == L_IDLE) {
		list_write(n, true);
		l->m = L_IDLE;
		return false;
	}
	l->m = next;
	n->o.space = false; /* spacing inside a held list is canonical */
	return true;
}

static bool holding(const struct lists *l)
{
	return l->m != L_IDLE && l->m != L_ARMED;
}

static void emit(struct norm *n, const struct tok *t)
{
	struct lists *l = &n->l;

	if (holding(l) && list_step(n, t))
		return;
	if (l->m == L_ARMED && is_op(n, t, '(')) {
		out_sep(&n->o);
		l->m = L_ITEM;
		l->rows = l->items = 0;
		return;
	}
	l->m = L_IDLE;
	out_tok(n, t);
	if (t->kind == TK_WORD && (kw_id(t->kw) == KW_IN || kw_id(t->kw) == KW_VALUES)) {
		l->m = L_ARMED;
		l->values = kw_id(t->kw) == KW_VALUES;
	}
}

/* ---- summary ---- */

/* Append @word to the operation (all table words fit: CREATE TABLE is the longest). */
static void info_op_add(struct isum *s, const char *word)
{
	size_t a = strlen(s->op), b = strlen(word);

	if (a + b < sizeof(s->op))
		memcpy(s->op + a, word, b + 1);
}

static void info_clear_name(struct isum *s)
{
	s->clen = 0;
	s->coll[0] = '\0';
	s->st = IS_DONE;
}

static bool partial(const struct norm *n, const struct tok *t)
{
	return n->truncated && t->e == n->len;
}

static void info_verb(struct norm *n, int kw)
{
	struct isum *s = &n->is;

	s->op[0] = '\0';
	info_op_add(s, keywords[kw - 1].name);
	s->func = false;
	switch (keywords[kw - 1].mode) {
	case M_FROM:
		s->st = IS_FROM;
		break;
	case M_INTO:
		s->st = IS_SKIP;
		s->skip = F_SKIP_INTO;
		break;
	case M_DIRECT:
		s->st = IS_SKIP;
		s->skip = F_SKIP_DIRECT;
		break;
	case M_DDL:
		s->st = IS_DDL;
		break;
	default:
		s->st = IS_DONE;
	}
}

static void info_start(struct norm *n, const struct tok *t)
{
	struct isum *s = &n->is;

	if (is_op(n, t, '(')) {
		s->base++; /* (SELECT ...) UNION ...: the verb sits one level down */
		return;
	}
	if (t->kind != TK_WORD || !(kw_flags(t->kw) & F_VERB) || partial(n, t)) {
		s->st = IS_DONE;
		return;
	}
	if (kw_id(t->kw) == KW_WITH) {
		info_op_add(s, "WITH");
		s->st = IS_WITH;
		return;
	}
	info_verb(n, t->kw);
}

/* The name's text, quotes removed; kept quoted names hold no quote inside. */
static bool ident_text(const struct norm *n, const struct tok *t, const char **p, size_t *k)
{
	size_t q = t->s;

	if (t->kind == TK_WORD) {
		*p = n->in + t->s;
		*k = t->e - t->s;
		return true;
	}
	if (t->kind != TK_QIDENT)
		return false;
	if (n->in[q] != '"' && n->in[q] != '`')
		q += 2; /* U& */
	*p = n->in + q + 1;
	*k = t->e - q - 2;
	return true;
}

static void info_name_part(struct norm *n, const struct tok *t)
{
	struct isum *s = &n->is;
	const char *p;
	size_t k;

	if (!ident_text(n, t, &p, &k) || s->clen + 1 + k >= sizeof(s->coll)) {
		info_clear_name(s);
		return;
	}
	if (s->clen)
		s->coll[s->clen++] = '.';
	memcpy(s->coll + s->clen, p, k);
	s->clen += k;
	s->coll[s->clen] = '\0';
	s->name_end = t->e;
	s->st = IS_NAME;
}

static void info_step(struct norm *n, const struct tok *t)
{
	struct isum *s = &n->is;
	bool word = t->kind == TK_WORD, top = s->depth == s->base;

	switch (s->st) {
	case IS_START:
		info_start(n, t);
		break;
	case IS_WITH:
		if (word && top && (kw_flags(t->kw) & F_MAIN) && !partial(n, t))
			info_verb(n, t->kw);
		break;
	case IS_FROM:
		if (word && top && kw_id(t->kw) == KW_FROM) {
			s->st = IS_SKIP;
			s->skip = F_SKIP_FROM;
			s->func = true;
		}
		break;
	case IS_DDL:
		if (word && (kw_flags(t->kw) & F_SKIP_DDL_PRE))
			break;
		if (word && kw_id(t->kw) == KW_TABLE && !partial(n, t)) {
			info_op_add(s, " TABLE");
			s->st = IS_SKIP;
			s->skip = F_SKIP_DDL_POST;
		} else {
			s->st = IS_DONE;
		}
		break;
	case IS_SKIP:
		if (!(word && (kw_flags(t->kw) & s->skip)))
			info_name_part(n, t);
		break;
	case IS_NAME:
		if (is_op(n, t, '.'))
			s->st = IS_DOT;
		else if (s->func && is_op(n, t, '('))
			info_clear_name(s);
		else
			s->st = IS_DONE;
		break;
	case IS_DOT:
		info_name_part(n, t);
		break;
	case IS_DONE:
		break;
	}
}

static void info_feed(struct norm *n, const struct tok *t)
{
	struct isum *s = &n->is;

	if (s->st == IS_DONE)
		return;
	info_step(n, t);
	if (is_op(n, t, '('))
		s->depth++;
	else if (is_op(n, t, ')') && s->depth > 0)
		s->depth--;
	else if (is_op(n, t, ';') && s->st != IS_NAME && s->st != IS_DOT)
		s->st = IS_DONE; /* the first statement is the one summarized */
}

/* @cut: the text ends before the statement does, so a last name may be partial. */
static void info_end(struct norm *n, bool cut)
{
	struct isum *s = &n->is;

	if (s->st == IS_DOT || (s->st == IS_NAME && cut && s->name_end == n->len))
		info_clear_name(s);
}

static void info_write(const struct isum *s, struct sql_info *info)
{
	size_t a = strlen(s->op);

	memcpy(info->operation, s->op, sizeof(info->operation));
	memcpy(info->collection, s->coll, sizeof(info->collection));
	memcpy(info->summary, s->op, a + 1);
	if (a && s->clen)
		info->summary[a++] = ' ';
	memcpy(info->summary + a, s->coll, s->clen + 1);
}

/* ---- driver ---- */

/* The shadow reading's next token must be the same one, or the readings part here. */
static bool shadow_agrees(struct norm *n, const struct tok *t)
{
	struct tok s;

	if (!n->shadowed)
		return true;
	do
		lex_next(&n->shadow, &s);
	while (s.kind == TK_SPACE);
	return s.kind == t->kind && s.s == t->s && s.e == t->e;
}

static void run(struct norm *n)
{
	bool cut = n->truncated;
	struct tok t;

	for (;;) {
		lex_next(&n->prim, &t);
		if (t.kind == TK_END)
			break;
		if (t.kind == TK_BAD) { /* the dry run let nothing like it through */
			n->bad = true;
			return;
		}
		if (t.kind == TK_SPACE) {
			n->o.space = true;
			if (t.open)
				break;
			continue;
		}
		if (!shadow_agrees(n, &t)) { /* nothing after this can be vouched for */
			set_tok(&t, TK_LITERAL, t.s, n->len, true);
			cut = true;
		}
		info_feed(n, &t);
		emit(n, &t);
		if (t.open)
			break;
	}
	if (holding(&n->l))
		list_write(n, false);
	info_end(n, cut);
}

/*
 * Pick the reading to output (MySQL's if both hold to the end, or to the
 * cut) and whether the other one shadows it. False: neither holds.
 */
static bool choose(struct norm *n)
{
	enum reading my = try_reading(n->in, n->len, true);
	enum reading pg = try_reading(n->in, n->len, false);
	bool use_my = my == READ_OK || (n->truncated && my == READ_OPEN);

	if (!use_my && pg != READ_OK && !(n->truncated && pg == READ_OPEN))
		return false;
	n->shadowed = use_my ? pg != READ_BAD : my != READ_BAD;
	lexer_init(&n->prim, n->in, n->len, use_my);
	lexer_init(&n->shadow, n->in, n->len, !use_my);
	return true;
}

long sql_normalize(const char *in, size_t len, bool truncated, char *out, size_t cap,
                   struct sql_info *info)
{
	struct norm n;

	if (info)
		memset(info, 0, sizeof(*info));
	if (cap > 0)
		out[0] = '\0';
	if ((!in && len > 0) || len > SQL_INPUT_MAX)
		return SQL_UNPARSEABLE;
	memset(&n, 0, sizeof(n));
	n.in = in;
	n.truncated = truncated;
	n.len = truncated ? trim_cut_char((const unsigned char *)in, len) : len;
	n.o = (struct outbuf){ .buf = out, .cap = cap, .over = cap == 0 };
	if (!choose(&n))
		return SQL_UNPARSEABLE;
	run(&n);
	if (n.bad) { /* cannot happen: the chosen reading met no stray byte */
		if (cap > 0)
			out[0] = '\0';
		return SQL_UNPARSEABLE;
	}
	if (info)
		info_write(&n.is, info);
	if (n.o.over) {
		if (cap > 0)
			out[0] = '\0';
		return SQL_TOO_LONG;
	}
	out[n.o.n] = '\0';
	return (long)n.o.n;
}
