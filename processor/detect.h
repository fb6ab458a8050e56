/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scrubber's last pass: named secret and PII detectors run over every
 * string before it leaves the node. Whatever the earlier, protocol-aware
 * passes missed (a token in a SQL literal, a key in a Redis value, a card
 * number in a query string) is replaced here by "[REDACTED:<name>]".
 *
 * Inputs are hostile and may be cut anywhere by the capture: each detector
 * is a small hand-written linear scanner (no regex, no backtracking), and a
 * token cut by the end of the input is redacted as soon as its prefix is
 * unambiguous (per detector below). When in doubt, redact.
 *
 * Detectors and what they redact (prefix matches are case-sensitive unless
 * said otherwise; "boundary" means the byte before the match is not a letter
 * or digit, or is the start of the input or the end of an earlier marker):
 *
 *   private_key   "-----BEGIN <label>-----" whose label contains "PRIVATE KEY"
 *                 (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK) through the
 *                 next "-----END <label>-----", or to the end of the input if
 *                 there is none. A header cut by the end of the input redacts.
 *   jwt           boundary (no base64url byte before), "eyJ" + base64url, '.',
 *                 1+ base64url, '.', base64url (may be empty), more ".segment"
 *                 taken along; a JWE's 5 parts with any of them empty; >= 20
 *                 bytes. Cut at the end of the input: "eyJ" + anything
 *                 base64url/'.' of >= 20 bytes redacts.
 *   bearer        boundary, "bearer" (any case), 1+ separators (space, tab, '+',
 *                 "%20"), then a token68 credential: the scheme and separators
 *                 are kept, the credential becomes the marker. Not redacted
 *                 when all lowercase letters ("bearer token", "bearer of"), or
 *                 shorter than 6 bytes unless it runs to the end of the input.
 *   basic_auth    the same with "basic" and a base64 credential of >= 4 bytes
 *                 whose decoding holds a ':' (user:password); cut by the end of
 *                 the input, any but all lowercase letters. "Basic realm=" and
 *                 "basic auth" are kept.
 *   aws_key       boundary, AKIA/ASIA/AGPA/AIDA/AROA/ANPA/ANVA/AIPA/ABIA/ACCA +
 *                 16 [A-Z0-9] (cut: >= 8); and the value after the keys
 *                 aws_secret_access_key, aws_secret_key, secret_access_key,
 *                 secretaccesskey (any case; '=' or ':', optional quotes and
 *                 spaces), the key kept. Secret keys without a key name are
 *                 left to high_entropy.
 *   gcp_key       boundary, "AIza" + 35 [A-Za-z0-9_-] (cut: >= 8). Service
 *                 account JSON: its "private_key" is a PEM, see private_key.
 *   azure_key     values of AccountKey=, SharedAccessKey= (any case) and SAS
 *                 sig= (>= 16 bytes), the key kept; a bare storage key (86
 *                 base64 bytes + "==").
 *   github_token  boundary, ghp_/gho_/ghu_/ghs_/ghr_ + 36 [A-Za-z0-9],
 *                 github_pat_ + 82 [A-Za-z0-9_] (cut: >= 8).
 *   gitlab_token  boundary, glpat-/gldt-/glrt-/glptt-/glft-/glsoat-/glcbt-/
 *                 gloas- + 20 [A-Za-z0-9_-] (then '.' too) (cut: >= 8).
 *   slack_token   boundary, xoxa-/xoxb-/xoxe-/xoxo-/xoxp-/xoxr-/xoxs-/xapp- +
 *                 10 [A-Za-z0-9-] (cut: >= 8); the path after
 *                 hooks.slack.com/services/ (kept).
 *   stripe_key    boundary, sk_live_/sk_test_/rk_live_/rk_test_/pk_live_ + 24
 *                 [A-Za-z0-9] (cut: >= 8).
 *   email         boundary, local part (<= 64 of [A-Za-z0-9._%+-], starting
 *                 alphanumeric), '@' or "%40", a domain of >= 2 labels whose
 *                 last has >= 2 letters; ASCII only. "user@localhost",
 *                 "user@10.0.0.1" and "a@b" are not emails. Cut by the end of
 *                 the input: "local@", or "local@" + a dotted domain whose last
 *                 label is letters so far ("user@host" at the end is kept).
 *   card_number   boundary, 13-19 digits passing Luhn with a brand's IIN and
 *                 length (Visa 4: 13/16/19, Mastercard 51-55 and 2221-2720: 16,
 *                 Amex 34/37: 15, Diners 300-305/36/38/39, JCB 3528-3589,
 *                 Discover/UnionPay/Maestro 6x and 50/56-59, Mir 2200-2204),
 *                 plain or in groups with one separator (' ' or '-')
 *                 throughout and a first group of 4; it ends at a group end,
 *                 never inside a longer digit run. Cut by the end of the input:
 *                 >= 12 digits in groups with a card IIN redact unchecked (an
 *                 ungrouped trailing run is taken for an id).
 *   ssn           boundary, ddd-dd-dddd not followed by a digit; area 000,
 *                 666 and 9xx, group 00 and serial 0000 are invalid. Cut:
 *                 "ddd-dd-d" redacts. Undashed 9 digits are not matched.
 *   iban          boundary, a registry country + 2 check digits + BBAN in
 *                 [A-Z0-9] (one space allowed every 4), exactly the country's
 *                 length, not followed by a letter or digit, mod 97 == 1.
 *                 Uppercase only. Cut: country, check digits and >= 4 more.
 *   high_entropy  a maximal run of [A-Za-z0-9+/_-] in the text left between
 *                 the other markers, either >= 32 bytes with upper, lower and
 *                 digits, >= 4.0 bits/byte of Shannon entropy and less than half
 *                 of it words ([A-Z]?[a-z]{3,}), digit runs (3+) or UUIDs; or
 *                 >= 40 bytes of single-case hex with letters and digits and
 *                 >= 3.0 bits/byte. A run over 4 KiB is judged by its first
 *                 4 KiB. UUIDs, paths, identifiers and dashed words are kept;
 *                 so are 32-byte hex ids (trace ids), but not 40+ hex (SHA-1,
 *                 SHA-256 digests are redacted).
 *
 * Overlaps: matches are taken left to right; the earliest start wins, then
 * the longest, then the lower enum value. A later match that starts inside
 * the chosen one and ends beyond it extends the same marker (named after the
 * first), so no part of a secret stays raw. high_entropy is judged last, on
 * the raw runs left between markers; a run that touches a marker is judged
 * up to it, and its marker then stands next to the other one.
 *
 * Redacting the output again changes nothing and counts nothing.
 */
