// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/policy.c: the built-in defaults, loading (every error
 * path names the file, the JSON path and what was expected, and leaves the
 * policy untouched), the never-raw credential rule, the hash key file,
 * HMAC-SHA-256 against RFC 4231, the default JSON round trip and the
 * manifest, the maxima, and hostile input (truncated, nested, huge, NULs,
 * invalid UTF-8). Run from the repository root (the manifest is read by its
 * relative path). Policies are ~160 KiB, so they live on the heap.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "processor/policy.h"

Suite *policy_suite(void);

#define ERR_MAX       512
#define FILE_NAME     "test.json"
#define MANIFEST      "manifests/processor-policy.json"
#define DIR_TOKEN     "@D" /* replaced by the fixture's directory in JSON texts */
#define KEY_LEN       32
#define HASH_OUT_MAX  (POLICY_HASH_LEN_MAX + 1)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

/* ---- helpers ---- */

static struct policy *new_policy(void)
{
	struct policy *p = malloc(sizeof(*p));

	ck_assert_ptr_nonnull(p);
	policy_defaults(p);
	return p;
}

/* A growing string, for generated JSON. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* @tmpl with every DIR_TOKEN replaced by the fixture directory (malloc'd). */
static char *subst(const char *tmpl)
{
	struct sbuf b = { 0 };
	const char *t;

	sb_add(&b, "");
	while ((t = strstr(tmpl, DIR_TOKEN)) != NULL) {
		char part[256];

		ck_assert_uint_lt((size_t)(t - tmpl), sizeof(part));
		memcpy(part, tmpl, (size_t)(t - tmpl));
		part[t - tmpl] = '\0';
		sb_add(&b, part);
		sb_add(&b, dir);
		tmpl = t + strlen(DIR_TOKEN);
	}
	sb_add(&b, tmpl);
	return b.s;
}

static void write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0); /* exact, whatever the umask */
	close(fd);
}

static void key_bytes(uint8_t *k, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed + i * 7);
}

