// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/2 (RFC 9113) with HPACK (RFC 7541), and gRPC on top: one transaction
 * per client-initiated stream, from the request's HEADERS to the END_STREAM
 * of the response (in its HEADERS, DATA or trailers).
 *
 * Trust boundary: every byte is captured traffic. Frame lengths are checked
 * against the peer's SETTINGS_MAX_FRAME_SIZE when the connection was seen
 * from its preface (any 24-bit length otherwise); header blocks are decoded
 * by libnghttp2's HPACK inflater, fed incrementally, so a header block is
 * never buffered here; DATA payloads are skipped unseen (io->skip). Only
 * :method, :path, :authority (or host), :scheme, content-type, :status and
 * grpc-status are read, and the headers the scrubber's policy names
 * (io->headers); every other header (authorization, cookie, grpc-message,
 * ... unless named) is decoded only to keep HPACK in step, then dropped.
 *
 * Policy-named headers: at most H2_CAPTURED_MAX names per message (request
 * headers; response headers and trailers; beyond, counted in
 * headers_not_captured), each value at most PROTO_HEADER_VALUE_MAX bytes
 * (TXN_TRUNCATED beyond), flagged TXN_SENSITIVE. A repeated field (or a
 * trailer repeating a header) is joined to the first with ", " ("; " for
 * cookie crumbs, RFC 9113 8.2.3) within that bound. Pseudo-headers,
 * request trailers and interim (1xx) responses are never captured. The
 * response's are collected per block and added to the stream when the block
 * ends, so a 1xx block or an unpaired response leaves nothing behind.
 *
 * Memory per connection: struct h2_conn (1 KiB), a stream table that
 * grows from H2_STREAMS_INITIAL to H2_STREAMS_MAX entries (2.4 KiB each, of
 * which 1.7 KiB are captured header values; when full, the oldest stream is
 * dropped and counted), and one inflater
 * per side whose dynamic table is at most H2_HPACK_TABLE_MAX bytes (plus
 * nghttp2's own bound of 64 KiB on one field while it is being decoded).
 *
 * HPACK after a gap, or on a connection first seen midstream: the dynamic
 * table is unknown, so the side gets a fresh inflater. Its table then holds
 * exactly the newest entries of the encoder's (entries are added at the
 * front and evicted from the back on both), so every index it can resolve
 * names the same field as on the wire, and an index it cannot resolve makes
 * nghttp2 fail the block instead of decoding the wrong entry. The fields
 * decoded before such a failure are kept (typically :method and :status,
 * which are static-table indexed), the rest of the block is dropped and the
 * next block starts with a fresh inflater again. Nothing is ever guessed.
 *
 * h2c (a 101 upgrade of HTTP/1.1): the response to the upgraded request
 * comes on stream 1, whose request was the HTTP/1.1 one. It is paired with a
 * synthetic request (no method, no path; started at the preface) so its
 * status and timing are reported; a synthetic request that gets no response
 * is not reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "processor/proto.h"

#define H2_PREFACE             "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN         24
#define H2_FRAME_HDR           9
#define H2_FRAME_LEN_DEFAULT   16384u           /* initial SETTINGS_MAX_FRAME_SIZE */
#define H2_FRAME_LEN_MAX       ((1u << 24) - 1) /* largest SETTINGS_MAX_FRAME_SIZE */
#define H2_WHOLE_FRAME_MAX     PROTO_CARRY_MAX  /* header frames up to this are decoded whole */
#define H2_SETTINGS_READ_MAX   (36 * 6)         /* longer SETTINGS frames are skipped unread */
#define H2_SETTING_LEN         6
#define H2_HPACK_TABLE_DEFAULT 4096u  /* initial SETTINGS_HEADER_TABLE_SIZE */
#define H2_HPACK_TABLE_MAX     65536u /* largest dynamic table kept per side */
#define H2_HPACK_STALLS_MAX    1      /* fields emitted in a row without consuming input */
#define H2_STREAMS_INITIAL     4      /* stream table entries allocated first */
#define H2_STREAMS_MAX         64     /* open streams tracked per connection */
#define H2_METHOD_MAX          16
#define H2_SCHEME_MAX          8
#define H2_AUTHORITY_MAX       128
#define H2_PATH_MAX            512 /* :path kept (path and query) */
#define H2_STATUS_LEN          3
#define H2_GRPC_STATUS_DIGITS  3
#define H2_DETECT_CHAIN        4 /* frame headers detect() checks in a run */
#define H2_GRPC_CT             "application/grpc"
#define H2_GRPC_CT_LEN         16
#define H2_CAPTURED_MAX        PROTO_CAPTURED_MAX /* policy-named header values kept per message */

enum h2_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
	H2_TYPES = 10,
};

#define F_END_STREAM  0x01
#define F_ACK         0x01
#define F_END_HEADERS 0x04
#define F_PADDED      0x08
#define F_PRIORITY    0x20

#define H2_SET_HEADER_TABLE_SIZE 1
#define H2_SET_MAX_FRAME_SIZE    5

enum sid_rule { SID_ANY, SID_ZERO, SID_NONZERO };

/* RFC 9113 section 6: defined flags, stream id and length of each frame type. */
static const struct h2_rule {
	uint8_t flags;
	uint8_t sid;
	uint32_t min_len, max_len;
} rules[H2_TYPES] = {
	[H2_DATA] = { F_END_STREAM | F_PADDED, SID_NONZERO, 0, H2_FRAME_LEN_MAX },
	[H2_HEADERS] = { F_END_STREAM | F_END_HEADERS | F_PADDED | F_PRIORITY, SID_NONZERO, 0,
	                 H2_FRAME_LEN_MAX },
	[H2_PRIORITY] = { 0, SID_NONZERO, 5, 5 },
	[H2_RST_STREAM] = { 0, SID_NONZERO, 4, 4 },
	[H2_SETTINGS] = { F_ACK, SID_ZERO, 0, H2_FRAME_LEN_MAX },
	[H2_PUSH_PROMISE] = { F_END_HEADERS | F_PADDED, SID_NONZERO, 4, H2_FRAME_LEN_MAX },
	[H2_PING] = { F_ACK, SID_ZERO, 8, 8 },
	[H2_GOAWAY] = { 0, SID_ZERO, 8, H2_FRAME_LEN_MAX },
	[H2_WINDOW_UPDATE] = { 0, SID_ANY, 4, 4 },
	[H2_CONTINUATION] = { F_END_HEADERS, SID_NONZERO, 0, H2_FRAME_LEN_MAX },
};

