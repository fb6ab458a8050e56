// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_http2.c through a real session (the harness).
 *
 * Conversations are built frame by frame; header blocks come from
 * libnghttp2's HPACK deflater (one per side, kept across the conversation
 * as a real encoder would), or are the byte-exact examples of RFC 7541
 * appendix C. Each case runs unsplit and split at every byte of every step
 * (harness_check_splits), and each success case has a truncated or
 * malformed twin. Every transaction of every case is also checked for what
 * must never leave: header values marked "secret" (authorization, cookie,
 * grpc-message), a query string without TXN_SENSITIVE, and a header value
 * the case's header set (io->headers) does not name, or not sensitive. The
 * default set is the default policy's (accept, accept-encoding,
 * content-encoding, content-length, content-type).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "processor/proto.h"
#include "test/processor/proto_harness.h"

Suite *proto_http2_suite(void);

#define WIRE_MAX     (48 * 1024) /* bytes of one step */
#define CONV_STEPS   24
#define ENC_TABLE    65536 /* the deflaters may grow to this when SETTINGS allow it */
#define WHY_MAX      1024
#define BIG_FIELD    17000 /* a header frame longer than the carry: streamed */
#define MANY_STREAMS 70    /* more than H2_STREAMS_MAX */
#define LONG_VALUE   300   /* a captured header value beyond PROTO_HEADER_VALUE_MAX */
#define REQ_HDR      "http.request.header."
#define RESP_HDR     "http.response.header."

#define T_DATA     0
#define T_HEADERS  1
#define T_PRIORITY 2
#define T_RST      3
#define T_SETTINGS 4
#define T_PUSH     5
#define T_PING     6
#define T_GOAWAY   7
#define T_WINDOW   8
#define T_CONT     9

#define ES  0x01 /* END_STREAM */
#define EH  0x04 /* END_HEADERS */
#define PAD 0x08
#define PRI 0x20

#define REQ  PROTO_REQ
#define RESP PROTO_RESP

/* ---- conversation builder ---------------------------------------------- */

struct conv {
	struct h_step steps[CONV_STEPS];
	uint8_t buf[CONV_STEPS][WIRE_MAX];
	size_t n;
	nghttp2_hd_deflater *enc[2];
};

static struct conv cv;

static void conv_begin(void)
{
	cv.n = 0;
	for (int s = 0; s < 2; s++)
		ck_assert_int_eq(nghttp2_hd_deflate_new(&cv.enc[s], ENC_TABLE), 0);
}

static void conv_end(void)
{
	for (int s = 0; s < 2; s++)
		nghttp2_hd_deflate_del(cv.enc[s]);
	cv.enc[0] = cv.enc[1] = NULL;
}

/* Start a data step on @side: what follows is appended to it. */
static void at(enum proto_side side)
{
	ck_assert_uint_lt(cv.n, CONV_STEPS);
	cv.steps[cv.n] = (struct h_step){ .side = side, .data = cv.buf[cv.n], .len = 0 };
	cv.n++;
}

static void gap(enum proto_side side, size_t len)
{
	ck_assert_uint_lt(cv.n, CONV_STEPS);
	cv.steps[cv.n++] = (struct h_step){ .side = side, .data = NULL, .len = len };
}

static struct h_step *cur(void)
{
	ck_assert_uint_gt(cv.n, 0);
	ck_assert_ptr_nonnull(cv.steps[cv.n - 1].data);
	return &cv.steps[cv.n - 1];
}

static void raw(const void *p, size_t n)
{
	struct h_step *st = cur();

	ck_assert_uint_le(st->len + n, WIRE_MAX);
	memcpy(cv.buf[cv.n - 1] + st->len, p, n);
	st->len += n;
}

static void frame_hdr(uint32_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	uint8_t h[9] = {
		(uint8_t)(len >> 16), (uint8_t)(len >> 8),  (uint8_t)len,        type,        flags,
		(uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid
	};

	raw(h, sizeof(h));
}

static void frame(uint8_t type, uint8_t flags, uint32_t sid, const void *pl, size_t n)
{
	frame_hdr((uint32_t)n, type, flags, sid);
	if (n)
		raw(pl, n);
}

/* Encode name/value pairs (NULL-terminated list) with @side's deflater. */
static size_t hpack(enum proto_side side, const char *const *kv, uint8_t *out, size_t cap)
{
	nghttp2_nv nva[32];
	size_t n = 0;
	ssize_t r;

	for (; kv[2 * n]; n++) {
		ck_assert_uint_lt(n, 32);
		nva[n] = (nghttp2_nv){ (uint8_t *)(uintptr_t)kv[2 * n],
			               (uint8_t *)(uintptr_t)kv[2 * n + 1], strlen(kv[2 * n]),
			               strlen(kv[2 * n + 1]), NGHTTP2_NV_FLAG_NONE };
	}
	r = nghttp2_hd_deflate_hd(cv.enc[side], out, cap, nva, n);
	ck_assert_int_ge(r, 0);
	return (size_t)r;
}

/* A HEADERS frame (END_HEADERS added) on the current step's side. */
static void headers(uint32_t sid, uint8_t flags, const char *const *kv)
{
	static uint8_t blk[WIRE_MAX];
	size_t n = hpack(cur()->side, kv, blk, sizeof(blk));

	frame(T_HEADERS, flags | EH, sid, blk, n);
}

/* The block is encoded (the encoder moves on) but its bytes are lost: returns their length. */
static size_t lost_headers(enum proto_side side, const char *const *kv)
{
	static uint8_t blk[WIRE_MAX];

	return 9 + hpack(side, kv, blk, sizeof(blk));
}

static void data(uint32_t sid, uint8_t flags, size_t n)
{
	static uint8_t body[WIRE_MAX];

	memset(body, 'd', n);
	frame(T_DATA, flags, sid, body, n);
}

static void setting(uint16_t id, uint32_t v)
{
	uint8_t p[6] = { (uint8_t)(id >> 8), (uint8_t)id,       (uint8_t)(v >> 24),
		         (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	frame(T_SETTINGS, 0, 0, p, id ? sizeof(p) : 0);
}

static void preface(void)
{
	raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	setting(0, 0);
}

static void u32_frame(uint8_t type, uint32_t sid, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	frame(type, 0, sid, p, sizeof(p));
}

static void goaway(uint32_t last, uint32_t code)
{
	uint8_t p[8 + 6] = { (uint8_t)(last >> 24),
		             (uint8_t)(last >> 16),
		             (uint8_t)(last >> 8),
		             (uint8_t)last,
		             (uint8_t)(code >> 24),
		             (uint8_t)(code >> 16),
		             (uint8_t)(code >> 8),
		             (uint8_t)code,
		             's',
		             'e',
		             'c',
		             'r',
		             'e',
		             't' };

	frame(T_GOAWAY, 0, 0, p, sizeof(p));
}

/* ---- header lists -------------------------------------------------------- */

static const char *const req_get[] = {
	":method",
	"GET",
	":scheme",
	"https",
	":path",
	"/index.html?a=1",
	":authority",
	"example.com:8443",
	"authorization",
	"Bearer secret-token",
	"cookie",
	"session=secret-cookie",
	NULL,
};
static const char *const req_a[] = { ":method", "GET",        ":scheme",     "https", ":path",
	                             "/a",      ":authority", "example.com", NULL };
static const char *const req_b[] = { ":method", "POST",       ":scheme",     "https", ":path",
	                             "/b",      ":authority", "example.com", NULL };
static const char *const req_c[] = { ":method", "GET",        ":scheme",     "https", ":path",
	                             "/c",      ":authority", "example.com", NULL };
static const char *const req_d[] = { ":method", "GET",        ":scheme",     "https", ":path",
	                             "/d",      ":authority", "new.example", NULL };
static const char *const req_other[] = { ":method", "GET",        ":scheme",       "https", ":path",
	                                 "/o",      ":authority", "other.example", NULL };
static const char *const req_grpc[] = {
	":method",      "POST",
	":scheme",      "http",
	":path",        "/helloworld.Greeter/SayHello",
	":authority",   "[2001:db8::1]:50051",
	"content-type", "application/grpc",
	"te",           "trailers",
	"grpc-timeout", "1S",
	NULL,
};
static const char *const resp_200[] = { ":status", "200", "server", "t", NULL };
static const char *const resp_302[] = { ":status", "302", NULL };
static const char *const resp_404[] = { ":status", "404", NULL };
static const char *const resp_503[] = { ":status", "503", NULL };
static const char *const resp_100[] = { ":status", "100", NULL };
static const char *const resp_grpc[] = { ":status", "200", "content-type", "application/grpc+proto",
	                                 NULL };
static const char *const trl_ok[] = { "grpc-status", "0", "grpc-message", "secret ok", NULL };
static const char *const trl_unavail[] = { "grpc-status", "14", "grpc-message",
	                                   "secret: backend down", NULL };
static const char *const resp_grpc_only[] = {
	":status",     "200", "content-type", "application/grpc",
	"grpc-status", "5",   "grpc-message", "secret: user 42 not found",
	NULL,
};

/* ---- cases: byte-exact and built exchanges ------------------------------- */

static void b_get(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_get);
	u32_frame(T_WINDOW, 0, 65535);
	frame(T_PRIORITY, 0, 1, "\x00\x00\x00\x00\x10", 5);
	at(RESP);
	setting(1, 4096);
	frame(T_SETTINGS, 1, 0, NULL, 0);
	frame(T_PING, 0, 0, "12345678", 8);
	frame(0x10, 0, 0, "ext", 3); /* an extension frame: ignored */
	headers(1, 0, resp_200);
	data(1, 0, 3);
	data(1, ES, 2);
}

/* The response stops after its headers: settled at close, with what it had. */
static void b_get_cut(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_get);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_200);
	data(1, 0, 3);
}

