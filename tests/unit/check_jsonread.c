/*
 * check_jsonread.c - the strict JSON reader: valid documents and lookups, a table of
 * invalid ones (each must fail with a line and column), nesting limits, huge and
 * tiny numbers, escapes and UTF-8, files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/json.h"
#include "reports/jsonread.h"
#include "tests/unit/testutil.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parses s (whole string) and returns the status; *v must be released by the caller. */
static int parse(struct ee_jv *v, const char *s, struct ee_err *err)
{
	return ee_jv_parse(v, s, strlen(s), err);
}

START_TEST(valid_document_and_lookups)
{
	const char *doc = " {\"a\": [1, -2.5e1, 0, true, false, null],\n\t\"b\": {\"c\": \"x\"},"
			  " \"e\": {}, \"f\": [] } \r\n";
	struct ee_err err = { 0 };
	struct ee_jv v;
	const struct ee_jv *a;
	double d = 0;

	ck_assert_int_eq(parse(&v, doc, &err), EE_OK);
	ck_assert_int_eq(v.type, EE_JV_OBJ);
	ck_assert_int_eq(ee_jv_len(&v), 4);
	a = ee_jv_get(&v, "a");
	ck_assert_int_eq(ee_jv_len(a), 6);
	ck_assert(ee_jv_num(ee_jv_at(a, 0), &d) && d == 1);
	ck_assert(ee_jv_num(ee_jv_at(a, 1), &d) && d == -25);
	ck_assert(ee_jv_num(ee_jv_at(a, 2), &d) && d == 0);
	ck_assert(ee_jv_at(a, 3)->type == EE_JV_BOOL && ee_jv_at(a, 3)->b);
	ck_assert(ee_jv_at(a, 4)->type == EE_JV_BOOL && !ee_jv_at(a, 4)->b);
	ck_assert_int_eq(ee_jv_at(a, 5)->type, EE_JV_NULL);
	ck_assert_ptr_null(ee_jv_at(a, 6));
	ck_assert_ptr_null(ee_jv_at(a, -1));
	ck_assert_str_eq(ee_jv_str(ee_jv_get(ee_jv_get(&v, "b"), "c")), "x");
	ck_assert_int_eq(ee_jv_get(&v, "e")->type, EE_JV_OBJ);
	ck_assert_int_eq(ee_jv_len(ee_jv_get(&v, "f")), 0);
	/* lookups tolerate NULL and wrong types */
	ck_assert_ptr_null(ee_jv_get(&v, "zz"));
	ck_assert_ptr_null(ee_jv_get(a, "a"));
	ck_assert_ptr_null(ee_jv_at(&v, 0));
	ck_assert_ptr_null(ee_jv_str(ee_jv_at(NULL, 0)));
	ck_assert(!ee_jv_num(ee_jv_get(NULL, "a"), &d));
	ee_jv_release(&v);
	ck_assert_int_eq(parse(&v, "\"top\"", &err), EE_OK);
	ck_assert_str_eq(v.str, "top");
	ee_jv_release(&v);
}
END_TEST

/* What the writer (json.h) produces, the reader reads back. */
START_TEST(reads_what_json_writes)
{
	struct ee_err err = { 0 };
	struct ee_json j;
	struct ee_jv v;
	char *buf = NULL;
	size_t len = 0;
	double d = 0;
	FILE *f = open_memstream(&buf, &len);

	ee_json_init(&j, f);
	ee_json_begin(&j, NULL, '{');
	ee_json_str(&j, "name", "a \"quoted\"\tname\\");
	ee_json_num(&j, "x", 0.1234567891234);
	ee_json_num(&j, "nan", 0.0 / 0.0);
	ee_json_begin(&j, "list", '[');
	ee_json_int(&j, NULL, -7);
	ee_json_end(&j);
	ee_json_end(&j);
	fclose(f);
	ck_assert_int_eq(ee_jv_parse(&v, buf, len, &err), EE_OK);
	ck_assert_str_eq(ee_jv_str(ee_jv_get(&v, "name")), "a \"quoted\"\tname\\");
	ck_assert(ee_jv_num(ee_jv_get(&v, "x"), &d) && d == 0.1234567891);
	ck_assert_int_eq(ee_jv_get(&v, "nan")->type, EE_JV_NULL);
	ck_assert(ee_jv_num(ee_jv_at(ee_jv_get(&v, "list"), 0), &d) && d == -7);
	ee_jv_release(&v);
	free(buf);
}
END_TEST

