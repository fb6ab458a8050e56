/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the session layer (processor/session.c: detection,
 * carry buffer, skips, gaps, resync) and the protocol parsers
 * (processor/proto_<name>.c). Every byte a parser sees was captured from a
 * scoped socket, a TLS call or a pcap file: it is hostile. A parser:
 *
 *   - reads only p[0..len) and only during the call (no pointer into it is
 *     kept, except through a txn handed to io->emit during the call);
 *   - allocates nothing per byte: its state is one block of state_size bytes
 *     that the session allocates when the protocol is detected, plus bounded
 *     per-connection tables it documents (prepared statements, HPACK);
 *   - never recurses on input and checks every length against a named limit;
 *   - returns a documented code and never prints or exits.
 *
 * Sides, not directions: the session maps egress/ingress to the request side
 * (client to server) and the response side with the connection's role, so a
 * parser reads the same bytes the same way on a client and on a server.
 *
 * Byte-stream model, per side: parse() is called with the bytes that follow
 * the last consumed (or skipped) byte. It returns
 *   > 0               bytes consumed (one or more whole messages, or a message
 *                     header whose body the parser wants skipped: io->skip);
 *   PROTO_INCOMPLETE  not enough bytes for the next message: the session
 *                     keeps them (up to PROTO_CARRY_MAX) and calls again with
 *                     more appended;
 *   PROTO_INVALID     not this protocol's framing here: the side loses sync.
 * io->skip (set to 0 by the session before each call) is how many bytes
 * after the consumed ones the parser does not need to see (message bodies,
 * the rest of an oversized message); the session drops them unseen, across
 * data and gaps, so a gap that falls inside a skip costs nothing.
 *
 * Gaps (bytes the kernel did not capture, lost records): when the bytes given
 * to parse() are followed by a gap, io->gap_after is its length (> 0). The
 * parser is then called even for an incomplete message, so it can salvage
 * what it has (a statement's first kilobyte, a header without its end) and,
 * where the message's length is known, consume everything and set io->skip to
 * the rest of the message: if the skip covers the gap the side stays in sync.
 * A gap the parser cannot cover ends in gap() (and so does PROTO_INVALID, with
 * len 0): the parser forgets any partial message on that side and settles
 * requests that can no longer be answered;
 * the side then resynchronises: at the start of each following data run (a
 * captured segment or TLS call starts there) the session asks detect(...,
 * PROTO_MIDSTREAM) whether a message starts there, and parses from the first
 * run that says so; runs before it are dropped and counted.
 */
#ifndef BPFWARDEN_PROCESSOR_PROTO_H
#define BPFWARDEN_PROCESSOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_INVALID    (-1)
#define PROTO_INCOMPLETE (-2)

#define PROTO_CARRY_MAX (16 * 1024) /* bytes kept per side for an incomplete message */
#define TXN_MAX_ATTRS   24          /* attributes per transaction */

enum proto_id {
	PROTO_UNKNOWN = 0, /* not detected yet */
	PROTO_HTTP1,
	PROTO_HTTP2,
	PROTO_PGSQL,
	PROTO_MYSQL,
	PROTO_REDIS,
	PROTO_KAFKA,
	PROTO_TLS,  /* TLS records on the TCP stream: the plaintext comes from uprobes */
	PROTO_NONE, /* nothing matched: the connection's payload is only counted */
	PROTO__COUNT,
};

enum proto_side {
	PROTO_REQ = 0,  /* client to server */
	PROTO_RESP = 1, /* server to client */
};

enum proto_role {
	PROTO_ROLE_UNKNOWN = 0,
	PROTO_ROLE_CLIENT = 1, /* the scoped process is the client */
	PROTO_ROLE_SERVER = 2,
};

/* detect() answers */
enum proto_match {
	PROTO_NO = 0,    /* not a message start of this protocol */
	PROTO_MAYBE = 1, /* could be, given more bytes */
	PROTO_YES = 2,
};

/* detect() flags */
#define PROTO_CONN_START 0u /* the first bytes of the connection on this side */
#define PROTO_MIDSTREAM                                                                            \
	1u /* anywhere in the stream: after a gap, or a connection older than the agent */

enum txn_attr_type {
	TXN_STR = 0,
	TXN_INT = 1,
};

/* txn_attr.flags */
#define TXN_SENSITIVE                                                                              \
	(1u << 0) /* raw value (query string, header value, SQL, arguments): only a scrubber may   \
	             write it */
#define TXN_TRUNCATED (1u << 1) /* the value was cut (capture size, gap, parser limit) */

struct txn_attr {
	const char *key; /* OpenTelemetry semantic-convention name: a string literal, or a
	                    proto_headers key (both outlive every transaction) */
	const char *str; /* TXN_STR: not NUL-terminated, valid during io->emit only */
	uint32_t len;
	uint8_t type;  /* enum txn_attr_type */
	uint8_t flags; /* TXN_* */
	int64_t num;   /* TXN_INT */
};

enum txn_status {
	TXN_OK = 0,
	TXN_ERROR = 1,       /* the protocol reported a failure (HTTP 5xx, SQL error, ...) */
	TXN_NO_RESPONSE = 2, /* closed, gap or desync before the response was seen */
};

/* One request and its response (or a request that got none). */
struct l7_txn {
	enum proto_id proto;
	enum txn_status status;
	uint64_t start_ns; /* boot-time ns: first byte of the request seen */
	uint64_t end_ns;   /* boot-time ns: response seen; == start_ns when there is none */
	uint32_t nattrs;
	struct txn_attr attrs[TXN_MAX_ATTRS];
};

/* Counters the session and parsers add to; summed into the stats records. */
struct proto_counters {
	uint64_t txns[PROTO__COUNT];            /* transactions emitted, by protocol */
	uint64_t no_response[PROTO__COUNT];     /* of which TXN_NO_RESPONSE */
	uint64_t parse_errors[PROTO__COUNT];    /* PROTO_INVALID returned */
	uint64_t unpaired[PROTO__COUNT];        /* responses without a pending request */
	uint64_t pending_dropped[PROTO__COUNT]; /* requests dropped: pending table full */
	uint64_t stmts_evicted[PROTO__COUNT];   /* prepared statements forgotten: table full
	                                           (added when the connection closes) */
	uint64_t desyncs;                       /* sides that lost sync (gap or invalid) */
	uint64_t resync_dropped_bytes; /* bytes dropped while looking for a message start */
	uint64_t carry_overflow;       /* incomplete messages longer than PROTO_CARRY_MAX */
	uint64_t attrs_dropped;        /* attributes beyond TXN_MAX_ATTRS */
	uint64_t headers_not_captured; /* allowlisted header values beyond the per-message limit */
};

/*
 * HTTP header names the parsers capture for the scrubber: the names its
 * policy may let out in some form (kept, redacted or hashed), lowercase.
 * Built once before the sandbox (processor/scrub_txn.c), read-only after.
 * A parser that sees one of these headers emits its value under req_key
 * ("http.request.header.<name>") or resp_key ("http.response.header.<name>"),
 * at most PROTO_HEADER_VALUE_MAX bytes (TXN_TRUNCATED beyond) and flagged
 * TXN_SENSITIVE; every other header value is never copied.
 */
#define PROTO_HEADERS_MAX      16  /* names a policy can ask for */
#define PROTO_HEADER_NAME_MAX  64  /* one name, NUL included */
#define PROTO_HEADER_VALUE_MAX 128 /* bytes kept of one captured value */
#define PROTO_HEADER_KEY_MAX   (sizeof("http.response.header.") - 1 + PROTO_HEADER_NAME_MAX)

struct proto_header {
	char name[PROTO_HEADER_NAME_MAX]; /* lowercase token, NUL-terminated */
	uint32_t len;                     /* strlen(name), >= 1 */
	char req_key[PROTO_HEADER_KEY_MAX];
	char resp_key[PROTO_HEADER_KEY_MAX];
};

struct proto_headers {
	uint32_t n;
	struct proto_header h[PROTO_HEADERS_MAX];
};

#define PROTO_CAPTURED_MAX 6 /* policy-named header values kept per message */
_Static_assert(PROTO_HEADER_VALUE_MAX <= UINT16_MAX, "proto_hval.len holds a value's length");

/* One captured header value; its attribute key is h->req_key or h->resp_key. */
struct proto_hval {
	const struct proto_header *h; /* in io->headers, which outlives every transaction */
	uint16_t len;
	uint8_t flags; /* TXN_TRUNCATED */
	char v[PROTO_HEADER_VALUE_MAX];
};

/* The policy-named header values of one message, in order of first appearance. */
struct proto_capt {
	uint8_t n;
	struct proto_hval e[PROTO_CAPTURED_MAX];
};

/*
 * @sep then @v (@n bytes) after what @e holds, as far as
 * PROTO_HEADER_VALUE_MAX goes; the rest is cut (TXN_TRUNCATED, and nothing
 * is appended after a cut). @cut: @v itself was cut.
 */
void proto_hval_append(struct proto_hval *e, const char *sep, const uint8_t *v, size_t n, bool cut);

/*
 * The value of a header @ph names: a new entry, or joined to the entry of an
 * earlier header of that name (", ", "; " for cookie). Returns 1 + the
 * entry's index, or 0 when PROTO_CAPTURED_MAX names are already kept (the
 * value is counted in cnt->headers_not_captured instead).
 */
unsigned proto_capt_add(struct proto_capt *c, struct proto_counters *cnt,
                        const struct proto_header *ph, const uint8_t *v, size_t n, bool cut);

/* Add @c's values to @t, keyed for @side, TXN_SENSITIVE: only the scrubber lets them out. */
void proto_capt_emit(struct l7_txn *t, struct proto_counters *cnt, const struct proto_capt *c,
                     enum proto_side side);

/*
 * Add @name (@len bytes, any case; an RFC 9110 token) to @hs. Returns 0,
 * -EEXIST when already there (nothing changes), -EINVAL for an empty, too
 * long or non-token name, -ENOSPC when @hs holds PROTO_HEADERS_MAX names.
 */
int proto_headers_add(struct proto_headers *hs, const char *name, size_t len);

/* The entry for header @name (@len bytes, any case) in @hs (may be NULL), or NULL. */
const struct proto_header *proto_headers_find(const struct proto_headers *hs, const char *name,
                                              size_t len);

struct proto_io {
	/* set by the session before each parse(); 0 in gap() and close(). Bytes held
	 * in a carry keep the time of their first byte, which can be older than a
	 * request seen since on the other side: parsers clamp end_ns to start_ns. */
	uint64_t ts_ns;          /* boot-time ns of the data run holding the first byte passed */
	uint64_t gap_after;      /* > 0: the bytes passed are followed by a gap this long */
	uint64_t skip;           /* set by parse(): bytes after the consumed ones to drop unseen */
	enum proto_id switch_to; /* set by parse(): from the next byte on, the stream is another
	                          * protocol (PROTO_TLS after a STARTTLS-style reply, PROTO_HTTP2
	                          * after an h2c Upgrade, PROTO_NONE after a WebSocket one) */
	enum proto_role role;    /* from the connection (or inferred by detection) */
	struct proto_counters *cnt;
	/* provided by the session: hands one transaction to the record writer */
	void (*emit)(struct proto_io *io, const struct l7_txn *t);
	void *emit_ctx;
	const struct proto_headers *headers; /* headers to capture; NULL: none */
};

struct proto_parser {
	const char *name; /* "http", "http2", "postgresql", "mysql", "redis", "kafka" */
	enum proto_id id;
	size_t state_size;
	/*
	 * Does a message of this protocol start at p (len >= 1)? @side is the
	 * side the bytes were sent on; PROTO_CONN_START asks for the first
	 * message of a connection (strict), PROTO_MIDSTREAM for any message start.
	 * Pure: no state.
	 */
	enum proto_match (*detect)(enum proto_side side, const uint8_t *p, size_t len,
	                           unsigned flags);
	/* Prepare zeroed state; 0 or -ENOMEM (then the connection stays unparsed). */
	int (*init)(void *st);
	/* See the byte-stream model above. */
	long (*parse)(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
	              size_t len);
	/* A gap of @len bytes on @side that no skip covered (0: after PROTO_INVALID); the side
	 * resyncs next. */
	void (*gap)(void *st, struct proto_io *io, enum proto_side side, uint64_t len);
	/* Connection closed or expired: settle pending requests (TXN_NO_RESPONSE). */
	void (*close)(void *st, struct proto_io *io);
	/* Free what init() or parse() allocated (not the state block); may be NULL. */
	void (*fini)(void *st);
};

extern const struct proto_parser proto_http1, proto_http2, proto_pgsql, proto_mysql, proto_redis,
        proto_kafka;

/*
 * The parsers the session tries, in detection order, NULL-terminated
 * (processor/proto_table.c; a test may link its own table).
 */
extern const struct proto_parser *const proto_table[];

/* Name of @id for records and counters ("http", ..., "tls", "none", "unknown"). */
const char *proto_name(enum proto_id id);

/* Start @t for @proto at @start_ns: status TXN_OK, no attributes. */
void txn_init(struct l7_txn *t, enum proto_id proto, uint64_t start_ns);

/*
 * Add an attribute. @key must outlive the transaction (a string literal or
 * a proto_headers key); @s is copied by
 * reference (it must stay valid until io->emit returns). Beyond
 * TXN_MAX_ATTRS the attribute is dropped and counted in @cnt (may be NULL).
 */
void txn_str(struct l7_txn *t, struct proto_counters *cnt, const char *key, const void *s,
             size_t len, unsigned flags);
void txn_int(struct l7_txn *t, struct proto_counters *cnt, const char *key, int64_t v);

/* io->emit(io, t) with the counters: the parser's only way out. */
void proto_emit(struct proto_io *io, const struct l7_txn *t);

#endif
