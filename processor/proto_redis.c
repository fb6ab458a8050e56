// SPDX-License-Identifier: Apache-2.0
/*
 * Redis RESP2/RESP3 parser (byte-stream model of processor/proto.h).
 *
 * Trust boundary: every byte is hostile. Lengths and counts are checked
 * against named limits before use, nested replies are walked with one
 * counter (no recursion), bodies we do not need are skipped unseen
 * (io->skip), and nothing is allocated per byte: the state block holds a
 * few pending commands and a bounded table (REDIS_PENDING_MAX) is allocated
 * only when a client pipelines more.
 *
 * Requests are RESP arrays of bulk strings or inline lines. A command is
 * parsed element by element, so a value of any size costs one skip; only the
 * command name, a container command's subcommand and the first argument
 * (the key) are kept, in one text buffer: "GET key", "CLIENT SETNAME name".
 * Commands that carry credentials (AUTH, HELLO, MIGRATE, ACL SETUSER, CONFIG
 * SET of a password) keep no argument at all.
 *
 * Replies pair with commands first in, first out. Each command gets a
 * sequence number even when the pending table is full, so the reply of a
 * dropped command is recognised and swallowed instead of shifting every
 * later pairing.
 *
 * Out-of-band traffic: RESP3 push messages ('>') are never paired. After a
 * (P|S)(UN)SUBSCRIBE command, the connection is in pub/sub mode: those
 * commands are emitted at once (their answers are confirmations, not
 * replies), and in RESP2 a top-level array whose first element is a pub/sub
 * kind ("message", "subscribe", ...) is swallowed as well; an unsubscribe
 * confirmation with a count of 0 ends the mode. Anything else (PING's
 * "pong" array, errors) pairs normally. MONITOR's stream and CLIENT REPLY
 * OFF replies cannot be told apart from replies: they count as unpaired.
 *
 * Gaps: a command cut by a gap is still queued (the server got it whole and
 * will answer it), a reply cut by a gap still pairs with what was seen of it.
 * Commands or replies lost whole in a gap shift pipelined pairings; for
 * request/response clients the next round trip is paired right again.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "processor/proto.h"

#define REDIS_BULK_MAX      (512ull << 20) /* proto-max-bulk-len: the spec's ceiling */
#define REDIS_AGG_MAX       INT32_MAX      /* elements of one aggregate (Redis: INT_MAX) */
#define REDIS_NEED_MAX      (1ull << 40)   /* elements still expected in one reply, all levels */
#define REDIS_NUM_DIGITS    18             /* digits of a length or count: no int64 overflow */
#define REDIS_INT_DIGITS    19             /* digits of an integer reply (int64) */
#define REDIS_NUM_LINE_MAX  24             /* type, sign, REDIS_NUM_DIGITS, CRLF, slack */
#define REDIS_INLINE_MAX    4096           /* inline command line, LF included */
#define REDIS_LINE_KEEP     64             /* bytes of a simple reply line looked at */
#define REDIS_NAME_MAX      32             /* command / subcommand in db.operation.name */
#define REDIS_TEXT_MAX      128            /* db.query.text: operation + " " + first argument */
#define REDIS_CODE_MAX      32             /* error prefix word (db.response.status_code) */
#define REDIS_KIND_MAX      16             /* first element kept to recognise pub/sub messages */
#define REDIS_INLINE_SLOTS  4              /* pending commands held in the state block */
#define REDIS_PENDING_MAX   128            /* pending commands with the lazily allocated table */
#define REDIS_DETECT_LINE   256            /* reply line length looked at by detection */
#define REDIS_DETECT_DIGITS 10             /* digits of a command's element count (INT32_MAX) */

_Static_assert((REDIS_INLINE_SLOTS & (REDIS_INLINE_SLOTS - 1)) == 0, "ring indexes wrap");
_Static_assert((REDIS_PENDING_MAX & (REDIS_PENDING_MAX - 1)) == 0, "ring indexes wrap");
_Static_assert(2 * REDIS_NAME_MAX + 2 < REDIS_TEXT_MAX, "room for a key after the operation");

#define CMD_OP_CUT   1u /* command or subcommand longer than REDIS_NAME_MAX */
#define CMD_TEXT_CUT 2u /* first argument cut at REDIS_TEXT_MAX */

/* A command, pending or being parsed. */
struct redis_cmd {
	uint64_t start_ns;
	uint32_t seq;   /* request number: pairs with reply number seq */
	uint32_t nargs; /* arguments after the operation name */
	uint8_t op_len; /* text[0..op_len) is db.operation.name */
	uint8_t text_len;
	uint8_t flags; /* CMD_* */
	char text[REDIS_TEXT_MAX];
};

