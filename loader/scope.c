// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "loader/scope.h"

int scope_cgroup_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char storage[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	struct statfs sfs;
	int mount_id;

	if (statfs(path, &sfs) < 0)
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	/* kernfs encodes the cgroup id as the 8-byte file handle. */
	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EPROTO;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int scope_cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "re");
	struct mntent *m;
	int r = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2") != 0)
			continue;
		if (strlen(m->mnt_dir) >= len) {
			r = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, m->mnt_dir);
		r = 0;
		break;
	}
	endmntent(f);
	return r;
}
