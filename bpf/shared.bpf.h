/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps both eBPF objects use: the loader creates them with proc.bpf.o and
 * hands the same maps to l7.bpf.o (bpf_map__reuse_fd), so one frozen scope
 * and one set of counters serve every program. BPF side only.
 */
#ifndef BPFWARDEN_BPF_SHARED_BPF_H
#define BPFWARDEN_BPF_SHARED_BPF_H

/* The cgroup-v2 subtrees in scope; filled once, then frozen by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCOPE_CGROUPS_MAX);
	__type(key, __u64);  /* cgroup v2 id */
	__type(value, __u8); /* unused: presence is the allowlist */
} scope_cgroups SEC(".maps");

/* Counters, enum stat_id; frozen so userspace can only map them read-only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 id)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &id);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#endif
