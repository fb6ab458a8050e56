// SPDX-License-Identifier: Apache-2.0
/*
 * bpfwarden-processor: the unprivileged side. It refuses to run with any
 * privilege, receives ring-buffer and counter fds from the loader, maps
 * them (it never calls bpf()), enters its seccomp sandbox, and turns kernel
 * records into scrubbed JSON lines on stdout.
 *
 *   parse argv -> refuse privilege -> harden -> hand-off -> map -> event
 *   loop set-up -> seccomp + self-check -> loop until signal or loader exit
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <linux/types.h>

#include "bpf/l7.h"
#include "ipc/ipc.h"
#include "ipc/log.h"
#include "processor/events.h"
#include "processor/conntrack.h"
#include "processor/handoff.h"
#include "processor/l7events.h"
#include "processor/ringbuf.h"
#include "processor/sandbox.h"

#define EXIT_USAGE             2
#define EXIT_FATAL             1
#define STATS_INTERVAL_DEFAULT 10
#define STATS_INTERVAL_MAX     86400
#define DRAIN_MS_DEFAULT       20 /* L7 latency bound: records wait at most this */
#define DRAIN_MS_MAX           1000
#define CONNTRACK_SWEEP_DRAINS 500  /* expire idle connections every 500 drains */
#define DRAIN_BATCH            4096 /* records per wake-up before other fds get a turn */

static const char usage[] =
        "usage: bpfwarden-processor --fd N [--stats-interval SECONDS] [--drain-interval-ms N] "
        "[-v]\n"
        "\n"
        "Reads bpfwarden's ring buffers handed over by bpfwarden-loader on the unix\n"
        "socket N and writes one JSON object per event to stdout. Refuses to run as\n"
        "root or with any capability. Normally started by bpfwarden-loader.\n"
        "\n"
        "  --fd N                 inherited SOCK_SEQPACKET socket to the loader\n"
        "  --stats-interval SECS  period of \"stats\" records (default 10, 0: at exit only)\n"
        "  --drain-interval-ms N  L7 records are read at least this often (default 20)\n"
        "  --data-records         also write one metadata record per TCP segment and TLS\n"
        "                         call (off: they are counted in stats, not written)\n"
        "  -v, --verbose          debug logging\n";

struct opts {
	int fd;
	long stats_interval;
	long drain_ms;
	bool data_records; /* one JSON record per segment / TLS call */
	bool verbose;
};

struct processor {
	struct opts o;
	struct handoff h;
	struct ringbuf rb;
	struct ringbuf rb_l7; /* unused without L7 capture (h.l7_fd < 0) */
	struct l7_ctx l7;
	struct conntrack ct; /* reassembly state per connection */
	uint64_t drains;
	const volatile uint64_t *kstats;
	size_t kstats_map_len;
	struct events_ctx ev;
	int epfd, sigfd, timerfd, drainfd;
	bool loader_gone;
};

enum { TAG_RINGBUF = 1, TAG_SIGNAL, TAG_TIMER, TAG_IPC, TAG_L7, TAG_DRAIN };

static long parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "bpfwarden-processor: %s: '%s' is not a number from %ld to %ld\n",
		        opt, s, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "drain-interval-ms", required_argument, NULL, 'd' },
		{ "data-records", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .fd = -1,
		            .stats_interval = STATS_INTERVAL_DEFAULT,
		            .drain_ms = DRAIN_MS_DEFAULT,
		            .data_records = false };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
		if (c == 'f')
			o->fd = (int)parse_long("--fd", optarg, 3, 1023);
		else if (c == 's')
			o->stats_interval =
			        parse_long("--stats-interval", optarg, 0, STATS_INTERVAL_MAX);
		else if (c == 'd')
			o->drain_ms = parse_long("--drain-interval-ms", optarg, 1, DRAIN_MS_MAX);
		else if (c == 'n')
			o->data_records = true;
		else if (c == 'v')
			o->verbose = true;
		else if (c == 'h')
			fputs(usage, stdout), exit(0);
		else
			fprintf(stderr,
			        "bpfwarden-processor: unknown option or missing value: '%s'\n",
			        argv[optind - 1]),
			        exit(EXIT_USAGE);
	}
	if (optind < argc || o->fd < 0) {
		fprintf(stderr, "bpfwarden-processor: %s\n%s",
		        o->fd < 0 ? "--fd N is required" : "unexpected argument", usage);
		exit(EXIT_USAGE);
	}
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void emit(json_t *o)
{
	/* One object per line; compact, keys in insertion order. */
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0)
		fputc('\n', stdout);
	json_decref(o);
}

