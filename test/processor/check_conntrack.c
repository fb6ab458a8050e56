// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/conntrack.c (the per-connection table).
 *
 * The table is open addressing with backward-shift deletion, so the cases
 * that matter are collisions: cookies are chosen by brute force to share a
 * home slot (with a hash written here, independently of conntrack.c), in
 * runs that wrap around the end of the table. The churn cases check after
 * every operation, against a shadow set, that every live cookie is found
 * with no empty slot between its home and its slot, and that no deleted one
 * is found. Hot loops test with if + ck_abort_msg: ck_assert records a
 * checkpoint per call, which would dominate the run time.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "processor/conntrack.h"
#include "processor/reasm.h"

Suite *conntrack_suite(void);

#define MASK     (2u * CONNTRACK_MAX - 1)
#define T0       (1000ull * 1000000000ull) /* an arbitrary boot time */
#define IDLE     CONNTRACK_IDLE_NS
#define NO_SLOT  UINT32_MAX
#define MAX_HOME 4

static struct conntrack ct;

static void setup(void)
{
	ck_assert_int_eq(conntrack_init(&ct), 0);
}

static void teardown(void)
{
	conntrack_free(&ct);
}

/* splitmix64: a bijection of the counter, so one stream never repeats a cookie. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_cookie(uint64_t *s)
{
	uint64_t c;

	while (!(c = rnd(s)))
		;
	return c;
}

/* The home slot of @cookie: Fibonacci hashing, as the table documents it. */
static uint32_t home_of(uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ull) >> 32) & MASK;
}

/* @n fresh cookies whose home is @home, drawn from @s. */
static void colliding(uint64_t *s, uint32_t home, uint64_t *out, uint32_t n)
{
	for (uint32_t k = 0; k < n;) {
		uint64_t c = rnd_cookie(s);

		if (home_of(c) == home)
			out[k++] = c;
	}
}

static uint32_t slot_index(const struct conn *c)
{
	return (uint32_t)(c - ct.slots);
}

/*
 * Where @cookie is, NO_SLOT if absent. Probes the table independently and
 * fails the test unless conntrack_get() agrees and no empty slot lies between
 * the home slot and the entry. Leaves last_ns as it was.
 */
static uint32_t where(uint64_t cookie)
{
	uint32_t i = home_of(cookie);
	struct conn *c;
	uint64_t last;

	while (ct.slots[i].cookie && ct.slots[i].cookie != cookie)
		i = (i + 1) & MASK;
	if (!ct.slots[i].cookie)
		i = NO_SLOT;
	last = i == NO_SLOT ? 0 : ct.slots[i].last_ns;
	c = conntrack_get(&ct, cookie, false, T0);
	if (i == NO_SLOT ? c != NULL : c != &ct.slots[i])
		ck_abort_msg("get(%#llx) returned slot %d, the table has it in %d",
		             (unsigned long long)cookie, c ? (int)slot_index(c) : -1,
		             i == NO_SLOT ? -1 : (int)i);
	if (c)
		c->last_ns = last;
	return i;
}

/* ---- recorder --------------------------------------------------------- */

struct rec {
	uint64_t data, lost, other_gaps;
};

static void rec_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct rec *r = ctx;

	(void)p;
	r->data += len;
}

static void rec_gap(void *ctx, uint64_t len, enum reasm_gap_reason why)
{
	struct rec *r = ctx;

	if (why == REASM_GAP_LOST)
		r->lost += len;
	else
		r->other_gaps += len;
}

static const struct reasm_ops rec_ops = { rec_data, rec_gap };
static const uint8_t payload[512];

/* Start @s at @seq with @len bytes, then hold @len bytes after a hole of @hole bytes. */
static void push_hole(struct reasm_stream *s, struct reasm_stats *st, uint32_t seq, uint32_t len,
                      uint32_t hole, struct rec *r)
{
	ck_assert_int_eq(reasm_push(s, seq, len, payload, len, &rec_ops, r, st), 0);
	ck_assert_int_eq(reasm_push(s, seq + len + hole, len, payload, len, &rec_ops, r, st), 0);
}

