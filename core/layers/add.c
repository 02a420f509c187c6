/*
 * add.c - a + b of two same-shaped inputs with an optional activation: the
 * residual join (out += identity; out = relu(out)) in one pass.
 */
#include "common.h"

struct add {
	struct ee_layer base;
	enum ee_act act;
};

static int add_infer(struct ee_layer *l, const struct ee_shape *in, int nin, struct ee_shape *out,
		     struct ee_err *err)
{
	(void)l;
	return kind_infer_same(in, nin, 2, out, err);
}

/* One op per output element for the add, one more for the activation. */
static void add_cost(const struct ee_layer *l, struct ee_cost *c)
{
	double outs = (double)ee_shape_numel(l->out);

	kind_cost_other(c, outs + (((const struct add *)l)->act != EE_ACT_NONE ? outs : 0));
}

static void add_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_elementwise(l, x, ee_shape_numel(l->out), KIND_ADD, ((const struct add *)l)->act);
}

static const struct ee_layer_ops add_ops = {
	.api_version = EE_LAYER_API,
	.kind = "add",
	.infer = add_infer,
	.cost = add_cost,
	.forward = add_forward,
};

struct ee_layer *ee_add_new(struct ee_pool *p, enum ee_act act)
{
	struct add *a = kind_alloc(p, sizeof(*a), &add_ops);

	if (!a)
		return NULL;
	a->act = act;
	return &a->base;
}
