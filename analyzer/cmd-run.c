/*
 * cmd-run.c - `eeprof run CKPT --data SPEC --threshold T`: real early exit, measured.
 *
 * Every batch of the selected samples is run twice on the same run (same memory),
 * the order alternating from batch to batch:
 *  - the all-exits pass (ee_run_forward): every sample to the deepest exit, every
 *    head computed; its per-exit softmax statistics and MACs form an in-memory trace
 *    on which the rule is also simulated (ee_simulate), as `eeprof curve` would;
 *  - the dynamic pass (ee_run_forward_dynamic): after each exit the rule of
 *    reports/analysis.h decides, sample by sample (ee_rule_leaves on the exits seen
 *    so far), who leaves; those leave the batch, the rest are compacted and go on.
 *    Samples no exit lets go take the fallback (last, ensemble or best exit).
 * Both passes are timed (wall time of the forward calls, decisions included, input
 * preparation excluded) and counted per node and per exit stage (plugins/counters.h:
 * PAPI real and CPU time always, the events that can be counted). Reported: accuracy,
 * where samples left, MACs executed, time, counters, and the measured speedup (time
 * of all exits / dynamic time) next to the one the MACs predict (mean cascade MACs of
 * the deepest exit / mean MACs executed). The dynamic predictions are checked
 * against the simulation sample by sample ("agree").
 *
 * --plot FILE draws the time of every MAC layer against its MACs (all-exits pass,
 * log-log) with the model's average rate as a line: layers above the line are slower
 * than their MACs say; the slowest ones are named (reports/layertime.h, gnuplot).
 *
 * --counters off measures no layer at all (no hooks): the plain run of the overhead
 * benchmark (tools/overhead.py); layer figures are then 0.
 *
 * Stage and layer times are summed over lanes: with several threads running
 * micro-batches side by side they add up to more than the wall time.
 *
 * JSON (--json): checkpoint, arch, data, samples, batch, threads, policy, fallback,
 * thresholds[E], accuracy, macs_mean, macs_all_exits, seconds, seconds_all_exits,
 * cpu_seconds, cpu_seconds_all_exits (process CPU time of the forwards),
 * speedup_measured, speedup_predicted, simulated {accuracy, macs_mean, exit_count[E],
 * fallback_count, agree}, counters {source, events[], warnings[]}, exits[] {exit,
 * count, entered, macs_mean (per sample entering), seconds, seconds_all_exits,
 * cpu_seconds (thread CPU time, PAPI), gflops, events{}, events_all_exits{}},
 * fallback {count}, and layers[] {name, kind, exit, head, samples, macs, seconds,
 * cpu_seconds, gflops, events{}} of the all-exits pass, with macs_dynamic and
 * seconds_dynamic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer.h"
#include "core/exec.h"
#include "core/threads.h"
#include "plugins/counters.h"
#include "plugins/loop.h"
#include "plugins/sde.h"
#include "reports/timeline.h"
#include "reports/analysis.h"
#include "reports/json.h"
#include "reports/layertime.h"
#include "reports/plot.h"
#include "plugins/profile.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof run <checkpoint.h5> --data <spec> --threshold <t>[,<t>...] "
	"[--policy <p>] [--fallback <f>] [--counters <events>] [--layers] [--plot <file>] "
	"[--timeline <file.json>] [--json] "
	"[--limit <n>] [--offset <n>] [--batch <n>] [--threads <n>]";

struct run_opts {
	struct ee_cli_rule rule;
	const char *data, *counters, *plot, *timeline;
	bool json, layers;
	int limit, offset, batch, threads;
};

/* What one kind of pass measured over all batches. */
struct pass {
	double seconds;                     /* wall time of the forward calls */
	double cpu_seconds;                 /* process CPU time of the forward calls */
	double stage_seconds[EE_MAX_EXITS]; /* per stage, summed over lanes */
	struct ee_counts counts;            /* per node */
};