/* ---- lookup and create -------------------------------------------------- */

START_TEST(test_init_free)
{
	struct rec r = { 0 };
	struct conn *c;

	ck_assert_ptr_nonnull(ct.slots);
	ck_assert_ptr_nonnull(ct.pool);
	ck_assert_uint_eq(ct.mask, MASK);
	ck_assert_uint_eq(ct.n, 0);
	ck_assert_uint_eq(ct.expired, 0);
	ck_assert_uint_eq(ct.untracked, 0);
	ck_assert_uint_eq(reasm_pool_available(ct.pool), CONNTRACK_POOL);
	for (uint32_t i = 0; i <= MASK; i++)
		if (ct.slots[i].cookie)
			ck_abort_msg("slot %u not free after init", i);

	/* Free with bytes still held: the streams are discarded first (ASan watches). */
	c = conntrack_get(&ct, 99, true, T0);
	ck_assert_ptr_nonnull(c);
	push_hole(&c->dir[1], &c->stats[1], 5, 100, 10, &r);
	conntrack_free(&ct);
	ck_assert_ptr_null(ct.slots);
	ck_assert_ptr_null(ct.pool);
	conntrack_free(&ct); /* NULL-safe: the teardown frees again */
}
END_TEST

START_TEST(test_get)
{
	struct conn *c, *again;

	ck_assert_ptr_null(conntrack_get(&ct, 42, false, T0));
	ck_assert_uint_eq(ct.n, 0);

	c = conntrack_get(&ct, 42, true, T0);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->cookie, 42);
	ck_assert_uint_eq(c->last_ns, T0);
	ck_assert_uint_eq(slot_index(c), home_of(42));
	ck_assert_uint_eq(c->stats[0].segments + c->stats[1].segments, 0);
	ck_assert_uint_eq(ct.n, 1);

	again = conntrack_get(&ct, 42, false, T0 + 7);
	ck_assert_ptr_eq(again, c);
	ck_assert_uint_eq(c->last_ns, T0 + 7);
	again = conntrack_get(&ct, 42, true, T0 + 9);
	ck_assert_ptr_eq(again, c);
	ck_assert_uint_eq(c->last_ns, T0 + 9);
	ck_assert_uint_eq(ct.n, 1);

	ck_assert_ptr_null(conntrack_get(&ct, 43, false, T0));
	ck_assert_uint_eq(ct.n, 1);
}
END_TEST

/* Cookie 0 marks a free slot: it is never stored, whether its home slot is free or taken. */
START_TEST(test_cookie_zero)
{
	uint64_t s = 1, other[1];

	ck_assert_ptr_null(conntrack_get(&ct, 0, true, T0));
	ck_assert_ptr_null(conntrack_get(&ct, 0, false, T0));
	ck_assert_uint_eq(ct.n, 0);

	colliding(&s, home_of(0), other, 1);
	ck_assert_ptr_nonnull(conntrack_get(&ct, other[0], true, T0));
	ck_assert_ptr_null(conntrack_get(&ct, 0, true, T0));
	ck_assert_ptr_null(conntrack_get(&ct, 0, false, T0));
	ck_assert_uint_eq(ct.n, 1);
	ck_assert_uint_eq(where(other[0]), home_of(0));
	ck_assert_uint_eq(ct.slots[(home_of(0) + 1) & MASK].cookie, 0);
}
END_TEST

