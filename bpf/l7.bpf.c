// SPDX-License-Identifier: GPL-2.0
/*
 * L7 capture: TCP payload of scoped sockets and TLS plaintext.
 *
 * The data path runs only for sockets of the scoped cgroups: every program
 * but the TLS uprobes is attached to the scoped cgroup directories, so
 * processes elsewhere pay nothing. The TLS uprobes are attached to a library
 * file and so run for every process that maps it; they check the task's
 * cgroup against scope_cgroups (the same frozen map the process events use)
 * before doing anything else.
 *
 * Never blocks a packet: the cgroup_skb programs always return 1.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "l7.h"
#include "proc.h"
#include "stats.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET     2
#define AF_INET6    10
#define IPPROTO_TCP 6
#define TCP_CLOSE   7
#define SK_PASS     1

/* Set by the loader between open and load. */
const volatile bool system_wide = false;
const volatile bool port_filter = false; /* --port given */
const volatile bool comm_filter = false; /* --comm given */
const volatile __u32 capture_bytes = L7_CAPTURE_DEFAULT;
const volatile __u64 wakeup_bytes = 64 * 1024; /* wake the reader past this */

/* Frozen allowlists that narrow the cgroup scope further. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L7_PORTS_MAX);
	__type(key, __u16); /* host order */
	__type(value, __u8);
} scope_ports SEC(".maps");

struct comm_key {
	char comm[L7_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L7_COMMS_MAX);
	__type(key, struct comm_key);
	__type(value, __u8);
} scope_comms SEC(".maps");

/* L7 data only: a flood here never touches the security ring buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by the loader */
} events_l7 SEC(".maps");

/* Who created the socket; cloned from a listener to its accepted sockets. */
struct sk_info {
	__u64 start_boot_ns;
	__u64 cgroup_id; /* the socket's cgroup (sock_ops cannot ask for it) */
	__u32 pid;
	__u32 role;
	__u32 comm_ok; /* passed the --comm filter when it was created */
	__u32 pad;
	char comm[L7_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sk_info);
} sk_infos SEC(".maps");

/*
 * Records are built here, then copied into the ring buffer at their size.
 * The payload goes right after whichever header is in use (d + 1, t + 1),
 * not at .payload, which follows the larger of the two.
 */
struct scratch {
	union {
		struct l7_data data;
		struct l7_tls tls;
	};
	__u8 payload[L7_CAPTURE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* An SSL_read/SSL_write call in progress, by thread. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 ex_len_ptr; /* size_t * of the _ex variants, 0 otherwise */
	__u32 dir;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L7_TLS_INFLIGHT_MAX);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct tls_call);
} tls_inflight SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* SSL object -> socket cookie, learned when SSL_write sends. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, L7_SSL_MAX);
	__type(key, struct ssl_key);
	__type(value, __u64);
} ssl_conns SEC(".maps");

/* Batch wake-ups: the reader also drains on a short timer. */
static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events_l7, BPF_RB_AVAIL_DATA) >= wakeup_bytes
	               ? BPF_RB_FORCE_WAKEUP
	               : BPF_RB_NO_WAKEUP;
}

static __always_inline bool comm_allowed(const char *comm)
{
	struct comm_key k = {};

	if (!comm_filter)
		return true;
	__builtin_memcpy(k.comm, comm, sizeof(k.comm));
	return bpf_map_lookup_elem(&scope_comms, &k) != NULL;
}

static __always_inline bool ports_allowed(__u16 local, __u16 remote)
{
	if (!port_filter)
		return true;
	return bpf_map_lookup_elem(&scope_ports, &local) ||
	       bpf_map_lookup_elem(&scope_ports, &remote);
}

static __always_inline struct sk_info *info_of(struct bpf_sock *sk)
{
	struct sk_info *info = bpf_sk_storage_get(&sk_infos, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!info)
		stat_inc(STAT_L7_DROP_MAP_FULL);
	return info;
}

/* Process context: the creator's identity and the --comm verdict. */
SEC("cgroup/sock_create")
int cgroup_sock_create(struct bpf_sock *sk)
{
	struct sk_info *info;

	if (sk->type != 1 /* SOCK_STREAM */ || sk->protocol != IPPROTO_TCP)
		return 1;
	info = info_of(sk);
	if (!info)
		return 1;
	info->pid = bpf_get_current_pid_tgid() >> 32;
	info->cgroup_id = bpf_get_current_cgroup_id(); /* sockets start in the creator's */
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	info->comm_ok = comm_allowed(info->comm);
	return 1;
}

static __always_inline void fill_hdr(struct l7_hdr *h, __u32 kind, __u64 cookie, __u64 cgid,
                                     const struct sk_info *info)
{
	h->kind = kind;
	h->ts_boot_ns = bpf_ktime_get_boot_ns();
	h->cookie = cookie;
	h->cgroup_id = cgid;
	if (info) {
		h->pid = info->pid;
		__builtin_memcpy(h->comm, info->comm, sizeof(h->comm));
	}
}