#ifndef BPFWARDEN_PROCESSOR_DETECT_H
#define BPFWARDEN_PROCESSOR_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum detector {
	DET_PRIVATE_KEY,
	DET_JWT,
	DET_BEARER,
	DET_BASIC,
	DET_AWS_KEY,
	DET_GCP_KEY,
	DET_AZURE_KEY,
	DET_GITHUB,
	DET_GITLAB,
	DET_SLACK,
	DET_STRIPE,
	DET_EMAIL,
	DET_CARD,
	DET_SSN,
	DET_IBAN,
	DET_ENTROPY,
	DET__COUNT
};

/* "private_key", "jwt", ..., "high_entropy": the names in the markers. */
extern const char *const detector_names[DET__COUNT];

#define DETECT_MARKER_FMT "[REDACTED:%s]"
/* The longest marker, "[REDACTED:high_entropy]", without its NUL. */
#define DETECT_MARKER_MAX 23

/*
 * Copy @in (@len bytes; may hold NULs and invalid UTF-8; may be truncated;
 * NULL if @len is 0) to @out (@cap bytes), NUL-terminated, with every hit
 * replaced by "[REDACTED:<name>]" (see above for what is kept around it).
 * Bytes outside hits are copied as they are, NULs included; a hit always
 * starts and ends on ASCII, so valid UTF-8 stays valid. Each marker adds 1 to
 * @counts[its detector] (@counts may be NULL). The output is at most
 * @len * DETECT_MARKER_MAX bytes.
 *
 * Returns the output length (NUL excluded), or -ENOSPC if it does not fit
 * in @cap - 1 bytes: then @out is "" (untouched if @cap is 0) and @counts is
 * unchanged. Linear time in @len.
 */
long detect_redact(const char *in, size_t len, char *out, size_t cap, uint64_t counts[DET__COUNT]);

/* Every detector: the @enabled mask of detect_redact_only() that detect_redact() uses. */
#define DETECT_ALL ((1u << DET__COUNT) - 1)

/*
 * detect_redact() with only the detectors whose bit (1u << enum detector)
 * is set in @enabled (the policy's "detectors" switches). A disabled
 * detector's matches are not taken, so its bytes stay raw unless an
 * enabled one (high_entropy included) matches them.
 */
long detect_redact_only(const char *in, size_t len, char *out, size_t cap,
                        uint64_t counts[DET__COUNT], uint32_t enabled);

/* Whether detect_redact() would redact anything in @in: for tests and cheap pre-checks. */
bool detect_any(const char *in, size_t len);

#endif
