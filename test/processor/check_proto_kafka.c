// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/proto_kafka.c, through a real session (test/processor/
 * proto_harness.h). The fixtures below are byte-exact messages built from
 * the Kafka protocol specification (https://kafka.apache.org/protocol:
 * request header v1/v2, response header v0/v1, compact types and tagged
 * fields for flexible versions; record batches are RecordBatch v2 with a
 * valid CRC-32C). Every table case also runs with each data step cut at
 * every byte boundary; every success case has a truncated or malformed twin
 * right after it.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test/processor/proto_harness.h"

Suite *proto_kafka_suite(void);

/* ---- fixtures ----------------------------------------------------------- */

/* apiversions v3 req */
static const uint8_t apiversions_v3_req[] = {
	0x00, 0x00, 0x00, 0x24,                               /* size: 36 */
	0x00, 0x12,                                           /* api_key */
	0x00, 0x03,                                           /* api_version */
	0x00, 0x00, 0x00, 0x01,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00,                                                 /* header tagged fields: none */
	0x0b, 0x6c, 0x69, 0x62, 0x72, 0x64, 0x6b, 0x61, 0x66,
	0x6b, 0x61,                         /* client_software_name: "librdkafka" (compact) */
	0x06, 0x32, 0x2e, 0x33, 0x2e, 0x30, /* client_software_version: "2.3.0" (compact) */
	0x00,                               /* tagged fields */
};

/* apiversions v3 resp */
static const uint8_t apiversions_v3_resp[] = {
	0x00, 0x00, 0x00, 0x1a, /* size: 26 */
	0x00, 0x00, 0x00, 0x01, /* correlation_id */
	0x00, 0x00,             /* error_code (response header v0, even for v3) */
	0x03,                   /* api_keys: 2 (compact) */
	0x00, 0x00,             /* api_key Produce */
	0x00, 0x00,             /* min */
	0x00, 0x09,             /* max */
	0x00,                   /* tagged fields */
	0x00, 0x01,             /* api_key Fetch */
	0x00, 0x00,             /* min */
	0x00, 0x0d,             /* max */
	0x00,                   /* tagged fields */
	0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
	0x00,                   /* tagged fields */
};

/* apiversions v3 resp unsupported */
static const uint8_t apiversions_v3_resp_unsupported[] = {
	0x00, 0x00, 0x00, 0x1a, /* size: 26 */
	0x00, 0x00, 0x00, 0x01, /* correlation_id */
	0x00, 0x23,             /* error_code (response header v0, even for v3) */
	0x03,                   /* api_keys: 2 (compact) */
	0x00, 0x00,             /* api_key Produce */
	0x00, 0x00,             /* min */
	0x00, 0x09,             /* max */
	0x00,                   /* tagged fields */
	0x00, 0x01,             /* api_key Fetch */
	0x00, 0x00,             /* min */
	0x00, 0x0d,             /* max */
	0x00,                   /* tagged fields */
	0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
	0x00,                   /* tagged fields */
};

/* metadata v1 req */
static const uint8_t metadata_v1_req[] = {
	0x00, 0x00, 0x00, 0x1d,                               /* size: 29 */
	0x00, 0x03,                                           /* api_key */
	0x00, 0x01,                                           /* api_version */
	0x00, 0x00, 0x00, 0x02,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00, 0x00, 0x00, 0x01,                               /* topics: 1 */
	0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,       /* name: "orders" */
};

/* metadata v1 resp */
static const uint8_t metadata_v1_resp[] = {
	0x00, 0x00, 0x00, 0x30,                         /* size: 48 */
	0x00, 0x00, 0x00, 0x02,                         /* correlation_id */
	0x00, 0x00, 0x00, 0x01,                         /* brokers: 1 */
	0x00, 0x00, 0x00, 0x01,                         /* node_id */
	0x00, 0x05, 0x6b, 0x61, 0x66, 0x6b, 0x61,       /* host: "kafka" */
	0x00, 0x00, 0x23, 0x84,                         /* port */
	0xff, 0xff,                                     /* rack: null */
	0x00, 0x00, 0x00, 0x01,                         /* controller_id */
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, /* name: "orders" */
	0x00,                                           /* is_internal */
	0x00, 0x00, 0x00, 0x00,                         /* partitions: 0 */
};

/* metadata v9 req */
static const uint8_t metadata_v9_req[] = {
	0x00, 0x00, 0x00, 0x1f,                               /* size: 31 */
	0x00, 0x03,                                           /* api_key */
	0x00, 0x09,                                           /* api_version */
	0x00, 0x00, 0x00, 0x03,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00,                                                 /* header tagged fields: none */
	0x02,                                                 /* topics: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,             /* name: "orders" (compact) */
	0x00,                                                 /* tagged fields */
	0x01,                                                 /* allow_auto_topic_creation */
	0x00, /* include_cluster_authorized_operations */
	0x00, /* include_topic_authorized_operations */
	0x00, /* tagged fields */
};

/* metadata v9 resp */
static const uint8_t metadata_v9_resp[] = {
	0x00, 0x00, 0x00, 0x27,             /* size: 39 */
	0x00, 0x00, 0x00, 0x03,             /* correlation_id */
	0x00,                               /* header tagged fields: none */
	0x00, 0x00, 0x00, 0x00,             /* throttle_time_ms */
	0x02,                               /* brokers: 1 (compact) */
	0x00, 0x00, 0x00, 0x01,             /* node_id */
	0x06, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* host: "kafka" (compact) */
	0x00, 0x00, 0x23, 0x84,             /* port */
	0x00,                               /* rack: null (compact) */
	0x00,                               /* tagged fields */
	0x03, 0x63, 0x31,                   /* cluster_id: "c1" (compact) */
	0x00, 0x00, 0x00, 0x01,             /* controller_id */
	0x01,                               /* topics: 0 (compact) */
	0x80, 0x00, 0x00, 0x00,             /* cluster_authorized_operations */
	0x00,                               /* tagged fields */
};

