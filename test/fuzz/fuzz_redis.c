// SPDX-License-Identifier: Apache-2.0
/*
 * The Redis parser driven through a real session (processor/session.c) by
 * a conversation taken from the input (layout: fuzz_run_script() in
 * test/fuzz/fuzz_session.h).
 *
 * Each data run is an exactly-sized heap copy, so ASan sees any over-read.
 * Every transaction is checked: Redis, attributes well-formed and readable,
 * timestamps ordered, and the commands that carry credentials export no
 * argument (db.query.text is the operation name alone). detect() is also
 * asked about the whole input on both sides.
 */
#include <stdbool.h>

#include "test/fuzz/fuzz_session.h"

static const struct proto_parser *const table[] = { &proto_redis, NULL };

static bool attr_is(const struct txn_attr *a, const char *s)
{
	return a->type == TXN_STR && a->len == strlen(s) && !memcmp(a->str, s, a->len);
}

static void check_credentials(const struct l7_txn *t)
{
	static const char *const secret_ops[] = { "AUTH", "HELLO", "MIGRATE", "ACL SETUSER", NULL };
	const struct txn_attr *op = NULL, *text = NULL;

	for (uint32_t i = 0; i < t->nattrs; i++) {
		if (!strcmp(t->attrs[i].key, "db.operation.name"))
			op = &t->attrs[i];
		if (!strcmp(t->attrs[i].key, "db.query.text"))
			text = &t->attrs[i];
	}
	if (!op || !text)
		return;
	for (const char *const *s = secret_ops; *s; s++)
		if (attr_is(op, *s))
			FUZZ_CHECK(text->len == op->len && !memcmp(text->str, op->str, op->len));
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	(void)io;
	fuzz_check_txn(t, PROTO_REDIS);
	check_credentials(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_env env = { .emit = on_txn, .table = table };

	fuzz_run_script(&proto_redis, &env, data, size);
	return 0;
}
