// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/ringbuf.c.
 *
 * Most cases run against a synthetic ring laid out exactly like the kernel's:
 * a memfd holding the consumer page, the producer page and the data area,
 * with the data area mapped twice back to back (so a wrapping record is
 * contiguous) and followed by a PROT_NONE guard page, so a reader that trusts
 * a bad length faults instead of silently reading on. The reader gets the
 * same protections as from the kernel (producer side read-only); a tiny
 * producer writes through its own linear read-write view of the memfd,
 * publishing headers and producer_pos with release stores.
 *
 * One case creates a real BPF ring buffer with bpf(BPF_MAP_CREATE): the test
 * may call bpf(), the processor never does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "processor/ringbuf.h"

#define SZ           65536ul /* synthetic data area: a multiple of 4K, 16K and 64K pages */
#define HDR          ((unsigned long)BPF_RINGBUF_HDR_SZ)
#define BUSY         ((uint32_t)BPF_RINGBUF_BUSY_BIT)
#define DISCARD      ((uint32_t)BPF_RINGBUF_DISCARD_BIT)
#define MAX_RECS     1024 /* records one case may reserve */
#define MAX_STEPS    16
#define KERNEL_PAGES 4 /* data pages of the real BPF ring buffer */

static size_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	ck_assert_int_gt(page, 0);
	return (size_t)page;
}

static unsigned long footprint(uint32_t len)
{
	return (len + HDR + 7) & ~7ul;
}

/* Payload byte @i of a record of @len bytes: a wrong length or offset shows. */
static uint8_t pattern(uint32_t len, uint32_t i)
{
	return (uint8_t)(len * 7u + i * 31u + 1u);
}

