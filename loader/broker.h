/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_BROKER_H
#define BPFWARDEN_LOADER_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/ipc.h"

/* One fd the broker hands to the processor, and how it describes it. */
struct handoff_fd {
	struct ipc_fd_desc desc;
	int fd;
};

struct broker {
	int sock;    /* loader's end of the socketpair */
	int sigfd;   /* signalfd: SIGTERM, SIGINT, SIGHUP */
	pid_t child; /* the processor */
	int pidfd;   /* the processor: readable when it has exited */
	const struct handoff_fd *fds;
	size_t nfds;
	uint8_t digest[32]; /* SHA-256 of the loaded eBPF object */
};

/* How long a stopping processor may take before the loader leaves it. */
#define BROKER_STOP_GRACE_MS 10000

/*
 * Serve the processor until it exits: the hand-off first, then nothing but
 * watching. SIGTERM/SIGINT/SIGHUP become IPC_STOP. Returns the loader's exit
 * code: 0 when the processor exited 0, 1 otherwise.
 */
int broker_run(const struct broker *b);

#endif
