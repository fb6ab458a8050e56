// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
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

static int scan(struct pin_dir *d);

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
	return scan(d);
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

static int scan(struct pin_dir *d)
{
	int fd = dup(d->dir_fd);
	struct dirent *e;
	DIR *dir;
	int r = 0;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while (r == 0 && (e = readdir(dir)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			r = pins_add(d, e->d_name);
	closedir(dir);
	return r;
}

bool pins_complete(const struct pin_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->names[i], PIN_COMPLETE) == 0)
			return true;
	return false;
}

int pins_add(struct pin_dir *d, const char *name)
{
	if (d->n == PINS_MAX)
		return -ENOSPC;
	if (strlen(name) >= PIN_NAME_MAX)
		return -ENAMETOOLONG;
	strcpy(d->names[d->n++], name);
	return 0;
}

int pins_path(const struct pin_dir *d, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int unpin(struct pin_dir *d, bool links)
{
	int r = 0;

	for (size_t i = 0; i < d->n; i++) {
		if ((strncmp(d->names[i], "link_", 5) == 0) != links)
			continue;
		if (unlinkat(d->dir_fd, d->names[i], 0) < 0 && errno != ENOENT && !r)
			r = -errno;
	}
	return r;
}

int pins_remove(struct pin_dir *d, bool rmdir)
{
	/* Links first, so the programs detach before their maps go. */
	int r = unpin(d, true);
	int r2 = unpin(d, false);

	if (!r)
		r = r2;
	d->n = 0;
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
