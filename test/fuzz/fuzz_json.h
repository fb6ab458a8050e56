/* SPDX-License-Identifier: Apache-2.0 */
/* JSON checks shared by the fuzz targets of the record decoders. */
#ifndef BPFWARDEN_TEST_FUZZ_JSON_H
#define BPFWARDEN_TEST_FUZZ_JSON_H

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test/fuzz/fuzz.h"

/* 2026-01-01T00:00:00Z minus a day of uptime: a realistic boot offset. */
#define BOOT_TO_REAL_NS (1767225600ll * 1000000000ll - 86400ll * 1000000000ll)

/* An accepted record dumps to valid UTF-8 JSON that parses back equal. */
static inline void check_json(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_error_t jerr;
	json_t *back;

	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)s, strlen(s)));
	back = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(back != NULL && json_equal(o, back));
	json_decref(back);
	free(s);
}

#endif