struct session {
	const struct run_opts *o;
	struct ee_dataset ds;
	struct ee_net net;
	struct ee_run run;
	struct ee_counters ctr;
	bool hooked;          /* ctr measures the nodes (not --counters off) */
	struct ee_exit_rule rule;
	int count, e, k;      /* samples, exits, classes */
	struct ee_trace full; /* the all-exits pass, one row per sample */
	struct ee_trace dyn;  /* the exits the dynamic pass saw, per sample */
	int *taken;           /* [count] where the rule let each sample go (e: fallback) */
	double *macs;         /* [count] MACs each executed in the dynamic pass */
	float *prob;          /* [lanes][k] softmax scratch */
	struct pass all, dynamic;
	struct ee_layer_time *lt; /* [nodes] the all-exits pass per sample, once it ran */
	int row0;             /* row of the current batch's first sample */
	struct ee_timeline tl; /* --timeline: the dynamic pass, layer by layer */
};

/* ---------------------------------------------------------------- per-sample rows */

/* Softmax statistics of logits z at (row, exit x) of t; the softmax goes to t's own
 * (if kept) or to p. */
static void fill_exit(struct ee_trace *t, int row, int x, const float *z, float *p)
{
	size_t at = (size_t)row * t->nexits + x;

	if (t->softmax)
		p = t->softmax + at * t->num_classes;
	ee_softmax_stats(z, t->num_classes, p, &t->pred[at], &t->maxprob[at], &t->entropy[at],
			 &t->margin[at]);
}

/* The ensemble (argmax of the mean softmax, first on ties) of a row whose every exit
 * is in t->softmax, as profile computes it. */
static void fill_ensemble(struct ee_trace *t, int row)
{
	const float *p = t->softmax + (size_t)row * t->nexits * t->num_classes;
	int c, x, best = 0, k = t->num_classes;
	double sum, top = -1;

	for (c = 0; c < k; c++) {
		for (x = 0, sum = 0; x < t->nexits; x++)
			sum += p[(size_t)x * k + c];
		if (sum > top) {
			top = sum;
			best = c;
		}
	}
	t->ens_pred[row] = best;
	t->ens_maxprob[row] = (float)(top / t->nexits);
}

/* Exit decision of the dynamic pass (see ee_exit_fn): statistics of exit x into the
 * rows of the samples, then the rule on the exits seen so far. */
static void decide(void *ctx, int x, const struct ee_tensor *logits, const int *index, int n,
		   uint8_t *leave)
{
	struct session *s = ctx;
	float *p = s->prob + (size_t)ee_thread_id() * s->k;
	int j;

	for (j = 0; j < n; j++) {
		int row = s->row0 + index[j];

		fill_exit(&s->dyn, row, x, ee_tensor_sample(logits, j), p);
		leave[j] = ee_rule_leaves(&s->dyn, &s->rule, row, x);
		s->taken[row] = leave[j] ? x : s->e;
	}
}

/* ---------------------------------------------------------------- the two passes */

/* When a forward began: wall and process CPU clocks. */
struct clocks {
	double wall;
	clock_t cpu;
};

static struct clocks pass_begin(struct session *s)
{
	struct clocks c;

	memset(s->run.stage_seconds, 0, sizeof(s->run.stage_seconds));
	c.cpu = clock();
	c.wall = ee_now();
	return c;
}

/* Time, stage times, counters and MACs of the forward that began at c. */
static void pass_end(struct session *s, struct pass *p, struct clocks c)
{
	int x;

	p->seconds += ee_now() - c.wall;
	p->cpu_seconds += (double)(clock() - c.cpu) / CLOCKS_PER_SEC;
	for (x = 0; x < s->e; x++)
		p->stage_seconds[x] += s->run.stage_seconds[x];
	ee_counters_collect(&s->ctr, &p->counts);
	ee_counts_add_macs(&p->counts, &s->run);
	ee_sde_record(&s->run);
}

static void all_exits(struct session *s, const struct ee_tensor *x)
{
	const struct ee_run *r = &s->run;
	struct clocks c = pass_begin(s);
	int i, k;

	ee_run_forward(&s->run, x);
	pass_end(s, &s->all, c);
	for (i = 0; i < r->n; i++) {
		int row = s->row0 + i;

		for (k = 0; k < s->e; k++) {
			struct ee_tensor out = ee_run_output(r, k);

			fill_exit(&s->full, row, k, ee_tensor_sample(&out, i), s->prob);
			s->full.macs[(size_t)row * s->e + k] = ee_run_sample_macs(r, k, i, false);
			s->full.macs_cascade[(size_t)row * s->e + k] = ee_run_sample_macs(r, k, i, true);
		}
		if (s->full.softmax)
			fill_ensemble(&s->full, row);
	}
}

