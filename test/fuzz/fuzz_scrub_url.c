// SPDX-License-Identifier: Apache-2.0
/*
 * url_template(), url_query_redact(), key_template() and route_set_add()
 * on hostile input. Input layout:
 *
 *   0  u8 flags   bit 0: truncated; bits 1-2: mode
 *                 0 path with FIXED_ROUTES, 1 path with routes from the
 *                 input (every line but the last is a pattern, the last is
 *                 the path), 2 query string, 3 key
 *   then the text, handed over as an exactly-sized heap block
 *
 * Invariants: no crash or over-read; a template fits in URL_OUT_MAX(len)
 * (or is a route pattern of the set) and is printable UTF-8; it is returned
 * whole at cap n + 1 and refused as "" at cap n; segment by segment the
 * output is the input segment, which segment_is_identifier() must call
 * harmless, or "{id}", or "..." for a cut tail, so no run of 6 digits
 * survives; a query value survives only under a kept name and uncut; and
 * templating the output again changes nothing.
 */
#include <errno.h>
#include <stdbool.h>

#include "processor/scrub_url.h"
#include "test/fuzz/fuzz.h"

#define MODE_FIXED  0
#define MODE_ROUTES 1
#define MODE_QUERY  2
#define MODE_KEY    3
#define ERR_LEN     128
#define DIGIT_RUN   6
#define PATTERNS    16 /* patterns taken from one input */

static const char *const fixed_routes[] = {
	"/api/users/{id}/orders",
	"/static/*",
	"/files/{name}",
	"/files/*",
	"/healthz",
	"/{a}/{b}/c",
};

static const char *const keep[] = { "page", "sort", "q", NULL };

struct run {
	int mode;
	bool cut;
	const struct route_set *rs;
};

static long call(const struct run *r, const char *in, size_t len, char *out, size_t cap,
                 bool *matched)
{
	*matched = false;
	switch (r->mode) {
	case MODE_QUERY:
		return url_query_redact(in, len, r->cut, keep, out, cap);
	case MODE_KEY:
		return key_template(in, len, r->cut, out, cap);
	default:
		return url_template(in, len, r->cut, r->rs, out, cap, matched);
	}
}

static const struct route_set *fixed_set(void)
{
	static struct route_set rs;
	static bool built;
	char err[ERR_LEN];

	if (!built) {
		route_set_init(&rs);
		for (size_t i = 0; i < sizeof(fixed_routes) / sizeof(fixed_routes[0]); i++)
			FUZZ_CHECK(route_set_add(&rs, fixed_routes[i], err, sizeof(err)) == 0);
		built = true;
	}
	return &rs;
}

/* route_set_add() on each line before the last; returns the last line's offset. */
static size_t input_set(struct route_set *rs, const char *s, size_t n)
{
	size_t start = 0, count = 0;
	const char *nl;

	route_set_init(rs);
	while (count < PATTERNS && (nl = memchr(s + start, '\n', n - start)) != NULL) {
		size_t len = (size_t)(nl - (s + start)), before = rs->n;
		char *pat = malloc(len + 1), err[ERR_LEN];
		int rc;

		FUZZ_CHECK(pat != NULL);
		memcpy(pat, s + start, len);
		pat[len] = '\0';
		memset(err, 0x5a, sizeof(err));
		rc = route_set_add(rs, pat, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		FUZZ_CHECK(rc == 0 ? rs->n == before + 1 : rs->n == before);
		if (rc != 0)
			FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		free(pat);
		start += len + 1;
		count++;
	}
	return start;
}

static bool in_set(const struct route_set *rs, const char *s, size_t n)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->routes[i].len == n && memcmp(rs->routes[i].pattern, s, n) == 0)
			return true;
	return false;
}

static bool digit_run(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = s[i] >= '0' && s[i] <= '9' ? run + 1 : 0;
		if (run >= DIGIT_RUN)
			return true;
	}
	return false;
}

static bool is_sep(int mode, char c)
{
	if (mode == MODE_KEY)
		return c == ':' || c == '/' || c == '{' || c == '}';
	return c == (mode == MODE_QUERY ? '&' : '/');
}

/* Length of the segment at s[0..n), up to the next separator. */
static size_t seg_len(int mode, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !is_sep(mode, s[i]))
		i++;
	return i;
}

static bool equals(const char *a, size_t an, const char *b)
{
	return an == strlen(b) && memcmp(a, b, an) == 0;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Does the query name decode ('+' a space, %XX) to a kept name? Written apart from the module. */
static bool decoded_kept(const char *s, size_t n)
{
	char buf[64];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' && n - i > 2 && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
			c = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o == sizeof(buf))
			return false;
		buf[o++] = c;
	}
	for (size_t k = 0; keep[k]; k++)
		if (equals(buf, o, keep[k]))
			return true;
	return false;
}

