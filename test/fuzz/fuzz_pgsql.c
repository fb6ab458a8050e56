// SPDX-License-Identifier: Apache-2.0
/*
 * The PostgreSQL parser (processor/proto_pgsql.c) behind a real session,
 * fed a conversation taken from the input. Input layout:
 *
 *   0  u8 flags   bit 0: start with a canned login (StartupMessage, MD5
 *                 authentication with a password holding CANARY, welcome),
 *                 so detection passes at once; bit 1: the session starts
 *                 midstream; bit 2: the role is unknown (else client)
 *   then records until the input ends:
 *      u8 op      bit 0: response side (else request); bit 1: a gap
 *      u16 len    little-endian: the gap's length, or the data's (cut to
 *                 what is left of the input)
 *      data       len bytes, handed over as an exactly-sized heap copy
 *
 * Every run also goes through detect() on both sides with both flags. The
 * sink checks every transaction: known attribute keys only, values within
 * the parser's limits and readable to their last byte, SQL text and user
 * name sensitive, no password anywhere, sane status and timestamps.
 */
#include <stdbool.h>

#include "processor/proto.h"
#include "processor/session.h"
#include "test/fuzz/fuzz_session.h"

#define REC_HDR     3
#define TEXT_MAX    1024 /* PG_TEXT_MAX */
#define IDENT_MAX   64   /* PG_IDENT_MAX */
#define OP_MAX      16   /* PG_OP_MAX */
#define STATE_LEN   5
#define TS_STEP     1000
#define CANARY      "PW-CANARY-9f3k"
#define DIR_EGRESS  0
#define DIR_INGRESS 1

static const uint8_t login_req[] = "\0\0\0\x22\0\x03\0\0user\0alice\0database\0shop\0\0";
static const uint8_t login_auth[] = "R\0\0\0\x0c\0\0\0\x05\x8f\x12\x4a\x01";
static const uint8_t login_pw[] = "p\0\0\0\x13" CANARY "\0";
static const uint8_t login_ok[] = "R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I";

static const struct proto_parser *const only_pgsql[] = { &proto_pgsql, NULL };

struct sink {
	bool canary_in_input; /* then the canary may legitimately show up */
	uint64_t emitted;
};

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
		FUZZ_CHECK(a->len <= IDENT_MAX);
	if (!strcmp(a->key, "db.response.status_code"))
		FUZZ_CHECK(a->len == STATE_LEN);
	if (!strcmp(a->key, "db.operation.name")) {
		FUZZ_CHECK(a->len > 0 && a->len <= OP_MAX);
		for (uint32_t i = 0; i < a->len; i++)
			FUZZ_CHECK(copy[i] >= 'A' && copy[i] <= 'Z');
	}
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	struct sink *k = io->emit_ctx;

	FUZZ_CHECK(t->proto == PROTO_PGSQL);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->status != TXN_NO_RESPONSE || t->end_ns == t->start_ns);
	FUZZ_CHECK(t->nattrs <= TXN_MAX_ATTRS && t->nattrs >= 1);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];

		FUZZ_CHECK(a->key && fuzz_sql_key(a->key));
		FUZZ_CHECK(a->type == TXN_STR || a->type == TXN_INT);
		if (a->type == TXN_STR)
			check_str_attr(k, a);
		else
			FUZZ_CHECK(a->num >= 0);
	}
	k->emitted++;
}

static void feed(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                 size_t len, uint64_t ts)
{
	fuzz_feed(&proto_pgsql, s, env, dir, p, len, ts);
}

static unsigned dir_of(enum proto_side side)
{
	return side == PROTO_REQ ? DIR_EGRESS : DIR_INGRESS; /* client, or unknown: egress */
}

static void login(struct session *s, struct session_env *env)
{
	feed(s, env, dir_of(PROTO_REQ), login_req, sizeof(login_req) - 1, TS_STEP);
	feed(s, env, dir_of(PROTO_RESP), login_auth, sizeof(login_auth) - 1, TS_STEP);
	feed(s, env, dir_of(PROTO_REQ), login_pw, sizeof(login_pw) - 1, TS_STEP);
	feed(s, env, dir_of(PROTO_RESP), login_ok, sizeof(login_ok) - 1, TS_STEP);
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
	env.table = only_pgsql;
	session_init(&s, data[0] & 4 ? PROTO_ROLE_UNKNOWN : PROTO_ROLE_CLIENT, data[0] & 2,
	             PROTO_UNKNOWN);
	if (data[0] & 1)
		login(&s, &env);
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
		feed(&s, &env, dir, data + i, len, ts);
		i += len;
	}
	session_close(&s, &env);
	FUZZ_CHECK(env.cnt.txns[PROTO_PGSQL] == k.emitted);
	FUZZ_CHECK(env.carry_bytes == 0);
	return 0;
}
