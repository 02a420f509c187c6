/*
 * report_files.c - see report.h: report.md, the CSV files, the plot scripts, and
 * ee_report_write(), which writes them all under temporary names and renames
 * them into place only when every one of them is complete.
 */
#include "report.h"
#include "labels.h"
#include "report_extra.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "table.h"

#define PARETO_ROWS 8 /* sweep points shown in report.md */
#define SLOW_ROWS 8   /* slowest layers shown in report.md */
#define MISS_COLS 4   /* cache-miss events shown in report.md */
#define CELL 96       /* bytes of a table cell */

/* ---- helpers ---- */

static const char *pct(char *buf, size_t size, double fraction)
{
	if (isnan(fraction))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f%%", 100 * fraction);
	return buf;
}

static const char *si(char *buf, size_t size, double v)
{
	if (!isnan(v))
		return ee_fmt_si(buf, size, v);
	snprintf(buf, size, "-");
	return buf;
}

void ee_report_file_safe(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				name[i]) ? name[i] : '_';
	buf[i] = '\0';
}

static int max_exits(const struct ee_report *r)
{
	int i, e = 0;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i].nexits > e)
			e = r->models[i].nexits;
	return e;
}

/* ---- report.md ---- */

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
			ee_table_rowf(&t, "%.0f%%\t%s\tnone fits\t\t", 100 * ee_report_fractions[i],
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
			ee_table_rowf(&t, "%.0f%% (%s)\tnone fits\t\t\t\t", 100 * ee_report_fractions[i],
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

/* m's layers per sample (layertime.h), or NULL when out of memory; free() it. */
static struct ee_layer_time *layer_times(const struct ee_report_model *m)
{
	struct ee_layer_time *l = calloc((size_t)m->nlayers + 1, sizeof(*l));

	if (l)
		ee_report_layer_times(m, l);
	return l;
}

/* Points of m's time-against-MACs plot (0: none drawn). */
static int layer_points(const struct ee_report_model *m)
{
	struct ee_layer_time *l = layer_times(m);
	int n = l ? ee_layers_points(l, m->nlayers) : 0;

	free(l);
	return n;
}

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
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f", v);
	return buf;
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
	struct ee_layer_time *l = layer_times(m);
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
		ee_report_file_safe(m->name, safe, sizeof(safe));
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
		ee_report_file_safe(m->name, safe, sizeof(safe));
		fprintf(f, "\n![exit distribution per threshold](exits-%s.png) "
			"([SVG](exits-%s.svg))\n", safe, safe);
	}
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
			      pct(d, sizeof(d), half->index >= 0 ? m->curve[half->index].accuracy : NAN),
			      pct(e, sizeof(e), most->index >= 0 ? m->curve[most->index].accuracy : NAN));
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

/* ---- CSV ---- */

void ee_report_csv_exits(const struct ee_report *r, FILE *f)
{
	int i, k;

	fprintf(f, "model,exit,accuracy,macs_mean,macs_cascade_mean,macs_min,macs_max\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (k = 0; k < m->nexits; k++) {
			ee_csv_str(f, m->name);
			fprintf(f, ",%d", k + 1);
			ee_csv_num(f, m->stats.accuracy[k]);
			ee_csv_num(f, m->stats.macs_mean[k]);
			ee_csv_num(f, m->stats.cascade_mean[k]);
			ee_csv_num(f, m->exit_macs[0][k]);
			ee_csv_num(f, m->exit_macs[1][k]);
			fputc('\n', f);
		}
		ee_csv_str(f, m->name);
		fputs(",ensemble", f);
		ee_csv_num(f, m->stats.ensemble_accuracy);
		fputs(",", f);
		ee_csv_num(f, m->stats.ensemble_macs);
		fputs(",,\n", f);
	}
}

