// SPDX-License-Identifier: Apache-2.0
/*
 * The capless fd broker. By the time this runs the loader holds no
 * capability, has no_new_privs and its seccomp filter, and owns only the
 * fds listed in struct broker. It answers a closed set of requests:
 *
 *   IPC_HELLO (once, first): answered with WELCOME, the fds, READY. Safe
 *     because the peer is the child we started as the unprivileged user,
 *     checked by pid, and what it receives are a ring buffer it can only
 *     consume and a counter array opened read-only.
 *
 * Anything else, or anything after the hand-off, ends the connection and
 * stops the processor: the protocol has no request the processor may
 * repeat. The only message the loader sends on its own is IPC_STOP, when
 * it is told to stop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ipc/log.h"
#include "loader/broker.h"

enum broker_phase { WAIT_HELLO, SERVING, CLOSED };

struct broker_state {
	enum broker_phase phase;
	uint32_t seq;
	bool stopping;
	struct timespec deadline;
	bool child_done;
	int child_status;
};

static int send_error(const struct broker *b, struct broker_state *s, int code, const char *text)
{
	struct ipc_error e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	strncpy(e.text, text, sizeof(e.text) - 1);
	return ipc_send(b->sock, IPC_ERROR, s->seq++, &e, sizeof(e.code) + strlen(e.text) + 1, -1);
}

static int handoff(const struct broker *b, struct broker_state *s)
{
	struct ipc_welcome w;
	int r;

	memset(&w, 0, sizeof(w));
	w.nfds = (uint32_t)b->nfds;
	w.loader_pid = (uint32_t)getpid();
	memcpy(w.object_sha256, b->digest, sizeof(w.object_sha256));
	r = ipc_send(b->sock, IPC_WELCOME, s->seq++, &w, sizeof(w), -1);
	for (size_t i = 0; r == 0 && i < b->nfds; i++)
		r = ipc_send(b->sock, IPC_FD, s->seq++, &b->fds[i].desc, sizeof(b->fds[i].desc),
		             b->fds[i].fd);
	if (r == 0)
		r = ipc_send(b->sock, IPC_READY, s->seq++, NULL, 0, -1);
	return r;
}

/*
 * Ask the processor to stop: IPC_STOP once it is served, a closed socket
 * before that. Signals are no option: capless and of another uid, the
 * loader may not signal its child. The deadline bounds the wait; past it the
 * loader exits and the child's parent-death signal (SIGKILL) ends it.
 */
static void stop_child(const struct broker *b, struct broker_state *s)
{
	if (s->child_done || s->stopping)
		return;
	s->stopping = true;
	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_sec += BROKER_STOP_GRACE_MS / 1000;
	if (s->phase == SERVING && ipc_send(b->sock, IPC_STOP, s->seq++, NULL, 0, -1) == 0)
		return;
	shutdown(b->sock, SHUT_RDWR);
	s->phase = CLOSED;
}

static void close_conn(const struct broker *b, struct broker_state *s, const char *why)
{
	if (s->phase == CLOSED)
		return;
	log_error("closing the processor connection: %s\n", why);
	shutdown(b->sock, SHUT_RDWR);
	s->phase = CLOSED;
	stop_child(b, s);
}

static void on_hello(const struct broker *b, struct broker_state *s, const struct ipc_msg *m)
{
	int r;

	if (m->u.hello.pid != (uint32_t)b->child) {
		send_error(b, s, EPERM, "hello from an unexpected pid");
		close_conn(b, s, "hello names a pid other than the processor we started");
		return;
	}
	r = handoff(b, s);
	if (r < 0) {
		log_error("hand-off: ipc_send: %s\n", ipc_strerror(r));
		close_conn(b, s, "hand-off failed");
		return;
	}
	log_info("handed %zu fds to processor pid %d\n", b->nfds, (int)b->child);
	s->phase = SERVING;
}

static void on_socket(const struct broker *b, struct broker_state *s)
{
	struct ipc_msg m;
	int fd = -1;
	int r = ipc_recv(b->sock, &m, &fd);

	if (fd >= 0)
		close(fd); /* the processor never sends fds: drop any */
	if (r == -ECONNRESET) {
		s->phase = CLOSED;
		if (!s->child_done)
			log_info("processor closed the connection\n");
		return;
	}
	if (r == -EPROTONOSUPPORT) {
		send_error(b, s, EPROTONOSUPPORT, "ipc version mismatch: loader speaks version 1");
		log_error("processor speaks ipc version %u, this loader speaks %d\n", m.hdr.version,
		          IPC_VERSION);
		close_conn(b, s, "version mismatch");
		return;
	}
	if (r < 0) {
		close_conn(b, s, ipc_strerror(r));
		return;
	}
	if (s->phase == WAIT_HELLO && m.hdr.type == IPC_HELLO && fd < 0)
		on_hello(b, s, &m);
	else
		close_conn(b, s, "unexpected or out-of-order message");
}

static void reap(const struct broker *b, struct broker_state *s)
{
	int status;
	pid_t p = waitpid(b->child, &status, WNOHANG);

	if (p == b->child) {
		s->child_done = true;
		s->child_status = status;
	}
}

static void on_signal(const struct broker *b, struct broker_state *s)
{
	struct signalfd_siginfo si;

	while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("received signal %u, stopping the processor\n", si.ssi_signo);
		stop_child(b, s);
	}
}

static int poll_timeout(const struct broker_state *s)
{
	struct timespec now;
	long ms;

	if (!s->stopping)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (s->deadline.tv_sec - now.tv_sec) * 1000 +
	     (s->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

static int exit_code(const struct broker_state *s)
{
	if (WIFEXITED(s->child_status)) {
		if (WEXITSTATUS(s->child_status) == 0)
			return 0;
		log_error("processor exited with status %d\n", WEXITSTATUS(s->child_status));
	} else if (WIFSIGNALED(s->child_status)) {
		log_error("processor was killed by signal %d\n", WTERMSIG(s->child_status));
	}
	return 1;
}

int broker_run(const struct broker *b)
{
	struct broker_state s = { .phase = WAIT_HELLO };

	while (!s.child_done) {
		struct pollfd p[3] = {
			{ .fd = b->sigfd, .events = POLLIN },
			{ .fd = s.phase == CLOSED ? -1 : b->sock, .events = POLLIN },
			{ .fd = b->pidfd, .events = POLLIN }, /* readable once it exited */
		};
		int n = poll(p, 3, poll_timeout(&s));

		if (n < 0 && errno != EINTR) {
			log_error("poll: %s\n", strerror(errno));
			return 1; /* exiting kills the child: parent-death signal */
		}
		if (n == 0 && s.stopping) {
			log_warn("processor did not stop within %d ms; exiting, which kills it\n",
			         BROKER_STOP_GRACE_MS);
			return 1;
		}
		if (n > 0 && p[0].revents)
			on_signal(b, &s);
		if (n > 0 && p[1].revents)
			on_socket(b, &s);
		if (n > 0 && p[2].revents)
			reap(b, &s);
	}
	return exit_code(&s);
}
