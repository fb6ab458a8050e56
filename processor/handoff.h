/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_PROCESSOR_HANDOFF_H
#define BPFWARDEN_PROCESSOR_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

/* What the loader hands over: one ring buffer and the kernel counters. */
struct handoff {
	int ringbuf_fd;
	uint64_t ringbuf_size;
	int stats_fd;
	uint32_t stats_entries;
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

void handoff_close(struct handoff *h);

#endif
