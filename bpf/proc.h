/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process (security) events: the record layout shared by bpf/proc.bpf.c and
 * the processor. Fixed-width fields only; the includer provides __u32/__u64
 * (vmlinux.h on the BPF side, <linux/types.h> in userspace).
 *
 * A record is either a struct proc_exec (kind PROC_EXEC) or a bare
 * struct proc_hdr (kind PROC_EXIT); the processor checks the ring-buffer
 * record length against the kind before reading anything else.
 */
#ifndef BPFWARDEN_BPF_PROC_H
#define BPFWARDEN_BPF_PROC_H

#define PROC_COMM_LEN     16
#define PROC_FILENAME_MAX 256  /* bytes of the exec path, NUL included */
#define PROC_ARGS_MAX     1024 /* bytes of NUL-separated argv; power of two */
#define CGROUP_DEPTH_MAX  32   /* ancestors checked against the scope */
#define SCOPE_CGROUPS_MAX 64   /* entries in the cgroup allowlist */

enum proc_kind {
	PROC_EXEC = 1,
	PROC_EXIT = 2,
};

enum proc_flags {
	PROC_F_ARGS_TRUNCATED = 1u << 0,
	PROC_F_ARGS_FAULT = 1u << 1,
	PROC_F_FILENAME_TRUNCATED = 1u << 2,
	PROC_F_FILENAME_FAULT = 1u << 3,
};

struct proc_hdr {
	__u32 kind;          /* enum proc_kind */
	__u32 flags;         /* enum proc_flags */
	__u64 ts_boot_ns;    /* CLOCK_BOOTTIME of the event */
	__u64 start_boot_ns; /* CLOCK_BOOTTIME the process started */
	__u64 cgroup_id;     /* cgroup v2 id (inode number of its directory) */
	__u32 pid;           /* thread group id */
	__u32 tid;
	__u32 ppid; /* real parent's thread group id */
	__u32 uid;
	__u32 gid;
	__s32 exit_code; /* PROC_EXIT: wait status (code << 8 | signal); else 0 */
	char comm[PROC_COMM_LEN];
};

struct proc_exec {
	struct proc_hdr hdr;
	__u32 filename_len; /* bytes used in filename, NUL excluded */
	__u32 args_len;     /* bytes used in args (NUL-separated) */
	char filename[PROC_FILENAME_MAX];
	char args[PROC_ARGS_MAX];
};

_Static_assert(sizeof(struct proc_hdr) == 72, "proc_hdr layout");
_Static_assert(sizeof(struct proc_exec) == 72 + 8 + PROC_FILENAME_MAX + PROC_ARGS_MAX,
               "proc_exec layout");
_Static_assert((PROC_ARGS_MAX & (PROC_ARGS_MAX - 1)) == 0, "PROC_ARGS_MAX power of two");

#endif
