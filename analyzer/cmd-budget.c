/*
 * cmd-budget.c - `eeprof budget TRACE --val VAL_TRACE --budget MACS|PERCENT`:
 * budgeted classification as MSDNet does it. Thresholds are chosen on a
 * validation trace so that its mean MACs per sample stay within the budget
 * (ee_budget in reports/analysis.h: 40 candidate exit-share profiles, the most
 * accurate that fits), then applied unchanged to the test trace, whose achieved
 * accuracy and MACs are what to quote. Both traces must come from one
 * checkpoint (same SHA-256), else exit 3.
 *
 * --budget 20M (suffixes k, M, G, or none) is MACs per sample; --budget 50% is
 * that share of the deepest exit's mean standalone MACs on the validation trace.
 *
 * Thresholds are printed with 9 significant digits, enough to give the very same
 * float back to `eeprof curve --thresholds`: a chosen threshold is the float just
 * below the last admitted confidence (above, for entropy), e.g. 0.87499994 for
 * 0.875. "all" marks an exit that takes every sample reaching it (the last one
 * always), "none" one that takes none.
 *
 * JSON (--json), named as report.json's budgets[]: name, checkpoint, arch, policy,
 * fallback ("last"), fraction (null for MACs), budget_macs, deepest_macs,
 * thresholds[] (per exit, null where "all" or "none"; patience: [the patience]),
 * val and test (trace, data, samples, accuracy, macs_mean, exit_share[E],
 * fallback_share, exit_count[E], fallback_count).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "reports/analysis.h"
#include "reports/json.h"
#include "reports/report.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof budget <trace.h5> --val <trace.h5> --budget <macs>|<percent>% "
	"[--policy <p>] [--json]";

struct budget_opts {
	const char *val, *budget, *policy;
	bool json;
};

/* What budget found: the traces stay loaded for their identity. */
struct found {
	const char *test_path, *val_path;
	struct ee_trace test, val;
	double budget, fraction, deepest; /* fraction NAN for a plain number of MACs */
	struct ee_exit_rule rule;
	struct ee_dyn_result on_val, on_test;
};

/* "20M" -> 2e7 MACs; "50%" -> *fraction 0.5 (*macs untouched). */
static int parse_budget(const char *s, double *macs, double *fraction, struct ee_err *err)
{
	static const char suffix[] = "kMG";
	static const double scale[] = { 1e3, 1e6, 1e9 };
	const char *at;
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	*fraction = NAN;
	if (end == s || errno || !isfinite(v) || !(v > 0) || (*end && end[1]))
		goto bad;
	if (*end == '%')
		*fraction = v / 100;
	else if (*end && (at = strchr(suffix, *end)))
		v *= scale[at - suffix];
	else if (*end)
		goto bad;
	*macs = v;
	return EE_OK;
bad:
	return ee_err_set(err, EE_ERR_USAGE, "--budget: '%s' is neither MACs per sample (e.g. "
			  "20M) nor a share of the deepest exit (e.g. 50%%)", s);
}

/* A threshold as printed: "all" / "none" where it admits every / no sample. */
static const char *threshold_text(enum ee_policy p, double thr, char *buf, size_t size)
{
	if (isinf(thr))
		return (thr < 0) == (p != EE_POLICY_ENTROPY) ? "all" : "none";
	snprintf(buf, size, "%.9g", thr);
	return buf;
}

static int find(struct found *f, const char *test, const struct budget_opts *o,
		struct ee_err *err)
{
	struct ee_exit_stats s;
	int rc;

	f->test_path = test;
	f->val_path = o->val;
	if ((rc = ee_cli_trace_load(&f->test, test, err)) < 0)
		return rc;
	if ((rc = ee_cli_trace_load(&f->val, o->val, err)) < 0)
		return rc;
	ee_exit_stats(&f->val, &s);
	f->deepest = s.macs_mean[f->val.nexits - 1];
	if (!isnan(f->fraction))
		f->budget = f->fraction * f->deepest;
	return ee_budget(&f->val, &f->test, f->rule.policy, f->budget, &f->rule, &f->on_val,
			 &f->on_test, err);
}

/* ---------------------------------------------------------------- text */

