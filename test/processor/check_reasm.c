// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/reasm.c (TCP stream reassembly).
 *
 * The recorder turns the output into tokens ("D120 T30 L50 E100": data run,
 * TRUNCATED, LOST, EVICTED gap) and checks every data byte against the byte
 * that belongs at its position in the stream, so splicing fails every test,
 * not just the ones that look for it. Table payloads are a function of their
 * sequence number and end exactly at a PROT_NONE page; the fuzz test feeds
 * exact-size heap copies of a random stream, so ASan sees any over-read.
 *
 * Every table case also runs with a rejected (cap_len > seg_len) record
 * before each push, which must change nothing, and with every prefix of its
 * pushes followed by a flush, which must account for all sequence space.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "processor/reasm.h"

Suite *reasm_suite(void);

#define POOL_BUDGET (1u << 20)   /* enough never to run out, unless a test says so */
#define TEXT_MAX    2048         /* recorder token text */
#define GUARD_ROOM  (128 * 1024) /* payload bytes that fit before the PROT_NONE page */
#define FUZZ_SEEDS  500
#define FUZZ_LEN    (200 * 1024)
#define FUZZ_COVER  48 /* seeds run in one process to show every path is taken */
#define NONE        UINT64_MAX
#define W           REASM_WINDOW

/* The byte at sequence number @seq in table streams: position-dependent, so splices show. */
static uint8_t pat(uint32_t seq)
{
	return (uint8_t)((((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull) >> 56);
}

/* a - b as a serial-number distance, written independently of reasm.c. */
static int64_t serial(uint32_t a, uint32_t b)
{
	return (int64_t)(int32_t)(a - b);
}

/* ---- recorder ---------------------------------------------------------- */

struct rec {
	uint32_t base;      /* tables: sequence number of output position 0 */
	const uint8_t *ref; /* fuzz: the original stream, position 0 at ref[ref_off] */
	uint64_t ref_off, ref_len;
	char *cls; /* fuzz: per position 'D', 'T', 'L' or 'E' */
	uint64_t pos, run, bad_at;
	bool empty_call;
	char text[TEXT_MAX];
	size_t tlen;
};

static void rec_init(struct rec *r, uint32_t base)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->bad_at = NONE;
}

/* Append a token; the fuzz recorder keeps no text (it would not fit). */
static void put(struct rec *r, char kind, uint64_t len)
{
	int n;

	if (r->ref)
		return;
	n = snprintf(r->text + r->tlen, TEXT_MAX - r->tlen, "%s%c%llu", r->tlen ? " " : "", kind,
	             (unsigned long long)len);
	if (n <= 0 || (size_t)n >= TEXT_MAX - r->tlen)
		ck_abort_msg("recorder text full");
	r->tlen += (size_t)n;
}

static bool byte_ok(const struct rec *r, uint64_t pos, uint8_t b)
{
	if (!r->ref)
		return b == pat(r->base + (uint32_t)pos);
	return r->ref_off + pos < r->ref_len && b == r->ref[r->ref_off + pos];
}

static void mark(struct rec *r, char kind, uint64_t len)
{
	if (len == 0)
		r->empty_call = true;
	if (r->cls && r->ref_off + r->pos + len <= r->ref_len)
		memset(r->cls + r->pos, kind, len);
	else if (r->cls && r->bad_at == NONE)
		r->bad_at = r->pos; /* output longer than the stream */
	r->pos += len;
}

static void rec_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct rec *r = ctx;

	for (uint32_t i = 0; i < len; i++)
		if (!byte_ok(r, r->pos + i, p[i]) && r->bad_at == NONE)
			r->bad_at = r->pos + i;
	r->run += len;
	mark(r, 'D', len);
}

static void rec_end(struct rec *r)
{
	if (r->run)
		put(r, 'D', r->run);
	r->run = 0;
}

static void rec_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	struct rec *r = ctx;
	char kind = why == REASM_GAP_TRUNCATED ? 'T' : why == REASM_GAP_LOST ? 'L' : 'E';

	if (why != REASM_GAP_TRUNCATED && why != REASM_GAP_LOST && why != REASM_GAP_EVICTED)
		ck_abort_msg("gap reason %d", (int)why);
	rec_end(r);
	put(r, kind, len);
	mark(r, kind, len);
}

static const struct reasm_ops rec_ops = { .data = rec_data, .gap = rec_gap };

/* Data bytes, gap bytes per kind and gap count that a token string stands for. */
static struct reasm_stats tokens_stats(const char *text)
{
	struct reasm_stats st = { 0 };
	unsigned long long len;
	char kind;
	int used;

	while (sscanf(text, " %c%llu%n", &kind, &len, &used) == 2) {
		text += used;
		if (kind == 'D') {
			st.bytes_delivered += len;
			continue;
		}
		st.gaps++;
		if (kind == 'T')
			st.gap_bytes_truncated += len;
		else if (kind == 'L')
			st.gap_bytes_lost += len;
		else
			st.gap_bytes_evicted += len;
	}
	return st;
}

/* ---- guard page and fixture -------------------------------------------- */

struct guard {
	uint8_t *base;
	size_t len; /* readable bytes; a PROT_NONE page follows */
};

static struct guard guard_map(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct guard g = { .len = (GUARD_ROOM + page - 1) / page * page };

	g.base = mmap(NULL, g.len + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	              0);
	ck_assert_ptr_ne(g.base, MAP_FAILED);
	ck_assert_int_eq(mprotect(g.base + g.len, page, PROT_NONE), 0);
	return g;
}

