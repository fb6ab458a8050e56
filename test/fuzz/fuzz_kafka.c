// SPDX-License-Identifier: Apache-2.0
/*
 * The Kafka parser driven through a real session (processor/session.c) by
 * a conversation taken from the input. Layout:
 *
 *   0  u8 flags   bit 0: the scoped process is the server; bit 1: the
 *                 connection started before capture (midstream detection)
 *   then records until the input ends:
 *      u8 kind    bit 0: direction (0 egress, 1 ingress); bit 1: a gap
 *                 instead of data;
 *                 bit 2: the gap is large (len << 16)
 *      u16 len    little-endian: data bytes that follow (cut to what is
 *                 left), or the gap's length
 *
 * Each data run is an exactly-sized heap copy, so ASan sees any over-read.
 * Every transaction is checked: Kafka, attributes well-formed and readable,
 * timestamps ordered, the client id marked sensitive. detect() is also
 * asked about the whole input on both sides.
 */
#include <stdbool.h>

#include "processor/session.h"
#include "test/fuzz/fuzz.h"

#define REC_HDR 3

static const struct proto_parser *const table[] = { &proto_kafka, NULL };

/* The client id may identify a person: only a scrubber may write it. */
static void check_attr(const struct txn_attr *a)
{
	if (!strcmp(a->key, "messaging.client.id"))
		FUZZ_CHECK(a->flags & TXN_SENSITIVE);
	if (!strcmp(a->key, "messaging.system"))
		FUZZ_CHECK(a->len == 5 && !memcmp(a->str, "kafka", 5));
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	static char copy[1 << 16];

	(void)io;
	FUZZ_CHECK(t->proto == PROTO_KAFKA);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->nattrs <= TXN_MAX_ATTRS);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];

		FUZZ_CHECK(a->key != NULL);
		FUZZ_CHECK(a->type == TXN_STR || a->type == TXN_INT);
		if (a->type == TXN_STR) {
			FUZZ_CHECK(a->len <= sizeof(copy) && (a->len == 0 || a->str != NULL));
			memcpy(copy, a->str, a->len); /* every byte must be readable */
		}
		check_attr(a);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_env env = { .emit = on_txn, .table = table };
	struct session s;
	uint64_t ts = 1;
	size_t i = 1;

	if (size < 1)
		return 0;
	for (unsigned f = 0; f < 2; f++) {
		uint8_t *all = fuzz_dup(data, size);

		proto_kafka.detect(PROTO_REQ, all, size, f);
		proto_kafka.detect(PROTO_RESP, all, size, f);
		free(all);
	}
	session_init(&s, data[0] & 1 ? PROTO_ROLE_SERVER : PROTO_ROLE_CLIENT, data[0] & 2,
	             PROTO_KAFKA);
	while (size - i >= REC_HDR) {
		uint8_t kind = data[i];
		uint32_t len = (uint32_t)data[i + 1] | (uint32_t)data[i + 2] << 8;
		unsigned dir = kind & 1;

		i += REC_HDR;
		ts += 1000;
		if (kind & 2) {
			session_gap(&s, &env, dir,
			            (uint64_t)(len ? len : 1) << (kind & 4 ? 16 : 0));
			continue;
		}
		if (len > size - i)
			len = (uint32_t)(size - i);
		if (len > 0) {
			uint8_t *run = fuzz_dup(data + i, len);

			session_data(&s, &env, dir, run, len, ts);
			free(run);
		}
		i += len;
	}
	session_close(&s, &env);
	FUZZ_CHECK(env.carry_bytes == 0);
	return 0;
}
