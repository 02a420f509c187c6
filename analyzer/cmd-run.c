/*
 * cmd-run.c - `eeprof run CKPT --data SPEC --threshold T`: real early exit, measured.
 *
 * The engine is plugins/realexit.h (every batch through an all-exits pass and a
 * dynamic pass, timed and counted, the rule also simulated on the all-exits pass);
 * this file parses the options, opens the counters, and prints what it measured:
 * accuracy, where samples left, MACs executed, time, counters, and the measured
 * speedup (time of all exits / dynamic time) next to the one the MACs predict (mean
 * cascade MACs of the deepest exit / mean MACs executed).
 *
 * --plot FILE draws the time of every MAC layer against its MACs (all-exits pass,
 * log-log) with the model's average rate as a line: layers above the line are slower
 * than their MACs say; the slowest ones are named (reports/layertime.h, gnuplot).
 *
 * --counters off measures no layer at all (no hooks): the plain run of the overhead
 * benchmark (tools/overhead.py); layer figures are then 0.
 *
 * JSON (--json): checkpoint, arch, data, samples, skipped {count, files[]} (with
 * --skip-bad), batch, threads, policy, fallback,
 * thresholds[E], accuracy, macs_mean, macs_all_exits, seconds, seconds_all_exits (the
 * medians of the --repeat runs, default 3, after --warmup untimed ones),
 * cpu_seconds, cpu_seconds_all_exits (process CPU time of the forwards, last run),
 * repeat, warmup, spread {dynamic, all_exits: {runs, median, min, max, iqr, values[]}},
 * warnings[] (in the text after the time line: a pass whose runs spread over 10 %, a
 * measured speedup over 25 % off the predicted one, each with its likely cause),
 * speedup_measured, speedup_predicted, simulated {accuracy, macs_mean, exit_count[E],
 * fallback_count, agree}, counters {source, events[], warnings[]}, exits[] {exit,
 * count, entered, macs_mean (per sample entering), seconds, seconds_all_exits,
 * cpu_seconds (thread CPU time, PAPI), gflops, events{}, events_all_exits{}},
 * fallback_count (samples no exit let go), and layers[] {name, kind, exit, head, samples, macs, seconds,
 * cpu_seconds, gflops, events{}} of the all-exits pass, with macs_dynamic and
 * seconds_dynamic; ranks and rank_seconds[ranks] (each process's wall time).
 *
 * Under mpirun or srun the samples are shared out over the ranks and rank 0 prints the
 * outcome of all of them (plugins/realexit_dist.h): the same accuracy, exits, MACs and
 * simulation as one process; a run's seconds are those of the slowest rank, CPU seconds,
 * stage and layer times and counts are summed over the ranks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "core/threads.h"
#include "plugins/dist.h"
#include "plugins/realexit_dist.h"
#include "reports/timeline.h"
#include "reports/json.h"
#include "reports/plot.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof run <checkpoint.h5> --data <spec> --threshold <t>[,<t>...] "
	"[--policy <p>] [--fallback <f>] [--counters <events>] [--layers] [--plot <file>] "
	"[--plot-size <w,h>] [--font-size <n>] [--title <text>] [--timeline <file.json>] [--json] "
	"[--limit <n>] [--offset <n>] [--batch <n>] [--threads <n>] [--repeat <n>] [--warmup <n>] "
	"[--resize <s>] [--interpolation <i>] [--no-resize]";

struct run_opts {
	struct ee_cli_rule rule;
	const char *data, *counters, *plot, *timeline;
	bool json, layers;
	int limit, offset, batch, threads, repeat, warmup;
	struct ee_cli_images img;
	struct ee_cli_plot_opts look_opts;
	struct ee_plot_look look; /* checked from look_opts */
};

/* ---------------------------------------------------------------- results */

/* Per stage: samples that entered, channels and MACs of a pass. */
struct stage {
	long entered;
	double macs;
	long long ch[EE_CH_MAX];
};

static void stage_of(const struct ee_realexit *s, const struct ee_realexit_pass *p, int x,
		     struct stage *st)
{
	ee_counts_stage(&p->counts, &s->net.model, x, st->ch, &st->macs, &st->entered);
}

