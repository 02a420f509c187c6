/*
 * cmd-curve.c - `eeprof curve TRACE...`: accuracy against MACs from traces, the
 * data of the paper's Fig. 3 for any number of models.
 *
 * For each trace (one model on one dataset, from `eeprof profile`):
 *  - per exit: accuracy and mean MACs, standalone (the exit's point) and cascade;
 *  - the ensemble (mean of the exits' softmax), which runs everything;
 *  - dynamic exit under a policy and fallback (reports/analysis.h): the sweep of
 *    its default threshold grid (maxprob and margin 0..1 by 0.01, entropy 0..ln K
 *    in 100 steps, patience 1..E-1), each point's accuracy, mean cascade MACs and
 *    where samples left; or, with --threshold, the one rule given (a global
 *    threshold or one per exit, SCAN style);
 *  - the budget table: the most accurate of those points (the first on ties) within
 *    25, 50, 75 and 100 % of the deepest exit's mean standalone MACs (none fits: "none fits"
 *    in text, "feasible": false and no point in JSON), as ee_accuracy_within and report.json's budget_table.
 * The text output merges runs of thresholds with identical results into one row
 * ("0.00-0.41"); JSON and CSV keep every point. The numbers are those of `eeprof
 * report` (reports/report.h): each trace is the one model of its own report, since
 * curve takes traces of any data and a report only traces of the same.
 *
 * JSON (--json), named as in report.json: policy, fallback, models[] with name,
 * trace, checkpoint, arch, data, samples, deepest_macs, exits[] (exit, accuracy,
 * macs_mean, macs_cascade_mean), ensemble (accuracy, macs_mean), thresholds[]
 * (only with --threshold: the per-exit vector applied), curve[] (threshold,
 * accuracy, macs_mean, exit_share[E], fallback_share, exit_count[E],
 * fallback_count) and budget_table[] (fraction, budget_macs, and of the point
 * chosen accuracy, threshold, macs_mean).
 * CSV (--csv FILE, written atomically): one row per plotted point, columns model,
 * kind (exit, ensemble, curve), exit, threshold, accuracy, macs_mean (the x of the
 * plot: standalone for exits, cascade otherwise), macs_cascade_mean (exits), and
 * exit_shares ("0.5;0.25;..." for curve points).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "reports/analysis.h"
#include "reports/csv.h"
#include "reports/json.h"
#include "reports/report.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof curve <trace.h5>... [--policy <p>] [--fallback <f>] [--threshold <t>[,<t>...]] "
	"[--json] [--csv <file>] [--plot <file.png|svg> [--log-x] [--plot-size <w,h>] "
	"[--font-size <n>] [--title <text>]]";

/* What curve reports about one trace (the trace itself is released once analysed). */
struct model {
	const char *trace;
	char name[256], checkpoint[4096], data[256];
	struct ee_report report;       /* of this trace alone */
	const struct ee_report_model *r; /* its one model: the numbers */
	struct ee_exit_rule rule;      /* with --threshold: the vector applied */
	bool vector;                   /* --threshold: one point, not a sweep */
};

struct curve_opts {
	struct ee_cli_rule rule;
	const char *csv, *plot;
	bool json, log_x;
	struct ee_cli_plot_opts look;
	struct ee_exit_rule names;     /* policy and fallback parsed */
	double v[EE_MAX_EXITS];        /* --threshold parsed */
	int nv;
};

/* Mean standalone MACs of the deepest exit: the budgets are shares of it. */
static double deepest(const struct ee_report_model *r)
{
	return r->stats.macs_mean[r->nexits - 1];
}

/* The report of t under the options' rule: a sweep, or with --threshold one point. */
static int analyse(struct model *m, const struct ee_trace *t, struct ee_err *err)
{
	struct ee_report_model *r;
	int rc;

	ee_report_init(&m->report, m->rule.policy, m->rule.fallback);
	if ((rc = ee_report_add(&m->report, t, NULL, err)) < 0)
		return rc;
	m->r = r = &m->report.models[0];
	if (m->vector) {
		ee_simulate(t, &m->rule, &r->curve[0], NULL);
		r->ncurve = 1;
		ee_report_budget_table(r);
	}
	ee_cli_model_name(t, m->name, sizeof(m->name));
	snprintf(m->checkpoint, sizeof(m->checkpoint), "%s", t->checkpoint);
	snprintf(m->data, sizeof(m->data), "%s", t->data);
	return EE_OK;
}

