// SPDX-License-Identifier: Apache-2.0
/*
 * The byte-stream model of processor/proto.h, implemented once for every
 * parser: detection, carry buffers, skips, gap salvage, resync.
 *
 * Trust boundary: the bytes come from captured traffic. This file never
 * interprets them (detection and parsing are the parsers' job); it only
 * bounds what is kept (PROTO_CARRY_MAX per side, env->carry_budget in
 * total) and guarantees that a parser never sees bytes from before a gap
 * joined to bytes after it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "processor/session.h"

#define DIR_EGRESS      0 /* enum l7_dir, without pulling in bpf/l7.h */
#define CARRY_MIN       512
#define RESYNC_HOLD_MAX 64   /* bytes held while a parser cannot tell a message start yet */
#define TLS_REC_HS      0x16 /* TLS record types a stream may start with */
#define TLS_REC_DATA    0x17
#define TLS_REC_ALRT    0x15

/* Bytes the parser of a side was handed; the loop below stops on these. */
enum run_end {
	RUN_DONE,       /* every byte consumed or skipped */
	RUN_INCOMPLETE, /* the rest is an incomplete message */
	RUN_LOST,       /* desync or protocol switch: drop the rest */
};

static enum proto_side side_of(const struct session *s, unsigned dir)
{
	bool egress = dir == DIR_EGRESS;

	return (s->role == PROTO_ROLE_SERVER) == egress ? PROTO_RESP : PROTO_REQ;
}

static struct proto_io io_for(const struct session *s, struct session_env *env, uint64_t ts)
{
	return (struct proto_io){
		.ts_ns = ts,
		.role = s->role,
		.cnt = &env->cnt,
		.emit = env->emit,
		.emit_ctx = env->emit_ctx,
		.headers = env->headers,
	};
}

static uint64_t budget(const struct session_env *env)
{
	return env->carry_budget ? env->carry_budget : SESSION_CARRY_BUDGET;
}

static void carry_free(struct session_env *env, struct session_side *sd)
{
	env->carry_bytes -= sd->carry_cap;
	free(sd->carry);
	sd->carry = NULL;
	sd->carry_len = 0;
	sd->carry_cap = 0;
}

/* Make room for @need bytes in the carry; false when the limits say no. */
static bool carry_reserve(struct session_env *env, struct session_side *sd, size_t need)
{
	size_t want = CARRY_MIN;
	uint8_t *n;

	if (need > PROTO_CARRY_MAX)
		return false;
	if (need <= sd->carry_cap)
		return true;
	while (want < need)
		want *= 2;
	if (env->carry_bytes + want - sd->carry_cap > budget(env) ||
	    !(n = realloc(sd->carry, want)))
		return false;
	env->carry_bytes += want - sd->carry_cap;
	sd->carry = n;
	sd->carry_cap = (uint32_t)want;
	return true;
}

static const struct proto_parser *const *parsers(const struct session_env *env)
{
	return env->table ? env->table : proto_table;
}

static void release_parser(struct session *s, struct session_env *env)
{
	struct proto_io io = io_for(s, env, 0);

	if (!s->parser)
		return;
	s->parser->close(s->st, &io);
	if (s->parser->fini)
		s->parser->fini(s->st);
	free(s->st);
	s->st = NULL;
	s->parser = NULL;
}

/* From now on the connection is @id; the parser (if any) settles and goes. */
static void become(struct session *s, struct session_env *env, enum proto_id id)
{
	release_parser(s, env);
	s->proto = id;
	for (int d = 0; d < 2; d++) {
		carry_free(env, &s->side[d]);
		s->side[d].skip = 0;
		s->side[d].desync = false;
	}
	for (const struct proto_parser *const *pp = parsers(env); *pp; pp++) {
		if ((*pp)->id != id)
			continue;
		s->st = calloc(1, (*pp)->state_size ? (*pp)->state_size : 1);
		if (!s->st || (*pp)->init(s->st) < 0) {
			free(s->st);
			s->st = NULL;
			env->state_alloc_failed++;
			s->proto = PROTO_NONE;
			return;
		}
		s->parser = *pp;
		return;
	}
}

static void lose_sync(struct session *s, struct session_env *env, unsigned dir, uint64_t len)
{
	struct session_side *sd = &s->side[dir];
	struct proto_io io = io_for(s, env, 0);

	carry_free(env, sd);
	sd->skip = 0;
	if (!sd->desync)
		env->cnt.desyncs++;
	sd->desync = true;
	if (s->parser)
		s->parser->gap(s->st, &io, side_of(s, dir), len);
}

