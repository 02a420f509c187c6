/*
 * cmd-calibration.c - `eeprof calibration TRACE [--val VAL]`: how well each exit's
 * confidence (its max softmax) matches its accuracy, and what temperature scaling
 * fitted on a validation trace changes.
 *
 * Per exit: accuracy, mean confidence, ECE (15 equal-width bins over (0, 1], weighted
 * by count), adaptive ECE (15 equal-count bins), MCE, Brier score and NLL (these two
 * need the trace's logits or softmax), and the reliability bins (accuracy and samples
 * per confidence bin). With --val: one temperature per exit minimising the NLL on the
 * validation trace (same checkpoint; its logits needed), the test trace's numbers at
 * those temperatures, and the best accuracy of the threshold sweep (--policy, default
 * maxprob; --fallback, default last) within 25, 50, 75 and 100 % of the deepest exit's
 * mean MACs, with the recorded and with the scaled confidences. Definitions:
 * reports/calibration.h. --plot FILE draws the reliability diagram (PNG or SVG).
 *
 * JSON (--json): name, trace, checkpoint, arch, data, samples, [val, val_samples,
 * policy, fallback], exits[] {exit, calibration {ece, ece_adaptive, mce, brier, nll,
 * accuracy, confidence, bins[] {lo, hi, count, confidence, accuracy}}, [calibrated {the
 * same at the temperature, with temperature}]}, [budget_table[] {fraction, budget_macs,
 * accuracy, accuracy_calibrated}].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "reports/calibration.h"
#include "reports/calplot.h"
#include "reports/json.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof calibration <trace.h5> [--val <trace.h5>] [--policy <p>] [--fallback <f>] "
	"[--plot <file.png|svg>] [--json]";

struct cal_opts {
	const char *val, *policy, *fallback, *plot;
	struct ee_cli_plot_opts look;
	bool json;
};

struct cal {
	const char *path, *val_path;
	struct ee_trace t, val;
	struct ee_exit_rule rule;
	struct ee_model_calibration mc;
};

static int analyse(struct cal *c, struct ee_err *err)
{
	int rc = ee_cli_trace_load(&c->t, c->path, err);

	if (rc == EE_OK && c->val_path && (rc = ee_cli_trace_load(&c->val, c->val_path, err)) < 0)
		return ee_err_prefix(err, "--val");
	if (rc == EE_OK)
		rc = ee_calibrate_model(&c->t, c->val_path ? &c->val : NULL, c->rule.policy,
					c->rule.fallback, ee_report_fractions, EE_REPORT_NFRAC,
					&c->mc, err);
	return rc;
}

/* ---------------------------------------------------------------- text */

static void cal_cells(struct ee_cli_row *row, const struct ee_calibration *x)
{
	ee_cli_cell(row, "%.4f", x->accuracy);
	ee_cli_cell(row, "%.4f", x->confidence);
	ee_cli_cell(row, "%.4f", x->ece);
	ee_cli_cell(row, "%.4f", x->ece_adaptive);
	ee_cli_cell(row, "%.4f", x->mce);
	if (isnan(x->brier))
		ee_cli_cell(row, "-");
	else
		ee_cli_cell(row, "%.4f", x->brier);
	if (isnan(x->nll))
		ee_cli_cell(row, "-");
	else
		ee_cli_cell(row, "%.4f", x->nll);
}

