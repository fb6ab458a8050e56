// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_redis.c, through a real session (test/processor/
 * proto_harness.h). Every table case is also run with each data step cut
 * at every byte boundary and must give the same transactions; every
 * success case has a truncated or malformed twin right after it. Fixtures
 * are RESP2/RESP3 exchanges written from the protocol specification.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/processor/proto_harness.h"

Suite *proto_redis_suite(void);

#define MAX_STEPS 10
#define MAX_TX    8
#define NONE      INT64_MIN /* db.redis.argument_count not expected */

/* clang-format off */
#define REQ(s)        { PROTO_REQ, s, sizeof(s) - 1, 0 }
#define RESP(s)       { PROTO_RESP, s, sizeof(s) - 1, 0 }
#define GAP(side, n)  { side, NULL, n, 0 }
#define OK(op, text, n)         { TXN_OK, op, text, n, NULL, 0, 0 }
#define NORESP(op, text, n)     { TXN_NO_RESPONSE, op, text, n, NULL, 0, 0 }
#define ERR(op, text, n, code)  { TXN_ERROR, op, text, n, code, 0, 0 }
#define CUT(st, op, text, n)    { st, op, text, n, NULL, TXN_TRUNCATED, 0 }
#define OPCUT(st, op, n, code)  { st, op, op, n, code, 0, TXN_TRUNCATED }
/* clang-format on */

/* .detected: nothing detected (PROTO_UNKNOWN itself means the default) */
#define NOT_DETECTED PROTO__COUNT

struct exp {
	enum txn_status status;
	const char *op;     /* db.operation.name, NULL: absent */
	const char *text;   /* db.query.text, NULL: absent */
	int64_t nargs;      /* db.redis.argument_count */
	const char *code;   /* db.response.status_code, NULL: absent */
	uint8_t text_flags; /* beyond TXN_SENSITIVE */
	uint8_t op_flags;
};

struct rcase {
	const char *name;
	struct h_step steps[MAX_STEPS]; /* ends at the first all-zero step */
	unsigned ntx;
	struct exp tx[MAX_TX];
	uint64_t unpaired, errors, dropped;
	enum proto_id detected; /* 0: PROTO_REDIS */
};

static struct harness h; /* large: static */

static size_t nsteps(const struct rcase *c)
{
	size_t n = 0;

	while (n < MAX_STEPS && (c->steps[n].data || c->steps[n].len))
		n++;
	return n;
}

/* No attribute of any transaction may hold a credential of the fixtures. */
static void no_secret(const struct harness *x, const char *name)
{
	for (unsigned i = 0; i < x->n; i++)
		for (uint32_t a = 0; a < x->txns[i].nattrs; a++)
			ck_assert_msg(!memmem(x->txns[i].attrs[a].str, x->txns[i].attrs[a].len,
			                      "s3cret", 6),
			              "%s: txn %u attribute %s leaks a credential", name, i,
			              x->txns[i].attrs[a].key);
}

static void check_str(const struct h_txn *t, const char *key, const char *want, unsigned flags,
                      const char *name, unsigned i)
{
	const struct h_attr *a = h_attr(t, key);

	if (!want) {
		ck_assert_msg(!a, "%s: txn %u: unexpected %s=\"%s\"", name, i, key,
		              a ? a->str : "");
		return;
	}
	ck_assert_msg(a && a->type == TXN_STR, "%s: txn %u: %s missing", name, i, key);
	ck_assert_msg(a->len == strlen(want) && !memcmp(a->str, want, a->len),
	              "%s: txn %u: %s=\"%s\", want \"%s\"", name, i, key, a->str, want);
	ck_assert_msg(a->flags == flags, "%s: txn %u: %s flags %u, want %u", name, i, key, a->flags,
	              flags);
}

