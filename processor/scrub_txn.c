// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "processor/scrub.h"
#include "processor/scrub_sql.h"
#include "processor/scrub_txn.h"
#include "processor/text.h"

const char *const scrub_txn_rule_names[SR__COUNT] = {
	[SR_ATTR_DROPPED] = "attribute_dropped",
	[SR_ATTR_REDACTED] = "attribute_redacted",
	[SR_ATTR_HASHED] = "attribute_hashed",
	[SR_ATTR_TRUNCATED] = "attribute_truncated",
	[SR_HEADER_DROPPED] = "header_dropped",
	[SR_HEADER_REDACTED] = "header_redacted",
	[SR_HEADER_HASHED] = "header_hashed",
	[SR_URL_PATH_TEMPLATED] = "url_path_templated",
	[SR_ROUTE_MATCHED] = "route_matched",
	[SR_ROUTE_UNMATCHED_DROP] = "route_unmatched_dropped",
	[SR_QUERY_REDACTED] = "url_query_redacted",
	[SR_SQL_NORMALIZED] = "sql_normalized",
	[SR_SQL_UNPARSEABLE] = "sql_unparseable",
	[SR_SQL_DISABLED] = "sql_disabled",
	[SR_REDIS_KEY_TEMPLATED] = "redis_key_templated",
	[SR_REDIS_ARG_DROPPED] = "redis_argument_dropped",
	[SR_REDIS_COMMAND_UNKNOWN] = "redis_command_unknown",
	[SR_VALUE_UNSCRUBBABLE] = "value_unscrubbable",
};

#define REQ_HDR  "http.request.header."
#define RESP_HDR "http.response.header."
#define HASH_HEX (POLICY_HASH_LEN_MAX + 1)

/* Redis commands whose first argument is a value, a script or a name, never a key. */
static const char *const redis_not_key[] = {
	"ECHO",
	"PING",
	"EVAL",
	"EVAL_RO",
	"EVALSHA",
	"EVALSHA_RO",
	"FCALL",
	"FCALL_RO",
	"SCRIPT LOAD",
	"FUNCTION LOAD",
	"CLIENT SETNAME",
	"CLIENT SETINFO",
	"CLIENT KILL",
	"CONFIG SET",
	"PUBSUB CHANNELS",
	NULL,
};

/*
 * Redis command names, sorted (strcmp): a client can send anything as a
 * command, a password typed at the wrong prompt included, so only these
 * leave as db.operation.name; any other becomes REDIS_OTHER.
 */