/* Loads one trace and analyses it under the options' rule. */
static int load_model(struct model *m, const char *path, const struct curve_opts *o,
		      struct ee_err *err)
{
	struct ee_trace t;
	int rc = ee_cli_trace_load(&t, path, err);

	if (rc < 0)
		return rc;
	m->trace = path;
	m->rule = o->names;
	m->vector = o->nv > 0;
	if (m->vector && (rc = ee_rule_thresholds(&m->rule, o->v, o->nv, t.nexits, err)) < 0)
		ee_err_prefix(err, "trace '%s': ", path);
	if (rc == EE_OK)
		rc = analyse(m, &t, err);
	ee_trace_release(&t);
	return rc;
}

/* ---------------------------------------------------------------- text */

/* Two sweep points that differ only in their threshold. */
static bool same_result(const struct ee_dyn_result *a, const struct ee_dyn_result *b, int e)
{
	return a->accuracy == b->accuracy && a->macs_mean == b->macs_mean &&
	       !memcmp(a->exits, b->exits, (size_t)(e + 1) * sizeof(a->exits[0]));
}

static const char *rule_text(const struct ee_exit_rule *r)
{
	switch (r->policy) {
	case EE_POLICY_MAXPROB: return "exit when max softmax > threshold";
	case EE_POLICY_ENTROPY: return "exit when softmax entropy < threshold";
	case EE_POLICY_MARGIN: return "exit when top-1 minus top-2 softmax > threshold";
	case EE_POLICY_PATIENCE: return "exit when the threshold's number of earlier exits agree";
	}
	return "?";
}

