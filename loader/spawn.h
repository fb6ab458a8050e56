/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_SPAWN_H
#define BPFWARDEN_LOADER_SPAWN_H

#include <sys/types.h>

/* The unprivileged identity and the exact binary the processor runs as. */
struct spawn_target {
	uid_t uid;
	gid_t gid;
	int exe_fd;  /* opened by the loader before the drop; exec'd by fd */
	char **argv; /* extra processor arguments (NULL-terminated) */
	int argc;
};

/* fd number the processor finds its end of the socketpair on (--fd 3). */
#define SPAWN_IPC_FD 3

/*
 * Resolve @user to a non-root uid/gid and open @path as the processor binary
 * (a regular file, not writable by group or others). 0, -EPERM (root user
 * or unsafe binary), -ESRCH (no such user), or -errno.
 */
int spawn_prepare(struct spawn_target *t, const char *user, const char *path);

/*
 * fork + exec the processor as t->uid/t->gid with a clean environment, no
 * capability in any set, no_new_privs, and only its end of a new
 * SOCK_SEQPACKET socketpair open (as SPAWN_IPC_FD). Returns 0 with the
 * loader's end in *@sock, the child in *@pid and a pidfd for it in *@pidfd
 * (the only handle through which the broker signals and waits), or -errno.
 */
int spawn_processor(const struct spawn_target *t, int *sock, pid_t *pid, int *pidfd);

#endif
