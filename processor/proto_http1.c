// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.0 and HTTP/1.1 (RFC 9112) on the byte-stream model of
 * processor/proto.h.
 *
 * Trust boundary: every byte comes from a captured socket or TLS call and
 * may be anything. Messages are parsed one line at a time and each complete
 * line is consumed at once, so a header of any size passes through a carry
 * of at most H1_LINE_MAX bytes; a longer line is cut there (its prefix is
 * used, the rest dropped unseen). Bodies are never looked at: Content-Length
 * bodies and chunk data become io->skip, a body delimited by the close
 * becomes a skip of everything.
 *
 * Requests wait in a FIFO of at most H1_PENDING_MAX entries until their
 * response (pipelining answers in order). An entry keeps, in fixed buffers,
 * only what the attributes need. The first entry is in the state block; more
 * are allocated when requests are pipelined and freed in fini.
 *
 * Header values the scrubber's policy names (io->headers, matched without
 * regard to case) are kept per message: at most H1_CAPTURED_MAX names, each
 * value at most PROTO_HEADER_VALUE_MAX bytes (TXN_TRUNCATED beyond, or when
 * its line was cut), flagged TXN_SENSITIVE. A repeated field is joined to the
 * first with ", " ("; " for cookie) within that bound, an obs-fold line to
 * its field with SP (RFC 9110 5.3, RFC 9112 5.2); names beyond the bound are
 * counted (headers_not_captured), not kept. Trailers are never captured.
 *
 * What never leaves this file: any header value other than Host, User-Agent
 * and those the policy names (Authorization, Cookie, ... are not even copied
 * unless named), and the userinfo of an absolute-form target.
 */
#include <stdlib.h>
#include <string.h>

#include "processor/proto.h"

#define H1_LINE_MAX      8192               /* a longer start or header line is cut here */
#define H1_HEADERS_MAX   128                /* header (or trailer) lines per message */
#define H1_PENDING_MAX   8                  /* requests waiting for their response */
#define H1_METHOD_MAX    16                 /* bytes kept of a method token */
#define H1_PATH_MAX      256                /* bytes kept of url.path */
#define H1_QUERY_MAX     256                /* bytes kept of url.query */
#define H1_HOST_MAX      128                /* bytes kept of server.address */
#define H1_UA_MAX        128                /* bytes kept of user_agent.original */
#define H1_CAPTURED_MAX  PROTO_CAPTURED_MAX /* policy-named header values kept per message */
#define H1_CL_DIGITS_MAX 18                 /* significant Content-Length digits: < 2^63 */
#define H1_CHUNK_HEX_MAX 15                 /* significant chunk-size hex digits: < 2^60 */
#define H1_PORT_DIGITS   5
#define H1_STATUS_LEN    12         /* "HTTP/1.1 200" */
#define H1_KNOWN_METHODS 9          /* h1_methods[] entries that semconv names */
#define H1_SKIP_ALL      UINT64_MAX /* a body delimited by the connection's close */
/* attributes a transaction can hold besides captured headers (emit_txn) */
#define H1_ATTRS_BASE 11

_Static_assert(H1_ATTRS_BASE + 2 * H1_CAPTURED_MAX <= TXN_MAX_ATTRS,
               "every captured header value fits in the transaction");

enum h1_phase {
	H1_START = 0, /* expecting a request or status line */
	H1_HEADERS,
	H1_CHUNK_SIZE,
	H1_CHUNK_END, /* CRLF after a chunk's data */
	H1_TRAILERS,
	H1_CLOSE, /* the rest of the stream is a body */
};

enum h1_version {
	H1_V_UNKNOWN = 0,
	H1_V10,
	H1_V11,
};

enum h1_field {
	F_METHOD,
	F_PATH,
	F_QUERY,
	F_HOST,
	F_UA,
	F__COUNT,
};

struct h1_str {
	uint16_t len;
	uint8_t flags; /* TXN_TRUNCATED */
	bool set;
};

/* One request, from its request line until its response or settlement. */
struct h1_req {
	uint64_t start_ns;
	int64_t body_size; /* -1: not known from Content-Length */
	uint16_t port;     /* 0: none */
	uint8_t version;   /* enum h1_version */
	bool known;        /* method is one of semconv's */
	bool head, connect;
	bool host_from_target; /* absolute-form or CONNECT: Host does not override */
	struct h1_str f[F__COUNT];
	char method[H1_METHOD_MAX];
	char path[H1_PATH_MAX];
	char query[H1_QUERY_MAX];
	char host[H1_HOST_MAX];
	char ua[H1_UA_MAX];
	struct proto_capt hdrs;
};

static const struct {
	size_t off;
	size_t cap;
} h1_fields[F__COUNT] = {
	[F_METHOD] = { offsetof(struct h1_req, method), H1_METHOD_MAX },
	[F_PATH] = { offsetof(struct h1_req, path), H1_PATH_MAX },
	[F_QUERY] = { offsetof(struct h1_req, query), H1_QUERY_MAX },
	[F_HOST] = { offsetof(struct h1_req, host), H1_HOST_MAX },
	[F_UA] = { offsetof(struct h1_req, ua), H1_UA_MAX },
};

