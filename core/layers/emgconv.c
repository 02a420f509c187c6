/*
 * emgconv.c - the EMG multi-scale conv (EMGNet's MLConv2d), gate-exact and lazy.
 *
 * MLConv2d is a depthwise 5x5 conv whose centre 3x3 taps form a 3x3 conv of
 * their own. PyTorch's reference code computes a masked 5x5 and a full 5x5
 * for every channel and blends them with the gate. We compute, per sample and
 * channel:
 *
 *   I  = the centre 3x3 taps over the input plane (+ bias)
 *   z  = mean over the plane of (|I| - t)            (in vector lanes, then double)
 *   open iff sigmoidf(z) - 0.5f > 0                  (float32, PyTorch's order:
 *                                                     0 for tiny positive z)
 *   if open: I += the 16 outer-ring taps             (never run for closed gates)
 *   out = act(I * scale + shift)                     (the following BatchNorm)
 *
 * The kernel counts the ring taps it really executed in x->ring_taps, so tests
 * can prove that closed channels cost nothing.
 */
#include <math.h>
#include <string.h>

#include "../dwconv.h"
#include "../kernels.h"
#include "../layers.h"
#include "../threads.h"

#define K 5 /* the kernel is 5x5; the centre is rows/cols 1..3 */

static int emg_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
		     struct ee_shape *out, struct ee_err *err)
{
	const struct ee_emgconv *e = (const struct ee_emgconv *)l;

	(void)nin;
	if (in->c != e->c)
		return ee_err_set(err, EE_ERR_INPUT, "expects %d channels, got %d", e->c, in->c);
	if (e->stride < 1 || e->pad < 1)
		return ee_err_set(err, EE_ERR_INPUT, "stride %d / padding %d unsupported", e->stride,
				  e->pad);
	out->c = e->c;
	out->h = ee_conv_out(in->h, K, e->stride, e->pad);
	out->w = ee_conv_out(in->w, K, e->stride, e->pad);
	if (out->h < 1 || out->w < 1)
		return ee_err_set(err, EE_ERR_INPUT, "a 5x5 kernel does not fit a %dx%d input", in->h,
				  in->w);
	return EE_OK;
}

static void emg_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct ee_emgconv *e = (const struct ee_emgconv *)l;
	double plane = (double)l->out.h * l->out.w, outs = plane * e->c;

	memset(c, 0, sizeof(*c));
	c->macs = 9 * outs;
	c->gate_macs = 16 * plane;
	c->gates = e->c;
	/* |I| - t and the sum per element, the sigmoid per channel; BN and act after */
	c->other = 2 * outs + e->c + (e->bn.on ? 2 * outs : 0) + (e->act != EE_ACT_NONE ? outs : 0);
}

static bool is_ring(int dy, int dx)
{
	return dy == 0 || dy == K - 1 || dx == 0 || dx == K - 1;
}

static bool is_centre(int dy, int dx)
{
	return !is_ring(dy, dx);
}

static int emg_prepare(struct ee_layer *l, struct ee_err *err)
{
	struct ee_emgconv *e = (struct ee_emgconv *)l;
	int dy, dx, ch;

	for (dy = 0; dy < K; dy++)
		for (dx = 0; dx < K; dx++) {
			float want = dy >= 1 && dy <= 3 && dx >= 1 && dx <= 3;

			if (e->mask && e->mask[dy * K + dx] != want)
				return ee_err_set(err, EE_ERR_INPUT,
						  "skeleton_mask is not the centre 3x3 mask "
						  "(entry [%d][%d] is %g)", dy, dx, e->mask[dy * K + dx]);
		}
	ee_bn_affine(&e->bn, e->c, NULL, e->scale, e->shift);
	for (ch = 0; ch < e->c; ch++) {
		const float *k = e->weight + (size_t)ch * K * K;
		int wp = l->in.w + 2 * e->pad;

		ee_taps_from_kernel(&e->centre[ch], k, K, K, K, wp, is_centre);
		ee_taps_from_kernel(&e->ring[ch], k, K, K, K, wp, is_ring);
	}
	return EE_OK;
}

