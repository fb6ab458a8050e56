// SPDX-License-Identifier: Apache-2.0
/*
 * Trust boundary: from the moment sc_install() returns 0 the calling process
 * can reach the kernel only through the syscalls its policy lists. The
 * policies are data (seccomp/<name>.policy); this file only translates them,
 * and fails closed: a name libseccomp cannot resolve for this architecture,
 * or a malformed rule, aborts the whole build of the filter before anything
 * is loaded, rather than loading a filter that silently differs from the
 * reviewed list.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "filter.h"

static int rule_action(enum sc_action action, uint32_t *out)
{
	switch (action) {
	case SC_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case SC_ERRNO:
		*out = SCMP_ACT_ERRNO(EPERM);
		return 0;
	}
	return -EINVAL;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *rule)
{
	struct scmp_arg_cmp cmp[SC_CONDS_MAX];
	uint32_t action;
	unsigned i;
	int nr;

	if (!rule->name || rule->ncond > SC_CONDS_MAX || rule_action(rule->action, &action) < 0)
		return -EINVAL;
	/*
	 * -1 (__NR_SCMP_ERROR) means unknown; other negative numbers are
	 * libseccomp pseudo-syscalls that do not exist on this architecture
	 * (socketcall on x86_64), for which a rule would match nothing.
	 */
	nr = seccomp_syscall_resolve_name(rule->name);
	if (nr < 0)
		return -ENOSYS;
	for (i = 0; i < rule->ncond; i++) {
		if (rule->cond[i].arg >= SC_ARGS)
			return -EINVAL;
		cmp[i].arg = rule->cond[i].arg;
		cmp[i].op = SCMP_CMP_MASKED_EQ;
		cmp[i].datum_a = rule->cond[i].mask;
		cmp[i].datum_b = rule->cond[i].value;
	}
	/* _exact: fail rather than let libseccomp rewrite the rule. */
	return seccomp_rule_add_exact_array(ctx, action, nr, rule->ncond, rule->ncond ? cmp : NULL);
}

int sc_install(const struct sc_rule *rules, size_t n)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if (!rules && n > 0)
		return -EINVAL;
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	/* Another ABI (int 0x80, x32) is a different syscall table: no trap, kill. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		goto cleanup;
	/* Needed to load a filter without CAP_SYS_ADMIN; the loader has none by now. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc < 0)
		goto cleanup;
	/* Report the kernel's errno from seccomp_load(), not a blanket -ECANCELED. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc < 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		rc = add_rule(ctx, &rules[i]);
		if (rc < 0)
			goto cleanup;
	}
	rc = seccomp_load(ctx);
cleanup:
	/* After a successful load this runs under the filter: free(3) only. */
	seccomp_release(ctx);
	return rc < 0 ? rc : 0;
}

/*
 * State for the SIGSYS handler, filled before the filter is loaded so the
 * handler needs no allocation, no locale and no libseccomp.
 */
static char sigsys_prefix[128];
static char sigsys_names[SC_NR_MAX][SC_NAME_MAX];

static size_t append_str(char *buf, size_t len, size_t cap, const char *s)
{
	while (*s && len < cap)
		buf[len++] = *s++;
	return len;
}

/* Decimal by hand: snprintf is not async-signal-safe. */
static size_t append_int(char *buf, size_t len, size_t cap, int value)
{
	char digits[16];
	unsigned long long v = value < 0 ? -(unsigned long long)value : (unsigned long long)value;
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(digits));
	if (value < 0 && len < cap)
		buf[len++] = '-';
	while (n > 0 && len < cap)
		buf[len++] = digits[--n];
	return len;
}

/*
 * Runs only after a violation, on top of whatever the process was doing:
 * static data only, and exactly two syscalls, write and exit_group (both
 * async-signal-safe; syscall(2) is a bare stub). Never returns, so the
 * interrupted code never sees the failed syscall.
 */
static void sigsys_report(int sig, siginfo_t *info, void *ucontext)
{
	char line[sizeof(sigsys_prefix) + SC_NAME_MAX + 32];
	int nr = info->si_syscall;
	const char *name = "?";
	size_t len;
	ssize_t w;

	(void)ucontext;
	if (nr >= 0 && nr < SC_NR_MAX && sigsys_names[nr][0])
		name = sigsys_names[nr];
	len = append_str(line, 0, sizeof(line), sigsys_prefix);
	len = append_int(line, len, sizeof(line), nr);
	len = append_str(line, len, sizeof(line), " (");
	len = append_str(line, len, sizeof(line), name);
	len = append_str(line, len, sizeof(line), ")\n");
	w = write(STDERR_FILENO, line, len);
	(void)w;
	/*
	 * exit_group directly, not _exit(): a wrapper may do more on the way
	 * out (ASan's _exit calls sigaltstack), and each extra syscall would
	 * have to be in every policy.
	 */
	syscall(SYS_exit_group, 128 + sig);
	_exit(128 + sig); /* not reached */
}

static void resolve_names(void)
{
	int nr;

	for (nr = 0; nr < SC_NR_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		sigsys_names[nr][0] = '\0';
		if (name)
			snprintf(sigsys_names[nr], SC_NAME_MAX, "%s", name);
		free(name);
	}
}

int sc_install_sigsys_reporter(const char *ident)
{
	char prefix[sizeof(sigsys_prefix)];
	struct sigaction sa;
	sigset_t sys;
	int n;

	if (!ident)
		return -EINVAL;
	n = snprintf(prefix, sizeof(prefix), "%s: error: seccomp denied syscall ", ident);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return -ENAMETOOLONG;
	memcpy(sigsys_prefix, prefix, sizeof(prefix));
	resolve_names();

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_report;
	sa.sa_flags = SA_SIGINFO;
	/* Nothing else may run while the report is being written. */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &sys, NULL) < 0)
		return -errno;
	return 0;
}
