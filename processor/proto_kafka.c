// SPDX-License-Identifier: Apache-2.0
/*
 * Kafka wire protocol parser (byte-stream model of processor/proto.h).
 *
 * Trust boundary: every byte is hostile. A message is an int32 size
 * (checked against KAFKA_MSG_MAX) and a body; only its first KAFKA_HEAD_MAX
 * bytes are looked at, through a bounds-checked cursor, and the rest is
 * skipped unseen (io->skip), so a message of any size costs one skip and no
 * copy. What is kept of a request (client id, first topic) is copied into
 * bounded fields of the pending entry; the state block holds a few pending
 * requests and a table of KAFKA_PENDING_MAX is allocated only when more are
 * in flight.
 *
 * Requests: header v1 (api_key, api_version, correlation_id, client_id),
 * v2 for flexible versions (+ tagged fields). Bodies are read for Produce
 * (acks and the first topic) and Fetch (the first topic); topics are
 * exported as the first topic's name (messaging.destination.name) and the
 * number of topics (messaging.kafka.topic_count); versions that name topics
 * by id (Produce >= 13, Fetch >= 13) export only the count. A Produce with
 * acks = 0 gets no response: it is emitted at once.
 *
 * Responses pair by correlation id, wherever the request is in the pending
 * table. A broker answers a connection's requests in order, so when a
 * response answers a request, the requests queued before it that were
 * already pending when the response side last had a gap will never be
 * answered (their responses fell in that gap): they are settled as
 * TXN_NO_RESPONSE. Without a gap, nothing is settled early and responses
 * may come in any order. Errors: the top-level error_code of the APIs
 * that have one (kafka_apis[]), and for Produce the first non-zero
 * per-partition error code found within KAFKA_HEAD_MAX bytes and
 * KAFKA_WALK_MAX partitions. Fetch before v7 has errors only next to the
 * records, which are not looked at.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor/proto.h"

#define KAFKA_MSG_MAX         (100u << 20) /* message size accepted (the broker default) */
#define KAFKA_REQ_MIN         10   /* api_key, api_version, correlation_id, client_id length */
#define KAFKA_RESP_MIN        4    /* correlation_id */
#define KAFKA_RESP_DETECT_MIN 6    /* correlation_id + the smallest body (an error code) */
#define KAFKA_FIXED_REQ       12   /* size + api_key + api_version + correlation_id */
#define KAFKA_FIXED_RESP      8    /* size + correlation_id */
#define KAFKA_HEAD_MAX        2048 /* bytes of a message looked at; the rest is skipped */
#define KAFKA_API_KEY_MAX     127  /* api keys the parser accepts */
#define KAFKA_API_VERSION_MAX 63   /* api versions the parser accepts */
#define KAFKA_DETECT_VERSION  20   /* api versions detection accepts */
#define KAFKA_CLIENT_ID_MAX   48   /* client id kept per pending request */
#define KAFKA_TOPIC_MAX       96   /* topic name kept (Kafka allows 249) */
#define KAFKA_TAGS_MAX        32   /* tagged fields read in one section */
#define KAFKA_WALK_MAX        64   /* Produce response partitions looked at */
#define KAFKA_VARINT_BYTES    5    /* an unsigned varint of 32 bits */
#define KAFKA_UUID_LEN        16
#define KAFKA_INLINE_SLOTS    4  /* pending requests held in the state block */
#define KAFKA_PENDING_MAX     64 /* with the lazily allocated table */
#define API_PRODUCE           0
#define API_FETCH             1
#define API_API_VERSIONS      18
#define NOVER                 (-1) /* "no such version" in kafka_apis[] */

_Static_assert((KAFKA_INLINE_SLOTS & (KAFKA_INLINE_SLOTS - 1)) == 0, "ring indexes wrap");
_Static_assert((KAFKA_PENDING_MAX & (KAFKA_PENDING_MAX - 1)) == 0, "ring indexes wrap");

/*
 * Per api key: name, first flexible version, and where the response's
 * top-level error_code is: present for versions err_from..err_to, after a
 * throttle_time_ms for versions >= throttle_from (NOVER: never).
 */
