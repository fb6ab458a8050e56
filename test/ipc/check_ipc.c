// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for ipc/ipc.c (encode, decode) and ipc/fdpass.c (send, receive).
 *
 * The wire table holds every message shape we accept next to its malformed
 * twins; wire bytes are built here from the offsets documented in ipc.h, not
 * with ipc_encode(), so encoder and decoder are each checked against the
 * contract. The socket tables then send hostile datagrams and ancillary data
 * over a real SOCK_SEQPACKET pair and check that no fd survives a rejection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct ucred, SCM_CREDENTIALS, SO_PASSCRED */
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "test/testutil.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76 /* Linux >= 6.5: a pidfd of the sender with every message */
#endif

Suite *ipc_suite(void);

#define SEQ         7u
#define HELLO_LEN   sizeof(struct ipc_hello)
#define WELCOME_LEN sizeof(struct ipc_welcome)
#define FD_LEN      sizeof(struct ipc_fd_desc)
#define ERR_LEN(s)  (sizeof(int32_t) + sizeof(s)) /* code + text + NUL */
#define ERR_FULL    (sizeof(int32_t) + IPC_ERROR_MSG_MAX)
#define KIB         1024u

union payload {
	struct ipc_hello hello;
	struct ipc_welcome welcome;
	struct ipc_fd_desc fd;
	struct ipc_error error;
	unsigned char raw[IPC_MSG_MAX];
};

enum mangle {
	MANGLE_NONE,
	MANGLE_MAGIC,    /* one bit of the magic flipped */
	MANGLE_VERSION,  /* version IPC_VERSION + 1 */
	MANGLE_LEN_LESS, /* header len one below the payload on the wire */
	MANGLE_LEN_MORE, /* header len one above it */
};

struct wire_case {
	const char *name;
	unsigned int type; /* not enum ipc_type: unknown values are cases too */
	size_t plen;       /* payload bytes on the wire */
	union payload p;
	unsigned int fill; /* IPC_ERROR: text = fill x 'A', then NUL if room */
	enum mangle mangle;
	int want; /* ipc_decode() result */
};

