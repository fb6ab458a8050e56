// SPDX-License-Identifier: Apache-2.0
/*
 * pcap files to L7 records (see pcap_source.h).
 *
 * Each packet goes link -> IP -> TCP over a cursor that knows how many bytes
 * were captured and how many were on the wire from the current header on;
 * a header is read only once the cursor shows it was captured whole, and
 * every length field is checked against the cursor before it moves it.
 *
 * Flows live in a table that doubles as flows come, up to PCAP_FLOWS_MAX
 * entries (about 100 bytes each), with a chained hash keyed by a per-file
 * random seed so that a crafted file cannot aim every flow at one chain.
 * Closed flows stay in the table so that the last ACK or a retransmitted
 * FIN does not start a phantom flow. When the table is full, a new flow
 * takes the slot of the flow closed longest ago, else of an open flow idle
 * for PCAP_FLOW_IDLE_NS (closed first), else it is untracked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/types.h>
#include <pcap/pcap.h>

#include "bpf/l7.h"
#include "processor/pcap_source.h"

#define FLOWS_INITIAL    64 /* table size at the first flow; doubles up to PCAP_FLOWS_MAX */
#define NIL              0  /* no flow: flows[0] is never used */
#define NSEC_PER_SEC     1000000000ull
#define ETH_HDR          14
#define ETH_TYPE_OFF     12
#define SLL_HDR          16
#define SLL_PROTO_OFF    14
#define SLL2_HDR         20
#define SLL2_PROTO_OFF   0
#define LOOP_HDR         4
#define VLAN_TAG         4
#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_8021Q  0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ   0x9100 /* double tagging before 802.1ad */
#define BSD_AF_INET      2
#define IPV4_HDR_MIN     20
#define IPV4_MF          0x2000
#define IPV4_OFFSET      0x1fff
#define IPV6_HDR         40
#define IPV6_EXT_UNIT    8
#define IP_HOPOPTS       0
#define IP_TCP           6
#define IP_ROUTING       43
#define IP_FRAGMENT      44
#define IP_DSTOPTS       60
#define TCP_HDR_MIN      20
#define FL_FIN           0x01
#define FL_SYN           0x02
#define FL_RST           0x04
#define FL_ACK           0x10
#define SRC              0 /* struct pkt addr[] and port[] */
#define DST              1
#define CLIENT           0 /* struct flow addr[] and port[]; bit in fins */
#define SERVER           1
#define BOTH_FINS        ((1u << CLIENT) | (1u << SERVER))

enum verdict { V_OK, V_NON_TCP, V_NON_IP, V_FRAGMENT, V_MALFORMED };
enum flow_state { FLOW_FREE, FLOW_OPEN, FLOW_CLOSED, FLOW_STATES };

/* What is left of a packet from the current header on. */
struct cursor {
	const uint8_t *p;
	uint32_t cap;  /* captured bytes from p on */
	uint32_t wire; /* bytes on the wire from p on, >= cap */
};

/* One parsed TCP segment. */
struct pkt {
	uint64_t ts_ns;
	uint16_t family;
	uint8_t addr[2][16]; /* by SRC, DST; IPv4 in the first 4 bytes */
	uint16_t port[2];
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t seg_len; /* payload bytes on the wire */
	uint32_t cap_len; /* payload bytes captured */
	const uint8_t *payload;
};

struct flow {
	uint8_t addr[2][16]; /* by CLIENT, SERVER */
	uint16_t port[2];
	uint16_t family;
	uint8_t state;  /* enum flow_state */
	uint8_t fins;   /* 1 << side for each side that sent a FIN */
	bool have_isn;  /* isn known: the client's SYN or the server's SYN-ACK was seen */
	uint32_t isn;   /* the client's initial sequence number */
	uint32_t hnext; /* next flow in the hash chain */
	uint32_t prev;  /* neighbours in ps->lists[state] */
	uint32_t next;
	uint64_t cookie;
	uint64_t start_ns, last_ns;
	uint64_t bytes[2]; /* payload bytes by enum l7_dir */
};

/* FLOW_OPEN: least recently active first; FLOW_CLOSED: closed longest ago first. */
struct flist {
	uint32_t head, tail;
};

