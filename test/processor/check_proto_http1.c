// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_http1.c, driven through a real session by the
 * proto harness.
 *
 * Every table case is checked unsplit and cut at every byte boundary
 * (harness_check_splits), and has generated twins: each data step cut at
 * every length and followed by a gap for the rest, or by the close. The
 * twins only have to keep the invariants (transactions are HTTP/1, end after
 * start, nothing secret in any attribute); the named malformed and truncated
 * cases check what they yield. Fixture headers carry Authorization, Cookie
 * and the like with the word "secret" in them: no attribute may hold it.
 *
 * Header capture: each case names the header set its session passes to the
 * parser (io->headers): content-type alone (the default, as the default
 * policy has it), none, or sets naming x-request-id, authorization and the
 * like. Every header attribute of every run, twins included, must be one the
 * set names, flagged sensitive and within PROTO_HEADER_VALUE_MAX.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/processor/proto_harness.h"

Suite *proto_http1_suite(void);

#define CASE_STEPS  10
#define CASE_TXNS   12
#define WHY_MAX     1024
#define SPEC_MAX    1024
#define NOT_CHECKED (-1) /* a counter the case does not check (unset counters must be 0) */
#define SECRET      "secret"
#define LONG_LINE   9000 /* beyond the parser's 8 KiB line limit */
#define TEST_SLOW   120  /* seconds: every-split runs of the long fixtures under ASan */
#define LONG_VALUE  300  /* a captured header value beyond PROTO_HEADER_VALUE_MAX */
#define REQ_HDR     "http.request.header."
#define RESP_HDR    "http.response.header."

#define REQ(s)                                                                                     \
	{                                                                                          \
		PROTO_REQ, s, sizeof(s) - 1, 0                                                     \
	}
#define RESP(s)                                                                                    \
	{                                                                                          \
		PROTO_RESP, s, sizeof(s) - 1, 0                                                    \
	}
#define REQ_AT(s, t)                                                                               \
	{                                                                                          \
		PROTO_REQ, s, sizeof(s) - 1, t                                                     \
	}
#define RESP_AT(s, t)                                                                              \
	{                                                                                          \
		PROTO_RESP, s, sizeof(s) - 1, t                                                    \
	}
#define GAP(side, n)                                                                               \
	{                                                                                          \
		side, NULL, n, 0                                                                   \
	}
#define OK0 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

/* The header names a case's session captures. */
enum hset {
	HS_CTYPE = 0, /* content-type */
	HS_NONE,      /* io->headers NULL */
	HS_CAPTURE,   /* X-Request-Id, Authorization, Content-Type (added in mixed case) */
	HS_MANY,      /* x-a ... x-h: more than a message may capture */
	HS__COUNT,
};

