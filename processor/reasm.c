// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "processor/reasm.h"

_Static_assert(REASM_OOO_MAX_SEGS <= UINT8_MAX, "nheld is a uint8_t");
_Static_assert(REASM_OOO_MAX_BYTES <= UINT32_MAX - REASM_SEG_MAX, "held_bytes + cap_len fits");
_Static_assert(REASM_WINDOW + REASM_SEG_MAX < (1u << 31), "held segments stay comparable");
_Static_assert(REASM_POOL_MAX / REASM_CHUNK_SIZE < REASM_NO_CHUNK, "chunk indexes fit");

/*
 * Free chunks form a singly linked list through link[]; so do the chunks of
 * one held segment. data holds nchunks * REASM_CHUNK_SIZE bytes. Everything
 * lives in the one allocation made by reasm_pool_create().
 */
struct reasm_pool {
	uint32_t nchunks;
	uint32_t nfree;
	uint32_t free_head;
	uint32_t *link;
	uint8_t *data;
};

/* Where a segment's captured bytes are: the caller's buffer, or a held chain. */
struct src {
	const uint8_t *flat;
	const struct reasm_pool *pool;
	uint32_t chunk;
};

/* Where results go; st is never NULL here. */
struct out {
	const struct reasm_ops *ops;
	void *ctx;
	struct reasm_stats *st;
};

/* a - b as a serial-number distance in [-2^31, 2^31). */
static int64_t seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000ll;
}

static uint32_t chunks_for(uint32_t bytes)
{
	return (bytes + REASM_CHUNK_SIZE - 1) / REASM_CHUNK_SIZE;
}

int reasm_pool_create(struct reasm_pool **out, size_t budget)
{
	struct reasm_pool *p;
	size_t n;

	if (!out || budget < REASM_CHUNK_SIZE || budget > REASM_POOL_MAX)
		return -EINVAL;
	n = budget / REASM_CHUNK_SIZE;
	p = malloc(sizeof(*p) + n * sizeof(uint32_t) + n * REASM_CHUNK_SIZE);
	if (!p)
		return -ENOMEM;
	p->nchunks = p->nfree = (uint32_t)n;
	p->link = (uint32_t *)(p + 1);
	p->data = (uint8_t *)(p->link + n);
	for (uint32_t i = 0; i < p->nchunks; i++)
		p->link[i] = i + 1 < p->nchunks ? i + 1 : REASM_NO_CHUNK;
	p->free_head = 0;
	*out = p;
	return 0;
}

void reasm_pool_destroy(struct reasm_pool *pool)
{
	free(pool);
}

size_t reasm_pool_available(const struct reasm_pool *pool)
{
	return pool ? (size_t)pool->nfree * REASM_CHUNK_SIZE : 0;
}

/* Copy @len bytes into a fresh chain; the caller checked that enough chunks are free. */
static uint32_t pool_store(struct reasm_pool *p, const uint8_t *from, uint32_t len)
{
	uint32_t head = REASM_NO_CHUNK, *tail = &head;

	for (uint32_t done = 0; done < len; done += REASM_CHUNK_SIZE) {
		uint32_t c = p->free_head, n = len - done;

		p->free_head = p->link[c];
		p->nfree--;
		memcpy(p->data + (size_t)c * REASM_CHUNK_SIZE, from + done,
		       n < REASM_CHUNK_SIZE ? n : REASM_CHUNK_SIZE);
		*tail = c;
		tail = &p->link[c];
	}
	*tail = REASM_NO_CHUNK;
	return head;
}

static void pool_release(struct reasm_pool *p, uint32_t chain)
{
	while (chain != REASM_NO_CHUNK) {
		uint32_t c = chain;

		chain = p->link[c];
		p->link[c] = p->free_head;
		p->free_head = c;
		p->nfree++;
	}
}

void reasm_init(struct reasm_stream *s, struct reasm_pool *pool)
{
	memset(s, 0, sizeof(*s));
	s->pool = pool;
}

