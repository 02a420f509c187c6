/*
 * softmax.c - softmax over the c*h*w values of each sample, numerically stable
 * and in float32 as PyTorch computes it: m = max, e = exp(x - m), e * (1 / sum e).
 */
#include "common.h"

static int softmax_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			 struct ee_shape *out, struct ee_err *err)
{
	(void)l;
	return kind_infer_same(in, nin, 1, out, err);
}

/* Three ops per element: subtract and exp, sum, scale. */
static void softmax_cost(const struct ee_layer *l, struct ee_cost *c)
{
	kind_cost_other(c, 3.0 * (double)ee_shape_numel(l->out));
}

static void softmax_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			 int j, int tid)
{
	size_t len = ee_shape_numel(l->out);
	const float *src = ee_tensor_sample(&x->in[0], i);
	float *dst = ee_tensor_sample(&x->out, i);
	float sum = ee_exp_sum(dst, src, len, ee_max(src, len));

	(void)arg, (void)j, (void)tid;
	ee_affine_act(dst, len, 1.0f / sum, 0.0f, EE_ACT_NONE);
}

static void softmax_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_for(l, x, NULL, x->n, 1, kind_mem_work(6.0 * x->n * ee_shape_numel(l->out)),
		 softmax_item);
}

static const struct ee_layer_ops softmax_ops = {
	.api_version = EE_LAYER_API,
	.kind = "softmax",
	.infer = softmax_infer,
	.cost = softmax_cost,
	.forward = softmax_forward,
};

struct ee_layer *ee_softmax_new(struct ee_pool *p)
{
	return kind_alloc(p, sizeof(struct ee_layer), &softmax_ops);
}
