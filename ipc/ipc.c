// SPDX-License-Identifier: Apache-2.0
/*
 * Encoding and validation of the loader <-> processor messages (see ipc.h).
 *
 * Trust boundary: ipc_decode() is the only way bytes from the other process
 * become a struct ipc_msg. It reads nothing it has not bounded against the
 * datagram length, copies the payload out with memcpy() (the datagram buffer
 * is never cast to a struct), and checks every field a later mmap(), loop or
 * log line depends on. ipc_encode() runs the very same checks, so neither side
 * sends what its peer would refuse, and builds the datagram from zeroed
 * memory, so no uninitialised byte crosses the boundary.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"

#define ERROR_PAYLOAD_MIN (offsetof(struct ipc_error, text) + 1)
#define ERROR_PAYLOAD_MAX (offsetof(struct ipc_error, text) + IPC_ERROR_MSG_MAX)

_Static_assert(offsetof(struct ipc_error, text) == 4, "error text starts at byte 4");
_Static_assert(ERROR_PAYLOAD_MAX <= sizeof(((struct ipc_msg *)0)->u), "payload fits the union");
_Static_assert(IPC_HDR_SIZE + ERROR_PAYLOAD_MAX <= IPC_MSG_MAX, "largest message fits");

/* Payload bytes a message of @type may carry; -EINVAL for an unknown type. */
static int payload_range(unsigned int type, size_t *min, size_t *max)
{
	switch (type) {
	case IPC_HELLO:
		*min = *max = sizeof(struct ipc_hello);
		return 0;
	case IPC_WELCOME:
		*min = *max = sizeof(struct ipc_welcome);
		return 0;
	case IPC_FD:
		*min = *max = sizeof(struct ipc_fd_desc);
		return 0;
	case IPC_READY:
	case IPC_STOP:
		*min = *max = 0;
		return 0;
	case IPC_ERROR:
		*min = ERROR_PAYLOAD_MIN;
		*max = ERROR_PAYLOAD_MAX;
		return 0;
	}
	return -EINVAL;
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/*
 * The processor mmap()s the ring buffer's data area twice over: the size must
 * be one the kernel could have created (a power of two and a page multiple)
 * and small enough to map without exhausting the address space.
 */
static bool ringbuf_ok(const struct ipc_fd_desc *d)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || d->entries != 0 || d->value_size != 0)
		return false;
	return is_pow2(d->size) && d->size % (uint64_t)page == 0 && d->size <= IPC_RINGBUF_MAX;
}

/* The processor reads the counters as u64[entries]: the sizes must agree. */
static bool stats_ok(const struct ipc_fd_desc *d)
{
	return d->value_size == sizeof(uint64_t) && d->entries >= 1 &&
	       d->size == (uint64_t)d->entries * sizeof(uint64_t) && d->size <= IPC_STATS_MAX;
}

static int check_fd_desc(const struct ipc_fd_desc *d)
{
	if (d->flags != 0)
		return -EBADMSG;
	switch (d->kind) {
	case IPC_FD_RINGBUF_SECURITY:
	case IPC_FD_RINGBUF_L7:
		return ringbuf_ok(d) ? 0 : -EBADMSG;
	case IPC_FD_STATS:
		return stats_ok(d) ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

/*
 * The text ends up in the other side's log: printable ASCII up to the first
 * NUL, which must come within @textlen bytes, and only NULs after it (so a
 * zero-filled struct may be sent whole, but nothing can hide behind the text).
 */
static int check_error(const struct ipc_error *e, size_t textlen)
{
	size_t i = 0;

	if (e->code <= 0 || textlen == 0 || textlen > IPC_ERROR_MSG_MAX)
		return -EBADMSG;
	for (; i < textlen && e->text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)e->text[i];

		if (c < 0x20 || c > 0x7e)
			return -EBADMSG;
	}
	if (i == textlen)
		return -EBADMSG;
	for (; i < textlen; i++) {
		if (e->text[i] != '\0')
			return -EBADMSG;
	}
	return 0;
}

/* Per-type checks on a payload already copied into @m (size already checked). */
static int check_payload(const struct ipc_msg *m)
{
	switch (m->hdr.type) {
	case IPC_HELLO:
		return m->u.hello.flags == 0 ? 0 : -EBADMSG;
	case IPC_WELCOME:
		return m->u.welcome.nfds >= 1 && m->u.welcome.nfds <= IPC_FDS_MAX ? 0 : -EBADMSG;
	case IPC_FD:
		return check_fd_desc(&m->u.fd);
	case IPC_READY:
	case IPC_STOP:
		return 0;
	case IPC_ERROR:
		return check_error(&m->u.error, m->hdr.len - offsetof(struct ipc_error, text));
	}
	return -EINVAL;
}

/*
 * Validate @type/@payload exactly as the receiver will, then write the
 * datagram. @buf is written only on success.
 */
int ipc_encode(void *buf, size_t cap, enum ipc_type type, uint32_t seq, const void *payload,
               size_t len)
{
	struct ipc_msg m;
	size_t min, max;

	memset(&m, 0, sizeof(m));
	if (payload_range(type, &min, &max) < 0 || len < min || len > max)
		return -EINVAL;
	if (len > 0 && payload == NULL)
		return -EINVAL;
	m.hdr.magic = IPC_MAGIC;
	m.hdr.version = IPC_VERSION;
	m.hdr.type = (uint16_t)type;
	m.hdr.len = (uint32_t)len;
	m.hdr.seq = seq;
	if (len > 0)
		memcpy(&m.u, payload, len);
	if (check_payload(&m) < 0)
		return -EINVAL;
	if (buf == NULL || cap < IPC_HDR_SIZE + len)
		return -EMSGSIZE;
	memcpy(buf, &m.hdr, IPC_HDR_SIZE);
	memcpy((unsigned char *)buf + IPC_HDR_SIZE, &m.u, len);
	return (int)(IPC_HDR_SIZE + len);
}

/*
 * Checks run in the order of ipc.h. Whenever a full header arrived, out->hdr
 * holds it (the caller may log the peer's version, type or seq); out->u is
 * filled only on success and zero otherwise.
 */
int ipc_decode(const void *buf, size_t len, struct ipc_msg *out)
{
	size_t min, max;
	int err;

	memset(out, 0, sizeof(*out));
	if (len < IPC_HDR_SIZE)
		return -EBADMSG;
	memcpy(&out->hdr, buf, IPC_HDR_SIZE);
	if (out->hdr.magic != IPC_MAGIC)
		return -EBADMSG;
	if (out->hdr.version != IPC_VERSION)
		return -EPROTONOSUPPORT;
	err = payload_range(out->hdr.type, &min, &max);
	if (err < 0)
		return err;
	if (out->hdr.len != len - IPC_HDR_SIZE || out->hdr.len < min || out->hdr.len > max)
		return -EBADMSG;
	memcpy(&out->u, (const unsigned char *)buf + IPC_HDR_SIZE, out->hdr.len);
	err = check_payload(out);
	if (err < 0)
		memset(&out->u, 0, sizeof(out->u));
	return err;
}

/* Accepts the negative codes the functions return, or their positive errno. */
const char *ipc_strerror(int err)
{
	if (err < 0 && err != INT_MIN)
		err = -err;
	switch (err) {
	case EBADMSG:
		return "bad message";
	case EPROTONOSUPPORT:
		return "protocol version mismatch";
	case EINVAL:
		return "unknown message type";
	case ECONNRESET:
		return "peer closed the connection";
	case EMSGSIZE:
		return "message too large or truncated";
	}
	return strerror(err);
}
