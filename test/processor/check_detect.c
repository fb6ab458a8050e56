// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for processor/detect.c (detect_redact, detect_any).
 *
 * One table holds, per detector, hits (at the start, middle and end of
 * text, in JSON, in URLs and URL-encoded), hits cut by the end of the input,
 * and near-misses that must come out byte for byte. Each case says which
 * detector fires how often; counts must match the markers in the output
 * exactly, a case's secret must never appear, whatever the capacity, and
 * redacting the output again must change and count nothing. Then: every
 * token at every cut, every prefix of every case, inputs ending at a
 * PROT_NONE page, NULs and invalid UTF-8, overlaps, and 1 MiB adversarial
 * inputs that must finish in linear time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "processor/detect.h"

Suite *detect_suite(void);

#define OUT_MAX   8192
#define CAP_EXTRA 16   /* the capacity sweep goes this far past the output */
#define FILL      0x5a /* every output byte before a call */
#define BIG_LEN   (1u << 20)
#define BIG_SECS  8.0 /* per 1 MiB input under ASan on a busy machine; quadratic takes hours */
#define TEST_SLOW 120

#define JWT                                                                                        \
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                                    \
	"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"                                     \
	"aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

struct detect_case {
	const char *name;
	const char *in;
	const char *want;   /* NULL: a near-miss, the input comes out unchanged */
	enum detector det;  /* the first marker's detector, DET__COUNT for none */
	unsigned hits;      /* markers of @det */
	const char *secret; /* must appear in no output; NULL: nothing secret */
};

