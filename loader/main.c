// SPDX-License-Identifier: Apache-2.0
/*
 * bpfwarden-loader: the privileged TCB. Its life is a straight line:
 *
 *   parse argv -> check capabilities -> resolve scope -> prepare processor
 *   -> lock pin dir -> (reuse pins | open, set rodata, load, fill + freeze
 *   scope, attach, pin) -> open hand-off fds -> spawn processor -> drop
 *   every capability -> Landlock -> seccomp -> serve as a capless fd
 *   broker -> unpin
 *
 * It parses no rich input: argv only. Each step is fatal on failure with a
 * message that says what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/proc.h"
#include "bpf/stats.h"
#include "ipc/ipc.h"
#include "ipc/log.h"
#include "loader/args.h"
#include "loader/broker.h"
#include "loader/caps.h"
#include "loader/landlock.h"
#include "loader/pins.h"
#include "loader/scope.h"
#include "loader/spawn.h"
#include "l7.digest.h"
#include "loader/programs.h"
#include "loader/tls.h"
#include "proc.digest.h"
#include "seccomp/filter.h"
#include "seccomp_loader.h"

#define EXIT_FATAL 1

struct loader {
	struct loader_opts opts;
	uint64_t cgroup_ids[LOADER_CGROUPS_MAX];
	char cgroup_root[LOADER_PATH_MAX];
	struct tls_libs tls;
	struct program_config cfg;
	struct programs progs;
	struct spawn_target target;
	struct pin_dir pins;
	bool pinned; /* we own the pins: remove them on exit */
	struct handoff_fd fds[3];
	size_t nfds;
	int sigfd;
	int sock;
	pid_t child;
	int pidfd;
};

static struct loader L = {
	.target = { .exe_fd = -1 },
	.pins = { .parent_fd = -1, .dir_fd = -1 },
	.fds = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } },
	.sigfd = -1,
	.sock = -1,
	.child = -1,
	.pidfd = -1,
};

static const struct cap_need needs_load[] = {
	{ CAP_BPF, "CAP_BPF", "to create maps and load eBPF programs" },
	{ CAP_PERFMON, "CAP_PERFMON", "to load and attach tracing programs that read task memory" },
};

static const struct cap_need needs_spawn[] = {
	{ CAP_SETUID, "CAP_SETUID", "to start the processor as an unprivileged user" },
	{ CAP_SETGID, "CAP_SETGID", "to start the processor as an unprivileged group" },
};

/* Undo what is undoable (child, pins), then exit: every step's failure. */
__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	/* After the drop the loader may not signal its child (another uid):
	 * then exiting is what ends it, through its parent-death signal. */
	if (L.child > 0 && kill(L.child, SIGKILL) == 0)
		waitpid(L.child, NULL, 0);
	programs_close(&L.progs);
	if (L.pinned && !L.opts.keep_pins)
		pins_remove(&L.pins, true);
	exit(EXIT_FATAL);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level == LIBBPF_DEBUG && !L.opts.verbose)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_msg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", line);
	return 0;
}

static void step_parse(int argc, char **argv)
{
	char err[512];
	int r = loader_parse_args(argc, argv, &L.opts, err, sizeof(err));

	if (r == 1) {
		fputs(loader_usage, stdout);
		exit(0);
	}
	if (r < 0) {
		fprintf(stderr, "bpfwarden-loader: %s\n(see bpfwarden-loader --help)\n", err);
		exit(LOADER_EXIT_USAGE);
	}
	log_init("bpfwarden-loader", L.opts.verbose ? LOG_DEBUG : LOG_INFO);
	libbpf_set_print(libbpf_log);
}

/* fds 0-2 must be open, or a later socket could land on stdout. */
static void step_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			die("cannot open /dev/null for fd %d: %s\n", fd, strerror(errno));
}

static const struct cap_need need_net_admin = {
	CAP_NET_ADMIN, "CAP_NET_ADMIN", "to attach the L7 hooks to cgroups; or pass --no-l7"
};