static const char *const hset_names[HS__COUNT][9] = {
	[HS_CTYPE] = { "content-type" },
	[HS_CAPTURE] = { "X-Request-Id", "authorization", "Content-Type" },
	[HS_MANY] = { "x-a", "x-b", "x-c", "x-d", "x-e", "x-f", "x-g", "x-h" },
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

/*
 * A conversation and what it must yield. want[i] describes transaction i:
 * space-separated "key=value" (string or number), "key~FLAGS" (exact flags:
 * S sensitive, T truncated, - none), "!key" (absent), "status=ok|error|noresp".
 */
struct h1_case {
	const char *name;
	enum proto_role role;
	struct h_step steps[CASE_STEPS];        /* ends at the first { 0 } */
	const char *want[CASE_TXNS];            /* NULL-terminated */
	int unpaired, dropped, errors, desyncs; /* the exact count, or NOT_CHECKED */
	enum proto_id detected;                 /* 0: PROTO_HTTP1 */
	enum hset hs;                           /* io->headers */
	int not_captured;                       /* headers_not_captured, or NOT_CHECKED */
};

/* ---- checks ------------------------------------------------------------ */

static size_t nsteps(const struct h1_case *c)
{
	size_t n = 0;

	while (n < CASE_STEPS && (c->steps[n].data || c->steps[n].len))
		n++;
	return n;
}

static int check_status(const struct h_txn *t, const char *v)
{
	static const char *const names[] = {
		[TXN_OK] = "ok", [TXN_ERROR] = "error", [TXN_NO_RESPONSE] = "noresp"
	};

	return (unsigned)t->status < 3 && strcmp(names[t->status], v) == 0 ? 0 : -1;
}

static int check_flags(const struct h_attr *a, const char *v)
{
	unsigned want = 0;

	for (; *v && *v != '-'; v++)
		want |= *v == 'S' ? TXN_SENSITIVE : *v == 'T' ? TXN_TRUNCATED : 0x80;
	return a && a->flags == want ? 0 : -1;
}

static int check_value(const struct h_attr *a, const char *v)
{
	if (!a)
		return -1;
	if (a->type == TXN_INT)
		return a->num == strtoll(v, NULL, 10) ? 0 : -1;
	return a->len == strlen(v) && memcmp(a->str, v, a->len) == 0 ? 0 : -1;
}

/* 0, or -1 with the failing token in @why. */
static int check_token(const struct h_txn *t, char *tok, char *why, size_t whylen)
{
	char *eq = strchr(tok, '='), *tilde = strchr(tok, '~');
	int rc;

	if (tok[0] == '!') {
		rc = h_attr(t, tok + 1) ? -1 : 0;
	} else if (eq) {
		*eq = '\0';
		rc = strcmp(tok, "status") == 0 ? check_status(t, eq + 1)
		                                : check_value(h_attr(t, tok), eq + 1);
		*eq = '=';
	} else if (tilde) {
		*tilde = '\0';
		rc = check_flags(h_attr(t, tok), tilde + 1);
		*tilde = '~';
	} else {
		rc = -1;
	}
	if (rc < 0)
		snprintf(why, whylen, "token \"%s\" does not hold", tok);
	return rc;
}

static int check_spec(const struct h_txn *t, const char *spec, char *why, size_t whylen)
{
	char buf[SPEC_MAX], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (check_token(t, tok, why, whylen) < 0)
			return -1;
	return 0;
}

/* A header attribute names a header of the set, is sensitive and is bounded. */
static void check_header_attr(const struct harness *h, const char *name, const struct h_attr *x)
{
	size_t pre = !strncmp(x->key, REQ_HDR, strlen(REQ_HDR))     ? strlen(REQ_HDR)
	             : !strncmp(x->key, RESP_HDR, strlen(RESP_HDR)) ? strlen(RESP_HDR)
	                                                            : 0;

	if (!pre)
		return;
	ck_assert_msg(proto_headers_find(h->env.headers, x->key + pre, strlen(x->key + pre)),
	              "%s: %s is not in the header set", name, x->key);
	ck_assert_msg(x->type == TXN_STR && (x->flags & TXN_SENSITIVE), "%s: %s not sensitive",
	              name, x->key);
	ck_assert_msg(x->len <= PROTO_HEADER_VALUE_MAX, "%s: %s is %u bytes", name, x->key, x->len);
}

/* What every run must keep, whatever its input. */
static void check_invariants(const struct harness *h, const char *name)
{
	ck_assert_msg(h->overflow == 0, "%s: too many transactions", name);
	for (unsigned i = 0; i < h->n; i++) {
		const struct h_txn *t = &h->txns[i];

		ck_assert_msg(t->proto == PROTO_HTTP1, "%s: txn %u proto %d", name, i, t->proto);
		ck_assert_msg(t->end_ns >= t->start_ns, "%s: txn %u ends before it starts", name,
		              i);
		ck_assert_msg(h_attr(t, "http.request.method") != NULL, "%s: txn %u no method",
		              name, i);
		for (unsigned a = 0; a < t->nattrs; a++) {
			const struct h_attr *x = &t->attrs[a];

			ck_assert_msg(x->type != TXN_STR || !memmem(x->str, x->len, SECRET, 6),
			              "%s: txn %u attribute %s holds a secret", name, i, x->key);
			check_header_attr(h, name, x);
		}
	}
}

static void check_counter(const char *name, const char *what, int want, uint64_t got)
{
	ck_assert_msg(want == NOT_CHECKED || (uint64_t)want == got, "%s: %s %llu, want %d", name,
	              what, (unsigned long long)got, want);
}

static void check_result(const struct h1_case *c, const struct harness *h)
{
	const struct proto_counters *k = &h->env.cnt;
	unsigned nwant = 0;
	char why[WHY_MAX];

	while (nwant < CASE_TXNS && c->want[nwant])
		nwant++;
	check_invariants(h, c->name);
	ck_assert_msg(h->n == nwant, "%s: %u transactions, want %u", c->name, h->n, nwant);
	for (unsigned i = 0; i < nwant; i++)
		ck_assert_msg(check_spec(&h->txns[i], c->want[i], why, sizeof(why)) == 0,
		              "%s: txn %u: %s", c->name, i, why);
	check_counter(c->name, "unpaired", c->unpaired, k->unpaired[PROTO_HTTP1]);
	check_counter(c->name, "pending_dropped", c->dropped, k->pending_dropped[PROTO_HTTP1]);
	check_counter(c->name, "parse_errors", c->errors, k->parse_errors[PROTO_HTTP1]);
	check_counter(c->name, "desyncs", c->desyncs, k->desyncs);
	check_counter(c->name, "headers_not_captured", c->not_captured, k->headers_not_captured);
	ck_assert_msg(h->detected == (c->detected ? c->detected : PROTO_HTTP1), "%s: detected %d",
	              c->name, h->detected);
}

/*
 * Twins of @c: step @i cut to @k bytes, then a gap for the rest and the
 * following steps (@gap), or nothing more (the close).
 */
static void run_twin(const struct h1_case *c, size_t i, size_t k, bool gap)
{
	static struct harness h;
	struct h_step steps[CASE_STEPS + 1];
	size_t n = nsteps(c), m = 0;

	for (size_t j = 0; j < i; j++)
		steps[m++] = c->steps[j];
	steps[m] = c->steps[i];
	steps[m++].len = k;
	if (gap) {
		steps[m++] = (struct h_step){ c->steps[i].side, NULL, c->steps[i].len - k, 0 };
		for (size_t j = i + 1; j < n; j++)
			steps[m++] = c->steps[j];
	}
	harness_init(&h);
	harness_run(&h, PROTO_HTTP1, c->role, steps, m, 0, 0);
	check_invariants(&h, c->name);
}

static void run_case(const struct h1_case *c)
{
	static struct harness ref;
	char why[WHY_MAX];
	size_t n = nsteps(c);

	harness_headers = hset(c->hs);
	ck_assert_msg(harness_check_splits(&ref, PROTO_HTTP1, c->role, c->steps, n, why,
	                                   sizeof(why)) == 0,
	              "%s: %s", c->name, why);
	check_result(c, &ref);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; c->steps[i].data && k < c->steps[i].len; k++) {
			run_twin(c, i, k, true);
			run_twin(c, i, k, false);
		}
}

/* ---- exchanges --------------------------------------------------------- */