/* Exit shares as CSV columns, padded to e exits; then the fallback share. */
static void csv_shares(FILE *f, const struct ee_dyn_result *d, int nexits, int e, long n)
{
	int k;

	for (k = 0; k < e; k++)
		ee_csv_num(f, k < nexits ? (double)d->exits[k] / n : NAN);
	ee_csv_num(f, (double)d->exits[nexits] / n);
}

void ee_report_csv_curve(const struct ee_report *r, FILE *f)
{
	int i, j, k, e = max_exits(r);

	fprintf(f, "model,policy,fallback,threshold,accuracy,macs_mean");
	for (k = 0; k < e; k++)
		fprintf(f, ",exit%d_share", k + 1);
	fprintf(f, ",fallback_share\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++) {
			ee_csv_str(f, m->name);
			fprintf(f, ",%s,%s", ee_policy_name(r->policy), ee_fallback_name(r->fallback));
			ee_csv_num(f, m->curve[j].threshold);
			ee_csv_num(f, m->curve[j].accuracy);
			ee_csv_num(f, m->curve[j].macs_mean);
			csv_shares(f, &m->curve[j], m->nexits, e, m->n);
			fputc('\n', f);
		}
	}
}

void ee_report_csv_gates(const struct ee_report *r, FILE *f)
{
	int i, g, b;

	fprintf(f, "model,layer,exit,channels,open_ratio,std,always_open,never_open,"
		"ring_macs_never,ring_macs_always");
	for (b = 0; b < EE_GATE_BINS; b++)
		fprintf(f, ",hist%d", b);
	fputc('\n', f);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (g = 0; g < m->ngates; g++) {
			const struct ee_report_gate *rg = &m->gates[g];

			ee_csv_str(f, m->name);
			fputc(',', f);
			ee_csv_str(f, rg->layer);
			fprintf(f, ",%d,%d", rg->exit, rg->channels);
			ee_csv_num(f, rg->s.mean);
			ee_csv_num(f, rg->s.std);
			fprintf(f, ",%d,%d", rg->s.always_open, rg->s.never_open);
			ee_csv_num(f, rg->s.ring_macs_never);
			ee_csv_num(f, rg->s.ring_macs_always);
			for (b = 0; b < EE_GATE_BINS; b++)
				fprintf(f, ",%ld", rg->s.hist[b]);
			fputc('\n', f);
		}
	}
}

void ee_report_csv_budgets(const struct ee_report *r, FILE *f)
{
	int i, b, k, e = max_exits(r);

	fprintf(f, "model,fraction,budget_macs,feasible,val_accuracy,val_macs_mean,"
		"test_accuracy,test_macs_mean");
	for (k = 0; k < e; k++)
		fprintf(f, ",threshold%d", k + 1);
	fputc('\n', f);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (b = 0; m->has_val && b < EE_REPORT_NFRAC; b++) {
			const struct ee_report_budget *bu = &m->budgets[b];
			double no = NAN;

			ee_csv_str(f, m->name);
			ee_csv_num(f, ee_report_fractions[b]);
			ee_csv_num(f, bu->budget);
			fprintf(f, ",%d", bu->feasible);
			ee_csv_num(f, bu->feasible ? bu->val.accuracy : no);
			ee_csv_num(f, bu->feasible ? bu->val.macs_mean : no);
			ee_csv_num(f, bu->feasible ? bu->test.accuracy : no);
			ee_csv_num(f, bu->feasible ? bu->test.macs_mean : no);
			for (k = 0; k < e; k++)
				ee_csv_num(f, bu->feasible && k < m->nexits ? bu->rule.thr[k] : no);
			fputc('\n', f);
		}
	}
}

/* ---- plot scripts ---- */

