/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transactions (processor/proto.h) to "request" records: one JSON object,
 * written straight into a line buffer (no JSON tree: building one per
 * request with jansson cost four fifths of the parsing benchmark). Strings
 * come scrubbed (processor/scrub_txn.h: valid UTF-8, detectors run) and are
 * JSON-escaped here; keys are the parsers' literals. The process name goes
 * through scrubber_text() too.
 */
#ifndef BPFWARDEN_PROCESSOR_RECORDS_H
#define BPFWARDEN_PROCESSOR_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "processor/conntrack.h"
#include "processor/proto.h"
#include "processor/scrub_txn.h"

#define RECORDS_LINE_MAX (256 * 1024) /* longest request line: 27 attributes of 4 KiB, escaped */

struct records_stats {
	uint64_t written;  /* request records built */
	uint64_t too_long; /* records that did not fit RECORDS_LINE_MAX (not written) */
};

/*
 * Write the record of @t carried by @c, with @sc its attributes as
 * scrubbed by @scr, into @buf (@cap bytes), newline included, no NUL.
 * Returns its length, or 0 when it did not fit (counted).
 */
size_t records_txn(const struct l7_txn *t, const struct scrubbed *sc, struct scrubber *scr,
                   const struct conn *c, int64_t boot_to_real_ns, struct records_stats *st,
                   char *buf, size_t cap);

#define RECORDS_TIME_LEN 64

/* RFC 3339 UTC with nanoseconds, as events_format_time(), the date part cached per second. */
void records_format_time(int64_t real_ns, char out[RECORDS_TIME_LEN]);

#endif
