// SPDX-License-Identifier: Apache-2.0
/*
 * One reassembly stream fed a sequence of segment records taken from the
 * input, then flushed. Input layout:
 *
 *   0  u8 flags   bit 0: payload is a function of its sequence number (not
 *                 input bytes) and every delivered byte is checked against
 *                 it, so splicing shows; bit 1: before each push, push a
 *                 rejected twin (cap_len > seg_len) that must change nothing;
 *                 bits 2-7: pool chunks - 1 (a small pool, 1 to 62 chunks),
 *                 or 62: no pool at all (nothing can be held), or 63:
 *                 POOL_BIG_CHUNKS, so REASM_OOO_MAX_BYTES can be reached
 *   then records until the input ends:
 *      u32 seq, u32 seg_len (taken mod 70000), u16 cap_len (taken mod
 *      seg_len + 1; in pattern mode at most PATTERN_CAP_MAX, and 0 once
 *      PATTERN_BUDGET is spent), then cap_len payload bytes (cut to what
 *      is left; none in pattern mode)
 *
 * The sink checks the output contract of reasm.h: offsets only grow, data
 * and gap lengths add up to the stats, the output never runs past the
 * furthest sequence number seen, a segment at or behind the expected one is
 * consumed at once, and after the flush the output covers all sequence space
 * seen and every chunk is back in the pool.
 */
#include <errno.h>
#include <stdbool.h>

#include "processor/reasm.h"
#include "test/fuzz/fuzz.h"

#define REC_HDR         10
#define SEG_LEN_MOD     70000
#define PATTERN_CAP_MAX 16384        /* L7_CAPTURE_MAX: the most a kernel record carries */
#define PATTERN_BUDGET  (256 * 1024) /* pattern bytes per input, to keep runs fast */
#define POOL_FLAG_NONE  62           /* flags >> 2: no pool */
#define POOL_FLAG_BIG   63           /* flags >> 2: POOL_BIG_CHUNKS */
#define POOL_BIG_CHUNKS 256          /* 128 KiB, more than one stream may hold */

struct sink {
	bool pattern;
	bool started;
	uint32_t start;   /* sequence number of output offset 0 */
	uint64_t pos;     /* running offset: data + gap bytes so far */
	uint64_t data;    /* data bytes */
	uint64_t ngaps;   /* gap calls */
	uint64_t max_end; /* furthest offset any segment reached */
};

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)((((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull) >> 56);
}

/*
 * Byte loops run uninstrumented for coverage (ASan still checks every read):
 * traced compares per payload byte would cost most of the time and find nothing.
 */
#define BYTE_LOOP __attribute__((no_sanitize("coverage"), noinline))

BYTE_LOOP static bool bytes_match(const struct sink *k, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != pat(k->start + (uint32_t)(k->pos + i)))
			return false;
	return true;
}

BYTE_LOOP static void fill_pattern(uint8_t *p, uint32_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = pat(seq + i);
}

static void on_data(void *ctx, const uint8_t *p, uint32_t len)
{
	static uint8_t copy[4096];
	struct sink *k = ctx;

	FUZZ_CHECK(len > 0 && p != NULL);
	/* memcpy() is checked by ASan as a whole: every delivered byte must be readable. */
	for (uint32_t done = 0; done < len; done += sizeof(copy))
		memcpy(copy, p + done, len - done < sizeof(copy) ? len - done : sizeof(copy));
	if (k->pattern)
		FUZZ_CHECK(bytes_match(k, p, len));
	k->pos += len;
	k->data += len;
}

static void on_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	struct sink *k = ctx;

	FUZZ_CHECK(len > 0 && len <= UINT32_MAX);
	FUZZ_CHECK(why == REASM_GAP_TRUNCATED || why == REASM_GAP_LOST || why == REASM_GAP_EVICTED);
	k->pos += len;
	k->ngaps++;
}

static const struct reasm_ops ops = { on_data, on_gap };

static void check_stats(const struct sink *k, const struct reasm_stats *st)
{
	FUZZ_CHECK(st->bytes_delivered == k->data && st->gaps == k->ngaps);
	FUZZ_CHECK(st->bytes_delivered + st->gap_bytes_truncated + st->gap_bytes_lost +
	                   st->gap_bytes_evicted ==
	           k->pos);
	FUZZ_CHECK(k->pos <= k->max_end);
}

