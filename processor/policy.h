/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scrubbing policy: which attributes and headers may leave the node and
 * how, plus the switches of the other scrubbers (URL, SQL, Redis, process
 * arguments, detectors). It is read once, before the sandbox, from a JSON
 * file (--config) or taken from the strict built-in defaults; afterwards it
 * is a fixed-size struct that is only read (no allocation, no I/O).
 *
 * The file is operator input, not a peer: it is still validated strictly
 * (unknown keys, wrong types, out-of-range numbers, duplicates and too many
 * entries are errors), because a typo must never widen what is exported.
 *
 * File semantics: every key is optional and a missing key keeps its
 * built-in default. A present array ("attributes", "headers", "routes",
 * "url.query_keep") REPLACES the default list as a whole; a present object
 * ("url", "sql", "redis", "detectors") overrides only the keys it names.
 * manifests/processor-policy.json is the defaults written out in full.
 *
 *   {
 *     "version": 1,
 *     "attributes": [ { "name": "user_agent.original", "action": "truncate",
 *                       "length": 64 }, ... ],     (exact names, no globs)
 *     "headers": [ { "name": "content-type", "action": "keep" }, ... ],
 *     "url": { "query_keep": [ "page" ] },        (names whose values stay)
 *     "routes": [ "/api/users/{id}/orders" ],      (for scrub_url)
 *     "routes_unmatched": "template" | "drop",
 *     "sql": { "enabled": true, "drop_unparseable": true },
 *     "redis": { "key_pattern": true },
 *     "process_args": "scrub" | "drop",
 *     "detectors": { "private_key": true, ... },   (one boolean per name)
 *     "hash_key_file": null | "/absolute/path",
 *     "hash_len": 16
 *   }
 *
 * Never raw: a header, an attribute or a query parameter whose name is a
 * credential (policy_name_sensitive()) can be dropped, redacted or hashed,
 * never kept or truncated (a prefix of a secret is a secret); loading a
 * policy that asks for it fails with an error naming the rule.
 *
 * Hash key file: an absolute path to a regular file of POLICY_HASH_KEY_MIN
 * to POLICY_HASH_KEY_MAX bytes, used byte for byte as the HMAC key (no
 * newline stripping, so binary keys work), not accessible to others and not
 * writable by the group (mode & 0027 == 0: a Kubernetes secret volume needs
 * defaultMode 0400 or 0440). It is read at load time; a missing, short,
 * long, unreadable or too-open file is an error. Without a key file, any
 * "hash" action is an error at load.
 */
#ifndef BPFWARDEN_PROCESSOR_POLICY_H
#define BPFWARDEN_PROCESSOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_VERSION          1
#define POLICY_FILE_MAX         (1024 * 1024) /* bytes of JSON: far more than any sane policy */
#define POLICY_ATTR_MAX         128           /* attribute rules */
#define POLICY_HEADER_MAX       64            /* header rules */
#define POLICY_NAME_MAX         64            /* attribute or header name, NUL included */
#define POLICY_QUERY_KEEP_MAX   64            /* url.query_keep names */
#define POLICY_QUERY_NAME_MAX   128           /* one query_keep name, NUL included */
#define POLICY_ROUTE_MAX        256           /* user route patterns (scrub_url's ROUTE_MAX) */
#define POLICY_ROUTE_LEN_MAX    512           /* one pattern, NUL included */
#define POLICY_TRUNCATE_MAX     4096          /* largest "truncate" length, in bytes */
#define POLICY_HASH_KEY_MIN     16            /* bytes: shorter keys are guessable */
#define POLICY_HASH_KEY_MAX     1024          /* bytes: a key, not a data file */
#define POLICY_KEY_PATH_MAX     4096          /* hash_key_file, NUL included (PATH_MAX) */
#define POLICY_HASH_LEN_MIN     8             /* hex chars of output */
#define POLICY_HASH_LEN_MAX     64            /* all of SHA-256 */
#define POLICY_HASH_LEN_DEFAULT 16
#define POLICY_DETECTORS        16 /* must equal detect.h's DET__COUNT */

/* What happens to one attribute or header value before export. */
enum attr_action {
	ACT_DROP,     /* not exported at all */
	ACT_KEEP,     /* exported as given (after the other scrubbers ran) */
	ACT_REDACT,   /* exported as a fixed marker: the key exists, its value does not */
	ACT_HASH,     /* exported as policy_hash() of the value */
	ACT_TRUNCATE, /* the first truncate_len bytes (cut at a UTF-8 boundary by the caller) */
};

enum policy_routes_unmatched {
	ROUTES_TEMPLATE, /* url.path goes through url_template()'s heuristics */
	ROUTES_DROP,     /* url.path (and http.route) are not exported */
};

enum policy_process_args {
	ARGS_SCRUB, /* scrub_arg() on every argument */
	ARGS_DROP,  /* process arguments are not exported */
};

/* Names, in detect.h's enum detector order: "detectors" keys. */
extern const char *const policy_detector_names[POLICY_DETECTORS];

struct policy_attr {
	char name[POLICY_NAME_MAX]; /* exact, case-sensitive */
	enum attr_action action;
	uint32_t truncate_len; /* 1..POLICY_TRUNCATE_MAX for ACT_TRUNCATE, else 0 */
};

