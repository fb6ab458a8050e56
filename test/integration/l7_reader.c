// SPDX-License-Identifier: Apache-2.0
/*
 * Test-side consumer of the pinned L7 ring buffer, so tests can assert on
 * captured bytes without anything printing them. It uses the processor's own
 * ring-buffer reader and reassembly, and prints only verdicts and counts.
 * Run it while the programs stay attached (a loader with --keep-pins that
 * has exited) and nothing else consumes the ring buffer.
 *
 *   l7_reader PIN_DIR SECONDS tls-prefix PREFIX
 *       exit 0 once a TLS record's plaintext starts with PREFIX
 *   l7_reader PIN_DIR SECONDS reassemble PORT FILE [--delay-ms N]
 *       rebuild the client-to-PORT stream (egress of the client socket) and
 *       compare it with FILE: every delivered byte must sit at its offset,
 *       data + gaps must cover FILE exactly. --delay-ms starts reading late
 *       (to make a small ring buffer overflow). Prints the gap counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "bpf/l7.h"
#include "processor/reasm.h"
#include "processor/ringbuf.h"

struct reader {
	const char *mode;
	const char *prefix;
	unsigned port;
	const uint8_t *want; /* FILE */
	size_t want_len;
	uint64_t cookie; /* the client connection, once seen */
	struct reasm_stream stream;
	struct reasm_stats st;
	uint64_t off;      /* stream offset reached */
	uint64_t mismatch; /* delivered bytes that differ from FILE */
	uint64_t overrun;  /* bytes past the end of FILE */
	int found;
	int closed;
	uint64_t seen[5]; /* records by kind */
};

static void on_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct reader *r = ctx;

	for (uint32_t i = 0; i < len; i++, r->off++) {
		if (r->off >= r->want_len)
			r->overrun++;
		else if (p[i] != r->want[r->off])
			r->mismatch++;
	}
}

static void on_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	struct reader *r = ctx;

	(void)why;
	r->off += len;
}

static const struct reasm_ops ops = { on_data, on_gap };

static int on_tls(struct reader *r, const struct l7_tls *t, uint32_t len)
{
	size_t n = strlen(r->prefix);

	if (len < sizeof(*t) + t->cap_len || t->cap_len < n)
		return 0;
	if (memcmp((const uint8_t *)(t + 1), r->prefix, n) == 0)
		r->found = 1;
	return 0;
}

static int on_data_rec(struct reader *r, const struct l7_data *d, uint32_t len)
{
	if (len < sizeof(*d) + d->cap_len || d->dir != L7_EGRESS || d->tuple.remote_port != r->port)
		return 0;
	if (!r->cookie)
		r->cookie = d->hdr.cookie;
	if (d->hdr.cookie != r->cookie)
		return 0;
	return reasm_push(&r->stream, d->seq, d->seg_len, (const uint8_t *)(d + 1), d->cap_len,
	                  &ops, r, &r->st);
}

static int on_record(void *ctx, const void *rec, uint32_t len)
{
	struct reader *r = ctx;
	const struct l7_hdr *h = rec;

	if (len < sizeof(*h))
		return 0;
	if (h->kind < 5)
		r->seen[h->kind]++;
	if (h->kind == L7_TLS_DATA && len >= sizeof(struct l7_tls) && r->prefix)
		return on_tls(r, rec, len);
	if (h->kind == L7_DATA && len >= sizeof(struct l7_data) && r->port)
		return on_data_rec(r, rec, len);
	if (h->kind == L7_CONN_CLOSE && r->cookie && h->cookie == r->cookie)
		r->closed = 1;
	return 0;
}

static int open_ring(const char *dir, struct ringbuf *rb)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/events_l7", dir);
	fd = bpf_obj_get(path);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_map_get_info_by_fd(fd, &info, &ilen) < 0) {
		fprintf(stderr, "l7_reader: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (ringbuf_map(rb, fd, info.max_entries) < 0) {
		fprintf(stderr, "l7_reader: cannot map %s\n", path);
		return -1;
	}
	return 0;
}

static int load_file(struct reader *r, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
		return -1;
	r->want = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	r->want_len = (size_t)st.st_size;
	return r->want == MAP_FAILED ? -1 : 0;
}

static int parse(struct reader *r, int argc, char **argv, long *delay_ms)
{
	r->mode = argv[3];
	if (strcmp(r->mode, "tls-prefix") == 0 && argc == 5) {
		r->prefix = argv[4];
		return 0;
	}
	if (strcmp(r->mode, "reassemble") == 0 && (argc == 6 || argc == 8)) {
		r->port = (unsigned)atoi(argv[4]);
		if (argc == 8 && strcmp(argv[6], "--delay-ms") == 0)
			*delay_ms = atol(argv[7]);
		return load_file(r, argv[5]);
	}
	return -1;
}

static int verdict(struct reader *r)
{
	printf("records: conn_open=%llu conn_close=%llu data=%llu tls=%llu\n",
	       (unsigned long long)r->seen[L7_CONN_OPEN],
	       (unsigned long long)r->seen[L7_CONN_CLOSE], (unsigned long long)r->seen[L7_DATA],
	       (unsigned long long)r->seen[L7_TLS_DATA]);
	if (r->prefix) {
		printf("tls-prefix: %s\n", r->found ? "found" : "not found");
		return r->found ? 0 : 1;
	}
	reasm_flush(&r->stream, &ops, r, &r->st);
	printf("reassemble: file=%zu covered=%llu delivered=%llu mismatched=%llu overrun=%llu "
	       "truncated=%llu lost=%llu evicted=%llu segments=%llu\n",
	       r->want_len, (unsigned long long)r->off, (unsigned long long)r->st.bytes_delivered,
	       (unsigned long long)r->mismatch, (unsigned long long)r->overrun,
	       (unsigned long long)r->st.gap_bytes_truncated,
	       (unsigned long long)r->st.gap_bytes_lost,
	       (unsigned long long)r->st.gap_bytes_evicted, (unsigned long long)r->st.segments);
	return r->mismatch == 0 && r->overrun == 0 && r->st.bytes_delivered > 0 &&
	                       r->off == r->want_len
	               ? 0
	               : 1;
}

int main(int argc, char **argv)
{
	static struct reader r;
	struct ringbuf rb;
	struct reasm_pool *pool;
	long delay_ms = 0;
	time_t end;

	if (argc < 5 || parse(&r, argc, argv, &delay_ms) < 0) {
		fprintf(stderr, "usage: l7_reader PIN_DIR SECONDS (tls-prefix PREFIX | reassemble "
		                "PORT FILE [--delay-ms N])\n");
		return 2;
	}
	if (open_ring(argv[1], &rb) < 0 || reasm_pool_create(&pool, 4 << 20) < 0)
		return 2;
	reasm_init(&r.stream, pool);
	printf("ready\n");
	fflush(stdout);
	if (delay_ms > 0)
		usleep((useconds_t)delay_ms * 1000);
	end = time(NULL) + atol(argv[2]);
	while (time(NULL) < end && !r.found && !r.closed) {
		if (ringbuf_consume(&rb, on_record, &r, 0) < 0)
			return 2;
		usleep(5000);
	}
	ringbuf_consume(&rb, on_record, &r, 0);
	return verdict(&r);
}