/* The message being parsed on one side. */
struct h1_msg {
	uint64_t start_ns; /* response: its status line's run */
	uint64_t cl;
	uint16_t nheaders;
	uint16_t status;
	uint8_t phase; /* enum h1_phase */
	bool discard;  /* dropping the rest of a cut line */
	bool cl_seen, te_seen, te_chunked;
	bool dropped; /* request: the pending FIFO had no room */
	bool h2c;     /* response: Upgrade names h2c */
	uint8_t fold; /* 1 + index of the captured value an obs-fold line continues; 0: none */
};

struct h1 {
	struct h1_req
	        *slot[H1_PENDING_MAX]; /* [0, count) pending, oldest first; slot[count] parsing */
	uint8_t count;
	uint8_t nalloc;              /* slot[0, nalloc) point to entries */
	struct h1_msg msg[2];        /* by enum proto_side */
	struct proto_capt resp_hdrs; /* of the response being parsed */
	struct h1_req first;         /* slot[] storage until requests are pipelined */
};

/* A line of the message: complete, or cut at H1_LINE_MAX or at a gap. */
enum h1_cut {
	CUT_NONE = 0,
	CUT_LONG, /* longer than H1_LINE_MAX: the rest is dropped */
	CUT_GAP,  /* the stream's bytes end in a gap before the line ends */
};

struct h1_line {
	const uint8_t *s;
	size_t n;   /* without CR LF */
	size_t adv; /* bytes the line takes */
	enum h1_cut cut;
};

/* semconv's method set first (H1_KNOWN_METHODS), then WebDAV ones detection accepts. */
static const char *const h1_methods[] = {
	"GET",     "HEAD",  "POST",  "PUT",      "DELETE",    "CONNECT",
	"OPTIONS", "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL",
	"COPY",    "MOVE",  "LOCK",  "UNLOCK",   "REPORT",    "SEARCH",
};

#define H1_NMETHODS (sizeof(h1_methods) / sizeof(h1_methods[0]))

/* ---- character classes ------------------------------------------------- */

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_tchar(uint8_t c)
{
	return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Request-target bytes: visible, and tolerated obs-text (raw UTF-8 from sloppy clients). */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

static size_t token_len(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar(s[i]))
		i++;
	return i;
}

static size_t target_len(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_target_char(s[i]))
		i++;
	return i;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool ieq(const uint8_t *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n && lit[i]; i++)
		if (lower(s[i]) != (uint8_t)lit[i])
			return false;
	return i == n && lit[i] == '\0';
}

/* Strip optional whitespace (SP, HTAB) on both ends. */
static void trim(const uint8_t **s, size_t *n)
{
	while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* ---- detection --------------------------------------------------------- */

/* After "METHOD ": request-target SP "HTTP/1." [01] [CR] LF, as far as the bytes go. */
static enum proto_match detect_reqline_rest(const uint8_t *p, size_t n)
{
	static const char ver[] = " HTTP/1.";
	size_t t = target_len(p, n), i;

	if (n == 0)
		return PROTO_MAYBE;
	/* origin-form, asterisk, absolute-form or authority-form (a name or "[v6]") */
	if (p[0] != '/' && p[0] != '*' && p[0] != '[' && !is_alnum(p[0]))
		return PROTO_NO;
	for (i = 0; t + i < n && i < sizeof(ver) - 1; i++)
		if (p[t + i] != (uint8_t)ver[i])
			return PROTO_NO;
	i += t;
	if (i < n && p[i] != '0' && p[i] != '1')
		return PROTO_NO;
	if (++i < n && p[i] == '\r')
		i++;
	if (i < n && p[i] != '\n')
		return PROTO_NO;
	return PROTO_YES;
}

static enum proto_match detect_req(const uint8_t *p, size_t len)
{
	for (size_t m = 0; m < H1_NMETHODS; m++) {
		size_t ml = strlen(h1_methods[m]);

		if (memcmp(p, h1_methods[m], len < ml ? len : ml) != 0)
			continue;
		if (len <= ml)
			return PROTO_MAYBE;
		if (p[ml] == ' ')
			return detect_reqline_rest(p + ml + 1, len - ml - 1);
	}
	return PROTO_NO;
}

/* "HTTP/1." [01] SP 3DIGIT (status 100-999) */
static enum proto_match detect_resp(const uint8_t *p, size_t len)
{
	static const char pre[] = "HTTP/1.";
	size_t n = len < H1_STATUS_LEN ? len : H1_STATUS_LEN;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		bool ok;

		if (i < sizeof(pre) - 1)
			ok = c == (uint8_t)pre[i];
		else if (i == 7)
			ok = c == '0' || c == '1';
		else if (i == 8)
			ok = c == ' ';
		else
			ok = c >= (i == 9 ? '1' : '0') && c <= '9';
		if (!ok)
			return PROTO_NO;
	}
	return len >= H1_STATUS_LEN ? PROTO_YES : PROTO_MAYBE;
}

