/*
 * cmd-gates.c - `eeprof gates TRACE`: the multi-scale ratio of every EMG layer
 * (the share of channels whose gate opened the 5x5 ring) in a trace of an
 * EMGNet checkpoint.
 *
 * Per layer: the mean, standard deviation (over samples) and histogram (10 bins
 * of the per-sample ratio) of the ratio; the mean ratio of the samples taking each
 * exit and of each class; the channels whose gate opened for every sample (a plain
 * 5x5 would do: executed MACs unchanged, the gate's own work saved, the layer's
 * minimum rises) or for none (a plain 3x3 would do: the maximum drops by their
 * ring MACs). See ee_gate_stats in reports/analysis.h.
 *
 * Against difficulty (reports/difficulty.h): the ratio of the samples that leave with
 * the right and with a wrong prediction, overall and per exit taken, and the correlation
 * (Pearson per layer; Pearson and Spearman for the open gates summed over the layers) of
 * a sample's open-gate count with its deepest exit's confidence.
 *
 * The exit a sample takes follows a dynamic-exit rule, by default maxprob with
 * threshold 0.9 and fallback last (patience: 1); --policy, --threshold (one value
 * or one per exit) and --fallback change it. A trace records every layer for every
 * sample; under real early exit, a sample leaving at exit k never runs the layers
 * that feed only deeper exits: those cells are marked '*' in the text output.
 *
 * JSON (--json), named as report.json's gates[] where they overlap: name, trace,
 * checkpoint, arch, data, samples, policy, fallback, thresholds[], exit_share[E],
 * fallback_share, exit_count[E], fallback_count, gates[] with layer, exit (the
 * shallowest exit it feeds), channels, ring_macs (per open channel and sample),
 * open_ratio, std, hist[10], by_exit[E + 1] and by_exit_samples[E + 1] (the last:
 * the fallback), by_class[K] (null where no sample), always_open and never_open
 * (counts), always_open_channels[] and never_open_channels[] (indices),
 * ring_macs_always, ring_macs_never, open_ratio_right, open_ratio_wrong,
 * by_exit_right[E + 1], by_exit_wrong[E + 1], pearson_confidence; and difficulty
 * {samples_right, samples_wrong, by_exit_samples_right[E + 1], by_exit_samples_wrong[E + 1],
 * pearson, spearman} (open gates summed over the layers against the deepest exit's
 * confidence).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "reports/analysis.h"
#include "reports/difficulty.h"
#include "reports/json.h"
#include "reports/report.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof gates <trace.h5> [--policy <p>] [--threshold <t>[,<t>...]] [--fallback <f>] "
	"[--json] [--plot <file.png|svg> [--plot-size <w,h>] [--font-size <n>] [--title <text>]]";

#define DEFAULT_THRESHOLD 0.9
#define DEFAULT_PATIENCE 1
#define MAX_CLASS_COLUMNS (EE_TABLE_MAX_COLS - 1)
#define MAX_LISTED 32 /* channel indices listed per layer in text */

struct gates_opts {
	struct ee_cli_rule rule;
	const char *plot;
	bool json;
	struct ee_cli_plot_opts look;
};

struct gates {
	const char *path;
	struct ee_trace t;
	struct ee_exit_rule rule;
	struct ee_dyn_result taken_res;
	int *taken;                     /* [n] exit of each sample (E: fallback) */
	struct ee_gate_stats *s;        /* [G] */
	struct ee_gate_difficulty d;
};

static void gates_release(struct gates *g)
{
	int i;

	for (i = 0; g->s && i < g->t.ngated; i++)
		ee_gate_stats_release(&g->s[i]);
	free(g->s);
	ee_gate_difficulty_release(&g->d);
	free(g->taken);
	ee_trace_release(&g->t);
}

