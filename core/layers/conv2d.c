/*
 * conv2d.c - 2-D convolution (torch.nn.Conv2d, no dilation), BN and activation fused.
 *
 * Dense convolutions are im2col + one GEMM per group. When a sample's output
 * plane is small (deep layers), several samples share one GEMM so that it stays
 * wide: their columns sit side by side and the result is scattered back to
 * NCHW while the bias and activation are applied. A 1x1, stride 1, unpadded
 * conv of a single sample needs no im2col at all: the input is the column
 * matrix. Depthwise convolutions (groups = cin = cout) run a direct tap kernel.
 */
#include <string.h>

#include "../dwconv.h"
#include "../kernels.h"
#include "../direct.h"
#include "../layers.h"
#include "../threads.h"
#include "../winograd.h"

#define MIN_GEMM_COLS 256 /* samples are batched until a GEMM has this many columns */
#define MAX_COL_FLOATS (96L << 10) /* fewer samples per GEMM when their im2col columns
				   * pass this (384 KB, in L2): the 8x8 patch conv of an
				   * exit head (1024 rows) took 18-22 us a sample in chunks
				   * of 16 samples (1 MB), 11-14 in chunks of 6 */
#define WINO_MIN_TILES 64 /* fewer tiles in a call (batch 1 on small planes): the 16 skinny
			   * products of Winograd lose to one im2col + GEMM */

static bool is_depthwise(const struct ee_conv2d *cv)
{
	return cv->groups == cv->cin && cv->groups == cv->cout && cv->groups > 1;
}

static bool is_pointwise(const struct ee_conv2d *cv)
{
	return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0;
}

/* A conv with few channels: the direct kernel of direct.h. */
static bool is_direct(const struct ee_conv2d *cv)
{
	return !cv->wino && !is_depthwise(cv) &&
	       ee_direct_fits(cv->cin, cv->cout, cv->kh, cv->kw, cv->stride, cv->groups);
}

/* Rows of the zero-padded input the direct path lays out: one more than the padded
 * height, because the pixels past the last column of a row read into the next row. */
static int direct_rows(const struct ee_conv2d *cv)
{
	return cv->base.in.h + 2 * cv->pad + 1;
}

/* Scratch of the direct path: the padded input and the output at the padded width. */
static size_t direct_workspace(const struct ee_conv2d *cv)
{
	size_t wp = (size_t)cv->base.in.w + 2 * cv->pad;

	if (is_pointwise(cv))
		return 0;
	return wp * ((size_t)cv->cin * direct_rows(cv) + (size_t)cv->cout * cv->base.out.h);
}

static int conv_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
		      struct ee_shape *out, struct ee_err *err)
{
	const struct ee_conv2d *cv = (const struct ee_conv2d *)l;

	(void)nin;
	if (cv->kh < 1 || cv->kw < 1 || cv->stride < 1 || cv->pad < 0 || cv->groups < 1 ||
	    cv->cin % cv->groups || cv->cout % cv->groups)
		return ee_err_set(err, EE_ERR_INPUT,
				  "%d->%d channels in %d groups, %dx%d kernel, stride %d, padding %d",
				  cv->cin, cv->cout, cv->groups, cv->kh, cv->kw, cv->stride, cv->pad);
	if (in->c != cv->cin)
		return ee_err_set(err, EE_ERR_INPUT, "expects %d input channels, got %d", cv->cin,
				  in->c);
	out->c = cv->cout;
	out->h = ee_conv_out(in->h, cv->kh, cv->stride, cv->pad);
	out->w = ee_conv_out(in->w, cv->kw, cv->stride, cv->pad);
	if (out->h < 1 || out->w < 1)
		return ee_err_set(err, EE_ERR_INPUT, "a %dx%d kernel does not fit a %dx%d input",
				  cv->kh, cv->kw, in->h, in->w);
	return EE_OK;
}

/* MACs of one sample. */
static double sample_macs(const struct ee_conv2d *cv)
{
	return (double)ee_shape_numel(cv->base.out) * (cv->cin / cv->groups) * cv->kh * cv->kw;
}

static void conv_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct ee_conv2d *cv = (const struct ee_conv2d *)l;
	double outs = (double)ee_shape_numel(l->out);

	memset(c, 0, sizeof(*c));
	c->macs = sample_macs(cv);
	c->other = (cv->bn.on ? 2 * outs : 0) + (cv->act != EE_ACT_NONE ? outs : 0);
}

/* At most this many samples share a GEMM of `cols` columns each: enough for
 * MIN_GEMM_COLS columns, but no more than fit their im2col columns of `rows` rows
 * (0: none) in MAX_COL_FLOATS. */
