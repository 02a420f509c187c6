/*
 * realexit.h - real early exit, measured: the engine of `eeprof run`.
 *
 * Every batch of the selected samples is run twice on the same run (same memory),
 * the order alternating from batch to batch:
 *  - the all-exits pass (ee_run_forward): every sample to the deepest exit, every
 *    head computed; its per-exit softmax statistics and MACs form an in-memory trace
 *    (full, filled as profiling fills one: rows.h) on which the rule is also
 *    simulated (ee_simulate), as `eeprof curve` would;
 *  - the dynamic pass (ee_run_forward_dynamic): after each exit the rule of
 *    reports/analysis.h decides, sample by sample (ee_rule_leaves on the exits seen
 *    so far), who leaves; those leave the batch, the rest are compacted and go on.
 *    Samples no exit lets go take the fallback (last, ensemble or best exit).
 * Batches come from the one inference loop (loop.h, ee_loop_inputs). Both passes are
 * timed (wall time of the forward calls, decisions included, input preparation
 * excluded) and counted per node and per exit stage (counters.h: PAPI real and CPU
 * time always, the events that can be counted). The outcome: accuracy, where samples
 * left, MACs executed, and the simulation on the all-exits pass, checked against the
 * dynamic pass sample by sample (agree). The measured speedup is all.seconds /
 * dynamic.seconds; the one the MACs predict macs_all / real.macs_mean.
 *
 * Both passes run o.warmup untimed times, then o.repeat timed times over every sample;
 * all.seconds and dynamic.seconds are the medians (all_spread, dyn_spread: min, max,
 * quartiles), stage, layer and counter figures those of the last run.
 *
 * With o.ranks > 1 it opens and runs shard o.rank of the selection only, its traces then
 * carrying the identity that merging checks; plugins/realexit_dist.h brings the shards
 * of an MPI job together and makes the figures again (ee_realexit_results).
 *
 * Stage and layer times are summed over lanes: with several threads running
 * micro-batches side by side they add up to more than the wall time. Without
 * measuring (measure false: the plain run of the overhead benchmark) no layer is
 * hooked and layer figures are 0.
 *
 *     struct ee_realexit re;
 *     struct ee_realexit_opts o = { .batch = 64 };    // every sample
 *     if (ee_realexit_open(&re, "m.h5", "fashion-mnist:test", &o, &err) < 0) ...;
 *     ee_rule_global(&rule, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.9); // re.e exits
 *     ee_counters_open(&c, "PAPI_TOT_INS,PAPI_TOT_CYC", &err);        // print c.warn[]
 *     if (ee_realexit_run(&re, &rule, &c, true, &err) == EE_OK)
 *             printf("%.4f at %g MACs\n", re.real.accuracy, re.real.macs_mean);
 *     ee_realexit_release(&re);
 *     ee_counters_close(&c);
 */
#ifndef EE_REALEXIT_H
#define EE_REALEXIT_H

#include <stdbool.h>

#include "plugins/counters.h"
#include "plugins/dataset.h"
#include "plugins/net.h"
#include "reports/analysis.h"
#include "reports/layertime.h"
#include "reports/spread.h"
#include "reports/timeline.h"
#include "reports/trace.h"

struct ee_realexit_opts {
	int offset, limit; /* samples [offset, offset + limit); limit 0 = to the end */
	int batch;         /* samples per forward pass (default 64) */
	int repeat;        /* timed runs over every sample (0: 1); seconds are their median */
	int warmup;        /* untimed runs first */
	/* ranks > 1: only shard rank of those samples split in ranks (plugins/dist.h,
	 * ee_dist_shard), which may hold none; 0, 0 or 0, 1: all of them */
	int rank, ranks;
	/* called after each batch with samples done and total (progress bars); may be NULL */
	void (*progress)(void *ctx, long done, long total);
	void *progress_ctx;
	/* (optional, the caller's) records every layer of the dynamic pass of the last
	 * timed run (reports/timeline.h): attached for ee_realexit_run after the counters;
	 * the caller writes it and releases it */
	struct ee_timeline *timeline;
	/* image files (imagefolder:, imagelist:): resize and filter; zero: the defaults */
	struct ee_imgprep prep;
	/* --skip-bad: image files that cannot be decoded are left out (each is decoded once
	 * more at open, ee_dataset_keep_good) and counted in ee_realexit.skipped */
	bool skip_bad;
};

