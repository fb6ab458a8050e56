// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/pcap_source.c (the --pcap reader).
 *
 * Each case is a list of TCP exchanges between a client and a server,
 * written here byte by byte (link header, IPv4/IPv6, TCP) into a pcap file
 * through libpcap's dumper, for every link type and IP version it applies
 * to, then read back. The recorder turns the records into tokens
 *
 *   O1 c:40000>s:80         L7_CONN_OPEN of cookie 1, local > remote
 *   E1 1001 5/5 hello       L7_DATA egress (I: ingress), seq, seg_len/cap_len
 *                           (T: L7_F_TRUNCATED), the first captured bytes
 *   C1 5/6                  L7_CONN_CLOSE, bytes_sent/bytes_received
 *
 * and checks every record with l7_account() (the processor's own record
 * validation) and the fields it does not print (zeroed pid, comm, cgroup,
 * padding; L7_F_IPV6; role; cookies opened once and closed once). Every
 * case is also read from every prefix of its file: open fails or the run
 * ends at the cut (-EIO unless the cut falls between packets), the records
 * before the cut are those of the whole file, and every flow is closed.
 */
#include <check.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <pcap/pcap.h>

#include "bpf/l7.h"
#include "processor/l7events.h"
#include "processor/pcap_source.h"

Suite *pcap_source_suite(void);

#define T0_NS       (1700000000ull * 1000000000ull) /* first packet's time */
#define STEP_NS     1000000ull                      /* 1 ms between packets */
#define SNAP_FULL   262144                          /* libpcap's largest snap length */
#define FRAME_MAX   (96 * 1024)
#define BIG_PAYLOAD 70000 /* more than an IP length field can say */
#define TEXT_MAX    8192
#define TOKEN_MAX   160
#define SHOW_BYTES  16 /* payload bytes printed per data token */
#define COOKIES_MAX (2u * PCAP_FLOWS_MAX + 16)
#define FILE_HDR    24 /* pcap file header */
#define REC_HDR     16 /* pcap record header */
#define F_FIN       0x01
#define F_SYN       0x02
#define F_RST       0x04
#define F_PSH       0x08
#define F_ACK       0x10
#define V4          1
#define V6          2
#define C2S         0
#define S2C         1

enum link {
	LK_ETH,
	LK_VLAN1,
	LK_VLAN2,
	LK_SLL,
	LK_SLL2,
	LK_NULL_LE,
	LK_NULL_BE,
	LK_LOOP,
	LK_RAW,
	LK_IP,
	LINKS
};
#define ALL_LINKS   ((1u << LINKS) - 1)
#define ETHER_LINKS (ALL_LINKS & ~((1u << LK_RAW) | (1u << LK_IP))) /* can say "not IP" */

static const struct {
	const char *name;
	int dlt; /* LK_IP: DLT_IPV4 or DLT_IPV6 by family */
	uint32_t hdr;
} links[LINKS] = {
	[LK_ETH] = { "ether", DLT_EN10MB, 14 },     [LK_VLAN1] = { "vlan", DLT_EN10MB, 18 },
	[LK_VLAN2] = { "qinq", DLT_EN10MB, 22 },    [LK_SLL] = { "sll", DLT_LINUX_SLL, 16 },
	[LK_SLL2] = { "sll2", DLT_LINUX_SLL2, 20 }, [LK_NULL_LE] = { "null-le", DLT_NULL, 4 },
	[LK_NULL_BE] = { "null-be", DLT_NULL, 4 },  [LK_LOOP] = { "loop", DLT_LOOP, 4 },
	[LK_RAW] = { "raw", DLT_RAW, 0 },           [LK_IP] = { "ipv4/6", DLT_IPV4, 0 },
};

enum kind {
	TP_TCP,      /* a TCP segment */
	TP_UDP,      /* UDP datagram */
	TP_ICMP,     /* ICMP / ICMPv6 */
	TP_ARP,      /* not IP (an unknown family on loopback links) */
	TP_FRAG_MF,  /* first fragment of a TCP segment */
	TP_FRAG_OFF, /* a later fragment */
	TP_EXT,      /* IPv4 options, IPv6 hop-by-hop + routing + destination options */
	TP_EXT9,     /* IPv6: PCAP_IPV6_EXT_MAX + 1 destination options headers */
	TP_TCPOPT,   /* 12 bytes of TCP options */
	TP_JUMBO,    /* IP length 0 (BIG TCP) */
	TP_VLAN3,    /* Ethernet with three tags */
};

struct tpkt {
	uint8_t from;  /* C2S, S2C */
	uint8_t flags; /* TCP flags */
	uint8_t kind;  /* enum kind */
	uint8_t flow;  /* 1: the client's second port */
	uint32_t seq, ack;
	const char *data;   /* payload, or NULL: */
	uint32_t len;       /* this many pattern bytes */
	uint16_t patch_at;  /* 1 + offset from the IP header (or TCP header if at_l4) */
	uint16_t patch_val; /* byte, or big-endian 16 bits if wide */
	bool at_l4, wide;
	bool cutting; /* the frame ends @cut bytes after the link header (< 0: inside it) */
	int cut;
	int64_t wire_extra; /* added to the wire length of the frame */
	uint8_t pad;        /* bytes after the IP packet (Ethernet pads to 60) */
};

struct tcase {
	const char *name;
	unsigned families; /* V4 | V6 */
	unsigned links;    /* bit per enum link */
	uint16_t cport, sport;
	bool snapped; /* snap length: link + IP + TCP headers + keep */
	int keep;
	uint32_t capture_bytes;
	const struct tpkt *pkts;
	size_t n;
	const char *expect;
	const char *stats; /* nonzero counters, see stats_text() */
};

#define PKTS(a) a, sizeof(a) / sizeof(a[0])

/* ---- building capture files --------------------------------------------- */

static const uint8_t addr4[2][4] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
static const uint8_t addr6[2][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
};
static char dir[64]; /* mkdtemp() result */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)('a' + i % 26);
}

static uint32_t ether_tags(uint8_t *b, int tags, uint16_t etype)
{
	static const uint16_t tpid[] = { 0x88a8, 0x8100, 0x8100 };
	uint32_t n = 12;

	memset(b, 0x02, 12); /* locally administered MACs */
	for (int i = 0; i < tags; i++, n += 4) {
		put16(b + n, tags == 1 ? 0x8100 : tpid[i]);
		put16(b + n + 2, (uint16_t)(100 + i)); /* VLAN id */
	}
	put16(b + n, etype);
	return n + 2;
}

