/*
 * diff.h - regression verdicts between two report.json files (`eeprof diff`).
 *
 * A CI job keeps the report of the last good checkpoint and compares the new one
 * with it. The checks, per model (matched by name, or with match_arch by architecture, for
 * renamed files; either must pair the models one to one): every exit's accuracy, mean
 * MACs and mean cascade MACs, the ensemble's accuracy and MACs, and the accuracy
 * of every row of the budget table. An accuracy fails when it drops by more than
 * max_acc_drop (absolute, as a fraction: 0.005 = half a point); MACs fail when
 * they rise by more than max_macs_rise (relative: 0.01 = 1 %). Improvements never
 * fail, and a report compared with itself has no change at all. A budget row
 * that fitted before and no longer does (null) is a regression.
 *
 * Reports that do not describe the same thing are refused (EE_ERR_INPUT) rather
 * than compared: another schema_version, data, sample count or label hash, exit
 * policy or fallback, another set of model names, or a model whose arch or exit
 * count changed. A missing or mistyped field is refused naming its path.
 *
 *     struct ee_diff d;
 *     if (ee_diff_reports(&base, &cur, &opts, &d, &err) < 0) ...   // exit 3
 *     ee_diff_markdown(&d, &opts, stdout);
 *     status = d.regressions ? 1 : 0;
 *     ee_diff_release(&d);
 */
#ifndef EE_DIFF_H
#define EE_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "jsonread.h"

#define EE_DIFF_ACC_DROP 0.005  /* default max_acc_drop */
#define EE_DIFF_MACS_RISE 0.01  /* default max_macs_rise */

struct ee_diff_opts {
	double max_acc_drop;    /* absolute fraction */
	double max_macs_rise;   /* relative */
	double max_time_rise;   /* relative, timing.json only */
	const char *base_name, *new_name; /* the files, for messages */
	bool match_arch;        /* pair models by arch rather than by name */
};

enum ee_diff_kind {
	EE_DIFF_ACCURACY,       /* higher is better; change absolute */
	EE_DIFF_MACS,           /* lower is better; change relative */
	EE_DIFF_TIME,           /* seconds per sample: lower is better; change relative */
};

enum ee_verdict {
	EE_VERDICT_SAME,        /* no change */
	EE_VERDICT_BETTER,      /* higher accuracy or fewer MACs */
	EE_VERDICT_WORSE,       /* worse, but within the tolerance */
	EE_VERDICT_REGRESSION,  /* worse beyond the tolerance */
	EE_VERDICT_NOISE,       /* timing: changed, but the runs of both files overlap */
};

struct ee_diff_check {
	char model[128];
	char metric[64];        /* "exit 1 accuracy", "ensemble MACs", "budget 25% accuracy" */
	enum ee_diff_kind kind;
	double old_v, new_v;    /* NAN for null */
	double change;          /* new - old (accuracy), (new - old) / old (others); NAN if null */
	enum ee_verdict verdict;
};

struct ee_diff {
	int n, cap;
	struct ee_diff_check *checks; /* [n] in report order */
	int regressions;
};

int ee_diff_reports(const struct ee_jv *base, const struct ee_jv *cur,
		    const struct ee_diff_opts *o, struct ee_diff *d, struct ee_err *err);
/* Two timing.json files of the same models: seconds per sample of each (the median of
 * the runs). When both files give each model's spread (report --repeat), a change whose
 * runs overlap ([min, max] of each file) is noise, never a regression. */
int ee_diff_timing(const struct ee_jv *base, const struct ee_jv *cur,
		   const struct ee_diff_opts *o, struct ee_diff *d, struct ee_err *err);
void ee_diff_release(struct ee_diff *d);

const char *ee_verdict_name(enum ee_verdict v);
/* The table (metric, old, new, change, verdict) and a summary line. */
void ee_diff_markdown(const struct ee_diff *d, const struct ee_diff_opts *o, FILE *f);
/* JUnit XML: one testcase per check, a failure element per regression. */
void ee_diff_junit(const struct ee_diff *d, const struct ee_diff_opts *o, FILE *f);
/* JUnit XML for reports that could not be compared: one failing testcase saying why. */
void ee_diff_junit_refused(const char *why, FILE *f);

#endif