static int gemm_batch_max(int n, int cols, long rows)
{
	int nb = (MIN_GEMM_COLS + cols - 1) / cols;
	long fit = rows ? MAX_COL_FLOATS / (rows * cols) : nb;

	if (nb > fit)
		nb = fit > 1 ? (int)fit : 1;
	return nb < n ? nb : n;
}

/* Rows of a dense conv's im2col columns. */
static long col_rows(const struct ee_conv2d *cv)
{
	return (long)cv->cin / cv->groups * cv->kh * cv->kw;
}

/*
 * Samples per GEMM for a batch of n: gemm_batch_max(), then fewer so that the
 * chunks divide evenly among the threads. Never more than gemm_batch_max(), which
 * the workspace is sized for: ceil(n / ceil(n / nb)) <= nb.
 */
static int gemm_batch(const struct ee_conv2d *cv, int n, int threads)
{
	int nb = gemm_batch_max(n, cv->base.out.h * cv->base.out.w, col_rows(cv));
	int chunks = (n + nb - 1) / nb;

	if (chunks > 1 && threads > 1)
		chunks = (chunks + threads - 1) / threads * threads;
	return (n + chunks - 1) / chunks;
}

/* Scratch of the Winograd path: a chunk of gemm_batch_max samples' tiles and one padded
 * plane (the lane-0 area holds a plane per thread, see exec.h). */
static size_t wino_workspace(const struct ee_conv2d *cv, int n)
{
	const struct ee_shape o = cv->base.out;
	int nb = gemm_batch_max(n, ee_wino_tiles(o.h, o.w), 0);

	return ee_wino_workspace(cv->cin, cv->cout, nb * ee_wino_tiles(o.h, o.w)) +
	       (size_t)(o.h + 3) * (o.w + 3);
}

/* Winograd for a call on n samples: the layer has its weights and the call enough tiles. */
static bool use_wino(const struct ee_conv2d *cv, int n)
{
	return cv->wino &&
	       (long)n * ee_wino_tiles(cv->base.out.h, cv->base.out.w) >= WINO_MIN_TILES;
}

/* Scratch of the paths other than Winograd (which the last, smaller micro-batch of a
 * Winograd layer may take). */
static size_t dense_workspace(const struct ee_conv2d *cv, int n)
{
	const struct ee_layer *l = &cv->base;
	size_t plane = (size_t)l->out.h * l->out.w, k = (size_t)col_rows(cv);
	int nb = gemm_batch_max(n, l->out.h * l->out.w, col_rows(cv));

	if (is_depthwise(cv))
		return ee_pad_floats(l->in.h, l->in.w, cv->pad);
	if (is_direct(cv))
		return direct_workspace(cv);
	if (nb == 1 && is_pointwise(cv) && cv->groups == 1)
		return 0;
	return k * nb * plane + (nb > 1 ? (size_t)cv->cout / cv->groups * nb * plane : 0);
}

static size_t conv_workspace(const struct ee_layer *l, int n)
{
	const struct ee_conv2d *cv = (const struct ee_conv2d *)l;
	size_t dense = use_wino(cv, 1) ? 0 : dense_workspace(cv, n);
	size_t wino = cv->wino ? wino_workspace(cv, n) : 0;

	return wino > dense ? wino : dense;
}

static int conv_prepare(struct ee_layer *l, struct ee_err *err)
{
	struct ee_conv2d *cv = (struct ee_conv2d *)l;
	/* bias was given room by the builder when the conv had none */
	int rc = ee_bn_fold(&cv->bn, cv->cout, cv->weight, 1,
			    (size_t)col_rows(cv), cv->bias, err);

	if (rc == EE_OK && cv->wino)
		ee_wino_weights(cv->weight, cv->cin, cv->cout, cv->wino);
	return rc;
}

static void epilogue(const struct ee_conv2d *cv, float *plane, size_t len, int o)
{
	ee_affine_act(plane, len, 1.0f, cv->bias ? cv->bias[o] : 0.0f, cv->act);
}

/* The layer and batch of a parallel loop of this file. */
struct conv_loop {
	const struct ee_conv2d *cv;
	struct ee_exec *x;
	const struct ee_tensor *in;
	struct ee_tensor *out;
	int i0, nb, g;    /* first sample, samples and group of a chunk */
	float *buf;       /* the chunk's columns or staged products */
};

