/* json.c - a streaming JSON writer with stable, deterministic output; see json.h. */
#include "json.h"

#include <math.h>

#include "core/version.h"

void ee_json_init(struct ee_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Comma, newline and indentation before a value, and its key. */
static void lead(struct ee_json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->first[j->depth] ? "\n" : ",\n", j->f);
		fprintf(j->f, "%*s", 2 * j->depth, "");
	}
	j->first[j->depth] = false;
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

void ee_json_begin(struct ee_json *j, const char *key, char open)
{
	lead(j, key);
	fputc(open, j->f);
	if (j->depth + 1 < EE_JSON_MAX_DEPTH) {
		j->depth++;
		j->first[j->depth] = true;
		j->close[j->depth] = open == '{' ? '}' : ']';
	}
}

void ee_json_end(struct ee_json *j)
{
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		fprintf(j->f, "\n%*s", 2 * (j->depth - 1), "");
	fputc(j->close[j->depth], j->f);
	j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void ee_json_str(struct ee_json *j, const char *key, const char *value)
{
	lead(j, key);
	put_string(j->f, value ? value : "");
}

void ee_json_num(struct ee_json *j, const char *key, double value)
{
	lead(j, key);
	if (!isfinite(value))
		fputs("null", j->f);
	else if (value == (long long)value && fabs(value) < 1e15)
		fprintf(j->f, "%lld", (long long)value);
	else
		fprintf(j->f, "%.10g", value);
}

void ee_json_fixed(struct ee_json *j, const char *key, double value, int decimals)
{
	lead(j, key);
	if (!isfinite(value))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", decimals, value);
}

void ee_json_int(struct ee_json *j, const char *key, long long value)
{
	lead(j, key);
	fprintf(j->f, "%lld", value);
}

void ee_json_bool(struct ee_json *j, const char *key, bool value)
{
	lead(j, key);
	fputs(value ? "true" : "false", j->f);
}

void ee_json_null(struct ee_json *j, const char *key)
{
	lead(j, key);
	fputs("null", j->f);
}

void ee_json_nums(struct ee_json *j, const char *key, const double *v, int count)
{
	int i;

	ee_json_begin(j, key, '[');
	for (i = 0; i < count; i++)
		ee_json_num(j, NULL, v[i]);
	ee_json_end(j);
}

void ee_json_strs(struct ee_json *j, const char *key, char *const *v, int count)
{
	int i;

	ee_json_begin(j, key, '[');
	for (i = 0; i < count; i++)
		ee_json_str(j, NULL, v[i]);
	ee_json_end(j);
}

void ee_json_stamp(struct ee_json *j)
{
	ee_json_int(j, "schema_version", EE_SCHEMA_VERSION);
	ee_json_str(j, "generator", ee_generator());
}
