/*
 * report_md.c - report.md, the human report: the summary table, per model the exits,
 * the sweep's Pareto front, budgets, gates, and time and counters; see report.h.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_extra.h"
#include "table.h"

#define PARETO_ROWS 8 /* sweep points shown in report.md */
#define SLOW_ROWS 8   /* slowest layers shown in report.md */
#define MISS_COLS 4   /* cache-miss events shown in report.md */
#define CELL 96       /* bytes of a table cell */

const char *ee_report_md_num(char *buf, size_t size, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f", decimals, v);
	return buf;
}

/* An accuracy or ratio as the terminal shows it too: a fraction with 4 decimals. */
static const char *pct(char *buf, size_t size, double fraction)
{
	return ee_report_md_num(buf, size, fraction, 4);
}

static const char *si(char *buf, size_t size, double v)
{
	if (!isnan(v))
		return ee_fmt_si(buf, size, v);
	snprintf(buf, size, "-");
	return buf;
}

/* Indices of the sweep's Pareto front (no point both cheaper and more accurate),
 * by increasing MACs, thinned evenly to at most PARETO_ROWS. Returns the count. */
static int pareto(const struct ee_report_model *m, int *out)
{
	int front[EE_REPORT_MAX_CURVE], nf = 0, i, j, n;
	double best = -1;

	for (;;) {
		int pick = -1;

		for (i = 0; i < m->ncurve; i++) {
			const struct ee_dyn_result *c = &m->curve[i];

			if (c->accuracy > best &&
			    (pick < 0 || c->macs_mean < m->curve[pick].macs_mean ||
			     (c->macs_mean == m->curve[pick].macs_mean &&
			      c->accuracy > m->curve[pick].accuracy)))
				pick = i;
		}
		if (pick < 0)
			break;
		front[nf++] = pick;
		best = m->curve[pick].accuracy;
	}
	n = nf < PARETO_ROWS ? nf : PARETO_ROWS;
	for (j = 0; j < n; j++)
		out[j] = front[n > 1 ? (int)((long)j * (nf - 1) / (n - 1)) : 0];
	return n;
}