/* The request side: the command whose elements are being read. */
struct redis_req {
	struct redis_cmd cmd;
	uint32_t argc, idx; /* declared elements, next element */
	bool active;        /* array header seen, elements pending */
	bool container;     /* CLIENT, CONFIG, ...: element 1 is a subcommand */
	bool redact;        /* the arguments may hold a credential */
	bool config_set;    /* CONFIG SET: element 2 is the parameter name */
	bool pubsub;        /* (P|S)(UN)SUBSCRIBE */
};

/* The response side: the top-level value being read. */
struct redis_reply {
	uint64_t need;   /* elements still expected, all nesting levels together */
	uint64_t nchild; /* elements the top-level aggregate declared */
	uint64_t start_ns;
	int64_t last_int; /* last integer child of a flat top-level aggregate */
	bool in;          /* a top-level value has started */
	bool push;        /* it is a RESP3 push: out of band */
	bool error;
	bool flat;    /* top-level aggregate without nested aggregates (so far) */
	bool discard; /* the rest of a long simple line is being dropped */
	uint8_t agg;  /* type byte of a top-level aggregate, 0 for a scalar */
	uint8_t code_len, kind_len;
	char code[REDIS_CODE_MAX];
	char kind[REDIS_KIND_MAX];
};

struct redis_state {
	struct redis_req req;
	struct redis_reply rep;
	struct redis_cmd inl[REDIS_INLINE_SLOTS];
	struct redis_cmd *ext; /* REDIS_PENDING_MAX slots, NULL until needed */
	uint32_t head, count;  /* FIFO of pending commands (absolute indexes) */
	uint32_t req_seq, rep_seq;
	bool pubsub; /* subscribed: pub/sub confirmations and messages are not replies */
	bool resp3;  /* a RESP3-only type was seen: pub/sub messages are pushes */
};

/* ---- small helpers ------------------------------------------------------ */

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static uint8_t upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

static bool eq_nocase(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper((uint8_t)a[i]) != upper((uint8_t)lit[i]))
			return false;
	return true;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (eq_nocase(s, n, *list))
			return true;
	return false;
}

/*
 * "<type><integer>\r\n" at p: 0 with the value and the line's length,
 * PROTO_INCOMPLETE or PROTO_INVALID.
 */
static int num_line(const uint8_t *p, size_t len, int64_t *val, size_t *line)
{
	size_t i = 1, digits = 0, end = min_sz(len, REDIS_NUM_LINE_MAX);
	bool neg = false;
	int64_t v = 0;

	if (i < end && p[i] == '-') {
		neg = true;
		i++;
	}
	for (; i < end && is_digit(p[i]); i++) {
		if (++digits > REDIS_NUM_DIGITS)
			return PROTO_INVALID;
		v = v * 10 + (p[i] - '0');
	}
	if (i >= end)
		return len < REDIS_NUM_LINE_MAX ? PROTO_INCOMPLETE : PROTO_INVALID;
	if (digits == 0 || p[i] != '\r')
		return PROTO_INVALID;
	if (i + 1 >= len)
		return PROTO_INCOMPLETE;
	if (p[i + 1] != '\n')
		return PROTO_INVALID;
	*val = neg ? -v : v;
	*line = i + 2;
	return 0;
}

/* What to do with a length-prefixed body: keep a prefix, consume, skip. */
struct take {
	const uint8_t *body;
	size_t kept;   /* bytes of body kept (<= want) */
	bool cut;      /* the body is longer than what was kept */
	size_t used;   /* bytes consumed from p, header included */
	uint64_t skip; /* bytes after them to drop unseen */
};

/*
 * The body of @blen bytes (+ CRLF) after a header of @hdr bytes. Up to
 * @want bytes are wanted: they must be present unless @salvage (a gap
 * follows). Everything else is consumed as far as present and skipped.
 */
static int take_body(const uint8_t *p, size_t len, size_t hdr, uint64_t blen, size_t want,
                     bool salvage, struct take *t)
{
	size_t avail = len - hdr;
	uint64_t total = blen + 2;

	t->body = p + hdr;
	t->skip = 0;
	if (avail >= total) {
		if (p[hdr + blen] != '\r' || p[hdr + blen + 1] != '\n')
			return PROTO_INVALID;
		t->kept = (size_t)(blen < want ? blen : want);
		t->cut = blen > want;
		t->used = hdr + (size_t)total;
		return 0;
	}
	if (want > 0 && !(blen > want && avail >= want) && !salvage)
		return PROTO_INCOMPLETE;
	t->kept = (size_t)(blen < want ? blen : want);
	t->kept = min_sz(t->kept, avail);
	t->cut = t->kept < blen;
	t->used = len;
	t->skip = total - avail;
	return 0;
}