static const struct {
	const char *text, *msg; /* the message must contain msg */
} invalid[] = {
	{ "", "line 1, column 1: unexpected end of input" },
	{ "   ", "unexpected end of input" },
	{ "{", "expected a string key" },
	{ "[1,]", "line 1, column 4: trailing comma" },
	{ "{\"a\":1,}", "trailing comma" },
	{ "[1 2]", "expected ',' or ']'" },
	{ "{\"a\" 1}", "expected ':'" },
	{ "{a:1}", "expected a string key" },
	{ "{\"a\":1,\"a\":2}", "duplicate key 'a'" },
	{ "01", "leading zero" },
	{ "-", "expected a digit" },
	{ "+1", "unexpected character" },
	{ "1.", "expected a digit after '.'" },
	{ ".5", "unexpected character" },
	{ "1e", "expected a digit in the exponent" },
	{ "1e+", "expected a digit in the exponent" },
	{ "NaN", "unexpected character" },
	{ "Infinity", "unexpected character" },
	{ "-Infinity", "expected a digit" },
	{ "tru", "unexpected character" },
	{ "nul", "unexpected character" },
	{ "'x'", "unexpected character" },
	{ "/* c */ 1", "unexpected character" },
	{ "1 2", "unexpected data after the JSON value" },
	{ "{} {}", "unexpected data after" },
	{ "[", "unexpected end of input" },
	{ "[1", "expected ',' or ']'" },
	{ "\"abc", "unterminated string" },
	{ "\"a\\x\"", "line 1, column 4: bad escape" },
	{ "\"a\\u12g4\"", "bad \\u escape" },
	{ "\"a\\u12\"", "bad \\u escape" },
	{ "\"\\ud800\"", "high surrogate without a low surrogate" },
	{ "\"\\ud800\\u0041\"", "high surrogate without a low surrogate" },
	{ "\"\\udc00\"", "lone low surrogate" },
	{ "\"\\u0000\"", "\\u0000 is not supported" },
	{ "\"tab\there\"", "control character in string" },
	{ "\"new\nline\"", "control character in string" },
	{ "\"\xff\"", "invalid UTF-8" },
	{ "\"\xc0\x80\"", "invalid UTF-8" },           /* overlong NUL */
	{ "\"\xe0\x80\xaf\"", "invalid UTF-8" },       /* overlong '/' */
	{ "\"\xed\xa0\x80\"", "invalid UTF-8" },       /* encoded surrogate */
	{ "\"\xf4\x90\x80\x80\"", "invalid UTF-8" },   /* beyond U+10FFFF */
	{ "\"\xe2\x82\"", "invalid UTF-8" },           /* cut short */
	{ "1e400", "number out of range" },
	{ "-1e309", "number out of range" },
	{ "[1,\n  2,\n  x]", "line 3, column 3: unexpected character" },
	{ "{\n  \"a\" 1}", "line 2, column 7: expected ':'" },
};

START_TEST(invalid_documents_fail_with_position)
{
	struct ee_err err = { 0 };
	struct ee_jv v;

	ck_assert_msg(parse(&v, invalid[_i].text, &err) == EE_ERR_INPUT, "accepted '%s'",
		      invalid[_i].text);
	ck_assert_msg(strstr(err.msg, invalid[_i].msg) && strstr(err.msg, "line "),
		      "'%s': message '%s', want '%s'", invalid[_i].text, err.msg, invalid[_i].msg);
	ee_jv_release(&v);
}
END_TEST

/* An embedded NUL byte is not whitespace: the document ends wrongly. */
START_TEST(nul_byte_is_refused)
{
	struct ee_err err = { 0 };
	struct ee_jv v;

	ck_assert_int_eq(ee_jv_parse(&v, "[1]\0", 4, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "unexpected data"));
	ee_jv_release(&v);
	ck_assert_int_eq(ee_jv_parse(&v, "\"a\0b\"", 5, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "control character"));
	ee_jv_release(&v);
}
END_TEST

/* depth nested arrays around 7, as one string. */
static char *nested(int depth, char open, char close)
{
	char *s = malloc((size_t)depth * 2 + 2);
	int i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < depth; i++)
		s[i] = open;
	s[depth] = '7';
	for (i = 0; i < depth; i++)
		s[depth + 1 + i] = close;
	s[2 * depth + 1] = '\0';
	return s;
}

