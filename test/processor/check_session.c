// SPDX-License-Identifier: Apache-2.0
/*
 * The session layer (detection, carry, skips, gap salvage, resync, switch)
 * driven through a toy protocol whose rules are easy to state:
 *
 *   message = type (1 byte) + payload length (u16, big-endian) + payload
 *   'Q' request, 'A' answer: the parser reads at most TOY_PEEK payload bytes
 *       and skips the rest (io->skip);
 *   'W' request that must be seen whole (incomplete until it is);
 *   'S' answer that switches the stream to PROTO_NONE, 'U' to AFTER_ID;
 *   any other type byte is PROTO_INVALID.
 * Requests are paired with answers in order (at most TOY_PENDING pending).
 */
#include <check.h>
#include <string.h>

#include "test/processor/proto_harness.h"

#define TOY_PEEK    4
#define TOY_PENDING 4
#define TOY_ID      PROTO_REDIS /* any real id: the session only compares ids */
#define AFTER_ID    PROTO_KAFKA /* what a 'U' answer switches to */

struct toy {
	unsigned n;
	uint64_t ts[TOY_PENDING];
	uint8_t req[TOY_PENDING][TOY_PEEK];
	uint8_t req_len[TOY_PENDING];
	bool cut[TOY_PENDING];
};

static enum proto_match toy_detect(enum proto_side side, const uint8_t *p, size_t len,
                                   unsigned flags)
{
	(void)flags;
	if (side == PROTO_REQ && (p[0] == 'Q' || p[0] == 'W'))
		return len >= 3 ? PROTO_YES : PROTO_MAYBE;
	if (side == PROTO_RESP && (p[0] == 'A' || p[0] == 'S') && (flags & PROTO_MIDSTREAM))
		return len >= 3 ? PROTO_YES : PROTO_MAYBE;
	return PROTO_NO;
}

static int toy_init(void *st)
{
	(void)st;
	return 0;
}

static void settle(struct toy *t, struct proto_io *io, unsigned i, enum txn_status status)
{
	struct l7_txn x;

	txn_init(&x, TOY_ID, t->ts[i]);
	x.status = status;
	x.end_ns = status == TXN_NO_RESPONSE ? t->ts[i] : io->ts_ns;
	txn_str(&x, io->cnt, "toy.req", t->req[i], t->req_len[i], t->cut[i] ? TXN_TRUNCATED : 0);
	proto_emit(io, &x);
}

static void pop(struct toy *t)
{
	memmove(&t->ts[0], &t->ts[1], sizeof(t->ts[0]) * (TOY_PENDING - 1));
	memmove(&t->req[0], &t->req[1], sizeof(t->req[0]) * (TOY_PENDING - 1));
	memmove(&t->req_len[0], &t->req_len[1], TOY_PENDING - 1);
	memmove(&t->cut[0], &t->cut[1], sizeof(t->cut[0]) * (TOY_PENDING - 1));
	t->n--;
}

static long toy_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                      size_t len)
{
	struct toy *t = st;
	size_t plen, need, peek;

	if (len < 3)
		return io->gap_after ? PROTO_INVALID : PROTO_INCOMPLETE;
	plen = (size_t)p[1] << 8 | p[2];
	if ((side == PROTO_REQ && p[0] != 'Q' && p[0] != 'W') ||
	    (side == PROTO_RESP && p[0] != 'A' && p[0] != 'S' && p[0] != 'U'))
		return PROTO_INVALID;
	peek = plen < TOY_PEEK ? plen : TOY_PEEK;
	need = 3 + (p[0] == 'W' ? plen : peek);
	if (len < need && !io->gap_after)
		return PROTO_INCOMPLETE;
	if (len < need)
		need = len; /* salvage before a gap: what is there, skip the rest */
	if (p[0] == 'S')
		io->switch_to = PROTO_NONE;
	if (p[0] == 'U')
		io->switch_to = AFTER_ID;
	if (side == PROTO_REQ) {
		if (t->n == TOY_PENDING) {
			io->cnt->pending_dropped[TOY_ID]++;
		} else {
			t->ts[t->n] = io->ts_ns;
			t->req_len[t->n] = (uint8_t)(need - 3 < peek ? need - 3 : peek);
			memcpy(t->req[t->n], p + 3, t->req_len[t->n]);
			t->cut[t->n] = need < 3 + plen && p[0] == 'W';
			t->n++;
		}
	} else if (t->n == 0) {
		io->cnt->unpaired[TOY_ID]++;
	} else {
		settle(t, io, 0, TXN_OK);
		pop(t);
	}
	io->skip = 3 + plen - need;
	return (long)need;
}

