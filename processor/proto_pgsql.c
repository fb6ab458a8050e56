// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL frontend/backend protocol v3 (protocol.html in the PostgreSQL
 * docs): one transaction per simple Query (from the 'Q' to its
 * ReadyForQuery) and one per extended-protocol Execute (from the 'E' to the
 * CommandComplete, ErrorResponse, EmptyQueryResponse or PortalSuspended that
 * answers it), carrying the SQL text of the statement the Execute runs.
 *
 * Trust boundary: every byte is captured traffic from either peer. Framing
 * (type byte, length) is checked against a per-type table of bounds; a
 * message whose framing is wrong is PROTO_INVALID. A message whose framing
 * is right but whose body is odd (a string without its NUL, an unknown
 * statement) is used as far as it makes sense and skipped: the side stays
 * in sync. Only the first bytes a message needs are looked at (at most
 * PG_TEXT_MAX of SQL); the rest goes to io->skip.
 *
 * Never exported: Bind parameters, password and SASL messages ('p'), COPY
 * data, error message text. SQL text and the user name are TXN_SENSITIVE.
 *
 * Pairing: the backend answers in order, so requests wait in a FIFO of at
 * most PG_PENDING_MAX entries: simple queries, Executes, and Syncs (and
 * FunctionCalls), which are no transaction but own a ReadyForQuery. After an
 * ErrorResponse the backend skips every message up to the next Sync: the
 * Executes of that batch still pending when its ReadyForQuery (or the end
 * of the connection) comes are emitted as TXN_ERROR without a status code.
 * An ErrorResponse to a Parse or Bind is charged to the Execute that follows
 * it (the statement that failed), or dropped when the batch has none.
 *
 * Per-connection memory beyond the state block, allocated lazily and freed
 * in fini: the FIFO, a table of PG_STMT_MAX prepared statements (the oldest
 * is evicted when full) and refcounted copies of SQL text of at most
 * PG_TEXT_MAX bytes, shared between statements, portals and the FIFO.
 * Statement and portal names are kept as 64-bit hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "processor/proto.h"

#define PG_HDR          5           /* type byte + int32 length */
#define PG_MSG_MAX      0x40000000u /* 1 GiB: the server's own message limit */
#define PG_UNTYPED_HDR  8           /* int32 length + int32 code */
#define PG_STARTUP_MAX  10000       /* the server's MAX_STARTUP_PACKET_LENGTH */
#define PG_STARTUP_MIN  9           /* header + the final NUL */
#define PG_CODE_SSL     80877103u
#define PG_CODE_GSSENC  80877104u
#define PG_CODE_CANCEL  80877102u
#define PG_MAJOR        3
#define PG_MINOR_MAX    16 /* 3.0 and 3.2 exist; leave room */
#define PG_CANCEL_MIN   16
#define PG_CANCEL_MAX   (12 + 256) /* protocol 3.2: cancel keys up to 256 bytes */
#define PG_KEYDATA_MAX  (8 + 256)
#define PG_AUTH_MAX     (1u << 20) /* 'R' and 'p': SASL and GSS tokens */
#define PG_PARAM_MAX    65536      /* ParameterStatus, NegotiateProtocolVersion */
#define PG_WIRE_NAME    4096       /* longest statement/portal name framing accepts */
#define PG_TAG_WIRE     1024       /* longest CommandComplete framing accepts */
#define PG_COPYRESP_MAX (7 + 2 * 65535)
#define PG_COLS_MAX     1664       /* MaxTupleAttributeNumber */
#define PG_ROWDESC_MAX  (1u << 20) /* 1664 columns of 18 bytes and a name, with room */
#define PG_NOTE_MAX     (1u << 20) /* ErrorResponse, NoticeResponse, NotificationResponse */
#define PG_TEXT_MAX     1024       /* SQL text kept per query or statement */
#define PG_NAME_MAX     128        /* statement/portal names tracked (NAMEDATALEN is 64) */
#define PG_IDENT_MAX    64         /* user and database name bytes kept */
#define PG_OP_MAX       16         /* db.operation.name */
#define PG_TAG_MAX      64         /* CommandComplete bytes read */
#define PG_ERR_SCAN_MAX 1024       /* ErrorResponse bytes searched for the SQLSTATE */
#define PG_SQLSTATE_LEN 5
#define PG_PENDING_MAX  64
#define PG_STMT_MAX     64
#define PG_PORTAL_MAX   4
#define PG_PLAUSIBLE    32 /* text bytes detection looks at */
#define PG_ROWS_MAX     INT64_MAX

enum pg_await {
	PG_AWAIT_NONE = 0,
	PG_AWAIT_SSL,    /* the next response byte is 'S' or 'N' */
	PG_AWAIT_GSSENC, /* the next response byte is 'G' or 'N' */
};

enum pg_kind {
	PG_K_QUERY = 1, /* simple Query: answered by its ReadyForQuery */
	PG_K_EXEC,      /* Execute: answered by CommandComplete & co */
	PG_K_SYNC,      /* Sync or FunctionCall: owns a ReadyForQuery, no transaction */
};

/* SQL text shared by statements, portals and pending requests. */
struct pg_text {
	uint32_t refs;
	uint32_t len;
	bool truncated;
	char s[];
};

struct pg_pending {
	struct pg_text *text; /* NULL: statement unknown */
	uint64_t start_ns;
	uint8_t kind; /* enum pg_kind */
};

struct pg_stmt {
	uint64_t name;        /* hash */
	struct pg_text *text; /* NULL: free slot */
	uint64_t seq;         /* age, for eviction */
};

struct pg_portal {
	uint64_t name;
	struct pg_text *text;
	bool used;
};