static const struct h1_case exchanges[] = {
	{ .name = "GET with query, Host port, credentials never kept",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /api/users?id=42&name=bob HTTP/1.1\r\nHost: example.com:8080\r\n"
	                 "User-Agent: curl/8.4.0\r\nAccept: */*\r\n"
	                 "Authorization: Bearer secret-token\r\nCookie: sid=secret\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                  "Content-Length: 13\r\nSet-Cookie: "
	                  "sid=secret\r\n\r\n{\"ok\":true}\r\n") },
	  .want = { "status=ok http.request.method=GET url.path=/api/users url.path~- "
	            "url.query=id=42&name=bob url.query~S server.address=example.com "
	            "server.address~- server.port=8080 user_agent.original=curl/8.4.0 "
	            "user_agent.original~S network.protocol.version=1.1 "
	            "http.response.status_code=200 http.response.body.size=13 "
	            "http.response.header.content-type=application/json "
	            "http.response.header.content-type~S "
	            "!http.request.body.size !http.request.method_original" },
	  .unpaired = 0,
	  .dropped = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "POST body and a pipelined GET in one run; 4xx fails a client",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
	                 "Content-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
	             RESP("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	                  "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found") },
	  .want = { "status=ok http.request.method=POST url.path=/submit !url.query "
	            "http.request.body.size=5 http.request.header.content-type=text/plain "
	            "http.request.header.content-type~S "
	            "http.response.status_code=201 http.response.body.size=0",
	            "status=error http.request.method=GET url.path=/next "
	            "http.response.status_code=404 http.response.body.size=9" },
	  .unpaired = 0,
	  .dropped = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "server role: 4xx is the client's fault, 5xx fails",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	                  "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "status=ok url.path=/a http.response.status_code=404",
	            "status=error url.path=/b http.response.status_code=503" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "chunked response with extensions and trailers, then a 204",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: "
	                 "h\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
	                  "Content-Length: 99\r\n\r\n"
	                  "5;ext=1\r\nhello\r\n7 ; a=\"b\"\r\n, world\r\n0\r\nX-Trailer: v\r\n\r\n"
	                  "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n") },
	  .want = { "url.path=/stream http.response.status_code=200 !http.response.body.size",
	            "url.path=/after http.response.status_code=204 !http.response.body.size" },
	  .unpaired = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "chunked request body",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	                 "4\r\nWiki\r\nA\r\n0123456789\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n"),
	             RESP(OK0 OK0) },
	  .want = { "http.request.method=POST url.path=/upload !http.request.body.size",
	            "http.request.method=GET url.path=/x" },
	  .errors = 0,
	  .desyncs = 0,
	  .unpaired = 0 },
	{ .name = "HEAD and 304 responses have no body",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n"
	                 "GET /y HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	                  "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n" OK0) },
	  .want = { "http.request.method=HEAD http.response.status_code=200 "
	            "!http.response.body.size",
	            "status=ok url.path=/x http.response.status_code=304 !http.response.body.size",
	            "url.path=/y http.response.status_code=200" },
	  .errors = 0,
	  .unpaired = 0 },
	{ .name = "Expect: 100-continue, and 103 Early Hints, are not final",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("PUT /obj HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	                 "Content-Length: 5\r\n\r\n"),
	             RESP("HTTP/1.1 100 Continue\r\n\r\n"), REQ("hello"),
	             RESP("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
	                  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "http.request.method=PUT http.request.body.size=5 "
	            "http.response.status_code=200" },
	  .unpaired = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "101 to h2c switches to HTTP/2",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	                 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"),
	             RESP("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	                  "Upgrade: h2c\r\n\r\n") },
	  .want = { "status=ok url.path=/ http.response.status_code=101" },
	  .unpaired = 0,
	  .errors = 0,
	  .detected = PROTO_HTTP2 },
	{ .name = "101 to websocket stops parsing",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                 "Connection: Upgrade\r\nSec-WebSocket-Key: secretsecretsecret==\r\n\r\n"),
	             RESP("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                  "Connection: Upgrade\r\n\r\n\x81\x05hello"),
	             REQ("\x81\x85\x00\x00\x00\x00hello") },
	  .want = { "url.path=/chat http.response.status_code=101" },
	  .unpaired = 0,
	  .errors = 0,
	  .detected = PROTO_NONE },
	{ .name = "CONNECT 200 opens a tunnel",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
	                 "Proxy-Authorization: Basic c2VjcmV0secret\r\n\r\n"),
	             RESP("HTTP/1.1 200 Connection Established\r\n\r\n"),
	             REQ("\x16\x03\x01\x00\x05hello") },
	  .want = { "http.request.method=CONNECT server.address=example.com server.port=443 "
	            "!url.path !url.query http.response.status_code=200" },
	  .unpaired = 0,
	  .errors = 0,
	  .detected = PROTO_NONE },
	{ .name = "CONNECT refused: the connection stays HTTP",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: "
	                  "0\r\n\r\n"),
	             REQ("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nProxy-Authorization: "
	                 "secret\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\n\r\n") },
	  .want = { "status=error server.address=2001:db8::1 server.port=8443 "
	            "http.response.status_code=407",
	            "status=ok server.address=2001:db8::1 http.response.status_code=200" },
	  .unpaired = 0,
	  .errors = 0,
	  .detected = PROTO_NONE },
	{ .name = "HTTP/1.0 response delimited by the close",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /old HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n"),
	             RESP("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>\r\n"
	                  "HTTP/1.1 500 Fake\r\n\r\n"),
	             RESP("more body\r\nHTTP/1.1 500 Fake\r\nContent-Length: 0\r\n\r\n"),
	             GAP(PROTO_RESP, 100000), RESP("</html>") },
	  .want = { "status=ok url.path=/old network.protocol.version=1.0 "
	            "user_agent.original=Mozilla/5.0 http.response.status_code=200 "
	            "!http.response.body.size http.response.header.content-type=text/html" },
	  .unpaired = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "methods outside semconv's set are _OTHER",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /first HTTP/1.1\r\n\r\nPROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n"
	                 "VERYLONGMETHODNAMEXYZ /x HTTP/1.1\r\n\r\n"),
	             RESP(OK0 "HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n" OK0) },
	  .want = { "http.request.method=GET !http.request.method_original",
	            "http.request.method=_OTHER http.request.method_original=PROPFIND "
	            "http.request.method_original~- http.response.status_code=207",
	            "http.request.method=_OTHER http.request.method_original=VERYLONGMETHODNA "
	            "http.request.method_original~T" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "absolute-form: authority wins over Host, userinfo dropped",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET http://user:secret@proxy.example:3128/p?q=1#frag HTTP/1.1\r\n"
	                 "Host: other.example\r\n\r\n"),
	             RESP(OK0) },
	  .want = { "server.address=proxy.example server.port=3128 url.path=/p url.query=q=1" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "IPv6 Host; a bad port is not reported",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
	                 "GET /p HTTP/1.1\r\nhOsT:  example.com:99999 \r\n\r\n"
	                 "OPTIONS * HTTP/1.1\r\nHost: h:\r\n\r\n"),
	             RESP(OK0 OK0 OK0) },
	  .want = { "server.address=::1 server.port=8443 url.path=/",
	            "server.address=example.com !server.port url.path=/p",
	            "http.request.method=OPTIONS !url.path server.address=h !server.port" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "equal Content-Length values are one value",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /a HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc"
	                 "POST /b HTTP/1.1\r\ncontent-length: 2\r\nCONTENT-LENGTH:2\r\n\r\nxy"
	                 "POST /c HTTP/1.1\r\nContent-Length: 0007\r\n\r\n1234567"),
	             RESP(OK0 OK0 OK0) },
	  .want = { "url.path=/a http.request.body.size=3", "url.path=/b http.request.body.size=2",
	            "url.path=/c http.request.body.size=7" },
	  .unpaired = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "bare LF line ends, empty lines before a request",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /lf HTTP/1.1\nHost: h\n\n\r\n\r\nGET /two HTTP/1.0\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\nContent-Length: 2\n\nokHTTP/1.1 200\r\n"
	                  "Content-Length: 0\r\n\r\n") },
	  .want = { "url.path=/lf server.address=h http.response.status_code=200",
	            "url.path=/two network.protocol.version=1.0" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "obs-fold, bare LF after chunk data, CRLF between responses, Upgrade list",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\nX-Folded: a\r\n  continued\r\nHost: h\r\n\r\n"
	                 "GET /b HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked ; q=1\r\n\r\n"
	                  "3\r\nabc\n0\r\n\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n"
	                  "Upgrade: foo/1, h2c\r\n\r\n") },
	  .want = { "url.path=/a server.address=h http.response.status_code=200",
	            "url.path=/b http.response.status_code=101" },
	  .detected = PROTO_HTTP2 },
};

