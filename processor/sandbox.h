/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_PROCESSOR_SANDBOX_H
#define BPFWARDEN_PROCESSOR_SANDBOX_H

#include <stddef.h>

/*
 * Refuse to run privileged: uid/euid/gid/egid 0, or any capability in the
 * effective, permitted, inheritable or ambient set. 0, or -EPERM with the
 * reason in @err.
 */
int sandbox_check_unprivileged(char *err, size_t len);

/* Not dumpable (no ptrace by same-uid processes, no core), RLIMIT_CORE 0. */
int sandbox_harden(void);

/*
 * Install the steady-state seccomp filter (seccomp/processor.policy) with
 * the SIGSYS reporter, then prove it holds: bpf() must fail with EPERM.
 * 0, or -errno (-EPERM if the self-check found bpf() still allowed).
 */
int sandbox_enter(void);

#endif