static uint32_t put_link(enum link lk, int family, const struct tpkt *t, uint8_t *b)
{
	uint16_t et = t->kind == TP_ARP ? 0x0806 : family == AF_INET ? 0x0800 : 0x86dd;
	uint32_t af = t->kind == TP_ARP ? 99 : family == AF_INET ? 2 : 0;

	switch (lk) {
	case LK_ETH:
		return ether_tags(b, t->kind == TP_VLAN3 ? 3 : 0, et);
	case LK_VLAN1:
		return ether_tags(b, 1, et);
	case LK_VLAN2:
		return ether_tags(b, 2, et);
	case LK_SLL:
		memset(b, 0, 16);
		put16(b + 2, 1); /* ARPHRD_ETHER */
		put16(b + 4, 6);
		memset(b + 6, 0x02, 6);
		put16(b + 14, et);
		return 16;
	case LK_SLL2:
		memset(b, 0, 20);
		put16(b, et);
		put32(b + 4, 2); /* interface index */
		put16(b + 8, 1);
		b[11] = 6;
		memset(b + 12, 0x02, 6);
		return 20;
	case LK_NULL_LE: /* written on a little-endian macOS: AF_INET6 30 */
		af = af ? af : 30;
		memcpy(b, &(uint8_t[4]){ (uint8_t)af, 0, 0, 0 }, 4);
		return 4;
	case LK_NULL_BE: /* written on a big-endian NetBSD: AF_INET6 24 */
		put32(b, af ? af : 24);
		return 4;
	case LK_LOOP: /* OpenBSD: network order, AF_INET6 24; FreeBSD 28 would do too */
		put32(b, af ? af : 28);
		return 4;
	default:
		return 0;
	}
}

static uint32_t put_payload(const struct tpkt *t, uint8_t *b)
{
	if (t->data) {
		memcpy(b, t->data, strlen(t->data));
		return (uint32_t)strlen(t->data);
	}
	for (uint32_t i = 0; i < t->len; i++)
		b[i] = pattern(i);
	return t->len;
}

static uint32_t put_tcp(const struct tcase *tc, const struct tpkt *t, uint8_t *b)
{
	uint16_t cport = (uint16_t)((tc->cport ? tc->cport : 40000) + t->flow);
	uint16_t sport = tc->sport ? tc->sport : 80;
	uint32_t doff = t->kind == TP_TCPOPT ? 32 : 20;

	memset(b, 0, doff);
	put16(b, t->from == C2S ? cport : sport);
	put16(b + 2, t->from == C2S ? sport : cport);
	put32(b + 4, t->seq);
	put32(b + 8, t->ack);
	b[12] = (uint8_t)(doff / 4 << 4);
	b[13] = t->flags;
	put16(b + 14, 65535);
	if (doff > 20) /* NOP NOP timestamps */
		memcpy(b + 20, (uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12);
	return doff + put_payload(t, b + doff);
}

static uint32_t put_l4(const struct tcase *tc, const struct tpkt *t, uint8_t *b)
{
	if (t->kind == TP_UDP || t->kind == TP_ICMP) {
		memset(b, 0, 8);
		put16(b + 4, 8);
		return 8;
	}
	return put_tcp(tc, t, b);
}

static uint8_t l4_proto(const struct tpkt *t, int family)
{
	if (t->kind == TP_UDP)
		return 17;
	if (t->kind == TP_ICMP)
		return family == AF_INET ? 1 : 58;
	return 6;
}

static uint32_t put_ipv4(const struct tpkt *t, uint32_t l4len, uint8_t *b)
{
	uint32_t hl = t->kind == TP_EXT ? 24 : 20;
	uint16_t frag = t->kind == TP_FRAG_MF ? 0x2000 : t->kind == TP_FRAG_OFF ? 185 : 0x4000;

	memset(b, 0, hl);
	b[0] = (uint8_t)(0x40 | hl / 4);
	put16(b + 2, t->kind == TP_JUMBO ? 0 : (uint16_t)(hl + l4len));
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = l4_proto(t, AF_INET);
	memcpy(b + 12, addr4[t->from], 4);
	memcpy(b + 16, addr4[!t->from], 4);
	if (hl > 20)
		memset(b + 20, 1, 4); /* NOP options */
	return hl;
}

/* IPv6 extension headers of @t, ending in next header @last; their length. */
static uint32_t put_ext6(const struct tpkt *t, uint8_t last, uint8_t *b, uint8_t *first)
{
	static const uint8_t ext[] = { 0, 43, 60 }; /* hop-by-hop, routing, destination */
	int n = t->kind == TP_EXT ? 3 : t->kind == TP_EXT9 ? PCAP_IPV6_EXT_MAX + 1 : 0;
	uint32_t len = 0;

	if (t->kind == TP_FRAG_MF || t->kind == TP_FRAG_OFF) {
		*first = 44;
		memset(b, 0, 8);
		b[0] = last;
		put16(b + 2, t->kind == TP_FRAG_MF ? 1 : 185 << 3);
		return 8;
	}
	*first = n ? (t->kind == TP_EXT ? ext[0] : 60) : last;
	for (int i = 0; i < n; i++, len += 8) {
		memset(b + len, 0, 8);
		b[len] = i + 1 < n ? (t->kind == TP_EXT ? ext[i + 1] : 60) : last;
		b[len + 2] = 1; /* PadN option filling the header */
		b[len + 3] = 4;
	}
	return len;
}

static uint32_t put_ipv6(const struct tpkt *t, uint32_t l4len, uint8_t *b)
{
	uint8_t first;
	uint32_t el = put_ext6(t, l4_proto(t, AF_INET6), b + 40, &first);

	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, t->kind == TP_JUMBO ? 0 : (uint16_t)(el + l4len));
	b[6] = first;
	b[7] = 64;
	memcpy(b + 8, addr6[t->from], 16);
	memcpy(b + 24, addr6[!t->from], 16);
	return 40 + el;
}

static void patch(const struct tpkt *t, uint8_t *ip, uint8_t *l4)
{
	uint8_t *p = (t->at_l4 ? l4 : ip) + t->patch_at - 1;

	if (!t->patch_at)
		return;
	if (t->wide)
		put16(p, t->patch_val);
	else
		*p = (uint8_t)t->patch_val;
}

/* The frame of @t; its length, and the link header's in @lhdr. */
static uint32_t build(const struct tcase *tc, int family, enum link lk, const struct tpkt *t,
                      uint8_t *b, uint32_t *lhdr)
{
	static uint8_t l4[FRAME_MAX];
	uint32_t n = put_link(lk, family, t, b), l4len, iplen;

	*lhdr = n;
	if (t->kind == TP_ARP) {
		memset(b + n, 0, 28);
		return n + 28;
	}
	l4len = put_l4(tc, t, l4);
	iplen = family == AF_INET ? put_ipv4(t, l4len, b + n) : put_ipv6(t, l4len, b + n);
	memcpy(b + n + iplen, l4, l4len);
	patch(t, b + n, b + n + iplen);
	memset(b + n + iplen + l4len, 0xee, t->pad);
	return n + iplen + l4len + t->pad;
}

static int dlt_of(enum link lk, int family)
{
	if (lk == LK_IP)
		return family == AF_INET ? DLT_IPV4 : DLT_IPV6;
	return links[lk].dlt;
}

static int snaplen_of(const struct tcase *tc, int family, enum link lk)
{
	if (!tc->snapped)
		return SNAP_FULL;
	return (int)links[lk].hdr + (family == AF_INET ? 20 : 40) + 20 + tc->keep;
}

static void dump(pcap_dumper_t *d, u_int prec, uint64_t ts, const uint8_t *b, uint32_t len,
                 uint32_t caplen, int64_t wire_extra)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = (bpf_u_int32)(len + wire_extra) };

	h.ts.tv_sec = (time_t)(ts / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ts % 1000000000ull);
	if (prec == PCAP_TSTAMP_PRECISION_MICRO)
		h.ts.tv_usec /= 1000;
	pcap_dump((u_char *)d, &h, b);
}