/* ---- malformed and garbage --------------------------------------------- */

static const struct h1_case malformed[] = {
	{ .name = "conflicting Content-Length values",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /ok HTTP/1.1\r\n\r\n"),
	             REQ("POST /bad HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	             RESP(OK0) },
	  .want = { "url.path=/ok http.response.status_code=200" },
	  .errors = 1,
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "Content-Length list with differing values",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /bad HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "negative Content-Length",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /bad HTTP/1.1\r\nContent-Length: -1\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "Content-Length beyond 2^63",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /bad HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "empty Content-Length",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /bad HTTP/1.1\r\nContent-Length:\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "space in a header name",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /bad HTTP/1.1\r\nBad Header: x\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "header without a colon",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /bad HTTP/1.1\r\nNoColon\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "request body length unknowable (Transfer-Encoding not chunked)",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /bad HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") },
	  .want = { NULL },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "HTTP/2.0 request line after a valid request",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/2.0\r\n\r\n"), RESP(OK0) },
	  .want = { "url.path=/a http.response.status_code=200" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "request line with two spaces",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET  /b HTTP/1.1\r\n\r\n"), RESP(OK0) },
	  .want = { "url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "junk after the version",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1x\r\n\r\n"), RESP(OK0) },
	  .want = { "url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "junk after a chunk size",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n") },
	  .want = { "url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "CR without LF after chunk data",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX") },
	  .want = { "url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "bad status code: the request is settled without a response",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"), RESP("HTTP/1.1 2x0 OK\r\n\r\n") },
	  .want = { "status=noresp url.path=/a !http.response.status_code" },
	  .errors = 1,
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "status line with junk after the code",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"), RESP("HTTP/1.1 2000 OK\r\n\r\n") },
	  .want = { "status=noresp url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "chunk size that is not hex",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") },
	  .want = { "status=ok url.path=/a", "status=noresp url.path=/b" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "chunk size beyond 2^60",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                  "00010000000000000000\r\n") },
	  .want = { "status=ok url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "chunk data without its CRLF",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n") },
	  .want = { "status=ok url.path=/a" },
	  .errors = 1,
	  .desyncs = 1 },
	{ .name = "garbage after a valid request",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /a HTTP/1.1\r\nHost: h\r\n\r\n\x00\x01\x02garbage\r\n"), RESP(OK0) },
	  .want = { "url.path=/a http.response.status_code=200" },
	  .errors = 1,
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "garbage from the start is not HTTP",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("\x00\x01\x02garbage\r\n\r\n"), RESP("\xff\xfe\r\n"), REQ("\x01"),
	             RESP("\x02") },
	  .want = { NULL },
	  .errors = 0,
	  .detected = PROTO_NONE },
	{ .name = "responses without requests",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { RESP(OK0), RESP("HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno") },
	  .want = { NULL },
	  .unpaired = 2,
	  .errors = 0 },
};

/* ---- gaps, pending requests, lengths ----------------------------------- */