/* produce v3 req */
static const uint8_t produce_v3_req[] = {
	0x00,
	0x00,
	0x00,
	0x7a, /* size: 122 */
	0x00,
	0x00, /* api_key */
	0x00,
	0x03, /* api_version */
	0x00,
	0x00,
	0x00,
	0x04, /* correlation_id */
	0x00,
	0x07,
	0x72,
	0x64,
	0x6b,
	0x61,
	0x66,
	0x6b,
	0x61, /* client_id: "rdkafka" */
	0xff,
	0xff, /* transactional_id: null */
	0xff,
	0xff, /* acks */
	0x00,
	0x00,
	0x75,
	0x30, /* timeout_ms */
	0x00,
	0x00,
	0x00,
	0x01, /* topic_data: 1 */
	0x00,
	0x06,
	0x6f,
	0x72,
	0x64,
	0x65,
	0x72,
	0x73, /* name: "orders" */
	0x00,
	0x00,
	0x00,
	0x01, /* partition_data: 1 */
	0x00,
	0x00,
	0x00,
	0x00, /* index */
	/* records: length 73 + RecordBatch v2, one record "hello" */
	0x00,
	0x00,
	0x00,
	0x49,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x3d,
	0xff,
	0xff,
	0xff,
	0xff,
	0x02,
	0xe6,
	0x41,
	0xa4,
	0x4b,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0x00,
	0x00,
	0x00,
	0x01,
	0x16,
	0x00,
	0x00,
	0x00,
	0x01,
	0x0a,
	0x68,
	0x65,
	0x6c,
	0x6c,
	0x6f,
	0x00,
};

/* produce v3 acks0 req */
static const uint8_t produce_v3_acks0_req[] = {
	0x00,
	0x00,
	0x00,
	0x7a, /* size: 122 */
	0x00,
	0x00, /* api_key */
	0x00,
	0x03, /* api_version */
	0x00,
	0x00,
	0x00,
	0x05, /* correlation_id */
	0x00,
	0x07,
	0x72,
	0x64,
	0x6b,
	0x61,
	0x66,
	0x6b,
	0x61, /* client_id: "rdkafka" */
	0xff,
	0xff, /* transactional_id: null */
	0x00,
	0x00, /* acks */
	0x00,
	0x00,
	0x75,
	0x30, /* timeout_ms */
	0x00,
	0x00,
	0x00,
	0x01, /* topic_data: 1 */
	0x00,
	0x06,
	0x6f,
	0x72,
	0x64,
	0x65,
	0x72,
	0x73, /* name: "orders" */
	0x00,
	0x00,
	0x00,
	0x01, /* partition_data: 1 */
	0x00,
	0x00,
	0x00,
	0x00, /* index */
	/* records: length 73 + RecordBatch v2, one record "hello" */
	0x00,
	0x00,
	0x00,
	0x49,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x3d,
	0xff,
	0xff,
	0xff,
	0xff,
	0x02,
	0xe6,
	0x41,
	0xa4,
	0x4b,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0x00,
	0x00,
	0x00,
	0x01,
	0x16,
	0x00,
	0x00,
	0x00,
	0x01,
	0x0a,
	0x68,
	0x65,
	0x6c,
	0x6c,
	0x6f,
	0x00,
};

/* produce v3 resp */
static const uint8_t produce_v3_resp[] = {
	0x00, 0x00, 0x00, 0x2e,                         /* size: 46 */
	0x00, 0x00, 0x00, 0x04,                         /* correlation_id */
	0x00, 0x00, 0x00, 0x01,                         /* responses: 1 */
	0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, /* name: "orders" */
	0x00, 0x00, 0x00, 0x01,                         /* partition_responses: 1 */
	0x00, 0x00, 0x00, 0x00,                         /* index */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* base_offset */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms */
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
};

/* produce v3 resp not leader */
static const uint8_t produce_v3_resp_not_leader[] = {
	0x00, 0x00, 0x00, 0x2e,                         /* size: 46 */
	0x00, 0x00, 0x00, 0x04,                         /* correlation_id */
	0x00, 0x00, 0x00, 0x01,                         /* responses: 1 */
	0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, /* name: "orders" */
	0x00, 0x00, 0x00, 0x01,                         /* partition_responses: 1 */
	0x00, 0x00, 0x00, 0x00,                         /* index */
	0x00, 0x06,                                     /* error_code */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base_offset */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms */
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
};

/* produce v9 req */
static const uint8_t produce_v9_req[] = {
	0x00, 0x00, 0x00, 0x77,                               /* size: 119 */
	0x00, 0x00,                                           /* api_key */
	0x00, 0x09,                                           /* api_version */
	0x00, 0x00, 0x00, 0x06,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00,                                                 /* header tagged fields: none */
	0x05, 0x74, 0x78, 0x2d, 0x31,             /* transactional_id: "tx-1" (compact) */
	0x00, 0x01,                               /* acks */
	0x00, 0x00, 0x75, 0x30,                   /* timeout_ms */
	0x02,                                     /* topic_data: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, /* name: "orders" (compact) */
	0x02,                                     /* partition_data: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                   /* index */
	/* records: compact length 74 + RecordBatch v2, one record "hello" */
	0x4a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0xff, 0xff,
	0xff, 0xff, 0x02, 0xe6, 0x41, 0xa4, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x01, 0x16, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
	0x00, /* tagged fields (partition) */
	0x00, /* tagged fields (topic) */
	0x00, /* tagged fields */
};

