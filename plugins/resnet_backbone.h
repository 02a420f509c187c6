/*
 * resnet_backbone.h - the ResNet pieces shared by resnet, resnet-cifar, sdresnet,
 * sdresnet-tpami and scan, all of which name their backbone the torchvision way:
 * conv1, bn1, layer<s>.<i>.{conv1,bn1,conv2,bn2[,conv3,bn3]} and a projection
 * shortcut layer<s>.<i>.downsample.{0,1} (or shortcut.{0,1}, akamaster option B),
 * or none at all where the shape changes (option A: subsample + zero channels).
 * A block is a Bottleneck when it has conv3; the stride sits on its 3x3 conv.
 */
#ifndef EE_RESNET_BACKBONE_H
#define EE_RESNET_BACKBONE_H

#include <stdbool.h>

#include "builder.h"

#define EE_RESNET_MAX_STAGES 8

/* conv1 (3x3 stride 1, or 7x7 stride 2 pad 3) + bn1 + relu, then 3x3/2 max pooling if
 * maxpool. Returns the node. */
int ee_resnet_stem(struct ee_builder *b, bool maxpool);
/* Whether the checkpoint asks for stem max pooling: its stem_maxpool attribute, else a 7x7 stem. */
bool ee_resnet_stem_maxpool(struct ee_builder *b);
/* One block "<p>" (BasicBlock or Bottleneck) with the given stride. */
int ee_resnet_block(struct ee_builder *b, int x, const char *p, int stride);
/* The blocks of stage "layer<s>" (1-based); the first has the given stride. */
int ee_resnet_stage(struct ee_builder *b, int x, int s, int stride);
/* Stages layer1.. as far as the checkpoint has them (stride 1 for the first, 2 after);
 * out[s-1] gets each stage's output. Returns the number of stages, or b->rc. */
int ee_resnet_stages(struct ee_builder *b, int x, int *out, int max);
/* A branch builder: node x (stage k's output or attended map) to its exit's input. */
typedef int (*ee_branch_fn)(struct ee_builder *b, int x, int k);
/*
 * The SCAN-family network (SCAN and the self-distillation journal code): the CIFAR
 * backbone, then for k = 1..n-1 exit k = fc<k>(scala(b, attention(b, stage k, k), k)),
 * and exit n = fc<n>(AvgPool2d(4, 4)(stage n)). Returns b->rc.
 */
int ee_resnet_scan_family(struct ee_builder *b, ee_branch_fn attention, ee_branch_fn scala);
/* Number of stages layer1.. in the checkpoint. */
int ee_resnet_count_stages(const struct ee_ckpt *ck);

#endif
