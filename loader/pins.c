// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "loader/pins.h"

const char *const pin_names[PIN_COUNT] = {
	[PIN_RODATA] = "rodata",
	[PIN_SCOPE_CGROUPS] = "scope_cgroups",
	[PIN_STATS] = "stats",
	[PIN_EVENTS_SECURITY] = "events_security",
	[PIN_LINK_EXEC] = "link_sched_process_exec",
	[PIN_LINK_EXIT] = "link_sched_process_exit",
};

static int split_path(struct pin_dir *d, const char *path, char *parent, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t plen;

	if (!slash || !slash[1] || strlen(slash + 1) >= sizeof(d->base))
		return -EINVAL;
	if (strlen(path) >= sizeof(d->path))
		return -ENAMETOOLONG;
	plen = slash == path ? 1 : (size_t)(slash - path);
	if (plen >= len)
		return -ENAMETOOLONG;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	strcpy(d->base, slash + 1);
	strcpy(d->path, path);
	return 0;
}

/* Ours, a directory, and not writable by anyone else. */
static int check_owner(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

static int open_locked_dir(struct pin_dir *d)
{
	int r;

	if (mkdirat(d->parent_fd, d->base, 0700) < 0 && errno != EEXIST)
		return -errno;
	d->dir_fd = openat(d->parent_fd, d->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->dir_fd < 0)
		return -errno;
	r = check_owner(d->dir_fd);
	if (r < 0)
		return r;
	if (flock(d->dir_fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	return 0;
}

int pins_open(struct pin_dir *d, const char *path)
{
	char parent[sizeof(d->path)];
	struct statfs sfs;
	int r;

	memset(d, 0, sizeof(*d));
	d->parent_fd = d->dir_fd = -1;
	r = split_path(d, path, parent, sizeof(parent));
	if (r < 0)
		return r;
	d->parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->parent_fd < 0)
		return -errno;
	if (fstatfs(d->parent_fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != BPF_FS_MAGIC)
		return -EMEDIUMTYPE;
	return open_locked_dir(d);
}

int pins_count(const struct pin_dir *d)
{
	int n = 0;

	for (int i = 0; i < PIN_COUNT; i++)
		if (faccessat(d->dir_fd, pin_names[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			n++;
	return n;
}

int pins_path(const struct pin_dir *d, enum pin_id id, char *buf, size_t len)
{
	int n;

	if ((unsigned)id >= PIN_COUNT)
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", d->path, pin_names[id]);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pins_remove(struct pin_dir *d, bool rmdir)
{
	int r = 0;

	/* Links first, so the programs detach before their maps go. */
	for (int i = PIN_COUNT - 1; i >= 0; i--)
		if (unlinkat(d->dir_fd, pin_names[i], 0) < 0 && errno != ENOENT && !r)
			r = -errno;
	if (rmdir && unlinkat(d->parent_fd, d->base, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

void pins_close(struct pin_dir *d)
{
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	if (d->parent_fd >= 0)
		close(d->parent_fd);
	d->dir_fd = d->parent_fd = -1;
}
