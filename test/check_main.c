// SPDX-License-Identifier: Apache-2.0
/*
 * The unit-test runner: every test/<area>/check_<module>.c exports one
 * Suite; this file only lists them. Built with ASan + UBSan.
 */
#include <check.h>
#include <stdlib.h>

Suite *args_suite(void);
Suite *conntrack_suite(void);
Suite *events_suite(void);
Suite *handoff_suite(void);
Suite *ipc_suite(void);
Suite *reasm_suite(void);
Suite *ringbuf_suite(void);
Suite *scrub_suite(void);
Suite *seccomp_suite(void);
Suite *text_suite(void);
Suite *session_suite(void);
Suite *proto_http1_suite(void);
Suite *proto_http2_suite(void);
Suite *proto_pgsql_suite(void);
Suite *proto_mysql_suite(void);
Suite *proto_redis_suite(void);
Suite *proto_kafka_suite(void);
Suite *pcap_source_suite(void);
Suite *recfile_suite(void);
Suite *pipeline_suite(void);
Suite *policy_suite(void);
Suite *scrub_url_suite(void);
Suite *scrub_sql_suite(void);
Suite *scrub_sql_oracle_suite(void);
Suite *detect_suite(void);
Suite *scrub_txn_suite(void);

int main(void)
{
	Suite *(*const suites[])(void) = {
		args_suite,        conntrack_suite,   events_suite,      handoff_suite,
		ipc_suite,         reasm_suite,       ringbuf_suite,     scrub_suite,
		seccomp_suite,     text_suite,        session_suite,     proto_http1_suite,
		proto_http2_suite, proto_pgsql_suite, proto_mysql_suite, proto_redis_suite,
		proto_kafka_suite, pcap_source_suite, recfile_suite,     pipeline_suite,
		policy_suite,      scrub_url_suite,   scrub_sql_suite,   scrub_sql_oracle_suite,
		detect_suite,      scrub_txn_suite,
	};
	SRunner *runner = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(runner, suites[i]());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
