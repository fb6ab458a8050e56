// SPDX-License-Identifier: Apache-2.0
/*
 * Records reach this file only through l7_account()/l7_decode(), which check
 * every length and field against the record's kind first: what follows reads
 * only validated records. The payload bytes go to reassembly and the
 * protocol session and never into a record.
 */
#include <errno.h>
#include <string.h>

#include "processor/pipeline.h"

#define TLS_KEY_MIX 0x9e3779b97f4a7c15ull

struct feed {
	struct pipeline *pl;
	struct conn *c;
	unsigned dir;
	uint64_t ts;
};

static void feed_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct feed *f = ctx;

	session_data(&f->c->sess, &f->pl->env, f->dir, p, len, f->ts);
}

static void feed_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	struct feed *f = ctx;

	(void)why;
	session_gap(&f->c->sess, &f->pl->env, f->dir, len);
}

static const struct reasm_ops feed_ops = { feed_data, feed_gap };

static void none_data(void *ctx, const uint8_t *p, uint32_t len)
{
	(void)ctx, (void)p, (void)len;
}

static void none_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	(void)ctx, (void)len, (void)why;
}

/* For conntrack's own flush after before_close() emptied the streams. */
static const struct reasm_ops none_ops = { none_data, none_gap };

static void on_txn(struct proto_io *io, const struct l7_txn *t)
{
	static char line[RECORDS_LINE_MAX];
	static struct scrubbed sc;
	struct pipeline *pl = io->emit_ctx;
	struct conn_meta *m = &pl->cur->meta;
	size_t n;

	/* formatted once per connection, not per request */
	if (m->have_tuple && !m->have_endpoints)
		m->have_endpoints =
		        l7_endpoint(&m->tuple, true, m->local, sizeof(m->local)) == 0 &&
		        l7_endpoint(&m->tuple, false, m->remote, sizeof(m->remote)) == 0;
#ifdef BPFW_BENCH_NO_SCRUB
	scrubber_bench_passthrough(t, &sc); /* the benchmark's baseline only (Makefile) */
#else
	if (!scrubber_txn(pl->scrub, t, &sc))
		return;
#endif
	n = records_txn(t, &sc, pl->scrub, pl->cur, pl->l7.boot_to_real_ns, &pl->rs, line,
	                sizeof(line));

	if (n)
		pl->out_line(line, n);
}

/* conntrack's hook: whatever reassembly still holds goes to the session, which settles. */
static void before_close(void *ctx, struct conn *c)
{
	struct pipeline *pl = ctx;

	pl->cur = c;
	for (unsigned d = 0; d < 2; d++) {
		struct feed f = { pl, c, d, c->last_ns };

		reasm_flush(&c->dir[d], &feed_ops, &f, &c->stats[d]);
	}
	session_close(&c->sess, &pl->env);
	pl->cur = NULL;
}

int pipeline_init(struct pipeline *pl, bool data_records, void (*out)(json_t *o),
                  void (*out_line)(const char *line, size_t len))
{
	return pipeline_init_sized(pl, CONNTRACK_MAX, CONNTRACK_POOL, data_records, out, out_line);
}

int pipeline_init_sized(struct pipeline *pl, uint32_t conns, size_t pool, bool data_records,
                        void (*out)(json_t *o), void (*out_line)(const char *line, size_t len))
{
	int64_t b2r = pl->l7.boot_to_real_ns;
	int r;

	memset(pl, 0, sizeof(*pl));
	pl->l7.boot_to_real_ns = b2r;
	r = conntrack_init_sized(&pl->ct, conns, pool);
	if (r < 0)
		return r;
	pl->ct.before_close = before_close;
	pl->ct.hook_ctx = pl;
	pl->env.emit = on_txn;
	pl->env.emit_ctx = pl;
	if (!scrubber_default()) {
		conntrack_free(&pl->ct);
		return -EINVAL;
	}
	pipeline_set_scrubber(pl, scrubber_default());
	pl->data_records = data_records;
	pl->out = out;
	pl->out_line = out_line;
	return 0;
}

void pipeline_set_scrubber(struct pipeline *pl, struct scrubber *s)
{
	pl->scrub = s;
	pl->l7.scrubber = s;
	pl->env.headers = &s->headers;
}

