/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L7 records (bpf/l7.h) to JSON metadata objects. Until protocol parsers
 * exist, payload bytes are never written: a data record says which
 * connection, which direction, how many bytes and whether they were cut,
 * nothing of what they were.
 */
#ifndef BPFWARDEN_PROCESSOR_L7EVENTS_H
#define BPFWARDEN_PROCESSOR_L7EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct scrubber;

struct l7_ctx {
	int64_t boot_to_real_ns;
	struct scrubber *scrubber; /* the detector pass on comm; NULL: scrubber_default() */
	uint64_t records;
	uint64_t conn_open, conn_close, data, tls;
	uint64_t payload_bytes; /* bytes the kernel captured (never written out) */
	uint64_t malformed;
};

/*
 * Validate one record (length against kind and cap_len) and describe it.
 * @payload and @payload_len are set to the captured bytes of data/TLS
 * records (NULL/0 otherwise) for the caller's reassembly. Returns 0,
 * -EBADMSG (counted), or -ENOMEM.
 */
int l7_decode(struct l7_ctx *ctx, const void *rec, uint32_t len, json_t **out,
              const uint8_t **payload, uint32_t *payload_len);

/*
 * The same checks and counters without building JSON, for records that are
 * not written (data and TLS records without --data-records). Returns the
 * record's kind, or -EBADMSG (counted).
 */
int l7_account(struct l7_ctx *ctx, const void *rec, uint32_t len);

struct l7_tuple;

/* "1.2.3.4:80" or "[::1]:80" for the local or remote end; -EBADMSG for an unknown family. */
int l7_endpoint(const struct l7_tuple *t, bool local, char *buf, size_t len);

#endif
