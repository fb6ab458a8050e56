// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/scrub_txn.c: a parser's transaction through the
 * policy to what may be exported. Table-driven: each case is a policy
 * (JSON over the defaults, or the defaults), the attributes a parser would
 * emit, and the exact attributes expected out (or that the record is
 * dropped), plus the rule that must have counted.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor/detect.h"
#include "processor/policy.h"
#include "processor/scrub.h"
#include "processor/scrub_txn.h"
#include "test/testutil.h"

#define MAX_IN  8
#define MAX_OUT 10
#define HASHED  "<hash>" /* expected: 16 lowercase hex chars */

struct in_attr {
	const char *key;
	const char *str; /* NULL: integer */
	int64_t num;
	unsigned flags;
};

struct out_attr {
	const char *key;
	const char *str; /* NULL: integer */
	int64_t num;
	bool truncated;
};

struct tcase {
	const char *name;
	const char *policy;      /* JSON; NULL: the defaults */
	const char *hash_header; /* a header whose action is set to "hash" by hand */
	enum proto_id proto;
	struct in_attr in[MAX_IN];
	bool dropped;
	struct out_attr out[MAX_OUT]; /* exactly these, in this order */
	int rule;                     /* a rule that must count (-1: none checked) */
	int detector;                 /* a detector that must count (-1: none checked) */
};