/* RFC 9113 section 7, for error.type of a reset stream. */
static const char *const h2_errors[] = {
	"NO_ERROR",
	"PROTOCOL_ERROR",
	"INTERNAL_ERROR",
	"FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT",
	"STREAM_CLOSED",
	"FRAME_SIZE_ERROR",
	"REFUSED_STREAM",
	"CANCEL",
	"COMPRESSION_ERROR",
	"CONNECT_ERROR",
	"ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY",
	"HTTP_1_1_REQUIRED",
};

struct h2_frame {
	uint32_t len;
	uint8_t type;
	uint8_t flags;
	bool reserved; /* the R bit of the stream id */
	uint32_t sid;
};

/* struct h2_stream.flags */
#define ST_REQ_DONE 0x01 /* the request header block ended: later blocks are trailers */
#define ST_RESP     0x02 /* response headers or data seen */
#define ST_GRPC     0x04
#define ST_SYNTH    0x08 /* h2c: stands for the HTTP/1.1 request that was upgraded */

/* struct h2_stream.cut: which values were cut at their limit */
#define CUT_METHOD 0x01
#define CUT_SCHEME 0x02
#define CUT_AUTH   0x04
#define CUT_PATH   0x08

/* One captured header value; its attribute key is h->req_key or h->resp_key. */

struct h2_stream {
	uint32_t id;
	uint32_t rst_code;   /* RST_STREAM error code, 0: none */
	uint16_t status;     /* :status, 0: none */
	int16_t grpc_status; /* -1: none */
	uint8_t flags, cut;
	uint8_t method_len, scheme_len, authority_len;
	uint16_t path_len;
	uint64_t start_ns, resp_ns;
	uint64_t req_body, resp_body; /* DATA payload bytes, padding excluded */
	char method[H2_METHOD_MAX];
	char scheme[H2_SCHEME_MAX];
	char authority[H2_AUTHORITY_MAX];
	char path[H2_PATH_MAX];
	struct proto_capt req_hdrs, resp_hdrs;
};

enum h2_phase {
	PH_FRAME = 0, /* at a frame header */
	PH_FRAGMENT,  /* in a header block fragment: fed to the inflater */
	PH_SKIP,      /* in bytes nobody reads (DATA, padding, ignored frames) */
};

enum h2_block { BLK_IGNORE = 0, BLK_REQ, BLK_RESP };

struct h2_side {
	nghttp2_hd_inflater *hd; /* NULL until the first header block, and after a failure */
	uint32_t hd_ceiling; /* SETTINGS_HEADER_TABLE_SIZE the peer allows this side's encoder */
	uint32_t hd_applied; /* the ceiling the inflater knows */
	uint32_t frame_max;  /* frame length limit; 0: unknown (any 24-bit length) */
	uint32_t frame_adv;  /* largest SETTINGS_MAX_FRAME_SIZE the peer advertised */
	uint32_t left;       /* PH_FRAGMENT, PH_SKIP: bytes left */
	uint32_t pad;        /* PH_FRAGMENT: padding after the fragment */
	uint8_t phase;
	uint8_t frag_flags; /* flags of the frame carrying the fragment */
	bool started;       /* a message was parsed on this side */
	bool lost;          /* the HPACK context is unknown (gap, decode failure) */
	/* the header block in progress */
	bool in_block, blk_broken, blk_end_stream, blk_grpc;
	uint8_t blk_kind;
	uint16_t blk_status;
	int16_t blk_grpc_status;
	uint32_t blk_stream;
	uint64_t blk_ts;
};

struct h2_conn {
	struct h2_side side[2];
	struct h2_stream *streams; /* unordered; allocated on the first request */
	uint16_t nstreams, cap;
	uint32_t max_req_id; /* highest client stream id seen in a request */
	uint64_t preface_ns;
	bool from_start; /* the client preface was seen */
	bool req1_seen;  /* a request HEADERS on stream 1 was seen */
	bool req_gap;    /* the request side lost bytes: its stream 1 may be behind a gap */
	bool synth_done; /* the h2c stream 1 was paired */
	struct proto_capt blk_hdrs; /* of the response header block in progress */
};

/* ---- frames and detection ---------------------------------------------- */

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void frame_read(const uint8_t *p, struct h2_frame *f)
{
	f->len = be24(p);
	f->type = p[3];
	f->flags = p[4];
	f->reserved = p[5] & 0x80;
	f->sid = be32(p + 5) & 0x7fffffffu;
}

/*
 * Stream id and length rules of a known type. @strict (detection) also
 * refuses undefined flags and the reserved bit, which a receiver must
 * ignore; @whole_sid: the stream id bytes are all there.
 */
static bool frame_rules_ok(const struct h2_frame *f, bool strict, bool whole_sid)
{
	const struct h2_rule *r = &rules[f->type];

	if (strict && ((f->flags & ~r->flags) || f->reserved))
		return false;
	if ((r->sid == SID_ZERO && f->sid != 0) || (r->sid == SID_NONZERO && whole_sid && !f->sid))
		return false;
	if (f->len < r->min_len || f->len > r->max_len)
		return false;
	if (f->type == H2_SETTINGS && (f->len % H2_SETTING_LEN || ((f->flags & F_ACK) && f->len)))
		return false;
	return true;
}

/*
 * Could a frame start at p? Bytes not there yet count as zero, which no
 * length, type or flag rule refuses; the nonzero stream id rule waits for
 * the whole header. Detection is stricter than parsing: a known type, at
 * most the default frame size, defined flags only, no empty DATA.
 */
static enum proto_match frame_start(const uint8_t *p, size_t len, bool settings_only)
{
	uint8_t h[H2_FRAME_HDR] = { 0 };
	size_t n = len < H2_FRAME_HDR ? len : H2_FRAME_HDR;
	struct h2_frame f;

