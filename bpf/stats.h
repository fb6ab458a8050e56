/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel-side counters, shared with userspace. They live in one
 * BPF_F_MMAPABLE array of __u64 ("stats") that the loader hands to the
 * processor as a read-only fd: the processor reads them by mmap, never by
 * bpf(), and cannot reset them. Every event the kernel could not deliver is
 * counted here under its reason.
 */
#ifndef BPFWARDEN_BPF_STATS_H
#define BPFWARDEN_BPF_STATS_H

enum stat_id {
	STAT_SEC_SUBMITTED = 0,       /* security events written to the ring buffer */
	STAT_SEC_DROP_RB_FULL = 1,    /* security events lost: ring buffer full */
	STAT_EXEC_ARGS_TRUNCATED = 2, /* exec args longer than PROC_ARGS_MAX */
	STAT_EXEC_ARGS_FAULT = 3,     /* exec args unreadable (page not present) */
	STAT_EXEC_FILENAME_TRUNCATED = 4,
	STAT_EXEC_FILENAME_FAULT = 5,
	STAT_OUT_OF_SCOPE = 6,      /* events seen and filtered out by scope */
	STAT_L7_SUBMITTED = 7,      /* L7 records written (data, TLS, connections) */
	STAT_L7_DROP_RB_FULL = 8,   /* L7 records lost: L7 ring buffer full */
	STAT_L7_TRUNCATED = 9,      /* payload records cut to --capture-bytes */
	STAT_L7_DROP_MAP_FULL = 10, /* no per-socket/TLS state could be stored */
	STAT_L7_FILTERED = 11,      /* segments outside --port/--comm */
	STAT_L7_NOT_TCP = 12,       /* packets skipped: not TCP, or unparsable */
	STAT_TLS_DROP_RB_FULL = 13, /* TLS records lost: ring buffer full */
	STAT_TLS_OUT_OF_SCOPE = 14, /* SSL calls from processes outside scope */
	STAT_COUNT = 15,
};

/* Room for later counters without changing the map's size. */
#define STAT_SLOTS 32

_Static_assert(STAT_COUNT <= STAT_SLOTS, "stats array too small");

#endif
