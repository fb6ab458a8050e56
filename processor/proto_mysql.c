// SPDX-License-Identifier: Apache-2.0
/*
 * MySQL / MariaDB client/server protocol, driven through the byte-stream
 * model of processor/proto.h. Every byte is hostile: lengths, counts and
 * sequence ids are checked before use, and only a bounded prefix of each
 * packet is looked at (the command and its first kilobyte of SQL, the first
 * bytes of a response); the session skips the rest unseen, so a row or a
 * column definition costs one 4-byte header.
 *
 * Framing: a packet is a 3-byte little-endian payload length and a sequence
 * id; a payload of MYSQL_PAYLOAD_MAX bytes continues in the next packet,
 * which is skipped whole.
 *
 * Phases: the server speaks first (HandshakeV10: version, capabilities), the
 * client answers (HandshakeResponse41: user, schema; its auth data is never
 * read), or sends a 32-byte SSLRequest after which the stream is TLS.
 * Authentication ends at the server's OK; an ERR there is emitted as a
 * "CONNECT" transaction carrying the error code, a success emits nothing.
 * The capabilities that change the wire format (CLIENT_COMPRESS: the parser
 * gives up, PROTO_NONE) are taken from both sides.
 *
 * Commands have sequence id 0 and get exactly one response (possibly several
 * result sets while SERVER_MORE_RESULTS_EXISTS is set), whose first packet
 * has sequence id 1; within a response, ids must follow each other or the
 * side has lost sync. A response packet with id 1 and no pending command is
 * counted as unpaired and read through without emitting.
 *
 * Capabilities unknown (mid-stream): EOF and OK terminators are told apart
 * by length (an EOF_Packet is 5 bytes, an OK at least 7), which works with
 * and without CLIENT_DEPRECATE_EOF, so both are always accepted; the
 * optional EOFs after COM_STMT_PREPARE's definitions are recognised by their
 * shape and sequence id; COM_QUERY's query attributes (CLIENT_QUERY_ATTRIBUTES)
 * by their shape (a control byte count then a set count of 1).
 *
 * Never exported: passwords and auth data, statement parameters, LOCAL
 * INFILE names and contents, error messages, row contents.
 *
 * Memory: struct mysql_state (under MYSQL_STATE_MAX bytes) plus, once a
 * statement is prepared, a table of MYSQL_STMT_MAX slots whose texts are
 * allocated at their size (at most MYSQL_STMT_TEXT_MAX each), freed in fini.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor/proto.h"

#define MYSQL_HDR            4         /* payload length (3) + sequence id (1) */
#define MYSQL_PAYLOAD_MAX    0xffffffu /* a payload this long continues in the next packet */
#define MYSQL_QUERY_MAX      1024      /* SQL text kept per request (db.query.text) */
#define MYSQL_TEXT_BUF       1024      /* text bytes shared by all pending requests */
#define MYSQL_PENDING_MAX    8         /* commands awaiting their response */
#define MYSQL_STMT_MAX       64        /* prepared statements remembered per connection */
#define MYSQL_STMT_TEXT_MAX  1024      /* text kept per prepared statement */
#define MYSQL_NAME_MAX       64        /* user and schema names kept */
#define MYSQL_OP_MAX         16        /* db.operation.name taken from SQL: letters */
#define MYSQL_CMD_PEEK       4096      /* bytes of a command read: attributes + MYSQL_QUERY_MAX */
#define MYSQL_STMT_PEEK      5         /* command byte + statement id */
#define MYSQL_HS_PEEK        1024      /* bytes of a handshake response read (user, schema) */
#define MYSQL_GREETING_PEEK  512       /* bytes of a server greeting read */
#define MYSQL_OK_PEEK        512       /* bytes of an OK/EOF read (status, session schema) */
#define MYSQL_ERR_PEEK       9         /* 0xff, error code, '#', SQLSTATE */
#define MYSQL_COUNT_PEEK     10        /* column count (lenenc) + metadata flag */
#define MYSQL_QATTR_MAX      64        /* query attributes walked to reach COM_QUERY's text */
#define MYSQL_COLS_MAX       65535     /* columns in a result set (a u16 in COM_STMT_PREPARE_OK) */
#define MYSQL_VERSION_MAX    64        /* server version string in a greeting */
#define MYSQL_GREETING_MIN   18        /* 0x0a, 1-char version, NUL, id, auth 1, filler, caps */
#define MYSQL_GREETING_MAX   1024      /* plausible greeting payload */
#define MYSQL_HS_MIN         32    /* HandshakeResponse41 fixed part; an SSLRequest is all of it */
#define MYSQL_EOF_LEN        5     /* EOF_Packet: 0xfe, warnings, status */
#define MYSQL_LENENC8_LEN    9     /* 0xfe and an 8-byte integer */
#define MYSQL_OK_MIN         7     /* OK_Packet: header, 2 lenenc, status, warnings */
#define MYSQL_OK_DETECT_MAX  16384 /* plausible OK payload when resyncing */
#define MYSQL_ERR_MIN        9     /* protocol 4.1 ERR_Packet before its message */
#define MYSQL_ERR_DETECT_MAX 1024  /* plausible ERR payload (messages are < 512 bytes) */
#define MYSQL_STATE_MAX      1536  /* budget for struct mysql_state */

/* Capability flags (Protocol::CapabilityFlags) the parser looks at. */
#define CAP_CONNECT_WITH_DB (1u << 3)
#define CAP_COMPRESS        (1u << 5)
#define CAP_PROTOCOL_41     (1u << 9)
#define CAP_SSL             (1u << 11)
#define CAP_SECURE_CONN     (1u << 15)
#define CAP_AUTH_LENENC     (1u << 21)
#define CAP_SESSION_TRACK   (1u << 23)
#define CAP_ZSTD            (1u << 26)
#define CAP_QUERY_ATTRS     (1u << 27)

/* Server status flags. */
#define ST_MORE_RESULTS  0x0008
#define ST_CURSOR_EXISTS 0x0040
#define ST_STATE_CHANGED 0x4000

#define SESSION_TRACK_SCHEMA 1           /* session state change: current schema */
#define ERR_PROGRESS         0xffff      /* MariaDB progress report: not the final answer */
#define STMT_LAST            0xffffffffu /* MariaDB: the statement prepared last */

#define COM_CONNECT      0x0b /* server-internal: stands for the login in emitted txns */
#define COM_QUERY        0x03
#define COM_INIT_DB      0x02
#define COM_CHANGE_USER  0x11
#define COM_STMT_PREPARE 0x16
#define COM_STMT_CLOSE   0x19
#define COM_BULK_EXECUTE 0xfa /* MariaDB COM_STMT_BULK_EXECUTE */

enum mysql_phase {
	PH_INIT = 0, /* nothing seen yet */
	PH_AUTH,     /* greeting or handshake response seen, login not finished */
	PH_CMD,      /* command phase (also: mid-stream start) */
	PH_OFF,      /* TLS or compression follows: nothing more to read */
};

/* What answers a command. */
enum mysql_kind {
	K_NONE = 0, /* no response: emitted at once */
	K_SILENT,   /* no response, not emitted (COM_STMT_SEND_LONG_DATA streams a parameter) */
	K_ONE,      /* one packet: OK, ERR, EOF or a string */
	K_RESULT,   /* OK, ERR, LOCAL INFILE or result sets */
	K_PREPARE,  /* COM_STMT_PREPARE_OK + definitions, or ERR */
	K_ROWS,     /* rows then a terminator (COM_STMT_FETCH) */
	K_FIELDS,   /* column definitions then a terminator (COM_FIELD_LIST) */
	K_AUTH,     /* an authentication exchange ending in OK or ERR (COM_CHANGE_USER) */
	K_STREAM,   /* replication events until EOF or ERR */
	K_INFILE,   /* after a LOCAL INFILE request: OK or ERR once the file is sent */
};