static void guard_unmap(struct guard *g)
{
	ck_assert_int_eq(munmap(g->base, g->len + (size_t)sysconf(_SC_PAGESIZE)), 0);
}

/* @cap pattern bytes starting at @seq, ending exactly at the PROT_NONE page. */
static const uint8_t *guard_place(const struct guard *g, uint32_t seq, uint32_t cap)
{
	uint8_t *at = g->base + g->len - cap;

	ck_assert_uint_le(cap, g->len);
	for (uint32_t i = 0; i < cap; i++)
		at[i] = pat(seq + i);
	return at;
}

struct fix {
	struct reasm_pool *pool; /* not owned */
	struct reasm_stream s;
	struct reasm_stats st;
	struct rec r;
	struct guard g;
	uint32_t isn;
	bool based;
	uint64_t hi; /* furthest end accepted so far, relative to the first byte */
};

static struct reasm_pool *make_pool(size_t budget)
{
	struct reasm_pool *p = NULL;

	ck_assert_int_eq(reasm_pool_create(&p, budget), 0);
	ck_assert_uint_eq(reasm_pool_available(p), budget / REASM_CHUNK_SIZE * REASM_CHUNK_SIZE);
	return p;
}

static void fix_setup(struct fix *f, uint32_t isn, struct reasm_pool *pool)
{
	memset(f, 0, sizeof(*f));
	f->pool = pool;
	f->isn = isn;
	reasm_init(&f->s, pool);
	rec_init(&f->r, 0);
	f->g = guard_map();
}

/* Remember where the stream starts and how far accepted segments reach. */
static void fix_track(struct fix *f, uint32_t seq, uint32_t seg_len)
{
	int64_t end;

	if (!f->based) {
		f->based = true;
		f->r.base = seq;
	}
	end = (int64_t)f->hi + serial(seq, f->r.base + (uint32_t)f->hi) + seg_len;
	if (end > (int64_t)f->hi)
		f->hi = (uint64_t)end;
}

static int fix_push(struct fix *f, uint32_t off, uint32_t seg_len, uint32_t cap_len)
{
	uint32_t seq = f->isn + off;
	const uint8_t *p = guard_place(&f->g, seq, cap_len <= seg_len ? cap_len : 0);

	if (cap_len <= seg_len && seg_len > 0 && seg_len <= REASM_SEG_MAX)
		fix_track(f, seq, seg_len);
	return reasm_push(&f->s, seq, seg_len, p, cap_len, &rec_ops, &f->r, &f->st);
}

static void fix_flush(struct fix *f)
{
	reasm_flush(&f->s, &rec_ops, &f->r, &f->st);
}

/* The output is @want, every byte in place, and the stats agree with it. */
static void fix_check(struct fix *f, const char *name, const char *want)
{
	struct reasm_stats t = tokens_stats(want);

	rec_end(&f->r);
	ck_assert_msg(strcmp(f->r.text, want) == 0, "%s: got \"%s\", want \"%s\"", name, f->r.text,
	              want);
	ck_assert_msg(f->r.bad_at == NONE, "%s: wrong byte at %llu", name,
	              (unsigned long long)f->r.bad_at);
	ck_assert_msg(!f->r.empty_call, "%s: callback with len 0", name);
	ck_assert_uint_eq(f->st.bytes_delivered, t.bytes_delivered);
	ck_assert_uint_eq(f->st.gap_bytes_truncated, t.gap_bytes_truncated);
	ck_assert_uint_eq(f->st.gap_bytes_lost, t.gap_bytes_lost);
	ck_assert_uint_eq(f->st.gap_bytes_evicted, t.gap_bytes_evicted);
	ck_assert_uint_eq(f->st.gaps, t.gaps);
}

static void fix_counts(const struct fix *f, uint64_t dup, uint64_t ooo, uint64_t resyncs)
{
	ck_assert_uint_eq(f->st.duplicate_bytes, dup);
	ck_assert_uint_eq(f->st.ooo_buffered, ooo);
	ck_assert_uint_eq(f->st.resyncs, resyncs);
}

/* Discard returns every chunk: nothing leaks from the pool. */
static void fix_teardown(struct fix *f)
{
	reasm_discard(&f->s);
	guard_unmap(&f->g);
}

/* ---- table ------------------------------------------------------------- */

struct push {
	uint32_t off; /* sequence number minus the case's isn */
	uint32_t seg_len;
	uint32_t cap_len;
	int rc;
};

#define P(off, len)                                                                                \
	{                                                                                          \
		(off), (len), (len), 0                                                             \
	}
#define PT(off, len, cap)                                                                          \
	{                                                                                          \
		(off), (len), (cap), 0                                                             \
	}
#define PBAD(off, len, cap)                                                                        \
	{                                                                                          \
		(off), (len), (cap), -EINVAL                                                       \
	}
#define PZ(off)                                                                                    \
	{                                                                                          \
		(off), 0, 0, 0                                                                     \
	}
#define PUSHES(...)                                                                                \
	.push = (const struct push[]){ __VA_ARGS__ },                                              \
	.npush = sizeof((const struct push[]){ __VA_ARGS__ }) / sizeof(struct push)

struct reasm_case {
	const char *name;
	uint32_t isn;
	const struct push *push;
	size_t npush;
	bool flush;
	const char *want;
	uint64_t dup, ooo, resyncs;
};

