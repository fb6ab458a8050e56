// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "bpf/proc.h"
#include "bpf/stats.h"
#include "processor/events.h"
#include "processor/scrub_txn.h"
#include "processor/text.h"

/* Kernel counter names, by enum stat_id: what an operator sees in "stats". */
static const char *const kstat_names[STAT_COUNT] = {
	[STAT_SEC_SUBMITTED] = "security_events_submitted",
	[STAT_SEC_DROP_RB_FULL] = "security_events_dropped_ringbuf_full",
	[STAT_EXEC_ARGS_TRUNCATED] = "exec_args_truncated",
	[STAT_EXEC_ARGS_FAULT] = "exec_args_unreadable",
	[STAT_EXEC_FILENAME_TRUNCATED] = "exec_filename_truncated",
	[STAT_EXEC_FILENAME_FAULT] = "exec_filename_unreadable",
	[STAT_OUT_OF_SCOPE] = "events_out_of_scope",
	[STAT_L7_SUBMITTED] = "l7_records_submitted",
	[STAT_L7_DROP_RB_FULL] = "l7_records_dropped_ringbuf_full",
	[STAT_L7_TRUNCATED] = "l7_payload_truncated",
	[STAT_L7_DROP_MAP_FULL] = "l7_state_dropped_map_full",
	[STAT_L7_FILTERED] = "l7_filtered_port_comm",
	[STAT_L7_NOT_TCP] = "l7_packets_not_tcp",
	[STAT_TLS_DROP_RB_FULL] = "tls_records_dropped_ringbuf_full",
	[STAT_TLS_OUT_OF_SCOPE] = "tls_calls_out_of_scope",
};

/* Largest scrubbed, UTF-8-sanitised argument: 3 output bytes per input byte. */
#define ARG_OUT_MAX (3 * PROC_ARGS_MAX + sizeof(SCRUB_MARK))

void events_format_time(int64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000);
	long nsec = (long)(real_ns % 1000000000);
	struct tm tm;

	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	/* snprintf, not strftime: strftime may read time-zone files, which
	 * the sandbox forbids. */
	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static struct scrubber *scrubber_of(struct events_ctx *ctx)
{
	return ctx->scrubber ? ctx->scrubber : scrubber_default();
}

/*
 * A kernel string or an argument (@max bytes, up to its first NUL):
 * sanitised to UTF-8 and through the detectors. NULL (the record fails)
 * when the scrubber cannot vouch for it.
 */
static json_t *kstring(struct events_ctx *ctx, const char *s, size_t max)
{
	static char out[ARG_OUT_MAX * DETECT_MARKER_MAX];
	struct scrubber *sc = scrubber_of(ctx);

	if (!sc || scrubber_text(sc, s, strnlen(s, max), out, sizeof(out)) < 0)
		return NULL;
	return json_string(out);
}

/* Kernel timestamps are untrusted: wrap in unsigned arithmetic, never overflow signed. */
static int64_t to_real(const struct events_ctx *ctx, __u64 boot_ns)
{
	return (int64_t)(boot_ns + (uint64_t)ctx->boot_to_real_ns);
}

static int put_hdr(struct events_ctx *ctx, const struct proc_hdr *h, json_t *o, const char *kind)
{
	char when[64];
	int r = 0;

	events_format_time(to_real(ctx, h->ts_boot_ns), when, sizeof(when));
	r |= set_new(o, "kind", json_string(kind));
	r |= set_new(o, "time", json_string(when));
	r |= set_new(o, "pid", json_integer(h->pid));
	r |= set_new(o, "tid", json_integer(h->tid));
	r |= set_new(o, "ppid", json_integer(h->ppid));
	r |= set_new(o, "uid", json_integer(h->uid));
	r |= set_new(o, "gid", json_integer(h->gid));
	r |= set_new(o, "cgroup_id", json_integer((json_int_t)h->cgroup_id));
	r |= set_new(o, "comm", kstring(ctx, h->comm, sizeof(h->comm)));
	events_format_time(to_real(ctx, h->start_boot_ns), when, sizeof(when));
	r |= set_new(o, "process_start_time", json_string(when));
	return r ? -ENOMEM : 0;
}

/* argv, NUL-separated, each argument scrubbed before it is stored. */
static json_t *args_json(struct events_ctx *ctx, const char *args, size_t len)
{
	static char utf8[ARG_OUT_MAX], scrubbed[ARG_OUT_MAX];
	json_t *a = json_array();
	bool secret_next = false;
	size_t i = 0;

	while (a && i < len) {
		size_t n = strnlen(args + i, len - i);

		text_utf8(args + i, n, utf8, sizeof(utf8));
		scrub_arg(utf8, scrubbed, sizeof(scrubbed), &secret_next, &ctx->scrub);
		if (json_array_append_new(a, kstring(ctx, scrubbed, sizeof(scrubbed))) < 0) {
			json_decref(a);
			return NULL;
		}
		i += n + 1;
	}
	return a;
}

