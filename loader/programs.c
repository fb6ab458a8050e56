// SPDX-License-Identifier: Apache-2.0
/*
 * The eBPF side of the loader: two embedded objects (process events, L7
 * capture), the scope maps they share, and every attachment. Runs with
 * CAP_BPF + CAP_PERFMON (+ CAP_NET_ADMIN for the cgroup hooks), before the
 * privilege drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/l7.h"
#include "bpf/proc.h"
#include "bpf/stats.h"
#include "ipc/log.h"
#include "l7.skel.h"
#include "loader/programs.h"
#include "proc.skel.h"

/* FNV-1a, 64 bit: equality of our own configuration, not a security hash. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

uint64_t config_fingerprint(const struct loader_opts *o, const uint64_t *cgroup_ids,
                            const char *const *digests, size_t ndigests)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t flags[3] = { o->system_wide, o->l7, o->tls };

	for (size_t i = 0; i < ndigests; i++)
		h = fnv(h, digests[i], strlen(digests[i]));
	h = fnv(h, flags, sizeof(flags));
	h = fnv(h, &o->ncgroups, sizeof(o->ncgroups));
	h = fnv(h, cgroup_ids, o->ncgroups * sizeof(*cgroup_ids));
	h = fnv(h, &o->nports, sizeof(o->nports));
	h = fnv(h, o->ports, o->nports * sizeof(o->ports[0]));
	for (size_t i = 0; i < o->ncomms; i++)
		h = fnv(h, o->comms[i], strlen(o->comms[i]) + 1);
	h = fnv(h, &o->capture_bytes, sizeof(o->capture_bytes));
	h = fnv(h, &o->ringbuf_security, sizeof(o->ringbuf_security));
	return fnv(h, &o->ringbuf_l7, sizeof(o->ringbuf_l7));
}

static int load_proc(struct programs *p, const struct program_config *c, char *err, size_t len)
{
	int r;

	p->proc = proc_bpf__open();
	if (!p->proc)
		return errfmt(-errno, err, len, "opening the embedded proc.bpf.o: %s",
		              strerror(errno));
	p->proc->rodata->system_wide = c->o->system_wide;
	p->proc->rodata->config_fingerprint = c->fingerprint;
	memcpy((void *)p->proc->rodata->object_sha256, c->digest, sizeof(c->digest));
	r = bpf_map__set_max_entries(p->proc->maps.events_security, c->o->ringbuf_security);
	if (r == 0)
		r = proc_bpf__load(p->proc);
	if (r < 0)
		return errfmt(r, err, len,
		              "loading proc.bpf.o: %s (run with -v for the verifier log)",
		              strerror(-r));
	return 0;
}

/* The L7 object shares scope_cgroups and stats with the process object. */
static int load_l7(struct programs *p, const struct program_config *c, char *err, size_t len)
{
	const struct loader_opts *o = c->o;
	int r;

	p->l7 = l7_bpf__open();
	if (!p->l7)
		return errfmt(-errno, err, len, "opening the embedded l7.bpf.o: %s",
		              strerror(errno));
	p->l7->rodata->system_wide = o->system_wide;
	p->l7->rodata->port_filter = o->nports > 0;
	p->l7->rodata->comm_filter = o->ncomms > 0;
	p->l7->rodata->capture_bytes = o->capture_bytes;
	/* Wake the reader only past half full: below that its drain timer
	 * keeps up, and every forced wake-up costs the sender (measured: it
	 * doubled the per-packet cost of the cgroup_skb programs). */
	p->l7->rodata->wakeup_bytes = o->ringbuf_l7 / 2;
	r = bpf_map__set_max_entries(p->l7->maps.events_l7, o->ringbuf_l7);
	if (r == 0)
		r = bpf_map__reuse_fd(p->l7->maps.scope_cgroups,
		                      bpf_map__fd(p->proc->maps.scope_cgroups));
	if (r == 0)
		r = bpf_map__reuse_fd(p->l7->maps.stats, bpf_map__fd(p->proc->maps.stats));
	if (r == 0 && !o->tls) {
		bpf_program__set_autoload(p->l7->progs.ssl_write_enter, false);
		bpf_program__set_autoload(p->l7->progs.ssl_write_ex_enter, false);
		bpf_program__set_autoload(p->l7->progs.ssl_read_enter, false);
		bpf_program__set_autoload(p->l7->progs.ssl_read_ex_enter, false);
		bpf_program__set_autoload(p->l7->progs.ssl_exit, false);
	}
	if (r == 0)
		r = l7_bpf__load(p->l7);
	if (r < 0)
		return errfmt(r, err, len,
		              "loading l7.bpf.o: %s (run with -v for the verifier log)",
		              strerror(-r));
	return 0;
}

int programs_load(struct programs *p, const struct program_config *c, char *err, size_t len)
{
	int r = load_proc(p, c, err, len);

	if (r == 0 && c->o->l7)
		r = load_l7(p, c, err, len);
	return r;
}