/* A full table refuses new connections (the caller counts them) but still finds old ones. */
START_TEST(test_full)
{
	struct conn *c;

	for (uint64_t k = 1; k <= CONNTRACK_MAX; k++)
		if (!conntrack_get(&ct, k, true, T0))
			ck_abort_msg("create %llu of %u failed", (unsigned long long)k,
			             CONNTRACK_MAX);
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX);

	ck_assert_ptr_null(conntrack_get(&ct, CONNTRACK_MAX + 1, true, T0));
	ck_assert_ptr_null(conntrack_get(&ct, CONNTRACK_MAX + 1, false, T0));
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX);
	ck_assert_uint_eq(ct.untracked, 0); /* the caller's counter */

	c = conntrack_get(&ct, 5, true, T0);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->cookie, 5);
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX);

	conntrack_close(&ct, c, &rec_ops, &(struct rec){ 0 });
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX - 1);
	ck_assert_ptr_null(conntrack_get(&ct, 5, false, T0));

	ck_assert_ptr_nonnull(conntrack_get(&ct, CONNTRACK_MAX + 1, true, T0));
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX);
	ck_assert_ptr_null(conntrack_get(&ct, 5, true, T0));
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX);

	for (uint64_t k = 1; k <= CONNTRACK_MAX + 1; k++)
		if ((where(k) == NO_SLOT) != (k == 5))
			ck_abort_msg("cookie %llu %s", (unsigned long long)k,
			             k == 5 ? "found after close" : "lost");
}
END_TEST

/* ---- churn: deletion under collisions ----------------------------------- */

struct churn_case {
	const char *name;
	uint32_t homes[MAX_HOME]; /* collision groups, one per home slot */
	uint32_t nhomes;
	uint32_t per_home;   /* cookies per group */
	uint32_t random;     /* further cookies, random homes */
	uint32_t background; /* random cookies inserted first and never deleted */
	uint32_t prefill;    /* cookies inserted before the churn (checked every PREFILL_CHECK) */
	uint32_t low;        /* churn shrinks down to this many live, then grows to the cap */
	uint32_t ops;        /* churn inserts and deletes, each checked */
	uint64_t seed;
};

#define PREFILL_CHECK 1024

/* Checking every cookie after every operation costs O(live): sizes keep the suite fast. */
static const struct churn_case churn_cases[] = {
	{ "one home mid-table", { 1000 }, 1, 40, 0, 0, 0, 0, 3000, 11 },
	{ "one home, run wraps the end", { MASK - 3 }, 1, 40, 0, 0, 0, 0, 3000, 12 },
	{ "last slot home, run wraps", { MASK }, 1, 40, 0, 0, 0, 0, 3000, 13 },
	{ "four homes across the end", { MASK - 1, MASK, 0, 2 }, 4, 20, 0, 0, 0, 0, 4000, 14 },
	{ "collisions, loaded table", { MASK - 1, 0, 777 }, 3, 24, 200, 12000, 0, 0, 1000, 15 },
	{ "20000 random, capped", { 0 }, 0, 0, 20000, 0, 16000, 15500, 1500, 16 },
};

/*
 * cookie[order[0..nlive)] are live, the rest are not; pos[] inverts order[].
 * gone[k]: cookie k was deleted at least once and is not live.
 */
struct shadow {
	uint64_t *cookie;
	uint32_t *order, *pos;
	bool *gone;
	uint32_t n, nlive;
	uint64_t *bg;
	uint32_t nbg;
};

static void swap_order(struct shadow *sh, uint32_t a, uint32_t b)
{
	uint32_t ka = sh->order[a], kb = sh->order[b];

	sh->order[a] = kb;
	sh->order[b] = ka;
	sh->pos[kb] = a;
	sh->pos[ka] = b;
}

