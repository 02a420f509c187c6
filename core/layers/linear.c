/*
 * linear.c - fully connected layer (torch.nn.Linear) on the flattened sample.
 *
 * The whole batch is one GEMM, y[n][out] = x[n][in] * W^T, reading samples at
 * their nstride (a view is fine) and W in PyTorch's [out][in] layout. As in
 * PyTorch's addmm, the bias is put in y first and the product added to it.
 */
#include "common.h"

static int linear_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			struct ee_shape *out, struct ee_err *err)
{
	const struct ee_linear *fc = (const struct ee_linear *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (fc->in < 1 || fc->out < 1)
		return ee_err_set(err, EE_ERR_INPUT, "%d inputs and %d outputs: want at least 1",
				  fc->in, fc->out);
	if (ee_shape_numel(*in) != (size_t)fc->in)
		return ee_err_set(err, EE_ERR_INPUT, "expects %d input features, got %dx%dx%d",
				  fc->in, in->c, in->h, in->w);
	out->c = fc->out;
	out->h = 1;
	out->w = 1;
	return EE_OK;
}

/* in*out MACs; the bias add is not counted (as for conv). */
static void linear_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct ee_linear *fc = (const struct ee_linear *)l;

	memset(c, 0, sizeof(*c));
	c->macs = (double)fc->in * fc->out;
}

static void linear_forward(const struct ee_layer *l, struct ee_exec *x)
{
	const struct ee_linear *fc = (const struct ee_linear *)l;
	const struct ee_tensor *in = &x->in[0];
	int i;

	if (fc->bias)
		for (i = 0; i < x->n; i++)
			memcpy(ee_tensor_sample(&x->out, i), fc->bias, (size_t)fc->out * sizeof(float));
	ee_gemm_ex(false, true, x->n, fc->out, fc->in, in->data, (int)in->nstride, fc->weight,
		   fc->in, fc->bias ? 1.0f : 0.0f, x->out.data, (int)x->out.nstride);
}

static const struct ee_layer_ops linear_ops = {
	.api_version = EE_LAYER_API,
	.kind = "linear",
	.infer = linear_infer,
	.cost = linear_cost,
	.forward = linear_forward,
};

struct ee_linear *ee_linear_new(struct ee_pool *p, int in, int out)
{
	struct ee_linear *fc = kind_alloc(p, sizeof(*fc), &linear_ops);

	if (!fc)
		return NULL;
	fc->in = in;
	fc->out = out;
	return fc;
}
