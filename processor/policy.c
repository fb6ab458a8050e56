// SPDX-License-Identifier: Apache-2.0
/*
 * The scrubbing policy (see policy.h). Loading is two passes over a heap
 * copy of the defaults: parse_*() check the JSON's shape (keys, types,
 * ranges) and copy values into the fixed arrays; policy_check() then
 * checks what the values mean (names, duplicates, credentials kept raw,
 * hashing without a key). The same policy_check() guards every load, so a
 * parser bug cannot hand back an inconsistent policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "processor/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define JSON_AT_MAX   40   /* a list entry: "url.query_keep[" + 20 digits + "]" */
#define JSON_PATH_MAX 56   /* one of its fields: + ".length" */
#define SHOW_MAX      48   /* bytes of an input string quoted in a message */
#define KEYS_TEXT_MAX 256  /* the list of expected keys in a message */
#define KEY_MODE_DENY 0027 /* key file: nothing for others, no group write */
#define SHA256_LEN    32
#define DUMP_INDENT   2

const char *const policy_detector_names[POLICY_DETECTORS] = {
	"private_key", "jwt",          "bearer",       "basic_auth",   "aws_key",    "gcp_key",
	"azure_key",   "github_token", "gitlab_token", "slack_token",  "stripe_key", "email",
	"card_number", "ssn",          "iban",         "high_entropy",
};

static const char *const action_names[] = {
	[ACT_DROP] = "drop", [ACT_KEEP] = "keep",         [ACT_REDACT] = "redact",
	[ACT_HASH] = "hash", [ACT_TRUNCATE] = "truncate",
};

static const char *const unmatched_names[] = {
	[ROUTES_TEMPLATE] = "template", [ROUTES_DROP] = "drop"
};
static const char *const args_names[] = { [ARGS_SCRUB] = "scrub", [ARGS_DROP] = "drop" };

/*
 * The default attribute allowlist, one name at a time (no globs: a new
 * attribute in a parser stays inside until someone lists it here). Values
 * marked "elsewhere" are kept only after their own scrubber ran.
 */
static const struct policy_attr default_attrs[] = {
	{ "http.request.method", ACT_KEEP, 0 },
	{ "http.route", ACT_KEEP, 0 },
	{ "url.path", ACT_KEEP, 0 },  /* templated by url_template() */
	{ "url.query", ACT_KEEP, 0 }, /* values redacted by url_query_redact() */
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
	{ "db.query.text", ACT_KEEP, 0 }, /* normalized by sql_normalize() */
	{ "db.response.status_code", ACT_KEEP, 0 },
	{ "db.response.returned_rows", ACT_KEEP, 0 },
	{ "db.redis.argument_count", ACT_KEEP, 0 },
	{ "messaging.system", ACT_KEEP, 0 },
	{ "messaging.operation.name", ACT_KEEP, 0 },
	{ "messaging.operation.type", ACT_KEEP, 0 },
	{ "messaging.destination.name", ACT_KEEP, 0 },
	{ "messaging.kafka.topic_count", ACT_KEEP, 0 },
	{ "messaging.kafka.api_version", ACT_KEEP, 0 },
	{ "messaging.client.id", ACT_DROP, 0 }, /* an identity: "hash" once a key is set */
	{ "db.user", ACT_DROP, 0 },             /* an identity */
	{ "user_agent.original", ACT_TRUNCATE, 64 },
	{ "error.type", ACT_KEEP, 0 },
};

/* Headers that describe the payload, not the caller. */
static const struct policy_header default_headers[] = {
	{ "accept", ACT_KEEP },           { "accept-encoding", ACT_KEEP },
	{ "content-encoding", ACT_KEEP }, { "content-length", ACT_KEEP },
	{ "content-type", ACT_KEEP },
};

/*
 * Credential names, whole (case-insensitive). Broad on purpose, as in
 * scrub.c: refusing to keep a harmless value costs an edit of the policy,
 * keeping a credential costs a rotation.
 */
static const char *const sensitive_exact[] = {
	"authorization", "proxy-authorization",
	"cookie",        "set-cookie",
	"x-api-key",     "x-auth-token",
	"auth",          "x-auth",
	"key",  /* Google APIs' ?key= */
	"sig",  /* Azure SAS */
	"code", /* OAuth authorization codes */
	"pass",          "pwd",
	"jwt",
};

/* ...and words that make any name containing them a credential. */
static const char *const sensitive_words[] = {
	"token",       "secret",     "password",   "passwd",     "passphrase", "api-key",
	"apikey",      "api_key",    "session",    "credential", "signature",  "private-key",
	"private_key", "access-key", "access_key", "accesskey",  "cookie",     "authorization",
};

/* RFC 4231 test case 2: checked at load so libcrypto is set up before the sandbox. */
static const uint8_t selftest_mac[SHA256_LEN] = {
	0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
	0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
	0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
};

