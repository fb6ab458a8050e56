// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/scrub_url.c: path, query and key templates.
 *
 * One table holds the cases of all three entry points: identifiers that
 * must become "{id}" or "?" (with the secret that must appear nowhere) and
 * near-misses that must come out unchanged. Every case is also run at every
 * output capacity, cut at every length (as a capture limit would), from an
 * input that ends at a PROT_NONE page, and templated twice (idempotence).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "processor/scrub_url.h"

Suite *scrub_url_suite(void);

#define OUT_MAX      4096
#define CAP_SLACK    16     /* the capacity sweep goes this far past the input */
#define DIGIT_RUN    6      /* no run this long survives in a path or key */
#define SECRET_HEAD  4      /* this many leading bytes of a secret never appear */
#define BIG_LEN      100000 /* adversarial inputs: far past any capture limit */
#define RANDOM_COUNT 2000   /* generated tokens per kind */

enum kind { PATH, QUERY, KEY };
enum route_use { NO_ROUTES, UNMATCHED, MATCHED };

struct tcase {
	const char *name;
	enum kind kind;
	const char *in;
	size_t len; /* 0: strlen(in) */
	bool cut;   /* truncated */
	const char *want;
	const char *secret; /* must not appear; NULL: nothing secret */
	enum route_use route;
};

/* Routes of the path cases with route != NO_ROUTES; order matters. */
static const char *const test_routes[] = {
	"/api/users/{id}/orders",          "/static/*", "/files/{name}", "/files/*",
	"/api/v1/items/{item}/tags/{tag}", "/healthz",
};

static const char *const keep[] = { "page", "sort", "sort by", NULL };

#define UUID_L "550e8400-e29b-41d4-a716-446655440000"
#define UUID_U "550E8400-E29B-41D4-A716-446655440000"
#define JWT                                                                                        \
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_" \
	"XgL0n3I9PlFUP0THsR8U"