/* a / b, NAN when b is 0. */
static double ratio(double a, double b)
{
	return b ? a / b : NAN;
}

/* Instructions per cycle from the channels, NAN without both events. */
static double ipc(const struct ee_counters *c, const long long *ch)
{
	int ins = ee_counters_channel(c, "PAPI_TOT_INS"), cyc = ee_counters_channel(c, "PAPI_TOT_CYC");

	return ins >= 0 && cyc >= 0 ? ratio((double)ch[ins], (double)ch[cyc]) : NAN;
}

/* ---------------------------------------------------------------- text */

static void print_summary(const struct ee_realexit *s)
{
	char a[32], b[32], thr[EE_MAX_EXITS * 20];

	printf("run         %d samples of '%s' (from %d), batch %d, threads %d\n", s->count,
	       s->ds.spec, s->o.offset, s->run.max_batch, ee_threads_get());
	printf("rule        %s, threshold%s %s, fallback %s\n", ee_policy_name(s->rule.policy),
	       s->rule.policy == EE_POLICY_PATIENCE ? "" : "s per exit",
	       ee_cli_thresholds_text(&s->rule, s->e, thr, sizeof(thr)),
	       ee_fallback_name(s->rule.fallback));
	printf("accuracy    %.4f (simulated on the all-exits pass: %.4f; %ld of %d samples "
	       "agree)\n", s->real.accuracy, s->sim.accuracy, s->agree, s->count);
	printf("MACs        %s executed per sample, %s with every exit: predicted speedup "
	       "%.2fx\n", ee_fmt_si(a, sizeof(a), s->real.macs_mean),
	       ee_fmt_si(b, sizeof(b), s->macs_all), ratio(s->macs_all, s->real.macs_mean));
	printf("time        %.3f s dynamic, %.3f s every exit: measured speedup %.2fx",
	       s->dynamic.seconds, s->all.seconds, ratio(s->all.seconds, s->dynamic.seconds));
	if (s->dyn_spread.n > 1)
		printf(" (medians of %d runs: %.3f-%.3f s dynamic, %.3f-%.3f s every exit)",
		       s->dyn_spread.n, s->dyn_spread.min, s->dyn_spread.max, s->all_spread.min,
		       s->all_spread.max);
	putchar('\n');
	if (s->ranks > 1) {
		printf("ranks       %d, wall s:", s->ranks);
		for (int r = 0; r < s->ranks; r++)
			printf(" %.3f", s->rank_seconds[r]);
		putchar('\n');
	}
}

/* "12.3" or "n/a" for a NAN. */
static const char *num(char *buf, size_t size, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, fmt, v);
	return buf;
}