	memcpy(h, p, n);
	frame_read(h, &f);
	if (f.len > H2_FRAME_LEN_DEFAULT || f.type >= H2_TYPES)
		return PROTO_NO;
	if (n > 3 && settings_only && (f.type != H2_SETTINGS || (f.flags & F_ACK)))
		return PROTO_NO;
	if (!frame_rules_ok(&f, true, n == H2_FRAME_HDR))
		return PROTO_NO;
	if (n == H2_FRAME_HDR && f.type == H2_DATA && f.len == 0 && !(f.flags & F_END_STREAM))
		return PROTO_NO;
	return n == H2_FRAME_HDR ? PROTO_YES : PROTO_MAYBE;
}

/* The first frame, and those after it that the run holds, must all be plausible. */
static enum proto_match frames_plausible(const uint8_t *p, size_t len, bool settings_first)
{
	size_t off = 0;

	for (int i = 0; i < H2_DETECT_CHAIN && off < len; i++) {
		enum proto_match m = frame_start(p + off, len - off, settings_first && i == 0);

		if (m == PROTO_NO)
			return PROTO_NO;
		if (m == PROTO_MAYBE)
			return i == 0 ? PROTO_MAYBE : PROTO_YES;
		off += H2_FRAME_HDR + be24(p + off);
	}
	return PROTO_YES;
}

static enum proto_match preface_match(const uint8_t *p, size_t len)
{
	size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;

	if (memcmp(p, H2_PREFACE, n) != 0)
		return PROTO_NO;
	return n == H2_PREFACE_LEN ? PROTO_YES : PROTO_MAYBE;
}

/*
 * Connection start: the client preface on the request side, the server's
 * SETTINGS on the response side. Midstream: the preface, or plausible frame
 * headers (checked along the run as far as it holds them).
 */
static enum proto_match h2_detect(enum proto_side side, const uint8_t *p, size_t len,
                                  unsigned flags)
{
	if (len == 0)
		return PROTO_MAYBE;
	if (side == PROTO_REQ && (!(flags & PROTO_MIDSTREAM) || preface_match(p, len) != PROTO_NO))
		return preface_match(p, len);
	return frames_plausible(p, len, !(flags & PROTO_MIDSTREAM));
}

/* ---- streams ----------------------------------------------------------- */

static struct h2_stream *stream_find(struct h2_conn *c, uint32_t id)
{
	for (unsigned i = 0; i < c->nstreams; i++)
		if (c->streams[i].id == id)
			return &c->streams[i];
	return NULL;
}

static void stream_remove(struct h2_conn *c, struct h2_stream *e)
{
	struct h2_stream *last = &c->streams[--c->nstreams];

	if (e != last)
		*e = *last;
}

/* Room for one more stream: grow the table, or drop the oldest stream when it is full. */
static bool stream_room(struct h2_conn *c, struct proto_io *io)
{
	struct h2_stream *n, *old;
	unsigned want;

	if (c->nstreams < c->cap)
		return true;
	if (c->cap < H2_STREAMS_MAX) {
		want = c->cap ? c->cap * 2u : H2_STREAMS_INITIAL;
		want = want > H2_STREAMS_MAX ? H2_STREAMS_MAX : want;
		n = realloc(c->streams, want * sizeof(*n));
		if (n) {
			c->streams = n;
			c->cap = (uint16_t)want;
			return true;
		}
	}
	io->cnt->pending_dropped[PROTO_HTTP2]++;
	if (!c->nstreams)
		return false;
	/* the oldest is most likely a stream whose end a gap took */
	old = &c->streams[0];
	for (unsigned i = 1; i < c->nstreams; i++)
		if (c->streams[i].start_ns < old->start_ns)
			old = &c->streams[i];
	stream_remove(c, old);
	return true;
}

static struct h2_stream *stream_open(struct h2_conn *c, struct proto_io *io, uint32_t id,
                                     uint64_t ts)
{
	struct h2_stream *e;

	if (!stream_room(c, io))
		return NULL;
	e = memset(&c->streams[c->nstreams++], 0, sizeof(*e));
	e->id = id;
	e->grpc_status = -1;
	e->start_ns = ts;
	return e;
}

/* ---- transactions ------------------------------------------------------ */

static enum txn_status stream_status(const struct h2_stream *e, enum proto_role role)
{
	if (!(e->flags & ST_RESP))
		return TXN_NO_RESPONSE;
	if (e->rst_code || ((e->flags & ST_GRPC) && e->grpc_status > 0))
		return TXN_ERROR;
	if (e->status >= 500 || (role == PROTO_ROLE_CLIENT && e->status >= 400))
		return TXN_ERROR;
	return TXN_OK;
}

static unsigned cut_flag(const struct h2_stream *e, unsigned which)
{
	return e->cut & which ? TXN_TRUNCATED : 0;
}

/*
 * server.address and server.port from :authority (userinfo was removed when
 * it was stored): "host", "host:port", "[v6]" or "[v6]:port".
 */
static void add_authority(struct l7_txn *t, struct proto_io *io, const struct h2_stream *e)
{
	const char *a = e->authority, *colon = NULL, *end = a + e->authority_len;
	const char *host = a, *host_end;
	long port = 0;

	if (!e->authority_len)
		return;
	if (a[0] == '[' && (host_end = memchr(a, ']', e->authority_len))) {
		host = a + 1;
		colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		colon = memchr(a, ':', e->authority_len);
		if (colon != memrchr(a, ':', e->authority_len))
			colon = NULL; /* a bare IPv6 address: no port to split off */
		host_end = colon ? colon : end;
	}
	for (const char *d = colon ? colon + 1 : end; d < end && port <= 65535; d++)
		port = *d >= '0' && *d <= '9' ? port * 10 + (*d - '0') : 65536;
	if (host_end > host)
		txn_str(t, io->cnt, "server.address", host, (size_t)(host_end - host),
		        cut_flag(e, CUT_AUTH));
	if (colon && port > 0 && port <= 65535 && !(e->cut & CUT_AUTH))
		txn_int(t, io->cnt, "server.port", port);
}