static const struct tcase cases[] = {
	/* paths: user routes win over heuristics */
	{ "route_param", PATH, "/api/users/42/orders", 0, false, "/api/users/{id}/orders", "42",
	  MATCHED },
	{ "route_param_word", PATH, "/api/users/alice/orders", 0, false, "/api/users/{id}/orders",
	  NULL, MATCHED },
	{ "route_two_params", PATH, "/api/v1/items/9/tags/red", 0, false,
	  "/api/v1/items/{item}/tags/{tag}", NULL, MATCHED },
	{ "route_literal", PATH, "/healthz", 0, false, "/healthz", NULL, MATCHED },
	{ "route_extra_segment", PATH, "/api/users/42/orders/7", 0, false,
	  "/api/users/{id}/orders/{id}", "42", UNMATCHED },
	{ "route_trailing_slash", PATH, "/api/users/42/orders/", 0, false,
	  "/api/users/{id}/orders/", "42", UNMATCHED },
	{ "route_short", PATH, "/api/users/42", 0, false, "/api/users/{id}", "42", UNMATCHED },
	{ "route_literal_differs", PATH, "/api/Users/42/orders", 0, false, "/api/Users/{id}/orders",
	  "42", UNMATCHED },
	{ "wildcard", PATH, "/static/js/app.3f9a8b7c6d5e4f3a.js", 0, false, "/static/*", "3f9a",
	  MATCHED },
	{ "wildcard_empty_rest", PATH, "/static/", 0, false, "/static/*", NULL, MATCHED },
	{ "wildcard_needs_rest", PATH, "/static", 0, false, "/static", NULL, UNMATCHED },
	{ "first_route_wins", PATH, "/files/report.pdf", 0, false, "/files/{name}", NULL, MATCHED },
	{ "wildcard_after_param", PATH, "/files/a/b", 0, false, "/files/*", NULL, MATCHED },
	{ "param_skips_star", PATH, "/files/*", 0, false, "/files/*", NULL, MATCHED },
	{ "cut_wildcard", PATH, "/static/js/ap", 0, true, "/static/*", NULL, MATCHED },
	{ "cut_wildcard_prefix", PATH, "/files/x", 0, true, "/files/*", NULL, MATCHED },
	{ "cut_in_prefix", PATH, "/stat", 0, true, "/...", NULL, UNMATCHED },
	{ "cut_no_literal_route", PATH, "/api/users/42/orders", 0, true, "/api/users/{id}/...",
	  "42", UNMATCHED },
	{ "cut_prefix_partial", PATH, "/static", 0, true, "/...", NULL, UNMATCHED },

	/* paths: heuristics, kept */
	{ "keep_versioned", PATH, "/api/v1/users", 0, false, "/api/v1/users", NULL, NO_ROUTES },
	{ "keep_healthz", PATH, "/healthz", 0, false, "/healthz", NULL, NO_ROUTES },
	{ "keep_asset", PATH, "/static/app.js", 0, false, "/static/app.js", NULL, NO_ROUTES },
	{ "keep_2fa", PATH, "/2fa", 0, false, "/2fa", NULL, NO_ROUTES },
	{ "keep_locale", PATH, "/en-US/docs", 0, false, "/en-US/docs", NULL, NO_ROUTES },
	{ "keep_hex_15", PATH, "/deadbeefcafe123", 0, false, "/deadbeefcafe123", NULL, NO_ROUTES },
	{ "keep_version", PATH, "/v1.2.3/x", 0, false, "/v1.2.3/x", NULL, NO_ROUTES },
	{ "keep_version_3", PATH, "/1.2.3", 0, false, "/1.2.3", NULL, NO_ROUTES },
	{ "keep_camel", PATH, "/docs/GettingStartedWithKubernetes", 0, false,
	  "/docs/GettingStartedWithKubernetes", NULL, NO_ROUTES },
	{ "keep_slug", PATH, "/blog/how-to-configure-nginx-reverse-proxy", 0, false,
	  "/blog/how-to-configure-nginx-reverse-proxy", NULL, NO_ROUTES },
	{ "keep_slug_year", PATH, "/blog/kubernetes-guide-2023-edition", 0, false,
	  "/blog/kubernetes-guide-2023-edition", NULL, NO_ROUTES },
	{ "keep_snake_v2", PATH, "/api/get_user_profile_settings_v2", 0, false,
	  "/api/get_user_profile_settings_v2", NULL, NO_ROUTES },
	{ "keep_long_word", PATH, "/internationalization", 0, false, "/internationalization", NULL,
	  NO_ROUTES },
	{ "keep_utf8", PATH, "/caf\xc3\xa9", 0, false, "/caf\xc3\xa9", NULL, NO_ROUTES },
	{ "keep_utf8_encoded", PATH, "/caf%C3%A9", 0, false, "/caf%C3%A9", NULL, NO_ROUTES },
	{ "keep_encoded_slash", PATH, "/a%2Fb", 0, false, "/a%2Fb", NULL, NO_ROUTES },
	{ "keep_empty_segments", PATH, "//a//", 0, false, "//a//", NULL, NO_ROUTES },
	{ "keep_root", PATH, "/", 0, false, "/", NULL, NO_ROUTES },
	{ "keep_empty", PATH, "", 0, false, "", NULL, NO_ROUTES },
	{ "keep_star", PATH, "/*", 0, false, "/*", NULL, NO_ROUTES },
	{ "keep_template", PATH, "/a/{id}/...", 0, false, "/a/{id}/...", NULL, NO_ROUTES },
	{ "keep_short_number", PATH, "/1,234", 0, false, "/1,234", NULL, NO_ROUTES },

	/* paths: heuristics, identifiers */
	{ "id_number", PATH, "/users/42", 0, false, "/users/{id}", "42", NO_ROUTES },
	{ "id_zero", PATH, "/users/0/x", 0, false, "/users/{id}/x", NULL, NO_ROUTES },
	{ "id_trailing_slash", PATH, "/users/42/", 0, false, "/users/{id}/", "42", NO_ROUTES },
	{ "id_no_leading_slash", PATH, "api/users/42", 0, false, "api/users/{id}", "42",
	  NO_ROUTES },
	{ "id_uuid_lower", PATH, "/users/" UUID_L "/profile", 0, false, "/users/{id}/profile",
	  UUID_L, NO_ROUTES },
	{ "id_uuid_upper", PATH, "/users/" UUID_U, 0, false, "/users/{id}", UUID_U, NO_ROUTES },
	{ "id_uuid_nodash", PATH, "/u/550e8400e29b41d4a716446655440000", 0, false, "/u/{id}",
	  "550e8400", NO_ROUTES },
	{ "id_uuid_prefixed", PATH, "/o/order_" UUID_L, 0, false, "/o/{id}", "550e", NO_ROUTES },
	{ "id_objectid", PATH, "/items/507f1f77bcf86cd799439011", 0, false, "/items/{id}",
	  "507f1f77", NO_ROUTES },
	{ "id_hex_16", PATH, "/h/deadbeefcafe1234", 0, false, "/h/{id}", "deadbeef", NO_ROUTES },
	{ "id_hashed_asset", PATH, "/app.3f9a8b7c6d5e4f3a.js", 0, false, "/{id}", "3f9a",
	  NO_ROUTES },
	{ "id_jwt", PATH, "/auth/" JWT, 0, false, "/auth/{id}", "eyJh", NO_ROUTES },
	{ "id_base64url", PATH, "/reset/Zx8_kP2qLm9vR4tWbN7yHc3dJf", 0, false, "/reset/{id}",
	  "Zx8_", NO_ROUTES },
	{ "id_base64_padded", PATH, "/t/aGVsbG8gd29ybGQgaGVsbG8=", 0, false, "/t/{id}", "aGVs",
	  NO_ROUTES },
	{ "id_base36", PATH, "/s/k3j9x2m8q7w1z5p4r6t0", 0, false, "/s/{id}", "k3j9", NO_ROUTES },
	{ "id_case_token", PATH, "/s/QwErTyUiOpAsDfGhJkLzXc", 0, false, "/s/{id}", "QwEr",
	  NO_ROUTES },
	{ "id_email", PATH, "/users/alice@example.com", 0, false, "/users/{id}", "alice",
	  NO_ROUTES },
	{ "id_handle", PATH, "/@alice", 0, false, "/{id}", "alice", NO_ROUTES },
	{ "id_email_encoded", PATH, "/users/alice%40example.com", 0, false, "/users/{id}", "alice",
	  NO_ROUTES },
	{ "id_email_double_encoded", PATH, "/users/alice%2540example.com", 0, false, "/users/{id}",
	  "alice", NO_ROUTES },
	{ "id_triple_encoded", PATH, "/u/alice%252540example.com", 0, false, "/u/{id}", "alice",
	  NO_ROUTES },
	{ "id_quadruple_encoded", PATH, "/u/al%25252525ice", 0, false, "/u/{id}", "al%2",
	  NO_ROUTES },
	{ "id_encoded_digits", PATH, "/u/%31%32%33", 0, false, "/u/{id}", "%31", NO_ROUTES },
	{ "id_raw_digit_run", PATH, "/u/x%2012345", 0, false, "/u/{id}", "12345", NO_ROUTES },
	{ "id_card", PATH, "/cards/4111-1111-1111-1111", 0, false, "/cards/{id}", "4111",
	  NO_ROUTES },
	{ "id_card_spaces", PATH, "/c/4111%201111%201111%201111", 0, false, "/c/{id}", "4111",
	  NO_ROUTES },
	{ "id_phone", PATH, "/call/+1-555-0100", 0, false, "/call/{id}", "555", NO_ROUTES },
	{ "id_date", PATH, "/reports/2024-01-15", 0, false, "/reports/{id}", "2024", NO_ROUTES },
	{ "id_ipv4_short", PATH, "/h/10.0.0.1", 0, false, "/h/{id}", "10.0", NO_ROUTES },
	{ "id_ipv4", PATH, "/hosts/192.168.100.200", 0, false, "/hosts/{id}", "192.", NO_ROUTES },
	{ "id_digit_run_in_name", PATH, "/img/photo_1234567.jpg", 0, false, "/img/{id}", "1234567",
	  NO_ROUTES },
	{ "id_matrix_param", PATH, "/a;jsessionid=1A2B", 0, false, "/{id}", "1A2B", NO_ROUTES },
	{ "id_control", PATH, "/a\x01zz", 0, false, "/{id}", "a\x01zz", NO_ROUTES },
	{ "id_nul", PATH, "/x/a\0zz9", 8, false, "/x/{id}", "zz9", NO_ROUTES },
	{ "id_invalid_utf8", PATH, "/caf\xe9x", 0, false, "/{id}", "caf", NO_ROUTES },
	{ "id_overlong_utf8", PATH, "/a\xc0\xafzz", 0, false, "/{id}", "\xc0\xaf", NO_ROUTES },
	{ "id_encoded_nul", PATH, "/a%00zz", 0, false, "/{id}", "%00", NO_ROUTES },
	{ "id_encoded_bad_utf8", PATH, "/caf%E9x", 0, false, "/{id}", "%E9", NO_ROUTES },
	{ "id_bad_escape", PATH, "/100%", 0, false, "/{id}", NULL, NO_ROUTES },
	{ "id_bad_escape_hex", PATH, "/a%zzb", 0, false, "/{id}", "%zz", NO_ROUTES },

	/* paths: cut by the capture */
	{ "cut_id", PATH, "/api/users/12", 0, true, "/api/users/...", "12", NO_ROUTES },
	{ "cut_after_slash", PATH, "/api/users/", 0, true, "/api/users/...", NULL, NO_ROUTES },
	{ "cut_email", PATH, "/users/alice@exa", 0, true, "/users/...", "alice", NO_ROUTES },
	{ "cut_keeps_ids", PATH, "/u/42/x", 0, true, "/u/{id}/...", "42", NO_ROUTES },
	{ "cut_empty", PATH, "", 0, true, "...", NULL, NO_ROUTES },
	{ "cut_one_segment", PATH, "abcdef", 0, true, "...", "abcd", NO_ROUTES },

	/* queries */
	{ "q_brief", QUERY, "a=1&b=&c", 0, false, "a=?&b=?&c", NULL, NO_ROUTES },
	{ "q_keep", QUERY, "page=2&token=abc123", 0, false, "page=2&token=?", "abc123", NO_ROUTES },
	{ "q_keep_repeated", QUERY, "page=2&page=3&sort=name", 0, false, "page=2&page=3&sort=name",
	  NULL, NO_ROUTES },
	{ "q_repeated", QUERY, "token=aaa1&token=bbb2", 0, false, "token=?&token=?", "aaa1",
	  NO_ROUTES },
	{ "q_secret_name_kept", QUERY, "password=hunter2", 0, false, "password=?", "hunter2",
	  NO_ROUTES },
	{ "q_keep_case", QUERY, "Page=2", 0, false, "Page=?", NULL, NO_ROUTES },
	{ "q_keep_encoded_name", QUERY, "p%61ge=5", 0, false, "p%61ge=5", NULL, NO_ROUTES },
	{ "q_keep_plus_name", QUERY, "sort+by=name", 0, false, "sort+by=name", NULL, NO_ROUTES },
	{ "q_keep_pct_space", QUERY, "sort%20by=name", 0, false, "sort%20by=name", NULL,
	  NO_ROUTES },
	{ "q_plus_name", QUERY, "so+rt=x", 0, false, "so+rt=?", NULL, NO_ROUTES },
	{ "q_keep_bad_value", QUERY, "page=a\x01zz", 0, false, "page=?", "zz", NO_ROUTES },
	{ "q_keep_nul_value", QUERY, "page=1\0zz", 9, false, "page=?", "zz", NO_ROUTES },
	{ "q_empty", QUERY, "", 0, false, "", NULL, NO_ROUTES },
	{ "q_empty_elements", QUERY, "&&", 0, false, "&&", NULL, NO_ROUTES },
	{ "q_empty_name", QUERY, "=xyzw", 0, false, "=?", "xyzw", NO_ROUTES },
	{ "q_value_with_eq", QUERY, "a=b=cdef", 0, false, "a=?", "cdef", NO_ROUTES },
	{ "q_bare_name", QUERY, "novalue", 0, false, "novalue", NULL, NO_ROUTES },
	{ "q_bare_email", QUERY, "alice@example.com", 0, false, "{id}", "alice", NO_ROUTES },
	{ "q_bare_token", QUERY, "3f2a9c8b7d6e5f4a3b2c", 0, false, "{id}", "3f2a", NO_ROUTES },
	{ "q_bare_number", QUERY, "1700000000", 0, false, "{id}", "1700", NO_ROUTES },
	{ "q_id_name", QUERY, "user[12345678]=x", 0, false, "{id}=?", "1234", NO_ROUTES },
	{ "q_bad_name", QUERY, "a%zz=1", 0, false, "{id}=?", NULL, NO_ROUTES },
	{ "q_fragment", QUERY, "a=1#frag", 0, false, "a=?", "frag", NO_ROUTES },
	{ "q_email_value", QUERY, "q=alice%40example.com", 0, false, "q=?", "alice", NO_ROUTES },
	{ "q_template", QUERY, "{id}=?&a=?&...", 0, false, "{id}=?&a=?&...", NULL, NO_ROUTES },
	{ "q_cut_value", QUERY, "token=ab", 0, true, "token=?", "ab", NO_ROUTES },
	{ "q_cut_kept_value", QUERY, "x=1&page=12", 0, true, "x=?&page=?", "12", NO_ROUTES },
	{ "q_cut_name", QUERY, "a=1&tok", 0, true, "a=?&...", "tok", NO_ROUTES },
	{ "q_cut_after_amp", QUERY, "a=1&", 0, true, "a=?&...", NULL, NO_ROUTES },
	{ "q_cut_empty", QUERY, "", 0, true, "...", NULL, NO_ROUTES },

	/* keys */
	{ "k_number", KEY, "user:123", 0, false, "user:{id}", "123", NO_ROUTES },
	{ "k_session", KEY, "session:8f3a9c2b7d6e5f4a3b2c1d0e:data", 0, false, "session:{id}:data",
	  "8f3a", NO_ROUTES },
	{ "k_slash", KEY, "cache/users/42", 0, false, "cache/users/{id}", "42", NO_ROUTES },
	{ "k_hash_tag", KEY, "{user:1000}:following", 0, false, "{user:{id}}:following", "1000",
	  NO_ROUTES },
	{ "k_email", KEY, "user:alice@example.com:prefs", 0, false, "user:{id}:prefs", "alice",
	  NO_ROUTES },
	{ "k_uuid", KEY, "lock:" UUID_U, 0, false, "lock:{id}", "550E", NO_ROUTES },
	{ "k_jwt", KEY, "jwt:" JWT, 0, false, "jwt:{id}", "eyJh", NO_ROUTES },
	{ "k_dotted_run", KEY, "cache.user.123456", 0, false, "{id}", "123456", NO_ROUTES },
	{ "k_binary", KEY, "bin:\xff\xfe", 0, false, "bin:{id}", "\xff\xfe", NO_ROUTES },
	{ "k_keep_words", KEY, "config:v2:enabled", 0, false, "config:v2:enabled", NULL,
	  NO_ROUTES },
	{ "k_keep_queue", KEY, "queue:default", 0, false, "queue:default", NULL, NO_ROUTES },
	{ "k_keep_dash", KEY, "rate-limit:api", 0, false, "rate-limit:api", NULL, NO_ROUTES },
	{ "k_keep_empty_parts", KEY, "a::b", 0, false, "a::b", NULL, NO_ROUTES },
	{ "k_keep_sep_only", KEY, ":", 0, false, ":", NULL, NO_ROUTES },
	{ "k_keep_empty", KEY, "", 0, false, "", NULL, NO_ROUTES },
	{ "k_keep_template", KEY, "{user:{id}}:...", 0, false, "{user:{id}}:...", NULL, NO_ROUTES },
	{ "k_cut_number", KEY, "user:12", 0, true, "user:...", "12", NO_ROUTES },
	{ "k_cut_token", KEY, "session:8f3a", 0, true, "session:...", "8f3a", NO_ROUTES },
	{ "k_cut_no_sep", KEY, "abcdef", 0, true, "...", "abcd", NO_ROUTES },
	{ "k_cut_hash_tag", KEY, "{user:1000}x", 0, true, "{user:{id}}...", "1000", NO_ROUTES },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static const struct route_set *routes(void)
{
	static struct route_set rs;
	static bool built;
	char err[128];

	if (!built) {
		route_set_init(&rs);
		for (size_t i = 0; i < sizeof(test_routes) / sizeof(test_routes[0]); i++)
			ck_assert_msg(route_set_add(&rs, test_routes[i], err, sizeof(err)) == 0,
			              "%s: %s", test_routes[i], err);
		built = true;
	}
	return &rs;
}

/* An exactly sized heap copy, so ASan sees a read past the end. */
static char *dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

static size_t case_len(const struct tcase *c)
{
	return c->len ? c->len : strlen(c->in);
}

/* The entry point of @c's kind on @in; *@matched only for paths. */
static long run(const struct tcase *c, const char *in, size_t len, bool cut, char *out, size_t cap,
                bool *matched)
{
	*matched = false;
	switch (c->kind) {
	case PATH:
		return url_template(in, len, cut, c->route == NO_ROUTES ? NULL : routes(), out, cap,
		                    matched);
	case QUERY:
		return url_query_redact(in, len, cut, keep, out, cap);
	case KEY:
		return key_template(in, len, cut, out, cap);
	}
	return -EINVAL;
}

static bool has_digit_run(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		run = *s >= '0' && *s <= '9' ? run + 1 : 0;
		if (run >= DIGIT_RUN)
			return true;
	}
	return false;
}