void reasm_discard(struct reasm_stream *s)
{
	for (unsigned i = 0; s->pool && i < s->nheld; i++)
		pool_release(s->pool, s->held[i].chunk);
	reasm_init(s, s->pool);
}

static void emit_gap(const struct out *o, uint64_t len, enum reasm_gap_reason why)
{
	if (len == 0)
		return;
	o->st->gaps++;
	if (why == REASM_GAP_TRUNCATED)
		o->st->gap_bytes_truncated += len;
	else if (why == REASM_GAP_LOST)
		o->st->gap_bytes_lost += len;
	else
		o->st->gap_bytes_evicted += len;
	o->ops->gap(o->ctx, len, why);
}

static void emit_data(const struct out *o, const uint8_t *p, uint32_t len)
{
	o->st->bytes_delivered += len;
	o->ops->data(o->ctx, p, len);
}

/* Deliver captured bytes [from, to) of @src, chunk by chunk if it is held. */
static void emit_bytes(const struct src *src, uint32_t from, uint32_t to, const struct out *o)
{
	uint32_t c = src->chunk, base = 0;

	if (src->flat) {
		emit_data(o, src->flat + from, to - from);
		return;
	}
	for (; from < to; c = src->pool->link[c], base += REASM_CHUNK_SIZE) {
		uint32_t end = base + REASM_CHUNK_SIZE < to ? base + REASM_CHUNK_SIZE : to;

		if (from >= end)
			continue;
		emit_data(o, src->pool->data + (size_t)c * REASM_CHUNK_SIZE + (from - base),
		          end - from);
		from = end;
	}
}

/*
 * Consume a segment that starts at or before s->next: the part already
 * delivered is a duplicate, the rest is delivered as data then a TRUNCATED
 * gap for what the capture cut off, and next moves past the whole segment.
 */
static void take(struct reasm_stream *s, const struct reasm_held *g, const struct src *src,
                 const struct out *o)
{
	int64_t behind = -seq_diff(g->seq, s->next);
	uint32_t skip, kept;

	if (behind >= (int64_t)g->seg_len) {
		o->st->duplicate_bytes += g->seg_len;
		return;
	}
	skip = (uint32_t)behind;
	o->st->duplicate_bytes += skip;
	if (skip < g->cap_len)
		emit_bytes(src, skip, g->cap_len, o);
	kept = skip > g->cap_len ? skip : g->cap_len;
	emit_gap(o, g->seg_len - kept, REASM_GAP_TRUNCATED);
	s->next = g->seq + g->seg_len;
}

/* Remove held[0], returning its chunks. */
static void pop_first(struct reasm_stream *s)
{
	if (s->pool)
		pool_release(s->pool, s->held[0].chunk);
	s->held_bytes -= s->held[0].cap_len;
	s->nheld--;
	memmove(&s->held[0], &s->held[1], s->nheld * sizeof(s->held[0]));
}

/* Deliver held segments while they start at or before next. */
static void drain(struct reasm_stream *s, const struct out *o)
{
	while (s->nheld > 0 && seq_diff(s->held[0].seq, s->next) <= 0) {
		struct src src = { .pool = s->pool, .chunk = s->held[0].chunk };

		take(s, &s->held[0], &src, o);
		pop_first(s);
	}
}

/* Give up on the oldest hole (held[0] is strictly ahead of next), then deliver what follows. */
static void skip_hole(struct reasm_stream *s, enum reasm_gap_reason why, const struct out *o)
{
	emit_gap(o, (uint64_t)seq_diff(s->held[0].seq, s->next), why);
	s->next = s->held[0].seq;
	drain(s, o);
}

/* Is [seq, seq + seg_len) inside a held segment? */
static bool held_covers(const struct reasm_stream *s, const struct reasm_held *g)
{
	for (unsigned i = 0; i < s->nheld; i++) {
		int64_t off = seq_diff(g->seq, s->held[i].seq);

		if (off >= 0 && off + g->seg_len <= s->held[i].seg_len)
			return true;
	}
	return false;
}