/* Lines of /proc/self/maps naming @what: to prove nothing stayed mapped. */
static int count_maps(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* ---- the synthetic ring and its producer ---- */

struct fake {
	size_t page;
	int memfd;
	uint8_t *lin;    /* producer's view: consumer page, producer page, data */
	void *cons_page; /* reader's consumer page, read-write */
	uint8_t *area;   /* reader's producer page + data twice + guard */
	size_t area_len;
	unsigned long prod; /* producer's own position */
	unsigned long pos[MAX_RECS];
	uint32_t lens[MAX_RECS];
	int nrec;
};

static unsigned long *fake_cons(struct fake *f)
{
	return (unsigned long *)f->lin;
}

static unsigned long *fake_prod(struct fake *f)
{
	return (unsigned long *)(f->lin + f->page);
}

static uint8_t *fake_data(struct fake *f)
{
	return f->lin + 2 * f->page;
}

static uint32_t *fake_hdr(struct fake *f, unsigned long pos)
{
	return (uint32_t *)(fake_data(f) + (pos & (SZ - 1)));
}

static void map_fixed(void *at, size_t len, int fd, off_t off)
{
	void *p = mmap(at, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, off);

	ck_assert_ptr_eq(p, at);
}

static void fake_setup(struct fake *f, unsigned long start)
{
	size_t pg = page_size();

	memset(f, 0, sizeof(*f));
	f->page = pg;
	f->memfd = memfd_create("rbtest", MFD_CLOEXEC);
	ck_assert_int_ge(f->memfd, 0);
	ck_assert_int_eq(ftruncate(f->memfd, (off_t)(2 * pg + SZ)), 0);
	f->lin = mmap(NULL, 2 * pg + SZ, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	ck_assert_ptr_ne(f->lin, MAP_FAILED);
	f->cons_page = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	ck_assert_ptr_ne(f->cons_page, MAP_FAILED);
	/* Reserve producer page + 2 * SZ + guard, then fill all but the guard. */
	f->area_len = pg + 2 * SZ + pg;
	f->area = mmap(NULL, f->area_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(f->area, MAP_FAILED);
	map_fixed(f->area, pg, f->memfd, (off_t)pg);
	map_fixed(f->area + pg, SZ, f->memfd, (off_t)(2 * pg));
	map_fixed(f->area + pg + SZ, SZ, f->memfd, (off_t)(2 * pg));
	f->prod = start;
	*fake_cons(f) = start;
	*fake_prod(f) = start;
}

static void fake_teardown(struct fake *f)
{
	munmap(f->area, f->area_len);
	munmap(f->cons_page, f->page);
	munmap(f->lin, 2 * f->page + SZ);
	close(f->memfd);
}

/* bpf_ringbuf_reserve(): header marked busy, payload written, then published. */
static void fake_reserve(struct fake *f, uint32_t len)
{
	unsigned long cons = __atomic_load_n(fake_cons(f), __ATOMIC_ACQUIRE);
	uint32_t *hdr = fake_hdr(f, f->prod);
	uint32_t i;

	ck_assert_uint_le(f->prod + footprint(len) - cons, SZ);
	ck_assert_int_lt(f->nrec, MAX_RECS);
	hdr[1] = (uint32_t)((f->prod & (SZ - 1)) / f->page);
	for (i = 0; i < len; i++)
		fake_data(f)[(f->prod + HDR + i) & (SZ - 1)] = pattern(len, i);
	__atomic_store_n(&hdr[0], len | BUSY, __ATOMIC_RELAXED);
	f->pos[f->nrec] = f->prod;
	f->lens[f->nrec++] = len;
	f->prod += footprint(len);
	__atomic_store_n(fake_prod(f), f->prod, __ATOMIC_RELEASE);
}

/* bpf_ringbuf_submit()/discard(): rewrite len of record @idx with @flags. */
static void fake_commit(struct fake *f, unsigned long idx, uint32_t flags)
{
	ck_assert_uint_lt(idx, (unsigned long)f->nrec);
	__atomic_store_n(fake_hdr(f, f->pos[idx]), f->lens[idx] | flags, __ATOMIC_RELEASE);
}

/* ---- the reader's callback ---- */

struct sink {
	const struct ringbuf *rb;
	int calls;
	int fail_at;    /* return -EIO on this call (1-based); 0: never */
	struct fake *f; /* the producer, for push_at */
	int push_at;    /* produce a record during this call; 0: never */
};

#define PUSH_IN_CB 50 /* bytes of the record produced during a callback */

static int sink_fn(void *ctx, const void *rec, uint32_t len)
{
	struct sink *s = ctx;
	const uint8_t *p = rec;
	uint32_t i;

	ck_assert(p >= s->rb->data && p + len <= s->rb->data + 2 * s->rb->size);
	/* Every earlier record was released before this one is handed over. */
	ck_assert_uint_eq(__atomic_load_n(s->rb->consumer_pos, __ATOMIC_ACQUIRE) & s->rb->mask,
	                  (unsigned long)(p - BPF_RINGBUF_HDR_SZ - s->rb->data) & s->rb->mask);
	for (i = 0; i < len && p[i] == pattern(len, i); i++)
		;
	ck_assert_msg(i == len, "record of %u bytes differs at byte %u", len, i);
	if (++s->calls == s->push_at) {
		fake_reserve(s->f, PUSH_IN_CB);
		fake_commit(s->f, (unsigned long)s->f->nrec - 1, 0);
	}
	return s->calls == s->fail_at ? -EIO : 0;
}

/* ---- table-driven cases ---- */

enum op {
	OP_END,
	OP_PUSH,         /* reserve and commit a record of arg bytes */
	OP_PUSH_N,       /* arg records of assorted lengths */
	OP_RESERVE,      /* reserve arg bytes, leave busy */
	OP_COMMIT,       /* commit record number arg */
	OP_DISCARD,      /* discard record number arg */
	OP_BUSY_DISCARD, /* set the discard bit of arg, leave it busy */
	OP_RAW,          /* header value arg at the producer's position, unpublished */
	OP_SET_PROD,     /* producer_pos = arg */
	OP_SET_CONS,     /* consumer_pos = arg */
	OP_AVAIL,        /* ringbuf_avail() == want */
	OP_CONSUME,      /* ringbuf_consume(max arg) == want, then consumer_pos */
};

enum where {
	AT_POS,  /* consumer_pos == cons */
	AT_REC,  /* consumer_pos == start of record number cons */
	AT_PROD, /* consumer_pos == the producer's position */
};

struct step {
	enum op op;
	unsigned long arg;
	long want;
	enum where where;
	unsigned long cons;
};

struct rb_case {
	const char *name;
	unsigned long start; /* both positions before the reader attaches */
	int fail_at;         /* see struct sink */
	int push_at;         /* see struct sink */
	uint64_t records;    /* counters at the end */
	uint64_t discarded;
	struct step steps[MAX_STEPS];
};

/* Steps, one per line (clang-format would spread each over four). */
/* clang-format off */
#define PUSH(n)                {OP_PUSH, (n), 0, AT_POS, 0}
#define PUSH_N(n)              {OP_PUSH_N, (n), 0, AT_POS, 0}
#define RESERVE(n)             {OP_RESERVE, (n), 0, AT_POS, 0}
#define COMMIT(i)              {OP_COMMIT, (i), 0, AT_POS, 0}
#define DROP(i)                {OP_DISCARD, (i), 0, AT_POS, 0}
#define BUSY_DROP(i)           {OP_BUSY_DISCARD, (i), 0, AT_POS, 0}
#define RAW(v)                 {OP_RAW, (v), 0, AT_POS, 0}
#define SET_PROD(p)            {OP_SET_PROD, (p), 0, AT_POS, 0}
#define SET_CONS(p)            {OP_SET_CONS, (p), 0, AT_POS, 0}
#define AVAIL(n)               {OP_AVAIL, 0, (n), AT_POS, 0}
#define CONSUME(max, w, c)     {OP_CONSUME, (max), (w), AT_POS, (c)}
#define CONSUME_REC(max, w, i) {OP_CONSUME, (max), (w), AT_REC, (i)}
#define CONSUME_ALL(max, w)    {OP_CONSUME, (max), (w), AT_PROD, 0}
/* clang-format on */

/* Each success case is followed by its truncated or malformed twins. */
static const struct rb_case cases[] = {
	{
	        .name = "single record",
	        .records = 1,
	        .steps = { PUSH(10), AVAIL(24), CONSUME(0, 1, 24), AVAIL(0), CONSUME(0, 0, 24) },
	},
	{
	        .name = "single record, not yet committed",
	        .steps = { RESERVE(10), AVAIL(24), CONSUME(0, 0, 0), CONSUME(0, 0, 0) },
	},
	{
	        .name = "single record, len past producer_pos",
	        .steps = { RAW(100), SET_PROD(24), CONSUME(0, -EBADMSG, 0), AVAIL(24) },
	},
	{
	        .name = "empty record",
	        .records = 1,
	        .steps = { PUSH(0), CONSUME(0, 1, 8) },
	},
	{
	        .name = "empty record, producer_pos inside its header",
	        .steps = { RAW(0), SET_PROD(4), CONSUME(0, -EBADMSG, 0), AVAIL(0) },
	},
	{
	        .name = "many records, three times round the ring",
	        .records = 800,
	        .steps = { PUSH_N(200), CONSUME_ALL(0, 200), PUSH_N(300), CONSUME_ALL(-1, 300),
	                   PUSH_N(300), CONSUME_ALL(0, 300), AVAIL(0) },
	},
	{
	        .name = "many records, one in the middle not committed",
	        .records = 56,
	        .steps = { PUSH_N(50), RESERVE(30), PUSH_N(5), CONSUME_REC(0, 50, 50),
	                   CONSUME_REC(0, 0, 50), COMMIT(50), CONSUME_ALL(0, 6) },
	},
	{
	        .name = "record wraps round the end of the data area",
	        .start = SZ - 24,
	        .records = 1,
	        .steps = { PUSH(100), AVAIL(112), CONSUME(0, 1, SZ + 88), AVAIL(0) },
	},
	{
	        .name = "header in the last slot, payload at the start",
	        .start = SZ - 8,
	        .records = 1,
	        .steps = { PUSH(40), CONSUME(0, 1, SZ + 40) },
	},
	{
	        .name = "wrapping record, len past producer_pos",
	        .start = SZ - 24,
	        .steps = { RAW(100), SET_PROD(SZ + 40), CONSUME(0, -EBADMSG, SZ - 24) },
	},
	{
	        .name = "positions wrap past 2^64",
	        .start = ULONG_MAX - 15,
	        .records = 1,
	        .steps = { PUSH(20), AVAIL(32), CONSUME(0, 1, 16) },
	},
	{
	        .name = "largest record, size - 8 bytes",
	        .records = 1,
	        .steps = { PUSH(SZ - 8), AVAIL(SZ), CONSUME(0, 1, SZ) },
	},
	{
	        .name = "record of size - 7 bytes",
	        .steps = { RAW(SZ - 7), SET_PROD(SZ), CONSUME(0, -EBADMSG, 0) },
	},
	{
	        .name = "len far beyond the data area, no read past it",
	        .start = SZ - 8,
	        .steps = { RAW(~(BUSY | DISCARD)), SET_PROD(SZ + 56), CONSUME(0, -EBADMSG, SZ - 8),
	                   AVAIL(64) },
	},
	{
	        .name = "discarded record skipped but consumed",
	        .records = 2,
	        .discarded = 1,
	        .steps = { PUSH(10), RESERVE(20), DROP(1), PUSH(30), AVAIL(96), CONSUME(0, 2, 96),
	                   AVAIL(0) },
	},
	{
	        .name = "discarded record still busy stops consumption",
	        .records = 2,
	        .discarded = 1,
	        .steps = { PUSH(10), RESERVE(20), BUSY_DROP(1), PUSH(30), CONSUME(0, 1, 24),
	                   DROP(1), CONSUME(0, 1, 96) },
	},
	{
	        .name = "discarded record with a corrupt len",
	        .steps = { RAW(DISCARD | SZ), SET_PROD(64), CONSUME(0, -EBADMSG, 0) },
	},
	{
	        .name = "busy record stops consumption until committed",
	        .records = 3,
	        .steps = { PUSH(10), RESERVE(20), PUSH(30), CONSUME(0, 1, 24), AVAIL(72),
	                   CONSUME(0, 0, 24), COMMIT(1), CONSUME(0, 2, 96) },
	},
	{
	        .name = "record produced during the callback is consumed too",
	        .push_at = 1,
	        .records = 2,
	        .steps = { PUSH(10), CONSUME_ALL(0, 2), AVAIL(0) },
	},
	{
	        .name = "record produced during the callback, max reached first",
	        .push_at = 1,
	        .records = 2,
	        .steps = { PUSH(10), CONSUME(1, 1, 24), AVAIL(64), CONSUME_ALL(0, 1) },
	},
	{
	        .name = "max limits the records delivered",
	        .records = 5,
	        .steps = { PUSH_N(5), CONSUME_REC(2, 2, 2), CONSUME_REC(2, 2, 4),
	                   CONSUME_ALL(-1, 1), CONSUME_ALL(1, 0) },
	},
	{
	        .name = "max does not count discarded records",
	        .records = 2,
	        .discarded = 1,
	        .steps = { PUSH(10), RESERVE(10), DROP(1), PUSH(10), CONSUME(1, 1, 24),
	                   CONSUME(1, 1, 72) },
	},
	{
	        .name = "callback error stops consumption and is returned",
	        .fail_at = 2,
	        .records = 3,
	        .steps = { PUSH_N(3), CONSUME_REC(0, -EIO, 2), CONSUME_ALL(0, 1) },
	},
	{
	        .name = "callback error on the only record consumes it",
	        .fail_at = 1,
	        .records = 1,
	        .steps = { PUSH(10), CONSUME(0, -EIO, 24), CONSUME(0, 0, 24) },
	},
	{
	        .name = "producer_pos exactly size ahead",
	        .records = 2,
	        .steps = { PUSH(SZ / 2 - 8), PUSH(SZ / 2 - 8), AVAIL(SZ), CONSUME(0, 2, SZ) },
	},
	{
	        .name = "producer_pos more than size ahead",
	        .steps = { PUSH(10), SET_PROD(SZ + 8), AVAIL(0), CONSUME(0, -EBADMSG, 0) },
	},
	{
	        .name = "producer_pos behind consumer_pos",
	        .start = 64,
	        .steps = { SET_PROD(32), AVAIL(0), CONSUME(0, -EBADMSG, 64) },
	},
	{
	        .name = "producer_pos moved backwards",
	        .records = 2,
	        .steps = { PUSH(10), PUSH(10), CONSUME(1, 1, 24), SET_PROD(24),
	                   CONSUME(0, -EBADMSG, 24), SET_PROD(48), CONSUME(0, 1, 48) },
	},
	{
	        .name = "producer_pos not 8-byte aligned",
	        .steps = { PUSH(10), SET_PROD(20), AVAIL(0), CONSUME(0, -EBADMSG, 0) },
	},
	{
	        .name = "consumer_pos not 8-byte aligned",
	        .steps = { PUSH(10), SET_CONS(4), CONSUME(0, -EBADMSG, 4) },
	},
};

static void push_n(struct fake *f, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		fake_reserve(f, (uint32_t)((f->nrec * 37u + 3u) % 300u));
		fake_commit(f, (unsigned long)f->nrec - 1, 0);
	}
}

static unsigned long expected_cons(const struct fake *f, const struct step *s)
{
	switch (s->where) {
	case AT_REC:
		ck_assert_uint_le(s->cons, (unsigned long)f->nrec);
		return s->cons == (unsigned long)f->nrec ? f->prod : f->pos[s->cons];
	case AT_PROD:
		return f->prod;
	case AT_POS:
		break;
	}
	return s->cons;
}

static void run_consume(struct fake *f, struct ringbuf *rb, struct sink *sink, const struct step *s,
                        uint64_t *freed)
{
	unsigned long before = *fake_cons(f);
	long got = ringbuf_consume(rb, sink_fn, sink, (long)s->arg);
	unsigned long after = __atomic_load_n(fake_cons(f), __ATOMIC_ACQUIRE);

	ck_assert_int_eq(got, s->want);
	ck_assert_uint_eq(after, expected_cons(f, s));
	*freed += after - before;
}

static void run_step(struct fake *f, struct ringbuf *rb, struct sink *sink, const struct step *s,
                     uint64_t *freed)
{
	switch (s->op) {
	case OP_PUSH:
		fake_reserve(f, (uint32_t)s->arg);
		fake_commit(f, (unsigned long)f->nrec - 1, 0);
		break;
	case OP_PUSH_N:
		push_n(f, s->arg);
		break;
	case OP_RESERVE:
		fake_reserve(f, (uint32_t)s->arg);
		break;
	case OP_COMMIT:
		fake_commit(f, s->arg, 0);
		break;
	case OP_DISCARD:
		fake_commit(f, s->arg, DISCARD);
		break;
	case OP_BUSY_DISCARD:
		fake_commit(f, s->arg, BUSY | DISCARD);
		break;
	case OP_RAW:
		__atomic_store_n(fake_hdr(f, f->prod), (uint32_t)s->arg, __ATOMIC_RELEASE);
		break;
	case OP_SET_PROD:
		f->prod = s->arg;
		__atomic_store_n(fake_prod(f), s->arg, __ATOMIC_RELEASE);
		break;
	case OP_SET_CONS:
		*fake_cons(f) = s->arg;
		break;
	case OP_AVAIL:
		ck_assert_uint_eq(ringbuf_avail(rb), (uint64_t)s->want);
		break;
	case OP_CONSUME:
		run_consume(f, rb, sink, s, freed);
		break;
	case OP_END:
		break;
	}
}

START_TEST(test_case)
{
	const struct rb_case *c = &cases[_i];
	struct fake f;
	struct ringbuf rb;
	struct sink sink = { &rb, 0, c->fail_at, &f, c->push_at };
	uint64_t freed = 0;
	int i;

	fake_setup(&f, c->start);
	ck_assert_int_eq(ringbuf_attach(&rb, f.cons_page, f.area, SZ, f.page), 0);
	for (i = 0; i < MAX_STEPS && c->steps[i].op != OP_END; i++)
		run_step(&f, &rb, &sink, &c->steps[i], &freed);
	ck_assert_msg(rb.records == c->records, "%s: %llu records", c->name,
	              (unsigned long long)rb.records);
	ck_assert_uint_eq(rb.discarded, c->discarded);
	ck_assert_uint_eq(rb.bytes, freed);
	ringbuf_unmap(&rb);
	/* Attached mappings belong to the caller: still there. */
	ck_assert_uint_eq(*(volatile unsigned long *)f.area, f.prod);
	fake_teardown(&f);
}
END_TEST

/* ---- size validation ---- */

struct size_case {
	uint64_t size;
	size_t page; /* 0: the real page size */
	int want;
};

#define PG 0 /* placeholder for the real page size in sizes below */

static const struct size_case size_cases[] = {
	{ SZ, PG, 0 },
	{ 0, PG, -EINVAL },
	{ 3 * SZ, PG, -EINVAL },
	{ (uint64_t)IPC_RINGBUF_MAX, PG, 0 },
	{ (uint64_t)IPC_RINGBUF_MAX * 2, PG, -EINVAL },
	{ 1ull << 63, PG, -EINVAL },
	{ UINT64_MAX, PG, -EINVAL },
	{ SZ, SZ, 0 },
	{ SZ, 2 * SZ, -EINVAL },
	{ SZ, 3000, -EINVAL },
	{ SZ, 8, -EINVAL },
};

START_TEST(test_attach_size)
{
	const struct size_case *c = &size_cases[_i];
	struct fake f;
	struct ringbuf rb;
	struct sink sink = { &rb, 0, 0, NULL, 0 };

	fake_setup(&f, 0);
	ck_assert_int_eq(
	        ringbuf_attach(&rb, f.cons_page, f.area, c->size, c->page ? c->page : f.page),
	        c->want);
	if (c->want < 0) {
		ck_assert_ptr_null(rb.data);
		ck_assert_int_eq(ringbuf_consume(&rb, sink_fn, &sink, 0), -EINVAL);
		ck_assert_uint_eq(ringbuf_avail(&rb), 0);
	}
	ringbuf_unmap(&rb);
	fake_teardown(&f);
}
END_TEST

/* Sizes that pass for the real page size, but not a page multiple. */
START_TEST(test_attach_sub_page)
{
	struct fake f;
	struct ringbuf rb;

	fake_setup(&f, 0);
	ck_assert_int_eq(ringbuf_attach(&rb, f.cons_page, f.area, f.page / 2, f.page), -EINVAL);
	ck_assert_int_eq(ringbuf_attach(&rb, f.cons_page, f.area, f.page, f.page), 0);
	ck_assert_int_eq(ringbuf_attach(&rb, f.cons_page, f.area, f.page, 0), -EINVAL);
	ck_assert_int_eq(ringbuf_attach(&rb, NULL, f.area, f.page, f.page), -EINVAL);
	ck_assert_int_eq(ringbuf_attach(&rb, f.cons_page, NULL, f.page, f.page), -EINVAL);
	ck_assert_int_eq(ringbuf_attach(NULL, f.cons_page, f.area, f.page, f.page), -EINVAL);
	fake_teardown(&f);
}
END_TEST

/* ringbuf_map() on a memfd (mmappable, so the sizes decide) and bad sizes. */
START_TEST(test_map_size)
{
	const struct size_case *c = &size_cases[_i];
	struct ringbuf rb;
	int before = count_maps("rbmapsize");
	int fd;

	if (c->page != PG)
		return; /* ringbuf_map() always uses the real page size */
	fd = memfd_create("rbmapsize", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	/* Only the consumer page is read at map time; the rest stays untouched. */
	ck_assert_int_eq(ftruncate(fd, (off_t)page_size()), 0);
	ck_assert_int_eq(ringbuf_map(&rb, fd, c->size), c->want);
	if (c->want == 0) {
		ck_assert_int_eq(rb.fd, fd);
		ck_assert_int_eq(count_maps("rbmapsize"), before + 2);
	} else {
		ck_assert_ptr_null(rb.data);
		ck_assert_int_eq(rb.fd, -1);
	}
	ringbuf_unmap(&rb);
	ringbuf_unmap(&rb);
	ck_assert_int_eq(count_maps("rbmapsize"), before);
	close(fd);
}
END_TEST

START_TEST(test_map_sub_page)
{
	struct ringbuf rb;
	int fd = memfd_create("rbmapsize", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ringbuf_map(&rb, fd, page_size() / 2), -EINVAL);
	ck_assert_int_eq(ringbuf_map(NULL, fd, page_size()), -EINVAL);
	ck_assert_int_eq(ringbuf_map(&rb, -1, page_size()), -EBADF);
	ck_assert_int_eq(count_maps("rbmapsize"), 0);
	close(fd);
}
END_TEST

/* ---- fds that are not ring buffers ---- */

enum bad_fd { BAD_DEVNULL, BAD_PIPE, BAD_READONLY, BAD_NFDS };

/* How each kind shows in /proc/self/maps, had anything been mapped. */
static const char *const bad_fd_maps[BAD_NFDS] = { "/dev/null", "pipe:", "rbbadfd" };

static int open_bad_fd(enum bad_fd kind, int *extra)
{
	int p[2];
	int memfd;
	char path[64];

	*extra = -1;
	switch (kind) {
	case BAD_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case BAD_PIPE:
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		*extra = p[1];
		return p[0];
	case BAD_READONLY: /* mmappable, but the consumer page cannot be writable */
		memfd = memfd_create("rbbadfd", MFD_CLOEXEC);
		ck_assert_int_ge(memfd, 0);
		ck_assert_int_eq(ftruncate(memfd, 1 << 20), 0);
		*extra = memfd;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		return open(path, O_RDONLY | O_CLOEXEC);
	case BAD_NFDS:
		break;
	}
	return -1;
}

START_TEST(test_map_bad_fd)
{
	struct ringbuf rb;
	int extra;
	int fd = open_bad_fd((enum bad_fd)_i, &extra);
	int before = count_maps(bad_fd_maps[_i]);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(ringbuf_map(&rb, fd, 4 * page_size()), 0);
	ck_assert_int_eq(count_maps(bad_fd_maps[_i]), before);
	ck_assert_ptr_null(rb.consumer_page);
	ck_assert_ptr_null(rb.producer_area);
	ck_assert(!rb.owned);
	ringbuf_unmap(&rb);
	close(fd);
	if (extra >= 0)
		close(extra);
}
END_TEST

START_TEST(test_unmap_null_and_twice)
{
	struct ringbuf rb = { 0 };

	ringbuf_unmap(NULL);
	ringbuf_unmap(&rb);
	ringbuf_unmap(&rb);
	ck_assert_int_eq(rb.fd, -1);
	ck_assert_int_eq(ringbuf_consume(&rb, sink_fn, NULL, 0), -EINVAL);
}
END_TEST

/* ---- a real BPF ring buffer ---- */

static int create_kernel_ringbuf(uint32_t bytes)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_RINGBUF;
	attr.max_entries = bytes;
	return (int)syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static int kernel_ringbuf_or_skip(uint32_t bytes)
{
	const char *ci = getenv("CI");
	int fd = create_kernel_ringbuf(bytes);
	int err = errno;

	if (fd >= 0)
		return fd;
	ck_assert_msg(!ci || strcmp(ci, "true") != 0, "bpf(BPF_MAP_CREATE): %s", strerror(err));
	fprintf(stderr, "check_ringbuf: skipping kernel ring buffer test: bpf(): %s\n",
	        strerror(err));
	return -1;
}

START_TEST(test_kernel_ringbuf)
{
	uint64_t size = KERNEL_PAGES * page_size();
	struct ringbuf rb;
	struct sink sink = { &rb, 0, 0, NULL, 0 };
	int before = count_maps("bpf-map");
	int fd = kernel_ringbuf_or_skip((uint32_t)size);

	if (fd < 0)
		return;
	/* Twice the real size: the producer mapping fails, nothing stays mapped. */
	ck_assert_int_eq(ringbuf_map(&rb, fd, 2 * size), -EINVAL);
	ck_assert_int_eq(count_maps("bpf-map"), before);
	ck_assert_int_eq(ringbuf_map(&rb, fd, size), 0);
	ck_assert_int_eq(count_maps("bpf-map"), before + 2);
	ck_assert_uint_eq(ringbuf_avail(&rb), 0);
	ck_assert_int_eq(ringbuf_consume(&rb, sink_fn, &sink, 0), 0);
	ck_assert_int_eq(sink.calls, 0);
	ringbuf_unmap(&rb);
	ringbuf_unmap(&rb);
	ck_assert_int_eq(count_maps("bpf-map"), before);
	close(fd);
}
END_TEST

/* The one export; the test runner declares it too. */
Suite *ringbuf_suite(void);

Suite *ringbuf_suite(void)
{
	Suite *s = suite_create("ringbuf");
	TCase *tc = tcase_create("synthetic");
	TCase *tk = tcase_create("kernel");
	int nsizes = (int)(sizeof(size_cases) / sizeof(size_cases[0]));

	tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_attach_size, 0, nsizes);
	tcase_add_test(tc, test_attach_sub_page);
	tcase_add_loop_test(tc, test_map_size, 0, nsizes);
	tcase_add_test(tc, test_map_sub_page);
	tcase_add_loop_test(tc, test_map_bad_fd, 0, BAD_NFDS);
	tcase_add_test(tc, test_unmap_null_and_twice);
	tcase_add_test(tk, test_kernel_ringbuf);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tk);
	return s;
}
