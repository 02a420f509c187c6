/*
 * mul.c - a * b of two same-shaped inputs: attention masks applied to features.
 */
#include "common.h"

static int mul_infer(struct ee_layer *l, const struct ee_shape *in, int nin, struct ee_shape *out,
		     struct ee_err *err)
{
	(void)l;
	return kind_infer_same(in, nin, 2, out, err);
}

/* One op per output element. */
static void mul_cost(const struct ee_layer *l, struct ee_cost *c)
{
	kind_cost_other(c, (double)ee_shape_numel(l->out));
}

static void mul_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_elementwise(l, x, ee_shape_numel(l->out), KIND_MUL, EE_ACT_NONE);
}

static const struct ee_layer_ops mul_ops = {
	.api_version = EE_LAYER_API,
	.kind = "mul",
	.infer = mul_infer,
	.cost = mul_cost,
	.forward = mul_forward,
};

struct ee_layer *ee_mul_new(struct ee_pool *p)
{
	return kind_alloc(p, sizeof(struct ee_layer), &mul_ops);
}
