// SPDX-License-Identifier: Apache-2.0
/*
 * URL path, query and key templating (see scrub_url.h for the rules).
 *
 * Trust boundary: every byte handed in comes from captured traffic and may
 * be cut anywhere. Output is written only through struct emit, which never
 * passes @cap and reports overflow instead of cutting, so a template is
 * either complete or "" (a cut template could end inside a kept value).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "processor/scrub_url.h"
#include "processor/text.h"

#define DECODE_ROUNDS_MAX 3   /* "%2540" style double encoding, and one more */
#define QUERY_NAME_MAX    256 /* a longer query name is never a kept name */
#define ERR_SHOW_MAX      64  /* bytes of a bad pattern quoted in an error */

#define STR_(x) #x
#define STR(x)  STR_(x)

#define PATH_SEPS  "/"
#define KEY_SEPS   ":/{}"
#define QUERY_SEPS "&"

/* ---- output ------------------------------------------------------------ */

struct emit {
	char *out;
	size_t cap;
	size_t len;
	bool full;
};

static void emit_init(struct emit *e, char *out, size_t cap)
{
	e->out = out;
	e->cap = cap > (size_t)LONG_MAX ? (size_t)LONG_MAX : cap;
	e->len = 0;
	e->full = cap == 0;
}

/* Append @n bytes if they fit with room left for the NUL. */
static void put(struct emit *e, const char *s, size_t n)
{
	if (e->full || e->cap - e->len <= n) {
		e->full = true;
		return;
	}
	memcpy(e->out + e->len, s, n);
	e->len += n;
}

static void put_str(struct emit *e, const char *s)
{
	put(e, s, strlen(s));
}

static long emit_finish(struct emit *e)
{
	if (e->cap == 0)
		return -ENOSPC;
	if (e->full) {
		e->out[0] = '\0';
		return -ENOSPC;
	}
	e->out[e->len] = '\0';
	return (long)e->len;
}

/* ---- splitting --------------------------------------------------------- */

/* Segments of s[0..n) between separator bytes: "/a/" is "", "a", "". */
struct cursor {
	const char *s;
	size_t n;
	size_t pos;
	const char *seps;
	bool end;
};

static void cursor_init(struct cursor *c, const char *s, size_t n, const char *seps)
{
	*c = (struct cursor){ .s = s, .n = n, .seps = seps };
}

static bool is_sep(const char *seps, char ch)
{
	return ch != '\0' && strchr(seps, ch) != NULL;
}

/* Next segment; *@sep is the separator after it, or '\0' for the last one. */
static bool cursor_next(struct cursor *c, const char **seg, size_t *len, char *sep)
{
	size_t i = c->pos;

	if (c->end)
		return false;
	while (i < c->n && !is_sep(c->seps, c->s[i]))
		i++;
	*seg = c->s + c->pos;
	*len = i - c->pos;
	*sep = i < c->n ? c->s[i] : '\0';
	c->end = i == c->n;
	c->pos = i + 1;
	return true;
}

/* ---- byte classes ------------------------------------------------------ */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alnum(unsigned char c)
{
	return is_digit(c) || is_upper(c) || is_lower(c);
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Word bytes of tokens: base64 and base64url alphabets ('=' padding aside). */
static bool is_word(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '+' || c == '/';
}

/* Punctuation that numbers are written with: cards, phones, dates, IPs. */
static bool is_number_punct(unsigned char c)
{
	return c == '-' || c == '.' || c == ',' || c == '_' || c == '+' || c == '(' || c == ')' ||
	       c == ' ';
}

/* ---- text validity ----------------------------------------------------- */

/* Printable text: valid UTF-8 without C0 controls or DEL (NUL included). */
static bool text_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t k = text_utf8_seq(u + i, n - i);

		if (k == 0 || u[i] < 0x20 || u[i] == 0x7f)
			return false;
		i += k;
	}
	return true;
}

static bool is_escape(const char *s, size_t n, size_t i)
{
	return s[i] == '%' && n - i > 2 && hex_val((unsigned char)s[i + 1]) >= 0 &&
	       hex_val((unsigned char)s[i + 2]) >= 0;
}

