/*
 * report_extra.c - calibration, class shares and gates against difficulty in a report;
 * see report_extra.h.
 */
#include "report_extra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calplot.h"
#include "csv.h"
#include "table.h"

#define DEFAULT_THRESHOLD 0.9
#define DEFAULT_PATIENCE 1

/* ---------------------------------------------------------------- analyses */

static int classes(struct ee_report_model *m, const struct ee_trace *t, const int *taken,
		   struct ee_err *err)
{
	int e1 = t->nexits + 1, i;

	m->class_exits = calloc((size_t)t->num_classes * e1, sizeof(*m->class_exits));
	m->class_n = calloc((size_t)t->num_classes, sizeof(*m->class_n));
	if (!m->class_exits || !m->class_n)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for class shares");
	for (i = 0; i < t->n; i++) {
		m->class_n[t->label[i]]++;
		m->class_exits[(size_t)t->label[i] * e1 + taken[i]]++;
	}
	return EE_OK;
}

int ee_report_extra_analyse(struct ee_report_model *m, const struct ee_report *r,
			    const struct ee_trace *t, const struct ee_trace *val,
			    struct ee_err *err)
{
	double v[EE_MAX_EXITS] = { r->policy == EE_POLICY_PATIENCE ? DEFAULT_PATIENCE
								  : DEFAULT_THRESHOLD };
	int *taken, rc;

