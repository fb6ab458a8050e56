/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_TLS_H
#define BPFWARDEN_LOADER_TLS_H

#include <stddef.h>
#include <sys/types.h>

#define TLS_LIBS_MAX 32
#define TLS_PATH_MAX 4096

struct tls_libs {
	char path[TLS_LIBS_MAX][TLS_PATH_MAX];
	dev_t dev[TLS_LIBS_MAX];
	ino_t ino[TLS_LIBS_MAX];
	size_t n;
	size_t unreadable; /* processes whose maps we could not read */
};

/* Add @path (must exist); the same file (device, inode) is added once. */
int tls_add(struct tls_libs *t, const char *path);

/*
 * Find the libssl files mapped by the processes of @cgroups (each
 * directory and its descendants), or by every process when @ncgroups is 0.
 * Reading another user's /proc/PID/maps needs CAP_SYS_PTRACE, which the
 * loader never holds: such processes are counted in t->unreadable and
 * logged, and --tls-lib covers them. Returns 0 or -errno.
 */
int tls_discover(struct tls_libs *t, const char *const *cgroups, size_t ncgroups);

#endif
