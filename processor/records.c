// SPDX-License-Identifier: Apache-2.0
#include <stdbool.h>
#include <string.h>

#include "processor/events.h"
#include "processor/l7events.h"
#include "processor/records.h"
#include "processor/text.h"

#define NS_DIGITS 9

static const char *const status_names[] = {
	[TXN_OK] = "ok",
	[TXN_ERROR] = "error",
	[TXN_NO_RESPONSE] = "no_response",
};

static const char *const role_names[] = {
	[L7_ROLE_UNKNOWN] = "unknown",
	[L7_ROLE_CLIENT] = "client",
	[L7_ROLE_SERVER] = "server",
};

/* A bounded writer: once full, it stays full and the record is dropped. */
struct w {
	char *p;
	size_t n, cap;
	bool full;
};

static inline void raw(struct w *w, const char *s, size_t n)
{
	if (__builtin_expect(w->full || n > w->cap - w->n, 0)) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

/* A string literal, length known at compile time. */
#define LIT(w, s) raw((w), (s), sizeof(s) - 1)

/* Bytes that cannot appear raw inside a JSON string. */
static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* @s is valid UTF-8 (untrusted text through text_utf8): escape what JSON requires. */
static void str(struct w *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	LIT(w, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (__builtin_expect(!needs_escape(c), 1))
			continue;
		raw(w, s + start, i - start);
		start = i + 1;
		if (c == '"' || c == '\\') {
			raw(w, (const char[]){ '\\', (char)c }, 2);
		} else if (c == '\n') {
			LIT(w, "\\n");
		} else {
			const char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			raw(w, esc, sizeof(esc));
		}
	}
	raw(w, s + start, n - start);
	LIT(w, "\"");
}

static void num(struct w *w, int64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		d[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		d[--i] = '-';
	raw(w, d + i, sizeof(d) - i);
}

/*
 * ,"key": -- keys and the fixed values below (names from tables, endpoints
 * this file formats) are our own ASCII without quotes or backslashes: no
 * escaping. Only captured text goes through str().
 */
static void key(struct w *w, const char *k, bool first)
{
	if (!first)
		LIT(w, ",");
	LIT(w, "\"");
	raw(w, k, strlen(k));
	LIT(w, "\":");
}

static void kv_own(struct w *w, const char *k, const char *v)
{
	key(w, k, false);
	LIT(w, "\"");
	raw(w, v, strlen(v));
	LIT(w, "\"");
}

static void kv_num(struct w *w, const char *k, int64_t v)
{
	key(w, k, false);
	num(w, v);
}

void records_format_time(int64_t real_ns, char out[RECORDS_TIME_LEN])
{
	static int64_t cached_sec = INT64_MIN;
	static char prefix[32]; /* "YYYY-MM-DDTHH:MM:SS." */
	int64_t sec = real_ns / 1000000000, ns = real_ns % 1000000000;

	if (ns < 0)
		sec--, ns += 1000000000;
	if (sec != cached_sec) {
		char full[64];

		events_format_time(sec * 1000000000, full, sizeof(full));
		if (strlen(full) != 30) { /* a year outside 0000-9999: no fast path */
			events_format_time(real_ns, out, RECORDS_TIME_LEN);
			return;
		}
		memcpy(prefix, full, 20);
		cached_sec = sec;
	}
	memcpy(out, prefix, 20);
	for (int i = NS_DIGITS - 1; i >= 0; i--, ns /= 10)
		out[20 + i] = (char)('0' + ns % 10);
	out[29] = 'Z';
	out[30] = '\0';
}

static void put_attrs(struct w *w, const struct scrubbed *sc)
{
	bool first = true, any_cut = false;

	key(w, "attributes", false);
	LIT(w, "{");
	for (uint32_t i = 0; i < sc->n && i < SCRUB_TXN_ATTRS; i++) {
		const struct scrub_attr *x = &sc->a[i];

		key(w, x->key, first);
		first = false;
		if (x->type == TXN_INT) {
			num(w, x->num);
			continue;
		}
		str(w, x->str, x->len);
		any_cut |= x->truncated;
	}
	LIT(w, "}");
	if (!any_cut)
		return;
	first = true;
	key(w, "truncated", false);
	LIT(w, "[");
	for (uint32_t i = 0; i < sc->n && i < SCRUB_TXN_ATTRS; i++) {
		const struct scrub_attr *x = &sc->a[i];

		if (!x->truncated || x->type != TXN_STR)
			continue;
		if (!first)
			LIT(w, ",");
		LIT(w, "\"");
		raw(w, x->key, strlen(x->key));
		LIT(w, "\"");
		first = false;
	}
	LIT(w, "]");
}

static void put_conn(struct w *w, const struct conn *c, struct scrubber *scr)
{
	const struct conn_meta *m = &c->meta;
	bool tls = c->cookie & CONNTRACK_TLS_KEY;
	uint64_t id = tls ? m->link : c->cookie;
	enum proto_role pr = c->sess.role;
	unsigned role = pr == PROTO_ROLE_CLIENT   ? L7_ROLE_CLIENT
	                : pr == PROTO_ROLE_SERVER ? L7_ROLE_SERVER
	                                          : L7_ROLE_UNKNOWN;
	char l[64], r[64], comm[L7_COMM_LEN * DETECT_MARKER_MAX + 1];
	long n;

	if (id)
		kv_num(w, "conn_id", (int64_t)(id & INT64_MAX));
	key(w, "tls", false);
	if (tls)
		LIT(w, "true");
	else
		LIT(w, "false");
	kv_own(w, "role", role_names[role]);
	kv_num(w, "cgroup_id", (int64_t)(m->cgroup_id & INT64_MAX));
	if (m->pid) {
		kv_num(w, "pid", m->pid);
		n = scrubber_text(scr, m->comm, strnlen(m->comm, sizeof(m->comm)), comm,
		                  sizeof(comm));
		if (n >= 0) {
			key(w, "comm", false);
			str(w, comm, (size_t)n);
		}
	}
	if (m->have_endpoints) {
		kv_own(w, "local", m->local);
		kv_own(w, "remote", m->remote);
	} else if (m->have_tuple && l7_endpoint(&m->tuple, true, l, sizeof(l)) == 0 &&
	           l7_endpoint(&m->tuple, false, r, sizeof(r)) == 0) {
		kv_own(w, "local", l);
		kv_own(w, "remote", r);
	}
}

size_t records_txn(const struct l7_txn *t, const struct scrubbed *sc, struct scrubber *scr,
                   const struct conn *c, int64_t boot_to_real_ns, struct records_stats *st,
                   char *buf, size_t cap)
{
	struct w w = { buf, 0, cap, false };
	char when[RECORDS_TIME_LEN];

	records_format_time((int64_t)(t->start_ns + (uint64_t)boot_to_real_ns), when);
	LIT(&w, "{\"kind\":\"request\"");
	kv_own(&w, "time", when);
	kv_num(&w, "duration_ns", t->end_ns > t->start_ns ? (int64_t)(t->end_ns - t->start_ns) : 0);
	kv_own(&w, "protocol", proto_name(t->proto));
	kv_own(&w, "status", status_names[t->status <= TXN_NO_RESPONSE ? t->status : TXN_ERROR]);
	put_conn(&w, c, scr);
	put_attrs(&w, sc);
	LIT(&w, "}\n");
	if (w.full) {
		st->too_long++;
		return 0;
	}
	st->written++;
	return w.n;
}
