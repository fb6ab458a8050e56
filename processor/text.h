/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BPFWARDEN_PROCESSOR_TEXT_H
#define BPFWARDEN_PROCESSOR_TEXT_H

#include <stddef.h>

/*
 * Copy @len bytes of untrusted text into @out (@cap bytes, cap >= 1) as
 * valid UTF-8, NUL-terminated: the copy stops at the first NUL of the input;
 * every byte that does not start a valid, shortest-form UTF-8 sequence
 * (including surrogates and code points above U+10FFFF) becomes U+FFFD.
 * Output that does not fit is cut at a character boundary. Returns the
 * number of bytes written, NUL excluded.
 */
size_t text_utf8(const char *in, size_t len, char *out, size_t cap);

/*
 * Length of the valid, shortest-form UTF-8 sequence at @s (@n >= 1 bytes
 * available; no surrogates, nothing above U+10FFFF), or 0.
 */
size_t text_utf8_seq(const unsigned char *s, size_t n);

#endif