static const struct wire_case wire_cases[] = {
	{ .name = "hello", .type = IPC_HELLO, .plen = HELLO_LEN, .p.hello = { .pid = 4242 } },
	{ .name = "hello flags 1",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .p.hello = { .pid = 4242, .flags = 1 },
	  .want = -EBADMSG },
	{ .name = "hello flags top bit",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .p.hello = { .flags = 0x80000000u },
	  .want = -EBADMSG },
	{ .name = "hello 7 bytes", .type = IPC_HELLO, .plen = HELLO_LEN - 1, .want = -EBADMSG },
	{ .name = "hello 9 bytes", .type = IPC_HELLO, .plen = HELLO_LEN + 1, .want = -EBADMSG },
	{ .name = "hello bad magic",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .mangle = MANGLE_MAGIC,
	  .want = -EBADMSG },
	{ .name = "hello next version",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .mangle = MANGLE_VERSION,
	  .want = -EPROTONOSUPPORT },
	{ .name = "hello len field short",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .mangle = MANGLE_LEN_LESS,
	  .want = -EBADMSG },
	{ .name = "hello len field long",
	  .type = IPC_HELLO,
	  .plen = HELLO_LEN,
	  .mangle = MANGLE_LEN_MORE,
	  .want = -EBADMSG },

	{ .name = "welcome 1 fd",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN,
	  .p.welcome = { .nfds = 1,
	                 .loader_pid = 1,
	                 .object_sha256 = { 0xde, 0xad, [31] = 0xef } } },
	{ .name = "welcome IPC_FDS_MAX fds",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN,
	  .p.welcome = { .nfds = IPC_FDS_MAX } },
	{ .name = "welcome 0 fds", .type = IPC_WELCOME, .plen = WELCOME_LEN, .want = -EBADMSG },
	{ .name = "welcome IPC_FDS_MAX+1 fds",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN,
	  .p.welcome = { .nfds = IPC_FDS_MAX + 1 },
	  .want = -EBADMSG },
	{ .name = "welcome UINT32_MAX fds",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN,
	  .p.welcome = { .nfds = UINT32_MAX },
	  .want = -EBADMSG },
	{ .name = "welcome 39 bytes",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN - 1,
	  .p.welcome = { .nfds = 1 },
	  .want = -EBADMSG },
	{ .name = "welcome 41 bytes",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN + 1,
	  .p.welcome = { .nfds = 1 },
	  .want = -EBADMSG },
	{ .name = "welcome len field long",
	  .type = IPC_WELCOME,
	  .plen = WELCOME_LEN,
	  .p.welcome = { .nfds = 1 },
	  .mangle = MANGLE_LEN_MORE,
	  .want = -EBADMSG },

	{ .name = "ringbuf 64 KiB",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB } },
	{ .name = "fd l7 ring buffer 4 MiB",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_L7, .size = 4096 * KIB } },
	{ .name = "fd l7 ring buffer not a power of two",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_L7, .size = 192 * KIB },
	  .want = -EBADMSG },
	{ .name = "ringbuf 256 KiB",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 256 * KIB } },
	{ .name = "ringbuf IPC_RINGBUF_MAX",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = IPC_RINGBUF_MAX } },
	{ .name = "ringbuf size 0",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY },
	  .want = -EBADMSG },
	{ .name = "ringbuf 2 KiB, not a page multiple",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 2 * KIB },
	  .want = -EBADMSG },
	{ .name = "ringbuf 192 KiB, not a power of two",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 192 * KIB },
	  .want = -EBADMSG },
	{ .name = "ringbuf twice IPC_RINGBUF_MAX",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 2ull * IPC_RINGBUF_MAX },
	  .want = -EBADMSG },
	{ .name = "ringbuf 2^63",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 1ull << 63 },
	  .want = -EBADMSG },
	{ .name = "ringbuf entries set",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .entries = 1, .size = 64 * KIB },
	  .want = -EBADMSG },
	{ .name = "ringbuf value_size set",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB, .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "ringbuf flags set",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB, .flags = 1 },
	  .want = -EBADMSG },
	{ .name = "fd kind 0", .type = IPC_FD, .plen = FD_LEN, .want = -EBADMSG },
	{ .name = "fd kind 4",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = 4, .entries = 4, .size = 32, .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "fd kind UINT32_MAX",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = UINT32_MAX, .size = 64 * KIB },
	  .want = -EBADMSG },
	{ .name = "fd 23 bytes",
	  .type = IPC_FD,
	  .plen = FD_LEN - 1,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB },
	  .want = -EBADMSG },
	{ .name = "fd 25 bytes",
	  .type = IPC_FD,
	  .plen = FD_LEN + 1,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB },
	  .want = -EBADMSG },
	{ .name = "fd len field short",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_RINGBUF_SECURITY, .size = 64 * KIB },
	  .mangle = MANGLE_LEN_LESS,
	  .want = -EBADMSG },

	{ .name = "stats 4 counters",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 4, .size = 32, .value_size = 8 } },
	{ .name = "stats 1 counter",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 1, .size = 8, .value_size = 8 } },
	{ .name = "stats IPC_STATS_MAX bytes",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS,
	            .entries = IPC_STATS_MAX / 8,
	            .size = IPC_STATS_MAX,
	            .value_size = 8 } },
	{ .name = "stats 0 counters",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "stats size larger than entries",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 4, .size = 40, .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "stats size smaller than entries",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 4, .size = 24, .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "stats above IPC_STATS_MAX",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS,
	            .entries = IPC_STATS_MAX / 8 + 1,
	            .size = IPC_STATS_MAX + 8,
	            .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "stats entries*8 beyond 32 bits",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS,
	            .entries = 1u << 29,
	            .size = 1ull << 32,
	            .value_size = 8 },
	  .want = -EBADMSG },
	{ .name = "stats value_size 4",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 4, .size = 16, .value_size = 4 },
	  .want = -EBADMSG },
	{ .name = "stats flags set",
	  .type = IPC_FD,
	  .plen = FD_LEN,
	  .p.fd = { .kind = IPC_FD_STATS, .entries = 4, .size = 32, .value_size = 8, .flags = 2 },
	  .want = -EBADMSG },

	{ .name = "ready", .type = IPC_READY },
	{ .name = "stop", .type = IPC_STOP },
	{ .name = "stop 1 byte", .type = IPC_STOP, .plen = 1, .want = -EBADMSG },
	{ .name = "ready 1 byte", .type = IPC_READY, .plen = 1, .want = -EBADMSG },
	{ .name = "ready len field long",
	  .type = IPC_READY,
	  .mangle = MANGLE_LEN_MORE,
	  .want = -EBADMSG },
	{ .name = "ready bad magic", .type = IPC_READY, .mangle = MANGLE_MAGIC, .want = -EBADMSG },

	{ .name = "error",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("operation not permitted"),
	  .p.error = { .code = EPERM, .text = "operation not permitted" } },
	{ .name = "error empty text",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN(""),
	  .p.error = { .code = 1 } },
	{ .name = "error whole struct, NUL padded",
	  .type = IPC_ERROR,
	  .plen = ERR_FULL,
	  .p.error = { .code = EIO, .text = "short" } },
	{ .name = "error longest text",
	  .type = IPC_ERROR,
	  .plen = ERR_FULL,
	  .p.error = { .code = EIO },
	  .fill = IPC_ERROR_MSG_MAX - 1 },
	{ .name = "error no text",
	  .type = IPC_ERROR,
	  .plen = 4,
	  .p.error = { .code = EIO },
	  .want = -EBADMSG },
	{ .name = "error one byte too long",
	  .type = IPC_ERROR,
	  .plen = ERR_FULL + 1,
	  .p.error = { .code = EIO },
	  .fill = IPC_ERROR_MSG_MAX - 1,
	  .want = -EBADMSG },
	{ .name = "error unterminated",
	  .type = IPC_ERROR,
	  .plen = 4 + 4,
	  .p.error = { .code = EIO, .text = "abcd" },
	  .want = -EBADMSG },
	{ .name = "error longest text unterminated",
	  .type = IPC_ERROR,
	  .plen = ERR_FULL,
	  .p.error = { .code = EIO },
	  .fill = IPC_ERROR_MSG_MAX,
	  .want = -EBADMSG },
	{ .name = "error control char",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("bad\x01"),
	  .p.error = { .code = EIO, .text = "bad\x01" },
	  .want = -EBADMSG },
	{ .name = "error newline",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("a\nb"),
	  .p.error = { .code = EIO, .text = "a\nb" },
	  .want = -EBADMSG },
	{ .name = "error DEL",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("\x7f"),
	  .p.error = { .code = EIO, .text = "\x7f" },
	  .want = -EBADMSG },
	{ .name = "error UTF-8",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("caf\xc3\xa9"),
	  .p.error = { .code = EIO, .text = "caf\xc3\xa9" },
	  .want = -EBADMSG },
	{ .name = "error bytes after the NUL",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("ok\0x"),
	  .p.error = { .code = EIO, .text = "ok\0x" },
	  .want = -EBADMSG },
	{ .name = "error code 0",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("x"),
	  .p.error = { .code = 0, .text = "x" },
	  .want = -EBADMSG },
	{ .name = "error code -1",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("x"),
	  .p.error = { .code = -1, .text = "x" },
	  .want = -EBADMSG },
	{ .name = "error code INT32_MIN",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("x"),
	  .p.error = { .code = INT32_MIN, .text = "x" },
	  .want = -EBADMSG },
	{ .name = "error len field short",
	  .type = IPC_ERROR,
	  .plen = ERR_LEN("x"),
	  .p.error = { .code = EIO, .text = "x" },
	  .mangle = MANGLE_LEN_LESS,
	  .want = -EBADMSG },

	{ .name = "type 0", .type = 0, .want = -EINVAL },
	{ .name = "type 7", .type = 7, .plen = HELLO_LEN, .want = -EINVAL },
	{ .name = "type 0xffff", .type = 0xffff, .plen = FD_LEN, .want = -EINVAL },
	{ .name = "unknown type, next version",
	  .type = 7,
	  .mangle = MANGLE_VERSION,
	  .want = -EPROTONOSUPPORT },
};

