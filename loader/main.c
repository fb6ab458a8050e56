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
#include "proc.digest.h"
#include "proc.skel.h"
#include "seccomp/filter.h"
#include "seccomp_loader.h"

#define EXIT_FATAL 1

struct loader {
	struct loader_opts opts;
	uint64_t cgroup_ids[LOADER_CGROUPS_MAX];
	struct spawn_target target;
	struct pin_dir pins;
	bool pinned; /* we own the pins: remove them on exit */
	struct proc_bpf *skel;
	struct handoff_fd fds[2];
	int sigfd;
	int sock;
	pid_t child;
	int pidfd;
	uint8_t digest[32];
};

static struct loader L = {
	.target = { .exe_fd = -1 },
	.pins = { .parent_fd = -1, .dir_fd = -1 },
	.fds = { { .fd = -1 }, { .fd = -1 } },
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
	if (L.child > 0) {
		kill(L.child, SIGKILL);
		waitpid(L.child, NULL, 0);
	}
	proc_bpf__destroy(L.skel);
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

static void step_check_caps(void)
{
	const struct cap_need *missing;

	if (caps_check(needs_load, 2, &missing) < 0 || caps_check(needs_spawn, 2, &missing) < 0)
		die("missing capability %s (needed %s). Run as root, or grant exactly: "
		    "setpriv --bounding-set=-all,+bpf,+perfmon,+setuid,+setgid "
		    "--inh-caps=-all bpfwarden-loader ...\n",
		    missing->name, missing->why);
}

static void step_resolve_scope(void)
{
	char mnt[256] = "?";

	if (L.opts.system_wide) {
		log_warn("SYSTEM-WIDE capture: every process on this node is in scope "
		         "(--system-wide was given)\n");
		return;
	}
	scope_cgroup2_mount(mnt, sizeof(mnt));
	for (size_t i = 0; i < L.opts.ncgroups; i++) {
		int r = scope_cgroup_id(L.opts.cgroups[i], &L.cgroup_ids[i]);

		if (r == -EMEDIUMTYPE)
			die("--cgroup %s: not a cgroup-v2 directory (cgroup2 is mounted at %s)\n",
			    L.opts.cgroups[i], mnt);
		if (r < 0)
			die("--cgroup %s: %s\n", L.opts.cgroups[i], strerror(-r));
		log_info("scope: cgroup %s (id %llu) and below\n", L.opts.cgroups[i],
		         (unsigned long long)L.cgroup_ids[i]);
	}
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
		L.digest[i] = (uint8_t)v;
	}
	log_info("eBPF object proc.bpf.o sha256 %s\n", hex);
}

static void step_load(void)
{
	int r;

	L.skel = proc_bpf__open();
	if (!L.skel)
		die("opening the embedded eBPF object: %s\n", strerror(errno));
	L.skel->rodata->system_wide = L.opts.system_wide;
	memcpy((void *)L.skel->rodata->object_sha256, L.digest, sizeof(L.digest));
	r = bpf_map__set_max_entries(L.skel->maps.events_security, L.opts.ringbuf_security);
	if (r < 0)
		die("sizing the security ring buffer: %s\n", strerror(-r));
	r = proc_bpf__load(L.skel);
	if (r < 0)
		die("loading eBPF programs: %s (run with -v for the verifier log)\n", strerror(-r));
}

/* Freeze @fd and prove it: a syscall-side write must now fail. */
static void freeze(int fd, const char *name, const void *key, const void *value)
{
	int r = bpf_map_freeze(fd);

	if (r < 0)
		die("freezing map %s: %s\n", name, strerror(-r));
	if (bpf_map_update_elem(fd, key, value, BPF_ANY) != -EPERM)
		die("map %s accepted a write after BPF_MAP_FREEZE\n", name);
}

/*
 * Fill the cgroup allowlist and freeze it: no process, this one included,
 * can widen the scope afterwards. The counters are frozen too, so the
 * processor's mapping can only ever be read-only: nobody can reset them.
 */
static void step_fill_and_freeze(void)
{
	int fd = bpf_map__fd(L.skel->maps.scope_cgroups);
	__u64 probe = ~0ull, zero = 0;
	__u32 slot = 0;
	__u8 one = 1;
	int r;

	for (size_t i = 0; i < L.opts.ncgroups; i++) {
		r = bpf_map_update_elem(fd, &L.cgroup_ids[i], &one, BPF_NOEXIST);
		if (r < 0)
			die("filling scope map: %s\n", strerror(-r));
	}
	freeze(fd, "scope_cgroups", &probe, &one);
	freeze(bpf_map__fd(L.skel->maps.stats), "stats", &slot, &zero);
}

static void pin_one(int r, enum pin_id id)
{
	if (r < 0)
		die("pinning %s in %s: %s\n", pin_names[id], L.opts.pin_dir, strerror(-r));
}

