// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_mysql.c (MySQL / MariaDB client/server protocol),
 * driven through a real session by test/processor/proto_harness.c: every
 * table case also runs with each data step cut at every byte boundary, and
 * every run ends at a PROT_NONE page.
 *
 * The F_* fixtures are byte-exact packets laid out from the protocol pages
 * of the MySQL and MariaDB documentation (lengths computed by a script, not
 * typed in): what libmysqlclient 8.0 exchanges with MySQL 8.0.36
 * (CLIENT_DEPRECATE_EOF, CLIENT_QUERY_ATTRIBUTES, caching_sha2_password) and
 * a client without those with MariaDB 10.11 (EOF packets,
 * mysql_native_password). Long or numerous packets are built at run time by
 * put_pkt().
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

Suite *proto_mysql_suite(void);

/*
 * MySQL 8.0.36 login: greeting, HandshakeResponse41 (user app, schema shop, connection
 * attributes, CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA), caching_sha2 fast auth then OK; a refusal
 */
#define F_G80                                                                                      \
	"J\x00\x00\x00\x0a"                                                                        \
	"8.0.36\x00\x0d\x00\x00\x00\x1bO'Z>,p\x0d\x00\xff\xff\xff\x02"                             \
	"\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                                 \
	"ab.D\x18k3^z\x0a\x19L"                                                                    \
	"\x00"                                                                                     \
	"caching_sha2_password\x00"
#define F_HS80                                                                                     \
	"\x9e\x00\x00\x01\x8d\xa2\xff\x09\x00\x00\x00\x01\xff\x00\x00\x00\x00\x00\x00\x00"         \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                         \
	"app\x00 S3CR3"                                                                            \
	"T-sha256-scramble-response!shop\x00"                                                      \
	"caching_sha2_password\x00=\x0c_client_name"                                               \
	"\x08libmysql\x03_os\x05Linux\x04_pid\x04"                                                 \
	"4242\x0cprogram_name\x05mysql"
#define F_HS80_NODB                                                                                \
	"\x99\x00\x00\x01\x85\xa2\xff\x09\x00\x00\x00\x01\xff\x00\x00\x00\x00\x00\x00\x00"         \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                         \
	"app\x00 S3CR3"                                                                            \
	"T-sha256-scramble-response!caching_sha2_password\x00=\x0c_client_name\x08libmysq"         \
	"l\x03_os\x05Linux\x04_pid\x04"                                                            \
	"4242\x0cprogram_name\x05mysql"
#define F_FAST_OK "\x02\x00\x00\x02\x01\x03\x07\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00"
#define F_AUTH_ERR                                                                                 \
	"F\x00\x00\x02\xff\x15\x04#28000Access denied for user 'app'@'10.0.0.2' (using pa"         \
	"ssword: YES)"
/*
 * COM_QUERY with the empty attribute block, answers with CLIENT_DEPRECATE_EOF (no EOF
 * after the definitions, an OK with a 0xfe header at the end)
 */
#define F_Q_SEL "*\x00\x00\x00\x03\x00\x01SELECT id, name FROM users WHERE id < 3"
#define F_R_SEL                                                                                    \
	"\x01\x00\x00\x01\x02(\x00\x00\x02\x03"                                                    \
	"def\x04shop\x05users\x05users\x02id\x02i"                                                 \
	"d\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03"                                                    \
	"B\x00\x00\x00,\x00\x00\x03\x03"                                                           \
	"def\x04"                                                                                  \
	"shop\x05users\x05users\x04name\x04name\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00"           \
	"\x00\x00\x00\x08\x00\x00\x04\x01"                                                         \
	"1\x05"                                                                                    \
	"alice\x03\x00\x00\x05\x01"                                                                \
	"2\xfb\x07"                                                                                \
	"\x00\x00\x06\xfe\x00\x00\x02\x00\x00\x00"
/* one query attribute "a" = "1", as in the example of the COM_QUERY page */
#define F_Q_ATTR                                                                                   \
	"+\x00\x00\x00\x03\x01\x01\x00\x01\xfe\x00\x01"                                            \
	"a\x01"                                                                                    \
	"1select @@version_commen"                                                                 \
	"t limit 1"
#define F_R_ATTR                                                                                   \
	"\x01\x00\x00\x01\x01"                                                                     \
	"8\x00\x00\x02\x03"                                                                        \
	"def\x00\x00\x00\x11@@version_comment"                                                     \
	"\x11@@version_comment\x0c\xff\x00p\x00\x00\x00\xfd\x00\x00\x00\x00\x00\x1d\x00"           \
	"\x00\x03\x1cMySQL Community Server - GPL\x07\x00\x00\x04\xfe\x00\x00\x02\x00\x00"         \
	"\x00"
#define F_Q_ERR "\x15\x00\x00\x00\x03\x00\x01SELECT * FROM nope"
#define F_R_ERR "(\x00\x00\x01\xffz\x04#42S02Table 'shop.nope' doesn't exist"
#define F_Q_INS ",\x00\x00\x00\x03\x00\x01INSERT INTO users (name) VALUES ('carol')"
#define F_R_INS "\x07\x00\x00\x01\x00\x01\x03\x02\x00\x00\x00"
/* USE; its OK with SESSION_TRACK_SCHEMA, and without */
#define F_Q_USE       "\x12\x00\x00\x00\x03\x00\x01use `inventory`"
#define F_R_USE_TRACK "\x15\x00\x00\x01\x00\x00\x00\x02@\x00\x00\x00\x0c\x01\x0a\x09inventory"
#define F_R_USE_PLAIN "\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
/*
 * COM_STMT_PREPARE (1 parameter, 1 column), COM_STMT_EXECUTE (binary rows), COM_STMT_CLOSE;
 * _EOF: the same without CLIENT_DEPRECATE_EOF
 */
#define F_PREP "$\x00\x00\x00\x16SELECT name FROM users WHERE id = \x3f"
#define F_PREP_OK                                                                                  \
	"\x0c\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x18\x00\x00\x02"         \
	"\x03"                                                                                     \
	"def\x00\x00\x00\x01\x3f\x01\x3f\x0c\x3f\x00\x00\x00\x00\x00\x08\x80\x00"                  \
	"\x00\x00\x00,\x00\x00\x03\x03"                                                            \
	"def\x04shop\x05users\x05users\x04name\x04name"                                            \
	"\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00"
#define F_PREP_OK_EOF                                                                              \
	"\x0c\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x18\x00\x00\x02"         \
	"\x03"                                                                                     \
	"def\x00\x00\x00\x01\x3f\x01\x3f\x0c\x3f\x00\x00\x00\x00\x00\x08\x80\x00"                  \
	"\x00\x00\x00\x05\x00\x00\x03\xfe\x00\x00\x02\x00,\x00\x00\x04\x03"                        \
	"def\x04shop"                                                                              \
	"\x05users\x05users\x04name\x04name\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00\x00"           \
	"\x00\x00\x05\x00\x00\x05\xfe\x00\x00\x02\x00"
#define F_EXEC                                                                                     \
	"\x16\x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\xe7\xc2"         \
	"^\x00\x00\x00\x00\x00"
#define F_EXEC_R                                                                                   \
	"\x01\x00\x00\x01\x01,\x00\x00\x02\x03"                                                    \
	"def\x04shop\x05users\x05users\x04name"                                                    \
	"\x04name\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00\x08\x00\x00\x03\x00"         \
	"\x00\x05"                                                                                 \
	"alice\x07\x00\x00\x04\xfe\x00\x00\x02\x00\x00\x00"
