// SPDX-License-Identifier: Apache-2.0
/*
 * bpfwarden-processor: the unprivileged side. It refuses to run with any
 * privilege, receives ring-buffer and counter fds from the loader, maps
 * them (it never calls bpf()), enters its seccomp sandbox, and turns kernel
 * records into scrubbed JSON lines on stdout.
 *
 *   parse argv -> refuse privilege -> harden -> hand-off -> map -> event
 *   loop set-up -> seccomp + self-check -> loop until signal or loader exit
 *
 * Offline (--replay FILE, --pcap FILE): no loader, no eBPF; the input file
 * is opened, the sandbox entered, and its records go through the same
 * pipeline as live ones.
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
#include "processor/handoff.h"
#include "processor/pcap_source.h"
#include "processor/pipeline.h"
#include "processor/policy.h"
#include "processor/scrub_txn.h"
#include "processor/recfile.h"
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
        "usage: bpfwarden-processor --fd N [--record FILE] [OPTIONS]\n"
        "       bpfwarden-processor --replay FILE | --pcap FILE [OPTIONS]\n"
        "\n"
        "Reads bpfwarden's ring buffers handed over by bpfwarden-loader on the unix\n"
        "socket N and writes one JSON object per event to stdout. Refuses to run as\n"
        "root or with any capability. Normally started by bpfwarden-loader.\n"
        "Offline, it reads a --record file or a tcpdump capture instead: no loader,\n"
        "no eBPF, no privilege.\n"
        "\n"
        "  --fd N                 inherited SOCK_SEQPACKET socket to the loader\n"
        "  --record FILE          also write every record read to FILE (mode 0600)\n"
        "  --replay FILE          read records from a --record FILE, then exit\n"
        "  --pcap FILE            read TCP traffic from a pcap file (Ethernet, Linux\n"
        "                         cooked, loopback, raw IP), then exit\n"
        "  --capture-bytes N      --pcap: payload bytes kept per segment, as the\n"
        "                         kernel would (default 1024, at most 16384)\n"
        "  --stats-interval SECS  period of \"stats\" records (default 10, 0: at exit only)\n"
        "  --drain-interval-ms N  L7 records are read at least this often (default 20)\n"
        "  --data-records         also write one metadata record per TCP segment and TLS\n"
        "                         call (off: they are counted in stats, not written)\n"
        "  --config FILE          scrub policy (JSON; default: the built-in strict policy,\n"
        "                         see --print-default-config)\n"
        "  --check-config FILE    validate a scrub policy file, then exit (0 valid, 2 not)\n"
        "  --print-default-config print the built-in policy as JSON, then exit\n"
        "  -v, --verbose          debug logging\n";

struct opts {
	int fd;
	const char *record, *replay, *pcap;
	long capture_bytes;
	long stats_interval;
	long drain_ms;
	bool data_records;        /* one JSON record per segment / TLS call */
	const char *config;       /* --config: scrub policy file */
	const char *check_config; /* --check-config: validate and exit */
	bool print_default;       /* --print-default-config */
	bool verbose;
};