/* What the backend said so far to the request at the head of the FIFO. */
struct pg_answer {
	uint64_t end_ns;
	int64_t rows;     /* DataRows */
	int64_t tag_rows; /* count of a SELECT/FETCH tag, -1: none */
	char op[PG_OP_MAX];
	uint8_t op_len; /* command word of the last tag */
	char sqlstate[PG_SQLSTATE_LEN];
	bool has_state, error, answered;
};

struct pg_state {
	char db[PG_IDENT_MAX], user[PG_IDENT_MAX];
	uint8_t db_len, user_len;
	bool db_trunc, user_trunc;
	uint8_t await;     /* enum pg_await */
	bool startup;      /* StartupMessage seen, its ReadyForQuery not yet */
	bool batch_failed; /* ErrorResponse to an Execute before the batch's Sync */
	bool orphan;       /* unpaired counted for the current response group */
	uint8_t head, count;
	uint8_t portal_next;
	struct pg_answer ans;
	struct pg_pending *pend; /* PG_PENDING_MAX, lazily */
	struct pg_stmt *stmts;   /* PG_STMT_MAX, lazily */
	uint64_t stmt_seq;
	uint64_t stmts_evicted; /* added to io->cnt at close */
	struct pg_portal portals[PG_PORTAL_MAX];
};

struct pg_rule {
	uint8_t type;
	uint32_t min, max; /* bounds of the length field, which counts itself */
};

static const struct pg_rule req_rules[] = {
	{ 'Q', 5, PG_MSG_MAX },               /* Query */
	{ 'P', 8, PG_MSG_MAX },               /* Parse */
	{ 'B', 12, PG_MSG_MAX },              /* Bind */
	{ 'E', 9, 4 + PG_WIRE_NAME + 1 + 4 }, /* Execute */
	{ 'D', 6, 4 + 1 + PG_WIRE_NAME + 1 }, /* Describe */
	{ 'C', 6, 4 + 1 + PG_WIRE_NAME + 1 }, /* Close */
	{ 'S', 4, 4 },                        /* Sync */
	{ 'H', 4, 4 },                        /* Flush */
	{ 'X', 4, 4 },                        /* Terminate */
	{ 'p', 4, PG_AUTH_MAX },              /* password, SASL, GSS */
	{ 'd', 4, PG_MSG_MAX },               /* CopyData */
	{ 'c', 4, 4 },                        /* CopyDone */
	{ 'f', 5, PG_MSG_MAX },               /* CopyFail */
	{ 'F', 14, PG_MSG_MAX },              /* FunctionCall */
};

static const struct pg_rule resp_rules[] = {
	{ 'R', 8, PG_AUTH_MAX },         /* Authentication* */
	{ 'S', 6, PG_PARAM_MAX },        /* ParameterStatus */
	{ 'K', 12, 4 + PG_KEYDATA_MAX }, /* BackendKeyData */
	{ 'Z', 5, 5 },                   /* ReadyForQuery */
	{ 'T', 6, PG_ROWDESC_MAX },      /* RowDescription */
	{ 'D', 6, PG_MSG_MAX },          /* DataRow */
	{ 'C', 5, 4 + PG_TAG_WIRE },     /* CommandComplete */
	{ 'E', 5, PG_NOTE_MAX },         /* ErrorResponse */
	{ 'N', 5, PG_NOTE_MAX },         /* NoticeResponse */
	{ '1', 4, 4 },                   /* ParseComplete */
	{ '2', 4, 4 },                   /* BindComplete */
	{ '3', 4, 4 },                   /* CloseComplete */
	{ 'n', 4, 4 },                   /* NoData */
	{ 's', 4, 4 },                   /* PortalSuspended */
	{ 'I', 4, 4 },                   /* EmptyQueryResponse */
	{ 't', 6, 6 + 4 * 65535 },       /* ParameterDescription */
	{ 'G', 7, PG_COPYRESP_MAX },     /* CopyInResponse */
	{ 'H', 7, PG_COPYRESP_MAX },     /* CopyOutResponse */
	{ 'W', 7, PG_COPYRESP_MAX },     /* CopyBothResponse */
	{ 'd', 4, PG_MSG_MAX },          /* CopyData */
	{ 'c', 4, 4 },                   /* CopyDone */
	{ 'A', 10, PG_NOTE_MAX },        /* NotificationResponse */
	{ 'V', 8, PG_MSG_MAX },          /* FunctionCallResponse */
	{ 'v', 12, PG_PARAM_MAX },       /* NegotiateProtocolVersion */
};

