/*
 * resnet_backbone.c - the ResNet pieces the ResNet-family architectures share;
 * see resnet_backbone.h.
 */
#include "resnet_backbone.h"

#include <stdio.h>

bool ee_resnet_stem_maxpool(struct ee_builder *b)
{
	if (b->ck->stem_maxpool >= 0)
		return b->ck->stem_maxpool;
	return ee_b_dim(b, "conv1", "weight", 2) == 7;
}

int ee_resnet_stem(struct ee_builder *b, bool maxpool)
{
	int k = ee_b_dim(b, "conv1", "weight", 2);
	int x = ee_b_conv(b, EE_NODE_INPUT, "conv1", "bn1", k == 7 ? 2 : 1, k / 2, EE_ACT_RELU);

	return maxpool ? ee_b_maxpool(b, x, 3, 2, 1) : x;
}

/* The shortcut of block p: projection, option A, or identity. */
static int shortcut(struct ee_builder *b, int x, const char *p, int stride, int cout)
{
	struct ee_shape in = ee_b_shape(b, x);
	int pad;

	if (ee_b_has(b, ee_b_key(b, "%s.downsample.0", p), "weight"))
		return ee_b_conv(b, x, ee_b_key(b, "%s.downsample.0", p),
				 ee_b_key(b, "%s.downsample.1", p), stride, 0, EE_ACT_NONE);
	if (ee_b_has(b, ee_b_key(b, "%s.shortcut.0", p), "weight"))
		return ee_b_conv(b, x, ee_b_key(b, "%s.shortcut.0", p),
				 ee_b_key(b, "%s.shortcut.1", p), stride, 0, EE_ACT_NONE);
	if (stride == 1 && in.c == cout)
		return x;
	pad = cout / 4; /* akamaster: F.pad(x[:, :, ::2, ::2], (0,0,0,0, planes//4, planes//4)) */
	if (in.c + 2 * pad != cout)
		return ee_b_fail(b, "block '%s' maps %d to %d channels without a projection shortcut",
				 p, in.c, cout);
	return ee_b_shortcut_a(b, x, stride, pad, pad);
}

int ee_resnet_block(struct ee_builder *b, int x, const char *p, int stride)
{
	bool bottleneck = ee_b_has(b, ee_b_key(b, "%s.conv3", p), "weight");
	int y, cout;

	ee_b_scope(b, p);
	if (bottleneck) {
		y = ee_b_conv(b, x, ee_b_key(b, "%s.conv1", p), ee_b_key(b, "%s.bn1", p), 1, 0,
			      EE_ACT_RELU);
		y = ee_b_conv(b, y, ee_b_key(b, "%s.conv2", p), ee_b_key(b, "%s.bn2", p), stride, 1,
			      EE_ACT_RELU);
		y = ee_b_conv(b, y, ee_b_key(b, "%s.conv3", p), ee_b_key(b, "%s.bn3", p), 1, 0,
			      EE_ACT_NONE);
	} else {
		y = ee_b_conv(b, x, ee_b_key(b, "%s.conv1", p), ee_b_key(b, "%s.bn1", p), stride, 1,
			      EE_ACT_RELU);
		y = ee_b_conv(b, y, ee_b_key(b, "%s.conv2", p), ee_b_key(b, "%s.bn2", p), 1, 1,
			      EE_ACT_NONE);
	}
	cout = ee_b_shape(b, y).c;
	return ee_b_add(b, y, shortcut(b, x, p, stride, cout), EE_ACT_RELU);
}

int ee_resnet_stage(struct ee_builder *b, int x, int s, int stride)
{
	int i;

	for (i = 0; ee_b_has_prefix(b, ee_b_key(b, "layer%d.%d.", s, i)); i++)
		x = ee_resnet_block(b, x, ee_b_key(b, "layer%d.%d", s, i), i == 0 ? stride : 1);
	if (i == 0)
		return ee_b_fail(b, "stage 'layer%d' has no blocks", s);
	return x;
}

int ee_resnet_count_stages(const struct ee_ckpt *ck)
{
	char key[64];
	int s;

	for (s = 1; s <= EE_RESNET_MAX_STAGES; s++) {
		snprintf(key, sizeof(key), "layer%d.0.", s);
		if (!ee_ckpt_has_prefix(ck, key))
			break;
	}
	return s - 1;
}

int ee_resnet_scan_family(struct ee_builder *b, ee_branch_fn attention, ee_branch_fn scala)
{
	int feats[EE_RESNET_MAX_STAGES], n, k;

	n = ee_resnet_stages(b, ee_resnet_stem(b, false), feats, EE_RESNET_MAX_STAGES);
	if (n < 0)
		return n;
	for (k = 1; k < n; k++)
		ee_b_exit(b, ee_b_linear(b, scala(b, attention(b, feats[k - 1], k), k),
					 ee_b_key(b, "fc%d", k)));
	ee_b_scope(b, ee_b_key(b, "exit%d", n));
	ee_b_exit(b, ee_b_linear(b, ee_b_avgpool(b, feats[n - 1], 4, 4, 0), ee_b_key(b, "fc%d", n)));
	return b->rc;
}

int ee_resnet_stages(struct ee_builder *b, int x, int *out, int max)
{
	int n = ee_resnet_count_stages(b->ck), s;

	if (n < 1 || n > max)
		return ee_b_fail(b, "expected 1 to %d stages 'layer1'.., found %d", max, n);
	for (s = 1; s <= n; s++)
		x = out[s - 1] = ee_resnet_stage(b, x, s, s == 1 ? 1 : 2);
	return b->rc < 0 ? b->rc : n;
}