/* The fixture directory: key files of every kind the loader must judge. */
static void setup(void)
{
	uint8_t k[POLICY_HASH_KEY_MAX + 1], rfc1[20], rfc4[25], rfc6[131];
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/policy-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	key_bytes(k, sizeof(k), 1);
	write_file("key_ok", k, KEY_LEN, 0600);
	write_file("key_ok2", k + 1, KEY_LEN, 0400);
	write_file("key_group_r", k, KEY_LEN, 0640);
	write_file("key_min", k, POLICY_HASH_KEY_MIN, 0600);
	write_file("key_short", k, POLICY_HASH_KEY_MIN - 1, 0600);
	write_file("key_max", k, POLICY_HASH_KEY_MAX, 0600);
	write_file("key_long", k, POLICY_HASH_KEY_MAX + 1, 0600);
	write_file("key_empty", "", 0, 0600);
	write_file("key_world", k, KEY_LEN, 0644);
	write_file("key_group_w", k, KEY_LEN, 0620);
	write_file("key_other_x", k, KEY_LEN, 0601);
	write_file("key_secret", "SECRETKEYMATERIAL-0123456789", 28, 0600);
	memset(rfc1, 0x0b, sizeof(rfc1));
	write_file("key_rfc1", rfc1, sizeof(rfc1), 0600);
	for (size_t i = 0; i < sizeof(rfc4); i++)
		rfc4[i] = (uint8_t)(i + 1);
	write_file("key_rfc4", rfc4, sizeof(rfc4), 0600);
	memset(rfc6, 0xaa, sizeof(rfc6));
	write_file("key_rfc6", rfc6, sizeof(rfc6), 0600);
	snprintf(path, sizeof(path), "%s/subdir", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Load @tmpl (DIR_TOKEN substituted) into @p; the message in @err. */
static int load(struct policy *p, const char *tmpl, char err[ERR_MAX])
{
	char *json = subst(tmpl);
	int r;

	memset(err, 0x5a, ERR_MAX);
	r = policy_load_string(p, json, FILE_NAME, err, ERR_MAX);
	ck_assert_ptr_nonnull(memchr(err, '\0', ERR_MAX));
	free(json);
	return r;
}

static void assert_loads(struct policy *p, const char *tmpl)
{
	char err[ERR_MAX];
	int r = load(p, tmpl, err);

	ck_assert_msg(r == 0, "load failed (%d): %s", r, err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(policy_check(p, err, sizeof(err)), 0);
}

/* ---- defaults ---- */

struct attr_case {
	const char *name;
	enum attr_action action;
	uint32_t len;
};

/* Every default rule, then near-misses that are not on the list. */
static const struct attr_case default_attr_cases[] = {
	{ "http.request.method", ACT_KEEP, 0 },
	{ "http.route", ACT_KEEP, 0 },
	{ "url.path", ACT_KEEP, 0 },
	{ "url.query", ACT_KEEP, 0 },
	{ "http.response.status_code", ACT_KEEP, 0 },
	{ "server.address", ACT_KEEP, 0 },
	{ "server.port", ACT_KEEP, 0 },
	{ "network.protocol.version", ACT_KEEP, 0 },
	{ "http.request.body.size", ACT_KEEP, 0 },
	{ "http.response.body.size", ACT_KEEP, 0 },
	{ "rpc.system", ACT_KEEP, 0 },
	{ "rpc.service", ACT_KEEP, 0 },
	{ "rpc.method", ACT_KEEP, 0 },
	{ "rpc.grpc.status_code", ACT_KEEP, 0 },
	{ "db.system.name", ACT_KEEP, 0 },
	{ "db.namespace", ACT_KEEP, 0 },
	{ "db.operation.name", ACT_KEEP, 0 },
	{ "db.collection.name", ACT_KEEP, 0 },
	{ "db.query.summary", ACT_KEEP, 0 },
	{ "db.query.text", ACT_KEEP, 0 },
	{ "db.response.status_code", ACT_KEEP, 0 },
	{ "db.response.returned_rows", ACT_KEEP, 0 },
	{ "db.redis.argument_count", ACT_KEEP, 0 },
	{ "messaging.system", ACT_KEEP, 0 },
	{ "messaging.operation.name", ACT_KEEP, 0 },
	{ "messaging.operation.type", ACT_KEEP, 0 },
	{ "messaging.destination.name", ACT_KEEP, 0 },
	{ "messaging.kafka.topic_count", ACT_KEEP, 0 },
	{ "messaging.kafka.api_version", ACT_KEEP, 0 },
	{ "error.type", ACT_KEEP, 0 },
	{ "user_agent.original", ACT_TRUNCATE, 64 },
	{ "messaging.client.id", ACT_DROP, 0 },
	{ "db.user", ACT_DROP, 0 },
	/* near-misses: not listed, so dropped */
	{ "", ACT_DROP, 0 },
	{ "HTTP.REQUEST.METHOD", ACT_DROP, 0 }, /* attribute names are case-sensitive */
	{ "http.request.method ", ACT_DROP, 0 },
	{ "http.request", ACT_DROP, 0 },
	{ "http.request.method_original", ACT_DROP, 0 },
	{ "rpc.*", ACT_DROP, 0 },
	{ "rpc", ACT_DROP, 0 },
	{ "messaging.*", ACT_DROP, 0 },
	{ "url.full", ACT_DROP, 0 },
	{ "url.scheme", ACT_DROP, 0 },
	{ "db.password", ACT_DROP, 0 },
	{ "http.request.header.authorization", ACT_DROP, 0 },
	{ "user_agent.original\n", ACT_DROP, 0 },
};

START_TEST(defaults_attrs)
{
	const struct attr_case *c = &default_attr_cases[_i];
	struct policy *p = new_policy();
	uint32_t len = 12345;

	ck_assert_msg(policy_attr_action(p, c->name, &len) == c->action, "%s", c->name);
	ck_assert_uint_eq(len, c->len);
	ck_assert(policy_attr_action(p, c->name, NULL) == c->action);
	free(p);
}
END_TEST

struct header_case {
	const char *name;
	enum attr_action action;
};

static const struct header_case default_header_cases[] = {
	{ "content-type", ACT_KEEP },
	{ "Content-Type", ACT_KEEP },
	{ "CONTENT-LENGTH", ACT_KEEP },
	{ "accept", ACT_KEEP },
	{ "Accept-Encoding", ACT_KEEP },
	{ "content-encoding", ACT_KEEP },
	/* not listed */
	{ "authorization", ACT_DROP },
	{ "Cookie", ACT_DROP },
	{ "set-cookie", ACT_DROP },
	{ "x-api-key", ACT_DROP },
	{ "user-agent", ACT_DROP },
	{ "x-request-id", ACT_DROP },
	{ "content-type ", ACT_DROP },
	{ "content", ACT_DROP },
	{ "", ACT_DROP },
	{ "acceptable", ACT_DROP },
};

START_TEST(defaults_headers)
{
	const struct header_case *c = &default_header_cases[_i];
	struct policy *p = new_policy();

	ck_assert_msg(policy_header_action(p, c->name) == c->action, "%s", c->name);
	free(p);
}
END_TEST

START_TEST(defaults_rest)
{
	struct policy *p = new_policy();
	const char *list[POLICY_QUERY_KEEP_MAX + 1];
	char err[ERR_MAX] = "x";

	ck_assert_int_eq(policy_defaults(p), 0);
	ck_assert_int_eq(policy_check(p, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(policy_query_keep_list(p, list), 0);
	ck_assert_ptr_null(list[0]);
	ck_assert_uint_eq(p->n_routes, 0);
	ck_assert_int_eq(p->routes_unmatched, ROUTES_TEMPLATE);
	ck_assert(p->sql_enabled && p->sql_drop_unparseable && p->redis_key_pattern);
	ck_assert_int_eq(p->process_args, ARGS_SCRUB);
	for (int i = 0; i < POLICY_DETECTORS; i++)
		ck_assert_msg(p->detectors[i], "%s", policy_detector_names[i]);
	ck_assert_str_eq(p->hash_key_file, "");
	ck_assert_uint_eq(p->hash_key_len, 0);
	ck_assert_uint_eq(p->hash_len, POLICY_HASH_LEN_DEFAULT);
	free(p);
}
END_TEST

/* detect.h's names, in its order: the integration relies on the index. */
START_TEST(detector_names)
{
	static const char *const want[POLICY_DETECTORS] = {
		"private_key",  "jwt",         "bearer",     "basic_auth",
		"aws_key",      "gcp_key",     "azure_key",  "github_token",
		"gitlab_token", "slack_token", "stripe_key", "email",
		"card_number",  "ssn",         "iban",       "high_entropy",
	};

	for (int i = 0; i < POLICY_DETECTORS; i++)
		ck_assert_str_eq(policy_detector_names[i], want[i]);
}
END_TEST

/* ---- loading: successes ---- */

/* Empty and version-only files are the defaults, byte for byte. */
START_TEST(load_empty_is_defaults)
{
	static const char *const texts[] = { "{}", " { \"version\" : 1 }\n", "\n\t{}\r\n" };
	struct policy *p = new_policy(), *d = new_policy();

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		memset(p, 0xa5, sizeof(*p));
		assert_loads(p, texts[i]);
		ck_assert_msg(memcmp(p, d, sizeof(*p)) == 0, "%s", texts[i]);
	}
	free(p);
	free(d);
}
END_TEST

struct load_case {
	const char *name;
	const char *json;
	const char *attr; /* NULL: no attribute check */
	enum attr_action attr_action;
	uint32_t len;
	const char *header; /* NULL: no header check */
	enum attr_action header_action;
};

static const struct load_case load_cases[] = {
	{ "attrs_replace_list",
	  "{\"attributes\": [{\"name\": \"db.user\", \"action\": \"redact\"}]}",
	  "http.request.method", ACT_DROP, 0, "content-type", ACT_KEEP },
	{ "attr_redact", "{\"attributes\": [{\"name\": \"db.user\", \"action\": \"redact\"}]}",
	  "db.user", ACT_REDACT, 0, NULL, 0 },
	{ "attr_drop_explicit",
	  "{\"attributes\": [{\"name\": \"url.path\", \"action\": \"drop\"}]}", "url.path",
	  ACT_DROP, 0, NULL, 0 },
	{ "attr_truncate",
	  "{\"attributes\": [{\"name\": \"url.path\", \"action\": \"truncate\", \"length\": 1}]}",
	  "url.path", ACT_TRUNCATE, 1, NULL, 0 },
	{ "attr_truncate_max",
	  "{\"attributes\": [{\"action\": \"truncate\", \"length\": 4096, \"name\": \"a\"}]}", "a",
	  ACT_TRUNCATE, POLICY_TRUNCATE_MAX, NULL, 0 },
	{ "attrs_empty", "{\"attributes\": []}", "http.request.method", ACT_DROP, 0, "accept",
	  ACT_KEEP },
	{ "attr_hash_key_after",
	  "{\"attributes\": [{\"name\": \"db.user\", \"action\": \"hash\"}], "
	  "\"hash_key_file\": \"@D/key_ok\"}",
	  "db.user", ACT_HASH, 0, NULL, 0 },
	{ "attr_hash_key_before",
	  "{\"hash_key_file\": \"@D/key_ok\", "
	  "\"attributes\": [{\"name\": \"messaging.client.id\", \"action\": \"hash\"}]}",
	  "messaging.client.id", ACT_HASH, 0, NULL, 0 },
	{ "attr_sensitive_redact",
	  "{\"attributes\": [{\"name\": \"http.request.header.authorization\", \"action\": "
	  "\"redact\"}]}",
	  "http.request.header.authorization", ACT_REDACT, 0, NULL, 0 },
	{ "headers_replace_list",
	  "{\"headers\": [{\"name\": \"X-Request-Id\", \"action\": \"keep\"}]}", "http.route",
	  ACT_KEEP, 0, "x-request-id", ACT_KEEP },
	{ "header_case_insensitive",
	  "{\"headers\": [{\"name\": \"X-Request-Id\", \"action\": \"keep\"}]}", NULL, 0, 0,
	  "X-REQUEST-ID", ACT_KEEP },
	{ "header_replaced_gone",
	  "{\"headers\": [{\"name\": \"X-Request-Id\", \"action\": \"keep\"}]}", NULL, 0, 0,
	  "content-type", ACT_DROP },
	{ "header_auth_redact",
	  "{\"headers\": [{\"name\": \"Authorization\", \"action\": \"redact\"}]}", NULL, 0, 0,
	  "authorization", ACT_REDACT },
	{ "header_cookie_drop", "{\"headers\": [{\"name\": \"Cookie\", \"action\": \"drop\"}]}",
	  NULL, 0, 0, "cookie", ACT_DROP },
	{ "header_auth_hash",
	  "{\"hash_key_file\": \"@D/key_ok\", \"headers\": [{\"name\": \"Authorization\", "
	  "\"action\": \"hash\"}]}",
	  NULL, 0, 0, "Authorization", ACT_HASH },
	{ "header_session_hash",
	  "{\"hash_key_file\": \"@D/key_ok\", \"headers\": [{\"name\": \"X-Session-Id\", "
	  "\"action\": \"hash\"}]}",
	  NULL, 0, 0, "x-session-id", ACT_HASH },
	{ "header_tchars",
	  "{\"headers\": [{\"name\": \"x-a!#$%&'*+.^_`|~1\", \"action\": \"keep\"}]}", NULL, 0, 0,
	  "X-A!#$%&'*+.^_`|~1", ACT_KEEP },
	{ "header_near_miss_keep",
	  "{\"headers\": [{\"name\": \"x-keyboard-layout\", \"action\": \"keep\"}]}", NULL, 0, 0,
	  "x-keyboard-layout", ACT_KEEP },
	{ "header_www_authenticate",
	  "{\"headers\": [{\"name\": \"WWW-Authenticate\", \"action\": \"keep\"}]}", NULL, 0, 0,
	  "www-authenticate", ACT_KEEP },
	{ "unicode_escape_name",
	  "{\"attributes\": [{\"name\": \"\\u0064b.user\", \"action\": \"redact\"}]}", "db.user",
	  ACT_REDACT, 0, NULL, 0 },
};

START_TEST(load_table)
{
	const struct load_case *c = &load_cases[_i];
	struct policy *p = new_policy();
	uint32_t len = 999;

	assert_loads(p, c->json);
	if (c->attr) {
		ck_assert_msg(policy_attr_action(p, c->attr, &len) == c->attr_action, "%s",
		              c->name);
		ck_assert_uint_eq(len, c->len);
	}
	if (c->header)
		ck_assert_msg(policy_header_action(p, c->header) == c->header_action, "%s",
		              c->name);
	free(p);
}
END_TEST

/* Objects override only what they name; the other keys keep their defaults. */
START_TEST(load_objects_merge)
{
	struct policy *p = new_policy();

	assert_loads(p, "{\"sql\": {\"enabled\": false}, \"detectors\": {\"email\": false, "
	                "\"iban\": true}, \"redis\": {}}");
	ck_assert(!p->sql_enabled && p->sql_drop_unparseable && p->redis_key_pattern);
	for (int i = 0; i < POLICY_DETECTORS; i++)
		ck_assert_int_eq(p->detectors[i], strcmp(policy_detector_names[i], "email") != 0);
	assert_loads(p, "{\"sql\": {\"drop_unparseable\": false}, \"redis\": {\"key_pattern\": "
	                "false}, \"url\": {}}");
	ck_assert(p->sql_enabled && !p->sql_drop_unparseable && !p->redis_key_pattern);
	for (int i = 0; i < POLICY_DETECTORS; i++)
		ck_assert(p->detectors[i]); /* a new load starts again from the defaults */
	free(p);
}
END_TEST

START_TEST(load_other_sections)
{
	struct policy *p = new_policy();
	const char *list[POLICY_QUERY_KEEP_MAX + 1];

	assert_loads(p, "{\"url\": {\"query_keep\": [\"page\", \"lang\", \"caf\\u00e9\"]}, "
	                "\"routes\": [\"/api/users/{id}/orders\", \"/static/*\", \"/\"], "
	                "\"routes_unmatched\": \"drop\", \"process_args\": \"drop\", "
	                "\"hash_len\": 64, \"version\": 1}");
	ck_assert_uint_eq(policy_query_keep_list(p, list), 3);
	ck_assert_str_eq(list[0], "page");
	ck_assert_str_eq(list[1], "lang");
	ck_assert_str_eq(list[2], "caf\xc3\xa9");
	ck_assert_ptr_null(list[3]);
	ck_assert_uint_eq(p->n_routes, 3);
	ck_assert_str_eq(p->routes[0], "/api/users/{id}/orders");
	ck_assert_str_eq(p->routes[1], "/static/*");
	ck_assert_str_eq(p->routes[2], "/");
	ck_assert_int_eq(p->routes_unmatched, ROUTES_DROP);
	ck_assert_int_eq(p->process_args, ARGS_DROP);
	ck_assert_uint_eq(p->hash_len, 64);
	assert_loads(p, "{\"routes_unmatched\": \"template\", \"process_args\": \"scrub\", "
	                "\"hash_len\": 8, \"hash_key_file\": null}");
	ck_assert_int_eq(p->routes_unmatched, ROUTES_TEMPLATE);
	ck_assert_int_eq(p->process_args, ARGS_SCRUB);
	ck_assert_uint_eq(p->hash_len, 8);
	free(p);
}
END_TEST

/* ---- loading: errors ---- */

struct err_case {
	const char *name;
	const char *json;
	const char *at;  /* the JSON path after "test.json: " */
	const char *msg; /* must appear in the message */
};

#define RULE(n, a) "{\"name\": \"" n "\", \"action\": \"" a "\"}"
#define ATTRS(x)   "{\"attributes\": [" x "]}"
#define HEADERS(x) "{\"headers\": [" x "]}"
#define KEYF(f)    "{\"hash_key_file\": \"@D/" f "\"}"

static const struct err_case err_cases[] = {
	/* syntax */
	{ "empty", "", "$", "line 1" },
	{ "not_json", "hello", "$", "line 1, column" },
	{ "truncated", "{\"attributes\": [", "$", "line 1" },
	{ "trailing", "{} x", "$", "end of file expected" },
	{ "duplicate_key", "{\"sql\": {}, \"sql\": {}}", "$", "duplicate object key" },
	{ "nul_escape", "{\"routes\": [\"/a\\u0000b\"]}", "$", "\\u0000 is not allowed" },
	{ "bad_utf8", "{\"routes\": [\"/\xff\"]}", "$", "unable to decode byte 0xff" },
	{ "ctl_near_utf8", "{\"a\": \"\xc3\xa9\x01\"}", "$", "control character 0x1 near '\"?\?'" },
	{ "utf8_root", "\xc3\xa9", "$", "expected near '?\?'" },
	{ "bad_utf8_key", "{\"\x01\xc3\": 1}", "$", "line 1" },
	{ "huge_int", "{\"hash_len\": 99999999999999999999}", "$", "too big" },
	{ "array_root", "[]", "$", "expected an object" },
	{ "string_root", "\"x\"", "$", "'[' or '{' expected" },
	{ "number_root", "12345678901234567890", "$", "" },
	/* strict keys */
	{ "unknown_top", "{\"atributes\": []}", "$",
	  "unknown key 'atributes' (expected version, hash_key_file, hash_len, attributes" },
	{ "unknown_top_case", "{\"Attributes\": []}", "$", "unknown key 'Attributes'" },
	{ "unknown_key_control", "{\"\\u0001bad\\n\": 1}", "$", "unknown key '?bad?'" },
	{ "unknown_key_utf8", "{\"caf\\u00e9\": 1}", "$",
	  "unknown key 'caf?"
	  "?'" },
	{ "unknown_attr_key", ATTRS("{\"name\": \"a\", \"acton\": \"keep\"}"), "attributes[0]",
	  "unknown key 'acton' (expected name, action, length)" },
	{ "unknown_header_key", HEADERS("{\"name\": \"a\", \"action\": \"keep\", \"length\": 3}"),
	  "headers[0]", "unknown key 'length' (expected name, action)" },
	{ "unknown_url_key", "{\"url\": {\"query\": []}}", "url", "unknown key 'query'" },
	{ "unknown_sql_key", "{\"sql\": {\"enable\": true}}", "sql", "unknown key 'enable'" },
	{ "unknown_redis_key", "{\"redis\": {\"keys\": true}}", "redis", "unknown key 'keys'" },
	{ "unknown_detector", "{\"detectors\": {\"jwtt\": false}}", "detectors",
	  "unknown key 'jwtt' (expected private_key, jwt," },
	/* version */
	{ "version_2", "{\"version\": 2}", "version", "expected an integer from 1 to 1, got 2" },
	{ "version_string", "{\"version\": \"1\"}", "version", "expected an integer" },
	{ "version_real", "{\"version\": 1.0}", "version", "expected an integer" },
	/* attributes */
	{ "attrs_object", "{\"attributes\": {}}", "attributes", "expected an array" },
	{ "attrs_null", "{\"attributes\": null}", "attributes", "expected an array" },
	{ "attr_number", ATTRS("1"), "attributes[0]", "expected an object" },
	{ "attr_no_action", ATTRS("{\"name\": \"a\"}"), "attributes[0]",
	  "expected both 'name' and 'action'" },
	{ "attr_no_name", ATTRS("{\"action\": \"keep\"}"), "attributes[0]",
	  "expected both 'name' and 'action'" },
	{ "attr_bad_action_index_3",
	  ATTRS(RULE("a", "keep") "," RULE("b", "keep") "," RULE("c", "keep") "," RULE("d", "kep")),
	  "attributes[3].action", "expected one of drop, keep, redact, hash, truncate, got 'kep'" },
	{ "attr_action_case", ATTRS(RULE("a", "KEEP")), "attributes[0].action", "got 'KEEP'" },
	{ "attr_action_number", ATTRS("{\"name\": \"a\", \"action\": 1}"), "attributes[0].action",
	  "expected one of drop, keep" },
	{ "attr_name_empty", ATTRS(RULE("", "keep")), "attributes[0].name",
	  "expected 1 to 63 bytes, got 0" },
	{ "attr_name_long",
	  ATTRS(RULE("a123456789012345678901234567890123456789012345678901234567890123", "keep")),
	  "attributes[0].name", "expected 1 to 63 bytes, got 64" },
	{ "attr_name_number", ATTRS("{\"name\": 5, \"action\": \"keep\"}"), "attributes[0].name",
	  "expected a string" },
	{ "attr_name_upper", ATTRS(RULE("Http.Method", "keep")), "attributes[0].name",
	  "'Http.Method' is not a valid attribute name" },
	{ "attr_name_glob", ATTRS(RULE("rpc.*", "keep")), "attributes[0].name",
	  "'rpc.*' is not a valid attribute name" },
	{ "attr_name_space", ATTRS(RULE("a b", "keep")), "attributes[0].name", "not a valid" },
	{ "attr_name_quote", ATTRS(RULE("a\\\"b", "keep")), "attributes[0].name",
	  "'a\"b' is not a valid" },
	{ "attr_name_dot_first", ATTRS(RULE(".a", "keep")), "attributes[0].name", "not a valid" },
	{ "attr_name_dot_last", ATTRS(RULE("a.", "keep")), "attributes[0].name", "not a valid" },
	{ "attr_duplicate",
	  ATTRS(RULE("db.user", "drop") "," RULE("a", "keep") "," RULE("db.user", "keep")),
	  "attributes[2].name", "duplicate of attributes[0] ('db.user')" },
	{ "attr_truncate_no_len", ATTRS(RULE("a", "truncate")), "attributes[0].length",
	  "\"truncate\" needs a length from 1 to 4096" },
	{ "attr_len_with_keep", ATTRS("{\"name\": \"a\", \"action\": \"keep\", \"length\": 3}"),
	  "attributes[0].length", "only allowed with action \"truncate\"" },
	{ "attr_len_0", ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": 0}"),
	  "attributes[0].length", "expected an integer from 1 to 4096, got 0" },
	{ "attr_len_big", ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": 4097}"),
	  "attributes[0].length", "got 4097" },
	{ "attr_len_negative", ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": -1}"),
	  "attributes[0].length", "got -1" },
	{ "attr_len_real", ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": 64.0}"),
	  "attributes[0].length", "expected an integer" },
	{ "attr_len_string",
	  ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": \"64\"}"),
	  "attributes[0].length", "expected an integer" },
	{ "attr_len_int64",
	  ATTRS("{\"name\": \"a\", \"action\": \"truncate\", \"length\": 4294967360}"),
	  "attributes[0].length", "got 4294967360" },
	{ "attr_hash_no_key", ATTRS(RULE("db.user", "hash")), "attributes[0].action",
	  "\"hash\" needs hash_key_file" },
	{ "attr_hash_null_key",
	  "{\"hash_key_file\": null, \"attributes\": [" RULE("db.user", "hash") "]}",
	  "attributes[0].action", "\"hash\" needs hash_key_file" },
	{ "attr_sensitive_keep", ATTRS(RULE("http.request.header.authorization", "keep")),
	  "attributes[0].action",
	  "'http.request.header.authorization' names a credential: expected \"drop\", \"redact\" "
	  "or \"hash\", never \"keep\"" },
	{ "attr_sensitive_truncate",
	  ATTRS("{\"name\": \"app.session_id\", \"action\": \"truncate\", \"length\": 4}"),
	  "attributes[0].action", "never \"truncate\"" },
	{ "attr_sensitive_token_index",
	  ATTRS(RULE("a", "keep") "," RULE("app.refresh_token", "keep")), "attributes[1].action",
	  "names a credential" },
	/* headers */
	{ "headers_string", "{\"headers\": \"accept\"}", "headers", "expected an array" },
	{ "header_truncate", HEADERS(RULE("accept", "truncate")), "headers[0].action",
	  "expected one of drop, keep, redact, hash, got 'truncate'" },
	{ "header_name_space", HEADERS(RULE("content type", "keep")), "headers[0].name",
	  "'content type' is not a valid header name" },
	{ "header_name_colon", HEADERS(RULE(":authority", "keep")), "headers[0].name",
	  "not a valid header name" },
	{ "header_name_utf8", HEADERS(RULE("caf\\u00e9", "keep")), "headers[0].name",
	  "'caf?"
	  "?' is not a valid header name" },
	{ "header_duplicate_case",
	  HEADERS(RULE("Content-Type", "keep") "," RULE("content-type", "drop")), "headers[1].name",
	  "duplicate of headers[0] ('content-type')" },
	{ "header_hash_no_key", HEADERS(RULE("x-user", "hash")), "headers[0].action",
	  "\"hash\" needs hash_key_file" },
	/* url.query_keep */
	{ "url_array", "{\"url\": []}", "url", "expected an object" },
	{ "qk_object", "{\"url\": {\"query_keep\": {}}}", "url.query_keep", "expected an array" },
	{ "qk_number", "{\"url\": {\"query_keep\": [\"a\", 1]}}", "url.query_keep[1]",
	  "expected a string" },
	{ "qk_empty", "{\"url\": {\"query_keep\": [\"\"]}}", "url.query_keep[0]",
	  "expected 1 to 127 bytes, got 0" },
	{ "qk_equals", "{\"url\": {\"query_keep\": [\"a=b\"]}}", "url.query_keep[0]",
	  "'a=b' is not valid" },
	{ "qk_amp", "{\"url\": {\"query_keep\": [\"a&b\"]}}", "url.query_keep[0]", "not valid" },
	{ "qk_space", "{\"url\": {\"query_keep\": [\"a b\"]}}", "url.query_keep[0]", "not valid" },
	{ "qk_tab", "{\"url\": {\"query_keep\": [\"a\\tb\"]}}", "url.query_keep[0]", "'a?b'" },
	{ "qk_duplicate", "{\"url\": {\"query_keep\": [\"page\", \"page\"]}}", "url.query_keep[1]",
	  "duplicate of url.query_keep[0]" },
	{ "qk_token", "{\"url\": {\"query_keep\": [\"page\", \"access_token\"]}}",
	  "url.query_keep[1]", "'access_token' names a credential: its value is never kept" },
	{ "qk_key", "{\"url\": {\"query_keep\": [\"key\"]}}", "url.query_keep[0]",
	  "names a credential" },
	{ "qk_sig", "{\"url\": {\"query_keep\": [\"SIG\"]}}", "url.query_keep[0]",
	  "names a credential" },
	{ "qk_password", "{\"url\": {\"query_keep\": [\"Password\"]}}", "url.query_keep[0]",
	  "names a credential" },
	/* routes */
	{ "routes_object", "{\"routes\": {}}", "routes", "expected an array" },
	{ "route_relative", "{\"routes\": [\"api/x\"]}", "routes[0]",
	  "'api/x' is not valid ('/' first" },
	{ "route_query", "{\"routes\": [\"/a\", \"/a?b\"]}", "routes[1]", "not valid" },
	{ "route_fragment", "{\"routes\": [\"/a#b\"]}", "routes[0]", "not valid" },
	{ "route_space", "{\"routes\": [\"/a b\"]}", "routes[0]", "not valid" },
	{ "route_duplicate", "{\"routes\": [\"/a\", \"/b\", \"/a\"]}", "routes[2]",
	  "duplicate of routes[0]" },
	{ "route_null", "{\"routes\": [null]}", "routes[0]", "expected a string" },
	/* enums and booleans */
	{ "unmatched_keep", "{\"routes_unmatched\": \"keep\"}", "routes_unmatched",
	  "expected one of template, drop, got 'keep'" },
	{ "unmatched_bool", "{\"routes_unmatched\": true}", "routes_unmatched",
	  "expected one of template, drop" },
	{ "args_keep", "{\"process_args\": \"keep\"}", "process_args",
	  "expected one of scrub, drop, got 'keep'" },
	{ "sql_string", "{\"sql\": \"on\"}", "sql", "expected an object" },
	{ "sql_enabled_string", "{\"sql\": {\"enabled\": \"yes\"}}", "sql.enabled",
	  "expected true or false" },
	{ "sql_drop_number", "{\"sql\": {\"drop_unparseable\": 1}}", "sql.drop_unparseable",
	  "expected true or false" },
	{ "redis_null", "{\"redis\": {\"key_pattern\": null}}", "redis.key_pattern",
	  "expected true or false" },
	{ "detectors_array", "{\"detectors\": [\"jwt\"]}", "detectors", "expected an object" },
	{ "detector_number", "{\"detectors\": {\"email\": true, \"jwt\": 0}}", "detectors.jwt",
	  "expected true or false" },
	/* hash_len */
	{ "hash_len_7", "{\"hash_len\": 7}", "hash_len",
	  "expected an integer from 8 to 64, got 7" },
	{ "hash_len_65", "{\"hash_len\": 65}", "hash_len", "got 65" },
	{ "hash_len_string", "{\"hash_len\": \"16\"}", "hash_len", "expected an integer" },
	/* hash_key_file */
	{ "key_number", "{\"hash_key_file\": 5}", "hash_key_file", "expected a string" },
	{ "key_empty_path", "{\"hash_key_file\": \"\"}", "hash_key_file",
	  "expected 1 to 4095 bytes, got 0" },
	{ "key_relative", "{\"hash_key_file\": \"key\"}", "hash_key_file",
	  "expected an absolute path, got 'key'" },
	{ "key_root", "{\"hash_key_file\": \"/\"}", "hash_key_file", "expected an absolute path" },
	{ "key_newline", "{\"hash_key_file\": \"/a\\nb\"}", "hash_key_file",
	  "expected an absolute path, got '/a?b'" },
	{ "key_missing", KEYF("nope"), "hash_key_file", "cannot open '/tmp/policy-test-" },
	{ "key_missing_errno", KEYF("nope"), "hash_key_file", "No such file or directory" },
	{ "key_notdir", KEYF("key_ok/x"), "hash_key_file", "Not a directory" },
	{ "key_dir", KEYF("subdir"), "hash_key_file", "is not a regular file" },
	{ "key_fifo", KEYF("fifo"), "hash_key_file", "is not a regular file" },
	{ "key_devnull", "{\"hash_key_file\": \"/dev/null\"}", "hash_key_file",
	  "'/dev/null' is not a regular file" },
	{ "key_short", KEYF("key_short"), "hash_key_file", "holds 15 bytes, expected 16 to 1024" },
	{ "key_empty", KEYF("key_empty"), "hash_key_file", "holds 0 bytes" },
	{ "key_long", KEYF("key_long"), "hash_key_file", "holds more than 1024 bytes" },
	{ "key_world", KEYF("key_world"), "hash_key_file",
	  "has mode 0644: expected no access for others and no group write (chmod 0400)" },
	{ "key_group_w", KEYF("key_group_w"), "hash_key_file", "has mode 0620" },
	{ "key_other_x", KEYF("key_other_x"), "hash_key_file", "has mode 0601" },
};

