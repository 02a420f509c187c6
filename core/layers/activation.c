/*
 * activation.c - ReLU and sigmoid as layers of their own (kinds "relu" and
 * "sigmoid"), where no preceding kind fuses them.
 */
#include "common.h"

struct activation {
	struct ee_layer base;
	enum ee_act act;
};

static int act_infer(struct ee_layer *l, const struct ee_shape *in, int nin, struct ee_shape *out,
		     struct ee_err *err)
{
	const struct activation *a = (const struct activation *)l;

	if (a->act != EE_ACT_RELU && a->act != EE_ACT_SIGMOID)
		return ee_err_set(err, EE_ERR_INPUT, "activation %d is neither relu nor sigmoid",
				  (int)a->act);
	return kind_infer_same(in, nin, 1, out, err);
}

/* One op per element. */
static void act_cost(const struct ee_layer *l, struct ee_cost *c)
{
	kind_cost_other(c, (double)ee_shape_numel(l->out));
}

static void act_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_elementwise(l, x, ee_shape_numel(l->out), KIND_ACT, ((const struct activation *)l)->act);
}

#define ACT_OPS(name)                                                            \
	{                                                                        \
		.api_version = EE_LAYER_API, .kind = name, .infer = act_infer,   \
		.cost = act_cost, .forward = act_forward,                        \
	}

/* Indexed by enum ee_act; "none" only exists for infer() to refuse it. */
static const struct ee_layer_ops act_ops[] = {
	[EE_ACT_NONE] = ACT_OPS("none"),
	[EE_ACT_RELU] = ACT_OPS("relu"),
	[EE_ACT_SIGMOID] = ACT_OPS("sigmoid"),
};

struct ee_layer *ee_activation_new(struct ee_pool *p, enum ee_act act)
{
	int known = act == EE_ACT_RELU || act == EE_ACT_SIGMOID;
	struct activation *a = kind_alloc(p, sizeof(*a), &act_ops[known ? act : EE_ACT_NONE]);

	if (!a)
		return NULL;
	a->act = act;
	return &a->base;
}