/* Printable: no C0 controls, no DEL, no byte >= 0x80 outside valid UTF-8. */
static bool printable(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t k = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 : 4;

		if (*u < 0x20 || *u == 0x7f || (*u >= 0x80 && *u < 0xc2) || *u > 0xf4)
			return false;
		for (size_t i = 1; i < k; i++)
			if ((u[i] & 0xc0) != 0x80)
				return false;
		u += k;
	}
	return true;
}

/* memmem on the output: the secret and its head appear nowhere. */
static void assert_no_secret(const struct tcase *c, const char *out, size_t n)
{
	size_t sl;

	if (!c->secret)
		return;
	sl = strlen(c->secret);
	ck_assert_msg(!memmem(out, n, c->secret, sl), "%s: secret in '%s'", c->name, out);
	if (sl > SECRET_HEAD)
		ck_assert_msg(!memmem(out, n, c->secret, SECRET_HEAD), "%s: secret head in '%s'",
		              c->name, out);
}

/* What every output must satisfy, whatever the input. */
static void check_output(const struct tcase *c, size_t len, bool cut, long n, const char *out,
                         bool matched)
{
	char again[OUT_MAX];
	bool matched2;
	long n2;

	ck_assert_msg(n >= 0, "%s: len %zu: %ld", c->name, len, n);
	ck_assert_uint_eq(strlen(out), (size_t)n);
	ck_assert_msg(printable(out), "%s: unprintable output", c->name);
	ck_assert_msg(matched || (size_t)n <= URL_OUT_MAX(len), "%s: output too long", c->name);
	if (c->kind != QUERY && !matched)
		ck_assert_msg(!has_digit_run(out), "%s: digits survive in '%s'", c->name, out);
	if (cut && c->kind != QUERY)
		ck_assert_msg(matched || (n >= 3 && strcmp(out + n - 3, URL_CUT) == 0),
		              "%s: cut output '%s' does not end in ...", c->name, out);
	n2 = run(c, out, (size_t)n, cut, again, sizeof(again), &matched2);
	ck_assert_msg(n2 == n && strcmp(again, out) == 0 && matched2 == matched,
	              "%s: not idempotent: '%s' -> '%s'", c->name, out, again);
}