/* Where a load is: the name for messages and the caller's error buffer. */
struct ld {
	const char *file; /* NULL: no prefix (policy_check() on its own) */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ld *c, const char *at, const char *fmt,
                                                      ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errlen == 0)
		return -EINVAL;
	n = c->file ? snprintf(c->err, c->errlen, "%s: %s: ", c->file, at)
	            : snprintf(c->err, c->errlen, "%s: ", at);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Input strings in messages: printable ASCII only, cut at SHOW_MAX bytes. */
static const char *show(char out[SHOW_MAX], const char *s)
{
	size_t i = 0;

	for (; s[i] && i < SHOW_MAX - 4; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i])
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	return out;
}

/* jansson quotes the input near a syntax error: make it safe for a terminal. */
static const char *printable(char *s)
{
	for (char *q = s; *q; q++)
		if (*q < 0x20 || *q >= 0x7f)
			*q = '?';
	return s;
}

/* "a, b, c" for "expected one of" messages. */
static const char *join(char out[KEYS_TEXT_MAX], const char *const *names, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < KEYS_TEXT_MAX; i++) {
		int w = snprintf(out + used, KEYS_TEXT_MAX - used, "%s%s", i ? ", " : "", names[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return out;
}

static int name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static bool contains_word(const char *name, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= len; i++)
		if (strncasecmp(name + i, word, wl) == 0)
			return true;
	return false;
}

bool policy_name_sensitive(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(sensitive_exact); i++)
		if (strlen(sensitive_exact[i]) == len &&
		    strncasecmp(name, sensitive_exact[i], len) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(sensitive_words); i++)
		if (contains_word(name, len, sensitive_words[i]))
			return true;
	return false;
}

/* ---- names: what the fixed arrays may hold ---- */

/* OpenTelemetry attribute names: lowercase words, dots, underscores. */
static bool valid_attr_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= POLICY_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("._-", s[i])))
			return false;
	return true;
}

/* RFC 9110 field names (tchar), stored lowercase. */
static bool valid_header_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= POLICY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", s[i])))
			return false;
	return true;
}

/* Length of the UTF-8 sequence at @s (shortest form, <= U+10FFFF, no surrogates), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/*
 * Bytes that cannot be part of a query name or route as the scrubbers see
 * them; UTF-8 checked again (jansson did) so a hand-made struct dumps too.
 */
static bool clean_text(const char *s, const char *forbidden)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = utf8_seq(u);

		if (n == 0 || *u <= 0x20 || *u == 0x7f || (n == 1 && strchr(forbidden, *u)))
			return false;
		u += n;
	}
	return true;
}

/* A decoded query parameter name: no separators, no controls or spaces. */
static bool valid_query_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < POLICY_QUERY_NAME_MAX && clean_text(s, "&=#");
}

/* A path pattern; its {name}/"*" syntax is route_set_add()'s to check. */
static bool valid_route(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < POLICY_ROUTE_LEN_MAX && s[0] == '/' && clean_text(s, "?#");
}

static bool valid_key_path(const char *s)
{
	size_t n = strlen(s);

	return n > 1 && n < POLICY_KEY_PATH_MAX && s[0] == '/' && clean_text(s, "");
}

/* Every byte after the string's NUL is zero, so memcmp() compares policies. */
static bool terminated_clean(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);

	if (!nul)
		return false;
	for (const char *q = nul; q < s + size; q++)
		if (*q)
			return false;
	return true;
}

/* ---- defaults ---- */

int policy_defaults(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	_Static_assert(ARRAY_SIZE(default_attrs) <= POLICY_ATTR_MAX, "default attributes");
	_Static_assert(ARRAY_SIZE(default_headers) <= POLICY_HEADER_MAX, "default headers");
	memcpy(p->attrs, default_attrs, sizeof(default_attrs));
	p->n_attrs = ARRAY_SIZE(default_attrs);
	memcpy(p->headers, default_headers, sizeof(default_headers));
	p->n_headers = ARRAY_SIZE(default_headers);
	p->routes_unmatched = ROUTES_TEMPLATE;
	p->sql_enabled = true;
	p->sql_drop_unparseable = true;
	p->redis_key_pattern = true;
	p->process_args = ARGS_SCRUB;
	for (size_t i = 0; i < POLICY_DETECTORS; i++)
		p->detectors[i] = true;
	p->hash_len = POLICY_HASH_LEN_DEFAULT;
	return 0;
}

/* ---- JSON shape: helpers ---- */

/* Every key of @o is one of @names. */
static int check_keys(struct ld *c, json_t *o, const char *at, const char *const *names, size_t n)
{
	char shown[SHOW_MAX], list[KEYS_TEXT_MAX];
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		if (name_index(key, names, n) < 0)
			return fail(c, at, "unknown key '%s' (expected %s)", show(shown, key),
			            join(list, names, n));
	}
	return 0;
}

static int want_object(struct ld *c, json_t *v, const char *at)
{
	return json_is_object(v) ? 0 : fail(c, at, "expected an object");
}

