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

int ee_loop_select(const struct ee_dataset *ds, int offset, int limit, int *count,
		   struct ee_err *err)
{
	if (offset < 0 || limit < 0 || offset >= ds->n)
		return ee_err_set(err, EE_ERR_USAGE, "--offset %d selects no samples of '%s' (%d "
				  "samples)", offset, ds->spec, ds->n);
	*count = limit > 0 && limit < ds->n - offset ? limit : ds->n - offset;
	return EE_OK;
}

int ee_loop_check_classes(const struct ee_net *net, const struct ee_dataset *ds,
			  struct ee_err *err)
{
	if (ds->num_classes > net->ck.num_classes)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %d classes but the model "
				  "predicts %d", ds->spec, ds->num_classes, net->ck.num_classes);
	return EE_OK;
}

int ee_loop_inputs(const struct ee_net *net, const struct ee_dataset *ds, int offset, int count,
		   int max_batch, ee_input_fn fn, void *ctx, struct ee_err *err)
{
	struct ee_shape in = net->model.input;
	size_t per = ee_shape_numel(in);
	float *buf;
	int first, rc = EE_OK;

	if (offset < 0 || count < 0 || offset > ds->n || count > ds->n - offset)
		return ee_err_set(err, EE_ERR_USAGE,
				  "samples %d..%d are outside dataset '%s' (%d samples)", offset,
				  offset + count - 1, ds->spec, ds->n);
	buf = aligned_alloc(64, ee_align_up(per * max_batch * sizeof(float)));
	if (!buf)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of inputs");
	for (first = offset; first < offset + count && rc == EE_OK; first += max_batch) {
		int n = offset + count - first < max_batch ? offset + count - first : max_batch;
		struct ee_tensor x = ee_tensor_dense(buf, n, in.c, in.h, in.w);

		rc = ee_dataset_batch(ds, first, n, in, net->ck.mean, net->ck.std, buf, err);
		if (rc == EE_OK)
			rc = fn(ctx, &x, first, err);
	}
	free(buf);
	return rc;
}

/* What ee_loop_dataset's forward needs. */
struct forward {
	struct ee_run *r;
	ee_batch_fn fn;
	void *ctx;
};

static int forward(void *ctx, const struct ee_tensor *x, int first, struct ee_err *err)
{
	struct forward *f = ctx;

	ee_run_forward(f->r, x);
	ee_sde_record(f->r);
	return f->fn(f->ctx, f->r, first, err);
}

int ee_loop_dataset(struct ee_run *r, const struct ee_net *net, const struct ee_dataset *ds,
		    int offset, int count, ee_batch_fn fn, void *ctx, double *seconds,
		    struct ee_err *err)
{
	struct forward f = { r, fn, ctx };
	double t0 = ee_now();
	int rc = ee_loop_inputs(net, ds, offset, count, r->max_batch, forward, &f, err);

	if (seconds)
		*seconds = ee_now() - t0;
	return rc;
}