static int dynamic(struct session *s, const struct ee_tensor *x, struct ee_err *err)
{
	const struct ee_run *r = &s->run;
	struct clocks c = pass_begin(s);
	int i, rc;

	if (s->o->timeline)
		ee_timeline_resume(&s->tl);
	rc = ee_run_forward_dynamic(&s->run, x, decide, s, err);
	if (s->o->timeline) {
		ee_timeline_batch(&s->tl, s->o->offset + s->row0, x->n);
		ee_timeline_pause(&s->tl);
	}
	if (rc < 0)
		return rc;
	pass_end(s, &s->dynamic, c);
	for (i = 0; i < r->n; i++) {
		int row = s->row0 + i;

		s->macs[row] = ee_run_sample_macs(r, r->taken[i], i, true);
		if (s->taken[row] == s->e && s->dyn.softmax)
			fill_ensemble(&s->dyn, row);
	}
	return EE_OK;
}

/* Every batch through both passes, alternating which goes first. */
static int run_batches(struct session *s, struct ee_err *err)
{
	struct ee_shape in = s->net.model.input;
	float *buf = aligned_alloc(64, ee_align_up(ee_shape_numel(in) * s->run.max_batch * 4));
	int first, b, rc = buf ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	for (first = 0, b = 0; rc == EE_OK && first < s->count; first += s->run.max_batch, b++) {
		int n = s->count - first < s->run.max_batch ? s->count - first : s->run.max_batch;
		struct ee_tensor x = ee_tensor_dense(buf, n, in.c, in.h, in.w);

		s->row0 = first;
		rc = ee_dataset_batch(&s->ds, s->o->offset + first, n, in, s->net.ck.mean,
				      s->net.ck.std, buf, err);
		if (rc == EE_OK && b % 2)
			rc = dynamic(s, &x, err);
		if (rc == EE_OK)
			all_exits(s, &x);
		if (rc == EE_OK && b % 2 == 0)
			rc = dynamic(s, &x, err);
		if (!s->o->json)
			ee_cli_progress("run", first + n, s->count);
	}
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- results */

struct outcome {
	struct ee_dyn_result real, sim;
	long agree;          /* samples with the simulated exit and prediction */
	double macs_all;     /* mean cascade MACs of the deepest exit (all-exits pass) */
};

static void outcome(const struct session *s, struct outcome *out)
{
	int *sim_taken = malloc((size_t)s->count * sizeof(int));
	long correct = 0;
	double macs = 0, all = 0;
	int i;

	memset(out, 0, sizeof(*out));
	ee_simulate(&s->full, &s->rule, &out->sim, sim_taken);
	for (i = 0; i < s->count; i++) {
		int32_t pred = ee_rule_predict(&s->dyn, &s->rule, i, s->taken[i]);

		out->real.exits[s->taken[i]]++;
		correct += pred == s->dyn.label[i];
		macs += s->macs[i];
		all += s->full.macs_cascade[(size_t)i * s->e + s->e - 1];
		out->agree += sim_taken && sim_taken[i] == s->taken[i] &&
			      pred == ee_rule_predict(&s->full, &s->rule, i, sim_taken[i]);
	}
	out->real.threshold = s->rule.thr[0];
	out->real.accuracy = (double)correct / s->count;
	out->real.macs_mean = macs / s->count;
	out->macs_all = all / s->count;
	free(sim_taken);
}

/* Per stage: samples that entered, channels and MACs of a pass. */
struct stage {
	long entered;
	double macs;
	long long ch[EE_CH_MAX];
};

static void stage_of(const struct session *s, const struct pass *p, int x, struct stage *st)
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

static void print_summary(const struct session *s, const struct outcome *out)
{
	char a[32], b[32], thr[EE_MAX_EXITS * 20];

	printf("run         %d samples of '%s' (from %d), batch %d, threads %d\n", s->count,
	       s->o->data, s->o->offset, s->run.max_batch, ee_threads_get());
	printf("rule        %s, threshold%s %s, fallback %s\n", ee_policy_name(s->rule.policy),
	       s->rule.policy == EE_POLICY_PATIENCE ? "" : "s per exit",
	       ee_cli_thresholds_text(&s->rule, s->e, thr, sizeof(thr)),
	       ee_fallback_name(s->rule.fallback));
	printf("accuracy    %.4f (simulated on the all-exits pass: %.4f; %ld of %d samples "
	       "agree)\n", out->real.accuracy, out->sim.accuracy, out->agree, s->count);
	printf("MACs        %s executed per sample, %s with every exit: predicted speedup "
	       "%.2fx\n", ee_fmt_si(a, sizeof(a), out->real.macs_mean),
	       ee_fmt_si(b, sizeof(b), out->macs_all), ratio(out->macs_all, out->real.macs_mean));
	printf("time        %.3f s dynamic, %.3f s every exit: measured speedup %.2fx\n",
	       s->dynamic.seconds, s->all.seconds, ratio(s->all.seconds, s->dynamic.seconds));
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

static void print_exits(const struct session *s, const struct outcome *out)
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
		ee_table_rowf(&tab, "%d\t%ld\t%ld\t%s\t%.4f\t%.4f\t%s\t%s", x + 1, out->real.exits[x],
			      d.entered, ee_fmt_si(m, sizeof(m), ratio(d.macs, (double)d.entered)),
			      s->dynamic.stage_seconds[x], s->all.stage_seconds[x],
			      num(g, sizeof(g), "%.2f", ratio(2e-9 * d.macs, s->dynamic.stage_seconds[x])),
			      num(q, sizeof(q), "%.2f", ipc(&s->ctr, d.ch)));
	}
	ee_table_rowf(&tab, "fallback\t%ld\t\t\t\t\t\t", out->real.exits[s->e]);
	putchar('\n');
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
}

