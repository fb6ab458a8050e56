/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the parser fuzz targets: feeding a session exactly-sized heap
 * copies (ASan sees any over-read), the checks every transaction and every
 * detect() answer must pass whatever the protocol, and the simple
 * conversation script of the Redis and Kafka targets.
 */
#ifndef BPFWARDEN_TEST_FUZZ_SESSION_H
#define BPFWARDEN_TEST_FUZZ_SESSION_H

#include "processor/session.h"
#include "test/fuzz/fuzz.h"

#define FUZZ_SCRIPT_HDR 3 /* u8 kind, u16 length */

/* detect() answers one of its three values for either side and both rules. */
static inline void fuzz_check_detect(const struct proto_parser *pp, const uint8_t *p, size_t len)
{
	for (int side = PROTO_REQ; side <= PROTO_RESP; side++)
		for (unsigned f = PROTO_CONN_START; f <= PROTO_MIDSTREAM; f++) {
			enum proto_match m = pp->detect((enum proto_side)side, p, len, f);

			FUZZ_CHECK(m == PROTO_NO || m == PROTO_MAYBE || m == PROTO_YES);
		}
}

/* @len bytes of @p in direction @dir as an exactly-sized heap copy, detect() asked first. */
static inline void fuzz_feed(const struct proto_parser *pp, struct session *s,
                             struct session_env *env, unsigned dir, const uint8_t *p, size_t len,
                             uint64_t ts)
{
	uint8_t *copy;

	if (len == 0)
		return;
	copy = fuzz_dup(p, len);
	fuzz_check_detect(pp, copy, len);
	session_data(s, env, dir, copy, (uint32_t)len, ts);
	free(copy);
}

/* What every transaction is, whatever the protocol: @id, a known status,
 * ordered times, well-formed attributes whose every byte can be read. */
static inline void fuzz_check_txn(const struct l7_txn *t, enum proto_id id)
{
	static char copy[1 << 16];

	FUZZ_CHECK(t->proto == id);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->nattrs <= TXN_MAX_ATTRS);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];

		FUZZ_CHECK(a->key != NULL);
		FUZZ_CHECK(a->type == TXN_STR || a->type == TXN_INT);
		if (a->type == TXN_STR) {
			FUZZ_CHECK(a->len <= sizeof(copy) && (a->len == 0 || a->str != NULL));
			memcpy(copy, a->str, a->len);
		}
	}
}

/* The attributes the SQL parsers (PostgreSQL, MySQL) may emit. */
static inline bool fuzz_sql_key(const char *k)
{
	static const char *const keys[] = {
		"db.system.name",
		"db.namespace",
		"db.user",
		"db.query.text",
		"db.operation.name",
		"db.response.status_code",
		"db.response.returned_rows",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/*
 * One session of @pp only, fed a script taken from the input, then closed:
 *
 *   0  u8 flags   bit 0: the scoped process is the server; bit 1: the
 *                 connection started before capture (midstream detection)
 *   then records until the input ends:
 *      u8 kind    bit 0: direction (0 egress, 1 ingress); bit 1: a gap
 *                 instead of data; bit 2: the gap is large (len << 16)
 *      u16 len    little-endian: data bytes that follow (cut to what is
 *                 left), or the gap's length
 *
 * detect() is also asked about the whole input. @env's emit is the caller's.
 */
static inline void fuzz_run_script(const struct proto_parser *pp, struct session_env *env,
                                   const uint8_t *data, size_t size)
{
	struct session s;
	uint64_t ts = 1;
	size_t i = 1;
	uint8_t *all;

	if (size < 1)
		return;
	all = fuzz_dup(data, size);
	fuzz_check_detect(pp, all, size);
	free(all);
	session_init(&s, data[0] & 1 ? PROTO_ROLE_SERVER : PROTO_ROLE_CLIENT, data[0] & 2, pp->id);
	while (size - i >= FUZZ_SCRIPT_HDR) {
		uint8_t kind = data[i];
		uint32_t len = (uint32_t)data[i + 1] | (uint32_t)data[i + 2] << 8;
		unsigned dir = kind & 1;

		i += FUZZ_SCRIPT_HDR;
		ts += 1000;
		if (kind & 2) {
			session_gap(&s, env, dir, (uint64_t)(len ? len : 1) << (kind & 4 ? 16 : 0));
			continue;
		}
		if (len > size - i)
			len = (uint32_t)(size - i);
		fuzz_feed(pp, &s, env, dir, data + i, len, ts);
		i += len;
	}
	session_close(&s, env);
	FUZZ_CHECK(env->carry_bytes == 0);
}

#endif