/* ---- bytes ------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Length of the NUL-terminated string at p[0..n); false when no NUL is there. */
static bool cstr(const uint8_t *p, size_t n, size_t *len)
{
	const uint8_t *z = n ? memchr(p, 0, n) : NULL;

	if (!z)
		return false;
	*len = (size_t)(z - p);
	return true;
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Plausible in SQL or a name: printable, whitespace, or part of UTF-8. */
static bool is_texty(uint8_t c)
{
	return c >= 0x20 ? c != 0x7f : is_space(c);
}

/* FNV-1a: names are compared by hash, which is all the tables keep. */
static uint64_t name_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static const struct pg_rule *rule_for(enum proto_side side, uint8_t type)
{
	const struct pg_rule *r = side == PROTO_REQ ? req_rules : resp_rules;
	size_t n = side == PROTO_REQ ? sizeof(req_rules) / sizeof(req_rules[0])
	                             : sizeof(resp_rules) / sizeof(resp_rules[0]);

	for (size_t i = 0; i < n; i++)
		if (r[i].type == type)
			return &r[i];
	return NULL;
}

/* ---- shared SQL text ---------------------------------------------------- */

/* A copy of the string at q[0..n) (cut at its NUL and at PG_TEXT_MAX); NULL on ENOMEM. */
static struct pg_text *text_new(const uint8_t *q, size_t n)
{
	struct pg_text *t;
	size_t len;
	bool whole = cstr(q, n, &len);

	if (!whole)
		len = n;
	t = malloc(sizeof(*t) + min_sz(len, PG_TEXT_MAX));
	if (!t)
		return NULL;
	t->refs = 1;
	t->truncated = !whole || len > PG_TEXT_MAX;
	t->len = (uint32_t)min_sz(len, PG_TEXT_MAX);
	memcpy(t->s, q, t->len);
	return t;
}

static struct pg_text *text_ref(struct pg_text *t)
{
	if (t)
		t->refs++;
	return t;
}

static void text_unref(struct pg_text *t)
{
	if (t && --t->refs == 0)
		free(t);
}

/* ---- prepared statements and portals ----------------------------------- */

static struct pg_stmt *stmt_find(struct pg_state *s, uint64_t name)
{
	for (size_t i = 0; s->stmts && i < PG_STMT_MAX; i++)
		if (s->stmts[i].text && s->stmts[i].name == name)
			return &s->stmts[i];
	return NULL;
}

static void stmt_drop(struct pg_state *s, uint64_t name)
{
	struct pg_stmt *st = stmt_find(s, name);

	if (st) {
		text_unref(st->text);
		st->text = NULL;
	}
}

/* A free slot, or the oldest statement's (evicted). */
static struct pg_stmt *stmt_slot(struct pg_state *s)
{
	struct pg_stmt *old = &s->stmts[0];

	for (size_t i = 0; i < PG_STMT_MAX; i++) {
		if (!s->stmts[i].text)
			return &s->stmts[i];
		if (s->stmts[i].seq < old->seq)
			old = &s->stmts[i];
	}
	text_unref(old->text);
	old->text = NULL;
	s->stmts_evicted++;
	return old;
}

/* Takes @t's reference. A named statement that exists stays (the server refuses the Parse). */
static void stmt_put(struct pg_state *s, uint64_t name, bool unnamed, struct pg_text *t)
{
	struct pg_stmt *st;

	if (!s->stmts && !(s->stmts = calloc(PG_STMT_MAX, sizeof(*s->stmts)))) {
		text_unref(t);
		return;
	}
	st = stmt_find(s, name);
	if (st && !unnamed) {
		text_unref(t);
		return;
	}
	if (!st)
		st = stmt_slot(s);
	text_unref(st->text);
	st->name = name;
	st->text = t;
	st->seq = ++s->stmt_seq;
}

static struct pg_portal *portal_find(struct pg_state *s, uint64_t name)
{
	for (size_t i = 0; i < PG_PORTAL_MAX; i++)
		if (s->portals[i].used && s->portals[i].name == name)
			return &s->portals[i];
	return NULL;
}

static void portal_drop(struct pg_state *s, uint64_t name)
{
	struct pg_portal *po = portal_find(s, name);

	if (po) {
		text_unref(po->text);
		memset(po, 0, sizeof(*po));
	}
}

/* Bind @name to @t (a new reference is taken); the slots are reused round robin. */
static void portal_set(struct pg_state *s, uint64_t name, struct pg_text *t)
{
	struct pg_portal *po = portal_find(s, name);

	if (!po) {
		po = &s->portals[s->portal_next];
		s->portal_next = (uint8_t)((s->portal_next + 1) % PG_PORTAL_MAX);
	}
	text_unref(po->text);
	po->name = name;
	po->text = text_ref(t);
	po->used = true;
}

/* ---- pending requests -------------------------------------------------- */

static struct pg_pending *head(struct pg_state *s)
{
	return s->count ? &s->pend[s->head] : NULL;
}

/* Takes @t's reference; a full (or unallocatable) FIFO drops the request. */
static void pend_push(struct pg_state *s, struct proto_io *io, uint8_t kind, struct pg_text *t)
{
	struct pg_pending *e;

	if (!s->pend)
		s->pend = calloc(PG_PENDING_MAX, sizeof(*s->pend));
	if (!s->pend || s->count == PG_PENDING_MAX) {
		io->cnt->pending_dropped[PROTO_PGSQL]++;
		text_unref(t);
		return;
	}
	e = &s->pend[(s->head + s->count) % PG_PENDING_MAX];
	e->text = t;
	e->start_ns = io->ts_ns;
	e->kind = kind;
	s->count++;
}

static void pend_pop(struct pg_state *s)
{
	text_unref(s->pend[s->head].text);
	s->pend[s->head].text = NULL;
	s->head = (uint8_t)((s->head + 1) % PG_PENDING_MAX);
	s->count--;
	memset(&s->ans, 0, sizeof(s->ans));
	s->ans.tag_rows = -1;
}

/* ---- attributes -------------------------------------------------------- */

/* Comments and parentheses before the first keyword; block comments nest in PostgreSQL. */
static size_t skip_noise(const uint8_t *q, size_t n)
{
	size_t i = 0, depth = 0;

	while (i < n) {
		if (depth && i + 1 < n && q[i] == '*' && q[i + 1] == '/')
			depth--, i += 2;
		else if (i + 1 < n && q[i] == '/' && q[i + 1] == '*')
			depth++, i += 2;
		else if (depth)
			i++;
		else if (i + 1 < n && q[i] == '-' && q[i + 1] == '-')
			while (i < n && q[i] != '\n')
				i++;
		else if (is_space(q[i]) || q[i] == '(')
			i++;
		else
			break;
	}
	return i;
}

/*
 * The leading keyword of @q, uppercased into @out; 0 when there is none: not
 * letters, longer than PG_OP_MAX, or possibly cut short by the truncation.
 */
static size_t sql_keyword(const uint8_t *q, size_t n, bool truncated, char *out)
{
	size_t i = skip_noise(q, n), k = 0;

	while (i < n && is_alpha(q[i])) {
		if (k == PG_OP_MAX)
			return 0;
		out[k++] = (char)(q[i] & ~0x20);
		i++;
	}
	if (i == n && truncated)
		return 0;
	if (i < n &&
	    (is_alpha(q[i]) || is_digit(q[i]) || q[i] == '_' || q[i] == '$' || q[i] >= 0x80))
		return 0;
	return k;
}

/* @op must live until the transaction is emitted: the attribute points into it. */
static void add_operation(struct pg_state *s, struct proto_io *io, struct l7_txn *t,
                          const struct pg_text *q, char *op)
{
	size_t n = q ? sql_keyword((const uint8_t *)q->s, q->len, q->truncated, op) : 0;

	if (n)
		txn_str(t, io->cnt, "db.operation.name", op, n, 0);
	else if (s->ans.op_len) /* the SQL is unknown or cut away: the tag still says */
		txn_str(t, io->cnt, "db.operation.name", s->ans.op, s->ans.op_len, 0);
}

/* The transaction of the head request, with what the backend said (s->ans). */
static void emit(struct pg_state *s, struct proto_io *io, enum txn_status status, uint64_t end)
{
	const struct pg_pending *h = head(s);
	const struct pg_text *q = h->text;
	char op[PG_OP_MAX];
	struct l7_txn t;

	txn_init(&t, PROTO_PGSQL, h->start_ns);
	t.status = status;
	t.end_ns = end > h->start_ns ? end : h->start_ns;
	txn_str(&t, io->cnt, "db.system.name", "postgresql", strlen("postgresql"), 0);
	if (s->db_len)
		txn_str(&t, io->cnt, "db.namespace", s->db, s->db_len,
		        s->db_trunc ? TXN_TRUNCATED : 0);
	if (s->user_len)
		txn_str(&t, io->cnt, "db.user", s->user, s->user_len,
		        TXN_SENSITIVE | (s->user_trunc ? TXN_TRUNCATED : 0));
	if (q && (q->len || q->truncated)) /* an empty Query has no text to show */
		txn_str(&t, io->cnt, "db.query.text", q->s, q->len,
		        TXN_SENSITIVE | (q->truncated ? TXN_TRUNCATED : 0));
	add_operation(s, io, &t, q, op);
	if (status == TXN_ERROR && s->ans.has_state)
		txn_str(&t, io->cnt, "db.response.status_code", s->ans.sqlstate, PG_SQLSTATE_LEN,
		        0);
	if (s->ans.tag_rows >= 0)
		txn_int(&t, io->cnt, "db.response.returned_rows", s->ans.tag_rows);
	else if (s->ans.rows > 0)
		txn_int(&t, io->cnt, "db.response.returned_rows", s->ans.rows);
	proto_emit(io, &t);
}

/* Emit the head request and drop it. */
static void finish(struct pg_state *s, struct proto_io *io, enum txn_status status, uint64_t end)
{
	emit(s, io, status, end);
	pend_pop(s);
}

/* Nothing more will answer what is pending: a gap on the response side, or the end. */
static void settle(struct pg_state *s, struct proto_io *io)
{
	while (s->count) {
		struct pg_pending *h = head(s);

		if (h->kind == PG_K_SYNC)
			pend_pop(s);
		else if (s->ans.answered)
			finish(s, io, s->ans.error ? TXN_ERROR : TXN_OK, s->ans.end_ns);
		else if (h->kind == PG_K_EXEC && s->batch_failed)
			finish(s, io, TXN_ERROR, h->start_ns);
		else
			finish(s, io, TXN_NO_RESPONSE, h->start_ns);
	}
	s->batch_failed = false;
	s->orphan = false;
}

/* ---- frontend messages ------------------------------------------------- */

static void on_query(struct pg_state *s, struct proto_io *io, const uint8_t *b, size_t n)
{
	/* a simple Query destroys the unnamed statement and portal */
	stmt_drop(s, name_hash(NULL, 0));
	portal_drop(s, name_hash(NULL, 0));
	pend_push(s, io, PG_K_QUERY, text_new(b, n));
}

/* Parse: name\0 query\0 int16 n int32 types[n]; the types are not needed. */
static void on_parse(struct pg_state *s, const uint8_t *b, size_t n)
{
	struct pg_text *t;
	size_t nl;

	if (!cstr(b, min_sz(n, PG_NAME_MAX + 1), &nl))
		return; /* name too long to track, or cut */
	t = text_new(b + nl + 1, n - nl - 1);
	if (!t) {
		stmt_drop(s, name_hash(b, nl)); /* no text rather than a stale one */
		return;
	}
	stmt_put(s, name_hash(b, nl), nl == 0, t);
}

/* Bind: portal\0 statement\0 then parameters, which are never looked at. */
static void on_bind(struct pg_state *s, const uint8_t *b, size_t n)
{
	const struct pg_stmt *st;
	size_t pl, sl;

	if (!cstr(b, min_sz(n, PG_NAME_MAX + 1), &pl)) {
		portal_drop(s,
		            name_hash(NULL, 0)); /* most likely the unnamed one: forget its text */
		return;
	}
	if (!cstr(b + pl + 1, min_sz(n - pl - 1, PG_NAME_MAX + 1), &sl)) {
		portal_set(s, name_hash(b, pl), NULL);
		return;
	}
	st = stmt_find(s, name_hash(b + pl + 1, sl));
	portal_set(s, name_hash(b, pl), st ? st->text : NULL);
}

static void on_execute(struct pg_state *s, struct proto_io *io, const uint8_t *b, size_t n)
{
	const struct pg_portal *po = NULL;
	size_t pl;

	if (cstr(b, n, &pl))
		po = portal_find(s, name_hash(b, pl));
	pend_push(s, io, PG_K_EXEC, text_ref(po ? po->text : NULL));
}

/* Close: 'S' or 'P', then the name. */
static void on_close(struct pg_state *s, const uint8_t *b, size_t n)
{
	size_t nl;

	if (n < 1 || !cstr(b + 1, n - 1, &nl))
		return;
	if (b[0] == 'S')
		stmt_drop(s, name_hash(b + 1, nl));
	else if (b[0] == 'P')
		portal_drop(s, name_hash(b + 1, nl));
}

static void req_msg(struct pg_state *s, struct proto_io *io, uint8_t type, const uint8_t *b,
                    size_t n)
{
	switch (type) {
	case 'Q':
		on_query(s, io, b, n);
		break;
	case 'P':
		on_parse(s, b, n);
		break;
	case 'B':
		on_bind(s, b, n);
		break;
	case 'E':
		on_execute(s, io, b, n);
		break;
	case 'C':
		on_close(s, b, n);
		break;
	case 'S': /* Sync */
	case 'F': /* FunctionCall: answered by FunctionCallResponse and ReadyForQuery */
		pend_push(s, io, PG_K_SYNC, NULL);
		break;
	default: /* Describe, Flush, Terminate, password/SASL, COPY: nothing to keep */
		break;
	}
}

/* Body bytes a frontend message of type @type needs seen (the rest is skipped). */
static size_t want_req(uint8_t type, size_t blen)
{
	switch (type) {
	case 'Q':
		return min_sz(blen, PG_TEXT_MAX + 1);
	case 'P':
		return min_sz(blen, PG_NAME_MAX + 1 + PG_TEXT_MAX + 1);
	case 'B':
		return min_sz(blen, 2 * (PG_NAME_MAX + 1));
	case 'E':
		return min_sz(blen, PG_NAME_MAX + 1);
	case 'C':
		return min_sz(blen, 1 + PG_NAME_MAX + 1);
	default:
		return 0;
	}
}

/* ---- backend messages -------------------------------------------------- */

/* A response with nothing pending to answer: counted once per response group. */
static void orphan(struct pg_state *s, struct proto_io *io)
{
	if (!s->orphan)
		io->cnt->unpaired[PROTO_PGSQL]++;
	s->orphan = true;
}

/* The request a CommandComplete & co answer; NULL (counted) when none. */
static struct pg_pending *answered(struct pg_state *s, struct proto_io *io)
{
	struct pg_pending *h = head(s);

	if (!h || h->kind == PG_K_SYNC) {
		orphan(s, io);
		return NULL;
	}
	s->ans.answered = true;
	s->ans.end_ns = io->ts_ns;
	return h;
}

/* Digits at the end of a tag ("INSERT 0 12" -> 12); -1 when none. */
static int64_t tag_count(const uint8_t *t, size_t n)
{
	size_t i = n;
	int64_t v = 0;

	while (i > 0 && is_digit(t[i - 1]))
		i--;
	if (i == n || (i > 0 && t[i - 1] != ' '))
		return -1;
	for (; i < n; i++)
		v = v > (PG_ROWS_MAX - 9) / 10 ? PG_ROWS_MAX : v * 10 + (t[i] - '0');
	return v;
}

/* CommandComplete: "SELECT 3", "INSERT 0 1", "CREATE TABLE": keep its word and its row count. */
static void on_complete(struct pg_state *s, struct proto_io *io, const uint8_t *b, size_t n)
{
	struct pg_pending *h = answered(s, io);
	size_t len, k = 0;

	if (!h)
		return;
	s->ans.op_len = 0;
	s->ans.tag_rows = -1;
	if (cstr(b, n, &len)) {
		while (k < len && k < PG_OP_MAX && b[k] >= 'A' && b[k] <= 'Z')
			k++;
		if (k < len && b[k] != ' ')
			k = 0;
		memcpy(s->ans.op, b, k);
		s->ans.op_len = (uint8_t)k;
		if ((k == 6 && !memcmp(b, "SELECT", 6)) || (k == 5 && !memcmp(b, "FETCH", 5)))
			s->ans.tag_rows = tag_count(b, len);
	}
	if (h->kind == PG_K_EXEC)
		finish(s, io, TXN_OK, io->ts_ns);
}

/*
 * ErrorResponse fields: a code byte then a string, up to a 0 code. Where the
 * SQLSTATE ('C') field ends, or the body's end; 0 when neither is in b[0..n).
 */
static size_t err_scan(const uint8_t *b, size_t n, const uint8_t **state)
{
	size_t i = 0, len;

	*state = NULL;
	while (i < n && b[i] != 0) {
		if (!cstr(b + i + 1, n - i - 1, &len))
			return 0;
		if (b[i] == 'C' && len == PG_SQLSTATE_LEN) {
			*state = b + i + 1;
			return i + 2 + len;
		}
		i += 2 + len;
	}
	return i < n ? i + 1 : 0;
}

/* Body bytes an ErrorResponse needs seen: up to its SQLSTATE, within PG_ERR_SCAN_MAX. */
static size_t want_error(const uint8_t *b, size_t avail, size_t blen)
{
	const uint8_t *state;
	size_t end = err_scan(b, min_sz(avail, PG_ERR_SCAN_MAX), &state);

	return end ? end : min_sz(blen, PG_ERR_SCAN_MAX);
}

static void on_error(struct pg_state *s, struct proto_io *io, const uint8_t *b, size_t n)
{
	struct pg_pending *h = head(s);
	const uint8_t *state;

	if (s->startup && !h)
		return; /* authentication failed: no request to charge it to */
	if (h && h->kind == PG_K_SYNC)
		return; /* a failed Parse or Bind in a batch without an Execute */
	if (!answered(s, io))
		return;
	err_scan(b, n, &state);
	if (!s->ans.error && state) {
		memcpy(s->ans.sqlstate, state, PG_SQLSTATE_LEN);
		s->ans.has_state = true;
	}
	s->ans.error = true; /* a multi-statement Query reports its first error */
	if (h->kind == PG_K_EXEC) {
		s->batch_failed = true;
		finish(s, io, TXN_ERROR, io->ts_ns);
	}
}

/* EmptyQueryResponse, PortalSuspended: an Execute is done. */
static void on_exec_end(struct pg_state *s, struct proto_io *io)
{
	struct pg_pending *h = answered(s, io);

	if (h && h->kind == PG_K_EXEC)
		finish(s, io, TXN_OK, io->ts_ns);
}

static void on_row(struct pg_state *s)
{
	struct pg_pending *h = head(s);

	if (h && h->kind != PG_K_SYNC && s->ans.rows < PG_ROWS_MAX)
		s->ans.rows++;
}

/*
 * ReadyForQuery closes a simple Query or a Sync's batch: Executes still
 * pending before it got no answer of their own (skipped after an error).
 */
static void on_ready(struct pg_state *s, struct proto_io *io)
{
	bool closed = false;

	if (s->startup) {
		s->startup = false; /* the startup's own, even with queries already pipelined */
		return;
	}
	if (!s->count && !s->orphan)
		io->cnt->unpaired[PROTO_PGSQL]++;
	while (s->count && !closed) {
		struct pg_pending *h = head(s);

		if (h->kind == PG_K_SYNC) {
			pend_pop(s);
			closed = true;
		} else if (h->kind == PG_K_QUERY) {
			finish(s, io, s->ans.error ? TXN_ERROR : TXN_OK, io->ts_ns);
			closed = true;
		} else if (s->batch_failed) {
			finish(s, io, TXN_ERROR, io->ts_ns);
		} else {
			finish(s, io, TXN_NO_RESPONSE, h->start_ns);
		}
	}
	s->batch_failed = false;
	s->orphan = false;
}

static void resp_msg(struct pg_state *s, struct proto_io *io, uint8_t type, const uint8_t *b,
                     size_t n)
{
	switch (type) {
	case 'Z':
		on_ready(s, io);
		break;
	case 'C':
		on_complete(s, io, b, n);
		break;
	case 'E':
		on_error(s, io, b, n);
		break;
	case 'I':
	case 's':
		on_exec_end(s, io);
		break;
	case 'D':
		on_row(s);
		break;
	default: /* authentication, parameters, descriptions, notices, notifications, COPY */
		break;
	}
}

static size_t want_resp(uint8_t type, const uint8_t *b, size_t avail, size_t blen)
{
	switch (type) {
	case 'Z':
		return blen;
	case 'C':
		return min_sz(blen, PG_TAG_MAX);
	case 'E':
		return want_error(b, avail, blen);
	default:
		return 0;
	}
}

/* ---- framing ----------------------------------------------------------- */

/* A type byte and an int32 length that counts itself, then the body. */
static long typed(struct pg_state *s, struct proto_io *io, enum proto_side side, const uint8_t *p,
                  size_t len)
{
	const struct pg_rule *r = rule_for(side, p[0]);
	size_t blen, avail, want;
	uint32_t mlen;

	if (!r)
		return PROTO_INVALID;
	if (len < PG_HDR)
		return PROTO_INCOMPLETE;
	mlen = be32(p + 1);
	if (mlen < r->min || mlen > r->max)
		return PROTO_INVALID;
	blen = mlen - 4;
	avail = min_sz(len - PG_HDR, blen);
	want = side == PROTO_REQ ? want_req(p[0], blen) : want_resp(p[0], p + PG_HDR, avail, blen);
	if (avail < want && !io->gap_after)
		return PROTO_INCOMPLETE;
	want = min_sz(want, avail); /* a gap follows: salvage what is there */
	if (side == PROTO_REQ)
		req_msg(s, io, p[0], p + PG_HDR, want);
	else
		resp_msg(s, io, p[0], p + PG_HDR, want);
	io->skip = blen - want;
	return (long)(PG_HDR + want);
}

static void copy_ident(char *dst, uint8_t *dlen, bool *trunc, const uint8_t *v, size_t n)
{
	*dlen = (uint8_t)min_sz(n, PG_IDENT_MAX);
	*trunc = n > PG_IDENT_MAX;
	memcpy(dst, v, *dlen);
}

/* StartupMessage parameters: key\0value\0 pairs, then \0. Only user and database are kept. */
static void startup_params(struct pg_state *s, const uint8_t *b, size_t n)
{
	size_t i = 0, kl, vl;
	bool have_db = false;

	s->db_len = s->user_len = 0;
	while (i < n && b[i] != 0) {
		if (!cstr(b + i, n - i, &kl) || !cstr(b + i + kl + 1, n - i - kl - 1, &vl))
			return; /* cut by a gap: what came before stands */
		if (kl == 4 && !memcmp(b + i, "user", 4))
			copy_ident(s->user, &s->user_len, &s->user_trunc, b + i + kl + 1, vl);
		else if (kl == 8 && !memcmp(b + i, "database", 8)) {
			copy_ident(s->db, &s->db_len, &s->db_trunc, b + i + kl + 1, vl);
			have_db = true;
		}
		i += kl + vl + 2;
	}
	if (i < n && !have_db) { /* the server's default database is the user's name */
		memcpy(s->db, s->user, s->user_len);
		s->db_len = s->user_len;
		s->db_trunc = s->user_trunc;
	}
}

/* The untyped messages a connection starts with: int32 length, int32 code. */
static long untyped(struct pg_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	uint32_t mlen, code;
	size_t blen, avail;

	if (len < PG_UNTYPED_HDR)
		return PROTO_INCOMPLETE;
	mlen = be32(p);
	code = be32(p + 4);
	if ((code == PG_CODE_SSL || code == PG_CODE_GSSENC) && mlen == PG_UNTYPED_HDR) {
		s->await = code == PG_CODE_SSL ? PG_AWAIT_SSL : PG_AWAIT_GSSENC;
		return PG_UNTYPED_HDR;
	}
	if (code == PG_CODE_CANCEL && mlen >= PG_CANCEL_MIN && mlen <= PG_CANCEL_MAX) {
		io->skip = mlen - PG_UNTYPED_HDR; /* the key is nobody's business */
		return PG_UNTYPED_HDR;
	}
	if (code >> 16 != PG_MAJOR || (code & 0xffff) > PG_MINOR_MAX || mlen < PG_STARTUP_MIN ||
	    mlen > PG_STARTUP_MAX)
		return PROTO_INVALID;
	blen = mlen - PG_UNTYPED_HDR;
	avail = min_sz(len - PG_UNTYPED_HDR, blen);
	if (avail < blen && !io->gap_after)
		return PROTO_INCOMPLETE;
	startup_params(s, p + PG_UNTYPED_HDR, avail);
	s->startup = true;
	io->skip = blen - avail;
	return (long)(PG_UNTYPED_HDR + avail);
}

/* The one-byte answer to SSLRequest or GSSENCRequest. */
static long answer(struct pg_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	uint8_t await = s->await;

	s->await = PG_AWAIT_NONE;
	if ((p[0] == 'S' && await == PG_AWAIT_SSL) || (p[0] == 'G' && await == PG_AWAIT_GSSENC)) {
		/* TLS from here; its plaintext comes on a session of its own. GSS: opaque. */
		io->switch_to = await == PG_AWAIT_SSL ? PROTO_TLS : PROTO_NONE;
		return 1;
	}
	if (p[0] == 'N')
		return 1;
	return typed(s, io, PROTO_RESP, p, len); /* an old server's ErrorResponse */
}

static long pg_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                     size_t len)
{
	struct pg_state *s = st;

	if (side == PROTO_RESP)
		return s->await ? answer(s, io, p, len) : typed(s, io, side, p, len);
	if (p[0] == 0) /* typed messages never start with 0, the untyped ones always do */
		return untyped(s, io, p, len);
	if (s->await == PG_AWAIT_SSL && p[0] == 0x16)
		return PROTO_INCOMPLETE; /* a ClientHello ahead of the 'S' it follows */
	return typed(s, io, side, p, len);
}

