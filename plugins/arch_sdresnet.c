/*
 * arch_sdresnet.c - "sdresnet": Be Your Own Teacher (self-distillation) ResNets as in
 * luanyunteng/pytorch-be-your-own-teacher (models/resnet.py, Multi_ResNet).
 *
 * CIFAR ResNet backbone (3x3 stem, 4 stages of Basic or Bottleneck blocks). Exit k
 * (1..3) after stage k: bottleneck<k>_1 = 1x1 conv + BN + ReLU, k x k conv with
 * stride k + BN + ReLU, 1x1 conv + BN + ReLU (all convs with bias), global average
 * pooling, middle_fc<k>. Exit 4: global average pooling of stage 4, fc.
 * downsample<k>_1 is built by the public code but never used: accepted and ignored.
 */
#include "arch.h"
#include "resnet_backbone.h"

/* Conv "<p>.<i>" + BN "<p>.<i+1>" + ReLU, stride from the kernel for the middle one. */
static int conv_bn_relu(struct ee_builder *b, int x, const char *p, int i, bool strided)
{
	const char *conv = ee_b_key(b, "%s.%d", p, i);
	int stride = strided ? ee_b_dim(b, conv, "weight", 2) : 1;

	return ee_b_conv(b, x, conv, ee_b_key(b, "%s.%d", p, i + 1), stride, 0, EE_ACT_RELU);
}

static int exit_head(struct ee_builder *b, int x, int k)
{
	const char *p = ee_b_key(b, "bottleneck%d_1", k);

	ee_b_scope(b, p);
	x = conv_bn_relu(b, x, p, 0, false);
	x = conv_bn_relu(b, x, p, 3, true);
	x = conv_bn_relu(b, x, p, 6, false);
	return ee_b_linear(b, ee_b_gap(b, x), ee_b_key(b, "middle_fc%d", k));
}

static int build(struct ee_builder *b)
{
	int feats[EE_RESNET_MAX_STAGES], n, k;

	n = ee_resnet_stages(b, ee_resnet_stem(b, false), feats, EE_RESNET_MAX_STAGES);
	if (n < 0)
		return n;
	for (k = 1; k < n; k++) {
		ee_b_ignore(b, ee_b_key(b, "downsample%d_1.", k));
		ee_b_exit(b, exit_head(b, feats[k - 1], k));
	}
	ee_b_scope(b, ee_b_key(b, "exit%d", n));
	ee_b_exit(b, ee_b_linear(b, ee_b_gap(b, feats[n - 1]), "fc"));
	return b->rc;
}

static bool detect(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "middle_fc1.weight") && ee_ckpt_find(ck, "bottleneck1_1.0.weight");
}

const struct ee_arch ee_arch_sdresnet = {
	.name = "sdresnet",
	.summary = "SD-ResNet, Be Your Own Teacher (luanyunteng): bottleneck exits, 4 exits",
	.keys = "bottleneck1_1.0.weight .. bottleneck3_1.*, middle_fc1.weight .. middle_fc3, fc.weight",
	.detect = detect,
	.build = build,
};