struct pcap_source {
	pcap_t *pc;
	int dlt;
	struct pcap_source_stats st;
	pcap_record_fn fn;
	void *ctx;
	uint32_t cap_bytes;
	uint64_t seed;
	uint64_t cookies; /* the last cookie given */
	uint32_t size;    /* flows[1, size] exist; 2 * size buckets (a power of two) */
	uint32_t nused;   /* flows[1, nused) have been used, each is in a hash chain */
	struct flow *flows;
	uint32_t *buckets;
	struct flist lists[FLOW_STATES];
	union {
		struct l7_conn conn;
		struct l7_data data;
		uint8_t bytes[sizeof(struct l7_data) + L7_CAPTURE_MAX];
	} rec;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Only after checking n <= c->cap. */
static void advance(struct cursor *c, uint32_t n)
{
	c->p += n;
	c->cap -= n;
	c->wire -= n;
}

/* The IP header said the packet ends @len bytes from here: drop link padding. */
static void limit(struct cursor *c, uint32_t len)
{
	c->wire = len;
	if (c->cap > len)
		c->cap = len;
}

/* ---- link layer --------------------------------------------------------- */

static bool is_vlan(uint16_t etype)
{
	return etype == ETHERTYPE_8021Q || etype == ETHERTYPE_8021AD || etype == ETHERTYPE_QINQ;
}

static enum verdict skip_vlans(struct cursor *c, uint16_t *etype)
{
	for (int i = 0; is_vlan(*etype); i++) {
		if (i == PCAP_VLAN_TAGS)
			return V_NON_IP;
		if (c->cap < VLAN_TAG)
			return V_MALFORMED;
		*etype = be16(c->p + 2); /* after the 2-byte tag control information */
		advance(c, VLAN_TAG);
	}
	return V_OK;
}

/* Ethernet and Linux cooked headers: a fixed size with an EtherType inside. */
static enum verdict ethertype_link(struct cursor *c, uint32_t hdr, uint32_t off, uint16_t *etype)
{
	if (c->cap < hdr)
		return V_MALFORMED;
	*etype = be16(c->p + off);
	advance(c, hdr);
	return skip_vlans(c, etype);
}

/* AF_INET6 differs between the systems that write DLT_NULL/DLT_LOOP files. */
static bool bsd_inet6(uint32_t af)
{
	return af == 10 /* Linux */ || af == 24 /* NetBSD, OpenBSD */ || af == 28 /* FreeBSD */ ||
	       af == 30 /* macOS */;
}

/*
 * DLT_NULL's family is in the writer's byte order, DLT_LOOP's in network
 * order: families are small, so a value above 16 bits is the other order.
 */
static enum verdict loopback_link(struct cursor *c, uint16_t *etype)
{
	uint32_t af;

	if (c->cap < LOOP_HDR)
		return V_MALFORMED;
	af = le32(c->p);
	if (af > UINT16_MAX)
		af = __builtin_bswap32(af);
	advance(c, LOOP_HDR);
	*etype = af == BSD_AF_INET ? ETHERTYPE_IPV4 : bsd_inet6(af) ? ETHERTYPE_IPV6 : 0;
	return V_OK;
}

static enum verdict raw_link(const struct cursor *c, uint16_t *etype)
{
	if (c->cap < 1)
		return V_MALFORMED;
	*etype = c->p[0] >> 4 == 4 ? ETHERTYPE_IPV4 : c->p[0] >> 4 == 6 ? ETHERTYPE_IPV6 : 0;
	return *etype ? V_OK : V_MALFORMED;
}

static bool dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_RAW || dlt == DLT_IPV4 ||
	       dlt == DLT_IPV6;
}

static enum verdict parse_link(int dlt, struct cursor *c, uint16_t *etype)
{
	switch (dlt) {
	case DLT_EN10MB:
		return ethertype_link(c, ETH_HDR, ETH_TYPE_OFF, etype);
	case DLT_LINUX_SLL:
		return ethertype_link(c, SLL_HDR, SLL_PROTO_OFF, etype);
	case DLT_LINUX_SLL2:
		return ethertype_link(c, SLL2_HDR, SLL2_PROTO_OFF, etype);
	case DLT_NULL:
	case DLT_LOOP:
		return loopback_link(c, etype);
	case DLT_IPV4:
		*etype = ETHERTYPE_IPV4;
		return V_OK;
	case DLT_IPV6:
		*etype = ETHERTYPE_IPV6;
		return V_OK;
	default: /* DLT_RAW: pcap_source_open() let no other through */
		return raw_link(c, etype);
	}
}