START_TEST(nesting_is_bounded)
{
	struct ee_err err = { 0 };
	struct ee_jv v;
	const struct ee_jv *p;
	char *ok = nested(EE_JV_MAX_DEPTH, '[', ']'), *deep = nested(EE_JV_MAX_DEPTH + 1, '[', ']');
	char *huge = nested(1000000, '[', ']');
	double d = 0;
	int i;

	ck_assert_int_eq(parse(&v, ok, &err), EE_OK);
	for (p = &v, i = 0; i < EE_JV_MAX_DEPTH; i++)
		p = ee_jv_at(p, 0);
	ck_assert(ee_jv_num(p, &d) && d == 7);
	ee_jv_release(&v);
	ck_assert_int_eq(parse(&v, deep, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper than 64 levels"));
	ee_jv_release(&v);
	/* a million brackets: refused at depth 65, no stack overflow */
	ck_assert_int_eq(parse(&v, huge, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "column 65: nested deeper"));
	ee_jv_release(&v);
	free(ok);
	free(deep);
	free(huge);
}
END_TEST

START_TEST(numbers_huge_tiny_and_long)
{
	struct ee_err err = { 0 };
	char digits[EE_JV_MAX_NUMBER + 2];
	struct ee_jv v;
	double d = -1;

	ck_assert_int_eq(parse(&v, "[1.7976931348623157e308, -0.0, 1e-400, 4.9e-324, 123e-2]",
			       &err), EE_OK);
	ck_assert(ee_jv_num(ee_jv_at(&v, 0), &d) && d == 1.7976931348623157e308);
	ck_assert(ee_jv_num(ee_jv_at(&v, 1), &d) && d == 0);
	ck_assert(ee_jv_num(ee_jv_at(&v, 2), &d) && d == 0); /* underflow is zero */
	ck_assert(ee_jv_num(ee_jv_at(&v, 3), &d) && d > 0 && d < 1e-323);
	ck_assert(ee_jv_num(ee_jv_at(&v, 4), &d) && d == 1.23);
	ee_jv_release(&v);
	/* 300 digits: a large but finite double */
	memset(digits, '9', 300);
	digits[300] = '\0';
	ck_assert_int_eq(parse(&v, digits, &err), EE_OK);
	ck_assert(v.num > 9.9e299 && v.num <= 1e300);
	ee_jv_release(&v);
	/* longer than EE_JV_MAX_NUMBER characters: refused, even if finite */
	memset(digits, '0', sizeof(digits) - 1);
	digits[0] = '1';
	digits[1] = '.';
	digits[sizeof(digits) - 1] = '\0';
	ck_assert_int_eq(parse(&v, digits, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 1, column 1: number longer than 400"));
	ee_jv_release(&v);
}
END_TEST

START_TEST(escapes_and_utf8)
{
	struct ee_err err = { 0 };
	struct ee_jv v;

	ck_assert_int_eq(parse(&v, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &err), EE_OK);
	ck_assert_str_eq(v.str, "\"\\/\b\f\n\r\t");
	ee_jv_release(&v);
	ck_assert_int_eq(parse(&v, "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", &err), EE_OK);
	ck_assert_str_eq(v.str, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	ee_jv_release(&v);
	ck_assert_int_eq(parse(&v, "\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", &err), EE_OK);
	ck_assert_str_eq(v.str, "raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ee_jv_release(&v);
	ck_assert_int_eq(parse(&v, "{\"\": \"\"}", &err), EE_OK);
	ck_assert_str_eq(ee_jv_str(ee_jv_get(&v, "")), "");
	ee_jv_release(&v);
}
END_TEST

START_TEST(files)
{
	char path[512];
	struct ee_err err = { 0 };
	struct ee_jv v;
	double d = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/doc.json", tu_tmpdir());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"schema_version\": 1}\n", f);
	fclose(f);
	ck_assert_int_eq(ee_jv_read_file(&v, path, 1 << 20, &err), EE_OK);
	ck_assert_int_eq(ee_jv_len(&v), 1);
	ee_jv_release(&v);
	ck_assert_int_eq(ee_jv_read_file(&v, path, 10, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "is larger than 10 bytes"));
	ee_jv_release(&v);
	f = fopen(path, "w");
	fputs("{\"a\": }", f);
	fclose(f);
	ck_assert_int_eq(ee_jv_read_file(&v, path, 1 << 20, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "doc.json' line 1, column 7: unexpected character"));
	ee_jv_release(&v);
	f = fopen(path, "w"); /* larger than the first read buffer */
	fputc('[', f);
	for (i = 0; i < 50000; i++)
		fprintf(f, "%s%d", i ? "," : "", i);
	fputc(']', f);
	fclose(f);
	ck_assert_int_eq(ee_jv_read_file(&v, path, 1 << 20, &err), EE_OK);
	ck_assert_int_eq(ee_jv_len(&v), 50000);
	ck_assert(ee_jv_num(ee_jv_at(&v, 49999), &d) && d == 49999);
	ee_jv_release(&v);
	ck_assert_int_eq(ee_jv_read_file(&v, path, 100000, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "is larger than 100000 bytes"));
	ck_assert_int_eq(ee_jv_read_file(&v, "/nonexistent/x.json", 100, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open '/nonexistent/x.json'"));
}
END_TEST

static Suite *jsonread_suite(void)
{
	Suite *s = suite_create("jsonread");
	TCase *tc = tcase_create("jsonread");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, valid_document_and_lookups);
	tcase_add_test(tc, reads_what_json_writes);
	tcase_add_loop_test(tc, invalid_documents_fail_with_position, 0, COUNT(invalid));
	tcase_add_test(tc, nul_byte_is_refused);
	tcase_add_test(tc, nesting_is_bounded);
	tcase_add_test(tc, numbers_huge_tiny_and_long);
	tcase_add_test(tc, escapes_and_utf8);
	tcase_add_test(tc, files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonread_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