static void feed(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                 size_t len, uint64_t ts);

/*
 * The stream is @id from p on (an Upgrade, a STARTTLS-style answer): the
 * bytes after the switch point belong to the new parser, not to the old
 * one. They are copied first because p may be the carry become() frees.
 * Depth is bounded: only HTTP/1 switches to a parser (HTTP/2), which never
 * switches.
 */
static void switch_over(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                        size_t rest, uint64_t ts, enum proto_id id)
{
	uint8_t *tmp = rest ? malloc(rest) : NULL;

	if (tmp)
		memcpy(tmp, p, rest);
	become(s, env, id);
	if (tmp && s->parser)
		feed(s, env, dir, tmp, rest, ts);
	free(tmp);
}

/*
 * Hand p[0..len) to the parser, message after message, applying skips.
 * *used is how many bytes were consumed or skipped. @gap_after as in
 * proto_io. Stops at the first incomplete message.
 */
static enum run_end run(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                        size_t len, uint64_t ts, uint64_t gap_after, size_t *used)
{
	struct session_side *sd = &s->side[dir];
	size_t off = 0;

	while (off < len) {
		struct proto_io io = io_for(s, env, ts);
		long r;

		if (sd->skip) {
			size_t n = sd->skip < len - off ? (size_t)sd->skip : len - off;

			sd->skip -= n;
			off += n;
			continue;
		}
		io.gap_after = gap_after;
		r = s->parser->parse(s->st, &io, side_of(s, dir), p + off, len - off);
		if (r > 0 && (size_t)r > len - off)
			r = PROTO_INVALID; /* a parser bug must not walk past the buffer */
		if (r > 0) {
			off += (size_t)r;
			sd->skip = io.skip;
		}
		if (io.switch_to != PROTO_UNKNOWN) {
			switch_over(s, env, dir, p + off, len - off, ts, io.switch_to);
			*used = len;
			return RUN_LOST;
		}
		if (r == PROTO_INCOMPLETE) {
			*used = off;
			return RUN_INCOMPLETE;
		}
		if (r <= 0) {
			env->cnt.parse_errors[s->proto]++;
			lose_sync(s, env, dir, 0);
			*used = len;
			return RUN_LOST;
		}
	}
	*used = len;
	return RUN_DONE;
}

/* Keep p[0..len) for later; false when the limits say no. */
static bool carry_keep(struct session_env *env, struct session_side *sd, const uint8_t *p,
                       size_t len, uint64_t ts)
{
	if (!carry_reserve(env, sd, sd->carry_len + len))
		return false;
	if (sd->carry_len == 0)
		sd->carry_ts = ts;
	memcpy(sd->carry + sd->carry_len, p, len);
	sd->carry_len += (uint32_t)len;
	return true;
}

static void carry_drop_front(struct session_env *env, struct session_side *sd, size_t n)
{
	if (n >= sd->carry_len) {
		carry_free(env, sd);
		return;
	}
	memmove(sd->carry, sd->carry + n, sd->carry_len - n);
	sd->carry_len -= (uint32_t)n;
}

/*
 * An incomplete message that cannot be kept (longer than PROTO_CARRY_MAX or
 * over budget): the parser salvages its start as if a gap followed, and the
 * side stays in sync only if the parser could skip the rest of the message.
 */
static void overflow(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                     size_t len, uint64_t ts)
{
	struct session_side *sd = &s->side[dir];
	size_t used = 0;
	enum run_end e;

	env->cnt.carry_overflow++;
	e = run(s, env, dir, p, len, ts, 1, &used);
	if (e == RUN_LOST)
		return;
	carry_free(env, sd);
	if (e == RUN_INCOMPLETE)
		lose_sync(s, env, dir, 0);
}

/* In-sync bytes for the parser of @dir's side, through the carry if one is pending. */
static void feed(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                 size_t len, uint64_t ts)
{
	struct session_side *sd = &s->side[dir];

	while (len > 0 && s->parser && !sd->desync) {
		size_t used = 0, take;
		enum run_end e;

		if (sd->carry_len == 0) {
			e = run(s, env, dir, p, len, ts, 0, &used);
			if (e == RUN_INCOMPLETE && !carry_keep(env, sd, p + used, len - used, ts))
				overflow(s, env, dir, p + used, len - used, ts);
			return;
		}
		take = PROTO_CARRY_MAX - sd->carry_len < len ? PROTO_CARRY_MAX - sd->carry_len
		                                             : len;
		if (!carry_keep(env, sd, p, take, ts)) {
			/* over budget: salvage what is held, go on with p in sync or not */
			overflow(s, env, dir, sd->carry, sd->carry_len, sd->carry_ts);
			continue;
		}
		p += take;
		len -= take;
		e = run(s, env, dir, sd->carry, sd->carry_len, sd->carry_ts, 0, &used);
		if (e == RUN_LOST)
			return;
		carry_drop_front(env, sd, used);
		if (e == RUN_INCOMPLETE && sd->carry_len == PROTO_CARRY_MAX)
			overflow(s, env, dir, sd->carry, sd->carry_len, sd->carry_ts);
	}
}