/* Uppercase the name into dst; bytes outside [A-Z0-9_-] become '_'. */
static void put_name(char *dst, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = upper(s[i]);

		if (!((c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-'))
			c = '_';
		dst[i] = (char)c;
	}
}

/* ---- pending commands --------------------------------------------------- */

static uint32_t fifo_cap(const struct redis_state *s)
{
	return s->ext ? REDIS_PENDING_MAX : REDIS_INLINE_SLOTS;
}

static struct redis_cmd *fifo_at(struct redis_state *s, uint32_t i)
{
	return s->ext ? &s->ext[i % REDIS_PENDING_MAX] : &s->inl[i % REDIS_INLINE_SLOTS];
}

/* Move the pending commands to the larger table; false if it cannot be had. */
static bool fifo_grow(struct redis_state *s)
{
	struct redis_cmd *ext;

	if (s->ext)
		return false;
	ext = calloc(REDIS_PENDING_MAX, sizeof(*ext));
	if (!ext)
		return false;
	for (uint32_t i = s->head; i != s->head + s->count; i++)
		ext[i % REDIS_PENDING_MAX] = s->inl[i % REDIS_INLINE_SLOTS];
	s->ext = ext;
	return true;
}

static void fifo_push(struct redis_state *s, struct proto_io *io, const struct redis_cmd *c)
{
	struct redis_cmd *slot;
	uint32_t seq = s->req_seq++;

	if (s->count == fifo_cap(s) && !fifo_grow(s)) {
		io->cnt->pending_dropped[PROTO_REDIS]++;
		return;
	}
	slot = fifo_at(s, s->head + s->count++);
	*slot = *c;
	slot->seq = seq;
}

/* ---- transactions ------------------------------------------------------- */

static void emit(struct proto_io *io, const struct redis_cmd *c, enum txn_status status,
                 uint64_t end_ns, const struct redis_reply *rep)
{
	struct l7_txn t;

	txn_init(&t, PROTO_REDIS, c->start_ns);
	t.status = status;
	/* a reply carried from before its request was seen (garbage, midstream) ends no earlier */
	t.end_ns = end_ns < c->start_ns ? c->start_ns : end_ns;
	txn_str(&t, io->cnt, "db.system.name", "redis", 5, 0);
	if (c->op_len)
		txn_str(&t, io->cnt, "db.operation.name", c->text, c->op_len,
		        c->flags & CMD_OP_CUT ? TXN_TRUNCATED : 0);
	txn_int(&t, io->cnt, "db.redis.argument_count", c->nargs);
	if (c->text_len)
		txn_str(&t, io->cnt, "db.query.text", c->text, c->text_len,
		        TXN_SENSITIVE | (c->flags & CMD_TEXT_CUT ? TXN_TRUNCATED : 0));
	if (status == TXN_ERROR && rep && rep->code_len)
		txn_str(&t, io->cnt, "db.response.status_code", rep->code, rep->code_len, 0);
	proto_emit(io, &t);
}

/* ---- requests ----------------------------------------------------------- */

/* Commands whose first argument is a subcommand, part of the operation name. */
static const char *const containers[] = {
	"CLIENT",  "CONFIG",  "CLUSTER", "COMMAND", "MEMORY",   "OBJECT",
	"SCRIPT",  "XINFO",   "XGROUP",  "ACL",     "FUNCTION", "MODULE",
	"SLOWLOG", "LATENCY", "PUBSUB",  "DEBUG",   NULL,
};

/* Commands whose arguments may hold a password (HELLO's AUTH, MIGRATE's AUTH/AUTH2). */
static const char *const redacted[] = { "AUTH", "HELLO", "MIGRATE", NULL };

/* Their confirmations arrive as pub/sub messages, never as one reply. */
static const char *const subscribes[] = {
	"SUBSCRIBE",    "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE",
	"PUNSUBSCRIBE", "SUNSUBSCRIBE", NULL,
};

enum elem_role { ROLE_SKIP, ROLE_CMD, ROLE_SUB, ROLE_ARG };

static enum elem_role elem_role(const struct redis_req *r)
{
	if (r->idx == 0)
		return ROLE_CMD;
	if (r->redact)
		return ROLE_SKIP;
	if (r->idx == 1)
		return r->container ? ROLE_SUB : ROLE_ARG;
	return r->idx == 2 && r->container ? ROLE_ARG : ROLE_SKIP;
}

static size_t role_want(const struct redis_req *r, enum elem_role role)
{
	if (role == ROLE_CMD || role == ROLE_SUB)
		return REDIS_NAME_MAX;
	if (role == ROLE_ARG)
		return REDIS_TEXT_MAX - 1u - r->cmd.text_len; /* >= 1: see the _Static_assert */
	return 0;
}

static void req_start(struct redis_req *r, uint64_t ts, uint32_t argc)
{
	memset(r, 0, sizeof(*r));
	r->active = true;
	r->argc = argc;
	r->cmd.start_ns = ts;
}

static void store_cmd(struct redis_req *r, const uint8_t *b, size_t n, bool cut)
{
	struct redis_cmd *c = &r->cmd;

	put_name(c->text, b, n);
	c->op_len = c->text_len = (uint8_t)n;
	if (cut) {
		c->flags |= CMD_OP_CUT;
		return;
	}
	r->container = in_list(c->text, n, containers);
	r->redact = in_list(c->text, n, redacted);
	r->pubsub = in_list(c->text, n, subscribes);
}

static void store_sub(struct redis_req *r, const uint8_t *b, size_t n, bool cut)
{
	struct redis_cmd *c = &r->cmd;
	const char *cmd = c->text;
	size_t cmd_len = c->op_len;

	if (cut)
		c->flags |= CMD_OP_CUT;
	if (n == 0)
		return;
	c->text[c->text_len++] = ' ';
	put_name(c->text + c->text_len, b, n);
	c->text_len = (uint8_t)(c->text_len + n);
	c->op_len = c->text_len;
	if (eq_nocase(cmd, cmd_len, "ACL") && eq_nocase((const char *)b, n, "SETUSER"))
		r->redact = true;
	r->config_set = eq_nocase(cmd, cmd_len, "CONFIG") && eq_nocase((const char *)b, n, "SET");
}

/* CONFIG SET of a parameter that holds a password (masterauth, requirepass, *-pass). */
static bool secret_param(const uint8_t *b, size_t n, bool cut)
{
	static const char *const words[] = { "PASS", "AUTH", NULL };

	if (cut)
		return true; /* cannot tell: keep nothing */
	for (const char *const *w = words; *w; w++)
		for (size_t i = 0; i + strlen(*w) <= n; i++)
			if (eq_nocase((const char *)b + i, strlen(*w), *w))
				return true;
	return false;
}

static void store_arg(struct redis_req *r, const uint8_t *b, size_t n, bool cut)
{
	struct redis_cmd *c = &r->cmd;

	if (r->config_set && secret_param(b, n, cut))
		return;
	c->text[c->text_len++] = ' ';
	memcpy(c->text + c->text_len, b, n);
	c->text_len = (uint8_t)(c->text_len + n);
	if (cut)
		c->flags |= CMD_TEXT_CUT;
}

/* Element r->idx of the command: @n bytes of it kept at @b, @cut if it was longer. */
static void req_store(struct redis_req *r, const uint8_t *b, size_t n, bool cut)
{
	switch (elem_role(r)) {
	case ROLE_CMD:
		store_cmd(r, b, n, cut);
		break;
	case ROLE_SUB:
		store_sub(r, b, n, cut);
		break;
	case ROLE_ARG:
		store_arg(r, b, n, cut);
		break;
	case ROLE_SKIP:
		break;
	}
	r->idx++;
}

/* Arguments after the operation name (a container's subcommand is part of it). */
static void req_nargs(struct redis_req *r)
{
	uint32_t before = r->container && r->argc >= 2 ? 2 : 1;

	r->cmd.nargs = r->argc > before ? r->argc - before : 0;
}

/* The command is complete (or cut by a gap): queue it, or emit it if no reply will come. */
static void req_finish(struct redis_state *s, struct proto_io *io)
{
	struct redis_req *r = &s->req;

	req_nargs(r);
	if (r->pubsub) {
		s->pubsub = true;
		emit(io, &r->cmd, TXN_OK, r->cmd.start_ns, NULL);
	} else {
		fifo_push(s, io, &r->cmd);
	}
	memset(r, 0, sizeof(*r));
}

static long req_array(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	int64_t n;
	size_t hdr;
	int rc = num_line(p, len, &n, &hdr);

	if (rc < 0)
		return rc;
	if (n == 0 || n == -1)
		return (long)hdr; /* Redis ignores an empty command */
	if (n < 0 || n > REDIS_AGG_MAX)
		return PROTO_INVALID;
	req_start(&s->req, io->ts_ns, (uint32_t)n);
	return (long)hdr;
}

static long req_element(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	struct redis_req *r = &s->req;
	struct take t;
	int64_t n;
	size_t hdr;
	int rc;

	if (p[0] != '$')
		return PROTO_INVALID;
	rc = num_line(p, len, &n, &hdr);
	if (rc < 0)
		return rc;
	if (n < 0 || (uint64_t)n > REDIS_BULK_MAX)
		return PROTO_INVALID;
	rc = take_body(p, len, hdr, (uint64_t)n, role_want(r, elem_role(r)), io->gap_after > 0, &t);
	if (rc < 0)
		return rc;
	req_store(r, t.body, t.kept, t.cut);
	io->skip = t.skip;
	if (r->idx == r->argc)
		req_finish(s, io);
	return (long)t.used;
}

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* An inline command: one line of blank-separated words (no quoting). */
static long req_inline(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	const uint8_t *lf = memchr(p, '\n', min_sz(len, REDIS_INLINE_MAX));
	size_t end, i = 0, words = 0;

	if (!lf)
		return len >= REDIS_INLINE_MAX ? PROTO_INVALID : PROTO_INCOMPLETE;
	end = (size_t)(lf - p);
	if (end > 0 && p[end - 1] == '\r')
		end--;
	for (size_t k = 0; k < end; k++)
		if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f)
			return PROTO_INVALID;
	req_start(&s->req, io->ts_ns, 0);
	while (i < end) {
		size_t w;

		for (; i < end && is_blank(p[i]); i++)
			;
		for (w = i; i < end && !is_blank(p[i]); i++)
			;
		if (i == w)
			break;
		req_store(&s->req, p + w, min_sz(i - w, role_want(&s->req, elem_role(&s->req))),
		          i - w > role_want(&s->req, elem_role(&s->req)));
		words++;
	}
	s->req.argc = (uint32_t)words;
	if (words)
		req_finish(s, io);
	else
		memset(&s->req, 0, sizeof(s->req)); /* an empty line: Redis ignores it */
	return (long)(lf - p) + 1;
}

static long req_step(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	if (s->req.active)
		return req_element(s, io, p, len);
	return p[0] == '*' ? req_array(s, io, p, len) : req_inline(s, io, p, len);
}

/* ---- replies ------------------------------------------------------------ */

static const char *const pubsub_kinds[] = {
	"message",    "pmessage",    "smessage",     "subscribe",    "psubscribe",
	"ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", NULL,
};

static const char *const unsub_kinds[] = { "unsubscribe", "punsubscribe", "sunsubscribe", NULL };

/* A reply for command number rep_seq: pair it, or count it. */
static void pair(struct redis_state *s, struct proto_io *io)
{
	const struct redis_reply *r = &s->rep;
	uint32_t n = s->rep_seq;
	struct redis_cmd *c;

	if ((int32_t)(n - s->req_seq) >= 0) {
		io->cnt->unpaired[PROTO_REDIS]++;
		return;
	}
	s->rep_seq++;
	if (s->count == 0)
		return; /* the reply of a command dropped from a full table */
	c = fifo_at(s, s->head);
	if (c->seq != n)
		return; /* likewise: the head is a later command */
	s->head++;
	s->count--;
	emit(io, c, r->error ? TXN_ERROR : TXN_OK, r->start_ns, r);
}

static void reply_done(struct redis_state *s, struct proto_io *io)
{
	struct redis_reply *r = &s->rep;
	bool kind = r->flat && r->agg && in_list(r->kind, r->kind_len, pubsub_kinds);
	bool message = kind && r->agg == '*' && s->pubsub && !s->resp3;

	r->in = false;
	if (kind && r->last_int == 0 && in_list(r->kind, r->kind_len, unsub_kinds))
		s->pubsub = false; /* the last subscription is gone */
	if (!r->push && !message)
		pair(s, io);
}

/* The error prefix word: leading uppercase letters. */
static void error_code(struct redis_reply *r, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i < n && i < REDIS_CODE_MAX && b[i] >= 'A' && b[i] <= 'Z'; i++)
		r->code[i] = (char)b[i];
	r->code_len = (uint8_t)i;
}

