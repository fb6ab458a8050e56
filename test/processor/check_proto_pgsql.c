// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_pgsql.c (PostgreSQL protocol v3), driven through
 * a real session by test/processor/proto_harness.c: every table case also
 * runs with each data step cut at every byte boundary, and every run ends
 * at a PROT_NONE page.
 *
 * The F_* fixtures are byte-exact messages laid out from the protocol
 * chapter of the PostgreSQL documentation (lengths computed, not typed in):
 * what libpq and a PostgreSQL 16 server exchange for psql and PQexecParams.
 * Synthetic inputs (long SQL, huge lengths, many statements) are built at
 * run time by put_msg().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "processor/proto.h"
#include "test/processor/proto_harness.h"

Suite *proto_pgsql_suite(void);

#define F_STARTUP                                                                                  \
	"\000\000\000M\000\003\000\000user\000alice\000database\000shop\000application_"           \
	"name\000psql\000client_encoding\000UTF8\000\000"
#define F_AUTH_MD5 "R\000\000\000\014\000\000\000\005\217\022J\001"
#define F_PASSWORD "p\000\000\000(md5a3556571e93b0d20722ba62be61e8c2d\000"
#define F_WELCOME                                                                                  \
	"R\000\000\000\010\000\000\000\000S\000\000\000\032application_"                           \
	"name\000psql\000S\000\000\000\031client_encoding\000UTF8\000S\000\000\000\030server_"     \
	"version\00016."                                                                           \
	"2\000S\000\000\000\021TimeZone\000UTC\000K\000\000\000\014\000\000\020\222^"              \
	"\355\0224Z\000\000\000\005I"
#define F_Q_SELECT "Q\000\000\000-SELECT id, name FROM users WHERE id = 1;\000"
#define F_R_SELECT                                                                                 \
	"T\000\000\0002\000\002id\000\000\000@"                                                    \
	"\000\000\001\000\000\000\027\000\004\377\377\377\377\000\000name\000\000\000@"            \
	"\000\000\001\000\000\000\031\377\377\377\377\377\377\000\000D\000\000\000\024\000\002"    \
	"\000\000\000\0011\000\000\000\005AliceC\000\000\000\015SELECT 1\000Z\000\000\000\005I"
#define F_SSL          "\000\000\000\010\004\322\026/"
#define F_GSS          "\000\000\000\010\004\322\0260"
#define F_CANCEL       "\000\000\000\020\004\322\026.\000\000\020\222^\355\0224"
#define F_STARTUP_NODB "\000\000\000\022\000\003\000\000user\000bob\000\000"
#define F_AUTH_OK                                                                                  \
	"R\000\000\000\010\000\000\000\000S\000\000\000\030server_version\00016."                  \
	"2\000K\000\000\000\014\000\000\000\007\000\000\000\010Z\000\000\000\005I"
#define F_EXT_REQ                                                                                  \
	"P\000\000\000)\000SELECT * FROM t WHERE id = "                                            \
	"$1\000\000\001\000\000\000\027B\000\000\000\036\000\000\000\000\000\001\000\000\000\014s" \
	"3cr3t-"                                                                                   \
	"param\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000"    \
	"\000\000\004"
#define F_EXT_RESP                                                                                 \
	"1\000\000\000\0042\000\000\000\004T\000\000\000\033\000\001id\000\000\000@"               \
	"\000\000\001\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\014\000\001"    \
	"\000\000\000\00242C\000\000\000\015SELECT 1\000Z\000\000\000\005I"
#define F_PREP_REQ                                                                                 \
	"P\000\000\000's1\000INSERT INTO t VALUES "                                                \
	"($1)\000\000\001\000\000\000\027S\000\000\000\004"
#define F_PREP_RESP "1\000\000\000\004Z\000\000\000\005I"
#define F_EXEC_S1                                                                                  \
	"B\000\000\000\023\000s1\000\000\000\000\001\000\000\000\0017\000\000E\000\000\000\011"    \
	"\000\000\000\000\000S\000\000\000\004"
#define F_EXEC_S1_RESP "2\000\000\000\004C\000\000\000\017INSERT 0 1\000Z\000\000\000\005I"
#define F_CLOSE_S1     "C\000\000\000\010Ss1\000S\000\000\000\004"
#define F_CLOSE_RESP   "3\000\000\000\004Z\000\000\000\005I"
#define F_BATCH_REQ                                                                                \
	"P\000\000\000\020\000SELECT "                                                             \
	"1\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000E\000\000\000\011\000\000"  \
	"\000\000\000P\000\000\000\032\000SELECT * FROM "                                          \
	"nope\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000E\000\000\000\011\000"   \
	"\000\000\000\000S\000\000\000\004"
#define F_BATCH_RESP_2ND_FAILS                                                                     \
	"1\000\000\000\0042\000\000\000\004D\000\000\000\013\000\001\000\000\000\0011C\000\000"    \
	"\000\015SELECT 1\000E\000\000\000gSERROR\000VERROR\000C42P01\000Mrelation \"nope\" does " \
	"not "                                                                                     \
	"exist\000P15\000Fparse_relation.c\000L1392\000RparserOpenTable\000\000Z\000\000\000\005I"
#define F_BATCH_RESP_1ST_FAILS                                                                     \
	"1\000\000\000\0042\000\000\000\004E\000\000\000ASERROR\000VERROR\000C22012\000Mdivision " \
	"by zero\000Fint.c\000L841\000Rint4div\000\000Z\000\000\000\005I"
#define F_MULTI_Q "Q\000\000\0009BEGIN; INSERT INTO t VALUES (1) RETURNING id; COMMIT\000"
#define F_MULTI_R                                                                                  \
	"C\000\000\000\012BEGIN\000T\000\000\000\033\000\001id\000\000\000@"                       \
	"\000\000\001\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\013\000\001"    \
	"\000\000\000\0011C\000\000\000\017INSERT 0 "                                              \
	"1\000C\000\000\000\013COMMIT\000Z\000\000\000\005I"
#define F_ERR_Q "Q\000\000\000\027SELECT * FROM nope\000"
#define F_ERR_R                                                                                    \
	"E\000\000\000gSERROR\000VERROR\000C42P01\000Mrelation \"nope\" does not "                 \
	"exist\000P15\000Fparse_relation.c\000L1392\000RparserOpenTable\000\000Z\000\000\000\005I"
#define F_EMPTY_Q "Q\000\000\000\005\000"
#define F_EMPTY_R "I\000\000\000\004Z\000\000\000\005I"
#define F_SUSP_REQ                                                                                 \
	"P\000\000\000,\000SELECT g FROM generate_series(1,5) "                                    \
	"g\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000E\000\000\000\011\000\000"  \
	"\000\000\002S\000\000\000\004"