#define F_EXEC_R_EOF                                                                               \
	"\x01\x00\x00\x01\x01,\x00\x00\x02\x03"                                                    \
	"def\x04shop\x05users\x05users\x04name"                                                    \
	"\x04name\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00\x05\x00\x00\x03\xfe"         \
	"\x00\x00\x02\x00\x08\x00\x00\x04\x00\x00\x05"                                             \
	"alice\x05\x00\x00\x05\xfe\x00\x00"                                                        \
	"\x02\x00"
#define F_CLOSE1 "\x05\x00\x00\x00\x19\x01\x00\x00\x00"
/*
 * MariaDB 10.11 login: no CLIENT_DEPRECATE_EOF, a 1-byte auth length, extended
 * capabilities in the filler; text results ending in EOF packets, or in an OK
 */
#define F_GMDB                                                                                     \
	"c\x00\x00\x00\x0a"                                                                        \
	"5.5.5-10.11.6-MariaDB-0+deb12u1\x00\x07\x00\x00\x00\x1bO'Z>,"                             \
	"p\x0d\x00\xfe\xf7\xff\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00"            \
	"\x00"                                                                                     \
	"ab.D\x18k3^z\x0a\x19L\x00mysql_native_password\x00"
#define F_HSMDB                                                                                    \
	"X\x00\x00\x01\x8c\xa2\x8f\x00\x00\x00\x00\x01\xff\x00\x00\x00\x00\x00\x00\x00"            \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00report\x00\x14S3"         \
	"CR3T-native-sha1-!sales\x00mysql_native_password\x00"
#define F_OKMDB "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"
#define F_Q_ONE "\x09\x00\x00\x00\x03SELECT 1"
#define F_R_ONE_EOF                                                                                \
	"\x01\x00\x00\x01\x01\x18\x00\x00\x02\x03"                                                 \
	"def\x00\x00\x00\x01"                                                                      \
	"1\x01"                                                                                    \
	"1\x0c"                                                                                    \
	"\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00\x05\x00\x00\x03\xfe\x00\x00\x02"         \
	"\x00\x02\x00\x00\x04\x01"                                                                 \
	"1\x05\x00\x00\x05\xfe\x00\x00\x02\x00"
#define F_R_ONE_OK                                                                                 \
	"\x01\x00\x00\x01\x01\x18\x00\x00\x02\x03"                                                 \
	"def\x00\x00\x00\x01"                                                                      \
	"1\x01"                                                                                    \
	"1\x0c"                                                                                    \
	"\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00\x02\x00\x00\x03\x01"                     \
	"1\x07\x00"                                                                                \
	"\x00\x04\xfe\x00\x00\x02\x00\x00\x00"
#define F_INITDB "\x0a\x00\x00\x00\x02inventory"
#define F_R_OK1  "\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
#define F_PING   "\x01\x00\x00\x00\x0e"
#define F_QUIT   "\x01\x00\x00\x00\x01"
/* two result sets (SERVER_MORE_RESULTS_EXISTS), then the CALL's own OK */
#define F_Q_CALL                                                                                   \
	"\x14\x00\x00\x00\x03"                                                                     \
	"CALL report_daily()"
#define F_R_CALL                                                                                   \
	"\x01\x00\x00\x01\x01\x1f\x00\x00\x02\x03"                                                 \
	"def\x05sales\x01t\x01t\x01n\x01n\x0c"                                                     \
	"\x3f\x00\x15\x00\x00\x00\x08\x00\x00\x00\x00\x00\x05\x00\x00\x03\xfe\x00\x00\x02"         \
	"\x00\x02\x00\x00\x04\x01"                                                                 \
	"7\x02\x00\x00\x05\x01"                                                                    \
	"8\x05\x00\x00\x06\xfe\x00\x00"                                                            \
	"\x0a\x00\x01\x00\x00\x07\x01\x1f\x00\x00\x08\x03"                                         \
	"def\x05sales\x01t\x01t\x01m"                                                              \
	"\x01m\x0c\x3f\x00\x15\x00\x00\x00\x08\x00\x00\x00\x00\x00\x05\x00\x00\x09\xfe"            \
	"\x00\x00\x02\x00\x02\x00\x00\x0a\x01"                                                     \
	"9\x05\x00\x00\x0b\xfe\x00\x00\x0a\x00\x07"                                                \
	"\x00\x00\x0c\x00\x00\x00\x02\x00\x00\x00"
/* LOAD DATA LOCAL INFILE: the server asks for the file, the client sends it */
#define F_Q_INFILE "4\x00\x00\x00\x03LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE t"
#define F_R_INFILE "\x0e\x00\x00\x01\xfb/tmp/rows.csv"
#define F_INFILE_DATA                                                                              \
	"\x17\x00\x00\x02s3cr3t-row,1\x0a"                                                         \
	"another,2\x0a\x00\x00\x00\x03"
#define F_R_INFILE_OK                                                                              \
	"6\x00\x00\x04\x00\x02\x00\x02\x00\x00\x00Records: 2  Deleted: 0  Skipped: 0  War"         \
	"nings: 0"
/* SSLRequest; a handshake response asking for CLIENT_COMPRESS; an auth switch */
#define F_SSLREQ                                                                                   \
	" \x00\x00\x01\x8d\xaa\xff\x09\x00\x00\x00\x01\xff\x00\x00\x00\x00\x00\x00\x00"            \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
#define F_HS_COMPRESS                                                                              \
	"a\x00\x00\x01\xad\xa2\xff\x09\x00\x00\x00\x01\xff\x00\x00\x00\x00\x00\x00\x00"            \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                         \
	"app\x00 S3CR3"                                                                            \
	"T-sha256-scramble-response!shop\x00"                                                      \
	"caching_sha2_password\x00\x00"
#define F_SWITCH                                                                                   \
	",\x00\x00\x02\xfemysql_native_password\x00\x1bO'Z>,p\x0d"                                 \
	"ab.D\x18k3^z\x0a\x19L"                                                                    \
	"\x00"
#define F_SWITCH_RESP "\x14\x00\x00\x03S3CR3T-switch-sha1-!"
#define F_SWITCH_OK   "\x07\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00"
/* COM_CHANGE_USER, COM_STATISTICS, a cursor (COM_STMT_FETCH) */
#define F_CHUSER                                                                                   \
	"8\x00\x00\x00\x11"                                                                        \
	"admin\x00\x14S3CR3T-change-user-!ops\x00\xff\x00mysql_native"                             \
	"_password\x00"
#define F_STATS "\x01\x00\x00\x00\x09"
#define F_R_STATS                                                                                  \
	"D\x00\x00\x01Uptime: 4242  Threads: 2  Questions: 17  Slow queries: 0  Opens: 12"         \
	"0"
#define F_FETCH "\x09\x00\x00\x00\x1c\x01\x00\x00\x00\x0a\x00\x00\x00"
#define F_EXEC_CURSOR                                                                              \
	"\x16\x00\x00\x00\x17\x01\x00\x00\x00\x01\x01\x00\x00\x00\x00\x01\x08\x00\x01\x00"         \
	"\x00\x00\x00\x00\x00\x00"
#define F_R_CURSOR                                                                                 \
	"\x01\x00\x00\x01\x01,\x00\x00\x02\x03"                                                    \
	"def\x04shop\x05users\x05users\x04name"                                                    \
	"\x04name\x0c\xff\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00\x05\x00\x00\x03\xfe"         \
	"\x00\x00"                                                                                 \
	"B\x00"
#define F_R_FETCH                                                                                  \
	"\x08\x00\x00\x01\x00\x00\x05"                                                             \
	"alice\x06\x00\x00\x02\x00\x00\x03"                                                        \
	"bob\x05\x00"                                                                              \
	"\x00\x03\xfe\x00\x00\x82\x00"