static void print_exits(const struct cal *c, bool scaled)
{
	static const char *const head[] = { "exit", "temperature", "accuracy", "confidence", "ECE",
					    "adaptive ECE", "MCE", "Brier", "NLL" };
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int k;

	ee_table_init(&tab, scaled ? 9 : 8, scaled ? head : (const char *const[]){ "exit",
		      "accuracy", "confidence", "ECE", "adaptive ECE", "MCE", "Brier", "NLL" });
	for (k = 0; k < c->mc.nexits; k++) {
		ee_cli_cell(&row, "%d", k + 1);
		if (scaled)
			ee_cli_cell(&row, "%.4f", c->mc.temperature[k]);
		cal_cells(&row, scaled ? &c->mc.scaled[k] : &c->mc.exits[k]);
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_bins(const struct cal *c)
{
	const char *head[EE_TABLE_MAX_COLS] = { "confidence" };
	char names[EE_MAX_EXITS][16];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int e = c->mc.nexits, k, b;

	for (k = 0; k < e; k++) {
		snprintf(names[k], sizeof(names[k]), "exit %d", k + 1);
		head[k + 1] = names[k];
	}
	ee_table_init(&tab, e + 1, head);
	for (b = 0; b < EE_CAL_BINS; b++) {
		ee_cli_cell(&row, "(%.3f, %.3f]", (double)b / EE_CAL_BINS,
			    (double)(b + 1) / EE_CAL_BINS);
		for (k = 0; k < e; k++) {
			const struct ee_calibration *x = &c->mc.exits[k];

			if (x->count[b])
				ee_cli_cell(&row, "%.3f (%ld)", x->acc[b], x->count[b]);
			else
				ee_cli_cell(&row, "-");
		}
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_budgets(const struct cal *c)
{
	static const char *const head[] = { "budget", "MACs", "accuracy", "calibrated",
					    "change" };
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	char si[32];
	int b;

	ee_table_init(&tab, 5, head);
	for (b = 0; b < c->mc.nbudgets; b++) {
		double a = c->mc.accuracy[b], s = c->mc.accuracy_scaled[b];

		ee_cli_cell(&row, "%g%%", 100 * ee_report_fractions[b]);
		ee_cli_cell(&row, "%s", ee_fmt_si(si, sizeof(si), c->mc.budget[b]));
		ee_cli_cell(&row, isnan(a) ? "-" : "%.4f", a);
		ee_cli_cell(&row, isnan(s) ? "-" : "%.4f", s);
		if (isnan(a) || isnan(s))
			ee_cli_cell(&row, "-");
		else
			ee_cli_cell(&row, "%+.2f pt", 100 * (s - a));
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_text(const struct cal *c)
{
	char name[256];

	printf("model       %s (%s), trace %s\n", ee_cli_model_name(&c->t, name, sizeof(name)),
	       c->t.arch, c->path);
	printf("data        %s, %d samples\n", c->t.data, c->t.n);
	printf("confidence  max softmax; ECE over %d equal-width bins of (0, 1], adaptive ECE "
	       "over %d equal-count bins\n", EE_CAL_BINS, EE_CAL_BINS);
	if (!c->t.logits && !c->t.softmax)
		printf("            (no logits in the trace: no Brier score or NLL)\n");
	printf("\nas recorded\n");
	print_exits(c, false);
	printf("\nreliability: accuracy (samples) per confidence bin\n");
	print_bins(c);
	if (!c->mc.has_val)
		return;
	printf("\nafter temperature scaling fitted on %s (%s, %d samples)\n", c->val_path,
	       c->val.data, c->val.n);
	print_exits(c, true);
	printf("\nbest accuracy of the %s sweep (fallback %s) within a budget of the deepest "
	       "exit's MACs\n", ee_policy_name(c->rule.policy), ee_fallback_name(c->rule.fallback));
	print_budgets(c);
}

/* ---------------------------------------------------------------- JSON */

static void print_json(const struct cal *c)
{
	const struct ee_model_calibration *mc = &c->mc;
	struct ee_json j;
	char name[256];
	int k, b;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_str(&j, "name", ee_cli_model_name(&c->t, name, sizeof(name)));
	ee_json_str(&j, "trace", c->path);
	ee_json_str(&j, "checkpoint", c->t.checkpoint);
	ee_json_str(&j, "arch", c->t.arch);
	ee_json_str(&j, "data", c->t.data);
	ee_json_int(&j, "samples", c->t.n);
	if (mc->has_val) {
		ee_json_str(&j, "val", c->val_path);
		ee_json_int(&j, "val_samples", c->val.n);
		ee_json_str(&j, "policy", ee_policy_name(c->rule.policy));
		ee_json_str(&j, "fallback", ee_fallback_name(c->rule.fallback));
	}
	ee_json_begin(&j, "exits", '[');
	for (k = 0; k < mc->nexits; k++) {
		ee_json_begin(&j, NULL, '{');
		ee_json_int(&j, "exit", k + 1);
		ee_calibration_json(&j, "calibration", &mc->exits[k], NAN, true);
		if (mc->has_val)
			ee_calibration_json(&j, "calibrated", &mc->scaled[k], mc->temperature[k],
					    true);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	if (mc->has_val) {
		ee_json_begin(&j, "budget_table", '[');
		for (b = 0; b < mc->nbudgets; b++) {
			ee_json_begin(&j, NULL, '{');
			ee_json_num(&j, "fraction", ee_report_fractions[b]);
			ee_json_num(&j, "budget_macs", mc->budget[b]);
			ee_json_num(&j, "accuracy", mc->accuracy[b]);
			ee_json_num(&j, "accuracy_calibrated", mc->accuracy_scaled[b]);
			ee_json_end(&j);
		}
		ee_json_end(&j);
	}
	ee_json_end(&j);
}

/* ---------------------------------------------------------------- command */

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct cal_opts *o = ctx;
	struct cal c = { 0 };
	struct ee_plot_look look;
	struct ee_plot p;
	int rc;

	(void)npos;
	c.path = pos[0];
	c.val_path = o->val;
	rc = ee_rule_names(&c.rule, o->policy, o->fallback, err);
	if (rc == EE_OK)
		rc = ee_cli_plot_check(o->plot, &o->look, &look, err);
	if (rc == EE_OK)
		rc = analyse(&c, err);
	if (rc == EE_OK && o->plot && (rc = ee_cli_plot_begin(&p, &look, err)) == EE_OK) {
		char name[256];

		ee_calplot_reliability(&p, ee_cli_model_name(&c.t, name, sizeof(name)), &c.mc);
		rc = ee_cli_plot_end(&p, o->plot, err);
	}
	if (rc == EE_OK && o->json)
		print_json(&c);
	else if (rc == EE_OK)
		print_text(&c);
	ee_trace_release(&c.t);
	ee_trace_release(&c.val);
	return rc;
}

int cmd_calibration(int argc, char **argv)
{
	struct cal_opts o = { 0 };
	const struct ee_opt opts[] = {
		{ "val", EE_OPT_STR, &o.val, "<trace.h5>",
		  "fit one temperature per exit on this validation trace", 0, 0 },
		EE_OPT_POLICY(&o.policy),
		EE_OPT_FALLBACK(&o.fallback),
		{ "plot", EE_OPT_FILE, &o.plot, "<file>",
		  "draw the reliability diagram (.png or .svg)", 0, 0 },
		EE_OPT_PLOT_LOOK(&o.look),
		EE_OPT_JSON(&o.json),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