static bool top_start(const struct redis_reply *r)
{
	return !r->in && r->need == 0;
}

/* Does the element about to be read become the first child of a flat top-level array? */
static bool first_child(const struct redis_reply *r)
{
	return r->in && r->flat && r->agg && r->need == r->nchild;
}

/*
 * One element of type @t has been read: a scalar (@agg false) or an
 * aggregate with @kids children. Counts it against the reply and finishes
 * the reply when nothing more is expected.
 */
static int account(struct redis_state *s, struct proto_io *io, uint8_t t, bool agg, uint64_t kids)
{
	struct redis_reply *r = &s->rep;

	if (r->need + kids > REDIS_NEED_MAX)
		return PROTO_INVALID;
	if (t == '|') {
		r->need += kids; /* attributes annotate the next value; they are not one */
		r->flat = false;
	} else if (top_start(r)) {
		r->in = true;
		r->start_ns = io->ts_ns;
		r->push = t == '>';
		r->error = t == '-' || t == '!';
		r->agg = agg ? t : 0;
		r->need = r->nchild = kids;
		r->flat = true;
	} else {
		r->need--;
		if (agg) {
			r->need += kids;
			r->flat = false;
		}
	}
	if (r->need == 0 && r->in)
		reply_done(s, io);
	return 0;
}