static void toy_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct toy *t = st;

	(void)len;
	if (side == PROTO_RESP)
		while (t->n) {
			settle(t, io, 0, TXN_NO_RESPONSE);
			pop(t);
		}
}

static void toy_close(void *st, struct proto_io *io)
{
	toy_gap(st, io, PROTO_RESP, 0);
}

static const struct proto_parser toy = {
	.name = "toy",
	.id = TOY_ID,
	.state_size = sizeof(struct toy),
	.detect = toy_detect,
	.init = toy_init,
	.parse = toy_parse,
	.gap = toy_gap,
	.close = toy_close,
};

/*
 * The protocol a 'U' answer switches to: it takes every byte, and at close
 * emits one transaction saying how many it saw and what the first was.
 */

struct after {
	uint64_t seen;
	uint8_t first;
};

static enum proto_match after_detect(enum proto_side side, const uint8_t *p, size_t len,
                                     unsigned flags)
{
	(void)side, (void)p, (void)len, (void)flags;
	return PROTO_NO; /* reached only by a switch */
}

static long after_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                        size_t len)
{
	struct after *a = st;

	(void)io, (void)side;
	if (!a->seen)
		a->first = p[0];
	a->seen += len;
	return (long)len;
}

static void after_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	(void)st, (void)io, (void)side, (void)len;
}

static void after_close(void *st, struct proto_io *io)
{
	struct after *a = st;
	struct l7_txn x;

	txn_init(&x, AFTER_ID, 1);
	txn_int(&x, io->cnt, "after.seen", (int64_t)a->seen);
	txn_int(&x, io->cnt, "after.first", a->first);
	proto_emit(io, &x);
}

static const struct proto_parser after = {
	.name = "after",
	.id = AFTER_ID,
	.state_size = sizeof(struct after),
	.detect = after_detect,
	.init = toy_init,
	.parse = after_parse,
	.gap = after_gap,
	.close = after_close,
};

static const struct proto_parser *const toy_table[] = { &toy, &after, NULL };

static struct harness h;

static void setup(void)
{
	harness_parsers = toy_table;
}

static void teardown(void)
{
	harness_parsers = NULL;
}

#define Q(s) "Q\0" s
#define GAP(n)                                                                                     \
	{                                                                                          \
		PROTO_REQ, NULL, (n), 0                                                            \
	}

static void run(const struct h_step *steps, size_t n)
{
	char why[512] = "";
	int r = harness_check_splits(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, n, why,
	                             sizeof(why));

	ck_assert_msg(r == 0, "%s", why);
}

START_TEST(pairs_in_order_at_every_split)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\2hiQ\0\5hello", 13, 0 },
		{ PROTO_RESP, "A\0\1xA\0\0", 7, 0 },
	};

	run(steps, 2);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "hi");
	ck_assert_str_eq(h_str(&h.txns[1], "toy.req"), "hell");
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_uint_eq(h.txns[0].start_ns, 1000);
	ck_assert_uint_eq(h.txns[0].end_ns, 2000);
	ck_assert_int_eq(h.detected, TOY_ID);
}
END_TEST

START_TEST(gap_inside_a_skip_stays_in_sync)
{
	/* 100-byte payload, 10 captured, 93 missing: inside the skip */
	static const struct h_step steps[] = {
		{ PROTO_REQ,
		  "Q\0\x64"
		  "abcdefg",
		  10, 0 },
		{ PROTO_REQ, NULL, 93, 0 },
		{ PROTO_REQ, "Q\0\1z", 4, 0 },
		{ PROTO_RESP, "A\0\0A\0\0", 6, 0 },
	};

	run(steps, 4);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "abcd");
	ck_assert_str_eq(h_str(&h.txns[1], "toy.req"), "z");
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
}
END_TEST

