/* spread.c - see spread.h. */
#include "spread.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-quantile of sorted v[0..n) with linear interpolation. */
static double quantile(const double *v, int n, double p)
{
	double at = p * (n - 1);
	int lo = (int)floor(at);

	return lo + 1 < n ? v[lo] + (at - lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

void ee_spread_of(const double *v, int n, struct ee_spread *s)
{
	double sorted[EE_REPEAT_MAX];

	memset(s, 0, sizeof(*s));
	if (n < 1)
		return;
	if (n > EE_REPEAT_MAX)
		n = EE_REPEAT_MAX;
	memcpy(sorted, v, (size_t)n * sizeof(double));
	qsort(sorted, (size_t)n, sizeof(double), cmp_double);
	s->n = n;
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->median = quantile(sorted, n, 0.5);
	s->q1 = quantile(sorted, n, 0.25);
	s->q3 = quantile(sorted, n, 0.75);
}

double ee_spread_rel(const struct ee_spread *s)
{
	return s->median ? (s->max - s->min) / s->median : NAN;
}

void ee_json_spread(struct ee_json *j, const char *key, const struct ee_spread *s,
		    const double *v)
{
	ee_json_begin(j, key, '{');
	ee_json_int(j, "runs", s->n);
	ee_json_num(j, "median", s->median);
	ee_json_num(j, "min", s->min);
	ee_json_num(j, "max", s->max);
	ee_json_num(j, "iqr", s->q3 - s->q1);
	ee_json_nums(j, "values", v, s->n);
	ee_json_end(j);
}
