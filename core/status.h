/*
 * status.h - error codes and the caller-owned error object of libee.
 *
 * Every library function that can fail returns an int: EE_OK (0) on success or a
 * negative enum ee_status, and writes a one-line, lowercase message without a
 * trailing period into a struct ee_err owned by the caller. Only analyzer/ turns
 * these codes into exit statuses and prints them (as "eeprof: error: <msg>").
 *
 *     struct ee_err err = {0};
 *     if (ee_ckpt_open(&ck, path, &err) < 0)
 *             fprintf(stderr, "eeprof: error: %s\n", err.msg);
 *
 * Messages say what failed first and quote the subject: "checkpoint 'x.h5': ...".
 * The codes, struct ee_err and ee_strerror() are public: they are defined in libee's
 * public header (include/eeprof/ee.h), which a program shares with the library; this
 * file adds what the library uses to set them.
 */
#ifndef EE_STATUS_H
#define EE_STATUS_H

#include <stdarg.h>

#include "include/eeprof/ee.h"

/* Sets err (if not NULL) and returns code, so that `return ee_err_set(...)` works. */
int ee_err_set(struct ee_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ee_err_vset(struct ee_err *err, int code, const char *fmt, va_list ap);

/* Prepends context ("checkpoint 'a.h5': ") to an existing message; returns err->code. */
int ee_err_prefix(struct ee_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
