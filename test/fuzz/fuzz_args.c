// SPDX-License-Identifier: Apache-2.0
/*
 * loader_parse_args() on an argv made of the input split at NUL bytes (each
 * argument its own exactly-sized heap string). Parsing twice must give the
 * same answer, since getopt keeps state between calls; a success must leave
 * a scope and counts within their limits, a failure a reason.
 */
#include <errno.h>

#include "loader/args.h"
#include "test/fuzz/fuzz.h"

#define ARGS_MAX 64 /* arguments after argv[0] */
#define ERR_LEN  256

/* Field by field: the struct has padding. */
static void check_same(const struct loader_opts *a, const struct loader_opts *b)
{
	FUZZ_CHECK(a->ncgroups == b->ncgroups && a->nports == b->nports && a->ncomms == b->ncomms &&
	           a->ntls_libs == b->ntls_libs);
	FUZZ_CHECK(memcmp(a->cgroups, b->cgroups, sizeof(a->cgroups)) == 0);
	FUZZ_CHECK(memcmp(a->ports, b->ports, sizeof(a->ports)) == 0);
	FUZZ_CHECK(memcmp(a->comms, b->comms, sizeof(a->comms)) == 0);
	FUZZ_CHECK(memcmp(a->tls_libs, b->tls_libs, sizeof(a->tls_libs)) == 0);
	FUZZ_CHECK(a->system_wide == b->system_wide && a->keep_pins == b->keep_pins &&
	           a->verbose == b->verbose && a->l7 == b->l7 && a->tls == b->tls);
	FUZZ_CHECK(a->pin_dir == b->pin_dir && a->user == b->user && a->processor == b->processor);
	FUZZ_CHECK(a->ringbuf_security == b->ringbuf_security && a->ringbuf_l7 == b->ringbuf_l7 &&
	           a->capture_bytes == b->capture_bytes);
	FUZZ_CHECK(a->processor_argv == b->processor_argv &&
	           a->processor_argc == b->processor_argc);
}

static void check_ok(const struct loader_opts *o, int argc, char **argv)
{
	FUZZ_CHECK(o->system_wide != (o->ncgroups > 0));
	FUZZ_CHECK(o->ncgroups <= LOADER_CGROUPS_MAX && o->nports <= LOADER_PORTS_MAX &&
	           o->ncomms <= LOADER_COMMS_MAX && o->ntls_libs <= LOADER_TLS_LIBS_MAX);
	FUZZ_CHECK(o->capture_bytes >= 1 && o->capture_bytes <= LOADER_CAPTURE_MAX);
	FUZZ_CHECK(o->processor_argc >= 0 && o->processor_argc < argc);
	FUZZ_CHECK(o->processor_argv == argv + (argc - o->processor_argc));
	FUZZ_CHECK(o->processor_argv[o->processor_argc] == NULL);
	for (size_t i = 0; i < o->ncgroups; i++)
		FUZZ_CHECK(o->cgroups[i][0] == '/');
	for (size_t i = 0; i < o->nports; i++)
		FUZZ_CHECK(o->ports[i] != 0);
}

static int split(const uint8_t *data, size_t size, char **argv)
{
	int argc = 0;
	size_t i = 0;

	argv[argc++] = fuzz_dup("bpfwarden-loader", sizeof("bpfwarden-loader"));
	while (i < size && argc <= ARGS_MAX) {
		const uint8_t *nul = memchr(data + i, '\0', size - i);
		size_t n = nul ? (size_t)(nul - (data + i)) : size - i;
		char *a = malloc(n + 1);

		FUZZ_CHECK(a != NULL);
		memcpy(a, data + i, n);
		a[n] = '\0';
		argv[argc++] = a;
		i += n + 1;
	}
	argv[argc] = NULL;
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[ARGS_MAX + 2], *saved[ARGS_MAX + 2];
	char err1[ERR_LEN], err2[ERR_LEN];
	struct loader_opts o1, o2;
	int argc = split(data, size, argv), r1, r2;

	memcpy(saved, argv, sizeof(argv));
	r1 = loader_parse_args(argc, argv, &o1, err1, sizeof(err1));
	r2 = loader_parse_args(argc, argv, &o2, err2, sizeof(err2));
	FUZZ_CHECK(memcmp(saved, argv, (size_t)(argc + 1) * sizeof(argv[0])) == 0);
	FUZZ_CHECK(r1 == r2 && strcmp(err1, err2) == 0);
	FUZZ_CHECK(r1 == 0 || r1 == 1 || r1 == -EINVAL);
	FUZZ_CHECK(memchr(err1, '\0', sizeof(err1)) != NULL);
	if (r1 == -EINVAL)
		FUZZ_CHECK(err1[0] != '\0');
	check_same(&o1, &o2);
	if (r1 == 0)
		check_ok(&o1, argc, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