struct policy_header {
	char name[POLICY_NAME_MAX]; /* lowercase; never ACT_TRUNCATE */
	enum attr_action action;
};

/*
 * About 160 KiB: allocate it statically or on the heap. Every byte not used
 * by a value is zero (policy_defaults() clears it), so two policies are
 * equal exactly when memcmp() says so.
 */
struct policy {
	struct policy_attr attrs[POLICY_ATTR_MAX];
	uint32_t n_attrs;
	struct policy_header headers[POLICY_HEADER_MAX];
	uint32_t n_headers;
	char query_keep[POLICY_QUERY_KEEP_MAX][POLICY_QUERY_NAME_MAX];
	uint32_t n_query_keep;
	char routes[POLICY_ROUTE_MAX][POLICY_ROUTE_LEN_MAX];
	uint32_t n_routes;
	enum policy_routes_unmatched routes_unmatched;
	/* false: SQL text is never exported (db.query.text dropped), not exported raw */
	bool sql_enabled;
	/* true: an unparseable statement is dropped; false: exported as a fixed marker */
	bool sql_drop_unparseable;
	/* true: Redis keys go through key_template(); false: they are dropped */
	bool redis_key_pattern;
	enum policy_process_args process_args;
	bool detectors[POLICY_DETECTORS];        /* indexed like policy_detector_names */
	char hash_key_file[POLICY_KEY_PATH_MAX]; /* "" when there is no key */
	uint8_t hash_key[POLICY_HASH_KEY_MAX];   /* never dumped */
	uint32_t hash_key_len;                   /* 0: no key, ACT_HASH unused */
	uint32_t hash_len; /* hex chars, POLICY_HASH_LEN_MIN..POLICY_HASH_LEN_MAX */
};

/* The built-in defaults (see manifests/processor-policy.json). Returns 0. */
int policy_defaults(struct policy *p);

/*
 * Load a complete policy from JSON text (@json, NUL-terminated, at most
 * POLICY_FILE_MAX bytes); @name_for_errors names it in messages. Missing
 * keys take the defaults (see the top of this file). Returns 0, or -EINVAL
 * (bad policy, unreadable key file) or -ENOMEM, with a message in @err
 * (@errlen bytes, always NUL-terminated if @errlen > 0; "" on success) of
 * the form "<name>: <json path>: <what was expected>", e.g.
 * "policy.json: attributes[3].action: expected one of ...". *@p changes
 * only on success.
 */
int policy_load_string(struct policy *p, const char *json, const char *name_for_errors, char *err,
                       size_t errlen);

/* As policy_load_string(), reading the file @path (errors name @path). */
int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen);

/*
 * The policy as pretty JSON, keys in a fixed order, ending in a newline
 * (malloc'd, NULL on allocation failure). The hash key itself is never
 * written, only its file. Loading the text back gives an equal policy.
 */
char *policy_dump_json(const struct policy *p);

/* policy_dump_json() of the defaults: for --print-default-config. */
char *policy_default_json(void);

/*
 * Check the invariants every loaded policy holds (counts within the maxima,
 * names NUL-terminated and valid, lengths in range, no raw credential,
 * a key behind every ACT_HASH). Returns 0 or -EINVAL with a message.
 */
int policy_check(const struct policy *p, char *err, size_t errlen);

/*
 * The action for attribute @name (NUL-terminated, exact match; only
 * allowlisted names leave: unknown names give ACT_DROP). @truncate_len
 * (may be NULL) gets the length for ACT_TRUNCATE and 0 otherwise.
 */
enum attr_action policy_attr_action(const struct policy *p, const char *name,
                                    uint32_t *truncate_len);

/*
 * The action for header @name (NUL-terminated, case-insensitive; unknown
 * names give ACT_DROP; never ACT_TRUNCATE). A credential header never comes
 * back as ACT_KEEP, whatever the struct says: ACT_REDACT instead.
 */
enum attr_action policy_header_action(const struct policy *p, const char *name);

/*
 * Whether @name (@len bytes, any case) names a credential: Authorization,
 * Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token, or a
 * name containing "token", "secret", "password", "api-key", "apikey",
 * "session" and the other words of the table in policy.c.
 */
bool policy_name_sensitive(const char *name, size_t len);

/*
 * Fill @list with the url.query_keep names, NULL-terminated, for
 * url_query_redact(). The pointers point into @p. Returns the count.
 */
size_t policy_query_keep_list(const struct policy *p, const char *list[POLICY_QUERY_KEEP_MAX + 1]);

/*
 * Keyed HMAC-SHA-256 of @len bytes at @in, in lowercase hex cut to
 * p->hash_len chars, NUL-terminated in @out (@cap bytes). Returns
 * p->hash_len, or -ENOKEY (no key loaded), -ENOSPC (@cap <= hash_len; @out
 * is "" if @cap > 0), -EINVAL (a hash_len out of range, or @in NULL with
 * @len > 0) or -EIO (libcrypto failed). Never writes the input anywhere.
 * The key length is checked at load; a shorter key set by hand (tests use
 * RFC 4231's 4-byte "Jefe") is used as given.
 */
int policy_hash(const struct policy *p, const void *in, size_t len, char *out, size_t cap);

#endif
