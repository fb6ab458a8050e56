/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_SCOPE_H
#define BPFWARDEN_LOADER_SCOPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Resolve a cgroup-v2 directory to its 64-bit cgroup id (what
 * bpf_get_current_cgroup_id() returns). Returns 0, -EMEDIUMTYPE when @path
 * is not on a cgroup2 filesystem, or -errno.
 */
int scope_cgroup_id(const char *path, uint64_t *id);

/* Find the cgroup2 mount point in /proc/mounts; 0, -ENOENT or -errno. */
int scope_cgroup2_mount(char *buf, size_t len);

#endif