static void write_case(const char *path, const struct tcase *tc, int family, enum link lk,
                       u_int prec)
{
	static uint8_t b[FRAME_MAX];
	int snap = snaplen_of(tc, family, lk);
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt_of(lk, family), snap, prec);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;

	ck_assert_msg(d, "pcap_dump_open %s", path);
	for (size_t i = 0; i < tc->n; i++) {
		const struct tpkt *t = &tc->pkts[i];
		uint32_t lhdr, len = build(tc, family, lk, t, b, &lhdr);

		if (t->cutting) {
			ck_assert_int_lt((int)lhdr + t->cut, (int)len);
			len = (uint32_t)((int)lhdr + t->cut < 0 ? 0 : (int)lhdr + t->cut);
		}
		dump(d, prec, T0_NS + i * STEP_NS + i /* ns: lost in µs files */, b, len,
		     len < (uint32_t)snap ? len : (uint32_t)snap, t->wire_extra);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* ---- recording ---------------------------------------------------------- */

struct recorder {
	int family;
	bool show_ts; /* append @packet index (closes: <first packet index) */
	bool no_close;
	uint64_t skip, limit; /* print only records skip+1 .. skip+limit (limit 0: all) */
	uint64_t fail_at;     /* return -ECANCELED from this record on */
	uint64_t n, bad, opens, closes, data, last_cookie, last_ts;
	struct l7_ctx l7;
	char why[TOKEN_MAX];        /* the first bad record */
	uint8_t state[COOKIES_MAX]; /* 0 never opened, 1 open, 2 closed */
	char text[TEXT_MAX];
	size_t len;
};

static struct recorder rec;

static void rec_init(int family)
{
	memset(&rec, 0, sizeof(rec));
	rec.family = family;
}

static void append(const char *tok)
{
	size_t n = strlen(tok);

	if (rec.len + n + 4 >= sizeof(rec.text))
		return;
	if (rec.len)
		rec.len += (size_t)sprintf(rec.text + rec.len, " | ");
	memcpy(rec.text + rec.len, tok, n + 1);
	rec.len += n;
}

static void endpoint(const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	size_t alen = rec.family == AF_INET ? 4 : 16;
	const uint8_t *c = rec.family == AF_INET ? addr4[0] : addr6[0];
	const uint8_t *s = rec.family == AF_INET ? addr4[1] : addr6[1];
	char ip[INET6_ADDRSTRLEN] = "?";

	if (!memcmp(addr, c, alen) || !memcmp(addr, s, alen))
		snprintf(buf, len, "%c:%u", memcmp(addr, c, alen) ? 's' : 'c', port);
	else
		snprintf(buf, len, "%s:%u", inet_ntop(rec.family, addr, ip, sizeof(ip)), port);
}

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void bad(const char *why)
{
	if (!rec.bad++)
		snprintf(rec.why, sizeof(rec.why), "record %llu: %s", (unsigned long long)rec.n,
		         why);
}

/* What l7_account() does not check, and what a pcap record must look like. */
static void check_common(const struct l7_hdr *h, const struct l7_tuple *t)
{
	if (h->pid || h->pad || h->cgroup_id || !zero(h->comm, sizeof(h->comm)) || t->pad)
		bad("nonzero pid/comm/cgroup/padding");
	if (t->family != rec.family || !!(h->flags & L7_F_IPV6) != (rec.family == AF_INET6))
		bad("family or L7_F_IPV6");
	if (rec.family == AF_INET &&
	    (!zero(t->local_addr + 4, 12) || !zero(t->remote_addr + 4, 12)))
		bad("IPv4 address tail");
	if (!h->cookie || h->cookie >= COOKIES_MAX)
		bad("cookie");
}

static void conn_token(const struct l7_conn *c, char *tok)
{
	char l[64], r[64];
	uint64_t ck = c->hdr.cookie;

	endpoint(c->tuple.local_addr, c->tuple.local_port, l, sizeof(l));
	endpoint(c->tuple.remote_addr, c->tuple.remote_port, r, sizeof(r));
	if (c->role != L7_ROLE_CLIENT || c->pad || (c->hdr.flags & ~L7_F_IPV6))
		bad("role, pad or flags");
	if (c->hdr.kind == L7_CONN_OPEN) {
		if (ck != rec.last_cookie + 1 || c->start_boot_ns != c->hdr.ts_boot_ns ||
		    c->bytes_sent || c->bytes_received)
			bad("open: cookie order, start time or bytes");
		rec.last_cookie = ck;
		rec.opens++;
		rec.state[ck % COOKIES_MAX] = 1;
		snprintf(tok, TOKEN_MAX, "O%llu %s>%s", (unsigned long long)ck, l, r);
	} else {
		if (rec.state[ck % COOKIES_MAX] != 1 || c->hdr.ts_boot_ns < c->start_boot_ns)
			bad("close of a flow not open, or before its start");
		rec.closes++;
		rec.state[ck % COOKIES_MAX] = 2;
		snprintf(tok, TOKEN_MAX, "C%llu %llu/%llu", (unsigned long long)ck,
		         (unsigned long long)c->bytes_sent, (unsigned long long)c->bytes_received);
	}
	if (rec.show_ts)
		snprintf(tok + strlen(tok), TOKEN_MAX - strlen(tok), "@%llu<%llu",
		         (unsigned long long)((c->hdr.ts_boot_ns - T0_NS) / STEP_NS),
		         (unsigned long long)((c->start_boot_ns - T0_NS) / STEP_NS));
}

static void data_token(const struct l7_data *d, char *tok)
{
	const uint8_t *p = (const uint8_t *)(d + 1);
	size_t n;

	if (rec.state[d->hdr.cookie % COOKIES_MAX] != 1)
		bad("data of a flow not open");
	if (!!(d->hdr.flags & L7_F_TRUNCATED) != (d->cap_len < d->seg_len))
		bad("L7_F_TRUNCATED");
	rec.data++;
	n = (size_t)snprintf(tok, TOKEN_MAX, "%c%llu %u %u/%u%s", d->dir == L7_EGRESS ? 'E' : 'I',
	                     (unsigned long long)d->hdr.cookie, d->seq, d->seg_len, d->cap_len,
	                     d->hdr.flags & L7_F_TRUNCATED ? "T" : "");
	if (d->cap_len)
		tok[n++] = ' ';
	for (uint32_t i = 0; i < d->cap_len && i < SHOW_BYTES; i++)
		tok[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	if (d->cap_len > SHOW_BYTES)
		tok[n++] = '~';
	tok[n] = 0;
	if (rec.show_ts)
		snprintf(tok + n, TOKEN_MAX - n, "@%llu",
		         (unsigned long long)((d->hdr.ts_boot_ns - T0_NS) / STEP_NS));
}

static int record(void *ctx, const void *r, uint32_t len)
{
	const struct l7_hdr *h = r;
	char tok[TOKEN_MAX] = "";
	int kind = l7_account(&rec.l7, r, len);

	(void)ctx;
	rec.n++;
	rec.last_ts = h->ts_boot_ns;
	if (kind != L7_CONN_OPEN && kind != L7_CONN_CLOSE && kind != L7_DATA) {
		bad("refused by l7_account");
		return 0;
	}
	check_common(h, &((const struct l7_conn *)r)->tuple);
	if (kind == L7_DATA)
		data_token(r, tok);
	else
		conn_token(r, tok);
	if (rec.n > rec.skip && (!rec.limit || rec.n <= rec.skip + rec.limit) &&
	    !(rec.no_close && kind == L7_CONN_CLOSE))
		append(tok);
	return rec.fail_at && rec.n >= rec.fail_at ? -ECANCELED : 0;
}

/* Nonzero counters: "pk=8 tcp=8 flows=1". */
static void stats_text(const struct pcap_source_stats *s, char *buf, size_t len)
{
	const struct {
		const char *name;
		uint64_t v;
	} f[] = {
		{ "pk", s->packets },
		{ "tcp", s->tcp_segments },
		{ "nontcp", s->non_tcp },
		{ "nonip", s->non_ip },
		{ "frag", s->fragments },
		{ "trunc", s->truncated },
		{ "bad", s->malformed },
		{ "flows", s->flows },
		{ "untracked", s->flows_untracked },
	};
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].v && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s=%llu", n ? " " : "",
			                      f[i].name, (unsigned long long)f[i].v);
}