static const char *const redis_commands[] = {
	"ACL",
	"APPEND",
	"ASKING",
	"AUTH",
	"BGREWRITEAOF",
	"BGSAVE",
	"BITCOUNT",
	"BITFIELD",
	"BITFIELD_RO",
	"BITOP",
	"BITPOS",
	"BLMOVE",
	"BLMPOP",
	"BLPOP",
	"BRPOP",
	"BRPOPLPUSH",
	"BZMPOP",
	"BZPOPMAX",
	"BZPOPMIN",
	"CLIENT",
	"CLUSTER",
	"COMMAND",
	"CONFIG",
	"COPY",
	"DBSIZE",
	"DEBUG",
	"DECR",
	"DECRBY",
	"DEL",
	"DISCARD",
	"DUMP",
	"ECHO",
	"EVAL",
	"EVALSHA",
	"EVALSHA_RO",
	"EVAL_RO",
	"EXEC",
	"EXISTS",
	"EXPIRE",
	"EXPIREAT",
	"EXPIRETIME",
	"FAILOVER",
	"FCALL",
	"FCALL_RO",
	"FLUSHALL",
	"FLUSHDB",
	"FUNCTION",
	"GEOADD",
	"GEODIST",
	"GEOHASH",
	"GEOPOS",
	"GEORADIUS",
	"GEORADIUSBYMEMBER",
	"GEORADIUSBYMEMBER_RO",
	"GEORADIUS_RO",
	"GEOSEARCH",
	"GEOSEARCHSTORE",
	"GET",
	"GETBIT",
	"GETDEL",
	"GETEX",
	"GETRANGE",
	"GETSET",
	"HDEL",
	"HELLO",
	"HEXISTS",
	"HEXPIRE",
	"HEXPIREAT",
	"HEXPIRETIME",
	"HGET",
	"HGETALL",
	"HGETDEL",
	"HGETEX",
	"HINCRBY",
	"HINCRBYFLOAT",
	"HKEYS",
	"HLEN",
	"HMGET",
	"HMSET",
	"HPERSIST",
	"HPEXPIRE",
	"HPEXPIREAT",
	"HPEXPIRETIME",
	"HPTTL",
	"HRANDFIELD",
	"HSCAN",
	"HSET",
	"HSETEX",
	"HSETNX",
	"HSTRLEN",
	"HTTL",
	"HVALS",
	"INCR",
	"INCRBY",
	"INCRBYFLOAT",
	"INFO",
	"KEYS",
	"LASTSAVE",
	"LATENCY",
	"LCS",
	"LINDEX",
	"LINSERT",
	"LLEN",
	"LMOVE",
	"LMPOP",
	"LOLWUT",
	"LPOP",
	"LPOS",
	"LPUSH",
	"LPUSHX",
	"LRANGE",
	"LREM",
	"LSET",
	"LTRIM",
	"MEMORY",
	"MGET",
	"MIGRATE",
	"MODULE",
	"MONITOR",
	"MOVE",
	"MSET",
	"MSETNX",
	"MULTI",
	"OBJECT",
	"PERSIST",
	"PEXPIRE",
	"PEXPIREAT",
	"PEXPIRETIME",
	"PFADD",
	"PFCOUNT",
	"PFDEBUG",
	"PFMERGE",
	"PFSELFTEST",
	"PING",
	"PSETEX",
	"PSUBSCRIBE",
	"PSYNC",
	"PTTL",
	"PUBLISH",
	"PUBSUB",
	"PUNSUBSCRIBE",
	"QUIT",
	"RANDOMKEY",
	"READONLY",
	"READWRITE",
	"RENAME",
	"RENAMENX",
	"REPLCONF",
	"REPLICAOF",
	"RESET",
	"RESTORE",
	"RESTORE-ASKING",
	"ROLE",
	"RPOP",
	"RPOPLPUSH",
	"RPUSH",
	"RPUSHX",
	"SADD",
	"SAVE",
	"SCAN",
	"SCARD",
	"SCRIPT",
	"SDIFF",
	"SDIFFSTORE",
	"SELECT",
	"SET",
	"SETBIT",
	"SETEX",
	"SETNX",
	"SETRANGE",
	"SHUTDOWN",
	"SINTER",
	"SINTERCARD",
	"SINTERSTORE",
	"SISMEMBER",
	"SLAVEOF",
	"SLOWLOG",
	"SMEMBERS",
	"SMISMEMBER",
	"SMOVE",
	"SORT",
	"SORT_RO",
	"SPOP",
	"SPUBLISH",
	"SRANDMEMBER",
	"SREM",
	"SSCAN",
	"SSUBSCRIBE",
	"STRLEN",
	"SUBSCRIBE",
	"SUBSTR",
	"SUNION",
	"SUNIONSTORE",
	"SUNSUBSCRIBE",
	"SWAPDB",
	"SYNC",
	"TIME",
	"TOUCH",
	"TTL",
	"TYPE",
	"UNLINK",
	"UNSUBSCRIBE",
	"UNWATCH",
	"WAIT",
	"WAITAOF",
	"WATCH",
	"XACK",
	"XADD",
	"XAUTOCLAIM",
	"XCLAIM",
	"XDEL",
	"XGROUP",
	"XINFO",
	"XLEN",
	"XPENDING",
	"XRANGE",
	"XREAD",
	"XREADGROUP",
	"XREVRANGE",
	"XSETID",
	"XTRIM",
	"ZADD",
	"ZCARD",
	"ZCOUNT",
	"ZDIFF",
	"ZDIFFSTORE",
	"ZINCRBY",
	"ZINTER",
	"ZINTERCARD",
	"ZINTERSTORE",
	"ZLEXCOUNT",
	"ZMPOP",
	"ZMSCORE",
	"ZPOPMAX",
	"ZPOPMIN",
	"ZRANDMEMBER",
	"ZRANGE",
	"ZRANGEBYLEX",
	"ZRANGEBYSCORE",
	"ZRANGESTORE",
	"ZRANK",
	"ZREM",
	"ZREMRANGEBYLEX",
	"ZREMRANGEBYRANK",
	"ZREMRANGEBYSCORE",
	"ZREVRANGE",
	"ZREVRANGEBYLEX",
	"ZREVRANGEBYSCORE",
	"ZREVRANK",
	"ZSCAN",
	"ZSCORE",
	"ZUNION",
	"ZUNIONSTORE",
};

