/*
 * conv_transpose2d.c - transposed 2-D convolution (torch.nn.ConvTranspose2d,
 * groups 1, no output_padding), BN and activation fused as in conv2d.c.
 *
 * As PyTorch's slow_conv_transpose2d, each sample is one GEMM
 *     col [cout*k*k][h*w] = W^T [cout*k*k][cin] * x [cin][h*w]
 * (W is [cin][cout*k*k] as stored), then col2im adds the columns into the
 * output planes before the bias and activation. The GEMMs of a chunk of samples
 * run first, then one parallel pass of col2im jobs (sample, output channel), so
 * OpenBLAS's threads and ours take turns once per chunk, not once per sample.
 *
 * When k is a multiple of the stride s and the channels fit direct.h (the attention
 * maps of SCAN's exits: 4x4, stride 2, 8-32 channels), the sub-pixel form instead:
 * output pixel (s Y + py, s X + px) of phase (py, px) meets only the taps
 * (ry + s a, rx + s b), a, b < T = k / s, ry = (py + pad) % s, at input pixel
 * (Y + qy - a, X + qx - b), qy = (py + pad) / s. Each phase is a stride-1 convolution
 * with T x T taps of the zero-bordered input, computed by direct.h's kernel: no
 * columns of cout*k*k rows (k = cin 8 was a GEMM of depth 8) and no scatter-add. The
 * sums run in another order than col2im's, which changes float rounding only.
 */
#include "common.h"

#include "../direct.h"

#define MAX_COL_FLOATS (1 << 21) /* workspace cap: samples per chunk */

static int convt_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
		       struct ee_shape *out, struct ee_err *err)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (ct->cout < 1 || ct->k < 1 || ct->stride < 1 || ct->pad < 0)
		return ee_err_set(err, EE_ERR_INPUT,
				  "%d outputs, kernel %d, stride %d, padding %d: want all >= 1 "
				  "(padding >= 0)", ct->cout, ct->k, ct->stride, ct->pad);
	if (in->c != ct->cin)
		return ee_err_set(err, EE_ERR_INPUT, "expects %d input channels, got %d", ct->cin,
				  in->c);
	out->c = ct->cout;
	out->h = (in->h - 1) * ct->stride - 2 * ct->pad + ct->k;
	out->w = (in->w - 1) * ct->stride - 2 * ct->pad + ct->k;
	if (out->h < 1 || out->w < 1)
		return ee_err_set(err, EE_ERR_INPUT, "padding %d leaves no output of a %dx%d input",
				  ct->pad, in->h, in->w);
	return EE_OK;
}

/* cin*cout*k*k MACs per input pixel; BN 2 ops and the activation 1 per output element. */
static void convt_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;
	double outs = (double)ee_shape_numel(l->out);

	memset(c, 0, sizeof(*c));
	c->macs = (double)ct->cin * ct->cout * ct->k * ct->k * l->in.h * l->in.w;
	c->other = (ct->bn.on ? 2 * outs : 0) + (ct->act != EE_ACT_NONE ? outs : 0);
}

/* Whether the sub-pixel form applies (see the top of this file). */
static bool sub_pixel_fits(int cin, int cout, int k, int stride)
{
	return k % stride == 0 && ee_direct_fits(cin, cout, k / stride, k / stride, 1, 1);
}

/* Where the sub-pixel form works: the zero-bordered input planes and the phase grids. */
struct sub_pixel {
	int s, t;     /* stride, taps per side (k / s) */
	int border;   /* zero rows and columns before the input's first */
	int wp, hp;   /* padded width and rows: every tap of every valid output inside */
	int yn, xn;   /* largest phase grid */
};