struct kafka_api {
	const char *name;
	int8_t flex, err_from, err_to, throttle_from;
};

#define VMAX KAFKA_API_VERSION_MAX

static const struct kafka_api kafka_apis[] = {
	[0] = { "Produce", 9, NOVER, NOVER, NOVER },
	[1] = { "Fetch", 12, 7, VMAX, 1 },
	[2] = { "ListOffsets", 6, NOVER, NOVER, NOVER },
	[3] = { "Metadata", 9, NOVER, NOVER, NOVER },
	[4] = { "LeaderAndIsr", 4, 0, VMAX, NOVER },
	[5] = { "StopReplica", 2, 0, VMAX, NOVER },
	[6] = { "UpdateMetadata", 6, 0, VMAX, NOVER },
	[7] = { "ControlledShutdown", 3, 0, VMAX, NOVER },
	[8] = { "OffsetCommit", 8, NOVER, NOVER, NOVER },
	[9] = { "OffsetFetch", 6, NOVER, NOVER, NOVER },
	[10] = { "FindCoordinator", 3, 0, 3, 1 },
	[11] = { "JoinGroup", 6, 0, VMAX, 2 },
	[12] = { "Heartbeat", 4, 0, VMAX, 1 },
	[13] = { "LeaveGroup", 4, 0, VMAX, 1 },
	[14] = { "SyncGroup", 4, 0, VMAX, 1 },
	[15] = { "DescribeGroups", 5, NOVER, NOVER, NOVER },
	[16] = { "ListGroups", 3, 0, VMAX, 1 },
	[17] = { "SaslHandshake", NOVER, 0, VMAX, NOVER },
	[18] = { "ApiVersions", 3, 0, VMAX, NOVER },
	[19] = { "CreateTopics", 5, NOVER, NOVER, NOVER },
	[20] = { "DeleteTopics", 4, NOVER, NOVER, NOVER },
	[21] = { "DeleteRecords", 2, NOVER, NOVER, NOVER },
	[22] = { "InitProducerId", 2, 0, VMAX, 0 },
	[23] = { "OffsetForLeaderEpoch", 4, NOVER, NOVER, NOVER },
	[24] = { "AddPartitionsToTxn", 3, NOVER, NOVER, NOVER },
	[25] = { "AddOffsetsToTxn", 3, 0, VMAX, 0 },
	[26] = { "EndTxn", 3, 0, VMAX, 0 },
	[27] = { "WriteTxnMarkers", 1, NOVER, NOVER, NOVER },
	[28] = { "TxnOffsetCommit", 3, NOVER, NOVER, NOVER },
	[29] = { "DescribeAcls", 2, 0, VMAX, 0 },
	[30] = { "CreateAcls", 2, NOVER, NOVER, NOVER },
	[31] = { "DeleteAcls", 2, NOVER, NOVER, NOVER },
	[32] = { "DescribeConfigs", 4, NOVER, NOVER, NOVER },
	[33] = { "AlterConfigs", 2, NOVER, NOVER, NOVER },
	[34] = { "AlterReplicaLogDirs", 2, NOVER, NOVER, NOVER },
	[35] = { "DescribeLogDirs", 2, NOVER, NOVER, NOVER },
	[36] = { "SaslAuthenticate", 2, 0, VMAX, NOVER },
	[37] = { "CreatePartitions", 2, NOVER, NOVER, NOVER },
	[38] = { "CreateDelegationToken", 2, 0, VMAX, NOVER },
	[39] = { "RenewDelegationToken", 2, 0, VMAX, NOVER },
	[40] = { "ExpireDelegationToken", 2, 0, VMAX, NOVER },
	[41] = { "DescribeDelegationToken", 2, 0, VMAX, NOVER },
	[42] = { "DeleteGroups", 2, NOVER, NOVER, NOVER },
	[43] = { "ElectLeaders", 2, 1, VMAX, 0 },
	[44] = { "IncrementalAlterConfigs", 1, NOVER, NOVER, NOVER },
	[45] = { "AlterPartitionReassignments", 0, 0, VMAX, 0 },
	[46] = { "ListPartitionReassignments", 0, 0, VMAX, 0 },
	[47] = { "OffsetDelete", NOVER, 0, VMAX, NOVER },
	[48] = { "DescribeClientQuotas", 1, 0, VMAX, 0 },
	[49] = { "AlterClientQuotas", 1, NOVER, NOVER, NOVER },
	[50] = { "DescribeUserScramCredentials", 0, NOVER, NOVER, NOVER },
	[51] = { "AlterUserScramCredentials", 0, NOVER, NOVER, NOVER },
	[52] = { "Vote", 0, NOVER, NOVER, NOVER },
	[53] = { "BeginQuorumEpoch", 0, NOVER, NOVER, NOVER },
	[54] = { "EndQuorumEpoch", 0, NOVER, NOVER, NOVER },
	[55] = { "DescribeQuorum", 0, NOVER, NOVER, NOVER },
	[56] = { "AlterPartition", 0, 0, VMAX, 0 },
	[57] = { "UpdateFeatures", 0, 0, VMAX, 0 },
	[58] = { "Envelope", 0, NOVER, NOVER, NOVER },
	[59] = { "FetchSnapshot", 0, 0, VMAX, 0 },
	[60] = { "DescribeCluster", 0, 0, VMAX, 0 },
	[61] = { "DescribeProducers", 0, NOVER, NOVER, NOVER },
	[62] = { "BrokerRegistration", 0, 0, VMAX, 0 },
	[63] = { "BrokerHeartbeat", 0, 0, VMAX, 0 },
	[64] = { "UnregisterBroker", 0, 0, VMAX, 0 },
	[65] = { "DescribeTransactions", 0, NOVER, NOVER, NOVER },
	[66] = { "ListTransactions", 0, 0, VMAX, 0 },
	[67] = { "AllocateProducerIds", 0, 0, VMAX, 0 },
	[68] = { "ConsumerGroupHeartbeat", 0, 0, VMAX, 0 },
	[69] = { "ConsumerGroupDescribe", 0, NOVER, NOVER, NOVER },
	[70] = { "ControllerRegistration", 0, 0, VMAX, 0 },
	[71] = { "GetTelemetrySubscriptions", 0, 0, VMAX, 0 },
	[72] = { "PushTelemetry", 0, 0, VMAX, 0 },
	[73] = { "AssignReplicasToDirs", 0, NOVER, NOVER, NOVER },
	[74] = { "ListClientMetricsResources", 0, NOVER, NOVER, NOVER },
	[75] = { "DescribeTopicPartitions", 0, NOVER, NOVER, NOVER },
};