static bool tls_record(const uint8_t *p, size_t len)
{
	return len >= 3 && (p[0] == TLS_REC_HS || p[0] == TLS_REC_DATA || p[0] == TLS_REC_ALRT) &&
	       p[1] == 3 && p[2] <= 4;
}

static enum proto_match detect_pass(struct session *s, struct session_env *env, unsigned dir,
                                    const uint8_t *p, size_t len, unsigned flags)
{
	enum proto_match best = PROTO_NO;
	bool egress = dir == DIR_EGRESS;

	for (const struct proto_parser *const *pp = parsers(env); *pp; pp++) {
		if (s->only != PROTO_UNKNOWN && (*pp)->id != s->only)
			continue;
		for (int side = PROTO_REQ; side <= PROTO_RESP; side++) {
			enum proto_role role = (side == PROTO_REQ) == egress ? PROTO_ROLE_CLIENT
			                                                     : PROTO_ROLE_SERVER;
			enum proto_match m;

			if (s->role != PROTO_ROLE_UNKNOWN && s->role != role)
				continue;
			m = (*pp)->detect((enum proto_side)side, p, len, flags);
			if (m == PROTO_YES) {
				s->role = role;
				s->proto = (*pp)->id;
				s->detected_midstream = flags == PROTO_MIDSTREAM;
				return PROTO_YES;
			}
			if (m == PROTO_MAYBE)
				best = PROTO_MAYBE;
		}
	}
	return best;
}

/*
 * Which protocol starts at p on @dir? Tries the request side, then (for
 * server-first protocols) the response side; a match on a side the role
 * does not allow is ignored, a match with an unknown role sets the role.
 * A lenient session (TLS plaintext: the first call seen may follow a
 * STARTTLS-style handshake) falls back to mid-stream rules.
 */
static enum proto_match detect(struct session *s, struct session_env *env, unsigned dir,
                               const uint8_t *p, size_t len)
{
	enum proto_match m;

	if (tls_record(p, len) && s->only == PROTO_UNKNOWN) {
		s->proto = PROTO_TLS;
		return PROTO_YES;
	}
	m = detect_pass(s, env, dir, p, len, s->midstream ? PROTO_MIDSTREAM : PROTO_CONN_START);
	if (m == PROTO_NO && s->lenient && !s->midstream)
		m = detect_pass(s, env, dir, p, len, PROTO_MIDSTREAM);
	return m;
}

/* Not detected yet: look at the first bytes (held in the carry while MAYBE). */
static void detect_and_feed(struct session *s, struct session_env *env, unsigned dir,
                            const uint8_t *p, size_t len, uint64_t ts)
{
	struct session_side *sd = &s->side[dir];
	enum proto_match m;

	if (sd->carry_len) {
		if (!carry_keep(env, sd, p, len, ts)) {
			carry_free(env, sd);
			s->detect_runs++;
			return;
		}
		p = sd->carry;
		len = sd->carry_len;
		ts = sd->carry_ts;
	}
	m = detect(s, env, dir, p, len);
	if (m == PROTO_MAYBE) {
		if (!sd->carry_len && !carry_keep(env, sd, p, len, ts))
			s->detect_runs++;
		return;
	}
	if (m == PROTO_NO) {
		carry_free(env, sd);
		if (++s->detect_runs >= SESSION_DETECT_RUNS)
			s->proto = PROTO_NONE;
		return;
	}
	if (s->proto == PROTO_TLS) {
		carry_free(env, sd);
		return;
	}
	{
		/* become() frees the carry: move what it held out first */
		uint8_t *held = sd->carry;

		if (held) {
			env->carry_bytes -= sd->carry_cap;
			sd->carry = NULL;
			sd->carry_len = 0;
			sd->carry_cap = 0;
		}
		become(s, env, s->proto);
		/* detected mid-stream: the other side may be anywhere in a message */
		if (s->parser && s->detected_midstream)
			s->side[!dir].desync = true;
		if (s->parser)
			feed(s, env, dir, p, len, ts);
		free(held);
	}
}

