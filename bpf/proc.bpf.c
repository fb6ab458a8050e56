// SPDX-License-Identifier: GPL-2.0
/*
 * Process events (exec, exit) from the sched tracepoints, attached as raw
 * tracepoints: they need neither tracefs nor perf_event_open(), only
 * CAP_BPF + CAP_PERFMON, and they cost nothing per syscall.
 *
 * Scope is decided here, in the kernel: an event leaves only if the task's
 * cgroup or one of its ancestors is in scope_cgroups (filled and frozen by
 * the loader), or if the loader set system_wide. Out-of-scope events are
 * counted, never written to the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "proc.h"
#include "stats.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader between open and load. */
const volatile bool system_wide = false;
/* SHA-256 of this object, so a later loader can tell whose pins it finds. */
const volatile __u8 object_sha256[32] = {};
/* Hash of both objects' digests, the scope and the options: reuse check. */
const volatile __u64 config_fingerprint = 0;

/* Security events only: a flood of other data can never evict these. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* resized by the loader */
} events_security SEC(".maps");

/*
 * Ring-buffer reservations hold stale bytes: zero every record before filling
 * it. The stores are volatile so clang does not turn the loop back into a
 * memset call, which BPF cannot make for records this large.
 */
static __always_inline void zero_record(void *rec, __u32 size)
{
	volatile __u64 *p = rec;

	for (__u32 i = 0; i < size / sizeof(__u64); i++)
		p[i] = 0;
}

static __always_inline bool current_in_scope(void)
{
	if (system_wide)
		return true;
	for (int level = 0; level < CGROUP_DEPTH_MAX; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (id == 0)
			break; /* deeper than the task's own cgroup */
		if (bpf_map_lookup_elem(&scope_cgroups, &id))
			return true;
	}
	return false;
}

static __always_inline void fill_hdr(struct proc_hdr *h, struct task_struct *task, __u32 kind)
{
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->kind = kind;
	h->ts_boot_ns = bpf_ktime_get_boot_ns();
	h->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline void read_filename(struct proc_exec *e, struct linux_binprm *bprm)
{
	const char *filename = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);

	if (n < 0) {
		e->hdr.flags |= PROC_F_FILENAME_FAULT;
		stat_inc(STAT_EXEC_FILENAME_FAULT);
		return;
	}
	e->filename_len = n > 0 ? n - 1 : 0;
	if (n == sizeof(e->filename)) {
		e->hdr.flags |= PROC_F_FILENAME_TRUNCATED;
		stat_inc(STAT_EXEC_FILENAME_TRUNCATED);
	}
}

/* argv as the new program sees it, NUL-separated, bounded by PROC_ARGS_MAX. */
static __always_inline void read_args(struct proc_exec *e, struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long len = end > start ? end - start : 0;

	if (len > PROC_ARGS_MAX) {
		len = PROC_ARGS_MAX;
		e->hdr.flags |= PROC_F_ARGS_TRUNCATED;
		stat_inc(STAT_EXEC_ARGS_TRUNCATED);
	}
	len &= (PROC_ARGS_MAX << 1) - 1; /* a bound the verifier can see */
	if (len == 0 || len > PROC_ARGS_MAX)
		return;
	if (bpf_probe_read_user(e->args, len, (const void *)start) < 0) {
		e->hdr.flags |= PROC_F_ARGS_FAULT;
		stat_inc(STAT_EXEC_ARGS_FAULT);
		return;
	}
	e->args_len = len;
}

/* TP_PROTO(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tracepoint/sched_process_exec")
int sched_process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct proc_exec *e;

	if (!current_in_scope()) {
		stat_inc(STAT_OUT_OF_SCOPE);
		return 0;
	}
	e = bpf_ringbuf_reserve(&events_security, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_SEC_DROP_RB_FULL);
		return 0;
	}
	zero_record(e, sizeof(*e));
	fill_hdr(&e->hdr, task, PROC_EXEC);
	read_filename(e, bprm);
	read_args(e, task);
	bpf_ringbuf_submit(e, 0); /* rare events: wake the reader at once */
	stat_inc(STAT_SEC_SUBMITTED);
	return 0;
}

/* TP_PROTO(struct task_struct *p, ...); reported once per process, when
 * its last thread exits. */
SEC("raw_tracepoint/sched_process_exit")
int sched_process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct proc_hdr *h;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0; /* other threads still run: not a process exit */
	if (!current_in_scope()) {
		stat_inc(STAT_OUT_OF_SCOPE);
		return 0;
	}
	h = bpf_ringbuf_reserve(&events_security, sizeof(*h), 0);
	if (!h) {
		stat_inc(STAT_SEC_DROP_RB_FULL);
		return 0;
	}
	zero_record(h, sizeof(*h));
	fill_hdr(h, task, PROC_EXIT);
	h->exit_code = BPF_CORE_READ(task, exit_code);
	bpf_ringbuf_submit(h, 0);
	stat_inc(STAT_SEC_SUBMITTED);
	return 0;
}