START_TEST(table)
{
	const struct tcase *c = &cases[_i];
	size_t len = case_len(c);
	char out[OUT_MAX];
	bool matched;
	long n = run(c, c->in, len, c->cut, out, sizeof(out), &matched);

	ck_assert_msg(n == (long)strlen(c->want) && strcmp(out, c->want) == 0,
	              "%s: got %ld '%s', want '%s'", c->name, n, n >= 0 ? out : "", c->want);
	ck_assert_msg(matched == (c->route == MATCHED), "%s: matched %d", c->name, matched);
	assert_no_secret(c, out, (size_t)n);
	check_output(c, len, c->cut, n, out, matched);
}
END_TEST

/*
 * Every capacity from 0 to the input length plus CAP_SLACK, in an exactly
 * sized heap block: the whole template or -ENOSPC and "", never a cut one.
 */
START_TEST(every_cap)
{
	const struct tcase *c = &cases[_i];
	size_t len = case_len(c), want = strlen(c->want);
	size_t top = (len > want ? len : want) + CAP_SLACK;
	char sentinel = 0x5a;
	bool matched;

	ck_assert_int_eq(run(c, c->in, len, c->cut, &sentinel, 0, &matched), -ENOSPC);
	ck_assert_int_eq(sentinel, 0x5a);
	for (size_t cap = 1; cap <= top; cap++) {
		char *out = malloc(cap);
		long n;

		ck_assert_ptr_nonnull(out);
		memset(out, 0x5a, cap);
		n = run(c, c->in, len, c->cut, out, cap, &matched);
		if (cap > want) {
			ck_assert_int_eq(n, (long)want);
			ck_assert_str_eq(out, c->want);
		} else {
			ck_assert_msg(n == -ENOSPC, "%s: cap %zu: %ld", c->name, cap, n);
			ck_assert_int_eq(out[0], '\0');
			ck_assert(!matched);
		}
		free(out);
	}
}
END_TEST