/* Every message starts at a line start, so mid-stream checks are the same as the first's. */
static enum proto_match h1_detect(enum proto_side side, const uint8_t *p, size_t len,
                                  unsigned flags)
{
	(void)flags;
	if (len == 0)
		return PROTO_MAYBE;
	return side == PROTO_REQ ? detect_req(p, len) : detect_resp(p, len);
}

/* ---- pending requests -------------------------------------------------- */

static void str_set(struct h1_str *f, char *buf, size_t cap, const uint8_t *s, size_t n, bool cut)
{
	size_t k = n < cap ? n : cap;

	if (k > 0)
		memcpy(buf, s, k);
	f->len = (uint16_t)k;
	f->flags = (n > cap || cut) ? TXN_TRUNCATED : 0;
	f->set = true;
}

static void field_set(struct h1_req *r, enum h1_field f, const uint8_t *s, size_t n, bool cut)
{
	str_set(&r->f[f], (char *)r + h1_fields[f].off, h1_fields[f].cap, s, n, cut);
}

static const char *field_ptr(const struct h1_req *r, enum h1_field f)
{
	return (const char *)r + h1_fields[f].off;
}

/* The request being parsed, or NULL (none, or no room for it). */
static struct h1_req *req_cur(struct h1 *h)
{
	const struct h1_msg *m = &h->msg[PROTO_REQ];

	if (m->phase != H1_HEADERS || m->dropped)
		return NULL;
	return h->slot[h->count];
}

/* An entry for a new request at slot[count]; NULL (counted) when there is no room. */
static struct h1_req *req_begin(struct h1 *h, struct proto_io *io)
{
	struct h1_req *r;

	if (h->count == H1_PENDING_MAX)
		goto drop;
	if (h->count == h->nalloc) {
		r = malloc(sizeof(*r));
		if (!r)
			goto drop;
		h->slot[h->nalloc++] = r;
	}
	r = h->slot[h->count];
	memset(r, 0, sizeof(*r));
	r->start_ns = io->ts_ns;
	r->body_size = -1;
	return r;
drop:
	io->cnt->pending_dropped[PROTO_HTTP1]++;
	h->msg[PROTO_REQ].dropped = true;
	return NULL;
}

/* The oldest request leaves; entries keep their storage, rotated behind the others. */
static void req_pop(struct h1 *h)
{
	struct h1_req *oldest = h->slot[0];

	memmove(&h->slot[0], &h->slot[1], (size_t)(h->nalloc - 1) * sizeof(h->slot[0]));
	h->slot[h->nalloc - 1] = oldest;
	h->count--;
}

/* ---- transactions ------------------------------------------------------ */

static const struct {
	const char *key;
	enum h1_field f;
	unsigned flags;
} h1_req_attrs[] = {
	{ "url.path", F_PATH, 0 }, /* templated by the scrubber */
	{ "url.query", F_QUERY, TXN_SENSITIVE },
	{ "server.address", F_HOST, 0 },
	{ "user_agent.original", F_UA, TXN_SENSITIVE },
};

static void add_req_attrs(struct l7_txn *t, struct proto_counters *cnt, const struct h1_req *r)
{
	const struct h1_str *m = &r->f[F_METHOD];

	if (r->known) {
		txn_str(t, cnt, "http.request.method", r->method, m->len, 0);
	} else {
		txn_str(t, cnt, "http.request.method", "_OTHER", 6, 0);
		txn_str(t, cnt, "http.request.method_original", r->method, m->len, m->flags);
	}
	for (size_t i = 0; i < sizeof(h1_req_attrs) / sizeof(h1_req_attrs[0]); i++) {
		const struct h1_str *f = &r->f[h1_req_attrs[i].f];

		if (f->set)
			txn_str(t, cnt, h1_req_attrs[i].key, field_ptr(r, h1_req_attrs[i].f),
			        f->len, h1_req_attrs[i].flags | f->flags);
	}
	if (r->port)
		txn_int(t, cnt, "server.port", r->port);
	if (r->body_size >= 0)
		txn_int(t, cnt, "http.request.body.size", r->body_size);
	if (r->version != H1_V_UNKNOWN)
		txn_str(t, cnt, "network.protocol.version", r->version == H1_V10 ? "1.0" : "1.1", 3,
		        0);
}

/* A server's own failures are 5xx; a client also fails on 4xx. */
static bool status_is_error(enum proto_role role, unsigned status)
{
	return role == PROTO_ROLE_SERVER ? status >= 500 : status >= 400;
}

/* @r with the response being parsed (@resp_body: -1 unknown), or settled without one. */
static void emit_txn(struct h1 *h, struct proto_io *io, const struct h1_req *r, bool answered,
                     int64_t resp_body)
{
	const struct h1_msg *m = &h->msg[PROTO_RESP];
	struct l7_txn t;

	txn_init(&t, PROTO_HTTP1, r->start_ns);
	add_req_attrs(&t, io->cnt, r);
	if (answered) {
		t.end_ns = m->start_ns;
		txn_int(&t, io->cnt, "http.response.status_code", m->status);
		if (resp_body >= 0)
			txn_int(&t, io->cnt, "http.response.body.size", resp_body);
		t.status = status_is_error(io->role, m->status) ? TXN_ERROR : TXN_OK;
	} else {
		t.status = TXN_NO_RESPONSE;
		t.end_ns = r->start_ns;
	}
	proto_capt_emit(&t, io->cnt, &r->hdrs, PROTO_REQ);
	if (answered)
		proto_capt_emit(&t, io->cnt, &h->resp_hdrs, PROTO_RESP);
	proto_emit(io, &t);
}