static void step_check_caps(void)
{
	const struct cap_need *missing = NULL;

	if (caps_check(needs_load, 2, &missing) == 0 && L.opts.l7)
		caps_check(&need_net_admin, 1, &missing);
	if (!missing)
		caps_check(needs_spawn, 2, &missing);
	if (missing)
		die("missing capability %s (needed %s). Run as root, or grant exactly: "
		    "setpriv --bounding-set=-all,+bpf,+perfmon%s,+setuid,+setgid "
		    "--inh-caps=-all bpfwarden-loader ...\n",
		    missing->name, missing->why, L.opts.l7 ? ",+net_admin" : "");
}

/*
 * Nested scopes would run every cgroup hook twice for the inner cgroup
 * (hooks of ancestors run too), so duplicate every record: refuse them.
 */
static void check_not_nested(void)
{
	static char real[LOADER_CGROUPS_MAX][LOADER_PATH_MAX];

	for (size_t i = 0; i < L.opts.ncgroups; i++)
		if (!realpath(L.opts.cgroups[i], real[i]))
			die("--cgroup %s: %s\n", L.opts.cgroups[i], strerror(errno));
	for (size_t i = 0; i < L.opts.ncgroups; i++) {
		for (size_t j = 0; j < L.opts.ncgroups; j++) {
			size_t n = strlen(real[i]);

			if (i != j && strncmp(real[i], real[j], n) == 0 &&
			    (real[j][n] == '/' || real[j][n] == '\0'))
				die("--cgroup %s lies inside --cgroup %s, which already covers it: "
				    "give only the outer one\n",
				    L.opts.cgroups[j], L.opts.cgroups[i]);
		}
	}
}

static void step_resolve_scope(void)
{
	int r = scope_cgroup2_mount(L.cgroup_root, sizeof(L.cgroup_root));

	if (r < 0 && (L.opts.ncgroups || L.opts.l7))
		die("no cgroup2 filesystem in /proc/mounts: %s\n", strerror(-r));
	if (L.opts.system_wide) {
		log_warn("SYSTEM-WIDE capture: every process on this node is in scope "
		         "(--system-wide was given)\n");
		return;
	}
	for (size_t i = 0; i < L.opts.ncgroups; i++) {
		r = scope_cgroup_id(L.opts.cgroups[i], &L.cgroup_ids[i]);
		if (r == -EMEDIUMTYPE)
			die("--cgroup %s: not a cgroup-v2 directory (cgroup2 is mounted at %s)\n",
			    L.opts.cgroups[i], L.cgroup_root);
		if (r < 0)
			die("--cgroup %s: %s\n", L.opts.cgroups[i], strerror(-r));
		log_info("scope: cgroup %s (id %llu) and below\n", L.opts.cgroups[i],
		         (unsigned long long)L.cgroup_ids[i]);
	}
	check_not_nested();
}

static void step_prepare_processor(void)
{
	char self[LOADER_PATH_MAX], path[LOADER_PATH_MAX];
	const char *exe = L.opts.processor;
	ssize_t n;
	int r;

	if (!exe) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			die("readlink /proc/self/exe: %s\n", strerror(errno));
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/bpfwarden-processor", dirname(self));
		exe = path;
	}
	r = spawn_prepare(&L.target, L.opts.user, exe);
	if (r == -ESRCH)
		die("--user %s: no such user\n", L.opts.user);
	if (r == -EPERM)
		die("refusing to start the processor: user %s is root, or %s is not a regular "
		    "file or is writable by group/others\n",
		    L.opts.user, exe);
	if (r < 0)
		die("processor %s as user %s: %s\n", exe, L.opts.user, strerror(-r));
	L.target.argv = L.opts.processor_argv;
	L.target.argc = L.opts.processor_argc;
}

static void step_open_pins(void)
{
	int r = pins_open(&L.pins, L.opts.pin_dir);

	if (r == -EMEDIUMTYPE)
		die("the parent of --pin-dir %s is not a bpffs mount; mount one first: "
		    "mount -t bpf bpf /sys/fs/bpf\n",
		    L.opts.pin_dir);
	if (r == -EWOULDBLOCK)
		die("another bpfwarden-loader holds %s; stop it first\n", L.opts.pin_dir);
	if (r == -EPERM)
		die("%s is not owned by this user or is writable by others; remove it\n",
		    L.opts.pin_dir);
	if (r < 0)
		die("pin dir %s: %s\n", L.opts.pin_dir, strerror(-r));
}