#define N_WIRE (int)(sizeof(wire_cases) / sizeof(wire_cases[0]))

static bool is_valid(const struct wire_case *c)
{
	return c->want == 0 && c->mangle == MANGLE_NONE;
}

static union payload case_payload(const struct wire_case *c)
{
	union payload p = c->p;

	if (c->fill > 0) {
		memset(p.error.text, 'A', c->fill);
		if (c->fill < IPC_ERROR_MSG_MAX)
			p.error.text[c->fill] = '\0';
	}
	return p;
}

static void put16(unsigned char *at, uint16_t v)
{
	memcpy(at, &v, sizeof(v));
}

static void put32(unsigned char *at, uint32_t v)
{
	memcpy(at, &v, sizeof(v));
}

/* The datagram for @c, laid out by hand from the offsets in ipc.h. */
static size_t build_wire(const struct wire_case *c, unsigned char *buf, size_t cap)
{
	union payload p = case_payload(c);
	uint32_t len = (uint32_t)c->plen;

	ck_assert_uint_le(IPC_HDR_SIZE + c->plen, cap);
	memset(buf, 0, cap);
	put32(buf + 0, c->mangle == MANGLE_MAGIC ? IPC_MAGIC ^ 0x100 : IPC_MAGIC);
	put16(buf + 4, c->mangle == MANGLE_VERSION ? IPC_VERSION + 1 : IPC_VERSION);
	put16(buf + 6, (uint16_t)c->type);
	if (c->mangle == MANGLE_LEN_LESS)
		len--;
	if (c->mangle == MANGLE_LEN_MORE)
		len++;
	put32(buf + 8, len);
	put32(buf + 12, SEQ);
	memcpy(buf + IPC_HDR_SIZE, &p, c->plen);
	return IPC_HDR_SIZE + c->plen;
}