/* Loads the trace, applies the rule and computes every layer's statistics. */
static int analyse(struct gates *g, const double *v, int nv, struct ee_err *err)
{
	int rc = ee_cli_trace_load(&g->t, g->path, err), i;

	if (rc < 0)
		return rc;
	if (g->t.ngated < 1)
		return ee_err_set(err, EE_ERR_INPUT, "trace '%s' has no EMG layers (arch %s): gate "
				  "ratios need an EMGNet trace", g->path, g->t.arch);
	if ((rc = ee_rule_thresholds(&g->rule, v, nv, g->t.nexits, err)) < 0)
		return rc;
	g->taken = malloc((size_t)g->t.n * sizeof(*g->taken));
	g->s = calloc((size_t)g->t.ngated, sizeof(*g->s));
	if (!g->taken || !g->s)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	ee_simulate(&g->t, &g->rule, &g->taken_res, g->taken);
	for (i = 0; i < g->t.ngated && rc == EE_OK; i++)
		rc = ee_gate_stats(&g->t, i, g->taken, &g->s[i], err);
	return rc == EE_OK ? ee_gate_difficulty(&g->t, &g->rule, g->taken, &g->d, err) : rc;
}

/* ---------------------------------------------------------------- text */

static const char *layer_name(const struct ee_trace *t, int i)
{
	return t->gated[i].name ? t->gated[i].name : "?";
}