static void pg_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct pg_state *s = st;

	(void)len;
	if (side == PROTO_REQ)
		return; /* what is pending can still be answered */
	/* the answers to what is pending may be in the gap: settle it all */
	s->await = PG_AWAIT_NONE;
	s->startup = false;
	settle(s, io);
}

static void pg_close(void *st, struct proto_io *io)
{
	struct pg_state *s = st;

	settle(st, io);
	io->cnt->stmts_evicted[PROTO_PGSQL] += s->stmts_evicted;
	s->stmts_evicted = 0;
}

static void pg_fini(void *st)
{
	struct pg_state *s = st;

	while (s->count)
		pend_pop(s);
	for (size_t i = 0; s->stmts && i < PG_STMT_MAX; i++)
		text_unref(s->stmts[i].text);
	for (size_t i = 0; i < PG_PORTAL_MAX; i++)
		text_unref(s->portals[i].text);
	free(s->pend);
	free(s->stmts);
	s->pend = NULL;
	s->stmts = NULL;
}

static int pg_init(void *st)
{
	struct pg_state *s = st;

	s->ans.tag_rows = -1;
	return 0;
}

/* ---- detection --------------------------------------------------------- */

/* The codes an untyped first message may carry, as bytes 4..7. */
static const uint8_t untyped_codes[][4] = {
	{ 0x00, 0x03, 0x00, 0x00 }, /* StartupMessage 3.0 (3.x: bytes 6..7 differ) */
	{ 0x04, 0xd2, 0x16, 0x2f }, /* SSLRequest */
	{ 0x04, 0xd2, 0x16, 0x30 }, /* GSSENCRequest */
	{ 0x04, 0xd2, 0x16, 0x2e }, /* CancelRequest */
};

