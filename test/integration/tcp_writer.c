// SPDX-License-Identifier: Apache-2.0
/*
 * Test peer: sends FILE to a listener of its own on 127.0.0.1:PORT with the
 * write patterns the kernel capture must cope with: many small writes, one
 * writev with several iovecs, and one large write whose segments exceed any
 * capture size. The listening child reads everything and exits.
 *
 *   tcp_writer PORT FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int die(const char *what)
{
	fprintf(stderr, "tcp_writer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno != EINTR)
			die("write");
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
}

static void reader(int lfd)
{
	char buf[65536];
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		die("accept");
	while (read(c, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

/* 10 writes of 10 bytes, a writev of 3 x 1000, then the rest at once. */
static void send_patterns(int fd, const uint8_t *d, size_t n)
{
	int one = 1;
	size_t off = 0;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < 10 && off + 10 <= n; i++, off += 10)
		write_all(fd, d + off, 10);
	if (off + 3000 <= n) {
		struct iovec iov[3] = { { (void *)(d + off), 1000 },
			                { (void *)(d + off + 1000), 1000 },
			                { (void *)(d + off + 2000), 1000 } };
		ssize_t w = writev(fd, iov, 3);

		if (w < 0)
			die("writev");
		off += (size_t)w;
	}
	/* TCP_WRITER_PAUSE_AT/_MS: stop after that many bytes for a while. */
	if (getenv("TCP_WRITER_PAUSE_AT")) {
		size_t at = (size_t)atol(getenv("TCP_WRITER_PAUSE_AT"));
		long ms =
		        getenv("TCP_WRITER_PAUSE_MS") ? atol(getenv("TCP_WRITER_PAUSE_MS")) : 1000;

		if (at > off && at < n) {
			write_all(fd, d + off, at - off);
			off = at;
			usleep((useconds_t)ms * 1000);
		}
	}
	write_all(fd, d + off, n - off);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd, fd, one = 1, status;
	struct stat st;
	uint8_t *data;
	pid_t child;

	if (argc != 3)
		return fprintf(stderr, "usage: tcp_writer PORT FILE\n"), 2;
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	fd = open(argv[2], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
		die(argv[2]);
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		die("mmap");
	close(fd);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0)
		die("listen");
	child = fork();
	if (child == 0)
		reader(lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	send_patterns(fd, data, (size_t)st.st_size);
	close(fd);
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
