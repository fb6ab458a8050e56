/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) that never calls bpf().
 *
 * The loader hands the processor the map fd and the data size (IPC_FD,
 * IPC_FD_RINGBUF_SECURITY); the processor mmap()s the map itself, laid out
 * as the kernel exposes it:
 *
 *   fd offset 0, one page, read-write:       consumer page, consumer_pos at 0
 *   fd offset page, page + 2 * size, read-only:
 *                                            producer page, producer_pos at 0,
 *                                            then the data area mapped twice
 *                                            back to back, so a record that
 *                                            wraps is contiguous
 *
 * A record is an 8-byte header {u32 len; u32 pg_off} and len payload bytes;
 * it occupies round_up(len + 8, 8) bytes. While the producer writes it, len
 * carries BPF_RINGBUF_BUSY_BIT; a discarded record carries
 * BPF_RINGBUF_DISCARD_BIT.
 *
 * Trust boundary: positions and lengths come from memory the kernel (or
 * whoever else holds the fd) writes. They are checked before any byte is read
 * through them; anything the kernel could not have produced is corruption and
 * reported as -EBADMSG, with nothing read outside the mapping.
 *
 * One reader per ring: the struct is not safe for concurrent use. Callers
 * read the counters (records, discarded, bytes) and fd; map/attach/unmap
 * reset them; the other fields are the reader's own.
 */
#ifndef BPFWARDEN_PROCESSOR_RINGBUF_H
#define BPFWARDEN_PROCESSOR_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ringbuf {
	int fd;                            /* not owned, never closed; -1 if attached */
	uint64_t size;                     /* data area bytes: power of two, page multiple */
	uint64_t mask;                     /* size - 1 */
	size_t page_size;                  /* of the consumer and the producer page */
	void *consumer_page;               /* read-write */
	const void *producer_area;         /* producer page, then the data twice */
	unsigned long *consumer_pos;       /* at consumer_page + 0 */
	const unsigned long *producer_pos; /* at producer_area + 0 */
	const uint8_t *data;               /* producer_area + page_size, 2 * size bytes */
	unsigned long prod_seen;           /* last producer_pos accepted: it never goes back */
	uint64_t records;                  /* records handed to the callback, rejected included */
	uint64_t discarded;                /* discarded records skipped */
	uint64_t bytes;                    /* ring bytes freed: headers, padding, discards */
	bool owned;                        /* the mappings are ours to munmap() */
};

/*
 * Called once per committed, non-discarded record. @rec points into the ring
 * (valid only during the call, read-only, @len bytes, 8-byte aligned). A
 * negative return stops consumption and is returned by ringbuf_consume().
 */
typedef int (*ringbuf_fn)(void *ctx, const void *rec, uint32_t len);

/*
 * Map the ring buffer behind @fd, whose data area is @size bytes (a power of
 * two, a multiple of the page size, 0 < size <= IPC_RINGBUF_MAX). Whatever
 * @rb held before is overwritten: unmap a previous mapping first. Returns 0,
 * -EINVAL (bad size), -EBADF (fd < 0) or the -errno of the failing mmap();
 * on failure nothing stays mapped and @rb is left empty (ringbuf_unmap-safe).
 */
int ringbuf_map(struct ringbuf *rb, int fd, uint64_t size);

/*
 * Like ringbuf_map() over mappings the caller made and keeps owning (tests):
 * @consumer_page (one @page_size page, read-write) and @producer_area
 * (@page_size + 2 * @size bytes laid out as above). Same size checks, and
 * @page_size must be a power of two of at least 4096; -EINVAL on any bad argument.
 */
int ringbuf_attach(struct ringbuf *rb, void *consumer_page, const void *producer_area,
                   uint64_t size, size_t page_size);

/*
 * Hand up to @max committed records to @fn (@max <= 0: all there are),
 * skipping discarded ones, which do not count against @max. Stops at the
 * first record still being written. Returns the number of records handed to
 * @fn, the negative value @fn returned, -EBADMSG (corrupt positions or
 * lengths) or -EINVAL (@rb not mapped, @fn NULL).
 *
 * consumer_pos is release-stored after every record, so the producer gets
 * space back early; a record @fn rejected counts as consumed (it is never
 * offered again: a record that fails once would fail forever and block the
 * ring). On -EBADMSG, consumer_pos stays where the last good record left it.
 *
 * Before reporting the ring empty or the next record busy, the reader issues
 * a full fence and looks once more: the kernel wakes a poller only when it
 * sees consumer_pos equal to the record it commits, and without the fence
 * both sides could miss each other's store and the ring would stall.
 */
long ringbuf_consume(struct ringbuf *rb, ringbuf_fn fn, void *ctx, long max);

/*
 * Bytes reserved by the producer (committed or being written) and not yet
 * consumed; 0 if @rb is not mapped or the positions are inconsistent (the
 * next ringbuf_consume() reports the latter as -EBADMSG).
 */
uint64_t ringbuf_avail(const struct ringbuf *rb);

/*
 * Undo ringbuf_map() (munmap) or ringbuf_attach() (nothing to unmap) and
 * leave @rb empty, counters included. NULL-safe and idempotent; @rb must have
 * been set up by map/attach or zero-initialised.
 */
void ringbuf_unmap(struct ringbuf *rb);

#endif /* BPFWARDEN_PROCESSOR_RINGBUF_H */