static void check_txn(const struct h_txn *t, const struct exp *e, const char *name, unsigned i)
{
	ck_assert_msg(t->proto == PROTO_REDIS, "%s: txn %u proto %d", name, i, t->proto);
	ck_assert_msg(t->status == e->status, "%s: txn %u status %d, want %d", name, i, t->status,
	              e->status);
	ck_assert_msg(t->end_ns >= t->start_ns, "%s: txn %u ends before it starts", name, i);
	check_str(t, "db.system.name", "redis", 0, name, i);
	check_str(t, "db.operation.name", e->op, e->op_flags, name, i);
	check_str(t, "db.query.text", e->text, TXN_SENSITIVE | e->text_flags, name, i);
	check_str(t, "db.response.status_code", e->code, 0, name, i);
	if (e->nargs != NONE)
		ck_assert_msg(h_int(t, "db.redis.argument_count") == e->nargs,
		              "%s: txn %u: argument_count %lld, want %lld", name, i,
		              (long long)h_int(t, "db.redis.argument_count"), (long long)e->nargs);
}

static void run_case(const struct rcase *c, bool splits)
{
	size_t n = nsteps(c);
	char why[1024];

	if (splits) {
		if (harness_check_splits(&h, PROTO_REDIS, PROTO_ROLE_CLIENT, c->steps, n, why,
		                         sizeof(why)) < 0)
			ck_abort_msg("%s: %s", c->name, why);
	} else {
		harness_init(&h);
		harness_run(&h, PROTO_REDIS, PROTO_ROLE_CLIENT, c->steps, n, 0, 0);
	}
	ck_assert_msg(h.detected == (c->detected == NOT_DETECTED ? PROTO_UNKNOWN
	                             : c->detected               ? c->detected
	                                                         : PROTO_REDIS),
	              "%s: detected %d", c->name, h.detected);
	ck_assert_msg(h.n == c->ntx, "%s: %u transactions, want %u", c->name, h.n, c->ntx);
	for (unsigned i = 0; i < c->ntx; i++)
		check_txn(&h.txns[i], &c->tx[i], c->name, i);
	ck_assert_msg(h.env.cnt.unpaired[PROTO_REDIS] == c->unpaired, "%s: unpaired %llu", c->name,
	              (unsigned long long)h.env.cnt.unpaired[PROTO_REDIS]);
	ck_assert_msg(h.env.cnt.parse_errors[PROTO_REDIS] == c->errors, "%s: parse errors %llu",
	              c->name, (unsigned long long)h.env.cnt.parse_errors[PROTO_REDIS]);
	ck_assert_msg(h.env.cnt.pending_dropped[PROTO_REDIS] == c->dropped, "%s: dropped %llu",
	              c->name, (unsigned long long)h.env.cnt.pending_dropped[PROTO_REDIS]);
	no_secret(&h, c->name);
}

/* ---- conversations ------------------------------------------------------ */