static const struct tcase cases[] = {
	{ "http: identifiers templated, query values redacted, unknown names dropped",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "http.request.method", "GET", 0, 0 },
	    { "url.path", "/users/12345/orders", 0, 0 },
	    { "url.query", "token=abc&page=2", 0, TXN_SENSITIVE },
	    { "not.allowlisted", "whatever", 0, 0 },
	    { "http.response.status_code", NULL, 200, 0 } },
	  false,
	  { { "http.request.method", "GET", 0, false },
	    { "url.path", "/users/{id}/orders", 0, false },
	    { "http.route", "/users/{id}/orders", 0, false },
	    { "url.query", "token=?&page=?", 0, false },
	    { "http.response.status_code", NULL, 200, false } },
	  SR_ATTR_DROPPED,
	  -1 },
	{ "http: a UUID in a route becomes {id}, it does not vanish",
	  NULL,
	  NULL,
	  PROTO_HTTP2,
	  { { "url.path", "/items/550e8400-e29b-41d4-a716-446655440000/x", 0, 0 } },
	  false,
	  { { "url.path", "/items/{id}/x", 0, false },
	    { "http.route", "/items/{id}/x", 0, false } },
	  SR_URL_PATH_TEMPLATED,
	  -1 },
	{ "http: a 16-digit order id failing Luhn still templates (a segment of digits)",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "url.path", "/orders/1234567812345678", 0, 0 } },
	  false,
	  { { "url.path", "/orders/{id}", 0, false }, { "http.route", "/orders/{id}", 0, false } },
	  SR_URL_PATH_TEMPLATED,
	  -1 },
	{ "http: a cut path loses its partial segment",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "url.path", "/api/users/12", 0, TXN_TRUNCATED } },
	  false,
	  { { "url.path", "/api/users/...", 0, true },
	    { "http.route", "/api/users/...", 0, true } },
	  -1,
	  -1 },
	{ "http: a user route wins over the heuristics",
	  "{\"routes\":[\"/api/users/{id}/orders\"]}",
	  NULL,
	  PROTO_HTTP1,
	  { { "url.path", "/api/users/alice/orders", 0, 0 } },
	  false,
	  { { "url.path", "/api/users/alice/orders", 0, false },
	    { "http.route", "/api/users/{id}/orders", 0, false } },
	  SR_ROUTE_MATCHED,
	  -1 },
	{ "http: routes_unmatched drop drops the request",
	  "{\"routes\":[\"/api/*\"],\"routes_unmatched\":\"drop\"}",
	  NULL,
	  PROTO_HTTP1,
	  { { "http.request.method", "GET", 0, 0 }, { "url.path", "/admin/x", 0, 0 } },
	  true,
	  { { NULL, NULL, 0, false } },
	  SR_ROUTE_UNMATCHED_DROP,
	  -1 },
	{ "http: query_keep keeps the values of the names listed",
	  "{\"url\":{\"query_keep\":[\"page\"]}}",
	  NULL,
	  PROTO_HTTP1,
	  { { "url.query", "page=2&token=s3cr3t", 0, 0 } },
	  false,
	  { { "url.query", "page=2&token=?", 0, false } },
	  SR_QUERY_REDACTED,
	  -1 },
	{ "http: a kept query value still goes through the detectors",
	  "{\"url\":{\"query_keep\":[\"to\"]}}",
	  NULL,
	  PROTO_HTTP1,
	  { { "url.query", "to=jane.doe@example.com", 0, 0 } },
	  false,
	  { { "url.query", "to=[REDACTED:email]", 0, false } },
	  -1,
	  DET_EMAIL },
	{ "headers: allowlisted kept, credentials never raw, others dropped",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "http.response.header.content-type", "application/json", 0, TXN_SENSITIVE },
	    { "http.request.header.authorization", "Bearer abc.def.ghi", 0, TXN_SENSITIVE },
	    { "http.request.header.x-custom", "v", 0, TXN_SENSITIVE } },
	  false,
	  { { "http.response.header.content-type", "application/json", 0, false } },
	  SR_HEADER_DROPPED,
	  -1 },
	{ "headers: a credential header hashed",
	  NULL,
	  "authorization",
	  PROTO_HTTP1,
	  { { "http.request.header.authorization", "Bearer abc.def.ghi", 0, TXN_SENSITIVE } },
	  false,
	  { { "http.request.header.authorization", HASHED, 0, false } },
	  SR_HEADER_HASHED,
	  -1 },
	{ "headers: redact gives the marker",
	  "{\"headers\":[{\"name\":\"cookie\",\"action\":"
	  "\"redact\"}]}",
	  NULL,
	  PROTO_HTTP1,
	  { { "http.request.header.cookie", "session=abc", 0, TXN_SENSITIVE } },
	  false,
	  { { "http.request.header.cookie", SCRUB_MARK, 0, false } },
	  SR_HEADER_REDACTED,
	  -1 },
	{ "attributes: truncate cuts at the length and flags it",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "user_agent.original",
	      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120",
	      0, TXN_SENSITIVE } },
	  false,
	  { { "user_agent.original",
	      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like ", 0, true } },
	  SR_ATTR_TRUNCATED,
	  -1 },
	{ "attributes: redact and hash, strings and integers",
	  "{\"attributes\":[{\"name\":\"server.address\",\"action\":\"redact\"},"
	  "{\"name\":\"server.port\",\"action\":\"redact\"}]}",
	  "server.port",
	  PROTO_HTTP1,
	  { { "server.address", "db.internal", 0, 0 }, { "server.port", NULL, 5432, 0 } },
	  false,
	  { { "server.address", SCRUB_MARK, 0, false }, { "server.port", HASHED, 0, false } },
	  SR_ATTR_REDACTED,
	  -1 },
	{ "attributes: a detector hit in a kept value is redacted, the record kept",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "server.address", "AKIAIOSFODNN7EXAMPLE.example.com", 0, 0 },
	    { "http.request.method", "GET", 0, 0 } },
	  false,
	  { { "server.address", "[REDACTED:aws_key].example.com", 0, false },
	    { "http.request.method", "GET", 0, false } },
	  -1,
	  DET_AWS_KEY },
	{ "attributes: a disabled detector leaves its match",
	  "{\"detectors\":{\"email\":false}}",
	  NULL,
	  PROTO_HTTP1,
	  { { "server.address", "ops@example.com", 0, 0 } },
	  false,
	  { { "server.address", "ops@example.com", 0, false } },
	  -1,
	  -1 },
	{ "attributes: a card-like number failing Luhn is not a card",
	  NULL,
	  NULL,
	  PROTO_HTTP1,
	  { { "server.address", "order-4111111111111112", 0, 0 } },
	  false,
	  { { "server.address", "order-4111111111111112", 0, false } },
	  -1,
	  -1 },
	{ "sql: literals out, operation kept, collection and summary derived",
	  NULL,
	  NULL,
	  PROTO_PGSQL,
	  { { "db.operation.name", "SELECT", 0, 0 },
	    { "db.query.text", "SELECT * FROM users WHERE email = 'a@b.example' AND id = 42", 0,
	      TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "SELECT", 0, false },
	    { "db.collection.name", "users", 0, false },
	    { "db.query.summary", "SELECT users", 0, false },
	    { "db.query.text", "SELECT * FROM users WHERE email = ? AND id = ?", 0, false } },
	  SR_SQL_NORMALIZED,
	  -1 },
	{ "sql: without the parser's operation, the normalizer's",
	  NULL,
	  NULL,
	  PROTO_MYSQL,
	  { { "db.query.text", "insert into orders values (1, 'x'), (2, 'y')", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "INSERT", 0, false },
	    { "db.collection.name", "orders", 0, false },
	    { "db.query.summary", "INSERT orders", 0, false },
	    { "db.query.text", "insert into orders values (?)", 0, false } },
	  SR_SQL_NORMALIZED,
	  -1 },
	{ "sql: unparseable text is dropped, not passed through",
	  NULL,
	  NULL,
	  PROTO_PGSQL,
	  { { "db.query.text", "SELECT \x01 'secret'", 0, TXN_SENSITIVE } },
	  false,
	  { { NULL, NULL, 0, false } },
	  SR_SQL_UNPARSEABLE,
	  -1 },
	{ "sql: unparseable as a marker when the policy says so",
	  "{\"sql\":{\"drop_unparseable\":false}}",
	  NULL,
	  PROTO_PGSQL,
	  { { "db.query.text", "SELECT \x01 'secret'", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.query.text", SCRUB_MARK, 0, false } },
	  SR_SQL_UNPARSEABLE,
	  -1 },
	{ "sql: disabled drops the text",
	  "{\"sql\":{\"enabled\":false}}",
	  NULL,
	  PROTO_PGSQL,
	  { { "db.query.text", "SELECT 1", 0, TXN_SENSITIVE } },
	  false,
	  { { NULL, NULL, 0, false } },
	  SR_SQL_DISABLED,
	  -1 },
	{ "redis: command and key pattern, never the value",
	  NULL,
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "SET", 0, 0 },
	    { "db.query.text", "SET session:8f3a9c2e7b1d4f6a90b1", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "SET", 0, false },
	    { "db.query.text", "SET session:{id}", 0, false } },
	  SR_REDIS_KEY_TEMPLATED,
	  -1 },
	{ "redis: a command whose argument is not a key keeps only the command",
	  NULL,
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "ECHO", 0, 0 },
	    { "db.query.text", "ECHO my-little-secret", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "ECHO", 0, false }, { "db.query.text", "ECHO", 0, false } },
	  SR_REDIS_ARG_DROPPED,
	  -1 },
	{ "redis: an unknown command (a password typed as one) is _OTHER",
	  NULL,
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "CORRECTHORSEBATTERY", 0, 0 },
	    { "db.query.text", "CORRECTHORSEBATTERY staple", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "_OTHER", 0, false }, { "db.query.text", "_OTHER", 0, false } },
	  SR_REDIS_COMMAND_UNKNOWN,
	  -1 },
	{ "redis: a subcommand that looks like a token is left out",
	  NULL,
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "CONFIG X7Q2K9P4W1Z8", 0, 0 } },
	  false,
	  { { "db.operation.name", "CONFIG", 0, false } },
	  -1,
	  -1 },
	{ "redis: a subcommand name is kept",
	  NULL,
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "CLIENT SETNAME", 0, 0 } },
	  false,
	  { { "db.operation.name", "CLIENT SETNAME", 0, false } },
	  -1,
	  -1 },
	{ "redis: key_pattern off drops the key",
	  "{\"redis\":{\"key_pattern\":false}}",
	  NULL,
	  PROTO_REDIS,
	  { { "db.operation.name", "GET", 0, 0 },
	    { "db.query.text", "GET user:1000", 0, TXN_SENSITIVE } },
	  false,
	  { { "db.operation.name", "GET", 0, false }, { "db.query.text", "GET", 0, false } },
	  SR_REDIS_ARG_DROPPED,
	  -1 },
	{ "kafka: topic and api kept, client id dropped",
	  NULL,
	  NULL,
	  PROTO_KAFKA,
	  { { "messaging.destination.name", "orders", 0, 0 },
	    { "messaging.operation.name", "Produce", 0, 0 },
	    { "messaging.client.id", "svc-with-secret", 0, TXN_SENSITIVE } },
	  false,
	  { { "messaging.destination.name", "orders", 0, false },
	    { "messaging.operation.name", "Produce", 0, false } },
	  SR_ATTR_DROPPED,
	  -1 },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static struct policy pol;
