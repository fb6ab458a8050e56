// SPDX-License-Identifier: Apache-2.0
/*
 * handoff_parse_fdinfo() on arbitrary text, as if /proc/self/fdinfo/N had
 * said it (the buffer is not NUL-terminated, as after read()). Values come
 * out in their documented ranges, and a trailing newline changes nothing.
 */
#include "processor/handoff.h"
#include "test/fuzz/fuzz.h"

static void check_ranges(const struct fd_facts *f)
{
	FUZZ_CHECK(f->map_type >= -1);
	FUZZ_CHECK(f->frozen >= -1);
	FUZZ_CHECK(f->value_size <= INT32_MAX && f->max_entries <= INT32_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size), *nl;
	struct fd_facts a, b;

	handoff_parse_fdinfo(text, size, &a);
	check_ranges(&a);
	nl = malloc(size + 1);
	FUZZ_CHECK(nl != NULL);
	memcpy(nl, data, size);
	nl[size] = '\n';
	handoff_parse_fdinfo(nl, size + 1, &b);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	free(nl);
	free(text);
	return 0;
}