static const struct reasm_case cases[] = {
	{ "in_order", 1000, PUSHES(P(0, 100), P(100, 50), P(150, 200)), false, "D350" },
	{ "in_order_truncated", 1000, PUSHES(P(0, 100), PT(100, 50, 20), P(150, 200)), false,
	  "D120 T30 D200" },
	{ "split_write", 0x7fffffc0,
	  PUSHES(P(0, 100), P(100, 100), P(200, 100), P(300, 100), P(400, 100), P(500, 100),
	         P(600, 100), P(700, 100), P(800, 100), P(900, 100)),
	  false, "D1000" },
	{ "split_write_truncated_tail", 0x7fffffc0,
	  PUSHES(P(0, 100), P(100, 100), P(200, 100), P(300, 100), P(400, 100), P(500, 100),
	         P(600, 100), P(700, 100), P(800, 100), PT(900, 100, 0)),
	  false, "D900 T100" },
	{ "mid_stream_earlier_bytes_dropped", 0x12345678,
	  PUSHES(P(0, 100), P(100, 100), P(0u - 50, 100)), false, "D200", 100 },
	{ "mid_stream_straddling_start", 0x12345678, PUSHES(P(0, 100), P(0u - 50, 160)), false,
	  "D110", 150 },
	{ "mid_stream_truncated_first", 0x12345678, PUSHES(PT(0, 100, 10), P(100, 100)), false,
	  "D10 T90 D100" },
	{ "reordered_before_first", 7, PUSHES(P(100, 100), P(0, 100)), false, "D100", 100 },
	{ "duplicate", 1, PUSHES(P(0, 100), P(100, 100), P(0, 100), P(200, 50)), false, "D250",
	  100 },
	{ "duplicate_of_truncated", 1, PUSHES(PT(0, 100, 40), P(100, 100), P(0, 100)), false,
	  "D40 T60 D100", 100 },
	{ "duplicate_of_held", 1,
	  PUSHES(P(0, 100), P(200, 100), P(200, 100), P(250, 50), P(100, 100)), false, "D300", 150,
	  1 },
	{ "overlap", 1, PUSHES(P(0, 100), P(50, 100)), false, "D150", 50 },
	{ "overlap_truncated_in_old", 1, PUSHES(P(0, 100), PT(50, 100, 30)), false, "D100 T50",
	  50 },
	{ "overlap_truncated_in_new", 1, PUSHES(P(0, 100), PT(50, 100, 70)), false, "D120 T30",
	  50 },
	{ "ooo_pair", 1, PUSHES(P(0, 100), P(200, 100), P(100, 100)), false, "D300", 0, 1 },
	{ "ooo_pair_truncated", 1, PUSHES(P(0, 100), PT(200, 100, 10), P(100, 100)), false,
	  "D210 T90", 0, 1 },
	{ "ooo_three_way", 1, PUSHES(P(0, 100), P(300, 100), P(200, 100), P(100, 100)), false,
	  "D400", 0, 2 },
	{ "ooo_three_way_truncated", 1,
	  PUSHES(P(0, 100), P(300, 100), PT(200, 100, 0), P(100, 100)), false, "D200 T100 D100", 0,
	  2 },
	{ "ooo_overlapping_held", 1, PUSHES(P(0, 100), P(200, 100), P(150, 100), P(100, 60)), false,
	  "D300", 60, 2 },
	{ "ooo_overlapping_held_truncated", 1,
	  PUSHES(P(0, 100), P(200, 100), PT(150, 100, 20), P(100, 60)), false, "D170 T80 D50", 60,
	  2 },
	{ "hole_flushed", 1, PUSHES(P(0, 100), P(150, 50)), true, "D100 L50 D50", 0, 1 },
	{ "hole_not_flushed", 1, PUSHES(P(0, 100), P(150, 50)), false, "D100", 0, 1 },
	{ "hole_flushed_truncated", 1, PUSHES(P(0, 100), PT(150, 50, 0)), true, "D100 L50 T50", 0,
	  1 },
	{ "two_holes_flushed", 1, PUSHES(P(0, 100), P(300, 50), P(150, 50)), true,
	  "D100 L50 D50 L100 D50", 0, 2 },
	{ "truncated", 1, PUSHES(P(0, 100), PT(100, 100, 40), P(200, 100)), false,
	  "D140 T60 D100" },
	{ "truncated_nothing_captured", 1, PUSHES(P(0, 100), PT(100, 100, 0), P(200, 100)), false,
	  "D100 T100 D100" },
	{ "truncated_longest_segment", 1, PUSHES(P(0, 100), PT(100, REASM_SEG_MAX, 100)), false,
	  "D200 T1048476" },
	{ "wrap", 0xfffffff0, PUSHES(P(0, 10), P(10, 10), P(20, 20)), false, "D40" },
	{ "wrap_reordered", 0xfffffff0, PUSHES(P(0, 8), P(24, 16), P(8, 16)), false, "D40", 0, 1 },
	{ "wrap_truncated", 0xfffffff0, PUSHES(P(0, 10), PT(10, 10, 3), P(20, 20)), false,
	  "D13 T7 D20" },
	{ "wrap_duplicate_before_zero", 0xfffffff0, PUSHES(P(16, 16), P(0, 16), P(32, 8)), false,
	  "D24", 16 },
	{ "wrap_hole_flushed", 0xfffffff0, PUSHES(P(0, 8), P(24, 16)), true, "D8 L16 D16", 0, 1 },
	{ "resync", 5, PUSHES(P(0, 100), P(100 + W + 1, 50)), false, "D100 L1048577 D50", 0, 0, 1 },
	{ "window_edge_held", 5, PUSHES(P(0, 100), P(100 + W, 50)), true, "D100 L1048576 D50", 0,
	  1 },
	{ "window_edge_not_flushed", 5, PUSHES(P(0, 100), P(100 + W, 50)), false, "D100", 0, 1 },
	{ "resync_delivers_held", 5, PUSHES(P(0, 100), P(200, 50), P(100 + W + 10, 10)), false,
	  "D100 L100 D50 L1048436 D10", 0, 1, 1 },
	{ "resync_truncated", 5, PUSHES(P(0, 100), PT(100 + W + 1, 50, 5)), false,
	  "D100 L1048577 D5 T45", 0, 0, 1 },
	{ "serial_half_is_behind", 0, PUSHES(P(0, 100), P(100 + 0x80000000u, 10), P(100, 10)),
	  false, "D110", 10 },
	{ "serial_under_half_resyncs", 0, PUSHES(P(0, 100), P(100 + 0x7fffffffu, 10)), false,
	  "D100 L2147483647 D10", 0, 0, 1 },
	{ "invalid_cap", 1, PUSHES(P(0, 100), PBAD(100, 10, 11), P(100, 10)), false, "D110" },
	{ "invalid_first_sets_nothing", 1, PUSHES(PBAD(500, 10, 20), P(0, 10)), false, "D10" },
	{ "invalid_too_long", 1, PUSHES(P(0, 100), PBAD(100, REASM_SEG_MAX + 1, 0), P(100, 10)),
	  false, "D110" },
	{ "invalid_zero_len_with_bytes", 1, PUSHES(P(0, 100), PBAD(100, 0, 1), P(100, 10)), false,
	  "D110" },
	{ "zero_len_first_sets_nothing", 1, PUSHES(PZ(500), P(0, 100)), false, "D100" },
	{ "zero_len_anywhere", 1, PUSHES(P(0, 100), PZ(5000), PZ(0), P(100, 10)), false, "D110" },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* Push the first @upto records of @c; with @twins, a rejected record before each. */
static void run_case(struct fix *f, const struct reasm_case *c, size_t upto, bool twins)
{
	uint64_t accepted = 0;

	for (size_t i = 0; i < upto; i++) {
		const struct push *p = &c->push[i];

		if (twins) {
			struct reasm_stats before = f->st;
			uint64_t pos = f->r.pos;

			ck_assert_int_eq(fix_push(f, p->off, p->seg_len, p->seg_len + 1), -EINVAL);
			ck_assert_mem_eq(&before, &f->st, sizeof(before));
			ck_assert_uint_eq(f->r.pos, pos);
		}
		ck_assert_msg(fix_push(f, p->off, p->seg_len, p->cap_len) == p->rc, "%s: push %zu",
		              c->name, i);
		accepted += p->rc == 0 && p->seg_len > 0;
	}
	if (c->flush && upto == c->npush)
		fix_flush(f);
	ck_assert_uint_eq(f->st.segments, accepted);
}

static void table_run(const struct reasm_case *c, bool twins)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	struct fix f;

	fix_setup(&f, c->isn, pool);
	run_case(&f, c, c->npush, twins);
	fix_check(&f, c->name, c->want);
	fix_counts(&f, c->dup, c->ooo, c->resyncs);
	fix_teardown(&f);
	ck_assert_uint_eq(reasm_pool_available(pool), POOL_BUDGET);
	reasm_pool_destroy(pool);
}

