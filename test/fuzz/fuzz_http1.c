// SPDX-License-Identifier: Apache-2.0
/*
 * One HTTP/1 conversation through a session (processor/session.c with
 * processor/proto_http1.c only), then closed. Input layout:
 *
 *   0  u8 flags   bits 0-1: role (0 unknown, 1 client, 2 server, 3 unknown);
 *                 bit 2: the connection started before the capture;
 *                 bit 3: no header set (io->headers NULL) instead of capture_names
 *   then records until the input ends, each a u8 op:
 *      bits 0-1 = 0 or 1: data on that direction (0 egress), bits 2-4 added
 *                 to the clock; length: next u8 + 1, or with bit 7 the next
 *                 u16 (little-endian); the bytes follow (cut to what is left)
 *      bits 0-1 = 2: gap on direction bit 2; length: next u8 + 1, or with
 *                 bit 7 2^(next u8 % GAP_SHIFT_MAX)
 *      bits 0-1 = 3: the rest of the input is data on direction bit 2
 *
 * Each data run is an exactly-sized heap copy, so ASan sees an over-read.
 * Every transaction is checked as it is emitted: HTTP/1, ends after it
 * starts, only the attributes the parser documents, with their types,
 * flags, value ranges and buffer limits, each string readable. Header
 * values: only under a key of the set, sensitive, at most
 * PROTO_HEADER_VALUE_MAX bytes and no line feed (never another line's
 * bytes), each key once, at most CAPTURED_MAX per side, and none without a
 * set.
 */
#include <stdbool.h>

#include "processor/session.h"
#include "test/fuzz/fuzz.h"

#define GAP_SHIFT_MAX 48
#define STR_MAX       256 /* the parser's largest attribute buffer (url.path, url.query) */
#define CAPTURED_MAX  6   /* H1_CAPTURED_MAX: header values kept per message */

/* More names than a message may capture; short, so the fuzzer finds them. */
static const char *const capture_names[] = { "content-type", "x-request-id", "authorization",
	                                     "cookie",       "x-a",          "x-b",
	                                     "x-c",          "x-d" };
static struct proto_headers capture_set;

struct sink {
	uint64_t emitted;
};

/* The attributes proto_http1.c may emit: type and the flags it must (and may) carry. */
static const struct {
	const char *key;
	uint8_t type;
	uint8_t must, may;
} allowed[] = {
	{ "http.request.method", TXN_STR, 0, 0 },
	{ "http.request.method_original", TXN_STR, 0, TXN_TRUNCATED },
	{ "url.path", TXN_STR, 0, TXN_TRUNCATED },
	{ "url.query", TXN_STR, TXN_SENSITIVE, TXN_TRUNCATED },
	{ "server.address", TXN_STR, 0, TXN_TRUNCATED },
	{ "server.port", TXN_INT, 0, 0 },
	{ "user_agent.original", TXN_STR, TXN_SENSITIVE, TXN_TRUNCATED },
	{ "http.request.body.size", TXN_INT, 0, 0 },
	{ "http.response.body.size", TXN_INT, 0, 0 },
	{ "http.response.status_code", TXN_INT, 0, 0 },
	{ "network.protocol.version", TXN_STR, 0, 0 },
};

static void check_int(const struct txn_attr *a)
{
	if (!strcmp(a->key, "server.port"))
		FUZZ_CHECK(a->num >= 1 && a->num <= 65535);
	else if (!strcmp(a->key, "http.response.status_code"))
		FUZZ_CHECK(a->num >= 100 && a->num <= 999);
	else
		FUZZ_CHECK(a->num >= 0);
}

/* 0: a request header's key of the set, 1: a response header's, -1: not a header key. */
static int header_side(const struct txn_attr *a)
{
	for (uint32_t i = 0; i < capture_set.n; i++) {
		if (a->key == capture_set.h[i].req_key)
			return 0;
		if (a->key == capture_set.h[i].resp_key)
			return 1;
	}
	return -1;
}

static void check_header(const struct txn_attr *a)
{
	static char copy[PROTO_HEADER_VALUE_MAX];

	FUZZ_CHECK(a->type == TXN_STR && (a->flags & TXN_SENSITIVE));
	FUZZ_CHECK((a->flags & ~(TXN_SENSITIVE | TXN_TRUNCATED)) == 0);
	FUZZ_CHECK(a->len <= PROTO_HEADER_VALUE_MAX && (a->len == 0 || a->str != NULL));
	if (a->len)
		memcpy(copy, a->str, a->len);
	FUZZ_CHECK(!memchr(copy, '\n', a->len));
}

