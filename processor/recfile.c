// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "processor/recfile.h"

#define HDR_LEN     24
#define REC_HDR_LEN 8

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int recfile_create(struct recfile *r, const char *path, int64_t boot_to_real_ns, char *err,
                   size_t errlen)
{
	uint8_t h[HDR_LEN] = { 0 };
	int fd;

	r->path = path;
	r->records = r->offset = 0;
	r->boot_to_real_ns = boot_to_real_ns;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
		int e = errno;

		snprintf(err, errlen, "--record %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	memcpy(h, RECFILE_MAGIC, 8);
	put32(h + 8, RECFILE_VERSION);
	memcpy(h + 16, &boot_to_real_ns, sizeof(boot_to_real_ns));
	if (fwrite(h, 1, sizeof(h), r->f) != sizeof(h)) {
		snprintf(err, errlen, "--record %s: %s", path, strerror(errno));
		return -EIO;
	}
	r->offset = HDR_LEN;
	return 0;
}

int recfile_write(struct recfile *r, enum recfile_source src, const void *rec, uint32_t len)
{
	uint8_t h[REC_HDR_LEN] = { 0 };

	if (len > RECFILE_REC_MAX)
		return -EMSGSIZE;
	put32(h, len);
	h[4] = (uint8_t)src;
	/* _unlocked: one thread, and the per-call lock showed in the replay benchmark */
	if (fwrite_unlocked(h, 1, sizeof(h), r->f) != sizeof(h) ||
	    fwrite_unlocked(rec, 1, len, r->f) != len)
		return errno ? -errno : -EIO;
	r->records++;
	r->offset += REC_HDR_LEN + len;
	return 0;
}

int recfile_open(struct recfile *r, const char *path, char *err, size_t errlen)
{
	uint8_t h[HDR_LEN];
	size_t n;

	r->path = path;
	r->records = r->offset = 0;
	r->f = fopen(path, "rbe");
	if (!r->f) {
		int e = errno;

		snprintf(err, errlen, "--replay %s: %s", path, strerror(e));
		return -e;
	}
	n = fread(h, 1, sizeof(h), r->f);
	if (n != sizeof(h) || memcmp(h, RECFILE_MAGIC, 8) != 0) {
		snprintf(err, errlen, "--replay %s: not a bpfwarden --record file (no %s header)",
		         path, RECFILE_MAGIC);
		return -EBADMSG;
	}
	if (get32(h + 8) != RECFILE_VERSION || get32(h + 12) != 0) {
		snprintf(err, errlen,
		         "--replay %s: version %u flags %u, expected version %u flags 0", path,
		         get32(h + 8), get32(h + 12), RECFILE_VERSION);
		return -EBADMSG;
	}
	memcpy(&r->boot_to_real_ns, h + 16, sizeof(r->boot_to_real_ns));
	r->offset = HDR_LEN;
	return 0;
}

int recfile_read(struct recfile *r, enum recfile_source *src, uint32_t *len, char *err,
                 size_t errlen)
{
	uint8_t h[REC_HDR_LEN];
	size_t n = fread_unlocked(h, 1, sizeof(h), r->f);

	if (n == 0 && feof(r->f))
		return 0;
	if (n != sizeof(h))
		goto truncated;
	*len = get32(h);
	if (*len > RECFILE_REC_MAX || h[4] > RECFILE_L7 || h[5] || h[6] || h[7]) {
		snprintf(err, errlen,
		         "--replay %s: record at offset %llu: length %u (at most %u) or source %u "
		         "(0 or 1) invalid",
		         r->path, (unsigned long long)r->offset, *len, RECFILE_REC_MAX, h[4]);
		return -EBADMSG;
	}
	*src = (enum recfile_source)h[4];
	if (fread_unlocked(r->buf, 1, *len, r->f) != *len)
		goto truncated;
	r->records++;
	r->offset += REC_HDR_LEN + *len;
	return 1;
truncated:
	if (ferror(r->f))
		return -errno;
	snprintf(err, errlen, "--replay %s: file ends inside the record at offset %llu", r->path,
	         (unsigned long long)r->offset);
	return -EBADMSG;
}

int recfile_close(struct recfile *r)
{
	int rc = 0;

	if (r->f && fclose(r->f) != 0)
		rc = -errno;
	r->f = NULL;
	return rc;
}
