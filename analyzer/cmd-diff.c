/*
 * cmd-diff.c - `eeprof diff BASE.json NEW.json`: regression verdicts between two
 * reports (reports/diff.h) for CI. Prints a Markdown table (metric, old, new,
 * change, verdict) and a summary line; exit status 1 if any check regressed, 0
 * otherwise, 3 if the reports cannot be compared (other models or data, bad
 * files). Models are paired by name, or with --match-by arch by architecture
 * (renamed files). --junit writes JUnit XML atomically (- : to stdout, instead of
 * the table), also when the reports are refused: then one failing test case says
 * why, so that CI shows the reason. --timing compares two timing.json files
 * instead, failing only beyond --max-time-rise and never when the runs of the two
 * files overlap (their spreads, report --repeat).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "reports/diff.h"

#define MAX_REPORT_BYTES ((size_t)256 << 20)

static const char synopsis[] =
	"eeprof diff <base.json> <new.json> [--max-acc-drop <x>] [--max-macs-rise <y>]\n"
	"       [--match-by name|arch] [--junit <file>] [--timing [--max-time-rise <z>]]\n\n"
	"Compares two report.json files (or, with --timing, two timing.json files).\n"
	"--max-acc-drop is absolute (0.005 = half a point), --max-macs-rise and\n"
	"--max-time-rise are relative (0.01 = 1%). With --timing, a change whose runs overlap\n"
	"(both files written by report --repeat) is noise. Exit status 1 on a regression,\n"
	"3 when the reports cannot be compared. --junit - writes the XML to stdout.";

struct verdicts {
	const struct ee_diff *d;
	const struct ee_diff_opts *o;
};

static void put_junit(FILE *f, const void *ctx)
{
	const struct verdicts *v = ctx;

	ee_diff_junit(v->d, v->o, f);
}

static void put_refusal(FILE *f, const void *ctx)
{
	ee_diff_junit_refused(ctx, f);
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
		rc = ee_cli_write(junit, put_junit, &(struct verdicts){ &d, o }, err);
	else if (rc == EE_ERR_INPUT && junit) /* refused: the JUnit file says why */
		ee_cli_write(junit, put_refusal, err->msg, &(struct ee_err){ 0 });
	if (rc == EE_OK) {
		if (!ee_cli_stdout(junit))
			ee_diff_markdown(&d, o, stdout);
		*regressions = d.regressions;
	}
	ee_diff_release(&d);
	ee_jv_release(&base);
	ee_jv_release(&cur);
	return rc;
}

struct diff_cmd {
	struct ee_diff_opts o;
	const char *junit, *match;
	bool timing;
	int regressions; /* found: the exit status is then EE_EXIT_REGRESSION */
};

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct diff_cmd *c = ctx;

	(void)npos;
	if (c->match && strcmp(c->match, "name") && strcmp(c->match, "arch"))
		return ee_err_set(err, EE_ERR_USAGE, "--match-by: '%s' is neither name nor arch%s",
				  c->match, hint(synopsis));
	c->o.match_arch = c->match && !strcmp(c->match, "arch");
	c->o.base_name = pos[0];
	c->o.new_name = pos[1];
	return compare(pos, &c->o, c->timing, c->junit, &c->regressions, err);
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cmd c = { .o = { EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, INFINITY, NULL, NULL,
				      false } };
	const struct ee_opt opts[] = {
		{ "max-acc-drop", EE_OPT_NUM, &c.o.max_acc_drop, "<x>", "largest accuracy drop "
		  "that passes, absolute fraction (default 0.005)", 0, 1 },
		{ "max-macs-rise", EE_OPT_NUM, &c.o.max_macs_rise, "<y>", "largest relative MACs "
		  "rise that passes (default 0.01)", 0, 1e9 },
		{ "match-by", EE_OPT_STR, &c.match, "name|arch", "pair the models by name (default) "
		  "or by architecture (renamed files)", 0, 0 },
		{ "junit", EE_OPT_STR, &c.junit, "<file>", "also write JUnit XML, even when the "
		  "reports are refused (-: stdout, instead of the table)", 0, 0 },
		{ "timing", EE_OPT_FLAG, &c.timing, NULL, "compare timing.json files (seconds per "
		  "sample)", 0, 0 },
		{ "max-time-rise", EE_OPT_NUM, &c.o.max_time_rise, "<z>", "with --timing: largest "
		  "relative slowdown that passes (default: none fails)", 0, 1e9 },
		{ 0 },
	};
	int status = ee_cli_main(argc, argv, synopsis, opts, 2, 2, body, &c);

	return status == EE_EXIT_OK && c.regressions ? EE_EXIT_REGRESSION : status;
}
