/*
 * spread.h - what repeated timings say together: median, min, max, quartiles.
 *
 * `run`, `eval` and `report` time their work --repeat times (after --warmup runs that
 * are not kept) and report these figures; `diff --timing` treats a difference inside
 * the combined spread as noise. Quartiles interpolate linearly between the sorted
 * values (numpy's default), so one run gives q1 = q3 = its value.
 *
 *     double s[3] = { 1.02, 0.98, 1.31 };
 *     struct ee_spread sp;
 *     ee_spread_of(s, 3, &sp);          // median 1.02, min 0.98, max 1.31
 *     if (ee_spread_rel(&sp) > 0.10) ... // (max - min) / median = 0.32
 */
#ifndef EE_SPREAD_H
#define EE_SPREAD_H

#include "json.h"

#define EE_REPEAT_MAX 1000 /* most --repeat runs */

struct ee_spread {
	int n;                      /* values */
	double median, min, max;
	double q1, q3;              /* quartiles; iqr = q3 - q1 */
};

/* The figures of v[0..n) (n >= 1; v is not changed). */
void ee_spread_of(const double *v, int n, struct ee_spread *s);
/* (max - min) / median: 0 for one value, NAN for a median of 0. */
double ee_spread_rel(const struct ee_spread *s);
/* Under key: {runs, median, min, max, iqr, values[]} (values: v[0..s->n) as measured). */
void ee_json_spread(struct ee_json *j, const char *key, const struct ee_spread *s,
		    const double *v);

#endif