static bool all_bytes(const void *buf, size_t len, unsigned char v)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static void check_decoded(const struct wire_case *c, const struct ipc_msg *m)
{
	union payload p = case_payload(c);

	ck_assert_uint_eq(m->hdr.magic, IPC_MAGIC);
	ck_assert_uint_eq(m->hdr.version, IPC_VERSION);
	ck_assert_uint_eq(m->hdr.type, c->type);
	ck_assert_uint_eq(m->hdr.len, c->plen);
	ck_assert_uint_eq(m->hdr.seq, SEQ);
	ck_assert_mem_eq(&m->u, &p, c->plen);
	ck_assert(all_bytes((const unsigned char *)&m->u + c->plen, sizeof(m->u) - c->plen, 0));
}

/* Every case decodes to its expected result; rejected payloads leave out->u zero. */
START_TEST(decode_table)
{
	const struct wire_case *c = &wire_cases[_i];
	unsigned char wire[IPC_MSG_MAX];
	struct ipc_msg m;
	size_t len = build_wire(c, wire, sizeof(wire));
	int rc;

	memset(&m, 0xa5, sizeof(m));
	rc = ipc_decode(wire, len, &m);
	ck_assert_msg(rc == c->want, "%s: got %d, want %d", c->name, rc, c->want);
	if (rc == 0)
		check_decoded(c, &m);
	else
		ck_assert_msg(all_bytes(&m.u, sizeof(m.u), 0), "%s: payload left behind", c->name);
	if (rc == -EPROTONOSUPPORT)
		ck_assert_uint_eq(m.hdr.version, IPC_VERSION + 1);
}
END_TEST

/*
 * ipc_encode() produces exactly the hand-built bytes for every valid case,
 * which decode back to the same message, and refuses every payload the
 * decoder refuses without touching the buffer.
 */
START_TEST(encode_table)
{
	const struct wire_case *c = &wire_cases[_i];
	union payload p = case_payload(c);
	unsigned char wire[IPC_MSG_MAX], buf[IPC_MSG_MAX];
	struct ipc_msg m;
	size_t len;
	int rc;

	if (c->mangle != MANGLE_NONE)
		return; /* header damage cannot be asked of the encoder */
	len = build_wire(c, wire, sizeof(wire));
	memset(buf, 0xaa, sizeof(buf));
	rc = ipc_encode(buf, sizeof(buf), (enum ipc_type)c->type, SEQ, &p, c->plen);
	if (c->want != 0) {
		ck_assert_msg(rc == -EINVAL, "%s: encode gave %d", c->name, rc);
		ck_assert(all_bytes(buf, sizeof(buf), 0xaa));
		return;
	}
	ck_assert_msg(rc == (int)len, "%s: encode gave %d, want %zu", c->name, rc, len);
	ck_assert_mem_eq(buf, wire, len);
	ck_assert(all_bytes(buf + len, sizeof(buf) - len, 0xaa));
	ck_assert_int_eq(ipc_decode(buf, len, &m), 0);
	check_decoded(c, &m);
}
END_TEST

/* An encode buffer one byte short is -EMSGSIZE and left alone; exact fits. */
START_TEST(encode_capacity)
{
	const struct wire_case *c = &wire_cases[_i];
	union payload p = case_payload(c);
	unsigned char buf[IPC_MSG_MAX];
	size_t len = IPC_HDR_SIZE + c->plen;

	if (!is_valid(c))
		return;
	memset(buf, 0xaa, sizeof(buf));
	ck_assert_int_eq(ipc_encode(buf, len - 1, c->type, SEQ, &p, c->plen), -EMSGSIZE);
	ck_assert(all_bytes(buf, sizeof(buf), 0xaa));
	ck_assert_int_eq(ipc_encode(NULL, 0, c->type, SEQ, &p, c->plen), -EMSGSIZE);
	ck_assert_int_eq(ipc_encode(buf, len, c->type, SEQ, &p, c->plen), (int)len);
}
END_TEST

/*
 * Decode @len bytes placed so that the last one is followed by a PROT_NONE
 * page: reading one byte too far faults.
 */