static size_t emg_workspace(const struct ee_layer *l, int n)
{
	(void)n;
	return ee_pad_floats(l->in.h, l->in.w, ((const struct ee_emgconv *)l)->pad);
}

/* Channel k's centre taps into y, or (ring) its outer-ring taps added to y: the
 * stride-1 5x5 kernel of dwconv.h, else the general tap list. */
static void taps(const struct ee_emgconv *e, int k, const float *xp, int wp, bool ring,
		 float *y, int oh, int ow)
{
	if (e->stride == 1)
		ee_dw_emg5(xp, wp, e->weight + (size_t)k * K * K, ring, y, oh, ow);
	else
		ee_dw_taps(xp, wp, ring ? &e->ring[k] : &e->centre[k], e->stride, y, oh, ow, ring);
}

struct emg_loop {
	const struct ee_emgconv *e;
	struct ee_exec *x;
};

/* Items [lo, hi) of (sample, channel): centre taps, gate, ring taps if open, affine and
 * act, with thread tid's padded plane. */
static void emg_range(void *ctx, long lo, long hi, int tid)
{
	const struct emg_loop *m = ctx;
	const struct ee_emgconv *e = m->e;
	struct ee_exec *x = m->x;
	const struct ee_tensor *in = &x->in[0];
	int oh = x->out.h, ow = x->out.w, c = e->c, wp = in->w + 2 * e->pad;
	size_t plane = (size_t)oh * ow;
	float *xp = x->work + (size_t)tid * x->work_stride;
	bool bordered = false;
	uint64_t ring = 0;
	long job;

	for (job = lo; job < hi; job++) {
		int s = (int)(job / c), k = (int)(job % c);
		const float *src = ee_tensor_sample(in, s) + (size_t)k * in->h * in->w;
		float *y = ee_tensor_sample(&x->out, s) + k * plane, z;
		bool open;

		ee_pad_reuse(src, in->h, in->w, e->pad, xp, &bordered);
		taps(e, k, xp, wp, false, y, oh, ow);
		if (e->bias)
			ee_affine_act(y, plane, 1.0f, e->bias[k], EE_ACT_NONE);
		z = ee_mean_abs_minus(y, plane, e->threshold[k]);
		open = ee_sigmoidf(z) - 0.5f > 0.0f;
		if (open) {
			taps(e, k, xp, wp, true, y, oh, ow);
			ring += (uint64_t)e->ring[k].n * plane;
		}
		x->gates[job] = open;
		if (x->gate_z)
			x->gate_z[job] = z;
		ee_affine_act(y, plane, e->scale[k], e->shift[k], e->act);
	}
	__atomic_fetch_add(&x->ring_taps, ring, __ATOMIC_RELAXED);
}

static void emg_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct ee_emgconv *e = (const struct ee_emgconv *)l;
	struct emg_loop m = { e, x };
	int i, ch, c = e->c;

	ee_parallel_for(x->threads, (long)x->n * c, (double)x->n * ee_shape_numel(l->out) * 25,
			emg_range, &m);
	for (i = 0; i < x->n; i++) {
		int open = 0;

		for (ch = 0; ch < c; ch++)
			open += x->gates[(size_t)i * c + ch];
		x->open[i] = open;
	}
}

static const struct ee_layer_ops emgconv_ops = {
	.api_version = EE_LAYER_API,
	.kind = "emgconv",
	.infer = emg_infer,
	.cost = emg_cost,
	.workspace = emg_workspace,
	.prepare = emg_prepare,
	.forward = emg_forward,
};

struct ee_emgconv *ee_emgconv_new(struct ee_pool *p, int c, int stride, int pad)
{
	struct ee_emgconv *e = ee_pool_alloc(p, sizeof(*e));

	if (!e || !(e->scale = ee_pool_alloc(p, 2 * (size_t)c * sizeof(float))) ||
	    !(e->centre = ee_pool_alloc(p, 2 * (size_t)c * sizeof(*e->centre))))
		return NULL;
	e->ring = e->centre + c;
	e->shift = e->scale + c;
	e->base.ops = &emgconv_ops;
	e->c = c;
	e->stride = stride;
	e->pad = pad;
	e->bn.eps = 1e-5f;
	return e;
}
