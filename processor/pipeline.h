/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The L7 path of the processor, one for every source (the kernel's ring
 * buffer, --replay, --pcap): validated records → per-connection state →
 * TCP reassembly (or TLS calls in order) → protocol session → "request"
 * records. Connection records (and, with data_records, per-segment
 * metadata) are written as before.
 */
#ifndef BPFWARDEN_PROCESSOR_PIPELINE_H
#define BPFWARDEN_PROCESSOR_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "processor/conntrack.h"
#include "processor/l7events.h"
#include "processor/records.h"
#include "processor/scrub_txn.h"
#include "processor/session.h"

struct pipeline {
	struct l7_ctx l7;
	struct conntrack ct;
	struct session_env env;
	struct records_stats rs;
	bool data_records;      /* write one record per segment / TLS call */
	void (*out)(json_t *o); /* connection records: takes ownership */
	void (*out_line)(const char *line, size_t len); /* request records, newline included */
	struct conn *cur;       /* connection being fed: the owner of emitted txns */
	struct scrubber *scrub; /* every transaction goes through it; never NULL */
	uint64_t tls_untracked; /* TLS calls the full table could not take */
	uint64_t tls_relinked;  /* TLS streams that moved to another socket (SSL object reused) */
};

/*
 * 0 or -ENOMEM. @out receives connection (and data) records, @out_line the
 * request records; boot_to_real_ns in pl->l7 is set by the caller.
 */
int pipeline_init(struct pipeline *pl, bool data_records, void (*out)(json_t *o),
                  void (*out_line)(const char *line, size_t len));

/* The same with a smaller connection table (fuzzing): see conntrack_init_sized(). */
int pipeline_init_sized(struct pipeline *pl, uint32_t conns, size_t pool, bool data_records,
                        void (*out)(json_t *o), void (*out_line)(const char *line, size_t len));

/*
 * Scrub with @s (pipeline_init uses scrubber_default()); also tells the
 * parsers which headers @s wants captured. @s must outlive @pl.
 */
void pipeline_set_scrubber(struct pipeline *pl, struct scrubber *s);

/* One record as read from the L7 source: validated, counted, followed. 0 or -ENOMEM. */
int pipeline_record(struct pipeline *pl, const void *rec, uint32_t len);

/* Close connections idle for CONNTRACK_IDLE_NS at @now_ns. */
void pipeline_expire(struct pipeline *pl, uint64_t now_ns);

/* Settle every connection (end of input or shutdown) and free everything. */
void pipeline_finish(struct pipeline *pl);

/* The "l7", "reassembly" and "parsing" parts of a stats record ("scrub": events_stats()). */
void pipeline_stats(const struct pipeline *pl, json_t *processor);

#endif