static __always_inline void tuple_from_ops(struct l7_tuple *t, struct bpf_sock_ops *skops)
{
	t->family = skops->family;
	t->local_port = (__u16)skops->local_port;
	/* The kernel gives the big-endian port in the upper 16 bits. */
	t->remote_port = bpf_ntohs((__u16)(skops->remote_port >> 16));
	if (skops->family == AF_INET) {
		__u32 l = skops->local_ip4, r = skops->remote_ip4;

		__builtin_memcpy(t->local_addr, &l, 4);
		__builtin_memcpy(t->remote_addr, &r, 4);
		return;
	}
	/* Context fields need constant offsets: no loop. */
	__u32 l6[4] = { skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
		        skops->local_ip6[3] };
	__u32 r6[4] = { skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
		        skops->remote_ip6[3] };

	__builtin_memcpy(t->local_addr, l6, 16);
	__builtin_memcpy(t->remote_addr, r6, 16);
}

static __always_inline void emit_conn(struct bpf_sock_ops *skops, __u32 kind, struct sk_info *info)
{
	struct l7_conn *c = bpf_ringbuf_reserve(&events_l7, sizeof(*c), 0);

	if (!c) {
		stat_inc(STAT_L7_DROP_RB_FULL);
		return;
	}
	__builtin_memset(c, 0, sizeof(*c));
	fill_hdr(&c->hdr, kind, bpf_get_socket_cookie(skops), info ? info->cgroup_id : 0, info);
	tuple_from_ops(&c->tuple, skops);
	if (c->tuple.family == AF_INET6)
		c->hdr.flags |= L7_F_IPV6;
	c->role = info ? info->role : L7_ROLE_UNKNOWN;
	c->start_boot_ns = info ? info->start_boot_ns : 0;
	if (kind == L7_CONN_CLOSE) {
		c->bytes_sent = skops->bytes_acked;
		c->bytes_received = skops->bytes_received;
	}
	bpf_ringbuf_submit(c, wake_flags());
	stat_inc(STAT_L7_SUBMITTED);
}

static __always_inline bool ops_in_scope(struct bpf_sock_ops *skops, struct sk_info *info)
{
	if (skops->family != AF_INET && skops->family != AF_INET6)
		return false;
	if (!ports_allowed((__u16)skops->local_port,
	                   bpf_ntohs((__u16)(skops->remote_port >> 16))) ||
	    (comm_filter && (!info || !info->comm_ok))) {
		stat_inc(STAT_L7_FILTERED);
		return false;
	}
	return true;
}

/* Connection identity and lifetime: established (either side) and closed. */
SEC("sockops")
int sock_ops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct sk_info *info;
	__u32 op = skops->op;

	if (!sk)
		return 1;
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		info = info_of(sk);
		if (info) {
			info->role = op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? L7_ROLE_CLIENT
			                                                      : L7_ROLE_SERVER;
			info->start_boot_ns = bpf_ktime_get_boot_ns();
		}
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		if (ops_in_scope(skops, info))
			emit_conn(skops, L7_CONN_OPEN, info);
		return 1;
	}
	if (op == BPF_SOCK_OPS_STATE_CB && skops->args[1] == TCP_CLOSE) {
		info = bpf_sk_storage_get(&sk_infos, sk, 0, 0);
		if (info && info->start_boot_ns && ops_in_scope(skops, info))
			emit_conn(skops, L7_CONN_CLOSE, info);
	}
	return 1;
}

struct pkt {
	__u32 payload_off;
	__u32 payload_len;
	__u32 seq;
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
	__u16 family;
};

static __always_inline int parse_ip(struct __sk_buff *skb, struct pkt *p, __u32 *tcp_off)
{
	__u8 vihl;

	if (bpf_skb_load_bytes(skb, 0, &vihl, 1) < 0)
		return -1;
	if ((vihl >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_TCP)
			return -1;
		p->family = AF_INET;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		*tcp_off = (ip.ihl & 0xf) * 4;
		return 0;
	}
	if ((vihl >> 4) == 6) {
		struct ipv6hdr ip6;

		/* Extension headers are not followed: counted as not TCP. */
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0 || ip6.nexthdr != IPPROTO_TCP)
			return -1;
		p->family = AF_INET6;
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		*tcp_off = sizeof(ip6);
		return 0;
	}
	return -1;
}

