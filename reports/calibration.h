/*
 * calibration.h - does an exit's confidence mean what it says: calibration error,
 * Brier score and temperature scaling per exit of a trace.
 *
 * The confidence of exit k for sample i is its max softmax (trace maxprob, or
 * max softmax(z / T) of the logits z at temperature T); the sample is correct when
 * the exit's prediction equals the label. Over the n samples:
 *
 *   ECE    15 equal-width bins over (0, 1]: bin b holds the confidences c with
 *          b/15 < c <= (b+1)/15 (c <= 0 goes to bin 0); ECE = sum_b n_b/n *
 *          |acc_b - conf_b| (acc_b: fraction correct, conf_b: mean confidence of the
 *          bin), as Guo et al. (2017) compute it.
 *   adaptive ECE  the same sum over 15 bins of equal count: the samples sorted by
 *          confidence (ties by row), bin b holds ranks [floor(b n / 15),
 *          floor((b+1) n / 15)) (Nixon et al. 2019; empty bins when n < 15).
 *   MCE    max_b |acc_b - conf_b| over the non-empty equal-width bins.
 *   Brier  mean over samples of sum_c (p_c - [c = label])^2 over the K classes (the
 *          multi-class Brier score, 0..2); needs the exit's probabilities: the
 *          trace's logits or softmax (NAN without them).
 *   NLL    mean -log p_label (natural log), from the logits (NAN without them).
 *
 * Temperature scaling (Guo et al.): one temperature T per exit, the one minimising
 * the NLL of softmax(z / T) on a validation trace. NLL is convex in 1/T; it is
 * minimised by golden-section search over log T in [EE_TEMP_MIN, EE_TEMP_MAX] (a
 * bound is returned when the minimum lies beyond it, e.g. separable data). All sums
 * are in double over rows in order: the same trace gives the same bits.
 *
 *     struct ee_calibration c;
 *     double T;
 *     ee_temperature_fit(&val, k, &T, &err);          // needs val.logits
 *     ee_calibration_exit(&test, k, 1.0, &c, &err);   // as recorded
 *     ee_calibration_exit(&test, k, T, &c, &err);     // after scaling
 */
#ifndef EE_CALIBRATION_H
#define EE_CALIBRATION_H

#include <stdint.h>

#include "analysis.h"
#include "core/status.h"
#include "trace.h"

#define EE_CAL_BINS 15
#define EE_TEMP_MIN 0.01
#define EE_TEMP_MAX 100.0

struct ee_calibration {
	long n;                         /* samples */
	double temperature;             /* the confidences' temperature (1: as recorded) */
	double accuracy;                /* fraction correct */
	double confidence;              /* mean confidence */
	double ece, ece_adaptive, mce;
	double brier;                   /* NAN without probabilities */
	double nll;                     /* NAN without logits */
	long count[EE_CAL_BINS];        /* samples per equal-width bin */
	double conf[EE_CAL_BINS];       /* their mean confidence (NAN if empty) */
	double acc[EE_CAL_BINS];        /* their accuracy (NAN if empty) */
};

/*
 * ECE, adaptive ECE, MCE, accuracy, mean confidence and the bins of n confidences
 * conf[] with correct[] (0 or 1) into c; brier and nll are set to NAN, temperature to
 * 1. n = 0: every mean NAN. EE_ERR_NOMEM (the adaptive bins' ranking) or EE_OK.
 */
int ee_calibration_compute(const double *conf, const uint8_t *correct, long n,
			   struct ee_calibration *c, struct ee_err *err);

/*
 * Calibration of exit k (0-based) of t at temperature T: T = 1 uses the recorded
 * maxprob (and logits or softmax for Brier), any other T needs t->logits. EE_ERR_USAGE
 * for a bad k or T (not finite, <= 0), EE_ERR_INPUT for T != 1 without logits or a
 * trace without rows, EE_ERR_NOMEM.
 */
int ee_calibration_exit(const struct ee_trace *t, int k, double temperature,
			struct ee_calibration *c, struct ee_err *err);

/* The temperature of exit k minimising the NLL of val (see above). EE_ERR_INPUT when
 * val has no logits or no rows, EE_ERR_USAGE for a bad k. */
int ee_temperature_fit(const struct ee_trace *val, int k, double *temperature,
		       struct ee_err *err);

/*
 * A view of t with every exit's confidences (maxprob, entropy, margin) recomputed
 * from its logits at temperature temps[k], as profile computes them (float32);
 * predictions are unchanged (T > 0 keeps the argmax). The view shares every other
 * array with t (which must outlive it); only the three recomputed arrays belong to it
 * and ee_calibrated_view_release frees them. The dynamic-exit analyses (analysis.h)
 * take it like any trace. EE_ERR_INPUT without logits, EE_ERR_NOMEM.
 */
int ee_calibrated_view(const struct ee_trace *t, const double *temps, struct ee_trace *view,
		       struct ee_err *err);
void ee_calibrated_view_release(struct ee_trace *view);

/*
 * Everything above for one model: each exit as recorded, and with a validation trace
 * (of the same checkpoint, exits and classes) the temperatures fitted on it, each exit
 * of t after scaling, and the threshold sweep's accuracy at budgets (fractions of the
 * deepest exit's mean MACs; ee_accuracy_within over ee_sweep_grid's thresholds) under
 * policy p and fallback f, before and after scaling. EE_ERR_INPUT for a val of another
 * checkpoint or shape, or without logits; nbudgets <= EE_CAL_MAX_BUDGETS.
 */
#define EE_CAL_MAX_BUDGETS 8
struct ee_model_calibration {
	int nexits;
	struct ee_calibration exits[EE_MAX_EXITS];   /* as recorded */
	bool has_val;
	double temperature[EE_MAX_EXITS];           /* fitted on val */
	struct ee_calibration scaled[EE_MAX_EXITS];  /* t at those temperatures */
	int nbudgets;
	double budget[EE_CAL_MAX_BUDGETS];           /* MACs */
	double accuracy[EE_CAL_MAX_BUDGETS];         /* best sweep accuracy within, NAN: none */
	double accuracy_scaled[EE_CAL_MAX_BUDGETS];  /* the same with scaled confidences */
};
int ee_calibrate_model(const struct ee_trace *t, const struct ee_trace *val, enum ee_policy p,
		       enum ee_fallback f, const double *fractions, int nbudgets,
		       struct ee_model_calibration *mc, struct ee_err *err);

/*
 * c as a JSON object under key: ece, ece_adaptive, mce, brier (report.json's fields),
 * then nll, accuracy, confidence, temperature (omitted when NAN: no fit), and with
 * bins the equal-width bins[] {lo, hi, count, confidence, accuracy} (null if empty).
 */
struct ee_json;
void ee_calibration_json(struct ee_json *j, const char *key, const struct ee_calibration *c,
			 double temperature, bool bins);

#endif