/* The smallest and largest MACs the accuracy plot shows. */
static void macs_span(const struct ee_report *r, double *lo, double *hi)
{
	int i, j;

	*lo = INFINITY;
	*hi = 0;
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++)
			if (isfinite(m->curve[j].accuracy) && m->curve[j].macs_mean > 0) {
				*lo = fmin(*lo, m->curve[j].macs_mean);
				*hi = fmax(*hi, m->curve[j].macs_mean);
			}
		for (j = 0; j < m->nexits; j++) {
			*lo = fmin(*lo, m->stats.macs_mean[j]);
			*hi = fmax(*hi, m->stats.macs_mean[j]);
		}
		*hi = fmax(*hi, m->stats.ensemble_macs);
	}
}

/* The smallest and largest accuracy (%) the plot shows. */
static void accuracy_span(const struct ee_report *r, double *lo, double *hi)
{
	int i, j;

	*lo = 100;
	*hi = 0;
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++)
			if (isfinite(m->curve[j].accuracy)) {
				*lo = fmin(*lo, 100 * m->curve[j].accuracy);
				*hi = fmax(*hi, 100 * m->curve[j].accuracy);
			}
		for (j = 0; j < m->nexits; j++) {
			*lo = fmin(*lo, 100 * m->stats.accuracy[j]);
			*hi = fmax(*hi, 100 * m->stats.accuracy[j]);
		}
		*lo = fmin(*lo, 100 * m->stats.ensemble_accuracy);
		*hi = fmax(*hi, 100 * m->stats.ensemble_accuracy);
	}
}

/* A log x axis with ticks at 1, 2 and 5 times the powers of ten in [lo, hi], labelled
 * with SI suffixes (2M, 5M, 10M): gnuplot alone gives one tick per decade. */
static void log_ticks(FILE *f, double lo, double hi)
{
	static const double steps[] = { 1, 2, 5 };
	double d;
	char buf[32];
	int i, n = 0;

	fprintf(f, "set logscale x\nset xtics (");
	for (d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
		for (i = 0; i < 3; i++)
			if (steps[i] * d >= lo && steps[i] * d <= hi)
				fprintf(f, "%s'%s' %.10g", n++ ? ", " : "",
					ee_fmt_si(buf, sizeof(buf), steps[i] * d), steps[i] * d);
	fprintf(f, ")\n");
}

/* Datablocks $cI (sweep), $eI (exits) and $nI (ensemble) of model i. */
static void accuracy_data(const struct ee_report_model *m, int i, FILE *f)
{
	int j;

	fprintf(f, "$c%d << EOD\n", i);
	for (j = 0; j < m->ncurve; j++)
		if (isfinite(m->curve[j].accuracy))
			fprintf(f, "%.10g %.10g\n", m->curve[j].macs_mean, 100 * m->curve[j].accuracy);
	fprintf(f, "EOD\n$e%d << EOD\n", i);
	for (j = 0; j < m->nexits; j++)
		fprintf(f, "%.10g %.10g\n", m->stats.macs_mean[j], 100 * m->stats.accuracy[j]);
	fprintf(f, "EOD\n$n%d << EOD\n%.10g %.10g\nEOD\n", i, m->stats.ensemble_macs,
		100 * m->stats.ensemble_accuracy);
}

#define MAX_EXIT_LABELS 256
#define MAX_OBSTACLES 2048

/* The exit numbers, placed next to their points without overlap (labels.h) with the
 * points and the sweep curves (every other point), as $lab. */
static void exit_labels(const struct ee_report *r, const struct ee_label_axes *ax, FILE *f)
{
	static const char *const digits[] = { "1", "2", "3", "4", "5", "6", "7", "8" };
	static double pts[MAX_OBSTACLES][2];
	struct ee_label l[MAX_EXIT_LABELS];
	int n = 0, np, i, k;

	for (i = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].nexits && n < MAX_EXIT_LABELS; k++, n++) {
			pts[n][0] = l[n].x = r->models[i].stats.macs_mean[k];
			pts[n][1] = l[n].y = 100 * r->models[i].stats.accuracy[k];
			l[n].text = digits[k % 8];
		}
	np = n;
	for (i = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].ncurve && np < MAX_OBSTACLES; k += 2)
			if (isfinite(r->models[i].curve[k].accuracy)) {
				pts[np][0] = r->models[i].curve[k].macs_mean;
				pts[np++][1] = 100 * r->models[i].curve[k].accuracy;
			}
	ee_labels_place(l, n, (const double(*)[2])pts, np, ax, 0);
	fprintf(f, "$lab << EOD\n");
	for (i = 0, n = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].nexits && n < MAX_EXIT_LABELS; k++, n++)
			fprintf(f, "%.10g %.10g %s %d\n", l[n].lx, l[n].ly, l[n].text, i + 1);
	fprintf(f, "EOD\n");
}