/* Every '%' starts an escape: anything else is malformed on the wire. */
static bool escapes_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '%' && !is_escape(s, n, i))
			return false;
	return true;
}

static bool has_escape(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_escape(s, n, i))
			return true;
	return false;
}

/*
 * Decode %XX in place (the output is never longer); a '%' that starts no
 * escape stays. @plus: '+' is a space (query strings). Returns the length.
 */
static size_t pct_decode(char *s, size_t n, bool plus)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_escape(s, n, i)) {
			s[o++] = (char)(hex_val((unsigned char)s[i + 1]) * 16 +
			                hex_val((unsigned char)s[i + 2]));
			i += 2;
		} else {
			s[o++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	return o;
}

/* ---- identifier heuristics --------------------------------------------- */

/* Digit statistics of a whole segment. */
static bool number_like(const unsigned char *s, size_t n)
{
	size_t digits = 0, run = 0, dots = 0;
	bool only_number = true;

	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			digits++;
			if (++run >= ID_DIGIT_RUN_MIN)
				return true; /* account numbers, timestamps, phone numbers */
			continue;
		}
		run = 0;
		dots += s[i] == '.';
		if (!is_number_punct(s[i]))
			only_number = false;
	}
	if (!only_number || digits == 0)
		return false;
	return digits == n || digits >= ID_NUMBER_DIGITS_MIN || dots >= ID_NUMBER_DOTS_MIN;
}

/* A run of ID_HEX_RUN_MIN hex digits anywhere: hashes, ids glued to words. */
static bool hex_run(const unsigned char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = hex_val(s[i]) >= 0 ? run + 1 : 0;
		if (run >= ID_HEX_RUN_MIN)
			return true;
	}
	return false;
}

/* A word of hex digits and dashes only: UUIDs whose groups are short. */
static bool hex_word(const unsigned char *w, size_t n)
{
	size_t hex = 0;

	for (size_t i = 0; i < n; i++) {
		if (hex_val(w[i]) >= 0)
			hex++;
		else if (w[i] != '-')
			return false;
	}
	return hex >= ID_HEX_RUN_MIN;
}

struct word_stats {
	size_t alnum;
	bool upper, lower, digit;
	size_t digit_switches; /* adjacent letter/digit pairs */
	size_t case_switches;  /* adjacent upper/lower pairs */
	size_t longest_run;    /* alnum bytes without a '-', '_', '+' or '/' */
	size_t vowels;
};

static void word_count(const unsigned char *w, size_t n, struct word_stats *st)
{
	size_t run = 0;

	*st = (struct word_stats){ 0 };
	for (size_t i = 0; i < n; i++) {
		unsigned char c = w[i], p = i > 0 ? w[i - 1] : 0;

		if (!is_alnum(c)) {
			run = 0;
			continue;
		}
		st->alnum++;
		if (++run > st->longest_run)
			st->longest_run = run;
		st->upper |= is_upper(c);
		st->lower |= is_lower(c);
		st->digit |= is_digit(c);
		st->vowels += strchr("aeiouAEIOU", c) != NULL;
		if (i == 0 || !is_alnum(p))
			continue;
		if (is_digit(c) != is_digit(p))
			st->digit_switches++;
		else if (!is_digit(c) && is_upper(c) != is_upper(p))
			st->case_switches++;
	}
}

/*
 * Random tokens mix classes and switch between them often; words, slugs
 * ("kubernetes-guide-2023") and CamelCase names switch rarely. Three
 * classes are enough on their own: a random base64 word of 20 bytes almost
 * always has all three. Letters of one case and digits (base32, base36)
 * may switch rarely by chance, but such alphabets have no separators,
 * whereas names made of words and numbers separate them.
 */