#define F_SUSP_RESP                                                                                \
	"1\000\000\000\0042\000\000\000\004D\000\000\000\013\000\001\000\000\000\0011D\000\000"    \
	"\000\013\000\001\000\000\000\0012s\000\000\000\004Z\000\000\000\005T"
#define F_COPY_Q    "Q\000\000\000\026COPY t FROM STDIN\000"
#define F_COPY_G    "G\000\000\000\011\000\000\001\000\000"
#define F_COPY_DATA "d\000\000\000\0061\012d\000\000\000\0062\012c\000\000\000\004"
#define F_COPY_R    "C\000\000\000\013COPY 2\000Z\000\000\000\005I"
#define F_NOTICE_R                                                                                 \
	"N\000\000\000#"                                                                           \
	"SNOTICE\000VNOTICE\000C00000\000Mhello\000\000A\000\000\000\025\000\000\000cchan\000payl" \
	"oad\000"
#define F_TWO_Q "Q\000\000\000\015SELECT 1\000Q\000\000\000\027UPDATE t SET a = 2\000"
#define F_TWO_R                                                                                    \
	"T\000\000\000!\000\001?column?\000\000\000@"                                              \
	"\000\000\001\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\013\000\001"    \
	"\000\000\000\0011C\000\000\000\015SELECT 1\000Z\000\000\000\005IC\000\000\000\015UPDATE " \
	"2\000Z\000\000\000\005I"
#define F_FATAL_AUTH                                                                               \
	"E\000\000\000KSFATAL\000VFATAL\000C28P01\000Mpassword authentication failed for user "    \
	"\"alice\"\000\000"
#define F_FUNCALL        "F\0\0\0\x0e\0\0\x04\x01\0\0\0\0\0\0" /* oid 1025, no arguments */
#define F_FUNCALL_R      "V\0\0\0\x08\xff\xff\xff\xffZ\0\0\0\x05I"
#define F_MYSQL_GREETING "J\000\000\000\0128.0.36\000\013\000\000\000abcdefgh\000"
#define F_ERR_NO_S1                                                                                \
	"E\000\000\000jSERROR\000VERROR\000C26000\000Mprepared statement \"s1\" does not "         \
	"exist\000Fprepare.c\000L451\000RFetchPreparedStatement\000\000Z\000\000\000\005I"

/* Not in any fixture's attributes, ever: password, Bind parameter, error text. */
static const char *const secrets[] = { "md5a3556571", "s3cr3t", "does not exist",
	                               "authentication failed" };

#define MAX_STEPS 16
#define MAX_EXP   4
#define WHY_LEN   512
#define NONE      INT64_MIN /* attribute absent */
#define ANY       (-1)      /* counter not checked */
#define BIG_SQL   3000      /* bytes of SQL in the truncation cases */
#define BIG_ROW   5000      /* bytes of a DataRow column */
#define SEEN      600       /* bytes of a long message seen before a gap */

#define S(side, lit)                                                                               \
	{                                                                                          \
		side, lit, sizeof(lit) - 1, 0                                                      \
	}
#define CUT(side, lit, cut)                                                                        \
	{                                                                                          \
		side, lit, sizeof(lit) - 1 - (cut), 0                                              \
	}
#define REQ(lit)  S(PROTO_REQ, lit)
#define RESP(lit) S(PROTO_RESP, lit)
#define GAP(side, n)                                                                               \
	{                                                                                          \
		side, NULL, n, 0                                                                   \
	}
#define LOGIN     REQ(F_STARTUP), RESP(F_AUTH_MD5), REQ(F_PASSWORD), RESP(F_WELCOME)
#define LOGIN_BOB REQ(F_STARTUP_NODB), RESP(F_AUTH_OK)

#define T_SENS  TXN_SENSITIVE
#define T_TRUNC (TXN_SENSITIVE | TXN_TRUNCATED)

struct exp_txn {
	enum txn_status status;
	const char *text; /* db.query.text, NULL: absent */
	uint8_t text_flags;
	const char *op;   /* db.operation.name, NULL: absent */
	const char *code; /* db.response.status_code, NULL: absent */
	int64_t rows;     /* db.response.returned_rows, NONE: absent */
};

struct pg_case {
	const char *name;
	struct h_step steps[MAX_STEPS];
	enum proto_id detected;
	const char *db, *user; /* expected on every transaction; NULL: absent */
	unsigned ntxn;
	struct exp_txn txn[MAX_EXP];
	int unpaired, parse_errors, desyncs; /* ANY: not checked */
};

#define OK_SELECT_1                                                                                \
	{                                                                                          \
		TXN_OK, "SELECT id, name FROM users WHERE id = 1;", T_SENS, "SELECT", NULL, 1      \
	}