static void check_partition(const struct pcap_source_stats *s)
{
	ck_assert_uint_eq(s->packets,
	                  s->tcp_segments + s->non_tcp + s->non_ip + s->fragments + s->malformed);
}

static void path_in_dir(char *path, const char *name)
{
	snprintf(path, PATH_MAX, "%s/%s", dir, name);
}

/* Read @path into the recorder: pcap_source_run()'s result, stats in @st. */
static int read_file(const char *path, uint32_t capture_bytes, char *st, size_t stlen)
{
	struct pcap_source *ps;
	char err[512];
	int r = pcap_source_open(&ps, path, err, sizeof(err));

	ck_assert_msg(r == 0, "open %s: %d %s", path, r, err);
	r = pcap_source_run(ps, record, NULL, capture_bytes);
	if (st)
		stats_text(pcap_source_stats(ps), st, stlen);
	check_partition(pcap_source_stats(ps));
	pcap_source_close(ps);
	return r;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_pcap.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* The directory holds only the files the tests wrote: no subdirectories. */
static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ck_assert_int_eq(unlinkat(dirfd(d), e->d_name, 0), 0);
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* ---- the exchanges ------------------------------------------------------ */

static const struct tpkt exchange[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1001 },
	{ C2S, F_ACK, .seq = 1001, .ack = 5001 },
	{ C2S, F_PSH | F_ACK, .seq = 1001, .ack = 5001, .data = "hello" },
	{ S2C, F_PSH | F_ACK, .seq = 5001, .ack = 1006, .data = "world!" },
	{ C2S, F_FIN | F_ACK, .seq = 1006, .ack = 5007 },
	{ S2C, F_FIN | F_ACK, .seq = 5007, .ack = 1007 },
	{ C2S, F_ACK, .seq = 1007, .ack = 5008 },
};
#define EXCHANGE "O1 c:40000>s:80 | E1 1001 5/5 hello | I1 5001 6/6 world! | C1 5/6"

/* Sent out of order, one retransmitted: emitted as they come. */
static const struct tpkt reordered[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1001 },
	{ C2S, F_ACK, .seq = 1006, .data = "world" },
	{ C2S, F_ACK, .seq = 1001, .data = "hello" },
	{ C2S, F_ACK, .seq = 1001, .data = "hello" },
	{ S2C, F_ACK, .seq = 5001, .ack = 1011 },
	{ C2S, F_FIN | F_ACK, .seq = 1011 },
	{ S2C, F_FIN | F_ACK, .seq = 5001 },
};

/* Two connections interleaved; the one idle longest is closed first at the end. */
static const struct tpkt two_flows[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ C2S, F_SYN, .flow = 1, .seq = 2000 },
	{ C2S, F_ACK, .seq = 1001, .data = "a1" },
	{ C2S, F_ACK, .flow = 1, .seq = 2001, .data = "b1" },
	{ S2C, F_ACK, .flow = 1, .seq = 6001, .data = "B1" },
	{ S2C, F_ACK, .seq = 5001, .data = "A1" },
};

/* The capture started after the handshake: the lower port is the server's. */
static const struct tpkt no_syn[] = {
	{ S2C, F_ACK, .seq = 5001, .data = "resp" },
	{ C2S, F_ACK, .seq = 1001, .data = "req" },
};

static const struct tpkt no_syn_client_first[] = {
	{ C2S, F_ACK, .seq = 1001, .data = "Q" },
	{ S2C, F_ACK, .seq = 5001, .data = "R" },
};

/* The SYN was lost: the SYN-ACK's receiver is the client; the SYN sent again is no new flow. */
static const struct tpkt synack_first[] = {
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1001 },
	{ C2S, F_SYN, .seq = 1000 },
	{ C2S, F_ACK, .seq = 1001, .data = "hi" },
};

/* Stray RST; refused connection; retried; reset by the client (its payload is not data). */
static const struct tpkt resets[] = {
	{ S2C, F_RST, .seq = 9 },
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_RST | F_ACK, .ack = 1001 },
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_SYN | F_ACK, .seq = 7000, .ack = 1001 },
	{ C2S, F_ACK, .seq = 1001, .data = "x" },
	{ C2S, F_RST, .seq = 1002, .data = "diag" },
	{ C2S, F_ACK, .seq = 1002 },
};

/* After FINs both ways: the last ACK and retransmissions open nothing. */
static const struct tpkt closed_tail[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1001 },
	{ C2S, F_ACK, .seq = 1001, .data = "hello" },
	{ C2S, F_FIN | F_ACK, .seq = 1006 },
	{ S2C, F_FIN | F_ACK, .seq = 5001, .ack = 1007 },
	{ C2S, F_ACK, .seq = 1007, .ack = 5002 },
	{ C2S, F_FIN | F_ACK, .seq = 1006, .data = "late" },
	{ S2C, F_ACK, .seq = 5002, .data = "late" },
};

/* The same ports again, the end of the first connection not captured. */
static const struct tpkt port_reuse[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1001 },
	{ C2S, F_ACK, .seq = 1001, .data = "one" },
	{ C2S, F_SYN, .seq = 9000 },
	{ S2C, F_SYN | F_ACK, .seq = 3000, .ack = 9001 },
	{ C2S, F_ACK, .seq = 9001, .data = "two" },
};

/* TCP Fast Open: the SYN's payload starts one past its sequence number. */
static const struct tpkt syn_data[] = {
	{ C2S, F_SYN, .seq = 1000, .data = "fast" },
	{ S2C, F_SYN | F_ACK, .seq = 5000, .ack = 1005 },
};

static const struct tpkt long_data[] = {
	{ C2S, F_SYN, .seq = 1000 },
	{ C2S, F_ACK, .seq = 1001, .len = 100 },
};

static const struct tpkt one_data[] = {
	{ C2S, F_ACK, .seq = 1001, .data = "hello" },
};

static const struct tpkt tcp_options[] = {
	{ C2S, F_ACK, .kind = TP_TCPOPT, .seq = 1001, .data = "hello" },
};

static const struct tpkt big_tcp[] = {
	{ C2S, F_ACK, .kind = TP_JUMBO, .seq = 1001, .len = BIG_PAYLOAD },
};