/* ---- IP and TCP --------------------------------------------------------- */

/*
 * An IP length of 0 is how Linux writes BIG TCP packets (and what some
 * captures of TSO packets show): the packet is then the rest of the frame.
 */
static uint32_t jumbo_len(uint32_t declared, const struct cursor *c, uint32_t hdr)
{
	if (declared == 0 && c->wire - hdr <= PCAP_JUMBO_MAX)
		return c->wire - hdr;
	return declared;
}

static enum verdict parse_ipv4(struct cursor *c, struct pkt *k)
{
	const uint8_t *h = c->p;
	uint32_t ihl, tot;

	if (c->cap < IPV4_HDR_MIN || h[0] >> 4 != 4)
		return V_MALFORMED;
	ihl = (h[0] & 0xfu) * 4;
	tot = jumbo_len(be16(h + 2), c, 0);
	if (ihl < IPV4_HDR_MIN || ihl > c->cap || tot < ihl || tot > c->wire)
		return V_MALFORMED;
	if (be16(h + 6) & (IPV4_MF | IPV4_OFFSET))
		return V_FRAGMENT;
	if (h[9] != IP_TCP)
		return V_NON_TCP;
	k->family = AF_INET;
	memcpy(k->addr[SRC], h + 12, 4);
	memcpy(k->addr[DST], h + 16, 4);
	limit(c, tot);
	advance(c, ihl);
	return V_OK;
}

static bool ipv6_skippable(uint8_t nh)
{
	return nh == IP_HOPOPTS || nh == IP_ROUTING || nh == IP_DSTOPTS;
}

/* Extension headers up to TCP: PCAP_IPV6_EXT_MAX of them at most. */
static enum verdict ipv6_exthdrs(struct cursor *c, uint8_t nh)
{
	for (int i = 0;; i++) {
		uint32_t len;

		if (nh == IP_TCP)
			return V_OK;
		if (nh == IP_FRAGMENT)
			return V_FRAGMENT;
		if (!ipv6_skippable(nh))
			return V_NON_TCP;
		if (i == PCAP_IPV6_EXT_MAX || c->cap < 2)
			return V_MALFORMED;
		len = (c->p[1] + 1u) * IPV6_EXT_UNIT;
		if (len > c->cap)
			return V_MALFORMED;
		nh = c->p[0];
		advance(c, len);
	}
}

static enum verdict parse_ipv6(struct cursor *c, struct pkt *k)
{
	const uint8_t *h = c->p;
	uint32_t plen;

	if (c->cap < IPV6_HDR || h[0] >> 4 != 6)
		return V_MALFORMED;
	plen = jumbo_len(be16(h + 4), c, IPV6_HDR);
	if (plen > c->wire - IPV6_HDR)
		return V_MALFORMED;
	k->family = AF_INET6;
	memcpy(k->addr[SRC], h + 8, 16);
	memcpy(k->addr[DST], h + 24, 16);
	limit(c, IPV6_HDR + plen);
	advance(c, IPV6_HDR);
	return ipv6_exthdrs(c, h[6]);
}

/* Options may be cut off by the snap length: the segment is then all truncated payload. */
static enum verdict parse_tcp(const struct cursor *c, struct pkt *k)
{
	const uint8_t *h = c->p;
	uint32_t doff;

	if (c->cap < TCP_HDR_MIN)
		return V_MALFORMED;
	doff = (h[12] >> 4) * 4u;
	if (doff < TCP_HDR_MIN || doff > c->wire)
		return V_MALFORMED;
	k->port[SRC] = be16(h);
	k->port[DST] = be16(h + 2);
	k->seq = be32(h + 4);
	k->ack = be32(h + 8);
	k->flags = h[13];
	k->seg_len = c->wire - doff;
	k->cap_len = c->cap > doff ? c->cap - doff : 0;
	k->payload = k->cap_len ? h + doff : NULL;
	return V_OK;
}

static enum verdict parse_packet(int dlt, struct cursor *c, struct pkt *k)
{
	uint16_t etype = 0;
	enum verdict v = parse_link(dlt, c, &etype);

	if (v != V_OK)
		return v;
	if (etype == ETHERTYPE_IPV4)
		v = parse_ipv4(c, k);
	else if (etype == ETHERTYPE_IPV6)
		v = parse_ipv6(c, k);
	else
		return V_NON_IP;
	return v == V_OK ? parse_tcp(c, k) : v;
}

