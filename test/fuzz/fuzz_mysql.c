// SPDX-License-Identifier: Apache-2.0
/*
 * The MySQL / MariaDB parser (processor/proto_mysql.c) behind a real
 * session, fed a conversation taken from the input. Input layout:
 *
 *   0  u8 flags   bits 0-1: 1 = start with a MySQL 8 login (greeting,
 *                 handshake response with CLIENT_DEPRECATE_EOF and
 *                 CLIENT_QUERY_ATTRIBUTES, OK), 2 = a MariaDB one (EOF
 *                 packets), else none; the auth response holds CANARY.
 *                 bit 2: the session starts mid-stream; bit 3: role unknown
 *   then records until the input ends:
 *      u8 op      bit 0: response side (else request); bit 1: a gap;
 *                 bit 2: framed: a packet header (the data's length,
 *                 sequence id op >> 3) is put before the data, so the
 *                 fuzzer reaches past the framing without guessing lengths
 *      u16 len    little-endian: the gap's length, or the data's (cut to
 *                 what is left of the input)
 *      data       len bytes, handed over as an exactly-sized heap copy
 *
 * Every run also goes through detect() on both sides with both flags. The
 * sink checks every transaction: known keys only, values within the
 * parser's limits and readable to their last byte, SQL and user names
 * sensitive, no auth data anywhere, sane status and timestamps.
 */
#include <stdbool.h>

#include "processor/proto.h"
#include "processor/session.h"
#include "test/fuzz/fuzz_session.h"

#define REC_HDR     3
#define PKT_HDR     4
#define TEXT_MAX    1024 /* MYSQL_QUERY_MAX */
#define NAME_MAX_   64   /* MYSQL_NAME_MAX */
#define OP_MAX      20   /* longest command name (STMT_SEND_LONG_DATA) */
#define CODE_MAX    5    /* a u16 in decimal */
#define TS_STEP     1000
#define CANARY      "AUTH-CANARY-7q2x"
#define DIR_EGRESS  0
#define DIR_INGRESS 1
#define BUILD_MAX   256 /* login packets */

static const struct proto_parser *const only_mysql[] = { &proto_mysql, NULL };

struct sink {
	bool canary_in_input; /* then the canary may legitimately show up */
	uint64_t emitted;
};

static bool all_in(const uint8_t *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

static void check_str_attr(const struct sink *k, const struct txn_attr *a)
{
	static uint8_t copy[TEXT_MAX];

	FUZZ_CHECK(a->len <= TEXT_MAX && (a->len == 0 || a->str));
	memcpy(copy, a->str, a->len); /* ASan: every byte of the view is readable */
	if (!k->canary_in_input)
		FUZZ_CHECK(!memmem(copy, a->len, CANARY, strlen(CANARY)));
	if (!strcmp(a->key, "db.query.text") || !strcmp(a->key, "db.user"))
		FUZZ_CHECK(a->flags & TXN_SENSITIVE);
	if (!strcmp(a->key, "db.user") || !strcmp(a->key, "db.namespace"))
		FUZZ_CHECK(a->len <= NAME_MAX_);
	if (!strcmp(a->key, "db.namespace"))
		FUZZ_CHECK(!(a->flags & TXN_SENSITIVE));
	if (!strcmp(a->key, "db.system.name"))
		FUZZ_CHECK((a->len == 5 && !memcmp(copy, "mysql", 5)) ||
		           (a->len == 7 && !memcmp(copy, "mariadb", 7)));
	if (!strcmp(a->key, "db.response.status_code"))
		FUZZ_CHECK(a->len >= 1 && a->len <= CODE_MAX && all_in(copy, a->len, "0123456789"));
	if (!strcmp(a->key, "db.operation.name"))
		FUZZ_CHECK(a->len >= 1 && a->len <= OP_MAX &&
		           all_in(copy, a->len, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"));
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	struct sink *k = io->emit_ctx;
	bool op = false;

	FUZZ_CHECK(t->proto == PROTO_MYSQL);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->status != TXN_NO_RESPONSE || t->end_ns == t->start_ns);
	FUZZ_CHECK(t->nattrs >= 2 && t->nattrs <= TXN_MAX_ATTRS);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];

		FUZZ_CHECK(a->key && fuzz_sql_key(a->key));
		FUZZ_CHECK(a->type == TXN_STR || a->type == TXN_INT);
		op |= !strcmp(a->key, "db.operation.name");
		if (a->type == TXN_STR)
			check_str_attr(k, a);
		else
			FUZZ_CHECK(a->num >= 0);
	}
	FUZZ_CHECK(op);
	k->emitted++;
}

static void feed(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                 size_t len, uint64_t ts)
{
	fuzz_feed(&proto_mysql, s, env, dir, p, len, ts);
}

