/*
 * slice.c - channels [c0, c1) of the input (x[:, c0:c1]).
 *
 * The planner makes the output a view of the input's channel range, so forward
 * has nothing to do; it copies only when the input could not be aliased (the
 * network input), telling the two cases apart by address.
 */
#include "common.h"

struct slice {
	struct ee_layer base;
	int c0, c1;
};

static int slice_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
		       struct ee_shape *out, struct ee_err *err)
{
	const struct slice *s = (const struct slice *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (s->c0 < 0 || s->c1 <= s->c0 || s->c1 > in->c)
		return ee_err_set(err, EE_ERR_INPUT, "channels [%d, %d) of a %d-channel input",
				  s->c0, s->c1, in->c);
	*out = *in;
	out->c = s->c1 - s->c0;
	return EE_OK;
}

/* Free: it moves data at most. */
static void slice_cost(const struct ee_layer *l, struct ee_cost *c)
{
	(void)l;
	kind_cost_other(c, 0);
}

static void slice_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i, int j,
		       int tid)
{
	const struct slice *s = (const struct slice *)l;
	size_t plane = ee_tensor_plane(&x->out);

	(void)arg, (void)j, (void)tid;
	kind_copy(ee_tensor_sample(&x->out, i), ee_tensor_sample(&x->in[0], i) + (size_t)s->c0 * plane,
		  (size_t)x->out.c * plane);
}

static void slice_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_for(l, x, NULL, x->n, 1, kind_mem_work(2.0 * x->n * ee_shape_numel(l->out)),
		 slice_item);
}

static const struct ee_layer_ops slice_ops = {
	.api_version = EE_LAYER_API,
	.kind = "slice",
	.alias = EE_ALIAS_SLICE,
	.infer = slice_infer,
	.cost = slice_cost,
	.forward = slice_forward,
};

struct ee_layer *ee_slice_new(struct ee_pool *p, int c0, int c1)
{
	struct slice *s = kind_alloc(p, sizeof(*s), &slice_ops);

	if (!s)
		return NULL;
	s->base.alias_c0 = c0;
	s->c0 = c0;
	s->c1 = c1;
	return &s->base;
}
