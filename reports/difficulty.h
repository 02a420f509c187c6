/*
 * difficulty.h - EMG gate behaviour against difficulty: do gates open more for
 * hard inputs (the question the EMGNet paper raises)?
 *
 * A sample is "right" when the prediction it leaves with is its label: under a
 * dynamic-exit rule, the prediction at the exit it takes (ee_rule_predict at
 * taken[i], the fallback's for taken[i] = E); without a rule, the deepest exit's.
 * Per EMG layer g, over samples:
 *   right[g], wrong[g]   mean open fraction (open gates / channels) of the right and
 *                        of the wrong samples (NAN where there are none)
 *   by_exit[g][k][c]     the same split by the exit taken (k = 0..E-1, E: fallback)
 *                        and correctness (c = 0 wrong, 1 right)
 *   pearson[g]           Pearson correlation over samples of the layer's open-gate
 *                        count with the deepest exit's confidence (maxprob[E-1])
 * and over the whole network, with each sample's open-gate count summed over the
 * EMG layers: pearson_total and spearman_total (Spearman: Pearson of the ranks,
 * ties given their mean rank). A correlation is NAN when either side is constant.
 * A negative correlation means gates open more where the deepest exit is less sure.
 */
#ifndef EE_DIFFICULTY_H
#define EE_DIFFICULTY_H

#include "analysis.h"

struct ee_gate_difficulty {
	int ngated, nexits;
	long n_right, n_wrong;
	long by_exit_n[EE_MAX_EXITS + 1][2];  /* samples per exit taken and correctness */
	double *right, *wrong;                /* [G] */
	double (*by_exit)[EE_MAX_EXITS + 1][2]; /* [G] */
	double *pearson;                      /* [G] */
	double pearson_total, spearman_total;
};

/*
 * Fills d for t (which must have EMG layers and rows); r and taken (from ee_simulate
 * with r) may both be NULL (right = the deepest exit's prediction). EE_ERR_INPUT for a
 * trace without gated layers or rows, EE_ERR_USAGE if only one of r and taken is
 * given, EE_ERR_NOMEM. On failure nothing is left to release.
 */
int ee_gate_difficulty(const struct ee_trace *t, const struct ee_exit_rule *r, const int *taken,
		       struct ee_gate_difficulty *d, struct ee_err *err);
void ee_gate_difficulty_release(struct ee_gate_difficulty *d);

/* Pearson correlation of x[0..n) and y[0..n) (NAN if either is constant or n < 2), and
 * Spearman's (the Pearson of their ranks, ties at their mean rank). */
double ee_pearson(const double *x, const double *y, long n);
int ee_spearman(const double *x, const double *y, long n, double *rho, struct ee_err *err);

#endif