static const struct h1_case gaps[] = {
	{ .name = "header cut by a gap: the request is salvaged, the next resyncs",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Ag"), GAP(PROTO_REQ, 50),
	             REQ("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
	             RESP(OK0 "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "status=ok url.path=/a url.query=x=1 server.address=example.com "
	            "http.response.status_code=200",
	            "status=error url.path=/b http.response.status_code=500" },
	  .desyncs = 1,
	  .errors = 0,
	  .unpaired = 0 },
	{ .name = "request line cut by a gap",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /very/long/pa"), GAP(PROTO_REQ, 500), RESP(OK0) },
	  .want = { "url.path=/very/long/pa url.path~T !network.protocol.version "
	            "http.response.status_code=200" },
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "query cut by a gap",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /p?token=abc"), GAP(PROTO_REQ, 500) },
	  .want = { "status=noresp url.path=/p url.path~- url.query=token=abc url.query~ST" },
	  .desyncs = 1 },
	{ .name = "status line cut by a gap",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 503 Service Unavai"), GAP(PROTO_RESP, 100) },
	  .want = { "status=error url.path=/a http.response.status_code=503",
	            "status=noresp url.path=/b" },
	  .desyncs = 1 },
	{ .name = "gap inside a Content-Length body stays in sync",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789"),
	             GAP(PROTO_REQ, 80), REQ("0123456789GET /next HTTP/1.1\r\n\r\n"),
	             RESP(OK0 OK0) },
	  .want = { "url.path=/up http.request.body.size=100", "url.path=/next" },
	  .desyncs = 0,
	  .errors = 0,
	  .unpaired = 0 },
	{ .name = "gap inside chunk data stays in sync",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n0123"),
	             GAP(PROTO_RESP, 50), RESP("0123456789\r\n0\r\n\r\n" OK0) },
	  .want = { "url.path=/a", "url.path=/b" },
	  .desyncs = 0,
	  .errors = 0,
	  .unpaired = 0 },
	{ .name = "gap past a chunk: resync at the next response",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /1 HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
	             GAP(PROTO_RESP, 40), RESP("7\r\nmore da"), REQ("GET /2 HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "url.path=/1 http.response.status_code=200",
	            "url.path=/2 http.response.status_code=201" },
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "gap that swallows a response settles its request",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /1 HTTP/1.1\r\n\r\n"), GAP(PROTO_RESP, 50),
	             REQ("GET /2 HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "status=noresp url.path=/1", "status=ok url.path=/2" },
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "gap that swallows a request: its response is unpaired",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /1 HTTP/1.1\r\n\r\n"), RESP(OK0), GAP(PROTO_REQ, 30), RESP(OK0),
	             REQ("GET /3 HTTP/1.1\r\n\r\n"), RESP(OK0) },
	  .want = { "url.path=/1", "url.path=/3" },
	  .unpaired = 1,
	  .desyncs = 1 },
	{ .name = "resync only where a run starts with a message",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /1 HTTP/1.1\r\nHost: h\r\n"), GAP(PROTO_REQ, 10),
	             REQ("X-Tail: lost\r\n\r\n"), REQ("GET /2 HTTP/1.1\r\n\r\n"), RESP(OK0 OK0) },
	  .want = { "url.path=/1 server.address=h", "url.path=/2" },
	  .desyncs = 1,
	  .unpaired = 0 },
	{ .name = "a response older than the request does not answer it",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ_AT("GET /a HTTP/1.1\r\n\r\n", 5000), RESP_AT(OK0, 4000) },
	  .want = { "status=noresp url.path=/a" },
	  .unpaired = 1 },
	{ .name = "close settles pending requests",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"),
	             RESP(OK0) },
	  .want = { "status=ok url.path=/1", "status=noresp url.path=/2 !http.response.status_code",
	            "status=noresp url.path=/3" },
	  .unpaired = 0,
	  .dropped = 0 },
	{ .name = "request cut by the close is settled",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /1 HTTP/1.1\r\nUser-Agent: x\r\nAccept: */*\r\n") },
	  .want = { "status=noresp url.path=/1 user_agent.original=x" } },
	{ .name = "full pending table drops requests; their responses are unpaired",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"
	                 "GET /4 HTTP/1.1\r\n\r\nGET /5 HTTP/1.1\r\n\r\nGET /6 HTTP/1.1\r\n\r\n"
	                 "GET /7 HTTP/1.1\r\n\r\nGET /8 HTTP/1.1\r\n\r\nGET /9 HTTP/1.1\r\n\r\n"
	                 "GET /10 HTTP/1.1\r\n\r\n"),
	             RESP(OK0 OK0 OK0 OK0 OK0 OK0 OK0 OK0 OK0 OK0), REQ("GET /11 HTTP/1.1\r\n\r\n"),
	             RESP(OK0) },
	  .want = { "url.path=/1", "url.path=/2", "url.path=/3", "url.path=/4", "url.path=/5",
	            "url.path=/6", "url.path=/7", "url.path=/8", "url.path=/11 status=ok" },
	  .dropped = 2,
	  .unpaired = 2,
	  .errors = 0 },
	{ .name = "huge Content-Length: skipped, never held",
	  .role = PROTO_ROLE_SERVER,
	  .steps = { REQ("POST /big HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\nabc"),
	             RESP("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n"
	                  "Connection: close\r\n\r\n"),
	             REQ("GET /not-seen HTTP/1.1\r\n\r\n") },
	  .want = { "status=ok url.path=/big http.request.body.size=999999999999999999 "
	            "http.response.status_code=413" },
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "huge chunk and a gap it covers",
	  .role = PROTO_ROLE_CLIENT,
	  .steps = { REQ("GET /big HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                  "0fffffffffffffff\r\nabc"),
	             GAP(PROTO_RESP, 1ull << 40), RESP("def") },
	  .want = { "url.path=/big http.response.status_code=200" },
	  .errors = 0,
	  .desyncs = 0 },
};

/* ---- header capture (io->headers) ------------------------------------- */

static const struct h1_case captures[] = {
	{ .name = "named headers captured whatever their case; others never copied",
	  .role = PROTO_ROLE_CLIENT,
	  .hs = HS_CAPTURE,
	  .steps = { REQ("GET /a HTTP/1.1\r\nHost: h\r\nX-REQUEST-ID: req-1\r\n"
	                 "Authorization: \t tok-allowed \t\r\nCookie: sid=secret\r\n"
	                 "X-Api-Key: secret-key\r\ncontent-type: text/plain\r\n"
	                 "X-Request-Idx: secret\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                  "x-request-id: resp-1\r\nSet-Cookie: sid=secret\r\n"
	                  "WWW-Authenticate: secret\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "status=ok url.path=/a " REQ_HDR "x-request-id=req-1 " REQ_HDR
	            "x-request-id~S " REQ_HDR "authorization=tok-allowed " REQ_HDR
	            "authorization~S " REQ_HDR "content-type=text/plain " REQ_HDR
	            "content-type~S " RESP_HDR "content-type=application/json " RESP_HDR
	            "content-type~S " RESP_HDR "x-request-id=resp-1 !" REQ_HDR "cookie !" REQ_HDR
	            "x-api-key !" RESP_HDR "authorization !" RESP_HDR "set-cookie" },
	  .unpaired = 0,
	  .errors = 0,
	  .desyncs = 0 },
	{ .name = "no header set: nothing captured",
	  .role = PROTO_ROLE_SERVER,
	  .hs = HS_NONE,
	  .steps = { REQ("POST /p HTTP/1.1\r\nContent-Type: text/plain\r\nX-Request-Id: r\r\n"
	                 "Content-Length: 2\r\n\r\nok"),
	             RESP("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
	                  "0\r\n\r\n") },
	  .want = { "status=ok url.path=/p http.request.body.size=2 !" REQ_HDR
	            "content-type !" RESP_HDR "content-type !" REQ_HDR "x-request-id" },
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "pipelined requests keep their own values, responses theirs",
	  .role = PROTO_ROLE_SERVER,
	  .hs = HS_CAPTURE,
	  .steps = { REQ("GET /1 HTTP/1.1\r\nX-Request-Id: one\r\n\r\n"
	                 "GET /2 HTTP/1.1\r\nX-Request-Id: two\r\nContent-Type: a/b\r\n\r\n"
	                 "GET /3 HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nX-Request-Id: r-one\r\nContent-Length: "
	                  "0\r\n\r\n" OK0) },
	  .want = { "status=ok url.path=/1 " REQ_HDR "x-request-id=one " RESP_HDR
	            "x-request-id=r-one !" REQ_HDR "content-type",
	            "status=ok url.path=/2 " REQ_HDR "x-request-id=two " REQ_HDR
	            "content-type=a/b !" RESP_HDR "x-request-id",
	            "status=noresp url.path=/3 !" REQ_HDR "x-request-id !" RESP_HDR
	            "x-request-id" },
	  .unpaired = 0,
	  .dropped = 0,
	  .errors = 0 },
	{ .name = "at most six names per message; the rest counted",
	  .role = PROTO_ROLE_SERVER,
	  .hs = HS_MANY,
	  .steps = { REQ("GET /m HTTP/1.1\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\nX-E: 5\r\n"
	                 "X-F: 6\r\nX-G: 7\r\nX-A: 1b\r\nX-H: 8\r\n\r\n"),
	             RESP("HTTP/1.1 200 OK\r\nX-H: 8\r\nX-G: 7\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n"
	                  "X-D: 4\r\nX-E: 5\r\nContent-Length: 0\r\n\r\n") },
	  .want = { "status=ok " REQ_HDR "x-a~S " REQ_HDR "x-b=2 " REQ_HDR "x-f=6 !" REQ_HDR
	            "x-g !" REQ_HDR "x-h " RESP_HDR "x-h=8 " RESP_HDR "x-g=7 " RESP_HDR
	            "x-d=4 !" RESP_HDR "x-e" },
	  .not_captured = 3,
	  .unpaired = 0,
	  .errors = 0 },
	{ .name = "a value cut by a gap is truncated",
	  .role = PROTO_ROLE_SERVER,
	  .hs = HS_CAPTURE,
	  .steps = { REQ("GET /g HTTP/1.1\r\nX-Request-Id: abc"), GAP(PROTO_REQ, 20) },
	  .want = { "status=noresp url.path=/g " REQ_HDR "x-request-id=abc " REQ_HDR
	            "x-request-id~ST" },
	  .errors = 0,
	  .desyncs = 1 },
	{ .name = "an interim response's headers are not the final one's",
	  .role = PROTO_ROLE_CLIENT,
	  .hs = HS_CAPTURE,
	  .steps = { REQ("GET /e HTTP/1.1\r\n\r\n"),
	             RESP("HTTP/1.1 103 Early Hints\r\nX-Request-Id: early\r\n"
	                  "Content-Type: x/early\r\n\r\n"
	                  "HTTP/1.1 200 OK\r\nContent-Type: x/final\r\nContent-Length: "
	                  "0\r\n\r\n") },
	  .want = { "status=ok http.response.status_code=200 !" RESP_HDR "x-request-id " RESP_HDR
	            "content-type=x/final" },
	  .unpaired = 0,
	  .errors = 0 },
};

START_TEST(test_captures)
{
	run_case(&captures[_i]);
}
END_TEST

/* Repeated fields are joined, obs-fold lines continue only a captured value. */
START_TEST(test_capture_join)
{
	static const struct h_step steps[] = {
		REQ("GET /j HTTP/1.1\r\nX-Request-Id: a\r\nCookie: secret\r\nx-request-id:  b \r\n"
		    "X-Request-Id:\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n"
		    "Authorization: t\r\n\tmore\r\nX-Api-Key: k\r\n secret-fold\r\n\r\n"),
		RESP("HTTP/1.1 200 OK\r\nContent-Type:\r\nContent-Length: 0\r\n\r\n"),
	};
	static struct harness h;
	char why[WHY_MAX];

	harness_headers = hset(HS_CAPTURE);
	ck_assert_msg(harness_check_splits(&h, PROTO_HTTP1, PROTO_ROLE_SERVER, steps, 2, why,
	                                   sizeof(why)) == 0,
	              "%s", why);
	check_invariants(&h, "join");
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h_str(&h.txns[0], REQ_HDR "x-request-id"), "a, b");
	ck_assert_str_eq(h_str(&h.txns[0], REQ_HDR "content-type"), "text/plain; charset=utf-8");
	ck_assert_str_eq(h_str(&h.txns[0], REQ_HDR "authorization"), "t more");
	ck_assert_str_eq(h_str(&h.txns[0], RESP_HDR "content-type"), "");
	ck_assert_uint_eq(h_attr(&h.txns[0], REQ_HDR "x-request-id")->flags, TXN_SENSITIVE);
	ck_assert_uint_eq(h.env.cnt.headers_not_captured, 0);
}
END_TEST

static char value_buf[2][2 * LONG_VALUE + 512];

/* Values beyond PROTO_HEADER_VALUE_MAX, alone or joined, are cut there and marked. */
START_TEST(test_capture_long_value)
{
	struct h_step steps[2];
	static struct harness h;
	const struct h_attr *a;
	char *p = value_buf[0], *q = value_buf[1], why[WHY_MAX];
	size_t n = (size_t)sprintf(p, "GET /v HTTP/1.1\r\nX-Request-Id: ");

	memset(p + n, 'v', LONG_VALUE);
	n += LONG_VALUE;
	n += (size_t)sprintf(p + n, "\r\nAuthorization: ");
	memset(p + n, 'x', 100);
	n += 100;
	n += (size_t)sprintf(p + n, "\r\nAuthorization: ");
	memset(p + n, 'y', 100);
	n += 100;
	strcpy(p + n, "\r\nAuthorization: z\r\n\r\n");
	n = (size_t)sprintf(q, "HTTP/1.1 200 OK\r\nContent-Type: ");
	memset(q + n, 'c', PROTO_HEADER_VALUE_MAX);
	strcpy(q + n + PROTO_HEADER_VALUE_MAX, "\r\nContent-Length: 0\r\n\r\n");
	steps[0] = (struct h_step){ PROTO_REQ, p, strlen(p), 0 };
	steps[1] = (struct h_step){ PROTO_RESP, q, strlen(q), 0 };
	harness_headers = hset(HS_CAPTURE);
	ck_assert_msg(harness_check_splits(&h, PROTO_HTTP1, PROTO_ROLE_SERVER, steps, 2, why,
	                                   sizeof(why)) == 0,
	              "%s", why);
	check_invariants(&h, "long value");
	ck_assert_uint_eq(h.n, 1);
	a = h_attr(&h.txns[0], REQ_HDR "x-request-id");
	ck_assert_uint_eq(a->len, PROTO_HEADER_VALUE_MAX);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE | TXN_TRUNCATED);
	ck_assert(!memcmp(a->str, p + strlen("GET /v HTTP/1.1\r\nX-Request-Id: "),
	                  PROTO_HEADER_VALUE_MAX));
	a = h_attr(&h.txns[0], REQ_HDR "authorization"); /* 100 x, ", ", 26 y; z is dropped */
	ck_assert_uint_eq(a->len, PROTO_HEADER_VALUE_MAX);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE | TXN_TRUNCATED);
	ck_assert(a->str[99] == 'x' && a->str[100] == ',' && a->str[101] == ' ' &&
	          a->str[102] == 'y' && a->str[PROTO_HEADER_VALUE_MAX - 1] == 'y');
	a = h_attr(&h.txns[0], RESP_HDR "content-type"); /* exactly the bound: whole */
	ck_assert_uint_eq(a->len, PROTO_HEADER_VALUE_MAX);
	ck_assert_uint_eq(a->flags, TXN_SENSITIVE);
}
END_TEST

