/*
 * jsonread.h - a small, strict, bounded JSON reader (RFC 8259) for report.json.
 *
 * `eeprof diff` compares two reports, so it must read back what json.h wrote,
 * and refuse anything else with a message that names the line and column. The
 * reader builds a tree of values. It is strict: no comments, no trailing commas,
 * no NaN/Infinity, no leading zeros, no duplicate keys, no control characters or
 * invalid UTF-8 in strings, nothing after the top-level value. It is bounded:
 * nesting deeper than EE_JV_MAX_DEPTH, numbers longer than EE_JV_MAX_NUMBER
 * characters or beyond the range of a double (1e400), and files larger than the
 * caller's limit are refused rather than parsed. "\u0000" is refused too, since
 * strings are returned NUL-terminated.
 *
 *     struct ee_jv doc;
 *     struct ee_err err = {0};
 *     if (ee_jv_read_file(&doc, "report.json", 64 << 20, &err) < 0)
 *             return err.code;   // "'report.json' line 3, column 7: expected ':'"
 *     const struct ee_jv *m = ee_jv_at(ee_jv_get(&doc, "models"), 0);
 *     printf("%s\n", ee_jv_str(ee_jv_get(m, "name")));
 *     ee_jv_release(&doc);
 */
#ifndef EE_JSONREAD_H
#define EE_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define EE_JV_MAX_DEPTH 64   /* arrays and objects nested inside each other */
#define EE_JV_MAX_NUMBER 400 /* characters of one number */

enum ee_jv_type { EE_JV_NULL, EE_JV_BOOL, EE_JV_NUM, EE_JV_STR, EE_JV_ARR, EE_JV_OBJ };

struct ee_jv {
	enum ee_jv_type type;
	bool b;              /* EE_JV_BOOL */
	double num;          /* EE_JV_NUM */
	char *str;           /* EE_JV_STR: UTF-8, NUL-terminated */
	int n;               /* EE_JV_ARR, EE_JV_OBJ: members */
	struct ee_jv *items; /* [n] values, in document order */
	char **keys;         /* [n] keys of an object (NULL for an array) */
};

/* Parses text[0..len) into *v (released with ee_jv_release, also after a failure).
 * EE_ERR_INPUT with "line L, column C: ..." for bad JSON; EE_ERR_NOMEM. */
int ee_jv_parse(struct ee_jv *v, const char *text, size_t len, struct ee_err *err);
/* Reads and parses a file of at most max bytes; errors are prefixed with its name. */
int ee_jv_read_file(struct ee_jv *v, const char *path, size_t max, struct ee_err *err);
void ee_jv_release(struct ee_jv *v);

/* Lookups that tolerate NULL and wrong types, so that chains need one check at the end. */
const struct ee_jv *ee_jv_get(const struct ee_jv *obj, const char *key); /* NULL if absent */
const struct ee_jv *ee_jv_at(const struct ee_jv *arr, int i);            /* NULL if out of range */
int ee_jv_len(const struct ee_jv *arr);     /* members of an array or object, else 0 */
const char *ee_jv_str(const struct ee_jv *v); /* NULL unless a string */
/* True and *out set if v is a number. */
bool ee_jv_num(const struct ee_jv *v, double *out);

#endif
