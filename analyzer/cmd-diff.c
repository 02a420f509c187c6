/*
 * cmd-diff.c - `eeprof diff BASE.json NEW.json`: regression verdicts between two
 * reports (reports/diff.h) for CI. Prints a Markdown table (metric, old, new,
 * change, verdict) and a summary line; exit status 1 if any check regressed, 0
 * otherwise, 3 if the reports cannot be compared (other models or data, bad
 * files). --junit writes JUnit XML atomically; --timing compares two
 * timing.json files instead, failing only beyond --max-time-rise and never when
 * the runs of the two files overlap (their spreads, report --repeat).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "core/outfile.h"
#include "reports/diff.h"

#define MAX_REPORT_BYTES ((size_t)256 << 20)

static const char synopsis[] =
	"eeprof diff <base.json> <new.json> [--max-acc-drop <x>] [--max-macs-rise <y>]\n"
	"       [--junit <file>] [--timing [--max-time-rise <z>]]\n\n"
	"Compares two report.json files (or, with --timing, two timing.json files).\n"
	"--max-acc-drop is absolute (0.005 = half a point), --max-macs-rise and\n"
	"--max-time-rise are relative (0.01 = 1%). With --timing, a change whose runs overlap\n"
	"(both files written by report --repeat) is noise. Exit status 1 on a regression.";

static int write_junit(const struct ee_diff *d, const struct ee_diff_opts *o, const char *path,
		       struct ee_err *err)
{
	struct ee_out out;
	FILE *f;
	int rc;

	if ((rc = ee_out_begin(&out, path, err)) < 0)
		return rc;
	if (!(f = fopen(out.tmp, "w"))) {
		ee_out_abort(&out);
		return ee_err_set(err, EE_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
	}
	ee_diff_junit(d, o, f);
	if (ferror(f) | fclose(f)) {
		ee_out_abort(&out);
		return ee_err_set(err, EE_ERR_IO, "cannot write '%s'", path);
	}
	return ee_out_commit(&out, err);
}

static int compare(const char *const *pos, const struct ee_diff_opts *o, bool timing,
		   const char *junit, int *regressions, struct ee_err *err)
{
	struct ee_jv base = { 0 }, cur = { 0 };
	struct ee_diff d = { 0 };
	int rc;

	rc = ee_jv_read_file(&base, pos[0], MAX_REPORT_BYTES, err);
	if (rc == EE_OK)
		rc = ee_jv_read_file(&cur, pos[1], MAX_REPORT_BYTES, err);
	if (rc == EE_OK)
		rc = timing ? ee_diff_timing(&base, &cur, o, &d, err)
			    : ee_diff_reports(&base, &cur, o, &d, err);
	if (rc == EE_OK && junit)
		rc = write_junit(&d, o, junit, err);
	if (rc == EE_OK) {
		ee_diff_markdown(&d, o, stdout);
		*regressions = d.regressions;
	}
	ee_diff_release(&d);
	ee_jv_release(&base);
	ee_jv_release(&cur);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	struct ee_diff_opts o = { EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, INFINITY, NULL, NULL };
	const char *junit = NULL, *pos[2];
	bool timing = false;
	const struct ee_opt opts[] = {
		{ "max-acc-drop", EE_OPT_NUM, &o.max_acc_drop, "<x>", "largest accuracy drop that "
		  "passes, absolute fraction (default 0.005)", 0, 1 },
		{ "max-macs-rise", EE_OPT_NUM, &o.max_macs_rise, "<y>", "largest relative MACs rise "
		  "that passes (default 0.01)", 0, 1e9 },
		{ "junit", EE_OPT_STR, &junit, "<file>", "also write JUnit XML", 0, 0 },
		{ "timing", EE_OPT_FLAG, &timing, NULL, "compare timing.json files (seconds per "
		  "sample)", 0, 0 },
		{ "max-time-rise", EE_OPT_NUM, &o.max_time_rise, "<z>", "with --timing: largest "
		  "relative slowdown that passes (default: none fails)", 0, 1e9 },
		{ 0 },
	};
	struct ee_err err = { 0 };
	int npos, rc, regressions = 0;

	rc = ee_parse(argc, argv, synopsis, opts, 2, 2, pos, &npos, &err);
	if (rc)
		return ee_cli_exit(rc, &err);
	o.base_name = pos[0];
	o.new_name = pos[1];
	rc = compare(pos, &o, timing, junit, &regressions, &err);
	if (rc < 0)
		return ee_fail(&err);
	return regressions ? EE_EXIT_REGRESSION : EE_EXIT_OK;
}
