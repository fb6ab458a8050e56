/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline capture (--pcap FILE): reads a tcpdump capture (pcap or pcapng,
 * through libpcap) and turns its TCP segments into the same records
 * (bpf/l7.h) that bpf/l7.bpf.c writes to the ring buffer, so that record
 * validation, reassembly, sessions and parsers are shared with live capture.
 *
 * Trust boundary: the file is hostile input. libpcap frames it into packets
 * (caplen bytes captured of len on the wire); every header below that is
 * parsed here, and every length is checked against what was captured before
 * a byte is read. A packet that cannot be parsed is counted, never fatal.
 *
 * Link types: Ethernet (with up to two 802.1Q/802.1ad tags), Linux cooked
 * (SLL, SLL2), BSD loopback (NULL, LOOP; the family in either byte order),
 * raw IP (RAW, IPV4, IPV6). Others are refused by pcap_source_open().
 *
 * Records are written from the client's point of view: tuple.local is the
 * client, role L7_ROLE_CLIENT, dir L7_EGRESS for client-to-server bytes.
 * The client is the sender of a SYN without ACK (or the receiver of a
 * SYN-ACK); for a flow whose handshake is not in the file, the endpoint with
 * the lower port is the server (equal ports: the first packet's receiver).
 * Cookies are a counter from 1, one per flow; hdr.ts_boot_ns is the packet
 * time in ns since the epoch (so the caller's boot-to-real offset is 0);
 * pid, comm and cgroup_id are 0.
 *
 * Per flow: L7_CONN_OPEN at its first packet, L7_DATA for each segment that
 * carries payload (seq of its first payload byte, seg_len on the wire,
 * cap_len captured, L7_F_TRUNCATED when cap_len < seg_len, exactly as the
 * kernel does), L7_CONN_CLOSE after FINs both ways, a RST, or at the end of
 * the file (then at the flow's last packet). Segments are emitted in file
 * order, retransmissions included; reassembly downstream puts them back in
 * sequence order. bytes_sent/bytes_received are the payload bytes seen each
 * way, retransmissions included (the kernel reports bytes acked).
 *
 * After the close, packets of the 4-tuple are ignored until a SYN starts a
 * new flow (new cookie); a SYN without ACK with another ISN on an open flow
 * also does (port reuse whose end was not captured), closing the old one. A
 * RST of an unknown 4-tuple opens nothing.
 */
#ifndef BPFWARDEN_PROCESSOR_PCAP_SOURCE_H
#define BPFWARDEN_PROCESSOR_PCAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define PCAP_FLOWS_MAX    65536                    /* TCP flows tracked at once */
#define PCAP_FLOW_IDLE_NS (300ull * 1000000000ull) /* an open flow this idle may be evicted */
#define PCAP_IPV6_EXT_MAX 8                        /* IPv6 extension headers skipped */
#define PCAP_VLAN_TAGS    2                        /* 802.1Q/802.1ad tags skipped */
#define PCAP_JUMBO_MAX    (512u * 1024)            /* BIG TCP: IP length 0, frame at most this */

/*
 * Every packet read is counted in exactly one of tcp_segments, non_tcp,
 * non_ip, fragments and malformed; truncated counts across them.
 */
struct pcap_source_stats {
	uint64_t packets;         /* packets read, a read error included */
	uint64_t tcp_segments;    /* TCP segments parsed (those of untracked flows included) */
	uint64_t non_tcp;         /* IP packets of another protocol */
	uint64_t non_ip;          /* frames that do not carry IPv4 or IPv6 */
	uint64_t fragments;       /* IP fragments (first ones included): skipped */
	uint64_t truncated;       /* caplen < wire length */
	uint64_t malformed;       /* bad or cut-off headers, or a read error: skipped */
	uint64_t flows;           /* flows started (an L7_CONN_OPEN each) */
	uint64_t flows_untracked; /* segments of flows the full table could not take */
};

struct pcap_source;

/*
 * Called with one struct l7_conn or one struct l7_data (+ cap_len payload
 * bytes) record of @len bytes, valid only during the call. A negative
 * return stops pcap_source_run(), which returns it.
 */
typedef int (*pcap_record_fn)(void *ctx, const void *rec, uint32_t len);

/*
 * Open @path ("-": standard input) for reading. On failure returns -errno
 * (-ENOENT and the like from opening the file, -EBADMSG when libpcap does
 * not take it, -EPROTONOSUPPORT for an unsupported link type, -ENOMEM) and
 * writes a message naming the file and the reason into @err.
 */
int pcap_source_open(struct pcap_source **out, const char *path, char *err, size_t errlen);

/*
 * Read every packet and hand the records to @fn. @capture_bytes is the most
 * payload kept per record: 0 means L7_CAPTURE_DEFAULT, more than
 * L7_CAPTURE_MAX means L7_CAPTURE_MAX. Flows still open at the end of the
 * file (or at a read error) are closed. Returns 0, -EIO when libpcap fails
 * to read the file (cut mid-packet, corrupt record header; the records
 * before stay emitted), -ENOMEM when the flow table cannot grow, or @fn's
 * negative return.
 */
int pcap_source_run(struct pcap_source *ps, pcap_record_fn fn, void *ctx, uint32_t capture_bytes);

const struct pcap_source_stats *pcap_source_stats(const struct pcap_source *ps);

/* NULL-safe. */
/* libpcap's reason for the last read error (after pcap_source_run() returned -EIO). */
const char *pcap_source_error(const struct pcap_source *ps);

void pcap_source_close(struct pcap_source *ps);

#endif