static void parse_digest(void)
{
	const char *hex = PROC_BPF_SHA256;

	for (int i = 0; i < 32; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			die("build error: bad PROC_BPF_SHA256\n");
		L.cfg.digest[i] = (uint8_t)v;
	}
	log_info("eBPF objects: proc.bpf.o sha256 %s, l7.bpf.o sha256 %s\n", PROC_BPF_SHA256,
	         L7_BPF_SHA256);
}

static void step_fingerprint(void)
{
	const char *digests[] = { PROC_BPF_SHA256, L7_BPF_SHA256 };

	L.cfg.o = &L.opts;
	L.cfg.cgroup_ids = L.cgroup_ids;
	L.cfg.cgroup_root = L.cgroup_root;
	L.cfg.tls = &L.tls;
	L.cfg.fingerprint = config_fingerprint(&L.opts, L.cgroup_ids, digests, 2);
}

static void step_discover_tls(void)
{
	int r;

	if (!L.opts.tls)
		return;
	for (size_t i = 0; i < L.opts.ntls_libs; i++) {
		r = tls_add(&L.tls, L.opts.tls_libs[i]);
		if (r < 0)
			die("--tls-lib %s: %s\n", L.opts.tls_libs[i], strerror(-r));
	}
	r = tls_discover(&L.tls, L.opts.cgroups, L.opts.ncgroups);
	if (r < 0)
		die("TLS library discovery: %s\n", strerror(-r));
	if (L.tls.n == 0)
		log_warn("TLS: no OpenSSL library found in the scoped processes and no --tls-lib: "
		         "no TLS plaintext will be captured\n");
}

static void step_load_attach_pin(void)
{
	char err[512];
	int r;

	L.pinned = true; /* we hold the lock: whatever we pin is ours */
	if (L.pins.n > 0) {
		log_warn("removing %zu stale pins left in %s by an interrupted loader\n", L.pins.n,
		         L.opts.pin_dir);
		pins_remove(&L.pins, false);
	}
	r = programs_load(&L.progs, &L.cfg, err, sizeof(err));
	if (r == 0)
		r = programs_freeze(&L.progs, &L.cfg, err, sizeof(err));
	if (r == 0)
		r = programs_attach(&L.progs, &L.cfg, err, sizeof(err));
	if (r == 0)
		r = programs_pin(&L.progs, &L.pins, err, sizeof(err));
	if (r < 0)
		die("%s\n", err);
	log_info("attached %zu links, pinned under %s\n", L.progs.nlinks, L.opts.pin_dir);
	/* The pins hold programs and links now: keep no fd we do not hand over. */
	programs_close(&L.progs);
}

static void step_load_or_reuse(void)
{
	char err[512];

	if (!pins_complete(&L.pins)) {
		step_load_attach_pin();
		return;
	}
	/* Not ours until they match: a refusal leaves them alone. */
	if (programs_check_reuse(&L.pins, &L.cfg, err, sizeof(err)) < 0)
		die("%s in %s; stop the loader that owns them, or remove them (rm -r %s), or give "
		    "the same options\n",
		    err, L.opts.pin_dir, L.opts.pin_dir);
	L.pinned = true;
	log_info("reusing the %zu programs and maps pinned in %s (attached by an earlier loader "
	         "with the same configuration); not attaching again\n",
	         L.pins.n, L.opts.pin_dir);
}

static int obj_get(const char *name)
{
	char path[LOADER_PATH_MAX + PIN_NAME_MAX];
	int fd;

	pins_path(&L.pins, name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("opening pinned %s: %s\n", path, strerror(errno));
	return fd;
}

static __u32 map_entries(int fd, __u32 *value_size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len) < 0)
		die("bpf_map_get_info_by_fd: %s\n", strerror(errno));
	*value_size = info.value_size;
	return info.max_entries;
}

static void add_ringbuf(const char *name, enum ipc_fd_kind kind)
{
	struct handoff_fd *h = &L.fds[L.nfds++];
	__u32 vs;

	h->fd = obj_get(name);
	h->desc.kind = kind;
	h->desc.size = map_entries(h->fd, &vs);
}

