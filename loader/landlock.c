// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/landlock.h>

#include "loader/landlock.h"

/* Rights newer than Debian 12's linux/landlock.h (ABI 2). */
#define LL_FS_TRUNCATE     (1ull << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV    (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP    (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)  /* ABI 4 */

/* The ruleset attribute as of ABI 6; the size passed selects the fields. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static uint64_t fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

static int add_rule(int ruleset, int dir_fd, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access, .parent_fd = dir_fd };

	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

int loader_landlock(int pin_dir_fd, int parent_fd)
{
	struct ll_ruleset_attr attr;
	size_t size = sizeof(uint64_t);
	int abi, ruleset, r;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_rights(abi);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -errno;
	r = add_rule(ruleset, pin_dir_fd, LANDLOCK_ACCESS_FS_REMOVE_FILE);
	if (r == 0)
		r = add_rule(ruleset, parent_fd, LANDLOCK_ACCESS_FS_REMOVE_DIR);
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = -errno;
	close(ruleset);
	return r < 0 ? r : abi;
}
