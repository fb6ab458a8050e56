/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L7 capture records: connection metadata, TCP payload segments and TLS
 * plaintext, shared by bpf/l7.bpf.c and the processor. Fixed-width fields;
 * the includer provides __u8/__u16/__u32/__u64.
 *
 * Every record starts with struct l7_hdr. The processor checks the record
 * length against the kind (and, for payload records, against
 * sizeof(header) + cap_len) before reading anything else.
 */
#ifndef BPFWARDEN_BPF_L7_H
#define BPFWARDEN_BPF_L7_H

#define L7_CAPTURE_DEFAULT  1024  /* payload bytes kept per segment or TLS call */
#define L7_CAPTURE_MAX      16384 /* --capture-bytes upper bound; power of two */
#define L7_PORTS_MAX        64    /* --port entries */
#define L7_COMMS_MAX        64    /* --comm entries */
#define L7_COMM_LEN         16
#define L7_TLS_INFLIGHT_MAX 8192  /* SSL_read/SSL_write calls in progress */
#define L7_SSL_MAX          16384 /* SSL objects whose connection is known */

enum l7_kind {
	L7_CONN_OPEN = 1,
	L7_CONN_CLOSE = 2,
	L7_DATA = 3,     /* one TCP segment's payload (prefix) */
	L7_TLS_DATA = 4, /* one SSL_read/SSL_write call's plaintext (prefix) */
};

enum l7_dir {
	L7_EGRESS = 0,  /* sent by the scoped socket */
	L7_INGRESS = 1, /* received by the scoped socket */
};

enum l7_role {
	L7_ROLE_UNKNOWN = 0,
	L7_ROLE_CLIENT = 1, /* connected out */
	L7_ROLE_SERVER = 2, /* accepted */
};

enum l7_flags {
	L7_F_TRUNCATED = 1u << 0, /* cap_len < total length */
	L7_F_IPV6 = 1u << 1,
	L7_F_COOKIE_GUESSED = 1u << 2, /* TLS: cookie learned from a later send */
};

struct l7_tuple {
	__u8 local_addr[16]; /* IPv4: first 4 bytes, network order */
	__u8 remote_addr[16];
	__u16 local_port; /* host order */
	__u16 remote_port;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

struct l7_hdr {
	__u32 kind;  /* enum l7_kind */
	__u32 flags; /* enum l7_flags */
	__u64 ts_boot_ns;
	__u64 cookie;    /* socket cookie: the connection id; 0 if unknown (TLS) */
	__u64 cgroup_id; /* the socket's (or, for TLS, the task's) cgroup v2 id */
	__u32 pid;       /* process that created the socket / called SSL_*; 0 unknown */
	__u32 pad;
	char comm[L7_COMM_LEN];
};

struct l7_conn {
	struct l7_hdr hdr;
	struct l7_tuple tuple;
	__u32 role; /* enum l7_role */
	__u32 pad;
	__u64 start_boot_ns;  /* established */
	__u64 bytes_sent;     /* L7_CONN_CLOSE: bytes acked by the peer */
	__u64 bytes_received; /* L7_CONN_CLOSE */
};

struct l7_data {
	struct l7_hdr hdr;
	struct l7_tuple tuple;
	__u32 dir;     /* enum l7_dir */
	__u32 seq;     /* TCP sequence number of the first payload byte */
	__u32 seg_len; /* payload bytes in the segment */
	__u32 cap_len; /* payload bytes that follow this struct */
	               /* __u8 payload[cap_len] */
};

struct l7_tls {
	struct l7_hdr hdr;
	__u64 ssl;     /* the SSL object's address: a per-process stream id */
	__u32 dir;     /* L7_EGRESS: SSL_write*, L7_INGRESS: SSL_read* */
	__u32 len;     /* plaintext bytes the call moved */
	__u32 cap_len; /* bytes that follow this struct */
	__u32 tid;
	/* __u8 payload[cap_len] */
};

_Static_assert(sizeof(struct l7_tuple) == 40, "l7_tuple layout");
_Static_assert(sizeof(struct l7_hdr) == 56, "l7_hdr layout");
_Static_assert(sizeof(struct l7_conn) == 56 + 40 + 32, "l7_conn layout");
_Static_assert(sizeof(struct l7_data) == 56 + 40 + 16, "l7_data layout");
_Static_assert(sizeof(struct l7_tls) == 56 + 8 + 16, "l7_tls layout");
_Static_assert((L7_CAPTURE_MAX & (L7_CAPTURE_MAX - 1)) == 0, "L7_CAPTURE_MAX power of two");

#endif