#define KAFKA_APIS ((int)(sizeof(kafka_apis) / sizeof(kafka_apis[0])))

#define REQ_CLIENT     1u /* client_id present (not null) */
#define REQ_CLIENT_CUT 2u
#define REQ_TOPIC_CUT  4u

/* A request, pending or being read. */
struct kafka_req {
	uint64_t start_ns;
	int32_t corr;
	int32_t topics; /* topics in the request, -1: not read */
	uint32_t gaps;  /* kafka_state.resp_gaps when it was queued */
	int16_t api_key, api_version;
	uint8_t client_len, topic_len, flags;
	char client[KAFKA_CLIENT_ID_MAX];
	char topic[KAFKA_TOPIC_MAX];
};

struct kafka_state {
	struct kafka_req inl[KAFKA_INLINE_SLOTS];
	struct kafka_req *ext; /* KAFKA_PENDING_MAX slots, NULL until needed */
	uint32_t head, count;  /* FIFO of pending requests (absolute indexes) */
	uint32_t resp_gaps;    /* gaps on the response side so far */
};

/* ---- bounds-checked reading --------------------------------------------- */

/* A window on a message; any read past its end clears ok and returns 0. */
struct cur {
	const uint8_t *p;
	size_t len, off;
	bool ok;
};

static uint64_t rd(struct cur *c, size_t n)
{
	uint64_t v = 0;

	if (!c->ok || c->len - c->off < n) {
		c->ok = false;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | c->p[c->off + i];
	c->off += n;
	return v;
}

static int16_t rd16(struct cur *c)
{
	return (int16_t)(uint16_t)rd(c, 2);
}

static int32_t rd32(struct cur *c)
{
	return (int32_t)(uint32_t)rd(c, 4);
}

static void skip(struct cur *c, uint64_t n)
{
	if (!c->ok || c->len - c->off < n) {
		c->ok = false;
		return;
	}
	c->off += (size_t)n;
}

static uint32_t rd_uvarint(struct cur *c)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < KAFKA_VARINT_BYTES; i++) {
		uint8_t b = (uint8_t)rd(c, 1);

		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	c->ok = false; /* longer than 32 bits */
	return 0;
}

