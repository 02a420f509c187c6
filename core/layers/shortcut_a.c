/*
 * shortcut_a.c - He et al.'s option-A shortcut of CIFAR ResNets (akamaster's
 * LambdaLayer): F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, pad_lo, pad_hi)), i.e. a
 * strided subsample framed by pad_lo zero channels before and pad_hi after.
 */
#include "common.h"

struct shortcut_a {
	struct ee_layer base;
	int stride, pad_lo, pad_hi;
};

static int shortcut_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			  struct ee_shape *out, struct ee_err *err)
{
	const struct shortcut_a *s = (const struct shortcut_a *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (s->stride < 1 || s->pad_lo < 0 || s->pad_hi < 0)
		return ee_err_set(err, EE_ERR_INPUT,
				  "stride %d, padding %d+%d channels: want stride >= 1, padding >= 0",
				  s->stride, s->pad_lo, s->pad_hi);
	out->c = s->pad_lo + in->c + s->pad_hi;
	out->h = (in->h + s->stride - 1) / s->stride;
	out->w = (in->w + s->stride - 1) / s->stride;
	return EE_OK;
}

/* Free: it moves data only. */
static void shortcut_cost(const struct ee_layer *l, struct ee_cost *c)
{
	(void)l;
	kind_cost_other(c, 0);
}

/* Output plane ch of sample i: zeros, or the subsampled input channel (a 1x1 im2col). */
static void shortcut_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			  int ch, int tid)
{
	const struct shortcut_a *s = (const struct shortcut_a *)l;
	const struct ee_tensor *in = &x->in[0];
	const struct ee_shape o = l->out;
	size_t plane = (size_t)o.h * o.w;
	int src = ch - s->pad_lo;
	float *dst = kind_plane(&x->out, i, ch);

	(void)arg, (void)tid;
	if (src < 0 || src >= in->c)
		memset(dst, 0, plane * sizeof(float));
	else
		ee_im2col(kind_plane(in, i, src), 1, in->h, in->w, 1, 1, s->stride, 0, o.h, o.w,
			  dst, plane);
}

static void shortcut_forward(const struct ee_layer *l, struct ee_exec *x)
{
	kind_for(l, x, NULL, x->n, l->out.c, kind_mem_work(2.0 * x->n * ee_shape_numel(l->out)),
		 shortcut_item);
}

static const struct ee_layer_ops shortcut_a_ops = {
	.api_version = EE_LAYER_API,
	.kind = "shortcut_a",
	.infer = shortcut_infer,
	.cost = shortcut_cost,
	.forward = shortcut_forward,
};

struct ee_layer *ee_shortcut_a_new(struct ee_pool *p, int stride, int pad_lo, int pad_hi)
{
	struct shortcut_a *s = kind_alloc(p, sizeof(*s), &shortcut_a_ops);

	if (!s)
		return NULL;
	s->stride = stride;
	s->pad_lo = pad_lo;
	s->pad_hi = pad_hi;
	return &s->base;
}