/* What the processor gets: ring buffers and the (frozen) counters. */
static void step_open_handoff_fds(void)
{
	struct handoff_fd *st;

	add_ringbuf("events_security", IPC_FD_RINGBUF_SECURITY);
	st = &L.fds[L.nfds++];
	st->fd = obj_get("stats");
	st->desc.kind = IPC_FD_STATS;
	st->desc.entries = map_entries(st->fd, &st->desc.value_size);
	st->desc.size = (uint64_t)st->desc.entries * st->desc.value_size;
	if (st->desc.entries != STAT_SLOTS || st->desc.value_size != sizeof(__u64))
		die("pinned stats map has an unexpected layout; remove %s\n", L.opts.pin_dir);
	if (L.opts.l7)
		add_ringbuf("events_l7", IPC_FD_RINGBUF_L7);
}

static void step_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask: %s\n", strerror(errno));
	L.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (L.sigfd < 0)
		die("signalfd: %s\n", strerror(errno));
}

static void step_spawn(void)
{
	int r = spawn_processor(&L.target, &L.sock, &L.child, &L.pidfd);

	if (r < 0)
		die("starting the processor: %s\n", strerror(-r));
	close(L.target.exe_fd);
	L.target.exe_fd = -1;
	log_info("started processor pid %d as uid %u\n", (int)L.child, (unsigned)L.target.uid);
}

static void step_drop(void)
{
	uint64_t left = 0;
	char names[512];
	int r = caps_drop_all(&left);

	if (r < 0)
		die("dropping capabilities: %s\n", strerror(-r));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("PR_SET_DUMPABLE: %s\n", strerror(errno));
	if (left) {
		caps_describe(left, names, sizeof(names));
		log_warn("dropped every capability; the bounding set keeps %s (clearing it needs "
		         "CAP_SETPCAP, not held); no_new_privs makes them unreachable\n",
		         names);
	} else {
		log_info("dropped every capability (effective, permitted, inheritable, ambient, "
		         "bounding); no_new_privs set, securebits locked\n");
	}
}

static void step_landlock(void)
{
	int abi = loader_landlock(L.pins.dir_fd, L.pins.parent_fd);

	if (abi == -EOPNOTSUPP)
		log_warn("Landlock is not available in this kernel: the loader's filesystem "
		         "access is limited by seccomp only\n");
	else if (abi < 0)
		die("Landlock: %s\n", strerror(-abi));
	else
		log_info("Landlock ABI %d: filesystem limited to removing pins in %s\n", abi,
		         L.opts.pin_dir);
}

static void step_seccomp(void)
{
	int r = sc_install_sigsys_reporter("bpfwarden-loader");

	if (r == 0)
		r = sc_install(sc_loader_rules,
		               sizeof(sc_loader_rules) / sizeof(sc_loader_rules[0]));
	if (r < 0)
		die("installing the seccomp filter: %s\n", strerror(-r));
}

static void step_unpin(void)
{
	int r;

	if (L.opts.keep_pins) {
		log_info("--keep-pins: programs stay attached and pinned in %s\n", L.opts.pin_dir);
		return;
	}
	r = pins_remove(&L.pins, true);
	if (r < 0)
		log_error("removing pins from %s: %s\n", L.opts.pin_dir, strerror(-r));
	else
		log_info("detached and unpinned %s\n", L.opts.pin_dir);
}

int main(int argc, char **argv)
{
	struct broker b;
	int code;

	step_parse(argc, argv);
	step_std_fds();
	step_check_caps();
	step_resolve_scope();
	step_prepare_processor();
	step_open_pins();
	parse_digest();
	step_discover_tls();
	step_fingerprint();
	step_load_or_reuse();
	step_open_handoff_fds();
	step_signals();
	step_spawn();
	step_drop();
	step_landlock();
	step_seccomp();

	b = (struct broker){ .sock = L.sock,
		             .sigfd = L.sigfd,
		             .child = L.child,
		             .pidfd = L.pidfd,
		             .fds = L.fds,
		             .nfds = L.nfds };
	memcpy(b.digest, L.cfg.digest, sizeof(b.digest));
	code = broker_run(&b);
	step_unpin();
	return code;
}
