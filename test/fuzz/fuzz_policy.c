// SPDX-License-Identifier: Apache-2.0
/*
 * The policy loader and its gate. Two modes, by the first input byte:
 *
 *   anything but 0x01: the whole input is policy JSON for
 *       policy_load_string(). A failure leaves the policy untouched and
 *       explains itself in printable ASCII, prefixed by the name, and a
 *       short error buffer gets a prefix of the same message. A success
 *       passes policy_check(), dumps to JSON that reloads to a byte-equal
 *       policy and dumps to the same text again, and every lookup agrees
 *       with the rules (credentials never ACT_KEEP, ACT_HASH has a key).
 *
 *   0x01: the defaults edited field by field, as a struct mangled in
 *       memory would be. Records of 7 bytes: u8 op (taken mod OP_COUNT),
 *       u8 index, u8 byte index, u32 value. Whatever policy_check() accepts
 *       must dump without failing, reload equal (unless a key file is
 *       named: it is not on disk) and answer lookups as above; whatever it
 *       refuses must not dump.
 *
 * A key file named by the JSON is opened read-only like any config would;
 * the loader refuses non-regular and too-open files before reading.
 */
#include <errno.h>
#include <stdbool.h>

#include "processor/policy.h"
#include "test/fuzz/fuzz.h"

#define ERR_MAX      512
#define NAME         "fuzz"
#define MODE_STRUCT  0x01
#define REC_LEN      7
#define SHORT_ERR    40 /* short error buffers: 1..SHORT_ERR bytes */
#define HASH_OUT_MAX (POLICY_HASH_LEN_MAX + 1)

enum op {
	OP_N_ATTRS,
	OP_ATTR_ACTION,
	OP_ATTR_LEN,
	OP_ATTR_NAME,
	OP_N_HEADERS,
	OP_HEADER_ACTION,
	OP_HEADER_NAME,
	OP_N_ROUTES,
	OP_ROUTE,
	OP_N_QUERY,
	OP_QUERY,
	OP_HASH_LEN,
	OP_KEY_LEN,
	OP_KEY_FILE,
	OP_UNMATCHED,
	OP_ARGS,
	OP_DETECTOR,
	OP_FLAGS,
	OP_COUNT,
};

/* Lookups agree with the rules; no credential leaves raw. */
static void check_lookups(const struct policy *p)
{
	char out[HASH_OUT_MAX];

	for (uint32_t i = 0; i < p->n_attrs; i++) {
		const struct policy_attr *a = &p->attrs[i];
		uint32_t len = 1;

		FUZZ_CHECK(policy_attr_action(p, a->name, &len) == a->action);
		FUZZ_CHECK(len == (a->action == ACT_TRUNCATE ? a->truncate_len : 0));
		if (a->action == ACT_KEEP || a->action == ACT_TRUNCATE)
			FUZZ_CHECK(!policy_name_sensitive(a->name, strlen(a->name)));
		if (a->action == ACT_HASH)
			FUZZ_CHECK(p->hash_key_len >= POLICY_HASH_KEY_MIN);
	}
	for (uint32_t i = 0; i < p->n_headers; i++) {
		const struct policy_header *h = &p->headers[i];
		enum attr_action a = policy_header_action(p, h->name);

		FUZZ_CHECK(a == h->action && a != ACT_TRUNCATE);
		if (a == ACT_KEEP)
			FUZZ_CHECK(!policy_name_sensitive(h->name, strlen(h->name)));
	}
	FUZZ_CHECK(policy_header_action(p, "Authorization") != ACT_KEEP);
	FUZZ_CHECK(policy_header_action(p, "Cookie") != ACT_KEEP);
	for (uint32_t i = 0; i < p->n_query_keep; i++)
		FUZZ_CHECK(!policy_name_sensitive(p->query_keep[i], strlen(p->query_keep[i])));
	if (p->hash_key_len)
		FUZZ_CHECK(policy_hash(p, "x", 1, out, sizeof(out)) == (int)p->hash_len &&
		           strlen(out) == p->hash_len);
	else
		FUZZ_CHECK(policy_hash(p, "x", 1, out, sizeof(out)) == -ENOKEY);
}

/* Dump, reload (when no key file must be read), dump again: all equal. */
static void check_round_trip(const struct policy *p, bool reload)
{
	struct policy *q = malloc(sizeof(*q));
	char err[ERR_MAX], *a = policy_dump_json(p), *b;

	FUZZ_CHECK(q != NULL && a != NULL);
	policy_defaults(q);
	if (reload) {
		FUZZ_CHECK(policy_load_string(q, a, NAME, err, sizeof(err)) == 0);
		FUZZ_CHECK(memcmp(p, q, sizeof(*p)) == 0);
		b = policy_dump_json(q);
		FUZZ_CHECK(b != NULL && strcmp(a, b) == 0);
		free(b);
	}
	free(a);
	free(q);
}

static void check_message(const char *err)
{
	FUZZ_CHECK(strncmp(err, NAME ": ", strlen(NAME ": ")) == 0);
	for (const char *c = err; *c; c++)
		FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
}

