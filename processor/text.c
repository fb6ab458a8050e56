// SPDX-License-Identifier: Apache-2.0
#include <stdint.h>
#include <string.h>

#include "processor/text.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t text_utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, or a surrogate */
	return len;
}

size_t text_utf8(const char *in, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;

	while (i < len && s[i] != '\0') {
		size_t n = text_utf8_seq(s + i, len - i);
		const char *src = n ? in + i : replacement;
		size_t w = n ? n : sizeof(replacement) - 1;

		if (o + w >= cap)
			break;
		memcpy(out + o, src, w);
		o += w;
		i += n ? n : 1;
	}
	out[o] = '\0';
	return o;
}
