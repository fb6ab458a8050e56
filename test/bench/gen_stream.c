// SPDX-License-Identifier: Apache-2.0
/*
 * Writes a --record file for the replay benchmark: CONNS connections opened
 * first and kept open (the processor holds them all at once), then ROUNDS
 * request/response exchanges spread over them round-robin, a third each
 * HTTP/1.1, PostgreSQL (simple query) and Redis, each message one TCP
 * segment record as the kernel would write it. The byte layouts are the
 * protocols' own; the values are fixed so that runs compare.
 *
 *   gen_stream FILE CONNS ROUNDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "bpf/l7.h"
#include "processor/recfile.h"

#define HTTP_PORT  8080
#define PG_PORT    5432
#define REDIS_PORT 6379

static struct recfile rf;
static uint64_t now = 1000000000ull;

struct conn {
	uint32_t seq[2];
	uint16_t port;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_stream: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const void *rec, uint32_t len)
{
	if (recfile_write(&rf, RECFILE_L7, rec, len) < 0)
		die("write");
}

static void tuple(struct l7_tuple *t, uint32_t i, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->local_addr[0] = 10, t->local_addr[1] = (uint8_t)(i >> 16);
	t->local_addr[2] = (uint8_t)(i >> 8), t->local_addr[3] = (uint8_t)i;
	t->remote_addr[0] = 10, t->remote_addr[3] = 1;
	t->local_port = (uint16_t)(10000 + i % 50000);
	t->remote_port = port;
}

static void hdr(struct l7_hdr *h, uint32_t kind, uint32_t i)
{
	h->kind = kind;
	h->ts_boot_ns = now += 1000;
	h->cookie = 1 + i;
	h->cgroup_id = 42;
	h->pid = 1000 + i % 64;
	memcpy(h->comm, "bench-client", 13);
}

static void open_conn(struct conn *c, uint32_t i)
{
	struct l7_conn r;

	memset(&r, 0, sizeof(r));
	hdr(&r.hdr, L7_CONN_OPEN, i);
	tuple(&r.tuple, i, c->port);
	r.role = L7_ROLE_CLIENT;
	r.start_boot_ns = r.hdr.ts_boot_ns;
	put(&r, sizeof(r));
}

static void segment(struct conn *c, uint32_t i, uint32_t dir, const void *p, uint32_t len)
{
	static uint8_t buf[sizeof(struct l7_data) + L7_CAPTURE_MAX];
	struct l7_data *d = (struct l7_data *)buf;

	memset(d, 0, sizeof(*d));
	hdr(&d->hdr, L7_DATA, i);
	tuple(&d->tuple, i, c->port);
	d->dir = dir;
	d->seq = c->seq[dir];
	d->seg_len = d->cap_len = len;
	memcpy(d + 1, p, len);
	c->seq[dir] += len;
	put(buf, (uint32_t)sizeof(*d) + len);
}

static const char http_req[] = "GET /api/items/12345 HTTP/1.1\r\nHost: shop.internal:8080\r\n"
                               "User-Agent: bench/1.0\r\nAccept: */*\r\n\r\n";
static const char http_rsp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 18\r\n\r\n{\"id\":12345,\"n\":1}";
static const char redis_req[] = "*2\r\n$3\r\nGET\r\n$10\r\nuser:12345\r\n";
static const char redis_rsp[] = "$5\r\nhello\r\n";

/* PostgreSQL messages: type byte, big-endian length including itself, body. */
static uint32_t pg_msg(uint8_t *out, char type, const void *body, uint32_t n)
{
	uint32_t len = n + 4;

	out[0] = (uint8_t)type;
	out[1] = (uint8_t)(len >> 24), out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8), out[4] = (uint8_t)len;
	memcpy(out + 5, body, n);
	return n + 5;
}

static void pg_startup(struct conn *c, uint32_t i)
{
	static const uint8_t startup[] = { 0,   0,   0,   41,  0,   3,   0,   0,   'u', 's', 'e',
		                           'r', 0,   'a', 'p', 'p', 0,   'd', 'a', 't', 'a', 'b',
		                           'a', 's', 'e', 0,   's', 'h', 'o', 'p', 0,   0 };
	uint8_t buf[64];
	uint32_t n;

	memcpy(buf, startup, sizeof(startup));
	buf[3] = sizeof(startup);
	segment(c, i, L7_EGRESS, buf, sizeof(startup));
	n = pg_msg(buf, 'R', "\0\0\0\0", 4);
	n += pg_msg(buf + n, 'Z', "I", 1);
	segment(c, i, L7_INGRESS, buf, n);
}

static void pg_query(struct conn *c, uint32_t i)
{
	static const char sql[] = "SELECT id, name FROM users WHERE id = 12345";
	/* one int4 column "id": count, name, table oid, attnum, type oid, typlen, typmod, format */
	static const uint8_t rowdesc[] = {
		0,    1,                /* one field */
		'i',  'd',  0,          /* name */
		0,    0,    0,    0,    /* table oid */
		0,    0,                /* attribute number */
		0,    0,    0,    23,   /* type oid: int4 */
		0,    4,                /* type length */
		0xff, 0xff, 0xff, 0xff, /* type modifier */
		0,    0,                /* text format */
	};
	static const uint8_t row[] = { 0, 1, 0, 0, 0, 5, '1', '2', '3', '4', '5' };
	uint8_t buf[256];
	uint32_t n = pg_msg(buf, 'Q', sql, sizeof(sql));

	segment(c, i, L7_EGRESS, buf, n);
	n = pg_msg(buf, 'T', rowdesc, sizeof(rowdesc));
	n += pg_msg(buf + n, 'D', row, sizeof(row));
	n += pg_msg(buf + n, 'C', "SELECT 1", 9);
	n += pg_msg(buf + n, 'Z', "I", 1);
	segment(c, i, L7_INGRESS, buf, n);
}

static void exchange(struct conn *c, uint32_t i)
{
	switch (c->port) {
	case HTTP_PORT:
		segment(c, i, L7_EGRESS, http_req, sizeof(http_req) - 1);
		segment(c, i, L7_INGRESS, http_rsp, sizeof(http_rsp) - 1);
		break;
	case PG_PORT:
		pg_query(c, i);
		break;
	default:
		segment(c, i, L7_EGRESS, redis_req, sizeof(redis_req) - 1);
		segment(c, i, L7_INGRESS, redis_rsp, sizeof(redis_rsp) - 1);
	}
}

int main(int argc, char **argv)
{
	static const uint16_t ports[] = { HTTP_PORT, PG_PORT, REDIS_PORT };
	struct conn *c;
	char err[256];
	long conns, rounds;

	if (argc != 4 || (conns = atol(argv[2])) < 1 || conns > 1000000 ||
	    (rounds = atol(argv[3])) < 0) {
		fprintf(stderr, "usage: gen_stream FILE CONNS(1-1000000) ROUNDS\n");
		return 2;
	}
	c = calloc((size_t)conns, sizeof(*c));
	if (!c || recfile_create(&rf, argv[1], 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "gen_stream: %s\n", c ? err : "out of memory");
		return 1;
	}
	for (uint32_t i = 0; i < conns; i++) {
		c[i].port = ports[i % 3];
		c[i].seq[0] = 1000, c[i].seq[1] = 5000;
		open_conn(&c[i], i);
		if (c[i].port == PG_PORT)
			pg_startup(&c[i], i);
	}
	for (long r = 0; r < rounds; r++)
		exchange(&c[r % conns], (uint32_t)(r % conns));
	if (recfile_close(&rf) < 0)
		die("close");
	free(c);
	return 0;
}