static void fuzz_json(const uint8_t *data, size_t size)
{
	struct policy *p = malloc(sizeof(*p)), *before = malloc(sizeof(*p));
	char *json = malloc(size + 1), err[ERR_MAX], small[SHORT_ERR + 1];
	size_t cap = 1 + size % SHORT_ERR;
	int r;

	FUZZ_CHECK(p && before && json);
	memcpy(json, data, size); /* exactly sized but for the NUL the API needs */
	json[size] = '\0';
	policy_defaults(p);
	p->hash_len = POLICY_HASH_LEN_MAX; /* not the defaults, to see any write */
	memcpy(before, p, sizeof(*p));
	r = policy_load_string(p, json, NAME, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		FUZZ_CHECK(err[0] == '\0' && policy_check(p, NULL, 0) == 0);
		check_lookups(p);
		check_round_trip(p, true);
	} else {
		FUZZ_CHECK(memcmp(p, before, sizeof(*p)) == 0);
		check_message(err);
		memset(small, 0x5a, sizeof(small));
		FUZZ_CHECK(policy_load_string(p, json, NAME, small, cap) == r);
		FUZZ_CHECK(small[cap] == 0x5a && strlen(small) < cap);
		FUZZ_CHECK(strncmp(small, err, strlen(small)) == 0);
	}
	free(json);
	free(before);
	free(p);
}

static void apply(struct policy *p, enum op op, uint8_t i, uint8_t j, uint32_t v)
{
	switch (op) {
	case OP_N_ATTRS:
		p->n_attrs = v % (POLICY_ATTR_MAX + 2);
		break;
	case OP_ATTR_ACTION:
		p->attrs[i % POLICY_ATTR_MAX].action = (enum attr_action)(v % 6);
		break;
	case OP_ATTR_LEN:
		p->attrs[i % POLICY_ATTR_MAX].truncate_len = v % 5000;
		break;
	case OP_ATTR_NAME:
		p->attrs[i % POLICY_ATTR_MAX].name[j % POLICY_NAME_MAX] = (char)v;
		break;
	case OP_N_HEADERS:
		p->n_headers = v % (POLICY_HEADER_MAX + 2);
		break;
	case OP_HEADER_ACTION:
		p->headers[i % POLICY_HEADER_MAX].action = (enum attr_action)(v % 6);
		break;
	case OP_HEADER_NAME:
		p->headers[i % POLICY_HEADER_MAX].name[j % POLICY_NAME_MAX] = (char)v;
		break;
	case OP_N_ROUTES:
		p->n_routes = v % (POLICY_ROUTE_MAX + 2);
		break;
	case OP_ROUTE:
		p->routes[i][(v >> 8) % POLICY_ROUTE_LEN_MAX] = (char)v;
		break;
	case OP_N_QUERY:
		p->n_query_keep = v % (POLICY_QUERY_KEEP_MAX + 2);
		break;
	case OP_QUERY:
		p->query_keep[i % POLICY_QUERY_KEEP_MAX][j % POLICY_QUERY_NAME_MAX] = (char)v;
		break;
	case OP_HASH_LEN:
		p->hash_len = v % (POLICY_HASH_LEN_MAX + 2);
		break;
	case OP_KEY_LEN:
		p->hash_key_len = v % (POLICY_HASH_KEY_MAX + 2);
		break;
	case OP_KEY_FILE:
		p->hash_key_file[(v >> 8) % POLICY_KEY_PATH_MAX] = (char)v;
		break;
	case OP_UNMATCHED:
		p->routes_unmatched = (enum policy_routes_unmatched)(v % 3);
		break;
	case OP_ARGS:
		p->process_args = (enum policy_process_args)(v % 3);
		break;
	case OP_DETECTOR:
		p->detectors[i % POLICY_DETECTORS] = v & 1;
		break;
	case OP_FLAGS:
		p->sql_enabled = v & 1;
		p->sql_drop_unparseable = v & 2;
		p->redis_key_pattern = v & 4;
		break;
	case OP_COUNT:
		break;
	}
}

static void fuzz_struct(const uint8_t *data, size_t size)
{
	struct policy *p = malloc(sizeof(*p));
	char err[ERR_MAX], *dump;

	FUZZ_CHECK(p != NULL);
	policy_defaults(p);
	for (size_t k = 1; k + REC_LEN <= size; k += REC_LEN) {
		uint32_t v;

		memcpy(&v, data + k + 3, sizeof(v));
		apply(p, (enum op)(data[k] % OP_COUNT), data[k + 1], data[k + 2], v);
	}
	memset(err, 0x5a, sizeof(err));
	if (policy_check(p, err, sizeof(err)) == 0) {
		check_lookups(p);
		check_round_trip(p, p->hash_key_len == 0);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
		dump = policy_dump_json(p);
		FUZZ_CHECK(dump == NULL);
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == MODE_STRUCT)
		fuzz_struct(data, size);
	else
		fuzz_json(data, size);
	return 0;
}
