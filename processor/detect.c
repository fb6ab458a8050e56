// SPDX-License-Identifier: Apache-2.0
/*
 * Named secret and PII detectors (see detect.h for what each one matches).
 *
 * Trust boundary: every byte here comes from captured traffic, so it is
 * hostile and may be cut anywhere. Each detector is a scanner called at one
 * position that says whether a match starts there; the driver walks the input
 * once, left to right. Scans that could be long (a token's tail, a PEM body)
 * go through small caches so that no byte is rescanned more than a bounded
 * number of times: the whole pass stays linear on adversarial input.
 *
 * Why redacting the output again changes nothing: every detector but
 * private_key needs a non-alphanumeric byte before it, and the driver shows
 * each detector the byte the output will have there (']' after a marker).
 * A detector's verdict depends only on the bytes it takes, plus the end of
 * the input for cut tokens; a byte after a match can only extend it (the
 * two "not followed by" checks, ssn and iban, look past a digit or letter,
 * where no match can start but "-----BEGIN"). So a match in the output,
 * whose bytes all come from raw input followed by a marker's '[', would
 * have matched the input too. A kept key followed by '[' has no value, so
 * it matches nothing. high_entropy is judged on the raw runs between
 * markers, kept keys included, which are the same bytes in the output.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "processor/detect.h"

const char *const detector_names[DET__COUNT] = {
	[DET_PRIVATE_KEY] = "private_key",
	[DET_JWT] = "jwt",
	[DET_BEARER] = "bearer",
	[DET_BASIC] = "basic_auth",
	[DET_AWS_KEY] = "aws_key",
	[DET_GCP_KEY] = "gcp_key",
	[DET_AZURE_KEY] = "azure_key",
	[DET_GITHUB] = "github_token",
	[DET_GITLAB] = "gitlab_token",
	[DET_SLACK] = "slack_token",
	[DET_STRIPE] = "stripe_key",
	[DET_EMAIL] = "email",
	[DET_CARD] = "card_number",
	[DET_SSN] = "ssn",
	[DET_IBAN] = "iban",
	[DET_ENTROPY] = "high_entropy",
};

#define MARK_OPEN  "[REDACTED:"
#define MARK_CLOSE "]"

#define PEM_BEGIN     "-----BEGIN"
#define PEM_END       "-----END"
#define PEM_DASHES    "-----"
#define PEM_PRIVATE   "PRIVATE KEY"
#define PEM_LABEL_MAX 64 /* "ENCRYPTED PRIVATE KEY" and friends are far shorter */

#define JWT_HEAD "eyJ" /* base64url of '{"': every JOSE header starts so */
#define JWT_MIN  20
#define JWE_DOTS 4

#define AUTH_SEP_MAX   8   /* bytes of spaces, '+' or "%20" after a scheme */
#define AUTH_CHECK_MAX 256 /* credential bytes looked at for plausibility */
#define BEARER_MIN     6
#define BASIC_MIN      4 /* base64("a:b") */

#define KV_SPACES_MAX 4 /* spaces on each side of '=' or ':' */
#define SAS_SIG_MIN   16
#define AZURE_KEY_B64 86 /* 64-byte storage key: 86 base64 bytes + "==" */

#define CUT_MIN 8 /* bytes after a token prefix that make a cut token a hit */

#define EMAIL_LOCAL_MAX  64
#define EMAIL_DOMAIN_MAX 253

#define CARD_MIN     13
#define CARD_MAX     19
#define CARD_CUT_MIN 12
#define CARD_GROUP   4  /* digits in the first group of a grouped number */
#define SSN_LEN      11 /* ddd-dd-dddd */
#define SSN_CUT_MIN  8  /* ddd-dd-d */
#define IBAN_CUT_MIN 8  /* country, check digits, 4 BBAN bytes */
#define IBAN_GROUP   4

#define ENT_MIN_LEN     32
#define ENT_HEX_MIN_LEN 40
#define ENT_SAMPLE_MAX  4096 /* a longer run is judged by its first 4 KiB */
#define ENT_B64_MIN_Q16 (4u << 16)
#define ENT_HEX_MIN_Q16 (3u << 16)
#define ENT_WORD_MIN    3 /* [a-z]{3,} counts as a word, [0-9]{3,} as a number */
#define UUID_LEN        36
#define Q16_BITS        16

#define RUN_CACHE_SLOTS 12
#define NO_RUN          SIZE_MAX

enum {
	CL_UP = 1 << 0,
	CL_LO = 1 << 1,
	CL_DG = 1 << 2,
	CL_PLUS = 1 << 3,
	CL_SLASH = 1 << 4,
	CL_DASH = 1 << 5,
	CL_USCORE = 1 << 6,
	CL_EQ = 1 << 7,
	CL_DOT = 1 << 8,
	CL_TILDE = 1 << 9,
	CL_PCT = 1 << 10,
	CL_HEXLO = 1 << 11, /* a-f */
	CL_HEXUP = 1 << 12, /* A-F */
};
#define CL_ALPHA  (CL_UP | CL_LO)
#define CL_ALNUM  (CL_ALPHA | CL_DG)
#define CL_B64    (CL_ALNUM | CL_PLUS | CL_SLASH)
#define CL_B64URL (CL_ALNUM | CL_DASH | CL_USCORE)
/* high_entropy runs; not '=', so "key=" stays out of the run and its marker */
#define CL_TOKEN   (CL_B64 | CL_DASH | CL_USCORE)
#define CL_TOKEN68 (CL_TOKEN | CL_EQ | CL_DOT | CL_TILDE) /* RFC 7235 credentials */
#define CL_VALUE   (CL_TOKEN68 | CL_PCT)                  /* key=value values */
#define CL_LOCAL   (CL_ALNUM | CL_DOT | CL_USCORE | CL_PCT | CL_PLUS | CL_DASH)
#define CL_DOMAIN  (CL_ALNUM | CL_DASH)

