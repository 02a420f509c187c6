/*
 * arch_resnet_cifar.c - "resnet-cifar": He et al.'s 3-stage CIFAR ResNets
 * (ResNet-20/32/44/56/110, 16/32/64 channels).
 *
 * Names as akamaster/pytorch_resnet_cifar10 (option A: the shortcut of a
 * block that changes shape subsamples and pads with zero channels, no tensors;
 * classifier `linear`), its option B (`shortcut.{0,1}`), or the EMGNet
 * author's baselines (`downsample.{0,1}`, classifier `fc`). One exit.
 */
#include "arch.h"
#include "resnet_backbone.h"

static bool detect(const struct ee_ckpt *ck)
{
	int stages = ee_resnet_count_stages(ck);

	return ee_ckpt_find(ck, "conv1.weight") && stages >= 1 && stages <= 3 &&
	       (ee_ckpt_find(ck, "linear.weight") || ee_ckpt_find(ck, "fc.weight"));
}

static int build(struct ee_builder *b)
{
	int feats[EE_RESNET_MAX_STAGES], n;
	int x = ee_resnet_stem(b, false);

	n = ee_resnet_stages(b, x, feats, EE_RESNET_MAX_STAGES);
	if (n < 0)
		return n;
	ee_b_scope(b, "exit1");
	x = ee_b_gap(b, feats[n - 1]);
	ee_b_exit(b, ee_b_linear(b, x, ee_b_has(b, "linear", "weight") ? "linear" : "fc"));
	return b->rc;
}

const struct ee_arch ee_arch_resnet_cifar = {
	.name = "resnet-cifar",
	.summary = "He et al. CIFAR ResNet-20/32/44/56/110, option A or B shortcuts, 1 exit",
	.keys = "conv1.weight, layer1..layer3.*.conv1.weight, linear.weight (or fc.weight)",
	.detect = detect,
	.build = build,
};
