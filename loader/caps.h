/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_CAPS_H
#define BPFWARDEN_LOADER_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* A capability the loader needs, with the reason given when it is missing. */
struct cap_need {
	int cap;
	const char *name;
	const char *why;
};

/*
 * Check that every capability in @needs is in the effective set. Returns 0,
 * or -EPERM with *@missing pointing at the first one absent.
 */
int caps_check(const struct cap_need *needs, int n, const struct cap_need **missing);

/* Whether @cap is in the effective set now. */
bool caps_have(int cap);

/*
 * Drop every capability this process holds, in this order:
 *   1. the bounding set (needs CAP_SETPCAP; skipped without it)
 *   2. securebits NOROOT, NO_SETUID_FIXUP, KEEP_CAPS, NO_CAP_AMBIENT_RAISE,
 *      all locked (needs CAP_SETPCAP too, so it comes before step 4)
 *   3. the ambient set
 *   4. effective, permitted and inheritable
 *   5. no_new_privs
 * then read everything back. Returns 0 or -errno; *@bset_left receives the
 * bounding-set bits the kernel did not let us clear (0 with CAP_SETPCAP).
 */
int caps_drop_all(uint64_t *bset_left);

/* Fill @buf with the names of the capabilities in @mask ("cap_bpf,..."). */
void caps_describe(uint64_t mask, char *buf, size_t len);

#endif
