// SPDX-License-Identifier: Apache-2.0
/*
 * The whole L7 path without a kernel: hand-built kernel records (connection,
 * segments, TLS calls) through validation, reassembly, the session and the
 * HTTP/1 parser, to "request" records.
 */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "processor/pipeline.h"

#define MAX_OUT 64

static struct pipeline pl;
static json_t *out[MAX_OUT];
static unsigned nout;

static void collect(json_t *o)
{
	if (nout < MAX_OUT)
		out[nout++] = o;
	else
		json_decref(o);
}

/* A request line must be one JSON object and a newline, nothing else. */
static void collect_line(const char *line, size_t len)
{
	json_error_t e;
	json_t *o;

	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	o = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(o != NULL, "%s: %.*s", e.text, (int)len, line);
	collect(o);
}

static void setup(void)
{
	nout = 0;
	pl.l7.boot_to_real_ns = 0;
	ck_assert_int_eq(pipeline_init(&pl, false, collect, collect_line), 0);
}

static void teardown(void)
{
	pipeline_finish(&pl);
	for (unsigned i = 0; i < nout; i++)
		json_decref(out[i]);
}

static bool anonymous; /* records without process identity, as for old sockets */

static void hdr(struct l7_hdr *h, uint32_t kind, uint64_t cookie, uint64_t ts)
{
	h->kind = kind;
	h->ts_boot_ns = ts;
	h->cookie = cookie;
	if (anonymous)
		return;
	h->cgroup_id = 7;
	h->pid = 4242;
	memcpy(h->comm, "curl", 5);
}

static void tuple(struct l7_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->local_addr[0] = 127, t->local_addr[3] = 1;
	t->remote_addr[0] = 127, t->remote_addr[3] = 1;
	t->local_port = 40000;
	t->remote_port = 80;
}

static void conn(uint32_t kind, uint64_t cookie, uint64_t ts)
{
	struct l7_conn c;

	memset(&c, 0, sizeof(c));
	hdr(&c.hdr, kind, cookie, ts);
	tuple(&c.tuple);
	c.role = L7_ROLE_CLIENT;
	c.start_boot_ns = 1;
	ck_assert_int_eq(pipeline_record(&pl, &c, sizeof(c)), 0);
}

/* One segment; @cap bytes of @s captured out of @seg_len. */
static void seg(uint64_t cookie, uint32_t dir, uint32_t seq, const char *s, uint32_t seg_len,
                uint32_t cap, uint64_t ts)
{
	static uint8_t buf[sizeof(struct l7_data) + L7_CAPTURE_MAX];
	struct l7_data *d = (struct l7_data *)buf;

	memset(buf, 0, sizeof(*d));
	hdr(&d->hdr, L7_DATA, cookie, ts);
	tuple(&d->tuple);
	d->dir = dir;
	d->seq = seq;
	d->seg_len = seg_len;
	d->cap_len = cap;
	if (cap < seg_len)
		d->hdr.flags |= L7_F_TRUNCATED;
	memcpy(d + 1, s, cap);
	ck_assert_int_eq(pipeline_record(&pl, buf, (uint32_t)(sizeof(*d) + cap)), 0);
}

static void tls(uint64_t cookie, uint64_t ssl, uint32_t dir, const char *s, uint64_t ts)
{
	static uint8_t buf[sizeof(struct l7_tls) + L7_CAPTURE_MAX];
	struct l7_tls *t = (struct l7_tls *)buf;
	uint32_t n = (uint32_t)strlen(s);

	memset(buf, 0, sizeof(*t));
	hdr(&t->hdr, L7_TLS_DATA, cookie, ts);
	t->ssl = ssl;
	t->dir = dir;
	t->len = n;
	t->cap_len = n;
	memcpy(t + 1, s, n);
	ck_assert_int_eq(pipeline_record(&pl, buf, (uint32_t)(sizeof(*t) + n)), 0);
}

/* The @i-th "request" record, or NULL. */
static json_t *request(unsigned i)
{
	for (unsigned k = 0; k < nout; k++)
		if (!strcmp(json_string_value(json_object_get(out[k], "kind")), "request") &&
		    i-- == 0)
			return out[k];
	return NULL;
}

