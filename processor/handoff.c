// SPDX-License-Identifier: Apache-2.0
/*
 * The processor's end of the hand-off. The loader is more privileged than
 * we are but still untrusted input: every message is decoded by ipc/ with
 * strict sizes, each fd kind is accepted once, and sizes are checked again
 * when the fds are mapped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "processor/handoff.h"

__attribute__((format(printf, 4, 5))) static int fail(int code, char *err, size_t len,
                                                      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return code;
}

/* Receive one message of @want type; IPC_ERROR from the loader is reported. */
static int expect(int sock, enum ipc_type want, struct ipc_msg *m, int *fd, char *err, size_t len)
{
	int r = ipc_recv(sock, m, fd);

	if (r == -EPROTONOSUPPORT)
		return fail(r, err, len, "loader speaks ipc version %u, this processor speaks %d",
		            m->hdr.version, IPC_VERSION);
	if (r < 0)
		return fail(r, err, len, "receiving from the loader: %s", ipc_strerror(r));
	if (m->hdr.type == IPC_ERROR)
		return fail(-ECONNREFUSED, err, len, "loader refused: %s", m->u.error.text);
	if (m->hdr.type != want) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return fail(-EBADMSG, err, len, "expected message type %d, got %u", want,
		            m->hdr.type);
	}
	return 0;
}

static int take_fd(struct handoff *h, const struct ipc_fd_desc *d, int fd, char *err, size_t len)
{
	if (d->kind == IPC_FD_RINGBUF_SECURITY && h->ringbuf_fd < 0) {
		h->ringbuf_fd = fd;
		h->ringbuf_size = d->size;
		return 0;
	}
	if (d->kind == IPC_FD_STATS && h->stats_fd < 0) {
		h->stats_fd = fd;
		h->stats_entries = d->entries;
		h->stats_size = d->size;
		return 0;
	}
	close(fd);
	return fail(-EBADMSG, err, len, "fd kind %u sent twice", d->kind);
}

static int receive_fds(int sock, struct handoff *h, uint32_t nfds, char *err, size_t len)
{
	struct ipc_msg m;
	int fd = -1, r;

	for (uint32_t i = 0; i < nfds; i++) {
		r = expect(sock, IPC_FD, &m, &fd, err, len);
		if (r < 0)
			return r;
		r = take_fd(h, &m.u.fd, fd, err, len);
		if (r < 0)
			return r;
	}
	r = expect(sock, IPC_READY, &m, &fd, err, len);
	if (r < 0)
		return r;
	if (h->ringbuf_fd < 0 || h->stats_fd < 0)
		return fail(-EBADMSG, err, len, "hand-off lacks the %s fd",
		            h->ringbuf_fd < 0 ? "security ring buffer" : "stats");
	return 0;
}

int handoff_receive(int sock, struct handoff *h, char *err, size_t len)
{
	struct ipc_hello hello = { .pid = (uint32_t)getpid(), .flags = 0 };
	struct ipc_msg m;
	int fd = -1, r;

	memset(h, 0, sizeof(*h));
	h->ringbuf_fd = h->stats_fd = -1;
	r = ipc_send(sock, IPC_HELLO, 0, &hello, sizeof(hello), -1);
	if (r < 0)
		return fail(r, err, len, "sending hello to the loader: %s", ipc_strerror(r));
	r = expect(sock, IPC_WELCOME, &m, &fd, err, len);
	if (r == 0) {
		h->loader_pid = m.u.welcome.loader_pid;
		memcpy(h->digest, m.u.welcome.object_sha256, sizeof(h->digest));
		r = receive_fds(sock, h, m.u.welcome.nfds, err, len);
	}
	if (r < 0)
		handoff_close(h);
	return r;
}

void handoff_close(struct handoff *h)
{
	if (h->ringbuf_fd >= 0)
		close(h->ringbuf_fd);
	if (h->stats_fd >= 0)
		close(h->stats_fd);
	h->ringbuf_fd = h->stats_fd = -1;
}