void ee_report_plot_accuracy(const struct ee_report *r, struct ee_plot *p)
{
	struct ee_label_axes ax = { 0 };
	double lo, hi, alo, ahi;
	bool logx;
	int i;

	macs_span(r, &lo, &hi);
	accuracy_span(r, &alo, &ahi);
	logx = r->log_x || (lo > 0 && hi / lo > 5);
	ax.logx = logx;
	ax.xmin = logx ? lo / 1.4 : lo - 0.08 * (hi - lo);
	ax.xmax = logx ? hi * 1.4 : hi + 0.08 * (hi - lo);
	if (!(ax.xmax > ax.xmin)) {
		ax.xmin = lo * 0.9;
		ax.xmax = hi * 1.1 + 1;
	}
	ax.ymin = fmax(0, alo - 0.08 * (ahi - alo) - 0.5);
	ax.ymax = fmin(100, ahi + 0.08 * (ahi - alo) + 0.5);
	ax.width = p->width;
	ax.height = p->height;
	ax.font_size = p->font_size;
	ee_plot_title(p, "Accuracy vs MACs (threshold sweep: %s, fallback %s)",
		      ee_policy_name(r->policy), ee_fallback_name(r->fallback));
	fprintf(p->cmds, "set xlabel 'mean MACs per sample%s'\nset ylabel 'accuracy (%%)'\n"
		"set grid\nset key bottom right box opaque samplen 2\nset xrange [%.10g:%.10g]\n"
		"set yrange [%.10g:%.10g]\n", logx ? " (log scale)" : "", ax.xmin, ax.xmax,
		ax.ymin, ax.ymax);
	if (logx)
		log_ticks(p->cmds, ax.xmin, ax.xmax);
	else
		fprintf(p->cmds, "set format x '%%.1s%%c'\n");
	exit_labels(r, &ax, p->data);
	fprintf(p->cmds, "plot ");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		int lc = i + 1;

		accuracy_data(m, i, p->data);
		if (m->ncurve)
			fprintf(p->cmds, "$c%d using 1:2 with lines lw 2 lc %d notitle, ", i, lc);
		fprintf(p->cmds, "$e%d using 1:2 with linespoints dt 3 pt 7 ps 1.3 lc %d title ", i,
			lc);
		ee_plot_quote(p->cmds, m->name);
		fprintf(p->cmds, ", $n%d using 1:2 with points pt 9 ps 1.8 lc %d notitle, ", i, lc);
	}
	fprintf(p->cmds, "$lab using 1:2:3:4 with labels tc variable font ',9' notitle, "
		"keyentry with points pt 7 ps 1.3 lc rgb 'gray40' title 'exit k (number: k)', "
		"keyentry with points pt 9 ps 1.8 lc rgb 'gray40' title 'ensemble of the exits', "
		"keyentry with lines lw 2 lc rgb 'gray40' title 'dynamic exit, threshold sweep'\n");
}

static bool any_gates(const struct ee_report *r)
{
	int i;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i].ngates)
			return true;
	return false;
}

/* Length of the ".a.b" suffix that all of m's EMG layer names share (0 for one layer), so
 * that plot labels keep only the part that tells layers apart. */
