/*
 * upsample.c - bilinear upsampling by an integer factor, align_corners=False
 * (nn.Upsample(scale_factor=f, mode="bilinear")), computed as PyTorch 1.13's
 * upsample_bilinear2d: along each axis output index d reads source
 *     s = max(0, (1/f) * (d + 0.5) - 0.5),  i0 = min(floor(s), in-1),
 *     i1 = i0 + (i0 < in-1),  l1 = s - i0,  l0 = 1 - l1
 * and y = (x[i0][j0]*m0 + x[i0][j1]*m1) * l0 + (x[i1][j0]*m0 + x[i1][j1]*m1) * l1.
 */
#include "common.h"

struct upsample {
	struct ee_layer base;
	int factor;
};

/* Where output index d of an axis reads from (see the header comment). */
struct tap2 {
	int i0, i1;
	float l0, l1;
};

static int upsample_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			  struct ee_shape *out, struct ee_err *err)
{
	const struct upsample *u = (const struct upsample *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (u->factor < 1 || u->factor > 64)
		return ee_err_set(err, EE_ERR_INPUT, "scale factor %d: want 1 to 64", u->factor);
	out->c = in->c;
	out->h = in->h * u->factor;
	out->w = in->w * u->factor;
	return EE_OK;
}

/* Four ops per output element (two lerps' worth of multiply-adds). */
static void upsample_cost(const struct ee_layer *l, struct ee_cost *c)
{
	kind_cost_other(c, 4.0 * (double)ee_shape_numel(l->out));
}

/* Room for the column taps. */
static size_t upsample_workspace(const struct ee_layer *l, int n)
{
	(void)n;
	return ((size_t)l->out.w * sizeof(struct tap2) + sizeof(float) - 1) / sizeof(float);
}

static struct tap2 source(int d, int factor, int in)
{
	float scale = (float)(1.0 / factor);
	/* PyTorch computes this in double (its 0.5 is a double), then stores a float */
	float s = (float)((double)scale * ((double)d + 0.5) - 0.5);
	struct tap2 t;

	if (s < 0.0f)
		s = 0.0f;
	t.i0 = (int)s < in - 1 ? (int)s : in - 1;
	t.i1 = t.i0 + (t.i0 < in - 1);
	t.l1 = s - (float)t.i0;
	t.l1 = t.l1 < 0.0f ? 0.0f : t.l1 > 1.0f ? 1.0f : t.l1;
	t.l0 = 1.0f - t.l1;
	return t;
}

/* One output row from input rows r0 (weight l0) and r1 (l1), columns by tab. */
EE_KERNEL
static void lerp_row(const float *r0, const float *r1, float l0, float l1,
		     const struct tap2 *tab, float *y, int ow)
{
	int ox;

	for (ox = 0; ox < ow; ox++) {
		const struct tap2 t = tab[ox];

		y[ox] = (r0[t.i0] * t.l0 + r0[t.i1] * t.l1) * l0 +
			(r1[t.i0] * t.l0 + r1[t.i1] * t.l1) * l1;
	}
}

/* Plane ch of sample i; arg: the column taps. */
static void upsample_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			  int ch, int tid)
{
	const struct upsample *u = (const struct upsample *)l;
	const struct ee_tensor *in = &x->in[0];
	const float *src = kind_plane(in, i, ch);
	float *dst = kind_plane(&x->out, i, ch);
	int oy;

	(void)tid;
	for (oy = 0; oy < x->out.h; oy++) {
		struct tap2 r = source(oy, u->factor, in->h);

		lerp_row(src + (size_t)r.i0 * in->w, src + (size_t)r.i1 * in->w, r.l0, r.l1, arg,
			 dst + (size_t)oy * x->out.w, x->out.w);
	}
}

static void upsample_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct upsample *u = (const struct upsample *)l;
	const struct ee_tensor *in = &x->in[0];
	const struct ee_shape o = l->out;
	struct tap2 *cols = (struct tap2 *)(void *)x->work;
	int ox;

	for (ox = 0; ox < o.w; ox++)
		cols[ox] = source(ox, u->factor, in->w);
	kind_for(l, x, cols, x->n, o.c, kind_mem_work(3.0 * x->n * ee_shape_numel(o)),
		 upsample_item);
}

static const struct ee_layer_ops upsample_ops = {
	.api_version = EE_LAYER_API,
	.kind = "upsample",
	.infer = upsample_infer,
	.cost = upsample_cost,
	.workspace = upsample_workspace,
	.forward = upsample_forward,
};

struct ee_layer *ee_upsample_new(struct ee_pool *p, int factor)
{
	struct upsample *u = kind_alloc(p, sizeof(*u), &upsample_ops);

	if (!u)
		return NULL;
	u->factor = factor;
	return &u->base;
}