struct processor {
	struct opts o;
	struct policy pol;
	struct scrubber scrub; /* every exported string goes through it */
	struct handoff h;
	struct ringbuf rb;
	struct ringbuf rb_l7; /* unused without L7 capture (h.l7_fd < 0) */
	struct pipeline pl;   /* L7 records to requests */
	struct recfile rec;   /* --record */
	bool recording;
	bool l7_on; /* the pipeline was started (L7 capture, --replay or --pcap) */
	struct pcap_source *pcap;
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

/* Exactly one input: the loader's socket, a --replay file or a --pcap file. */
static void check_sources(const struct opts *o, bool extra)
{
	if ((o->print_default || o->check_config) && !extra)
		return; /* they exit before any input is read */
	int inputs = (o->fd >= 0) + !!o->replay + !!o->pcap;
	const char *why = extra         ? "unexpected argument"
	                  : inputs == 0 ? "one of --fd N, --replay FILE or --pcap FILE is required"
	                  : inputs > 1  ? "--fd, --replay and --pcap exclude each other"
	                  : o->record && o->fd < 0 ? "--record needs --fd (live input)"
	                                           : NULL;

	if (why) {
		fprintf(stderr, "bpfwarden-processor: %s\n%s", why, usage);
		exit(EXIT_USAGE);
	}
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "drain-interval-ms", required_argument, NULL, 'd' },
		{ "data-records", no_argument, NULL, 'n' },
		{ "record", required_argument, NULL, 'R' },
		{ "replay", required_argument, NULL, 'P' },
		{ "pcap", required_argument, NULL, 'C' },
		{ "capture-bytes", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "print-default-config", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .fd = -1,
		            .stats_interval = STATS_INTERVAL_DEFAULT,
		            .drain_ms = DRAIN_MS_DEFAULT,
		            .capture_bytes = L7_CAPTURE_DEFAULT,
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
		else if (c == 'R')
			o->record = optarg;
		else if (c == 'P')
			o->replay = optarg;
		else if (c == 'C')
			o->pcap = optarg;
		else if (c == 'b')
			o->capture_bytes = parse_long("--capture-bytes", optarg, 1, L7_CAPTURE_MAX);
		else if (c == 'c')
			o->config = optarg;
		else if (c == 'k')
			o->check_config = optarg;
		else if (c == 'D')
			o->print_default = true;
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
	check_sources(o, optind < argc);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void emit(json_t *o)
{
	/* One object per line; compact, keys in insertion order. Dumped into
	 * a buffer and written with one fwrite: json_dumpf() writes token by
	 * token, which cost a quarter of the replay benchmark. */
	static char line[64 * 1024];
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	size_t n = json_dumpb(o, line, sizeof(line) - 1, flags);

	if (n > 0 && n < sizeof(line)) {
		line[n] = '\n';
		fwrite(line, 1, n + 1, stdout);
	} else if (json_dumpf(o, stdout, flags) == 0) {
		fputc('\n', stdout);
	}
	json_decref(o);
}

static void emit_line(const char *line, size_t len)
{
	fwrite_unlocked(line, 1, len, stdout); /* one thread: no stdio lock per record */
}

/* --record: a write error stops the recording, not the agent. */
static void record(struct processor *p, enum recfile_source src, const void *rec, uint32_t len)
{
	int r;

	if (!p->recording)
		return;
	r = recfile_write(&p->rec, src, rec, len);
	if (r < 0) {
		log_error("--record %s: %s; recording stopped after %llu records\n", p->o.record,
		          strerror(-r), (unsigned long long)p->rec.records);
		p->recording = false;
	}
}

static int on_record(void *ctx, const void *rec, uint32_t len)
{
	struct processor *p = ctx;
	json_t *o;
	int r;

	record(p, RECFILE_SECURITY, rec, len);
	r = events_decode(&p->ev, rec, len, &o);

	if (r == 0)
		emit(o);
	else if (r == -ENOMEM)
		return r;
	else
		log_debug("malformed record of %u bytes skipped\n", len);
	return 0;
}

static int on_l7_record(void *ctx, const void *rec, uint32_t len)
{
	struct processor *p = ctx;

	record(p, RECFILE_L7, rec, len);
	return pipeline_record(&p->pl, rec, len);
}

static json_t *pcap_json(const struct pcap_source_stats *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "packets", (json_int_t)s->packets,
	                 "tcp_segments", (json_int_t)s->tcp_segments, "non_tcp",
	                 (json_int_t)s->non_tcp, "non_ip", (json_int_t)s->non_ip, "fragments",
	                 (json_int_t)s->fragments, "truncated", (json_int_t)s->truncated,
	                 "malformed", (json_int_t)s->malformed, "flows", (json_int_t)s->flows,
	                 "segments_untracked", (json_int_t)s->flows_untracked);
}

static void emit_stats(struct processor *p)
{
	json_t *s = events_stats(&p->ev, p->kstats, p->h.stats_entries, clock_ns(CLOCK_REALTIME));
	json_t *proc = s ? json_object_get(s, "processor") : NULL;

	if (proc && p->l7_on)
		pipeline_stats(&p->pl, proc);
	if (proc && p->pcap)
		json_object_set_new(proc, "pcap", pcap_json(pcap_source_stats(p->pcap)));
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
				pipeline_expire(&p->pl, (uint64_t)clock_ns(CLOCK_BOOTTIME));
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
}

/* Library state that opens files or probes stdout on first use, set up
 * while that is still allowed: jansson's hash seed (/dev/urandom),
 * glibc's time-zone data (gmtime_r), and our own stdout buffer (glibc
 * would otherwise fstat stdout and, for a terminal or /dev/null, try
 * ioctl(TCGETS) on the first write, which the sandbox does not allow). */
static void prepare_libraries(void)
{
	static char stdout_buf[64 * 1024];

	json_object_seed(0);
	tzset();
	emit_stats_warmup();
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
}

static void enter_sandbox(void)
{
	int r = sandbox_enter();

	if (r < 0) {
		log_error("entering the seccomp sandbox: %s\n", strerror(-r));
		exit(EXIT_FATAL);
	}
}

static void start_pipeline(struct processor *p, int64_t boot_to_real_ns)
{
	p->pl.l7.boot_to_real_ns = boot_to_real_ns;
	if (pipeline_init(&p->pl, p->o.data_records, emit, emit_line) < 0) {
		log_error("allocating the connection table: %s\n", strerror(ENOMEM));
		exit(EXIT_FATAL);
	}
	pipeline_set_scrubber(&p->pl, &p->scrub);
	p->l7_on = true;
}

static int pcap_record(void *ctx, const void *rec, uint32_t len)
{
	return pipeline_record(&((struct processor *)ctx)->pl, rec, len);
}

/* --pcap: timestamps are already wall-clock time (boot_to_real 0). */
static int run_pcap(struct processor *p)
{
	struct pcap_source *ps;
	char err[512];
	int r = pcap_source_open(&ps, p->o.pcap, err, sizeof(err));

	if (r < 0) {
		log_error("%s\n", err);
		return EXIT_FATAL;
	}
	p->pcap = ps;
	start_pipeline(p, 0);
	prepare_libraries();
	enter_sandbox();
	log_info("ready: sandboxed; reading %s\n", p->o.pcap);
	r = pcap_source_run(ps, pcap_record, p, (uint32_t)p->o.capture_bytes);
	if (r < 0)
		log_error("--pcap %s: %s (records before it were processed)\n", p->o.pcap,
		          r == -EIO ? pcap_source_error(ps) : strerror(-r));
	pipeline_finish(&p->pl);
	emit_stats(p);
	p->pcap = NULL;
	pcap_source_close(ps);
	return r < 0 ? EXIT_FATAL : 0;
}

static int replay_one(struct processor *p, enum recfile_source src, uint32_t len)
{
	if (src == RECFILE_SECURITY)
		return on_record(p, p->rec.buf, len);
	return pipeline_record(&p->pl, p->rec.buf, len);
}

/* --replay: the records of a --record file, through the live path. */
static int run_replay(struct processor *p)
{
	enum recfile_source src;
	uint32_t len;
	char err[512];
	int r = recfile_open(&p->rec, p->o.replay, err, sizeof(err));

	if (r < 0) {
		log_error("%s\n", err);
		return EXIT_FATAL;
	}
	p->ev.boot_to_real_ns = p->rec.boot_to_real_ns;
	start_pipeline(p, p->rec.boot_to_real_ns);
	prepare_libraries();
	enter_sandbox();
	log_info("ready: sandboxed; replaying %s\n", p->o.replay);
	while ((r = recfile_read(&p->rec, &src, &len, err, sizeof(err))) > 0)
		if (replay_one(p, src, len) < 0) {
			r = -ENOMEM;
			snprintf(err, sizeof(err), "--replay: %s", strerror(ENOMEM));
			break;
		}
	if (r < 0)
		log_error("%s (records before it were processed)\n", err);
	pipeline_finish(&p->pl);
	emit_stats(p);
	recfile_close(&p->rec);
	return r < 0 ? EXIT_FATAL : 0;
}

static int run_live(struct processor *p)
{
	char err[512];
	int64_t b2r = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	int r = handoff_receive(p->o.fd, &p->h, err, sizeof(err));

	if (r == 0)
		r = handoff_verify(&p->h, err, sizeof(err));
	if (r < 0) {
		log_error("hand-off: %s\n", err);
		return EXIT_FATAL;
	}
	map_fds(p);
	if (p->h.l7_fd >= 0)
		start_pipeline(p, b2r);
	p->ev.boot_to_real_ns = b2r;
	if (p->o.record) {
		if (recfile_create(&p->rec, p->o.record, b2r, err, sizeof(err)) < 0) {
			log_error("%s\n", err);
			return EXIT_FATAL;
		}
		p->recording = true;
	}
	setup_loop(p);
	prepare_libraries();
	enter_sandbox();
	log_info("ready: sandboxed (seccomp, no capabilities, bpf() denied); reading %llu-byte "
	         "security ring buffer from loader pid %u\n",
	         (unsigned long long)p->h.ringbuf_size, p->h.loader_pid);
	run(p);
	if (p->h.l7_fd >= 0)
		pipeline_finish(&p->pl);
	emit_stats(p);
	if (p->o.record && recfile_close(&p->rec) < 0)
		log_error("--record %s: %s\n", p->o.record, strerror(errno));
	return p->loader_gone ? EXIT_FATAL : 0;
}

/* --print-default-config */
static int print_default_config(void)
{
	char *j = policy_default_json();

	if (!j || fputs(j, stdout) < 0 || fflush(stdout) != 0) {
		free(j);
		log_error("--print-default-config: %s\n", strerror(j ? EIO : ENOMEM));
		return EXIT_FATAL;
	}
	free(j);
	return 0;
}

/*
 * The scrub policy, read before the sandbox (its hash key file too): a
 * policy that does not load is a usage error, never a silent default.
 */
static int load_policy(struct processor *p, const char *path, bool quiet)
{
	char err[1024];
	int r = path ? policy_load_file(&p->pol, path, err, sizeof(err)) : policy_defaults(&p->pol);

	if (r == 0)
		r = scrubber_init(&p->scrub, &p->pol, err, sizeof(err));
	if (r < 0) {
		log_error("%s%s%s\n", path && !strstr(err, path) ? path : "",
		          path && !strstr(err, path) ? ": " : "", err);
		return EXIT_USAGE;
	}
	if (!quiet)
		log_info("scrub policy: %s (%u attributes, %u headers, %u routes, hash key %s)\n",
		         path ? path : "built-in defaults", p->pol.n_attrs, p->pol.n_headers,
		         p->pol.n_routes, p->pol.hash_key_len ? "loaded" : "none");
	p->ev.scrubber = &p->scrub;
	return 0;
}

int main(int argc, char **argv)
{
	static struct processor p;
	char err[256];
	int r;

	parse_args(argc, argv, &p.o);
	log_init("bpfwarden-processor", p.o.verbose ? LOG_DEBUG : LOG_INFO);
	if (p.o.print_default)
		return print_default_config();
	if (p.o.check_config) {
		r = load_policy(&p, p.o.check_config, true);
		if (r == 0)
			printf("%s: valid\n", p.o.check_config);
		return r;
	}
	if (sandbox_check_unprivileged(err, sizeof(err)) < 0) {
		log_error("%s\n", err);
		return EXIT_FATAL;
	}
	if (sandbox_harden() < 0) {
		log_error("PR_SET_DUMPABLE/RLIMIT_CORE: %s\n", strerror(errno));
		return EXIT_FATAL;
	}
	r = load_policy(&p, p.o.config, false);
	if (r)
		return r;
	if (p.o.pcap)
		return run_pcap(&p);
	if (p.o.replay)
		return run_replay(&p);
	return run_live(&p);
}