/* Same, the response's HEADERS frame cut short: no response at all. */
static void b_get_noresp(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_get);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_200);
	cur()->len -= 2;
}

static const uint8_t rfc_c41[] = { 0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
	                           0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff };
static const uint8_t rfc_c42[] = { 0x82, 0x86, 0x84, 0xbe, 0x58, 0x86,
	                           0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf };
static const uint8_t rfc_c43[] = { 0x82, 0x87, 0x85, 0xbf, 0x40, 0x88, 0x25, 0xa8,
	                           0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f, 0x89, 0x25,
	                           0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf };
static const uint8_t rfc_c61[] = { 0x48, 0x82, 0x64, 0x02, 0x58, 0x85, 0xae, 0xc3, 0x77, 0x1a, 0x4b,
	                           0x61, 0x96, 0xd0, 0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8,
	                           0x20, 0x05, 0x95, 0x04, 0x0b, 0x81, 0x66, 0xe0, 0x82, 0xa6, 0x2d,
	                           0x1b, 0xff, 0x6e, 0x91, 0x9d, 0x29, 0xad, 0x17, 0x18, 0x63, 0xc7,
	                           0x8f, 0x0b, 0x97, 0xc8, 0xe9, 0xae, 0x82, 0xae, 0x43, 0xd3 };
static const uint8_t rfc_c62[] = { 0x48, 0x83, 0x64, 0x0e, 0xff, 0xc1, 0xc0, 0xbf };
static const uint8_t rfc_c63[] = {
	0x88, 0xc1, 0x61, 0x96, 0xd0, 0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20,
	0x05, 0x95, 0x04, 0x0b, 0x81, 0x66, 0xe0, 0x84, 0xa6, 0x2d, 0x1b, 0xff, 0xc0, 0x5a,
	0x83, 0x9b, 0xd9, 0xab, 0x77, 0xad, 0x94, 0xe7, 0x82, 0x1d, 0xd7, 0xf2, 0xe6, 0xc7,
	0xb3, 0x35, 0xdf, 0xdf, 0xcd, 0x5b, 0x39, 0x60, 0xd5, 0xaf, 0x27, 0x08, 0x7f, 0x36,
	0x72, 0xc1, 0xab, 0x27, 0x0f, 0xb5, 0x29, 0x1f, 0x95, 0x87, 0x31, 0x60, 0x65, 0xc0,
	0x03, 0xed, 0x4e, 0xe5, 0xb1, 0x06, 0x3d, 0x50, 0x07,
};

/* RFC 7541 C.4 (requests, Huffman) and C.6 (responses), pipelined: one run per side. */
static void rfc_exchange(bool corrupt)
{
	uint8_t c42[sizeof(rfc_c42)];

	memcpy(c42, rfc_c42, sizeof(c42));
	if (corrupt)
		c42[3] = 0xc5; /* index 69: beyond the one dynamic entry */
	at(REQ);
	preface();
	frame(T_HEADERS, ES | EH, 1, rfc_c41, sizeof(rfc_c41));
	frame(T_HEADERS, ES | EH, 3, c42, sizeof(c42));
	frame(T_HEADERS, ES | EH, 5, rfc_c43, sizeof(rfc_c43));
	at(RESP);
	setting(0, 0);
	frame(T_HEADERS, EH, 1, rfc_c61, sizeof(rfc_c61));
	frame(T_DATA, ES, 1, NULL, 0);
	frame(T_HEADERS, EH | ES, 3, rfc_c62, sizeof(rfc_c62));
	frame(T_HEADERS, EH | ES, 5, rfc_c63, sizeof(rfc_c63));
}

static void b_rfc(void)
{
	rfc_exchange(false);
}

static void b_rfc_bad_index(void)
{
	rfc_exchange(true);
}

static void grpc_call(const char *const *trailers)
{
	at(REQ);
	preface();
	headers(1, 0, req_grpc);
	data(1, ES, 10);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_grpc);
	data(1, 0, 12);
	headers(1, ES, trailers);
}

static void b_grpc(void)
{
	grpc_call(trl_ok);
}

static void b_grpc_unavail(void)
{
	grpc_call(trl_unavail);
}

static void b_grpc_trailers_only(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_grpc);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_grpc_only);
}

/* The Trailers-Only frame loses its last byte: the stream never ends before close. */
static void b_grpc_trailers_cut(void)
{
	b_grpc_trailers_only();
	cur()->len--;
}

static void one_status(const char *const *resp)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_100); /* interim: the final status wins */
	headers(1, ES, resp);
}

static void b_503(void)
{
	one_status(resp_503);
}

static void b_404(void)
{
	one_status(resp_404);
}

static void b_302(void)
{
	one_status(resp_302);
}

/* HEADERS (PADDED, PRIORITY) + two CONTINUATION frames; a padded response. */
static void continuation(bool wrong_stream)
{
	static uint8_t blk[512], pl[600];
	size_t n = hpack(REQ, req_grpc, blk, sizeof(blk)), a = 3, b = n / 2, off = 0;

	at(REQ);
	preface();
	pl[off++] = 7; /* pad length */
	memcpy(pl + off, "\x80\x00\x00\x00\x20", 5);
	off += 5;
	memcpy(pl + off, blk, a);
	off += a;
	memset(pl + off, 0, 7);
	off += 7;
	frame(T_HEADERS, PAD | PRI, 1, pl, off);
	frame(T_CONT, 0, wrong_stream ? 3 : 1, blk + a, b - a);
	frame(T_CONT, EH, 1, blk + b, n - b);
	at(REQ); /* its own run: resync after the bad frame does not depend on splits */
	data(1, ES, 4);
	at(RESP);
	setting(0, 0);
	n = hpack(RESP, resp_grpc_only, blk, sizeof(blk));
	pl[0] = 3;
	memcpy(pl + 1, blk, n);
	memset(pl + 1 + n, 0, 3);
	frame(T_HEADERS, PAD | EH | ES, 1, pl, n + 4);
}

static void b_continuation(void)
{
	continuation(false);
}

static void b_continuation_bad(void)
{
	continuation(true);
}

/* Two streams answered in the other order, their frames interleaved. */
static void b_interleaved(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	headers(3, ES, req_b);
	at(RESP);
	setting(0, 0);
	headers(3, 0, resp_404);
	headers(1, 0, resp_200);
	data(1, ES, 1);
	data(3, ES, 2);
}

/* A response header before its request: unpaired; the request then waits for close. */
static void b_interleaved_unpaired(void)
{
	at(RESP);
	setting(0, 0);
	headers(3, ES, resp_404);
	at(REQ);
	preface();
	headers(3, ES, req_b);
}

/* One header frame longer than the carry, allowed by the server's SETTINGS_MAX_FRAME_SIZE. */
static void big_frame(bool allowed)
{
	static char cookie[BIG_FIELD + 1];
	const char *kv[] = { ":method",    "GET",         ":scheme", "https", ":path", "/big",
		             ":authority", "example.com", "cookie",  cookie,  NULL };

	memset(cookie, '|', BIG_FIELD); /* an 11-bit Huffman code: sent raw */
	memcpy(cookie, "secret=", 7);
	at(REQ);
	preface();
	at(RESP);
	setting(5, allowed ? 65536 : 16384);
	at(REQ);
	headers(1, ES, kv);
	at(RESP);
	headers(1, ES, resp_200);
}

