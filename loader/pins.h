/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_PINS_H
#define BPFWARDEN_LOADER_PINS_H

#include <stdbool.h>
#include <stddef.h>

#define PINS_MAX     512 /* maps and links under one pin directory */
#define PIN_NAME_MAX 64
#define PIN_COMPLETE "rodata" /* pinned last: its presence marks a complete set */

/*
 * The pin directory, held open and locked (flock) for the loader's whole
 * life, so two loaders never share one directory. The parent's fd is kept
 * too: after the privilege drop the loader can open nothing, but can still
 * unlink its pins and remove the directory through these two fds. The names
 * of the pins are remembered, since the sandboxed loader cannot list them.
 */
struct pin_dir {
	int parent_fd;
	int dir_fd;
	char base[256]; /* last path component */
	char path[4096];
	char names[PINS_MAX][PIN_NAME_MAX];
	size_t n;
};

/*
 * Create (mode 0700) or open @path, which must sit directly in a bpffs
 * mount, take its lock and list what is pinned there. Returns 0,
 * -EMEDIUMTYPE (parent is not bpffs), -EWOULDBLOCK (another loader holds
 * it), -EPERM (not ours, or writable by others), or -errno.
 */
int pins_open(struct pin_dir *d, const char *path);

/* Is the set complete (PIN_COMPLETE present)? */
bool pins_complete(const struct pin_dir *d);

/* Record @name as pinned (after a successful pin); -ENOSPC, -ENAMETOOLONG. */
int pins_add(struct pin_dir *d, const char *name);

/* Absolute path of pin @name, for libbpf's pin/obj_get calls. */
int pins_path(const struct pin_dir *d, const char *name, char *buf, size_t len);

/* Remove every recorded pin, links first; with @rmdir, the directory too. */
int pins_remove(struct pin_dir *d, bool rmdir);

void pins_close(struct pin_dir *d);

#endif