static const struct rcase cases[] = {
	{ .name = "ping",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("+PONG\r\n") },
	  .ntx = 1,
	  .tx = { OK("PING", "PING", 0) } },
	{ .name = "ping, reply without CR",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("+PONG\n") },
	  .ntx = 1,
	  .tx = { NORESP("PING", "PING", 0) },
	  .errors = 1 },

	{ .name = "set and get pipelined",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
	                 "*2\r\n$3\r\nget\r\n$3\r\nkey\r\n"),
	             RESP("+OK\r\n$5\r\nvalue\r\n") },
	  .ntx = 2,
	  .tx = { OK("SET", "SET key", 2), OK("GET", "GET key", 1) } },
	{ .name = "set and get, reply cut in the bulk header",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
	                 "*2\r\n$3\r\nget\r\n$3\r\nkey\r\n"),
	             RESP("+OK\r\n$5\r") },
	  .ntx = 2,
	  .tx = { OK("SET", "SET key", 2), NORESP("GET", "GET key", 1) } },

	{ .name = "inline commands",
	  .steps = { REQ("PING\r\n"), RESP("+PONG\r\n"), REQ("set  Foo\tbar\n\r\n"),
	             RESP("+OK\r\n") },
	  .ntx = 2,
	  .tx = { OK("PING", "PING", 0), OK("SET", "SET Foo", 2) } },
	{ .name = "inline command with a control byte",
	  .steps = { REQ("PING\r\n"), RESP("+PONG\r\n"), REQ("set Foo\x01 bar\r\n") },
	  .ntx = 1,
	  .tx = { OK("PING", "PING", 0) },
	  .errors = 1 },

	{ .name = "error reply",
	  .steps = { REQ("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"),
	             RESP("-WRONGTYPE Operation against a key holding the wrong kind of "
	                  "value\r\n") },
	  .ntx = 1,
	  .tx = { ERR("INCR", "INCR k", 1, "WRONGTYPE") } },
	{ .name = "error reply truncated",
	  .steps = { REQ("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"), RESP("-WRONGTYPE Operation") },
	  .ntx = 1,
	  .tx = { NORESP("INCR", "INCR k", 1) } },

	{ .name = "error reply longer than the line kept",
	  .steps = { REQ("*1\r\n$3\r\nFOO\r\n"),
	             RESP("-ERR unknown command 'FOO', with args beginning with: "
	                  "'aaaaaaaaaaaaaaaaaaaaaaaaaa"
	                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\r\n+PONG\r\n"),
	             REQ("*1\r\n$4\r\nPING\r\n") },
	  .ntx = 2,
	  .tx = { ERR("FOO", "FOO", 0, "ERR"), NORESP("PING", "PING", 0) },
	  .unpaired = 1 },
	{ .name = "error reply without a code word",
	  .steps = { REQ("*1\r\n$3\r\nFOO\r\n"), RESP("-unknown\r\n") },
	  .ntx = 1,
	  .tx = { ERR("FOO", "FOO", 0, NULL) } },

	{ .name = "hello 3, map reply, bulk error",
	  .steps = { REQ("*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$"
	                 "6\r\ns3cret\r\n"
	                 "$7\r\nSETNAME\r\n$3\r\napp\r\n"),
	             RESP("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n"
	                  "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$"
	                  "10\r\nstandalone\r\n"
	                  "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"),
	             REQ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
	             RESP("!21\r\nSYNTAX invalid syntax\r\n"),
	             REQ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), RESP("_\r\n") },
	  .ntx = 3,
	  .tx = { OK("HELLO", "HELLO", 6), ERR("GET", "GET k", 1, "SYNTAX"),
	          OK("GET", "GET k", 1) } },
	{ .name = "hello 3, map reply one element short",
	  .steps = { REQ("*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$"
	                 "6\r\ns3cret\r\n"
	                 "$7\r\nSETNAME\r\n$3\r\napp\r\n"),
	             RESP("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n"
	                  "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$"
	                  "10\r\nstandalone\r\n"
	                  "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n") },
	  .ntx = 1,
	  .tx = { OK("HELLO", "HELLO", 6) } },

	{ .name = "credentials are never exported",
	  .steps = { REQ("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n"
	                 "*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n"
	                 "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$10\r\nmasterauth\r\n$6\r\ns3cret\r\n"
	                 "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n"
	                 "*5\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$5\r\nalice\r\n$2\r\non\r\n$7\r\n>"
	                 "s3cret\r\n"
	                 "*9\r\n$7\r\nMIGRATE\r\n$6\r\ns3cret\r\n$4\r\n6379\r\n$1\r\nk\r\n$"
	                 "1\r\n0\r\n"
	                 "$4\r\n5000\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n$4\r\nCOPY\r\n"),
	             RESP("+OK\r\n+OK\r\n+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n+OK\r\n+"
	                  "NOKEY\r\n") },
	  .ntx = 6,
	  .tx = { OK("AUTH", "AUTH", 1), OK("CONFIG SET", "CONFIG SET", 2),
	          OK("CONFIG SET", "CONFIG SET", 2), OK("CONFIG GET", "CONFIG GET maxmemory", 1),
	          OK("ACL SETUSER", "ACL SETUSER", 3), OK("MIGRATE", "MIGRATE", 8) } },
	{ .name = "auth, password cut by the end of the capture",
	  .steps = { REQ("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cr") },
	  .ntx = 1,
	  .tx = { NORESP("AUTH", "AUTH", 1) } },

	{ .name = "container commands",
	  .steps = { REQ("*3\r\n$6\r\nCLIENT\r\n$7\r\nsetname\r\n$3\r\napp\r\n"
	                 "*2\r\n$6\r\nclient\r\n$8\r\nno-evict\r\n*1\r\n$6\r\nCLIENT\r\n"),
	             RESP("+OK\r\n+OK\r\n-ERR wrong number of arguments for 'client' "
	                  "command\r\n") },
	  .ntx = 3,
	  .tx = { OK("CLIENT SETNAME", "CLIENT SETNAME app", 1),
	          OK("CLIENT NO-EVICT", "CLIENT NO-EVICT", 0),
	          ERR("CLIENT", "CLIENT", 0, "ERR") } },
	{ .name = "container command, array shorter than declared",
	  .steps = { REQ("*3\r\n$6\r\nCLIENT\r\n$7\r\nsetname\r\n") },
	  .ntx = 1,
	  .tx = { NORESP("CLIENT SETNAME", "CLIENT SETNAME", 1) } },

	{ .name = "odd names and long keys",
	  .steps = { REQ("*2\r\n$40\r\nabcdefghijklmnopqrstuvwxyz0123456789$%^&\r\n$1\r\nk\r\n"
	                 "*2\r\n$3\r\nGET\r\n$130\r\n"
	                 "0123456789012345678901234567890123456789012345678901234567890123456789"
	                 "012345678901234567890123456789012345678901234567890123456789\r\n"),
	             RESP("-ERR unknown command\r\n$-1\r\n") },
	  .ntx = 2,
	  .tx = { { TXN_ERROR, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
	            "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 k", 1, "ERR", 0, TXN_TRUNCATED },
	          CUT(TXN_OK, "GET",
	              "GET 012345678901234567890123456789012345678901234567890123456789"
	              "0123456789012345678901234567890123456789012345678901234567890123",
	              1) } },
	{ .name = "odd names, bulk without its CRLF",
	  .steps = { REQ("*2\r\n$3\r\nGET\r\n$1\r\nkXY\r\n") },
	  .ntx = 1,
	  .tx = { NORESP("GET", "GET", 1) },
	  .errors = 1 },

	{ .name = "nested replies",
	  .steps = { REQ("*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n"),
	             RESP("*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n*-1\r\n*2\r\n*0\r\n:7\r\n+PONG\r\n") },
	  .ntx = 2,
	  .tx = { OK("SCAN", "SCAN 0", 1), OK("PING", "PING", 0) } },
	{ .name = "nested replies, bad count",
	  .steps = { REQ("*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n"),
	             RESP("*2\r\n$1\r\n0\r\n*3x\r\n") },
	  /* a desync ends the reply: what was seen of it is its status */
	  .ntx = 2,
	  .tx = { OK("SCAN", "SCAN 0", 1), NORESP("PING", "PING", 0) },
	  .errors = 1 },

	{ .name = "resp3 attribute, push, set, double, verbatim",
	  .steps = { REQ("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n*2\r\n$3\r\nGET\r\n$1\r\nv\r\n"
	                 "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"),
	             RESP(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
	                  "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,-"
	                  "inf\r\n"
	                  "~2\r\n$1\r\na\r\n#t\r\n"
	                  "=15\r\ntxt:Some string\r\n"
	                  "(3492890328409238509324850943850943825024385\r\n") },
	  .ntx = 3,
	  .tx = { OK("KEYS", "KEYS *", 1), OK("GET", "GET v", 1), OK("INCR", "INCR n", 1) } },
	{ .name = "resp3 boolean malformed",
	  .steps = { REQ("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"), RESP("~1\r\n#x\r\n") },
	  .ntx = 1,
	  .tx = { OK("KEYS", "KEYS *", 1) },
	  .errors = 1 },

	{ .name = "multi exec",
	  .steps = { REQ("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	                 "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n"),
	             RESP("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-ERR value is not an "
	                  "integer\r\n") },
	  .ntx = 4,
	  .tx = { OK("MULTI", "MULTI", 0), OK("SET", "SET a", 2), OK("INCR", "INCR a", 1),
	          OK("EXEC", "EXEC", 0) } },
	{ .name = "multi exec, exec aborted",
	  .steps = { REQ("*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n"),
	             RESP("+OK\r\n-EXECABORT Transaction discarded because of previous "
	                  "errors.\r\n") },
	  .ntx = 2,
	  .tx = { OK("MULTI", "MULTI", 0), ERR("EXEC", "EXEC", 0, "EXECABORT") } },

	{ .name = "pub/sub in resp2",
	  .steps = { REQ("*3\r\n$9\r\nSUBSCRIBE\r\n$3\r\nch1\r\n$3\r\nch2\r\n"),
	             RESP("*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n"
	                  "*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n"
	                  "*3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n"),
	             REQ("*1\r\n$4\r\nPING\r\n"), RESP("*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
	             REQ("*1\r\n$11\r\nUNSUBSCRIBE\r\n"),
	             RESP("*3\r\n$11\r\nunsubscribe\r\n$3\r\nch1\r\n:1\r\n"
	                  "*3\r\n$11\r\nunsubscribe\r\n$3\r\nch2\r\n:0\r\n"),
	             REQ("*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"),
	             RESP("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n") },
	  .ntx = 4,
	  .tx = { OK("SUBSCRIBE", "SUBSCRIBE ch1", 2), OK("PING", "PING", 0),
	          OK("UNSUBSCRIBE", "UNSUBSCRIBE", 0), OK("LRANGE", "LRANGE l", 3) } },
	{ .name = "pub/sub in resp2, message without its last element",
	  .steps = { REQ("*2\r\n$9\r\nSUBSCRIBE\r\n$3\r\nch1\r\n"),
	             RESP("*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$"
	                  "3\r\nch1\r\n"),
	             REQ("*1\r\n$4\r\nPING\r\n") },
	  .ntx = 2,
	  .tx = { OK("SUBSCRIBE", "SUBSCRIBE ch1", 1), NORESP("PING", "PING", 0) } },

	{ .name = "unpaired reply",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("+PONG\r\n+PONG\r\n:1\r\n") },
	  .ntx = 1,
	  .tx = { OK("PING", "PING", 0) },
	  .unpaired = 2 },
	{ .name = "unpaired reply, then garbage",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("+PONG\r\n+PONG\r\n?\r\n") },
	  .ntx = 1,
	  .tx = { OK("PING", "PING", 0) },
	  .unpaired = 1,
	  .errors = 1 },

	{ .name = "close with pending commands",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$"
	                 "1\r\nb\r\n") },
	  .ntx = 3,
	  .tx = { NORESP("PING", "PING", 0), NORESP("GET", "GET a", 1),
	          NORESP("SET", "SET b", 2) } },
	{ .name = "close with pending commands, the last one cut before its name",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGE") },
	  .ntx = 2,
	  .tx = { NORESP("PING", "PING", 0), NORESP(NULL, NULL, 1) } },

	{ .name = "huge declared value: skipped, not read",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc"), RESP("+OK\r\n") },
	  .ntx = 1,
	  .tx = { OK("SET", "SET k", 2) } },
	{ .name = "declared value over 512 MiB",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\nabc"), RESP("+OK\r\n") },
	  /* the command was sent: it is queued as far as it was read, and answered */
	  .ntx = 1,
	  .tx = { OK("SET", "SET k", 2) },
	  .errors = 1 },
	{ .name = "huge declared reply array: nothing pairs after it",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"),
	             RESP("*2147483647\r\n+PONG\r\n+PONG\r\n") },
	  .ntx = 2,
	  .tx = { OK("PING", "PING", 0), NORESP("PING", "PING", 0) } },
	{ .name = "declared array over the count limit",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("*2147483648\r\n") },
	  .ntx = 1,
	  .tx = { NORESP("PING", "PING", 0) },
	  .errors = 1 },
	{ .name = "count with too many digits",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n*0000000000000000001\r\n") },
	  .ntx = 1,
	  .tx = { NORESP("PING", "PING", 0) },
	  .errors = 1 },

	{ .name = "value cut by the capture: the skip covers the gap",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$100\r\n0123456789"), GAP(PROTO_REQ, 92),
	             REQ("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"), RESP("+OK\r\n$-1\r\n") },
	  .ntx = 2,
	  .tx = { OK("SET", "SET key", 2), OK("GET", "GET key", 1) } },
	{ .name = "value cut by the capture, gap one byte too long",
	  .steps = { REQ("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$100\r\n0123456789"), GAP(PROTO_REQ, 93),
	             REQ("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"), RESP("+OK\r\n$-1\r\n") },
	  .ntx = 2,
	  .tx = { OK("SET", "SET key", 2), OK("GET", "GET key", 1) } },

	{ .name = "key cut by a gap: salvaged",
	  .steps = { REQ("*2\r\n$3\r\nGET\r\n$200\r\n0123456789"), GAP(PROTO_REQ, 192),
	             REQ("*1\r\n$4\r\nPING\r\n"), RESP("$1\r\nx\r\n+PONG\r\n") },
	  .ntx = 2,
	  .tx = { CUT(TXN_OK, "GET", "GET 0123456789", 1), OK("PING", "PING", 0) } },
	{ .name = "reply cut by a gap in its bulk body",
	  .steps = { REQ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"),
	             RESP("$10\r\n01234"), GAP(PROTO_RESP, 7), RESP("+PONG\r\n") },
	  .ntx = 2,
	  .tx = { OK("GET", "GET k", 1), OK("PING", "PING", 0) } },

	{ .name = "gap that forces a resync",
	  .steps = { REQ("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"), REQ("*2\r\n$3\r\nGE"),
	             GAP(PROTO_REQ, 12), REQ("3\r\n$1\r\nb\r\n"), REQ("*1\r\n$4\r\nPING\r\n"),
	             RESP("$1\r\nx\r\n$-1\r\n+PONG\r\n") },
	  .ntx = 3,
	  .tx = { OK("GET", "GET a", 1), OPCUT(TXN_OK, "GE", 1, NULL), OK("PING", "PING", 0) } },
	{ .name = "gap in a reply header, resync at the next reply",
	  .steps = { REQ("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"), RESP("*2\r\n$1\r\nx\r\n$"),
	             GAP(PROTO_RESP, 20), RESP("1\r\ny\r\n"), REQ("*1\r\n$4\r\nPING\r\n"),
	             RESP("+PONG\r\n") },
	  .ntx = 2,
	  .tx = { OK("GET", "GET a", 1), OK("PING", "PING", 0) } },

	{ .name = "garbage is not redis",
	  .steps = { REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), RESP("+OK\r\n") },
	  .ntx = 0,
	  .tx = { { 0 } },
	  .detected = NOT_DETECTED },
	{ .name = "garbage after a command",
	  .steps = { REQ("*1\r\n$4\r\nPING\r\n"), REQ("*\xff\r\n") },
	  .ntx = 1,
	  .tx = { NORESP("PING", "PING", 0) },
	  .errors = 1 },
};

