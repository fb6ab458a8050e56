// SPDX-License-Identifier: Apache-2.0
/*
 * The Kafka parser driven through a real session (processor/session.c) by
 * a conversation taken from the input (layout: fuzz_run_script() in
 * test/fuzz/fuzz_session.h).
 *
 * Each data run is an exactly-sized heap copy, so ASan sees any over-read.
 * Every transaction is checked: Kafka, attributes well-formed and readable,
 * timestamps ordered, the client id marked sensitive. detect() is also
 * asked about the whole input on both sides.
 */
#include <stdbool.h>

#include "test/fuzz/fuzz_session.h"

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
	(void)io;
	fuzz_check_txn(t, PROTO_KAFKA);
	for (uint32_t i = 0; i < t->nattrs; i++)
		check_attr(&t->attrs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_env env = { .emit = on_txn, .table = table };

	fuzz_run_script(&proto_kafka, &env, data, size);
	return 0;
}