static const char *attr_str(json_t *r, const char *key)
{
	return json_string_value(json_object_get(json_object_get(r, "attributes"), key));
}

static json_int_t attr_int(json_t *r, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(r, "attributes"), key));
}

#define REQ1 "GET /a/b?token=s3cr3t HTTP/1.1\r\nHost: example.test\r\n\r\n"
#define RSP1 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define REQ2 "GET /second HTTP/1.1\r\nHost: example.test\r\n\r\n"
#define RSP2 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

START_TEST(http_exchange_becomes_a_request_record)
{
	json_t *r;

	conn(L7_CONN_OPEN, 11, 100);
	seg(11, L7_EGRESS, 1000, REQ1, sizeof(REQ1) - 1, sizeof(REQ1) - 1, 200);
	seg(11, L7_INGRESS, 5000, RSP1, sizeof(RSP1) - 1, sizeof(RSP1) - 1, 700);
	conn(L7_CONN_CLOSE, 11, 900);
	r = request(0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(r, "protocol")), "http");
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(r, "role")), "client");
	ck_assert_str_eq(json_string_value(json_object_get(r, "remote")), "127.0.0.1:80");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "conn_id")), 11);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "duration_ns")), 500);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "pid")), 4242);
	ck_assert_str_eq(attr_str(r, "http.request.method"), "GET");
	ck_assert_str_eq(attr_str(r, "url.path"), "/a/b");
	ck_assert_int_eq(attr_int(r, "http.response.status_code"), 200);
	/* the query string goes out scrubbed (default policy): names kept, values not */
	ck_assert_str_eq(attr_str(r, "url.query"), "token=?");
	ck_assert_str_eq(attr_str(r, "http.route"), "/a/b");
	for (unsigned i = 0; i < nout; i++) {
		char *s = json_dumps(out[i], JSON_COMPACT);

		ck_assert_ptr_null(strstr(s, "s3cr3t"));
		free(s);
	}
	/* the request printed before the close record */
	ck_assert_str_eq(json_string_value(json_object_get(out[nout - 1], "kind")), "conn_close");
}
END_TEST

START_TEST(reordered_and_truncated_segments_keep_pairing)
{
	static char body[3000];
	char rsp[3200];
	int n;

	memset(body, 'x', sizeof(body));
	n = snprintf(rsp, sizeof(rsp), "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n%.*s", 3000,
	             body);
	conn(L7_CONN_OPEN, 12, 100);
	seg(12, L7_EGRESS, 1, REQ1, sizeof(REQ1) - 1, sizeof(REQ1) - 1, 200);
	/* the response: 100 bytes captured of n, the rest of the body missing */
	seg(12, L7_INGRESS, 1, rsp, (uint32_t)n, 100, 300);
	/* second request's segments arrive out of order */
	seg(12, L7_EGRESS, 1 + sizeof(REQ1) - 1 + 10, REQ2 + 10, sizeof(REQ2) - 11,
	    sizeof(REQ2) - 11, 400);
	seg(12, L7_EGRESS, 1 + sizeof(REQ1) - 1, REQ2, 10, 10, 410);
	seg(12, L7_INGRESS, 1 + (uint32_t)n, RSP2, sizeof(RSP2) - 1, sizeof(RSP2) - 1, 500);
	conn(L7_CONN_CLOSE, 12, 900);
	ck_assert_ptr_nonnull(request(1));
	ck_assert_str_eq(attr_str(request(0), "url.path"), "/a/b");
	ck_assert_int_eq(attr_int(request(0), "http.response.status_code"), 200);
	ck_assert_str_eq(attr_str(request(1), "url.path"), "/second");
	ck_assert_int_eq(attr_int(request(1), "http.response.status_code"), 404);
	ck_assert_ptr_null(request(2));
	ck_assert_uint_eq(pl.env.cnt.desyncs, 0);
}
END_TEST

