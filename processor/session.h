/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L7 parsing state of one connection: protocol detection, then the chosen
 * parser driven through the byte-stream model of processor/proto.h (carry
 * buffer for incomplete messages, skips, gaps, resync). Fed with in-order
 * bytes and gaps per direction: from TCP reassembly (processor/reasm.h),
 * from TLS calls, or from a test.
 *
 * Memory: struct session is embedded in the connection entry; the parser's
 * state block is allocated when a protocol is detected and each side's
 * carry buffer only while a message is incomplete (at most PROTO_CARRY_MAX),
 * all freed by session_close().
 */
#ifndef BPFWARDEN_PROCESSOR_SESSION_H
#define BPFWARDEN_PROCESSOR_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "processor/proto.h"

#define SESSION_DETECT_RUNS 4 /* data runs looked at before giving up (PROTO_NONE) */

/* Where transactions go, and the counters. Shared by all sessions. */
struct session_env {
	struct proto_counters cnt;
	void (*emit)(struct proto_io *io, const struct l7_txn *t);
	void *emit_ctx;        /* passed through io->emit_ctx */
	uint64_t carry_bytes;  /* carry buffers allocated now, all sessions */
	uint64_t carry_budget; /* ceiling for carry_bytes; 0: SESSION_CARRY_BUDGET */
	uint64_t state_alloc_failed;
	const struct proto_parser *const *table; /* parsers to try; NULL: proto_table */
	const struct proto_headers *headers;     /* passed through io->headers; NULL: none */
};

#define SESSION_CARRY_BUDGET (64u << 20) /* default ceiling of all carry buffers */

struct session_side {
	uint8_t *carry; /* bytes of an incomplete message, NULL when none */
	uint32_t carry_len;
	uint32_t carry_cap; /* bytes allocated */
	uint64_t carry_ts;  /* ts_ns of the data run holding carry[0] */
	uint64_t skip;      /* bytes still to drop unseen */
	bool desync;        /* looking for a message start */
};

struct session {
	const struct proto_parser *parser; /* NULL until detected */
	void *st;                          /* parser state */
	enum proto_id proto;               /* PROTO_UNKNOWN, a parser, PROTO_TLS or PROTO_NONE */
	enum proto_role role;
	enum proto_id only;      /* detection tries only this parser (PROTO_UNKNOWN: all) */
	bool midstream;          /* first bytes seen are not the connection's first */
	bool lenient;            /* detection may fall back to mid-stream rules (TLS plaintext) */
	bool detected_midstream; /* the match was by mid-stream rules */
	uint8_t detect_runs;
	struct session_side side[2]; /* by direction (enum l7_dir), not by side */
};

/*
 * Start a session. @role may be PROTO_ROLE_UNKNOWN (detection then infers it
 * from which direction carries requests); @midstream when the connection's
 * first bytes were not seen. @only restricts detection to one protocol
 * (PROTO_UNKNOWN: try all), for tests and fixed-port configuration.
 */
void session_init(struct session *s, enum proto_role role, bool midstream, enum proto_id only);

/* @len (> 0) in-order bytes sent in direction @dir (enum l7_dir) at @ts_ns. */
void session_data(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                  uint32_t len, uint64_t ts_ns);

/* @len (> 0) bytes missing in direction @dir. */
void session_gap(struct session *s, struct session_env *env, unsigned dir, uint64_t len);

/* Settle pending requests and free everything; the session is unusable after. */
void session_close(struct session *s, struct session_env *env);

#endif