START_TEST(table)
{
	table_run(&cases[_i], false);
}
END_TEST

/* The malformed twin of every case: a rejected record before each push changes nothing. */
START_TEST(table_rejected_twins)
{
	table_run(&cases[_i], true);
}
END_TEST

/* Every prefix, then a flush: output covers exactly the sequence space seen, bytes in place. */
START_TEST(table_prefixes_flushed)
{
	const struct reasm_case *c = &cases[_i];
	struct reasm_pool *pool = make_pool(POOL_BUDGET);

	for (size_t upto = 0; upto <= c->npush; upto++) {
		struct fix f;

		fix_setup(&f, c->isn, pool);
		run_case(&f, c, upto, false);
		fix_flush(&f);
		rec_end(&f.r);
		ck_assert_msg(f.r.pos == f.hi, "%s[%zu]: %llu bytes out, %llu seen", c->name, upto,
		              (unsigned long long)f.r.pos, (unsigned long long)f.hi);
		ck_assert_msg(f.r.bad_at == NONE, "%s[%zu]: wrong byte", c->name, upto);
		ck_assert_uint_eq(reasm_pool_available(pool), POOL_BUDGET);
		fix_teardown(&f);
	}
	reasm_pool_destroy(pool);
}
END_TEST

/* ---- out-of-order limits ----------------------------------------------- */

/* Append " <kind><len>" @times times to @buf. */
static void repeat(char *buf, size_t cap, int times, const char *tokens)
{
	for (int i = 0; i < times; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, cap - len, " %s", tokens);
	}
}