static void shadow_build(struct shadow *sh, const struct churn_case *cc)
{
	uint64_t s = cc->seed;
	uint32_t k = 0;

	sh->n = cc->nhomes * cc->per_home + cc->random;
	sh->nbg = cc->background;
	sh->cookie = calloc(sh->n, sizeof(*sh->cookie));
	sh->order = calloc(sh->n, sizeof(*sh->order));
	sh->pos = calloc(sh->n, sizeof(*sh->pos));
	sh->gone = calloc(sh->n, sizeof(*sh->gone));
	sh->bg = calloc(sh->nbg + 1, sizeof(*sh->bg));
	ck_assert(sh->cookie && sh->order && sh->pos && sh->gone && sh->bg);
	for (uint32_t h = 0; h < cc->nhomes; h++, k += cc->per_home)
		colliding(&s, cc->homes[h], sh->cookie + k, cc->per_home);
	for (; k < sh->n; k++)
		sh->cookie[k] = rnd_cookie(&s);
	for (k = 0; k < sh->n; k++)
		sh->order[k] = sh->pos[k] = k;
	for (k = 0; k < sh->nbg; k++)
		sh->bg[k] = rnd_cookie(&s);
	sh->nlive = 0;
}

static void shadow_free(struct shadow *sh)
{
	free(sh->cookie);
	free(sh->order);
	free(sh->pos);
	free(sh->gone);
	free(sh->bg);
}

static void verify(const struct shadow *sh, uint32_t op)
{
	if (ct.n != sh->nlive + sh->nbg)
		ck_abort_msg("op %u: n %u, shadow %u", op, ct.n, sh->nlive + sh->nbg);
	for (uint32_t k = 0; k < sh->nbg; k++)
		if (where(sh->bg[k]) == NO_SLOT)
			ck_abort_msg("op %u: background cookie %u lost", op, k);
	for (uint32_t i = 0; i < sh->nlive; i++)
		if (where(sh->cookie[sh->order[i]]) == NO_SLOT)
			ck_abort_msg("op %u: live cookie %u lost", op, sh->order[i]);
	for (uint32_t k = 0; k < sh->n; k++)
		if (sh->gone[k] && where(sh->cookie[k]) != NO_SLOT)
			ck_abort_msg("op %u: deleted cookie %u found", op, k);
}

static void churn_insert(struct shadow *sh, uint64_t *s, uint32_t op)
{
	uint32_t i = sh->nlive + (uint32_t)(rnd(s) % (sh->n - sh->nlive));
	uint32_t k = sh->order[i];

	if (!conntrack_get(&ct, sh->cookie[k], true, T0))
		ck_abort_msg("op %u: create of cookie %u failed with %u live", op, k, ct.n);
	swap_order(sh, i, sh->nlive++);
	sh->gone[k] = false;
}

static void churn_delete(struct shadow *sh, uint64_t *s, uint32_t op)
{
	uint32_t i = (uint32_t)(rnd(s) % sh->nlive);
	uint32_t k = sh->order[i];
	struct conn *c = conntrack_get(&ct, sh->cookie[k], false, T0);

	if (!c)
		ck_abort_msg("op %u: cookie %u to delete not found", op, k);
	conntrack_close(&ct, c, &rec_ops, &(struct rec){ 0 });
	swap_order(sh, i, --sh->nlive);
	sh->gone[k] = true;
}

/* A full table takes no new cookie and changes nothing. */
static void churn_refused(struct shadow *sh, uint32_t op)
{
	uint64_t c = sh->cookie[sh->order[sh->nlive]];

	if (conntrack_get(&ct, c, true, T0))
		ck_abort_msg("op %u: create succeeded in a full table", op);
	verify(sh, op);
}