/* Freeze @fd and prove it: a syscall-side write must now fail. */
static int freeze(int fd, const char *name, const void *key, const void *value, char *err,
                  size_t len)
{
	int r = bpf_map_freeze(fd);

	if (r < 0)
		return errfmt(r, err, len, "freezing map %s: %s", name, strerror(-r));
	if (bpf_map_update_elem(fd, key, value, BPF_ANY) != -EPERM)
		return errfmt(-EPERM, err, len, "map %s accepted a write after BPF_MAP_FREEZE",
		              name);
	return 0;
}

static int fill_l7(struct programs *p, const struct loader_opts *o, char *err, size_t len)
{
	int pfd = bpf_map__fd(p->l7->maps.scope_ports), cfd = bpf_map__fd(p->l7->maps.scope_comms);
	struct {
		char comm[L7_COMM_LEN];
	} key;
	__u16 probe_port = 0;
	__u8 one = 1;
	int r = 0;

	for (size_t i = 0; r == 0 && i < o->nports; i++)
		r = bpf_map_update_elem(pfd, &o->ports[i], &one, BPF_NOEXIST);
	for (size_t i = 0; r == 0 && i < o->ncomms; i++) {
		memset(&key, 0, sizeof(key));
		strncpy(key.comm, o->comms[i], sizeof(key.comm) - 1);
		r = bpf_map_update_elem(cfd, &key, &one, BPF_NOEXIST);
	}
	if (r < 0)
		return errfmt(r, err, len, "filling --port/--comm maps: %s", strerror(-r));
	memset(&key, 0, sizeof(key));
	r = freeze(pfd, "scope_ports", &probe_port, &one, err, len);
	return r ? r : freeze(cfd, "scope_comms", &key, &one, err, len);
}

/*
 * No process, this one included, can widen the scope afterwards; the
 * counters are frozen so the processor can only ever map them read-only.
 */
int programs_freeze(struct programs *p, const struct program_config *c, char *err, size_t len)
{
	int fd = bpf_map__fd(p->proc->maps.scope_cgroups);
	__u64 probe = ~0ull, zero = 0;
	__u32 slot = 0;
	__u8 one = 1;
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->o->ncgroups; i++)
		r = bpf_map_update_elem(fd, &c->cgroup_ids[i], &one, BPF_NOEXIST);
	if (r < 0)
		return errfmt(r, err, len, "filling scope map: %s", strerror(-r));
	r = freeze(fd, "scope_cgroups", &probe, &one, err, len);
	if (r == 0)
		r = freeze(bpf_map__fd(p->proc->maps.stats), "stats", &slot, &zero, err, len);
	if (r == 0 && p->l7)
		r = fill_l7(p, c->o, err, len);
	return r;
}

static int keep_link(struct programs *p, struct bpf_link *link, const char *name, char *err,
                     size_t len)
{
	if (!link)
		return errfmt(-errno, err, len, "attaching %s: %s", name, strerror(errno));
	if (p->nlinks == PINS_MAX)
		return errfmt(-ENOSPC, err, len, "more than %d links", PINS_MAX);
	p->links[p->nlinks] = link;
	snprintf(p->link_names[p->nlinks], PIN_NAME_MAX, "link_%s", name);
	p->nlinks++;
	return 0;
}

/* The four cgroup hooks on one cgroup directory (index @i in the scope). */
static int attach_cgroup(struct programs *p, const char *path, size_t i, char *err, size_t len)
{
	struct bpf_program *progs[] = { p->l7->progs.cgroup_sock_create, p->l7->progs.sock_ops,
		                        p->l7->progs.cgroup_skb_egress,
		                        p->l7->progs.cgroup_skb_ingress };
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return errfmt(-errno, err, len, "opening cgroup %s: %s", path, strerror(errno));
	for (size_t k = 0; r == 0 && k < sizeof(progs) / sizeof(progs[0]); k++) {
		char name[PIN_NAME_MAX];

		snprintf(name, sizeof(name), "cg%zu_%s", i, bpf_program__name(progs[k]));
		r = keep_link(p, bpf_program__attach_cgroup(progs[k], fd), name, err, len);
	}
	close(fd);
	return r;
}

static const char *const tls_funcs[] = { "SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex" };

/* Entry and return probes of one function; a missing symbol is a warning. */
static int attach_tls_func(struct programs *p, const char *lib, size_t i, size_t f, char *err,
                           size_t len)
{
	struct bpf_program *enter[] = { p->l7->progs.ssl_write_enter,
		                        p->l7->progs.ssl_write_ex_enter,
		                        p->l7->progs.ssl_read_enter,
		                        p->l7->progs.ssl_read_ex_enter };
	LIBBPF_OPTS(bpf_uprobe_multi_opts, ent);
	LIBBPF_OPTS(bpf_uprobe_multi_opts, ret, .retprobe = true);
	struct bpf_link *l1, *l2;
	char name[PIN_NAME_MAX];
	int r;

	/* A function pattern, not syms: libbpf 1.4 cannot resolve versioned
	 * names such as SSL_write@@OPENSSL_3.0.0 through syms. */
	l1 = bpf_program__attach_uprobe_multi(enter[f], -1, lib, tls_funcs[f], &ent);
	if (!l1) {
		log_warn("TLS: %s: no %s to probe (%s)\n", lib, tls_funcs[f], strerror(errno));
		return 0;
	}
	snprintf(name, sizeof(name), "tls%zu_%s", i, tls_funcs[f]);
	r = keep_link(p, l1, name, err, len);
	if (r < 0)
		return r;
	l2 = bpf_program__attach_uprobe_multi(p->l7->progs.ssl_exit, -1, lib, tls_funcs[f], &ret);
	snprintf(name, sizeof(name), "tls%zu_%s_ret", i, tls_funcs[f]);
	return keep_link(p, l2, name, err, len);
}