static int on_record(void *ctx, const void *rec, uint32_t len)
{
	struct processor *p = ctx;
	json_t *o;
	int r = events_decode(&p->ev, rec, len, &o);

	if (r == 0)
		emit(o);
	else if (r == -ENOMEM)
		return r;
	else
		log_debug("malformed record of %u bytes skipped\n", len);
	return 0;
}

/* No parser consumes the streams yet: reassembly runs for its counters. */
static void no_data(void *ctx, const uint8_t *p, uint32_t len)
{
	(void)ctx, (void)p, (void)len;
}

static void no_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	(void)ctx, (void)len, (void)why;
}

static const struct reasm_ops count_ops = { no_data, no_gap };

/* Feed one validated data record to its connection's stream. */
static void track_segment(struct processor *p, const struct l7_data *d)
{
	struct conn *c;

	if (d->dir > L7_INGRESS || !d->hdr.cookie) {
		p->l7.malformed++;
		return;
	}
	c = conntrack_get(&p->ct, d->hdr.cookie, true, d->hdr.ts_boot_ns);
	if (!c) {
		p->ct.untracked++;
		return;
	}
	if (reasm_push(&c->dir[d->dir], d->seq, d->seg_len, (const uint8_t *)(d + 1), d->cap_len,
	               &count_ops, NULL, &c->stats[d->dir]) < 0)
		p->l7.malformed++;
}

static json_t *stream_json(const struct reasm_stats *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "segments", (json_int_t)s->segments,
	                 "bytes_captured", (json_int_t)s->bytes_delivered, "gap_bytes_truncated",
	                 (json_int_t)s->gap_bytes_truncated, "gap_bytes_lost",
	                 (json_int_t)(s->gap_bytes_lost + s->gap_bytes_evicted), "duplicate_bytes",
	                 (json_int_t)s->duplicate_bytes);
}

/* A closed connection: flush its streams, describe them, forget it. */
static void finish_conn(struct processor *p, const struct l7_hdr *h, json_t *o)
{
	struct conn *c = conntrack_get(&p->ct, h->cookie, false, h->ts_boot_ns);

	if (!c)
		return;
	for (int d = 0; d < 2; d++)
		reasm_flush(&c->dir[d], &count_ops, NULL, &c->stats[d]);
	json_object_set_new(o, "stream",
	                    json_pack("{s:o,s:o}", "egress", stream_json(&c->stats[0]), "ingress",
	                              stream_json(&c->stats[1])));
	conntrack_close(&p->ct, c, &count_ops, NULL);
}

static int on_l7_record(void *ctx, const void *rec, uint32_t len)
{
	struct processor *p = ctx;
	const uint8_t *payload;
	uint32_t plen;
	json_t *o;
	int r;

	/* Without --data-records, segments and TLS calls are only counted. */
	if (!p->o.data_records) {
		r = l7_account(&p->l7, rec, len);
		if (r == L7_DATA)
			track_segment(p, rec);
		if (r == L7_DATA || r == L7_TLS_DATA || r == -EBADMSG)
			return 0;
	}
	r = l7_decode(&p->l7, rec, len, &o, &payload, &plen);
	if (r == 0 && ((const struct l7_hdr *)rec)->kind == L7_DATA)
		track_segment(p, rec);
	if (r == 0 && ((const struct l7_hdr *)rec)->kind == L7_CONN_CLOSE)
		finish_conn(p, rec, o);
	if (r == 0)
		emit(o);
	else if (r == -ENOMEM)
		return r;
	else
		log_debug("malformed L7 record of %u bytes skipped\n", len);
	return 0;
}

static json_t *reasm_stats_json(const struct conntrack *t)
{
	const struct reasm_stats *s = &t->done;

	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections_tracked",
	                 (json_int_t)t->n, "segments_untracked", (json_int_t)t->untracked,
	                 "connections_expired", (json_int_t)t->expired, "segments",
	                 (json_int_t)s->segments, "bytes_captured", (json_int_t)s->bytes_delivered,
	                 "gap_bytes_truncated", (json_int_t)s->gap_bytes_truncated,
	                 "gap_bytes_lost", (json_int_t)s->gap_bytes_lost, "gap_bytes_evicted",
	                 (json_int_t)s->gap_bytes_evicted, "duplicate_bytes",
	                 (json_int_t)s->duplicate_bytes);
}