static void settle_all(struct h1 *h, struct proto_io *io)
{
	while (h->count > 0) {
		emit_txn(h, io, h->slot[0], false, -1);
		req_pop(h);
	}
}

/*
 * The request the response being parsed answers, or NULL (counted). A
 * response that started before the oldest request did cannot be its answer:
 * it answers a request lost in a gap, and pairing it would shift every later
 * pair by one.
 */
static struct h1_req *resp_pair(struct h1 *h, struct proto_io *io)
{
	if (h->count == 0 || h->msg[PROTO_RESP].start_ns < h->slot[0]->start_ns) {
		io->cnt->unpaired[PROTO_HTTP1]++;
		return NULL;
	}
	return h->slot[0];
}

/* The request being parsed joins the FIFO as it is (end of its header, or cut). */
static void req_commit(struct h1 *h)
{
	struct h1_msg *m = &h->msg[PROTO_REQ];
	struct h1_req *r = req_cur(h);

	if (!r)
		return;
	if (m->cl_seen && !m->te_seen)
		r->body_size = (int64_t)m->cl;
	h->count++;
}

/* A response header cut short: answer its request with what is known. */
static void resp_salvage(struct h1 *h, struct proto_io *io)
{
	struct h1_msg *m = &h->msg[PROTO_RESP];
	struct h1_req *r;

	if (m->phase != H1_HEADERS || (m->status < 200 && m->status != 101))
		return;
	r = resp_pair(h, io);
	if (!r)
		return;
	emit_txn(h, io, r, true, -1);
	req_pop(h);
}

static void msg_reset(struct h1 *h, enum proto_side side)
{
	memset(&h->msg[side], 0, sizeof(h->msg[side]));
	if (side == PROTO_RESP)
		h->resp_hdrs.n = 0;
}

/* ---- captured header values -------------------------------------------- */

/* Where the message on @side keeps captured values; NULL: a request with no FIFO room. */
static struct proto_capt *capt_of(struct h1 *h, enum proto_side side)
{
	struct h1_req *r;

	if (side == PROTO_RESP)
		return &h->resp_hdrs;
	r = req_cur(h);
	return r ? &r->hdrs : NULL;
}

/* A field line @nl bytes of name, value @v (OWS trimmed): kept when the policy names it. */
static void capture(struct h1 *h, struct proto_io *io, enum proto_side side,
                    const struct h1_line *ln, size_t nl, const uint8_t *v, size_t vl)
{
	const struct proto_header *ph = proto_headers_find(io->headers, (const char *)ln->s, nl);
	struct proto_capt *c = ph ? capt_of(h, side) : NULL;
	unsigned k;

	if (!c)
		return;
	k = proto_capt_add(c, io->cnt, ph, v, vl, ln->cut != CUT_NONE);
	h->msg[side].fold = ln->cut == CUT_NONE ? (uint8_t)k : 0;
}

/* obs-fold (RFC 9112 5.2): the line continues the previous field's value, joined with SP. */
static long fold_line(struct h1 *h, enum proto_side side, const struct h1_line *ln)
{
	struct h1_msg *m = &h->msg[side];
	struct proto_capt *c = m->fold ? capt_of(h, side) : NULL;
	const uint8_t *v = ln->s;
	size_t vl = ln->n;

	if (!c || m->fold > c->n)
		return 0; /* continues a value this parser does not keep */
	trim(&v, &vl);
	proto_hval_append(&c->e[m->fold - 1], " ", v, vl, ln->cut != CUT_NONE);
	if (ln->cut != CUT_NONE)
		m->fold = 0;
	return 0;
}

/* ---- header fields ----------------------------------------------------- */

/* "host", "host:port", "[v6]:port"; the port only when it is a valid one. */
static void set_host(struct h1_req *r, const uint8_t *s, size_t n, bool cut)
{
	const uint8_t *end = s + n, *colon = NULL, *hs = s;
	size_t hl = n;
	unsigned port = 0;

	if (n > 0 && s[0] == '[') {
		const uint8_t *close = memchr(s, ']', n);

		hs = s + 1;
		hl = close ? (size_t)(close - hs) : n - 1;
		if (close && close + 1 < end && close[1] == ':')
			colon = close + 1;
	} else {
		colon = memrchr(s, ':', n);
		if (colon)
			hl = (size_t)(colon - s);
	}
	if (colon && !cut && end - colon - 1 >= 1 && end - colon - 1 <= H1_PORT_DIGITS) {
		for (const uint8_t *d = colon + 1; d < end && port <= 65535; d++)
			port = (*d >= '0' && *d <= '9') ? port * 10 + (unsigned)(*d - '0') : 65536;
		r->port = port <= 65535 ? (uint16_t)port : 0;
	}
	if (hl > 0)
		field_set(r, F_HOST, hs, hl, cut && !colon);
}

