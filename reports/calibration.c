/*
 * calibration.c - calibration error, Brier score and temperature scaling per exit
 * of a trace; see calibration.h for the definitions.
 */
#include "calibration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "trace.h"

struct ranked {
	double conf;
	long row;
};

static int by_confidence(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->conf != y->conf)
		return x->conf < y->conf ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* The equal-width bin of confidence v: b/B < v <= (b+1)/B, compared in double. */
static int width_bin(double v)
{
	int b = (int)ceil(v * EE_CAL_BINS) - 1;

	if (!(b >= 0))
		b = 0;
	if (b > EE_CAL_BINS - 1)
		b = EE_CAL_BINS - 1;
	while (b > 0 && v <= (double)b / EE_CAL_BINS)
		b--;
	while (b < EE_CAL_BINS - 1 && v > (double)(b + 1) / EE_CAL_BINS)
		b++;
	return b;
}

/* ECE over equal-count bins of the ranked samples. */
static double adaptive_ece(const struct ranked *r, const uint8_t *correct, long n)
{
	double ece = 0;
	int b;

	for (b = 0; b < EE_CAL_BINS; b++) {
		long lo = (long)((double)b * n / EE_CAL_BINS), hi = (long)((double)(b + 1) * n /
									 EE_CAL_BINS), i;
		double sc = 0, sa = 0;

		for (i = lo; i < hi; i++) {
			sc += r[i].conf;
			sa += correct[r[i].row];
		}
		ece += fabs(sa - sc) / n;
	}
	return ece;
}

int ee_calibration_compute(const double *conf, const uint8_t *correct, long n,
			   struct ee_calibration *c, struct ee_err *err)
{
	double sc[EE_CAL_BINS] = { 0 }, sa[EE_CAL_BINS] = { 0 }, all_c = 0, all_a = 0;
	struct ranked *r = NULL;
	long i;
	int b;

