/*
 * concat.c - channel concatenation (torch.cat(dim=1)) of 2..EE_LAYER_MAX_IN inputs.
 *
 * The planner usually makes each input a view of its channel range of the
 * output, so that its producer writes it in place; forward then only copies
 * the inputs it could not place (the network input, views of other buffers),
 * telling them apart by address.
 */
#include "common.h"

static int concat_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			struct ee_shape *out, struct ee_err *err)
{
	int j, rc = kind_check_inputs(nin, 2, EE_LAYER_MAX_IN, err);

	(void)l;
	if (rc < 0)
		return rc;
	*out = in[0];
	for (j = 1; j < nin; j++) {
		if (in[j].h != in[0].h || in[j].w != in[0].w)
			return ee_err_set(err, EE_ERR_INPUT, "input %d is %dx%d but input 1 is %dx%d",
					  j + 1, in[j].h, in[j].w, in[0].h, in[0].w);
		out->c += in[j].c;
	}
	return EE_OK;
}

/* Free: it moves data at most. */
static void concat_cost(const struct ee_layer *l, struct ee_cost *c)
{
	(void)l;
	kind_cost_other(c, 0);
}

/* Input k of sample i to its channel range; arg: the ranges' offsets. */
static void concat_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i, int k,
			int tid)
{
	const size_t *off = arg;

	(void)l, (void)tid;
	kind_copy(ee_tensor_sample(&x->out, i) + off[k], ee_tensor_sample(&x->in[k], i),
		  (size_t)x->in[k].c * ee_tensor_plane(&x->out));
}

static void concat_forward(const struct ee_layer *l, struct ee_exec *x)
{
	size_t plane = ee_tensor_plane(&x->out), off[EE_LAYER_MAX_IN];
	int j;

	for (j = 0, off[0] = 0; j + 1 < x->nin; j++)
		off[j + 1] = off[j] + (size_t)x->in[j].c * plane;
	kind_for(l, x, off, x->n, x->nin, kind_mem_work(2.0 * x->n * ee_shape_numel(l->out)),
		 concat_item);
}

static const struct ee_layer_ops concat_ops = {
	.api_version = EE_LAYER_API,
	.kind = "concat",
	.alias = EE_ALIAS_CONCAT,
	.infer = concat_infer,
	.cost = concat_cost,
	.forward = concat_forward,
};

struct ee_layer *ee_concat_new(struct ee_pool *p)
{
	return kind_alloc(p, sizeof(struct ee_layer), &concat_ops);
}