/* gRPC's "/package.Service/Method": rpc.service and rpc.method. */
static void add_grpc_path(struct l7_txn *t, struct proto_io *io, const struct h2_stream *e,
                          size_t plen, bool path_cut)
{
	const char *svc = e->path + 1, *slash;
	size_t mlen;

	if (plen < 2 || e->path[0] != '/' || !(slash = memchr(svc, '/', plen - 1)))
		return;
	mlen = plen - (size_t)(slash + 1 - e->path);
	if (slash == svc || mlen == 0 || memchr(slash + 1, '/', mlen))
		return;
	txn_str(t, io->cnt, "rpc.service", svc, (size_t)(slash - svc), 0);
	txn_str(t, io->cnt, "rpc.method", slash + 1, mlen, path_cut ? TXN_TRUNCATED : 0);
}

static void add_request(struct l7_txn *t, struct proto_io *io, const struct h2_stream *e)
{
	const char *q = memchr(e->path, '?', e->path_len);
	size_t plen = q ? (size_t)(q - e->path) : e->path_len;
	bool path_cut = !q && (e->cut & CUT_PATH);

	if (e->method_len)
		txn_str(t, io->cnt, "http.request.method", e->method, e->method_len,
		        cut_flag(e, CUT_METHOD));
	if (e->scheme_len)
		txn_str(t, io->cnt, "url.scheme", e->scheme, e->scheme_len,
		        cut_flag(e, CUT_SCHEME));
	if (plen)
		txn_str(t, io->cnt, "url.path", e->path, plen, path_cut ? TXN_TRUNCATED : 0);
	if (q && e->path_len > plen + 1)
		txn_str(t, io->cnt, "url.query", q + 1, e->path_len - plen - 1,
		        TXN_SENSITIVE | cut_flag(e, CUT_PATH));
	add_authority(t, io, e);
	if (e->req_body)
		txn_int(t, io->cnt, "http.request.body.size", (int64_t)e->req_body);
	if (e->flags & ST_GRPC) {
		txn_str(t, io->cnt, "rpc.system", "grpc", 4, 0);
		add_grpc_path(t, io, e, plen, path_cut);
	}
}

static void add_response(struct l7_txn *t, struct proto_io *io, const struct h2_stream *e)
{
	if (e->status)
		txn_int(t, io->cnt, "http.response.status_code", e->status);
	if (e->resp_body)
		txn_int(t, io->cnt, "http.response.body.size", (int64_t)e->resp_body);
	if ((e->flags & ST_GRPC) && e->grpc_status >= 0)
		txn_int(t, io->cnt, "rpc.grpc.status_code", e->grpc_status);
	if (e->rst_code) {
		const char *name = e->rst_code < sizeof(h2_errors) / sizeof(h2_errors[0])
		                           ? h2_errors[e->rst_code]
		                           : "_OTHER";

		txn_str(t, io->cnt, "error.type", name, strlen(name), 0);
	}
}

static void stream_emit(struct proto_io *io, const struct h2_stream *e, uint64_t end_ns)
{
	struct l7_txn t;

	if ((e->flags & ST_SYNTH) && !(e->flags & ST_RESP))
		return; /* the upgraded request was reported by HTTP/1.1 */
	txn_init(&t, PROTO_HTTP2, e->start_ns);
	t.status = stream_status(e, io->role);
	if (t.status != TXN_NO_RESPONSE && end_ns > e->start_ns)
		t.end_ns = end_ns;
	txn_str(&t, io->cnt, "network.protocol.version", "2", 1, 0);
	add_request(&t, io, e);
	add_response(&t, io, e);
	/* last: when a gRPC stream has every attribute, header values are what is dropped */
	proto_capt_emit(&t, io->cnt, &e->req_hdrs, PROTO_REQ);
	proto_capt_emit(&t, io->cnt, &e->resp_hdrs, PROTO_RESP);
	proto_emit(io, &t);
}

static void stream_finish(struct h2_conn *c, struct proto_io *io, uint32_t id, uint64_t end_ns)
{
	struct h2_stream *e = stream_find(c, id);

	if (!e)
		return;
	stream_emit(io, e, end_ns);
	stream_remove(c, e);
}

/* ---- HPACK ------------------------------------------------------------- */

static void hpack_drop(struct h2_side *s)
{
	if (s->hd)
		nghttp2_hd_inflate_del(s->hd);
	s->hd = NULL;
	s->lost = true;
}

/* Midstream, or after a gap or a decode failure: the encoder's table may hold entries we lack. */
static bool hpack_unknown(const struct h2_conn *c, const struct h2_side *s)
{
	return s->lost || !c->from_start;
}

/*
 * An inflater at a block boundary, with the table size ceiling the peer's
 * SETTINGS allow (any size up to our bound when the context is unknown).
 * Only raised, never lowered: an encoder that shrinks its table must say so
 * in the block itself (RFC 7541 section 4.2), and a lower ceiling applied
 * before the peer saw the SETTINGS would fail its blocks.
 */
static int hpack_ready(const struct h2_conn *c, struct h2_side *s)
{
	uint32_t want =
	        s->hd_ceiling > H2_HPACK_TABLE_DEFAULT ? s->hd_ceiling : H2_HPACK_TABLE_DEFAULT;

	if (hpack_unknown(c, s))
		want = H2_HPACK_TABLE_MAX;
	if (!s->hd) {
		if (nghttp2_hd_inflate_new(&s->hd) != 0) {
			s->hd = NULL;
			s->lost = true;
			return -ENOMEM;
		}
		s->hd_applied = H2_HPACK_TABLE_DEFAULT;
	}
	if (want > s->hd_applied) {
		if (nghttp2_hd_inflate_change_table_size(s->hd, want) != 0) {
			hpack_drop(s);
			return -ENOMEM;
		}
		s->hd_applied = want;
	}
	return 0;
}

#define NAME_IS(nv, lit)                                                                           \
	((nv)->namelen == sizeof(lit) - 1 && !memcmp((nv)->name, lit, sizeof(lit) - 1))

/* Copy at most @cap bytes of a value; a longer one is cut and marked. */
static size_t keep(char *dst, size_t cap, const uint8_t *v, size_t n, uint8_t *cut, uint8_t which)
{
	if (n > cap) {
		n = cap;
		*cut |= which;
	}
	if (n)
		memcpy(dst, v, n);
	return n;
}