/* A frame that says it was 300000 bytes long of which 100 were captured. */
static const struct tpkt big_wire[] = {
	{ C2S, F_ACK, .kind = TP_JUMBO, .seq = 1001, .len = 100, .wire_extra = 300000 },
	{ C2S, F_ACK, .seq = 1101, .data = "hello", .wire_extra = 1000 },
};

static const struct tpkt fragments[] = {
	{ C2S, F_ACK, .kind = TP_FRAG_MF, .seq = 1001, .data = "frag" },
	{ C2S, F_ACK, .kind = TP_FRAG_OFF, .seq = 1001, .data = "ment" },
	{ C2S, F_ACK, .seq = 1001, .data = "ok" },
};

static const struct tpkt not_tcp[] = {
	{ C2S, 0, .kind = TP_UDP },
	{ C2S, 0, .kind = TP_ICMP },
	{ C2S, F_ACK, .seq = 1001, .data = "ok" },
};

static const struct tpkt not_ip[] = {
	{ C2S, 0, .kind = TP_ARP },
	{ C2S, F_ACK, .seq = 1001, .data = "ok" },
};

/* Link-layer padding after the IP packet is not payload. */
static const struct tpkt padded[] = {
	{ C2S, F_SYN, .seq = 1000, .pad = 6 },
	{ C2S, F_ACK, .seq = 1001, .data = "hi", .pad = 4 },
};

static const struct tpkt ext_headers[] = {
	{ C2S, F_ACK, .kind = TP_EXT, .seq = 1001, .data = "ext" },
};

#define OPEN1 "O1 c:40000>s:80"
static const struct tcase cases[] = {
	{ "exchange", V4 | V6, ALL_LINKS, .pkts = PKTS(exchange), .expect = EXCHANGE,
	  .stats = "pk=8 tcp=8 flows=1" },
	{ "reordered", V4 | V6, ALL_LINKS, .pkts = PKTS(reordered),
	  .expect = OPEN1 " | E1 1006 5/5 world | E1 1001 5/5 hello | E1 1001 5/5 hello | C1 15/0",
	  .stats = "pk=8 tcp=8 flows=1" },
	{ "two flows", V4 | V6, ALL_LINKS, .pkts = PKTS(two_flows),
	  .expect = OPEN1 " | O2 c:40001>s:80 | E1 1001 2/2 a1 | E2 2001 2/2 b1 | I2 6001 2/2 B1 | "
	                  "I1 5001 2/2 A1 | C2 2/2 | C1 2/2",
	  .stats = "pk=6 tcp=6 flows=2" },
	{ "no syn", V4 | V6, ALL_LINKS, .pkts = PKTS(no_syn),
	  .expect = OPEN1 " | I1 5001 4/4 resp | E1 1001 3/3 req | C1 3/4",
	  .stats = "pk=2 tcp=2 flows=1" },
	{ "no syn, high ports", V4 | V6, ALL_LINKS, 50000, 5432, .pkts = PKTS(no_syn_client_first),
	  .expect = "O1 c:50000>s:5432 | E1 1001 1/1 Q | I1 5001 1/1 R | C1 1/1",
	  .stats = "pk=2 tcp=2 flows=1" },
	{ "no syn, client on the lower port", V4 | V6, ALL_LINKS, 1000, 2000,
	  .pkts = PKTS(no_syn_client_first),
	  .expect = "O1 s:2000>c:1000 | I1 1001 1/1 Q | E1 5001 1/1 R | C1 1/1",
	  .stats = "pk=2 tcp=2 flows=1" },
	{ "syn-ack first", V4 | V6, ALL_LINKS, .pkts = PKTS(synack_first),
	  .expect = OPEN1 " | E1 1001 2/2 hi | C1 2/0", .stats = "pk=3 tcp=3 flows=1" },
	{ "resets", V4 | V6, ALL_LINKS, .pkts = PKTS(resets),
	  .expect = OPEN1 " | C1 0/0 | O2 c:40000>s:80 | E2 1001 1/1 x | C2 1/0",
	  .stats = "pk=8 tcp=8 flows=2" },
	{ "closed tail", V4 | V6, ALL_LINKS, .pkts = PKTS(closed_tail),
	  .expect = OPEN1 " | E1 1001 5/5 hello | C1 5/0", .stats = "pk=8 tcp=8 flows=1" },
	{ "port reuse", V4 | V6, ALL_LINKS, .pkts = PKTS(port_reuse),
	  .expect =
	          OPEN1 " | E1 1001 3/3 one | C1 3/0 | O2 c:40000>s:80 | E2 9001 3/3 two | C2 3/0",
	  .stats = "pk=6 tcp=6 flows=2" },
	{ "syn with data", V4 | V6, ALL_LINKS, .pkts = PKTS(syn_data),
	  .expect = OPEN1 " | E1 1001 4/4 fast | C1 4/0", .stats = "pk=2 tcp=2 flows=1" },
	{ "snap length", V4 | V6, ALL_LINKS, .snapped = true, .keep = 6, .pkts = PKTS(long_data),
	  .expect = OPEN1 " | E1 1001 100/6T abcdef | C1 100/0",
	  .stats = "pk=2 tcp=2 trunc=1 flows=1" },
	{ "snap length: headers only", V4 | V6, ALL_LINKS, .snapped = true, .keep = 0,
	  .pkts = PKTS(long_data), .expect = OPEN1 " | E1 1001 100/0T | C1 100/0",
	  .stats = "pk=2 tcp=2 trunc=1 flows=1" },
	{ "snap length: TCP header cut", V4 | V6, ALL_LINKS, .snapped = true, .keep = -10,
	  .pkts = PKTS(long_data), .expect = "", .stats = "pk=2 trunc=2 bad=2" },
	{ "snap length: TCP options cut", V4 | V6, ALL_LINKS, .snapped = true, .keep = 6,
	  .pkts = PKTS(tcp_options), .expect = OPEN1 " | E1 1001 5/0T | C1 5/0",
	  .stats = "pk=1 tcp=1 trunc=1 flows=1" },
	{ "capture bytes", V4 | V6, ALL_LINKS, .capture_bytes = 4, .pkts = PKTS(one_data),
	  .expect = OPEN1 " | E1 1001 5/4T hell | C1 5/0", .stats = "pk=1 tcp=1 flows=1" },
	{ "tcp options", V4 | V6, ALL_LINKS, .pkts = PKTS(tcp_options),
	  .expect = OPEN1 " | E1 1001 5/5 hello | C1 5/0", .stats = "pk=1 tcp=1 flows=1" },
	{ "padded frames", V4 | V6, ALL_LINKS, .pkts = PKTS(padded),
	  .expect = OPEN1 " | E1 1001 2/2 hi | C1 2/0", .stats = "pk=2 tcp=2 flows=1" },
	{ "ip options, extension headers", V4 | V6, ALL_LINKS, .pkts = PKTS(ext_headers),
	  .expect = OPEN1 " | E1 1001 3/3 ext | C1 3/0", .stats = "pk=1 tcp=1 flows=1" },
	{ "big tcp", V4 | V6, ALL_LINKS, .pkts = PKTS(big_tcp),
	  .expect = OPEN1 " | E1 1001 70000/1024T abcdefghijklmnop~ | C1 70000/0",
	  .stats = "pk=1 tcp=1 flows=1" },
	{ "big wire length", V4 | V6, ALL_LINKS, .pkts = PKTS(big_wire),
	  .expect = OPEN1 " | E1 1001 300100/100T abcdefghijklmnop~ | E1 1101 5/5 hello | "
	                  "C1 300105/0",
	  .stats = "pk=2 tcp=2 trunc=2 flows=1" },
	{ "fragments", V4 | V6, ALL_LINKS, .pkts = PKTS(fragments),
	  .expect = OPEN1 " | E1 1001 2/2 ok | C1 2/0", .stats = "pk=3 tcp=1 frag=2 flows=1" },
	{ "not tcp", V4 | V6, ALL_LINKS, .pkts = PKTS(not_tcp),
	  .expect = OPEN1 " | E1 1001 2/2 ok | C1 2/0", .stats = "pk=3 tcp=1 nontcp=2 flows=1" },
	{ "not ip", V4 | V6, ETHER_LINKS, .pkts = PKTS(not_ip),
	  .expect = OPEN1 " | E1 1001 2/2 ok | C1 2/0", .stats = "pk=2 tcp=1 nonip=1 flows=1" },
};