/* What a command carries that the parser keeps. */
enum mysql_arg {
	ARG_NONE = 0,
	ARG_SQL,    /* SQL text: db.query.text */
	ARG_STMT,   /* statement id: the prepared text */
	ARG_SCHEMA, /* schema name: db.namespace once accepted */
	ARG_USER,   /* COM_CHANGE_USER */
};

struct mysql_cmd {
	const char *name; /* db.operation.name when the SQL gives none: COM_ without its prefix */
	uint8_t kind;     /* enum mysql_kind */
	uint8_t arg;      /* enum mysql_arg */
	bool sql_op;      /* db.operation.name from the SQL keyword */
	uint16_t peek;    /* bytes of the command read */
	uint32_t min;     /* payload length bounds; min 0: not a client command */
	uint32_t max;
};

#define ANY MYSQL_PAYLOAD_MAX

/* Client commands by command byte (COM_*); COM_CONNECT only names a login. */
static const struct mysql_cmd cmds[0x20] = {
	[0x01] = { "QUIT", K_NONE, ARG_NONE, false, 1, 1, 1 },
	[0x02] = { "INIT_DB", K_ONE, ARG_SCHEMA, false, MYSQL_CMD_PEEK, 1, ANY },
	[0x03] = { "QUERY", K_RESULT, ARG_SQL, true, MYSQL_CMD_PEEK, 1, ANY },
	[0x04] = { "FIELD_LIST", K_FIELDS, ARG_NONE, false, 1, 2, ANY },
	[0x05] = { "CREATE_DB", K_ONE, ARG_NONE, false, 1, 1, ANY },
	[0x06] = { "DROP_DB", K_ONE, ARG_NONE, false, 1, 1, ANY },
	[0x07] = { "REFRESH", K_ONE, ARG_NONE, false, 1, 2, 2 },
	[0x08] = { "SHUTDOWN", K_ONE, ARG_NONE, false, 1, 1, 2 },
	[0x09] = { "STATISTICS", K_ONE, ARG_NONE, false, 1, 1, 1 },
	[0x0a] = { "PROCESS_INFO", K_RESULT, ARG_NONE, false, 1, 1, 1 },
	[0x0b] = { "CONNECT", K_ONE, ARG_NONE, false, 1, 0, 0 },
	[0x0c] = { "PROCESS_KILL", K_ONE, ARG_NONE, false, 1, 5, 5 },
	[0x0d] = { "DEBUG", K_ONE, ARG_NONE, false, 1, 1, 1 },
	[0x0e] = { "PING", K_ONE, ARG_NONE, false, 1, 1, 1 },
	[0x11] = { "CHANGE_USER", K_AUTH, ARG_USER, false, MYSQL_CMD_PEEK, 2, ANY },
	[0x12] = { "BINLOG_DUMP", K_STREAM, ARG_NONE, false, 1, 11, ANY },
	[0x15] = { "REGISTER_SLAVE", K_ONE, ARG_NONE, false, 1, 1, ANY },
	[0x16] = { "STMT_PREPARE", K_PREPARE, ARG_SQL, false, MYSQL_CMD_PEEK, 1, ANY },
	[0x17] = { "STMT_EXECUTE", K_RESULT, ARG_STMT, true, MYSQL_STMT_PEEK, 10, ANY },
	[0x18] = { "STMT_SEND_LONG_DATA", K_SILENT, ARG_NONE, false, 1, 7, ANY },
	[0x19] = { "STMT_CLOSE", K_NONE, ARG_STMT, false, MYSQL_STMT_PEEK, 5, 5 },
	[0x1a] = { "STMT_RESET", K_ONE, ARG_STMT, false, MYSQL_STMT_PEEK, 5, 5 },
	[0x1b] = { "SET_OPTION", K_ONE, ARG_NONE, false, 1, 3, 3 },
	[0x1c] = { "STMT_FETCH", K_ROWS, ARG_STMT, false, MYSQL_STMT_PEEK, 9, 9 },
	[0x1e] = { "BINLOG_DUMP_GTID", K_STREAM, ARG_NONE, false, 1, 11, ANY },
	[0x1f] = { "RESET_CONNECTION", K_ONE, ARG_NONE, false, 1, 1, 1 },
};

static const struct mysql_cmd cmd_bulk = {
	"STMT_BULK_EXECUTE", K_RESULT, ARG_STMT, true, MYSQL_STMT_PEEK, 7, ANY,
};

/* A command awaiting its response; its text is in mysql_state.text. */
struct mysql_pending {
	uint64_t start_ns;
	uint32_t stmt_id;
	uint16_t text_len;
	uint8_t cmd;
	uint8_t flags; /* PF_* */
};

#define PF_TRUNC 0x01 /* the text was cut */
#define PF_LONG  0x02 /* the command spans packets: its response's first id is not 1 */
#define PF_STMT  0x04 /* stmt_id was read */

struct mysql_name {
	uint8_t len;
	bool cut;
	char s[MYSQL_NAME_MAX];
};

struct mysql_stmt {
	char *text; /* len bytes, NULL when len == 0 */
	uint32_t id;
	uint32_t age; /* stmt_clock when stored: the smallest is evicted first */
	uint16_t len;
	bool used, cut;
};

/* Response reader states. */
enum mysql_rstate {
	R_IDLE = 0, /* next packet starts a response (or the next result set) */
	R_COLDEFS,  /* defs_left column definitions to skip */
	R_COLEOF,   /* after the definitions: an EOF, or rows */
	R_ROWS,     /* rows until a terminator */
	R_FIELDS,   /* COM_FIELD_LIST: definitions until a terminator */
	R_WAIT,     /* packets until the final OK/ERR (auth, LOCAL INFILE, stream) */
	R_TRAIL,    /* after COM_STMT_PREPARE_OK (already emitted): its definitions */
};

#define RF_ORPHAN    0x02 /* reading a response nobody asked for */
#define RF_MORE      0x04 /* another result set of the same command follows */
#define RF_RESULTSET 0x08 /* a result set was seen: report returned rows */

#define CF_MARIADB  0x01
#define CF_SRV_CAPS 0x02
#define CF_CLI_CAPS 0x04
#define CF_HS_SEEN  0x08 /* the client's handshake response was read */

struct mysql_state {
	uint8_t phase;       /* enum mysql_phase */
	uint8_t conn;        /* CF_* */
	bool cont[2];        /* by side: the previous packet was MYSQL_PAYLOAD_MAX long */
	uint8_t req_prev;    /* sequence id of the previous request-side packet */
	uint8_t rstate;      /* enum mysql_rstate */
	uint8_t rkind;       /* enum mysql_kind of the response being read */
	uint8_t rseq;        /* id the next server packet carries if it continues the last one */
	uint8_t rflags;      /* RF_* */
	bool rsynced;        /* a server packet was read since the start or the last reset */
	bool trail_eof;      /* R_TRAIL: an EOF may follow the definitions just skipped */
	uint16_t trail_cols; /* R_TRAIL: column definitions after the parameter ones */
	uint32_t srv_caps, cli_caps;
	uint32_t defs_left;
	uint32_t last_stmt; /* id of the statement prepared last */
	uint64_t rows;      /* rows of the response's result sets so far */
	uint64_t auth_ns;   /* when the handshake response was seen */
	struct mysql_name user, ns;
	uint8_t npend;
	uint16_t text_used; /* pending texts, head first, packed from text[0] */
	struct mysql_pending pend[MYSQL_PENDING_MAX];
	char text[MYSQL_TEXT_BUF];
	struct mysql_stmt *stmts; /* MYSQL_STMT_MAX slots, allocated at the first prepare */
	uint32_t stmt_clock;
	uint64_t stmt_evicted; /* statements forgotten to make room */
};

