// SPDX-License-Identifier: Apache-2.0
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test/processor/proto_harness.h"

#define GUARD_SPAN (PROTO_CARRY_MAX * 8) /* largest run the harness can place before a guard */

static uint8_t *guard_base; /* GUARD_SPAN readable bytes, then a PROT_NONE page */

/* Copy @len bytes so that they end right before the PROT_NONE page. */
static const uint8_t *at_guard(const void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!guard_base) {
		guard_base = mmap(NULL, GUARD_SPAN + (size_t)page, PROT_READ | PROT_WRITE,
		                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (guard_base == MAP_FAILED ||
		    mprotect(guard_base + GUARD_SPAN, (size_t)page, PROT_NONE) < 0) {
			perror("harness: guard page");
			_exit(99);
		}
	}
	if (len > GUARD_SPAN) {
		fprintf(stderr, "harness: run of %zu bytes is longer than the guard span\n", len);
		_exit(99);
	}
	return memcpy(guard_base + GUARD_SPAN - len, p, len);
}

static void collect(struct proto_io *io, const struct l7_txn *t)
{
	struct harness *h = io->emit_ctx;
	struct h_txn *c;

	if (h->n >= H_MAX_TXNS) {
		h->overflow++;
		return;
	}
	c = memset(&h->txns[h->n++], 0, sizeof(*c));
	c->proto = t->proto;
	c->status = t->status;
	c->start_ns = t->start_ns;
	c->end_ns = t->end_ns;
	c->nattrs = t->nattrs > TXN_MAX_ATTRS ? TXN_MAX_ATTRS : t->nattrs;
	for (uint32_t i = 0; i < c->nattrs; i++) {
		const struct txn_attr *a = &t->attrs[i];
		struct h_attr *d = &c->attrs[i];

		snprintf(d->key, sizeof(d->key), "%s", a->key ? a->key : "(null)");
		d->type = a->type;
		d->flags = a->flags;
		d->num = a->num;
		if (a->type == TXN_STR) {
			d->len = a->len > H_VAL_MAX ? H_VAL_MAX : a->len;
			if (d->len)
				memcpy(d->str, a->str, d->len);
		}
	}
}

const struct proto_parser *const *harness_parsers;
const struct proto_headers *harness_headers;

void harness_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->env.table = harness_parsers;
	h->env.headers = harness_headers;
	h->env.emit = collect;
	h->env.emit_ctx = h;
}

static unsigned dir_of(enum proto_role role, enum proto_side side)
{
	bool server = role == PROTO_ROLE_SERVER;

	return (side == PROTO_REQ) == !server ? 0 : 1; /* 0: egress */
}

void harness_run(struct harness *h, enum proto_id only, enum proto_role role,
                 const struct h_step *steps, size_t nsteps, size_t split_step, size_t split)
{
	struct session s;

	session_init(&s, role, false, only);
	for (size_t i = 0; i < nsteps; i++) {
		const struct h_step *st = &steps[i];
		uint64_t ts = st->ts_ns ? st->ts_ns : 1000 * (i + 1);
		unsigned dir = dir_of(role, st->side);

		if (!st->data) {
			session_gap(&s, &h->env, dir, st->len);
			continue;
		}
		if (split && i == split_step && split < st->len) {
			session_data(&s, &h->env, dir, at_guard(st->data, split), (uint32_t)split,
			             ts);
			session_data(&s, &h->env, dir,
			             at_guard((const uint8_t *)st->data + split, st->len - split),
			             (uint32_t)(st->len - split), ts);
			continue;
		}
		if (st->len)
			session_data(&s, &h->env, dir, at_guard(st->data, st->len),
			             (uint32_t)st->len, ts);
	}
	h->detected = s.proto;
	h->role = s.role;
	session_close(&s, &h->env);
}

static int same_txn(const struct h_txn *a, const struct h_txn *b, char *why, size_t whylen)
{
	if (a->proto != b->proto || a->status != b->status || a->nattrs != b->nattrs) {
		snprintf(why, whylen, "proto %d/%d status %d/%d nattrs %u/%u", a->proto, b->proto,
		         a->status, b->status, a->nattrs, b->nattrs);
		return -1;
	}
	for (uint32_t i = 0; i < a->nattrs; i++) {
		const struct h_attr *x = &a->attrs[i], *y = &b->attrs[i];

		if (strcmp(x->key, y->key) || x->type != y->type || x->flags != y->flags ||
		    x->num != y->num || x->len != y->len || memcmp(x->str, y->str, x->len)) {
			snprintf(why, whylen,
			         "attribute %u: %s=\"%.*s\"/%" PRId64 " vs %s=\"%.*s\"/%" PRId64, i,
			         x->key, (int)x->len, x->str, x->num, y->key, (int)y->len, y->str,
			         y->num);
			return -1;
		}
	}
	return 0;
}

int harness_check_splits(struct harness *ref, enum proto_id only, enum proto_role role,
                         const struct h_step *steps, size_t nsteps, char *why, size_t whylen)
{
	static struct harness h;

	harness_init(ref);
	harness_run(ref, only, role, steps, nsteps, 0, 0);
	for (size_t i = 0; i < nsteps; i++) {
		for (size_t cut = 1; steps[i].data && cut < steps[i].len; cut++) {
			harness_init(&h);
			harness_run(&h, only, role, steps, nsteps, i, cut);
			if (h.n != ref->n) {
				snprintf(why, whylen,
				         "step %zu cut at %zu: %u transactions, unsplit %u", i, cut,
				         h.n, ref->n);
				return -1;
			}
			for (unsigned t = 0; t < h.n; t++) {
				char d[512];

				if (same_txn(&ref->txns[t], &h.txns[t], d, sizeof(d)) < 0) {
					snprintf(why, whylen,
					         "step %zu cut at %zu: transaction %u: %s", i, cut,
					         t, d);
					return -1;
				}
			}
		}
	}
	return 0;
}

const struct h_attr *h_attr(const struct h_txn *t, const char *key)
{
	for (uint32_t i = 0; i < t->nattrs; i++)
		if (!strcmp(t->attrs[i].key, key))
			return &t->attrs[i];
	return NULL;
}

const char *h_str(const struct h_txn *t, const char *key)
{
	const struct h_attr *a = h_attr(t, key);

	return a && a->type == TXN_STR ? a->str : NULL;
}

int64_t h_int(const struct h_txn *t, const char *key)
{
	const struct h_attr *a = h_attr(t, key);

	return a && a->type == TXN_INT ? a->num : INT64_MIN;
}
