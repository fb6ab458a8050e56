/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scrubber's transaction stage: what a parser found (struct l7_txn) to
 * what may leave the node (struct scrubbed), by the policy
 * (processor/policy.h). Every request record goes through it; nothing else
 * writes a transaction's values.
 *
 * Per attribute, in order:
 *   1. The policy's action for its name (headers: by header name). Names
 *      the policy does not list are dropped (default deny).
 *   2. For "keep" and "truncate", the attribute's own scrubber:
 *        url.path       url_template() (identifier segments become "{id}");
 *                       adds http.route (the user route that matched, else
 *                       the same template). routes_unmatched "drop": a
 *                       request that matches no user route is not exported.
 *        url.query      url_query_redact() (values become "?", except
 *                       url.query_keep names).
 *        db.query.text  SQL (PostgreSQL, MySQL): sql_normalize(), adding
 *                       db.query.summary, db.collection.name and, when the
 *                       parser had none, db.operation.name; unparseable SQL
 *                       is dropped (or a marker, by policy); sql.enabled
 *                       false drops the text. Redis: the command and its
 *                       key through key_template() ("SET session:{id}"),
 *                       the command alone for commands whose first argument
 *                       is not a key (ECHO, EVAL, ...), or when
 *                       redis.key_pattern is false. db.operation.name
 *                       (Redis): a known command name, else "_OTHER"
 *                       (a password typed as a command must not leave).
 *      then "truncate" cuts the value to its length at a UTF-8 boundary.
 *   3. The value is made valid UTF-8 and the detectors the policy enables
 *      (processor/detect.h) run over it: hits become "[REDACTED:<name>]".
 *      "redact" gives SCRUB_MARK and "hash" policy_hash() of the raw value:
 *      our own strings, not scanned.
 * Integer attributes are kept, dropped, redacted or hashed (their decimal
 * text); "truncate" keeps them.
 *
 * Every action is counted by rule name and every detector hit by detector
 * name (scrub_txn_stats), never with the value. A value that cannot be
 * scrubbed within the bounds (a detector output over SCRUB_TXN_VALUE_MAX)
 * is dropped and counted, never exported unscrubbed.
 */
#ifndef BPFWARDEN_PROCESSOR_SCRUB_TXN_H
#define BPFWARDEN_PROCESSOR_SCRUB_TXN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "processor/detect.h"
#include "processor/policy.h"
#include "processor/proto.h"
#include "processor/scrub_sql.h"
#include "processor/scrub_url.h"

/* derived attributes: http.route, db.query.summary, db.collection.name */
#define SCRUB_TXN_ATTRS     (TXN_MAX_ATTRS + 3)
#define SCRUB_TXN_VALUE_MAX 4096 /* bytes of one exported value */
/* a template of a whole carry */
#define SCRUB_TXN_WORK  (URL_OUT_MAX(PROTO_CARRY_MAX) + 1)
#define SCRUB_TXN_ARENA (SCRUB_TXN_ATTRS * (SCRUB_TXN_VALUE_MAX + 1))

enum scrub_txn_rule {
	SR_ATTR_DROPPED,          /* attribute not allowlisted, or action "drop" */
	SR_ATTR_REDACTED,         /* action "redact" */
	SR_ATTR_HASHED,           /* action "hash" */
	SR_ATTR_TRUNCATED,        /* action "truncate" cut a value */
	SR_HEADER_DROPPED,        /* header captured but its action is "drop" */
	SR_HEADER_REDACTED,       /* header action "redact" (and raw credentials) */
	SR_HEADER_HASHED,         /* header action "hash" */
	SR_URL_PATH_TEMPLATED,    /* a path with at least one segment templated */
	SR_ROUTE_MATCHED,         /* a user route matched */
	SR_ROUTE_UNMATCHED_DROP,  /* request dropped: no user route matched */
	SR_QUERY_REDACTED,        /* a query string with at least one value redacted */
	SR_SQL_NORMALIZED,        /* statements normalized */
	SR_SQL_UNPARSEABLE,       /* statements dropped (or marked) as unparseable */
	SR_SQL_DISABLED,          /* statements dropped: sql.enabled is false */
	SR_REDIS_KEY_TEMPLATED,   /* Redis keys turned into patterns */
	SR_REDIS_ARG_DROPPED,     /* Redis first arguments dropped (not a key, or no key_pattern) */
	SR_REDIS_COMMAND_UNKNOWN, /* Redis command names not known: exported as "_OTHER" */
	SR_VALUE_UNSCRUBBABLE,    /* values dropped: scrubbing did not fit the bounds */
	SR__COUNT
};

/* "attribute_dropped", ...: the keys of the stats record's scrub.rules. */
extern const char *const scrub_txn_rule_names[SR__COUNT];

struct scrub_txn_stats {
	uint64_t rules[SR__COUNT];
	uint64_t detectors[DET__COUNT];
	uint64_t records;         /* transactions scrubbed */
	uint64_t records_dropped; /* of which not exported (SR_ROUTE_UNMATCHED_DROP) */
};