/*
 * A side out of sync resumes only where a data run starts (a captured
 * segment or TLS call begins there) and the parser says a message starts.
 * Too few bytes to tell (PROTO_MAYBE) are held, up to RESYNC_HOLD_MAX, and
 * asked about again with the next run: bytes are never joined across a gap.
 */
/* Parse from the bytes held for a resync (p, or the carry when p is NULL). */
static void resume(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                   size_t len, uint64_t ts)
{
	struct session_side *sd = &s->side[dir];
	uint8_t *held = NULL;

	sd->desync = false;
	if (sd->carry_len) { /* feed() must not see the carry as pending */
		held = sd->carry;
		len = sd->carry_len;
		ts = sd->carry_ts;
		env->carry_bytes -= sd->carry_cap;
		sd->carry = NULL;
		sd->carry_len = sd->carry_cap = 0;
		p = held;
	}
	if (p && len)
		feed(s, env, dir, p, len, ts);
	free(held);
}

static void resync(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                   size_t len, uint64_t ts)
{
	struct session_side *sd = &s->side[dir];
	enum proto_match m;

	if (sd->carry_len) {
		if (!carry_keep(env, sd, p, len, ts))
			goto drop;
		p = sd->carry;
		len = sd->carry_len;
		ts = sd->carry_ts;
	}
	m = s->parser->detect(side_of(s, dir), p, len, PROTO_MIDSTREAM);
	if (m == PROTO_NO)
		goto drop;
	if (m == PROTO_MAYBE && len < RESYNC_HOLD_MAX) {
		if (!sd->carry_len && !carry_keep(env, sd, p, len, ts))
			goto drop;
		return;
	}
	/* YES, or still MAYBE with enough bytes: parse, the parser has the last word */
	resume(s, env, dir, sd->carry_len ? NULL : p, len, ts);
	return;
drop:
	env->cnt.resync_dropped_bytes += sd->carry_len ? sd->carry_len : len;
	carry_free(env, sd);
}

/*
 * Bytes held for a resync meet a gap or the close: nothing more will join
 * them, so they get the parser's verdict as they are.
 */
static void settle_held(struct session *s, struct session_env *env, unsigned dir)
{
	if (s->parser && s->side[dir].desync && s->side[dir].carry_len)
		resume(s, env, dir, NULL, 0, 0);
}

void session_init(struct session *s, enum proto_role role, bool midstream, enum proto_id only)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->midstream = midstream;
	/* a fixed protocol still needs detection's yes to start: it only narrows the choice */
	s->only = only == PROTO_TLS || only == PROTO_NONE ? PROTO_UNKNOWN : only;
}

void session_data(struct session *s, struct session_env *env, unsigned dir, const uint8_t *p,
                  uint32_t len, uint64_t ts_ns)
{
	struct session_side *sd;

	if (dir > 1 || !p || len == 0 || s->proto == PROTO_TLS || s->proto == PROTO_NONE)
		return;
	sd = &s->side[dir];
	if (!s->parser) {
		detect_and_feed(s, env, dir, p, len, ts_ns);
		return;
	}
	if (sd->desync) {
		resync(s, env, dir, p, len, ts_ns);
		return;
	}
	feed(s, env, dir, p, len, ts_ns);
}

void session_gap(struct session *s, struct session_env *env, unsigned dir, uint64_t len)
{
	struct session_side *sd;
	size_t used = 0;

	if (dir > 1 || len == 0 || s->proto == PROTO_TLS || s->proto == PROTO_NONE)
		return;
	sd = &s->side[dir];
	if (!s->parser) {
		/* the next bytes are not the connection's first any more */
		carry_free(env, sd);
		s->midstream = true;
		return;
	}
	settle_held(s, env, dir); /* never joined to what follows the gap */
	if (sd->desync || !s->parser)
		return;
	if (sd->carry_len &&
	    run(s, env, dir, sd->carry, sd->carry_len, sd->carry_ts, len, &used) == RUN_LOST)
		return;
	if (used < sd->carry_len || sd->skip < len) {
		lose_sync(s, env, dir, len);
		return;
	}
	carry_free(env, sd);
	sd->skip -= len;
}

void session_close(struct session *s, struct session_env *env)
{
	settle_held(s, env, 0);
	settle_held(s, env, 1);
	release_parser(s, env);
	for (int d = 0; d < 2; d++)
		carry_free(env, &s->side[d]);
}