/* One Content-Length value: digits only, without a sign, below 2^63. */
static int cl_value(const uint8_t *v, size_t vl, uint64_t *out)
{
	uint64_t x = 0;
	size_t sig = 0;

	trim(&v, &vl);
	if (vl == 0)
		return -1;
	for (size_t k = 0; k < vl; k++) {
		if (v[k] < '0' || v[k] > '9')
			return -1;
		sig += x > 0 || v[k] != '0';
		if (sig > H1_CL_DIGITS_MAX)
			return -1;
		x = x * 10 + (uint64_t)(v[k] - '0');
	}
	*out = x;
	return 0;
}

/*
 * Content-Length: a list of equal values, or equal repeated fields, is one
 * value (RFC 9110 8.6); differing values are how requests are smuggled.
 */
static long parse_cl(struct h1_msg *m, const uint8_t *s, size_t n)
{
	for (;;) {
		const uint8_t *comma = memchr(s, ',', n);
		size_t vl = comma ? (size_t)(comma - s) : n;
		uint64_t x;

		if (cl_value(s, vl, &x) < 0 || (m->cl_seen && x != m->cl))
			return PROTO_INVALID;
		m->cl = x;
		m->cl_seen = true;
		if (!comma)
			return 0;
		s = comma + 1;
		n -= vl + 1;
	}
}

/* Transfer-Encoding: what counts is whether the last coding is chunked. */
static void parse_te(struct h1_msg *m, const uint8_t *s, size_t n)
{
	const uint8_t *comma = memrchr(s, ',', n), *v = comma ? comma + 1 : s, *semi;
	size_t vl = (size_t)(s + n - v);

	semi = memchr(v, ';', vl);
	if (semi)
		vl = (size_t)(semi - v);
	trim(&v, &vl);
	m->te_seen = true;
	m->te_chunked = ieq(v, vl, "chunked");
}

/* Upgrade: a list of protocols; h2c is the one the session can follow. */
static bool has_h2c(const uint8_t *s, size_t n)
{
	while (n > 0) {
		const uint8_t *comma = memchr(s, ',', n), *v = s;
		size_t vl = comma ? (size_t)(comma - s) : n;

		s += vl;
		n -= vl;
		if (comma)
			s++, n--;
		trim(&v, &vl);
		if (ieq(v, vl, "h2c"))
			return true;
	}
	return false;
}

enum h1_hname {
	HN_OTHER = 0,
	HN_CONTENT_LENGTH,
	HN_TRANSFER_ENCODING,
	HN_HOST,
	HN_USER_AGENT,
	HN_UPGRADE,
};

static enum h1_hname header_name(const uint8_t *s, size_t n)
{
	static const struct {
		const char *name;
		enum h1_hname id;
	} names[] = {
		{ "content-length", HN_CONTENT_LENGTH },
		{ "transfer-encoding", HN_TRANSFER_ENCODING },
		{ "host", HN_HOST },
		{ "user-agent", HN_USER_AGENT },
		{ "upgrade", HN_UPGRADE },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ieq(s, n, names[i].name))
			return names[i].id;
	return HN_OTHER;
}

/* A field the message's framing depends on: a cut value cannot be trusted. */
static long framing_field(struct h1_msg *m, enum h1_hname id, const uint8_t *v, size_t vl,
                          enum h1_cut cut)
{
	if (cut == CUT_GAP)
		return 0; /* the message ends at the gap anyway */
	if (cut == CUT_LONG)
		return PROTO_INVALID;
	if (id == HN_CONTENT_LENGTH)
		return parse_cl(m, v, vl);
	parse_te(m, v, vl);
	return 0;
}

static long header_field(struct h1 *h, struct proto_io *io, enum proto_side side,
                         const struct h1_line *ln)
{
	struct h1_msg *m = &h->msg[side];
	struct h1_req *r = side == PROTO_REQ ? req_cur(h) : NULL;
	size_t nl = token_len(ln->s, ln->n), vl;
	const uint8_t *v;
	enum h1_hname id;

	if (++m->nheaders > H1_HEADERS_MAX)
		return PROTO_INVALID;
	if (ln->s[0] == ' ' || ln->s[0] == '\t')
		return fold_line(h, side, ln);
	m->fold = 0;
	if (nl == 0 || nl == ln->n || ln->s[nl] != ':')
		return ln->cut == CUT_GAP ? 0 : PROTO_INVALID;
	v = ln->s + nl + 1;
	vl = ln->n - nl - 1;
	trim(&v, &vl);
	capture(h, io, side, ln, nl, v, vl);
	id = header_name(ln->s, nl);
	if (id == HN_CONTENT_LENGTH || id == HN_TRANSFER_ENCODING)
		return framing_field(m, id, v, vl, ln->cut);
	if (id == HN_UPGRADE && side == PROTO_RESP)
		m->h2c = m->h2c || has_h2c(v, vl);
	else if (id == HN_USER_AGENT && r)
		field_set(r, F_UA, v, vl, ln->cut);
	else if (id == HN_HOST && r && !r->host_from_target && !r->f[F_HOST].set)
		set_host(r, v, vl, ln->cut);
	return 0;
}