/* One attribute as it may be exported. */
struct scrub_attr {
	const char *key; /* outlives the record (literal or proto_headers key) */
	const char *str; /* TXN_STR: valid UTF-8, not NUL-terminated, in the arena */
	uint32_t len;
	uint8_t type; /* enum txn_attr_type */
	bool truncated;
	int64_t num;
};

/* The scrubbed transaction: about 120 KiB, give it static storage. */
struct scrubbed {
	uint32_t n;
	struct scrub_attr a[SCRUB_TXN_ATTRS];
	size_t used;
	char arena[SCRUB_TXN_ARENA];
};

#define SCRUB_TXN_CACHE 512 /* attribute keys whose actions are remembered */

/*
 * Values repeat (hosts, user agents, statements): the UTF-8 and detector
 * pass and the SQL normalizer remember their last answers in direct-mapped
 * caches keyed by the whole raw input (compared byte for byte, never by
 * hash alone); a hit adds the same detector counts as the scan did.
 */
#define SCRUB_VCACHE_SLOTS   1024 /* detector results */
#define SCRUB_VCACHE_IN      128  /* longest input cached */
#define SCRUB_VCACHE_OUT     256  /* longest output cached */
#define SCRUB_SQLCACHE_SLOTS 256
#define SCRUB_SQLCACHE_IN    512

struct scrub_vcache {
	uint32_t hash;
	uint16_t in_len, out_len; /* in_len 0: empty slot (empty values are not cached) */
	uint16_t lim;             /* the cut put_text() applied: part of the key */
	uint8_t det[DET__COUNT];  /* hits per detector in this value */
	char in[SCRUB_VCACHE_IN];
	char out[SCRUB_VCACHE_OUT];
};

struct scrub_sqlcache {
	uint32_t hash;
	uint16_t in_len; /* 0: empty slot */
	bool truncated;
	long r; /* sql_normalize()'s answer */
	char in[SCRUB_SQLCACHE_IN];
	char out[SCRUB_SQLCACHE_IN + 1];
	struct sql_info info;
};

/* The fields are private; about 1.5 MiB: give it static or heap storage. */
struct scrubber {
	const struct policy *pol;
	struct route_set routes;
	const char *query_keep[POLICY_QUERY_KEEP_MAX + 1];
	struct proto_headers headers; /* what the parsers capture: io->headers */
	uint32_t detectors;           /* enabled mask for detect_redact_only() */
	struct {
		const char *key;
		uint8_t action; /* enum attr_action */
		uint8_t header; /* 1: a header key */
		uint8_t kind;   /* its own scrubber, if any */
		uint32_t truncate_len;
	} cache[SCRUB_TXN_CACHE];
	struct scrub_txn_stats st;
	struct scrub_vcache vcache[SCRUB_VCACHE_SLOTS];
	struct scrub_sqlcache sqlcache[SCRUB_SQLCACHE_SLOTS];
	char tmp[2][SCRUB_TXN_VALUE_MAX * 8 + 64]; /* put_text(): UTF-8 copy, detector output */
	char work[SCRUB_TXN_WORK];                 /* a value's own scrubber writes here */
	char route[ROUTE_LEN_MAX + 1];             /* the user route that matched */
};

/*
 * Prepare @s for @pol, which must outlive it and not change. Fails
 * (-EINVAL, message in @err) only on a policy that policy_check() refuses
 * or whose routes or header names the scrubbers cannot take.
 */
int scrubber_init(struct scrubber *s, const struct policy *pol, char *err, size_t errlen);

/*
 * Scrub @t into @out. Returns false when the whole transaction is not to be
 * exported (counted); @out is then empty.
 */
bool scrubber_txn(struct scrubber *s, const struct l7_txn *t, struct scrubbed *out);

/*
 * Scrub one free-text string (@len bytes) that is about to be exported
 * outside a transaction (a process's comm, an exec record's argument):
 * made valid UTF-8 and passed through the enabled detectors, into @out
 * (@cap bytes, NUL-terminated). Returns the length, or -ENOSPC (then @out
 * is "", counted as SR_VALUE_UNSCRUBBABLE).
 */
long scrubber_text(struct scrubber *s, const char *in, size_t len, char *out, size_t cap);

/*
 * The "scrub" object of the stats records: {"records", "records_dropped",
 * "rules": {...}, "detectors": {...}}. @rules (may be NULL; taken over,
 * even on failure) holds the process-argument rules already; the
 * transaction rules are added to it. NULL on allocation failure.
 */
json_t *scrubber_stats_json(const struct scrubber *s, json_t *rules);

#ifdef BPFW_BENCH_NO_SCRUB
/* make bench's baseline binary only: every attribute copied as valid UTF-8, nothing scrubbed. */
void scrubber_bench_passthrough(const struct l7_txn *t, struct scrubbed *out);
#endif

/* The scrubber on the built-in default policy, initialised on first use. */
struct scrubber *scrubber_default(void);

#endif
