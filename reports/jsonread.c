/*
 * jsonread.c - see jsonread.h. A recursive-descent parser whose recursion is
 * bounded by EE_JV_MAX_DEPTH; every error stops the parse at the first byte
 * that does not fit the grammar.
 */
#include "jsonread.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMBERS 1000000 /* keys of one object */

struct parser {
	const char *s;
	size_t len, pos;
	struct ee_err *err;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets an EE_ERR_INPUT message prefixed with the line and column of p->pos. */
static int fail(struct parser *p, const char *fmt, ...)
{
	char what[256];
	size_t i;
	int line = 1, col = 1;
	va_list ap;

	for (i = 0; i < p->pos && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ee_err_set(p->err, EE_ERR_INPUT, "line %d, column %d: %s", line, col, what);
}

static int nomem(struct parser *p)
{
	return ee_err_set(p->err, EE_ERR_NOMEM, "out of memory reading JSON");
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\n\r", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

/* The next byte, or -1 at the end. */
static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* A growing byte buffer for strings. */
struct buf {
	char *b;
	size_t len, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->b, cap);
		if (!q)
			return -1;
		b->b = q;
		b->cap = cap;
	}
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = '\0';
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (no overlongs, surrogates or > U+10FFFF), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Four hex digits at p->pos into *c. */
static int hex4(struct parser *p, uint32_t *c)
{
	int i;

	*c = 0;
	for (i = 0; i < 4; i++, p->pos++) {
		int h = peek(p);

		if (h >= '0' && h <= '9')
			*c = *c << 4 | (uint32_t)(h - '0');
		else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
			*c = *c << 4 | (uint32_t)((h | 0x20) - 'a' + 10);
		else
			return fail(p, "bad \\u escape");
	}
	return EE_OK;
}

/* A \uXXXX escape (p->pos after the 'u'), joining a surrogate pair, as UTF-8 into b. */
static int unicode_escape(struct parser *p, struct buf *b)
{
	char out[4];
	uint32_t c, lo;
	int rc;

	if ((rc = hex4(p, &c)) < 0)
		return rc;
	if (c >= 0xdc00 && c <= 0xdfff)
		return fail(p, "lone low surrogate in \\u escape");
	if (c >= 0xd800 && c <= 0xdbff) {
		if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return fail(p, "high surrogate without a low surrogate");
		p->pos += 2;
		if ((rc = hex4(p, &lo)) < 0)
			return rc;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, "high surrogate without a low surrogate");
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (c == 0)
		return fail(p, "\\u0000 is not supported");
	return buf_put(b, out, utf8_encode(c, out)) < 0 ? nomem(p) : EE_OK;
}

static int escape(struct parser *p, struct buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int c = peek(p);

	p->pos++;
	if (c == 'u')
		return unicode_escape(p, b);
	if (c <= 0 || !(e = strchr(from, c))) {
		p->pos--;
		return fail(p, "bad escape in string");
	}
	return buf_put(b, &to[e - from], 1) < 0 ? nomem(p) : EE_OK;
}

/* A string (p->pos at the opening quote) into a new NUL-terminated *out. */
static int parse_string(struct parser *p, char **out)
{
	struct buf b = { 0 };
	int rc = EE_OK;

	p->pos++;
	while (rc == EE_OK) {
		int c = peek(p);
		size_t k;

		if (c < 0) {
			rc = fail(p, "unterminated string");
		} else if (c == '"') {
			p->pos++;
			break;
		} else if (c == '\\') {
			p->pos++;
			rc = escape(p, &b);
		} else if (c < 0x20) {
			rc = fail(p, "control character in string");
		} else if (!(k = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos))) {
			rc = fail(p, "invalid UTF-8 in string");
		} else {
			rc = buf_put(&b, p->s + p->pos, k) < 0 ? nomem(p) : EE_OK;
			p->pos += k;
		}
	}
	if (rc == EE_OK && !b.b && buf_put(&b, "", 0) < 0)
		rc = nomem(p);
	if (rc < 0) {
		free(b.b);
		return rc;
	}
	*out = b.b;
	return EE_OK;
}

static size_t digits(struct parser *p)
{
	size_t start = p->pos;

	while (peek(p) >= '0' && peek(p) <= '9')
		p->pos++;
	return p->pos - start;
}

static int parse_number(struct parser *p, struct ee_jv *v)
{
	char tok[EE_JV_MAX_NUMBER + 1];
	size_t start = p->pos, n;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
		if (peek(p) >= '0' && peek(p) <= '9')
			return fail(p, "leading zero in number");
	} else if (!digits(p)) {
		return fail(p, "expected a digit");
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!digits(p))
			return fail(p, "expected a digit after '.'");
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!digits(p))
			return fail(p, "expected a digit in the exponent");
	}
	n = p->pos - start;
	if (n > EE_JV_MAX_NUMBER) {
		p->pos = start;
		return fail(p, "number longer than %d characters", EE_JV_MAX_NUMBER);
	}
	memcpy(tok, p->s + start, n);
	tok[n] = '\0';
	v->num = strtod(tok, NULL); /* underflow gives 0 or a subnormal: accepted */
	if (isinf(v->num)) {
		p->pos = start;
		return fail(p, "number out of range");
	}
	v->type = EE_JV_NUM;
	return EE_OK;
}