/* Events per stage of the dynamic pass, per sample entering. */
static void print_events(const struct session *s)
{
	const char *head[EE_TABLE_MAX_COLS] = { "exit" };
	struct ee_table tab;
	int x, i, cols = 1 + (s->ctr.nevents < EE_TABLE_MAX_COLS - 1 ? s->ctr.nevents :
					      EE_TABLE_MAX_COLS - 1);

	if (!s->ctr.nevents)
		return;
	for (i = 1; i < cols; i++)
		head[i] = s->ctr.event[i - 1];
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

static const char *layer_name(const struct ee_node *nd)
{
	return nd->layer->name && nd->layer->name[0] ? nd->layer->name : nd->layer->ops->kind;
}

/* Seconds of node i in a pass (summed over lanes). */
static double node_seconds(const struct ee_counts *c, int i)
{
	return 1e-9 * (double)c->v[(size_t)i * c->nch + EE_CH_REAL];
}

/* The nodes of the all-exits pass per sample (reports/layertime.h) into s->lt. */
static void layer_times(struct session *s)
{
	const struct ee_counts *a = &s->all.counts;
	int i;

	for (i = 0; i < a->nnodes; i++) {
		s->lt[i].name = layer_name(&s->net.model.nodes[i]);
		s->lt[i].exit = s->net.model.nodes[i].exit;
		s->lt[i].macs = ratio(a->macs[i], (double)a->samples[i]);
		s->lt[i].seconds = ratio(node_seconds(a, i), (double)a->samples[i]);
	}
}

/* Per layer of the all-exits pass: MACs, time, achieved GFLOP/s and how that compares
 * with the model's (below 1: slower than its MACs say). */
static void print_layers(const struct session *s)
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
		ee_table_rowf(&tab, "%s\t%s\t%d%s\t%s\t%.5f\t%s\t%s\t%.5f", layer_name(nd),
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
static int save_plot(const struct session *s, const char *ckpt, struct ee_err *err)
{
	const char *f = s->o->plot;
	size_t len = strlen(f);
	bool svg = len > 4 && !strcmp(f + len - 4, ".svg");
	struct ee_plot p;
	int rc = ee_plot_init(&p, err);

	if (rc < 0)
		return rc;
	if (ee_layers_plot(&p, s->lt, s->net.model.nnodes, ckpt, s->run.max_batch,
			   ee_threads_get()) > 0)
		rc = ee_plot_save(&p, NULL, svg ? NULL : f, svg ? f : NULL, err);
	else
		rc = ee_err_set(err, EE_ERR_USAGE, "--plot: no layer was timed (--counters off "
				"measures none)");
	ee_plot_release(&p);
	return rc;
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

static void json_head(struct ee_json *j, const struct session *s, const struct outcome *out,
		      const char *ckpt)
{
	int x;

	ee_json_str(j, "checkpoint", ckpt);
	ee_json_str(j, "arch", s->net.arch->name);
	ee_json_str(j, "data", s->o->data);
	ee_json_int(j, "samples", s->count);
	ee_json_int(j, "batch", s->run.max_batch);
	ee_json_int(j, "threads", ee_threads_get());
	ee_json_str(j, "policy", ee_policy_name(s->rule.policy));
	ee_json_str(j, "fallback", ee_fallback_name(s->rule.fallback));
	ee_json_begin(j, "thresholds", '[');
	for (x = 0; x < s->e; x++)
		ee_json_num(j, NULL, s->rule.thr[x]);
	ee_json_end(j);
	ee_json_num(j, "accuracy", out->real.accuracy);
	ee_json_num(j, "macs_mean", out->real.macs_mean);
	ee_json_num(j, "macs_all_exits", out->macs_all);
	ee_json_num(j, "seconds", s->dynamic.seconds);
	ee_json_num(j, "seconds_all_exits", s->all.seconds);
	ee_json_num(j, "cpu_seconds", s->dynamic.cpu_seconds);
	ee_json_num(j, "cpu_seconds_all_exits", s->all.cpu_seconds);
	ee_json_num(j, "speedup_measured", ratio(s->all.seconds, s->dynamic.seconds));
	ee_json_num(j, "speedup_predicted", ratio(out->macs_all, out->real.macs_mean));
	ee_json_begin(j, "simulated", '{');
	ee_json_num(j, "accuracy", out->sim.accuracy);
	ee_json_num(j, "macs_mean", out->sim.macs_mean);
	ee_json_begin(j, "exit_count", '[');
	for (x = 0; x < s->e; x++)
		ee_json_int(j, NULL, out->sim.exits[x]);
	ee_json_end(j);
	ee_json_int(j, "fallback_count", out->sim.exits[s->e]);
	ee_json_int(j, "agree", out->agree);
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

static void json_exits(struct ee_json *j, const struct session *s, const struct outcome *out)
{
	int x;

	ee_json_begin(j, "exits", '[');
	for (x = 0; x < s->e; x++) {
		struct stage d, f;

		stage_of(s, &s->dynamic, x, &d);
		stage_of(s, &s->all, x, &f);
		ee_json_begin(j, NULL, '{');
		ee_json_int(j, "exit", x + 1);
		ee_json_int(j, "count", out->real.exits[x]);
		ee_json_int(j, "entered", d.entered);
		ee_json_num(j, "macs_mean", ratio(d.macs, (double)d.entered));
		ee_json_num(j, "seconds", s->dynamic.stage_seconds[x]);
		ee_json_num(j, "seconds_all_exits", s->all.stage_seconds[x]);
		ee_json_num(j, "cpu_seconds", 1e-9 * (double)d.ch[EE_CH_VIRT]);
		ee_json_num(j, "gflops", ratio(2e-9 * d.macs, s->dynamic.stage_seconds[x]));
		json_events(j, "events", &s->ctr, d.ch);
		json_events(j, "events_all_exits", &s->ctr, f.ch);
		ee_json_end(j);
	}
	ee_json_end(j);
	ee_json_begin(j, "fallback", '{');
	ee_json_int(j, "count", out->real.exits[s->e]);
	ee_json_end(j);
}

static void json_layers(struct ee_json *j, const struct session *s)
{
	const struct ee_counts *a = &s->all.counts, *d = &s->dynamic.counts;
	int i;

	ee_json_begin(j, "layers", '[');
	for (i = 0; i < a->nnodes; i++) {
		const struct ee_node *nd = &s->net.model.nodes[i];
		const long long *ch = a->v + (size_t)i * a->nch;

		ee_json_begin(j, NULL, '{');
		ee_json_str(j, "name", layer_name(nd));
		ee_json_str(j, "kind", nd->layer->ops->kind);
		ee_json_int(j, "exit", nd->exit);
		ee_json_bool(j, "head", nd->head);
		ee_json_int(j, "samples", a->samples[i]);
		ee_json_num(j, "macs", a->macs[i]);
		ee_json_num(j, "seconds", 1e-9 * (double)ch[EE_CH_REAL]);
		ee_json_num(j, "cpu_seconds", 1e-9 * (double)ch[EE_CH_VIRT]);
		ee_json_num(j, "gflops", ratio(2 * a->macs[i], (double)ch[EE_CH_REAL]));
		json_events(j, "events", &s->ctr, ch);
		ee_json_num(j, "macs_dynamic", d->macs[i]);
		ee_json_num(j, "seconds_dynamic", 1e-9 * (double)d->v[(size_t)i * d->nch + EE_CH_REAL]);
		ee_json_end(j);
	}
	ee_json_end(j);
}

static void print_json(const struct session *s, const struct outcome *out, const char *ckpt)
{
	struct ee_json j;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	json_head(&j, s, out, ckpt);
	json_counters(&j, &s->ctr, s->hooked);
	json_exits(&j, s, out);
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

static void warn_counters(const struct ee_counters *c, int from)
{
	int i;

	for (i = from; i < c->nwarn; i++)
		fprintf(stderr, "eeprof: warning: %s\n", c->warn[i]);
}

/* Per-run memory once the model and the sample count are known. */
static int allocate(struct session *s, struct ee_err *err)
{
	bool ensemble = s->rule.fallback == EE_FALLBACK_ENSEMBLE;
	int rc, i;

	if ((rc = ee_trace_alloc(&s->full, s->count, s->e, s->k, ensemble, 0, NULL, 0, err)) < 0 ||
	    (rc = ee_trace_alloc(&s->dyn, s->count, s->e, s->k, ensemble, 0, NULL, 0, err)) < 0 ||
	    (rc = ee_counts_init(&s->all.counts, s->net.model.nnodes, s->ctr.nch, err)) < 0 ||
	    (rc = ee_counts_init(&s->dynamic.counts, s->net.model.nnodes, s->ctr.nch, err)) < 0)
		return rc;
	s->taken = calloc((size_t)s->count, sizeof(*s->taken));
	s->macs = calloc((size_t)s->count, sizeof(*s->macs));
	s->prob = malloc((size_t)s->run.nlanes * s->k * sizeof(*s->prob));
	s->lt = calloc((size_t)s->net.model.nnodes + 1, sizeof(*s->lt));
	if (!s->taken || !s->macs || !s->prob || !s->lt)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	for (i = 0; i < s->count; i++) {
		s->full.index[i] = s->dyn.index[i] = s->o->offset + i;
		s->full.label[i] = s->dyn.label[i] = s->ds.labels[s->o->offset + i];
	}
	return EE_OK;
}

static void release(struct session *s)
{
	ee_trace_release(&s->full);
	ee_trace_release(&s->dyn);
	ee_counts_release(&s->all.counts);
	ee_counts_release(&s->dynamic.counts);
	free(s->taken);
	free(s->macs);
	free(s->prob);
	free(s->lt);
}

/* Counters attached to the opened run, rule parsed, memory in place. */
static int prepare(struct session *s, struct ee_err *err)
{
	const char *spec = s->o->counters ? s->o->counters : "none";
	bool off = !strcmp(spec, "off");
	int rc;

	s->e = s->net.model.nexits;
	s->k = s->net.ck.num_classes;
	if (s->ds.num_classes > s->k)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %d classes but the model "
				  "predicts %d", s->o->data, s->ds.num_classes, s->k);
	if ((rc = parse_rule(s->o, s->e, &s->rule, err)) < 0 ||
	    (rc = ee_counters_open(&s->ctr, off ? "none" : spec, err)) < 0)
		return rc;
	warn_counters(&s->ctr, 0);
	if (!off && (rc = ee_counters_attach(&s->ctr, &s->run, err)) < 0)
		return rc;
	s->hooked = !off;
	if (s->o->timeline) { /* after the counters: it calls their hooks */
		if ((rc = ee_timeline_attach(&s->tl, &s->run, err)) < 0)
			return rc;
		ee_timeline_pause(&s->tl);
	}
	return allocate(s, err);
}

static int run_model(const char *ckpt, struct session *s, struct ee_err *err)
{
	struct outcome out;
	int rc, nwarn;

	if ((rc = prepare(s, err)) == EE_OK)
		rc = run_batches(s, err);
	if (s->o->timeline) {
		char name[300];
		const char *names[1] = { name };
		const struct ee_timeline *tls[1] = { &s->tl };

		ee_timeline_detach(&s->tl, &s->run);
		snprintf(name, sizeof(name), "eeprof run %s (real early exit)", ckpt);
		if (rc == EE_OK)
			rc = ee_timeline_write(tls, names, 1, s->o->timeline, err);
		ee_timeline_release(&s->tl);
	}
	nwarn = s->ctr.nwarn;
	ee_counters_detach(&s->ctr);
	warn_counters(&s->ctr, nwarn);
	if (rc < 0)
		return rc;
	layer_times(s);
	outcome(s, &out);
	if (s->o->json) {
		print_json(s, &out, ckpt);
		return s->o->plot ? save_plot(s, ckpt, err) : EE_OK;
	}
	print_summary(s, &out);
	print_exits(s, &out);
	print_events(s);
	if (s->o->layers)
		print_layers(s);
	return s->o->plot ? save_plot(s, ckpt, err) : EE_OK;
}

static int run_checkpoint(const char *ckpt, const struct run_opts *o, struct ee_err *err)
{
	struct session s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	if ((rc = ee_dataset_open(&s.ds, o->data, err)) < 0)
		return rc;
	if (o->offset >= s.ds.n) {
		rc = ee_err_set(err, EE_ERR_USAGE, "--offset %d selects no samples of '%s' (%d "
				"samples)", o->offset, o->data, s.ds.n);
	} else {
		s.count = o->limit > 0 && o->limit < s.ds.n - o->offset ? o->limit :
									 s.ds.n - o->offset;
		rc = ee_cli_open(ckpt, s.count < o->batch ? s.count : o->batch, false, &s.net,
				 &s.run, err);
		if (rc == EE_OK) {
			rc = run_model(ckpt, &s, err);
			release(&s);
			ee_counters_close(&s.ctr);
			ee_cli_close(&s.net, &s.run);
		}
	}
	ee_dataset_release(&s.ds);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .batch = 64, .threads = 1 };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		EE_OPT_RULE(&o.rule, "one threshold, or one per exit (SCAN style; required)"),
		EE_OPT_COUNTERS(&o.counters),
		{ "layers", EE_OPT_FLAG, &o.layers, NULL, "also print the per-layer table", 0, 0 },
		{ "timeline", EE_OPT_STR, &o.timeline, "<file.json>", "per-layer timeline of the "
		  "dynamic pass (Chrome trace events: the micro-batch shrinks as samples leave)", 0,
		  0 },
		{ "plot", EE_OPT_STR, &o.plot, "<file>", "plot time against MACs per layer (PNG, or "
		  "SVG for a name ending in .svg)", 0, 0 },
		EE_OPT_JSON(&o.json),
		EE_OPT_LIMIT(&o.limit),
		EE_OPT_OFFSET(&o.offset),
		EE_OPT_BATCH(&o.batch),
		EE_OPT_THREADS(&o.threads),
		{ 0 },
	};
	struct ee_err err = { 0 };
	const char *pos[1];
	int npos, rc;

	rc = ee_parse(argc, argv, synopsis, opts, 1, 1, pos, &npos, &err);
	if (rc)
		return rc > 0 ? EE_EXIT_OK : ee_fail(&err);
	if (!o.data || (!o.rule.threshold && !o.rule.thresholds))
		return ee_fail_usage(synopsis, "--data and --threshold are required");
	ee_cli_threads(o.threads);
	rc = run_checkpoint(pos[0], &o, &err);
	return rc < 0 ? ee_fail(&err) : EE_EXIT_OK;
}