/* produce v9 resp */
static const uint8_t produce_v9_resp[] = {
	0x00, 0x00, 0x00, 0x35,                         /* size: 53 */
	0x00, 0x00, 0x00, 0x06,                         /* correlation_id */
	0x00,                                           /* header tagged fields: none */
	0x02,                                           /* responses: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,       /* name: "orders" (compact) */
	0x02,                                           /* partition_responses: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                         /* index */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* base_offset */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset */
	0x01,                                           /* record_errors: 0 (compact) */
	0x00,                                           /* error_message: null (compact) */
	0x00,                                           /* tagged fields */
	0x00,                                           /* tagged fields */
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
	0x00,                                           /* tagged fields */
};

/* produce v9 resp not leader */
static const uint8_t produce_v9_resp_not_leader[] = {
	0x00, 0x00, 0x00, 0x35,                         /* size: 53 */
	0x00, 0x00, 0x00, 0x06,                         /* correlation_id */
	0x00,                                           /* header tagged fields: none */
	0x02,                                           /* responses: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,       /* name: "orders" (compact) */
	0x02,                                           /* partition_responses: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                         /* index */
	0x00, 0x06,                                     /* error_code */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base_offset */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset */
	0x01,                                           /* record_errors: 0 (compact) */
	0x00,                                           /* error_message: null (compact) */
	0x00,                                           /* tagged fields */
	0x00,                                           /* tagged fields */
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
	0x00,                                           /* tagged fields */
};

/* fetch v4 req */
static const uint8_t fetch_v4_req[] = {
	0x00, 0x00, 0x00, 0x60,                                     /* size: 96 */
	0x00, 0x01,                                                 /* api_key */
	0x00, 0x04,                                                 /* api_version */
	0x00, 0x00, 0x00, 0x07,                                     /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61,       /* client_id: "rdkafka" */
	0xff, 0xff, 0xff, 0xff,                                     /* replica_id */
	0x00, 0x00, 0x01, 0xf4,                                     /* max_wait_ms */
	0x00, 0x00, 0x00, 0x01,                                     /* min_bytes */
	0x03, 0x20, 0x00, 0x00,                                     /* max_bytes */
	0x00,                                                       /* isolation_level */
	0x00, 0x00, 0x00, 0x02,                                     /* topics: 2 */
	0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,             /* topic: "orders" */
	0x00, 0x00, 0x00, 0x01,                                     /* partitions: 1 */
	0x00, 0x00, 0x00, 0x00,                                     /* partition */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* fetch_offset */
	0x00, 0x10, 0x00, 0x00,                                     /* partition_max_bytes */
	0x00, 0x08, 0x70, 0x61, 0x79, 0x6d, 0x65, 0x6e, 0x74, 0x73, /* topic: "payments" */
	0x00, 0x00, 0x00, 0x01,                                     /* partitions: 1 */
	0x00, 0x00, 0x00, 0x00,                                     /* partition */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,             /* fetch_offset */
	0x00, 0x10, 0x00, 0x00,                                     /* partition_max_bytes */
};

/* fetch v4 resp */
static const uint8_t fetch_v4_resp[] = {
	0x00,
	0x00,
	0x00,
	0x7f, /* size: 127 */
	0x00,
	0x00,
	0x00,
	0x07, /* correlation_id */
	0x00,
	0x00,
	0x00,
	0x00, /* throttle_time_ms */
	0x00,
	0x00,
	0x00,
	0x01, /* responses: 1 */
	0x00,
	0x06,
	0x6f,
	0x72,
	0x64,
	0x65,
	0x72,
	0x73, /* topic: "orders" */
	0x00,
	0x00,
	0x00,
	0x01, /* partitions: 1 */
	0x00,
	0x00,
	0x00,
	0x00, /* partition_index */
	0x00,
	0x00, /* error_code */
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01, /* high_watermark */
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01, /* last_stable_offset */
	0xff,
	0xff,
	0xff,
	0xff, /* aborted_transactions: null */
	/* records: length 73 + RecordBatch v2 */
	0x00,
	0x00,
	0x00,
	0x49,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x3d,
	0xff,
	0xff,
	0xff,
	0xff,
	0x02,
	0xe6,
	0x41,
	0xa4,
	0x4b,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0x00,
	0x00,
	0x01,
	0x8b,
	0xcf,
	0xe5,
	0x68,
	0x00,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0xff,
	0x00,
	0x00,
	0x00,
	0x01,
	0x16,
	0x00,
	0x00,
	0x00,
	0x01,
	0x0a,
	0x68,
	0x65,
	0x6c,
	0x6c,
	0x6f,
	0x00,
};

/* fetch v12 req */
static const uint8_t fetch_v12_req[] = {
	0x00, 0x00, 0x00, 0x59,                               /* size: 89 */
	0x00, 0x01,                                           /* api_key */
	0x00, 0x0c,                                           /* api_version */
	0x00, 0x00, 0x00, 0x08,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00,                                                 /* header tagged fields: none */
	0xff, 0xff, 0xff, 0xff,                               /* replica_id */
	0x00, 0x00, 0x01, 0xf4,                               /* max_wait_ms */
	0x00, 0x00, 0x00, 0x01,                               /* min_bytes */
	0x03, 0x20, 0x00, 0x00,                               /* max_bytes */
	0x00,                                                 /* isolation_level */
	0x00, 0x00, 0x00, 0x00,                               /* session_id */
	0xff, 0xff, 0xff, 0xff,                               /* session_epoch */
	0x02,                                                 /* topics: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,             /* topic: "orders" (compact) */
	0x02,                                                 /* partitions: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                               /* partition */
	0xff, 0xff, 0xff, 0xff,                               /* current_leader_epoch */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* fetch_offset */
	0xff, 0xff, 0xff, 0xff,                               /* last_fetched_epoch */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,       /* log_start_offset */
	0x00, 0x10, 0x00, 0x00,                               /* partition_max_bytes */
	0x00,                                                 /* tagged fields */
	0x00,                                                 /* tagged fields */
	0x01, /* forgotten_topics_data: 0 (compact) */
	0x01, /* rack_id: "" (compact) */
	0x00, /* tagged fields */
};