static void b_big_frame(void)
{
	big_frame(true);
}

static void b_big_frame_refused(void)
{
	big_frame(false);
}

/*
 * Values beyond their limits are cut and marked; userinfo in :authority (a
 * credential) is dropped, however long the value is.
 */
static void long_values(bool query)
{
	static char path[700], auth[300];
	const char *kv[] = { ":method", "PROPFINDANDMOREMORE", ":scheme", "https", ":path",
		             path,      ":authority",          auth,      NULL };

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	if (query)
		path[100] = '?';
	memset(auth, 'h', sizeof(auth) - 1);
	memcpy(auth, "user:secret-password@", 21);
	memcpy(auth + sizeof(auth) - 6, ":8080", 5);
	at(REQ);
	preface();
	headers(1, ES, kv);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_200);
}

static void b_long_path(void)
{
	long_values(false);
}

static void b_long_query(void)
{
	long_values(true);
}

/* host stands in for a missing :authority; userinfo goes, the port stays. */
static void b_host_header(void)
{
	const char *kv[] = { ":method", "GET", ":scheme", "http",
		             ":path",   "/h",  "host",    "me:secret@www.example.org:81",
		             NULL };

	at(REQ);
	preface();
	headers(1, ES, kv);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_200);
}

/* ---- cases: gaps, resync, garbage ----------------------------------------- */

static void first_exchange(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_200);
}

/*
 * A request HEADERS frame cut after 3 bytes of its block, then a gap that
 * ends with the frame: its stream opens with what the 3 bytes said and the
 * side stays in frame sync; the HPACK context is gone, so the next request
 * keeps only what does not reference the lost table (:authority does).
 */
static void b_gap_salvage(void)
{
	static uint8_t blk[256];
	size_t n;

	first_exchange();
	at(REQ);
	n = hpack(REQ, req_b, blk, sizeof(blk));
	frame_hdr((uint32_t)n, T_HEADERS, ES | EH, 3);
	raw(blk, 3);
	gap(REQ, n - 3);
	at(REQ);
	headers(5, ES, req_c);
	at(RESP);
	headers(3, ES, resp_200);
	headers(5, ES, resp_200);
}

/* The frame's PADDED/PRIORITY prefix is cut by a gap that ends with the frame. */
static void b_gap_salvage_prefix(void)
{
	static uint8_t blk[256];
	size_t n;

	first_exchange();
	at(REQ);
	n = hpack(REQ, req_b, blk, sizeof(blk));
	frame_hdr((uint32_t)(n + 6), T_HEADERS, ES | EH | PAD | PRI, 3);
	raw("\x00\x00", 2);
	gap(REQ, n + 4);
	at(REQ);
	headers(5, ES, req_c);
	at(RESP);
	headers(3, ES, resp_200);
	headers(5, ES, resp_200);
}

/* The twin: only the frame header made it, then a gap longer than the frame. */
static void b_gap_salvage_header_only(void)
{
	static uint8_t blk[256];
	size_t n;

	first_exchange();
	at(REQ);
	n = hpack(REQ, req_b, blk, sizeof(blk));
	frame_hdr((uint32_t)n, T_HEADERS, ES | EH, 3);
	gap(REQ, n + 100);
	at(REQ);
	raw("\xff\xff\xff\xff", 4); /* the rest of whatever the gap cut: no frame starts here */
	at(REQ);
	headers(5, ES, req_c);
	at(RESP);
	headers(3, ES, resp_200);
	headers(5, ES, resp_200);
}

/* A gap inside a DATA payload, covered by its length: nothing is lost but the bytes. */
static void gap_in_data(size_t gap_len)
{
	at(REQ);
	preface();
	headers(1, ES, req_grpc);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_grpc);
	frame_hdr(1000, T_DATA, 0, 1);
	raw("0123456789", 10);
	gap(RESP, gap_len);
	at(RESP);
	headers(1, ES, trl_unavail);
}

static void b_gap_in_data(void)
{
	gap_in_data(990);
}

/* The twin: the gap runs past the frame; the trailers' run resyncs. */
static void b_gap_past_data(void)
{
	gap_in_data(1500);
}

/*
 * A gap that takes whole requests: the side resyncs at the next run that
 * starts with a frame. Stream 3's request is lost (its response is
 * unpaired); stream 5 references the lost table for :authority (not
 * reported, never guessed); stream 7's new authority is a literal.
 */
static void b_gap_resync(void)
{
	size_t lost;

	first_exchange();
	lost = lost_headers(REQ, req_other);
	gap(REQ, lost);
	at(REQ);
	raw("\xff\xfe\xfd\xfc\xfb\xfa", 6);
	at(REQ);
	headers(5, ES, req_c);
	headers(7, ES, req_d);
	at(RESP);
	headers(3, ES, resp_200);
	headers(5, ES, resp_200);
	headers(7, ES, resp_200);
}

/* A connection first seen midstream: the first runs are frames with literal fields. */
static void midstream(bool junk_first)
{
	static const uint8_t blk[] = { 0x83, 0x87, 0x04, 0x03, '/', 'm', 's',
		                       0x01, 0x04, 'h',  'o',  's', 't' };
	static const uint8_t status[] = { 0x8d }; /* :status 404, static index 13 */

	gap(REQ, 100);
	at(REQ);
	frame(T_HEADERS, ES | EH, 9, blk, sizeof(blk));
	if (junk_first) {
		at(RESP);
		raw("\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a", 10);
	}
	at(RESP);
	frame(T_HEADERS, ES | EH, 9, status, sizeof(status));
}

static void b_midstream(void)
{
	midstream(false);
}

static void b_midstream_junk(void)
{
	midstream(true);
}

static void b_garbage_start(void)
{
	at(REQ);
	raw("hello, this is not http/2\r\n", 27);
	at(RESP);
	raw("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 10);
}

static void b_garbage_after_preface(void)
{
	at(REQ);
	preface();
	raw("\xde\xad\xbe\xef\x00\x01\x02\x03\x04\x05\x06\x07", 12);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_200);
}

static void b_bad_ping(void)
{
	at(REQ);
	preface();
	frame(T_PING, 0, 0, "12345", 5);
	at(REQ);
	headers(1, ES, req_a);
}

/* A DATA frame declaring 16 MiB - 1 on a connection seen from its start: refused. */
static void b_huge_strict(void)
{
	at(REQ);
	preface();
	headers(1, 0, req_a);
	frame_hdr(0xffffff, T_DATA, 0, 1);
	raw("abc", 3);
}

/* Midstream, lengths are not checked: the 16 MiB DATA frame is skipped, never held. */
static void b_huge_data_midstream(void)
{
	gap(REQ, 10);
	at(REQ);
	frame(T_PING, 0, 0, "12345678", 8);
	at(REQ);
	frame_hdr(0xfffff0, T_DATA, ES, 1);
	raw("abcdef", 6);
	at(REQ);
	headers(3, ES, req_a); /* inside the skip */
}

/* ... and a 16 MiB header block is streamed into the inflater, never held. */
static void b_huge_headers_midstream(void)
{
	gap(REQ, 10);
	at(REQ);
	frame(T_PING, 0, 0, "12345678", 8);
	at(REQ);
	frame_hdr(0xffffff, T_HEADERS, EH, 3);
	raw("\x82\x86", 2);
}

/* A literal whose name declares a length of gigabytes: the block is dropped, not held. */
static void b_huge_literal(void)
{
	at(REQ);
	preface();
	frame(T_HEADERS, ES | EH, 1, "\x82\x00\x7f\xff\xff\xff\xff\x0f", 8);
	frame_hdr(6 * 1000, T_SETTINGS, 0, 0); /* too long to read: skipped */
	for (int i = 0; i < 1000; i++)
		raw("\x00\x01\x00\x00\x10\x00", 6);
	headers(3, ES, req_a);
}

/* ---- cases: pairing ------------------------------------------------------- */

static void b_unpaired(void)
{
	at(REQ);
	preface();
	at(RESP);
	setting(0, 0);
	headers(5, ES, resp_200);
	headers(7, 0, resp_200);
	data(7, ES, 1);
}

static void b_close_pending(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	headers(3, ES, req_b);
	at(RESP);
	setting(0, 0);
}

static void b_rst_refused(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	at(RESP);
	setting(0, 0);
	u32_frame(T_RST, 1, 7);
}