/* Fewer than 8 bytes: could they start an untyped message? */
static bool untyped_prefix(const uint8_t *p, size_t len)
{
	/* the length is < 65536: bytes 0 and 1 are 0, byte 2 small */
	if ((len > 1 && p[1] != 0) || (len > 2 && p[2] > (PG_STARTUP_MAX >> 8)))
		return false;
	if (len <= 4)
		return true;
	for (size_t c = 0; c < sizeof(untyped_codes) / sizeof(untyped_codes[0]); c++) {
		size_t k = c == 0 ? min_sz(len - 4, 2) : len - 4;

		if (!memcmp(p + 4, untyped_codes[c], k))
			return true;
	}
	return false;
}

/*
 * Startup parameters in b[0..n) of blen: printable keys, values without
 * NULs, the final NUL as the last byte. A cut message is judged on its start.
 */
static bool startup_plausible(const uint8_t *b, size_t n, size_t blen)
{
	size_t i = 0, kl, vl;

	while (i < n && b[i] != 0) {
		if (!cstr(b + i, n - i, &kl))
			kl = n - i;
		for (size_t k = 0; k < kl; k++)
			if (b[i + k] <= 0x20 || b[i + k] >= 0x7f)
				return false;
		if (i + kl + 1 >= n || !cstr(b + i + kl + 1, n - i - kl - 1, &vl))
			return n < blen;
		i += kl + vl + 2;
	}
	return i >= n || i + 1 == blen;
}