/* ---- malformed packets: one each, nothing emitted ----------------------- */

#define PATCH(off, v)     .patch_at = (off) + 1, .patch_val = (v)
#define PATCH16(off, v)   PATCH(off, v), .wide = true
#define PATCH_TCP(off, v) PATCH(off, v), .at_l4 = true
#define CUT(n)            .cutting = true, .cut = (n)
#define BADX(name, fam, lk, st, ...)                                                               \
	{                                                                                          \
		name, fam, lk,                                                                     \
		        .pkts = (const struct tpkt[]){ { C2S, F_ACK, .seq = 1001, .data = "hello", \
			                                 __VA_ARGS__ } },                          \
		        .n = 1, .expect = "", .stats = st                                          \
	}
#define BAD(name, fam, lk, ...) BADX(name, fam, lk, "pk=1 bad=1", __VA_ARGS__)

static const struct tcase malformed[] = {
	BAD("ipv4 header length 16", V4, ALL_LINKS, PATCH(0, 0x44)),
	BAD("ipv4 header length 60 > packet", V4, ALL_LINKS, PATCH(0, 0x4f)),
	BAD("ipv4 total length < header", V4, ALL_LINKS, PATCH16(2, 16)),
	BAD("ipv4 total length > frame", V4, ALL_LINKS, PATCH16(2, 0xffff)),
	BAD("ipv4 total length > frame by one", V4, ALL_LINKS, PATCH16(2, 46)),
	BAD("ip version 5", V4 | V6, ALL_LINKS, PATCH(0, 0x55)),
	BAD("ipv6 payload length > frame", V6, ALL_LINKS, PATCH16(4, 0xffff)),
	BAD("ipv6 payload length > frame by one", V6, ALL_LINKS, PATCH16(4, 26)),
	BAD("ipv6 extension header past the end", V6, ALL_LINKS, .kind = TP_EXT, PATCH(41, 200)),
	BAD("ipv6 too many extension headers", V6, ALL_LINKS, .kind = TP_EXT9),
	BAD("tcp data offset 4", V4 | V6, ALL_LINKS, PATCH_TCP(12, 0x40)),
	BAD("tcp data offset 60 > segment", V4 | V6, ALL_LINKS, PATCH_TCP(12, 0xf0)),
	BAD("frame inside the link header", V4 | V6, ALL_LINKS, CUT(-2)),
	BAD("frame ends after the link header", V4 | V6, ALL_LINKS, CUT(0)),
	BAD("frame inside the ip header", V4 | V6, ALL_LINKS, CUT(19)),
	BAD("frame inside the tcp header", V4, ALL_LINKS, CUT(30)),
	BAD("frame inside the tcp header", V6, ALL_LINKS, CUT(50)),
	BADX("ipv4 big tcp beyond the jumbo limit", V4, ALL_LINKS, "pk=1 trunc=1 bad=1",
	     .kind = TP_JUMBO, .wire_extra = PCAP_JUMBO_MAX),
	BADX("ipv6 big tcp beyond the jumbo limit", V6, ALL_LINKS, "pk=1 trunc=1 bad=1",
	     .kind = TP_JUMBO, .wire_extra = PCAP_JUMBO_MAX),
	{ "three vlan tags", V4 | V6, 1u << LK_ETH,
	  .pkts = (const struct tpkt[]){ { C2S, F_ACK, .kind = TP_VLAN3, .data = "x" } }, .n = 1,
	  .expect = "", .stats = "pk=1 nonip=1" },
};

static uint64_t fuzzed_links; /* bit per link the prefix test ran on, to show it ran */

static void run_case(const struct tcase *tc, int family, enum link lk)
{
	char path[PATH_MAX], st[256], want[256];
	int r;

	path_in_dir(path, "case.pcap");
	write_case(path, tc, family, lk, PCAP_TSTAMP_PRECISION_NANO);
	rec_init(family);
	r = read_file(path, tc->capture_bytes, st, sizeof(st));
	ck_assert_msg(r == 0, "%s/%s/%d: run %d", tc->name, links[lk].name, family, r);
	ck_assert_msg(!strcmp(rec.text, tc->expect), "%s/%s/v%d:\n got  %s\n want %s", tc->name,
	              links[lk].name, family == AF_INET ? 4 : 6, rec.text, tc->expect);
	snprintf(want, sizeof(want), "%s", tc->stats);
	ck_assert_msg(!strcmp(st, want), "%s/%s: stats %s, want %s", tc->name, links[lk].name, st,
	              want);
	ck_assert_msg(!rec.bad, "%s/%s: %s", tc->name, links[lk].name, rec.why);
	ck_assert_uint_eq(rec.opens, rec.closes);
}

static void run_table(const struct tcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int fam = 0; fam < 2; fam++)
			for (int lk = 0; lk < LINKS; lk++)
				if ((t[i].families & (1u << fam)) && (t[i].links & (1u << lk)))
					run_case(&t[i], fam ? AF_INET6 : AF_INET, (enum link)lk);
}