static int put_exec(struct events_ctx *ctx, const struct proc_exec *e, json_t *o)
{
	int r = 0;

	if (e->filename_len >= PROC_FILENAME_MAX || e->args_len > PROC_ARGS_MAX)
		return -EBADMSG;
	r |= set_new(o, "filename", kstring(ctx, e->filename, e->filename_len));
	if (scrubber_of(ctx) && scrubber_of(ctx)->pol->process_args == ARGS_DROP)
		r |= set_new(o, "args_dropped", json_true()); /* the policy exports no arguments */
	else
		r |= set_new(o, "args", args_json(ctx, e->args, e->args_len));
	r |= set_new(o, "args_truncated", json_boolean(e->hdr.flags & PROC_F_ARGS_TRUNCATED));
	if (e->hdr.flags & PROC_F_ARGS_FAULT)
		r |= set_new(o, "args_unreadable", json_true());
	if (e->hdr.flags & PROC_F_FILENAME_TRUNCATED)
		r |= set_new(o, "filename_truncated", json_true());
	return r ? -ENOMEM : 0;
}

static int put_exit(const struct proc_hdr *h, json_t *o)
{
	int status = h->exit_code;
	int r = 0;

	/* The kernel's wait status: exit code in bits 8-15, signal in 0-6. */
	r |= set_new(o, "exit_code", json_integer((status >> 8) & 0xff));
	r |= set_new(o, "exit_signal", json_integer(status & 0x7f));
	if (h->ts_boot_ns >= h->start_boot_ns)
		r |= set_new(o, "duration_ns",
		             json_integer((json_int_t)(h->ts_boot_ns - h->start_boot_ns)));
	return r ? -ENOMEM : 0;
}

static int check_record(const void *rec, uint32_t len, struct proc_hdr *h)
{
	if (len < sizeof(*h))
		return -EBADMSG;
	memcpy(h, rec, sizeof(*h));
	if (h->kind == PROC_EXEC && len == sizeof(struct proc_exec))
		return 0;
	if (h->kind == PROC_EXIT && len == sizeof(struct proc_hdr))
		return 0;
	return -EBADMSG;
}

int events_decode(struct events_ctx *ctx, const void *rec, uint32_t len, json_t **out)
{
	struct proc_hdr h;
	json_t *o = NULL;
	int r;

	*out = NULL;
	ctx->records++;
	r = check_record(rec, len, &h);
	if (r < 0)
		goto fail;
	o = json_object();
	if (!o)
		return -ENOMEM;
	r = put_hdr(ctx, &h, o, h.kind == PROC_EXEC ? "exec" : "exit");
	if (r == 0 && h.kind == PROC_EXEC)
		r = put_exec(ctx, rec, o);
	else if (r == 0)
		r = put_exit(&h, o);
	if (r < 0)
		goto fail;
	if (h.kind == PROC_EXEC)
		ctx->exec++;
	else
		ctx->exit++;
	*out = o;
	return 0;
fail:
	json_decref(o);
	if (r == -EBADMSG)
		ctx->malformed++;
	return r;
}

static json_t *kernel_stats(const volatile uint64_t *kstats, size_t nk)
{
	json_t *k = json_object();

	for (size_t i = 0; k && i < nk && i < STAT_COUNT; i++)
		if (json_object_set_new(k, kstat_names[i], json_integer((json_int_t)kstats[i])) < 0)
			return json_decref(k), NULL;
	return k;
}

static json_t *processor_stats(struct events_ctx *ctx)
{
	json_t *p =
	        json_pack("{s:I,s:I,s:I,s:I}", "records", (json_int_t)ctx->records, "exec_events",
	                  (json_int_t)ctx->exec, "exit_events", (json_int_t)ctx->exit,
	                  "records_malformed", (json_int_t)ctx->malformed);
	json_t *s = json_object();

	if (!p || !s) {
		json_decref(p);
		json_decref(s);
		return NULL;
	}
	for (int i = 0; i < SCRUB_RULES; i++)
		json_object_set_new(s, scrub_rule_names[i],
		                    json_integer((json_int_t)ctx->scrub.hits[i]));
	s = scrubber_stats_json(scrubber_of(ctx), s);
	if (s && json_object_set_new(p, "scrub", s) == 0)
		return p;
	json_decref(p);
	return NULL;
}

json_t *events_stats(struct events_ctx *ctx, const volatile uint64_t *kstats, size_t nk,
                     int64_t now_real_ns)
{
	char when[64];

	events_format_time(now_real_ns, when, sizeof(when));
	return json_pack("{s:s,s:s,s:o,s:o}", "kind", "stats", "time", when, "kernel",
	                 kernel_stats(kstats, nk), "processor", processor_stats(ctx));
}
