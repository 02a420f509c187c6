"""He et al. 3-stage CIFAR ResNet-20/32/44/56/110 (reference model for arch "resnet-cifar").

Written from shared/research/architectures.md sections 1.4 and 4, not copied. Three naming
/ shortcut styles exist in the public code and all three load into eeprof:

* option "A" (akamaster/pytorch_resnet_cifar10): parameter-free shortcut
      F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))
  whenever stride != 1 or the channel count changes, otherwise identity.
  Keys: conv1, bn1, layerK.i.{conv1,bn1,conv2,bn2}, linear.
* option "B" with naming "shortcut" (akamaster option B): shortcut = Sequential(1x1 conv
  stride s, BN) -> keys layerK.i.shortcut.{0,1}, classifier `linear`.
* option "B" with naming "downsample" (the EMGNet author's baseline, model/resnet.py):
  keys layerK.i.downsample.{0,1}, classifier `fc` (pool named `avg`, no parameters).

Stem: conv 3x3/s1/p1 (in_channels -> width, bias=False), BN, ReLU, no max-pool. Stages have
width, 2*width, 4*width planes (16/32/64 by default) with strides 1/2/2; global average pool
over the whole map, then the linear classifier. One exit.
"""
import torch.nn as nn
import torch.nn.functional as F

ARCH = "resnet-cifar"

DEPTHS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18, 1202: 200}


class PadShortcut(nn.Module):
    """Option A: take every second pixel, zero-pad planes//4 channels on both sides."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option="A", naming="shortcut"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.naming = naming
        needs = stride != 1 or in_planes != planes
        if option == "A":
            sc = PadShortcut(planes) if needs else nn.Sequential()
        else:
            sc = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                               nn.BatchNorm2d(planes)) if needs else None
        if naming == "shortcut":
            # akamaster always registers `shortcut` (an empty Sequential = identity).
            self.shortcut = sc if sc is not None else nn.Sequential()
        else:
            self.downsample = sc

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.naming == "shortcut":
            out = out + self.shortcut(x)
        else:
            out = out + (x if self.downsample is None else self.downsample(x))
        return F.relu(out)


class ResNetCIFAR(nn.Module):
    def __init__(self, layers=(3, 3, 3), num_classes=10, in_channels=3, width=16,
                 option="A", naming=None):
        super().__init__()
        if option not in ("A", "B"):
            raise ValueError("option must be 'A' or 'B'")
        if naming is None:
            naming = "shortcut"
        if naming not in ("shortcut", "downsample"):
            raise ValueError("naming must be 'shortcut' or 'downsample'")
        if option == "A" and naming != "shortcut":
            raise ValueError("option A exists only with akamaster's naming")
        self.option, self.naming = option, naming
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.num_stages = len(layers)
        for k, n in enumerate(layers):
            setattr(self, "layer%d" % (k + 1),
                    self._make_layer(width * 2 ** k, n, 1 if k == 0 else 2))
        if naming == "shortcut":
            self.linear = nn.Linear(self.in_planes, num_classes)
        else:
            self.fc = nn.Linear(self.in_planes, num_classes)

    def _make_layer(self, planes, n, stride):
        mods = []
        for s in [stride] + [1] * (n - 1):
            mods.append(BasicBlock(self.in_planes, planes, s, self.option, self.naming))
            self.in_planes = planes
        return nn.Sequential(*mods)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        for k in range(self.num_stages):
            out = getattr(self, "layer%d" % (k + 1))(out)
        out = F.avg_pool2d(out, out.size()[3])      # akamaster: pool over the whole map
        out = out.view(out.size(0), -1)
        return self.linear(out) if self.naming == "shortcut" else self.fc(out)


def build(depth=20, layers=None, num_classes=10, in_channels=3, width=16, option="A",
          naming=None):
    """depth 20/32/44/56/110/1202 (6n+2) or an explicit per-stage block list."""
    if layers is None:
        if depth not in DEPTHS and (depth - 2) % 6:
            raise ValueError("CIFAR ResNet depth must be 6n+2")
        n = DEPTHS.get(depth, (depth - 2) // 6)
        layers = (n, n, n)
    return ResNetCIFAR(layers, num_classes, in_channels, width, option, naming)


def exits_shallow_to_deep(outputs):
    return [outputs]


def cost_region(name):
    top = name.split(".")[0]
    if top in ("linear", "fc"):
        return ("head", 1)
    if top in ("conv1", "bn1") or top.startswith("layer"):
        return ("backbone", 1)
    return None