/* An array length: int32, or compact (unsigned varint, n + 1; 0 is null). -1: null. */
static int64_t rd_array(struct cur *c, bool compact)
{
	if (compact)
		return (int64_t)rd_uvarint(c) - 1;
	return rd32(c);
}

#define STR_UNREAD (-2) /* rd_str(): the length could not be read */

/*
 * A (nullable) string: int16 length or compact (n + 1). Returns its length
 * (-1: null, STR_UNREAD) and points @s at the bytes of it inside the window
 * (*have of them); the cursor moves past it (ok cleared if it ends past the
 * window).
 */
static int64_t rd_str(struct cur *c, bool compact, const uint8_t **s, size_t *have)
{
	int64_t n = compact ? (int64_t)rd_uvarint(c) - 1 : rd16(c);

	*s = c->p + c->off;
	*have = 0;
	if (c->ok && n < -1)
		c->ok = false;
	if (!c->ok)
		return STR_UNREAD;
	if (n == -1)
		return -1;
	*have = c->len - c->off < (uint64_t)n ? c->len - c->off : (size_t)n;
	skip(c, (uint64_t)n);
	return n;
}

/* A tagged-field section: count, then (tag, size, bytes) each. */
static void skip_tags(struct cur *c)
{
	uint32_t n = rd_uvarint(c);

	if (n > KAFKA_TAGS_MAX) {
		c->ok = false;
		return;
	}
	for (uint32_t i = 0; i < n && c->ok; i++) {
		rd_uvarint(c);
		skip(c, rd_uvarint(c));
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const struct kafka_api *api_of(int key)
{
	return key >= 0 && key < KAFKA_APIS && kafka_apis[key].name ? &kafka_apis[key] : NULL;
}

/* APIs added since flexible versions exist (KIP-482) are flexible from version 0. */
static bool flexible(int key, int version)
{
	const struct kafka_api *a = api_of(key);

	if (!a)
		return true;
	return a->flex != NOVER && version >= a->flex;
}

static uint8_t keep(char *dst, size_t cap, const uint8_t *s, size_t have, int64_t n, uint8_t *flags,
                    uint8_t cut_flag)
{
	size_t k = have < cap ? have : cap;

	memcpy(dst, s, k);
	if ((int64_t)k < n)
		*flags |= cut_flag;
	return (uint8_t)k;
}

/* ---- pending requests --------------------------------------------------- */

static struct kafka_req *fifo_at(struct kafka_state *s, uint32_t i)
{
	return s->ext ? &s->ext[i % KAFKA_PENDING_MAX] : &s->inl[i % KAFKA_INLINE_SLOTS];
}

static bool fifo_grow(struct kafka_state *s)
{
	struct kafka_req *ext;

	if (s->ext)
		return false;
	ext = calloc(KAFKA_PENDING_MAX, sizeof(*ext));
	if (!ext)
		return false;
	for (uint32_t i = s->head; i != s->head + s->count; i++)
		ext[i % KAFKA_PENDING_MAX] = s->inl[i % KAFKA_INLINE_SLOTS];
	s->ext = ext;
	return true;
}

static void fifo_push(struct kafka_state *s, struct proto_io *io, const struct kafka_req *r)
{
	uint32_t cap = s->ext ? KAFKA_PENDING_MAX : KAFKA_INLINE_SLOTS;

	if (s->count == cap && !fifo_grow(s)) {
		io->cnt->pending_dropped[PROTO_KAFKA]++;
		return;
	}
	*fifo_at(s, s->head + s->count) = *r;
	fifo_at(s, s->head + s->count++)->gaps = s->resp_gaps;
}

/* Take out entry @i (from the head), keeping the order of the others. */
static struct kafka_req fifo_take(struct kafka_state *s, uint32_t i)
{
	struct kafka_req r = *fifo_at(s, s->head + i);

	if (i == 0) {
		s->head++;
		s->count--;
		return r;
	}
	for (; i + 1 < s->count; i++)
		*fifo_at(s, s->head + i) = *fifo_at(s, s->head + i + 1);
	s->count--;
	return r;
}

/* ---- transactions ------------------------------------------------------- */

static void emit(struct proto_io *io, const struct kafka_req *r, enum txn_status status,
                 uint64_t end_ns, int error)
{
	const struct kafka_api *a = api_of(r->api_key);
	char num[8], err[8];
	struct l7_txn t;

	txn_init(&t, PROTO_KAFKA, r->start_ns);
	t.status = status;
	/* a reply carried from before its request was seen (garbage, midstream) ends no earlier */
	t.end_ns = end_ns < r->start_ns ? r->start_ns : end_ns;
	txn_str(&t, io->cnt, "messaging.system", "kafka", 5, 0);
	if (a) {
		txn_str(&t, io->cnt, "messaging.operation.name", a->name, strlen(a->name), 0);
	} else {
		int n = snprintf(num, sizeof(num), "%d", r->api_key);

		txn_str(&t, io->cnt, "messaging.operation.name", num, (size_t)n, 0);
	}
	if (r->api_key == API_PRODUCE || r->api_key == API_FETCH)
		txn_str(&t, io->cnt, "messaging.operation.type",
		        r->api_key == API_PRODUCE ? "send" : "receive",
		        r->api_key == API_PRODUCE ? 4 : 7, 0);
	if (r->topic_len)
		txn_str(&t, io->cnt, "messaging.destination.name", r->topic, r->topic_len,
		        r->flags & REQ_TOPIC_CUT ? TXN_TRUNCATED : 0);
	if (r->topics >= 0)
		txn_int(&t, io->cnt, "messaging.kafka.topic_count", r->topics);
	if (r->flags & REQ_CLIENT)
		txn_str(&t, io->cnt, "messaging.client.id", r->client, r->client_len,
		        TXN_SENSITIVE | (r->flags & REQ_CLIENT_CUT ? TXN_TRUNCATED : 0));
	txn_int(&t, io->cnt, "messaging.kafka.api_version", r->api_version);
	if (status == TXN_ERROR) {
		int n = snprintf(err, sizeof(err), "%d", error);

		txn_str(&t, io->cnt, "error.type", err, (size_t)n, 0);
	}
	proto_emit(io, &t);
}

/* ---- requests ----------------------------------------------------------- */

/* The topics array: its length and the first topic's name (if named). */
static void req_topics(struct cur *c, struct kafka_req *r, bool compact, bool by_id)
{
	const uint8_t *s;
	size_t have;
	int64_t n = rd_array(c, compact), len;

	if (!c->ok || n < 0 || n > INT32_MAX)
		return;
	r->topics = (int32_t)n;
	if (n == 0 || by_id)
		return;
	len = rd_str(c, compact, &s, &have);
	if (len > 0)
		r->topic_len =
		        keep(r->topic, KAFKA_TOPIC_MAX, s, have, len, &r->flags, REQ_TOPIC_CUT);
}

/* Produce: [transactional_id] acks timeout_ms topic_data. Returns acks (-2: unread). */
static int produce_body(struct cur *c, struct kafka_req *r, bool flex)
{
	const uint8_t *s;
	size_t have;
	int acks;

	if (r->api_version >= 3)
		rd_str(c, flex, &s, &have);
	acks = rd16(c);
	rd32(c);
	if (!c->ok)
		return -2;
	req_topics(c, r, flex, r->api_version >= 13);
	return acks;
}

/* Fetch: [replica_id] max_wait min_bytes [max_bytes] [isolation] [session id, epoch] topics. */
static void fetch_body(struct cur *c, struct kafka_req *r, bool flex)
{
	int v = r->api_version;

	skip(c, (v <= 14 ? 4 : 0) + 8 + (v >= 3 ? 4 : 0) + (v >= 4 ? 1 : 0) + (v >= 7 ? 8 : 0));
	req_topics(c, r, flex, v >= 13);
}

/* Header v1/v2 after the size. PROTO_INVALID if it cannot be a request header. */
static int req_header(struct cur *c, uint32_t size, struct kafka_req *r)
{
	size_t have;
	int64_t n;

	r->api_key = rd16(c);
	r->api_version = rd16(c);
	r->corr = rd32(c);
	if (r->api_key < 0 || r->api_key > KAFKA_API_KEY_MAX || r->api_version < 0 ||
	    r->api_version > KAFKA_API_VERSION_MAX)
		return PROTO_INVALID;
	n = rd16(c); /* client_id: never compact, even in header v2 */
	if (!c->ok)
		return 0; /* a salvaged head that ends here */
	if (n < -1 || n > (int64_t)size - KAFKA_REQ_MIN)
		return PROTO_INVALID;
	if (n >= 0) {
		have = c->len - c->off < (size_t)n ? c->len - c->off : (size_t)n;
		r->flags |= REQ_CLIENT;
		r->client_len = keep(r->client, KAFKA_CLIENT_ID_MAX, c->p + c->off, have, n,
		                     &r->flags, REQ_CLIENT_CUT);
		skip(c, (uint64_t)n);
	}
	if (flexible(r->api_key, r->api_version))
		skip_tags(c);
	return 0;
}

/* Bytes of a message of @total looked at now: the head, or what a gap leaves. */
static int head_len(const struct proto_io *io, size_t len, uint64_t total, size_t fixed,
                    size_t *look)
{
	*look = total < KAFKA_HEAD_MAX ? (size_t)total : KAFKA_HEAD_MAX;
	if (len >= *look)
		return 0;
	if (!io->gap_after || len < fixed)
		return PROTO_INCOMPLETE;
	*look = len; /* salvage what came before the gap */
	return 0;
}

static long consume(struct proto_io *io, size_t len, uint64_t total)
{
	size_t used = total < len ? (size_t)total : len;

	io->skip = total - used;
	return (long)used;
}

static long req_msg(struct kafka_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	struct kafka_req r = { .start_ns = io->ts_ns, .topics = -1 };
	uint32_t size;
	size_t look;
	struct cur c;
	int acks = -2;

	if (len < 4)
		return PROTO_INCOMPLETE;
	size = be32(p);
	if (size < KAFKA_REQ_MIN || size > KAFKA_MSG_MAX)
		return PROTO_INVALID;
	if (head_len(io, len, 4ull + size, KAFKA_FIXED_REQ, &look) < 0)
		return PROTO_INCOMPLETE;
	c = (struct cur){ .p = p + 4, .len = look - 4, .ok = true };
	if (req_header(&c, size, &r) < 0)
		return PROTO_INVALID;
	if (c.ok && r.api_key == API_PRODUCE)
		acks = produce_body(&c, &r, flexible(r.api_key, r.api_version));
	else if (c.ok && r.api_key == API_FETCH)
		fetch_body(&c, &r, flexible(r.api_key, r.api_version));
	if (acks == 0)
		emit(io, &r, TXN_OK, r.start_ns, 0); /* acks=0: the broker never answers */
	else
		fifo_push(s, io, &r);
	return consume(io, len, 4ull + size);
}

/* ---- responses ---------------------------------------------------------- */

/* One Produce partition response; its error code (0 if none or unread). */
static int produce_partition(struct cur *c, int v, bool flex)
{
	const uint8_t *s;
	size_t have;
	int err;

	rd32(c); /* index */
	err = rd16(c);
	if (err != 0 || !c->ok)
		return c->ok ? err : 0;
	skip(c, 8u + (v >= 2 ? 8 : 0) + (v >= 5 ? 8 : 0));
	if (v >= 8) {
		int64_t n = rd_array(c, flex);

		for (int64_t i = 0; i < n && i < KAFKA_WALK_MAX && c->ok; i++) {
			rd32(c);
			rd_str(c, flex, &s, &have);
			if (flex)
				skip_tags(c);
		}
		if (n > KAFKA_WALK_MAX)
			c->ok = false;
		rd_str(c, flex, &s, &have);
	}
	if (flex)
		skip_tags(c);
	return 0;
}

/* The first non-zero partition error of a Produce response, within bounds. */
static int produce_error(struct cur *c, int v, bool flex)
{
	const uint8_t *s;
	size_t have;
	int64_t topics = rd_array(c, flex);
	unsigned walked = 0;

	for (int64_t t = 0; t < topics && c->ok; t++) {
		int64_t parts;

		if (v >= 13)
			skip(c, KAFKA_UUID_LEN);
		else
			rd_str(c, flex, &s, &have);
		parts = rd_array(c, flex);
		for (int64_t i = 0; i < parts && c->ok; i++) {
			int err = produce_partition(c, v, flex);

			if (err)
				return err;
			if (++walked >= KAFKA_WALK_MAX)
				return 0;
		}
		if (flex)
			skip_tags(c);
	}
	return 0;
}

/* The response's error code, 0 when none was read. */
static int resp_error(struct cur *c, const struct kafka_req *r)
{
	const struct kafka_api *a = api_of(r->api_key);
	int v = r->api_version, err;
	bool flex = flexible(r->api_key, v);

	if (flex && r->api_key != API_API_VERSIONS)
		skip_tags(c); /* response header v1; ApiVersions always answers with v0 */
	if (r->api_key == API_PRODUCE)
		return produce_error(c, v, flex);
	if (!a || a->err_from == NOVER || v < a->err_from || v > a->err_to)
		return 0;
	if (a->throttle_from != NOVER && v >= a->throttle_from)
		rd32(c);
	err = rd16(c);
	return c->ok ? err : 0;
}

/*
 * Find the request answered by @corr: its index from the head, or -1. The
 * requests before it that a response-side gap has passed are settled.
 */
static int64_t answered(struct kafka_state *s, struct proto_io *io, int32_t corr)
{
	uint32_t i, k = 0;

	for (i = 0; i < s->count; i++)
		if (fifo_at(s, s->head + i)->corr == corr)
			break;
	if (i == s->count)
		return -1;
	while (k < i) {
		struct kafka_req r;

		if (fifo_at(s, s->head + k)->gaps == s->resp_gaps) {
			k++;
			continue;
		}
		r = fifo_take(s, k);
		i--;
		emit(io, &r, TXN_NO_RESPONSE, r.start_ns, 0);
	}
	return i;
}

static long resp_msg(struct kafka_state *s, struct proto_io *io, const uint8_t *p, size_t len)
{
	struct kafka_req r;
	uint32_t size;
	size_t look;
	struct cur c;
	int64_t i;
	int err;

	if (len < 4)
		return PROTO_INCOMPLETE;
	size = be32(p);
	if (size < KAFKA_RESP_MIN || size > KAFKA_MSG_MAX)
		return PROTO_INVALID;
	if (head_len(io, len, 4ull + size, KAFKA_FIXED_RESP, &look) < 0)
		return PROTO_INCOMPLETE;
	c = (struct cur){ .p = p + 4, .len = look - 4, .ok = true };
	i = answered(s, io, rd32(&c));
	if (i < 0) {
		io->cnt->unpaired[PROTO_KAFKA]++;
		return consume(io, len, 4ull + size);
	}
	r = fifo_take(s, (uint32_t)i);
	err = resp_error(&c, &r);
	emit(io, &r, err ? TXN_ERROR : TXN_OK, io->ts_ns, err);
	return consume(io, len, 4ull + size);
}

/* ---- parser entry points ------------------------------------------------ */

static long kafka_parse(void *st, struct proto_io *io, enum proto_side side, const uint8_t *p,
                        size_t len)
{
	struct kafka_state *s = st;
	size_t off = 0;
	long r = PROTO_INCOMPLETE;

	/* several messages per call, but a skip ends the call: it applies after them */
	while (off < len && io->skip == 0) {
		r = side == PROTO_REQ ? req_msg(s, io, p + off, len - off)
		                      : resp_msg(s, io, p + off, len - off);
		if (r < 0)
			break;
		off += (size_t)r;
	}
	return off > 0 ? (long)off : r;
}

/*
 * A message is read at once or not at all: nothing to forget. A gap on the
 * response side may hold responses: the requests pending now are settled
 * by the next response that answers a later one (answered()) or by close().
 */
static void kafka_gap(void *st, struct proto_io *io, enum proto_side side, uint64_t len)
{
	struct kafka_state *s = st;

	(void)io;
	(void)len;
	if (side == PROTO_RESP)
		s->resp_gaps++;
}

static void kafka_close(void *st, struct proto_io *io)
{
	struct kafka_state *s = st;

	for (; s->count > 0; s->count--, s->head++) {
		const struct kafka_req *r = fifo_at(s, s->head);

		emit(io, r, TXN_NO_RESPONSE, r->start_ns, 0);
	}
}

static int kafka_init(void *st)
{
	(void)st;
	return 0;
}

static void kafka_fini(void *st)
{
	struct kafka_state *s = st;

	free(s->ext);
	s->ext = NULL;
}

/* ---- detection ---------------------------------------------------------- */

/* Could p[0..len) start a size field of at least @min bytes? */
static enum proto_match detect_size(const uint8_t *p, size_t len, uint32_t min)
{
	uint32_t size;

	if (len < 4)
		return p[0] <= (KAFKA_MSG_MAX >> 24) ? PROTO_MAYBE : PROTO_NO;
	size = be32(p);
	return size >= min && size <= KAFKA_MSG_MAX ? PROTO_YES : PROTO_NO;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * A request header: size, a known api key, a small version, a non-negative
 * correlation id and a printable client id that fits the message. Text
 * protocols fail the size ("GET " is 1.2 GB), PostgreSQL's startup the
 * client id (it would be "\0user\0...").
 */
static enum proto_match detect_request(const uint8_t *p, size_t len)
{
	enum proto_match m = detect_size(p, len, KAFKA_REQ_MIN);
	int16_t clen;

	if (m != PROTO_YES)
		return m;
	/* byte by byte, so that a short first run gets a firm no as early as possible */
	if (len > 4 && p[4] != 0) /* api_key < 256 */
		return PROTO_NO;
	if (len > 5 && (p[5] >= KAFKA_APIS || !kafka_apis[p[5]].name))
		return PROTO_NO;
	if (len > 6 && p[6] != 0) /* api_version < 256 */
		return PROTO_NO;
	if (len > 7 && p[7] > KAFKA_DETECT_VERSION)
		return PROTO_NO;
	if (len > 8 && (p[8] & 0x80)) /* correlation_id >= 0 */
		return PROTO_NO;
	if (len < 14)
		return PROTO_MAYBE;
	clen = (int16_t)be16(p + 12);
	if (clen < -1 || clen > (int32_t)be32(p) - KAFKA_REQ_MIN)
		return PROTO_NO;
	for (size_t i = 14; i < len && i < 14 + (size_t)(clen > 0 ? clen : 0); i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return PROTO_NO;
	return len >= 14 + (size_t)(clen > 0 ? clen : 0) ? PROTO_YES : PROTO_MAYBE;
}

static enum proto_match kafka_detect(enum proto_side side, const uint8_t *p, size_t len,
                                     unsigned flags)
{
	if (side == PROTO_REQ)
		return detect_request(p, len);
	if (!(flags & PROTO_MIDSTREAM))
		return PROTO_NO; /* the client speaks first */
	/* a response is a size and a correlation id: never more than a maybe */
	return detect_size(p, len, KAFKA_RESP_DETECT_MIN) == PROTO_NO ? PROTO_NO : PROTO_MAYBE;
}

const struct proto_parser proto_kafka = {
	.name = "kafka",
	.id = PROTO_KAFKA,
	.state_size = sizeof(struct kafka_state),
	.detect = kafka_detect,
	.init = kafka_init,
	.parse = kafka_parse,
	.gap = kafka_gap,
	.close = kafka_close,
	.fini = kafka_fini,
};