static bool token_word(const unsigned char *w, size_t n)
{
	struct word_stats st;

	if (n < ID_TOKEN_LEN_MIN)
		return false;
	word_count(w, n, &st);
	if (st.upper && st.lower && st.digit)
		return true;
	if (st.digit && (st.upper || st.lower))
		return st.digit_switches >= ID_TOKEN_DIGIT_SWITCH_MIN ||
		       st.longest_run >= ID_TOKEN_LEN_MIN;
	if (st.upper && st.lower) /* CamelCase words switch less and have more vowels */
		return st.case_switches * ID_TOKEN_CASE_DIV >= st.alnum ||
		       st.vowels * ID_TOKEN_MIXED_VOWEL_DIV < st.alnum;
	/*
	 * One case, no digits: random letters have few vowels, words many; a
	 * word of capitals this long is rare, base32 without digits is not.
	 */
	if (st.longest_run < ID_TOKEN_LEN_MIN)
		return false;
	return st.upper || st.vowels * ID_TOKEN_VOWEL_DIV < st.alnum;
}

/* Does any word (a run of is_word() bytes) pass @test? */
static bool any_word(const unsigned char *s, size_t n,
                     bool (*test)(const unsigned char *w, size_t wn))
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;

		while (i < n && is_word(s[i]))
			i++;
		if (i > start && test(s + start, i - start))
			return true;
		if (i == start)
			i++;
	}
	return false;
}

static bool rule_at(const unsigned char *s, size_t n)
{
	return memchr(s, '@', n) != NULL;
}

static bool rule_param(const unsigned char *s, size_t n)
{
	return memchr(s, '=', n) != NULL || memchr(s, ';', n) != NULL;
}

static bool rule_hex(const unsigned char *s, size_t n)
{
	return hex_run(s, n) || any_word(s, n, hex_word);
}

static bool rule_token(const unsigned char *s, size_t n)
{
	return any_word(s, n, token_word);
}

/*
 * The content rules, tried in order on the raw segment and on each
 * decoding; the first that matches names the reason. Malformed segments
 * (URL_RULE_MALFORMED) are caught before these run.
 */
static const struct {
	enum url_rule rule;
	bool (*match)(const unsigned char *s, size_t n);
} content_rules[] = {
	{ URL_RULE_EMAIL, rule_at },      /* e-mail addresses, @handles */
	{ URL_RULE_PARAM, rule_param },   /* "a;jsessionid=...": a value inside a segment */
	{ URL_RULE_NUMBER, number_like }, /* ids, cards, phones, dates, IPv4 */
	{ URL_RULE_HEX, rule_hex },       /* UUIDs, ObjectIds, hashes */
	{ URL_RULE_TOKEN, rule_token },   /* base64(url), base32/36, JWT parts */
};

const char *const url_rule_names[URL_RULES] = {
	[URL_RULE_MALFORMED] = "url_malformed",
	[URL_RULE_EMAIL] = "url_email",
	[URL_RULE_PARAM] = "url_param",
	[URL_RULE_NUMBER] = "url_number",
	[URL_RULE_HEX] = "url_hex",
	[URL_RULE_TOKEN] = "url_token",
};

static int content_rule(const char *seg, size_t n)
{
	for (size_t i = 0; i < sizeof(content_rules) / sizeof(content_rules[0]); i++)
		if (content_rules[i].match((const unsigned char *)seg, n))
			return (int)content_rules[i].rule;
	return -1;
}

int segment_id_rule(const char *seg, size_t len)
{
	char buf[SEGMENT_LEN_MAX];
	size_t n = len;
	int rule;

	if (len == 0)
		return -1;
	if (!seg || len > SEGMENT_LEN_MAX || !text_ok(seg, len) || !escapes_ok(seg, len))
		return URL_RULE_MALFORMED;
	if ((rule = content_rule(seg, len)) >= 0)
		return rule;
	memcpy(buf, seg, len);
	for (int round = 0; round < DECODE_ROUNDS_MAX; round++) {
		if (!has_escape(buf, n))
			return -1;
		n = pct_decode(buf, n, false);
		if (!text_ok(buf, n))
			return URL_RULE_MALFORMED;
		if ((rule = content_rule(buf, n)) >= 0)
			return rule;
	}
	/* Still encoded after DECODE_ROUNDS_MAX rounds: hiding something. */
	return has_escape(buf, n) ? URL_RULE_MALFORMED : -1;
}

bool segment_is_identifier(const char *seg, size_t len)
{
	return segment_id_rule(seg, len) >= 0;
}

/* ---- routes ------------------------------------------------------------ */

void route_set_init(struct route_set *rs)
{
	if (rs)
		rs->n = 0;
}