static enum proto_match detect_untyped(const uint8_t *p, size_t len)
{
	uint32_t mlen, code;

	if (len < PG_UNTYPED_HDR)
		return untyped_prefix(p, len) ? PROTO_MAYBE : PROTO_NO;
	mlen = be32(p);
	code = be32(p + 4);
	if (code == PG_CODE_SSL || code == PG_CODE_GSSENC)
		return mlen == PG_UNTYPED_HDR ? PROTO_YES : PROTO_NO;
	if (code == PG_CODE_CANCEL)
		return mlen >= PG_CANCEL_MIN && mlen <= PG_CANCEL_MAX ? PROTO_YES : PROTO_NO;
	if (code >> 16 != PG_MAJOR || (code & 0xffff) > PG_MINOR_MAX || mlen < PG_STARTUP_MIN ||
	    mlen > PG_STARTUP_MAX)
		return PROTO_NO;
	return startup_plausible(p + PG_UNTYPED_HDR, min_sz(len, mlen) - PG_UNTYPED_HDR,
	                         mlen - PG_UNTYPED_HDR)
	               ? PROTO_YES
	               : PROTO_NO;
}

/* The first bytes of SQL text (or a name) up to its NUL look like text. */
static bool text_plausible(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < min_sz(n, PG_PLAUSIBLE); i++) {
		if (b[i] == 0)
			return true;
		if (!is_texty(b[i]))
			return false;
	}
	return true;
}