static const struct detect_case cases[] = {
	/* private_key: hits and near-misses (*_kept) */
	{ "pem_rsa",
	  "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA "
	  "PRIVATE KEY-----",
	  "[REDACTED:private_key]", DET_PRIVATE_KEY, 1, "MIIEowIBAAKC" },
	{ "pem_middle",
	  "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY----- done",
	  "key: [REDACTED:private_key] done", DET_PRIVATE_KEY, 1, "MHcCAQEEIBkg" },
	{ "pem_openssh",
	  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE "
	  "KEY-----\n",
	  "[REDACTED:private_key]\n", DET_PRIVATE_KEY, 1, "b3BlbnNzaC1r" },
	{ "pem_pkcs8_json",
	  "{\"type\":\"service_account\",\"private_key\":\"-----BEGIN PRIVATE "
	  "KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n\",\"client_email\":\"x\"}",
	  "{\"type\":\"service_account\",\"private_key\":\"[REDACTED:private_key]\\n\",\"client_"
	  "email\":\"x\"}",
	  DET_PRIVATE_KEY, 1, "MIIEvQIBADANBg" },
	{ "pem_encrypted",
	  "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG\n-----END ENCRYPTED PRIVATE "
	  "KEY-----",
	  "[REDACTED:private_key]", DET_PRIVATE_KEY, 1, "MIIFHDBOBgkq" },
	{ "pem_pgp",
	  "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0\n-----END PGP PRIVATE KEY BLOCK-----",
	  "[REDACTED:private_key]", DET_PRIVATE_KEY, 1, "lQOYBF0" },
	{ "pem_cut_body", "x -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1Lf",
	  "x [REDACTED:private_key]", DET_PRIVATE_KEY, 1, "MIIEowIBAAKC" },
	{ "pem_cut_header", "x -----BEGIN RSA PRIV", "x [REDACTED:private_key]", DET_PRIVATE_KEY, 1,
	  "RSA PRIV" },
	{ "pem_cut_end_line", "-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQ\n-----END DSA PRI",
	  "[REDACTED:private_key]", DET_PRIVATE_KEY, 1, "MIIBuwIBAAKBgQ" },
	{ "pem_cert_kept",
	  "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----", NULL,
	  DET__COUNT, 0, NULL },
	{ "pem_public_kept",
	  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ\n-----END PUBLIC KEY-----", NULL,
	  DET__COUNT, 0, NULL },
	{ "pem_dashes_kept", "----- notes -----", NULL, DET__COUNT, 0, NULL },
	{ "pem_lowercase_kept", "-----begin rsa private key-----", NULL, DET__COUNT, 0, NULL },
	/* jwt: hits and near-misses (*_kept) */
	{ "jwt_alone",
	  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	  "[REDACTED:jwt]", DET_JWT, 1, "SflKxwRJSMeKKF2QT4fw" },
	{ "jwt_in_json",
	  "{\"id_token\":\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\",\"x\":1}",
	  "{\"id_token\":\"[REDACTED:jwt]\",\"x\":1}", DET_JWT, 1, "SflKxwRJSMeKKF2QT4fw" },
	{ "jwt_in_query",
	  "GET "
	  "/cb?access_token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c&state=abc HTTP/1.1",
	  "GET /cb?access_token=[REDACTED:jwt]&state=abc HTTP/1.1", DET_JWT, 1,
	  "SflKxwRJSMeKKF2QT4fw" },
	{ "jwt_in_path",
	  "/api/v1/session/"
	  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	  "/api/v1/session/[REDACTED:jwt]", DET_JWT, 1, "SflKxwRJSMeKKF2QT4fw" },
	{ "jwt_unsigned", "t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. end", "t=[REDACTED:jwt] end",
	  DET_JWT, 1, "eyJzdWIiOiJ4In0" },
	{ "jwt_cut_payload", "t=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODk",
	  "t=[REDACTED:jwt]", DET_JWT, 1, "eyJzdWIiOiIx" },
	{ "jwt_cut_header", "t=eyJhbGciOiJIUzI1NiIs", "t=[REDACTED:jwt]", DET_JWT, 1,
	  "eyJhbGciOiJIUzI1NiIs" },
	{ "jwt_header_only_kept", "t=eyJhbGciOiJIUzI1NiIs x", NULL, DET__COUNT, 0, NULL },
	{ "jwt_short_kept", "eyJ.a.b", NULL, DET__COUNT, 0, NULL },
	{ "jwe_dir_empty_key",
	  "jwe "
	  "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..48V1_ALb6US04U3b.5eym8TW_"
	  "c8SuK0ltJ3rpYIzOeDQz7TAL.XFBoMYUZodetZdvTiFvSkQ ok",
	  "jwe [REDACTED:jwt] ok", DET_JWT, 1, "5eym8TW_c8Su" },
	{ "jwt_empty_payload_kept", "eyJhbGciOiJIUzI1NiJ9..sig rest", NULL, DET__COUNT, 0, NULL },
	{ "jwt_inside_word_kept", "keyJar.open.now", NULL, DET__COUNT, 0, NULL },
	{ "jwt_one_dot_kept", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi rest", NULL, DET__COUNT, 0, NULL },
	/* bearer: hits and near-misses (*_kept) */
	{ "bearer_header", "Authorization: Bearer mF_9.B5f-4.1JqM\r\nHost: a",
	  "Authorization: Bearer [REDACTED:bearer]\r\nHost: a", DET_BEARER, 1, "mF_9.B5f-4.1JqM" },
	{ "bearer_lowercase_scheme", "authorization: bearer AbCdEf123456",
	  "authorization: bearer [REDACTED:bearer]", DET_BEARER, 1, "AbCdEf123456" },
	{ "bearer_jwt",
	  "Authorization: Bearer "
	  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	  "Authorization: Bearer [REDACTED:bearer]", DET_BEARER, 1, "SflKxwRJSMeKKF2QT4fw" },
	{ "bearer_url_encoded", "?auth=Bearer%20AbCdEf123456&x=1",
	  "?auth=Bearer%20[REDACTED:bearer]&x=1", DET_BEARER, 1, "AbCdEf123456" },
	{ "bearer_cut", "Authorization: Bearer Ab", "Authorization: Bearer [REDACTED:bearer]",
	  DET_BEARER, 1, "Ab" },
	{ "bearer_prose_kept", "the bearer of this note", NULL, DET__COUNT, 0, NULL },
	{ "bearer_token_word_kept", "a Bearer token is sent", NULL, DET__COUNT, 0, NULL },
	{ "bearer_short_kept", "Bearer Ab1 x", NULL, DET__COUNT, 0, NULL },
	{ "bearer_no_space_kept", "X-Bearer-Id: 12", NULL, DET__COUNT, 0, NULL },
	/* basic_auth: hits and near-misses (*_kept) */
	{ "basic_header", "Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n",
	  "Authorization: Basic [REDACTED:basic_auth]\r\n", DET_BASIC, 1, "dXNlcjpwYXNzd29yZA" },
	{ "basic_short", "Basic YTpi rest", "Basic [REDACTED:basic_auth] rest", DET_BASIC, 1,
	  "YTpi" },
	{ "basic_cut", "Authorization: Basic dXNlcjpw",
	  "Authorization: Basic [REDACTED:basic_auth]", DET_BASIC, 1, "dXNlcjpw" },
	{ "basic_realm_kept", "WWW-Authenticate: Basic realm=\"api\"", NULL, DET__COUNT, 0, NULL },
	{ "basic_prose_kept", "Basic Authentication is used", NULL, DET__COUNT, 0, NULL },
	{ "basic_auth_word_kept", "basic auth", NULL, DET__COUNT, 0, NULL },
	{ "basic_cut_prose_kept", "we use bearer tokens", NULL, DET__COUNT, 0, NULL },
	/* aws_key: hits and near-misses (*_kept) */
	{ "aws_key_id", "id AKIAIOSFODNN7EXAMPLE end", "id [REDACTED:aws_key] end", DET_AWS_KEY, 1,
	  "IOSFODNN7" },
	{ "aws_sts_id", "ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws_key]", DET_AWS_KEY, 1,
	  "Y34FZKBOKMU" },
	{ "aws_id_cut", "key=AKIAIOSFODNN", "key=[REDACTED:aws_key]", DET_AWS_KEY, 1, "IOSFODNN" },
	{ "aws_secret_env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	  "AWS_SECRET_ACCESS_KEY=[REDACTED:aws_key]", DET_AWS_KEY, 1, "wJalrXUtnFEMI" },
	{ "aws_secret_ini", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
	  "aws_secret_access_key = [REDACTED:aws_key]\n", DET_AWS_KEY, 1, "wJalrXUtnFEMI" },
	{ "aws_secret_json",
	  "{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\", \"x\": 1}",
	  "{\"SecretAccessKey\": \"[REDACTED:aws_key]\", \"x\": 1}", DET_AWS_KEY, 1,
	  "wJalrXUtnFEMI" },
	{ "aws_id_short_kept", "AKIA12345 AKIAIOSFODNN7EXAMPL!", NULL, DET__COUNT, 0, NULL },
	{ "aws_id_in_word_kept", "XAKIAIOSFODNN7EXAMPLE", NULL, DET__COUNT, 0, NULL },
	{ "aws_lowercase_kept", "akiaiosfodnn7example", NULL, DET__COUNT, 0, NULL },
	{ "aws_secret_name_kept", "aws_secret_access_key_id=3", NULL, DET__COUNT, 0, NULL },
	{ "aws_secret_nested_quotes",
	  "x={\"cfg\":\"{\\\"aws_secret_access_key\\\": \\\"wJalrXUtnFEMI/K7MDENG\\\"}\"}",
	  "x={\"cfg\":\"{\\\"aws_secret_access_key\\\": \\\"[REDACTED:aws_key]\\\"}\"}",
	  DET_AWS_KEY, 1, "wJalrXUtnFEMI" },
	{ "aws_secret_quotes_only_kept", "aws_secret_access_key=\"\"''\"\"", NULL, DET__COUNT, 0,
	  NULL },
	/* gcp_key: hits and near-misses (*_kept) */
	{ "gcp_key_query",
	  "https://maps.googleapis.com/maps/api/"
	  "js?key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe&libraries=places",
	  "https://maps.googleapis.com/maps/api/js?key=[REDACTED:gcp_key]&libraries=places",
	  DET_GCP_KEY, 1, "SyDaGmWKa4Js" },
	{ "gcp_key_cut", "AIzaSyDaGmWKa4", "[REDACTED:gcp_key]", DET_GCP_KEY, 1, "SyDaGmWKa4" },
	{ "gcp_short_kept", "AIzaSyDaGm x", NULL, DET__COUNT, 0, NULL },
	/* azure_key: hits and near-misses (*_kept) */
	{ "azure_conn_string",
	  "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
	  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
	  "KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
	  "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:azure_key];"
	  "EndpointSuffix=core.windows.net",
	  DET_AZURE_KEY, 1, "Eby8vdM02xNO" },
	{ "azure_bare_key",
	  "key "
	  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
	  "KBHBeksoGMGw== end",
	  "key [REDACTED:azure_key] end", DET_AZURE_KEY, 1, "Eby8vdM02xNO" },
	{ "azure_sas",
	  "https://acct.blob.core.windows.net/c/"
	  "b?sv=2021-06-08&se=2030-01-01&sr=b&sp=r&sig=Gh8Ks%2Bq9LmN0pQ3rS5tU7vW9xY1zA3bC5dE7fG9hI%"
	  "3D",
	  "https://acct.blob.core.windows.net/c/"
	  "b?sv=2021-06-08&se=2030-01-01&sr=b&sp=r&sig=[REDACTED:azure_key]",
	  DET_AZURE_KEY, 1, "Gh8Ks" },
	{ "azure_servicebus",
	  "Endpoint=sb://ns.servicebus.windows.net/"
	  ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="
	  "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0F9E=",
	  "Endpoint=sb://ns.servicebus.windows.net/"
	  ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[REDACTED:azure_key]",
	  DET_AZURE_KEY, 1, "Z9y8X7w6V5u4" },
	{ "azure_sig_short_kept", "?sig=abc&x=1", NULL, DET__COUNT, 0, NULL },
	{ "azure_signal_kept", "?signal=SIGTERM", NULL, DET__COUNT, 0, NULL },
	/* github_token: hits and near-misses (*_kept) */
	{ "github_ghp", "token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
	  "token [REDACTED:github_token]", DET_GITHUB, 1, "aB3dE5fG7hI9" },
	{ "github_in_url",
	  "https://x-access-token:ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5@github.com/o/r.git",
	  "https://x-access-token:[REDACTED:email]/o/r.git", DET_EMAIL, 1, "aB3dE5fG7hI9" },
	{ "github_pat",
	  "GITHUB_TOKEN=github_pat_11ABCDEFG0123456789abc_"
	  "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1J",
	  "GITHUB_TOKEN=[REDACTED:github_token]", DET_GITHUB, 1, "Zy9Xw8Vu7Ts6" },
	{ "github_cut", "Authorization: token ghp_aB3dE5fG7hI9jK1lM3nO",
	  "Authorization: token [REDACTED:github_token]", DET_GITHUB, 1, "aB3dE5fG7hI9" },
	{ "github_short_kept", "ghp_abc is not a token", NULL, DET__COUNT, 0, NULL },
	{ "github_prefix_in_word_kept", "xghp_1234567890abcdefghijklmnopqrstuvwxyz", NULL,
	  DET__COUNT, 0, NULL },
	/* gitlab_token: hits and near-misses (*_kept) */
	{ "gitlab_pat", "PRIVATE-TOKEN: glpat-xYz12AbC34dEf56GhI7j",
	  "PRIVATE-TOKEN: [REDACTED:gitlab_token]", DET_GITLAB, 1, "xYz12AbC34dE" },
	{ "gitlab_routable", "glpat-AbCdEfGhIjKlMnOpQrStUv.01.1w0abcdef", "[REDACTED:gitlab_token]",
	  DET_GITLAB, 1, "AbCdEfGhIjKl" },
	{ "gitlab_short_kept", "glpat-abc", NULL, DET__COUNT, 0, NULL },
	/* slack_token: hits and near-misses (*_kept) */
	{ "slack_bot", "SLACK_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
	  "SLACK_TOKEN=[REDACTED:slack_token]", DET_SLACK, 1, "AbCdEfGhIjKlMnOp" },
	{ "slack_webhook",
	  "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
	  "POST https://hooks.slack.com/services/[REDACTED:slack_token]", DET_SLACK, 1,
	  "T00000000/B0000" },
	{ "slack_short_kept", "xoxb-1", NULL, DET__COUNT, 0, NULL },
	{ "slack_other_kept", "xoxz-123456789012-12345", NULL, DET__COUNT, 0, NULL },
	/* stripe_key: hits and near-misses (*_kept) */
	{ "stripe_live", "key: sk_live_4eC39HqLyjWDarjtT1zdp7dc", "key: [REDACTED:stripe_key]",
	  DET_STRIPE, 1, "4eC39HqLyjWD" },
	{ "stripe_test_json", "{\"key\":\"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"}",
	  "{\"key\":\"[REDACTED:stripe_key]\"}", DET_STRIPE, 1, "4eC39HqLyjWD" },
	{ "stripe_restricted", "rk_live_4eC39HqLyjWDarjtT1zdp7dcXYZ", "[REDACTED:stripe_key]",
	  DET_STRIPE, 1, "4eC39HqLyjWD" },
	{ "stripe_short_kept", "sk_live_abc", NULL, DET__COUNT, 0, NULL },
	{ "stripe_pk_test_is_entropy", "pk_test_4eC39HqLyjWDarjtT1zdp7dc",
	  "[REDACTED:high_entropy]", DET_ENTROPY, 1, "4eC39HqLyjWD" },
	{ "stripe_pk_test_kept", "pk_test_abcdefghijklmnopqrstuvwxyz", NULL, DET__COUNT, 0, NULL },
	/* email: hits and near-misses (*_kept) */
	{ "email_plain", "contact jane.doe@example.com today", "contact [REDACTED:email] today",
	  DET_EMAIL, 1, "jane.doe" },
	{ "email_start", "jane@example.org", "[REDACTED:email]", DET_EMAIL, 1, "jane@" },
	{ "email_plus_subdomain", "<john.smith+news@mail.corp.example.co.uk>", "<[REDACTED:email]>",
	  DET_EMAIL, 1, "john.smith" },
	{ "email_url_encoded", "/unsubscribe?email=jane.doe%40example.com&x=1",
	  "/unsubscribe?email=[REDACTED:email]&x=1", DET_EMAIL, 1, "jane.doe" },
	{ "email_sql", "SELECT * FROM u WHERE email='bob@corp.example' LIMIT 1",
	  "SELECT * FROM u WHERE email='[REDACTED:email]' LIMIT 1", DET_EMAIL, 1, "bob@" },
	{ "email_cut_no_dot_kept", "to: jane.doe@exa", NULL, DET__COUNT, 0, NULL },
	{ "email_cut_at", "to: jane.doe@", "to: [REDACTED:email]", DET_EMAIL, 1, "jane.doe" },
	{ "email_cut_dotted", "to: jane.doe@example.c", "to: [REDACTED:email]", DET_EMAIL, 1,
	  "jane.doe" },
	{ "email_localhost_kept", "root@localhost", NULL, DET__COUNT, 0, NULL },
	{ "email_no_tld_kept", "a@b", NULL, DET__COUNT, 0, NULL },
	{ "email_numeric_tld_kept", "user@10.0.0.1", NULL, DET__COUNT, 0, NULL },
	{ "email_ssh_kept", "ssh git@github:org/repo", NULL, DET__COUNT, 0, NULL },
	{ "email_at_only_kept", "@example.com and @@", NULL, DET__COUNT, 0, NULL },
	/* card_number: hits and near-misses (*_kept) */
	{ "card_visa_spaced", "card 4111 1111 1111 1111 exp 12/30",
	  "card [REDACTED:card_number] exp 12/30", DET_CARD, 1, "1111 1111" },
	{ "card_visa_dashed", "4111-1111-1111-1111", "[REDACTED:card_number]", DET_CARD, 1,
	  "1111-1111" },
	{ "card_mc_plain", "pan=5555555555554444&cvv=1", "pan=[REDACTED:card_number]&cvv=1",
	  DET_CARD, 1, "5555555555554444" },
	{ "card_amex", "amex 378282246310005.", "amex [REDACTED:card_number].", DET_CARD, 1,
	  "378282246310005" },
	{ "card_amex_grouped", "3782 822463 10005", "[REDACTED:card_number]", DET_CARD, 1,
	  "822463" },
	{ "card_discover", "[6011111111111117]", "[[REDACTED:card_number]]", DET_CARD, 1,
	  "6011111111111117" },
	{ "card_mc_2series", "2223003122003222", "[REDACTED:card_number]", DET_CARD, 1,
	  "2223003122003222" },
	{ "card_jcb", "jcb:3530111333300000", "jcb:[REDACTED:card_number]", DET_CARD, 1,
	  "3530111333300000" },
	{ "card_diners", "30569309025904", "[REDACTED:card_number]", DET_CARD, 1,
	  "30569309025904" },
	{ "card_json", "{\"pan\":\"4111111111111111\"}", "{\"pan\":\"[REDACTED:card_number]\"}",
	  DET_CARD, 1, "4111111111111111" },
	{ "card_cut_grouped", "card 4111 1111 1111 11", "card [REDACTED:card_number]", DET_CARD, 1,
	  "1111 1111" },
	{ "card_luhn_fail_kept", "order 4111111111111112 shipped", NULL, DET__COUNT, 0, NULL },
	{ "card_in_long_run_kept", "41111111111111111234", NULL, DET__COUNT, 0, NULL },
	{ "card_no_iin_kept", "id 1234567812345670", NULL, DET__COUNT, 0, NULL },
	{ "card_too_short_kept", "4111 1111 1111 x", NULL, DET__COUNT, 0, NULL },
	{ "card_cut_ungrouped_kept", "id 41111111111111", NULL, DET__COUNT, 0, NULL },
	{ "card_mixed_sep_kept", "4111 1111-1111 1111", NULL, DET__COUNT, 0, NULL },
	{ "card_first_group_kept", "41 1111 1111 1111 11", NULL, DET__COUNT, 0, NULL },
	{ "card_visa_17_kept", "41111111111111113", NULL, DET__COUNT, 0, NULL },
	{ "card_word_glued_kept", "x4111111111111111", NULL, DET__COUNT, 0, NULL },
	{ "card_double_space_kept", "4111  1111  1111  1111", NULL, DET__COUNT, 0, NULL },
	{ "card_ungrouped_tail_kept", "id 4000123412341235", NULL, DET__COUNT, 0, NULL },
	/* ssn: hits and near-misses (*_kept) */
	{ "ssn_plain", "ssn 123-45-6789 on file", "ssn [REDACTED:ssn] on file", DET_SSN, 1,
	  "123-45-6789" },
	{ "ssn_json", "{\"ssn\":\"078-05-1120\"}", "{\"ssn\":\"[REDACTED:ssn]\"}", DET_SSN, 1,
	  "078-05-1120" },
	{ "ssn_cut", "ssn: 123-45-67", "ssn: [REDACTED:ssn]", DET_SSN, 1, "123-45-67" },
	{ "ssn_area_000_kept", "000-12-3456", NULL, DET__COUNT, 0, NULL },
	{ "ssn_area_666_kept", "666-12-3456", NULL, DET__COUNT, 0, NULL },
	{ "ssn_area_9xx_kept", "912-34-5678", NULL, DET__COUNT, 0, NULL },
	{ "ssn_group_00_kept", "123-00-4567", NULL, DET__COUNT, 0, NULL },
	{ "ssn_serial_0000_kept", "123-45-0000", NULL, DET__COUNT, 0, NULL },
	{ "ssn_undashed_kept", "123456789", NULL, DET__COUNT, 0, NULL },
	{ "ssn_longer_kept", "1234-56-7890 123-45-67890", NULL, DET__COUNT, 0, NULL },
	{ "ssn_date_kept", "2024-01-15", NULL, DET__COUNT, 0, NULL },
	/* iban: hits and near-misses (*_kept) */
	{ "iban_de_spaced", "IBAN: DE89 3704 0044 0532 0130 00, thanks",
	  "IBAN: [REDACTED:iban], thanks", DET_IBAN, 1, "3704 0044" },
	{ "iban_gb_compact", "GB82WEST12345698765432", "[REDACTED:iban]", DET_IBAN, 1, "WEST1234" },
	{ "iban_nl_json", "{\"iban\":\"NL91ABNA0417164300\"}", "{\"iban\":\"[REDACTED:iban]\"}",
	  DET_IBAN, 1, "ABNA0417" },
	{ "iban_fr", "FR14 2004 1010 0505 0001 3M02 606", "[REDACTED:iban]", DET_IBAN, 1,
	  "2004 1010" },
	{ "iban_no_short", "NO9386011117947", "[REDACTED:iban]", DET_IBAN, 1, "86011117947" },
	{ "iban_cut", "iban DE89 3704 0044", "iban [REDACTED:iban]", DET_IBAN, 1, "3704 0044" },
	{ "iban_bad_check_kept", "DE89 3704 0044 0532 0130 01", NULL, DET__COUNT, 0, NULL },
	{ "iban_unknown_country_kept", "US89370400440532013000", NULL, DET__COUNT, 0, NULL },
	{ "iban_lowercase_kept", "de89370400440532013000", NULL, DET__COUNT, 0, NULL },
	{ "iban_too_long_kept", "DE893704004405320130001", NULL, DET__COUNT, 0, NULL },
	/* high_entropy: hits and near-misses (*_kept) */
	{ "entropy_b64", "secret=Xk9fQ2pL7mNz3RtY8vBw1KcE5sHa0GdJ&x=1",
	  "secret=[REDACTED:high_entropy]&x=1", DET_ENTROPY, 1, "Xk9fQ2pL7mNz" },
	{ "entropy_hex40", "commit 3f786850e387550fdab836ed7e6dc881de23001b",
	  "commit [REDACTED:high_entropy]", DET_ENTROPY, 1, "3f786850e387" },
	{ "entropy_aws_secret_bare", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	  "[REDACTED:high_entropy]", DET_ENTROPY, 1, "wJalrXUtnFEMI" },
	{ "entropy_uuid_kept", "id=123e4567-e89b-12d3-a456-426614174000", NULL, DET__COUNT, 0,
	  NULL },
	{ "entropy_uuid_upper_kept", "123E4567-E89B-12D3-A456-426614174000", NULL, DET__COUNT, 0,
	  NULL },
	{ "entropy_uuid_prefixed_kept", "Order-550e8400-e29b-41d4-a716-446655440000", NULL,
	  DET__COUNT, 0, NULL },
	{ "entropy_path_kept", "/usr/lib/x86_64-linux-gnu/libssl.so.3", NULL, DET__COUNT, 0, NULL },
	{ "entropy_dashed_words_kept", "this-is-a-long-english-sentence-with-dashes", NULL,
	  DET__COUNT, 0, NULL },
	{ "entropy_camel_kept", "MyVeryLongJavaClassName2FactoryImplementation", NULL, DET__COUNT,
	  0, NULL },
	{ "entropy_lowercase_word_kept", "supercalifragilisticexpialidociousness", NULL, DET__COUNT,
	  0, NULL },
	{ "entropy_api_path_kept", "/api/v2/Users/12345/Orders/67890/Items", NULL, DET__COUNT, 0,
	  NULL },
	{ "entropy_hex32_kept", "trace 4bf92f3577b34da6a3ce929d0e0e4736", NULL, DET__COUNT, 0,
	  NULL },
	{ "entropy_short_kept", "Xk9fQ2pL7mNz3RtY8vBw1KcE5sHa0Gd", NULL, DET__COUNT, 0, NULL },
	{ "entropy_digits_kept", "12345678901234567890123456789012345678901234567890", NULL,
	  DET__COUNT, 0, NULL },
	/* several detectors, UTF-8, empty */
	{ "mixed_two", "a jane@example.com b 123-45-6789 c",
	  "a [REDACTED:email] b [REDACTED:ssn] c", DET_EMAIL, 1, "jane@" },
	{ "overlap_bearer_jwt",
	  "Bearer "
	  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c x",
	  "Bearer [REDACTED:bearer] x", DET_BEARER, 1, "SflKxwRJ" },
	{ "utf8_kept", "caf\303\251 na\303\257ve \342\202\254", NULL, DET__COUNT, 0, NULL },
	{ "utf8_around_hit", "\303\251jane@example.com\303\251", "\303\251[REDACTED:email]\303\251",
	  DET_EMAIL, 1, "jane@" },
	{ "empty", "", NULL, DET__COUNT, 0, NULL },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static const char *want_of(const struct detect_case *c)
{
	return c->want ? c->want : c->in;
}

/* Markers of detector @d in @s (@n bytes). */
static uint64_t markers_of(const char *s, size_t n, int d)
{
	char mark[64];
	int ml = snprintf(mark, sizeof(mark), DETECT_MARKER_FMT, detector_names[d]);
	uint64_t count = 0;
	const char *p = s, *end = s + n;

	ck_assert(ml > 0 && (size_t)ml < sizeof(mark));
	while ((p = memmem(p, (size_t)(end - p), mark, (size_t)ml)) != NULL) {
		count++;
		p += ml;
	}
	return count;
}

/* Redact an exactly-sized heap copy of @in, so ASan sees any over-read. */
static long redact(const char *in, size_t len, char *out, size_t cap, uint64_t *counts)
{
	char *copy = malloc(len ? len : 1);
	long n;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, in, len);
	memset(out, FILL, cap);
	n = detect_redact(copy, len, out, cap, counts);
	free(copy);
	return n;
}

static bool any(const char *in, size_t len)
{
	char *copy = malloc(len ? len : 1);
	bool r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, in, len);
	r = detect_any(copy, len);
	free(copy);
	return r;
}