/* Cut at every length, as the capture limit would: never a piece of the secret. */
START_TEST(every_prefix)
{
	const struct tcase *c = &cases[_i];
	size_t len = case_len(c);

	for (size_t k = 0; k <= len; k++) {
		char *in = dup_exact(c->in, k), out[OUT_MAX];
		bool matched;
		long n = run(c, in, k, true, out, sizeof(out), &matched);

		check_output(c, k, true, n, out, matched);
		assert_no_secret(c, out, (size_t)n);
		free(in);
	}
}
END_TEST

/* The input's last byte just before a PROT_NONE page: no read past @len. */
START_TEST(guard_page)
{
	const struct tcase *c = &cases[_i];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = case_len(c);
	char *base =
	        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char out[OUT_MAX];
	bool matched;

	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
	memcpy(base + page - len, c->in, len);
	ck_assert_int_eq(run(c, base + page - len, len, c->cut, out, sizeof(out), &matched),
	                 (long)strlen(c->want));
	ck_assert_str_eq(out, c->want);
	ck_assert_int_eq(munmap(base, 2 * page), 0);
}
END_TEST

/* segment_is_identifier() alone: the same rules, one segment at a time. */
struct seg_case {
	const char *seg;
	bool id;
};

static const struct seg_case seg_cases[] = {
	{ "42", true },
	{ "0", true },
	{ "v1", false },
	{ "v2", false },
	{ "2fa", false },
	{ "404", true },
	{ "-1", false },
	{ "12345", true },
	{ "x12345", false },
	{ "x123456", true },
	{ "1.2.3", false },
	{ "1.2.3.4", true },
	{ "2024-01-15", true },
	{ "4111 1111 1111 1111", true },
	{ "(555) 0100", true },
	{ "(1)", false },
	{ "(555) 010-0199", true },
	{ UUID_L, true },
	{ UUID_U, true },
	{ "550e8400e29b41d4a716446655440000", true },
	{ "507f1f77bcf86cd799439011", true },
	{ "deadbeefcafe123", false },
	{ "deadbeefcafe1234", true },
	{ "deadbeef-cafe-1234", true },
	{ "dead-beef-cafe-123", false },
	{ "a@b", true },
	{ "%40", true },
	{ "%2540", true },
	{ "%252540", true },
	{ "%25252540", true },
	{ "%25", false },
	{ "100%25", false },
	{ "%", true },
	{ "%4", true },
	{ "%4g", true },
	{ "%%", true },
	{ "a=b", true },
	{ "a;b", true },
	{ "{id}", false },
	{ "...", false },
	{ "*", false },
	{ "", false },
	{ "healthz", false },
	{ "app.js", false },
	{ "en-US", false },
	{ "index.html", false },
	{ "favicon.ico", false },
	{ "robots.txt", false },
	{ ".well-known", false },
	{ "openid-configuration", false },
	{ "kubernetes-guide-2023-edition", false },
	{ "GettingStartedWithKubernetes", false },
	{ "HTTPRequestHandlerFactoryXML", false },
	{ "abcdefghijklmnopqrstuvwxyz", true }, /* one case, 5 vowels in 26 */
	{ "internationalization", false },
	{ "INTERNATIONALIZATION", true },
	{ "LNIPAQQQXMZTEPPOILIFZNEXOUONAJNO", true },
	{ "INTERNATIONAL-ORDERS", false },
	{ "qeymfennypcvhfyejemuwigmvx", true },
	{ "getuserprofilesettingsv2", true },
	{ "get_user_profile_settings_v2", false },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ", true },
	{ "Zx8_kP2qLm9vR4tWbN7yHc3dJf", true },
	{ "k3j9x2m8q7w1z5p4r6t0", true },
	{ "k3j9x2m8q7w1z5p4r6t", false }, /* 19 bytes: below ID_TOKEN_LEN_MIN */
	{ "QwErTyUiOpAsDfGhJkLzXc", true },
	{ "sk_live_51HqLyjWDarjtT1zdp7dc", true },
	{ "ghp_16C7e42F292c6912E7710c838347Ae178B4a", true },
	{ JWT, true },
	{ "caf\xc3\xa9", false },
	{ "\xe6\x97\xa5\xe6\x9c\xac", false },
	{ "caf\xe9", true },
	{ "\xed\xa0\x80", true }, /* a surrogate */
	{ "\xc0\xaf", true },     /* overlong '/' */
	{ "\x7f", true },
	{ "a b", false },
	{ "a\tb", true },
	{ "%C3%A9", false },
	{ "%E9", true },
	{ "%0a", true },
	{ "%7F", true },
};