/* fetch v12 resp */
static const uint8_t fetch_v12_resp[] = {
	0x00, 0x00, 0x00, 0x88,                         /* size: 136 */
	0x00, 0x00, 0x00, 0x08,                         /* correlation_id */
	0x00,                                           /* header tagged fields: none */
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x00, 0x00, 0x00,                         /* session_id */
	0x02,                                           /* responses: 1 (compact) */
	0x07, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,       /* topic: "orders" (compact) */
	0x02,                                           /* partitions: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                         /* partition_index */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* high_watermark */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* last_stable_offset */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset */
	0x00,                                           /* aborted_transactions: null (compact) */
	0xff, 0xff, 0xff, 0xff,                         /* preferred_read_replica */
	/* records (compact) */
	0x4a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0xff, 0xff,
	0xff, 0xff, 0x02, 0xe6, 0x41, 0xa4, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x01, 0x16, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
	0x00, /* tagged fields */
	0x00, /* tagged fields */
	0x00, /* tagged fields */
};

/* fetch v12 resp session error */
static const uint8_t fetch_v12_resp_session_error[] = {
	0x00, 0x00, 0x00, 0x11, /* size: 17 */
	0x00, 0x00, 0x00, 0x08, /* correlation_id */
	0x00,                   /* header tagged fields: none */
	0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
	0x00, 0x46,             /* error_code */
	0x00, 0x00, 0x00, 0x00, /* session_id */
	0x01,                   /* responses: 0 (compact) */
	0x00,                   /* tagged fields */
};

/* fetch v13 req */
static const uint8_t fetch_v13_req[] = {
	0x00, 0x00, 0x00, 0x62,                               /* size: 98 */
	0x00, 0x01,                                           /* api_key */
	0x00, 0x0d,                                           /* api_version */
	0x00, 0x00, 0x00, 0x09,                               /* correlation_id */
	0x00, 0x07, 0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, /* client_id: "rdkafka" */
	0x00,                                                 /* header tagged fields: none */
	0xff, 0xff, 0xff, 0xff,                               /* replica_id */
	0x00, 0x00, 0x01, 0xf4,                               /* max_wait_ms */
	0x00, 0x00, 0x00, 0x01,                               /* min_bytes */
	0x03, 0x20, 0x00, 0x00,                               /* max_bytes */
	0x00,                                                 /* isolation_level */
	0x00, 0x00, 0x00, 0x00,                               /* session_id */
	0xff, 0xff, 0xff, 0xff,                               /* session_epoch */
	0x02,                                                 /* topics: 1 (compact) */
	/* topic_id (uuid) */
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
	0x1f, 0x02,                                     /* partitions: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                         /* partition */
	0xff, 0xff, 0xff, 0xff,                         /* current_leader_epoch */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* fetch_offset */
	0xff, 0xff, 0xff, 0xff,                         /* last_fetched_epoch */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset */
	0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes */
	0x00,                                           /* tagged fields */
	0x00,                                           /* tagged fields */
	0x01,                                           /* forgotten_topics_data: 0 (compact) */
	0x01,                                           /* rack_id: "" (compact) */
	0x00,                                           /* tagged fields */
};

/* fetch v13 resp */
static const uint8_t fetch_v13_resp[] = {
	0x00, 0x00, 0x00, 0x91, /* size: 145 */
	0x00, 0x00, 0x00, 0x09, /* correlation_id */
	0x00,                   /* header tagged fields: none */
	0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
	0x00, 0x00,             /* error_code */
	0x00, 0x00, 0x00, 0x00, /* session_id */
	0x02,                   /* responses: 1 (compact) */
	/* topic_id (uuid) */
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
	0x1f, 0x02,                                     /* partitions: 1 (compact) */
	0x00, 0x00, 0x00, 0x00,                         /* partition_index */
	0x00, 0x00,                                     /* error_code */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* high_watermark */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* last_stable_offset */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset */
	0x00,                                           /* aborted_transactions: null (compact) */
	0xff, 0xff, 0xff, 0xff,                         /* preferred_read_replica */
	/* records (compact) */
	0x4a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0xff, 0xff,
	0xff, 0xff, 0x02, 0xe6, 0x41, 0xa4, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x01, 0x16, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
	0x00, /* tagged fields */
	0x00, /* tagged fields */
	0x00, /* tagged fields */
};

/* ApiVersions v0 with a null client_id, and its answer */
static const uint8_t apiversions_v0_null_req[] = {
	0x00, 0x00, 0x00, 0x0a, /* size: 10 */
	0x00, 0x12, 0x00, 0x00, /* ApiVersions v0 */
	0x00, 0x00, 0x00, 0x05, /* correlation_id */
	0xff, 0xff,             /* client_id: null */
};

static const uint8_t apiversions_v0_resp[] = {
	0x00, 0x00, 0x00, 0x0a, /* size: 10 */
	0x00, 0x00, 0x00, 0x05, /* correlation_id */
	0x00, 0x00,             /* error_code */
	0x00, 0x00, 0x00, 0x00, /* api_keys: 0 */
};

/* Metadata v9 whose client_id is longer than the message */
static const uint8_t bad_client_len_req[] = {
	0x00, 0x00, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x41,
};

