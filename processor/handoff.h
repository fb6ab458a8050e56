/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_PROCESSOR_HANDOFF_H
#define BPFWARDEN_PROCESSOR_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

/* What the loader hands over: ring buffers and the kernel counters. */
struct handoff {
	int ringbuf_fd;
	uint64_t ringbuf_size;
	int stats_fd;
	uint32_t stats_entries;
	int l7_fd; /* -1 when the loader runs without L7 capture */
	uint64_t l7_size;
	uint64_t stats_size;
	uint32_t loader_pid;
	uint8_t digest[32];
};

/*
 * Run the processor's side of the hand-off on @sock (see ipc/ipc.h): HELLO,
 * then WELCOME, the fds, READY. Each fd kind must arrive exactly once.
 * Returns 0, or a negative code with a one-line reason in @err; on failure
 * every fd received is closed.
 */
int handoff_receive(int sock, struct handoff *h, char *err, size_t errlen);

/* What the kernel says an fd is, from /proc/self/fdinfo/N. */
struct fd_facts {
	int map_type; /* enum bpf_map_type; -1 if not a BPF map */
	uint32_t value_size;
	uint32_t max_entries;
	int frozen; /* 1, 0, or -1 when not reported */
};

/*
 * Parse fdinfo text (@len bytes, need not be NUL-terminated). Unknown lines
 * are ignored; a missing field keeps its "unknown" value (-1 / 0).
 */
void handoff_parse_fdinfo(const char *text, size_t len, struct fd_facts *f);

/*
 * Check each received fd against what the loader claimed, by asking the
 * kernel (fdinfo), not the loader: the ring buffer is a BPF ring buffer of
 * the announced size, the counters a frozen array of announced shape. Must
 * run before the sandbox (it opens /proc). 0, or -EBADMSG with @err set.
 */
int handoff_verify(const struct handoff *h, char *err, size_t errlen);

void handoff_close(struct handoff *h);

#endif
