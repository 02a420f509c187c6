/*
 * avgpool.c - average pooling (torch.nn.AvgPool2d defaults: floor mode, zero
 * padding counted, so every window divides by k*k). The window machinery is
 * shared with maxpool.c (common.h).
 */
#include "common.h"

static void avgpool_forward(const struct ee_layer *l, struct ee_exec *x)
{
	pool2d_forward(l, x, false);
}

static const struct ee_layer_ops avgpool_ops = {
	.api_version = EE_LAYER_API,
	.kind = "avgpool",
	.infer = pool2d_infer,
	.cost = pool2d_cost,
	.forward = avgpool_forward,
};

struct ee_layer *ee_avgpool_new(struct ee_pool *p, int k, int stride, int pad)
{
	return pool2d_new(p, &avgpool_ops, k, stride, pad);
}