/* A size over KAFKA_MSG_MAX (100 MiB) */
static const uint8_t too_big[] = { 0x06, 0x40, 0x00, 0x01, 0x00, 0x03, 0x00, 0x01 };

/* A response answering correlation id 99, which nobody asked for */
static const uint8_t stray_resp[] = { 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x63, 0x00, 0x00 };

/* Produce v3 of 100 MiB (the maximum): only its head is captured */
#define HUGE_SIZE (100u << 20)
static const uint8_t huge_produce_head[] = {
	0x06, 0x40, 0x00, 0x00,           /* size: 100 MiB */
	0x00, 0x00, 0x00, 0x03,           /* Produce v3 */
	0x00, 0x00, 0x00, 0x0c,           /* correlation_id 12 */
	0x00, 0x03, 'a',  'p',  'p',      /* client_id */
	0xff, 0xff,                       /* transactional_id: null */
	0xff, 0xff,                       /* acks: -1 */
	0x00, 0x00, 0x75, 0x30,           /* timeout_ms */
	0x00, 0x00, 0x00, 0x01,           /* topic_data: 1 */
	0x00, 0x04, 'l',  'o',  'g', 's', /* name */
	0x00, 0x00, 0x00, 0x01,           /* partition_data: 1 */
	0x00, 0x00, 0x00, 0x00,           /* index */
	0x06, 0x3f, 0xff, 0xd5,           /* records: the rest of the message */
};

/* ---- table -------------------------------------------------------------- */

#define MAX_STEPS 8
#define MAX_FRAGS 4
#define MAX_TX    6
#define BUF_MAX   (64 * 1024)
#define ABSENT    (-1)

/* .detected: nothing detected (PROTO_UNKNOWN itself means the default) */
#define NOT_DETECTED PROTO__COUNT

struct frag {
	const uint8_t *p;
	size_t len;
};

/* A step: fragments sent as one run (cut to @keep bytes if > 0), or a gap. */
struct kstep {
	enum proto_side side;
	struct frag f[MAX_FRAGS];
	size_t keep;
	uint64_t gap;
};

struct kexp {
	enum txn_status status;
	const char *op, *type, *topic, *client, *error;
	int64_t topics, version;
};

struct kcase {
	const char *name;
	struct kstep steps[MAX_STEPS];
	unsigned ntx;
	struct kexp tx[MAX_TX];
	uint64_t unpaired, errors, desyncs;
	enum proto_id detected; /* 0: PROTO_KAFKA */
	int nosplit;            /* sizes beyond what splitting at every byte can afford */
};

/* clang-format off */
#define F(x)               { x, sizeof(x) }
#define REQ(...)           { .side = PROTO_REQ, .f = { __VA_ARGS__ } }
#define RESP(...)          { .side = PROTO_RESP, .f = { __VA_ARGS__ } }
#define REQ_CUT(n, ...)    { .side = PROTO_REQ, .f = { __VA_ARGS__ }, .keep = n }
#define RESP_CUT(n, ...)   { .side = PROTO_RESP, .f = { __VA_ARGS__ }, .keep = n }
#define GAP(s, n)          { .side = s, .gap = n }
#define T(st, op, ty, topic, n, client, v, err) { st, op, ty, topic, client, err, n, v }
#define OK(op, v)          T(TXN_OK, op, NULL, NULL, ABSENT, "rdkafka", v, NULL)
#define NORESP(op, v)      T(TXN_NO_RESPONSE, op, NULL, NULL, ABSENT, "rdkafka", v, NULL)
/* clang-format on */

static struct harness h; /* large: static */
static uint8_t bufs[MAX_STEPS][BUF_MAX];

static size_t build(const struct kcase *c, struct h_step *out)
{
	size_t n = 0;

	for (; n < MAX_STEPS && (c->steps[n].f[0].p || c->steps[n].gap); n++) {
		const struct kstep *k = &c->steps[n];
		size_t len = 0;

		out[n] = (struct h_step){ .side = k->side, .len = k->gap };
		if (k->gap)
			continue;
		for (int i = 0; i < MAX_FRAGS && k->f[i].p; i++) {
			ck_assert_uint_le(len + k->f[i].len, BUF_MAX);
			memcpy(bufs[n] + len, k->f[i].p, k->f[i].len);
			len += k->f[i].len;
		}
		out[n].data = bufs[n];
		out[n].len = k->keep ? k->keep : len;
	}
	return n;
}

static void check_str(const struct h_txn *t, const char *key, const char *want, unsigned flags,
                      const char *name, unsigned i)
{
	const struct h_attr *a = h_attr(t, key);

	if (!want) {
		ck_assert_msg(!a, "%s: txn %u: unexpected %s=\"%s\"", name, i, key,
		              a ? a->str : "");
		return;
	}
	ck_assert_msg(a && a->type == TXN_STR, "%s: txn %u: %s missing", name, i, key);
	ck_assert_msg(a->len == strlen(want) && !memcmp(a->str, want, a->len),
	              "%s: txn %u: %s=\"%s\", want \"%s\"", name, i, key, a->str, want);
	ck_assert_msg(a->flags == flags, "%s: txn %u: %s flags %u, want %u", name, i, key, a->flags,
	              flags);
}

static void check_int(const struct h_txn *t, const char *key, int64_t want, const char *name,
                      unsigned i)
{
	int64_t v = h_int(t, key);

	if (want == ABSENT)
		ck_assert_msg(v == INT64_MIN, "%s: txn %u: unexpected %s", name, i, key);
	else
		ck_assert_msg(v == want, "%s: txn %u: %s=%lld, want %lld", name, i, key,
		              (long long)v, (long long)want);
}

