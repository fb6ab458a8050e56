/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-connection state of the processor, keyed by socket cookie: the two
 * reassembly streams (egress, ingress) and their counters. A fixed-size
 * open-addressing table allocated once: a flood of connections is counted
 * (untracked), never allocated for.
 */
#ifndef BPFWARDEN_PROCESSOR_CONNTRACK_H
#define BPFWARDEN_PROCESSOR_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/l7.h"
#include "processor/reasm.h"
#include "processor/session.h"

#define CONNTRACK_MAX     16384                    /* connections tracked at once */
#define CONNTRACK_POOL    (8u << 20)               /* bytes held out of order, all connections */
#define CONNTRACK_IDLE_NS (300ull * 1000000000ull) /* no segment for this long: expire */

#define CONNTRACK_EP_LEN 48 /* "[ipv6]:port" and its NUL */

/* Keys with this bit are TLS streams (pid, SSL object), not socket cookies. */
#define CONNTRACK_TLS_KEY (1ull << 63)

/* What the records say about a connection, for the transactions it carries. */
struct conn_meta {
	struct l7_tuple tuple;
	uint64_t start_ns; /* boot ns: established (or first seen) */
	uint64_t cgroup_id;
	uint64_t link; /* TCP entry: its TLS stream's key; TLS entry: the socket cookie */
	uint32_t pid;
	char comm[L7_COMM_LEN];
	uint8_t role; /* enum l7_role */
	bool have_tuple;
	bool have_endpoints; /* local/remote below are formatted from tuple */
	char local[CONNTRACK_EP_LEN], remote[CONNTRACK_EP_LEN];
	bool seen_open; /* L7_CONN_OPEN seen: the stream starts at the connection's start */
};

struct conn {
	uint64_t cookie; /* 0: free slot */
	uint64_t last_ns;
	struct reasm_stream dir[2];  /* by enum l7_dir */
	struct reasm_stats stats[2]; /* by enum l7_dir */
	struct conn_meta meta;
	struct session sess;
};

struct conntrack {
	struct conn *slots;
	uint32_t max;  /* connections tracked at once (CONNTRACK_MAX unless sized) */
	uint32_t mask; /* slots - 1; twice max slots */
	uint32_t n;
	struct reasm_pool *pool;
	uint64_t untracked;      /* segments of connections the full table could not take */
	uint64_t expired;        /* connections dropped after CONNTRACK_IDLE_NS */
	struct reasm_stats done; /* totals of connections closed or expired */
	/* called first by conntrack_close (also on expiry): feed the rest to the
	 * session, settle it; NULL: nothing to do */
	void (*before_close)(void *ctx, struct conn *c);
	void *hook_ctx;
};

/* 0, or -ENOMEM. */
int conntrack_init(struct conntrack *t);

/*
 * A smaller table (fuzzing, tests): @max connections (a power of two, at
 * most CONNTRACK_MAX) and an out-of-order pool of @pool bytes. 0, -EINVAL or
 * -ENOMEM.
 */
int conntrack_init_sized(struct conntrack *t, uint32_t max, size_t pool);
void conntrack_free(struct conntrack *t);

/* The connection of @cookie (!= 0), created if @create and there is room; NULL otherwise. */
struct conn *conntrack_get(struct conntrack *t, uint64_t cookie, bool create, uint64_t now_ns);

/* Flush both streams through @ops (gaps become LOST), add to t->done, free the slot. */
void conntrack_close(struct conntrack *t, struct conn *c, const struct reasm_ops *ops, void *ctx);

/* Close every connection idle since @now_ns - CONNTRACK_IDLE_NS; returns how many. */
uint32_t conntrack_expire(struct conntrack *t, uint64_t now_ns, const struct reasm_ops *ops,
                          void *ctx);

#endif