static void assert_no_secret(const struct detect_case *c, const char *s, size_t n)
{
	if (c->secret)
		ck_assert_msg(!memmem(s, n, c->secret, strlen(c->secret)), "%s: secret in '%.*s'",
		              c->name, (int)n, s);
}

/* Counts are exactly the markers in the output; nothing else is counted. */
static void assert_counts(const char *name, const char *out, size_t n, const uint64_t *counts)
{
	for (int d = 0; d < DET__COUNT; d++)
		ck_assert_msg(counts[d] == markers_of(out, n, d),
		              "%s: %s counted %llu, %llu markers", name, detector_names[d],
		              (unsigned long long)counts[d],
		              (unsigned long long)markers_of(out, n, d));
}

/* Redacting @out again: same bytes, nothing counted, nothing detected. */
static void assert_idempotent(const char *name, const char *out, size_t n)
{
	uint64_t counts[DET__COUNT] = { 0 };
	char *again = malloc(n + 1);
	long n2;

	ck_assert_ptr_nonnull(again);
	n2 = redact(out, n, again, n + 1, counts);
	ck_assert_msg(n2 == (long)n && memcmp(again, out, n) == 0, "%s: second pass '%.*s'", name,
	              (int)(n2 > 0 ? n2 : 0), again);
	for (int d = 0; d < DET__COUNT; d++)
		ck_assert_msg(counts[d] == 0, "%s: second pass counted %s", name,
		              detector_names[d]);
	ck_assert_msg(!any(out, n), "%s: detect_any() on the output", name);
	free(again);
}

