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
 */
#include "common.h"

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
	return col_floats(l) * chunk(l, n);
}

/* BN folded into W[:, o] and bias[o]. */
static int convt_prepare(struct ee_layer *l, struct ee_err *err)
{
	struct ee_conv_transpose2d *ct = (struct ee_conv_transpose2d *)l;

	return ee_bn_fold(&ct->bn, ct->cout, ct->weight, (size_t)ct->cin, (size_t)ct->k * ct->k,
			  ct->bias, err);
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
	return ct;
}