START_TEST(gap_salvages_an_incomplete_message)
{
	/* a 'W' request needs its 40 bytes; 5 arrive, then the rest is a gap */
	static const struct h_step steps[] = {
		{ PROTO_REQ,
		  "W\0\x28"
		  "abcde",
		  8, 0 },
		{ PROTO_REQ, NULL, 35, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 },
	};

	run(steps, 3);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "abcd");
	ck_assert(h_attr(&h.txns[0], "toy.req")->flags & TXN_TRUNCATED);
	ck_assert_uint_eq(h.env.cnt.desyncs, 0);
}
END_TEST

START_TEST(gap_past_the_skip_resyncs_at_a_message_start)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\1a", 4, 0 },
		{ PROTO_RESP, "A\0\x10", 3, 0 }, /* 16-byte answer, skip 16 */
		{ PROTO_RESP, NULL, 30, 0 },     /* 14 more than the skip */
		{ PROTO_RESP, "zzzz", 4, 0 },    /* not a message start: dropped */
		{ PROTO_REQ, "Q\0\1b", 4, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 }, /* resync here */
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 6, 0, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "a");
	ck_assert_str_eq(h_str(&h.txns[1], "toy.req"), "b");
	ck_assert_int_eq(h.txns[1].status, TXN_OK);
	ck_assert_uint_eq(h.env.cnt.desyncs, 1);
	ck_assert_uint_eq(h.env.cnt.resync_dropped_bytes, 4);
}
END_TEST

START_TEST(gap_settles_pending_requests)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\1aQ\0\1b", 8, 0 },
		{ PROTO_RESP, NULL, 7, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 }, /* resynced, but nothing left to pair */
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 3, 0, 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_NO_RESPONSE);
	ck_assert_int_eq(h.txns[1].status, TXN_NO_RESPONSE);
	ck_assert_uint_eq(h.env.cnt.no_response[TOY_ID], 2);
	ck_assert_uint_eq(h.env.cnt.unpaired[TOY_ID], 1);
}
END_TEST

START_TEST(invalid_bytes_desync_and_count)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\1a", 4, 0 },      { PROTO_REQ, "garbage", 7, 0 },
		{ PROTO_REQ, "more", 4, 0 },        { PROTO_REQ, "Q\0\1c", 4, 0 },
		{ PROTO_RESP, "A\0\0A\0\0", 6, 0 },
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 5, 0, 0);
	ck_assert_uint_eq(h.env.cnt.parse_errors[TOY_ID], 1);
	ck_assert_uint_eq(h.env.cnt.desyncs, 1);
	ck_assert_uint_eq(h.env.cnt.resync_dropped_bytes, 4);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "a");
	ck_assert_str_eq(h_str(&h.txns[1], "toy.req"), "c");
}
END_TEST

START_TEST(overlong_incomplete_message_is_salvaged)
{
	/* a 'W' of 20000 bytes in two runs cannot be carried (PROTO_CARRY_MAX): salvaged, skipped
	 */
	static uint8_t big[3 + 20000];
	struct h_step steps[] = {
		{ PROTO_REQ, big, 17000, 0 },
		{ PROTO_REQ, big + 17000, sizeof(big) - 17000, 0 },
		{ PROTO_REQ, "Q\0\1z", 4, 0 },
		{ PROTO_RESP, "A\0\0A\0\0", 6, 0 },
	};

	memset(big, 'x', sizeof(big));
	big[0] = 'W', big[1] = 20000 >> 8, big[2] = 20000 & 0xff;
	for (size_t cut = 0; cut < 17000; cut += 997) {
		harness_init(&h);
		harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 4, 0, cut);
		ck_assert_uint_eq(h.n, 2);
		ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "xxxx");
		ck_assert_str_eq(h_str(&h.txns[1], "toy.req"), "z");
		ck_assert_uint_eq(h.env.cnt.carry_overflow, 1);
		ck_assert_uint_eq(h.env.cnt.desyncs, 0);
		ck_assert_uint_eq(h.env.carry_bytes, 0);
	}
}
END_TEST

START_TEST(carry_budget_is_a_ceiling)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ,
		  "W\0\x08"
		  "abc",
		  6, 0 }, /* incomplete: wants a carry */
		{ PROTO_REQ, "defgh", 5, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 },
	};

	harness_init(&h);
	h.env.carry_budget = 1; /* no carry can be had */
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 3, 0, 0);
	ck_assert_uint_eq(h.env.cnt.carry_overflow, 1);
	ck_assert_uint_eq(h.env.carry_bytes, 0);
	ck_assert_uint_eq(h.n, 1); /* salvaged "abc", skipped the rest, still paired */
	ck_assert_str_eq(h_str(&h.txns[0], "toy.req"), "abc");
}
END_TEST