static enum proto_role proto_role(unsigned role)
{
	return role == L7_ROLE_CLIENT   ? PROTO_ROLE_CLIENT
	       : role == L7_ROLE_SERVER ? PROTO_ROLE_SERVER
	                                : PROTO_ROLE_UNKNOWN;
}

/* A new entry: identity from the record that created it, a fresh session. */
static void conn_setup(struct conn *c, const struct l7_hdr *h, unsigned role, bool from_start)
{
	c->meta.start_ns = h->ts_boot_ns;
	c->meta.cgroup_id = h->cgroup_id;
	c->meta.pid = h->pid;
	memcpy(c->meta.comm, h->comm, sizeof(c->meta.comm));
	c->meta.role = (uint8_t)role;
	c->meta.seen_open = from_start;
	session_init(&c->sess, proto_role(role), !from_start, PROTO_UNKNOWN);
}

/*
 * Identity arrives late for sockets older than the agent (their first
 * records carry no process): take it from the first record that has it.
 */
static void meta_learn(struct conn *c, const struct l7_hdr *h)
{
	if (!c->meta.pid && h->pid) {
		c->meta.pid = h->pid;
		memcpy(c->meta.comm, h->comm, sizeof(c->meta.comm));
	}
	if (!c->meta.cgroup_id && h->cgroup_id)
		c->meta.cgroup_id = h->cgroup_id;
}

static void on_open(struct pipeline *pl, const struct l7_conn *r)
{
	struct conn *c = conntrack_get(&pl->ct, r->hdr.cookie, false, r->hdr.ts_boot_ns);

	if (!c) {
		c = conntrack_get(&pl->ct, r->hdr.cookie, true, r->hdr.ts_boot_ns);
		if (!c) {
			pl->ct.untracked++;
			return;
		}
		conn_setup(c, &r->hdr, r->role, true);
	}
	meta_learn(c, &r->hdr);
	c->meta.start_ns = r->start_boot_ns ? r->start_boot_ns : r->hdr.ts_boot_ns;
	c->meta.tuple = r->tuple;
	c->meta.have_tuple = true;
	c->meta.have_endpoints = false;
	if (r->role != L7_ROLE_UNKNOWN)
		c->meta.role = (uint8_t)r->role;
}

static json_t *stream_json(const struct reasm_stats *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "segments", (json_int_t)s->segments,
	                 "bytes_captured", (json_int_t)s->bytes_delivered, "gap_bytes_truncated",
	                 (json_int_t)s->gap_bytes_truncated, "gap_bytes_lost",
	                 (json_int_t)(s->gap_bytes_lost + s->gap_bytes_evicted), "duplicate_bytes",
	                 (json_int_t)s->duplicate_bytes);
}

/* @o: the conn_close record, which gets what reassembly saw per direction. */
static void on_close(struct pipeline *pl, const struct l7_conn *r, json_t *o)
{
	struct conn *c = conntrack_get(&pl->ct, r->hdr.cookie, false, r->hdr.ts_boot_ns);
	uint64_t link;

	if (!c)
		return;
	before_close(pl, c); /* settles now; conntrack_close's call finds nothing left */
	if (o)
		json_object_set_new(o, "stream",
		                    json_pack("{s:o,s:o}", "egress", stream_json(&c->stats[0]),
		                              "ingress", stream_json(&c->stats[1])));
	link = c->meta.link;
	conntrack_close(&pl->ct, c, &none_ops, NULL);
	/* Removal moves entries: look the TLS stream up only now. */
	c = link ? conntrack_get(&pl->ct, link, false, r->hdr.ts_boot_ns) : NULL;
	if (c)
		conntrack_close(&pl->ct, c, &none_ops, NULL);
}

static void on_data(struct pipeline *pl, const struct l7_data *d)
{
	struct conn *c;
	struct feed f;

	if (!d->hdr.cookie) {
		pl->l7.malformed++;
		return;
	}
	c = conntrack_get(&pl->ct, d->hdr.cookie, false, d->hdr.ts_boot_ns);
	if (!c) {
		c = conntrack_get(&pl->ct, d->hdr.cookie, true, d->hdr.ts_boot_ns);
		if (!c) {
			pl->ct.untracked++;
			return;
		}
		conn_setup(c, &d->hdr, L7_ROLE_UNKNOWN, false);
	}
	meta_learn(c, &d->hdr);
	if (!c->meta.have_tuple) {
		c->meta.tuple = d->tuple;
		c->meta.have_tuple = true;
	}
	f = (struct feed){ pl, c, d->dir, d->hdr.ts_boot_ns };
	pl->cur = c;
	if (reasm_push(&c->dir[d->dir], d->seq, d->seg_len, (const uint8_t *)(d + 1), d->cap_len,
	               &feed_ops, &f, &c->stats[d->dir]) < 0)
		pl->l7.malformed++;
	pl->cur = NULL;
}