static bool fits(const struct reasm_stream *s, const struct reasm_held *g)
{
	return s->pool && s->nheld < REASM_OOO_MAX_SEGS &&
	       s->held_bytes + g->cap_len <= REASM_OOO_MAX_BYTES &&
	       s->pool->nfree >= chunks_for(g->cap_len);
}

/* Copy @g into the sorted held list; fits() said there is room. */
static void hold(struct reasm_stream *s, struct reasm_held g, const uint8_t *payload,
                 const struct out *o)
{
	unsigned i = s->nheld;

	while (i > 0 && seq_diff(s->held[i - 1].seq, g.seq) > 0)
		i--;
	memmove(&s->held[i + 1], &s->held[i], (s->nheld - i) * sizeof(s->held[0]));
	g.chunk = pool_store(s->pool, payload, g.cap_len);
	s->held[i] = g;
	s->nheld++;
	s->held_bytes += g.cap_len;
	o->st->ooo_buffered++;
}

/*
 * A segment ahead of next within the window: hold it, giving up on the
 * oldest holes while it does not fit. Each round either returns or moves
 * next forward past at least one held segment, so it ends.
 */
static void hold_or_evict(struct reasm_stream *s, const struct reasm_held *g,
                          const uint8_t *payload, const struct out *o)
{
	struct src src = { .flat = payload };

	if (held_covers(s, g)) {
		o->st->duplicate_bytes += g->seg_len;
		return;
	}
	for (;;) {
		int64_t ahead = seq_diff(g->seq, s->next);

		if (ahead <= 0) {
			take(s, g, &src, o);
			drain(s, o);
			return;
		}
		if (fits(s, g)) {
			hold(s, *g, payload, o);
			return;
		}
		if (s->nheld == 0) {
			emit_gap(o, (uint64_t)ahead, REASM_GAP_EVICTED);
			s->next = g->seq;
			continue;
		}
		skip_hole(s, REASM_GAP_EVICTED, o);
	}
}

static void flush_holes(struct reasm_stream *s, const struct out *o)
{
	while (s->nheld > 0)
		skip_hole(s, REASM_GAP_LOST, o);
}

/*
 * So far ahead that waiting makes no sense (a burst of lost records): deliver
 * what is held, then declare everything up to @seq lost.
 */
static void resync(struct reasm_stream *s, uint32_t seq, const struct out *o)
{
	int64_t ahead;

	o->st->resyncs++;
	flush_holes(s, o);
	ahead = seq_diff(seq, s->next);
	if (ahead > 0) {
		emit_gap(o, (uint64_t)ahead, REASM_GAP_LOST);
		s->next = seq;
	}
}

int reasm_push(struct reasm_stream *s, uint32_t seq, uint32_t seg_len, const uint8_t *payload,
               uint32_t cap_len, const struct reasm_ops *ops, void *ctx, struct reasm_stats *st)
{
	const struct reasm_held g = { .seq = seq, .seg_len = seg_len, .cap_len = cap_len };
	const struct out o = { .ops = ops, .ctx = ctx, .st = st };
	const struct src src = { .flat = payload };

	if (!s || !ops || !st || cap_len > seg_len || seg_len > REASM_SEG_MAX ||
	    (!payload && cap_len > 0))
		return -EINVAL;
	if (seg_len == 0)
		return 0;
	st->segments++;
	if (!s->started) {
		s->started = 1;
		s->next = seq;
	}
	if (seq_diff(seq, s->next) > (int64_t)REASM_WINDOW)
		resync(s, seq, &o);
	if (seq_diff(seq, s->next) > 0) {
		hold_or_evict(s, &g, payload, &o);
		return 0;
	}
	take(s, &g, &src, &o);
	drain(s, &o);
	return 0;
}

void reasm_flush(struct reasm_stream *s, const struct reasm_ops *ops, void *ctx,
                 struct reasm_stats *st)
{
	const struct out o = { .ops = ops, .ctx = ctx, .st = st };

	flush_holes(s, &o);
}
