// SPDX-License-Identifier: Apache-2.0
/*
 * Runs the real generated filters (build/gen/seccomp_<name>.h) and tries each
 * forbidden call, bubblewrap try-syscall style: every probe makes exactly one
 * raw syscall(2), with arguments chosen so that, should the filter let it
 * through, it fails or succeeds without side effects.
 *
 * Each case runs in the child libcheck forks for it (CK_FORK, the default).
 * Once sc_install() has returned 0 that child may only make the syscalls its
 * policy allows, so from then on it never touches libcheck, stdio, exit(3)
 * (LeakSanitizer would clone a tracer thread) or even _exit(3) (ASan's
 * interceptor calls sigaltstack): it reports through write(2) to a
 * diagnostic fd and leaves through confined_exit(). Each case is declared
 * with the outcome libcheck must see: exit 0, SIGSYS, or exit 128 + SIGSYS
 * when the reporter is installed.
 *
 * ASan also calls sigaltstack before every call to a noreturn function
 * (__asan_handle_no_return), and no policy allows sigaltstack: functions that
 * run on after sc_install() and reach a noreturn call are UNDER_FILTER.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp/filter.h"
#include "seccomp_loader.h"
#include "seccomp_processor.h"

#define UNDER_FILTER __attribute__((no_sanitize_address))

#define REPORT_IDENT  "bpfwarden-test"
#define EXIT_REPORTED (128 + SIGSYS)
#define MISSING_PATH  "/nonexistent/bpfwarden-seccomp-test"
#define PIN_NAME      "pin"

enum expect {
	EXPECT_OK,    /* the call runs and returns >= 0 */
	EXPECT_EPERM, /* the call fails with EPERM (SC_ERRNO) */
	EXPECT_TRAP,  /* the call raises SIGSYS (default action) */
};

/* What a probe needs set up before the filter goes in. */
enum {
	NEED_PIPE = 1 << 0,   /* env.pipe_fds, with one byte to read */
	NEED_PAGE = 1 << 1,   /* env.page, a private read-write page */
	NEED_ZOMBIE = 1 << 2, /* env.zombie, an exited, unreaped child */
	NEED_PIN = 1 << 3,    /* env.dirfd, holding a file PIN_NAME */
};

struct probe_env {
	pid_t self;
	int pipe_fds[2];
	void *page;
	pid_t zombie;
	int dirfd;
};

struct probe {
	const char *label; /* for messages: the syscall and how it is called */
	const char *name;  /* the syscall, as the SIGSYS reporter names it */
	long nr;
	unsigned needs;
	bool control; /* EXPECT_EPERM: first show the call is not EPERM unfiltered */
	long (*call)(const struct probe_env *env);
	enum expect expect;
};

struct policy {
	const char *name;
	const struct sc_rule *rules;
	size_t nrules;
	const struct probe *probes;
	size_t nprobes;
};

static pid_t runner_pid; /* the process that built the suite */
static int diag_fd = STDERR_FILENO;
#define PIN_DIR_TEMPLATE "/tmp/bpfwarden-seccomp.XXXXXX"
static char pin_dir[] = PIN_DIR_TEMPLATE;
static char *const true_argv[] = { "/bin/true", NULL };
static char *const empty_envp[] = { NULL };

/* --- probes: one raw syscall each -------------------------------------- */

static long probe_write(const struct probe_env *env)
{
	return syscall(SYS_write, env->pipe_fds[1], "x", 1);
}

static long probe_read(const struct probe_env *env)
{
	char c;

	return syscall(SYS_read, env->pipe_fds[0], &c, 1);
}

static long probe_getpid(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_getpid);
}

static long probe_clock_gettime(const struct probe_env *env)
{
	struct timespec ts;

	(void)env;
	return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
}

static long probe_mmap_rw(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0);
}

static long probe_mmap_exec(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	               0);
}

static long probe_mprotect_ro(const struct probe_env *env)
{
	return syscall(SYS_mprotect, env->page, 4096, PROT_READ);
}

static long probe_mprotect_exec(const struct probe_env *env)
{
	return syscall(SYS_mprotect, env->page, 4096, PROT_READ | PROT_EXEC);
}

/* BPF_MAP_CREATE with no attributes: EINVAL for root, EPERM filtered. */
static long probe_bpf(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_bpf, BPF_MAP_CREATE, NULL, 0);
}