/* ---- start lines ------------------------------------------------------- */

/* The target's parts: authority (absolute-form), path, query; @cut: it was cut short. */
static void set_target(struct h1_req *r, const uint8_t *s, size_t n, bool cut)
{
	const uint8_t *end = s + n, *q, *frag;

	if (r->connect) {
		r->host_from_target = true;
		set_host(r, s, n, cut);
		return;
	}
	if (n == 0 || (n == 1 && s[0] == '*'))
		return;
	if (s[0] != '/') {
		const uint8_t *sep = memmem(s, n, "://", 3), *auth, *at;
		size_t al;

		if (!sep)
			return;
		auth = sep + 3;
		al = (size_t)(end - auth);
		for (size_t i = 0; i < al; i++) {
			if (auth[i] == '/' || auth[i] == '?' || auth[i] == '#') {
				al = i;
				break;
			}
		}
		at = memrchr(auth, '@', al); /* userinfo may hold a password: never kept */
		if (at)
			al -= (size_t)(at + 1 - auth), auth = at + 1;
		r->host_from_target = true;
		set_host(r, auth, al, cut && auth + al == end);
		s = auth + al;
		n = (size_t)(end - s);
	}
	frag = memchr(s, '#', n);
	if (frag)
		end = frag, n = (size_t)(frag - s), cut = false;
	q = memchr(s, '?', n);
	if (q == NULL ? n > 0 : q > s)
		field_set(r, F_PATH, s, q ? (size_t)(q - s) : n, cut && !q);
	if (q)
		field_set(r, F_QUERY, q + 1, (size_t)(end - q - 1), cut);
}

/* " HTTP/1.0" or " HTTP/1.1" and nothing else; a cut line may end anywhere in it. */
static int parse_version(const uint8_t *s, size_t n, enum h1_cut cut, uint8_t *version)
{
	static const char ver[] = " HTTP/1.";
	size_t vl = sizeof(ver) - 1;

	*version = H1_V_UNKNOWN;
	if (cut != CUT_NONE && n <= vl)
		return memcmp(s, ver, n) == 0 ? 0 : -1;
	if (n < vl + 1 || memcmp(s, ver, vl) != 0 || (s[vl] != '0' && s[vl] != '1'))
		return -1;
	if (n > vl + 1 && cut == CUT_NONE)
		return -1;
	*version = s[vl] == '0' ? H1_V10 : H1_V11;
	return 0;
}

static void set_method(struct h1_req *r, const uint8_t *s, size_t n)
{
	field_set(r, F_METHOD, s, n, false);
	for (size_t i = 0; i < H1_KNOWN_METHODS; i++)
		if (n == strlen(h1_methods[i]) && memcmp(s, h1_methods[i], n) == 0)
			r->known = true;
	r->head = n == 4 && memcmp(s, "HEAD", 4) == 0;
	r->connect = n == 7 && memcmp(s, "CONNECT", 7) == 0;
}

/* request-line = method SP request-target SP HTTP-version */
static long request_line(struct h1 *h, struct proto_io *io, const struct h1_line *ln)
{
	struct h1_msg *m = &h->msg[PROTO_REQ];
	size_t ml = token_len(ln->s, ln->n), t, tl;
	uint8_t version;
	struct h1_req *r;

	if (ln->n == 0 && ln->cut == CUT_NONE)
		return 0; /* an empty line before a request is tolerated (RFC 9112 2.2) */
	if (ml == ln->n && ln->cut == CUT_GAP)
		return 0; /* only part of the method: nothing to keep */
	if (ml == 0 || ml == ln->n || ln->s[ml] != ' ')
		return PROTO_INVALID;
	t = ml + 1;
	tl = target_len(ln->s + t, ln->n - t);
	if ((tl == 0 && ln->cut == CUT_NONE) ||
	    parse_version(ln->s + t + tl, ln->n - t - tl, ln->cut, &version) < 0)
		return PROTO_INVALID;
	msg_reset(h, PROTO_REQ);
	m->phase = H1_HEADERS;
	r = req_begin(h, io);
	if (!r)
		return 0;
	r->version = version;
	set_method(r, ln->s, ml);
	set_target(r, ln->s + t, tl, ln->cut != CUT_NONE && t + tl == ln->n);
	return 0;
}

/* status-line = HTTP-version SP 3DIGIT [ SP reason-phrase ] */
static long status_line(struct h1 *h, struct proto_io *io, const struct h1_line *ln)
{
	struct h1_msg *m = &h->msg[PROTO_RESP];
	const uint8_t *s = ln->s;

	if (ln->n == 0 && ln->cut == CUT_NONE)
		return 0;
	if (ln->n < H1_STATUS_LEN && ln->cut == CUT_GAP)
		return 0;
	if (ln->n < H1_STATUS_LEN || detect_resp(s, ln->n) != PROTO_YES ||
	    (ln->n > H1_STATUS_LEN && s[H1_STATUS_LEN] != ' '))
		return PROTO_INVALID;
	msg_reset(h, PROTO_RESP);
	m->phase = H1_HEADERS;
	m->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	m->start_ns = io->ts_ns;
	return 0;
}