static __always_inline int parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	struct tcphdr tcp;
	__u32 tcp_off;

	if (parse_ip(skb, p, &tcp_off) < 0)
		return -1;
	if (bpf_skb_load_bytes(skb, tcp_off, &tcp, sizeof(tcp)) < 0)
		return -1;
	p->sport = bpf_ntohs(tcp.source);
	p->dport = bpf_ntohs(tcp.dest);
	p->seq = bpf_ntohl(tcp.seq);
	p->payload_off = tcp_off + tcp.doff * 4;
	if (skb->len <= p->payload_off)
		return 1; /* no payload: ACK, SYN, FIN */
	p->payload_len = skb->len - p->payload_off;
	return 0;
}

static __always_inline void fill_tuple(struct l7_tuple *t, const struct pkt *p, __u32 dir)
{
	bool eg = dir == L7_EGRESS;

	t->family = p->family;
	t->local_port = eg ? p->sport : p->dport;
	t->remote_port = eg ? p->dport : p->sport;
	__builtin_memcpy(t->local_addr, eg ? p->saddr : p->daddr, 16);
	__builtin_memcpy(t->remote_addr, eg ? p->daddr : p->saddr, 16);
}

/* While SSL_write runs, the segment it sends names the SSL's connection. */
static __always_inline void learn_ssl_cookie(__u64 cookie)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call *call = bpf_map_lookup_elem(&tls_inflight, &pid_tgid);
	struct ssl_key key = {};

	if (!call || call->dir != L7_EGRESS)
		return;
	key.ssl = call->ssl;
	key.tgid = pid_tgid >> 32;
	bpf_map_update_elem(&ssl_conns, &key, &cookie, BPF_ANY);
}

/*
 * Sockets older than the agent (a listener started before it, and every
 * socket accepted from it) have no creator on record. A send runs in the
 * sender's context when the current task lives in the socket's cgroup:
 * take the identity from there.
 */
static __always_inline void attribute(struct sk_info *info, struct bpf_sock *sk, __u32 dir)
{
	__u64 cgid;

	if (info->pid)
		return;
	cgid = bpf_sk_cgroup_id(sk);
	info->cgroup_id = cgid;
	if (dir != L7_EGRESS || bpf_get_current_cgroup_id() != cgid)
		return;
	info->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	info->comm_ok = comm_allowed(info->comm);
}

static __always_inline int emit_segment(struct __sk_buff *skb, const struct pkt *p, __u32 dir,
                                        struct bpf_sock *sk, struct sk_info *info)
{
	__u32 zero = 0, cap = p->payload_len;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	struct l7_data *d;

	if (!s)
		return SK_PASS;
	d = &s->data;
	__builtin_memset(d, 0, sizeof(*d));
	fill_hdr(&d->hdr, L7_DATA, bpf_get_socket_cookie(skb), bpf_sk_cgroup_id(sk), info);
	fill_tuple(&d->tuple, p, dir);
	if (p->family == AF_INET6)
		d->hdr.flags |= L7_F_IPV6;
	if (cap > capture_bytes) {
		cap = capture_bytes;
		d->hdr.flags |= L7_F_TRUNCATED;
		stat_inc(STAT_L7_TRUNCATED);
	}
	cap &= L7_CAPTURE_MAX * 2 - 1;
	if (cap == 0 || cap > L7_CAPTURE_MAX ||
	    bpf_skb_load_bytes(skb, p->payload_off, (void *)(d + 1), cap) < 0)
		return SK_PASS;
	d->dir = dir;
	d->seq = p->seq;
	d->seg_len = p->payload_len;
	d->cap_len = cap;
	if (bpf_ringbuf_output(&events_l7, s, sizeof(*d) + cap, wake_flags()) < 0)
		stat_inc(STAT_L7_DROP_RB_FULL);
	else
		stat_inc(STAT_L7_SUBMITTED);
	return SK_PASS;
}

static __always_inline int capture(struct __sk_buff *skb, __u32 dir)
{
	struct bpf_sock *sk = skb->sk;
	struct sk_info *info;
	struct pkt p = {};
	int r;

	if (!sk || !(sk = bpf_sk_fullsock(sk)) || sk->protocol != IPPROTO_TCP)
		return SK_PASS;
	r = parse_pkt(skb, &p);
	if (r != 0) {
		if (r < 0)
			stat_inc(STAT_L7_NOT_TCP);
		return SK_PASS;
	}
	if (dir == L7_EGRESS)
		learn_ssl_cookie(bpf_get_socket_cookie(skb));
	info = info_of(sk);
	if (info)
		attribute(info, sk, dir);
	if (!ports_allowed(dir == L7_EGRESS ? p.sport : p.dport,
	                   dir == L7_EGRESS ? p.dport : p.sport) ||
	    (comm_filter && (!info || !info->comm_ok))) {
		stat_inc(STAT_L7_FILTERED);
		return SK_PASS;
	}
	return emit_segment(skb, &p, dir, sk, info);
}

SEC("cgroup_skb/egress")
int cgroup_skb_egress(struct __sk_buff *skb)
{
	return capture(skb, L7_EGRESS);
}

