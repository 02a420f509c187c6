/*
 * loop.c - see loop.h. Every forward is also added to eeprof's PAPI software-defined
 * events (sde.h), so that PAPI tools see `eval` and `profile` as they see `run`.
 *
 * For image files (decoded batch by batch) a feeder thread prepares the next batch into
 * a second buffer while the current one runs (its decoding loop runs on the thread team
 * when the team is free, on the feeder alone while the forward pass holds it); the
 * inputs, and so every result, are those of the plain loop.
 */
#include "loop.h"

#include <pthread.h>
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

int ee_loop_dataset(struct ee_run *r, const struct ee_net *net, const struct ee_dataset *ds,
		    int offset, int count, ee_batch_fn fn, void *ctx, double *seconds,
		    struct ee_err *err)
{
	struct ee_shape in = net->model.input;
	size_t bytes = ee_align_up(ee_shape_numel(in) * r->max_batch * sizeof(float));
	struct prep next = { net, ds, offset, 0, NULL, EE_OK, { 0 } };
	double t0 = ee_now();
	float *buf[2] = { aligned_alloc(64, bytes), ds->paths ? aligned_alloc(64, bytes) : NULL };
	int first, cur = 0, rc = EE_OK;
	pthread_t feeder;

	if (offset < 0 || count < 0 || offset > ds->n || count > ds->n - offset)
		rc = ee_err_set(err, EE_ERR_USAGE,
				"samples %d..%d are outside dataset '%s' (%d samples)", offset,
				offset + count - 1, ds->spec, ds->n);
	else if (!buf[0] || (ds->paths && !buf[1]))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of inputs");
	next.n = count < r->max_batch ? count : r->max_batch;
	next.buf = buf[0];
	if (rc == EE_OK && count > 0)
		prepare(&next);
	for (first = offset; first < offset + count && rc == EE_OK; first += r->max_batch) {
		int n = next.n, after = first + n, spawned = 0;
		struct ee_tensor x = ee_tensor_dense(buf[cur], n, in.c, in.h, in.w);

		rc = next.rc;
		if (rc < 0) {
			*err = next.err;
			break;
		}
		/* Image files: the next batch is decoded while this one runs. */
		if (ds->paths && after < offset + count) {
			next.first = after;
			next.n = offset + count - after < r->max_batch ? offset + count - after :
									    r->max_batch;
			next.buf = buf[1 - cur];
			spawned = !pthread_create(&feeder, NULL, prepare, &next);
		}
		ee_run_forward(r, &x);
		ee_sde_record(r);
		rc = fn(ctx, r, first, err);
		if (spawned)
			pthread_join(feeder, NULL);
		else if (after < offset + count) {
			next.first = after;
			next.n = offset + count - after < r->max_batch ? offset + count - after :
									    r->max_batch;
			next.buf = buf[ds->paths ? 1 - cur : cur];
			if (rc == EE_OK)
				prepare(&next);
		}
		cur = ds->paths ? 1 - cur : cur;
	}
	free(buf[0]);
	free(buf[1]);
	if (seconds)
		*seconds = ee_now() - t0;
	return rc;
}
