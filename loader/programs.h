/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_LOADER_PROGRAMS_H
#define BPFWARDEN_LOADER_PROGRAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/args.h"
#include "loader/pins.h"
#include "loader/tls.h"

struct proc_bpf;
struct l7_bpf;
struct bpf_link;

/* What the loader decided, for the eBPF side. */
struct program_config {
	const struct loader_opts *o;
	const uint64_t *cgroup_ids; /* o->ncgroups of them */
	const char *cgroup_root;    /* cgroup2 mount: attach point of --system-wide */
	const struct tls_libs *tls; /* libraries to probe (o->tls) */
	uint8_t digest[32];         /* SHA-256 of proc.bpf.o */
	uint64_t fingerprint;       /* objects + scope + options, see config_fingerprint() */
};

struct programs {
	struct proc_bpf *proc;
	struct l7_bpf *l7;
	struct bpf_link *links[PINS_MAX];
	char link_names[PINS_MAX][PIN_NAME_MAX];
	size_t nlinks;
};

/* Hash of everything a reused pin set must agree with. */
uint64_t config_fingerprint(const struct loader_opts *o, const uint64_t *cgroup_ids,
                            const char *const *digests, size_t ndigests);

/* Open both objects, set rodata, size the ring buffers, load. */
int programs_load(struct programs *p, const struct program_config *c, char *err, size_t len);

/* Fill the scope maps and freeze them and the counters; each freeze proven. */
int programs_freeze(struct programs *p, const struct program_config *c, char *err, size_t len);

/* Raw tracepoints, the cgroup hooks on each scoped cgroup, TLS uprobes. */
int programs_attach(struct programs *p, const struct program_config *c, char *err, size_t len);

/* Pin links, then maps, the completion marker (rodata) last. */
int programs_pin(struct programs *p, struct pin_dir *d, char *err, size_t len);

/* A complete pin set must match this configuration; 0 or -ESTALE. */
int programs_check_reuse(const struct pin_dir *d, const struct program_config *c, char *err,
                         size_t len);

/* Close every fd of the objects and links; pinned ones stay attached. */
void programs_close(struct programs *p);

#endif