static int decode_at_guard(const unsigned char *wire, size_t len, struct ipc_msg *out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *area;
	int rc;

	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(area, MAP_FAILED);
	ck_assert_int_eq(mprotect(area + page, page, PROT_NONE), 0);
	memcpy(area + page - len, wire, len);
	rc = ipc_decode(area + page - len, len, out);
	munmap(area, 2 * page);
	return rc;
}

/* Every proper prefix of every valid datagram fails cleanly; the whole decodes. */
START_TEST(decode_prefixes)
{
	const struct wire_case *c = &wire_cases[_i];
	unsigned char wire[IPC_MSG_MAX];
	struct ipc_msg m;
	size_t len;

	if (!is_valid(c))
		return;
	len = build_wire(c, wire, sizeof(wire));
	for (size_t k = 0; k < len; k++) {
		int rc = decode_at_guard(wire, k, &m);

		ck_assert_msg(rc == -EBADMSG, "%s: prefix %zu gave %d", c->name, k, rc);
	}
	ck_assert_int_eq(decode_at_guard(wire, len, &m), 0);
	check_decoded(c, &m);
}
END_TEST

/* A newer peer is reported with its version, before anything else is parsed. */
START_TEST(decode_reports_peer_version)
{
	unsigned char wire[IPC_HDR_SIZE + 3];
	struct ipc_msg m;

	memset(wire, 0xff, sizeof(wire));
	put32(wire, IPC_MAGIC);
	put16(wire + 4, 7);
	put16(wire + 6, 99);
	ck_assert_int_eq(ipc_decode(wire, sizeof(wire), &m), -EPROTONOSUPPORT);
	ck_assert_uint_eq(m.hdr.version, 7);
	ck_assert_uint_eq(m.hdr.type, 99);
	ck_assert(all_bytes(&m.u, sizeof(m.u), 0));
}
END_TEST

START_TEST(encode_bad_arguments)
{
	struct ipc_hello hello = { .pid = 1 };
	unsigned char buf[IPC_MSG_MAX];

	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), IPC_HELLO, 0, NULL, HELLO_LEN), -EINVAL);
	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), IPC_HELLO, 0, &hello, SIZE_MAX), -EINVAL);
	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), IPC_HELLO, 0, &hello, 0), -EINVAL);
	/* 0x10001 must not be taken for IPC_HELLO by truncation to 16 bits. */
	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), (enum ipc_type)0x10001, 0, &hello, HELLO_LEN),
	                 -EINVAL);
	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), IPC_READY, 0, NULL, 0), IPC_HDR_SIZE);
	ck_assert_int_eq(ipc_encode(buf, sizeof(buf), IPC_READY, 0, &hello, 1), -EINVAL);
	ck_assert_int_eq(ipc_encode(buf, IPC_HDR_SIZE - 1, IPC_READY, 0, NULL, 0), -EMSGSIZE);
}
END_TEST

START_TEST(strerror_texts)
{
	ck_assert_str_eq(ipc_strerror(-EBADMSG), "bad message");
	ck_assert_str_eq(ipc_strerror(-EPROTONOSUPPORT), "protocol version mismatch");
	ck_assert_str_eq(ipc_strerror(-EINVAL), "unknown message type");
	ck_assert_str_eq(ipc_strerror(-ECONNRESET), "peer closed the connection");
	ck_assert_str_eq(ipc_strerror(-EMSGSIZE), "message too large or truncated");
	ck_assert_str_eq(ipc_strerror(EBADMSG), "bad message");
	ck_assert_str_eq(ipc_strerror(-EPIPE), strerror(EPIPE));
	ck_assert_ptr_nonnull(ipc_strerror(INT32_MIN));
}
END_TEST

/* ---- over a real socket pair ---- */

static void seqpacket_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* A pipe whose read end does not block, so EOF can be told from a leak. */
static void test_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

/* EOF on the read end: every copy of the write end, sent or received, is closed. */
static bool writers_gone(int rd)
{
	char ch;

	return read(rd, &ch, 1) == 0;
}

/* The received write end works: a byte written through it comes out of @rd. */
static void check_pipe_works(int wr, int rd)
{
	char ch = 0;

	ck_assert_int_eq(write(wr, "x", 1), 1);
	ck_assert_int_eq(read(rd, &ch, 1), 1);
	ck_assert_int_eq(ch, 'x');
}