static const uint16_t cls[256] = {
	['A' ... 'F'] = CL_UP | CL_HEXUP,
	['G' ... 'Z'] = CL_UP,
	['a' ... 'f'] = CL_LO | CL_HEXLO,
	['g' ... 'z'] = CL_LO,
	['0' ... '9'] = CL_DG,
	['+'] = CL_PLUS,
	['/'] = CL_SLASH,
	['-'] = CL_DASH,
	['_'] = CL_USCORE,
	['='] = CL_EQ,
	['.'] = CL_DOT,
	['~'] = CL_TILDE,
	['%'] = CL_PCT,
};

/* One scan of one input: the bytes and the caches that keep it linear. */
struct det_scan {
	const unsigned char *s;
	size_t len;
	size_t pem_from, pem_at; /* no "-----END" in [pem_from, pem_at); pem_at: one, or len */
	size_t pct_from, pct_at; /* the same for "%40" */
	size_t dom_at, dom_end;  /* email_domain() from dom_at: local parts share their '@' */
	bool dom_cut;
	struct {
		uint16_t mask;
		size_t from, end; /* [from, end) all in mask; end is len or a byte outside it */
	} runs[RUN_CACHE_SLOTS];
	size_t nruns;
	uint32_t enabled; /* bit (1u << enum detector) set: that detector runs */
};

/* A match at i: [i, end) is replaced, but its first @keep bytes stay (a key name). */
struct det_hit {
	size_t end;
	size_t keep;
	enum detector det;
};

/* @prev: the byte the output has before the position, or -1 (start, marker). */
typedef bool (*scanner_fn)(struct det_scan *sc, size_t i, int prev, struct det_hit *h);

static bool is(unsigned char c, unsigned mask)
{
	return (cls[c] & mask) != 0;
}

static bool boundary(int prev, unsigned mask)
{
	return prev < 0 || !is((unsigned char)prev, mask);
}

static bool has_at(const struct det_scan *sc, size_t p, const char *lit, size_t n)
{
	return p <= sc->len && n <= sc->len - p && memcmp(sc->s + p, lit, n) == 0;
}

static bool has_at_nocase(const struct det_scan *sc, size_t p, const char *lit, size_t n)
{
	return p <= sc->len && n <= sc->len - p &&
	       strncasecmp((const char *)sc->s + p, lit, n) == 0;
}

/* The input ends inside @lit at @p: what is left of it matches. */
static bool cut_at(const struct det_scan *sc, size_t p, const char *lit, size_t n)
{
	return p <= sc->len && sc->len - p < n && memcmp(sc->s + p, lit, sc->len - p) == 0;
}

static bool hit(struct det_hit *h, enum detector det, size_t keep, size_t end)
{
	h->det = det;
	h->keep = keep;
	h->end = end;
	return true;
}

/*
 * End of the run of @mask bytes from @p. Scanners ask at rising positions,
 * often inside a run already measured: answering those from the cache keeps
 * "sig=sig=sig=..." or "Basic+Basic+..." from being rescanned quadratically.
 */
static size_t run_end(struct det_scan *sc, size_t p, uint16_t mask)
{
	size_t k, e = p;

	for (k = 0; k < sc->nruns && sc->runs[k].mask != mask; k++)
		;
	if (k < sc->nruns && sc->runs[k].from <= p && p <= sc->runs[k].end)
		return sc->runs[k].end;
	while (e < sc->len && is(sc->s[e], mask))
		e++;
	if (k == sc->nruns && k < RUN_CACHE_SLOTS)
		sc->nruns++;
	if (k < RUN_CACHE_SLOTS) {
		sc->runs[k].mask = mask;
		sc->runs[k].from = p;
		sc->runs[k].end = e;
	}
	return e;
}

/* ---- private_key ------------------------------------------------------ */

static size_t pem_label_end(const struct det_scan *sc, size_t p)
{
	size_t lim = sc->len - p > PEM_LABEL_MAX ? p + PEM_LABEL_MAX : sc->len;

	while (p < lim && (is(sc->s[p], CL_UP | CL_DG) || sc->s[p] == ' '))
		p++;
	return p;
}

/* The next "-----END" at or after @p, or len; one search per stretch of input. */
static size_t pem_find_end(struct det_scan *sc, size_t p)
{
	const unsigned char *e;

	if (sc->pem_from <= p && p <= sc->pem_at)
		return sc->pem_at;
	e = memmem(sc->s + p, sc->len - p, PEM_END, strlen(PEM_END));
	sc->pem_from = p;
	sc->pem_at = e ? (size_t)(e - sc->s) : sc->len;
	return sc->pem_at;
}

/* After the header at @p: through the END line, or to the end of the input. */
static size_t pem_block_end(struct det_scan *sc, size_t p)
{
	size_t e = pem_find_end(sc, p), q;

	if (e == sc->len)
		return sc->len;
	q = pem_label_end(sc, e + strlen(PEM_END));
	if (has_at(sc, q, PEM_DASHES, strlen(PEM_DASHES)))
		return q + strlen(PEM_DASHES);
	if (q == sc->len || cut_at(sc, q, PEM_DASHES, strlen(PEM_DASHES)))
		return sc->len;
	return q;
}

static bool scan_pem(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	size_t lab = i + strlen(PEM_BEGIN) + 1, lab_end;

	(void)prev; /* "-----BEGIN" is distinctive enough anywhere */
	if (sc->s[i] != '-' || !has_at(sc, i, PEM_BEGIN, strlen(PEM_BEGIN)))
		return false;
	if (lab - 1 == sc->len)
		return hit(h, DET_PRIVATE_KEY, 0, sc->len); /* cut after "-----BEGIN" */
	if (sc->s[lab - 1] != ' ')
		return false;
	lab_end = pem_label_end(sc, lab);
	if (lab_end == sc->len || cut_at(sc, lab_end, PEM_DASHES, strlen(PEM_DASHES)))
		return hit(h, DET_PRIVATE_KEY, 0, sc->len); /* header cut: when in doubt */
	if (!has_at(sc, lab_end, PEM_DASHES, strlen(PEM_DASHES)) ||
	    !memmem(sc->s + lab, lab_end - lab, PEM_PRIVATE, strlen(PEM_PRIVATE)))
		return false;
	return hit(h, DET_PRIVATE_KEY, 0, pem_block_end(sc, lab_end + strlen(PEM_DASHES)));
}

