// SPDX-License-Identifier: Apache-2.0
/*
 * pcap_source_open() and pcap_source_run() on one capture file: the input is
 * the whole file (pcap or pcapng, any link type), put in a memfd and opened
 * by its /proc path; the capture length per record comes from the input's
 * size. Every record must pass l7_account() (the processor's validation);
 * cookies are opened in order, data and closes come only for open flows,
 * every flow is closed by the end, and the counters partition the packets.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/types.h>

#include "bpf/l7.h"
#include "processor/l7events.h"
#include "processor/pcap_source.h"
#include "test/fuzz/fuzz.h"

#define MIN_RECORD 16 /* the smallest packet record: pcap header, pcapng simple block */

enum { NEVER, OPEN, CLOSED };

struct sink {
	struct l7_ctx l7;
	uint32_t cap;      /* most payload bytes a record may carry */
	uint8_t *state;    /* by cookie */
	uint64_t ncookies; /* state[] entries */
	uint64_t opens, closes;
};

static const uint32_t caps[] = { 0, 1, 7, L7_CAPTURE_MAX + 1 };
static const uint32_t cap_seen[] = { L7_CAPTURE_DEFAULT, 1, 7, L7_CAPTURE_MAX };

static void check_hdr(const struct sink *s, const struct l7_hdr *h)
{
	static const char nocomm[L7_COMM_LEN];

	FUZZ_CHECK(h->cookie > 0 && h->cookie < s->ncookies);
	FUZZ_CHECK(h->pid == 0 && h->cgroup_id == 0 && h->pad == 0);
	FUZZ_CHECK(!memcmp(h->comm, nocomm, sizeof(nocomm)));
}

static void check_conn(struct sink *s, const struct l7_conn *c)
{
	FUZZ_CHECK(c->role == L7_ROLE_CLIENT);
	FUZZ_CHECK(!!(c->hdr.flags & L7_F_IPV6) == (c->tuple.family == AF_INET6));
	if (c->hdr.kind == L7_CONN_OPEN) {
		FUZZ_CHECK(c->hdr.cookie == s->opens + 1 && s->state[c->hdr.cookie] == NEVER);
		s->state[c->hdr.cookie] = OPEN;
		s->opens++;
		return;
	}
	FUZZ_CHECK(s->state[c->hdr.cookie] == OPEN);
	s->state[c->hdr.cookie] = CLOSED;
	s->closes++;
}

static void check_data(const struct sink *s, const struct l7_data *d)
{
	FUZZ_CHECK(s->state[d->hdr.cookie] == OPEN);
	FUZZ_CHECK(d->cap_len <= s->cap && d->seg_len > 0);
	FUZZ_CHECK(!!(d->hdr.flags & L7_F_TRUNCATED) == (d->cap_len < d->seg_len));
	FUZZ_CHECK(!!(d->hdr.flags & L7_F_IPV6) == (d->tuple.family == AF_INET6));
}

static int on_record(void *ctx, const void *rec, uint32_t len)
{
	struct sink *s = ctx;
	int kind = l7_account(&s->l7, rec, len);

	FUZZ_CHECK(kind == L7_CONN_OPEN || kind == L7_CONN_CLOSE || kind == L7_DATA);
	check_hdr(s, rec);
	if (kind == L7_DATA)
		check_data(s, rec);
	else
		check_conn(s, rec);
	return 0;
}

static void check_stats(const struct pcap_source_stats *st, const struct sink *s)
{
	FUZZ_CHECK(st->packets ==
	           st->tcp_segments + st->non_tcp + st->non_ip + st->fragments + st->malformed);
	FUZZ_CHECK(st->truncated <= st->packets && st->flows_untracked <= st->tcp_segments);
	FUZZ_CHECK(st->flows == s->opens && s->opens == s->closes);
	FUZZ_CHECK(s->l7.malformed == 0);
}

static void run(const char *path, size_t size)
{
	struct sink s = { .cap = cap_seen[size % 4], .ncookies = size / MIN_RECORD + 2 };
	struct pcap_source *ps;
	char err[512];
	int r;

	if (pcap_source_open(&ps, path, err, sizeof(err)) < 0) {
		FUZZ_CHECK(strstr(err, path) != NULL);
		return;
	}
	s.state = calloc(s.ncookies, 1);
	FUZZ_CHECK(s.state != NULL);
	r = pcap_source_run(ps, on_record, &s, caps[size % 4]);
	FUZZ_CHECK(r == 0 || r == -EIO);
	check_stats(pcap_source_stats(ps), &s);
	pcap_source_close(ps);
	free(s.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
	char path[64];

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	run(path, size);
	close(fd);
	return 0;
}