static void print_exits(const struct ee_report_model *r)
{
	static const char *const head[] = { "exit", "accuracy", "MACs", "MACs cascade" };
	struct ee_table tab;
	char a[32], b[32];
	int k;

	ee_table_init(&tab, 4, head);
	for (k = 0; k < r->nexits; k++)
		ee_table_rowf(&tab, "%d\t%.4f\t%s\t%s", k + 1, r->stats.accuracy[k],
			      ee_fmt_si(a, sizeof(a), r->stats.macs_mean[k]),
			      ee_fmt_si(b, sizeof(b), r->stats.cascade_mean[k]));
	ee_table_rowf(&tab, "ensemble\t%.4f\t\t%s", r->stats.ensemble_accuracy,
		      ee_fmt_si(b, sizeof(b), r->stats.ensemble_macs));
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* The threshold cell of sweep rows [first, last] in the grid's precision, or the vector
 * applied (every exit's value). */
static void threshold_cell(struct ee_cli_row *row, const struct model *m, int first, int last)
{
	const int digits = m->rule.policy == EE_POLICY_PATIENCE ? 0 :
			   m->rule.policy == EE_POLICY_ENTROPY ? 4 : 2;
	const struct ee_dyn_result *curve = m->r->curve;
	char buf[96];

	if (m->vector) {
		ee_cli_cell(row, "%s", ee_cli_thresholds_text(&m->rule, m->r->nexits, buf,
							      sizeof(buf)));
	} else if (first == last) {
		ee_cli_cell(row, "%.*f", digits, curve[first].threshold);
	} else {
		ee_cli_cell(row, "%.*f-%.*f", digits, curve[first].threshold, digits,
			    curve[last].threshold);
	}
}

static void print_sweep(const struct model *m)
{
	const struct ee_report_model *r = m->r;
	const char *head[EE_TABLE_MAX_COLS] = { "threshold", "accuracy", "MACs", "of deepest" };
	char names[EE_MAX_EXITS][16], si[32];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int first, last;

	if (r->ncurve == 0) {
		printf("(no points: patience needs two exits or more)\n");
		return;
	}
	ee_cli_exit_heads(head + 4, names, r->nexits);
	ee_table_init(&tab, 5 + r->nexits, head);
	for (first = 0; first < r->ncurve; first = last + 1) {
		const struct ee_dyn_result *d = &r->curve[first];

		for (last = first; last + 1 < r->ncurve &&
		     same_result(d, &r->curve[last + 1], r->nexits); last++)
			;
		threshold_cell(&row, m, first, last);
		ee_cli_cell(&row, "%.4f", d->accuracy);
		ee_cli_cell(&row, "%s", ee_fmt_si(si, sizeof(si), d->macs_mean));
		ee_cli_cell(&row, "%.1f%%", 100 * d->macs_mean / deepest(r));
		ee_cli_share_cells(&row, d, r->nexits, r->n);
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_budget_table(const struct model *m)
{
	static const char *const head[] = { "budget", "MACs", "accuracy", "threshold", "MACs used" };
	const struct ee_report_model *r = m->r;
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	char si[32];
	int i;

	ee_table_init(&tab, 5, head);
	for (i = 0; i < EE_REPORT_NFRAC; i++) {
		const int b = r->table[i].index;

		ee_cli_cell(&row, "%.0f%%", 100 * ee_report_fractions[i]);
		ee_cli_cell(&row, "%s", ee_fmt_si(si, sizeof(si), r->table[i].budget));
		if (b < 0) {
			ee_cli_cell(&row, "none fits");
			ee_cli_cell(&row, "-");
			ee_cli_cell(&row, "-");
		} else {
			ee_cli_cell(&row, "%.4f", r->curve[b].accuracy);
			threshold_cell(&row, m, b, b);
			ee_cli_cell(&row, "%s", ee_fmt_si(si, sizeof(si), r->curve[b].macs_mean));
		}
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_text(const struct model *m)
{
	char si[32];

	printf("model       %s (%s), trace %s\n", m->name, m->r->arch, m->trace);
	printf("data        %s, %d samples\n", m->data, m->r->n);
	printf("policy      %s, fallback %s: %s\n\n", ee_policy_name(m->rule.policy),
	       ee_fallback_name(m->rule.fallback), rule_text(&m->rule));
	print_exits(m->r);
	printf("\n%s (MACs: mean cascade, of deepest: of the deepest exit's %s standalone)\n",
	       m->vector ? "thresholds given" : "threshold sweep",
	       ee_fmt_si(si, sizeof(si), deepest(m->r)));
	print_sweep(m);
	printf("\nbest accuracy within a MAC budget (share of the deepest exit's MACs)\n");
	print_budget_table(m);
}

/* ---------------------------------------------------------------- JSON */

/* A model as report.json has it, with the trace's identity and exit counts. */
static void json_model(struct ee_json *j, const struct model *m)
{
	const struct ee_report_model *r = m->r;

	ee_json_begin(j, NULL, '{');
	ee_json_str(j, "name", m->name);
	ee_json_str(j, "trace", m->trace);
	ee_json_str(j, "checkpoint", m->checkpoint);
	ee_json_str(j, "arch", r->arch);
	ee_json_str(j, "data", m->data);
	ee_json_int(j, "samples", r->n);
	ee_json_num(j, "deepest_macs", deepest(r));
	ee_report_json_exits(j, r, 0);
	if (m->vector)
		ee_json_nums(j, "thresholds", m->rule.thr, r->nexits);
	ee_report_json_curve(j, r, EE_REPORT_JSON_COUNTS);
	ee_json_end(j);
}

static void print_json(const struct model *models, int count)
{
	struct ee_json j;
	int i;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "policy", ee_policy_name(models[0].rule.policy));
	ee_json_str(&j, "fallback", ee_fallback_name(models[0].rule.fallback));
	ee_json_begin(&j, "models", '[');
	for (i = 0; i < count; i++)
		json_model(&j, &models[i]);
	ee_json_end(&j);
	ee_json_end(&j);
}

/* ---------------------------------------------------------------- CSV */

static void csv_model(FILE *f, const struct model *m)
{
	const struct ee_report_model *r = m->r;
	int i, k;

	for (k = 0; k < r->nexits; k++) {
		ee_csv_str(f, m->name);
		fprintf(f, ",exit,%d,,%.10g,%.10g,%.10g,\n", k + 1, r->stats.accuracy[k],
			r->stats.macs_mean[k], r->stats.cascade_mean[k]);
	}
	ee_csv_str(f, m->name);
	fprintf(f, ",ensemble,,,%.10g,%.10g,,\n", r->stats.ensemble_accuracy,
		r->stats.ensemble_macs);
	for (i = 0; i < r->ncurve; i++) {
		const struct ee_dyn_result *d = &r->curve[i];

		ee_csv_str(f, m->name);
		fprintf(f, ",curve,,%.10g,%.10g,%.10g,,", d->threshold, d->accuracy, d->macs_mean);
		for (k = 0; k <= r->nexits; k++)
			fprintf(f, "%s%.10g", k ? ";" : "", (double)d->exits[k] / r->n);
		fputc('\n', f);
	}
}

struct models {
	const struct model *m;
	int count;
};

static void put_csv(FILE *f, const void *ctx)
{
	const struct models *ms = ctx;
	int i;

	fputs("model,kind,exit,threshold,accuracy,macs_mean,macs_cascade_mean,exit_shares\n", f);
	for (i = 0; i < ms->count; i++)
		csv_model(f, &ms->m[i]);
}

/* ---------------------------------------------------------------- plot */

/* accuracy vs MACs of every model, as report draws accuracy_vs_macs. */
static int draw(const struct model *models, int count, const struct curve_opts *o,
		struct ee_err *err)
{
	struct ee_report all;
	struct ee_plot_look look;
	struct ee_plot p;
	int i, rc = ee_cli_plot_check(o->plot, &o->look, &look, err);

	if (rc < 0)
		return rc;
	ee_report_init(&all, models[0].report.policy, models[0].report.fallback);
	all.log_x = o->log_x;
	if (!(all.models = malloc((size_t)count * sizeof(*all.models))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	for (i = 0; i < count; i++) /* borrowed: not released through all */
		all.models[i] = *models[i].r;
	all.nmodels = count;
	if ((rc = ee_cli_plot_begin(&p, &look, err)) == EE_OK) {
		ee_report_plot_accuracy(&all, &p);
		rc = ee_cli_plot_end(&p, o->plot, err);
	}
	free(all.models);
	return rc;
}

/* ---------------------------------------------------------------- command */

static int curve(const char *const *paths, int count, const struct curve_opts *o,
		 struct ee_err *err)
{
	struct model *models = calloc((size_t)count, sizeof(*models));
	int i, rc = models ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	for (i = 0; i < count && rc == EE_OK; i++)
		rc = load_model(&models[i], paths[i], o, err);
	if (rc == EE_OK && o->csv)
		rc = ee_cli_write(o->csv, put_csv, &(struct models){ models, count }, err);
	if (rc == EE_OK && o->plot)
		rc = draw(models, count, o, err);
	if (rc == EE_OK && o->json)
		print_json(models, count);
	for (i = 0; i < count && rc == EE_OK && !o->json && !ee_cli_stdout(o->csv); i++) {
		if (i)
			printf("\n");
		print_text(&models[i]);
	}
	for (i = 0; models && i < count; i++)
		ee_report_release(&models[i].report);
	free(models);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct curve_opts *o = ctx;
	struct ee_plot_look look;
	int rc;

	if (o->json && ee_cli_stdout(o->csv))
		return ee_err_set(err, EE_ERR_USAGE, "--json and --csv - would both write to "
				  "stdout%s", hint(synopsis));
	rc = ee_cli_rule_parse(&o->rule, &o->names, o->v, &o->nv, err);
	if (rc == EE_OK)
		rc = ee_cli_plot_check(o->plot, &o->look, &look, err);
	return rc < 0 ? rc : curve(pos, npos, o, err);
}

int cmd_curve(int argc, char **argv)
{
	struct curve_opts o = { 0 };
	const struct ee_opt opts[] = {
		EE_OPT_RULE(&o.rule, "apply one threshold, or one per exit, instead of the sweep"),
		EE_OPT_JSON(&o.json),
		{ "csv", EE_OPT_STR, &o.csv, "<file>", "also write the plotted points as CSV (-: "
		  "to stdout, instead of the text)", 0, 0 },
		{ "plot", EE_OPT_FILE, &o.plot, "<file>", "draw accuracy vs MACs (.png or .svg)", 0,
		  0 },
		{ "log-x", EE_OPT_FLAG, &o.log_x, NULL, "log MACs axis (the default past 5x)", 0, 0 },
		EE_OPT_PLOT_LOOK(&o.look),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, EE_MAX_POS, body, &o);
}