static const struct pg_case cases[] = {
	/* psql: MD5 login, one query */
	{ "simple select",
	  { LOGIN, REQ(F_Q_SELECT), RESP(F_R_SELECT) },
	  PROTO_PGSQL,
	  "shop",
	  "alice",
	  1,
	  { OK_SELECT_1 },
	  0,
	  0,
	  0 },
	{ "simple select, response cut before CommandComplete",
	  { LOGIN, REQ(F_Q_SELECT), CUT(PROTO_RESP, F_R_SELECT, 20) },
	  PROTO_PGSQL,
	  "shop",
	  "alice",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT id, name FROM users WHERE id = 1;", T_SENS, "SELECT", NULL,
	      1 } },
	  0,
	  0,
	  0 },
	{ "simple select, response cut before ReadyForQuery",
	  { LOGIN, REQ(F_Q_SELECT), CUT(PROTO_RESP, F_R_SELECT, 6) },
	  PROTO_PGSQL,
	  "shop",
	  "alice",
	  1,
	  { OK_SELECT_1 },
	  0,
	  0,
	  0 },
	{ "simple select, query cut",
	  { LOGIN, CUT(PROTO_REQ, F_Q_SELECT, 1) },
	  PROTO_PGSQL,
	  "shop",
	  "alice",
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	/* no database parameter: the server uses the user's name */
	{ "default database",
	  { LOGIN_BOB, REQ(F_EMPTY_Q), RESP(F_EMPTY_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, NULL, 0, NULL, NULL, NONE } },
	  0,
	  0,
	  0 },
	{ "startup with protocol 2.0",
	  { REQ("\0\0\0\x12\0\x02\0\0user\0bob\0\0") },
	  PROTO_UNKNOWN,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "SSLRequest refused",
	  { REQ(F_SSL), RESP("N"), LOGIN_BOB, REQ(F_ERR_Q), RESP(F_ERR_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", "42P01", NONE } },
	  0,
	  0,
	  0 },
	{ "SSLRequest accepted: TLS",
	  { REQ(F_SSL), RESP("S"), REQ("\x16\x03\x01\x00\x05\x01") },
	  PROTO_TLS,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "GSSENCRequest accepted: opaque",
	  { REQ(F_GSS), RESP("G"), REQ("\x60\x82\x01\x00") },
	  PROTO_NONE,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "SSLRequest with a bad length",
	  { REQ("\0\0\0\x09\x04\xd2\x16\x2f\0") },
	  PROTO_UNKNOWN,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "CancelRequest", { REQ(F_CANCEL) }, PROTO_PGSQL, NULL, NULL, 0, { { 0 } }, 0, 0, 0 },
	{ "CancelRequest cut",
	  { CUT(PROTO_REQ, F_CANCEL, 1) },
	  PROTO_PGSQL,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "authentication fails",
	  { REQ(F_STARTUP), RESP(F_FATAL_AUTH) },
	  PROTO_PGSQL,
	  "shop",
	  "alice",
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	/* PQexecParams: unnamed statement and portal; the parameter never shows */
	{ "extended query",
	  { LOGIN_BOB, REQ(F_EXT_REQ), RESP(F_EXT_RESP) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, "SELECT * FROM t WHERE id = $1", T_SENS, "SELECT", NULL, 1 } },
	  0,
	  0,
	  0 },
	{ "extended query, response cut before CommandComplete",
	  { LOGIN_BOB, REQ(F_EXT_REQ), CUT(PROTO_RESP, F_EXT_RESP, 20) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT * FROM t WHERE id = $1", T_SENS, "SELECT", NULL, 1 } },
	  0,
	  0,
	  0 },
	{ "named statement, executed, closed, executed",
	  { LOGIN_BOB, REQ(F_PREP_REQ), RESP(F_PREP_RESP), REQ(F_EXEC_S1), RESP(F_EXEC_S1_RESP),
	    REQ(F_CLOSE_S1), RESP(F_CLOSE_RESP), REQ(F_EXEC_S1), RESP(F_ERR_NO_S1) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_OK, "INSERT INTO t VALUES ($1)", T_SENS, "INSERT", NULL, NONE },
	    { TXN_ERROR, NULL, 0, NULL, "26000", NONE } },
	  0,
	  0,
	  0 },
	{ "named statement, Execute's CommandComplete corrupt",
	  { LOGIN_BOB, REQ(F_PREP_REQ), RESP(F_PREP_RESP), REQ(F_EXEC_S1),
	    RESP("2\0\0\0\x04"
	         "C\x7f\0\0\x0fINSERT 0 1\0Z\0\0\0\x05I") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "INSERT INTO t VALUES ($1)", T_SENS, "INSERT", NULL, NONE } },
	  0,
	  1,
	  1 },
	/* pipelined batches: ErrorResponse, then the backend skips to the Sync */
	{ "batch, second Execute fails",
	  { LOGIN_BOB, REQ(F_BATCH_REQ), RESP(F_BATCH_RESP_2ND_FAILS) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_OK, "SELECT 1", T_SENS, "SELECT", NULL, 1 },
	    { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", "42P01", NONE } },
	  0,
	  0,
	  0 },
	{ "batch, first Execute fails: the second is skipped",
	  { LOGIN_BOB, REQ(F_BATCH_REQ), RESP(F_BATCH_RESP_1ST_FAILS) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_ERROR, "SELECT 1", T_SENS, "SELECT", "22012", NONE },
	    { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", NULL, NONE } },
	  0,
	  0,
	  0 },
	{ "batch, first Execute fails, ReadyForQuery lost",
	  { LOGIN_BOB, REQ(F_BATCH_REQ), CUT(PROTO_RESP, F_BATCH_RESP_1ST_FAILS, 6) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_ERROR, "SELECT 1", T_SENS, "SELECT", "22012", NONE },
	    { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", NULL, NONE } },
	  0,
	  0,
	  0 },
	/* a multi-statement Query is one transaction: the last tag, the rows seen */
	{ "multi-statement query",
	  { LOGIN_BOB, REQ(F_MULTI_Q), RESP(F_MULTI_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, "BEGIN; INSERT INTO t VALUES (1) RETURNING id; COMMIT", T_SENS, "BEGIN", NULL,
	      1 } },
	  0,
	  0,
	  0 },
	{ "multi-statement query, ReadyForQuery lost",
	  { LOGIN_BOB, REQ(F_MULTI_Q), CUT(PROTO_RESP, F_MULTI_R, 6) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, "BEGIN; INSERT INTO t VALUES (1) RETURNING id; COMMIT", T_SENS, "BEGIN", NULL,
	      1 } },
	  0,
	  0,
	  0 },
	{ "empty query, EmptyQueryResponse with length 5",
	  { LOGIN_BOB, REQ(F_EMPTY_Q), RESP("I\0\0\0\x05Z\0\0\0\x05I") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, NULL, 0, NULL, NULL, NONE } },
	  0,
	  1,
	  1 },
	{ "portal suspended, cut before PortalSuspended",
	  { LOGIN_BOB, REQ(F_SUSP_REQ), CUT(PROTO_RESP, F_SUSP_RESP, 11) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT g FROM generate_series(1,5) g", T_SENS, "SELECT", NULL,
	      2 } },
	  0,
	  0,
	  0 },
	{ "notice with a bad length",
	  { LOGIN_BOB, REQ(F_Q_SELECT), RESP("N\0\0\0\x02"), RESP(F_R_SELECT) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT id, name FROM users WHERE id = 1;", T_SENS, "SELECT", NULL,
	      NONE } },
	  ANY,
	  1,
	  1 },
	/* FunctionCall: answered by FunctionCallResponse and ReadyForQuery, no transaction */
	{ "FunctionCall",
	  { LOGIN_BOB, REQ(F_FUNCALL), RESP(F_FUNCALL_R), REQ(F_ERR_Q), RESP(F_ERR_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", "42P01", NONE } },
	  0,
	  0,
	  0 },
	{ "FunctionCall, its ReadyForQuery lost",
	  { LOGIN_BOB, REQ(F_FUNCALL), CUT(PROTO_RESP, F_FUNCALL_R, 6) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "error response",
	  { LOGIN_BOB, REQ(F_ERR_Q), RESP(F_ERR_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_ERROR, "SELECT * FROM nope", T_SENS, "SELECT", "42P01", NONE } },
	  0,
	  0,
	  0 },
	{ "error response with a bad length",
	  { LOGIN_BOB, REQ(F_ERR_Q), RESP("E\x80\0\0\x10SERROR\0C42P01\0\0") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT * FROM nope", T_SENS, "SELECT", NULL, NONE } },
	  0,
	  1,
	  1 },
	{ "empty query",
	  { LOGIN_BOB, REQ(F_EMPTY_Q), RESP(F_EMPTY_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, NULL, 0, NULL, NULL, NONE } },
	  0,
	  0,
	  0 },
	{ "portal suspended after 2 rows",
	  { LOGIN_BOB, REQ(F_SUSP_REQ), RESP(F_SUSP_RESP) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, "SELECT g FROM generate_series(1,5) g", T_SENS, "SELECT", NULL, 2 } },
	  0,
	  0,
	  0 },
	{ "COPY FROM STDIN",
	  { LOGIN_BOB, REQ(F_COPY_Q), RESP(F_COPY_G), REQ(F_COPY_DATA), RESP(F_COPY_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_OK, "COPY t FROM STDIN", T_SENS, "COPY", NULL, NONE } },
	  0,
	  0,
	  0 },
	{ "COPY data with a bad CopyDone",
	  { LOGIN_BOB, REQ(F_COPY_Q), RESP(F_COPY_G),
	    REQ("d\0\0\0\x06"
	        "1\nc\0\0\0\x05") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "COPY t FROM STDIN", T_SENS, "COPY", NULL, NONE } },
	  0,
	  1,
	  1 },
	{ "notice and notification are no answer",
	  { LOGIN_BOB, REQ(F_Q_SELECT), RESP(F_NOTICE_R), RESP(F_R_SELECT) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { OK_SELECT_1 },
	  0,
	  0,
	  0 },
	{ "two pipelined queries in one run",
	  { LOGIN_BOB, REQ(F_TWO_Q), RESP(F_TWO_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_OK, "SELECT 1", T_SENS, "SELECT", NULL, 1 },
	    { TXN_OK, "UPDATE t SET a = 2", T_SENS, "UPDATE", NULL, NONE } },
	  0,
	  0,
	  0 },
	{ "two pipelined queries, one answer",
	  { LOGIN_BOB, REQ(F_TWO_Q), CUT(PROTO_RESP, F_TWO_R, 20) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_OK, "SELECT 1", T_SENS, "SELECT", NULL, 1 },
	    { TXN_NO_RESPONSE, "UPDATE t SET a = 2", T_SENS, "UPDATE", NULL, NONE } },
	  0,
	  0,
	  0 },
	/* answers without a question: counted once per response group */
	{ "responses without requests",
	  { LOGIN_BOB, RESP(F_COPY_R), RESP(F_EMPTY_R) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  2,
	  0,
	  0 },
	{ "queries pending at close",
	  { LOGIN_BOB, REQ(F_TWO_Q) },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  2,
	  { { TXN_NO_RESPONSE, "SELECT 1", T_SENS, "SELECT", NULL, NONE },
	    { TXN_NO_RESPONSE, "UPDATE t SET a = 2", T_SENS, "UPDATE", NULL, NONE } },
	  0,
	  0,
	  0 },
	/* garbage after detection: the side loses sync, nothing is emitted */
	{ "HTTP request on a PostgreSQL connection",
	  { LOGIN_BOB, REQ("GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  0,
	  1,
	  1 },
	{ "length below 4",
	  { LOGIN_BOB, REQ("Q\0\0\0\x03") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  0,
	  1,
	  1 },
	{ "length above 1 GiB",
	  { LOGIN_BOB, REQ("Q\x40\0\0\x01SELECT") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  0,
	  1,
	  1 },
	/* 1 GiB declared, a few bytes there: nothing allocated, nothing salvaged at close */
	{ "1 GiB query, incomplete",
	  { LOGIN_BOB, REQ("Q\x40\0\0\0SELECT") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "1 GiB DataRow skipped",
	  { LOGIN_BOB, REQ(F_Q_SELECT), RESP("D\x40\0\0\0\0\x01") },
	  PROTO_PGSQL,
	  "bob",
	  "bob",
	  1,
	  { { TXN_NO_RESPONSE, "SELECT id, name FROM users WHERE id = 1;", T_SENS, "SELECT", NULL,
	      1 } },
	  0,
	  0,
	  0 },
	{ "startup with a huge length",
	  { REQ("\0\xff\xff\xff\0\x03\0\0user\0") },
	  PROTO_UNKNOWN,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
};

static size_t nsteps(const struct h_step *s)
{
	size_t n = 0;

	while (n < MAX_STEPS && (s[n].data || s[n].len))
		n++;
	return n;
}

static void check_str(const char *name, const struct h_txn *t, const char *key, const char *want,
                      unsigned flags)
{
	const struct h_attr *a = h_attr(t, key);

	if (!want) {
		ck_assert_msg(!a, "%s: %s present: \"%s\"", name, key, a ? a->str : "");
		return;
	}
	ck_assert_msg(a && a->type == TXN_STR, "%s: %s missing", name, key);
	ck_assert_msg(a->len == strlen(want) && !memcmp(a->str, want, a->len),
	              "%s: %s is \"%.*s\", want \"%s\"", name, key, (int)a->len, a->str, want);
	ck_assert_msg(a->flags == flags, "%s: %s flags %u, want %u", name, key, a->flags, flags);
}

/* What every transaction must satisfy, whatever the case. */
static void check_common(const char *name, const struct h_txn *t)
{
	ck_assert_int_eq(t->proto, PROTO_PGSQL);
	ck_assert_msg(t->end_ns >= t->start_ns, "%s: ends before it starts", name);
	if (t->status == TXN_NO_RESPONSE)
		ck_assert_msg(t->end_ns == t->start_ns, "%s: no response but an end", name);
	check_str(name, t, "db.system.name", "postgresql", 0);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct h_attr *a = &t->attrs[i];

		for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
			ck_assert_msg(!memmem(a->str, a->len, secrets[k], strlen(secrets[k])),
			              "%s: %s leaks \"%s\"", name, a->key, secrets[k]);
	}
}

static void check_txn(const struct pg_case *c, const struct h_txn *t, const struct exp_txn *e)
{
	ck_assert_msg(t->status == e->status, "%s: status %d, want %d", c->name, t->status,
	              e->status);
	check_common(c->name, t);
	check_str(c->name, t, "db.namespace", c->db, 0);
	check_str(c->name, t, "db.user", c->user, TXN_SENSITIVE);
	check_str(c->name, t, "db.query.text", e->text, e->text_flags);
	check_str(c->name, t, "db.operation.name", e->op, 0);
	check_str(c->name, t, "db.response.status_code", e->code, 0);
	ck_assert_msg(h_int(t, "db.response.returned_rows") == e->rows, "%s: rows %lld, want %lld",
	              c->name, (long long)h_int(t, "db.response.returned_rows"),
	              (long long)e->rows);
}

static void check_counter(const char *name, const char *what, uint64_t got, int want)
{
	if (want != ANY)
		ck_assert_msg(got == (uint64_t)want, "%s: %s %llu, want %d", name, what,
		              (unsigned long long)got, want);
}

/* Unsplit, then cut at every byte of every step: the same transactions. */
static void run_checked(struct harness *h, const char *name, const struct h_step *steps, size_t n)
{
	char why[WHY_LEN];

	ck_assert_msg(harness_check_splits(h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, n, why,
	                                   sizeof(why)) == 0,
	              "%s: %s", name, why);
	ck_assert_msg(h->overflow == 0, "%s: more than %d transactions", name, H_MAX_TXNS);
}

START_TEST(test_cases)
{
	static struct harness h;
	const struct pg_case *c = &cases[_i];

	run_checked(&h, c->name, c->steps, nsteps(c->steps));
	ck_assert_msg(h.detected == c->detected, "%s: detected %d, want %d", c->name, h.detected,
	              c->detected);
	ck_assert_msg(h.n == c->ntxn, "%s: %u transactions, want %u", c->name, h.n, c->ntxn);
	for (unsigned i = 0; i < h.n; i++)
		check_txn(c, &h.txns[i], &c->txn[i]);
	check_counter(c->name, "unpaired", h.env.cnt.unpaired[PROTO_PGSQL], c->unpaired);
	check_counter(c->name, "parse errors", h.env.cnt.parse_errors[PROTO_PGSQL],
	              c->parse_errors);
	check_counter(c->name, "desyncs", h.env.cnt.desyncs, c->desyncs);
	check_counter(c->name, "pending dropped", h.env.cnt.pending_dropped[PROTO_PGSQL], 0);
	ck_assert_uint_eq(h.env.cnt.txns[PROTO_PGSQL], h.n);
}
END_TEST

/* Timestamps: the Query's run, the run of its ReadyForQuery. */
START_TEST(test_timestamps)
{
	static struct harness h;
	const struct h_step steps[] = { LOGIN_BOB, REQ(F_Q_SELECT), RESP(F_R_SELECT),
		                        REQ(F_ERR_Q) };

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 5, 0, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_uint_eq(h.txns[0].start_ns, 3000);
	ck_assert_uint_eq(h.txns[0].end_ns, 4000);
	ck_assert_uint_eq(h.txns[1].status, TXN_NO_RESPONSE);
	ck_assert_uint_eq(h.txns[1].start_ns, 5000);
	ck_assert_uint_eq(h.txns[1].end_ns, 5000);
}
END_TEST

/* ---- synthetic inputs -------------------------------------------------- */

#define BUF_MAX (16 * 1024)

struct wbuf {
	uint8_t b[BUF_MAX];
	size_t n;
};

/* A typed message: @type, length, @body. */
static void put_msg(struct wbuf *w, char type, const void *body, size_t blen)
{
	uint32_t len = (uint32_t)blen + 4;

	ck_assert_uint_le(w->n + 5 + blen, BUF_MAX);
	w->b[w->n] = (uint8_t)type;
	w->b[w->n + 1] = (uint8_t)(len >> 24);
	w->b[w->n + 2] = (uint8_t)(len >> 16);
	w->b[w->n + 3] = (uint8_t)(len >> 8);
	w->b[w->n + 4] = (uint8_t)len;
	if (blen)
		memcpy(w->b + w->n + 5, body, blen);
	w->n += 5 + blen;
}

/* "SELECT 'xxxx...'" of @len bytes, NUL-terminated in @out. */
static void long_sql(char *out, size_t len)
{
	memset(out, 'x', len);
	memcpy(out, "SELECT '", 8);
	out[len - 1] = '\'';
	out[len] = 0;
}

static struct h_step step(enum proto_side side, const struct wbuf *w, size_t off, size_t len)
{
	return (struct h_step){ side, w->b + off, len, 0 };
}

/*
 * A Query of BIG_SQL bytes of which SEEN are captured, then a gap that also
 * swallows @extra bytes (whole messages) after it, then the next Query.
 */
static void run_cut_query(struct harness *h, uint64_t extra)
{
	static struct wbuf q, r;
	static char sql[BIG_SQL + 1];
	struct h_step steps[8] = { LOGIN_BOB };

	q.n = r.n = 0;
	long_sql(sql, BIG_SQL);
	put_msg(&q, 'Q', sql, BIG_SQL + 1);
	put_msg(&q, 'Q', "SELECT 2", 9);
	put_msg(&r, 'C', "SELECT 0", 9);
	put_msg(&r, 'Z', "I", 1);
	steps[2] = step(PROTO_REQ, &q, 0, SEEN);
	steps[3] = (struct h_step)GAP(PROTO_REQ, BIG_SQL + 6 - SEEN + extra);
	steps[4] = step(PROTO_RESP, &r, 0, r.n);
	steps[5] = step(PROTO_REQ, &q, BIG_SQL + 6, q.n - BIG_SQL - 6);
	steps[6] = step(PROTO_RESP, &r, 0, r.n);
	run_checked(h, "cut query", steps, 7);
}

/* The gap falls inside the Query the parser asked to skip: in sync, text salvaged. */
START_TEST(test_gap_salvage)
{
	static struct harness h;
	const struct h_attr *a;

	run_cut_query(&h, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	a = h_attr(&h.txns[0], "db.query.text");
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, SEEN - 5);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE | TXN_TRUNCATED);
	ck_assert_str_eq(h_str(&h.txns[0], "db.operation.name"), "SELECT");
	ck_assert_int_eq(h_int(&h.txns[0], "db.response.returned_rows"), 0);
	ck_assert_str_eq(h_str(&h.txns[1], "db.query.text"), "SELECT 2");
	ck_assert_int_eq(h.txns[1].status, TXN_OK);
	check_common("gap salvage", &h.txns[0]);
}
END_TEST

/* Twin: the gap runs past the Query: the request side resyncs at the next one. */
START_TEST(test_gap_resync_request)
{
	static struct harness h;

	run_cut_query(&h, 5); /* and a Flush */
	ck_assert_uint_eq(h.env.cnt.desyncs, 1);
	/* the salvaged Query still pairs: the response side never lost sync */
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_uint_eq(h_attr(&h.txns[0], "db.query.text")->flags, T_TRUNC);
	/* the run after the gap starts with a message: nothing dropped */
	ck_assert_uint_eq(h.env.cnt.resync_dropped_bytes, 0);
	ck_assert_str_eq(h_str(&h.txns[1], "db.query.text"), "SELECT 2");
	ck_assert_int_eq(h.txns[1].status, TXN_OK);
}
END_TEST

/*
 * A DataRow of BIG_ROW bytes, of which SEEN are captured, then a gap of the
 * rest + @extra, then @tail (the rest of the response), then a second query.
 */
static void run_cut_row(struct harness *h, uint64_t extra, bool tail_junk)
{
	static struct wbuf q, r, t, row;
	struct h_step steps[10] = { LOGIN_BOB };
	size_t n = 2;

	q.n = r.n = t.n = row.n = 0;
	put_msg(&q, 'Q', "SELECT body FROM blobs", 23);
	memcpy(row.b, "\0\x01", 2);
	row.b[2] = 0, row.b[3] = 0, row.b[4] = BIG_ROW >> 8, row.b[5] = BIG_ROW & 0xff;
	memset(row.b + 6, 'b', BIG_ROW);
	put_msg(&r, 'D', row.b, BIG_ROW + 6);
	if (tail_junk)
		memcpy(t.b, "junk", 4), t.n = 4;
	put_msg(&t, 'C', "SELECT 1", 9);
	put_msg(&t, 'Z', "I", 1);
	put_msg(&t, 'N', "SNOTICE\0Mhello\0", 16); /* no suffix of it starts a message */
	steps[n++] = step(PROTO_REQ, &q, 0, q.n);
	steps[n++] = step(PROTO_RESP, &r, 0, SEEN);
	steps[n++] = (struct h_step)GAP(PROTO_RESP, r.n - SEEN + extra);
	steps[n++] = step(PROTO_RESP, &t, 0, t.n);
	steps[n++] = (struct h_step)REQ(F_ERR_Q);
	steps[n++] = (struct h_step)RESP(F_ERR_R);
	run_checked(h, "cut row", steps, n);
}

START_TEST(test_gap_in_body)
{
	static struct harness h;

	run_cut_row(&h, 0, false);
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h_int(&h.txns[0], "db.response.returned_rows"), 1);
	ck_assert_int_eq(h.txns[1].status, TXN_ERROR);
	ck_assert_str_eq(h_str(&h.txns[1], "db.response.status_code"), "42P01");
}
END_TEST

/*
 * Twin: the gap eats the end of the response: the Query is settled, the run
 * that starts inside a lost message is dropped whole, and the response side
 * resyncs at the next run, which pairs with the next query.
 */
START_TEST(test_gap_resync_response)
{
	static struct harness h;

	run_cut_row(&h, 3, true);
	ck_assert_uint_eq(h.env.cnt.desyncs, 1);
	ck_assert_uint_eq(h.env.cnt.resync_dropped_bytes, 4 + 14 + 6 + 21);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_NO_RESPONSE);
	ck_assert_int_eq(h_int(&h.txns[0], "db.response.returned_rows"), 1);
	ck_assert_int_eq(h.txns[1].status, TXN_ERROR);
	ck_assert_str_eq(h_str(&h.txns[1], "db.response.status_code"), "42P01");
	ck_assert_uint_eq(h.env.cnt.unpaired[PROTO_PGSQL], 0);
}
END_TEST

#define PENDING_MAX 64 /* PG_PENDING_MAX */

/* More pipelined requests than the FIFO holds: the newest are dropped and counted. */
START_TEST(test_pending_full)
{
	static struct harness h;
	static struct wbuf q;
	const unsigned extra = 6;
	struct h_step steps[3] = { LOGIN_BOB };

	q.n = 0;
	for (unsigned i = 0; i < PENDING_MAX + extra; i++)
		put_msg(&q, 'Q', "SELECT 1", 9);
	steps[2] = step(PROTO_REQ, &q, 0, q.n);
	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 3, 0, 0);
	ck_assert_uint_eq(h.env.cnt.pending_dropped[PROTO_PGSQL], extra);
	ck_assert_uint_eq(h.n + h.overflow, PENDING_MAX);
	ck_assert_uint_eq(h.env.cnt.no_response[PROTO_PGSQL], PENDING_MAX);
}
END_TEST

#define STMTS 65 /* one more than the table holds */

/* Parse s0..s64: s0 is evicted; Executes of s0 and s64. */
START_TEST(test_statement_eviction)
{
	static struct harness h;
	static struct wbuf req, resp;
	struct h_step steps[6] = { LOGIN_BOB };
	static const uint8_t bind_tail[] = { 0, 0, 0, 0, 0, 0 };
	static const uint8_t exec_body[] = { 0, 0, 0, 0, 0 };

	req.n = resp.n = 0;
	for (int i = 0; i < STMTS; i++) {
		char body[64];
		int n = snprintf(body, sizeof(body), "s%d%cSELECT %d", i, 0, i);

		body[n + 1] = body[n + 2] = 0; /* zero parameter types */
		put_msg(&req, 'P', body, (size_t)n + 3);
	}
	for (int i = 0; i < STMTS; i += STMTS - 1) {
		char body[32];
		int n = snprintf(body, sizeof(body), "%cs%d", 0, i);

		memcpy(body + n + 1, bind_tail, sizeof(bind_tail));
		put_msg(&req, 'B', body, (size_t)n + 1 + sizeof(bind_tail));
		put_msg(&req, 'E', exec_body, sizeof(exec_body));
		put_msg(&resp, '2', NULL, 0);
		put_msg(&resp, 'C', "SELECT 1", 9);
	}
	put_msg(&req, 'S', NULL, 0);
	put_msg(&resp, 'Z', "I", 1);
	steps[2] = step(PROTO_REQ, &req, 0, req.n);
	steps[3] = step(PROTO_RESP, &resp, 0, resp.n);
	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 4, 0, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_ptr_null(h_attr(&h.txns[0], "db.query.text"));
	ck_assert_str_eq(h_str(&h.txns[0], "db.operation.name"), "SELECT"); /* from the tag */
	ck_assert_str_eq(h_str(&h.txns[1], "db.query.text"), "SELECT 64");
}
END_TEST

/* SQL longer than PG_TEXT_MAX, simple and extended: cut, flagged, in sync. */
START_TEST(test_long_sql)
{
	static struct harness h;
	static struct wbuf req, resp;
	static char sql[BIG_SQL + 4]; /* name NUL, SQL, NUL, int16 0 */
	struct h_step steps[4] = { LOGIN_BOB };
	const struct h_attr *a;

	req.n = resp.n = 0;
	long_sql(sql + 1, BIG_SQL); /* sql[0] = 0: the unnamed statement */
	put_msg(&req, 'Q', sql + 1, BIG_SQL + 1);
	put_msg(&req, 'P', sql, BIG_SQL + 4);
	put_msg(&req, 'B', "\0\0\0\0\0\0\0\0", 8);
	put_msg(&req, 'E', "\0\0\0\0\0", 5);
	put_msg(&req, 'S', NULL, 0);
	put_msg(&resp, 'C', "SELECT 1", 9);
	put_msg(&resp, 'Z', "I", 1);
	put_msg(&resp, '1', NULL, 0);
	put_msg(&resp, '2', NULL, 0);
	put_msg(&resp, 'C', "SELECT 1", 9);
	put_msg(&resp, 'Z', "I", 1);
	steps[2] = step(PROTO_REQ, &req, 0, req.n);
	steps[3] = step(PROTO_RESP, &resp, 0, resp.n);
	run_checked(&h, "long sql", steps, 4);
	ck_assert_uint_eq(h.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		a = h_attr(&h.txns[i], "db.query.text");
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->len, 1024);
		ck_assert_uint_eq(a->flags, T_TRUNC);
		ck_assert_int_eq(h.txns[i].status, TXN_OK);
		ck_assert_int_eq(h_int(&h.txns[i], "db.response.returned_rows"), 1);
	}
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
}
END_TEST

/* ---- detection --------------------------------------------------------- */

struct det_case {
	const char *name;
	enum proto_side side;
	unsigned flags;
	const char *p;
	size_t len;
	enum proto_match want;
};

#define D(name, side, flags, lit, want)                                                            \
	{                                                                                          \
		name, side, flags, lit, sizeof(lit) - 1, want                                      \
	}
#define MID PROTO_MIDSTREAM
#define CS  PROTO_CONN_START

static const char tls_hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03";
static const char redis_ping[] = "*1\r\n$4\r\nPING\r\n";
static const char http_get[] = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
static const char http_post[] = "POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
static const char http_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static const struct det_case det_cases[] = {
	D("startup", PROTO_REQ, CS, F_STARTUP, PROTO_YES),
	D("startup, midstream", PROTO_REQ, MID, F_STARTUP, PROTO_YES),
	D("startup, no database", PROTO_REQ, CS, F_STARTUP_NODB, PROTO_YES),
	D("startup 3.2", PROTO_REQ, CS, "\0\0\0\x12\0\x03\0\x02user\0bob\0\0", PROTO_YES),
	D("startup, 7 bytes", PROTO_REQ, CS, "\0\0\0M\0\x03\0", PROTO_MAYBE),
	D("startup, 1 byte", PROTO_REQ, CS, "\0", PROTO_MAYBE),
	D("startup, 8 bytes", PROTO_REQ, CS, "\0\0\0M\0\x03\0\0", PROTO_YES),
	D("startup 2.0", PROTO_REQ, CS, "\0\0\0\x12\0\x02\0\0user\0bob\0\0", PROTO_NO),
	D("startup, 6 bytes of 2.0", PROTO_REQ, CS, "\0\0\0M\0\x02", PROTO_NO),
	D("startup, binary key", PROTO_REQ, CS, "\0\0\0\x12\0\x03\0\0us\x01r\0bob\0\0", PROTO_NO),
	D("startup, no terminator", PROTO_REQ, CS, "\0\0\0\x12\0\x03\0\0user\0bob\0xx", PROTO_NO),
	D("startup, length 11000", PROTO_REQ, CS, "\0\0\x2a\xf8\0\x03\0\0user\0", PROTO_NO),
	D("SSLRequest", PROTO_REQ, CS, F_SSL, PROTO_YES),
	D("SSLRequest, 6 bytes", PROTO_REQ, CS, "\0\0\0\x08\x04\xd2", PROTO_MAYBE),
	D("GSSENCRequest", PROTO_REQ, CS, F_GSS, PROTO_YES),
	D("CancelRequest", PROTO_REQ, CS, F_CANCEL, PROTO_YES),
	D("CancelRequest, length 12", PROTO_REQ, CS, "\0\0\0\x0c\x04\xd2\x16\x2e\0\0\0\x01",
	  PROTO_NO),
	D("Query at connection start", PROTO_REQ, CS, F_Q_SELECT, PROTO_NO),
	D("Query", PROTO_REQ, MID, F_Q_SELECT, PROTO_YES),
	D("Query, 3 bytes", PROTO_REQ, MID, "Q\0\0", PROTO_MAYBE),
	D("Sync, 3 bytes", PROTO_REQ, MID, "S\0\0", PROTO_MAYBE),
	D("Sync, 4 bytes, too long", PROTO_REQ, MID, "S\0\0\x01", PROTO_NO),
	D("ReadyForQuery, 2 bytes, too long", PROTO_RESP, MID, "Z\x01", PROTO_NO),
	D("two Queries", PROTO_REQ, MID, F_TWO_Q, PROTO_YES),
	D("Query, binary text", PROTO_REQ, MID, "Q\0\0\0\x07\x01\x02\0", PROTO_NO),
	D("Query, no NUL", PROTO_REQ, MID, "Q\0\0\0\x07SEL", PROTO_NO),
	D("Query, bad next header", PROTO_REQ, MID, "Q\0\0\0\x06x\0?\0\0\0\x04", PROTO_NO),
	D("extended batch", PROTO_REQ, MID, F_EXT_REQ, PROTO_YES),
	D("Bind Execute Sync", PROTO_REQ, MID, F_EXEC_S1, PROTO_YES),
	D("Close", PROTO_REQ, MID, F_CLOSE_S1, PROTO_YES),
	D("Close, bad kind", PROTO_REQ, MID, "C\0\0\0\x08Xs1\0", PROTO_NO),
	D("Sync, length 5", PROTO_REQ, MID, "S\0\0\0\x05", PROTO_NO),
	D("CopyData", PROTO_REQ, MID, F_COPY_DATA, PROTO_YES),
	D("backend message on the request side", PROTO_REQ, MID, "Z\0\0\0\x05I", PROTO_NO),
	D("response at connection start", PROTO_RESP, CS, F_WELCOME, PROTO_NO),
	D("SSL answer S", PROTO_RESP, CS, "S", PROTO_NO),
	D("SSL answer N", PROTO_RESP, CS, "N", PROTO_NO),
	D("authentication", PROTO_RESP, MID, F_AUTH_MD5, PROTO_YES),
	D("authentication, unknown code", PROTO_RESP, MID, "R\0\0\0\x08\0\0\0\x04", PROTO_NO),
	D("authentication ok, length 12", PROTO_RESP, MID, "R\0\0\0\x0c\0\0\0\0\0\0\0\0", PROTO_NO),
	D("welcome", PROTO_RESP, MID, F_WELCOME, PROTO_YES),
	D("result", PROTO_RESP, MID, F_R_SELECT, PROTO_YES),
	D("extended result", PROTO_RESP, MID, F_EXT_RESP, PROTO_YES),
	D("error", PROTO_RESP, MID, F_ERR_R, PROTO_YES),
	D("DataRow, column past the end", PROTO_RESP, MID, "D\0\0\0\x0c\0\x01\0\0\0\x09xx",
	  PROTO_NO),
	D("DataRow, too many columns", PROTO_RESP, MID, "D\0\0\0\x0c\xff\xff\0\0\0\x01x", PROTO_NO),
	D("ReadyForQuery, bad status", PROTO_RESP, MID, "Z\0\0\0\x05X", PROTO_NO),
	D("CommandComplete, lowercase", PROTO_RESP, MID, "C\0\0\0\x0dselect 1\0", PROTO_NO),
	D("CopyInResponse, bad length", PROTO_RESP, MID, "G\0\0\0\x0b\0\0\x01\0\0", PROTO_NO),
	D("frontend message on the response side", PROTO_RESP, MID, "Q\0\0\0\x05\0", PROTO_NO),
	/* the other protocols' first bytes */
	{ "HTTP GET", PROTO_REQ, CS, http_get, sizeof(http_get) - 1, PROTO_NO },
	{ "HTTP GET, midstream", PROTO_REQ, MID, http_get, sizeof(http_get) - 1, PROTO_NO },
	{ "HTTP POST, midstream", PROTO_REQ, MID, http_post, sizeof(http_post) - 1, PROTO_NO },
	{ "HTTP response, midstream", PROTO_RESP, MID, http_resp, sizeof(http_resp) - 1, PROTO_NO },
	{ "Redis PING", PROTO_REQ, CS, redis_ping, sizeof(redis_ping) - 1, PROTO_NO },
	{ "Redis PING, midstream", PROTO_REQ, MID, redis_ping, sizeof(redis_ping) - 1, PROTO_NO },
	{ "TLS ClientHello", PROTO_REQ, CS, tls_hello, sizeof(tls_hello) - 1, PROTO_NO },
	{ "TLS ClientHello, midstream", PROTO_REQ, MID, tls_hello, sizeof(tls_hello) - 1,
	  PROTO_NO },
	{ "TLS ServerHello, midstream", PROTO_RESP, MID, tls_hello, sizeof(tls_hello) - 1,
	  PROTO_NO },
	D("MySQL greeting", PROTO_RESP, CS, F_MYSQL_GREETING, PROTO_NO),
	D("MySQL greeting, midstream", PROTO_RESP, MID, F_MYSQL_GREETING, PROTO_NO),
	D("MySQL greeting as a request", PROTO_REQ, MID, F_MYSQL_GREETING, PROTO_NO),
	D("HTTP/2 preface", PROTO_REQ, CS, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PROTO_NO),
	D("HTTP/2 preface, midstream", PROTO_REQ, MID, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	  PROTO_NO),
	D("Kafka ApiVersions", PROTO_REQ, CS, "\0\0\0\x1f\0\x12\0\x03\0\0\0\x01\0\x07rdkafka",
	  PROTO_NO),
	/* api_key 3 version 0 reads as protocol 3.0: the parameters give it away */
	D("Kafka Metadata v0", PROTO_REQ, CS, "\0\0\0\x15\0\x03\0\0\0\0\0\x01\0\x07rdkafka\0\0\0\0",
	  PROTO_NO),
};

START_TEST(test_detect)
{
	const struct det_case *d = &det_cases[_i];
	enum proto_match m = proto_pgsql.detect(d->side, (const uint8_t *)d->p, d->len, d->flags);

	ck_assert_msg(m == d->want, "%s: %d, want %d", d->name, m, d->want);
}
END_TEST

/* The other protocols' first bytes through a session: never detected as PostgreSQL. */
START_TEST(test_detect_session)
{
	static struct harness h;
	const char *const firsts[] = { http_get, redis_ping, tls_hello, F_MYSQL_GREETING };
	const size_t lens[] = { sizeof(http_get) - 1, sizeof(redis_ping) - 1, sizeof(tls_hello) - 1,
		                sizeof(F_MYSQL_GREETING) - 1 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct h_step steps[] = { { PROTO_REQ, firsts[i], lens[i], 0 },
			                  { PROTO_RESP, firsts[i], lens[i], 0 } };

		harness_init(&h);
		harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_UNKNOWN, steps, 2, 0, 0);
		ck_assert_msg(h.detected != PROTO_PGSQL, "first bytes %zu detected", i);
		ck_assert_uint_eq(h.env.cnt.txns[PROTO_PGSQL], 0);
	}
}
END_TEST

START_TEST(test_state_size)
{
	ck_assert_uint_le(proto_pgsql.state_size, 1536);
	ck_assert_str_eq(proto_pgsql.name, "postgresql");
	ck_assert_int_eq(proto_pgsql.id, PROTO_PGSQL);
}
END_TEST

Suite *proto_pgsql_suite(void)
{
	Suite *s = suite_create("proto_pgsql");
	TCase *tc = tcase_create("pgsql");

	tcase_add_loop_test(tc, test_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_gap_salvage);
	tcase_add_test(tc, test_gap_resync_request);
	tcase_add_test(tc, test_gap_in_body);
	tcase_add_test(tc, test_gap_resync_response);
	tcase_add_test(tc, test_pending_full);
	tcase_add_test(tc, test_statement_eviction);
	tcase_add_test(tc, test_long_sql);
	tcase_add_loop_test(tc, test_detect, 0, (int)(sizeof(det_cases) / sizeof(det_cases[0])));
	tcase_add_test(tc, test_detect_session);
	tcase_add_test(tc, test_state_size);
	suite_add_tcase(s, tc);
	return s;
}
