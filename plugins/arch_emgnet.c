/*
 * arch_emgnet.c - "emgnet": the EMGNet author's early-exit ResNets
 * (lee-gwang/imagenet_paper_starter_code model/sresnet.py).
 *
 * MLModule <p>:  x1 = conv.0 (1x1 -> ceil(oup/2)) + conv.1 BN [+ ReLU]
 *                x2 = more_feature_conv.0 (MLConv2d, gated 5x5 depthwise) + .1 BN [+ ReLU]
 *                out = cat(x1, x2)[:, :oup]
 * MLBottleneck:  MLModule(in, planes), [conv.1: depthwise 3x3 stride 2 + BN + ReLU in
 *                strided blocks], MLModule(planes, 4 planes, no ReLU), + shortcut, ReLU
 * BranchNet <p>: MLModule .0, conv .1 (3x3 stride 3, bias) + BN .2 + ReLU, MLModule .4, GAP
 * CIFAR form: 3x3 stem, 3 stages, branch1..2 + GAP, fc1..fc3 (3 exits). ImageNet form:
 * 7x7 stem + max pooling, 4 stages, branch1..3 + GAP, fc1..fc4 (4 exits).
 *
 * oup is not stored (ceil(oup/2) is), so each MLModule takes it from its consumer's
 * tensors. The ReLU flags are the public code's (no tensor shows them). A stage's
 * blocks may also be plain BasicBlocks (the author's pruned=False models).
 */
#include "arch.h"
#include "resnet_backbone.h"

static int mlmodule(struct ee_builder *b, int x, const char *p, int oup, bool relu)
{
	enum ee_act act = relu ? EE_ACT_RELU : EE_ACT_NONE;
	int x1, x2, y, c;

	ee_b_scope(b, p);
	x1 = ee_b_conv(b, x, ee_b_key(b, "%s.conv.0", p), ee_b_key(b, "%s.conv.1", p), 1, 0, act);
	x2 = ee_b_emg(b, x1, ee_b_key(b, "%s.more_feature_conv.0", p),
			  ee_b_key(b, "%s.more_feature_conv.1", p), 1, 2, act);
	y = ee_b_concat(b, x1, x2);
	c = ee_b_shape(b, y).c;

	if (b->rc < 0)
		return b->rc;
	if (oup > c || oup < c - 1)
		return ee_b_fail(b, "MLModule '%s' makes %d channels, its consumer takes %d", p, c,
				 oup);
	return oup == c ? y : ee_b_slice(b, y, 0, oup);
}

static int mlbottleneck(struct ee_builder *b, int x, const char *p)
{
	const char *dw = ee_b_key(b, "%s.conv.1.0", p), *ds = ee_b_key(b, "%s.downsample.0", p);
	int stride = ee_b_has(b, dw, "weight") ? 2 : 1;
	int planes = ee_b_dim(b, ee_b_key(b, "%s.conv.2.conv.0", p), "weight", 1);
	int out = ee_b_has(b, ds, "weight") ? ee_b_dim(b, ds, "weight", 0) : ee_b_shape(b, x).c;
	int y = mlmodule(b, x, ee_b_key(b, "%s.conv.0", p), planes, true), sc = x;

	if (stride > 1)
		y = ee_b_dwconv(b, y, dw, ee_b_key(b, "%s.conv.1.1", p), stride, 1, EE_ACT_RELU);
	y = mlmodule(b, y, ee_b_key(b, "%s.conv.2", p), out, false);
	ee_b_scope(b, p);
	if (ee_b_has(b, ds, "weight"))
		sc = ee_b_conv(b, x, ds, ee_b_key(b, "%s.downsample.1", p), stride, 0, EE_ACT_NONE);
	return ee_b_add(b, y, sc, EE_ACT_RELU);
}

static int stage(struct ee_builder *b, int x, int s)
{
	int i;

	for (i = 0; ee_b_has_prefix(b, ee_b_key(b, "layer%d.%d.", s, i)); i++) {
		const char *p = ee_b_key(b, "layer%d.%d", s, i);

		if (ee_b_has(b, ee_b_key(b, "%s.conv1", p), "weight"))
			x = ee_resnet_block(b, x, p, i == 0 && s > 1 ? 2 : 1);
		else
			x = mlbottleneck(b, x, p);
	}
	return i ? x : ee_b_fail(b, "stage 'layer%d' has no blocks", s);
}

static int branch(struct ee_builder *b, int x, int k, int out)
{
	const char *p = ee_b_key(b, "branch%d", k);
	int cin = ee_b_dim(b, ee_b_key(b, "%s.1", p), "weight", 1);

	x = mlmodule(b, x, ee_b_key(b, "%s.0", p), cin, true);
	x = ee_b_conv(b, x, ee_b_key(b, "%s.1", p), ee_b_key(b, "%s.2", p), 3, 0, EE_ACT_RELU);
	x = mlmodule(b, x, ee_b_key(b, "%s.4", p), out, true);
	ee_b_scope(b, p);
	return ee_b_gap(b, x);
}

static int count_exits(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "fc4.weight") ? 4 : 3;
}

static int build(struct ee_builder *b)
{
	int exits = count_exits(b->ck), stages = ee_resnet_count_stages(b->ck);
	int x, s, feats = ee_b_dim(b, "fc1", "weight", 1);
	int stem = ee_b_dim(b, "conv1", "weight", 2);

	if (b->rc < 0)
		return b->rc;
	if (stages != exits)
		return ee_b_fail(b, "EMGNet with %d exits needs %d stages, found %d", exits, exits,
				 stages);
	x = ee_resnet_stem(b, stem == 7);
	for (s = 1; s <= stages; s++) {
		x = stage(b, x, s);
		if (s < exits)
			ee_b_exit(b, ee_b_linear(b, branch(b, x, s, feats), ee_b_key(b, "fc%d", s)));
	}
	ee_b_scope(b, ee_b_key(b, "exit%d", exits));
	ee_b_exit(b, ee_b_linear(b, ee_b_gap(b, x), ee_b_key(b, "fc%d", exits)));
	return b->rc;
}

static bool detect(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "branch1.0.conv.0.weight") && ee_ckpt_find(ck, "fc1.weight");
}

const struct ee_arch ee_arch_emgnet = {
	.name = "emgnet",
	.summary = "EMGNet: MLModule/MLBottleneck backbone with gated 5x5 EMG convs, "
		   "BranchNet exits (CIFAR 3, ImageNet 4)",
	.keys = "layer1.0.conv.0.conv.0.weight, *.more_feature_conv.0.threshold, "
		"branch1.0.conv.0.weight, fc1.weight .. fc3.weight (fc4.weight)",
	.detect = detect,
	.build = build,
};
