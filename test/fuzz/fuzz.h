/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the libFuzzer targets in test/fuzz/. Each target hands the code
 * under test an exactly-sized heap copy of its input, so ASan reports a read
 * one byte past the end, and aborts (a crash libFuzzer keeps) on any broken
 * invariant.
 */
#ifndef BPFWARDEN_TEST_FUZZ_H
#define BPFWARDEN_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* malloc(0) under ASan is a valid pointer to nothing: reading it is reported. */
static inline void *fuzz_dup(const void *data, size_t size)
{
	void *p = malloc(size);

	if (!p && size > 0)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	return p;
}

/* Strict UTF-8 (shortest form, no surrogates, <= U+10FFFF), written apart from text.c. */
static inline int fuzz_valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp, min;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

#endif