/* DataRow: int16 count, then per column int32 length (-1: NULL) and the bytes. */
static bool datarow_plausible(const uint8_t *b, size_t n, size_t blen)
{
	size_t i = 2;
	uint16_t cols;

	if (n < 2)
		return true;
	cols = be16(b);
	if (cols > PG_COLS_MAX)
		return false;
	for (uint16_t c = 0; c < cols; c++) {
		uint32_t fl;

		if (i + 4 > n)
			return i + 4 <= blen;
		fl = be32(b + i);
		i += 4;
		if (fl == UINT32_MAX)
			continue;
		if (fl > blen - i)
			return false;
		i += fl;
	}
	return i == blen;
}

/* The first body bytes of a frontend message (n of blen seen) look right. */
static bool req_body_plausible(uint8_t type, const uint8_t *b, size_t n, size_t blen)
{
	switch (type) {
	case 'Q':
		return text_plausible(b, n) && (n < blen || b[blen - 1] == 0);
	case 'P':
	case 'B':
	case 'E':
		return text_plausible(b, n);
	case 'D':
	case 'C':
		return n == 0 || ((b[0] == 'S' || b[0] == 'P') && text_plausible(b + 1, n - 1) &&
		                  (n < blen || b[blen - 1] == 0));
	default:
		return true;
	}
}