static void b_rst_after_headers(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	headers(3, ES, req_b);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_200);
	u32_frame(T_RST, 1, 2);
	headers(3, 0, resp_200);
	at(REQ);
	u32_frame(T_RST, 3, 8);
}

static void b_goaway(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_a);
	headers(3, ES, req_b);
	headers(5, ES, req_c);
	at(RESP);
	setting(0, 0);
	goaway(1, 0);
	headers(1, ES, resp_200);
}

static void b_table_full(void)
{
	at(REQ);
	preface();
	for (uint32_t i = 0; i < MANY_STREAMS; i++)
		headers(2 * i + 1, ES, req_a);
}

/*
 * The client allows a 16 KiB table: the server's encoder grows to it and
 * keeps an entry (content-type) that a 4 KiB table would have evicted.
 */
static void header_table(bool announced)
{
	static char big[3][3001];
	const char *r1[] = { ":status",
		             "200",
		             "content-type",
		             "application/grpc",
		             "x-a",
		             big[0],
		             "x-b",
		             big[1],
		             "x-c",
		             big[2],
		             NULL };
	const char *r2[] = { ":status", "200", "content-type", "application/grpc", NULL };

	for (int i = 0; i < 3; i++) {
		memset(big[i], 'a' + i, 3000);
		big[i][3000] = 0;
	}
	at(REQ);
	raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	if (announced)
		setting(1, 16384);
	else
		setting(0, 0);
	headers(1, ES, req_a);
	headers(3, ES, req_c);
	at(RESP);
	setting(0, 0);
	ck_assert_int_eq(nghttp2_hd_deflate_change_table_size(cv.enc[RESP], 16384), 0);
	headers(1, ES, r1);
	headers(3, ES, r2);
}

static void b_header_table(void)
{
	header_table(true);
}

static void b_header_table_unannounced(void)
{
	header_table(false);
}

/* A PUSH_PROMISE block feeds the server's table: the response then references it. */
static void b_push(void)
{
	static uint8_t pl[256];
	const char *promised[] = {
		":method",    "GET",        ":scheme",     "https",        ":path",
		"/style.css", ":authority", "example.com", "content-type", "application/grpc",
		NULL
	};
	const char *r1[] = { ":status", "200", "content-type", "application/grpc", NULL };
	size_t n;

	at(REQ);
	preface();
	headers(1, ES, req_a);
	at(RESP);
	setting(0, 0);
	memcpy(pl, "\x00\x00\x00\x02", 4);
	n = hpack(RESP, promised, pl + 4, sizeof(pl) - 4);
	frame(T_PUSH, EH, 1, pl, n + 4);
	headers(1, ES, r1);
	headers(2, ES, resp_200); /* the pushed response: not a request of the client's */
}

/* ---- header capture (io->headers) ----------------------------------------- */

/* The header names a case's session captures. */
enum hset {
	HS_DEFAULT = 0, /* the default policy's */
	HS_NONE,        /* io->headers NULL */
	HS_CAPTURE,     /* X-Request-Id, authorization, Content-Type, x-trailer */
	HS_MANY,        /* x-a ... x-h: more than a message may capture */
	HS_RFC,         /* names in RFC 7541 C.4 and C.6 */
	HS_JOIN,        /* x-request-id, cookie, authorization */
	HS__COUNT,
};

static const char *const hset_names[HS__COUNT][9] = {
	[HS_DEFAULT] = { "accept", "accept-encoding", "content-encoding", "content-length",
	                 "content-type" },
	[HS_CAPTURE] = { "X-Request-Id", "authorization", "Content-Type", "x-trailer" },
	[HS_MANY] = { "x-a", "x-b", "x-c", "x-d", "x-e", "x-f", "x-g", "x-h" },
	[HS_RFC] = { "cache-control", "location", "content-encoding", "custom-key" },
	[HS_JOIN] = { "x-request-id", "cookie", "authorization" },
};

static const struct proto_headers *hset(enum hset which)
{
	static struct proto_headers sets[HS__COUNT];
	struct proto_headers *hs = &sets[which];

	if (which == HS_NONE)
		return NULL;
	if (hs->n == 0)
		for (size_t i = 0; hset_names[which][i]; i++)
			ck_assert_int_eq(proto_headers_add(hs, hset_names[which][i],
			                                   strlen(hset_names[which][i])),
			                 0);
	return hs;
}

static const char *const req_cap1[] = {
	":method",      "POST",        ":scheme",       "https",
	":path",        "/c1",         ":authority",    "example.com",
	"x-request-id", "id-1",        "authorization", "tok-allowed",
	"cookie",       "s=secret",    "x-api-key",     "secret-key",
	"content-type", "text/x-json", "x-request-idx", "secret",
	NULL,
};
/* CONTENT-TYPE: names are matched whatever their case (an HTTP/2 peer should send lowercase) */
static const char *const req_cap3[] = {
	":method",       "GET",         ":scheme",      "https",        ":path",
	"/c3",           ":authority",  "example.com",  "x-request-id", "id-1",
	"authorization", "tok-allowed", "CONTENT-TYPE", "text/plain",   "x-api-key",
	"secret-other",  NULL,
};
static const char *const resp_cap_100[] = { ":status", "100", "x-request-id", "early", NULL };
static const char *const resp_cap3[] = { ":status",    "200",          "content-type",
	                                 "text/html",  "x-request-id", "r-3",
	                                 "set-cookie", "sid=secret",   NULL };
static const char *const resp_cap1[] = { ":status",     "201",          "content-type",
	                                 "text/x-json", "x-request-id", "r-1",
	                                 NULL };
static const char *const trl_cap[] = { "x-trailer", "tv", "grpc-message", "secret", NULL };

/*
 * Two requests, the second's values from the encoder's dynamic table, their
 * responses interleaved, an interim response, and trailers.
 */
static void b_capture(void)
{
	at(REQ);
	preface();
	headers(1, 0, req_cap1);
	data(1, ES, 3);
	headers(3, ES, req_cap3);
	/* the first block added x-request-id: id-1 to the table; the second refers to it */
	ck_assert_uint_gt(nghttp2_hd_deflate_get_num_table_entries(cv.enc[REQ]), 61);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_cap_100);
	headers(3, 0, resp_cap3);
	headers(1, 0, resp_cap1);
	data(1, 0, 2);
	headers(1, ES, trl_cap);
	data(3, ES, 1);
}

static const char *const req_many[] = {
	":method", "GET", ":scheme", "https", ":path", "/m",  ":authority", "h",   "x-a",
	"1",       "x-b", "2",       "x-c",   "3",     "x-d", "4",          "x-e", "5",
	"x-f",     "6",   "x-g",     "7",     "x-a",   "1b",  "x-h",        "8",   NULL,
};
static const char *const resp_many[] = {
	":status", "200", "x-h", "8",   "x-g", "7",   "x-a", "1",  "x-b",
	"2",       "x-c", "3",   "x-d", "4",   "x-e", "5",   NULL,
};

static void b_capture_many(void)
{
	at(REQ);
	preface();
	headers(1, ES, req_many);
	at(RESP);
	setting(0, 0);
	headers(1, ES, resp_many);
}

/* ---- the table -------------------------------------------------------------- */

struct counts {
	uint64_t unpaired, dropped, errors, desyncs;
};

struct h2_case {
	const char *name;
	void (*build)(void);
	enum proto_role role;
	unsigned ntxn;
	const char *txn[4]; /* spec of the first transactions, in emission order */
	struct counts cnt;
};

/* A case run with another header set than the default, and headers_not_captured it counts. */
struct h2_capture_case {
	struct h2_case c;
	enum hset hs;
	uint64_t not_captured;
};

/*
 * A spec: "OK|ERROR|NORESP" then "key=value" (string or decimal int),
 * "!key" (absent) or "key~" (present with TXN_TRUNCATED).
 */
#define P10 "pppppppppp"