START_TEST(tls_calls_pair_and_carry_the_socket)
{
	json_t *r;

	conn(L7_CONN_OPEN, 13, 100);
	/* ciphertext on the socket: classified as TLS, not parsed */
	seg(13, L7_EGRESS, 1, "\x16\x03\x01\x00\x05hello", 10, 10, 150);
	tls(13, 0xabc, L7_EGRESS, REQ1, 200);
	tls(0, 0xabc, L7_INGRESS, RSP1, 300); /* a read may not know its socket */
	conn(L7_CONN_CLOSE, 13, 900);
	r = request(0);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "tls")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "conn_id")), 13);
	ck_assert_str_eq(json_string_value(json_object_get(r, "remote")), "127.0.0.1:80");
	ck_assert_str_eq(attr_str(r, "url.path"), "/a/b");
	ck_assert_ptr_null(request(1));
	ck_assert_uint_eq(pl.ct.n, 0); /* the TLS stream closed with its socket */
}
END_TEST

START_TEST(malformed_records_are_counted_not_followed)
{
	struct l7_data d;

	memset(&d, 0, sizeof(d));
	hdr(&d.hdr, L7_DATA, 14, 1);
	tuple(&d.tuple);
	d.seg_len = 10;
	d.cap_len = 20; /* more captured than sent */
	ck_assert_int_eq(pipeline_record(&pl, &d, sizeof(d)), 0);
	ck_assert_int_eq(pipeline_record(&pl, &d, 3), 0);
	ck_assert_uint_eq(pl.l7.malformed, 2);
	ck_assert_uint_eq(pl.ct.n, 0);
	ck_assert_uint_eq(nout, 0);
}
END_TEST

START_TEST(pending_requests_settle_at_the_end)
{
	json_t *r;

	conn(L7_CONN_OPEN, 15, 100);
	seg(15, L7_EGRESS, 1, REQ1, sizeof(REQ1) - 1, sizeof(REQ1) - 1, 200);
	pipeline_finish(&pl);
	r = request(0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "no_response");
	ck_assert_int_eq(pipeline_init(&pl, false, collect, collect_line),
	                 0); /* for the teardown */
}
END_TEST

START_TEST(identity_is_learned_from_a_later_record)
{
	json_t *r;

	/* a socket older than the agent: its first record names no process */
	anonymous = true;
	seg(16, L7_INGRESS, 1, REQ1, sizeof(REQ1) - 1, sizeof(REQ1) - 1, 200);
	anonymous = false;
	seg(16, L7_EGRESS, 1, RSP1, sizeof(RSP1) - 1, sizeof(RSP1) - 1, 300);
	pipeline_finish(&pl);
	r = request(0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(r, "role")), "server");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "pid")), 4242);
	ck_assert_str_eq(json_string_value(json_object_get(r, "comm")), "curl");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "cgroup_id")), 7);
	ck_assert_int_eq(pipeline_init(&pl, false, collect, collect_line), 0);
}
END_TEST

START_TEST(reused_ssl_object_follows_the_new_socket)
{
	conn(L7_CONN_OPEN, 20, 100);
	tls(20, 0xfeed, L7_EGRESS, REQ1, 200);
	tls(20, 0xfeed, L7_INGRESS, RSP1, 300);
	conn(L7_CONN_CLOSE, 20, 400);
	conn(L7_CONN_OPEN, 21, 500);
	/* the object's first call on the new connection still names the old socket */
	tls(20, 0xfeed, L7_EGRESS, REQ2, 600);
	tls(21, 0xfeed, L7_INGRESS, RSP2, 700);
	conn(L7_CONN_CLOSE, 21, 800);
	ck_assert_ptr_nonnull(request(1));
	ck_assert_int_eq(json_integer_value(json_object_get(request(0), "conn_id")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(request(1), "conn_id")), 21);
	ck_assert_str_eq(attr_str(request(1), "url.path"), "/second");
	ck_assert_uint_eq(pl.tls_relinked, 1);
	ck_assert_uint_eq(pl.ct.n, 0);
}
END_TEST

Suite *pipeline_suite(void);
Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, http_exchange_becomes_a_request_record);
	tcase_add_test(tc, reordered_and_truncated_segments_keep_pairing);
	tcase_add_test(tc, tls_calls_pair_and_carry_the_socket);
	tcase_add_test(tc, malformed_records_are_counted_not_followed);
	tcase_add_test(tc, pending_requests_settle_at_the_end);
	tcase_add_test(tc, identity_is_learned_from_a_later_record);
	tcase_add_test(tc, reused_ssl_object_follows_the_new_socket);
	suite_add_tcase(s, tc);
	return s;
}