static struct scrubber scr;
static struct scrubbed out;

static void setup_case(const struct tcase *c)
{
	char err[512];

	if (c->policy)
		ck_assert_msg(policy_load_string(&pol, c->policy, "case", err, sizeof(err)) == 0,
		              "%s: %s", c->name, err);
	else
		policy_defaults(&pol);
	if (c->hash_header) {
		bool found = false;

		snprintf(pol.hash_key_file, sizeof(pol.hash_key_file), "/test/key");
		memset(pol.hash_key, 0x5a, 32);
		pol.hash_key_len = 32;
		for (uint32_t i = 0; i < pol.n_headers; i++)
			if (strcmp(pol.headers[i].name, c->hash_header) == 0)
				pol.headers[i].action = ACT_HASH, found = true;
		for (uint32_t i = 0; i < pol.n_attrs; i++)
			if (strcmp(pol.attrs[i].name, c->hash_header) == 0)
				pol.attrs[i].action = ACT_HASH, found = true;
		if (!found) {
			struct policy_header *h = &pol.headers[pol.n_headers++];

			snprintf(h->name, sizeof(h->name), "%s", c->hash_header);
			h->action = ACT_HASH;
		}
	}
	ck_assert_msg(scrubber_init(&scr, &pol, err, sizeof(err)) == 0, "%s: %s", c->name, err);
}