#define REDIS_OTHER   "_OTHER"
#define REDIS_SUB_MAX 24 /* bytes of a plausible subcommand name */

/* ---- setup ----------------------------------------------------------------------------- */

int scrubber_init(struct scrubber *s, const struct policy *pol, char *err, size_t errlen)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = policy_check(pol, err, errlen);
	if (r < 0)
		return r;
	s->pol = pol;
	route_set_init(&s->routes);
	for (uint32_t i = 0; i < pol->n_routes; i++) {
		char why[256];

		if (route_set_add(&s->routes, pol->routes[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "routes[%u]: %s", i, why);
			return -EINVAL;
		}
	}
	policy_query_keep_list(pol, s->query_keep);
	for (uint32_t i = 0; i < pol->n_headers; i++) {
		const char *name = pol->headers[i].name;

		if (policy_header_action(pol, name) == ACT_DROP)
			continue;
		r = proto_headers_add(&s->headers, name, strlen(name));
		if (r == -ENOSPC) {
			snprintf(err, errlen,
			         "headers: more than %d headers are exported in some form; drop "
			         "some or raise PROTO_HEADERS_MAX",
			         PROTO_HEADERS_MAX);
			return -EINVAL;
		}
		if (r < 0 && r != -EEXIST) {
			snprintf(err, errlen, "headers[%u].name: \"%s\" is not an HTTP header name",
			         i, name);
			return -EINVAL;
		}
	}
	for (int d = 0; d < DET__COUNT && d < POLICY_DETECTORS; d++)
		if (pol->detectors[d])
			s->detectors |= 1u << d;
	if (errlen)
		err[0] = '\0';
	return 0;
}

struct scrubber *scrubber_default(void)
{
	static struct policy pol;
	static struct scrubber s;
	static bool ready;
	char err[256];

	if (!ready) {
		policy_defaults(&pol);
		if (scrubber_init(&s, &pol, err, sizeof(err)) < 0)
			return NULL; /* the defaults pass policy_check(): a unit test holds it */
		ready = true;
	}
	return &s;
}

/* ---- actions --------------------------------------------------------------------------- */

enum key_kind { KEY_PLAIN, KEY_URL_PATH, KEY_URL_QUERY, KEY_QUERY_TEXT, KEY_OPERATION };

struct action {
	enum attr_action act;
	bool header;
	uint8_t kind; /* enum key_kind: which scrubber of its own the attribute has */
	uint32_t truncate_len;
};

static struct action action_for(struct scrubber *s, const char *key)
{
	uintptr_t h = ((uintptr_t)key >> 3) * 0x9E3779B97F4A7C15ull;
	unsigned slot = (unsigned)(h >> 55) % SCRUB_TXN_CACHE;
	struct action a = { 0 };

	if (s->cache[slot].key == key)
		return (struct action){ s->cache[slot].action, s->cache[slot].header,
			                s->cache[slot].kind, s->cache[slot].truncate_len };
	a.kind = strcmp(key, "url.path") == 0            ? KEY_URL_PATH
	         : strcmp(key, "url.query") == 0         ? KEY_URL_QUERY
	         : strcmp(key, "db.query.text") == 0     ? KEY_QUERY_TEXT
	         : strcmp(key, "db.operation.name") == 0 ? KEY_OPERATION
	                                                 : KEY_PLAIN;
	if (strncmp(key, REQ_HDR, sizeof(REQ_HDR) - 1) == 0) {
		a.header = true;
		a.act = policy_header_action(s->pol, key + sizeof(REQ_HDR) - 1);
	} else if (strncmp(key, RESP_HDR, sizeof(RESP_HDR) - 1) == 0) {
		a.header = true;
		a.act = policy_header_action(s->pol, key + sizeof(RESP_HDR) - 1);
	} else {
		a.act = policy_attr_action(s->pol, key, &a.truncate_len);
	}
	if (a.act == ACT_TRUNCATE && (a.header || a.truncate_len == 0))
		a.act = ACT_DROP; /* policy_check() refuses both: never reached */
	s->cache[slot].key = key;
	s->cache[slot].action = (uint8_t)a.act;
	s->cache[slot].header = a.header;
	s->cache[slot].kind = a.kind;
	s->cache[slot].truncate_len = a.truncate_len;
	return a;
}