static int get_bool(struct ld *c, json_t *v, const char *at, bool *out)
{
	if (!json_is_boolean(v))
		return fail(c, at, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* An integer (not a real: 16.0 is a typo) in [min, max]. */
static int get_uint(struct ld *c, json_t *v, const char *at, uint32_t min, uint32_t max,
                    uint32_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return fail(c, at, "expected an integer from %u to %u", min, max);
	i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max)
		return fail(c, at, "expected an integer from %u to %u, got %lld", min, max,
		            (long long)i);
	*out = (uint32_t)i;
	return 0;
}

/* A string of fewer than @size bytes, copied into @out (zero-padded). */
static int get_string(struct ld *c, json_t *v, const char *at, char *out, size_t size)
{
	size_t n;

	if (!json_is_string(v))
		return fail(c, at, "expected a string");
	n = json_string_length(v);
	if (n == 0 || n >= size)
		return fail(c, at, "expected 1 to %zu bytes, got %zu", size - 1, n);
	memset(out, 0, size);
	memcpy(out, json_string_value(v), n);
	return 0;
}

/* One of @names, as its index. */
static int get_enum(struct ld *c, json_t *v, const char *at, const char *const *names, size_t n,
                    int *out)
{
	char shown[SHOW_MAX], list[KEYS_TEXT_MAX];

	if (!json_is_string(v))
		return fail(c, at, "expected one of %s", join(list, names, n));
	*out = name_index(json_string_value(v), names, n);
	if (*out < 0)
		return fail(c, at, "expected one of %s, got '%s'", join(list, names, n),
		            show(shown, json_string_value(v)));
	return 0;
}

static int want_array(struct ld *c, json_t *v, const char *at, size_t max)
{
	if (!json_is_array(v))
		return fail(c, at, "expected an array");
	if (json_array_size(v) > max)
		return fail(c, at, "at most %zu entries, got %zu", max, json_array_size(v));
	return 0;
}

/* ---- JSON shape: sections ---- */

static int parse_version(struct ld *c, struct policy *p, json_t *v)
{
	uint32_t ver;

	(void)p;
	return get_uint(c, v, "version", POLICY_VERSION, POLICY_VERSION, &ver);
}

/* One {"name", "action", "length"} entry of "attributes" or "headers". */
static int parse_rule(struct ld *c, json_t *o, const char *at, bool header, char *name,
                      enum attr_action *action, uint32_t *len)
{
	static const char *const keys[] = { "name", "action", "length" };
	char sub[JSON_PATH_MAX];
	json_t *lv = json_object_get(o, "length");
	int r, a;

	if ((r = want_object(c, o, at)) || (r = check_keys(c, o, at, keys, header ? 2 : 3)))
		return r;
	if (!json_object_get(o, "name") || !json_object_get(o, "action"))
		return fail(c, at, "expected both 'name' and 'action'");
	snprintf(sub, sizeof(sub), "%s.name", at);
	if ((r = get_string(c, json_object_get(o, "name"), sub, name, POLICY_NAME_MAX)))
		return r;
	snprintf(sub, sizeof(sub), "%s.action", at);
	/* Headers take every action but the last, "truncate". */
	if ((r = get_enum(c, json_object_get(o, "action"), sub, action_names,
	                  header ? ACT_TRUNCATE : ARRAY_SIZE(action_names), &a)))
		return r;
	*action = (enum attr_action)a;
	snprintf(sub, sizeof(sub), "%s.length", at);
	if (*action == ACT_TRUNCATE && !lv)
		return fail(c, sub, "\"truncate\" needs a length from 1 to %d",
		            POLICY_TRUNCATE_MAX);
	if (*action != ACT_TRUNCATE && lv)
		return fail(c, sub, "only allowed with action \"truncate\"");
	*len = 0;
	return lv ? get_uint(c, lv, sub, 1, POLICY_TRUNCATE_MAX, len) : 0;
}

static int parse_attributes(struct ld *c, struct policy *p, json_t *v)
{
	char at[JSON_AT_MAX];
	size_t i;
	json_t *e;
	int r;

	if ((r = want_array(c, v, "attributes", POLICY_ATTR_MAX)))
		return r;
	memset(p->attrs, 0, sizeof(p->attrs));
	json_array_foreach(v, i, e)
	{
		struct policy_attr *a = &p->attrs[i];

		snprintf(at, sizeof(at), "attributes[%zu]", i);
		if ((r = parse_rule(c, e, at, false, a->name, &a->action, &a->truncate_len)))
			return r;
	}
	p->n_attrs = (uint32_t)json_array_size(v);
	return 0;
}

static int parse_headers(struct ld *c, struct policy *p, json_t *v)
{
	char at[JSON_AT_MAX];
	uint32_t unused;
	size_t i;
	json_t *e;
	int r;

	if ((r = want_array(c, v, "headers", POLICY_HEADER_MAX)))
		return r;
	memset(p->headers, 0, sizeof(p->headers));
	json_array_foreach(v, i, e)
	{
		struct policy_header *h = &p->headers[i];

		snprintf(at, sizeof(at), "headers[%zu]", i);
		if ((r = parse_rule(c, e, at, true, h->name, &h->action, &unused)))
			return r;
		/* Header names are case-insensitive: one spelling for lookups and duplicates. */
		for (char *s = h->name; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				*s = (char)(*s - 'A' + 'a');
	}
	p->n_headers = (uint32_t)json_array_size(v);
	return 0;
}

/* An array of strings into rows of @size bytes; @count gets the number. */
static int parse_strings(struct ld *c, json_t *v, const char *at, size_t max, char *rows,
                         size_t size, uint32_t *count)
{
	char sub[JSON_PATH_MAX];
	size_t i;
	json_t *e;
	int r;

	if ((r = want_array(c, v, at, max)))
		return r;
	memset(rows, 0, max * size);
	json_array_foreach(v, i, e)
	{
		snprintf(sub, sizeof(sub), "%s[%zu]", at, i);
		if ((r = get_string(c, e, sub, rows + i * size, size)))
			return r;
	}
	*count = (uint32_t)json_array_size(v);
	return 0;
}

static int parse_url(struct ld *c, struct policy *p, json_t *v)
{
	static const char *const keys[] = { "query_keep" };
	json_t *q = json_object_get(v, "query_keep");
	int r;

	if ((r = want_object(c, v, "url")) || (r = check_keys(c, v, "url", keys, 1)))
		return r;
	if (!q)
		return 0;
	return parse_strings(c, q, "url.query_keep", POLICY_QUERY_KEEP_MAX, &p->query_keep[0][0],
	                     POLICY_QUERY_NAME_MAX, &p->n_query_keep);
}

static int parse_routes(struct ld *c, struct policy *p, json_t *v)
{
	return parse_strings(c, v, "routes", POLICY_ROUTE_MAX, &p->routes[0][0],
	                     POLICY_ROUTE_LEN_MAX, &p->n_routes);
}

static int parse_unmatched(struct ld *c, struct policy *p, json_t *v)
{
	int r, i;

	if ((r = get_enum(c, v, "routes_unmatched", unmatched_names, ARRAY_SIZE(unmatched_names),
	                  &i)))
		return r;
	p->routes_unmatched = (enum policy_routes_unmatched)i;
	return 0;
}

static int parse_sql(struct ld *c, struct policy *p, json_t *v)
{
	static const char *const keys[] = { "enabled", "drop_unparseable" };
	json_t *en = json_object_get(v, "enabled"), *du = json_object_get(v, "drop_unparseable");
	int r;

	if ((r = want_object(c, v, "sql")) || (r = check_keys(c, v, "sql", keys, 2)))
		return r;
	if (en && (r = get_bool(c, en, "sql.enabled", &p->sql_enabled)))
		return r;
	if (du && (r = get_bool(c, du, "sql.drop_unparseable", &p->sql_drop_unparseable)))
		return r;
	return 0;
}

static int parse_redis(struct ld *c, struct policy *p, json_t *v)
{
	static const char *const keys[] = { "key_pattern" };
	json_t *kp = json_object_get(v, "key_pattern");
	int r;

	if ((r = want_object(c, v, "redis")) || (r = check_keys(c, v, "redis", keys, 1)))
		return r;
	return kp ? get_bool(c, kp, "redis.key_pattern", &p->redis_key_pattern) : 0;
}

static int parse_args(struct ld *c, struct policy *p, json_t *v)
{
	int r, i;

	if ((r = get_enum(c, v, "process_args", args_names, ARRAY_SIZE(args_names), &i)))
		return r;
	p->process_args = (enum policy_process_args)i;
	return 0;
}

static int parse_detectors(struct ld *c, struct policy *p, json_t *v)
{
	char at[JSON_PATH_MAX];
	const char *key;
	json_t *e;
	int r;

	if ((r = want_object(c, v, "detectors")) ||
	    (r = check_keys(c, v, "detectors", policy_detector_names, POLICY_DETECTORS)))
		return r;
	json_object_foreach(v, key, e)
	{
		snprintf(at, sizeof(at), "detectors.%s", key);
		r = get_bool(
		        c, e, at,
		        &p->detectors[name_index(key, policy_detector_names, POLICY_DETECTORS)]);
		if (r)
			return r;
	}
	return 0;
}

static int parse_hash_len(struct ld *c, struct policy *p, json_t *v)
{
	return get_uint(c, v, "hash_len", POLICY_HASH_LEN_MIN, POLICY_HASH_LEN_MAX, &p->hash_len);
}

/* ---- the hash key ---- */

/*
 * Does libcrypto's HMAC-SHA-256 give RFC 4231's answer? Also loads its
 * providers, before the sandbox. libcrypto is told not to register its
 * atexit() cleanup: run at exit inside the seccomp filter it calls futex(),
 * which the filter denies (and a process that exits needs no cleanup).
 */
static bool hmac_selftest(void)
{
	static const char data[] = "what do ya want for nothing?";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL))
		return false;
	if (!HMAC(EVP_sha256(), "Jefe", 4, (const uint8_t *)data, sizeof(data) - 1, md, &n))
		return false;
	return n == SHA256_LEN && memcmp(md, selftest_mac, SHA256_LEN) == 0;
}