#define N_SEG ((int)(sizeof(seg_cases) / sizeof(seg_cases[0])))

START_TEST(segments)
{
	const struct seg_case *c = &seg_cases[_i];
	size_t len = strlen(c->seg);
	char *seg = dup_exact(c->seg, len);

	ck_assert_msg(segment_is_identifier(seg, len) == c->id, "'%s': want %s", c->seg,
	              c->id ? "identifier" : "kept");
	free(seg);
}
END_TEST

/* Which rule fires: the first of the table, on the raw bytes or a decoding. */
static const struct {
	const char *seg;
	const char *rule; /* NULL: kept */
} rule_cases[] = {
	{ "a\x01", "url_malformed" },
	{ "100%", "url_malformed" },
	{ "%00", "url_malformed" },
	{ "x%25%32%35%25%33%32541", "url_malformed" }, /* "x%41" after three rounds */
	{ "alice@example.com", "url_email" },
	{ "alice%40example.com", "url_email" },
	{ "a=1", "url_param" },
	{ "a@b=1", "url_email" },
	{ "x;jsessionid=1", "url_param" },
	{ "42", "url_number" },
	{ "%34%32", "url_number" },
	{ "2024-01-15", "url_number" },
	{ "f47ac10b-58cc-4372-a567-0e02b2c3d479", "url_hex" },
	{ "deadbeefcafe1234", "url_hex" },
	{ "1234567890abcdef", "url_number" },
	{ JWT, "url_token" },
	{ "k3j9x2m8q7w1z5p4r6t0", "url_token" },
	{ "%2541", NULL },
	{ "healthz", NULL },
	{ "", NULL },
};

START_TEST(rules)
{
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const char *seg = rule_cases[i].seg;
		int r = segment_id_rule(seg, strlen(seg));

		if (!rule_cases[i].rule) {
			ck_assert_msg(r == -1, "'%s': rule %d", seg, r);
			continue;
		}
		ck_assert_msg(r >= 0 && r < URL_RULES &&
		                      strcmp(url_rule_names[r], rule_cases[i].rule) == 0,
		              "'%s': rule %s, want %s", seg, r >= 0 ? url_rule_names[r] : "none",
		              rule_cases[i].rule);
		ck_assert(segment_is_identifier(seg, strlen(seg)));
	}
	for (int i = 0; i < URL_RULES; i++) {
		ck_assert_ptr_nonnull(url_rule_names[i]);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(url_rule_names[i], url_rule_names[j]);
	}
}
END_TEST

START_TEST(segment_limits)
{
	char *seg = malloc(SEGMENT_LEN_MAX + 1);

	ck_assert_ptr_nonnull(seg);
	memset(seg, 'o', SEGMENT_LEN_MAX + 1);
	ck_assert(!segment_is_identifier(seg, SEGMENT_LEN_MAX));
	ck_assert(segment_is_identifier(seg, SEGMENT_LEN_MAX + 1));
	ck_assert(segment_is_identifier("a\0b", 3));
	ck_assert(!segment_is_identifier(NULL, 0));
	ck_assert(segment_is_identifier(NULL, 1));
	free(seg);
}
END_TEST