/* ---- records ------------------------------------------------------------ */

static void fill_hdr(struct l7_hdr *h, uint32_t kind, const struct flow *f, uint64_t ts)
{
	h->kind = kind;
	h->flags = f->family == AF_INET6 ? L7_F_IPV6 : 0;
	h->ts_boot_ns = ts;
	h->cookie = f->cookie;
}

static void fill_tuple(struct l7_tuple *t, const struct flow *f)
{
	memcpy(t->local_addr, f->addr[CLIENT], sizeof(t->local_addr));
	memcpy(t->remote_addr, f->addr[SERVER], sizeof(t->remote_addr));
	t->local_port = f->port[CLIENT];
	t->remote_port = f->port[SERVER];
	t->family = f->family;
}

static int emit(struct pcap_source *ps, const void *rec, uint32_t len)
{
	int r = ps->fn(ps->ctx, rec, len);

	return r < 0 ? r : 0;
}

static int emit_conn(struct pcap_source *ps, const struct flow *f, uint32_t kind, uint64_t ts)
{
	struct l7_conn *c = &ps->rec.conn;

	memset(c, 0, sizeof(*c));
	fill_hdr(&c->hdr, kind, f, ts);
	fill_tuple(&c->tuple, f);
	c->role = L7_ROLE_CLIENT;
	c->start_boot_ns = f->start_ns;
	if (kind == L7_CONN_CLOSE) {
		c->bytes_sent = f->bytes[L7_EGRESS];
		c->bytes_received = f->bytes[L7_INGRESS];
	}
	return emit(ps, c, sizeof(*c));
}

/* A SYN takes one sequence number before the first payload byte (TCP Fast Open). */
static int emit_data(struct pcap_source *ps, struct flow *f, const struct pkt *k, uint32_t dir)
{
	struct l7_data *d = &ps->rec.data;
	uint32_t cap = k->cap_len < ps->cap_bytes ? k->cap_len : ps->cap_bytes;

	_Static_assert(sizeof(ps->rec) >= sizeof(struct l7_data) + L7_CAPTURE_MAX, "record room");
	if (cap > L7_CAPTURE_MAX)
		return -EOVERFLOW; /* cap_bytes is clamped: cannot happen */
	memset(d, 0, sizeof(*d));
	fill_hdr(&d->hdr, L7_DATA, f, k->ts_ns);
	fill_tuple(&d->tuple, f);
	if (cap < k->seg_len)
		d->hdr.flags |= L7_F_TRUNCATED;
	d->dir = dir;
	d->seq = k->seq + (k->flags & FL_SYN ? 1 : 0);
	d->seg_len = k->seg_len;
	d->cap_len = cap;
	if (cap)
		memcpy(d + 1, k->payload, cap);
	f->bytes[dir] += k->seg_len;
	return emit(ps, d, (uint32_t)sizeof(*d) + cap);
}

/* ---- flow table --------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t endpoint_hash(uint64_t seed, const uint8_t *addr, uint16_t port)
{
	uint64_t a, b;

	memcpy(&a, addr, sizeof(a));
	memcpy(&b, addr + sizeof(a), sizeof(b));
	return mix(mix(mix(seed ^ a) ^ b) ^ port);
}

/* Symmetric in the two endpoints: both directions of a flow share a bucket. */
static uint32_t bucket_of(const struct pcap_source *ps, uint16_t family, const uint8_t (*addr)[16],
                          const uint16_t *port)
{
	uint64_t h = endpoint_hash(ps->seed, addr[0], port[0]) +
	             endpoint_hash(ps->seed, addr[1], port[1]);

	return (uint32_t)(mix(h ^ family) & (2 * ps->size - 1));
}

static bool endpoint_eq(const struct flow *f, int side, const struct pkt *k, int end)
{
	return f->port[side] == k->port[end] && !memcmp(f->addr[side], k->addr[end], 16);
}

/* The flow of @k, and which side sent it; NIL if none. */
static uint32_t flow_find(const struct pcap_source *ps, const struct pkt *k, uint32_t b, int *from)
{
	if (!ps->size)
		return NIL;
	for (uint32_t i = ps->buckets[b]; i != NIL; i = ps->flows[i].hnext) {
		const struct flow *f = &ps->flows[i];

		if (f->family != k->family)
			continue;
		*from = endpoint_eq(f, CLIENT, k, SRC) ? CLIENT : SERVER;
		if (endpoint_eq(f, *from, k, SRC) && endpoint_eq(f, !*from, k, DST))
			return i;
	}
	return NIL;
}

