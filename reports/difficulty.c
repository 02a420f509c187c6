/*
 * difficulty.c - EMG gate behaviour against difficulty; see difficulty.h.
 */
#include "difficulty.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ee_pearson(const double *x, const double *y, long n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	long i;

	if (n < 2)
		return NAN;
	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

struct ranked {
	double v;
	long i;
};

static int by_value(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Ranks of v (1-based, ties at their mean) into rank, using scratch r. */
static void ranks(const double *v, long n, struct ranked *r, double *rank)
{
	long i, j, k;

	for (i = 0; i < n; i++) {
		r[i].v = v[i];
		r[i].i = i;
	}
	qsort(r, (size_t)n, sizeof(*r), by_value);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		for (k = i; k < j; k++)
			rank[r[k].i] = (i + 1 + j) / 2.0; /* mean of ranks i+1 .. j */
	}
}

int ee_spearman(const double *x, const double *y, long n, double *rho, struct ee_err *err)
{
	struct ranked *r = malloc((size_t)(n > 0 ? n : 1) * sizeof(*r));
	double *rx = malloc((size_t)(n > 0 ? n : 1) * sizeof(*rx));
	double *ry = malloc((size_t)(n > 0 ? n : 1) * sizeof(*ry));
	int rc = EE_OK;

	if (!r || !rx || !ry) {
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory ranking %ld samples", n);
	} else {
		ranks(x, n, r, rx);
		ranks(y, n, r, ry);
		*rho = ee_pearson(rx, ry, n);
	}
	free(r);
	free(rx);
	free(ry);
	return rc;
}

void ee_gate_difficulty_release(struct ee_gate_difficulty *d)
{
	free(d->right);
	free(d->wrong);
	free(d->by_exit);
	free(d->pearson);
	memset(d, 0, sizeof(*d));
}

/* Whether sample i leaves with its label. */
static bool is_right(const struct ee_trace *t, const struct ee_exit_rule *r, const int *taken,
		     long i)
{
	int32_t p = r ? ee_rule_predict(t, r, (int)i, taken[i])
		      : t->pred[(size_t)i * t->nexits + t->nexits - 1];

	return p == t->label[i];
}

/* Means from sums and counts; NAN where the count is 0. */
static double mean(double sum, long n)
{
	return n ? sum / n : NAN;
}

/* Per layer: the open-fraction sums split by correctness and exit, then their means. */
static void split(const struct ee_trace *t, const uint8_t *right, const int *taken,
		  struct ee_gate_difficulty *d)
{
	const int e = t->nexits;
	int g, k, c;
	long i;

	for (g = 0; g < t->ngated; g++) {
		double sum[2] = { 0 }, by[EE_MAX_EXITS + 1][2] = { { 0 } };

		for (i = 0; i < t->n; i++) {
			double f = (double)t->open[(size_t)i * t->ngated + g] / t->gated[g].channels;

			sum[right[i]] += f;
			if (taken)
				by[taken[i]][right[i]] += f;
		}
		d->right[g] = mean(sum[1], d->n_right);
		d->wrong[g] = mean(sum[0], d->n_wrong);
		for (k = 0; k <= e; k++)
			for (c = 0; c < 2; c++)
				d->by_exit[g][k][c] = mean(by[k][c], d->by_exit_n[k][c]);
	}
}

/* The correlations of open-gate counts with the deepest exit's confidence. */
static int correlate(const struct ee_trace *t, struct ee_gate_difficulty *d, double *conf,
		     double *count, double *total, struct ee_err *err)
{
	long i;
	int g;

	for (i = 0; i < t->n; i++) {
		conf[i] = t->maxprob[(size_t)i * t->nexits + t->nexits - 1];
		total[i] = 0;
		for (g = 0; g < t->ngated; g++)
			total[i] += t->open[(size_t)i * t->ngated + g];
	}
	for (g = 0; g < t->ngated; g++) {
		for (i = 0; i < t->n; i++)
			count[i] = t->open[(size_t)i * t->ngated + g];
		d->pearson[g] = ee_pearson(count, conf, t->n);
	}
	d->pearson_total = ee_pearson(total, conf, t->n);
	return ee_spearman(total, conf, t->n, &d->spearman_total, err);
}

int ee_gate_difficulty(const struct ee_trace *t, const struct ee_exit_rule *r, const int *taken,
		       struct ee_gate_difficulty *d, struct ee_err *err)
{
	size_t n = (size_t)t->n, G = (size_t)t->ngated;
	uint8_t *right = NULL;
	double *buf = NULL;
	long i;
	int rc;

	memset(d, 0, sizeof(*d));
	if (t->ngated < 1 || t->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "gate behaviour needs a trace with EMG layers "
				  "and samples");
	if (!r != !taken)
		return ee_err_set(err, EE_ERR_USAGE, "a rule needs the exits it gave, and back");
	d->ngated = t->ngated;
	d->nexits = t->nexits;
	d->right = malloc(G * sizeof(*d->right));
	d->wrong = malloc(G * sizeof(*d->wrong));
	d->by_exit = malloc(G * sizeof(*d->by_exit));
	d->pearson = malloc(G * sizeof(*d->pearson));
	right = malloc(n);
	buf = malloc(3 * n * sizeof(*buf));
	if (!d->right || !d->wrong || !d->by_exit || !d->pearson || !right || !buf) {
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for gate statistics");
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		right[i] = is_right(t, r, taken, i);
		if (right[i])
			d->n_right++;
		else
			d->n_wrong++;
		if (taken)
			d->by_exit_n[taken[i]][right[i]]++;
	}
	split(t, right, taken, d);
	rc = correlate(t, d, buf, buf + n, buf + 2 * n, err);
out:
	free(right);
	free(buf);
	if (rc < 0)
		ee_gate_difficulty_release(d);
	return rc;
}
