// SPDX-License-Identifier: Apache-2.0
/*
 * The processor's end of the hand-off. The loader is more privileged than
 * we are but still untrusted input: every message is decoded by ipc/ with
 * strict sizes, each fd kind is accepted once, and sizes are checked again
 * when the fds are mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "ipc/ipc.h"
#include "ipc/log.h"
#include "processor/handoff.h"

#define FDINFO_MAX 4096 /* bytes of /proc/self/fdinfo/N read */

/* Receive one message of @want type; IPC_ERROR from the loader is reported. */
static int expect(int sock, enum ipc_type want, struct ipc_msg *m, int *fd, char *err, size_t len)
{
	int r = ipc_recv(sock, m, fd);

	if (r == -EPROTONOSUPPORT)
		return errfmt(r, err, len, "loader speaks ipc version %u, this processor speaks %d",
		              m->hdr.version, IPC_VERSION);
	if (r < 0)
		return errfmt(r, err, len, "receiving from the loader: %s", ipc_strerror(r));
	if (m->hdr.type == IPC_ERROR)
		return errfmt(-ECONNREFUSED, err, len, "loader refused: %s", m->u.error.text);
	if (m->hdr.type != want) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return errfmt(-EBADMSG, err, len, "expected message type %d, got %u", want,
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
	if (d->kind == IPC_FD_RINGBUF_L7 && h->l7_fd < 0) {
		h->l7_fd = fd;
		h->l7_size = d->size;
		return 0;
	}
	if (d->kind == IPC_FD_STATS && h->stats_fd < 0) {
		h->stats_fd = fd;
		h->stats_entries = d->entries;
		h->stats_size = d->size;
		return 0;
	}
	close(fd);
	return errfmt(-EBADMSG, err, len, "fd kind %u sent twice", d->kind);
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
		return errfmt(-EBADMSG, err, len, "hand-off lacks the %s fd",
		              h->ringbuf_fd < 0 ? "security ring buffer" : "stats");
	return 0;
}

int handoff_receive(int sock, struct handoff *h, char *err, size_t len)
{
	struct ipc_hello hello = { .pid = (uint32_t)getpid(), .flags = 0 };
	struct ipc_msg m;
	int fd = -1, r;

	memset(h, 0, sizeof(*h));
	h->ringbuf_fd = h->stats_fd = h->l7_fd = -1;
	r = ipc_send(sock, IPC_HELLO, 0, &hello, sizeof(hello), -1);
	if (r < 0)
		return errfmt(r, err, len, "sending hello to the loader: %s", ipc_strerror(r));
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
	if (h->l7_fd >= 0)
		close(h->l7_fd);
	h->ringbuf_fd = h->stats_fd = h->l7_fd = -1;
}

/* "key:\tvalue\n" lines; only the fields we check are read. */
void handoff_parse_fdinfo(const char *text, size_t len, struct fd_facts *f)
{
	static const struct {
		const char *key;
		size_t off;
		int is_signed;
	} fields[] = {
		{ "map_type:", offsetof(struct fd_facts, map_type), 1 },
		{ "value_size:", offsetof(struct fd_facts, value_size), 0 },
		{ "max_entries:", offsetof(struct fd_facts, max_entries), 0 },
		{ "frozen:", offsetof(struct fd_facts, frozen), 1 },
	};
	char line[128];
	size_t i = 0;

	*f = (struct fd_facts){ .map_type = -1, .frozen = -1 };
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		if (n < sizeof(line)) {
			memcpy(line, text + i, n);
			line[n] = '\0';
			for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
				size_t kl = strlen(fields[k].key);
				char *end;
				unsigned long v;

				if (strncmp(line, fields[k].key, kl) != 0)
					continue;
				errno = 0;
				v = strtoul(line + kl, &end, 10);
				if (errno || end == line + kl || v > INT32_MAX)
					continue;
				if (fields[k].is_signed)
					*(int *)((char *)f + fields[k].off) = (int)v;
				else
					*(uint32_t *)((char *)f + fields[k].off) = (uint32_t)v;
			}
		}
		i += n + 1;
	}
}

static int read_fdinfo(int fd, struct fd_facts *f)
{
	char path[64], buf[FDINFO_MAX];
	ssize_t n;
	int pfd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	n = read(pfd, buf, sizeof(buf));
	close(pfd);
	if (n < 0)
		return -errno;
	handoff_parse_fdinfo(buf, (size_t)n, f);
	return 0;
}

int handoff_verify(const struct handoff *h, char *err, size_t len)
{
	struct fd_facts rb, st;

	if (read_fdinfo(h->ringbuf_fd, &rb) < 0 || read_fdinfo(h->stats_fd, &st) < 0)
		return errfmt(-EBADMSG, err, len, "cannot read /proc/self/fdinfo: %s",
		              strerror(errno));
	if (rb.map_type != BPF_MAP_TYPE_RINGBUF || rb.max_entries != h->ringbuf_size)
		return errfmt(-EBADMSG, err, len,
		              "the ring-buffer fd is map type %d of %u bytes, not a ring buffer of "
		              "%llu bytes as announced",
		              rb.map_type, rb.max_entries, (unsigned long long)h->ringbuf_size);
	if (h->l7_fd >= 0) {
		struct fd_facts l7;

		if (read_fdinfo(h->l7_fd, &l7) < 0 || l7.map_type != BPF_MAP_TYPE_RINGBUF ||
		    l7.max_entries != h->l7_size)
			return errfmt(-EBADMSG, err, len,
			              "the L7 ring-buffer fd is not a ring buffer of %llu bytes as "
			              "announced",
			              (unsigned long long)h->l7_size);
	}
	if (st.map_type != BPF_MAP_TYPE_ARRAY || st.max_entries != h->stats_entries ||
	    st.value_size != sizeof(uint64_t) || st.frozen != 1)
		return errfmt(-EBADMSG, err, len,
		              "the counters fd is map type %d, %u x %u bytes, frozen %d: not the "
		              "frozen array of %u counters announced",
		              st.map_type, st.max_entries, st.value_size, st.frozen,
		              h->stats_entries);
	return 0;
}