_Static_assert(sizeof(struct mysql_state) <= MYSQL_STATE_MAX, "per-connection state budget");
_Static_assert(MYSQL_QUERY_MAX <= MYSQL_TEXT_BUF && MYSQL_TEXT_BUF <= UINT16_MAX, "text fits");
_Static_assert(MYSQL_PENDING_MAX <= UINT8_MAX && MYSQL_NAME_MAX <= UINT8_MAX, "counters fit");
_Static_assert(MYSQL_CMD_PEEK + MYSQL_HDR <= PROTO_CARRY_MAX, "the session can hold a peek");
_Static_assert(MYSQL_HS_PEEK + MYSQL_HDR <= PROTO_CARRY_MAX, "the session can hold a peek");

/* One packet: its header and the payload bytes present (a prefix when cut). */
struct pkt {
	const uint8_t *p;
	size_t avail; /* <= plen */
	uint32_t plen;
	uint8_t seq;
};

/* How a response ended. */
struct outcome {
	enum txn_status status;
	uint32_t code; /* error code, 0: none */
	int64_t rows;  /* returned rows, < 0: not a result set */
	uint64_t end_ns;
};

/* ---- byte helpers ------------------------------------------------------ */

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le24(const uint8_t *p)
{
	return le16(p) | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}

/* A length-encoded integer at p[*pos] within n bytes; false when cut or not one. */
static bool lenenc(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
	size_t w;
	uint8_t b;

	if (*pos >= n)
		return false;
	b = p[*pos];
	if (b < 0xfb) {
		*v = b;
		(*pos)++;
		return true;
	}
	if (b == 0xfb || b == 0xff)
		return false; /* NULL marker / ERR header: not an integer */
	w = b == 0xfc ? 2 : b == 0xfd ? 3 : 8;
	if (n - *pos - 1 < w)
		return false;
	*v = 0;
	for (size_t i = 0; i < w; i++)
		*v |= (uint64_t)p[*pos + 1 + i] << (8 * i);
	*pos += 1 + w;
	return true;
}

/* Skip a length-encoded string; false when it runs past n. */
static bool lenenc_skip(const uint8_t *p, size_t n, size_t *pos)
{
	uint64_t len;

	if (!lenenc(p, n, pos, &len) || len > n - *pos)
		return false;
	*pos += (size_t)len;
	return true;
}

/*
 * A NUL-terminated string at p[*pos] within n bytes: its length, *pos past
 * the NUL. false when there is no NUL (the rest of the bytes are the string).
 */
static bool cstr(const uint8_t *p, size_t n, size_t *pos, size_t *len)
{
	const uint8_t *z;

	if (*pos >= n) {
		*len = 0;
		return false;
	}
	z = memchr(p + *pos, 0, n - *pos);
	if (!z) {
		*len = n - *pos;
		*pos = n;
		return false;
	}
	*len = (size_t)(z - (p + *pos));
	*pos += *len + 1;
	return true;
}

