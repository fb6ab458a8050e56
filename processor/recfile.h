/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The raw-event file of --record and --replay: exactly the records the
 * processor read from its ring buffers, in order, so that a run can be fed
 * back through the same pipeline (benchmarks, bug reports) without eBPF.
 *
 * Layout (little-endian, the machine's own: the file is for this node and its
 * peers, not an interchange format):
 *   header, 24 bytes: "BPFWREC1", u32 version (1), u32 flags (0),
 *                     i64 boot_to_real_ns (CLOCK_REALTIME - CLOCK_BOOTTIME)
 *   then records:     u32 length, u8 source (RECFILE_SECURITY, RECFILE_L7),
 *                     u8 pad[3] (0), then length bytes
 * A replayed file is as untrusted as the ring buffer: every length is
 * checked against RECFILE_REC_MAX and the bytes left, and every record goes
 * through the same validation as a live one.
 */
#ifndef BPFWARDEN_PROCESSOR_RECFILE_H
#define BPFWARDEN_PROCESSOR_RECFILE_H

#include <stdint.h>
#include <stdio.h>

#define RECFILE_MAGIC   "BPFWREC1"
#define RECFILE_VERSION 1
#define RECFILE_REC_MAX (64 * 1024) /* longer than any kernel record (L7_CAPTURE_MAX + header) */

enum recfile_source {
	RECFILE_SECURITY = 0,
	RECFILE_L7 = 1,
};

struct recfile {
	FILE *f;
	const char *path;
	uint64_t records;
	uint64_t offset; /* bytes read or written so far */
	int64_t boot_to_real_ns;
	uint8_t buf[RECFILE_REC_MAX];
};

/* Create @path (mode 0600, truncated) and write the header. 0 or -errno; @err says why. */
int recfile_create(struct recfile *r, const char *path, int64_t boot_to_real_ns, char *err,
                   size_t errlen);

/* Append one record; 0 or -errno (-EMSGSIZE beyond RECFILE_REC_MAX). */
int recfile_write(struct recfile *r, enum recfile_source src, const void *rec, uint32_t len);

/* Open @path and check the header. 0 or -errno / -EBADMSG; @err names the file and the problem. */
int recfile_open(struct recfile *r, const char *path, char *err, size_t errlen);

/*
 * The next record into r->buf: 1 with *src and *len set, 0 at a clean end of
 * file, -EBADMSG (truncated record, bad length or source; @err names the
 * offset) or -errno.
 */
int recfile_read(struct recfile *r, enum recfile_source *src, uint32_t *len, char *err,
                 size_t errlen);

/* Flush and close; 0 or -errno (a write error shows here at the latest). */
int recfile_close(struct recfile *r);

#endif
