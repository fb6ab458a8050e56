// SPDX-License-Identifier: Apache-2.0
/*
 * One session restricted to HTTP/2 (processor/proto_http2.c), fed a script
 * taken from the input, then closed. Header blocks can be made by a real
 * HPACK deflater per side, so the fuzzer reaches deep into valid streams as
 * well as into raw bytes. Input layout:
 *
 *   0  u8 flags   bits 0-1: role (0 unknown, 1 client, 2-3 server);
 *                 bit 2: the connection is first seen midstream (a gap
 *                 first); bit 3: each side starts with its preface (the
 *                 client's magic and an empty SETTINGS, the server's SETTINGS);
 *                 bit 4: no header set (io->headers NULL) instead of capture_names
 *   then records until the input ends, each starting with u8 op:
 *      bit 0 side (0 request, 1 response), bits 1-2 kind:
 *      0 raw:     u16 len, then len bytes (cut to what is left)
 *      1 gap:     u16 len (a gap of len + 1 bytes)
 *      2 headers: u8 flags, u8 stream id, u16 len, then len bytes holding
 *                 "name\0value\0" pairs, encoded by the side's deflater into
 *                 a HEADERS frame (END_HEADERS added; op bit 3: the block is
 *                 split into HEADERS and CONTINUATION frames)
 *      3 frame:   u8 type, u8 flags, u8 stream id, u16 len, then len payload bytes
 *
 * The emitter checks every transaction: HTTP/2 only, known attribute keys,
 * bounded readable values (ASan checks the copy), url.query and header
 * values and only they sensitive, numbers in range, no end before the start;
 * header values only under keys of the set, at most PROTO_HEADER_VALUE_MAX
 * bytes, each key once, at most CAPTURED_MAX per side, none without a set;
 * after the close no carry byte is left allocated.
 */
#include <stdbool.h>

#include <nghttp2/nghttp2.h>

#include "processor/session.h"
#include "test/fuzz/fuzz.h"

#define REC_HDR_LEN   2
#define REC_HDR_HDRS  4
#define REC_HDR_FRAME 5
#define HDR_NV_MAX    16
#define WIRE_MAX      (70 * 1024)
#define VALUE_MAX     512 /* the longest value the parser keeps (H2_PATH_MAX) */
#define DEFLATE_TABLE 4096
#define CAPTURED_MAX  6 /* H2_CAPTURED_MAX: header values kept per message */

/* More names than a message may capture; short, so the fuzzer finds them. */
static const char *const capture_names[] = { "content-type", "x-request-id", "authorization",
	                                     "cookie",       "x-a",          "x-b",
	                                     "x-c",          "x-d" };
static struct proto_headers capture_set;

static const char *const keys[] = {
	"network.protocol.version",
	"http.request.method",
	"url.scheme",
	"url.path",
	"url.query",
	"server.address",
	"server.port",
	"http.request.body.size",
	"http.response.status_code",
	"http.response.body.size",
	"rpc.system",
	"rpc.service",
	"rpc.method",
	"rpc.grpc.status_code",
	"error.type",
};

static bool known_key(const char *k)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* 0: a request header's key of the set, 1: a response header's, -1: not a header key. */
static int header_side(const struct txn_attr *a)
{
	for (uint32_t i = 0; i < capture_set.n; i++) {
		if (a->key == capture_set.h[i].req_key)
			return 0;
		if (a->key == capture_set.h[i].resp_key)
			return 1;
	}
	return -1;
}