/* Random tokens of the usual alphabets: every one is an identifier. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

static void random_word(char *w, size_t n, const char *alphabet)
{
	size_t an = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		w[i] = alphabet[rnd((unsigned int)an)];
	w[n] = '\0';
}

START_TEST(random_tokens)
{
	static const struct {
		const char *alphabet;
		size_t len;
	} kinds[] = {
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 32 },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40 },
		{ "0123456789abcdef", 16 },
		{ "0123456789ABCDEF", 24 },
		{ "abcdefghijklmnopqrstuvwxyz0123456789", 26 },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32 },
		{ "0123456789", 6 },
	};
	char w[64];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (int i = 0; i < RANDOM_COUNT; i++) {
			random_word(w, kinds[k].len, kinds[k].alphabet);
			ck_assert_msg(segment_is_identifier(w, kinds[k].len), "kept '%s'", w);
		}
}
END_TEST

START_TEST(random_uuids)
{
	char u[37];

	for (int i = 0; i < RANDOM_COUNT; i++) {
		const char *hex = i % 2 ? "0123456789abcdef" : "0123456789ABCDEF";

		random_word(u, 36, hex);
		u[8] = u[13] = u[18] = u[23] = '-';
		ck_assert_msg(segment_is_identifier(u, 36), "kept '%s'", u);
	}
}
END_TEST

/* route_set_add: a reason naming the problem, and the set unchanged. */
struct route_err_case {
	const char *pattern;
	int rc;
	const char *reason; /* substring of err */
};

static const struct route_err_case route_errs[] = {
	{ "", -EINVAL, "must start with '/'" },
	{ "api/x", -EINVAL, "must start with '/'" },
	{ "/a/*/b", -EINVAL, "'*' is only allowed as the last segment" },
	{ "/a/{}", -EINVAL, "needs a name" },
	{ "/a/{x y}", -EINVAL, "letters, digits" },
	{ "/a/{id", -EINVAL, "as a whole {name}" },
	{ "/a/id}", -EINVAL, "as a whole {name}" },
	{ "/a/b*", -EINVAL, "as a whole {name}" },
	{ "/a/b?c", -EINVAL, "as a whole {name}" },
	{ "/a/b#c", -EINVAL, "as a whole {name}" },
	{ "/a/b c", -EINVAL, "printable ASCII" },
	{ "/a/\x01", -EINVAL, "route \"/a/?\"" },
	{ "/caf\xc3\xa9", -EINVAL, "printable ASCII" },
};

START_TEST(route_add_errors)
{
	const struct route_err_case *c = &route_errs[_i];
	static struct route_set rs;
	char err[256];

	route_set_init(&rs);
	memset(err, 0x5a, sizeof(err));
	ck_assert_int_eq(route_set_add(&rs, c->pattern, err, sizeof(err)), c->rc);
	ck_assert_msg(strstr(err, c->reason), "'%s': err '%s'", c->pattern, err);
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_int_eq(route_set_add(&rs, c->pattern, NULL, 0), c->rc);
}
END_TEST