static bool resp3_type(uint8_t t)
{
	return strchr("_,#!=(%~>|", t) != NULL;
}

/* ":<int64>": false if malformed; the value saturates (only 0 matters to us). */
static bool int_line(const uint8_t *b, size_t n, int64_t *val)
{
	size_t i = n > 0 && (b[0] == '-' || b[0] == '+') ? 1 : 0;
	uint64_t v = 0;

	if (i == n || n - i > REDIS_INT_DIGITS)
		return false;
	for (; i < n; i++) {
		if (!is_digit(b[i]))
			return false;
		v = v * 10 + (uint64_t)(b[i] - '0');
	}
	*val = v > INT64_MAX ? INT64_MAX : (int64_t)v;
	if (b[0] == '-')
		*val = -*val;
	return true;
}

/*
 * The content of a simple line (+ - : _ , # ( ), @whole if its end was
 * seen: checks it, keeps what the reply needs.
 */
static int line_content(struct redis_reply *r, uint8_t t, const uint8_t *b, size_t n, bool whole)
{
	bool top = top_start(r), first = first_child(r);
	int64_t v;

	if ((t == '_' && n != 0) || (t == '#' && (n != 1 || (b[0] != 't' && b[0] != 'f'))))
		return PROTO_INVALID;
	if (t == ':') {
		if (!whole || !int_line(b, n, &v))
			return PROTO_INVALID;
		if (r->in && r->flat)
			r->last_int = v;
	}
	if (t == '-' && top)
		error_code(r, b, n);
	if (t == '+' && first) {
		r->kind_len = (uint8_t)min_sz(n, REDIS_KIND_MAX);
		memcpy(r->kind, b, r->kind_len);
	}
	return 0;
}