static void build_txn(const struct tcase *c, struct l7_txn *t)
{
	txn_init(t, c->proto, 1000);
	for (int i = 0; i < MAX_IN && c->in[i].key; i++) {
		if (c->in[i].str)
			txn_str(t, NULL, c->in[i].key, c->in[i].str, strlen(c->in[i].str),
			        c->in[i].flags);
		else
			txn_int(t, NULL, c->in[i].key, c->in[i].num);
	}
}

static bool is_hash(const struct scrub_attr *a)
{
	if (a->len != POLICY_HASH_LEN_DEFAULT)
		return false;
	for (uint32_t i = 0; i < a->len; i++)
		if (!strchr("0123456789abcdef", a->str[i]))
			return false;
	return true;
}

START_TEST(scrub_txn_table)
{
	const struct tcase *c = &cases[_i];
	struct l7_txn t;
	int n = 0;
	bool kept;

	setup_case(c);
	build_txn(c, &t);
	kept = scrubber_txn(&scr, &t, &out);
	ck_assert_msg(kept == !c->dropped, "%s: dropped %d", c->name, !kept);
	while (n < MAX_OUT && c->out[n].key)
		n++;
	ck_assert_msg(out.n == (uint32_t)n, "%s: %u attributes out, expected %d", c->name, out.n,
	              n);
	for (int i = 0; i < n; i++) {
		const struct scrub_attr *a = &out.a[i];
		const struct out_attr *e = &c->out[i];

		ck_assert_msg(strcmp(a->key, e->key) == 0, "%s: [%d] %s, expected %s", c->name, i,
		              a->key, e->key);
		ck_assert_msg(a->truncated == e->truncated, "%s: %s truncated %d", c->name, e->key,
		              a->truncated);
		if (!e->str) {
			ck_assert_msg(a->type == TXN_INT && a->num == e->num, "%s: %s", c->name,
			              e->key);
		} else if (strcmp(e->str, HASHED) == 0) {
			ck_assert_msg(a->type == TXN_STR && is_hash(a), "%s: %s = '%.*s'", c->name,
			              e->key, (int)a->len, a->str);
		} else {
			ck_assert_msg(a->type == TXN_STR && a->len == strlen(e->str) &&
			                      memcmp(a->str, e->str, a->len) == 0,
			              "%s: %s = '%.*s', expected '%s'", c->name, e->key,
			              (int)a->len, a->str, e->str);
		}
	}
	if (c->rule >= 0)
		ck_assert_msg(scr.st.rules[c->rule] > 0, "%s: rule %s did not count", c->name,
		              scrub_txn_rule_names[c->rule]);
	if (c->detector >= 0)
		ck_assert_msg(scr.st.detectors[c->detector] > 0, "%s: detector %s did not count",
		              c->name, detector_names[c->detector]);
	ck_assert_uint_eq(scr.st.records, 1);
	ck_assert_uint_eq(scr.st.records_dropped, c->dropped ? 1 : 0);
}
END_TEST

