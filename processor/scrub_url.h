/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URL and key templating: the part of the scrubber that turns request paths,
 * query strings and Redis keys into low-cardinality templates before they
 * leave the node. "/api/users/42/orders" becomes "/api/users/{id}/orders",
 * "token=abc&page=2" becomes "token=?&page=2" when "page" is kept.
 *
 * Everything here reads untrusted bytes that may have been cut anywhere by
 * the capture limit, so the contract is one-sided: an identifier, a value or
 * a cut piece of one never reaches the output; a harmless word may be
 * replaced too ("when in doubt, redact"). No function allocates, prints or
 * keeps state; the input and output buffers must not overlap.
 *
 * Return values: the output length (NUL excluded), or -ENOSPC when the
 * output does not fit in @cap bytes (then @out is "" if @cap > 0), or
 * -EINVAL for a NULL @out or a NULL input with a non-zero length.
 */
#ifndef BPFWARDEN_PROCESSOR_SCRUB_URL_H
#define BPFWARDEN_PROCESSOR_SCRUB_URL_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX     256 /* patterns in one route_set */
#define ROUTE_LEN_MAX 512 /* bytes in one pattern */

#define URL_ID  "{id}" /* what an identifier segment or name becomes */
#define URL_CUT "..."  /* stands for the part a capture cut off */

/*
 * Output bound: every template is at most URL_OUT_MAX(len) bytes (NUL
 * excluded) for an input of @len bytes, or ROUTE_LEN_MAX for a matched
 * route. Each byte may become "{id}" and a cut tail "...".
 */
#define URL_OUT_MAX(len) (4 * (size_t)(len) + sizeof(URL_CUT) - 1)

/*
 * User route patterns, tried in the order added; the first match wins.
 * A pattern starts with '/' and is split at '/' like a path:
 *   "{name}"  one path segment, any content except "*" (so the output of
 *             a pattern ending in "*" is not re-matched by one ending in
 *             "{name}": templating stays idempotent)
 *   "*"       the last segment only: the rest of the path, one segment or
 *             more ("/static/" followed by "*" matches "/static/" and
 *             "/static/a/b", not "/static")
 *   other     a literal segment, compared byte for byte with the raw
 *             (still percent-encoded) path segment; printable ASCII except
 *             '{', '}', '*', '?' and '#'
 * The fields are private. A zeroed struct (or route_set_init) is empty;
 * the set is about 130 KiB, so give it static or heap storage.
 */
struct route {
	char pattern[ROUTE_LEN_MAX + 1];
	size_t len;
	bool wildcard; /* ends with "*" */
};

struct route_set {
	size_t n;
	struct route routes[ROUTE_MAX];
};

void route_set_init(struct route_set *rs);

/*
 * Add @pattern (NUL-terminated). Returns 0, -EINVAL when the pattern is
 * malformed or -ENOSPC when the set holds ROUTE_MAX patterns; on failure
 * @err (@errlen bytes, may be NULL/0) says what is wrong with which part of
 * the pattern, NUL-terminated, and the set is unchanged.
 */
int route_set_add(struct route_set *rs, const char *pattern, char *err, size_t errlen);

/*
 * Template a URL path (query and fragment already split off by the caller)
 * of @len bytes into @out (@cap bytes, NUL-terminated). @rs may be NULL.
 *
 * If a route matches, the output IS that route's pattern and *@matched is
 * true (@matched may be NULL). Otherwise the path is split at '/' (empty
 * segments and a trailing slash kept) and every segment for which
 * segment_is_identifier() holds becomes "{id}"; the others are copied raw.
 *
 * @truncated: the capture cut the path, so its last segment is partial. It
 * is dropped and "..." put in its place ("/api/users/12" cut -> "/api/
 * users/..."), and only routes ending in "*" whose fixed part lies within
 * the complete segments can match.
 *
 * Templating an output again with the same @truncated and @rs gives the
 * same output.
 */
long url_template(const char *path, size_t len, bool truncated, const struct route_set *rs,
                  char *out, size_t cap, bool *matched);

/*
 * Redact a query string (without the leading '?') of @len bytes into @out.
 * Elements are split at '&' (empty ones kept). A value becomes "?" ("a=1&b=
 * &c" -> "a=?&b=?&c"), except when the name, percent-decoded with '+' as a
 * space, equals an entry of @keep (a NULL-terminated list, may be NULL;
 * compared case-sensitively): then "name=value" is copied raw, unless the
 * value holds control bytes or invalid UTF-8, which gives "?". Names are
 * kept, even secret-sounding ones ("password=?"), but a name or bare element
 * that itself looks like an identifier (segment_is_identifier(), e.g. a bare
 * "?3f2a...c9" token or an e-mail) becomes "{id}".
 *
 * @truncated: the last element is partial: its value, even a kept one,
 * becomes "?" ("token=ab" -> "token=?"); if it has no '=' it is dropped and
 * "..." put in its place.
 */