static void sub_pixel_geometry(const struct ee_conv_transpose2d *ct, struct sub_pixel *g)
{
	const struct ee_shape in = ct->base.in, o = ct->base.out;
	int lo, hi;

	g->s = ct->stride;
	g->t = ct->k / ct->stride;
	g->yn = (o.h + g->s - 1) / g->s;
	g->xn = (o.w + g->s - 1) / g->s;
	lo = ct->pad / g->s;                 /* smallest qy, qx */
	hi = (g->s - 1 + ct->pad) / g->s;    /* largest */
	g->border = g->t - 1 > lo ? g->t - 1 - lo : 0; /* reads from Y + lo - (t - 1) on */
	/* valid outputs read columns up to xn - 1 + hi without wrapping; the columns past
	 * xn wrap into the next row, whose results are dropped, and the last row of a phase
	 * reads up to row yn + hi */
	g->wp = g->border + (in.w > g->xn + hi ? in.w : g->xn + hi);
	g->hp = g->border + (in.h > g->yn + hi + 1 ? in.h : g->yn + hi + 1);
}

/* Scratch of the sub-pixel form: the padded input planes and one phase's output. */
static size_t sub_pixel_workspace(const struct ee_conv_transpose2d *ct)
{
	struct sub_pixel g;

	sub_pixel_geometry(ct, &g);
	return (size_t)g.wp * ((size_t)ct->cin * g.hp + (size_t)ct->cout * g.yn);
}

/* phase [s*s][cout][cin][t*t] from the (BN-folded) weight [cin][cout][k][k]. */
static void sub_pixel_filters(struct ee_conv_transpose2d *ct)
{
	int s = ct->stride, t = ct->k / s, k = ct->k, py, px, o, i, a, b;
	float *f = ct->phase;

	for (py = 0; py < s; py++)
		for (px = 0; px < s; px++)
			for (o = 0; o < ct->cout; o++)
				for (i = 0; i < ct->cin; i++)
					for (a = 0; a < t; a++)
						for (b = 0; b < t; b++) {
							int ky = (py + ct->pad) % s + s * a;
							int kx = (px + ct->pad) % s + s * b;

							*f++ = ct->weight[(((size_t)i * ct->cout + o) * k +
									   ky) * k + kx];
						}
}

/* Sample i by the sub-pixel form, with thread tid's scratch (arg: the geometry). */
static void sub_pixel_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			   int j, int tid)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;
	const struct sub_pixel *g = arg;
	const struct ee_shape in = l->in, o = l->out;
	size_t xs = (size_t)g->hp * g->wp, taps = (size_t)g->t * g->t;
	float *xp = x->work + (size_t)tid * x->work_stride, *ys = xp + (size_t)ct->cin * xs;
	int s = g->s, c, y, py, px;

	(void)j;
	for (c = 0; c < ct->cin; c++) {
		float *p = xp + c * xs;

		memset(p, 0, xs * sizeof(float));
		for (y = 0; y < in.h; y++)
			memcpy(p + (size_t)(y + g->border) * g->wp + g->border,
			       kind_plane(&x->in[0], i, c) + (size_t)y * in.w, in.w * sizeof(float));
	}
	for (py = 0; py < s; py++)
		for (px = 0; px < s; px++) {
			int yp = (o.h - py + s - 1) / s, xq = (o.w - px + s - 1) / s;
			int qy = (py + ct->pad) / s, qx = (px + ct->pad) / s, off[EE_DIRECT_MAX_TAPS];
			size_t len = (size_t)yp * g->wp;
			int a, b, oc, Y, X;

			for (a = 0; a < g->t; a++)
				for (b = 0; b < g->t; b++)
					off[a * g->t + b] = (g->border + qy - a) * g->wp + g->border + qx - b;
			ee_direct_conv(ct->phase + (size_t)(py * s + px) * ct->cout * ct->cin * taps,
				       ct->bias, off, (int)taps, xp, xs, ct->cin, ct->cout, len, ys, len);
			for (oc = 0; oc < ct->cout; oc++) {
				float *dst = kind_plane(&x->out, i, oc) + (size_t)py * o.w + px;
				const float *src = ys + oc * len;

				for (Y = 0; Y < yp; Y++)
					for (X = 0; X < xq; X++)
						dst[(size_t)s * Y * o.w + (size_t)s * X] =
							src[(size_t)Y * g->wp + X];
			}
		}
	for (c = 0; c < ct->cout; c++)
		ee_affine_act(kind_plane(&x->out, i, c), (size_t)o.h * o.w, 1.0f, 0.0f, ct->act);
}

/* Floats of one sample's columns. */
static size_t col_floats(const struct ee_layer *l)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;

	return (size_t)ct->cout * ct->k * ct->k * l->in.h * l->in.w;
}