static void check_int(const struct txn_attr *a)
{
	if (!strcmp(a->key, "http.response.status_code"))
		FUZZ_CHECK(a->num >= 100 && a->num <= 599);
	else if (!strcmp(a->key, "server.port"))
		FUZZ_CHECK(a->num >= 1 && a->num <= 65535);
	else if (!strcmp(a->key, "rpc.grpc.status_code"))
		FUZZ_CHECK(a->num >= 0 && a->num <= 999);
	else
		FUZZ_CHECK(a->num > 0); /* body sizes are only reported when not zero */
}

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	static char copy[VALUE_MAX];
	unsigned nhdr[2] = { 0, 0 };

	FUZZ_CHECK(t->proto == PROTO_HTTP2);
	FUZZ_CHECK(t->status == TXN_OK || t->status == TXN_ERROR || t->status == TXN_NO_RESPONSE);
	FUZZ_CHECK(t->end_ns >= t->start_ns);
	FUZZ_CHECK(t->status != TXN_NO_RESPONSE || t->end_ns == t->start_ns);
	FUZZ_CHECK(t->nattrs <= TXN_MAX_ATTRS);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];
		int hs = a->key ? header_side(a) : -1;

		FUZZ_CHECK(a->key && (hs >= 0 || known_key(a->key)));
		FUZZ_CHECK((hs >= 0 || !strcmp(a->key, "url.query")) ==
		           !!(a->flags & TXN_SENSITIVE));
		if (hs >= 0) {
			nhdr[hs]++;
			for (uint32_t j = 0; j < i; j++)
				FUZZ_CHECK(t->attrs[j].key != a->key);
			FUZZ_CHECK(a->type == TXN_STR && a->len <= PROTO_HEADER_VALUE_MAX);
			FUZZ_CHECK((a->flags & ~(TXN_SENSITIVE | TXN_TRUNCATED)) == 0);
			FUZZ_CHECK(a->len == 0 || a->str);
			if (a->len)
				memcpy(copy, a->str, a->len);
			continue;
		}
		if (a->type == TXN_INT) {
			check_int(a);
			continue;
		}
		FUZZ_CHECK(a->type == TXN_STR && a->len > 0 && a->len <= VALUE_MAX && a->str);
		memcpy(copy, a->str, a->len);
	}
	FUZZ_CHECK(nhdr[0] <= CAPTURED_MAX && nhdr[1] <= CAPTURED_MAX);
	FUZZ_CHECK(io->headers || nhdr[0] + nhdr[1] == 0);
}

struct script {
	struct session s;
	struct session_env env;
	nghttp2_hd_deflater *enc[2];
	uint64_t ts;
	unsigned role;
};

/* Hand @len bytes to the session in an exactly-sized heap block. */
static void deliver(struct script *sc, unsigned side, const uint8_t *p, size_t len)
{
	/* side to direction: the request side is egress unless we are the server */
	unsigned dir = (sc->role == PROTO_ROLE_SERVER) == (side == PROTO_REQ);
	uint8_t *copy;

	if (len == 0)
		return;
	copy = fuzz_dup(p, len);
	session_data(&sc->s, &sc->env, dir, copy, (uint32_t)len, sc->ts += 1000);
	free(copy);
}

static size_t put_frame_hdr(uint8_t *w, uint32_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	w[0] = (uint8_t)(len >> 16);
	w[1] = (uint8_t)(len >> 8);
	w[2] = (uint8_t)len;
	w[3] = type;
	w[4] = flags;
	w[5] = (uint8_t)(sid >> 24);
	w[6] = (uint8_t)(sid >> 16);
	w[7] = (uint8_t)(sid >> 8);
	w[8] = (uint8_t)sid;
	return 9;
}

/* "name\0value\0..." into at most HDR_NV_MAX pairs; a missing value is empty. */
static size_t split_pairs(const uint8_t *p, size_t len, nghttp2_nv *nva)
{
	size_t n = 0, off = 0;

	while (off < len && n < HDR_NV_MAX) {
		const uint8_t *name = p + off, *z = memchr(name, 0, len - off);
		size_t nl = z ? (size_t)(z - name) : len - off;
		const uint8_t *val;
		size_t vl;

		off += nl + (z != NULL);
		val = p + off;
		z = off < len ? memchr(val, 0, len - off) : NULL;
		vl = off < len ? (z ? (size_t)(z - val) : len - off) : 0;
		off += vl + (z != NULL);
		nva[n++] = (nghttp2_nv){ (uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)val, nl,
			                 vl, NGHTTP2_NV_FLAG_NONE };
	}
	return n;
}

