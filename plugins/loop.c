/*
 * loop.c - see loop.h. Every forward is also added to eeprof's PAPI software-defined
 * events (sde.h), so that PAPI tools see `eval` and `profile` as they see `run`.
 */
#include "loop.h"

#include <stdlib.h>

#include "sde.h"

int ee_argmax(const float *v, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

int ee_loop_dataset(struct ee_run *r, const struct ee_net *net, const struct ee_dataset *ds,
		    int offset, int count, ee_batch_fn fn, void *ctx, double *seconds,
		    struct ee_err *err)
{
	struct ee_shape in = net->model.input;
	size_t per = ee_shape_numel(in);
	double t0 = ee_now();
	float *buf;
	int first, rc = EE_OK;

	if (offset < 0 || count < 0 || offset > ds->n || count > ds->n - offset)
		return ee_err_set(err, EE_ERR_USAGE,
				  "samples %d..%d are outside dataset '%s' (%d samples)", offset,
				  offset + count - 1, ds->spec, ds->n);
	buf = aligned_alloc(64, ee_align_up(per * r->max_batch * sizeof(float)));
	if (!buf)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of inputs");
	for (first = offset; first < offset + count && rc == EE_OK; first += r->max_batch) {
		int n = offset + count - first < r->max_batch ? offset + count - first : r->max_batch;
		struct ee_tensor x = ee_tensor_dense(buf, n, in.c, in.h, in.w);

		rc = ee_dataset_batch(ds, first, n, in, net->ck.mean, net->ck.std, buf, err);
		if (rc == EE_OK) {
			ee_run_forward(r, &x);
			ee_sde_record(r);
			rc = fn(ctx, r, first, err);
		}
	}
	free(buf);
	if (seconds)
		*seconds = ee_now() - t0;
	return rc;
}