static void count(struct scrubber *s, enum scrub_txn_rule r)
{
	s->st.rules[r]++;
}

/* FNV-1a: the caches' slot; entries are still compared byte for byte. */
static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

/* The cached result for the raw value @v (@n bytes) cut to @lim, or NULL; *@h: its hash. */
static const struct scrub_vcache *vcache_find(struct scrubber *s, const char *v, size_t n,
                                              size_t lim, uint32_t *h)
{
	const struct scrub_vcache *e;

	*h = hash_bytes(v, n) ^ (uint32_t)lim;
	e = &s->vcache[*h % SCRUB_VCACHE_SLOTS];
	if (e->in_len == n && e->hash == *h && e->lim == lim && memcmp(e->in, v, n) == 0)
		return e;
	return NULL;
}

/* Remember @out (@r bytes) for @v; @before: the detector counters before its scan. */
static void vcache_store(struct scrubber *s, uint32_t h, const char *v, size_t n, size_t lim,
                         const char *out, long r, const uint64_t before[DET__COUNT])
{
	struct scrub_vcache *e = &s->vcache[h % SCRUB_VCACHE_SLOTS];

	if (r < 0 || r > SCRUB_VCACHE_OUT)
		return;
	for (int d = 0; d < DET__COUNT; d++) {
		uint64_t k = s->st.detectors[d] - before[d];

		if (k > UINT8_MAX)
			return; /* cannot be replayed exactly: not cached */
		e->det[d] = (uint8_t)k;
	}
	e->hash = h;
	e->in_len = (uint16_t)n;
	e->lim = (uint16_t)lim;
	e->out_len = (uint16_t)r;
	memcpy(e->in, v, n);
	memcpy(e->out, out, (size_t)r);
}

/* sql_normalize() into @out (@cap bytes), through the cache. */
static long sql_cached(struct scrubber *s, const char *in, size_t n, bool truncated, char *out,
                       size_t cap, struct sql_info *info)
{
	uint32_t h;
	struct scrub_sqlcache *e;
	long r;

	if (n == 0 || n > SCRUB_SQLCACHE_IN || cap <= SCRUB_SQLCACHE_IN)
		return sql_normalize(in, n, truncated, out, cap, info);
	h = hash_bytes(in, n);
	e = &s->sqlcache[h % SCRUB_SQLCACHE_SLOTS];
	if (e->in_len == n && e->hash == h && e->truncated == truncated &&
	    memcmp(e->in, in, n) == 0) {
		*info = e->info;
		if (e->r >= 0) {
			memcpy(out, e->out, (size_t)e->r);
			out[e->r] = '\0';
		} else {
			out[0] = '\0';
		}
		return e->r;
	}
	r = sql_normalize(in, n, truncated, out, cap, info);
	if (r > SCRUB_SQLCACHE_IN)
		return r; /* cannot happen: the output is at most the input */
	e->hash = h;
	e->in_len = (uint16_t)n;
	e->truncated = truncated;
	e->r = r;
	memcpy(e->in, in, n);
	if (r >= 0)
		memcpy(e->out, out, (size_t)r);
	e->info = *info;
	return r;
}