static json_t *l7_stats(const struct l7_ctx *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "records", (json_int_t)c->records,
	                 "conn_open", (json_int_t)c->conn_open, "conn_close",
	                 (json_int_t)c->conn_close, "data", (json_int_t)c->data, "tls_data",
	                 (json_int_t)c->tls, "payload_bytes_captured", (json_int_t)c->payload_bytes,
	                 "records_malformed", (json_int_t)c->malformed);
}

static void emit_stats(struct processor *p)
{
	json_t *s = events_stats(&p->ev, p->kstats, p->h.stats_entries, clock_ns(CLOCK_REALTIME));
	json_t *proc = s ? json_object_get(s, "processor") : NULL;

	if (proc && p->h.l7_fd >= 0) {
		json_object_set_new(proc, "l7", l7_stats(&p->l7));
		json_object_set_new(proc, "reassembly", reasm_stats_json(&p->ct));
	}
	if (s)
		emit(s);
	fflush(stdout);
}

static void emit_stats_warmup(void)
{
	char when[64];

	events_format_time(clock_ns(CLOCK_REALTIME), when, sizeof(when));
}

/* Security events first: they are never starved by an L7 flood. */
static int drain(struct processor *p)
{
	long n = ringbuf_consume(&p->rb, on_record, p, DRAIN_BATCH);
	long m = p->h.l7_fd >= 0 ? ringbuf_consume(&p->rb_l7, on_l7_record, p, DRAIN_BATCH) : 0;

	fflush(stdout);
	if (n < 0 || m < 0) {
		log_error("%s ring buffer: %s\n", n < 0 ? "security" : "L7",
		          strerror((int)-(n < 0 ? n : m)));
		return (int)(n < 0 ? n : m);
	}
	return 0;
}

static void map_fds(struct processor *p)
{
	int r = ringbuf_map(&p->rb, p->h.ringbuf_fd, p->h.ringbuf_size);
	void *m;

	if (r < 0) {
		log_error("mapping the security ring buffer (%llu bytes): %s\n",
		          (unsigned long long)p->h.ringbuf_size, strerror(-r));
		exit(EXIT_FATAL);
	}
	if (p->h.l7_fd >= 0) {
		r = ringbuf_map(&p->rb_l7, p->h.l7_fd, p->h.l7_size);
		if (r < 0) {
			log_error("mapping the L7 ring buffer (%llu bytes): %s\n",
			          (unsigned long long)p->h.l7_size, strerror(-r));
			exit(EXIT_FATAL);
		}
	}
	p->kstats_map_len = (size_t)p->h.stats_size;
	m = mmap(NULL, p->kstats_map_len, PROT_READ, MAP_SHARED, p->h.stats_fd, 0);
	if (m == MAP_FAILED) {
		log_error("mapping the kernel counters: %s\n", strerror(errno));
		exit(EXIT_FATAL);
	}
	p->kstats = m;
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The L7 drain timer and ring buffer, when the loader runs L7 capture. */
static int setup_l7(struct processor *p)
{
	long ns = p->o.drain_ms * 1000000L;
	struct itimerspec it = { .it_interval = { ns / 1000000000L, ns % 1000000000L },
		                 .it_value = { ns / 1000000000L, ns % 1000000000L } };

	if (p->h.l7_fd < 0)
		return 0;
	p->drainfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->drainfd < 0 || timerfd_settime(p->drainfd, 0, &it, NULL) < 0 ||
	    add_fd(p->epfd, p->h.l7_fd, TAG_L7) < 0 || add_fd(p->epfd, p->drainfd, TAG_DRAIN) < 0)
		return -1;
	return 0;
}

static void setup_loop(struct processor *p)
{
	struct itimerspec it = { .it_interval = { p->o.stats_interval, 0 },
		                 .it_value = { p->o.stats_interval, 0 } };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || p->epfd < 0 || p->timerfd < 0 ||
	    (p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    timerfd_settime(p->timerfd, 0, &it, NULL) < 0 ||
	    add_fd(p->epfd, p->h.ringbuf_fd, TAG_RINGBUF) < 0 ||
	    add_fd(p->epfd, p->sigfd, TAG_SIGNAL) < 0 ||
	    add_fd(p->epfd, p->timerfd, TAG_TIMER) < 0 || add_fd(p->epfd, p->o.fd, TAG_IPC) < 0 ||
	    setup_l7(p) < 0) {
		log_error("setting up the event loop: %s\n", strerror(errno));
		exit(EXIT_FATAL);
	}
}