static void print_summary(const struct gates *g)
{
	static const char *const head[] = { "layer", "exit", "channels", "mean", "std", "always",
					    "never" };
	struct ee_table tab;
	int i;

	ee_table_init(&tab, 7, head);
	for (i = 0; i < g->t.ngated; i++)
		ee_table_rowf(&tab, "%s\t%d\t%d\t%.4f\t%.4f\t%d\t%d", layer_name(&g->t, i),
			      g->t.gated[i].exit, g->t.gated[i].channels, g->s[i].mean, g->s[i].std,
			      g->s[i].always_open, g->s[i].never_open);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

static void print_histogram(const struct gates *g)
{
	const char *head[EE_GATE_BINS + 1] = { "layer" };
	char names[EE_GATE_BINS][16];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int i, b;

	for (b = 0; b < EE_GATE_BINS; b++) {
		snprintf(names[b], sizeof(names[b]), "%d-%d%%", 100 * b / EE_GATE_BINS,
			 100 * (b + 1) / EE_GATE_BINS);
		head[b + 1] = names[b];
	}
	ee_table_init(&tab, EE_GATE_BINS + 1, head);
	for (i = 0; i < g->t.ngated; i++) {
		ee_cli_cell(&row, "%s", layer_name(&g->t, i));
		for (b = 0; b < EE_GATE_BINS; b++)
			ee_cli_cell(&row, "%ld", g->s[i].hist[b]);
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* A mean ratio cell: "-" for no samples, '*' if the layer would not run for them. */
static void ratio_cell(struct ee_cli_row *row, double ratio, bool not_run)
{
	if (isnan(ratio))
		ee_cli_cell(row, "-");
	else
		ee_cli_cell(row, "%.4f%s", ratio, not_run ? "*" : "");
}

static void print_by_exit(const struct gates *g)
{
	const char *head[EE_TABLE_MAX_COLS] = { "layer" };
	char names[EE_MAX_EXITS][16];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int e = g->t.nexits, i, k;

	ee_cli_exit_heads(head + 1, names, e);
	ee_table_init(&tab, e + 2, head);
	for (i = 0; i < g->t.ngated; i++) {
		ee_cli_cell(&row, "%s", layer_name(&g->t, i));
		for (k = 0; k <= e; k++)
			ratio_cell(&row, g->s[i].by_exit[k], k < e && k + 1 < g->t.gated[i].exit);
		ee_cli_row_add(&tab, &row);
	}
	ee_cli_cell(&row, "samples");
	for (k = 0; k <= e; k++)
		ee_cli_cell(&row, "%ld", g->taken_res.exits[k]);
	ee_cli_row_add(&tab, &row);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* Right and wrong: overall, per exit taken, and the layer's correlation with confidence. */
static void print_difficulty(const struct gates *g)
{
	const struct ee_gate_difficulty *d = &g->d;
	const char *head[EE_TABLE_MAX_COLS] = { "layer", "right", "wrong" };
	char names[2 * (EE_MAX_EXITS + 1)][24];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int e = g->t.nexits, i, k, c, nc = 3;

	for (k = 0; k <= e; k++)
		for (c = 1; c >= 0; c--) {
			if (k < e)
				snprintf(names[2 * k + c], sizeof(names[0]), "exit %d %s", k + 1,
					 c ? "right" : "wrong");
			else
				snprintf(names[2 * k + c], sizeof(names[0]), "fallback %s",
					 c ? "right" : "wrong");
			head[nc++] = names[2 * k + c];
		}
	head[nc++] = "r(confidence)";
	ee_table_init(&tab, nc, head);
	for (i = 0; i < g->t.ngated; i++) {
		ee_cli_cell(&row, "%s", layer_name(&g->t, i));
		ratio_cell(&row, d->right[i], false);
		ratio_cell(&row, d->wrong[i], false);
		for (k = 0; k <= e; k++)
			for (c = 1; c >= 0; c--)
				ratio_cell(&row, d->by_exit[i][k][c],
					   k < e && k + 1 < g->t.gated[i].exit);
		ratio_cell(&row, d->pearson[i], false);
		ee_cli_row_add(&tab, &row);
	}
	ee_cli_cell(&row, "samples");
	ee_cli_cell(&row, "%ld", d->n_right);
	ee_cli_cell(&row, "%ld", d->n_wrong);
	for (k = 0; k <= e; k++)
		for (c = 1; c >= 0; c--)
			ee_cli_cell(&row, "%ld", d->by_exit_n[k][c]);
	ee_cli_cell(&row, "%s", "");
	ee_cli_row_add(&tab, &row);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
	printf("\nopen gates (summed over the EMG layers) against exit %d's confidence: Pearson "
	       "%.4f, Spearman %.4f over %d samples\n(negative: gates open more where the deepest "
	       "exit is less sure)\n", e, d->pearson_total, d->spearman_total, g->t.n);
}

/* The lowest (sign 1) or highest (sign -1) class ratio of a layer; -1 if none. */
static int extreme_class(const struct ee_gate_stats *s, int k, int sign)
{
	int c, best = -1;

	for (c = 0; c < k; c++)
		if (!isnan(s->by_class[c]) &&
		    (best < 0 || sign * s->by_class[c] < sign * s->by_class[best]))
			best = c;
	return best;
}

static void print_by_class(const struct gates *g)
{
	static const char *const few[] = { "layer", "lowest class", "ratio", "highest class",
					   "ratio" };
	const char *head[EE_TABLE_MAX_COLS] = { "layer" };
	const int k = g->t.num_classes, wide = k > MAX_CLASS_COLUMNS;
	char names[MAX_CLASS_COLUMNS][16];
	struct ee_cli_row row = { 0 };
	struct ee_table tab;
	int c, i;

	for (c = 0; !wide && c < k; c++) {
		snprintf(names[c], sizeof(names[c]), "%d", c);
		head[c + 1] = names[c];
	}
	ee_table_init(&tab, wide ? 5 : k + 1, wide ? few : head);
	for (i = 0; i < g->t.ngated; i++) {
		const struct ee_gate_stats *s = &g->s[i];
		int lo = extreme_class(s, k, 1), hi = extreme_class(s, k, -1);

		ee_cli_cell(&row, "%s", layer_name(&g->t, i));
		for (c = 0; !wide && c < k; c++)
			ratio_cell(&row, s->by_class[c], false);
		if (wide && lo >= 0) {
			ee_cli_cell(&row, "%d", lo);
			ee_cli_cell(&row, "%.4f", s->by_class[lo]);
			ee_cli_cell(&row, "%d", hi);
			ee_cli_cell(&row, "%.4f", s->by_class[hi]);
		}
		ee_cli_row_add(&tab, &row);
	}
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* "3,17,42" (at most MAX_LISTED, then "... (n more)"). */
static void print_list(const char *what, const int *idx, int count)
{
	int i;

	printf("  %s", what);
	for (i = 0; i < count && i < MAX_LISTED; i++)
		printf("%s%d", i ? "," : " ", idx[i]);
	if (count > MAX_LISTED)
		printf(" ... (%d more)", count - MAX_LISTED);
	printf("\n");
}

static void print_channels(const struct gates *g)
{
	char a[32], b[32];
	int i, any = 0;

	for (i = 0; i < g->t.ngated; i++) {
		const struct ee_gate_stats *s = &g->s[i];

		if (!s->always_open && !s->never_open)
			continue;
		any = 1;
		printf("%s: %d always open, %d never open\n", layer_name(&g->t, i), s->always_open,
		       s->never_open);
		if (s->always_open)
			print_list("always:", s->always, s->always_open);
		if (s->never_open)
			print_list("never: ", s->never, s->never_open);
		printf("  as a plain 5x5 (always) and 3x3 (never): min +%s, max -%s MACs per "
		       "sample\n", ee_fmt_si(a, sizeof(a), s->ring_macs_always),
		       ee_fmt_si(b, sizeof(b), s->ring_macs_never));
	}
	if (!any)
		printf("every channel's gate opened for some samples and closed for others\n");
}

static void print_text(const struct gates *g)
{
	const struct ee_trace *t = &g->t;
	char name[256], thr[EE_MAX_EXITS * 20];
	int k;

	printf("model       %s (%s), trace %s\n", ee_cli_model_name(t, name, sizeof(name)),
	       t->arch, g->path);
	printf("data        %s, %d samples\n", t->data, t->n);
	printf("exits       %s %s, fallback %s:", ee_policy_name(g->rule.policy),
	       ee_cli_thresholds_text(&g->rule, t->nexits, thr, sizeof(thr)),
	       ee_fallback_name(g->rule.fallback));
	for (k = 0; k < t->nexits; k++)
		printf(" exit %d %.1f%%,", k + 1, 100.0 * g->taken_res.exits[k] / t->n);
	printf(" fallback %.1f%%\n", 100.0 * g->taken_res.exits[k] / t->n);
	printf("\nmulti-scale ratio (share of open gates) per EMG layer\n");
	print_summary(g);
	printf("\nsamples per ratio bin\n");
	print_histogram(g);
	printf("\nratio by the exit a sample takes (*: the layer only feeds deeper exits, so "
	       "under real early exit it would not run)\n");
	print_by_exit(g);
	printf("\nratio of the samples leaving with a right and a wrong prediction, by the exit "
	       "taken; r(confidence): Pearson correlation of the layer's open gates with exit %d's "
	       "confidence\n", t->nexits);
	print_difficulty(g);
	printf("\nratio by class\n");
	print_by_class(g);
	printf("\nchannels whose gate never changes\n");
	print_channels(g);
}

/* ---------------------------------------------------------------- JSON */

static void json_ints(struct ee_json *j, const char *key, const int *v, int count)
{
	int i;

	ee_json_begin(j, key, '[');
	for (i = 0; i < count; i++)
		ee_json_int(j, NULL, v[i]);
	ee_json_end(j);
}

/* v[i][k][c] for k = 0..E as an array. */
static void json_split(struct ee_json *j, const char *key, const struct ee_gate_difficulty *d,
		       int i, int c)
{
	int k;

	ee_json_begin(j, key, '[');
	for (k = 0; k <= d->nexits; k++)
		ee_json_num(j, NULL, d->by_exit[i][k][c]);
	ee_json_end(j);
}

static void json_counts(struct ee_json *j, const char *key, const struct ee_gate_difficulty *d,
			int c)
{
	int k;

	ee_json_begin(j, key, '[');
	for (k = 0; k <= d->nexits; k++)
		ee_json_int(j, NULL, d->by_exit_n[k][c]);
	ee_json_end(j);
}

static void json_layer(struct ee_json *j, const struct ee_trace *t, int i,
		       const struct ee_gate_stats *s, const struct ee_gate_difficulty *d)
{
	int b, k;

	ee_json_begin(j, NULL, '{');
	ee_json_str(j, "layer", layer_name(t, i));
	ee_json_int(j, "exit", t->gated[i].exit);
	ee_json_int(j, "channels", t->gated[i].channels);
	ee_json_num(j, "ring_macs", t->gated[i].ring_macs);
	ee_json_num(j, "open_ratio", s->mean);
	ee_json_num(j, "std", s->std);
	ee_json_begin(j, "hist", '[');
	for (b = 0; b < EE_GATE_BINS; b++)
		ee_json_int(j, NULL, s->hist[b]);
	ee_json_end(j);
	ee_json_nums(j, "by_exit", s->by_exit, t->nexits + 1);
	ee_json_begin(j, "by_exit_samples", '[');
	for (k = 0; k <= t->nexits; k++)
		ee_json_int(j, NULL, s->by_exit_n[k]);
	ee_json_end(j);
	ee_json_nums(j, "by_class", s->by_class, t->num_classes);
	ee_json_int(j, "always_open", s->always_open);
	ee_json_int(j, "never_open", s->never_open);
	json_ints(j, "always_open_channels", s->always, s->always_open);
	json_ints(j, "never_open_channels", s->never, s->never_open);
	ee_json_num(j, "ring_macs_always", s->ring_macs_always);
	ee_json_num(j, "ring_macs_never", s->ring_macs_never);
	ee_json_num(j, "open_ratio_right", d->right[i]);
	ee_json_num(j, "open_ratio_wrong", d->wrong[i]);
	json_split(j, "by_exit_right", d, i, 1);
	json_split(j, "by_exit_wrong", d, i, 0);
	ee_json_num(j, "pearson_confidence", d->pearson[i]);
	ee_json_end(j);
}

static void print_json(const struct gates *g)
{
	const struct ee_trace *t = &g->t;
	struct ee_json j;
	char name[256];
	int i;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "name", ee_cli_model_name(t, name, sizeof(name)));
	ee_json_str(&j, "trace", g->path);
	ee_json_str(&j, "checkpoint", t->checkpoint);
	ee_json_str(&j, "arch", t->arch);
	ee_json_str(&j, "data", t->data);
	ee_json_int(&j, "samples", t->n);
	ee_json_str(&j, "policy", ee_policy_name(g->rule.policy));
	ee_json_str(&j, "fallback", ee_fallback_name(g->rule.fallback));
	ee_json_nums(&j, "thresholds", g->rule.thr, t->nexits);
	ee_report_json_shares(&j, &g->taken_res, t->nexits, t->n, EE_REPORT_JSON_COUNTS);
	ee_json_begin(&j, "gates", '[');
	for (i = 0; i < t->ngated; i++)
		json_layer(&j, t, i, &g->s[i], &g->d);
	ee_json_end(&j);
	ee_json_begin(&j, "difficulty", '{');
	ee_json_int(&j, "samples_right", g->d.n_right);
	ee_json_int(&j, "samples_wrong", g->d.n_wrong);
	json_counts(&j, "by_exit_samples_right", &g->d, 1);
	json_counts(&j, "by_exit_samples_wrong", &g->d, 0);
	ee_json_num(&j, "pearson", g->d.pearson_total);
	ee_json_num(&j, "spearman", g->d.spearman_total);
	ee_json_end(&j);
	ee_json_end(&j);
}

/* ---------------------------------------------------------------- plot */

/* The open ratio per layer, as report draws gates.png. */
static int draw(const struct gates *g, const char *path, const struct ee_plot_look *look,
		struct ee_err *err)
{
	struct ee_report r;
	struct ee_plot p;
	int rc;

	ee_report_init(&r, g->rule.policy, g->rule.fallback);
	if ((rc = ee_report_add(&r, &g->t, NULL, err)) == EE_OK &&
	    (rc = ee_cli_plot_begin(&p, look, err)) == EE_OK) {
		ee_report_plot_gates(&r, &p);
		rc = ee_cli_plot_end(&p, path, err);
	}
	ee_report_release(&r);
	return rc;
}

/* ---------------------------------------------------------------- command */

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct gates_opts *o = ctx;
	struct ee_plot_look look;
	struct gates g = { 0 };
	double v[EE_MAX_EXITS];
	int nv, rc;

	(void)npos;
	g.path = pos[0];
	rc = ee_cli_rule_parse(&o->rule, &g.rule, v, &nv, err);
	if (rc == EE_OK && nv == 0) {
		v[0] = g.rule.policy == EE_POLICY_PATIENCE ? DEFAULT_PATIENCE : DEFAULT_THRESHOLD;
		nv = 1;
	}
	if (rc == EE_OK)
		rc = ee_cli_plot_check(o->plot, &o->look, &look, err);
	if (rc == EE_OK)
		rc = analyse(&g, v, nv, err);
	if (rc == EE_OK && o->plot)
		rc = draw(&g, o->plot, &look, err);
	if (rc == EE_OK && o->json)
		print_json(&g);
	else if (rc == EE_OK)
		print_text(&g);
	gates_release(&g);
	return rc;
}

int cmd_gates(int argc, char **argv)
{
	struct gates_opts o = { 0 };
	const struct ee_opt opts[] = {
		EE_OPT_RULE(&o.rule, "one threshold or one per exit (default 0.9; patience 1)"),
		EE_OPT_JSON(&o.json),
		{ "plot", EE_OPT_FILE, &o.plot, "<file>", "draw the open ratio per layer (.png or "
		  ".svg)", 0, 0 },
		EE_OPT_PLOT_LOOK(&o.look),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
