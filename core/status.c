/* status.c - the ee_err helpers; see status.h. */
#include "status.h"

#include <stdio.h>
#include <string.h>

int ee_err_vset(struct ee_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int ee_err_set(struct ee_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ee_err_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int ee_err_prefix(struct ee_err *err, const char *fmt, ...)
{
	char head[EE_ERR_MSG_MAX];
	size_t hl, ol;
	va_list ap;

	if (!err)
		return EE_ERR_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	hl = strlen(head);
	ol = strnlen(err->msg, sizeof(err->msg) - 1);
	if (hl + ol > sizeof(err->msg) - 1)
		ol = sizeof(err->msg) - 1 - hl; /* keep the context, cut the tail */
	memmove(err->msg + hl, err->msg, ol);
	memcpy(err->msg, head, hl);
	err->msg[hl + ol] = '\0';
	return err->code;
}

const char *ee_strerror(int code)
{
	switch (code) {
	case EE_OK: return "success";
	case EE_ERR_USAGE: return "usage error";
	case EE_ERR_INPUT: return "bad input";
	case EE_ERR_NOMEM: return "out of memory";
	case EE_ERR_INTERNAL: return "internal error";
	case EE_ERR_IO: return "write error";
	}
	return "unknown error";
}
