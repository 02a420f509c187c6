/*
 * json.h - a streaming JSON writer with stable, deterministic output.
 *
 * Keys are written in the order the caller gives them; numbers use a fixed
 * format (integers exactly, other doubles with 10 significant digits), so the
 * same data always gives the same bytes. Inside arrays pass key = NULL.
 *
 *     struct ee_json j;
 *     ee_json_init(&j, stdout);
 *     ee_json_begin(&j, NULL, '{');
 *     ee_json_str(&j, "arch", "resnet");
 *     ee_json_begin(&j, "exits", '[');
 *     ee_json_num(&j, NULL, 0.91);
 *     ee_json_end(&j);  // ]
 *     ee_json_end(&j);  // }
 */
#ifndef EE_JSON_H
#define EE_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define EE_JSON_MAX_DEPTH 32

struct ee_json {
	FILE *f;
	int depth;
	bool first[EE_JSON_MAX_DEPTH]; /* nothing written yet at this depth */
	char close[EE_JSON_MAX_DEPTH]; /* '}' or ']' */
};

void ee_json_init(struct ee_json *j, FILE *f);
/* Opens an object ('{') or array ('['). */
void ee_json_begin(struct ee_json *j, const char *key, char open);
void ee_json_end(struct ee_json *j);
void ee_json_str(struct ee_json *j, const char *key, const char *value);
void ee_json_num(struct ee_json *j, const char *key, double value);
/* value with exactly `decimals` digits after the point (all digits before it kept:
 * ee_json_num keeps 10 significant digits in all). */
void ee_json_fixed(struct ee_json *j, const char *key, double value, int decimals);
void ee_json_int(struct ee_json *j, const char *key, long long value);
void ee_json_bool(struct ee_json *j, const char *key, bool value);
void ee_json_null(struct ee_json *j, const char *key);
/* An array of v[0..count) as ee_json_num writes each. */
void ee_json_nums(struct ee_json *j, const char *key, const double *v, int count);
/* An array of count strings under key. */
void ee_json_strs(struct ee_json *j, const char *key, char *const *v, int count);
/* schema_version (EE_SCHEMA_VERSION) and generator ("eeprof 0.2.0"): the first two keys
 * of every JSON object eeprof writes as a whole output (core/version.h). */
void ee_json_stamp(struct ee_json *j);

#endif