START_TEST(test_exchanges)
{
	run_case(&exchanges[_i]);
}
END_TEST

START_TEST(test_malformed)
{
	run_case(&malformed[_i]);
}
END_TEST

START_TEST(test_gaps)
{
	run_case(&gaps[_i]);
}
END_TEST

/* ---- long lines (built at run time) ------------------------------------ */

static char long_buf[3][LONG_LINE + 512];

static struct h_step data_step(enum proto_side side, const char *s)
{
	return (struct h_step){ side, s, strlen(s), 0 };
}

/* A request path of @n bytes of 'a' ('?' then 'q' from @q on). */
static void fill(char *dst, size_t n, size_t q)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = i == q ? '?' : i > q ? 'q' : 'a';
}

START_TEST(test_long_target_cut_at_limits)
{
	struct h1_case c = { .name = "long path and query",
		             .role = PROTO_ROLE_SERVER,
		             .want = { "url.path~T url.query~ST network.protocol.version=1.1" },
		             .errors = 0,
		             .unpaired = 0 };
	char *p = long_buf[0];
	const struct h_attr *a;
	static struct harness h;
	char why[WHY_MAX];

	strcpy(p, "GET /");
	fill(p + 5, 600, 300);
	strcpy(p + 605, " HTTP/1.1\r\n\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	c.steps[1] = data_step(PROTO_RESP, OK0);
	run_case(&c);
	ck_assert(harness_check_splits(&h, PROTO_HTTP1, c.role, c.steps, 2, why, sizeof(why)) == 0);
	a = h_attr(&h.txns[0], "url.path");
	ck_assert_uint_eq(a->len, 256);
	ck_assert_int_eq(a->str[0], '/');
	ck_assert_uint_eq(h_attr(&h.txns[0], "url.query")->len, 256);
}
END_TEST

START_TEST(test_long_request_line)
{
	struct h1_case c = { .name = "request line beyond the line limit",
		             .role = PROTO_ROLE_SERVER,
		             .want = { "url.path~T !network.protocol.version "
		                       "http.response.status_code=200",
		                       "url.path=/next" },
		             .errors = 0,
		             .unpaired = 0 };
	char *p = long_buf[1];

	strcpy(p, "GET /");
	fill(p + 5, LONG_LINE, LONG_LINE);
	strcpy(p + 5 + LONG_LINE, " HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	c.steps[1] = data_step(PROTO_RESP, OK0 OK0);
	run_case(&c);
}
END_TEST

START_TEST(test_long_header_line)
{
	struct h1_case c = {
		.name = "header beyond the line limit is dropped",
		.role = PROTO_ROLE_SERVER,
		.want = { "url.path=/c user_agent.original=ua http.request.body.size=2",
		          "url.path=/d" },
		.errors = 0,
		.unpaired = 0,
		.desyncs = 0
	};
	char *p = long_buf[2];
	size_t n;

	n = (size_t)sprintf(p, "POST /c HTTP/1.1\r\nCookie: ");
	for (size_t i = 0; i < LONG_LINE; i += 6)
		memcpy(p + n + i, SECRET, 6);
	n += LONG_LINE;
	strcpy(p + n, "\r\nUser-Agent: ua\r\nContent-Length: 2\r\n\r\nokGET /d HTTP/1.1\r\n\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	c.steps[1] = data_step(PROTO_RESP, OK0 OK0);
	run_case(&c);
}
END_TEST

START_TEST(test_long_captured_line)
{
	struct h1_case c = { .name = "captured header beyond the line limit",
		             .role = PROTO_ROLE_SERVER,
		             .hs = HS_CAPTURE,
		             .want = { "url.path=/c " REQ_HDR "x-request-id~ST " REQ_HDR
		                       "authorization=after",
		                       "url.path=/d" },
		             .errors = 0,
		             .unpaired = 0,
		             .desyncs = 0 };
	char *p = long_buf[2];
	size_t n;

	n = (size_t)sprintf(p, "GET /c HTTP/1.1\r\nX-Request-Id: ");
	memset(p + n, 'r', LONG_LINE);
	n += LONG_LINE;
	strcpy(p + n, "\r\n continued\r\nAuthorization: after\r\n\r\nGET /d HTTP/1.1\r\n\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	c.steps[1] = data_step(PROTO_RESP, OK0 OK0);
	run_case(&c);
}
END_TEST

START_TEST(test_long_framing_header_invalid)
{
	struct h1_case c = { .name = "Content-Length beyond the line limit",
		             .role = PROTO_ROLE_SERVER,
		             .want = { NULL },
		             .errors = 1,
		             .desyncs = 1 };
	char *p = long_buf[0];
	size_t n = (size_t)sprintf(p, "POST /c HTTP/1.1\r\nContent-Length: ");

	memset(p + n, '0', LONG_LINE);
	strcpy(p + n + LONG_LINE, "5\r\n\r\nhello");
	c.steps[0] = data_step(PROTO_REQ, p);
	run_case(&c);
}
END_TEST

START_TEST(test_too_many_headers)
{
	struct h1_case c = { .name = "header count limit",
		             .role = PROTO_ROLE_SERVER,
		             .want = { NULL },
		             .errors = 1,
		             .desyncs = 1 };
	char *p = long_buf[1];
	size_t n = (size_t)sprintf(p, "GET /many HTTP/1.1\r\n");

	for (int i = 0; i < 129; i++)
		n += (size_t)sprintf(p + n, "X-%d: v\r\n", i);
	strcpy(p + n, "\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	run_case(&c);
	/* one fewer is fine */
	n = (size_t)sprintf(p, "GET /many HTTP/1.1\r\n");
	for (int i = 0; i < 128; i++)
		n += (size_t)sprintf(p + n, "X-%d: v\r\n", i);
	strcpy(p + n, "\r\n");
	c.steps[0] = data_step(PROTO_REQ, p);
	c.want[0] = "status=noresp url.path=/many";
	c.errors = c.desyncs = 0;
	run_case(&c);
}
END_TEST

/* ---- detection --------------------------------------------------------- */

struct det_case {
	enum proto_side side;
	const char *bytes;
	size_t len;
	enum proto_match want;
};

#define DET(side, s, want)                                                                         \
	{                                                                                          \
		side, s, sizeof(s) - 1, want                                                       \
	}

static const struct det_case detections[] = {
	DET(PROTO_REQ, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", PROTO_YES),
	DET(PROTO_REQ, "G", PROTO_MAYBE),
	DET(PROTO_REQ, "GET", PROTO_MAYBE),
	DET(PROTO_REQ, "GET ", PROTO_MAYBE),
	DET(PROTO_REQ, "GET /", PROTO_YES),
	DET(PROTO_REQ, "GET /index.html HTTP/1.", PROTO_YES),
	DET(PROTO_REQ, "POST /x HTTP/1.0\n", PROTO_YES),
	DET(PROTO_REQ, "OPTIONS * HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "CONNECT example.com:443 HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "CONNECT [::1]:443 HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "GET http://h/ HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "PROPFIND /dav HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "PATCH /x HTTP/1.1\r\n", PROTO_YES),
	DET(PROTO_REQ, "get / HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_REQ, "GET  / HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_REQ, "GETX / HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_REQ, "GET / HTTP/2.0\r\n", PROTO_NO),
	DET(PROTO_REQ, "GET / HTTP/1.1 \r\n", PROTO_NO),
	DET(PROTO_REQ, "GET / FOO\r\n", PROTO_NO),
	DET(PROTO_REQ, "GET /a\r\n", PROTO_NO),
	DET(PROTO_REQ, "BREW /pot HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_REQ, "GET <x> HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_REQ, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PROTO_NO),
	DET(PROTO_REQ, "HTTP/1.1 200 OK\r\n", PROTO_NO),
	DET(PROTO_REQ, "\x00\x00\x00\x08\x04\xd2\x16\x2f", PROTO_NO),         /* PG SSLRequest */
	DET(PROTO_REQ, "\x00\x00\x00\x29\x00\x03\x00\x00user\x00", PROTO_NO), /* PG startup */
	DET(PROTO_REQ, "*1\r\n$4\r\nPING\r\n", PROTO_NO),                     /* Redis */
	DET(PROTO_REQ, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", PROTO_NO), /* ClientHello */
	DET(PROTO_REQ, "\x00\x00\x00\x1b\x00\x12\x00\x03\x00\x00\x00\x01", PROTO_NO), /* Kafka */
	DET(PROTO_REQ,
	    "\x4a\x00\x00\x00\x0a"
	    "8.0.32\x00",
	    PROTO_NO), /* MySQL greeting */
	DET(PROTO_RESP, "HTTP/1.1 200 OK\r\n", PROTO_YES),
	DET(PROTO_RESP, "HTTP/1.0 404", PROTO_YES),
	DET(PROTO_RESP, "H", PROTO_MAYBE),
	DET(PROTO_RESP, "HTTP/1.1 20", PROTO_MAYBE),
	DET(PROTO_RESP, "HTTP/2 200\r\n", PROTO_NO),
	DET(PROTO_RESP, "HTTP/1.2 200\r\n", PROTO_NO),
	DET(PROTO_RESP, "HTTP/1.1 099 x\r\n", PROTO_NO),
	DET(PROTO_RESP, "HTTP/1.1 2x0 OK\r\n", PROTO_NO),
	DET(PROTO_RESP, "http/1.1 200 OK\r\n", PROTO_NO),
	DET(PROTO_RESP, "GET / HTTP/1.1\r\n", PROTO_NO),
	DET(PROTO_RESP,
	    "\x4a\x00\x00\x00\x0a"
	    "8.0.32\x00",
	    PROTO_NO), /* MySQL greeting */
	DET(PROTO_RESP, "+PONG\r\n", PROTO_NO),
	DET(PROTO_RESP, "R\x00\x00\x00\x08\x00\x00\x00\x00", PROTO_NO), /* PG AuthenticationOk */
	DET(PROTO_RESP, "\x16\x03\x03\x00\x5a\x02", PROTO_NO),          /* ServerHello */
};

START_TEST(test_detect)
{
	const struct det_case *d = &detections[_i];

	for (unsigned flags = PROTO_CONN_START; flags <= PROTO_MIDSTREAM; flags++)
		ck_assert_msg(proto_http1.detect(d->side, (const uint8_t *)d->bytes, d->len,
		                                 flags) == d->want,
		              "detection case %d (flags %u)", _i, flags);
}
END_TEST

/* Other protocols' first bytes through a session restricted to HTTP/1. */
static const struct det_case foreign[] = {
	DET(PROTO_REQ, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 0),
	DET(PROTO_REQ, "*1\r\n$4\r\nPING\r\n", 0),
	DET(PROTO_REQ, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0),
	DET(PROTO_RESP,
	    "\x4a\x00\x00\x00\x0a"
	    "8.0.32\x00",
	    0),
	DET(PROTO_REQ, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0),
};

START_TEST(test_foreign_not_detected)
{
	const struct det_case *d = &foreign[_i];
	struct h_step steps[4];
	static struct harness h;

	for (size_t i = 0; i < 4; i++)
		steps[i] = (struct h_step){ d->side, d->bytes, d->len, 0 };
	harness_init(&h);
	harness_run(&h, PROTO_HTTP1, PROTO_ROLE_UNKNOWN, steps, 4, 0, 0);
	ck_assert_int_ne(h.detected, PROTO_HTTP1);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

/* Role unknown: detection on either side infers it, and a request still pairs. */
START_TEST(test_role_inferred)
{
	static const struct h_step steps[] = {
		REQ("GET /r HTTP/1.1\r\n\r\n"),
		RESP("HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n")
	};
	static struct harness h;
	char why[WHY_MAX];

	ck_assert(harness_check_splits(&h, PROTO_HTTP1, PROTO_ROLE_UNKNOWN, steps, 2, why,
	                               sizeof(why)) == 0);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.role, PROTO_ROLE_CLIENT);
	ck_assert_int_eq(h.txns[0].status, TXN_ERROR);
	ck_assert_str_eq(h_str(&h.txns[0], "url.path"), "/r");
}
END_TEST

START_TEST(test_state_size)
{
	/* 1.7 KiB of it: the captured header values of a request and of a response */
	ck_assert_uint_le(proto_http1.state_size, 2816);
	ck_assert_str_eq(proto_http1.name, "http");
	ck_assert_int_eq(proto_http1.id, PROTO_HTTP1);
}
END_TEST

Suite *proto_http1_suite(void)
{
	Suite *s = suite_create("proto_http1");
	TCase *tc = tcase_create("exchanges");
	TCase *slow = tcase_create("long lines");
	TCase *det = tcase_create("detection");

	tcase_set_timeout(tc, TEST_SLOW);
	tcase_add_loop_test(tc, test_exchanges, 0, sizeof(exchanges) / sizeof(exchanges[0]));
	tcase_add_loop_test(tc, test_malformed, 0, sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_loop_test(tc, test_gaps, 0, sizeof(gaps) / sizeof(gaps[0]));
	tcase_add_loop_test(tc, test_captures, 0, sizeof(captures) / sizeof(captures[0]));
	tcase_add_test(tc, test_capture_join);
	tcase_add_test(tc, test_capture_long_value);
	suite_add_tcase(s, tc);
	tcase_set_timeout(slow, TEST_SLOW);
	tcase_add_test(slow, test_long_target_cut_at_limits);
	tcase_add_test(slow, test_long_request_line);
	tcase_add_test(slow, test_long_header_line);
	tcase_add_test(slow, test_long_captured_line);
	tcase_add_test(slow, test_long_framing_header_invalid);
	tcase_add_test(slow, test_too_many_headers);
	suite_add_tcase(s, slow);
	tcase_add_loop_test(det, test_detect, 0, sizeof(detections) / sizeof(detections[0]));
	tcase_add_loop_test(det, test_foreign_not_detected, 0,
	                    sizeof(foreign) / sizeof(foreign[0]));
	tcase_add_test(det, test_role_inferred);
	tcase_add_test(det, test_state_size);
	suite_add_tcase(s, det);
	return s;
}