/* ---- jwt ---------------------------------------------------------------- */

static bool scan_jwt(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	size_t p, q, dots = 0;
	bool payload = false;

	if (!boundary(prev, CL_B64URL) || !has_at(sc, i, JWT_HEAD, strlen(JWT_HEAD)))
		return false;
	p = run_end(sc, i, CL_B64URL);
	/* header.payload.signature, and JWE's further segments, taken greedily */
	while (p < sc->len && sc->s[p] == '.') {
		q = run_end(sc, p + 1, CL_B64URL);
		if (dots++ == 0)
			payload = q > p + 1;
		p = q;
	}
	if (p - i < JWT_MIN)
		return false;
	/* JWS: header.payload.signature; JWE (5 parts) may have an empty key part */
	if (p == sc->len || (dots >= 2 && payload) || dots >= JWE_DOTS)
		return hit(h, DET_JWT, 0, p);
	return false;
}

/* ---- bearer, basic_auth ------------------------------------------------- */

/* A token68 that is not prose: "bearer token", "bearer of" are not credentials. */
static bool bearer_plausible(const unsigned char *c, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!is(c[k], CL_LO))
			return true;
	return false;
}

/* user:password, base64: some decoded byte is a ':'. Decoding stops at '='. */
static bool basic_plausible(const unsigned char *c, size_t n)
{
	uint32_t acc = 0, bits = 0;

	for (size_t k = 0; k < n && c[k] != '='; k++) {
		unsigned char x = c[k];
		uint32_t v = is(x, CL_UP)   ? (uint32_t)(x - 'A')
		             : is(x, CL_LO) ? (uint32_t)(x - 'a' + 26)
		             : is(x, CL_DG) ? (uint32_t)(x - '0' + 52)
		             : x == '+'     ? 62
		                            : 63;

		acc = ((acc << 6) | v) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (((acc >> bits) & 0xff) == ':')
				return true;
		}
	}
	return false;
}

static const struct auth_scheme {
	enum detector det;
	const char *word; /* any case */
	uint16_t cred;
	size_t min;
	bool (*plausible)(const unsigned char *c, size_t n);
} schemes[] = {
	{ DET_BEARER, "bearer", CL_TOKEN68, BEARER_MIN, bearer_plausible },
	{ DET_BASIC, "basic", CL_B64 | CL_EQ, BASIC_MIN, basic_plausible },
};

/* Spaces, tabs, '+' (form encoding) and "%20" between a scheme and its credential. */
static size_t auth_sep_end(const struct det_scan *sc, size_t p)
{
	size_t start = p;

	while (p < sc->len && p - start < AUTH_SEP_MAX) {
		if (sc->s[p] == ' ' || sc->s[p] == '\t' || sc->s[p] == '+')
			p++;
		else if (has_at(sc, p, "%20", 3))
			p += 3;
		else
			break;
	}
	return p;
}

static bool scan_one_scheme(struct det_scan *sc, size_t i, const struct auth_scheme *a,
                            struct det_hit *h)
{
	size_t wl = strlen(a->word), p, q, n;

	if (!has_at_nocase(sc, i, a->word, wl))
		return false;
	p = auth_sep_end(sc, i + wl);
	if (p == i + wl)
		return false;
	q = run_end(sc, p, a->cred);
	if (q == p)
		return false;
	n = q - p < AUTH_CHECK_MAX ? q - p : AUTH_CHECK_MAX;
	/* Cut by the capture: any credential but prose ("... uses basic auth") */
	if (q == sc->len ? !bearer_plausible(sc->s + p, n)
	                 : q - p < a->min || !a->plausible(sc->s + p, n))
		return false;
	return hit(h, a->det, p - i, q);
}

static bool scan_auth(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	if ((sc->s[i] | 0x20) != 'b' || !boundary(prev, CL_ALNUM))
		return false;
	for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++)
		if (scan_one_scheme(sc, i, &schemes[k], h))
			return true;
	return false;
}

/* ---- prefixed tokens: aws_key ids, gcp, github, gitlab, slack, stripe --- */