/* TLS streams are keyed by process and SSL object: the socket is not always known. */
static uint64_t tls_key(const struct l7_tls *t)
{
	uint64_t k = (t->ssl ^ ((uint64_t)t->hdr.pid << 32)) * TLS_KEY_MIX;

	return (k ^ (k >> 29)) | CONNTRACK_TLS_KEY;
}

/*
 * Learn the socket of a TLS stream: its tuple and role come from the TCP
 * entry. A different socket later means the SSL object was reused for a new
 * connection (servers recycle them) and the earlier link was stale (the
 * kernel's SSL-to-socket map keeps the last socket an object sent on):
 * the stream follows the socket named by the newest record.
 */
static void tls_link(struct pipeline *pl, struct conn *c, uint64_t cookie, uint64_t now)
{
	struct conn *tcp;

	if (!cookie || c->meta.link == cookie)
		return;
	if (c->meta.link) {
		struct conn *old = conntrack_get(&pl->ct, c->meta.link, false, now);

		if (old && old->meta.link == c->cookie)
			old->meta.link = 0;
		pl->tls_relinked++;
	}
	c->meta.link = cookie;
	c->meta.have_tuple = false;
	c->meta.have_endpoints = false;
	tcp = conntrack_get(&pl->ct, cookie, false, now);
	if (!tcp)
		return;
	tcp->meta.link = c->cookie;
	c->meta.tuple = tcp->meta.tuple;
	c->meta.have_tuple = tcp->meta.have_tuple;
	c->meta.have_endpoints = false;
	if (c->sess.role == PROTO_ROLE_UNKNOWN && !c->sess.parser)
		c->sess.role = proto_role(tcp->meta.role);
}

static void on_tls(struct pipeline *pl, const struct l7_tls *t)
{
	uint64_t key = tls_key(t), now = t->hdr.ts_boot_ns;
	struct conn *c = conntrack_get(&pl->ct, key, false, now);

	if (!c) {
		struct conn *tcp =
		        t->hdr.cookie ? conntrack_get(&pl->ct, t->hdr.cookie, false, now) : NULL;
		bool from_start = tcp && tcp->meta.seen_open;

		c = conntrack_get(&pl->ct, key, true, now);
		if (!c) {
			pl->tls_untracked++;
			return;
		}
		conn_setup(c, &t->hdr, L7_ROLE_UNKNOWN, from_start);
		/* the first plaintext may follow a STARTTLS-style exchange (MySQL, PostgreSQL) */
		c->sess.lenient = true;
	}
	meta_learn(c, &t->hdr);
	tls_link(pl, c, t->hdr.cookie, now);
	pl->cur = c;
	if (t->cap_len)
		session_data(&c->sess, &pl->env, t->dir, (const uint8_t *)(t + 1), t->cap_len, now);
	if (t->len > t->cap_len)
		session_gap(&c->sess, &pl->env, t->dir, t->len - t->cap_len);
	pl->cur = NULL;
}

static void follow(struct pipeline *pl, const void *rec, int kind, json_t *o)
{
	if (kind == L7_CONN_OPEN)
		on_open(pl, rec);
	else if (kind == L7_CONN_CLOSE)
		on_close(pl, rec, o);
	else if (kind == L7_DATA)
		on_data(pl, rec);
	else if (kind == L7_TLS_DATA)
		on_tls(pl, rec);
}

int pipeline_record(struct pipeline *pl, const void *rec, uint32_t len)
{
	const uint8_t *payload;
	uint32_t plen;
	json_t *o;
	int r, kind;

	/* Without data_records, segments and TLS calls are only counted and followed. */
	if (!pl->data_records) {
		kind = l7_account(&pl->l7, rec, len);
		if (kind == L7_DATA || kind == L7_TLS_DATA)
			follow(pl, rec, kind, NULL);
		if (kind == L7_DATA || kind == L7_TLS_DATA || kind < 0)
			return 0;
	}
	r = l7_decode(&pl->l7, rec, len, &o, &payload, &plen);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	/* a close settles the connection first: its last requests print before it */
	follow(pl, rec, (int)((const struct l7_hdr *)rec)->kind, o);
	pl->out(o);
	return 0;
}

