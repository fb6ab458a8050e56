// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "processor/scrub.h"

const char *const scrub_rule_names[SCRUB_RULES] = {
	[SCRUB_FLAG_VALUE] = "arg_flag_value",     [SCRUB_NEXT_ARG] = "arg_after_secret_flag",
	[SCRUB_ATTACHED_P] = "arg_attached_p",     [SCRUB_KEY_VALUE] = "arg_key_value",
	[SCRUB_URL_USERINFO] = "arg_url_userinfo",
};

/*
 * A flag or key whose name contains one of these (case-insensitive) carries
 * a credential. Broad on purpose: a redacted harmless value costs little, a
 * leaked password costs a rotation.
 */
static const char *const secret_words[] = {
	"pass",       /* password, passwd, passphrase, PGPASSWORD */
	"pwd",        /* mysql --pwd style, DB_PWD */
	"secret",     /* client-secret, AWS_SECRET_ACCESS_KEY */
	"token",      /* --token, GITHUB_TOKEN, access_token */
	"apikey",     /* apikey=, --apikey */
	"api-key",    /* --api-key */
	"api_key",    /* api_key= */
	"access-key", /* --access-key */
	"access_key", /* access_key= */
	"auth",       /* --auth, authorization=, basic-auth */
	"credential", /* --credentials */
	"private",    /* --private-key */
	"session",    /* session ids */
	"cookie",     /* --cookie */
};

/* Does @name (@len bytes) contain a secret word? */
static bool secret_name(const char *name, size_t len)
{
	for (size_t w = 0; w < sizeof(secret_words) / sizeof(secret_words[0]); w++) {
		size_t wl = strlen(secret_words[w]);

		for (size_t i = 0; i + wl <= len; i++)
			if (strncasecmp(name + i, secret_words[w], wl) == 0)
				return true;
	}
	return false;
}

/* Write @keep bytes of @arg, then the mark: the value is never copied. */
static size_t emit_redacted(const char *arg, size_t keep, char *out, size_t cap)
{
	size_t mark = sizeof(SCRUB_MARK) - 1;

	if (keep + mark >= cap)
		keep = cap - 1 - mark; /* cap >= sizeof(SCRUB_MARK) by contract */
	memcpy(out, arg, keep);
	memcpy(out + keep, SCRUB_MARK, mark + 1);
	return keep + mark;
}

static size_t emit_copy(const char *arg, char *out, size_t cap)
{
	size_t len = strlen(arg);

	if (len >= cap)
		len = cap - 1;
	memcpy(out, arg, len);
	out[len] = '\0';
	return len;
}

/* scheme://user:secret@host: offsets of the ':' and the '@'. */
static bool url_userinfo(const char *arg, size_t *colon, size_t *at)
{
	const char *p = strstr(arg, "://");
	const char *end, *c;

	if (!p)
		return false;
	p += 3;
	end = p + strcspn(p, "/?#@");
	if (*end != '@')
		return false;
	c = memchr(p, ':', (size_t)(end - p));
	if (!c)
		return false;
	*colon = (size_t)(c - arg);
	*at = (size_t)(end - arg);
	return true;
}

/* Keep "scheme://user:", the mark, then "@host/..." (cut to fit). */
static size_t emit_url(const char *arg, size_t colon, size_t at, char *out, size_t cap)
{
	size_t n = emit_redacted(arg, colon + 1, out, cap);

	return n + emit_copy(arg + at, out + n, cap - n);
}

static size_t scrub_flag(const char *arg, char *out, size_t cap, bool *secret_next,
                         struct scrub_counts *c)
{
	const char *name = arg + strspn(arg, "-");
	const char *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);

	if (!secret_name(name, nlen))
		return (size_t)-1;
	if (eq) {
		c->hits[SCRUB_FLAG_VALUE]++;
		return emit_redacted(arg, (size_t)(eq - arg) + 1, out, cap);
	}
	*secret_next = true;
	return emit_copy(arg, out, cap);
}

size_t scrub_arg(const char *arg, char *out, size_t cap, bool *secret_next, struct scrub_counts *c)
{
	const char *eq = strchr(arg, '=');
	size_t colon, at, r;

	if (*secret_next) {
		*secret_next = false;
		c->hits[SCRUB_NEXT_ARG]++;
		return emit_redacted(arg, 0, out, cap);
	}
	if (strcmp(arg, "-p") == 0) {
		*secret_next = true;
		return emit_copy(arg, out, cap);
	}
	if (strncmp(arg, "-p", 2) == 0 && arg[2] != '\0' && arg[2] != '-') {
		c->hits[SCRUB_ATTACHED_P]++;
		return emit_redacted(arg, 2, out, cap);
	}
	if (arg[0] == '-' && (r = scrub_flag(arg, out, cap, secret_next, c)) != (size_t)-1)
		return r;
	if (url_userinfo(arg, &colon, &at)) {
		c->hits[SCRUB_URL_USERINFO]++;
		return emit_url(arg, colon, at, out, cap);
	}
	if (arg[0] != '-' && eq && secret_name(arg, (size_t)(eq - arg))) {
		c->hits[SCRUB_KEY_VALUE]++;
		return emit_redacted(arg, (size_t)(eq - arg) + 1, out, cap);
	}
	return emit_copy(arg, out, cap);
}
