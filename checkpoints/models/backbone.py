"""The ResNet trunk that torchvision (pytorch/vision), BYOT, SCAN and the journal
self-distillation code share (their repositories are named in sdresnet.py, scan.py and
sdresnet_tpami.py), written once.

* BasicBlock: 3x3(stride) -> BN -> ReLU -> 3x3 -> BN -> + shortcut -> ReLU.
* Bottleneck: 1x1 -> BN -> ReLU -> 3x3(stride, on conv2 as torchvision) -> BN -> ReLU
  -> 1x1 (x4) -> BN -> + shortcut -> ReLU.
* A stage's first block gets downsample = Sequential(1x1 conv stride s, BN) whenever the
  stride is not 1 or the channel count changes (torchvision's rule).
* The CIFAR trunk of the three early-exit families: conv1 3x3/s1 (no bias), bn1, relu,
  layer1..4 with width*{1,2,4,8} planes, strides 1, 2, 2, 2, no max-pooling.

Module and attribute names are the public code's, so state_dicts match key for key.
"""
import torch.nn as nn


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def block_class(block):
    """A block class from its name ("basic", "bottleneck") or the class itself."""
    return BLOCKS[block] if isinstance(block, str) else block


def make_stage(block, inplanes, planes, blocks, stride):
    """-> (layerK: Sequential of `blocks` blocks, the channels it outputs)."""
    out = planes * block.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        downsample = nn.Sequential(conv1x1(inplanes, out, stride), nn.BatchNorm2d(out))
    mods = [block(inplanes, planes, stride, downsample)]
    mods += [block(out, planes) for _ in range(1, blocks)]
    return nn.Sequential(*mods), out


def add_cifar_trunk(model, block, layers, in_channels, width, family):
    """Registers conv1, bn1, relu and layer1..4 on model, in the public code's order."""
    if len(layers) != 4:
        raise ValueError("%s has 4 stages" % family)
    model.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    model.relu = nn.ReLU(inplace=True)
    planes = width
    for k, n in enumerate(layers):
        stage, planes_out = make_stage(block, planes, width * 2 ** k, n, 1 if k == 0 else 2)
        setattr(model, "layer%d" % (k + 1), stage)
        planes = planes_out


def exit_region(name, heads, deepest_head=()):
    """Cost region (models/__init__.py) of a module of a 4-stage multi-exit ResNet: the stem
    and layerK are exit K's backbone; a top-level name of a prefix in heads followed by the
    exit number (attention2, scala3, middle_fc1, bottleneck2_1, ...) is that exit's head;
    the names in deepest_head are exit 4's head; anything else never runs (None)."""
    top = name.split(".")[0]
    if top in ("conv1", "bn1", "relu"):
        return ("backbone", 1)
    if top.startswith("layer"):
        return ("backbone", int(top[5:]))
    if top in deepest_head:
        return ("head", 4)
    for pfx in heads:
        rest = top[len(pfx):]
        if top.startswith(pfx) and rest[:1].isdigit() and (rest.isdigit() or rest[1:] == "_1"):
            return ("head", int(rest[0]))
    return None