/* One more ahead segment than REASM_OOO_MAX_SEGS: the hole goes, held data follows. */
START_TEST(evict_too_many_segments)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	char want[TEXT_MAX] = "D100 E100";
	struct fix f;

	fix_setup(&f, 0xffffff00, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	for (uint32_t i = 0; i <= REASM_OOO_MAX_SEGS; i++)
		ck_assert_int_eq(fix_push(&f, 200 + 100 * i, 100, 100), 0);
	/* the hole's bytes arrive too late: a duplicate, never spliced in */
	ck_assert_int_eq(fix_push(&f, 100, 100, 100), 0);
	repeat(want, sizeof(want), 1, "D1700");
	fix_check(&f, "too_many", want);
	fix_counts(&f, 100, REASM_OOO_MAX_SEGS, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* Its truncated twin: the same limit, with a TRUNCATED gap after every segment. */
START_TEST(evict_too_many_segments_truncated)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	char want[TEXT_MAX] = "D100 E100";
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	for (uint32_t i = 0; i <= REASM_OOO_MAX_SEGS; i++)
		ck_assert_int_eq(fix_push(&f, 200 + 100 * i, 100, 10), 0);
	repeat(want, sizeof(want), REASM_OOO_MAX_SEGS + 1, "D10 T90");
	fix_check(&f, "too_many_truncated", want);
	fix_counts(&f, 0, REASM_OOO_MAX_SEGS, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* More than REASM_OOO_MAX_BYTES held: the hole goes. */
START_TEST(evict_too_many_bytes)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	const uint32_t seg = REASM_OOO_MAX_BYTES / 8;
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	for (uint32_t i = 0; i < 9; i++)
		ck_assert_int_eq(fix_push(&f, 200 + seg * i, seg, seg), 0);
	fix_check(&f, "too_many_bytes", "D100 E100 D73728");
	fix_counts(&f, 0, 8, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* The truncated twin: only captured bytes count, so nothing is evicted. */
START_TEST(truncated_bytes_not_held)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	const uint32_t seg = REASM_OOO_MAX_BYTES / 8;
	char want[TEXT_MAX] = "D100 L100";
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	for (uint32_t i = 0; i < 9; i++)
		ck_assert_int_eq(fix_push(&f, 200 + seg * i, seg, 1000), 0);
	fix_flush(&f);
	repeat(want, sizeof(want), 9, "D1000 T7192");
	fix_check(&f, "truncated_not_held", want);
	fix_counts(&f, 0, 9, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* Only the oldest hole is given up; later holes keep waiting. */
START_TEST(evict_oldest_hole_only)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	char want[TEXT_MAX] = "D100 E100 D100";
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	for (uint32_t i = 0; i <= REASM_OOO_MAX_SEGS; i++)
		ck_assert_int_eq(fix_push(&f, 200 + 200 * i, 100, 100), 0);
	fix_flush(&f);
	repeat(want, sizeof(want), REASM_OOO_MAX_SEGS, "L100 D100");
	fix_check(&f, "oldest_only", want);
	fix_counts(&f, 0, REASM_OOO_MAX_SEGS + 1, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* A segment that could never fit is delivered after an EVICTED gap; its truncated twin fits. */
START_TEST(evict_oversized_segment)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 200, 70000, 70000), 0);
	fix_check(&f, "oversized", "D100 E100 D70000");
	fix_counts(&f, 0, 0, 0);
	fix_teardown(&f);

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 200, 70000, 60000), 0);
	fix_flush(&f);
	fix_check(&f, "oversized_truncated", "D100 L100 D60000 T10000");
	fix_counts(&f, 0, 1, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* Without a pool nothing is held: every hole is given up at once. */
START_TEST(no_pool)
{
	struct fix f;

	fix_setup(&f, 0, NULL);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 200, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 100, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 400, 100, 40), 0);
	fix_flush(&f);
	fix_check(&f, "no_pool", "D100 E100 D100 E100 D40 T60");
	fix_counts(&f, 100, 0, 0);
	fix_teardown(&f);
}
END_TEST

/*
 * Two streams share a four-chunk pool. A takes it all; B then finds no
 * chunk and holds nothing; A, needing a chunk, gives up its own hole.
 */
START_TEST(pool_exhausted)
{
	struct reasm_pool *pool = make_pool(4 * REASM_CHUNK_SIZE);
	struct fix a, b;

	fix_setup(&a, 0, pool);
	fix_setup(&b, 0x80000000u, pool);
	ck_assert_int_eq(fix_push(&a, 0, 10, 10), 0);
	ck_assert_int_eq(fix_push(&a, 100, 4 * REASM_CHUNK_SIZE, 4 * REASM_CHUNK_SIZE), 0);
	ck_assert_uint_eq(reasm_pool_available(pool), 0);
	ck_assert_int_eq(fix_push(&b, 0, 10, 10), 0);
	ck_assert_int_eq(fix_push(&b, 100, 10, 10), 0);
	ck_assert_int_eq(fix_push(&b, 200, 10, 0), 0); /* no bytes to copy: held anyway */
	fix_check(&b, "b", "D10 E90 D10");
	ck_assert_int_eq(fix_push(&a, 3000, 10, 10), 0);
	ck_assert_uint_eq(reasm_pool_available(pool), 3 * REASM_CHUNK_SIZE);
	fix_flush(&a);
	fix_flush(&b);
	fix_check(&a, "a", "D10 E90 D2048 L852 D10");
	ck_assert_uint_eq(reasm_pool_available(pool), 4 * REASM_CHUNK_SIZE);
	fix_teardown(&a);
	fix_teardown(&b);
	reasm_pool_destroy(pool);
}
END_TEST

/* ---- API edges ---------------------------------------------------------- */

START_TEST(discard_returns_chunks_and_restarts)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	struct fix f;

	fix_setup(&f, 0, pool);
	ck_assert_int_eq(fix_push(&f, 0, 10, 10), 0);
	ck_assert_int_eq(fix_push(&f, 100, 3000, 3000), 0);
	ck_assert_int_eq(fix_push(&f, 4000, 10, 10), 0);
	ck_assert_uint_lt(reasm_pool_available(pool), POOL_BUDGET);
	reasm_discard(&f.s);
	ck_assert_uint_eq(reasm_pool_available(pool), POOL_BUDGET);
	fix_check(&f, "before", "D10");
	rec_init(&f.r, f.isn + 9000);
	memset(&f.st, 0, sizeof(f.st));
	ck_assert_int_eq(fix_push(&f, 9000, 20, 20), 0); /* a new start, no gap */
	fix_flush(&f);
	fix_check(&f, "after", "D20");
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

/* Flushing an idle stream does not end it; flushing an empty one does nothing. */
START_TEST(flush_then_continue)
{
	struct reasm_pool *pool = make_pool(POOL_BUDGET);
	struct fix f;

	fix_setup(&f, 0xfffffffe, pool);
	fix_flush(&f);
	ck_assert_int_eq(fix_push(&f, 0, 100, 100), 0);
	ck_assert_int_eq(fix_push(&f, 200, 10, 10), 0);
	fix_flush(&f);
	fix_flush(&f);
	ck_assert_int_eq(fix_push(&f, 210, 10, 10), 0);
	ck_assert_int_eq(fix_push(&f, 100, 10, 10), 0);
	fix_check(&f, "continue", "D100 L100 D20");
	fix_counts(&f, 10, 1, 0);
	fix_teardown(&f);
	reasm_pool_destroy(pool);
}
END_TEST

START_TEST(null_and_bounds)
{
	struct reasm_pool *pool = NULL;
	struct reasm_stream s;
	struct reasm_stats st = { 0 }, zero = { 0 };
	struct rec r;
	const uint8_t byte = 0;

	rec_init(&r, 0);
	reasm_init(&s, NULL);
	ck_assert_int_eq(reasm_push(&s, 0, 10, NULL, 1, &rec_ops, &r, &st), -EINVAL);
	ck_assert_int_eq(reasm_push(NULL, 0, 10, &byte, 1, &rec_ops, &r, &st), -EINVAL);
	ck_assert_int_eq(reasm_push(&s, 0, 10, &byte, 1, NULL, &r, &st), -EINVAL);
	ck_assert_int_eq(reasm_push(&s, 0, 10, &byte, 1, &rec_ops, &r, NULL), -EINVAL);
	ck_assert_mem_eq(&st, &zero, sizeof(st));
	ck_assert_int_eq(reasm_push(&s, 0, 10, NULL, 0, &rec_ops, &r, &st), 0);
	rec_end(&r);
	ck_assert_str_eq(r.text, "T10");
	ck_assert_int_eq(reasm_pool_create(NULL, POOL_BUDGET), -EINVAL);
	ck_assert_int_eq(reasm_pool_create(&pool, REASM_CHUNK_SIZE - 1), -EINVAL);
	ck_assert_int_eq(reasm_pool_create(&pool, (size_t)REASM_POOL_MAX + 1), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(reasm_pool_create(&pool, REASM_CHUNK_SIZE + 1), 0);
	ck_assert_uint_eq(reasm_pool_available(pool), REASM_CHUNK_SIZE);
	reasm_pool_destroy(pool);
	reasm_pool_destroy(NULL);
	ck_assert_uint_eq(reasm_pool_available(NULL), 0);
}
END_TEST

/* Per-direction state stays small enough for ~20,000 streams in a few MiB. */
START_TEST(stream_is_small)
{
	ck_assert_uint_le(sizeof(struct reasm_stream), 320);
}
END_TEST

/*
 * Payloads of every size around the chunk boundaries, ending at a PROT_NONE
 * page: delivered in order, copied while held, and cut short.
 */
START_TEST(payload_at_guard_page)
{
	static const uint32_t sizes[] = { 1,    2,    511,  512,  513,   1023,
		                          1024, 1025, 4095, 4096, 16384, REASM_OOO_MAX_BYTES };
	struct reasm_pool *pool = make_pool(POOL_BUDGET);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];
		char want[64];
		struct fix f;

		fix_setup(&f, 0xffffffff - n / 2, pool);
		ck_assert_int_eq(fix_push(&f, 0, n, n), 0);
		ck_assert_int_eq(fix_push(&f, 2 * n, n + 5, n), 0); /* held, copied */
		ck_assert_int_eq(fix_push(&f, n, n, n - 1), 0);
		snprintf(want, sizeof(want), "D%u T1 D%u T5", 2 * n - 1, n);
		fix_check(&f, "guard", want);
		fix_counts(&f, 0, 1, 0);
		fix_teardown(&f);
	}
	reasm_pool_destroy(pool);
}
END_TEST

