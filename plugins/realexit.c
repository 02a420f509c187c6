/*
 * realexit.c - real early exit, measured; see realexit.h. The batches come from
 * loop.c, the rows of the all-exits pass are filled as profiling fills them (rows.c),
 * the rule is reports/analysis.c's.
 */
#include "realexit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/exec.h"
#include "core/sha256.h"
#include "core/threads.h"
#include "plugins/dist.h"
#include "plugins/loop.h"
#include "plugins/rows.h"
#include "plugins/sde.h"

/* ---------------------------------------------------------------- the two passes */

/* Exit decision of the dynamic pass (see ee_exit_fn): statistics of exit x into the
 * rows of the samples, then the rule on the exits seen so far. */
static void decide(void *ctx, int x, const struct ee_tensor *logits, const int *index, int n,
		   uint8_t *leave)
{
	struct ee_realexit *re = ctx;
	float *p = re->prob + (size_t)ee_thread_id() * re->k;
	int j;

	for (j = 0; j < n; j++) {
		int row = re->row0 + index[j];

		ee_rows_exit(&re->dyn, row, x, ee_tensor_sample(logits, j), p);
		leave[j] = ee_rule_leaves(&re->dyn, &re->rule, row, x);
		re->taken[row] = leave[j] ? x : re->e;
	}
}

/* When a forward began: wall and process CPU clocks. */
struct clocks {
	double wall;
	clock_t cpu;
};

static struct clocks pass_begin(struct ee_realexit *re)
{
	struct clocks c;

	memset(re->run.stage_seconds, 0, sizeof(re->run.stage_seconds));
	c.cpu = clock();
	c.wall = ee_now();
	return c;
}

/* Time, stage times, counters and MACs of the forward that began at c. */
static void pass_end(struct ee_realexit *re, struct ee_realexit_pass *p, struct clocks c)
{
	int x;

	p->seconds += ee_now() - c.wall;
	p->cpu_seconds += (double)(clock() - c.cpu) / CLOCKS_PER_SEC;
	for (x = 0; x < re->e; x++)
		p->stage_seconds[x] += re->run.stage_seconds[x];
	ee_counters_collect(re->ctr, &p->counts);
	ee_counts_add_macs(&p->counts, &re->run);
	ee_sde_record(&re->run);
}

static void all_exits(struct ee_realexit *re, const struct ee_tensor *x)
{
	struct clocks c = pass_begin(re);
	int i;

	ee_run_forward(&re->run, x);
	pass_end(re, &re->all, c);
	for (i = 0; i < re->run.n; i++)
		ee_rows_sample(&re->full, re->row0 + i, &re->run, i, re->prob, re->ens);
}

static int dynamic(struct ee_realexit *re, const struct ee_tensor *x, struct ee_err *err)
{
	const struct ee_run *r = &re->run;
	struct clocks c = pass_begin(re);
	int i, rc;

	if (re->record)
		ee_timeline_resume(re->o.timeline);
	rc = ee_run_forward_dynamic(&re->run, x, decide, re, err);
	if (re->record) {
		ee_timeline_batch(re->o.timeline, re->first + re->row0, x->n);
		ee_timeline_pause(re->o.timeline);
	}
	if (rc < 0)
		return rc;
	pass_end(re, &re->dynamic, c);
	for (i = 0; i < r->n; i++) {
		int row = re->row0 + i;

		re->macs[row] = ee_run_sample_macs(r, r->taken[i], i, true);
		if (re->taken[row] == re->e && re->dyn.softmax)
			ee_rows_ensemble(&re->dyn, row);
	}
	return EE_OK;
}

/* One batch through both passes, the first of every two batches all-exits last. */
static int both_passes(void *ctx, const struct ee_tensor *x, int first, struct ee_err *err)
{
	struct ee_realexit *re = ctx;
	int b, rc = EE_OK;

	re->row0 = first - re->first;
	b = re->row0 / re->run.max_batch;
	if (b % 2)
		rc = dynamic(re, x, err);
	if (rc == EE_OK)
		all_exits(re, x);
	if (rc == EE_OK && b % 2 == 0)
		rc = dynamic(re, x, err);
	if (rc == EE_OK && re->o.progress)
		re->o.progress(re->o.progress_ctx, re->row0 + x->n, re->count);
	return rc;
}