/* @len bytes of @p behind a packet header, as one exactly-sized heap copy. */
static void feed_framed(struct session *s, struct session_env *env, unsigned dir, uint8_t seq,
                        const uint8_t *p, size_t len, uint64_t ts)
{
	uint8_t *copy = malloc(PKT_HDR + len);

	FUZZ_CHECK(copy != NULL);
	copy[0] = (uint8_t)len;
	copy[1] = (uint8_t)(len >> 8);
	copy[2] = 0;
	copy[3] = seq;
	if (len)
		memcpy(copy + PKT_HDR, p, len);
	fuzz_check_detect(&proto_mysql, copy, PKT_HDR + len);
	session_data(s, env, dir, copy, (uint32_t)(PKT_HDR + len), ts);
	free(copy);
}

static unsigned dir_of(enum proto_side side)
{
	return side == PROTO_REQ ? DIR_EGRESS : DIR_INGRESS; /* client, or unknown: egress */
}

/* Server greeting: version, capabilities (lower, upper), auth plugin. */
static size_t build_greeting(uint8_t *b, const char *version, uint32_t caps)
{
	size_t n = PKT_HDR, vlen = strlen(version);

	b[n++] = 0x0a;
	memcpy(b + n, version, vlen + 1);
	n += vlen + 1;
	memcpy(b + n,
	       "\x2a\0\0\0"
	       "abcdefgh\0",
	       13); /* connection id, auth data 1, filler */
	n += 13;
	b[n++] = (uint8_t)caps;
	b[n++] = (uint8_t)(caps >> 8);
	memcpy(b + n, "\xff\x02\x00", 3); /* charset, status */
	n += 3;
	b[n++] = (uint8_t)(caps >> 16);
	b[n++] = (uint8_t)(caps >> 24);
	b[n++] = 21;
	memset(b + n, 0, 10);
	n += 10;
	memcpy(b + n, "ijklmnopqrst\0caching_sha2_password", 35);
	n += 35;
	b[0] = (uint8_t)(n - PKT_HDR);
	b[1] = b[2] = b[3] = 0;
	return n;
}

/* HandshakeResponse41: caps, max packet, charset, filler, user, CANARY auth, schema. */
static size_t build_response(uint8_t *b, uint32_t caps)
{
	size_t n = PKT_HDR;

	for (int i = 0; i < 4; i++)
		b[n + i] = (uint8_t)(caps >> (8 * i));
	memcpy(b + n + 4, "\0\0\0\x01\xff", 5);
	memset(b + n + 9, 0, 23);
	n += 32;
	memcpy(b + n, "app\0", 4);
	n += 4;
	b[n++] = (uint8_t)strlen(CANARY); /* length-encoded and 1-byte forms agree below 251 */
	memcpy(b + n, CANARY, strlen(CANARY));
	n += strlen(CANARY);
	memcpy(b + n, "shop\0caching_sha2_password", 27);
	n += 27;
	b[0] = (uint8_t)(n - PKT_HDR);
	b[1] = b[2] = 0;
	b[3] = 1;
	return n;
}

static void login(struct session *s, struct session_env *env, bool mariadb)
{
	static const uint8_t ok[] = "\x07\0\0\x02\0\0\0\x02\0\0\0";
	uint8_t b[BUILD_MAX];
	size_t n;

	n = build_greeting(b, mariadb ? "5.5.5-10.11.6-MariaDB" : "8.0.36",
	                   mariadb ? 0x81fff7feu : 0xdfffffffu);
	feed(s, env, dir_of(PROTO_RESP), b, n, TS_STEP);
	n = build_response(b, mariadb ? 0x008fa28cu : 0x09ffa28du);
	feed(s, env, dir_of(PROTO_REQ), b, n, TS_STEP);
	feed(s, env, dir_of(PROTO_RESP), ok, sizeof(ok) - 1, TS_STEP);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink k = { 0 };
	struct session_env env = { 0 };
	struct session s;
	uint64_t ts = 2 * TS_STEP;
	size_t i = 1;

	if (size < 1)
		return 0;
	k.canary_in_input = memmem(data, size, CANARY, strlen(CANARY)) != NULL;
	env.emit = on_txn;
	env.emit_ctx = &k;
	env.table = only_mysql;
	session_init(&s, data[0] & 8 ? PROTO_ROLE_UNKNOWN : PROTO_ROLE_CLIENT, data[0] & 4,
	             PROTO_UNKNOWN);
	if (data[0] & 3)
		login(&s, &env, (data[0] & 3) == 2);
	while (size - i >= REC_HDR) {
		uint8_t op = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		unsigned dir = dir_of(op & 1 ? PROTO_RESP : PROTO_REQ);

		i += REC_HDR;
		ts += TS_STEP;
		if (op & 2) {
			if (len > 0)
				session_gap(&s, &env, dir, len);
			continue;
		}
		if (len > size - i)
			len = size - i;
		if (op & 4)
			feed_framed(&s, &env, dir, op >> 3, data + i, len, ts);
		else
			feed(&s, &env, dir, data + i, len, ts);
		i += len;
	}
	session_close(&s, &env);
	FUZZ_CHECK(env.cnt.txns[PROTO_MYSQL] == k.emitted);
	FUZZ_CHECK(env.carry_bytes == 0);
	return 0;
}