static size_t common_suffix(const struct ee_report_model *m)
{
	const char *first = m->gates[0].layer;
	size_t len = strlen(first), best = len;
	int g;

	for (g = 1; g < m->ngates; g++) {
		const char *s = m->gates[g].layer;
		size_t n = strlen(s), k = 0;

		while (k < n && k < len && s[n - 1 - k] == first[len - 1 - k])
			k++;
		if (k >= n)
			return 0;
		best = k < best ? k : best;
	}
	while (best > 0 && first[len - best] != '.')
		best--;
	return best >= len ? 0 : best;
}

void ee_report_plot_gates(const struct ee_report *r, struct ee_plot *p)
{
	const struct ee_report_model *first = NULL;
	int i, g, shown = 0, nshow = 0, most = 0;
	size_t cut;

	for (i = 0; i < r->nmodels; i++) {
		nshow += r->models[i].ngates > 0;
		most = r->models[i].ngates > most ? r->models[i].ngates : most;
		if (!first && r->models[i].ngates)
			first = &r->models[i];
	}
	if (!first)
		return;
	if (p->width < 200 + 24 * most) /* room for every layer's label */
		p->width = 200 + 24 * most;
	cut = common_suffix(first);
	ee_plot_title(p, "Multi-scale ratio: share of open 5x5 gates per EMG layer (mean; bars: "
		      "one std over samples, clipped to 0-100 %%)");
	fprintf(p->cmds, "set ylabel 'open gates (%%)'\nset yrange [0:100]\n"
		"set xtics rotate by -45 font ',8' nomirror\nset grid ytics\nset key top right\n"
		"set xrange [0.5:%g]\nset xlabel 'EMG layer'", most + 0.5);
	if (cut) {
		fprintf(p->cmds, " . ' (names end in ' . ");
		ee_plot_quote(p->cmds, first->gates[0].layer + strlen(first->gates[0].layer) - cut);
		fprintf(p->cmds, " . ')'");
	}
	fprintf(p->cmds, "\nplot ");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		double off = nshow > 1 ? 0.1 * (shown - (nshow - 1) / 2.0) : 0;

		if (!m->ngates)
			continue;
		fprintf(p->data, "$g%d << EOD\n", i);
		for (g = 0; g < m->ngates; g++) /* bars clipped to 0..100 % */
			fprintf(p->data, "%d %.10g %.10g %.10g \"%.*s\"\n", g + 1,
				100 * m->gates[g].s.mean,
				fmax(0, 100 * (m->gates[g].s.mean - m->gates[g].s.std)),
				fmin(100, 100 * (m->gates[g].s.mean + m->gates[g].s.std)),
				(int)(strlen(m->gates[g].layer) - (m == first ? cut : 0)),
				m->gates[g].layer);
		fprintf(p->data, "EOD\n");
		fprintf(p->cmds, "%s$g%d using ($1%+.3f):2:3:4%s with yerrorlines pt 7 lw 2 lc %d "
			"title ", shown ? ", " : "", i, off, shown ? "" : ":xtic(5)", i + 1);
		ee_plot_quote(p->cmds, m->name);
		shown++;
	}
	fputc('\n', p->cmds);
}

void ee_report_plot_exits(const struct ee_report *r, const struct ee_report_model *m,
			  struct ee_plot *p)
{
	int j, k;

	fprintf(p->data, "$x << EOD\n");
	for (j = 0; j < m->ncurve; j++) {
		long cum = 0;

		fprintf(p->data, "%.10g 0", m->curve[j].threshold);
		for (k = 0; k <= m->nexits; k++) {
			cum += m->curve[j].exits[k];
			fprintf(p->data, " %.10g", 100.0 * cum / m->n);
		}
		fputc('\n', p->data);
	}
	fprintf(p->data, "EOD\n");
	fprintf(p->cmds, "set title ");
	ee_plot_quote(p->cmds, m->name);
	fprintf(p->cmds, " . ': where samples leave, by threshold'\nset xlabel 'threshold (%s)'\n"
		"set ylabel 'samples (%%, stacked)'\nset yrange [0:100]\nset key outside right\n"
		"set style fill solid 0.7\nplot ", ee_policy_name(r->policy));
	for (k = 0; k <= m->nexits; k++) {
		fprintf(p->cmds, "$x using 1:%d:%d with filledcurves lc %d title ", k + 2, k + 3, k + 1);
		if (k < m->nexits)
			fprintf(p->cmds, "'exit %d', ", k + 1);
		else
			fprintf(p->cmds, "'no exit confident: %s'\n", ee_fallback_name(r->fallback));
	}
}