static void print_exits(const struct ee_realexit *s)
{
	static const char *const head[] = { "exit", "left", "entered", "MACs/sample", "time (s)",
					    "all exits (s)", "GFLOP/s", "IPC" };
	struct ee_table tab;
	int x;

	ee_table_init(&tab, 8, head);
	for (x = 0; x < s->e; x++) {
		struct stage d, f;
		char m[32], g[32], q[32];

		stage_of(s, &s->dynamic, x, &d);
		stage_of(s, &s->all, x, &f);
		ee_table_rowf(&tab, "%d\t%ld\t%ld\t%s\t%.4f\t%.4f\t%s\t%s", x + 1, s->real.exits[x],
			      d.entered, ee_fmt_si(m, sizeof(m), ratio(d.macs, (double)d.entered)),
			      s->dynamic.stage_seconds[x], s->all.stage_seconds[x],
			      num(g, sizeof(g), "%.2f", ratio(2e-9 * d.macs, s->dynamic.stage_seconds[x])),
			      num(q, sizeof(q), "%.2f", ipc(s->ctr, d.ch)));
	}
	ee_table_rowf(&tab, "fallback\t%ld\t\t\t\t\t\t", s->real.exits[s->e]);
	putchar('\n');
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* Events per stage of the dynamic pass, per sample entering. */
static void print_events(const struct ee_realexit *s)
{
	const char *head[EE_TABLE_MAX_COLS] = { "exit" };
	struct ee_table tab;
	int x, i, cols = 1 + (s->ctr->nevents < EE_TABLE_MAX_COLS - 1 ? s->ctr->nevents :
					      EE_TABLE_MAX_COLS - 1);

	if (!s->ctr->nevents)
		return;
	for (i = 1; i < cols; i++)
		head[i] = s->ctr->event[i - 1];
	ee_table_init(&tab, cols, head);
	for (x = 0; x < s->e; x++) {
		struct ee_cli_row row = { 0 };
		struct stage d;
		char v[32];

		stage_of(s, &s->dynamic, x, &d);
		ee_cli_cell(&row, "%d", x + 1);
		for (i = 1; i < cols; i++)
			ee_cli_cell(&row, "%s", ee_fmt_si(v, sizeof(v),
							  ratio((double)d.ch[EE_CH_EVENTS + i - 1],
								(double)d.entered)));
		ee_cli_row_add(&tab, &row);
	}
	printf("\nevents per sample entering each stage (dynamic pass)\n");
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* Seconds of node i in a pass (summed over lanes). */
static double node_seconds(const struct ee_counts *c, int i)
{
	return 1e-9 * (double)c->v[(size_t)i * c->nch + EE_CH_REAL];
}

/* Per layer of the all-exits pass: MACs, time, achieved GFLOP/s and how that compares
 * with the model's (below 1: slower than its MACs say). */
static void print_layers(const struct ee_realexit *s)
{
	static const char *const head[] = { "layer", "kind", "exit", "MACs/sample", "time (s)",
					    "GFLOP/s", "vs model", "dynamic (s)" };
	const struct ee_counts *a = &s->all.counts;
	double model = ee_layers_gflops(s->lt, a->nnodes);
	struct ee_table tab;
	int i;

	ee_table_init(&tab, 8, head);
	for (i = 0; i < a->nnodes; i++) {
		const struct ee_node *nd = &s->net.model.nodes[i];
		double sec = node_seconds(a, i), g = ratio(2e-9 * a->macs[i], sec);
		char m[32], gs[32], vs[32];

		if (!(a->macs[i] > 0))
			g = NAN;
		ee_table_rowf(&tab, "%s\t%s\t%d%s\t%s\t%.5f\t%s\t%s\t%.5f", ee_realexit_node_name(nd),
			      nd->layer->ops->kind, nd->exit, nd->head && s->e > 1 ? "h" : "",
			      ee_fmt_si(m, sizeof(m), ratio(a->macs[i], (double)a->samples[i])), sec,
			      num(gs, sizeof(gs), "%.2f", g), num(vs, sizeof(vs), "%.2fx", g / model),
			      node_seconds(&s->dynamic.counts, i));
	}
	printf("\nlayers (all-exits pass; exit with h: that exit's head; model: %.2f GFLOP/s)\n",
	       model);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* ---------------------------------------------------------------- the plot */

/* --plot FILE: PNG, or SVG if the name ends in .svg. */
static int save_plot(const struct ee_realexit *s, const struct run_opts *o, const char *ckpt,
		     struct ee_err *err)
{
	struct ee_plot p;
	int rc = ee_cli_plot_begin(&p, &o->look, err);

	if (rc < 0)
		return rc;
	if (ee_layers_plot(&p, s->lt, s->net.model.nnodes, ckpt, s->run.max_batch,
			   ee_threads_get()) > 0)
		return ee_cli_plot_end(&p, o->plot, err);
	ee_plot_release(&p);
	return ee_err_set(err, EE_ERR_USAGE, "--plot: no layer was timed (--counters off "
			  "measures none)");
}

/* ---------------------------------------------------------------- JSON */

static void json_events(struct ee_json *j, const char *key, const struct ee_counters *c,
			const long long *ch)
{
	int i;

	ee_json_begin(j, key, '{');
	for (i = 0; i < c->nevents; i++)
		ee_json_int(j, c->event[i], ch[EE_CH_EVENTS + i]);
	ee_json_end(j);
}

static void json_head(struct ee_json *j, const struct ee_realexit *s,
		      const char *ckpt)
{
	int x;

	ee_json_str(j, "checkpoint", ckpt);
	ee_json_str(j, "arch", s->net.arch->name);
	ee_json_str(j, "data", s->ds.spec);
	ee_json_int(j, "samples", s->count);
	ee_cli_json_skipped(j, s->o.skip_bad ? &s->skipped : NULL);
	ee_json_int(j, "batch", s->run.max_batch);
	ee_json_int(j, "threads", ee_threads_get());
	ee_json_str(j, "policy", ee_policy_name(s->rule.policy));
	ee_json_str(j, "fallback", ee_fallback_name(s->rule.fallback));
	ee_json_begin(j, "thresholds", '[');
	for (x = 0; x < s->e; x++)
		ee_json_num(j, NULL, s->rule.thr[x]);
	ee_json_end(j);
	ee_json_num(j, "accuracy", s->real.accuracy);
	ee_json_num(j, "macs_mean", s->real.macs_mean);
	ee_json_num(j, "macs_all_exits", s->macs_all);
	ee_json_num(j, "seconds", s->dynamic.seconds);
	ee_json_num(j, "seconds_all_exits", s->all.seconds);
	ee_json_num(j, "cpu_seconds", s->dynamic.cpu_seconds);
	ee_json_num(j, "cpu_seconds_all_exits", s->all.cpu_seconds);
	ee_json_num(j, "speedup_measured", ratio(s->all.seconds, s->dynamic.seconds));
	ee_json_num(j, "speedup_predicted", ratio(s->macs_all, s->real.macs_mean));
	ee_json_int(j, "ranks", s->ranks);
	ee_json_nums(j, "rank_seconds", s->rank_seconds, s->ranks);
	ee_json_int(j, "repeat", s->dyn_spread.n);
	ee_json_int(j, "warmup", s->o.warmup);
	ee_json_begin(j, "spread", '{');
	ee_json_spread(j, "dynamic", &s->dyn_spread, s->dyn_runs);
	ee_json_spread(j, "all_exits", &s->all_spread, s->all_runs);
	ee_json_end(j);
	ee_json_begin(j, "simulated", '{');
	ee_json_num(j, "accuracy", s->sim.accuracy);
	ee_json_num(j, "macs_mean", s->sim.macs_mean);
	ee_json_begin(j, "exit_count", '[');
	for (x = 0; x < s->e; x++)
		ee_json_int(j, NULL, s->sim.exits[x]);
	ee_json_end(j);
	ee_json_int(j, "fallback_count", s->sim.exits[s->e]);
	ee_json_int(j, "agree", s->agree);
	ee_json_end(j);
}

static void json_counters(struct ee_json *j, const struct ee_counters *c, bool hooked)
{
	int i;

	ee_json_begin(j, "counters", '{');
	ee_json_str(j, "source", hooked ? c->be->name : "off");
	ee_json_begin(j, "events", '[');
	for (i = 0; i < c->nevents; i++)
		ee_json_str(j, NULL, c->event[i]);
	ee_json_end(j);
	ee_json_begin(j, "warnings", '[');
	for (i = 0; i < c->nwarn; i++)
		ee_json_str(j, NULL, c->warn[i]);
	ee_json_end(j);
	ee_json_end(j);
}

static void json_exits(struct ee_json *j, const struct ee_realexit *s)
{
	int x;

	ee_json_begin(j, "exits", '[');
	for (x = 0; x < s->e; x++) {
		struct stage d, f;

		stage_of(s, &s->dynamic, x, &d);
		stage_of(s, &s->all, x, &f);
		ee_json_begin(j, NULL, '{');
		ee_json_int(j, "exit", x + 1);
		ee_json_int(j, "count", s->real.exits[x]);
		ee_json_int(j, "entered", d.entered);
		ee_json_num(j, "macs_mean", ratio(d.macs, (double)d.entered));
		ee_json_num(j, "seconds", s->dynamic.stage_seconds[x]);
		ee_json_num(j, "seconds_all_exits", s->all.stage_seconds[x]);
		ee_json_num(j, "cpu_seconds", 1e-9 * (double)d.ch[EE_CH_VIRT]);
		ee_json_num(j, "gflops", ratio(2e-9 * d.macs, s->dynamic.stage_seconds[x]));
		json_events(j, "events", s->ctr, d.ch);
		json_events(j, "events_all_exits", s->ctr, f.ch);
		ee_json_end(j);
	}
	ee_json_end(j);
	ee_json_int(j, "fallback_count", s->real.exits[s->e]); /* as curve and gates name it */
}

static void json_layers(struct ee_json *j, const struct ee_realexit *s)
{
	const struct ee_counts *a = &s->all.counts, *d = &s->dynamic.counts;
	int i;

	ee_json_begin(j, "layers", '[');
	for (i = 0; i < a->nnodes; i++) {
		const struct ee_node *nd = &s->net.model.nodes[i];
		const long long *ch = a->v + (size_t)i * a->nch;

		ee_json_begin(j, NULL, '{');
		ee_json_str(j, "name", ee_realexit_node_name(nd));
		ee_json_str(j, "kind", nd->layer->ops->kind);
		ee_json_int(j, "exit", nd->exit);
		ee_json_bool(j, "head", nd->head);
		ee_json_int(j, "samples", a->samples[i]);
		ee_json_num(j, "macs", a->macs[i]);
		ee_json_num(j, "seconds", 1e-9 * (double)ch[EE_CH_REAL]);
		ee_json_num(j, "cpu_seconds", 1e-9 * (double)ch[EE_CH_VIRT]);
		ee_json_num(j, "gflops", ratio(2 * a->macs[i], (double)ch[EE_CH_REAL]));
		json_events(j, "events", s->ctr, ch);
		ee_json_num(j, "macs_dynamic", d->macs[i]);
		ee_json_num(j, "seconds_dynamic", 1e-9 * (double)d->v[(size_t)i * d->nch + EE_CH_REAL]);
		ee_json_end(j);
	}
	ee_json_end(j);
}

static void print_json(const struct ee_realexit *s, const char *ckpt, char (*warn)[256],
		       int nwarn)
{
	struct ee_json j;
	int i;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	json_head(&j, s, ckpt);
	ee_json_begin(&j, "warnings", '[');
	for (i = 0; i < nwarn; i++)
		ee_json_str(&j, NULL, warn[i]);
	ee_json_end(&j);
	json_counters(&j, s->ctr, s->hooked);
	json_exits(&j, s);
	json_layers(&j, s);
	ee_json_end(&j);
	putchar('\n');
}

/* ---------------------------------------------------------------- setup */

static int parse_rule(const struct run_opts *o, int nexits, struct ee_exit_rule *rule,
		      struct ee_err *err)
{
	double v[EE_MAX_EXITS];
	int count, rc;

	if ((rc = ee_cli_rule_parse(&o->rule, rule, v, &count, err)) < 0)
		return rc;
	return ee_rule_thresholds(rule, v, count, nexits, err);
}

static void progress(void *ctx, long done, long total)
{
	(void)ctx;
	ee_cli_progress("run", done, total);
}

static int print_results(const struct ee_realexit *re, const struct run_opts *o,
			 const char *ckpt, struct ee_err *err)
{
	char warn[EE_REALEXIT_WARN_MAX][256];
	int nwarn = ee_realexit_warnings(re, warn), i;

	if (o->json) {
		print_json(re, ckpt, warn, nwarn);
		return o->plot ? save_plot(re, o, ckpt, err) : EE_OK;
	}
	print_summary(re);
	for (i = 0; i < nwarn; i++)
		printf("warning     %s\n", warn[i]);
	print_exits(re);
	print_events(re);
	if (o->layers)
		print_layers(re);
	return o->plot ? save_plot(re, o, ckpt, err) : EE_OK;
}

/* The rule parsed and the counters opened for the opened engine, then the run. */
static int run_opened(struct ee_realexit *re, const struct run_opts *o, const char *ckpt,
		      struct ee_err *err)
{
	const char *spec = o->counters ? o->counters : "none";
	bool off = !strcmp(spec, "off");
	struct ee_exit_rule rule;
	struct ee_counters c = { 0 };
	int rc, nwarn;

	if ((rc = parse_rule(o, re->e, &rule, err)) == EE_OK)
		rc = ee_counters_open(&c, off ? "none" : spec, err);
	if ((rc = ee_dist_agree(rc, err)) < 0) {
		ee_counters_close(&c);
		return rc;
	}
	ee_cli_warn_counters(&c, 0);
	nwarn = c.nwarn;
	rc = ee_realexit_dist_run(re, &rule, &c, !off, err);
	ee_cli_warn_counters(&c, nwarn);
	if (rc == EE_OK && ee_dist_rank() == 0) /* rank 0 holds the whole outcome */
		rc = print_results(re, o, ckpt, err);
	ee_counters_close(&c);
	return rc;
}

static int run_checkpoint(const char *ckpt, const struct run_opts *o, struct ee_err *err)
{
	struct ee_timeline tl = { 0 };
	struct ee_realexit_opts ro = { .offset = o->offset, .limit = o->limit, .batch = o->batch,
				       .repeat = o->repeat, .warmup = o->warmup,
				       .progress = o->json ? NULL : progress,
				       .skip_bad = o->img.skip_bad,
				       .timeline = o->timeline ? &tl : NULL };
	struct ee_realexit re;
	int rc = ee_cli_images(&o->img, &ro.prep, err);

	/* one agreement on every rank, whichever step failed */
	rc = rc == EE_OK ? ee_realexit_dist_open(&re, ckpt, o->data, &ro, err)
			 : ee_dist_agree(rc, err);
	if (rc < 0)
		return rc;
	if (ee_dist_rank() == 0) /* every rank left out the same files */
		ee_cli_warn_skipped(&re.skipped);
	rc = run_opened(&re, o, ckpt, err);
	if (rc == EE_OK && o->timeline && ee_dist_rank() == 0) { /* rank 0's shard */
		char name[300];
		const char *names[1] = { name };
		const struct ee_timeline *tls[1] = { &tl };

		snprintf(name, sizeof(name), "eeprof run %s (real early exit)", ckpt);
		rc = ee_timeline_write(tls, names, 1, o->timeline, err);
	}
	ee_timeline_release(&tl);
	ee_realexit_release(&re);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct run_opts *o = ctx;
	int rc;

	(void)npos;
	if (!o->data || (!o->rule.threshold && !o->rule.thresholds))
		return ee_err_set(err, EE_ERR_USAGE, "--data and --threshold are required%s",
				  hint(synopsis));
	if (o->plot && (rc = ee_cli_plot_check(o->plot, &o->look_opts, &o->look, err)) < 0)
		return rc;
	ee_cli_threads(o->threads);
	return run_checkpoint(pos[0], o, err);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .batch = 64, .threads = 1, .repeat = 3 };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		EE_OPT_RULE(&o.rule, "one threshold, or one per exit (SCAN style; required)"),
		EE_OPT_COUNTERS(&o.counters),
		{ "layers", EE_OPT_FLAG, &o.layers, NULL, "also print the per-layer table", 0, 0 },
		{ "timeline", EE_OPT_FILE, &o.timeline, "<file.json>", "per-layer timeline of the "
		  "dynamic pass (Chrome trace events: the micro-batch shrinks as samples leave)", 0,
		  0 },
		{ "plot", EE_OPT_FILE, &o.plot, "<file>", "plot time against MACs per layer (.png or "
		  ".svg)", 0, 0 },
		EE_OPT_PLOT_LOOK(&o.look_opts),
		EE_OPT_JSON(&o.json),
		EE_OPTS_SAMPLES(&o),
		EE_OPT_REPEAT(&o.repeat, "3"),
		EE_OPT_WARMUP(&o.warmup),
		EE_OPT_IMAGES(&o.img),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