static long probe_ptrace(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

/* NULL attr: EFAULT unfiltered. */
static long probe_perf_event_open(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
}

/* Zero iovecs: a no-op returning 0 unfiltered. */
static long probe_process_vm_readv(const struct probe_env *env)
{
	return syscall(SYS_process_vm_readv, env->self, NULL, 0, NULL, 0, 0);
}

static long probe_process_vm_writev(const struct probe_env *env)
{
	return syscall(SYS_process_vm_writev, env->self, NULL, 0, NULL, 0, 0);
}

static long probe_execve(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_execve, "/bin/true", true_argv, empty_envp);
}

static long probe_execveat(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_execveat, AT_FDCWD, "/bin/true", true_argv, empty_envp, 0);
}

static long probe_mount(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_mount, "none", MISSING_PATH, "tmpfs", 0UL, NULL);
}

static long probe_open(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static long probe_openat(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static long probe_socket(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static long probe_connect(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_connect, -1, NULL, 0);
}

static long probe_kill_0(const struct probe_env *env)
{
	return syscall(SYS_kill, env->self, 0);
}

static long probe_kill_term(const struct probe_env *env)
{
	return syscall(SYS_kill, env->zombie, SIGTERM);
}

static long probe_kill_kill(const struct probe_env *env)
{
	return syscall(SYS_kill, env->zombie, SIGKILL);
}

static long probe_wait4(const struct probe_env *env)
{
	return syscall(SYS_wait4, env->zombie, NULL, 0, NULL);
}

static long probe_unlinkat_pin(const struct probe_env *env)
{
	return syscall(SYS_unlinkat, env->dirfd, PIN_NAME, 0);
}

static long probe_unlinkat_missing(const struct probe_env *env)
{
	(void)env;
	return syscall(SYS_unlinkat, AT_FDCWD, MISSING_PATH, 0);
}

/* Any flag but AT_REMOVEDIR (0x200) is refused: here AT_SYMLINK_NOFOLLOW. */
static long probe_unlinkat_bad_flag(const struct probe_env *env)
{
	return syscall(SYS_unlinkat, env->dirfd, PIN_NAME, AT_SYMLINK_NOFOLLOW);
}

#define PROBE(label, sys, needs, control, fn, expect)                                              \
	{                                                                                          \
		label, #sys, SYS_##sys, needs, control, fn, expect                                 \
	}

static const struct probe processor_probes[] = {
	PROBE("write to a pipe", write, NEED_PIPE, false, probe_write, EXPECT_OK),
	PROBE("read from a pipe", read, NEED_PIPE, false, probe_read, EXPECT_OK),
	PROBE("getpid", getpid, 0, false, probe_getpid, EXPECT_TRAP),
	PROBE("clock_gettime", clock_gettime, 0, false, probe_clock_gettime, EXPECT_OK),
	PROBE("mmap PROT_READ|PROT_WRITE", mmap, 0, false, probe_mmap_rw, EXPECT_OK),
	PROBE("mprotect PROT_READ", mprotect, NEED_PAGE, false, probe_mprotect_ro, EXPECT_OK),
	PROBE("bpf", bpf, 0, true, probe_bpf, EXPECT_EPERM),
	PROBE("ptrace PTRACE_TRACEME", ptrace, 0, false, probe_ptrace, EXPECT_EPERM),
	PROBE("perf_event_open", perf_event_open, 0, true, probe_perf_event_open, EXPECT_EPERM),
	PROBE("process_vm_readv", process_vm_readv, 0, true, probe_process_vm_readv, EXPECT_EPERM),
	PROBE("process_vm_writev", process_vm_writev, 0, true, probe_process_vm_writev,
	      EXPECT_EPERM),
	PROBE("execve /bin/true", execve, 0, false, probe_execve, EXPECT_TRAP),
	PROBE("execveat /bin/true", execveat, 0, false, probe_execveat, EXPECT_TRAP),
	PROBE("mount", mount, 0, false, probe_mount, EXPECT_TRAP),
	PROBE("open /etc/passwd", open, 0, false, probe_open, EXPECT_TRAP),
	PROBE("openat /etc/passwd", openat, 0, false, probe_openat, EXPECT_TRAP),
	PROBE("socket AF_INET", socket, 0, false, probe_socket, EXPECT_TRAP),
	PROBE("connect", connect, 0, false, probe_connect, EXPECT_TRAP),
	PROBE("mmap PROT_EXEC", mmap, 0, false, probe_mmap_exec, EXPECT_TRAP),
	PROBE("mprotect PROT_EXEC", mprotect, NEED_PAGE, false, probe_mprotect_exec, EXPECT_TRAP),
	PROBE("kill", kill, 0, false, probe_kill_0, EXPECT_TRAP),
	PROBE("unlinkat", unlinkat, 0, false, probe_unlinkat_missing, EXPECT_TRAP),
};

static const struct probe loader_probes[] = {
	PROBE("write to a pipe", write, NEED_PIPE, false, probe_write, EXPECT_OK),
	PROBE("read from a pipe", read, NEED_PIPE, false, probe_read, EXPECT_OK),
	PROBE("getpid", getpid, 0, false, probe_getpid, EXPECT_OK),
	PROBE("mmap PROT_READ|PROT_WRITE", mmap, 0, false, probe_mmap_rw, EXPECT_OK),
	PROBE("wait4", wait4, NEED_ZOMBIE, false, probe_wait4, EXPECT_OK),
	PROBE("unlinkat a pin", unlinkat, NEED_PIN, false, probe_unlinkat_pin, EXPECT_OK),
	PROBE("bpf", bpf, 0, true, probe_bpf, EXPECT_EPERM),
	PROBE("execve /bin/true", execve, 0, false, probe_execve, EXPECT_TRAP),
	PROBE("openat /etc/passwd", openat, 0, false, probe_openat, EXPECT_TRAP),
	PROBE("socket AF_INET", socket, 0, false, probe_socket, EXPECT_TRAP),
	PROBE("mount", mount, 0, false, probe_mount, EXPECT_TRAP),
	PROBE("ptrace PTRACE_TRACEME", ptrace, 0, false, probe_ptrace, EXPECT_TRAP),
	PROBE("mmap PROT_EXEC", mmap, 0, false, probe_mmap_exec, EXPECT_TRAP),
	PROBE("mprotect PROT_EXEC", mprotect, NEED_PAGE, false, probe_mprotect_exec, EXPECT_TRAP),
	PROBE("kill SIGTERM", kill, NEED_ZOMBIE, false, probe_kill_term, EXPECT_TRAP),
	PROBE("kill SIGKILL", kill, NEED_ZOMBIE, false, probe_kill_kill, EXPECT_TRAP),
	PROBE("unlinkat AT_SYMLINK_NOFOLLOW", unlinkat, NEED_PIN, false, probe_unlinkat_bad_flag,
	      EXPECT_TRAP),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct policy processor_policy = {
	"processor",      sc_processor_rules,           SC_PROCESSOR_RULES_N,
	processor_probes, ARRAY_SIZE(processor_probes),
};

static const struct policy loader_policy = {
	"loader", sc_loader_rules, SC_LOADER_RULES_N, loader_probes, ARRAY_SIZE(loader_probes),
};

/* --- running a probe under the filter ---------------------------------- */

static void assert_forked(void)
{
	ck_assert_msg(getpid() != runner_pid, "seccomp tests need CK_FORK (each case is confined)");
}

static void env_prepare(struct probe_env *env, unsigned needs)
{
	memset(env, 0, sizeof(*env));
	env->self = getpid();
	env->dirfd = -1;
	env->pipe_fds[0] = env->pipe_fds[1] = -1;
	if (needs & NEED_PIPE) {
		ck_assert_int_eq(pipe2(env->pipe_fds, O_CLOEXEC), 0);
		ck_assert_int_eq(write(env->pipe_fds[1], "x", 1), 1);
	}
	if (needs & NEED_PAGE) {
		env->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		                 -1, 0);
		ck_assert_ptr_ne(env->page, MAP_FAILED);
	}
	if (needs & NEED_ZOMBIE) {
		env->zombie = fork();
		ck_assert_int_ge(env->zombie, 0);
		if (env->zombie == 0)
			_exit(0);
	}
	if (needs & NEED_PIN) {
		int fd;

		env->dirfd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ck_assert_int_ge(env->dirfd, 0);
		fd = openat(env->dirfd, PIN_NAME, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
}

/* The only way out once the filter is in: exactly one exit_group. */
static UNDER_FILTER void __attribute__((noreturn)) confined_exit(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

static const char *expect_name(enum expect expect)
{
	switch (expect) {
	case EXPECT_OK:
		return "success";
	case EXPECT_EPERM:
		return "EPERM";
	case EXPECT_TRAP:
		return "SIGSYS";
	}
	return "?";
}

/* Under the filter: snprintf and write(2) only (no strerror: it may open locale files). */
static UNDER_FILTER void __attribute__((noreturn))
probe_failed(const char *policy, const struct probe *p, long ret, int err)
{
	const char *ename = strerrorname_np(err);
	char msg[256];
	ssize_t w;
	int n;

	n = snprintf(msg, sizeof(msg), "%s policy, %s: returned %ld (errno %s), expected %s\n",
	             policy, p->label, ret, ename ? ename : "0", expect_name(p->expect));
	if (n > 0) {
		w = write(diag_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		(void)w;
	}
	confined_exit(1);
}

/*
 * Prepares, installs the policy (and the reporter if asked), makes the one
 * call and exits: 0 if the outcome matched, 1 with a diagnostic if not. A
 * trapped call never comes back here.
 */
static UNDER_FILTER void __attribute__((noreturn))
confine_and_probe(const struct policy *pol, const struct probe *p, bool reporter)
{
	const struct rlimit no_core = { 0, 0 };
	struct probe_env env;
	long ret;
	int rc, err;

	env_prepare(&env, p->needs);
	if (p->control) {
		errno = 0;
		ret = p->call(&env);
		ck_assert_msg(!(ret == -1 && errno == EPERM),
		              "%s: already EPERM without a filter; the test proves nothing (run as "
		              "root)",
		              p->label);
	}
	/* A SIGSYS death would dump core in the test directory. */
	ck_assert_int_eq(setrlimit(RLIMIT_CORE, &no_core), 0);
	if (reporter)
		ck_assert_int_eq(sc_install_sigsys_reporter(REPORT_IDENT), 0);
	rc = sc_install(pol->rules, pol->nrules);
	if (rc != 0)
		ck_abort_msg("sc_install(%s): %s", pol->name, strerror(-rc));

	/* Filtered from here on: see the comment at the top of the file. */
	errno = 0;
	ret = p->call(&env);
	err = errno;
	if ((p->expect == EXPECT_OK && ret >= 0) ||
	    (p->expect == EXPECT_EPERM && ret == -1 && err == EPERM))
		confined_exit(0);
	probe_failed(pol->name, p, ret, err);
}

/* The reporter's line goes to /dev/null; diagnostics keep the real stderr. */
static void quiet_stderr(void)
{
	int null_fd;

	diag_fd = dup(STDERR_FILENO);
	ck_assert_int_ge(diag_fd, 0);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(null_fd, 0);
	ck_assert_int_eq(dup2(null_fd, STDERR_FILENO), STDERR_FILENO);
	close(null_fd);
}

/* Runs a trapping probe in a child of ours and checks the reporter's line. */
static void expect_report(const struct policy *pol, const struct probe *p)
{
	char want[256], got[512];
	size_t len = 0;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(fds[1], STDERR_FILENO) < 0)
			_exit(2);
		confine_and_probe(pol, p, true);
	}
	close(fds[1]);
	while (len < sizeof(got) - 1 && (r = read(fds[0], got + len, sizeof(got) - 1 - len)) > 0)
		len += (size_t)r;
	got[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_REPORTED,
	              "%s: wait status %#x, stderr \"%s\"", p->label, (unsigned)status, got);
	snprintf(want, sizeof(want), "%s: error: seccomp denied syscall %ld (%s)\n", REPORT_IDENT,
	         p->nr, p->name);
	ck_assert_str_eq(got, want);
}

/* tcase_add_loop_*: _i indexes the policy's probe table. */
START_TEST(test_processor_probe)
{
	assert_forked();
	confine_and_probe(&processor_policy, &processor_probes[_i], false);
}
END_TEST

START_TEST(test_processor_probe_reported)
{
	assert_forked();
	quiet_stderr();
	confine_and_probe(&processor_policy, &processor_probes[_i], true);
}
END_TEST

START_TEST(test_processor_report_names_syscall)
{
	expect_report(&processor_policy, &processor_probes[_i]);
}
END_TEST

START_TEST(test_loader_probe)
{
	assert_forked();
	confine_and_probe(&loader_policy, &loader_probes[_i], false);
}
END_TEST

START_TEST(test_loader_probe_reported)
{
	assert_forked();
	quiet_stderr();
	confine_and_probe(&loader_policy, &loader_probes[_i], true);
}
END_TEST

START_TEST(test_loader_report_names_syscall)
{
	expect_report(&loader_policy, &loader_probes[_i]);
}
END_TEST

/*
 * x32 syscall numbers arrive with the x86_64 audit arch but index another
 * table; libseccomp sends them to the bad-arch action. KILL_PROCESS cannot be
 * caught, so even with the reporter installed the child dies of SIGSYS.
 */
static UNDER_FILTER void x32_getpid(void)
{
	int rc;

	ck_assert_int_eq(sc_install_sigsys_reporter(REPORT_IDENT), 0);
	rc = sc_install(sc_processor_rules, SC_PROCESSOR_RULES_N);
	if (rc != 0)
		ck_abort_msg("sc_install: %s", strerror(-rc));
	syscall(__X32_SYSCALL_BIT | SYS_getpid);
	confined_exit(1);
}

START_TEST(test_foreign_abi_killed)
{
	assert_forked();
	quiet_stderr();
	x32_getpid();
}
END_TEST

/* Read back through an fd opened before the filter: read(2) is allowed. */
static UNDER_FILTER void read_back_status(int fd)
{
	static char status[4096];
	ssize_t len;
	int rc;

	rc = sc_install(sc_processor_rules, SC_PROCESSOR_RULES_N);
	if (rc != 0)
		ck_abort_msg("sc_install: %s", strerror(-rc));
	len = read(fd, status, sizeof(status) - 1);
	if (len <= 0)
		confined_exit(2);
	status[len] = '\0';
	/* Exit codes: 3, no_new_privs not set; 4, not in seccomp filter mode. */
	if (!strstr(status, "\nNoNewPrivs:\t1\n"))
		confined_exit(3);
	if (!strstr(status, "\nSeccomp:\t2\n"))
		confined_exit(4);
	confined_exit(0);
}

START_TEST(test_install_sets_nnp_and_filter_mode)
{
	int fd;

	assert_forked();
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	read_back_status(fd);
}
END_TEST

/* --- sc_install refuses bad tables and loads nothing ------------------- */

static const struct bad_rule {
	const char *what;
	struct sc_rule rule;
	int want;
} bad_rules[] = {
	{ "unknown syscall name",
	  { .name = "bpfwarden_no_such_syscall", .action = SC_ALLOW },
	  -ENOSYS },
	{ "pseudo-syscall absent on this arch",
	  { .name = "socketcall", .action = SC_ALLOW },
	  -ENOSYS },
	{ "NULL name", { .name = NULL, .action = SC_ALLOW }, -EINVAL },
	{ "unknown action", { .name = "getpid", .action = (enum sc_action)7 }, -EINVAL },
	{ "argument a6",
	  { .name = "mmap",
	    .action = SC_ALLOW,
	    .ncond = 1,
	    .cond = { { .arg = 6, .mask = 4, .value = 0 } } },
	  -EINVAL },
	{ "too many conditions",
	  { .name = "mmap", .action = SC_ALLOW, .ncond = SC_CONDS_MAX + 1 },
	  -EINVAL },
};

/* The bad rule comes last, after rules libseccomp has already accepted. */
START_TEST(test_bad_rule_loads_nothing)
{
	const struct bad_rule *bad = &bad_rules[_i];
	const struct sc_rule rules[] = {
		{ .name = "write", .action = SC_ALLOW },
		{ .name = "exit_group", .action = SC_ALLOW },
		bad->rule,
	};
	int nnp_before = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	int fd;

	assert_forked();
	ck_assert_msg(sc_install(rules, ARRAY_SIZE(rules)) == bad->want, "%s: want %d", bad->what,
	              bad->want);
	ck_assert_int_eq(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), nnp_before);
	/* A call the half-built filter would have trapped still works. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

START_TEST(test_null_table_rejected)
{
	assert_forked();
	ck_assert_int_eq(sc_install(NULL, 1), -EINVAL);
	ck_assert_int_eq(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
}
END_TEST

START_TEST(test_reporter_rejects_long_ident)
{
	char ident[200];

	memset(ident, 'x', sizeof(ident) - 1);
	ident[sizeof(ident) - 1] = '\0';
	ck_assert_int_eq(sc_install_sigsys_reporter(ident), -ENAMETOOLONG);
	ck_assert_int_eq(sc_install_sigsys_reporter(NULL), -EINVAL);
}
END_TEST

/* --- the generated tables ---------------------------------------------- */

static bool allows_unconditionally(const struct policy *pol, const char *name)
{
	size_t i;

	for (i = 0; i < pol->nrules; i++)
		if (strcmp(pol->rules[i].name, name) == 0)
			return pol->rules[i].action == SC_ALLOW && pol->rules[i].ncond == 0;
	return false;
}

static const struct policy *const policies[] = { &processor_policy, &loader_policy };

/* The SIGSYS reporter's own syscalls. */
START_TEST(test_policy_allows_reporter_syscalls)
{
	static const char *const needed[] = { "write", "exit_group" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(needed); i++)
		ck_assert_msg(allows_unconditionally(policies[_i], needed[i]),
		              "%s policy must allow %s unconditionally", policies[_i]->name,
		              needed[i]);
}
END_TEST

/* --- fixtures and registration ----------------------------------------- */

/* Runs in the runner: one directory for the loader's pin probes. */
static void pin_dir_setup(void)
{
	memcpy(pin_dir, PIN_DIR_TEMPLATE, sizeof(pin_dir));
	ck_assert_ptr_nonnull(mkdtemp(pin_dir));
}

static void pin_dir_teardown(void)
{
	char path[sizeof(pin_dir) + sizeof(PIN_NAME) + 1];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, PIN_NAME);
	unlink(path);
	rmdir(pin_dir);
}

static void add_probe_tests(TCase *plain, TCase *reported, TCase *report, const TTest *run,
                            const TTest *run_reported, const TTest *names, const struct policy *pol)
{
	int i;

	for (i = 0; i < (int)pol->nprobes; i++) {
		if (pol->probes[i].expect != EXPECT_TRAP) {
			tcase_add_loop_test(plain, run, i, i + 1);
			tcase_add_loop_test(reported, run_reported, i, i + 1);
			continue;
		}
		tcase_add_loop_test_raise_signal(plain, run, SIGSYS, i, i + 1);
		tcase_add_loop_exit_test(reported, run_reported, EXIT_REPORTED, i, i + 1);
		tcase_add_loop_test(report, names, i, i + 1);
	}
}

static TCase *probe_tcase(const char *name, bool pins)
{
	TCase *tc = tcase_create(name);

	if (pins)
		tcase_add_unchecked_fixture(tc, pin_dir_setup, pin_dir_teardown);
	return tc;
}

/* The one export, called by the test runner's main. */
Suite *seccomp_suite(void);

Suite *seccomp_suite(void)
{
	Suite *s = suite_create("seccomp");
	TCase *proc = probe_tcase("processor", false);
	TCase *proc_rep = probe_tcase("processor_reported", false);
	TCase *proc_names = probe_tcase("processor_report_names", false);
	TCase *load = probe_tcase("loader", true);
	TCase *load_rep = probe_tcase("loader_reported", true);
	TCase *load_names = probe_tcase("loader_report_names", true);
	TCase *install = tcase_create("install");
	TCase *tables = tcase_create("tables");

	runner_pid = getpid();
	add_probe_tests(proc, proc_rep, proc_names, test_processor_probe,
	                test_processor_probe_reported, test_processor_report_names_syscall,
	                &processor_policy);
	add_probe_tests(load, load_rep, load_names, test_loader_probe, test_loader_probe_reported,
	                test_loader_report_names_syscall, &loader_policy);
	tcase_add_test_raise_signal(install, test_foreign_abi_killed, SIGSYS);
	tcase_add_test(install, test_install_sets_nnp_and_filter_mode);
	tcase_add_loop_test(install, test_bad_rule_loads_nothing, 0, (int)ARRAY_SIZE(bad_rules));
	tcase_add_test(install, test_null_table_rejected);
	tcase_add_test(install, test_reporter_rejects_long_ident);
	tcase_add_loop_test(tables, test_policy_allows_reporter_syscalls, 0,
	                    (int)ARRAY_SIZE(policies));

	suite_add_tcase(s, proc);
	suite_add_tcase(s, proc_rep);
	suite_add_tcase(s, proc_names);
	suite_add_tcase(s, load);
	suite_add_tcase(s, load_rep);
	suite_add_tcase(s, load_names);
	suite_add_tcase(s, install);
	suite_add_tcase(s, tables);
	return s;
}