static void reply_reset_top(struct redis_reply *r)
{
	r->code_len = 0;
	r->kind_len = 0;
	r->last_int = -1;
}

static long rep_line(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	const uint8_t *lf = memchr(p, '\n', len);
	size_t used, n;
	int rc;

	if (lf) {
		used = (size_t)(lf - p) + 1;
		if (used < 3 || p[used - 2] != '\r')
			return PROTO_INVALID;
		n = used - 3;
	} else if (len >= REDIS_LINE_KEEP) {
		used = len; /* a long line: look at its start, drop the rest */
		n = REDIS_LINE_KEEP - 1;
	} else {
		return PROTO_INCOMPLETE;
	}
	if (top_start(&s->rep))
		reply_reset_top(&s->rep);
	rc = line_content(&s->rep, p[0], p + 1, p[0] == ':' ? n : min_sz(n, REDIS_LINE_KEEP - 1),
	                  lf != NULL);
	if (rc < 0)
		return rc;
	s->rep.discard = lf == NULL;
	rc = account(s, io, p[0], false, 0);
	return rc < 0 ? rc : (long)used;
}

static long rep_discard(struct redis_state *s, const uint8_t *p, size_t len)
{
	const uint8_t *lf = memchr(p, '\n', len);

	if (!lf)
		return (long)len;
	s->rep.discard = false;
	return (long)(lf - p) + 1;
}