static void bucket_del(struct pcap_source *ps, uint32_t i)
{
	const struct flow *f = &ps->flows[i];
	uint32_t *link = &ps->buckets[bucket_of(ps, f->family, f->addr, f->port)];

	while (*link != NIL && *link != i)
		link = &ps->flows[*link].hnext;
	if (*link == i)
		*link = f->hnext;
}

static void list_del(struct pcap_source *ps, uint32_t i)
{
	struct flow *f = &ps->flows[i];
	struct flist *l = &ps->lists[f->state];

	if (f->prev != NIL)
		ps->flows[f->prev].next = f->next;
	else
		l->head = f->next;
	if (f->next != NIL)
		ps->flows[f->next].prev = f->prev;
	else
		l->tail = f->prev;
	f->state = FLOW_FREE;
}

static void list_add(struct pcap_source *ps, uint32_t i, uint8_t state)
{
	struct flow *f = &ps->flows[i];
	struct flist *l = &ps->lists[state];

	f->state = state;
	f->prev = l->tail;
	f->next = NIL;
	if (l->tail != NIL)
		ps->flows[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

static int flow_close(struct pcap_source *ps, uint32_t i, uint64_t ts)
{
	list_del(ps, i);
	list_add(ps, i, FLOW_CLOSED);
	return emit_conn(ps, &ps->flows[i], L7_CONN_CLOSE, ts);
}

static void bucket_add(struct pcap_source *ps, uint32_t b, uint32_t i)
{
	ps->flows[i].hnext = ps->buckets[b];
	ps->buckets[b] = i;
}

/* Twice the flows (at most PCAP_FLOWS_MAX), twice the buckets: rehash. */
static int table_grow(struct pcap_source *ps)
{
	uint32_t size = ps->size ? 2 * ps->size : FLOWS_INITIAL, old = ps->size ? ps->size + 1 : 0;
	struct flow *flows = realloc(ps->flows, (size + 1) * sizeof(*flows));
	uint32_t *buckets;

	if (!flows)
		return -ENOMEM;
	ps->flows = flows;
	memset(flows + old, 0, (size + 1 - old) * sizeof(*flows));
	buckets = calloc(2 * size, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	free(ps->buckets);
	ps->buckets = buckets;
	ps->size = size;
	for (uint32_t i = 1; i < ps->nused; i++) {
		const struct flow *f = &flows[i];

		bucket_add(ps, bucket_of(ps, f->family, f->addr, f->port), i);
	}
	return 0;
}

/*
 * A free slot for a new flow, or NIL: never used, else closed longest ago,
 * else the least recently active open flow if it is idle (closed first).
 */
static int flow_slot(struct pcap_source *ps, uint64_t now, uint32_t *out)
{
	uint32_t i = ps->lists[FLOW_CLOSED].head;
	int r;

	*out = NIL;
	if (ps->nused > ps->size && ps->size < PCAP_FLOWS_MAX) {
		r = table_grow(ps);
		if (r < 0)
			return r;
	}
	if (ps->nused <= ps->size) {
		*out = ps->nused++;
		return 0;
	}
	if (i == NIL) {
		i = ps->lists[FLOW_OPEN].head;
		if (i == NIL || now < ps->flows[i].last_ns ||
		    now - ps->flows[i].last_ns < PCAP_FLOW_IDLE_NS)
			return 0;
		r = flow_close(ps, i, ps->flows[i].last_ns);
		if (r < 0)
			return r;
	}
	list_del(ps, i);
	bucket_del(ps, i);
	*out = i;
	return 0;
}

/* Which side sent @k: SYN says, else the lower port is the server's. */
static int sender_side(const struct pkt *k)
{
	if (k->flags & FL_SYN)
		return k->flags & FL_ACK ? SERVER : CLIENT;
	return k->port[SRC] < k->port[DST] ? SERVER : CLIENT;
}

/* (Re)start flow @i (in no list) with @k as its first packet. */
static int flow_start(struct pcap_source *ps, uint32_t i, const struct pkt *k)
{
	struct flow *f = &ps->flows[i];
	int s = sender_side(k);

	memcpy(f->addr[s], k->addr[SRC], sizeof(f->addr[s]));
	memcpy(f->addr[!s], k->addr[DST], sizeof(f->addr[!s]));
	f->port[s] = k->port[SRC];
	f->port[!s] = k->port[DST];
	f->family = k->family;
	f->fins = 0;
	f->have_isn = k->flags & FL_SYN;
	f->isn = s == CLIENT ? k->seq : k->ack - 1; /* a SYN-ACK acks the client's ISN + 1 */
	f->cookie = ++ps->cookies;
	f->start_ns = f->last_ns = k->ts_ns;
	f->bytes[L7_EGRESS] = f->bytes[L7_INGRESS] = 0;
	ps->st.flows++;
	list_add(ps, i, FLOW_OPEN);
	return emit_conn(ps, f, L7_CONN_OPEN, k->ts_ns);
}

/*
 * A SYN without ACK on an open flow is a new connection on the same ports
 * (the end of the old one was not captured), unless it is the client's SYN
 * sent again.
 */
static bool new_connection(const struct flow *f, const struct pkt *k, int from)
{
	if ((k->flags & (FL_SYN | FL_ACK)) != FL_SYN)
		return false;
	return !f->have_isn || from != CLIENT || k->seq != f->isn;
}

/* Flow @i for @k: found, restarted or created; NIL when it has none. */
static int flow_for(struct pcap_source *ps, const struct pkt *k, uint32_t *out)
{
	uint32_t i;
	int from = CLIENT, r;

	*out = i =
	        flow_find(ps, k, ps->size ? bucket_of(ps, k->family, k->addr, k->port) : 0, &from);
	if (i == NIL) {
		if (k->flags & FL_RST)
			return 0; /* a reset of nothing we know: no flow to open */
		r = flow_slot(ps, k->ts_ns, out);
		if (r < 0 || *out == NIL) {
			ps->st.flows_untracked += r == 0;
			return r;
		}
		bucket_add(ps, bucket_of(ps, k->family, k->addr, k->port), *out); /* after growth */
		return flow_start(ps, *out, k);
	}
	if (ps->flows[i].state == FLOW_OPEN && new_connection(&ps->flows[i], k, from)) {
		r = flow_close(ps, i, ps->flows[i].last_ns);
		if (r < 0)
			return r;
	}
	if (ps->flows[i].state == FLOW_CLOSED) {
		if (!(k->flags & FL_SYN)) {
			*out = NIL; /* the last ACK, a retransmission: not a new connection */
			return 0;
		}
		list_del(ps, i);
		return flow_start(ps, i, k);
	}
	list_del(ps, i); /* most recently active: to the tail */
	list_add(ps, i, FLOW_OPEN);
	return 0;
}

static int on_segment(struct pcap_source *ps, const struct pkt *k)
{
	struct flow *f;
	uint32_t i;
	int from, r = flow_for(ps, k, &i);

	if (r < 0 || i == NIL)
		return r;
	f = &ps->flows[i];
	f->last_ns = k->ts_ns;
	from = endpoint_eq(f, CLIENT, k, SRC) ? CLIENT : SERVER;
	/* A RST's payload is a diagnostic, not stream data. */
	if (k->seg_len && !(k->flags & FL_RST)) {
		r = emit_data(ps, f, k, from == CLIENT ? L7_EGRESS : L7_INGRESS);
		if (r < 0)
			return r;
	}
	if (k->flags & FL_FIN)
		f->fins |= 1u << from;
	if ((k->flags & FL_RST) || f->fins == BOTH_FINS)
		return flow_close(ps, i, k->ts_ns);
	return 0;
}

/* ---- packets ------------------------------------------------------------ */

/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. */
static uint64_t ts_ns(const struct timeval *tv)
{
	if (tv->tv_sec < 0 || tv->tv_usec < 0)
		return 0;
	return (uint64_t)tv->tv_sec * NSEC_PER_SEC + (uint64_t)tv->tv_usec;
}

static void count(struct pcap_source_stats *st, enum verdict v)
{
	switch (v) {
	case V_OK:
		st->tcp_segments++;
		break;
	case V_NON_TCP:
		st->non_tcp++;
		break;
	case V_NON_IP:
		st->non_ip++;
		break;
	case V_FRAGMENT:
		st->fragments++;
		break;
	case V_MALFORMED:
		st->malformed++;
		break;
	}
}

static int on_packet(struct pcap_source *ps, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct cursor c = { data, h->caplen, h->len > h->caplen ? h->len : h->caplen };
	struct pkt k;
	enum verdict v;

	memset(&k, 0, sizeof(k));
	ps->st.packets++;
	ps->st.truncated += h->caplen < h->len;
	v = parse_packet(ps->dlt, &c, &k);
	count(&ps->st, v);
	if (v != V_OK)
		return 0;
	k.ts_ns = ts_ns(&h->ts);
	return on_segment(ps, &k);
}

/* End of input: the connections still open end here, at their last packet. */
static int close_all(struct pcap_source *ps)
{
	uint32_t i;
	int r;

	while ((i = ps->lists[FLOW_OPEN].head) != NIL) {
		r = flow_close(ps, i, ps->flows[i].last_ns);
		if (r < 0)
			return r;
	}
	return 0;
}

int pcap_source_run(struct pcap_source *ps, pcap_record_fn fn, void *ctx, uint32_t capture_bytes)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0, r = 0;

	if (!ps || !fn)
		return -EINVAL;
	ps->fn = fn;
	ps->ctx = ctx;
	ps->cap_bytes = capture_bytes == 0               ? L7_CAPTURE_DEFAULT
	                : capture_bytes > L7_CAPTURE_MAX ? L7_CAPTURE_MAX
	                                                 : capture_bytes;
	while (r == 0 && (n = pcap_next_ex(ps->pc, &h, &data)) == 1)
		r = on_packet(ps, h, data);
	if (r < 0)
		return r;
	if (n == PCAP_ERROR) {
		ps->st.packets++;
		ps->st.malformed++;
	}
	r = close_all(ps);
	if (r < 0)
		return r;
	return n == PCAP_ERROR ? -EIO : 0;
}

/* ---- open and close ----------------------------------------------------- */

static void say(char *err, size_t errlen, const char *path, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, why);
}

static void seed_init(struct pcap_source *ps)
{
	/* Without randomness the table still works; only chain lengths could be aimed at. */
	if (getrandom(&ps->seed, sizeof(ps->seed), GRND_NONBLOCK) != sizeof(ps->seed))
		ps->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)ps;
}