START_TEST(test_conversations)
{
	run_case(&cases[_i], true);
}
END_TEST

/* ---- larger conversations, unsplit ------------------------------------ */

#define PIPELINE    200
#define PING        "*1\r\n$4\r\nPING\r\n"
#define PONG        "+PONG\r\n"
#define PENDING_MAX 128 /* REDIS_PENDING_MAX */

START_TEST(test_pipeline_full)
{
	static char req[PIPELINE * (sizeof(PING) - 1) + 1], resp[PIPELINE * (sizeof(PONG) - 1) + 1];
	struct h_step steps[3] = {
		{ PROTO_REQ, req, 0, 0 },
		{ PROTO_RESP, resp, 0, 0 },
		{ PROTO_REQ, PING, 14, 0 },
	};

	for (int i = 0; i < PIPELINE; i++) {
		strcat(req, PING);
		strcat(resp, PONG);
	}
	steps[0].len = strlen(req);
	steps[1].len = strlen(resp);
	harness_init(&h);
	harness_run(&h, PROTO_REDIS, PROTO_ROLE_CLIENT, steps, 3, 0, 0);
	/* the replies of dropped commands are recognised, not paired with later ones */
	ck_assert_uint_eq(h.n + h.overflow, PENDING_MAX + 1);
	ck_assert_uint_eq(h.env.cnt.pending_dropped[PROTO_REDIS], PIPELINE - PENDING_MAX);
	ck_assert_uint_eq(h.env.cnt.unpaired[PROTO_REDIS], 0);
	ck_assert_uint_eq(h.env.cnt.no_response[PROTO_REDIS], 1);
	ck_assert_uint_eq(h.env.cnt.txns[PROTO_REDIS], PENDING_MAX + 1);
}
END_TEST