long url_query_redact(const char *q, size_t len, bool truncated, const char *const *keep, char *out,
                      size_t cap);

/*
 * Template a key (Redis or similar) of @len bytes into @out. Segments are
 * split at ':', '/', '{' and '}' (the braces of Redis Cluster hash tags, so
 * "{user:1000}:x" -> "{user:{id}}:x"); the separators are kept and every
 * identifier segment becomes "{id}" ("session:8f3a...:data" ->
 * "session:{id}:data"). '.', '-' and '_' are not separators: they occur
 * inside UUIDs and tokens. @truncated: the last segment is partial and is
 * replaced by "..." ("user:12" cut -> "user:...").
 */
long key_template(const char *key, size_t len, bool truncated, char *out, size_t cap);

/*
 * Does one segment (@len raw bytes, possibly percent-encoded) look like an
 * identifier or secret? It does if, as raw bytes or after each of up to
 * three rounds of percent-decoding:
 *   - it holds control bytes, invalid UTF-8 or (raw) a '%' not followed by
 *     two hex digits, or is longer than SEGMENT_LEN_MAX, or is still
 *     percent-encoded after three rounds (malformed: redact);
 *   - it contains '@' (e-mail, @handle), '=' or ';' (a parameter value
 *     inside a segment, e.g. ";jsessionid=...");
 *   - it is all digits ("42"), or digits and number punctuation (-.,_+()
 *     and space) with at least ID_NUMBER_DIGITS_MIN digits (cards, phones,
 *     dates) or ID_NUMBER_DOTS_MIN dots (IPv4; "1.2.3" is a version), or
 *     contains a run of ID_DIGIT_RUN_MIN digits;
 *   - it contains a run of ID_HEX_RUN_MIN hex digits, or a word (a run of
 *     letters, digits and "-_+/", split at '.' and other punctuation) of
 *     hex digits and '-' with that many hex digits (UUIDs in any case, with
 *     or without dashes; Mongo ObjectIds; hashes);
 *   - it has a word of ID_TOKEN_LEN_MIN or more bytes mixing character
 *     classes like a random token: upper, lower and digits; or letters and
 *     digits alternating at least ID_TOKEN_DIGIT_SWITCH_MIN times or with
 *     ID_TOKEN_LEN_MIN of them in a row without '-' or '_'; or upper and
 *     lower case changing at least once per ID_TOKEN_CASE_DIV letters or
 *     less than one in ID_TOKEN_MIXED_VOWEL_DIV of them a vowel; or
 *     ID_TOKEN_LEN_MIN capitals in a row; or as many small letters in a
 *     row, less than one in ID_TOKEN_VOWEL_DIV of them a vowel (base64,
 *     base64url, base32, base36, JWT parts).
 * Kept: "v1", "2fa", "healthz", "app.js", "en-US", "1.2.3", "{id}", "...",
 * "deadbeefcafe123" (15 hex digits), "how-to-configure-nginx" (one class),
 * "internationalization" (one case, many vowels).
 */
#define SEGMENT_LEN_MAX           1024
#define ID_DIGIT_RUN_MIN          6
#define ID_NUMBER_DIGITS_MIN      6
#define ID_NUMBER_DOTS_MIN        3
#define ID_HEX_RUN_MIN            16
#define ID_TOKEN_LEN_MIN          20
#define ID_TOKEN_DIGIT_SWITCH_MIN 3
#define ID_TOKEN_CASE_DIV         3
#define ID_TOKEN_VOWEL_DIV        3
#define ID_TOKEN_MIXED_VOWEL_DIV  4
bool segment_is_identifier(const char *seg, size_t len);

/* The rules above, by name, for counting which one fired. */
enum url_rule {
	URL_RULE_MALFORMED, /* controls, bad UTF-8 or escapes, too long, still encoded */
	URL_RULE_EMAIL,     /* '@' */
	URL_RULE_PARAM,     /* '=' or ';' */
	URL_RULE_NUMBER,    /* digits: ids, cards, phones, dates, IPv4 */
	URL_RULE_HEX,       /* hex runs and UUIDs */
	URL_RULE_TOKEN,     /* random-looking words */
	URL_RULES,
};

extern const char *const url_rule_names[URL_RULES];

/*
 * The first rule that makes @seg an identifier, or -1 when it is kept;
 * segment_is_identifier() is segment_id_rule() >= 0.
 */
int segment_id_rule(const char *seg, size_t len);

#endif
