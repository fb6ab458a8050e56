// SPDX-License-Identifier: Apache-2.0
/*
 * BPF ring buffer reader over mmap()ed memory (see ringbuf.h).
 *
 * Trust boundary: consumer_pos, producer_pos and every record header live in
 * memory shared with the kernel, and the fd came from another process. Each
 * value is loaded once into a local, checked against the data size, and only
 * then used as an offset, so a lying position or length yields -EBADMSG
 * rather than a read past the 2 * size bytes of mapped data.
 *
 * Memory ordering pairs with the kernel's bpf_ringbuf_reserve/commit:
 * producer_pos and each header's len are load-acquired (the bytes they
 * publish are then visible), and consumer_pos is store-released once a
 * record's bytes have been read, so the producer never reuses space we are
 * still reading.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "processor/ringbuf.h"

#define RB_BUSY     ((uint32_t)BPF_RINGBUF_BUSY_BIT)
#define RB_DISCARD  ((uint32_t)BPF_RINGBUF_DISCARD_BIT)
#define RB_HDR_SZ   ((uint32_t)BPF_RINGBUF_HDR_SZ)
#define RB_ALIGN    8ul    /* records start on 8-byte boundaries */
#define RB_PAGE_MIN 4096ul /* smallest page size Linux has */

/* The kernel's record header. */
struct rb_hdr {
	uint32_t len;
	uint32_t pg_off;
};
_Static_assert(sizeof(struct rb_hdr) == BPF_RINGBUF_HDR_SZ, "ring buffer header is 8 bytes");

/* One committed record, as checked by read_record(). */
struct rb_rec {
	const uint8_t *payload;
	uint32_t len;
	bool discard;
	unsigned long footprint; /* ring bytes it occupies */
};

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* A size the kernel could have created, small enough to map twice. */
static bool size_ok(uint64_t size, size_t page_size)
{
	return is_pow2(page_size) && page_size >= RB_PAGE_MIN && is_pow2(size) &&
	       size % page_size == 0 && size <= IPC_RINGBUF_MAX;
}

static void reset(struct ringbuf *rb)
{
	memset(rb, 0, sizeof(*rb));
	rb->fd = -1;
}

static void setup(struct ringbuf *rb, void *consumer_page, const void *producer_area, uint64_t size,
                  size_t page_size)
{
	rb->size = size;
	rb->mask = size - 1;
	rb->page_size = page_size;
	rb->consumer_page = consumer_page;
	rb->producer_area = producer_area;
	rb->consumer_pos = consumer_page;
	rb->producer_pos = producer_area;
	rb->data = (const uint8_t *)producer_area + page_size;
	/* The producer is never behind the consumer, so this is a safe floor. */
	rb->prod_seen = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
}

int ringbuf_attach(struct ringbuf *rb, void *consumer_page, const void *producer_area,
                   uint64_t size, size_t page_size)
{
	if (!rb)
		return -EINVAL;
	reset(rb);
	if (!consumer_page || !producer_area || !size_ok(size, page_size))
		return -EINVAL;
	setup(rb, consumer_page, producer_area, size, page_size);
	return 0;
}

int ringbuf_map(struct ringbuf *rb, int fd, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;
	int err;

	if (!rb)
		return -EINVAL;
	reset(rb);
	if (page <= 0 || !size_ok(size, (size_t)page))
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	/* The kernel only lets the consumer page be mapped writable. */
	cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, (size_t)page + 2 * (size_t)size, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	setup(rb, cons, prod, size, (size_t)page);
	rb->fd = fd;
	rb->owned = true;
	return 0;
cleanup:
	munmap(cons, (size_t)page);
	return err;
}

void ringbuf_unmap(struct ringbuf *rb)
{
	if (!rb)
		return;
	if (rb->owned) {
		munmap((void *)rb->producer_area, rb->page_size + 2 * (size_t)rb->size);
		munmap(rb->consumer_page, rb->page_size);
	}
	reset(rb);
}

