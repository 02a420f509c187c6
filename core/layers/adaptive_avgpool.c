/*
 * adaptive_avgpool.c - torch.nn.AdaptiveAvgPool2d: output pixel (oy, ox) is the
 * mean of input rows [floor(oy*H/oh), ceil((oy+1)*H/oh)) and likewise columns.
 * Bins may overlap or differ in size. PyTorch divides a bin's sum by its height,
 * then its width; a 1x1 output (global pooling) is its mean(), sum / (H*W).
 */
#include "common.h"

struct adaptive_avgpool {
	struct ee_layer base;
	int oh, ow;
};

static int adaptive_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			  struct ee_shape *out, struct ee_err *err)
{
	const struct adaptive_avgpool *a = (const struct adaptive_avgpool *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (a->oh < 1 || a->ow < 1)
		return ee_err_set(err, EE_ERR_INPUT, "output size %dx%d: want at least 1x1", a->oh,
				  a->ow);
	out->c = in->c;
	out->h = a->oh;
	out->w = a->ow;
	return EE_OK;
}

/* One op per input element. */
static void adaptive_cost(const struct ee_layer *l, struct ee_cost *c)
{
	kind_cost_other(c, (double)ee_shape_numel(l->in));
}

/* Sum of rows [y0, y1), columns [x0, x1) of x [][w]; one vector sum if the rows are whole. */
static float bin_sum(const float *x, int w, int y0, int y1, int x0, int x1)
{
	float s = 0.0f;
	int y;

	if (x0 == 0 && x1 == w)
		return ee_sum(x + (size_t)y0 * w, (size_t)(y1 - y0) * w);
	for (y = y0; y < y1; y++)
		s += ee_sum(x + (size_t)y * w + x0, (size_t)(x1 - x0));
	return s;
}

static void pool_plane(const float *x, int h, int w, float *y, int oh, int ow)
{
	int oy, ox;

	for (oy = 0; oy < oh; oy++) {
		int y0 = oy * h / oh, y1 = ((oy + 1) * h + oh - 1) / oh;

		for (ox = 0; ox < ow; ox++) {
			int x0 = ox * w / ow, x1 = ((ox + 1) * w + ow - 1) / ow;
			float s = bin_sum(x, w, y0, y1, x0, x1);

			y[oy * ow + ox] = s / (float)(y1 - y0) / (float)(x1 - x0);
		}
	}
}

/* Global pooling: a sample's planes in one call. */
static void global_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			int j, int tid)
{
	const struct ee_tensor *in = &x->in[0];

	(void)l, (void)arg, (void)j, (void)tid;
	ee_row_means(ee_tensor_sample(in, i), (size_t)in->c, ee_tensor_plane(in),
		     ee_tensor_sample(&x->out, i));
}

static void plane_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
		       int ch, int tid)
{
	const struct ee_tensor *in = &x->in[0];

	(void)l, (void)arg, (void)tid;
	pool_plane(kind_plane(in, i, ch), in->h, in->w, kind_plane(&x->out, i, ch), x->out.h,
		   x->out.w);
}

static void adaptive_forward(const struct ee_layer *l, struct ee_exec *x)
{
	double work = kind_mem_work((double)x->n * ee_shape_numel(l->in));

	if (x->out.h == 1 && x->out.w == 1)
		kind_for(l, x, NULL, x->n, 1, work, global_item);
	else
		kind_for(l, x, NULL, x->n, x->out.c, work, plane_item);
}

static const struct ee_layer_ops adaptive_avgpool_ops = {
	.api_version = EE_LAYER_API,
	.kind = "adaptive_avgpool",
	.infer = adaptive_infer,
	.cost = adaptive_cost,
	.forward = adaptive_forward,
};

struct ee_layer *ee_adaptive_avgpool_new(struct ee_pool *p, int oh, int ow)
{
	struct adaptive_avgpool *a = kind_alloc(p, sizeof(*a), &adaptive_avgpool_ops);

	if (!a)
		return NULL;
	a->oh = oh;
	a->ow = ow;
	return &a->base;
}