/* No input byte of a secret-bearing value appears in the output, whatever the policy keeps. */
START_TEST(scrub_txn_secrets_never_raw)
{
	static const char secret[] = "Zq8vK2mX9pL4wR7tY1nB";
	const struct tcase *c = &cases[_i];
	struct l7_txn t;
	char buf[512];

	setup_case(c);
	txn_init(&t, c->proto, 1);
	snprintf(buf, sizeof(buf), "/a/%s/b", secret);
	txn_str(&t, NULL, "url.path", buf, strlen(buf), 0);
	txn_str(&t, NULL, "url.query",
	        "k="
	        "Zq8vK2mX9pL4wR7tY1nB",
	        23, 0);
	txn_str(&t, NULL, "db.query.text", "SELECT 'Zq8vK2mX9pL4wR7tY1nB'", 29, 0);
	txn_str(&t, NULL, "http.request.header.authorization", secret, sizeof(secret) - 1, 0);
	txn_str(&t, NULL, "http.request.header.cookie", secret, sizeof(secret) - 1, 0);
	txn_str(&t, NULL, "db.user", secret, sizeof(secret) - 1, 0);
	scrubber_txn(&scr, &t, &out);
	for (uint32_t i = 0; i < out.n; i++)
		if (out.a[i].type == TXN_STR)
			ck_assert_msg(!memmem(out.a[i].str, out.a[i].len, "Zq8vK2mX9pL4", 12),
			              "%s: %s = '%.*s'", c->name, out.a[i].key, (int)out.a[i].len,
			              out.a[i].str);
}
END_TEST

START_TEST(scrub_txn_hash_is_stable_and_keyed)
{
	static const struct tcase c = { "hash",      NULL,      "authorization",
		                        PROTO_HTTP1, { { 0 } }, false,
		                        { { 0 } },   -1,        -1 };
	struct l7_txn t;
	char h1[64], h2[64], h3[64];

	setup_case(&c);
	txn_init(&t, PROTO_HTTP1, 1);
	txn_str(&t, NULL, "http.request.header.authorization", "Basic dXNlcjpwdw==", 18, 0);
	scrubber_txn(&scr, &t, &out);
	ck_assert_uint_eq(out.n, 1);
	snprintf(h1, sizeof(h1), "%.*s", (int)out.a[0].len, out.a[0].str);
	scrubber_txn(&scr, &t, &out);
	snprintf(h2, sizeof(h2), "%.*s", (int)out.a[0].len, out.a[0].str);
	ck_assert_str_eq(h1, h2);
	pol.hash_key[0] ^= 1; /* another key: another hash */
	scrubber_txn(&scr, &t, &out);
	snprintf(h3, sizeof(h3), "%.*s", (int)out.a[0].len, out.a[0].str);
	ck_assert_str_ne(h1, h3);
}
END_TEST

START_TEST(scrub_txn_headers_for_parsers)
{
	static const char *const want[] = { "accept", "accept-encoding", "content-encoding",
		                            "content-length", "content-type" };
	char err[256];

	policy_defaults(&pol);
	ck_assert_int_eq(scrubber_init(&scr, &pol, err, sizeof(err)), 0);
	ck_assert_uint_eq(scr.headers.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct proto_header *h =
		        proto_headers_find(&scr.headers, want[i], strlen(want[i]));

		ck_assert_ptr_nonnull(h);
		ck_assert(strncmp(h->req_key, "http.request.header.", 20) == 0);
	}
	/* dropped headers are not even captured */
	ck_assert_ptr_null(proto_headers_find(&scr.headers, "authorization", 13));
}
END_TEST

