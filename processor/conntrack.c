// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "processor/conntrack.h"

int conntrack_init(struct conntrack *t)
{
	return conntrack_init_sized(t, CONNTRACK_MAX, CONNTRACK_POOL);
}

int conntrack_init_sized(struct conntrack *t, uint32_t max, size_t pool)
{
	memset(t, 0, sizeof(*t));
	if (max == 0 || max > CONNTRACK_MAX || (max & (max - 1)))
		return -EINVAL;
	t->max = max;
	t->mask = 2 * max - 1;
	t->slots = calloc((size_t)t->mask + 1, sizeof(*t->slots));
	if (!t->slots || reasm_pool_create(&t->pool, pool) < 0) {
		conntrack_free(t);
		return -ENOMEM;
	}
	return 0;
}

void conntrack_free(struct conntrack *t)
{
	if (t->slots)
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->slots[i].cookie) {
				reasm_discard(&t->slots[i].dir[0]);
				reasm_discard(&t->slots[i].dir[1]);
			}
	free(t->slots);
	reasm_pool_destroy(t->pool);
	t->slots = NULL;
	t->pool = NULL;
}

static uint32_t home(const struct conntrack *t, uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ull) >> 32) & t->mask;
}

struct conn *conntrack_get(struct conntrack *t, uint64_t cookie, bool create, uint64_t now_ns)
{
	uint32_t i = home(t, cookie);

	while (t->slots[i].cookie && t->slots[i].cookie != cookie)
		i = (i + 1) & t->mask;
	if (t->slots[i].cookie == cookie && cookie) {
		t->slots[i].last_ns = now_ns;
		return &t->slots[i];
	}
	if (!create || !cookie || t->n == t->max)
		return NULL;
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->slots[i].cookie = cookie;
	t->slots[i].last_ns = now_ns;
	reasm_init(&t->slots[i].dir[0], t->pool);
	reasm_init(&t->slots[i].dir[1], t->pool);
	t->n++;
	return &t->slots[i];
}

static void add_stats(struct reasm_stats *to, const struct reasm_stats *s)
{
	to->segments += s->segments;
	to->bytes_delivered += s->bytes_delivered;
	to->duplicate_bytes += s->duplicate_bytes;
	to->gap_bytes_truncated += s->gap_bytes_truncated;
	to->gap_bytes_lost += s->gap_bytes_lost;
	to->gap_bytes_evicted += s->gap_bytes_evicted;
	to->gaps += s->gaps;
	to->ooo_buffered += s->ooo_buffered;
	to->resyncs += s->resyncs;
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void remove_slot(struct conntrack *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j].cookie)
			break;
		uint32_t h = home(t, t->slots[j].cookie);

		/* Move j back into the hole i unless its home lies in (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->n--;
}

void conntrack_close(struct conntrack *t, struct conn *c, const struct reasm_ops *ops, void *ctx)
{
	if (t->before_close)
		t->before_close(t->hook_ctx, c);
	for (int d = 0; d < 2; d++) {
		reasm_flush(&c->dir[d], ops, ctx, &c->stats[d]);
		add_stats(&t->done, &c->stats[d]);
	}
	remove_slot(t, (uint32_t)(c - t->slots));
}

uint32_t conntrack_expire(struct conntrack *t, uint64_t now_ns, const struct reasm_ops *ops,
                          void *ctx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= t->mask; i++) {
		struct conn *c = &t->slots[i];

		/* A shift may move a later entry into i: look at i again. */
		while (c->cookie && now_ns - c->last_ns > CONNTRACK_IDLE_NS) {
			conntrack_close(t, c, ops, ctx);
			n++;
		}
	}
	t->expired += n;
	return n;
}