/* Every valid message goes through ipc_send()/ipc_recv(); IPC_FD carries a pipe. */
START_TEST(socket_round_trip)
{
	const struct wire_case *c = &wire_cases[_i];
	union payload p = case_payload(c);
	int sv[2], pp[2] = { -1, -1 }, fd = 1234;
	struct ipc_msg m;

	if (!is_valid(c))
		return;
	seqpacket_pair(sv);
	if (c->type == IPC_FD)
		test_pipe(pp);
	ck_assert_int_eq(ipc_send(sv[0], c->type, SEQ, &p, c->plen, pp[1]), 0);
	ck_assert_int_eq(ipc_recv(sv[1], &m, &fd), 0);
	check_decoded(c, &m);
	if (c->type == IPC_FD) {
		ck_assert_int_ge(fd, 0);
		ck_assert_int_ne(fd, pp[1]);
		ck_assert(is_cloexec(fd));
		check_pipe_works(fd, pp[0]);
		close(fd);
		close(pp[1]);
		ck_assert(writers_gone(pp[0]));
		close(pp[0]);
	} else {
		ck_assert_int_eq(fd, -1);
	}
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A hand-built control area, for what ipc_send() would never produce. */
struct raw_ctl {
	size_t used;
	union {
		struct cmsghdr align;
		unsigned char buf[512];
	} u; /* last: struct cmsghdr ends in a flexible array */
};

static void ctl_add(struct raw_ctl *ctl, int type, const void *data, size_t len)
{
	struct cmsghdr h;

	ck_assert_uint_le(ctl->used + CMSG_SPACE(len), sizeof(ctl->u.buf));
	memset(&h, 0, sizeof(h));
	h.cmsg_len = CMSG_LEN(len);
	h.cmsg_level = SOL_SOCKET;
	h.cmsg_type = type;
	memcpy(ctl->u.buf + ctl->used, &h, sizeof(h));
	memcpy(ctl->u.buf + ctl->used + CMSG_LEN(0), data, len);
	ctl->used += CMSG_SPACE(len);
}

static void add_fds(struct raw_ctl *ctl, int fd, unsigned int n)
{
	int fds[64];

	ck_assert_uint_le(n, sizeof(fds) / sizeof(fds[0]));
	for (unsigned int i = 0; i < n; i++)
		fds[i] = fd;
	if (n > 0)
		ctl_add(ctl, SCM_RIGHTS, fds, n * sizeof(int));
}

static void send_raw(int sock, unsigned char *buf, size_t len, struct raw_ctl *ctl)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (ctl->used > 0) {
		msg.msg_control = ctl->u.buf;
		msg.msg_controllen = ctl->used;
	}
	ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

enum body {
	BODY_HELLO,
	BODY_READY,
	BODY_FD,
	BODY_FD_BAD_KIND,
	BODY_NEXT_VERSION,
	BODY_UNKNOWN_TYPE,
	BODY_ZEROS,
};

static const struct ipc_fd_desc good_stats = {
	.kind = IPC_FD_STATS, .entries = 4, .size = 32, .value_size = 8
};

static size_t make_body(enum body body, size_t zeros, unsigned char *buf, size_t cap)
{
	struct ipc_hello hello = { .pid = 1 };
	uint32_t bad_kind = 9;
	int n = 0;

	memset(buf, 0, cap);
	switch (body) {
	case BODY_HELLO:
	case BODY_NEXT_VERSION:
		n = ipc_encode(buf, cap, IPC_HELLO, 0, &hello, sizeof(hello));
		break;
	case BODY_READY:
	case BODY_UNKNOWN_TYPE:
		n = ipc_encode(buf, cap, IPC_READY, 0, NULL, 0);
		break;
	case BODY_FD:
	case BODY_FD_BAD_KIND:
		n = ipc_encode(buf, cap, IPC_FD, 0, &good_stats, sizeof(good_stats));
		break;
	case BODY_ZEROS:
		ck_assert_uint_le(zeros, cap);
		return zeros;
	}
	ck_assert_int_gt(n, 0);
	if (body == BODY_FD_BAD_KIND)
		memcpy(buf + IPC_HDR_SIZE, &bad_kind, sizeof(bad_kind));
	if (body == BODY_NEXT_VERSION)
		put16(buf + 4, IPC_VERSION + 1);
	if (body == BODY_UNKNOWN_TYPE)
		put16(buf + 6, 42);
	return (size_t)n;
}

struct raw_case {
	const char *name;
	enum body body;
	size_t zeros;      /* BODY_ZEROS: datagram length */
	unsigned int fds1; /* fds in a first SCM_RIGHTS header; 0: no header */
	unsigned int fds2; /* fds in a second SCM_RIGHTS header; 0: no header */
	bool creds;        /* SCM_CREDENTIALS first; the receiver sets SO_PASSCRED */
	bool pidfd;        /* the receiver sets SO_PASSPIDFD: SCM_PIDFD after any fds */
	int want;
};

/*
 * Linux merges several SCM_RIGHTS headers of one sendmsg() into one on the
 * receiving side, so "two headers" arrives as two fds in one; credentials
 * plus an fd, or an fd plus a pidfd, is how two headers really arrive. 40
 * fds overflow ipc_recv()'s control area (MSG_CTRUNC).
 */
static const struct raw_case raw_cases[] = {
	{ .name = "FD + one fd", .body = BODY_FD, .fds1 = 1 },
	{ .name = "FD without fd", .body = BODY_FD, .want = -EBADMSG },
	{ .name = "HELLO + one fd", .body = BODY_HELLO, .fds1 = 1, .want = -EBADMSG },
	{ .name = "READY + one fd", .body = BODY_READY, .fds1 = 1, .want = -EBADMSG },
	{ .name = "FD + two fds in one header", .body = BODY_FD, .fds1 = 2, .want = -EBADMSG },
	{ .name = "HELLO + two fds in one header",
	  .body = BODY_HELLO,
	  .fds1 = 2,
	  .want = -EBADMSG },
	{ .name = "FD + two headers", .body = BODY_FD, .fds1 = 1, .fds2 = 1, .want = -EBADMSG },
	{ .name = "FD + 40 fds", .body = BODY_FD, .fds1 = 40, .want = -EBADMSG },
	{ .name = "FD + credentials + fd",
	  .body = BODY_FD,
	  .fds1 = 1,
	  .creds = true,
	  .want = -EBADMSG },
	{ .name = "HELLO + credentials", .body = BODY_HELLO, .creds = true, .want = -EBADMSG },
	{ .name = "FD + fd + pidfd", .body = BODY_FD, .fds1 = 1, .pidfd = true, .want = -EBADMSG },
	{ .name = "HELLO + pidfd", .body = BODY_HELLO, .pidfd = true, .want = -EBADMSG },
	{ .name = "FD bad kind + fd", .body = BODY_FD_BAD_KIND, .fds1 = 1, .want = -EBADMSG },
	{ .name = "next version + fd",
	  .body = BODY_NEXT_VERSION,
	  .fds1 = 1,
	  .want = -EPROTONOSUPPORT },
	{ .name = "unknown type + fd", .body = BODY_UNKNOWN_TYPE, .fds1 = 1, .want = -EINVAL },
	{ .name = "IPC_MSG_MAX zeros", .body = BODY_ZEROS, .zeros = IPC_MSG_MAX, .want = -EBADMSG },
	{ .name = "IPC_MSG_MAX+1 bytes",
	  .body = BODY_ZEROS,
	  .zeros = IPC_MSG_MAX + 1,
	  .want = -EMSGSIZE },
	{ .name = "IPC_MSG_MAX+50 bytes",
	  .body = BODY_ZEROS,
	  .zeros = IPC_MSG_MAX + 50,
	  .want = -EMSGSIZE },
	{ .name = "IPC_MSG_MAX+50 bytes + fd",
	  .body = BODY_ZEROS,
	  .zeros = IPC_MSG_MAX + 50,
	  .fds1 = 1,
	  .want = -EMSGSIZE },
	{ .name = "IPC_MSG_MAX+50 bytes + 40 fds",
	  .body = BODY_ZEROS,
	  .zeros = IPC_MSG_MAX + 50,
	  .fds1 = 40,
	  .want = -EMSGSIZE },
	{ .name = "empty datagram + fd", .body = BODY_ZEROS, .fds1 = 1, .want = -ECONNRESET },
};

#define N_RAW (int)(sizeof(raw_cases) / sizeof(raw_cases[0]))

static void build_ctl(const struct raw_case *c, int fd, struct raw_ctl *ctl)
{
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };

	memset(ctl, 0, sizeof(*ctl));
	if (c->creds)
		ctl_add(ctl, SCM_CREDENTIALS, &cred, sizeof(cred));
	add_fds(ctl, fd, c->fds1);
	add_fds(ctl, fd, c->fds2);
}