START_TEST(detect_table)
{
	const struct detect_case *c = &cases[_i];
	const char *want = want_of(c);
	uint64_t counts[DET__COUNT] = { 0 };
	size_t len = strlen(c->in);
	char out[OUT_MAX];
	long n = redact(c->in, len, out, sizeof(out), counts);

	ck_assert_msg(n >= 0 && strcmp(out, want) == 0, "%s: got '%s', want '%s'", c->name, out,
	              want);
	ck_assert_uint_eq((size_t)n, strlen(want));
	ck_assert_uint_le((size_t)n, len * DETECT_MARKER_MAX);
	assert_counts(c->name, out, (size_t)n, counts);
	if (c->want) {
		ck_assert_msg(counts[c->det] == c->hits, "%s: %s hit %llu times, want %u", c->name,
		              detector_names[c->det], (unsigned long long)counts[c->det], c->hits);
		ck_assert_msg(markers_of(out, (size_t)n, (int)c->det) > 0, "%s: no %s marker",
		              c->name, detector_names[c->det]);
	}
	ck_assert_int_eq(any(c->in, len), c->want != NULL);
	assert_no_secret(c, out, (size_t)n);
	assert_idempotent(c->name, out, (size_t)n);
}
END_TEST

/*
 * Every capacity from 0 to the output's length + CAP_EXTRA: the full
 * output once it fits, else -ENOSPC with "" (nothing at all written for
 * cap 0), counts untouched, and no byte of the input left in the buffer.
 */
