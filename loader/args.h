/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_ARGS_H
#define BPFWARDEN_LOADER_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOADER_CGROUPS_MAX         64 /* == SCOPE_CGROUPS_MAX in bpf/proc.h */
#define LOADER_PATH_MAX            4096
#define LOADER_DEFAULT_PIN_DIR     "/sys/fs/bpf/bpfwarden"
#define LOADER_DEFAULT_USER        "nobody"
#define LOADER_DEFAULT_RINGBUF_SEC (256u * 1024)
#define LOADER_MIN_RINGBUF         (16u * 1024)
#define LOADER_MAX_RINGBUF         (256u * 1024 * 1024)
#define LOADER_DEFAULT_RINGBUF_L7  (8u * 1024 * 1024)
#define LOADER_PORTS_MAX           64 /* == L7_PORTS_MAX in bpf/l7.h */
#define LOADER_COMMS_MAX           64 /* == L7_COMMS_MAX */
#define LOADER_COMM_MAX            15 /* bytes of a process name (comm) */
#define LOADER_TLS_LIBS_MAX        16
#define LOADER_CAPTURE_DEFAULT     1024
#define LOADER_CAPTURE_MAX         16384 /* == L7_CAPTURE_MAX */

/* Exit codes: usage errors are 2, like every bad-config answer. */
#define LOADER_EXIT_USAGE 2

struct loader_opts {
	const char *cgroups[LOADER_CGROUPS_MAX];
	size_t ncgroups;
	bool system_wide;
	bool keep_pins;
	bool verbose;
	const char *pin_dir;
	const char *user;
	const char *processor; /* NULL: next to the loader binary */
	uint32_t ringbuf_security;
	uint32_t ringbuf_l7;
	bool l7;  /* socket payload capture (needs CAP_NET_ADMIN) */
	bool tls; /* TLS plaintext through uprobes */
	uint32_t capture_bytes;
	uint16_t ports[LOADER_PORTS_MAX];
	size_t nports;
	const char *comms[LOADER_COMMS_MAX];
	size_t ncomms;
	const char *tls_libs[LOADER_TLS_LIBS_MAX];
	size_t ntls_libs;
	char **processor_argv; /* after "--", NULL-terminated (argv's tail) */
	int processor_argc;
};

/*
 * Parse argv. Returns 0 with @o filled, 1 when --help or --version was asked
 * (nothing else to do), or -EINVAL with a one-line reason in @err naming the
 * option at fault. Touches no file: paths are checked later.
 */
int loader_parse_args(int argc, char **argv, struct loader_opts *o, char *err, size_t errlen);

extern const char loader_usage[];

#endif