static void md_exits(const struct ee_report_model *m, FILE *f)
{
	static const char *const head[] = { "exit", "accuracy", "MACs mean", "MACs cascade",
					    "MACs min", "MACs max" };
	char a[32], b[32], c[32], d[32], e[32];
	struct ee_table t;
	int k;

	ee_table_init(&t, 6, head);
	for (k = 0; k < m->nexits; k++)
		ee_table_rowf(&t, "%d\t%s\t%s\t%s\t%s\t%s", k + 1,
			      pct(a, sizeof(a), m->stats.accuracy[k]),
			      si(b, sizeof(b), m->stats.macs_mean[k]),
			      si(c, sizeof(c), m->stats.cascade_mean[k]),
			      si(d, sizeof(d), m->exit_macs[0][k]), si(e, sizeof(e), m->exit_macs[1][k]));
	ee_table_rowf(&t, "ensemble\t%s\t\t%s\t\t", pct(a, sizeof(a), m->stats.ensemble_accuracy),
		      si(b, sizeof(b), m->stats.ensemble_macs));
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

static void md_curve(const struct ee_report *r, const struct ee_report_model *m, FILE *f)
{
	const char *head[EE_TABLE_MAX_COLS] = { "threshold", "accuracy", "MACs mean",
						"of deepest exit" };
	char names[EE_MAX_EXITS + 1][16], cell[6 + EE_MAX_EXITS][32];
	const char *cells[EE_TABLE_MAX_COLS];
	double deep = m->stats.macs_mean[m->nexits - 1];
	int rows[PARETO_ROWS], n = pareto(m, rows), i, k;
	struct ee_table t;

	fprintf(f, "\n### Dynamic exit (%s, fallback %s)\n\n", ee_policy_name(r->policy),
		ee_fallback_name(r->fallback));
	if (!n) {
		fprintf(f, "No thresholds to sweep for this model and policy.\n");
		return;
	}
	fprintf(f, "%d thresholds swept (all in curve.csv); the Pareto front, by MACs "
		"(exit columns: share of samples leaving there):\n\n", m->ncurve);
	for (k = 0; k <= m->nexits; k++) {
		snprintf(names[k], sizeof(names[k]), k < m->nexits ? "exit %d" : "fallback", k + 1);
		head[4 + k] = names[k];
	}
	ee_table_init(&t, 5 + m->nexits, head);
	for (i = 0; i < n; i++) {
		const struct ee_dyn_result *d = &m->curve[rows[i]];

		snprintf(cell[0], sizeof(cell[0]), "%.4g", d->threshold);
		pct(cell[1], sizeof(cell[1]), d->accuracy);
		si(cell[2], sizeof(cell[2]), d->macs_mean);
		snprintf(cell[3], sizeof(cell[3]), "%.1f%%", 100 * d->macs_mean / deep);
		for (k = 0; k <= m->nexits; k++)
			snprintf(cell[4 + k], sizeof(cell[4 + k]), "%.1f%%",
				 100.0 * d->exits[k] / m->n);
		for (k = 0; k < 5 + m->nexits; k++)
			cells[k] = cell[k];
		ee_table_row(&t, cells);
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

/* The --threshold rule applied: every exit's threshold, then its result. */
static void md_rule(const struct ee_report *r, const struct ee_report_model *m, FILE *f)
{
	const bool patience = m->rule.policy == EE_POLICY_PATIENCE;
	char acc[32], macs[32];
	int k;

	fprintf(f, "\n### The rule given (--threshold)\n\n%s, ", ee_policy_name(r->policy));
	if (patience)
		fprintf(f, "patience %.9g", m->rule.thr[0]);
	for (k = 0; !patience && k < m->nexits; k++)
		fprintf(f, "%s%.9g", k ? ", " : "thresholds ", m->rule.thr[k]);
	fprintf(f, "%s, fallback %s: accuracy %s at %s MACs (%.1f%% of the deepest exit); "
		"samples leaving at each exit:", patience ? "" : " (exit 1 first)",
		ee_fallback_name(r->fallback), pct(acc, sizeof(acc), m->applied.accuracy),
		si(macs, sizeof(macs), m->applied.macs_mean),
		100 * m->applied.macs_mean / m->stats.macs_mean[m->nexits - 1]);
	for (k = 0; k < m->nexits; k++)
		fprintf(f, " %.1f%%", 100.0 * m->applied.exits[k] / m->n);
	fprintf(f, ", fallback %.1f%%.\n", 100.0 * m->applied.exits[m->nexits] / m->n);
}

static void md_budget_table(const struct ee_report_model *m, FILE *f)
{
	static const char *const head[] = { "budget", "MACs", "best accuracy", "threshold",
					    "MACs used" };
	char a[32], b[32], c[32];
	struct ee_table t;
	int i;

	fprintf(f, "\n### Accuracy within a budget\n\nBest sweep point whose mean MACs fit in a "
		"share of the deepest exit's (%s):\n\n",
		si(a, sizeof(a), m->stats.macs_mean[m->nexits - 1]));
	ee_table_init(&t, 5, head);
	for (i = 0; i < EE_REPORT_NFRAC; i++) {
		const struct ee_report_point *pt = &m->table[i];
		const struct ee_dyn_result *d = pt->index >= 0 ? &m->curve[pt->index] : NULL;

		if (d)
			ee_table_rowf(&t, "%.0f%%\t%s\t%s\t%.4g\t%s", 100 * ee_report_fractions[i],
				      si(a, sizeof(a), pt->budget), pct(b, sizeof(b), d->accuracy),
				      d->threshold, si(c, sizeof(c), d->macs_mean));
		else
			ee_table_rowf(&t, "%.0f%%\t%s\tnone fits\t-\t-", 100 * ee_report_fractions[i],
				      si(a, sizeof(a), pt->budget));
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

static void md_budgets(const struct ee_report *r, const struct ee_report_model *m, FILE *f)
{
	static const char *const head[] = { "budget", "thresholds", "val accuracy", "val MACs",
					    "test accuracy", "test MACs" };
	char a[32], b[32], c[32], d[32], e[32], thr[128];
	struct ee_table t;
	int i, k, n;

	fprintf(f, "\n### Budgets met on validation (MSDNet)\n\nThresholds chosen on `%s` (%d "
		"samples) to fit each budget, applied to the test data (fallback last):\n\n",
		r->val_data, r->val_samples);
	ee_table_init(&t, 6, head);
	for (i = 0; i < EE_REPORT_NFRAC; i++) {
		const struct ee_report_budget *bu = &m->budgets[i];

		if (!bu->feasible) {
			ee_table_rowf(&t, "%.0f%% (%s)\tnone fits\t-\t-\t-\t-", 100 * ee_report_fractions[i],
				      si(a, sizeof(a), bu->budget));
			continue;
		}
		for (k = 0, n = 0; k < m->nexits && n < (int)sizeof(thr); k++)
			n += snprintf(thr + n, sizeof(thr) - (size_t)n, "%s%.4g", k ? " " : "",
				      bu->rule.thr[k]);
		ee_table_rowf(&t, "%.0f%% (%s)\t%s\t%s\t%s\t%s\t%s", 100 * ee_report_fractions[i],
			      si(a, sizeof(a), bu->budget), thr, pct(b, sizeof(b), bu->val.accuracy),
			      si(c, sizeof(c), bu->val.macs_mean), pct(d, sizeof(d), bu->test.accuracy),
			      si(e, sizeof(e), bu->test.macs_mean));
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

static void md_gates(const struct ee_report_model *m, bool plots, FILE *f)
{
	static const char *const head[] = { "layer", "exit", "channels", "open ratio", "std",
					    "always open", "never open", "max saved as 3x3" };
	char a[32], b[32], c[32];
	struct ee_table t;
	int g;

	fprintf(f, "\n### Gates (multi-scale ratio)\n\nShare of 5x5 rings that ran, per EMG layer "
		"(mean and spread over samples); channels whose gate is always or never open; and "
		"the MACs per sample by which a plain 3x3 conv for the never-open channels would "
		"lower the all-open maximum (the MACs executed stay the same):\n\n");
	ee_table_init(&t, 8, head);
	for (g = 0; g < m->ngates; g++) {
		const struct ee_report_gate *rg = &m->gates[g];

		ee_table_rowf(&t, "%s\t%d\t%d\t%s\t%s\t%d\t%d\t%s", rg->layer, rg->exit, rg->channels,
			      pct(a, sizeof(a), rg->s.mean), pct(b, sizeof(b), rg->s.std),
			      rg->s.always_open, rg->s.never_open,
			      si(c, sizeof(c), rg->s.ring_macs_never));
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
	if (plots)
		fprintf(f, "\n![multi-scale ratio per layer](gates.png) ([SVG](gates.svg))\n");
}

/* ---- report.md: time and counters ---- */

/* Wall time per sample: "85.2 us", "1.25 ms", "2.10 s". */
static const char *per_sample(char *buf, size_t size, double seconds)
{
	double us = 1e6 * seconds;

	if (isnan(us))
		snprintf(buf, size, "-");
	else if (us < 1e3)
		snprintf(buf, size, "%.1f us", us);
	else if (us < 1e6)
		snprintf(buf, size, "%.2f ms", us / 1e3);
	else
		snprintf(buf, size, "%.2f s", us / 1e6);
	return buf;
}

static const char *fixed2(char *buf, size_t size, double v)
{
	return ee_report_md_num(buf, size, v, 2);
}

/* A counter cell without a value: the events were asked for but not countable (then the
 * trace has their warnings), or none were asked. */
static const char *uncounted(const struct ee_report_model *m)
{
	return m->counters.nwarn ? "n/a (no PMU)" : "-";
}

/* The counter columns of report.md's tables: IPC, then up to MISS_COLS cache-miss events
 * per sample (one "cache misses/sample" column if none was counted). */
struct counter_cols {
	int miss[MISS_COLS], nmiss; /* indices into m->counters */
	char head[MISS_COLS][CELL];
};

static void counter_cols(const struct ee_report_model *m, struct counter_cols *cc)
{
	int k;

	cc->nmiss = 0;
	for (k = 0; k < m->counters.n && cc->nmiss < MISS_COLS; k++) {
		if (!ee_event_is_miss(m->counters.names[k]))
			continue;
		snprintf(cc->head[cc->nmiss], CELL, "%s/sample", m->counters.names[k]);
		cc->miss[cc->nmiss++] = k;
	}
}

/* The counter headers from head[at]; returns the column after them. */
static int counter_heads(const struct counter_cols *cc, const char **head, int at)
{
	int i;

	head[at++] = "IPC";
	if (!cc->nmiss)
		head[at++] = "cache misses/sample";
	for (i = 0; i < cc->nmiss; i++)
		head[at++] = cc->head[i];
	return at;
}

/* The counter cells of cost c from cell[at]. */
static void counter_cells(const struct ee_report_model *m, const struct counter_cols *cc,
			  const struct ee_report_cost *c, char (*cell)[CELL], int at)
{
	int i;

	if (isnan(c->ipc))
		snprintf(cell[at++], CELL, "%s", uncounted(m));
	else
		snprintf(cell[at++], CELL, "%.2f", c->ipc);
	if (!cc->nmiss)
		snprintf(cell[at++], CELL, "%s", uncounted(m));
	for (i = 0; i < cc->nmiss; i++)
		si(cell[at++], CELL, c->events[cc->miss[i]] / m->n);
}

static void table_cells(struct ee_table *t, char (*cell)[CELL], int n)
{
	const char *cells[EE_TABLE_MAX_COLS];
	int i;

	for (i = 0; i < n; i++)
		cells[i] = cell[i];
	ee_table_row(t, cells);
}

static void md_exit_costs(const struct ee_report_model *m, const struct counter_cols *cc,
			  FILE *f)
{
	const char *head[EE_TABLE_MAX_COLS] = { "exit", "layers", "MACs/sample", "time/sample",
						"time share", "GFLOP/s" };
	char cell[EE_TABLE_MAX_COLS][CELL];
	int n = counter_heads(cc, head, 6), i, k;
	struct ee_report_cost c;
	struct ee_table t;
	double total = 0;

	for (i = 0; i < m->nlayers; i++)
		total += m->layers[i].seconds;
	ee_table_init(&t, n, head);
	for (k = 0; k < m->nexits; k++) {
		ee_report_exit_cost(m, k, &c);
		snprintf(cell[0], CELL, "%d", k + 1);
		snprintf(cell[1], CELL, "%d", c.layers);
		si(cell[2], CELL, c.macs);
		per_sample(cell[3], CELL, c.seconds / m->n);
		pct(cell[4], CELL, total > 0 ? c.seconds / total : NAN);
		fixed2(cell[5], CELL, c.gflops);
		counter_cells(m, cc, &c, cell, 6);
		table_cells(&t, cell, n);
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

/* The layers with the lowest GFLOP/s among those taking 1 % of the time or more. */
static void md_slowest(const struct ee_report_model *m, const struct counter_cols *cc,
		       const struct ee_layer_time *l, FILE *f)
{
	const char *head[EE_TABLE_MAX_COLS] = { "layer", "kind", "exit", "MACs/sample",
						"time/sample", "GFLOP/s", "vs model" };
	char cell[EE_TABLE_MAX_COLS][CELL];
	int pick[SLOW_ROWS], count = ee_layers_slowest(l, m->nlayers, pick, SLOW_ROWS);
	int n = counter_heads(cc, head, 7), i;
	double model = ee_layers_gflops(l, m->nlayers);
	struct ee_report_cost c;
	struct ee_table t;

	fprintf(f, "\nThe layers slowest for their MACs: the lowest GFLOP/s among the layers "
		"that take 1 %% of the time or more, against the model's %.2f GFLOP/s (below 1x: "
		"slower than their MACs say):\n\n", model);
	ee_table_init(&t, n, head);
	for (i = 0; i < count; i++) {
		const struct ee_trace_layer *tl = &m->layers[pick[i]];

		ee_report_layer_cost(m, pick[i], &c);
		snprintf(cell[0], CELL, "%s", tl->name);
		snprintf(cell[1], CELL, "%s", tl->kind);
		snprintf(cell[2], CELL, "%d%s", tl->exit, tl->head && m->nexits > 1 ? " (head)" : "");
		si(cell[3], CELL, c.macs);
		per_sample(cell[4], CELL, c.seconds / m->n);
		fixed2(cell[5], CELL, c.gflops);
		snprintf(cell[6], CELL, "%.2fx", c.gflops / model);
		counter_cells(m, cc, &c, cell, 7);
		table_cells(&t, cell, n);
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

/* What was counted: the events, the warnings of those that could not be. */
static void md_events(const struct ee_report_model *m, FILE *f)
{
	const struct ee_trace_counters *c = &m->counters;
	int k;

	if (!c->counted) {
		fprintf(f, "Events: not measured (profiled with `--counters off`, or by an older "
			"eeprof).");
		return;
	}
	if (!c->n && !c->nwarn)
		fprintf(f, "Events: none asked for (`--counters default`, or PAPI event names, "
			"count them).");
	for (k = 0; k < c->n; k++)
		fprintf(f, "%s`%s`%s", k ? ", " : "Events: ", c->names[k], k + 1 < c->n ? "" : ".");
	for (k = 0; k < c->nwarn; k++)
		fprintf(f, "%s%s.", c->n || k ? " " : "Events: ", c->warn[k]);
}

static void md_time(const struct ee_report_model *m, bool plots, FILE *f)
{
	struct ee_layer_time *l = ee_report_layer_times_new(m);
	struct counter_cols cc;
	char safe[256];

	if (!l)
		return;
	counter_cols(m, &cc);
	fprintf(f, "\n### Time and counters\n\nMeasured while profiling %d samples (batch %d, "
		"%d thread%s, %.3f s in all; these figures change from run to run): the wall time "
		"of every layer, summed per exit over the layers of its region (those that first "
		"run for that exit), against the MACs they executed; GFLOP/s = 2 x MACs / time. ",
		m->n, m->batch, m->threads, m->threads == 1 ? "" : "s", m->seconds);
	md_events(m, f);
	fprintf(f, " Every figure per exit and per layer is in `timing.json`.\n\n");
	md_exit_costs(m, &cc, f);
	md_slowest(m, &cc, l, f);
	if (plots && ee_layers_points(l, m->nlayers)) {
		ee_report_file_name(m->name, safe, sizeof(safe));
		fprintf(f, "\n![time against MACs per layer](layers-%s.png) ([SVG](layers-%s.svg))\n",
			safe, safe);
	}
	free(l);
}

static void md_model(const struct ee_report *r, const struct ee_report_model *m, bool plots,
		     FILE *f)
{
	char safe[256];

	fprintf(f, "\n## %s (`%s`)\n\nCheckpoint SHA-256 `%s`, %d classes, %d exits.\n\n", m->name,
		m->arch, m->sha256, m->num_classes, m->nexits);
	md_exits(m, f);
	md_curve(r, m, f);
	if (plots && m->ncurve && m->nexits > 1) {
		ee_report_file_name(m->name, safe, sizeof(safe));
		fprintf(f, "\n![exit distribution per threshold](exits-%s.png) "
			"([SVG](exits-%s.svg))\n", safe, safe);
	}
	if (m->has_rule)
		md_rule(r, m, f);
	md_budget_table(m, f);
	if (m->has_val)
		md_budgets(r, m, f);
	if (m->ngates)
		md_gates(m, plots, f);
	ee_report_md_extra(r, m, plots, f);
	if (m->nlayers)
		md_time(m, plots, f);
}

static void md_summary(const struct ee_report *r, FILE *f)
{
	static const char *const head[] = { "model", "arch", "exits", "deepest exit", "MACs",
					    "ensemble", "at 50% MACs", "at 75% MACs" };
	char a[32], b[32], c[32], d[32], e[32];
	struct ee_table t;
	int i;

	ee_table_init(&t, 8, head);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		const struct ee_report_point *half = &m->table[1], *most = &m->table[2];
		int last = m->nexits - 1;

		ee_table_rowf(&t, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s", m->name, m->arch, m->nexits,
			      pct(a, sizeof(a), m->stats.accuracy[last]),
			      si(b, sizeof(b), m->stats.macs_mean[last]),
			      pct(c, sizeof(c), m->stats.ensemble_accuracy),
			      half->index >= 0 ? pct(d, sizeof(d), m->curve[half->index].accuracy)
					       : "none fits",
			      most->index >= 0 ? pct(e, sizeof(e), m->curve[most->index].accuracy)
					       : "none fits");
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
}

void ee_report_markdown(const struct ee_report *r, bool plots, FILE *f)
{
	int i;

	fprintf(f, "# eeprof report\n\n"
		"- data: `%s`, %d samples\n"
		"- dynamic exit: policy `%s`, fallback `%s`\n"
		"- MACs are multiply-accumulates per sample, as executed (FLOPs = 2 x MACs); "
		"*cascade* adds every earlier exit head, which dynamic inference runs\n"
		"- files: `report.json` (canonical), `exits.csv`, `curve.csv`, `gates.csv`%s, "
		"`timing.json` (time, GFLOP/s and counters per exit and per layer)\n\n",
		r->data, r->samples, ee_policy_name(r->policy), ee_fallback_name(r->fallback),
		r->val_data[0] ? ", `budgets.csv`" : "");
	md_summary(r, f);
	if (plots)
		fprintf(f, "\n![accuracy vs MACs](accuracy_vs_macs.png) "
			"([SVG](accuracy_vs_macs.svg))\n");
	for (i = 0; i < r->nmodels; i++)
		md_model(r, &r->models[i], plots, f);
}
