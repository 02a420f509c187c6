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
 */
#ifndef EE_STATUS_H
#define EE_STATUS_H

#include <stdarg.h>

enum ee_status {
	EE_OK = 0,
	EE_ERR_USAGE = -1,    /* 1: a caller passed a bad argument or option */
	EE_ERR_INPUT = -2,    /* 2: bad input: file, checkpoint, dataset, trace */
	EE_ERR_NOMEM = -3,    /* 3: an allocation failed */
	EE_ERR_INTERNAL = -4, /* 4: a bug or an unexpected library failure */
	EE_ERR_IO = -5,       /* 5: an output file or pipe could not be written */
};

/* Room for a message naming a file, a tensor and two shapes, or listing what every
 * architecture expects. */
#define EE_ERR_MSG_MAX 1024

struct ee_err {
	int code;                 /* last enum ee_status set, EE_OK if none */
	char msg[EE_ERR_MSG_MAX]; /* NUL-terminated one-line message */
};

/* Sets err (if not NULL) and returns code, so that `return ee_err_set(...)` works. */
int ee_err_set(struct ee_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ee_err_vset(struct ee_err *err, int code, const char *fmt, va_list ap);

/* Prepends context ("checkpoint 'a.h5': ") to an existing message; returns err->code. */
int ee_err_prefix(struct ee_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short, stable description of a code ("bad input"). */
const char *ee_strerror(int code);

#endif
