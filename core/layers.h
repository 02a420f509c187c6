/*
 * layers.h - the layer kinds of libee and their constructors.
 *
 * Each kind lives in core/layers/<kind>.c. Constructors take the model's pool
 * and hyper-parameters only; weight pointers are filled later by whoever loads
 * the weights (plugins/builder.c binds them to checkpoint tensors), and
 * ops->prepare() runs after that. Shapes below are PyTorch's.
 *
 * BatchNorm in eval mode is y = (x - mean) / sqrt(var + eps) * gamma + beta. It is
 * either a layer of its own or, where PyTorch applies it right after a conv,
 * folded into that conv's weights and bias by prepare(); the fused activation
 * then runs in the same pass (struct ee_bn + enum ee_act).
 */
#ifndef EE_LAYERS_H
#define EE_LAYERS_H

#include "arena.h"
#include "dwconv.h"
#include "layer.h"

/* Eval-mode BatchNorm parameters (pointers into the weight slab), all [c]. */
struct ee_bn {
	const float *gamma, *beta, *mean, *var; /* bound at load time; NULL once folded */
	float eps;                              /* 1e-5 unless the checkpoint says otherwise */
	bool on;                                /* a BN follows (set at build time) */
};

/* Writes BN as y = x * scale[i] + shift[i] for each of c channels, added to an existing
 * bias (NULL: 0) first: shift = (bias - mean) * scale + beta. Without BN: scale 1, shift bias. */
void ee_bn_affine(const struct ee_bn *bn, int c, const float *bias, float *scale, float *shift);

/*
 * Folds bn into the conv-like layer before it, for prepare(): the weights of
 * output channel o, laid out [outer][c][per] (conv2d: outer 1; transposed conv:
 * outer = cin), are multiplied by BN's scale, and bias[o] (which must have room,
 * zeros if the layer had none) becomes the shift. Then marks bn folded (gamma
 * NULL) so that forward applies only bias and act. Nothing to do if already folded.
 */
int ee_bn_fold(struct ee_bn *bn, int c, float *weight, size_t outer, size_t per, float *bias,
	       struct ee_err *err);

/* 2-D convolution, any kernel, stride, padding and groups; depthwise has groups = cin = cout. */
struct ee_conv2d {
	struct ee_layer base;
	int cin, cout, kh, kw, stride, pad, groups;
	float *weight; /* [cout][cin/groups][kh][kw]; BN-scaled after prepare */
	float *bias;   /* [cout] or NULL; holds the folded BN shift after prepare */
	float *wino;   /* [16][cout][cin] Winograd F(2x2,3x3) filters (winograd.h), or NULL */
	struct ee_bn bn;
	enum ee_act act;
};
struct ee_conv2d *ee_conv2d_new(struct ee_pool *p, int cin, int cout, int kh, int kw, int stride,
				int pad, int groups);

/* Transposed 2-D convolution (groups 1), as torch.nn.ConvTranspose2d without output_padding. */
struct ee_conv_transpose2d {
	struct ee_layer base;
	int cin, cout, k, stride, pad;
	float *weight; /* [cin][cout][k][k] (PyTorch's layout); BN-scaled after prepare */
	float *bias;   /* [cout] or NULL; folded BN shift after prepare */
	float *phase;  /* [stride^2][cout][cin][(k/stride)^2] the filters of each output phase
			* (sub-pixel form, set by prepare), or NULL when k % stride != 0 or the
			* channels do not fit direct.h */
	struct ee_bn bn;
	enum ee_act act;
};
struct ee_conv_transpose2d *ee_conv_transpose2d_new(struct ee_pool *p, int cin, int cout, int k,
						    int stride, int pad);

/* The EMG multi-scale depthwise 5x5 conv (MLConv2d) with its per-channel gate. */
struct ee_emgconv {
	struct ee_layer base;
	int c, stride, pad; /* pad of the 5x5 (2 keeps the size); the centre 3x3 uses pad - 1 */
	float *weight;      /* [c][1][5][5]; the centre 3x3 is always applied, the ring if open */
	float *bias;        /* [c] or NULL (EMGNet has none) */
	float *threshold;   /* [c] (PyTorch [1,c,1,1]): gate open iff sigmoid(mean|I| - t) - 0.5 > 0 */
	float *mask;        /* [5][5] skeleton_mask: must be 1 on the centre 3x3, 0 on the ring */
	float *scale, *shift; /* [c] the following BN as an affine map, set by prepare */
	struct ee_taps *centre, *ring; /* [c] each channel's 9 centre and 16 ring taps over the
					* zero-padded input plane (dwconv.h), set by prepare */
	struct ee_bn bn;
	enum ee_act act;
};
struct ee_emgconv *ee_emgconv_new(struct ee_pool *p, int c, int stride, int pad);

/* Fully connected layer on the flattened sample (c*h*w features). */
struct ee_linear {
	struct ee_layer base;
	int in, out;
	float *weight; /* [out][in] */
	float *bias;   /* [out] or NULL */
};
struct ee_linear *ee_linear_new(struct ee_pool *p, int in, int out);

/* BatchNorm that could not be folded into a conv, with an optional activation. */
struct ee_batchnorm {
	struct ee_layer base;
	int c;
	struct ee_bn bn;
	float *scale, *shift; /* [c] the affine map, set by prepare (pool memory) */
	enum ee_act act;
};
struct ee_batchnorm *ee_batchnorm_new(struct ee_pool *p, int c, enum ee_act act);

/* ReLU or sigmoid on its own. */
struct ee_layer *ee_activation_new(struct ee_pool *p, enum ee_act act);

/* Max pooling, k x k window, -inf padding (PyTorch MaxPool2d, floor mode). */
struct ee_layer *ee_maxpool_new(struct ee_pool *p, int k, int stride, int pad);
/* Average pooling, zero padding counted (PyTorch AvgPool2d defaults, floor mode). */
struct ee_layer *ee_avgpool_new(struct ee_pool *p, int k, int stride, int pad);
/* Adaptive average pooling to oh x ow (PyTorch's bin edges). */
struct ee_layer *ee_adaptive_avgpool_new(struct ee_pool *p, int oh, int ow);

/* a + b (same shapes), with an optional activation: the residual join. */
struct ee_layer *ee_add_new(struct ee_pool *p, enum ee_act act);
/* a * b elementwise (same shapes): attention masks. */
struct ee_layer *ee_mul_new(struct ee_pool *p);
/* Channel concatenation of 2..EE_LAYER_MAX_IN inputs with equal h, w. */
struct ee_layer *ee_concat_new(struct ee_pool *p);
/* Channels [c0, c1) of the input. */
struct ee_layer *ee_slice_new(struct ee_pool *p, int c0, int c1);
/* Softmax over the c*h*w values of each sample. */
struct ee_layer *ee_softmax_new(struct ee_pool *p);
/* He et al. option-A shortcut: x[:, :, ::stride, ::stride] padded with pad_lo zero channels
 * before and pad_hi after. */
struct ee_layer *ee_shortcut_a_new(struct ee_pool *p, int stride, int pad_lo, int pad_hi);
/* Bilinear upsampling by an integer factor, align_corners=False (nn.Upsample default). */
struct ee_layer *ee_upsample_new(struct ee_pool *p, int factor);

#endif
