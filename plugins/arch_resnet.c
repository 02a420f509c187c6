/*
 * arch_resnet.c - "resnet": torchvision's ResNet (pytorch/vision resnet.py names).
 *
 * conv1 (7x7/2 + max pooling for ImageNet, or 3x3/1 without for CIFAR-style
 * models), any number of stages of BasicBlocks or Bottlenecks, global average
 * pooling, fc. One exit.
 */
#include "arch.h"
#include "resnet_backbone.h"

static bool detect(const struct ee_ckpt *ck)
{
	return ee_ckpt_find(ck, "conv1.weight") && ee_ckpt_find(ck, "fc.weight") &&
	       ee_resnet_count_stages(ck) >= 4 && !ee_ckpt_find(ck, "middle_fc1.weight");
}

static int build(struct ee_builder *b)
{
	int feats[EE_RESNET_MAX_STAGES], n;
	int x = ee_resnet_stem(b, ee_resnet_stem_maxpool(b));

	n = ee_resnet_stages(b, x, feats, EE_RESNET_MAX_STAGES);
	if (n < 0)
		return n;
	ee_b_scope(b, "exit1");
	ee_b_exit(b, ee_b_linear(b, ee_b_gap(b, feats[n - 1]), "fc"));
	return b->rc;
}

const struct ee_arch ee_arch_resnet = {
	.name = "resnet",
	.summary = "torchvision ResNet (BasicBlock/Bottleneck, 7x7+maxpool or 3x3 stem), 1 exit",
	.keys = "conv1.weight, layer1..layer4.*.conv1.weight, fc.weight",
	.detect = detect,
	.build = build,
};