static int parse_value(struct parser *p, struct ee_jv *v, int depth);

/* Room for one more member of an array or object (and its key). */
static int grow(struct parser *p, struct ee_jv *v, int *cap)
{
	struct ee_jv *items;

	if (v->n < *cap)
		return EE_OK;
	*cap = *cap ? *cap * 2 : 8;
	items = realloc(v->items, (size_t)*cap * sizeof(*items));
	if (!items)
		return nomem(p);
	v->items = items;
	if (v->type == EE_JV_OBJ) {
		char **keys = realloc(v->keys, (size_t)*cap * sizeof(*keys));

		if (!keys)
			return nomem(p);
		v->keys = keys;
	}
	return EE_OK;
}

/* Expects sep (',' between members) or close; sets *done at close. */
static int next_member(struct parser *p, char close, bool *done)
{
	skip_space(p);
	if (peek(p) == close) {
		p->pos++;
		*done = true;
		return EE_OK;
	}
	if (peek(p) != ',')
		return fail(p, "expected ',' or '%c'", close);
	p->pos++;
	skip_space(p);
	if (peek(p) == close)
		return fail(p, "trailing comma");
	return EE_OK;
}

static int parse_key(struct parser *p, struct ee_jv *v)
{
	char *key;
	int rc;

	if (peek(p) != '"')
		return fail(p, "expected a string key");
	if (v->n >= MAX_MEMBERS)
		return fail(p, "object with more than %d members", MAX_MEMBERS);
	if ((rc = parse_string(p, &key)) < 0)
		return rc;
	v->keys[v->n] = key;
	skip_space(p);
	if (peek(p) != ':') {
		free(key);
		return fail(p, "expected ':'");
	}
	p->pos++;
	return EE_OK;
}

/* A key of an object being checked for duplicates, and where it starts. */
struct key_at {
	const char *key;
	size_t pos;
};