int ee_report_plot_layers(const struct ee_report_model *m, struct ee_plot *p)
{
	struct ee_layer_time *l = layer_times(m);
	int points = l ? ee_layers_plot(p, l, m->nlayers, m->name, m->batch, m->threads) : 0;

	free(l);
	return points;
}

/* ---- the directory, atomically ---- */

/* Files begun in dir, committed together. */
struct outset {
	const char *dir;
	struct ee_out *o;
	int n, cap;
	struct ee_err *err;
	const struct ee_plot_look *look; /* of every plot (its title: accuracy_vs_macs only) */
};

/* Begins dir/name; returns its index, or < 0. */
static int out_begin(struct outset *s, const char *name)
{
	char path[4096];

	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		struct ee_out *o = realloc(s->o, (size_t)cap * sizeof(*o));

		if (!o)
			return ee_err_set(s->err, EE_ERR_NOMEM, "out of memory");
		s->o = o;
		s->cap = cap;
	}
	if (snprintf(path, sizeof(path), "%s/%s", s->dir, name) >= (int)sizeof(path))
		return ee_err_set(s->err, EE_ERR_USAGE, "output directory name is too long");
	if (ee_out_begin(&s->o[s->n], path, s->err) < 0)
		return s->err->code;
	return s->n++;
}

typedef void text_writer(const struct ee_report *r, FILE *f);

static void markdown_plots(const struct ee_report *r, FILE *f)
{
	ee_report_markdown(r, true, f);
}

static void markdown_no_plots(const struct ee_report *r, FILE *f)
{
	ee_report_markdown(r, false, f);
}

static int write_text(struct outset *s, const char *name, text_writer *fn,
		      const struct ee_report *r)
{
	int i = out_begin(s, name);
	FILE *f;

	if (i < 0)
		return i;
	if (!(f = fopen(s->o[i].tmp, "w")))
		return ee_err_set(s->err, EE_ERR_IO, "cannot create '%s': %s", s->o[i].path,
				  strerror(errno));
	fn(r, f);
	if (ferror(f) | fclose(f))
		return ee_err_set(s->err, EE_ERR_IO, "cannot write '%s'", s->o[i].path);
	return EE_OK;
}

/* Begins base.png and base.svg and renders p into them. */
static int write_plot(struct outset *s, const char *base, struct ee_plot *p, const char *program)
{
	static const enum ee_plot_format formats[2] = { EE_PLOT_PNG, EE_PLOT_SVG };
	char name[320];
	int i;

	snprintf(name, sizeof(name), "%s.png", base);
	if ((i = out_begin(s, name)) < 0)
		return i;
	snprintf(name, sizeof(name), "%s.svg", base);
	if (out_begin(s, name) < 0)
		return s->err->code;
	return ee_plot_render(p, program, &s->o[i], formats, 2, s->err);
}

typedef void plot_writer(const struct ee_report *r, const struct ee_report_model *m,
			 struct ee_plot *p);

static void accuracy_plot(const struct ee_report *r, const struct ee_report_model *m,
			  struct ee_plot *p)
{
	(void)m;
	ee_report_plot_accuracy(r, p);
}

static void gates_plot(const struct ee_report *r, const struct ee_report_model *m,
		       struct ee_plot *p)
{
	(void)m;
	ee_report_plot_gates(r, p);
}

