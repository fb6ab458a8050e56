// SPDX-License-Identifier: Apache-2.0
/*
 * l7_decode() and l7_account() on one L7 ring-buffer record. The processor
 * uses l7_account() instead of l7_decode() for records it does not write out,
 * so the two must pass the same verdict and count the same payload; the
 * payload view l7_decode() returns must lie inside the record.
 */
#include <errno.h>
#include <linux/types.h>

#include "bpf/l7.h"
#include "processor/l7events.h"
#include "test/fuzz/fuzz.h"
#include "test/fuzz/fuzz_json.h"

/* The payload is the tail of a data or TLS record, right after its fixed part. */
static void check_payload(const uint8_t *rec, uint32_t len, const uint8_t *p, uint32_t plen)
{
	uint32_t kind;
	size_t fixed;

	memcpy(&kind, rec, sizeof(kind));
	if (plen == 0) {
		FUZZ_CHECK(p == NULL);
		return;
	}
	FUZZ_CHECK(kind == L7_DATA || kind == L7_TLS_DATA);
	fixed = kind == L7_DATA ? sizeof(struct l7_data) : sizeof(struct l7_tls);
	FUZZ_CHECK(p == rec + fixed && fixed + plen == len);
	FUZZ_CHECK(plen <= L7_CAPTURE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l7_ctx dc = { .boot_to_real_ns = BOOT_TO_REAL_NS }, ac = dc;
	const uint8_t *payload = data; /* must be overwritten */
	uint32_t plen = UINT32_MAX, len;
	json_t *o = NULL;
	uint8_t *rec;
	int rd, ra;

	if (size > UINT32_MAX)
		return 0;
	len = (uint32_t)size;
	rec = fuzz_dup(data, size);
	rd = l7_decode(&dc, rec, len, &o, &payload, &plen);
	ra = l7_account(&ac, rec, len);
	FUZZ_CHECK(rd == 0 || rd == -EBADMSG);
	FUZZ_CHECK((rd == 0) == (ra > 0));
	FUZZ_CHECK(dc.malformed == ac.malformed && dc.payload_bytes == ac.payload_bytes);
	if (rd == 0) {
		uint32_t kind;

		memcpy(&kind, rec, sizeof(kind));
		FUZZ_CHECK((uint32_t)ra == kind);
		FUZZ_CHECK(o != NULL && dc.malformed == 0 && dc.payload_bytes == plen);
		check_payload(rec, len, payload, plen);
		check_json(o);
	} else {
		FUZZ_CHECK(ra == -EBADMSG);
		FUZZ_CHECK(o == NULL && payload == NULL && plen == 0);
		FUZZ_CHECK(dc.malformed == 1 && dc.payload_bytes == 0);
	}
	json_decref(o);
	free(rec);
	return 0;
}