START_TEST(test_cases)
{
	run_table(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(test_malformed)
{
	run_table(malformed, sizeof(malformed) / sizeof(malformed[0]));
}
END_TEST

/* ---- every prefix of every file ----------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Offsets where a packet record starts (and the file's end): cuts there are clean. */
static bool at_boundary(const uint8_t *b, size_t len, size_t cut)
{
	size_t off = FILE_HDR;

	while (off < cut && off + REC_HDR <= len) {
		uint32_t caplen;

		memcpy(&caplen, b + off + 8, sizeof(caplen)); /* written in host order */
		off += REC_HDR + caplen;
	}
	return off == cut;
}

static void run_prefix(const char *cut_path, const uint8_t *b, size_t len, size_t cut,
                       const struct tcase *tc, int family, const char *full)
{
	struct pcap_source *ps;
	char err[512];
	int r;

	spit(cut_path, b, cut);
	r = pcap_source_open(&ps, cut_path, err, sizeof(err));
	if (cut < FILE_HDR) {
		ck_assert_int_eq(r, -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err, cut_path));
		return;
	}
	ck_assert_int_eq(r, 0);
	rec_init(family);
	rec.no_close = true;
	r = pcap_source_run(ps, record, NULL, tc->capture_bytes);
	check_partition(pcap_source_stats(ps));
	ck_assert_msg(r == (at_boundary(b, len, cut) ? 0 : -EIO), "%s: cut at %zu: %d", tc->name,
	              cut, r);
	if (r)
		ck_assert_uint_ge(pcap_source_stats(ps)->malformed, 1);
	pcap_source_close(ps);
	ck_assert_msg(!rec.bad, "%s cut %zu: %s", tc->name, cut, rec.why);
	ck_assert_uint_eq(rec.opens, rec.closes);
	ck_assert_msg(!strncmp(full, rec.text, rec.len), "%s cut %zu:\n %s\nis no prefix of\n %s",
	              tc->name, cut, rec.text, full);
}

static void prefixes(const struct tcase *tc, int family, enum link lk)
{
	char path[PATH_MAX], cut_path[PATH_MAX], full[TEXT_MAX];
	size_t len;
	uint8_t *b;

	path_in_dir(path, "full.pcap");
	path_in_dir(cut_path, "cut.pcap");
	write_case(path, tc, family, lk, PCAP_TSTAMP_PRECISION_NANO);
	b = slurp(path, &len);
	rec_init(family);
	rec.no_close = true;
	ck_assert_int_eq(read_file(path, tc->capture_bytes, NULL, 0), 0);
	memcpy(full, rec.text, rec.len + 1);
	for (size_t cut = 0; cut < len; cut++)
		run_prefix(cut_path, b, len, cut, tc, family, full);
	fuzzed_links |= 1u << lk;
	free(b);
}

/*
 * Each case on one link and family (they take turns). The big cases are left
 * out: a run per byte of 70 KB would be slow for nothing the snap-length
 * cases do not already cover.
 */
START_TEST(test_prefixes)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *tc = &cases[i];
		enum link lk = (enum link)(i % LINKS);

		if (tc->pkts == big_tcp || tc->pkts == big_wire)
			continue;
		if (!(tc->links & (1u << lk)))
			lk = LK_ETH;
		prefixes(tc, i % 2 ? AF_INET6 : AF_INET, lk);
	}
	ck_assert_uint_eq(fuzzed_links, (1u << LINKS) - 1);
}
END_TEST

/* ---- timestamps, file formats, errors ----------------------------------- */

START_TEST(test_timestamps)
{
	static const u_int precs[] = { PCAP_TSTAMP_PRECISION_NANO, PCAP_TSTAMP_PRECISION_MICRO };
	const struct tcase tc = { "ts", V4, .pkts = PKTS(exchange) };
	char path[PATH_MAX];

	path_in_dir(path, "ts.pcap");
	for (int i = 0; i < 2; i++) {
		write_case(path, &tc, AF_INET, LK_ETH, precs[i]);
		rec_init(AF_INET);
		rec.show_ts = true;
		ck_assert_int_eq(read_file(path, 0, NULL, 0), 0);
		ck_assert_str_eq(rec.text, "O1 c:40000>s:80@0<0 | E1 1001 5/5 hello@3 | "
		                           "I1 5001 6/6 world!@4 | C1 5/6@6<0");
		/* The close is at the second FIN: packet 6, 6 ns past its millisecond. */
		ck_assert_uint_eq(rec.last_ts, T0_NS + 6 * STEP_NS + (i == 0 ? 6 : 0));
	}
}
END_TEST

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* pcapng: section header, Ethernet interface (microseconds), one enhanced packet block. */
START_TEST(test_pcapng)
{
	const struct tcase tc = { "pcapng", V4, .pkts = PKTS(one_data) };
	static uint8_t b[512], frame[FRAME_MAX];
	uint64_t us = T0_NS / 1000;
	uint32_t lhdr, flen = build(&tc, AF_INET, LK_ETH, &one_data[0], frame, &lhdr);
	uint32_t pad = (flen + 3) & ~3u, n = 0;
	char path[PATH_MAX];

	put_le32(b + n, 0x0a0d0d0a), put_le32(b + n + 4, 28), put_le32(b + n + 8, 0x1a2b3c4d);
	put_le32(b + n + 12, 1), memset(b + n + 16, 0xff, 8), put_le32(b + n + 24, 28);
	n += 28;
	put_le32(b + n, 1), put_le32(b + n + 4, 20), put_le32(b + n + 8, 1 /* LINKTYPE_ETHERNET */);
	put_le32(b + n + 12, 0), put_le32(b + n + 16, 20);
	n += 20;
	put_le32(b + n, 6), put_le32(b + n + 4, 32 + pad), put_le32(b + n + 8, 0);
	put_le32(b + n + 12, (uint32_t)(us >> 32)), put_le32(b + n + 16, (uint32_t)us);
	put_le32(b + n + 20, flen), put_le32(b + n + 24, flen);
	memset(b + n + 28, 0, pad);
	memcpy(b + n + 28, frame, flen);
	put_le32(b + n + 28 + pad, 32 + pad);
	n += 32 + pad;
	path_in_dir(path, "ng.pcapng");
	spit(path, b, n);
	rec_init(AF_INET);
	rec.show_ts = true;
	ck_assert_int_eq(read_file(path, 0, NULL, 0), 0);
	ck_assert_str_eq(rec.text, "O1 c:40000>s:80@0<0 | E1 1001 5/5 hello@0 | C1 5/0@0<0");
	ck_assert_uint_eq(rec.last_ts, T0_NS);
}
END_TEST

static int open_err(const char *path, char *err, size_t len)
{
	struct pcap_source *ps = (struct pcap_source *)&ps; /* must be cleared */
	int r = pcap_source_open(&ps, path, err, len);

	ck_assert_ptr_null(ps);
	ck_assert_ptr_nonnull(strstr(err, path));
	return r;
}

