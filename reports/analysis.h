/*
 * analysis.h - what a trace says: per-exit accuracy, dynamic exit, budgets, gates.
 *
 * Everything here is a pure function of one or two traces (trace.h), so results
 * are exactly reproducible and testable on hand-made traces.
 *
 * Dynamic exit. A sample visits exits 1, 2, ... and stops at the first exit k
 * where the policy is confident:
 *   maxprob   maxprob[k] >  thr[k]   (strict, as SCAN's inference.py)
 *   entropy   entropy[k] <  thr[k]
 *   margin    margin[k]  >  thr[k]
 *   patience  pred[k] equals the predictions of the thr[0] exits before it
 *             (PABEE: k >= thr[0] + 1 and pred[k-thr[0]] == ... == pred[k])
 * and is predicted as pred[k] at cost macs_cascade[k] (it ran every earlier head).
 * If no exit is confident the fallback decides, at cost macs_cascade[E] (all ran):
 *   last      pred[E]
 *   ensemble  ens_pred (mean of the exits' softmax)
 *   best      pred of the most confident exit under the policy (SDN); maxprob for
 *             patience; ties go to the shallowest exit
 *
 * Confidences are compared in float32, as the trace stores them and as PyTorch
 * compares a float32 tensor with a Python number: a threshold 0.9 means the float
 * nearest 0.9, so a sample whose maxprob is that float does not exit (strict).
 * Patience thresholds are whole numbers (0 exits everything at exit 1).
 * Means over no samples (n = 0, an empty class or exit) are NAN.
 *
 *     struct ee_exit_rule r;
 *     struct ee_dyn_result res;
 *     ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.9);
 *     ee_simulate(&trace, &r, &res, NULL);   // res.accuracy, res.macs_mean, res.exits[]
 *
 *     double thr[101];                       // a whole curve, and its 50 % budget point
 *     struct ee_dyn_result curve[101];
 *     int n = ee_sweep_grid(&trace, EE_POLICY_ENTROPY, thr, 101);
 *     ee_sweep(&trace, EE_POLICY_ENTROPY, EE_FALLBACK_ENSEMBLE, thr, n, curve);
 *     double acc = ee_accuracy_within(curve, n, 0.5 * deepest_exit_macs);
 */
#ifndef EE_ANALYSIS_H
#define EE_ANALYSIS_H

#include "trace.h"

enum ee_policy {
	EE_POLICY_MAXPROB,
	EE_POLICY_ENTROPY,
	EE_POLICY_MARGIN,
	EE_POLICY_PATIENCE,
};

enum ee_fallback {
	EE_FALLBACK_LAST,
	EE_FALLBACK_ENSEMBLE,
	EE_FALLBACK_BEST,
};

struct ee_exit_rule {
	enum ee_policy policy;
	enum ee_fallback fallback;
	double thr[EE_MAX_EXITS]; /* per exit; a global threshold repeats one value */
};

struct ee_dyn_result {
	double threshold;               /* the global threshold (sweeps), else thr[0] */
	double accuracy;                /* fraction correct */
	double macs_mean;               /* mean executed (cascade) MACs per sample */
	long exits[EE_MAX_EXITS + 1];   /* samples leaving at exit k; [E] = fallback */
};

/* Names and parsing for the command line ("maxprob", "ensemble"); -1 if unknown. */
const char *ee_policy_name(enum ee_policy p);
const char *ee_fallback_name(enum ee_fallback f);
int ee_policy_parse(const char *s);
int ee_fallback_parse(const char *s);

/* A rule with one global threshold (every exit gets thr). */
void ee_rule_global(struct ee_exit_rule *r, enum ee_policy p, enum ee_fallback f, double thr);
/* Sets r's policy and fallback from their names (NULL: maxprob, last); EE_ERR_USAGE
 * naming the choices if one is unknown. Thresholds are left as they were. */
int ee_rule_names(struct ee_exit_rule *r, const char *policy, const char *fallback,
		  struct ee_err *err);
/* Parses "t" or "t1,t2,...,tE" (at most EE_MAX_EXITS finite numbers) into v[*count]. */
int ee_thresholds_parse(const char *s, double *v, int *count, struct ee_err *err);
/* Sets r->thr for a model of nexits exits from count values: one (global, repeated)
 * or one per exit (SCAN style); patience takes one whole number >= 0. EE_ERR_USAGE
 * otherwise. Call after the policy is set. */
int ee_rule_thresholds(struct ee_exit_rule *r, const double *v, int count, int nexits,
		       struct ee_err *err);

/* Per-exit accuracy and mean MACs (standalone and cascade), and the ensemble's accuracy. */
struct ee_exit_stats {
	double accuracy[EE_MAX_EXITS];
	double macs_mean[EE_MAX_EXITS];
	double cascade_mean[EE_MAX_EXITS];
	double ensemble_accuracy;
	double ensemble_macs;           /* mean cascade MACs of the last exit: every exit ran */
};
void ee_exit_stats(const struct ee_trace *t, struct ee_exit_stats *s);