/* ---- fuzz --------------------------------------------------------------- */

enum { F_COVER = 1, F_CAP = 2, F_TRUNC = 4 };

struct frec {
	uint64_t off; /* in the original stream */
	uint32_t seg_len, cap_len;
};

struct fuzz {
	uint64_t rng;
	uint32_t seg_max, window, isn;
	size_t budget;
	bool recut; /* also retransmit ranges cut differently from the original segments */
	uint8_t *orig, *flags;
	struct frec *recs;
	size_t nrecs, cap;
};

static uint32_t fuzz_rand(struct fuzz *z)
{
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return (uint32_t)(z->rng >> 16);
}

static void fuzz_add(struct fuzz *z, uint64_t off, uint32_t seg_len, uint32_t cap_len)
{
	if (z->nrecs == z->cap) {
		z->cap = z->cap ? 2 * z->cap : 1024;
		z->recs = realloc(z->recs, z->cap * sizeof(*z->recs));
		ck_assert_ptr_nonnull(z->recs);
	}
	z->recs[z->nrecs++] = (struct frec){ off, seg_len, cap_len };
}

/* A retransmission of some recent range, cut anew, sometimes truncated. */
static void fuzz_recut(struct fuzz *z, uint64_t off)
{
	uint64_t from = off - fuzz_rand(z) % (off < 4096 ? off + 1 : 4096);
	uint32_t len = 1 + fuzz_rand(z) % 3000;

	if (from + len > FUZZ_LEN)
		len = (uint32_t)(FUZZ_LEN - from);
	if (len > 0)
		fuzz_add(z, from, len, fuzz_rand(z) % 2 ? len : fuzz_rand(z) % len);
}