/* Quote at most ERR_SHOW_MAX bytes of @s, non-printables as '?'. */
static void err_quote(char *q, size_t qcap, const char *s, size_t n)
{
	size_t k = n < qcap - 1 ? n : qcap - 1;

	for (size_t i = 0; i < k; i++)
		q[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	q[k] = '\0';
}

static int route_err(char *err, size_t errlen, int rc, const char *pattern, size_t plen,
                     const char *what)
{
	char q[ERR_SHOW_MAX + 1];

	if (err && errlen > 0) {
		err_quote(q, sizeof(q), pattern ? pattern : "", pattern ? plen : 0);
		snprintf(err, errlen, "route \"%s%s\": %s", q, plen > ERR_SHOW_MAX ? "..." : "",
		         what);
	}
	return rc;
}

static bool is_param(const char *seg, size_t n)
{
	return n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
}

/* NULL if the segment is acceptable, else what is wrong with it. */
static const char *route_seg_problem(const char *seg, size_t n, bool last)
{
	if (n == 1 && seg[0] == '*')
		return last ? NULL : "'*' is only allowed as the last segment";
	if (is_param(seg, n)) {
		if (n == 2)
			return "a parameter needs a name, as in {id}";
		for (size_t i = 1; i + 1 < n; i++)
			if (!is_alnum((unsigned char)seg[i]) && seg[i] != '_' && seg[i] != '-')
				return "a parameter name is letters, digits, '_' and '-'";
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)seg[i];

		if (c <= 0x20 || c >= 0x7f)
			return "a literal segment is printable ASCII without spaces";
		if (strchr("{}*?#", c))
			return "'{', '}', '*', '?' and '#' only as a whole {name} or * segment";
	}
	return NULL;
}

int route_set_add(struct route_set *rs, const char *pattern, char *err, size_t errlen)
{
	size_t len = pattern ? strnlen(pattern, ROUTE_LEN_MAX + 1) : 0;
	struct cursor c;
	const char *seg, *why = NULL;
	size_t slen;
	char sep;

	if (!rs || !pattern)
		return route_err(err, errlen, -EINVAL, pattern, len, "no route set or pattern");
	if (len > ROUTE_LEN_MAX)
		return route_err(err, errlen, -EINVAL, pattern, len,
		                 "longer than " STR(ROUTE_LEN_MAX) " bytes");
	if (len == 0 || pattern[0] != '/')
		return route_err(err, errlen, -EINVAL, pattern, len, "must start with '/'");
	if (rs->n >= ROUTE_MAX)
		return route_err(err, errlen, -ENOSPC, pattern, len,
		                 "the set already holds " STR(ROUTE_MAX) " routes");
	cursor_init(&c, pattern, len, PATH_SEPS);
	while (!why && cursor_next(&c, &seg, &slen, &sep))
		why = route_seg_problem(seg, slen, c.end);
	if (why)
		return route_err(err, errlen, -EINVAL, pattern, len, why);
	memcpy(rs->routes[rs->n].pattern, pattern, len + 1);
	rs->routes[rs->n].len = len;
	rs->routes[rs->n].wildcard = pattern[len - 1] == '*';
	rs->n++;
	return 0;
}

static bool seg_matches(const char *r, size_t rn, const char *p, size_t pn)
{
	if (is_param(r, rn))
		return !(pn == 1 && p[0] == '*');
	return rn == pn && memcmp(r, p, rn) == 0;
}

/*
 * Walk the pattern and the path together. A "*" needs one more path
 * segment (for a cut path, the partial one); a pattern without it must use
 * up a complete path exactly.
 */
static bool route_matches(const struct route *rt, const char *path, size_t len, bool truncated)
{
	struct cursor rc, pc;
	const char *rs, *ps;
	size_t rn, pn;
	char sep;

	if (truncated && !rt->wildcard)
		return false;
	cursor_init(&rc, rt->pattern, rt->len, PATH_SEPS);
	cursor_init(&pc, path, len, PATH_SEPS);
	while (cursor_next(&rc, &rs, &rn, &sep)) {
		bool have = cursor_next(&pc, &ps, &pn, &sep);

		if (rc.end && rt->wildcard)
			return have;
		if (!have || (truncated && pc.end) || !seg_matches(rs, rn, ps, pn))
			return false;
	}
	return pc.end;
}