static const struct h2_case cases[] = {
	{ "get",
	  b_get,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK network.protocol.version=2 http.request.method=GET url.scheme=https "
	    "url.path=/index.html url.query=a=1 server.address=example.com server.port=8443 "
	    "http.response.status_code=200 http.response.body.size=5 !rpc.system" },
	  { 0, 0, 0, 0 } },
	{ "get cut after headers",
	  b_get_cut,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK http.request.method=GET http.response.status_code=200 "
	    "http.response.body.size=3" },
	  { 0, 0, 0, 0 } },
	{ "get response frame cut",
	  b_get_noresp,
	  PROTO_ROLE_SERVER,
	  1,
	  { "NORESP http.request.method=GET url.path=/index.html !http.response.status_code" },
	  { 0, 0, 0, 0 } },
	{ "rfc7541 c.4/c.6 pipelined",
	  b_rfc,
	  PROTO_ROLE_CLIENT,
	  3,
	  { "OK http.request.method=GET url.scheme=http url.path=/ server.address=www.example.com "
	    "http.response.status_code=302 !url.query",
	    "OK http.request.method=GET url.path=/ server.address=www.example.com "
	    "http.response.status_code=307",
	    "OK http.request.method=GET url.scheme=https url.path=/index.html "
	    "server.address=www.example.com http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "rfc7541 with a bad index",
	  b_rfc_bad_index,
	  PROTO_ROLE_CLIENT,
	  3,
	  { "OK server.address=www.example.com http.response.status_code=302",
	    "OK http.request.method=GET url.scheme=http url.path=/ !server.address "
	    "http.response.status_code=307",
	    "OK http.request.method=GET url.scheme=https url.path=/index.html !server.address "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "grpc unary",
	  b_grpc,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK rpc.system=grpc rpc.service=helloworld.Greeter rpc.method=SayHello "
	    "rpc.grpc.status_code=0 http.request.method=POST "
	    "url.path=/helloworld.Greeter/SayHello server.address=2001:db8::1 server.port=50051 "
	    "http.response.status_code=200 http.request.body.size=10 http.response.body.size=12" },
	  { 0, 0, 0, 0 } },
	{ "grpc unavailable",
	  b_grpc_unavail,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR rpc.system=grpc rpc.grpc.status_code=14 http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "grpc trailers-only",
	  b_grpc_trailers_only,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "ERROR rpc.system=grpc rpc.method=SayHello rpc.grpc.status_code=5 "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "grpc trailers-only cut",
	  b_grpc_trailers_cut,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "NORESP rpc.system=grpc !rpc.grpc.status_code !http.response.status_code" },
	  { 0, 0, 0, 0 } },
	{ "server 503",
	  b_503,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR http.response.status_code=503" },
	  { 0, 0, 0, 0 } },
	{ "server 404",
	  b_404,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK http.response.status_code=404" },
	  { 0, 0, 0, 0 } },
	{ "client 404",
	  b_404,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "ERROR http.response.status_code=404" },
	  { 0, 0, 0, 0 } },
	{ "client 302",
	  b_302,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "OK http.response.status_code=302" },
	  { 0, 0, 0, 0 } },
	{ "continuation, padding, priority",
	  b_continuation,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR rpc.system=grpc rpc.service=helloworld.Greeter rpc.grpc.status_code=5 "
	    "http.request.method=POST http.request.body.size=4" },
	  { 0, 0, 0, 0 } },
	{ "continuation on another stream",
	  b_continuation_bad,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR http.request.method=POST url.scheme=http !url.path !server.address "
	    "rpc.system=grpc rpc.grpc.status_code=5 http.request.body.size=4" },
	  { 0, 0, 1, 1 } },
	{ "long path",
	  b_long_path,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK http.request.method~ url.path~ !url.query server.address~ !server.port" },
	  { 0, 0, 0, 0 } },
	{ "long query",
	  b_long_query,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK url.path=/" P10 P10 P10 P10 P10 P10 P10 P10 P10 "ppppppppp url.query~" },
	  { 0, 0, 0, 0 } },
	{ "host header",
	  b_host_header,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK server.address=www.example.org server.port=81 url.scheme=http" },
	  { 0, 0, 0, 0 } },
	{ "interleaved streams",
	  b_interleaved,
	  PROTO_ROLE_CLIENT,
	  2,
	  { "OK url.path=/a http.response.status_code=200 http.response.body.size=1",
	    "ERROR url.path=/b http.response.status_code=404 http.response.body.size=2" },
	  { 0, 0, 0, 0 } },
	{ "response before its request",
	  b_interleaved_unpaired,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "NORESP url.path=/b" },
	  { 1, 0, 0, 0 } },
	{ "big header frame",
	  b_big_frame,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK http.request.method=GET url.path=/big server.address=example.com "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "big header frame not allowed",
	  b_big_frame_refused,
	  PROTO_ROLE_SERVER,
	  0,
	  { NULL },
	  { 1, 0, 1, 1 } },
	{ "gap salvage",
	  b_gap_salvage,
	  PROTO_ROLE_SERVER,
	  3,
	  { "OK url.path=/a server.address=example.com",
	    "OK http.request.method=POST url.scheme=https !url.path !server.address "
	    "http.response.status_code=200",
	    "OK http.request.method=GET url.path=/c !server.address "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "gap salvage, prefix cut",
	  b_gap_salvage_prefix,
	  PROTO_ROLE_SERVER,
	  3,
	  { "OK url.path=/a server.address=example.com",
	    "OK !http.request.method !url.path http.response.status_code=200",
	    "OK http.request.method=GET url.path=/c !server.address "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "gap salvage, header only",
	  b_gap_salvage_header_only,
	  PROTO_ROLE_SERVER,
	  3,
	  { "OK url.path=/a server.address=example.com",
	    "OK !http.request.method !url.path http.response.status_code=200",
	    "OK http.request.method=GET url.path=/c !server.address "
	    "http.response.status_code=200" },
	  { 0, 0, 0, 1 } },
	{ "gap inside data",
	  b_gap_in_data,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR rpc.system=grpc rpc.grpc.status_code=14 http.response.body.size=1000" },
	  { 0, 0, 0, 0 } },
	{ "gap past data",
	  b_gap_past_data,
	  PROTO_ROLE_SERVER,
	  1,
	  { "ERROR rpc.system=grpc rpc.grpc.status_code=14 http.response.body.size=1000" },
	  { 0, 0, 0, 1 } },
	{ "gap resync",
	  b_gap_resync,
	  PROTO_ROLE_SERVER,
	  3,
	  { "OK url.path=/a server.address=example.com",
	    "OK http.request.method=GET url.path=/c !server.address",
	    "OK http.request.method=GET url.path=/d server.address=new.example" },
	  { 1, 0, 0, 1 } },
	{ "midstream",
	  b_midstream,
	  PROTO_ROLE_SERVER,
	  1,
	  { "OK http.request.method=POST url.scheme=https url.path=/ms server.address=host "
	    "http.response.status_code=404" },
	  { 0, 0, 0, 0 } },
	/* the side that did not pass detection starts out of sync: junk is dropped, not an error */
	{ "midstream, response side starts in junk",
	  b_midstream_junk,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "ERROR http.request.method=POST url.path=/ms http.response.status_code=404" },
	  { 0, 0, 0, 0 } },
	{ "garbage at start", b_garbage_start, PROTO_ROLE_UNKNOWN, 0, { NULL }, { 0, 0, 0, 0 } },
	{ "garbage after preface",
	  b_garbage_after_preface,
	  PROTO_ROLE_SERVER,
	  0,
	  { NULL },
	  { 1, 0, 1, 1 } },
	{ "ping of 5 bytes",
	  b_bad_ping,
	  PROTO_ROLE_SERVER,
	  1,
	  { "NORESP url.path=/a" },
	  { 0, 0, 1, 1 } },
	{ "huge frame, strict",
	  b_huge_strict,
	  PROTO_ROLE_SERVER,
	  1,
	  { "NORESP url.path=/a !http.request.body.size" },
	  { 0, 0, 1, 1 } },
	{ "huge data, midstream",
	  b_huge_data_midstream,
	  PROTO_ROLE_SERVER,
	  0,
	  { NULL },
	  { 0, 0, 0, 0 } },
	{ "huge headers, midstream",
	  b_huge_headers_midstream,
	  PROTO_ROLE_SERVER,
	  1,
	  { "NORESP http.request.method=GET url.scheme=http" },
	  { 0, 0, 0, 0 } },
	{ "huge literal length",
	  b_huge_literal,
	  PROTO_ROLE_SERVER,
	  2,
	  { "NORESP http.request.method=GET !url.path",
	    "NORESP http.request.method=GET url.path=/a" },
	  { 0, 0, 0, 0 } },
	{ "unpaired responses", b_unpaired, PROTO_ROLE_SERVER, 0, { NULL }, { 2, 0, 0, 0 } },
	{ "close with pending requests",
	  b_close_pending,
	  PROTO_ROLE_SERVER,
	  2,
	  { "NORESP http.request.method=GET url.path=/a",
	    "NORESP http.request.method=POST url.path=/b" },
	  { 0, 0, 0, 0 } },
	{ "rst refused",
	  b_rst_refused,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "NORESP url.path=/a error.type=REFUSED_STREAM" },
	  { 0, 0, 0, 0 } },
	{ "rst after headers",
	  b_rst_after_headers,
	  PROTO_ROLE_CLIENT,
	  2,
	  { "ERROR url.path=/a http.response.status_code=200 error.type=INTERNAL_ERROR",
	    "ERROR url.path=/b http.response.status_code=200 error.type=CANCEL" },
	  { 0, 0, 0, 0 } },
	{ "goaway",
	  b_goaway,
	  PROTO_ROLE_CLIENT,
	  3,
	  { "NORESP url.path=/b", "NORESP url.path=/c", "OK url.path=/a" },
	  { 0, 0, 0, 0 } },
	{ "pending table full",
	  b_table_full,
	  PROTO_ROLE_SERVER,
	  64,
	  { "NORESP url.path=/a" },
	  { 0, MANY_STREAMS - 64, 0, 0 } },
	{ "header table size from settings",
	  b_header_table,
	  PROTO_ROLE_SERVER,
	  2,
	  { "OK rpc.system=grpc http.response.status_code=200",
	    "OK rpc.system=grpc http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "header table size not announced",
	  b_header_table_unannounced,
	  PROTO_ROLE_SERVER,
	  2,
	  { "OK !rpc.system !http.response.status_code",
	    "OK !rpc.system http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
	{ "push promise",
	  b_push,
	  PROTO_ROLE_CLIENT,
	  1,
	  { "OK rpc.system=grpc url.path=/a http.response.status_code=200" },
	  { 0, 0, 0, 0 } },
};

static const struct h2_capture_case captures[] = {
	{ { "grpc unary, default header set",
	    b_grpc,
	    PROTO_ROLE_SERVER,
	    1,
	    { "OK rpc.system=grpc " REQ_HDR "content-type=application/grpc " RESP_HDR
	      "content-type=application/grpc+proto !" REQ_HDR "te !" RESP_HDR "grpc-message" },
	    { 0, 0, 0, 0 } },
	  HS_DEFAULT,
	  0 },
	{ { "named headers, any case, dynamic table, trailers, no 1xx",
	    b_capture,
	    PROTO_ROLE_SERVER,
	    2,
	    { "OK url.path=/c1 http.response.status_code=201 " REQ_HDR "x-request-id=id-1 " REQ_HDR
	      "authorization=tok-allowed " REQ_HDR "content-type=text/x-json " RESP_HDR
	      "content-type=text/x-json " RESP_HDR "x-request-id=r-1 " RESP_HDR
	      "x-trailer=tv !" REQ_HDR "cookie !" REQ_HDR "x-api-key !" REQ_HDR "x-request-idx",
	      "OK url.path=/c3 http.response.status_code=200 " REQ_HDR "x-request-id=id-1 " REQ_HDR
	      "authorization=tok-allowed " REQ_HDR "content-type=text/plain " RESP_HDR
	      "x-request-id=r-3 " RESP_HDR "content-type=text/html !" RESP_HDR
	      "set-cookie !" RESP_HDR "x-trailer" },
	    { 0, 0, 0, 0 } },
	  HS_CAPTURE,
	  0 },
	{ { "no header set",
	    b_capture,
	    PROTO_ROLE_SERVER,
	    2,
	    { "OK url.path=/c1 !" REQ_HDR "x-request-id !" REQ_HDR "content-type !" RESP_HDR
	      "content-type !" RESP_HDR "x-trailer",
	      "OK url.path=/c3 !" REQ_HDR "x-request-id !" RESP_HDR "x-request-id" },
	    { 0, 0, 0, 0 } },
	  HS_NONE,
	  0 },
	{ { "at most six names per message, the rest counted",
	    b_capture_many,
	    PROTO_ROLE_SERVER,
	    1,
	    { "OK " REQ_HDR "x-b=2 " REQ_HDR "x-f=6 !" REQ_HDR "x-g !" REQ_HDR "x-h " RESP_HDR
	      "x-h=8 " RESP_HDR "x-g=7 " RESP_HDR "x-d=4 !" RESP_HDR "x-e" },
	    { 0, 0, 0, 0 } },
	  HS_MANY,
	  3 },
	{ { "rfc7541 c.4/c.6: Huffman values and dynamic table references",
	    b_rfc,
	    PROTO_ROLE_CLIENT,
	    3,
	    { "OK http.response.status_code=302 " RESP_HDR "cache-control=private " RESP_HDR
	      "location=https://www.example.com !" RESP_HDR "content-encoding",
	      "OK http.response.status_code=307 " RESP_HDR "cache-control=private " RESP_HDR
	      "location=https://www.example.com",
	      "OK http.response.status_code=200 " REQ_HDR "custom-key=custom-value " RESP_HDR
	      "cache-control=private " RESP_HDR "location=https://www.example.com " RESP_HDR
	      "content-encoding=gzip" },
	    { 0, 0, 0, 0 } },
	  HS_RFC,
	  0 },
};

/* ---- checks ------------------------------------------------------------------ */

static const char *const allowed_keys[] = {
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

/* A header attribute's name, when @key is one ("" otherwise). */
static const char *header_name(const char *key)
{
	if (!strncmp(key, REQ_HDR, strlen(REQ_HDR)))
		return key + strlen(REQ_HDR);
	if (!strncmp(key, RESP_HDR, strlen(RESP_HDR)))
		return key + strlen(RESP_HDR);
	return "";
}

/* What holds for every transaction of every case; @hs: the header set of its session. */
static void check_invariants(const char *name, const struct h_txn *t,
                             const struct proto_headers *hs)
{
	ck_assert_msg(t->proto == PROTO_HTTP2, "%s: proto %d", name, t->proto);
	ck_assert_msg(t->end_ns >= t->start_ns, "%s: ends before it starts", name);
	if (t->status == TXN_NO_RESPONSE)
		ck_assert_msg(t->end_ns == t->start_ns, "%s: no response but an end", name);
	for (uint32_t i = 0; i < t->nattrs; i++) {
		const struct h_attr *a = &t->attrs[i];
		bool known = false;

		const char *hname = header_name(a->key);
		bool header = hname[0] != '\0';

		for (size_t k = 0; k < sizeof(allowed_keys) / sizeof(allowed_keys[0]); k++)
			known |= !strcmp(a->key, allowed_keys[k]);
		known |= header && proto_headers_find(hs, hname, strlen(hname)) != NULL;
		ck_assert_msg(known, "%s: unexpected attribute %s", name, a->key);
		ck_assert_msg(!memmem(a->str, a->len, "secret", 6), "%s: %s leaks a secret", name,
		              a->key);
		ck_assert_msg((header || !strcmp(a->key, "url.query")) ==
		                      !!(a->flags & TXN_SENSITIVE),
		              "%s: %s sensitivity", name, a->key);
		ck_assert_msg(!header || a->len <= PROTO_HEADER_VALUE_MAX, "%s: %s is %u bytes",
		              name, a->key, a->len);
	}
}

static const char *status_name(enum txn_status s)
{
	return s == TXN_OK ? "OK" : s == TXN_ERROR ? "ERROR" : "NORESP";
}

static void check_token(const char *name, unsigned i, const struct h_txn *t, const char *tok)
{
	const char *eq = strchr(tok, '=');
	char key[64];
	size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);
	const struct h_attr *a;

	if (tok[0] == '!') {
		ck_assert_msg(!h_attr(t, tok + 1), "%s: txn %u has %s", name, i, tok + 1);
		return;
	}
	if (!eq && tok[klen - 1] == '~')
		klen--;
	snprintf(key, sizeof(key), "%.*s", (int)klen, tok);
	a = h_attr(t, key);
	ck_assert_msg(a, "%s: txn %u lacks %s", name, i, key);
	if (!eq) {
		ck_assert_msg(a->flags & TXN_TRUNCATED, "%s: txn %u %s not truncated", name, i,
		              key);
		return;
	}
	if (a->type == TXN_INT)
		ck_assert_msg(a->num == strtoll(eq + 1, NULL, 10), "%s: txn %u %s=%" PRId64, name,
		              i, key, a->num);
	else
		ck_assert_msg(!strcmp(a->str, eq + 1), "%s: txn %u %s=\"%s\"", name, i, key,
		              a->str);
}

static void check_spec(const char *name, unsigned i, const struct h_txn *t, const char *spec)
{
	char buf[1024], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", spec);
	tok = strtok_r(buf, " ", &save);
	ck_assert_msg(!strcmp(tok, status_name(t->status)), "%s: txn %u is %s, want %s", name, i,
	              status_name(t->status), tok);
	while ((tok = strtok_r(NULL, " ", &save)))
		check_token(name, i, t, tok);
}

static void run_case(const struct h2_case *c, enum hset hs, uint64_t not_captured)
{
	static struct harness ref;
	char why[WHY_MAX] = "";
	const struct proto_counters *k = &ref.env.cnt;

	harness_headers = hset(hs);
	conv_begin();
	c->build();
	conv_end();
	ck_assert_msg(harness_check_splits(&ref, PROTO_HTTP2, c->role, cv.steps, cv.n, why,
	                                   sizeof(why)) == 0,
	              "%s: %s", c->name, why);
	ck_assert_msg(ref.n + ref.overflow == c->ntxn, "%s: %u transactions, want %u", c->name,
	              ref.n + ref.overflow, c->ntxn);
	for (unsigned i = 0; i < ref.n; i++) {
		check_invariants(c->name, &ref.txns[i], ref.env.headers);
		if (i < 4 && c->txn[i])
			check_spec(c->name, i, &ref.txns[i], c->txn[i]);
	}
	ck_assert_msg(k->unpaired[PROTO_HTTP2] == c->cnt.unpaired, "%s: unpaired %" PRIu64, c->name,
	              k->unpaired[PROTO_HTTP2]);
	ck_assert_msg(k->pending_dropped[PROTO_HTTP2] == c->cnt.dropped, "%s: dropped %" PRIu64,
	              c->name, k->pending_dropped[PROTO_HTTP2]);
	ck_assert_msg(k->parse_errors[PROTO_HTTP2] == c->cnt.errors, "%s: parse errors %" PRIu64,
	              c->name, k->parse_errors[PROTO_HTTP2]);
	ck_assert_msg(k->desyncs == c->cnt.desyncs, "%s: desyncs %" PRIu64, c->name, k->desyncs);
	ck_assert_msg(k->headers_not_captured == not_captured, "%s: headers not captured %" PRIu64,
	              c->name, k->headers_not_captured);
}

START_TEST(test_case)
{
	run_case(&cases[_i], HS_DEFAULT, 0);
}
END_TEST

START_TEST(test_capture_case)
{
	run_case(&captures[_i].c, captures[_i].hs, captures[_i].not_captured);
}
END_TEST

/*
 * Joins: repeated fields with ", ", cookie crumbs with "; ", a trailer onto
 * its header; values cut at PROTO_HEADER_VALUE_MAX, alone or joined.
 */
START_TEST(test_capture_values)
{
	static char big[LONG_VALUE + 1], half[101];
	const char *req[] = { ":method",    "GET", ":scheme",      "https", ":path",         "/j",
		              ":authority", "h",   "x-request-id", "a",     "cookie",        "c=1",
		              "cookie",     "d=2", "x-request-id", "b",     "authorization", big,
		              NULL };
	const char *resp[] = { ":status", "200", "x-request-id", half, NULL };
	const char *trl[] = { "x-request-id", half, "x-request-id", "late", NULL };
	static struct harness h;
	const struct h_attr *a;
	char why[WHY_MAX] = "";

	memset(big, 'v', LONG_VALUE);
	memset(half, 'x', 100);
	harness_headers = hset(HS_JOIN);
	conv_begin();
	at(REQ);
	preface();
	headers(1, ES, req);
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp);
	headers(1, ES, trl);
	conv_end();
	ck_assert_msg(harness_check_splits(&h, PROTO_HTTP2, PROTO_ROLE_SERVER, cv.steps, cv.n, why,
	                                   sizeof(why)) == 0,
	              "%s", why);
	ck_assert_uint_eq(h.n, 1);
	check_invariants("values", &h.txns[0], h.env.headers);
	ck_assert_str_eq(h_str(&h.txns[0], REQ_HDR "x-request-id"), "a, b");
	ck_assert_str_eq(h_str(&h.txns[0], REQ_HDR "cookie"), "c=1; d=2");
	a = h_attr(&h.txns[0], REQ_HDR "authorization");
	ck_assert_uint_eq(a->len, PROTO_HEADER_VALUE_MAX);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE | TXN_TRUNCATED);
	ck_assert(!memcmp(a->str, big, PROTO_HEADER_VALUE_MAX));
	a = h_attr(&h.txns[0], RESP_HDR "x-request-id"); /* 100 x, ", ", 26 x of the trailer */
	ck_assert_uint_eq(a->len, PROTO_HEADER_VALUE_MAX);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE | TXN_TRUNCATED);
	ck_assert(a->str[99] == 'x' && a->str[100] == ',' && a->str[101] == ' ' &&
	          a->str[PROTO_HEADER_VALUE_MAX - 1] == 'x');
	ck_assert_uint_eq(h.env.cnt.headers_not_captured, 0);
}
END_TEST