/* One query element: values are "?" unless the element is copied whole under a kept name. */
static void check_element(const char *in, size_t in_n, const char *out, size_t out_n, bool cut)
{
	const char *ieq = memchr(in, '=', in_n), *oeq = memchr(out, '=', out_n);
	size_t in_name = ieq ? (size_t)(ieq - in) : in_n;
	size_t out_name = oeq ? (size_t)(oeq - out) : out_n;
	bool kept = decoded_kept(in, in_name);

	if (cut && !ieq) {
		FUZZ_CHECK(equals(out, out_n, URL_CUT));
		return;
	}
	FUZZ_CHECK(!ieq == !oeq);
	if (oeq && !equals(oeq + 1, out_n - out_name - 1, "?")) {
		FUZZ_CHECK(!cut && kept);
		FUZZ_CHECK(out_n == in_n && memcmp(out, in, in_n) == 0);
		return;
	}
	if (equals(out, out_name, URL_ID) && !equals(in, in_name, URL_ID)) {
		FUZZ_CHECK(!kept && segment_is_identifier(in, in_name));
		return;
	}
	FUZZ_CHECK(out_name == in_name && memcmp(out, in, in_name) == 0);
	FUZZ_CHECK(kept || !segment_is_identifier(in, in_name));
	FUZZ_CHECK(kept || !digit_run(out, out_name));
}

/* A path or key segment: verbatim and harmless, "{id}", or the cut tail. */
static void check_segment(const char *in, size_t in_n, const char *out, size_t out_n, bool last_cut)
{
	if (last_cut) {
		FUZZ_CHECK(equals(out, out_n, URL_CUT));
		return;
	}
	if (equals(out, out_n, URL_ID) && !equals(in, in_n, URL_ID)) {
		FUZZ_CHECK(segment_is_identifier(in, in_n));
		return;
	}
	FUZZ_CHECK(out_n == in_n && memcmp(out, in, in_n) == 0);
	FUZZ_CHECK(!segment_is_identifier(in, in_n));
	FUZZ_CHECK(!digit_run(out, out_n));
}

/* Walk input and output segments side by side: same count, same separators. */
static void check_segments(const struct run *r, const char *in, size_t len, const char *out,
                           size_t n)
{
	size_t i = 0, o = 0;

	for (;;) {
		size_t a = seg_len(r->mode, in + i, len - i), b;
		bool last = i + a == len;

		/*
		 * "{id}" holds key separators. A non-empty key segment has none,
		 * so output starting with "{id}" there is the replacement.
		 */
		if (r->mode == MODE_KEY && a > 0 && n - o >= 4 && memcmp(out + o, URL_ID, 4) == 0)
			b = 4;
		else
			b = seg_len(r->mode, out + o, n - o);
		if (r->mode == MODE_QUERY)
			check_element(in + i, a, out + o, b, last && r->cut);
		else
			check_segment(in + i, a, out + o, b, last && r->cut);
		i += a;
		o += b;
		if (last) {
			FUZZ_CHECK(o == n);
			return;
		}
		FUZZ_CHECK(o < n && out[o] == in[i]);
		i++;
		o++;
	}
}

static void check_caps(const struct run *r, const char *in, size_t len, const char *want, long n)
{
	char *out = malloc((size_t)n + 1);
	bool matched;

	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(call(r, in, len, out, (size_t)n + 1, &matched) == n);
	FUZZ_CHECK(memcmp(out, want, (size_t)n + 1) == 0);
	if (n > 0) {
		FUZZ_CHECK(call(r, in, len, out, (size_t)n, &matched) == -ENOSPC);
		FUZZ_CHECK(out[0] == '\0' && !matched);
	}
	free(out);
}

static void check_all(const struct run *r, const char *in, size_t len)
{
	size_t cap = URL_OUT_MAX(len) + ROUTE_LEN_MAX + 1;
	char *out = malloc(cap), *again = malloc(cap);
	bool matched, matched2;
	long n, n2;

	FUZZ_CHECK(out != NULL && again != NULL);
	n = call(r, in, len, out, cap, &matched);
	FUZZ_CHECK(n >= 0 && strlen(out) == (size_t)n);
	FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)out, (size_t)n));
	for (long k = 0; k < n; k++)
		FUZZ_CHECK((unsigned char)out[k] >= 0x20 && out[k] != 0x7f);
	if (matched)
		FUZZ_CHECK(r->mode <= MODE_ROUTES && in_set(r->rs, out, (size_t)n));
	else
		FUZZ_CHECK((size_t)n <= URL_OUT_MAX(len));
	if (!matched)
		check_segments(r, in, len, out, (size_t)n);
	check_caps(r, in, len, out, n);
	n2 = call(r, out, (size_t)n, again, cap, &matched2);
	FUZZ_CHECK(n2 == n && matched2 == matched && memcmp(out, again, (size_t)n) == 0);
	free(again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct route_set input_routes;
	struct run r;
	size_t start = 0;
	char *text;

	if (size < 1)
		return 0;
	r.cut = data[0] & 1;
	r.mode = (data[0] >> 1) & 3;
	r.rs = fixed_set();
	text = fuzz_dup(data + 1, size - 1);
	if (r.mode == MODE_ROUTES) {
		start = input_set(&input_routes, text, size - 1);
		r.rs = &input_routes;
	}
	check_all(&r, text + start, size - 1 - start);
	free(text);
	return 0;
}
