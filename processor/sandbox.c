// SPDX-License-Identifier: Apache-2.0
/*
 * The processor's confinement. It holds no privilege to begin with (checked
 * here, not assumed); the seccomp filter then takes away every syscall it
 * does not need after start-up, and a self-check proves the filter is live
 * before the first captured byte is read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "processor/sandbox.h"
#include "seccomp/filter.h"
#include "seccomp_processor.h"

int sandbox_check_unprivileged(char *err, size_t len)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (getuid() == 0 || geteuid() == 0) {
		snprintf(err, len, "refusing to run as uid 0; start it as an unprivileged user");
		return -EPERM;
	}
	if (getgid() == 0 || getegid() == 0) {
		snprintf(err, len, "refusing to run as gid 0; start it with an unprivileged group");
		return -EPERM;
	}
	memset(data, 0, sizeof(data));
	if (capget(&hdr, data) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (data[i].effective || data[i].permitted || data[i].inheritable) {
			snprintf(err, len, "refusing to run with capabilities; drop them all");
			return -EPERM;
		}
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0) {
			snprintf(err, len, "refusing to run with ambient capabilities");
			return -EPERM;
		}
	}
	return 0;
}

int sandbox_harden(void)
{
	struct rlimit none = { 0, 0 };

	/* Captured payloads must never land in a core dump. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	return 0;
}

static int bpf_denied(void)
{
	union bpf_attr attr;
	long r;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	r = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (r >= 0) {
		close((int)r);
		return -EPERM;
	}
	return errno == EPERM ? 0 : -EPERM;
}

int sandbox_enter(void)
{
	int r = sc_install_sigsys_reporter("bpfwarden-processor");

	if (r < 0)
		return r;
	r = sc_install(sc_processor_rules,
	               sizeof(sc_processor_rules) / sizeof(sc_processor_rules[0]));
	if (r < 0)
		return r;
	return bpf_denied();
}
