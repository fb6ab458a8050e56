// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/handoff.c: the processor's side of the fd hand-off
 * (handoff_receive), the fdinfo parser and the kernel check of what arrived
 * (handoff_verify).
 *
 * handoff_receive() talks to a fake loader over a real SOCK_SEQPACKET pair.
 * Each script runs twice: pre-queued from this thread (SEQPACKET keeps the
 * datagrams, so the whole loader side is sent first and the HELLO read back
 * afterwards), and live from a forked child that waits for the HELLO, checks
 * it and then really exits where the script closes. Every valid script has
 * malformed twins; a rejected hand-off must leave no fd behind in our table.
 *
 * The fdinfo parser is fed every prefix of kernel-shaped fixtures, each placed
 * so that its last byte is followed by a PROT_NONE page. handoff_verify() is
 * run against maps this test creates with bpf(2); the processor itself never
 * calls bpf.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, pipe2 */
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "ipc/ipc.h"
#include "processor/handoff.h"
#include "test/testutil.h"

Suite *handoff_suite(void);

#define ERR_CAP        256
#define STEPS_MAX      8
#define LOADER_PID     4242u /* announced by the pre-queued loader */
#define LOADER_TEXT    "no CAP_BPF in this namespace"
#define RINGBUF_BYTES  (64u * 1024u)
#define STATS_ENTRIES  32u
#define STATS_BYTES    (STATS_ENTRIES * 8u)
#define RB_MEMFD_NAME  "bpfwarden-test-ringbuf"
#define ST_MEMFD_NAME  "bpfwarden-test-stats"
#define RECV_TIMEOUT_S 3 /* a script that leaves the processor waiting fails, not hangs */

/* Loader exit codes in the forked mode. */
#define CHILD_OK        0
#define CHILD_BAD_HELLO 2
#define CHILD_SEND_FAIL 3

