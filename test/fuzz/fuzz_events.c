// SPDX-License-Identifier: Apache-2.0
/*
 * events_decode() on one security-event record as the kernel would put it in
 * the ring buffer. An accepted record must become JSON that serialises, is
 * valid UTF-8 and parses back to the same object; a rejected one must be
 * counted as malformed and produce nothing.
 */
#include <errno.h>
#include <linux/types.h>

#include "bpf/proc.h"
#include "processor/events.h"
#include "test/fuzz/fuzz.h"
#include "test/fuzz/fuzz_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events_ctx ctx = { .boot_to_real_ns = BOOT_TO_REAL_NS };
	uint8_t *rec;
	json_t *o = (json_t *)&ctx; /* must be overwritten */
	int r;

	if (size > UINT32_MAX)
		return 0;
	rec = fuzz_dup(data, size);
	r = events_decode(&ctx, rec, (uint32_t)size, &o);
	FUZZ_CHECK(ctx.records == 1);
	if (r == 0) {
		FUZZ_CHECK(o != NULL && json_is_object(o));
		FUZZ_CHECK(ctx.malformed == 0 && ctx.exec + ctx.exit == 1);
		check_json(o);
	} else {
		/* No allocation fails here: -ENOMEM would be invalid text in a string. */
		FUZZ_CHECK(r == -EBADMSG);
		FUZZ_CHECK(o == NULL && ctx.malformed == 1 && ctx.exec + ctx.exit == 0);
	}
	json_decref(o);
	free(rec);
	return 0;
}