/* ---------------------------------------------------------------- results */

static void outcome(struct ee_realexit *re)
{
	int *sim_taken = malloc(((size_t)re->count + 1) * sizeof(int));
	long correct = 0;
	double macs = 0, all = 0;
	int i, e = re->e;

	memset(&re->real, 0, sizeof(re->real));
	re->agree = 0;
	ee_simulate(&re->full, &re->rule, &re->sim, sim_taken);
	for (i = 0; i < re->count; i++) {
		int32_t pred = ee_rule_predict(&re->dyn, &re->rule, i, re->taken[i]);

		re->real.exits[re->taken[i]]++;
		correct += pred == re->dyn.label[i];
		macs += re->macs[i];
		all += re->full.macs_cascade[(size_t)i * e + e - 1];
		re->agree += sim_taken && sim_taken[i] == re->taken[i] &&
			     pred == ee_rule_predict(&re->full, &re->rule, i, sim_taken[i]);
	}
	re->real.threshold = re->rule.thr[0];
	re->real.accuracy = (double)correct / re->count;
	re->real.macs_mean = macs / re->count;
	re->macs_all = all / re->count;
	free(sim_taken);
}

const char *ee_realexit_node_name(const struct ee_node *nd)
{
	return nd->layer->name && nd->layer->name[0] ? nd->layer->name : nd->layer->ops->kind;
}

/* a / b, NAN when b is 0. */
static double ratio(double a, double b)
{
	return b ? a / b : NAN;
}

/* The nodes of the all-exits pass per sample (reports/layertime.h) into re->lt. */
static void layer_times(struct ee_realexit *re)
{
	const struct ee_counts *a = &re->all.counts;
	int i;

	for (i = 0; i < a->nnodes; i++) {
		double real = 1e-9 * (double)a->v[(size_t)i * a->nch + EE_CH_REAL];

		re->lt[i].name = ee_realexit_node_name(&re->net.model.nodes[i]);
		re->lt[i].exit = re->net.model.nodes[i].exit;
		re->lt[i].macs = ratio(a->macs[i], (double)a->samples[i]);
		re->lt[i].seconds = ratio(real, (double)a->samples[i]);
	}
}

/* ---------------------------------------------------------------- setup */

int ee_realexit_open(struct ee_realexit *re, const char *checkpoint, const char *data,
		     const struct ee_realexit_opts *o, struct ee_err *err)
{
	int batch, rc;

	memset(re, 0, sizeof(*re));
	re->opened = ee_now();
	re->o = *o;
	batch = o->batch > 0 ? o->batch : 64;
	if (!(re->checkpoint = strdup(checkpoint)))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = ee_dataset_open(&re->ds, data, err)) < 0) {
		free(re->checkpoint);
		return rc;
	}
	re->ds.prep = o->prep;
	rc = ee_loop_select(&re->ds, o->offset, o->limit, &re->count, err);
	if (rc == EE_OK && o->skip_bad) /* every rank checks the whole selection alike */
		rc = ee_dataset_keep_good(&re->ds, &re->o.offset, &re->count, &re->skipped, err);
	re->first = re->o.offset;
	if (rc == EE_OK && o->ranks > 1) { /* this rank's shard of the selection */
		int first;

		ee_dist_shard(re->count, batch, o->rank, o->ranks, &first, &re->count);
		re->first += first;
	}
	if (rc == EE_OK && (rc = ee_net_load(&re->net, checkpoint, err)) == EE_OK) {
		rc = ee_run_init(&re->run, &re->net.model,
				 re->count < batch ? (re->count ? re->count : 1) : batch, false, err);
		if (rc < 0)
			ee_net_release(&re->net);
	}
	if (rc < 0) {
		ee_dataset_release(&re->ds);
		free(re->checkpoint);
		return rc;
	}
	re->e = re->net.model.nexits;
	re->k = re->net.ck.num_classes;
	if ((rc = ee_loop_check_classes(&re->net, &re->ds, err)) < 0)
		ee_realexit_release(re);
	return rc;
}

