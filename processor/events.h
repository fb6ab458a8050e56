/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security-event records (bpf/proc.h) to JSON objects. Records come from
 * the kernel through a ring buffer the processor does not trust: every
 * length is checked against the record's size and its named maximum before
 * anything is read, and a record that fails a check is counted, not shown.
 */
#ifndef BPFWARDEN_PROCESSOR_EVENTS_H
#define BPFWARDEN_PROCESSOR_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "processor/scrub.h"

struct scrubber;

struct events_ctx {
	int64_t boot_to_real_ns;   /* CLOCK_REALTIME - CLOCK_BOOTTIME at start */
	uint64_t records;          /* ring-buffer records seen */
	uint64_t exec;             /* exec events emitted */
	uint64_t exit;             /* exit events emitted */
	uint64_t malformed;        /* records rejected by a check */
	struct scrub_counts scrub; /* process-argument rules (scrub_arg) */
	/* The detector pass on every string of exec/exit records, the policy's
	 * process_args switch and the "scrub" stats; NULL: scrubber_default(). */
	struct scrubber *scrubber;
};

/*
 * Decode one record into a new JSON object (the caller owns it). Returns 0,
 * -EBADMSG for a malformed record (counted in ctx->malformed), or -ENOMEM.
 */
int events_decode(struct events_ctx *ctx, const void *rec, uint32_t len, json_t **out);

/*
 * A "stats" record: the kernel's counters (@kstats, @nk values, read from
 * the mmapped array) and the processor's own, "scrub" included
 * (scrubber_stats_json()). NULL on allocation failure.
 */
json_t *events_stats(struct events_ctx *ctx, const volatile uint64_t *kstats, size_t nk,
                     int64_t now_real_ns);

/* RFC 3339 UTC time with nanoseconds, e.g. 2026-11-22T00:10:00.123456789Z. */
void events_format_time(int64_t real_ns, char *buf, size_t len);

#endif
