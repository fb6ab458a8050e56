// SPDX-License-Identifier: Apache-2.0
/*
 * Capability checks and the one-way privilege drop of the loader.
 * Everything here is verified by reading the state back from the kernel:
 * a drop that did not happen is an error, never a log line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <linux/securebits.h>

#include "loader/caps.h"

bool caps_have(int cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c)
		return false;
	if (cap_get_flag(c, (cap_value_t)cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(c);
	return v == CAP_SET;
}

int caps_check(const struct cap_need *needs, int n, const struct cap_need **missing)
{
	for (int i = 0; i < n; i++) {
		if (!caps_have(needs[i].cap)) {
			*missing = &needs[i];
			return -EPERM;
		}
	}
	*missing = NULL;
	return 0;
}

static int last_cap(void)
{
	int last = CAP_LAST_CAP;

	/* The kernel may know more capabilities than our headers. */
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

static int drop_bounding_set(void)
{
	int last = last_cap();

	for (int cap = 0; cap <= last; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

static int lock_securebits(void)
{
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
	                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
	                     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static int clear_process_sets(void)
{
	cap_t c = cap_init(); /* all three sets empty */
	int r = 0;

	if (!c)
		return -errno;
	if (cap_set_proc(c) < 0)
		r = -errno;
	cap_free(c);
	return r;
}

static uint64_t bounding_set(void)
{
	uint64_t mask = 0;
	int last = last_cap();

	for (int cap = 0; cap <= last && cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0)
			mask |= 1ull << cap;
	return mask;
}

/* Read back: every set empty, no ambient capability, no_new_privs on. */
static int verify_dropped(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int last = last_cap();

	memset(data, 0, sizeof(data));
	if (capget(&hdr, data) < 0)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return -EPERM;
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	return 0;
}

int caps_drop_all(uint64_t *bset_left)
{
	bool setpcap = caps_have(CAP_SETPCAP);
	int r;

	if (setpcap) {
		r = drop_bounding_set();
		if (r < 0)
			return r;
		r = lock_securebits();
		if (r < 0)
			return r;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	r = clear_process_sets();
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	*bset_left = bounding_set();
	if (setpcap && *bset_left)
		return -EPERM;
	return verify_dropped();
}

void caps_describe(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int cap = 0; cap < 64 && used < len; cap++) {
		char *name;
		int n;

		if (!(mask & (1ull << cap)))
			continue;
		name = cap_to_name((cap_value_t)cap);
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", name ? name : "?");
		cap_free(name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
