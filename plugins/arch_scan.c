/*
 * arch_scan.c - "scan": SCAN, ArchipLab-LinfengZhang/pytorch-scalable-neural-networks
 * (sresnet.py).
 *
 * CIFAR ResNet backbone. For k = 1..3 the exit sees the stage output x weighted by
 * attention<k>(x): conv 3x3 stride 2 (bias) + BN + ReLU, transposed conv 4x4 stride 2
 * pad 1 (bias) + BN + sigmoid. scala<k>: 1x1 conv + BN + ReLU, s x s conv stride s + BN
 * + ReLU, 1x1 conv + BN + ReLU (convs with bias), AvgPool2d(4, 4). Exit 4:
 * AvgPool2d(4, 4) of stage 4. Classifiers fc1..fc4. The attended map feeds only its
 * exit; the backbone continues with x. The public forward returns the exits deepest
 * first; here they are shallow to deep.
 */
#include "arch.h"
#include "resnet_backbone.h"

static int attention(struct ee_builder *b, int x, int k)
{
	const char *p = ee_b_key(b, "attention%d", k);
	int a = ee_b_conv(b, x, ee_b_key(b, "%s.0", p), ee_b_key(b, "%s.1", p), 2, 1, EE_ACT_RELU);

	ee_b_scope(b, p);
	a = ee_b_conv_t(b, a, ee_b_key(b, "%s.3", p), ee_b_key(b, "%s.4", p), 2, 1, EE_ACT_SIGMOID);
	return ee_b_mul(b, a, x);
}

static int scala(struct ee_builder *b, int x, int k)
{
	const char *p = ee_b_key(b, "scala%d", k);
	int size = ee_b_dim(b, ee_b_key(b, "%s.3", p), "weight", 2);

	x = ee_b_conv(b, x, ee_b_key(b, "%s.0", p), ee_b_key(b, "%s.1", p), 1, 0, EE_ACT_RELU);
	x = ee_b_conv(b, x, ee_b_key(b, "%s.3", p), ee_b_key(b, "%s.4", p), size, 0, EE_ACT_RELU);
	x = ee_b_conv(b, x, ee_b_key(b, "%s.6", p), ee_b_key(b, "%s.7", p), 1, 0, EE_ACT_RELU);
	ee_b_scope(b, p);
	return ee_b_avgpool(b, x, 4, 4, 0);
}

static int build(struct ee_builder *b)
{
	return ee_resnet_scan_family(b, attention, scala);
}

static bool detect(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "scala1.0.weight") && ee_ckpt_find(ck, "attention1.3.weight");
}

const struct ee_arch ee_arch_scan = {
	.name = "scan",
	.summary = "SCAN: ScalaNet exits with conv/transposed-conv attention, 4 exits",
	.keys = "scala1.0.weight .. scala3.*, attention1.0.weight, attention1.3.weight, fc1..fc4",
	.detect = detect,
	.build = build,
};