/* Traces that travel to another rank (plugins/trace_dist.h) carry the identity that
 * merging checks: the checkpoint's SHA-256, its architecture, the data. */
static int identify(struct ee_realexit *re, struct ee_err *err)
{
	int rc = ee_sha256_file(re->checkpoint, re->full.ckpt_sha256, err);

	if (rc < 0)
		return rc;
	ee_rows_identity(&re->full, &re->net, re->checkpoint, re->ds.spec, &re->ds);
	ee_rows_identity(&re->dyn, &re->net, re->checkpoint, re->ds.spec, &re->ds);
	memcpy(re->dyn.ckpt_sha256, re->full.ckpt_sha256, sizeof(re->dyn.ckpt_sha256));
	return EE_OK;
}

/* Per-run memory once the model, the rule and the counters are known. */
static int allocate(struct ee_realexit *re, struct ee_err *err)
{
	bool ensemble = re->rule.fallback == EE_FALLBACK_ENSEMBLE;
	int nodes = re->net.model.nnodes, rc, i;

	if ((rc = ee_trace_alloc(&re->full, re->count, re->e, re->k, ensemble, 0, NULL, 0,
				 err)) < 0 ||
	    (rc = ee_trace_alloc(&re->dyn, re->count, re->e, re->k, ensemble, 0, NULL, 0, err)) < 0 ||
	    (rc = ee_counts_init(&re->all.counts, nodes, re->ctr->nch, err)) < 0 ||
	    (rc = ee_counts_init(&re->dynamic.counts, nodes, re->ctr->nch, err)) < 0)
		return rc;
	re->taken = calloc((size_t)re->count + 1, sizeof(*re->taken));
	re->macs = calloc((size_t)re->count + 1, sizeof(*re->macs));
	re->prob = malloc((size_t)re->run.nlanes * re->k * sizeof(*re->prob));
	re->ens = malloc((size_t)re->k * sizeof(*re->ens));
	re->lt = calloc((size_t)nodes + 1, sizeof(*re->lt));
	if (!re->taken || !re->macs || !re->prob || !re->ens || !re->lt)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	for (i = 0; i < re->count; i++) {
		re->full.index[i] = re->dyn.index[i] = ee_dataset_position(&re->ds, re->first + i);
		re->full.label[i] = re->dyn.label[i] = re->ds.labels[re->first + i];
	}
	return re->o.ranks > 1 ? identify(re, err) : EE_OK;
}

/* Forgets what a pass measured (each run is measured afresh). */
static void pass_reset(struct ee_realexit_pass *p)
{
	p->seconds = p->cpu_seconds = 0;
	memset(p->stage_seconds, 0, sizeof(p->stage_seconds));
	ee_counts_clear(&p->counts);
}

/* Timed runs of a pass. */
static int repeats(const struct ee_realexit *re)
{
	int repeat = re->o.repeat > 0 ? re->o.repeat : 1;

	return repeat < EE_REPEAT_MAX ? repeat : EE_REPEAT_MAX;
}

/* o.warmup untimed runs, then o.repeat timed ones, their seconds into all_runs and
 * dyn_runs. */
static int runs(struct ee_realexit *re, struct ee_err *err)
{
	int repeat = repeats(re), r, rc = EE_OK;

	for (r = 0; rc == EE_OK && r < re->o.warmup + repeat; r++) {
		pass_reset(&re->all);
		pass_reset(&re->dynamic);
		re->record = re->o.timeline && r == re->o.warmup + repeat - 1;
		rc = ee_loop_inputs(&re->net, &re->ds, re->first, re->count, re->run.max_batch,
				    both_passes, re, err);
		if (r >= re->o.warmup) {
			re->all_runs[r - re->o.warmup] = re->all.seconds;
			re->dyn_runs[r - re->o.warmup] = re->dynamic.seconds;
		}
	}
	return rc;
}