/* After READY the loader sends IPC_STOP or nothing; anything else ends us. */
static bool on_ipc(struct processor *p)
{
	struct ipc_msg m;
	int fd = -1;
	int r = ipc_recv(p->o.fd, &m, &fd);

	if (fd >= 0)
		close(fd);
	if (r == 0 && m.hdr.type == IPC_STOP) {
		log_info("the loader asked us to stop; draining\n");
		return false;
	}
	if (r == -ECONNRESET)
		log_error("the loader closed the connection\n");
	else
		log_error("unexpected message from the loader after the hand-off: %s\n",
		          r < 0 ? ipc_strerror(r) : "not IPC_STOP");
	p->loader_gone = true;
	return false;
}

/* Returns false when the loop should end. */
static bool on_event(struct processor *p, const struct epoll_event *ev)
{
	uint64_t ticks;

	switch (ev->data.u64) {
	case TAG_RINGBUF:
	case TAG_L7:
		return drain(p) == 0;
	case TAG_DRAIN:
		/* L7 records wake us only past a fill level: drain on a timer too. */
		if (read(p->drainfd, &ticks, sizeof(ticks)) > 0) {
			if (++p->drains % CONNTRACK_SWEEP_DRAINS == 0)
				conntrack_expire(&p->ct, (uint64_t)clock_ns(CLOCK_BOOTTIME),
				                 &count_ops, NULL);
			return drain(p) == 0;
		}
		return true;
	case TAG_TIMER:
		if (read(p->timerfd, &ticks, sizeof(ticks)) > 0) {
			emit_stats(p);
		}
		return true;
	case TAG_SIGNAL:
		log_info("signal received, draining and stopping\n");
		return false;
	case TAG_IPC:
		return on_ipc(p);
	}
	return true;
}

static void run(struct processor *p)
{
	struct epoll_event evs[4];
	bool go = true;

	while (go) {
		int n = epoll_wait(p->epfd, evs, 4, -1);

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n && go; i++)
			go = on_event(p, &evs[i]);
	}
	/* Whatever the kernel already committed is still ours to report. */
	for (int i = 0; i < 64 && ringbuf_avail(&p->rb); i++)
		if (drain(p) < 0)
			break;
	emit_stats(p);
}

int main(int argc, char **argv)
{
	static char stdout_buf[64 * 1024];
	static struct processor p;
	char err[256];
	int r;

	parse_args(argc, argv, &p.o);
	log_init("bpfwarden-processor", p.o.verbose ? LOG_DEBUG : LOG_INFO);
	if (sandbox_check_unprivileged(err, sizeof(err)) < 0) {
		log_error("%s\n", err);
		return EXIT_FATAL;
	}
	if (sandbox_harden() < 0) {
		log_error("PR_SET_DUMPABLE/RLIMIT_CORE: %s\n", strerror(errno));
		return EXIT_FATAL;
	}
	r = handoff_receive(p.o.fd, &p.h, err, sizeof(err));
	if (r == 0)
		r = handoff_verify(&p.h, err, sizeof(err));
	if (r < 0) {
		log_error("hand-off: %s\n", err);
		return EXIT_FATAL;
	}
	map_fds(&p);
	if (p.h.l7_fd >= 0 && conntrack_init(&p.ct) < 0) {
		log_error("allocating the connection table: %s\n", strerror(ENOMEM));
		return EXIT_FATAL;
	}
	p.ev.boot_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	p.l7.boot_to_real_ns = p.ev.boot_to_real_ns;
	setup_loop(&p);
	/* Library state that opens files on first use, initialised while
	 * opening files is still allowed: jansson's hash seed (/dev/urandom)
	 * and glibc's time-zone data (gmtime_r). */
	json_object_seed(0);
	tzset();
	emit_stats_warmup();
	/* Our own stdout buffer: glibc would otherwise allocate one on the
	 * first write and probe the stream with fstat and, for a terminal or
	 * /dev/null, ioctl(TCGETS), which the sandbox does not allow. */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	r = sandbox_enter();
	if (r < 0) {
		log_error("entering the seccomp sandbox: %s\n", strerror(-r));
		return EXIT_FATAL;
	}
	log_info("ready: sandboxed (seccomp, no capabilities, bpf() denied); reading %llu-byte "
	         "security ring buffer from loader pid %u\n",
	         (unsigned long long)p.h.ringbuf_size, p.h.loader_pid);
	run(&p);
	return p.loader_gone ? EXIT_FATAL : 0;
}