static int attach_tls(struct programs *p, const struct tls_libs *t, char *err, size_t len)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < t->n; i++) {
		for (size_t f = 0; r == 0 && f < sizeof(tls_funcs) / sizeof(tls_funcs[0]); f++)
			r = attach_tls_func(p, t->path[i], i, f, err, len);
		if (r == 0)
			log_info("TLS: probing %s (uprobe_multi)\n", t->path[i]);
	}
	return r;
}

int programs_attach(struct programs *p, const struct program_config *c, char *err, size_t len)
{
	const struct loader_opts *o = c->o;
	int r;

	r = keep_link(p, bpf_program__attach(p->proc->progs.sched_process_exec),
	              "sched_process_exec", err, len);
	if (r == 0)
		r = keep_link(p, bpf_program__attach(p->proc->progs.sched_process_exit),
		              "sched_process_exit", err, len);
	if (r < 0 || !p->l7)
		return r;
	if (o->system_wide)
		r = attach_cgroup(p, c->cgroup_root, 0, err, len);
	for (size_t i = 0; r == 0 && i < o->ncgroups; i++)
		r = attach_cgroup(p, o->cgroups[i], i, err, len);
	if (r == 0 && o->tls)
		r = attach_tls(p, c->tls, err, len);
	return r;
}

static int pin_map(struct pin_dir *d, struct bpf_map *map, const char *name, char *err, size_t len)
{
	char path[PIN_NAME_MAX + sizeof(d->path)];
	int r = pins_path(d, name, path, sizeof(path));

	if (r == 0)
		r = bpf_map__pin(map, path);
	if (r == 0)
		r = pins_add(d, name);
	return r ? errfmt(r, err, len, "pinning %s: %s", path, strerror(-r)) : 0;
}

int programs_pin(struct programs *p, struct pin_dir *d, char *err, size_t len)
{
	char path[PIN_NAME_MAX + sizeof(d->path)];
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->nlinks; i++) {
		r = pins_path(d, p->link_names[i], path, sizeof(path));
		if (r == 0)
			r = bpf_link__pin(p->links[i], path);
		if (r == 0)
			r = pins_add(d, p->link_names[i]);
		if (r < 0)
			return errfmt(r, err, len, "pinning %s: %s", path, strerror(-r));
	}
	r = pin_map(d, p->proc->maps.scope_cgroups, "scope_cgroups", err, len);
	if (r == 0)
		r = pin_map(d, p->proc->maps.stats, "stats", err, len);
	if (r == 0)
		r = pin_map(d, p->proc->maps.events_security, "events_security", err, len);
	if (r == 0 && p->l7)
		r = pin_map(d, p->l7->maps.events_l7, "events_l7", err, len);
	if (r == 0 && p->l7)
		r = pin_map(d, p->l7->maps.rodata, "l7_rodata", err, len);
	/* Last: its presence tells a later loader the set is complete. */
	return r ? r : pin_map(d, p->proc->maps.rodata, PIN_COMPLETE, err, len);
}

int programs_check_reuse(const struct pin_dir *d, const struct program_config *c, char *err,
                         size_t len)
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	char path[PIN_NAME_MAX + sizeof(d->path)];
	struct proc_bpf__rodata pinned;
	__u32 zero = 0;
	int fd, r;

	pins_path(d, PIN_COMPLETE, path, sizeof(path));
	fd = bpf_obj_get_opts(path, &ro);
	if (fd < 0)
		return errfmt(-errno, err, len, "opening %s: %s", path, strerror(errno));
	r = bpf_map_lookup_elem(fd, &zero, &pinned);
	close(fd);
	if (r < 0)
		return errfmt(r, err, len, "reading %s: %s", path, strerror(-r));
	if (memcmp((const void *)pinned.object_sha256, c->digest, sizeof(c->digest)) != 0)
		return errfmt(-ESTALE, err, len, "the pins were made by a different eBPF object");
	if (pinned.config_fingerprint != c->fingerprint)
		return errfmt(-ESTALE, err, len,
		              "the pins were made with another configuration (scope, --port, "
		              "--comm, --capture-bytes, ring-buffer sizes or L7/TLS switches)");
	return 0;
}

void programs_close(struct programs *p)
{
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]); /* a pinned link stays attached */
	p->nlinks = 0;
	l7_bpf__destroy(p->l7);
	proc_bpf__destroy(p->proc);
	p->l7 = NULL;
	p->proc = NULL;
}