	memset(c, 0, sizeof(*c));
	c->n = n;
	c->temperature = 1;
	c->brier = c->nll = NAN;
	if (n > 0 && !(r = malloc((size_t)n * sizeof(*r))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory ranking %ld confidences", n);
	for (i = 0; i < n; i++) {
		b = width_bin(conf[i]);
		c->count[b]++;
		sc[b] += conf[i];
		sa[b] += correct[i];
		all_c += conf[i];
		all_a += correct[i];
		r[i].conf = conf[i];
		r[i].row = i;
	}
	c->accuracy = n ? all_a / n : NAN;
	c->confidence = n ? all_c / n : NAN;
	c->ece = c->mce = n ? 0 : NAN;
	for (b = 0; b < EE_CAL_BINS; b++) {
		double gap;

		c->conf[b] = c->count[b] ? sc[b] / c->count[b] : NAN;
		c->acc[b] = c->count[b] ? sa[b] / c->count[b] : NAN;
		if (!c->count[b])
			continue;
		gap = fabs(c->acc[b] - c->conf[b]);
		c->ece += gap * c->count[b] / n;
		if (gap > c->mce)
			c->mce = gap;
	}
	c->ece_adaptive = NAN;
	if (n > 0) {
		qsort(r, (size_t)n, sizeof(*r), by_confidence);
		c->ece_adaptive = adaptive_ece(r, correct, n);
	}
	free(r);
	return EE_OK;
}

/* Softmax of z[k] / T in double into p[k]; returns log sum_c exp(z_c / T). */
static double softmax_d(const float *z, int k, double inv_t, double *p)
{
	double m = -INFINITY, sum = 0;
	int c;

	for (c = 0; c < k; c++)
		if (z[c] * inv_t > m)
			m = z[c] * inv_t;
	for (c = 0; c < k; c++)
		sum += p[c] = exp(z[c] * inv_t - m);
	for (c = 0; c < k; c++)
		p[c] /= sum;
	return m + log(sum);
}

static double brier_row(const double *p, int k, int label)
{
	double s = 0;
	int c;

	for (c = 0; c < k; c++) {
		double d = p[c] - (c == label);

		s += d * d;
	}
	return s;
}

static int check_exit(const struct ee_trace *t, int k, struct ee_err *err)
{
	if (k < 0 || k >= t->nexits)
		return ee_err_set(err, EE_ERR_USAGE, "exit %d is not one of the trace's %d", k + 1,
				  t->nexits);
	if (t->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "trace has no samples to calibrate");
	return EE_OK;
}

int ee_calibration_exit(const struct ee_trace *t, int k, double temperature,
			struct ee_calibration *c, struct ee_err *err)
{
	const int e = t->nexits, nk = t->num_classes;
	const bool scaled = temperature != 1.0;
	double *conf, *p, brier = 0, nll = 0;
	uint8_t *correct;
	long i;
	int rc = check_exit(t, k, err), j;

	if (rc < 0)
		return rc;
	if (!isfinite(temperature) || temperature <= 0)
		return ee_err_set(err, EE_ERR_USAGE, "temperature %g is not a positive number",
				  temperature);
	if (scaled && !t->logits)
		return ee_err_set(err, EE_ERR_INPUT, "temperature scaling needs the trace's logits "
				  "(profiled with --no-logits?)");
	conf = malloc((size_t)t->n * sizeof(*conf));
	correct = malloc((size_t)t->n);
	p = malloc((size_t)nk * sizeof(*p));
	if (!conf || !correct || !p) {
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		size_t at = (size_t)i * e + k;
		int label = t->label[i];

		correct[i] = t->pred[at] == label;
		conf[i] = t->maxprob[at];
		if (t->logits) {
			double lse = softmax_d(t->logits + at * nk, nk, 1.0 / temperature, p);

			nll += lse - t->logits[at * nk + label] / temperature;
			if (scaled)
				for (conf[i] = p[0], j = 1; j < nk; j++)
					conf[i] = p[j] > conf[i] ? p[j] : conf[i];
		} else if (t->softmax) {
			for (j = 0; j < nk; j++)
				p[j] = t->softmax[at * nk + j];
			nll -= log(p[label]);
		}
		if (t->logits || t->softmax)
			brier += brier_row(p, nk, label);
	}
	rc = ee_calibration_compute(conf, correct, t->n, c, err);
	c->temperature = temperature;
	if (t->logits || t->softmax) {
		c->brier = brier / t->n;
		c->nll = nll / t->n;
	}
out:
	free(conf);
	free(correct);
	free(p);
	return rc;
}

/* Mean NLL of exit k of t at temperature exp(u). */
static double nll_at(const struct ee_trace *t, int k, double u, double *p)
{
	const int e = t->nexits, nk = t->num_classes;
	double inv_t = exp(-u), s = 0;
	long i;

	for (i = 0; i < t->n; i++) {
		size_t at = (size_t)i * e + k;

		s += softmax_d(t->logits + at * nk, nk, inv_t, p) - t->logits[at * nk + t->label[i]] *
								      inv_t;
	}
	return s / t->n;
}

#define GOLDEN_STEPS 100
#define SWEEP_MAX 256 /* thresholds of a sweep (ee_sweep_grid makes at most 101) */

int ee_temperature_fit(const struct ee_trace *val, int k, double *temperature,
		       struct ee_err *err)
{
	const double g = (sqrt(5.0) - 1) / 2;
	double a = log(EE_TEMP_MIN), b = log(EE_TEMP_MAX), x1, x2, f1, f2, *p;
	int rc = check_exit(val, k, err), i;

	if (rc < 0)
		return rc;
	if (!val->logits)
		return ee_err_set(err, EE_ERR_INPUT, "fitting a temperature needs the validation "
				  "trace's logits (profiled with --no-logits?)");
	if (!(p = malloc((size_t)val->num_classes * sizeof(*p))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	x1 = b - g * (b - a);
	x2 = a + g * (b - a);
	f1 = nll_at(val, k, x1, p);
	f2 = nll_at(val, k, x2, p);
	for (i = 0; i < GOLDEN_STEPS; i++) {
		if (f1 <= f2) {
			b = x2;
			x2 = x1;
			f2 = f1;
			x1 = b - g * (b - a);
			f1 = nll_at(val, k, x1, p);
		} else {
			a = x1;
			x1 = x2;
			f1 = f2;
			x2 = a + g * (b - a);
			f2 = nll_at(val, k, x2, p);
		}
	}
	free(p);
	*temperature = exp((a + b) / 2);
	return EE_OK;
}

int ee_calibrated_view(const struct ee_trace *t, const double *temps, struct ee_trace *view,
		       struct ee_err *err)
{
	const int e = t->nexits, nk = t->num_classes;
	size_t ne = (size_t)t->n * e, at;
	float *z, *p;
	int32_t pred;
	int j;

	if (!t->logits)
		return ee_err_set(err, EE_ERR_INPUT, "calibrated confidences need the trace's "
				  "logits (profiled with --no-logits?)");
	*view = *t;
	view->maxprob = malloc((ne ? ne : 1) * sizeof(float));
	view->entropy = malloc((ne ? ne : 1) * sizeof(float));
	view->margin = malloc((ne ? ne : 1) * sizeof(float));
	z = malloc((size_t)nk * sizeof(*z));
	p = malloc((size_t)nk * sizeof(*p));
	if (!view->maxprob || !view->entropy || !view->margin || !z || !p) {
		free(z);
		free(p);
		ee_calibrated_view_release(view);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	}
	for (at = 0; at < ne; at++) {
		float tk = (float)temps[at % e];

		for (j = 0; j < nk; j++)
			z[j] = t->logits[at * nk + j] / tk;
		ee_softmax_stats(z, nk, p, &pred, &view->maxprob[at], &view->entropy[at],
				 &view->margin[at]);
	}
	free(z);
	free(p);
	return EE_OK;
}

void ee_calibrated_view_release(struct ee_trace *view)
{
	free(view->maxprob);
	free(view->entropy);
	free(view->margin);
	view->maxprob = view->entropy = view->margin = NULL;
}

/* Best sweep accuracy of t within each budget. */
static int budget_accuracy(const struct ee_trace *t, enum ee_policy p, enum ee_fallback f,
			   const double *budget, int nb, double *acc, struct ee_err *err)
{
	double thr[SWEEP_MAX];
	struct ee_dyn_result *res;
	int n = ee_sweep_grid(t, p, thr, SWEEP_MAX), b;

	if (!(res = malloc((size_t)(n ? n : 1) * sizeof(*res))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	ee_sweep(t, p, f, thr, n, res);
	for (b = 0; b < nb; b++)
		acc[b] = ee_accuracy_within(res, n, budget[b]);
	free(res);
	return EE_OK;
}

static int check_val(const struct ee_trace *t, const struct ee_trace *val, struct ee_err *err)
{
	if (strcmp(t->ckpt_sha256, val->ckpt_sha256))
		return ee_err_set(err, EE_ERR_INPUT, "the validation trace is of another checkpoint");
	if (t->nexits != val->nexits || t->num_classes != val->num_classes)
		return ee_err_set(err, EE_ERR_INPUT, "the validation trace has %d exits and %d "
				  "classes, the trace %d and %d", val->nexits, val->num_classes,
				  t->nexits, t->num_classes);
	return EE_OK;
}

int ee_calibrate_model(const struct ee_trace *t, const struct ee_trace *val, enum ee_policy p,
		       enum ee_fallback f, const double *fractions, int nbudgets,
		       struct ee_model_calibration *mc, struct ee_err *err)
{
	struct ee_exit_stats st;
	struct ee_trace view;
	int k, b, rc = EE_OK;

	memset(mc, 0, sizeof(*mc));
	mc->nexits = t->nexits;
	if (nbudgets < 0 || nbudgets > EE_CAL_MAX_BUDGETS)
		return ee_err_set(err, EE_ERR_USAGE, "%d budgets (at most %d)", nbudgets,
				  EE_CAL_MAX_BUDGETS);
	for (k = 0; k < t->nexits && rc == EE_OK; k++)
		rc = ee_calibration_exit(t, k, 1.0, &mc->exits[k], err);
	if (rc < 0 || !val)
		return rc;
	if ((rc = check_val(t, val, err)) < 0)
		return rc;
	mc->has_val = true;
	for (k = 0; k < t->nexits && rc == EE_OK; k++)
		if ((rc = ee_temperature_fit(val, k, &mc->temperature[k], err)) == EE_OK)
			rc = ee_calibration_exit(t, k, mc->temperature[k], &mc->scaled[k], err);
	if (rc < 0)
		return rc;
	ee_exit_stats(t, &st);
	mc->nbudgets = nbudgets;
	for (b = 0; b < nbudgets; b++)
		mc->budget[b] = fractions[b] * st.macs_mean[t->nexits - 1];
	if ((rc = budget_accuracy(t, p, f, mc->budget, nbudgets, mc->accuracy, err)) < 0 ||
	    (rc = ee_calibrated_view(t, mc->temperature, &view, err)) < 0)
		return rc;
	rc = budget_accuracy(&view, p, f, mc->budget, nbudgets, mc->accuracy_scaled, err);
	ee_calibrated_view_release(&view);
	return rc;
}

void ee_calibration_json(struct ee_json *j, const char *key, const struct ee_calibration *c,
			 double temperature, bool bins)
{
	int b;

	ee_json_begin(j, key, '{');
	ee_json_num(j, "ece", c->ece);
	ee_json_num(j, "ece_adaptive", c->ece_adaptive);
	ee_json_num(j, "mce", c->mce);
	ee_json_num(j, "brier", c->brier);
	ee_json_num(j, "nll", c->nll);
	ee_json_num(j, "accuracy", c->accuracy);
	ee_json_num(j, "confidence", c->confidence);
	if (!isnan(temperature))
		ee_json_num(j, "temperature", temperature);
	if (bins) {
		ee_json_begin(j, "bins", '[');
		for (b = 0; b < EE_CAL_BINS; b++) {
			ee_json_begin(j, NULL, '{');
			ee_json_num(j, "lo", (double)b / EE_CAL_BINS);
			ee_json_num(j, "hi", (double)(b + 1) / EE_CAL_BINS);
			ee_json_int(j, "count", c->count[b]);
			ee_json_num(j, "confidence", c->conf[b]);
			ee_json_num(j, "accuracy", c->acc[b]);
			ee_json_end(j);
		}
		ee_json_end(j);
	}
	ee_json_end(j);
}