/* ---- end of a header --------------------------------------------------- */

/* A request's body: chunked, Content-Length, or none (RFC 9112 6.3). */
static long request_end(struct h1 *h, struct proto_io *io, bool *stop)
{
	struct h1_msg *m = &h->msg[PROTO_REQ];

	if (m->te_seen && !m->te_chunked)
		return PROTO_INVALID; /* a request's length must be knowable */
	req_commit(h);
	if (m->te_chunked) {
		m->phase = H1_CHUNK_SIZE;
		return 0;
	}
	m->phase = H1_START;
	if (m->cl_seen && m->cl > 0) {
		io->skip = m->cl;
		*stop = true;
	}
	return 0;
}

/* The response's body length as RFC 9112 6.3 orders the rules; -1: chunked or until close. */
static int64_t resp_body_len(const struct h1_msg *m, const struct h1_req *r)
{
	if ((r && r->head) || m->status == 204 || m->status == 304)
		return 0;
	if (m->te_seen || !m->cl_seen)
		return -1;
	return (int64_t)m->cl;
}

/* Where the stream goes after a final response: another protocol, or a body. */
static void resp_framing(struct h1_msg *m, struct proto_io *io, bool connect, int64_t body,
                         bool *stop)
{
	m->phase = H1_START;
	if (m->status == 101 || (connect && m->status / 100 == 2)) {
		io->switch_to = m->status == 101 && m->h2c ? PROTO_HTTP2 : PROTO_NONE;
		*stop = true;
	} else if (body > 0) {
		io->skip = (uint64_t)body;
		*stop = true;
	} else if (body < 0 && m->te_chunked) {
		m->phase = H1_CHUNK_SIZE;
	} else if (body < 0) {
		m->phase = H1_CLOSE;
		io->skip = H1_SKIP_ALL;
		*stop = true;
	}
}

static long response_end(struct h1 *h, struct proto_io *io, bool *stop)
{
	struct h1_msg *m = &h->msg[PROTO_RESP];
	struct h1_req *r;
	int64_t body;
	bool connect;

	if (m->status < 200 && m->status != 101) {
		m->phase = H1_START; /* informational (100 Continue): the final one follows */
		return 0;
	}
	r = resp_pair(h, io);
	body = resp_body_len(m, r);
	connect = r && r->connect;
	if (r) {
		bool sized = body >= 0 && !(r->head || m->status == 204 || m->status == 304);

		emit_txn(h, io, r, true, sized ? body : -1);
		req_pop(h);
	}
	resp_framing(m, io, connect, body, stop);
	return 0;
}

/* ---- chunked bodies ---------------------------------------------------- */

/* chunk-size [ BWS ";" chunk-ext ] */
static long chunk_size(struct h1_msg *m, struct proto_io *io, const struct h1_line *ln, bool *stop)
{
	uint64_t x = 0;
	size_t i, sig = 0;

	if (ln->cut != CUT_NONE)
		return ln->cut == CUT_GAP ? 0 : PROTO_INVALID;
	for (i = 0; i < ln->n; i++) {
		uint8_t c = lower(ln->s[i]);
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			break;
		if ((sig += (x > 0 || d > 0)) > H1_CHUNK_HEX_MAX)
			return PROTO_INVALID;
		x = x * 16 + d;
	}
	if (i == 0)
		return PROTO_INVALID;
	while (i < ln->n && (ln->s[i] == ' ' || ln->s[i] == '\t'))
		i++;
	if (i < ln->n && ln->s[i] != ';')
		return PROTO_INVALID;
	if (x == 0) {
		m->phase = H1_TRAILERS;
		return 0;
	}
	m->phase = H1_CHUNK_END;
	io->skip = x;
	*stop = true;
	return 0;
}

/* The CRLF that ends a chunk's data (a bare LF is tolerated). */
static long chunk_end(struct h1_msg *m, const struct proto_io *io, const uint8_t *p, size_t len)
{
	size_t adv;

	if (p[0] == '\n')
		adv = 1;
	else if (p[0] != '\r')
		return PROTO_INVALID;
	else if (len < 2)
		return io->gap_after ? 1 : PROTO_INCOMPLETE;
	else if (p[1] != '\n')
		return PROTO_INVALID;
	else
		adv = 2;
	m->phase = H1_CHUNK_SIZE;
	return (long)adv;
}

static long trailer_line(struct h1_msg *m, const struct h1_line *ln)
{
	if (ln->n > 0 || ln->cut != CUT_NONE)
		return ++m->nheaders > H1_HEADERS_MAX ? PROTO_INVALID : 0;
	m->phase = H1_START;
	return 0;
}

/* ---- the byte stream --------------------------------------------------- */