static bool is_grpc(const nghttp2_nv *nv)
{
	return nv->valuelen >= H2_GRPC_CT_LEN &&
	       !strncasecmp((const char *)nv->value, H2_GRPC_CT, H2_GRPC_CT_LEN);
}

/* :authority without userinfo: what precedes an '@' is a credential. */
static void keep_authority(struct h2_stream *e, const nghttp2_nv *nv)
{
	const uint8_t *v = nv->value, *at = nv->valuelen ? memrchr(v, '@', nv->valuelen) : NULL;
	size_t n = nv->valuelen;

	if (at) {
		n -= (size_t)(at + 1 - v);
		v = at + 1;
	}
	e->cut &= (uint8_t)~CUT_AUTH;
	e->authority_len = (uint8_t)keep(e->authority, H2_AUTHORITY_MAX, v, n, &e->cut, CUT_AUTH);
}

static void req_field(struct h2_stream *e, const nghttp2_nv *nv)
{
	if (NAME_IS(nv, ":method") && !e->method_len)
		e->method_len = (uint8_t)keep(e->method, H2_METHOD_MAX, nv->value, nv->valuelen,
		                              &e->cut, CUT_METHOD);
	else if (NAME_IS(nv, ":scheme") && !e->scheme_len)
		e->scheme_len = (uint8_t)keep(e->scheme, H2_SCHEME_MAX, nv->value, nv->valuelen,
		                              &e->cut, CUT_SCHEME);
	else if (NAME_IS(nv, ":path") && !e->path_len)
		e->path_len = (uint16_t)keep(e->path, H2_PATH_MAX, nv->value, nv->valuelen, &e->cut,
		                             CUT_PATH);
	else if (NAME_IS(nv, ":authority") || (NAME_IS(nv, "host") && !e->authority_len))
		keep_authority(e, nv);
	else if (NAME_IS(nv, "content-type") && is_grpc(nv))
		e->flags |= ST_GRPC;
}

/* A decimal of exactly @min..@max digits, or -1. */
static int small_number(const uint8_t *v, size_t n, size_t min, size_t max)
{
	int x = 0;

	if (n < min || n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/* Response fields are held per block and applied to the stream when the block ends. */
static void resp_field(struct h2_side *s, const nghttp2_nv *nv)
{
	int x;

	if (NAME_IS(nv, ":status")) {
		x = small_number(nv->value, nv->valuelen, H2_STATUS_LEN, H2_STATUS_LEN);
		if (x >= 100 && x <= 599)
			s->blk_status = (uint16_t)x;
	} else if (NAME_IS(nv, "grpc-status")) {
		x = small_number(nv->value, nv->valuelen, 1, H2_GRPC_STATUS_DIGITS);
		if (x >= 0)
			s->blk_grpc_status = (int16_t)x;
	} else if (NAME_IS(nv, "content-type") && is_grpc(nv)) {
		s->blk_grpc = true;
	}
}

/* A decoded field: kept in @c when it is a header (not a pseudo-header) the policy names. */
static void capture(struct proto_capt *c, struct proto_io *io, const nghttp2_nv *nv)
{
	const struct proto_header *ph;

	if (nv->namelen == 0 || nv->name[0] == ':')
		return;
	ph = proto_headers_find(io->headers, (const char *)nv->name, nv->namelen);
	if (ph)
		proto_capt_add(c, io->cnt, ph, nv->value, nv->valuelen, false);
}

/* The response block's values join the stream's: not an interim (1xx) response's. */
static void capt_merge(struct h2_stream *e, struct proto_io *io, const struct h2_side *s,
                       const struct proto_capt *blk)
{
	if (s->blk_status >= 100 && s->blk_status < 200)
		return;
	for (unsigned i = 0; i < blk->n && i < H2_CAPTURED_MAX; i++)
		proto_capt_add(&e->resp_hdrs, io->cnt, blk->e[i].h, (const uint8_t *)blk->e[i].v,
		               blk->e[i].len, blk->e[i].flags & TXN_TRUNCATED);
}

/* The inflater failed: keep what it decoded, drop the rest of the block and the context. */
static void block_break(struct h2_side *s)
{
	s->blk_broken = true;
	hpack_drop(s);
}

/* Feed @n bytes of the block to the inflater; @final: they end the block. */
static void hpack_feed(struct h2_conn *c, struct proto_io *io, struct h2_side *s, const uint8_t *in,
                       size_t n, bool final)
{
	struct h2_stream *e = s->blk_kind == BLK_REQ ? stream_find(c, s->blk_stream) : NULL;
	unsigned stalls = 0;

	if (s->blk_broken || !s->hd)
		return;
	for (;;) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(s->hd, &nv, &fl, in, n, final);

		if (r < 0 || (size_t)r > n) {
			block_break(s);
			return;
		}
		in += r;
		n -= (size_t)r;
		stalls = r == 0 && (fl & NGHTTP2_HD_INFLATE_EMIT) ? stalls + 1 : 0;
		if (stalls > H2_HPACK_STALLS_MAX) {
			block_break(s); /* never loop on a decoder that makes no progress */
			return;
		}
		if ((fl & NGHTTP2_HD_INFLATE_EMIT) && e) {
			req_field(e, &nv);
			capture(&e->req_hdrs, io, &nv);
		} else if ((fl & NGHTTP2_HD_INFLATE_EMIT) && s->blk_kind == BLK_RESP) {
			resp_field(s, &nv);
			if (s->blk_status < 100 || s->blk_status >= 200)
				capture(&c->blk_hdrs, io, &nv); /* an interim response's are not */
		}
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(s->hd);
			return;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && (n == 0 || r == 0)) {
			if (final || n)
				block_break(s); /* a block that does not end where its frames do */
			return;
		}
	}
}

/* ---- header blocks ----------------------------------------------------- */

static enum h2_block req_block(struct h2_conn *c, struct proto_io *io, uint32_t sid)
{
	struct h2_stream *e;