START_TEST(test_deep_nesting)
{
	static char resp[40000];
	const struct h_step steps[] = {
		{ PROTO_REQ, PING PING, 28, 0 },
		{ PROTO_RESP, resp, 0, 0 },
	};
	struct h_step s[2];
	int n = 0;

	for (int i = 0; i < 4000; i++)
		n += snprintf(resp + n, sizeof(resp) - (size_t)n,
		              i % 2 ? "%%1\r\n:1\r\n" : "*1\r\n");
	n += snprintf(resp + n, sizeof(resp) - (size_t)n, ":1\r\n+PONG\r\n");
	memcpy(s, steps, sizeof(s));
	s[1].len = (size_t)n;
	harness_init(&h);
	harness_run(&h, PROTO_REDIS, PROTO_ROLE_CLIENT, s, 2, 0, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h.txns[1].status, TXN_OK);
	ck_assert_uint_eq(h.env.cnt.parse_errors[PROTO_REDIS], 0);
}
END_TEST

/* A server's view: requests arrive on ingress, role given. */
START_TEST(test_server_role)
{
	const struct h_step steps[] = { REQ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
		                        RESP("$1\r\nv\r\n") };
	char why[512];

	ck_assert_msg(harness_check_splits(&h, PROTO_REDIS, PROTO_ROLE_SERVER, steps, 2, why,
	                                   sizeof(why)) == 0,
	              "%s", why);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_str_eq(h_str(&h.txns[0], "db.query.text"), "GET k");
}
END_TEST