START_TEST(load_errors)
{
	const struct err_case *c = &err_cases[_i];
	struct policy *p = new_policy(), *before = new_policy();
	char err[ERR_MAX], want[ERR_MAX];

	/* A policy that is not the defaults: a failed load must leave it alone. */
	assert_loads(p, "{\"routes\": [\"/x\"], \"hash_key_file\": \"@D/key_ok2\"}");
	memcpy(before, p, sizeof(*p));
	ck_assert_int_eq(load(p, c->json, err), -EINVAL);
	snprintf(want, sizeof(want), "%s: %s: ", FILE_NAME, c->at);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: '%s' does not start with '%s'",
	              c->name, err, want);
	ck_assert_msg(strstr(err, c->msg) != NULL, "%s: '%s' does not say '%s'", c->name, err,
	              c->msg);
	ck_assert_msg(memcmp(p, before, sizeof(*p)) == 0, "%s: policy changed", c->name);
	for (const char *q = err; *q; q++) /* messages go to a terminal: no input bytes raw */
		ck_assert_msg(*q >= 0x20 && *q < 0x7f, "%s: byte 0x%02x in '%s'", c->name,
		              (unsigned char)*q, err);
	free(p);
	free(before);
}
END_TEST

/* An unreadable key file (needs a non-root user: root reads mode 0000). */
START_TEST(key_unreadable)
{
	struct policy *p = new_policy();
	uint8_t k[KEY_LEN] = { 1 };
	char err[ERR_MAX];

	if (geteuid() == 0) {
		free(p);
		return;
	}
	write_file("key_noperm", k, sizeof(k), 0000);
	ck_assert_int_eq(load(p, KEYF("key_noperm"), err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
	free(p);
}
END_TEST

/* Key files that load: limits, 0400 and 0640 modes, and the bytes as given. */
START_TEST(key_loads)
{
	static const char *const ok[] = { "key_ok", "key_ok2", "key_group_r", "key_min",
		                          "key_max" };
	static const uint32_t lens[] = { KEY_LEN, KEY_LEN, KEY_LEN, POLICY_HASH_KEY_MIN,
		                         POLICY_HASH_KEY_MAX };
	struct policy *p = new_policy();
	uint8_t k[POLICY_HASH_KEY_MAX];
	char json[128];

	key_bytes(k, sizeof(k), 1);
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(json, sizeof(json), "{\"hash_key_file\": \"@D/%s\"}", ok[i]);
		assert_loads(p, json);
		ck_assert_uint_eq(p->hash_key_len, lens[i]);
		ck_assert_mem_eq(p->hash_key, k + (i == 1), lens[i]);
		ck_assert_ptr_nonnull(strstr(p->hash_key_file, ok[i]));
	}
	free(p);
}
END_TEST

/* ---- the never-raw rule ---- */

static const char *const sensitive_names[] = {
	"Authorization",
	"Proxy-Authorization",
	"Cookie",
	"Set-Cookie",
	"X-Api-Key",
	"X-Auth-Token",
	"AUTHORIZATION",
	"x-my-token-here",
	"X-Secret",
	"x-db-password",
	"X-API-KEY-2",
	"x-apikey",
	"x-session-id",
	"x-client-secret",
	"x-amz-security-token",
	"x-goog-api-key",
	"x-csrf-token",
	"x-passwd",
	"x-signature",
	"x-private-key",
	"x-access-key",
	"x-credential",
	"cookie2",
	"x-amz-credential",
	"sessionid",
	"x-Access_Key",
	"x_api_key",
	"x-auth",
};

START_TEST(never_raw_header)
{
	const char *name = sensitive_names[_i];
	static const char *const refused[] = { "keep" };
	static const char *const allowed[] = { "drop", "redact", "hash" };
	struct policy *p = new_policy();
	char json[256], err[ERR_MAX], lower[64];

	for (size_t i = 0; name[i]; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]),
		lower[i + 1] = '\0';
	ck_assert(policy_name_sensitive(name, strlen(name)));
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		snprintf(json, sizeof(json),
		         "{\"headers\": [{\"name\": \"accept\", \"action\": \"keep\"}, "
		         "{\"name\": \"%s\", \"action\": \"%s\"}]}",
		         name, refused[i]);
		ck_assert_int_eq(load(p, json, err), -EINVAL);
		ck_assert_msg(strstr(err, "test.json: headers[1].action: '") &&
		                      strstr(err, lower) && strstr(err, "names a credential"),
		              "%s: %s", name, err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		snprintf(json, sizeof(json),
		         "{\"hash_key_file\": \"@D/key_ok\", \"headers\": [{\"name\": \"%s\", "
		         "\"action\": \"%s\"}]}",
		         name, allowed[i]);
		assert_loads(p, json);
		ck_assert_int_eq(policy_header_action(p, name), (int)i == 0 ? ACT_DROP
		                                                : i == 1    ? ACT_REDACT
		                                                            : ACT_HASH);
	}
	free(p);
}
END_TEST