/*
 * Each hostile datagram is rejected with its code and *fd == -1, and the
 * fd table is the same size afterwards; the pipe reaching EOF shows that no
 * copy of its write end survived anywhere. The one valid case hands over
 * exactly one CLOEXEC fd.
 */
START_TEST(socket_hostile_table)
{
	const struct raw_case *c = &raw_cases[_i];
	unsigned char buf[IPC_MSG_MAX + 64];
	struct raw_ctl ctl;
	int sv[2], pp[2], one = 1, fd = 1234, before, rc;
	struct ipc_msg m;

	seqpacket_pair(sv);
	if (c->pidfd && setsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one)) < 0) {
		ck_assert_int_eq(errno, ENOPROTOOPT); /* kernel before 6.5: nothing to test */
		return;
	}
	if (c->creds)
		ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	test_pipe(pp);
	build_ctl(c, pp[1], &ctl);
	send_raw(sv[0], buf, make_body(c->body, c->zeros, buf, sizeof(buf)), &ctl);
	close(pp[1]);
	before = count_fds();
	rc = ipc_recv(sv[1], &m, &fd);
	ck_assert_msg(rc == c->want, "%s: got %d, want %d", c->name, rc, c->want);
	if (rc == 0) {
		ck_assert_int_eq(count_fds(), before + 1);
		ck_assert(is_cloexec(fd));
		close(fd);
	} else {
		ck_assert_msg(fd == -1, "%s: fd %d on error", c->name, fd);
		ck_assert_msg(count_fds() == before, "%s: fd leaked", c->name);
	}
	ck_assert_msg(writers_gone(pp[0]), "%s: a copy of the fd survived", c->name);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(recv_peer_closed)
{
	int sv[2], fd = 1234;
	struct ipc_msg m;

	seqpacket_pair(sv);
	close(sv[0]);
	ck_assert_int_eq(ipc_recv(sv[1], &m, &fd), -ECONNRESET);
	ck_assert_int_eq(fd, -1);
	close(sv[1]);
}
END_TEST