/* MariaDB progress report (ERR 0xffff) before the answer; COM_FIELD_LIST */
#define F_R_PROGRESS                                                                               \
	"\x1b\x00\x00\x01\xff\xff\xff\x01\x01\x00\x10'\x00\x11"                                    \
	"copy to tmp table\x07"                                                                    \
	"\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"
#define F_Q_ALTER                                                                                  \
	"\x1f\x00\x00\x00\x03"                                                                     \
	"ALTER TABLE t ADD COLUMN c INT"
#define F_FIELDLIST "\x07\x00\x00\x00\x04users\x00"
#define F_R_FIELDLIST                                                                              \
	"(\x00\x00\x01\x03"                                                                        \
	"def\x04shop\x05users\x05users\x02id\x02id\x0c\x3f\x00\x0b"                                \
	"\x00\x00\x00\x03\x00\x00\x00\x00\x00,\x00\x00\x02\x03"                                    \
	"def\x04shop\x05users\x05"                                                                 \
	"users\x04name\x04name\x0c\x3f\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00\x05"            \
	"\x00\x00\x03\xfe\x00\x00\x02\x00"
/* more errors; MariaDB's execute of "the last prepared statement"; a result's head */
#define F_R_NO_STMT                                                                                \
	"L\x00\x00\x01\xff\xdb\x04#HY000Unknown prepared statement handler (1) given to m"         \
	"ysqld_stmt_execute"
#define F_R_NO_DB "%\x00\x00\x01\xff\x19\x04#42000Unknown database 'inventory'"
#define F_R_INFILE_ERR                                                                             \
	"@\x00\x00\x04\xff|\x04#42000The used command is not allowed with this MySQL vers"         \
	"ion"
#define F_EXEC_LAST                                                                                \
	"\x16\x00\x00\x00\x17\xff\xff\xff\xff\x00\x01\x00\x00\x00\x00\x01\x08\x00\x07\x00"         \
	"\x00\x00\x00\x00\x00\x00"
#define F_R_ONE_HEAD                                                                               \
	"\x01\x00\x00\x01\x01\x18\x00\x00\x02\x03"                                                 \
	"def\x00\x00\x00\x01"                                                                      \
	"1\x01"                                                                                    \
	"1\x0c"                                                                                    \
	"\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00"

/* Never in any attribute: auth data, connection attributes, rows, parameters, files, messages. */
static const char *const secrets[] = { "S3CR3T",    "s3cr3t",        "libmysql",      "alice",
	                               "Community", "Access denied", "doesn't exist", "handler" };

#define MAX_STEPS 16
#define MAX_TXN   6
#define WHY_LEN   512
#define NO_ROWS   INT64_MIN /* db.response.returned_rows absent */
#define ANY       (-1)      /* counter not checked */
#define LONG_SQL  3000      /* bytes of SQL in the long-statement cases */
#define SEEN      600       /* bytes of a long packet captured before a gap */
#define BIG_ROW   5000      /* bytes of a row split by a gap */
#define SEEN_ROW  100       /* bytes of it captured */
#define MANY      65        /* statements prepared: one more than the table holds */
#define PIPELINED 9         /* commands sent at once: one more than can be pending */

#define STEP(side, lit)                                                                            \
	{                                                                                          \
		side, lit, sizeof(lit) - 1, 0                                                      \
	}
#define SHORT(side, lit, n)                                                                        \
	{                                                                                          \
		side, lit, sizeof(lit) - 1 - (n), 0                                                \
	} /* last n bytes missing */
#define LOST(side, n)                                                                              \
	{                                                                                          \
		side, NULL, n, 0                                                                   \
	}
#define Q(lit)   STEP(PROTO_REQ, lit)
#define A(lit)   STEP(PROTO_RESP, lit)
#define LOGIN80  A(F_G80), Q(F_HS80), A(F_FAST_OK)
#define LOGINMDB A(F_GMDB), Q(F_HSMDB), A(F_OKMDB)
#define SENS     TXN_SENSITIVE
#define CUTS     (TXN_SENSITIVE | TXN_TRUNCATED)

#define T_SEL  "SELECT id, name FROM users WHERE id < 3"
#define T_INS  "INSERT INTO users (name) VALUES ('carol')"
#define T_PREP "SELECT name FROM users WHERE id = ?"

/* Expected transaction; strings NULL: attribute absent. */
struct want {
	enum txn_status status;
	const char *op;
	const char *text;
	uint8_t text_flags;
	const char *code;
	int64_t rows;
	const char *db;
};

struct mcase {
	const char *name;
	struct h_step steps[MAX_STEPS];
	enum proto_id detected;
	const char *sys, *user; /* on every transaction */
	unsigned ntxn;
	struct want txn[MAX_TXN];
	int unpaired, parse_errors, dropped; /* ANY: not checked */
};

#define W_SEL(db)                                                                                  \
	{                                                                                          \
		TXN_OK, "SELECT", T_SEL, SENS, NULL, 2, db                                         \
	}
#define W_INS(db)                                                                                  \
	{                                                                                          \
		TXN_OK, "INSERT", T_INS, SENS, NULL, NO_ROWS, db                                   \
	}
#define W_ONE(db)                                                                                  \
	{                                                                                          \
		TXN_OK, "SELECT", "SELECT 1", SENS, NULL, 1, db                                    \
	}
#define W_PREP(db)                                                                                 \
	{                                                                                          \
		TXN_OK, "STMT_PREPARE", T_PREP, SENS, NULL, NO_ROWS, db                            \
	}
#define NORESP(op, t)                                                                              \
	{                                                                                          \
		TXN_NO_RESPONSE, op, t, SENS, NULL, NO_ROWS, "shop"                                \
	}

