/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one logging header, shared by the loader and the processor.
 * Messages go to stderr as "IDENT: LEVEL: text"; stdout is reserved for the
 * processor's event stream. Callers end every message with "\n" and name the
 * failing call and strerror(errno).
 */
#ifndef BPFWARDEN_LOG_H
#define BPFWARDEN_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

/* ident must outlive every later call (a string literal in practice). */
void log_init(const char *ident, enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Format a one-line reason into @buf (@len bytes) and return @code: how
 * library code on both sides reports an error to the policy code that logs.
 */
int errfmt(int code, char *buf, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
