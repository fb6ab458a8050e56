// SPDX-License-Identifier: Apache-2.0
/*
 * ipc_decode() on raw datagrams. Whatever it accepts must be exactly what
 * ipc_encode() produces for the same type, seq and payload: the two share
 * their checks, so an accepted datagram that does not round-trip means the
 * sides disagree on the wire format. A rejected one must leave out->u zero.
 */
#include <errno.h>

#include "ipc/ipc.h"
#include "test/fuzz/fuzz.h"

static void check_rejected(const struct ipc_msg *m, int r)
{
	static const struct ipc_msg zero;

	FUZZ_CHECK(r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EINVAL);
	FUZZ_CHECK(memcmp(&m->u, &zero.u, sizeof(m->u)) == 0);
	FUZZ_CHECK(ipc_strerror(r) != NULL);
}

static void check_round_trip(const uint8_t *in, size_t size, const struct ipc_msg *m)
{
	uint8_t out[IPC_MSG_MAX];
	int n;

	FUZZ_CHECK(size >= IPC_HDR_SIZE && size <= IPC_MSG_MAX);
	FUZZ_CHECK(m->hdr.len == size - IPC_HDR_SIZE);
	n = ipc_encode(out, sizeof(out), (enum ipc_type)m->hdr.type, m->hdr.seq, &m->u, m->hdr.len);
	FUZZ_CHECK(n >= 0 && (size_t)n == size);
	FUZZ_CHECK(memcmp(out, in, size) == 0);
	/* One byte short of room: refused, nothing written. */
	n = ipc_encode(out, size - 1, (enum ipc_type)m->hdr.type, m->hdr.seq, &m->u, m->hdr.len);
	FUZZ_CHECK(n == -EMSGSIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_dup(data, size);
	struct ipc_msg m;
	int r = ipc_decode(buf, size, &m);

	if (r == 0)
		check_round_trip(buf, size, &m);
	else
		check_rejected(&m, r);
	free(buf);
	return 0;
}