	if (!(sid & 1))
		return BLK_IGNORE; /* client streams are odd */
	if (sid == 1)
		c->req1_seen = true;
	e = stream_find(c, sid);
	/* ids only grow: an unknown lower one is the trailer of a stream already settled */
	if (!e && sid > c->max_req_id)
		e = stream_open(c, io, sid, io->ts_ns);
	if (sid > c->max_req_id)
		c->max_req_id = sid;
	return e && !(e->flags & ST_REQ_DONE) ? BLK_REQ : BLK_IGNORE;
}

static void block_begin(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                        const struct h2_frame *f)
{
	struct h2_side *s = &c->side[side];

	s->in_block = true;
	s->blk_broken = false;
	s->blk_end_stream = f->type == H2_HEADERS && (f->flags & F_END_STREAM);
	s->blk_grpc = false;
	s->blk_status = 0;
	s->blk_grpc_status = -1;
	s->blk_stream = f->sid;
	s->blk_ts = io->ts_ns;
	if (side == PROTO_RESP)
		c->blk_hdrs.n = 0;
	if (f->type == H2_PUSH_PROMISE)
		s->blk_kind = BLK_IGNORE; /* decoded only to keep the server's table in step */
	else if (side == PROTO_REQ)
		s->blk_kind = (uint8_t)req_block(c, io, f->sid);
	else
		s->blk_kind = f->sid & 1 ? BLK_RESP : BLK_IGNORE;
	if (hpack_ready(c, s) < 0)
		s->blk_broken = true;
}

/* h2c: the response on stream 1 answers the HTTP/1.1 request that asked for the upgrade. */
static struct h2_stream *h2c_stream(struct h2_conn *c, struct proto_io *io, uint32_t sid,
                                    uint64_t ts)
{
	const struct h2_side *req = &c->side[PROTO_REQ];
	struct h2_stream *e;

	/* not when the request side could have lost stream 1, or began midstream */
	if (sid != 1 || c->req1_seen || c->synth_done || c->req_gap ||
	    (req->started && !c->from_start))
		return NULL;
	c->synth_done = true;
	e = stream_open(c, io, sid, c->preface_ns ? c->preface_ns : ts);
	if (e)
		e->flags |= ST_SYNTH | ST_REQ_DONE;
	return e;
}

static void resp_block_end(struct h2_conn *c, struct proto_io *io, const struct h2_side *s)
{
	struct h2_stream *e = stream_find(c, s->blk_stream);

	if (!e)
		e = h2c_stream(c, io, s->blk_stream, s->blk_ts);
	if (!e) {
		if (s->blk_status >= 200)
			io->cnt->unpaired[PROTO_HTTP2]++;
		return;
	}
	e->flags |= ST_RESP;
	capt_merge(e, io, s, &c->blk_hdrs);
	if (s->blk_status && (e->status == 0 || e->status < 200))
		e->status = s->blk_status;
	if (!e->resp_ns)
		e->resp_ns = s->blk_ts;
	if (s->blk_grpc)
		e->flags |= ST_GRPC;
	if (s->blk_grpc_status >= 0)
		e->grpc_status = s->blk_grpc_status;
}

/* The block is over (END_HEADERS, or given up): apply it; END_STREAM ends the stream. */
static void block_end(struct h2_conn *c, struct proto_io *io, enum proto_side side, uint64_t ts)
{
	struct h2_side *s = &c->side[side];
	struct h2_stream *e;

	s->in_block = false;
	if (s->blk_kind == BLK_REQ && (e = stream_find(c, s->blk_stream)))
		e->flags |= ST_REQ_DONE;
	else if (s->blk_kind == BLK_RESP)
		resp_block_end(c, io, s);
	if (side == PROTO_RESP && s->blk_end_stream)
		stream_finish(c, io, s->blk_stream, ts);
}

/* Frame sync is gone (gap, close): what was decoded of the block still counts. */
static void block_abandon(struct h2_conn *c, struct proto_io *io, enum proto_side side)
{
	struct h2_side *s = &c->side[side];

	if (!s->in_block)
		return;
	block_break(s);
	block_end(c, io, side, s->blk_ts);
}

/* ---- frame handlers: each returns bytes consumed from the frame start -- */

/* Consume what the frame holds after @used bytes without reading it. */
static long skip_rest(struct h2_side *s, const struct h2_frame *f, size_t used)
{
	s->phase = PH_SKIP;
	s->left = f->len + H2_FRAME_HDR - (uint32_t)used;
	return (long)used;
}

static long on_data(struct h2_conn *c, struct proto_io *io, enum proto_side side, const uint8_t *p,
                    size_t len, const struct h2_frame *f)
{
	struct h2_stream *e = stream_find(c, f->sid);
	uint32_t body = f->len;

	if ((f->flags & F_PADDED) && f->len == 0)
		return PROTO_INVALID;
	if ((f->flags & F_PADDED) && len < H2_FRAME_HDR + 1)
		return PROTO_INCOMPLETE;
	if (f->flags & F_PADDED) {
		if (p[H2_FRAME_HDR] >= f->len)
			return PROTO_INVALID;
		body -= 1u + p[H2_FRAME_HDR];
	}
	if (e && side == PROTO_REQ)
		e->req_body += body;
	if (e && side == PROTO_RESP) {
		e->resp_body += body;
		e->flags |= ST_RESP;
	}
	if (side == PROTO_RESP && (f->flags & F_END_STREAM))
		stream_finish(c, io, f->sid, io->ts_ns);
	return skip_rest(&c->side[side], f, H2_FRAME_HDR);
}

/* The fragment of @f starts after @pre bytes: stream it into the inflater. */
static long fragment_begin(struct h2_side *s, const struct h2_frame *f, uint32_t pre, uint32_t pad)
{
	s->phase = PH_FRAGMENT;
	s->left = f->len - pre - pad;
	s->pad = pad;
	s->frag_flags = f->flags;
	return (long)(H2_FRAME_HDR + pre);
}

/*
 * Header frames up to H2_WHOLE_FRAME_MAX wait in the carry until whole, so a
 * gap inside one can be salvaged and skipped; longer ones are streamed.
 */