static void headers_record(struct script *sc, unsigned side, bool split, uint8_t flags,
                           uint32_t sid, const uint8_t *p, size_t len)
{
	static uint8_t wire[WIRE_MAX];
	nghttp2_nv nva[HDR_NV_MAX];
	size_t n = split_pairs(p, len, nva), off;
	ssize_t blk = nghttp2_hd_deflate_hd(sc->enc[side], wire + 18, sizeof(wire) - 18, nva, n);
	size_t a;

	if (blk < 0)
		return; /* the encoder refused: its state is its own business */
	a = split ? (size_t)blk / 2 : (size_t)blk;
	/* HEADERS [0..a) then, when split, CONTINUATION [a..blk): frame headers around the block */
	memmove(wire + 9, wire + 18, a);
	off = put_frame_hdr(wire, (uint32_t)a, 1, split ? flags & ~4u : flags | 4u, sid) + a;
	if (split) {
		memmove(wire + off + 9, wire + 18 + a, (size_t)blk - a);
		off += put_frame_hdr(wire + off, (uint32_t)((size_t)blk - a), 9, 4, sid);
		off += (size_t)blk - a;
	}
	deliver(sc, side, wire, off);
}

static void frame_record(struct script *sc, unsigned side, const uint8_t *h, const uint8_t *p,
                         size_t len)
{
	static uint8_t wire[9 + 65536];
	size_t off = put_frame_hdr(wire, (uint32_t)len, h[0], h[1], h[2]);

	memcpy(wire + off, p, len);
	deliver(sc, side, wire, off + len);
}

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* One record at data[*i]; false when the input ends first. */
static bool record(struct script *sc, const uint8_t *data, size_t size, size_t *i)
{
	uint8_t op = data[(*i)++];
	unsigned side = op & 1, kind = (op >> 1) & 3;
	size_t hdr = kind == 2 ? REC_HDR_HDRS : kind == 3 ? REC_HDR_FRAME : REC_HDR_LEN;
	const uint8_t *h = data + *i;
	size_t len;

	if (size - *i < hdr)
		return false;
	*i += hdr;
	if (kind == 1) {
		session_gap(&sc->s, &sc->env,
		            (sc->role == PROTO_ROLE_SERVER) == (side == PROTO_REQ),
		            (uint64_t)u16(h) + 1);
		return true;
	}
	len = u16(h + hdr - 2);
	len = len < size - *i ? len : size - *i;
	if (kind == 0)
		deliver(sc, side, data + *i, len);
	else if (kind == 2)
		headers_record(sc, side, op & 8, h[0], h[1], data + *i, len);
	else
		frame_record(sc, side, h, data + *i, len);
	*i += len;
	return true;
}

static void prefaces(struct script *sc)
{
	static const uint8_t client[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	                                "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
	static const uint8_t server[] = "\x00\x00\x06\x04\x00\x00\x00\x00\x00"
	                                "\x00\x05\x00\x00\x40\x00";

	deliver(sc, PROTO_REQ, client, sizeof(client) - 1);
	deliver(sc, PROTO_RESP, server, sizeof(server) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct script sc;
	size_t i = 1;

	if (size < 1)
		return 0;
	memset(&sc, 0, sizeof(sc));
	if (!capture_set.n)
		for (size_t n = 0; n < sizeof(capture_names) / sizeof(capture_names[0]); n++)
			FUZZ_CHECK(proto_headers_add(&capture_set, capture_names[n],
			                             strlen(capture_names[n])) == 0);
	sc.env.headers = data[0] & 16 ? NULL : &capture_set;
	sc.env.emit = on_txn;
	sc.role = data[0] & 3;
	sc.role = sc.role == 3 ? PROTO_ROLE_SERVER : sc.role;
	FUZZ_CHECK(nghttp2_hd_deflate_new(&sc.enc[0], DEFLATE_TABLE) == 0);
	FUZZ_CHECK(nghttp2_hd_deflate_new(&sc.enc[1], DEFLATE_TABLE) == 0);
	session_init(&sc.s, (enum proto_role)sc.role, false, PROTO_HTTP2);
	if (data[0] & 4)
		session_gap(&sc.s, &sc.env, 0, 1);
	if (data[0] & 8)
		prefaces(&sc);
	while (i < size && record(&sc, data, size, &i))
		;
	session_close(&sc.s, &sc.env);
	FUZZ_CHECK(sc.env.carry_bytes == 0);
	nghttp2_hd_deflate_del(sc.enc[0]);
	nghttp2_hd_deflate_del(sc.enc[1]);
	return 0;
}
