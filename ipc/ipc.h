/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between bpfwarden-loader (privileged at start, capless broker
 * afterwards) and bpfwarden-processor (unprivileged, seccomp-confined).
 *
 * Trust boundary: each side treats every byte and every fd from the other as
 * hostile. Messages travel over a SOCK_SEQPACKET unix socket, so one message
 * is one datagram: a receiver reads at most IPC_MSG_MAX bytes and rejects
 * anything whose header does not match the datagram length exactly.
 *
 * Every message is a fixed 16-byte header followed by a payload whose size is
 * fixed by its type (no variable-length payload, except the text of
 * IPC_ERROR, whose maximum is named). All integers are host byte order: both
 * ends run on the same kernel.
 *
 *   header (16 bytes)
 *     0  u32 magic     IPC_MAGIC
 *     4  u16 version   IPC_VERSION; a mismatch is reported, never parsed
 *     6  u16 type      enum ipc_type
 *     8  u32 len       payload bytes after the header
 *    12  u32 seq       sender's message counter, starting at 0
 *
 * The conversation, in order (anything else ends the connection):
 *   processor -> loader   IPC_HELLO    once, first
 *   loader -> processor   IPC_WELCOME  announces nfds
 *   loader -> processor   IPC_FD       nfds times, each with exactly one fd
 *                                      attached by SCM_RIGHTS
 *   loader -> processor   IPC_READY    hand-off complete
 *   either way            IPC_ERROR    instead of any of the above, then close
 *   loader -> processor   IPC_STOP     after READY, at most once: drain the
 *                                      ring buffers, report, exit 0
 * After IPC_READY the loader only watches the socket: its closing means the
 * processor has gone. IPC_STOP exists because the loader, capless and of
 * another uid, cannot signal the processor; if the processor does not exit
 * in time the loader exits and the processor's parent-death signal
 * (SIGKILL) ends it.
 */
#ifndef BPFWARDEN_IPC_H
#define BPFWARDEN_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAGIC         0x46575042u /* "BPWF" in memory order on little-endian */
#define IPC_VERSION       1
#define IPC_HDR_SIZE      16
#define IPC_ERROR_MSG_MAX 200        /* text bytes in IPC_ERROR, NUL included */
#define IPC_MSG_MAX       256        /* largest datagram either side accepts */
#define IPC_FDS_MAX       8          /* most fds one hand-off may announce */
#define IPC_RINGBUF_MAX   (1u << 30) /* largest ring buffer data area accepted */
#define IPC_STATS_MAX     4096       /* largest counter array (bytes) accepted */

enum ipc_type {
	IPC_HELLO = 1,
	IPC_WELCOME = 2,
	IPC_FD = 3,
	IPC_READY = 4,
	IPC_ERROR = 5,
	IPC_STOP = 6,
};

struct ipc_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;
	uint32_t seq;
};
_Static_assert(sizeof(struct ipc_hdr) == IPC_HDR_SIZE, "ipc header is 16 bytes");

/* IPC_HELLO, 8 bytes: 0 u32 pid of the processor, 4 u32 flags (must be 0). */
struct ipc_hello {
	uint32_t pid;
	uint32_t flags;
};
_Static_assert(sizeof(struct ipc_hello) == 8, "hello is 8 bytes");

/*
 * IPC_WELCOME, 40 bytes: 0 u32 nfds (1..IPC_FDS_MAX), 4 u32 loader pid,
 * 8 u8[32] SHA-256 of the eBPF object the loader loaded (for the audit trail).
 */
struct ipc_welcome {
	uint32_t nfds;
	uint32_t loader_pid;
	uint8_t object_sha256[32];
};
_Static_assert(sizeof(struct ipc_welcome) == 40, "welcome is 40 bytes");

enum ipc_fd_kind {
	/* BPF ring buffer of security events (exec/exit); mmap consumer page
	 * read-write, producer page + data read-only. */
	IPC_FD_RINGBUF_SECURITY = 1,
	/* BPF_F_MMAPABLE array of u64 kernel counters, frozen by the loader
	 * so it can only be mapped read-only: the processor reads the
	 * counters and can never reset them. */
	IPC_FD_STATS = 2,
	/* BPF ring buffer of L7 records (connections, TCP payload, TLS
	 * plaintext); same mapping rules as the security ring buffer. Sent
	 * only when L7 capture is on. */
	IPC_FD_RINGBUF_L7 = 3,
};

/*
 * IPC_FD, 24 bytes, with exactly one fd attached:
 *   0 u32 kind        enum ipc_fd_kind
 *   4 u32 entries     ring buffers: 0; stats: number of u64 counters
 *   8 u64 size        ring buffer: data bytes (power of two, page multiple,
 *                     <= IPC_RINGBUF_MAX); stats: entries * 8 (<= IPC_STATS_MAX)
 *  16 u32 value_size  ring buffer: 0; stats: 8
 *  20 u32 flags       must be 0
 */
struct ipc_fd_desc {
	uint32_t kind;
	uint32_t entries;
	uint64_t size;
	uint32_t value_size;
	uint32_t flags;
};
_Static_assert(sizeof(struct ipc_fd_desc) == 24, "fd descriptor is 24 bytes");

/* IPC_READY, IPC_STOP: no payload. */

/*
 * IPC_ERROR, 4 + n bytes (4 < len <= 4 + IPC_ERROR_MSG_MAX):
 *   0 s32 code (a positive errno value), 4 char text[n], NUL-terminated
 *   within n, printable ASCII only.
 */
struct ipc_error {
	int32_t code;
	char text[IPC_ERROR_MSG_MAX];
};

/* A decoded message; payload copied out of the datagram into the union. */
struct ipc_msg {
	struct ipc_hdr hdr;
	union {
		struct ipc_hello hello;
		struct ipc_welcome welcome;
		struct ipc_fd_desc fd;
		struct ipc_error error;
	} u;
};

/*
 * Encode a message of @type with @payload (@len bytes) into @buf (@cap bytes).
 * Returns the datagram length, or -EINVAL (unknown type, payload size not the
 * type's), or -EMSGSIZE (does not fit @cap or IPC_MSG_MAX).
 */
int ipc_encode(void *buf, size_t cap, enum ipc_type type, uint32_t seq, const void *payload,
               size_t len);

/*
 * Decode one datagram of @len bytes. Returns 0 and fills @out, or:
 *   -EBADMSG          shorter than a header, wrong magic, len field not
 *                     equal to the datagram, payload invalid for its type
 *                     (bad flags, kind, sizes, unterminated error text)
 *   -EPROTONOSUPPORT  version differs; out->hdr.version holds the peer's
 *   -EINVAL           unknown type
 */
int ipc_decode(const void *buf, size_t len, struct ipc_msg *out);

/* Text for a decode/recv error code, for log messages. */
const char *ipc_strerror(int err);

/*
 * Send one message, with @fd attached by SCM_RIGHTS if @fd >= 0.
 * Returns 0 or -errno (short sends are -EMSGSIZE).
 */
int ipc_send(int sock, enum ipc_type type, uint32_t seq, const void *payload, size_t len, int fd);

/*
 * Receive and decode one message. *@fd is set to the attached fd (opened
 * O_CLOEXEC) or -1. Returns 0, -ECONNRESET on orderly close, an ipc_decode()
 * error, -EMSGSIZE for a truncated datagram, -EBADMSG for ancillary data
 * that is not exactly one SCM_RIGHTS fd (every fd that did arrive is closed),
 * or -errno. On any error *@fd is -1.
 */
int ipc_recv(int sock, struct ipc_msg *out, int *fd);

#endif
