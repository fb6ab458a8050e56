// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <sys/socket.h>

#include "bpf/l7.h"
#include "processor/events.h"
#include "processor/l7events.h"
#include "processor/scrub_txn.h"
#include "processor/text.h"

static const char *const kind_names[] = {
	[L7_CONN_OPEN] = "conn_open",
	[L7_CONN_CLOSE] = "conn_close",
	[L7_DATA] = "data",
	[L7_TLS_DATA] = "tls_data",
};

static const char *const role_names[] = {
	[L7_ROLE_UNKNOWN] = "unknown",
	[L7_ROLE_CLIENT] = "client",
	[L7_ROLE_SERVER] = "server",
};

static int set_new(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static bool tuple_ok(const struct l7_tuple *t)
{
	return t->family == AF_INET || t->family == AF_INET6;
}

/* Decimal digits of @v at the end of @d[24]; returns where they start. */
static char *decimal(unsigned v, char d[24])
{
	char *p = d + 23;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

/*
 * "1.2.3.4:80" or "[::1]:80"; an unknown family is a malformed record. No
 * printf: this runs for every request record.
 */
int l7_endpoint(const struct l7_tuple *t, bool local, char *buf, size_t len)
{
	const __u8 *addr = local ? t->local_addr : t->remote_addr;
	unsigned port = local ? t->local_port : t->remote_port;
	char ip[INET6_ADDRSTRLEN + 2], d[24], *p = ip;
	const char *ps;

	if (t->family == AF_INET) {
		/* glibc's inet_ntop formats IPv4 with sprintf: too slow here */
		for (int i = 0; i < 4; i++) {
			p = stpcpy(p, decimal(addr[i], d));
			*p++ = i < 3 ? '.' : '\0';
		}
	} else if (t->family != AF_INET6 ||
	           (*p++ = '[', !inet_ntop(AF_INET6, addr, p, INET6_ADDRSTRLEN))) {
		return -EBADMSG;
	}
	if (t->family == AF_INET6)
		strcat(p, "]");
	ps = decimal(port, d);
	if (strlen(ip) + 1 + strlen(ps) + 1 > len)
		return -ENOSPC;
	strcat(strcat(strcpy(buf, ip), ":"), ps);
	return 0;
}

static int put_tuple(json_t *o, const struct l7_tuple *t)
{
	char l[INET6_ADDRSTRLEN + 16], r[INET6_ADDRSTRLEN + 16];

	if (l7_endpoint(t, true, l, sizeof(l)) < 0 || l7_endpoint(t, false, r, sizeof(r)) < 0)
		return -EBADMSG;
	return set_new(o, "local", json_string(l)) | set_new(o, "remote", json_string(r));
}

static int put_hdr(struct l7_ctx *ctx, const struct l7_hdr *h, json_t *o)
{
	char when[64], comm[L7_COMM_LEN * DETECT_MARKER_MAX + 1];
	struct scrubber *sc = ctx->scrubber ? ctx->scrubber : scrubber_default();
	int r = 0;

	events_format_time((int64_t)((uint64_t)h->ts_boot_ns + (uint64_t)ctx->boot_to_real_ns),
	                   when, sizeof(when));
	/* every exported string goes through the detectors; one that cannot is left out */
	if (!sc ||
	    scrubber_text(sc, h->comm, strnlen(h->comm, sizeof(h->comm)), comm, sizeof(comm)) < 0)
		comm[0] = '\0';
	r |= set_new(o, "kind", json_string(kind_names[h->kind]));
	r |= set_new(o, "time", json_string(when));
	if (h->cookie)
		r |= set_new(o, "conn_id", json_integer((json_int_t)(h->cookie & INT64_MAX)));
	r |= set_new(o, "cgroup_id", json_integer((json_int_t)(h->cgroup_id & INT64_MAX)));
	if (h->pid) {
		r |= set_new(o, "pid", json_integer(h->pid));
		if (comm[0])
			r |= set_new(o, "comm", json_string(comm));
	}
	return r ? -ENOMEM : 0;
}

static int put_conn(const struct l7_conn *c, json_t *o)
{
	int r = put_tuple(o, &c->tuple);

	if (r < 0)
		return r;
	if (c->role > L7_ROLE_SERVER)
		return -EBADMSG;
	r |= set_new(o, "role", json_string(role_names[c->role]));
	if (c->hdr.kind == L7_CONN_CLOSE) {
		r |= set_new(o, "bytes_sent",
		             json_integer((json_int_t)(c->bytes_sent & INT64_MAX)));
		r |= set_new(o, "bytes_received",
		             json_integer((json_int_t)(c->bytes_received & INT64_MAX)));
		if (c->start_boot_ns && c->hdr.ts_boot_ns >= c->start_boot_ns)
			r |= set_new(
			        o, "duration_ns",
			        json_integer((json_int_t)(c->hdr.ts_boot_ns - c->start_boot_ns)));
	}
	return r ? -ENOMEM : 0;
}

static bool sizes_ok(__u32 dir, __u32 len, __u32 cap)
{
	return dir <= L7_INGRESS && cap <= len && cap <= L7_CAPTURE_MAX;
}

static int put_sizes(json_t *o, __u32 dir, __u32 len, __u32 cap, __u32 flags)
{
	int r = 0;

	if (!sizes_ok(dir, len, cap))
		return -EBADMSG;
	r |= set_new(o, "direction", json_string(dir == L7_EGRESS ? "egress" : "ingress"));
	r |= set_new(o, "length", json_integer(len));
	r |= set_new(o, "captured", json_integer(cap));
	r |= set_new(o, "truncated", json_boolean(flags & L7_F_TRUNCATED));
	return r ? -ENOMEM : 0;
}

static int put_data(const struct l7_data *d, json_t *o)
{
	int r = put_tuple(o, &d->tuple);

	if (r == 0)
		r = put_sizes(o, d->dir, d->seg_len, d->cap_len, d->hdr.flags);
	if (r == 0)
		r = set_new(o, "seq", json_integer(d->seq));
	return r;
}

static int put_tls(const struct l7_tls *t, json_t *o)
{
	char ssl[32];
	int r = put_sizes(o, t->dir, t->len, t->cap_len, t->hdr.flags);

	snprintf(ssl, sizeof(ssl), "0x%llx", (unsigned long long)t->ssl);
	if (r == 0)
		r = set_new(o, "tls", json_true()) | set_new(o, "tid", json_integer(t->tid)) |
		    set_new(o, "ssl", json_string(ssl));
	return r;
}

/* Length checks first: nothing past the record is ever read. */
static int check_len(const void *rec, uint32_t len, struct l7_hdr *h, uint32_t *cap)
{
	if (len < sizeof(*h))
		return -EBADMSG;
	memcpy(h, rec, sizeof(*h));
	*cap = 0;
	switch (h->kind) {
	case L7_CONN_OPEN:
	case L7_CONN_CLOSE:
		return len == sizeof(struct l7_conn) ? 0 : -EBADMSG;
	case L7_DATA:
		if (len < sizeof(struct l7_data))
			return -EBADMSG;
		*cap = ((const struct l7_data *)rec)->cap_len;
		return len == sizeof(struct l7_data) + (uint64_t)*cap ? 0 : -EBADMSG;
	case L7_TLS_DATA:
		if (len < sizeof(struct l7_tls))
			return -EBADMSG;
		*cap = ((const struct l7_tls *)rec)->cap_len;
		return len == sizeof(struct l7_tls) + (uint64_t)*cap ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

/*
 * The field checks of the put_* functions, for l7_account(): a record it
 * counts as data is one l7_decode() would accept, and the other way round.
 */
static int check_fields(const void *rec, const struct l7_hdr *h)
{
	const struct l7_conn *c = rec;
	const struct l7_data *d = rec;
	const struct l7_tls *t = rec;

	switch (h->kind) {
	case L7_CONN_OPEN:
	case L7_CONN_CLOSE:
		return tuple_ok(&c->tuple) && c->role <= L7_ROLE_SERVER ? 0 : -EBADMSG;
	case L7_DATA:
		return tuple_ok(&d->tuple) && sizes_ok(d->dir, d->seg_len, d->cap_len) ? 0
		                                                                       : -EBADMSG;
	default:
		return sizes_ok(t->dir, t->len, t->cap_len) ? 0 : -EBADMSG;
	}
}

static int put_body(struct l7_ctx *ctx, const void *rec, const struct l7_hdr *h, json_t *o)
{
	switch (h->kind) {
	case L7_CONN_OPEN:
		ctx->conn_open++;
		return put_conn(rec, o);
	case L7_CONN_CLOSE:
		ctx->conn_close++;
		return put_conn(rec, o);
	case L7_DATA:
		ctx->data++;
		return put_data(rec, o);
	default:
		ctx->tls++;
		return put_tls(rec, o);
	}
}

int l7_decode(struct l7_ctx *ctx, const void *rec, uint32_t len, json_t **out,
              const uint8_t **payload, uint32_t *payload_len)
{
	struct l7_hdr h;
	uint32_t cap;
	json_t *o = NULL;
	int r;

	*out = NULL;
	*payload = NULL;
	*payload_len = 0;
	ctx->records++;
	r = check_len(rec, len, &h, &cap);
	if (r == 0) {
		o = json_object();
		r = o ? put_hdr(ctx, &h, o) : -ENOMEM;
	}
	if (r == 0)
		r = put_body(ctx, rec, &h, o);
	if (r < 0) {
		json_decref(o);
		ctx->malformed += r == -EBADMSG;
		return r;
	}
	if (cap) {
		*payload = (const uint8_t *)rec + len - cap;
		*payload_len = cap;
		ctx->payload_bytes += cap;
	}
	*out = o;
	return 0;
}

int l7_account(struct l7_ctx *ctx, const void *rec, uint32_t len)
{
	struct l7_hdr h;
	uint32_t cap;

	ctx->records++;
	if (check_len(rec, len, &h, &cap) < 0 || check_fields(rec, &h) < 0) {
		ctx->malformed++;
		return -EBADMSG;
	}
	if (h.kind == L7_DATA)
		ctx->data++;
	else if (h.kind == L7_TLS_DATA)
		ctx->tls++;
	else
		ctx->records--; /* connection records go through l7_decode */
	ctx->payload_bytes += cap;
	return (int)h.kind;
}
