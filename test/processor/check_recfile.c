// SPDX-License-Identifier: Apache-2.0
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "processor/recfile.h"

static char dir[] = "/tmp/bpfw-recfile-XXXXXX";
static char path[sizeof(dir) + 32];
static struct recfile rf;
static char err[512];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/bpfw-recfile-XXXXXX")));
	snprintf(path, sizeof(path), "%s/r", dir);
}

static void teardown(void)
{
	char link[sizeof(path) + 8];

	snprintf(link, sizeof(link), "%s.link", path);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static void write_bytes(const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A valid header for hand-made files. */
static size_t header(uint8_t *h)
{
	uint32_t v = RECFILE_VERSION;

	memset(h, 0, 24);
	memcpy(h, RECFILE_MAGIC, 8);
	memcpy(h + 8, &v, 4);
	return 24;
}

START_TEST(round_trip)
{
	enum recfile_source src;
	uint32_t len;
	static uint8_t big[RECFILE_REC_MAX];

	memset(big, 0xab, sizeof(big));
	ck_assert_int_eq(recfile_create(&rf, path, -42, err, sizeof(err)), 0);
	ck_assert_int_eq(recfile_write(&rf, RECFILE_SECURITY, "abc", 3), 0);
	ck_assert_int_eq(recfile_write(&rf, RECFILE_L7, big, sizeof(big)), 0);
	ck_assert_int_eq(recfile_write(&rf, RECFILE_L7, "", 0), 0);
	ck_assert_int_eq(recfile_write(&rf, RECFILE_L7, big, sizeof(big) + 1), -EMSGSIZE);
	ck_assert_int_eq(recfile_close(&rf), 0);

	ck_assert_int_eq(recfile_open(&rf, path, err, sizeof(err)), 0);
	ck_assert_int_eq(rf.boot_to_real_ns, -42);
	ck_assert_int_eq(recfile_read(&rf, &src, &len, err, sizeof(err)), 1);
	ck_assert_int_eq(src, RECFILE_SECURITY);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(rf.buf, "abc", 3);
	ck_assert_int_eq(recfile_read(&rf, &src, &len, err, sizeof(err)), 1);
	ck_assert_int_eq(src, RECFILE_L7);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert_mem_eq(rf.buf, big, sizeof(big));
	ck_assert_int_eq(recfile_read(&rf, &src, &len, err, sizeof(err)), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(recfile_read(&rf, &src, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(rf.records, 3);
	recfile_close(&rf);
}
END_TEST

START_TEST(bad_headers_are_named)
{
	uint8_t h[24];

	ck_assert_int_eq(recfile_open(&rf, "/nonexistent/x", err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x"));
	write_bytes("BPFWREC", 7);
	ck_assert_int_eq(recfile_open(&rf, path, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not a bpfwarden --record file"));
	recfile_close(&rf);
	header(h);
	h[8] = 2; /* version 2 */
	write_bytes(h, sizeof(h));
	ck_assert_int_eq(recfile_open(&rf, path, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "version 2"));
	recfile_close(&rf);
}
END_TEST

/* Each twin of a valid one-record file: how it is broken, what the error says. */
START_TEST(bad_records_are_named_by_offset)
{
	static const struct {
		uint8_t rec[12];
		size_t n;
		const char *says;
	} cases[] = {
		{ { 3, 0, 0, 0, 1, 0, 0, 0, 'a', 'b', 'c' }, 11, NULL },       /* valid */
		{ { 3, 0, 0, 0, 1, 0, 0, 0, 'a', 'b' }, 10, "ends inside" },   /* cut payload */
		{ { 3, 0, 0, 0, 1, 0 }, 6, "ends inside" },                    /* cut header */
		{ { 3, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 'c' }, 11, "source 2" }, /* bad source */
		{ { 3, 0, 0, 0, 1, 1, 0, 0, 'a', 'b', 'c' }, 11, "invalid" },  /* pad not 0 */
		{ { 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0 }, 8, "length 2147483647" },
	};
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum recfile_source src;
		uint32_t len;
		size_t n = header(buf);
		int r;

		memcpy(buf + n, cases[i].rec, cases[i].n);
		write_bytes(buf, n + cases[i].n);
		ck_assert_int_eq(recfile_open(&rf, path, err, sizeof(err)), 0);
		r = recfile_read(&rf, &src, &len, err, sizeof(err));
		if (!cases[i].says) {
			ck_assert_int_eq(r, 1);
			ck_assert_int_eq(recfile_read(&rf, &src, &len, err, sizeof(err)), 0);
		} else {
			ck_assert_msg(r == -EBADMSG, "case %zu: %d", i, r);
			ck_assert_msg(strstr(err, cases[i].says) && strstr(err, "offset 24"),
			              "case %zu: %s", i, err);
		}
		recfile_close(&rf);
	}
}
END_TEST

START_TEST(create_refuses_symlinks_and_names_the_file)
{
	char link[sizeof(path) + 8];

	snprintf(link, sizeof(link), "%s.link", path);
	write_bytes("x", 1);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(recfile_create(&rf, link, 0, err, sizeof(err)), -ELOOP);
	ck_assert_ptr_nonnull(strstr(err, link));
	ck_assert_int_lt(recfile_create(&rf, "/nonexistent/dir/x", 0, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "--record /nonexistent/dir/x"));
}
END_TEST

Suite *recfile_suite(void);
Suite *recfile_suite(void)
{
	Suite *s = suite_create("recfile");
	TCase *tc = tcase_create("recfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, bad_headers_are_named);
	tcase_add_test(tc, bad_records_are_named_by_offset);
	tcase_add_test(tc, create_refuses_symlinks_and_names_the_file);
	suite_add_tcase(s, tc);
	return s;
}
