/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_LANDLOCK_H
#define BPFWARDEN_LOADER_LANDLOCK_H

/*
 * Confine the loader's filesystem access for the rest of its life: after
 * the drop it is still uid 0, and DAC alone would let it unlink any
 * root-owned file. Landlock leaves exactly two rights: remove files beneath
 * the pin directory (@pin_dir_fd) and remove directories beneath its parent
 * (@parent_fd), so it can unpin and clean up, and nothing else: no open, no
 * create, no other removal; with ABI >= 4 no TCP bind or connect either.
 * Needs no privilege but no_new_privs. Returns the Landlock ABI enforced,
 * -EOPNOTSUPP when the kernel has no Landlock, or -errno.
 */
int loader_landlock(int pin_dir_fd, int parent_fd);

#endif