START_TEST(detect_every_cap)
{
	const struct detect_case *c = &cases[_i];
	const char *want = want_of(c);
	size_t len = strlen(c->in), wl = strlen(want);

	for (size_t cap = 0; cap <= wl + CAP_EXTRA; cap++) {
		uint64_t counts[DET__COUNT];
		char *out = malloc(cap + 1); /* + a guard byte */
		long n;

		ck_assert_ptr_nonnull(out);
		for (int d = 0; d < DET__COUNT; d++)
			counts[d] = 7;
		memset(out, FILL, cap + 1);
		n = redact(c->in, len, out, cap, counts);
		ck_assert_int_eq((unsigned char)out[cap], FILL);
		if (cap > wl) {
			ck_assert_int_eq(n, (long)wl);
			ck_assert_str_eq(out, want);
			free(out);
			continue;
		}
		ck_assert_msg(n == -ENOSPC, "%s: cap %zu gave %ld", c->name, cap, n);
		for (size_t k = 0; k < cap; k++)
			ck_assert_msg(out[k] == 0 || (unsigned char)out[k] == FILL,
			              "%s: cap %zu left byte %zu", c->name, cap, k);
		ck_assert(cap == 0 || out[0] == '\0');
		for (int d = 0; d < DET__COUNT; d++)
			ck_assert_uint_eq(counts[d], 7);
		free(out);
	}
}
END_TEST