static void check_txn(const struct h_txn *t, const struct kexp *e, const char *name, unsigned i)
{
	ck_assert_msg(t->proto == PROTO_KAFKA, "%s: txn %u proto %d", name, i, t->proto);
	ck_assert_msg(t->status == e->status, "%s: txn %u status %d, want %d", name, i, t->status,
	              e->status);
	ck_assert_msg(t->end_ns >= t->start_ns, "%s: txn %u ends before it starts", name, i);
	if (t->status == TXN_NO_RESPONSE)
		ck_assert_msg(t->end_ns == t->start_ns, "%s: txn %u: end without a response", name,
		              i);
	check_str(t, "messaging.system", "kafka", 0, name, i);
	check_str(t, "messaging.operation.name", e->op, 0, name, i);
	check_str(t, "messaging.operation.type", e->type, 0, name, i);
	check_str(t, "messaging.destination.name", e->topic, 0, name, i);
	check_str(t, "messaging.client.id", e->client, TXN_SENSITIVE, name, i);
	check_str(t, "error.type", e->error, 0, name, i);
	check_int(t, "messaging.kafka.topic_count", e->topics, name, i);
	check_int(t, "messaging.kafka.api_version", e->version, name, i);
}

static void run_case(const struct kcase *c)
{
	struct h_step steps[MAX_STEPS];
	size_t n = build(c, steps);
	char why[1024];

	if (c->nosplit) {
		harness_init(&h);
		harness_run(&h, PROTO_KAFKA, PROTO_ROLE_CLIENT, steps, n, 0, 0);
	} else if (harness_check_splits(&h, PROTO_KAFKA, PROTO_ROLE_CLIENT, steps, n, why,
	                                sizeof(why)) < 0) {
		ck_abort_msg("%s: %s", c->name, why);
	}
	ck_assert_msg(h.detected == (c->detected == NOT_DETECTED ? PROTO_UNKNOWN
	                             : c->detected               ? c->detected
	                                                         : PROTO_KAFKA),
	              "%s: detected %d", c->name, h.detected);
	ck_assert_msg(h.n == c->ntx, "%s: %u transactions, want %u", c->name, h.n, c->ntx);
	for (unsigned i = 0; i < c->ntx; i++)
		check_txn(&h.txns[i], &c->tx[i], c->name, i);
	ck_assert_msg(h.env.cnt.unpaired[PROTO_KAFKA] == c->unpaired, "%s: unpaired %llu", c->name,
	              (unsigned long long)h.env.cnt.unpaired[PROTO_KAFKA]);
	ck_assert_msg(h.env.cnt.parse_errors[PROTO_KAFKA] == c->errors, "%s: parse errors %llu",
	              c->name, (unsigned long long)h.env.cnt.parse_errors[PROTO_KAFKA]);
	ck_assert_msg(h.env.cnt.desyncs == c->desyncs, "%s: desyncs %llu", c->name,
	              (unsigned long long)h.env.cnt.desyncs);
}

