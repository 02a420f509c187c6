/*
 * loop.c - see loop.h. Every forward is also added to eeprof's PAPI software-defined
 * events (sde.h), so that PAPI tools see `eval` and `profile` as they see `run`.
 *
 * For image files (decoded batch by batch) a feeder thread prepares the next batch into
 * a second buffer while fn runs the current one (its decoding loop runs on the thread
 * team when the team is free, on the feeder alone while a forward pass holds it); the
 * inputs, and so every result, are those of the plain loop.
 *
 * ee_loop_dataset hands small batches to streams (streams.h: consecutive batches on
 * separate threads, callbacks in batch order) when ee_streams_count says so; then each
 * stream prepares its own inputs and no feeder runs.
 */
#include "loop.h"

#include <pthread.h>
#include <stdlib.h>

#include "sde.h"
#include "streams.h"

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

/* EE_ERR_USAGE unless samples [offset, offset + count) are inside ds. */
static int check_range(const struct ee_dataset *ds, int offset, int count, struct ee_err *err)
{
	if (offset < 0 || count < 0 || offset > ds->n || count > ds->n - offset)
		return ee_err_set(err, EE_ERR_USAGE,
				  "samples %d..%d are outside dataset '%s' (%d samples)", offset,
				  offset + count - 1, ds->spec, ds->n);
	return EE_OK;
}

/* One batch of inputs to prepare, possibly on the feeder thread. */
struct prep {
	const struct ee_net *net;
	const struct ee_dataset *ds;
	int first, n;
	float *buf;
	int rc;
	struct ee_err err;
};

static void *prepare(void *arg)
{
	struct prep *p = arg;

	p->rc = ee_dataset_batch(p->ds, p->first, p->n, p->net->model.input, p->net->ck.mean,
				 p->net->ck.std, p->buf, &p->err);
	return NULL;
}

int ee_loop_inputs(const struct ee_net *net, const struct ee_dataset *ds, int offset, int count,
		   int max_batch, ee_input_fn fn, void *ctx, struct ee_err *err)
{
	struct ee_shape in = net->model.input;
	size_t bytes = ee_align_up(ee_shape_numel(in) * max_batch * sizeof(float));
	struct prep next = { net, ds, offset, 0, NULL, EE_OK, { 0 } };
	float *buf[2] = { NULL, NULL };
	int first, cur = 0, two = ds->paths != NULL, rc = EE_OK;
	pthread_t feeder;

	if ((rc = check_range(ds, offset, count, err)) < 0)
		return rc;
	buf[0] = aligned_alloc(64, bytes);
	buf[1] = two ? aligned_alloc(64, bytes) : NULL;
	if (!buf[0] || (two && !buf[1]))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of inputs");
	next.n = count < max_batch ? count : max_batch;
	next.buf = buf[0];
	if (rc == EE_OK && count > 0)
		prepare(&next);
	for (first = offset; first < offset + count && rc == EE_OK; first += max_batch) {
		int n = next.n, after = first + n, spawned = 0;
		struct ee_tensor x = ee_tensor_dense(buf[cur], n, in.c, in.h, in.w);

		if (next.rc < 0) {
			*err = next.err;
			rc = next.rc;
			break;
		}
		next.first = after;
		next.n = offset + count - after < max_batch ? offset + count - after : max_batch;
		next.buf = buf[two ? 1 - cur : cur];
		/* Image files: the next batch is decoded while this one runs. */
		if (two && after < offset + count)
			spawned = !pthread_create(&feeder, NULL, prepare, &next);
		rc = fn(ctx, &x, first, err);
		if (spawned)
			pthread_join(feeder, NULL);
		else if (rc == EE_OK && after < offset + count)
			prepare(&next);
		cur = two ? 1 - cur : cur;
	}
	free(buf[0]);
	free(buf[1]);
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
	int streams = ee_streams_count(r, count), rc;
	double t0;

	if (streams > 1)
		return (rc = check_range(ds, offset, count, err)) < 0
			       ? rc
			       : ee_streams_loop(r, streams, net, ds, offset, count, fn, ctx,
						 seconds, err);
	t0 = ee_now();
	rc = ee_loop_inputs(net, ds, offset, count, r->max_batch, forward, &f, err);

	if (seconds)
		*seconds = ee_now() - t0;
	return rc;
}