static void layers_plot(const struct ee_report *r, const struct ee_report_model *m,
			struct ee_plot *p)
{
	(void)r;
	ee_report_plot_layers(m, p);
}

static int plot(struct outset *s, const char *base, plot_writer *fn, const struct ee_report *r,
		const struct ee_report_model *m, const char *program)
{
	struct ee_plot p;
	int rc = ee_plot_init(&p, s->err);

	if (rc < 0)
		return rc;
	ee_plot_look_apply(&p, s->look);
	if (strcmp(base, "accuracy_vs_macs"))
		p.title = NULL;
	fn(r, m, &p);
	rc = write_plot(s, base, &p, program);
	ee_plot_release(&p);
	return rc;
}

static int plots(struct outset *s, const struct ee_report *r, const char *program)
{
	char base[300], safe[256];
	int i, rc;

	if ((rc = plot(s, "accuracy_vs_macs", accuracy_plot, r, NULL, program)) < 0)
		return rc;
	if (any_gates(r) && (rc = plot(s, "gates", gates_plot, r, NULL, program)) < 0)
		return rc;
	for (i = 0; i < r->nmodels; i++) {
		ee_report_file_safe(r->models[i].name, safe, sizeof(safe));
		snprintf(base, sizeof(base), "exits-%s", safe);
		if (r->models[i].ncurve && r->models[i].nexits > 1 && /* one exit: nothing to show */
		    (rc = plot(s, base, ee_report_plot_exits, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "reliability-%s", safe);
		if ((rc = plot(s, base, ee_report_plot_reliability, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "classes-%s", safe);
		if (ee_report_class_plots(&r->models[i]) &&
		    (rc = plot(s, base, ee_report_plot_classes, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "layers-%s", safe);
		if (layer_points(&r->models[i]) &&
		    (rc = plot(s, base, layers_plot, r, &r->models[i], program)) < 0)
			return rc;
	}
	return EE_OK;
}

static int make_dir(const char *dir, struct ee_err *err)
{
	struct stat st;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return ee_err_set(err, EE_ERR_IO, "cannot create directory '%s': %s", dir,
				  strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ee_err_set(err, EE_ERR_IO, "'%s' is not a directory", dir);
	return EE_OK;
}

static int write_all(struct outset *s, const struct ee_report *r,
		     const struct ee_report_write_opts *o)
{
	static const struct {
		const char *name;
		text_writer *fn;
	} texts[] = {
		{ "exits.csv", ee_report_csv_exits },
		{ "curve.csv", ee_report_csv_curve },
		{ "gates.csv", ee_report_csv_gates },
		{ "calibration.csv", ee_report_csv_calibration },
		{ "classes.csv", ee_report_csv_classes },
		{ "timing.json", ee_report_timing },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if ((rc = write_text(s, texts[i].name, texts[i].fn, r)) < 0)
			return rc;
	if (r->val_data[0] && (rc = write_text(s, "budgets.csv", ee_report_csv_budgets, r)) < 0)
		return rc;
	if (o->plots && (rc = plots(s, r, o->gnuplot)) < 0)
		return rc;
	rc = write_text(s, "report.md", o->plots ? markdown_plots : markdown_no_plots, r);
	return rc < 0 ? rc : write_text(s, "report.json", ee_report_json, r);
}

int ee_report_write(const struct ee_report *r, const char *dir,
		    const struct ee_report_write_opts *o, struct ee_err *err)
{
	struct outset s = { dir, NULL, 0, 0, err, o->look };
	int rc, i;

	if ((rc = make_dir(dir, err)) < 0)
		return rc;
	rc = write_all(&s, r, o);
	for (i = 0; i < s.n; i++) { /* in order: report.json, begun last, is renamed last */
		if (rc == EE_OK)
			rc = ee_out_commit(&s.o[i], err);
		else
			ee_out_abort(&s.o[i]);
	}
	free(s.o);
	return rc;
}