/*
 * The kernel keeps both positions 8-byte aligned, never moves producer_pos
 * back and never lets it run more than size ahead of consumer_pos. Unsigned
 * differences keep this right when the positions wrap.
 */
static bool positions_ok(const struct ringbuf *rb, unsigned long cons, unsigned long prod)
{
	if ((cons | prod) & (RB_ALIGN - 1))
		return false;
	if ((long)(prod - rb->prod_seen) < 0)
		return false;
	return prod - cons <= rb->size;
}

/*
 * Read the header at @cons: 0 and @rec filled for a committed record,
 * -EAGAIN while it is busy, -EBADMSG if its length would take it past
 * producer_pos (the kernel writes the header before publishing producer_pos,
 * so a committed record always ends at or before it).
 */
static int read_record(const struct ringbuf *rb, unsigned long cons, unsigned long prod,
                       struct rb_rec *rec)
{
	const struct rb_hdr *hdr = (const void *)(rb->data + (cons & rb->mask));
	uint32_t len = __atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE);

	if (len & RB_BUSY)
		return -EAGAIN;
	rec->discard = (len & RB_DISCARD) != 0;
	len &= ~(RB_BUSY | RB_DISCARD);
	if (len > rb->size - RB_HDR_SZ)
		return -EBADMSG;
	rec->footprint = ((unsigned long)len + RB_HDR_SZ + RB_ALIGN - 1) & ~(RB_ALIGN - 1);
	if (rec->footprint > prod - cons)
		return -EBADMSG;
	rec->payload = (const uint8_t *)(hdr + 1);
	rec->len = len;
	return 0;
}

/*
 * Called where the reader would stop (ring empty, or the record at @cons
 * busy). consumer_pos was already stored; the fence orders that store
 * before the loads below, pairing with the full barrier in the kernel's
 * commit, so either we see the new record or the kernel sees our position
 * and wakes the poller. True if there is more to do.
 */
static bool look_again(const struct ringbuf *rb, unsigned long cons, unsigned long *prod)
{
	const struct rb_hdr *hdr;
	unsigned long now;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (cons != *prod) {
		hdr = (const void *)(rb->data + (cons & rb->mask));
		return !(__atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE) & RB_BUSY);
	}
	now = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	if (now == *prod)
		return false;
	*prod = now;
	return true;
}

/* Account for @rec, release its space, and hand it to @fn unless discarded. */
static int take_record(struct ringbuf *rb, const struct rb_rec *rec, unsigned long cons,
                       ringbuf_fn fn, void *ctx)
{
	int ret = 0;

	rb->bytes += rec->footprint;
	if (rec->discard) {
		rb->discarded++;
	} else {
		rb->records++;
		ret = fn(ctx, rec->payload, rec->len);
	}
	/* After fn: the producer may overwrite the record once this lands. */
	__atomic_store_n(rb->consumer_pos, cons + rec->footprint, __ATOMIC_RELEASE);
	return ret;
}

long ringbuf_consume(struct ringbuf *rb, ringbuf_fn fn, void *ctx, long max)
{
	unsigned long cons, prod;
	struct rb_rec rec;
	long n = 0;
	int err;

	if (!rb || !rb->data || !fn)
		return -EINVAL;
	/* Only we store consumer_pos, but it is shared memory: check it too. */
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	while (max <= 0 || n < max) {
		if (!positions_ok(rb, cons, prod))
			return -EBADMSG;
		rb->prod_seen = prod;
		err = cons == prod ? -EAGAIN : read_record(rb, cons, prod, &rec);
		if (err == -EAGAIN) {
			if (!look_again(rb, cons, &prod))
				break;
			continue;
		}
		if (err)
			return err;
		err = take_record(rb, &rec, cons, fn, ctx);
		cons += rec.footprint;
		if (err < 0)
			return err;
		if (!rec.discard)
			n++;
	}
	return n;
}

uint64_t ringbuf_avail(const struct ringbuf *rb)
{
	unsigned long cons, prod;

	if (!rb || !rb->data)
		return 0;
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	if (!positions_ok(rb, cons, prod))
		return 0;
	return prod - cons;
}
