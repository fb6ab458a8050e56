// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/log.h"
#include "loader/args.h"

const char loader_usage[] =
        "usage: bpfwarden-loader (--cgroup PATH... | --system-wide) [options] [-- "
        "PROCESSOR-ARGS...]\n"
        "\n"
        "Loads bpfwarden's eBPF programs, scopes them, drops every capability and\n"
        "starts bpfwarden-processor as an unprivileged user, handing it the ring buffers.\n"
        "\n"
        "scope (one is required; nothing is captured by default):\n"
        "  --cgroup PATH         capture processes in this cgroup-v2 directory and below\n"
        "                        (repeatable, up to 64; not nested in one another)\n"
        "  --system-wide         capture every process on the node (logged loudly)\n"
        "L7 capture (TCP payload of scoped sockets, TLS plaintext; on by default):\n"
        "  --capture-bytes N     payload bytes kept per segment or TLS call, 1-16384\n"
        "                        (default 1024; longer ones are flagged truncated)\n"
        "  --port N              only connections with this local or remote port\n"
        "                        (repeatable, up to 64)\n"
        "  --comm NAME           only sockets created by, and TLS calls of, processes named\n"
        "                        NAME (repeatable, up to 64)\n"
        "  --ringbuf-l7 N        bytes of the L7 ring buffer, a power of two (default 8388608)\n"
        "  --tls-lib PATH        also probe this OpenSSL 3 libssl (repeatable, up to 16); the\n"
        "                        libssl mapped by scoped processes is found by itself\n"
        "  --no-tls              no TLS plaintext capture\n"
        "  --no-l7               no L7 capture at all (then CAP_NET_ADMIN is not needed)\n"
        "options:\n"
        "  --pin-dir DIR         bpffs directory for pins (default " LOADER_DEFAULT_PIN_DIR ")\n"
        "  --keep-pins           leave programs attached and pinned on exit; the next\n"
        "                        loader with the same configuration reuses them\n"
        "  --user USER           run the processor as USER (default " LOADER_DEFAULT_USER ")\n"
        "  --processor PATH      processor binary (default: next to this binary)\n"
        "  --ringbuf-security N  bytes of the security-event ring buffer, a power of two\n"
        "                        (default 262144)\n"
        "  -v, --verbose         debug logging\n"
        "  -h, --help            this text\n"
        "\n"
        "Needs CAP_BPF and CAP_PERFMON, CAP_NET_ADMIN for L7 capture, and CAP_SETUID +\n"
        "CAP_SETGID to start the processor as another user; CAP_SETPCAP, if held, is used\n"
        "to clear the bounding set and lock securebits. All are dropped before the\n"
        "processor runs.\n";

enum {
	OPT_CGROUP = 256,
	OPT_SYSTEM_WIDE,
	OPT_PIN_DIR,
	OPT_KEEP_PINS,
	OPT_USER,
	OPT_PROCESSOR,
	OPT_RINGBUF_SEC,
	OPT_RINGBUF_L7,
	OPT_CAPTURE,
	OPT_PORT,
	OPT_COMM,
	OPT_TLS_LIB,
	OPT_NO_TLS,
	OPT_NO_L7,
};

static const struct option long_opts[] = {
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "system-wide", no_argument, NULL, OPT_SYSTEM_WIDE },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "keep-pins", no_argument, NULL, OPT_KEEP_PINS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "processor", required_argument, NULL, OPT_PROCESSOR },
	{ "ringbuf-security", required_argument, NULL, OPT_RINGBUF_SEC },
	{ "ringbuf-l7", required_argument, NULL, OPT_RINGBUF_L7 },
	{ "capture-bytes", required_argument, NULL, OPT_CAPTURE },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "tls-lib", required_argument, NULL, OPT_TLS_LIB },
	{ "no-tls", no_argument, NULL, OPT_NO_TLS },
	{ "no-l7", no_argument, NULL, OPT_NO_L7 },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int check_path(const char *opt, const char *path, char *err, size_t errlen)
{
	if (path[0] != '/')
		return errfmt(-EINVAL, err, errlen, "%s: '%s' is not an absolute path", opt, path);
	if (strlen(path) >= LOADER_PATH_MAX)
		return errfmt(-EINVAL, err, errlen, "%s: path longer than %d bytes", opt,
		              LOADER_PATH_MAX - 1);
	return 0;
}