static void step_attach_and_pin(void)
{
	char path[LOADER_PATH_MAX];
	struct {
		enum pin_id id;
		struct bpf_map *map;
	} maps[] = {
		{ PIN_RODATA, L.skel->maps.rodata },
		{ PIN_SCOPE_CGROUPS, L.skel->maps.scope_cgroups },
		{ PIN_STATS, L.skel->maps.stats },
		{ PIN_EVENTS_SECURITY, L.skel->maps.events_security },
	};
	int r = proc_bpf__attach(L.skel);

	if (r < 0)
		die("attaching raw tracepoints sched_process_exec/exit: %s\n", strerror(-r));
	L.pinned = true;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		pins_path(&L.pins, maps[i].id, path, sizeof(path));
		pin_one(bpf_map__pin(maps[i].map, path), maps[i].id);
	}
	pins_path(&L.pins, PIN_LINK_EXEC, path, sizeof(path));
	pin_one(bpf_link__pin(L.skel->links.sched_process_exec, path), PIN_LINK_EXEC);
	pins_path(&L.pins, PIN_LINK_EXIT, path, sizeof(path));
	pin_one(bpf_link__pin(L.skel->links.sched_process_exit, path), PIN_LINK_EXIT);
	log_info("attached and pinned under %s\n", L.opts.pin_dir);
}

static int obj_get(enum pin_id id, __u32 flags)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = flags);
	char path[LOADER_PATH_MAX];
	int fd;

	pins_path(&L.pins, id, path, sizeof(path));
	fd = bpf_obj_get_opts(path, &o);
	if (fd < 0)
		die("opening pinned %s: %s\n", path, strerror(errno));
	return fd;
}

/* The pinned scope must be exactly the one asked for, by the same object. */
static void check_reused_scope(void)
{
	struct proc_bpf__rodata ro;
	int fd = obj_get(PIN_RODATA, BPF_F_RDONLY);
	__u32 zero = 0;
	__u64 key, next;
	size_t n = 0;
	int r = bpf_map_lookup_elem(fd, &zero, &ro);

	close(fd);
	if (r < 0)
		die("reading pinned rodata: %s\n", strerror(-r));
	if (memcmp((const void *)ro.object_sha256, L.digest, sizeof(L.digest)) != 0)
		die("the pins in %s were made by a different eBPF object; remove them (rm -r %s) "
		    "or stop the loader that owns them\n",
		    L.opts.pin_dir, L.opts.pin_dir);
	if (ro.system_wide != L.opts.system_wide)
		die("the pins in %s were made with%s --system-wide; remove them (rm -r %s)\n",
		    L.opts.pin_dir, ro.system_wide ? "" : "out", L.opts.pin_dir);
	fd = obj_get(PIN_SCOPE_CGROUPS, BPF_F_RDONLY);
	for (r = bpf_map_get_next_key(fd, NULL, &key); r == 0;
	     r = bpf_map_get_next_key(fd, &key, &next), key = next) {
		bool found = false;

		for (size_t i = 0; i < L.opts.ncgroups; i++)
			found |= L.cgroup_ids[i] == key;
		if (!found)
			break;
		n++;
	}
	close(fd);
	if (r == 0 || n != L.opts.ncgroups)
		die("the pins in %s were made for a different --cgroup scope; remove them "
		    "(rm -r %s) or give the same scope\n",
		    L.opts.pin_dir, L.opts.pin_dir);
}

static void step_load_or_reuse(void)
{
	int have = pins_count(&L.pins);

	if (have == PIN_COUNT) {
		/* Not ours until they match: a refusal leaves them alone. */
		check_reused_scope();
		L.pinned = true;
		log_info("reusing the programs pinned in %s (attached by an earlier loader); "
		         "not attaching again\n",
		         L.opts.pin_dir);
		return;
	}
	L.pinned = true; /* we hold the lock: whatever we pin is ours */
	if (have > 0) {
		log_warn("removing %d stale pins left in %s by an interrupted loader\n", have,
		         L.opts.pin_dir);
		pins_remove(&L.pins, false);
	}
	step_load();
	step_fill_and_freeze();
	step_attach_and_pin();
	/* The pins hold programs and links now: keep no fd we do not hand over. */
	proc_bpf__destroy(L.skel);
	L.skel = NULL;
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

static void step_open_handoff_fds(void)
{
	struct ipc_fd_desc *rb = &L.fds[0].desc, *st = &L.fds[1].desc;
	__u32 vs;

	L.fds[0].fd = obj_get(PIN_EVENTS_SECURITY, 0);
	rb->kind = IPC_FD_RINGBUF_SECURITY;
	rb->size = map_entries(L.fds[0].fd, &vs);
	if (rb->size != L.opts.ringbuf_security)
		log_warn("the pinned security ring buffer has %llu bytes; --ringbuf-security "
		         "is ignored while reusing pins\n",
		         (unsigned long long)rb->size);
	/* Frozen at load: the processor can map it read-only, never reset it. */
	L.fds[1].fd = obj_get(PIN_STATS, 0);
	st->kind = IPC_FD_STATS;
	st->entries = map_entries(L.fds[1].fd, &st->value_size);
	st->size = (uint64_t)st->entries * st->value_size;
	if (st->entries != STAT_SLOTS || st->value_size != sizeof(__u64))
		die("pinned stats map has an unexpected layout; remove %s\n", L.opts.pin_dir);
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
		             .nfds = 2 };
	memcpy(b.digest, L.digest, sizeof(b.digest));
	code = broker_run(&b);
	step_unpin();
	return code;
}