START_TEST(role_is_inferred_from_the_request_side)
{
	static const struct h_step steps[] = {
		{ PROTO_RESP, "Q\0\1a", 4, 0 }, /* as a client's ingress: a server's request */
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_UNKNOWN, steps, 1, 0, 0);
	ck_assert_int_eq(h.detected, TOY_ID);
	ck_assert_int_eq(h.role, PROTO_ROLE_SERVER);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.txns[0].status, TXN_NO_RESPONSE);
}
END_TEST

START_TEST(tls_and_unknown_bytes_are_classified)
{
	static const struct h_step tls[] = { { PROTO_REQ, "\x16\x03\x01\x02\x00\x01", 6, 0 } };
	static const struct h_step junk[] = {
		{ PROTO_REQ, "zz", 2, 0 },  { PROTO_RESP, "zz", 2, 0 },   { PROTO_REQ, "zz", 2, 0 },
		{ PROTO_RESP, "zz", 2, 0 }, { PROTO_REQ, "Q\0\0", 3, 0 },
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, tls, 1, 0, 0);
	ck_assert_int_eq(h.detected, PROTO_TLS);
	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, junk, 5, 0, 0);
	ck_assert_int_eq(h.detected, PROTO_NONE);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(switch_settles_and_stops_parsing)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\1aQ\0\1b", 8, 0 },
		{ PROTO_RESP, "S\0\0A\0\0", 6, 0 },
		{ PROTO_REQ, "Q\0\1c", 4, 0 },
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 3, 0, 0);
	ck_assert_int_eq(h.detected, PROTO_NONE);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h.txns[1].status, TXN_NO_RESPONSE);
	ck_assert_uint_eq(h.env.carry_bytes, 0);
}
END_TEST

START_TEST(bytes_after_a_switch_go_to_the_new_parser)
{
	static const struct h_step steps[] = {
		{ PROTO_REQ, "Q\0\1a", 4, 0 },
		{ PROTO_RESP, "U\0\0xyz", 6, 0 }, /* "xyz" already belongs to the new protocol */
		{ PROTO_RESP, "uvw", 3, 0 },
	};

	run(steps, 3);
	ck_assert_int_eq(h.detected, AFTER_ID);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.txns[0].status, TXN_OK);
	ck_assert_int_eq(h_int(&h.txns[1], "after.seen"), 6);
	ck_assert_int_eq(h_int(&h.txns[1], "after.first"), 'x');
	ck_assert_uint_eq(h.env.carry_bytes, 0);
}
END_TEST

START_TEST(gap_before_detection_means_midstream)
{
	static const struct h_step steps[] = {
		{ PROTO_RESP, NULL, 10, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 }, /* detectable only mid-stream */
		{ PROTO_REQ, "Q\0\1a", 4, 0 },
		{ PROTO_RESP, "A\0\0", 3, 0 },
	};

	harness_init(&h);
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_CLIENT, steps, 4, 0, 0);
	ck_assert_int_eq(h.detected, TOY_ID);
	ck_assert_uint_eq(h.env.cnt.unpaired[TOY_ID], 1);
	ck_assert_uint_eq(h.n, 1);
}
END_TEST

Suite *session_suite(void);
Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("toy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pairs_in_order_at_every_split);
	tcase_add_test(tc, gap_inside_a_skip_stays_in_sync);
	tcase_add_test(tc, gap_salvages_an_incomplete_message);
	tcase_add_test(tc, gap_past_the_skip_resyncs_at_a_message_start);
	tcase_add_test(tc, gap_settles_pending_requests);
	tcase_add_test(tc, invalid_bytes_desync_and_count);
	tcase_add_test(tc, overlong_incomplete_message_is_salvaged);
	tcase_add_test(tc, carry_budget_is_a_ceiling);
	tcase_add_test(tc, role_is_inferred_from_the_request_side);
	tcase_add_test(tc, tls_and_unknown_bytes_are_classified);
	tcase_add_test(tc, switch_settles_and_stops_parsing);
	tcase_add_test(tc, gap_before_detection_means_midstream);
	tcase_add_test(tc, bytes_after_a_switch_go_to_the_new_parser);
	suite_add_tcase(s, tc);
	return s;
}