static int add_cgroup(struct loader_opts *o, const char *path, char *err, size_t errlen)
{
	int r = check_path("--cgroup", path, err, errlen);

	if (r < 0)
		return r;
	if (o->ncgroups == LOADER_CGROUPS_MAX)
		return errfmt(-EINVAL, err, errlen, "--cgroup: more than %d cgroups",
		              LOADER_CGROUPS_MAX);
	for (size_t i = 0; i < o->ncgroups; i++)
		if (strcmp(o->cgroups[i], path) == 0)
			return errfmt(-EINVAL, err, errlen, "--cgroup: '%s' given twice", path);
	o->cgroups[o->ncgroups++] = path;
	return 0;
}

/* A decimal number in [min, max]; errors name @opt. */
static int parse_num(const char *opt, const char *arg, unsigned long long min,
                     unsigned long long max, unsigned long long *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
		return errfmt(-EINVAL, err, errlen, "%s: '%s' is not a number", opt, arg);
	if (v < min || v > max)
		return errfmt(-EINVAL, err, errlen, "%s: %llu is not between %llu and %llu", opt, v,
		              min, max);
	*out = v;
	return 0;
}

static int parse_ringbuf(const char *opt, const char *arg, uint32_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	int r = parse_num(opt, arg, LOADER_MIN_RINGBUF, LOADER_MAX_RINGBUF, &v, err, errlen);

	if (r < 0)
		return r;
	if (v & (v - 1))
		return errfmt(-EINVAL, err, errlen, "%s: %llu is not a power of two", opt, v);
	*out = (uint32_t)v;
	return 0;
}

static int add_port(struct loader_opts *o, const char *arg, char *err, size_t errlen)
{
	unsigned long long v;
	int r = parse_num("--port", arg, 1, 65535, &v, err, errlen);

	if (r < 0)
		return r;
	if (o->nports == LOADER_PORTS_MAX)
		return errfmt(-EINVAL, err, errlen, "--port: more than %d ports", LOADER_PORTS_MAX);
	for (size_t i = 0; i < o->nports; i++)
		if (o->ports[i] == v)
			return errfmt(-EINVAL, err, errlen, "--port: %llu given twice", v);
	o->ports[o->nports++] = (uint16_t)v;
	return 0;
}

static int add_comm(struct loader_opts *o, const char *arg, char *err, size_t errlen)
{
	size_t len = strlen(arg);

	if (len == 0 || len > LOADER_COMM_MAX)
		return errfmt(-EINVAL, err, errlen,
		              "--comm: '%s' is not a process name of 1 to %d bytes", arg,
		              LOADER_COMM_MAX);
	if (o->ncomms == LOADER_COMMS_MAX)
		return errfmt(-EINVAL, err, errlen, "--comm: more than %d names", LOADER_COMMS_MAX);
	for (size_t i = 0; i < o->ncomms; i++)
		if (strcmp(o->comms[i], arg) == 0)
			return errfmt(-EINVAL, err, errlen, "--comm: '%s' given twice", arg);
	o->comms[o->ncomms++] = arg;
	return 0;
}

static int add_tls_lib(struct loader_opts *o, const char *arg, char *err, size_t errlen)
{
	int r = check_path("--tls-lib", arg, err, errlen);

	if (r < 0)
		return r;
	if (o->ntls_libs == LOADER_TLS_LIBS_MAX)
		return errfmt(-EINVAL, err, errlen, "--tls-lib: more than %d libraries",
		              LOADER_TLS_LIBS_MAX);
	o->tls_libs[o->ntls_libs++] = arg;
	return 0;
}

static void set_defaults(struct loader_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pin_dir = LOADER_DEFAULT_PIN_DIR;
	o->user = LOADER_DEFAULT_USER;
	o->ringbuf_security = LOADER_DEFAULT_RINGBUF_SEC;
	o->ringbuf_l7 = LOADER_DEFAULT_RINGBUF_L7;
	o->capture_bytes = LOADER_CAPTURE_DEFAULT;
	o->l7 = true;
	o->tls = true;
}