static void print_exits(const struct found *f)
{
	static const char *const head[] = { "exit", "threshold", "validation", "test" };
	const bool patience = f->rule.policy == EE_POLICY_PATIENCE;
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int e = f->test.nexits, k;

	ee_table_init(&tab, 4, head);
	for (k = 0; k <= e; k++) {
		char buf[32];

		if (k < e)
			ee_cli_cell(&row, "%d", k + 1);
		else
			ee_cli_cell(&row, "fallback");
		ee_cli_cell(&row, "%s", k == e || patience ? "" :
			    threshold_text(f->rule.policy, f->rule.thr[k], buf, sizeof(buf)));
		ee_cli_cell(&row, "%.1f%%", 100.0 * f->on_val.exits[k] / f->val.n);
		ee_cli_cell(&row, "%.1f%%", 100.0 * f->on_test.exits[k] / f->test.n);
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_results(const struct found *f)
{
	static const char *const head[] = { "", "accuracy", "MACs", "of budget", "of deepest" };
	const struct ee_dyn_result *res[] = { &f->on_val, &f->on_test };
	static const char *const names[] = { "validation", "test" };
	struct ee_table tab;
	char si[32];
	int i;

	ee_table_init(&tab, 5, head);
	for (i = 0; i < 2; i++)
		ee_table_rowf(&tab, "%s\t%.4f\t%s\t%.1f%%\t%.1f%%", names[i], res[i]->accuracy,
			      ee_fmt_si(si, sizeof(si), res[i]->macs_mean),
			      100 * res[i]->macs_mean / f->budget,
			      100 * res[i]->macs_mean / f->deepest);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_text(const struct found *f)
{
	char name[256], a[32], b[32];

	printf("model       %s (%s)\n", ee_cli_model_name(&f->test, name, sizeof(name)),
	       f->test.arch);
	printf("test        %s: %d samples of %s\n", f->test_path, f->test.n, f->test.data);
	printf("validation  %s: %d samples of %s\n", f->val_path, f->val.n, f->val.data);
	printf("budget      %s MACs per sample", ee_fmt_si(a, sizeof(a), f->budget));
	if (!isnan(f->fraction))
		printf(" (%g%% of the deepest exit's %s standalone on validation)",
		       100 * f->fraction, ee_fmt_si(b, sizeof(b), f->deepest));
	if (f->rule.policy == EE_POLICY_PATIENCE)
		printf("\npolicy      patience %g (of 0..%d) chosen on validation, fallback last\n\n",
		       f->rule.thr[0], f->test.nexits - 1);
	else
		printf("\npolicy      %s, MSDNet's thresholds chosen on validation, fallback last\n\n",
		       ee_policy_name(f->rule.policy));
	print_exits(f);
	printf("\n");
	print_results(f);
}

/* ---------------------------------------------------------------- JSON */

static void json_side(struct ee_json *j, const char *key, const char *path,
		      const struct ee_trace *t, const struct ee_dyn_result *r)
{
	ee_json_begin(j, key, '{');
	ee_json_str(j, "trace", path);
	ee_json_str(j, "data", t->data);
	ee_json_int(j, "samples", t->n);
	ee_json_num(j, "accuracy", r->accuracy);
	ee_json_num(j, "macs_mean", r->macs_mean);
	ee_report_json_shares(j, r, t->nexits, t->n, EE_REPORT_JSON_COUNTS);
	ee_json_end(j);
}

static void print_json(const struct found *f)
{
	const bool patience = f->rule.policy == EE_POLICY_PATIENCE;
	struct ee_json j;
	char name[256];

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "name", ee_cli_model_name(&f->test, name, sizeof(name)));
	ee_json_str(&j, "checkpoint", f->test.checkpoint);
	ee_json_str(&j, "arch", f->test.arch);
	ee_json_str(&j, "policy", ee_policy_name(f->rule.policy));
	ee_json_str(&j, "fallback", ee_fallback_name(f->rule.fallback));
	ee_json_num(&j, "fraction", f->fraction);
	ee_json_num(&j, "budget_macs", f->budget);
	ee_json_num(&j, "deepest_macs", f->deepest);
	ee_json_nums(&j, "thresholds", f->rule.thr, patience ? 1 : f->test.nexits);
	json_side(&j, "val", f->val_path, &f->val, &f->on_val);
	json_side(&j, "test", f->test_path, &f->test, &f->on_test);
	ee_json_end(&j);
}

/* ---------------------------------------------------------------- command */

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct budget_opts *o = ctx;
	struct found f = { 0 };
	int rc;

	(void)npos;
	if (!o->val || !o->budget)
		return ee_err_set(err, EE_ERR_USAGE, "--val and --budget are required%s",
				  hint(synopsis));
	rc = ee_rule_names(&f.rule, o->policy, NULL, err);
	if (rc == EE_OK)
		rc = parse_budget(o->budget, &f.budget, &f.fraction, err);
	if (rc == EE_OK)
		rc = find(&f, pos[0], o, err);
	if (rc == EE_OK && o->json)
		print_json(&f);
	else if (rc == EE_OK)
		print_text(&f);
	ee_trace_release(&f.test);
	ee_trace_release(&f.val);
	return rc;
}

int cmd_budget(int argc, char **argv)
{
	struct budget_opts o = { 0 };
	const struct ee_opt opts[] = {
		{ "val", EE_OPT_STR, &o.val, "<trace.h5>",
		  "validation trace to choose thresholds on (required)", 0, 0 },
		{ "budget", EE_OPT_STR, &o.budget, "<macs>|<p>%",
		  "mean MACs per sample (20M) or share of the deepest exit (50%)", 0, 0 },
		EE_OPT_POLICY(&o.policy),
		EE_OPT_JSON(&o.json),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
