// SPDX-License-Identifier: Apache-2.0
/* Transaction building helpers shared by the protocol parsers. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "processor/proto.h"

static const char *const names[PROTO__COUNT] = {
	[PROTO_UNKNOWN] = "unknown",  [PROTO_HTTP1] = "http",  [PROTO_HTTP2] = "http2",
	[PROTO_PGSQL] = "postgresql", [PROTO_MYSQL] = "mysql", [PROTO_REDIS] = "redis",
	[PROTO_KAFKA] = "kafka",      [PROTO_TLS] = "tls",     [PROTO_NONE] = "none",
};

const char *proto_name(enum proto_id id)
{
	return (unsigned)id < PROTO__COUNT ? names[id] : "unknown";
}

void txn_init(struct l7_txn *t, enum proto_id proto, uint64_t start_ns)
{
	t->proto = proto;
	t->status = TXN_OK;
	t->start_ns = start_ns;
	t->end_ns = start_ns;
	t->nattrs = 0;
}

static struct txn_attr *slot(struct l7_txn *t, struct proto_counters *cnt)
{
	if (t->nattrs >= TXN_MAX_ATTRS) {
		if (cnt)
			cnt->attrs_dropped++;
		return NULL;
	}
	return memset(&t->attrs[t->nattrs++], 0, sizeof(t->attrs[0]));
}

void txn_str(struct l7_txn *t, struct proto_counters *cnt, const char *key, const void *s,
             size_t len, unsigned flags)
{
	struct txn_attr *a = slot(t, cnt);

	if (!a)
		return;
	a->key = key;
	a->type = TXN_STR;
	a->str = s;
	a->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	a->flags = (uint8_t)flags;
}

void txn_int(struct l7_txn *t, struct proto_counters *cnt, const char *key, int64_t v)
{
	struct txn_attr *a = slot(t, cnt);

	if (!a)
		return;
	a->key = key;
	a->type = TXN_INT;
	a->num = v;
}

void proto_emit(struct proto_io *io, const struct l7_txn *t)
{
	if ((unsigned)t->proto < PROTO__COUNT) {
		io->cnt->txns[t->proto]++;
		if (t->status == TXN_NO_RESPONSE)
			io->cnt->no_response[t->proto]++;
	}
	if (io->emit)
		io->emit(io, t);
}

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

const struct proto_header *proto_headers_find(const struct proto_headers *hs, const char *name,
                                              size_t len)
{
	if (!hs)
		return NULL;
	for (uint32_t i = 0; i < hs->n && i < PROTO_HEADERS_MAX; i++)
		if (hs->h[i].len == len && strncasecmp(hs->h[i].name, name, len) == 0)
			return &hs->h[i];
	return NULL;
}

int proto_headers_add(struct proto_headers *hs, const char *name, size_t len)
{
	struct proto_header *h;

	if (len == 0 || len >= PROTO_HEADER_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)name[i]))
			return -EINVAL;
	if (proto_headers_find(hs, name, len))
		return -EEXIST;
	if (hs->n >= PROTO_HEADERS_MAX)
		return -ENOSPC;
	h = &hs->h[hs->n];
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		h->name[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	h->len = (uint32_t)len;
	memcpy(h->req_key, "http.request.header.", sizeof("http.request.header.") - 1);
	memcpy(h->req_key + sizeof("http.request.header.") - 1, h->name, len + 1);
	memcpy(h->resp_key, "http.response.header.", sizeof("http.response.header.") - 1);
	memcpy(h->resp_key + sizeof("http.response.header.") - 1, h->name, len + 1);
	hs->n++;
	return 0;
}

void proto_hval_append(struct proto_hval *e, const char *sep, const uint8_t *v, size_t n, bool cut)
{
	size_t sl = e->len > 0 ? strlen(sep) : 0, room = PROTO_HEADER_VALUE_MAX - e->len, k;

	if (e->flags & TXN_TRUNCATED)
		return; /* nothing may follow a cut */
	if (n == 0 && !cut)
		return;
	if (sl > room) {
		e->flags |= TXN_TRUNCATED;
		return;
	}
	memcpy(e->v + e->len, sep, sl);
	room -= sl;
	k = n < room ? n : room;
	if (k > 0)
		memcpy(e->v + e->len + sl, v, k);
	e->len = (uint16_t)(e->len + sl + k);
	if (k < n || cut)
		e->flags |= TXN_TRUNCATED;
}

unsigned proto_capt_add(struct proto_capt *c, struct proto_counters *cnt,
                        const struct proto_header *ph, const uint8_t *v, size_t n, bool cut)
{
	struct proto_hval *e;
	unsigned i;

	for (i = 0; i < c->n && c->e[i].h != ph; i++)
		;
	if (i == PROTO_CAPTURED_MAX) {
		cnt->headers_not_captured++;
		return 0;
	}
	e = &c->e[i];
	if (i == c->n) {
		c->n++;
		e->h = ph;
		e->len = 0;
		e->flags = 0;
	}
	proto_hval_append(e, strcmp(ph->name, "cookie") ? ", " : "; ", v, n, cut);
	return i + 1;
}

void proto_capt_emit(struct l7_txn *t, struct proto_counters *cnt, const struct proto_capt *c,
                     enum proto_side side)
{
	for (unsigned i = 0; i < c->n && i < PROTO_CAPTURED_MAX; i++) {
		const struct proto_hval *e = &c->e[i];

		txn_str(t, cnt, side == PROTO_REQ ? e->h->req_key : e->h->resp_key, e->v, e->len,
		        TXN_SENSITIVE | e->flags);
	}
}