START_TEST(test_churn)
{
	const struct churn_case *cc = &churn_cases[_i];
	struct shadow sh;
	uint64_t s = cc->seed * 7919;
	uint32_t cap, refused = 0;
	bool grow = true;

	shadow_build(&sh, cc);
	for (uint32_t k = 0; k < sh.nbg; k++)
		ck_assert_ptr_nonnull(conntrack_get(&ct, sh.bg[k], true, T0));
	cap = CONNTRACK_MAX - sh.nbg < sh.n ? CONNTRACK_MAX - sh.nbg : sh.n;
	verify(&sh, 0);
	for (uint32_t k = 1; k <= cc->prefill; k++) {
		churn_insert(&sh, &s, 0);
		if (k % PREFILL_CHECK == 0 || k == cc->prefill)
			verify(&sh, 0);
	}

	/* Grow to the cap mostly inserting, then shrink to cc->low mostly deleting. */
	for (uint32_t op = 1; op <= cc->ops; op++) {
		if (sh.nlive == cap)
			grow = false;
		if (sh.nlive <= cc->low)
			grow = true;
		if (sh.nlive == cap && ct.n == CONNTRACK_MAX && sh.nlive < sh.n) {
			churn_refused(&sh, op);
			refused++;
		}
		if (sh.nlive < cap && (rnd(&s) % 4 < (grow ? 3u : 1u) || sh.nlive == 0))
			churn_insert(&sh, &s, op);
		else
			churn_delete(&sh, &s, op);
		verify(&sh, op);
	}
	if (cap + sh.nbg == CONNTRACK_MAX)
		ck_assert_uint_gt(refused, 0);
	ck_assert_uint_eq(reasm_pool_available(ct.pool), CONNTRACK_POOL);
	shadow_free(&sh);
}
END_TEST

/* ---- close ---------------------------------------------------------------- */

START_TEST(test_close_flushes)
{
	size_t before = reasm_pool_available(ct.pool);
	struct rec r = { 0 };
	struct conn *c = conntrack_get(&ct, 7, true, T0);

	ck_assert_ptr_nonnull(c);
	push_hole(&c->dir[0], &c->stats[0], 1000, 100, 200, &r);
	ck_assert_uint_eq(r.data, 100);
	ck_assert_uint_lt(reasm_pool_available(ct.pool), before);

	conntrack_close(&ct, c, &rec_ops, &r);
	ck_assert_uint_eq(ct.done.gap_bytes_lost, 200);
	ck_assert_uint_eq(ct.done.gaps, 1);
	ck_assert_uint_eq(ct.done.bytes_delivered, 200);
	ck_assert_uint_eq(ct.done.segments, 2);
	ck_assert_uint_eq(ct.done.ooo_buffered, 1);
	ck_assert_uint_eq(r.lost, 200);
	ck_assert_uint_eq(r.data, 200);
	ck_assert_uint_eq(r.other_gaps, 0);
	ck_assert_uint_eq(reasm_pool_available(ct.pool), before);
	ck_assert_uint_eq(ct.n, 0);
	ck_assert_ptr_null(conntrack_get(&ct, 7, false, T0));
}
END_TEST