static bool wait_whole(const struct proto_io *io, const struct h2_frame *f, size_t len)
{
	size_t whole = H2_FRAME_HDR + (size_t)f->len;

	return !io->gap_after && whole <= H2_WHOLE_FRAME_MAX && len < whole;
}

static long on_headers(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                       const uint8_t *p, size_t len, const struct h2_frame *f)
{
	uint32_t pre = (f->flags & F_PADDED) ? 1 : 0, pad = 0;

	if (f->type == H2_PUSH_PROMISE)
		pre += 4;
	else if (f->flags & F_PRIORITY)
		pre += 5;
	if (f->len < pre)
		return PROTO_INVALID;
	if (wait_whole(io, f, len) || len < H2_FRAME_HDR + pre)
		return PROTO_INCOMPLETE;
	if (f->flags & F_PADDED)
		pad = p[H2_FRAME_HDR];
	if (pad > f->len - pre)
		return PROTO_INVALID;
	block_begin(c, io, side, f);
	return fragment_begin(&c->side[side], f, pre, pad);
}

static long on_continuation(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                            size_t len, const struct h2_frame *f)
{
	struct h2_side *s = &c->side[side];

	/* after a resync the block's HEADERS may be behind the gap */
	if (!s->in_block)
		return hpack_unknown(c, s) ? skip_rest(s, f, H2_FRAME_HDR) : PROTO_INVALID;
	if (wait_whole(io, f, len))
		return PROTO_INCOMPLETE;
	return fragment_begin(s, f, 0, 0);
}

/* SETTINGS sent on @side bound what the other side sends. */
static void apply_setting(struct h2_conn *c, enum proto_side side, uint16_t id, uint32_t v)
{
	struct h2_side *peer = &c->side[!side];

	if (id == H2_SET_HEADER_TABLE_SIZE) {
		v = v > H2_HPACK_TABLE_MAX ? H2_HPACK_TABLE_MAX : v;
		if (v > peer->hd_ceiling)
			peer->hd_ceiling = v;
	} else if (id == H2_SET_MAX_FRAME_SIZE && v >= H2_FRAME_LEN_DEFAULT &&
	           v <= H2_FRAME_LEN_MAX && v > peer->frame_adv) {
		/* only raised: frames sent before the peer saw a lower value are legal */
		peer->frame_adv = v;
		if (peer->frame_max)
			peer->frame_max = v;
	}
}

static long on_settings(struct h2_conn *c, enum proto_side side, const uint8_t *p, size_t len,
                        const struct h2_frame *f)
{
	if ((f->flags & F_ACK) || f->len > H2_SETTINGS_READ_MAX)
		return skip_rest(&c->side[side], f, H2_FRAME_HDR);
	if (len < H2_FRAME_HDR + f->len)
		return PROTO_INCOMPLETE;
	for (uint32_t i = 0; i < f->len; i += H2_SETTING_LEN) {
		const uint8_t *s = p + H2_FRAME_HDR + i;

		apply_setting(c, side, (uint16_t)(s[0] << 8 | s[1]), be32(s + 2));
	}
	return (long)(H2_FRAME_HDR + f->len);
}

static long on_rst(struct h2_conn *c, struct proto_io *io, const uint8_t *p, size_t len,
                   const struct h2_frame *f)
{
	struct h2_stream *e;

	if (len < H2_FRAME_HDR + 4)
		return PROTO_INCOMPLETE;
	e = stream_find(c, f->sid);
	if (e) {
		e->rst_code = be32(p + H2_FRAME_HDR);
		stream_finish(c, io, f->sid, io->ts_ns);
	}
	return H2_FRAME_HDR + 4;
}

/* The server's GOAWAY: streams above its last stream id were never processed. */
static long on_goaway(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                      const uint8_t *p, size_t len, const struct h2_frame *f)
{
	uint32_t last;

	if (len < H2_FRAME_HDR + 8)
		return PROTO_INCOMPLETE;
	last = be32(p + H2_FRAME_HDR) & 0x7fffffffu;
	for (unsigned i = 0; side == PROTO_RESP && i < c->nstreams;) {
		struct h2_stream *e = &c->streams[i];

		if (e->id <= last) {
			i++;
			continue;
		}
		stream_emit(io, e, io->ts_ns);
		stream_remove(c, e);
	}
	return skip_rest(&c->side[side], f, H2_FRAME_HDR + 8); /* debug data: never read */
}

/* ---- the byte stream --------------------------------------------------- */

static bool frame_ok(const struct h2_side *s, const struct h2_frame *f)
{
	uint32_t max = s->frame_max ? s->frame_max : H2_FRAME_LEN_MAX;

	if (!s->frame_max && f->type >= H2_TYPES)
		max = H2_FRAME_LEN_DEFAULT; /* extension frames are small; this is likely noise */
	if (f->len > max)
		return false;
	/* nothing may come between a header block's frames (RFC 9113 section 6.10) */
	if (s->in_block && (f->type != H2_CONTINUATION || f->sid != s->blk_stream))
		return false;
	return f->type >= H2_TYPES || frame_rules_ok(f, false, true);
}

static long on_preface(struct h2_conn *c, struct proto_io *io, size_t len)
{
	if (len < H2_PREFACE_LEN)
		return PROTO_INCOMPLETE;
	c->from_start = true;
	c->preface_ns = io->ts_ns;
	for (int i = 0; i < 2; i++)
		c->side[i].frame_max = c->side[i].frame_adv > H2_FRAME_LEN_DEFAULT
		                               ? c->side[i].frame_adv
		                               : H2_FRAME_LEN_DEFAULT;
	return H2_PREFACE_LEN;
}

static long frame_dispatch(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                           const uint8_t *p, size_t len, const struct h2_frame *f)
{
	switch (f->type) {
	case H2_DATA:
		return on_data(c, io, side, p, len, f);
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		return on_headers(c, io, side, p, len, f);
	case H2_CONTINUATION:
		return on_continuation(c, io, side, len, f);
	case H2_SETTINGS:
		return on_settings(c, side, p, len, f);
	case H2_RST_STREAM:
		return on_rst(c, io, p, len, f);
	case H2_GOAWAY:
		return on_goaway(c, io, side, p, len, f);
	default: /* PRIORITY, PING, WINDOW_UPDATE, extensions */
		return skip_rest(&c->side[side], f, H2_FRAME_HDR);
	}
}