/* Planes [lo, hi) of (sample, channel) of a depthwise conv, with thread tid's padded plane. */
static void depthwise_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	const struct ee_conv2d *cv = c->cv;
	const struct ee_tensor *in = c->in;
	const struct ee_shape o = cv->base.out;
	float *xp = c->x->work + (size_t)tid * c->x->work_stride;
	int kk = cv->kh * cv->kw, wp = in->w + 2 * cv->pad;
	bool bordered = false;
	long job;

	for (job = lo; job < hi; job++) {
		int i = (int)(job / cv->cout), ch = (int)(job % cv->cout);
		const float *src = ee_tensor_sample(in, i) + (size_t)ch * in->h * in->w;
		float *dst = ee_tensor_sample(c->out, i) + (size_t)ch * o.h * o.w;
		struct ee_taps taps;

		ee_pad_reuse(src, in->h, in->w, cv->pad, xp, &bordered);
		ee_taps_from_kernel(&taps, cv->weight + (size_t)ch * kk, cv->kh, cv->kw, cv->kw, wp,
				    NULL);
		ee_dw_taps(xp, wp, &taps, cv->stride, dst, o.h, o.w, false);
		epilogue(cv, dst, (size_t)o.h * o.w, ch);
	}
}

static void forward_depthwise(const struct ee_conv2d *cv, struct ee_exec *x)
{
	struct conv_loop c = { .cv = cv, .x = x, .in = &x->in[0], .out = &x->out };
	double macs = (double)x->n * sample_macs(cv);

	ee_parallel_for(x->threads, (long)x->n * cv->cout, macs, depthwise_range, &c);
}

/* Items [lo, hi) of (chunk sample j, channel ch of group g): their im2col columns. */
static void columns_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	const struct ee_conv2d *cv = c->cv;
	const struct ee_tensor *in = c->in;
	const struct ee_shape o = cv->base.out;
	int cg = cv->cin / cv->groups;
	size_t plane = (size_t)o.h * o.w, ld = plane * c->nb;
	long job;

	(void)tid;
	for (job = lo; job < hi; job++) {
		int j = (int)(job / cg), ch = (int)(job % cg);
		const float *src = ee_tensor_sample(in, c->i0 + j) +
				   (size_t)(c->g * cg + ch) * in->h * in->w;

		ee_im2col(src, 1, in->h, in->w, cv->kh, cv->kw, cv->stride, cv->pad, o.h, o.w,
			  c->buf + (size_t)ch * cv->kh * cv->kw * ld + j * plane, ld);
	}
}

/* Columns of samples [i0, i0 + nb) for group g into col [k][nb*plane]. */
static void fill_columns(const struct ee_conv2d *cv, struct ee_exec *x, int i0, int nb, int g,
			 float *col)
{
	struct conv_loop c = { cv, x, &x->in[0], &x->out, i0, nb, g, col };
	double floats = (double)nb * col_rows(cv) * x->out.h * x->out.w;

	ee_parallel_for(x->threads, (long)nb * (cv->cin / cv->groups), 4.0 * floats, columns_range,
			&c);
}

/* Items [lo, hi) of (chunk sample j, output channel oc of group g): staged products to
 * the output, with bias and act. */
static void scatter_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	const struct ee_conv2d *cv = c->cv;
	int og = cv->cout / cv->groups;
	size_t plane = (size_t)c->out->h * c->out->w;
	long job;

	(void)tid;
	for (job = lo; job < hi; job++) {
		int j = (int)(job / og), oc = (int)(job % og), o = c->g * og + oc;

		ee_affine_act_copy(ee_tensor_sample(c->out, c->i0 + j) + o * plane,
				   c->buf + (size_t)oc * c->nb * plane + j * plane, plane, 1.0f,
				   cv->bias ? cv->bias[o] : 0.0f, cv->act);
	}
}

/* Items [lo, hi): output channels g*og + item of sample i0, bias and act in place. */
static void epilogue_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	int og = c->cv->cout / c->cv->groups;
	size_t plane = (size_t)c->out->h * c->out->w;
	long o;

	(void)tid;
	for (o = lo; o < hi; o++)
		epilogue(c->cv, c->buf + o * plane, plane, c->g * og + (int)o);
}

/* stage [og][nb*plane] -> output channels of group g of samples i0.., with bias and act;
 * stage NULL: the products are in the output already (one sample), only bias and act. */
