/*
 * batchnorm.c - eval-mode BatchNorm2d that could not be folded into a conv
 * (e.g. after a ReLU), with an optional activation; and ee_bn_affine() and
 * ee_bn_fold(), the folds every fused kind shares.
 */
#include <math.h>
#include <string.h>

#include "common.h"

void ee_bn_affine(const struct ee_bn *bn, int c, const float *bias, float *scale, float *shift)
{
	int i;

	for (i = 0; i < c; i++) {
		double b = bias ? bias[i] : 0.0, s;

		if (!bn->gamma) {
			scale[i] = 1.0f;
			shift[i] = (float)b;
			continue;
		}
		s = (double)bn->gamma[i] / sqrt((double)bn->var[i] + (double)bn->eps);
		scale[i] = (float)s;
		shift[i] = (float)((b - bn->mean[i]) * s + bn->beta[i]);
	}
}

int ee_bn_fold(struct ee_bn *bn, int c, float *weight, size_t outer, size_t per, float *bias,
	       struct ee_err *err)
{
	size_t a, j;
	int o;

	if (!bn->gamma)
		return EE_OK;
	if (!bias)
		return ee_err_set(err, EE_ERR_INTERNAL, "no room for the folded batchnorm's bias");
	for (o = 0; o < c; o++) {
		struct ee_bn one = *bn; /* channel o alone */
		float scale;

		one.gamma += o;
		one.beta += o;
		one.mean += o;
		one.var += o;
		ee_bn_affine(&one, 1, bias + o, &scale, bias + o);
		for (a = 0; a < outer; a++)
			for (j = 0; j < per; j++)
				weight[(a * c + o) * per + j] *= scale;
	}
	bn->gamma = NULL;
	return EE_OK;
}

static int bn_infer(struct ee_layer *l, const struct ee_shape *in, int nin, struct ee_shape *out,
		    struct ee_err *err)
{
	const struct ee_batchnorm *b = (const struct ee_batchnorm *)l;

	(void)nin;
	if (in->c != b->c)
		return ee_err_set(err, EE_ERR_INPUT, "expects %d channels, got %d", b->c, in->c);
	*out = *in;
	return EE_OK;
}

static void bn_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct ee_batchnorm *b = (const struct ee_batchnorm *)l;
	double outs = (double)ee_shape_numel(l->out);

	memset(c, 0, sizeof(*c));
	c->other = 2 * outs + (b->act != EE_ACT_NONE ? outs : 0);
}

static int bn_prepare(struct ee_layer *l, struct ee_err *err)
{
	struct ee_batchnorm *b = (struct ee_batchnorm *)l;

	(void)err;
	ee_bn_affine(&b->bn, b->c, NULL, b->scale, b->shift);
	return EE_OK;
}

static void bn_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i, int ch,
		    int tid)
{
	const struct ee_batchnorm *b = (const struct ee_batchnorm *)l;
	size_t plane = ee_tensor_plane(&x->out);

	(void)arg, (void)tid;
	ee_affine_act_copy(ee_tensor_sample(&x->out, i) + ch * plane,
			   ee_tensor_sample(&x->in[0], i) + ch * plane, plane, b->scale[ch],
			   b->shift[ch], b->act);
}

static void bn_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct ee_batchnorm *b = (const struct ee_batchnorm *)l;

	kind_for(l, x, NULL, x->n, b->c, kind_mem_work(2.0 * x->n * ee_shape_numel(l->out)),
		 bn_item);
}

static const struct ee_layer_ops batchnorm_ops = {
	.api_version = EE_LAYER_API,
	.kind = "batchnorm",
	.infer = bn_infer,
	.cost = bn_cost,
	.prepare = bn_prepare,
	.forward = bn_forward,
};

struct ee_batchnorm *ee_batchnorm_new(struct ee_pool *p, int c, enum ee_act act)
{
	struct ee_batchnorm *b = ee_pool_alloc(p, sizeof(*b));

	if (!b || !(b->scale = ee_pool_alloc(p, 2 * (size_t)c * sizeof(float))))
		return NULL;
	b->shift = b->scale + c;
	b->base.ops = &batchnorm_ops;
	b->c = c;
	b->act = act;
	b->bn.eps = 1e-5f;
	return b;
}