/* Authentication request codes (0 ok ... 12 SASL final) and their fixed lengths. */
static bool auth_plausible(const uint8_t *b, size_t n, size_t blen)
{
	uint32_t code;

	if (n < 4)
		return true;
	code = be32(b);
	switch (code) {
	case 0:
	case 2:
	case 3:
	case 6:
	case 7:
	case 9:
		return blen == 4;
	case 5:
		return blen == 8; /* MD5 salt */
	case 8:
	case 10:
	case 11:
	case 12:
		return true;
	default:
		return false;
	}
}

static bool resp_body_plausible(uint8_t type, const uint8_t *b, size_t n, size_t blen)
{
	if (n == 0)
		return true;
	switch (type) {
	case 'Z':
		return b[0] == 'I' || b[0] == 'T' || b[0] == 'E';
	case 'C':
		return b[0] >= 'A' && b[0] <= 'Z' && (n < blen || b[blen - 1] == 0);
	case 'E':
	case 'N':
		return is_alpha(b[0]) || (b[0] == 0 && blen == 1);
	case 'R':
		return auth_plausible(b, n, blen);
	case 'S':
		return b[0] > 0x20 && b[0] < 0x7f && text_plausible(b, n);
	case 'D':
		return datarow_plausible(b, n, blen);
	case 'T':
	case 't':
		return n < 2 || be16(b) <= PG_COLS_MAX;
	case 'G':
	case 'H':
	case 'W':
		return b[0] <= 1 && (n < 3 || blen == 3 + 2 * (size_t)be16(b + 1));
	default:
		return true;
	}
}

/* The header at p (len bytes seen, maybe fewer than 5) is a possible message start of @side. */
static bool header_plausible(enum proto_side side, const uint8_t *p, size_t len)
{
	const struct pg_rule *r = rule_for(side, p[0]);
	uint32_t lo = 0, hi = 0;

	if (!r)
		return false;
	/* the length bytes seen, completed with 00s and with ffs, must reach the type's range */
	for (size_t i = 1; i < PG_HDR; i++) {
		lo = lo << 8 | (i < len ? p[i] : 0x00);
		hi = hi << 8 | (i < len ? p[i] : 0xff);
	}
	return hi >= r->min && lo <= r->max;
}

static enum proto_match detect_typed(enum proto_side side, const uint8_t *p, size_t len)
{
	size_t blen, n, next;
	bool ok;

	if (!header_plausible(side, p, len))
		return PROTO_NO;
	if (len < PG_HDR)
		return PROTO_MAYBE;
	blen = be32(p + 1) - 4;
	n = min_sz(len - PG_HDR, blen);
	ok = side == PROTO_REQ ? req_body_plausible(p[0], p + PG_HDR, n, blen)
	                       : resp_body_plausible(p[0], p + PG_HDR, n, blen);
	if (!ok)
		return PROTO_NO;
	next = PG_HDR + blen;
	if (len > next && !header_plausible(side, p + next, len - next))
		return PROTO_NO;
	return PROTO_YES;
}

/*
 * PostgreSQL is client-first: a connection starts with an untyped message
 * from the client. Midstream, any typed message of the side (and its
 * follower, when the bytes hold it) must look right.
 */
static enum proto_match pg_detect(enum proto_side side, const uint8_t *p, size_t len,
                                  unsigned flags)
{
	if (len == 0)
		return PROTO_NO;
	if (side == PROTO_REQ && p[0] == 0)
		return detect_untyped(p, len);
	if (!(flags & PROTO_MIDSTREAM))
		return PROTO_NO;
	return detect_typed(side, p, len);
}

const struct proto_parser proto_pgsql = {
	.name = "postgresql",
	.id = PROTO_PGSQL,
	.state_size = sizeof(struct pg_state),
	.detect = pg_detect,
	.init = pg_init,
	.parse = pg_parse,
	.gap = pg_gap,
	.close = pg_close,
	.fini = pg_fini,
};
