// SPDX-License-Identifier: Apache-2.0
/*
 * detect_redact() and detect_any() on arbitrary bytes. Input layout:
 *
 *   0  u8 cap   a second, small output capacity to try (0-255)
 *   then the bytes to redact
 *
 * Invariants: the output fits in len * DETECT_MARKER_MAX bytes and is
 * NUL-terminated; each detector's count equals the markers of its name in
 * the output (at least, when the input already holds "[REDACTED:"); nothing
 * is left past the NUL; detect_any() agrees with the counts; redacting the
 * output again gives the same bytes and counts nothing (so detect_any() of
 * the output is false); a capacity that is too small gives -ENOSPC, "", a
 * zeroed buffer and untouched counts, and one that suffices the same output.
 */
#include <errno.h>
#include <stdbool.h>

#include "processor/detect.h"
#include "test/fuzz/fuzz.h"

#define MARK_OPEN "[REDACTED:"
#define FILL      0xa5 /* in every output byte before the call */

/* Markers of detector @d in @s (@n bytes). */
static uint64_t markers_of(const char *s, size_t n, int d)
{
	char mark[64];
	int ml = snprintf(mark, sizeof(mark), DETECT_MARKER_FMT, detector_names[d]);
	uint64_t count = 0;
	const char *p = s, *end = s + n;

	FUZZ_CHECK(ml > 0 && (size_t)ml < sizeof(mark));
	while ((p = memmem(p, (size_t)(end - p), mark, (size_t)ml)) != NULL) {
		count++;
		p += ml;
	}
	return count;
}

static long redact(const char *in, size_t len, char *out, size_t cap, uint64_t *counts)
{
	memset(out, FILL, cap);
	return detect_redact(in, len, out, cap, counts);
}

static void check_counts(const char *in, size_t len, const char *out, size_t n,
                         const uint64_t *counts)
{
	bool literal = memmem(in, len, MARK_OPEN, strlen(MARK_OPEN)) != NULL;
	uint64_t total = 0;

	for (int d = 0; d < DET__COUNT; d++) {
		uint64_t m = markers_of(out, n, d);

		FUZZ_CHECK(literal ? m >= counts[d] : m == counts[d]);
		total += counts[d];
	}
	FUZZ_CHECK(detect_any(in, len) == (total > 0));
}

/* Redacting the output again: same bytes, nothing counted, nothing detected. */
static void check_idempotent(const char *out, size_t n)
{
	char *again = fuzz_dup(out, n), *out2 = malloc(n + 1);
	uint64_t counts[DET__COUNT] = { 0 };
	long n2;

	FUZZ_CHECK(out2 != NULL);
	n2 = redact(again, n, out2, n + 1, counts);
	FUZZ_CHECK(n2 == (long)n && memcmp(out2, out, n) == 0);
	for (int d = 0; d < DET__COUNT; d++)
		FUZZ_CHECK(counts[d] == 0);
	FUZZ_CHECK(!detect_any(again, n));
	free(out2);
	free(again);
}

static void check_small_cap(const char *in, size_t len, const char *out, long n, size_t cap)
{
	uint64_t counts[DET__COUNT] = { 0 };
	char *small = malloc(cap > 0 ? cap : 1);
	long r;

	FUZZ_CHECK(small != NULL);
	r = redact(in, len, small, cap, counts);
	if ((size_t)n < cap) {
		FUZZ_CHECK(r == n && memcmp(small, out, (size_t)n + 1) == 0);
	} else {
		FUZZ_CHECK(r == -ENOSPC);
		for (size_t k = 0; k < cap; k++)
			FUZZ_CHECK(small[k] == 0 || (unsigned char)small[k] == FILL);
		for (int d = 0; d < DET__COUNT; d++)
			FUZZ_CHECK(counts[d] == 0);
	}
	free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t counts[DET__COUNT] = { 0 };
	size_t len, cap;
	char *in, *out;
	long n;

	if (size < 1)
		return 0;
	len = size - 1;
	in = fuzz_dup(data + 1, len);
	cap = len * DETECT_MARKER_MAX + 1;
	out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	n = redact(in, len, out, cap, counts);
	FUZZ_CHECK(n >= 0 && (size_t)n < cap && out[n] == '\0');
	/* past the NUL: never written, or cleared */
	for (size_t k = (size_t)n + 1; k < cap; k++)
		FUZZ_CHECK(out[k] == 0 || (unsigned char)out[k] == FILL);
	check_counts(in, len, out, (size_t)n, counts);
	check_idempotent(out, (size_t)n);
	check_small_cap(in, len, out, n, data[0]);
	free(out);
	free(in);
	return 0;
}