/* Bulk body bytes the reply needs: a top-level error's prefix, a pub/sub kind. */
static size_t bulk_want(const struct redis_reply *r, uint8_t t)
{
	if (t == '!' && top_start(r))
		return REDIS_LINE_KEEP;
	if (t == '$' && first_child(r))
		return REDIS_KIND_MAX;
	return 0;
}

static long rep_bulk(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	struct redis_reply *r = &s->rep;
	struct take t;
	int64_t n;
	size_t hdr;
	int rc = num_line(p, len, &n, &hdr);

	if (rc < 0)
		return rc;
	if (n == -1 && p[0] == '$') {
		if (top_start(r))
			reply_reset_top(r);
		rc = account(s, io, p[0], false, 0); /* RESP2 null bulk string */
		return rc < 0 ? rc : (long)hdr;
	}
	if (n < 0 || (uint64_t)n > REDIS_BULK_MAX)
		return PROTO_INVALID;
	rc = take_body(p, len, hdr, (uint64_t)n, bulk_want(r, p[0]), io->gap_after > 0, &t);
	if (rc < 0)
		return rc;
	if (top_start(r))
		reply_reset_top(r);
	if (p[0] == '!' && top_start(r))
		error_code(r, t.body, t.kept);
	if (p[0] == '$' && first_child(r)) {
		r->kind_len = (uint8_t)t.kept;
		memcpy(r->kind, t.body, t.kept);
	}
	rc = account(s, io, p[0], false, 0);
	if (rc < 0)
		return rc;
	io->skip = t.skip;
	return (long)t.used;
}

static long rep_agg(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	int64_t n;
	size_t hdr;
	int rc = num_line(p, len, &n, &hdr);
	bool pairs = p[0] == '%' || p[0] == '|';

	if (rc < 0)
		return rc;
	if (top_start(&s->rep))
		reply_reset_top(&s->rep);
	if (n == -1 && p[0] == '*') {
		rc = account(s, io, p[0], false, 0); /* RESP2 null array */
		return rc < 0 ? rc : (long)hdr;
	}
	if (n < 0 || n > REDIS_AGG_MAX)
		return PROTO_INVALID;
	rc = account(s, io, p[0], true, (uint64_t)n * (pairs ? 2 : 1));
	return rc < 0 ? rc : (long)hdr;
}

static long rep_step(struct redis_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	long r;

	if (s->rep.discard)
		return rep_discard(s, p, len);
	if (strchr("+-:_,#(", p[0]) && p[0])
		r = rep_line(s, io, p, len);
	else if (strchr("$!=", p[0]) && p[0])
		r = rep_bulk(s, io, p, len);
	else if (strchr("*%~>|", p[0]) && p[0])
		r = rep_agg(s, io, p, len);
	else
		return PROTO_INVALID;
	if (r > 0 && resp3_type(p[0]))
		s->resp3 = true;
	return r;
}

/* ---- parser entry points ------------------------------------------------ */

static long redis_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                        size_t len)
{
	struct redis_state *s = st;
	size_t off = 0;
	long r = PROTO_INCOMPLETE;

	/* several messages per call, but a skip ends the call: it applies after them */
	while (off < len && io->skip == 0) {
		r = side == PROTO_REQ ? req_step(s, io, p + off, len - off)
		                      : rep_step(s, io, p + off, len - off);
		if (r < 0)
			break;
		off += (size_t)r;
	}
	return off > 0 ? (long)off : r;
}

static void redis_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct redis_state *s = st;

	(void)len;
	if (side == PROTO_REQ) {
		if (s->req.active)
			req_finish(s, io); /* the server got it whole: its reply will come */
		memset(&s->req, 0, sizeof(s->req));
		return;
	}
	if (s->rep.in)
		reply_done(s, io); /* what was seen of the reply is its status */
	memset(&s->rep, 0, sizeof(s->rep));
}

static void redis_close(void *st, struct proto_io *io)
{
	struct redis_state *s = st;

	if (s->rep.in)
		reply_done(s, io);
	memset(&s->rep, 0, sizeof(s->rep));
	for (; s->count > 0; s->count--, s->head++) {
		const struct redis_cmd *c = fifo_at(s, s->head);

		emit(io, c, TXN_NO_RESPONSE, c->start_ns, NULL);
	}
	if (s->req.active && !s->req.pubsub) { /* a command cut by the end of the capture */
		req_nargs(&s->req);
		emit(io, &s->req.cmd, TXN_NO_RESPONSE, s->req.cmd.start_ns, NULL);
	}
	memset(&s->req, 0, sizeof(s->req));
}