/* Applies a rule to every sample; taken (optional, [n]) gets the exit index 0..E-1,
 * or E for the fallback. */
void ee_simulate(const struct ee_trace *t, const struct ee_exit_rule *r, struct ee_dyn_result *res,
		 int *taken);

/*
 * The rule one sample at a time, for real early exit (eeprof run): true if sample i
 * of t leaves at exit k (0-based), which reads only exits <= k of row i, so a run can
 * ask before the later exits exist; and the class it predicts leaving at exit k
 * (k = E: the fallback, which reads every exit, and ens_pred for the ensemble).
 * ee_simulate() is exactly these two applied to every row.
 */
bool ee_rule_leaves(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k);
int32_t ee_rule_predict(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k);

/* The default threshold grid of a policy: maxprob/margin 0..1 in steps of 0.01 (101),
 * entropy 0..ln K (101 points), patience 1..E-1. Returns the count written (<= max). */
int ee_sweep_grid(const struct ee_trace *t, enum ee_policy p, double *thr, int max);
/* One result per global threshold. */
void ee_sweep(const struct ee_trace *t, enum ee_policy p, enum ee_fallback f, const double *thr,
	      int count, struct ee_dyn_result *res);
/* Best accuracy among res[0..count) whose macs_mean <= budget; NAN if none fits. */
double ee_accuracy_within(const struct ee_dyn_result *res, int count, double budget);

/*
 * MSDNet's budgeted thresholds: for p = 1..40, exit shares proportional to (p/20)^k;
 * per exit the threshold is the confidence of the last sample that share admits
 * among those still running on val (the last exit takes all). The candidate with
 * the best val accuracy whose val mean MACs <= budget is applied to test.
 * EE_ERR_INPUT if no candidate fits (the budget is below the cheapest exit).
 *
 * Exactly: exit k (k = 1..E) admits floor(n_val * s_k + 1e-9) samples, s_k =
 * (p/20)^k / sum_j (p/20)^j, counted on the whole val set as MSDNet does. The running
 * samples are ranked by confidence (ties by row); the threshold is the float just
 * below the admitted last one's confidence (just above, for entropy), so that the
 * strict rule admits it and every tie with it, like MSDNet's >=. A share of 0 admits
 * none (threshold +inf, entropy -inf); a share of all that still run, or more, admits
 * all (-inf, entropy +inf), as the last exit always does. Fallback: last. Ties in val
 * accuracy go to the lower val MACs, then to the smaller p. Patience has no
 * confidence to rank: its candidates are the patience values 0..E-1. Refuses (EE_ERR_
 * INPUT) traces of different checkpoints (ckpt_sha256), exits or classes, or no rows.
 */
int ee_budget(const struct ee_trace *val, const struct ee_trace *test, enum ee_policy p,
	      double budget, struct ee_exit_rule *rule, struct ee_dyn_result *on_val,
	      struct ee_dyn_result *on_test, struct ee_err *err);

/* Multi-scale (open-gate) ratio of one EMG layer over a trace. */
#define EE_GATE_BINS 10
struct ee_gate_stats {
	double mean, std;               /* of the per-sample open fraction */
	long hist[EE_GATE_BINS];        /* samples per open-fraction bin [i/10, (i+1)/10) (1.0 in the last) */
	double by_exit[EE_MAX_EXITS + 1]; /* mean open fraction of samples taking exit k ([E]: fallback) */
	long by_exit_n[EE_MAX_EXITS + 1];
	double *by_class;               /* [num_classes] mean open fraction per label (caller frees) */
	int always_open, never_open;    /* channels open for every / no sample */
	int *always, *never;            /* their indices (caller frees) */
	double ring_macs_never;         /* MACs per sample a plain 3x3 would drop from max: 16 HW each */
	double ring_macs_always;        /* MACs per sample a plain 5x5 would add to min (executed
					 * unchanged: they always run; only the gate work goes) */
};
/*
 * Statistics of EMG layer g (0..G-1). taken: exits from ee_simulate (NULL: by_exit left
 * zero). std is over samples (divided by n). by_exit[k] and by_class[c] are NAN where
 * no sample falls (by_exit_n[k] = 0); labels outside 0..K-1 are left out of by_class.
 * EE_ERR_USAGE for a bad g, EE_ERR_INPUT for a trace without rows or a layer without
 * channels, EE_ERR_NOMEM. On failure nothing is left to release.
 */
int ee_gate_stats(const struct ee_trace *t, int g, const int *taken, struct ee_gate_stats *s,
		  struct ee_err *err);
void ee_gate_stats_release(struct ee_gate_stats *s);

#endif
