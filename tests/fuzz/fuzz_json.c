/*
 * fuzz_json.c - the JSON reader and `eeprof diff`: the input is parsed as a report and,
 * if it parses, compared with itself as report.json and as timing.json (the comparison
 * walks every field diff reads), the result printed as Markdown and JUnit to /dev/null.
 */
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <stdio.h>

#include "reports/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct ee_diff_opts o = { EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, INFINITY, "a", "b" };
	struct ee_jv v = { 0 };
	struct ee_err err = { 0 };
	struct ee_diff d = { 0 };

	if (!null)
		null = fopen("/dev/null", "w");
	if (ee_jv_parse(&v, (const char *)data, size, &err) < 0) {
		ee_jv_release(&v); /* also after a failure (jsonread.h) */
		return 0;
	}
	if (ee_diff_reports(&v, &v, &o, &d, &err) == EE_OK) {
		ee_diff_markdown(&d, &o, null);
		ee_diff_junit(&d, &o, null);
	}
	ee_diff_release(&d);
	d = (struct ee_diff){ 0 };
	if (ee_diff_timing(&v, &v, &o, &d, &err) == EE_OK)
		ee_diff_markdown(&d, &o, null);
	ee_diff_release(&d);
	ee_jv_release(&v);
	return 0;
}