static int redis_init(void *st)
{
	(void)st;
	return 0;
}

static void redis_fini(void *st)
{
	struct redis_state *s = st;

	free(s->ext);
	s->ext = NULL;
}

/* ---- detection ---------------------------------------------------------- */

/* Commands a person types at a Redis prompt (inline); GET is left out: "GET /" is HTTP. */
static const char *const inline_words[] = {
	"PING",    "AUTH",      "HELLO",      "SELECT", "INFO",    "QUIT",     "ECHO",   "MONITOR",
	"CLIENT",  "COMMAND",   "CONFIG",     "DBSIZE", "KEYS",    "SCAN",     "EXISTS", "FLUSHALL",
	"FLUSHDB", "SUBSCRIBE", "PSUBSCRIBE", "MULTI",  "ROLE",    "REPLCONF", "PSYNC",  "SET",
	"DEL",     "INCR",      "LPUSH",      "RPUSH",  "HGETALL", "TTL",      NULL,
};

/* "*<count>\r\n$" */
static enum proto_match detect_array(const uint8_t *p, size_t len)
{
	size_t i = 1;

	for (; i < len && is_digit(p[i]); i++)
		if ((i == 1 && p[i] == '0') || i > REDIS_DETECT_DIGITS)
			return PROTO_NO;
	if (i == len)
		return PROTO_MAYBE;
	if (i == 1 || p[i] != '\r')
		return PROTO_NO;
	if (++i == len)
		return PROTO_MAYBE;
	if (p[i] != '\n')
		return PROTO_NO;
	if (++i == len)
		return PROTO_MAYBE;
	return p[i] == '$' ? PROTO_YES : PROTO_NO;
}

static enum proto_match detect_inline(const uint8_t *p, size_t len)
{
	enum proto_match best = PROTO_NO;

	for (const char *const *w = inline_words; *w; w++) {
		size_t n = strlen(*w), k = 0;

		for (; k < n && k < len && upper(p[k]) == (uint8_t)(*w)[k]; k++)
			;
		if (k < n) {
			if (k == len)
				best = PROTO_MAYBE;
			continue;
		}
		if (len == n)
			best = PROTO_MAYBE;
		else if (p[n] == ' ' || p[n] == '\r' || p[n] == '\n')
			return PROTO_YES;
	}
	return best;
}

/* Is @c a plausible content byte of a reply line of type @t? */
static bool line_char(uint8_t t, uint8_t c, size_t pos)
{
	switch (t) {
	case '+':
	case '-':
		if (t == '-' && pos == 0)
			return c >= 'A' && c <= 'Z';
		return c >= 0x20 && c != 0x7f;
	case ':':
	case '(':
		return is_digit(c) || (pos == 0 && (c == '-' || c == '+'));
	case ',':
		return c != 0 && strchr("0123456789.-+eEinfa", c) != NULL;
	case '#':
		return pos == 0 && (c == 't' || c == 'f');
	case '_':
		return false;
	default: /* lengths and counts */
		return is_digit(c) || (pos == 0 && c == '-' && (t == '$' || t == '*'));
	}
}

static enum proto_match detect_reply(const uint8_t *p, size_t len)
{
	size_t i = 1;

	if (!p[0] || !strchr("+-:_,#($!=*%~>|", p[0]))
		return PROTO_NO;
	for (; i < len && i < REDIS_DETECT_LINE && p[i] != '\r'; i++)
		if (!line_char(p[0], p[i], i - 1))
			return PROTO_NO;
	if (i == len || i == REDIS_DETECT_LINE)
		return PROTO_MAYBE;
	if (i == 1 && p[0] != '_' && p[0] != '+')
		return PROTO_NO; /* empty content */
	if (i + 1 == len)
		return PROTO_MAYBE;
	return p[i + 1] == '\n' ? PROTO_YES : PROTO_NO;
}

static enum proto_match redis_detect(enum proto_side side, const uint8_t *p, size_t len,
                                     unsigned flags)
{
	if (side == PROTO_RESP)
		return flags & PROTO_MIDSTREAM ? detect_reply(p, len) : PROTO_NO;
	return p[0] == '*' ? detect_array(p, len) : detect_inline(p, len);
}

const struct proto_parser proto_redis = {
	.name = "redis",
	.id = PROTO_REDIS,
	.state_size = sizeof(struct redis_state),
	.detect = redis_detect,
	.init = redis_init,
	.parse = redis_parse,
	.gap = redis_gap,
	.close = redis_close,
	.fini = redis_fini,
};