/* Read at most @cap bytes of @fd into @buf; -errno on a read error. */
static ssize_t read_all(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The key file's checks, on the open @fd; fills p->hash_key. */
static int read_key_fd(struct ld *c, struct policy *p, int fd, const char *shown)
{
	uint8_t buf[POLICY_HASH_KEY_MAX + 1];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return fail(c, "hash_key_file", "cannot stat '%s': %s", shown, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(c, "hash_key_file", "'%s' is not a regular file", shown);
	if (st.st_mode & KEY_MODE_DENY)
		return fail(c, "hash_key_file",
		            "'%s' has mode %04o: expected no access for others and no group write "
		            "(chmod 0400)",
		            shown, (unsigned)(st.st_mode & 07777));
	n = read_all(fd, buf, sizeof(buf));
	if (n < 0)
		return fail(c, "hash_key_file", "cannot read '%s': %s", shown, strerror((int)-n));
	if (n < POLICY_HASH_KEY_MIN || n > POLICY_HASH_KEY_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return fail(c, "hash_key_file", "'%s' holds %s%zd bytes, expected %d to %d", shown,
		            n > POLICY_HASH_KEY_MAX ? "more than " : "",
		            n > POLICY_HASH_KEY_MAX ? (ssize_t)POLICY_HASH_KEY_MAX : n,
		            POLICY_HASH_KEY_MIN, POLICY_HASH_KEY_MAX);
	}
	memcpy(p->hash_key, buf, (size_t)n);
	p->hash_key_len = (uint32_t)n;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int parse_key_file(struct ld *c, struct policy *p, json_t *v)
{
	char shown[SHOW_MAX];
	int fd, r;

	memset(p->hash_key_file, 0, sizeof(p->hash_key_file));
	explicit_bzero(p->hash_key, sizeof(p->hash_key));
	p->hash_key_len = 0;
	if (json_is_null(v))
		return 0;
	if ((r = get_string(c, v, "hash_key_file", p->hash_key_file, POLICY_KEY_PATH_MAX)))
		return r;
	show(shown, p->hash_key_file);
	if (!valid_key_path(p->hash_key_file))
		return fail(c, "hash_key_file", "expected an absolute path, got '%s'", shown);
	/* O_NONBLOCK: a FIFO must fail the S_ISREG check, not hang the start. */
	fd = open(p->hash_key_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(c, "hash_key_file", "cannot open '%s': %s", shown, strerror(errno));
	r = read_key_fd(c, p, fd, shown);
	close(fd);
	if (r == 0 && !hmac_selftest())
		r = fail(c, "hash_key_file", "libcrypto's HMAC-SHA-256 failed its self-test");
	return r;
}

/*
 * The top-level keys, in the order they are applied: the key before the
 * rules that may need it, whatever order the file uses.
 */
static const char *const top_keys[] = {
	"version", "hash_key_file",    "hash_len", "attributes", "headers",      "url",
	"routes",  "routes_unmatched", "sql",      "redis",      "process_args", "detectors",
};
static int (*const top_parsers[])(struct ld *, struct policy *, json_t *) = {
	parse_version, parse_key_file, parse_hash_len, parse_attributes,
	parse_headers, parse_url,      parse_routes,   parse_unmatched,
	parse_sql,     parse_redis,    parse_args,     parse_detectors,
};
_Static_assert(ARRAY_SIZE(top_keys) == ARRAY_SIZE(top_parsers), "one parser per key");

static int parse_root(struct ld *c, struct policy *p, json_t *root)
{
	int r;

	if (!json_is_object(root))
		return fail(c, "$", "expected an object");
	if ((r = check_keys(c, root, "$", top_keys, ARRAY_SIZE(top_keys))))
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(top_keys); i++) {
		json_t *v = json_object_get(root, top_keys[i]);

		if (v && (r = top_parsers[i](c, p, v)))
			return r;
	}
	return 0;
}

/* ---- meaning: policy_check() ---- */

/* Keep or truncate a credential? @sub is the rule's path. */
static int check_raw(struct ld *c, const char *sub, const char *name, enum attr_action a)
{
	char shown[SHOW_MAX];

	if ((a == ACT_KEEP || a == ACT_TRUNCATE) && policy_name_sensitive(name, strlen(name)))
		return fail(c, sub,
		            "'%s' names a credential: expected \"drop\", \"redact\" or \"hash\", "
		            "never \"%s\"",
		            show(shown, name), action_names[a]);
	return 0;
}

static int check_action(struct ld *c, const struct policy *p, const char *at, enum attr_action a,
                        uint32_t len, bool header)
{
	char sub[JSON_PATH_MAX];

	snprintf(sub, sizeof(sub), "%s.action", at);
	if ((unsigned)a > ACT_TRUNCATE || (header && a == ACT_TRUNCATE))
		return fail(c, sub, "not a valid action");
	if (a == ACT_HASH && p->hash_key_len == 0)
		return fail(c, sub, "\"hash\" needs hash_key_file");
	if ((a == ACT_TRUNCATE) != (len != 0) || len > POLICY_TRUNCATE_MAX) {
		snprintf(sub, sizeof(sub), "%s.length", at);
		return fail(c, sub, "inconsistent with the action");
	}
	return 0;
}

/* Rule @i of a list: its name is valid, unique, and not a raw credential. */
static int check_rule(struct ld *c, const struct policy *p, const char *list, uint32_t i,
                      bool header)
{
	const char *name = header ? p->headers[i].name : p->attrs[i].name;
	enum attr_action a = header ? p->headers[i].action : p->attrs[i].action;
	char at[JSON_AT_MAX], sub[JSON_PATH_MAX], shown[SHOW_MAX];
	int r;

	snprintf(at, sizeof(at), "%s[%u]", list, i);
	snprintf(sub, sizeof(sub), "%s.name", at);
	if (!terminated_clean(name, POLICY_NAME_MAX))
		return fail(c, sub, "not a NUL-terminated name");
	if (header ? !valid_header_name(name) : !valid_attr_name(name))
		return fail(c, sub, "'%s' is not a valid %s name (%s)", show(shown, name),
		            header ? "header" : "attribute",
		            header ? "RFC 9110 token characters" : "a-z, 0-9, '.', '_', '-'");
	for (uint32_t j = 0; j < i; j++)
		if (strcmp(name, header ? p->headers[j].name : p->attrs[j].name) == 0)
			return fail(c, sub, "duplicate of %s[%u] ('%s')", list, j,
			            show(shown, name));
	if ((r = check_action(c, p, at, a, header ? 0 : p->attrs[i].truncate_len, header)))
		return r;
	snprintf(sub, sizeof(sub), "%s.action", at);
	return check_raw(c, sub, name, a);
}

/* Rows of a string list: terminated, valid, unique; query names not credentials. */
static int check_strings(struct ld *c, const char *list, const char *rows, size_t size, uint32_t n,
                         bool (*valid)(const char *), bool query)
{
	char at[JSON_PATH_MAX], shown[SHOW_MAX];

	for (uint32_t i = 0; i < n; i++) {
		const char *s = rows + i * size;

		snprintf(at, sizeof(at), "%s[%u]", list, i);
		if (!terminated_clean(s, size) || !valid(s))
			return fail(c, at, "'%s' is not valid (%s)", show(shown, s),
			            query ? "no spaces, controls, '&', '=' or '#'"
			                  : "'/' first; no spaces, controls, '?' or '#'");
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(s, rows + j * size) == 0)
				return fail(c, at, "duplicate of %s[%u]", list, j);
		if (query && policy_name_sensitive(s, strlen(s)))
			return fail(c, at, "'%s' names a credential: its value is never kept",
			            show(shown, s));
	}
	return 0;
}

static int check_key(struct ld *c, const struct policy *p)
{
	if (!terminated_clean(p->hash_key_file, POLICY_KEY_PATH_MAX))
		return fail(c, "hash_key_file", "not a NUL-terminated path");
	if (p->hash_key_file[0] && !valid_key_path(p->hash_key_file))
		return fail(c, "hash_key_file", "expected an absolute path");
	if ((p->hash_key_file[0] != '\0') != (p->hash_key_len != 0) ||
	    (p->hash_key_len && p->hash_key_len < POLICY_HASH_KEY_MIN) ||
	    p->hash_key_len > POLICY_HASH_KEY_MAX)
		return fail(c, "hash_key_file", "no key of %d to %d bytes loaded from it",
		            POLICY_HASH_KEY_MIN, POLICY_HASH_KEY_MAX);
	if (p->hash_len < POLICY_HASH_LEN_MIN || p->hash_len > POLICY_HASH_LEN_MAX)
		return fail(c, "hash_len", "expected %d to %d", POLICY_HASH_LEN_MIN,
		            POLICY_HASH_LEN_MAX);
	return 0;
}

static int check_scalars(struct ld *c, const struct policy *p)
{
	if ((unsigned)p->routes_unmatched >= ARRAY_SIZE(unmatched_names))
		return fail(c, "routes_unmatched", "out of range");
	if ((unsigned)p->process_args >= ARRAY_SIZE(args_names))
		return fail(c, "process_args", "out of range");
	if (p->n_attrs > POLICY_ATTR_MAX || p->n_headers > POLICY_HEADER_MAX ||
	    p->n_query_keep > POLICY_QUERY_KEEP_MAX || p->n_routes > POLICY_ROUTE_MAX)
		return fail(c, "$", "a count is above its maximum");
	return check_key(c, p);
}

static bool all_zero(const void *mem, size_t n)
{
	const uint8_t *b = mem;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Rows past the counts are zero: what makes memcmp() a policy comparison. */
static int check_unused(struct ld *c, const struct policy *p)
{
	if (!all_zero(&p->attrs[p->n_attrs], (POLICY_ATTR_MAX - p->n_attrs) * sizeof(p->attrs[0])))
		return fail(c, "attributes", "entries past the count are not zero");
	if (!all_zero(&p->headers[p->n_headers],
	              (POLICY_HEADER_MAX - p->n_headers) * sizeof(p->headers[0])))
		return fail(c, "headers", "entries past the count are not zero");
	if (!all_zero(p->query_keep[p->n_query_keep],
	              (POLICY_QUERY_KEEP_MAX - p->n_query_keep) * sizeof(p->query_keep[0])))
		return fail(c, "url.query_keep", "entries past the count are not zero");
	if (!all_zero(p->routes[p->n_routes],
	              (POLICY_ROUTE_MAX - p->n_routes) * sizeof(p->routes[0])))
		return fail(c, "routes", "entries past the count are not zero");
	if (!all_zero(&p->hash_key[p->hash_key_len], POLICY_HASH_KEY_MAX - p->hash_key_len))
		return fail(c, "hash_key_file", "key bytes past its length are not zero");
	return 0;
}

static int check_all(struct ld *c, const struct policy *p)
{
	int r;

	/* check_scalars() first: the counts bound everything after it. */
	if ((r = check_scalars(c, p)) || (r = check_unused(c, p)))
		return r;
	for (uint32_t i = 0; i < p->n_attrs; i++)
		if ((r = check_rule(c, p, "attributes", i, false)))
			return r;
	for (uint32_t i = 0; i < p->n_headers; i++)
		if ((r = check_rule(c, p, "headers", i, true)))
			return r;
	if ((r = check_strings(c, "url.query_keep", &p->query_keep[0][0], POLICY_QUERY_NAME_MAX,
	                       p->n_query_keep, valid_query_name, true)))
		return r;
	return check_strings(c, "routes", &p->routes[0][0], POLICY_ROUTE_LEN_MAX, p->n_routes,
	                     valid_route, false);
}

int policy_check(const struct policy *p, char *err, size_t errlen)
{
	struct ld c = { NULL, err, errlen };

	if (err && errlen)
		err[0] = '\0';
	return check_all(&c, p);
}

/* ---- loading ---- */

int policy_load_string(struct policy *p, const char *json, const char *name, char *err,
                       size_t errlen)
{
	struct ld c = { name ? name : "policy", err, errlen };
	struct policy *tmp = NULL;
	json_t *root = NULL;
	json_error_t je;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!json || strnlen(json, POLICY_FILE_MAX + 1) > POLICY_FILE_MAX)
		return fail(&c, "$", "expected at most %d bytes of JSON", POLICY_FILE_MAX);
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		fail(&c, "$", "out of memory");
		return -ENOMEM;
	}
	policy_defaults(tmp);
	root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		r = fail(&c, "$", "line %d, column %d: %s", je.line, je.column, printable(je.text));
	else if ((r = parse_root(&c, tmp, root)) == 0 && (r = check_all(&c, tmp)) == 0)
		memcpy(p, tmp, sizeof(*p));
	json_decref(root);
	explicit_bzero(tmp->hash_key, sizeof(tmp->hash_key));
	free(tmp);
	return r;
}

int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen)
{
	struct ld c = { path ? path : "(null)", err, errlen };
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return fail(&c, "$", "no file name");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(&c, "$", "cannot open: %s", strerror(errno));
	buf = malloc(POLICY_FILE_MAX + 2);
	if (!buf) {
		fail(&c, "$", "out of memory");
		r = -ENOMEM;
		goto cleanup;
	}
	n = read_all(fd, (uint8_t *)buf, POLICY_FILE_MAX + 1);
	if (n < 0) {
		r = fail(&c, "$", "cannot read: %s", strerror((int)-n));
		goto cleanup;
	}
	buf[n] = '\0';
	if (n > POLICY_FILE_MAX)
		r = fail(&c, "$", "larger than %d bytes", POLICY_FILE_MAX);
	else if (strlen(buf) != (size_t)n)
		r = fail(&c, "$", "holds a NUL byte");
	else
		r = policy_load_string(p, buf, path, err, errlen);
cleanup:
	free(buf);
	close(fd);
	return r;
}