/* Closing a moves b back into a's slot: b's held bytes must move with it. */
START_TEST(test_close_moves_streams)
{
	const uint32_t home = MASK; /* b lands in slot 0, then moves to the last slot */
	size_t before = reasm_pool_available(ct.pool);
	uint64_t s = 3, ab[2];
	struct rec r = { 0 };
	struct conn *a, *b;

	colliding(&s, home, ab, 2);
	a = conntrack_get(&ct, ab[0], true, T0);
	b = conntrack_get(&ct, ab[1], true, T0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(slot_index(a), MASK);
	ck_assert_uint_eq(slot_index(b), 0);
	push_hole(&a->dir[0], &a->stats[0], 1, 64, 30, &r);
	push_hole(&b->dir[1], &b->stats[1], 9, 300, 50, &r);
	push_hole(&b->dir[0], &b->stats[0], 77, 20, 5, &r);

	conntrack_close(&ct, a, &rec_ops, &r);
	ck_assert_uint_eq(ct.done.gap_bytes_lost, 30);
	ck_assert_uint_eq(ct.n, 1);
	ck_assert_uint_eq(where(ab[1]), MASK);
	ck_assert_uint_eq(ct.slots[0].cookie, 0);
	ck_assert_uint_lt(reasm_pool_available(ct.pool), before);

	b = conntrack_get(&ct, ab[1], false, T0);
	ck_assert_uint_eq(b->stats[1].ooo_buffered, 1);
	conntrack_close(&ct, b, &rec_ops, &r);
	ck_assert_uint_eq(ct.done.gap_bytes_lost, 30 + 50 + 5);
	ck_assert_uint_eq(ct.done.bytes_delivered, 2 * (64 + 300 + 20));
	ck_assert_uint_eq(r.lost, 30 + 50 + 5);
	ck_assert_uint_eq(r.data, 2 * (64 + 300 + 20));
	ck_assert_uint_eq(reasm_pool_available(ct.pool), before);
	ck_assert_uint_eq(ct.n, 0);
}
END_TEST

/* ---- expire -------------------------------------------------------------- */

/* Every fresh cookie found, every stale one gone. */
static void check_expired(const uint64_t *cookie, const bool *stale, uint32_t n, uint64_t now)
{
	for (uint32_t k = 0; k < n; k++) {
		struct conn *c = conntrack_get(&ct, cookie[k], false, now);

		if (stale[k] && c)
			ck_abort_msg("stale cookie %u not expired", k);
		if (!stale[k] && (!c || where(cookie[k]) == NO_SLOT))
			ck_abort_msg("fresh cookie %u expired", k);
	}
}

START_TEST(test_expire_idle)
{
	const uint64_t now = T0 + IDLE + 1;
	static uint64_t cookie[CONNTRACK_MAX];
	static bool stale[CONNTRACK_MAX];
	size_t before = reasm_pool_available(ct.pool);
	uint64_t s = 5, lost = 0;
	uint32_t nstale = 0, left;
	struct rec r = { 0 };

	/* A full table, about half of it idle for IDLE + 1; some stale ones hold bytes. */
	for (uint32_t k = 0; k < CONNTRACK_MAX; k++) {
		struct conn *c;

		cookie[k] = rnd_cookie(&s);
		stale[k] = k == 0 || (rnd(&s) & 1);
		c = conntrack_get(&ct, cookie[k], true, stale[k] ? T0 : now - 1);
		ck_assert_ptr_nonnull(c);
		nstale += stale[k];
		if (stale[k] && k % 64 == 1) {
			int d = (k / 64) & 1;

			push_hole(&c->dir[d], &c->stats[d], k, 10, 3, &r);
			lost += 3;
		}
	}
	/* Idle exactly IDLE is not older than now - IDLE: it stays. */
	ck_assert_ptr_nonnull(conntrack_get(&ct, cookie[0], false, now - IDLE));
	stale[0] = false;
	nstale--;

	ck_assert_uint_eq(conntrack_expire(&ct, now, &rec_ops, &r), nstale);
	ck_assert_uint_eq(ct.expired, nstale);
	ck_assert_uint_eq(ct.n, CONNTRACK_MAX - nstale);
	ck_assert_uint_eq(ct.done.gap_bytes_lost, lost);
	ck_assert_uint_eq(r.lost, lost);
	ck_assert_uint_eq(reasm_pool_available(ct.pool), before);
	check_expired(cookie, stale, CONNTRACK_MAX, now - 1);

	/* Nothing more to expire now; later, everything. */
	ck_assert_uint_eq(conntrack_expire(&ct, now, &rec_ops, &r), 0);
	ck_assert_uint_eq(ct.expired, nstale);
	left = ct.n;
	ck_assert_uint_eq(conntrack_expire(&ct, now - 1 + IDLE + 1, &rec_ops, &r), left);
	ck_assert_uint_eq(ct.expired, nstale + left);
	ck_assert_uint_eq(ct.n, 0);
	for (uint32_t i = 0; i <= MASK; i++)
		if (ct.slots[i].cookie)
			ck_abort_msg("slot %u still taken", i);
}
END_TEST

struct expire_case {
	const char *name;
	uint32_t home[MAX_HOME];
	const char *pattern[MAX_HOME]; /* per home, in insertion order: S stale, F fresh */
	uint32_t nhomes;
	uint32_t first_slot; /* where the first cookie of home[0] lands */
};

/*
 * After a stale entry is closed, the backward shift moves the next entry of
 * its run into the freed slot; when that one is stale too, expire has to look
 * at the same slot again.
 */
static const struct expire_case expire_cases[] = {
	{ "run mid-table", { 3000 }, { "SSFSFSS" }, 1, 3000 },
	{ "run of stale only", { 3000 }, { "SSSSSS" }, 1, 3000 },
	{ "run wraps the end", { MASK - 1 }, { "SFSSFSS" }, 1, MASK - 1 },
	{ "stale shifted into the last slot", { MASK }, { "SSSFS" }, 1, MASK },
	{ "groups across the end",
	  { MASK - 2, MASK, 0, 1 },
	  { "SSS", "SFS", "SS", "FSS" },
	  4,
	  MASK - 2 },
};

START_TEST(test_expire_shift)
{
	const struct expire_case *ec = &expire_cases[_i];
	const uint64_t now = T0 + IDLE + 1;
	uint64_t s = 100 + (uint64_t)_i, cookie[64];
	bool stale[64];
	uint32_t n = 0, nstale = 0, slot = ec->first_slot;

	for (uint32_t h = 0; h < ec->nhomes; h++)
		for (const char *p = ec->pattern[h]; *p; p++, n++) {
			colliding(&s, ec->home[h], &cookie[n], 1);
			stale[n] = *p == 'S';
			nstale += stale[n];
			ck_assert_ptr_nonnull(
			        conntrack_get(&ct, cookie[n], true, stale[n] ? T0 : now - 1));
		}
	/* The layout the case is about: one contiguous run, in insertion order. */
	for (uint32_t k = 0; k < n; k++, slot = (slot + 1) & MASK)
		ck_assert_uint_eq(ct.slots[slot].cookie, cookie[k]);

	ck_assert_uint_eq(conntrack_expire(&ct, now, &rec_ops, &(struct rec){ 0 }), nstale);
	ck_assert_uint_eq(ct.expired, nstale);
	ck_assert_uint_eq(ct.n, n - nstale);
	check_expired(cookie, stale, n, now);
	for (uint32_t i = 0; i <= MASK; i++)
		if (ct.slots[i].cookie && ct.slots[i].last_ns != now - 1 &&
		    ct.slots[i].last_ns != now)
			ck_abort_msg("stale entry left in slot %u", i);
}
END_TEST

Suite *conntrack_suite(void)
{
	Suite *s = suite_create("conntrack");
	TCase *tc_table = tcase_create("table");
	TCase *tc_churn = tcase_create("churn");
	TCase *tc_expire = tcase_create("expire");

	tcase_add_checked_fixture(tc_table, setup, teardown);
	tcase_add_test(tc_table, test_init_free);
	tcase_add_test(tc_table, test_get);
	tcase_add_test(tc_table, test_cookie_zero);
	tcase_add_test(tc_table, test_full);
	tcase_add_test(tc_table, test_close_flushes);
	tcase_add_test(tc_table, test_close_moves_streams);
	suite_add_tcase(s, tc_table);

	tcase_add_checked_fixture(tc_churn, setup, teardown);
	tcase_set_timeout(tc_churn, 30);
	tcase_add_loop_test(tc_churn, test_churn, 0,
	                    (int)(sizeof(churn_cases) / sizeof(churn_cases[0])));
	suite_add_tcase(s, tc_churn);

	tcase_add_checked_fixture(tc_expire, setup, teardown);
	tcase_add_test(tc_expire, test_expire_idle);
	tcase_add_loop_test(tc_expire, test_expire_shift, 0,
	                    (int)(sizeof(expire_cases) / sizeof(expire_cases[0])));
	suite_add_tcase(s, tc_expire);
	return s;
}