static void name_set(struct mysql_name *dst, const void *s, size_t n, bool cut)
{
	dst->cut = cut || n > MYSQL_NAME_MAX;
	dst->len = (uint8_t)(n > MYSQL_NAME_MAX ? MYSQL_NAME_MAX : n);
	memcpy(dst->s, s, dst->len);
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static const struct mysql_cmd *cmd_info(uint8_t cmd)
{
	if (cmd == COM_BULK_EXECUTE)
		return &cmd_bulk;
	if (cmd >= sizeof(cmds) / sizeof(cmds[0]) || !cmds[cmd].name)
		return NULL;
	return &cmds[cmd];
}

/* ---- SQL --------------------------------------------------------------- */

/* Past whitespace, '(' and comments; into executable comments ("/ *!50100 ... * /"). */
static size_t sql_skip_noise(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *end;

		if (is_space((uint8_t)s[i]) || s[i] == '(') {
			i++;
		} else if (n - i >= 3 && s[i] == '/' && s[i + 1] == '*' && s[i + 2] == '!') {
			for (i += 3; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				;
		} else if (n - i >= 2 && s[i] == '/' && s[i + 1] == '*') {
			end = memmem(s + i + 2, n - i - 2, "*/", 2);
			i = end ? (size_t)(end - s) + 2 : n;
		} else if (s[i] == '#' || (n - i >= 3 && s[i] == '-' && s[i + 1] == '-' &&
		                           is_space((uint8_t)s[i + 2]))) {
			end = memchr(s + i, '\n', n - i);
			i = end ? (size_t)(end - s) + 1 : n;
		} else {
			break;
		}
	}
	return i;
}

/*
 * The statement's first keyword, uppercased, in op (MYSQL_OP_MAX letters at
 * most, else none); *after is where it ends. Returns its length, 0 for none.
 */
static size_t sql_op(const char *s, size_t n, char *op, size_t *after)
{
	size_t i = sql_skip_noise(s, n), len = 0;

	while (i < n && is_alpha((uint8_t)s[i])) {
		if (len == MYSQL_OP_MAX)
			return 0;
		op[len++] = (char)(s[i] & ~0x20);
		i++;
	}
	if (after)
		*after = i;
	return len;
}

/* "USE name" succeeded: the schema for later transactions. */
static void sql_use(struct mysql_state *st, const char *s, size_t n)
{
	char op[MYSQL_OP_MAX];
	size_t i, start, oplen = sql_op(s, n, op, &i);

	if (oplen != 3 || memcmp(op, "USE", 3) != 0)
		return;
	while (i < n && is_space((uint8_t)s[i]))
		i++;
	if (i < n && s[i] == '`') {
		const char *q = memchr(s + i + 1, '`', n - i - 1);

		if (q)
			name_set(&st->ns, s + i + 1, (size_t)(q - s) - i - 1, false);
		return;
	}
	for (start = i; i < n && (is_alpha((uint8_t)s[i]) || (s[i] >= '0' && s[i] <= '9') ||
	                          s[i] == '_' || s[i] == '$');
	     i++)
		;
	if (i > start)
		name_set(&st->ns, s + start, i - start, false);
}

/* ---- query attributes (COM_QUERY with CLIENT_QUERY_ATTRIBUTES) ---------- */

/* Skip one binary protocol value of field type @type. */
static bool value_skip(const uint8_t *p, size_t n, size_t *pos, uint8_t type)
{
	size_t w;

	switch (type) {
	case 6: /* NULL */
		w = 0;
		break;
	case 1: /* TINY */
		w = 1;
		break;
	case 2:  /* SHORT */
	case 13: /* YEAR */
		w = 2;
		break;
	case 3: /* LONG */
	case 4: /* FLOAT */
	case 9: /* INT24 */
		w = 4;
		break;
	case 5: /* DOUBLE */
	case 8: /* LONGLONG */
		w = 8;
		break;
	case 7:  /* TIMESTAMP */
	case 10: /* DATE */
	case 11: /* TIME */
	case 12: /* DATETIME: a length byte, then that many */
		if (*pos >= n)
			return false;
		w = 1 + (size_t)p[*pos];
		break;
	case 0:  /* DECIMAL */
	case 15: /* VARCHAR */
	case 16: /* BIT */
		return lenenc_skip(p, n, pos);
	default:
		if (type >= 245) /* JSON .. GEOMETRY: length-encoded strings */
			return lenenc_skip(p, n, pos);
		return false;
	}
	if (n - *pos < w)
		return false;
	*pos += w;
	return true;
}

/* Walk the attribute block after COM_QUERY's command byte; *pos ends at the SQL. */
static bool qattr_skip(const uint8_t *p, size_t n, size_t *pos)
{
	uint8_t types[MYSQL_QATTR_MAX];
	uint64_t count, sets;
	size_t nulls, nbytes;

	if (!lenenc(p, n, pos, &count) || !lenenc(p, n, pos, &sets))
		return false;
	if (count == 0)
		return true;
	if (count > MYSQL_QATTR_MAX)
		return false;
	nbytes = ((size_t)count + 7) / 8;
	if (n - *pos < nbytes + 1 || p[*pos + nbytes] != 1)
		return false; /* without types (bind flag 0) the values cannot be walked */
	nulls = *pos;
	*pos += nbytes + 1;
	for (size_t i = 0; i < count; i++) {
		if (n - *pos < 2)
			return false;
		types[i] = p[*pos];
		*pos += 2;
		if (!lenenc_skip(p, n, pos))
			return false;
	}
	for (size_t i = 0; i < count; i++)
		if (!(p[nulls + i / 8] >> (i % 8) & 1) && !value_skip(p, n, pos, types[i]))
			return false;
	return true;
}

/* Does this COM_QUERY carry query attributes? From the capabilities, else its shape. */
static bool has_qattrs(const struct mysql_state *st, const struct pkt *k)
{
	uint32_t srv = st->conn & CF_SRV_CAPS ? st->srv_caps : UINT32_MAX;

	if (st->conn & CF_CLI_CAPS)
		return st->cli_caps & srv & CAP_QUERY_ATTRS;
	if (!(srv & CAP_QUERY_ATTRS))
		return false;
	/* SQL does not start with a control byte followed by 0x01. */
	return k->avail >= 3 && k->p[1] < 0x20 && k->p[2] == 1;
}

/* ---- pending commands -------------------------------------------------- */

/* Offset in st->text of pending entry @i's text. */
static size_t pend_text_off(const struct mysql_state *st, size_t i)
{
	size_t off = 0;

	for (size_t j = 0; j < i; j++)
		off += st->pend[j].text_len;
	return off;
}

static void pend_pop(struct mysql_state *st)
{
	size_t n = st->pend[0].text_len;

	memmove(st->text, st->text + n, st->text_used - n);
	st->text_used = (uint16_t)(st->text_used - n);
	memmove(&st->pend[0], &st->pend[1], (st->npend - 1u) * sizeof(st->pend[0]));
	st->npend--;
}

/* Queue @e with a copy of its text, cut to MYSQL_QUERY_MAX and to the room left. */
static void pend_push(struct mysql_state *st, struct proto_io *io, struct mysql_pending e,
                      const void *text, size_t len)
{
	size_t room = MYSQL_TEXT_BUF - st->text_used, n = len;

	if (st->npend == MYSQL_PENDING_MAX) {
		io->cnt->pending_dropped[PROTO_MYSQL]++;
		return;
	}
	if (n > MYSQL_QUERY_MAX)
		n = MYSQL_QUERY_MAX;
	if (n > room)
		n = room;
	if (n < len)
		e.flags |= PF_TRUNC;
	if (n)
		memcpy(st->text + st->text_used, text, n);
	e.text_len = (uint16_t)n;
	st->text_used = (uint16_t)(st->text_used + n);
	st->pend[st->npend++] = e;
}

/* ---- prepared statements ----------------------------------------------- */

static struct mysql_stmt *stmt_find(const struct mysql_state *st, uint32_t id)
{
	for (size_t i = 0; st->stmts && i < MYSQL_STMT_MAX; i++)
		if (st->stmts[i].used && st->stmts[i].id == id)
			return &st->stmts[i];
	return NULL;
}

static void stmt_clear(struct mysql_stmt *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* The slot for a new statement: its id's, a free one, or the oldest (evicted). */
static struct mysql_stmt *stmt_slot(struct mysql_state *st, uint32_t id)
{
	struct mysql_stmt *s = stmt_find(st, id), *oldest = NULL;

	if (s)
		return s;
	for (size_t i = 0; i < MYSQL_STMT_MAX; i++) {
		if (!st->stmts[i].used)
			return &st->stmts[i];
		if (!oldest || st->stmts[i].age < oldest->age)
			oldest = &st->stmts[i];
	}
	st->stmt_evicted++;
	return oldest;
}

static void stmt_store(struct mysql_state *st, uint32_t id, const char *text, size_t len, bool cut)
{
	struct mysql_stmt *s;

	if (!st->stmts) {
		st->stmts = calloc(MYSQL_STMT_MAX, sizeof(*st->stmts));
		if (!st->stmts)
			return; /* executions will carry no text */
	}
	s = stmt_slot(st, id);
	stmt_clear(s);
	if (len > MYSQL_STMT_TEXT_MAX) {
		len = MYSQL_STMT_TEXT_MAX;
		cut = true;
	}
	if (len) {
		s->text = malloc(len);
		if (!s->text)
			return;
		memcpy(s->text, text, len);
	}
	s->id = id;
	s->len = (uint16_t)len;
	s->cut = cut;
	s->used = true;
	s->age = st->stmt_clock++;
	st->last_stmt = id;
}

/* Text of statement @id for a new command: a pending prepare's for STMT_LAST. */
static void stmt_text(const struct mysql_state *st, uint32_t id, const char **text, size_t *len,
                      bool *cut)
{
	const struct mysql_stmt *s;

	*text = NULL;
	*len = 0;
	*cut = false;
	if (id == STMT_LAST) {
		for (size_t i = st->npend; i-- > 0;) {
			if (st->pend[i].cmd != COM_STMT_PREPARE)
				continue;
			*text = st->text + pend_text_off(st, i);
			*len = st->pend[i].text_len;
			*cut = st->pend[i].flags & PF_TRUNC;
			return;
		}
		id = st->last_stmt;
	}
	s = stmt_find(st, id);
	if (s) {
		*text = s->text;
		*len = s->len;
		*cut = s->cut;
	}
}

/* ---- transactions ------------------------------------------------------ */

static void add_identity(const struct mysql_state *st, struct proto_io *io, struct l7_txn *t)
{
	const char *sys = st->conn & CF_MARIADB ? "mariadb" : "mysql";

	txn_str(t, io->cnt, "db.system.name", sys, strlen(sys), 0);
	if (st->ns.len || st->ns.cut)
		txn_str(t, io->cnt, "db.namespace", st->ns.s, st->ns.len,
		        st->ns.cut ? TXN_TRUNCATED : 0);
	if (st->user.len || st->user.cut)
		txn_str(t, io->cnt, "db.user", st->user.s, st->user.len,
		        TXN_SENSITIVE | (st->user.cut ? TXN_TRUNCATED : 0));
}

/* Emit @e (its text at @text) with how it ended. */
static void emit(const struct mysql_state *st, struct proto_io *io, const struct mysql_pending *e,
                 const char *text, const struct outcome *o)
{
	const struct mysql_cmd *c = cmd_info(e->cmd);
	char op[MYSQL_OP_MAX], code[12];
	size_t oplen = 0;
	struct l7_txn t;
	int n;

	txn_init(&t, PROTO_MYSQL, e->start_ns);
	t.status = o->status;
	/* A response held in the carry has its first byte's time, which may be earlier. */
	t.end_ns = o->end_ns > e->start_ns ? o->end_ns : e->start_ns;
	add_identity(st, io, &t);
	if (c->sql_op)
		oplen = sql_op(text, e->text_len, op, NULL);
	if (oplen)
		txn_str(&t, io->cnt, "db.operation.name", op, oplen, 0);
	else
		txn_str(&t, io->cnt, "db.operation.name", c->name, strlen(c->name), 0);
	if ((c->arg == ARG_SQL || c->arg == ARG_STMT) && (e->text_len || (e->flags & PF_TRUNC)))
		txn_str(&t, io->cnt, "db.query.text", text ? text : "", e->text_len,
		        TXN_SENSITIVE | (e->flags & PF_TRUNC ? TXN_TRUNCATED : 0));
	if (o->code) {
		n = snprintf(code, sizeof(code), "%u", (unsigned)o->code);
		txn_str(&t, io->cnt, "db.response.status_code", code, (size_t)n, 0);
	}
	if (o->rows >= 0)
		txn_int(&t, io->cnt, "db.response.returned_rows", o->rows);
	proto_emit(io, &t);
}

static void resp_reset(struct mysql_state *st)
{
	st->rstate = R_IDLE;
	st->rflags = 0;
	st->rows = 0;
	st->defs_left = 0;
	st->trail_cols = 0;
	st->trail_eof = false;
}

/* Every pending command goes out without a response. */
static void settle_all(struct mysql_state *st, struct proto_io *io)
{
	while (st->npend) {
		const struct outcome o = { TXN_NO_RESPONSE, 0, -1, st->pend[0].start_ns };

		emit(st, io, &st->pend[0], st->text, &o);
		pend_pop(st);
	}
}

/* The response being read is complete: emit and dequeue its command. */
static int finish(struct mysql_state *st, struct proto_io *io, enum txn_status status,
                  uint32_t code)
{
	struct outcome o = { status, code, -1, io->ts_ns };
	struct mysql_pending *e = &st->pend[0];

	if (!(st->rflags & RF_ORPHAN) && st->npend) {
		if (status == TXN_OK && (st->rflags & RF_RESULTSET))
			o.rows = (int64_t)(st->rows & INT64_MAX);
		if (status == TXN_OK && e->cmd == COM_INIT_DB)
			name_set(&st->ns, st->text, e->text_len, e->flags & PF_TRUNC);
		if (status == TXN_OK && e->cmd == COM_QUERY)
			sql_use(st, st->text, e->text_len);
		emit(st, io, e, st->text, &o);
		pend_pop(st);
	}
	resp_reset(st);
	return 0;
}

/* ---- server packets ---------------------------------------------------- */

/* Session state changes in an OK: the current schema, when it changed. */
static void ok_session_schema(struct mysql_state *st, const uint8_t *p, size_t n, size_t pos)
{
	uint64_t len, dlen, slen;
	size_t end;

	if (!lenenc_skip(p, n, &pos) || !lenenc(p, n, &pos, &len) || len > n - pos)
		return; /* info, then the state block */
	end = pos + (size_t)len;
	while (pos < end) {
		uint8_t type = p[pos++];
		size_t q;

		if (!lenenc(p, end, &pos, &dlen) || dlen > end - pos)
			return;
		q = pos;
		if (type == SESSION_TRACK_SCHEMA && lenenc(p, pos + dlen, &q, &slen) &&
		    slen <= pos + dlen - q)
			name_set(&st->ns, p + q, (size_t)slen, false);
		pos += (size_t)dlen;
	}
}

/* Status flags of an OK or EOF packet (0 when cut before them). */
static uint32_t ok_status(struct mysql_state *st, const struct pkt *k)
{
	size_t pos = 1;
	uint32_t status;

	if (k->p[0] == 0xfe && k->plen < MYSQL_OK_MIN)
		return k->avail >= MYSQL_EOF_LEN ? le16(k->p + 3) : 0;
	if (!lenenc(k->p, k->avail, &pos, &(uint64_t){ 0 }) ||
	    !lenenc(k->p, k->avail, &pos, &(uint64_t){ 0 }) || k->avail - pos < 4)
		return 0;
	status = le16(k->p + pos);
	/* Without CLIENT_SESSION_TRACK the info is the rest and the flag is never set. */
	if ((status & ST_STATE_CHANGED) &&
	    (!(st->conn & CF_CLI_CAPS) || (st->cli_caps & CAP_SESSION_TRACK)))
		ok_session_schema(st, k->p, k->avail, pos + 4);
	return status;
}

static bool is_eof(const struct pkt *k)
{
	return k->plen == MYSQL_EOF_LEN && k->p[0] == 0xfe;
}

/* A result set's or a command's final OK/EOF: more results, or done. */
static int terminator(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (ok_status(st, k) & ST_MORE_RESULTS) {
		st->rstate = R_IDLE;
		st->rflags |= RF_MORE;
		return 0;
	}
	return finish(st, io, TXN_OK, 0);
}

static int err_packet(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	uint32_t code;

	if (k->plen < 3)
		return PROTO_INVALID;
	code = k->avail >= 3 ? le16(k->p + 1) : 0;
	if (code == ERR_PROGRESS) {
		if (st->rstate == R_IDLE)
			st->rflags |= RF_MORE; /* the answer follows, ids continuing */
		return 0;
	}
	return finish(st, io, TXN_ERROR, code);
}

/* A packet in the rows (or field list) of a result set. */
static int rows(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (k->plen == 0)
		return PROTO_INVALID;
	if (k->p[0] == 0xff)
		return err_packet(st, io, k);
	/* A row starts with 0xfe only for a >= 16 MiB value, in a full-length packet. */
	if (k->p[0] == 0xfe && k->plen < MYSQL_PAYLOAD_MAX)
		return terminator(st, io, k);
	if (st->rstate == R_ROWS)
		st->rows++;
	return 0;
}

static int column_count(struct mysql_state *st, const struct pkt *k)
{
	size_t pos = 0;
	uint64_t n;

	if (!lenenc(k->p, k->avail, &pos, &n) || n == 0 || n > MYSQL_COLS_MAX)
		return PROTO_INVALID;
	if (k->plen > pos + 1)
		return PROTO_INVALID;
	st->rflags |= RF_RESULTSET;
	/* CLIENT_OPTIONAL_RESULTSET_METADATA / MariaDB metadata cache: 0 = no definitions. */
	if (k->plen == pos + 1 && k->avail > pos && k->p[pos] == 0) {
		st->rstate = R_COLEOF;
		return 0;
	}
	st->defs_left = (uint32_t)n;
	st->rstate = R_COLDEFS;
	return 0;
}

/* COM_STMT_PREPARE_OK: remember the statement, emit, then skip its definitions. */
static int prepare_ok(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	uint32_t id, cols, params;

	if (k->p[0] != 0x00 || k->plen < 12)
		return PROTO_INVALID;
	if (k->avail < 12)
		return finish(st, io, TXN_OK, 0);
	id = le32(k->p + 1);
	cols = le16(k->p + 5);
	params = le16(k->p + 7);
	if (!(st->rflags & RF_ORPHAN) && st->npend)
		stmt_store(st, id, st->text, st->pend[0].text_len, st->pend[0].flags & PF_TRUNC);
	finish(st, io, TXN_OK, 0);
	if (!cols && !params)
		return 0;
	st->rstate = R_TRAIL;
	st->defs_left = params ? params : cols;
	st->trail_cols = (uint16_t)(params ? cols : 0);
	return 0;
}

/*
 * A packet after COM_STMT_PREPARE_OK: parameter definitions, an EOF unless
 * CLIENT_DEPRECATE_EOF, column definitions, an EOF. Whether the EOFs come is
 * told by the packet (5 bytes, 0xfe, the next id), not the capabilities.
 * false: the packet is not part of it (the next response starts).
 */
static bool trailer(struct mysql_state *st, const struct pkt *k)
{
	if (k->seq != st->rseq)
		return false;
	if (st->defs_left) {
		st->trail_eof = --st->defs_left == 0;
		return true;
	}
	if (st->trail_eof && is_eof(k)) {
		st->trail_eof = false;
		st->defs_left = st->trail_cols;
		st->trail_cols = 0;
		if (!st->defs_left)
			st->rstate = R_IDLE;
		return true;
	}
	if (st->trail_cols) {
		st->defs_left = st->trail_cols - 1u;
		st->trail_cols = 0;
		st->trail_eof = st->defs_left == 0;
		return true;
	}
	return false;
}

/* Packets of an exchange that ends with OK or ERR (or EOF for a stream). */
static int wait_packet(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (k->plen == 0)
		return 0;
	if (k->p[0] == 0xff)
		return err_packet(st, io, k);
	if (st->rkind == K_STREAM)
		return k->p[0] == 0xfe && k->plen < MYSQL_OK_MIN ? finish(st, io, TXN_OK, 0) : 0;
	if (k->p[0] == 0x00)
		return terminator(st, io, k);
	return 0; /* auth switch, auth more data, replication event */
}

/* The first packet of a response to a K_RESULT command (or an orphan). */
static int result_start(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	switch (k->p[0]) {
	case 0x00:
		return terminator(st, io, k);
	case 0xfe: /* an OK, or the first byte of an 8-byte column count */
		return k->plen < MYSQL_LENENC8_LEN ? terminator(st, io, k) : column_count(st, k);
	case 0xfb: /* LOCAL INFILE: the client sends the file, then the server answers */
		st->rkind = K_INFILE;
		st->rstate = R_WAIT;
		return 0;
	default:
		return column_count(st, k);
	}
}

/* The first packet of a response, or of the next result set. */
static int resp_start(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	const struct mysql_pending *head = st->npend ? &st->pend[0] : NULL;

	if (st->rflags & RF_MORE) {
		if (k->seq != st->rseq)
			return PROTO_INVALID;
		st->rflags &= (uint8_t)~RF_MORE;
	} else {
		/*
		 * Responses start at id 1. Just after a (re)start, or continuing the
		 * last packet's ids, anything else is the tail of a response we did
		 * not follow; otherwise the stream is not what we think.
		 */
		if (k->seq != 1 && !(head && (head->flags & PF_LONG)))
			return !st->rsynced || k->seq == st->rseq ? 0 : PROTO_INVALID;
		st->rflags = 0;
		st->rkind = head ? cmd_info(head->cmd)->kind : K_RESULT;
		if (!head) {
			io->cnt->unpaired[PROTO_MYSQL]++;
			st->rflags |= RF_ORPHAN;
		}
	}
	if (k->plen == 0)
		return PROTO_INVALID;
	if (k->p[0] == 0xff)
		return err_packet(st, io, k);
	switch (st->rkind) {
	case K_ONE:
		return finish(st, io, TXN_OK, 0);
	case K_PREPARE:
		return prepare_ok(st, io, k);
	case K_ROWS:
	case K_FIELDS:
		st->rflags |= st->rkind == K_ROWS ? RF_RESULTSET : 0;
		st->rstate = st->rkind == K_ROWS ? R_ROWS : R_FIELDS;
		return rows(st, io, k);
	case K_AUTH:
	case K_STREAM:
		st->rstate = R_WAIT;
		return wait_packet(st, io, k);
	default:
		return result_start(st, io, k);
	}
}

/* Command phase, server side. */
static int cmd_resp(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (st->rstate == R_TRAIL) {
		if (trailer(st, k))
			return 0;
		resp_reset(st);
	}
	if (st->rstate == R_IDLE)
		return resp_start(st, io, k);
	if (st->rstate == R_WAIT)
		return wait_packet(st, io, k);
	if (k->seq != st->rseq)
		return PROTO_INVALID;
	switch (st->rstate) {
	case R_COLDEFS:
		if (--st->defs_left == 0)
			st->rstate = R_COLEOF;
		return 0;
	case R_COLEOF:
		st->rstate = R_ROWS;
		if (!is_eof(k))
			return rows(st, io, k);
		/* A cursor was opened: rows come with COM_STMT_FETCH. */
		return ok_status(st, k) & ST_CURSOR_EXISTS ? finish(st, io, TXN_OK, 0) : 0;
	default:
		return rows(st, io, k);
	}
}

/* Protocol::HandshakeV10: server version (MariaDB?) and capabilities. */
static void greeting(struct mysql_state *st, const struct pkt *k)
{
	size_t pos = 1, vlen;
	const uint8_t *v = k->p + 1;

	st->phase = PH_AUTH;
	if (!cstr(k->p, k->avail, &pos, &vlen))
		return;
	if (memmem(v, vlen, "MariaDB", 7))
		st->conn |= CF_MARIADB;
	pos += 4 + 8 + 1; /* connection id, auth data part 1, filler */
	if (k->avail < pos + 2)
		return;
	st->srv_caps = le16(k->p + pos);
	if (k->avail >= pos + 7)
		st->srv_caps |= le16(k->p + pos + 5) << 16; /* after charset and status */
	st->conn |= CF_SRV_CAPS;
}

static uint32_t caps(const struct mysql_state *st)
{
	uint32_t c = st->conn & CF_CLI_CAPS ? st->cli_caps : 0;

	return st->conn & CF_SRV_CAPS ? c & st->srv_caps : c;
}

/* Authentication, server side: OK ends it, ERR is a failed login. */
static int auth_resp(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	struct mysql_pending e = { .start_ns = st->auth_ns ? st->auth_ns : io->ts_ns,
		                   .cmd = COM_CONNECT };
	struct outcome o = { TXN_ERROR, 0, -1, io->ts_ns };

	if (k->plen == 0)
		return 0;
	if (k->p[0] == 0x00) {
		st->phase = PH_CMD;
		if (caps(st) & (CAP_COMPRESS | CAP_ZSTD)) {
			io->switch_to = PROTO_NONE; /* compressed packets from here on */
			st->phase = PH_OFF;
		}
		return 0;
	}
	if (k->p[0] != 0xff)
		return 0; /* auth switch request, auth more data */
	st->phase = PH_CMD;
	if (k->avail >= 3)
		o.code = le16(k->p + 1);
	emit(st, io, &e, NULL, &o);
	return 0;
}

static int resp_packet(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (k->plen && !k->avail) {
		/* The first byte fell into a gap: what this packet answered is unknown. */
		settle_all(st, io);
		resp_reset(st);
		return 0;
	}
	switch (st->phase) {
	case PH_INIT:
		if (k->seq == 0 && k->plen && k->p[0] == 0x0a) {
			greeting(st, k);
			return 0;
		}
		st->phase = PH_CMD;
		return cmd_resp(st, io, k);
	case PH_AUTH:
		return auth_resp(st, io, k);
	case PH_CMD:
		return cmd_resp(st, io, k);
	default:
		return 0;
	}
}

/* ---- client packets ---------------------------------------------------- */

/* A NUL-terminated name at *pos into @dst (cut when unterminated); false: unterminated. */
static bool take_name(struct mysql_name *dst, const struct pkt *k, size_t *pos)
{
	size_t start = *pos, len;
	bool ok = cstr(k->p, k->avail, pos, &len);

	if (len || !ok)
		name_set(dst, k->p + start, len, !ok);
	return ok;
}

/* Skip the auth response of a handshake response; false when it runs past the bytes. */
static bool skip_auth(const struct pkt *k, uint32_t c, size_t *pos)
{
	uint64_t n;
	size_t len;

	if (c & CAP_AUTH_LENENC) {
		if (!lenenc(k->p, k->avail, pos, &n) || n > k->avail - *pos)
			return false;
	} else if (c & CAP_SECURE_CONN) {
		if (*pos >= k->avail)
			return false;
		n = k->p[(*pos)++];
		if (n > k->avail - *pos)
			return false;
	} else {
		return cstr(k->p, k->avail, pos, &len);
	}
	*pos += (size_t)n;
	return true;
}

/*
 * HandshakeResponse41's fixed part: capabilities with CLIENT_PROTOCOL_41, max
 * packet, charset, then a zero filler (MariaDB puts its extended
 * capabilities in the filler's last 4 bytes).
 */
static bool hs_shape(const struct pkt *k)
{
	if (k->avail < MYSQL_HS_MIN - 4 || k->plen < MYSQL_HS_MIN ||
	    !(le32(k->p) & CAP_PROTOCOL_41))
		return false;
	for (size_t i = 9; i < MYSQL_HS_MIN - 4; i++)
		if (k->p[i])
			return false;
	return true;
}

/* HandshakeResponse41 (user, schema; the auth response is skipped) or SSLRequest. */
static void handshake_response(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	size_t pos = MYSQL_HS_MIN;
	uint32_t c;

	if (!hs_shape(k))
		return; /* pre-4.1 clients are not parsed */
	c = st->cli_caps = le32(k->p);
	st->conn |= CF_CLI_CAPS;
	st->phase = PH_AUTH;
	if (k->plen == MYSQL_HS_MIN && (c & CAP_SSL)) {
		io->switch_to = PROTO_TLS;
		st->phase = PH_OFF;
		return;
	}
	st->conn |= CF_HS_SEEN;
	st->auth_ns = io->ts_ns;
	if (!take_name(&st->user, k, &pos) || !(c & CAP_CONNECT_WITH_DB) || !skip_auth(k, c, &pos))
		return;
	take_name(&st->ns, k, &pos);
}

/* COM_CHANGE_USER: the new user and schema (its auth data is skipped). */
static void change_user(struct mysql_state *st, const struct pkt *k)
{
	size_t pos = 1;
	/* Without known capabilities assume CLIENT_SECURE_CONNECTION, as every 4.1+ client. */
	uint32_t c = st->conn & CF_CLI_CAPS ? st->cli_caps & CAP_SECURE_CONN : CAP_SECURE_CONN;

	st->user.len = 0;
	st->user.cut = false;
	st->ns.len = 0;
	st->ns.cut = false;
	if (take_name(&st->user, k, &pos) && skip_auth(k, c, &pos))
		take_name(&st->ns, k, &pos);
}

/* The SQL of COM_QUERY / COM_STMT_PREPARE (after query attributes); false: not found. */
static bool sql_text(const struct mysql_state *st, const struct pkt *k, const char **text,
                     size_t *len)
{
	size_t pos = 1;

	if (k->p[0] == COM_QUERY && has_qattrs(st, k) && !qattr_skip(k->p, k->avail, &pos))
		return false;
	*text = (const char *)k->p + pos;
	*len = k->avail - pos;
	return true;
}

/* What a command carries: its text (a view into the packet or the statement table). */
struct cmd_text {
	const char *p;
	size_t len;
	bool cut;
};

static void command_args(struct mysql_state *st, const struct pkt *k, const struct mysql_cmd *c,
                         struct mysql_pending *e, struct cmd_text *t)
{
	if (c->arg == ARG_SQL) {
		t->cut = !sql_text(st, k, &t->p, &t->len) || k->avail < k->plen;
	} else if (c->arg == ARG_SCHEMA) {
		t->p = (const char *)k->p + 1;
		t->len = k->avail - 1;
		t->cut = k->avail < k->plen;
	} else if (c->arg == ARG_STMT && k->avail >= MYSQL_STMT_PEEK) {
		e->stmt_id = le32(k->p + 1);
		e->flags |= PF_STMT;
		stmt_text(st, e->stmt_id, &t->p, &t->len, &t->cut);
	} else if (c->arg == ARG_USER) {
		change_user(st, k);
	}
	if (t->cut)
		e->flags |= PF_TRUNC;
}

/* A command without a response (COM_QUIT, COM_STMT_CLOSE): emitted at once. */
static void command_done(struct mysql_state *st, struct proto_io *io, struct mysql_pending *e,
                         const struct cmd_text *t)
{
	const struct outcome o = { TXN_OK, 0, -1, io->ts_ns };
	struct mysql_stmt *s;

	e->text_len = (uint16_t)(t->len > MYSQL_QUERY_MAX ? MYSQL_QUERY_MAX : t->len);
	if (e->text_len < t->len)
		e->flags |= PF_TRUNC;
	emit(st, io, e, t->p, &o);
	if (e->cmd == COM_STMT_CLOSE && (e->flags & PF_STMT) && e->stmt_id != STMT_LAST &&
	    (s = stmt_find(st, e->stmt_id)))
		stmt_clear(s);
}

static int command(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	const struct mysql_cmd *c = cmd_info(k->p[0]);
	struct mysql_pending e = { .start_ns = io->ts_ns, .cmd = k->p[0] };
	struct cmd_text t = { NULL, 0, false };

	if (!c || c->min == 0 || k->plen < c->min || k->plen > c->max)
		return PROTO_INVALID;
	if (st->phase != PH_OFF)
		st->phase = PH_CMD;
	if (k->plen == MYSQL_PAYLOAD_MAX)
		e.flags |= PF_LONG;
	command_args(st, k, c, &e, &t);
	if (c->kind == K_NONE)
		command_done(st, io, &e, &t);
	else if (c->kind != K_SILENT)
		pend_push(st, io, e, t.p, t.len);
	return 0;
}

/* Before the command phase, packets 1 (2 after an SSLRequest) are the handshake response. */
static bool hs_candidate(const struct mysql_state *st, const struct pkt *k)
{
	return st->phase < PH_CMD && !(st->conn & CF_HS_SEEN) && (k->seq == 1 || k->seq == 2);
}

/* A command starts with id 0, except after id 255 (a long upload wrapping around). */
static bool is_command(const struct mysql_state *st, const struct pkt *k)
{
	return k->seq == 0 && st->req_prev != 255;
}

static int req_packet(struct mysql_state *st, struct proto_io *io, const struct pkt *k)
{
	if (st->phase == PH_OFF || (k->plen && !k->avail))
		return 0;
	if (!is_command(st, k)) {
		if (hs_candidate(st, k)) {
			handshake_response(st, io, k);
			return 0;
		}
		/*
		 * Auth data and LOCAL INFILE contents continue the ids of the
		 * exchange: one more than our last packet, or two with the
		 * server's in between.
		 */
		if (st->phase != PH_INIT && (uint8_t)(k->seq - st->req_prev - 1) > 1)
			return PROTO_INVALID;
		return 0;
	}
	if (k->plen == 0)
		return PROTO_INVALID;
	return command(st, io, k);
}

/* ---- the byte stream --------------------------------------------------- */

/* Payload bytes of this packet to see before handling it. */
static size_t want(const struct mysql_state *st, enum proto_side side, const struct pkt *k)
{
	const struct mysql_cmd *c;
	size_t peek;

	if (k->plen == 0 || st->cont[side])
		return 0;
	if (k->avail == 0)
		return 1; /* the first byte decides */
	if (side == PROTO_REQ && !is_command(st, k))
		peek = hs_candidate(st, k) ? MYSQL_HS_PEEK : 0;
	else if (side == PROTO_REQ)
		peek = (c = cmd_info(k->p[0])) ? c->peek : 1;
	else if (k->p[0] == 0x00 || k->p[0] == 0xfe)
		peek = MYSQL_OK_PEEK;
	else if (k->p[0] == 0xff)
		peek = MYSQL_ERR_PEEK;
	else
		peek = st->phase == PH_INIT ? MYSQL_GREETING_PEEK : MYSQL_COUNT_PEEK;
	return peek < k->plen ? peek : k->plen;
}

/* Forget the partial state of @side (gap, or lost sync). */
static void side_reset(struct mysql_state *st, struct proto_io *io, enum proto_side side)
{
	st->cont[side] = false;
	if (side == PROTO_REQ) {
		st->req_prev = 0;
		return;
	}
	/* The answers to what is pending may have been in what was lost. */
	settle_all(st, io);
	resp_reset(st);
	st->rsynced = false;
}

static int on_packet(struct mysql_state *st, struct proto_io *io, enum proto_side side,
                     const struct pkt *k)
{
	bool cont = st->cont[side];
	int r = 0;

	if (side == PROTO_REQ) {
		if (!cont)
			r = req_packet(st, io, k);
		st->req_prev = k->seq;
	} else {
		if (!cont)
			r = resp_packet(st, io, k);
		st->rseq = (uint8_t)(k->seq + 1);
		st->rsynced = true;
	}
	st->cont[side] = k->plen == MYSQL_PAYLOAD_MAX;
	return r;
}

static long mysql_parse(void *vst, struct proto_io *io, enum proto_side side, const uint8_t *p,
                        size_t len)
{
	struct mysql_state *st = vst;
	size_t off = 0;

	if (st->phase == PH_OFF) /* another protocol follows: not ours to read */
		return len ? (long)len : PROTO_INCOMPLETE;
	while (len - off >= MYSQL_HDR && st->phase != PH_OFF) {
		struct pkt k;

		k.plen = le24(p + off);
		k.seq = p[off + 3];
		k.p = p + off + MYSQL_HDR;
		k.avail = len - off - MYSQL_HDR < k.plen ? len - off - MYSQL_HDR : k.plen;
		/* Before a gap, handle what there is: the skip may carry us over it. */
		if (k.avail < want(st, side, &k) && !io->gap_after)
			break;
		if (on_packet(st, io, side, &k) < 0) {
			side_reset(st, io, side);
			return PROTO_INVALID;
		}
		off += MYSQL_HDR + k.avail;
		if (k.avail < k.plen) {
			io->skip = k.plen - k.avail;
			break;
		}
	}
	return off ? (long)off : PROTO_INCOMPLETE;
}

static void mysql_gap(void *vst, struct proto_io *io, enum proto_side side, uint64_t len)
{
	(void)len;
	side_reset(vst, io, side);
}

static void mysql_close(void *vst, struct proto_io *io)
{
	struct mysql_state *st = vst;

	settle_all(vst, io);
	io->cnt->stmts_evicted[PROTO_MYSQL] += st->stmt_evicted;
	st->stmt_evicted = 0;
}

static void mysql_fini(void *vst)
{
	struct mysql_state *st = vst;

	for (size_t i = 0; st->stmts && i < MYSQL_STMT_MAX; i++)
		free(st->stmts[i].text);
	free(st->stmts);
	st->stmts = NULL;
}

static int mysql_init(void *vst)
{
	(void)vst; /* zeroed state is PH_INIT with nothing pending */
	return 0;
}

/* ---- detection --------------------------------------------------------- */

/* Protocol::HandshakeV10 at a connection's start: seq 0, 0x0a, a version like "8.0.36". */
static enum proto_match detect_greeting(const uint8_t *p, size_t len)
{
	size_t i, plen;

	if (len < MYSQL_HDR + 2)
		return len >= MYSQL_HDR && p[3] != 0 ? PROTO_NO : PROTO_MAYBE;
	plen = le24(p);
	if (p[3] != 0 || p[4] != 0x0a || plen < MYSQL_GREETING_MIN || plen > MYSQL_GREETING_MAX ||
	    p[5] < '0' || p[5] > '9')
		return PROTO_NO;
	for (i = 6; i < len && p[i]; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || i - 5 >= MYSQL_VERSION_MAX)
			return PROTO_NO;
	if (i == len)
		return PROTO_MAYBE;
	/* id (4), auth data part 1 (8), then a zero filler and the capabilities. */
	if (i + 1 + 4 + 8 + 1 + 2 > MYSQL_HDR + plen)
		return PROTO_NO;
	i += 1 + 4 + 8;
	if (i < len && p[i] != 0)
		return PROTO_NO;
	if (i + 2 < len && !(le16(p + i + 1) & CAP_PROTOCOL_41))
		return PROTO_NO; /* pre-4.1 servers are not parsed */
	return PROTO_YES;
}

/* A command packet: id 0, a client command byte, a length it can have. */
static enum proto_match detect_command(const uint8_t *p, size_t len)
{
	const struct mysql_cmd *c;
	uint32_t plen;

	if (len < MYSQL_HDR + 1)
		return len >= MYSQL_HDR && p[3] != 0 ? PROTO_NO : PROTO_MAYBE;
	plen = le24(p);
	c = cmd_info(p[4]);
	if (p[3] != 0 || !c || c->min == 0 || plen < c->min || plen > c->max)
		return PROTO_NO;
	if (c->arg == ARG_SQL || c->arg == ARG_SCHEMA) {
		if (len < MYSQL_HDR + 2)
			return PROTO_MAYBE;
		if (p[5] >= 0x7f)
			return PROTO_NO;
		/* Text, or (COM_QUERY) attributes: a small count then a set count of 1. */
		if (p[5] < 0x20 && !is_space(p[5])) {
			if (p[4] != COM_QUERY)
				return PROTO_NO;
			if (len < MYSQL_HDR + 3)
				return PROTO_MAYBE;
			if (p[6] != 1)
				return PROTO_NO;
		}
	}
	if (p[4] == 0x17 && len >= MYSQL_HDR + 10 && le32(p + 10) != 1)
		return PROTO_NO; /* COM_STMT_EXECUTE: the iteration count is always 1 */
	return PROTO_YES;
}

/* An OK_Packet: two length-encoded integers, status and warnings within its length. */
static enum proto_match detect_ok(const uint8_t *p, size_t len, uint32_t plen)
{
	const uint8_t *q = p + MYSQL_HDR;
	size_t n = len - MYSQL_HDR < plen ? len - MYSQL_HDR : plen, pos = 1;
	uint64_t v;

	if (plen < MYSQL_OK_MIN || plen > MYSQL_OK_DETECT_MAX)
		return PROTO_NO;
	for (int i = 0; i < 2; i++) {
		if (pos < n && (q[pos] == 0xfb || q[pos] == 0xff))
			return PROTO_NO; /* not an integer */
		if (!lenenc(q, n, &pos, &v))
			return n < plen ? PROTO_MAYBE : PROTO_NO;
	}
	if (n - pos >= 4)
		return PROTO_YES;
	return n < plen ? PROTO_MAYBE : PROTO_NO;
}

/* The first packet of a response: OK, ERR, EOF, or a column count. */
static enum proto_match detect_response(const uint8_t *p, size_t len)
{
	uint32_t plen;

	if (len < MYSQL_HDR + 1)
		return len >= MYSQL_HDR && le24(p) == 0 ? PROTO_NO : PROTO_MAYBE;
	plen = le24(p);
	switch (p[4]) {
	case 0x00:
		return detect_ok(p, len, plen);
	case 0xfe:
		return plen == MYSQL_EOF_LEN ? PROTO_YES : detect_ok(p, len, plen);
	case 0xff:
		if (plen < MYSQL_ERR_MIN || plen > MYSQL_ERR_DETECT_MAX)
			return PROTO_NO;
		if (len < MYSQL_HDR + 4)
			return PROTO_MAYBE;
		return p[7] == '#' ? PROTO_YES : PROTO_NO;
	default:
		/* Rows look like column counts; only a response's first packet (id 1) is taken. */
		if (p[4] > 0xfa || p[3] != 1 || plen < 1 || plen > 2)
			return PROTO_NO;
		if (plen == 2 && len > MYSQL_HDR + 1 && p[5] > 1)
			return PROTO_NO;
		return PROTO_YES;
	}
}

static enum proto_match mysql_detect(enum proto_side side, const uint8_t *p, size_t len,
                                     unsigned flags)
{
	enum proto_match g, r;

	if (!(flags & PROTO_MIDSTREAM))
		return side == PROTO_RESP ? detect_greeting(p, len)
		                          : PROTO_NO; /* server speaks first */
	if (side == PROTO_REQ)
		return detect_command(p, len);
	g = detect_greeting(p, len);
	r = detect_response(p, len);
	return g > r ? g : r;
}

const struct proto_parser proto_mysql = {
	.name = "mysql",
	.id = PROTO_MYSQL,
	.state_size = sizeof(struct mysql_state),
	.detect = mysql_detect,
	.init = mysql_init,
	.parse = mysql_parse,
	.gap = mysql_gap,
	.close = mysql_close,
	.fini = mysql_fini,
};
