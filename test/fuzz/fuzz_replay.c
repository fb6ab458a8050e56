// SPDX-License-Identifier: Apache-2.0
/*
 * The whole L7 pipeline (record validation, connection table, reassembly,
 * TLS streams, detection, every parser, request records) on a stream of
 * kernel-shaped records built from the input. Input: operations until the
 * input ends, each
 *
 *   u8 op     bits 0-1: kind (open, close, data, tls); bits 2-3: connection
 *             (cookie 1 to 4); bit 4: direction; bit 5: role server (open)
 *             or cookie unknown (tls); bit 6: payload truncated in flight
 *   u16 seq   data: sequence number offset (little-endian)
 *   u8 len    payload bytes taken from the input (cut to what is left)
 *   payload
 *
 * Every record written must be a JSON object that dumps to UTF-8 and parses
 * back; at the end every connection settles and the carry accounting is 0.
 */
#include <linux/types.h>
#include <sys/socket.h>

#include "bpf/l7.h"
#include "processor/pipeline.h"
#include "test/fuzz/fuzz.h"
#include "test/fuzz/fuzz_json.h"

#define FUZZ_CONNS 8           /* connection slots: more than the 4 cookies plus TLS streams */
#define FUZZ_POOL  (64 * 1024) /* out-of-order bytes */

static struct pipeline pl;
static uint8_t rec[sizeof(struct l7_data) + L7_CAPTURE_MAX];

static void sink(json_t *o)
{
	FUZZ_CHECK(json_is_object(o));
	check_json(o);
	json_decref(o);
}

/* One JSON object and a newline; dumps back as valid UTF-8. */
static void sink_line(const char *line, size_t len)
{
	json_error_t e;
	json_t *o;

	FUZZ_CHECK(len > 1 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
	o = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &e);
	FUZZ_CHECK(o != NULL);
	sink(o);
}

static void fill_hdr(struct l7_hdr *h, uint32_t kind, uint64_t cookie, uint64_t ts)
{
	h->kind = kind;
	h->ts_boot_ns = ts;
	h->cookie = cookie;
	h->pid = 1000 + (uint32_t)cookie;
	memcpy(h->comm, "fuzz", 5);
}

static void fill_tuple(struct l7_tuple *t, uint64_t cookie)
{
	t->family = AF_INET;
	t->local_addr[0] = 127, t->local_addr[3] = 1;
	t->remote_addr[0] = 127, t->remote_addr[3] = 2;
	t->local_port = (uint16_t)(40000 + cookie);
	t->remote_port = 80;
}

static void op(uint8_t o, uint16_t seqoff, const uint8_t *p, uint32_t n, uint64_t ts)
{
	uint64_t cookie = 1 + ((o >> 2) & 3);
	uint32_t dir = (o >> 4) & 1, seg_len = n + ((o & 0x40) ? 100 : 0);

	memset(rec, 0, sizeof(struct l7_data));
	switch (o & 3) {
	case 0:
	case 1: {
		struct l7_conn *c = (struct l7_conn *)rec;

		fill_hdr(&c->hdr, (o & 3) ? L7_CONN_CLOSE : L7_CONN_OPEN, cookie, ts);
		fill_tuple(&c->tuple, cookie);
		c->role = (o & 0x20) ? L7_ROLE_SERVER : L7_ROLE_CLIENT;
		pipeline_record(&pl, rec, sizeof(*c));
		return;
	}
	case 2: {
		struct l7_data *d = (struct l7_data *)rec;

		fill_hdr(&d->hdr, L7_DATA, cookie, ts);
		fill_tuple(&d->tuple, cookie);
		d->dir = dir;
		d->seq = 1000u * (uint32_t)cookie + seqoff;
		d->seg_len = seg_len;
		d->cap_len = n;
		memcpy(d + 1, p, n);
		pipeline_record(&pl, rec, (uint32_t)sizeof(*d) + n);
		return;
	}
	default: {
		struct l7_tls *t = (struct l7_tls *)rec;

		fill_hdr(&t->hdr, L7_TLS_DATA, (o & 0x20) ? 0 : cookie, ts);
		t->ssl = 0x1000 * cookie;
		t->dir = dir;
		t->len = seg_len;
		t->cap_len = n;
		memcpy(t + 1, p, n);
		pipeline_record(&pl, rec, (uint32_t)sizeof(*t) + n);
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = fuzz_dup(data, size);
	size_t i = 0;
	uint64_t ts = 1000;

	/* a small table: allocating and sweeping 32768 slots per input would
	 * leave the fuzzer at a few executions per second */
	if (pipeline_init_sized(&pl, FUZZ_CONNS, FUZZ_POOL, false, sink, sink_line) < 0)
		abort();
	while (i + 4 <= size) {
		uint8_t o = in[i];
		uint16_t seqoff = (uint16_t)(in[i + 1] | in[i + 2] << 8);
		uint32_t n = in[i + 3];

		i += 4;
		if (n > size - i)
			n = (uint32_t)(size - i);
		op(o, seqoff, in + i, n, ts += 1000);
		i += n;
	}
	pipeline_finish(&pl);
	FUZZ_CHECK(pl.env.carry_bytes == 0);
	FUZZ_CHECK(pl.ct.n == 0);
	free(in);
	return 0;
}