/* Cut the stream into segments: some truncated, some dropped, some sent twice. */
static void fuzz_cut(struct fuzz *z)
{
	for (uint64_t off = 0; off < FUZZ_LEN;) {
		uint32_t len = 1 + fuzz_rand(z) % z->seg_max, cap;

		if (off + len > FUZZ_LEN)
			len = (uint32_t)(FUZZ_LEN - off);
		cap = fuzz_rand(z) % 8 == 0 ? fuzz_rand(z) % len : len;
		if (fuzz_rand(z) % 16 != 0)
			fuzz_add(z, off, len, cap);
		if (fuzz_rand(z) % 10 == 0)
			fuzz_add(z, off, len, cap);
		if (z->recut && fuzz_rand(z) % 20 == 0)
			fuzz_recut(z, off);
		off += len;
	}
}

/* Reorder within the window: each record may swap with one up to window places later. */
static void fuzz_shuffle(struct fuzz *z)
{
	for (size_t i = 0; i + 1 < z->nrecs; i++) {
		size_t j = i + fuzz_rand(z) % (z->window + 1);

		if (j < z->nrecs) {
			struct frec t = z->recs[i];

			z->recs[i] = z->recs[j];
			z->recs[j] = t;
		}
	}
}

static void fuzz_setup(struct fuzz *z, unsigned seed)
{
	static const uint32_t seg_max[] = { 64, 1460, 9000 };
	static const uint32_t window[] = { 0, 2, 6, 40 };

	memset(z, 0, sizeof(*z));
	z->rng = 0x9e3779b97f4a7c15ull * (seed + 1);
	z->seg_max = seg_max[fuzz_rand(z) % 3];
	z->window = window[fuzz_rand(z) % 4];
	z->budget = fuzz_rand(z) % 4 == 0 ? 8 * REASM_CHUNK_SIZE : POOL_BUDGET;
	z->recut = seed % 4 == 0;
	z->isn = fuzz_rand(z) % 3 == 0 ? 0u - fuzz_rand(z) % FUZZ_LEN : fuzz_rand(z);
	z->orig = malloc(FUZZ_LEN);
	z->flags = calloc(FUZZ_LEN, 1);
	ck_assert_ptr_nonnull(z->orig);
	ck_assert_ptr_nonnull(z->flags);
	for (size_t i = 0; i < FUZZ_LEN; i++)
		z->orig[i] = (uint8_t)fuzz_rand(z);
	fuzz_cut(z);
	fuzz_shuffle(z);
}

static void fuzz_flag(struct fuzz *z, const struct frec *f)
{
	for (uint32_t i = 0; i < f->seg_len; i++)
		z->flags[f->off + i] |= F_COVER | (i < f->cap_len ? F_CAP : F_TRUNC);
}

/* Push every record from an exact-size heap copy, so ASan sees any over-read. */
static void fuzz_push_all(struct fuzz *z, struct reasm_stream *s, struct rec *r,
                          struct reasm_stats *st)
{
	for (size_t i = 0; i < z->nrecs; i++) {
		const struct frec *f = &z->recs[i];
		uint8_t *copy = f->cap_len ? malloc(f->cap_len) : NULL;

		if (f->cap_len) {
			if (!copy)
				ck_abort_msg("out of memory");
			memcpy(copy, z->orig + f->off, f->cap_len);
		}
		if (reasm_push(s, z->isn + (uint32_t)f->off, f->seg_len, copy, f->cap_len, &rec_ops,
		               r, st) != 0)
			ck_abort_msg("record %zu rejected", i);
		free(copy);
		fuzz_flag(z, f);
	}
	reasm_flush(s, &rec_ops, r, st);
	rec_end(r);
}

/* Why output position @p (flags @fl, shown as @c) cannot be, or NULL if it can. */
static const char *fuzz_wrong(uint8_t fl, char c)
{
	if (c == 'D' && !(fl & F_CAP))
		return "data that no record captured";
	if (c == 'T' && !(fl & F_TRUNC))
		return "TRUNCATED where no record was cut short";
	if (c == 'L' && (fl & F_COVER))
		return "LOST where a record was seen";
	if (!(fl & F_COVER) && c != 'L' && c != 'E')
		return "an unseen byte that is not a LOST or EVICTED gap";
	return NULL;
}

/*
 * Each output position is explained by what was pushed; returns the bytes no
 * record captured. Plain tests, one failure: a ck_assert per byte would
 * flood check's fork-mode pipe.
 */
static uint64_t fuzz_judge(const struct fuzz *z, const struct rec *r, uint64_t start)
{
	uint64_t uncaptured = 0;

	for (uint64_t p = 0; p < r->pos; p++) {
		uint8_t fl = z->flags[start + p];
		const char *why = fuzz_wrong(fl, r->cls[p]);

		if (why)
			ck_abort_msg("position %llu: %s", (unsigned long long)p, why);
		uncaptured += !(fl & F_CAP);
	}
	return uncaptured;
}

/* Bytes in [start, start + len) whose flags, masked with @mask, equal @want. */
static uint64_t fuzz_count(const struct fuzz *z, uint64_t start, uint64_t len, uint8_t mask,
                           uint8_t want)
{
	uint64_t n = 0;

	for (uint64_t i = start; i < start + len; i++)
		n += (z->flags[i] & mask) == want;
	return n;
}