/* What one kind of pass measured over all batches. */
struct ee_realexit_pass {
	double seconds;                     /* wall time of the forward calls */
	double cpu_seconds;                 /* process CPU time of the forward calls */
	double stage_seconds[EE_MAX_EXITS]; /* per stage, summed over lanes */
	struct ee_counts counts;            /* per node */
};

struct ee_realexit {
	/* ee_realexit_open */
	struct ee_dataset ds;
	struct ee_net net;
	struct ee_run run;
	struct ee_realexit_opts o;
	struct ee_skipped skipped; /* o.skip_bad: the files left out */
	int count, e, k;      /* samples, exits, classes */
	int first;            /* dataset position of the first sample (o.offset, or that of
				 the shard) */
	char *checkpoint;     /* the path opened */
	double opened;        /* ee_now() when ee_realexit_open began */
	/* ee_realexit_run */
	struct ee_exit_rule rule;
	struct ee_counters *ctr; /* borrowed */
	bool hooked;          /* ctr measured the nodes */
	struct ee_trace full; /* the all-exits pass, one row per sample */
	struct ee_trace dyn;  /* the exits the dynamic pass saw, per sample */
	int *taken;           /* [count] where the rule let each sample go (e: fallback) */
	double *macs;         /* [count] MACs each executed in the dynamic pass */
	struct ee_realexit_pass all, dynamic; /* seconds: the median of the runs; the rest:
					       * the last run */
	double all_runs[EE_REPEAT_MAX], dyn_runs[EE_REPEAT_MAX]; /* seconds of each timed run */
	struct ee_spread all_spread, dyn_spread;
	struct ee_layer_time *lt; /* [nodes] the all-exits pass per sample */
	/* the outcome */
	struct ee_dyn_result real, sim; /* the dynamic pass; the rule simulated on full */
	long agree;           /* samples with the simulated exit and prediction */
	double macs_all;      /* mean cascade MACs of the deepest exit (all-exits pass) */
	int ranks;            /* processes that ran it (plugins/realexit_dist.h); 0: not
				 recorded */
	double *rank_seconds; /* [ranks] each one's wall time from its open */
	/* scratch */
	float *prob;          /* [lanes][k] softmax */
	double *ens;          /* [k] the ensemble's sums */
	int row0;             /* row of the current batch's first sample */
	bool record;          /* o.timeline records this run's dynamic pass */
};

/*
 * Opens data and the checkpoint and prepares a run for the samples o selects (o.rank's
 * shard of them with o.ranks > 1, count then possibly 0): e and k are then known (for the
 * rule). EE_ERR_USAGE if o selects no sample, EE_ERR_INPUT for a bad checkpoint or
 * dataset, or one with more classes than the model predicts. On failure nothing is left
 * to release.
 */
int ee_realexit_open(struct ee_realexit *re, const char *checkpoint, const char *data,
		     const struct ee_realexit_opts *o, struct ee_err *err);
/*
 * Runs every batch through both passes under rule (thresholds for re->e exits). c is
 * an opened counter set: attached to the run for the passes when measure, else only
 * sized by (its warnings, those of detaching included, stay in c). Fills everything
 * from full to macs_all.
 */
int ee_realexit_run(struct ee_realexit *re, const struct ee_exit_rule *rule,
		    struct ee_counters *c, bool measure, struct ee_err *err);
/*
 * The figures ee_realexit_run derives from what it measured, made again: the spreads and
 * medians of all_runs and dyn_runs, lt, real, sim, agree and macs_all (from full, dyn,
 * taken, macs and the counts). For a run whose samples were put together afterwards
 * (plugins/realexit_dist.h).
 */
void ee_realexit_results(struct ee_realexit *re);
void ee_realexit_release(struct ee_realexit *re);

#define EE_REALEXIT_SPREAD_MAX 0.10  /* (max - min) / median of a pass's runs */
#define EE_REALEXIT_SPEEDUP_GAP 0.25 /* |measured / predicted - 1| */
#define EE_REALEXIT_WARN_MAX 3

/*
 * After ee_realexit_run: what makes its timings doubtful, one sentence each with the
 * likely cause, into warn[0..return): a pass whose runs spread more than
 * EE_REALEXIT_SPREAD_MAX (load from other processes, or runs too short to time), and a
 * measured speedup more than EE_REALEXIT_SPEEDUP_GAP away from the predicted one.
 */
int ee_realexit_warnings(const struct ee_realexit *re, char (*warn)[256]);

/* A node's name, or its kind when it has none. */
const char *ee_realexit_node_name(const struct ee_node *nd);

#endif
