/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp allowlists as data. Each process's policy lives in
 * seccomp/<name>.policy, one commented rule per line; seccomp/gen-policy.awk
 * turns it into a generated table (sc_<name>_rules, SC_<NAME>_RULES_N) that
 * sc_install() loads as a libseccomp filter:
 *
 *   - a listed syscall is allowed (SC_ALLOW) or fails with EPERM (SC_ERRNO),
 *     if all of its argument conditions hold;
 *   - every other native syscall raises SIGSYS (SCMP_ACT_TRAP), so the
 *     reporter below can name it before the process dies;
 *   - a syscall from any other ABI (i386, x32) kills the process outright.
 *
 * Library code: returns 0 or -errno, never prints or exits. The one exception
 * is the SIGSYS handler, which runs only after a violation.
 */
#ifndef BPFWARDEN_SECCOMP_FILTER_H
#define BPFWARDEN_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>

enum sc_action {
	SC_ALLOW, /* the syscall runs */
	SC_ERRNO, /* the syscall fails with EPERM without running */
};

/* Syscall arguments are a0..a5. */
#define SC_ARGS 6

/* Masked equality: the rule matches only if (aARG & mask) == value. */
struct sc_cond {
	unsigned arg;
	uint64_t mask;
	uint64_t value;
};

#define SC_CONDS_MAX 3

/* All ncond conditions must hold (AND), each on a different argument. */
struct sc_rule {
	const char *name; /* as libseccomp spells it, e.g. "newfstatat" */
	enum sc_action action;
	unsigned ncond;
	struct sc_cond cond[SC_CONDS_MAX];
};

/*
 * Builds and loads the filter for rules[0..n): default action SIGSYS trap,
 * other architectures killed, no_new_privs set as part of the load. Nothing
 * is loaded unless every rule is valid and every name resolves to a native
 * syscall: -ENOSYS for an unknown name, -EINVAL for a malformed rule, other
 * -errno from libseccomp or the kernel. The caller must treat any failure as
 * fatal. Applies to the calling thread only (no TSYNC): both processes are
 * single-threaded when they call it.
 */
int sc_install(const struct sc_rule *rules, size_t n);

/* The reporter names syscall numbers 0..SC_NR_MAX-1; others print as "?". */
#define SC_NR_MAX 512
/* Longer names are truncated in the report. */
#define SC_NAME_MAX 32

/*
 * Installs a SIGSYS handler that writes
 *   "IDENT: error: seccomp denied syscall NR (NAME)\n"
 * to fd 2 and then exits with status 128 + SIGSYS. Call it before
 * sc_install(): it resolves every syscall name up front (allocating), so the
 * handler itself makes exactly two syscalls, write and exit_group; every
 * policy must allow both (test/seccomp checks the generated tables). Also
 * unblocks SIGSYS: a blocked SIGSYS would make the trap kill the process
 * with no report. ident is copied.
 * Returns 0, -EINVAL, -ENAMETOOLONG or -errno from sigaction.
 */
int sc_install_sigsys_reporter(const char *ident);

#endif
