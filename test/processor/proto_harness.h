/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test harness for protocol parsers: drives a real session (processor/
 * session.c: detection, carry, skips, gaps, resync) with a scripted
 * conversation and collects the transactions it emits as copies.
 *
 * Every data run is copied so that it ends right before a PROT_NONE page:
 * a parser reading one byte too far crashes the test.
 */
#ifndef BPFWARDEN_TEST_PROTO_HARNESS_H
#define BPFWARDEN_TEST_PROTO_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "processor/proto.h"
#include "processor/session.h"

#define H_MAX_TXNS 32
#define H_VAL_MAX  1024

struct h_attr {
	char key[64];
	char str[H_VAL_MAX + 1]; /* NUL-terminated copy (values may hold NULs: use len) */
	uint32_t len;
	uint8_t type, flags;
	int64_t num;
};

struct h_txn {
	enum proto_id proto;
	enum txn_status status;
	uint64_t start_ns, end_ns;
	uint32_t nattrs;
	struct h_attr attrs[TXN_MAX_ATTRS];
};

/* One step of a conversation: bytes on a side, or a gap (data == NULL). */
struct h_step {
	enum proto_side side;
	const void *data;
	size_t len;     /* bytes, or the gap length when data == NULL */
	uint64_t ts_ns; /* 0: 1000 * (step index + 1) */
};

/* Large (about 1 MiB): declare it static, not on the stack. */
struct harness {
	struct session_env env; /* counters in env.cnt */
	struct h_txn txns[H_MAX_TXNS];
	unsigned n; /* transactions collected (beyond H_MAX_TXNS: counted in overflow) */
	unsigned overflow;
	enum proto_id detected; /* session's protocol when the run ended (before close) */
	enum proto_role role;   /* session's role when the run ended */
};

/* Parsers the harness's sessions try (NULL: proto_table); set by tests of the session itself. */
extern const struct proto_parser *const *harness_parsers;

/*
 * Header names the parsers capture (env.headers, passed on as io->headers);
 * NULL, the default: none. Set by the HTTP suites before harness_init.
 */
extern const struct proto_headers *harness_headers;

/* Zero @h, wire env.emit to the collector, and set env.headers to harness_headers. */
void harness_init(struct harness *h);

/*
 * Run @steps through a fresh session (role @role, detection restricted to
 * @only unless PROTO_UNKNOWN), then close it. With @split > 0, the data of
 * step @split_step is delivered as two runs cut at byte @split. Steps map to
 * directions through the role (unknown role: as a client, REQ = egress).
 * Collects into @h (call harness_init first).
 */
void harness_run(struct harness *h, enum proto_id only, enum proto_role role,
                 const struct h_step *steps, size_t nsteps, size_t split_step, size_t split);

/*
 * Run @steps unsplit, then again with every data step cut at every byte
 * boundary, and check that each run yields the same transactions
 * (protocol, status, attributes; timestamps excepted). Returns 0, or -1 with
 * a description of the first difference in @why. @ref receives the unsplit
 * run.
 */
int harness_check_splits(struct harness *ref, enum proto_id only, enum proto_role role,
                         const struct h_step *steps, size_t nsteps, char *why, size_t whylen);

/* The attribute @key of @t, or NULL. */
const struct h_attr *h_attr(const struct h_txn *t, const char *key);

/* Its string value (NULL when absent or not a string) / its number (INT64_MIN when absent). */
const char *h_str(const struct h_txn *t, const char *key);
int64_t h_int(const struct h_txn *t, const char *key);

#endif
