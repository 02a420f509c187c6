/*
 * builder.h - building a network from checkpoint tensors, for architecture plugins.
 *
 * Every call adds one node whose hyper-parameters come from the checkpoint's
 * tensor shapes (a conv's channels and kernel from "<prefix>.weight"), checks
 * them against the input it is given, and records which tensors it needs. The
 * first failure is kept in b->rc and makes every later call return it, so an
 * architecture reads as straight-line code and checks b->rc (or the node id)
 * only where it needs to branch. ee_builder_finish() refuses tensors that no
 * layer used (unless ignored on purpose), reads the used ones into one slab,
 * and prepares the layers (BN folding).
 *
 *     int x = ee_b_conv(b, EE_NODE_INPUT, "conv1", "bn1", 1, 1, EE_ACT_RELU);
 *     x = ee_b_gap(b, x);
 *     ee_b_exit(b, ee_b_linear(b, x, "fc"));
 */
#ifndef EE_BUILDER_H
#define EE_BUILDER_H

#include <stdbool.h>

#include "checkpoints/ckpt.h"
#include "core/layers.h"
#include "core/model.h"

struct ee_bind;

struct ee_builder {
	struct ee_model *m;
	struct ee_ckpt *ck;
	struct ee_err *err;
	int rc;                /* first failure, EE_OK while all went well */
	struct ee_bind *binds; /* tensors to read and where their pointers go */
	int nbinds, cap;
	const char *scope;     /* names operations without a module: "<scope>.add" (ee_b_scope) */
	float *slab;           /* all weights, one allocation (owned by the caller after finish) */
	size_t slab_floats;
};

void ee_builder_init(struct ee_builder *b, struct ee_model *m, struct ee_ckpt *ck,
		     struct ee_err *err);
/* Checks unused tensors, reads the weights into b->slab, finishes and prepares the model. */
int ee_builder_finish(struct ee_builder *b);
/* Frees what finish did not hand over (the bind list; the slab too if finish failed). */
void ee_builder_release(struct ee_builder *b);

/* printf into the model's pool: names that layers keep. NULL after a failure. */
const char *ee_b_key(struct ee_builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The tensor prefix.suffix if the checkpoint has it. */
const struct ee_ckpt_tensor *ee_b_tensor(struct ee_builder *b, const char *prefix,
					 const char *suffix);
bool ee_b_has(struct ee_builder *b, const char *prefix, const char *suffix);
/* True if some key starts with prefix (false once the build failed). */
bool ee_b_has_prefix(struct ee_builder *b, const char *prefix);
/* Dimension i of tensor prefix.suffix, or -1 (and a failure) if absent. */
int ee_b_dim(struct ee_builder *b, const char *prefix, const char *suffix, int i);
/* Marks every tensor whose key starts with prefix as known but unused. */
void ee_b_ignore(struct ee_builder *b, const char *prefix);
/* Records a failure in the builder (EE_ERR_INPUT, naming the checkpoint). */
int ee_b_fail(struct ee_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Names the module being built (a block, a branch) for the operations that follow. */
void ee_b_scope(struct ee_builder *b, const char *scope);
/* Per-sample shape of node x (the network input for EE_NODE_INPUT). */
struct ee_shape ee_b_shape(struct ee_builder *b, int x);

/* Conv "<conv>.weight" [cout, cin, kh, kw] (+ "<conv>.bias"), then BN "<bn>.*" (NULL:
 * none) and act, fused. cin must be the input's channels: no groups. */
int ee_b_conv(struct ee_builder *b, int x, const char *conv, const char *bn, int stride, int pad,
	      enum ee_act act);
/* Depthwise conv (groups = channels): "<conv>.weight" [cin, 1, kh, kw], BN, act. */
int ee_b_dwconv(struct ee_builder *b, int x, const char *conv, const char *bn, int stride,
		int pad, enum ee_act act);
/* ConvTranspose2d "<conv>.weight" [cin, cout, k, k] (+ bias), BN and act fused. */
int ee_b_conv_t(struct ee_builder *b, int x, const char *conv, const char *bn, int stride,
		int pad, enum ee_act act);
/* EMG gated depthwise 5x5 conv (MLConv2d "<conv>.{weight,threshold,skeleton_mask}"), BN, act. */
int ee_b_emg(struct ee_builder *b, int x, const char *conv, const char *bn, int stride, int pad,
	     enum ee_act act);
/* Stand-alone BatchNorm "<bn>.*" with act. */
int ee_b_bn(struct ee_builder *b, int x, const char *bn, enum ee_act act);
/* Linear "<fc>.weight" [out, in] (+ bias) on the flattened node. */
int ee_b_linear(struct ee_builder *b, int x, const char *fc);

int ee_b_act(struct ee_builder *b, int x, enum ee_act act);
int ee_b_add(struct ee_builder *b, int x, int y, enum ee_act act);
int ee_b_mul(struct ee_builder *b, int x, int y);
int ee_b_concat(struct ee_builder *b, int x, int y);
int ee_b_slice(struct ee_builder *b, int x, int c0, int c1);
int ee_b_maxpool(struct ee_builder *b, int x, int k, int stride, int pad);
int ee_b_avgpool(struct ee_builder *b, int x, int k, int stride, int pad);
/* Adaptive average pooling to 1x1. */
int ee_b_gap(struct ee_builder *b, int x);
int ee_b_upsample(struct ee_builder *b, int x, int factor);
int ee_b_shortcut_a(struct ee_builder *b, int x, int stride, int pad_lo, int pad_hi);
/* Declares x as the logits of the next exit (shallow to deep); returns x. */
int ee_b_exit(struct ee_builder *b, int x);

#endif