/* Timing: a request starts at its HEADERS' run, ends at the run with END_STREAM. */
START_TEST(test_timestamps)
{
	static struct harness h;

	conv_begin();
	b_grpc();
	conv_end();
	cv.steps[0].ts_ns = 5000;
	cv.steps[1].ts_ns = 9000;
	harness_init(&h);
	harness_run(&h, PROTO_HTTP2, PROTO_ROLE_SERVER, cv.steps, cv.n, 0, 0);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_uint_eq(h.txns[0].start_ns, 5000);
	ck_assert_uint_eq(h.txns[0].end_ns, 9000);
}
END_TEST

/* ---- detection ------------------------------------------------------------------ */

#define PREFACE_STR "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct det_case {
	const char *name;
	enum proto_side side;
	unsigned flags;
	const char *bytes;
	size_t len;
	enum proto_match want;
};

#define B(s) s, sizeof(s) - 1

static const char mysql_greeting[] = "\x4a\x00\x00\x00\x0a\x38\x2e\x30\x2e\x33\x36\x00\x08\x00"
                                     "\x00\x00\x2f\x55\x3f\x5c\x1e\x0f\x6e\x29\x00\xff\xff";
static const char tls_hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02";
static const char pg_startup[] = "\x00\x00\x00\x29\x00\x03\x00\x00user\x00postgres\x00";
static const char pg_ssl[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f";

static const struct det_case det_cases[] = {
	{ "preface", REQ, PROTO_CONN_START, B(PREFACE_STR "\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
	  PROTO_YES },
	{ "preface prefix", REQ, PROTO_CONN_START, B("PRI * HTTP/2"), PROTO_MAYBE },
	{ "one byte", REQ, PROTO_CONN_START, B("P"), PROTO_MAYBE },
	{ "http/1 PRI", REQ, PROTO_CONN_START, B("PRI * HTTP/1.1\r\n"), PROTO_NO },
	{ "preface midstream", REQ, PROTO_MIDSTREAM, B(PREFACE_STR), PROTO_YES },
	{ "frame at conn start", REQ, PROTO_CONN_START, B("\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
	  PROTO_NO },
	{ "server settings", RESP, PROTO_CONN_START,
	  B("\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64"), PROTO_YES },
	{ "server settings prefix", RESP, PROTO_CONN_START, B("\x00\x00\x06\x04"), PROTO_MAYBE },
	{ "server ping first", RESP, PROTO_CONN_START,
	  B("\x00\x00\x08\x06\x00\x00\x00\x00\x00"
	    "12345678"),
	  PROTO_NO },
	{ "server settings ack first", RESP, PROTO_CONN_START,
	  B("\x00\x00\x00\x04\x01\x00\x00\x00\x00"), PROTO_NO },
	{ "headers midstream", REQ, PROTO_MIDSTREAM, B("\x00\x00\x01\x01\x05\x00\x00\x00\x01\x82"),
	  PROTO_YES },
	{ "data midstream", RESP, PROTO_MIDSTREAM, B("\x00\x00\x02\x00\x01\x00\x00\x00\x03ok"),
	  PROTO_YES },
	{ "window update, any stream", RESP, PROTO_MIDSTREAM,
	  B("\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x10\x00"), PROTO_YES },
	{ "partial header", RESP, PROTO_MIDSTREAM, B("\x00\x00\x10\x01"), PROTO_MAYBE },
	{ "frame then junk", RESP, PROTO_MIDSTREAM,
	  B("\x00\x00\x01\x00\x01\x00\x00\x00\x03x\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
	  PROTO_NO },
	{ "headers on stream 0", REQ, PROTO_MIDSTREAM,
	  B("\x00\x00\x01\x01\x04\x00\x00\x00\x00\x82"), PROTO_NO },
	{ "settings on stream 1", RESP, PROTO_MIDSTREAM, B("\x00\x00\x00\x04\x00\x00\x00\x00\x01"),
	  PROTO_NO },
	{ "undefined flag", REQ, PROTO_MIDSTREAM, B("\x00\x00\x01\x01\x40\x00\x00\x00\x01\x82"),
	  PROTO_NO },
	{ "reserved bit", REQ, PROTO_MIDSTREAM, B("\x00\x00\x01\x01\x04\x80\x00\x00\x01\x82"),
	  PROTO_NO },
	{ "unknown type", REQ, PROTO_MIDSTREAM, B("\x00\x00\x01\x0a\x00\x00\x00\x00\x00x"),
	  PROTO_NO },
	{ "too long", REQ, PROTO_MIDSTREAM, B("\x00\x40\x01\x00\x00\x00\x00\x00\x01"), PROTO_NO },
	{ "empty data", REQ, PROTO_MIDSTREAM, B("\x00\x00\x00\x00\x00\x00\x00\x00\x01"), PROTO_NO },
	{ "ping of 7", RESP, PROTO_MIDSTREAM,
	  B("\x00\x00\x07\x06\x00\x00\x00\x00\x00"
	    "1234567"),
	  PROTO_NO },
	{ "zeros", RESP, PROTO_MIDSTREAM, B("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), PROTO_NO },
};

/* Other protocols' first bytes, tried on both sides at start and midstream. */
static const struct {
	const char *name, *bytes;
	size_t len;
} foreign[] = {
	{ "http/1 request", B("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n") },
	{ "http/1 response", B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	{ "postgresql startup", pg_startup, sizeof(pg_startup) - 1 },
	{ "postgresql sslrequest", B(pg_ssl) },
	{ "redis array", B("*1\r\n$4\r\nPING\r\n") },
	{ "tls client hello", tls_hello, sizeof(tls_hello) - 1 },
	{ "mysql greeting", mysql_greeting, sizeof(mysql_greeting) - 1 },
	{ "kafka request", B("\x00\x00\x00\x3c\x00\x12\x00\x03\x00\x00\x00\x01") },
	{ "garbage", B("hello, this is not http/2\r\n") },
};

START_TEST(test_detect)
{
	const struct det_case *d = &det_cases[_i];
	enum proto_match m =
	        proto_http2.detect(d->side, (const uint8_t *)d->bytes, d->len, d->flags);

	ck_assert_msg(m == d->want, "%s: %d, want %d", d->name, m, d->want);
}
END_TEST

START_TEST(test_detect_foreign)
{
	for (int side = REQ; side <= RESP; side++)
		for (unsigned fl = PROTO_CONN_START; fl <= PROTO_MIDSTREAM; fl++)
			ck_assert_msg(proto_http2.detect((enum proto_side)side,
			                                 (const uint8_t *)foreign[_i].bytes,
			                                 foreign[_i].len, fl) == PROTO_NO,
			              "%s detected on side %d flags %u", foreign[_i].name, side,
			              fl);
}
END_TEST

static const struct proto_parser *const h2_only[] = { &proto_http2, NULL };

/* Through a session: nothing foreign becomes HTTP/2, whatever the role. */
START_TEST(test_detect_foreign_session)
{
	static struct harness h;
	struct h_step st[2] = { { REQ, foreign[_i].bytes, foreign[_i].len, 0 },
		                { RESP, foreign[_i].bytes, foreign[_i].len, 0 } };

	for (int role = PROTO_ROLE_UNKNOWN; role <= PROTO_ROLE_SERVER; role++) {
		harness_init(&h);
		h.env.table = h2_only;
		harness_run(&h, PROTO_UNKNOWN, (enum proto_role)role, st, 2, 0, 0);
		ck_assert_msg(h.detected != PROTO_HTTP2 && h.n == 0, "%s: detected",
		              foreign[_i].name);
	}
}
END_TEST

/* ---- h2c: an HTTP/1.1 stand-in that upgrades ------------------------------------ */

static enum proto_match stub_detect(enum proto_side side, const uint8_t *p, size_t len,
                                    unsigned flags)
{
	(void)flags;
	if (side != PROTO_REQ)
		return PROTO_NO;
	return len >= 4 ? (memcmp(p, "GET ", 4) ? PROTO_NO : PROTO_YES) : PROTO_MAYBE;
}

static int stub_init(void *st)
{
	(void)st;
	return 0;
}

static long stub_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                       size_t len)
{
	const uint8_t *end = memmem(p, len, "\r\n\r\n", 4);

	(void)st;
	if (!end)
		return PROTO_INCOMPLETE;
	if (side == PROTO_RESP && len >= 12 && !memcmp(p, "HTTP/1.1 101", 12))
		io->switch_to = PROTO_HTTP2;
	return (long)(end + 4 - p);
}

static void stub_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	(void)st, (void)io, (void)side, (void)len;
}

static void stub_close(void *st, struct proto_io *io)
{
	(void)st, (void)io;
}

static const struct proto_parser stub_http1 = {
	.name = "stub",
	.id = PROTO_HTTP1,
	.state_size = 1,
	.detect = stub_detect,
	.init = stub_init,
	.parse = stub_parse,
	.gap = stub_gap,
	.close = stub_close,
};

static const struct proto_parser *const upgrade_table[] = { &stub_http1, &proto_http2, NULL };

static void b_h2c(void)
{
	at(REQ);
	raw(B("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"));
	at(RESP);
	raw(B("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"));
	at(RESP);
	setting(0, 0);
	headers(1, 0, resp_200);
	data(1, ES, 7);
	at(REQ);
	preface();
	headers(3, ES, req_b);
	at(RESP);
	headers(3, ES, resp_404);
}

START_TEST(test_h2c_upgrade)
{
	static struct harness h;

	conv_begin();
	b_h2c();
	conv_end();
	harness_init(&h);
	h.env.table = upgrade_table;
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_SERVER, cv.steps, cv.n, 0, 0);
	ck_assert_int_eq(h.detected, PROTO_HTTP2);
	ck_assert_uint_eq(h.n, 2);
	check_spec("h2c", 0, &h.txns[0],
	           "OK !http.request.method !url.path http.response.status_code=200 "
	           "http.response.body.size=7");
	check_spec("h2c", 1, &h.txns[1],
	           "OK http.request.method=POST url.path=/b "
	           "http.response.status_code=404");
	ck_assert_uint_eq(h.env.cnt.unpaired[PROTO_HTTP2], 0);
	/* the twin: the upgrade's answer never comes, the synthetic request is not reported */
	conv_begin();
	b_h2c();
	conv_end();
	cv.steps[2] = cv.steps[3];
	cv.n = 3;
	harness_init(&h);
	h.env.table = upgrade_table;
	harness_run(&h, PROTO_UNKNOWN, PROTO_ROLE_SERVER, cv.steps, cv.n, 0, 0);
	ck_assert_uint_eq(h.n, 1);
	check_spec("h2c twin", 0, &h.txns[0], "NORESP http.request.method=POST");
}
END_TEST

/* ---- state size -------------------------------------------------------------------- */

START_TEST(test_state_size)
{
	ck_assert_uint_le(proto_http2.state_size, 1536);
	ck_assert_str_eq(proto_http2.name, "http2");
	ck_assert_int_eq(proto_http2.id, PROTO_HTTP2);
}
END_TEST

Suite *proto_http2_suite(void)
{
	Suite *s = suite_create("proto_http2");
	TCase *tc = tcase_create("exchanges");
	TCase *td = tcase_create("detect");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_case, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_timestamps);
	tcase_add_loop_test(tc, test_capture_case, 0, sizeof(captures) / sizeof(captures[0]));
	tcase_add_test(tc, test_capture_values);
	tcase_add_test(tc, test_h2c_upgrade);
	tcase_add_test(tc, test_state_size);
	tcase_add_loop_test(td, test_detect, 0, sizeof(det_cases) / sizeof(det_cases[0]));
	tcase_add_loop_test(td, test_detect_foreign, 0, sizeof(foreign) / sizeof(foreign[0]));
	tcase_add_loop_test(td, test_detect_foreign_session, 0,
	                    sizeof(foreign) / sizeof(foreign[0]));
	suite_add_tcase(s, tc);
	suite_add_tcase(s, td);
	return s;
}