/* Near-misses: ordinary names the rule must not refuse. */
static const char *const plain_names[] = {
	"content-type", "accept",  "x-request-id", "user-agent", "x-keyboard", "status_code",
	"keys",         "monkey",  "codec",        "authority",  "author",     "x-forwarded-for",
	"passenger",    "db.user", "sig2",         "page",       "http.route", "x-tokn",
	"sess",         "",
};

START_TEST(sensitive_near_misses)
{
	const char *name = plain_names[_i];

	ck_assert_msg(!policy_name_sensitive(name, strlen(name)), "%s", name);
}
END_TEST

/* The length bounds the scan: "token" past @len does not count. */
START_TEST(sensitive_len_bounded)
{
	ck_assert(!policy_name_sensitive("x-token", 5));
	ck_assert(policy_name_sensitive("x-token", 7));
	ck_assert(policy_name_sensitive("keyboard", 3)); /* "key" is a whole name */
	ck_assert(!policy_name_sensitive("keyboard", 8));
	ck_assert(!policy_name_sensitive(NULL, 0));
}
END_TEST

/* A struct edited by hand (not loaded) still never lets a credential out raw. */
START_TEST(header_action_defence)
{
	struct policy *p = new_policy();

	snprintf(p->headers[0].name, sizeof(p->headers[0].name), "authorization");
	p->headers[0].action = ACT_KEEP;
	snprintf(p->headers[1].name, sizeof(p->headers[1].name), "x-thing");
	p->headers[1].action = ACT_TRUNCATE;
	ck_assert_int_eq(policy_header_action(p, "Authorization"), ACT_REDACT);
	ck_assert_int_eq(policy_header_action(p, "x-thing"), ACT_REDACT);
	ck_assert_int_eq(policy_check(p, NULL, 0), -EINVAL);
	free(p);
}
END_TEST

