/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_PINS_H
#define BPFWARDEN_LOADER_PINS_H

#include <stdbool.h>

/* What the loader pins under its directory, in pin order. */
enum pin_id {
	PIN_RODATA,
	PIN_SCOPE_CGROUPS,
	PIN_STATS,
	PIN_EVENTS_SECURITY,
	PIN_LINK_EXEC,
	PIN_LINK_EXIT,
	PIN_COUNT,
};

extern const char *const pin_names[PIN_COUNT];

/*
 * The pin directory, held open and locked (flock) for the loader's whole
 * life, so two loaders never share one directory. The parent's fd is kept
 * too: after the privilege drop the loader can open nothing, but can still
 * unlink its pins and remove the directory through these two fds.
 */
struct pin_dir {
	int parent_fd;
	int dir_fd;
	char base[256]; /* last path component */
	char path[4096];
};

/*
 * Create (mode 0700) or open @path, which must sit directly in a bpffs
 * mount, and take its lock. Returns 0, -EMEDIUMTYPE (parent is not bpffs),
 * -EWOULDBLOCK (another loader holds it), -EPERM (not ours, or writable by
 * others), or -errno.
 */
int pins_open(struct pin_dir *d, const char *path);

/* How many of the PIN_COUNT pins exist (0: fresh, PIN_COUNT: reusable). */
int pins_count(const struct pin_dir *d);

/* Absolute path of a pin, for libbpf's pin/obj_get calls. */
int pins_path(const struct pin_dir *d, enum pin_id id, char *buf, size_t len);

/* Remove every pin (missing ones are fine); with @rmdir, the directory too. */
int pins_remove(struct pin_dir *d, bool rmdir);

void pins_close(struct pin_dir *d);

#endif