SEC("cgroup_skb/ingress")
int cgroup_skb_ingress(struct __sk_buff *skb)
{
	return capture(skb, L7_INGRESS);
}

/* ---- TLS plaintext: OpenSSL 3 SSL_read/SSL_write and their _ex forms ---- */

static __always_inline bool task_in_scope(void)
{
	char comm[L7_COMM_LEN];

	if (!system_wide) {
		bool found = false;

		for (int level = 0; level < CGROUP_DEPTH_MAX; level++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(level);

			if (id == 0)
				break;
			if (bpf_map_lookup_elem(&scope_cgroups, &id)) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	bpf_get_current_comm(comm, sizeof(comm));
	return comm_allowed(comm);
}

static __always_inline int tls_enter(struct pt_regs *ctx, __u32 dir, bool ex)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call call = {};

	if (!task_in_scope()) {
		stat_inc(STAT_TLS_OUT_OF_SCOPE);
		return 0;
	}
	call.ssl = PT_REGS_PARM1(ctx);
	call.buf = PT_REGS_PARM2(ctx);
	call.ex_len_ptr = ex ? PT_REGS_PARM4(ctx) : 0;
	call.dir = dir;
	if (bpf_map_update_elem(&tls_inflight, &pid_tgid, &call, BPF_ANY) < 0)
		stat_inc(STAT_L7_DROP_MAP_FULL);
	return 0;
}

/* Bytes the call moved: the return value, or *ex_len_ptr when _ex returned 1. */
static __always_inline __u64 tls_moved(struct pt_regs *ctx, const struct tls_call *call)
{
	int ret = (int)PT_REGS_RC(ctx); /* the functions return int */
	__u64 n = 0;

	if (!call->ex_len_ptr)
		return ret > 0 ? (__u64)ret : 0;
	if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)call->ex_len_ptr) < 0)
		return 0;
	return n;
}

static __always_inline void tls_emit(const struct tls_call *call, __u64 len, __u64 pid_tgid)
{
	__u32 zero = 0, cap = len > capture_bytes ? capture_bytes : (__u32)len;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	struct ssl_key key = { .ssl = call->ssl, .tgid = pid_tgid >> 32 };
	__u64 *cookie = bpf_map_lookup_elem(&ssl_conns, &key);
	struct l7_tls *t;

	if (!s)
		return;
	t = &s->tls;
	__builtin_memset(t, 0, sizeof(*t));
	t->hdr.kind = L7_TLS_DATA;
	t->hdr.ts_boot_ns = bpf_ktime_get_boot_ns();
	t->hdr.cookie = cookie ? *cookie : 0;
	t->hdr.cgroup_id = bpf_get_current_cgroup_id();
	t->hdr.pid = pid_tgid >> 32;
	bpf_get_current_comm(t->hdr.comm, sizeof(t->hdr.comm));
	t->ssl = call->ssl;
	t->dir = call->dir;
	t->len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
	t->tid = (__u32)pid_tgid;
	if (len > cap) {
		t->hdr.flags |= L7_F_TRUNCATED;
		stat_inc(STAT_L7_TRUNCATED);
	}
	cap &= L7_CAPTURE_MAX * 2 - 1;
	if (cap == 0 || cap > L7_CAPTURE_MAX ||
	    bpf_probe_read_user((void *)(t + 1), cap, (void *)call->buf) < 0)
		return;
	t->cap_len = cap;
	if (bpf_ringbuf_output(&events_l7, s, sizeof(*t) + cap, wake_flags()) < 0)
		stat_inc(STAT_TLS_DROP_RB_FULL);
	else
		stat_inc(STAT_L7_SUBMITTED);
}

static __always_inline int tls_exit(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call *found = bpf_map_lookup_elem(&tls_inflight, &pid_tgid);
	struct tls_call call;
	__u64 len;

	if (!found)
		return 0;
	call = *found;
	bpf_map_delete_elem(&tls_inflight, &pid_tgid);
	len = tls_moved(ctx, &call);
	if (len)
		tls_emit(&call, len, pid_tgid);
	return 0;
}

SEC("uprobe.multi")
int BPF_KPROBE(ssl_write_enter)
{
	return tls_enter(ctx, L7_EGRESS, false);
}

SEC("uprobe.multi")
int BPF_KPROBE(ssl_write_ex_enter)
{
	return tls_enter(ctx, L7_EGRESS, true);
}

SEC("uprobe.multi")
int BPF_KPROBE(ssl_read_enter)
{
	return tls_enter(ctx, L7_INGRESS, false);
}

SEC("uprobe.multi")
int BPF_KPROBE(ssl_read_ex_enter)
{
	return tls_enter(ctx, L7_INGRESS, true);
}

SEC("uretprobe.multi")
int BPF_KRETPROBE(ssl_exit)
{
	return tls_exit(ctx);
}