static const struct mcase cases[] = {
	/* MySQL 8.0: caching_sha2_password fast path, CLIENT_DEPRECATE_EOF, query attributes */
	{ "mysql 8: login, select",
	  { LOGIN80, Q(F_Q_SEL), A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { W_SEL("shop") },
	  0,
	  0,
	  0 },
	{ "mysql 8: select, terminator cut",
	  { LOGIN80, Q(F_Q_SEL), SHORT(PROTO_RESP, F_R_SEL, 3) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { NORESP("SELECT", T_SEL) },
	  0,
	  0,
	  0 },
	{ "mysql 8: select cut, its answer unpaired",
	  { LOGIN80, SHORT(PROTO_REQ, F_Q_SEL, 1), A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  1,
	  0,
	  0 },
	{ "login refused",
	  { A(F_G80), Q(F_HS80), A(F_AUTH_ERR) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_ERROR, "CONNECT", NULL, 0, "1045", NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "login refused, handshake response cut",
	  { A(F_G80), SHORT(PROTO_REQ, F_HS80, 1), A(F_AUTH_ERR) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { { TXN_ERROR, "CONNECT", NULL, 0, "1045", NO_ROWS, NULL } },
	  0,
	  0,
	  0 },
	{ "login without a schema",
	  { A(F_G80), Q(F_HS80_NODB), A(F_FAST_OK), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { W_INS(NULL) },
	  0,
	  0,
	  0 },
	{ "auth switch to mysql_native_password",
	  { A(F_G80), Q(F_HS80), A(F_SWITCH), Q(F_SWITCH_RESP), A(F_SWITCH_OK), Q(F_Q_SEL),
	    A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { W_SEL("shop") },
	  0,
	  0,
	  0 },
	{ "auth switch, client's answer with a wrong id",
	  { A(F_G80), Q(F_HS80), A(F_SWITCH), Q("\x01\x00\x00\x07x"), A(F_SWITCH_OK), Q(F_Q_SEL),
	    A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { W_SEL("shop") },
	  0,
	  1,
	  0 },
	{ "query attributes",
	  { LOGIN80, Q(F_Q_ATTR), A(F_R_ATTR) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_OK, "SELECT", "select @@version_comment limit 1", SENS, NULL, 1, "shop" } },
	  0,
	  0,
	  0 },
	{ "query attributes without types: no text",
	  { LOGIN80, Q("\x0d\x00\x00\x00\x03\x01\x01\x00\x00SELECT 1"), A(F_R_ONE_OK) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_OK, "QUERY", "", CUTS, NULL, 1, "shop" } },
	  0,
	  0,
	  0 },
	{ "error",
	  { LOGIN80, Q(F_Q_ERR), A(F_R_ERR) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_ERROR, "SELECT", "SELECT * FROM nope", SENS, "1146", NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "error packet too short",
	  { LOGIN80, Q(F_Q_ERR), A("\x02\x00\x00\x01\xff\x7a") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { NORESP("SELECT", "SELECT * FROM nope") },
	  0,
	  1,
	  0 },
	{ "USE: schema from session state tracking",
	  { LOGIN80, Q(F_Q_USE), A(F_R_USE_TRACK), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { { TXN_OK, "USE", "use `inventory`", SENS, NULL, NO_ROWS, "inventory" },
	    W_INS("inventory") },
	  0,
	  0,
	  0 },
	{ "USE: schema from the statement",
	  { LOGIN80, Q(F_Q_USE), A(F_R_USE_PLAIN), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { { TXN_OK, "USE", "use `inventory`", SENS, NULL, NO_ROWS, "inventory" },
	    W_INS("inventory") },
	  0,
	  0,
	  0 },
	{ "USE refused",
	  { LOGIN80, Q(F_Q_USE), A(F_R_NO_DB), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { { TXN_ERROR, "USE", "use `inventory`", SENS, "1049", NO_ROWS, "shop" }, W_INS("shop") },
	  0,
	  0,
	  0 },
	/* server-side prepared statements: the text follows the id, parameters never show */
	{ "prepare, execute, close, execute",
	  { LOGIN80, Q(F_PREP), A(F_PREP_OK), Q(F_EXEC), A(F_EXEC_R), Q(F_CLOSE1), Q(F_EXEC),
	    A(F_R_NO_STMT) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  4,
	  { W_PREP("shop"),
	    { TXN_OK, "SELECT", T_PREP, SENS, NULL, 1, "shop" },
	    { TXN_OK, "STMT_CLOSE", T_PREP, SENS, NULL, NO_ROWS, "shop" },
	    { TXN_ERROR, "STMT_EXECUTE", NULL, 0, "1243", NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "prepare refused",
	  { LOGIN80, Q(F_PREP), A(F_R_ERR), Q(F_EXEC), A(F_R_NO_STMT) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { { TXN_ERROR, "STMT_PREPARE", T_PREP, SENS, "1146", NO_ROWS, "shop" },
	    { TXN_ERROR, "STMT_EXECUTE", NULL, 0, "1243", NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "cursor: execute, then fetch",
	  { LOGIN80, Q(F_PREP), A(F_PREP_OK), Q(F_EXEC_CURSOR), A(F_R_CURSOR), Q(F_FETCH),
	    A(F_R_FETCH) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  3,
	  { W_PREP("shop"),
	    { TXN_OK, "SELECT", T_PREP, SENS, NULL, 0, "shop" },
	    { TXN_OK, "STMT_FETCH", T_PREP, SENS, NULL, 2, "shop" } },
	  0,
	  0,
	  0 },
	{ "change user",
	  { LOGIN80, Q(F_CHUSER), A(F_R_OK1), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "admin",
	  2,
	  { { TXN_OK, "CHANGE_USER", NULL, 0, NULL, NO_ROWS, "ops" }, W_INS("ops") },
	  0,
	  0,
	  0 },
	{ "statistics: a string for an answer",
	  { LOGIN80, Q(F_STATS), A(F_R_STATS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_OK, "STATISTICS", NULL, 0, NULL, NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "field list",
	  { LOGIN80, Q(F_FIELDLIST), A(F_R_FIELDLIST) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_OK, "FIELD_LIST", NULL, 0, NULL, NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	{ "field list, EOF lost",
	  { LOGIN80, Q(F_FIELDLIST), SHORT(PROTO_RESP, F_R_FIELDLIST, 9) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { { TXN_NO_RESPONSE, "FIELD_LIST", NULL, 0, NULL, NO_ROWS, "shop" } },
	  0,
	  0,
	  0 },
	/* MariaDB 10.11: EOF packets, native password, extended capabilities in the filler */
	{ "mariadb session",
	  { LOGINMDB, Q(F_Q_ONE), A(F_R_ONE_EOF), Q(F_INITDB), A(F_R_OK1), Q(F_Q_ONE),
	    A(F_R_ONE_EOF), Q(F_PING), A(F_R_OK1), Q(F_QUIT) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  5,
	  { W_ONE("sales"),
	    { TXN_OK, "INIT_DB", NULL, 0, NULL, NO_ROWS, "inventory" },
	    W_ONE("inventory"),
	    { TXN_OK, "PING", NULL, 0, NULL, NO_ROWS, "inventory" },
	    { TXN_OK, "QUIT", NULL, 0, NULL, NO_ROWS, "inventory" } },
	  0,
	  0,
	  0 },
	{ "mariadb: INIT_DB refused",
	  { LOGINMDB, Q(F_INITDB), A(F_R_NO_DB), Q(F_Q_ONE), A(F_R_ONE_EOF) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  2,
	  { { TXN_ERROR, "INIT_DB", NULL, 0, "1049", NO_ROWS, "sales" }, W_ONE("sales") },
	  0,
	  0,
	  0 },
	{ "mariadb: prepare and execute with EOFs",
	  { LOGINMDB, Q(F_PREP), A(F_PREP_OK_EOF), Q(F_EXEC), A(F_EXEC_R_EOF) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  2,
	  { W_PREP("sales"), { TXN_OK, "SELECT", T_PREP, SENS, NULL, 1, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: prepare and execute the last statement, pipelined",
	  { LOGINMDB, Q(F_PREP F_EXEC_LAST), A(F_PREP_OK_EOF F_EXEC_R_EOF) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  2,
	  { W_PREP("sales"), { TXN_OK, "SELECT", T_PREP, SENS, NULL, 1, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: CALL, two result sets and an OK",
	  { LOGINMDB, Q(F_Q_CALL), A(F_R_CALL) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  1,
	  { { TXN_OK, "CALL", "CALL report_daily()", SENS, NULL, 3, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: CALL, final OK lost",
	  { LOGINMDB, Q(F_Q_CALL), SHORT(PROTO_RESP, F_R_CALL, 11) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  1,
	  { { TXN_NO_RESPONSE, "CALL", "CALL report_daily()", SENS, NULL, NO_ROWS, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: progress reports before the answer",
	  { LOGINMDB, Q(F_Q_ALTER), A(F_R_PROGRESS) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  1,
	  { { TXN_OK, "ALTER", "ALTER TABLE t ADD COLUMN c INT", SENS, NULL, NO_ROWS, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: LOAD DATA LOCAL INFILE",
	  { LOGINMDB, Q(F_Q_INFILE), A(F_R_INFILE), Q(F_INFILE_DATA), A(F_R_INFILE_OK) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  1,
	  { { TXN_OK, "LOAD", "LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE t", SENS, NULL,
	      NO_ROWS, "sales" } },
	  0,
	  0,
	  0 },
	{ "mariadb: LOAD DATA LOCAL INFILE refused",
	  { LOGINMDB, Q(F_Q_INFILE), A(F_R_INFILE), Q(F_INFILE_DATA), A(F_R_INFILE_ERR) },
	  PROTO_MYSQL,
	  "mariadb",
	  "report",
	  1,
	  { { TXN_ERROR, "LOAD", "LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE t", SENS,
	      "1148", NO_ROWS, "sales" } },
	  0,
	  0,
	  0 },
	/* the stream stops being ours */
	{ "SSLRequest: TLS follows",
	  { A(F_G80), Q(F_SSLREQ), Q("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03") },
	  PROTO_TLS,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "SSLRequest cut",
	  { A(F_G80), SHORT(PROTO_REQ, F_SSLREQ, 1) },
	  PROTO_MYSQL,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "compressed protocol",
	  { A(F_G80), Q(F_HS_COMPRESS), A(F_FAST_OK), Q("\x0b\x00\x00\x00\x00\x00\x00\x78\x9c") },
	  PROTO_NONE,
	  NULL,
	  NULL,
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	/* several commands */
	{ "two queries in one run",
	  { LOGIN80, Q(F_Q_SEL F_Q_INS), A(F_R_SEL F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { W_SEL("shop"), W_INS("shop") },
	  0,
	  0,
	  0 },
	{ "two queries, one answer",
	  { LOGIN80, Q(F_Q_SEL F_Q_INS), A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { W_SEL("shop"), NORESP("INSERT", T_INS) },
	  0,
	  0,
	  0 },
	{ "answers without questions",
	  { LOGIN80, A(F_R_INS), A(F_R_ERR) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  2,
	  0,
	  0 },
	{ "queries pending at close",
	  { LOGIN80, Q(F_Q_SEL F_Q_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { NORESP("SELECT", T_SEL), NORESP("INSERT", T_INS) },
	  0,
	  0,
	  0 },
	/* garbage after detection: the side loses sync, nothing made up */
	{ "HTTP request on a MySQL connection",
	  { LOGIN80, Q("GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  0,
	  1,
	  0 },
	{ "unknown command",
	  { LOGIN80, Q("\x01\x00\x00\x00\x99") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  0,
	  1,
	  0 },
	{ "COM_PING with a body",
	  { LOGIN80, Q("\x02\x00\x00\x00\x0e\x00") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  0,
	  1,
	  0 },
	{ "HTTP response on a MySQL connection",
	  { LOGIN80, Q(F_Q_SEL), A("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { NORESP("SELECT", T_SEL) },
	  0,
	  1,
	  0 },
	/* huge declared lengths: nothing that size is allocated or waited for */
	{ "16 MiB query, incomplete",
	  { LOGIN80, Q("\xfe\xff\xff\x00\x03\x00\x01SELECT") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  0,
	  { { 0 } },
	  0,
	  0,
	  0 },
	{ "2^64 columns",
	  { LOGIN80, Q(F_Q_SEL), A("\x09\x00\x00\x01\xfe\xff\xff\xff\xff\xff\xff\xff\xff") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { NORESP("SELECT", T_SEL) },
	  0,
	  1,
	  0 },
	{ "16 MiB row, not there",
	  { LOGIN80, Q(F_Q_SEL), A(F_R_ONE_HEAD "\xff\xff\xff\x03\xfe\x01") },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { NORESP("SELECT", T_SEL) },
	  0,
	  0,
	  0 },
	/* mid-stream: the connection's start was not seen */
	{ "mid-stream: query, result with EOFs",
	  { LOST(PROTO_REQ, 100), Q(F_Q_ONE), A(F_R_ONE_EOF) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { W_ONE(NULL) },
	  0,
	  0,
	  0 },
	{ "mid-stream: query, result with an OK",
	  { LOST(PROTO_REQ, 100), Q(F_Q_ONE), A(F_R_ONE_OK) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { W_ONE(NULL) },
	  0,
	  0,
	  0 },
	{ "mid-stream: query attributes told by their shape",
	  { LOST(PROTO_REQ, 100), Q(F_Q_SEL), A(F_R_SEL) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { W_SEL(NULL) },
	  0,
	  0,
	  0 },
	{ "mid-stream: starts inside a result set",
	  { LOST(PROTO_RESP, 100),
	    A("\x02\x00\x00\x04\x01\x31\x05\x00\x00\x05\xfe\x00\x00\x02\x00"), Q(F_Q_ONE),
	    A(F_R_ONE_EOF) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { W_ONE(NULL) },
	  0,
	  0,
	  0 },
	{ "mid-stream: an answer first",
	  { LOST(PROTO_REQ, 10), A(F_R_INS), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  NULL,
	  1,
	  { W_INS(NULL) },
	  1,
	  0,
	  0 },
	/* gaps nothing could skip: the side resyncs at the next message start */
	{ "gap in the answer, resync at the next one",
	  { LOGIN80, Q(F_Q_SEL), LOST(PROTO_RESP, 50), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  2,
	  { NORESP("SELECT", T_SEL), W_INS("shop") },
	  0,
	  0,
	  0 },
	{ "gap in the commands, resync at the next one",
	  { LOGIN80, LOST(PROTO_REQ, 30), Q(F_Q_INS), A(F_R_INS) },
	  PROTO_MYSQL,
	  "mysql",
	  "app",
	  1,
	  { W_INS("shop") },
	  0,
	  0,
	  0 },
};

static size_t nsteps(const struct h_step *s, size_t max)
{
	size_t n = 0;

	while (n < max && (s[n].data || s[n].len))
		n++;
	return n;
}

static void expect_str(const char *name, unsigned i, const struct h_txn *t, const char *key,
                       const char *want, unsigned flags)
{
	const struct h_attr *a = h_attr(t, key);

	if (!want) {
		ck_assert_msg(!a, "%s: txn %u: %s present (\"%.*s\")", name, i, key,
		              a ? (int)a->len : 0, a ? a->str : "");
		return;
	}
	ck_assert_msg(a && a->type == TXN_STR, "%s: txn %u: %s missing", name, i, key);
	ck_assert_msg(a->len == strlen(want) && !memcmp(a->str, want, a->len),
	              "%s: txn %u: %s is \"%.*s\", want \"%s\"", name, i, key, (int)a->len, a->str,
	              want);
	ck_assert_msg(a->flags == flags, "%s: txn %u: %s flags %u, want %u", name, i, key, a->flags,
	              flags);
}

/* What every transaction satisfies: its protocol, times, and no secret anywhere. */
static void expect_sane(const char *name, unsigned i, const struct h_txn *t)
{
	ck_assert_int_eq(t->proto, PROTO_MYSQL);
	ck_assert_msg(t->end_ns >= t->start_ns, "%s: txn %u ends before it starts", name, i);
	if (t->status == TXN_NO_RESPONSE)
		ck_assert_msg(t->end_ns == t->start_ns, "%s: txn %u: no response, an end", name, i);
	for (uint32_t a = 0; a < t->nattrs; a++)
		for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++)
			ck_assert_msg(!memmem(t->attrs[a].str, t->attrs[a].len, secrets[s],
			                      strlen(secrets[s])),
			              "%s: txn %u: %s leaks \"%s\"", name, i, t->attrs[a].key,
			              secrets[s]);
}

static void expect_txn(const struct mcase *c, unsigned i, const struct h_txn *t)
{
	const struct want *w = &c->txn[i];

	expect_sane(c->name, i, t);
	ck_assert_msg(t->status == w->status, "%s: txn %u: status %d, want %d", c->name, i,
	              t->status, w->status);
	expect_str(c->name, i, t, "db.system.name", c->sys, 0);
	expect_str(c->name, i, t, "db.user", c->user, TXN_SENSITIVE);
	expect_str(c->name, i, t, "db.namespace", w->db, 0);
	expect_str(c->name, i, t, "db.operation.name", w->op, 0);
	expect_str(c->name, i, t, "db.query.text", w->text, w->text_flags);
	expect_str(c->name, i, t, "db.response.status_code", w->code, 0);
	ck_assert_msg(h_int(t, "db.response.returned_rows") == w->rows,
	              "%s: txn %u: rows %lld, want %lld", c->name, i,
	              (long long)h_int(t, "db.response.returned_rows"), (long long)w->rows);
}

static void expect_count(const char *name, const char *what, uint64_t got, int want)
{
	if (want != ANY)
		ck_assert_msg(got == (uint64_t)want, "%s: %s %llu, want %d", name, what,
		              (unsigned long long)got, want);
}

/* Unsplit, then with every data step cut at every byte: the same transactions. */
static void run_splits(struct harness *h, const char *name, const struct h_step *steps, size_t n)
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
	const struct mcase *c = &cases[_i];

	run_splits(&h, c->name, c->steps, nsteps(c->steps, MAX_STEPS));
	ck_assert_msg(h.detected == c->detected, "%s: detected %d, want %d", c->name, h.detected,
	              c->detected);
	ck_assert_msg(h.n == c->ntxn, "%s: %u transactions, want %u", c->name, h.n, c->ntxn);
	for (unsigned i = 0; i < h.n; i++)
		expect_txn(c, i, &h.txns[i]);
	expect_count(c->name, "unpaired", h.env.cnt.unpaired[PROTO_MYSQL], c->unpaired);
	expect_count(c->name, "parse errors", h.env.cnt.parse_errors[PROTO_MYSQL], c->parse_errors);
	expect_count(c->name, "pending dropped", h.env.cnt.pending_dropped[PROTO_MYSQL],
	             c->dropped);
	ck_assert_msg(h.env.cnt.txns[PROTO_MYSQL] == h.n, "%s: txns counter", c->name);
}
END_TEST

/*
 * Garbage at a resync point is dropped, the next command resyncs. Unsplit
 * only: a run cut from the garbage's last 1-3 bytes is a possible packet
 * start (PROTO_MAYBE), which the session accepts when resyncing.
 */
START_TEST(test_garbage_then_resync)
{
	static const struct h_step s[] = { LOGIN80, LOST(PROTO_REQ, 30),
		                           Q("GET / HTTP/1.1\r\n\r\n"), Q(F_Q_INS), A(F_R_INS) };
	static struct harness h;

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, s, sizeof(s) / sizeof(s[0]), 0, 0);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h_str(&h.txns[0], "db.query.text"), T_INS);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_uint_eq(h.env.cnt.parse_errors[PROTO_MYSQL], 0);
	ck_assert_uint_eq(h.env.cnt.resync_dropped_bytes, 18);
}
END_TEST

/* ---- built at run time ------------------------------------------------- */

/* A packet header for @len payload bytes (not all of which need follow). */
static size_t put_hdr(uint8_t *b, size_t off, uint8_t seq, uint32_t len)
{
	b[off] = (uint8_t)len;
	b[off + 1] = (uint8_t)(len >> 8);
	b[off + 2] = (uint8_t)(len >> 16);
	b[off + 3] = seq;
	return off + 4;
}

static size_t put_pkt(uint8_t *b, size_t off, uint8_t seq, const void *payload, size_t len)
{
	off = put_hdr(b, off, seq, (uint32_t)len);
	memcpy(b + off, payload, len);
	return off + len;
}

/*
 * Command @cmd with "SELECT 'xxx...'": @len bytes of SQL; COM_QUERY with the
 * empty attribute block CLIENT_QUERY_ATTRIBUTES puts first.
 */
static size_t put_long_sql(uint8_t *b, uint8_t cmd, size_t len)
{
	uint8_t p[LONG_SQL + 3];
	size_t pre = cmd == 0x03 ? 2 : 0;

	p[0] = cmd;
	p[1] = 0x00;
	p[2] = 0x01;
	memset(p + 1 + pre, 'x', len);
	memcpy(p + 1 + pre, "SELECT '", 8);
	p[pre + len] = '\'';
	return put_pkt(b, 0, 0, p, 1 + pre + len);
}

#define LOGIN80_STEPS 3
static const struct h_step login80[LOGIN80_STEPS] = { LOGIN80 };

/* Login, then @extra steps, through run_splits. */
static void run_after_login(struct harness *h, const char *name, const struct h_step *extra,
                            size_t n)
{
	struct h_step steps[MAX_STEPS];

	ck_assert(LOGIN80_STEPS + n <= MAX_STEPS);
	memcpy(steps, login80, sizeof(login80));
	memcpy(steps + LOGIN80_STEPS, extra, n * sizeof(*extra));
	run_splits(h, name, steps, LOGIN80_STEPS + n);
}

static void expect_text_prefix(const struct h_txn *t, size_t len, unsigned flags)
{
	const struct h_attr *a = h_attr(t, "db.query.text");

	ck_assert_msg(a && a->len == len, "text length %u, want %zu", a ? a->len : 0, len);
	ck_assert_int_eq(a->flags, flags);
	ck_assert(!memcmp(a->str, "SELECT 'xxx", 11));
	ck_assert_str_eq(h_str(t, "db.operation.name"), "SELECT");
}

START_TEST(test_long_query_cut)
{
	static uint8_t q[LONG_SQL + 16];
	static struct harness h;
	size_t n = put_long_sql(q, 0x03, LONG_SQL);
	const struct h_step steps[] = { { PROTO_REQ, q, n, 0 }, A(F_R_INS) };

	run_after_login(&h, "long query", steps, 2);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	expect_text_prefix(&h.txns[0], 1024, CUTS);
}
END_TEST

/* The query's first SEEN bytes, then a gap: salvaged, skipped, still in sync. */
START_TEST(test_query_then_gap)
{
	static uint8_t q[LONG_SQL + 16];
	static struct harness h;
	size_t n = put_long_sql(q, 0x03, LONG_SQL);
	const struct h_step steps[] = { { PROTO_REQ, q, SEEN, 0 },
		                        LOST(PROTO_REQ, n - SEEN),
		                        A(F_R_INS),
		                        Q(F_Q_SEL),
		                        A(F_R_SEL) };

	run_after_login(&h, "query then gap", steps, 5);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	expect_text_prefix(&h.txns[0], SEEN - 4 - 3, CUTS);
	ck_assert_str_eq(h_str(&h.txns[1], "db.query.text"), T_SEL);
	ck_assert_int_eq(h_int(&h.txns[1], "db.response.returned_rows"), 2);
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
}
END_TEST

/* A gap inside a row: the skip covers it, the rows still add up. */
START_TEST(test_gap_in_row)
{
	static uint8_t r[256], tail[64];
	static struct harness h;
	size_t n, t;

	memcpy(r, F_R_ONE_HEAD, sizeof(F_R_ONE_HEAD) - 1);
	n = put_hdr(r, sizeof(F_R_ONE_HEAD) - 1, 3, BIG_ROW);
	r[n] = 0xfc; /* a string with a 2-byte length: the rest of the row */
	r[n + 1] = (uint8_t)(BIG_ROW - 3);
	r[n + 2] = (uint8_t)((BIG_ROW - 3) >> 8);
	memset(r + n + 3, 'y', SEEN_ROW - 3);
	n += SEEN_ROW;
	t = put_pkt(tail, 0, 4, "\x01\x32", 2);
	t = put_pkt(tail, t, 5, "\xfe\x00\x00\x02\x00\x00\x00", 7);

	const struct h_step s[] = { Q(F_Q_ONE),
		                    { PROTO_RESP, r, n, 0 },
		                    LOST(PROTO_RESP, BIG_ROW - SEEN_ROW),
		                    { PROTO_RESP, tail, t, 0 } };

	run_after_login(&h, "gap in a row", s, 4);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h_int(&h.txns[0], "db.response.returned_rows"), 2);
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
}
END_TEST

/* A 16 MiB row: a full packet, its continuation, both mostly in gaps. */
START_TEST(test_row_continued)
{
	static uint8_t r[256], mid[64], tail[64];
	static struct harness h;
	size_t n, m, t;

	memcpy(r, F_R_ONE_HEAD, sizeof(F_R_ONE_HEAD) - 1);
	n = put_hdr(r, sizeof(F_R_ONE_HEAD) - 1, 3, 0xffffff);
	memcpy(r + n, "\xfe\x05\x00\x00\x01\x00\x00\x00\x00", 9); /* 0xfe: an 8-byte length */
	n += 9;
	m = put_hdr(mid, 0, 4, 5);
	memcpy(mid + m, "\xfe\x00\x00\x02\x00", 5); /* looks like an EOF, is row data */
	m += 5;
	t = put_pkt(tail, 0, 5, "\xfe\x00\x00\x02\x00\x00\x00", 7);
	{
		const struct h_step s[] = { Q(F_Q_ONE),
			                    { PROTO_RESP, r, n, 0 },
			                    LOST(PROTO_RESP, 0xffffff - 9),
			                    { PROTO_RESP, mid, m, 0 },
			                    { PROTO_RESP, tail, t, 0 } };

		run_after_login(&h, "16 MiB row", s, 5);
	}
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h_int(&h.txns[0], "db.response.returned_rows"), 1);
}
END_TEST

/* One command more than can be pending: dropped and counted, its answer unpaired. */
START_TEST(test_pending_full)
{
	static uint8_t q[PIPELINED * 5], r[PIPELINED * 11];
	static struct harness h;
	size_t nq = 0, nr = 0;

	for (int i = 0; i < PIPELINED; i++) {
		nq = put_pkt(q, nq, 0, "\x0e", 1);
		nr = put_pkt(r, nr, 1, "\x00\x00\x00\x02\x00\x00\x00", 7);
	}
	{
		const struct h_step s[] = { { PROTO_REQ, q, nq, 0 }, { PROTO_RESP, r, nr, 0 } };

		run_after_login(&h, "pending full", s, 2);
	}
	ck_assert_uint_eq(h.n, PIPELINED - 1);
	for (unsigned i = 0; i < h.n; i++) {
		expect_sane("pending full", i, &h.txns[i]);
		ck_assert_int_eq(h.txns[i].status, TXN_OK);
		ck_assert_str_eq(h_str(&h.txns[i], "db.operation.name"), "PING");
	}
	ck_assert_uint_eq(h.env.cnt.pending_dropped[PROTO_MYSQL], 1);
	ck_assert_uint_eq(h.env.cnt.unpaired[PROTO_MYSQL], 1);
}
END_TEST

/* COM_STMT_PREPARE "SELECT <id>", or a long statement past MANY. */
static size_t put_prepare(uint8_t *b, uint32_t id)
{
	char sql[32];
	int n;

	if (id > MANY)
		return put_long_sql(b, 0x16, LONG_SQL);
	n = snprintf(sql, sizeof(sql), "\x16SELECT %u", (unsigned)id);
	return put_pkt(b, 0, 0, sql, (size_t)n);
}

/* The executions of test_statement_table, copied as they are emitted. */
struct execs {
	unsigned total, n;
	struct {
		char op[32], text[LONG_SQL];
		uint32_t len;
		int flags; /* of db.query.text, -1: absent */
	} e[4];
};

static void keep_execs(struct proto_io *io, const struct l7_txn *t)
{
	struct execs *x = io->emit_ctx;

	x->total++;
	for (uint32_t i = 0; i < t->nattrs && x->n < 4; i++) {
		const struct txn_attr *a = &t->attrs[i];

		if (!strcmp(a->key, "db.operation.name") && strncmp(a->str, "STMT_PREPARE", a->len))
			snprintf(x->e[x->n].op, sizeof(x->e[0].op), "%.*s", (int)a->len, a->str);
	}
	if (!x->e[x->n].op[0])
		return;
	x->e[x->n].flags = -1;
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];

		if (strcmp(a->key, "db.query.text"))
			continue;
		x->e[x->n].len = a->len;
		x->e[x->n].flags = a->flags;
		memcpy(x->e[x->n].text, a->str, a->len);
	}
	x->n++;
}

/* Statement texts: MANY prepared, the oldest forgotten; a long one cut at 1 KiB. */
START_TEST(test_statement_table)
{
	enum { EXECS = 3 };
	static const uint32_t exec_ids[EXECS] = { 1, MANY, MANY + 1 };
	static uint8_t prep[MANY + 1][LONG_SQL + 16], ok[MANY + 1][16], exec[EXECS][16];
	static struct h_step s[LOGIN80_STEPS + 2 * (MANY + 1) + 2 * EXECS];
	static struct harness h;
	static struct execs x;
	size_t n = LOGIN80_STEPS;

	memcpy(s, login80, sizeof(login80));
	for (uint32_t i = 0; i <= MANY; i++) {
		uint8_t po[12] = { 0, (uint8_t)(i + 1), (uint8_t)((i + 1) >> 8) }; /* no columns */

		s[n++] = (struct h_step){ PROTO_REQ, prep[i], put_prepare(prep[i], i + 1), 0 };
		s[n++] = (struct h_step){ PROTO_RESP, ok[i], put_pkt(ok[i], 0, 1, po, sizeof(po)),
			                  0 };
	}
	for (int k = 0; k < EXECS; k++) {
		uint8_t e[10] = { 0x17, (uint8_t)exec_ids[k], 0, 0, 0, 0, 1, 0, 0, 0 };

		s[n++] = (struct h_step){ PROTO_REQ, exec[k], put_pkt(exec[k], 0, 0, e, sizeof(e)),
			                  0 };
		s[n++] = (struct h_step)A(F_R_INS);
	}
	harness_init(&h);
	h.env.emit = keep_execs;
	h.env.emit_ctx = &x;
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, s, n, 0, 0);
	ck_assert_uint_eq(x.total, MANY + 1 + EXECS);
	ck_assert_uint_eq(x.n, EXECS);
	/* the first statement was forgotten when the 65th came */
	ck_assert_str_eq(x.e[0].op, "STMT_EXECUTE");
	ck_assert_int_eq(x.e[0].flags, -1);
	ck_assert_str_eq(x.e[1].op, "SELECT");
	ck_assert(x.e[1].len == 9 && !memcmp(x.e[1].text, "SELECT 65", 9));
	ck_assert_int_eq(x.e[1].flags, SENS);
	ck_assert_str_eq(x.e[2].op, "SELECT");
	ck_assert_uint_eq(x.e[2].len, 1024);
	ck_assert_int_eq(x.e[2].flags, CUTS);
}
END_TEST

/* ---- detection --------------------------------------------------------- */

struct dcase {
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
#define DCUT(name, side, flags, lit, n, want)                                                      \
	{                                                                                          \
		name, side, flags, lit, n, want                                                    \
	}
#define RQ PROTO_REQ
#define RS PROTO_RESP
#define CS PROTO_CONN_START
#define MS PROTO_MIDSTREAM

static const struct dcase dcases[] = {
	D("mysql 8 greeting", RS, CS, F_G80, PROTO_YES),
	D("mariadb greeting", RS, CS, F_GMDB, PROTO_YES),
	D("greeting mid-stream", RS, MS, F_G80, PROTO_YES),
	DCUT("greeting's first 3 bytes", RS, CS, F_G80, 3, PROTO_MAYBE),
	DCUT("greeting's first 8 bytes", RS, CS, F_G80, 8, PROTO_MAYBE),
	DCUT("greeting up to its version", RS, CS, F_G80, 12, PROTO_YES),
	D("greeting as a request", RQ, CS, F_G80, PROTO_NO),
	D("greeting with id 1", RS, CS,
	  "J\x00\x00\x01\x0a"
	  "8.0.36\x00",
	  PROTO_NO),
	D("greeting with a control byte in the version", RS, CS,
	  "J\x00\x00\x00\x0a"
	  "8.0\x01"
	  "36\x00",
	  PROTO_NO),
	D("greeting version not a number", RS, CS, "J\x00\x00\x00\x0aMySQL\x00", PROTO_NO),
	D("greeting too short for its version", RS, CS,
	  "\x12\x00\x00\x00\x0a"
	  "8.0.36-log-extra\x00",
	  PROTO_NO),
	D("greeting too long", RS, CS,
	  "\x00\x10\x00\x00\x0a"
	  "8.0.36\x00",
	  PROTO_NO),
	D("pre-4.1 greeting", RS, CS,
	  "\x2c\x00\x00\x00\x0a"
	  "3.23.58\x00\x01\x00\x00\x00"
	  "abcdefgh\x00\x2c\x00",
	  PROTO_NO),
	D("command at connection start", RQ, CS, F_Q_SEL, PROTO_NO),
	D("handshake response at connection start", RQ, CS, F_HS80, PROTO_NO),
	D("query", RQ, MS, F_Q_ONE, PROTO_YES),
	D("query with attributes", RQ, MS, F_Q_SEL, PROTO_YES),
	D("ping", RQ, MS, F_PING, PROTO_YES),
	D("execute", RQ, MS, F_EXEC, PROTO_YES),
	D("init db", RQ, MS, F_INITDB, PROTO_YES),
	D("query's header only", RQ, MS, "\x09\x00\x00\x00", PROTO_MAYBE),
	D("ping with a body", RQ, MS, "\x02\x00\x00\x00\x0e\x00", PROTO_NO),
	D("unknown command", RQ, MS, "\x01\x00\x00\x00\x99", PROTO_NO),
	D("command with id 1", RQ, MS, "\x09\x00\x00\x01\x03SELECT 1", PROTO_NO),
	D("query of binary", RQ, MS, "\x04\x00\x00\x00\x03\x01\x02\x03", PROTO_NO),
	D("execute with 2 iterations", RQ, MS,
	  "\x0a\x00\x00\x00\x17\x01\x00\x00\x00\x00\x02\x00\x00\x00", PROTO_NO),
	D("PostgreSQL Query as a command", RQ, MS, "Q\x00\x00\x00\x0dSELECT 1\x00", PROTO_NO),
	D("OK", RS, MS, F_R_INS, PROTO_YES),
	D("ERR", RS, MS, F_R_ERR, PROTO_YES),
	D("EOF", RS, MS, "\x05\x00\x00\x05\xfe\x00\x00\x02\x00", PROTO_YES),
	D("column count", RS, MS, F_R_SEL, PROTO_YES),
	D("row (id 4)", RS, MS, "\x02\x00\x00\x04\x01\x31", PROTO_NO),
	D("ERR without SQLSTATE", RS, MS, "\x0c\x00\x00\x01\xff\x7a\x04Table t gone", PROTO_NO),
	D("OK too long", RS, MS, "\x00\x00\x01\x01\x00\x00\x00\x02\x00\x00\x00", PROTO_NO),
	D("answer at connection start", RS, CS, F_R_INS, PROTO_NO),
};

/* Other protocols' first bytes: never ours, on either side, at the start or later. */
static const struct dcase foreign[] = {
	D("HTTP request line", RQ, 0, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", PROTO_NO),
	D("HTTP response", RQ, 0, "HTTP/1.1 200 OK\r\n\r\n", PROTO_NO),
	D("PostgreSQL startup", RQ, 0,
	  "\x00\x00\x00\x29\x00\x03\x00\x00user\x00"
	  "alice\x00"
	  "database\x00shop\x00\x00",
	  PROTO_NO),
	D("PostgreSQL SSLRequest", RQ, 0, "\x00\x00\x00\x08\x04\xd2\x16\x2f", PROTO_NO),
	D("Redis PING", RQ, 0, "*1\r\n$4\r\nPING\r\n", PROTO_NO),
	D("TLS ClientHello", RQ, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x5e\x1a",
	  PROTO_NO),
	D("TLS ClientHello, short record", RQ, 0, "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03",
	  PROTO_NO),
	D("HTTP/2 preface", RQ, 0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PROTO_NO),
};

START_TEST(test_detect)
{
	const struct dcase *d = &dcases[_i];
	enum proto_match m = proto_mysql.detect(d->side, (const uint8_t *)d->p, d->len, d->flags);

	ck_assert_msg(m == d->want, "%s: %d, want %d", d->name, m, d->want);
}
END_TEST

START_TEST(test_detect_foreign)
{
	const struct dcase *d = &foreign[_i];

	for (int side = PROTO_REQ; side <= PROTO_RESP; side++)
		for (unsigned flags = 0; flags <= PROTO_MIDSTREAM; flags++)
			ck_assert_msg(proto_mysql.detect((enum proto_side)side,
			                                 (const uint8_t *)d->p, d->len,
			                                 flags) == PROTO_NO,
			              "%s detected (side %d, flags %u)", d->name, side, flags);
}
END_TEST

/* Every prefix of every fixture the tables hold: detect() reads only what it is given. */
START_TEST(test_detect_prefixes)
{
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++)
		for (size_t n = 1; n <= dcases[i].len; n++) {
			enum proto_match m = proto_mysql.detect(
			        dcases[i].side, (const uint8_t *)dcases[i].p, n, dcases[i].flags);

			ck_assert(m == PROTO_NO || m == PROTO_MAYBE || m == PROTO_YES);
			if (dcases[i].want == PROTO_NO)
				continue;
			ck_assert_msg(m != PROTO_NO, "%s: prefix %zu refused", dcases[i].name, n);
		}
}
END_TEST

Suite *proto_mysql_suite(void)
{
	Suite *s = suite_create("proto_mysql");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_garbage_then_resync);
	tcase_add_test(tc, test_long_query_cut);
	tcase_add_test(tc, test_query_then_gap);
	tcase_add_test(tc, test_gap_in_row);
	tcase_add_test(tc, test_row_continued);
	tcase_add_test(tc, test_pending_full);
	tcase_add_test(tc, test_statement_table);
	tcase_add_loop_test(tc, test_detect, 0, (int)(sizeof(dcases) / sizeof(dcases[0])));
	tcase_add_loop_test(tc, test_detect_foreign, 0,
	                    (int)(sizeof(foreign) / sizeof(foreign[0])));
	tcase_add_test(tc, test_detect_prefixes);
	suite_add_tcase(s, tc);
	return s;
}
