/*
 * maxpool.c - max pooling (torch.nn.MaxPool2d, floor mode): padding is -inf, so
 * it never wins. The window machinery is shared with avgpool.c (common.h).
 */
#include "common.h"

static void maxpool_forward(const struct ee_layer *l, struct ee_exec *x)
{
	pool2d_forward(l, x, true);
}

static const struct ee_layer_ops maxpool_ops = {
	.api_version = EE_LAYER_API,
	.kind = "maxpool",
	.infer = pool2d_infer,
	.cost = pool2d_cost,
	.forward = maxpool_forward,
};

struct ee_layer *ee_maxpool_new(struct ee_pool *p, int k, int stride, int pad)
{
	return pool2d_new(p, &maxpool_ops, k, stride, pad);
}
