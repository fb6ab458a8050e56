// SPDX-License-Identifier: Apache-2.0
/*
 * Which OpenSSL library files to probe. Input is the kernel's own text
 * (/proc/PID/maps and cgroup.procs of directories the operator named), read
 * before the privilege drop; paths found there are only stat()ed here and
 * handed to libbpf, never executed or parsed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ipc/log.h"
#include "loader/tls.h"

#define CGROUP_WALK_DEPTH 32

int tls_add(struct tls_libs *t, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++)
		if (t->dev[i] == st.st_dev && t->ino[i] == st.st_ino)
			return 0;
	if (t->n == TLS_LIBS_MAX)
		return -ENOSPC;
	if (strlen(path) >= TLS_PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(t->path[t->n], path);
	t->dev[t->n] = st.st_dev;
	t->ino[t->n] = st.st_ino;
	t->n++;
	return 0;
}

/* One maps line: "addr perms offset dev inode   /path". */
static void maps_line(struct tls_libs *t, int pid, const char *line)
{
	const char *path = strchr(line, '/');
	char buf[TLS_PATH_MAX], in_ns[TLS_PATH_MAX + 64];
	size_t len;

	if (!path || !strstr(path, "/libssl.so"))
		return;
	len = strcspn(path, "\n");
	if (len >= sizeof(buf) || strstr(path, " (deleted)"))
		return;
	memcpy(buf, path, len);
	buf[len] = '\0';
	/* The process may live in another mount namespace: its root first. */
	snprintf(in_ns, sizeof(in_ns), "/proc/%d/root%s", pid, buf);
	if (tls_add(t, in_ns) < 0)
		tls_add(t, buf);
}

static void scan_pid(struct tls_libs *t, int pid)
{
	char path[64], line[TLS_PATH_MAX + 128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == EACCES || errno == EPERM) {
			t->unreadable++;
			log_info("TLS discovery: cannot read %s (another user; needs "
			         "CAP_SYS_PTRACE, which the loader never holds): use --tls-lib\n",
			         path);
		}
		return;
	}
	while (fgets(line, sizeof(line), f))
		maps_line(t, pid, line);
	fclose(f);
}

static void scan_procs_file(struct tls_libs *t, int dirfd)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	int pid;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			scan_pid(t, pid);
	fclose(f);
}

/* This cgroup and its descendants, bounded in depth. */
static void walk_cgroup(struct tls_libs *t, int dirfd, int depth)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	scan_procs_file(t, dirfd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (depth < CGROUP_WALK_DEPTH && (e = readdir(d))) {
		int sub;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub >= 0) {
			walk_cgroup(t, sub, depth + 1);
			close(sub);
		}
	}
	closedir(d);
}

static void scan_all(struct tls_libs *t)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0)
			scan_pid(t, (int)pid);
	}
	closedir(d);
}

int tls_discover(struct tls_libs *t, const char *const *cgroups, size_t ncgroups)
{
	if (ncgroups == 0) {
		scan_all(t);
		return 0;
	}
	for (size_t i = 0; i < ncgroups; i++) {
		int fd = open(cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		walk_cgroup(t, fd, 0);
		close(fd);
	}
	return 0;
}