START_TEST(route_add_limits)
{
	static struct route_set rs;
	char pat[ROUTE_LEN_MAX + 2], err[256], small[8];

	route_set_init(&rs);
	memset(pat, 'a', sizeof(pat));
	pat[0] = '/';
	pat[ROUTE_LEN_MAX] = '\0';
	ck_assert_int_eq(route_set_add(&rs, pat, err, sizeof(err)), 0);
	pat[ROUTE_LEN_MAX] = 'a';
	pat[ROUTE_LEN_MAX + 1] = '\0';
	ck_assert_int_eq(route_set_add(&rs, pat, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than 512 bytes"));
	ck_assert_ptr_nonnull(strstr(err, "...\""));
	ck_assert_int_eq(route_set_add(&rs, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(route_set_add(NULL, "/a", err, sizeof(err)), -EINVAL);
	memset(small, 0x5a, sizeof(small));
	ck_assert_int_eq(route_set_add(&rs, "x", small, sizeof(small)), -EINVAL);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(route_set_add(&rs, "x", small, 1), -EINVAL);
	ck_assert_int_eq(small[0], '\0');
	ck_assert_uint_eq(rs.n, 1);
	while (rs.n < ROUTE_MAX)
		ck_assert_int_eq(route_set_add(&rs, "/{x}", err, sizeof(err)), 0);
	ck_assert_int_eq(route_set_add(&rs, "/b", err, sizeof(err)), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "256 routes"));
	ck_assert_uint_eq(rs.n, ROUTE_MAX);
}
END_TEST

/* Valid patterns, and what they match. */
START_TEST(route_shapes)
{
	static struct route_set rs;
	static const char *const ok[] = { "/", "//x", "/a/", "/a/%20b", "/{a-b_1}/z", "/*" };
	static const struct {
		const char *path;
		const char *want;
	} m[] = {
		{ "/", "/" },
		{ "/q", "/*" },
		{ "//x", "//x" },
		{ "/a/", "/a/" },
		{ "/a/%20b", "/a/%20b" },
		{ "/a/ b", "/*" },
		{ "/k/z", "/{a-b_1}/z" },
	};
	char out[OUT_MAX], err[256];
	bool matched;

	route_set_init(&rs);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(route_set_add(&rs, ok[i], err, sizeof(err)) == 0, "%s: %s", ok[i],
		              err);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		ck_assert_int_eq(url_template(m[i].path, strlen(m[i].path), false, &rs, out,
		                              sizeof(out), &matched),
		                 (long)strlen(m[i].want));
		ck_assert_msg(matched && strcmp(out, m[i].want) == 0, "%s -> %s", m[i].path, out);
	}
	/* "/" only matches the root; "" is no path for a route. */
	ck_assert_int_eq(url_template("", 0, false, &rs, out, sizeof(out), &matched), 0);
	ck_assert(!matched);
}
END_TEST

START_TEST(bad_arguments)
{
	char out[16] = "x";
	bool matched = true;

	ck_assert_int_eq(url_template(NULL, 1, false, NULL, out, sizeof(out), &matched), -EINVAL);
	ck_assert(!matched);
	ck_assert_int_eq(url_template("/a", 2, false, NULL, NULL, 4, NULL), -EINVAL);
	ck_assert_int_eq(url_template(NULL, 0, false, NULL, out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(url_query_redact(NULL, 1, false, NULL, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(url_query_redact("a", 1, false, NULL, NULL, 4), -EINVAL);
	ck_assert_int_eq(url_query_redact(NULL, 0, true, NULL, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "...");
	ck_assert_int_eq(url_query_redact("page=1", 6, false, NULL, out, sizeof(out)), 6);
	ck_assert_str_eq(out, "page=?");
	ck_assert_int_eq(key_template(NULL, 1, false, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(key_template("a", 1, false, NULL, 4), -EINVAL);
}
END_TEST

/* Far past any capture: big inputs of one byte, and nested encodings. */
static char *repeat(const char *prefix, char fill, size_t n)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + n);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, pl);
	memset(s + pl, fill, n);
	return s;
}

START_TEST(adversarial)
{
	static const struct {
		const char *prefix;
		char fill;
		enum kind kind;
		const char *want;
	} big[] = {
		{ "/", '1', PATH, "/{id}" },   { "/", 'a', PATH, "/{id}" },
		{ "/", '%', PATH, "/{id}" },   { "a=", '1', QUERY, "a=?" },
		{ "", '7', QUERY, "{id}" },    { "k:", '9', KEY, "k:{id}" },
		{ "k:", '\0', KEY, "k:{id}" }, { "k:", '\xff', KEY, "k:{id}" },
		{ "", '&', QUERY, NULL },      { "", '/', PATH, NULL },
		{ "", ':', KEY, NULL },        { "a=", '"', QUERY, "a=?" },
	};
	char *out = malloc(URL_OUT_MAX(BIG_LEN + 2) + 1);

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		struct tcase c = { .name = big[i].prefix, .kind = big[i].kind };
		size_t len = strlen(big[i].prefix) + BIG_LEN;
		char *in = repeat(big[i].prefix, big[i].fill, BIG_LEN);
		bool matched;
		long n = run(&c, in, len, false, out, URL_OUT_MAX(len) + 1, &matched);

		ck_assert_int_ge(n, 0);
		if (big[i].want)
			ck_assert_str_eq(out, big[i].want);
		else /* separators only: the output is the input */
			ck_assert(n == (long)len && memcmp(out, in, len) == 0);
		ck_assert_int_eq(run(&c, in, len, false, out, 64, &matched),
		                 big[i].want ? n : -ENOSPC);
		free(in);
	}
	free(out);
}
END_TEST

/* Many tiny segments: the output may outgrow the input ("1/" -> "{id}/"). */
START_TEST(output_growth)
{
	size_t pairs = 1000, len = 2 * pairs;
	char *in = malloc(len), *out = malloc(URL_OUT_MAX(len) + 1);
	bool matched;
	long n;

	ck_assert(in && out);
	for (size_t i = 0; i < pairs; i++)
		memcpy(in + 2 * i, "1/", 2);
	n = url_template(in, len, false, NULL, out, URL_OUT_MAX(len) + 1, &matched);
	ck_assert_int_eq(n, (long)(5 * pairs));
	ck_assert_int_eq(url_template(in, len, false, NULL, out, 5 * pairs, &matched), -ENOSPC);
	ck_assert_int_eq(out[0], '\0');
	n = key_template(in, len, true, out, URL_OUT_MAX(len) + 1);
	ck_assert_int_eq(n, (long)(5 * (pairs - 1) + 5 + 3));
	free(in);
	free(out);
}
END_TEST

Suite *scrub_url_suite(void)
{
	Suite *s = suite_create("scrub_url");
	TCase *t = tcase_create("templates");
	TCase *r = tcase_create("routes");

	tcase_add_loop_test(t, table, 0, N_CASES);
	tcase_add_loop_test(t, every_cap, 0, N_CASES);
	tcase_add_loop_test(t, every_prefix, 0, N_CASES);
	tcase_add_loop_test(t, guard_page, 0, N_CASES);
	tcase_add_loop_test(t, segments, 0, N_SEG);
	tcase_add_test(t, segment_limits);
	tcase_add_test(t, rules);
	tcase_add_test(t, random_tokens);
	tcase_add_test(t, random_uuids);
	tcase_add_test(t, bad_arguments);
	tcase_add_test(t, adversarial);
	tcase_add_test(t, output_growth);
	tcase_add_loop_test(r, route_add_errors, 0,
	                    (int)(sizeof(route_errs) / sizeof(route_errs[0])));
	tcase_add_test(r, route_add_limits);
	tcase_add_test(r, route_shapes);
	suite_add_tcase(s, t);
	suite_add_tcase(s, r);
	return s;
}