/* A record the stream must refuse without touching anything. */
static void push_rejected(struct reasm_stream *s, uint32_t seq, uint32_t seg_len,
                          const uint8_t *payload, struct sink *k, struct reasm_stats *st,
                          const struct reasm_pool *pool)
{
	struct reasm_stats before = *st;
	struct reasm_stream copy = *s;
	size_t avail = reasm_pool_available(pool);
	uint64_t pos = k->pos;

	FUZZ_CHECK(reasm_push(s, seq, seg_len, payload, seg_len + 1, &ops, k, st) == -EINVAL);
	FUZZ_CHECK(memcmp(&before, st, sizeof(before)) == 0);
	FUZZ_CHECK(memcmp(&copy, s, sizeof(copy)) == 0);
	FUZZ_CHECK(k->pos == pos && reasm_pool_available(pool) == avail);
}

/* One segment; @payload is an exactly-sized heap block of @cap_len bytes. */
static void push_one(struct reasm_stream *s, uint32_t seq, uint32_t seg_len, const uint8_t *payload,
                     uint32_t cap_len, struct sink *k, struct reasm_stats *st)
{
	int64_t off, end, before = (int64_t)k->pos;

	if (seg_len > 0 && !k->started) {
		k->started = true; /* the stream starts at its first non-empty segment */
		k->start = seq;
	}
	/* Where the segment sits, seen from the expected sequence number as reasm.h says. */
	off = (int64_t)k->pos + (int32_t)(seq - (k->start + (uint32_t)k->pos));
	end = off + seg_len;
	FUZZ_CHECK(reasm_push(s, seq, seg_len, payload, cap_len, &ops, k, st) == 0);
	if (seg_len == 0)
		return;
	if (end > (int64_t)k->max_end)
		k->max_end = (uint64_t)end;
	/* At or behind the expected sequence number: consumed at once, never held. */
	if (off <= before)
		FUZZ_CHECK((int64_t)k->pos >= end);
	check_stats(k, st);
}

/* The segment's captured bytes, in an exactly-sized heap block. */
static uint8_t *make_payload(const struct sink *k, uint32_t seq, const uint8_t *in,
                             uint32_t cap_len)
{
	uint8_t *p;

	if (!k->pattern)
		return fuzz_dup(in, cap_len);
	p = malloc(cap_len);
	FUZZ_CHECK(p != NULL || cap_len == 0);
	fill_pattern(p, seq, cap_len);
	return p;
}

static size_t pool_chunks(unsigned v)
{
	if (v == POOL_FLAG_NONE)
		return 0;
	return v == POOL_FLAG_BIG ? POOL_BIG_CHUNKS : v + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink k = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm_stream s;
	struct reasm_pool *pool = NULL;
	uint32_t pattern_left = PATTERN_BUDGET;
	size_t budget, i = 1;
	bool twins;

	if (size < 1)
		return 0;
	k.pattern = data[0] & 1;
	twins = data[0] & 2;
	budget = pool_chunks(data[0] >> 2) * REASM_CHUNK_SIZE;
	if (budget > 0)
		FUZZ_CHECK(reasm_pool_create(&pool, budget) == 0);
	reasm_init(&s, pool);
	while (size - i >= REC_HDR) {
		uint32_t seq, seg_len, cap_len;
		uint16_t cap;
		uint8_t *payload;

		memcpy(&seq, data + i, 4);
		memcpy(&seg_len, data + i + 4, 4);
		memcpy(&cap, data + i + 8, 2);
		i += REC_HDR;
		seg_len %= SEG_LEN_MOD;
		cap_len = cap % (seg_len + 1);
		if (k.pattern && cap_len > PATTERN_CAP_MAX)
			cap_len = PATTERN_CAP_MAX;
		if (k.pattern && cap_len > pattern_left)
			cap_len = pattern_left;
		if (k.pattern)
			pattern_left -= cap_len;
		if (!k.pattern && cap_len > size - i)
			cap_len = (uint32_t)(size - i);
		payload = make_payload(&k, seq, data + i, cap_len);
		if (!k.pattern)
			i += cap_len;
		if (twins)
			push_rejected(&s, seq, seg_len, payload, &k, &st, pool);
		push_one(&s, seq, seg_len, payload, cap_len, &k, &st);
		free(payload);
	}
	reasm_flush(&s, &ops, &k, &st);
	check_stats(&k, &st);
	FUZZ_CHECK(k.pos == k.max_end);
	FUZZ_CHECK(reasm_pool_available(pool) == budget);
	/* A second flush has nothing left to say. */
	reasm_flush(&s, &ops, &k, &st);
	FUZZ_CHECK(k.pos == k.max_end);
	reasm_pool_destroy(pool);
	return 0;
}