START_TEST(scrub_txn_bad_routes_refused)
{
	char err[256];

	policy_defaults(&pol);
	ck_assert_int_eq(scrubber_init(&scr, &pol, err, sizeof(err)), 0);
	snprintf(pol.routes[0], sizeof(pol.routes[0]), "no-leading-slash");
	pol.n_routes = 1;
	ck_assert_int_lt(scrubber_init(&scr, &pol, err, sizeof(err)), 0);
	ck_assert(err[0] != '\0');
}
END_TEST

START_TEST(scrub_text_runs_enabled_detectors)
{
	char err[256], o[256];
	long n;

	policy_defaults(&pol);
	ck_assert_int_eq(scrubber_init(&scr, &pol, err, sizeof(err)), 0);
	n = scrubber_text(&scr, "curl\xff ops@example.com", 21, o, sizeof(o));
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(o, "curl\xef\xbf\xbd [REDACTED:email]");
	ck_assert_uint_eq(scr.st.detectors[DET_EMAIL], 1);
	ck_assert_int_eq(scrubber_text(&scr, "x ops@example.com", 17, o, 4), -ENOSPC);
	ck_assert_uint_eq(scr.st.rules[SR_VALUE_UNSCRUBBABLE], 1);
}
END_TEST

/* The caches give what the scan gave, counters included, and key on the whole value. */
START_TEST(scrub_txn_cache_replays_exactly)
{
	static const char *const v[] = { "ops@example.com", "ops@example.co", "ops@example.com" };
	static const char *const want[] = { "[REDACTED:email]", "[REDACTED:email]",
		                            "[REDACTED:email]" };
	char err[256];

	policy_defaults(&pol);
	ck_assert_int_eq(scrubber_init(&scr, &pol, err, sizeof(err)), 0);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			struct l7_txn t;

			txn_init(&t, PROTO_PGSQL, 1);
			txn_str(&t, NULL, "server.address", v[i], strlen(v[i]), 0);
			txn_str(&t, NULL, "db.query.text",
			        i ? "SELECT 'b' FROM t" : "SELECT 'a' FROM u", 17, 0);
			ck_assert(scrubber_txn(&scr, &t, &out));
			ck_assert_uint_eq(out.n, 5);
			ck_assert_uint_eq(out.a[0].len, strlen(want[i]));
			ck_assert(memcmp(out.a[0].str, want[i], out.a[0].len) == 0);
			ck_assert_str_eq(out.a[2].key, "db.collection.name");
			ck_assert(memcmp(out.a[2].str, i ? "t" : "u", 1) == 0);
		}
	ck_assert_uint_eq(scr.st.detectors[DET_EMAIL], 6);
	ck_assert_uint_eq(scr.st.rules[SR_SQL_NORMALIZED], 6);
}
END_TEST

START_TEST(scrub_txn_default_scrubber_exists)
{
	ck_assert_ptr_nonnull(scrubber_default());
	ck_assert_ptr_eq(scrubber_default(), scrubber_default());
}
END_TEST

START_TEST(scrub_txn_rule_names_complete)
{
	for (int i = 0; i < SR__COUNT; i++)
		ck_assert_msg(scrub_txn_rule_names[i] && scrub_txn_rule_names[i][0], "rule %d", i);
}
END_TEST

Suite *scrub_txn_suite(void);

Suite *scrub_txn_suite(void)
{
	Suite *s = suite_create("scrub_txn");
	TCase *t = tcase_create("table");

	tcase_add_loop_test(t, scrub_txn_table, 0, N_CASES);
	tcase_add_loop_test(t, scrub_txn_secrets_never_raw, 0, N_CASES);
	tcase_add_test(t, scrub_txn_hash_is_stable_and_keyed);
	tcase_add_test(t, scrub_txn_headers_for_parsers);
	tcase_add_test(t, scrub_txn_bad_routes_refused);
	tcase_add_test(t, scrub_text_runs_enabled_detectors);
	tcase_add_test(t, scrub_txn_default_scrubber_exists);
	tcase_add_test(t, scrub_txn_cache_replays_exactly);
	tcase_add_test(t, scrub_txn_rule_names_complete);
	suite_add_tcase(s, t);
	return s;
}