/* Back @n off to a UTF-8 boundary of @p (valid UTF-8). */
static size_t utf8_cut(const char *p, size_t n)
{
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static struct scrub_attr *slot_for(struct scrubbed *o, const char *key)
{
	struct scrub_attr *a;

	if (o->n >= SCRUB_TXN_ATTRS)
		return NULL;
	a = &o->a[o->n];
	memset(a, 0, sizeof(*a));
	a->key = key;
	return a;
}

/* Copy @n bytes of our own or scrubbed text into the arena as attribute @key. */
static void put_final(struct scrubbed *o, const char *key, const char *v, size_t n, bool truncated)
{
	struct scrub_attr *a = slot_for(o, key);

	if (!a || n > SCRUB_TXN_ARENA - o->used)
		return; /* cannot happen: SCRUB_TXN_ATTRS values of SCRUB_TXN_VALUE_MAX fit */
	memcpy(o->arena + o->used, v, n);
	a->type = TXN_STR;
	a->str = o->arena + o->used;
	a->len = (uint32_t)n;
	a->truncated = truncated;
	o->used += n;
	o->n++;
}

static void put_num(struct scrubbed *o, const char *key, int64_t v)
{
	struct scrub_attr *a = slot_for(o, key);

	if (!a)
		return;
	a->type = TXN_INT;
	a->num = v;
	o->n++;
}

/*
 * A value that passed its own scrubber: valid UTF-8, cut to @trunc (0: no
 * action cut) and SCRUB_TXN_VALUE_MAX, through the enabled detectors.
 */
static void put_text(struct scrubber *s, struct scrubbed *o, const char *key, const char *v,
                     size_t n, bool truncated, uint32_t trunc)
{
	size_t lim = trunc && trunc < SCRUB_TXN_VALUE_MAX ? trunc : SCRUB_TXN_VALUE_MAX, l;
	long r;

	uint64_t before[DET__COUNT];
	const struct scrub_vcache *e;
	bool cache = false;
	uint32_t h = 0;

	if (n > lim) {
		n = lim; /* text_utf8() then cuts at a character boundary within it */
		truncated = true;
		if (trunc)
			count(s, SR_ATTR_TRUNCATED);
	}
	if (s->detectors && n > 0 && n <= SCRUB_VCACHE_IN) {
		e = vcache_find(s, v, n, lim, &h);
		if (e) {
			for (int d = 0; d < DET__COUNT; d++)
				s->st.detectors[d] += e->det[d];
			put_final(o, key, e->out, e->out_len, truncated);
			return;
		}
		cache = true;
		memcpy(before, s->st.detectors, sizeof(before));
	}
	l = text_utf8(v, n, s->tmp[0], lim + 1);
	if (!s->detectors) {
		put_final(o, key, s->tmp[0], l, truncated);
		return;
	}
	r = detect_redact_only(s->tmp[0], l, s->tmp[1], sizeof(s->tmp[1]), s->st.detectors,
	                       s->detectors);
	if (r < 0) {
		count(s, SR_VALUE_UNSCRUBBABLE);
		return;
	}
	if (cache)
		vcache_store(s, h, v, n, lim, s->tmp[1], r, before);
	if ((size_t)r > SCRUB_TXN_VALUE_MAX) {
		r = (long)utf8_cut(s->tmp[1], SCRUB_TXN_VALUE_MAX);
		truncated = true;
	}
	put_final(o, key, s->tmp[1], (size_t)r, truncated);
}

static void put_hash(struct scrubber *s, struct scrubbed *o, const char *key, const void *v,
                     size_t n)
{
	char hex[HASH_HEX];
	int r = policy_hash(s->pol, v, n, hex, sizeof(hex));

	if (r < 0) {
		count(s, SR_VALUE_UNSCRUBBABLE);
		return;
	}
	put_final(o, key, hex, (size_t)r, false);
}

/*
 * Apply action @a to a string attribute whose value after its own scrubber
 * is @v/@n (@raw/@raw_n: the captured value, for "hash").
 */
static void apply(struct scrubber *s, struct scrubbed *o, const char *key, struct action a,
                  const char *raw, size_t raw_n, const char *v, size_t n, bool truncated)
{
	switch (a.act) {
	case ACT_KEEP:
		put_text(s, o, key, v, n, truncated, 0);
		break;
	case ACT_TRUNCATE:
		put_text(s, o, key, v, n, truncated, a.truncate_len);
		break;
	case ACT_REDACT:
		count(s, a.header ? SR_HEADER_REDACTED : SR_ATTR_REDACTED);
		put_final(o, key, SCRUB_MARK, sizeof(SCRUB_MARK) - 1, false);
		break;
	case ACT_HASH:
		count(s, a.header ? SR_HEADER_HASHED : SR_ATTR_HASHED);
		put_hash(s, o, key, raw, raw_n);
		break;
	case ACT_DROP:
	default:
		count(s, a.header ? SR_HEADER_DROPPED : SR_ATTR_DROPPED);
		break;
	}
}

static bool wants_value(struct action a)
{
	return a.act == ACT_KEEP || a.act == ACT_TRUNCATE;
}

/* ---- the attributes with their own scrubber ---------------------------------------------- */

struct ctx {
	struct scrubber *s;
	const struct l7_txn *t;
	struct scrubbed *o;
	bool drop; /* the whole transaction */
};

static const struct txn_attr *find_attr(const struct l7_txn *t, const char *key)
{
	for (uint32_t i = 0; i < t->nattrs && i < TXN_MAX_ATTRS; i++)
		if (strcmp(t->attrs[i].key, key) == 0)
			return &t->attrs[i];
	return NULL;
}

static void do_path(struct ctx *c, const struct txn_attr *x, struct action a)
{
	struct scrubber *s = c->s;
	struct action ra = action_for(s, "http.route");
	bool matched = false, cut = x->flags & TXN_TRUNCATED;
	long n;

	n = url_template(x->str, x->len, cut, NULL, s->work, sizeof(s->work), NULL);
	if (n < 0) {
		count(s, SR_VALUE_UNSCRUBBABLE);
		c->drop = s->pol->routes_unmatched == ROUTES_DROP;
		return;
	}
	if ((size_t)n != x->len || memcmp(s->work, x->str, (size_t)n) != 0)
		count(s, SR_URL_PATH_TEMPLATED);
	if (s->routes.n > 0 &&
	    url_template(x->str, x->len, cut, &s->routes, s->route, sizeof(s->route), &matched) < 0)
		matched = false;
	if (matched) {
		count(s, SR_ROUTE_MATCHED);
	} else if (s->pol->routes_unmatched == ROUTES_DROP) {
		c->drop = true;
		return;
	}
	/* a template is ours but made from captured text: it goes through the detectors too */
	apply(s, c->o, x->key, a, x->str, x->len, s->work, (size_t)n, cut);
	if (ra.act == ACT_DROP)
		return; /* http.route is derived: its absence is not a scrub action */
	if (matched)
		apply(s, c->o, "http.route", ra, s->route, strlen(s->route), s->route,
		      strlen(s->route), false);
	else
		apply(s, c->o, "http.route", ra, s->work, (size_t)n, s->work, (size_t)n, cut);
}

static void do_query(struct ctx *c, const struct txn_attr *x, struct action a)
{
	struct scrubber *s = c->s;
	char *out = s->work;
	long n;

	if (!wants_value(a)) {
		apply(s, c->o, x->key, a, x->str, x->len, NULL, 0, false);
		return;
	}
	n = url_query_redact(x->str, x->len, x->flags & TXN_TRUNCATED, s->query_keep, out,
	                     sizeof(s->work));
	if (n < 0) {
		count(s, SR_VALUE_UNSCRUBBABLE);
		return;
	}
	if ((size_t)n != x->len || memcmp(out, x->str, (size_t)n) != 0)
		count(s, SR_QUERY_REDACTED);
	apply(s, c->o, x->key, a, x->str, x->len, out, (size_t)n, x->flags & TXN_TRUNCATED);
}

static void do_sql(struct ctx *c, const struct txn_attr *x, struct action a)
{
	struct scrubber *s = c->s;
	char *out = s->work;
	struct sql_info info;
	long n;

	if (!s->pol->sql_enabled) {
		count(s, SR_SQL_DISABLED);
		return;
	}
	n = sql_cached(s, x->str, x->len, x->flags & TXN_TRUNCATED, out, sizeof(s->work), &info);
	if (n == SQL_UNPARSEABLE) {
		count(s, SR_SQL_UNPARSEABLE);
		if (!s->pol->sql_drop_unparseable && a.act != ACT_DROP)
			put_final(c->o, x->key, SCRUB_MARK, sizeof(SCRUB_MARK) - 1, false);
		return;
	}
	if (n < 0) {
		count(s, SR_VALUE_UNSCRUBBABLE);
		return;
	}
	count(s, SR_SQL_NORMALIZED);
	if (!find_attr(c->t, "db.operation.name") && info.operation[0])
		apply(s, c->o, "db.operation.name", action_for(s, "db.operation.name"),
		      info.operation, strlen(info.operation), info.operation,
		      strlen(info.operation), false);
	if (info.collection[0])
		apply(s, c->o, "db.collection.name", action_for(s, "db.collection.name"),
		      info.collection, strlen(info.collection), info.collection,
		      strlen(info.collection), false);
	if (info.summary[0])
		apply(s, c->o, "db.query.summary", action_for(s, "db.query.summary"), info.summary,
		      strlen(info.summary), info.summary, strlen(info.summary), false);
	apply(s, c->o, x->key, a, x->str, x->len, out, (size_t)n, x->flags & TXN_TRUNCATED);
}

static bool redis_is_not_key(const char *op, size_t n)
{
	for (const char *const *w = redis_not_key; *w; w++)
		if (strlen(*w) == n && strncasecmp(*w, op, n) == 0)
			return true;
	return false;
}

static int cmp_name(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

/* A subcommand name: letters, '-' and '_' (no digits), not token-like. */
static bool sub_plausible(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
			return false;
	return !segment_is_identifier(p, n);
}

/*
 * The exportable form of a Redis operation name "CMD[ SUB]" (@n bytes, as
 * the parser uppercased it): a known command, with its subcommand if that
 * looks like a name, else REDIS_OTHER. Into @out (>= 64 bytes).
 */
static size_t redis_op(const char *op, size_t n, char *out)
{
	const char *sp = memchr(op, ' ', n);
	size_t w = sp ? (size_t)(sp - op) : n;
	char word[32];

	if (w == 0 || w >= sizeof(word))
		goto other;
	memcpy(word, op, w);
	word[w] = '\0';
	if (!bsearch(word, redis_commands, sizeof(redis_commands) / sizeof(redis_commands[0]),
	             sizeof(redis_commands[0]), cmp_name))
		goto other;
	memcpy(out, op, w);
	if (sp && n - w - 1 > 0 && n - w - 1 <= REDIS_SUB_MAX && sub_plausible(sp + 1, n - w - 1)) {
		memcpy(out + w, sp, n - w);
		return n;
	}
	return w;
other:
	memcpy(out, REDIS_OTHER, sizeof(REDIS_OTHER) - 1);
	return sizeof(REDIS_OTHER) - 1;
}

static void do_redis_op(struct ctx *c, const struct txn_attr *x, struct action a)
{
	char op[64];
	size_t n = redis_op(x->str, x->len, op);

	if (n == sizeof(REDIS_OTHER) - 1 && memcmp(op, REDIS_OTHER, n) == 0)
		count(c->s, SR_REDIS_COMMAND_UNKNOWN);
	apply(c->s, c->o, x->key, a, x->str, x->len, op, n, false);
}

/* Redis: "OP[ SUB] first-argument" -> "OP[ SUB] key-pattern", or "OP[ SUB]". */
static void do_redis(struct ctx *c, const struct txn_attr *x, struct action a)
{
	struct scrubber *s = c->s;
	const struct txn_attr *op = find_attr(c->t, "db.operation.name");
	char *out = s->work;
	size_t cap = sizeof(s->work), oplen;
	long n;

	if (!wants_value(a)) {
		apply(s, c->o, x->key, a, x->str, x->len, NULL, 0, false);
		return;
	}
	/* without the command name the split point is unknown: nothing is kept */
	if (!op || op->type != TXN_STR || op->len > x->len || op->len >= cap ||
	    memcmp(op->str, x->str, op->len) != 0) {
		count(s, SR_REDIS_ARG_DROPPED);
		return;
	}
	oplen = op->len;
	n = (long)redis_op(x->str, oplen, out);
	if (oplen + 1 < x->len && x->str[oplen] == ' ') {
		if (!s->pol->redis_key_pattern || redis_is_not_key(x->str, oplen) ||
		    memcmp(out, REDIS_OTHER, sizeof(REDIS_OTHER) - 1) == 0) {
			count(s, SR_REDIS_ARG_DROPPED);
		} else {
			long k;

			out[n++] = ' ';
			k = key_template(x->str + oplen + 1, x->len - oplen - 1,
			                 x->flags & TXN_TRUNCATED, out + n, cap - (size_t)n);
			if (k < 0) {
				count(s, SR_VALUE_UNSCRUBBABLE);
				return;
			}
			count(s, SR_REDIS_KEY_TEMPLATED);
			n += k;
		}
	}
	apply(s, c->o, x->key, a, x->str, x->len, out, (size_t)n, false);
}

/* ---- entry points ---------------------------------------------------------------------- */

static void do_attr(struct ctx *c, const struct txn_attr *x)
{
	struct scrubber *s = c->s;
	struct action a = action_for(s, x->key);

	if (x->type == TXN_INT) {
		char d[24];
		int n;

		switch (a.act) {
		case ACT_KEEP:
		case ACT_TRUNCATE:
			put_num(c->o, x->key, x->num);
			return;
		case ACT_HASH:
			n = snprintf(d, sizeof(d), "%lld", (long long)x->num);
			apply(s, c->o, x->key, a, d, (size_t)n, NULL, 0, false);
			return;
		default:
			apply(s, c->o, x->key, a, NULL, 0, NULL, 0, false);
			return;
		}
	}
	if (a.kind == KEY_URL_PATH)
		do_path(c, x, a);
	else if (a.kind == KEY_URL_QUERY)
		do_query(c, x, a);
	else if (c->t->proto == PROTO_REDIS && a.kind == KEY_QUERY_TEXT)
		do_redis(c, x, a);
	else if (c->t->proto == PROTO_REDIS && a.kind == KEY_OPERATION)
		do_redis_op(c, x, a);
	else if (a.kind == KEY_QUERY_TEXT)
		do_sql(c, x, a);
	else
		apply(s, c->o, x->key, a, x->str, x->len, x->str, x->len, x->flags & TXN_TRUNCATED);
}

bool scrubber_txn(struct scrubber *s, const struct l7_txn *t, struct scrubbed *out)
{
	struct ctx c = { s, t, out, false };

	out->n = 0;
	out->used = 0;
	s->st.records++;
	for (uint32_t i = 0; i < t->nattrs && i < TXN_MAX_ATTRS && !c.drop; i++)
		do_attr(&c, &t->attrs[i]);
	if (c.drop) {
		count(s, SR_ROUTE_UNMATCHED_DROP);
		s->st.records_dropped++;
		out->n = 0;
		out->used = 0;
		return false;
	}
	return true;
}

long scrubber_text(struct scrubber *s, const char *in, size_t len, char *out, size_t cap)
{
	size_t l;
	long r;

	const struct scrub_vcache *e = NULL;
	uint64_t before[DET__COUNT];
	uint32_t h = 0;

	if (cap == 0)
		return -ENOSPC;
	if (len > 0 && len <= SCRUB_VCACHE_IN)
		e = vcache_find(s, in, len, sizeof(s->tmp[0]) - 1, &h);
	if (e && e->out_len < cap) {
		for (int d = 0; d < DET__COUNT; d++)
			s->st.detectors[d] += e->det[d];
		memcpy(out, e->out, e->out_len);
		out[e->out_len] = '\0';
		return e->out_len;
	}
	memcpy(before, s->st.detectors, sizeof(before));
	l = text_utf8(in, len, s->tmp[0], sizeof(s->tmp[0]));
	r = detect_redact_only(s->tmp[0], l, out, cap, s->st.detectors, s->detectors);
	if (r < 0)
		count(s, SR_VALUE_UNSCRUBBABLE);
	else if (len > 0 && len <= SCRUB_VCACHE_IN)
		vcache_store(s, h, in, len, sizeof(s->tmp[0]) - 1, out, r, before);
	return r;
}

json_t *scrubber_stats_json(const struct scrubber *s, json_t *rules)
{
	json_t *o = json_object(), *det = json_object();
	int r = 0;

	if (!rules)
		rules = json_object();
	if (!o || !det || !rules) {
		json_decref(o);
		json_decref(det);
		json_decref(rules);
		return NULL;
	}
	for (int i = 0; s && i < SR__COUNT; i++)
		r |= json_object_set_new(rules, scrub_txn_rule_names[i],
		                         json_integer((json_int_t)s->st.rules[i]));
	for (int i = 0; s && i < DET__COUNT; i++)
		r |= json_object_set_new(det, detector_names[i],
		                         json_integer((json_int_t)s->st.detectors[i]));
	r |= json_object_set_new(o, "records", json_integer((json_int_t)(s ? s->st.records : 0)));
	r |= json_object_set_new(o, "records_dropped",
	                         json_integer((json_int_t)(s ? s->st.records_dropped : 0)));
	r |= json_object_set_new(o, "rules", rules);
	r |= json_object_set_new(o, "detectors", det);
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

#ifdef BPFW_BENCH_NO_SCRUB
void scrubber_bench_passthrough(const struct l7_txn *t, struct scrubbed *out)
{
	out->n = 0;
	out->used = 0;
	for (uint32_t i = 0; i < t->nattrs && i < TXN_MAX_ATTRS; i++) {
		const struct txn_attr *x = &t->attrs[i];
		char buf[SCRUB_TXN_VALUE_MAX + 1];

		if (x->type == TXN_INT)
			put_num(out, x->key, x->num);
		else
			put_final(out, x->key, buf, text_utf8(x->str, x->len, buf, sizeof(buf)),
			          x->flags & TXN_TRUNCATED);
	}
}
#endif
