// SPDX-License-Identifier: Apache-2.0
/*
 * The one place that moves datagrams and fds between loader and processor.
 *
 * Trust boundary: recvmsg() installs in our fd table whatever the peer
 * attached, whether we asked for it or not. Every path out of ipc_recv()
 * either hands the caller exactly one fd, which arrived as the only
 * ancillary header (SOL_SOCKET, SCM_RIGHTS, CMSG_LEN(sizeof(int))) of a valid
 * IPC_FD message, or closes every fd that arrived. The socket is meant to
 * have neither SO_PASSCRED nor SO_PASSPIDFD set; if one is, every message
 * carries an extra header and is rejected, and a pidfd is closed like any
 * other fd.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc/ipc.h"

/* Linux >= 6.5 attaches a pidfd of the sender under SO_PASSPIDFD; glibc 2.36 lacks the name. */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

/* Control area for sending: one SCM_RIGHTS header with one fd. */
union ctrl_one {
	struct cmsghdr align;
	unsigned char buf[CMSG_SPACE(sizeof(int))];
};

/*
 * Control area for receiving: room for more than the one fd we accept, so a
 * peer's extra fds or headers arrive whole and are rejected, and closed, by
 * their shape. Whatever does not fit sets MSG_CTRUNC: the kernel drops those
 * fds itself and we close the ones that did arrive.
 */
union ctrl_recv {
	struct cmsghdr align;
	unsigned char buf[CMSG_SPACE(sizeof(int) * 2 * IPC_FDS_MAX)];
};

/* Attach @fd as the message's only ancillary data. */
static void attach_fd(struct msghdr *msg, union ctrl_one *ctrl, int fd)
{
	struct cmsghdr *c;

	memset(ctrl, 0, sizeof(*ctrl));
	msg->msg_control = ctrl->buf;
	msg->msg_controllen = sizeof(ctrl->buf);
	c = CMSG_FIRSTHDR(msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
}

int ipc_send(int sock, enum ipc_type type, uint32_t seq, const void *payload, size_t len, int fd)
{
	unsigned char dgram[IPC_MSG_MAX];
	union ctrl_one ctrl;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;
	int size;

	/* The receiver refuses an fd on anything but IPC_FD, and IPC_FD without one. */
	if ((type == IPC_FD) != (fd >= 0))
		return -EINVAL;
	size = ipc_encode(dgram, sizeof(dgram), type, seq, payload, len);
	if (size < 0)
		return size;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = dgram;
	iov.iov_len = (size_t)size;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0)
		attach_fd(&msg, &ctrl, fd);
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == size ? 0 : -EMSGSIZE;
}

/*
 * Number of fds in an fd-carrying header, counted from cmsg_len but never past
 * the bytes the kernel reported in msg_controllen.
 */
static size_t cmsg_nfds(const struct msghdr *msg, const struct cmsghdr *c)
{
	const unsigned char *end = (const unsigned char *)msg->msg_control + msg->msg_controllen;
	const unsigned char *data = CMSG_DATA(c);
	size_t bytes;

	if (c->cmsg_len < CMSG_LEN(0) || data > end)
		return 0;
	bytes = c->cmsg_len - CMSG_LEN(0);
	if (bytes > (size_t)(end - data))
		bytes = (size_t)(end - data);
	return bytes / sizeof(int);
}

/* Close every fd carried by every SCM_RIGHTS or SCM_PIDFD header of @msg. */
static void close_received(struct msghdr *msg)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
			continue;
		n = cmsg_nfds(msg, c);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (fd >= 0)
				close(fd);
		}
	}
}

static bool is_one_fd(const struct cmsghdr *c)
{
	return c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	       c->cmsg_len == CMSG_LEN(sizeof(int));
}

/*
 * Accept no ancillary data, or exactly one header carrying exactly one fd.
 * Anything else (a truncated control area, credentials, a second header,
 * several fds in one header) closes every fd that came and is -EBADMSG.
 */
static int take_fd(struct msghdr *msg, int *fd)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(msg);
	bool ctrunc = (msg->msg_flags & MSG_CTRUNC) != 0;

	*fd = -1;
	if (c == NULL && !ctrunc)
		return 0;
	if (c != NULL && !ctrunc && is_one_fd(c) && CMSG_NXTHDR(msg, c) == NULL) {
		memcpy(fd, CMSG_DATA(c), sizeof(*fd));
		if (*fd >= 0)
			return 0;
	}
	close_received(msg);
	*fd = -1;
	return -EBADMSG;
}

/* One received datagram and its ancillary data, as recvmsg() left them. */
struct rx {
	unsigned char dgram[IPC_MSG_MAX + 1]; /* one spare byte exposes oversize */
	struct iovec iov;
	struct msghdr msg;
	union ctrl_recv ctrl; /* last: struct cmsghdr ends in a flexible array */
};

static ssize_t rx_recv(int sock, struct rx *rx)
{
	ssize_t n;

	memset(rx, 0, sizeof(*rx));
	rx->iov.iov_base = rx->dgram;
	rx->iov.iov_len = sizeof(rx->dgram);
	rx->msg.msg_iov = &rx->iov;
	rx->msg.msg_iovlen = 1;
	rx->msg.msg_control = rx->ctrl.buf;
	rx->msg.msg_controllen = sizeof(rx->ctrl.buf);
	do
		n = recvmsg(sock, &rx->msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int ipc_recv(int sock, struct ipc_msg *out, int *fd)
{
	struct rx rx;
	ssize_t n;
	int got = -1;
	int err;

	*fd = -1;
	memset(out, 0, sizeof(*out));
	n = rx_recv(sock, &rx);
	if (n < 0)
		return (int)n;
	err = take_fd(&rx.msg, &got);
	if ((rx.msg.msg_flags & MSG_TRUNC) || (size_t)n > IPC_MSG_MAX) {
		err = -EMSGSIZE; /* whatever came with it */
		goto cleanup;
	}
	if (err < 0)
		goto cleanup;
	if (n == 0) {
		err = -ECONNRESET;
		goto cleanup;
	}
	err = ipc_decode(rx.dgram, (size_t)n, out);
	if (err < 0)
		goto cleanup;
	/* An fd travels with IPC_FD and nothing else. */
	if ((out->hdr.type == IPC_FD) != (got >= 0)) {
		memset(&out->u, 0, sizeof(out->u));
		err = -EBADMSG;
		goto cleanup;
	}
	*fd = got;
	got = -1;
cleanup:
	if (got >= 0)
		close(got);
	return err;
}