static const struct route *route_find(const struct route_set *rs, const char *path, size_t len,
                                      bool truncated)
{
	size_t n = rs ? rs->n : 0;

	for (size_t i = 0; i < n && i < ROUTE_MAX; i++)
		if (route_matches(&rs->routes[i], path, len, truncated))
			return &rs->routes[i];
	return NULL;
}

/* ---- templates --------------------------------------------------------- */

/* Split at @seps; identifiers become "{id}", a cut last segment "...". */
static void template_segments(struct emit *e, const char *s, size_t len, bool truncated,
                              const char *seps)
{
	struct cursor c;
	const char *seg;
	size_t n;
	char sep;

	cursor_init(&c, s, len, seps);
	while (!e->full && cursor_next(&c, &seg, &n, &sep)) {
		if (c.end && truncated)
			put_str(e, URL_CUT);
		else if (segment_is_identifier(seg, n))
			put_str(e, URL_ID);
		else
			put(e, seg, n);
		if (!c.end)
			put(e, &sep, 1);
	}
}

long url_template(const char *path, size_t len, bool truncated, const struct route_set *rs,
                  char *out, size_t cap, bool *matched)
{
	const struct route *rt;
	struct emit e;

	if (matched)
		*matched = false;
	if (!out || (!path && len > 0))
		return -EINVAL;
	if (!path)
		path = "";
	emit_init(&e, out, cap);
	rt = route_find(rs, path, len, truncated);
	if (rt) {
		put(&e, rt->pattern, rt->len);
		if (matched)
			*matched = !e.full;
	} else {
		template_segments(&e, path, len, truncated, PATH_SEPS);
	}
	return emit_finish(&e);
}

long key_template(const char *key, size_t len, bool truncated, char *out, size_t cap)
{
	struct emit e;

	if (!out || (!key && len > 0))
		return -EINVAL;
	emit_init(&e, out, cap);
	template_segments(&e, key ? key : "", len, truncated, KEY_SEPS);
	return emit_finish(&e);
}

/* Is @name (raw, @n bytes) one of @keep once decoded? */
static bool name_kept(const char *name, size_t n, const char *const *keep)
{
	char buf[QUERY_NAME_MAX];
	size_t dn;

	if (!keep || n > sizeof(buf))
		return false;
	memcpy(buf, name, n);
	dn = pct_decode(buf, n, true);
	for (size_t i = 0; keep[i]; i++)
		if (strlen(keep[i]) == dn && memcmp(keep[i], buf, dn) == 0)
			return true;
	return false;
}

static void put_name(struct emit *e, const char *name, size_t n)
{
	if (segment_is_identifier(name, n))
		put_str(e, URL_ID);
	else
		put(e, name, n);
}

/* One '&'-separated element; @cut: the capture ended inside it. */
static void query_element(struct emit *e, const char *s, size_t n, bool cut,
                          const char *const *keep)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen, vlen;

	if (!eq) {
		if (cut)
			put_str(e, URL_CUT);
		else
			put_name(e, s, n);
		return;
	}
	nlen = (size_t)(eq - s);
	vlen = n - nlen - 1;
	if (name_kept(s, nlen, keep)) {
		put(e, s, nlen + 1);
		if (!cut && text_ok(eq + 1, vlen))
			put(e, eq + 1, vlen);
		else
			put_str(e, "?");
		return;
	}
	put_name(e, s, nlen);
	put_str(e, "=?");
}

long url_query_redact(const char *q, size_t len, bool truncated, const char *const *keep, char *out,
                      size_t cap)
{
	struct cursor c;
	struct emit e;
	const char *el;
	size_t n;
	char sep;

	if (!out || (!q && len > 0))
		return -EINVAL;
	emit_init(&e, out, cap);
	cursor_init(&c, q ? q : "", len, QUERY_SEPS);
	while (!e.full && cursor_next(&c, &el, &n, &sep)) {
		query_element(&e, el, n, truncated && c.end, keep);
		if (!c.end)
			put(&e, &sep, 1);
	}
	return emit_finish(&e);
}