/* The line at p; false when it is incomplete and no gap ends the bytes. */
static bool line_get(const uint8_t *p, size_t len, uint64_t gap_after, struct h1_line *ln)
{
	size_t lim = len < H1_LINE_MAX ? len : H1_LINE_MAX;
	const uint8_t *lf = memchr(p, '\n', lim);

	ln->s = p;
	ln->cut = CUT_NONE;
	if (lf) {
		ln->adv = (size_t)(lf - p) + 1;
		ln->n = ln->adv - 1;
		if (ln->n > 0 && p[ln->n - 1] == '\r')
			ln->n--;
		return true;
	}
	if (len < H1_LINE_MAX && !gap_after)
		return false;
	ln->cut = len >= H1_LINE_MAX ? CUT_LONG : CUT_GAP;
	ln->adv = ln->n = lim;
	if (ln->cut == CUT_GAP && p[ln->n - 1] == '\r')
		ln->n--;
	return true;
}

/* Drop the rest of a cut line, through its LF. */
static long discard(struct h1_msg *m, const uint8_t *p, size_t len)
{
	const uint8_t *lf = memchr(p, '\n', len);

	if (!lf)
		return (long)len;
	m->discard = false;
	return lf - p + 1;
}

static long line_step(struct h1 *h, struct proto_io *io, enum proto_side side,
                      const struct h1_line *ln, bool *stop)
{
	struct h1_msg *m = &h->msg[side];

	switch (m->phase) {
	case H1_START:
		return side == PROTO_REQ ? request_line(h, io, ln) : status_line(h, io, ln);
	case H1_HEADERS:
		if (ln->n > 0 || ln->cut != CUT_NONE)
			return header_field(h, io, side, ln);
		return side == PROTO_REQ ? request_end(h, io, stop) : response_end(h, io, stop);
	case H1_CHUNK_SIZE:
		return chunk_size(m, io, ln, stop);
	case H1_TRAILERS:
		return trailer_line(m, ln);
	default:
		return PROTO_INVALID;
	}
}

/* One line or one framing element: bytes consumed, or PROTO_INCOMPLETE / PROTO_INVALID. */
static long step(struct h1 *h, struct proto_io *io, enum proto_side side, const uint8_t *p,
                 size_t len, bool *stop)
{
	struct h1_msg *m = &h->msg[side];
	struct h1_line ln;
	long rc;

	if (m->phase == H1_CLOSE) {
		io->skip = H1_SKIP_ALL;
		*stop = true;
		return (long)len;
	}
	if (m->discard)
		return discard(m, p, len);
	if (m->phase == H1_CHUNK_END)
		return chunk_end(m, io, p, len);
	if (!line_get(p, len, io->gap_after, &ln))
		return PROTO_INCOMPLETE;
	rc = line_step(h, io, side, &ln, stop);
	if (rc < 0)
		return rc;
	if (ln.cut == CUT_LONG)
		m->discard = true;
	return (long)ln.adv;
}

static long h1_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                     size_t len)
{
	struct h1 *h = st;
	size_t off = 0;
	bool stop = false;

	while (off < len && !stop) {
		long n = step(h, io, side, p + off, len - off, &stop);

		if (n == PROTO_INCOMPLETE)
			return off > 0 ? (long)off : PROTO_INCOMPLETE;
		if (n < 0) {
			/* forgotten, not salvaged: the session's gap() that follows settles the
			 * rest */
			msg_reset(h, side);
			return PROTO_INVALID;
		}
		off += (size_t)n;
	}
	return off > 0 ? (long)off : PROTO_INCOMPLETE;
}

/* ---- lifecycle --------------------------------------------------------- */

static int h1_init(void *st)
{
	struct h1 *h = st;

	h->slot[0] = &h->first;
	h->nalloc = 1;
	return 0;
}

/*
 * What was parsed of a cut message is kept (a request joins the FIFO, a
 * response answers its request). A response side gap may have swallowed the
 * responses of every pending request: they are settled now, or each later
 * response would answer the wrong request.
 */
static void h1_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct h1 *h = st;

	(void)len;
	if (side == PROTO_REQ) {
		req_commit(h);
	} else {
		resp_salvage(h, io);
		settle_all(h, io);
	}
	msg_reset(h, side);
}

static void h1_close(void *st, struct proto_io *io)
{
	struct h1 *h = st;

	req_commit(h);
	resp_salvage(h, io);
	settle_all(h, io);
	msg_reset(h, PROTO_REQ);
	msg_reset(h, PROTO_RESP);
}

static void h1_fini(void *st)
{
	struct h1 *h = st;

	for (size_t i = 0; i < h->nalloc; i++)
		if (h->slot[i] != &h->first)
			free(h->slot[i]);
	h->nalloc = 0;
	h->count = 0;
}

const struct proto_parser proto_http1 = {
	.name = "http",
	.id = PROTO_HTTP1,
	.state_size = sizeof(struct h1),
	.detect = h1_detect,
	.init = h1_init,
	.parse = h1_parse,
	.gap = h1_gap,
	.close = h1_close,
	.fini = h1_fini,
};