START_TEST(test_open_errors)
{
	char path[PATH_MAX], err[512];
	pcap_t *dead;
	pcap_dumper_t *d;

	path_in_dir(path, "missing.pcap");
	ck_assert_int_eq(open_err(path, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));

	path_in_dir(path, "empty.pcap");
	spit(path, (const uint8_t *)"", 0);
	ck_assert_int_eq(open_err(path, err, sizeof(err)), -EBADMSG);

	path_in_dir(path, "garbage.pcap");
	spit(path, (const uint8_t *)"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 37);
	ck_assert_int_eq(open_err(path, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "format"));

	path_in_dir(path, "wifi.pcap");
	dead = pcap_open_dead(DLT_IEEE802_11, SNAP_FULL);
	d = pcap_dump_open(dead, path);
	ck_assert_ptr_nonnull(d);
	pcap_dump_close(d);
	pcap_close(dead);
	ck_assert_int_eq(open_err(path, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "IEEE802_11"));
	ck_assert_ptr_nonnull(strstr(err, "105"));
}
END_TEST

/* Offset of packet record @i in a pcap file. */
static size_t record_offset(const uint8_t *b, size_t len, size_t i)
{
	size_t off = FILE_HDR;

	while (i-- > 0 && off + REC_HDR <= len) {
		uint32_t caplen;

		memcpy(&caplen, b + off + 8, sizeof(caplen));
		off += REC_HDR + caplen;
	}
	return off;
}

/* A file cut in packet 4 (the server's reply): what came before stays, the flow is closed. */
START_TEST(test_file_cut_mid_packet)
{
	const struct tcase tc = { "cut", V4, .pkts = PKTS(exchange) };
	char path[PATH_MAX], st[256];
	size_t len;
	uint8_t *b;

	path_in_dir(path, "cut.pcap");
	write_case(path, &tc, AF_INET, LK_ETH, PCAP_TSTAMP_PRECISION_NANO);
	b = slurp(path, &len);
	spit(path, b, record_offset(b, len, 4) + REC_HDR + 30);
	rec_init(AF_INET);
	ck_assert_int_eq(read_file(path, 0, st, sizeof(st)), -EIO);
	ck_assert_str_eq(rec.text, "O1 c:40000>s:80 | E1 1001 5/5 hello | C1 5/0");
	ck_assert_str_eq(st, "pk=5 tcp=4 bad=1 flows=1");
	/* Cut in a record header. */
	spit(path, b, record_offset(b, len, 4) + 7);
	rec_init(AF_INET);
	ck_assert_int_eq(read_file(path, 0, st, sizeof(st)), -EIO);
	ck_assert_str_eq(rec.text, "O1 c:40000>s:80 | E1 1001 5/5 hello | C1 5/0");
	free(b);
}
END_TEST

/* The consumer's error stops the run at once and is returned. */
START_TEST(test_callback_error)
{
	const struct tcase tc = { "stop", V6, .pkts = PKTS(exchange) };
	struct pcap_source *ps;
	char path[PATH_MAX], err[256];

	path_in_dir(path, "stop.pcap");
	write_case(path, &tc, AF_INET6, LK_SLL2, PCAP_TSTAMP_PRECISION_NANO);
	for (uint64_t at = 1; at <= 4; at++) {
		rec_init(AF_INET6);
		rec.fail_at = at;
		ck_assert_int_eq(pcap_source_open(&ps, path, err, sizeof(err)), 0);
		ck_assert_int_eq(pcap_source_run(ps, record, NULL, 0), -ECANCELED);
		ck_assert_uint_eq(rec.n, at);
		pcap_source_close(ps);
	}
	ck_assert_int_eq(pcap_source_open(&ps, path, err, sizeof(err)), 0);
	ck_assert_int_eq(pcap_source_run(ps, NULL, NULL, 0), -EINVAL);
	pcap_source_close(ps);
	pcap_source_close(NULL);
}
END_TEST

/* capture_bytes above L7_CAPTURE_MAX is L7_CAPTURE_MAX. */
START_TEST(test_capture_bytes_max)
{
	const struct tcase tc = { "max", V4, .pkts = PKTS(big_tcp) };
	char path[PATH_MAX];

	path_in_dir(path, "max.pcap");
	write_case(path, &tc, AF_INET, LK_RAW, PCAP_TSTAMP_PRECISION_NANO);
	rec_init(AF_INET);
	ck_assert_int_eq(read_file(path, 1u << 30, NULL, 0), 0);
	ck_assert_str_eq(rec.text, "O1 c:40000>s:80 | E1 1001 70000/16384T abcdefghijklmnop~ | "
	                           "C1 70000/0");
	ck_assert_uint_eq(rec.l7.payload_bytes, L7_CAPTURE_MAX);
}
END_TEST

/* ---- a full flow table -------------------------------------------------- */

/* @t from (or to) client 10.<net>.<i / 256>.<i % 256>, port 40000, at @ts. */
static void flood_put(pcap_dumper_t *d, uint8_t net, uint32_t i, const struct tpkt *t, uint64_t ts)
{
	static const struct tcase tc = { .name = "flood", .families = V4 };
	static uint8_t b[FRAME_MAX];
	uint32_t lhdr, len = build(&tc, AF_INET, LK_RAW, t, b, &lhdr);
	uint8_t *client = b + (t->from == C2S ? 12 : 16);

	client[1] = net;
	client[2] = (uint8_t)(i >> 8);
	client[3] = (uint8_t)i;
	dump(d, PCAP_TSTAMP_PRECISION_NANO, ts, b, len, len, 0);
}

/*
 * PCAP_FLOWS_MAX open flows fill the table: the next one is untracked; a
 * closed flow's slot is taken first, then the slot of an open flow idle for
 * PCAP_FLOW_IDLE_NS (closed at its last packet).
 */
START_TEST(test_flow_table_full)
{
	const struct tpkt syn = { C2S, F_SYN, .seq = 1000 },
	                  rst = { S2C, F_RST | F_ACK, .ack = 1001 };
	const struct tpkt data = { C2S, F_ACK, .seq = 1001, .data = "hi" };
	const uint64_t later = T0_NS + PCAP_FLOW_IDLE_NS + STEP_NS;
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, SNAP_FULL,
	                                                    PCAP_TSTAMP_PRECISION_NANO);
	char path[PATH_MAX], st[256];
	pcap_dumper_t *d;

	path_in_dir(path, "flood.pcap");
	d = pcap_dump_open(dead, path);
	ck_assert_ptr_nonnull(d);
	for (uint32_t i = 0; i < PCAP_FLOWS_MAX; i++)
		flood_put(d, 1, i, &syn, T0_NS);
	flood_put(d, 9, 0, &syn, T0_NS + STEP_NS);     /* untracked */
	flood_put(d, 9, 0, &data, T0_NS + STEP_NS);    /* untracked */
	flood_put(d, 1, 0, &rst, T0_NS + 2 * STEP_NS); /* closes flow 1 */
	flood_put(d, 9, 1, &syn, T0_NS + 3 * STEP_NS); /* takes flow 1's slot */
	flood_put(d, 9, 2, &syn, later);               /* evicts flow 2, idle */
	flood_put(d, 1, 1, &data, later);              /* flow 2's client again: evicts flow 3 */
	pcap_dump_close(d);
	pcap_close(dead);

	rec_init(AF_INET);
	rec.skip = PCAP_FLOWS_MAX;
	rec.limit = 8;
	ck_assert_int_eq(read_file(path, 0, st, sizeof(st)), 0);
	ck_assert_str_eq(rec.text, "C1 0/0 | O65537 10.9.0.1:40000>s:80 | C2 0/0 | "
	                           "O65538 10.9.0.2:40000>s:80 | C3 0/0 | "
	                           "O65539 10.1.0.1:40000>s:80 | E65539 1001 2/2 hi | C4 0/0");
	ck_assert_str_eq(st, "pk=65542 tcp=65542 flows=65539 untracked=2");
	ck_assert_uint_eq(rec.opens, 65539);
	ck_assert_uint_eq(rec.closes, 65539);
	ck_assert_msg(!rec.bad, "%s", rec.why);
}
END_TEST

Suite *pcap_source_suite(void)
{
	Suite *s = suite_create("pcap_source");
	TCase *tc = tcase_create("pcap_source");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cases);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_pcapng);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_file_cut_mid_packet);
	tcase_add_test(tc, test_callback_error);
	tcase_add_test(tc, test_capture_bytes_max);
	tcase_add_test(tc, test_flow_table_full);
	suite_add_tcase(s, tc);
	return s;
}