static void link_name(int dlt, char *buf, size_t len)
{
	const char *name = pcap_datalink_val_to_name(dlt);

	snprintf(buf, len,
	         "unsupported link type %s (%d); supported: EN10MB, LINUX_SLL, LINUX_SLL2, NULL, "
	         "LOOP, RAW, IPV4, IPV6",
	         name ? name : "unknown", dlt);
}

int pcap_source_open(struct pcap_source **out, const char *path, char *err, size_t errlen)
{
	char why[PCAP_ERRBUF_SIZE + 128] = "";
	struct pcap_source *ps;
	FILE *f = NULL;
	int r;

	*out = NULL;
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		r = -ENOMEM;
		say(err, errlen, path, "out of memory");
		goto cleanup;
	}
	ps->nused = 1;
	seed_init(ps);
	f = strcmp(path, "-") ? fopen(path, "rbe") : stdin;
	if (!f) {
		r = -errno;
		say(err, errlen, path, strerror(-r));
		goto cleanup;
	}
	ps->pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, why);
	if (!ps->pc) {
		r = -EBADMSG;
		say(err, errlen, path, why);
		goto cleanup;
	}
	f = NULL; /* libpcap's now */
	ps->dlt = pcap_datalink(ps->pc);
	if (!dlt_supported(ps->dlt)) {
		r = -EPROTONOSUPPORT;
		link_name(ps->dlt, why, sizeof(why));
		say(err, errlen, path, why);
		goto cleanup;
	}
	*out = ps;
	return 0;
cleanup:
	if (f && f != stdin)
		fclose(f);
	pcap_source_close(ps);
	return r;
}

const char *pcap_source_error(const struct pcap_source *ps)
{
	return ps && ps->pc ? pcap_geterr(ps->pc) : "";
}

const struct pcap_source_stats *pcap_source_stats(const struct pcap_source *ps)
{
	return &ps->st;
}

void pcap_source_close(struct pcap_source *ps)
{
	if (!ps)
		return;
	if (ps->pc)
		pcap_close(ps->pc);
	free(ps->buckets);
	free(ps->flows);
	free(ps);
}