static void check_attr(const struct txn_attr *a)
{
	static char copy[STR_MAX];
	size_t i;

	FUZZ_CHECK(a->key != NULL);
	if (header_side(a) >= 0) {
		check_header(a);
		return;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(a->key, allowed[i].key))
			break;
	FUZZ_CHECK(i < sizeof(allowed) / sizeof(allowed[0]));
	FUZZ_CHECK(a->type == allowed[i].type);
	FUZZ_CHECK((a->flags & allowed[i].must) == allowed[i].must);
	FUZZ_CHECK((a->flags & ~(allowed[i].must | allowed[i].may)) == 0);
	if (a->type == TXN_INT) {
		check_int(a);
		return;
	}
	FUZZ_CHECK(a->len <= STR_MAX && (a->len == 0 || a->str != NULL));
	if (a->len)
		memcpy(copy, a->str, a->len); /* ASan checks the whole view is readable */
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	struct sink *k = io->emit_ctx;
	bool has_method = false, has_status = false;
	unsigned nhdr[2] = { 0, 0 };

	FUZZ_CHECK(t->proto == PROTO_HTTP1);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->nattrs <= TXN_MAX_ATTRS);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		check_attr(&t->attrs[i]);
		has_method |= !strcmp(t->attrs[i].key, "http.request.method");
		has_status |= !strcmp(t->attrs[i].key, "http.response.status_code");
		if (header_side(&t->attrs[i]) >= 0)
			nhdr[header_side(&t->attrs[i])]++;
		for (uint32_t j = 0; j < i; j++)
			FUZZ_CHECK(t->attrs[j].key != t->attrs[i].key ||
			           header_side(&t->attrs[i]) < 0);
	}
	FUZZ_CHECK(has_method);
	FUZZ_CHECK(nhdr[0] <= CAPTURED_MAX && nhdr[1] <= CAPTURED_MAX);
	FUZZ_CHECK(io->headers || nhdr[0] + nhdr[1] == 0);
	FUZZ_CHECK(has_status || nhdr[1] == 0);
	/* settled without a response: nothing of a response, no duration */
	FUZZ_CHECK((t->status == TXN_NO_RESPONSE) == !has_status);
	if (t->status == TXN_NO_RESPONSE)
		FUZZ_CHECK(t->end_ns == t->start_ns);
	k->emitted++;
}

static const struct proto_parser *const only_http1[] = { &proto_http1, NULL };

/* One record at data[*i]; false when the input is used up. */
static bool record(struct session *s, struct session_env *env, const uint8_t *data, size_t size,
                   size_t *i, uint64_t *ts)
{
	uint8_t op = data[(*i)++];
	unsigned dir = (op & 3) < 2 ? (op & 1) : (op >> 2) & 1;
	size_t len;
	uint8_t *copy;

	if ((op & 3) == 2) {
		if (*i >= size)
			return false;
		len = op & 0x80 ? (size_t)1 << (data[*i] % GAP_SHIFT_MAX) : (size_t)data[*i] + 1;
		(*i)++;
		session_gap(s, env, dir, len);
		return true;
	}
	if ((op & 3) == 3) {
		len = size - *i;
	} else if (op & 0x80) {
		if (size - *i < 2)
			return false;
		len = (size_t)data[*i] | (size_t)data[*i + 1] << 8;
		*i += 2;
	} else {
		if (*i >= size)
			return false;
		len = (size_t)data[(*i)++] + 1;
	}
	if (len > size - *i)
		len = size - *i;
	if (len == 0)
		return *i < size;
	*ts += (op >> 2) & 7;
	copy = fuzz_dup(data + *i, len);
	session_data(s, env, dir, copy, (uint32_t)len, *ts);
	free(copy);
	*i += len;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum proto_role roles[4] = { PROTO_ROLE_UNKNOWN, PROTO_ROLE_CLIENT,
		                                  PROTO_ROLE_SERVER, PROTO_ROLE_UNKNOWN };
	struct session_env env = { 0 };
	struct sink k = { 0 };
	struct session s;
	uint64_t ts = 1000;
	size_t i = 1;

	if (size < 1)
		return 0;
	if (!capture_set.n)
		for (size_t n = 0; n < sizeof(capture_names) / sizeof(capture_names[0]); n++)
			FUZZ_CHECK(proto_headers_add(&capture_set, capture_names[n],
			                             strlen(capture_names[n])) == 0);
	env.headers = data[0] & 8 ? NULL : &capture_set;
	env.table = only_http1;
	env.emit = on_txn;
	env.emit_ctx = &k;
	session_init(&s, roles[data[0] & 3], data[0] & 4, PROTO_HTTP1);
	while (i < size && record(&s, &env, data, size, &i, &ts))
		;
	session_close(&s, &env);
	FUZZ_CHECK(env.cnt.txns[PROTO_HTTP1] == k.emitted);
	FUZZ_CHECK(env.cnt.no_response[PROTO_HTTP1] <= k.emitted);
	FUZZ_CHECK(env.carry_bytes == 0);
	return 0;
}