/* Role unknown: detection finds that egress carries requests. */
START_TEST(test_role_inferred)
{
	const struct h_step steps[] = { REQ("*1\r\n$4\r\nPING\r\n"), RESP("+PONG\r\n") };

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_UNKNOWN, steps, 2, 0, 0);
	ck_assert_int_eq(h.detected, PROTO_REDIS);
	ck_assert_int_eq(h.role, PROTO_ROLE_CLIENT);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
}
END_TEST

/* ---- detection ---------------------------------------------------------- */

struct dcase {
	enum proto_side side;
	unsigned flags;
	const char *p;
	size_t len;
	enum proto_match want;
};

/* clang-format off */
#define D(side, flags, s, want) { side, flags, s, sizeof(s) - 1, want }
/* clang-format on */
#define MID PROTO_MIDSTREAM
#define CS  PROTO_CONN_START

static const struct dcase dcases[] = {
	D(PROTO_REQ, CS, "*1\r\n$4\r\nPING\r\n", PROTO_YES),
	D(PROTO_REQ, MID, "*3\r\n$3\r\nSET\r\n", PROTO_YES),
	D(PROTO_REQ, CS, "*12", PROTO_MAYBE),
	D(PROTO_REQ, CS, "*1\r", PROTO_MAYBE),
	D(PROTO_REQ, CS, "*1\r\n", PROTO_MAYBE),
	D(PROTO_REQ, CS, "PING\r\n", PROTO_YES),
	D(PROTO_REQ, CS, "ping\n", PROTO_YES),
	D(PROTO_REQ, CS, "hello 3\r\n", PROTO_YES),
	D(PROTO_REQ, CS, "PIN", PROTO_MAYBE),
	D(PROTO_REQ, CS, "PING", PROTO_MAYBE),
	D(PROTO_REQ, CS, "*0\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "*1\r\n:1\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "PINGS\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "POST /x HTTP/1.1\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "DELETE /x HTTP/1.1\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x08\x04\xd2\x16\x2f", PROTO_NO), /* PG SSLRequest */
	D(PROTO_REQ, CS, "\x00\x00\x00\x29\x00\x03\x00\x00user\0postgres\0", PROTO_NO),
	D(PROTO_REQ, CS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", PROTO_NO), /* TLS */
	D(PROTO_REQ, CS,
	  "\x4a\x00\x00\x00\x0a"
	  "8.0.36\0",
	  PROTO_NO), /* MySQL greeting */
	D(PROTO_REQ, CS, "\x00\x00\x00\x17\x00\x12\x00\x03\x00\x00\x00\x01\x00\x07rdkafka",
	  PROTO_NO),                            /* Kafka ApiVersions */
	D(PROTO_RESP, CS, "+OK\r\n", PROTO_NO), /* the client speaks first */
	D(PROTO_RESP, MID, "+OK\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "-ERR x\r\n", PROTO_YES),
	D(PROTO_RESP, MID, ":-12\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "$5\r\nhello\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "$-1\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "*2\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "%1\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "_\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "#t\r\n", PROTO_YES),
	D(PROTO_RESP, MID, ",1.5e3\r\n", PROTO_YES),
	D(PROTO_RESP, MID, "+OK", PROTO_MAYBE),
	D(PROTO_RESP, MID, "-err\r\n", PROTO_NO),
	D(PROTO_RESP, MID, ":x\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "%-1\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "#tt\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "$\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "+OK\rX", PROTO_NO),
	D(PROTO_RESP, MID, "HTTP/1.1 200 OK\r\n", PROTO_NO),
	D(PROTO_RESP, MID,
	  "\x4a\x00\x00\x00\x0a"
	  "8.0.36\0",
	  PROTO_NO),
	D(PROTO_RESP, MID, "+\x00\x00\x01", PROTO_NO),             /* a MySQL packet of 43 bytes */
	D(PROTO_RESP, MID, "T\x00\x00\x00\x1b\x00\x01", PROTO_NO), /* PG RowDescription */
};

START_TEST(test_detect)
{
	const struct dcase *d = &dcases[_i];
	enum proto_match m = proto_redis.detect(d->side, (const uint8_t *)d->p, d->len, d->flags);

	ck_assert_msg(m == d->want, "case %d (\"%.*s\"): %d, want %d", _i, (int)d->len, d->p, m,
	              d->want);
}
END_TEST

Suite *proto_redis_suite(void)
{
	Suite *s = suite_create("proto_redis");
	TCase *tc = tcase_create("redis");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_conversations, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_pipeline_full);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_server_role);
	tcase_add_test(tc, test_role_inferred);
	tcase_add_loop_test(tc, test_detect, 0, (int)(sizeof(dcases) / sizeof(dcases[0])));
	suite_add_tcase(s, tc);
	return s;
}