/*
 * A gap follows this incomplete frame: keep what can be known (a request
 * HEADERS still opens its stream, without fields), skip the rest of it.
 */
static long salvage(struct h2_conn *c, struct proto_io *io, enum proto_side side, size_t len,
                    const struct h2_frame *f)
{
	struct h2_side *s = &c->side[side];

	if (f->type == H2_HEADERS || f->type == H2_PUSH_PROMISE) {
		block_begin(c, io, side, f);
		block_break(s);
		if (f->flags & F_END_HEADERS)
			block_end(c, io, side, io->ts_ns);
	} else if (f->type == H2_DATA && side == PROTO_RESP && (f->flags & F_END_STREAM)) {
		stream_finish(c, io, f->sid, io->ts_ns);
	}
	return skip_rest(s, f, len);
}

static long frame_step(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                       const uint8_t *p, size_t len)
{
	struct h2_side *s = &c->side[side];
	struct h2_frame f;
	long r;

	if (!s->started && side == PROTO_REQ && preface_match(p, len) != PROTO_NO) {
		r = on_preface(c, io, len);
		s->started = r > 0;
		return r;
	}
	/* a side's first bytes were not vetted by detection when the other side's were */
	if (!s->started && frame_start(p, len, false) == PROTO_NO)
		return PROTO_INVALID;
	if (len < H2_FRAME_HDR)
		return PROTO_INCOMPLETE;
	frame_read(p, &f);
	if (!frame_ok(s, &f))
		return PROTO_INVALID;
	r = frame_dispatch(c, io, side, p, len, &f);
	if (r == PROTO_INCOMPLETE && io->gap_after)
		r = salvage(c, io, side, len, &f);
	if (r > 0)
		s->started = true;
	return r;
}

static long fragment_step(struct h2_conn *c, struct proto_io *io, enum proto_side side,
                          const uint8_t *p, size_t len)
{
	struct h2_side *s = &c->side[side];
	size_t n = len < s->left ? len : s->left;
	bool last = n == s->left;

	hpack_feed(c, io, s, p, n, last && (s->frag_flags & F_END_HEADERS));
	s->left -= (uint32_t)n;
	if (!last)
		return (long)n;
	s->phase = s->pad ? PH_SKIP : PH_FRAME;
	s->left = s->pad;
	s->pad = 0;
	if (s->frag_flags & F_END_HEADERS)
		block_end(c, io, side, io->ts_ns);
	return (long)n;
}

/* Every byte passed was consumed: hand what is left of the frame to io->skip. */
static void run_end(struct h2_conn *c, struct proto_io *io, enum proto_side side)
{
	struct h2_side *s = &c->side[side];

	if (s->phase == PH_FRAGMENT && s->left && io->gap_after) {
		/* the block loses its tail: decode no further, stay in frame sync */
		io->skip = (uint64_t)s->left + s->pad;
		s->phase = PH_FRAME;
		s->left = s->pad = 0;
		block_break(s);
		if (s->frag_flags & F_END_HEADERS)
			block_end(c, io, side, s->blk_ts);
	} else if (s->phase == PH_SKIP) {
		io->skip = s->left;
		s->phase = PH_FRAME;
		s->left = 0;
	}
}

static long h2_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                     size_t len)
{
	struct h2_conn *c = st;
	struct h2_side *s = &c->side[side];
	size_t off = 0;
	long r = 0;

	while (r >= 0) {
		if (s->phase == PH_FRAGMENT && (off < len || !s->left)) {
			r = fragment_step(c, io, side, p + off, len - off);
		} else if (off == len) {
			break;
		} else if (s->phase == PH_SKIP) {
			r = (long)(len - off < s->left ? len - off : s->left);
			s->left -= (uint32_t)r;
			s->phase = s->left ? PH_SKIP : PH_FRAME;
		} else {
			r = frame_step(c, io, side, p + off, len - off);
		}
		if (r > 0)
			off += (size_t)r;
	}
	if (off == 0)
		return r < 0 ? r : PROTO_INCOMPLETE;
	if (off == len)
		run_end(c, io, side);
	return (long)off;
}

/* ---- the parser -------------------------------------------------------- */

static int h2_init(void *st)
{
	(void)st; /* zeroed state is the start of a connection */
	return 0;
}

/*
 * A gap no skip covered: this side's frame sync and HPACK context are gone.
 * Open streams stay: stream ids pair a later response exactly, and those
 * whose end was lost settle at GOAWAY, eviction or close.
 */
static void h2_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct h2_conn *c = st;
	struct h2_side *s = &c->side[side];

	(void)len;
	if (side == PROTO_REQ)
		c->req_gap = true;
	block_abandon(c, io, side);
	hpack_drop(s);
	s->phase = PH_FRAME;
	s->left = s->pad = 0;
	/* a SETTINGS frame may have been lost: lengths are no longer checked */
	c->side[PROTO_REQ].frame_max = c->side[PROTO_RESP].frame_max = 0;
}

static void h2_close(void *st, struct proto_io *io)
{
	struct h2_conn *c = st;

	block_abandon(c, io, PROTO_REQ);
	block_abandon(c, io, PROTO_RESP);
	for (unsigned i = 0; i < c->nstreams; i++) {
		const struct h2_stream *e = &c->streams[i];

		stream_emit(io, e, e->resp_ns ? e->resp_ns : e->start_ns);
	}
	c->nstreams = 0;
}

static void h2_fini(void *st)
{
	struct h2_conn *c = st;

	hpack_drop(&c->side[PROTO_REQ]);
	hpack_drop(&c->side[PROTO_RESP]);
	free(c->streams);
	c->streams = NULL;
	c->nstreams = c->cap = 0;
}

const struct proto_parser proto_http2 = {
	.name = "http2",
	.id = PROTO_HTTP2,
	.state_size = sizeof(struct h2_conn),
	.detect = h2_detect,
	.init = h2_init,
	.parse = h2_parse,
	.gap = h2_gap,
	.close = h2_close,
	.fini = h2_fini,
};