void ee_realexit_results(struct ee_realexit *re)
{
	ee_spread_of(re->all_runs, repeats(re), &re->all_spread);
	ee_spread_of(re->dyn_runs, repeats(re), &re->dyn_spread);
	re->all.seconds = re->all_spread.median;
	re->dynamic.seconds = re->dyn_spread.median;
	if (re->count > 0) { /* a shard may have no sample */
		layer_times(re);
		outcome(re);
	}
}

int ee_realexit_run(struct ee_realexit *re, const struct ee_exit_rule *rule,
		    struct ee_counters *c, bool measure, struct ee_err *err)
{
	int rc = EE_OK;

	re->rule = *rule;
	re->ctr = c;
	if (measure && (rc = ee_counters_attach(c, &re->run, err)) == EE_OK)
		re->hooked = true;
	/* after the counters: the recorder calls their hooks */
	if (rc == EE_OK && re->o.timeline &&
	    (rc = ee_timeline_attach(re->o.timeline, &re->run, err)) == EE_OK)
		ee_timeline_pause(re->o.timeline);
	if (rc == EE_OK)
		rc = allocate(re, err);
	if (rc == EE_OK)
		rc = runs(re, err);
	if (re->o.timeline && re->o.timeline->run)
		ee_timeline_detach(re->o.timeline, &re->run);
	ee_counters_detach(c);
	if (rc == EE_OK)
		ee_realexit_results(re);
	return rc;
}

/* Why timings may be off: runs under SHORT_RUN seconds are too short to time, else the
 * likely cause is the machine's other load. */
#define SHORT_RUN 0.05

static void cause(const struct ee_spread *s, char *buf, size_t size)
{
	double load[1] = { -1 };

	if (s->median < SHORT_RUN)
		snprintf(buf, size, "too few samples (a run takes %.1f ms; use more samples or "
			 "--repeat)", 1e3 * s->median);
	else if (getloadavg(load, 1) == 1)
		snprintf(buf, size, "likely load from other processes (load average %.1f)", load[0]);
	else
		snprintf(buf, size, "likely load from other processes");
}

int ee_realexit_warnings(const struct ee_realexit *re, char (*warn)[256])
{
	const struct ee_spread *sp[2] = { &re->dyn_spread, &re->all_spread };
	static const char *const name[2] = { "dynamic", "all-exits" };
	double measured = ratio(re->all.seconds, re->dynamic.seconds);
	double predicted = ratio(re->macs_all, re->real.macs_mean), gap = measured / predicted - 1;
	char why[160];
	int n = 0, p;

	for (p = 0; p < 2; p++) {
		double rel = ee_spread_rel(sp[p]);

		if (!(rel > EE_REALEXIT_SPREAD_MAX))
			continue;
		cause(sp[p], why, sizeof(why));
		snprintf(warn[n++], 256, "the %s pass's %d runs spread %.0f%% (%.4g-%.4g s): %s",
			 name[p], sp[p]->n, 100 * rel, sp[p]->min, sp[p]->max, why);
	}
	if (fabs(gap) > EE_REALEXIT_SPEEDUP_GAP) {
		if (n)
			snprintf(why, sizeof(why), "the timing noise above");
		else if (re->dyn_spread.median < SHORT_RUN)
			cause(&re->dyn_spread, why, sizeof(why));
		else if (gap < 0)
			snprintf(why, sizeof(why), "the late exits run smaller, compacted batches, "
				 "where the kernels do less per second");
		else
			snprintf(why, sizeof(why), "the early layers cost more time per MAC than "
				 "the late ones");
		snprintf(warn[n++], 256, "measured speedup %.2fx is %+.0f%% off the %.2fx the MACs "
			 "predict: likely %s", measured, 100 * gap, predicted, why);
	}
	return n;
}

void ee_realexit_release(struct ee_realexit *re)
{
	ee_trace_release(&re->full);
	ee_trace_release(&re->dyn);
	ee_counts_release(&re->all.counts);
	ee_counts_release(&re->dynamic.counts);
	free(re->taken);
	free(re->macs);
	free(re->prob);
	free(re->ens);
	free(re->lt);
	free(re->rank_seconds);
	free(re->checkpoint);
	ee_run_release(&re->run);
	ee_net_release(&re->net);
	ee_dataset_release(&re->ds);
	memset(re, 0, sizeof(*re));
}
