/* rows.c - a sample's row of a trace from a finished batch; see rows.h. */
#include "rows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loop.h"

/* The softmax of (row, x): t's own if kept, else p. */
static float *softmax_at(struct ee_trace *t, int row, int x, float *p)
{
	size_t at = (size_t)row * t->nexits + x;

	return t->softmax ? t->softmax + at * t->num_classes : p;
}

void ee_rows_exit(struct ee_trace *t, int row, int x, const float *z, float *p)
{
	size_t at = (size_t)row * t->nexits + x;

	if (t->logits)
		memcpy(t->logits + at * t->num_classes, z, (size_t)t->num_classes * sizeof(*z));
	ee_softmax_stats(z, t->num_classes, softmax_at(t, row, x, p), &t->pred[at],
			 &t->maxprob[at], &t->entropy[at], &t->margin[at]);
}

/* Index of the largest of v[0..n), the first on ties. */
static int argmax_d(const double *v, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

void ee_rows_sample(struct ee_trace *t, int row, const struct ee_run *r, int i, float *p,
		    double *ens)
{
	int e = t->nexits, k = t->num_classes, x, c;

	memset(ens, 0, (size_t)k * sizeof(*ens));
	for (x = 0; x < e; x++) {
		struct ee_tensor out = ee_run_output(r, x);
		size_t at = (size_t)row * e + x;
		const float *q = softmax_at(t, row, x, p);

		ee_rows_exit(t, row, x, ee_tensor_sample(&out, i), p);
		t->macs[at] = ee_run_sample_macs(r, x, i, false);
		t->macs_cascade[at] = ee_run_sample_macs(r, x, i, true);
		for (c = 0; c < k; c++)
			ens[c] += q[c];
	}
	c = argmax_d(ens, k);
	t->ens_pred[row] = c;
	t->ens_maxprob[row] = (float)(ens[c] / e);
}

void ee_rows_ensemble(struct ee_trace *t, int row)
{
	const float *p = t->softmax + (size_t)row * t->nexits * t->num_classes;
	int c, x, best = 0, k = t->num_classes;
	double sum, top = -1;

	for (c = 0; c < k; c++) {
		for (x = 0, sum = 0; x < t->nexits; x++)
			sum += p[(size_t)x * k + c];
		if (sum > top) { /* the first on ties, as argmax_d */
			top = sum;
			best = c;
		}
	}
	t->ens_pred[row] = best;
	t->ens_maxprob[row] = (float)(top / t->nexits);
}

void ee_rows_identity(struct ee_trace *t, const struct ee_net *net, const char *checkpoint,
		      const char *data, const struct ee_dataset *ds)
{
	const struct ee_model *m = &net->model;
	int x, g;

	snprintf(t->checkpoint, sizeof(t->checkpoint), "%s", checkpoint);
	snprintf(t->arch, sizeof(t->arch), "%s", net->arch->name);
	snprintf(t->data, sizeof(t->data), "%s", data);
	t->dataset_size = ds->index ? ds->listed : ds->n; /* the listing's, after --skip-bad */
	for (x = 0; x < m->nexits; x++)
		for (g = 0; g < 4; g++)
			t->exit_macs[g][x] = ee_model_exit_macs(m, x, g >= 2, g & 1);
}