/*
 * Where the last hit ends in the input: the input's length less what
 * follows the last marker in the output.
 */
static size_t hits_end(const struct detect_case *c)
{
	const char *last = NULL, *p = c->want;

	while (p && (p = strstr(p, "[REDACTED:")) != NULL)
		last = p++;
	if (!last)
		return 0;
	last = strchr(last, ']') + 1;
	return strlen(c->in) - strlen(last);
}

/*
 * Captures cut anywhere: every prefix is safe and idempotent, and once the
 * cut is past the end of the last hit, the secret is gone.
 */
START_TEST(detect_every_prefix)
{
	const struct detect_case *c = &cases[_i];
	size_t len = strlen(c->in), done = hits_end(c);

	for (size_t cut = 0; cut <= len; cut++) {
		uint64_t counts[DET__COUNT] = { 0 };
		char out[OUT_MAX];
		long n = redact(c->in, cut, out, sizeof(out), counts);

		ck_assert_int_ge(n, 0);
		ck_assert_int_eq(out[n], '\0');
		assert_counts(c->name, out, (size_t)n, counts);
		if (cut >= done)
			assert_no_secret(c, out, (size_t)n);
		assert_idempotent(c->name, out, (size_t)n);
	}
}
END_TEST

/* Each input ending at a PROT_NONE page: no byte past the end is read. */
START_TEST(detect_at_guard_page)
{
	const struct detect_case *c = &cases[_i];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = strlen(c->in);
	char *base =
	        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char out[OUT_MAX];

	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
	memcpy(base + page - len, c->in, len);
	ck_assert_int_ge(detect_redact(base + page - len, len, out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, want_of(c));
	ck_assert_int_eq(detect_any(base + page - len, len), c->want != NULL);
	ck_assert_int_eq(munmap(base, 2 * page), 0);
}
END_TEST

/*
 * One bare token per detector, in every context: alone, between words, in
 * JSON, quoted, in brackets, before a newline. The kept part (a scheme or
 * key name) stays, the rest becomes the marker, the context is untouched.
 */
static const struct bare_token {
	const char *token;
	const char *keep; /* the part of @token that stays */
	enum detector det;
	size_t cut; /* from this prefix length on, a token at the end of the input is redacted */
} bare[] = {
	{ "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1Lf\n-----END RSA PRIVATE KEY-----",
	  "", DET_PRIVATE_KEY, 10 },
	{ JWT, "", DET_JWT, 20 },
	{ "Bearer AbCdEf123456", "Bearer ", DET_BEARER, 8 },
	{ "Basic dXNlcjpwYXNzd29yZA==", "Basic ", DET_BASIC, 8 },
	{ "AKIAIOSFODNN7EXAMPLE", "", DET_AWS_KEY, 12 },
	{ "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	  "aws_secret_access_key=", DET_AWS_KEY, 23 },
	{ "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "", DET_GCP_KEY, 12 },
	{ "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
	  "K1SZFPTOtr/KBHBeksoGMGw==",
	  "AccountKey=", DET_AZURE_KEY, 12 },
	{ "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", "", DET_GITHUB, 12 },
	{ "glpat-xYz12AbC34dEf56GhI7j", "", DET_GITLAB, 14 },
	{ "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "", DET_SLACK, 13 },
	{ "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "", DET_STRIPE, 16 },
	{ "jane.doe@example.com", "", DET_EMAIL, 0 }, /* cut: see email_cut_* in the table */
	{ "4111 1111 1111 1111", "", DET_CARD, 14 },
	{ "123-45-6789", "", DET_SSN, 8 },
	{ "DE89 3704 0044 0532 0130 00", "", DET_IBAN, 9 },
	{ "Xk9fQ2pL7mNz3RtY8vBw1KcE5sHa0GdJ", "", DET_ENTROPY, 0 },
};

#define N_BARE ((int)(sizeof(bare) / sizeof(bare[0])))

static const char *const contexts[][2] = {
	{ "", "" },   { "see ", " now" }, { "{\"k\":\"", "\"}" }, { "'", "'" },
	{ "(", ")" }, { "a\n", "\nb" },   { "x=", "&y=1" },       { "\t", ";" },
};

START_TEST(detect_bare_in_contexts)
{
	const struct bare_token *b = &bare[_i];

	for (size_t k = 0; k < sizeof(contexts) / sizeof(contexts[0]); k++) {
		char in[OUT_MAX], want[OUT_MAX], out[OUT_MAX];
		uint64_t counts[DET__COUNT] = { 0 };
		long n;

		snprintf(in, sizeof(in), "%s%s%s", contexts[k][0], b->token, contexts[k][1]);
		snprintf(want, sizeof(want), "%s%s" DETECT_MARKER_FMT "%s", contexts[k][0], b->keep,
		         detector_names[b->det], contexts[k][1]);
		n = redact(in, strlen(in), out, sizeof(out), counts);
		ck_assert_msg(n >= 0 && strcmp(out, want) == 0, "got '%s', want '%s'", out, want);
		ck_assert_uint_eq(counts[b->det], 1);
		assert_counts(in, out, (size_t)n, counts);
	}
}
END_TEST

/*
 * The token cut at every length from its documented minimum, at the end of
 * the input after some text: all of it is redacted but the kept part; only
 * separators a cut card number ends on may follow the marker.
 */
START_TEST(detect_bare_cut)
{
	const struct bare_token *b = &bare[_i];
	size_t tl = strlen(b->token);

	for (size_t cut = b->cut; b->cut > 0 && cut <= tl; cut++) {
		char in[OUT_MAX], want[OUT_MAX], out[OUT_MAX];
		const char *rest;
		long n;

		snprintf(in, sizeof(in), "text %.*s", (int)cut, b->token);
		snprintf(want, sizeof(want), "text %s" DETECT_MARKER_FMT, b->keep,
		         detector_names[b->det]);
		n = redact(in, strlen(in), out, sizeof(out), NULL);
		ck_assert_msg(n >= 0 && strncmp(out, want, strlen(want)) == 0,
		              "cut %zu: got '%s', want '%s'", cut, out, want);
		for (rest = out + strlen(want); *rest; rest++)
			ck_assert_msg(*rest == ' ' || *rest == '-', "cut %zu: '%s'", cut, out);
		assert_idempotent(in, out, (size_t)n);
	}
}
END_TEST

/* Inputs with NULs and invalid UTF-8: explicit lengths, outputs compared as bytes. */
static const struct binary_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
	size_t want_len;
	unsigned hits; /* markers in all */
} binary[] = {
#define BIN(name, in, want, hits)                                                                  \
	{                                                                                          \
		name, in, sizeof(in) - 1, want, sizeof(want) - 1, hits                             \
	}
	BIN("nul_splits_card", "4111\0001111 1111 1111", "4111\0001111 1111 1111", 0),
	BIN("nul_after_email", "jane@example.com\000x", "[REDACTED:email]\000x", 1),
	BIN("nul_before_token", "\000ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\000",
	    "\000[REDACTED:github_token]\000", 1),
	BIN("nul_inside_token_kept", "ghp_aB3dE5\000fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
	    "ghp_aB3dE5\000fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", 0),
	BIN("nul_in_pem_body", "-----BEGIN PRIVATE KEY-----\nMII\000Ev\n-----END PRIVATE KEY-----x",
	    "[REDACTED:private_key]x", 1),
	BIN("invalid_utf8_around_jwt", "\377\376" JWT "\300\200", "\377\376[REDACTED:jwt]\300\200",
	    1),
	BIN("invalid_utf8_kept", "\377\377\377\300\301\365 AKIA \355\240\200",
	    "\377\377\377\300\301\365 AKIA \355\240\200", 0),
	BIN("cut_utf8_then_ssn", "\342\202 123-45-6789", "\342\202 [REDACTED:ssn]", 1),
	BIN("only_nuls", "\000\000\000\000", "\000\000\000\000", 0),
#undef BIN
};

#define N_BINARY ((int)(sizeof(binary) / sizeof(binary[0])))

START_TEST(detect_binary)
{
	const struct binary_case *c = &binary[_i];
	uint64_t counts[DET__COUNT] = { 0 }, total = 0;
	char out[OUT_MAX];
	long n = redact(c->in, c->len, out, sizeof(out), counts);

	ck_assert_msg(n == (long)c->want_len && memcmp(out, c->want, c->want_len) == 0,
	              "%s: got %ld bytes '%.*s'", c->name, n, (int)(n > 0 ? n : 0), out);
	ck_assert_int_eq(out[n], '\0');
	assert_counts(c->name, out, (size_t)n, counts);
	for (int d = 0; d < DET__COUNT; d++)
		total += counts[d];
	ck_assert_uint_eq(total, c->hits);
	ck_assert_int_eq(any(c->in, c->len), c->hits > 0);
	assert_idempotent(c->name, out, (size_t)n);
}
END_TEST

/* Overlapping matches: who wins, merging, and adjacent markers. */
static const struct overlap_case {
	const char *name;
	const char *in;
	const char *want;
} overlaps[] = {
	/* a match starting inside another and ending beyond it extends it */
	{ "bearer_swallows_email", "Authorization: Bearer abc.def@example.com x",
	  "Authorization: Bearer [REDACTED:bearer] x" },
	/* same start: the longest wins (the token and its host are one email) */
	{ "longest_at_same_start",
	  "https://x:ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5@github.com/r",
	  "https://x:[REDACTED:email]/r" },
	/* the earliest start wins: the scheme starts before the JWT */
	{ "earliest_wins", "Bearer " JWT, "Bearer [REDACTED:bearer]" },
	/* a high-entropy run touching a JWT stays a marker of its own */
	{ "entropy_next_to_jwt", "Xk9fQ2pL7mNz3RtY8vBw1KcE5sHa0GdJ/" JWT,
	  "[REDACTED:high_entropy][REDACTED:jwt]" },
	/* a kept key that holds another key stays whole */
	{ "key_in_key", "aws_secret_access_key: \"abc\"",
	  "aws_secret_access_key: \"[REDACTED:aws_key]\"" },
	/* the PEM body hides everything inside it */
	{ "pem_hides_inner",
	  "-----BEGIN PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE jane@example.com\n-----END "
	  "PRIVATE KEY----- 123-45-6789",
	  "[REDACTED:private_key] [REDACTED:ssn]" },
	/* two PEM blocks, the second cut */
	{ "two_pems",
	  "-----BEGIN EC PRIVATE KEY-----\nA\n-----END EC PRIVATE KEY-----\n-----BEGIN RSA "
	  "PRIVATE KEY-----\nB",
	  "[REDACTED:private_key]\n[REDACTED:private_key]" },
	/* markers already in the input are left alone */
	{ "literal_marker", "[REDACTED:jwt] [REDACTED:high_entropy]",
	  "[REDACTED:jwt] [REDACTED:high_entropy]" },
};

START_TEST(detect_overlaps)
{
	const struct overlap_case *c = &overlaps[_i];
	char out[OUT_MAX];
	long n = redact(c->in, strlen(c->in), out, sizeof(out), NULL);

	ck_assert_msg(n >= 0 && strcmp(out, c->want) == 0, "%s: got '%s'", c->name, out);
	assert_idempotent(c->name, out, (size_t)n);
}
END_TEST

/* Counts add up across calls; NULL counts are allowed. */
START_TEST(detect_counts_accumulate)
{
	static const char in[] = "jane@example.com 123-45-6789 AKIAIOSFODNN7EXAMPLE";
	uint64_t counts[DET__COUNT] = { 0 };
	char out[OUT_MAX];

	for (int round = 0; round < 3; round++)
		ck_assert_int_gt(detect_redact(in, strlen(in), out, sizeof(out), counts), 0);
	ck_assert_int_gt(detect_redact(in, strlen(in), out, sizeof(out), NULL), 0);
	for (int d = 0; d < DET__COUNT; d++)
		ck_assert_uint_eq(counts[d],
		                  d == DET_EMAIL || d == DET_SSN || d == DET_AWS_KEY ? 3 : 0);
	ck_assert_int_eq(detect_redact(NULL, 0, out, 1, counts), 0);
	ck_assert_str_eq(out, "");
	ck_assert(!detect_any(NULL, 0));
}
END_TEST

START_TEST(detect_names)
{
	static const char *const want[DET__COUNT] = {
		"private_key",  "jwt",         "bearer",     "basic_auth",
		"aws_key",      "gcp_key",     "azure_key",  "github_token",
		"gitlab_token", "slack_token", "stripe_key", "email",
		"card_number",  "ssn",         "iban",       "high_entropy",
	};
	size_t longest = 0;

	for (int d = 0; d < DET__COUNT; d++) {
		char mark[64];
		int ml = snprintf(mark, sizeof(mark), DETECT_MARKER_FMT, detector_names[d]);

		ck_assert_str_eq(detector_names[d], want[d]);
		for (int e = 0; e < d; e++)
			ck_assert_str_ne(detector_names[d], detector_names[e]);
		ck_assert(ml > 0);
		if ((size_t)ml > longest)
			longest = (size_t)ml;
		/* a marker alone is nothing to redact */
		ck_assert(!detect_any(mark, (size_t)ml));
	}
	ck_assert_uint_eq(longest, DETECT_MARKER_MAX);
}
END_TEST

/* 1 MiB built by repeating @pat; also a random base64 one. */
static const char *const big_patterns[] = {
	"0",
	"1 ",
	"4-",
	"4111 ",
	"a.",
	"a.a.a.a.a.a.a.a.a.a@",
	"@a.",
	"sig=",
	"Basic+",
	"Bearer+",
	"eyJ.",
	"AIza-",
	"ghp_",
	"-----BEGIN RSA PRIVATE KEY-----",
	"-----BEGIN RSA PRIVATE KEY-----x-----END",
	"DE89 ",
	"123-45-",
	"aws_secret_access_key=\"'",
	"\"'\\\"",
	"x",
	"The quick brown fox jumps over the lazy dog. ",
	"\377",
	"%40a",
	NULL, /* random base64 */
};

#define N_BIG ((int)(sizeof(big_patterns) / sizeof(big_patterns[0])))

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill_big(char *in, const char *pat)
{
	static const char b64[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t x = 12345;

	for (size_t k = 0; k < BIG_LEN; k++) {
		x = x * 1103515245u + 12345u;
		in[k] = pat ? pat[k % strlen(pat)] : b64[(x >> 16) % 64];
	}
}

START_TEST(detect_big_linear)
{
	size_t cap = (size_t)BIG_LEN * DETECT_MARKER_MAX + 1;
	char *in = malloc(BIG_LEN), *out = malloc(cap);
	double t;
	long n;

	ck_assert(in && out);
	fill_big(in, big_patterns[_i]);
	t = now();
	n = detect_redact(in, BIG_LEN, out, cap, NULL);
	(void)detect_any(in, BIG_LEN);
	t = now() - t;
	ck_assert_msg(t < BIG_SECS, "pattern %d: %.2f s", _i, t);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(out[n], '\0');
	free(out);
	free(in);
}
END_TEST

/* The policy's switches: a disabled detector's match stays, the others still redact. */
START_TEST(detect_only_enabled)
{
	static const char in[] = "mail ops@example.com key AKIAIOSFODNN7EXAMPLE";
	uint64_t counts[DET__COUNT] = { 0 };
	char out[256];
	long n;

	n = detect_redact_only(in, sizeof(in) - 1, out, sizeof(out), counts,
	                       DETECT_ALL & ~(1u << DET_EMAIL));
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "mail ops@example.com key [REDACTED:aws_key]");
	ck_assert_uint_eq(counts[DET_EMAIL], 0);
	ck_assert_uint_eq(counts[DET_AWS_KEY], 1);
	n = detect_redact_only(in, sizeof(in) - 1, out, sizeof(out), counts, 0);
	ck_assert_int_eq(n, (long)sizeof(in) - 1);
	ck_assert_str_eq(out, in);
	n = detect_redact_only(in, sizeof(in) - 1, out, sizeof(out), counts, DETECT_ALL);
	ck_assert_str_eq(out, "mail [REDACTED:email] key [REDACTED:aws_key]");
}
END_TEST

Suite *detect_suite(void)
{
	Suite *s = suite_create("detect");
	TCase *t = tcase_create("table"), *b = tcase_create("big");

	tcase_add_loop_test(t, detect_table, 0, N_CASES);
	tcase_add_loop_test(t, detect_every_cap, 0, N_CASES);
	tcase_add_loop_test(t, detect_every_prefix, 0, N_CASES);
	tcase_add_loop_test(t, detect_at_guard_page, 0, N_CASES);
	tcase_add_loop_test(t, detect_bare_in_contexts, 0, N_BARE);
	tcase_add_loop_test(t, detect_bare_cut, 0, N_BARE);
	tcase_add_loop_test(t, detect_binary, 0, N_BINARY);
	tcase_add_loop_test(t, detect_overlaps, 0, (int)(sizeof(overlaps) / sizeof(overlaps[0])));
	tcase_add_test(t, detect_counts_accumulate);
	tcase_add_test(t, detect_names);
	tcase_add_test(t, detect_only_enabled);
	tcase_set_timeout(t, TEST_SLOW);
	tcase_add_loop_test(b, detect_big_linear, 0, N_BIG);
	tcase_set_timeout(b, TEST_SLOW);
	suite_add_tcase(s, t);
	suite_add_tcase(s, b);
	return s;
}