/* ---- dumping ---- */

static json_t *dump_rules(const struct policy *p, bool header)
{
	uint32_t n = header ? p->n_headers : p->n_attrs;
	json_t *arr = json_array();

	for (uint32_t i = 0; arr && i < n; i++) {
		enum attr_action a = header ? p->headers[i].action : p->attrs[i].action;
		json_t *o = json_pack("{s:s, s:s}", "name",
		                      header ? p->headers[i].name : p->attrs[i].name, "action",
		                      action_names[a]);

		if (o && a == ACT_TRUNCATE && !header &&
		    json_object_set_new(o, "length", json_integer(p->attrs[i].truncate_len)) < 0) {
			json_decref(o);
			o = NULL;
		}
		if (json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *dump_strings(const char *rows, size_t size, uint32_t n)
{
	json_t *arr = json_array();

	for (uint32_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_string(rows + i * size)) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *dump_detectors(const struct policy *p)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < POLICY_DETECTORS; i++)
		if (json_object_set_new(o, policy_detector_names[i],
		                        json_boolean(p->detectors[i]))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* The JSON object, keys in manifest order; NULL if anything failed. */
static json_t *dump_object(const struct policy *p)
{
	json_t *o = json_object();
	int bad = !o;

	bad |= json_object_set_new(o, "version", json_integer(POLICY_VERSION));
	bad |= json_object_set_new(o, "attributes", dump_rules(p, false));
	bad |= json_object_set_new(o, "headers", dump_rules(p, true));
	bad |= json_object_set_new(o, "url",
	                           json_pack("{s:o}", "query_keep",
	                                     dump_strings(&p->query_keep[0][0],
	                                                  POLICY_QUERY_NAME_MAX, p->n_query_keep)));
	bad |= json_object_set_new(
	        o, "routes", dump_strings(&p->routes[0][0], POLICY_ROUTE_LEN_MAX, p->n_routes));
	bad |= json_object_set_new(o, "routes_unmatched",
	                           json_string(unmatched_names[p->routes_unmatched]));
	bad |= json_object_set_new(o, "sql",
	                           json_pack("{s:b, s:b}", "enabled", p->sql_enabled,
	                                     "drop_unparseable", p->sql_drop_unparseable));
	bad |= json_object_set_new(o, "redis",
	                           json_pack("{s:b}", "key_pattern", p->redis_key_pattern));
	bad |= json_object_set_new(o, "process_args", json_string(args_names[p->process_args]));
	bad |= json_object_set_new(o, "detectors", dump_detectors(p));
	bad |= json_object_set_new(o, "hash_key_file",
	                           p->hash_key_file[0] ? json_string(p->hash_key_file)
	                                               : json_null());
	bad |= json_object_set_new(o, "hash_len", json_integer(p->hash_len));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *policy_dump_json(const struct policy *p)
{
	json_t *o;
	char *s, *t;
	size_t n;

	/* An inconsistent struct could index the name tables out of bounds. */
	if (policy_check(p, NULL, 0) != 0 || !(o = dump_object(p)))
		return NULL;
	s = json_dumps(o, JSON_INDENT(DUMP_INDENT) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	memcpy(t + n, "\n", 2);
	return t;
}

char *policy_default_json(void)
{
	struct policy *p = malloc(sizeof(*p));
	char *s;

	if (!p)
		return NULL;
	policy_defaults(p);
	s = policy_dump_json(p);
	free(p);
	return s;
}

/* ---- lookups (the hot path: no allocation) ---- */

enum attr_action policy_attr_action(const struct policy *p, const char *name,
                                    uint32_t *truncate_len)
{
	if (truncate_len)
		*truncate_len = 0;
	for (uint32_t i = 0; i < p->n_attrs && i < POLICY_ATTR_MAX; i++) {
		const struct policy_attr *a = &p->attrs[i];

		if (strcmp(a->name, name) != 0)
			continue;
		if (a->action == ACT_TRUNCATE && truncate_len)
			*truncate_len = a->truncate_len;
		return a->action;
	}
	return ACT_DROP;
}

enum attr_action policy_header_action(const struct policy *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_headers && i < POLICY_HEADER_MAX; i++) {
		const struct policy_header *h = &p->headers[i];

		if (strcasecmp(h->name, name) != 0)
			continue;
		/* Checked at load; checked again because a leaked Authorization is not undone. */
		if ((h->action == ACT_KEEP || h->action == ACT_TRUNCATE) &&
		    policy_name_sensitive(name, strlen(name)))
			return ACT_REDACT;
		return h->action == ACT_TRUNCATE ? ACT_REDACT : h->action;
	}
	return ACT_DROP;
}

size_t policy_query_keep_list(const struct policy *p, const char *list[POLICY_QUERY_KEEP_MAX + 1])
{
	size_t n = 0;

	for (; n < p->n_query_keep && n < POLICY_QUERY_KEEP_MAX; n++)
		list[n] = p->query_keep[n];
	list[n] = NULL;
	return n;
}

int policy_hash(const struct policy *p, const void *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	static const uint8_t empty[1];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (cap > 0)
		out[0] = '\0';
	if (p->hash_key_len == 0 || p->hash_key_len > POLICY_HASH_KEY_MAX)
		return -ENOKEY;
	if (p->hash_len < POLICY_HASH_LEN_MIN || p->hash_len > POLICY_HASH_LEN_MAX ||
	    (!in && len > 0))
		return -EINVAL;
	if (cap <= p->hash_len)
		return -ENOSPC;
	if (!HMAC(EVP_sha256(), p->hash_key, (int)p->hash_key_len, len ? in : empty, len, md, &n) ||
	    n != SHA256_LEN)
		return -EIO;
	for (uint32_t i = 0; i < p->hash_len; i++)
		out[i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[p->hash_len] = '\0';
	return (int)p->hash_len;
}