static void scatter(const struct ee_conv2d *cv, struct ee_exec *x, float *stage, int i0, int nb,
		    int g)
{
	int og = cv->cout / cv->groups;
	struct conv_loop c = { cv, x, &x->in[0], &x->out, i0, nb, g, stage };
	double floats = (double)nb * og * x->out.h * x->out.w;

	if (stage) {
		ee_parallel_for(x->threads, (long)nb * og, 8.0 * floats, scatter_range, &c);
		return;
	}
	c.buf = ee_tensor_sample(&x->out, i0) + (size_t)g * og * x->out.h * x->out.w;
	ee_parallel_for(x->threads, og, 8.0 * floats, epilogue_range, &c);
}

/* Samples [i0, i0 + cnt) through im2col, GEMM and epilogue, with scratch ws; nb is the
 * chunk size (1: the GEMM writes the output directly). */
static void forward_chunk(const struct ee_conv2d *cv, struct ee_exec *x, int i0, int cnt, int nb,
			  float *ws)
{
	const struct ee_tensor *in = &x->in[0];
	int og = cv->cout / cv->groups, cg = cv->cin / cv->groups;
	int k = cg * cv->kh * cv->kw, g;
	size_t plane = (size_t)x->out.h * x->out.w;
	float *col = ws, *stage = ws + (size_t)k * nb * plane;

	for (g = 0; g < cv->groups; g++) {
		const float *w = cv->weight + (size_t)g * og * k;
		float *dst = ee_tensor_sample(&x->out, i0) + g * og * plane;

		if (nb == 1 && is_pointwise(cv)) {
			ee_gemm(og, (int)plane, k, w, k, ee_tensor_sample(in, i0) + g * cg * plane,
				(int)plane, dst, (int)plane);
		} else {
			fill_columns(cv, x, i0, cnt, g, col);
			ee_gemm(og, (int)(cnt * plane), k, w, k, col, (int)(cnt * plane),
				nb == 1 ? dst : stage, (int)(nb == 1 ? plane : cnt * plane));
		}
		scatter(cv, x, nb > 1 ? stage : NULL, i0, cnt, g);
	}
}

/*
 * With several chunks, each thread takes whole chunks with its own scratch (one
 * GEMM per thread, best locality); with one chunk (small batches) the chunk's
 * loops and its GEMM are split among the threads instead.
 */
/* Chunks [lo, hi) of nb samples, each with thread tid's scratch. */
static void chunk_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	long k;

	for (k = lo; k < hi; k++) {
		int i0 = (int)k * c->nb, cnt = c->x->n - i0 < c->nb ? c->x->n - i0 : c->nb;

		forward_chunk(c->cv, c->x, i0, cnt, c->nb,
			      c->x->work + (size_t)tid * c->x->work_stride);
	}
}

static void forward_dense(const struct ee_conv2d *cv, struct ee_exec *x)
{
	int nb = gemm_batch(cv, x->n, x->threads), chunks = (x->n + nb - 1) / nb;
	struct conv_loop c = { .cv = cv, .x = x, .nb = nb };

	if (chunks == 1) {
		forward_chunk(cv, x, 0, x->n, nb, x->work);
		return;
	}
	ee_parallel_for(x->threads, chunks, (double)x->n * sample_macs(cv), chunk_range, &c);
}

/*
 * Output channels [o0, o0 + cnt) of sample s by the direct kernel. A 1x1 conv reads
 * and writes the planes in place; otherwise the input is zero-padded into ws at the
 * padded width wp and the output computed there, then its valid columns copied out.
 */
static void direct_sample(const struct ee_conv2d *cv, struct ee_exec *x, int s, int o0, int cnt,
			  float *ws)
{
	const struct ee_tensor *in = &x->in[0];
	int wp = in->w + 2 * cv->pad, hp = direct_rows(cv), oh = x->out.h, ow = x->out.w;
	size_t plane = (size_t)oh * ow, xs = (size_t)hp * wp;
	float *dst = ee_tensor_sample(&x->out, s) + o0 * plane, *ys = ws + cv->cin * xs;
	int off[EE_DIRECT_MAX_TAPS], t, c, oy;

	for (t = 0; t < cv->kh * cv->kw; t++)
		off[t] = t / cv->kw * wp + t % cv->kw;
	if (is_pointwise(cv)) {
		ee_direct_conv(cv->weight + (size_t)o0 * cv->cin, cv->bias ? cv->bias + o0 : NULL,
			       off, 1, ee_tensor_sample(in, s), plane, cv->cin, cnt, plane, dst, plane);
		ee_affine_act(dst, cnt * plane, 1.0f, 0.0f, cv->act);
		return;
	}
	for (c = 0; c < cv->cin; c++) {
		ee_pad_plane(ee_tensor_sample(in, s) + (size_t)c * in->h * in->w, in->h, in->w, cv->pad,
			     ws + c * xs);
		memset(ws + c * xs + (size_t)(hp - 1) * wp, 0, (size_t)wp * sizeof(float));
	}
	ee_direct_conv(cv->weight + (size_t)o0 * cv->cin * cv->kh * cv->kw,
		       cv->bias ? cv->bias + o0 : NULL, off, cv->kh * cv->kw, ws, xs, cv->cin, cnt,
		       (size_t)oh * wp, ys, (size_t)oh * wp);
	for (c = 0; c < cnt; c++)
		for (oy = 0; oy < oh; oy++)
			ee_affine_act_copy(dst + c * plane + (size_t)oy * ow,
					   ys + (size_t)c * oh * wp + (size_t)oy * wp, (size_t)ow, 1.0f,
					   0.0f, cv->act);
}