static int cmp_key_at(const void *a, const void *b)
{
	const struct key_at *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Fails at the second occurrence of a repeated key: n log n, not n^2 (10,000-key objects). */
static int check_duplicates(struct parser *p, const struct ee_jv *v, const size_t *pos)
{
	struct key_at *k;
	int i, rc = EE_OK;

	if (v->n < 2)
		return EE_OK;
	k = malloc((size_t)v->n * sizeof(*k));
	if (!k)
		return nomem(p);
	for (i = 0; i < v->n; i++)
		k[i] = (struct key_at){ v->keys[i], pos[i] };
	qsort(k, (size_t)v->n, sizeof(*k), cmp_key_at);
	for (i = 1; i < v->n && rc == EE_OK; i++)
		if (!strcmp(k[i - 1].key, k[i].key)) {
			p->pos = k[i].pos;
			rc = fail(p, "duplicate key '%.64s'", k[i].key);
		}
	free(k);
	return rc;
}

/* An array or object (p->pos at the opening bracket); members count in v->n when complete. */
static int parse_container(struct parser *p, struct ee_jv *v, int depth)
{
	char close = p->s[p->pos] == '[' ? ']' : '}';
	bool done = false;
	size_t *pos = NULL; /* [cap] where each key starts (objects) */
	int cap = 0, rc = EE_OK;

	if (depth >= EE_JV_MAX_DEPTH)
		return fail(p, "nested deeper than %d levels", EE_JV_MAX_DEPTH);
	v->type = close == ']' ? EE_JV_ARR : EE_JV_OBJ;
	p->pos++;
	skip_space(p);
	if (peek(p) == close) {
		p->pos++;
		return EE_OK;
	}
	while (!done && rc == EE_OK) {
		int old = cap;

		if ((rc = grow(p, v, &cap)) < 0)
			break;
		if (v->type == EE_JV_OBJ && cap != old) {
			size_t *np = realloc(pos, (size_t)cap * sizeof(*pos));

			if (!np) {
				rc = nomem(p);
				break;
			}
			pos = np;
		}
		if (v->type == EE_JV_OBJ) {
			pos[v->n] = p->pos;
			if ((rc = parse_key(p, v)) < 0)
				break;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		rc = parse_value(p, &v->items[v->n], depth + 1);
		v->n++; /* counted even when incomplete, so that release frees it */
		if (rc == EE_OK)
			rc = next_member(p, close, &done);
	}
	if (rc == EE_OK && v->type == EE_JV_OBJ)
		rc = check_duplicates(p, v, pos);
	free(pos);
	return rc;
}

static int literal(struct parser *p, const char *word, struct ee_jv *v, enum ee_jv_type type)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	p->pos += n;
	v->type = type;
	v->b = word[0] == 't';
	return EE_OK;
}

static int parse_value(struct parser *p, struct ee_jv *v, int depth)
{
	int c;

	skip_space(p);
	c = peek(p);
	switch (c) {
	case -1: return fail(p, "unexpected end of input");
	case '{':
	case '[': return parse_container(p, v, depth);
	case '"': v->type = EE_JV_STR; return parse_string(p, &v->str);
	case 't': return literal(p, "true", v, EE_JV_BOOL);
	case 'f': return literal(p, "false", v, EE_JV_BOOL);
	case 'n': return literal(p, "null", v, EE_JV_NULL);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, v);
	return fail(p, "unexpected character");
}

int ee_jv_parse(struct ee_jv *v, const char *text, size_t len, struct ee_err *err)
{
	struct parser p = { text, len, 0, err };
	char why[EE_ERR_MSG_MAX];
	size_t start;
	int rc;

	memset(v, 0, sizeof(*v));
	skip_space(&p);
	start = p.pos;
	rc = parse_value(&p, v, 0);
	if (rc == EE_OK) {
		skip_space(&p);
		if (p.pos < p.len)
			rc = fail(&p, "unexpected data after the JSON value");
	} else if (rc == EE_ERR_INPUT && p.pos == start) { /* not even the start of a value */
		snprintf(why, sizeof(why), "%s", err->msg);
		rc = ee_err_set(err, EE_ERR_INPUT, "is not JSON (%.200s)", why);
	}
	return rc;
}

/* The whole stream into a new buffer *text of *n bytes, refusing more than max. */
static int slurp(FILE *f, const char *path, size_t max, char **text, size_t *n,
		 struct ee_err *err)
{
	size_t cap = 0, got;
	char *buf = NULL;

	*n = 0;
	do {
		if (*n == cap) {
			char *p;

			cap = cap ? 2 * cap : 65536;
			if (cap > max + 1)
				cap = max + 1;
			if (!(p = realloc(buf, cap))) {
				free(buf);
				return ee_err_set(err, EE_ERR_NOMEM, "out of memory reading '%s'", path);
			}
			buf = p;
		}
		got = fread(buf + *n, 1, cap - *n, f);
		*n += got;
	} while (got && *n <= max);
	if (ferror(f) || *n > max) {
		free(buf);
		return *n > max ? ee_err_set(err, EE_ERR_INPUT, "'%s' is larger than %zu bytes", path,
					      max)
				: ee_err_set(err, EE_ERR_INPUT, "cannot read '%s'", path);
	}
	*text = buf;
	return EE_OK;
}

int ee_jv_read_file(struct ee_jv *v, const char *path, size_t max, struct ee_err *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n;
	int rc;

	memset(v, 0, sizeof(*v));
	if (!f)
		return ee_err_set(err, EE_ERR_INPUT, "cannot open '%s': %s", path, strerror(errno));
	rc = slurp(f, path, max, &text, &n, err);
	fclose(f);
	if (rc == EE_OK && (rc = ee_jv_parse(v, text, n, err)) < 0)
		ee_err_prefix(err, "'%s' ", path);
	free(text);
	return rc;
}

void ee_jv_release(struct ee_jv *v)
{
	int i;

	for (i = 0; i < v->n; i++) {
		ee_jv_release(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct ee_jv *ee_jv_get(const struct ee_jv *obj, const char *key)
{
	int i;

	if (!obj || obj->type != EE_JV_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const struct ee_jv *ee_jv_at(const struct ee_jv *arr, int i)
{
	if (!arr || arr->type != EE_JV_ARR || i < 0 || i >= arr->n)
		return NULL;
	return &arr->items[i];
}

int ee_jv_len(const struct ee_jv *arr)
{
	return arr && (arr->type == EE_JV_ARR || arr->type == EE_JV_OBJ) ? arr->n : 0;
}

const char *ee_jv_str(const struct ee_jv *v)
{
	return v && v->type == EE_JV_STR ? v->str : NULL;
}

bool ee_jv_num(const struct ee_jv *v, double *out)
{
	if (!v || v->type != EE_JV_NUM)
		return false;
	*out = v->num;
	return true;
}
