/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the check suites that pass fds around. */
#ifndef BPFWARDEN_TEST_TESTUTIL_H
#define BPFWARDEN_TEST_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>

/* Open fds of this process, to prove that no fd leaked. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

static inline bool is_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

#endif
