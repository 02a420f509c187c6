/*
 * arch_sdresnet_tpami.c - "sdresnet-tpami": the self-distillation journal code,
 * ArchipLab-LinfengZhang/pytorch-self-distillation-final (resnet.py).
 *
 * CIFAR ResNet backbone. SepConv <p>.op: depthwise 3x3 (stride s) -> 1x1 + BN + ReLU ->
 * depthwise 3x3 -> 1x1 + BN + ReLU (no biases). For k = 1..3: attention<k> = SepConv
 * stride 2, BN + ReLU, bilinear x2 upsampling (align_corners=False), sigmoid; the exit
 * sees attention(x) * x. scala<k> = its SepConvs (stride 2 each) + AvgPool2d(4, 4);
 * exit 4 = AvgPool2d(4, 4) of stage 4. Classifiers fc1..fc4; adaptation_layers (training
 * only) are ignored if present. Exits are numbered shallow to deep.
 */
#include "arch.h"
#include "resnet_backbone.h"

static int sepconv(struct ee_builder *b, int x, const char *p, int stride)
{
	x = ee_b_dwconv(b, x, ee_b_key(b, "%s.op.0", p), NULL, stride, 1, EE_ACT_NONE);
	x = ee_b_conv(b, x, ee_b_key(b, "%s.op.1", p), ee_b_key(b, "%s.op.2", p), 1, 0, EE_ACT_RELU);
	x = ee_b_dwconv(b, x, ee_b_key(b, "%s.op.4", p), NULL, 1, 1, EE_ACT_NONE);
	return ee_b_conv(b, x, ee_b_key(b, "%s.op.5", p), ee_b_key(b, "%s.op.6", p), 1, 0,
			 EE_ACT_RELU);
}

static int attention(struct ee_builder *b, int x, int k)
{
	const char *p = ee_b_key(b, "attention%d", k);
	int a = sepconv(b, x, ee_b_key(b, "%s.0", p), 2);

	ee_b_scope(b, p);
	a = ee_b_bn(b, a, ee_b_key(b, "%s.1", p), EE_ACT_RELU);
	a = ee_b_act(b, ee_b_upsample(b, a, 2), EE_ACT_SIGMOID);
	return ee_b_mul(b, a, x);
}

static int scala(struct ee_builder *b, int x, int k)
{
	int j;

	for (j = 0; ee_b_has_prefix(b, ee_b_key(b, "scala%d.%d.", k, j)); j++)
		x = sepconv(b, x, ee_b_key(b, "scala%d.%d", k, j), 2);
	ee_b_scope(b, ee_b_key(b, "scala%d", k));
	return ee_b_avgpool(b, x, 4, 4, 0);
}

static int build(struct ee_builder *b)
{
	ee_b_ignore(b, "adaptation_layers.");
	return ee_resnet_scan_family(b, attention, scala);
}

static bool detect(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "scala1.0.op.0.weight") && ee_ckpt_find(ck, "attention1.0.op.0.weight");
}

const struct ee_arch ee_arch_sdresnet_tpami = {
	.name = "sdresnet-tpami",
	.summary = "self-distillation journal code: SepConv exits, upsampling attention, 4 exits",
	.keys = "scala1.0.op.0.weight, attention1.0.op.0.weight, attention1.1.weight, fc1..fc4",
	.detect = detect,
	.build = build,
};
