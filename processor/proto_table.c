// SPDX-License-Identifier: Apache-2.0
/*
 * Detection order: the most specific first bytes first. HTTP/2's preface
 * ("PRI * HTTP/2.0") before HTTP/1's request line; Kafka, whose first bytes
 * are only a length, last.
 */
#include <stddef.h>

#include "processor/proto.h"

const struct proto_parser *const proto_table[] = {
	&proto_http2, &proto_http1, &proto_pgsql, &proto_mysql, &proto_redis, &proto_kafka, NULL,
};
