/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scrubbing of process arguments before they leave the processor. This is
 * the first rule table of the scrubber; every rule is counted by name.
 */
#ifndef BPFWARDEN_PROCESSOR_SCRUB_H
#define BPFWARDEN_PROCESSOR_SCRUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRUB_MARK "[REDACTED]"

enum scrub_rule {
	SCRUB_FLAG_VALUE,   /* --password=x, --api-token=x */
	SCRUB_NEXT_ARG,     /* --password x, -p x: the argument after a secret flag */
	SCRUB_ATTACHED_P,   /* -pSECRET (mysql, mariadb) */
	SCRUB_KEY_VALUE,    /* token=x, PGPASSWORD=x */
	SCRUB_URL_USERINFO, /* scheme://user:secret@host */
	SCRUB_RULES,
};

extern const char *const scrub_rule_names[SCRUB_RULES];

struct scrub_counts {
	uint64_t hits[SCRUB_RULES];
};

/*
 * Scrub one argument (@arg, NUL-terminated, valid UTF-8) into @out (@cap >=
 * sizeof(SCRUB_MARK) bytes), NUL-terminated. @secret_next carries state from
 * one argument to the next: set it to false before the first argument.
 * Returns the bytes written (NUL excluded). Output never holds more of the
 * input than the rules keep; if it does not fit it is cut, never left raw.
 */
size_t scrub_arg(const char *arg, char *out, size_t cap, bool *secret_next,
                 struct scrub_counts *counts);

#endif