	if (m->has_rule) /* the rule given (report.c applied it) */
		m->class_rule = m->rule;
	else
		ee_rule_global(&m->class_rule, r->policy, r->fallback, v[0]);
	if (!(taken = malloc((size_t)t->n * sizeof(*taken))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	ee_simulate(t, &m->class_rule, &m->class_ruled, taken);
	rc = classes(m, t, taken, err);
	if (rc == EE_OK && t->ngated) {
		rc = ee_gate_difficulty(t, &m->class_rule, taken, &m->difficulty, err);
		m->has_difficulty = rc == EE_OK;
	}
	free(taken);
	if (rc == EE_OK) /* temperatures only from a val trace with logits */
		rc = ee_calibrate_model(t, val && val->logits ? val : NULL, r->policy, r->fallback,
					ee_report_fractions, EE_REPORT_NFRAC, &m->cal, err);
	return rc;
}

void ee_report_extra_release(struct ee_report_model *m)
{
	free(m->class_exits);
	free(m->class_n);
	m->class_exits = m->class_n = NULL;
	if (m->has_difficulty)
		ee_gate_difficulty_release(&m->difficulty);
	m->has_difficulty = false;
}

/* ---------------------------------------------------------------- report.json */

/* v to 6 decimals: the logits, and so these sums, differ in their last bits with the
 * batch size (BLAS blocking), and report.json must not. */
static double dec6(double v)
{
	return isfinite(v) ? round(v * 1e6) / 1e6 : v;
}

static void json_cal(struct ee_json *j, const char *key, const struct ee_calibration *c)
{
	ee_json_begin(j, key, '{');
	ee_json_num(j, "ece", dec6(c->ece));
	ee_json_num(j, "ece_adaptive", dec6(c->ece_adaptive));
	ee_json_num(j, "mce", dec6(c->mce));
	ee_json_num(j, "brier", dec6(c->brier));
	ee_json_num(j, "nll", dec6(c->nll));
	ee_json_num(j, "accuracy", c->accuracy);
	ee_json_num(j, "confidence", dec6(c->confidence));
}

void ee_report_json_calibration(struct ee_json *j, const struct ee_report_model *m, int k)
{
	const struct ee_model_calibration *c = &m->cal;

	json_cal(j, "calibration", &c->exits[k]);
	if (c->has_val) {
		ee_json_num(j, "temperature", dec6(c->temperature[k]));
		json_cal(j, "calibrated", &c->scaled[k]);
		ee_json_end(j);
	}
	ee_json_end(j);
}

void ee_report_json_gate_difficulty(struct ee_json *j, const struct ee_report_model *m, int g)
{
	if (!m->has_difficulty)
		return;
	ee_json_num(j, "open_ratio_right", m->difficulty.right[g]);
	ee_json_num(j, "open_ratio_wrong", m->difficulty.wrong[g]);
	ee_json_num(j, "pearson_confidence", dec6(m->difficulty.pearson[g]));
}

static void shares(struct ee_json *j, const long *count, int nexits, long n)
{
	int k;

	ee_json_begin(j, "exit_share", '[');
	for (k = 0; k < nexits; k++)
		ee_json_num(j, NULL, n ? (double)count[k] / n : NAN);
	ee_json_end(j);
	ee_json_num(j, "fallback_share", n ? (double)count[nexits] / n : NAN);
}

void ee_report_json_extra(struct ee_json *j, const struct ee_report_model *m)
{
	int c, b;

	ee_json_begin(j, "analysis_rule", '{'); /* of classes[] and gate_difficulty */
	ee_json_nums(j, "thresholds", m->class_rule.thr,
		     m->class_rule.policy == EE_POLICY_PATIENCE ? 1 : m->nexits);
	ee_json_bool(j, "given", m->has_rule);
	ee_json_end(j);
	ee_json_begin(j, "classes", '[');
	for (c = 0; c < m->num_classes; c++) {
		ee_json_begin(j, NULL, '{');
		ee_json_int(j, "class", c);
		ee_json_int(j, "samples", m->class_n[c]);
		shares(j, m->class_exits + (size_t)c * (m->nexits + 1), m->nexits, m->class_n[c]);
		ee_json_end(j);
	}
	ee_json_end(j);
	if (m->cal.has_val) {
		ee_json_begin(j, "calibration_budget_table", '[');
		for (b = 0; b < m->cal.nbudgets; b++) {
			ee_json_begin(j, NULL, '{');
			ee_json_num(j, "fraction", ee_report_fractions[b]);
			ee_json_num(j, "budget_macs", m->cal.budget[b]);
			ee_json_num(j, "accuracy", m->cal.accuracy[b]);
			ee_json_num(j, "accuracy_calibrated", m->cal.accuracy_scaled[b]);
			ee_json_end(j);
		}
		ee_json_end(j);
	}
	if (m->has_difficulty) {
		ee_json_begin(j, "gate_difficulty", '{');
		ee_json_int(j, "samples_right", m->difficulty.n_right);
		ee_json_int(j, "samples_wrong", m->difficulty.n_wrong);
		ee_json_num(j, "pearson", dec6(m->difficulty.pearson_total));
		ee_json_num(j, "spearman", dec6(m->difficulty.spearman_total));
		ee_json_end(j);
	}
}

/* ---------------------------------------------------------------- report.md */

static const char *num4(char *buf, size_t size, double v)
{
	return ee_report_md_num(buf, size, v, 4);
}

static void md_calibration(const struct ee_report_model *m, const char *safe, bool plots,
			   FILE *f)
{
	static const char *const head[] = { "exit", "accuracy", "confidence", "ECE",
					    "adaptive ECE", "MCE", "Brier", "temperature",
					    "ECE scaled" };
	const struct ee_model_calibration *c = &m->cal;
	char a[6][32];
	struct ee_table t;
	int k, b;

	fprintf(f, "\n### Calibration\n\nConfidence = the exit's max softmax; ECE over 15 "
		"equal-width bins (adaptive: 15 equal-count bins), MCE, multi-class Brier score"
		"%s:\n\n", c->has_val ? "; temperatures fitted per exit on the validation trace "
		"(minimum NLL) and the ECE at them" : "");
	ee_table_init(&t, c->has_val ? 9 : 7, head);
	for (k = 0; k < m->nexits; k++) {
		const struct ee_calibration *x = &c->exits[k];

		num4(a[0], 32, x->accuracy);
		num4(a[1], 32, x->confidence);
		num4(a[2], 32, x->ece);
		num4(a[3], 32, x->ece_adaptive);
		num4(a[4], 32, x->mce);
		num4(a[5], 32, x->brier);
		if (c->has_val)
			ee_table_rowf(&t, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t%.4f", k + 1, a[0],
				      a[1], a[2], a[3], a[4], a[5], c->temperature[k],
				      c->scaled[k].ece);
		else
			ee_table_rowf(&t, "%d\t%s\t%s\t%s\t%s\t%s\t%s", k + 1, a[0], a[1], a[2],
				      a[3], a[4], a[5]);
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
	if (c->has_val) {
		fprintf(f, "\nBest accuracy of the threshold sweep within a budget, with the recorded "
			"and with the scaled confidences:\n\n| budget | MACs | accuracy | calibrated "
			"|\n| --- | ---: | ---: | ---: |\n");
		for (b = 0; b < c->nbudgets; b++)
			fprintf(f, "| %g%% | %s | %s | %s |\n", 100 * ee_report_fractions[b],
				ee_fmt_si(a[0], 32, c->budget[b]), num4(a[1], 32, c->accuracy[b]),
				num4(a[2], 32, c->accuracy_scaled[b]));
	}
	if (plots)
		fprintf(f, "\n![reliability per exit](reliability-%s.png) ([SVG](reliability-%s."
			"svg))\n", safe, safe);
}

static void md_classes(const struct ee_report_model *m, const char *safe, bool plots, FILE *f)
{
	const char *head[EE_TABLE_MAX_COLS] = { "class", "samples" };
	char names[EE_MAX_EXITS][16], cell[EE_TABLE_MAX_COLS][32];
	const char *row[EE_TABLE_MAX_COLS];
	struct ee_table t;
	int e = m->nexits, c, k;

	fprintf(f, "\n### Where each class leaves\n\nShare of each class's samples leaving at "
		"each exit under %s %g%s, fallback %s:\n\n", ee_policy_name(m->class_rule.policy),
		m->class_rule.thr[0], e > 1 && m->class_rule.thr[1] != m->class_rule.thr[0] ? ",..." : "",
		ee_fallback_name(m->class_rule.fallback));
	for (k = 0; k <= e; k++) {
		snprintf(names[k], sizeof(names[k]), k < e ? "exit %d" : "fallback", k + 1);
		head[k + 2] = names[k];
	}
	ee_table_init(&t, e + 3, head);
	for (c = 0; c < m->num_classes; c++) {
		const long *x = m->class_exits + (size_t)c * (e + 1);

		snprintf(cell[0], 32, "%d", c);
		snprintf(cell[1], 32, "%ld", m->class_n[c]);
		for (k = 0; k <= e; k++)
			if (m->class_n[c])
				snprintf(cell[k + 2], 32, "%.1f%%", 100.0 * x[k] / m->class_n[c]);
			else
				snprintf(cell[k + 2], 32, "-");
		for (k = 0; k < e + 3; k++)
			row[k] = cell[k];
		ee_table_row(&t, row);
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
	if (plots && ee_report_class_plots(m))
		fprintf(f, "\n![exit shares per class](classes-%s.png) ([SVG](classes-%s.svg))\n",
			safe, safe);
}

static void md_difficulty(const struct ee_report_model *m, FILE *f)
{
	static const char *const head[] = { "layer", "open ratio right", "open ratio wrong",
					    "r(confidence)" };
	const struct ee_gate_difficulty *d = &m->difficulty;
	char a[3][32];
	struct ee_table t;
	int g;

	fprintf(f, "\n### Gates against difficulty\n\nOpen-gate ratio of the samples leaving "
		"with a right (%ld) and a wrong (%ld) prediction under the rule above, and the "
		"Pearson correlation of each layer's open gates with the deepest exit's confidence. "
		"Open gates summed over the layers against that confidence: Pearson %.4f, Spearman "
		"%.4f (negative: gates open more for inputs the network is less sure of).\n\n",
		d->n_right, d->n_wrong, d->pearson_total, d->spearman_total);
	ee_table_init(&t, 4, head);
	for (g = 0; g < m->ngates; g++)
		ee_table_rowf(&t, "%s\t%s\t%s\t%s", m->gates[g].layer, num4(a[0], 32, d->right[g]),
			      num4(a[1], 32, d->wrong[g]), num4(a[2], 32, d->pearson[g]));
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

void ee_report_md_extra(const struct ee_report *r, const struct ee_report_model *m, bool plots,
			FILE *f)
{
	char safe[256];

	(void)r;
	ee_report_file_name(m->name, safe, sizeof(safe));
	md_calibration(m, safe, plots, f);
	md_classes(m, safe, plots, f);
	if (m->has_difficulty)
		md_difficulty(m, f);
}

/* ---------------------------------------------------------------- CSV */

static void csv_cal(FILE *f, const struct ee_calibration *c, double temperature)
{
	ee_csv_num(f, c->ece);
	ee_csv_num(f, c->ece_adaptive);
	ee_csv_num(f, c->mce);
	ee_csv_num(f, c->brier);
	ee_csv_num(f, c->nll);
	ee_csv_num(f, c->accuracy);
	ee_csv_num(f, c->confidence);
	ee_csv_num(f, temperature);
}

void ee_report_csv_calibration(const struct ee_report *r, FILE *f)
{
	static const struct ee_calibration none = { .ece = NAN, .ece_adaptive = NAN, .mce = NAN,
						    .brier = NAN, .nll = NAN, .accuracy = NAN,
						    .confidence = NAN };
	int i, k;

	fprintf(f, "model,exit,ece,ece_adaptive,mce,brier,nll,accuracy,confidence,temperature,"
		"ece_scaled,ece_adaptive_scaled,mce_scaled,brier_scaled,nll_scaled,accuracy_scaled,"
		"confidence_scaled,temperature_scaled\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (k = 0; k < m->nexits; k++) {
			ee_csv_str(f, m->name);
			fprintf(f, ",%d", k + 1);
			csv_cal(f, &m->cal.exits[k], 1);
			csv_cal(f, m->cal.has_val ? &m->cal.scaled[k] : &none,
				m->cal.has_val ? m->cal.temperature[k] : NAN);
			fputc('\n', f);
		}
	}
}

void ee_report_csv_classes(const struct ee_report *r, FILE *f)
{
	int i, c, k, e = 0;

	for (i = 0; i < r->nmodels; i++)
		e = r->models[i].nexits > e ? r->models[i].nexits : e;
	fprintf(f, "model,class,samples");
	for (k = 0; k < e; k++)
		fprintf(f, ",exit_%d", k + 1);
	fprintf(f, ",fallback\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (c = 0; c < m->num_classes; c++) {
			const long *x = m->class_exits + (size_t)c * (m->nexits + 1);
			long n = m->class_n[c];

			ee_csv_str(f, m->name);
			fprintf(f, ",%d,%ld", c, n);
			for (k = 0; k < e; k++)
				ee_csv_num(f, k < m->nexits && n ? (double)x[k] / n : NAN);
			ee_csv_num(f, n ? (double)x[m->nexits] / n : NAN);
			fputc('\n', f);
		}
	}
}

/* ---------------------------------------------------------------- plots */

void ee_report_plot_reliability(const struct ee_report *r, const struct ee_report_model *m,
				struct ee_plot *p)
{
	(void)r;
	ee_calplot_reliability(p, m->name, &m->cal);
}

int ee_report_class_plots(const struct ee_report_model *m)
{
	return m->nexits > 1 && m->class_exits != NULL;
}

void ee_report_plot_classes(const struct ee_report *r, const struct ee_report_model *m,
			    struct ee_plot *p)
{
	int e = m->nexits, c, k;

	(void)r;
	fprintf(p->data, "$cls << EOD\n");
	for (c = 0; c < m->num_classes; c++) {
		const long *x = m->class_exits + (size_t)c * (e + 1);

		fprintf(p->data, "%d", c);
		for (k = 0; k <= e; k++)
			fprintf(p->data, " %.6g", m->class_n[c] ? 100.0 * x[k] / m->class_n[c] : 0);
		fputc('\n', p->data);
	}
	fprintf(p->data, "EOD\n");
	ee_plot_title(p, "%s: where each class leaves (%s %g, fallback %s)", m->name,
		      ee_policy_name(m->class_rule.policy), m->class_rule.thr[0],
		      ee_fallback_name(m->class_rule.fallback));
	fprintf(p->cmds, "set style data histograms\nset style histogram rowstacked\n"
		"set style fill solid 0.8 border -1\nset boxwidth 0.7\nset yrange [0:100]\n"
		"set ylabel 'samples of the class (%%)'\nset xlabel 'class'\n"
		"set key outside right top\nset grid ytics\nplot ");
	for (k = 0; k <= e; k++) {
		fprintf(p->cmds, "$cls using %d%s lc %d title ", k + 2, k ? "" : ":xtic(1)", k + 1);
		if (k < e)
			fprintf(p->cmds, "'exit %d'%s", k + 1, ", ");
		else
			fprintf(p->cmds, "'fallback (%s)'\n", ee_fallback_name(m->class_rule.fallback));
	}
}