/* Per sample; with fewer samples than threads each sample's output channels are split
 * among the threads in blocks of 4. */
/* Items [lo, hi) of (sample, block of c->nb output channels) by the direct kernel. */
static void direct_range(void *ctx, long lo, long hi, int tid)
{
	const struct conv_loop *c = ctx;
	int parts = (c->cv->cout + c->nb - 1) / c->nb;
	long job;

	for (job = lo; job < hi; job++) {
		int s = (int)(job / parts), o = (int)(job % parts) * c->nb;
		int cnt = c->cv->cout - o < c->nb ? c->cv->cout - o : c->nb;

		direct_sample(c->cv, c->x, s, o, cnt, c->x->work + (size_t)tid * c->x->work_stride);
	}
}

static void forward_direct(const struct ee_conv2d *cv, struct ee_exec *x)
{
	int parts = x->n >= x->threads ? 1 : x->threads;
	struct conv_loop c = { .cv = cv, .x = x, .nb = ((cv->cout + parts - 1) / parts + 3) & ~3 };

	ee_parallel_for(x->threads, (long)x->n * ((cv->cout + c.nb - 1) / c.nb),
			(double)x->n * sample_macs(cv), direct_range, &c);
}

/* Chunks of samples through Winograd, one after the other (each chunk splits its own
 * transforms and products among the threads). */
static void forward_wino(const struct ee_conv2d *cv, struct ee_exec *x)
{
	int tiles = ee_wino_tiles(x->out.h, x->out.w), nb = gemm_batch_max(x->n, tiles, 0), i0;

	for (i0 = 0; i0 < x->n; i0 += nb) {
		struct ee_tensor in = x->in[0], out = x->out;

		in.n = out.n = x->n - i0 < nb ? x->n - i0 : nb;
		in.data = ee_tensor_sample(&x->in[0], i0);
		out.data = ee_tensor_sample(&x->out, i0);
		ee_wino_conv(cv->wino, cv->bias, cv->act, &in, &out, cv->pad, x->work, x->threads);
	}
}

static void conv_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct ee_conv2d *cv = (const struct ee_conv2d *)l;

	if (use_wino(cv, x->n))
		forward_wino(cv, x);
	else if (is_direct(cv))
		forward_direct(cv, x);
	else if (is_depthwise(cv))
		forward_depthwise(cv, x);
	else
		forward_dense(cv, x);
}

static const struct ee_layer_ops conv2d_ops = {
	.api_version = EE_LAYER_API,
	.kind = "conv2d",
	.infer = conv_infer,
	.cost = conv_cost,
	.workspace = conv_workspace,
	.prepare = conv_prepare,
	.forward = conv_forward,
};

struct ee_conv2d *ee_conv2d_new(struct ee_pool *p, int cin, int cout, int kh, int kw, int stride,
				int pad, int groups)
{
	struct ee_conv2d *cv = ee_pool_alloc(p, sizeof(*cv));

	if (!cv)
		return NULL;
	cv->base.ops = &conv2d_ops;
	cv->cin = cin;
	cv->cout = cout;
	cv->kh = kh;
	cv->kw = kw;
	cv->stride = stride;
	cv->pad = pad;
	cv->groups = groups;
	cv->bn.eps = 1e-5f;
	/* the direct kernel beats Winograd where it fits (64 channels of 3x3 at 32x32: about
	 * 0.55x the time at batch 1 and 8), so such layers get no Winograd weights */
	if (!ee_direct_fits(cin, cout, kh, kw, stride, groups) &&
	    ee_wino_eligible(kh, kw, stride, groups, pad, cin, cout) &&
	    !(cv->wino = ee_pool_alloc(p, ee_wino_weight_floats(cin, cout) * sizeof(float))))
		return NULL;
	return cv;
}
