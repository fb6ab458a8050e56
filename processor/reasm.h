/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP stream reassembly: one in-order byte stream per connection direction,
 * rebuilt from per-segment records that may be lost, duplicated, overlapping,
 * reordered or cut short, with every missing byte reported as an explicit gap.
 *
 * Trust boundary: seq, seg_len and cap_len come from the kernel (or a pcap
 * file). cap_len > seg_len and seg_len > REASM_SEG_MAX are rejected before
 * anything is read; the payload is read only within [payload, payload +
 * cap_len), and only during reasm_push().
 *
 * Output contract (what parsers may rely on): the ops see, in order, data
 * runs and gaps whose lengths add up to the sequence space covered so far.
 * Every data byte sits at its true offset in the stream: bytes from
 * different places are never spliced together, a hole is always reported as
 * a gap of its exact length. Once the stream has moved past a byte (as data
 * or as a gap) it never comes back: a segment entirely before the expected
 * sequence number is a duplicate and dropped, even if it carries bytes that a
 * truncated capture or an abandoned hole missed.
 *
 * Sequence numbers are 32-bit serial numbers (RFC 1982): a segment 1 to
 * 2^31 - 1 bytes past the expected sequence number is ahead, 0 to 2^31
 * before it is behind. So after 2 GiB or more of lost records everything
 * looks old and is dropped as duplicate; a caller that sees only duplicates
 * for long can reasm_discard() the stream to restart it at the next segment.
 *
 * Memory: a stream is a small fixed header (sizeof(struct reasm_stream),
 * about 280 bytes) that callers embed in their per-connection entry. Bytes
 * held out of order are copied into REASM_CHUNK_SIZE chunks borrowed from a
 * struct reasm_pool that the caller creates once with a fixed budget and
 * shares among streams; chunks return to the pool as soon as their bytes are
 * delivered. A stream holds at most REASM_OOO_MAX_SEGS segments and
 * REASM_OOO_MAX_BYTES captured bytes; when a segment does not fit (stream
 * limits or pool exhausted) the stream gives up on its oldest hole (an
 * EVICTED gap) until it fits, or delivers the segment after an EVICTED gap
 * if nothing it holds can make room. reasm_push() never allocates.
 *
 * Neither streams nor pools are thread-safe; callbacks must not call back
 * into the same stream.
 */
#ifndef BPFWARDEN_PROCESSOR_REASM_H
#define BPFWARDEN_PROCESSOR_REASM_H

#include <stddef.h>
#include <stdint.h>

#define REASM_OOO_MAX_SEGS  16           /* out-of-order segments held per stream */
#define REASM_OOO_MAX_BYTES (64 * 1024)  /* captured bytes held out of order per stream */
#define REASM_WINDOW        (1u << 20)   /* further ahead than this: resync, not buffered */
#define REASM_SEG_MAX       REASM_WINDOW /* longest seg_len accepted (GSO, BIG TCP: 512 KiB) */
#define REASM_CHUNK_SIZE    512          /* pool allocation unit for held bytes */
#define REASM_POOL_MAX      (1u << 30)   /* largest pool budget, bytes */

enum reasm_gap_reason {
	REASM_GAP_TRUNCATED, /* the capture kept only the start of a segment */
	REASM_GAP_LOST,      /* never seen: hole at flush, or skipped by a resync */
	REASM_GAP_EVICTED,   /* out-of-order buffer or pool full: gave up waiting */
};

struct reasm_ops {
	/* @len (> 0) contiguous in-order bytes, valid only during the call */
	void (*data)(void *ctx, const uint8_t *p, uint32_t len);
	/* @len (> 0) bytes missing at this point of the stream */
	void (*gap)(void *ctx, uint64_t len, enum reasm_gap_reason why);
};

/* Added to, never reset, by the functions below: one per stream, or shared by many. */
struct reasm_stats {
	uint64_t segments;            /* accepted records with seg_len > 0 */
	uint64_t bytes_delivered;     /* bytes passed to ops->data */
	uint64_t duplicate_bytes;     /* sequence space dropped as already delivered or held */
	uint64_t gap_bytes_truncated; /* sum of REASM_GAP_TRUNCATED gap lengths */
	uint64_t gap_bytes_lost;      /* sum of REASM_GAP_LOST gap lengths */
	uint64_t gap_bytes_evicted;   /* sum of REASM_GAP_EVICTED gap lengths */
	uint64_t gaps;                /* calls to ops->gap */
	uint64_t ooo_buffered;        /* segments copied into the out-of-order buffer */
	uint64_t resyncs;             /* segments more than REASM_WINDOW ahead */
};

struct reasm_pool;

/* One segment held out of order; its captured bytes are a chain of pool chunks. */
struct reasm_held {
	uint32_t seq;
	uint32_t seg_len;
	uint32_t cap_len;
	uint32_t chunk; /* first chunk, REASM_NO_CHUNK when cap_len == 0 */
};

#define REASM_NO_CHUNK UINT32_MAX

/* Fields are private to reasm.c; callers only embed the struct and pass it. */
struct reasm_stream {
	struct reasm_pool *pool;                    /* NULL: nothing is held out of order */
	uint32_t next;                              /* expected sequence number */
	uint32_t held_bytes;                        /* sum of held[].cap_len */
	uint8_t nheld;                              /* held[0..nheld), sorted by seq */
	uint8_t started;                            /* next is set */
	struct reasm_held held[REASM_OOO_MAX_SEGS]; /* all strictly ahead of next */
};

/*
 * Create a pool of @budget bytes (rounded down to whole chunks; REASM_CHUNK_SIZE
 * <= budget <= REASM_POOL_MAX): one allocation, made here. Returns 0, -EINVAL
 * or -ENOMEM.
 */
int reasm_pool_create(struct reasm_pool **out, size_t budget);

/* Free a pool (NULL is fine). Every stream using it must be flushed or discarded first. */
void reasm_pool_destroy(struct reasm_pool *pool);

/* Bytes of free chunks left in @pool. */
size_t reasm_pool_available(const struct reasm_pool *pool);

/* Start a stream (no sequence number yet) that borrows from @pool, which may be NULL. */
void reasm_init(struct reasm_stream *s, struct reasm_pool *pool);

/*
 * Add one segment: @seq is the sequence number of its first payload byte,
 * @seg_len its payload length, @payload its first @cap_len bytes. The first
 * segment with payload sets the stream's start. Delivers through @ops
 * whatever became contiguous; a segment ahead of the expected sequence
 * number is copied and held, up to REASM_WINDOW ahead; beyond that the stream
 * resyncs (holes become LOST gaps, held data is delivered, then a LOST gap up
 * to @seq). seg_len == 0 is ignored. Returns 0, or -EINVAL (stream and stats
 * unchanged) when cap_len > seg_len, seg_len > REASM_SEG_MAX, or a pointer
 * the call needs is NULL.
 */
int reasm_push(struct reasm_stream *s, uint32_t seq, uint32_t seg_len, const uint8_t *payload,
               uint32_t cap_len, const struct reasm_ops *ops, void *ctx, struct reasm_stats *st);

/*
 * Connection closed or idle: every hole becomes a LOST gap and everything held
 * is delivered (@ops and @st as for reasm_push, not NULL). The stream stays
 * usable: later segments continue from where the flush left it.
 */
void reasm_flush(struct reasm_stream *s, const struct reasm_ops *ops, void *ctx,
                 struct reasm_stats *st);

/* Drop everything held without delivering it, return its chunks; the stream starts over. */
void reasm_discard(struct reasm_stream *s);

#endif