/* True if @fd is the memfd called @name (readlink says "/memfd:NAME (deleted)"). */
static bool is_memfd(int fd, const char *name)
{
	char path[64], target[256], want[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	snprintf(want, sizeof(want), "/memfd:%s ", name);
	return strncmp(target, want, strlen(want)) == 0;
}

/* ---- handoff_receive() against a fake loader ---- */

/* One loader action; a script is an array of them, ended by S_END (zero). */
enum step {
	S_END,
	S_WELCOME_1,   /* WELCOME announcing 1 fd */
	S_WELCOME_2,   /* ... 2 fds */
	S_WELCOME_3,   /* ... 3 fds */
	S_RINGBUF,     /* IPC_FD: RINGBUF_BYTES ring buffer; a memfd stands in */
	S_STATS,       /* IPC_FD: STATS_ENTRIES u64 counters; a memfd stands in */
	S_READY,       /* hand-off complete */
	S_ERROR,       /* IPC_ERROR carrying LOADER_TEXT */
	S_HELLO,       /* the processor's own greeting, echoed back */
	S_BAD_VERSION, /* a valid WELCOME whose header says IPC_VERSION + 1 */
	S_GARBAGE,     /* bytes that are no ipc message at all */
	S_CLOSE,       /* loader stops talking: SHUT_WR when queued, exit when forked */
};

struct recv_case {
	const char *name;
	enum step steps[STEPS_MAX];
	int want;            /* handoff_receive() result */
	const char *err_has; /* failure: text the reason must contain */
};

static const struct recv_case recv_cases[] = {
	{ "ringbuf then stats", { S_WELCOME_2, S_RINGBUF, S_STATS, S_READY }, 0, NULL },
	{ "stats then ringbuf", { S_WELCOME_2, S_STATS, S_RINGBUF, S_READY }, 0, NULL },
	{ "loader error instead of welcome", { S_ERROR }, -ECONNREFUSED, LOADER_TEXT },
	{ "loader error after the first fd",
	  { S_WELCOME_2, S_RINGBUF, S_ERROR },
	  -ECONNREFUSED,
	  LOADER_TEXT },
	{ "welcome of another version",
	  { S_BAD_VERSION, S_RINGBUF, S_STATS, S_READY },
	  -EPROTONOSUPPORT,
	  "version 2" },
	{ "ready before the fds",
	  { S_WELCOME_2, S_READY, S_RINGBUF, S_STATS },
	  -EBADMSG,
	  "expected message type 3, got 4" },
	{ "nfds 2, one fd, ready",
	  { S_WELCOME_2, S_RINGBUF, S_READY },
	  -EBADMSG,
	  "expected message type 3, got 4" },
	{ "nfds 3, two fds, ready",
	  { S_WELCOME_3, S_RINGBUF, S_STATS, S_READY },
	  -EBADMSG,
	  "expected message type 3, got 4" },
	{ "ringbuf twice",
	  { S_WELCOME_2, S_RINGBUF, S_RINGBUF, S_READY },
	  -EBADMSG,
	  "kind 1 sent twice" },
	{ "stats twice",
	  { S_WELCOME_2, S_STATS, S_STATS, S_READY },
	  -EBADMSG,
	  "kind 2 sent twice" },
	{ "nfds 1, ringbuf only",
	  { S_WELCOME_1, S_RINGBUF, S_READY },
	  -EBADMSG,
	  "lacks the stats fd" },
	{ "nfds 1, stats only",
	  { S_WELCOME_1, S_STATS, S_READY },
	  -EBADMSG,
	  "lacks the security ring buffer fd" },
	{ "extra fd where ready is due",
	  { S_WELCOME_2, S_RINGBUF, S_STATS, S_STATS, S_READY },
	  -EBADMSG,
	  "expected message type 4, got 3" },
	{ "loader closes at once", { S_CLOSE }, -ECONNRESET, "peer closed" },
	{ "loader closes after one fd",
	  { S_WELCOME_2, S_RINGBUF, S_CLOSE },
	  -ECONNRESET,
	  "peer closed" },
	{ "loader closes before ready",
	  { S_WELCOME_2, S_RINGBUF, S_STATS, S_CLOSE },
	  -ECONNRESET,
	  "peer closed" },
	{ "hello instead of welcome",
	  { S_HELLO, S_WELCOME_2, S_RINGBUF, S_STATS, S_READY },
	  -EBADMSG,
	  "expected message type 2, got 1" },
	{ "garbage instead of welcome",
	  { S_GARBAGE, S_WELCOME_2, S_RINGBUF, S_STATS, S_READY },
	  -EBADMSG,
	  "bad message" },
	{ "garbage instead of an fd",
	  { S_WELCOME_2, S_RINGBUF, S_GARBAGE, S_STATS, S_READY },
	  -EBADMSG,
	  "bad message" },
};
#define N_RECV (int)(sizeof(recv_cases) / sizeof(recv_cases[0]))

static void fill_digest(uint8_t d[32])
{
	for (int i = 0; i < 32; i++)
		d[i] = (uint8_t)(0xa0 + i);
}

static struct ipc_welcome make_welcome(uint32_t nfds, uint32_t pid)
{
	struct ipc_welcome w = { .nfds = nfds, .loader_pid = pid };

	fill_digest(w.object_sha256);
	return w;
}

/* A fresh memfd named after its kind, sent with its descriptor, then closed here. */
static int send_fd(int sock, enum step kind, uint32_t seq)
{
	bool rb = kind == S_RINGBUF;
	struct ipc_fd_desc d = {
		.kind = rb ? IPC_FD_RINGBUF_SECURITY : IPC_FD_STATS,
		.entries = rb ? 0 : STATS_ENTRIES,
		.size = rb ? RINGBUF_BYTES : STATS_BYTES,
		.value_size = rb ? 0 : 8,
	};
	int fd = memfd_create(rb ? RB_MEMFD_NAME : ST_MEMFD_NAME, MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = ipc_send(sock, IPC_FD, seq, &d, sizeof(d), fd);
	close(fd);
	return r;
}

static int send_bytes(int sock, const void *buf, size_t len)
{
	ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* A well-formed WELCOME but for the version field (offset 4, u16). */
static int send_bad_version(int sock, uint32_t seq, uint32_t pid)
{
	struct ipc_welcome w = make_welcome(2, pid);
	unsigned char buf[IPC_MSG_MAX];
	uint16_t version = IPC_VERSION + 1;
	int len = ipc_encode(buf, sizeof(buf), IPC_WELCOME, seq, &w, sizeof(w));

	if (len < 0)
		return len;
	memcpy(buf + 4, &version, sizeof(version));
	return send_bytes(sock, buf, (size_t)len);
}

/*
 * One loader step. Returns 0 or -errno; no ck_assert, so the forked loader
 * can use it too. S_CLOSE is left to the caller.
 */
static int send_step(int sock, enum step s, uint32_t seq, uint32_t pid)
{
	static const char garbage[] = "GET / HTTP/1.1\r\nHost: loader\r\n\r\n";
	struct ipc_hello hello = { .pid = pid };
	struct ipc_welcome w;
	struct ipc_error e = { .code = EPERM };

	switch (s) {
	case S_WELCOME_1:
	case S_WELCOME_2:
	case S_WELCOME_3:
		w = make_welcome((uint32_t)(s - S_WELCOME_1 + 1), pid);
		return ipc_send(sock, IPC_WELCOME, seq, &w, sizeof(w), -1);
	case S_RINGBUF:
	case S_STATS:
		return send_fd(sock, s, seq);
	case S_READY:
		return ipc_send(sock, IPC_READY, seq, NULL, 0, -1);
	case S_ERROR:
		memcpy(e.text, LOADER_TEXT, sizeof(LOADER_TEXT));
		return ipc_send(sock, IPC_ERROR, seq, &e, sizeof(int32_t) + sizeof(LOADER_TEXT),
		                -1);
	case S_HELLO:
		return ipc_send(sock, IPC_HELLO, seq, &hello, sizeof(hello), -1);
	case S_BAD_VERSION:
		return send_bad_version(sock, seq, pid);
	case S_GARBAGE:
		return send_bytes(sock, garbage, sizeof(garbage) - 1);
	case S_END:
	case S_CLOSE:
		break;
	}
	return -EINVAL;
}

/* Sends @steps up to S_END or S_CLOSE; returns that step's kind, or -errno. */
static int run_script(int sock, const enum step *steps, uint32_t pid)
{
	for (uint32_t seq = 0; seq < STEPS_MAX; seq++) {
		int r;

		if (steps[seq] == S_END || steps[seq] == S_CLOSE)
			return (int)steps[seq];
		r = send_step(sock, steps[seq], seq, pid);
		if (r < 0)
			return r;
	}
	return -E2BIG;
}

/* The processor's first and only message: HELLO, seq 0, our pid, no flags, no fd. */
static bool hello_ok(int sock, pid_t processor)
{
	struct ipc_msg m;
	int fd = -1;

	if (ipc_recv(sock, &m, &fd) != 0 || fd >= 0)
		return false;
	return m.hdr.type == IPC_HELLO && m.hdr.seq == 0 && m.u.hello.pid == (uint32_t)processor &&
	       m.u.hello.flags == 0;
}

/* Forked loader: wait for the HELLO, play the script, then exit (closing its end). */
static void loader_child(int sock, const enum step *steps)
{
	if (!hello_ok(sock, getppid()))
		_exit(CHILD_BAD_HELLO);
	if (run_script(sock, steps, (uint32_t)getpid()) < 0)
		_exit(CHILD_SEND_FAIL);
	_exit(CHILD_OK);
}

static void seqpacket_pair(int sv[2])
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

static void check_success(const struct recv_case *c, const struct handoff *h, uint32_t pid,
                          int before)
{
	uint8_t digest[32];

	fill_digest(digest);
	ck_assert_msg(h->ringbuf_fd >= 0 && h->stats_fd >= 0, "%s: fds missing", c->name);
	ck_assert_int_ne(h->ringbuf_fd, h->stats_fd);
	ck_assert_int_eq(count_fds(), before + 2);
	ck_assert(is_cloexec(h->ringbuf_fd) && is_cloexec(h->stats_fd));
	ck_assert_msg(is_memfd(h->ringbuf_fd, RB_MEMFD_NAME), "%s: ringbuf fd mixed up", c->name);
	ck_assert_msg(is_memfd(h->stats_fd, ST_MEMFD_NAME), "%s: stats fd mixed up", c->name);
	ck_assert_uint_eq(h->ringbuf_size, RINGBUF_BYTES);
	ck_assert_uint_eq(h->stats_entries, STATS_ENTRIES);
	ck_assert_uint_eq(h->stats_size, STATS_BYTES);
	ck_assert_uint_eq(h->loader_pid, pid);
	ck_assert_mem_eq(h->digest, digest, sizeof(digest));
}

static void check_result(const struct recv_case *c, int r, struct handoff *h, const char *err,
                         uint32_t pid, int before)
{
	ck_assert_msg(r == c->want, "%s: got %d, want %d (%s)", c->name, r, c->want, err);
	if (r == 0) {
		check_success(c, h, pid, before);
		handoff_close(h);
		ck_assert_int_eq(h->ringbuf_fd, -1);
		ck_assert_int_eq(h->stats_fd, -1);
		ck_assert_int_eq(count_fds(), before);
		return;
	}
	ck_assert_msg(err[0] != '\0', "%s: empty reason", c->name);
	ck_assert_msg(strstr(err, c->err_has) != NULL, "%s: reason \"%s\" lacks \"%s\"", c->name,
	              err, c->err_has);
	ck_assert_msg(h->ringbuf_fd == -1 && h->stats_fd == -1, "%s: fd left in the struct",
	              c->name);
	ck_assert_msg(count_fds() == before, "%s: %d fds leaked", c->name, count_fds() - before);
}

/* The whole loader side is queued first; the HELLO is read back afterwards. */
static void receive_queued(const struct recv_case *c)
{
	struct handoff h;
	char err[ERR_CAP] = "";
	int sv[2], before, r;
	char ch;

	seqpacket_pair(sv);
	r = run_script(sv[1], c->steps, LOADER_PID);
	ck_assert_msg(r >= 0, "%s: loader script: %s", c->name, strerror(-r));
	/* Half-close: the processor still gets its HELLO out, then reads EOF. */
	if (r == S_CLOSE)
		ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	before = count_fds();
	r = handoff_receive(sv[0], &h, err, sizeof(err));
	check_result(c, r, &h, err, LOADER_PID, before);
	ck_assert_msg(hello_ok(sv[1], getpid()), "%s: malformed hello", c->name);
	ck_assert_int_eq(recv(sv[1], &ch, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

/* A live loader in a child process, which really exits at S_CLOSE. */
static void receive_forked(const struct recv_case *c)
{
	struct handoff h;
	char err[ERR_CAP] = "";
	int sv[2], before, r, status;
	pid_t pid;

	seqpacket_pair(sv);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		loader_child(sv[1], c->steps);
	}
	close(sv[1]);
	before = count_fds();
	r = handoff_receive(sv[0], &h, err, sizeof(err));
	check_result(c, r, &h, err, (uint32_t)pid, before);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
	              "%s: loader child status 0x%x", c->name, status);
	close(sv[0]);
}

/* Loop index: case = _i / 2; even runs pre-queued, odd against a forked loader. */
START_TEST(receive_table)
{
	const struct recv_case *c = &recv_cases[_i / 2];

	if (_i % 2 == 0)
		receive_queued(c);
	else
		receive_forked(c);
}
END_TEST

/* The loader is gone before we speak: the HELLO cannot go out, and says so. */
START_TEST(receive_loader_gone)
{
	struct handoff h;
	char err[ERR_CAP] = "";
	int sv[2], before, r;

	seqpacket_pair(sv);
	close(sv[1]);
	before = count_fds();
	r = handoff_receive(sv[0], &h, err, sizeof(err));
	ck_assert_int_eq(r, -EPIPE);
	ck_assert_msg(strstr(err, "sending hello") != NULL, "reason \"%s\"", err);
	ck_assert(h.ringbuf_fd == -1 && h.stats_fd == -1);
	ck_assert_int_eq(count_fds(), before);
	close(sv[0]);
}
END_TEST

/* ---- handoff_parse_fdinfo() ---- */

/* What fs/bpf's map fdinfo looks like (Linux 6.x), for a ring buffer and a frozen array. */
#define RINGBUF_FDINFO                                                                             \
	"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t27\nkey_size:\t0\n"        \
	"value_size:\t0\nmax_entries:\t262144\nmap_flags:\t0x0\nmap_extra:\t0x0\n"                 \
	"memlock:\t266568\nmap_id:\t40\nfrozen:\t0\n"
#define ARRAY_FDINFO                                                                               \
	"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1058\nmap_type:\t2\nkey_size:\t4\n"         \
	"value_size:\t8\nmax_entries:\t32\nmap_flags:\t0x400\nmap_extra:\t0x0\n"                   \
	"memlock:\t4352\nmap_id:\t41\nfrozen:\t1\n"
#define PIPE_FDINFO "pos:\t0\nflags:\t02000000\nmnt_id:\t14\nino:\t88213\n"

#define X10  "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define Z10  "0000000000"
#define Z100 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10
/* The parser copies a line into char[128]: 127 bytes is the longest it reads. */
#define LINE_127 "map_type:\t" Z100 Z10 "0000002"
#define LINE_128 "map_type:\t" Z100 Z10 "00000002"
_Static_assert(sizeof(LINE_127) - 1 == 127, "LINE_127 is 127 bytes");
_Static_assert(sizeof(LINE_128) - 1 == 128, "LINE_128 is 128 bytes");

struct fdinfo_case {
	const char *name;
	const char *text;     /* parsed without its terminating NUL */
	struct fd_facts want; /* { -1, 0, 0, -1 }: nothing known */
};

static const struct fdinfo_case fdinfo_cases[] = {
	{ "ringbuf", RINGBUF_FDINFO, { 27, 0, 262144, 0 } },
	{ "frozen array", ARRAY_FDINFO, { 2, 8, 32, 1 } },
	{ "pipe: no map fields", PIPE_FDINFO, { -1, 0, 0, -1 } },
	{ "empty", "", { -1, 0, 0, -1 } },
	{ "no trailing newline", "map_type:\t27\nmax_entries:\t4096", { 27, 0, 4096, -1 } },
	{ "only newlines", "\n\n\n", { -1, 0, 0, -1 } },
	{ "map_type abc", "map_type:\tabc\nfrozen:\tyes\n", { -1, 0, 0, -1 } },
	{ "no digits", "map_type:\t\nvalue_size:\nmax_entries:\t \n", { -1, 0, 0, -1 } },
	{ "negative values",
	  "map_type:\t-2\nvalue_size:\t-8\nmax_entries:\t-1\nfrozen:\t-1\n",
	  { -1, 0, 0, -1 } },
	{ "values above INT32_MAX",
	  "map_type:\t2147483648\nvalue_size:\t4294967295\nmax_entries:\t4294967296\n"
	  "frozen:\t99999999999999999999999\n",
	  { -1, 0, 0, -1 } },
	{ "INT32_MAX itself", "max_entries:\t2147483647\n", { -1, 0, 2147483647u, -1 } },
	{ "garbage keeps an earlier value",
	  "map_type:\t2\nmap_type:\tabc\nmap_type:\t-1\n",
	  { 2, 0, 0, -1 } },
	{ "key not at line start",
	  "xmap_type:\t2\n map_type:\t2\n#frozen:\t1\n",
	  { -1, 0, 0, -1 } },
	{ "key without colon", "map_type\t2\nfrozen 1\n", { -1, 0, 0, -1 } },
	{ "127-byte line read", LINE_127 "\n", { 2, 0, 0, -1 } },
	{ "128-byte line ignored", LINE_128 "\n", { -1, 0, 0, -1 } },
	{ "long line ignored, next read",
	  "map_type:\t2 " X100 X100 "\nfrozen:\t1\n",
	  { -1, 0, 0, 1 } },
	{ "long line last, no newline", "frozen:\t1\nmap_type:\t2" X100 X100, { -1, 0, 0, 1 } },
	{ "128-byte line last, no newline", "frozen:\t0\n" LINE_128, { -1, 0, 0, 0 } },
	{ "ringbuf without final newline",
	  "map_type:\t27\nmax_entries:\t262144\nfrozen:\t0",
	  { 27, 0, 262144, 0 } },
};
#define N_FDINFO (int)(sizeof(fdinfo_cases) / sizeof(fdinfo_cases[0]))

/* Two pages, the second PROT_NONE: text placed at the end of the first cannot be over-read. */
struct guard {
	char *area;
	size_t page;
};

static void guard_map(struct guard *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->area =
	        mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g->area, MAP_FAILED);
	ck_assert_int_eq(mprotect(g->area + g->page, g->page, PROT_NONE), 0);
}

static void guard_parse(const struct guard *g, const char *text, size_t len, struct fd_facts *f)
{
	char *at = g->area + g->page - len;

	ck_assert_uint_le(len, g->page);
	memcpy(at, text, len);
	handoff_parse_fdinfo(at, len, f);
}

static void guard_unmap(struct guard *g)
{
	munmap(g->area, 2 * g->page);
}

static void facts_eq(const char *name, size_t len, const struct fd_facts *got,
                     const struct fd_facts *want)
{
	ck_assert_msg(got->map_type == want->map_type && got->value_size == want->value_size &&
	                      got->max_entries == want->max_entries && got->frozen == want->frozen,
	              "%s (%zu bytes): got {%d, %u, %u, %d}, want {%d, %u, %u, %d}", name, len,
	              got->map_type, got->value_size, got->max_entries, got->frozen, want->map_type,
	              want->value_size, want->max_entries, want->frozen);
}

START_TEST(fdinfo_table)
{
	const struct fdinfo_case *c = &fdinfo_cases[_i];
	struct fd_facts f;
	struct guard g;

	guard_map(&g);
	memset(&f, 0x5a, sizeof(f)); /* every field is written, found or not */
	guard_parse(&g, c->text, strlen(c->text), &f);
	facts_eq(c->name, strlen(c->text), &f, &c->want);
	guard_unmap(&g);
}
END_TEST

/*
 * What a @p-byte prefix of @text may report for @key ("name:\t", once in
 * @text, decimal value): @unknown while no digit of the value is inside the
 * prefix; once the newline ending the line is inside, the whole value; in
 * between, the number the digits present spell. The parser cannot tell a cut
 * last line from a complete one without its newline (both are allowed input),
 * so a cut "max_entries:\t2621" reads 2621. What this pins down is that no
 * byte past @p is ever read, and no field other than the cut one changes.
 */
static long prefix_value(const char *text, size_t p, const char *key, long unknown)
{
	const char *k = strstr(text, key);
	size_t v, eol;
	long n = 0;

	ck_assert_ptr_nonnull(k);
	v = (size_t)(k - text) + strlen(key);
	eol = v + strcspn(text + v, "\n");
	if (p <= v)
		return unknown;
	for (size_t i = v; i < p && i < eol; i++)
		n = n * 10 + (text[i] - '0');
	return n;
}

static void check_prefixes(const char *name, const char *text)
{
	size_t len = strlen(text);
	struct guard g;

	guard_map(&g);
	for (size_t p = 0; p <= len; p++) {
		struct fd_facts f, want = {
			.map_type = (int)prefix_value(text, p, "map_type:\t", -1),
			.value_size = (uint32_t)prefix_value(text, p, "value_size:\t", 0),
			.max_entries = (uint32_t)prefix_value(text, p, "max_entries:\t", 0),
			.frozen = (int)prefix_value(text, p, "frozen:\t", -1),
		};

		guard_parse(&g, text, p, &f);
		facts_eq(name, p, &f, &want);
	}
	guard_unmap(&g);
}

START_TEST(fdinfo_prefixes)
{
	check_prefixes("ringbuf prefix", RINGBUF_FDINFO);
	check_prefixes("array prefix", ARRAY_FDINFO);
}
END_TEST

/* Spot checks of the rule above, spelled out. */
START_TEST(fdinfo_cut_values)
{
	static const char rb[] = RINGBUF_FDINFO;
	const char *cut = strstr(rb, "max_entries:\t2621") + strlen("max_entries:\t2621");
	const char *mt = strstr(rb, "map_type:\t2") + strlen("map_type:\t2");
	struct fd_facts f;
	struct guard g;

	guard_map(&g);
	guard_parse(&g, rb, (size_t)(cut - rb), &f);
	ck_assert_int_eq(f.map_type, 27);
	ck_assert_uint_eq(f.max_entries, 2621);
	ck_assert_int_eq(f.frozen, -1);
	guard_parse(&g, rb, (size_t)(mt - rb), &f);
	ck_assert_int_eq(f.map_type, 2); /* "27" cut to "2" */
	ck_assert_uint_eq(f.max_entries, 0);
	guard_parse(&g, rb, (size_t)(mt - rb) - 1, &f);
	ck_assert_int_eq(f.map_type, -1);
	guard_unmap(&g);
}
END_TEST

/* ---- handoff_verify() against real BPF maps ---- */

static int bpf_call(int cmd, union bpf_attr *a)
{
	return (int)syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int map_create(uint32_t type, uint32_t key, uint32_t value, uint32_t max, uint32_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	a.map_flags = flags;
	return bpf_call(BPF_MAP_CREATE, &a);
}

static int map_freeze(int fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	return bpf_call(BPF_MAP_FREEZE, &a);
}

enum verify_mangle {
	V_NONE,
	V_UNFROZEN,       /* the array was never frozen */
	V_RB_SIZE,        /* the loader announced twice the ring buffer's size */
	V_SWAPPED,        /* ringbuf and stats fds exchanged */
	V_PIPE_RINGBUF,   /* a pipe where the ring buffer should be */
	V_PIPE_STATS,     /* a pipe where the counters should be */
	V_STATS_ENTRIES,  /* the loader announced 16 counters, the array has 32 */
	V_CLOSED_RINGBUF, /* the ring buffer fd is not open */
};

struct verify_case {
	const char *name;
	enum verify_mangle mangle;
	int want;
	const char *err_has;
};

static const struct verify_case verify_cases[] = {
	{ "ringbuf + frozen array", V_NONE, 0, NULL },
	{ "array not frozen", V_UNFROZEN, -EBADMSG, "frozen 0" },
	{ "ringbuf size differs", V_RB_SIZE, -EBADMSG, "ring-buffer fd is map type 27 of" },
	{ "fds swapped", V_SWAPPED, -EBADMSG, "ring-buffer fd is map type 2 " },
	{ "pipe as ringbuf", V_PIPE_RINGBUF, -EBADMSG, "ring-buffer fd is map type -1" },
	{ "pipe as stats", V_PIPE_STATS, -EBADMSG, "counters fd is map type -1" },
	{ "stats entries differ", V_STATS_ENTRIES, -EBADMSG, "array of 16 counters" },
	{ "ringbuf fd closed", V_CLOSED_RINGBUF, -EBADMSG, "cannot read /proc/self/fdinfo" },
};
#define N_VERIFY (int)(sizeof(verify_cases) / sizeof(verify_cases[0]))

/*
 * bpf(2) needs CAP_BPF (we run as root, but a container may still refuse).
 * CI must be able to run this; elsewhere it is skipped with a note.
 */
static bool bpf_usable(int probe_errno)
{
	const char *ci = getenv("CI");

	ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0, "bpf(BPF_MAP_CREATE) failed in CI: %s",
	              strerror(probe_errno));
	fprintf(stderr, "check_handoff: skipping handoff_verify tests, bpf(BPF_MAP_CREATE): %s\n",
	        strerror(probe_errno));
	return false;
}

START_TEST(verify_table)
{
	const struct verify_case *c = &verify_cases[_i];
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct handoff h = { .ringbuf_size = 4 * page,
		             .stats_entries = STATS_ENTRIES,
		             .stats_size = STATS_BYTES,
		             .l7_fd = -1 };
	char err[ERR_CAP] = "";
	int rb, st, pp[2], tmp, r;

	rb = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * page, 0);
	if (rb < 0 && !bpf_usable(errno))
		return;
	st = map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(uint64_t), STATS_ENTRIES,
	                BPF_F_MMAPABLE);
	ck_assert_msg(st >= 0, "array map: %s", strerror(errno));
	if (c->mangle != V_UNFROZEN)
		ck_assert_msg(map_freeze(st) == 0, "BPF_MAP_FREEZE: %s", strerror(errno));
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	h.ringbuf_fd = rb;
	h.stats_fd = st;
	switch (c->mangle) {
	case V_RB_SIZE:
		h.ringbuf_size *= 2;
		break;
	case V_SWAPPED:
		tmp = h.ringbuf_fd;
		h.ringbuf_fd = h.stats_fd;
		h.stats_fd = tmp;
		break;
	case V_PIPE_RINGBUF:
		h.ringbuf_fd = pp[0];
		break;
	case V_PIPE_STATS:
		h.stats_fd = pp[0];
		break;
	case V_STATS_ENTRIES:
		h.stats_entries = 16;
		h.stats_size = 16 * 8;
		break;
	case V_CLOSED_RINGBUF:
		h.ringbuf_fd = -1;
		break;
	case V_NONE:
	case V_UNFROZEN:
		break;
	}
	r = handoff_verify(&h, err, sizeof(err));
	ck_assert_msg(r == c->want, "%s: got %d, want %d (%s)", c->name, r, c->want, err);
	if (c->err_has != NULL)
		ck_assert_msg(strstr(err, c->err_has) != NULL, "%s: reason \"%s\" lacks \"%s\"",
		              c->name, err, c->err_has);
	close(pp[0]);
	close(pp[1]);
	close(st);
	close(rb);
}
END_TEST

Suite *handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *rx = tcase_create("receive");
	TCase *fdinfo = tcase_create("fdinfo");
	TCase *verify = tcase_create("verify");

	tcase_add_loop_test(rx, receive_table, 0, 2 * N_RECV);
	tcase_add_test(rx, receive_loader_gone);
	suite_add_tcase(s, rx);

	tcase_add_loop_test(fdinfo, fdinfo_table, 0, N_FDINFO);
	tcase_add_test(fdinfo, fdinfo_prefixes);
	tcase_add_test(fdinfo, fdinfo_cut_values);
	suite_add_tcase(s, fdinfo);

	tcase_add_loop_test(verify, verify_table, 0, N_VERIFY);
	suite_add_tcase(s, verify);
	return s;
}