/*
 * A gone peer is -EPIPE, not a SIGPIPE that kills the sender. SEQPACKET never
 * raises SIGPIPE on Linux; a stream pair does, so it is the one that shows
 * MSG_NOSIGNAL is set.
 */
START_TEST(send_peer_closed)
{
	int sv[2];

	seqpacket_pair(sv);
	close(sv[1]);
	ck_assert_int_eq(ipc_send(sv[0], IPC_READY, 0, NULL, 0, -1), -EPIPE);
	close(sv[0]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_eq(ipc_send(sv[0], IPC_READY, 0, NULL, 0, -1), -EPIPE);
	close(sv[0]);
}
END_TEST

/* ipc_send() refuses what the receiver would refuse, and sends nothing. */
START_TEST(send_refuses_invalid)
{
	struct ipc_hello hello = { .pid = 1, .flags = 1 };
	int sv[2], pp[2];
	char ch;

	seqpacket_pair(sv);
	test_pipe(pp);
	ck_assert_int_eq(ipc_send(sv[0], IPC_FD, 0, &good_stats, sizeof(good_stats), -1), -EINVAL);
	ck_assert_int_eq(ipc_send(sv[0], IPC_READY, 0, NULL, 0, pp[1]), -EINVAL);
	ck_assert_int_eq(ipc_send(sv[0], IPC_HELLO, 0, &hello, sizeof(hello), -1), -EINVAL);
	ck_assert_int_eq(ipc_send(sv[0], (enum ipc_type)7, 0, NULL, 0, -1), -EINVAL);
	ck_assert_int_eq(recv(sv[1], &ch, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(bad_socket)
{
	struct ipc_msg m;
	int fd = 1234;

	ck_assert_int_eq(ipc_recv(-1, &m, &fd), -EBADF);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(ipc_send(-1, IPC_READY, 0, NULL, 0, -1), -EBADF);
}
END_TEST

Suite *ipc_suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *wire = tcase_create("wire");
	TCase *sock = tcase_create("socket");

	tcase_add_loop_test(wire, decode_table, 0, N_WIRE);
	tcase_add_loop_test(wire, encode_table, 0, N_WIRE);
	tcase_add_loop_test(wire, encode_capacity, 0, N_WIRE);
	tcase_add_loop_test(wire, decode_prefixes, 0, N_WIRE);
	tcase_add_test(wire, decode_reports_peer_version);
	tcase_add_test(wire, encode_bad_arguments);
	tcase_add_test(wire, strerror_texts);
	suite_add_tcase(s, wire);

	tcase_add_loop_test(sock, socket_round_trip, 0, N_WIRE);
	tcase_add_loop_test(sock, socket_hostile_table, 0, N_RAW);
	tcase_add_test(sock, recv_peer_closed);
	tcase_add_test(sock, send_peer_closed);
	tcase_add_test(sock, send_refuses_invalid);
	tcase_add_test(sock, bad_socket);
	suite_add_tcase(s, sock);
	return s;
}