void pipeline_expire(struct pipeline *pl, uint64_t now_ns)
{
	conntrack_expire(&pl->ct, now_ns, &none_ops, NULL);
}

void pipeline_finish(struct pipeline *pl)
{
	uint64_t expired = pl->ct.expired;

	if (pl->ct.slots)
		conntrack_expire(&pl->ct, UINT64_MAX, &none_ops, NULL);
	pl->ct.expired = expired; /* settled at the end, not idle */
	conntrack_free(&pl->ct);
}

static json_t *by_proto(const uint64_t *v)
{
	json_t *o = json_object();

	for (int i = PROTO_HTTP1; o && i <= PROTO_KAFKA; i++)
		if (v[i])
			json_object_set_new(o, proto_name((enum proto_id)i),
			                    json_integer((json_int_t)v[i]));
	return o;
}

static json_t *parsing_json(const struct pipeline *pl)
{
	const struct proto_counters *c = &pl->env.cnt;
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "requests", by_proto(c->txns));
	json_object_set_new(o, "no_response", by_proto(c->no_response));
	json_object_set_new(o, "parse_errors", by_proto(c->parse_errors));
	json_object_set_new(o, "responses_unpaired", by_proto(c->unpaired));
	json_object_set_new(o, "requests_dropped_table_full", by_proto(c->pending_dropped));
	json_object_set_new(o, "statements_evicted", by_proto(c->stmts_evicted));
	json_object_set_new(o, "desyncs", json_integer((json_int_t)c->desyncs));
	json_object_set_new(o, "resync_skipped_bytes",
	                    json_integer((json_int_t)c->resync_dropped_bytes));
	json_object_set_new(o, "incomplete_too_long", json_integer((json_int_t)c->carry_overflow));
	json_object_set_new(o, "attributes_dropped", json_integer((json_int_t)c->attrs_dropped));
	json_object_set_new(o, "header_values_not_captured",
	                    json_integer((json_int_t)c->headers_not_captured));
	json_object_set_new(o, "state_alloc_failed",
	                    json_integer((json_int_t)pl->env.state_alloc_failed));
	json_object_set_new(o, "carry_bytes", json_integer((json_int_t)pl->env.carry_bytes));
	json_object_set_new(o, "records_written", json_integer((json_int_t)pl->rs.written));
	json_object_set_new(o, "records_too_long", json_integer((json_int_t)pl->rs.too_long));
	json_object_set_new(o, "tls_calls_untracked", json_integer((json_int_t)pl->tls_untracked));
	json_object_set_new(o, "tls_streams_relinked", json_integer((json_int_t)pl->tls_relinked));
	return o;
}

static json_t *l7_json(const struct l7_ctx *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "records", (json_int_t)c->records,
	                 "conn_open", (json_int_t)c->conn_open, "conn_close",
	                 (json_int_t)c->conn_close, "data", (json_int_t)c->data, "tls_data",
	                 (json_int_t)c->tls, "payload_bytes_captured", (json_int_t)c->payload_bytes,
	                 "records_malformed", (json_int_t)c->malformed);
}

static json_t *reasm_json(const struct conntrack *t)
{
	const struct reasm_stats *s = &t->done;

	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections_tracked",
	                 (json_int_t)t->n, "segments_untracked", (json_int_t)t->untracked,
	                 "connections_expired", (json_int_t)t->expired, "segments",
	                 (json_int_t)s->segments, "bytes_captured", (json_int_t)s->bytes_delivered,
	                 "gap_bytes_truncated", (json_int_t)s->gap_bytes_truncated,
	                 "gap_bytes_lost", (json_int_t)s->gap_bytes_lost, "gap_bytes_evicted",
	                 (json_int_t)s->gap_bytes_evicted, "duplicate_bytes",
	                 (json_int_t)s->duplicate_bytes);
}

void pipeline_stats(const struct pipeline *pl, json_t *processor)
{
	json_object_set_new(processor, "l7", l7_json(&pl->l7));
	json_object_set_new(processor, "reassembly", reasm_json(&pl->ct));
	json_object_set_new(processor, "parsing", parsing_json(pl));
}