/* Samples per chunk: as many as fit the cap, at least one. */
static int chunk(const struct ee_layer *l, int n)
{
	size_t nb = MAX_COL_FLOATS / col_floats(l);

	return nb < 1 ? 1 : nb < (size_t)n ? (int)nb : n;
}

static size_t convt_workspace(const struct ee_layer *l, int n)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;

	return ct->phase ? sub_pixel_workspace(ct) : col_floats(l) * chunk(l, n);
}

/* BN folded into W[:, o] and bias[o]. */
static int convt_prepare(struct ee_layer *l, struct ee_err *err)
{
	struct ee_conv_transpose2d *ct = (struct ee_conv_transpose2d *)l;

	int rc = ee_bn_fold(&ct->bn, ct->cout, ct->weight, (size_t)ct->cin, (size_t)ct->k * ct->k,
			    ct->bias, err);

	if (rc == EE_OK && ct->phase)
		sub_pixel_filters(ct);
	return rc;
}

/* Output plane oc of sample *i0 + s from the columns of chunk sample s (arg: &i0). */
static void col2im_item(const struct ee_layer *l, struct ee_exec *x, const void *arg, int s,
			int oc, int tid)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;
	const struct ee_shape in = l->in, o = l->out;
	float *dst = kind_plane(&x->out, *(const int *)arg + s, oc);
	size_t plane = (size_t)o.h * o.w, hw = (size_t)in.h * in.w;

	(void)tid;
	memset(dst, 0, plane * sizeof(float));
	ee_col2im(x->work + s * col_floats(l) + (size_t)oc * ct->k * ct->k * hw, hw, 1, o.h, o.w,
		  ct->k, ct->k, ct->stride, ct->pad, in.h, in.w, dst);
	ee_affine_act(dst, plane, 1.0f, ct->bias ? ct->bias[oc] : 0.0f, ct->act);
}

static void convt_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct ee_conv_transpose2d *ct = (const struct ee_conv_transpose2d *)l;
	const struct ee_shape in = l->in;
	int rows = ct->cout * ct->k * ct->k, hw = in.h * in.w, nb = chunk(l, x->n), i0, j;
	size_t cols = col_floats(l);

	if (ct->phase) {
		struct sub_pixel g;

		sub_pixel_geometry(ct, &g);
		kind_for(l, x, &g, x->n, 1, (double)x->n * ct->cin * ct->cout * ct->k * ct->k * hw,
			 sub_pixel_item);
		return;
	}

	for (i0 = 0; i0 < x->n; i0 += nb) {
		int cnt = x->n - i0 < nb ? x->n - i0 : nb;

		for (j = 0; j < cnt; j++)
			ee_gemm_ex(true, false, rows, hw, ct->cin, ct->weight, rows,
				   ee_tensor_sample(&x->in[0], i0 + j), hw, 0.0f, x->work + j * cols,
				   hw);
		kind_for(l, x, &i0, cnt, ct->cout, kind_mem_work(3.0 * cnt * cols), col2im_item);
	}
}

static const struct ee_layer_ops conv_transpose2d_ops = {
	.api_version = EE_LAYER_API,
	.kind = "conv_transpose2d",
	.infer = convt_infer,
	.cost = convt_cost,
	.workspace = convt_workspace,
	.prepare = convt_prepare,
	.forward = convt_forward,
};

struct ee_conv_transpose2d *ee_conv_transpose2d_new(struct ee_pool *p, int cin, int cout, int k,
						    int stride, int pad)
{
	struct ee_conv_transpose2d *ct = kind_alloc(p, sizeof(*ct), &conv_transpose2d_ops);

	if (!ct)
		return NULL;
	ct->cin = cin;
	ct->cout = cout;
	ct->k = k;
	ct->stride = stride;
	ct->pad = pad;
	ct->bn.eps = 1e-5f;
	if (k >= 1 && stride >= 1 && sub_pixel_fits(cin, cout, k, stride) &&
	    !(ct->phase = ee_pool_alloc(p, (size_t)cin * cout * k * k * sizeof(float))))
		return NULL;
	return ct;
}