static const struct kcase cases[] = {
	{ .name = "apiversions v3",
	  .steps = { REQ(F(apiversions_v3_req)), RESP(F(apiversions_v3_resp)) },
	  .ntx = 1,
	  .tx = { OK("ApiVersions", 3) } },
	{ .name = "apiversions v3, response cut by the end of the capture",
	  .steps = { REQ(F(apiversions_v3_req)), RESP_CUT(20, F(apiversions_v3_resp)) },
	  .ntx = 1,
	  .tx = { NORESP("ApiVersions", 3) } },

	{ .name = "apiversions v3, unsupported version",
	  .steps = { REQ(F(apiversions_v3_req)), RESP(F(apiversions_v3_resp_unsupported)) },
	  .ntx = 1,
	  .tx = { T(TXN_ERROR, "ApiVersions", NULL, NULL, ABSENT, "rdkafka", 3, "35") } },
	{ .name = "apiversions v3, response over the size limit",
	  .steps = { REQ(F(apiversions_v3_req)), RESP(F(too_big)) },
	  .ntx = 1,
	  .tx = { NORESP("ApiVersions", 3) },
	  .errors = 1,
	  .desyncs = 1 },

	{ .name = "apiversions v0, null client id",
	  .steps = { REQ(F(apiversions_v0_null_req)), RESP(F(apiversions_v0_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "ApiVersions", NULL, NULL, ABSENT, NULL, 0, NULL) } },
	{ .name = "apiversions v0, request one byte short",
	  .steps = { REQ(F(metadata_v1_req)), REQ_CUT(13, F(apiversions_v0_null_req)),
	             RESP(F(metadata_v1_resp), F(apiversions_v0_resp)) },
	  .ntx = 1,
	  .tx = { OK("Metadata", 1) },
	  .unpaired = 1 },

	{ .name = "metadata v1 and v9 pipelined",
	  .steps = { REQ(F(metadata_v1_req), F(metadata_v9_req)),
	             RESP(F(metadata_v1_resp), F(metadata_v9_resp)) },
	  .ntx = 2,
	  .tx = { OK("Metadata", 1), OK("Metadata", 9) } },
	{ .name = "metadata v1, then a client id longer than its message",
	  .steps = { REQ(F(metadata_v1_req), F(bad_client_len_req)), RESP(F(metadata_v1_resp)) },
	  .ntx = 1,
	  .tx = { OK("Metadata", 1) },
	  .errors = 1,
	  .desyncs = 1 },

	{ .name = "responses out of order",
	  .steps = { REQ(F(apiversions_v3_req), F(metadata_v1_req)),
	             RESP(F(metadata_v1_resp), F(apiversions_v3_resp)) },
	  .ntx = 2,
	  .tx = { OK("Metadata", 1), OK("ApiVersions", 3) } },
	{ .name = "responses out of order, one answered twice",
	  .steps = { REQ(F(apiversions_v3_req), F(metadata_v1_req)),
	             RESP(F(metadata_v1_resp), F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { OK("Metadata", 1), NORESP("ApiVersions", 3) },
	  .unpaired = 1 },

	{ .name = "produce v3",
	  .steps = { REQ(F(produce_v3_req)), RESP(F(produce_v3_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Produce", "send", "orders", 1, "rdkafka", 3, NULL) } },
	{ .name = "produce v3, partition error",
	  .steps = { REQ(F(produce_v3_req)), RESP(F(produce_v3_resp_not_leader)) },
	  .ntx = 1,
	  .tx = { T(TXN_ERROR, "Produce", "send", "orders", 1, "rdkafka", 3, "6") } },
	{ .name = "produce v3, request cut by the end of the capture",
	  .steps = { REQ_CUT(60, F(produce_v3_req)) },
	  .ntx = 0 },

	{ .name = "produce v3 with acks=0: no response expected",
	  .steps = { REQ(F(produce_v3_acks0_req), F(metadata_v1_req)), RESP(F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { T(TXN_OK, "Produce", "send", "orders", 1, "rdkafka", 3, NULL),
	          OK("Metadata", 1) } },
	{ .name = "produce v3 with acks=0, then a stray response",
	  .steps = { REQ(F(produce_v3_acks0_req)), RESP(F(produce_v3_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Produce", "send", "orders", 1, "rdkafka", 3, NULL) },
	  .unpaired = 1 },

	{ .name = "produce v9 (flexible)",
	  .steps = { REQ(F(produce_v9_req)), RESP(F(produce_v9_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Produce", "send", "orders", 1, "rdkafka", 9, NULL) } },
	{ .name = "produce v9, partition error",
	  .steps = { REQ(F(produce_v9_req)), RESP(F(produce_v9_resp_not_leader)) },
	  .ntx = 1,
	  .tx = { T(TXN_ERROR, "Produce", "send", "orders", 1, "rdkafka", 9, "6") } },

	{ .name = "fetch v4, two topics",
	  .steps = { REQ(F(fetch_v4_req)), RESP(F(fetch_v4_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Fetch", "receive", "orders", 2, "rdkafka", 4, NULL) } },
	{ .name = "fetch v4, response cut",
	  .steps = { REQ(F(fetch_v4_req)), RESP_CUT(10, F(fetch_v4_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_NO_RESPONSE, "Fetch", "receive", "orders", 2, "rdkafka", 4, NULL) } },

	{ .name = "fetch v12 (flexible, names)",
	  .steps = { REQ(F(fetch_v12_req)), RESP(F(fetch_v12_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Fetch", "receive", "orders", 1, "rdkafka", 12, NULL) } },
	{ .name = "fetch v12, session error",
	  .steps = { REQ(F(fetch_v12_req)), RESP(F(fetch_v12_resp_session_error)) },
	  .ntx = 1,
	  .tx = { T(TXN_ERROR, "Fetch", "receive", "orders", 1, "rdkafka", 12, "70") } },

	{ .name = "fetch v13 (topic ids: no name)",
	  .steps = { REQ(F(fetch_v13_req)), RESP(F(fetch_v13_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Fetch", "receive", NULL, 1, "rdkafka", 13, NULL) } },
	{ .name = "fetch v13, garbage after the request",
	  .steps = { REQ(F(fetch_v13_req), F(too_big)), RESP(F(fetch_v13_resp)) },
	  .ntx = 1,
	  .tx = { T(TXN_OK, "Fetch", "receive", NULL, 1, "rdkafka", 13, NULL) },
	  .errors = 1,
	  .desyncs = 1 },

	{ .name = "huge request: head parsed, body skipped across the gap",
	  .steps = { REQ(F(huge_produce_head)),
	             GAP(PROTO_REQ, HUGE_SIZE + 4 - sizeof(huge_produce_head)),
	             REQ(F(metadata_v1_req)), RESP(F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { OK("Metadata", 1),
	          T(TXN_NO_RESPONSE, "Produce", "send", "logs", 1, "app", 3, NULL) } },
	{ .name = "huge request, gap longer than the message: resync",
	  .steps = { REQ(F(huge_produce_head)),
	             GAP(PROTO_REQ, HUGE_SIZE + 4 - sizeof(huge_produce_head) + 1),
	             REQ(F(metadata_v1_req)), RESP(F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { OK("Metadata", 1),
	          T(TXN_NO_RESPONSE, "Produce", "send", "logs", 1, "app", 3, NULL) },
	  .desyncs = 1 },

	{ .name = "response head salvaged before a gap",
	  .steps = { REQ(F(apiversions_v3_req), F(metadata_v1_req)),
	             RESP_CUT(12, F(apiversions_v3_resp)),
	             GAP(PROTO_RESP, sizeof(apiversions_v3_resp) - 12), RESP(F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { OK("ApiVersions", 3), OK("Metadata", 1) } },
	{ .name = "response header cut by a gap: resync, the lost one settled",
	  .steps = { REQ(F(apiversions_v3_req), F(metadata_v1_req)),
	             RESP_CUT(6, F(apiversions_v3_resp)), GAP(PROTO_RESP, 100),
	             RESP(F(metadata_v1_resp)) },
	  .ntx = 2,
	  .tx = { NORESP("ApiVersions", 3), OK("Metadata", 1) },
	  .desyncs = 1 },

	{ .name = "stray response",
	  .steps = { REQ(F(metadata_v1_req)), RESP(F(stray_resp), F(metadata_v1_resp)) },
	  .ntx = 1,
	  .tx = { OK("Metadata", 1) },
	  .unpaired = 1 },
	{ .name = "stray response cut short",
	  .steps = { REQ(F(metadata_v1_req)), RESP_CUT(9, F(stray_resp)) },
	  .ntx = 1,
	  .tx = { NORESP("Metadata", 1) } },

	{ .name = "close with pending requests",
	  .steps = { REQ(F(apiversions_v3_req), F(metadata_v1_req), F(fetch_v12_req)) },
	  .ntx = 3,
	  .tx = { NORESP("ApiVersions", 3), NORESP("Metadata", 1),
	          T(TXN_NO_RESPONSE, "Fetch", "receive", "orders", 1, "rdkafka", 12, NULL) } },

	{ .name = "garbage is not kafka",
	  .steps = { REQ(F(too_big)), RESP(F(apiversions_v0_resp)) },
	  .ntx = 0,
	  .detected = NOT_DETECTED },
};

START_TEST(test_conversations)
{
	run_case(&cases[_i]);
}
END_TEST

/* More requests in flight than the table holds: the extra ones are dropped and counted. */
START_TEST(test_pending_full)
{
	static uint8_t req[80 * sizeof(apiversions_v0_null_req)];
	struct h_step steps[1] = { { PROTO_REQ, req, sizeof(req), 0 } };

	for (size_t i = 0; i < 80; i++)
		memcpy(req + i * sizeof(apiversions_v0_null_req), apiversions_v0_null_req,
		       sizeof(apiversions_v0_null_req));
	harness_init(&h);
	harness_run(&h, PROTO_KAFKA, PROTO_ROLE_CLIENT, steps, 1, 0, 0);
	ck_assert_uint_eq(h.env.cnt.pending_dropped[PROTO_KAFKA], 80 - 64);
	ck_assert_uint_eq(h.env.cnt.no_response[PROTO_KAFKA], 64);
}
END_TEST

/* ---- detection ---------------------------------------------------------- */

struct dcase {
	enum proto_side side;
	unsigned flags;
	const void *p;
	size_t len;
	enum proto_match want;
};

/* clang-format off */
#define D(side, flags, s, want)  { side, flags, s, sizeof(s) - 1, want }
#define DA(side, flags, a, want) { side, flags, a, sizeof(a), want }
#define DN(side, flags, a, n, want) { side, flags, a, n, want }
/* clang-format on */

#define MID PROTO_MIDSTREAM
#define CS  PROTO_CONN_START

static const struct dcase dcases[] = {
	DA(PROTO_REQ, CS, apiversions_v3_req, PROTO_YES),
	DA(PROTO_REQ, MID, metadata_v1_req, PROTO_YES),
	DA(PROTO_REQ, CS, produce_v9_req, PROTO_YES),
	DA(PROTO_REQ, CS, apiversions_v0_null_req, PROTO_YES),
	DN(PROTO_REQ, CS, apiversions_v3_req, 3, PROTO_MAYBE),
	DN(PROTO_REQ, CS, apiversions_v3_req, 10, PROTO_MAYBE),
	DN(PROTO_REQ, CS, apiversions_v3_req, 16, PROTO_MAYBE), /* client id not all there */
	DA(PROTO_REQ, CS, too_big, PROTO_NO),
	DA(PROTO_REQ, CS, bad_client_len_req, PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x0a\x00\xc8\x00\x00\x00\x00\x00\x01\xff\xff", PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x0a\x00\x12\x00\x63\x00\x00\x00\x01\xff\xff", PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x0a\x00\x12\x00\x00\x80\x00\x00\x01\xff\xff", PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x10\x00\x12\x00\x00\x00\x00\x00\x01\x00\x02\x01\x02",
	  PROTO_NO), /* client id not printable */
	D(PROTO_REQ, CS, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "\x00\x00\x00\x08\x04\xd2\x16\x2f", PROTO_NO), /* PG SSLRequest */
	D(PROTO_REQ, CS, "\x00\x00\x00\x29\x00\x03\x00\x00user\0postgres\0database\0postgres\0\0",
	  PROTO_NO), /* PG StartupMessage: looks like Metadata v0 until the client id */
	D(PROTO_REQ, CS, "\x00\x00\x00\x15\x00\x03\x00\x00user\0a\0database\0a\0\0", PROTO_NO),
	D(PROTO_REQ, CS, "*1\r\n$4\r\nPING\r\n", PROTO_NO),
	D(PROTO_REQ, CS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", PROTO_NO), /* TLS */
	D(PROTO_REQ, CS,
	  "\x4a\x00\x00\x00\x0a"
	  "8.0.36\0",
	  PROTO_NO),                                       /* MySQL greeting */
	DA(PROTO_RESP, CS, apiversions_v3_resp, PROTO_NO), /* the client speaks first */
	DA(PROTO_RESP, MID, apiversions_v3_resp, PROTO_MAYBE),
	DA(PROTO_RESP, MID, too_big, PROTO_NO),
	D(PROTO_RESP, MID, "+OK\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "HTTP/1.1 200 OK\r\n", PROTO_NO),
	D(PROTO_RESP, MID, "\x00\x00\x00\x02\x00\x00", PROTO_NO),
};

START_TEST(test_detect)
{
	const struct dcase *d = &dcases[_i];
	enum proto_match m = proto_kafka.detect(d->side, d->p, d->len, d->flags);

	ck_assert_msg(m == d->want, "case %d: %d, want %d", _i, m, d->want);
}
END_TEST

Suite *proto_kafka_suite(void)
{
	Suite *s = suite_create("proto_kafka");
	TCase *tc = tcase_create("kafka");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_conversations, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_pending_full);
	tcase_add_loop_test(tc, test_detect, 0, (int)(sizeof(dcases) / sizeof(dcases[0])));
	suite_add_tcase(s, tc);
	return s;
}