static int apply_opt(struct loader_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_CGROUP:
		return add_cgroup(o, arg, err, errlen);
	case OPT_SYSTEM_WIDE:
		o->system_wide = true;
		return 0;
	case OPT_PIN_DIR:
		o->pin_dir = arg;
		return check_path("--pin-dir", arg, err, errlen);
	case OPT_KEEP_PINS:
		o->keep_pins = true;
		return 0;
	case OPT_USER:
		o->user = arg;
		return arg[0] ? 0 : errfmt(-EINVAL, err, errlen, "--user: empty user name");
	case OPT_PROCESSOR:
		o->processor = arg;
		return check_path("--processor", arg, err, errlen);
	case OPT_RINGBUF_SEC:
		return parse_ringbuf("--ringbuf-security", arg, &o->ringbuf_security, err, errlen);
	case OPT_RINGBUF_L7:
		return parse_ringbuf("--ringbuf-l7", arg, &o->ringbuf_l7, err, errlen);
	case OPT_CAPTURE: {
		unsigned long long v;
		int r = parse_num("--capture-bytes", arg, 1, LOADER_CAPTURE_MAX, &v, err, errlen);

		o->capture_bytes = (uint32_t)v;
		return r;
	}
	case OPT_PORT:
		return add_port(o, arg, err, errlen);
	case OPT_COMM:
		return add_comm(o, arg, err, errlen);
	case OPT_TLS_LIB:
		return add_tls_lib(o, arg, err, errlen);
	case OPT_NO_TLS:
		o->tls = false;
		return 0;
	case OPT_NO_L7:
		o->l7 = false;
		o->tls = false;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int check_scope(const struct loader_opts *o, char *err, size_t errlen)
{
	if (!o->l7 && (o->nports || o->ncomms || o->ntls_libs))
		return errfmt(-EINVAL, err, errlen,
		              "--no-l7 excludes --port, --comm and --tls-lib");
	if (!o->tls && o->ntls_libs)
		return errfmt(-EINVAL, err, errlen, "--no-tls excludes --tls-lib");
	if (o->system_wide && o->ncgroups)
		return errfmt(-EINVAL, err, errlen,
		              "--system-wide and --cgroup exclude each other: pick one");
	if (!o->system_wide && !o->ncgroups)
		return errfmt(-EINVAL, err, errlen,
		              "no scope given: nothing would be captured. Pass --cgroup PATH "
		              "(a cgroup-v2 directory, repeatable) or, to capture every process "
		              "on this node, --system-wide");
	return 0;
}

/* @elem: the argv element getopt failed on; optopt names a bad short option. */
static int bad_option(const char *elem, char *err, size_t errlen)
{
	if (elem[1] != '-' && optopt > 0 && optopt < 256)
		return errfmt(-EINVAL, err, errlen, "unknown option '-%c' in '%s'", optopt, elem);
	return errfmt(-EINVAL, err, errlen, "unknown option or missing value: '%s'", elem);
}

int loader_parse_args(int argc, char **argv, struct loader_opts *o, char *err, size_t errlen)
{
	int at, c, r;

	set_defaults(o);
	err[0] = '\0';
	optind = 0; /* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;
	for (;;) {
		/* optind before the call is the element being scanned (mid-cluster too) */
		at = optind > 0 ? optind : 1;
		c = getopt_long(argc, argv, "+vh", long_opts, NULL);
		if (c == -1)
			break;
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':')
			return bad_option(argv[at], err, errlen);
		r = apply_opt(o, c, optarg, err, errlen);
		if (r < 0)
			return r;
	}
	/* getopt stepped past a "--" terminator only if optind moved; "--user --" does not count */
	if (optind < argc && optind == at)
		return errfmt(-EINVAL, err, errlen,
		              "unexpected argument '%s' (processor arguments go after --)",
		              argv[optind]);
	o->processor_argv = argv + optind;
	o->processor_argc = argc - optind;
	return check_scope(o, err, errlen);
}