/* ---- HMAC ---- */

struct hmac_case {
	const char *key_file; /* NULL: the key is set in the struct */
	const uint8_t *key;
	size_t key_len;
	const char *data;
	size_t data_len;
	const char *mac; /* full hex, RFC 4231 */
};

static const uint8_t cd50[50] = {
	0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
	0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
	0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
	0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
};

static const struct hmac_case hmac_cases[] = {
	/* RFC 4231 test case 2: the 4-byte key is below the load minimum, so set by hand */
	{ NULL, (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ NULL, (const uint8_t *)"Jefe", 4, "", 0,
	  "923598ca6d64af2a5dba79dcd021a8a0fe5c5f557519adaaf0ad532d4506dd30" },
	/* RFC 4231 test cases 1, 4 and 6, with keys read from files */
	{ "key_rfc1", NULL, 0, "Hi There", 8,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "key_rfc4", NULL, 0, (const char *)cd50, sizeof(cd50),
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "key_rfc6", NULL, 0, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
};

static void hmac_policy(struct policy *p, const struct hmac_case *c)
{
	char json[128];

	if (c->key_file) {
		snprintf(json, sizeof(json), "{\"hash_key_file\": \"@D/%s\"}", c->key_file);
		assert_loads(p, json);
		return;
	}
	memcpy(p->hash_key, c->key, c->key_len);
	p->hash_key_len = (uint32_t)c->key_len;
}

/* Every hash_len: the MAC's hex prefix; the default 16 by name. */
START_TEST(hmac_vectors)
{
	const struct hmac_case *c = &hmac_cases[_i];
	struct policy *p = new_policy();
	char out[HASH_OUT_MAX];

	hmac_policy(p, c);
	ck_assert_int_eq(policy_hash(p, c->data, c->data_len, out, sizeof(out)), 16);
	ck_assert_mem_eq(out, c->mac, 16);
	ck_assert_uint_eq(strlen(out), 16);
	for (uint32_t n = POLICY_HASH_LEN_MIN; n <= POLICY_HASH_LEN_MAX; n++) {
		p->hash_len = n;
		memset(out, 'Z', sizeof(out));
		ck_assert_int_eq(policy_hash(p, c->data, c->data_len, out, sizeof(out)), (int)n);
		ck_assert_uint_eq(strlen(out), n);
		ck_assert_mem_eq(out, c->mac, n);
	}
	free(p);
}
END_TEST

/* Every output capacity: -ENOSPC and "" until it fits, never a byte past @cap. */
START_TEST(hmac_capacity)
{
	struct policy *p = new_policy();
	char *out;

	hmac_policy(p, &hmac_cases[0]);
	for (size_t cap = 0; cap <= p->hash_len + 16; cap++) {
		int r;

		out = malloc(cap ? cap : 1);
		ck_assert_ptr_nonnull(out);
		memset(out, 'Z', cap);
		r = policy_hash(p, "what do ya want for nothing?", 28, cap ? out : NULL, cap);
		if (cap <= p->hash_len) {
			ck_assert_int_eq(r, -ENOSPC);
			if (cap)
				ck_assert_int_eq(out[0], '\0');
		} else {
			ck_assert_int_eq(r, (int)p->hash_len);
			ck_assert_mem_eq(out, "5bdcc146bf60754e", 16);
			ck_assert_int_eq(out[16], '\0');
		}
		free(out);
	}
	free(p);
}
END_TEST

START_TEST(hmac_errors)
{
	struct policy *p = new_policy();
	char out[HASH_OUT_MAX] = "junk";

	ck_assert_int_eq(policy_hash(p, "x", 1, out, sizeof(out)), -ENOKEY);
	ck_assert_str_eq(out, "");
	hmac_policy(p, &hmac_cases[0]);
	ck_assert_int_eq(policy_hash(p, NULL, 1, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(policy_hash(p, NULL, 0, out, sizeof(out)), 16);
	ck_assert_mem_eq(out, "923598ca6d64af2a", 16); /* NULL, 0 is the empty input */
	p->hash_len = POLICY_HASH_LEN_MIN - 1;
	ck_assert_int_eq(policy_hash(p, "x", 1, out, sizeof(out)), -EINVAL);
	p->hash_len = POLICY_HASH_LEN_MAX + 1;
	ck_assert_int_eq(policy_hash(p, "x", 1, out, sizeof(out)), -EINVAL);
	p->hash_len = 16;
	p->hash_key_len = POLICY_HASH_KEY_MAX + 1;
	ck_assert_int_eq(policy_hash(p, "x", 1, out, sizeof(out)), -ENOKEY);
	free(p);
}
END_TEST

/* The key is read at load: deleting the file later changes nothing; the dump never shows it. */
START_TEST(key_read_at_load)
{
	struct policy *p = new_policy(), *q = new_policy();
	char out1[HASH_OUT_MAX], out2[HASH_OUT_MAX], path[128], *dump;

	assert_loads(p, "{\"hash_key_file\": \"@D/key_secret\", \"hash_len\": 32}");
	ck_assert_int_eq(policy_hash(p, "alice", 5, out1, sizeof(out1)), 32);
	dump = policy_dump_json(p);
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_null(strstr(dump, "SECRETKEY"));
	ck_assert_ptr_nonnull(strstr(dump, "key_secret"));
	assert_loads(q, dump);
	ck_assert_mem_eq(p, q, sizeof(*p));
	snprintf(path, sizeof(path), "%s/key_secret", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(policy_hash(p, "alice", 5, out2, sizeof(out2)), 32);
	ck_assert_str_eq(out1, out2);
	ck_assert_str_ne(out1, "alice");
	free(dump);
	free(p);
	free(q);
}
END_TEST

/* ---- JSON round trips and the manifest ---- */

START_TEST(default_json_round_trip)
{
	struct policy *p = new_policy(), *d = new_policy();
	char *s = policy_default_json(), *again;
	size_t n;

	ck_assert_ptr_nonnull(s);
	n = strlen(s);
	ck_assert_uint_gt(n, 2);
	ck_assert_int_eq(s[n - 1], '\n');
	ck_assert_int_eq(s[n - 2], '}');
	memset(p, 0x33, sizeof(*p));
	assert_loads(p, s);
	ck_assert_msg(memcmp(p, d, sizeof(*p)) == 0, "defaults differ after a round trip");
	again = policy_dump_json(p);
	ck_assert_ptr_nonnull(again);
	ck_assert_str_eq(again, s);
	free(again);
	free(s);
	free(p);
	free(d);
}
END_TEST

/* manifests/processor-policy.json is policy_default_json(), byte for byte. */
START_TEST(manifest_is_default)
{
	char *s = policy_default_json(), *buf;
	FILE *f = fopen(MANIFEST, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "run from the repository root: %s", MANIFEST);
	ck_assert_ptr_nonnull(s);
	buf = malloc(strlen(s) + 2);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, strlen(s) + 2, f);
	fclose(f);
	ck_assert_msg(n == strlen(s) && memcmp(buf, s, n) == 0,
	              "%s differs from policy_default_json(): regenerate it", MANIFEST);
	free(buf);
	free(s);
}
END_TEST

/* A policy far from the defaults dumps, reloads equal, and dumps the same text. */
START_TEST(dump_round_trip)
{
	static const char *const json =
	        "{\"hash_len\": 12, \"hash_key_file\": \"@D/key_ok\", "
	        "\"attributes\": [{\"name\": \"db.user\", \"action\": \"hash\"}, "
	        "{\"name\": \"url.path\", \"action\": \"truncate\", \"length\": 100}, "
	        "{\"name\": \"x\", \"action\": \"redact\"}], "
	        "\"headers\": [{\"name\": \"Authorization\", \"action\": \"hash\"}, "
	        "{\"name\": \"X-Quote\", \"action\": \"keep\"}], "
	        "\"url\": {\"query_keep\": [\"q\", \"\\\"quoted\\\\\", \"caf\\u00e9\"]}, "
	        "\"routes\": [\"/a/{id}\", \"/b/*\"], \"routes_unmatched\": \"drop\", "
	        "\"sql\": {\"enabled\": false, \"drop_unparseable\": false}, "
	        "\"redis\": {\"key_pattern\": false}, \"process_args\": \"drop\", "
	        "\"detectors\": {\"jwt\": false, \"high_entropy\": false}}";
	struct policy *p = new_policy(), *q = new_policy();
	char *a, *b;

	assert_loads(p, json);
	ck_assert_str_eq(p->query_keep[1], "\"quoted\\");
	a = policy_dump_json(p);
	ck_assert_ptr_nonnull(a);
	assert_loads(q, a);
	ck_assert_msg(memcmp(p, q, sizeof(*p)) == 0, "reloaded policy differs");
	b = policy_dump_json(q);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	free(p);
	free(q);
}
END_TEST

/* ---- policy_check() on structs edited by hand ---- */

enum mutation {
	M_ATTRS_OVER,
	M_ACTION_RANGE,
	M_TRUNC_NO_LEN,
	M_LEN_NO_TRUNC,
	M_NAME_UNTERMINATED,
	M_NAME_DIRTY_TAIL,
	M_HASH_NO_KEY,
	M_HEADER_TRUNCATE,
	M_HEADER_UPPER,
	M_ATTR_KEEP_SECRET,
	M_ROUTE_BAD,
	M_QUERY_SECRET,
	M_UNMATCHED_RANGE,
	M_ARGS_RANGE,
	M_HASH_LEN,
	M_KEY_WITHOUT_FILE,
	M_FILE_WITHOUT_KEY,
	M_KEY_SHORT,
	M_ROUTES_OVER,
	M_DUP_ATTR,
	M_ROUTE_UTF8,
	M_QUERY_OVERLONG,
	M_QUERY_SURROGATE,
	M_UNUSED_ATTR,
	M_UNUSED_ROUTE,
	M_KEY_TAIL,
	M_UNUSED_HEADER,
	M_UNUSED_QUERY,
	M_QUERY_CUT_UTF8,
	M_KEY_PATH_RELATIVE,
	M_KEY_PATH_UNTERMINATED,
	M_COUNT,
};

static void mutate(struct policy *p, enum mutation m)
{
	switch (m) {
	case M_ATTRS_OVER:
		p->n_attrs = POLICY_ATTR_MAX + 1;
		break;
	case M_ACTION_RANGE:
		p->attrs[0].action = (enum attr_action)7;
		break;
	case M_TRUNC_NO_LEN:
		p->attrs[0].action = ACT_TRUNCATE;
		break;
	case M_LEN_NO_TRUNC:
		p->attrs[0].truncate_len = 5;
		break;
	case M_NAME_UNTERMINATED:
		memset(p->attrs[0].name, 'a', POLICY_NAME_MAX);
		break;
	case M_NAME_DIRTY_TAIL:
		p->attrs[0].name[POLICY_NAME_MAX - 1] = 'x';
		break;
	case M_HASH_NO_KEY:
		p->attrs[0].action = ACT_HASH;
		break;
	case M_HEADER_TRUNCATE:
		p->headers[0].action = ACT_TRUNCATE;
		break;
	case M_HEADER_UPPER:
		p->headers[0].name[0] = 'A';
		break;
	case M_ATTR_KEEP_SECRET:
		snprintf(p->attrs[0].name, 16, "x.token");
		break;
	case M_ROUTE_BAD:
		snprintf(p->routes[0], 8, "nope"), p->n_routes = 1;
		break;
	case M_QUERY_SECRET:
		snprintf(p->query_keep[0], 8, "token"), p->n_query_keep = 1;
		break;
	case M_UNMATCHED_RANGE:
		p->routes_unmatched = (enum policy_routes_unmatched)2;
		break;
	case M_ARGS_RANGE:
		p->process_args = (enum policy_process_args)9;
		break;
	case M_HASH_LEN:
		p->hash_len = 0;
		break;
	case M_KEY_WITHOUT_FILE:
		p->hash_key_len = POLICY_HASH_KEY_MIN;
		break;
	case M_FILE_WITHOUT_KEY:
		snprintf(p->hash_key_file, 8, "/k");
		break;
	case M_KEY_SHORT:
		snprintf(p->hash_key_file, 8, "/k");
		p->hash_key_len = POLICY_HASH_KEY_MIN - 1;
		break;
	case M_ROUTES_OVER:
		p->n_routes = POLICY_ROUTE_MAX + 1;
		break;
	case M_DUP_ATTR:
		memcpy(&p->attrs[1], &p->attrs[0], sizeof(p->attrs[0]));
		break;
	case M_ROUTE_UTF8:
		snprintf(p->routes[0], 8, "/\xff"), p->n_routes = 1;
		break;
	case M_QUERY_OVERLONG:
		snprintf(p->query_keep[0], 8, "a\xc0\xaf"), p->n_query_keep = 1;
		break;
	case M_QUERY_SURROGATE:
		snprintf(p->query_keep[0], 8, "\xed\xa0\x80"), p->n_query_keep = 1;
		break;
	case M_UNUSED_ATTR:
		p->attrs[POLICY_ATTR_MAX - 1].name[0] = 'x';
		break;
	case M_UNUSED_ROUTE:
		p->routes[POLICY_ROUTE_MAX - 1][POLICY_ROUTE_LEN_MAX - 1] = 1;
		break;
	case M_KEY_TAIL:
		p->hash_key[POLICY_HASH_KEY_MAX - 1] = 1;
		break;
	case M_UNUSED_HEADER:
		p->headers[POLICY_HEADER_MAX - 1].action = ACT_KEEP;
		break;
	case M_UNUSED_QUERY:
		p->query_keep[POLICY_QUERY_KEEP_MAX - 1][0] = 'q';
		break;
	case M_QUERY_CUT_UTF8:
		snprintf(p->query_keep[0], 8, "a\xc3"), p->n_query_keep = 1;
		break;
	case M_KEY_PATH_RELATIVE:
		snprintf(p->hash_key_file, 8, "k");
		p->hash_key_len = POLICY_HASH_KEY_MIN;
		break;
	case M_KEY_PATH_UNTERMINATED:
		memset(p->hash_key_file, 'a', POLICY_KEY_PATH_MAX);
		p->hash_key_len = POLICY_HASH_KEY_MIN;
		break;
	case M_COUNT:
		break;
	}
}

START_TEST(check_rejects)
{
	struct policy *p = new_policy();
	char err[ERR_MAX], *dump;

	mutate(p, (enum mutation)_i);
	ck_assert_msg(policy_check(p, err, sizeof(err)) == -EINVAL, "mutation %d passed", _i);
	ck_assert_uint_gt(strlen(err), 0);
	ck_assert_ptr_null(strstr(err, FILE_NAME));
	dump = policy_dump_json(p); /* refuses an inconsistent struct */
	ck_assert_ptr_null(dump);
	free(p);
}
END_TEST

/* The twins of check_rejects: hand-made values policy_check() accepts and dumps. */
START_TEST(check_accepts)
{
	struct policy *p = new_policy(), *q = new_policy();
	char err[ERR_MAX], *dump;

	snprintf(p->routes[0], 16, "/caf\xc3\xa9/{id}");
	snprintf(p->query_keep[0], 16, "\xf0\x9f\x98\x80");
	p->n_routes = p->n_query_keep = 1;
	p->attrs[0].action = ACT_TRUNCATE;
	p->attrs[0].truncate_len = POLICY_TRUNCATE_MAX;
	p->headers[0].action = ACT_REDACT;
	p->sql_enabled = false;
	ck_assert_int_eq(policy_check(p, err, sizeof(err)), 0);
	dump = policy_dump_json(p);
	ck_assert_ptr_nonnull(dump);
	assert_loads(q, dump);
	ck_assert_mem_eq(p, q, sizeof(*p));
	free(dump);
	free(p);
	free(q);
}
END_TEST

/* ---- error buffers, files, maxima ---- */

/* Every errlen: NUL-terminated inside the buffer, a prefix of the full message. */
START_TEST(err_capacity)
{
	static const char *const bad[] = { "{\"atributes\": []}", "{", ATTRS(RULE("a", "kep")) };
	struct policy *p = new_policy();
	char full[ERR_MAX];

	for (size_t b = 0; b < ARRAY_SIZE(bad); b++) {
		size_t n;

		ck_assert_int_eq(policy_load_string(p, bad[b], FILE_NAME, full, sizeof(full)),
		                 -EINVAL);
		n = strlen(full);
		ck_assert_int_eq(policy_load_string(p, bad[b], FILE_NAME, NULL, 0), -EINVAL);
		for (size_t cap = 1; cap <= n + 16; cap++) {
			char *e = malloc(cap + 1);

			ck_assert_ptr_nonnull(e);
			memset(e, 0x5a, cap + 1);
			ck_assert_int_eq(policy_load_string(p, bad[b], FILE_NAME, e, cap), -EINVAL);
			ck_assert_int_eq(e[cap], 0x5a);
			ck_assert_uint_eq(strlen(e), cap - 1 < n ? cap - 1 : n);
			ck_assert_mem_eq(e, full, strlen(e));
			free(e);
		}
	}
	free(p);
}
END_TEST

static char *gen_rules(const char *list, size_t n, const char *prefix)
{
	struct sbuf b = { 0 };
	char one[128];

	sb_add(&b, "{\"");
	sb_add(&b, list);
	sb_add(&b, "\": [");
	for (size_t i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%s{\"name\": \"%s%zu\", \"action\": \"keep\"}",
		         i ? ", " : "", prefix, i);
		sb_add(&b, one);
	}
	sb_add(&b, "]}");
	return b.s;
}

static char *gen_strings(const char *outer, const char *inner, size_t n, const char *prefix)
{
	struct sbuf b = { 0 };
	char one[128];

	snprintf(one, sizeof(one), "{\"%s\": %s[", outer, inner ? "{\"query_keep\": " : "");
	sb_add(&b, one);
	for (size_t i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%s\"%s%zu\"", i ? ", " : "", prefix, i);
		sb_add(&b, one);
	}
	sb_add(&b, inner ? "]}}" : "]}");
	return b.s;
}

START_TEST(maxima)
{
	struct policy *p = new_policy();
	char err[ERR_MAX], *s;

	s = gen_rules("attributes", POLICY_ATTR_MAX, "a.");
	assert_loads(p, s);
	ck_assert_uint_eq(p->n_attrs, POLICY_ATTR_MAX);
	ck_assert_int_eq(policy_attr_action(p, "a.127", NULL), ACT_KEEP);
	free(s);
	s = gen_rules("attributes", POLICY_ATTR_MAX + 1, "a.");
	ck_assert_int_eq(load(p, s, err), -EINVAL);
	ck_assert_str_eq(err, "test.json: attributes: at most 128 entries, got 129");
	free(s);
	s = gen_rules("headers", POLICY_HEADER_MAX, "x-h");
	assert_loads(p, s);
	ck_assert_int_eq(policy_header_action(p, "X-H63"), ACT_KEEP);
	free(s);
	s = gen_rules("headers", POLICY_HEADER_MAX + 1, "x-h");
	ck_assert_int_eq(load(p, s, err), -EINVAL);
	ck_assert_str_eq(err, "test.json: headers: at most 64 entries, got 65");
	free(s);
	s = gen_strings("routes", NULL, POLICY_ROUTE_MAX, "/r");
	assert_loads(p, s);
	ck_assert_uint_eq(p->n_routes, POLICY_ROUTE_MAX);
	free(s);
	s = gen_strings("routes", NULL, POLICY_ROUTE_MAX + 1, "/r");
	ck_assert_int_eq(load(p, s, err), -EINVAL);
	ck_assert_str_eq(err, "test.json: routes: at most 256 entries, got 257");
	free(s);
	s = gen_strings("url", "q", POLICY_QUERY_KEEP_MAX, "q");
	assert_loads(p, s);
	ck_assert_uint_eq(p->n_query_keep, POLICY_QUERY_KEEP_MAX);
	free(s);
	s = gen_strings("url", "q", POLICY_QUERY_KEEP_MAX + 1, "q");
	ck_assert_int_eq(load(p, s, err), -EINVAL);
	ck_assert_str_eq(err, "test.json: url.query_keep: at most 64 entries, got 65");
	free(s);
	free(p);
}
END_TEST

/* Names and routes at their length limit load; one byte more does not. */
START_TEST(length_limits)
{
	static const struct {
		const char *pre, *post; /* the JSON around the generated string */
		char first;
		size_t max;
		const char *at;
	} cases[] = {
		{ "{\"attributes\": [{\"name\": \"", "\", \"action\": \"keep\"}]}", 'a',
		  POLICY_NAME_MAX - 1, "attributes[0].name" },
		{ "{\"headers\": [{\"name\": \"", "\", \"action\": \"keep\"}]}", 'x',
		  POLICY_NAME_MAX - 1, "headers[0].name" },
		{ "{\"routes\": [\"", "\"]}", '/', POLICY_ROUTE_LEN_MAX - 1, "routes[0]" },
		{ "{\"url\": {\"query_keep\": [\"", "\"]}}", 'q', POLICY_QUERY_NAME_MAX - 1,
		  "url.query_keep[0]" },
		{ "{\"hash_key_file\": \"", "\"}", '/', POLICY_KEY_PATH_MAX - 1, "hash_key_file" },
	};
	struct policy *p = new_policy();
	char err[ERR_MAX], *val = malloc(POLICY_KEY_PATH_MAX + 1);

	ck_assert_ptr_nonnull(val);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (size_t extra = 0; extra < 2; extra++) {
			struct sbuf json = { 0 };
			size_t n = cases[i].max + extra;

			memset(val, 'b', n);
			val[0] = cases[i].first;
			val[n] = '\0';
			sb_add(&json, cases[i].pre);
			sb_add(&json, val);
			sb_add(&json, cases[i].post);
			if (extra == 0 && i < 4) {
				assert_loads(p, json.s);
				free(json.s);
				continue;
			}
			ck_assert_int_eq(load(p, json.s, err), -EINVAL);
			free(json.s);
			ck_assert_msg(strstr(err, cases[i].at), "%s", err);
			/* the path at the limit is well-formed but missing; one more is too long */
			ck_assert_msg(strstr(err, extra ? "expected 1 to" : "cannot open"), "%s",
			              err);
		}
	}
	free(val);
	free(p);
}
END_TEST

START_TEST(load_file)
{
	struct policy *p = new_policy();
	char err[ERR_MAX], path[128], *s;
	size_t big = POLICY_FILE_MAX + 1;

	snprintf(path, sizeof(path), "%s/policy.json", dir);
	s = policy_default_json();
	ck_assert_ptr_nonnull(s);
	write_file("policy.json", s, strlen(s), 0644);
	free(s);
	ck_assert_int_eq(policy_load_file(p, path, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_load_file(p, MANIFEST, err, sizeof(err)), 0);
	write_file("bad.json", "{\"sql\": 1}", 10, 0644);
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	ck_assert_int_eq(policy_load_file(p, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/bad.json: sql: expected an object"));
	write_file("nul.json", "{}\0{}", 5, 0644);
	snprintf(path, sizeof(path), "%s/nul.json", dir);
	ck_assert_int_eq(policy_load_file(p, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/nul.json: $: holds a NUL byte"));
	s = malloc(big);
	ck_assert_ptr_nonnull(s);
	memset(s, ' ', big);
	s[0] = '{', s[big - 1] = '}';
	write_file("big.json", s, big, 0644);
	free(s);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	ck_assert_int_eq(policy_load_file(p, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$: larger than 1048576 bytes"));
	snprintf(path, sizeof(path), "%s/none.json", dir);
	ck_assert_int_eq(policy_load_file(p, path, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/none.json: $: cannot open: No such file"));
	ck_assert_int_eq(policy_load_file(p, dir, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "cannot read: Is a directory"));
	ck_assert_int_eq(policy_load_file(p, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(policy_load_file(p, path, NULL, 0), -EINVAL);
	free(p);
}
END_TEST

/* ---- hostile input ---- */

/* Every proper prefix of a valid policy fails cleanly; the whole loads. */
START_TEST(truncated_prefixes)
{
	struct policy *p = new_policy(), *before = new_policy();
	char *s = policy_default_json(), err[ERR_MAX];
	size_t n, end;

	ck_assert_ptr_nonnull(s);
	n = strlen(s);
	end = (size_t)(strrchr(s, '}') - s) + 1; /* past it only whitespace is left */
	for (size_t len = 0; len <= n; len++) {
		char *cut = strndup(s, len);
		int r;

		ck_assert_ptr_nonnull(cut);
		r = policy_load_string(p, cut, FILE_NAME, err, sizeof(err));
		ck_assert_msg(r == (len >= end ? 0 : -EINVAL), "prefix %zu: %d %s", len, r, err);
		if (r)
			ck_assert_msg(memcmp(p, before, sizeof(*p)) == 0, "prefix %zu", len);
		free(cut);
	}
	free(s);
	free(p);
	free(before);
}
END_TEST

START_TEST(hostile_inputs)
{
	struct policy *p = new_policy();
	size_t deep = 100000, big = POLICY_FILE_MAX + 1;
	char err[ERR_MAX], *s = malloc(2 * deep + 1), *huge = malloc(big + 1);

	ck_assert(s && huge);
	/* deep nesting: jansson's own depth limit, no stack overflow */
	memset(s, '[', deep);
	memset(s + deep, ']', deep);
	s[2 * deep] = '\0';
	ck_assert_int_eq(policy_load_string(p, s, FILE_NAME, err, sizeof(err)), -EINVAL);
	memset(s, '{', 1);
	for (size_t i = 1; i < deep; i++)
		s[i] = i % 2 ? '"' : '[';
	ck_assert_int_eq(policy_load_string(p, s, FILE_NAME, err, sizeof(err)), -EINVAL);
	/* too big before parsing */
	memset(huge, ' ', big);
	huge[0] = '{', huge[big - 1] = '}', huge[big] = '\0';
	ck_assert_int_eq(policy_load_string(p, huge, FILE_NAME, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "test.json: $: expected at most 1048576 bytes of JSON");
	huge[big - 2] = '}', huge[big - 1] = '\0'; /* exactly the maximum loads */
	ck_assert_int_eq(policy_load_string(p, huge, FILE_NAME, err, sizeof(err)), 0);
	/* a 1000-byte unknown key is quoted cut, not whole */
	memset(huge, 'k', 1010);
	memcpy(huge, "{\"", 2);
	memcpy(huge + 1002, "\": 1}", 6);
	ck_assert_int_eq(policy_load_string(p, huge, FILE_NAME, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "kkk...' (expected"));
	ck_assert_uint_lt(strlen(err), 400);
	ck_assert_int_eq(policy_load_string(p, NULL, FILE_NAME, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(policy_load_string(p, "{}", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_load_string(p, "{\"x\": 1}", NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "policy: $: unknown key 'x'"));
	free(s);
	free(huge);
	free(p);
}
END_TEST

/* Lookups read names up to their NUL only (name ends at a PROT_NONE page). */
START_TEST(lookup_guard_page)
{
	static const char *const names[] = {
		"db.user", "user_agent.original", "Content-Type", "authorization", "", "x"
	};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *base =
	        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct policy *p = new_policy();

	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t len = strlen(names[i]) + 1;
		char *n = base + page - len;
		uint32_t tl;

		memcpy(n, names[i], len);
		policy_attr_action(p, n, &tl);
		policy_header_action(p, n);
		policy_name_sensitive(n, len - 1);
	}
	ck_assert_int_eq(munmap(base, 2 * page), 0);
	free(p);
}
END_TEST

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *d = tcase_create("defaults"), *l = tcase_create("load"), *h = tcase_create("hash");
	TCase *x = tcase_create("hostile");

	tcase_add_loop_test(d, defaults_attrs, 0, ARRAY_SIZE(default_attr_cases));
	tcase_add_loop_test(d, defaults_headers, 0, ARRAY_SIZE(default_header_cases));
	tcase_add_test(d, defaults_rest);
	tcase_add_test(d, detector_names);
	tcase_add_test(d, default_json_round_trip);
	tcase_add_test(d, manifest_is_default);
	suite_add_tcase(s, d);

	tcase_add_checked_fixture(l, setup, teardown);
	tcase_add_test(l, load_empty_is_defaults);
	tcase_add_loop_test(l, load_table, 0, ARRAY_SIZE(load_cases));
	tcase_add_test(l, load_objects_merge);
	tcase_add_test(l, load_other_sections);
	tcase_add_loop_test(l, load_errors, 0, ARRAY_SIZE(err_cases));
	tcase_add_test(l, key_unreadable);
	tcase_add_test(l, key_loads);
	tcase_add_loop_test(l, never_raw_header, 0, ARRAY_SIZE(sensitive_names));
	tcase_add_loop_test(l, sensitive_near_misses, 0, ARRAY_SIZE(plain_names));
	tcase_add_test(l, sensitive_len_bounded);
	tcase_add_test(l, header_action_defence);
	tcase_add_test(l, dump_round_trip);
	tcase_add_loop_test(l, check_rejects, 0, M_COUNT);
	tcase_add_test(l, check_accepts);
	tcase_add_test(l, err_capacity);
	tcase_add_test(l, maxima);
	tcase_add_test(l, length_limits);
	tcase_add_test(l, load_file);
	suite_add_tcase(s, l);

	tcase_add_checked_fixture(h, setup, teardown);
	tcase_add_loop_test(h, hmac_vectors, 0, ARRAY_SIZE(hmac_cases));
	tcase_add_test(h, hmac_capacity);
	tcase_add_test(h, hmac_errors);
	tcase_add_test(h, key_read_at_load);
	suite_add_tcase(s, h);

	tcase_add_test(x, truncated_prefixes);
	tcase_add_test(x, hostile_inputs);
	tcase_add_test(x, lookup_guard_page);
	tcase_set_timeout(x, 60);
	suite_add_tcase(s, x);
	return s;
}