static const struct prefixed {
	enum detector det;
	const char *prefix;
	uint16_t body; /* the first @min bytes after the prefix */
	uint8_t min;
	uint16_t tail; /* then taken greedily (a superset of @body) */
} prefixed[] = {
	/* AWS unique-id prefixes of keys and principals */
	{ DET_AWS_KEY, "AKIA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "ASIA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "AGPA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "AIDA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "AROA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "ANPA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "ANVA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "AIPA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "ABIA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_AWS_KEY, "ACCA", CL_UP | CL_DG, 16, CL_ALNUM },
	{ DET_GCP_KEY, "AIza", CL_B64URL, 35, CL_B64URL },
	{ DET_GITHUB, "ghp_", CL_ALNUM, 36, CL_ALNUM },
	{ DET_GITHUB, "gho_", CL_ALNUM, 36, CL_ALNUM },
	{ DET_GITHUB, "ghu_", CL_ALNUM, 36, CL_ALNUM },
	{ DET_GITHUB, "ghs_", CL_ALNUM, 36, CL_ALNUM },
	{ DET_GITHUB, "ghr_", CL_ALNUM, 36, CL_ALNUM },
	{ DET_GITHUB, "github_pat_", CL_ALNUM | CL_USCORE, 82, CL_ALNUM | CL_USCORE },
	/* GitLab: personal, deploy, runner, pipeline trigger, feed, SCIM, job, OAuth */
	{ DET_GITLAB, "glpat-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "gldt-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "glrt-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "glptt-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "glft-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "glsoat-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "glcbt-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	{ DET_GITLAB, "gloas-", CL_B64URL, 20, CL_B64URL | CL_DOT },
	/* Slack: app, bot, refresh, ..., user, and app-level tokens */
	{ DET_SLACK, "xoxa-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxb-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxe-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxo-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxp-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxr-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xoxs-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	{ DET_SLACK, "xapp-", CL_ALNUM | CL_DASH, 10, CL_ALNUM | CL_DASH },
	/* Stripe secret, restricted and live publishable keys */
	{ DET_STRIPE, "sk_live_", CL_ALNUM, 24, CL_ALNUM },
	{ DET_STRIPE, "sk_test_", CL_ALNUM, 24, CL_ALNUM },
	{ DET_STRIPE, "rk_live_", CL_ALNUM, 24, CL_ALNUM },
	{ DET_STRIPE, "rk_test_", CL_ALNUM, 24, CL_ALNUM },
	{ DET_STRIPE, "pk_live_", CL_ALNUM, 24, CL_ALNUM },
};

#define PREFIX_FIRST "Agxsrp" /* first bytes of the prefixes above */

static bool scan_one_prefixed(struct det_scan *sc, size_t i, const struct prefixed *t,
                              struct det_hit *h)
{
	size_t pl, p, k = 0;

	if (sc->s[i] != (unsigned char)t->prefix[0])
		return false;
	pl = strlen(t->prefix);
	p = i + pl;
	if (!has_at(sc, i, t->prefix, pl))
		return false;
	while (k < t->min && p + k < sc->len && is(sc->s[p + k], t->body))
		k++;
	if (k == t->min)
		return hit(h, t->det, 0, run_end(sc, p + k, t->tail));
	if (p + k == sc->len && k >= CUT_MIN)
		return hit(h, t->det, 0, sc->len);
	return false;
}

static bool scan_prefixed(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	if (!memchr(PREFIX_FIRST, sc->s[i], strlen(PREFIX_FIRST)) || !boundary(prev, CL_ALNUM))
		return false;
	for (size_t k = 0; k < sizeof(prefixed) / sizeof(prefixed[0]); k++)
		if (scan_one_prefixed(sc, i, &prefixed[k], h))
			return true;
	return false;
}

/* ---- keyed values: aws secret keys, azure keys and SAS, slack webhooks -- */

enum kv_sep {
	SEP_NONE,   /* the value follows the key */
	SEP_EQ,     /* key=value */
	SEP_ASSIGN, /* key=value, key: value, "key": "value", key = 'value' */
};

static const struct keyed {
	enum detector det;
	const char *key; /* any case */
	enum kv_sep sep;
	size_t min;
} keyed[] = {
	{ DET_AWS_KEY, "aws_secret_access_key", SEP_ASSIGN, 1 },
	{ DET_AWS_KEY, "aws_secret_key", SEP_ASSIGN, 1 },
	{ DET_AWS_KEY, "secret_access_key", SEP_ASSIGN, 1 },
	{ DET_AWS_KEY, "secretaccesskey", SEP_ASSIGN, 1 },   /* STS JSON and XML-ish */
	{ DET_AZURE_KEY, "accountkey", SEP_ASSIGN, 1 },      /* storage connection strings */
	{ DET_AZURE_KEY, "sharedaccesskey", SEP_ASSIGN, 1 }, /* Service Bus, Event Hubs */
	{ DET_AZURE_KEY, "sig", SEP_EQ, SAS_SIG_MIN },       /* SAS URL signature */
	{ DET_SLACK, "hooks.slack.com/services/", SEP_NONE, CUT_MIN },
};

#define KEYED_FIRST "ash" /* first bytes of the keys above, lowercase */

static size_t skip_spaces(const struct det_scan *sc, size_t p)
{
	for (size_t n = 0; n < KV_SPACES_MAX && p < sc->len && sc->s[p] == ' '; n++)
		p++;
	return p;
}

static size_t skip_quote(const struct det_scan *sc, size_t p)
{
	if (p + 1 < sc->len && sc->s[p] == '\\' && (sc->s[p + 1] == '"' || sc->s[p + 1] == '\''))
		return p + 2; /* JSON inside a JSON string */
	if (p < sc->len && (sc->s[p] == '"' || sc->s[p] == '\''))
		return p + 1;
	return p;
}

/* Where the value starts after the key ending at @p, or 0 if there is none. */
static size_t kv_value_start(const struct det_scan *sc, size_t p, enum kv_sep sep)
{
	if (sep == SEP_NONE)
		return p;
	if (sep == SEP_ASSIGN)
		p = skip_spaces(sc, skip_quote(sc, p));
	if (p >= sc->len || (sc->s[p] != '=' && (sep == SEP_EQ || sc->s[p] != ':')))
		return 0;
	if (sep == SEP_ASSIGN)
		return skip_quote(sc, skip_spaces(sc, p + 1));
	return p + 1;
}

static bool scan_keyed(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	if (!is(sc->s[i], CL_ALPHA) || !memchr(KEYED_FIRST, sc->s[i] | 0x20, strlen(KEYED_FIRST)) ||
	    !boundary(prev, CL_ALNUM))
		return false;
	for (size_t k = 0; k < sizeof(keyed) / sizeof(keyed[0]); k++) {
		const struct keyed *t = &keyed[k];
		size_t kl, p, q;

		if ((sc->s[i] | 0x20) != (unsigned char)t->key[0])
			continue;
		kl = strlen(t->key);
		if (!has_at_nocase(sc, i, t->key, kl))
			continue;
		p = kv_value_start(sc, i + kl, t->sep);
		if (p == 0)
			continue;
		q = run_end(sc, p, CL_VALUE);
		if (q > p && (q == sc->len || q - p >= t->min))
			return hit(h, t->det, p - i, q);
	}
	return false;
}

/* A bare Azure storage account key: 86 base64 bytes and "==". */
static bool scan_azure_raw(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	size_t k = 0;

	if (!boundary(prev, CL_B64))
		return false;
	while (k < AZURE_KEY_B64 && i + k < sc->len && is(sc->s[i + k], CL_B64))
		k++;
	if (k < AZURE_KEY_B64 || !has_at(sc, i + k, "==", 2))
		return false;
	return hit(h, DET_AZURE_KEY, 0, run_end(sc, i + k + 2, CL_TOKEN));
}

/* ---- email -------------------------------------------------------------- */

/* The next "%40" at or after @p, or len; one search per stretch of input. */
static size_t pct40_find(struct det_scan *sc, size_t p)
{
	const unsigned char *e;

	if (sc->pct_from <= p && p <= sc->pct_at)
		return sc->pct_at;
	e = memmem(sc->s + p, sc->len - p, "%40", 3);
	sc->pct_from = p;
	sc->pct_at = e ? (size_t)(e - sc->s) : sc->len;
	return sc->pct_at;
}

/*
 * After the local part at @i and its '@' or "%40": the domain's start, or
 * 0. Both lookups are cached: many local parts may start in one run.
 */
static size_t email_local(struct det_scan *sc, size_t i)
{
	size_t e = run_end(sc, i, CL_LOCAL), pct = pct40_find(sc, i + 1);

	if (pct < e) /* '%', '4', '0' are local bytes: the run goes through "%40" */
		return pct - i <= EMAIL_LOCAL_MAX ? pct + 3 : 0;
	if (e < sc->len && sc->s[e] == '@' && e - i <= EMAIL_LOCAL_MAX)
		return e + 1;
	return 0;
}

/*
 * The longest domain prefix from @p with >= 2 labels whose last has >= 2
 * letters (0 if none); @cut: the input ends in the domain, which is empty
 * or dotted with a last label of letters so far ("user@host" or
 * "user@10.0.0.1" at the end are no more emails than inside).
 */
static size_t email_domain(const struct det_scan *sc, size_t p, bool *cut)
{
	size_t best = 0, label = 0, labels = 0, start = p;
	bool alpha = true;

	for (; p < sc->len && p - start < EMAIL_DOMAIN_MAX; p++) {
		if (sc->s[p] == '.') {
			if (label == 0)
				break;
			labels++;
			label = 0;
			alpha = true;
			continue;
		}
		if (!is(sc->s[p], CL_DOMAIN))
			break;
		label++;
		alpha = alpha && is(sc->s[p], CL_ALPHA);
		if (labels > 0 && alpha && label >= 2)
			best = p + 1;
	}
	*cut = p == sc->len && (p == start || (labels > 0 && alpha));
	return best;
}

static bool scan_email(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	size_t d, end;
	bool cut;

	if (!is(sc->s[i], CL_ALNUM) || !boundary(prev, CL_ALNUM))
		return false;
	d = email_local(sc, i);
	if (d == 0)
		return false;
	if (d != sc->dom_at) {
		sc->dom_end = email_domain(sc, d, &sc->dom_cut);
		sc->dom_at = d;
	}
	end = sc->dom_end;
	cut = sc->dom_cut;
	if (cut)
		return hit(h, DET_EMAIL, 0, sc->len);
	return end > 0 && hit(h, DET_EMAIL, 0, end);
}

/* ---- card_number -------------------------------------------------------- */

/* Card brands: IIN range and the lengths issued in it. */
#define LENS(lo, hi) ((2u << (hi)) - (1u << (lo))) /* bits lo..hi */
static const struct card_brand {
	unsigned lo, hi; /* 4-digit IIN prefix range */
	uint32_t lens;   /* bit n: cards of n digits */
} card_brands[] = {
	{ 4000, 4999, LENS(13, 13) | LENS(16, 16) | LENS(19, 19) }, /* Visa */
	{ 5100, 5599, LENS(16, 16) },                               /* Mastercard */
	{ 2221, 2720, LENS(16, 16) },                               /* Mastercard 2-series */
	{ 3400, 3499, LENS(15, 15) },                               /* Amex */
	{ 3700, 3799, LENS(15, 15) },                               /* Amex */
	{ 3000, 3059, LENS(14, 19) },                               /* Diners 300-305 */
	{ 3600, 3699, LENS(14, 19) },                               /* Diners */
	{ 3800, 3999, LENS(14, 19) },                               /* Diners */
	{ 3528, 3589, LENS(16, 19) },                               /* JCB */
	{ 6000, 6999, LENS(13, 19) }, /* Discover, UnionPay, Maestro */
	{ 5000, 5099, LENS(13, 19) }, /* Maestro */
	{ 5600, 5999, LENS(13, 19) }, /* Maestro */
	{ 2200, 2204, LENS(16, 19) }, /* Mir */
};

/* A card of @n digits, or (@cut) of @n digits or more, may start with the 4 digits of @d. */
static bool card_iin(const uint8_t *d, size_t n, bool cut)
{
	unsigned p4 = ((d[0] * 10u + d[1]) * 10u + d[2]) * 10u + d[3];

	for (size_t k = 0; k < sizeof(card_brands) / sizeof(card_brands[0]); k++) {
		const struct card_brand *b = &card_brands[k];

		if (p4 >= b->lo && p4 <= b->hi && (cut ? b->lens >> n : b->lens >> n & 1))
			return true;
	}
	return false;
}

/*
 * Luhn sums kept as digits arrive, so each group end is checked in O(1):
 * plain[p] and twice[p] add the digits at even/odd positions from the
 * left, as they are and doubled; which ones count doubled depends on the
 * length, known only at the candidate's end.
 */
struct luhn {
	unsigned plain[2], twice[2];
};

static void luhn_add(struct luhn *l, size_t k, unsigned d)
{
	l->plain[k % 2] += d;
	l->twice[k % 2] += d * 2 > 9 ? d * 2 - 9 : d * 2;
}

static bool luhn_ok(const struct luhn *l, size_t n)
{
	/* digit k is doubled when n - 1 - k is odd, i.e. k and n have one parity */
	return (l->twice[n % 2] + l->plain[1 - n % 2]) % 10 == 0;
}

static bool card_sep(unsigned char c)
{
	return c == ' ' || c == '-';
}

/*
 * Digit groups from @i; a candidate ends at a group's end, so no card is
 * taken out of a longer digit run. Grouped numbers are written with one
 * separator throughout and a first group of 4 (4-4-4-4, 4-6-5): that keeps
 * dates, phone numbers and version lists out. The longest valid candidate wins.
 */
static bool scan_card(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	uint8_t d[CARD_MAX];
	struct luhn l = { { 0, 0 }, { 0, 0 } };
	size_t n = 0, p = i, best = 0, first = 0;
	unsigned char sep = 0;

	if (!is(sc->s[i], CL_DG) || !boundary(prev, CL_ALNUM))
		return false;
	for (;;) {
		while (p < sc->len && is(sc->s[p], CL_DG) && n < CARD_MAX) {
			d[n] = (uint8_t)(sc->s[p++] - '0');
			luhn_add(&l, n, d[n]);
			n++;
		}
		if (p < sc->len && is(sc->s[p], CL_DG))
			break; /* a 20th digit: nothing from here on is a card */
		first = first ? first : n;
		if (sep && first != CARD_GROUP)
			break;
		if (n >= CARD_MIN && card_iin(d, n, false) && luhn_ok(&l, n))
			best = p;
		/* Cut by the capture, the rest unknown: grouped like a card, redact. */
		if (sep && n >= CARD_CUT_MIN && card_iin(d, n, true) &&
		    (p == sc->len || (p + 1 == sc->len && sc->s[p] == sep)))
			best = p;
		if (p + 1 >= sc->len || !card_sep(sc->s[p]) || (sep && sc->s[p] != sep) ||
		    !is(sc->s[p + 1], CL_DG))
			break;
		sep = sc->s[p++];
	}
	return best > 0 && hit(h, DET_CARD, 0, best);
}

/* ---- ssn ---------------------------------------------------------------- */

static unsigned digits_at(const unsigned char *s, size_t n)
{
	unsigned v = 0;

	for (size_t k = 0; k < n; k++)
		v = v * 10 + (unsigned)(s[k] - '0');
	return v;
}

static bool scan_ssn(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	static const char shape[] = "ddd-dd-dddd";
	const unsigned char *s = sc->s + i;
	size_t k;
	unsigned area;

	if (!is(s[0], CL_DG) || !boundary(prev, CL_ALNUM))
		return false;
	for (k = 0; k < SSN_LEN && i + k < sc->len; k++)
		if (shape[k] == 'd' ? !is(s[k], CL_DG) : s[k] != '-')
			return false;
	if (k < SSN_CUT_MIN || (k == SSN_LEN && i + k < sc->len && is(s[k], CL_DG)))
		return false;
	area = digits_at(s, 3);
	if (area == 0 || area == 666 || area >= 900 || digits_at(s + 4, 2) == 0)
		return false;
	if (k == SSN_LEN && digits_at(s + 7, 4) == 0)
		return false;
	return hit(h, DET_SSN, 0, i + k); /* k < SSN_LEN: cut, i + k is the end */
}

/* ---- iban --------------------------------------------------------------- */

/* ISO 13616 registry: country and IBAN length. */
static const struct iban_country {
	char cc[3];
	uint8_t len;
} iban_countries[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 },
	{ "BE", 16 }, { "BG", 22 }, { "BH", 22 }, { "BI", 27 }, { "BR", 29 }, { "BY", 28 },
	{ "CH", 21 }, { "CR", 22 }, { "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DJ", 27 },
	{ "DK", 18 }, { "DO", 28 }, { "EE", 20 }, { "EG", 29 }, { "ES", 24 }, { "FI", 18 },
	{ "FK", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 }, { "GE", 22 }, { "GI", 23 },
	{ "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HN", 28 }, { "HR", 21 }, { "HU", 28 },
	{ "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 }, { "IT", 27 }, { "JO", 30 },
	{ "KW", 30 }, { "KZ", 20 }, { "LB", 28 }, { "LC", 32 }, { "LI", 21 }, { "LT", 20 },
	{ "LU", 20 }, { "LV", 21 }, { "LY", 25 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 },
	{ "MK", 19 }, { "MN", 20 }, { "MR", 27 }, { "MT", 31 }, { "MU", 30 }, { "NI", 28 },
	{ "NL", 18 }, { "NO", 15 }, { "OM", 23 }, { "PK", 24 }, { "PL", 28 }, { "PS", 29 },
	{ "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 }, { "RU", 33 }, { "SA", 24 },
	{ "SC", 31 }, { "SD", 18 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "SM", 27 },
	{ "SO", 23 }, { "ST", 25 }, { "SV", 28 }, { "TL", 23 }, { "TN", 24 }, { "TR", 26 },
	{ "UA", 29 }, { "VA", 22 }, { "VG", 24 }, { "XK", 20 }, { "YE", 30 },
};

static size_t iban_length(const unsigned char *cc)
{
	for (size_t k = 0; k < sizeof(iban_countries) / sizeof(iban_countries[0]); k++)
		if (cc[0] == (unsigned char)iban_countries[k].cc[0] &&
		    cc[1] == (unsigned char)iban_countries[k].cc[1])
			return iban_countries[k].len;
	return 0;
}

/* ISO 7064 MOD 97-10, one character at a time: letters count as 10..35. */
static unsigned mod97(unsigned r, unsigned char c)
{
	if (is(c, CL_DG))
		return (r * 10 + (unsigned)(c - '0')) % 97;
	return (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
}

static bool scan_iban(struct det_scan *sc, size_t i, int prev, struct det_hit *h)
{
	const unsigned char *s = sc->s;
	size_t want, n = IBAN_GROUP, p = i + IBAN_GROUP;
	unsigned r = 0;

	if (!boundary(prev, CL_ALNUM) || sc->len - i < IBAN_GROUP || !is(s[i], CL_UP) ||
	    !is(s[i + 1], CL_UP) || !is(s[i + 2], CL_DG) || !is(s[i + 3], CL_DG))
		return false;
	want = iban_length(s + i);
	if (want == 0)
		return false;
	while (n < want) {
		if (p < sc->len && s[p] == ' ' && n % IBAN_GROUP == 0)
			p++; /* the printed form's group separator */
		if (p == sc->len)
			return n >= IBAN_CUT_MIN && hit(h, DET_IBAN, 0, sc->len);
		if (!is(s[p], CL_UP | CL_DG))
			return false;
		r = mod97(r, s[p++]);
		n++;
	}
	if (p < sc->len && is(s[p], CL_ALNUM))
		return false;
	for (size_t k = 0; k < IBAN_GROUP; k++)
		r = mod97(r, s[i + k]);
	return r == 1 && hit(h, DET_IBAN, 0, p);
}

/* ---- high_entropy ------------------------------------------------------- */

/* log2(x) in Q16 for 1 <= x < 2^31: integer part, then 16 squarings of the mantissa. */
static uint32_t log2_q16(uint32_t x)
{
	uint32_t ip = 31 - (uint32_t)__builtin_clz(x), frac = 0;
	uint64_t m = ((uint64_t)x << 30) >> ip; /* Q30, in [1, 2) */

	for (int b = Q16_BITS - 1; b >= 0; b--) {
		m = (m * m) >> 30;
		if (m >= (2ull << 30)) {
			m >>= 1;
			frac |= 1u << b;
		}
	}
	return (ip << Q16_BITS) | frac;
}

/* Shannon entropy of @s in bits per byte, at least @min_q16 (Q16)? */
static bool entropy_at_least(const unsigned char *s, size_t n, uint32_t min_q16)
{
	uint16_t count[256] = { 0 };
	int64_t sum = 0;

	for (size_t k = 0; k < n; k++)
		count[s[k]]++;
	for (size_t c = 0; c < 256; c++)
		if (count[c] > 1)
			sum += (int64_t)count[c] * log2_q16(count[c]);
	/* n * H = n log2 n - sum(c log2 c); n <= ENT_SAMPLE_MAX, no overflow */
	return (int64_t)n * log2_q16((uint32_t)n) - sum >= (int64_t)n * min_q16;
}

/* An 8-4-4-4-12 hex UUID at @s (@n bytes left), not inside a longer word. */
static bool uuid_at(const unsigned char *s, size_t n)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (n < UUID_LEN || (n > UUID_LEN && is(s[UUID_LEN], CL_ALNUM)))
		return false;
	for (size_t k = 0; k < UUID_LEN; k++)
		if (shape[k] == '-' ? s[k] != '-' : !is(s[k], CL_DG | CL_HEXLO | CL_HEXUP))
			return false;
	return true;
}

static size_t run_of(const unsigned char *s, size_t n, unsigned mask)
{
	size_t k = 0;

	while (k < n && is(s[k], mask))
		k++;
	return k;
}

/*
 * Bytes of @s in words ([A-Z]?[a-z]{3,}), numbers ([0-9]{3,}) and UUIDs:
 * identifiers, paths and ids are made of these, random secrets hardly.
 */
static size_t wordy_bytes(const unsigned char *s, size_t n)
{
	size_t k = 0, words = 0, up, r;

	while (k < n) {
		if ((k == 0 || !is(s[k - 1], CL_ALNUM)) && uuid_at(s + k, n - k)) {
			words += UUID_LEN;
			k += UUID_LEN;
			continue;
		}
		if (is(s[k], CL_DG)) {
			r = run_of(s + k, n - k, CL_DG);
			words += r >= ENT_WORD_MIN ? r : 0;
			k += r;
			continue;
		}
		up = is(s[k], CL_UP) ? 1 : 0;
		r = run_of(s + k + up, n - k - up, CL_LO);
		words += r >= ENT_WORD_MIN ? up + r : 0;
		k += up + r > 0 ? up + r : 1;
	}
	return words;
}

static unsigned classes_of(const unsigned char *s, size_t n)
{
	unsigned seen = 0;

	for (size_t k = 0; k < n; k++)
		seen |= cls[s[k]];
	return seen;
}

/* Only digits and hex letters of one case, with both digits and letters. */
static bool single_case_hex(const unsigned char *s, size_t n, unsigned seen)
{
	unsigned letters = seen & CL_HEXLO ? CL_HEXLO : CL_HEXUP;

	return (seen & CL_DG) && (seen & letters) && run_of(s, n, CL_DG | letters) == n;
}

/* Is the token run @s (@n bytes, all CL_TOKEN) a high-entropy secret? */
static bool entropy_secret(const unsigned char *s, size_t n)
{
	unsigned seen;

	if (n < ENT_MIN_LEN)
		return false;
	if (n > ENT_SAMPLE_MAX)
		n = ENT_SAMPLE_MAX;
	seen = classes_of(s, n);
	if ((seen & CL_ALNUM) == CL_ALNUM && 2 * wordy_bytes(s, n) < n)
		return entropy_at_least(s, n, ENT_B64_MIN_Q16);
	if (n >= ENT_HEX_MIN_LEN && single_case_hex(s, n, seen))
		return entropy_at_least(s, n, ENT_HEX_MIN_Q16);
	return false;
}

/* ---- the driver --------------------------------------------------------- */

static const scanner_fn scanners[] = {
	scan_pem,       scan_jwt,   scan_auth, scan_prefixed, scan_keyed,
	scan_azure_raw, scan_email, scan_card, scan_ssn,      scan_iban,
};

/*
 * The match at @i: the longest, then the lowest detector. Its kept key
 * shrinks to what no other match at @i redacts.
 */
static bool find_hit(struct det_scan *sc, size_t i, int prev, struct det_hit *best)
{
	size_t min_redact = SIZE_MAX;
	bool any = false;

	/* Every match starts with a base64 byte or '-' ("-----BEGIN"); inside a word
	 * only "-----BEGIN" can start: every other scanner needs a boundary. */
	if (sc->s[i] != '-' &&
	    (!is(sc->s[i], CL_B64) || (prev >= 0 && is((unsigned char)prev, CL_ALNUM))))
		return false;
	for (size_t k = 0; k < sizeof(scanners) / sizeof(scanners[0]); k++) {
		struct det_hit h;

		if (!scanners[k](sc, i, prev, &h) || !(sc->enabled & (1u << h.det)))
			continue;
		if (h.keep < min_redact)
			min_redact = h.keep;
		if (!any || h.end > best->end || (h.end == best->end && h.det < best->det))
			*best = h;
		any = true;
	}
	if (any && min_redact < best->keep)
		best->keep = min_redact;
	return any;
}

/*
 * Matches starting inside the chosen one: one that ends beyond it extends
 * it (no tail of a secret stays raw), and none may start redacting inside
 * the kept key.
 */
static void merge_overlaps(struct det_scan *sc, size_t i, struct det_hit *h)
{
	for (size_t j = i + 1; j < h->end; j++) {
		struct det_hit o;

		if (h->end == sc->len && j >= i + h->keep)
			break; /* nothing left to extend into */
		if (!find_hit(sc, j, sc->s[j - 1], &o))
			continue;
		if (o.end > h->end)
			h->end = o.end;
		if (j + o.keep < i + h->keep)
			h->keep = j + o.keep - i;
	}
}

/* The output: written only below @cap; @n is the length it would have. */
struct det_out {
	char *buf;
	size_t cap;
	size_t n;
	size_t hi; /* bytes of @buf ever written: cleared past the end when done */
	uint64_t counts[DET__COUNT];
	size_t run;     /* input offset of the pending token run, or NO_RUN */
	size_t run_out; /* its output offset */
};

static void put(struct det_out *o, char c)
{
	if (o->n < o->cap)
		o->buf[o->n] = c;
	o->n++;
	if (o->n > o->hi)
		o->hi = o->n;
}

static void put_marker(struct det_out *o, enum detector det)
{
	const char *name = detector_names[det];

	for (const char *c = MARK_OPEN; *c; c++)
		put(o, *c);
	for (; *name; name++)
		put(o, *name);
	put(o, MARK_CLOSE[0]);
	o->counts[det]++;
}

/* The pending token run ends before @end: a secret is taken back and masked. */
static void end_run(struct det_out *o, const struct det_scan *sc, size_t end)
{
	if (o->run == NO_RUN)
		return;
	if ((sc->enabled & (1u << DET_ENTROPY)) && entropy_secret(sc->s + o->run, end - o->run)) {
		o->n = o->run_out;
		put_marker(o, DET_ENTROPY);
	}
	o->run = NO_RUN;
}

static void put_raw(struct det_out *o, const struct det_scan *sc, size_t k)
{
	unsigned char c = sc->s[k];

	if (!is(c, CL_TOKEN)) {
		end_run(o, sc, k);
	} else if (o->run == NO_RUN) {
		o->run = k;
		o->run_out = o->n;
	}
	put(o, (char)c);
}

static void scan_all(struct det_scan *sc, struct det_out *o)
{
	size_t i = 0, last_end = 0;

	while (i < sc->len) {
		int prev = i == last_end ? -1 : sc->s[i - 1];
		struct det_hit h;

		if (!find_hit(sc, i, prev, &h)) {
			put_raw(o, sc, i++);
			continue;
		}
		merge_overlaps(sc, i, &h);
		for (size_t k = i; k < i + h.keep; k++)
			put_raw(o, sc, k);
		end_run(o, sc, i + h.keep);
		put_marker(o, h.det);
		i = last_end = h.end;
	}
	end_run(o, sc, sc->len);
}

static void scan_init(struct det_scan *sc, const char *in, size_t len, uint32_t enabled)
{
	memset(sc, 0, sizeof(*sc));
	sc->enabled = enabled;
	sc->s = (const unsigned char *)in;
	sc->len = len;
	sc->pem_from = 1; /* empty caches: from > at */
	sc->pct_from = 1;
	sc->dom_at = SIZE_MAX;
}

/*
 * A token run taken back for high_entropy leaves its raw bytes past the
 * marker, and a failed call leaves what it wrote: clear both, so no secret
 * stays in the buffer past the NUL.
 */
static void clear_tail(struct det_out *o, size_t from)
{
	size_t to = o->hi < o->cap ? o->hi : o->cap;

	if (from < to)
		memset(o->buf + from, 0, to - from);
}

long detect_redact(const char *in, size_t len, char *out, size_t cap, uint64_t counts[DET__COUNT])
{
	return detect_redact_only(in, len, out, cap, counts, DETECT_ALL);
}

long detect_redact_only(const char *in, size_t len, char *out, size_t cap,
                        uint64_t counts[DET__COUNT], uint32_t enabled)
{
	struct det_scan sc;
	struct det_out o = { .buf = out, .cap = cap, .run = NO_RUN };

	scan_init(&sc, in, len, enabled);
	scan_all(&sc, &o);
	if (o.n >= cap || o.n > LONG_MAX) {
		clear_tail(&o, 0);
		if (cap > 0)
			out[0] = '\0';
		return -ENOSPC;
	}
	clear_tail(&o, o.n);
	out[o.n] = '\0';
	for (int d = 0; counts && d < DET__COUNT; d++)
		counts[d] += o.counts[d];
	return (long)o.n;
}

bool detect_any(const char *in, size_t len)
{
	struct det_scan sc;
	struct det_out o = { .buf = NULL, .cap = 0, .run = NO_RUN };

	scan_init(&sc, in, len, DETECT_ALL);
	scan_all(&sc, &o);
	for (int d = 0; d < DET__COUNT; d++)
		if (o.counts[d] > 0)
			return true;
	return false;
}
