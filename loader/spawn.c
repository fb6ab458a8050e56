// SPDX-License-Identifier: Apache-2.0
/*
 * Starting the processor. The child leaves the loader's trust domain here:
 * between fork and exec it closes every fd but its socket, gives up root
 * for the target user and every capability, and sets no_new_privs, so the
 * processor starts with nothing the loader had, except one socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "loader/spawn.h"

#define SPAWN_ARGV_MAX 64

int spawn_prepare(struct spawn_target *t, const char *user, const char *path)
{
	struct passwd *pw;
	struct stat st;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno ? -errno : -ESRCH;
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return -EPERM;
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	t->exe_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->exe_fd < 0)
		return -errno;
	if (fstat(t->exe_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

/* In the child only: write a message and leave without running atexit. */
__attribute__((noreturn)) static void child_fail(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "bpfwarden-loader: error: processor start: %s: %s\n",
	                 what, strerror(errno));

	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n);
	_exit(127);
}

static void child_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* errors for SIGKILL/SIGSTOP are fine */
}

/* Leave only stdin/out/err, the socket as fd 3 and the binary as fd 4. */
static void child_fds(int sock, int exe_fd)
{
	/* Park the binary above both targets first: it may sit on fd 3. */
	int exe = fcntl(exe_fd, F_DUPFD_CLOEXEC, SPAWN_IPC_FD + 2);

	if (exe < 0)
		child_fail("F_DUPFD_CLOEXEC");
	if (sock == SPAWN_IPC_FD) {
		if (fcntl(sock, F_SETFD, 0) < 0)
			child_fail("F_SETFD");
	} else if (dup2(sock, SPAWN_IPC_FD) < 0) {
		child_fail("dup2");
	}
	if (dup3(exe, SPAWN_IPC_FD + 1, O_CLOEXEC) < 0)
		child_fail("dup3");
	if (syscall(SYS_close_range, SPAWN_IPC_FD + 2, ~0u, 0) < 0)
		child_fail("close_range");
}

static void child_identity(const struct spawn_target *t)
{
	cap_t none;

	/* Bounding set first, while CAP_SETPCAP (if held) is still there. */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			child_fail("PR_CAPBSET_DROP");
	if (setgroups(0, NULL) < 0)
		child_fail("setgroups");
	if (setresgid(t->gid, t->gid, t->gid) < 0)
		child_fail("setresgid");
	if (setresuid(t->uid, t->uid, t->uid) < 0)
		child_fail("setresuid");
	none = cap_init();
	if (!none || cap_set_proc(none) < 0)
		child_fail("cap_set_proc");
	cap_free(none);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		child_fail("PR_CAP_AMBIENT_CLEAR_ALL");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("PR_SET_NO_NEW_PRIVS");
	/* Set after setresuid, which clears it: the loader's death ends us. The
	 * capless loader cannot signal us, so this is its last word. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail("PR_SET_PDEATHSIG");
	if (getuid() == 0 || geteuid() == 0)
		child_fail("still root");
}

__attribute__((noreturn)) static void child_exec(const struct spawn_target *t)
{
	static char fd_arg[] = "3";
	char *argv[SPAWN_ARGV_MAX + 4];
	char *envp[] = { NULL };
	int n = 0;

	argv[n++] = "bpfwarden-processor";
	argv[n++] = "--fd";
	argv[n++] = fd_arg;
	for (int i = 0; i < t->argc && n < SPAWN_ARGV_MAX; i++)
		argv[n++] = t->argv[i];
	argv[n] = NULL;
	syscall(SYS_execveat, SPAWN_IPC_FD + 1, "", argv, envp, AT_EMPTY_PATH);
	child_fail("execveat");
}

int spawn_processor(const struct spawn_target *t, int *sock, pid_t *pid, int *pidfd)
{
	int sv[2];
	pid_t child;

	if (t->argc > SPAWN_ARGV_MAX)
		return -E2BIG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (child == 0) {
		child_reset_signals();
		child_fds(sv[1], t->exe_fd);
		child_identity(t);
		child_exec(t);
	}
	close(sv[1]);
	/* Not reaped yet, so the pid cannot have been reused. */
	*pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (*pidfd < 0) {
		int err = -errno;

		kill(child, SIGKILL);
		close(sv[0]);
		return err;
	}
	*sock = sv[0];
	*pid = child;
	return 0;
}