/* The totals: exact when nothing was evicted, bounded when something was. */
static void fuzz_totals(const struct fuzz *z, const struct reasm_stats *st, uint64_t start,
                        uint64_t span, uint64_t uncaptured)
{
	uint64_t gaps = st->gap_bytes_truncated + st->gap_bytes_lost + st->gap_bytes_evicted;

	ck_assert_uint_eq(st->bytes_delivered + gaps, span);
	ck_assert_uint_le(uncaptured, gaps);
	if (z->recut)
		return; /* a truncated byte may also be captured by a recut record */
	ck_assert_uint_le(st->gap_bytes_truncated + st->gap_bytes_lost, uncaptured);
	if (st->gap_bytes_evicted > 0)
		return;
	ck_assert_uint_eq(st->bytes_delivered, fuzz_count(z, start, span, F_CAP, F_CAP));
	ck_assert_uint_eq(st->gap_bytes_truncated,
	                  fuzz_count(z, start, span, F_CAP | F_TRUNC, F_TRUNC));
	ck_assert_uint_eq(st->gap_bytes_lost, fuzz_count(z, start, span, F_COVER, 0));
}

static void fuzz_run(unsigned seed, struct reasm_stats *st)
{
	struct fuzz z;
	struct reasm_pool *pool;
	struct reasm_stream s;
	struct rec r;
	uint64_t start, end = 0;

	fuzz_setup(&z, seed);
	pool = make_pool(z.budget);
	reasm_init(&s, pool);
	start = z.recs[0].off;
	for (size_t i = 0; i < z.nrecs; i++)
		if (z.recs[i].off + z.recs[i].seg_len > end)
			end = z.recs[i].off + z.recs[i].seg_len;
	rec_init(&r, 0);
	r.ref = z.orig;
	r.ref_off = start;
	r.ref_len = FUZZ_LEN;
	r.cls = malloc(FUZZ_LEN);
	ck_assert_ptr_nonnull(r.cls);
	fuzz_push_all(&z, &s, &r, st);
	ck_assert_msg(r.bad_at == NONE, "seed %u: wrong byte at %llu", seed,
	              (unsigned long long)r.bad_at);
	ck_assert_msg(r.pos == end - start, "seed %u: %llu out, want %llu", seed,
	              (unsigned long long)r.pos, (unsigned long long)(end - start));
	ck_assert(!r.empty_call);
	fuzz_totals(&z, st, start, end - start, fuzz_judge(&z, &r, start));
	ck_assert_uint_eq(reasm_pool_available(pool), z.budget);
	reasm_pool_destroy(pool);
	free(r.cls);
	free(z.recs);
	free(z.flags);
	free(z.orig);
}

START_TEST(fuzz_seed)
{
	struct reasm_stats st = { 0 };

	fuzz_run((unsigned)_i, &st);
}
END_TEST

/* The seeds reach every path: duplicates, holding, truncation, loss, eviction. */
START_TEST(fuzz_covers_paths)
{
	struct reasm_stats total = { 0 };

	for (unsigned seed = 0; seed < FUZZ_COVER; seed++) {
		struct reasm_stats st = { 0 };

		fuzz_run(seed, &st);
		total.duplicate_bytes += st.duplicate_bytes;
		total.ooo_buffered += st.ooo_buffered;
		total.gap_bytes_truncated += st.gap_bytes_truncated;
		total.gap_bytes_lost += st.gap_bytes_lost;
		total.gap_bytes_evicted += st.gap_bytes_evicted;
	}
	ck_assert_uint_gt(total.duplicate_bytes, 0);
	ck_assert_uint_gt(total.ooo_buffered, 0);
	ck_assert_uint_gt(total.gap_bytes_truncated, 0);
	ck_assert_uint_gt(total.gap_bytes_lost, 0);
	ck_assert_uint_gt(total.gap_bytes_evicted, 0);
}
END_TEST

Suite *reasm_suite(void)
{
	Suite *s = suite_create("reasm");
	TCase *tab = tcase_create("table");
	TCase *lim = tcase_create("limits");
	TCase *api = tcase_create("api");
	TCase *fuzz = tcase_create("fuzz");

	tcase_add_loop_test(tab, table, 0, N_CASES);
	tcase_add_loop_test(tab, table_rejected_twins, 0, N_CASES);
	tcase_add_loop_test(tab, table_prefixes_flushed, 0, N_CASES);
	suite_add_tcase(s, tab);

	tcase_add_test(lim, evict_too_many_segments);
	tcase_add_test(lim, evict_too_many_segments_truncated);
	tcase_add_test(lim, evict_too_many_bytes);
	tcase_add_test(lim, truncated_bytes_not_held);
	tcase_add_test(lim, evict_oldest_hole_only);
	tcase_add_test(lim, evict_oversized_segment);
	tcase_add_test(lim, no_pool);
	tcase_add_test(lim, pool_exhausted);
	suite_add_tcase(s, lim);

	tcase_add_test(api, discard_returns_chunks_and_restarts);
	tcase_add_test(api, flush_then_continue);
	tcase_add_test(api, null_and_bounds);
	tcase_add_test(api, stream_is_small);
	tcase_add_test(api, payload_at_guard_page);
	suite_add_tcase(s, api);

	tcase_add_loop_test(fuzz, fuzz_seed, 0, FUZZ_SEEDS);
	tcase_add_test(fuzz, fuzz_covers_paths);
	tcase_set_timeout(fuzz, 120);
	suite_add_tcase(s, fuzz);
	return s;
}
